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

#include "common/counter.h"
#include "dtls/server.h"
#include "wire/wire.h"

/*
 * Reasons a received datagram did not reach the accounting, after the
 * decoder's own (XTEL_WIRE_ERR_TABLE, whose index 0 "ok" is never counted),
 * so a decoder verdict indexes the drop array directly. The DTLS rows are
 * copied from the worker's DTLS server statistics (counters.c): they count
 * events, so a failed handshake is one, whatever number of datagrams it
 * took.
 */
#define XTEL_DROP_TABLE(X)						\
	X(OVERSIZE, "oversize", "datagrams", "larger than a receive buffer")	\
	X(CLIENT_ID_MISMATCH, "client_id_mismatch", "datagrams",			\
	  "header client id is not the certificate's (DTLS)")		\
	X(REGISTRY_FULL, "registry_full", "datagrams", "--max-clients reached")	\
	X(RXQ_OVFL, "rxq_ovfl", "datagrams", "socket buffer overflow (SO_RXQ_OVFL)") \
	XTEL_DROP_DTLS_FAIL_TABLE(X)					\
	X(DTLS_RENEGOTIATION_REFUSED, "dtls_renegotiation_refused", "records", \
	  "renegotiation refused with a no_renegotiation alert")	\
	X(DTLS_HANDSHAKE_TIMEOUT, "dtls_handshake_timeout", "handshakes",		\
	  "handshake never finished")					\
	X(DTLS_BAD_COOKIE, "dtls_bad_cookie", "datagrams",				\
	  "ClientHello with a wrong or stale cookie")			\
	X(DTLS_BAD_HELLO, "dtls_bad_hello", "datagrams",				\
	  "handshake datagram the listener refused")			\
	X(DTLS_HALF_OPEN_FULL, "dtls_half_open_full", "handshakes",			\
	  "too many handshakes in progress")				\
	X(DTLS_SESSIONS_FULL, "dtls_sessions_full", "handshakes",			\
	  "no room for another session")				\
	X(DTLS_UNKNOWN_PEER, "dtls_unknown_peer", "datagrams",			\
	  "record from an address without a session")			\
	X(DTLS_BAD_RECORD, "dtls_bad_record", "records",				\
	  "record that failed authentication")				\
	X(DTLS_REPLAY, "dtls_replay", "records", "record replayed or behind the window") \
	X(DTLS_MALFORMED, "dtls_malformed", "datagrams",				\
	  "shorter than a DTLS record header")				\
	X(DTLS_HALF_OPEN_SOURCE_FULL, "dtls_half_open_source_full", "handshakes",	\
	  "one source's handshake cap reached")				\
	X(DTLS_OVERSIZE, "dtls_oversize", "datagrams",				\
	  "datagram larger than a DTLS slot (1500 bytes)")				\
	X(DTLS_RESTART_OTHER_ID, "dtls_restart_other_id", "handshakes",		\
	  "handshake on a session's address and port as another client")				\
	X(DTLS_COOKIE_REPLAY, "dtls_cookie_replay", "datagrams",			\
	  "copy of a ClientHello whose cookie already started a handshake")				\
	X(DTLS_HS_MSG_TOO_LONG, "dtls_hs_msg_too_long", "datagrams",		\
	  "half-open handshake: message claimed over 4096 bytes")	\
	X(DTLS_HS_MSG_SEQ_AHEAD, "dtls_hs_msg_seq_ahead", "datagrams",		\
	  "half-open handshake: message past the client's flight")	\
	X(DTLS_HS_EPOCH1_EARLY, "dtls_hs_epoch1_early", "datagrams",		\
	  "half-open handshake: epoch-1 record before ChangeCipherSpec") \
	X(DTLS_HS_EPOCH1_FULL, "dtls_hs_epoch1_full", "datagrams",			\
	  "half-open handshake: more than 4 epoch-1 records")		\
	X(DTLS_HS_RECORD_TYPE, "dtls_hs_record_type", "datagrams",			\
	  "half-open handshake: application data or unknown record type") \
	X(DTLS_HS_PLAIN_ALERT, "dtls_hs_plain_alert", "datagrams",			\
	  "half-open handshake: plaintext alert (spoofable)")		\
	X(DEVICE_DISABLED, "device_disabled", "datagrams",			\
	  "client id of a disabled device (--db inventory)")		\
	X(DEVICE_UNKNOWN, "device_unknown", "datagrams",			\
	  "client id not in the inventory (--inventory-only)")

/*
 * The DTLS handshake failures, one row per reason of the server's
 * XTEL_DTLS_FAIL_STATS (dtls/server.h), in its order: the ID is the
 * server's counter with DTLS_ in front, the name its name with "dtls_" in
 * front (counters.c maps them by these, tests check the names). Together
 * they are what the single dtls_handshake_failed reason used to count.
 */
