// SPDX-License-Identifier: MIT
/*
 * usage: bench_scaleout --nats URLS [--edges E] [--clients N] [--intervals K]
 *                       [--per-msg P] [--agg-url URL] [--site NAME]
 *
 * The scale-out benchmark's edge side (docs/SCALE-OUT.md, "Measured"): E
 * exporters (the edge code of userspace/export/, one thread each, as E
 * edge collectors would run them) fed synthetic views of N clients split
 * over them, every client changing in every interval (6 latency buckets,
 * 2 metrics: a busy fleet). Per interval it pushes one view to each edge,
 * then waits until JetStream acknowledged every message, and with
 * --agg-url until the aggregator's /api/v1/totals?site= shows the new
 * received total (curl). Prints one JSON object per interval and a
 * summary: client rollups per second from push to acks, push to visible
 * in the aggregator, bytes per client rollup on the wire, encode cost.
 * Bounded: K intervals, and at most 120 s of waiting per interval.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/view.h"
#include "common/clock.h"
#include "common/log.h"
#include "export/exporter.h"

enum { N_BUCKETS = 6, N_METRICS = 2 };

/* The exporter's view release: these views are ours, refcounted likewise. */
static void view_put(struct xtel_view *v)
{
	if (__atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL))
		return;
	free(v->snap.clients);
	free(v->snap.buckets_pool);
	free(v->snap.metrics_pool);
	free(v);
}

/* Edge e's view at interval k: every client's cumulative figures. */
static struct xtel_view *make_view(uint32_t first, uint32_t n, uint64_t k)
{
	struct xtel_view *v = calloc(1, sizeof(*v));
	uint64_t now = xtel_realtime_ns();

	if (!v)
		return NULL;
	v->refs = 1;
	v->seq = k;
	v->taken_ns = now;
	v->dt_s = 10.0;
	v->snap.n_clients = n;
	v->snap.clients = calloc(n, sizeof(*v->snap.clients));
	v->snap.buckets_pool = calloc((size_t)n * N_BUCKETS, sizeof(*v->snap.buckets_pool));
	v->snap.metrics_pool = calloc((size_t)n * N_METRICS, sizeof(*v->snap.metrics_pool));
	if (!v->snap.clients || !v->snap.buckets_pool || !v->snap.metrics_pool) {
		view_put(v);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct xtel_client_snap *c = &v->snap.clients[i];
		struct xtel_lat_bucket *b = &v->snap.buckets_pool[(size_t)i * N_BUCKETS];
		struct xtel_metric_snap *m = &v->snap.metrics_pool[(size_t)i * N_METRICS];

		c->client_id = first + i;
		c->epochs = 1;
		c->received = 10 * k;
		c->bytes = 470 * k;
		c->lost = k / 4;
		c->by_type[2] = 10 * k;
		c->first_seen_ns = now - k * 10000000000ULL;
		c->last_seen_ns = now;
		c->highest_seq = 10 * k;
		c->lat.count = 10 * k;
		c->lat.sum_ns = 10 * k * 50000;
		c->lat.min_ns = 20000;
		c->lat.max_ns = 90000;
		for (unsigned int j = 0; j < N_BUCKETS; j++)
			b[j] = (struct xtel_lat_bucket){ .idx = 1000 + 7 * j + (i % 5),
				.count = k * (j + 1) };
		c->n_buckets = N_BUCKETS;
		c->buckets = b;
		for (unsigned int j = 0; j < N_METRICS; j++) {
			m[j].key = j ? "load" : "temp";
			m[j].count = 10;
			m[j].last = 20.5 + j;
			m[j].last_ts_ns = now;
			m[j].min = 15;
			m[j].max = 30;
			m[j].mean = 22.5;
		}
		c->n_metrics = N_METRICS;
		c->metrics = m;
		xtel_client_snap_add(&v->snap.total, c);
	}
	return v;
}

