// SPDX-License-Identifier: MIT
/*
 * The probe library's figures (userspace/probe/: sample.c, stats.c,
 * analysis.c) on histories whose answers are known by construction:
 * percentiles of 1..10, the DATA payload byte for byte, weighted buckets
 * of the stored history, a two-week fleet history whose busiest hour,
 * busiest day-and-hour (by speed and by response time) and trend were
 * planted, and a one-device minute with one congestion episode (a
 * timeout inside it), a refused connection that must not end it, and a
 * short dip that --min-episode leaves out.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe/analysis.h"
#include "probe_week.h"

#define NS 1000000000ull
/* 2026-11-01 00:00:00 UTC, a Sunday. */
#define T0 1793491200ull

static void near(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("got %.9g, want %.9g (+-%g)", got, want, tol);
}

static void test_stats(void **state)
{
	double v[] = { 10, 3, NAN, 1, 2, 9, 4, 5, 6, 7, 8 };
	struct xtel_probe_stats st;

	(void)state;
	xtel_probe_stats_of(v, 11, &st);
	assert_int_equal(st.n, 10);
	near(st.mean, 5.5, 1e-12);
	near(st.min, 1, 0);
	near(st.max, 10, 0);
	near(st.p10, 1.9, 1e-12);
	near(st.p50, 5.5, 1e-12);
	near(st.p90, 9.1, 1e-12);
	xtel_probe_stats_of(v, 0, &st);
	assert_int_equal(st.n, 0);
	assert_true(isnan(st.mean) && isnan(st.p90));
}

static void test_sample_codec(void **state)
{
	struct xtel_probe_sample s, back;
	char buf[1300];
	int n;

	(void)state;
	xtel_probe_sample_init(&s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.n_ok, 0);
	s.kind = XTEL_PROBE_OK;
	s.v[XTEL_PROBE_M_OK] = 1;
	s.v[XTEL_PROBE_M_KIND] = 0;
	s.v[XTEL_PROBE_M_SPEED] = 93.2071;
	s.v[XTEL_PROBE_M_TTFB] = 3.5;
	s.v[XTEL_PROBE_M_BYTES] = 1048576;
	n = xtel_probe_sample_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "probe_ok=1.000;probe_kind=0.000;probe_speed_mbps=93.207;"
			    "probe_ttfb_ms=3.500;probe_bytes=1048576.000");
	assert_int_equal(n, (int)strlen(buf));
	assert_int_equal(xtel_probe_sample_format(&s, buf, 20), -ENOSPC);

	xtel_probe_sample_init(&back);
	assert_int_equal(xtel_probe_sample_set(&back, "probe_kind", 10, 5), 0);
	assert_int_equal(back.kind, XTEL_PROBE_TIMEOUT);
	assert_int_equal(xtel_probe_sample_set(&back, "probe_ttfb_msX", 13, 7), 0);
	near(back.v[XTEL_PROBE_M_TTFB], 7, 0);
	assert_int_equal(xtel_probe_sample_set(&back, "temp", 4, 1), -ENOENT);
	assert_int_equal(xtel_probe_kind_from_name("short_body"), XTEL_PROBE_SHORT_BODY);
	assert_int_equal(xtel_probe_kind_from_name("nope"), -1);
	assert_string_equal(xtel_probe_kind_name(XTEL_PROBE_TLS_VERIFY), "tls_verify");
	assert_null(xtel_probe_kind_name(XTEL_PROBE_KIND_MAX));
}

static void test_speed(void **state)
{
	(void)state;
	/* 8e6 bits over 800 ms of body: 10 Mbit/s. */
	near(xtel_probe_speed_mbps(1000000, 10, 810), 10, 1e-12);
	/* Body phase under 1 ms: the whole download counts. */
	near(xtel_probe_speed_mbps(1024, 4.0, 4.5), 1024 * 8 / 4.5 / 1000, 1e-12);
	assert_true(isnan(xtel_probe_speed_mbps(0, 1, 2)));
	assert_true(isnan(xtel_probe_speed_mbps(100, 0, 0)));
}

