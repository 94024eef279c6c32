/* SPDX-License-Identifier: MIT */
/*
 * Collector-wide counters that are not per-client: why datagrams were
 * dropped before they reached the accounting, and what the receive loop
 * itself saw (ring ran dry, outgoing queue full, CSV ring overflow). Every
 * receive worker owns one struct xtel_worker_counters and is its only
 * writer; the reporter sums all workers with xtel_counters_sum(). A counter
 * update is a relaxed load and store, never a read-modify-write, because
 * there is exactly one writer; the reporter's relaxed loads may be one
 * datagram behind, which is fine for reports.
 */
#ifndef XTEL_COUNTERS_H
#define XTEL_COUNTERS_H

#include <stdint.h>

#include "dtls/server.h"
#include "wire/wire.h"

/*
 * Reasons a received datagram did not reach the accounting. The first
 * XTEL_WIRE_ERR_MAX entries mirror enum xtel_wire_err one to one (index 0,
 * "ok", is never counted) so a decoder verdict indexes this table directly.
 */
enum xtel_drop {
	XTEL_DROP_OVERSIZE = XTEL_WIRE_ERR_MAX,	/* larger than a receive buffer */
	XTEL_DROP_CLIENT_ID_MISMATCH,	/* header id != certificate id (DTLS) */
	XTEL_DROP_REGISTRY_FULL,	/* --max-clients reached */
	XTEL_DROP_RXQ_OVFL,		/* socket buffer overflow (SO_RXQ_OVFL) */
	/*
	 * DTLS refusals, copied from the worker's DTLS server statistics
	 * (dtls/server.h). They count events: a failed handshake is one, whatever
	 * number of datagrams it took.
	 */
	XTEL_DROP_DTLS_HANDSHAKE_FAILED,	/* bad/expired/missing client cert */
	XTEL_DROP_DTLS_HANDSHAKE_TIMEOUT,	/* handshake never finished */
	XTEL_DROP_DTLS_BAD_COOKIE,	/* ClientHello with a wrong/stale cookie */
	XTEL_DROP_DTLS_BAD_HELLO,	/* handshake datagram the listener refused */
	XTEL_DROP_DTLS_HALF_OPEN_FULL,	/* too many handshakes in progress */
	XTEL_DROP_DTLS_SESSIONS_FULL,	/* no room for another session */
	XTEL_DROP_DTLS_UNKNOWN_PEER,	/* record from an address without session */
	XTEL_DROP_DTLS_BAD_RECORD,	/* record that failed authentication */
	XTEL_DROP_DTLS_REPLAY,		/* record replayed or behind the window */
	XTEL_DROP_DTLS_MALFORMED,	/* shorter than a DTLS record header */
	XTEL_DROP_DTLS_HALF_OPEN_SOURCE_FULL,	/* one source's handshake cap */
	XTEL_DROP_MAX,
};

/* Stable snake_case name of a drop reason, as used in reports and JSON. */
const char *xtel_drop_name(unsigned int reason);

/*
 * Events of the receive loop and the export path. Not drops of received
 * datagrams: -ENOBUFS leaves the datagram in the socket buffer, and the CSV
 * ring overflow loses a row, not a datagram.
 */
enum xtel_event {
	XTEL_EV_RX_DATAGRAMS,	/* every datagram handed to the datagram path */
	XTEL_EV_RX_BYTES,
	XTEL_EV_ACCEPTED,	/* decoded and accounted */
	XTEL_EV_ENOBUFS,	/* multishot recv ended: buffer ring ran dry */
	XTEL_EV_REARMS,		/* multishot recv re-armed (any reason) */
	XTEL_EV_RECV_ERRORS,	/* recv completions with another error */
	XTEL_EV_NO_TIMESTAMP,	/* kernel gave no SO_TIMESTAMPNS: used now */
	XTEL_EV_CSV_DROPPED,	/* CSV rows lost: writer ring full */
	XTEL_EV_TX_DATAGRAMS,	/* outgoing datagrams sent (DTLS flights) */
	XTEL_EV_TX_DROPPED,	/* outgoing datagram refused: send queue full */
	XTEL_EV_TX_ERRORS,	/* sendmsg completions with an error */
	XTEL_EV_DTLS_HANDSHAKES,	/* sessions that completed a handshake */
	XTEL_EV_DTLS_CLOSED,	/* sessions ended: close_notify, error, idle */
	XTEL_EV_CQE_BATCHES,	/* completion batches drained */
	XTEL_EV_DRAINED,	/* datagrams read from the socket after the stop */
	XTEL_EV_DRAIN_CUT,	/* drains ended by their time/count bound */
	XTEL_EV_XDP_PEER_ERRORS,	/* DTLS peer add/del in the XDP map failed */
	XTEL_EV_MAX,
};

const char *xtel_event_name(unsigned int ev);

struct xtel_worker_counters {
	uint64_t drops[XTEL_DROP_MAX];
	uint64_t events[XTEL_EV_MAX];
	/* the worker's DTLS server statistics, refreshed on its timer tick */
	uint64_t dtls[XTEL_DTLS_SERVER_NSTATS];
} __attribute__((aligned(64)));

/* Single-writer increment: no atomic RMW, but no torn value for readers. */
static inline void xtel_cnt_add(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v,
			 __ATOMIC_RELAXED);
}

/* Single-writer store of an absolute value (e.g. the kernel's drop count). */
static inline void xtel_cnt_set(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, v, __ATOMIC_RELAXED);
}

/*
 * Sum n per-worker structs (read with relaxed loads) into out, and derive
 * the DTLS drop reasons and events from the summed DTLS statistics.
 */
void xtel_counters_sum(const struct xtel_worker_counters *const *w,
		       unsigned int n, struct xtel_worker_counters *out);

/* Datagrams dropped for any reason. */
uint64_t xtel_counters_total_drops(const struct xtel_worker_counters *c);

#endif /* XTEL_COUNTERS_H */
