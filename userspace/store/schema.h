/* SPDX-License-Identifier: MIT */
/*
 * The history's schema (component "history" of db.h) and the tiers it
 * keeps, as tables the writer, the queries and the docs share
 * (docs/STORAGE.md). Per tier T of 10s, 1m, 1h:
 *
 *   acct_T(client, ts, <XTEL_STORE_ACCT columns>, lat_count, lat_sum,
 *          lat_min, lat_max, lat_hist)          PRIMARY KEY (client, ts)
 *   metric_T(client, metric, ts, count, sum, min, max)
 *                                               PRIMARY KEY (client, metric, ts)
 *
 * and per tier of 1s, 10s, 1m, 1h the fleet:
 *
 *   totals_T(ts, dt_ms, <gauges>, <XTEL_STORE_ACCT and _FLEET columns>,
 *            lat_*)                             PRIMARY KEY (ts)
 *
 * all STRICT and WITHOUT ROWID; metric names in metric_names(id, name).
 * ts is the start of the row's bucket in Unix seconds, a multiple of the
 * tier's width; counters are deltas over the bucket, gauges the value at
 * its end, latencies in ns.
 */
#ifndef XTEL_STORE_SCHEMA_H
#define XTEL_STORE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

enum xtel_tier {
	XTEL_TIER_1S = 0,	/* fleet totals only */
	XTEL_TIER_10S,
	XTEL_TIER_1M,
	XTEL_TIER_1H,
	XTEL_TIER_N,
};

struct xtel_tier_desc {
	const char *name;	/* "10s": table suffix, --retain key */
	uint32_t width_s;
	uint64_t retain_s;	/* default retention */
};

extern const struct xtel_tier_desc xtel_tiers[XTEL_TIER_N];

/* The first tier with per-client tables. */
#define XTEL_TIER_CLIENT_FIRST XTEL_TIER_10S

/*
 * Per-client accounting series, deltas over a row's bucket:
 * X(ENUM, "column and series name", "help").
 */
#define XTEL_STORE_ACCT(X)						\
	X(RECEIVED, "received", "datagrams accepted (duplicates included)") \
	X(BYTES, "bytes", "bytes of the datagrams accepted")		\
	X(LOST, "lost", "datagrams confirmed lost")			\
	X(DUPLICATES, "duplicates", "duplicate datagrams")		\
	X(REORDERED, "reordered", "datagrams that arrived late and filled a gap") \
	X(TOO_LATE, "too_late", "datagrams behind the sequence window")

/* Fleet-only counters of the totals tables, deltas too. */
#define XTEL_STORE_FLEET(X)						\
	X(DROPPED, "dropped", "datagrams refused, every drop reason")	\
	X(XDP_DROPPED, "xdp_dropped", "packets the XDP program dropped")

/* Fleet gauges: the value at the end of the bucket. */
#define XTEL_STORE_GAUGES(X)						\
	X(CLIENTS, "clients", "clients known")				\
	X(LIVE, "live", "clients live")					\
	X(STALE, "stale", "clients stale")				\
	X(DTLS_SESSIONS, "dtls_sessions", "DTLS sessions established")

enum xtel_store_col {
#define X(id, name, help) XTEL_STORE_##id,
	XTEL_STORE_ACCT(X)
	XTEL_STORE_FLEET(X)
#undef X
	XTEL_STORE_N_COLS,
};
#define XTEL_STORE_N_ACCT (XTEL_STORE_DROPPED)

enum xtel_store_gauge {
#define X(id, name, help) XTEL_STORE_G_##id,
	XTEL_STORE_GAUGES(X)
#undef X
	XTEL_STORE_N_GAUGES,
};

struct xtel_store_col_desc {
	const char *name;
	const char *help;
};

extern const struct xtel_store_col_desc xtel_store_cols[XTEL_STORE_N_COLS];
extern const struct xtel_store_col_desc xtel_store_gauges[XTEL_STORE_N_GAUGES];

/* Appends printf output to buf (capacity cap, used *len), truncating. */
void xtel_store_sql_cat(char *buf, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Appends fmt once per column first..last-1 of xtel_store_cols (or of
 * xtel_store_gauges with gauges set), %1$s in fmt being its name.
 */
void xtel_store_sql_cols(char *buf, size_t cap, size_t *len, const char *fmt,
			 bool gauges, unsigned int first, unsigned int last);

/* The "history" component: its name and migration steps. */
extern const struct xtel_db_component xtel_store_schema;

#endif /* XTEL_STORE_SCHEMA_H */
