// SPDX-License-Identifier: MIT
/*
 * GET /metrics: the Prometheus text exposition format 0.0.4 of the latest
 * view (docs/API.md, "Prometheus"). Names follow Prometheus' conventions:
 * prefix xtel_, the unit of the counter table's row in the name, _total
 * on counters, seconds and bytes as base units. HELP and TYPE come from
 * the counter tables (collector/counters.h, wire/wire.h through the drop
 * table, bpf/xtel_maps.h, dtls/server.h, api/stats.h): a family that is
 * one row has the row's help text; a family with a label over the rows
 * of one unit lists each row's name and help in its HELP line.
 *
 * Per-client series are written for at most --metrics-clients clients (the
 * first by id, or those of --metrics-client-ids); the clients and series
 * left out are counted, so a dashboard can tell a cap from a silence.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/api/internal.h"
#include "xdp/xdp.h"

/* Per-client series for one client: the families below, a line each. */
enum { SERIES_PER_CLIENT_FIXED = 14 };

static void help_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s ", name);
	help_escaped(f, help);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void value(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN\n", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf\n" : "-Inf\n", f);
	else
		fprintf(f, "%.17g\n", v);
}

static void u64(FILE *f, uint64_t v)
{
	fprintf(f, "%llu\n", (unsigned long long)v);
}

/* A family of one unlabelled sample. */
static void single(FILE *f, const char *name, const char *type,
		   const char *help, double v)
{
	family(f, name, type, help);
	fprintf(f, "%s ", name);
	value(f, v);
}

/*
 * The samples of a summary family from a latency summary (ns): the first
 * nq of the quantiles 0.5, 0.99, 0.9, 0.999 (NaN when empty), _sum and
 * _count, with labels (`key="value"`, no braces) on each.
 */
static void summary(FILE *f, const char *name, const char *labels,
		    const struct xtel_lat_summary *l, unsigned int nq)
{
	const struct { const char *q; uint64_t ns; } quant[] = {
		{ "0.5", l->p50_ns }, { "0.99", l->p99_ns },
		{ "0.9", l->p90_ns }, { "0.999", l->p999_ns },
	};

	for (unsigned int i = 0; i < nq && i < 4; i++) {
		fprintf(f, "%s{%s,quantile=\"%s\"} ", name, labels, quant[i].q);
		value(f, l->count ? (double)quant[i].ns / 1e9 : NAN);
	}
	fprintf(f, "%s_sum{%s} ", name, labels);
	value(f, (double)l->sum_ns / 1e9);
	fprintf(f, "%s_count{%s} ", name, labels);
	u64(f, l->count);
}

/* "xtel_" name, "_" unit unless the name ends with it, "_total". */
static void counter_name(char *buf, size_t n, const char *prefix,
			 const char *name, const char *unit)
{
	size_t ln = strlen(name), lu = strlen(unit);
	bool has = ln >= lu && !strcmp(name + ln - lu, unit);

	snprintf(buf, n, "%s%s%s%s_total", prefix, name, has ? "" : "_",
		 has ? "" : unit);
}

/* One family per row of a counter table, HELP from the row. */
static void table_rows(FILE *f, const char *prefix,
		       const struct xtel_counter_desc *d,
		       const uint64_t *vals, unsigned int first, unsigned int n)
{
	char name[128];

	for (unsigned int i = first; i < n; i++) {
		counter_name(name, sizeof(name), prefix, d[i].name, d[i].unit);
		family(f, name, "counter", d[i].help);
		fputs(name, f);
		fputc(' ', f);
		u64(f, vals[i]);
	}
}

/*
 * A counter table as one family per unit, the row's name in label reason:
 * PREFIX<unit>_total{reason="name"}, its HELP the intro and every row's
 * name and help. Rows first..n-1; units in order of first appearance.
 */
