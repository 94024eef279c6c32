// SPDX-License-Identifier: MIT
/*
 * bench_store: the history store's figures (docs/STORAGE.md), runnable
 * alone, printing one JSON object per measurement on stdout.
 *
 *   bench_store writer DIR CLIENTS VIEWS
 *       synthetic 1 s views of CLIENTS clients (1 metric key each, 20
 *       datagrams and latency samples per view) pushed through the writer's
 *       queue and thread, the same path as the collector's views: rows/s
 *       and the writer thread's CPU per second of views at the 10 s tier,
 *       and the file's bytes per client per day (from dbstat's page counts
 *       per table and the rows each tier gets in a day).
 *   bench_store query DIR
 *       pre-fills two files through the writer (24 h of 200 clients at 10 s
 *       views; 30 days of the fleet at 60 s views), then times the
 *       history queries (store/query.c, what /api/v1/history runs): one
 *       client over 24 h at steps 300 and 3600, fleet totals over 30 days
 *       at steps 3600 and 600.
 *
 *   bench_store recover DIR CLIENTS
 *       the open after a crash, which rebuilds the coarser tiers from the
 *       finer rows, timed (and the next open, with nothing to rebuild).
 *
 * Every figure is one run's; bench/run.sh-style comparisons are ratios of
 * figures taken in the same run (bench_store writer at 10,000 and 100,000
 * clients, one after the other).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/query.h"
#include "store_synth.h"

enum { T0 = 1796083200 };

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double proc_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static struct xtel_store *open_store(const char *path, unsigned int queue)
{
	struct xtel_store_cfg cfg = { .path = path, .queue_len = queue };
	struct xtel_store *w;

	for (unsigned int t = 0; t < XTEL_TIER_N; t++)
		cfg.retain_s[t] = 36500ull * 86400;	/* no deletes while timing */
	unlink(path);
	if (xtel_store_open(&cfg, &w)) {
		fprintf(stderr, "bench_store: cannot open %s\n", path);
		exit(1);
	}
	return w;
}

