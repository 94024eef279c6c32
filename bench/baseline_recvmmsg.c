// SPDX-License-Identifier: MIT
/*
 * Baseline receiver for the benchmark suite: what a competent engineer
 * writes in an afternoon. One thread, one dual-stack UDP socket, blocking
 * recvmmsg() in batches, the project's own decoder (xtel_wire_decode) on
 * every datagram, and per-client sequence accounting with a highest-seq plus
 * bitmap per epoch; latency is taken to the kernel's SO_TIMESTAMPNS arrival
 * stamp, as in the collector. No io_uring, no XDP, no DTLS. It exists so that every
 * figure the collector reaches can be read as a ratio against it; its
 * summary JSON uses the same names (received, lost, duplicates, rusage) as
 * the collector's, and bench/xtelbench/derive.py reads both the same way.
 *
 * usage: baseline_recvmmsg [--port 7700] [--duration S] [--quiet S]
 *                          [--rcvbuf BYTES] [--batch N] [--json FILE]
 *
 * It stops after --duration seconds, or once --quiet seconds passed without
 * a datagram after the first one arrived, or on SIGINT/SIGTERM, and then
 * prints the summary (to --json FILE, or stdout).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "wire/wire.h"

enum {
	DEFAULT_BATCH = 64,
	MAX_BATCH = 1024,
	/*
	 * A bitmap bit per sequence number: a datagram claiming a sequence
	 * number this far past the highest one seen would make us allocate
	 * without bound, so it is refused and counted instead.
	 */
	MAX_SEQ_JUMP = 1 << 24,
	/* Latency histogram: 64 linear sub-buckets per power of two of ns. */
	LAT_SUB_BITS = 6,
	LAT_BUCKETS = (64 - LAT_SUB_BITS + 1) << LAT_SUB_BITS,
};

/* One client's accounting for its current epoch plus closed-epoch totals. */
struct client {
	uint32_t id;
	bool used;
	bool bye_seen;
	uint64_t init_ts;	/* send timestamp of this epoch's INIT */
	uint64_t highest;	/* highest sequence number of the epoch */
	uint64_t distinct;	/* sequence numbers seen in the epoch */
	uint64_t *bits;		/* bit n set: sequence number n seen */
	uint64_t nwords;
	uint64_t received, bytes, duplicates, reordered, lost_closed;
};

struct stats {
	struct client *tab;	/* open addressing on client_id */
	uint32_t cap, n;
	uint64_t rejected[XTEL_WIRE_ERR_MAX];
	uint64_t seq_out_of_range;
	uint64_t lat[LAT_BUCKETS];
	uint64_t lat_count, lat_negative, lat_max;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static uint32_t hash_id(uint32_t id)
{
	id ^= id >> 16;
	id *= 0x7feb352du;
	id ^= id >> 15;
	return id;
}

static int stats_grow(struct stats *st);

/* Finds or inserts a client; NULL only when memory runs out. */
static struct client *client_get(struct stats *st, uint32_t id)
{
	uint32_t i;

