// SPDX-License-Identifier: MIT
/* Summary statistics over values (see stats.h). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#include "probe/stats.h"

static int cmp_nan_last(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	return (x > y) - (x < y);
}

double xtel_probe_quantile(const double *sorted, size_t n, double p)
{
	double pos, frac;
	size_t lo;

	if (!n)
		return NAN;
	pos = p * (double)(n - 1);
	lo = (size_t)pos;
	if (lo >= n - 1)
		return sorted[n - 1];
	frac = pos - (double)lo;
	return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * frac;
}

void xtel_probe_stats_of(double *v, size_t n, struct xtel_probe_stats *out)
{
	double sum = 0;
	size_t k = 0;

	qsort(v, n, sizeof(*v), cmp_nan_last);
	while (k < n && !isnan(v[k]))
		sum += v[k++];
	out->n = k;
	out->mean = k ? sum / (double)k : NAN;
	out->min = k ? v[0] : NAN;
	out->max = k ? v[k - 1] : NAN;
	out->p10 = xtel_probe_quantile(v, k, 0.10);
	out->p50 = xtel_probe_quantile(v, k, 0.50);
	out->p90 = xtel_probe_quantile(v, k, 0.90);
}

/* Each metric that has a stats member, and which downloads it covers. */
static const struct {
	enum xtel_probe_metric m;
	size_t off;
	const char *json;
} summary_metric[] = {
	{ XTEL_PROBE_M_SPEED, offsetof(struct xtel_probe_summary, speed), "speed_mbps" },
	{ XTEL_PROBE_M_SPEED_WARM, offsetof(struct xtel_probe_summary, speed_warm), "speed_warm_mbps" },
	{ XTEL_PROBE_M_TTFB, offsetof(struct xtel_probe_summary, ttfb), "ttfb_ms" },
	{ XTEL_PROBE_M_TOTAL, offsetof(struct xtel_probe_summary, total), "total_ms" },
	{ XTEL_PROBE_M_TLS, offsetof(struct xtel_probe_summary, tls), "tls_ms" },
	{ XTEL_PROBE_M_CONNECT, offsetof(struct xtel_probe_summary, connect), "connect_ms" },
	{ XTEL_PROBE_M_SERVER_TTFB, offsetof(struct xtel_probe_summary, server_ttfb), "server_ttfb_ms" },
};

/* Adds sample s's downloads to the counts of out. */
static void count_sample(const struct xtel_probe_sample *s,
			 struct xtel_probe_summary *out)
{
	uint32_t failed = s->n > s->n_ok ? s->n - s->n_ok : 0;

	out->downloads += s->n;
	out->kinds[XTEL_PROBE_OK] += s->n_ok;
	if (failed)
		out->kinds[s->kind != XTEL_PROBE_OK && s->kind < XTEL_PROBE_KIND_MAX ?
			   s->kind : XTEL_PROBE_MIXED] += failed;
	if (!out->first_ns || s->ts_ns < out->first_ns)
		out->first_ns = s->ts_ns;
	if (s->ts_ns > out->last_ns)
		out->last_ns = s->ts_ns;
}

int xtel_probe_summarize(const struct xtel_probe_sample *s, size_t n,
			 uint32_t device, struct xtel_probe_summary *out)
{
	size_t cap = 0;
	double *v;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		if (!device || s[i].device == device) {
			count_sample(&s[i], out);
			cap += s[i].n_ok;
		}
	out->ok = out->kinds[XTEL_PROBE_OK];
	out->failed = out->downloads - out->ok;
	v = malloc((cap ? cap : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t k = 0; k < sizeof(summary_metric) / sizeof(summary_metric[0]); k++) {
		size_t m = 0;

		/*
		 * Timings of failed downloads describe failures: ok ones only,
		 * each bucket's mean weighted by its ok downloads.
		 */
		for (size_t i = 0; i < n; i++) {
			if (device && s[i].device != device)
				continue;
			for (uint32_t w = 0; w < s[i].n_ok; w++)
				v[m++] = s[i].v[summary_metric[k].m];
		}
		xtel_probe_stats_of(v, m, (struct xtel_probe_stats *)
				    ((char *)out + summary_metric[k].off));
	}
	free(v);
	return 0;
}

json_t *xtel_probe_stats_json(const struct xtel_probe_stats *st)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	xtel_json_set(o, "n", xtel_json_u64(st->n));
	xtel_json_set(o, "mean", xtel_json_fixed(st->mean, 3));
	xtel_json_set(o, "min", xtel_json_fixed(st->min, 3));
	xtel_json_set(o, "max", xtel_json_fixed(st->max, 3));
	xtel_json_set(o, "p10", xtel_json_fixed(st->p10, 3));
	xtel_json_set(o, "p50", xtel_json_fixed(st->p50, 3));
	xtel_json_set(o, "p90", xtel_json_fixed(st->p90, 3));
	return o;
}

json_t *xtel_probe_summary_json(const struct xtel_probe_summary *sm)
{
	json_t *o = json_object(), *k = json_object();

	if (!o || !k) {
		json_decref(o);
		json_decref(k);
		return NULL;
	}
	xtel_json_set(o, "downloads", xtel_json_u64(sm->downloads));
	xtel_json_set(o, "ok", xtel_json_u64(sm->ok));
	xtel_json_set(o, "failed", xtel_json_u64(sm->failed));
	for (unsigned int i = 0; i < XTEL_PROBE_KIND_MAX; i++)
		xtel_json_set(k, xtel_probe_kind_desc[i].name, xtel_json_u64(sm->kinds[i]));
	xtel_json_set(o, "kinds", k);
	for (size_t i = 0; i < sizeof(summary_metric) / sizeof(summary_metric[0]); i++)
		xtel_json_set(o, summary_metric[i].json, xtel_probe_stats_json(
			(const struct xtel_probe_stats *)((const char *)sm + summary_metric[i].off)));
	return o;
}