static void by_reason(FILE *f, const char *prefix, const char *intro,
		      const struct xtel_counter_desc *d, const uint64_t *vals,
		      unsigned int first, unsigned int n)
{
	for (unsigned int u = first; u < n; u++) {
		const char *unit = d[u].unit;
		char name[96], *help = NULL;
		size_t len = 0;
		bool seen = false;
		FILE *h;

		for (unsigned int p = first; p < u && !seen; p++)
			seen = !strcmp(d[p].unit, unit);
		if (seen || !(h = open_memstream(&help, &len)))
			continue;
		fprintf(h, "%c%s %s, by reason:", unit[0] - 'a' + 'A', unit + 1, intro);
		for (unsigned int r = u; r < n; r++)
			if (!strcmp(d[r].unit, unit))
				fprintf(h, " %s (%s);", d[r].name, d[r].help);
		fclose(h);
		snprintf(name, sizeof(name), "%s%s_total", prefix, unit);
		family(f, name, "counter", help);
		free(help);
		for (unsigned int r = u; r < n; r++)
			if (!strcmp(d[r].unit, unit)) {
				fprintf(f, "%s{reason=\"%s\"} ", name, d[r].name);
				u64(f, vals[r]);
			}
	}
}

static void dtls(FILE *f, const struct xtel_view *v)
{
	char name[96];

	for (unsigned int d = 0; d < XTEL_DTLS_SERVER_NSTATS; d++) {
		snprintf(name, sizeof(name), "xtel_dtls_%s_total",
			 xtel_dtls_server_stat_names[d]);
		family(f, name, "counter", xtel_dtls_server_stat_help[d]);
		fprintf(f, "%s ", name);
		u64(f, v->cnt.dtls[d]);
	}
	single(f, "xtel_dtls_sessions", "gauge",
	       "DTLS sessions established now (handshakes_ok less the "
	       "closed, expired, failed and replaced ones)",
	       (double)v->dtls_sessions);
}

static const char *kind_name(enum xtel_xdp_stat_kind k)
{
	switch (k) {
	case XTEL_XDP_KIND_PASS:
		return "pass";
	case XTEL_XDP_KIND_REDIRECT:
		return "redirect";
	case XTEL_XDP_KIND_DROP:
		return "drop";
	case XTEL_XDP_KIND_MARK:
		break;
	}
	return "mark";
}

static void xdp(FILE *f, const struct xtel_view *v)
{
	static const char *const what[] = { "packets", "bytes" };
	const struct xtel_xdp_totals *t = &v->xdp.totals;

	single(f, "xtel_xdp_attached", "gauge",
	       "1 when the XDP program is attached to --iface", v->xdp.on ? 1 : 0);
	if (!v->xdp.on)
		return;
	for (int w = 0; w < 2; w++) {
		char name[64], *help = NULL;
		size_t len = 0;
		FILE *h = open_memstream(&help, &len);

		if (!h)
			continue;
		fprintf(h, "%s the XDP program saw, each in exactly one "
			"outcome (frame bytes for bytes):", w ? "Bytes" : "Packets");
		for (int i = 0; i < XTEL_XDP_STAT_OUTCOMES; i++)
			fprintf(h, " %s (%s);", xtel_xdp_stat_name(i),
				xtel_xdp_stat_help(i));
		fclose(h);
		snprintf(name, sizeof(name), "xtel_xdp_%s_total", what[w]);
		family(f, name, "counter", help);
		free(help);
		for (int i = 0; i < XTEL_XDP_STAT_OUTCOMES; i++) {
			fprintf(f, "%s{outcome=\"%s\",verdict=\"%s\"} ", name,
				xtel_xdp_stat_name(i),
				kind_name(xtel_xdp_stat_kind(i)));
			u64(f, w ? t->bytes[i] : t->packets[i]);
		}
	}
	for (int i = XTEL_XDP_STAT_OUTCOMES; i < XTEL_XDP_STAT_MAX; i++) {
		char name[96];

		snprintf(name, sizeof(name), "xtel_xdp_%s_packets_total",
			 xtel_xdp_stat_name(i));
		family(f, name, "counter", xtel_xdp_stat_help(i));
		fprintf(f, "%s ", name);
		u64(f, t->packets[i]);
	}
}

