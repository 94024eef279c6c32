// SPDX-License-Identifier: MIT
/*
 * Fixture tables for the XDP program, run through BPF_PROG_TEST_RUN: each
 * row builds a frame with tests/lib/frames.h (Ethernet, optional 802.1Q /
 * QinQ tags, IPv4 with options or IPv6, UDP, a plain or DTLS payload), runs
 * it once, and checks
 * the verdict, that exactly the expected stats counter moved (by one packet
 * and the frame's bytes), and the per-client counters afterwards. Rows run
 * in order on one loaded program per configuration, so sequence state
 * carries from row to row. Needs root (CAP_BPF), no namespace; exits 77
 * only when loading a trivial XDP program is refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/clock.h"
#include "frames.h"
#include "xdp/xdp.h"

enum { NONE = -1 };

/* ---- fixtures ---- */

struct client_expect {
	int64_t id;			/* NONE: no check */
	uint64_t packets, bytes, highest_seq, seq_gaps, restarts;
};

struct fixture {
	const char *name;
	struct frame_spec f;
	int verdict;
	enum xtel_xdp_stat stat;
	bool no_session;		/* the NO_SESSION mark moves too */
	struct client_expect c;
};

#define PLAIN(...) .plain = { __VA_ARGS__ }
#define CLIENT(...) .c = { __VA_ARGS__ }
#define NOCLIENT .c = { .id = NONE }

/* Plain mode. Client 1: INIT, DATA 1, DATA 4 (gap of 2), 3 (late), BYE 4,
 * restart INIT, HEARTBEAT 1. Client 2 first seen mid-stream. */
