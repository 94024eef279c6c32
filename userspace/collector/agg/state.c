// SPDX-License-Identifier: MIT
/*
 * Merging rollups (state.h) and turning the merged state into a view of
 * the same shape as a collector's (view.h), so the HTTP API, /metrics and
 * the summary renderers read it unchanged: a snapshot of clients sorted
 * by id, their latency summaries from the merged histograms, whole-run
 * metric folds, totals, rates since the previous view. Records are found
 * through an open-addressing hash on (site, id).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct/snapshot.h"
#include "collector/agg/state.h"
#include "collector/model.h"

static uint32_t hash(uint32_t site, uint32_t id)
{
	uint64_t k = ((uint64_t)site << 32 | id) * 0x9e3779b97f4a7c15ULL;

	return (uint32_t)(k >> 32);
}

int xtel_agg_state_init(struct xtel_agg_state *s)
{
	memset(s, 0, sizeof(*s));
	s->h_mask = 1023;
	s->h = calloc(s->h_mask + 1, sizeof(*s->h));
	return s->h ? 0 : -ENOMEM;
}

void xtel_agg_state_fini(struct xtel_agg_state *s)
{
	for (uint32_t i = 0; i < s->n; i++) {
		xtel_latency_destroy(&s->c[i]->hist);
		free(s->c[i]->m);
		free(s->c[i]);
	}
	free(s->c);
	free(s->h);
	for (uint32_t i = 0; i < s->n_sites; i++)
		free(s->sites[i]);
	memset(s, 0, sizeof(*s));
}

int xtel_agg_site(struct xtel_agg_state *s, const char *site)
{
	for (uint32_t i = 0; i < s->n_sites; i++)
		if (!strcmp(s->sites[i], site))
			return (int)i;
	if (s->n_sites == XTEL_AGG_MAX_SITES)
		return -ENOSPC;
	s->sites[s->n_sites] = strdup(site);
	if (!s->sites[s->n_sites])
		return -ENOMEM;
	return (int)s->n_sites++;
}

static int rehash(struct xtel_agg_state *s)
{
	uint32_t mask = s->h_mask * 2 + 1;
	uint32_t *h = calloc(mask + 1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->n; i++) {
		uint32_t k = hash(s->c[i]->site, s->c[i]->id) & mask;

		while (h[k])
			k = (k + 1) & mask;
		h[k] = i + 1;
	}
	free(s->h);
	s->h = h;
	s->h_mask = mask;
	return 0;
}

static struct xtel_agg_client *get(struct xtel_agg_state *s, uint32_t site,
				   uint32_t id)
{
	uint32_t k = hash(site, id) & s->h_mask;
	struct xtel_agg_client *c;

	for (; s->h[k]; k = (k + 1) & s->h_mask) {
		c = s->c[s->h[k] - 1];
		if (c->site == site && c->id == id)
			return c;
	}
	if ((s->n + 1) * 2 > s->h_mask + 1) {
		if (rehash(s))
			return NULL;
		return get(s, site, id);
	}
	if (s->n == s->cap) {
		uint32_t ncap = s->cap ? s->cap * 2 : 1024;
		struct xtel_agg_client **nc = realloc(s->c, ncap * sizeof(*nc));

		if (!nc)
			return NULL;
		s->c = nc;
		s->cap = ncap;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->site = site;
	c->id = id;
	c->c.client_id = id;
	xtel_latency_init(&c->hist);
	s->c[s->n] = c;
	s->h[k] = ++s->n;
	return c;
}

static struct xtel_agg_metric *metric_get(struct xtel_agg_client *c,
					  const char *key)
{
	for (uint32_t j = 0; j < c->n_m; j++)
		if (!strcmp(c->m[j].key, key))
			return &c->m[j];
	if (c->n_m == XTEL_ROLLUP_MAX_METRICS)
		return NULL;
	if (c->n_m == c->cap_m) {
		uint32_t ncap = c->cap_m ? c->cap_m * 2 : 4;
		struct xtel_agg_metric *n = realloc(c->m, ncap * sizeof(*n));

		if (!n)
			return NULL;
		c->m = n;
		c->cap_m = ncap;
	}
	memset(&c->m[c->n_m], 0, sizeof(c->m[0]));
	snprintf(c->m[c->n_m].key, sizeof(c->m[0].key), "%s", key);
	return &c->m[c->n_m++];
}

static void min_u64(uint64_t *d, uint64_t v)
{
	if (v && (!*d || v < *d))
		*d = v;
}

static void max_u64(uint64_t *d, uint64_t v)
{
	if (v > *d)
		*d = v;
}

int xtel_agg_merge(struct xtel_agg_state *s, const char *site,
		   const struct xtel_rollup_client *rc)
{
	int si = xtel_agg_site(s, site);
	struct xtel_agg_client *a;
	struct xtel_client_snap *c;
	struct xtel_latency *h;

	if (si < 0)
		return si;
	a = get(s, (uint32_t)si, rc->client_id);
	if (!a)
		return -ENOMEM;
	c = &a->c;
	h = &a->hist;
	a->dirty = true;
	c->received += rc->received;
	c->bytes += rc->bytes;
	c->lost += rc->lost;
	c->pending = rc->pending;
	c->duplicates += rc->duplicates;
	c->reordered += rc->reordered;
	c->too_late += rc->too_late;
	c->epochs += (uint32_t)rc->epochs;
	c->metrics_dropped += rc->metrics_dropped;
	for (unsigned int t = 0; t <= XTEL_MSG_TYPE_MAX; t++)
		c->by_type[t] += rc->by_type[t];
	min_u64(&c->first_seen_ns, rc->first_seen_ns);
	max_u64(&c->last_seen_ns, rc->last_seen_ns);
	max_u64(&c->highest_seq, rc->highest_seq);
	c->bye_seen = c->bye_seen || rc->bye;
	if (rc->health && rc->health_since_ns >= a->health_since_ns) {
		int st = xtel_health_state_parse(rc->health_state);

		if (st >= 0) {	/* a state this version does not know: skipped */
			a->has_health = true;
			a->health_state = st;
			a->health_score = (float)rc->health_score;
			a->health_since_ns = rc->health_since_ns;
		}
	}
	if (rc->lat_count) {
		if (!h->count || rc->lat_min < h->min)
			h->min = rc->lat_min;
		max_u64(&h->max, rc->lat_max);
	}
	h->count += rc->lat_count;
	h->negative += rc->lat_negative;
	h->sum += rc->lat_sum;
	h->overflow += rc->lat_overflow;
	for (uint32_t i = 0; i < rc->n_buckets; i++)
		if (xtel_latency_add_bucket(h, rc->buckets[i].idx,
					    rc->buckets[i].count))
			return -ENOMEM;
	for (uint32_t k = 0; k < rc->n_metrics; k++) {
		const struct xtel_rollup_metric *m = &rc->metrics[k];
		struct xtel_agg_metric *d = metric_get(a, m->key);

		if (!d) {
			c->metrics_dropped++;
			continue;
		}
		if (m->last_ts_ns >= d->last_ts_ns) {
			d->last = m->last;
			d->last_ts_ns = m->last_ts_ns;
		}
		if (!m->count)
			continue;
		if (!d->count || m->min < d->min)
			d->min = m->min;
		if (!d->count || m->max > d->max)
			d->max = m->max;
		d->count += m->count;
		d->sum += m->sum;
		d->i_count = m->count;
		d->i_sum = m->sum;
		d->i_min = m->min;
		d->i_max = m->max;
	}
	return 0;
}

