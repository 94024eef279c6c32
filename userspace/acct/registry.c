// SPDX-License-Identifier: MIT
/*
 * Per-worker client registry, the writer side: a writer-private
 * open-addressing hash from client id to record index, records allocated
 * 1024 at a time and never moved or freed while the registry lives, the
 * record count published with a release store, and every update bracketed
 * by the record's seqlock (see snapshot.h). Also the process-wide interval
 * counter used for per-metric min/max/mean.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acct/record.h"
#include "acct/registry.h"

static uint64_t g_interval;

void xtel_interval_advance(void)
{
	/* Reporter side, once per interval: an RMW here costs nothing. */
	__atomic_fetch_add(&g_interval, 1, __ATOMIC_RELAXED);
}

uint64_t xtel_interval_current(void)
{
	return __atomic_load_n(&g_interval, __ATOMIC_RELAXED);
}

enum { HASH_MIN = 1024 };

static inline uint32_t hash_id(uint32_t id)
{
	/* Fibonacci hashing spreads sequential ids (the common case). */
	return (uint32_t)(((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> 32);
}

static int hash_alloc(struct xtel_registry *reg, uint32_t slots)
{
	reg->h_slots = calloc(slots, sizeof(*reg->h_slots));
	if (!reg->h_slots)
		return -ENOMEM;
	reg->h_mask = slots - 1;
	return 0;
}

static void hash_put(struct xtel_registry *reg, uint32_t id, uint32_t idx1)
{
	uint32_t h = hash_id(id) & reg->h_mask;

	while (reg->h_slots[h].idx1)
		h = (h + 1) & reg->h_mask;
	reg->h_slots[h].id = id;
	reg->h_slots[h].idx1 = idx1;
}

/* Double the table when it is half full, so probes stay short. */
static int hash_grow(struct xtel_registry *reg)
{
	struct xtel_hash_slot *slots = reg->h_slots;
	uint32_t old = reg->h_mask + 1;

	if (hash_alloc(reg, old * 2)) {
		reg->h_slots = slots;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < old; i++)
		if (slots[i].idx1)
			hash_put(reg, slots[i].id, slots[i].idx1);
	free(slots);
	return 0;
}

struct xtel_registry *xtel_registry_new(uint32_t max_clients)
{
	struct xtel_registry *reg;

	if (max_clients == 0 || max_clients > (1U << 30)) {
		errno = EINVAL;
		return NULL;
	}
	reg = calloc(1, sizeof(*reg));
	if (!reg)
		goto err;
	reg->max_clients = max_clients;
	reg->max_chunks = (max_clients + XTEL_RECORD_CHUNK - 1) / XTEL_RECORD_CHUNK;
	reg->chunks = calloc(reg->max_chunks, sizeof(*reg->chunks));
	if (!reg->chunks)
		goto err_reg;
	if (hash_alloc(reg, HASH_MIN))
		goto err_chunks;
	/* Room for 20 KiB of blocks per client: a histogram of 32 pages
	 * at 64-bit counters (16 KiB) and 16 metric keys, the worst case
	 * (the arena stops at 8 GiB, arena.h: ~400,000 such clients). */
	if (xtel_arena_init(&reg->arena, (uint64_t)max_clients * 20480))
		goto err_hash;
	xtel_keys_init(&reg->keys);
	return reg;

err_hash:
	free(reg->h_slots);
err_chunks:
	free(reg->chunks);
err_reg:
	free(reg);
err:
	errno = ENOMEM;
	return NULL;
}

void xtel_registry_free(struct xtel_registry *reg)
{
	if (!reg)
		return;
	xtel_keys_destroy(&reg->keys);
	xtel_arena_destroy(&reg->arena);
	for (uint32_t i = 0; i < reg->max_chunks; i++)
		free(reg->chunks[i]);
	free(reg->chunks);
	free(reg->h_slots);
	free(reg);
}

static struct xtel_record *lookup(const struct xtel_registry *reg,
				  uint32_t id)
{
	uint32_t h = hash_id(id) & reg->h_mask, i;

	while ((i = reg->h_slots[h].idx1)) {
		if (reg->h_slots[h].id == id)
			return xtel_registry_record(reg, i - 1);
		h = (h + 1) & reg->h_mask;
	}
	return NULL;
}

/* Returns the new record, or NULL with *err = -ENOSPC (full) or -ENOMEM. */
static struct xtel_record *insert(struct xtel_registry *reg, uint32_t id,
				  int *err)
{
	uint32_t n = reg->count;
	struct xtel_record *chunk, *r;

	*err = -ENOSPC;
	if (n >= reg->max_clients)
		return NULL;
	*err = -ENOMEM;
	if ((reg->h_used + 1) * 2 > reg->h_mask + 1 && hash_grow(reg))
		return NULL;
	chunk = reg->chunks[n / XTEL_RECORD_CHUNK];
	if (!chunk) {
		chunk = aligned_alloc(64, XTEL_RECORD_CHUNK * sizeof(*chunk));
		if (!chunk)
			return NULL;
		memset(chunk, 0, XTEL_RECORD_CHUNK * sizeof(*chunk));
		__atomic_store_n(&reg->chunks[n / XTEL_RECORD_CHUNK], chunk,
				 __ATOMIC_RELEASE);
	}
	r = &chunk[n % XTEL_RECORD_CHUNK];
	xtel_client_init(&r->c, id);
	hash_put(reg, id, n + 1);
	reg->h_used++;
	/* The record is complete before a reader can count it. */
	__atomic_store_n(&reg->count, n + 1, __ATOMIC_RELEASE);
	*err = 0;
	return r;
}

int xtel_registry_account(struct xtel_registry *reg, const struct xtel_msg *msg,
			  uint64_t arrival_ns, uint32_t wire_len,
			  struct xtel_acct_result *res)
{
	struct xtel_record *r = lookup(reg, msg->client_id);
	uint64_t interval = xtel_interval_current();
	uint32_t s;
	int err;

	if (!r) {
		r = insert(reg, msg->client_id, &err);
		if (!r) {
			/* Out of memory is counted as "full" as well: either
			 * way the datagram could not be accounted. */
			__atomic_store_n(&reg->registry_full,
					 reg->registry_full + 1,
					 __ATOMIC_RELAXED);
			if (res)
				memset(res, 0, sizeof(*res));
			return err;
		}
	}
	s = r->seq;
	__atomic_store_n(&r->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	err = xtel_client_account(&r->c, &reg->arena, &reg->keys, msg,
				  arrival_ns, wire_len, interval, res);
	__atomic_store_n(&r->seq, s + 2, __ATOMIC_RELEASE);
	return err;
}

void xtel_registry_mem(const struct xtel_registry *reg,
		       struct xtel_acct_mem *out)
{
	const struct xtel_arena *a = &reg->arena;
	uint32_t count = xtel_registry_count(reg);
	uint64_t hist = __atomic_load_n(&a->live[XTEL_ARENA_HIST],
					__ATOMIC_RELAXED);
	uint64_t metrics = __atomic_load_n(&a->live[XTEL_ARENA_METRICS],
					   __ATOMIC_RELAXED);
	uint64_t cold = __atomic_load_n(&a->live[XTEL_ARENA_COLD],
					__ATOMIC_RELAXED);
	uint64_t chunks = __atomic_load_n(&a->chunk_bytes, __ATOMIC_RELAXED);

	out->clients += count;
	out->records += (uint64_t)(count + XTEL_RECORD_CHUNK - 1) /
			XTEL_RECORD_CHUNK * XTEL_RECORD_CHUNK *
			sizeof(struct xtel_record) + cold;
	out->registry += sizeof(*reg) +
			 (uint64_t)reg->max_chunks * sizeof(*reg->chunks) +
			 (uint64_t)a->max_chunks * sizeof(*a->chunk) +
			 xtel_keys_bytes(&reg->keys) +
			 ((uint64_t)__atomic_load_n(&reg->h_mask, __ATOMIC_RELAXED) +
			  1) * sizeof(*reg->h_slots);
	out->hist += hist;
	out->metrics += metrics;
	out->arena_slack += chunks > hist + metrics + cold ?
			    chunks - hist - metrics - cold : 0;
}

void xtel_registry_prefetch_slot(const struct xtel_registry *reg, uint32_t id)
{
	__builtin_prefetch(&reg->h_slots[hash_id(id) & reg->h_mask]);
}

void xtel_registry_prefetch_record(const struct xtel_registry *reg,
				   uint32_t id)
{
	const struct xtel_record *r = lookup(reg, id);

	/* All seven lines: an update writes into most of them. */
	for (size_t off = 0; r != NULL && off < sizeof(*r); off += 64)
		__builtin_prefetch((const char *)r + off, 1);
}
