/* SPDX-License-Identifier: MIT */
/*
 * The latency of one interval from two cumulative histograms: a client's
 * histogram (acct/latency.h) only grows, so the difference between this
 * view's copy and the previous one holds exactly the samples of the
 * interval, and its quantiles are the interval's (within the histogram's
 * 0.78%). The health feed keeps the previous copy per client, compact:
 * only the groups the client used, contiguous, 32-bit counts (a bucket's
 * difference is taken modulo 2^32, exact while one interval adds fewer
 * than 4 billion samples to one bucket): 32 bytes and 256 per group
 * instead of the histogram's 320 and 512.
 */
#ifndef XTEL_HEALTH_IVL_LATENCY_H
#define XTEL_HEALTH_IVL_LATENCY_H

#include <stdint.h>

#include "acct/latency.h"

struct xtel_health_ivl_lat {
	uint64_t count;			/* samples in the interval */
	double min_ms, mean_ms;
	double p10_ms, p50_ms, p90_ms, p99_ms;
};

struct xtel_health_lat_prev {
	uint64_t count, sum;
	uint32_t groups;	/* bit g: group g's counts are in blk */
	uint32_t *blk;		/* XTEL_LAT_SUB counts per set bit, ascending g */
};

static inline void xtel_health_lat_prev_init(struct xtel_health_lat_prev *p)
{
	*p = (struct xtel_health_lat_prev){ 0 };
}

void xtel_health_lat_prev_destroy(struct xtel_health_lat_prev *p);

/* Bytes p holds: itself and its blocks. */
size_t xtel_health_lat_prev_bytes(const struct xtel_health_lat_prev *p);

/*
 * out = quantiles of cur - prev, then prev = cur (prev's blocks are
 * allocated as needed). Returns 0 or -ENOMEM (prev then lacks a group, and
 * its samples are not in the interval's figures until it is made).
 */
int xtel_health_ivl_latency(struct xtel_health_lat_prev *prev,
			    const struct xtel_latency *cur,
			    struct xtel_health_ivl_lat *out);

#endif /* XTEL_HEALTH_IVL_LATENCY_H */
