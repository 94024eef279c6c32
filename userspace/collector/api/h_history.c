// SPDX-License-Identifier: MIT
/*
 * The history endpoints (docs/API.md, "GET /api/v1/history"): one client's
 * accounting series, latency or device metric over a time range, and the
 * fleet totals, from --db through the store's queries on reader
 * connections of the API's own (never the writer's). JSON by default; CSV
 * with format=csv or Accept: text/csv, whose columns are the JSON point's
 * fields in the same order (a nested latency object flattened to
 * latency_count, latency_p50, ...), so both forms have one definition;
 * CSV reals have 15 significant digits (JSON's 17 round-trip a double,
 * which a spreadsheet does not need).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/parse.h"
#include "collector/api/internal.h"
#include "store/query.h"

/* What one point of the reply holds. */
enum what {
	W_ACCT,		/* every accounting series and latency */
	W_COUNTER,	/* one column of XTEL_STORE_ACCT */
	W_LOSS,		/* loss_pct */
	W_LATENCY,
	W_METRIC,	/* a device metric key */
	W_TOTALS,
};

struct hctx {
	enum what what;
	unsigned int col;	/* W_COUNTER */
	uint32_t step;
	json_t *points;
	int err;
};

enum { MAX_POINTS = 10000 };

int xtel_api_param_time(const struct xtel_api_req *r, struct xtel_api_reply *rep,
			const char *key, int64_t def, int64_t *out)
{
	const char *v = xtel_api_param(r, key);

	if (!v) {
		*out = def;
		return 0;
	}
	if (xtel_parse_time(v, out))
		return xtel_api_error(rep, 400, "bad_parameter", key,
				      "%s must be Unix seconds or an RFC 3339 "
				      "time (e.g. 2026-12-01T12:00:00Z)", key);
	return 0;
}

/* The default step: the first of these giving at most 1000 points. */
static uint32_t default_step(enum xtel_store_series kind, int64_t span)
{
	static const uint32_t steps[] = { 1, 10, 60, 300, 600, 1800, 3600,
					  21600, 86400 };
	uint32_t s = 86400;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (kind != XTEL_SERIES_TOTALS && steps[i] < 10)
			continue;
		if (span / steps[i] <= 1000) {
			s = steps[i];
			break;
		}
	}
	return s;
}

static json_t *us(uint64_t ns, uint64_t count)
{
	return count ? xtel_json_fixed((double)ns / 1e3, 3) : json_null();
}

/* count, min, mean, p50, p99, max (us; null without samples) into o. */
static json_t *latency_fields(json_t *o, const struct xtel_store_point *p)
{
	xtel_json_set(o, "count", xtel_json_u64(p->lat_count));
	xtel_json_set(o, "min", us(p->lat_min, p->lat_count));
	xtel_json_set(o, "mean", us(p->lat_count ? p->lat_sum / p->lat_count : 0,
				    p->lat_count));
	xtel_json_set(o, "p50", us(p->lat_p50, p->lat_count));
	xtel_json_set(o, "p99", us(p->lat_p99, p->lat_count));
	xtel_json_set(o, "max", us(p->lat_max, p->lat_count));
	return o;
}

static json_t *loss_json(const struct xtel_store_point *p)
{
	return xtel_json_fixed(xtel_loss_pct(p->c[XTEL_STORE_RECEIVED],
					     p->c[XTEL_STORE_DUPLICATES],
					     p->c[XTEL_STORE_LOST]), 6);
}

