// SPDX-License-Identifier: MIT
/*
 * The shared JSON pieces of a view (view_json.h). Fixed decimals
 * (xtel_json_fixed) are those of the documented formats: latencies in
 * microseconds to 3 places, loss_pct to 6.
 */
#include <math.h>

#include "common/json.h"
#include "collector/out/view_json.h"

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

json_t *xtel_view_json_latency(const struct xtel_lat_summary *l)
{
	json_t *o = json_object();

	xtel_json_set(o, "count", xtel_json_u64(l->count));
	xtel_json_set(o, "negative", xtel_json_u64(l->negative));
	xtel_json_set(o, "min", xtel_json_fixed(us(l->min_ns), 3));
	xtel_json_set(o, "mean", xtel_json_fixed(us(xtel_lat_mean_ns(l)), 3));
	xtel_json_set(o, "p50", xtel_json_fixed(us(l->p50_ns), 3));
	xtel_json_set(o, "p90", xtel_json_fixed(us(l->p90_ns), 3));
	xtel_json_set(o, "p99", xtel_json_fixed(us(l->p99_ns), 3));
	xtel_json_set(o, "p999", xtel_json_fixed(us(l->p999_ns), 3));
	xtel_json_set(o, "max", xtel_json_fixed(us(l->max_ns), 3));
	return o;
}

/* Counters shared by totals and each client, added to o. */
void xtel_view_json_counts(json_t *o, const struct xtel_view_client *vc)
{
	const struct xtel_client_snap *c = vc->snap;
	json_t *by_type = json_object();

	xtel_json_set(o, "received", xtel_json_u64(c->received));
	xtel_json_set(o, "bytes", xtel_json_u64(c->bytes));
	xtel_json_set(o, "lost", xtel_json_u64(c->lost));
	xtel_json_set(o, "duplicates", xtel_json_u64(c->duplicates));
	xtel_json_set(o, "reordered", xtel_json_u64(c->reordered));
	xtel_json_set(o, "too_late", xtel_json_u64(c->too_late));
	xtel_json_set(o, "loss_pct", xtel_json_fixed(xtel_view_client_loss_pct(vc), 6));
	xtel_json_set(o, "avg_size", xtel_json_fixed(xtel_view_client_avg_size(vc), 3));
	for (unsigned int t = 1; t <= XTEL_MSG_TYPE_MAX; t++)
		xtel_json_set(by_type, xtel_msg_type_name((uint8_t)t),
			      xtel_json_u64(c->by_type[t]));
	xtel_json_set(o, "by_type", by_type);
	xtel_json_set(o, "latency_us", xtel_view_json_latency(&c->lat));
}

void xtel_view_json_fold(json_t *o, uint64_t count, double min, double max,
			 double mean)
{
	xtel_json_set(o, "min", xtel_json_real(count ? min : NAN));
	xtel_json_set(o, "max", xtel_json_real(count ? max : NAN));
	xtel_json_set(o, "mean", xtel_json_real(count ? mean : NAN));
	xtel_json_set(o, "count", xtel_json_u64(count));
}

json_t *xtel_view_json_client(const struct xtel_view_client *vc)
{
	const struct xtel_client_snap *c = vc->snap;
	json_t *o = json_object(), *metrics = json_object();

	xtel_json_set(o, "client_id", json_integer(c->client_id));
	if (vc->site)
		xtel_json_set(o, "site", json_string(vc->site));
	xtel_view_json_counts(o, vc);
	xtel_json_set(o, "epochs", xtel_json_u64(c->epochs));
	xtel_json_set(o, "highest_seq", xtel_json_u64(c->highest_seq));
	xtel_json_set(o, "first_seen_ns", xtel_json_u64(c->first_seen_ns));
	xtel_json_set(o, "last_seen_ns", xtel_json_u64(c->last_seen_ns));
	xtel_json_set(o, "state", json_string(xtel_client_state_name(vc->state)));
	xtel_json_set(o, "metrics_dropped", xtel_json_u64(c->metrics_dropped));
	for (uint32_t k = 0; k < vc->n_run_metrics; k++) {
		const struct xtel_run_metric *m = &vc->run_metrics[k];
		json_t *mo = json_object();

		xtel_json_set(mo, "last", xtel_json_real(m->latest->last));
		xtel_view_json_fold(mo, m->count, m->min, m->max,
				    xtel_run_metric_mean(m));
		xtel_json_set(metrics, m->latest->key, mo);
	}
	xtel_json_set(o, "metrics", metrics);
	return o;
}

