/* SPDX-License-Identifier: MIT */
/*
 * One signal's baseline: an EWMA of its accepted samples for the centre and
 * a robust scale from the median absolute deviation of the last `window`
 * accepted samples, refitted every `refit` samples. The window is kept
 * sorted as well (an insert and a removal of 32 floats), so a fit is a
 * walk of half the window, not two quickselects. The scale never goes below a floor, absolute or relative to
 * the centre, so a signal that was perfectly constant during warm-up (a
 * paced rate, a loss of 0) does not turn a rounding step into +1000 MAD.
 *
 * The scale is the largest of three estimates of the noise's sigma: the
 * window's MAD, its mean absolute deviation, and a slow EWMA of the
 * absolute deviation (about 128 samples of memory). A window of 32 alone
 * is too noisy an estimate: now and then it is a third too small, and a
 * fleet of thousands of signals then sees false shifts every hour.
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
};

struct xtel_health_baseline_cfg {
	unsigned int window;	/* samples the MAD is taken over, 4..32 */
	unsigned int refit;	/* refit median/MAD every this many samples */
	double alpha;		/* EWMA weight of a new sample, (0, 1] */
	double floor_abs;	/* the scale is at least this ... */
	double floor_rel;	/* ... and at least this times |centre| */
};

struct xtel_health_baseline {
	float win[XTEL_HEALTH_WINDOW_MAX];	/* ring of accepted samples */
	float sorted[XTEL_HEALTH_WINDOW_MAX];	/* the same, ascending */
	uint16_t n, head, since_fit;
	bool fitted;
	double centre;		/* the window's median until full, then EWMA */
	double mad;		/* raw MAD of the window at the last fit */
	double absdev;		/* slow EWMA of |x - centre| (weight 1/64) */
	double scale;		/* XTEL_HEALTH_MAD_SIGMA * mad, floored */
};

void xtel_health_baseline_init(struct xtel_health_baseline *b);

/* Accept x into the baseline (window, EWMA, refit when due). */
void xtel_health_baseline_add(struct xtel_health_baseline *b,
			      const struct xtel_health_baseline_cfg *cfg,
			      double x);

/* (x - centre) / scale; 0 before the first fit. */
double xtel_health_baseline_z(const struct xtel_health_baseline *b, double x);

#endif /* XTEL_HEALTH_BASELINE_H */
