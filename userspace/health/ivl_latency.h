/* SPDX-License-Identifier: MIT */
/*
 * The latency of one interval from two cumulative histograms: a client's
 * histogram (acct/latency.h) only grows, so the difference between this
 * view's copy and the previous one holds exactly the samples of the
 * interval, and its quantiles are the interval's (within the histogram's
 * 0.78%). The health feed keeps the previous copy per client.
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

/*
 * out = quantiles of cur - prev, then prev = cur (prev's blocks are
 * allocated as needed). Returns 0 or -ENOMEM (prev then lacks a block, and
 * the next interval's figures are off by that block's samples).
 */
int xtel_health_ivl_latency(struct xtel_latency *prev,
			    const struct xtel_latency *cur,
			    struct xtel_health_ivl_lat *out);

#endif /* XTEL_HEALTH_IVL_LATENCY_H */