	/* Keep the load factor under 1/2 so probes stay short. */
	if ((st->n + 1) * 2 > st->cap && stats_grow(st) < 0)
		return NULL;
	for (i = hash_id(id) & (st->cap - 1);; i = (i + 1) & (st->cap - 1)) {
		struct client *c = &st->tab[i];

		if (!c->used) {
			c->used = true;
			c->id = id;
			st->n++;
			return c;
		}
		if (c->id == id)
			return c;
	}
}

static int stats_grow(struct stats *st)
{
	uint32_t ncap = st->cap ? st->cap * 2 : 1024, i;
	struct client *old = st->tab, *ntab;
	uint32_t ocap = st->cap;

	ntab = calloc(ncap, sizeof(*ntab));
	if (!ntab)
		return -ENOMEM;
	st->tab = ntab;
	st->cap = ncap;
	st->n = 0;
	for (i = 0; i < ocap; i++) {
		if (old[i].used) {
			struct client *c = client_get(st, old[i].id);

			*c = old[i];
		}
	}
	free(old);
	return 0;
}

static int bitmap_reserve(struct client *c, uint64_t seq)
{
	uint64_t need = seq / 64 + 1, ncap;
	uint64_t *nb;

	if (need <= c->nwords)
		return 0;
	ncap = c->nwords ? c->nwords : 16;
	while (ncap < need)
		ncap *= 2;
	nb = realloc(c->bits, ncap * sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	memset(nb + c->nwords, 0, (ncap - c->nwords) * sizeof(*nb));
	c->bits = nb;
	c->nwords = ncap;
	return 0;
}

/* Numbers 0..highest of a finished epoch that never arrived are lost. */
static void epoch_close(struct client *c)
{
	if (c->distinct || c->highest)
		c->lost_closed += c->highest + 1 - c->distinct;
	if (c->bits)
		memset(c->bits, 0, c->nwords * sizeof(*c->bits));
	c->highest = 0;
	c->distinct = 0;
	c->bye_seen = false;
}

static void lat_add(struct stats *st, int64_t d)
{
	uint64_t v, idx;
	int msb;

	if (d < 0) {
		st->lat_negative++;
		return;
	}
	v = (uint64_t)d;
	if (v < (1u << LAT_SUB_BITS)) {
		idx = v;
	} else {
		msb = 63 - __builtin_clzll(v);
		idx = ((uint64_t)(msb - LAT_SUB_BITS + 1) << LAT_SUB_BITS) |
		      ((v >> (msb - LAT_SUB_BITS)) & ((1u << LAT_SUB_BITS) - 1));
	}
	st->lat[idx]++;
	st->lat_count++;
	if (v > st->lat_max)
		st->lat_max = v;
}

/* Upper edge of histogram bucket idx, in ns (inverse of lat_add). */
static uint64_t lat_bucket_ns(uint64_t idx)
{
	uint64_t shift = idx >> LAT_SUB_BITS, sub = idx & ((1u << LAT_SUB_BITS) - 1);

	if (shift == 0)
		return sub;
	return ((sub | (1u << LAT_SUB_BITS)) << (shift - 1)) +
	       ((1ull << (shift - 1)) - 1);
}

static uint64_t lat_quantile(const struct stats *st, double q)
{
	uint64_t want, seen = 0, i;

	if (!st->lat_count)
		return 0;
	want = (uint64_t)(q * (double)st->lat_count);
	if (want >= st->lat_count)
		want = st->lat_count - 1;
	for (i = 0; i < LAT_BUCKETS; i++) {
		seen += st->lat[i];
		if (seen > want) {
			uint64_t v = lat_bucket_ns(i);

			return v < st->lat_max ? v : st->lat_max;
		}
	}
	return st->lat_max;
}

static void account(struct stats *st, const struct xtel_msg *m, size_t len,
		    uint64_t arrival_ns)
{
	struct client *c = client_get(st, m->client_id);
	uint64_t seq = m->seq;

	if (!c) {
		st->seq_out_of_range++;
		return;
	}
	c->received++;
	c->bytes += len;
	lat_add(st, (int64_t)(arrival_ns - m->send_ts_ns));

	/* A new INIT timestamp is a restart; the same one is a duplicate. */
	if (m->type == XTEL_MSG_INIT && seq == 0 &&
	    (c->distinct || c->highest) && m->send_ts_ns != c->init_ts)
		epoch_close(c);
	if (m->type == XTEL_MSG_INIT && seq == 0)
		c->init_ts = m->send_ts_ns;

	if (seq > c->highest + MAX_SEQ_JUMP) {
		st->seq_out_of_range++;
		return;
	}
	/* BYE carries the last number sent and takes none of its own. */
	if (m->type == XTEL_MSG_BYE) {
		if (c->bye_seen)
			c->duplicates++;
		c->bye_seen = true;
		if (seq > c->highest)
			c->highest = seq;
		return;
	}
	if (bitmap_reserve(c, seq) < 0) {
		st->seq_out_of_range++;
		return;
	}
	if (c->bits[seq / 64] & (1ull << (seq % 64))) {
		c->duplicates++;
		return;
	}
	c->bits[seq / 64] |= 1ull << (seq % 64);
	c->distinct++;
	if (seq < c->highest)
		c->reordered++;
	else
		c->highest = seq;
}

/* The SO_TIMESTAMPNS arrival time of a datagram, or fallback. */
static uint64_t rx_stamp(struct msghdr *mh, uint64_t fallback)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			return xtel_timespec_ns(&ts);
		}
	}
	return fallback;
}

