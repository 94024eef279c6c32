/* SPDX-License-Identifier: MIT */
/*
 * The reader side of accounting: a consistent copy of every client of n
 * per-worker registries, merged by client id, taken without stopping or
 * slowing their writers (the seqlock protocol is in record.h). Reporters,
 * and everything that serves users, read one of these, never a registry.
 */
#ifndef XTEL_SNAPSHOT_H
#define XTEL_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "acct/types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xtel_registry;

struct xtel_snapshot {
	uint64_t taken_ns;
	uint32_t n_clients;
	struct xtel_client_snap *clients;	/* sorted by client_id */
	struct xtel_client_snap total;		/* sums; latency merged */
	uint64_t registry_full;		/* datagrams refused: registry full */
	struct xtel_metric_snap *metrics_pool;	/* internal: backs clients[].metrics */
	uint8_t *hist_pool;		/* internal: backs clients[].lat_hist */
};

enum xtel_snapshot_flags {
	/* Every client's (and the total's) histogram encoded into lat_hist:
	 * for the history store, which diffs consecutive snapshots. */
	XTEL_SNAP_LAT_HIST = 1 << 0,
};

/*
 * Take a consistent per-client snapshot of n registries (one per worker),
 * merging records of the same client id. With final set, gaps still pending
 * inside the window are reported as lost (use after the workers stopped).
 * Returns 0 or a negative errno; free with xtel_snapshot_free().
 */
int xtel_snapshot_take(struct xtel_registry *const *regs, unsigned int n,
		       uint64_t now_ns, uint64_t stale_after_ns, bool final,
		       struct xtel_snapshot *out);
/*
 * What a reader wants beyond the summaries. lat, when set, is called once
 * per client, in client id order, with the client's merged cumulative
 * latency histogram (valid only during the call): a reader that wants more
 * of the distribution than the summary (the health feed: an interval's
 * quantiles) takes it there, without the snapshot keeping histograms.
 */
struct xtel_latency;
typedef void xtel_snapshot_lat_fn(void *arg, uint32_t client_id,
				  const struct xtel_latency *h);

struct xtel_snapshot_opts {
	unsigned int flags;		/* XTEL_SNAP_* */
	xtel_snapshot_lat_fn *lat;	/* NULL: none */
	void *lat_arg;
};

/* The same with options (NULL: none). */
int xtel_snapshot_take_ex(struct xtel_registry *const *regs, unsigned int n,
			  uint64_t now_ns, uint64_t stale_after_ns, bool final,
			  const struct xtel_snapshot_opts *opts,
			  struct xtel_snapshot *out);
void xtel_snapshot_free(struct xtel_snapshot *snap);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_SNAPSHOT_H */
