// SPDX-License-Identifier: MIT
/*
 * The value queries: GET /api/v1/get (one metric of one client, 503 when
 * stale), /api/v1/list (one metric across clients, stale entries marked)
 * and /api/v1/aggregate (per client: counts, latency, each metric's
 * min/max/mean over the run or a window of the history). The seed's
 * aliases (h_seed.c) answer from the same lookups.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/parse.h"
#include "collector/api/internal.h"
#include "collector/out/view_json.h"

static const char *const state_names[] = { "all", "live", "stale", "bye", NULL };

int xtel_api_lookup_value(const struct xtel_api_req *r,
			  struct xtel_api_reply *rep, const char *id_param,
			  const struct xtel_view_client **vc_out,
			  const struct xtel_run_metric **m_out)
{
	const char *id_s = xtel_api_param(r, id_param);
	const char *metric = xtel_api_param(r, "metric");
	const struct xtel_view_client *vc;
	const struct xtel_run_metric *m;
	uint64_t id;

	if (!id_s)
		return xtel_api_error(rep, 400, "missing_parameter", id_param,
				      "%s is required", id_param);
	if (xtel_parse_u64(id_s, 0, UINT32_MAX, &id))
		return xtel_api_error(rep, 400, "bad_parameter", id_param,
				      "%s must be a whole number in "
				      "0..4294967295", id_param);
	if (!metric)
		return xtel_api_error(rep, 400, "missing_parameter", "metric",
				      "metric is required");
	if (!xtel_api_metric_name_ok(metric))
		return xtel_api_error(rep, 400, "bad_parameter", "metric",
				      "metric must be 1..32 of A-Z a-z 0-9 _ . -");
	vc = xtel_api_find_client(r->v, (uint32_t)id);
	if (!vc)
		return xtel_api_error(rep, 404, "unknown_client", id_param,
				      "no client %llu in the snapshot",
				      (unsigned long long)id);
	m = xtel_api_find_metric(vc, metric);
	if (!m)
		return xtel_api_error(rep, 404, "unknown_metric", "metric",
				      "client %llu never sent metric '%s'",
				      (unsigned long long)id, metric);
	*vc_out = vc;
	*m_out = m;
	return 0;
}

/* A value's fields: value, ts_ns, age_s, fresh, state. */
void xtel_api_value_json(json_t *o, const struct xtel_api_req *r,
			 const struct xtel_view_client *vc,
			 const struct xtel_run_metric *m)
{
	xtel_json_set(o, "value", xtel_json_real(m->latest->last));
	xtel_json_set(o, "ts_ns", xtel_json_u64(m->latest->last_ts_ns));
	xtel_json_set(o, "age_s", xtel_json_fixed(xtel_api_age_s(r, m->latest->last_ts_ns), 6));
	xtel_json_set(o, "fresh", json_boolean(xtel_api_fresh(r, vc, m->latest->last_ts_ns)));
	xtel_json_set(o, "state", json_string(xtel_client_state_name(vc->state)));
}

void xtel_api_h_get(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	const struct xtel_view_client *vc;
	const struct xtel_run_metric *m;
	json_t *o;

	if (xtel_api_lookup_value(r, rep, "client_id", &vc, &m))
		return;
	o = xtel_api_ok(rep);
	xtel_json_set(o, "client_id", json_integer(vc->snap->client_id));
	xtel_json_set(o, "metric", json_string(m->latest->key));
	xtel_api_value_json(o, r, vc, m);
	if (!xtel_api_fresh(r, vc, m->latest->last_ts_ns)) {
		json_t *e = json_object();
		char msg[160];

		snprintf(msg, sizeof(msg), "the value is %.3f s old and the "
			 "client is %s (--fresh-for %g)",
			 xtel_api_age_s(r, m->latest->last_ts_ns),
			 xtel_client_state_name(vc->state), r->api->cfg->fresh_for_s);
		rep->status = 503;
		xtel_json_set(e, "status", json_integer(503));
		xtel_json_set(e, "code", json_string("stale"));
		xtel_json_set(e, "message", json_string(msg));
		xtel_json_set(e, "param", json_null());
		xtel_json_set(o, "error", e);
	}
}

