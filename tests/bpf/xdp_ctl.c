// SPDX-License-Identifier: MIT
/*
 * usage: xdp_ctl --iface IF [--pin-dir DIR] [--port N] [--dtls] [--afxdp]
 *                [--allow CIDR]... [--handshake-rate PPS] [--burst N]
 *                [--handshake-global-rate PPS] [--global-burst N]
 *                [--peer ADDR:PORT=ID]... [--duration S] [--skb] [--frames N]
 *
 * Test driver for the XDP loader and the AF_XDP path without the collector:
 * attaches the program the way the collector does, writes DTLS peers, and
 * with --afxdp receives through AF_XDP, counting datagrams and bytes per
 * source address. Runs until SIGINT/SIGTERM or --duration seconds, then
 * detaches and prints one JSON object on stdout: the loader's "xdp" object
 * and, with --afxdp, what AF_XDP delivered. Prints "ready" on stderr once
 * attached so scripts know when to start sending.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/json.h"
#include "xdp/afxdp.h"
#include "xdp/xdp.h"

#define MAX_ALLOW 16
#define MAX_PEERS 64
#define MAX_SOURCES 4096	/* power of two: open-addressing table */

/* Per-source counts, keyed by the raw address bytes and port so the
 * callback stays cheap (formatting waits for the report). */
struct source {
	uint8_t key[18];	/* 16 address bytes (IPv4-mapped) + port */
	bool used;
	uint64_t packets, bytes;
	uint32_t client_id;
};

struct rx_state {
	struct source src[MAX_SOURCES];
	unsigned int n;
	uint64_t full;		/* sources beyond the table */
	uint64_t per_queue[XTEL_XDP_MAX_QUEUES];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void on_pkt(const struct xtel_afxdp_pkt *p, void *arg)
{
	struct rx_state *st = arg;
	uint8_t key[18] = { [10] = 0xff, [11] = 0xff };
	uint32_t h = 2166136261u, i, n;

	if (p->src.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&p->src;

		memcpy(key + 12, &s->sin_addr, 4);
		memcpy(key + 16, &s->sin_port, 2);
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&p->src;

		memcpy(key, &s->sin6_addr, 16);
		memcpy(key + 16, &s->sin6_port, 2);
	}
	if (p->queue < XTEL_XDP_MAX_QUEUES)
		st->per_queue[p->queue]++;
	for (i = 0; i < sizeof(key); i++)
		h = (h ^ key[i]) * 16777619u;
	for (n = 0; n < MAX_SOURCES; n++) {
		struct source *s = &st->src[(h + n) & (MAX_SOURCES - 1)];

		if (!s->used) {
			s->used = true;
			memcpy(s->key, key, sizeof(key));
			st->n++;
		} else if (memcmp(s->key, key, sizeof(key))) {
			continue;
		}
		s->packets++;
		s->bytes += p->len;
		s->client_id = p->client_id;
		return;
	}
	st->full++;
}

static void on_batch(const struct xtel_afxdp_pkt *pkts, unsigned int n, void *arg)
{
	for (unsigned int i = 0; i < n; i++)
		on_pkt(&pkts[i], arg);
}

static void source_name(const struct source *s, char *buf, size_t len)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	char a[INET6_ADDRSTRLEN];
	uint16_t port = (uint16_t)s->key[16] << 8 | s->key[17];

	if (!memcmp(s->key, mapped, sizeof(mapped))) {
		inet_ntop(AF_INET, s->key + 12, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, port);
	} else {
		inet_ntop(AF_INET6, s->key, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, port);
	}
}

