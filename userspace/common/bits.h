/* SPDX-License-Identifier: MIT */
/*
 * Bit counting for the builds that target baseline x86-64 (no -mpopcnt):
 * there __builtin_popcount is a libgcc call of ~20 instructions, which the
 * packed histogram's page look-up (acct/latpack.c, on the receive path)
 * and health's copy sizes (health/ivl_latency.c, per client per view)
 * would pay; this is a dozen inline, the instruction itself where the
 * target has it. Two widths: the 32-bit form's immediates fit its
 * instructions, so the receive path's page look-up keeps its count; the
 * 64-bit form does a 64-bit mask in one call.
 */
#ifndef XTEL_BITS_H
#define XTEL_BITS_H

#include <stdint.h>

static inline unsigned int xtel_popcount32(uint32_t x)
{
#ifdef __POPCNT__
	return (unsigned int)__builtin_popcount(x);
#else
	x -= (x >> 1) & 0x55555555u;
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	x = (x + (x >> 4)) & 0x0F0F0F0Fu;
	return (x * 0x01010101u) >> 24;
#endif
}

/* The same over 64 bits (one call where two 32-bit ones would do). */
static inline unsigned int xtel_popcount64(uint64_t x)
{
#ifdef __POPCNT__
	return (unsigned int)__builtin_popcountll(x);
#else
	x -= (x >> 1) & 0x5555555555555555ull;
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
	return (unsigned int)((x * 0x0101010101010101ull) >> 56);
#endif
}

#endif /* XTEL_BITS_H */
