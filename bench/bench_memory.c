// SPDX-License-Identifier: MIT
/*
 * Memory per plain client, by component (issue 16: <= 2 KiB per client,
 * of which health may take 1 KiB): feeds N clients through the real
 * registries (acct/) the way a receive worker does (INIT, then DATA with
 * the load generator's default two metrics, latencies drawn from a
 * log-normal distribution), then builds views with the real model
 * (collector/model.c, health off as with --no-health, or with --health on
 * as the collector runs it by default: the real engine and feed) and
 * prints, per client, the bytes of the record, the latency histogram, the
 * metric key slots, the registry's tables, the arena's slack, the model's
 * run state and one view's copy, with --health the engine's state, the
 * feed's previous latency copy, the rest of its table, its block of
 * engine inputs (1,024 clients at a time) and one view's results, next to the heap growth malloc reports
 * (mallinfo2, headers included) so that nothing escapes the breakdown.
 * Beside the levels, the peaks (heap_peak.c counts every allocation):
 * the last view build's high-water mark above the heap before it (the
 * new view and the build's transient arrays while the previous view is
 * still alive) and the whole run's, which is what VmHWM sees.
 * Deterministic: the same arguments give the same bytes.
 *
 * usage: bench_memory [--clients N] [--datagrams K] [--workers W]
 *                     [--lat-us MEDIAN] [--lat-sigma S] [--db] [--health]
 *                     [--view-every K] [--json]
 */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/heap_peak.h"
#include "bench/synth_fleet.h"
#include "collector/health_feed.h"

enum { MAX_WORKERS = 16 };

static const uint64_t T0 = 1800000000ull * 1000000000ull;

struct opts {
	uint32_t clients;
	uint32_t datagrams;	/* per client, INIT included */
	unsigned int workers;
	double lat_us, lat_sigma;
	bool db;		/* views carry encoded histograms, as with --db */
	bool health;		/* health inference on (the collector's default) */
	uint32_t view_every;	/* rounds between views, 0: after all of them */
	bool json;
};

static uint64_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .clients = 10000, .datagrams = 100, .workers = 1,
			    .lat_us = 50, .lat_sigma = 1.0 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--db")) {
			o->db = true;
			continue;
		}
		if (!strcmp(a, "--health")) {
			o->health = true;
			continue;
		}
		if (!strcmp(a, "--json")) {
			o->json = true;
			continue;
		}
		if (!v)
			return -EINVAL;
		i++;
		if (!strcmp(a, "--clients"))
			o->clients = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--datagrams"))
			o->datagrams = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--workers"))
			o->workers = (unsigned int)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--view-every"))
			o->view_every = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--lat-us"))
			o->lat_us = strtod(v, NULL);
		else if (!strcmp(a, "--lat-sigma"))
			o->lat_sigma = strtod(v, NULL);
		else
			return -EINVAL;
	}
	if (!o->clients || !o->datagrams || !o->workers ||
	    o->workers > MAX_WORKERS || o->lat_us <= 0 || o->lat_sigma < 0)
		return -EINVAL;
	return 0;
}

/*
 * Feed every client rounds [from, to): INIT, then DATA "temp=..;load=.."
 * at 1 s spacing.
 */
static int feed(struct xtel_registry **regs, const struct opts *o,
		const uint64_t *lat, uint32_t from, uint32_t to)
{
	for (uint32_t d = from; d < to; d++) {
		for (uint32_t id = 1; id <= o->clients; id++) {
			int rc = synth_account(regs[id % o->workers], id, d,
					       T0 + (uint64_t)d * 1000000000ull +
					       (uint64_t)id * 1000, d == 0, lat);

			if (rc)
				return rc;
		}
	}
	return 0;
}

static void row(const struct opts *o, const char *name, uint64_t bytes)
{
	if (o->json)
		printf("%s\"%s\": %.1f", strcmp(name, "record") ? ", " : "",
		       name, (double)bytes / o->clients);
	else
		printf("%-34s %10.1f\n", name, (double)bytes / o->clients);
}

/*
 * Health's share: the engine's state per client, the feed's previous
 * latency copies and the rest of its tables, and one view's results (two
 * views are alive while the model builds the next).
 */
static void health_rows(const struct opts *o, const struct xtel_model *model,
			const struct xtel_health_view *hv)
{
	struct xtel_health_feed_mem fm;
	uint64_t res = 0;

	xtel_health_feed_mem(xtel_model_health(model), &fm);
	row(o, "health_engine", fm.engine_table);
	row(o, "health_lat_copy", fm.lat_copy);
	row(o, "health_feed_table", fm.feed_table);
	row(o, "health_inputs", fm.inputs);
	if (hv) {
		res = (uint64_t)hv->n_clients * sizeof(*hv->clients) +
		      (uint64_t)hv->n_keys * sizeof(*hv->keys);
		for (uint32_t i = 0; i < hv->n_clients; i++)
			res += hv->clients[i].n_metrics * sizeof(*hv->clients[i].metric) +
			       hv->clients[i].n_causes * sizeof(*hv->clients[i].cause);
	}
	row(o, "health_result_view", res);
}

