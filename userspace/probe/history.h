/* SPDX-License-Identifier: MIT */
/*
 * Probe samples from the collector's history (store/schema.h): the
 * probe_* metric rows of every client (or one), one sample per client and
 * bucket, whose metrics are the bucket's means and whose weight is its
 * probe_ok count (downloads) and sum (ok ones); a bucket whose
 * probe_kind varied is of kind mixed. Read on a reader connection of the
 * caller's (the API's pool, or probe-report's own), never the writer's.
 */
#ifndef XTEL_PROBE_HISTORY_H
#define XTEL_PROBE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "probe/sample.h"

struct xtel_probe_samples {
	struct xtel_probe_sample *s;
	size_t n, cap;
	uint64_t rows;		/* metric rows read */
	uint64_t skipped;	/* buckets without probe_ok (not a probe result) */
	int tier;		/* enum xtel_tier the rows came from */
	size_t max;		/* 0: no bound; else -E2BIG beyond it */
};

/* Appends one (grows the array). 0, -ENOMEM or -E2BIG (past max). */
int xtel_probe_samples_push(struct xtel_probe_samples *v,
			    const struct xtel_probe_sample *s);
void xtel_probe_samples_free(struct xtel_probe_samples *v);

/*
 * The tier to read for [from, to) (Unix seconds): tier >= 0 as given,
 * else the finest client tier holding probe rows as old as from (or, when
 * none does, the one reaching back furthest). Returns the tier, or -EIO.
 */
int xtel_probe_history_tier(sqlite3 *db, int64_t from, int tier);

/*
 * Reads the samples of [from, to) of device (0: every client) from tier
 * (-1: xtel_probe_history_tier's choice) into out (appended; out->tier
 * set). Returns 0, -ENOMEM, -E2BIG (more than out->max samples) or -EIO
 * after a rate-limited message.
 */
int xtel_probe_history_read(sqlite3 *db, int64_t from, int64_t to,
			    uint32_t device, int tier,
			    struct xtel_probe_samples *out);

#endif /* XTEL_PROBE_HISTORY_H */
