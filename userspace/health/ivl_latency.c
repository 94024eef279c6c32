// SPDX-License-Identifier: MIT
/*
 * Interval quantiles from the difference of two cumulative histograms
 * (ivl_latency.h): the previous copy first takes room for the pages cur
 * gained (one allocation), then one walk over cur's pages differences
 * each against the copy and stores cur into it, nearest rank, the bucket
 * midpoint as the value (the overflow bucket reports the histogram's max).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/bits.h"
#include "health/ivl_latency.h"

enum {
	NQ = 4,
	PAGE = 1u << XTEL_LAT_PAGE_BITS,	/* buckets a page */
	NW = XTEL_LAT_PAGES / 64,		/* words of a page mask */
};

_Static_assert(sizeof(struct xtel_health_lat_prev) == 32,
	       "a client's previous copy is 32 bytes and its blocks");
_Static_assert(XTEL_HEALTH_LAT_WIDE < 4, "a width fits 2 bits");

void xtel_health_lat_prev_destroy(struct xtel_health_lat_prev *p)
{
	free(p->blk);
	xtel_health_lat_prev_init(p);
}

static unsigned int n_pages(const uint64_t *pages)
{
	unsigned int n = 0;

	for (unsigned int w = 0; w < NW; w++)
		n += xtel_popcount64(pages[w]);
	return n;
}

/* Bytes of one page's counts in p. */
static size_t page_bytes(const struct xtel_health_lat_prev *p)
{
	return PAGE << p->width;
}

/* The samples an interval may bring to a copy of width w (exact below). */
static uint64_t width_max(unsigned int w)
{
	return (1ull << (8u << w)) - 1;
}

/* The narrowest width whose range holds 64 intervals of total samples. */
static unsigned int width_for(uint64_t total)
{
	unsigned int w = 0;

	while (w < XTEL_HEALTH_LAT_WIDE && total * 64 > width_max(w))
		w++;
	return w;
}

size_t xtel_health_lat_prev_bytes(const struct xtel_health_lat_prev *p)
{
	return sizeof(*p) + n_pages(p->pages) * page_bytes(p);
}

/*
 * Give p every page of want it lacks (zero counts), keeping its own in
 * place: a new span of latency, rare after a client's first intervals.
 */
static int prev_grow(struct xtel_health_lat_prev *p, const uint64_t *want)
{
	uint64_t all[NW];
	size_t pb = page_bytes(p);
	unsigned int n = 0, from = 0;
	unsigned char *blk;
	bool more = false;

	for (unsigned int w = 0; w < NW; w++) {
		all[w] = p->pages[w] | want[w];
		more |= all[w] != p->pages[w];
	}
	if (!more)
		return 0;
	blk = malloc(n_pages(all) * pb);
	if (!blk)
		return -ENOMEM;
	for (unsigned int w = 0; w < NW; w++) {
		for (uint64_t m = all[w]; m; m &= m - 1, n++) {
			uint64_t bit = m & -m;

			if (p->pages[w] & bit)
				memcpy(blk + n * pb, (unsigned char *)p->blk +
				       from++ * pb, pb);
			else
				memset(blk + n * pb, 0, pb);
		}
	}
	free(p->blk);
	p->blk = blk;
	memcpy(p->pages, all, sizeof(all));
	return 0;
}

/* The interval's search: ranks to reach, where they are written. */
struct search {
	uint64_t rank[NQ], cum;
	/*
	 * Samples of the interval not yet met in a page (UINT64_MAX: the
	 * differences are not exact, or not counted). Every bucket's
	 * difference is exact and they add up to at most the interval's
	 * total, so at 0 every page left is unchanged, prev equal to cur
	 * there already: the walk stops (one new sample: a page or two).
	 */
	uint64_t left;
	double *dst[NQ];
	uint16_t *idx[NQ];
	unsigned int next;	/* NQ: nothing to find, only copy */
	bool have_min;
	struct xtel_health_ivl_lat *out;
};

/* d[0..PAGE-1]: the page's new samples, from bucket idx on. */
static void search_page(struct search *st, const uint32_t *d, unsigned int idx)
{
	for (unsigned int s = 0; s < PAGE && st->next < NQ; s++) {
		if (!d[s])
			continue;
		st->cum += d[s];
		if (!st->have_min || st->cum >= st->rank[st->next]) {
			double mid = (double)xtel_latency_bucket_mid(idx + s) / 1e6;

			if (!st->have_min) {
				st->out->min_ms = mid;
				st->out->idx[XTEL_HEALTH_IVL_MIN] = (uint16_t)(idx + s);
				st->have_min = true;
			}
			while (st->next < NQ && st->cum >= st->rank[st->next]) {
				*st->idx[st->next] = (uint16_t)(idx + s);
				*st->dst[st->next++] = mid;
			}
		}
	}
}

/*
 * One pass over prev's pages, which hold cur's (a page no sample reached
 * is zero in cur and in prev, which is cur's copy), counting their
 * positions on the way: the difference modulo the copy's width, and prev
 * takes cur's count (prev is ours alone, so it needs no release store).
 * A page is first differenced and copied whole (loops the compiler
 * vectorises), then searched only if something landed in it. Pages prev
 * could not make are skipped (-ENOMEM).
 */
/*
 * The page's differences modulo T's range, cur's counts into pb, all in
 * T (one type: a loop the compiler vectorises); d takes them only when
 * something landed there and something is still to find.
 */
