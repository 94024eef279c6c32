/* SPDX-License-Identifier: MIT */
/*
 * The leaf of the accounting layer: the plain types that the writer side
 * (seqwin, latency, client, registry) and the reader side (snapshot, and
 * every renderer above it) share. No functions, no other accounting header.
 */
#ifndef XTEL_ACCT_TYPES_H
#define XTEL_ACCT_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf/xtel_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* The mean is xtel_lat_mean_ns(): a view holds one of these per client. */
struct xtel_lat_summary {
	uint64_t count;		/* samples in the histogram (latency >= 0) */
	uint64_t negative;	/* samples with send time after arrival: skew */
	uint64_t min_ns, max_ns;
	uint64_t sum_ns;	/* exact sum of the samples (a Prometheus summary's _sum) */
	uint64_t p50_ns, p90_ns, p99_ns, p999_ns;
};

/* The mean latency, rounded down; 0 without samples. */
static inline uint64_t xtel_lat_mean_ns(const struct xtel_lat_summary *l)
{
	return l->count ? l->sum_ns / l->count : 0;
}

/* One non-empty latency histogram bucket (index as in acct/latency.h). */
struct xtel_lat_bucket {
	uint32_t idx;
	uint32_t pad_;
	uint64_t count;
};

struct xtel_metric_snap {
	/*
	 * NUL-terminated, at most XTEL_MAX_KEY_LEN characters, never a copy:
	 * a registry's snapshot points at the registry's interned name
	 * (acct/keys.h), valid while the registry lives, which outlives
	 * every view made from it; a snapshot made otherwise (the
	 * aggregator's views) points at storage it owns.
	 */
	const char *key;
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
	uint32_t n_buckets;	/* with XTEL_SNAP_LAT_BUCKETS, see buckets */
	struct xtel_lat_summary lat;
	/* with XTEL_SNAP_LAT_HIST: the cumulative histogram, encoded
	 * (acct/latency.h), owned by the snapshot; else NULL, 0 */
	const uint8_t *lat_hist;
	uint32_t lat_hist_len;
	uint32_t n_metrics;
	struct xtel_metric_snap *metrics;	/* owned by the snapshot */
	uint64_t metrics_dropped;	/* keys beyond the per-client limit */
	/*
	 * Only in a snapshot taken with XTEL_SNAP_LAT_BUCKETS: the
	 * non-empty histogram buckets by index (owned by the snapshot) and the
	 * samples over the top bucket, so a reader elsewhere (the exporter)
	 * can merge this client's histogram exactly. 0/NULL otherwise.
	 * (n_buckets sits above, in the bools' padding.)
	 */
	const struct xtel_lat_bucket *buckets;
	uint64_t lat_overflow;
};

#ifdef __cplusplus
}
#endif

#endif /* XTEL_ACCT_TYPES_H */
