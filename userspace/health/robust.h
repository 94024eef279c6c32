/* SPDX-License-Identifier: MIT */
/*
 * Robust location and scale of a small sample: the median and the median
 * absolute deviation (MAD), both by quickselect on a scratch copy, O(n). The
 * baselines (baseline.c) and the peer comparison (peer.c) share them. MAD
 * times XTEL_HEALTH_MAD_SIGMA estimates the standard deviation of normal
 * noise, so a deviation of "k MAD" in an explanation reads as k sigma.
 */
#ifndef XTEL_HEALTH_ROBUST_H
#define XTEL_HEALTH_ROBUST_H

#include <stddef.h>

#define XTEL_HEALTH_MAD_SIGMA 1.4826

/* Median of a[0..n-1]; reorders a. 0 when n == 0. */
double xtel_health_median(float *a, size_t n);

/*
 * Median and MAD (not scaled) of src[0..n-1] through tmp (n floats);
 * src is left alone. meanad, unless NULL, gets the mean absolute deviation
 * from the median (times XTEL_HEALTH_MEANAD_SIGMA it estimates sigma of
 * normal noise too, and it is the larger one when the tails are heavy).
 */
void xtel_health_median_mad(const float *src, size_t n, float *tmp,
			    double *median, double *mad, double *meanad);

#define XTEL_HEALTH_MEANAD_SIGMA 1.2533

#endif /* XTEL_HEALTH_ROBUST_H */
