/* SPDX-License-Identifier: MIT */
/*
 * One probe download's result, as the probe client measures it, the
 * telemetry DATA payload carries it and the analysis reads it back from
 * the stored history. Timings are milliseconds and NaN when not measured
 * (a download that failed at connect has no TLS time); speeds are Mbit/s
 * (10^6 bits per second).
 */
#ifndef XTEL_PROBE_SAMPLE_H
#define XTEL_PROBE_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "probe/kinds.h"

/*
 * A sample is one download (n 1), or a bucket of the stored history that
 * folded n downloads into the means of its metrics (n_ok of them ok; kind
 * XTEL_PROBE_MIXED when its failures were not all of one kind).
 */
struct xtel_probe_sample {
	uint64_t ts_ns;		/* CLOCK_REALTIME: download start, or bucket start */
	uint32_t device;	/* client id */
	uint32_t kind;		/* enum xtel_probe_kind */
	uint32_t n, n_ok;	/* downloads it stands for, and the ok ones */
	double v[XTEL_PROBE_M_MAX];	/* by enum xtel_probe_metric; NaN: none */
};

/* One download (n 1, n_ok 0), every value NaN, kind other. */
void xtel_probe_sample_init(struct xtel_probe_sample *s);

/*
 * The speed of a body of bytes that began arriving at ttfb_ms and ended
 * at total_ms: bits over the transfer phase, or over the whole download
 * when that phase is shorter than 1 ms (a small object arrives with its
 * first byte). NaN without bytes or time.
 */
double xtel_probe_speed_mbps(uint64_t bytes, double ttfb_ms, double total_ms);

/*
 * The DATA payload "probe_ok=1;probe_kind=0;probe_speed_mbps=93.207;..."
 * of s: every metric that is not NaN, in table order, 3 decimals. Returns
 * its length (at most XTEL_MAX_PAYLOAD), or -ENOSPC.
 */
int xtel_probe_sample_format(const struct xtel_probe_sample *s, char *buf,
			     size_t cap);

/*
 * Sets the metric named key (not NUL-terminated, klen bytes) of s to v.
 * Returns 0, or -ENOENT for a key that is not a probe metric. probe_kind
 * sets s->kind as well.
 */
int xtel_probe_sample_set(struct xtel_probe_sample *s, const char *key,
			  size_t klen, double v);

/*
 * One line of the probe's --log: {"timesecs":..,"device":..,"probe":k,
 * "kind":..,"ok":..,"seconds":..,"bits_per_second":..,...}, metrics that
 * are NaN left out, error (curl's message) when not NULL or empty.
 */
json_t *xtel_probe_sample_to_json(const struct xtel_probe_sample *s, uint64_t k,
				  const char *error);
/* The sample of such a line; 0 or -EINVAL (a field missing or wrong). */
int xtel_probe_sample_from_json(const json_t *o, struct xtel_probe_sample *s);

#endif /* XTEL_PROBE_SAMPLE_H */
