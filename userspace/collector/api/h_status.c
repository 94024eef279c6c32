// SPDX-License-Identifier: MIT
/*
 * The collector's totals (GET /api/v1/totals: the same families as the
 * summary JSON, from out/view_json.c), the API's own observability
 * (/api/v1/stats), the probes (/healthz, /readyz) and the admin reload.
 */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/json.h"
#include "collector/api/internal.h"
#include "collector/out/store_feed.h"
#include "collector/out/view_json.h"

/* clients, live, stale, bye and "totals" of a view or of one site. */
static void totals_json(json_t *o, uint32_t clients, unsigned int live,
			unsigned int stale, unsigned int bye,
			const struct xtel_view_client *total,
			const struct xtel_view *whole)
{
	json_t *totals = json_object();

	xtel_json_set(o, "clients", json_integer(clients));
	xtel_json_set(o, "live", json_integer(live));
	xtel_json_set(o, "stale", json_integer(stale));
	xtel_json_set(o, "bye", json_integer(bye));
	if (whole) {
		xtel_json_set(o, "dtls_sessions", xtel_json_u64(whole->dtls_sessions));
		xtel_json_set(o, "elapsed_s", xtel_json_fixed(whole->elapsed_s, 6));
	}
	xtel_view_json_counts(totals, total);
	xtel_json_set(totals, "pending", xtel_json_u64(total->snap->pending));
	xtel_json_set(totals, "pkt_s", xtel_json_fixed(total->pkt_s, 3));
	xtel_json_set(totals, "mb_s", xtel_json_fixed(total->mb_s, 6));
	xtel_json_set(o, "totals", totals);
}

void xtel_api_h_totals(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	const struct xtel_view *v = r->v;
	const char *site = xtel_api_param(r, "site");
	json_t *o, *sites;

	if (site) {	/* an aggregator's view: one site's totals */
		for (unsigned int i = 0; i < v->n_sites; i++) {
			const struct xtel_view_site *s = &v->sites[i];

			if (strcmp(s->name, site))
				continue;
			o = xtel_api_ok(rep);
			xtel_json_set(o, "site", json_string(s->name));
			totals_json(o, s->clients, s->live, s->stale, s->bye,
				    &s->total, NULL);
			return;
		}
		xtel_api_error(rep, 404, "unknown_site", "site",
			       "no site '%s' in the snapshot", site);
		return;
	}
	o = xtel_api_ok(rep);
	totals_json(o, v->snap.n_clients, v->live, v->stale, v->bye, &v->total, v);
	if (v->n_sites) {
		sites = json_array();
		for (unsigned int i = 0; i < v->n_sites; i++) {
			const struct xtel_view_site *s = &v->sites[i];
			json_t *so = json_object();

			xtel_json_set(so, "site", json_string(s->name));
			totals_json(so, s->clients, s->live, s->stale, s->bye,
				    &s->total, NULL);
			json_array_append_new(sites, so);
		}
		xtel_json_set(o, "sites", sites);
	}
	xtel_view_json_counters(o, v);
	xtel_view_json_xdp(o, &v->xdp, r->api->cfg, true);
	xtel_view_json_devices(o, v);
}

static json_t *latency_us_json(const struct xtel_lat_summary *l)
{
	json_t *o = json_object();

	xtel_json_set(o, "count", xtel_json_u64(l->count));
	xtel_json_set(o, "min", xtel_json_fixed((double)l->min_ns / 1e3, 3));
	xtel_json_set(o, "mean", xtel_json_fixed((double)xtel_lat_mean_ns(l) / 1e3, 3));
	xtel_json_set(o, "p50", xtel_json_fixed((double)l->p50_ns / 1e3, 3));
	xtel_json_set(o, "p99", xtel_json_fixed((double)l->p99_ns / 1e3, 3));
	xtel_json_set(o, "max", xtel_json_fixed((double)l->max_ns / 1e3, 3));
	return o;
}

