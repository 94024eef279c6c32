// SPDX-License-Identifier: MIT
/*
 * The rollups of the history writer (writer.h, writer_internal.h). State
 * per client and per tier is the base, the cumulative figures at the end
 * of the tier's previous bucket (counters, latency count and sum, the
 * encoded histogram), plus per-metric accumulators. The 1 min and 1 h
 * tiers are accumulated here rather than by SQL from the 10 s rows: the
 * tables are keyed by (client, ts), so a time-range re-read would scan
 * every row or need a second index written on every insert, while the
 * bases cost ~0.3 KiB per client in memory and one subtraction per row.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/db.h"
#include "store/hist.h"
#include "store/writer_internal.h"

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
 * The row of one bucket: binds the deltas of c against its base b (the
 * first n_cols columns, from parameter col0 on) and the latency fields
 * (from lat0 on: count, sum, min, max, histogram). Returns true when the
 * row holds anything (or always), the base then moved to c; false when
 * there is nothing to write or no memory for the histogram's difference.
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

int xtel_store_load_names(struct xtel_store *w)
{
	sqlite3_stmt *st;
	int rc = xtel_store_prepare(w, &st, "SELECT id, name FROM metric_names ORDER BY id");

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
	if (delta_bind(w, &w->fleet[t], &s->total, e->fleet, st, p, p + N_CT,
		       N_CT, true))
		xtel_store_row(w, st, "write totals");
	else	/* out of memory for the histogram's difference */
		sqlite3_clear_bindings(st);
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
			xtel_store_row(w, st, "write client rows");
		else
			sqlite3_clear_bindings(st);
		for (uint32_t k = 0; k < wc->n_m; k++) {
			struct macc *a = &wc->m[k].t[ct];

			if (!a->count)
				continue;
			if (!w->names[wc->m[k].name].id && !w->txn_failed &&
			    name_save(w, wc->m[k].name)) {
				xtel_store_fail(w, "write metric names");
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
			xtel_store_row(w, st, "write metric rows");
			memset(a, 0, sizeof(*a));
		}
	}
}

/* ---- one frame ---- */

void xtel_store_process(struct xtel_store *w, const struct xtel_store_frame *f)
{
	uint64_t t0 = xtel_mono_ns(), now_s = f->taken_ns / 1000000000ull;
	/* from the views' times, so a dropped view's time is not lost */
	double dt = w->have_prev && f->taken_ns > w->prev.taken_ns ?
		    (double)(f->taken_ns - w->prev.taken_ns) / 1e9 : f->dt_s;

	xtel_store_txn_begin(w);
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
	if (f->events)
		f->events(f->arg, w, w->event_seq);
	xtel_store_retain_step(w, now_s);
	xtel_store_txn_commit(w, t0);
	xtel_store_stat_add(w, XTEL_STORE_STAT_VIEWS_WRITTEN, 1);
	if (w->have_prev)
		xtel_store_release(&w->prev);
	w->prev = *f;
	w->have_prev = true;
}

void xtel_store_flush(struct xtel_store *w)
{
	uint64_t t0 = xtel_mono_ns();

	if (!w->have_prev || !w->have_bucket)
		return;
	xtel_store_txn_begin(w);
	for (unsigned int t = 0; t < XTEL_TIER_N; t++)
		flush_tier(w, t, &w->prev);
	xtel_store_txn_commit(w, t0);
	w->have_bucket = false;
}