void xtel_agg_as_rollup(const struct xtel_agg_client *a,
			struct xtel_rollup_client *rc,
			struct xtel_lat_bucket *buckets,
			struct xtel_rollup_metric *metrics)
{
	const struct xtel_client_snap *c = &a->c;
	const struct xtel_latency *h = &a->hist;
	uint32_t nb = 0;

	memset(rc, 0, sizeof(*rc));
	rc->client_id = a->id;
	rc->received = c->received;
	rc->bytes = c->bytes;
	rc->lost = c->lost;
	rc->pending = c->pending;
	rc->duplicates = c->duplicates;
	rc->reordered = c->reordered;
	rc->too_late = c->too_late;
	rc->epochs = c->epochs;
	rc->metrics_dropped = c->metrics_dropped;
	memcpy(rc->by_type, c->by_type, sizeof(rc->by_type));
	rc->first_seen_ns = c->first_seen_ns;
	rc->last_seen_ns = c->last_seen_ns;
	rc->highest_seq = c->highest_seq;
	rc->bye = c->bye_seen;
	/* the verdict too, so a restart serves it before the edge sends anew */
	if (a->has_health) {
		rc->health = true;
		snprintf(rc->health_state, sizeof(rc->health_state), "%s",
			 xtel_health_state_name((enum xtel_health_state)a->health_state));
		rc->health_score = a->health_score;
		rc->health_since_ns = a->health_since_ns;
	}
	rc->lat_count = h->count;
	rc->lat_negative = h->negative;
	rc->lat_sum = h->sum;
	rc->lat_min = h->min;
	rc->lat_max = h->max;
	rc->lat_overflow = h->overflow;
	for (unsigned int g = 0; g < XTEL_LAT_GROUPS; g++) {
		const uint64_t *b = h->blocks[g];

		for (unsigned int k = 0; b && k < XTEL_LAT_SUB; k++)
			if (b[k])
				buckets[nb++] = (struct xtel_lat_bucket){
					.idx = g * XTEL_LAT_SUB + k, .count = b[k] };
	}
	rc->n_buckets = nb;
	rc->buckets = buckets;
	for (uint32_t k = 0; k < a->n_m; k++) {
		const struct xtel_agg_metric *m = &a->m[k];

		metrics[k] = (struct xtel_rollup_metric){
			.count = m->count, .sum = m->sum, .min = m->min,
			.max = m->max, .last = m->last, .last_ts_ns = m->last_ts_ns };
		memcpy(metrics[k].key, m->key, sizeof(m->key));
	}
	rc->n_metrics = a->n_m;
	rc->metrics = metrics;
}

