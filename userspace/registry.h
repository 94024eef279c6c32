/* SPDX-License-Identifier: MIT */
/*
 * Per-worker client registry and the snapshot that other threads read.
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

#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xtel_registry;

/* What accounting says about one datagram (for the CSV rows and counters). */
enum xtel_seq_verdict {
	XTEL_SEQ_NEW = 0,	/* highest so far (possibly after a gap) */
	XTEL_SEQ_REORDERED,	/* late, filled a gap inside the window */
	XTEL_SEQ_DUPLICATE,	/* already received inside the window */
	XTEL_SEQ_TOO_LATE,	/* behind the window: cannot tell, not counted */
	XTEL_SEQ_RESTART,	/* started a new epoch (INIT or sequence reset) */
};

struct xtel_acct_result {
	enum xtel_seq_verdict verdict;
	uint64_t gap;		/* sequence numbers skipped ahead of this one */
	int64_t latency_ns;	/* arrival - send; negative means clock skew */
};

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
 * -ENOMEM when memory for a new client, a histogram block or a metric slot
 * ran out (a new client's datagram is then counted in registry_full too; for
 * a known client the datagram is counted and only that detail is missing).
 */
int xtel_registry_account(struct xtel_registry *reg, const struct xtel_msg *msg,
			  uint64_t arrival_ns, uint32_t wire_len,
			  struct xtel_acct_result *res);

/*
 * Interval boundaries for per-metric min/max/mean: the reporter calls this
 * once per --interval. Writers notice the new number lazily on their next
 * datagram, so it costs the receive path one relaxed load.
 */
void xtel_interval_advance(void);
uint64_t xtel_interval_current(void);

struct xtel_lat_summary {
	uint64_t count;		/* samples in the histogram (latency >= 0) */
	uint64_t negative;	/* samples with send time after arrival: skew */
	uint64_t min_ns, max_ns, mean_ns;
	uint64_t p50_ns, p90_ns, p99_ns, p999_ns;
};

struct xtel_metric_snap {
	char key[XTEL_MAX_KEY_LEN + 1];
	double last;
	uint64_t last_ts_ns;	/* send timestamp of the datagram carrying last */
	/* over the last complete interval; count == 0 means no sample in it */
	uint64_t count;
	double min, max, mean;
};

struct xtel_client_snap {
	uint32_t client_id;
	uint32_t epochs;	/* 1 + restarts seen */
	uint64_t received;	/* datagrams accepted, all types, dups included */
	uint64_t bytes;
	uint64_t lost;		/* confirmed: the window passed, or BYE, or final */
	uint64_t pending;	/* gaps inside the window, not yet confirmed */
	uint64_t duplicates;
	uint64_t reordered;
	uint64_t too_late;
	uint64_t by_type[XTEL_MSG_TYPE_MAX + 1];	/* indexed by type */
	uint64_t first_seen_ns, last_seen_ns;	/* arrival times */
	uint64_t highest_seq;
	bool bye_seen;
	bool stale;		/* no datagram within stale_after_ns of now */
	struct xtel_lat_summary lat;
	uint32_t n_metrics;
	struct xtel_metric_snap *metrics;	/* owned by the snapshot */
	uint64_t metrics_dropped;	/* keys beyond the per-client limit */
};

struct xtel_snapshot {
	uint64_t taken_ns;
	uint32_t n_clients;
	struct xtel_client_snap *clients;	/* sorted by client_id */
	struct xtel_client_snap total;		/* sums; latency merged */
	uint64_t registry_full;		/* datagrams refused: registry full */
	struct xtel_metric_snap *metrics_pool;	/* internal: backs clients[].metrics */
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
void xtel_snapshot_free(struct xtel_snapshot *snap);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_REGISTRY_H */
