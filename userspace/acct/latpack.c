// SPDX-License-Identifier: MIT
/*
 * Packed latency histogram (see latpack.h): pages of 16 buckets with 8- to
 * 64-bit counters, promoted when a counter would overflow, listed in a
 * sorted directory; expansion into the dense struct xtel_latency readers
 * use. The writer stores every word a reader may follow (directory
 * entries, the directory and page pointers) whole, with relaxed or release
 * atomics, so a reader's word copy never sees half a pointer.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "acct/latpack.h"

static inline size_t page_bytes(unsigned int w)
{
	return (size_t)XTEL_LATP_PAGE << w;
}

static inline unsigned int dir_cap(uintptr_t dir)
{
	return XTEL_LATP_DIR_MIN << (dir & XTEL_LATP_TAG);
}

static inline size_t dir_bytes(unsigned int cap)
{
	return (size_t)cap * (sizeof(uintptr_t) + 1);
}

static inline uintptr_t *dir_ent(uintptr_t dir)
{
	return (uintptr_t *)(dir & ~(uintptr_t)XTEL_LATP_TAG);
}

/* The page index bytes follow the entries. */
static inline uint8_t *dir_idx(uintptr_t dir)
{
	return (uint8_t *)(dir_ent(dir) + dir_cap(dir));
}

static inline void *page_base(uintptr_t e)
{
	return (void *)(e & ~(uintptr_t)XTEL_LATP_TAG);
}

static inline uint64_t page_get(uintptr_t e, unsigned int k)
{
	const void *b = page_base(e);

	switch (e & 3) {
	case 0: return __atomic_load_n((const uint8_t *)b + k, __ATOMIC_RELAXED);
	case 1: return __atomic_load_n((const uint16_t *)b + k, __ATOMIC_RELAXED);
	case 2: return __atomic_load_n((const uint32_t *)b + k, __ATOMIC_RELAXED);
	default: return __atomic_load_n((const uint64_t *)b + k, __ATOMIC_RELAXED);
	}
}

