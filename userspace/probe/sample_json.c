// SPDX-License-Identifier: MIT
/*
 * A probe sample as one JSON line of the probe's --log, and back (see
 * sample.h). Field names follow iperf3 where it has one (timesecs, bytes,
 * seconds, bits_per_second); the one table below maps them to the metric
 * enum, so the probe writes and probe-report reads the same names.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/json.h"
#include "probe/sample.h"

static const struct {
	enum xtel_probe_metric m;
	const char *key;
	double scale;		/* JSON value = metric x scale */
	int decimals;
} log_field[] = {
	{ XTEL_PROBE_M_SPEED, "bits_per_second", 1e6, 0 },
	{ XTEL_PROBE_M_SPEED_WARM, "bits_per_second_warm", 1e6, 0 },
	{ XTEL_PROBE_M_DNS, "dns_ms", 1, 3 },
	{ XTEL_PROBE_M_CONNECT, "connect_ms", 1, 3 },
	{ XTEL_PROBE_M_TLS, "tls_ms", 1, 3 },
	{ XTEL_PROBE_M_TTFB, "ttfb_ms", 1, 3 },
	{ XTEL_PROBE_M_TOTAL, "total_ms", 1, 3 },
	{ XTEL_PROBE_M_SERVER_TTFB, "server_ttfb_ms", 1, 3 },
	{ XTEL_PROBE_M_THROTTLE, "throttle_mbps", 1, 3 },
	{ XTEL_PROBE_M_BYTES, "bytes", 1, 0 },
	{ XTEL_PROBE_M_STATUS, "http_status", 1, 0 },
};

#define N_FIELDS (sizeof(log_field) / sizeof(log_field[0]))

json_t *xtel_probe_sample_to_json(const struct xtel_probe_sample *s, uint64_t k,
				  const char *error)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	xtel_json_set(o, "timesecs", xtel_json_fixed((double)s->ts_ns / 1e9, 6));
	xtel_json_set(o, "device", json_integer(s->device));
	xtel_json_set(o, "probe", xtel_json_u64(k));
	xtel_json_set(o, "kind", xtel_json_text(xtel_probe_kind_name(s->kind)));
	xtel_json_set(o, "ok", json_boolean(s->kind == XTEL_PROBE_OK));
	xtel_json_set(o, "seconds", xtel_json_fixed(s->v[XTEL_PROBE_M_TOTAL] / 1000.0, 6));
	for (size_t i = 0; i < N_FIELDS; i++) {
		double v = s->v[log_field[i].m];

		if (!isnan(v))
			xtel_json_set(o, log_field[i].key,
				      xtel_json_fixed(v * log_field[i].scale, log_field[i].decimals));
	}
	if (error && *error)
		xtel_json_set(o, "error", xtel_json_text(error));
	return o;
}

int xtel_probe_sample_from_json(const json_t *o, struct xtel_probe_sample *s)
{
	const json_t *ts = json_object_get(o, "timesecs"),
		     *dev = json_object_get(o, "device"),
		     *kind = json_object_get(o, "kind");
	int k;

	if (!json_is_number(ts) || !json_is_integer(dev) || !json_is_string(kind) ||
	    json_number_value(ts) < 0 || json_integer_value(dev) <= 0 ||
	    json_integer_value(dev) > UINT32_MAX)
		return -EINVAL;
	k = xtel_probe_kind_from_name(json_string_value(kind));
	if (k < 0)
		return -EINVAL;
	xtel_probe_sample_init(s);
	s->ts_ns = (uint64_t)llround(json_number_value(ts) * 1e9);
	s->device = (uint32_t)json_integer_value(dev);
	s->kind = (uint32_t)k;
	s->n_ok = k == XTEL_PROBE_OK;
	s->v[XTEL_PROBE_M_OK] = s->n_ok;
	s->v[XTEL_PROBE_M_KIND] = k;
	for (size_t i = 0; i < N_FIELDS; i++) {
		const json_t *v = json_object_get(o, log_field[i].key);

		if (json_is_number(v))
			s->v[log_field[i].m] = json_number_value(v) / log_field[i].scale;
	}
	return 0;
}