/* /api/v1/stream: open now, the cap, and what slow readers lost. */
static json_t *streams_json(struct xtel_api_streams *st)
{
	struct xtel_api_stream_stats ss;
	json_t *o = json_object();

	xtel_api_streams_stats(st, &ss);
	xtel_json_set(o, "open", xtel_json_u64(ss.open));
	xtel_json_set(o, "max", xtel_json_u64(ss.max));
	xtel_json_set(o, "opened", xtel_json_u64(ss.opened));
	xtel_json_set(o, "events", xtel_json_u64(ss.events));
	xtel_json_set(o, "dropped", xtel_json_u64(ss.dropped));
	xtel_json_set(o, "resyncs", xtel_json_u64(ss.resyncs));
	xtel_json_set(o, "bytes", xtel_json_u64(ss.bytes));
	xtel_json_set(o, "skipped_views", xtel_json_u64(ss.skipped));
	return o;
}

double xtel_api_uptime_s(const struct xtel_api *api)
{
	return (double)(xtel_mono_ns() - api->started_mono_ns) / 1e9;
}

void xtel_api_h_stats(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	struct xtel_api *api = r->api;
	struct xtel_api_stats_copy *s = malloc(sizeof(*s));
	json_t *o, *eps, *refused, *conns, *tok, *hist;

	if (!s) {
		xtel_api_error(rep, 500, "out_of_memory", NULL, "out of memory");
		return;
	}
	xtel_api_stats_copy(&api->stats, s);
	o = xtel_api_ok(rep);
	xtel_json_set(o, "uptime_s", xtel_json_fixed(xtel_api_uptime_s(api), 6));
	xtel_json_set(o, "started_ns", xtel_json_u64(api->started_real_ns));
	xtel_json_set(o, "snapshot_age_s", r->v ?
		      xtel_json_fixed(xtel_api_age_s(r, r->v->taken_ns), 6) :
		      json_null());
	xtel_json_set(o, "snapshot_cost_ms", r->v ?
		      xtel_json_fixed((double)r->v->build_ns / 1e6, 3) : json_null());
	xtel_json_set(o, "snapshot_clients", r->v ?
		      json_integer(r->v->snap.n_clients) : json_null());
	xtel_json_set(o, "requests", xtel_json_u64(s->requests));
	xtel_json_set(o, "errors", xtel_json_u64(s->errors));
	eps = json_object();
	for (unsigned int i = 0; i < XTEL_API_EP_MAX; i++) {
		json_t *e = json_object(), *codes = json_object();

		xtel_json_set(e, "path", json_string(xtel_api_endpoints[i].path));
		xtel_json_set(e, "requests", xtel_json_u64(s->ep[i].requests));
		xtel_json_set(e, "errors", xtel_json_u64(s->ep[i].errors));
		for (unsigned int c = 0; c < XTEL_API_N_CODES; c++) {
			char code[8];

			if (!s->ep[i].by_code[c])
				continue;
			snprintf(code, sizeof(code), "%u", xtel_api_codes[c]);
			xtel_json_set(codes, code, xtel_json_u64(s->ep[i].by_code[c]));
		}
		xtel_json_set(e, "status", codes);
		xtel_json_set(e, "latency_us", latency_us_json(&s->ep[i].lat));
		xtel_json_set(eps, xtel_api_endpoints[i].name, e);
	}
	xtel_json_set(o, "endpoints", eps);
	refused = json_object();
	for (unsigned int i = 0; i < XTEL_API_REFUSED_MAX; i++)
		xtel_json_set(refused, xtel_api_refusals[i].name,
			      xtel_json_u64(s->refused[i]));
	xtel_json_set(o, "refused", refused);
	conns = json_object();
	xtel_json_set(conns, "accepted", xtel_json_u64(s->connections));
	xtel_json_set(conns, "open", xtel_json_u64(s->open_connections));
	xtel_json_set(conns, "refused",
		      xtel_json_u64(s->refused[XTEL_API_REFUSED_CONNECTIONS]));
	xtel_json_set(conns, "sources_untracked",
		      xtel_json_u64(xtel_api_sources_untracked(api->sources)));
	xtel_json_set(o, "connections", conns);
	tok = json_object();
	xtel_json_set(tok, "required", json_boolean(api->tokens != NULL));
	xtel_json_set(tok, "count", json_integer(api->tokens ?
					xtel_api_tokens_count(api->tokens) : 0));
	xtel_json_set(tok, "reloads", xtel_json_u64(s->token_reloads));
	xtel_json_set(tok, "reload_errors", xtel_json_u64(s->token_reload_errors));
	xtel_json_set(o, "tokens", tok);
	if (api->history) {
		struct xtel_api_history *h = api->history;

		hist = json_object();
		pthread_mutex_lock(&h->lock);
		xtel_json_set(hist, "records", json_integer(h->n));
		xtel_json_set(hist, "capacity", json_integer(h->cap));
		xtel_json_set(hist, "add_failed", xtel_json_u64(h->add_failed));
		pthread_mutex_unlock(&h->lock);
		/* the main thread counts these outside the lock */
		xtel_json_set(hist, "keys", json_integer(
			__atomic_load_n(&h->n_keys, __ATOMIC_ACQUIRE)));
		xtel_json_set(hist, "keys_full", xtel_json_u64(
			__atomic_load_n(&h->keys_full, __ATOMIC_RELAXED)));
	} else {
		hist = json_null();
	}
	xtel_json_set(o, "history", hist);
	xtel_json_set(o, "streams", streams_json(api->streams));
	if (api->store) {
		struct xtel_store_stats ss;

		xtel_store_get_stats(api->store, &ss);
		xtel_json_set(o, "db", xtel_store_stats_json(api->cfg->db, &ss));
	} else {
		xtel_json_set(o, "db", json_null());
	}
	if (r->v)
		xtel_view_json_families(o, r->v);
	free(s);
}