#define DIFF_PAGE(T)							\
	do {								\
		T *pb = (T *)prev->blk + at, dt[PAGE], any = 0;		\
		uint32_t c32[PAGE];					\
		uint64_t sum = 0;					\
									\
		for (unsigned int s = 0; s < PAGE; s++)			\
			c32[s] = (uint32_t)cb[s];			\
		for (unsigned int s = 0; s < PAGE; s++) {		\
			T c = (T)c32[s];				\
									\
			dt[s] = (T)(c - pb[s]);				\
			pb[s] = c;					\
			any |= dt[s];					\
		}							\
		if (!any)						\
			break;						\
		for (unsigned int s = 0; s < PAGE; s++)			\
			sum += d[s] = dt[s];				\
		if (st->left != UINT64_MAX)				\
			st->left -= sum < st->left ? sum : st->left;	\
		if (st->next == NQ)					\
			break;						\
		/* a page past the minimum that reaches no rank: its	\
		 * sum, not its buckets */				\
		if (st->have_min && st->cum + sum < st->rank[st->next]) { \
			st->cum += sum;					\
			break;						\
		}							\
		search_page(st, d, idx);				\
	} while (0)

static int walk(struct xtel_health_lat_prev *prev, const struct xtel_latency *cur,
		struct search *st)
{
	unsigned int at = 0;	/* the page's first count in prev->blk */
	int err = 0;

	for (unsigned int w = 0; w < NW; w++)
		if (cur->pages[w] & ~prev->pages[w])
			err = -ENOMEM;
	for (unsigned int w = 0; w < NW && st->left; w++) {
		uint64_t has = cur->pages[w];

		for (uint64_t m = prev->pages[w]; m && st->left;
		     m &= m - 1, at += PAGE) {
			unsigned int pg = w * 64 + (unsigned int)__builtin_ctzll(m);
			unsigned int idx = pg << XTEL_LAT_PAGE_BITS;
			const uint64_t *cb = cur->blocks[idx / XTEL_LAT_SUB];
			uint32_t d[PAGE];

			if (!(has & (m & -m)) || !cb)
				continue;
			cb += idx % XTEL_LAT_SUB;
			switch (prev->width) {
			case 0:
				DIFF_PAGE(uint8_t);
				break;
			case 1:
				DIFF_PAGE(uint16_t);
				break;
			default:
				DIFF_PAGE(uint32_t);
				break;
			}
		}
	}
	return err;
}

int xtel_health_ivl_latency(struct xtel_health_lat_prev *prev,
			    const struct xtel_latency *cur,
			    struct xtel_health_ivl_lat *out)
{
	static const double q[NQ] = { 0.10, 0.50, 0.90, 0.99 };
	struct search st = { .left = UINT64_MAX,
			     .dst = { &out->p10_ms, &out->p50_ms,
				      &out->p90_ms, &out->p99_ms },
			     .idx = { &out->idx[XTEL_HEALTH_IVL_P10],
				      &out->idx[XTEL_HEALTH_IVL_P50],
				      &out->idx[XTEL_HEALTH_IVL_P90],
				      &out->idx[XTEL_HEALTH_IVL_P99] },
			     .out = out };
	uint64_t total;
	bool lost = false;
	int err = 0;

	memset(out, 0, sizeof(*out));
	total = cur->count > prev->count ? cur->count - prev->count : 0;
	/*
	 * Nothing new since the previous view (a histogram only grows, and
	 * every sample counts): prev holds cur already, if it has every
	 * page cur has (a page it could not make last time is made now).
	 */
	if (!total && cur->count == prev->count &&
	    !(cur->pages[0] & ~prev->pages[0]) && !(cur->pages[1] & ~prev->pages[1]))
		return 0;
	/* the first interval sets the width (prev is empty) */
	if (!prev->blk)
		prev->width = width_for(total) & 3;
	/* more than the copy's width can tell apart: copy only */
	if (total > width_max(prev->width)) {
		lost = true;
		total = 0;
	}
	out->count = total;
	if (total) {
		st.left = total;
		for (unsigned int k = 0; k < NQ; k++) {
			st.rank[k] = (uint64_t)ceil(q[k] * (double)total);
			if (st.rank[k] < 1)
				st.rank[k] = 1;
		}
	} else {
		st.next = NQ;
	}
	if (prev_grow(prev, cur->pages))
		err = -ENOMEM;
	if (walk(prev, cur, &st))
		err = -ENOMEM;
	if (total) {
		/* the rest landed in the overflow bucket */
		out->max_ns = cur->max;
		for (; st.next < NQ; st.next++) {
			*st.idx[st.next] = XTEL_LAT_BUCKETS;
			*st.dst[st.next] = (double)cur->max / 1e6;
		}
		if (!st.have_min) {
			out->idx[XTEL_HEALTH_IVL_MIN] = XTEL_LAT_BUCKETS;
			out->min_ms = (double)cur->max / 1e6;
		}
	}
	if (prev->width < XTEL_HEALTH_LAT_WIDE &&
	    (lost || width_for(total) > prev->width)) {
		/* a faster client: its copy is made again from cur, wider */
		struct search none = { .next = NQ, .left = UINT64_MAX };
		unsigned int w = width_for(lost ? cur->count - prev->count : total);

		free(prev->blk);
		prev->blk = NULL;
		memset(prev->pages, 0, sizeof(prev->pages));
		if (w <= prev->width)	/* already 32-bit: 4 billion at once */
			w = XTEL_HEALTH_LAT_WIDE;
		prev->width = w & 3;
		if (prev_grow(prev, cur->pages) || walk(prev, cur, &none))
			err = -ENOMEM;
	}
	prev->count = cur->count;
	return err ? err : lost ? -ERANGE : 0;
}
