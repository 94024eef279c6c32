// SPDX-License-Identifier: MIT
/*
 * The store library (userspace/store) against real SQLite files in a
 * temporary directory: histogram encoding, sums, differences and merged
 * quantiles (equal to the acct histogram's own over the same samples),
 * the migration runner (fresh file, an added step, two components, a
 * failing step rolled back, a newer version refused and left alone), the
 * writer's rollup arithmetic at every tier (exact deltas, a dropped view,
 * a restart inside a bucket adding up), incremental retention, the
 * queries' merging into steps, and --retain parsing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/db.h"
#include "store/hist.h"
#include "store/query.h"
#include "store/writer.h"
#include "store_synth.h"

static char dir[64];

static int setup_dir(void **state)
{
	strcpy(dir, "/tmp/xtel-test-store.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path(const char *name)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	unlink(buf);
	return buf;
}

static int64_t one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* ---- histograms ---- */

static size_t enc(const struct xtel_latency *h, uint8_t *buf)
{
	return xtel_latency_encode(h, buf);
}

static void test_hist_add_sub_quantiles(void **state)
{
	struct xtel_latency a, b, ab;
	static uint8_t ea[30000], eb[30000], es[60000], ed[60000], ee[30000];
	struct xtel_hist_acc acc;
	long ns, nd;
	int lo, hi;
	uint64_t cnt;

	xtel_latency_init(&a);
	xtel_latency_init(&b);
	xtel_latency_init(&ab);
	for (int i = 0; i < 5000; i++) {
		int64_t x = 50 + (int64_t)i * 37, y = 100000 + (int64_t)i * i;

		xtel_latency_record(&a, x);
		xtel_latency_record(&ab, x);
		xtel_latency_record(&b, y);
		xtel_latency_record(&ab, y);
	}
	xtel_latency_record(&b, (int64_t)XTEL_LAT_OVERFLOW_NS + 5);	/* overflow */
	xtel_latency_record(&ab, (int64_t)XTEL_LAT_OVERFLOW_NS + 5);
	size_t na = enc(&a, ea), nb = enc(&b, eb);

	assert_true(na <= xtel_latency_encoded_max(&a));
	ns = xtel_hist_add(ea, na, eb, nb, es);
	assert_true(ns > 0);
	assert_int_equal((size_t)ns, enc(&ab, ee));
	assert_memory_equal(es, ee, (size_t)ns);
	/* (a + b) - b = a, with the slots and count of a */
	nd = xtel_hist_sub(es, (size_t)ns, eb, nb, ed, &lo, &hi, &cnt);
	assert_int_equal((size_t)nd, na);
	assert_memory_equal(ed, ea, na);
	assert_int_equal(cnt, 5000);
	assert_int_equal(lo, (int)xtel_latency_bucket(50));
	assert_int_equal(hi, (int)xtel_latency_bucket(50 + 4999 * 37));
	/* a bucket of b over a's is clamped: b - (a + b) is empty */
	nd = xtel_hist_sub(eb, nb, es, (size_t)ns, ed, &lo, &hi, &cnt);
	assert_int_equal(nd, 0);
	assert_int_equal(lo, -1);
	/* merged from two rows, the quantiles are those of all samples */
	xtel_hist_acc_init(&acc);
	assert_int_equal(xtel_hist_acc_add(&acc, ea, na, a.count, a.sum, a.min,
					   a.max), 0);
	assert_int_equal(xtel_hist_acc_add(&acc, eb, nb, b.count, b.sum, b.min,
					   b.max), 0);
	assert_int_equal(acc.count, ab.count);
	assert_int_equal(acc.sum, ab.sum);
	for (double q = 0.01; q <= 1.0; q += 0.01)
		assert_int_equal(xtel_hist_acc_quantile(&acc, q),
				 xtel_latency_quantile(&ab, q));
	assert_int_equal(xtel_hist_acc_quantile(&acc, 1.0), ab.max);
	/* the accumulator's encoding is the histogram's */
	assert_int_equal(xtel_hist_acc_encode(&acc, ed), (size_t)ns);
	assert_memory_equal(ed, es, (size_t)ns);
	/* reset clears what was touched: empty, and reusable */
	xtel_hist_acc_reset(&acc);
	assert_int_equal(xtel_hist_acc_encode(&acc, ed), 0);
	assert_int_equal(xtel_hist_acc_quantile(&acc, 0.5), 0);
	assert_int_equal(xtel_hist_acc_add(&acc, eb, nb, b.count, b.sum, b.min,
					   b.max), 0);
	assert_int_equal(xtel_hist_acc_quantile(&acc, 0.5),
			 xtel_latency_quantile(&b, 0.5));
	/* malformed: a truncated varint adds nothing */
	assert_int_equal(xtel_hist_acc_add(&acc, (const uint8_t *)"\x80", 1, 1,
					   1, 1, 1), -EINVAL);
	assert_int_equal(acc.count, b.count);
	assert_true(xtel_hist_add((const uint8_t *)"\xff\x7f\x01", 3, ea, na,
				  es) < 0);
	xtel_latency_destroy(&a);
	xtel_latency_destroy(&b);
	xtel_latency_destroy(&ab);
}