void xtel_api_h_healthz(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	json_t *o = xtel_api_ok(rep);

	xtel_json_set(o, "status", json_string("ok"));
	xtel_json_set(o, "uptime_s", xtel_json_fixed(xtel_api_uptime_s(r->api), 6));
}

void xtel_api_h_readyz(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	const struct xtel_config *cfg = r->api->cfg;
	bool receiving = __atomic_load_n(&r->api->receiving, __ATOMIC_ACQUIRE);
	double max_age = 2 * cfg->interval_s + 1.0;
	const char *why = NULL;
	json_t *o;

	if (!receiving)
		why = "the receive path is not running";
	else if (!r->v)
		why = "no snapshot yet";
	else if (xtel_api_age_s(r, r->v->taken_ns) > max_age)
		why = "the latest snapshot is older than 2 x --interval + 1 s";
	o = xtel_api_ok(rep);
	xtel_json_set(o, "status", json_string(why ? "not_ready" : "ready"));
	xtel_json_set(o, "receiving", json_boolean(receiving));
	xtel_json_set(o, "snapshot_age_s", r->v ?
		      xtel_json_fixed(xtel_api_age_s(r, r->v->taken_ns), 6) :
		      json_null());
	xtel_json_set(o, "max_snapshot_age_s", xtel_json_real(max_age));
	xtel_json_set(o, "reason", xtel_json_text(why));
	if (why)
		rep->status = 503;
}

void xtel_api_h_reload(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	int rc = xtel_api_reload(r->api);
	json_t *o;

	if (rc) {
		xtel_api_error(rep, 500, "reload_failed", NULL,
			       "the token file did not load (see the "
			       "collector's log); the previous tokens stay");
		return;
	}
	o = xtel_api_ok(rep);
	xtel_json_set(o, "reloaded", json_true());
	xtel_json_set(o, "tokens", json_integer(xtel_api_tokens_count(r->api->tokens)));
}
