// SPDX-License-Identifier: MIT
/*
 * Packed latency histogram (see latpack.h): pages of 64 buckets with 2- to
 * 64-bit counters, promoted when a counter would overflow, found through a
 * presence mask and a directory of tagged arena handles; expansion into
 * the dense struct xtel_latency readers use. The writer stores the words a
 * reader follows (directory entries) whole, with relaxed or release
 * atomics, so a reader's copy never holds half a handle.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "acct/latpack.h"
#include "common/bits.h"

static const uint8_t dir_caps[XTEL_LATP_DIR_CAPS] = {
	4, 8, 12, 16, 24, 32,
};

_Static_assert(XTEL_LATP_PAGES == 32, "mask holds 32 pages");
_Static_assert((int)XTEL_LATP_PAGE == (int)XTEL_LAT_SUB, "a page is one group");

enum {
	TAG_MASK = (1u << XTEL_LATP_TAG_BITS) - 1,
	WMAX = XTEL_LATP_WIDTHS - 1,		/* 64-bit counters */
};

/* 64 counters of 2 << w bits. */
static inline size_t page_bytes(unsigned int w)
{
	return (size_t)16 << w;
}

/* Present pages below p: p's directory position. */
static inline unsigned int rank(const struct xtel_latpack *h, unsigned int p)
{
	return xtel_popcount32(h->mask & ((1u << p) - 1));
}

static inline bool present(const struct xtel_latpack *h, unsigned int p)
{
	return h->mask >> p & 1;
}

static inline uint64_t page_get(const void *b, unsigned int w, unsigned int k)
{
	const uint8_t *q = b;

	switch (w) {
	case 0:
		return __atomic_load_n(q + k / 4, __ATOMIC_RELAXED) >> (k % 4 * 2) & 3;
	case 1:
		return __atomic_load_n(q + k / 2, __ATOMIC_RELAXED) >> (k % 2 * 4) & 15;
	case 2: return __atomic_load_n(q + k, __ATOMIC_RELAXED);
	case 3: return __atomic_load_n((const uint16_t *)b + k, __ATOMIC_RELAXED);
	case 4: return __atomic_load_n((const uint32_t *)b + k, __ATOMIC_RELAXED);
	default: return __atomic_load_n((const uint64_t *)b + k, __ATOMIC_RELAXED);
	}
}

/* Store v, which fits width w (the writer's: sub-byte counters are a
 * read-modify-write of their byte, which only the writer stores). */
static inline void page_set(void *b, unsigned int w, unsigned int k, uint64_t v)
{
	uint8_t *q = b;
	unsigned int sh;

	switch (w) {
	case 0:
		sh = k % 4 * 2;
		__atomic_store_n(q + k / 4, (uint8_t)((q[k / 4] & ~(3u << sh)) |
						      (unsigned int)v << sh),
				 __ATOMIC_RELAXED);
		break;
	case 1:
		sh = k % 2 * 4;
		__atomic_store_n(q + k / 2, (uint8_t)((q[k / 2] & ~(15u << sh)) |
						      (unsigned int)v << sh),
				 __ATOMIC_RELAXED);
		break;
	case 2:
		__atomic_store_n(q + k, (uint8_t)v, __ATOMIC_RELAXED);
		break;
	case 3:
		__atomic_store_n((uint16_t *)b + k, (uint16_t)v, __ATOMIC_RELAXED);
		break;
	case 4:
		__atomic_store_n((uint32_t *)b + k, (uint32_t)v, __ATOMIC_RELAXED);
		break;
	default:
		__atomic_store_n((uint64_t *)b + k, v, __ATOMIC_RELAXED);
	}
}

/*
 * All 64 counters of a page of width w, each loop for one width (a
 * promotion and a reader's expansion move whole pages: page_get() per
 * counter would decode the width 64 times).
 */