/* The accounting totals over every client (what loadgen's report checks). */
static void totals(FILE *f, const struct xtel_view *v)
{
	const struct xtel_client_snap *c = &v->snap.total;
	static const struct {
		const char *name, *help;
		size_t off;
	} rows[] = {
#define T(n, h, m) { n, h, offsetof(struct xtel_client_snap, m) }
		T("xtel_received_datagrams_total",
		  "Datagrams accounted to a client, all types, duplicates included", received),
		T("xtel_received_bytes_total", "Bytes of those datagrams", bytes),
		T("xtel_lost_datagrams_total",
		  "Sequence numbers confirmed lost (window passed, BYE, or stop)", lost),
		T("xtel_duplicate_datagrams_total", "Datagrams received twice", duplicates),
		T("xtel_reordered_datagrams_total",
		  "Datagrams that arrived after a higher sequence number", reordered),
		T("xtel_too_late_datagrams_total",
		  "Datagrams behind the sequence window (not judged)", too_late),
#undef T
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		family(f, rows[i].name, "counter", rows[i].help);
		fprintf(f, "%s ", rows[i].name);
		u64(f, *(const uint64_t *)((const char *)c + rows[i].off));
	}
	/* gaps not yet confirmed: the live half of the loss (docs/API.md) */
	family(f, "xtel_pending_datagrams", "gauge",
	       "Sequence gaps inside the clients' windows, not yet confirmed lost");
	fprintf(f, "xtel_pending_datagrams ");
	u64(f, c->pending);
	/* an aggregator's view: the same per site, xtel_site_... */
	for (size_t i = 0; v->n_sites && i < sizeof(rows) / sizeof(rows[0]); i++) {
		char name[96];

		snprintf(name, sizeof(name), "xtel_site_%s", rows[i].name + 5);
		family(f, name, "counter", rows[i].help);
		for (unsigned int k = 0; k < v->n_sites; k++) {
			fprintf(f, "%s{site=\"%s\"} ", name, v->sites[k].name);
			u64(f, *(const uint64_t *)((const char *)&v->sites[k].snap +
						   rows[i].off));
		}
	}
	family(f, "xtel_clients", "gauge",
	       "Clients in the snapshot by state (live: a datagram within "
	       "--stale-after; stale: silent longer; bye: said BYE)");
	fprintf(f, "xtel_clients{state=\"live\"} %u\n", v->live);
	fprintf(f, "xtel_clients{state=\"stale\"} %u\n", v->stale);
	fprintf(f, "xtel_clients{state=\"bye\"} %u\n", v->bye);
	if (!v->inv)
		return;
	family(f, "xtel_devices", "gauge",
	       "Devices of the inventory (--db): all, enabled, stale (silent "
	       "past their heartbeat_s) and never seen this run");
	fprintf(f, "xtel_devices{state=\"all\"} %u\n", v->n_devices);
	fprintf(f, "xtel_devices{state=\"enabled\"} %u\n",
		v->n_devices - v->devices_disabled);
	fprintf(f, "xtel_devices{state=\"stale\"} %u\n", v->devices_stale);
	fprintf(f, "xtel_devices{state=\"never_seen\"} %u\n", v->devices_unseen);
	single(f, "xtel_clients_unknown", "gauge",
	       "Clients of the snapshot that are not in the inventory",
	       v->clients_unknown);
}