static int open_socket(int port, int rcvbuf)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons((uint16_t)port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	int fd, off = 0;

	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	/* One socket for IPv4 and IPv6, as the collector has. */
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (rcvbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/*
	 * Latency is measured to the kernel's arrival stamp, as the collector
	 * does, so the two latency columns compare like with like.
	 */
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){ 1 }, sizeof(int));
	/* Wake up every 100 ms to check the duration and quiet period. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * Peak RSS of this program's own memory map. ru_maxrss is not enough: it
 * survives execve, so it may report the peak of whatever launched us.
 */
static long vmhwm_kb(void)
{
	char line[256];
	long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void print_summary(FILE *f, const struct stats *st, int rcvbuf,
			  double elapsed_s, double active_s)
{
	uint64_t rx = 0, bytes = 0, lost = 0, dups = 0, reord = 0, rej = 0;
	struct rusage ru;
	uint32_t i;
	int e;

	for (i = 0; i < st->cap; i++) {
		const struct client *c = &st->tab[i];

		if (!c->used)
			continue;
		rx += c->received;
		bytes += c->bytes;
		dups += c->duplicates;
		reord += c->reordered;
		lost += c->lost_closed;
		if (c->distinct || c->highest)
			lost += c->highest + 1 - c->distinct;
	}
	getrusage(RUSAGE_SELF, &ru);
	fprintf(f, "{\n  \"receiver\": \"baseline_recvmmsg\",\n");
	fprintf(f, "  \"totals\": {\"received\": %" PRIu64 ", \"bytes\": %" PRIu64
		", \"lost\": %" PRIu64 ", \"duplicates\": %" PRIu64
		", \"reordered\": %" PRIu64 ", \"clients\": %u},\n",
		rx, bytes, lost, dups, reord, st->n);
	fprintf(f, "  \"rejected\": {");
	for (e = 1; e < XTEL_WIRE_ERR_MAX; e++) {
		rej += st->rejected[e];
		fprintf(f, "\"%s\": %" PRIu64 ", ",
			xtel_wire_err_name((enum xtel_wire_err)e), st->rejected[e]);
	}
	fprintf(f, "\"seq_out_of_range\": %" PRIu64 "},\n", st->seq_out_of_range);
	fprintf(f, "  \"rejected_total\": %" PRIu64 ",\n", rej + st->seq_out_of_range);
	fprintf(f, "  \"latency_basis\": \"kernel_rx_timestamp\",\n");
	fprintf(f, "  \"latency_us\": {\"count\": %" PRIu64 ", \"negative\": %" PRIu64
		", \"p50\": %.1f, \"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f},\n",
		st->lat_count, st->lat_negative, lat_quantile(st, 0.50) / 1e3,
		lat_quantile(st, 0.99) / 1e3, lat_quantile(st, 0.999) / 1e3,
		st->lat_max / 1e3);
	fprintf(f, "  \"rcvbuf\": %d,\n", rcvbuf);
	fprintf(f, "  \"elapsed_s\": %.6f,\n  \"active_s\": %.6f,\n", elapsed_s,
		active_s);
	fprintf(f, "  \"rusage\": {\"utime_s\": %.6f, \"stime_s\": %.6f, "
		"\"cpu_s\": %.6f, \"maxrss_kb\": %ld},\n  \"vmhwm_kb\": %ld\n}\n",
		tv_s(ru.ru_utime), tv_s(ru.ru_stime),
		tv_s(ru.ru_utime) + tv_s(ru.ru_stime), ru.ru_maxrss, vmhwm_kb());
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: baseline_recvmmsg [--port 7700] [--duration S] [--quiet S]\n"
		"                         [--rcvbuf BYTES] [--batch N] [--json FILE]\n"
		"Plain UDP baseline receiver: recvmmsg + xtel_wire_decode + per-client\n"
		"sequence accounting; prints a JSON summary when it stops (after\n"
		"--duration [60], after --quiet [2] seconds without datagrams once\n"
		"traffic started, or on SIGINT/SIGTERM). --quiet 0 disables it.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "quiet", required_argument, NULL, 'q' },
		{ "rcvbuf", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct stats st;
	static uint8_t bufs[MAX_BATCH][XTEL_MAX_DATAGRAM];
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	static union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctrl[MAX_BATCH];
	double duration = 60, quiet = 2;
	int port = 7700, rcvbuf = 4 << 20, batch = DEFAULT_BATCH;
	const char *json = NULL;
	uint64_t start, first = 0, last = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	struct xtel_msg m;
	FILE *out = stdout;
	int fd, c, i, n, sock_len;
	socklen_t sl = sizeof(sock_len);

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'q': quiet = atof(optarg); break;
		case 'r': rcvbuf = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'j': json = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (port <= 0 || port > 65535 || batch <= 0 || batch > MAX_BATCH ||
	    duration <= 0) {
		usage(stderr);
		return 2;
	}
	/* No SA_RESTART: a signal must interrupt the blocking recvmmsg. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = open_socket(port, rcvbuf);
	if (fd < 0) {
		fprintf(stderr, "baseline_recvmmsg: cannot bind UDP port %d: %s\n",
			port, strerror(-fd));
		return 1;
	}
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sock_len, &sl);
	for (i = 0; i < batch; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	start = xtel_mono_ns();
	while (!stop_flag) {
		uint64_t t, arrival;

		for (i = 0; i < batch; i++) {
			msgs[i].msg_hdr.msg_control = ctrl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctrl[i].buf);
		}
		n = recvmmsg(fd, msgs, (unsigned int)batch, MSG_WAITFORONE, NULL);
		t = xtel_mono_ns();
		if (n > 0) {
			/* Fallback when a datagram carries no kernel stamp. */
			arrival = xtel_realtime_ns();
			if (!first)
				first = t;
			last = t;
			for (i = 0; i < n; i++) {
				size_t len = msgs[i].msg_len;
				enum xtel_wire_err err = xtel_wire_decode(bufs[i], len, &m);

				if (err != XTEL_WIRE_OK)
					st.rejected[err]++;
				else
					account(&st, &m, len,
						rx_stamp(&msgs[i].msg_hdr, arrival));
			}
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "baseline_recvmmsg: recvmmsg: %s\n",
				strerror(errno));
			break;
		}
		if ((double)(t - start) / 1e9 >= duration)
			break;
		if (quiet > 0 && first && (double)(t - last) / 1e9 >= quiet)
			break;
	}
	if (json) {
		out = fopen(json, "w");
		if (!out) {
			fprintf(stderr, "baseline_recvmmsg: %s: %s\n", json,
				strerror(errno));
			return 1;
		}
	}
	print_summary(out, &st, sock_len,
		      (double)(xtel_mono_ns() - start) / 1e9,
		      first ? (double)(last - first) / 1e9 : 0.0);
	if (out != stdout)
		fclose(out);
	close(fd);
	return 0;
}