/* One point as the reply has it (CSV flattens the same object). */
static json_t *point_json(const struct hctx *h, const struct xtel_store_point *p)
{
	json_t *o = json_object();
	double dt;

	xtel_json_set(o, "ts", json_integer(p->ts));
	switch (h->what) {
	case W_COUNTER:
		xtel_json_set(o, "value", xtel_json_u64(p->c[h->col]));
		break;
	case W_LOSS:
		xtel_json_set(o, "value", loss_json(p));
		break;
	case W_LATENCY:
		latency_fields(o, p);
		break;
	case W_METRIC:
		xtel_json_set(o, "count", xtel_json_u64(p->m_count));
		xtel_json_set(o, "min", xtel_json_real(p->m_min));
		xtel_json_set(o, "max", xtel_json_real(p->m_max));
		xtel_json_set(o, "mean", xtel_json_real(p->m_count ?
					p->m_sum / (double)p->m_count : 0.0));
		xtel_json_set(o, "sum", xtel_json_real(p->m_sum));
		break;
	case W_TOTALS:
		dt = (double)p->dt_ms / 1e3;
		xtel_json_set(o, "dt_s", xtel_json_fixed(dt, 3));
		for (unsigned int g = 0; g < XTEL_STORE_N_GAUGES; g++)
			xtel_json_set(o, xtel_store_gauges[g].name,
				      xtel_json_u64(p->gauges[g]));
		/* fall through */
	case W_ACCT:
		for (unsigned int c = 0; c < (h->what == W_TOTALS ?
				XTEL_STORE_N_COLS : XTEL_STORE_N_ACCT); c++)
			xtel_json_set(o, xtel_store_cols[c].name,
				      xtel_json_u64(p->c[c]));
		xtel_json_set(o, "loss_pct", loss_json(p));
		if (h->what == W_TOTALS) {
			dt = (double)p->dt_ms / 1e3;
			xtel_json_set(o, "pkt_s", dt > 0 ? xtel_json_fixed(
				(double)p->c[XTEL_STORE_RECEIVED] / dt, 3) :
				json_null());
			xtel_json_set(o, "mb_s", dt > 0 ? xtel_json_fixed(
				(double)p->c[XTEL_STORE_BYTES] / dt / 1e6, 6) :
				json_null());
		}
		xtel_json_set(o, "latency", latency_fields(json_object(), p));
		break;
	}
	return o;
}

static int on_point(void *arg, const struct xtel_store_point *p)
{
	struct hctx *h = arg;

	if (json_array_size(h->points) >= MAX_POINTS)
		return 1;
	if (json_array_append_new(h->points, point_json(h, p)))
		return -ENOMEM;
	return 0;
}

/* ---- CSV ---- */

struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *np;

		while (cap < b->n + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* Header (names) or values of one point object, nested objects flattened. */
static void csv_fields(struct buf *b, json_t *o, const char *prefix,
		       bool header, bool *first)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		if (json_is_object(v)) {
			csv_fields(b, v, k, header, first);
			continue;
		}
		if (!*first)
			put(b, ",", 1);
		*first = false;
		if (header) {
			if (prefix) {
				put(b, prefix, strlen(prefix));
				put(b, "_", 1);
			}
			put(b, k, strlen(k));
		} else if (!json_is_null(v)) {
			/* 15 digits: 0.990099, not 0.99009899999999995 */
			char *s = json_dumps(v, JSON_ENCODE_ANY |
					     JSON_REAL_PRECISION(15));

			if (s)
				put(b, s, strlen(s));
			else
				b->oom = true;
			free(s);
		}
	}
	if (!prefix)
		put(b, "\r\n", 2);
}

static void csv_reply(struct xtel_api_reply *rep, const struct hctx *h)
{
	struct xtel_store_point zero = { 0 };
	struct buf b = { 0 };
	json_t *hdr = point_json(h, &zero), *v;
	size_t i;
	bool first = true;

	csv_fields(&b, hdr, NULL, true, &first);
	json_decref(hdr);
	json_array_foreach(h->points, i, v) {
		first = true;
		csv_fields(&b, v, NULL, false, &first);
	}
	if (b.oom) {
		free(b.p);
		xtel_api_error(rep, 500, "out_of_memory", NULL, "out of memory");
		return;
	}
	rep->status = 200;
	rep->text = b.p;
	rep->text_len = b.n;
	rep->content_type = "text/csv; charset=utf-8";
}

/* ---- the endpoints ---- */

static bool is_builtin(const char *m, struct hctx *h)
{
	if (!strcmp(m, "acct")) {
		h->what = W_ACCT;
		return true;
	}
	if (!strcmp(m, "latency")) {
		h->what = W_LATENCY;
		return true;
	}
	if (!strcmp(m, "loss_pct")) {
		h->what = W_LOSS;
		return true;
	}
	for (unsigned int c = 0; c < XTEL_STORE_N_ACCT; c++)
		if (!strcmp(m, xtel_store_cols[c].name)) {
			h->what = W_COUNTER;
			h->col = c;
			return true;
		}
	return false;
}

