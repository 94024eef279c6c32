/* SPDX-License-Identifier: MIT */
/*
 * Congestion-pattern analysis of probe samples, one device's or the
 * fleet's: the summary (stats.h), the hour-of-day profile (and the
 * day-of-week x hour one when the samples span a week), the busiest hour
 * by lowest mean speed and by highest mean response time with how sure
 * that is, the linear trend of the speed, the worst windows, and the
 * congestion episodes of each device (its speed below a fraction of its
 * own baseline for a minimum duration).
 *
 * Pure: samples in (any order; they are sorted in place), figures out.
 * The API (collector/api/probes.c), the report command (probe-report) and
 * the tests all call xtel_probe_analyze, so each shows the same numbers
 * for the same history. docs/PROBES.md defines every figure.
 *
 * Response time is the time to first byte (probe_ttfb_ms); latency is the
 * download time (probe_total_ms).
 */
#ifndef XTEL_PROBE_ANALYSIS_H
#define XTEL_PROBE_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "probe/sample.h"
#include "probe/stats.h"

enum { XTEL_PROBE_WORST_MAX = 32 };

struct xtel_probe_analysis_cfg {
	double congested_frac;	/* degraded: speed < frac x baseline (0.5) */
	double min_episode_s;	/* shorter episodes are left out (0) */
	double window_s;	/* worst windows' width (3600) */
	unsigned int n_worst;	/* how many worst windows (5, <= WORST_MAX) */
	int tz_offset_min;	/* hours of day in UTC + this (0) */
	size_t max_episodes;	/* episodes kept, the longest (1000) */
};

/* A bucket of the profile: ok downloads' speed and response time. */
struct xtel_probe_bucket {
	uint64_t n;		/* ok downloads (speed samples) */
	uint64_t failed;
	double speed_mean, speed_sd, speed_min, speed_max;
	uint64_t ttfb_n;
	double ttfb_mean, ttfb_sd;
	double total_mean;
	/* sums while accumulating */
	double s_speed, ss_speed, s_ttfb, ss_ttfb, s_total;
	uint64_t total_n;
};

/*
 * The busiest bucket by one figure: index (hour 0..23, or dow*24+hour),
 * its mean and count, the runner-up's, and how far apart they are in
 * standard errors (margin_se: large means the ranking is not chance).
 * index -1: no bucket has samples.
 */
struct xtel_probe_busiest {
	int index, runner_up;
	uint64_t n, runner_up_n;
	double value, runner_up_value;
	double margin_se;
	const char *confidence;	/* "high", "medium", "low" (see PROBES.md) */
};

struct xtel_probe_window {
	uint64_t start_ns;
	uint64_t n, failed;
	double speed_mean, ttfb_mean;
};

struct xtel_probe_episode {
	uint32_t device;
	uint64_t start_ns, end_ns;	/* first degraded start .. last one's end */
	uint64_t samples;		/* degraded samples in it */
	double baseline_mbps, threshold_mbps;
	double mean_mbps, min_mbps;	/* of its ok downloads (NaN: none) */
	uint64_t timeouts;
};

struct xtel_probe_analysis {
	struct xtel_probe_analysis_cfg cfg;
	struct xtel_probe_summary summary;
	struct xtel_probe_bucket hour[24];
	bool weekly;			/* the samples span 7 days or more */
	struct xtel_probe_bucket week[7 * 24];	/* dow (0 Sunday) * 24 + hour */
	struct xtel_probe_busiest busiest_speed, busiest_ttfb;
	struct xtel_probe_busiest week_speed, week_ttfb;	/* when weekly */
	/* speed = a + b * days since the first sample (least squares) */
	double trend_mbps_per_day, trend_pct_per_day;
	uint64_t trend_n;
	struct xtel_probe_window worst[XTEL_PROBE_WORST_MAX];
	unsigned int n_worst;
	struct xtel_probe_episode *episodes;	/* malloc'd; by start */
	size_t n_episodes;
	uint64_t episodes_dropped;	/* over cfg.max_episodes */
	double baseline_mbps;		/* one device analysed: its baseline */
};

void xtel_probe_analysis_cfg_default(struct xtel_probe_analysis_cfg *cfg);

/*
 * Analyses s[0..n-1] (reordered: by device, then time). device 0: the
 * fleet (every device's episodes against its own baseline), else only
 * that device's samples. Returns 0 or -ENOMEM; free with _free.
 */
int xtel_probe_analyze(struct xtel_probe_sample *s, size_t n, uint32_t device,
		       const struct xtel_probe_analysis_cfg *cfg,
		       struct xtel_probe_analysis *out);
void xtel_probe_analysis_free(struct xtel_probe_analysis *a);

/* "Sun".."Sat". */
const char *xtel_probe_dow_name(int dow);

/* The analysis as JSON (docs/API.md, /api/v1/probes/...). */
json_t *xtel_probe_analysis_json(const struct xtel_probe_analysis *a);
json_t *xtel_probe_bucket_json(const struct xtel_probe_bucket *b);

#endif /* XTEL_PROBE_ANALYSIS_H */
