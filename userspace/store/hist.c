// SPDX-License-Identifier: MIT
/*
 * Operations on encoded latency histograms (hist.h). An encoding is a
 * sorted list of (slot gap, count) varint pairs, so sums and differences
 * are merge walks of two lists without decoding into 2,049 slots; only a
 * query that merges many rows uses the dense accumulator.
 */
#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "store/hist.h"

struct it {
	const uint8_t *p, *end;
	long slot;			/* of the pair just read */
	uint64_t count;
};

static int get_varint(struct it *it, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned int shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (it->p == it->end)
			return -EINVAL;
		b = *it->p++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -EINVAL;
}

/* 1: a pair read, 0: the end, -EINVAL: malformed. */
static int next(struct it *it)
{
	uint64_t gap, count;

	if (it->p == it->end)
		return 0;
	if (get_varint(it, &gap) || get_varint(it, &count) ||
	    gap >= XTEL_HIST_SLOTS ||
	    it->slot + 1 + (long)gap >= XTEL_HIST_SLOTS)
		return -EINVAL;
	it->slot += 1 + (long)gap;
	it->count = count;
	return 1;
}

struct writer {
	uint8_t *out;
	size_t n;
	long prev;
};

static void put(struct writer *w, long slot, uint64_t count)
{
	if (!count)
		return;
	w->n += xtel_put_uleb128(w->out + w->n, (uint64_t)(slot - w->prev - 1));
	w->n += xtel_put_uleb128(w->out + w->n, count);
	w->prev = slot;
}

/*
 * The merge walk: calls op for every slot in a or b with both counts
 * (0 for a side without it).
 */
static long walk(const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
		 uint8_t *out, int sign, int *lo, int *hi, uint64_t *count)
{
	struct it x = { a, a + na, -1, 0 }, y = { b, b + nb, -1, 0 };
	struct writer w = { out, 0, -1 };
	int rx = next(&x), ry = next(&y);

	if (lo)
		*lo = *hi = -1, *count = 0;
	while (rx > 0 || ry > 0) {
		long slot;
		uint64_t ca = 0, cb = 0, c;

		if (rx > 0 && (ry <= 0 || x.slot <= y.slot))
			slot = x.slot;
		else
			slot = y.slot;
		if (rx > 0 && x.slot == slot) {
			ca = x.count;
			rx = next(&x);
		}
		if (ry > 0 && y.slot == slot) {
			cb = y.count;
			ry = next(&y);
		}
		if (rx < 0 || ry < 0)
			break;
		c = sign > 0 ? ca + cb : ca > cb ? ca - cb : 0;
		if (!c)
			continue;
		put(&w, slot, c);
		if (lo) {
			if (*lo < 0)
				*lo = (int)slot;
			*hi = (int)slot;
			*count += c;
		}
	}
	return rx < 0 || ry < 0 ? -EINVAL : (long)w.n;
}

long xtel_hist_add(const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
		   uint8_t *out)
{
	return walk(a, na, b, nb, out, 1, NULL, NULL, NULL);
}

long xtel_hist_sub(const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
		   uint8_t *out, int *lo, int *hi, uint64_t *count)
{
	return walk(a, na, b, nb, out, -1, lo, hi, count);
}

void xtel_hist_acc_init(struct xtel_hist_acc *a)
{
	memset(a, 0, sizeof(*a));
	a->lo = XTEL_HIST_SLOTS;
	a->hi = -1;
}

void xtel_hist_acc_reset(struct xtel_hist_acc *a)
{
	if (a->lo <= a->hi)
		memset(&a->slot[a->lo], 0,
		       (size_t)(a->hi - a->lo + 1) * sizeof(a->slot[0]));
	a->count = a->sum = a->min = a->max = 0;
	a->lo = XTEL_HIST_SLOTS;
	a->hi = -1;
}

int xtel_hist_acc_add(struct xtel_hist_acc *a, const uint8_t *blob, size_t n,
		      uint64_t count, uint64_t sum, uint64_t min, uint64_t max)
{
	struct it x = { blob, blob + n, -1, 0 };
	int r;

	/* validate first: a malformed row adds nothing */
	while ((r = next(&x)) > 0)
		;
	if (r < 0)
		return -EINVAL;
	x = (struct it){ blob, blob + n, -1, 0 };
	while (next(&x) > 0) {
		a->slot[x.slot] += x.count;
		if (x.slot < a->lo)
			a->lo = (int)x.slot;
		if (x.slot > a->hi)
			a->hi = (int)x.slot;
	}
	if (count) {
		if (!a->count || min < a->min)
			a->min = min;
		if (max > a->max)
			a->max = max;
	}
	a->count += count;
	a->sum += sum;
	return 0;
}

