// SPDX-License-Identifier: MIT
/*
 * Interval quantiles from the difference of two cumulative histograms
 * (ivl_latency.h): one walk over the buckets the current histogram has,
 * which also copies them into the previous one, nearest rank, the bucket
 * midpoint as the value (the overflow bucket reports the histogram's max).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "health/ivl_latency.h"

enum { NQ = 4 };

int xtel_health_ivl_latency(struct xtel_latency *prev,
			    const struct xtel_latency *cur,
			    struct xtel_health_ivl_lat *out)
{
	static const double q[NQ] = { 0.10, 0.50, 0.90, 0.99 };
	double *dst[NQ] = { &out->p10_ms, &out->p50_ms, &out->p90_ms,
			    &out->p99_ms };
	uint64_t total, rank[NQ] = { 0 }, cum = 0;
	unsigned int next = 0;
	bool have_min = false;
	int err = 0;

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
	} else {
		next = NQ;	/* nothing to find: only copy */
	}
	/*
	 * One pass over the buckets cur has: the interval's count is the
	 * difference, and prev takes cur's count on the way (prev is ours
	 * alone, so its blocks need no release store).
	 */
	for (unsigned int g = 0; g < XTEL_LAT_GROUPS; g++) {
		const uint64_t *cb = cur->blocks[g];
		uint64_t *pb = prev->blocks[g];

		if (!cb)
			continue;
		if (!pb) {
			pb = calloc(XTEL_LAT_SUB, sizeof(uint64_t));
			if (!pb) {
				err = -ENOMEM;
				continue;
			}
			prev->blocks[g] = pb;
			prev->groups |= 1ULL << g;
		}
		for (unsigned int s = 0; s < XTEL_LAT_SUB; s++) {
			uint64_t c = cb[s], d = c > pb[s] ? c - pb[s] : 0;

			pb[s] = c;
			if (!d || next == NQ)
				continue;
			cum += d;
			if (!have_min || cum >= rank[next]) {
				double mid = (double)xtel_latency_bucket_mid(
					g * XTEL_LAT_SUB + s) / 1e6;

				if (!have_min) {
					out->min_ms = mid;
					have_min = true;
				}
				while (next < NQ && cum >= rank[next])
					*dst[next++] = mid;
			}
		}
	}
	if (total) {
		/* the rest landed in the overflow bucket */
		for (; next < NQ; next++)
			*dst[next] = (double)cur->max / 1e6;
		if (!have_min)
			out->min_ms = (double)cur->max / 1e6;
	}
	prev->count = cur->count;
	prev->negative = cur->negative;
	prev->overflow = cur->overflow;
	prev->sum = cur->sum;
	prev->min = cur->min;
	prev->max = cur->max;
	return err;
}
