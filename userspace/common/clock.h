/* SPDX-License-Identifier: MIT */
/*
 * The one clock helper: nanoseconds of a POSIX clock as a u64. Monotonic
 * time is for intervals, deadlines and rate limits; CLOCK_REALTIME is what
 * datagrams carry (send_ts_ns) and what SO_TIMESTAMPNS reports, so latency
 * is REALTIME against REALTIME. Code under test takes "now" as a parameter
 * instead of calling these, so tests can drive a fake clock.
 */
#ifndef XTEL_CLOCK_H
#define XTEL_CLOCK_H

#include <stdint.h>
#include <time.h>

#define XTEL_NS_PER_SEC 1000000000ull

static inline uint64_t xtel_timespec_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * XTEL_NS_PER_SEC + (uint64_t)ts->tv_nsec;
}

static inline uint64_t xtel_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return xtel_timespec_ns(&ts);
}

static inline uint64_t xtel_mono_ns(void)
{
	return xtel_clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t xtel_realtime_ns(void)
{
	return xtel_clock_ns(CLOCK_REALTIME);
}

#endif /* XTEL_CLOCK_H */
