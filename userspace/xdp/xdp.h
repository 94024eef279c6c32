/* SPDX-License-Identifier: MIT */
/*
 * Loader of the collector's XDP program (bpf/xtel_xdp.bpf.c): sets its
 * rodata, pins its maps under a bpffs directory (reusing compatible pins so
 * counters survive a collector restart, replacing stale ones), attaches it
 * with libxdp (native mode, else generic), and gives the collector the calls
 * it needs at run time: allowlist prefixes, DTLS peers, and the counters
 * summed over CPUs for reports and the summary JSON.
 */
#ifndef XTEL_XDP_H
#define XTEL_XDP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <jansson.h>

#include "bpf/xtel_maps.h"

#define XTEL_XDP_DEFAULT_PIN_DIR "/sys/fs/bpf/xtel"

struct xtel_xdp;

struct xtel_xdp_opts {
	const char *ifname;		/* NULL: load (and pin) without attaching */
	const char *pin_dir;		/* NULL: XTEL_XDP_DEFAULT_PIN_DIR */
	bool no_pin;			/* private maps, nothing pinned (tests, bench) */
	uint16_t port;			/* 0: 7700 */
	bool dtls;			/* the port carries DTLS, else plain */
	bool afxdp;			/* redirect valid datagrams to AF_XDP sockets */
	bool allowlist;			/* drop sources outside the allowlist maps */
	uint32_t handshake_rate;	/* datagrams/s per sessionless DTLS source; 0: off */
	uint32_t handshake_burst;	/* bucket size in datagrams; 0: 32 */
	uint32_t handshake_global_rate;	/* datagrams/s of all sessionless sources; 0: off */
	uint32_t handshake_global_burst; /* 0: handshake_global_rate / 10, at least 32 */
	bool skb_mode;			/* attach in generic mode straight away */
	bool quiet;			/* no informational messages on stderr */
	bool devices;			/* plain: refuse by the xtel_devices map */
	bool inventory_only;		/* and refuse ids not in it */
	/* entries of the per-client counter and the DTLS session maps;
	 * below XTEL_XDP_MAX_CLIENTS / _PEERS (0 too): those */
	uint32_t max_clients, max_peers;
};

/*
 * Load, pin and attach. Errors a user can act on are explained on stderr.
 * Returns 0, -EPERM (missing CAP_BPF/CAP_NET_ADMIN), -ENODEV (no such
 * interface), -ENOTSUP (bpffs missing and cannot be mounted), -EINVAL
 * (verifier rejected the program: its log tail was printed), -EEXIST
 * (another XDP program is attached), -EBUSY (another xtel process drives
 * this interface), or another -errno. A program of ours left attached by a
 * process that died is replaced.
 */
int xtel_xdp_open(struct xtel_xdp **out, const struct xtel_xdp_opts *opts);

/* Detach (when attached) and free. The pinned maps stay. NULL is a no-op. */
void xtel_xdp_close(struct xtel_xdp *x);

/* "native", "skb" or "none" (not attached). */
const char *xtel_xdp_attach_mode(const struct xtel_xdp *x);
int xtel_xdp_prog_fd(const struct xtel_xdp *x);
int xtel_xdp_map_fd(const struct xtel_xdp *x, const char *name);	/* -ENOENT */
int xtel_xdp_ifindex(const struct xtel_xdp *x);		/* 0 when not attached */

/* Allowlist: "198.18.0.0/24", "2001:2::/64", or a bare address (/32, /128). */
int xtel_xdp_allow_add(struct xtel_xdp *x, const char *cidr);
int xtel_xdp_allow_del(struct xtel_xdp *x, const char *cidr);	/* -ENOENT */
int xtel_xdp_allow_clear(struct xtel_xdp *x);

/*
 * DTLS peers: call peer_add as soon as a handshake completes (until then the
 * peer's datagrams go through its token bucket) and peer_del when the
 * session ends or expires. sa is a sockaddr_in or sockaddr_in6 (IPv4-mapped
 * IPv6 addresses are treated as IPv4).
 */