static void snapshot(FILE *f, const struct xtel_api_req *r)
{
	const struct xtel_view *v = r->v;

	single(f, "xtel_snapshot_timestamp_seconds", "gauge",
	       "When the snapshot behind this exposition was taken",
	       (double)v->taken_ns / 1e9);
	single(f, "xtel_snapshot_age_seconds", "gauge",
	       "Age of that snapshot at this scrape",
	       xtel_api_age_s(r, v->taken_ns));
	single(f, "xtel_snapshot_build_seconds", "gauge",
	       "What making that snapshot cost the control thread",
	       (double)v->build_ns / 1e9);
	single(f, "xtel_receiving", "gauge", "1 while the receive path runs",
	       __atomic_load_n(&r->api->receiving, __ATOMIC_ACQUIRE) ? 1 : 0);
}

static void api_series(FILE *f, struct xtel_api *api)
{
	struct xtel_api_stats_copy *s = malloc(sizeof(*s));
	struct xtel_api_stream_stats ss;

	if (!s)
		return;
	xtel_api_stats_copy(&api->stats, s);
	family(f, "xtel_api_requests_total", "counter",
	       "HTTP API replies by endpoint and status code (this scrape "
	       "not yet counted)");
	for (unsigned int i = 0; i < XTEL_API_EP_MAX; i++)
		for (unsigned int c = 0; c < XTEL_API_N_CODES; c++)
			if (s->ep[i].by_code[c]) {
				fprintf(f, "xtel_api_requests_total{endpoint=\"%s\","
					"code=\"%u\"} ", xtel_api_endpoints[i].name,
					xtel_api_codes[c]);
				u64(f, s->ep[i].by_code[c]);
			}
	family(f, "xtel_api_request_duration_seconds", "summary",
	       "Arrival to reply queued, by endpoint");
	for (unsigned int i = 0; i < XTEL_API_EP_MAX; i++) {
		const struct xtel_lat_summary *l = &s->ep[i].lat;
		char label[64];

		if (!l->count)
			continue;
		snprintf(label, sizeof(label), "endpoint=\"%s\"",
			 xtel_api_endpoints[i].name);
		summary(f, "xtel_api_request_duration_seconds", label, l, 2);
	}
	by_reason(f, "xtel_api_refused_", "refused before their endpoint ran",
		  xtel_api_refusals, s->refused, 0, XTEL_API_REFUSED_MAX);
	single(f, "xtel_api_connections_total", "counter",
	       "HTTP connections accepted", (double)s->connections);
	single(f, "xtel_api_open_connections", "gauge", "HTTP connections open now",
	       (double)s->open_connections);
	xtel_api_streams_stats(api->streams, &ss);
	single(f, "xtel_api_streams", "gauge",
	       "/api/v1/stream event streams open now", (double)ss.open);
	single(f, "xtel_api_stream_events_total", "counter",
	       "events queued to /api/v1/stream readers", (double)ss.events);
	single(f, "xtel_api_stream_dropped_events_total", "counter",
	       "stream events dropped: the reader was too slow for its queue",
	       (double)ss.dropped);
	single(f, "xtel_api_stream_resyncs_total", "counter",
	       "full client tables sent again after dropped events",
	       (double)ss.resyncs);
	single(f, "xtel_api_stream_bytes_total", "counter",
	       "bytes of /api/v1/stream events sent", (double)ss.bytes);
	single(f, "xtel_api_stream_skipped_views_total", "counter",
	       "views the stream's thread fell too far behind to render",
	       (double)ss.skipped);
	free(s);
}

static bool id_selected(const struct xtel_api *api, uint32_t id)
{
	if (!api->n_metric_ids)
		return true;
	for (unsigned int i = 0; i < api->n_metric_ids; i++)
		if (id >= api->metric_ids[i].lo && id <= api->metric_ids[i].hi)
			return true;
	return false;
}

/*
 * The labels of a client's series: site in an aggregator's view, then
 * client_id, and for a device of the inventory its name, site, rack and
 * role (those set; an aggregator's view has no inventory). Names and
 * labels hold nothing that needs escaping (devices/inventory.h and the
 * rollup's subject tokens check them).
 */
enum { LABELS_MAX = 24 + 8 + XTEL_DEV_NAME_MAX +
		    XTEL_DEV_NLABELS * (8 + XTEL_DEV_LABEL_MAX) + 72 };

