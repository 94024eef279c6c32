/* SPDX-License-Identifier: MIT */
/*
 * The JSON pieces every renderer of a view shares: one client with all its
 * counters, latency percentiles and whole-run metrics, the counter families
 * (drop reasons, receive-loop events, DTLS statistics) and the XDP side.
 * The summary JSON (summary_json.c) and the HTTP API (api/) build their
 * documents from these, so a field has one spelling and one rounding
 * wherever it appears (docs/COLLECTOR.md, docs/API.md).
 */
#ifndef XTEL_OUT_VIEW_JSON_H
#define XTEL_OUT_VIEW_JSON_H

#include <jansson.h>

#include "collector/cli.h"
#include "collector/view.h"

/* count, negative, min, mean, p50, p90, p99, p999, max (microseconds, 3 places). */
json_t *xtel_view_json_latency(const struct xtel_lat_summary *l);

/*
 * The counters a client and the totals share (received ... latency_us),
 * added to o.
 */
void xtel_view_json_counts(json_t *o, const struct xtel_view_client *vc);

/*
 * A fold of samples into o: "min", "max", "mean" (null when count is 0)
 * and "count", in that order.
 */
void xtel_view_json_fold(json_t *o, uint64_t count, double min, double max,
			 double mean);

/* One client as in the summary JSON's clients[] (a new reference). */
json_t *xtel_view_json_client(const struct xtel_view_client *vc);

/* {"name": value, ...} of a counter family, from index first to n - 1. */
json_t *xtel_view_json_family(const struct xtel_counter_desc *desc,
			      const uint64_t *vals, unsigned int first,
			      unsigned int n);

/*
 * The collector-wide counters of v into root: "drops" (every reason),
 * "dropped_total", "counters" (the receive-loop events) and "dtls".
 */
void xtel_view_json_counters(json_t *root, const struct xtel_view *v);

/*
 * The control-plane families of v (the exporter's, the aggregator's) into
 * root: "<name>": {counter: value, ..., gauge: value, ...}.
 */
void xtel_view_json_families(json_t *root, const struct xtel_view *v);

/*
 * The newest DTLS handshake failures of v into root as
 * "dtls_recent_failures": an array, oldest first, of {time_ns, peer,
 * reason, client_id, worker} (empty in plain mode).
 */
void xtel_view_json_recent_failures(json_t *root, const struct xtel_view *v);

/*
 * The XDP side into root: "xdp" (false, or the program's settings and its
 * counters), "xdp_clients" (with the final view's per-client counters;
 * not with_clients: left to the caller, who writes each with
 * xtel_view_json_xdp_client) and "afxdp" (false, or the sockets'
 * counters).
 */
void xtel_view_json_xdp(json_t *root, const struct xtel_view_xdp *x,
			const struct xtel_config *cfg, bool with_clients);
json_t *xtel_view_json_xdp_client(const struct xtel_view_xdp_client *c);

/*
 * A client's inventory entry: {"name", "labels": {site, rack, role},
 * "enabled", "heartbeat_s"}, or null for a device not in the inventory.
 */
json_t *xtel_view_json_device(const struct xtel_device *d);

/*
 * --db: "devices": {"all", "enabled", "stale", "never_seen",
 * "unknown_clients", "version"} of the view's inventory (nothing without).
 */
void xtel_view_json_devices(json_t *root, const struct xtel_view *v);

#endif /* XTEL_OUT_VIEW_JSON_H */
