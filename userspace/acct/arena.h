/* SPDX-License-Identifier: MIT */
/*
 * A registry's block arena: the small blocks behind its client records
 * (packed histogram pages and directories, metric key slots) come from
 * 32 KiB chunks that one writer carves, without malloc's per-block header
 * and rounding (a 16-byte page costs 16 bytes, not 32). Blocks are sized
 * in 16-byte units; a freed block goes to the free list of its size and is
 * handed out again only for a block of the same size, hence (by the
 * callers' convention, latpack.h) of the same kind. Chunks are returned to
 * the system only by xtel_arena_destroy(), with the registry: a seqlock
 * reader holding a stale pointer into a freed block reads mapped memory
 * of the same kind, and its sequence check throws the copy away.
 * Single writer, no locks; the byte counters are read by other threads
 * with relaxed loads (memory accounting, bench/bench_memory.c).
 */
#ifndef XTEL_ARENA_H
#define XTEL_ARENA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
	XTEL_ARENA_UNIT = 16,
	XTEL_ARENA_MAX = 2048,			/* largest block, bytes */
	XTEL_ARENA_CLASSES = XTEL_ARENA_MAX / XTEL_ARENA_UNIT + 1,
	XTEL_ARENA_CHUNK = 32768,
};

/* Which part of a client a block belongs to (for the memory breakdown). */
enum xtel_arena_use {
	XTEL_ARENA_HIST,	/* histogram pages and directories */
	XTEL_ARENA_METRICS,	/* metric key slots */
	XTEL_ARENA_USES,
};

struct xtel_arena {
	struct xtel_arena_chunk *chunks;	/* newest first */
	uint8_t *cur;			/* next free byte of the newest chunk */
	size_t left;			/* bytes left there */
	void *free[XTEL_ARENA_USES][XTEL_ARENA_CLASSES];	/* by size in units */
	uint64_t chunk_bytes;		/* from the system */
	uint64_t live[XTEL_ARENA_USES];	/* handed out and not freed */
};

void xtel_arena_init(struct xtel_arena *a);
void xtel_arena_destroy(struct xtel_arena *a);

/*
 * A zeroed block of size bytes (<= XTEL_ARENA_MAX, rounded up to the
 * unit), 16-byte aligned, or NULL when the system has no memory.
 */
void *xtel_arena_alloc(struct xtel_arena *a, size_t size,
		       enum xtel_arena_use use);
/* Give back a block of that size and use; it is reused, never unmapped. */
void xtel_arena_free(struct xtel_arena *a, void *p, size_t size,
		     enum xtel_arena_use use);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_ARENA_H */
