/* SPDX-License-Identifier: MIT */
/*
 * The XDP program's map layout, shared by bpf/xtel_xdp.bpf.c and the
 * userspace loader (userspace/xdp/): pin names, capacities, the outcome
 * counters, and the key/value structs of every map. Sizes are pinned with
 * _Static_assert in userspace/xdp/maps.c, because bpftool 7.1 skeletons do
 * not export these types and a pinned map is reused when only its sizes
 * match.
 */
#ifndef XTEL_MAPS_H
#define XTEL_MAPS_H

#include <linux/types.h>

#include "xtel_wire.h"

/* ---- XDP program maps (owner: xdp; docs/XDP.md describes each map) ---- */

/*
 * Map names as pinned under the pin directory (bpftool map dump pinned
 * DIR/NAME). They are also the names in the BPF object.
 */
#define XTEL_XDP_MAP_STATS	"xtel_stats"
#define XTEL_XDP_MAP_CLIENTS	"xtel_clients"
#define XTEL_XDP_MAP_PEERS	"xtel_peers"
#define XTEL_XDP_MAP_BUCKETS	"xtel_buckets"
#define XTEL_XDP_MAP_ALLOW4	"xtel_allow4"
#define XTEL_XDP_MAP_ALLOW6	"xtel_allow6"
#define XTEL_XDP_MAP_XSKS	"xtel_xsks"
#define XTEL_XDP_MAP_HS_GLOBAL	"xtel_hs_global"
#define XTEL_XDP_MAP_DEVICES	"xtel_devices"

enum {
	XTEL_XDP_MAX_CLIENTS = 65536,	/* per-client counter entries */
	XTEL_XDP_MAX_PEERS = 65536,	/* established DTLS sessions */
	XTEL_XDP_MAX_BUCKETS = 65536,	/* sources without a session (LRU) */
	XTEL_XDP_MAX_ALLOW = 4096,	/* allowlist prefixes per family */
	XTEL_XDP_MAX_QUEUES = 64,	/* AF_XDP sockets, one per RX queue */
	XTEL_XDP_DTLS_MAX_RECORDS = 8,	/* records checked per datagram */
	XTEL_XDP_META_MAGIC = 0x78746d31, /* "xtm1": xtel_xdp_meta is valid */
	XTEL_XDP_MAX_DEVICES = 65536,	/* inventory devices (plain mode) */
};

/* rodata cfg_mode: what the collector's port carries. */
enum xtel_xdp_mode {
	XTEL_XDP_MODE_PLAIN = 0,
	XTEL_XDP_MODE_DTLS = 1,
};

/*
 * The counters of the per-CPU stats array (xtel_stats), one row each:
 *
 *   X(enum constant, snake_case name, verdict, help text)
 *
 * The enum below, the loader's name array (xtel_xdp_stat_name, the keys of
 * the summary JSON) and any help text expand from this table, so a counter
 * is one line here. verdict is what the program returns for an outcome
 * (PASS, REDIRECT, DROP), or MARK. Every packet the program sees lands in
 * exactly one outcome counter, so their sum is the number of packets seen;
 * a mark is counted on top of an outcome. Outcomes come first (userspace
 * asserts it), so XTEL_XDP_STAT_OUTCOMES, their number, is also the first
 * mark's index. Rows are appended, never reordered or renamed: the index
 * is the map key bpftool users type, the name a JSON key.
 */
