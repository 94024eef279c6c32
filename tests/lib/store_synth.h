/* SPDX-License-Identifier: MIT */
/*
 * Synthetic views for the history writer (store/writer.h): a fleet of
 * clients whose cumulative counters, latency histograms and metric
 * samples advance by exactly what the caller says, turned into frames
 * the writer takes through the same xtel_store_process/xtel_store_push
 * path as the collector's views. Each frame owns its own snapshot (the
 * writer keeps the previous one), freed by the frame's release. For the
 * store's unit tests, the documentation example and bench_store.
 */
#ifndef XTEL_TEST_STORE_SYNTH_H
#define XTEL_TEST_STORE_SYNTH_H

#include <stdint.h>

#include "acct/latency.h"
#include "store/writer.h"

/* What every client gets in one interval. */
struct xtel_synth_step {
	uint64_t received, bytes, lost, duplicates, reordered;
	/* received - duplicates latency samples: lat_ns + i * lat_step_ns */
	uint64_t lat_ns, lat_step_ns;
	/* metric samples of key "temp" (count 0: none): value = client id + v */
	uint64_t temp_count;
	double temp_add;
	/*
	 * Other metrics instead (NULL: "temp" as above): fills at most max
	 * metric samples of client id's interval that ends at t_ns (the
	 * frame's time) and returns how many.
	 */
	unsigned int (*metrics)(void *arg, uint32_t id, uint64_t t_ns,
				struct xtel_metric_snap *out, unsigned int max);
	void *metrics_arg;
};

/* Metric samples a client may get per frame through metrics(). */
enum { XTEL_SYNTH_MAX_METRICS = 32 };

struct xtel_synth {
	uint32_t n, first_id;
	uint64_t t_ns;			/* CLOCK_REALTIME of the next frame */
	double dt_s;
	struct xtel_client_snap *cum;	/* running cumulative figures */
	struct xtel_latency *lat;	/* per client */
	struct xtel_latency total_lat;
	uint64_t dropped;
};

int xtel_synth_init(struct xtel_synth *s, uint32_t n, uint32_t first_id,
		    uint64_t t0_ns, double dt_s);
void xtel_synth_fini(struct xtel_synth *s);

/*
 * Advances every client by st over one interval and makes the frame of
 * the view at its end (t advances by dt). Returns 0 or -ENOMEM.
 */
int xtel_synth_frame(struct xtel_synth *s, const struct xtel_synth_step *st,
		     struct xtel_store_frame *f);

#endif /* XTEL_TEST_STORE_SYNTH_H */
