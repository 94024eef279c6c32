/* SPDX-License-Identifier: MIT */
/*
 * The datagram path: what happens to one received UDP payload, whatever
 * delivered it. A receive path (the io_uring loop in uring_rx.c today, the
 * AF_XDP path later) calls xtel_ingest_datagram() with the payload, the
 * kernel receive timestamp and the peer address; in plain mode the payload
 * is decoded and accounted, in DTLS mode it is fed to this worker's DTLS
 * server and the plaintext it delivers is decoded and accounted. Every
 * refusal is counted under its reason in the worker's counters. Outgoing
 * datagrams (DTLS handshake flights, alerts) leave through the send
 * callback the receive path installed. One struct per receive thread; not
 * thread-safe by design (single writer of its registry and counters).
 */
#ifndef XTEL_INGEST_H
#define XTEL_INGEST_H

#include <stdint.h>
#include <sys/socket.h>

#include "collector/cli.h"
#include "collector/counters.h"
#include "collector/failures.h"
#include "collector/out/csv.h"
#include "dtls/server.h"
#include "acct/registry.h"
#include "devices/inventory.h"

struct xtel_xdp;

/* Queue one datagram to peer; returns 0 or -errno (-ENOBUFS: queue full). */
typedef int (*xtel_ingest_send_fn)(void *ctx, const void *buf, size_t len,
				   const struct sockaddr *peer,
				   socklen_t peer_len);

struct xtel_ingest {
	enum xtel_mode mode;
	unsigned int worker;
	struct xtel_registry *reg;
	struct xtel_worker_counters *cnt;
	struct xtel_csv_ring *csv;	/* NULL: no --csv */
	struct xtel_dtls_server *dtls;	/* DTLS mode only */
	uint64_t arrival_ns;		/* of the datagram being fed to DTLS */
	xtel_ingest_send_fn send;
	void *send_ctx;
	struct xtel_xdp *xdp;		/* NULL: no XDP program to tell */
	/*
	 * A new DTLS admission policy (SIGHUP) the main thread posted and
	 * this path's thread has not swapped in yet: one reference, passed
	 * by atomic exchange, taken on the next timer tick.
	 */
	struct xtel_dtls_policy *next_policy;
	/* The last handshake failures (failures.h: this thread writes). */
	struct xtel_fail_ring fails;
	/*
	 * The device inventory (--db): the snapshot this path looks client
	 * ids up in (its own reference, this thread's alone), and the one
	 * the device manager posted last, taken by atomic exchange before
	 * the next datagram. Both NULL without --db.
	 */
	struct xtel_inventory *inv;
	struct xtel_inventory *next_inv;
	bool inventory_only;		/* refuse ids not in the inventory */
};

/*
 * Set up the datagram path of worker. reg, cnt and csv (may be NULL) stay
 * owned by the caller. In DTLS mode, cfg's cert/key are loaded into a
 * server for this worker that admits clients by policy (it takes its own
 * reference; errors as xtel_dtls_server_new: -ENOENT, -EACCES, -EBADMSG,
 * -ENOMSG, -EKEYREJECTED, -ENOTSUP), each logged by the server. Returns 0
 * or -errno.
 */
int xtel_ingest_init(struct xtel_ingest *ig, const struct xtel_config *cfg,
		     unsigned int worker, struct xtel_registry *reg,
		     struct xtel_worker_counters *cnt, struct xtel_csv_ring *csv,
		     struct xtel_dtls_policy *policy);

/*
 * From the main thread, while the path runs: use policy from the path's
 * next timer tick on (within 50 ms; the receive path never waits for this
 * thread). A reference is taken; a policy posted earlier and not yet
 * swapped in is dropped. Sessions and counters carry on
 * (xtel_dtls_server_set_policy). Nothing happens in plain mode.
 */
void xtel_ingest_post_policy(struct xtel_ingest *ig,
			     struct xtel_dtls_policy *policy);
void xtel_ingest_fini(struct xtel_ingest *ig);

/*
 * From any thread (the device manager's apply callback): look client ids
 * up in inv from this path's next datagram on (a reference is taken; one
 * posted earlier and not yet taken is dropped). With inventory_only an id
 * not in it is refused (device_unknown); a disabled device's datagrams
 * always are (device_disabled), and in DTLS mode its handshakes
 * (dtls_failed_device).
 */
void xtel_ingest_post_inventory(struct xtel_ingest *ig,
				struct xtel_inventory *inv);

/* Install the way out for DTLS flights (the receive path's send queue). */
void xtel_ingest_set_send(struct xtel_ingest *ig, xtel_ingest_send_fn fn,
			  void *ctx);

/*
 * DTLS mode: mirror this worker's established sessions into the XDP
 * program's peer map (xtel_xdp_peer_add when a handshake completes,
 * xtel_xdp_peer_del when the session ends), so their datagrams bypass the
 * handshake rate limit and are counted per client in XDP. Set before the
 * receive thread starts. The map updates are syscalls made once per
 * handshake, never per datagram; failures count as xdp_peer_errors.
 */
void xtel_ingest_set_xdp(struct xtel_ingest *ig, struct xtel_xdp *xdp);

/*
 * THE SEAM for every receive path: one UDP payload of len bytes that the
 * kernel stamped at arrival_ns (CLOCK_REALTIME), from peer.
 */
void xtel_ingest_datagram(struct xtel_ingest *ig, const uint8_t *buf,
			  uint32_t len, uint64_t arrival_ns,
			  const struct sockaddr *peer, socklen_t peer_len);

/*
 * Swap in a posted policy, run due timers (DTLS retransmission, handshake
 * timeout, idle expiry) and publish the DTLS statistics into the worker's
 * counters. Called on the receive loop's tick and once more when it stops.
 */
void xtel_ingest_timers(struct xtel_ingest *ig);

/*
 * The receive path stops: send close_notify to every DTLS session (through
 * the send callback) and publish the final statistics.
 */
void xtel_ingest_shutdown(struct xtel_ingest *ig);

/* True when this path has timers at all (the receive loop arms a tick). */
bool xtel_ingest_wants_timers(const struct xtel_ingest *ig);

#endif /* XTEL_INGEST_H */
