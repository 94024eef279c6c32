/* SPDX-License-Identifier: MIT */
/*
 * The heap's live bytes and their high-water mark, for benchmarks that
 * want the peak of a phase (the model's view build keeps two views and
 * its transient arrays alive at once), not only the level after it. A
 * program that links heap_peak.c gets malloc and friends counted
 * (usable sizes, malloc's headers excluded) on top of glibc's allocator;
 * with a sanitizer, which owns malloc itself, nothing is counted and
 * xtel_heap_counting() says so.
 */
#ifndef XTEL_BENCH_HEAP_PEAK_H
#define XTEL_BENCH_HEAP_PEAK_H

#include <stdbool.h>
#include <stdint.h>

/* Whether the allocator is being counted (false under a sanitizer). */
bool xtel_heap_counting(void);
/* Bytes allocated and not freed now. */
uint64_t xtel_heap_live(void);
/* The highest xtel_heap_live() since the last reset (or the start). */
uint64_t xtel_heap_peak(void);
/* Start a new high-water mark at the live bytes now. */
void xtel_heap_peak_reset(void);

#endif /* XTEL_BENCH_HEAP_PEAK_H */
