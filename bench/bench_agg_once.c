// SPDX-License-Identifier: MIT
/*
 * The cost of the aggregator's exactly-once memory (docs/SCALE-OUT.md,
 * "However late a copy comes"), its real SQLite checkpoint
 * (collector/agg/store.c) in a temporary file: E edges send V views of P
 * parts each; one batch is one view of every edge (E x P messages),
 * marked and committed as the aggregator does. Two ways side by side in
 * one run, alternated:
 *   ranges  the edge runs' interval sets (what the aggregator does now);
 *   ids     the per-id table (the way before: every id a row, pruned
 *           after each batch once older than a window of W views, as the
 *           stream's duplicate window would prune it; the unsafe one).
 * Prints one JSON object per way: ns per message (mark + commit, and the
 * prune step for ids: CPU of this process, and wall time, mostly the
 * fsyncs of synchronous=FULL), the rows and in-memory entries
 * at the end, and the file's bytes after a checkpoint. Under callgrind,
 * --only WAY with --toggle-collect=xtel_agg_store_mark
 * --toggle-collect=xtel_agg_store_commit --toggle-collect=xtel_agg_store_prune
 * gives repeatable instructions per message.
 *
 * usage: bench_agg_once [--edges E] [--views V] [--parts P] [--window W]
 *                       [--rounds R] [--only ranges|ids]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "collector/agg/state.h"
#include "collector/agg/store.h"

struct cfg {
	unsigned int edges, views, parts, window, rounds;
	const char *only;
};

struct result {
	double ns_per_msg, wall_ns_per_msg;
	uint64_t entries, rows;
	long long file_bytes;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static long long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : (long long)sb.st_size;
}

static uint64_t count_rows(const char *db, const char *table)
{
	char sql[96];
	sqlite3 *h;
	sqlite3_stmt *q;
	uint64_t n = 0;

	if (sqlite3_open(db, &h) != SQLITE_OK)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		n = (uint64_t)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	/* the WAL into the file, so its size is the data's */
	sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	sqlite3_close(h);
	return n;
}

static void cleanup(const char *dir, const char *db)
{
	char p[160];

	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
	rmdir(dir);
}

/* One way, from an empty file. */
static int run(const struct cfg *c, bool ranges, struct result *out)
{
	char dir[] = "/tmp/xtel-bench-agg-once.XXXXXX", db[96], id[80];
	struct xtel_agg_state s;
	struct xtel_agg_store *st;
	uint64_t t0, w0, ns = 0, wall = 0, n = 0, sseq = 0;
	int err;

	if (!mkdtemp(dir))
		return -errno;
	snprintf(db, sizeof(db), "%s/agg.db", dir);
	if (xtel_agg_state_init(&s))
		return -ENOMEM;
	err = xtel_agg_store_open(db, &s, &st);
	for (uint64_t v = 1; !err && v <= c->views; v++) {
		t0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
		w0 = clock_ns(CLOCK_MONOTONIC);
		for (unsigned int e = 0; e < c->edges && !err; e++) {
			struct xtel_rollup_hdr h = { .version = 1, .run = 1796000000000000000ULL,
						     .seq = v, .parts = c->parts };

			snprintf(h.site, sizeof(h.site), "site%u", e % 4);
			snprintf(h.edge, sizeof(h.edge), "edge%u", e);
			for (h.part = 0; h.part < c->parts && !err; h.part++) {
				snprintf(id, sizeof(id), "%s.%" PRIu64 ".%" PRIu64 ".%" PRIu32,
					 h.edge, h.run, h.seq, h.part);
				err = xtel_agg_store_seen(st, id) ? -EEXIST :
				      xtel_agg_store_mark(st, id, ++sseq, v,
							  ranges ? &h : NULL);
				n++;
			}
		}
		if (!err)
			err = xtel_agg_store_commit(st, &s);
		/* the way before: ids older than the window go, acked (the
		 * aggregator's step of 2,048 ids at most) */
		if (!err && !ranges && v > c->window)
			err = xtel_agg_store_prune(st, v - c->window, sseq, 2048) < 0;
		ns += clock_ns(CLOCK_PROCESS_CPUTIME_ID) - t0;
		wall += clock_ns(CLOCK_MONOTONIC) - w0;
	}
	if (!err) {
		out->ns_per_msg = (double)ns / (double)n;
		out->wall_ns_per_msg = (double)wall / (double)n;
		out->entries = ranges ? xtel_agg_store_ranges(st) : xtel_agg_store_ids(st);
	}
	xtel_agg_store_close(st);
	xtel_agg_state_fini(&s);
	if (!err) {
		out->rows = count_rows(db, ranges ? "applied_range" : "applied");
		out->file_bytes = file_size(db);
	}
	cleanup(dir, db);
	return err;
}

static unsigned int arg_uint(const char *v)
{
	return (unsigned int)strtoul(v, NULL, 10);
}

int main(int argc, char **argv)
{
	struct cfg c = { .edges = 10, .views = 360, .parts = 2, .window = 12,
			 .rounds = 3 };
	static const char *const ways[2] = { "ranges", "ids" };
	struct result best[2] = { { 0 } };

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--edges"))
			c.edges = arg_uint(argv[i + 1]);
		else if (!strcmp(argv[i], "--views"))
			c.views = arg_uint(argv[i + 1]);
		else if (!strcmp(argv[i], "--parts"))
			c.parts = arg_uint(argv[i + 1]);
		else if (!strcmp(argv[i], "--window"))
			c.window = arg_uint(argv[i + 1]);
		else if (!strcmp(argv[i], "--rounds"))
			c.rounds = arg_uint(argv[i + 1]);
		else if (!strcmp(argv[i], "--only"))
			c.only = argv[i + 1];
		else {
			fprintf(stderr, "bench_agg_once: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (!c.edges || !c.views || !c.parts || !c.rounds) {
		fprintf(stderr, "bench_agg_once: every count must be at least 1\n");
		return 2;
	}
	/* alternated rounds, the fastest of each way */
	for (unsigned int r = 0; r < c.rounds; r++)
		for (int w = 0; w < 2; w++) {
			struct result x;
			int err;

			if (c.only && strcmp(c.only, ways[w]))
				continue;
			err = run(&c, w == 0, &x);
			if (err) {
				fprintf(stderr, "bench_agg_once %s: %s\n", ways[w],
					strerror(err < 0 ? -err : EIO));
				return 1;
			}
			if (!best[w].ns_per_msg || x.ns_per_msg < best[w].ns_per_msg)
				best[w] = x;
		}
	for (int w = 0; w < 2; w++) {
		if (c.only && strcmp(c.only, ways[w]))
			continue;
		printf("{\"way\": \"%s\", \"edges\": %u, \"views\": %u, \"parts\": %u, "
		       "\"window\": %u, \"messages\": %llu, \"ns_per_msg\": %.0f, "
		       "\"wall_ns_per_msg\": %.0f, "
		       "\"entries\": %" PRIu64 ", \"rows\": %" PRIu64 ", "
		       "\"file_bytes\": %lld}\n", ways[w], c.edges, c.views, c.parts,
		       c.window, (unsigned long long)c.edges * c.views * c.parts,
		       best[w].ns_per_msg, best[w].wall_ns_per_msg, best[w].entries, best[w].rows,
		       best[w].file_bytes);
	}
	return 0;
}
