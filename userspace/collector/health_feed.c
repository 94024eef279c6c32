// SPDX-License-Identifier: MIT
/*
 * The health feed (health_feed.h): per client it keeps the previous
 * cumulative latency histogram (for the interval's quantiles) and its
 * cached group; each interval it turns the view's clients into engine
 * inputs. Counters are differences against the previous view's snapshot
 * (both are sorted by client id: one merge walk). Loss counts the gaps
 * still pending too: a gap is confirmed lost only when it leaves the
 * sequence window, which at a device's rate can take minutes, far too
 * late for an interval's verdict.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "acct/latency.h"
#include "common/array.h"
#include "collector/health_feed.h"
#include "health/ivl_latency.h"

/*
 * 64 bytes a client: the interval's latency is kept as bucket indices
 * (xtel_health_ivl_ms() gives the same doubles) between the snapshot's
 * lat() call and the input made from it.
 */
struct feed_client {
	uint32_t id;
	int16_t group;			/* -1: look it up (at most 256 groups) */
	bool have_ivl;			/* ivl_* are this snapshot's */
	bool ivl_lat;			/* ... and it brought latency samples */
	uint16_t ivl_idx[XTEL_HEALTH_IVL_N];
	uint64_t ivl_max_ns;		/* an overflow bucket's value */
	struct xtel_health_lat_prev prev;	/* cumulative, at the previous view */
};

_Static_assert(XTEL_HEALTH_MAX_GROUPS <= INT16_MAX, "a group fits int16_t");
_Static_assert(sizeof(struct feed_client) == 64, "a feed client's size");

struct xtel_health_feed {
	struct xtel_health *h;
	struct feed_client *c;		/* sorted by id */
	uint32_t n, cap, hint;
	uint32_t last_id;		/* of the latest lat() call */
	struct xtel_health_input *in;
	uint32_t cap_in;
	struct xtel_health_metric_in *min;	/* the inputs' metrics */
	uint32_t n_min, cap_min;
	uint64_t nomem;
	uint64_t lat_skipped;		/* -ERANGE from ivl_latency */
};

/*
 * The group label of a client: its device's site (devices/inventory.h,
 * with --db), else "fleet" (no inventory, not in it, no site). Another
 * label (rack, role) would be chosen here.
 */
static const char *health_group_label(const struct xtel_view_client *vc)
{
	const char *site = vc->dev ? vc->dev->labels[XTEL_DEV_LABEL_SITE] : "";

	return *site ? site : "fleet";
}

int xtel_health_feed_new(const struct xtel_health_cfg *cfg,
			 struct xtel_health_feed **out)
{
	struct xtel_health_feed *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return -ENOMEM;
	rc = xtel_health_new(cfg, &f->h);
	if (rc) {
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

void xtel_health_feed_free(struct xtel_health_feed *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; i < f->n; i++)
		xtel_health_lat_prev_destroy(&f->c[i].prev);
	free(f->c);
	free(f->in);
	free(f->min);
	xtel_health_free(f->h);
	free(f);
}

/* The client of id, made if new; calls come in id order (hint). */
static struct feed_client *feed_client(struct xtel_health_feed *f, uint32_t id)
{
	uint32_t i = f->hint;

