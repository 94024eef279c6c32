// SPDX-License-Identifier: MIT
/*
 * What the probe writes: one JSON line per download (iperf3's names where
 * it has one: timesecs, bytes, seconds, bits_per_second), a progress line
 * a second on stderr, and at the end a text summary and the JSON report.
 * The figures come from the probe library's summary (probe/stats.h), the
 * same code the analysis uses, so the run's report and the stored
 * history's analysis agree on the same samples.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/json.h"
#include "probe/stats.h"
#include "probe.h"

const struct xtel_counter_desc xtel_pb_counter_desc[XTEL_PB_C_MAX] = {
#define X(id, nm, un, hp) XTEL_COUNTER_DESC(XTEL_PB_C_, id, nm, un, hp)
	XTEL_PB_COUNTER_TABLE(X)
#undef X
};

void xtel_pb_log_sample(FILE *f, const struct xtel_probe_sample *s, uint64_t k,
			const char *error)
{
	json_t *o = xtel_probe_sample_to_json(s, k, error);
	char *line = NULL;
	size_t len;

	if (o && xtel_json_dump_alloc(o, &line, &len) == 0) {
		fwrite(line, 1, len, f);
		fputc('\n', f);
	}
	free(line);
	json_decref(o);
}

void xtel_pb_progress(const struct xtel_pb_run *run, FILE *f)
{
	double t = (double)(xtel_mono_ns() - run->t0_mono_ns) / 1e9;

	fprintf(f, "probe: %7.1fs  started %llu  ok %llu  failed %llu  running %u\n",
		t, (unsigned long long)run->ctr[XTEL_PB_C_STARTED],
		(unsigned long long)run->kinds[XTEL_PROBE_OK],
		(unsigned long long)(run->ctr[XTEL_PB_C_STARTED] -
				     run->kinds[XTEL_PROBE_OK] - run->inflight),
		run->inflight);
}

static void stats_line(FILE *f, const char *what, const struct xtel_probe_stats *st)
{
	if (!st->n)
		return;
	fprintf(f, "  %-16s n %-6llu mean %10.3f  min %10.3f  p10 %10.3f  p90 %10.3f  max %10.3f\n",
		what, (unsigned long long)st->n, st->mean, st->min, st->p10, st->p90,
		st->max);
}

void xtel_pb_report_text(struct xtel_pb_run *run, FILE *f)
{
	struct xtel_probe_summary sm;

	if (xtel_probe_summarize(run->samples, run->n_samples, 0, &sm))
		return;
	fprintf(f, "probe: %u devices, %llu downloads: %llu ok, %llu failed",
		run->cfg->devices,
		(unsigned long long)(run->ctr[XTEL_PB_C_STARTED] - run->inflight),
		(unsigned long long)run->kinds[XTEL_PROBE_OK],
		(unsigned long long)(run->ctr[XTEL_PB_C_STARTED] - run->inflight -
				     run->kinds[XTEL_PROBE_OK]));
	for (unsigned int i = 1; i < XTEL_PROBE_KIND_MAX; i++)
		if (run->kinds[i])
			fprintf(f, ", %s %llu", xtel_probe_kind_desc[i].name,
				(unsigned long long)run->kinds[i]);
	fprintf(f, "\n");
	stats_line(f, "speed Mbit/s", &sm.speed);
	stats_line(f, "warm speed Mbit/s", &sm.speed_warm);
	stats_line(f, "ttfb ms", &sm.ttfb);
	stats_line(f, "tls ms", &sm.tls);
	stats_line(f, "total ms", &sm.total);
	for (unsigned int i = 0; i < XTEL_PB_C_MAX; i++)
		if (i != XTEL_PB_C_STARTED && run->ctr[i])
			fprintf(f, "  %s %llu\n", xtel_pb_counter_desc[i].name,
				(unsigned long long)run->ctr[i]);
}

static int by_device(const void *a, const void *b)
{
	const struct xtel_probe_sample *x = a, *y = b;

	if (x->device != y->device)
		return x->device < y->device ? -1 : 1;
	return (x->ts_ns > y->ts_ns) - (x->ts_ns < y->ts_ns);
}

int xtel_pb_report_json(struct xtel_pb_run *run, int code, FILE *f)
{
	const struct xtel_pb_config *cfg = run->cfg;
	json_t *o = json_object(), *c = json_object(), *k = json_object(),
	       *devs = json_array();
	struct xtel_probe_summary sm;
	int ret = -ENOMEM;

	if (!o || !c || !k || !devs)
		goto out;
	xtel_json_set(o, "tool", json_string("probe"));
	xtel_json_set(o, "exit_code", json_integer(code));
	xtel_json_set(o, "server", xtel_json_text(cfg->server));
	xtel_json_set(o, "size", xtel_json_u64(cfg->size));
	xtel_json_set(o, "devices", json_integer(cfg->devices));
	xtel_json_set(o, "interval_s", xtel_json_real(cfg->interval_s));
	xtel_json_set(o, "elapsed_s", xtel_json_fixed(
		(double)(xtel_mono_ns() - run->t0_mono_ns) / 1e9, 3));
	for (unsigned int i = 0; i < XTEL_PB_C_MAX; i++)
		xtel_json_set(c, xtel_pb_counter_desc[i].name, xtel_json_u64(run->ctr[i]));
	for (unsigned int i = 0; i < XTEL_PROBE_KIND_MAX; i++)
		xtel_json_set(k, xtel_probe_kind_desc[i].name, xtel_json_u64(run->kinds[i]));
	xtel_json_set(o, "counters", c);
	xtel_json_set(o, "kinds", k);
	c = k = NULL;
	if (xtel_probe_summarize(run->samples, run->n_samples, 0, &sm))
		goto out;
	xtel_json_set(o, "fleet", xtel_probe_summary_json(&sm));
	/* Per device: the samples sorted by device, one summary per run of them. */
	qsort(run->samples, run->n_samples, sizeof(*run->samples), by_device);
	for (size_t i = 0; i < run->n_samples;) {
		size_t j = i;
		json_t *d;

		while (j < run->n_samples && run->samples[j].device == run->samples[i].device)
			j++;
		if (xtel_probe_summarize(run->samples + i, j - i, 0, &sm))
			goto out;
		d = xtel_probe_summary_json(&sm);
		if (d)
			json_object_set_new(d, "device", json_integer(run->samples[i].device));
		json_array_append_new(devs, d);
		i = j;
	}
	xtel_json_set(o, "per_device", devs);
	devs = NULL;
	ret = xtel_json_write_report(f, o);
out:
	json_decref(o);
	json_decref(c);
	json_decref(k);
	json_decref(devs);
	fclose(f);
	return ret;
}
