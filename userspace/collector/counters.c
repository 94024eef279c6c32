// SPDX-License-Identifier: MIT
/*
 * Names and summing of the collector-wide counters (see counters.h). The
 * names are part of the report and --summary-json formats documented in
 * docs/COLLECTOR.md: keep them stable.
 */
#include "collector/counters.h"

/* The wire reasons come first: the decoder's verdict indexes this table. */
const struct xtel_counter_desc xtel_drop_desc[XTEL_DROP_MAX] = {
#define X(id, name, unit, help) XTEL_COUNTER_DESC(XTEL_WIRE_, id, name, unit, help)
	XTEL_WIRE_ERR_TABLE(X)
#undef X
#define X(id, name, unit, help) XTEL_COUNTER_DESC(XTEL_DROP_, id, name, unit, help)
	XTEL_DROP_TABLE(X)
#undef X
};

const struct xtel_counter_desc xtel_event_desc[XTEL_EV_MAX] = {
#define X(id, name, unit, help) XTEL_COUNTER_DESC(XTEL_EV_, id, name, unit, help)
	XTEL_EVENT_TABLE(X)
#undef X
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
#define X(e, name, help) { XTEL_DTLS_STAT_##e, XTEL_DROP_DTLS_##e },
	XTEL_DTLS_FAIL_STATS(X)
#undef X
	{ XTEL_DTLS_STAT_RENEGOTIATION_REFUSED,
	  XTEL_DROP_DTLS_RENEGOTIATION_REFUSED },
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
	{ XTEL_DTLS_STAT_OVERSIZE, XTEL_DROP_DTLS_OVERSIZE },
	{ XTEL_DTLS_STAT_RESTART_OTHER_ID, XTEL_DROP_DTLS_RESTART_OTHER_ID },
	{ XTEL_DTLS_STAT_COOKIE_REPLAY, XTEL_DROP_DTLS_COOKIE_REPLAY },
	{ XTEL_DTLS_STAT_HS_MSG_TOO_LONG, XTEL_DROP_DTLS_HS_MSG_TOO_LONG },
	{ XTEL_DTLS_STAT_HS_MSG_SEQ_AHEAD, XTEL_DROP_DTLS_HS_MSG_SEQ_AHEAD },
	{ XTEL_DTLS_STAT_HS_EPOCH1_EARLY, XTEL_DROP_DTLS_HS_EPOCH1_EARLY },
	{ XTEL_DTLS_STAT_HS_EPOCH1_FULL, XTEL_DROP_DTLS_HS_EPOCH1_FULL },
	{ XTEL_DTLS_STAT_HS_RECORD_TYPE, XTEL_DROP_DTLS_HS_RECORD_TYPE },
	{ XTEL_DTLS_STAT_HS_PLAIN_ALERT, XTEL_DROP_DTLS_HS_PLAIN_ALERT },
};

const char *xtel_drop_name(unsigned int reason)
{
	if (reason == 0 || reason >= XTEL_DROP_MAX)
		return "unknown";
	return xtel_drop_desc[reason].name;
}

const char *xtel_event_name(unsigned int ev)
{
	return ev < XTEL_EV_MAX ? xtel_event_desc[ev].name : "unknown";
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
