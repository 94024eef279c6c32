/* SPDX-License-Identifier: MIT */
/*
 * Drift-free pacing against CLOCK_MONOTONIC. A pacer does not measure gaps
 * between sends; it answers "how many datagrams should have been sent by
 * now" from the start time and the rate schedule (one rate, or ramp steps),
 * so a late wakeup is made up by the next batch and the achieved rate over a
 * run equals the requested one as long as the CPU keeps up.
 */
#ifndef XTEL_LG_PACING_H
#define XTEL_LG_PACING_H

#include <stdint.h>

#include "common/clock.h"

#include "config.h"

struct xtel_lg_pacer {
	uint64_t t0_ns;			/* CLOCK_MONOTONIC start */
	uint64_t step_ns;		/* ramp step length; 0: single rate */
	uint32_t n_steps;
	double rates[XTEL_LG_MAX_RAMP_STEPS];	/* per second, this pacer's share */
	double before[XTEL_LG_MAX_RAMP_STEPS + 1]; /* slots due before step k */
	uint64_t limit;			/* total slots (duration/count cap) */
	uint64_t end_ns;		/* 0: no time limit */
	int unlimited;			/* rate 0: as fast as possible */
};


/*
 * share scales the configured rates (a thread's fraction of the clients).
 * duration_s 0 means no time limit; limit_slots 0 means no slot limit.
 */
void xtel_lg_pacer_init(struct xtel_lg_pacer *p, const struct xtel_lg_config *cfg,
			double share, uint64_t t0_ns, uint64_t limit_slots);

/* Slots due by now_ns (capped at the limit); UINT64_MAX when unlimited. */
uint64_t xtel_lg_pacer_due(const struct xtel_lg_pacer *p, uint64_t now_ns);

/* The earliest time at which `slots` slots are due; UINT64_MAX if never. */
uint64_t xtel_lg_pacer_time_of(const struct xtel_lg_pacer *p, uint64_t slots);

/* Ramp step index at now_ns (0 without a ramp; the last step after the end). */
uint32_t xtel_lg_pacer_step(const struct xtel_lg_pacer *p, uint64_t now_ns);

/* Sleep until the absolute CLOCK_MONOTONIC time t_ns (EINTR returns early). */
void xtel_lg_sleep_until(uint64_t t_ns);

#endif /* XTEL_LG_PACING_H */
