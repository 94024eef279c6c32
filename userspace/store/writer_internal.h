/* SPDX-License-Identifier: MIT */
/*
 * What the files of the history writer share (writer.c: statements,
 * transactions, the queue and thread, the life cycle; rollup.c: the
 * rollup state and one view's rows; retain.c: retention; recover.c: the
 * rebuild after an unclean stop). Private to store/: the state below is
 * the writer thread's alone, except the queue (under lock) and the
 * counters (atomic).
 */
#ifndef XTEL_STORE_WRITER_INTERNAL_H
#define XTEL_STORE_WRITER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "store/writer.h"

enum { N_CT = XTEL_STORE_N_COLS, N_CLIENT_TIERS = XTEL_TIER_N - XTEL_TIER_CLIENT_FIRST };

/* Cumulative figures at the end of a tier's previous bucket. */
struct base {
	uint64_t c[N_CT];
	uint64_t lat_count, lat_sum;
	uint8_t *hist;
	uint32_t hist_len, hist_cap;
};

struct macc {
	uint64_t count;
	double sum, min, max;
};

struct wmetric {
	uint32_t name;			/* index into w->names */
	struct macc t[N_CLIENT_TIERS];
};

struct wclient {
	uint32_t id;
	uint32_t n_m, cap_m;
	struct wmetric *m;
	struct base b[N_CLIENT_TIERS];
};

struct name {
	char *s;
	int64_t id;			/* metric_names.id; 0: not in the file */
	uint64_t txn;			/* the transaction that inserted it */
};

struct xtel_store {
	struct xtel_store_cfg cfg;
	char what[320];			/* "--db FILE" for messages */
	sqlite3 *db;
	sqlite3_stmt *ins_acct[XTEL_TIER_N], *ins_metric[XTEL_TIER_N];
	sqlite3_stmt *ins_totals[XTEL_TIER_N];
	sqlite3_stmt *ins_name, *del_totals[XTEL_TIER_N];
	sqlite3_stmt *next_client[XTEL_TIER_N], *del_acct[XTEL_TIER_N];
	sqlite3_stmt *del_metric[XTEL_TIER_N];
	/* health transitions (events.c) */
	sqlite3_stmt *ins_event, *del_events;
	uint64_t event_seq;		/* the newest written this run */
	uint64_t events_retained_s;	/* the last retention pass */

	/* rollup state (the writer thread's alone) */
	struct wclient *clients;	/* sorted by id */
	uint32_t n_clients;
	struct name *names;
	uint32_t n_names, cap_names;

	struct base fleet[XTEL_TIER_N];
	double fleet_dt[XTEL_TIER_N];
	uint64_t bucket[XTEL_TIER_N];
	bool have_bucket;
	struct xtel_store_frame prev;	/* the last processed frame */
	bool have_prev;
	int64_t retain_cursor[XTEL_TIER_N];
	uint8_t *scratch;		/* a difference of two histograms */
	size_t scratch_cap;

	/* the transaction of the frame in progress */
	bool txn_failed;
	uint64_t txn_rows;
	uint64_t txn_seq;

	/* queue */
	pthread_mutex_t lock;
	pthread_cond_t cond, room;
	struct xtel_store_frame *q;
	unsigned int q_head, q_len, q_cap;
	bool stopping, started;
	pthread_t thread;

	/* counters: written by the writer (push: main), read anywhere */
	uint64_t stat[XTEL_STORE_STAT_MAX];
	uint64_t commit_ns_last, commit_ns_max;
	int last_error;
};

static inline void xtel_store_stat_add(struct xtel_store *w,
				       enum xtel_store_stat s, uint64_t n)
{
	__atomic_add_fetch(&w->stat[s], n, __ATOMIC_RELAXED);
}

/* Calls the frame's release once. */
static inline void xtel_store_release(struct xtel_store_frame *f)
{
	if (f->release)
		f->release(f->arg);
	f->release = NULL;
}

static inline void xtel_store_base_free(struct base *b)
{
	free(b->hist);
}

#define cat xtel_store_sql_cat
#define cols xtel_store_sql_cols

/* The latency columns, and their upsert: sums added, min/max folded. */
extern const char xtel_store_lat_cols[];
extern const char xtel_store_lat_update[];

/* writer.c: a statement of the writer's connection (message on failure). */
int xtel_store_prepare(struct xtel_store *w, sqlite3_stmt **st, const char *sql);
int xtel_store_preparef(struct xtel_store *w, sqlite3_stmt **st,
			const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * writer.c: the transaction of one view. row() runs a bound statement as
 * a row of it; after a failure (fail(): rolled back, counted, a
 * rate-limited message) the rest of its rows are counted as dropped.
 */
void xtel_store_txn_begin(struct xtel_store *w);
void xtel_store_txn_commit(struct xtel_store *w, uint64_t t0);
void xtel_store_row(struct xtel_store *w, sqlite3_stmt *st, const char *what);
void xtel_store_fail(struct xtel_store *w, const char *what);

/* rollup.c: metric_names into w->names (at open). 0 or -errno. */
int xtel_store_load_names(struct xtel_store *w);

/* retain.c: one view's slice of retention, in its transaction. */
void xtel_store_retain_step(struct xtel_store *w, uint64_t now_s);

/* recover.c: rebuild the coarser tiers after an unclean stop (at open). */
int xtel_store_recover(struct xtel_store *w);

#endif /* XTEL_STORE_WRITER_INTERNAL_H */
