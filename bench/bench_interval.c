// SPDX-License-Identifier: MIT
/*
 * The main thread's per-interval cost per client (issues 16 and 13): N
 * plain clients in the real registries (acct/), each interval a share of
 * them (--active-pct) gets --per-ivl DATA datagrams with the load
 * generator's two metrics and log-normal latencies, then the real model
 * (collector/model.c) builds the interval's view, health on (the
 * default, as the collector) or off (--no-health). Prints the view
 * build's CPU time per client per interval over the measured intervals
 * (after --warmup ones); for repeatable figures run it under callgrind
 * with --toggle-collect=xtel_model_update and divide Ir by
 * clients x intervals (bench/xtelbench/interval.py does).
 *
 * usage: bench_interval [--clients N] [--intervals K] [--warmup K]
 *                       [--per-ivl D] [--active-pct P] [--workers W]
 *                       [--no-health] [--json]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/synth_fleet.h"
#include "health/health.h"

enum { MAX_WORKERS = 16 };
static const uint64_t T0 = 1800000000ull * 1000000000ull;

struct opts {
	uint32_t clients, intervals, warmup, per_ivl, active_pct;
	unsigned int workers;
	bool health, json;
};

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .clients = 100000, .intervals = 3, .warmup = 2,
			    .per_ivl = 1, .active_pct = 100, .workers = 2,
			    .health = true };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--no-health")) {
			o->health = false;
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
		else if (!strcmp(a, "--intervals"))
			o->intervals = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--warmup"))
			o->warmup = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--per-ivl"))
			o->per_ivl = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--active-pct"))
			o->active_pct = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--workers"))
			o->workers = (unsigned int)strtoul(v, NULL, 10);
		else
			return -EINVAL;
	}
	if (!o->clients || !o->intervals || !o->workers ||
	    o->workers > MAX_WORKERS || o->active_pct > 100)
		return -EINVAL;
	return 0;
}

/* Interval k's datagrams: INIT at k = 0, then the active clients' DATA. */
static int feed(struct xtel_registry **regs, const struct opts *o,
		const uint64_t *lat, uint32_t k, uint32_t *seq)
{
	for (uint32_t id = 1; id <= o->clients; id++) {
		bool active = k == 0 || (id * 2654435761u + k * 40503u) % 100 <
					o->active_pct;

		for (uint32_t d = 0; active && d < (k ? o->per_ivl : 1); d++) {
			int rc = synth_account(regs[id % o->workers], id, seq[id]++,
					       T0 + (uint64_t)k * 1000000000ull +
					       (uint64_t)d * 1000000 + id, k == 0, lat);

			if (rc)
				return rc;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct xtel_registry *regs[MAX_WORKERS];
	struct xtel_health_cfg hcfg;
	struct xtel_model *model = NULL;
	uint64_t *lat;
	uint32_t *seq;
	double spent = 0;
	struct opts o;

	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: bench_interval [--clients N] "
			"[--intervals K] [--warmup K] [--per-ivl D] "
			"[--active-pct P] [--workers W] [--no-health] [--json]\n");
		return 2;
	}
	lat = malloc(SYNTH_LAT_TABLE * sizeof(*lat));
	seq = calloc(o.clients + 1, sizeof(*seq));
	if (!lat || !seq)
		return 1;
	synth_lat_table(lat, 50, 1.0);
	for (unsigned int w = 0; w < o.workers; w++) {
		regs[w] = xtel_registry_new(o.clients);
		if (!regs[w])
			return 1;
	}
	xtel_health_cfg_defaults(&hcfg);
	if (xtel_model_new(&(struct xtel_model_cfg){
		.regs = regs, .n_regs = o.workers,
		.stale_after_ns = 30ull * 1000000000ull,
		.counters = synth_no_counters, .health = o.health ? &hcfg : NULL,
	}, &model))
		return 1;
	for (uint32_t k = 0; k < o.warmup + o.intervals; k++) {
		double t;

		if (feed(regs, &o, lat, k, seq)) {
			fprintf(stderr, "bench_interval: accounting failed\n");
			return 1;
		}
		t = cpu_s();
		if (xtel_model_update(model, T0 + (uint64_t)(k + 1) * 1000000000ull,
				      (double)(k + 1), false))
			return 1;
		if (k >= o.warmup)
			spent += cpu_s() - t;
	}
	if (o.json)
		printf("{\"clients\": %u, \"intervals\": %u, \"health\": %s, "
		       "\"active_pct\": %u, \"ns_per_client_ivl\": %.1f}\n",
		       o.clients, o.intervals, o.health ? "true" : "false",
		       o.active_pct, spent * 1e9 / o.clients / o.intervals);
	else
		printf("%u clients, %u%% active, health %s: %.1f ns per client "
		       "per interval (view build, CPU)\n", o.clients,
		       o.active_pct, o.health ? "on" : "off",
		       spent * 1e9 / o.clients / o.intervals);
	xtel_model_free(model);
	for (unsigned int w = 0; w < o.workers; w++)
		xtel_registry_free(regs[w]);
	free(seq);
	free(lat);
	return 0;
}
