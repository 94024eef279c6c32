// SPDX-License-Identifier: MIT
/*
 * The history writer (writer.h): the queue, the thread, the rollup state
 * and the upserts. State per client and per tier is the base, the
 * cumulative figures at the end of the tier's previous bucket (counters,
 * latency count and sum, the encoded histogram), plus per-metric
 * accumulators. The 1 min and 1 h tiers are accumulated here rather than
 * by SQL from the 10 s rows: the tables are keyed by (client, ts), so a
 * time-range re-read would scan every row or need a second index written
 * on every insert, while the bases cost ~0.3 KiB per client in memory and
 * one subtraction per row.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/parse.h"
#include "store/db.h"
#include "store/hist.h"
#include "store/writer.h"

const struct xtel_counter_desc xtel_store_stat_desc[XTEL_STORE_STAT_MAX] = {
#define X(id, nm, un, hp) XTEL_COUNTER_DESC(XTEL_STORE_STAT_, id, nm, un, hp)
	XTEL_STORE_STATS(X)
#undef X
};

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

static void stat_add(struct xtel_store *w, enum xtel_store_stat s, uint64_t n)
{
	__atomic_add_fetch(&w->stat[s], n, __ATOMIC_RELAXED);
}

/* ---- statements ---- */

static int prepare(struct xtel_store *w, sqlite3_stmt **st, const char *sql)
{
	int rc = sqlite3_prepare_v3(w->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				    st, NULL);

	if (rc != SQLITE_OK) {
		pr_err("%s: %s (in %.60s...)", w->what, sqlite3_errmsg(w->db), sql);
		return xtel_db_errno(rc);
	}
	return 0;
}

/* Appends printf output to buf (size n, used *len). */
static void cat(char *buf, size_t n, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void cat(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*len >= n)
		return;
	va_start(ap, fmt);
	k = vsnprintf(buf + *len, n - *len, fmt, ap);
	va_end(ap);
	if (k > 0)
		*len += (size_t)k;
}

