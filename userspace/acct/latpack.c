// SPDX-License-Identifier: MIT
/*
 * Packed latency histogram (see latpack.h): pages of 16 buckets with 8- to
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

static const uint8_t dir_caps[XTEL_LATP_DIR_CAPS] = {
	4, 8, 12, 16, 24, 32, 48, 64, 96, 128,
};

_Static_assert(XTEL_LATP_PAGES == 128, "mask holds 128 pages");

static inline size_t page_bytes(unsigned int w)
{
	return (size_t)XTEL_LATP_PAGE << w;
}

/*
 * Without -mpopcnt (the build targets baseline x86-64) the builtin is a
 * libgcc call; this is a dozen instructions inline.
 */
static inline unsigned int popcount64(uint64_t x)
{
#ifdef __POPCNT__
	return (unsigned int)__builtin_popcountll(x);
#endif
	x -= (x >> 1) & 0x5555555555555555ULL;
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (unsigned int)((x * 0x0101010101010101ULL) >> 56);
}

/* Present pages below p: p's directory position. */
static inline unsigned int rank(const struct xtel_latpack *h, unsigned int p)
{
	uint64_t below = (1ULL << (p % 64)) - 1;

	if (p < 64)
		return popcount64(h->mask[0] & below);
	return popcount64(h->mask[0]) + popcount64(h->mask[1] & below);
}

static inline bool present(const struct xtel_latpack *h, unsigned int p)
{
	return h->mask[p / 64] >> (p % 64) & 1;
}

static inline uint64_t page_get(const void *b, unsigned int w, unsigned int k)
{
	switch (w) {
	case 0: return __atomic_load_n((const uint8_t *)b + k, __ATOMIC_RELAXED);
	case 1: return __atomic_load_n((const uint16_t *)b + k, __ATOMIC_RELAXED);
	case 2: return __atomic_load_n((const uint32_t *)b + k, __ATOMIC_RELAXED);
	default: return __atomic_load_n((const uint64_t *)b + k, __ATOMIC_RELAXED);
	}
}

/* Store v, which fits width w. */
static inline void page_set(void *b, unsigned int w, unsigned int k, uint64_t v)
{
	switch (w) {
	case 0:
		__atomic_store_n((uint8_t *)b + k, (uint8_t)v, __ATOMIC_RELAXED);
		break;
	case 1:
		__atomic_store_n((uint16_t *)b + k, (uint16_t)v, __ATOMIC_RELAXED);
		break;
	case 2:
		__atomic_store_n((uint32_t *)b + k, (uint32_t)v, __ATOMIC_RELAXED);
		break;
	default:
		__atomic_store_n((uint64_t *)b + k, v, __ATOMIC_RELAXED);
	}
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
		return -ENOSPC;		/* cannot happen: 128 pages fit */
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
	return (uintptr_t)xtel_arena_ptr(a, ent >> 2) | (ent & 3);
}

/*
 * Page p is new: a directory entry and an 8-bit page for it. Returns the
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
	__atomic_store_n(&dir[pos], ph << 2, __ATOMIC_RELEASE);
	__atomic_store_n(&h->mask[p / 64], h->mask[p / 64] | 1ULL << (p % 64),
			 __ATOMIC_RELAXED);
	h->n_pages = (uint8_t)(n + 1);
	return (uintptr_t)page;
}

/*
 * Bucket k of page p must hold v, which its width cannot: replace the
 * page by one wide enough (copying its counts), store v. Out of line: it
 * happens at most three times per page.
 */
