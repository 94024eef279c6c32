// SPDX-License-Identifier: MIT
/*
 * Pacing schedule: slots due at time t is the integral of the rate from t0
 * to t, floored. With ramp steps the integral is piecewise linear, so the
 * slots due before each step are precomputed once. Everything is computed
 * from t0, never accumulated from the previous wakeup, which is what keeps
 * the rate free of drift.
 */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "pacing.h"

void xtel_lg_sleep_until(uint64_t t_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t_ns / 1000000000ull),
		.tv_nsec = (long)(t_ns % 1000000000ull),
	};

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

void xtel_lg_pacer_init(struct xtel_lg_pacer *p, const struct xtel_lg_config *cfg,
			double share, uint64_t t0_ns, uint64_t limit_slots)
{
	double acc = 0;

	*p = (struct xtel_lg_pacer){ .t0_ns = t0_ns, .limit = limit_slots };
	p->n_steps = cfg->ramp ? cfg->n_rates : 1;
	p->step_ns = cfg->ramp ? (uint64_t)llround(cfg->step_s * 1e9) : 0;
	p->unlimited = !cfg->ramp && cfg->rates[0] == 0;
	for (uint32_t i = 0; i < p->n_steps; i++) {
		p->rates[i] = cfg->rates[i] * share;
		p->before[i] = acc;
		if (p->step_ns)
			acc += p->rates[i] * (double)p->step_ns / 1e9;
	}
	p->before[p->n_steps] = acc;
	if (cfg->duration_s > 0)
		p->end_ns = t0_ns + (uint64_t)llround(cfg->duration_s * 1e9);
}

/* Slots due at `t` before the time limit and the slot cap. */
static double due_raw(const struct xtel_lg_pacer *p, uint64_t t)
{
	double dt = t > p->t0_ns ? (double)(t - p->t0_ns) : 0;
	uint32_t k;

	if (!p->step_ns)
		return p->rates[0] * dt / 1e9;
	k = (uint32_t)(dt / (double)p->step_ns);
	if (k >= p->n_steps)
		return p->before[p->n_steps];
	return p->before[k] + p->rates[k] * (dt - (double)k * p->step_ns) / 1e9;
}

uint64_t xtel_lg_pacer_due(const struct xtel_lg_pacer *p, uint64_t now_ns)
{
	uint64_t due;

	if (p->end_ns && now_ns > p->end_ns)
		now_ns = p->end_ns;
	if (p->unlimited) {
		due = UINT64_MAX;
	} else {
		/* +1e-6 absorbs rounding so that rate x duration lands exactly. */
		due = (uint64_t)floor(due_raw(p, now_ns) + 1e-6);
	}
	if (p->limit && due > p->limit)
		due = p->limit;
	return due;
}

uint64_t xtel_lg_pacer_time_of(const struct xtel_lg_pacer *p, uint64_t slots)
{
	double need = (double)slots - 1e-6;
	uint64_t t;

	if (p->unlimited)
		return p->t0_ns;
	if (!p->step_ns) {
		if (p->rates[0] <= 0)
			return UINT64_MAX;
		t = p->t0_ns + (uint64_t)ceil(need / p->rates[0] * 1e9);
	} else {
		uint32_t k = 0;

		while (k < p->n_steps && p->before[k + 1] < need)
			k++;
		if (k == p->n_steps)
			return UINT64_MAX;
		t = p->t0_ns + (uint64_t)k * p->step_ns +
		    (uint64_t)ceil((need - p->before[k]) / p->rates[k] * 1e9);
	}
	if (p->end_ns && t > p->end_ns)
		return UINT64_MAX;
	return t;
}

uint32_t xtel_lg_pacer_step(const struct xtel_lg_pacer *p, uint64_t now_ns)
{
	uint64_t k;

	if (!p->step_ns || now_ns <= p->t0_ns)
		return 0;
	k = (now_ns - p->t0_ns) / p->step_ns;
	return k >= p->n_steps ? p->n_steps - 1 : (uint32_t)k;
}
