// SPDX-License-Identifier: MIT
/*
 * Names and summing of the collector-wide counters (see counters.h). The
 * names are part of the report and --summary-json formats documented in
 * docs/COLLECTOR.md: keep them stable.
 */
#include "collector/counters.h"

static const char *const drop_names[XTEL_DROP_MAX - XTEL_WIRE_ERR_MAX] = {
	[XTEL_DROP_OVERSIZE - XTEL_WIRE_ERR_MAX] = "oversize",
	[XTEL_DROP_CLIENT_ID_MISMATCH - XTEL_WIRE_ERR_MAX] = "client_id_mismatch",
	[XTEL_DROP_REGISTRY_FULL - XTEL_WIRE_ERR_MAX] = "registry_full",
	[XTEL_DROP_RXQ_OVFL - XTEL_WIRE_ERR_MAX] = "rxq_ovfl",
	[XTEL_DROP_DTLS_HANDSHAKE_FAILED - XTEL_WIRE_ERR_MAX] = "dtls_handshake_failed",
	[XTEL_DROP_DTLS_HANDSHAKE_TIMEOUT - XTEL_WIRE_ERR_MAX] = "dtls_handshake_timeout",
	[XTEL_DROP_DTLS_BAD_COOKIE - XTEL_WIRE_ERR_MAX] = "dtls_bad_cookie",
	[XTEL_DROP_DTLS_BAD_HELLO - XTEL_WIRE_ERR_MAX] = "dtls_bad_hello",
	[XTEL_DROP_DTLS_HALF_OPEN_FULL - XTEL_WIRE_ERR_MAX] = "dtls_half_open_full",
	[XTEL_DROP_DTLS_SESSIONS_FULL - XTEL_WIRE_ERR_MAX] = "dtls_sessions_full",
	[XTEL_DROP_DTLS_UNKNOWN_PEER - XTEL_WIRE_ERR_MAX] = "dtls_unknown_peer",
	[XTEL_DROP_DTLS_BAD_RECORD - XTEL_WIRE_ERR_MAX] = "dtls_bad_record",
	[XTEL_DROP_DTLS_REPLAY - XTEL_WIRE_ERR_MAX] = "dtls_replay",
	[XTEL_DROP_DTLS_MALFORMED - XTEL_WIRE_ERR_MAX] = "dtls_malformed",
	[XTEL_DROP_DTLS_HALF_OPEN_SOURCE_FULL - XTEL_WIRE_ERR_MAX] =
		"dtls_half_open_source_full",
};

/*
 * Which DTLS server statistic feeds which drop reason. Indexed by the
 * statistics' enum, which the same table in dtls/server.h expands into
 * the struct's fields, so a reordering cannot misattribute counts.
 */
static const struct {
	enum xtel_dtls_server_stat stat;
	unsigned int drop;
} dtls_drop_map[] = {
	{ XTEL_DTLS_STAT_HANDSHAKE_FAILED, XTEL_DROP_DTLS_HANDSHAKE_FAILED },
	{ XTEL_DTLS_STAT_HANDSHAKE_TIMEOUT, XTEL_DROP_DTLS_HANDSHAKE_TIMEOUT },
	{ XTEL_DTLS_STAT_COOKIE_BAD, XTEL_DROP_DTLS_BAD_COOKIE },
	{ XTEL_DTLS_STAT_BAD_HELLO, XTEL_DROP_DTLS_BAD_HELLO },
	{ XTEL_DTLS_STAT_HALF_OPEN_FULL, XTEL_DROP_DTLS_HALF_OPEN_FULL },
	{ XTEL_DTLS_STAT_SESSIONS_FULL, XTEL_DROP_DTLS_SESSIONS_FULL },
	{ XTEL_DTLS_STAT_UNKNOWN_PEER, XTEL_DROP_DTLS_UNKNOWN_PEER },
	{ XTEL_DTLS_STAT_BAD_RECORD, XTEL_DROP_DTLS_BAD_RECORD },
	{ XTEL_DTLS_STAT_REPLAY, XTEL_DROP_DTLS_REPLAY },
	{ XTEL_DTLS_STAT_MALFORMED, XTEL_DROP_DTLS_MALFORMED },
	{ XTEL_DTLS_STAT_HALF_OPEN_SOURCE_FULL,
	  XTEL_DROP_DTLS_HALF_OPEN_SOURCE_FULL },
};

