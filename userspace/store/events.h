/* SPDX-License-Identifier: MIT */
/*
 * Health transitions in the --db file (component "health_events" of
 * db.h), written by the history writer in the transaction of the view
 * that carried them (docs/HEALTH.md, docs/STORAGE.md):
 *
 *   health_events(ts, seq, scope, client, grp, from_state, to_state,
 *                 score, why)          PRIMARY KEY (ts, seq), STRICT
 *
 * ts is the transition's interval end in ns (CLOCK_REALTIME), seq its
 * number within the collector run, client NULL for a group's. The writer
 * knows only these rows, not the health engine: the frame's events
 * callback (writer.h) calls xtel_store_event_row() for each transition it
 * has newer than the writer's last.
 */
#ifndef XTEL_STORE_EVENTS_H
#define XTEL_STORE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

struct xtel_store;

extern const struct xtel_db_component xtel_store_events_schema;

struct xtel_store_event {
	uint64_t seq, ts_ns;
	bool group;
	uint32_t client_id;		/* a client's */
	const char *group_label;
	const char *from, *to;		/* state names */
	double score;
	const char *why;
};

/* One transition into the current transaction (the writer thread only). */
void xtel_store_event_row(struct xtel_store *w, const struct xtel_store_event *e);

/*
 * Reading them back (the API's /api/v1/events?from=..., on a reader
 * connection of query.h): the rows with ts in [from_ns, to_ns), of one
 * client when by_client, in (ts, seq) order, offset rows skipped, at most
 * limit passed to fn (whose strings live for the call only). *total gets
 * the number of rows in the range (before offset and limit). Returns 0,
 * fn's nonzero value, or -EIO after a message.
 */
struct xtel_store_events_q {
	uint64_t from_ns, to_ns;
	bool by_client;
	uint32_t client_id;
	uint64_t offset, limit;
};

typedef int xtel_store_event_fn(void *arg, const struct xtel_store_event *e);

int xtel_store_events_read(sqlite3 *db, const struct xtel_store_events_q *q,
			   uint64_t *total, xtel_store_event_fn *fn, void *arg);

/* Migrate and prepare at open; finalize at free (writer.c). */
int xtel_store_events_open(struct xtel_store *w);
void xtel_store_events_free(struct xtel_store *w);

#endif /* XTEL_STORE_EVENTS_H */
