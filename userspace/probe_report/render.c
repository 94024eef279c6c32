// SPDX-License-Identifier: MIT
/*
 * probe-report's markdown: the fleet's summary, busiest hour (and day),
 * profile, trend, worst windows and congestion episodes, then one row per
 * device, each figure from the analysis (probe/analysis.h) as the API
 * serves it; docs/PROBES.md defines them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "probe_report/report.h"

static void when(char *buf, size_t len, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void num(FILE *f, double v)
{
	if (isnan(v))
		fprintf(f, " | -");
	else
		fprintf(f, " | %.2f", v);
}

static void stats_row(FILE *f, const char *what, const struct xtel_probe_stats *st)
{
	fprintf(f, "| %s | %llu", what, (unsigned long long)st->n);
	num(f, st->mean);
	num(f, st->min);
	num(f, st->p10);
	num(f, st->p50);
	num(f, st->p90);
	num(f, st->max);
	fprintf(f, " |\n");
}

static void busiest_line(FILE *f, const char *by, const char *unit,
			 const struct xtel_probe_busiest *b, bool weekly)
{
	if (b->index < 0) {
		fprintf(f, "- by %s: no samples\n", by);
		return;
	}
	fprintf(f, "- by %s: **", by);
	if (weekly)
		fprintf(f, "%s ", xtel_probe_dow_name(b->index / 24));
	fprintf(f, "%02d:00-%02d:59**, mean %.2f %s over %llu downloads", b->index % 24,
		b->index % 24, b->value, unit, (unsigned long long)b->n);
	if (b->runner_up >= 0) {
		fprintf(f, "; runner-up ");
		if (weekly)
			fprintf(f, "%s ", xtel_probe_dow_name(b->runner_up / 24));
		fprintf(f, "%02d:00 at %.2f %s (%llu); %.1f standard errors apart",
			b->runner_up % 24, b->runner_up_value, unit,
			(unsigned long long)b->runner_up_n, b->margin_se);
	}
	fprintf(f, "; confidence %s\n", b->confidence);
}

static void summary_table(FILE *f, const struct xtel_probe_summary *sm)
{
	fprintf(f, "| downloads | ok | failed |");
	for (unsigned int i = 1; i < XTEL_PROBE_KIND_MAX; i++)
		if (sm->kinds[i])
			fprintf(f, " %s |", xtel_probe_kind_desc[i].name);
	fprintf(f, "\n|---|---|---|");
	for (unsigned int i = 1; i < XTEL_PROBE_KIND_MAX; i++)
		if (sm->kinds[i])
			fprintf(f, "---|");
	fprintf(f, "\n| %llu | %llu | %llu |", (unsigned long long)sm->downloads,
		(unsigned long long)sm->ok, (unsigned long long)sm->failed);
	for (unsigned int i = 1; i < XTEL_PROBE_KIND_MAX; i++)
		if (sm->kinds[i])
			fprintf(f, " %llu |", (unsigned long long)sm->kinds[i]);
	fprintf(f, "\n\n| figure (ok downloads) | n | mean | min | p10 | p50 | p90 | max |\n"
		"|---|---|---|---|---|---|---|---|\n");
	stats_row(f, "speed (Mbit/s)", &sm->speed);
	stats_row(f, "speed after warm-up (Mbit/s)", &sm->speed_warm);
	stats_row(f, "response time, TTFB (ms)", &sm->ttfb);
	stats_row(f, "latency, download time (ms)", &sm->total);
	stats_row(f, "TLS handshake (ms)", &sm->tls);
	stats_row(f, "TCP connect (ms)", &sm->connect);
	stats_row(f, "server-side TTFB (ms)", &sm->server_ttfb);
}

static void devices_table(FILE *f, struct xtel_probe_samples *v,
			  const struct xtel_probe_analysis *fleet,
			  const struct xtel_probe_analysis_cfg *cfg)
{
	fprintf(f, "## Devices\n\n| device | downloads | ok | failed | speed avg | min | p10 | p90 | max | TTFB avg (ms) | busiest hour | episodes |\n"
		"|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	/* v is sorted by device: analyse each run of one device's samples. */
	for (size_t i = 0; i < v->n;) {
		struct xtel_probe_analysis a;
		size_t j = i, eps = 0;

		while (j < v->n && v->s[j].device == v->s[i].device)
			j++;
		if (xtel_probe_analyze(v->s + i, j - i, 0, cfg, &a) == 0) {
			const struct xtel_probe_summary *sm = &a.summary;

			for (size_t k = 0; k < fleet->n_episodes; k++)
				eps += fleet->episodes[k].device == v->s[i].device;
			fprintf(f, "| %u | %llu | %llu | %llu", v->s[i].device,
				(unsigned long long)sm->downloads, (unsigned long long)sm->ok,
				(unsigned long long)sm->failed);
			num(f, sm->speed.mean);
			num(f, sm->speed.min);
			num(f, sm->speed.p10);
			num(f, sm->speed.p90);
			num(f, sm->speed.max);
			num(f, sm->ttfb.mean);
			if (a.busiest_speed.index >= 0)
				fprintf(f, " | %02d:00 (%llu)", a.busiest_speed.index,
					(unsigned long long)a.busiest_speed.n);
			else
				fprintf(f, " | -");
			fprintf(f, " | %zu |\n", eps);
			xtel_probe_analysis_free(&a);
		}
		i = j;
	}
	fprintf(f, "\n");
}

