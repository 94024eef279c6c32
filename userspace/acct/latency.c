// SPDX-License-Identifier: MIT
/*
 * Log-linear latency histogram (see latency.h). The index arithmetic is the
 * HDR one with 64 sub-buckets: group 0 holds 0..63 at width 1, group g >= 1
 * holds [2^(g+5), 2^(g+6)) at width 2^(g-1). Block pointers are published
 * with a release store so that a reader which sees a pointer also sees the
 * zeroed block behind it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acct/latency.h"
#include "common/bytes.h"

void xtel_latency_init(struct xtel_latency *h)
{
	memset(h, 0, sizeof(*h));
}

void xtel_latency_destroy(struct xtel_latency *h)
{
	for (unsigned int g = 0; g < XTEL_LAT_GROUPS; g++)
		free(h->blocks[g]);
	memset(h, 0, sizeof(*h));
}

void xtel_latency_reset(struct xtel_latency *h)
{
	for (unsigned int g = 0; g < XTEL_LAT_GROUPS; g++)
		if (h->blocks[g])
			memset(h->blocks[g], 0, XTEL_LAT_SUB * sizeof(uint64_t));
	h->count = h->negative = h->overflow = h->alloc_failed = 0;
	h->sum = h->min = h->max = 0;
	memset(h->pages, 0, sizeof(h->pages));
}

/*
 * The statement after it runs for every page h->pages names whose group
 * has a block, in ascending bucket order: idx is the page's first bucket
 * index, b points at that bucket (continue: the next page).
 */
#define FOR_EACH_PAGE(h, idx, b)					\
	for (unsigned int w_ = 0; w_ < XTEL_LAT_PAGES / 64; w_++)	\
		for (uint64_t m_ = (h)->pages[w_]; m_; m_ &= m_ - 1)	\
			if (((idx) = (w_ * 64 + (unsigned int)__builtin_ctzll(m_)) \
				     << XTEL_LAT_PAGE_BITS),			\
			    ((b) = (h)->blocks[(idx) / XTEL_LAT_SUB]) != NULL && \
			    ((b) += (idx) % XTEL_LAT_SUB, 1))

unsigned int xtel_latency_bucket(uint64_t v)
{
	unsigned int e, g;

	if (v < XTEL_LAT_SUB)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v);	/* >= 6 */
	g = e - (XTEL_LAT_SUB_BITS - 1);
	return g * XTEL_LAT_SUB +
	       (unsigned int)((v >> (e - XTEL_LAT_SUB_BITS)) - XTEL_LAT_SUB);
}

uint64_t xtel_latency_bucket_mid(unsigned int idx)
{
	unsigned int g = idx / XTEL_LAT_SUB, sub = idx % XTEL_LAT_SUB;
	uint64_t width, lower;

	if (g == 0)
		return sub;
	width = 1ULL << (g - 1);
	lower = (uint64_t)(XTEL_LAT_SUB + sub) << (g - 1);
	return lower + (width - 1) / 2;
}

uint64_t xtel_latency_bucket_lower(unsigned int idx)
{
	unsigned int g = idx / XTEL_LAT_SUB, sub = idx % XTEL_LAT_SUB;

	return g == 0 ? sub : (uint64_t)(XTEL_LAT_SUB + sub) << (g - 1);
}

uint64_t xtel_latency_bucket_upper(unsigned int idx)
{
	unsigned int g = idx / XTEL_LAT_SUB;

	return xtel_latency_bucket_lower(idx) + (g == 0 ? 0 : (1ULL << (g - 1)) - 1);
}

static uint64_t *block_get(struct xtel_latency *h, unsigned int g)
{
	uint64_t *b = h->blocks[g];

	if (b)
		return b;
	b = calloc(XTEL_LAT_SUB, sizeof(uint64_t));
	if (!b)
		return NULL;
	__atomic_store_n(&h->blocks[g], b, __ATOMIC_RELEASE);
	h->groups |= 1ULL << g;
	return b;
}

int xtel_latency_record(struct xtel_latency *h, int64_t ns)
{
	uint64_t v, *b;
	unsigned int idx;

	if (ns < 0) {
		h->negative++;
		return 0;
	}
	v = (uint64_t)ns;
	if (v >= XTEL_LAT_OVERFLOW_NS) {
		h->overflow++;
	} else {
		idx = xtel_latency_bucket(v);
		b = block_get(h, idx / XTEL_LAT_SUB);
		if (!b) {
			h->alloc_failed++;
			return -ENOMEM;
		}
		b[idx % XTEL_LAT_SUB]++;
		xtel_latency_page_set(h, idx);
	}
	xtel_latency_totals_add(&h->count, &h->sum, &h->min, &h->max, v);
	return 0;
}

int xtel_latency_add_bucket(struct xtel_latency *h, unsigned int idx,
			    uint64_t n)
{
	uint64_t *b;

	if (idx >= XTEL_LAT_BUCKETS)
		return -EINVAL;
	b = block_get(h, idx / XTEL_LAT_SUB);
	if (!b)
		return -ENOMEM;
	b[idx % XTEL_LAT_SUB] += n;
	xtel_latency_page_set(h, idx);
	return 0;
}

/*
 * Two counts at a time (GCC/clang vector extension: SSE2 on x86-64,
 * plain code elsewhere): at -O2 the compiler leaves these page loops
 * scalar, one word an instruction or two. Loads and stores go through
 * memcpy, as a page need not be 16-byte aligned.
 */
typedef uint64_t u64x2 __attribute__((vector_size(16)));

