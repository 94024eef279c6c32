// SPDX-License-Identifier: MIT
/*
 * EWMA centre, windowed median/MAD scale (baseline.h). The first fit sets
 * the centre to the window's median, not to the EWMA of the warm-up, so
 * one outlier early in warm-up does not bias the centre for 1/alpha
 * intervals.
 */
#include <math.h>

#include "health/baseline.h"
#include "health/robust.h"

void xtel_health_baseline_init(struct xtel_health_baseline *b)
{
	*b = (struct xtel_health_baseline){ 0 };
}

static void refit(struct xtel_health_baseline *b,
		  const struct xtel_health_baseline_cfg *cfg)
{
	float tmp[XTEL_HEALTH_WINDOW_MAX];
	double med, mad, scale;

	xtel_health_median_mad(b->win, b->n, tmp, &med, &mad);
	if (!b->fitted)
		b->centre = med;
	b->fitted = true;
	b->mad = mad;
	scale = XTEL_HEALTH_MAD_SIGMA * mad;
	if (scale < cfg->floor_abs)
		scale = cfg->floor_abs;
	if (scale < cfg->floor_rel * fabs(b->centre))
		scale = cfg->floor_rel * fabs(b->centre);
	b->scale = scale > 0 ? scale : 1e-12;
	b->since_fit = 0;
}

void xtel_health_baseline_add(struct xtel_health_baseline *b,
			      const struct xtel_health_baseline_cfg *cfg,
			      double x)
{
	unsigned int w = cfg->window;
	bool filling;

	if (w > XTEL_HEALTH_WINDOW_MAX)
		w = XTEL_HEALTH_WINDOW_MAX;
	filling = b->n < w;
	b->win[b->head] = (float)x;
	b->head = (uint16_t)((b->head + 1) % w);
	if (b->n < w)
		b->n++;
	if (b->fitted)
		b->centre += cfg->alpha * (x - b->centre);
	/* every sample until the window is full, then every `refit` */
	if (++b->since_fit >= cfg->refit || filling)
		refit(b, cfg);
}

double xtel_health_baseline_z(const struct xtel_health_baseline *b, double x)
{
	return b->fitted ? (x - b->centre) / b->scale : 0.0;
}