/* ---- views ---- */

static int cmp_idx(const void *x, const void *y, void *arg)
{
	const struct xtel_agg_state *s = arg;
	const struct xtel_agg_client *a = s->c[*(const uint32_t *)x];
	const struct xtel_agg_client *b = s->c[*(const uint32_t *)y];

	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return strcmp(s->sites[a->site], s->sites[b->site]);
}

/* The edges' verdicts in the view's client order (idx), as health results. */
static struct xtel_health_view *agg_health(const struct xtel_agg_state *s,
					   const uint32_t *idx, uint64_t now_ns)
{
	struct xtel_health_view *hv = calloc(1, sizeof(*hv));

	if (!hv)
		return NULL;
	hv->clients = calloc(s->n ? s->n : 1, sizeof(*hv->clients));
	if (!hv->clients) {
		free(hv);
		return NULL;
	}
	hv->ts_ns = now_ns;
	hv->n_clients = s->n;
	for (uint32_t i = 0; i < s->n; i++) {
		const struct xtel_agg_client *a = s->c[idx[i]];
		struct xtel_health_result *r = &hv->clients[i];

		r->client_id = a->id;
		r->group = UINT32_MAX;		/* no groups here */
		r->state = a->has_health ? (enum xtel_health_state)a->health_state :
			   XTEL_HEALTH_WARMUP;
		r->score = a->has_health ? a->health_score : 0;
		r->since_ns = a->has_health ? a->health_since_ns : 0;
		hv->counts[r->state]++;
	}
	return hv;
}

/* The model's derivation, against the figures of the previous view. */
static void derive(struct xtel_view_client *vc, uint64_t *prev_received,
		   uint64_t *prev_bytes, const struct xtel_client_snap *c, double dt)
{
	struct xtel_client_snap prev = { .received = *prev_received,
					 .bytes = *prev_bytes };

	xtel_view_client_derive(vc, c, &prev, dt);
	*prev_received = c->received;
	*prev_bytes = c->bytes;
}

