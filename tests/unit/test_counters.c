// SPDX-License-Identifier: MIT
/*
 * Unit tests of the collector's counter tables (userspace/collector/
 * counters.c): every DTLS server statistic that counts a refused datagram
 * feeds exactly one drop reason of its own, under its documented name, and
 * the others (events, gauges) feed none.
 *
 * usage: test_counters
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collector/counters.h"

/* DTLS statistics that are refusals, and the drop reason of each. */
static const struct {
	enum xtel_dtls_server_stat stat;
	const char *drop;
} refusals[] = {
	{ XTEL_DTLS_STAT_COOKIE_BAD, "dtls_bad_cookie" },
	{ XTEL_DTLS_STAT_BAD_HELLO, "dtls_bad_hello" },
	{ XTEL_DTLS_STAT_HALF_OPEN_FULL, "dtls_half_open_full" },
	{ XTEL_DTLS_STAT_SESSIONS_FULL, "dtls_sessions_full" },
	{ XTEL_DTLS_STAT_HANDSHAKE_TIMEOUT, "dtls_handshake_timeout" },
	{ XTEL_DTLS_STAT_UNKNOWN_PEER, "dtls_unknown_peer" },
	{ XTEL_DTLS_STAT_BAD_RECORD, "dtls_bad_record" },
	{ XTEL_DTLS_STAT_REPLAY, "dtls_replay" },
	{ XTEL_DTLS_STAT_MALFORMED, "dtls_malformed" },
	{ XTEL_DTLS_STAT_HALF_OPEN_SOURCE_FULL, "dtls_half_open_source_full" },
	{ XTEL_DTLS_STAT_OVERSIZE, "dtls_oversize" },
	{ XTEL_DTLS_STAT_RESTART_OTHER_ID, "dtls_restart_other_id" },
	{ XTEL_DTLS_STAT_COOKIE_REPLAY, "dtls_cookie_replay" },
	{ XTEL_DTLS_STAT_HS_MSG_TOO_LONG, "dtls_hs_msg_too_long" },
	{ XTEL_DTLS_STAT_HS_MSG_SEQ_AHEAD, "dtls_hs_msg_seq_ahead" },
	{ XTEL_DTLS_STAT_HS_EPOCH1_EARLY, "dtls_hs_epoch1_early" },
	{ XTEL_DTLS_STAT_HS_EPOCH1_FULL, "dtls_hs_epoch1_full" },
	{ XTEL_DTLS_STAT_HS_RECORD_TYPE, "dtls_hs_record_type" },
	{ XTEL_DTLS_STAT_HS_PLAIN_ALERT, "dtls_hs_plain_alert" },
	{ XTEL_DTLS_STAT_FAILED_UNKNOWN_CA, "dtls_failed_unknown_ca" },
	{ XTEL_DTLS_STAT_FAILED_EXPIRED, "dtls_failed_expired" },
	{ XTEL_DTLS_STAT_FAILED_NO_CERT, "dtls_failed_no_cert" },
	{ XTEL_DTLS_STAT_FAILED_REVOKED, "dtls_failed_revoked" },
	{ XTEL_DTLS_STAT_FAILED_DENIED, "dtls_failed_denied" },
	{ XTEL_DTLS_STAT_FAILED_KEY_USAGE, "dtls_failed_key_usage" },
	{ XTEL_DTLS_STAT_FAILED_BAD_CN, "dtls_failed_bad_cn" },
	{ XTEL_DTLS_STAT_FAILED_NO_EMS, "dtls_failed_no_ems" },
	{ XTEL_DTLS_STAT_FAILED_OTHER, "dtls_failed_other" },
	{ XTEL_DTLS_STAT_FAILED_DEVICE, "dtls_failed_device" },
	{ XTEL_DTLS_STAT_RENEGOTIATION_REFUSED, "dtls_renegotiation_refused" },
};

/*
 * The rest: what went right, events that drop nothing (a retransmission,
 * an eviction, a close), the collector's own client id check (it counts
 * client_id_mismatch itself after decoding), the gauges, and
 * handshake_failed, the sum of the failed_* reasons.
 */
