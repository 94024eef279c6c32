// SPDX-License-Identifier: MIT
/*
 * Interval quantiles from the difference of two cumulative histograms
 * (ivl_latency.h): one walk over the buckets the current histogram has,
 * nearest rank, the bucket midpoint as the value (the overflow bucket
 * reports the histogram's max).
 */
#include <math.h>
#include <string.h>

#include "health/ivl_latency.h"

enum { NQ = 4 };

static uint64_t bucket_delta(const struct xtel_latency *prev,
			     const struct xtel_latency *cur, unsigned int g,
			     unsigned int s)
{
	uint64_t c = cur->blocks[g][s];
	uint64_t p = prev->blocks[g] ? prev->blocks[g][s] : 0;

	return c > p ? c - p : 0;
}

int xtel_health_ivl_latency(struct xtel_latency *prev,
			    const struct xtel_latency *cur,
			    struct xtel_health_ivl_lat *out)
{
	static const double q[NQ] = { 0.10, 0.50, 0.90, 0.99 };
	double *dst[NQ] = { &out->p10_ms, &out->p50_ms, &out->p90_ms,
			    &out->p99_ms };
	uint64_t total, rank[NQ], cum = 0;
	unsigned int next = 0;
	bool have_min = false;

	memset(out, 0, sizeof(*out));
	total = cur->count > prev->count ? cur->count - prev->count : 0;
	out->count = total;
	if (total) {
		uint64_t dsum = cur->sum > prev->sum ? cur->sum - prev->sum : 0;

		out->mean_ms = (double)dsum / (double)total / 1e6;
		for (unsigned int k = 0; k < NQ; k++) {
			rank[k] = (uint64_t)ceil(q[k] * (double)total);
			if (rank[k] < 1)
				rank[k] = 1;
		}
		for (unsigned int g = 0; g < XTEL_LAT_GROUPS && next < NQ; g++) {
			if (!cur->blocks[g])
				continue;
			for (unsigned int s = 0; s < XTEL_LAT_SUB && next < NQ; s++) {
				uint64_t d = bucket_delta(prev, cur, g, s);
				double mid;

				if (!d)
					continue;
				cum += d;
				mid = (double)xtel_latency_bucket_mid(
					g * XTEL_LAT_SUB + s) / 1e6;
				if (!have_min) {
					out->min_ms = mid;
					have_min = true;
				}
				while (next < NQ && cum >= rank[next])
					*dst[next++] = mid;
			}
		}
		/* the rest landed in the overflow bucket */
		for (; next < NQ; next++)
			*dst[next] = (double)cur->max / 1e6;
		if (!have_min)
			out->min_ms = (double)cur->max / 1e6;
	}
	xtel_latency_reset(prev);
	return xtel_latency_merge(prev, cur);
}
