// SPDX-License-Identifier: MIT
/*
 * Block arena of a registry (see arena.h): bump allocation from chunks,
 * one free list per block size (linked through the blocks' first word,
 * as handles), larger free blocks split when a size has none, chunks
 * freed only at the end.
 */
#include <errno.h>
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

static void push(struct xtel_arena *a, uint32_t h, uint32_t units)
{
	*(uint32_t *)xtel_arena_ptr(a, h) = a->free[units];
	a->free[units] = h;
	a->nonempty[units / 64] |= 1ULL << (units % 64);
}

static uint32_t pop(struct xtel_arena *a, uint32_t units)
{
	uint32_t h = a->free[units];

	a->free[units] = *(uint32_t *)xtel_arena_ptr(a, h);
	if (!a->free[units])
		a->nonempty[units / 64] &= ~(1ULL << (units % 64));
	return h;
}

/* A run of free units (a chunk's tail) onto the lists, in list sizes. */
static void push_run(struct xtel_arena *a, uint32_t h, uint32_t units)
{
	while (units) {
		uint32_t n = units < XTEL_ARENA_CLASSES - 1 ?
			     units : XTEL_ARENA_CLASSES - 1;

		push(a, h, n);
		h += n;
		units -= n;
	}
}

/* The smallest size > units with a free block, or 0. */
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
	if (big) {
		h = pop(a, big);
		push(a, h + units, big - units);
		return h;
	}
	if (a->n_chunks && a->next_unit + units <= UNITS) {
		h = (a->n_chunks - 1) << XTEL_ARENA_UNIT_BITS | a->next_unit;
		a->next_unit += units;
		return h;
	}
	if (a->n_chunks == a->max_chunks)
		return 0;
	/* The newest chunk's tail goes to the free lists, not to waste. */
	if (a->n_chunks && a->next_unit < UNITS) {
		push_run(a, (a->n_chunks - 1) << XTEL_ARENA_UNIT_BITS |
			 a->next_unit, UNITS - a->next_unit);
		a->next_unit = UNITS;
	}
	p = aligned_alloc(XTEL_ARENA_UNIT, XTEL_ARENA_CHUNK);
	if (!p)
		return 0;
	__atomic_store_n(&a->chunk[a->n_chunks], p, __ATOMIC_RELAXED);
	/* Unit 0 of chunk 0 is never handed out: handle 0 means none. */
	a->next_unit = a->n_chunks ? 0 : 1;
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
	h = a->free[units] ? pop(a, units) : carve(a, units);
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
	push(a, h, units);
	count(a, use, -(int64_t)units * XTEL_ARENA_UNIT);
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
