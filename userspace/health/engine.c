// SPDX-License-Identifier: MIT
/*
 * The health engine (health.h). One update is three passes over the
 * clients: (1) take the interval's values and derive the queueing delay
 * from the windowed minimum; (2) fit each group's robust centre for the
 * peer signals (groups.c); (3) judge each client (baselines, CUSUM, peers,
 * SLO), run its state machine (confirm, clear), record transitions
 * (events.c), let the clean samples into the baselines and keep the causes
 * of what is not ok. The groups are judged last from their members' states.
 *
 * State machine of a client: warmup until `warmup` intervals with data;
 * then a raw verdict per interval. `confirm` consecutive faulty intervals
 * start a verdict (silent needs none: silent_after is its own; nor does a
 * CUSUM alarm, which sums several intervals already); a worse
 * one replaces it at once; `clear` consecutive clean intervals end it. An
 * interval without datagrams that is not yet silent counts neither way.
 * While a client is not ok its baselines and its windowed minimum are
 * frozen, so the fault is measured against the normal it left.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/array.h"
#include "common/clock.h"
#include "health/baseline.h"
#include "health/cusum.h"
#include "health/internal.h"
#include "health/peer.h"
#include "health/warmup.h"

const struct xtel_health_signal_desc xtel_health_signals[XTEL_HEALTH_SIG_MAX] = {
#define X(id, nm, un, lb, hw) [XTEL_HEALTH_SIG_##id] = { nm, un, lb, hw },
	XTEL_HEALTH_SIGNALS(X)
#undef X
};

const struct xtel_counter_desc xtel_health_counter_desc[XTEL_HEALTH_CNT_MAX] = {
#define X(id, nm, un, hp) XTEL_COUNTER_DESC(XTEL_HEALTH_CNT_, id, nm, un, hp)
	XTEL_HEALTH_COUNTERS(X)
#undef X
};

static const char *const state_names[XTEL_HEALTH_STATE_MAX] = {
#define X(id, nm) [XTEL_HEALTH_##id] = nm,
	XTEL_HEALTH_STATES(X)
#undef X
};

/* Which verdict wins when several hold. */
const int xtel_health_precedence[XTEL_HEALTH_STATE_MAX] = {
	[XTEL_HEALTH_OK] = 0, [XTEL_HEALTH_WARMUP] = 0,
	[XTEL_HEALTH_ANOMALOUS] = 1, [XTEL_HEALTH_DEGRADED] = 2,
	[XTEL_HEALTH_CONGESTED] = 3, [XTEL_HEALTH_SILENT] = 4,
};

const char *xtel_health_state_name(enum xtel_health_state s)
{
	return (unsigned int)s < XTEL_HEALTH_STATE_MAX ? state_names[s] : "unknown";
}

int xtel_health_state_parse(const char *name)
{
	for (int s = 0; s < XTEL_HEALTH_STATE_MAX; s++)
		if (!strcmp(name, state_names[s]))
			return s;
	return -1;
}