static const char *client_labels(const struct xtel_view_client *vc,
				 char buf[LABELS_MAX])
{
	const struct xtel_device *d = vc->dev;
	int n = vc->site ? snprintf(buf, LABELS_MAX, "site=\"%s\",", vc->site) : 0;

	n += snprintf(buf + n, LABELS_MAX - n, "client_id=\"%u\"", vc->snap->client_id);
	if (d && d->name[0])
		n += snprintf(buf + n, LABELS_MAX - n, ",name=\"%s\"", d->name);
	for (int i = 0; d && i < XTEL_DEV_NLABELS; i++)
		if (d->labels[i][0])
			n += snprintf(buf + n, LABELS_MAX - n, ",%s=\"%s\"",
				      xtel_dev_label_names[i], d->labels[i]);
	return buf;
}

#define CLIENT_LOOP(sel, n, vc)						\
	for (uint32_t i_ = 0; i_ < (n) && ((vc) = (sel)[i_], 1); i_++)

static void client_counter(FILE *f, const char *name, const char *help,
			   const struct xtel_view_client *const *sel, uint32_t n,
			   size_t off)
{
	const struct xtel_view_client *vc;
	char lb[LABELS_MAX];

	family(f, name, "counter", help);
	CLIENT_LOOP(sel, n, vc) {
		fprintf(f, "%s{%s} ", name, client_labels(vc, lb));
		u64(f, *(const uint64_t *)((const char *)vc->snap + off));
	}
}

/* The health verdicts (health/health.h): the results parallel v->clients. */
static void client_health(FILE *f, const struct xtel_view *v,
			  const struct xtel_view_client *const *sel, uint32_t n)
{
	static const struct {
		const char *name, *help;
	} fam[2] = {
		{ "xtel_client_health_state",
		  "Health verdict of this client: 0 ok, 1 congested, 2 anomalous, "
		  "3 degraded, 4 silent, 5 warmup (docs/HEALTH.md)" },
		{ "xtel_client_health_score",
		  "Strength of the verdict: deviation in MAD units, or value over "
		  "the SLO ceiling; 0 when ok" },
	};
	const struct xtel_health_view *hv = v->health;
	const struct xtel_view_client *vc;

	for (int k = 0; k < 2; k++) {
		family(f, fam[k].name, "gauge", fam[k].help);
		CLIENT_LOOP(sel, n, vc) {
			size_t i = (size_t)(vc - v->clients);

			if (i >= hv->n_clients)
				continue;
			fprintf(f, "%s{client_id=\"%u\"} ", fam[k].name,
				vc->snap->client_id);
			value(f, k ? hv->clients[i].score : (double)hv->clients[i].state);
		}
	}
}

/* Fleet-wide health: clients per state, groups, transitions. */
static void health(FILE *f, const struct xtel_view *v)
{
	const struct xtel_health_view *hv = v->health;

	if (!hv)
		return;
	table_rows(f, "xtel_", xtel_health_counter_desc, hv->counters, 0,
		   XTEL_HEALTH_CNT_MAX);
	family(f, "xtel_health_transitions_total", "counter",
	       "Health transitions of clients and groups, by the state entered");
	for (int s = 0; s < XTEL_HEALTH_STATE_MAX; s++) {
		fprintf(f, "xtel_health_transitions_total{to=\"%s\"} ",
			xtel_health_state_name(s));
		u64(f, hv->events_to[s]);
	}
	family(f, "xtel_health_clients", "gauge", "Clients per health state");
	for (int s = 0; s < XTEL_HEALTH_STATE_MAX; s++)
		fprintf(f, "xtel_health_clients{state=\"%s\"} %u\n",
			xtel_health_state_name(s), hv->counts[s]);
	family(f, "xtel_group_health_state", "gauge",
	       "Health verdict of a group (codes of xtel_client_health_state)");
	for (uint32_t g = 0; g < hv->n_groups; g++) {
		/* a label value: backslash, quote and newline escaped */
		fputs("xtel_group_health_state{group=\"", f);
		for (const char *p = hv->groups[g].label; *p; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', f);
			if (*p == '\n')
				fputs("\\n", f);
			else
				fputc(*p, f);
		}
		fprintf(f, "\"} %d\n", (int)hv->groups[g].state);
	}
	single(f, "xtel_health_inference_seconds", "gauge",
	       "CPU time of the last interval's health inference",
	       (double)hv->cost_ns / 1e9);
}

