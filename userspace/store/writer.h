/* SPDX-License-Identifier: MIT */
/*
 * The history writer: one thread that turns the collector's per-interval
 * views into rollup rows (schema.h) in one SQLite file, off the receive
 * path and off the control loop. The control loop hands it a frame per
 * view (the snapshot and a few fleet figures, with a release callback
 * that drops the view's reference) through a bounded queue; when the
 * queue is full the frame is dropped and counted, never waited for.
 *
 * Rollups come from differences of cumulative figures: a row of tier T
 * is (the client's counters and latency histogram at the last view of
 * the bucket) - (the same at the last view before it), so a dropped view
 * loses nothing of counters or latency (the next row spans it); only the
 * metric samples of its interval are lost (counted). Per-metric
 * count/sum/min/max are accumulated per tier in memory from each view.
 * Each processed view is one transaction. A failed write (disk full,
 * read-only file) is rolled back, its rows counted as dropped, a
 * rate-limited message says what to fix, and the writer goes on.
 *
 * Stop drains the queue, writes the partial buckets of every tier (the
 * final view's figures; a restart inside the same bucket adds to the
 * row) and checkpoints the WAL. Open after a crash rebuilds the coarser
 * tiers' lost buckets from the finer tiers' rows.
 */
#ifndef XTEL_STORE_WRITER_H
#define XTEL_STORE_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "acct/snapshot.h"
#include "common/counter.h"
#include "store/schema.h"

struct xtel_store;

/* What the writer needs of one view. */
struct xtel_store_frame {
	uint64_t taken_ns;		/* CLOCK_REALTIME of the view */
	double dt_s;			/* since the previous view */
	bool final;
	/* clients sorted by id, taken with XTEL_SNAP_LAT_HIST */
	const struct xtel_snapshot *snap;
	uint64_t gauges[XTEL_STORE_N_GAUGES];
	/* cumulative dropped and xdp_dropped (XTEL_STORE_FLEET order) */
	uint64_t fleet[XTEL_STORE_N_COLS - XTEL_STORE_N_ACCT];
	void (*release)(void *arg);	/* called once the writer is done */
	void *arg;
	/*
	 * NULL, or called on the writer thread inside the view's transaction
	 * with the seq of the newest health transition written so far: it
	 * calls xtel_store_event_row() (store/events.h) for each newer one.
	 */
	void (*events)(void *arg, struct xtel_store *w, uint64_t after_seq);
};

struct xtel_store_cfg {
	const char *path;
	uint64_t retain_s[XTEL_TIER_N];	/* 0: the tier's default */
	unsigned int queue_len;		/* frames; 0: 8 */
};

/*
 * The writer's counters: X(ENUM, "name", "unit", "help"). In the summary
 * JSON's "db" object, /api/v1/stats "db" and as xtel_db_* on /metrics.
 */
#define XTEL_STORE_STATS(X)						\
	X(VIEWS_QUEUED, "queued_views", "views", "views handed to the history writer") \
	X(VIEWS_WRITTEN, "written_views", "views", "views the history writer processed") \
	X(VIEWS_DROPPED, "dropped_views", "views",			\
	  "views dropped: the history writer's queue was full")		\
	X(ROWS_WRITTEN, "written_rows", "rows", "rows committed to --db") \
	X(ROWS_DROPPED, "dropped_rows", "rows",				\
	  "rows lost: their transaction failed (disk full, read-only file)") \
	X(SAMPLES_DROPPED, "dropped_metric_samples", "samples",	\
	  "metric samples of dropped views (counters and latency are not lost)") \
	X(COMMITS, "commits", "commits", "transactions committed")	\
	X(WRITE_ERRORS, "failed_transactions", "transactions",			\
	  "transactions rolled back after a failed write")		\
	X(RETAIN_DELETED, "retention_deleted_rows", "rows",			\
	  "rows deleted by --retain")

enum xtel_store_stat {
#define X(id, name, unit, help) XTEL_STORE_STAT_##id,
	XTEL_STORE_STATS(X)
#undef X
	XTEL_STORE_STAT_MAX,
};

extern const struct xtel_counter_desc xtel_store_stat_desc[XTEL_STORE_STAT_MAX];

struct xtel_store_stats {
	uint64_t c[XTEL_STORE_STAT_MAX];
	uint64_t queue_depth, queue_capacity;
	uint64_t commit_ns_last, commit_ns_max;	/* a view's transaction */
	int last_error;			/* -errno of the last failure, or 0 */
};

struct xtel_store;

/*
 * Opens and migrates the database (a message names the file and what to
 * fix). Returns 0 or -errno as xtel_db_open/xtel_db_migrate.
 */
int xtel_store_open(const struct xtel_store_cfg *cfg, struct xtel_store **out);

/* Starts the writer thread. Returns 0 or -errno. */
int xtel_store_start(struct xtel_store *w);

/*
 * Hands a frame over (its release is called by the writer, or right away
 * when dropped: the queue full, or the writer stopped). With wait (the
 * final view) it waits for room instead of dropping, once the thread runs.
 * Frames pushed before xtel_store_start wait in the queue. Returns true
 * when queued.
 */
bool xtel_store_push(struct xtel_store *w, const struct xtel_store_frame *f,
		     bool wait);

/*
 * Drains the queue, writes every tier's partial bucket, checkpoints the
 * WAL and joins the thread. Returns 0 or the last write error (-errno).
 */
int xtel_store_stop(struct xtel_store *w);

void xtel_store_free(struct xtel_store *w);

/* A copy of the counters, from any thread. */
void xtel_store_get_stats(struct xtel_store *w, struct xtel_store_stats *out);

/*
 * The thread's work, for tests and the benchmark without the thread: one
 * frame (released before return, or kept as the previous one) and the
 * partial buckets at the end.
 */
void xtel_store_process(struct xtel_store *w, const struct xtel_store_frame *f);
void xtel_store_flush(struct xtel_store *w);

/* "10s=2d,1m=30d,1h=400d": per-tier retention into retain_s. 0 or -EINVAL. */
int xtel_store_parse_retain(const char *s, uint64_t retain_s[XTEL_TIER_N]);

#endif /* XTEL_STORE_WRITER_H */
