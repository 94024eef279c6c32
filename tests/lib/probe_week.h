/* SPDX-License-Identifier: MIT */
/*
 * The week of congestion the probe tests plant (tests/unit/
 * test_probe_analysis.c, test_probe_history.c, and so docs/PROBES.md's
 * example): local time UTC+1, 100 Mbit/s and 20 ms to first byte, except
 * 40 Mbit/s and 80 ms at 20h every day, 30 Mbit/s on Wednesdays at 21h and
 * 200 ms on Fridays at 09h. t_s counts seconds from a Sunday 00:00 UTC.
 */
#ifndef XTEL_TEST_PROBE_WEEK_H
#define XTEL_TEST_PROBE_WEEK_H

#include <stdint.h>

static inline void xtel_probe_week(uint64_t t_s, double *speed, double *ttfb)
{
	uint64_t local = t_s + 3600;
	int hour = (int)(local / 3600 % 24), dow = (int)(local / 86400 % 7);

	*speed = 100;
	*ttfb = 20;
	if (hour == 20) {
		*speed = 40;
		*ttfb = 80;
	}
	if (dow == 3 && hour == 21)
		*speed = 30;
	if (dow == 5 && hour == 9)
		*ttfb = 200;
}

#endif /* XTEL_TEST_PROBE_WEEK_H */