static const char lat_update[] =
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
	char sql[2048];
	size_t n = 0;
	int rc;

	/* totals_T: ts, dt_ms, gauges, every column, latency */
	cat(sql, sizeof(sql), &n, "INSERT INTO totals_%s (ts, dt_ms", tn);
	for (unsigned int g = 0; g < XTEL_STORE_N_GAUGES; g++)
		cat(sql, sizeof(sql), &n, ", %s", xtel_store_gauges[g].name);
	for (unsigned int c = 0; c < N_CT; c++)
		cat(sql, sizeof(sql), &n, ", %s", xtel_store_cols[c].name);
	cat(sql, sizeof(sql), &n, ", lat_count, lat_sum, lat_min, lat_max, "
	    "lat_hist) VALUES (?");
	for (unsigned int i = 1; i < 2 + XTEL_STORE_N_GAUGES + N_CT + 5; i++)
		cat(sql, sizeof(sql), &n, ", ?");
	cat(sql, sizeof(sql), &n, ") ON CONFLICT (ts) DO UPDATE SET "
	    "dt_ms = dt_ms + excluded.dt_ms");
	for (unsigned int g = 0; g < XTEL_STORE_N_GAUGES; g++)
		cat(sql, sizeof(sql), &n, ", %s = excluded.%s",
		    xtel_store_gauges[g].name, xtel_store_gauges[g].name);
	for (unsigned int c = 0; c < N_CT; c++)
		cat(sql, sizeof(sql), &n, ", %s = %s + excluded.%s",
		    xtel_store_cols[c].name, xtel_store_cols[c].name,
		    xtel_store_cols[c].name);
	cat(sql, sizeof(sql), &n, ", %s", lat_update);
	rc = prepare(w, &w->ins_totals[t], sql);
	if (rc)
		return rc;
	n = 0;
	cat(sql, sizeof(sql), &n, "DELETE FROM totals_%s WHERE ts IN (SELECT "
	    "ts FROM totals_%s WHERE ts < ?1 ORDER BY ts LIMIT ?2)", tn, tn);
	rc = prepare(w, &w->del_totals[t], sql);
	if (rc || t < XTEL_TIER_CLIENT_FIRST)
		return rc;

	n = 0;
	cat(sql, sizeof(sql), &n, "INSERT INTO acct_%s (client, ts", tn);
	for (unsigned int c = 0; c < XTEL_STORE_N_ACCT; c++)
		cat(sql, sizeof(sql), &n, ", %s", xtel_store_cols[c].name);
	cat(sql, sizeof(sql), &n, ", lat_count, lat_sum, lat_min, lat_max, "
	    "lat_hist) VALUES (?");
	for (unsigned int i = 1; i < 2 + XTEL_STORE_N_ACCT + 5; i++)
		cat(sql, sizeof(sql), &n, ", ?");
	cat(sql, sizeof(sql), &n, ") ON CONFLICT (client, ts) DO UPDATE SET ");
	for (unsigned int c = 0; c < XTEL_STORE_N_ACCT; c++)
		cat(sql, sizeof(sql), &n, "%s = %s + excluded.%s, ",
		    xtel_store_cols[c].name, xtel_store_cols[c].name,
		    xtel_store_cols[c].name);
	cat(sql, sizeof(sql), &n, "%s", lat_update);
	rc = prepare(w, &w->ins_acct[t], sql);
	if (rc)
		return rc;
	n = 0;
	cat(sql, sizeof(sql), &n, "INSERT INTO metric_%s (client, metric, ts, "
	    "count, sum, min, max) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
	    "(client, metric, ts) DO UPDATE SET count = count + excluded.count, "
	    "sum = sum + excluded.sum, min = min(min, excluded.min), "
	    "max = max(max, excluded.max)", tn);
	rc = prepare(w, &w->ins_metric[t], sql);
	if (rc)
		return rc;
	/* retention: seek the next client, delete its old rows by key range */
	n = 0;
	cat(sql, sizeof(sql), &n, "SELECT client FROM acct_%s WHERE client > ?1 "
	    "ORDER BY client LIMIT 1", tn);
	rc = prepare(w, &w->next_client[t], sql);
	if (rc)
		return rc;
	n = 0;
	cat(sql, sizeof(sql), &n, "DELETE FROM acct_%s WHERE client = ?1 AND "
	    "ts < ?2", tn);
	rc = prepare(w, &w->del_acct[t], sql);
	if (rc)
		return rc;
	n = 0;
	cat(sql, sizeof(sql), &n, "DELETE FROM metric_%s WHERE client = ?1 AND "
	    "metric IN (SELECT id FROM metric_names) AND ts < ?2", tn);
	return prepare(w, &w->del_metric[t], sql);
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

static void fail(struct xtel_store *w, const char *what)
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
	stat_add(w, XTEL_STORE_STAT_ROWS_DROPPED, w->txn_rows);
	stat_add(w, XTEL_STORE_STAT_WRITE_ERRORS, 1);
	w->txn_rows = 0;
	/* names inserted by the rolled back transaction are gone again */
	for (uint32_t i = 0; i < w->n_names; i++)
		if (w->names[i].txn == w->txn_seq)
			w->names[i].id = 0;
	__atomic_store_n(&w->last_error, err, __ATOMIC_RELAXED);
}