int xtel_xdp_peer_add(struct xtel_xdp *x, const struct sockaddr *sa, uint32_t client_id);
int xtel_xdp_peer_del(struct xtel_xdp *x, const struct sockaddr *sa);	/* -ENOENT */
int xtel_xdp_peer_clear(struct xtel_xdp *x);

/*
 * Inventory devices (plain mode, opts.devices): set one (enabled or not),
 * delete one (-ENOENT), or all. -E2BIG: the map holds
 * XTEL_XDP_MAX_DEVICES.
 */
int xtel_xdp_device_set(struct xtel_xdp *x, uint32_t client_id, bool enabled);
int xtel_xdp_device_del(struct xtel_xdp *x, uint32_t client_id);
int xtel_xdp_device_clear(struct xtel_xdp *x);

/* Stats summed over CPUs, indexed by enum xtel_xdp_stat. */
struct xtel_xdp_totals {
	uint64_t packets[XTEL_XDP_STAT_MAX];
	uint64_t bytes[XTEL_XDP_STAT_MAX];
};
int xtel_xdp_read_totals(struct xtel_xdp *x, struct xtel_xdp_totals *out);

/*
 * Remove the xtel program a collector left attached to ifname (it was
 * killed, so its close never ran); the pinned maps stay. Refuses while a
 * collector drives the interface. Returns 1 when a program was detached,
 * 0 when none of ours was attached, or a negative errno after a message:
 * -ENODEV no such interface, -EBUSY a collector runs on it, -EEXIST another
 * program is attached, -EPERM no CAP_NET_ADMIN/CAP_BPF.
 */
int xtel_xdp_detach_iface(const char *ifname);

/*
 * The options in effect: those given to xtel_xdp_open with its defaults
 * filled in (burst sizes, limits). ifname and pin_dir are not kept in it:
 * use xtel_xdp_pin_dir() for the pin directory in use.
 */
const struct xtel_xdp_opts *xtel_xdp_options(const struct xtel_xdp *x);
const char *xtel_xdp_pin_dir(const struct xtel_xdp *x);	/* "" when not pinned */

/* Stable snake_case name of a stat ("passed", "drop_bad_magic", ...). */
const char *xtel_xdp_stat_name(enum xtel_xdp_stat s);
/* Its help text and its verdict column, from the same XTEL_XDP_STATS row. */
const char *xtel_xdp_stat_help(enum xtel_xdp_stat s);
enum xtel_xdp_stat_kind xtel_xdp_stat_kind(enum xtel_xdp_stat s);

/* One client's counters; -ENOENT when the program never saw it. */
int xtel_xdp_read_client(struct xtel_xdp *x, uint32_t client_id,
			 struct xtel_xdp_client *out);

/*
 * Calls fn for every client entry (order unspecified) until fn returns
 * non-zero, which is then returned. Returns 0 after the last entry.
 */
int xtel_xdp_foreach_client(struct xtel_xdp *x,
			    int (*fn)(uint32_t client_id, const struct xtel_xdp_client *c,
				      void *arg),
			    void *arg);

/*
 * Clock conversions to CLOCK_REALTIME ns. last_seen_mono_ns is
 * CLOCK_MONOTONIC_COARSE (the cheap clock in XDP); AF_XDP metadata times are
 * CLOCK_TAI (exactly realtime plus the TAI offset, 0 on most hosts).
 */
uint64_t xtel_xdp_mono_to_realtime(uint64_t mono_ns);
uint64_t xtel_xdp_tai_to_realtime(uint64_t tai_ns);

/*
 * Every counter of t as {"name": {"packets": N, "bytes": N}, ...}, in
 * XTEL_XDP_STATS order (a new reference; NULL only when out of memory).
 */
json_t *xtel_xdp_totals_json(const struct xtel_xdp_totals *t);

#endif /* XTEL_XDP_H */
