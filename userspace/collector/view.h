/* SPDX-License-Identifier: MIT */
/*
 * The per-interval view: everything a reader of the collector's state
 * needs, computed once per interval by the model (model.c) from a snapshot
 * of the registries, the summed counters and the XDP maps. Every renderer
 * (the interval table, the final summary, the summary JSON, the HTTP API
 * and Prometheus exposition, and the storage and exporters to come) reads a view and computes nothing of
 * its own: loss %, rates, client state and whole-run metric folds have one
 * definition, here and in model.c.
 *
 * A view is immutable once published. It is reference counted so that a
 * reader on another thread can keep one while the model publishes the
 * next: xtel_view_get() before use, xtel_view_put() after.
 */
#ifndef XTEL_VIEW_H
#define XTEL_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "acct/snapshot.h"
#include "bpf/xtel_maps.h"
#include "collector/counters.h"
#include "collector/failures.h"
#include "devices/inventory.h"
#include "health/health.h"
#include "xdp/afxdp.h"
#include "xdp/xdp.h"

enum xtel_client_state {
	XTEL_CLIENT_LIVE = 0,	/* a datagram within --stale-after */
	XTEL_CLIENT_STALE,	/* silent for longer */
	XTEL_CLIENT_BYE,	/* said BYE (whatever came after) */
};

/* "live", "stale", "bye": the names in reports and JSON. */
const char *xtel_client_state_name(enum xtel_client_state s);

/*
 * One metric of one client over the whole run (every interval folded).
 * Its key, last value and that value's send time are its latest
 * interval's, which the view has already: latest points at it, not a
 * copy. Its mean is xtel_run_metric_mean(): one division, not 8 bytes a
 * key in every view.
 */
struct xtel_run_metric {
	/*
	 * The key's entry in the client's snapshot metrics (key, last,
	 * last_ts_ns), or, for a key this snapshot no longer lists (a
	 * client merged from several workers past XTEL_CLIENT_MAX_KEYS),
	 * the view's own copy of the last one seen, with count 0.
	 */
	const struct xtel_metric_snap *latest;
	uint64_t count;		/* samples over the run; 0: min/max/mean unset */
	double min, max;
	double sum;		/* of the samples, folded on by the next view */
};

/*
 * A client as the view sees it. Figures that follow from its snapshot
 * alone are inline accessors below (xtel_view_client_loss_pct, _avg_size)
 * rather than fields: a view holds one of these per client, and two
 * views are alive while the next is built.
 */
struct xtel_view_client {
	const struct xtel_client_snap *snap;	/* into the view's snapshot */
	const char *site;	/* an aggregator's view: the client's site; else NULL */
	enum xtel_client_state state;
	uint32_t n_run_metrics;
	/* since the previous view (the run's start for the first one) */
	uint64_t d_received, d_bytes;
	double pkt_s, mb_s;
	const struct xtel_run_metric *run_metrics;	/* by first appearance */
	/*
	 * Its inventory entry (into the view's inventory; NULL: unknown, not
	 * in the inventory or no --db), and seconds since its last datagram.
	 * A device with a heartbeat_s is stale once silent for longer than
	 * it; others after --stale-after.
	 */
	const struct xtel_device *dev;
	double silent_s;
};

/*
 * Loss as a share of the datagrams a client meant us to get: lost /
 * (unique received + lost), in %, 0 with nothing expected. The one
 * definition of loss_pct (docs/API.md, model.c), for views and history
 * points.
 */
double xtel_loss_pct(uint64_t received, uint64_t duplicates, uint64_t lost);

static inline double xtel_view_client_loss_pct(const struct xtel_view_client *vc)
{
	return xtel_loss_pct(vc->snap->received, vc->snap->duplicates,
			     vc->snap->lost);
}

/* Bytes per datagram received (0 before the first). */
static inline double xtel_view_client_avg_size(const struct xtel_view_client *vc)
{
	return vc->snap->received ?
	       (double)vc->snap->bytes / (double)vc->snap->received : 0.0;
}

/* The mean over the run (0 without a sample, as min and max are unset). */
static inline double xtel_run_metric_mean(const struct xtel_run_metric *m)
{
	return m->count ? m->sum / (double)m->count : 0.0;
}

/*
 * One device of the inventory as this view sees it: its client (NULL:
 * nothing received from it this run) and whether it is overdue.
 */
