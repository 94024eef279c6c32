/* SPDX-License-Identifier: MIT */
/*
 * The probe server's throttle: a schedule of download rates over time
 * ("0=200,20=20,40=200": 200 Mbit/s from second 0, 20 from second 20, 200
 * again from second 40, optionally repeating every period) and a pacer that
 * spaces writes so the bytes leave at the scheduled rate. Tests create
 * congestion of a known shape with it; the probe client reads the rate the
 * server applied from the X-Probe-Throttle-Mbps header.
 *
 * Everything here is pure: time is a parameter (ns since the schedule's
 * epoch for the schedule, any monotonic ns for the pacer).
 */
#ifndef XTEL_PROBE_SCHEDULE_H
#define XTEL_PROBE_SCHEDULE_H

#include <stdint.h>

enum { XTEL_PROBE_MAX_STEPS = 64 };

struct xtel_probe_step {
	uint64_t at_ns;		/* from the epoch (or the period's start) */
	double mbps;		/* 0: unlimited */
};

struct xtel_probe_schedule {
	struct xtel_probe_step step[XTEL_PROBE_MAX_STEPS];
	unsigned int n;		/* 0: unlimited throughout */
	uint64_t period_ns;	/* 0: the last step lasts forever */
};

/*
 * "MBIT" (one rate throughout) or "S=MBIT,S=MBIT,..." with strictly
 * increasing start seconds S, the first 0; MBIT 0 means unlimited, else
 * 0.001..100000. Returns 0 or -EINVAL.
 */
int xtel_probe_schedule_parse(const char *s, struct xtel_probe_schedule *out);

/* The rate in Mbit/s at t_ns after the epoch; 0: unlimited. */
double xtel_probe_schedule_rate(const struct xtel_probe_schedule *s,
				uint64_t t_ns);

/*
 * A pacer hands out send times: bytes reserved at rate mbps may leave when
 * a link of that rate would have carried them after everything reserved
 * before (the end of their slot, not its start: so the last byte of an
 * object leaves at size / rate after the first reservation, and a client
 * timing the body from the response's first byte measures the rate, not
 * one write more). The long-run rate is mbps whatever the write sizes. A
 * pacer that fell behind keeps at most burst_ns of credit: enough to make
 * up for writes a busy machine woke late for, while the caller restarts
 * the pacer (next_ns = now) when it begins after being idle. One pacer per
 * connection, or one shared by all (the caller serialises access).
 */
struct xtel_probe_pacer {
	uint64_t next_ns;	/* earliest start of the next write */
	uint64_t burst_ns;	/* credit a pacer that fell behind may keep */
};

/*
 * Reserves len bytes at mbps (0: unlimited, returns now_ns) and returns
 * the time at which they may be written (the end of their slot).
 */
uint64_t xtel_probe_pacer_reserve(struct xtel_probe_pacer *p, uint64_t now_ns,
				  uint64_t len, double mbps);

#endif /* XTEL_PROBE_SCHEDULE_H */