static void page_load_all(const void *b, unsigned int w, uint64_t *out)
{
	const uint8_t *q = b;

	switch (w) {
	case 0:
		for (unsigned int i = 0; i < XTEL_LATP_PAGE / 4; i++) {
			unsigned int x = __atomic_load_n(q + i, __ATOMIC_RELAXED);

			out[4 * i] = x & 3;
			out[4 * i + 1] = x >> 2 & 3;
			out[4 * i + 2] = x >> 4 & 3;
			out[4 * i + 3] = x >> 6;
		}
		break;
	case 1:
		for (unsigned int i = 0; i < XTEL_LATP_PAGE / 2; i++) {
			unsigned int x = __atomic_load_n(q + i, __ATOMIC_RELAXED);

			out[2 * i] = x & 15;
			out[2 * i + 1] = x >> 4;
		}
		break;
	case 2:
		for (unsigned int k = 0; k < XTEL_LATP_PAGE; k++)
			out[k] = __atomic_load_n(q + k, __ATOMIC_RELAXED);
		break;
	case 3:
		for (unsigned int k = 0; k < XTEL_LATP_PAGE; k++)
			out[k] = __atomic_load_n((const uint16_t *)b + k,
						 __ATOMIC_RELAXED);
		break;
	case 4:
		for (unsigned int k = 0; k < XTEL_LATP_PAGE; k++)
			out[k] = __atomic_load_n((const uint32_t *)b + k,
						 __ATOMIC_RELAXED);
		break;
	default:
		for (unsigned int k = 0; k < XTEL_LATP_PAGE; k++)
			out[k] = __atomic_load_n((const uint64_t *)b + k,
						 __ATOMIC_RELAXED);
	}
}

/* Fill a fresh page (not yet named by the directory: plain stores) of
 * width w >= 1 from v[], each of which fits w. */
static void page_store_all(void *b, unsigned int w, const uint64_t *v)
{
	uint8_t *q = b;

	switch (w) {
	case 1:
		for (unsigned int i = 0; i < XTEL_LATP_PAGE / 2; i++)
			q[i] = (uint8_t)(v[2 * i] | v[2 * i + 1] << 4);
		break;
	case 2:
		for (unsigned int k = 0; k < XTEL_LATP_PAGE; k++)
			q[k] = (uint8_t)v[k];
		break;
	case 3:
		for (unsigned int k = 0; k < XTEL_LATP_PAGE; k++)
			((uint16_t *)b)[k] = (uint16_t)v[k];
		break;
	case 4:
		for (unsigned int k = 0; k < XTEL_LATP_PAGE; k++)
			((uint32_t *)b)[k] = (uint32_t)v[k];
		break;
	default:
		for (unsigned int k = 0; k < XTEL_LATP_PAGE; k++)
			((uint64_t *)b)[k] = v[k];
	}
}

/* Does v need a wider counter than width w? */
static inline bool too_wide(unsigned int w, uint64_t v)
{
	return w != WMAX && v >> (2u << w);
}

/* The writer's address of the directory (h->dir != 0). */
static inline uint32_t *dir_of(const struct xtel_latpack *h,
			       const struct xtel_arena *a)
{
	return xtel_arena_ptr(a, h->dir);
}

/* A directory with room for one more entry than n. */
static int dir_room(struct xtel_latpack *h, struct xtel_arena *a,
		    unsigned int n)
{
	unsigned int code = h->dir ? h->dir_cap + 1u : 0;
	uint32_t nd, old = h->dir;
	void *p;

	if (h->dir && n < dir_caps[h->dir_cap])
		return 0;
	if (code >= XTEL_LATP_DIR_CAPS)
		return -ENOSPC;		/* cannot happen: 32 pages fit */
	nd = xtel_arena_alloc(a, dir_caps[code] * sizeof(uint32_t),
			      XTEL_ARENA_HIST, &p);
	if (!nd)
		return -ENOMEM;
	if (old)
		memcpy(p, xtel_arena_ptr(a, old), n * sizeof(uint32_t));
	/* Inside the write section: a reader that pairs the new handle
	 * with the old size (or the reverse) is rejected by its seq check,
	 * and xtel_arena_read() keeps it inside the arena meanwhile. */
	__atomic_store_n(&h->dir, nd, __ATOMIC_RELEASE);
	__atomic_store_n(&h->dir_cap, (uint8_t)code, __ATOMIC_RELAXED);
	if (old)
		xtel_arena_free(a, old, dir_caps[code - 1] * sizeof(uint32_t),
				XTEL_ARENA_HIST);
	return 0;
}

static inline uintptr_t hot_of(const struct xtel_arena *a, uint32_t ent)
{
	return (uintptr_t)xtel_arena_ptr(a, ent >> XTEL_LATP_TAG_BITS) |
	       (ent & TAG_MASK);
}

/*
 * Page p is new: a directory entry and a 2-bit page for it. Returns the
 * page as a hot value, or 0. Out of line: it happens once per page.
 */
