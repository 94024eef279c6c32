// SPDX-License-Identifier: MIT
/*
 * History queries (query.h): one SELECT over a tier's key range, rows
 * merged into points as they come (rows arrive in ts order: the key is
 * (client, ts) or (client, metric, ts) or ts), and the pool of reader
 * connections.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/db.h"
#include "store/query.h"

int xtel_store_tier_for(enum xtel_store_series kind, uint32_t step)
{
	int first = kind == XTEL_SERIES_TOTALS ? XTEL_TIER_1S :
		    XTEL_TIER_CLIENT_FIRST;

	if (!step || step % xtel_tiers[first].width_s)
		return -1;
	for (int t = XTEL_TIER_N - 1; t > first; t--)
		if (step % xtel_tiers[t].width_s == 0)
			return t;
	return first;
}

static const char lat_select[] = ", lat_count, lat_sum, lat_min, lat_max, lat_hist";

struct merge {
	const struct xtel_store_query *q;
	struct xtel_store_point p;
	struct xtel_hist_acc lat;
	xtel_store_point_fn *fn;
	void *arg;
};

static int emit(struct merge *m)
{
	struct xtel_store_point *p = &m->p;

	if (!p->rows)
		return 0;
	p->lat_count = m->lat.count;
	p->lat_sum = m->lat.sum;
	p->lat_min = m->lat.count ? m->lat.min : 0;
	p->lat_max = m->lat.count ? m->lat.max : 0;
	p->lat_p50 = xtel_hist_acc_quantile(&m->lat, 0.50);
	p->lat_p99 = xtel_hist_acc_quantile(&m->lat, 0.99);
	return m->fn(m->arg, p);
}

/* Starts a new point when row ts falls outside the current one. */
static int point_for(struct merge *m, int64_t ts)
{
	int64_t step = m->q->step, pts = ts - ((ts % step) + step) % step;
	int rc;

	if (m->p.rows && m->p.ts == pts)
		return 0;
	rc = emit(m);
	memset(&m->p, 0, sizeof(m->p));
	xtel_hist_acc_reset(&m->lat);
	m->p.ts = pts;
	return rc;
}

static uint64_t col_u64(sqlite3_stmt *st, int i)
{
	int64_t v = sqlite3_column_int64(st, i);

	return v > 0 ? (uint64_t)v : 0;
}

/* The latency columns from column i on: count, sum, min, max, hist. */
static void add_latency(struct merge *m, sqlite3_stmt *st, int i)
{
	uint64_t count = col_u64(st, i);

	if (!count)
		return;
	xtel_hist_acc_add(&m->lat, sqlite3_column_blob(st, i + 4),
			  (size_t)sqlite3_column_bytes(st, i + 4), count,
			  col_u64(st, i + 1), col_u64(st, i + 2),
			  col_u64(st, i + 3));
}

static int metric_id(sqlite3 *db, const char *key, int64_t *id)
{
	int rc = xtel_db_lookup(db, "SELECT id FROM metric_names WHERE "
				"name = ?1", key, id);

	return rc == 0 || rc == -ENOENT ? rc : -EIO;
}

