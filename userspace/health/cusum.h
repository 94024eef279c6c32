/* SPDX-License-Identifier: MIT */
/*
 * Two-sided CUSUM (Page's test) on standardised samples: each interval
 * s_hi = max(0, s_hi + z - k) and s_lo = max(0, s_lo - z - k); a sum above
 * h is a level shift. k is the slack (half the smallest shift worth
 * finding, in MAD units), h the decision level. A shift of d > k alarms
 * after about h / (d - k) intervals, so it catches a persistent shift too
 * small for the one-interval threshold; pure noise almost never climbs by
 * k every interval (with k 1.5 and h 6 the in-control run length is of the
 * order of 10^8 intervals for normal noise).
 */
#ifndef XTEL_HEALTH_CUSUM_H
#define XTEL_HEALTH_CUSUM_H

struct xtel_health_cusum {
	float hi, lo;		/* single precision: 8 bytes per signal */
};

/* Add z; returns +1 (upward shift), -1 (downward) or 0. */
int xtel_health_cusum_add(struct xtel_health_cusum *c, double z, double k,
			  double h);

/* Forget the sums (after the verdict they raised ended). */
void xtel_health_cusum_reset(struct xtel_health_cusum *c);

#endif /* XTEL_HEALTH_CUSUM_H */
