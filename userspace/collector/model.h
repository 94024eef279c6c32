/* SPDX-License-Identifier: MIT */
/*
 * The model turns the receive workers' state into views (view.h). Once
 * per interval, on the control thread, it closes the metric interval,
 * snapshots every registry (without stopping the workers), sums the
 * counters, reads the XDP maps, derives every figure and publishes the new
 * view. It keeps what only a sequence of views knows: the previous view for
 * rates, and every client's metrics folded over the whole run (a registry
 * keeps only the last complete interval).
 */
#ifndef XTEL_MODEL_H
#define XTEL_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "acct/registry.h"
#include "collector/view.h"

struct xtel_health_feed;

/* Sums the workers' counters (with the kernel's drop counts folded in). */
typedef void xtel_model_counters_fn(void *arg, struct xtel_worker_counters *out);

/*
 * Fills the XDP part of a view; leaves it zeroed (on false) when no program
 * is attached. with_clients asks for the per-client counters too (the final
 * view), which the model frees with the view.
 */
typedef void xtel_model_xdp_fn(void *arg, struct xtel_view_xdp *out,
			       bool with_clients);

/*
 * Copies the newest DTLS handshake failures of every datagram path (at
 * most max, oldest first) into out; returns how many.
 */
typedef unsigned int xtel_model_failures_fn(void *arg,
					    struct xtel_fail_event *out,
					    unsigned int max);

/* Fills at most max families of control-plane counters; returns how many. */
typedef unsigned int xtel_model_families_fn(void *arg,
					    struct xtel_view_family *out,
					    unsigned int max);
/* The current device inventory with a reference taken (the view keeps it). */
typedef struct xtel_inventory *xtel_model_inventory_fn(void *arg);

struct xtel_model_cfg {
	struct xtel_registry *const *regs;	/* one per datagram path */
	unsigned int n_regs;
	uint64_t stale_after_ns;
	xtel_model_counters_fn *counters;	/* required */
	void *counters_arg;
	xtel_model_xdp_fn *xdp;			/* NULL: no XDP program */
	void *xdp_arg;
	xtel_model_failures_fn *failures;	/* NULL: none (plain mode) */
	void *failures_arg;
	xtel_model_families_fn *families;	/* NULL: none */
	void *families_arg;
	bool with_buckets;	/* snapshots keep the latency buckets (export) */
	bool lat_hist;		/* views carry encoded histograms (--db) */
	xtel_model_inventory_fn *inventory;	/* NULL: no --db */
	void *inventory_arg;
	const struct xtel_health_cfg *health;	/* NULL: no health inference */
};

struct xtel_model;

int xtel_model_new(const struct xtel_model_cfg *cfg, struct xtel_model **out);
void xtel_model_free(struct xtel_model *m);

/*
 * One interval boundary at now_ns (CLOCK_REALTIME), elapsed_s into the run.
 * With final set (after the workers stopped), gaps still pending become
 * lost and the XDP per-client counters are read. Returns 0; a negative
 * errno with no new view when the snapshot failed; or -ENOMEM with the view
 * published but some whole-run metric folds missing.
 */
int xtel_model_update(struct xtel_model *m, uint64_t now_ns, double elapsed_s,
		      bool final);

/*
 * A view client's derived figures from its counters c: state, and the
 * deltas and rates against prev (NULL: since the start) over dt seconds
 * (loss % and average size are view.h's accessors). For views made
 * elsewhere (the aggregator's).
 */
void xtel_view_client_derive(struct xtel_view_client *vc,
			     const struct xtel_client_snap *c,
			     const struct xtel_client_snap *prev, double dt);

/*
 * Publish a view made elsewhere (the aggregator's, from merged rollups):
 * its seq is set here; the model owns it from now on and frees it as its
 * own (view.h's storage: snap.clients, snap.metrics_pool, clients,
 * run_metrics_pool). n_families are filled from cfg.families.
 */
void xtel_model_publish(struct xtel_model *m, struct xtel_view *v);

/*
 * The latest view with a reference taken (xtel_view_put() it), or NULL
 * before the first update. Safe from any thread.
 */
struct xtel_view *xtel_model_view(struct xtel_model *m);

/* The health feed (NULL when off), for measuring it (bench_memory). */
const struct xtel_health_feed *xtel_model_health(const struct xtel_model *m);

#endif /* XTEL_MODEL_H */