static void test_weighted_summary(void **state)
{
	struct xtel_probe_sample s[3];
	struct xtel_probe_summary sm;

	(void)state;
	for (int i = 0; i < 3; i++)
		xtel_probe_sample_init(&s[i]);
	/* A bucket of 3 downloads: 2 ok at a mean of 50, 1 timeout. */
	s[0] = (struct xtel_probe_sample){ .ts_ns = 10 * NS, .device = 1,
		.kind = XTEL_PROBE_TIMEOUT, .n = 3, .n_ok = 2 };
	for (int m = 0; m < XTEL_PROBE_M_MAX; m++)
		s[0].v[m] = NAN;
	s[0].v[XTEL_PROBE_M_SPEED] = 50;
	/* 4 downloads, 1 ok at 20, failures of different kinds. */
	s[1] = s[0];
	s[1].ts_ns = 20 * NS;
	s[1].kind = XTEL_PROBE_MIXED;
	s[1].n = 4;
	s[1].n_ok = 1;
	s[1].v[XTEL_PROBE_M_SPEED] = 20;
	/* One ok download of another device. */
	s[2] = s[0];
	s[2].device = 2;
	s[2].kind = XTEL_PROBE_OK;
	s[2].n = 1;
	s[2].n_ok = 1;
	s[2].v[XTEL_PROBE_M_SPEED] = 80;

	assert_int_equal(xtel_probe_summarize(s, 3, 1, &sm), 0);
	assert_int_equal(sm.downloads, 7);
	assert_int_equal(sm.ok, 3);
	assert_int_equal(sm.failed, 4);
	assert_int_equal(sm.kinds[XTEL_PROBE_TIMEOUT], 1);
	assert_int_equal(sm.kinds[XTEL_PROBE_MIXED], 3);
	assert_int_equal(sm.speed.n, 3);
	near(sm.speed.mean, 40, 1e-12);
	assert_int_equal(sm.first_ns, 10 * NS);
	assert_int_equal(sm.last_ns, 20 * NS);
	assert_int_equal(xtel_probe_summarize(s, 3, 0, &sm), 0);
	assert_int_equal(sm.downloads, 8);
	near(sm.speed.max, 80, 0);
}

static struct xtel_probe_sample ok_sample(uint64_t ts_s, uint32_t dev, double speed,
					  double ttfb, double total)
{
	struct xtel_probe_sample s;

	xtel_probe_sample_init(&s);
	s.ts_ns = ts_s * NS;
	s.device = dev;
	s.kind = XTEL_PROBE_OK;
	s.n_ok = 1;
	s.v[XTEL_PROBE_M_OK] = 1;
	s.v[XTEL_PROBE_M_SPEED] = speed;
	s.v[XTEL_PROBE_M_TTFB] = ttfb;
	s.v[XTEL_PROBE_M_TOTAL] = total;
	return s;
}

/*
 * 14 days, 4 devices, a probe every 10 minutes each. Local time is UTC+1
 * (tz_offset_min 60). Speed 100 Mbit/s falling by 1 Mbit/s a day, except
 * at local 20:00-20:59 every day (40) and on Wednesdays 21:00-21:59 (30);
 * ttfb 20 ms, except 80 ms at 20h and 200 ms on Fridays at 09h. So the
 * busiest hour is 20 by both figures, the busiest day-and-hour by speed
 * is Wed 21, by response time Fri 09. A +-1 alternation gives each bucket
 * a spread.
 */
