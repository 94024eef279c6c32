/* SPDX-License-Identifier: MIT */
/*
 * One signal's baseline, streaming and in 16 bytes: a centre and a mean
 * absolute deviation, both running means of the accepted samples while
 * the baseline fills (weight 1/n) and exponentially weighted ones after
 * (the centre's weight alpha, the deviation's 1/64: about 128 samples of
 * memory, which estimates sigma within some 7% where a window of 32 was a
 * third off now and then). The scale is 1.2533 x that deviation (sigma of
 * normal noise), widened by sqrt(64 / n) while fewer than 64 samples
 * came, and never below a floor, absolute or relative to the
 * centre, so a signal that was perfectly constant during warm-up (a paced
 * rate, a loss of 0) does not turn a rounding step into +1000 MAD.
 *
 * From the 4th sample on, a residual enters both means clipped to 3 scales
 * (a Huber step): a start-up outlier moves the centre by at most 3 scales
 * / n, not by its whole size, which is what the window's median did before.
 *
 * The caller decides which samples are accepted (engine.c: not while the
 * signal or the client is in a fault), so a fault does not become the
 * baseline it is measured against.
 */
#ifndef XTEL_HEALTH_BASELINE_H
#define XTEL_HEALTH_BASELINE_H

#include <stdbool.h>
#include <stdint.h>

enum {
	XTEL_HEALTH_WINDOW_MAX = 32,
	XTEL_HEALTH_ABSDEV_N = 64,	/* the deviation's EWMA weight: 1/64 */
	XTEL_HEALTH_HUBER_FROM = 4,	/* clip residuals from this sample on */
};

#define XTEL_HEALTH_HUBER_C 3.0		/* ... to this many scales */

struct xtel_health_baseline_cfg {
	double alpha;		/* EWMA weight of a new sample, (0, 1] */
	double floor_abs;	/* the scale is at least this ... */
	double floor_rel;	/* ... and at least this times |centre| */
};

struct xtel_health_baseline {
	float centre;		/* running mean while filling, then EWMA */
	float absdev;		/* mean |x - centre|, the same way (1/64) */
	float scale;		/* XTEL_HEALTH_MEANAD_SIGMA x absdev, floored */
	uint16_t n;		/* accepted samples, saturating */
	bool fitted;		/* at least one sample */
};

void xtel_health_baseline_init(struct xtel_health_baseline *b);

/* Accept x into the baseline (centre, deviation, scale). */
void xtel_health_baseline_add(struct xtel_health_baseline *b,
			      const struct xtel_health_baseline_cfg *cfg,
			      double x);

/* (x - centre) / scale; 0 before the first sample. */
double xtel_health_baseline_z(const struct xtel_health_baseline *b, double x);

#endif /* XTEL_HEALTH_BASELINE_H */