static const char *const event_names[XTEL_EV_MAX] = {
	[XTEL_EV_RX_DATAGRAMS] = "rx_datagrams",
	[XTEL_EV_RX_BYTES] = "rx_bytes",
	[XTEL_EV_ACCEPTED] = "accepted",
	[XTEL_EV_ENOBUFS] = "enobufs",
	[XTEL_EV_REARMS] = "rearms",
	[XTEL_EV_RECV_ERRORS] = "recv_errors",
	[XTEL_EV_NO_TIMESTAMP] = "no_timestamp",
	[XTEL_EV_CSV_DROPPED] = "csv_dropped",
	[XTEL_EV_TX_DATAGRAMS] = "tx_datagrams",
	[XTEL_EV_TX_DROPPED] = "tx_dropped",
	[XTEL_EV_TX_ERRORS] = "tx_errors",
	[XTEL_EV_DTLS_HANDSHAKES] = "dtls_handshakes",
	[XTEL_EV_DTLS_CLOSED] = "dtls_closed",
	[XTEL_EV_CQE_BATCHES] = "cqe_batches",
	[XTEL_EV_DRAINED] = "drained",
	[XTEL_EV_DRAIN_CUT] = "drain_cut",
	[XTEL_EV_XDP_PEER_ERRORS] = "xdp_peer_errors",
};

const char *xtel_drop_name(unsigned int reason)
{
	if (reason == 0 || reason >= XTEL_DROP_MAX)
		return "unknown";
	if (reason < XTEL_WIRE_ERR_MAX)
		return xtel_wire_err_name((enum xtel_wire_err)reason);
	return drop_names[reason - XTEL_WIRE_ERR_MAX];
}

const char *xtel_event_name(unsigned int ev)
{
	return ev < XTEL_EV_MAX ? event_names[ev] : "unknown";
}

void xtel_counters_sum(const struct xtel_worker_counters *const *w,
		       unsigned int n, struct xtel_worker_counters *out)
{
	*out = (struct xtel_worker_counters){ 0 };
	for (unsigned int i = 0; i < n; i++) {
		for (unsigned int r = 0; r < XTEL_DROP_MAX; r++)
			out->drops[r] += __atomic_load_n(&w[i]->drops[r],
							 __ATOMIC_RELAXED);
		for (unsigned int e = 0; e < XTEL_EV_MAX; e++)
			out->events[e] += __atomic_load_n(&w[i]->events[e],
							  __ATOMIC_RELAXED);
		for (unsigned int d = 0; d < XTEL_DTLS_SERVER_NSTATS; d++)
			out->dtls[d] += __atomic_load_n(&w[i]->dtls[d],
							__ATOMIC_RELAXED);
	}
	for (size_t m = 0; m < sizeof(dtls_drop_map) / sizeof(dtls_drop_map[0]); m++)
		out->drops[dtls_drop_map[m].drop] = out->dtls[dtls_drop_map[m].stat];
	out->events[XTEL_EV_DTLS_HANDSHAKES] = out->dtls[XTEL_DTLS_STAT_HANDSHAKES_OK];
	out->events[XTEL_EV_DTLS_CLOSED] = out->dtls[XTEL_DTLS_STAT_CLOSE_NOTIFY_RX] +
		out->dtls[XTEL_DTLS_STAT_SESSION_ERRORS] +
		out->dtls[XTEL_DTLS_STAT_SESSIONS_EXPIRED];
}

uint64_t xtel_counters_total_drops(const struct xtel_worker_counters *c)
{
	uint64_t t = 0;

	for (unsigned int r = 1; r < XTEL_DROP_MAX; r++)
		t += c->drops[r];
	return t;
}