enum { PAGE_N = 1u << XTEL_LAT_PAGE_BITS, PAGE_V = PAGE_N / 2 };

/* d += s over one page (dst and src are distinct histograms). */
static inline void page_add(uint64_t *d, const uint64_t *s)
{
#pragma GCC unroll 8
	for (unsigned int k = 0; k < PAGE_V; k++) {
		u64x2 x, y;

		memcpy(&x, d + 2 * k, sizeof(x));
		memcpy(&y, s + 2 * k, sizeof(y));
		x += y;
		memcpy(d + 2 * k, &x, sizeof(x));
	}
}

/* The samples in one page. */
static inline uint64_t page_sum(const uint64_t *b)
{
	u64x2 acc = { 0, 0 };

#pragma GCC unroll 8
	for (unsigned int k = 0; k < PAGE_V; k++) {
		u64x2 x;

		memcpy(&x, b + 2 * k, sizeof(x));
		acc += x;
	}
	return acc[0] + acc[1];
}

int xtel_latency_merge(struct xtel_latency *dst, const struct xtel_latency *src)
{
	const uint64_t *s;
	unsigned int idx;
	int err = 0;

	FOR_EACH_PAGE(src, idx, s) {
		uint64_t *d = block_get(dst, idx / XTEL_LAT_SUB);

		if (!d) {
			err = -ENOMEM;
			continue;
		}
		page_add(d + idx % XTEL_LAT_SUB, s);
		xtel_latency_page_set(dst, idx);
	}
	if (src->count) {
		if (dst->count == 0 || src->min < dst->min)
			dst->min = src->min;
		if (src->max > dst->max)
			dst->max = src->max;
	}
	dst->count += src->count;
	dst->negative += src->negative;
	dst->overflow += src->overflow;
	dst->alloc_failed += src->alloc_failed;
	dst->sum += src->sum;
	return err;
}

static uint64_t clamp(const struct xtel_latency *h, uint64_t v)
{
	if (v < h->min)
		return h->min;
	if (v > h->max)
		return h->max;
	return v;
}

/*
 * Walk the buckets once and resolve n ranks (ascending) at the same time.
 * Ranks that fall in the overflow bucket (after every regular bucket)
 * report max, which is the only value known there.
 */
static void quantiles(const struct xtel_latency *h, const double *q,
		      uint64_t *out, unsigned int n)
{
	uint64_t rank[8], seen = 0;
	const uint64_t *b;
	unsigned int k = 0, idx;

	for (unsigned int i = 0; i < n; i++) {
		double r = q[i] * (double)h->count;
		uint64_t ri = (uint64_t)r;

		if ((double)ri < r)
			ri++;			/* nearest rank: ceil(q * N) */
		if (ri < 1)
			ri = 1;
		if (ri > h->count)
			ri = h->count;
		rank[i] = ri;
		out[i] = 0;
	}
	if (h->count == 0)
		return;
	FOR_EACH_PAGE(h, idx, b) {
		/* a page that reaches no rank is passed by its sum, its
		 * buckets searched only where a rank lies */
		uint64_t in_page = page_sum(b);

		if (seen + in_page < rank[k]) {
			seen += in_page;
			continue;
		}
		for (unsigned int s = 0; s < (1u << XTEL_LAT_PAGE_BITS); s++) {
			if (!b[s])
				continue;
			seen += b[s];
			while (k < n && seen >= rank[k])
				out[k++] = clamp(h, xtel_latency_bucket_mid(idx + s));
			if (k == n)
				return;
		}
	}
	while (k < n)
		out[k++] = h->max;
}

uint64_t xtel_latency_quantile(const struct xtel_latency *h, double q)
{
	uint64_t v;

	quantiles(h, &q, &v, 1);
	return v;
}

void xtel_latency_summary(const struct xtel_latency *h,
			  struct xtel_lat_summary *out)
{
	static const double q[4] = { 0.50, 0.90, 0.99, 0.999 };
	uint64_t v[4];

	memset(out, 0, sizeof(*out));
	out->count = h->count;
	out->negative = h->negative;
	if (h->count == 0)
		return;
	out->min_ns = h->min;
	out->max_ns = h->max;
	out->sum_ns = h->sum;
	quantiles(h, q, v, 4);
	out->p50_ns = v[0];
	out->p90_ns = v[1];
	out->p99_ns = v[2];
	out->p999_ns = v[3];
}

size_t xtel_latency_encoded_max(const struct xtel_latency *h)
{
	/* per bucket: a gap (<= 2 bytes) and a count (<= 10 bytes) */
	return ((size_t)__builtin_popcountll(h->groups) * XTEL_LAT_SUB + 1) * 12;
}

size_t xtel_latency_encode(const struct xtel_latency *h, uint8_t *buf)
{
	const uint64_t *b;
	unsigned int first;
	size_t n = 0;
	long prev = -1;

	FOR_EACH_PAGE(h, first, b) {
		for (unsigned int s = 0; s < (1u << XTEL_LAT_PAGE_BITS); s++) {
			long idx = (long)(first + s);

			if (!b[s])
				continue;
			n += xtel_put_uleb128(buf + n, (uint64_t)(idx - prev - 1));
			n += xtel_put_uleb128(buf + n, b[s]);
			prev = idx;
		}
	}
	if (h->overflow) {
		n += xtel_put_uleb128(buf + n,
				(uint64_t)(XTEL_LAT_HIST_INDEX_OVERFLOW - prev - 1));
		n += xtel_put_uleb128(buf + n, h->overflow);
	}
	return n;
}