static void clients(FILE *f, struct xtel_api *api, const struct xtel_view *v)
{
	const struct xtel_view_client **sel;
	const struct xtel_view_client *vc;
	uint32_t n = 0, eligible = 0;
	uint64_t omitted_series = 0;
	char lb[LABELS_MAX];

	sel = calloc(v->snap.n_clients ? v->snap.n_clients : 1, sizeof(*sel));
	if (!sel)
		return;
	for (uint32_t i = 0; i < v->snap.n_clients; i++) {
		const struct xtel_view_client *c = &v->clients[i];

		if (!id_selected(api, c->snap->client_id))
			continue;
		eligible++;
		if (n < api->cfg->metrics_clients)
			sel[n++] = c;
		else
			omitted_series += SERIES_PER_CLIENT_FIXED + c->n_run_metrics +
					  (v->health ? 2 : 0);
	}
#define C(name, help, m) client_counter(f, name, help, sel, n, \
				offsetof(struct xtel_client_snap, m))
	C("xtel_client_received_datagrams_total",
	  "Datagrams accounted to this client, duplicates included", received);
	C("xtel_client_received_bytes_total", "Bytes of those datagrams", bytes);
	C("xtel_client_lost_datagrams_total",
	  "Sequence numbers of this client confirmed lost", lost);
	C("xtel_client_duplicate_datagrams_total",
	  "Datagrams of this client received twice", duplicates);
	C("xtel_client_reordered_datagrams_total",
	  "Datagrams of this client that arrived after a higher sequence number",
	  reordered);
	C("xtel_client_too_late_datagrams_total",
	  "Datagrams of this client behind its sequence window", too_late);
#undef C
	family(f, "xtel_client_latency_seconds", "summary",
	       "One-way latency of this client's datagrams (arrival minus send "
	       "time; quantiles within 0.8%)");
	CLIENT_LOOP(sel, n, vc)
		summary(f, "xtel_client_latency_seconds", client_labels(vc, lb),
			&vc->snap->lat, 4);
	family(f, "xtel_client_last_seen_timestamp_seconds", "gauge",
	       "Arrival time of this client's last datagram");
	CLIENT_LOOP(sel, n, vc) {
		fprintf(f, "xtel_client_last_seen_timestamp_seconds{%s} ",
			client_labels(vc, lb));
		value(f, (double)vc->snap->last_seen_ns / 1e9);
	}
	family(f, "xtel_client_silent_seconds", "gauge",
	       "Seconds since this client's last datagram, at the snapshot");
	CLIENT_LOOP(sel, n, vc) {
		fprintf(f, "xtel_client_silent_seconds{%s} ", client_labels(vc, lb));
		value(f, vc->silent_s);
	}
	family(f, "xtel_client_stale", "gauge",
	       "1 when this client is stale: silent for longer than its "
	       "device's heartbeat_s, or --stale-after");
	CLIENT_LOOP(sel, n, vc) {
		fprintf(f, "xtel_client_stale{%s} %d\n", client_labels(vc, lb),
			vc->state == XTEL_CLIENT_STALE);
	}
	family(f, "xtel_client_metric", "gauge",
	       "Latest value of each metric this client sends, by key");
	CLIENT_LOOP(sel, n, vc) {
		for (uint32_t k = 0; k < vc->n_run_metrics; k++) {
			fprintf(f, "xtel_client_metric{%s,metric=\"%s\"} ",
				client_labels(vc, lb), vc->run_metrics[k].latest->key);
			value(f, vc->run_metrics[k].latest->last);
		}
	}
	if (v->health)
		client_health(f, v, sel, n);
	__atomic_add_fetch(&api->omitted_series, omitted_series, __ATOMIC_RELAXED);
	single(f, "xtel_metrics_omitted_clients", "gauge",
	       "Clients of this scrape without per-client series (over "
	       "--metrics-clients)", eligible - n);
	single(f, "xtel_metrics_omitted_series_total", "counter",
	       "Per-client series left out by the --metrics-clients cap, over "
	       "every scrape",
	       (double)__atomic_load_n(&api->omitted_series, __ATOMIC_RELAXED));
	free(sel);
}

