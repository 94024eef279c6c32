// SPDX-License-Identifier: MIT
/*
 * A probe result's payload codec and speed (see sample.h). The payload is
 * ordinary XTel metrics (docs/PROTOCOL.md): keys from the metric table,
 * values with three decimals, so the collector accounts and stores it like
 * any device's telemetry and the analysis can read it back by key.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bpf/xtel_wire.h"
#include "probe/sample.h"

void xtel_probe_sample_init(struct xtel_probe_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->kind = XTEL_PROBE_OTHER;
	s->n = 1;
	for (unsigned int i = 0; i < XTEL_PROBE_M_MAX; i++)
		s->v[i] = NAN;
}

double xtel_probe_speed_mbps(uint64_t bytes, double ttfb_ms, double total_ms)
{
	double ms = total_ms - ttfb_ms;

	if (!bytes || !(total_ms > 0))
		return NAN;
	if (!(ms >= 1.0))
		ms = total_ms;
	/* bits / ms / 1000 = Mbit/s */
	return (double)bytes * 8.0 / ms / 1000.0;
}

int xtel_probe_sample_format(const struct xtel_probe_sample *s, char *buf,
			     size_t cap)
{
	size_t n = 0;

	if (cap > XTEL_MAX_PAYLOAD + 1)
		cap = XTEL_MAX_PAYLOAD + 1;
	for (unsigned int i = 0; i < XTEL_PROBE_M_MAX; i++) {
		int w;

		if (isnan(s->v[i]))
			continue;
		w = snprintf(buf + n, cap - n, "%s%s=%.3f", n ? ";" : "",
			     xtel_probe_metric_desc[i].name, s->v[i]);
		if (w < 0 || (size_t)w >= cap - n)
			return -ENOSPC;
		n += (size_t)w;
	}
	return (int)n;
}

int xtel_probe_sample_set(struct xtel_probe_sample *s, const char *key,
			  size_t klen, double v)
{
	for (unsigned int i = 0; i < XTEL_PROBE_M_MAX; i++) {
		const char *name = xtel_probe_metric_desc[i].name;

		if (strlen(name) == klen && !memcmp(name, key, klen)) {
			s->v[i] = v;
			if (i == XTEL_PROBE_M_KIND && v >= 0 && v < XTEL_PROBE_KIND_MAX)
				s->kind = (uint32_t)v;
			return 0;
		}
	}
	return -ENOENT;
}