int main(int argc, char **argv)
{
	struct xtel_registry *regs[MAX_WORKERS];
	struct xtel_model *model = NULL;
	struct xtel_acct_mem mem = { 0 };
	struct opts o;
	uint64_t *lat, h0, h3, view_snap, acc_heap = 0, model_heap = 0;
	uint64_t live0, build_peak = 0, run_peak = 0;
	struct xtel_health_cfg hcfg;
	struct xtel_view *v;
	int rc;

	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: bench_memory [--clients N] [--datagrams K] "
			"[--workers W] [--lat-us MEDIAN] [--lat-sigma S] "
			"[--db] [--health] [--view-every K] [--json]\n");
		return 2;
	}
	lat = malloc(SYNTH_LAT_TABLE * sizeof(*lat));
	if (!lat)
		return 1;
	synth_lat_table(lat, o.lat_us, o.lat_sigma);

	xtel_health_cfg_defaults(&hcfg);
	h0 = heap_bytes();
	live0 = xtel_heap_live();
	xtel_heap_peak_reset();
	for (unsigned int w = 0; w < o.workers; w++) {
		regs[w] = xtel_registry_new(o.clients);
		if (!regs[w])
			return 1;
	}
	rc = xtel_model_new(&(struct xtel_model_cfg){
		.regs = regs, .n_regs = o.workers,
		.stale_after_ns = 30ull * 1000000000ull,
		.counters = synth_no_counters, .lat_hist = o.db,
		.health = o.health ? &hcfg : NULL,
	}, &model);
	if (rc)
		return 1;
	/*
	 * Views every --view-every rounds while the clients send (a round is
	 * a second: --view-every 1 is the collector's default interval), or
	 * none until all is sent; then two intervals more, so that the model
	 * holds one view and its run state. The heap's growth is split
	 * between the accounting (feeding) and the model (views).
	 */
	for (uint32_t sent = 0, k = 0; k < 2 || sent < o.datagrams; k++) {
		uint32_t to = o.view_every ? sent + o.view_every : o.datagrams;
		uint64_t hb = heap_bytes();

		if (to > o.datagrams)
			to = o.datagrams;
		rc = feed(regs, &o, lat, sent, to);
		if (rc) {
			fprintf(stderr, "bench_memory: accounting failed: %s\n",
				strerror(-rc));
			return 1;
		}
		acc_heap += heap_bytes() - hb;
		hb = heap_bytes();
		sent = to;
		if (xtel_heap_peak() > run_peak)
			run_peak = xtel_heap_peak();
		xtel_heap_peak_reset();
		build_peak = xtel_heap_live();
		rc = xtel_model_update(model, T0 + (uint64_t)sent * 1000000000ull +
				       (sent == o.datagrams ? k : 0), (double)(k + 1),
				       false);
		if (rc)
			return 1;
		model_heap += heap_bytes() - hb;
		build_peak = xtel_heap_peak() - build_peak;
	}
	if (xtel_heap_peak() > run_peak)
		run_peak = xtel_heap_peak();
	for (unsigned int w = 0; w < o.workers; w++)
		xtel_registry_mem(regs[w], &mem);
	h3 = heap_bytes();
	v = xtel_model_view(model);
	view_snap = (uint64_t)v->snap.n_clients *
		    (sizeof(struct xtel_client_snap) +
		     sizeof(struct xtel_view_client));
	for (uint32_t i = 0; i < v->snap.n_clients; i++)
		view_snap += (uint64_t)v->snap.clients[i].n_metrics *
			     sizeof(struct xtel_metric_snap) +
			     (uint64_t)v->clients[i].n_run_metrics *
			     sizeof(struct xtel_run_metric) +
			     v->snap.clients[i].lat_hist_len;

	if (o.json)
		printf("{\"clients\": %u, \"datagrams\": %u, \"workers\": %u, "
		       "\"db\": %s, ",
		       o.clients, o.datagrams, o.workers, o.db ? "true" : "false");
	else
		printf("%u clients, %u datagrams each, %u worker(s), latency "
		       "median %.0f us sigma %.2f%s\nbytes per client:\n",
		       o.clients, o.datagrams, o.workers, o.lat_us, o.lat_sigma,
		       o.db ? ", --db histograms in the view" : "");
	if (o.json)
		printf("\"health\": %s, \"bytes_per_client\": {",
		       o.health ? "true" : "false");
	else if (o.health)
		printf("health on (the default)\n");
	row(&o, "record", mem.records);
	row(&o, "histogram", mem.hist);
	row(&o, "metrics", mem.metrics);
	row(&o, "registry", mem.registry);
	row(&o, "arena_slack", mem.arena_slack);
	row(&o, "accounting_heap", acc_heap);
	row(&o, "view_copy", view_snap);
	if (o.health)
		health_rows(&o, model, v->health);
	row(&o, "model_and_view_heap", model_heap);
	row(&o, "total_heap", h3 - h0);
	if (xtel_heap_counting()) {
		row(&o, "build_peak", build_peak);
		row(&o, "peak_heap", run_peak - live0);
	}
	if (o.json)
		printf("}}\n");
	xtel_view_put(v);
	xtel_model_free(model);
	for (unsigned int w = 0; w < o.workers; w++)
		xtel_registry_free(regs[w]);
	free(lat);
	return 0;
}
