// SPDX-License-Identifier: MIT
/*
 * GET /api/v1/health (groups and clients with their verdicts, filtered by
 * state, paged), GET /api/v1/health/{id} (one client's verdict with every
 * signal's value, baseline, scale and z) and GET /api/v1/events (the
 * transitions of the event ring after a sequence number, or with from/to
 * those stored in --db over a time range). The verdicts read the
 * health results the model hung on the view (docs/API.md, docs/HEALTH.md),
 * making each explanation from its causes here, off the control thread;
 * with --no-health they answer 404 health_off.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "collector/api/internal.h"
#include "store/events.h"
#include "store/query.h"

static const struct xtel_health_view *health_of(const struct xtel_api_req *r,
						struct xtel_api_reply *rep)
{
	if (!r->v->health) {
		xtel_api_error(rep, 404, "health_off", NULL,
			       "health inference is off (--no-health) or has "
			       "no result yet");
		return NULL;
	}
	return r->v->health;
}

static json_t *counts_json(const uint32_t *counts)
{
	json_t *o = json_object();

	for (int s = 0; s < XTEL_HEALTH_STATE_MAX; s++)
		xtel_json_set(o, xtel_health_state_name(s), json_integer(counts[s]));
	return o;
}

static const char *group_label(const struct xtel_health_view *hv, uint32_t g)
{
	return g < hv->n_groups ? hv->groups[g].label : "";
}

/* One judged signal: value, baseline (centre), scale and z. */
static json_t *sig_json(const struct xtel_health_sig_out *so, const char *unit)
{
	json_t *o = json_object();

	xtel_json_set(o, "value", xtel_json_fixed(so->value, 4));
	xtel_json_set(o, "baseline", xtel_json_fixed(so->centre, 4));
	xtel_json_set(o, "scale", xtel_json_fixed(so->scale, 4));
	xtel_json_set(o, "z", xtel_json_fixed(so->z, 2));
	if (*unit)
		xtel_json_set(o, "unit", json_string(unit));
	return o;
}

static json_t *result_json(const struct xtel_health_view *hv,
			   const struct xtel_health_result *res, bool detail)
{
	json_t *o = json_object();

	xtel_json_set(o, "client_id", json_integer(res->client_id));
	xtel_json_set(o, "group", xtel_json_text(group_label(hv, res->group)));
	xtel_json_set(o, "state", json_string(xtel_health_state_name(res->state)));
	xtel_json_set(o, "score", xtel_json_fixed(res->score, 1));
	xtel_json_set(o, "since_ns", xtel_json_u64(res->since_ns));
	{
		char why[XTEL_HEALTH_WHY_LEN];

		xtel_health_explain(res, why, sizeof(why));
		xtel_json_set(o, "why", xtel_json_text(why));
	}
	if (detail) {
		json_t *sig = json_object(), *met = json_object();

		for (int s = 0; s < XTEL_HEALTH_SIG_MAX; s++)
			xtel_json_set(sig, xtel_health_signals[s].name,
				      sig_json(&res->sig[s], xtel_health_signals[s].unit));
		for (uint32_t k = 0; k < res->n_metrics; k++)
			xtel_json_set(met, res->metric[k].key,
				      sig_json(&res->metric[k].s, ""));
		xtel_json_set(o, "signals", sig);
		xtel_json_set(o, "metrics", met);
	}
	return o;
}

