// SPDX-License-Identifier: MIT
/*
 * Huge-page mappings of a registry (see hugemap.h): over-map by 2 MiB,
 * trim head and tail to the alignment, madvise (all but the first 2 MiB),
 * then bump-allocate.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "acct/hugemap.h"
#include "common/log.h"

static uint64_t g_fallbacks;

uint64_t xtel_hugemap_fallbacks(void)
{
	return __atomic_load_n(&g_fallbacks, __ATOMIC_RELAXED);
}

int xtel_hugemap_init(struct xtel_hugemap *m, size_t size, bool whole)
{
	const size_t page = XTEL_HUGEMAP_PAGE;
	uint8_t *raw, *base;
	size_t head, small;

	memset(m, 0, sizeof(*m));
	size = (size + page - 1) / page * page;
	if (size == 0)
		size = page;
	raw = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return -ENOMEM;
	base = (uint8_t *)(((uintptr_t)raw + page - 1) & ~(uintptr_t)(page - 1));
	head = (size_t)(base - raw);
	if (head)
		munmap(raw, head);
	if (page - head)
		munmap(base + size, page - head);
	m->base = base;
	m->size = size;
	small = whole ? 0 : page;
	if (small == size)
		return 0;
	if (madvise(base + small, size - small, MADV_HUGEPAGE) == 0) {
		m->huge = true;
	} else if (__atomic_fetch_add(&g_fallbacks, 1, __ATOMIC_RELAXED) == 0) {
		pr_info("accounting: no transparent huge pages (madvise: %s), "
			"using 4 KiB pages", strerror(errno));
	}
	return 0;
}

void xtel_hugemap_destroy(struct xtel_hugemap *m)
{
	if (m->base)
		munmap(m->base, m->size);
	memset(m, 0, sizeof(*m));
}

void *xtel_hugemap_take(struct xtel_hugemap *m, size_t size, size_t align)
{
	size_t at = (m->used + align - 1) & ~(align - 1);

	if (!m->base || at > m->size || size > m->size - at)
		return NULL;
	m->used = at + size;
	return m->base + at;
}
