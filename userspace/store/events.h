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

/* Migrate and prepare at open; finalize at free (writer.c). */
int xtel_store_events_open(struct xtel_store *w);
void xtel_store_events_free(struct xtel_store *w);

#endif /* XTEL_STORE_EVENTS_H */
