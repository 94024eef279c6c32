// SPDX-License-Identifier: MIT
/*
 * EWMA centre, windowed median/MAD scale (baseline.h). Until the window is
 * full the centre is the median of what it holds, not an EWMA started at
 * the first sample, so a start-up interval (a device still ramping up)
 * does not bias the centre for 1/alpha intervals.
 */
#include <math.h>

#include "health/baseline.h"
#include "health/robust.h"

void xtel_health_baseline_init(struct xtel_health_baseline *b)
{
	*b = (struct xtel_health_baseline){ 0 };
}

static void refit(struct xtel_health_baseline *b,
		  const struct xtel_health_baseline_cfg *cfg, bool filling)
{
	double med, mad, meanad, scale;

	xtel_health_sorted_median_mad(b->sorted, b->n, &med, &mad, &meanad);
	/* while the window fills the centre is its median; then the EWMA's */
	if (!b->fitted || filling) {
		b->centre = med;
		b->absdev = meanad;
	}
	b->fitted = true;
	b->mad = mad;
	/*
	 * A MAD of few samples is often far too small (three close values
	 * in a row happen): while the window fills, widen the scale by
	 * sqrt(window / n), 2x at a quarter full, 1x when full.
	 */
	scale = XTEL_HEALTH_MAD_SIGMA * mad;
	/*
	 * The MAD of a window of 32 is itself noisy, and too small when the
	 * tails are heavier than normal ones (a device's burst, means of few
	 * samples): take the mean absolute deviation's sigma when it is the
	 * larger. Outliers widen it, which only makes a verdict harder.
	 */
	if (XTEL_HEALTH_MEANAD_SIGMA * meanad > scale)
		scale = XTEL_HEALTH_MEANAD_SIGMA * meanad;
	if (XTEL_HEALTH_MEANAD_SIGMA * b->absdev > scale)
		scale = XTEL_HEALTH_MEANAD_SIGMA * b->absdev;
	if (filling)
		scale *= sqrt((double)cfg->window / (double)b->n);
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
	if (filling) {
		xtel_health_sorted_insert(b->sorted, b->n++, (float)x);
	} else if (b->win[b->head] != (float)x) {
		/* the slot about to be overwritten is the oldest; a steady
		 * signal (a loss of 0, a paced rate) replaces it by its equal */
		xtel_health_sorted_remove(b->sorted, b->n, b->win[b->head]);
		xtel_health_sorted_insert(b->sorted, b->n - 1, (float)x);
	}
	b->win[b->head] = (float)x;
	b->head = (uint16_t)((b->head + 1) % w);
	if (b->fitted && !filling) {
		b->absdev += (fabs(x - b->centre) - b->absdev) / 64.0;
		b->centre += cfg->alpha * (x - b->centre);
	}
	/* every sample until the window is full, then every `refit` */
	if (++b->since_fit >= cfg->refit || filling)
		refit(b, cfg, filling);
}

double xtel_health_baseline_z(const struct xtel_health_baseline *b, double x)
{
	return b->fitted ? (x - b->centre) / b->scale : 0.0;
}
