/* SPDX-License-Identifier: MIT */
/*
 * The health feed: the collector's side of health inference
 * (userspace/health/). Once per interval, on the control thread, the model
 * hands it the latency histograms during the snapshot (for the interval's
 * quantiles) and then the finished view; the feed measures each client's
 * interval (latency p50/p99/jitter/minimum, loss, duplicate and reorder
 * rates, datagram rate, its numeric metrics), runs the engine and hangs
 * the results on the view (view->health). Readers only read that.
 *
 * Groups: a client's group is its device's site label (the inventory of
 * --db, devices/inventory.h), "fleet" for a client without one;
 * health_group_label() in health_feed.c is where another label would be
 * chosen. The group is looked up again whenever the label changes.
 */
#ifndef XTEL_HEALTH_FEED_H
#define XTEL_HEALTH_FEED_H

#include "acct/snapshot.h"
#include "collector/view.h"
#include "health/health.h"

struct xtel_health_feed;

int xtel_health_feed_new(const struct xtel_health_cfg *cfg,
			 struct xtel_health_feed **out);
void xtel_health_feed_free(struct xtel_health_feed *f);

/* xtel_snapshot_lat_fn: give it to xtel_snapshot_take_lat(). */
void xtel_health_feed_lat(void *arg, uint32_t client_id,
			  const struct xtel_latency *h);

/*
 * Judge the interval that ends with v (prev: the view before, NULL for the
 * first) and set v->health. Returns 0 or -ENOMEM (v->health may then be
 * NULL or partial).
 */
int xtel_health_feed_update(struct xtel_health_feed *f, struct xtel_view *v,
			    const struct xtel_view *prev);

/* What the feed and its engine hold (bench/bench_memory.c), in bytes. */
struct xtel_health_feed_mem {
	uint32_t clients;	/* the feed's */
	double engine_per_client;	/* xtel_health_client_bytes() */
	uint64_t engine_table;	/* the engine's client table, its capacity */
	uint64_t lat_copy;	/* the previous latency copies, blocks included */
	uint64_t feed_table;	/* the rest of the feed's per-client table */
	uint64_t inputs;	/* a block of engine inputs, kept between intervals */
};

void xtel_health_feed_mem(const struct xtel_health_feed *f,
			  struct xtel_health_feed_mem *out);

#endif /* XTEL_HEALTH_FEED_H */
