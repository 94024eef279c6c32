// SPDX-License-Identifier: MIT
/*
 * Interval quantiles from the difference of two cumulative histograms
 * (ivl_latency.h): one walk over the pages the current histogram has,
 * which also copies them into the previous one (its compact form),
 * nearest rank, the bucket midpoint as the value (the overflow bucket
 * reports the histogram's max).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "health/ivl_latency.h"

enum { NQ = 4 };

void xtel_health_lat_prev_destroy(struct xtel_health_lat_prev *p)
{
	free(p->blk);
	xtel_health_lat_prev_init(p);
}

size_t xtel_health_lat_prev_bytes(const struct xtel_health_lat_prev *p)
{
	return sizeof(*p) + (size_t)__builtin_popcount(p->groups) *
			    XTEL_LAT_SUB * sizeof(*p->blk);
}

/* prev's counts of group g, made (zero) if new; NULL when out of memory. */
static uint32_t *prev_block(struct xtel_health_lat_prev *p, unsigned int g)
{
	unsigned int at = (unsigned int)__builtin_popcount(p->groups & ((1u << g) - 1));
	unsigned int n = (unsigned int)__builtin_popcount(p->groups);
	uint32_t *blk;

	if (p->groups & (1u << g))
		return p->blk + at * XTEL_LAT_SUB;
	/* a new octave of latency: rare, the copy may move */
	blk = realloc(p->blk, (n + 1) * XTEL_LAT_SUB * sizeof(*blk));
	if (!blk)
		return NULL;
	memmove(blk + (at + 1) * XTEL_LAT_SUB, blk + at * XTEL_LAT_SUB,
		(n - at) * XTEL_LAT_SUB * sizeof(*blk));
	memset(blk + at * XTEL_LAT_SUB, 0, XTEL_LAT_SUB * sizeof(*blk));
	p->blk = blk;
	p->groups |= 1u << g;
	return blk + at * XTEL_LAT_SUB;
}

int xtel_health_ivl_latency(struct xtel_health_lat_prev *prev,
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
	 * Nothing new since the previous view (a histogram only grows, and
	 * every sample counts): prev holds cur already, if it has every
	 * group cur has (a block it could not make last time is made now).
	 */
	if (!total && cur->count == prev->count &&
	    !(cur->groups & ~(uint64_t)prev->groups))
		return 0;
	/*
	 * One pass over the pages cur has (a page no sample reached is zero
	 * in cur and in prev, which is cur's copy): the interval's count is
	 * the difference, and prev takes cur's count on the way (prev is
	 * ours alone, so its blocks need no release store). A page is first
	 * differenced and copied whole (a loop the compiler vectorises),
	 * then searched only if something landed in it.
	 */
	for (unsigned int w = 0; w < XTEL_LAT_PAGES / 64; w++) {
		for (uint64_t m = cur->pages[w]; m; m &= m - 1) {
			unsigned int idx = (w * 64 + (unsigned int)__builtin_ctzll(m))
					   << XTEL_LAT_PAGE_BITS;
			unsigned int g = idx / XTEL_LAT_SUB, o = idx % XTEL_LAT_SUB;
			const uint64_t *cb = cur->blocks[g];
			uint32_t *pb, d[1u << XTEL_LAT_PAGE_BITS], any = 0;

			if (!cb)
				continue;
			pb = prev_block(prev, g);
			if (!pb) {
				err = -ENOMEM;
				continue;
			}
			cb += o;
			pb += o;
			for (unsigned int s = 0; s < (1u << XTEL_LAT_PAGE_BITS); s++) {
				/* modulo 2^32: exact for < 2^32 new samples a bucket */
				uint32_t c = (uint32_t)cb[s];

				d[s] = c - pb[s];
				pb[s] = c;
				any |= d[s];
			}
			if (!any || next == NQ)
				continue;
			for (unsigned int s = 0; s < (1u << XTEL_LAT_PAGE_BITS) &&
						 next < NQ; s++) {
				if (!d[s])
					continue;
				cum += d[s];
				if (!have_min || cum >= rank[next]) {
					double mid = (double)xtel_latency_bucket_mid(
						idx + s) / 1e6;

					if (!have_min) {
						out->min_ms = mid;
						have_min = true;
					}
					while (next < NQ && cum >= rank[next])
						*dst[next++] = mid;
				}
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
	prev->sum = cur->sum;
	return err;
}