/* Store v, which fits e's width. */
static inline void page_set(uintptr_t e, unsigned int k, uint64_t v)
{
	void *b = page_base(e);

	switch (e & 3) {
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

/* Position of page p in the directory, or where it would go. */
static unsigned int dir_find(const struct xtel_latpack *h, unsigned int p,
			     bool *found)
{
	const uint8_t *idx = dir_idx(h->dir);
	unsigned int lo = 0, hi = h->n;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (idx[mid] < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < h->n && idx[lo] == p;
	return lo;
}

/* A directory with room for one more entry. */
static int dir_room(struct xtel_latpack *h, struct xtel_arena *a)
{
	unsigned int cap = h->dir ? dir_cap(h->dir) : 0, ncap, code = 0;
	uintptr_t nd;

	if (h->n < cap)
		return 0;
	ncap = cap ? cap * 2 : XTEL_LATP_DIR_MIN;
	while ((unsigned int)XTEL_LATP_DIR_MIN << code < ncap)
		code++;
	nd = (uintptr_t)xtel_arena_alloc(a, dir_bytes(ncap), XTEL_ARENA_HIST);
	if (!nd)
		return -ENOMEM;
	nd |= code;
	if (h->dir) {
		memcpy(dir_ent(nd), dir_ent(h->dir), h->n * sizeof(uintptr_t));
		memcpy(dir_idx(nd), dir_idx(h->dir), h->n);
	}
	/* The copy is complete before a reader can follow nd. */
	if (h->dir) {
		uintptr_t old = h->dir;

		__atomic_store_n(&h->dir, nd, __ATOMIC_RELEASE);
		xtel_arena_free(a, dir_ent(old), dir_bytes(cap), XTEL_ARENA_HIST);
	} else {
		__atomic_store_n(&h->dir, nd, __ATOMIC_RELEASE);
	}
	return 0;
}

/* The directory entry of page p, made (with an 8-bit page) if new. */
static uintptr_t *page_slot(struct xtel_latpack *h, struct xtel_arena *a,
			    unsigned int p)
{
	uintptr_t *ent, e;
	uint8_t *idx;
	unsigned int pos;
	bool found = false;

	if (h->dir) {
		pos = dir_find(h, p, &found);
		if (found)
			return &dir_ent(h->dir)[pos];
	}
	if (dir_room(h, a))
		return NULL;
	pos = dir_find(h, p, &found);
	e = (uintptr_t)xtel_arena_alloc(a, page_bytes(0), XTEL_ARENA_HIST);
	if (!e)
		return NULL;
	ent = dir_ent(h->dir);
	idx = dir_idx(h->dir);
	/* Entries move up one by one, each a whole-word store. */
	for (unsigned int i = h->n; i > pos; i--) {
		__atomic_store_n(&ent[i], ent[i - 1], __ATOMIC_RELAXED);
		__atomic_store_n(&idx[i], idx[i - 1], __ATOMIC_RELAXED);
	}
	__atomic_store_n(&idx[pos], (uint8_t)p, __ATOMIC_RELAXED);
	/* The zeroed page is visible before the entry that leads to it. */
	__atomic_store_n(&ent[pos], e, __ATOMIC_RELEASE);
	__atomic_store_n(&h->n, (uint16_t)(h->n + 1), __ATOMIC_RELAXED);
	return &ent[pos];
}

/* Replace *slot's page by one wide enough for v (copying its counts). */
static int promote(struct xtel_arena *a, uintptr_t *slot, uint64_t v)
{
	uintptr_t old = *slot, e;
	unsigned int w = old & 3;

	do
		w++;
	while (w < 3 && v >> (8u << w));
	e = (uintptr_t)xtel_arena_alloc(a, page_bytes(w), XTEL_ARENA_HIST);
	if (!e)
		return -ENOMEM;
	e |= w;
	for (unsigned int k = 0; k < XTEL_LATP_PAGE; k++)
		page_set(e, k, page_get(old, k));
	__atomic_store_n(slot, e, __ATOMIC_RELEASE);
	xtel_arena_free(a, page_base(old), page_bytes(old & 3), XTEL_ARENA_HIST);
	return 0;
}

static int bump(struct xtel_latpack *h, struct xtel_arena *a, unsigned int idx,
		uint64_t n)
{
	unsigned int p = idx >> XTEL_LATP_PAGE_BITS;
	unsigned int k = idx & (XTEL_LATP_PAGE - 1);
	uintptr_t e = h->hot, *slot = NULL;
	uint64_t v;

	if (!e || h->hot_page != p) {
		slot = page_slot(h, a, p);
		if (!slot)
			return -ENOMEM;
		e = *slot;
		h->hot = e;
		h->hot_page = (uint8_t)p;
	}
	v = page_get(e, k) + n;
	if ((e & 3) != 3 && v >> (8u << (e & 3))) {
		if (!slot) {
			bool found;

			slot = &dir_ent(h->dir)[dir_find(h, p, &found)];
		}
		if (promote(a, slot, v))
			return -ENOMEM;
		e = h->hot = *slot;
	}
	page_set(e, k, v);
	return 0;
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
	} else if (bump(h, a, xtel_latency_bucket(v), 1)) {
		h->alloc_failed++;
		return -ENOMEM;
	}
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
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
		const uintptr_t *ent = dir_ent(h->dir);

		for (unsigned int i = 0; i < h->n; i++)
			xtel_arena_free(a, page_base(ent[i]),
					page_bytes(ent[i] & 3), XTEL_ARENA_HIST);
		xtel_arena_free(a, dir_ent(h->dir), dir_bytes(dir_cap(h->dir)),
				XTEL_ARENA_HIST);
	}
	memset(h, 0, sizeof(*h));
}

void xtel_latpack_expand(const struct xtel_latpack *h, struct xtel_latency *out,
			 uint64_t *blocks)
{
	uintptr_t dir = h->dir;
	unsigned int n = h->n;

	memset(out, 0, sizeof(*out));
	out->count = h->count;
	out->negative = h->negative;
	out->overflow = h->overflow;
	out->alloc_failed = h->alloc_failed;
	out->sum = h->sum;
	out->min = h->min;
	out->max = h->max;
	if (!dir)
		return;
	if ((dir & XTEL_LATP_TAG) > 5)
		return;		/* torn: the sequence check rejects it */
	if (n > dir_cap(dir))
		n = dir_cap(dir);
	for (unsigned int i = 0; i < n; i++) {
		uintptr_t e = __atomic_load_n(&dir_ent(dir)[i], __ATOMIC_ACQUIRE);
		unsigned int p = __atomic_load_n(&dir_idx(dir)[i],
						 __ATOMIC_RELAXED);
		unsigned int g = p / (XTEL_LAT_SUB / XTEL_LATP_PAGE);
		uint64_t *b;

		if (!e || p >= XTEL_LATP_PAGES)
			continue;
		b = blocks + (size_t)g * XTEL_LAT_SUB;
		if (!out->blocks[g]) {
			memset(b, 0, XTEL_LAT_SUB * sizeof(uint64_t));
			out->blocks[g] = b;
			out->groups |= 1ULL << g;
		}
		b += (p % (XTEL_LAT_SUB / XTEL_LATP_PAGE)) * XTEL_LATP_PAGE;
		for (unsigned int k = 0; k < XTEL_LATP_PAGE; k++)
			b[k] += page_get(e, k);
	}
}

uint64_t xtel_latpack_bytes(const struct xtel_latpack *h)
{
	uint64_t bytes = 0;

	if (!h->dir)
		return 0;
	bytes = (dir_bytes(dir_cap(h->dir)) + XTEL_ARENA_UNIT - 1) /
		XTEL_ARENA_UNIT * XTEL_ARENA_UNIT;
	for (unsigned int i = 0; i < h->n; i++)
		bytes += page_bytes(dir_ent(h->dir)[i] & 3);
	return bytes;
}