/* Bytes of a table's pages (dbstat), or -1 without dbstat. */
static double table_bytes(sqlite3 *db, const char *table)
{
	sqlite3_stmt *st;
	double v = -1;

	if (sqlite3_prepare_v2(db, "SELECT sum(pgsize) FROM dbstat WHERE name = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

static double table_rows(sqlite3 *db, const char *table)
{
	char sql[128];
	sqlite3_stmt *st;
	double v = 0;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * Bytes per client per day: for each per-client table, bytes per row
 * (measured) times the rows one client gives it in a day (keys metric
 * rows per bucket).
 */
static void bytes_per_day(const char *path, unsigned int clients, unsigned int keys)
{
	static const char *const kinds[] = { "acct", "metric" };
	sqlite3 *db;
	double total = 0, retained = 0;
	struct stat sb;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return;
	for (unsigned int t = XTEL_TIER_CLIENT_FIRST; t < XTEL_TIER_N; t++) {
		for (unsigned int k = 0; k < 2; k++) {
			char name[32];
			double b, r, per_day;

			snprintf(name, sizeof(name), "%s_%s", kinds[k],
				 xtel_tiers[t].name);
			b = table_bytes(db, name);
			r = table_rows(db, name);
			if (b < 0 || r == 0)
				continue;
			per_day = 86400.0 / xtel_tiers[t].width_s * (k ? keys : 1) *
				  b / r;
			total += per_day;
			retained += per_day * (double)xtel_tiers[t].retain_s / 86400.0;
			printf("{\"measure\": \"bytes_per_row\", \"table\": \"%s\", "
			       "\"rows\": %.0f, \"bytes_per_row\": %.1f}\n",
			       name, r, b / r);
		}
	}
	stat(path, &sb);
	printf("{\"measure\": \"db_bytes_per_client_per_day\", \"clients\": %u, "
	       "\"metric_keys\": %u, \"bytes\": %.0f, "
	       "\"bytes_at_default_retention\": %.0f, \"file_bytes\": %lld}\n",
	       clients, keys, total, retained, (long long)sb.st_size);
	sqlite3_close(db);
}

static int writer(const char *dir, unsigned int clients, unsigned int views)
{
	char path[512];
	struct xtel_store *w;
	struct xtel_synth s;
	struct xtel_synth_step st = {
		.received = 20, .bytes = 20 * 60, .lat_ns = 150000,
		.lat_step_ns = 700, .temp_count = 20,
	};
	struct xtel_store_stats ss;
	double wall0, cpu0, main0, wall, cpu, main_cpu, writer_cpu;

	snprintf(path, sizeof(path), "%s/bench_writer_%u.db", dir, clients);
	w = open_store(path, 2);
	if (xtel_synth_init(&s, clients, 1, (uint64_t)T0 * 1000000000ull +
			    500000000ull, 1.0) || xtel_store_start(w))
		return 1;
	wall0 = now_s(CLOCK_MONOTONIC);
	cpu0 = proc_cpu_s();
	main0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	main_cpu = 0;
	for (unsigned int v = 0; v < views; v++) {
		struct xtel_store_frame f;

		main0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		if (xtel_synth_frame(&s, &st, &f))
			return 1;
		main_cpu += now_s(CLOCK_THREAD_CPUTIME_ID) - main0;
		xtel_store_push(w, &f, true);
	}
	xtel_store_stop(w);	/* drains, writes the partial buckets */
	wall = now_s(CLOCK_MONOTONIC) - wall0;
	cpu = proc_cpu_s() - cpu0;
	/* the generator's own CPU is not the writer's; the final flush
	 * (on this thread, in xtel_store_stop) is */
	writer_cpu = cpu - main_cpu;
	xtel_store_get_stats(w, &ss);
	printf("{\"measure\": \"writer\", \"clients\": %u, \"views\": %u, "
	       "\"rows\": %llu, \"wall_s\": %.3f, \"generator_cpu_s\": %.3f, "
	       "\"writer_cpu_s\": %.3f, "
	       "\"rows_per_writer_cpu_s\": %.0f, "
	       "\"writer_cpu_per_view_second\": %.4f, "
	       "\"commit_ms_max\": %.3f, \"dropped_views\": %llu}\n",
	       clients, views,
	       (unsigned long long)ss.c[XTEL_STORE_STAT_ROWS_WRITTEN], wall,
	       main_cpu, writer_cpu,
	       writer_cpu > 0 ? (double)ss.c[XTEL_STORE_STAT_ROWS_WRITTEN] /
				writer_cpu : 0.0,
	       writer_cpu / views, (double)ss.commit_ns_max / 1e6,
	       (unsigned long long)ss.c[XTEL_STORE_STAT_VIEWS_DROPPED]);
	xtel_store_free(w);
	xtel_synth_fini(&s);
	bytes_per_day(path, clients, 1);
	return 0;
}

/* Views of dt seconds for span seconds: the writer's own file. */
static int prefill(const char *path, unsigned int clients, double dt,
		   unsigned int span)
{
	struct xtel_store *w = open_store(path, 8);
	struct xtel_synth s;
	struct xtel_synth_step st = {
		.received = (uint64_t)dt, .bytes = (uint64_t)dt * 60,
		.lat_ns = 150000, .lat_step_ns = 7000, .temp_count = (uint64_t)dt,
	};
	unsigned int views = (unsigned int)(span / dt);

	if (xtel_synth_init(&s, clients, 1, (uint64_t)T0 * 1000000000ull +
			    500000000ull, dt) || xtel_store_start(w))
		return 1;
	for (unsigned int v = 0; v < views; v++) {
		struct xtel_store_frame f;

		st.lat_ns = 150000 + (v % 100) * 1000;
		if (xtel_synth_frame(&s, &st, &f))
			return 1;
		xtel_store_push(w, &f, true);
	}
	xtel_store_stop(w);
	xtel_store_free(w);
	xtel_synth_fini(&s);
	return 0;
}

static int count_point(void *arg, const struct xtel_store_point *p)
{
	(*(unsigned int *)arg)++;
	return 0;
}

static void time_query(sqlite3 *db, const char *what,
		       const struct xtel_store_query *q)
{
	double best = 1e9, sum = 0;
	unsigned int n = 0, runs = 20;

	for (unsigned int i = 0; i < runs; i++) {
		double t0 = now_s(CLOCK_MONOTONIC), t;

		n = 0;
		xtel_store_query(db, q, count_point, &n);
		t = now_s(CLOCK_MONOTONIC) - t0;
		sum += t;
		if (t < best)
			best = t;
	}
	printf("{\"measure\": \"query\", \"what\": \"%s\", \"step\": %u, "
	       "\"points\": %u, \"best_ms\": %.3f, \"mean_ms\": %.3f}\n",
	       what, q->step, n, best * 1e3, sum / runs * 1e3);
}

static int query(const char *dir)
{
	char p1[512], p2[512];
	sqlite3 *db;
	struct xtel_store_query q;

	snprintf(p1, sizeof(p1), "%s/bench_query_24h.db", dir);
	snprintf(p2, sizeof(p2), "%s/bench_query_30d.db", dir);
	if (prefill(p1, 200, 10.0, 86400) || prefill(p2, 10, 60.0, 30 * 86400))
		return 1;
	if (xtel_store_reader_open(p1, &db))
		return 1;
	q = (struct xtel_store_query){ .kind = XTEL_SERIES_CLIENT,
		.client_id = 100, .from = T0, .to = T0 + 86400, .step = 300 };
	time_query(db, "one client, 24 h", &q);
	q.step = 3600;
	time_query(db, "one client, 24 h", &q);
	q.kind = XTEL_SERIES_METRIC;
	q.metric = "temp";
	q.step = 300;
	time_query(db, "one client's metric, 24 h", &q);
	sqlite3_close(db);
	if (xtel_store_reader_open(p2, &db))
		return 1;
	q = (struct xtel_store_query){ .kind = XTEL_SERIES_TOTALS,
		.from = T0, .to = T0 + 30 * 86400, .step = 3600 };
	time_query(db, "fleet totals, 30 days", &q);
	q.step = 600;
	time_query(db, "fleet totals, 30 days", &q);
	sqlite3_close(db);
	return 0;
}

/*
 * The open after a crash: 90 views of CLIENTS clients processed and the
 * writer freed without a stop (what SIGKILL leaves), then the open that
 * rebuilds the coarser tiers, timed; then a second open (nothing to do).
 */
static int recover(const char *dir, unsigned int clients)
{
	char path[512];
	struct xtel_store *w;
	struct xtel_synth s;
	struct xtel_synth_step st = { .received = 20, .lat_ns = 150000,
				      .lat_step_ns = 700, .temp_count = 20 };
	double t0, t1, t2;

	snprintf(path, sizeof(path), "%s/bench_recover_%u.db", dir, clients);
	w = open_store(path, 2);
	if (xtel_synth_init(&s, clients, 1, (uint64_t)T0 * 1000000000ull +
			    500000000ull, 1.0))
		return 1;
	for (unsigned int v = 0; v < 90; v++) {
		struct xtel_store_frame f;

		if (xtel_synth_frame(&s, &st, &f))
			return 1;
		xtel_store_process(w, &f);
	}
	xtel_store_free(w);	/* no stop: the 1 min bucket of 01:00 is lost */
	xtel_synth_fini(&s);
	t0 = now_s(CLOCK_MONOTONIC);
	{
		struct xtel_store_cfg cfg = { .path = path };

		if (xtel_store_open(&cfg, &w))
			return 1;
		t1 = now_s(CLOCK_MONOTONIC);
		xtel_store_free(w);
		if (xtel_store_open(&cfg, &w))
			return 1;
		t2 = now_s(CLOCK_MONOTONIC);
		xtel_store_free(w);
	}
	printf("{\"measure\": \"recover\", \"clients\": %u, "
	       "\"open_after_crash_s\": %.3f, \"open_after_that_s\": %.3f}\n",
	       clients, t1 - t0, t2 - t1);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "recover"))
		return recover(argv[2], (unsigned int)atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "writer"))
		return writer(argv[2], (unsigned int)atoi(argv[3]),
			      (unsigned int)atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "query"))
		return query(argv[2]);
	fprintf(stderr, "usage: bench_store writer DIR CLIENTS VIEWS\n"
			"       bench_store query DIR\n"
			"       bench_store recover DIR CLIENTS\n");
	return 2;
}