static int parse_peer(const char *s, struct sockaddr_storage *ss, uint32_t *id)
{
	char buf[128], *eq, *colon, *host;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	snprintf(buf, sizeof(buf), "%s", s);
	eq = strrchr(buf, '=');
	colon = eq ? memrchr(buf, ':', eq - buf) : NULL;
	if (!eq || !colon)
		return -EINVAL;
	*eq = *colon = '\0';
	*id = strtoul(eq + 1, NULL, 10);
	host = buf;
	if (host[0] == '[') {
		host++;
		host[strlen(host) - 1] = '\0';
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(atoi(colon + 1));
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(atoi(colon + 1));
	} else {
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ "dtls", no_argument, NULL, 'd' },
		{ "afxdp", no_argument, NULL, 'x' },
		{ "allow", required_argument, NULL, 'a' },
		{ "handshake-rate", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		{ "handshake-global-rate", required_argument, NULL, 'g' },
		{ "global-burst", required_argument, NULL, 'G' },
		{ "peer", required_argument, NULL, 'e' },
		{ "duration", required_argument, NULL, 't' },
		{ "skb", no_argument, NULL, 's' },
		{ "frames", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct xtel_xdp_opts o = { 0 };
	struct xtel_afxdp_opts ao = { 0 };
	const char *allow[MAX_ALLOW], *peers[MAX_PEERS];
	unsigned int n_allow = 0, n_peers = 0, i;
	struct xtel_afxdp *ax = NULL;
	struct xtel_xdp *x = NULL;
	struct rx_state *st;
	double duration = 0;
	uint64_t t0;
	int c, err, rc = 1;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o.ifname = optarg; break;
		case 'p': o.pin_dir = optarg; break;
		case 'P': o.port = atoi(optarg); break;
		case 'd': o.dtls = true; break;
		case 'x': o.afxdp = true; break;
		case 'a':
			if (n_allow < MAX_ALLOW)
				allow[n_allow++] = optarg;
			o.allowlist = true;
			break;
		case 'r': o.handshake_rate = strtoul(optarg, NULL, 10); break;
		case 'b': o.handshake_burst = strtoul(optarg, NULL, 10); break;
		case 'g': o.handshake_global_rate = strtoul(optarg, NULL, 10); break;
		case 'G': o.handshake_global_burst = strtoul(optarg, NULL, 10); break;
		case 'e':
			if (n_peers < MAX_PEERS)
				peers[n_peers++] = optarg;
			break;
		case 't': duration = atof(optarg); break;
		case 's': o.skb_mode = true; break;
		case 'f': ao.frames = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: %s --iface IF [--pin-dir DIR] [--port N] [--dtls] "
				"[--afxdp] [--allow CIDR]... [--handshake-rate PPS] [--burst N] "
				"[--handshake-global-rate PPS] [--global-burst N] "
				"[--peer ADDR:PORT=ID]... [--duration S] [--skb] [--frames N]\n", argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (!o.ifname) {
		fprintf(stderr, "xdp_ctl: --iface is required\n");
		return 2;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	err = xtel_xdp_open(&x, &o);
	if (err)
		goto out;
	for (i = 0; i < n_allow; i++) {
		err = xtel_xdp_allow_add(x, allow[i]);
		if (err) {
			fprintf(stderr, "xdp_ctl: --allow %s: %s\n", allow[i], strerror(-err));
			goto out;
		}
	}
	for (i = 0; i < n_peers; i++) {
		struct sockaddr_storage ss;
		uint32_t id;

		err = parse_peer(peers[i], &ss, &id);
		if (!err)
			err = xtel_xdp_peer_add(x, (struct sockaddr *)&ss, id);
		if (err) {
			fprintf(stderr, "xdp_ctl: --peer %s: %s\n", peers[i], strerror(-err));
			goto out;
		}
	}
	if (o.afxdp) {
		ao.ifname = o.ifname;
		err = xtel_afxdp_open(&ax, x, &ao);
		if (err)
			goto out;
	}
	fprintf(stderr, "ready\n");

	t0 = xtel_mono_ns();
	while (!stop) {
		if (ax) {
			err = xtel_afxdp_poll(ax, 100, 256, on_batch, st);
			if (err < 0)
				goto out;
		} else {
			usleep(50000);
		}
		if (duration > 0 && (double)(xtel_mono_ns() - t0) / 1e9 >= duration)
			break;
	}
	/* frames already in the RX rings still belong to this run */
	while (ax && xtel_afxdp_poll(ax, 0, 256, on_batch, st) > 0)
		;

	{
		struct xtel_xdp_totals tot;
		json_t *stats;

		err = xtel_xdp_read_totals(x, &tot);
		if (err)
			goto out;
		stats = xtel_xdp_totals_json(&tot);
		printf("{\"xdp\": {\"attach_mode\": \"%s\", \"stats\": ",
		       xtel_xdp_attach_mode(x));
		json_dumpf(stats, stdout, XTEL_JSON_FLAGS);
		json_decref(stats);
		printf("}");
	}
	if (ax) {
		struct xtel_afxdp_stats as;

		xtel_afxdp_read_stats(ax, &as);
		printf(", \"afxdp\": {\"bind_mode\": \"%s\", \"sockets\": %u, \"rx_packets\": %llu, "
		       "\"rx_bytes\": %llu, \"unparsed\": %llu, \"no_meta\": %llu, "
		       "\"rx_dropped\": %llu, \"rx_ring_full\": %llu, \"fill_ring_empty\": %llu, "
		       "\"sources\": {",
		       xtel_afxdp_bind_mode(ax), xtel_afxdp_n_sockets(ax),
		       (unsigned long long)as.rx_packets, (unsigned long long)as.rx_bytes,
		       (unsigned long long)as.unparsed, (unsigned long long)as.no_meta,
		       (unsigned long long)as.rx_dropped, (unsigned long long)as.rx_ring_full,
		       (unsigned long long)as.fill_ring_empty);
		for (i = 0, c = 0; i < MAX_SOURCES; i++) {
			char name[INET6_ADDRSTRLEN + 8];

			if (!st->src[i].used)
				continue;
			source_name(&st->src[i], name, sizeof(name));
			printf("%s\"%s\": {\"packets\": %llu, \"bytes\": %llu, \"client_id\": %u}",
			       c++ ? ", " : "", name, (unsigned long long)st->src[i].packets,
			       (unsigned long long)st->src[i].bytes, st->src[i].client_id);
		}
		printf("}, \"sources_untracked\": %llu, \"per_queue\": [",
		       (unsigned long long)st->full);
		for (i = 0; i < xtel_afxdp_n_sockets(ax); i++)
			printf("%s%llu", i ? ", " : "", (unsigned long long)st->per_queue[i]);
		printf("]}");
	}
	printf("}\n");
	rc = 0;
out:
	if (err && rc)
		fprintf(stderr, "xdp_ctl: %s\n", strerror(-err));
	xtel_afxdp_close(ax);
	xtel_xdp_close(x);
	free(st);
	return rc;
}
