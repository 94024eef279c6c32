/* SPDX-License-Identifier: MIT */
/*
 * Summary statistics of a set of values: count, mean, min, max and
 * percentiles (linear interpolation between closest ranks, as numpy's
 * default), NaN values left out. Shared by the probe's final summary and
 * the analysis, so both report the same figures for the same samples.
 */
#ifndef XTEL_PROBE_STATS_H
#define XTEL_PROBE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "probe/sample.h"

struct xtel_probe_stats {
	uint64_t n;		/* values that were not NaN */
	double mean, min, max;
	double p10, p50, p90;	/* NaN when n is 0 */
};

/*
 * The statistics of v[0..n-1]. v is reordered (sorted, NaNs last). Never
 * fails: n 0 gives n 0 and NaN everywhere else.
 */
void xtel_probe_stats_of(double *v, size_t n, struct xtel_probe_stats *out);

/* The p-quantile (0..1) of sorted[0..n-1]; NaN when n is 0. */
double xtel_probe_quantile(const double *sorted, size_t n, double p);



/* The figures of a set of downloads (one device's, or the fleet's). */
struct xtel_probe_summary {
	uint64_t downloads, ok, failed;
	uint64_t kinds[XTEL_PROBE_KIND_MAX];
	uint64_t first_ns, last_ns;	/* sample times; 0 when none */
	/* Over the ok downloads (timings: over those that measured them). */
	struct xtel_probe_stats speed, speed_warm, ttfb, total, tls, connect,
		server_ttfb;
};

/*
 * The summary of s[0..n-1] whose device is device, or of all when device
 * is 0. Returns 0, or -ENOMEM (scratch space for the percentiles).
 */
int xtel_probe_summarize(const struct xtel_probe_sample *s, size_t n,
			 uint32_t device, struct xtel_probe_summary *out);

/* {"n":..,"mean":..,"min":..,"max":..,"p10":..,"p50":..,"p90":..}, 3 decimals. */
json_t *xtel_probe_stats_json(const struct xtel_probe_stats *st);
/* downloads, ok, failed, kinds{}, speed_mbps{}, ... as in docs/PROBES.md. */
json_t *xtel_probe_summary_json(const struct xtel_probe_summary *sm);

#endif /* XTEL_PROBE_STATS_H */
