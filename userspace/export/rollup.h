/* SPDX-License-Identifier: MIT */
/*
 * The rollup message, schema version 1 (docs/SCALE-OUT.md, "Schema"):
 * what an edge collector publishes once per interval on
 * xtel.rollup.<site>.<edge>, and what the aggregator merges. One CBOR map
 * with small integer keys: a header (site, edge, the edge's run id, the
 * interval's sequence number, the part of a rollup split over several
 * messages), the edge's totals in part 0, and one entry per client that
 * changed in the interval. Every counter is a delta over the interval,
 * so merging is adding; the histogram buckets are deltas too (merging is
 * adding per bucket); min, max, first/last seen and the highest sequence
 * are absolute and merge by min/max; pending, bye and the health verdict
 * (key 17, added in the same version: older readers skip it) are the
 * state now. Zero fields are left out.
 */
#ifndef XTEL_ROLLUP_H
#define XTEL_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acct/types.h"
#include "export/cbor.h"

enum {
	XTEL_ROLLUP_VERSION = 1,
	XTEL_ROLLUP_NAME_MAX = 63,	/* site and edge names */
	XTEL_ROLLUP_MAX_METRICS = 64,	/* per client (the registry's cap) */
	XTEL_ROLLUP_STATE_MAX = 15,	/* a health state's name */
};

/* Top-level keys. */
enum xtel_rollup_key {
	XTEL_RK_VERSION = 0, XTEL_RK_SITE, XTEL_RK_EDGE, XTEL_RK_RUN,
	XTEL_RK_SEQ, XTEL_RK_PART, XTEL_RK_PARTS, XTEL_RK_TAKEN_NS,
	XTEL_RK_INTERVAL_NS, XTEL_RK_FINAL, XTEL_RK_TOTALS, XTEL_RK_CLIENTS,
};

/* Keys of a client entry (and of the totals). */
enum xtel_rollup_ckey {
	XTEL_CK_ID = 0, XTEL_CK_RECEIVED, XTEL_CK_BYTES, XTEL_CK_LOST,
	XTEL_CK_PENDING, XTEL_CK_DUPLICATES, XTEL_CK_REORDERED,
	XTEL_CK_TOO_LATE, XTEL_CK_EPOCHS, XTEL_CK_BY_TYPE, XTEL_CK_FIRST_SEEN,
	XTEL_CK_LAST_SEEN, XTEL_CK_HIGHEST_SEQ, XTEL_CK_BYE, XTEL_CK_LAT,
	XTEL_CK_METRICS, XTEL_CK_METRICS_DROPPED,
	XTEL_CK_HEALTH,		/* [state, score, since_ns]: the edge's verdict */
	XTEL_CK_N,
};

struct xtel_rollup_hdr {
	unsigned int version;
	char site[XTEL_ROLLUP_NAME_MAX + 1];
	char edge[XTEL_ROLLUP_NAME_MAX + 1];
	uint64_t run;		/* the edge process's start, ns: new per restart */
	uint64_t seq;		/* the view's sequence number in that run */
	uint32_t part, parts;
	uint64_t taken_ns, interval_ns;
	bool final;
};

/* One metric over the interval: count 0 means only last is known. */
struct xtel_rollup_metric {
	char key[XTEL_MAX_KEY_LEN + 1];
	uint64_t count;
	double sum, min, max, last;
	uint64_t last_ts_ns;
};

struct xtel_rollup_client {
	uint32_t client_id;
	uint64_t received, bytes, lost, pending, duplicates, reordered,
		 too_late, epochs, metrics_dropped;
	uint64_t by_type[XTEL_MSG_TYPE_MAX + 1];
	uint64_t first_seen_ns, last_seen_ns, highest_seq;
	bool bye;
	/* latency: count, negative, sum, overflow are deltas; min, max of the run */
	uint64_t lat_count, lat_negative, lat_sum, lat_min, lat_max, lat_overflow;
	uint32_t n_buckets;
	const struct xtel_lat_bucket *buckets;	/* deltas, by index */
	uint32_t n_metrics;
	const struct xtel_rollup_metric *metrics;
	/* the edge's health verdict now (absolute; absent: health off) */
	bool health;
	char health_state[XTEL_ROLLUP_STATE_MAX + 1];	/* "ok", "anomalous", ... */
	double health_score;
	uint64_t health_since_ns;
};

/*
 * Encoder: put_hdr; with with_totals set, put_client of the totals; then
 * put_clients_head(n) and n put_client.
 */
void xtel_rollup_put_hdr(struct xtel_cbor_buf *b, const struct xtel_rollup_hdr *h,
			 bool with_totals);
void xtel_rollup_put_clients_head(struct xtel_cbor_buf *b, uint32_t n);
void xtel_rollup_put_client(struct xtel_cbor_buf *b,
			    const struct xtel_rollup_client *c);

/*
 * Decoder. Calls fn for the totals (is_total set) and each client, with
 * buckets and metrics valid during the call only. Stops at fn's first
 * nonzero return and returns it; -EBADMSG for malformed CBOR or a field
 * out of range, -EPROTONOSUPPORT for a version other than 1.
 */
typedef int xtel_rollup_client_fn(void *arg, const struct xtel_rollup_hdr *h,
				  const struct xtel_rollup_client *c,
				  bool is_total);
int xtel_rollup_decode(const void *data, size_t len, struct xtel_rollup_hdr *h,
		       xtel_rollup_client_fn *fn, void *arg);

/*
 * A message's Nats-Msg-Id, "<edge>.<run>.<seq>.<part>" (the edge names
 * no dot): edge_len is the edge's length, key_len that of "<edge>.<run>"
 * (one edge run, the unit within which seq and part are monotonic).
 */
struct xtel_rollup_id {
	size_t edge_len, key_len;
	uint64_t run, seq;
	uint32_t part;
};

/* Parses id; false when it has not that form (decimal fields, an edge). */
bool xtel_rollup_parse_id(const char *id, struct xtel_rollup_id *out);

#endif /* XTEL_ROLLUP_H */