static size_t two_weeks(struct xtel_probe_sample **out)
{
	size_t cap = 14 * 144 * 4, n = 0;
	struct xtel_probe_sample *s = calloc(cap, sizeof(*s));

	assert_non_null(s);
	for (uint64_t t = 0; t < 14 * 86400; t += 600) {
		for (uint32_t d = 1; d <= 4; d++) {
			double noise = ((t / 600 + d) % 2) ? 1 : -1, speed, ttfb;

			xtel_probe_week(t, &speed, &ttfb);
			/* The good hours fall by 1 Mbit/s a day. */
			if (speed == 100)
				speed -= (double)t / 86400;
			s[n++] = ok_sample(T0 + t, d, speed + noise, ttfb + noise, 100);
		}
	}
	*out = s;
	return n;
}

static void test_busiest_hour(void **state)
{
	struct xtel_probe_analysis_cfg cfg;
	struct xtel_probe_analysis a;
	struct xtel_probe_sample *s;
	size_t n = two_weeks(&s);

	(void)state;
	xtel_probe_analysis_cfg_default(&cfg);
	cfg.tz_offset_min = 60;
	assert_int_equal(xtel_probe_analyze(s, n, 0, &cfg, &a), 0);
	assert_int_equal(a.summary.downloads, 14 * 144 * 4);
	assert_int_equal(a.busiest_speed.index, 20);
	assert_int_equal(a.busiest_speed.n, 14 * 6 * 4);
	near(a.busiest_speed.value, 40, 1e-9);
	assert_string_equal(a.busiest_speed.confidence, "high");
	assert_int_equal(a.busiest_ttfb.index, 20);
	near(a.busiest_ttfb.value, 80, 1e-9);
	assert_true(a.weekly);
	assert_int_equal(a.week_speed.index, 3 * 24 + 21);
	assert_int_equal(a.week_speed.n, 2 * 6 * 4);
	near(a.week_speed.value, 30, 1e-9);
	assert_int_equal(a.week_speed.runner_up % 24, 20);
	assert_int_equal(a.week_ttfb.index, 5 * 24 + 9);
	assert_string_equal(xtel_probe_dow_name(a.week_ttfb.index / 24), "Fri");
	assert_int_equal(a.hour[20].n, 14 * 6 * 4);
	near(a.hour[20].speed_sd, 1.0, 0.01);
	/* A device alone: the same hours. */
	xtel_probe_analysis_free(&a);
	assert_int_equal(xtel_probe_analyze(s, n, 3, &cfg, &a), 0);
	assert_int_equal(a.summary.downloads, 14 * 144);
	assert_int_equal(a.busiest_speed.index, 20);
	assert_int_equal(a.week_speed.index, 3 * 24 + 21);
	xtel_probe_analysis_free(&a);
	/* In UTC the planted hour is 19. */
	cfg.tz_offset_min = 0;
	assert_int_equal(xtel_probe_analyze(s, n, 0, &cfg, &a), 0);
	assert_int_equal(a.busiest_speed.index, 19);
	xtel_probe_analysis_free(&a);
	/* Under a week (the first 5 days): no weekly figures. */
	{
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			if (s[i].ts_ns < (T0 + 5 * 86400) * NS)
				s[m++] = s[i];
		n = m;
	}
	assert_int_equal(xtel_probe_analyze(s, n, 0, &cfg, &a), 0);
	assert_false(a.weekly);
	xtel_probe_analysis_free(&a);
	free(s);
}

static void test_trend(void **state)
{
	struct xtel_probe_sample s[10];
	struct xtel_probe_analysis_cfg cfg;
	struct xtel_probe_analysis a;

	(void)state;
	for (int d = 0; d < 10; d++)
		s[d] = ok_sample(T0 + (uint64_t)d * 86400, 1, 100 - 2.0 * d, 5, 50);
	xtel_probe_analysis_cfg_default(&cfg);
	assert_int_equal(xtel_probe_analyze(s, 10, 0, &cfg, &a), 0);
	near(a.trend_mbps_per_day, -2.0, 1e-9);
	near(a.trend_pct_per_day, -2.0 / 91.0 * 100, 1e-9);
	assert_int_equal(a.trend_n, 10);
	xtel_probe_analysis_free(&a);
}

