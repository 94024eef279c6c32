// SPDX-License-Identifier: MIT
/*
 * Health transitions as rows (events.h). Kept as long as the 1h tier
 * (--retain 1h=...): the rows older than that go once an hour, with the
 * writer's other deletions. A transition already written (the same seq of
 * the same run, as after a restart in the same nanosecond) is ignored.
 * Read back by xtel_store_events_read() on the API's reader connections.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/events.h"
#include "store/writer_internal.h"

/* Version 1: the transitions of 2026-12. */
static const char step1[] =
	"CREATE TABLE health_events (ts INTEGER NOT NULL, seq INTEGER NOT NULL, "
	"scope TEXT NOT NULL, client INTEGER, grp TEXT NOT NULL, "
	"from_state TEXT NOT NULL, to_state TEXT NOT NULL, "
	"score REAL NOT NULL, why TEXT NOT NULL, "
	"PRIMARY KEY (ts, seq)) STRICT, WITHOUT ROWID;\n"
	"CREATE INDEX health_events_client ON health_events (client, ts);\n";

static const char *const steps[] = { step1 };

const struct xtel_db_component xtel_store_events_schema =
	XTEL_DB_COMPONENT("health_events", steps);

int xtel_store_events_open(struct xtel_store *w)
{
	int rc = xtel_db_migrate(w->db, &xtel_store_events_schema, w->what);

	if (!rc)
		rc = xtel_store_prepare(w, &w->ins_event,
			"INSERT OR IGNORE INTO health_events (ts, seq, scope, "
			"client, grp, from_state, to_state, score, why) VALUES "
			"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	if (!rc)
		rc = xtel_store_prepare(w, &w->del_events,
			"DELETE FROM health_events WHERE ts < ?1");
	return rc;
}

void xtel_store_events_free(struct xtel_store *w)
{
	sqlite3_finalize(w->ins_event);
	sqlite3_finalize(w->del_events);
}

void xtel_store_event_row(struct xtel_store *w, const struct xtel_store_event *e)
{
	sqlite3_stmt *st = w->ins_event;
	uint64_t now_s = e->ts_ns / 1000000000ull;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)e->ts_ns);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)e->seq);
	sqlite3_bind_text(st, 3, e->group ? "group" : "client", -1, SQLITE_STATIC);
	if (e->group)
		sqlite3_bind_null(st, 4);
	else
		sqlite3_bind_int64(st, 4, e->client_id);
	sqlite3_bind_text(st, 5, e->group_label, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, e->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, e->to, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 8, e->score);
	sqlite3_bind_text(st, 9, e->why, -1, SQLITE_TRANSIENT);
	xtel_store_row(w, st, "health event");
	if (e->seq > w->event_seq)
		w->event_seq = e->seq;
	/* retention: once an hour of event time, as long as the 1h tier */
	if (now_s >= w->events_retained_s + 3600) {
		uint64_t keep = w->cfg.retain_s[XTEL_TIER_1H] ?
				w->cfg.retain_s[XTEL_TIER_1H] :
				xtel_tiers[XTEL_TIER_1H].retain_s;

		w->events_retained_s = now_s;
		sqlite3_bind_int64(w->del_events, 1, (sqlite3_int64)
				   ((now_s > keep ? now_s - keep : 0) * 1000000000ull));
		xtel_store_row(w, w->del_events, "health event retention");
	}
}

/* The range's condition: ?1 from, ?2 to, ?3 client (when by_client). */
#define EVENTS_WHERE(by_client) (by_client ? \
	" FROM health_events WHERE ts >= ?1 AND ts < ?2 AND client = ?3" : \
	" FROM health_events WHERE ts >= ?1 AND ts < ?2")

static void bind_range(sqlite3_stmt *st, const struct xtel_store_events_q *q)
{
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(q->from_ns > INT64_MAX ?
						    INT64_MAX : q->from_ns));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(q->to_ns > INT64_MAX ?
						    INT64_MAX : q->to_ns));
	if (q->by_client)
		sqlite3_bind_int64(st, 3, q->client_id);
}

int xtel_store_events_read(sqlite3 *db, const struct xtel_store_events_q *q,
			   uint64_t *total, xtel_store_event_fn *fn, void *arg)
{
	sqlite3_stmt *cnt = NULL, *st = NULL;
	char sql[512];
	int rc;

	snprintf(sql, sizeof(sql), "SELECT count(*)%s", EVENTS_WHERE(q->by_client));
	if (sqlite3_prepare_v2(db, sql, -1, &cnt, NULL) != SQLITE_OK)
		goto db_error;
	bind_range(cnt, q);
	if (sqlite3_step(cnt) != SQLITE_ROW)
		goto db_error;
	*total = (uint64_t)sqlite3_column_int64(cnt, 0);
	snprintf(sql, sizeof(sql), "SELECT ts, seq, scope, client, grp, from_state, "
		 "to_state, score, why%s ORDER BY ts, seq LIMIT ?4 OFFSET ?5",
		 EVENTS_WHERE(q->by_client));
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto db_error;
	bind_range(st, q);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)(q->limit > INT64_MAX ?
						    INT64_MAX : q->limit));
	sqlite3_bind_int64(st, 5, (sqlite3_int64)(q->offset > INT64_MAX ?
						    INT64_MAX : q->offset));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *scope = (const char *)sqlite3_column_text(st, 2);
		struct xtel_store_event e = {
			.ts_ns = (uint64_t)sqlite3_column_int64(st, 0),
			.seq = (uint64_t)sqlite3_column_int64(st, 1),
			.group = scope && !strcmp(scope, "group"),
			.client_id = (uint32_t)sqlite3_column_int64(st, 3),
			.group_label = (const char *)sqlite3_column_text(st, 4),
			.from = (const char *)sqlite3_column_text(st, 5),
			.to = (const char *)sqlite3_column_text(st, 6),
			.score = sqlite3_column_double(st, 7),
			.why = (const char *)sqlite3_column_text(st, 8),
		};

		rc = fn(arg, &e);
		if (rc)
			goto out;
	}
	if (rc == SQLITE_DONE) {
		rc = 0;
		goto out;
	}
db_error:
	xtel_log_ratelimited(XTEL_LOG_ERR, xtel_mono_ns(), "health events query: %s",
			     sqlite3_errmsg(db));
	rc = -EIO;
out:
	sqlite3_finalize(cnt);
	sqlite3_finalize(st);
	return rc;
}
