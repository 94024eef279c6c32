// SPDX-License-Identifier: MIT
/*
 * GET /api/v1/clients (paged, filtered by state, sorted) and
 * GET /api/v1/clients/{id}: each client as the summary JSON has it
 * (out/view_json.c), with what only a live reader needs on top: rates
 * since the previous view, the age of the last datagram and of each
 * metric's value, and whether they are fresh (docs/API.md).
 */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "collector/api/internal.h"
#include "collector/out/view_json.h"

static const char *const state_names[] = { "all", "live", "stale", "bye", NULL };
static const char *const sort_names[] = { "id", "loss", "rate", "latency", NULL };
static const char *const order_names[] = { "asc", "desc", NULL };

enum sort_key { SORT_ID, SORT_LOSS, SORT_RATE, SORT_LATENCY };

json_t *xtel_api_client_json(const struct xtel_api_req *r,
			     const struct xtel_view_client *vc, bool detail)
{
	const struct xtel_client_snap *c = vc->snap;
	json_t *o = xtel_view_json_client(vc);
	json_t *metrics = json_object_get(o, "metrics");

	xtel_json_set(o, "pkt_s", xtel_json_fixed(vc->pkt_s, 3));
	xtel_json_set(o, "mb_s", xtel_json_fixed(vc->mb_s, 6));
	xtel_json_set(o, "last_seen_age_s",
		      xtel_json_fixed(xtel_api_age_s(r, c->last_seen_ns), 6));
	xtel_json_set(o, "fresh", json_boolean(xtel_api_fresh(r, vc, c->last_seen_ns)));
	/* the gaps lost will take in once the window passes them */
	xtel_json_set(o, "pending", xtel_json_u64(c->pending));
	if (r->v && r->v->inv) {	/* --db: the inventory's side */
		xtel_json_set(o, "device", xtel_view_json_device(vc->dev));
		xtel_json_set(o, "silent_s", xtel_json_fixed(vc->silent_s, 3));
	}
	for (uint32_t k = 0; k < vc->n_run_metrics; k++) {
		const struct xtel_run_metric *m = &vc->run_metrics[k];
		json_t *mo = json_object_get(metrics, m->latest->key);

		if (!mo)
			continue;
		xtel_json_set(mo, "ts_ns", xtel_json_u64(m->latest->last_ts_ns));
		xtel_json_set(mo, "age_s",
			      xtel_json_fixed(xtel_api_age_s(r, m->latest->last_ts_ns), 6));
		xtel_json_set(mo, "fresh",
			      json_boolean(xtel_api_fresh(r, vc, m->latest->last_ts_ns)));
	}
	if (detail) {
		json_t *iv = json_object();

		for (uint32_t k = 0; k < c->n_metrics; k++) {
			const struct xtel_metric_snap *ms = &c->metrics[k];
			json_t *mo = json_object();

			xtel_view_json_fold(mo, ms->count, ms->min, ms->max, ms->mean);
			xtel_json_set(iv, ms->key, mo);
		}
		xtel_json_set(o, "interval_metrics", iv);
	}
	return o;
}

struct sort_ctx {
	const struct xtel_view *v;
	enum sort_key key;
	bool desc;
};

static double sort_value(const struct xtel_view_client *vc, enum sort_key k)
{
	switch (k) {
	case SORT_LOSS:
		return xtel_view_client_loss_pct(vc);
	case SORT_RATE:
		return vc->pkt_s;
	case SORT_LATENCY:
		return (double)vc->snap->lat.p99_ns;
	case SORT_ID:
		break;
	}
	return (double)vc->snap->client_id;
}

static int cmp_clients(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *s = arg;
	const struct xtel_view_client *x = &s->v->clients[*(const uint32_t *)a];
	const struct xtel_view_client *y = &s->v->clients[*(const uint32_t *)b];
	double vx = sort_value(x, s->key), vy = sort_value(y, s->key);

	if (vx != vy)
		return (vx < vy) != s->desc ? -1 : 1;
	/* ties: by id, ascending, so pages never overlap */
	return x->snap->client_id < y->snap->client_id ? -1 :
	       x->snap->client_id > y->snap->client_id;
}

void xtel_api_h_clients(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	const struct xtel_view *v = r->v;
	struct sort_ctx sc = { .v = v };
	int state, sort, order;
	uint64_t limit, offset;
	uint32_t *idx, n = 0;
	json_t *o, *arr;

	if ((state = xtel_api_param_choice(r, rep, "state", state_names, 0)) < 0 ||
	    (sort = xtel_api_param_choice(r, rep, "sort", sort_names, SORT_ID)) < 0 ||
	    (order = xtel_api_param_choice(r, rep, "order", order_names,
					   sort == SORT_ID ? 0 : 1)) < 0 ||
	    xtel_api_param_u64(r, rep, "limit", 1, XTEL_API_MAX_PAGE, 100, &limit) ||
	    xtel_api_param_u64(r, rep, "offset", 0, UINT32_MAX, 0, &offset))
		return;
	idx = malloc((v->snap.n_clients ? v->snap.n_clients : 1) * sizeof(*idx));
	if (!idx) {
		xtel_api_error(rep, 500, "out_of_memory", NULL, "out of memory");
		return;
	}
	for (uint32_t i = 0; i < v->snap.n_clients; i++)
		if ((state == 0 || (int)v->clients[i].state == state - 1) &&
		    xtel_api_site_match(r, &v->clients[i]))
			idx[n++] = i;
	sc.key = (enum sort_key)sort;
	sc.desc = order == 1;
	if (sort != SORT_ID || sc.desc)
		qsort_r(idx, n, sizeof(*idx), cmp_clients, &sc);
	o = xtel_api_ok(rep);
	xtel_json_set(o, "total", json_integer(n));
	xtel_json_set(o, "offset", xtel_json_u64(offset));
	xtel_json_set(o, "limit", xtel_json_u64(limit));
	xtel_json_set(o, "state", json_string(state_names[state]));
	xtel_json_set(o, "sort", json_string(sort_names[sort]));
	xtel_json_set(o, "order", json_string(order_names[order]));
	arr = json_array();
	for (uint64_t i = offset; i < n && i < offset + limit; i++)
		if (json_array_append_new(arr, xtel_api_client_json(r,
					  &v->clients[idx[i]], false)))
			xtel_json_set(o, "", NULL);
	xtel_json_set(o, "clients", arr);
	free(idx);
}

bool xtel_api_site_match(const struct xtel_api_req *r,
			 const struct xtel_view_client *vc)
{
	const char *site = xtel_api_param(r, "site");

	return !site || (vc->site && !strcmp(site, vc->site));
}

void xtel_api_h_client(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	const struct xtel_view_client *vc = xtel_api_find_client(r->v, r->path_id);

	/* an aggregator's view may hold the id once per site: ?site= picks */
	if (vc) {
		const struct xtel_view_client *first = r->v->clients, *end =
			r->v->clients + r->v->snap.n_clients;

		while (vc > first && vc[-1].snap->client_id == r->path_id)
			vc--;
		while (vc < end && vc->snap->client_id == r->path_id &&
		       !xtel_api_site_match(r, vc))
			vc++;
		if (vc == end || vc->snap->client_id != r->path_id)
			vc = NULL;
	}
	if (!vc) {
		xtel_api_error(rep, 404, "unknown_client", "id",
			       "no client %u in the snapshot", r->path_id);
		return;
	}
	xtel_json_set(xtel_api_ok(rep), "client", xtel_api_client_json(r, vc, true));
}