static __attribute__((noinline)) uintptr_t page_new(struct xtel_latpack *h,
						      struct xtel_arena *a,
						      unsigned int p)
{
	unsigned int pos = rank(h, p), n = h->n_pages;
	uint32_t *dir, ph;
	void *page;

	if (dir_room(h, a, n))
		return 0;
	ph = xtel_arena_alloc(a, page_bytes(0), XTEL_ARENA_HIST, &page);
	if (!ph)
		return 0;
	dir = dir_of(h, a);
	/* A reader may see an entry torn by the move: it resolves handles
	 * through xtel_arena_read() and its seq check rejects the copy. */
	if (pos < n)		/* not the common append of a higher page */
		memmove(&dir[pos + 1], &dir[pos], (n - pos) * sizeof(*dir));
	/* The zeroed page is visible before the entry that names it. */
	__atomic_store_n(&dir[pos], ph << XTEL_LATP_TAG_BITS, __ATOMIC_RELEASE);
	__atomic_store_n(&h->mask, h->mask | 1u << p, __ATOMIC_RELAXED);
	h->n_pages = (uint8_t)(n + 1);
	return (uintptr_t)page;
}

/*
 * Bucket k of page p must hold v, which its width cannot: replace the
 * page by one wide enough (copying its counts), store v. Out of line: it
 * happens at most five times per page.
 */
static __attribute__((noinline)) int promote(struct xtel_latpack *h,
					     struct xtel_arena *a,
					     unsigned int p, unsigned int k,
					     uint64_t v)
{
	uint32_t *ent = &dir_of(h, a)[rank(h, p)];
	uint32_t old = *ent, nh;
	unsigned int ow = old & TAG_MASK, w = ow;
	const void *ob = xtel_arena_ptr(a, old >> XTEL_LATP_TAG_BITS);
	void *nb;

	do
		w++;
	while (too_wide(w, v));
	nh = xtel_arena_alloc(a, page_bytes(w), XTEL_ARENA_HIST, &nb);
	if (!nh)
		return -ENOMEM;
	uint64_t c[XTEL_LATP_PAGE];

	page_load_all(ob, ow, c);
	c[k] = v;
	page_store_all(nb, w, c);
	__atomic_store_n(ent, nh << XTEL_LATP_TAG_BITS | w, __ATOMIC_RELEASE);
	xtel_arena_free(a, old >> XTEL_LATP_TAG_BITS, page_bytes(ow),
			XTEL_ARENA_HIST);
	h->hot = (uintptr_t)nb | w;
	return 0;
}

/* The hot value of page p, made if new; 0 when out of memory. */
static inline __attribute__((always_inline)) uintptr_t
page_of(struct xtel_latpack *h, struct xtel_arena *a, unsigned int p)
{
	uintptr_t e;

	if (__builtin_expect(h->hot_page == p, 1))
		return h->hot;
	if (__builtin_expect(present(h, p), 1))
		e = hot_of(a, dir_of(h, a)[rank(h, p)]);
	else if (!(e = page_new(h, a, p)))
		return 0;
	h->hot = e;
	h->hot_page = (uint8_t)p;
	return e;
}

static int bump(struct xtel_latpack *h, struct xtel_arena *a, unsigned int idx,
		uint64_t n)
{
	unsigned int p = idx >> XTEL_LATP_PAGE_BITS;
	unsigned int k = idx & (XTEL_LATP_PAGE - 1);
	uintptr_t e = page_of(h, a, p);
	unsigned int w = e & TAG_MASK;
	void *b = (void *)(e & ~(uintptr_t)TAG_MASK);
	uint64_t v;

	if (!e)
		return -ENOMEM;
	v = page_get(b, w, k) + n;
	if (too_wide(w, v))
		return promote(h, a, p, k, v);
	page_set(b, w, k, v);
	return 0;
}

