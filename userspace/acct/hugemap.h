/* SPDX-License-Identifier: MIT */
/*
 * One anonymous mapping for a registry's big arrays (its records, its
 * arena's chunks, a large hash table), aligned to 2 MiB and marked
 * MADV_HUGEPAGE, so that at 100,000 clients a datagram of a cold client
 * misses the TLB on a few 2 MiB pages instead of a dozen 4 KiB ones
 * (docs/CAPACITY.md "Huge pages for the accounting at 100,000 clients").
 * The mapping is reserved once at its largest size (the registry is
 * bounded by --max-clients) with MAP_NORESERVE, so it costs address space,
 * not memory: only touched pages count, and the owner takes parts of it
 * in order, so the touched part is a prefix. Unless the owner touches
 * all of it (a hash table), the first 2 MiB stay in 4 KiB pages: a small
 * fleet then pays nothing for huge pages, a large one at most one partly
 * used huge page at the end of what it uses. When the
 * kernel refuses MADV_HUGEPAGE (THP off, an old kernel) the mapping works
 * with normal pages; that is logged once and counted
 * (xtel_hugemap_fallbacks()). Memory is zero when taken and is given
 * back only with the whole mapping. Owned by one writer: no locks.
 */
#ifndef XTEL_HUGEMAP_H
#define XTEL_HUGEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { XTEL_HUGEMAP_PAGE = 2 << 20 };

struct xtel_hugemap {
	uint8_t *base;		/* NULL: not mapped */
	size_t size;		/* mapped, a multiple of XTEL_HUGEMAP_PAGE */
	size_t used;		/* taken so far */
	bool huge;		/* MADV_HUGEPAGE accepted */
};

/*
 * Reserve size bytes (rounded up to 2 MiB), all in huge pages when whole,
 * else all but the first 2 MiB. Returns 0 or -ENOMEM.
 */
int xtel_hugemap_init(struct xtel_hugemap *m, size_t size, bool whole);
void xtel_hugemap_destroy(struct xtel_hugemap *m);

/*
 * The next size bytes, aligned to align (a power of two <= 4096), zeroed;
 * NULL when the mapping has no room left.
 */
void *xtel_hugemap_take(struct xtel_hugemap *m, size_t size, size_t align);

/* Mappings of this process that got normal pages only (madvise refused). */
uint64_t xtel_hugemap_fallbacks(void);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_HUGEMAP_H */
