// SPDX-License-Identifier: MIT
/*
 * heap_peak.h: malloc, calloc, realloc, free and the aligned allocators
 * defined here forward to glibc's own entry points (__libc_*) and keep a
 * count of live usable bytes and its maximum. Single-threaded use is
 * assumed only for exactness of the peak; the counters are atomic so a
 * stray thread cannot corrupt them.
 */
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>

#include "heap_peak.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define XTEL_HEAP_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || \
	defined(XTEL_HEAP_SANITIZED)
bool xtel_heap_counting(void) { return false; }
uint64_t xtel_heap_live(void) { return 0; }
uint64_t xtel_heap_peak(void) { return 0; }
void xtel_heap_peak_reset(void) { }
#else

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t k, size_t n);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

static uint64_t live, peak;

static void *counted(void *p)
{
	if (p) {
		uint64_t now = __atomic_add_fetch(&live, malloc_usable_size(p),
						  __ATOMIC_RELAXED);

		if (now > __atomic_load_n(&peak, __ATOMIC_RELAXED))
			__atomic_store_n(&peak, now, __ATOMIC_RELAXED);
	}
	return p;
}

static void uncount(void *p)
{
	if (p)
		__atomic_sub_fetch(&live, malloc_usable_size(p), __ATOMIC_RELAXED);
}

void *malloc(size_t n)
{
	return counted(__libc_malloc(n));
}

void *calloc(size_t k, size_t n)
{
	return counted(__libc_calloc(k, n));
}

/*
 * realloc may move: the old and the new block are both alive for the
 * copy, which is part of the peak (glibc's mremap of a large block does
 * not copy, but counting it as if it did errs on the safe side only by the
 * old size for an instant).
 */
void *realloc(void *p, size_t n)
{
	size_t old = p ? malloc_usable_size(p) : 0;
	void *q = __libc_realloc(p, n);

	if (!q) {
		if (!n)		/* realloc(p, 0) freed p */
			__atomic_sub_fetch(&live, old, __ATOMIC_RELAXED);
		return NULL;
	}
	if (q != p && p) {
		uint64_t now = __atomic_add_fetch(&live, malloc_usable_size(q),
						  __ATOMIC_RELAXED);

		if (now > __atomic_load_n(&peak, __ATOMIC_RELAXED))
			__atomic_store_n(&peak, now, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&live, old, __ATOMIC_RELAXED);
		return q;
	}
	__atomic_sub_fetch(&live, old, __ATOMIC_RELAXED);
	return counted(q);
}

void free(void *p)
{
	uncount(p);
	__libc_free(p);
}

void *memalign(size_t align, size_t n)
{
	return counted(__libc_memalign(align, n));
}

void *aligned_alloc(size_t align, size_t n)
{
	return counted(__libc_memalign(align, n));
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (!align || (align & (align - 1)) || align % sizeof(void *))
		return EINVAL;
	p = counted(__libc_memalign(align, n));
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

bool xtel_heap_counting(void)
{
	return true;
}

uint64_t xtel_heap_live(void)
{
	return __atomic_load_n(&live, __ATOMIC_RELAXED);
}

uint64_t xtel_heap_peak(void)
{
	return __atomic_load_n(&peak, __ATOMIC_RELAXED);
}

void xtel_heap_peak_reset(void)
{
	__atomic_store_n(&peak, xtel_heap_live(), __ATOMIC_RELAXED);
}
#endif
