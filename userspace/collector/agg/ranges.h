/* SPDX-License-Identifier: MIT */
/*
 * The aggregator's applied set of edge messages as interval sets: per
 * edge run (the key "<edge>.<run>" of the Nats-Msg-Id) the (seq, part)
 * positions applied, in (seq, part) order, as disjoint ranges of
 * positions. An edge numbers its views 1, 2, ... within a run and splits
 * one view into parts 0..parts-1 that it encodes together, so an edge
 * that lost nothing is one range however long it runs; a view it dropped
 * or a message it lost for good leaves a hole (one more range), and a
 * message that comes late (a spill file sent after newer ones) fills its
 * hole when it comes. (seq, parts-1) and (seq+1, 0) are adjacent only
 * when the parts of seq are known (from the message): ranges migrated
 * from the per-id table know only within a seq until a message of their
 * last seq tells. Nothing is ever forgotten: memory and rows are
 * O(runs x holes), not O(messages), and a copy of any message applied,
 * however late, is recognised. Not thread-safe: the aggregator's thread.
 */
#ifndef XTEL_AGG_RANGES_H
#define XTEL_AGG_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every position from (lo_seq, lo_part) to (hi_seq, hi_part) inclusive. */
struct xtel_agg_range {
	uint64_t lo_seq, hi_seq;
	uint32_t lo_part, hi_part;
	uint32_t hi_parts;	/* the parts of hi_seq; 0: not known */
};

/* One edge run's ranges, sorted and disjoint, no two adjacent. */
struct xtel_agg_runset {
	char *key;		/* "<edge>.<run>" */
	struct xtel_agg_range *r;
	uint32_t n, cap;
	bool dirty;		/* changed since the last xtel_agg_ranges_clean */
};

struct xtel_agg_ranges {
	struct xtel_agg_runset **slot;	/* open addressing by key */
	uint64_t mask, n_sets, n_ranges;
	struct xtel_agg_runset **dirty;	/* the dirty sets, each once */
	size_t n_dirty, cap_dirty;
};

void xtel_agg_ranges_init(struct xtel_agg_ranges *rs);
void xtel_agg_ranges_fini(struct xtel_agg_ranges *rs);

/* Whether (seq, part) of the run key (key_len bytes) was applied. */
bool xtel_agg_ranges_has(const struct xtel_agg_ranges *rs, const char *key,
			 size_t key_len, uint64_t seq, uint32_t part);

/*
 * Adds (seq, part) of a view of parts messages (0: not known; else part <
 * parts) to the run key and marks its set dirty. Returns 1 when it was
 * there already (nothing changes), 0 when added, -ENOMEM, -EINVAL.
 */
int xtel_agg_ranges_add(struct xtel_agg_ranges *rs, const char *key,
			size_t key_len, uint64_t seq, uint32_t part,
			uint32_t parts);

/*
 * Adds a stored range (a checkpoint's row) to the run key, not dirty:
 * rows of one key in (lo_seq, lo_part) order. -EINVAL when it overlaps or
 * precedes the key's last range, -ENOMEM.
 */
int xtel_agg_ranges_load(struct xtel_agg_ranges *rs, const char *key,
			 const struct xtel_agg_range *r);

/* After the dirty sets were written: none is dirty. */
void xtel_agg_ranges_clean(struct xtel_agg_ranges *rs);

#endif /* XTEL_AGG_RANGES_H */
