// SPDX-License-Identifier: MIT
/*
 * The model (model.h): snapshot, derive, publish. Rates come from the
 * difference of two snapshots divided by the real time between them, so a
 * late tick does not inflate pkt/s. Per-metric min/max/mean are folded here
 * over every interval of the run.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "collector/health_feed.h"
#include "collector/model.h"

struct xtel_model {
	struct xtel_model_cfg cfg;
	uint64_t seq;

	struct xtel_health_feed *health;	/* NULL: off */

	pthread_mutex_t lock;		/* guards latest (swap and get) */
	struct xtel_view *latest;
};

/* ---- views ---- */

const char *xtel_client_state_name(enum xtel_client_state s)
{
	switch (s) {
	case XTEL_CLIENT_LIVE:
		return "live";
	case XTEL_CLIENT_STALE:
		return "stale";
	case XTEL_CLIENT_BYE:
		return "bye";
	}
	return "unknown";
}

static void view_free(struct xtel_view *v)
{
	xtel_snapshot_free(&v->snap);
	free(v->clients);
	free(v->run_metrics_pool);
	free(v->xdp.clients);
	free(v->sites);
	free(v->devices);
	xtel_inventory_put(v->inv);
	xtel_health_view_free(v->health);
	free(v);
}

void xtel_view_get(struct xtel_view *v)
{
	__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
}

void xtel_view_put(struct xtel_view *v)
{
	if (v && __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == 0)
		view_free(v);
}

struct xtel_view *xtel_model_view(struct xtel_model *m)
{
	struct xtel_view *v;

	pthread_mutex_lock(&m->lock);
	v = m->latest;
	if (v)
		xtel_view_get(v);
	pthread_mutex_unlock(&m->lock);
	return v;
}

static void publish(struct xtel_model *m, struct xtel_view *v)
{
	struct xtel_view *old;

	v->refs = 1;		/* the model's own reference */
	pthread_mutex_lock(&m->lock);
	old = m->latest;
	m->latest = v;
	pthread_mutex_unlock(&m->lock);
	xtel_view_put(old);
}

const struct xtel_health_feed *xtel_model_health(const struct xtel_model *m)
{
	return m->health;
}

int xtel_model_new(const struct xtel_model_cfg *cfg, struct xtel_model **out)
{
	struct xtel_model *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	if (cfg->health) {
		int rc = xtel_health_feed_new(cfg->health, &m->health);

		if (rc) {
			free(m);
			return rc;
		}
	}
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return 0;
}