static __attribute__((noinline)) int promote(struct xtel_latpack *h,
					     struct xtel_arena *a,
					     unsigned int p, unsigned int k,
					     uint64_t v)
{
	uint32_t *ent = &dir_of(h, a)[rank(h, p)];
	uint32_t old = *ent, nh;
	unsigned int w = old & 3;
	const void *ob = xtel_arena_ptr(a, old >> 2);
	void *nb;

	do
		w++;
	while (w < 3 && v >> (8u << w));
	nh = xtel_arena_alloc(a, page_bytes(w), XTEL_ARENA_HIST, &nb);
	if (!nh)
		return -ENOMEM;
	for (unsigned int i = 0; i < XTEL_LATP_PAGE; i++)
		page_set(nb, w, i, page_get(ob, old & 3, i));
	page_set(nb, w, k, v);
	__atomic_store_n(ent, nh << 2 | w, __ATOMIC_RELEASE);
	xtel_arena_free(a, old >> 2, page_bytes(old & 3), XTEL_ARENA_HIST);
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
	unsigned int w = e & 3;
	uint64_t v;

	if (!e)
		return -ENOMEM;
	v = page_get((void *)(e & ~(uintptr_t)3), w, k) + n;
	if (w != 3 && v >> (8u << w))
		return promote(h, a, p, k, v);
	page_set((void *)(e & ~(uintptr_t)3), w, k, v);
	return 0;
}

/* bump(h, a, idx, 1), the receive path's case: one test per width. */
static inline __attribute__((always_inline)) int
bump_one(struct xtel_latpack *h, struct xtel_arena *a, unsigned int idx)
{
	unsigned int p = idx >> XTEL_LATP_PAGE_BITS;
	unsigned int k = idx & (XTEL_LATP_PAGE - 1);
	uintptr_t e = page_of(h, a, p);
	void *b = (void *)(e & ~(uintptr_t)3);

	if (!e)
		return -ENOMEM;
	/* Tests, not a jump table: most pages of most clients are 8-bit. */
	if ((e & 3) == 0) {
		if (__builtin_expect(((uint8_t *)b)[k] != UINT8_MAX, 1)) {
			((uint8_t *)b)[k]++;
			return 0;
		}
	} else if ((e & 3) == 1) {
		if (__builtin_expect(((uint16_t *)b)[k] != UINT16_MAX, 1)) {
			((uint16_t *)b)[k]++;
			return 0;
		}
	} else if ((e & 3) == 2) {
		if (__builtin_expect(((uint32_t *)b)[k] != UINT32_MAX, 1)) {
			((uint32_t *)b)[k]++;
			return 0;
		}
	} else {
		((uint64_t *)b)[k]++;
		return 0;
	}
	return promote(h, a, p, k, page_get(b, e & 3, k) + 1);
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
			xtel_arena_free(a, dir[i] >> 2, page_bytes(dir[i] & 3),
					XTEL_ARENA_HIST);
		xtel_arena_free(a, h->dir, dir_caps[h->dir_cap] * sizeof(uint32_t),
				XTEL_ARENA_HIST);
	}
	xtel_latpack_init(h);
}

_Static_assert((int)XTEL_LATP_PAGE_BITS == (int)XTEL_LAT_PAGE_BITS,
	       "the expanded histogram names the packed pages");

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
	for (unsigned int word = 0; word < 2; word++) {
		for (uint64_t m = h->mask[word]; m && i < cap; m &= m - 1) {
			unsigned int p = word * 64 + (unsigned int)__builtin_ctzll(m);
			unsigned int g = p / (XTEL_LAT_SUB / XTEL_LATP_PAGE);
			uint32_t e = __atomic_load_n(&dir[i++], __ATOMIC_ACQUIRE);
			const void *page = xtel_arena_read(a, e >> 2,
							   page_bytes(e & 3));
			uint64_t *b;

			if (!page)
				continue;
			b = blocks + (size_t)g * XTEL_LAT_SUB;
			if (!out->blocks[g]) {
				memset(b, 0, XTEL_LAT_SUB * sizeof(uint64_t));
				out->blocks[g] = b;
				out->groups |= 1ULL << g;
			}
			b += (p % (XTEL_LAT_SUB / XTEL_LATP_PAGE)) * XTEL_LATP_PAGE;
			out->pages[p / 64] |= 1ULL << (p % 64);
			for (unsigned int k = 0; k < XTEL_LATP_PAGE; k++)
				b[k] = page_get(page, e & 3, k);
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
		bytes += page_bytes(dir[i] & 3);
	return bytes;
}
