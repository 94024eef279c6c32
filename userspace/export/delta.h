/* SPDX-License-Identifier: MIT */
/*
 * The edge's side of the deltas: what every client's cumulative counters
 * and histogram buckets were at the last exported snapshot, so the next
 * snapshot can be turned into the changes of the interval (rollup.h). A
 * snapshot that is never exported (a view the exporter's queue refused)
 * loses nothing: the next step's deltas cover both intervals. The state
 * belongs to the exporter's thread.
 */
#ifndef XTEL_EXPORT_DELTA_H
#define XTEL_EXPORT_DELTA_H

#include "acct/snapshot.h"
#include "export/rollup.h"

struct xtel_delta;

int xtel_delta_new(struct xtel_delta **out);
void xtel_delta_free(struct xtel_delta *d);

/* Called for each client that changed, with rc valid during the call. */
typedef int xtel_delta_fn(void *arg, const struct xtel_rollup_client *rc);

/*
 * The deltas of snap (taken with buckets) against the previous step:
 * fn for each changed client, *totals the edge's totals (counters only).
 * Then snap becomes the previous step. Returns 0, fn's error, or -ENOMEM
 * (the state is then unchanged: the next step covers this one).
 */
int xtel_delta_step(struct xtel_delta *d, const struct xtel_snapshot *snap,
		    xtel_delta_fn *fn, void *arg,
		    struct xtel_rollup_client *totals);

/*
 * The same with the view's health verdicts (NULL: none): each client's
 * entry carries its verdict (rollup key 17), and a client whose verdict
 * changed (state or start) has an entry even without any other change, so
 * a client gone silent tells the aggregator so.
 */
struct xtel_health_view;
int xtel_delta_step_health(struct xtel_delta *d, const struct xtel_snapshot *snap,
			   const struct xtel_health_view *hv,
			   xtel_delta_fn *fn, void *arg,
			   struct xtel_rollup_client *totals);

#endif /* XTEL_EXPORT_DELTA_H */
