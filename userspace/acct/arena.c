// SPDX-License-Identifier: MIT
/*
 * Block arena of a registry (see arena.h): bump allocation from chunks,
 * one free list per block size, chunks freed only at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "acct/arena.h"

struct xtel_arena_chunk {
	struct xtel_arena_chunk *next;
	uint8_t pad_[XTEL_ARENA_UNIT - sizeof(void *)];
	uint8_t data[];
};

void xtel_arena_init(struct xtel_arena *a)
{
	memset(a, 0, sizeof(*a));
}

void xtel_arena_destroy(struct xtel_arena *a)
{
	struct xtel_arena_chunk *c = a->chunks, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	memset(a, 0, sizeof(*a));
}

static void count(struct xtel_arena *a, enum xtel_arena_use use, int64_t d)
{
	__atomic_store_n(&a->live[use], a->live[use] + (uint64_t)d,
			 __ATOMIC_RELAXED);
}

void *xtel_arena_alloc(struct xtel_arena *a, size_t size,
		       enum xtel_arena_use use)
{
	size_t units = (size + XTEL_ARENA_UNIT - 1) / XTEL_ARENA_UNIT;
	size_t bytes = units * XTEL_ARENA_UNIT;
	void *p;

	if (units == 0 || bytes > XTEL_ARENA_MAX)
		return NULL;
	p = a->free[use][units];
	if (p) {
		a->free[use][units] = *(void **)p;
	} else {
		if (a->left < bytes) {
			struct xtel_arena_chunk *c = aligned_alloc(
				XTEL_ARENA_UNIT, XTEL_ARENA_CHUNK);

			if (!c)
				return NULL;
			c->next = a->chunks;
			a->chunks = c;
			a->cur = c->data;
			a->left = XTEL_ARENA_CHUNK - offsetof(struct xtel_arena_chunk,
							      data);
			__atomic_store_n(&a->chunk_bytes,
					 a->chunk_bytes + XTEL_ARENA_CHUNK,
					 __ATOMIC_RELAXED);
			/* The tail of the previous chunk is not kept: at
			 * most one largest block per chunk is wasted. */
		}
		p = a->cur;
		a->cur += bytes;
		a->left -= bytes;
	}
	memset(p, 0, bytes);
	count(a, use, (int64_t)bytes);
	return p;
}

void xtel_arena_free(struct xtel_arena *a, void *p, size_t size,
		     enum xtel_arena_use use)
{
	size_t units = (size + XTEL_ARENA_UNIT - 1) / XTEL_ARENA_UNIT;

	if (!p)
		return;
	*(void **)p = a->free[use][units];
	a->free[use][units] = p;
	count(a, use, -(int64_t)(units * XTEL_ARENA_UNIT));
}