/* bump(h, a, idx, 1), the receive path's case. */
static inline __attribute__((always_inline)) int
bump_one(struct xtel_latpack *h, struct xtel_arena *a, unsigned int idx)
{
	unsigned int p = idx >> XTEL_LATP_PAGE_BITS;
	unsigned int k = idx & (XTEL_LATP_PAGE - 1);
	uintptr_t e = page_of(h, a, p);
	uint8_t *b = (uint8_t *)(e & ~(uintptr_t)TAG_MASK);
	unsigned int sh, w;

	if (!e)
		return -ENOMEM;
	/*
	 * A counter that is not at its width's maximum takes the +1 in place
	 * (a sub-byte one cannot carry out of its bits then). Tests, not a
	 * jump table, the widths of a long-lived client's busy pages first.
	 */
	w = e & TAG_MASK;
	if (w == 2) {
		if (__builtin_expect(b[k] != UINT8_MAX, 1)) {
			b[k]++;
			return 0;
		}
	} else if (w == 3) {
		if (__builtin_expect(((uint16_t *)b)[k] != UINT16_MAX, 1)) {
			((uint16_t *)b)[k]++;
			return 0;
		}
	} else if (w == 1) {
		sh = k % 2 * 4;
		if (__builtin_expect((b[k / 2] >> sh & 15) != 15, 1)) {
			b[k / 2] = (uint8_t)(b[k / 2] + (1u << sh));
			return 0;
		}
	} else if (w == 0) {
		sh = k % 4 * 2;
		if (__builtin_expect((b[k / 4] >> sh & 3) != 3, 1)) {
			b[k / 4] = (uint8_t)(b[k / 4] + (1u << sh));
			return 0;
		}
	} else if (w == 4) {
		if (__builtin_expect(((uint32_t *)b)[k] != UINT32_MAX, 1)) {
			((uint32_t *)b)[k]++;
			return 0;
		}
	} else {
		((uint64_t *)b)[k]++;
		return 0;
	}
	return promote(h, a, p, k, page_get(b, w, k) + 1);
}

void xtel_latpack_init(struct xtel_latpack *h)
{
	memset(h, 0, sizeof(*h));
	h->hot_page = XTEL_LATP_PAGES;
}

int xtel_latpack_record(struct xtel_latpack *h, struct xtel_arena *a,
			int64_t ns)
{
	uint64_t v;

	if (ns < 0) {
		h->negative++;
		return 0;
	}
	v = (uint64_t)ns;
	if (v >= XTEL_LAT_OVERFLOW_NS) {
		h->overflow++;
	} else if (bump_one(h, a, xtel_latency_bucket(v))) {
		h->alloc_failed++;
		return -ENOMEM;
	}
	xtel_latency_totals_add(&h->count, &h->sum, &h->min, &h->max, v);
	return 0;
}

int xtel_latpack_add_bucket(struct xtel_latpack *h, struct xtel_arena *a,
			    unsigned int idx, uint64_t n)
{
	if (idx >= XTEL_LAT_BUCKETS)
		return -EINVAL;
	return bump(h, a, idx, n);
}

void xtel_latpack_release(struct xtel_latpack *h, struct xtel_arena *a)
{
	if (h->dir) {
		const uint32_t *dir = dir_of(h, a);

		for (unsigned int i = 0; i < h->n_pages; i++)
			xtel_arena_free(a, dir[i] >> XTEL_LATP_TAG_BITS,
					page_bytes(dir[i] & TAG_MASK),
					XTEL_ARENA_HIST);
		xtel_arena_free(a, h->dir, dir_caps[h->dir_cap] * sizeof(uint32_t),
				XTEL_ARENA_HIST);
	}
	xtel_latpack_init(h);
}

/* The expanded histogram's pages (latency.h) are quarters of ours. */
enum {
	SUBPAGES = XTEL_LATP_PAGE >> XTEL_LAT_PAGE_BITS,
	QUARTER = XTEL_LATP_PAGE / SUBPAGES,	/* counters of a dense page */
};

/*
 * Whether any counter of quarter q of a page of width w is nonzero: its
 * 4 << w bytes read as words (a page is at least 16-byte aligned in the
 * arena), no counter decoded. A torn read only errs on a copy the
 * sequence check rejects.
 */
static bool quarter_any(const void *page, unsigned int w, unsigned int q)
{
	const uint64_t *v;
	uint64_t any = 0;

	if (w == 0)
		return __atomic_load_n((const uint32_t *)page + q, __ATOMIC_RELAXED);
	v = (const uint64_t *)page + ((size_t)q << (w - 1));
	for (unsigned int i = 0; i < 1u << (w - 1); i++)
		any |= __atomic_load_n(&v[i], __ATOMIC_RELAXED);
	return any;
}

/* The nonzero fields of bits bits (2 or 4) of x into out[], by position. */
static inline __attribute__((always_inline)) void
set_fields(uint64_t x, unsigned int bits, uint64_t *out)
{
	uint64_t mask = (1ull << bits) - 1;

	while (x) {
		unsigned int at = (unsigned int)__builtin_ctzll(x) & ~(bits - 1);

		out[at / bits] = x >> at & mask;
		x &= ~(mask << at);
	}
}

/*
 * The nonzero counters of quarter q of a page of width w into out[],
 * which is zero: the 2- and 4-bit widths (a client's first samples in an
 * octave) visit only the set fields of their one word, the wider ones
 * take all QUARTER.
 */
