// SPDX-License-Identifier: MIT
/*
 * The probe analysis over the stored history (userspace/probe/history.c),
 * written through the store's own writer (tests/lib/store_synth): two
 * weeks of views of four probing devices with a planted pattern, a probe
 * result every 10 minutes each. Local time UTC+1; speed 100 Mbit/s,
 * except 40 at 20h every day and 30 on Wednesdays at 21h; ttfb 20 ms,
 * except 80 at 20h and 200 on Fridays at 09h; device 2 congested (10
 * Mbit/s) for three hours from hour 50, one of its downloads there a
 * timeout. Read back, the analysis names the planted hours and days and
 * finds device 2's episode (below 0.2 of the baseline: the evening hours
 * are below half of it too); from the 1h tier (six downloads a bucket,
 * weighted) it names the same hours, and the episode's buckets.
 *
 * usage: test_probe_history [KEEP.db]: with a path, the history is written
 * there and kept (docs/PROBES.md's example report is made from it).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "probe/analysis.h"
#include "probe/history.h"
#include "store/query.h"
#include "store/writer.h"
#include "probe_week.h"
#include "store_synth.h"

#define NS 1000000000ull
#define T0 1793491200ull	/* 2026-11-01 00:00:00 UTC, a Sunday */
#define DAYS 14
#define DT 600

static char dir[] = "/tmp/xtel-probe-history.XXXXXX";
static char db_path[4096];
static const char *keep;

static void put(struct xtel_metric_snap *m, const char *key, double v)
{
	memset(m, 0, sizeof(*m));
	m->key = key;
	m->count = 1;
	m->min = m->max = m->mean = m->last = v;
}

/* The planted pattern of device id's result in the view taken at t_ns. */
static unsigned int pattern(void *arg, uint32_t id, uint64_t t_ns,
			    struct xtel_metric_snap *out, unsigned int max)
{
	uint64_t t = t_ns / NS - T0;
	unsigned int n = 0;
	double speed, ttfb;

	(void)arg;
	(void)max;
	xtel_probe_week(t, &speed, &ttfb);
	if (id == 2 && t >= 50 * 3600 && t < 53 * 3600) {
		speed = 10;
		if (t / DT == (51 * 3600 + 1800) / DT) {	/* the timeout */
			put(&out[n++], "probe_ok", 0);
			put(&out[n++], "probe_kind", XTEL_PROBE_TIMEOUT);
			put(&out[n++], "probe_total_ms", 30000);
			return n;
		}
	}
	put(&out[n++], "probe_ok", 1);
	put(&out[n++], "probe_kind", XTEL_PROBE_OK);
	put(&out[n++], "probe_speed_mbps", speed + ((t / DT + id) % 2 ? 1 : -1));
	put(&out[n++], "probe_ttfb_ms", ttfb);
	put(&out[n++], "probe_total_ms", 100);
	put(&out[n++], "temp", 21.5);	/* not a probe metric: left out */
	return n;
}

