// SPDX-License-Identifier: MIT
/*
 * Block arena of a registry (see arena.h): bump allocation from chunks,
 * one doubly linked free list per block size (linked through the blocks'
 * first words, as handles), freed neighbours merged, larger free blocks
 * split when a size has none, chunks freed only at the end.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "acct/arena.h"

enum { UNITS = 1 << XTEL_ARENA_UNIT_BITS };

int xtel_arena_init(struct xtel_arena *a, uint64_t max_bytes)
{
	uint64_t n = (max_bytes + XTEL_ARENA_CHUNK - 1) / XTEL_ARENA_CHUNK;

	memset(a, 0, sizeof(*a));
	if (n < 1)
		n = 1;
	if (n > XTEL_ARENA_MAX_CHUNKS)
		n = XTEL_ARENA_MAX_CHUNKS;
	a->chunk = calloc(n, sizeof(*a->chunk));
	if (!a->chunk)
		return -ENOMEM;
	a->max_chunks = (uint32_t)n;
	return 0;
}

void xtel_arena_destroy(struct xtel_arena *a)
{
	for (uint32_t i = 0; i < a->n_chunks; i++)
		free(a->chunk[i]);
	free(a->chunk);
	memset(a, 0, sizeof(*a));
}

static void count(struct xtel_arena *a, enum xtel_arena_use use, int64_t d)
{
	__atomic_store_n(&a->live[use], a->live[use] + (uint64_t)d,
			 __ATOMIC_RELAXED);
}

/*
 * A free block: its first three words are the next and previous handles
 * of its list and its size in units, its last word the size again (so
 * the block after it finds its start). The chunk's head holds a bitmap of
 * its free units (RESERVED units, never handed out), which is what tells
 * a freed block whether its neighbours are free: they are merged with it,
 * so free blocks never touch and a size freed stays usable for any size.
 */
enum { RESERVED = XTEL_ARENA_RESERVED };

struct free_hdr {
	uint32_t next, prev, units;
};

static inline struct free_hdr *hdr(const struct xtel_arena *a, uint32_t h)
{
	return xtel_arena_ptr(a, h);
}

static inline uint32_t *footer(const struct xtel_arena *a, uint32_t h,
			       uint32_t units)
{
	return (uint32_t *)((uint8_t *)xtel_arena_ptr(a, h) +
			    (size_t)units * XTEL_ARENA_UNIT) - 1;
}

static inline uint64_t *freemap(const struct xtel_arena *a, uint32_t h)
{
	return (uint64_t *)a->chunk[h >> XTEL_ARENA_UNIT_BITS];
}

static inline bool unit_free(const struct xtel_arena *a, uint32_t h)
{
	uint32_t u = h & (UNITS - 1);

	return freemap(a, h)[u / 64] >> (u % 64) & 1;
}

/* Set (on) or clear the free bits of units h..h+units-1 (one chunk). */
static void mark(struct xtel_arena *a, uint32_t h, uint32_t units, bool on)
{
	uint64_t *map = freemap(a, h);
	uint32_t u = h & (UNITS - 1);

	while (units) {
		uint32_t bit = u % 64, take = 64 - bit < units ? 64 - bit : units;
		uint64_t m = take == 64 ? ~0ULL : ((1ULL << take) - 1) << bit;

		if (on)
			map[u / 64] |= m;
		else
			map[u / 64] &= ~m;
		u += take;
		units -= take;
	}
}

static inline uint32_t class_of(uint32_t units)
{
	return units < XTEL_ARENA_CLASSES - 1 ? units : XTEL_ARENA_CLASSES - 1;
}

static void push(struct xtel_arena *a, uint32_t h, uint32_t units)
{
	uint32_t c = class_of(units);
	struct free_hdr *f = hdr(a, h);

	f->next = a->free[c];
	f->prev = 0;
	f->units = units;
	*footer(a, h, units) = units;
	if (a->free[c])
		hdr(a, a->free[c])->prev = h;
	a->free[c] = h;
	a->nonempty[c / 64] |= 1ULL << (c % 64);
	mark(a, h, units, true);
}

/* Take free block h off its list (its free bits stay: callers set them). */
static void unlink_block(struct xtel_arena *a, uint32_t h)
{
	struct free_hdr *f = hdr(a, h);
	uint32_t c = class_of(f->units);

	if (f->prev)
		hdr(a, f->prev)->next = f->next;
	else
		a->free[c] = f->next;
	if (f->next)
		hdr(a, f->next)->prev = f->prev;
	if (!a->free[c])
		a->nonempty[c / 64] &= ~(1ULL << (c % 64));
}

/* Take free block h (of at least units) for units, the rest back. */
static uint32_t take_block(struct xtel_arena *a, uint32_t h, uint32_t units)
{
	uint32_t have = hdr(a, h)->units;

	unlink_block(a, h);
	mark(a, h, have, false);
	if (have > units)	/* its neighbours are in use: no merge */
		push(a, h + units, have - units);
	return h;
}