void xtel_view_json_devices(json_t *root, const struct xtel_view *v)
{
	json_t *o;

	if (!v->inv)
		return;
	o = json_object();
	xtel_json_set(o, "all", xtel_json_u64(v->n_devices));
	xtel_json_set(o, "enabled", xtel_json_u64(v->n_devices - v->devices_disabled));
	xtel_json_set(o, "stale", xtel_json_u64(v->devices_stale));
	xtel_json_set(o, "never_seen", xtel_json_u64(v->devices_unseen));
	xtel_json_set(o, "unknown_clients", xtel_json_u64(v->clients_unknown));
	xtel_json_set(o, "version", xtel_json_u64(v->inv->version));
	xtel_json_set(root, "devices", o);
}

json_t *xtel_view_json_device(const struct xtel_device *d)
{
	json_t *o, *l;

	if (!d)
		return json_null();
	o = json_object();
	l = json_object();
	xtel_json_set(o, "name", xtel_json_text(d->name));
	for (int i = 0; i < XTEL_DEV_NLABELS; i++)
		xtel_json_set(l, xtel_dev_label_names[i], xtel_json_text(d->labels[i]));
	xtel_json_set(o, "labels", l);
	xtel_json_set(o, "enabled", json_boolean(d->enabled));
	xtel_json_set(o, "heartbeat_s", xtel_json_fixed(d->heartbeat_ms / 1000.0, 3));
	return o;
}

/* One client's pinned XDP counters (an element of "xdp_clients"). */
json_t *xtel_view_json_xdp_client(const struct xtel_view_xdp_client *c)
{
	json_t *o = json_object();

	xtel_json_set(o, "client_id", json_integer(c->client_id));
	xtel_json_set(o, "packets", xtel_json_u64(c->packets));
	xtel_json_set(o, "bytes", xtel_json_u64(c->bytes));
	xtel_json_set(o, "seq_gaps", xtel_json_u64(c->seq_gaps));
	return o;
}

/*
 * What the XDP program saw and dropped before the sockets, next to what
 * userspace received: together they say where loss happened (before the
 * host, in XDP, in the socket buffer as rxq_ovfl, or in userspace).
 */
void xtel_view_json_xdp(json_t *root, const struct xtel_view_xdp *x,
			const struct xtel_config *cfg, bool with_clients)
{
	json_t *o, *clients;

	if (!x->on) {
		xtel_json_set(root, "xdp", json_false());
		return;
	}
	o = json_object();
	xtel_json_set(o, "interface", xtel_json_text(cfg->iface));
	xtel_json_set(o, "attach_mode", xtel_json_text(x->attach_mode));
	xtel_json_set(o, "pin_dir", xtel_json_text(x->pin_dir));
	xtel_json_set(o, "port", json_integer(x->opts.port));
	xtel_json_set(o, "mode", json_string(x->opts.dtls ? "dtls" : "plain"));
	xtel_json_set(o, "afxdp", json_boolean(x->opts.afxdp));
	xtel_json_set(o, "allowlist", json_boolean(x->opts.allowlist));
	xtel_json_set(o, "handshake_rate", json_integer(x->opts.handshake_rate));
	xtel_json_set(o, "handshake_burst", json_integer(x->opts.handshake_burst));
	xtel_json_set(o, "handshake_global_rate",
		      json_integer(x->opts.handshake_global_rate));
	xtel_json_set(o, "handshake_global_burst",
		      json_integer(x->opts.handshake_global_burst));
	xtel_json_set(o, "clients", xtel_json_u64(x->n_clients));
	xtel_json_set(o, "stats", xtel_xdp_totals_json(&x->totals));
	xtel_json_set(root, "xdp", o);

	/* As pinned: cumulative over the runs that reused the maps. */
	if (with_clients) {
		clients = json_array();
		for (uint64_t i = 0; x->clients && i < x->n_clients; i++)
			if (json_array_append_new(clients,
					xtel_view_json_xdp_client(&x->clients[i])))
				xtel_json_set(root, "", NULL);
		xtel_json_set(root, "xdp_clients", clients);
	}

	if (!x->afxdp) {
		xtel_json_set(root, "afxdp", json_false());
		return;
	}
	o = json_object();
	xtel_json_set(o, "bind_mode", xtel_json_text(x->afxdp_bind_mode));
	xtel_json_set(o, "sockets", json_integer(x->afxdp_sockets));
	xtel_json_set(o, "rx_packets", xtel_json_u64(x->afxdp_stats.rx_packets));
	xtel_json_set(o, "rx_bytes", xtel_json_u64(x->afxdp_stats.rx_bytes));
	xtel_json_set(o, "unparsed", xtel_json_u64(x->afxdp_stats.unparsed));
	xtel_json_set(o, "no_meta", xtel_json_u64(x->afxdp_stats.no_meta));
	xtel_json_set(o, "rx_dropped", xtel_json_u64(x->afxdp_stats.rx_dropped));
	xtel_json_set(o, "rx_ring_full",
		      xtel_json_u64(x->afxdp_stats.rx_ring_full));
	xtel_json_set(o, "fill_ring_empty",
		      xtel_json_u64(x->afxdp_stats.fill_ring_empty));
	xtel_json_set(root, "afxdp", o);
}