struct xtel_view_device {
	const struct xtel_device *dev;
	const struct xtel_view_client *vc;	/* NULL: never seen this run */
	/*
	 * Seconds since its last datagram, or since the run started when
	 * never seen; stale when that is over its heartbeat_s (devices
	 * without one: when its client is stale, or never seen).
	 */
	double silent_s;
	bool stale;
};

/*
 * The XDP program's side, read by the model through the source main
 * supplies (main owns the loader). Per-client XDP counters are read for
 * the final view only: walking a 64k-entry map every interval would cost
 * the control thread more than the rest of the view.
 */
struct xtel_view_xdp_client {
	uint32_t client_id;
	uint64_t packets, bytes, seq_gaps;
};

struct xtel_view_xdp {
	bool on;			/* false: no program attached */
	const char *attach_mode;	/* "native", "skb" */
	struct xtel_xdp_opts opts;	/* in effect, defaults filled in */
	const char *pin_dir;		/* "" when not pinned */
	struct xtel_xdp_totals totals;
	uint64_t dropped;		/* sum of the drop outcomes */
	uint64_t n_clients;		/* entries in the per-client map */
	struct xtel_view_xdp_client *clients;	/* final view only */
	bool afxdp;			/* AF_XDP sockets are receiving */
	const char *afxdp_bind_mode;
	unsigned int afxdp_sockets;
	struct xtel_afxdp_stats afxdp_stats;
};

/*
 * The counters and gauges of a control-plane component (the exporter,
 * the aggregator), copied into each view and rendered under the
 * family's name by the summary JSON, /api/v1/stats and /metrics
 * (xtel_<name>_<counter>_total, xtel_<name>_<gauge>).
 */
enum { XTEL_VIEW_FAMILY_ROWS = 24, XTEL_VIEW_FAMILIES = 2 };

struct xtel_view_family {
	const char *name;		/* "export", "aggregate" */
	const struct xtel_counter_desc *desc, *gauge_desc;
	unsigned int n, n_gauges;
	uint64_t vals[XTEL_VIEW_FAMILY_ROWS], gauges[XTEL_VIEW_FAMILY_ROWS];
};

/* An aggregator's view: the totals of one site's clients. */
struct xtel_view_site {
	const char *name;
	uint32_t clients;
	unsigned int live, stale, bye;
	struct xtel_client_snap snap;	/* summed counters, merged latency */
	struct xtel_view_client total;	/* total.snap = &snap */
};

struct xtel_view {
	uint64_t seq;			/* 1 for the first view of the run */
	bool final;			/* after the workers stopped */
	uint64_t taken_ns;		/* CLOCK_REALTIME */
	double elapsed_s;		/* since the run started */
	double dt_s;			/* since the previous view */
	struct xtel_snapshot snap;	/* clients sorted by client_id */
	struct xtel_view_client *clients;	/* parallel to snap.clients */
	struct xtel_view_client total;
	unsigned int live, stale, bye;
	struct xtel_worker_counters cnt;	/* summed over the workers */
	uint64_t dropped_total;
	/* DTLS sessions established now: handshakes_ok less the ended ones */
	uint64_t dtls_sessions;
	struct xtel_view_xdp xdp;
	uint64_t build_ns;		/* what making this view cost (CLOCK_MONOTONIC) */
	/* The newest DTLS handshake failures of every path, oldest first. */
	struct xtel_fail_event recent_failures[XTEL_RECENT_FAILURES];
	unsigned int n_recent_failures;
	struct xtel_view_family families[XTEL_VIEW_FAMILIES];
	unsigned int n_families;
	struct xtel_view_site *sites;	/* an aggregator's view; else NULL */
	unsigned int n_sites;

	/*
	 * The device inventory the view was made with (NULL: no --db; the
	 * view holds a reference), its devices in id order, and counts.
	 */
	struct xtel_inventory *inv;
	struct xtel_view_device *devices;
	uint32_t n_devices;
	unsigned int devices_stale, devices_disabled, devices_unseen;
	unsigned int clients_unknown;	/* clients not in the inventory */
	/* health verdicts and events (health/health.h); NULL: health off */
	struct xtel_health_view *health;

	/* owned storage and the reference count; run_metrics_pool's block
	 * also holds what the run metrics point at that is not the
	 * snapshot's (model.c, agg/state.c) */
	struct xtel_run_metric *run_metrics_pool;
	unsigned int refs;
};

void xtel_view_get(struct xtel_view *v);
void xtel_view_put(struct xtel_view *v);

#endif /* XTEL_VIEW_H */
