/* SPDX-License-Identifier: MIT */
/*
 * Latency histograms as the history keeps them: the compact form of
 * acct/latency.h (nonzero buckets as varint pairs, in a BLOB column), and
 * what the store does with them. Rollups are differences of two
 * cumulative histograms (xtel_hist_sub); rows of the same bucket written
 * twice (a restart inside it) are added (xtel_hist_add, also an SQL
 * function for the upsert); a query merges rows into a dense accumulator
 * and reads p50/p99 from it, so a quantile of any range comes from the
 * merged buckets (within the histogram's 0.78%), never from averaged
 * quantiles.
 */
#ifndef XTEL_STORE_HIST_H
#define XTEL_STORE_HIST_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "acct/latency.h"

/* Buckets of an encoded histogram: XTEL_LAT_BUCKETS and the overflow one. */
enum { XTEL_HIST_SLOTS = XTEL_LAT_BUCKETS + 1 };

/* An upper bound of the length of a - b or a + b (out buffers). */
static inline size_t xtel_hist_sum_max(size_t na, size_t nb)
{
	return 2 * (na + nb) + 16;
}

/*
 * out = a + b (bucket-wise). Returns the length, or -EINVAL when a or b
 * is malformed.
 */
long xtel_hist_add(const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
		   uint8_t *out);

/*
 * out = a - b, a bucket of b larger than a's counting as a's (clamped at
 * 0: a cumulative histogram never shrinks). *lo and *hi get the lowest and
 * highest nonzero slot of the result (-1 when empty), *count its samples.
 * Returns the length, or -EINVAL.
 */
long xtel_hist_sub(const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
		   uint8_t *out, int *lo, int *hi, uint64_t *count);

/*
 * A dense accumulator for merging many rows (16 KiB). Only the slots
 * between lo and hi were touched: reset and quantiles visit those, so a
 * query of many small points does not pay 16 KiB per point.
 */
struct xtel_hist_acc {
	uint64_t slot[XTEL_HIST_SLOTS];
	uint64_t count, sum;
	uint64_t min, max;		/* valid when count > 0 */
	int lo, hi;			/* touched slots; lo > hi: none */
};

/* Once, before first use; reset to empty again after. */
void xtel_hist_acc_init(struct xtel_hist_acc *a);
void xtel_hist_acc_reset(struct xtel_hist_acc *a);

/*
 * Adds one row: its encoded buckets and its count, sum, min, max columns.
 * Returns 0 or -EINVAL (malformed blob; nothing added).
 */
int xtel_hist_acc_add(struct xtel_hist_acc *a, const uint8_t *blob, size_t n,
		      uint64_t count, uint64_t sum, uint64_t min, uint64_t max);

/*
 * Nearest-rank quantile q in (0, 1] of the merged buckets: the bucket's
 * midpoint clamped to [min, max] (max for the overflow bucket); 0 empty.
 */
uint64_t xtel_hist_acc_quantile(const struct xtel_hist_acc *a, double q);

/* Encodes the accumulator (buf: at least XTEL_HIST_SLOTS * 12 bytes). */
size_t xtel_hist_acc_encode(const struct xtel_hist_acc *a, uint8_t *buf);

/*
 * Bounds of the samples in slots lo..hi of a histogram whose run-wide min
 * and max are run_min, run_max: the lower end of slot lo and the upper end
 * of slot hi, clamped to them (exact when the extreme is the run's).
 */
void xtel_hist_bounds(int lo, int hi, uint64_t run_min, uint64_t run_max,
		      uint64_t *min, uint64_t *max);

/*
 * Registers xtel_hist_add(a, b) (NULL-aware) and the aggregate
 * xtel_hist_merge(h) (the sum of a group's histograms) on a connection.
 */
int xtel_hist_sql_register(sqlite3 *db);

#endif /* XTEL_STORE_HIST_H */