static int setup(void **state)
{
	struct xtel_store_cfg cfg = { 0 };
	struct xtel_synth_step st = { .metrics = pattern };
	struct xtel_synth syn;
	struct xtel_store *w;

	(void)state;
	if (keep)
		snprintf(db_path, sizeof(db_path), "%s", keep);
	else if (!mkdtemp(dir))
		return -1;
	else
		snprintf(db_path, sizeof(db_path), "%s/history.db", dir);
	cfg.path = db_path;
	if (xtel_store_open(&cfg, &w))
		return -1;
	/* Views in the middle of each 10-minute slot: no bucket edge is close. */
	if (xtel_synth_init(&syn, 4, 1, (T0 + DT / 2) * NS, DT))
		return -1;
	for (unsigned int k = 0; k < DAYS * 86400 / DT; k++) {
		struct xtel_store_frame f;

		if (xtel_synth_frame(&syn, &st, &f))
			return -1;
		xtel_store_process(w, &f);
	}
	xtel_store_flush(w);
	xtel_store_free(w);
	xtel_synth_fini(&syn);
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	if (keep)
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void read_all(int tier, struct xtel_probe_samples *v)
{
	sqlite3 *db;

	assert_int_equal(xtel_store_reader_open(db_path, &db), 0);
	memset(v, 0, sizeof(*v));
	assert_int_equal(xtel_probe_history_read(db, 0, INT64_MAX, 0, tier, v), 0);
	sqlite3_close(db);
}

static void test_fine(void **state)
{
	struct xtel_probe_analysis_cfg cfg;
	struct xtel_probe_analysis a;
	struct xtel_probe_samples v;

	(void)state;
	read_all(-1, &v);
	/* One bucket per view of each device, from a tier that holds them all. */
	assert_true(v.tier == XTEL_TIER_10S || v.tier == XTEL_TIER_1M);
	assert_int_equal(v.n, 4 * DAYS * 86400 / DT);
	assert_int_equal(v.skipped, 0);
	xtel_probe_analysis_cfg_default(&cfg);
	cfg.tz_offset_min = 60;
	/* The evening hours (40 and 30 of 100) are below half the baseline too. */
	cfg.congested_frac = 0.2;
	cfg.min_episode_s = 3600;
	assert_int_equal(xtel_probe_analyze(v.s, v.n, 0, &cfg, &a), 0);
	assert_int_equal(a.summary.downloads, 4 * DAYS * 144);
	assert_int_equal(a.summary.failed, 1);
	assert_int_equal(a.summary.kinds[XTEL_PROBE_TIMEOUT], 1);
	assert_int_equal(a.busiest_speed.index, 20);
	assert_int_equal(a.busiest_ttfb.index, 20);
	assert_string_equal(a.busiest_speed.confidence, "high");
	assert_true(a.weekly);
	assert_int_equal(a.week_speed.index, 3 * 24 + 21);
	assert_int_equal(a.week_ttfb.index, 5 * 24 + 9);
	assert_int_equal(a.n_episodes, 1);
	assert_int_equal(a.episodes[0].device, 2);
	assert_int_equal(a.episodes[0].start_ns, (T0 + 50 * 3600 + DT / 2) * NS);
	assert_int_equal(a.episodes[0].samples, 3 * 6);
	assert_int_equal(a.episodes[0].timeouts, 1);
	xtel_probe_analysis_free(&a);
	xtel_probe_samples_free(&v);
}

static void test_hourly(void **state)
{
	struct xtel_probe_analysis_cfg cfg;
	struct xtel_probe_analysis a;
	struct xtel_probe_samples v;
	size_t timeout_buckets = 0;

	(void)state;
	read_all(XTEL_TIER_1H, &v);
	assert_int_equal(v.tier, XTEL_TIER_1H);
	assert_int_equal(v.n, 4 * DAYS * 24);
	for (size_t i = 0; i < v.n; i++) {
		assert_int_equal(v.s[i].n, 6);
		timeout_buckets += v.s[i].kind == XTEL_PROBE_TIMEOUT;
	}
	/* Five ok downloads and the timeout: the bucket's failure is known. */
	assert_int_equal(timeout_buckets, 1);
	xtel_probe_analysis_cfg_default(&cfg);
	cfg.tz_offset_min = 60;
	cfg.congested_frac = 0.2;
	assert_int_equal(xtel_probe_analyze(v.s, v.n, 0, &cfg, &a), 0);
	assert_int_equal(a.summary.downloads, 4 * DAYS * 144);
	assert_int_equal(a.summary.ok, 4 * DAYS * 144 - 1);
	assert_int_equal(a.busiest_speed.index, 20);
	assert_int_equal(a.busiest_speed.n, 4 * DAYS * 6);
	assert_int_equal(a.week_speed.index, 3 * 24 + 21);
	assert_int_equal(a.n_episodes, 1);
	assert_int_equal(a.episodes[0].start_ns, (T0 + 50 * 3600) * NS);
	assert_int_equal(a.episodes[0].samples, 3);
	xtel_probe_analysis_free(&a);
	/* One device, one range: that device's buckets only. */
	xtel_probe_samples_free(&v);
	{
		sqlite3 *db;

		assert_int_equal(xtel_store_reader_open(db_path, &db), 0);
		memset(&v, 0, sizeof(v));
		assert_int_equal(xtel_probe_history_read(db, T0 + 50 * 3600, T0 + 53 * 3600,
							 2, XTEL_TIER_1H, &v), 0);
		assert_int_equal(v.n, 3);
		v.max = 3;
		assert_int_equal(xtel_probe_history_read(db, 0, INT64_MAX, 2,
							 XTEL_TIER_1H, &v), -E2BIG);
		sqlite3_close(db);
	}
	xtel_probe_samples_free(&v);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fine),
		cmocka_unit_test(test_hourly),
	};

	if (argc > 1)
		keep = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