static const enum xtel_dtls_server_stat others[] = {
	XTEL_DTLS_STAT_COOKIE_SENT, XTEL_DTLS_STAT_HANDSHAKES_STARTED,
	XTEL_DTLS_STAT_HANDSHAKES_OK, XTEL_DTLS_STAT_RETRANSMITS,
	XTEL_DTLS_STAT_RECORDS_RX, XTEL_DTLS_STAT_CLIENT_ID_MISMATCH,
	XTEL_DTLS_STAT_CLOSE_NOTIFY_RX, XTEL_DTLS_STAT_CLOSE_NOTIFY_TX,
	XTEL_DTLS_STAT_SESSION_ERRORS, XTEL_DTLS_STAT_SESSIONS_EXPIRED,
	XTEL_DTLS_STAT_SESSIONS_REPLACED, XTEL_DTLS_STAT_COOKIE_RAND_FAILED,
	XTEL_DTLS_STAT_RECORD_LAYER_FALLBACK, XTEL_DTLS_STAT_HALF_OPEN_EVICTED,
	XTEL_DTLS_STAT_HALF_OPEN, XTEL_DTLS_STAT_HALF_OPEN_BYTES,
	XTEL_DTLS_STAT_HEAP_TRIMS, XTEL_DTLS_STAT_HANDSHAKE_FAILED,
	XTEL_DTLS_STAT_SESSIONS_REVOKED, XTEL_DTLS_STAT_SESSIONS_UNTRUSTED,
	XTEL_DTLS_STAT_POLICY_UPDATES,
	XTEL_DTLS_STAT_HANDSHAKES_RESUMED, XTEL_DTLS_STAT_TICKET_UNKNOWN,
	XTEL_DTLS_STAT_TICKET_REFUSED,
	XTEL_DTLS_STAT_VERIFY_CACHE_HITS, XTEL_DTLS_STAT_VERIFY_CACHE_MISSES,
	XTEL_DTLS_STAT_VERIFY_CACHE_EVICTIONS,
	XTEL_DTLS_STAT_AEAD_CTX_HITS, XTEL_DTLS_STAT_AEAD_CTX_REKEYS,
	XTEL_DTLS_STAT_HANDSHAKE_REPEATS, XTEL_DTLS_STAT_ALERTS_WARNING_RX,
};

/* The gauges: half_open and half_open_bytes, named "gauge:" in their help. */
static void test_gauges(void **state)
{
	unsigned int n = 0;

	(void)state;
	for (unsigned int d = 0; d < XTEL_DTLS_SERVER_NSTATS; d++) {
		bool g = xtel_dtls_server_stat_is_gauge(d);

		assert_int_equal(g, strncmp(xtel_dtls_server_stat_help[d],
					    "gauge:", 6) == 0);
		n += g;
	}
	assert_int_equal(n, 2);
	assert_true(xtel_dtls_server_stat_is_gauge(XTEL_DTLS_STAT_HALF_OPEN));
	assert_true(xtel_dtls_server_stat_is_gauge(XTEL_DTLS_STAT_HALF_OPEN_BYTES));
}

#define N_REFUSALS (sizeof(refusals) / sizeof(refusals[0]))
#define N_OTHERS (sizeof(others) / sizeof(others[0]))

static unsigned int drop_by_name(const char *name)
{
	for (unsigned int r = 1; r < XTEL_DROP_MAX; r++)
		if (strcmp(xtel_drop_name(r), name) == 0)
			return r;
	fail_msg("no drop reason %s", name);
	return 0;
}

/* Every statistic is listed once, as a refusal or as something else. */
static void test_every_stat_classified(void **state)
{
	unsigned int seen[XTEL_DTLS_SERVER_NSTATS] = { 0 };

	(void)state;
	assert_int_equal(N_REFUSALS + N_OTHERS, XTEL_DTLS_SERVER_NSTATS);
	for (size_t i = 0; i < N_REFUSALS; i++)
		seen[refusals[i].stat]++;
	for (size_t i = 0; i < N_OTHERS; i++)
		seen[others[i]]++;
	for (unsigned int d = 0; d < XTEL_DTLS_SERVER_NSTATS; d++)
		assert_int_equal(seen[d], 1);
}

/*
 * Two workers' statistics, each a distinct value per statistic: every
 * refusal's drop reason is their sum, the other statistics move no drop,
 * and the drops add up to the refusals alone.
 */
static void test_dtls_drop_map(void **state)
{
	static struct xtel_worker_counters w[2], sum;
	const struct xtel_worker_counters *ws[2] = { &w[0], &w[1] };
	uint64_t want = 0;

	(void)state;
	for (unsigned int d = 0; d < XTEL_DTLS_SERVER_NSTATS; d++) {
		w[0].dtls[d] = 1000 + d;
		w[1].dtls[d] = 7 * d;
	}
	xtel_counters_sum(ws, 2, &sum);
	for (size_t i = 0; i < N_REFUSALS; i++) {
		unsigned int s = refusals[i].stat;

		assert_int_equal(sum.drops[drop_by_name(refusals[i].drop)],
				 1000 + 8 * s);
		want += 1000 + 8 * s;
	}
	assert_int_equal(xtel_counters_total_drops(&sum), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_stat_classified),
		cmocka_unit_test(test_dtls_drop_map),
		cmocka_unit_test(test_gauges),
	};

	return cmocka_run_group_tests_name("counters", tests, NULL, NULL);
}
