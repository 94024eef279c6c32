/* SPDX-License-Identifier: MIT */
/*
 * A growing array kept in order by its owner (sorted by client id, as the
 * control thread's per-client tables are): make room for one element at
 * an index, doubling the capacity when full. The caller fills the slot.
 */
#ifndef XTEL_ARRAY_H
#define XTEL_ARRAY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Open a slot at index at of *base (n elements of size bytes, capacity
 * *cap; first allocation 64): 0, with *n one larger and elements at..n-1
 * moved up, or -ENOMEM with nothing changed.
 */
static inline int xtel_array_insert(void *base, uint32_t *n, uint32_t *cap,
				    size_t size, uint32_t at)
{
	char **b = base;

	if (*n == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 64;
		char *nb = realloc(*b, (size_t)ncap * size);

		if (!nb)
			return -ENOMEM;
		*b = nb;
		*cap = ncap;
	}
	memmove(*b + (size_t)(at + 1) * size, *b + (size_t)at * size,
		(size_t)(*n - at) * size);
	(*n)++;
	return 0;
}

/*
 * Capacity for at least want elements, exactly want when it grows (a
 * table sized by the clients of an interval, not doubled past them):
 * 0 or -ENOMEM with nothing changed.
 */
static inline int xtel_array_reserve(void *base, uint32_t *cap, size_t size,
				     uint32_t want)
{
	char **b = base;
	char *nb;

	if (want <= *cap)
		return 0;
	nb = realloc(*b, (size_t)want * size);
	if (!nb)
		return -ENOMEM;
	*b = nb;
	*cap = want;
	return 0;
}

/*
 * Give back the room doubling left past n elements when it is more than
 * an eighth of n (the table stays valid if the allocator refuses).
 */
static inline void xtel_array_fit(void *base, uint32_t n, uint32_t *cap,
				  size_t size)
{
	char **b = base;
	char *nb;

	if (!n || *cap - n <= n / 8)
		return;
	nb = realloc(*b, (size_t)n * size);
	if (nb) {
		*b = nb;
		*cap = n;
	}
}

#endif /* XTEL_ARRAY_H */
