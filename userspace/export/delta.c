// SPDX-License-Identifier: MIT
/*
 * Deltas of successive snapshots (delta.h). Both the previous state and
 * the snapshot are sorted by client id, so one merge walk pairs them; the
 * registry never forgets a client, so every previous client is in the
 * new snapshot, and the new state is built in a fresh array and swapped
 * in only when the whole step succeeded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct/latency.h"
#include "export/delta.h"
#include "health/health.h"

/* The cumulative figures of one client at the previous step. */
struct prev {
	uint32_t id;
	bool bye;
	uint32_t n_b;
	uint64_t c[9];	/* as in cum(): received .. metrics_dropped */
	uint64_t by_type[XTEL_MSG_TYPE_MAX + 1];
	uint64_t lat_count, lat_negative, lat_sum, lat_overflow;
	struct xtel_lat_bucket *b;	/* owned */
	int h_state;			/* the verdict's; -1: none */
	uint64_t h_since;
};

struct xtel_delta {
	struct prev *p;
	uint32_t n;
	struct xtel_totals_prev {
		uint64_t c[9];
		uint64_t by_type[XTEL_MSG_TYPE_MAX + 1];
	} tot;
	struct xtel_lat_bucket db[XTEL_LAT_BUCKETS];	/* scratch */
	struct xtel_rollup_metric m[XTEL_ROLLUP_MAX_METRICS];
};

int xtel_delta_new(struct xtel_delta **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void prev_free(struct prev *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(p[i].b);
	free(p);
}

void xtel_delta_free(struct xtel_delta *d)
{
	if (!d)
		return;
	prev_free(d->p, d->n);
	free(d);
}

/* The cumulative counters of a snapshot client, in struct prev's order. */
static void cum(const struct xtel_client_snap *s, uint64_t c[9])
{
	c[0] = s->received;
	c[1] = s->bytes;
	c[2] = s->lost;
	c[3] = s->duplicates;
	c[4] = s->reordered;
	c[5] = s->too_late;
	c[6] = s->epochs;
	c[7] = s->metrics_dropped;
	c[8] = s->pending;	/* a state, not a counter: sent as is */
}

/*
 * A counter that went down (it cannot, short of a bug) is sent as 0, not
 * as a huge unsigned difference: the damage stays one interval's worth.
 */
static uint64_t sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void fill_counters(struct xtel_rollup_client *rc, const uint64_t now[9],
			  const uint64_t was[9], const uint64_t *bt_now,
			  const uint64_t *bt_was)
{
	rc->received = sub(now[0], was[0]);
	rc->bytes = sub(now[1], was[1]);
	rc->lost = sub(now[2], was[2]);
	rc->duplicates = sub(now[3], was[3]);
	rc->reordered = sub(now[4], was[4]);
	rc->too_late = sub(now[5], was[5]);
	rc->epochs = sub(now[6], was[6]);
	rc->metrics_dropped = sub(now[7], was[7]);
	rc->pending = now[8];
	for (unsigned int t = 0; t <= XTEL_MSG_TYPE_MAX; t++)
		rc->by_type[t] = sub(bt_now[t], bt_was ? bt_was[t] : 0);
}

/* rc's buckets: s's buckets less p's (both sorted by index). */
static uint32_t bucket_delta(struct xtel_delta *d, const struct xtel_client_snap *s,
			     const struct prev *p)
{
	uint32_t n = 0, j = 0;

	for (uint32_t i = 0; i < s->n_buckets; i++) {
		uint64_t was = 0;

		while (p && j < p->n_b && p->b[j].idx < s->buckets[i].idx)
			j++;
		if (p && j < p->n_b && p->b[j].idx == s->buckets[i].idx)
			was = p->b[j].count;
		if (s->buckets[i].count > was)
			d->db[n++] = (struct xtel_lat_bucket){
				.idx = s->buckets[i].idx,
				.count = s->buckets[i].count - was };
	}
	return n;
}

static uint32_t metrics_of(struct xtel_delta *d, const struct xtel_client_snap *s)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < s->n_metrics && n < XTEL_ROLLUP_MAX_METRICS; k++) {
		const struct xtel_metric_snap *m = &s->metrics[k];
		struct xtel_rollup_metric *o;

		if (!m->count)
			continue;
		o = &d->m[n++];
		{
			size_t len = strnlen(m->key, sizeof(o->key) - 1);

			memcpy(o->key, m->key, len);
			memset(o->key + len, 0, sizeof(o->key) - len);
		}
		o->count = m->count;
		o->sum = m->mean * (double)m->count;
		o->min = m->min;
		o->max = m->max;
		o->last = m->last;
		o->last_ts_ns = m->last_ts_ns;
	}
	return n;
}

static bool changed(const struct xtel_rollup_client *rc, const struct prev *p)
{
	if (!p)
		return true;
	if (rc->received || rc->bytes || rc->lost || rc->duplicates ||
	    rc->reordered || rc->too_late || rc->epochs || rc->metrics_dropped ||
	    rc->n_buckets || rc->n_metrics || rc->lat_count || rc->lat_negative)
		return true;
	return rc->pending != p->c[8] || rc->bye != p->bye;
}

/* The verdict into rc; whether it is another than p's (a new state). */
static bool verdict(struct xtel_rollup_client *rc,
		    const struct xtel_health_result *res, const struct prev *p)
{
	if (!res)
		return false;
	rc->health = true;
	snprintf(rc->health_state, sizeof(rc->health_state), "%s",
		 xtel_health_state_name(res->state));
	rc->health_score = res->score;
	rc->health_since_ns = res->since_ns;
	return !p || p->h_state != (int)res->state || p->h_since != res->since_ns;
}

