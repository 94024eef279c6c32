/* SPDX-License-Identifier: MIT */
/*
 * Per-worker client registry: the writer side of accounting. Readers use
 * snapshot.h; the record layout both sides agree on is in record.h.
 *
 * Each receive worker owns one registry and is its only writer: accounting a
 * datagram takes no lock and no atomic read-modify-write. Any other thread
 * (reporter, future query API, dashboard) calls xtel_snapshot_take() at any
 * time: every client record is copied under a per-client sequence counter, so
 * each client's figures are consistent with each other, and the receive path
 * never waits. Client records are never freed while the registry lives, which
 * is what makes lock-free reading safe.
 */
#ifndef XTEL_REGISTRY_H
#define XTEL_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "acct/types.h"
#include "wire/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xtel_registry;

/*
 * max_clients bounds this registry; memory is allocated as clients appear.
 * Returns NULL with errno set on failure.
 */
struct xtel_registry *xtel_registry_new(uint32_t max_clients);
void xtel_registry_free(struct xtel_registry *reg);

/*
 * Account one decoded datagram that arrived at arrival_ns (CLOCK_REALTIME,
 * from SO_TIMESTAMPNS) and was wire_len bytes long. Returns 0, or -ENOSPC
 * when the registry is full (the datagram is counted in registry_full), or
 * -ENOMEM when memory for a new client, a histogram block, a metric slot or
 * a restart's past-INIT block (client.h) ran out (a new client's datagram
 * is then counted in registry_full too; for a known client the datagram is
 * counted and only that detail is missing).
 */
int xtel_registry_account(struct xtel_registry *reg, const struct xtel_msg *msg,
			  uint64_t arrival_ns, uint32_t wire_len,
			  struct xtel_acct_result *res);

/*
 * Prefetch hints for a receive loop that knows the client ids of the
 * datagrams to come (the DTLS batch prefetch takes them from the sessions,
 * collector/rx/uring.c): first the id's hash slot, later (once that line
 * is in) the record's seven lines. Reads only; an unknown id does nothing.
 * The writer thread only (the hash is writer-private).
 */
void xtel_registry_prefetch_slot(const struct xtel_registry *reg, uint32_t id);
void xtel_registry_prefetch_record(const struct xtel_registry *reg,
				   uint32_t id);

/*
 * Where a registry's memory goes, in bytes (added to *out, so the
 * registries of several workers sum): the records (their chunks and
 * their cold blocks in the arena, client.h), the
 * registry's own tables (hash, chunk pointers, the struct with its
 * arena), the histogram pages and directories and the metric key slots
 * handed out of the arena, and the arena's slack (chunk bytes not handed
 * out: free lists, the tail of the newest chunk). malloc's own headers
 * are not in it. Exact when the writer is stopped or is the caller;
 * otherwise an estimate from relaxed loads.
 */
struct xtel_acct_mem {
	uint64_t clients;
	uint64_t records;
	uint64_t registry;
	uint64_t hist;
	uint64_t metrics;
	uint64_t arena_slack;
};

void xtel_registry_mem(const struct xtel_registry *reg,
		       struct xtel_acct_mem *out);

/*
 * Interval boundaries for per-metric min/max/mean: the reporter calls this
 * once per --interval. Writers notice the new number lazily on their next
 * datagram, so it costs the receive path one relaxed load.
 */
void xtel_interval_advance(void);
uint64_t xtel_interval_current(void);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_REGISTRY_H */
