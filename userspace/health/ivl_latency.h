/* SPDX-License-Identifier: MIT */
/*
 * The latency of one interval from two cumulative histograms: a client's
 * histogram (acct/latency.h) only grows, so the difference between this
 * view's copy and the previous one holds exactly the samples of the
 * interval, and its quantiles are the interval's (within the histogram's
 * 0.78%). The health feed keeps the previous copy per client, compact:
 * only the pages (16 buckets, acct/latency.h) the client used, contiguous,
 * each count modulo 2^8, 2^16 or 2^32 (the client's width). A bucket's
 * difference modulo 2^w is exact while the interval adds fewer than 2^w
 * samples to the client (no bucket can gain more than the client's total,
 * which is exact), so a client's width is the narrowest that holds 64
 * times its largest interval: 8 bits while its intervals bring at most 3
 * samples (a device once a second at the default 1 s interval), 16 while
 * at most 1,023, else 32 (exact below 4 billion). A jump past the range
 * (a 64-fold rise in one interval) is detected by the exact totals: that
 * interval's quantiles are left out, not guessed, and the copy widens.
 * 16, 32 or 64 bytes a page instead of 256 an octave.
 */
#ifndef XTEL_HEALTH_IVL_LATENCY_H
#define XTEL_HEALTH_IVL_LATENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acct/latency.h"

/* The positions of the interval's minimum and quantiles in idx[]. */
enum { XTEL_HEALTH_IVL_MIN, XTEL_HEALTH_IVL_P10, XTEL_HEALTH_IVL_P50,
       XTEL_HEALTH_IVL_P90, XTEL_HEALTH_IVL_P99, XTEL_HEALTH_IVL_N };

struct xtel_health_ivl_lat {
	uint64_t count;			/* samples in the interval */
	double min_ms;
	double p10_ms, p50_ms, p90_ms, p99_ms;
	/* the same figures as bucket indices (XTEL_LAT_BUCKETS: the
	 * overflow bucket, whose value is max_ns), for a caller that keeps
	 * them (12 bytes and the max instead of 40) */
	uint16_t idx[XTEL_HEALTH_IVL_N];
	uint64_t max_ns;
};

/* The value of a figure kept as a bucket index, exactly as in *_ms. */
static inline double xtel_health_ivl_ms(unsigned int idx, uint64_t max_ns)
{
	return idx < XTEL_LAT_BUCKETS ? (double)xtel_latency_bucket_mid(idx) / 1e6 :
	       (double)max_ns / 1e6;
}

enum { XTEL_HEALTH_LAT_WIDE = 2 };	/* widths: 0, 1, 2 = 8, 16, 32 bits */

/* 32 bytes and the blocks: the width shares the count's word */
struct xtel_health_lat_prev {
	uint64_t count : 62;	/* cur's at the previous call (< 2^62) */
	uint64_t width : 2;	/* counts of 8 << width bits */
	uint64_t pages[XTEL_LAT_PAGES / 64];	/* bit p: page p is in blk */
	void *blk;		/* 16 counts per set bit, ascending page */
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
 * allocated as needed). Returns 0, -ENOMEM (prev then lacks a page, and
 * its samples are not in the interval's figures until it is made) or
 * -ERANGE (the narrow copy could not tell this interval's buckets apart:
 * out->count is 0, and prev is cur's copy, wider, from now on).
 */
int xtel_health_ivl_latency(struct xtel_health_lat_prev *prev,
			    const struct xtel_latency *cur,
			    struct xtel_health_ivl_lat *out);

#endif /* XTEL_HEALTH_IVL_LATENCY_H */
