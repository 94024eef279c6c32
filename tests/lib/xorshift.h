/* SPDX-License-Identifier: MIT */
/*
 * The deterministic random numbers of the tests and benchmarks: xorshift64
 * (Marsaglia), so a failing case or a benchmark figure reproduces from its
 * seed alone. Header only; each program keeps its own state word.
 */
#ifndef XTEL_TEST_XORSHIFT_H
#define XTEL_TEST_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xtel_xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

/* Uniform in [0, 1), 53 bits. */
static inline double xtel_xorshift_unit(uint64_t *state)
{
	return (double)(xtel_xorshift64(state) >> 11) * 0x1.0p-53;
}

#endif
