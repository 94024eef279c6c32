/* SPDX-License-Identifier: MIT */
/*
 * The one prefetch helper, and the stages of the receive loops' batch
 * prefetch. With 100,000 clients every datagram's state (DTLS session,
 * record-layer keys, OpenSSL's cipher context, the accounting record) is a
 * chain of cache misses, each address known only after the previous load.
 * A receive loop holding a batch of completions therefore walks ahead:
 * before handling datagram i it calls xtel_ingest_prefetch(..., stage) for
 * datagram i + XTEL_PREFETCH_STAGES - stage, stage 0 .. STAGES-1, so each
 * datagram goes through every stage, one link of its chain per stage, and
 * by the time it is handled its lines are (likely) in cache. A prefetch
 * only hints: it changes no state and no count.
 */
#ifndef XTEL_PREFETCH_H
#define XTEL_PREFETCH_H

#include <stddef.h>

enum { XTEL_PREFETCH_STAGES = 4, XTEL_CACHE_LINE = 64 };

/* Ask for the cache lines of [p, p + bytes), for writing; NULL: none. */
static inline void xtel_prefetch(const void *p, size_t bytes)
{
	const char *c = p;

	if (!c)
		return;
	for (size_t o = 0; o < bytes; o += XTEL_CACHE_LINE)
		__builtin_prefetch(c + o, 1, 3);
}

#endif /* XTEL_PREFETCH_H */
