/* SPDX-License-Identifier: MIT */
/*
 * The QoS check: a client's interval against the service level of its
 * group (or label): p99 one-way latency, loss and jitter ceilings. A
 * ceiling of 0 is off. Unlike the baselines this needs no history, so it
 * can judge a client whose normal was always bad; p99 latency is one-way,
 * so its ceiling means something only with synchronised clocks (the
 * baselines and the queueing delay do not need them).
 */
#ifndef XTEL_HEALTH_SLO_H
#define XTEL_HEALTH_SLO_H

#include <stdbool.h>

struct xtel_health_slo {
	double p99_ms;		/* 0: off */
	double loss_pct;	/* 0: off */
	double jitter_ms;	/* 0: off */
};

enum xtel_health_slo_bit {
	XTEL_HEALTH_SLO_P99 = 1 << 0,
	XTEL_HEALTH_SLO_LOSS = 1 << 1,
	XTEL_HEALTH_SLO_JITTER = 1 << 2,
};

/*
 * Which ceilings the interval breaks (a mask of xtel_health_slo_bit);
 * *worst gets the largest value/ceiling ratio of them (0 when none).
 * have_lat false (no latency sample in the interval) skips p99 and jitter.
 */
unsigned int xtel_health_slo_check(const struct xtel_health_slo *s,
				   bool have_lat, double p99_ms,
				   double loss_pct, double jitter_ms,
				   double *worst);

#endif /* XTEL_HEALTH_SLO_H */