/*
 * One device, a probe a second for 60 s at 40 Mbit/s; 8 Mbit/s from
 * second 20 to 29 with a timeout at 25; a refused connect at 45; a
 * single slow probe at 50.
 */
static void test_episodes(void **state)
{
	struct xtel_probe_sample s[60];
	struct xtel_probe_analysis_cfg cfg;
	struct xtel_probe_analysis a;
	json_t *j;

	(void)state;
	for (int t = 0; t < 60; t++)
		s[t] = ok_sample(T0 + (uint64_t)t, 7, t >= 20 && t < 30 ? 8 : 40, 3, 250);
	s[25].kind = XTEL_PROBE_TIMEOUT;
	s[25].n_ok = 0;
	s[25].v[XTEL_PROBE_M_SPEED] = NAN;
	s[25].v[XTEL_PROBE_M_TOTAL] = 1000;
	s[45].kind = XTEL_PROBE_CONNECT_REFUSED;
	s[45].n_ok = 0;
	s[45].v[XTEL_PROBE_M_SPEED] = NAN;
	s[50].v[XTEL_PROBE_M_SPEED] = 10;
	xtel_probe_analysis_cfg_default(&cfg);
	cfg.min_episode_s = 5;
	cfg.window_s = 10;
	/* Reverse the order: the analysis sorts. */
	for (int i = 0; i < 30; i++) {
		struct xtel_probe_sample x = s[i];

		s[i] = s[59 - i];
		s[59 - i] = x;
	}
	assert_int_equal(xtel_probe_analyze(s, 60, 0, &cfg, &a), 0);
	near(a.summary.speed.p90, 40, 0);
	assert_int_equal(a.n_episodes, 1);
	assert_int_equal(a.episodes[0].device, 7);
	assert_int_equal(a.episodes[0].start_ns, (T0 + 20) * NS);
	assert_int_equal(a.episodes[0].end_ns, (T0 + 29) * NS + 250000000ull);
	assert_int_equal(a.episodes[0].samples, 10);
	assert_int_equal(a.episodes[0].timeouts, 1);
	near(a.episodes[0].mean_mbps, 8, 1e-12);
	near(a.episodes[0].threshold_mbps, 20, 1e-12);
	/* Worst 10 s window: [20, 30), 9 ok at 8 and the timeout. */
	assert_true(a.n_worst >= 2);
	assert_int_equal(a.worst[0].start_ns, (T0 + 20) * NS);
	assert_int_equal(a.worst[0].n, 9);
	assert_int_equal(a.worst[0].failed, 1);
	near(a.worst[0].speed_mean, 8, 1e-12);
	j = xtel_probe_analysis_json(&a);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "episodes")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "hours")), 24);
	assert_true(json_is_null(json_object_get(j, "weekly")));
	json_decref(j);
	xtel_probe_analysis_free(&a);

	/* Without the minimum the single slow probe at 50 is an episode too. */
	cfg.min_episode_s = 0;
	assert_int_equal(xtel_probe_analyze(s, 60, 0, &cfg, &a), 0);
	assert_int_equal(a.n_episodes, 2);
	assert_int_equal(a.episodes[1].start_ns, (T0 + 50) * NS);
	assert_int_equal(a.episodes[1].samples, 1);
	xtel_probe_analysis_free(&a);
	/* Another device's view has none. */
	assert_int_equal(xtel_probe_analyze(s, 60, 8, &cfg, &a), 0);
	assert_int_equal(a.summary.downloads, 0);
	assert_int_equal(a.n_episodes, 0);
	assert_int_equal(a.busiest_speed.index, -1);
	xtel_probe_analysis_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_sample_codec),
		cmocka_unit_test(test_speed),
		cmocka_unit_test(test_weighted_summary),
		cmocka_unit_test(test_busiest_hour),
		cmocka_unit_test(test_trend),
		cmocka_unit_test(test_episodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