int xtel_store_query(sqlite3 *db, const struct xtel_store_query *q,
		     xtel_store_point_fn *fn, void *arg)
{
	int tier = xtel_store_tier_for(q->kind, q->step);
	struct merge *m;
	sqlite3_stmt *st = NULL;
	char sql[1024];
	size_t n = 0;
	int64_t mid = 0;
	int rc;

	if (tier < 0)
		return -EINVAL;
	if (q->kind == XTEL_SERIES_METRIC) {
		rc = metric_id(db, q->metric, &mid);
		if (rc)
			return rc;
	}
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	memset(&m->p, 0, sizeof(m->p));
	m->q = q;
	m->fn = fn;
	m->arg = arg;
	xtel_hist_acc_init(&m->lat);

	switch (q->kind) {
	case XTEL_SERIES_CLIENT:
		xtel_store_sql_cat(sql, sizeof(sql), &n, "SELECT ts");
		xtel_store_sql_cols(sql, sizeof(sql), &n, ", %1$s", false, 0,
				    XTEL_STORE_N_ACCT);
		xtel_store_sql_cat(sql, sizeof(sql), &n, "%s FROM acct_%s WHERE "
				   "client = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts",
				   lat_select, xtel_tiers[tier].name);
		break;
	case XTEL_SERIES_METRIC:
		xtel_store_sql_cat(sql, sizeof(sql), &n, "SELECT ts, count, sum, "
				   "min, max FROM metric_%s WHERE client = ?1 AND "
				   "metric = ?4 AND ts >= ?2 AND ts < ?3 ORDER BY ts",
				   xtel_tiers[tier].name);
		break;
	case XTEL_SERIES_TOTALS:
		xtel_store_sql_cat(sql, sizeof(sql), &n, "SELECT ts, dt_ms");
		xtel_store_sql_cols(sql, sizeof(sql), &n, ", %1$s", true, 0,
				    XTEL_STORE_N_GAUGES);
		xtel_store_sql_cols(sql, sizeof(sql), &n, ", %1$s", false, 0,
				    XTEL_STORE_N_COLS);
		xtel_store_sql_cat(sql, sizeof(sql), &n, "%s FROM totals_%s WHERE "
				   "?1 = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts",
				   lat_select, xtel_tiers[tier].name);
		break;
	}
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto db_error;
	sqlite3_bind_int64(st, 1, q->client_id);
	/* rows whose bucket overlaps [from, to): it may start before from */
	sqlite3_bind_int64(st, 2, q->from - (int64_t)xtel_tiers[tier].width_s + 1);
	sqlite3_bind_int64(st, 3, q->to);
	if (q->kind == XTEL_SERIES_METRIC)
		sqlite3_bind_int64(st, 4, mid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct xtel_store_point *p = &m->p;
		int i = 1;

		rc = point_for(m, sqlite3_column_int64(st, 0));
		if (rc)
			goto out;
		p->rows++;
		if (q->kind == XTEL_SERIES_METRIC) {
			uint64_t cnt = col_u64(st, 1);
			double mn = sqlite3_column_double(st, 3);
			double mx = sqlite3_column_double(st, 4);

			if (!p->m_count || mn < p->m_min)
				p->m_min = mn;
			if (!p->m_count || mx > p->m_max)
				p->m_max = mx;
			p->m_count += cnt;
			p->m_sum += sqlite3_column_double(st, 2);
			continue;
		}
		if (q->kind == XTEL_SERIES_TOTALS) {
			p->dt_ms += col_u64(st, i++);
			for (unsigned int g = 0; g < XTEL_STORE_N_GAUGES; g++)
				p->gauges[g] = col_u64(st, i++);
		}
		for (unsigned int c = 0; c < (q->kind == XTEL_SERIES_TOTALS ?
					      XTEL_STORE_N_COLS :
					      XTEL_STORE_N_ACCT); c++)
			p->c[c] += col_u64(st, i++);
		add_latency(m, st, i);
	}
	if (rc != SQLITE_DONE)
		goto db_error;
	rc = emit(m);
	goto out;
db_error:
	xtel_log_ratelimited(XTEL_LOG_ERR, xtel_mono_ns(), "history query: %s",
			     sqlite3_errmsg(db));
	rc = -EIO;
out:
	sqlite3_finalize(st);
	free(m);
	return rc;
}

int xtel_store_reader_open(const char *path, sqlite3 **out)
{
	char what[320];
	int version, rc;

	snprintf(what, sizeof(what), "--db %s (history reader)", path);
	rc = xtel_db_open(path, XTEL_DB_READONLY, what, out);
	if (rc)
		return rc;
	rc = xtel_db_version(*out, xtel_store_schema.name, &version);
	if (!rc && (version < 1 || version > (int)xtel_store_schema.n_steps)) {
		pr_err("%s: history schema version %d, this program reads "
		       "1..%u", what, version, xtel_store_schema.n_steps);
		rc = -EPROTONOSUPPORT;
	}
	if (rc) {
		sqlite3_close(*out);
		*out = NULL;
	}
	return rc;
}

struct xtel_store_readers {
	pthread_mutex_t lock;
	char *path;
	unsigned int max, open;
	unsigned int n_free;
	sqlite3 *free_db[];
};

int xtel_store_readers_new(const char *path, unsigned int max,
			   struct xtel_store_readers **out)
{
	struct xtel_store_readers *r;

	r = calloc(1, sizeof(*r) + max * sizeof(r->free_db[0]));
	if (!r)
		return -ENOMEM;
	r->path = strdup(path);
	if (!r->path) {
		free(r);
		return -ENOMEM;
	}
	r->max = max;
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void xtel_store_readers_free(struct xtel_store_readers *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; i < r->n_free; i++)
		sqlite3_close(r->free_db[i]);
	pthread_mutex_destroy(&r->lock);
	free(r->path);
	free(r);
}

sqlite3 *xtel_store_readers_get(struct xtel_store_readers *r, int *err)
{
	sqlite3 *db = NULL;
	int rc;

	pthread_mutex_lock(&r->lock);
	if (r->n_free) {
		db = r->free_db[--r->n_free];
		pthread_mutex_unlock(&r->lock);
		return db;
	}
	if (r->open == r->max) {
		pthread_mutex_unlock(&r->lock);
		*err = -EBUSY;
		return NULL;
	}
	r->open++;
	pthread_mutex_unlock(&r->lock);
	rc = xtel_store_reader_open(r->path, &db);
	if (rc) {
		pthread_mutex_lock(&r->lock);
		r->open--;
		pthread_mutex_unlock(&r->lock);
		*err = rc;
		return NULL;
	}
	return db;
}

void xtel_store_readers_put(struct xtel_store_readers *r, sqlite3 *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&r->lock);
	r->free_db[r->n_free++] = db;
	pthread_mutex_unlock(&r->lock);
}
