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

void xtel_health_sorted_median_mad(const float *a, size_t n,
				   double *median, double *mad, double *meanad)
{
	double m, sum = 0, d_lo, d_hi, kth = 0, prev = 0;
	size_t lo, hi, need, got = 0;

	if (!n) {
		*median = *mad = *meanad = 0;
		return;
	}
	m = n & 1 ? a[n / 2] : ((double)a[n / 2 - 1] + (double)a[n / 2]) / 2.0;
	for (size_t i = 0; i < n; i++)
		sum += fabs((double)a[i] - m);
	/*
	 * The deviations left of the median grow leftwards, those right of
	 * it rightwards: merge the two runs and stop at the middle one(s).
	 */
	need = n / 2 + 1;		/* order statistics 0..n/2 */
	lo = n / 2;			/* first candidate on the left: a[lo - 1] */
	hi = n / 2;			/* first on the right: a[hi] */
	while (got < need) {
		d_lo = lo > 0 ? m - (double)a[lo - 1] : INFINITY;
		d_hi = hi < n ? (double)a[hi] - m : INFINITY;
		prev = kth;
		if (d_lo <= d_hi) {
			kth = d_lo;
			lo--;
		} else {
			kth = d_hi;
			hi++;
		}
		got++;
	}
	/* odd n: the (n/2)-th order statistic; even: the mean of two middles */
	*mad = n & 1 ? kth : (prev + kth) / 2.0;
	*median = m;
	*meanad = sum / (double)n;
}

/*
 * Insertion-sort steps from the top: for a window of 32 floats a plain
 * loop beats a binary search plus memmove (no call, predictable branches).
 */
void xtel_health_sorted_insert(float *a, size_t n, float x)
{
	size_t i = n;

	while (i > 0 && a[i - 1] > x) {
		a[i] = a[i - 1];
		i--;
	}
	a[i] = x;
}

void xtel_health_sorted_remove(float *a, size_t n, float x)
{
	size_t i = 0;

	while (i < n && a[i] != x)
		i++;
	for (; i + 1 < n; i++)
		a[i] = a[i + 1];
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