void xtel_api_h_list(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	const char *metric = xtel_api_param(r, "metric");
	const struct xtel_view *v = r->v;
	uint64_t n = 0, stale = 0;
	json_t *o, *arr;
	bool oom = false;
	int state;

	if (!metric) {
		xtel_api_error(rep, 400, "missing_parameter", "metric",
			       "metric is required");
		return;
	}
	if (!xtel_api_metric_name_ok(metric)) {
		xtel_api_error(rep, 400, "bad_parameter", "metric",
			       "metric must be 1..32 of A-Z a-z 0-9 _ . -");
		return;
	}
	if ((state = xtel_api_param_choice(r, rep, "state", state_names, 0)) < 0)
		return;
	arr = json_array();
	for (uint32_t i = 0; i < v->snap.n_clients; i++) {
		const struct xtel_view_client *vc = &v->clients[i];
		const struct xtel_run_metric *m = xtel_api_find_metric(vc, metric);
		json_t *e;

		if (!m || (state && (int)vc->state != state - 1))
			continue;
		e = json_object();
		xtel_json_set(e, "client_id", json_integer(vc->snap->client_id));
		xtel_api_value_json(e, r, vc, m);
		oom |= json_array_append_new(arr, e) != 0;
		n++;
		stale += !xtel_api_fresh(r, vc, m->latest->last_ts_ns);
	}
	if (n == 0 && state == 0) {
		json_decref(arr);
		xtel_api_error(rep, 404, "unknown_metric", "metric",
			       "no client sent metric '%s'", metric);
		return;
	}
	o = xtel_api_ok(rep);
	xtel_json_set(o, "metric", json_string(metric));
	xtel_json_set(o, "fresh_for_s", xtel_json_real(r->api->cfg->fresh_for_s));
	xtel_json_set(o, "count", xtel_json_u64(n));
	xtel_json_set(o, "stale", xtel_json_u64(stale));
	xtel_json_set(o, "clients", arr);
	if (oom)
		xtel_json_set(o, "", NULL);
}

/* ---- aggregate ---- */

static void fold_add(struct xtel_api_agg *a, const char *key, uint64_t count,
		     double min, double max, double sum)
{
	struct xtel_api_fold *f = NULL;

	if (!count)	/* a key without a sample in the span: not listed */
		return;
	for (unsigned int i = 0; i < a->n; i++)
		if (!strcmp(a->m[i].key, key))
			f = &a->m[i];
	if (!f) {
		if (a->n == sizeof(a->m) / sizeof(a->m[0]))
			return;
		f = &a->m[a->n++];
		*f = (struct xtel_api_fold){ .key = key };
	}
	if (!f->count || min < f->min)
		f->min = min;
	if (!f->count || max > f->max)
		f->max = max;
	f->sum += sum;
	f->count += count;
}

/* The window from history: counts by difference, metrics folded. */
static void agg_window(struct xtel_api_agg *a, const struct xtel_api_history *h,
		       unsigned int k, uint32_t *cursors, uint32_t id,
		       const char *metric)
{
	const struct xtel_api_hist_rec *newest = xtel_api_history_at(h, 0);
	const struct xtel_api_hist_rec *base = xtel_api_history_at(h, k);
	const struct xtel_api_hist_client *cn, *cb = NULL;

	cn = xtel_api_hist_find(newest, id, &cursors[0]);
	if (base)
		cb = xtel_api_hist_find(base, id, &cursors[k]);
	if (cn) {
		a->received = cn->received - (cb ? cb->received : 0);
		a->lost = cn->lost - (cb ? cb->lost : 0);
		a->duplicates = cn->duplicates - (cb ? cb->duplicates : 0);
		a->reordered = cn->reordered - (cb ? cb->reordered : 0);
		a->too_late = cn->too_late - (cb ? cb->too_late : 0);
	}
	for (unsigned int i = 0; i < k; i++) {
		const struct xtel_api_hist_rec *rec = xtel_api_history_at(h, i);
		const struct xtel_api_hist_client *c =
			i ? xtel_api_hist_find(rec, id, &cursors[i]) : cn;

		for (uint32_t j = 0; c && j < c->n_metrics; j++) {
			const struct xtel_api_hist_metric *m =
				&rec->metrics[c->first_metric + j];

			const char *key = h->keys[m->key];

			if (!metric || !strcmp(metric, key))
				fold_add(a, key, m->count, m->min, m->max,
					 m->sum);
		}
	}
}