uint64_t xtel_hist_acc_quantile(const struct xtel_hist_acc *a, double q)
{
	uint64_t total = 0, seen = 0, rank, v;
	double r;

	for (int i = a->lo; i <= a->hi; i++)
		total += a->slot[i];
	if (!total)
		return 0;
	r = q * (double)total;
	rank = (uint64_t)r;
	if ((double)rank < r)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > total)
		rank = total;
	for (int i = a->lo; i <= a->hi; i++) {
		seen += a->slot[i];
		if (seen < rank)
			continue;
		if (i == XTEL_LAT_BUCKETS)
			return a->max;
		v = xtel_latency_bucket_mid((unsigned int)i);
		if (a->count && v < a->min)
			v = a->min;
		if (a->count && v > a->max)
			v = a->max;
		return v;
	}
	return a->max;
}

size_t xtel_hist_acc_encode(const struct xtel_hist_acc *a, uint8_t *buf)
{
	struct writer w = { buf, 0, -1 };

	for (unsigned int i = 0; i < XTEL_HIST_SLOTS; i++)
		put(&w, (long)i, a->slot[i]);
	return w.n;
}

void xtel_hist_bounds(int lo, int hi, uint64_t run_min, uint64_t run_max,
		      uint64_t *min, uint64_t *max)
{
	uint64_t l, h;

	if (lo < 0) {
		*min = *max = 0;
		return;
	}
	l = lo >= XTEL_LAT_BUCKETS ? XTEL_LAT_OVERFLOW_NS :
	    xtel_latency_bucket_lower((unsigned int)lo);
	h = hi >= XTEL_LAT_BUCKETS ? run_max :
	    xtel_latency_bucket_upper((unsigned int)hi);
	*min = l < run_min ? run_min : l > run_max ? run_max : l;
	*max = h > run_max ? run_max : h < run_min ? run_min : h;
}

/* xtel_hist_add(a, b): NULL + x = x; a malformed side is an error. */
static void sql_add(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const uint8_t *a = sqlite3_value_blob(argv[0]);
	const uint8_t *b = sqlite3_value_blob(argv[1]);
	size_t na = (size_t)sqlite3_value_bytes(argv[0]);
	size_t nb = (size_t)sqlite3_value_bytes(argv[1]);
	uint8_t *out;
	long n;

	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_value(ctx, argv[1]);
		return;
	}
	if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_value(ctx, argv[0]);
		return;
	}
	out = sqlite3_malloc64(xtel_hist_sum_max(na, nb));
	if (!out) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	n = xtel_hist_add(a, na, b, nb, out);
	if (n < 0) {
		sqlite3_free(out);
		sqlite3_result_error(ctx, "xtel_hist_add: malformed histogram", -1);
		return;
	}
	sqlite3_result_blob64(ctx, out, (sqlite3_uint64)n, sqlite3_free);
}

/* xtel_hist_merge(blob): the sum of a group's histograms (NULLs skipped). */
static void sql_merge_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct xtel_hist_acc *a;

	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	a = sqlite3_aggregate_context(ctx, sizeof(*a));	/* zeroed */
	if (!a) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (xtel_hist_acc_add(a, sqlite3_value_blob(argv[0]),
			      (size_t)sqlite3_value_bytes(argv[0]), 0, 0, 0, 0))
		sqlite3_result_error(ctx, "xtel_hist_merge: malformed histogram", -1);
}

static void sql_merge_final(sqlite3_context *ctx)
{
	struct xtel_hist_acc *a = sqlite3_aggregate_context(ctx, 0);
	uint8_t *out;
	size_t n;

	if (!a || a->hi < 0) {
		sqlite3_result_null(ctx);
		return;
	}
	out = sqlite3_malloc64(XTEL_HIST_SLOTS * 12);
	if (!out) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	n = xtel_hist_acc_encode(a, out);
	sqlite3_result_blob64(ctx, out, n, sqlite3_free);
}

int xtel_hist_sql_register(sqlite3 *db)
{
	int rc = sqlite3_create_function_v2(db, "xtel_hist_add", 2,
		SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
		sql_add, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(db, "xtel_hist_merge", 1,
			SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
			NULL, NULL, sql_merge_step, sql_merge_final, NULL);
	return rc == SQLITE_OK ? 0 : -ENOMEM;
}
