// SPDX-License-Identifier: MIT
/*
 * View -> history frame (store_feed.h): the snapshot as it is, the fleet
 * gauges and cumulative drop counters the totals tables keep, and the
 * health transitions the writer has not stored yet (store/events.h).
 */
#include <string.h>

#include "common/json.h"
#include "collector/out/store_feed.h"
#include "store/events.h"

static void put_view(void *arg)
{
	xtel_view_put(arg);
}

/* The view's health transitions newer than the writer's (writer thread). */
static void write_events(void *arg, struct xtel_store *w, uint64_t after)
{
	const struct xtel_health_view *hv = ((struct xtel_view *)arg)->health;

	for (uint32_t i = 0; hv && i < hv->n_events; i++) {
		const struct xtel_health_event *e = &hv->events[i];
		struct xtel_store_event row = {
			.seq = e->seq, .ts_ns = e->ts_ns, .group = e->group,
			.client_id = e->client_id,
			.group_label = e->group_idx < hv->n_groups ?
				       hv->groups[e->group_idx].label : "",
			.from = xtel_health_state_name(e->from),
			.to = xtel_health_state_name(e->to),
			.score = e->score, .why = e->why,
		};

		if (e->seq > after)
			xtel_store_event_row(w, &row);
	}
}

void xtel_store_feed(struct xtel_store *w, struct xtel_view *v, bool wait)
{
	struct xtel_store_frame f = {
		.taken_ns = v->taken_ns,
		.dt_s = v->dt_s,
		.final = v->final,
		.snap = &v->snap,
		.gauges = {
			[XTEL_STORE_G_CLIENTS] = v->snap.n_clients,
			[XTEL_STORE_G_LIVE] = v->live,
			[XTEL_STORE_G_STALE] = v->stale,
			[XTEL_STORE_G_DTLS_SESSIONS] = v->dtls_sessions,
		},
		.fleet = {
			[XTEL_STORE_DROPPED - XTEL_STORE_N_ACCT] = v->dropped_total,
			[XTEL_STORE_XDP_DROPPED - XTEL_STORE_N_ACCT] = v->xdp.dropped,
		},
		.release = put_view,
		.arg = v,
		.events = v->health ? write_events : NULL,
	};

	if (!w)
		return;
	xtel_view_get(v);
	xtel_store_push(w, &f, wait);
}

json_t *xtel_store_stats_json(const char *path, const struct xtel_store_stats *s)
{
	json_t *o = json_object();

	xtel_json_set(o, "path", xtel_json_text(path));
	xtel_json_set(o, "error", s->last_error ?
		      json_string(strerror(-s->last_error)) : json_null());
	xtel_json_set(o, "queue_depth", xtel_json_u64(s->queue_depth));
	xtel_json_set(o, "queue_capacity", xtel_json_u64(s->queue_capacity));
	xtel_json_set(o, "commit_ms_last",
		      xtel_json_fixed((double)s->commit_ns_last / 1e6, 3));
	xtel_json_set(o, "commit_ms_max",
		      xtel_json_fixed((double)s->commit_ns_max / 1e6, 3));
	for (unsigned int i = 0; i < XTEL_STORE_STAT_MAX; i++)
		xtel_json_set(o, xtel_store_stat_desc[i].name,
			      xtel_json_u64(s->c[i]));
	return o;
}
