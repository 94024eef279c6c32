/* SPDX-License-Identifier: MIT */
/*
 * One client's accounting record: epoch tracking (INIT/BYE rules on top of
 * the sequence window), counters, arrival times, latency histogram and
 * per-metric-key state. Written by exactly one receive worker; the registry
 * wraps each update in the record's seqlock so that snapshots can copy it.
 *
 * Epoch rules (the sequence window has the rest, see seqwin.h):
 * - INIT seq 0 whose send timestamp differs from (is later than) the
 *   current epoch's INIT timestamp starts a new epoch (verdict RESTART): the
 *   old epoch's pending gaps become lost, nothing else is charged, so a
 *   restart never yields phantom loss or duplicates. The same timestamp is
 *   a duplicate INIT; the timestamp of one of the last XTEL_PAST_INITS
 *   epochs' INITs is a late copy of it: too late, however late it comes.
 * - While the epoch's INIT is still unseen (the collector joined late, or
 *   the INIT is reordered), an INIT no later than every datagram of the
 *   epoch is that epoch's own late INIT and goes through the window
 *   (normally "reordered"); a later one is a restart.
 * - A HEARTBEAT/DATA/BYE sent before the current epoch's INIT and arriving
 *   within XTEL_STRAGGLER_NS of that INIT belongs to a past epoch: too late
 *   (it must not open gaps in the new epoch). The same goes for an INIT
 *   older than the current one. After the grace period send times are not
 *   trusted for this (a client clock stepping back must not turn all its
 *   traffic into "too late"): the window decides, and an older INIT is a
 *   restart.
 * - BYE takes no number: it settles the epoch's gaps (xtel_seqwin_bye) and
 *   a repeat with the same seq is a duplicate. After BYE the epoch is
 *   closed: any other HEARTBEAT/DATA/BYE of it is too late (only a sequence
 *   reset without INIT, seqwin.h, still starts a new epoch).
 * Latency is recorded for every datagram except duplicates (a duplicate's
 * send time is the original's, so its "latency" measures nothing). Metrics
 * are recorded from DATA only (docs/PROTOCOL.md 3), and only for new,
 * reordered and restart verdicts, so duplicates and datagrams too late
 * never count.
 */
#ifndef XTEL_CLIENT_H
#define XTEL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "acct/arena.h"
#include "acct/keys.h"
#include "acct/latpack.h"
#include "acct/types.h"
#include "wire/wire.h"
#include "acct/seqwin.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Key slots come in chunks of 2, 2, 4 and 8 slots (keys 0-1, 2-3, 4-7,
 * 8-15), allocated as keys appear: a client with the usual one to three
 * keys holds two or four slots, not a block of four for every client.
 */
enum {
	XTEL_CLIENT_MAX_KEYS = 16,
	XTEL_METRIC_CHUNKS = 4,
};

/* How long after an epoch's INIT a datagram sent before it is a straggler
 * of a past epoch: far longer than any network reordering. */
#define XTEL_STRAGGLER_NS (2ULL * 1000000000ULL)

/* Past epochs whose INIT timestamps are remembered to spot late copies. */
enum { XTEL_PAST_INITS = 4 };

/* min/max/sum/count of one metric over one interval (what
 * xtel_metric_last_interval() reports). */
struct xtel_metric_ivl {
	uint64_t id;		/* xtel_interval_current() it belongs to */
	uint64_t count;
	double min, max, sum;
};

/* One interval's figures as a key slot keeps them: the interval's id is
 * the slot's cur_id (prev's is always cur_id - 1, so it is not stored). */
struct xtel_metric_acc {
	uint64_t count;
	double min, max, sum;
};

/*
 * 96 bytes. The key needs no length of its own: the registry's copy is
 * NUL-padded (keys.h), so a name of len bytes is one whose byte len is
 * NUL.
 */
struct xtel_metric_state {
	const char *key;	/* the registry's copy (keys.h), NUL-terminated */
	double last;
	uint64_t last_ts_ns;
	uint64_t cur_id;		/* interval of cur */
	struct xtel_metric_acc cur;	/* interval in progress */
	struct xtel_metric_acc prev;	/* interval cur_id - 1 */
};