static void agg_run(struct xtel_api_agg *a, const struct xtel_view_client *vc,
		    const char *metric)
{
	const struct xtel_client_snap *c = vc->snap;

	a->received = c->received;
	a->lost = c->lost;
	a->duplicates = c->duplicates;
	a->reordered = c->reordered;
	a->too_late = c->too_late;
	for (uint32_t k = 0; k < vc->n_run_metrics; k++) {
		const struct xtel_run_metric *m = &vc->run_metrics[k];

		if (!metric || !strcmp(metric, m->latest->key))
			fold_add(a, m->latest->key, m->count, m->min, m->max,
				 xtel_run_metric_mean(m) * (double)m->count);
	}
}

static json_t *agg_json(const struct xtel_api_req *r,
			const struct xtel_view_client *vc, const struct xtel_api_agg *a)
{
	json_t *o = json_object(), *mo = json_object();

	xtel_json_set(o, "client_id", json_integer(vc->snap->client_id));
	xtel_json_set(o, "state", json_string(xtel_client_state_name(vc->state)));
	xtel_json_set(o, "fresh", json_boolean(xtel_api_fresh(r, vc, vc->snap->last_seen_ns)));
	xtel_json_set(o, "received", xtel_json_u64(a->received));
	xtel_json_set(o, "lost", xtel_json_u64(a->lost));
	xtel_json_set(o, "duplicates", xtel_json_u64(a->duplicates));
	xtel_json_set(o, "reordered", xtel_json_u64(a->reordered));
	xtel_json_set(o, "too_late", xtel_json_u64(a->too_late));
	xtel_json_set(o, "errors", xtel_json_u64(a->lost + a->duplicates + a->too_late));
	xtel_json_set(o, "latency_max_us",
		      xtel_json_fixed((double)vc->snap->lat.max_ns / 1000.0, 3));
	xtel_json_set(o, "latency_p99_us",
		      xtel_json_fixed((double)vc->snap->lat.p99_ns / 1000.0, 3));
	for (unsigned int i = 0; i < a->n; i++) {
		const struct xtel_api_fold *f = &a->m[i];
		json_t *e = json_object();

		xtel_view_json_fold(e, f->count, f->min, f->max,
				    f->count ? f->sum / (double)f->count : NAN);
		xtel_json_set(mo, f->key, e);
	}
	xtel_json_set(o, "metrics", mo);
	return o;
}

/*
 * Walks the clients of the request's view (one, with client_id) and calls
 * fn with each one's aggregate. Returns 0, or -1 after an error reply.
 */