#define XTEL_XDP_STATS(X)							\
	/* passed untouched: not for the collector, or not judged here */	\
	X(XTEL_XDP_STAT_NOT_OURS, "not_ours", PASS,				\
	  "not IP/UDP, or another port")						\
	X(XTEL_XDP_STAT_PASS_BAD_L3, "pass_bad_l3", PASS,			\
	  "truncated or unparsable Ethernet, VLAN, IP or UDP header")		\
	X(XTEL_XDP_STAT_PASS_FRAGMENT, "pass_fragment", PASS,			\
	  "IPv4 fragment: the kernel reassembles")				\
	X(XTEL_XDP_STAT_PASS_IPV6_EXT, "pass_ipv6_ext", PASS,			\
	  "IPv6 extension header, not walked")					\
	/* the collector's valid traffic */					\
	X(XTEL_XDP_STAT_PASSED, "passed", PASS,				\
	  "valid, to the kernel socket")					\
	X(XTEL_XDP_STAT_REDIRECTED, "redirected", REDIRECT,			\
	  "valid, to the AF_XDP socket of the queue")				\
	X(XTEL_XDP_STAT_XSK_MISS, "xsk_miss", PASS,				\
	  "valid, AF_XDP on but no socket on this queue: passed")		\
	/* dropped: cannot be a valid datagram for the collector */		\
	X(XTEL_XDP_DROP_UDP_LEN, "drop_udp_len", DROP,				\
	  "UDP length < 8 or beyond the frame")				\
	X(XTEL_XDP_DROP_SHORT, "drop_short", DROP,				\
	  "shorter than the plain (28) or DTLS record (13) header")		\
	X(XTEL_XDP_DROP_BAD_MAGIC, "drop_bad_magic", DROP,			\
	  "plain: bad magic")							\
	X(XTEL_XDP_DROP_BAD_VERSION, "drop_bad_version", DROP,			\
	  "plain: unknown version")						\
	X(XTEL_XDP_DROP_BAD_TYPE, "drop_bad_type", DROP,			\
	  "plain: type not 1..4")						\
	X(XTEL_XDP_DROP_BAD_FLAGS, "drop_bad_flags", DROP,			\
	  "plain: a flag version 1 does not define")				\
	X(XTEL_XDP_DROP_BAD_LENGTH, "drop_bad_length", DROP,			\
	  "plain: payload_len != UDP length - 28, or > 1200")			\
	X(XTEL_XDP_DROP_DTLS_TYPE, "drop_dtls_type", DROP,			\
	  "DTLS record content type not 20..23")				\
	X(XTEL_XDP_DROP_DTLS_VERSION, "drop_dtls_version", DROP,		\
	  "DTLS record not 1.2, or 1.0 outside handshake/alert")		\
	X(XTEL_XDP_DROP_DTLS_EPOCH, "drop_dtls_epoch", DROP,			\
	  "DTLS application data in epoch 0")					\
	X(XTEL_XDP_DROP_DTLS_LENGTH, "drop_dtls_length", DROP,			\
	  "DTLS record runs past the datagram")				\
	X(XTEL_XDP_DROP_NOT_ALLOWED, "drop_not_allowed", DROP,			\
	  "source not in the allowlist")					\
	X(XTEL_XDP_DROP_RATELIMIT, "drop_ratelimit", DROP,			\
	  "sessionless DTLS source over its token bucket")			\
	X(XTEL_XDP_DROP_HS_GLOBAL, "drop_hs_global", DROP,			\
	  "all sessionless DTLS sources together over their limit")		\
	X(XTEL_XDP_DROP_DEVICE_DISABLED, "drop_device_disabled", DROP,		\
	  "plain: client id of a disabled device (xtel_devices)")		\
	X(XTEL_XDP_DROP_DEVICE_UNKNOWN, "drop_device_unknown", DROP,		\
	  "plain: client id not in xtel_devices (--inventory-only)")		\
	/* marks (not outcomes) */						\
	X(XTEL_XDP_STAT_NO_SESSION, "no_session", MARK,			\
	  "DTLS datagram from a source without a session, within its limits "	\
	  "(also in passed or redirected)")					\
	X(XTEL_XDP_STAT_CLIENTS_FULL, "clients_full", MARK,			\
	  "xtel_clients full: the datagram was not counted per client")

/* The verdict column of XTEL_XDP_STATS, as XTEL_XDP_KIND_<verdict>. */
enum xtel_xdp_stat_kind {
	XTEL_XDP_KIND_PASS,
	XTEL_XDP_KIND_REDIRECT,
	XTEL_XDP_KIND_DROP,
	XTEL_XDP_KIND_MARK,
};

