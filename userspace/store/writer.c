// SPDX-License-Identifier: MIT
/*
 * The history writer (writer.h): its statements, the transaction of a
 * view and what happens when it fails, the queue and the thread, the life
 * cycle and the counters. The rollups are rollup.c's, retention
 * retain.c's, the rebuild after a crash recover.c's
 * (writer_internal.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/db.h"
#include "store/hist.h"
#include "store/events.h"
#include "store/writer_internal.h"

const struct xtel_counter_desc xtel_store_stat_desc[XTEL_STORE_STAT_MAX] = {
#define X(id, nm, un, hp) XTEL_COUNTER_DESC(XTEL_STORE_STAT_, id, nm, un, hp)
	XTEL_STORE_STATS(X)
#undef X
};

/* ---- statements ---- */

int xtel_store_prepare(struct xtel_store *w, sqlite3_stmt **st, const char *sql)
{
	return xtel_db_prepare(w->db, st, sql, w->what);
}

/* xtel_store_prepare() of printf output. */
int xtel_store_preparef(struct xtel_store *w, sqlite3_stmt **st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int xtel_store_preparef(struct xtel_store *w, sqlite3_stmt **st, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return xtel_store_prepare(w, st, sql);
}

const char xtel_store_lat_cols[] = "lat_count, lat_sum, lat_min, lat_max, lat_hist";

const char xtel_store_lat_update[] =
	"lat_count = lat_count + excluded.lat_count, "
	"lat_sum = lat_sum + excluded.lat_sum, "
	"lat_min = min(coalesce(lat_min, excluded.lat_min), "
	"coalesce(excluded.lat_min, lat_min)), "
	"lat_max = max(coalesce(lat_max, excluded.lat_max), "
	"coalesce(excluded.lat_max, lat_max)), "
	"lat_hist = xtel_hist_add(lat_hist, excluded.lat_hist)";

/*
 * INSERT ... ON CONFLICT DO UPDATE adding the deltas: a bucket written
 * twice (the final partial bucket, then a restart inside it) sums up.
 */
static int prepare_upserts(struct xtel_store *w, unsigned int t)
{
	const char *tn = xtel_tiers[t].name;
	const unsigned int ng = XTEL_STORE_N_GAUGES, na = XTEL_STORE_N_ACCT;
	char sql[2048];
	size_t n = 0;
	int rc;

	/* totals_T: ts, dt_ms, gauges, every column, latency */
	cat(sql, sizeof(sql), &n, "INSERT INTO totals_%s (ts, dt_ms", tn);
	cols(sql, sizeof(sql), &n, ", %1$s", true, 0, ng);
	cols(sql, sizeof(sql), &n, ", %1$s", false, 0, N_CT);
	cat(sql, sizeof(sql), &n, ", %s) VALUES (?", xtel_store_lat_cols);
	for (unsigned int i = 1; i < 2 + ng + N_CT + 5; i++)
		cat(sql, sizeof(sql), &n, ", ?");
	cat(sql, sizeof(sql), &n, ") ON CONFLICT (ts) DO UPDATE SET "
	    "dt_ms = dt_ms + excluded.dt_ms");
	cols(sql, sizeof(sql), &n, ", %1$s = excluded.%1$s", true, 0, ng);
	cols(sql, sizeof(sql), &n, ", %1$s = %1$s + excluded.%1$s", false, 0, N_CT);
	cat(sql, sizeof(sql), &n, ", %s", xtel_store_lat_update);
	rc = xtel_store_prepare(w, &w->ins_totals[t], sql);
	if (rc)
		return rc;
	rc = xtel_store_preparef(w, &w->del_totals[t], "DELETE FROM totals_%s WHERE ts IN "
		      "(SELECT ts FROM totals_%s WHERE ts < ?1 ORDER BY ts "
		      "LIMIT ?2)", tn, tn);
	if (rc || t < XTEL_TIER_CLIENT_FIRST)
		return rc;

	n = 0;
	cat(sql, sizeof(sql), &n, "INSERT INTO acct_%s (client, ts", tn);
	cols(sql, sizeof(sql), &n, ", %1$s", false, 0, na);
	cat(sql, sizeof(sql), &n, ", %s) VALUES (?", xtel_store_lat_cols);
	for (unsigned int i = 1; i < 2 + na + 5; i++)
		cat(sql, sizeof(sql), &n, ", ?");
	cat(sql, sizeof(sql), &n, ") ON CONFLICT (client, ts) DO UPDATE SET ");
	cols(sql, sizeof(sql), &n, "%1$s = %1$s + excluded.%1$s, ", false, 0, na);
	cat(sql, sizeof(sql), &n, "%s", xtel_store_lat_update);
	rc = xtel_store_prepare(w, &w->ins_acct[t], sql);
	if (rc)
		return rc;
	rc = xtel_store_preparef(w, &w->ins_metric[t], "INSERT INTO metric_%s (client, "
		      "metric, ts, count, sum, min, max) VALUES (?, ?, ?, ?, ?, ?, "
		      "?) ON CONFLICT (client, metric, ts) DO UPDATE SET count = "
		      "count + excluded.count, sum = sum + excluded.sum, min = "
		      "min(min, excluded.min), max = max(max, excluded.max)", tn);
	/* retention: seek the next client, delete its old rows by key range */
	if (!rc)
		rc = xtel_store_preparef(w, &w->next_client[t], "SELECT client FROM acct_%s "
			      "WHERE client > ?1 ORDER BY client LIMIT 1", tn);
	if (!rc)
		rc = xtel_store_preparef(w, &w->del_acct[t], "DELETE FROM acct_%s WHERE "
			      "client = ?1 AND ts < ?2", tn);
	if (!rc)
		rc = xtel_store_preparef(w, &w->del_metric[t], "DELETE FROM metric_%s WHERE "
			      "client = ?1 AND metric IN (SELECT id FROM "
			      "metric_names) AND ts < ?2", tn);
	return rc;
}

/* ---- transactions and failures ---- */

static const char *hint(int err)
{
	switch (err) {
	case -ENOSPC:
		return ": the file system is full: free space there (the "
		       "collector keeps receiving; rows are counted as "
		       "dropped_rows)";
	case -EROFS:
	case -EACCES:
		return ": the database is read-only: check the file's mode "
		       "and the file system (the collector keeps receiving; "
		       "rows are counted as dropped_rows)";
	case -EBUSY:
		return ": another process holds the write lock";
	default:
		return "";
	}
}

void xtel_store_fail(struct xtel_store *w, const char *what)
{
	int ext = sqlite3_extended_errcode(w->db);
	int sys = sqlite3_system_errno(w->db);
	/* the OS's reason when there is one: SQLite reports a full disk
	 * met in a WAL write as an I/O error */
	int err = sys > 0 && (ext & 0xff) != SQLITE_CONSTRAINT ? -sys :
		  xtel_db_errno(ext);

	char os[96] = "";

	if (sys > 0)
		snprintf(os, sizeof(os), " (%s)", strerror(sys));
	xtel_log_ratelimited(XTEL_LOG_ERR, xtel_mono_ns(), "%s: %s: %s%s%s",
			     w->what, what, sqlite3_errmsg(w->db), os, hint(err));
	if (!sqlite3_get_autocommit(w->db))
		sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
	w->txn_failed = true;
	xtel_store_stat_add(w, XTEL_STORE_STAT_ROWS_DROPPED, w->txn_rows);
	xtel_store_stat_add(w, XTEL_STORE_STAT_WRITE_ERRORS, 1);
	w->txn_rows = 0;
	/* names inserted by the rolled back transaction are gone again */
	for (uint32_t i = 0; i < w->n_names; i++)
		if (w->names[i].txn == w->txn_seq)
			w->names[i].id = 0;
	__atomic_store_n(&w->last_error, err, __ATOMIC_RELAXED);
}

void xtel_store_txn_begin(struct xtel_store *w)
{
	w->txn_failed = false;
	w->txn_rows = 0;
	w->txn_seq++;
	if (sqlite3_exec(w->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		xtel_store_fail(w, "begin");
}

void xtel_store_txn_commit(struct xtel_store *w, uint64_t t0)
{
	uint64_t ns;

	if (w->txn_failed)
		return;
	if (sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		xtel_store_fail(w, "commit");
		return;
	}
	xtel_store_stat_add(w, XTEL_STORE_STAT_ROWS_WRITTEN, w->txn_rows);
	xtel_store_stat_add(w, XTEL_STORE_STAT_COMMITS, 1);
	ns = xtel_mono_ns() - t0;
	__atomic_store_n(&w->commit_ns_last, ns, __ATOMIC_RELAXED);
	if (ns > w->commit_ns_max)
		__atomic_store_n(&w->commit_ns_max, ns, __ATOMIC_RELAXED);
}

/* Runs a bound statement as one row of the transaction. */
void xtel_store_row(struct xtel_store *w, sqlite3_stmt *st, const char *what)
{
	int rc;

	if (w->txn_failed) {	/* the rest of a failed transaction */
		xtel_store_stat_add(w, XTEL_STORE_STAT_ROWS_DROPPED, 1);
		sqlite3_reset(st);
		return;
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		w->txn_rows++;
		xtel_store_fail(w, what);
		return;
	}
	w->txn_rows++;
}

/* Metric samples of a view (counted when the view is dropped). */
static uint64_t samples(const struct xtel_snapshot *s)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < s->n_clients; i++)
		for (uint32_t k = 0; k < s->clients[i].n_metrics; k++)
			n += s->clients[i].metrics[k].count;
	return n;
}

/* ---- the thread and its queue ---- */

static void *writer_main(void *arg)
{
	struct xtel_store *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct xtel_store_frame f;

		while (!w->q_len && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->q_len)
			break;		/* stopping, and drained */
		f = w->q[w->q_head];
		w->q_head = (w->q_head + 1) % w->q_cap;
		w->q_len--;
		pthread_cond_signal(&w->room);
		pthread_mutex_unlock(&w->lock);
		xtel_store_process(w, &f);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

bool xtel_store_push(struct xtel_store *w, const struct xtel_store_frame *f,
		     bool wait)
{
	struct xtel_store_frame copy = *f;

	pthread_mutex_lock(&w->lock);
	while (wait && w->started && !w->stopping && w->q_len == w->q_cap)
		pthread_cond_wait(&w->room, &w->lock);
	/* before the start frames wait in the queue; after the stop none */
	if (w->q_len == w->q_cap || w->stopping) {
		pthread_mutex_unlock(&w->lock);
		xtel_store_stat_add(w, XTEL_STORE_STAT_VIEWS_DROPPED, 1);
		xtel_store_stat_add(w, XTEL_STORE_STAT_SAMPLES_DROPPED, samples(f->snap));
		xtel_store_release(&copy);
		return false;
	}
	w->q[(w->q_head + w->q_len) % w->q_cap] = copy;
	w->q_len++;
	xtel_store_stat_add(w, XTEL_STORE_STAT_VIEWS_QUEUED, 1);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return true;
}

int xtel_store_start(struct xtel_store *w)
{
	int rc = pthread_create(&w->thread, NULL, writer_main, w);

	if (rc)
		return -rc;
	pthread_mutex_lock(&w->lock);
	w->started = true;
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int xtel_store_stop(struct xtel_store *w)
{
	int err;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->lock);
	if (w->started) {
		w->stopping = true;
		pthread_cond_broadcast(&w->cond);
		pthread_cond_broadcast(&w->room);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		pthread_mutex_lock(&w->lock);
		w->started = false;
	}
	pthread_mutex_unlock(&w->lock);
	xtel_store_flush(w);
	if (w->have_prev) {
		xtel_store_release(&w->prev);
		w->have_prev = false;
	}
	/* the WAL's content into the database file, and the WAL emptied */
	if (sqlite3_wal_checkpoint_v2(w->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
				      NULL, NULL) != SQLITE_OK)
		xtel_log_ratelimited(XTEL_LOG_WARN, xtel_mono_ns(),
				     "%s: WAL checkpoint: %s", w->what,
				     sqlite3_errmsg(w->db));
	err = __atomic_load_n(&w->last_error, __ATOMIC_RELAXED);
	return err;
}

/* ---- life cycle ---- */

int xtel_store_open(const struct xtel_store_cfg *cfg, struct xtel_store **out)
{
	struct xtel_store *w = calloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->cfg = *cfg;
	if (!w->cfg.queue_len)
		w->cfg.queue_len = 8;
	snprintf(w->what, sizeof(w->what), "--db %s", cfg->path);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	pthread_cond_init(&w->room, NULL);
	w->q_cap = w->cfg.queue_len;
	w->q = calloc(w->q_cap, sizeof(*w->q));
	for (unsigned int t = 0; t < XTEL_TIER_N; t++)
		w->retain_cursor[t] = -1;
	if (!w->q) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = xtel_db_open(cfg->path, 0, w->what, &w->db);
	if (rc)
		goto fail;
	rc = xtel_db_migrate(w->db, &xtel_store_schema, w->what);
	if (rc)
		goto fail;
	rc = xtel_store_events_open(w);
	if (rc)
		goto fail;
	rc = xtel_hist_sql_register(w->db);
	if (rc)
		goto fail;
	for (unsigned int t = 0; t < XTEL_TIER_N && !rc; t++)
		rc = prepare_upserts(w, t);
	if (!rc)
		rc = xtel_store_prepare(w, &w->ins_name, "INSERT INTO metric_names (name) "
			     "VALUES (?1) ON CONFLICT (name) DO UPDATE SET "
			     "name = excluded.name RETURNING id");
	if (!rc)
		rc = xtel_store_load_names(w);
	if (!rc)
		rc = xtel_store_recover(w);
	if (rc)
		goto fail;
	*out = w;
	return 0;
fail:
	xtel_store_free(w);
	return rc;
}

void xtel_store_free(struct xtel_store *w)
{
	if (!w)
		return;
	if (w->started)
		xtel_store_stop(w);
	for (unsigned int i = 0; i < w->q_len; i++)
		xtel_store_release(&w->q[(w->q_head + i) % w->q_cap]);
	if (w->have_prev)
		xtel_store_release(&w->prev);
	for (unsigned int t = 0; t < XTEL_TIER_N; t++) {
		sqlite3_finalize(w->ins_acct[t]);
		sqlite3_finalize(w->ins_metric[t]);
		sqlite3_finalize(w->ins_totals[t]);
		sqlite3_finalize(w->del_totals[t]);
		sqlite3_finalize(w->next_client[t]);
		sqlite3_finalize(w->del_acct[t]);
		sqlite3_finalize(w->del_metric[t]);
		xtel_store_base_free(&w->fleet[t]);
	}
	sqlite3_finalize(w->ins_name);
	xtel_store_events_free(w);
	if (w->db)
		sqlite3_close(w->db);
	for (uint32_t i = 0; i < w->n_clients; i++) {
		for (unsigned int t = 0; t < N_CLIENT_TIERS; t++)
			xtel_store_base_free(&w->clients[i].b[t]);
		free(w->clients[i].m);
	}
	free(w->clients);
	for (uint32_t i = 0; i < w->n_names; i++)
		free(w->names[i].s);
	free(w->names);
	free(w->scratch);
	free(w->q);
	pthread_cond_destroy(&w->cond);
	pthread_cond_destroy(&w->room);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

void xtel_store_get_stats(struct xtel_store *w, struct xtel_store_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < XTEL_STORE_STAT_MAX; i++)
		out->c[i] = __atomic_load_n(&w->stat[i], __ATOMIC_RELAXED);
	pthread_mutex_lock(&w->lock);
	out->queue_depth = w->q_len;
	out->queue_capacity = w->q_cap;
	pthread_mutex_unlock(&w->lock);
	out->commit_ns_last = __atomic_load_n(&w->commit_ns_last, __ATOMIC_RELAXED);
	out->commit_ns_max = __atomic_load_n(&w->commit_ns_max, __ATOMIC_RELAXED);
	out->last_error = __atomic_load_n(&w->last_error, __ATOMIC_RELAXED);
}

