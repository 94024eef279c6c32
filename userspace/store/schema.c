// SPDX-License-Identifier: MIT
/*
 * The history's tiers and column tables (schema.h) and its migration
 * steps. A step is fixed SQL text: once released it never changes (a file
 * written by it must keep meaning the same); a change of schema is a new
 * step appended to the list.
 */
#include <stdarg.h>
#include <stdio.h>

#include "store/schema.h"

const struct xtel_tier_desc xtel_tiers[XTEL_TIER_N] = {
	[XTEL_TIER_1S] = { "1s", 1, 2 * 86400 },
	[XTEL_TIER_10S] = { "10s", 10, 2 * 86400 },
	[XTEL_TIER_1M] = { "1m", 60, 30 * 86400 },
	[XTEL_TIER_1H] = { "1h", 3600, 400 * 86400 },
};

const struct xtel_store_col_desc xtel_store_cols[XTEL_STORE_N_COLS] = {
#define X(id, name, help) [XTEL_STORE_##id] = { name, help },
	XTEL_STORE_ACCT(X)
	XTEL_STORE_FLEET(X)
#undef X
};

const struct xtel_store_col_desc xtel_store_gauges[XTEL_STORE_N_GAUGES] = {
#define X(id, name, help) [XTEL_STORE_G_##id] = { name, help },
	XTEL_STORE_GAUGES(X)
#undef X
};

void xtel_store_sql_cat(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*len >= cap)
		return;
	va_start(ap, fmt);
	k = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (k > 0)
		*len += (size_t)k;
}

void xtel_store_sql_cols(char *buf, size_t cap, size_t *len, const char *fmt,
			 bool gauges, unsigned int first, unsigned int last)
{
	for (unsigned int i = first; i < last; i++) {
		const char *name = gauges ? xtel_store_gauges[i].name :
					    xtel_store_cols[i].name;
		int k;

		if (*len >= cap)
			return;
		/* fmt is one of the callers' literals, %1$s only */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		k = snprintf(buf + *len, cap - *len, fmt, name);
#pragma GCC diagnostic pop
		if (k > 0)
			*len += (size_t)k;
	}
}

#define ACCT_COLS							\
	"received INTEGER NOT NULL, bytes INTEGER NOT NULL, "		\
	"lost INTEGER NOT NULL, duplicates INTEGER NOT NULL, "		\
	"reordered INTEGER NOT NULL, too_late INTEGER NOT NULL, "
#define LAT_COLS							\
	"lat_count INTEGER NOT NULL, lat_sum INTEGER NOT NULL, "	\
	"lat_min INTEGER, lat_max INTEGER, lat_hist BLOB, "

#define CLIENT_TABLES(T)						\
	"CREATE TABLE acct_" T " (client INTEGER NOT NULL, "		\
	"ts INTEGER NOT NULL, " ACCT_COLS LAT_COLS			\
	"PRIMARY KEY (client, ts)) STRICT, WITHOUT ROWID;\n"		\
	"CREATE TABLE metric_" T " (client INTEGER NOT NULL, "		\
	"metric INTEGER NOT NULL REFERENCES metric_names (id), "	\
	"ts INTEGER NOT NULL, count INTEGER NOT NULL, "			\
	"sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, "	\
	"PRIMARY KEY (client, metric, ts)) STRICT, WITHOUT ROWID;\n"

#define TOTALS_TABLE(T)							\
	"CREATE TABLE totals_" T " (ts INTEGER NOT NULL, "		\
	"dt_ms INTEGER NOT NULL, clients INTEGER NOT NULL, "		\
	"live INTEGER NOT NULL, stale INTEGER NOT NULL, "		\
	"dtls_sessions INTEGER NOT NULL, " ACCT_COLS			\
	"dropped INTEGER NOT NULL, xdp_dropped INTEGER NOT NULL, "	\
	LAT_COLS "PRIMARY KEY (ts)) STRICT, WITHOUT ROWID;\n"

/* Version 1: the tiers of 2026-12. */
static const char step1[] =
	"CREATE TABLE metric_names (id INTEGER PRIMARY KEY, "
	"name TEXT NOT NULL UNIQUE) STRICT;\n"
	CLIENT_TABLES("10s") CLIENT_TABLES("1m") CLIENT_TABLES("1h")
	TOTALS_TABLE("1s") TOTALS_TABLE("10s") TOTALS_TABLE("1m")
	TOTALS_TABLE("1h");

static const char *const steps[] = { step1 };

const struct xtel_db_component xtel_store_schema =
	XTEL_DB_COMPONENT("history", steps);
