// SPDX-License-Identifier: MIT
/*
 * The rebuild of the coarser tiers after an unclean stop (writer.h):
 * run by xtel_store_open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/db.h"
#include "store/hist.h"
#include "store/writer_internal.h"

/* ---- recovery after an unclean stop ---- */

/*
 * A crash loses the buckets the writer held in memory. The finer tier has
 * most of them on disk: a stop writes every tier's partial bucket, so
 * after a clean one no row of tier T-1 lies past the last bucket of T;
 * rows that do were written after T's last flush and are folded into T
 * here (10 s -> 1 min -> 1 h, and 1 s -> 10 s for the fleet), per client
 * by key-range reads. Gauges of a recovered fleet row are the largest of
 * its finer rows'.
 */
static int64_t recover_fleet(struct xtel_store *w, unsigned int t)
{
	const char *tn = xtel_tiers[t].name, *sn = xtel_tiers[t - 1].name;
	unsigned int wt = xtel_tiers[t].width_s;
	sqlite3_stmt *st;
	char sql[3072];
	size_t n = 0;
	int64_t rows = -1;

	cat(sql, sizeof(sql), &n, "INSERT INTO totals_%s (ts, dt_ms", tn);
	cols(sql, sizeof(sql), &n, ", %1$s", true, 0, XTEL_STORE_N_GAUGES);
	cols(sql, sizeof(sql), &n, ", %1$s", false, 0, N_CT);
	cat(sql, sizeof(sql), &n, ", %s) SELECT ts / %u * %u AS b, sum(dt_ms)",
	    xtel_store_lat_cols, wt, wt);
	cols(sql, sizeof(sql), &n, ", max(%1$s)", true, 0, XTEL_STORE_N_GAUGES);
	cols(sql, sizeof(sql), &n, ", sum(%1$s)", false, 0, N_CT);
	cat(sql, sizeof(sql), &n, ", sum(lat_count), sum(lat_sum), min(lat_min), "
	    "max(lat_max), xtel_hist_merge(lat_hist) FROM totals_%s WHERE ts >= "
	    "coalesce((SELECT max(ts) FROM totals_%s) + %u, -9223372036854775807) "
	    "GROUP BY b ORDER BY b ON CONFLICT (ts) DO UPDATE SET dt_ms = dt_ms + "
	    "excluded.dt_ms", sn, tn, wt);
	cols(sql, sizeof(sql), &n, ", %1$s = max(%1$s, excluded.%1$s)", true, 0,
	     XTEL_STORE_N_GAUGES);
	cols(sql, sizeof(sql), &n, ", %1$s = %1$s + excluded.%1$s", false, 0, N_CT);
	cat(sql, sizeof(sql), &n, ", %s", xtel_store_lat_update);
	if (xtel_store_prepare(w, &st, sql))
		return -1;
	if (sqlite3_step(st) == SQLITE_DONE)
		rows = sqlite3_changes(w->db);
	sqlite3_finalize(st);
	return rows;
}

