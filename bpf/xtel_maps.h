/* SPDX-License-Identifier: MIT */
/*
 * The XDP program's map layout, shared by bpf/xtel_xdp.bpf.c and the
 * userspace loader (userspace/xdp/): pin names, capacities, the outcome
 * counters, and the key/value structs of every map. Sizes are pinned with
 * _Static_assert in userspace/xdp/xdp.c, because bpftool 7.1 skeletons do not
 * export these types and a pinned map is reused when only its sizes match.
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

enum {
	XTEL_XDP_MAX_CLIENTS = 65536,	/* per-client counter entries */
	XTEL_XDP_MAX_PEERS = 65536,	/* established DTLS sessions */
	XTEL_XDP_MAX_BUCKETS = 65536,	/* sources without a session (LRU) */
	XTEL_XDP_MAX_ALLOW = 4096,	/* allowlist prefixes per family */
	XTEL_XDP_MAX_QUEUES = 64,	/* AF_XDP sockets, one per RX queue */
	XTEL_XDP_DTLS_MAX_RECORDS = 8,	/* records checked per datagram */
	XTEL_XDP_META_MAGIC = 0x78746d31, /* "xtm1": xtel_xdp_meta is valid */
};

/* rodata cfg_mode: what the collector's port carries. */
enum xtel_xdp_mode {
	XTEL_XDP_MODE_PLAIN = 0,
	XTEL_XDP_MODE_DTLS = 1,
};

/*
 * Index of the per-CPU stats array. Every packet the program sees lands in
 * exactly one "outcome" counter (everything up to XTEL_XDP_STAT_OUTCOMES), so
 * their sum is the number of packets seen. XTEL_XDP_STAT_NO_SESSION is a mark
 * on top: those DTLS datagrams are also counted in passed or redirected.
 */
enum xtel_xdp_stat {
	/* passed untouched: not for the collector, or not judged here */
	XTEL_XDP_STAT_NOT_OURS = 0,	/* not IP/UDP, or another port */
	XTEL_XDP_STAT_PASS_BAD_L3,	/* unparsable Ethernet/VLAN/IP header */
	XTEL_XDP_STAT_PASS_FRAGMENT,	/* IPv4 fragment: the kernel reassembles */
	XTEL_XDP_STAT_PASS_IPV6_EXT,	/* IPv6 extension headers: not walked */
	/* the collector's valid traffic */
	XTEL_XDP_STAT_PASSED,		/* XDP_PASS to the kernel socket */
	XTEL_XDP_STAT_REDIRECTED,	/* XDP_REDIRECT to an AF_XDP socket */
	XTEL_XDP_STAT_XSK_MISS,		/* AF_XDP on, no socket on this queue: passed */
	/* dropped: cannot be a valid datagram for the collector */
	XTEL_XDP_DROP_UDP_LEN,		/* UDP length < 8 or beyond the frame */
	XTEL_XDP_DROP_SHORT,		/* shorter than the plain/DTLS header */
	XTEL_XDP_DROP_BAD_MAGIC,	/* plain */
	XTEL_XDP_DROP_BAD_VERSION,	/* plain */
	XTEL_XDP_DROP_BAD_TYPE,		/* plain */
	XTEL_XDP_DROP_BAD_FLAGS,	/* plain: a flag version 1 does not define */
	XTEL_XDP_DROP_BAD_LENGTH,	/* plain: payload_len != UDP length - 28 or > max */
	XTEL_XDP_DROP_DTLS_TYPE,	/* DTLS record content type not 20..23 */
	XTEL_XDP_DROP_DTLS_VERSION,	/* not 1.2, or 1.0 outside handshake/alert */
	XTEL_XDP_DROP_DTLS_EPOCH,	/* application data in epoch 0 */
	XTEL_XDP_DROP_DTLS_LENGTH,	/* record runs past the datagram */
	XTEL_XDP_DROP_NOT_ALLOWED,	/* source not in the allowlist */
	XTEL_XDP_DROP_RATELIMIT,	/* sessionless source over its token bucket */
	XTEL_XDP_DROP_HS_GLOBAL,	/* all sessionless sources together over their limit */
	XTEL_XDP_STAT_OUTCOMES,		/* number of outcome counters */
	/* marks (not outcomes) */
	XTEL_XDP_STAT_NO_SESSION = XTEL_XDP_STAT_OUTCOMES, /* DTLS, no peer entry, within bucket */
	XTEL_XDP_STAT_CLIENTS_FULL,	/* xtel_clients full: datagram not counted per client */
	XTEL_XDP_STAT_MAX,
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
