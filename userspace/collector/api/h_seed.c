// SPDX-License-Identifier: MIT
/*
 * The seed metrics server's paths, as aliases with its response shapes, so
 * its clients work unchanged: a switch is a client, switch_id its client
 * id, timestamps are seconds since the epoch as a number, and an error is
 * {"error": "text"} with the status code of the /api/v1 endpoint
 * underneath (docs/API.md, "Seed aliases").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "collector/api/internal.h"

/* The /api/v1 error body into the seed's {"error": "message"}. */
static void flatten_error(struct xtel_api_reply *rep)
{
	json_t *e = json_object_get(rep->json, "error");
	json_t *msg = json_object_get(e, "message");
	json_t *o = json_object();

	xtel_json_set(o, "error", msg ? json_incref(msg) : json_string("error"));
	json_decref(rep->json);
	rep->json = o;
}

static json_t *seconds(uint64_t ns)
{
	return xtel_json_fixed((double)ns / 1e9, 6);
}

void xtel_api_h_seed_get(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	const struct xtel_view_client *vc;
	const struct xtel_run_metric *m;
	json_t *o;

	if (xtel_api_lookup_value(r, rep, "switch_id", &vc, &m)) {
		flatten_error(rep);
		return;
	}
	o = xtel_api_ok(rep);
	xtel_json_set(o, "switch_id", json_integer(vc->snap->client_id));
	xtel_json_set(o, "metric", json_string(m->latest->key));
	xtel_json_set(o, "value", xtel_json_real(m->latest->last));
	xtel_json_set(o, "timestamp", seconds(m->latest->last_ts_ns));
	if (!xtel_api_fresh(r, vc, m->latest->last_ts_ns)) {
		rep->status = 503;
		xtel_json_set(o, "error", json_string("stale value"));
		xtel_json_set(o, "age", xtel_json_fixed(xtel_api_age_s(r, m->latest->last_ts_ns), 3));
	}
}

static json_t *seed_value(const struct xtel_api_req *r,
			  const struct xtel_view_client *vc,
			  const struct xtel_run_metric *m)
{
	json_t *o = json_object();

	xtel_json_set(o, "value", xtel_json_real(m->latest->last));
	xtel_json_set(o, "timestamp", seconds(m->latest->last_ts_ns));
	xtel_json_set(o, "stale", json_boolean(!xtel_api_fresh(r, vc, m->latest->last_ts_ns)));
	return o;
}

void xtel_api_h_seed_list(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	const char *metric = xtel_api_param(r, "metric");
	const struct xtel_view *v = r->v;
	json_t *o, *arr = json_array();
	bool oom = false;

	if (metric && !xtel_api_metric_name_ok(metric)) {
		json_decref(arr);
		xtel_api_error(rep, 400, "bad_parameter", "metric",
			       "metric must be 1..32 of A-Z a-z 0-9 _ . -");
		flatten_error(rep);
		return;
	}
	for (uint32_t i = 0; i < v->snap.n_clients; i++) {
		const struct xtel_view_client *vc = &v->clients[i];
		json_t *e;

		if (metric) {
			const struct xtel_run_metric *m =
				xtel_api_find_metric(vc, metric);

			if (!m)
				continue;
			e = seed_value(r, vc, m);
		} else {
			json_t *ms = json_object();

			e = json_object();
			for (uint32_t k = 0; k < vc->n_run_metrics; k++)
				xtel_json_set(ms, vc->run_metrics[k].latest->key,
					      seed_value(r, vc, &vc->run_metrics[k]));
			xtel_json_set(e, "metrics", ms);
		}
		xtel_json_set(e, "switch_id", json_integer(vc->snap->client_id));
		oom |= json_array_append_new(arr, e) != 0;
	}
	if (metric && json_array_size(arr) == 0) {
		json_decref(arr);
		xtel_api_error(rep, 404, "unknown_metric", "metric",
			       "no switch sent metric '%s'", metric);
		flatten_error(rep);
		return;
	}
	o = xtel_api_ok(rep);
	if (metric)
		xtel_json_set(o, "metric", json_string(metric));
	xtel_json_set(o, metric ? "values" : "switches", arr);
	if (oom)
		xtel_json_set(o, "", NULL);
}

struct seed_agg {
	json_t *arr;
	bool oom;
};

static void seed_agg_one(void *arg, const struct xtel_view_client *vc,
			 const struct xtel_api_agg *a)
{
	struct seed_agg *s = arg;
	json_t *o = json_object();
	const struct xtel_api_fold *bw = NULL;

	for (unsigned int i = 0; i < a->n; i++)
		if (!strcmp(a->m[i].key, "bandwidth"))
			bw = &a->m[i];
	xtel_json_set(o, "switch_id", json_integer(vc->snap->client_id));
	xtel_json_set(o, "max_latency",
		      xtel_json_fixed((double)vc->snap->lat.max_ns / 1e6, 6));
	xtel_json_set(o, "min_bandwidth",
		      xtel_json_real(bw && bw->count ? bw->min : NAN));
	xtel_json_set(o, "total_errors",
		      xtel_json_u64(a->lost + a->duplicates + a->too_late));
	s->oom |= json_array_append_new(s->arr, o) != 0;
}

void xtel_api_h_seed_aggregate(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	struct seed_agg s = { .arr = json_array() };
	json_t *meta = json_object(), *o;

	if (xtel_api_aggregate(r, rep, seed_agg_one, &s, meta)) {
		json_decref(s.arr);
		json_decref(meta);
		flatten_error(rep);
		return;
	}
	json_decref(meta);
	o = xtel_api_ok(rep);
	xtel_json_set(o, "switches", s.arr);
	if (s.oom)
		xtel_json_set(o, "", NULL);
}

void xtel_api_h_seed_stats(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	struct xtel_api_stats_copy *s = malloc(sizeof(*s));
	json_t *o, *eps;

	if (!s) {
		xtel_api_error(rep, 500, "out_of_memory", NULL, "out of memory");
		flatten_error(rep);
		return;
	}
	xtel_api_stats_copy(&r->api->stats, s);
	o = xtel_api_ok(rep);
	xtel_json_set(o, "uptime_seconds", xtel_json_fixed(xtel_api_uptime_s(r->api), 3));
	xtel_json_set(o, "total_requests", xtel_json_u64(s->requests));
	xtel_json_set(o, "total_errors", xtel_json_u64(s->errors));
	eps = json_object();
	for (unsigned int i = 0; i < XTEL_API_EP_MAX; i++) {
		const struct xtel_lat_summary *l = &s->ep[i].lat;
		json_t *e;

		if (i == XTEL_API_EP_UNKNOWN)
			continue;
		e = json_object();
		xtel_json_set(e, "count", xtel_json_u64(s->ep[i].requests));
		xtel_json_set(e, "errors", xtel_json_u64(s->ep[i].errors));
		xtel_json_set(e, "avg_latency_ms", xtel_json_fixed((double)xtel_lat_mean_ns(l) / 1e6, 6));
		xtel_json_set(e, "min_latency_ms", xtel_json_fixed((double)l->min_ns / 1e6, 6));
		xtel_json_set(e, "max_latency_ms", xtel_json_fixed((double)l->max_ns / 1e6, 6));
		xtel_json_set(e, "p99_latency_ms", xtel_json_fixed((double)l->p99_ns / 1e6, 6));
		xtel_json_set(eps, xtel_api_endpoints[i].path, e);
	}
	xtel_json_set(o, "endpoints", eps);
	free(s);
}
