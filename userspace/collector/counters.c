// SPDX-License-Identifier: MIT
/*
 * Names and summing of the collector-wide counters (see counters.h). The
 * names are part of the report and --summary-json formats documented in
 * docs/COLLECTOR.md: keep them stable.
 */
#include <string.h>

#include "collector/counters.h"

/* The wire reasons come first: the decoder's verdict indexes this table. */
const struct xtel_counter_desc xtel_drop_desc[XTEL_DROP_MAX] = {
#define X(id, name, help) XTEL_COUNTER_DESC(XTEL_WIRE_, id, name, help)
	XTEL_WIRE_ERR_TABLE(X)
#undef X
#define X(id, name, help) XTEL_COUNTER_DESC(XTEL_DROP_, id, name, help)
	XTEL_DROP_TABLE(X)
#undef X
};

const struct xtel_counter_desc xtel_event_desc[XTEL_EV_MAX] = {
#define X(id, name, help) XTEL_COUNTER_DESC(XTEL_EV_, id, name, help)
	XTEL_EVENT_TABLE(X)
#undef X
};

/*
 * Which DTLS server statistic feeds which drop reason. Looked up by name
 * so a reordering of struct xtel_dtls_server_stats cannot silently
 * misattribute counts.
 */
static const struct {
	const char *stat;
	unsigned int drop;
} dtls_drop_map[] = {
	{ "handshake_failed", XTEL_DROP_DTLS_HANDSHAKE_FAILED },
	{ "handshake_timeout", XTEL_DROP_DTLS_HANDSHAKE_TIMEOUT },
	{ "cookie_bad", XTEL_DROP_DTLS_BAD_COOKIE },
	{ "bad_hello", XTEL_DROP_DTLS_BAD_HELLO },
	{ "half_open_full", XTEL_DROP_DTLS_HALF_OPEN_FULL },
	{ "sessions_full", XTEL_DROP_DTLS_SESSIONS_FULL },
	{ "unknown_peer", XTEL_DROP_DTLS_UNKNOWN_PEER },
	{ "bad_record", XTEL_DROP_DTLS_BAD_RECORD },
	{ "replay", XTEL_DROP_DTLS_REPLAY },
	{ "malformed", XTEL_DROP_DTLS_MALFORMED },
	{ "half_open_source_full", XTEL_DROP_DTLS_HALF_OPEN_SOURCE_FULL },
};

static int dtls_stat_index(const char *name)
{
	for (unsigned int i = 0; i < XTEL_DTLS_SERVER_NSTATS; i++)
		if (!strcmp(xtel_dtls_server_stat_names[i], name))
			return (int)i;
	return -1;
}

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
	for (size_t m = 0; m < sizeof(dtls_drop_map) / sizeof(dtls_drop_map[0]); m++) {
		int idx = dtls_stat_index(dtls_drop_map[m].stat);

		if (idx >= 0)
			out->drops[dtls_drop_map[m].drop] = out->dtls[idx];
	}
	{
		int ok = dtls_stat_index("handshakes_ok");
		int cn = dtls_stat_index("close_notify_rx");
		int er = dtls_stat_index("session_errors");
		int ex = dtls_stat_index("sessions_expired");

		if (ok >= 0)
			out->events[XTEL_EV_DTLS_HANDSHAKES] = out->dtls[ok];
		if (cn >= 0 && er >= 0 && ex >= 0)
			out->events[XTEL_EV_DTLS_CLOSED] = out->dtls[cn] +
				out->dtls[er] + out->dtls[ex];
	}
}

uint64_t xtel_counters_total_drops(const struct xtel_worker_counters *c)
{
	uint64_t t = 0;

	for (unsigned int r = 1; r < XTEL_DROP_MAX; r++)
		t += c->drops[r];
	return t;
}