void xtel_api_h_health(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	static const char *const states[] = { "all", "not_ok", "ok", "congested",
		"anomalous", "degraded", "silent", "warmup", NULL };
	const struct xtel_health_view *hv = health_of(r, rep);
	uint64_t limit, offset, n = 0;
	json_t *o, *groups, *clients;
	int state;

	if (!hv ||
	    (state = xtel_api_param_choice(r, rep, "state", states, 0)) < 0 ||
	    xtel_api_param_u64(r, rep, "limit", 1, XTEL_API_MAX_PAGE, 100, &limit) ||
	    xtel_api_param_u64(r, rep, "offset", 0, UINT32_MAX, 0, &offset))
		return;
	o = xtel_api_ok(rep);
	xtel_json_set(o, "ts_ns", xtel_json_u64(hv->ts_ns));
	xtel_json_set(o, "counts", counts_json(hv->counts));
	groups = json_array();
	for (uint32_t g = 0; g < hv->n_groups; g++) {
		const struct xtel_health_group_result *gr = &hv->groups[g];
		json_t *go = json_object();

		xtel_json_set(go, "label", xtel_json_text(gr->label));
		xtel_json_set(go, "state", json_string(xtel_health_state_name(gr->state)));
		xtel_json_set(go, "since_ns", xtel_json_u64(gr->since_ns));
		xtel_json_set(go, "members", json_integer(gr->members));
		xtel_json_set(go, "counts", counts_json(gr->counts));
		{
			char why[XTEL_HEALTH_WHY_LEN];

			xtel_health_group_explain(gr, why, sizeof(why));
			xtel_json_set(go, "why", xtel_json_text(why));
		}
		json_array_append_new(groups, go);
	}
	xtel_json_set(o, "groups", groups);
	clients = json_array();
	for (uint32_t i = 0; i < hv->n_clients; i++) {
		const struct xtel_health_result *res = &hv->clients[i];
		bool match = state == 0 ||
			     (state == 1 ? res->state != XTEL_HEALTH_OK &&
					   res->state != XTEL_HEALTH_WARMUP :
					   (int)res->state == state - 2);

		if (!match)
			continue;
		if (n >= offset && n < offset + limit)
			json_array_append_new(clients, result_json(hv, res, false));
		n++;
	}
	xtel_json_set(o, "total", xtel_json_u64(n));
	xtel_json_set(o, "state", json_string(states[state]));
	xtel_json_set(o, "clients", clients);
}

void xtel_api_h_health_client(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	const struct xtel_health_view *hv = health_of(r, rep);
	const struct xtel_health_result *res;

	if (!hv)
		return;
	/* results are in the view's client order: sorted by id */
	res = xtel_health_find(hv, r->path_id);
	if (!res) {
		xtel_api_error(rep, 404, "unknown_client", "id",
			       "no client %u in the snapshot", r->path_id);
		return;
	}
	xtel_json_set(xtel_api_ok(rep), "client", result_json(hv, res, true));
}

/* One transition as both sources give it (the ring's, a health_events row). */
static json_t *event_json(const struct xtel_store_event *e)
{
	json_t *eo = json_object();

	xtel_json_set(eo, "seq", xtel_json_u64(e->seq));
	xtel_json_set(eo, "ts_ns", xtel_json_u64(e->ts_ns));
	xtel_json_set(eo, "scope", json_string(e->group ? "group" : "client"));
	if (!e->group)
		xtel_json_set(eo, "client_id", json_integer(e->client_id));
	xtel_json_set(eo, "group", xtel_json_text(e->group_label ? e->group_label : ""));
	xtel_json_set(eo, "from", xtel_json_text(e->from ? e->from : ""));
	xtel_json_set(eo, "to", xtel_json_text(e->to ? e->to : ""));
	xtel_json_set(eo, "score", xtel_json_fixed(e->score, 1));
	xtel_json_set(eo, "why", xtel_json_text(e->why ? e->why : ""));
	return eo;
}

static int on_stored_event(void *arg, const struct xtel_store_event *e)
{
	return json_array_append_new(arg, event_json(e)) ? -ENOMEM : 0;
}

/*
 * ?from=/?to= (or source=db): the stored transitions (--db) over a time
 * range, paged by offset, so they outlive the collector run.
 */
