/* SPDX-License-Identifier: MIT */
/*
 * The aggregator's merged state: one record per (site, client id), the
 * sum of every rollup applied to it. Counters add; histogram buckets add;
 * latency min/max, first/last seen and the highest sequence merge by
 * min/max; pending and bye are the latest report; each metric keeps the
 * latest interval and a whole-run fold; the edge's health verdict is the
 * latest (by its start time). A record changed since the last
 * checkpoint is dirty. Only the aggregator's thread touches it.
 */
#ifndef XTEL_AGG_STATE_H
#define XTEL_AGG_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "acct/latency.h"
#include "collector/view.h"
#include "export/rollup.h"

struct xtel_agg_metric {
	char key[XTEL_MAX_KEY_LEN + 1];
	double last;
	uint64_t last_ts_ns;
	uint64_t count;		/* whole run */
	double sum, min, max;
	uint64_t i_count;	/* the latest interval that had samples */
	double i_sum, i_min, i_max;
};

struct xtel_agg_client {
	uint32_t site;		/* index into the state's site names */
	uint32_t id;
	bool dirty;
	struct xtel_client_snap c;	/* counters; lat filled per view */
	struct xtel_latency hist;
	uint32_t n_m, cap_m;
	struct xtel_agg_metric *m;	/* by first appearance */
	uint64_t prev_received, prev_bytes;	/* at the previous view */
	/* the edge's latest health verdict (rollup key 17); none: warmup */
	bool has_health;
	int health_state;		/* enum xtel_health_state */
	float health_score;
	uint64_t health_since_ns;
};

enum { XTEL_AGG_MAX_SITES = 1024 };

struct xtel_agg_state {
	struct xtel_agg_client **c;	/* in arrival order */
	uint32_t n, cap;
	uint32_t *h;			/* hash: index + 1; 0 empty */
	uint32_t h_mask;
	char *sites[XTEL_AGG_MAX_SITES];	/* never freed before the state */
	uint32_t n_sites;
	uint64_t prev_view_ns;
	uint64_t prev_total_received, prev_total_bytes;
	uint64_t prev_site_received[XTEL_AGG_MAX_SITES];
	uint64_t prev_site_bytes[XTEL_AGG_MAX_SITES];
};

int xtel_agg_state_init(struct xtel_agg_state *s);
void xtel_agg_state_fini(struct xtel_agg_state *s);

/* Index of a site name (added when new); -ENOSPC past XTEL_AGG_MAX_SITES. */
int xtel_agg_site(struct xtel_agg_state *s, const char *site);

/* Fold one client rollup of site into the state; 0 or -ENOMEM/-ENOSPC. */
int xtel_agg_merge(struct xtel_agg_state *s, const char *site,
		   const struct xtel_rollup_client *rc);

/*
 * A record as one rollup client of cumulative figures (for the
 * checkpoint; the metrics are the whole-run folds; the latest verdict):
 * valid until the next call. The checkpoint restores a record by merging it into an empty one.
 */
void xtel_agg_as_rollup(const struct xtel_agg_client *c,
			struct xtel_rollup_client *rc,
			struct xtel_lat_bucket *buckets,
			struct xtel_rollup_metric *metrics);

/*
 * A new view of the merged state at now_ns (clients sorted by id, then
 * site), for xtel_model_publish, with the edges' verdicts as its health
 * results (no groups, no events; a client none was reported for is in
 * warmup). NULL on -ENOMEM.
 */
struct xtel_view *xtel_agg_view(struct xtel_agg_state *s, uint64_t now_ns,
				uint64_t stale_after_ns, double elapsed_s,
				bool final);

#endif /* XTEL_AGG_STATE_H */
