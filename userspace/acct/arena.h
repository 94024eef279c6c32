/* SPDX-License-Identifier: MIT */
/*
 * A registry's block arena: the small blocks behind its client records
 * (packed histogram pages and directories, metric key slots) come from
 * 64 KiB chunks that the one writer carves in 16-byte units, without
 * malloc's per-block header and rounding (a 16-byte page costs 16 bytes,
 * not 32). A block is named by a 32-bit handle (chunk << 12 | unit; 0 is
 * none), which is what a record stores where a reader must follow it: a
 * reader resolves a handle with xtel_arena_read(), which checks the chunk
 * and the length against what the arena has mapped, so a stale or torn
 * handle leads to mapped memory of the arena whatever it holds now, and
 * the reader's sequence check throws that copy away. That lets freed
 * blocks be reused for anything: a freed block is merged with free
 * neighbours (a bitmap of free units at each chunk's head says which, a
 * size word at both ends of a free block where it starts) and goes to
 * the list of its size, and a request that finds its own list empty
 * splits the smallest larger free block. Merging matters because a
 * histogram page passes through the small sizes on its way to its final
 * width (latpack.h): without it those sizes were left over once clients
 * stopped growing. Chunks go back to the system only with the registry.
 * Single writer, no locks; readers load the chunk table with acquire and
 * the byte counters with relaxed loads.
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
	XTEL_ARENA_UNIT_BITS = 12,		/* units per chunk: 4096 */
	XTEL_ARENA_CHUNK = XTEL_ARENA_UNIT << XTEL_ARENA_UNIT_BITS,
	XTEL_ARENA_MAX = 2048,			/* largest block, bytes */
	XTEL_ARENA_CLASSES = XTEL_ARENA_MAX / XTEL_ARENA_UNIT + 1,
	/* units at each chunk's head: the bitmap of its free units */
	XTEL_ARENA_RESERVED = (1 << XTEL_ARENA_UNIT_BITS) / 8 / XTEL_ARENA_UNIT,
	/* Handles fit 29 bits, so users may tag them with 3 more (8 GiB
	 * of blocks per registry). */
	XTEL_ARENA_MAX_CHUNKS = 1 << (29 - XTEL_ARENA_UNIT_BITS),
};

/* Which part of a client a block belongs to (for the memory breakdown). */
enum xtel_arena_use {
	XTEL_ARENA_HIST,	/* histogram pages and directories */
	XTEL_ARENA_METRICS,	/* metric key slots */
	XTEL_ARENA_COLD,	/* records' cold parts (client.h: past INITs) */
	XTEL_ARENA_USES,
};

struct xtel_arena {
	uint8_t **chunk;		/* max_chunks slots, filled in order */
	uint32_t n_chunks;		/* published (release store) */
	uint32_t max_chunks;
	uint32_t next_unit;		/* first free unit of the newest chunk */
	uint32_t free[XTEL_ARENA_CLASSES];	/* list heads by size in units */
	uint64_t nonempty[(XTEL_ARENA_CLASSES + 63) / 64];	/* of free[] */
	uint64_t chunk_bytes;		/* from the system */
	uint64_t live[XTEL_ARENA_USES];	/* handed out and not freed */
};

/*
 * Room for up to max_bytes of chunks (rounded up to whole chunks, at
 * most XTEL_ARENA_MAX_CHUNKS). Returns 0 or -ENOMEM.
 */
int xtel_arena_init(struct xtel_arena *a, uint64_t max_bytes);
void xtel_arena_destroy(struct xtel_arena *a);

/*
 * A zeroed block of size bytes (<= XTEL_ARENA_MAX, rounded up to the
 * unit), 16-byte aligned: its handle, *ptr its address. 0 when the system
 * has no memory or the arena is at max_bytes.
 */
uint32_t xtel_arena_alloc(struct xtel_arena *a, size_t size,
			  enum xtel_arena_use use, void **ptr);
/* Give back a block of that size and use; it is reused, never unmapped. */
void xtel_arena_free(struct xtel_arena *a, uint32_t handle, size_t size,
		     enum xtel_arena_use use);

/* The writer's address of a live handle. */
static inline void *xtel_arena_ptr(const struct xtel_arena *a, uint32_t h)
{
	return a->chunk[h >> XTEL_ARENA_UNIT_BITS] +
	       (size_t)(h & ((1u << XTEL_ARENA_UNIT_BITS) - 1)) * XTEL_ARENA_UNIT;
}

/*
 * A reader's address of handle h with size bytes behind it, or NULL when
 * h is 0 or does not name size bytes inside a mapped chunk. Safe from any
 * thread at any time the registry lives.
 */
const void *xtel_arena_read(const struct xtel_arena *a, uint32_t h,
			    size_t size);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_ARENA_H */