int xtel_api_aggregate(struct xtel_api_req *r, struct xtel_api_reply *rep,
		       void (*fn)(void *arg, const struct xtel_view_client *vc,
				  const struct xtel_api_agg *agg),
		       void *arg, json_t *meta)
{
	struct xtel_api *api = r->api;
	const struct xtel_view *v = r->v;
	const char *metric = xtel_api_param(r, "metric");
	const char *id_s = xtel_api_param(r, "client_id");
	struct xtel_api_history *h = api->history;
	uint32_t *cursors = NULL;
	unsigned int k = 0;
	uint64_t id = 0;
	uint32_t from = 0, to = v->snap.n_clients;
	double window = 0;
	bool has_window, any = false;
	struct xtel_api_agg a;

	if (metric && !xtel_api_metric_name_ok(metric))
		return xtel_api_error(rep, 400, "bad_parameter", "metric",
				      "metric must be 1..32 of A-Z a-z 0-9 _ . -");
	if (xtel_api_param_double(r, rep, "window", 0.001, 86400, &window,
				  &has_window))
		return -1;
	if (has_window && (!h || window > api->cfg->api_window_s))
		return xtel_api_error(rep, 400, "bad_parameter", "window",
				      "window must be in 0.001..%g s "
				      "(--api-window)", api->cfg->api_window_s);
	if (id_s) {
		const struct xtel_view_client *vc;

		if (xtel_parse_u64(id_s, 0, UINT32_MAX, &id))
			return xtel_api_error(rep, 400, "bad_parameter",
					      "client_id", "client_id must be a "
					      "whole number in 0..4294967295");
		vc = xtel_api_find_client(v, (uint32_t)id);
		if (!vc)
			return xtel_api_error(rep, 404, "unknown_client",
					      "client_id", "no client %llu in "
					      "the snapshot",
					      (unsigned long long)id);
		from = (uint32_t)(vc - v->clients);
		to = from + 1;
	}
	if (has_window) {
		const struct xtel_api_hist_rec *newest;
		/*
		 * Whole intervals, counted rather than timed: ticks are a
		 * few microseconds late or early, and a record just inside
		 * or outside a timed bound would make the same query give
		 * different spans.
		 */
		unsigned int want = (unsigned int)ceil(window /
						       api->cfg->interval_s - 1e-9);

		cursors = calloc(h->cap + 1, sizeof(*cursors));
		if (!cursors)
			return xtel_api_error(rep, 500, "out_of_memory", NULL,
					      "out of memory");
		pthread_mutex_lock(&h->lock);
		newest = xtel_api_history_at(h, 0);
		if (want == 0)
			want = 1;
		while (newest && k < want && xtel_api_history_at(h, k))
			k++;
		xtel_json_set(meta, "window_s", xtel_json_real(window));
		xtel_json_set(meta, "intervals", json_integer(k));
		xtel_json_set(meta, "from_ns", xtel_api_history_at(h, k) ?
			      xtel_json_u64(xtel_api_history_at(h, k)->taken_ns) :
			      json_null());
		xtel_json_set(meta, "to_ns", newest ? xtel_json_u64(newest->taken_ns) :
			      json_null());
	} else {
		xtel_json_set(meta, "window_s", json_null());
	}
	for (uint32_t i = from; i < to; i++) {
		const struct xtel_view_client *vc = &v->clients[i];

		memset(&a, 0, sizeof(a));
		if (has_window) {
			if (k)
				agg_window(&a, h, k, cursors, vc->snap->client_id,
					   metric);
		} else {
			agg_run(&a, vc, metric);
		}
		if (metric && !xtel_api_find_metric(vc, metric))
			continue;
		any = true;
		fn(arg, vc, &a);
	}
	if (has_window)
		pthread_mutex_unlock(&h->lock);
	free(cursors);
	if (metric && !any)
		return xtel_api_error(rep, 404, "unknown_metric", "metric",
				      "no client sent metric '%s'", metric);
	return 0;
}

struct agg_out {
	const struct xtel_api_req *r;
	json_t *clients;
	struct xtel_api_agg total;
	bool oom;
};

static void agg_collect(void *arg, const struct xtel_view_client *vc,
			const struct xtel_api_agg *a)
{
	struct agg_out *out = arg;

	out->total.received += a->received;
	out->total.lost += a->lost;
	out->total.duplicates += a->duplicates;
	out->total.reordered += a->reordered;
	out->total.too_late += a->too_late;
	out->oom |= json_array_append_new(out->clients,
					  agg_json(out->r, vc, a)) != 0;
}

void xtel_api_h_aggregate(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	struct agg_out out = { .r = r, .clients = json_array() };
	json_t *meta = json_object(), *t, *o;
	const char *key;
	json_t *val;

	if (xtel_api_aggregate(r, rep, agg_collect, &out, meta)) {
		json_decref(out.clients);
		json_decref(meta);
		return;
	}
	o = xtel_api_ok(rep);
	json_object_foreach(meta, key, val)
		xtel_json_set(o, key, json_incref(val));
	json_decref(meta);
	xtel_json_set(o, "metric", xtel_json_text(xtel_api_param(r, "metric")));
	t = json_object();
	xtel_json_set(t, "clients", json_integer(json_array_size(out.clients)));
	xtel_json_set(t, "received", xtel_json_u64(out.total.received));
	xtel_json_set(t, "lost", xtel_json_u64(out.total.lost));
	xtel_json_set(t, "duplicates", xtel_json_u64(out.total.duplicates));
	xtel_json_set(t, "reordered", xtel_json_u64(out.total.reordered));
	xtel_json_set(t, "too_late", xtel_json_u64(out.total.too_late));
	xtel_json_set(t, "errors", xtel_json_u64(out.total.lost +
						 out.total.duplicates +
						 out.total.too_late));
	xtel_json_set(o, "totals", t);
	xtel_json_set(o, "clients", out.clients);
	if (out.oom)
		xtel_json_set(o, "", NULL);
}
