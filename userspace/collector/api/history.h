/* SPDX-License-Identifier: MIT */
/*
 * The window history behind /api/v1/aggregate?window=S: for each of the
 * last views, what that view's interval added, per client: the cumulative
 * counters (so a window's totals are the difference of two records) and
 * each metric's min/max/sum/count over the interval the view closed (the
 * model closes one interval per view). Compact copies, not the views:
 * a record costs about 48 + 64 x metrics bytes per client, and the ring
 * holds --api-window / --interval + 2 records.
 *
 * Written by the main thread (xtel_api_history_add after each view),
 * read by the server thread under the same lock.
 */
#ifndef XTEL_API_HISTORY_H
#define XTEL_API_HISTORY_H

#include <pthread.h>
#include <stdint.h>

#include "bpf/xtel_wire.h"
#include "collector/view.h"

enum { XTEL_API_HIST_KEYS = 65536 };	/* distinct metric names kept */

struct xtel_api_hist_metric {
	uint32_t key;			/* index into the history's keys */
	uint32_t count;			/* samples in the interval; 0: none */
	double min, max, sum;
};

struct xtel_api_hist_client {
	uint32_t client_id;
	uint32_t n_metrics;
	uint64_t first_metric;		/* index into the record's metrics */
	uint64_t received, lost, duplicates, reordered, too_late;
};

struct xtel_api_hist_rec {
	uint64_t seq, taken_ns;
	uint32_t n_clients;
	struct xtel_api_hist_client *clients;	/* sorted by client_id */
	struct xtel_api_hist_metric *metrics;
};

struct xtel_api_history {
	pthread_mutex_t lock;
	unsigned int cap, n;		/* records: room for, held */
	unsigned int head;		/* index of the newest */
	struct xtel_api_hist_rec *ring;
	uint64_t add_failed;		/* views not recorded: out of memory */
	/*
	 * Interned metric names, allocated whole at the start so they never
	 * move: the main thread appends (outside the lock), readers look up
	 * only indices that a published record holds.
	 */
	char (*keys)[XTEL_MAX_KEY_LEN + 1];
	uint32_t n_keys;
	uint32_t *key_hash;		/* 2 x XTEL_API_HIST_KEYS slots: index + 1 */
	uint64_t keys_full;		/* metric samples not kept: no name left */
};

int xtel_api_history_new(unsigned int cap, struct xtel_api_history **out);
void xtel_api_history_free(struct xtel_api_history *h);

/* Records v (ignored when its seq is not newer than the newest record). */
void xtel_api_history_add(struct xtel_api_history *h, const struct xtel_view *v);

/* Record i back from the newest (0: newest), with the lock held; NULL past the oldest. */
const struct xtel_api_hist_rec *xtel_api_history_at(const struct xtel_api_history *h,
						    unsigned int i);

/* The client's entry in a record from position *cursor on (a merge walk:
 * ids must be asked in increasing order); NULL when absent. */
const struct xtel_api_hist_client *
xtel_api_hist_find(const struct xtel_api_hist_rec *r, uint32_t id,
		   uint32_t *cursor);

#endif /* XTEL_API_HISTORY_H */
