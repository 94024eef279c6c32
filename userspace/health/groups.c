// SPDX-License-Identifier: MIT
/*
 * Groups (health.h): a label's index and service level, each group's
 * robust centre of the peer signals (pass 2 of an update), and the group
 * verdicts from their members' states (the last pass): the worst state
 * held by at least group_quorum of the warm members, else ok.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/internal.h"

const char *xtel_health_group_label(const struct xtel_health *h, uint32_t g)
{
	return g < h->n_groups ? h->g[g].label : "";
}

int xtel_health_group(struct xtel_health *h, const char *label)
{
	struct hgroup *g;

	for (uint32_t i = 0; i < h->n_groups; i++)
		if (!strcmp(h->g[i].label, label))
			return (int)i;
	if (h->n_groups == XTEL_HEALTH_MAX_GROUPS)
		return -ENOSPC;
	g = &h->g[h->n_groups];
	memset(g, 0, sizeof(*g));
	snprintf(g->label, sizeof(g->label), "%s", label);
	g->slo = h->cfg.slo[0].slo;
	for (uint32_t i = 0; i < h->cfg.n_slo; i++)
		if (!strcmp(h->cfg.slo[i].label, "*"))
			g->slo = h->cfg.slo[i].slo;
	for (uint32_t i = 0; i < h->cfg.n_slo; i++)
		if (!strcmp(h->cfg.slo[i].label, label))
			g->slo = h->cfg.slo[i].slo;
	return (int)h->n_groups++;
}


/* Pass 2: each group's centre for the peer signals. */
int xtel_health_fit_groups(struct xtel_health *h)
{
	float *vals;

	if (h->cap_scratch < h->n_c) {
		float *n = realloc(h->scratch, (h->n_c ? h->n_c : 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		h->scratch = n;
		h->cap_scratch = h->n_c;
	}
	vals = h->scratch;
	for (uint32_t gi = 0; gi < h->n_groups; gi++) {
		struct hgroup *g = &h->g[gi];

		for (unsigned int s = 0; s < XTEL_HEALTH_SIG_MAX; s++) {
			size_t n = 0;

			g->peer[s] = (struct xtel_health_peer){ 0 };
			if (!(xtel_health_signals[s].how & XTEL_HEALTH_PEER))
				continue;
			for (uint32_t i = 0; i < h->n_c; i++) {
				const struct hclient *c = &h->c[i];

				if (c->group == gi && HAVE(c, s) && !c->gone &&
				    xtel_health_warm(&c->warm, h->cfg.warmup))
					vals[n++] = (float)c->val[s];
			}
			xtel_health_peer_fit(&g->peer[s], vals, n, h->cfg.peer_min,
					     h->cfg.floor_abs[s]);
		}
	}
	return 0;
}


/* The groups from their members' states. */
/*
 * A shift that most of a group's judged members see against their own
 * baselines in the same interval (at least group_quorum of them, and
 * peer_min) is the group's: a site's uplink, or the collector's host. It
 * is taken out of each member's causes (their verdicts keep what is their
 * own: an SLO breach, silence, other signals) and becomes the group's.
 */
void xtel_health_common_mode(struct xtel_health *h)
{
	for (uint32_t gi = 0; gi < h->n_groups; gi++) {
		struct hgroup *g = &h->g[gi];

		g->judged = 0;
		memset(g->moved, 0, sizeof(g->moved));
		memset(g->common, 0, sizeof(g->common));
	}
	for (uint32_t i = 0; i < h->n_c; i++) {
		const struct hclient *c = &h->c[i];
		const struct hverdict *vd = xtel_health_vd(h, c);
		struct hgroup *g = &h->g[c->group];
		bool seen[XTEL_HEALTH_SIG_MAX][2] = { { false } };

		if (!c->judged || c->group >= h->n_groups)
			continue;
		g->judged++;
		for (uint32_t k = 0; vd && k < vd->n; k++) {
			const struct xtel_health_cause *x = &vd->c[k];

			if (x->kind == XTEL_HEALTH_CAUSE_BASE && x->sig >= 0)
				seen[x->sig][x->z < 0] = true;
		}
		for (unsigned int s = 0; s < XTEL_HEALTH_SIG_MAX; s++)
			for (int d = 0; d < 2; d++)
				g->moved[s][d] += seen[s][d];
	}
	for (uint32_t gi = 0; gi < h->n_groups; gi++) {
		struct hgroup *g = &h->g[gi];

		if (g->judged < h->cfg.peer_min)
			continue;
		for (unsigned int s = 0; s < XTEL_HEALTH_SIG_MAX; s++)
			for (int d = 0; d < 2; d++)
				g->common[s][d] = g->moved[s][d] >=
					h->cfg.group_quorum * g->judged;
	}
	for (uint32_t i = 0; i < h->n_c; i++) {
		struct hclient *c = &h->c[i];
		struct hverdict *vd = xtel_health_vd(h, c);
		const struct hgroup *g = &h->g[c->group];
		uint32_t kept = 0;

		if (!c->judged || c->group >= h->n_groups || !vd)
			continue;
		for (uint32_t k = 0; k < vd->n; k++) {
			const struct xtel_health_cause *x = &vd->c[k];

			if (x->kind == XTEL_HEALTH_CAUSE_BASE && x->sig >= 0 &&
			    g->common[x->sig][x->z < 0])
				continue;
			vd->c[kept++] = *x;
		}
		if (kept != vd->n) {
			vd->n = kept;
			c->raw = xtel_health_reverdict(vd, c->raw);
		}
	}
}

int xtel_health_judge_groups(struct xtel_health *h, uint64_t now_ns,
			      struct xtel_health_view *hv)
{
	hv->groups = calloc(h->n_groups ? h->n_groups : 1, sizeof(*hv->groups));
	if (!hv->groups)
		return -ENOMEM;
	hv->n_groups = h->n_groups;
	for (uint32_t i = 0; i < hv->n_clients; i++) {
		const struct xtel_health_result *r = &hv->clients[i];
		struct xtel_health_group_result *gr = &hv->groups[r->group];

		gr->members++;
		gr->counts[r->state]++;
		if (r->state != XTEL_HEALTH_WARMUP)
			gr->warm++;
	}
	for (uint32_t gi = 0; gi < h->n_groups; gi++) {
		struct hgroup *g = &h->g[gi];
		struct xtel_health_group_result *gr = &hv->groups[gi];
		enum xtel_health_state st = XTEL_HEALTH_OK;
		char why[XTEL_HEALTH_WHY_LEN];

		memcpy(gr->label, g->label, sizeof(gr->label));
		for (unsigned int s = 0; s < XTEL_HEALTH_SIG_MAX; s++) {
			gr->peer_centre[s] = g->peer[s].scale > 0 ? g->peer[s].centre : NAN;
			gr->peer_scale[s] = g->peer[s].scale > 0 ? g->peer[s].scale : NAN;
		}
		for (int s = 0; s < XTEL_HEALTH_STATE_MAX; s++) {
			if (s == XTEL_HEALTH_OK || s == XTEL_HEALTH_WARMUP)
				continue;
			if (gr->warm && gr->counts[s] >= h->cfg.group_quorum * gr->warm &&
			    xtel_health_precedence[s] > xtel_health_precedence[st])
				st = (enum xtel_health_state)s;
		}
		/* the strongest common-mode shift, congestion if the queue and
		 * loss or rate moved together */
		gr->common_sig = -1;
		for (unsigned int s = 0; s < XTEL_HEALTH_SIG_MAX; s++)
			for (int d = 0; d < 2; d++)
				if (g->common[s][d] && (gr->common_sig < 0 ||
				    g->moved[s][d] > gr->common_n)) {
					gr->common_sig = (int)s;
					gr->common_up = d == 0;
					gr->common_n = g->moved[s][d];
				}
		gr->common_of = g->judged;
		if (gr->common_sig >= 0) {
			bool lat = g->common[XTEL_HEALTH_SIG_QUEUE][0] ||
				   g->common[XTEL_HEALTH_SIG_P99][0];
			enum xtel_health_state cs = lat &&
				(g->common[XTEL_HEALTH_SIG_LOSS][0] ||
				 g->common[XTEL_HEALTH_SIG_RATE][1]) ?
				XTEL_HEALTH_CONGESTED : XTEL_HEALTH_ANOMALOUS;

			if (xtel_health_precedence[cs] > xtel_health_precedence[st])
				st = cs;
		}
		if (!gr->warm)
			st = XTEL_HEALTH_WARMUP;
		gr->state = st;
		if (st != g->state) {
			xtel_health_group_explain(gr, why, sizeof(why));
			if (!(g->state == XTEL_HEALTH_OK && st == XTEL_HEALTH_WARMUP) &&
			    !(g->state == XTEL_HEALTH_WARMUP && st == XTEL_HEALTH_OK) &&
			    g->since_ns)
				xtel_health_event_push(h, now_ns, true, 0, gi,
						       g->state, st, 0, why);
			g->state = st;
			g->since_ns = now_ns;
		}
		gr->state = st;
		gr->since_ns = g->since_ns;
	}
	return 0;
}

