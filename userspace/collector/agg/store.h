/* SPDX-License-Identifier: MIT */
/*
 * The aggregator's checkpoint: an SQLite file in WAL mode holding every
 * merged record (as a rollup message of cumulative figures and the
 * latest health verdict, the same schema the edges send) and what was
 * applied: per edge run the (seq, part) positions as ranges (ranges.h,
 * kept for good), and the ids of the other messages (pruned).
 * One transaction per fetched batch writes the dirty records, the changed
 * ranges and the new ids; the batch is acked only after it committed, so
 * a crash at any point either lost the batch (it is redelivered) or kept
 * it together with what it applied (the redelivery is recognised and
 * skipped): exact totals.
 */
#ifndef XTEL_AGG_STORE_H
#define XTEL_AGG_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "collector/agg/state.h"

struct xtel_agg_store;

/* Opens (creates) path and loads its state and applied ids into s. */
int xtel_agg_store_open(const char *path, struct xtel_agg_state *s,
			struct xtel_agg_store **out);
void xtel_agg_store_close(struct xtel_agg_store *st);

/* Whether a message id was applied (in memory: loaded, or since). */
bool xtel_agg_store_seen(struct xtel_agg_store *st, const char *msg_id);

/*
 * Remember msg_id (stream sequence seq, stored by the stream at ts_ns,
 * ns since the epoch) for the next commit. h: the message's header when
 * it decoded (NULL: it did not); an edge's id that agrees with it goes
 * to its run's interval set (ranges.h), kept for good; any other id to
 * the per-id table, pruned (xtel_agg_store_prune). Returns 0, 1 when a
 * decoded message's id went to the per-id table (not the edge id of its
 * header: exactly once does not cover it), or -ENOMEM.
 */
int xtel_agg_store_mark(struct xtel_agg_store *st, const char *msg_id,
			uint64_t seq, uint64_t ts_ns, const struct xtel_rollup_hdr *h);

/*
 * One transaction: the dirty records of s (then clean) and the marked
 * ids. Returns 0 or -EIO after a message (nothing of it is then kept:
 * the caller must not ack, and restarts from the file).
 */
int xtel_agg_store_commit(struct xtel_agg_store *st, struct xtel_agg_state *s);

/*
 * One pruning step, its own transaction (between batches: nothing
 * marked is pending): forgets at most max applied ids the stream stored
 * before before_ns (now less its duplicate window: JetStream itself
 * refuses a resend of those no more) whose stream sequence is at most
 * acked_seq (the consumer's ack floor: never redelivered). Oldest first.
 * Returns how many went (0..max), or -EIO/-ENOMEM with the file and the
 * set as they were.
 */
int xtel_agg_store_prune(struct xtel_agg_store *st, uint64_t before_ns,
			 uint64_t acked_seq, unsigned int max);

/* Applied ids remembered in the per-id table (for the counters). */
uint64_t xtel_agg_store_ids(const struct xtel_agg_store *st);
/* Ranges of the interval sets (rows of applied_range). */
uint64_t xtel_agg_store_ranges(const struct xtel_agg_store *st);

#endif /* XTEL_AGG_STORE_H */
