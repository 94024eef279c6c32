/* SPDX-License-Identifier: MIT */
/*
 * The aggregator's checkpoint: an SQLite file in WAL mode holding every
 * merged record (as a rollup message of cumulative figures and the
 * latest health verdict, the same schema the edges send) and the ids of every rollup message applied.
 * One transaction per fetched batch writes the dirty records and the new
 * ids; the batch is acked only after it committed, so a crash at any
 * point either lost the batch (it is redelivered) or kept it together
 * with its ids (the redelivery is recognised and skipped): exact totals.
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

/* Remember msg_id (stream sequence seq) for the next commit. */
int xtel_agg_store_mark(struct xtel_agg_store *st, const char *msg_id,
			uint64_t seq);

/*
 * One transaction: the dirty records of s (then clean) and the marked
 * ids. Returns 0 or -EIO after a message (nothing of it is then kept:
 * the caller must not ack, and restarts from the file).
 */
int xtel_agg_store_commit(struct xtel_agg_store *st, struct xtel_agg_state *s);

/* Applied ids remembered (for the counters). */
uint64_t xtel_agg_store_ids(const struct xtel_agg_store *st);

#endif /* XTEL_AGG_STORE_H */