void xtel_model_free(struct xtel_model *m)
{
	if (!m)
		return;
	xtel_view_put(m->latest);
	xtel_health_feed_free(m->health);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* ---- whole-run metric aggregates ---- */

/*
 * A client's whole-run metrics are the previous view's (which the model
 * holds until this one is published) with the snapshot's last complete
 * interval folded in: the model keeps no copy of its own, one entry a
 * key per client less than a separate table, and an entry holds only
 * the fold (view.h): key and last value are the snapshot's. Registries
 * never forget a client, so every client of prev is in the new snapshot.
 */

/* prev's client with this id; *j walks prev's clients (both id-sorted). */
static const struct xtel_view_client *prev_client(const struct xtel_view *prev,
						  uint32_t *j, uint32_t id)
{
	if (!prev)
		return NULL;
	while (*j < prev->snap.n_clients && prev->clients[*j].snap->client_id < id)
		(*j)++;
	return *j < prev->snap.n_clients &&
	       prev->clients[*j].snap->client_id == id ? &prev->clients[*j] : NULL;
}

/*
 * Index of key in r[0..n), or n. A registry interns a name once, so the
 * pointer finds it but for a client merged from several workers: the
 * text only when no pointer matches.
 */
static uint32_t run_find(const struct xtel_run_metric *r, uint32_t n,
			 const char *key)
{
	uint32_t k = 0;

	while (k < n && r[k].latest->key != key)
		k++;
	if (k < n)
		return k;
	for (k = 0; k < n && strcmp(r[k].latest->key, key); k++)
		;
	return k;
}

/*
 * Entries the client's whole-run list needs: prev's and its new keys;
 * *orphans grows by prev's keys the snapshot no longer lists.
 */
static uint32_t run_count(const struct xtel_view_client *pc,
			  const struct xtel_client_snap *c, size_t *orphans)
{
	uint32_t n_prev = pc ? pc->n_run_metrics : 0, n = n_prev, found = 0;

	for (uint32_t k = 0; k < c->n_metrics; k++) {
		if (pc && run_find(pc->run_metrics, n_prev,
				   c->metrics[k].key) < n_prev)
			found++;
		else
			n++;
	}
	*orphans += n_prev - found;
	return n;
}

/* Whether m is one of c's snapshot metrics. */
static bool in_snapshot(const struct xtel_metric_snap *m,
			const struct xtel_client_snap *c)
{
	uintptr_t p = (uintptr_t)m, b = (uintptr_t)c->metrics;

	return c->n_metrics && p >= b && p < b + c->n_metrics * sizeof(*m);
}

/*
 * v's whole-run metrics (its clients derived already) from prev's. A
 * key's entry points at its metric in v's snapshot; the rare key the
 * snapshot lost (see view.h) gets a copy of prev's latest, after the
 * run metrics in the same block, before prev goes.
 */
static int run_metrics(struct xtel_view *v, const struct xtel_view *prev)
{
	size_t total = 0, used = 0, orphans = 0, used_orphans = 0;
	struct xtel_metric_snap *kept;
	uint32_t j = 0;

	for (uint32_t i = 0; i < v->snap.n_clients; i++)
		total += run_count(prev_client(prev, &j, v->snap.clients[i].client_id),
				   &v->snap.clients[i], &orphans);
	if (!total)
		return 0;
	v->run_metrics_pool = malloc(total * sizeof(*v->run_metrics_pool) +
				     orphans * sizeof(*kept));
	if (!v->run_metrics_pool)
		return -ENOMEM;
	kept = (struct xtel_metric_snap *)(v->run_metrics_pool + total);
	j = 0;
	for (uint32_t i = 0; i < v->snap.n_clients; i++) {
		struct xtel_view_client *vc = &v->clients[i];
		const struct xtel_client_snap *c = vc->snap;
		const struct xtel_view_client *pc = prev_client(prev, &j,
								c->client_id);
		struct xtel_run_metric *r = &v->run_metrics_pool[used];
		uint32_t n_prev = pc ? pc->n_run_metrics : 0, n = n_prev;

		if (n)
			memcpy(r, pc->run_metrics, n * sizeof(*r));
		for (uint32_t k = 0; k < c->n_metrics; k++) {
			const struct xtel_metric_snap *ms = &c->metrics[k];
			struct xtel_run_metric *d = &r[run_find(r, n, ms->key)];

			if (d == &r[n]) {
				n++;
				*d = (struct xtel_run_metric){ 0 };
			}
			d->latest = ms;
			if (!ms->count)
				continue;
			if (!d->count || ms->min < d->min)
				d->min = ms->min;
			if (!d->count || ms->max > d->max)
				d->max = ms->max;
			d->sum += ms->mean * (double)ms->count;
			d->count += ms->count;
		}
		for (uint32_t k = 0; k < n_prev; k++) {
			struct xtel_metric_snap *o;

			if (in_snapshot(r[k].latest, c))
				continue;
			o = &kept[used_orphans++];
			*o = *r[k].latest;	/* key, last, last_ts_ns */
			o->count = 0;
			o->min = o->max = o->mean = 0;
			r[k].latest = o;
		}
		if (n) {
			vc->run_metrics = r;
			vc->n_run_metrics = n;
			used += n;
		}
	}
	return 0;
}

/* ---- derived figures ---- */

double xtel_loss_pct(uint64_t received, uint64_t duplicates, uint64_t lost)
{
	uint64_t expected = (received > duplicates ? received - duplicates : 0) + lost;

	return expected ? 100.0 * (double)lost / (double)expected : 0.0;
}

void xtel_view_client_derive(struct xtel_view_client *vc,
			     const struct xtel_client_snap *c,
			     const struct xtel_client_snap *prev, double dt)
{
	vc->snap = c;
	if (c->bye_seen)
		vc->state = XTEL_CLIENT_BYE;
	else
		vc->state = c->stale ? XTEL_CLIENT_STALE : XTEL_CLIENT_LIVE;
	vc->d_received = c->received - (prev ? prev->received : 0);
	vc->d_bytes = c->bytes - (prev ? prev->bytes : 0);
	vc->pkt_s = dt > 0 ? (double)vc->d_received / dt : 0.0;
	vc->mb_s = dt > 0 ? (double)vc->d_bytes / dt / 1e6 : 0.0;
}

/*
 * The inventory's part: each client's device and silence, a device's
 * heartbeat deciding its staleness, and the devices' own list. Both the
 * clients and the inventory are sorted by id: one merge walk.
 */
static int derive_devices(struct xtel_view *v)
{
	const struct xtel_inventory *inv = v->inv;
	uint32_t j = 0;

	for (uint32_t i = 0; i < v->snap.n_clients; i++) {
		struct xtel_view_client *vc = &v->clients[i];
		const struct xtel_client_snap *c = vc->snap;

		vc->silent_s = c->last_seen_ns && c->last_seen_ns < v->taken_ns ?
			(double)(v->taken_ns - c->last_seen_ns) / 1e9 : 0.0;
		if (!inv)
			continue;
		while (j < inv->n && inv->keys[j].id < c->client_id)
			j++;
		vc->dev = j < inv->n && inv->keys[j].id == c->client_id ?
			  inv->devs[j] : NULL;
		if (!vc->dev) {
			v->clients_unknown++;
			continue;
		}
		if (vc->dev->heartbeat_ms && vc->state != XTEL_CLIENT_BYE) {
			enum xtel_client_state st =
				vc->silent_s * 1000.0 > vc->dev->heartbeat_ms ?
				XTEL_CLIENT_STALE : XTEL_CLIENT_LIVE;

			/* Keep the counts derive() made in step. */
			if (st != vc->state) {
				if (st == XTEL_CLIENT_STALE) {
					v->stale++;
					v->live--;
				} else {
					v->live++;
					v->stale--;
				}
				vc->state = st;
			}
		}
	}
	if (!inv)
		return 0;
	v->devices = calloc(inv->n ? inv->n : 1, sizeof(*v->devices));
	if (!v->devices)
		return -ENOMEM;
	v->n_devices = inv->n;
	j = 0;
	for (uint32_t i = 0; i < inv->n; i++) {
		struct xtel_view_device *vd = &v->devices[i];
		const struct xtel_device *d = inv->devs[i];

		vd->dev = d;
		while (j < v->snap.n_clients && v->snap.clients[j].client_id < d->id)
			j++;
		if (j < v->snap.n_clients && v->snap.clients[j].client_id == d->id)
			vd->vc = &v->clients[j];
		if (vd->vc) {
			vd->silent_s = vd->vc->silent_s;
			vd->stale = vd->vc->state == XTEL_CLIENT_STALE;
		} else {
			vd->silent_s = v->elapsed_s;
			vd->stale = !d->heartbeat_ms ||
				    v->elapsed_s * 1000.0 > d->heartbeat_ms;
			v->devices_unseen++;
		}
		v->devices_stale += vd->stale;
		v->devices_disabled += !d->enabled;
	}
	return 0;
}

static void derive(struct xtel_view *v, const struct xtel_view *prev)
{
	const struct xtel_snapshot *p = prev ? &prev->snap : NULL;
	uint32_t j = 0;

	for (uint32_t i = 0; i < v->snap.n_clients; i++) {
		const struct xtel_client_snap *c = &v->snap.clients[i];
		const struct xtel_client_snap *pc = NULL;

		/* Both snapshots are sorted by client_id: merge walk. */
		while (p && j < p->n_clients && p->clients[j].client_id < c->client_id)
			j++;
		if (p && j < p->n_clients && p->clients[j].client_id == c->client_id)
			pc = &p->clients[j];
		xtel_view_client_derive(&v->clients[i], c, pc, v->dt_s);
		if (v->clients[i].state == XTEL_CLIENT_BYE)
			v->bye++;
		else if (v->clients[i].state == XTEL_CLIENT_STALE)
			v->stale++;
		else
			v->live++;
	}
	xtel_view_client_derive(&v->total, &v->snap.total, p ? &p->total : NULL,
				v->dt_s);
	v->dropped_total = xtel_counters_total_drops(&v->cnt);
	{
		const uint64_t *d = v->cnt.dtls;
		uint64_t ended = v->cnt.events[XTEL_EV_DTLS_CLOSED] +
				 d[XTEL_DTLS_STAT_SESSIONS_REPLACED];
		uint64_t ok = d[XTEL_DTLS_STAT_HANDSHAKES_OK];

		v->dtls_sessions = ok > ended ? ok - ended : 0;
	}
}

void xtel_model_publish(struct xtel_model *m, struct xtel_view *v)
{
	v->seq = ++m->seq;
	if (m->cfg.families)
		v->n_families = m->cfg.families(m->cfg.families_arg, v->families,
						XTEL_VIEW_FAMILIES);
	publish(m, v);
}

int xtel_model_update(struct xtel_model *m, uint64_t now_ns, double elapsed_s,
		      bool final)
{
	struct xtel_view *v = calloc(1, sizeof(*v));
	const struct xtel_view *prev = m->latest;
	uint64_t t0 = xtel_mono_ns();
	int rc, fold_rc = 0;

	if (!v)
		return -ENOMEM;
	/*
	 * Close the interval in progress (it counts, and the snapshot then
	 * reports it as complete), then snapshot every registry.
	 */
	xtel_interval_advance();
	rc = xtel_snapshot_take_ex(m->cfg.regs, m->cfg.n_regs, now_ns,
				   m->cfg.stale_after_ns, final,
				   &(struct xtel_snapshot_opts){
					.flags = (m->cfg.lat_hist ?
						  XTEL_SNAP_LAT_HIST : 0) |
						 (m->cfg.with_buckets ?
						  XTEL_SNAP_LAT_BUCKETS : 0),
					.lat = m->health && !final ?
					       xtel_health_feed_lat : NULL,
					.lat_arg = m->health,
				   }, &v->snap);
	if (rc) {
		free(v);
		return rc;
	}
	v->clients = calloc(v->snap.n_clients ? v->snap.n_clients : 1,
			    sizeof(*v->clients));
	if (!v->clients) {
		xtel_snapshot_free(&v->snap);
		free(v);
		return -ENOMEM;
	}
	v->seq = ++m->seq;
	v->final = final;
	v->taken_ns = v->snap.taken_ns;
	v->elapsed_s = elapsed_s;
	v->dt_s = elapsed_s - (prev ? prev->elapsed_s : 0.0);
	m->cfg.counters(m->cfg.counters_arg, &v->cnt);
	if (m->cfg.xdp)
		m->cfg.xdp(m->cfg.xdp_arg, &v->xdp, final);
	if (m->cfg.failures)
		v->n_recent_failures = m->cfg.failures(m->cfg.failures_arg,
			v->recent_failures, XTEL_RECENT_FAILURES);
	if (m->cfg.families)
		v->n_families = m->cfg.families(m->cfg.families_arg, v->families,
						XTEL_VIEW_FAMILIES);
	if (m->cfg.inventory)
		v->inv = m->cfg.inventory(m->cfg.inventory_arg);
	derive(v, prev);
	if (run_metrics(v, prev))
		fold_rc = -ENOMEM;
	if (derive_devices(v))
		fold_rc = -ENOMEM;
	/* health verdicts, once per interval; the final view has none (the
	 * drain's confirmed losses are no interval's) */
	if (m->health && !final && xtel_health_feed_update(m->health, v, prev))
		fold_rc = -ENOMEM;
	v->build_ns = xtel_mono_ns() - t0;
	publish(m, v);
	return fold_rc;
}