static void test_hist_bounds(void **state)
{
	uint64_t mn, mx;
	unsigned int i = xtel_latency_bucket(208000);

	/* within the run's extremes: the buckets' ends */
	xtel_hist_bounds((int)i, (int)i, 1000, 900000, &mn, &mx);
	assert_int_equal(mn, xtel_latency_bucket_lower(i));
	assert_int_equal(mx, xtel_latency_bucket_upper(i));
	assert_true(mn <= 208000 && 208000 <= mx);
	/* the run's own extremes are exact */
	xtel_hist_bounds((int)i, (int)i, 208000, 208000, &mn, &mx);
	assert_int_equal(mn, 208000);
	assert_int_equal(mx, 208000);
}

/* ---- migrations ---- */

static const char *const steps2[] = {
	"CREATE TABLE t1 (a INTEGER NOT NULL) STRICT",
	"ALTER TABLE t1 ADD COLUMN b TEXT",
};

static void test_migrations(void **state)
{
	const char *p = path("mig.db");
	struct xtel_db_component c1 = { "comp", steps2, 1 };
	struct xtel_db_component c2 = { "comp", steps2, 2 };
	static const char *const bad_steps[] = {
		"CREATE TABLE t2 (a INTEGER NOT NULL) STRICT",
		"CREATE TABLE t2 (x)",		/* fails: t2 exists */
	};
	struct xtel_db_component bad = { "other", bad_steps, 2 };
	sqlite3 *db;
	int v;

	assert_int_equal(xtel_db_open(p, 0, "test", &db), 0);
	assert_int_equal(one(db, "PRAGMA journal_mode") >= 0, 1);
	assert_int_equal(xtel_db_migrate(db, &c1, "test"), 0);
	assert_int_equal(xtel_db_version(db, "comp", &v), 0);
	assert_int_equal(v, 1);
	/* idempotent, then one more step */
	assert_int_equal(xtel_db_migrate(db, &c1, "test"), 0);
	assert_int_equal(xtel_db_migrate(db, &c2, "test"), 0);
	assert_int_equal(xtel_db_version(db, "comp", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(one(db, "SELECT count(*) FROM pragma_table_info('t1') "
			     "WHERE name = 'b'"), 1);
	/* a failing step is rolled back: step 1 stays done, step 2 not */
	assert_int_equal(xtel_db_migrate(db, &bad, "test"), -EIO);
	assert_int_equal(xtel_db_version(db, "other", &v), 0);
	assert_int_equal(v, 1);
	/* the history coexists with another component in the file */
	assert_int_equal(xtel_db_migrate(db, &xtel_store_schema, "test"), 0);
	assert_int_equal(xtel_db_version(db, "history", &v), 0);
	assert_int_equal(v, (int)xtel_store_schema.n_steps);
	assert_int_equal(one(db, "SELECT count(*) FROM xtel_schema"), 3);
	/* newer than known: refused, nothing changed */
	assert_int_equal(xtel_db_migrate(db, &c1, "test"), -EPROTONOSUPPORT);
	assert_int_equal(xtel_db_version(db, "comp", &v), 0);
	assert_int_equal(v, 2);
	sqlite3_close(db);
	/* a reader opens it read-only and refuses a missing file */
	assert_int_equal(xtel_store_reader_open(p, &db), 0);
	sqlite3_close(db);
	assert_int_equal(xtel_store_reader_open(path("none.db"), &db), -ENOENT);
	/* not a database */
	{
		char tp[128];
		FILE *f;

		snprintf(tp, sizeof(tp), "%s/text.db", dir);
		f = fopen(tp, "w");
		assert_non_null(f);
		fputs("this is not an SQLite file, not at all, not even close\n", f);
		fclose(f);
		assert_int_equal(xtel_db_open(tp, 0, "test", &db), -EBADMSG);
	}
}

/* ---- the writer ---- */

static struct xtel_store *open_store(const char *p, uint64_t retain_10s)
{
	struct xtel_store_cfg cfg = { .path = p };
	struct xtel_store *w;

	cfg.retain_s[XTEL_TIER_10S] = retain_10s;
	for (unsigned int t = 0; t < XTEL_TIER_N; t++)
		if (!cfg.retain_s[t])
			cfg.retain_s[t] = 36500ull * 86400;
	assert_int_equal(xtel_store_open(&cfg, &w), 0);
	return w;
}

enum { T0 = 1796083200 };	/* 2026-12-01T00:00:00Z, a multiple of 3600 */

/* n views of 1 s from T0 + start + 0.5 with step st; skip: not written. */
static void feed(struct xtel_store *w, struct xtel_synth *s, unsigned int n,
		 const struct xtel_synth_step *st, int skip)
{
	for (unsigned int v = 0; v < n; v++) {
		struct xtel_store_frame f;

		assert_int_equal(xtel_synth_frame(s, st, &f), 0);
		if ((int)v == skip)
			f.release(f.arg);	/* as a full queue drops it */
		else
			xtel_store_process(w, &f);
	}
}

static void test_rollups(void **state)
{
	const char *p = path("roll.db");
	struct xtel_store *w = open_store(p, 0);
	struct xtel_synth s;
	struct xtel_synth_step st = {
		.received = 7, .bytes = 700, .lost = 1, .duplicates = 2,
		.reordered = 1, .lat_ns = 1000, .lat_step_ns = 100,
		.temp_count = 3, .temp_add = 0.5,
	};
	struct xtel_store_stats ss;
	sqlite3 *db;

	assert_int_equal(xtel_synth_init(&s, 3, 10, (uint64_t)T0 * 1000000000ull +
					 500000000ull, 1.0), 0);
	/* 125 views: 12 complete 10 s buckets, 2 minutes and a bit; view 33
	 * dropped (its counters come with the next, its samples do not) */
	feed(w, &s, 125, &st, 33);
	xtel_store_flush(w);
	xtel_store_get_stats(w, &ss);
	assert_int_equal(ss.c[XTEL_STORE_STAT_VIEWS_WRITTEN], 124);
	assert_int_equal(ss.c[XTEL_STORE_STAT_ROWS_DROPPED], 0);
	assert_int_equal(xtel_store_stop(w), 0);
	xtel_store_free(w);

	assert_int_equal(xtel_db_open(p, XTEL_DB_READONLY, "test", &db), 0);
	/* every tier sums to the whole run, per client and for the fleet */
	assert_int_equal(one(db, "SELECT sum(received) FROM acct_10s WHERE client = 11"), 125 * 7);
	assert_int_equal(one(db, "SELECT sum(received) FROM acct_1m WHERE client = 11"), 125 * 7);
	assert_int_equal(one(db, "SELECT sum(lost) FROM acct_1h WHERE client = 12"), 125);
	assert_int_equal(one(db, "SELECT sum(duplicates) FROM acct_1m WHERE client = 10"), 250);
	assert_int_equal(one(db, "SELECT sum(lat_count) FROM acct_10s WHERE client = 10"), 125 * 5);
	assert_int_equal(one(db, "SELECT sum(received) FROM totals_1s"), 3 * 125 * 7);
	assert_int_equal(one(db, "SELECT sum(bytes) FROM totals_1h"), 3 * 125 * 700);
	/* the rows: 13 buckets of 10 s (the last partial), 3 of 1 min, 1 h */
	assert_int_equal(one(db, "SELECT count(*) FROM acct_10s WHERE client = 10"), 13);
	assert_int_equal(one(db, "SELECT count(*) FROM acct_1m WHERE client = 10"), 3);
	assert_int_equal(one(db, "SELECT count(*) FROM acct_1h"), 3);
	assert_int_equal(one(db, "SELECT received FROM acct_10s WHERE client = 10 "
			     "AND ts = 1796083210"), 70);
	/* the bucket of the dropped view 33 and the next: 10 views of counters */
	assert_int_equal(one(db, "SELECT received FROM acct_10s WHERE client = 10 "
			     "AND ts = 1796083230"), 70);
	/* ... but only 9 views of metric samples */
	assert_int_equal(one(db, "SELECT count FROM metric_10s WHERE client = 10 "
			     "AND ts = 1796083230"), 27);
	assert_int_equal(one(db, "SELECT count FROM metric_10s WHERE client = 10 "
			     "AND ts = 1796083220"), 30);
	assert_int_equal(one(db, "SELECT sum(count) FROM metric_1h WHERE client = 11"), 124 * 3);
	assert_int_equal(one(db, "SELECT count(*) FROM totals_1s"), 124);
	/* dt from the views' times: the dropped view's second is covered */
	assert_int_equal(one(db, "SELECT sum(dt_ms) FROM totals_1m"), 125 * 1000);
	assert_int_equal(one(db, "SELECT count(*) FROM metric_names"), 1);
	/* latency bounds of a 10 s row: 1000..1400 ns are exact buckets */
	assert_int_equal(one(db, "SELECT lat_min FROM acct_10s WHERE client = 10 "
			     "AND ts = 1796083220"), 1000);
	assert_int_equal(one(db, "SELECT lat_max FROM acct_10s WHERE client = 10 "
			     "AND ts = 1796083220"), 1400);
	sqlite3_close(db);

	/* a restart inside the last bucket: the rows of both runs add up */
	w = open_store(p, 0);
	xtel_synth_fini(&s);
	assert_int_equal(xtel_synth_init(&s, 3, 10, (uint64_t)(T0 + 125) * 1000000000ull +
					 700000000ull, 1.0), 0);
	feed(w, &s, 3, &st, -1);
	xtel_store_flush(w);
	assert_int_equal(xtel_store_stop(w), 0);
	xtel_store_free(w);
	assert_int_equal(xtel_db_open(p, XTEL_DB_READONLY, "test", &db), 0);
	assert_int_equal(one(db, "SELECT received FROM acct_10s WHERE client = 10 "
			     "AND ts = 1796083320"), 8 * 7);
	assert_int_equal(one(db, "SELECT lat_count FROM acct_10s WHERE client = 10 "
			     "AND ts = 1796083320"), 8 * 5);
	assert_int_equal(one(db, "SELECT sum(received) FROM acct_1h WHERE client = 10"), 128 * 7);
	assert_int_equal(one(db, "SELECT count(*) FROM acct_1h WHERE client = 10"), 1);
	sqlite3_close(db);
	xtel_synth_fini(&s);
}

struct pts {
	unsigned int n;
	struct xtel_store_point p[64];
};

static int collect(void *arg, const struct xtel_store_point *p)
{
	struct pts *c = arg;

	if (c->n < 64)
		c->p[c->n++] = *p;
	return 0;
}

/*
 * A crash: the writer freed without a stop keeps only what it committed.
 * Reopening folds the finer rows past each coarser tier's last bucket
 * into it, so every tier sums to the same again; a second open changes
 * nothing.
 */
static void test_recovery(void **state)
{
	const char *p = path("crash.db");
	struct xtel_store *w = open_store(p, 0);
	struct xtel_synth s;
	struct xtel_synth_step st = {
		.received = 3, .lat_ns = 5000, .lat_step_ns = 10, .temp_count = 2,
	};
	int64_t r10, r1m, r1h, t1s, t10, t1m, t1h;
	sqlite3 *db;

	/* 200 views from 00:59:00.5: the 1 h bucket of 00:00 closes at
	 * 01:00, then 2 min and 20 s more; the crash loses the running
	 * 10 s bucket (0.5 s after 01:02:20: nothing), minute and hour */
	assert_int_equal(xtel_synth_init(&s, 2, 1, (uint64_t)(T0 + 3540) *
					 1000000000ull + 500000000ull, 1.0), 0);
	feed(w, &s, 200, &st, -1);
	xtel_store_free(w);	/* not started, not stopped: a crash */

	assert_int_equal(xtel_db_open(p, XTEL_DB_READONLY, "test", &db), 0);
	assert_int_equal(one(db, "SELECT sum(received) FROM acct_10s WHERE client = 1"), 3 * 190);
	/* 00:59, 01:00, 01:01 closed; the hour of 00:00 holds 00:59 */
	assert_int_equal(one(db, "SELECT sum(received) FROM acct_1m WHERE client = 1"), 3 * 180);
	assert_int_equal(one(db, "SELECT sum(received) FROM acct_1h WHERE client = 1"), 3 * 60);
	sqlite3_close(db);

	for (int k = 0; k < 2; k++) {
		w = open_store(p, 0);	/* recovers (k 0), then nothing (k 1) */
		xtel_store_free(w);
		assert_int_equal(xtel_db_open(p, XTEL_DB_READONLY, "test", &db), 0);
		r10 = one(db, "SELECT sum(received) FROM acct_10s WHERE client = 2");
		r1m = one(db, "SELECT sum(received) FROM acct_1m WHERE client = 2");
		r1h = one(db, "SELECT sum(received) FROM acct_1h WHERE client = 2");
		assert_int_equal(r10, 3 * 190);
		assert_int_equal(r1m, 3 * 190);
		assert_int_equal(r1h, 3 * 190);
		assert_int_equal(one(db, "SELECT sum(lat_count) FROM acct_1h"), 2 * 3 * 190);
		assert_int_equal(one(db, "SELECT count(*) FROM acct_1h WHERE client = 2"), 2);
		assert_int_equal(one(db, "SELECT sum(count) FROM metric_1h WHERE client = 2"), 2 * 190);
		assert_int_equal(one(db, "SELECT sum(count) FROM metric_1m WHERE client = 1"), 2 * 190);
		/* the fleet from its 1 s rows: every view committed but the last */
		t1s = one(db, "SELECT sum(received) FROM totals_1s");
		t10 = one(db, "SELECT sum(received) FROM totals_10s");
		t1m = one(db, "SELECT sum(received) FROM totals_1m");
		t1h = one(db, "SELECT sum(received) FROM totals_1h");
		assert_int_equal(t1s, 2 * 3 * 199);
		assert_int_equal(t10, t1s);
		assert_int_equal(t1m, t1s);
		assert_int_equal(t1h, t1s);
		assert_int_equal(one(db, "SELECT sum(dt_ms) FROM totals_1h"), 199 * 1000);
		/* merged histograms: the 1 h row's counts are its samples' */
		assert_int_equal(one(db, "SELECT length(lat_hist) > 0 FROM acct_1h "
				     "WHERE client = 1 AND ts = 1796086800"), 1);
		sqlite3_close(db);
	}
	/* the recovered histogram reads back: p50 of 01:00-01:03 */
	{
		struct xtel_store_query q = { .kind = XTEL_SERIES_CLIENT,
			.client_id = 1, .from = T0 + 3600, .to = T0 + 7200,
			.step = 3600 };
		struct pts c = { 0 };

		assert_int_equal(xtel_store_reader_open(p, &db), 0);
		assert_int_equal(xtel_store_query(db, &q, collect, &c), 0);
		assert_int_equal(c.n, 1);
		struct xtel_latency h;

		xtel_latency_init(&h);
		for (int k = 0; k < 3; k++)
			xtel_latency_record(&h, 5000 + 10 * k);
		assert_int_equal(c.p[0].lat_count, 3 * 130);
		assert_int_equal(c.p[0].lat_p50, xtel_latency_quantile(&h, 0.5));
		assert_int_equal(c.p[0].lat_max, 5020);
		xtel_latency_destroy(&h);
		sqlite3_close(db);
	}
	xtel_synth_fini(&s);
}

/* A full queue drops frames, counts them and releases their views. */
static void test_queue_overflow(void **state)
{
	const char *p = path("queue.db");
	struct xtel_store_cfg cfg = { .path = p, .queue_len = 2 };
	struct xtel_synth_step st = { .received = 4, .temp_count = 3 };
	struct xtel_store_stats ss;
	struct xtel_store *w;
	struct xtel_synth s;
	sqlite3 *db;
	int queued = 0;

	assert_int_equal(xtel_store_open(&cfg, &w), 0);
	assert_int_equal(xtel_synth_init(&s, 5, 1, (uint64_t)T0 * 1000000000ull +
					 500000000ull, 1.0), 0);
	for (int v = 0; v < 6; v++) {
		struct xtel_store_frame f;

		assert_int_equal(xtel_synth_frame(&s, &st, &f), 0);
		queued += xtel_store_push(w, &f, false);
	}
	assert_int_equal(queued, 2);
	xtel_store_get_stats(w, &ss);
	assert_int_equal(ss.c[XTEL_STORE_STAT_VIEWS_QUEUED], 2);
	assert_int_equal(ss.c[XTEL_STORE_STAT_VIEWS_DROPPED], 4);
	assert_int_equal(ss.c[XTEL_STORE_STAT_SAMPLES_DROPPED], 4 * 5 * 3);
	assert_int_equal(ss.queue_depth, 2);
	assert_int_equal(ss.queue_capacity, 2);
	assert_int_equal(xtel_store_start(w), 0);
	assert_int_equal(xtel_store_stop(w), 0);
	xtel_store_get_stats(w, &ss);
	assert_int_equal(ss.c[XTEL_STORE_STAT_VIEWS_WRITTEN], 2);
	assert_int_equal(ss.queue_depth, 0);
	xtel_store_free(w);
	/* the second queued view's counters hold the first 2 views' data */
	assert_int_equal(xtel_db_open(p, XTEL_DB_READONLY, "test", &db), 0);
	assert_int_equal(one(db, "SELECT sum(received) FROM acct_10s"), 5 * 2 * 4);
	sqlite3_close(db);
	xtel_synth_fini(&s);
}

/* ---- queries ---- */

static void test_queries(void **state)
{
	const char *p = path("query.db");
	struct xtel_store *w = open_store(p, 0);
	struct xtel_synth s;
	struct xtel_synth_step st = {
		.received = 10, .lat_ns = 100000, .lat_step_ns = 1000,
		.temp_count = 2,
	};
	struct xtel_latency all;
	struct xtel_store_query q = {
		.kind = XTEL_SERIES_CLIENT, .client_id = 5,
		.from = T0, .to = T0 + 60, .step = 30,
	};
	struct pts c = { 0 };
	sqlite3 *db;

	assert_int_equal(xtel_store_tier_for(XTEL_SERIES_CLIENT, 30), XTEL_TIER_10S);
	assert_int_equal(xtel_store_tier_for(XTEL_SERIES_CLIENT, 120), XTEL_TIER_1M);
	assert_int_equal(xtel_store_tier_for(XTEL_SERIES_CLIENT, 7200), XTEL_TIER_1H);
	assert_int_equal(xtel_store_tier_for(XTEL_SERIES_CLIENT, 5), -1);
	assert_int_equal(xtel_store_tier_for(XTEL_SERIES_TOTALS, 5), XTEL_TIER_1S);
	assert_int_equal(xtel_store_tier_for(XTEL_SERIES_TOTALS, 90), XTEL_TIER_10S);
	assert_int_equal(xtel_synth_init(&s, 1, 5, (uint64_t)T0 * 1000000000ull +
					 500000000ull, 1.0), 0);
	xtel_latency_init(&all);
	for (unsigned int v = 0; v < 60; v++) {
		struct xtel_store_frame f;

		st.lat_ns = 100000 + v * 5000;	/* every view a little slower */
		for (unsigned int k = 0; k < 10; k++)
			if (v < 30)
				xtel_latency_record(&all, (int64_t)(st.lat_ns +
						    k * st.lat_step_ns));
		assert_int_equal(xtel_synth_frame(&s, &st, &f), 0);
		xtel_store_process(w, &f);
	}
	xtel_store_flush(w);
	xtel_store_stop(w);
	xtel_store_free(w);
	assert_int_equal(xtel_store_reader_open(p, &db), 0);
	/* 3 rows of 10 s per 30 s point; p50/p99 of the merged buckets */
	assert_int_equal(xtel_store_query(db, &q, collect, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.p[0].ts, T0);
	assert_int_equal(c.p[0].rows, 3);
	assert_int_equal(c.p[0].c[XTEL_STORE_RECEIVED], 300);
	assert_int_equal(c.p[0].lat_count, 300);
	assert_int_equal(c.p[0].lat_p50, xtel_latency_quantile(&all, 0.5));
	assert_int_equal(c.p[0].lat_p99, xtel_latency_quantile(&all, 0.99));
	assert_int_equal(c.p[0].lat_max, all.max);
	assert_int_equal(c.p[1].ts, T0 + 30);
	/* a from inside a 1 min bucket still reads it (overlap) */
	c.n = 0;
	q.step = 60;
	q.from = T0 + 30;
	assert_int_equal(xtel_store_query(db, &q, collect, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.p[0].ts, T0);
	assert_int_equal(c.p[0].c[XTEL_STORE_RECEIVED], 600);
	/* a metric, and one never stored */
	c.n = 0;
	q.kind = XTEL_SERIES_METRIC;
	q.metric = "temp";
	q.from = T0;
	q.step = 20;
	assert_int_equal(xtel_store_query(db, &q, collect, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.p[0].m_count, 40);
	assert_true(c.p[0].m_min == 5.0 && c.p[0].m_max == 5.0);
	q.metric = "nope";
	assert_int_equal(xtel_store_query(db, &q, collect, &c), -ENOENT);
	/* the fleet, at 1 s */
	c.n = 0;
	q = (struct xtel_store_query){ .kind = XTEL_SERIES_TOTALS,
		.from = T0 + 10, .to = T0 + 15, .step = 1 };
	assert_int_equal(xtel_store_query(db, &q, collect, &c), 0);
	assert_int_equal(c.n, 5);
	assert_int_equal(c.p[4].ts, T0 + 14);
	assert_int_equal(c.p[4].dt_ms, 1000);
	assert_int_equal(c.p[4].gauges[XTEL_STORE_G_CLIENTS], 1);
	sqlite3_close(db);
	xtel_latency_destroy(&all);
	xtel_synth_fini(&s);
}

/* ---- retention ---- */

static void test_retention(void **state)
{
	const char *p = path("retain.db");
	struct xtel_store *w = open_store(p, 60);	/* 10 s rows: a minute */
	struct xtel_synth s;
	struct xtel_synth_step st = { .received = 1, .temp_count = 1 };
	struct xtel_store_stats ss;
	sqlite3 *db;

	/* 400 clients: more than one view's slice of 64 + n/256 visits */
	assert_int_equal(xtel_synth_init(&s, 400, 1, (uint64_t)T0 * 1000000000ull +
					 500000000ull, 1.0), 0);
	feed(w, &s, 300, &st, -1);
	xtel_store_get_stats(w, &ss);
	assert_true(ss.c[XTEL_STORE_STAT_RETAIN_DELETED] > 0);
	xtel_store_flush(w);
	xtel_store_stop(w);
	xtel_store_free(w);
	assert_int_equal(xtel_db_open(p, XTEL_DB_READONLY, "test", &db), 0);
	/* nothing older than a minute (and a sweep) is left at 10 s */
	assert_true(one(db, "SELECT min(ts) FROM acct_10s") >= T0 + 300 - 60 - 30);
	assert_true(one(db, "SELECT min(ts) FROM metric_10s") >= T0 + 300 - 60 - 30);
	/* the other tiers keep everything */
	assert_int_equal(one(db, "SELECT sum(received) FROM acct_1m"), 400 * 300);
	assert_int_equal(one(db, "SELECT count(*) FROM totals_1s"), 300);
	sqlite3_close(db);
	xtel_synth_fini(&s);
}

static void test_parse_retain(void **state)
{
	uint64_t r[XTEL_TIER_N] = { 0 };

	assert_int_equal(xtel_store_parse_retain("10s=2d,1m=30d,1h=400d", r), 0);
	assert_int_equal(r[XTEL_TIER_10S], 2 * 86400);
	assert_int_equal(r[XTEL_TIER_1M], 30 * 86400);
	assert_int_equal(r[XTEL_TIER_1H], 400 * 86400);
	assert_int_equal(xtel_store_parse_retain("1s=90m", r), 0);
	assert_int_equal(r[XTEL_TIER_1S], 5400);
	assert_int_equal(xtel_store_parse_retain("10s=5s", r), -EINVAL);
	assert_int_equal(xtel_store_parse_retain("2m=1d", r), -EINVAL);
	assert_int_equal(xtel_store_parse_retain("10s=1x", r), -EINVAL);
	assert_int_equal(xtel_store_parse_retain("10s=1d,", r), -EINVAL);
	assert_int_equal(xtel_store_parse_retain("", r), -EINVAL);
	assert_int_equal(xtel_store_parse_retain("10s", r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_add_sub_quantiles),
		cmocka_unit_test(test_hist_bounds),
		cmocka_unit_test(test_migrations),
		cmocka_unit_test(test_rollups),
		cmocka_unit_test(test_recovery),
		cmocka_unit_test(test_queue_overflow),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_retention),
		cmocka_unit_test(test_parse_retain),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