	if (i > f->n || (i > 0 && f->c[i - 1].id >= id))
		i = 0;
	while (i < f->n && f->c[i].id < id)
		i++;
	if (i == f->n || f->c[i].id != id) {
		if (xtel_array_insert(&f->c, &f->n, &f->cap, sizeof(*f->c), i))
			return NULL;
		memset(&f->c[i], 0, sizeof(f->c[i]));
		f->c[i].id = id;
		f->c[i].group = -1;
		xtel_health_lat_prev_init(&f->c[i].prev);
	}
	f->hint = i + 1;
	return &f->c[i];
}

void xtel_health_feed_lat(void *arg, uint32_t client_id,
			  const struct xtel_latency *h)
{
	struct xtel_health_feed *f = arg;
	struct feed_client *c = feed_client(f, client_id);
	struct xtel_health_ivl_lat ivl;
	int rc;

	if (!c) {
		f->nomem++;
		return;
	}
	c->have_ivl = true;
	rc = xtel_health_ivl_latency(&c->prev, h, &ivl);
	c->ivl_lat = ivl.count > 0;
	memcpy(c->ivl_idx, ivl.idx, sizeof(c->ivl_idx));
	c->ivl_max_ns = ivl.max_ns;
	if (rc == -ERANGE)
		f->lat_skipped++;
	else if (rc)
		f->nomem++;
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static uint64_t delta(uint64_t now, uint64_t before)
{
	return now > before ? now - before : 0;
}

/* One client's interval as an engine input. */
static void make_input(struct xtel_health_feed *f,
		       const struct xtel_view_client *vc,
		       const struct xtel_client_snap *pc,
		       struct xtel_health_input *in)
{
	const struct xtel_client_snap *c = vc->snap;
	struct feed_client *fc = feed_client(f, c->client_id);
	uint64_t d_recv, d_dup, d_reord, d_gaps, d_unique;

	memset(in, 0, sizeof(*in));
	in->client_id = c->client_id;
	/* the cached group holds while the label is the same (a device edit
	 * can move a client to another site at any interval) */
	if (fc) {
		const char *label = health_group_label(vc);

		if (fc->group < 0 || strcmp(label, xtel_health_group_label(f->h,
							(uint32_t)fc->group)))
			fc->group = (int16_t)xtel_health_group(f->h, label);
	}
	in->group = fc && fc->group >= 0 ? (uint32_t)fc->group : 0;
	in->gone = c->bye_seen;
	in->stale = vc->state == XTEL_CLIENT_STALE;
	in->restarted = pc && c->epochs != pc->epochs;
	d_recv = vc->d_received;
	d_dup = delta(c->duplicates, pc ? pc->duplicates : 0);
	d_reord = delta(c->reordered, pc ? pc->reordered : 0);
	d_gaps = delta(c->lost + c->pending, pc ? pc->lost + pc->pending : 0);
	d_unique = delta(d_recv, d_dup);
	in->datagrams = d_recv;
	in->have_rates = d_recv > 0;
	in->sig[XTEL_HEALTH_SIG_LOSS] = pct(d_gaps, d_unique + d_gaps);
	in->sig[XTEL_HEALTH_SIG_DUP] = pct(d_dup, d_recv);
	in->sig[XTEL_HEALTH_SIG_REORDER] = pct(d_reord, d_recv);
	in->sig[XTEL_HEALTH_SIG_RATE] = vc->pkt_s;
	if (fc && fc->have_ivl && fc->ivl_lat) {
		const uint16_t *q = fc->ivl_idx;
		double ms[XTEL_HEALTH_IVL_N];

		/* ascending: a client of one sample has one bucket for all */
		ms[0] = xtel_health_ivl_ms(q[0], fc->ivl_max_ns);
		for (unsigned int k = 1; k < XTEL_HEALTH_IVL_N; k++)
			ms[k] = q[k] == q[0] ? ms[0] :
				xtel_health_ivl_ms(q[k], fc->ivl_max_ns);
		in->have_lat = true;
		in->lat_min_ms = ms[XTEL_HEALTH_IVL_MIN];
		in->sig[XTEL_HEALTH_SIG_P50] = ms[XTEL_HEALTH_IVL_P50];
		in->sig[XTEL_HEALTH_SIG_P99] = ms[XTEL_HEALTH_IVL_P99];
		in->sig[XTEL_HEALTH_SIG_JITTER] = ms[XTEL_HEALTH_IVL_P90] -
						  ms[XTEL_HEALTH_IVL_P10];
	}
	if (fc)
		fc->have_ivl = false;
	in->metrics = f->min + f->n_min;
	for (uint32_t k = 0; k < c->n_metrics &&
			     in->n_metrics < XTEL_HEALTH_MAX_METRICS; k++) {
		const struct xtel_metric_snap *m = &c->metrics[k];

		if (!m->count || !isfinite(m->mean))
			continue;
		in->metrics[in->n_metrics].key = m->key;
		in->metrics[in->n_metrics++].mean = m->mean;
	}
	f->n_min += in->n_metrics;
}

void xtel_health_feed_mem(const struct xtel_health_feed *f,
			  struct xtel_health_feed_mem *out)
{
	*out = (struct xtel_health_feed_mem){
		.clients = f->n,
		.engine_per_client = xtel_health_client_bytes(f->h),
		.engine_table = xtel_health_table_bytes(f->h),
		.feed_table = (uint64_t)f->cap * sizeof(*f->c) -
			      (uint64_t)f->n * sizeof(f->c[0].prev),
		.inputs = (uint64_t)f->cap_in * sizeof(*f->in) +
			  (uint64_t)f->cap_min * sizeof(*f->min),
	};
	for (uint32_t i = 0; i < f->n; i++)
		out->lat_copy += xtel_health_lat_prev_bytes(&f->c[i].prev);
}

/*
 * The clients' inputs in blocks of FEED_BLOCK (health.h, xtel_health_take):
 * a block's inputs and their metrics are all the feed holds, not one input
 * per client of the fleet (144 bytes each with two metrics).
 */
enum { FEED_BLOCK = 1024 };

int xtel_health_feed_update(struct xtel_health_feed *f, struct xtel_view *v,
			    const struct xtel_view *prev)
{
	const struct xtel_snapshot *p = prev ? &prev->snap : NULL;
	uint32_t n = v->snap.n_clients, j = 0;
	int rc = 0, frc;

	xtel_health_begin(f->h, n);
	if (xtel_array_reserve(&f->in, &f->cap_in, sizeof(*f->in),
			       n < FEED_BLOCK ? n : FEED_BLOCK))
		rc = -ENOMEM;
	f->hint = 0;
	for (uint32_t b = 0; b < n && !rc; b += FEED_BLOCK) {
		uint32_t e = n - b < FEED_BLOCK ? n : b + FEED_BLOCK, n_met = 0;

		/* room for every metric the block could take, before the
		 * inputs point in */
		for (uint32_t i = b; i < e; i++)
			n_met += v->snap.clients[i].n_metrics < XTEL_HEALTH_MAX_METRICS ?
				 v->snap.clients[i].n_metrics : XTEL_HEALTH_MAX_METRICS;
		if (xtel_array_reserve(&f->min, &f->cap_min, sizeof(*f->min), n_met)) {
			rc = -ENOMEM;
			break;
		}
		f->n_min = 0;
		for (uint32_t i = b; i < e; i++) {
			const struct xtel_client_snap *c = &v->snap.clients[i];
			const struct xtel_client_snap *pc = NULL;

			while (p && j < p->n_clients &&
			       p->clients[j].client_id < c->client_id)
				j++;
			if (p && j < p->n_clients &&
			    p->clients[j].client_id == c->client_id)
				pc = &p->clients[j];
			make_input(f, &v->clients[i], pc, &f->in[i - b]);
		}
		rc = xtel_health_take(f->h, f->in, e - b);
	}
	f->hint = 0;
	xtel_array_fit(&f->c, f->n, &f->cap, sizeof(*f->c));
	/* judged also when a block failed: the clients taken so far */
	frc = xtel_health_finish(f->h, v->taken_ns, v->dt_s, &v->health);
	if (v->health && f->nomem)
		v->health->counters[XTEL_HEALTH_CNT_NOMEM] += f->nomem;
	if (v->health)
		v->health->counters[XTEL_HEALTH_CNT_LAT_SKIPPED] += f->lat_skipped;
	return rc ? rc : frc;
}