int xtel_health_new(const struct xtel_health_cfg *cfg, struct xtel_health **out)
{
	struct xtel_health *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->cfg = *cfg;
	if (h->cfg.window > XTEL_HEALTH_WINDOW_MAX)
		h->cfg.window = XTEL_HEALTH_WINDOW_MAX;
	if (h->cfg.window < 4)
		h->cfg.window = 4;
	if (!h->cfg.events)
		h->cfg.events = 1;
	h->probe_key = -1;
	h->ring = calloc(h->cfg.events, sizeof(*h->ring));
	if (!h->ring) {
		free(h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

void xtel_health_free(struct xtel_health *h)
{
	if (!h)
		return;
	for (uint32_t i = 0; i < h->n_c; i++) {
		free(h->c[i].m);
		free(h->c[i].last);
	}
	free(h->c);
	free(h->ring);
	free(h->scratch);
	free(h->vds);
	free(h->keys);
	free(h);
}

/* Bytes the clients hold apart: metric slots, a held verdict's causes,
 * the pool of this interval's causes. */
static uint64_t apart_bytes(const struct xtel_health *h)
{
	uint64_t b = (uint64_t)h->cap_vds * sizeof(*h->vds);

	for (uint32_t i = 0; i < h->n_c; i++)
		b += h->c[i].cap_m * sizeof(*h->c[i].m) +
		     (h->c[i].last ? sizeof(*h->c[i].last) : 0);
	return b;
}

double xtel_health_client_bytes(const struct xtel_health *h)
{
	return (double)sizeof(struct hclient) +
	       (h->n_c ? (double)(h->cap_keys * sizeof(*h->keys) +
				  apart_bytes(h)) / h->n_c : 0);
}

/* After pass 1: what doubling left (some new clients, some missing). */
static void xtel_health_fit_table(struct xtel_health *h)
{
	xtel_array_fit(&h->c, h->n_c, &h->cap_c, sizeof(*h->c));
}

uint64_t xtel_health_table_bytes(const struct xtel_health *h)
{
	return (uint64_t)h->cap_c * sizeof(*h->c) +
	       (uint64_t)h->cap_keys * sizeof(*h->keys) + apart_bytes(h);
}

/* ---- clients ---- */

static void client_reset(struct hclient *c, uint32_t id)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->state = XTEL_HEALTH_WARMUP;
	c->min_cur = c->min_prev = INFINITY;
}

/* The client of id; clients are sorted, and so are the inputs. */
static struct hclient *client_get(struct xtel_health *h, uint32_t id,
				  uint32_t *hint)
{
	uint32_t i = *hint;

	while (i < h->n_c && h->c[i].id < id)
		i++;
	if (i == h->n_c || h->c[i].id != id) {
		if (xtel_array_insert(&h->c, &h->n_c, &h->cap_c, sizeof(*h->c), i))
			return NULL;
		client_reset(&h->c[i], id);
	}
	*hint = i + 1;
	return &h->c[i];
}

/* The index of key among the interned ones, added if new; -1 when full. */
static int key_intern(struct xtel_health *h, const char *key)
{
	for (uint32_t i = 0; i < h->n_keys; i++)
		if (!strncmp(h->keys[i], key, XTEL_MAX_KEY_LEN))
			return (int)i;
	if (h->n_keys == HEALTH_MAX_KEYS ||
	    xtel_array_insert(&h->keys, &h->n_keys, &h->cap_keys,
			      sizeof(*h->keys), h->n_keys))
		return -1;
	snprintf(h->keys[h->n_keys - 1], sizeof(*h->keys), "%s", key);
	if (!strcmp(h->keys[h->n_keys - 1], XTEL_HEALTH_PROBE_KEY))
		h->probe_key = (int32_t)(h->n_keys - 1);
	return (int)(h->n_keys - 1);
}

static struct hmetric *metric_slot(struct xtel_health *h, struct hclient *c,
				   const char *key)
{
	int k;

	for (uint32_t i = 0; i < c->n_m; i++)
		if (!strncmp(h->keys[c->m[i].key], key, XTEL_MAX_KEY_LEN))
			return &c->m[i];
	if (c->n_m == XTEL_HEALTH_MAX_METRICS || (k = key_intern(h, key)) < 0)
		return NULL;
	if (c->n_m == c->cap_m) {
		uint8_t cap = c->cap_m ? (uint8_t)(2 * c->cap_m) : 2;
		struct hmetric *m = realloc(c->m, cap * sizeof(*m));

		if (!m)
			return NULL;
		c->m = m;
		c->cap_m = cap;
	}
	memset(&c->m[c->n_m], 0, sizeof(c->m[0]));
	c->m[c->n_m].key = (uint16_t)k;
	return &c->m[c->n_m++];
}

/* Pass 1: this interval's values, the queueing delay. */
static void take_values(struct xtel_health *h, struct hclient *c,
			const struct xtel_health_input *in)
{
	uint32_t half = h->cfg.window / 2;

	if (in->restarted) {
		/* a new epoch starts over, in the metric slots it has */
		struct hmetric *m = c->m;
		struct hverdict *last = c->last;
		uint8_t cap_m = c->cap_m;

		client_reset(c, c->id);
		c->m = m;
		c->cap_m = cap_m;
		c->last = last;
		if (last)
			memset(last, 0, sizeof(*last));
	}
	c->group = in->group < h->n_groups ? in->group : 0;
	c->gone = in->gone;
	c->stale = in->stale;
	c->datagrams = in->datagrams;
	c->have = 0;
	for (unsigned int s = 0; s < XTEL_HEALTH_SIG_MAX; s++)
		c->val[s] = (float)in->sig[s];
	if (in->datagrams) {
		c->have |= 1u << XTEL_HEALTH_SIG_RATE;
		if (in->have_rates)
			c->have |= 1u << XTEL_HEALTH_SIG_LOSS |
				   1u << XTEL_HEALTH_SIG_DUP |
				   1u << XTEL_HEALTH_SIG_REORDER;
	} else {
		/* nothing came: a rate of 0 is the silence check's */
		c->val[XTEL_HEALTH_SIG_RATE] = 0;
	}
	if (in->have_lat) {
		double wmin = fmin(fmin(c->min_prev, c->min_cur), in->lat_min_ms);
		float lmin = (float)in->lat_min_ms;

		c->have |= 1u << XTEL_HEALTH_SIG_P50 | 1u << XTEL_HEALTH_SIG_P99 |
			   1u << XTEL_HEALTH_SIG_JITTER | 1u << XTEL_HEALTH_SIG_QUEUE;
		c->val[XTEL_HEALTH_SIG_QUEUE] = (float)(in->sig[XTEL_HEALTH_SIG_P50] - wmin);
		/* the minimum is frozen while a verdict holds */
		if (c->state == XTEL_HEALTH_OK || c->state == XTEL_HEALTH_WARMUP) {
			c->min_cur = fminf(c->min_cur, lmin);
			if (++c->min_n >= half) {
				c->min_prev = c->min_cur;
				c->min_cur = INFINITY;
				c->min_n = 0;
			}
		}
	}
	for (uint32_t k = 0; k < c->n_m; k++)
		c->m[k].have = false;
	for (uint32_t k = 0; k < in->n_metrics; k++) {
		struct hmetric *m = metric_slot(h, c, in->metrics[k].key);

		if (!m) {
			h->counters[XTEL_HEALTH_CNT_METRICS_DROPPED]++;
			continue;
		}
		m->have = isfinite(in->metrics[k].mean);
		m->val = (float)in->metrics[k].mean;
	}
}

static void base_cfg(const struct xtel_health *h, int sig,
		     struct xtel_health_baseline_cfg *bc)
{
	bc->alpha = h->cfg.alpha;
	bc->floor_abs = sig >= 0 ? h->cfg.floor_abs[sig] : h->cfg.metric_floor_abs;
	bc->floor_rel = sig >= 0 ? h->cfg.floor_rel[sig] : h->cfg.metric_floor_rel;
}

/* Clamp a CUSUM so that it falls below h within a few clean intervals. */
static void cusum_clamp(struct xtel_health_cusum *c, double hmax)
{
	if (c->hi > hmax)
		c->hi = hmax;
	if (c->lo > hmax)
		c->lo = hmax;
}

/*
 * Judge one signal: z against the baseline, the CUSUM, and which
 * direction is a fault. Returns the signed z when it is a fault, else 0.
 */
static double judge(const struct xtel_health *h, struct hsig *s, double v,
		    unsigned int how, double floor, bool *sustained)
{
	double sc = s->b.scale > floor ? s->b.scale : floor;
	double z = s->b.fitted ? (v - s->b.centre) / sc : 0;
	/* evidence from earlier intervals: the sum before this sample */
	bool before_hi = s->c.hi > 0, before_lo = s->c.lo > 0;
	int cs = xtel_health_cusum_add(&s->c, z > 50 ? 50 : (z < -50 ? -50 : z),
				       h->cfg.cusum_k, h->cfg.cusum_h);

	cusum_clamp(&s->c, 1.5 * h->cfg.cusum_h);
	s->z = (float)z;
	*sustained = false;
	/* a CUSUM alarm counts while the sample itself still leans that way
	 * (beyond the slack), so a verdict ends as soon as the signal is back */
	if ((how & XTEL_HEALTH_UP) && (z > h->cfg.z || (cs > 0 && z > h->cfg.cusum_k))) {
		*sustained = z <= h->cfg.z && before_hi;
		return z;
	}
	if ((how & XTEL_HEALTH_DOWN) &&
	    (z < -h->cfg.z || (cs < 0 && z < -h->cfg.cusum_k))) {
		*sustained = z >= -h->cfg.z && before_lo;
		return z;
	}
	return 0;
}

/*
 * The counting noise of a signal made of datagram counts, as a scale
 * floor: a rate of n datagrams per interval varies by about sqrt(n)
 * datagrams, and a share of n datagrams cannot move by less than one of
 * them (half a datagram is the floor here), however steady the baseline.
 * Without it a paced 5-datagram interval turns one late datagram into +8 MAD.
 */
static double count_floor(const struct hclient *c, unsigned int s, double dt_s)
{
	double n = (double)c->datagrams;

	switch (s) {
	case XTEL_HEALTH_SIG_RATE:
		n = HSIG(c, s)->b.fitted ? HSIG(c, s)->b.centre * dt_s : n;
		return dt_s > 0 ? sqrt(fmax(n, 1.0)) / dt_s : 0;
	case XTEL_HEALTH_SIG_LOSS:
	case XTEL_HEALTH_SIG_DUP:
	case XTEL_HEALTH_SIG_REORDER:
		return 50.0 / fmax(n, 1.0);
	}
	return 0;
}

static struct xtel_health_cause *
add_cause(struct hverdict *vd, enum xtel_health_cause_kind kind,
	  int sig, int metric, double z, double ref, double value,
	  bool sustained)
{
	struct xtel_health_cause *c;

	if (vd->n == HEALTH_MAX_CAUSES) {
		/* keep the strongest: replace the weakest if this is stronger */
		uint32_t w = 0;

		for (uint32_t i = 1; i < vd->n; i++)
			if (fabs(vd->c[i].z) < fabs(vd->c[w].z))
				w = i;
		if (fabs(vd->c[w].z) >= fabs(z))
			return NULL;
		c = &vd->c[w];
	} else {
		c = &vd->c[vd->n++];
	}
	*c = (struct xtel_health_cause){ .kind = (uint8_t)kind,
		.sig = (int8_t)sig, .metric = (int8_t)metric, .sustained = sustained,
		.z = (float)z, .ref = (float)ref, .value = (float)value };
	return c;
}

static bool is_probe(const struct xtel_health *h, const struct hmetric *m)
{
	return m->key == h->probe_key;
}

/* Whether a probe speed is under the share of its fitted baseline. */
static bool probe_slow(const struct xtel_health *h, const struct hmetric *m)
{
	return m->s.b.fitted && m->val < h->cfg.probe_frac * m->s.b.centre;
}

/*
 * Congestion from the download probes: probe_min probe speeds in a row
 * under probe_frac of the device's own baseline. An interval without a
 * probe neither extends nor ends the run (probes are sparser than
 * intervals); the episode holds until a probe is back over the share.
 */
static bool probe_congested(struct xtel_health *h, struct hclient *c,
			    struct hverdict *vd)
{
	struct xtel_health_cause *k;

	for (uint32_t i = 0; i < c->n_m; i++) {
		struct hmetric *m = &c->m[i];

		if (!is_probe(h, m))
			continue;
		if (m->have)
			c->probe_low = probe_slow(h, m) ? c->probe_low + 1 : 0;
		if (c->probe_low < h->cfg.probe_min)
			return false;
		/* several probes of evidence already: sustained */
		k = add_cause(vd, XTEL_HEALTH_CAUSE_PROBE, -1, (int)i,
			      m->s.b.centre / fmax(m->val, 1e-9), m->s.b.centre,
			      m->val, true);
		if (k)
			k->n = (uint16_t)(c->probe_low < UINT16_MAX ?
					  c->probe_low : UINT16_MAX);
		return true;
	}
	return false;
}

/*
 * The raw verdict of causes that remain once a group's common-mode shift
 * took some away: congestion needs its latency and loss or rate causes,
 * degradation an SLO cause; silence is never a common mode.
 */
enum xtel_health_state xtel_health_reverdict(const struct hverdict *vd,
					      enum xtel_health_state raw)
{
	bool lat = false, loss_rate = false, slo = false, probe = false;

	if (raw == XTEL_HEALTH_SILENT || raw == XTEL_HEALTH_STATE_MAX)
		return raw;
	for (uint32_t i = 0; i < vd->n; i++) {
		const struct xtel_health_cause *k = &vd->c[i];

		if (k->kind == XTEL_HEALTH_CAUSE_SLO)
			slo = true;
		if (k->kind == XTEL_HEALTH_CAUSE_PROBE)
			probe = true;
		if (k->sig == XTEL_HEALTH_SIG_QUEUE || k->sig == XTEL_HEALTH_SIG_P99)
			lat = true;
		if (k->sig == XTEL_HEALTH_SIG_LOSS || k->sig == XTEL_HEALTH_SIG_RATE)
			loss_rate = true;
	}
	if (raw == XTEL_HEALTH_CONGESTED && ((lat && loss_rate) || probe))
		return raw;
	if (slo)
		return XTEL_HEALTH_DEGRADED;
	return vd->n ? XTEL_HEALTH_ANOMALOUS : XTEL_HEALTH_OK;
}

/* The raw verdict of one warm client's interval, with its causes. */
static enum xtel_health_state raw_verdict(struct xtel_health *h,
					  struct hclient *c,
					  struct hverdict *vd, double dt_s)
{
	const struct hgroup *g = &h->g[c->group];
	bool up[XTEL_HEALTH_SIG_MAX] = { false }, rate_down = false, probe;
	unsigned int slo;
	double worst;

	vd->n = 0;
	vd->score = 0;
	if (!c->datagrams) {
		const struct xtel_health_baseline *rb =
			&HSIG(c, XTEL_HEALTH_SIG_RATE)->b;
		double expect;

		c->silent_n++;
		expect = (double)c->silent_n * dt_s * (rb->fitted ? rb->centre : 0);
		if (c->stale || (c->silent_n >= h->cfg.silent_after &&
				 (expect >= 3.0 || !rb->fitted))) {
			add_cause(vd, XTEL_HEALTH_CAUSE_SILENT, XTEL_HEALTH_SIG_RATE, -1,
				  c->silent_n, rb->fitted ? rb->centre : 0, 0, false);
			vd->score = c->silent_n;
			return XTEL_HEALTH_SILENT;
		}
		return XTEL_HEALTH_STATE_MAX;	/* no data: neither way */
	}
	c->silent_n = 0;
	for (unsigned int s = 0; s < XTEL_HEALTH_SIG_MAX; s++) {
		unsigned int how = xtel_health_signals[s].how;
		bool sustained;
		double z;

		if (!HAVE(c, s) || !(how & (XTEL_HEALTH_UP | XTEL_HEALTH_DOWN)))
			continue;
		z = judge(h, HSIG(c, s), c->val[s], how, count_floor(c, s, dt_s),
			  &sustained);
		if (z != 0) {
			add_cause(vd, XTEL_HEALTH_CAUSE_BASE, (int)s, -1, z, HSIG(c, s)->b.centre,
				  c->val[s], sustained);
			if (z > 0)
				up[s] = true;
			else if (s == XTEL_HEALTH_SIG_RATE)
				rate_down = true;
		}
		if ((how & XTEL_HEALTH_PEER) && g->peer[s].scale > 0) {
			double pz = xtel_health_peer_z(&g->peer[s], c->val[s]);

			if (pz > h->cfg.peer_z) {
				add_cause(vd, XTEL_HEALTH_CAUSE_PEER, (int)s, -1, pz,
					  g->peer[s].centre, c->val[s], false);
				up[s] = true;
			}
		}
	}
	for (uint32_t k = 0; k < c->n_m; k++) {
		struct hmetric *m = &c->m[k];
		bool sustained;
		double z;

		/* the probe speed is the congestion rule's (below) */
		if (!m->have || is_probe(h, m))
			continue;
		z = judge(h, &m->s, m->val, XTEL_HEALTH_UP | XTEL_HEALTH_DOWN,
			  0, &sustained);
		if (z != 0)
			add_cause(vd, XTEL_HEALTH_CAUSE_BASE, -1, (int)k, z, m->s.b.centre,
				  m->val, sustained);
	}
	/* one lost datagram is no breach, whatever share of a small interval */
	{
		double lp = HAVE(c, XTEL_HEALTH_SIG_LOSS) ? c->val[XTEL_HEALTH_SIG_LOSS] : 0;
		double lost = lp < 100 ? lp * (double)c->datagrams / (100 - lp) : 2;

		slo = xtel_health_slo_check(&g->slo, HAVE(c, XTEL_HEALTH_SIG_P99),
					    c->val[XTEL_HEALTH_SIG_P99],
					    lost >= 1.5 ? lp : 0,
					    c->val[XTEL_HEALTH_SIG_JITTER], &worst);
	}
	if (slo & XTEL_HEALTH_SLO_P99)
		add_cause(vd, XTEL_HEALTH_CAUSE_SLO, XTEL_HEALTH_SIG_P99, -1,
			  c->val[XTEL_HEALTH_SIG_P99] / g->slo.p99_ms,
			  g->slo.p99_ms, c->val[XTEL_HEALTH_SIG_P99], false);
	if (slo & XTEL_HEALTH_SLO_LOSS)
		add_cause(vd, XTEL_HEALTH_CAUSE_SLO, XTEL_HEALTH_SIG_LOSS, -1,
			  c->val[XTEL_HEALTH_SIG_LOSS] / g->slo.loss_pct,
			  g->slo.loss_pct, c->val[XTEL_HEALTH_SIG_LOSS], false);
	if (slo & XTEL_HEALTH_SLO_JITTER)
		add_cause(vd, XTEL_HEALTH_CAUSE_SLO, XTEL_HEALTH_SIG_JITTER, -1,
			  c->val[XTEL_HEALTH_SIG_JITTER] / g->slo.jitter_ms,
			  g->slo.jitter_ms, c->val[XTEL_HEALTH_SIG_JITTER], false);
	probe = probe_congested(h, c, vd);
	for (uint32_t i = 0; i < vd->n; i++)
		if (fabs(vd->c[i].z) > vd->score)
			vd->score = fabs(vd->c[i].z);
	if (probe)
		return XTEL_HEALTH_CONGESTED;
	{
		/*
		 * Congestion is joint evidence: with the latency up, loss or
		 * a rate drop counts from joint_z already (both moving the
		 * same interval is what a queue filling looks like).
		 */
		bool lat_up = up[XTEL_HEALTH_SIG_QUEUE] || up[XTEL_HEALTH_SIG_P99];
		bool loss_up = up[XTEL_HEALTH_SIG_LOSS] ||
			(HAVE(c, XTEL_HEALTH_SIG_LOSS) &&
			 HSIG(c, XTEL_HEALTH_SIG_LOSS)->z > h->cfg.joint_z);
		bool slow = rate_down ||
			    HSIG(c, XTEL_HEALTH_SIG_RATE)->z < -h->cfg.joint_z;

		if (lat_up && (loss_up || slow))
			return XTEL_HEALTH_CONGESTED;
	}
	if (slo)
		return XTEL_HEALTH_DEGRADED;
	return vd->n ? XTEL_HEALTH_ANOMALOUS : XTEL_HEALTH_OK;
}

/*
 * Whether a cause of a raw verdict was raised by a CUSUM that had summed
 * earlier intervals too (not one that jumped over h in a single one).
 */
static bool sustained(const struct hverdict *vd)
{
	for (uint32_t i = 0; i < vd->n; i++)
		if (vd->c[i].sustained)
			return true;
	return false;
}

/* Whether a warm client's sample stays out of its baseline. */
static bool reject(const struct xtel_health *h, const struct hsig *s, double v)
{
	return fabs(xtel_health_baseline_z(&s->b, v)) > h->cfg.accept_z;
}

/* Let the interval's clean samples into the baselines. */
static void accept(struct xtel_health *h, struct hclient *c, bool warm)
{
	struct xtel_health_baseline_cfg bc;

	for (unsigned int s = 0; s < XTEL_HEALTH_SIG_MAX; s++) {
		/* a signal that is only shown (p50) needs no baseline */
		if (!HAVE(c, s) || !isfinite(c->val[s]) ||
		    !(xtel_health_signals[s].how & (XTEL_HEALTH_UP | XTEL_HEALTH_DOWN)))
			continue;
		if (warm && reject(h, HSIG(c, s), c->val[s]))
			continue;
		base_cfg(h, (int)s, &bc);
		xtel_health_baseline_add(&HSIG(c, s)->b, &bc, c->val[s]);
	}
	base_cfg(h, -1, &bc);
	for (uint32_t k = 0; k < c->n_m; k++) {
		struct hmetric *m = &c->m[k];

		if (!m->have || (warm && reject(h, &m->s, m->val)))
			continue;
		/* a slow probe is an episode's, not the baseline's */
		if (warm && is_probe(h, m) && probe_slow(h, m))
			continue;
		xtel_health_baseline_add(&m->s.b, &bc, m->val);
	}
}

static void cusum_reset_all(struct hclient *c)
{
	for (unsigned int s = 1; s < XTEL_HEALTH_SIG_MAX; s++)
		xtel_health_cusum_reset(&HSIG(c, s)->c);
	for (uint32_t k = 0; k < c->n_m; k++)
		xtel_health_cusum_reset(&c->m[k].s.c);
}

/*
 * Where pass 3 puts the results' metrics (sized by pass 1: exact) and
 * causes (grown as verdicts need them; a result's cause is an offset into
 * the pool until the pass ends, when pool_fix() makes it a pointer).
 */
struct pools {
	uint32_t n_m, cap_m, n_c, cap_c;
};

/* r's causes: vd's, in the view's pool (grown as needed). */
static int result_causes(struct xtel_health_view *hv, struct pools *pl,
			 struct xtel_health_result *r, const struct hverdict *vd)
{
	if (pl->n_c + vd->n > pl->cap_c) {
		uint32_t cap = 2 * pl->cap_c + HEALTH_MAX_CAUSES;
		struct xtel_health_cause *nc = realloc(hv->causes, cap * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		hv->causes = nc;
		pl->cap_c = cap;
	}
	r->cause = hv->causes + pl->n_c;
	r->n_causes = vd->n;
	pl->n_c += vd->n;
	memcpy(r->cause, vd->c, vd->n * sizeof(r->cause[0]));
	return 0;
}

/* Pass 3 for one client: verdict, state machine, baselines, result. */
static int judge_client(struct xtel_health *h, struct hclient *c,
			uint64_t now_ns, double dt_s, struct xtel_health_result *r,
			struct xtel_health_view *hv, struct pools *pl)
{
	char (*keys)[XTEL_MAX_KEY_LEN + 1] = hv->keys;
	uint64_t ivl_start = now_ns - (uint64_t)(dt_s * 1e9);
	enum xtel_health_state raw, prev = c->state;
	struct hverdict vd = { 0 };

	if (c->gone) {
		raw = XTEL_HEALTH_OK;
		c->state = XTEL_HEALTH_OK;
		c->bad_run = c->clean_run = 0;
	} else if (!xtel_health_warm(&c->warm, h->cfg.warmup)) {
		/*
		 * The interval a client starts in is partial (its rate 80/s
		 * of a steady 100/s in tests/netns/test_health.sh): in a
		 * running mean it would widen the rate's scale for dozens
		 * of intervals. Its baselines start with the next one.
		 */
		bool first = c->datagrams && c->warm.seen == 0;

		if (c->datagrams)
			xtel_health_warmup_tick(&c->warm, h->cfg.warmup);
		if (!first)
			accept(h, c, false);
		if (xtel_health_warm(&c->warm, h->cfg.warmup)) {
			c->state = XTEL_HEALTH_OK;
			c->since_ns = now_ns;
		}
	} else {
		const struct hverdict *cvd = xtel_health_vd(h, c);

		raw = c->raw;
		if (cvd)
			vd = *cvd;
		if (raw == XTEL_HEALTH_STATE_MAX) {
			/* an interval without data, not yet silent */
		} else if (raw != XTEL_HEALTH_OK) {
			if (!c->bad_run++)
				c->pending_since_ns = ivl_start;
			c->clean_run = 0;
			if (c->state == XTEL_HEALTH_OK) {
				/* a CUSUM alarm is several intervals of
				 * evidence already, and silence counts its own */
				if (c->bad_run >= h->cfg.confirm ||
				    raw == XTEL_HEALTH_SILENT || sustained(&vd)) {
					c->state = raw;
					c->since_ns = c->pending_since_ns;
				}
			} else if (xtel_health_precedence[raw] > xtel_health_precedence[c->state]) {
				c->state = raw;
				c->since_ns = ivl_start;
			}
		} else {
			c->bad_run = 0;
			if (c->state != XTEL_HEALTH_OK &&
			    ++c->clean_run >= h->cfg.clear) {
				c->state = XTEL_HEALTH_OK;
				c->since_ns = now_ns;
				c->clean_run = 0;
				cusum_reset_all(c);
			}
		}
		if (c->state == XTEL_HEALTH_OK && raw != XTEL_HEALTH_STATE_MAX)
			accept(h, c, true);
		if (c->state != XTEL_HEALTH_OK && raw != XTEL_HEALTH_STATE_MAX &&
		    raw != XTEL_HEALTH_OK)
			c->score = (float)vd.score;
		if (c->state == XTEL_HEALTH_OK)
			c->score = 0;
	}
	r->client_id = c->id;
	r->group = c->group;
	r->state = c->state;
	r->score = c->score;
	r->since_ns = c->since_ns;
	r->n_causes = 0;
	for (unsigned int s = 0; s < XTEL_HEALTH_SIG_MAX; s++) {
		const struct hsig *hs = s ? HSIG(c, s) : NULL;
		bool fitted = hs && hs->b.fitted;

		r->sig[s] = (struct xtel_health_sig_out){
			.value = HAVE(c, s) ? (float)c->val[s] : NAN,
			.centre = fitted ? (float)hs->b.centre : NAN,
			.scale = fitted ? (float)hs->b.scale : NAN,
			.z = HAVE(c, s) && fitted ? (float)hs->z : NAN };
	}
	r->n_metrics = pl->n_m + c->n_m <= pl->cap_m ? c->n_m : 0;
	r->metric = hv->metrics + pl->n_m;
	pl->n_m += r->n_metrics;
	for (uint32_t k = 0; k < r->n_metrics; k++) {
		const struct hmetric *m = &c->m[k];

		r->metric[k].key = keys[m->key];
		r->metric[k].s = (struct xtel_health_sig_out){
			.value = m->have ? (float)m->val : NAN,
			.centre = m->s.b.fitted ? (float)m->s.b.centre : NAN,
			.scale = m->s.b.fitted ? (float)m->s.b.scale : NAN,
			.z = m->have && m->s.b.fitted ? (float)m->s.z : NAN };
	}
	if (c->state != XTEL_HEALTH_OK && c->state != XTEL_HEALTH_WARMUP) {
		/* the evidence of this interval, or the last interval's */
		if (vd.n && !c->last)
			c->last = calloc(1, sizeof(*c->last));
		if (vd.n && !c->last)
			return -ENOMEM;
		if (vd.n)
			*c->last = vd;
		if (c->last && result_causes(hv, pl, r, c->last))
			return -ENOMEM;
	}
	if (prev != c->state && !(prev == XTEL_HEALTH_WARMUP &&
				  c->state == XTEL_HEALTH_OK)) {
		/* a transition is rare: its sentence is made now, once */
		char why[XTEL_HEALTH_WHY_LEN];

		xtel_health_explain(r, why, sizeof(why));
		xtel_health_event_push(h, now_ns, false, c->id, c->group, prev,
				       c->state, c->score, why);
	}
	return 0;
}

_Static_assert(sizeof(struct xtel_health_result) == 168, "a result's size");
_Static_assert(HEALTH_MAX_CAUSES <= UINT8_MAX && XTEL_HEALTH_MAX_METRICS <= UINT8_MAX,
	       "a result's counts fit a byte");

const struct xtel_health_result *xtel_health_find(const struct xtel_health_view *hv,
						  uint32_t id)
{
	uint32_t lo = 0, hi = hv ? hv->n_clients : 0;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (hv->clients[mid].client_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return hv && lo < hv->n_clients && hv->clients[lo].client_id == id ?
	       &hv->clients[lo] : NULL;
}

void xtel_health_view_free(struct xtel_health_view *hv)
{
	if (!hv)
		return;
	free(hv->clients);
	free(hv->causes);
	free(hv->metrics);
	free(hv->keys);
	free(hv->groups);
	free(hv->events);
	free(hv);
}

int xtel_health_begin(struct xtel_health *h, uint32_t n)
{
	h->in_hint = 0;
	h->in_n = 0;
	h->in_metrics = 0;
	h->in_err = 0;
	h->in_cost_ns = 0;
	/* the table takes the interval's clients without doubling past them
	 * (refused, the inserts double it) */
	(void)xtel_array_reserve(&h->c, &h->cap_c, sizeof(*h->c),
				 n > h->n_c ? n : h->n_c);
	return 0;
}

int xtel_health_take(struct xtel_health *h, const struct xtel_health_input *in,
		     uint32_t n)
{
	uint64_t t0 = xtel_clock_ns(CLOCK_THREAD_CPUTIME_ID);

	/* a caller that names no group (n_groups 0) gets one for all */
	if (n && !h->n_groups && xtel_health_group(h, "fleet") < 0 && !h->in_err)
		h->in_err = -ENOMEM;
	/* pass 1 (clients missing from the input keep their state) */
	for (uint32_t i = 0; i < n && !h->in_err; i++) {
		struct hclient *c = client_get(h, in[i].client_id, &h->in_hint);

		if (!c) {
			h->in_err = -ENOMEM;
			break;
		}
		take_values(h, c, &in[i]);
		c->in_ivl = true;
		h->in_n++;
		h->in_metrics += c->n_m;
	}
	h->in_cost_ns += xtel_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	return h->in_err;
}

int xtel_health_finish(struct xtel_health *h, uint64_t now_ns, double dt_s,
		       struct xtel_health_view **out)
{
	uint64_t t0 = xtel_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	struct xtel_health_view *hv = calloc(1, sizeof(*hv));
	struct pools pl = { .cap_m = h->in_metrics };
	uint32_t n = 0;
	int err = h->in_err;

	*out = NULL;
	if (hv)
		hv->clients = calloc(h->in_n ? h->in_n : 1, sizeof(*hv->clients));
	if (!hv || !hv->clients) {
		for (uint32_t i = 0; i < h->n_c; i++)
			h->c[i].in_ivl = false;
		free(hv);
		return -ENOMEM;
	}
	hv->ts_ns = now_ns;
	xtel_health_fit_table(h);
	hv->metrics = malloc((pl.cap_m ? pl.cap_m : 1) * sizeof(*hv->metrics));
	if (!hv->metrics) {
		pl.cap_m = 0;
		err = -ENOMEM;
	}
	if (!err)
		err = xtel_health_fit_groups(h);
	/* pass 3a: every warm client's raw verdict, then the shifts most of
	 * a group share (groups.c), which are the group's, not each member's */
	h->n_vds = 0;
	for (uint32_t i = 0; i < h->n_c && !err; i++) {
		struct hclient *c = &h->c[i];
		struct hverdict vd;

		c->vd_at = 0;
		c->judged = !c->gone && xtel_health_warm(&c->warm, h->cfg.warmup);
		if (!c->judged)
			continue;
		c->raw = raw_verdict(h, c, &vd, dt_s);
		if (!vd.n)
			continue;
		if (h->n_vds == h->cap_vds &&
		    xtel_array_reserve(&h->vds, &h->cap_vds, sizeof(*h->vds),
				       2 * h->cap_vds + 64)) {
			err = -ENOMEM;
			break;
		}
		h->vds[h->n_vds++] = vd;
		c->vd_at = h->n_vds;
	}
	if (!err)
		xtel_health_common_mode(h);
	/* the view's copy of the keys, which pass 1 interned */
	hv->keys = malloc((h->n_keys ? h->n_keys : 1) * sizeof(*hv->keys));
	if (hv->keys) {
		if (h->n_keys)
			memcpy(hv->keys, h->keys,
			       h->n_keys * sizeof(*hv->keys));
		hv->n_keys = h->n_keys;
	} else if (!err) {
		err = -ENOMEM;
	}
	/* pass 3, in input order: the clients of this interval's input in
	 * id order (inputs come sorted) */
	for (uint32_t i = 0; i < h->n_c; i++) {
		struct hclient *c = &h->c[i];

		if (!c->in_ivl)
			continue;
		c->in_ivl = false;
		if (err || n == h->in_n)
			continue;
		err = judge_client(h, c, now_ns, dt_s, &hv->clients[n], hv, &pl);
		hv->counts[c->state]++;
		hv->n_clients = ++n;
	}
	/* the cause pool may have moved while it grew: point into it now */
	pl.n_c = 0;
	for (uint32_t i = 0; i < hv->n_clients; i++) {
		struct xtel_health_result *r = &hv->clients[i];

		r->cause = r->n_causes ? hv->causes + pl.n_c : NULL;
		pl.n_c += r->n_causes;
	}
	/* an incident's verdicts need not stay allocated after it */
	if (h->cap_vds > 4 * h->n_vds + 64) {
		free(h->vds);
		h->vds = NULL;
		h->cap_vds = 0;
	}
	if (!err)
		err = xtel_health_judge_groups(h, now_ns, hv);
	if (err)
		h->counters[XTEL_HEALTH_CNT_NOMEM]++;
	xtel_health_events_copy(h, hv);
	hv->cost_ns = h->in_cost_ns + xtel_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	*out = hv;
	return err;
}

int xtel_health_update(struct xtel_health *h, uint64_t now_ns, double dt_s,
		       const struct xtel_health_input *in, uint32_t n,
		       struct xtel_health_view **out)
{
	xtel_health_begin(h, n);
	(void)xtel_health_take(h, in, n);
	return xtel_health_finish(h, now_ns, dt_s, out);
}