/* A counter family as one object: {"name": value, ...} from index first. */
json_t *xtel_view_json_family(const struct xtel_counter_desc *desc,
			   const uint64_t *vals, unsigned int first,
			   unsigned int n)
{
	json_t *o = json_object();

	for (unsigned int i = first; i < n; i++)
		xtel_json_set(o, desc[i].name, xtel_json_u64(vals[i]));
	return o;
}

void xtel_view_json_recent_failures(json_t *root, const struct xtel_view *v)
{
	json_t *a = json_array();

	for (unsigned int i = 0; i < v->n_recent_failures; i++) {
		const struct xtel_fail_event *e = &v->recent_failures[i];
		json_t *o = json_object();
		char peer[64];

		xtel_fail_format_peer(e, peer, sizeof(peer));
		xtel_json_set(o, "time_ns", xtel_json_u64(e->time_ns));
		xtel_json_set(o, "peer", json_string(peer));
		xtel_json_set(o, "reason",
			      json_string(xtel_dtls_fail_name(e->reason)));
		xtel_json_set(o, "client_id", json_integer(e->client_id));
		xtel_json_set(o, "worker", json_integer(e->path));
		if (json_array_append_new(a, o))
			xtel_json_set(root, "", NULL);
	}
	xtel_json_set(root, "dtls_recent_failures", a);
}

void xtel_view_json_counters(json_t *root, const struct xtel_view *v)
{
	const struct xtel_worker_counters *cnt = &v->cnt;
	json_t *dtls = json_object();

	/* index 0 of the drop reasons is the decoder's "ok": never counted */
	xtel_json_set(root, "drops", xtel_view_json_family(xtel_drop_desc,
							    cnt->drops, 1,
							    XTEL_DROP_MAX));
	xtel_json_set(root, "dropped_total", xtel_json_u64(v->dropped_total));
	xtel_json_set(root, "counters", xtel_view_json_family(xtel_event_desc,
							       cnt->events, 0,
							       XTEL_EV_MAX));
	for (unsigned int d = 0; d < XTEL_DTLS_SERVER_NSTATS; d++)
		xtel_json_set(dtls, xtel_dtls_server_stat_names[d],
			      xtel_json_u64(cnt->dtls[d]));
	xtel_json_set(root, "dtls", dtls);
	xtel_view_json_families(root, v);
}

void xtel_view_json_families(json_t *root, const struct xtel_view *v)
{
	for (unsigned int i = 0; i < v->n_families; i++) {
		const struct xtel_view_family *f = &v->families[i];
		json_t *o = xtel_view_json_family(f->desc, f->vals, 0, f->n);

		for (unsigned int g = 0; g < f->n_gauges; g++)
			xtel_json_set(o, f->gauge_desc[g].name,
				      xtel_json_u64(f->gauges[g]));
		xtel_json_set(root, f->name, o);
	}
}
