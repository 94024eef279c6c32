/* SPDX-License-Identifier: MIT */
/*
 * The contract between a registry's single writer and its lock-free readers
 * (snapshot.c): the record layout with its seqlock, and how records are
 * found. Private to acct/: other modules use registry.h or snapshot.h.
 *
 * Seqlock protocol (no atomic read-modify-write on the writer side):
 *   writer: store seq+1 (odd), release fence, update, store seq+2 (even,
 *           release);
 *   reader: load seq (acquire), retry while odd, copy with relaxed word
 *           loads, acquire fence, reload seq, retry if it moved.
 * Metric chunk pointers inside a record only ever go from NULL to a block
 * of the registry's arena that lives as long as the registry; histogram
 * pages and directories are named by arena handles, which a reader
 * resolves through xtel_arena_read() (bounded to the arena's chunks), as
 * they may be freed and their memory reused (latpack.h). So a reader may
 * follow whatever pointer or handle it read and let the seq check reject
 * the copy.
 */
#ifndef XTEL_RECORD_H
#define XTEL_RECORD_H

#include <stdint.h>

#include "acct/arena.h"
#include "acct/client.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { XTEL_RECORD_CHUNK = 1024 };	/* records allocated together */

struct xtel_record {
	uint32_t seq;		/* seqlock: odd while the writer updates */
	uint32_t pad_;
	struct xtel_client c;
} __attribute__((aligned(64)));

/* Seven cache lines (docs/CAPACITY.md "Memory per client"): a field more
 * costs a line of every client at once, so say so when it changes. */
_Static_assert(sizeof(struct xtel_client) == 424, "client record layout");
_Static_assert(sizeof(struct xtel_record) == 448, "seven cache lines");
_Static_assert(sizeof(struct xtel_metric_state) == 96, "key slot layout");
_Static_assert(sizeof(struct xtel_latpack) == 80, "packed histogram header");

struct xtel_registry {
	/* Read by snapshot threads. */
	struct xtel_record **chunks;	/* max_chunks slots, filled in order */
	uint32_t count;			/* published records (release store) */
	uint32_t max_clients;
	uint32_t max_chunks;
	uint64_t registry_full;		/* relaxed stores by the writer */
	/*
	 * Writer-private: open-addressing hash, client id -> index + 1, id and
	 * index side by side so that a probe reads one cache line.
	 */
	struct xtel_hash_slot {
		uint32_t id;
		uint32_t idx1;		/* 0: empty */
	} *h_slots;
	uint32_t h_mask;
	uint32_t h_used;
	/* Writer-private: histogram pages, metric key slots (arena.h) and
	 * key names (keys.h, entries readers may read through slots). */
	struct xtel_arena arena;
	struct xtel_keys keys;
};

static inline struct xtel_record *xtel_registry_record(
	const struct xtel_registry *reg, uint32_t i)
{
	struct xtel_record *chunk = __atomic_load_n(
		&reg->chunks[i / XTEL_RECORD_CHUNK], __ATOMIC_ACQUIRE);

	return &chunk[i % XTEL_RECORD_CHUNK];
}

/* Number of records a reader may visit. */
static inline uint32_t xtel_registry_count(const struct xtel_registry *reg)
{
	return __atomic_load_n(&reg->count, __ATOMIC_ACQUIRE);
}

/*
 * Copy a client record r of reg consistently: *out gets the record, *lat its
 * histogram expanded (xtel_latpack_expand) with the block pointers into
 * hist_blocks (XTEL_LAT_GROUPS x XTEL_LAT_SUB), key_slots
 * (XTEL_CLIENT_MAX_KEYS) the metric state with out->keys redirected into
 * it. out->lat's pointers still lead into the registry: use *lat. The
 * sequence window's bitmap (out->win.bits) is neither copied nor written:
 * what a reader needs of the window are its counts. Returns the retries.
 */
unsigned int xtel_record_read(const struct xtel_registry *reg,
			      const struct xtel_record *r,
			      struct xtel_client *out, struct xtel_latency *lat,
			      uint64_t *hist_blocks,
			      struct xtel_metric_state *key_slots);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_RECORD_H */