/* The smallest class > units with a free block, or 0. */
static uint32_t larger_free(const struct xtel_arena *a, uint32_t units)
{
	if (!(a->nonempty[0] | a->nonempty[1] | a->nonempty[2]))
		return 0;
	for (uint32_t w = (units + 1) / 64; w < sizeof(a->nonempty) / 8; w++) {
		uint64_t m = a->nonempty[w];

		if (w == (units + 1) / 64)
			m &= ~0ULL << ((units + 1) % 64);
		if (m)
			return w * 64 + (uint32_t)__builtin_ctzll(m);
	}
	return 0;
}

static uint32_t carve(struct xtel_arena *a, uint32_t units)
{
	uint32_t big, h;
	uint8_t *p;

	/* Freed blocks first (a directory that grew leaves its old block
	 * behind, which pages of other clients then use), then fresh space. */
	big = larger_free(a, units);
	if (big)
		return take_block(a, a->free[big], units);
	if (a->n_chunks && a->next_unit + units <= UNITS) {
		h = (a->n_chunks - 1) << XTEL_ARENA_UNIT_BITS | a->next_unit;
		a->next_unit += units;
		return h;
	}
	if (a->n_chunks == a->max_chunks)
		return 0;
	p = aligned_alloc(XTEL_ARENA_UNIT, XTEL_ARENA_CHUNK);
	if (!p)
		return 0;
	memset(p, 0, (size_t)RESERVED * XTEL_ARENA_UNIT);	/* no unit free */
	/* The newest chunk's tail goes to the free lists, not to waste. */
	if (a->n_chunks && a->next_unit < UNITS) {
		push(a, (a->n_chunks - 1) << XTEL_ARENA_UNIT_BITS | a->next_unit,
		     UNITS - a->next_unit);
		a->next_unit = UNITS;
	}
	__atomic_store_n(&a->chunk[a->n_chunks], p, __ATOMIC_RELAXED);
	/* The bitmap's units are never handed out: handle 0 means none. */
	a->next_unit = RESERVED;
	__atomic_store_n(&a->n_chunks, a->n_chunks + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&a->chunk_bytes, a->chunk_bytes + XTEL_ARENA_CHUNK,
			 __ATOMIC_RELAXED);
	h = (a->n_chunks - 1) << XTEL_ARENA_UNIT_BITS | a->next_unit;
	a->next_unit += units;
	return h;
}

uint32_t xtel_arena_alloc(struct xtel_arena *a, size_t size,
			  enum xtel_arena_use use, void **ptr)
{
	uint32_t units = (uint32_t)((size + XTEL_ARENA_UNIT - 1) /
				    XTEL_ARENA_UNIT);
	uint32_t h;

	if (units == 0 || size > XTEL_ARENA_MAX)
		return 0;
	/* Below the last class a list holds one size; the last holds every
	 * size from XTEL_ARENA_MAX up, all large enough. */
	h = a->free[class_of(units)] ?
	    take_block(a, a->free[class_of(units)], units) : carve(a, units);
	if (!h)
		return 0;
	*ptr = xtel_arena_ptr(a, h);
	/* Inline for the usual one- or two-unit block, not a memset call. */
	for (uint32_t i = 0; i < units * (XTEL_ARENA_UNIT / 8); i++)
		((uint64_t *)*ptr)[i] = 0;
	count(a, use, (int64_t)units * XTEL_ARENA_UNIT);
	return h;
}

void xtel_arena_free(struct xtel_arena *a, uint32_t h, size_t size,
		     enum xtel_arena_use use)
{
	uint32_t units = (uint32_t)((size + XTEL_ARENA_UNIT - 1) /
				    XTEL_ARENA_UNIT);

	if (!h)
		return;
	count(a, use, -(int64_t)units * XTEL_ARENA_UNIT);
	/* Merge with a free block after it and one before it. */
	if ((h & (UNITS - 1)) + units < UNITS && unit_free(a, h + units)) {
		uint32_t r = h + units;

		units += hdr(a, r)->units;
		unlink_block(a, r);
	}
	if ((h & (UNITS - 1)) > RESERVED && unit_free(a, h - 1)) {
		uint32_t lu = *(uint32_t *)((uint8_t *)xtel_arena_ptr(a, h) - 4);

		h -= lu;
		units += lu;
		unlink_block(a, h);
	}
	push(a, h, units);
}

const void *xtel_arena_read(const struct xtel_arena *a, uint32_t h,
			    size_t size)
{
	uint32_t c = h >> XTEL_ARENA_UNIT_BITS;
	size_t off = (size_t)(h & (UNITS - 1)) * XTEL_ARENA_UNIT;
	const uint8_t *base;

	if (!h || c >= __atomic_load_n(&a->n_chunks, __ATOMIC_ACQUIRE) ||
	    off + size > XTEL_ARENA_CHUNK)
		return NULL;
	base = __atomic_load_n(&a->chunk[c], __ATOMIC_ACQUIRE);
	return base ? base + off : NULL;
}