static int64_t recover_clients(struct xtel_store *w, unsigned int t)
{
	const char *tn = xtel_tiers[t].name, *sn = xtel_tiers[t - 1].name;
	unsigned int wt = xtel_tiers[t].width_s;
	sqlite3_stmt *acct = NULL, *metric = NULL, *next = w->next_client[t - 1];
	char sql[3072];
	size_t n = 0;
	int64_t rows = 0, client = -1;

	cat(sql, sizeof(sql), &n, "INSERT INTO acct_%s (client, ts", tn);
	cols(sql, sizeof(sql), &n, ", %1$s", false, 0, XTEL_STORE_N_ACCT);
	cat(sql, sizeof(sql), &n, ", %s) SELECT client, ts / %u * %u AS b",
	    xtel_store_lat_cols, wt, wt);
	cols(sql, sizeof(sql), &n, ", sum(%1$s)", false, 0, XTEL_STORE_N_ACCT);
	cat(sql, sizeof(sql), &n, ", sum(lat_count), sum(lat_sum), min(lat_min), "
	    "max(lat_max), xtel_hist_merge(lat_hist) FROM acct_%s WHERE client = "
	    "?1 AND ts >= coalesce((SELECT max(ts) FROM acct_%s WHERE client = "
	    "?1) + %u, -9223372036854775807) GROUP BY b ORDER BY b ON CONFLICT "
	    "(client, ts) DO UPDATE SET ", sn, tn, wt);
	cols(sql, sizeof(sql), &n, "%1$s = %1$s + excluded.%1$s, ", false, 0,
	     XTEL_STORE_N_ACCT);
	cat(sql, sizeof(sql), &n, "%s", xtel_store_lat_update);
	if (xtel_store_prepare(w, &acct, sql) ||
	    xtel_store_preparef(w, &metric, "INSERT INTO metric_%s (client, metric, ts, "
		     "count, sum, min, max) SELECT client, metric, ts / %u * %u "
		     "AS b, sum(count), sum(sum), min(min), max(max) FROM "
		     "metric_%s s WHERE client = ?1 AND metric IN (SELECT id FROM "
		     "metric_names) AND ts >= coalesce((SELECT max(ts) FROM "
		     "metric_%s d WHERE d.client = ?1 AND d.metric = s.metric) + "
		     "%u, -9223372036854775807) GROUP BY metric, b ORDER BY metric, "
		     "b ON CONFLICT (client, metric, ts) DO UPDATE SET count = "
		     "count + excluded.count, sum = sum + excluded.sum, min = "
		     "min(min, excluded.min), max = max(max, excluded.max)",
		     tn, wt, wt, sn, tn, wt)) {
		rows = -1;
		goto out;
	}
	for (;;) {
		sqlite3_bind_int64(next, 1, client);
		if (sqlite3_step(next) != SQLITE_ROW) {
			sqlite3_reset(next);
			break;
		}
		client = sqlite3_column_int64(next, 0);
		sqlite3_reset(next);
		for (sqlite3_stmt *st = acct; st; st = st == acct ? metric : NULL) {
			sqlite3_bind_int64(st, 1, client);
			if (sqlite3_step(st) != SQLITE_DONE) {
				sqlite3_reset(st);
				rows = -1;
				goto out;
			}
			rows += sqlite3_changes(w->db);
			sqlite3_reset(st);
		}
	}
out:
	sqlite3_finalize(acct);
	sqlite3_finalize(metric);
	return rows;
}

/* One transaction: everything recovered, or nothing (a message says so). */
int xtel_store_recover(struct xtel_store *w)
{
	int64_t rows = 0, r;

	if (xtel_db_exec(w->db, "BEGIN IMMEDIATE", w->what))
		return -EIO;
	for (unsigned int t = XTEL_TIER_1S + 1; t < XTEL_TIER_N; t++) {
		r = recover_fleet(w, t);
		/*
		 * The fleet has a row for every view, a client only for views
		 * with news: when the fleet's finer rows all lie inside the
		 * coarser tier, so do every client's, and the walk over the
		 * clients (seconds at 100,000 of them) is not needed.
		 */
		if (r > 0 && t > XTEL_TIER_CLIENT_FIRST) {
			int64_t c = recover_clients(w, t);

			r = c < 0 ? -1 : r + c;
		}
		if (r < 0) {
			pr_err("%s: recovering the %s tier after an unclean stop "
			       "failed: %s (the history stays as it is)", w->what,
			       xtel_tiers[t].name, sqlite3_errmsg(w->db));
			sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
			return 0;	/* not fatal: the history is readable */
		}
		rows += r;
	}
	if (xtel_db_exec(w->db, "COMMIT", w->what))
		return -EIO;
	if (rows)
		pr_info("%s: the last run did not stop cleanly: %lld rows of "
			"the coarser tiers rebuilt from finer ones",
			w->what, (long long)rows);
	return 0;
}