static const struct fixture plain_rows[] = {
	{ "v4 INIT client 1", { .ipv = 4, PLAIN(.type = XTEL_MSG_INIT, .client = 1, .seq = 0, .body = 10) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(1, 1, 38, 0, 0, 0) },
	{ "v4 802.1Q DATA seq 1", { .ipv = 4, .vlans = 1, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 1, .body = 20) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(1, 2, 86, 1, 0, 0) },
	{ "v4 QinQ DATA seq 4 (gap 2)", { .ipv = 4, .vlans = 2, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 4, .body = 0) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(1, 3, 114, 4, 2, 0) },
	{ "v6 DATA seq 3 (late)", { .ipv = 6, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 3, .body = 2) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(1, 4, 144, 4, 2, 0) },
	{ "v6 802.1Q BYE seq 4", { .ipv = 6, .vlans = 1, PLAIN(.type = XTEL_MSG_BYE, .client = 1, .seq = 4) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(1, 5, 172, 4, 2, 0) },
	{ "v6 QinQ INIT restart", { .ipv = 6, .vlans = 2, PLAIN(.type = XTEL_MSG_INIT, .client = 1, .seq = 0) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(1, 6, 200, 0, 2, 1) },
	{ "v4 HEARTBEAT seq 1 after restart", { .ipv = 4, PLAIN(.type = XTEL_MSG_HEARTBEAT, .client = 1, .seq = 1) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(1, 7, 228, 1, 2, 1) },
	{ "v4 options, client 2 first seen at seq 7", { .ipv = 4, .ip_opts = 8, PLAIN(.type = XTEL_MSG_DATA, .client = 2, .seq = 7, .body = 4) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(2, 1, 32, 7, 0, 0) },
	{ "client 2 DATA seq 8 lost, BYE carries 8", { .ipv = 6, PLAIN(.type = XTEL_MSG_BYE, .client = 2, .seq = 8) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(2, 2, 60, 8, 1, 0) },
	{ "client 2 INIT again", { .ipv = 4, PLAIN(.type = XTEL_MSG_INIT, .client = 2, .seq = 0) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(2, 3, 88, 0, 1, 1) },
	{ "client 2 DATA 1, BYE 1 (nothing lost)", { .ipv = 4, PLAIN(.type = XTEL_MSG_DATA, .client = 2, .seq = 1) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(2, 4, 116, 1, 1, 1) },
	{ "client 2 BYE 1", { .ipv = 4, PLAIN(.type = XTEL_MSG_BYE, .client = 2, .seq = 1) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(2, 5, 144, 1, 1, 1) },
	{ "client 2 DATA 8 after the epoch restart", { .ipv = 4, PLAIN(.type = XTEL_MSG_DATA, .client = 2, .seq = 8) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(2, 6, 172, 8, 7, 1) },
	{ "v4 max options (40 bytes)", { .ipv = 4, .ip_opts = 40, PLAIN(.type = XTEL_MSG_DATA, .client = 2, .seq = 9) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(2, 7, 200, 9, 7, 1) },
	{ "Ethernet padding after the datagram", { .ipv = 4, .pad = 6, PLAIN(.type = XTEL_MSG_DATA, .client = 2, .seq = 10) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(2, 8, 228, 10, 7, 1) },
	{ "max payload 1200", { .ipv = 6, PLAIN(.type = XTEL_MSG_DATA, .client = 2, .seq = 11, .body = 1200) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(2, 9, 1456, 11, 7, 1) },
	/* drops by reason; client 1 must not move */
	{ "UDP payload 27 bytes", { .ipv = 4, .raw = 27 }, XDP_DROP, XTEL_XDP_DROP_SHORT, false, CLIENT(1, 7, 228, 1, 2, 1) },
	{ "empty UDP datagram", { .ipv = 6, .raw = 0 }, XDP_DROP, XTEL_XDP_DROP_SHORT, false, NOCLIENT },
	{ "bad magic", { .ipv = 4, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 2, .magic = 0x5855) },
	  XDP_DROP, XTEL_XDP_DROP_BAD_MAGIC, false, CLIENT(1, 7, 228, 1, 2, 1) },
	{ "bad version", { .ipv = 4, .vlans = 1, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 2, .version = 2) },
	  XDP_DROP, XTEL_XDP_DROP_BAD_VERSION, false, CLIENT(1, 7, 228, 1, 2, 1) },
	{ "type 0", { .ipv = 6, PLAIN(.type = 0xff, .client = 1, .seq = 2) }, XDP_DROP, XTEL_XDP_DROP_BAD_TYPE, false, NOCLIENT },
	{ "type 5", { .ipv = 4, PLAIN(.type = 5, .client = 1, .seq = 2) }, XDP_DROP, XTEL_XDP_DROP_BAD_TYPE, false, NOCLIENT },
	{ "flags set", { .ipv = 4, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 2, .flags = 1) },
	  XDP_DROP, XTEL_XDP_DROP_BAD_FLAGS, false, NOCLIENT },
	{ "payload_len one too many", { .ipv = 4, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 2, .body = 5, .len_delta = 1) },
	  XDP_DROP, XTEL_XDP_DROP_BAD_LENGTH, false, NOCLIENT },
	{ "payload_len one too few", { .ipv = 6, .vlans = 2, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 2, .body = 5, .len_delta = -1) },
	  XDP_DROP, XTEL_XDP_DROP_BAD_LENGTH, false, NOCLIENT },
	{ "payload 1201 > max", { .ipv = 4, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 2, .body = 1201) },
	  XDP_DROP, XTEL_XDP_DROP_BAD_LENGTH, false, CLIENT(1, 7, 228, 1, 2, 1) },
	{ "UDP length 7", { .ipv = 4, .udp_len_delta = -8 - 28 + 7, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 2) },
	  XDP_DROP, XTEL_XDP_DROP_UDP_LEN, false, NOCLIENT },
	{ "UDP length past the frame", { .ipv = 6, .udp_len_delta = 1, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 2) },
	  XDP_DROP, XTEL_XDP_DROP_UDP_LEN, false, NOCLIENT },
	/* passed untouched */
	{ "other UDP port", { .ipv = 4, .dport = 7701, .raw = 3 }, XDP_PASS, XTEL_XDP_STAT_NOT_OURS, false, NOCLIENT },
	{ "other UDP port, v6 QinQ", { .ipv = 6, .vlans = 2, .dport = 53, .raw = 30 }, XDP_PASS, XTEL_XDP_STAT_NOT_OURS, false, NOCLIENT },
	{ "TCP to the port", { .ipv = 4, .proto1 = IPPROTO_TCP + 1, .raw = 40 }, XDP_PASS, XTEL_XDP_STAT_NOT_OURS, false, NOCLIENT },
	{ "ICMPv6", { .ipv = 6, .proto1 = IPPROTO_ICMPV6 + 1, .raw = 40 }, XDP_PASS, XTEL_XDP_STAT_NOT_OURS, false, NOCLIENT },
	{ "ARP", { .ipv = 0 }, XDP_PASS, XTEL_XDP_STAT_NOT_OURS, false, NOCLIENT },
	{ "three VLAN tags", { .ipv = 4, .vlans = 3, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 2) },
	  XDP_PASS, XTEL_XDP_STAT_NOT_OURS, false, NOCLIENT },
	{ "IPv4 first fragment (MF)", { .ipv = 4, .frag = 0x2000, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 2) },
	  XDP_PASS, XTEL_XDP_STAT_PASS_FRAGMENT, false, NOCLIENT },
	{ "IPv4 later fragment", { .ipv = 4, .frag = 0x00b9, .raw = 64 }, XDP_PASS, XTEL_XDP_STAT_PASS_FRAGMENT, false, NOCLIENT },
	{ "IPv6 hop-by-hop header", { .ipv = 6, .proto1 = IPPROTO_HOPOPTS + 1, .raw = 40 }, XDP_PASS, XTEL_XDP_STAT_PASS_IPV6_EXT, false, NOCLIENT },
	{ "IPv6 fragment header", { .ipv = 6, .vlans = 1, .proto1 = IPPROTO_FRAGMENT + 1, .raw = 40 }, XDP_PASS, XTEL_XDP_STAT_PASS_IPV6_EXT, false, NOCLIENT },
	{ "IPv4 ihl 4", { .ipv = 4, .ihl = 4, .raw = 40 }, XDP_PASS, XTEL_XDP_STAT_PASS_BAD_L3, false, NOCLIENT },
	{ "IPv4 header cut", { .ipv = 4, .raw = 40, .cut = 14 + 12 }, XDP_PASS, XTEL_XDP_STAT_PASS_BAD_L3, false, NOCLIENT },
	{ "IPv4 options past the frame", { .ipv = 4, .ip_opts = 40, .raw = 0, .cut = 14 + 60 + 4 }, XDP_PASS, XTEL_XDP_STAT_PASS_BAD_L3, false, NOCLIENT },
	{ "IPv6 header cut", { .ipv = 6, .raw = 40, .cut = 14 + 30 }, XDP_PASS, XTEL_XDP_STAT_PASS_BAD_L3, false, NOCLIENT },
	{ "VLAN tag cut", { .ipv = 4, .vlans = 2, .raw = 40, .cut = 14 + 2 }, XDP_PASS, XTEL_XDP_STAT_PASS_BAD_L3, false, NOCLIENT },
	{ "UDP header cut", { .ipv = 6, .raw = 40, .cut = 14 + 40 + 6 }, XDP_PASS, XTEL_XDP_STAT_PASS_BAD_L3, false, NOCLIENT },
};

/* DTLS mode, no token bucket. */
static const struct fixture dtls_rows[] = {
	{ "ClientHello, DTLS 1.0 record", { .ipv = 4, .recs = { { 22, 0xfeff, 0, 120 } } },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
	{ "handshake + CCS + handshake flight", { .ipv = 6, .vlans = 2, .recs = { { 22, 0xfefd, 0, 300 }, { 20, 0xfefd, 0, 1 }, { 22, 0xfefd, 1, 40 } } },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
	{ "alert, DTLS 1.0", { .ipv = 4, .vlans = 1, .recs = { { 21, 0xfeff, 0, 2 } } },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
	{ "application data, no session yet", { .ipv = 4, .recs = { { 23, 0xfefd, 1, 60 } } },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
	{ "12 bytes", { .ipv = 4, .raw = 12 }, XDP_DROP, XTEL_XDP_DROP_SHORT, false, NOCLIENT },
	{ "content type 19", { .ipv = 4, .recs = { { 19, 0xfefd, 1, 20 } } }, XDP_DROP, XTEL_XDP_DROP_DTLS_TYPE, false, NOCLIENT },
	{ "content type 24 (heartbeat)", { .ipv = 6, .recs = { { 24, 0xfefd, 1, 20 } } }, XDP_DROP, XTEL_XDP_DROP_DTLS_TYPE, false, NOCLIENT },
	{ "content type 25 in second record", { .ipv = 4, .recs = { { 23, 0xfefd, 1, 20 }, { 25, 0xfefd, 1, 20 } } },
	  XDP_DROP, XTEL_XDP_DROP_DTLS_TYPE, false, NOCLIENT },
	{ "plain telemetry on the DTLS port", { .ipv = 4, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 1) },
	  XDP_DROP, XTEL_XDP_DROP_DTLS_TYPE, false, NOCLIENT },
	{ "application data, DTLS 1.0", { .ipv = 4, .recs = { { 23, 0xfeff, 1, 20 } } }, XDP_DROP, XTEL_XDP_DROP_DTLS_VERSION, false, NOCLIENT },
	{ "TLS 1.2 version", { .ipv = 6, .recs = { { 22, 0x0303, 0, 20 } } }, XDP_DROP, XTEL_XDP_DROP_DTLS_VERSION, false, NOCLIENT },
	{ "application data in epoch 0", { .ipv = 4, .recs = { { 23, 0xfefd, 0, 20 } } }, XDP_DROP, XTEL_XDP_DROP_DTLS_EPOCH, false, NOCLIENT },
	{ "record length one past the datagram", { .ipv = 4, .recs = { { 23, 0xfefd, 1, 20, 1 } } }, XDP_DROP, XTEL_XDP_DROP_DTLS_LENGTH, false, NOCLIENT },
	{ "second record past the datagram", { .ipv = 6, .vlans = 1, .recs = { { 22, 0xfefd, 0, 20 }, { 22, 0xfefd, 0, 20, 300 } } },
	  XDP_DROP, XTEL_XDP_DROP_DTLS_LENGTH, false, NOCLIENT },
	{ "5 bytes after the last record", { .ipv = 4, .recs = { { 23, 0xfefd, 1, 20 } }, .trailing = 5 },
	  XDP_DROP, XTEL_XDP_DROP_DTLS_LENGTH, false, NOCLIENT },
	{ "other port passes", { .ipv = 4, .dport = 4433, .raw = 5 }, XDP_PASS, XTEL_XDP_STAT_NOT_OURS, false, NOCLIENT },
	{ "UDP length 7", { .ipv = 6, .udp_len_delta = -6, .raw = 5 }, XDP_DROP, XTEL_XDP_DROP_UDP_LEN, false, NOCLIENT },
};

/* DTLS mode after peer 198.18.0.2:40000 -> 7 and [2001:2::2]:40000 -> 9. */
static const struct fixture dtls_peer_rows[] = {
	{ "v4 peer application data", { .ipv = 4, .recs = { { 23, 0xfefd, 1, 100 } } },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(7, 1, 113, 0, 0, 0) },
	{ "v4 peer, QinQ, two records", { .ipv = 4, .vlans = 2, .recs = { { 23, 0xfefd, 1, 100 }, { 21, 0xfefd, 1, 2 } } },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(7, 2, 241, 0, 0, 0) },
	{ "v6 peer application data", { .ipv = 6, .recs = { { 23, 0xfefd, 1, 50 } } },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(9, 1, 63, 0, 0, 0) },
	{ "same address, other port: no session", { .ipv = 6, .sport = 40001, .recs = { { 23, 0xfefd, 1, 50 } } },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, true, CLIENT(9, 1, 63, 0, 0, 0) },
	{ "peer sending garbage is still dropped", { .ipv = 4, .recs = { { 23, 0xfefd, 0, 10 } } },
	  XDP_DROP, XTEL_XDP_DROP_DTLS_EPOCH, false, CLIENT(7, 2, 241, 0, 0, 0) },
};

/* Allowlist on (plain): 198.18.0.0/24 and 2001:2::/64 allowed. */
static const struct fixture allow_rows[] = {
	{ "v4 inside 198.18.0.0/24", { .ipv = 4, PLAIN(.type = XTEL_MSG_INIT, .client = 3) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(3, 1, 28, 0, 0, 0) },
	{ "v4 198.18.1.5 outside", { .ipv = 4, .src = "198.18.1.5", PLAIN(.type = XTEL_MSG_DATA, .client = 3, .seq = 1) },
	  XDP_DROP, XTEL_XDP_DROP_NOT_ALLOWED, false, CLIENT(3, 1, 28, 0, 0, 0) },
	{ "v6 inside 2001:2::/64", { .ipv = 6, .vlans = 1, .src = "2001:2::77", PLAIN(.type = XTEL_MSG_DATA, .client = 3, .seq = 1) },
	  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(3, 2, 56, 1, 0, 0) },
	{ "v6 2001:2:0:1::5 outside", { .ipv = 6, .src = "2001:2:0:1::5", PLAIN(.type = XTEL_MSG_DATA, .client = 3, .seq = 2) },
	  XDP_DROP, XTEL_XDP_DROP_NOT_ALLOWED, false, CLIENT(3, 2, 56, 1, 0, 0) },
	{ "outside source, even garbage, is not-allowed first", { .ipv = 4, .src = "10.1.2.3", .raw = 3 },
	  XDP_DROP, XTEL_XDP_DROP_NOT_ALLOWED, false, NOCLIENT },
	{ "outside source, other port: untouched", { .ipv = 4, .src = "198.18.1.5", .dport = 7701, .raw = 3 },
	  XDP_PASS, XTEL_XDP_STAT_NOT_OURS, false, NOCLIENT },
};

/* DTLS, handshake rate 1/s, burst 3: an unknown source gets 3 datagrams. */
static const struct fixture bucket_rows[] = {
	{ "hello 1", { .ipv = 4, .src = "198.18.1.9", .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
	{ "hello 2", { .ipv = 4, .src = "198.18.1.9", .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
	{ "hello 3", { .ipv = 4, .src = "198.18.1.9", .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
	{ "hello 4: over the bucket", { .ipv = 4, .src = "198.18.1.9", .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_DROP, XTEL_XDP_DROP_RATELIMIT, false, NOCLIENT },
	{ "hello 5: over the bucket", { .ipv = 4, .vlans = 1, .src = "198.18.1.9", .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_DROP, XTEL_XDP_DROP_RATELIMIT, false, NOCLIENT },
	{ "invalid record does not take a token", { .ipv = 4, .src = "198.18.1.9", .recs = { { 30, 0xfeff, 0, 100 } } }, XDP_DROP, XTEL_XDP_DROP_DTLS_TYPE, false, NOCLIENT },
	{ "same address, new port: own bucket", { .ipv = 4, .src = "198.18.1.9", .sport = 40001, .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
	{ "v6 source: own bucket", { .ipv = 6, .src = "2001:2:0:1::9", .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
};

/* DTLS, per-source limit loose (1000/s, 10), all sessionless together 1/s,
 * burst 4: a flood that never repeats a source still gets 4 datagrams. */
static const struct fixture global_rows[] = {
	{ "source 1", { .ipv = 6, .src = "2001:2:0:1::1", .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
	{ "source 2", { .ipv = 6, .src = "2001:2:0:1::2", .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
	{ "source 3", { .ipv = 4, .src = "198.18.1.3", .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
	{ "source 4", { .ipv = 4, .src = "198.18.1.4", .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
	{ "source 5: over the global limit", { .ipv = 6, .src = "2001:2:0:1::5", .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_DROP, XTEL_XDP_DROP_HS_GLOBAL, false, NOCLIENT },
	{ "source 6: over the global limit", { .ipv = 4, .vlans = 1, .src = "198.18.1.6", .recs = { { 22, 0xfeff, 0, 100 } } }, XDP_DROP, XTEL_XDP_DROP_HS_GLOBAL, false, NOCLIENT },
	{ "established peer is not limited", { .ipv = 4, .recs = { { 23, 0xfefd, 1, 30 } } }, XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(8, 1, 43, 0, 0, 0) },
	{ "established peer again", { .ipv = 4, .recs = { { 23, 0xfefd, 1, 30 } } }, XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(8, 2, 86, 0, 0, 0) },
};

/* ---- runner ---- */

/* A check is a fixture row or one ad-hoc assertion group; it fails once
 * however many of its expectations are off. */
static int checks, failed, failures;
static int check_failures;

static void check_begin(void)
{
	checks++;
	check_failures = failures;
}

static void check_end(void)
{
	if (failures != check_failures)
		failed++;
}

static void bad(const char *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(const char *row, const char *fmt, ...)
{
	va_list ap;

	failures++;
	printf("FAIL %s: ", row);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int run_frame(struct xtel_xdp *x, const uint8_t *frame, size_t len, int *verdict)
{
	uint8_t out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = frame,
		.data_size_in = len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = 1);
	int err = bpf_prog_test_run_opts(xtel_xdp_prog_fd(x), &o);

	if (err)
		return -errno;
	*verdict = o.retval;
	return 0;
}

static void run_rows(struct xtel_xdp *x, const char *table, const struct fixture *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct fixture *r = &rows[i];
		struct xtel_xdp_totals before, after;
		uint8_t frame[FRAME_MAX];
		size_t dlen = 0, len = frame_build(frame, &r->f, &dlen);
		char name[160];
		int verdict = -1, s, err;
		int before_fail = failures;

		snprintf(name, sizeof(name), "%s: %s", table, r->name);
		check_begin();
		if (xtel_xdp_read_totals(x, &before)) {
			bad(name, "reading stats");
			check_end();
			continue;
		}
		err = run_frame(x, frame, len, &verdict);
		if (err) {
			bad(name, "BPF_PROG_TEST_RUN: %s", strerror(-err));
			check_end();
			continue;
		}
		if (verdict != r->verdict)
			bad(name, "verdict %d, expected %d", verdict, r->verdict);
		xtel_xdp_read_totals(x, &after);
		for (s = 0; s < XTEL_XDP_STAT_MAX; s++) {
			uint64_t want_p = 0, want_b = 0;
			uint64_t dp = after.packets[s] - before.packets[s];
			uint64_t db = after.bytes[s] - before.bytes[s];

			if (s == (int)r->stat || (s == XTEL_XDP_STAT_NO_SESSION && r->no_session)) {
				want_p = 1;
				want_b = len;
			}
			if (dp != want_p || db != want_b)
				bad(name, "stat %s moved by %llu packets/%llu bytes, expected %llu/%llu",
				    xtel_xdp_stat_name(s), (unsigned long long)dp,
				    (unsigned long long)db, (unsigned long long)want_p,
				    (unsigned long long)want_b);
		}
		if (r->c.id != NONE) {
			struct xtel_xdp_client c;

			err = xtel_xdp_read_client(x, r->c.id, &c);
			if (err) {
				bad(name, "client %lld: %s", (long long)r->c.id, strerror(-err));
			} else if (c.packets != r->c.packets || c.bytes != r->c.bytes ||
				   c.highest_seq != r->c.highest_seq || c.seq_gaps != r->c.seq_gaps ||
				   c.restarts != r->c.restarts) {
				bad(name, "client %lld: packets %llu bytes %llu highest %llu gaps %llu "
				    "restarts %llu; expected %llu %llu %llu %llu %llu",
				    (long long)r->c.id, (unsigned long long)c.packets,
				    (unsigned long long)c.bytes, (unsigned long long)c.highest_seq,
				    (unsigned long long)c.seq_gaps, (unsigned long long)c.restarts,
				    (unsigned long long)r->c.packets, (unsigned long long)r->c.bytes,
				    (unsigned long long)r->c.highest_seq,
				    (unsigned long long)r->c.seq_gaps, (unsigned long long)r->c.restarts);
			}
		}
		if (failures == before_fail)
			printf("ok   %s (%zu bytes, UDP payload %zu)\n", name, len, dlen);
		check_end();
	}
}

static struct xtel_xdp *load(const struct xtel_xdp_opts *o)
{
	struct xtel_xdp *x;
	int err;

	check_begin();
	err = xtel_xdp_open(&x, o);
	if (err)
		bad("load", "xtel_xdp_open: %s", strerror(-err));
	check_end();
	return err ? NULL : x;
}

#define RUN(x, rows) run_rows(x, #rows, rows, sizeof(rows) / sizeof(rows[0]))

static void test_plain(void)
{
	struct xtel_xdp_opts o = { .no_pin = true, .quiet = true };
	struct xtel_xdp *x = load(&o);
	struct xtel_xdp_client c;
	uint64_t now;

	if (!x)
		return;
	RUN(x, plain_rows);
	/* last_seen is coarse monotonic; converted, it must be close to now */
	check_begin();
	now = xtel_realtime_ns();
	if (xtel_xdp_read_client(x, 1, &c) ||
	    xtel_xdp_mono_to_realtime(c.last_seen_mono_ns) > now ||
	    now - xtel_xdp_mono_to_realtime(c.last_seen_mono_ns) > 10000000000ull)
		bad("plain: last_seen", "client 1 last_seen %llu not within 10 s of now %llu",
		    (unsigned long long)xtel_xdp_mono_to_realtime(c.last_seen_mono_ns),
		    (unsigned long long)now);
	check_end();
	xtel_xdp_close(x);
}

static void test_dtls(void)
{
	struct xtel_xdp_opts o = { .no_pin = true, .quiet = true, .dtls = true };
	struct xtel_xdp *x = load(&o);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(40000) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(40000) };
	int err;

	if (!x)
		return;
	RUN(x, dtls_rows);
	inet_pton(AF_INET, "198.18.0.2", &sin.sin_addr);
	inet_pton(AF_INET6, "2001:2::2", &sin6.sin6_addr);
	check_begin();
	if (xtel_xdp_peer_add(x, (struct sockaddr *)&sin, 7) ||
	    xtel_xdp_peer_add(x, (struct sockaddr *)&sin6, 9))
		bad("dtls: peer_add", "%s", strerror(errno));
	check_end();
	RUN(x, dtls_peer_rows);
	/* after peer_del the source is sessionless again */
	check_begin();
	err = xtel_xdp_peer_del(x, (struct sockaddr *)&sin);
	if (err)
		bad("dtls: peer_del", "%s", strerror(-err));
	else if (xtel_xdp_peer_del(x, (struct sockaddr *)&sin) != -ENOENT)
		bad("dtls: peer_del twice", "expected -ENOENT");
	check_end();
	{
		static const struct fixture after_del[] = {
			{ "former peer: no session", { .ipv = 4, .recs = { { 23, 0xfefd, 1, 100 } } },
			  XDP_PASS, XTEL_XDP_STAT_PASSED, true, CLIENT(7, 2, 241, 0, 0, 0) },
		};
		RUN(x, after_del);
	}
	xtel_xdp_close(x);
}

static void test_allowlist(void)
{
	struct xtel_xdp_opts o = { .no_pin = true, .quiet = true, .allowlist = true };
	struct xtel_xdp *x = load(&o);

	if (!x)
		return;
	check_begin();
	if (xtel_xdp_allow_add(x, "198.18.0.77/24") || xtel_xdp_allow_add(x, "2001:2::/64") ||
	    xtel_xdp_allow_add(x, "10.9.9.9") || xtel_xdp_allow_del(x, "10.9.9.9/32"))
		bad("allowlist: add/del", "failed");
	if (xtel_xdp_allow_add(x, "198.18.0.0/33") != -EINVAL ||
	    xtel_xdp_allow_add(x, "nonsense") != -EINVAL ||
	    xtel_xdp_allow_del(x, "10.0.0.0/8") != -ENOENT)
		bad("allowlist: bad input", "not rejected");
	check_end();
	RUN(x, allow_rows);
	xtel_xdp_close(x);
}

static void test_bucket(void)
{
	struct xtel_xdp_opts o = { .no_pin = true, .quiet = true, .dtls = true,
				   .handshake_rate = 1, .handshake_burst = 3 };
	struct xtel_xdp *x = load(&o);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(40000) };
	struct xtel_xdp_addr_key k = { .addr = { [10] = 0xff, [11] = 0xff }, .port = 40000 };
	struct xtel_xdp_bucket b;
	int i;

	if (!x)
		return;
	RUN(x, bucket_rows);
	/* the bucket records what it let through and what it dropped */
	check_begin();
	inet_pton(AF_INET, "198.18.1.9", &k.addr[12]);
	if (bpf_map_lookup_elem(xtel_xdp_map_fd(x, XTEL_XDP_MAP_BUCKETS), &k, &b))
		bad("bucket: entry", "missing: %s", strerror(errno));
	else if (b.passed != 3 || b.dropped != 2)
		bad("bucket: entry", "passed %llu dropped %llu, expected 3 2",
		    (unsigned long long)b.passed, (unsigned long long)b.dropped);
	check_end();
	/* an established peer is never limited, however fast it sends */
	inet_pton(AF_INET, "198.18.1.9", &sin.sin_addr);
	xtel_xdp_peer_add(x, (struct sockaddr *)&sin, 11);
	for (i = 0; i < 20; i++) {
		static const struct fixture peer_row[] = {
			{ "established peer, same source", { .ipv = 4, .src = "198.18.1.9", .recs = { { 23, 0xfefd, 1, 64 } } },
			  XDP_PASS, XTEL_XDP_STAT_PASSED, false, NOCLIENT },
		};
		RUN(x, peer_row);
	}
	check_begin();
	{
		struct xtel_xdp_client c;

		if (xtel_xdp_read_client(x, 11, &c) || c.packets != 20 || c.bytes != 20 * 77)
			bad("bucket: peer counts", "client 11 packets %llu bytes %llu, expected 20 1540",
			    (unsigned long long)c.packets, (unsigned long long)c.bytes);
	}
	check_end();
	xtel_xdp_close(x);
}

static void test_global(void)
{
	struct xtel_xdp_opts o = { .no_pin = true, .quiet = true, .dtls = true,
				   .handshake_rate = 1000, .handshake_burst = 10,
				   .handshake_global_rate = 1, .handshake_global_burst = 4 };
	struct xtel_xdp *x = load(&o);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(40000) };

	if (!x)
		return;
	inet_pton(AF_INET, "198.18.0.2", &sin.sin_addr);
	check_begin();
	if (xtel_xdp_peer_add(x, (struct sockaddr *)&sin, 8))
		bad("global: peer_add", "%s", strerror(errno));
	check_end();
	RUN(x, global_rows);
	xtel_xdp_close(x);
}

static void test_afxdp_no_socket(void)
{
	static const struct fixture rows[] = {
		{ "valid, no AF_XDP socket on the queue", { .ipv = 4, PLAIN(.type = XTEL_MSG_INIT, .client = 5) },
		  XDP_PASS, XTEL_XDP_STAT_XSK_MISS, false, CLIENT(5, 1, 28, 0, 0, 0) },
		{ "invalid is still dropped", { .ipv = 6, PLAIN(.type = XTEL_MSG_DATA, .client = 5, .magic = 1) },
		  XDP_DROP, XTEL_XDP_DROP_BAD_MAGIC, false, CLIENT(5, 1, 28, 0, 0, 0) },
	};
	struct xtel_xdp_opts o = { .no_pin = true, .quiet = true, .afxdp = true };
	struct xtel_xdp *x = load(&o);

	if (!x)
		return;
	RUN(x, rows);
	xtel_xdp_close(x);
}

/* The program with device 21 enabled and 22 disabled in xtel_devices. */
static struct xtel_xdp *load_devices(const struct xtel_xdp_opts *o)
{
	struct xtel_xdp *x = load(o);

	if (!x)
		return NULL;
	check_begin();
	if (xtel_xdp_device_set(x, 21, true) || xtel_xdp_device_set(x, 22, false))
		bad("devices: set", "%s", strerror(errno));
	check_end();
	return x;
}

/*
 * Inventory devices (plain mode): client 21 enabled, 22 disabled, 23 not in
 * the map. A disabled device's datagram is dropped before it is counted
 * for the client; without --inventory-only an id not in the map passes,
 * with it it is dropped. Header checks still come first. Then 22 enabled
 * and 21 deleted, as the collector's sync does on an API change.
 */
static void test_devices(void)
{
	static const struct fixture rows[] = {
		{ "enabled device", { .ipv = 4, PLAIN(.type = XTEL_MSG_INIT, .client = 21) },
		  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(21, 1, 28, 0, 0, 0) },
		{ "disabled device", { .ipv = 4, PLAIN(.type = XTEL_MSG_INIT, .client = 22, .body = 4) },
		  XDP_DROP, XTEL_XDP_DROP_DEVICE_DISABLED, false, NOCLIENT },
		{ "disabled device, v6 QinQ", { .ipv = 6, .vlans = 2, PLAIN(.type = XTEL_MSG_DATA, .client = 22, .seq = 1) },
		  XDP_DROP, XTEL_XDP_DROP_DEVICE_DISABLED, false, NOCLIENT },
		{ "disabled device, bad magic: the header check first", { .ipv = 4, PLAIN(.type = XTEL_MSG_DATA, .client = 22, .magic = 1) },
		  XDP_DROP, XTEL_XDP_DROP_BAD_MAGIC, false, NOCLIENT },
		{ "id not in the map passes", { .ipv = 4, PLAIN(.type = XTEL_MSG_INIT, .client = 23) },
		  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(23, 1, 28, 0, 0, 0) },
	};
	static const struct fixture after[] = {
		{ "re-enabled device passes", { .ipv = 4, PLAIN(.type = XTEL_MSG_INIT, .client = 22) },
		  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(22, 1, 28, 0, 0, 0) },
		{ "deleted device: not in the map, passes", { .ipv = 4, PLAIN(.type = XTEL_MSG_DATA, .client = 21, .seq = 1) },
		  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(21, 2, 56, 1, 0, 0) },
	};
	static const struct fixture only_rows[] = {
		{ "--inventory-only: enabled device", { .ipv = 4, PLAIN(.type = XTEL_MSG_INIT, .client = 21) },
		  XDP_PASS, XTEL_XDP_STAT_PASSED, false, CLIENT(21, 1, 28, 0, 0, 0) },
		{ "--inventory-only: disabled device", { .ipv = 6, PLAIN(.type = XTEL_MSG_INIT, .client = 22) },
		  XDP_DROP, XTEL_XDP_DROP_DEVICE_DISABLED, false, NOCLIENT },
		{ "--inventory-only: unknown id", { .ipv = 4, .vlans = 1, PLAIN(.type = XTEL_MSG_INIT, .client = 23) },
		  XDP_DROP, XTEL_XDP_DROP_DEVICE_UNKNOWN, false, NOCLIENT },
		{ "--inventory-only: unknown id, short: the length check first", { .ipv = 4, .raw = 27 },
		  XDP_DROP, XTEL_XDP_DROP_SHORT, false, NOCLIENT },
	};
	struct xtel_xdp_opts o = { .no_pin = true, .quiet = true, .devices = true };
	struct xtel_xdp *x = load_devices(&o);
	struct xtel_xdp_client c;

	if (!x)
		return;
	RUN(x, rows);
	check_begin();
	if (xtel_xdp_read_client(x, 22, &c) != -ENOENT)
		bad("devices: disabled", "client 22 counted in xtel_clients");
	if (xtel_xdp_device_set(x, 22, true) || xtel_xdp_device_del(x, 21))
		bad("devices: change", "%s", strerror(errno));
	if (xtel_xdp_device_del(x, 21) != -ENOENT)
		bad("devices: delete twice", "expected -ENOENT");
	check_end();
	RUN(x, after);
	xtel_xdp_close(x);

	o.inventory_only = true;
	x = load_devices(&o);
	if (!x)
		return;
	RUN(x, only_rows);
	check_begin();
	if (xtel_xdp_device_clear(x) || xtel_xdp_device_del(x, 21) != -ENOENT)
		bad("devices: clear", "entries left");
	check_end();
	xtel_xdp_close(x);
	/* DTLS mode ignores the map: the handshake decides there */
	{
		static const struct fixture dev_dtls_rows[] = {
			{ "DTLS: map not consulted", { .ipv = 4, .recs = { { 22, 0xfeff, 0, 120 } } },
			  XDP_PASS, XTEL_XDP_STAT_PASSED, true, NOCLIENT },
		};
		struct xtel_xdp_opts od = { .no_pin = true, .quiet = true, .dtls = true,
					    .devices = true, .inventory_only = true };

		x = load(&od);
		if (!x)
			return;
		RUN(x, dev_dtls_rows);
		xtel_xdp_close(x);
	}
}

/* Is BPF usable at all here? Only a refused trivial program means "skip". */
static bool bpf_unavailable(void)
{
	int r = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL);

	if (r == 1)
		return false;
	fprintf(stderr, "XDP programs cannot be loaded here (%s): %s\n",
		r == 0 ? "not supported" : strerror(-r),
		geteuid() ? "run as root" : "kernel lacks BPF/XDP");
	return true;
}

int main(void)
{
	if (bpf_unavailable())
		return 77;
	test_plain();
	test_dtls();
	test_allowlist();
	test_bucket();
	test_global();
	test_afxdp_no_socket();
	test_devices();
	printf("%d passed, %d failed\n", checks - failed, failed);
	return failed ? 1 : 0;
}