void xtel_pr_markdown(FILE *f, const char *title, const char *source,
		      const struct xtel_probe_analysis *a, struct xtel_probe_samples *v,
		      const struct xtel_probe_analysis_cfg *cfg,
		      const struct xtel_pr_plot *plots, int n_plots)
{
	char t0[32], t1[32];

	when(t0, sizeof(t0), a->summary.first_ns);
	when(t1, sizeof(t1), a->summary.last_ns);
	fprintf(f, "# %s\n\nSource: `%s`. Samples from %s to %s UTC. "
		"Definitions: docs/PROBES.md.\n\n## Fleet\n\n", title, source, t0, t1);
	summary_table(f, &a->summary);
	fprintf(f, "\n## Busiest hour\n\nHours of day in UTC%+d min.\n\n", cfg->tz_offset_min);
	busiest_line(f, "lowest speed", "Mbit/s", &a->busiest_speed, false);
	busiest_line(f, "highest response time", "ms", &a->busiest_ttfb, false);
	if (a->weekly) {
		fprintf(f, "\nThe history spans a week or more: by day of week and hour,\n\n");
		busiest_line(f, "lowest speed", "Mbit/s", &a->week_speed, true);
		busiest_line(f, "highest response time", "ms", &a->week_ttfb, true);
	}
	fprintf(f, "\n## Variation over time\n\n");
	if (!isnan(a->trend_mbps_per_day)) {
		/* Over less than two days a rate per day says little: per hour. */
		bool hourly = a->summary.last_ns - a->summary.first_ns < 2 * 86400 * 1000000000ull;
		double k = hourly ? 1.0 / 24 : 1;

		fprintf(f, "Trend of the speed: %+.3f Mbit/s per %s (%+.2f %% per %s; least squares over %llu downloads).\n\n",
			a->trend_mbps_per_day * k, hourly ? "hour" : "day",
			a->trend_pct_per_day * k, hourly ? "hour" : "day",
			(unsigned long long)a->trend_n);
	}
	for (int i = 0; i < n_plots; i++)
		fprintf(f, "![%s](%s)\n\n", plots[i].title, plots[i].file);
	fprintf(f, "| hour | ok downloads | failed | speed mean | sd | min | max | TTFB mean (ms) | download time mean (ms) |\n"
		"|---|---|---|---|---|---|---|---|---|\n");
	for (int h = 0; h < 24; h++) {
		const struct xtel_probe_bucket *b = &a->hour[h];

		if (!b->n && !b->failed)
			continue;
		fprintf(f, "| %02d | %llu | %llu", h, (unsigned long long)b->n,
			(unsigned long long)b->failed);
		num(f, b->speed_mean);
		num(f, b->speed_sd);
		num(f, b->speed_min);
		num(f, b->speed_max);
		num(f, b->ttfb_mean);
		num(f, b->total_mean);
		fprintf(f, " |\n");
	}
	fprintf(f, "\n### Worst %g s windows\n\n| start (UTC) | ok downloads | failed | speed mean | TTFB mean (ms) |\n"
		"|---|---|---|---|---|\n", cfg->window_s);
	for (unsigned int i = 0; i < a->n_worst; i++) {
		when(t0, sizeof(t0), a->worst[i].start_ns);
		fprintf(f, "| %s | %llu | %llu", t0, (unsigned long long)a->worst[i].n,
			(unsigned long long)a->worst[i].failed);
		num(f, a->worst[i].speed_mean);
		num(f, a->worst[i].ttfb_mean);
		fprintf(f, " |\n");
	}
	fprintf(f, "\n## Congestion episodes\n\nSpeed below %.0f %% of the device's baseline (its p90 speed), or a timeout, for at least %g s.\n\n",
		cfg->congested_frac * 100, cfg->min_episode_s);
	if (!a->n_episodes)
		fprintf(f, "None.\n\n");
	else
		fprintf(f, "| device | start (UTC) | end (UTC) | duration (s) | downloads | timeouts | baseline | mean | min |\n"
			"|---|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < a->n_episodes; i++) {
		const struct xtel_probe_episode *e = &a->episodes[i];

		when(t0, sizeof(t0), e->start_ns);
		when(t1, sizeof(t1), e->end_ns);
		fprintf(f, "| %u | %s | %s | %.1f | %llu | %llu", e->device, t0, t1,
			(double)(e->end_ns - e->start_ns) / 1e9,
			(unsigned long long)e->samples, (unsigned long long)e->timeouts);
		num(f, e->baseline_mbps);
		num(f, e->mean_mbps);
		num(f, e->min_mbps);
		fprintf(f, " |\n");
	}
	if (a->episodes_dropped)
		fprintf(f, "\n%llu more episodes not listed.\n",
			(unsigned long long)a->episodes_dropped);
	fprintf(f, "\n");
	devices_table(f, v, a, cfg);
}