#define XTEL_DROP_DTLS_FAIL_TABLE(X)					\
	X(DTLS_FAILED_UNKNOWN_CA, "dtls_failed_unknown_ca", "handshakes",	\
	  "client certificate not issued by the CA (or a pinned CA)")	\
	X(DTLS_FAILED_EXPIRED, "dtls_failed_expired", "handshakes",	\
	  "client certificate expired or not yet valid")		\
	X(DTLS_FAILED_NO_CERT, "dtls_failed_no_cert", "handshakes",	\
	  "client sent no certificate")					\
	X(DTLS_FAILED_REVOKED, "dtls_failed_revoked", "handshakes",	\
	  "client certificate revoked (--crl)")				\
	X(DTLS_FAILED_DENIED, "dtls_failed_denied", "handshakes",	\
	  "client id on the deny list (--deny-list)")			\
	X(DTLS_FAILED_KEY_USAGE, "dtls_failed_key_usage", "handshakes",	\
	  "certificate without digitalSignature and clientAuth")	\
	X(DTLS_FAILED_BAD_CN, "dtls_failed_bad_cn", "handshakes",	\
	  "certificate CN is not client-<id>")				\
	X(DTLS_FAILED_NO_EMS, "dtls_failed_no_ems", "handshakes",	\
	  "ClientHello without the extended master secret")		\
	X(DTLS_FAILED_OTHER, "dtls_failed_other", "handshakes",		\
	  "handshake failed for another reason")			\
	X(DTLS_FAILED_DEVICE, "dtls_failed_device", "handshakes",	\
	  "client id of a disabled or (--inventory-only) unknown device")

enum xtel_drop {
	XTEL_DROP_WIRE_LAST_ = XTEL_WIRE_ERR_MAX - 1,
#define X(id, name, unit, help) XTEL_DROP_##id,
	XTEL_DROP_TABLE(X)
#undef X
	XTEL_DROP_MAX,
};

/* Indexed by drop reason: the wire reasons, then XTEL_DROP_TABLE. */
extern const struct xtel_counter_desc xtel_drop_desc[XTEL_DROP_MAX];

/* Stable snake_case name of a drop reason, as used in reports and JSON. */
const char *xtel_drop_name(unsigned int reason);

/*
 * Events of the receive loop and the export path. Not drops of received
 * datagrams: -ENOBUFS leaves the datagram in the socket buffer, and the CSV
 * ring overflow loses a row, not a datagram.
 */
#define XTEL_EVENT_TABLE(X)						\
	X(RX_DATAGRAMS, "rx_datagrams", "datagrams",					\
	  "every datagram handed to the datagram path")		\
	X(RX_BYTES, "rx_bytes", "bytes", "bytes of those datagrams")		\
	X(ACCEPTED, "accepted", "datagrams", "datagrams decoded and accounted")	\
	X(ENOBUFS, "enobufs", "events", "multishot receive ended: buffer ring ran dry") \
	X(REARMS, "rearms", "events", "multishot receive re-armed (any reason)")	\
	X(RECV_ERRORS, "recv_errors", "completions", "receive completions with another error") \
	X(NO_TIMESTAMP, "no_timestamp", "datagrams",				\
	  "datagrams without a kernel timestamp (time read on arrival)") \
	X(CSV_DROPPED, "csv_dropped", "rows", "CSV rows lost: writer ring full") \
	X(TX_DATAGRAMS, "tx_datagrams", "datagrams", "outgoing datagrams sent (DTLS flights)") \
	X(TX_DROPPED, "tx_dropped", "datagrams", "outgoing datagrams refused: send queue full") \
	X(TX_ERRORS, "tx_errors", "completions", "send completions with an error")	\
	X(DTLS_HANDSHAKES, "dtls_handshakes", "sessions",				\
	  "DTLS sessions that completed a handshake")			\
	X(DTLS_CLOSED, "dtls_closed", "sessions",					\
	  "DTLS sessions ended: close_notify, error or idle")		\
	X(CQE_BATCHES, "cqe_batches", "batches", "completion batches drained")	\
	X(RX_PREFETCHED, "rx_prefetched", "completions",				\
	  "completions and AF_XDP frames handled with the DTLS batch prefetch (--rx-prefetch)") \
	X(RX_WAITS, "rx_waits", "wakeups",						\
	  "io_uring loop wake-ups that brought completions")		\
	X(DRAINED, "drained", "datagrams", "datagrams read from the socket after the stop") \
	X(DRAIN_CUT, "drain_cut", "events", "drains ended by their time or count bound") \
	X(XDP_PEER_ERRORS, "xdp_peer_errors", "operations",				\
	  "DTLS peer add or delete in the XDP map failed")

enum xtel_event {
#define X(id, name, unit, help) XTEL_EV_##id,
	XTEL_EVENT_TABLE(X)
#undef X
	XTEL_EV_MAX,
};

extern const struct xtel_counter_desc xtel_event_desc[XTEL_EV_MAX];

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