static void txn_begin(struct xtel_store *w)
{
	w->txn_failed = false;
	w->txn_rows = 0;
	w->txn_seq++;
	if (sqlite3_exec(w->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		fail(w, "begin");
}

static void txn_commit(struct xtel_store *w, uint64_t t0)
{
	uint64_t ns;

	if (w->txn_failed)
		return;
	if (sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(w, "commit");
		return;
	}
	stat_add(w, XTEL_STORE_STAT_ROWS_WRITTEN, w->txn_rows);
	stat_add(w, XTEL_STORE_STAT_COMMITS, 1);
	ns = xtel_mono_ns() - t0;
	__atomic_store_n(&w->commit_ns_last, ns, __ATOMIC_RELAXED);
	if (ns > w->commit_ns_max)
		__atomic_store_n(&w->commit_ns_max, ns, __ATOMIC_RELAXED);
}

/* Runs a bound statement as one row of the transaction. */
static void row(struct xtel_store *w, sqlite3_stmt *st, const char *what)
{
	int rc;

	if (w->txn_failed) {	/* the rest of a failed transaction */
		stat_add(w, XTEL_STORE_STAT_ROWS_DROPPED, 1);
		sqlite3_reset(st);
		return;
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		w->txn_rows++;
		fail(w, what);
		return;
	}
	w->txn_rows++;
}

/* ---- bases ---- */

static int base_set_hist(struct base *b, const uint8_t *h, uint32_t len)
{
	if (len > b->hist_cap) {
		uint8_t *n = realloc(b->hist, len);

		if (!n)
			return -ENOMEM;
		b->hist = n;
		b->hist_cap = len;
	}
	if (len)
		memcpy(b->hist, h, len);
	b->hist_len = len;
	return 0;
}

static void base_free(struct base *b)
{
	free(b->hist);
}

/* The cumulative columns of a client (or the total) in column order. */
static void cumulative(const struct xtel_client_snap *c, const uint64_t *fleet,
		       uint64_t out[N_CT])
{
	out[XTEL_STORE_RECEIVED] = c->received;
	out[XTEL_STORE_BYTES] = c->bytes;
	out[XTEL_STORE_LOST] = c->lost;
	out[XTEL_STORE_DUPLICATES] = c->duplicates;
	out[XTEL_STORE_REORDERED] = c->reordered;
	out[XTEL_STORE_TOO_LATE] = c->too_late;
	for (unsigned int i = XTEL_STORE_N_ACCT; i < N_CT; i++)
		out[i] = fleet ? fleet[i - XTEL_STORE_N_ACCT] : 0;
}

/*
 * The row of one bucket: deltas of c against b into d (counters) and the
 * latency fields bound from parameter first on. Returns true when the row
 * holds anything; the base then moves to c.
 */
static bool delta_bind(struct xtel_store *w, struct base *b,
		       const struct xtel_client_snap *c, const uint64_t *fleet,
		       sqlite3_stmt *st, int col0, int lat0, unsigned int n_cols,
		       bool always)
{
	uint64_t cur[N_CT], lat_count, lat_sum, cnt, mn, mx;
	size_t need = xtel_hist_sum_max(c->lat_hist_len, b->hist_len);
	bool any = always;
	int lo, hi;
	long len;

	cumulative(c, fleet, cur);
	for (unsigned int i = 0; i < n_cols; i++) {
		uint64_t d = cur[i] > b->c[i] ? cur[i] - b->c[i] : 0;

		any |= d != 0;
		sqlite3_bind_int64(st, col0 + (int)i, (int64_t)d);
	}
	lat_count = c->lat.count > b->lat_count ? c->lat.count - b->lat_count : 0;
	lat_sum = c->lat.sum_ns > b->lat_sum ? c->lat.sum_ns - b->lat_sum : 0;
	any |= lat_count != 0;
	if (!any)
		return false;
	if (need > w->scratch_cap) {
		uint8_t *n = realloc(w->scratch, need);

		if (!n)
			return false;
		w->scratch = n;
		w->scratch_cap = need;
	}
	len = xtel_hist_sub(c->lat_hist, c->lat_hist_len, b->hist, b->hist_len,
			    w->scratch, &lo, &hi, &cnt);
	if (len < 0)
		len = 0, lo = -1;
	sqlite3_bind_int64(st, lat0, (int64_t)lat_count);
	sqlite3_bind_int64(st, lat0 + 1, (int64_t)lat_sum);
	if (lo >= 0 && lat_count) {
		xtel_hist_bounds(lo, hi, c->lat.min_ns, c->lat.max_ns, &mn, &mx);
		sqlite3_bind_int64(st, lat0 + 2, (int64_t)mn);
		sqlite3_bind_int64(st, lat0 + 3, (int64_t)mx);
		sqlite3_bind_blob(st, lat0 + 4, w->scratch, (int)len,
				  SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_null(st, lat0 + 2);
		sqlite3_bind_null(st, lat0 + 3);
		sqlite3_bind_null(st, lat0 + 4);
	}
	memcpy(b->c, cur, sizeof(cur));
	b->lat_count = c->lat.count;
	b->lat_sum = c->lat.sum_ns;
	base_set_hist(b, c->lat_hist, c->lat_hist_len);
	return true;
}

/* ---- clients and metric names ---- */

/* Merge the snapshot's client ids into w->clients (both sorted). */
static int sync_clients(struct xtel_store *w, const struct xtel_snapshot *s)
{
	uint32_t missing = 0, i = 0, j = 0, k = 0;
	struct wclient *n;

	for (i = 0, j = 0; i < s->n_clients; i++) {
		while (j < w->n_clients && w->clients[j].id < s->clients[i].client_id)
			j++;
		if (j == w->n_clients || w->clients[j].id != s->clients[i].client_id)
			missing++;
	}
	if (!missing)
		return 0;
	n = calloc(w->n_clients + missing, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (i = 0, j = 0; i < s->n_clients || j < w->n_clients;) {
		if (j < w->n_clients && (i == s->n_clients ||
		    w->clients[j].id <= s->clients[i].client_id)) {
			if (i < s->n_clients &&
			    w->clients[j].id == s->clients[i].client_id)
				i++;
			n[k++] = w->clients[j++];
		} else {
			n[k++].id = s->clients[i++].client_id;
		}
	}
	free(w->clients);
	w->clients = n;
	w->n_clients = k;
	return 0;
}

/*
 * Inserts names[i] into metric_names (in the frame's transaction, whose
 * fate it shares: fail() forgets the ids of a rolled back one). 0 or -1.
 */
static int name_save(struct xtel_store *w, uint32_t i)
{
	int rc;

	sqlite3_bind_text(w->ins_name, 1, w->names[i].s, -1, SQLITE_STATIC);
	rc = sqlite3_step(w->ins_name);
	if (rc == SQLITE_ROW) {
		w->names[i].id = sqlite3_column_int64(w->ins_name, 0);
		w->names[i].txn = w->txn_seq;
	}
	sqlite3_reset(w->ins_name);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* The index into w->names of key, added if new; -1: out of memory. */
static long name_get(struct xtel_store *w, const char *key)
{
	struct name *nn;

	for (uint32_t i = 0; i < w->n_names; i++)
		if (!strcmp(w->names[i].s, key))
			return (long)i;
	if (w->n_names == w->cap_names) {
		uint32_t cap = w->cap_names ? 2 * w->cap_names : 32;

		nn = realloc(w->names, cap * sizeof(*nn));
		if (!nn)
			return -1;
		w->names = nn;
		w->cap_names = cap;
	}
	w->names[w->n_names].s = strdup(key);
	if (!w->names[w->n_names].s)
		return -1;
	w->names[w->n_names].id = 0;	/* saved when first written */
	return (long)w->n_names++;
}

static int load_names(struct xtel_store *w)
{
	sqlite3_stmt *st;
	int rc = prepare(w, &st, "SELECT id, name FROM metric_names ORDER BY id");

	if (rc)
		return rc;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct name *nn;

		if (w->n_names == w->cap_names) {
			uint32_t cap = w->cap_names ? 2 * w->cap_names : 32;

			nn = realloc(w->names, cap * sizeof(*nn));
			if (!nn)
				break;
			w->names = nn;
			w->cap_names = cap;
		}
		w->names[w->n_names].id = sqlite3_column_int64(st, 0);
		w->names[w->n_names].s = strdup((const char *)sqlite3_column_text(st, 1));
		if (w->names[w->n_names].s)
			w->n_names++;
	}
	sqlite3_finalize(st);
	return 0;
}

static struct wmetric *metric_get(struct xtel_store *w, struct wclient *wc,
				  const char *key)
{
	long nm;

	for (uint32_t k = 0; k < wc->n_m; k++)
		if (!strcmp(w->names[wc->m[k].name].s, key))
			return &wc->m[k];
	nm = name_get(w, key);
	if (nm < 0)
		return NULL;
	if (wc->n_m == wc->cap_m) {
		uint32_t cap = wc->cap_m ? 2 * wc->cap_m : 4;
		struct wmetric *n = realloc(wc->m, cap * sizeof(*n));

		if (!n)
			return NULL;
		wc->m = n;
		wc->cap_m = cap;
	}
	memset(&wc->m[wc->n_m], 0, sizeof(wc->m[0]));
	wc->m[wc->n_m].name = (uint32_t)nm;
	return &wc->m[wc->n_m++];
}

static void macc_add(struct macc *a, const struct xtel_metric_snap *m)
{
	if (!a->count || m->min < a->min)
		a->min = m->min;
	if (!a->count || m->max > a->max)
		a->max = m->max;
	a->count += m->count;
	a->sum += m->mean * (double)m->count;
}

/* Each client's metric samples of this view into every client tier. */
static void accumulate(struct xtel_store *w, const struct xtel_snapshot *s)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < s->n_clients; i++) {
		const struct xtel_client_snap *c = &s->clients[i];
		struct wclient *wc;

		while (j < w->n_clients && w->clients[j].id < c->client_id)
			j++;
		if (j == w->n_clients)
			break;
		wc = &w->clients[j];
		for (uint32_t k = 0; k < c->n_metrics; k++) {
			const struct xtel_metric_snap *m = &c->metrics[k];
			struct wmetric *wm;

			if (!m->count)
				continue;
			wm = metric_get(w, wc, m->key);
			if (!wm)
				continue;
			for (unsigned int t = 0; t < N_CLIENT_TIERS; t++)
				macc_add(&wm->t[t], m);
		}
	}
}

/* ---- writing a tier's bucket ---- */

static void flush_tier(struct xtel_store *w, unsigned int t,
		       const struct xtel_store_frame *e)
{
	const struct xtel_snapshot *s = e->snap;
	int64_t ts = (int64_t)(w->bucket[t] * xtel_tiers[t].width_s);
	sqlite3_stmt *st = w->ins_totals[t];
	int p = 1;

	sqlite3_bind_int64(st, p++, ts);
	sqlite3_bind_int64(st, p++, (int64_t)(w->fleet_dt[t] * 1000.0 + 0.5));
	for (unsigned int g = 0; g < XTEL_STORE_N_GAUGES; g++)
		sqlite3_bind_int64(st, p++, (int64_t)e->gauges[g]);
	delta_bind(w, &w->fleet[t], &s->total, e->fleet, st, p, p + N_CT,
		   N_CT, true);
	row(w, st, "write totals");
	w->fleet_dt[t] = 0;
	if (t < XTEL_TIER_CLIENT_FIRST)
		return;

	for (uint32_t i = 0, j = 0; i < s->n_clients; i++) {
		const struct xtel_client_snap *c = &s->clients[i];
		unsigned int ct = t - XTEL_TIER_CLIENT_FIRST;
		struct wclient *wc;

		while (j < w->n_clients && w->clients[j].id < c->client_id)
			j++;
		if (j == w->n_clients || w->clients[j].id != c->client_id)
			continue;
		wc = &w->clients[j];
		st = w->ins_acct[t];
		sqlite3_bind_int64(st, 1, c->client_id);
		sqlite3_bind_int64(st, 2, ts);
		if (delta_bind(w, &wc->b[ct], c, NULL, st, 3,
			       3 + XTEL_STORE_N_ACCT, XTEL_STORE_N_ACCT, false))
			row(w, st, "write client rows");
		else
			sqlite3_clear_bindings(st);
		for (uint32_t k = 0; k < wc->n_m; k++) {
			struct macc *a = &wc->m[k].t[ct];

			if (!a->count)
				continue;
			if (!w->names[wc->m[k].name].id && !w->txn_failed &&
			    name_save(w, wc->m[k].name)) {
				fail(w, "write metric names");
				continue;
			}
			st = w->ins_metric[t];
			sqlite3_bind_int64(st, 1, c->client_id);
			sqlite3_bind_int64(st, 2, w->names[wc->m[k].name].id);
			sqlite3_bind_int64(st, 3, ts);
			sqlite3_bind_int64(st, 4, (int64_t)a->count);
			sqlite3_bind_double(st, 5, a->sum);
			sqlite3_bind_double(st, 6, a->min);
			sqlite3_bind_double(st, 7, a->max);
			row(w, st, "write metric rows");
			memset(a, 0, sizeof(*a));
		}
	}
}

/* ---- retention ---- */

static uint64_t retain_s(const struct xtel_store *w, unsigned int t)
{
	return w->cfg.retain_s[t] ? w->cfg.retain_s[t] : xtel_tiers[t].retain_s;
}

static void count_deleted(struct xtel_store *w, sqlite3_stmt *st,
			  const char *what)
{
	row(w, st, what);
	if (!w->txn_failed) {
		/* deletions are not rows written */
		w->txn_rows--;
		stat_add(w, XTEL_STORE_STAT_RETAIN_DELETED,
			 (uint64_t)sqlite3_changes(w->db));
	}
}

/*
 * A bounded slice of retention per view: per tier, up to 1,000 fleet
 * rows, and the old rows of the next few clients (a key-range delete each,
 * after a seek to the next client id), so a sweep over every client takes
 * a few hundred views and no view's transaction grows large.
 */
static void retain_step(struct xtel_store *w, uint64_t now_s)
{
	uint32_t visits = 64 + w->n_clients / 256;

	for (unsigned int t = 0; t < XTEL_TIER_N && !w->txn_failed; t++) {
		uint64_t keep = retain_s(w, t);
		int64_t cut;

		if (now_s <= keep)
			continue;
		cut = (int64_t)(now_s - keep);
		sqlite3_bind_int64(w->del_totals[t], 1, cut);
		sqlite3_bind_int64(w->del_totals[t], 2, 1000);
		count_deleted(w, w->del_totals[t], "retention");
		if (t < XTEL_TIER_CLIENT_FIRST)
			continue;
		for (uint32_t v = 0; v < visits && !w->txn_failed; v++) {
			sqlite3_stmt *st = w->next_client[t];
			int64_t client;

			sqlite3_bind_int64(st, 1, w->retain_cursor[t]);
			if (sqlite3_step(st) != SQLITE_ROW) {
				sqlite3_reset(st);
				w->retain_cursor[t] = -1;	/* wrap around */
				break;
			}
			client = sqlite3_column_int64(st, 0);
			sqlite3_reset(st);
			w->retain_cursor[t] = client;
			sqlite3_bind_int64(w->del_acct[t], 1, client);
			sqlite3_bind_int64(w->del_acct[t], 2, cut);
			count_deleted(w, w->del_acct[t], "retention");
			sqlite3_bind_int64(w->del_metric[t], 1, client);
			sqlite3_bind_int64(w->del_metric[t], 2, cut);
			count_deleted(w, w->del_metric[t], "retention");
		}
	}
}

/* ---- one frame ---- */

static void release(struct xtel_store_frame *f)
{
	if (f->release)
		f->release(f->arg);
	f->release = NULL;
}

static uint64_t samples(const struct xtel_snapshot *s)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < s->n_clients; i++)
		for (uint32_t k = 0; k < s->clients[i].n_metrics; k++)
			n += s->clients[i].metrics[k].count;
	return n;
}

