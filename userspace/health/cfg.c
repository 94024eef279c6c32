// SPDX-License-Identifier: MIT
/*
 * The engine's settings: the documented defaults (docs/HEALTH.md has the
 * reasoning behind each) and the parser of a per-label service level rule
 * given on the command line as "LABEL:p99=MS,loss=PCT,jitter=MS".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "health/health.h"

void xtel_health_cfg_defaults(struct xtel_health_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->warmup = 12;
	cfg->window = 32;
	cfg->alpha = 0.03;	/* 0.05 caught 1-2% fewer 5x shifts within 3 */
	cfg->z = 8.0;
	cfg->accept_z = 8.0;
	cfg->cusum_k = 1.5;
	cfg->cusum_h = 6.0;
	cfg->joint_z = 3.0;
	cfg->peer_z = 8.0;
	cfg->peer_min = 5;
	cfg->confirm = 2;
	cfg->clear = 3;
	cfg->silent_after = 2;
	cfg->group_quorum = 0.5;
	cfg->events = 1024;
	cfg->probe_frac = 0.5;
	cfg->probe_min = 3;
	/* scales below which noise is not taken for a fault */
	cfg->floor_abs[XTEL_HEALTH_SIG_P50] = 2.0;
	/* no relative floor on one-way latency: its centre holds the clock
	 * offset, which must not widen the scale */
	cfg->floor_abs[XTEL_HEALTH_SIG_P99] = 5.0;
	cfg->floor_abs[XTEL_HEALTH_SIG_QUEUE] = 2.0;
	cfg->floor_abs[XTEL_HEALTH_SIG_JITTER] = 2.0;
	cfg->floor_rel[XTEL_HEALTH_SIG_JITTER] = 0.25;
	cfg->floor_abs[XTEL_HEALTH_SIG_LOSS] = 0.5;
	cfg->floor_abs[XTEL_HEALTH_SIG_DUP] = 0.5;
	cfg->floor_abs[XTEL_HEALTH_SIG_REORDER] = 0.5;
	cfg->floor_abs[XTEL_HEALTH_SIG_RATE] = 0.5;
	cfg->floor_rel[XTEL_HEALTH_SIG_RATE] = 0.05;
	cfg->metric_floor_abs = 0.01;
	cfg->metric_floor_rel = 0.02;
	/* the fleet's default service level */
	strcpy(cfg->slo[0].label, "*");
	cfg->slo[0].slo = (struct xtel_health_slo){
		.p99_ms = 250, .loss_pct = 2, .jitter_ms = 100 };
	cfg->n_slo = 1;
}

int xtel_health_slo_parse(struct xtel_health_cfg *cfg, const char *rule)
{
	const char *colon = strchr(rule, ':');
	struct xtel_health_slo_rule r = { 0 };
	char buf[128], *save = NULL, *tok;
	size_t ll;
	uint32_t i;

	if (!colon || colon == rule)
		return -EINVAL;
	ll = (size_t)(colon - rule);
	if (ll >= sizeof(r.label) || strlen(colon + 1) >= sizeof(buf) ||
	    !colon[1])
		return -EINVAL;
	memcpy(r.label, rule, ll);
	for (i = 0; i < cfg->n_slo; i++)	/* start from the rule it replaces */
		if (!strcmp(cfg->slo[i].label, r.label))
			r.slo = cfg->slo[i].slo;
	strcpy(buf, colon + 1);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		double v;

		if (!eq)
			return -EINVAL;
		*eq = 0;
		if (xtel_parse_double(eq + 1, 0, 1e9, &v))
			return -EINVAL;
		if (!strcmp(tok, "p99"))
			r.slo.p99_ms = v;
		else if (!strcmp(tok, "loss"))
			r.slo.loss_pct = v;
		else if (!strcmp(tok, "jitter"))
			r.slo.jitter_ms = v;
		else
			return -EINVAL;
	}
	for (i = 0; i < cfg->n_slo; i++)
		if (!strcmp(cfg->slo[i].label, r.label)) {
			cfg->slo[i] = r;
			return 0;
		}
	if (cfg->n_slo == XTEL_HEALTH_MAX_SLO)
		return -ENOSPC;
	cfg->slo[cfg->n_slo++] = r;
	return 0;
}