static int remember(struct prev *dst, const struct xtel_client_snap *s,
		    const struct prev *old)
{
	memset(dst, 0, sizeof(*dst));
	dst->id = s->client_id;
	dst->bye = s->bye_seen;
	cum(s, dst->c);
	memcpy(dst->by_type, s->by_type, sizeof(dst->by_type));
	dst->lat_count = s->lat.count;
	dst->lat_negative = s->lat.negative;
	dst->lat_sum = s->lat.sum_ns;
	dst->lat_overflow = s->lat_overflow;
	if (old && old->n_b == s->n_buckets &&
	    (!s->n_buckets || !memcmp(old->b, s->buckets,
				      s->n_buckets * sizeof(*s->buckets)))) {
		dst->b = old->b;	/* unchanged: take it over */
		dst->n_b = old->n_b;
		return 1;
	}
	if (s->n_buckets) {
		dst->b = malloc(s->n_buckets * sizeof(*dst->b));
		if (!dst->b)
			return -ENOMEM;
		memcpy(dst->b, s->buckets, s->n_buckets * sizeof(*dst->b));
		dst->n_b = s->n_buckets;
	}
	return 0;
}

int xtel_delta_step(struct xtel_delta *d, const struct xtel_snapshot *snap,
		    xtel_delta_fn *fn, void *arg,
		    struct xtel_rollup_client *totals)
{
	return xtel_delta_step_health(d, snap, NULL, fn, arg, totals);
}

int xtel_delta_step_health(struct xtel_delta *d, const struct xtel_snapshot *snap,
			   const struct xtel_health_view *hv,
			   xtel_delta_fn *fn, void *arg,
			   struct xtel_rollup_client *totals)
{
	struct prev *np = calloc(snap->n_clients ? snap->n_clients : 1, sizeof(*np));
	bool *taken = calloc(d->n ? d->n : 1, sizeof(*taken));
	bool *borrowed = calloc(snap->n_clients ? snap->n_clients : 1,
				sizeof(*borrowed));
	uint32_t j = 0;
	uint64_t tc[9];
	int err = 0;

	if (!np || !taken || !borrowed) {
		free(np);
		free(taken);
		free(borrowed);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < snap->n_clients && !err; i++) {
		const struct xtel_client_snap *s = &snap->clients[i];
		const struct prev *p = NULL;
		struct xtel_rollup_client rc = { .client_id = s->client_id };
		const struct xtel_health_result *res = xtel_health_find(hv, s->client_id);
		uint64_t now[9];
		bool new_verdict;
		int r;

		while (j < d->n && d->p[j].id < s->client_id)
			j++;
		if (j < d->n && d->p[j].id == s->client_id)
			p = &d->p[j];
		cum(s, now);
		fill_counters(&rc, now, p ? p->c : (uint64_t[9]){ 0 }, s->by_type,
			      p ? p->by_type : NULL);
		rc.first_seen_ns = s->first_seen_ns;
		rc.last_seen_ns = s->last_seen_ns;
		rc.highest_seq = s->highest_seq;
		rc.bye = s->bye_seen;
		rc.lat_count = sub(s->lat.count, p ? p->lat_count : 0);
		rc.lat_negative = sub(s->lat.negative, p ? p->lat_negative : 0);
		rc.lat_sum = sub(s->lat.sum_ns, p ? p->lat_sum : 0);
		rc.lat_overflow = sub(s->lat_overflow, p ? p->lat_overflow : 0);
		rc.lat_min = s->lat.min_ns;
		rc.lat_max = s->lat.max_ns;
		rc.n_buckets = bucket_delta(d, s, p);
		rc.buckets = d->db;
		rc.n_metrics = metrics_of(d, s);
		rc.metrics = d->m;
		new_verdict = verdict(&rc, res, p);
		if (changed(&rc, p) || new_verdict)
			err = fn(arg, &rc);
		r = err ? 0 : remember(&np[i], s, p);
		np[i].h_state = res ? (int)res->state : -1;
		np[i].h_since = res ? res->since_ns : 0;
		if (r < 0)
			err = r;
		else if (r == 1)
			taken[j] = borrowed[i] = true;
	}
	if (err) {
		/* free only what np owns, not what it took over from d->p */
		for (uint32_t i = 0; i < snap->n_clients; i++)
			if (!borrowed[i])
				free(np[i].b);
		free(np);
		free(taken);
		free(borrowed);
		return err;
	}
	for (uint32_t k = 0; k < d->n; k++)
		if (!taken[k])
			free(d->p[k].b);
	free(d->p);
	free(taken);
	free(borrowed);
	d->p = np;
	d->n = snap->n_clients;
	cum(&snap->total, tc);
	memset(totals, 0, sizeof(*totals));
	fill_counters(totals, tc, d->tot.c, snap->total.by_type, d->tot.by_type);
	totals->first_seen_ns = snap->total.first_seen_ns;
	totals->last_seen_ns = snap->total.last_seen_ns;
	totals->highest_seq = snap->total.highest_seq;
	memcpy(d->tot.c, tc, sizeof(tc));
	memcpy(d->tot.by_type, snap->total.by_type, sizeof(d->tot.by_type));
	return 0;
}
