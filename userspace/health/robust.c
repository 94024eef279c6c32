// SPDX-License-Identifier: MIT
/*
 * Median and MAD by Hoare's quickselect (robust.h). For an even n the
 * median is the mean of the two middle order statistics, so a window of
 * identical values has MAD exactly 0 and a two-valued one is symmetric.
 */
#include <math.h>
#include <string.h>

#include "health/robust.h"

static void swapf(float *a, float *b)
{
	float t = *a;

	*a = *b;
	*b = t;
}

/* The k-th smallest of a[0..n-1] (0-based); reorders a. */
static float select_k(float *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		float pivot = a[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;

		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				swapf(&a[i], &a[j]);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return a[k];
	}
	return a[k];
}

double xtel_health_median(float *a, size_t n)
{
	float hi, lo;

	if (!n)
		return 0.0;
	hi = select_k(a, n, n / 2);
	if (n & 1)
		return hi;
	/* after select_k, a[0..n/2-1] holds the lower half: take its max */
	lo = a[0];
	for (size_t i = 1; i < n / 2; i++)
		if (a[i] > lo)
			lo = a[i];
	return ((double)lo + (double)hi) / 2.0;
}

void xtel_health_median_mad(const float *src, size_t n, float *tmp,
			    double *median, double *mad, double *meanad)
{
	double m, sum = 0;

	memcpy(tmp, src, n * sizeof(*tmp));
	m = xtel_health_median(tmp, n);
	for (size_t i = 0; i < n; i++) {
		tmp[i] = (float)fabs((double)src[i] - m);
		sum += tmp[i];
	}
	*median = m;
	*mad = xtel_health_median(tmp, n);
	if (meanad)
		*meanad = n ? sum / (double)n : 0;
}