static uint64_t agg_received(const char *url, const char *site)
{
	char cmd[512], buf[65536];
	FILE *p;
	size_t n;
	const char *q;

	snprintf(cmd, sizeof(cmd), "curl -sf '%s/api/v1/totals?site=%s'", url, site);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, p);
	pclose(p);
	buf[n] = '\0';
	q = strstr(buf, "\"totals\"");
	q = q ? strstr(q, "\"received\":") : NULL;
	return q ? strtoull(q + 11, NULL, 10) : 0;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "nats", 1, NULL, 'n' }, { "edges", 1, NULL, 'e' },
		{ "clients", 1, NULL, 'c' }, { "intervals", 1, NULL, 'k' },
		{ "per-msg", 1, NULL, 'p' }, { "agg-url", 1, NULL, 'a' },
		{ "site", 1, NULL, 's' }, { NULL, 0, NULL, 0 },
	};
	const char *urls = NULL, *agg = NULL, *site = "bench";
	unsigned int edges = 4, per = 4096, intervals = 5, clients = 100000;
	struct xtel_exporter *ex[64];
	uint64_t cnt[XTEL_EXPORT_MAX], g[XTEL_EXPORT_G_MAX];
	double sum_rate = 0, sum_vis = 0;
	uint64_t tot_bytes = 0, tot_rollups = 0, tot_enc = 0;
	int o;

	xtel_log_setup("bench_scaleout", XTEL_LOG_WARN);
	while ((o = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (o) {
		case 'n': urls = optarg; break;
		case 'e': edges = (unsigned int)atoi(optarg); break;
		case 'c': clients = (unsigned int)atoi(optarg); break;
		case 'k': intervals = (unsigned int)atoi(optarg); break;
		case 'p': per = (unsigned int)atoi(optarg); break;
		case 'a': agg = optarg; break;
		case 's': site = optarg; break;
		default: return 2;
		}
	}
	if (!urls || !edges || edges > 64 || clients < edges || !intervals) {
		fprintf(stderr, "usage: bench_scaleout --nats URLS [--edges 1..64] "
			"[--clients N] [--intervals K] [--per-msg P] [--agg-url URL]\n");
		return 2;
	}
	for (unsigned int e = 0; e < edges; e++) {
		char name[32];

		snprintf(name, sizeof(name), "bench%u", e);
		if (xtel_export_new(&(struct xtel_export_cfg){
			.servers = urls, .site = site, .edge = strdup(name),
			.queue = 2, .backlog_bytes = 1ULL << 30,
			.clients_per_msg = per, .max_wait_ms = 10000,
			.max_in_flight = 1024, .view_put = view_put }, &ex[e]))
			return 1;
	}
	sleep(1);	/* connections up */
	for (uint64_t k = 1; k <= intervals; k++) {
		uint64_t t0 = xtel_mono_ns(), t_ack = 0, t_vis = 0, deadline;
		uint64_t bytes0 = 0, bytes1 = 0, enc0 = 0, enc1 = 0, want_msgs = 0;
		bool done = false;

		for (unsigned int e = 0; e < edges; e++) {
			xtel_export_read(ex[e], cnt, g);
			bytes0 += cnt[XTEL_EXPORT_ENCODED_BYTES];
			enc0 += cnt[XTEL_EXPORT_ENCODE_NS];
		}
		t0 = xtel_mono_ns();
		for (unsigned int e = 0; e < edges; e++) {
			uint32_t first = 1 + e * (clients / edges);
			uint32_t n = e + 1 == edges ? clients - e * (clients / edges) :
				     clients / edges;
			struct xtel_view *v = make_view(first, n, k);

			if (!v)
				return 1;
			xtel_export_push(ex[e], v);
		}
		deadline = t0 + 120000000000ULL;
		while (!done && xtel_mono_ns() < deadline) {
			done = true;
			want_msgs = 0;
			for (unsigned int e = 0; e < edges; e++) {
				xtel_export_read(ex[e], cnt, g);
				/* every view of this interval encoded and acked */
				if (cnt[XTEL_EXPORT_VIEWS_QUEUED] < k ||
				    cnt[XTEL_EXPORT_ACKED] < cnt[XTEL_EXPORT_MESSAGES] ||
				    g[XTEL_EXPORT_G_BACKLOG_MESSAGES] ||
				    cnt[XTEL_EXPORT_CLIENT_ROLLUPS] < (uint64_t)k *
					    (e + 1 == edges ? clients - e * (clients / edges) :
					     clients / edges))
					done = false;
				want_msgs += cnt[XTEL_EXPORT_MESSAGES];
			}
			if (!done)
				usleep(500);
		}
		t_ack = xtel_mono_ns();
		if (agg) {
			uint64_t want = 10ULL * k * clients;

			while (agg_received(agg, site) < want && xtel_mono_ns() < deadline)
				usleep(2000);
			t_vis = xtel_mono_ns();
		}
		for (unsigned int e = 0; e < edges; e++) {
			xtel_export_read(ex[e], cnt, g);
			bytes1 += cnt[XTEL_EXPORT_ENCODED_BYTES];
			enc1 += cnt[XTEL_EXPORT_ENCODE_NS];
		}
		{
			double s_ack = (double)(t_ack - t0) / 1e9;
			double s_vis = agg ? (double)(t_vis - t0) / 1e9 : 0;

			printf("{\"interval\": %" PRIu64 ", \"client_rollups\": %u, "
			       "\"acked_s\": %.4f, \"rollups_per_s\": %.0f, "
			       "\"visible_s\": %.4f, \"bytes\": %" PRIu64 ", "
			       "\"bytes_per_client\": %.1f, \"encode_ns_per_client\": %.0f, "
			       "\"messages_total\": %" PRIu64 ", \"complete\": %s}\n",
			       k, clients, s_ack, clients / s_ack, s_vis,
			       bytes1 - bytes0, (double)(bytes1 - bytes0) / clients,
			       (double)(enc1 - enc0) / clients, want_msgs,
			       done ? "true" : "false");
			fflush(stdout);
			if (k > 1) {	/* the first interval warms up the state */
				sum_rate += clients / s_ack;
				sum_vis += s_vis;
			}
			tot_bytes += bytes1 - bytes0;
			tot_enc += enc1 - enc0;
			tot_rollups += clients;
			if (!done)
				return 1;
		}
	}
	printf("{\"summary\": true, \"edges\": %u, \"clients\": %u, "
	       "\"intervals\": %u, \"rollups_per_s\": %.0f, \"visible_s\": %.4f, "
	       "\"bytes_per_client\": %.1f, \"encode_ns_per_client\": %.0f}\n",
	       edges, clients, intervals,
	       intervals > 1 ? sum_rate / (intervals - 1) : 0,
	       intervals > 1 ? sum_vis / (intervals - 1) : 0,
	       (double)tot_bytes / tot_rollups, (double)tot_enc / tot_rollups);
	for (unsigned int e = 0; e < edges; e++) {
		xtel_export_stop(ex[e], 5);
		xtel_export_free(ex[e]);
	}
	return 0;
}