static void stored_events(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	struct xtel_api *api = r->api;
	int64_t now = (int64_t)(r->now_ns / 1000000000ull), from, to;
	struct xtel_store_events_q q = { 0 };
	uint64_t client = 0, total = 0;
	json_t *o, *arr;
	sqlite3 *db;
	int rc;

	if (!api->store_readers) {
		xtel_api_error(rep, 404, "no_history", NULL, "the collector runs "
			       "without --db: only the event ring (after=)");
		return;
	}
	if (xtel_api_param_time(r, rep, "to", now + 1, &to) ||
	    xtel_api_param_time(r, rep, "from", to - 86400, &from) ||
	    xtel_api_param_u64(r, rep, "limit", 1, XTEL_API_MAX_PAGE, 1000, &q.limit) ||
	    xtel_api_param_u64(r, rep, "offset", 0, UINT32_MAX, 0, &q.offset) ||
	    xtel_api_param_u64(r, rep, "client_id", 0, UINT32_MAX, 0, &client))
		return;
	if (from >= to) {
		xtel_api_error(rep, 400, "bad_parameter", "from",
			       "from must be before to");
		return;
	}
	q.from_ns = from > 0 ? (uint64_t)from * 1000000000ull : 0;
	q.to_ns = to > 0 ? (uint64_t)to * 1000000000ull : 0;
	q.by_client = xtel_api_param(r, "client_id") != NULL;
	q.client_id = (uint32_t)client;
	db = xtel_store_readers_get(api->store_readers, &rc);
	if (!db) {
		rep->retry_after = rc == -EBUSY ? 1 : 0;
		xtel_api_error(rep, 503, rc == -EBUSY ? "busy" : "history_unavailable",
			       NULL, "the history cannot be read now: %s",
			       strerror(-rc));
		return;
	}
	arr = json_array();
	rc = xtel_store_events_read(db, &q, &total, on_stored_event, arr);
	xtel_store_readers_put(api->store_readers, db);
	if (rc) {
		json_decref(arr);
		xtel_api_error(rep, rc == -ENOMEM ? 500 : 503, rc == -ENOMEM ?
			       "out_of_memory" : "history_unavailable", NULL,
			       "the health events query failed (see the collector's log)");
		return;
	}
	o = xtel_api_ok(rep);
	xtel_json_set(o, "source", json_string("db"));
	xtel_json_set(o, "from", json_integer(from));
	xtel_json_set(o, "to", json_integer(to));
	xtel_json_set(o, "total", xtel_json_u64(total));
	xtel_json_set(o, "offset", xtel_json_u64(q.offset));
	xtel_json_set(o, "events", arr);
}

void xtel_api_h_events(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	static const char *const sources[] = { "ring", "db", NULL };
	const struct xtel_health_view *hv;
	uint64_t after, limit, client, n = 0;
	bool by_client;
	json_t *o, *arr;
	int src;

	src = xtel_api_param_choice(r, rep, "source", sources,
				    xtel_api_param(r, "from") ||
				    xtel_api_param(r, "to") ? 1 : 0);
	if (src < 0)
		return;
	if (src == 1) {
		stored_events(r, rep);
		return;
	}
	hv = health_of(r, rep);
	if (!hv ||
	    xtel_api_param_u64(r, rep, "after", 0, UINT64_MAX, 0, &after) ||
	    xtel_api_param_u64(r, rep, "limit", 1, XTEL_API_MAX_PAGE, 1000, &limit) ||
	    xtel_api_param_u64(r, rep, "client_id", 0, UINT32_MAX, 0, &client))
		return;
	by_client = xtel_api_param(r, "client_id") != NULL;
	o = xtel_api_ok(rep);
	xtel_json_set(o, "source", json_string("ring"));
	xtel_json_set(o, "total", xtel_json_u64(hv->counters[XTEL_HEALTH_CNT_EVENTS]));
	xtel_json_set(o, "dropped",
		      xtel_json_u64(hv->counters[XTEL_HEALTH_CNT_EVENTS_DROPPED]));
	arr = json_array();
	for (uint32_t i = 0; i < hv->n_events && n < limit; i++) {
		const struct xtel_health_event *e = &hv->events[i];
		struct xtel_store_event se;

		if (e->seq <= after || (by_client && (e->group || e->client_id != client)))
			continue;
		se = (struct xtel_store_event){ .seq = e->seq, .ts_ns = e->ts_ns,
			.group = e->group, .client_id = e->client_id,
			.group_label = group_label(hv, e->group_idx),
			.from = xtel_health_state_name(e->from),
			.to = xtel_health_state_name(e->to),
			.score = e->score, .why = e->why };
		json_array_append_new(arr, event_json(&se));
		n++;
	}
	xtel_json_set(o, "events", arr);
}
