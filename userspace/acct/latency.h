/* SPDX-License-Identifier: MIT */
/*
 * Latency histogram in nanoseconds, log-linear (HDR style): every power of
 * two [2^e, 2^(e+1)) is split into 64 equal sub-buckets, so a bucket's
 * midpoint is within 1/128 (0.78%) of any value in it. Values below 128 ns
 * are exact (width-1 buckets), values from 128 ns up are within 0.78%, and
 * the top group ends at 2^37 ns (137 s); larger values go to an overflow
 * bucket that still updates max (a quantile landing there reports max).
 *
 * Sparse: a group's 64 x u64 block is allocated only when a value lands in
 * it, so a client whose latencies span a few octaves costs ~1-2 KiB, not the
 * 16 KiB of the dense layout. Count, min, max and sum are exact. Negative
 * latency (clock skew between sender and collector) is counted apart and
 * never enters the histogram. Blocks are never freed before
 * xtel_latency_destroy(), which lets a seqlock reader follow the pointers.
 */
#ifndef XTEL_LATENCY_H
#define XTEL_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#include "acct/types.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
	XTEL_LAT_SUB_BITS = 6,
	XTEL_LAT_SUB = 1 << XTEL_LAT_SUB_BITS,	/* sub-buckets per group */
	XTEL_LAT_GROUPS = 32,	/* group 0: 0..63 ns; group g: [2^(g+5), 2^(g+6)) */
	XTEL_LAT_BUCKETS = XTEL_LAT_GROUPS * XTEL_LAT_SUB,
	/* pages of 16 buckets (quarters of the packed form's, latpack.h):
	 * the walks visit only the pages pages[] names */
	XTEL_LAT_PAGE_BITS = 4,
	XTEL_LAT_PAGES = XTEL_LAT_BUCKETS >> XTEL_LAT_PAGE_BITS,
};

/* First value that goes to the overflow bucket: 2^37 ns, about 137 s. */
#define XTEL_LAT_OVERFLOW_NS (1ULL << (XTEL_LAT_GROUPS + XTEL_LAT_SUB_BITS - 1))

struct xtel_latency {
	uint64_t count;		/* samples >= 0, overflow included */
	uint64_t negative;	/* samples < 0: skew, not in the histogram */
	uint64_t overflow;	/* samples >= XTEL_LAT_OVERFLOW_NS */
	uint64_t alloc_failed;	/* samples lost because a block malloc failed */
	uint64_t sum;		/* of samples >= 0 */
	uint64_t min, max;	/* valid when count > 0 */
	uint64_t groups;	/* bit g set when blocks[g] is allocated */
	uint64_t *blocks[XTEL_LAT_GROUPS];
	/* bit p (word p / 64): a bucket of page p may be nonzero. Every
	 * writer sets it (a superset: never a nonzero bucket outside it). */
	uint64_t pages[XTEL_LAT_PAGES / 64];
};

/* Mark bucket idx's page in h->pages. */
static inline void xtel_latency_page_set(struct xtel_latency *h,
					 unsigned int idx)
{
	unsigned int p = idx >> XTEL_LAT_PAGE_BITS;

	h->pages[p / 64] |= 1ULL << (p % 64);
}

/*
 * The exact totals of one sample v >= 0 (count, sum, min, max), for this
 * histogram and the packed one (latpack.h), whose totals are the same.
 */
static inline void xtel_latency_totals_add(uint64_t *count, uint64_t *sum,
					   uint64_t *min, uint64_t *max,
					   uint64_t v)
{
	if (*count == 0 || v < *min)
		*min = v;
	if (v > *max)
		*max = v;
	(*count)++;
	*sum += v;
}

void xtel_latency_init(struct xtel_latency *h);
void xtel_latency_destroy(struct xtel_latency *h);

/* Zero every count but keep the allocated blocks (for scratch reuse). */
void xtel_latency_reset(struct xtel_latency *h);

/* Record one sample. Returns 0, or -ENOMEM if its block could not be made. */
int xtel_latency_record(struct xtel_latency *h, int64_t ns);

/*
 * Add n samples to bucket idx (< XTEL_LAT_BUCKETS) without touching count,
 * sum, min or max: for rebuilding a histogram from exported buckets, whose
 * totals travel apart. Returns 0 or -ENOMEM.
 */
int xtel_latency_add_bucket(struct xtel_latency *h, unsigned int idx,
			    uint64_t n);

/* dst += src. Returns 0 or -ENOMEM (dst then lacks some of src's buckets). */
int xtel_latency_merge(struct xtel_latency *dst, const struct xtel_latency *src);

/* Nearest-rank quantile q in (0, 1], clamped to [min, max]; 0 when empty. */
uint64_t xtel_latency_quantile(const struct xtel_latency *h, double q);

/* count/negative/min/max/mean and p50/p90/p99/p99.9 in one bucket walk. */
void xtel_latency_summary(const struct xtel_latency *h,
			  struct xtel_lat_summary *out);

/*
 * The compact form the history store keeps (store/hist.c reads it): the
 * nonzero buckets in ascending index as pairs of LEB128 varints (index gap
 * since the previous nonzero bucket less one, count), the overflow bucket
 * as index XTEL_LAT_BUCKETS. Count, sum, min and max travel apart. A
 * client whose latencies span a few octaves takes ~100-300 bytes.
 */
#define XTEL_LAT_HIST_INDEX_OVERFLOW XTEL_LAT_BUCKETS

/* An upper bound of xtel_latency_encode()'s length for h. */
size_t xtel_latency_encoded_max(const struct xtel_latency *h);

/* Writes h's buckets into buf (at least encoded_max bytes); the length. */
size_t xtel_latency_encode(const struct xtel_latency *h, uint8_t *buf);

/* Bucket index of v (< XTEL_LAT_OVERFLOW_NS) and a bucket's midpoint. */
unsigned int xtel_latency_bucket(uint64_t v);
uint64_t xtel_latency_bucket_mid(unsigned int idx);
/* The smallest and the largest value of bucket idx (< XTEL_LAT_BUCKETS). */
uint64_t xtel_latency_bucket_lower(unsigned int idx);
uint64_t xtel_latency_bucket_upper(unsigned int idx);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_LATENCY_H */