void xtel_store_process(struct xtel_store *w, const struct xtel_store_frame *f)
{
	uint64_t t0 = xtel_mono_ns(), now_s = f->taken_ns / 1000000000ull;
	/* from the views' times, so a dropped view's time is not lost */
	double dt = w->have_prev && f->taken_ns > w->prev.taken_ns ?
		    (double)(f->taken_ns - w->prev.taken_ns) / 1e9 : f->dt_s;

	txn_begin(w);
	if (sync_clients(w, f->snap))
		pr_err("%s: out of memory: clients new in this view are not "
		       "stored", w->what);
	if (!w->have_prev) {
		/* pinned XDP counters outlive a run: start from this view */
		for (unsigned int t = 0; t < XTEL_TIER_N; t++)
			for (unsigned int i = XTEL_STORE_N_ACCT; i < N_CT; i++)
				w->fleet[t].c[i] = f->fleet[i - XTEL_STORE_N_ACCT];
	}
	for (unsigned int t = 0; t < XTEL_TIER_N; t++) {
		uint64_t b = now_s / xtel_tiers[t].width_s;

		if (w->have_bucket && b != w->bucket[t] && w->have_prev)
			flush_tier(w, t, &w->prev);
		w->bucket[t] = b;
		w->fleet_dt[t] += dt;
	}
	w->have_bucket = true;
	accumulate(w, f->snap);
	retain_step(w, now_s);
	txn_commit(w, t0);
	stat_add(w, XTEL_STORE_STAT_VIEWS_WRITTEN, 1);
	if (w->have_prev)
		release(&w->prev);
	w->prev = *f;
	w->have_prev = true;
}