/*
 * The remembered INIT timestamps of past epochs (a ring, 0: empty): cold,
 * the writer's alone (no reader wants them), so a block of the arena made
 * at a client's first restart, not 32 bytes of every record.
 */
struct xtel_past_inits {
	uint64_t ts[XTEL_PAST_INITS];
};

/*
 * 424 bytes (a record of 448, record.h). What is not here: received, the
 * sum of by_type (xtel_client_received()); the past epochs' INIT
 * timestamps (above).
 */
struct xtel_client {
	uint32_t client_id;
	uint32_t epochs;
	uint64_t epoch_init_ts;	/* send ts of this epoch's INIT; 0: unseen */
	uint64_t epoch_init_arrival_ns;	/* when that INIT arrived */
	uint64_t epoch_min_ts;	/* earliest send ts seen in this epoch */
	uint64_t bye_seq;
	uint64_t bytes;
	uint64_t by_type[XTEL_MSG_TYPE_MAX + 1];	/* 0: out-of-range type */
	uint64_t first_seen_ns, last_seen_ns;
	uint64_t metrics_dropped;
	uint32_t past_inits;	/* arena handle of struct xtel_past_inits; 0: none */
	uint8_t n_keys;
	uint8_t bye_seen;
	uint8_t past_init_next;	/* next slot of the past_inits ring */
	uint8_t pad_;
	struct xtel_seqwin win;
	struct xtel_latpack lat;
	/* Chunks of key slots (see above), from the registry's arena as keys
	 * appear, never moved or freed while the registry lives. */
	struct xtel_metric_state *keys[XTEL_METRIC_CHUNKS];
};

/* Datagrams accepted, all types, duplicates included. */
static inline uint64_t xtel_client_received(const struct xtel_client *c)
{
	uint64_t n = 0;

	for (unsigned int t = 0; t <= XTEL_MSG_TYPE_MAX; t++)
		n += c->by_type[t];
	return n;
}

/* Blocks (histogram pages, key slots) come from the registry's arena and
 * go with it: a client has nothing to destroy. */
void xtel_client_init(struct xtel_client *c, uint32_t client_id);

/*
 * Account one datagram. interval is the writer's current view of
 * xtel_interval_current(); blocks come from a, key names from keys.
 * Returns 0, or -ENOMEM when
 * a histogram page or metric chunk could not be allocated (the datagram
 * is still counted).
 */
int xtel_client_account(struct xtel_client *c, struct xtel_arena *a,
			struct xtel_keys *keys, const struct xtel_msg *msg,
			uint64_t arrival_ns, uint32_t wire_len,
			uint64_t interval, struct xtel_acct_result *res);

/* The chunk that holds key slot i, its first slot and its length. */
static inline unsigned int xtel_key_chunk(unsigned int i)
{
	return i < 4 ? i >> 1 : i < 8 ? 2 : 3;
}

static inline unsigned int xtel_key_chunk_first(unsigned int k)
{
	return k < 2 ? k * 2 : 4u << (k - 2);
}

static inline unsigned int xtel_key_chunk_len(unsigned int k)
{
	return k < 2 ? 2 : 4u << (k - 2);
}

/* Key slot i (< n_keys) of a client. */
static inline struct xtel_metric_state *
xtel_client_key(const struct xtel_client *c, unsigned int i)
{
	unsigned int k;

	if (i < 2)		/* the common case: the first chunk */
		return &c->keys[0][i];
	k = xtel_key_chunk(i);
	return &c->keys[k][i - xtel_key_chunk_first(k)];
}

/*
 * The last complete interval of a key as seen at global interval now:
 * fills count/min/max/mean of out (count 0 when it had no sample).
 */
void xtel_metric_last_interval(const struct xtel_metric_state *m, uint64_t now,
			       struct xtel_metric_ivl *out);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_CLIENT_H */