struct xtel_view *xtel_agg_view(struct xtel_agg_state *s, uint64_t now_ns,
				uint64_t stale_after_ns, double elapsed_s,
				bool final)
{
	struct xtel_view *v = calloc(1, sizeof(*v));
	uint32_t *idx = malloc((s->n ? s->n : 1) * sizeof(*idx));
	size_t n_metrics = 0, used = 0;
	struct xtel_latency total, *site_lat = NULL;
	char *names;
	double dt = s->prev_view_ns && now_ns > s->prev_view_ns ?
		    (double)(now_ns - s->prev_view_ns) / 1e9 : 0.0;

	if (!v || !idx)
		goto fail;
	for (uint32_t i = 0; i < s->n; i++) {
		idx[i] = i;
		n_metrics += s->c[i]->n_m;
	}
	qsort_r(idx, s->n, sizeof(*idx), cmp_idx, s);
	v->snap.clients = calloc(s->n ? s->n : 1, sizeof(*v->snap.clients));
	v->clients = calloc(s->n ? s->n : 1, sizeof(*v->clients));
	v->snap.metrics_pool = calloc(n_metrics ? n_metrics : 1,
				      sizeof(*v->snap.metrics_pool));
	/*
	 * The keys' text after the run metrics, in the same block: a view's
	 * metrics point at their names (acct/types.h), and the state's own
	 * copies move when a client's metric array grows.
	 */
	v->run_metrics_pool = calloc(1, (n_metrics ? n_metrics : 1) *
				     (sizeof(*v->run_metrics_pool) +
				      XTEL_MAX_KEY_LEN + 1));
	v->sites = calloc(s->n_sites ? s->n_sites : 1, sizeof(*v->sites));
	site_lat = calloc(s->n_sites ? s->n_sites : 1, sizeof(*site_lat));
	if (!v->snap.clients || !v->clients || !v->snap.metrics_pool ||
	    !v->run_metrics_pool || !v->sites || !site_lat)
		goto fail;
	names = (char *)(v->run_metrics_pool + (n_metrics ? n_metrics : 1));
	xtel_latency_init(&total);
	v->n_sites = s->n_sites;
	for (uint32_t k = 0; k < s->n_sites; k++) {
		v->sites[k].name = s->sites[k];
		xtel_latency_init(&site_lat[k]);
	}
	v->snap.n_clients = s->n;
	v->snap.taken_ns = now_ns;
	for (uint32_t i = 0; i < s->n; i++) {
		struct xtel_agg_client *a = s->c[idx[i]];
		struct xtel_client_snap *c = &v->snap.clients[i];
		struct xtel_view_client *vc = &v->clients[i];

		*c = a->c;
		c->stale = now_ns > c->last_seen_ns &&
			   now_ns - c->last_seen_ns > stale_after_ns;
		xtel_latency_summary(&a->hist, &c->lat);
		c->lat_overflow = a->hist.overflow;
		c->metrics = &v->snap.metrics_pool[used];
		c->n_metrics = a->n_m;
		vc->run_metrics = &v->run_metrics_pool[used];
		vc->n_run_metrics = a->n_m;
		for (uint32_t k = 0; k < a->n_m; k++, used++) {
			const struct xtel_agg_metric *m = &a->m[k];
			struct xtel_metric_snap *ms = &v->snap.metrics_pool[used];
			struct xtel_run_metric *rm = &v->run_metrics_pool[used];
			char *name = names + used * (XTEL_MAX_KEY_LEN + 1);

			memcpy(name, m->key, XTEL_MAX_KEY_LEN);
			ms->key = name;
			ms->last = m->last;
			ms->last_ts_ns = m->last_ts_ns;
			ms->count = m->i_count;
			ms->min = m->i_min;
			ms->max = m->i_max;
			ms->mean = m->i_count ? m->i_sum / (double)m->i_count : 0;
			rm->latest = ms;
			rm->count = m->count;
			if (m->count) {
				rm->min = m->min;
				rm->max = m->max;
				rm->sum = m->sum;
			}
		}
		vc->site = s->sites[a->site];
		derive(vc, &a->prev_received, &a->prev_bytes, c, dt);
		{
			struct xtel_view_site *vs = &v->sites[a->site];
			unsigned int *st[] = { [XTEL_CLIENT_LIVE] = &v->live,
				[XTEL_CLIENT_STALE] = &v->stale,
				[XTEL_CLIENT_BYE] = &v->bye };
			unsigned int *sst[] = { [XTEL_CLIENT_LIVE] = &vs->live,
				[XTEL_CLIENT_STALE] = &vs->stale,
				[XTEL_CLIENT_BYE] = &vs->bye };

			(*st[vc->state])++;
			(*sst[vc->state])++;
			vs->clients++;
			xtel_client_snap_add(&vs->snap, c);
			xtel_latency_merge(&site_lat[a->site], &a->hist);
		}
		xtel_client_snap_add(&v->snap.total, c);
		xtel_latency_merge(&total, &a->hist);
	}
	xtel_latency_summary(&total, &v->snap.total.lat);
	xtel_latency_destroy(&total);
	for (uint32_t k = 0; k < s->n_sites; k++) {
		struct xtel_view_site *vs = &v->sites[k];

		xtel_latency_summary(&site_lat[k], &vs->snap.lat);
		xtel_latency_destroy(&site_lat[k]);
		derive(&vs->total, &s->prev_site_received[k],
		       &s->prev_site_bytes[k], &vs->snap, dt);
	}
	free(site_lat);
	site_lat = NULL;
	derive(&v->total, &s->prev_total_received, &s->prev_total_bytes,
	       &v->snap.total, dt);
	v->health = agg_health(s, idx, now_ns);
	if (!v->health)
		goto fail;
	v->final = final;
	v->taken_ns = now_ns;
	v->elapsed_s = elapsed_s;
	v->dt_s = dt;
	s->prev_view_ns = now_ns;
	free(idx);
	return v;
fail:
	free(site_lat);
	if (v) {
		free(v->sites);
		free(v->snap.clients);
		free(v->snap.metrics_pool);
		free(v->clients);
		free(v->run_metrics_pool);
		free(v);
	}
	free(idx);
	return NULL;
}