/* The control-plane families: xtel_<family>_<row>_total and gauges. */
static void families(FILE *f, const struct xtel_view *v)
{
	char prefix[64], name[128];

	for (unsigned int i = 0; i < v->n_families; i++) {
		const struct xtel_view_family *fam = &v->families[i];

		snprintf(prefix, sizeof(prefix), "xtel_%s_", fam->name);
		for (unsigned int r = 0; r < fam->n; r++) {
			const struct xtel_counter_desc *d = &fam->desc[r];
			size_t len = strlen(d->name);

			if (strcmp(d->unit, "nanoseconds") || len < 3) {
				table_rows(f, prefix, fam->desc, fam->vals, r, r + 1);
				continue;
			}
			/* "encode_ns" in nanoseconds: Prometheus wants seconds */
			snprintf(name, sizeof(name), "%s%.*s_seconds_total", prefix,
				 (int)(len - 3), d->name);
			single(f, name, "counter", d->help, (double)fam->vals[r] / 1e9);
		}
		for (unsigned int g = 0; g < fam->n_gauges; g++) {
			snprintf(name, sizeof(name), "%s%s", prefix,
				 fam->gauge_desc[g].name);
			single(f, name, "gauge", fam->gauge_desc[g].help,
			       (double)fam->gauges[g]);
		}
	}
}

/* --db: the history writer's counters (store/writer.h), xtel_db_*. */
static void db_series(FILE *f, struct xtel_api *api)
{
	struct xtel_store_stats s;

	if (!api->store)
		return;
	xtel_store_get_stats(api->store, &s);
	table_rows(f, "xtel_db_", xtel_store_stat_desc, s.c, 0,
		   XTEL_STORE_STAT_MAX);
	single(f, "xtel_db_queue_views", "gauge",
	       "Views waiting for the history writer", (double)s.queue_depth);
	single(f, "xtel_db_queue_capacity_views", "gauge",
	       "Room of the history writer's queue (--db-queue)",
	       (double)s.queue_capacity);
	single(f, "xtel_db_commit_seconds", "gauge",
	       "What the history writer's last transaction took",
	       (double)s.commit_ns_last / 1e9);
}

void xtel_api_h_metrics(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	const struct xtel_view *v = r->v;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		xtel_api_error(rep, 500, "out_of_memory", NULL, "out of memory");
		return;
	}
	table_rows(f, "xtel_", xtel_event_desc, v->cnt.events, 0, XTEL_EV_MAX);
	/* index 0 of the drop reasons is the decoder's "ok": never counted */
	by_reason(f, "xtel_dropped_", "refused before accounting",
		  xtel_drop_desc, v->cnt.drops, 1, XTEL_DROP_MAX);
	dtls(f, v);
	xdp(f, v);
	totals(f, v);
	families(f, v);
	snapshot(f, r);
	api_series(f, r->api);
	db_series(f, r->api);
	health(f, v);
	clients(f, r->api, v);
	if (fclose(f) || !buf) {
		free(buf);
		xtel_api_error(rep, 500, "out_of_memory", NULL, "out of memory");
		return;
	}
	rep->status = 200;
	rep->text = buf;
	rep->text_len = len;
	rep->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
