/* SPDX-License-Identifier: MIT */
/*
 * Reading the history (the API's /api/v1/history endpoints, the
 * benchmark): one client's accounting series, one client's metric, or the
 * fleet totals over [from, to), merged into points of step seconds. The
 * tier read is the coarsest whose width divides step; the rows read are
 * those whose bucket overlaps [from, to); a point's ts is
 * floor(row ts / step) * step, counters are summed, gauges are the last
 * row's, latency histograms are merged so p50/p99 are those of the merged
 * buckets. Queries run on read-only connections of their own (a small
 * pool), never on the writer's: WAL lets them read while it writes.
 */
#ifndef XTEL_STORE_QUERY_H
#define XTEL_STORE_QUERY_H

#include <pthread.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store/hist.h"
#include "store/schema.h"

enum xtel_store_series {
	XTEL_SERIES_CLIENT = 0,		/* acct_T of one client */
	XTEL_SERIES_METRIC,		/* metric_T of one client and key */
	XTEL_SERIES_TOTALS,		/* totals_T */
};

struct xtel_store_query {
	enum xtel_store_series kind;
	uint32_t client_id;		/* CLIENT, METRIC */
	const char *metric;		/* METRIC: the key */
	int64_t from, to;		/* Unix seconds, from inclusive */
	uint32_t step;			/* seconds */
};

struct xtel_store_point {
	int64_t ts;
	uint32_t rows;			/* rows merged into it */
	uint64_t dt_ms;			/* TOTALS: view time covered */
	uint64_t c[XTEL_STORE_N_COLS];	/* CLIENT: the acct columns only */
	uint64_t gauges[XTEL_STORE_N_GAUGES];	/* TOTALS */
	/* latency in ns (count 0: none); quantiles of the merged buckets */
	uint64_t lat_count, lat_sum, lat_min, lat_max, lat_p50, lat_p99;
	/* METRIC */
	uint64_t m_count;
	double m_sum, m_min, m_max;
};

/* Called per point in ts order; nonzero stops the query (returned). */
typedef int xtel_store_point_fn(void *arg, const struct xtel_store_point *p);

/*
 * The tier a step reads for a kind, or -1 when step is not a multiple of
 * the kind's finest tier (10 s for clients, 1 s for totals).
 */
int xtel_store_tier_for(enum xtel_store_series kind, uint32_t step);

/*
 * Runs q on db (a reader connection). Returns 0 (fn called per point),
 * fn's nonzero value, -EINVAL (step), -ENOENT (METRIC: the key was never
 * stored) or -EIO after a rate-limited message.
 */
int xtel_store_query(sqlite3 *db, const struct xtel_store_query *q,
		     xtel_store_point_fn *fn, void *arg);

/* Opens path read-only for queries (message on failure; -errno). */
int xtel_store_reader_open(const char *path, sqlite3 **out);

/*
 * A few reader connections shared by server threads: get one (opened on
 * first use, at most max), put it back.
 */
struct xtel_store_readers;

int xtel_store_readers_new(const char *path, unsigned int max,
			   struct xtel_store_readers **out);
void xtel_store_readers_free(struct xtel_store_readers *r);
/* NULL when all are in use or the file cannot be opened (-errno in *err). */
sqlite3 *xtel_store_readers_get(struct xtel_store_readers *r, int *err);
void xtel_store_readers_put(struct xtel_store_readers *r, sqlite3 *db);

#endif /* XTEL_STORE_QUERY_H */
