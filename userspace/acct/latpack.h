/* SPDX-License-Identifier: MIT */
/*
 * Packed latency histogram: how a client record keeps acct/latency.h's
 * histogram (same 2,048-bucket index space, same overflow bucket, exact
 * count/negative/min/max/sum) in a few hundred bytes instead of 512 bytes
 * per power of two. Readers never see this form: xtel_latpack_expand()
 * turns a record's copy into a struct xtel_latency, which is what the
 * snapshot, the store's varint BLOB, the exporter's CBOR buckets, the
 * aggregator and health read, so none of them changed.
 *
 * Layout: the index space in 32 pages of 64 consecutive buckets (one
 * power of two each, a group of latency.h). A page is allocated (from the
 * registry's arena) when a sample first lands in it, with 2-bit counters
 * (16 bytes); when a counter would pass its width's maximum the page is
 * promoted to 4-, 8-, 16-, 32- and then 64-bit counters (32 to 512
 * bytes) and the narrower page is freed, so counts stay exact to 2^64
 * like the dense form. Most buckets of a client hold a few samples, so
 * narrow counters over wide pages cost less than wide counters over
 * narrow pages: a client's samples fill fewer pages and directory
 * entries (docs/CAPACITY.md "Memory per client" has the figures). mask
 * has a bit per page present; the directory (an arena block of 4 to 32
 * entries, growing by about half when full) holds the present pages'
 * handles in ascending page order, each tagged in its low 3 bits with the
 * page's counter width (0..5 = 2 << w bits), so page p is entry
 * popcount(mask below p). The writer keeps the last page it used in hot
 * and hot_page (its address with the width), a cache that readers
 * ignore: a client's latencies often land in the page of the previous
 * one, which then costs no look-up, and a look-up is a mask test, a
 * popcount and three loads (the directory's chunk, the entry, the page's
 * chunk). The fixed part is 80 bytes.
 *
 * Seqlock (record.h): every change happens inside the record's write
 * section; a reader copies the record, resolves the directory and page
 * handles it copied through xtel_arena_read() (which never leaves the
 * arena's mapped chunks, whatever the handle), expands, then checks the
 * sequence. So freed pages and directories can be reused for any block:
 * what a stale handle leads to is rejected by the sequence check.
 */
#ifndef XTEL_LATPACK_H
#define XTEL_LATPACK_H

#include <stdint.h>

#include "acct/arena.h"
#include "acct/latency.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
	XTEL_LATP_PAGE_BITS = 6,
	XTEL_LATP_PAGE = 1 << XTEL_LATP_PAGE_BITS,	/* buckets per page */
	XTEL_LATP_PAGES = XTEL_LAT_BUCKETS / XTEL_LATP_PAGE,
	XTEL_LATP_WIDTHS = 6,		/* counters of 2, 4, ... 64 bits */
	XTEL_LATP_TAG_BITS = 3,		/* a directory entry's width tag */
	XTEL_LATP_DIR_CAPS = 6,		/* directory sizes, 4 to 32 entries */
};

struct xtel_latpack {
	uint64_t count;		/* as in struct xtel_latency */
	uint64_t negative;
	uint64_t overflow;
	uint64_t alloc_failed;
	uint64_t sum;
	uint64_t min, max;
	uintptr_t hot;		/* writer's cache: page address | width */
	uint32_t mask;		/* bit p: page p present */
	uint32_t dir;		/* arena handle of the directory; 0: no page yet */
	uint8_t dir_cap;	/* its size, as an index of the size table */
	uint8_t hot_page;	/* page index of hot; XTEL_LATP_PAGES: none */
	uint8_t n_pages;	/* bits set in mask (writer's count) */
	uint8_t pad_[5];
};

/* An empty histogram (no page, no directory). */
void xtel_latpack_init(struct xtel_latpack *h);

/* Record one sample; a page comes from a. Returns 0 or -ENOMEM. */
int xtel_latpack_record(struct xtel_latpack *h, struct xtel_arena *a,
			int64_t ns);

/*
 * Add n samples to bucket idx (< XTEL_LAT_BUCKETS) without touching the
 * totals (tests, and rebuilding a histogram bucket by bucket).
 */
int xtel_latpack_add_bucket(struct xtel_latpack *h, struct xtel_arena *a,
			    unsigned int idx, uint64_t n);

/* Give every page and the directory back to a; h is empty after it. */
void xtel_latpack_release(struct xtel_latpack *h, struct xtel_arena *a);

/*
 * Expand a copy of a packed histogram (the record's words as a reader
 * copied them) into out: totals, and for each group with a page the
 * block group g of blocks (XTEL_LAT_GROUPS x XTEL_LAT_SUB words, only the
 * groups used are written) as out->blocks[g]. out owns nothing after it
 * (do not xtel_latency_destroy() it). Safe against a concurrent writer:
 * what it reads may be torn, which the caller's sequence check rejects;
 * a is the arena of the record's registry.
 */
void xtel_latpack_expand(const struct xtel_latpack *h,
			 const struct xtel_arena *a, struct xtel_latency *out,
			 uint64_t *blocks);

/* Bytes of pages and directory behind h (writer side). */
uint64_t xtel_latpack_bytes(const struct xtel_latpack *h,
			    const struct xtel_arena *a);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_LATPACK_H */