static void history(struct xtel_api_req *r, struct xtel_api_reply *rep,
		    bool totals)
{
	static const char *const formats[] = { "json", "csv", NULL };
	struct xtel_api *api = r->api;
	struct xtel_store_query q = { .kind = totals ? XTEL_SERIES_TOTALS :
					       XTEL_SERIES_CLIENT };
	struct hctx h = { .what = totals ? W_TOTALS : W_ACCT };
	const char *metric = totals ? NULL : xtel_api_param(r, "metric");
	int64_t now = (int64_t)(r->now_ns / 1000000000ull);
	uint64_t id = 0, step;
	sqlite3 *db;
	json_t *o;
	int fmt, tier, rc;

	if (!api->store_readers) {
		xtel_api_error(rep, 404, "no_history", NULL,
			       "the collector runs without --db: no history");
		return;
	}
	fmt = xtel_api_param_choice(r, rep, "format", formats, r->accept_csv);
	if (fmt < 0)
		return;
	if (!totals) {
		if (!xtel_api_param(r, "client_id")) {
			xtel_api_error(rep, 400, "missing_parameter", "client_id",
				       "client_id is required");
			return;
		}
		if (xtel_api_param_u64(r, rep, "client_id", 0, UINT32_MAX, 0, &id))
			return;
		q.client_id = (uint32_t)id;
		if (metric && !xtel_api_metric_name_ok(metric)) {
			xtel_api_error(rep, 400, "bad_parameter", "metric",
				       "metric must be 1..32 characters of "
				       "A-Z a-z 0-9 _ . -");
			return;
		}
		if (metric && !is_builtin(metric, &h)) {
			h.what = W_METRIC;
			q.kind = XTEL_SERIES_METRIC;
			q.metric = metric;
		}
	}
	if (xtel_api_param_time(r, rep, "to", now + 1, &q.to) ||
	    xtel_api_param_time(r, rep, "from", q.to - 3600, &q.from))
		return;
	if (q.from >= q.to) {
		xtel_api_error(rep, 400, "bad_parameter", "from",
			       "from must be before to");
		return;
	}
	if (xtel_api_param_u64(r, rep, "step", 1, 366 * 86400,
			       default_step(q.kind, q.to - q.from), &step))
		return;
	q.step = (uint32_t)step;
	tier = xtel_store_tier_for(q.kind, q.step);
	if (tier < 0) {
		xtel_api_error(rep, 400, "bad_parameter", "step",
			       "step must be a multiple of %u seconds",
			       totals ? 1u : xtel_tiers[XTEL_TIER_CLIENT_FIRST].width_s);
		return;
	}
	if ((q.to - q.from) / q.step > MAX_POINTS) {
		xtel_api_error(rep, 400, "bad_parameter", "step",
			       "more than %d points: pick a larger step or a "
			       "shorter range", MAX_POINTS);
		return;
	}
	db = xtel_store_readers_get(api->store_readers, &rc);
	if (!db) {
		if (rc == -EBUSY) {
			rep->retry_after = 1;
			xtel_api_error(rep, 503, "busy", NULL, "every history "
				       "reader is busy: retry after 1 s");
		} else {
			xtel_api_error(rep, 503, "history_unavailable", NULL,
				       "the history database cannot be read "
				       "(see the collector's log): %s",
				       strerror(-rc));
		}
		return;
	}
	h.step = q.step;
	h.points = json_array();
	rc = xtel_store_query(db, &q, on_point, &h);
	xtel_store_readers_put(api->store_readers, db);
	if (rc == -ENOENT) {
		json_decref(h.points);
		xtel_api_error(rep, 404, "unknown_metric", "metric",
			       "no client ever stored metric '%s'", metric);
		return;
	}
	if (rc < 0) {
		json_decref(h.points);
		xtel_api_error(rep, rc == -ENOMEM ? 500 : 503, rc == -ENOMEM ?
			       "out_of_memory" : "history_unavailable", NULL,
			       "the history query failed (see the collector's log)");
		return;
	}
	if (fmt == 1) {
		csv_reply(rep, &h);
		json_decref(h.points);
		return;
	}
	o = xtel_api_ok(rep);
	if (!totals) {
		xtel_json_set(o, "client_id", json_integer(q.client_id));
		xtel_json_set(o, "metric", json_string(metric ? metric : "acct"));
	}
	xtel_json_set(o, "from", json_integer(q.from));
	xtel_json_set(o, "to", json_integer(q.to));
	xtel_json_set(o, "step", json_integer(q.step));
	xtel_json_set(o, "tier", json_string(xtel_tiers[tier].name));
	xtel_json_set(o, "points", h.points);
}

void xtel_api_h_history(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	history(r, rep, false);
}

void xtel_api_h_history_totals(struct xtel_api_req *r,
			       struct xtel_api_reply *rep)
{
	history(r, rep, true);
}