static void quarter_load(const void *page, unsigned int w, unsigned int q,
			 uint64_t *out)
{
	unsigned int k0 = q * QUARTER;
	uint64_t x;

	switch (w) {
	case 0:
		x = __atomic_load_n((const uint32_t *)page + q, __ATOMIC_RELAXED);
		set_fields(x, 2, out);
		break;
	case 1:
		x = __atomic_load_n((const uint64_t *)page + q, __ATOMIC_RELAXED);
		set_fields(x, 4, out);
		break;
	case 2:
		for (unsigned int k = 0; k < QUARTER; k++)
			out[k] = __atomic_load_n((const uint8_t *)page + k0 + k,
						 __ATOMIC_RELAXED);
		break;
	case 3:
		for (unsigned int k = 0; k < QUARTER; k++)
			out[k] = __atomic_load_n((const uint16_t *)page + k0 + k,
						 __ATOMIC_RELAXED);
		break;
	case 4:
		for (unsigned int k = 0; k < QUARTER; k++)
			out[k] = __atomic_load_n((const uint32_t *)page + k0 + k,
						 __ATOMIC_RELAXED);
		break;
	default:
		for (unsigned int k = 0; k < QUARTER; k++)
			out[k] = __atomic_load_n((const uint64_t *)page + k0 + k,
						 __ATOMIC_RELAXED);
	}
}

/*
 * A dense block cleared with 16-byte stores: the memset the compiler
 * would inline here is a rep stosq, 64 counted steps under callgrind.
 */
static inline void zero_block(uint64_t *b)
{
	typedef uint64_t u64x2 __attribute__((vector_size(16)));
	const u64x2 z = { 0, 0 };

#pragma GCC unroll 32
	for (unsigned int k = 0; k < XTEL_LAT_SUB / 2; k++)
		memcpy(b + 2 * k, &z, sizeof(z));
}

void xtel_latpack_expand(const struct xtel_latpack *h,
			 const struct xtel_arena *a, struct xtel_latency *out,
			 uint64_t *blocks)
{
	const uint32_t *dir;
	unsigned int cap, i = 0;

	memset(out, 0, sizeof(*out));
	out->count = h->count;
	out->negative = h->negative;
	out->overflow = h->overflow;
	out->alloc_failed = h->alloc_failed;
	out->sum = h->sum;
	out->min = h->min;
	out->max = h->max;
	if (!h->dir || h->dir_cap >= XTEL_LATP_DIR_CAPS)
		return;		/* empty, or torn: the seq check rejects it */
	cap = dir_caps[h->dir_cap];
	dir = xtel_arena_read(a, h->dir, cap * sizeof(uint32_t));
	if (!dir)
		return;
	for (uint32_t m = h->mask; m && i < cap; m &= m - 1) {
		unsigned int g = (unsigned int)__builtin_ctz(m);
		uint32_t e = __atomic_load_n(&dir[i++], __ATOMIC_ACQUIRE);
		unsigned int w = e & TAG_MASK;
		const void *page = w <= WMAX ?
			xtel_arena_read(a, e >> XTEL_LATP_TAG_BITS, page_bytes(w)) :
			NULL;
		uint64_t *b = blocks + (size_t)g * XTEL_LAT_SUB;

		if (!page)
			continue;	/* torn: the seq check rejects it */
		out->blocks[g] = b;
		out->groups |= 1ULL << g;
		/*
		 * The block zeroed in one go, then quarter by quarter: an
		 * empty one (most of a client's: a page spans an octave) is
		 * left as it is without decoding, and only the quarters that
		 * hold a count are named, as the dense form's writers do, so
		 * its walks skip the empty ones.
		 */
		zero_block(b);
		for (unsigned int q = 0; q < SUBPAGES; q++) {
			unsigned int sp = g * SUBPAGES + q;

			if (!quarter_any(page, w, q))
				continue;
			quarter_load(page, w, q, b + q * QUARTER);
			out->pages[sp / 64] |= 1ULL << (sp % 64);
		}
	}
}

uint64_t xtel_latpack_bytes(const struct xtel_latpack *h,
			    const struct xtel_arena *a)
{
	const uint32_t *dir;
	uint64_t bytes;

	if (!h->dir)
		return 0;
	dir = dir_of(h, a);
	bytes = (dir_caps[h->dir_cap] * sizeof(uint32_t) + XTEL_ARENA_UNIT - 1) /
		XTEL_ARENA_UNIT * XTEL_ARENA_UNIT;
	for (unsigned int i = 0; i < h->n_pages; i++)
		bytes += page_bytes(dir[i] & TAG_MASK);
	return bytes;
}
