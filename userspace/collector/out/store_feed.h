/* SPDX-License-Identifier: MIT */
/*
 * The history writer's reader of views (store/writer.h): each view
 * becomes one frame holding a reference to it, dropped by the writer
 * thread when it is done (or right away when its queue is full).
 */
#ifndef XTEL_OUT_STORE_FEED_H
#define XTEL_OUT_STORE_FEED_H

#include <stdbool.h>

#include <jansson.h>

#include "collector/view.h"
#include "store/writer.h"

/* Queues v (a reference is taken); wait for room with the final view. */
void xtel_store_feed(struct xtel_store *w, struct xtel_view *v, bool wait);

/*
 * The writer's counters as the summary JSON and /api/v1/stats show them:
 * {"path", "error", "queue_depth", "queue_capacity", "commit_ms_last",
 * "commit_ms_max", <every XTEL_STORE_STATS name>}; error is the last
 * failure's strerror or null.
 */
json_t *xtel_store_stats_json(const char *path, const struct xtel_store_stats *s);

#endif /* XTEL_OUT_STORE_FEED_H */