#define XTEL_XDP_STAT_ENUM_(id, name, verdict, help) id,
#define XTEL_XDP_STAT_IS_OUTCOME_(id, name, verdict, help) \
	+ (XTEL_XDP_KIND_##verdict != XTEL_XDP_KIND_MARK)

/* Index of the per-CPU stats array: see XTEL_XDP_STATS. */
enum xtel_xdp_stat {
	XTEL_XDP_STATS(XTEL_XDP_STAT_ENUM_)
	XTEL_XDP_STAT_MAX,
	/* number of outcome counters (outcomes come first: the first mark) */
	XTEL_XDP_STAT_OUTCOMES = 0 XTEL_XDP_STATS(XTEL_XDP_STAT_IS_OUTCOME_),
};

/* Value of the per-CPU stats array; userspace sums the CPUs. */
struct xtel_xdp_counter {
	__u64 packets;
	__u64 bytes;		/* frame bytes (Ethernet header included) */
};

/*
 * Per-client counters, keyed by client id (plain: the header's client_id;
 * DTLS: the id the collector wrote into xtel_peers after the handshake).
 * A shared hash, not per-CPU: one client's datagrams are not pinned to one
 * CPU (veth runs its NAPI wherever it was scheduled), and a per-CPU highest
 * sequence would see false gaps. Counters use atomic adds; the highest
 * sequence advances by compare-and-swap, so gaps are exact. 64 bytes so two
 * clients never share a cache line.
 */
struct xtel_xdp_client {
	__u64 packets;
	__u64 bytes;		/* UDP payload bytes (the datagram) */
	__u64 highest_seq;	/* plain: highest sequence seen in this epoch */
	__u64 seq_gaps;		/* plain: sequence numbers skipped ahead (lost or late) */
	__u64 restarts;		/* plain: INIT datagrams after the first packet */
	__u64 last_seen_mono_ns; /* CLOCK_MONOTONIC_COARSE ns (one tick, 1-4 ms) */
	__u64 reserved[2];
};

/*
 * Source address + UDP port. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so
 * one map serves both families. port is in host byte order so bpftool shows
 * it readably; pad must be zero.
 */
struct xtel_xdp_addr_key {
	__u8 addr[16];		/* network byte order */
	__u16 port;		/* host byte order */
	__u16 pad;
};

/* xtel_peers value: an established DTLS session (written by userspace). */
struct xtel_xdp_peer {
	__u32 client_id;
	__u32 reserved;
};

/* xtel_buckets value: token bucket of a source without a session. */
struct xtel_xdp_bucket {
	__u64 credit_ns;	/* accumulated time credit, capped at burst * cost */
	__u64 last_ns;		/* bpf_ktime_get_ns (monotonic) of the last refill */
	__u64 passed;		/* datagrams let through */
	__u64 dropped;		/* datagrams over the rate */
};

/*
 * xtel_hs_global value: one GCRA state for all sessionless sources
 * together, so a flood that never repeats a source (random IPv6 addresses)
 * is still bounded. tat_ns is the theoretical arrival time of the next
 * datagram; one 64-bit word, so CPUs update it with compare-and-swap.
 */
struct xtel_xdp_global {
	__u64 tat_ns;		/* bpf_ktime_get_coarse_ns timebase */
};

/*
 * xtel_devices value, keyed by client id: a device of the inventory
 * (written by userspace on every change). Plain mode drops a disabled
 * device's datagrams, and with cfg_inventory_only every id without an
 * entry.
 */
struct xtel_xdp_device {
	__u32 enabled;		/* 1: accept, 0: drop */
	__u32 reserved;
};

/* LPM trie keys of the source allowlist (prefixlen first, as LPM requires). */
struct xtel_xdp_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct xtel_xdp_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

struct xtel_xdp_allow {
	__u32 allow;		/* 1; reserved for future actions */
};

/*
 * Prepended to AF_XDP frames (XDP metadata area) when redirecting: the
 * arrival time as read in XDP and the session's client id. magic tells
 * userspace the area was written for this frame.
 */
struct xtel_xdp_meta {
	__u64 rx_tai_ns;
	__u32 client_id;	/* 0 when unknown (plain mode, no session) */
	__u32 magic;		/* XTEL_XDP_META_MAGIC */
};

#endif /* XTEL_MAPS_H */