void xtel_store_flush(struct xtel_store *w)
{
	uint64_t t0 = xtel_mono_ns();

	if (!w->have_prev || !w->have_bucket)
		return;
	txn_begin(w);
	for (unsigned int t = 0; t < XTEL_TIER_N; t++)
		flush_tier(w, t, &w->prev);
	txn_commit(w, t0);
	w->have_bucket = false;
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
	if (w->q_len == w->q_cap || !w->started || w->stopping) {
		pthread_mutex_unlock(&w->lock);
		stat_add(w, XTEL_STORE_STAT_VIEWS_DROPPED, 1);
		stat_add(w, XTEL_STORE_STAT_SAMPLES_DROPPED, samples(f->snap));
		release(&copy);
		return false;
	}
	w->q[(w->q_head + w->q_len) % w->q_cap] = copy;
	w->q_len++;
	stat_add(w, XTEL_STORE_STAT_VIEWS_QUEUED, 1);
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
		release(&w->prev);
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
	rc = xtel_hist_sql_register(w->db);
	if (rc)
		goto fail;
	for (unsigned int t = 0; t < XTEL_TIER_N && !rc; t++)
		rc = prepare_upserts(w, t);
	if (!rc)
		rc = prepare(w, &w->ins_name, "INSERT INTO metric_names (name) "
			     "VALUES (?1) ON CONFLICT (name) DO UPDATE SET "
			     "name = excluded.name RETURNING id");
	if (!rc)
		rc = load_names(w);
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
		release(&w->q[(w->q_head + i) % w->q_cap]);
	if (w->have_prev)
		release(&w->prev);
	for (unsigned int t = 0; t < XTEL_TIER_N; t++) {
		sqlite3_finalize(w->ins_acct[t]);
		sqlite3_finalize(w->ins_metric[t]);
		sqlite3_finalize(w->ins_totals[t]);
		sqlite3_finalize(w->del_totals[t]);
		sqlite3_finalize(w->next_client[t]);
		sqlite3_finalize(w->del_acct[t]);
		sqlite3_finalize(w->del_metric[t]);
		base_free(&w->fleet[t]);
	}
	sqlite3_finalize(w->ins_name);
	if (w->db)
		sqlite3_close(w->db);
	for (uint32_t i = 0; i < w->n_clients; i++) {
		for (unsigned int t = 0; t < N_CLIENT_TIERS; t++)
			base_free(&w->clients[i].b[t]);
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

/* ---- --retain ---- */

int xtel_store_parse_retain(const char *s, uint64_t retain_s[XTEL_TIER_N])
{
	const char *p = s;

	if (!*p)
		return -EINVAL;
	while (*p) {
		size_t n = strcspn(p, ","), k;
		char buf[32], *eq;
		uint64_t v, mult = 1;
		unsigned int t;

		if (n == 0 || n >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, p, n);
		buf[n] = '\0';
		eq = strchr(buf, '=');
		if (!eq)
			return -EINVAL;
		*eq++ = '\0';
		for (t = 0; t < XTEL_TIER_N; t++)
			if (!strcmp(buf, xtel_tiers[t].name))
				break;
		k = strlen(eq);
		if (t == XTEL_TIER_N || k < 2)
			return -EINVAL;
		switch (eq[k - 1]) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return -EINVAL;
		}
		eq[k - 1] = '\0';
		if (xtel_parse_u64(eq, 1, 100ull * 366 * 86400, &v) ||
		    v * mult < xtel_tiers[t].width_s)
			return -EINVAL;
		retain_s[t] = v * mult;
		p += n;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	return 0;
}
