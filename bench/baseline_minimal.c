// SPDX-License-Identifier: MIT
/*
 * The minimal receiver a user comparing tools would write in ten minutes,
 * as the floor the collector's CPU per datagram is measured against
 * (bench/run.sh's "vs minimal" columns and the capacity section). One
 * thread, one dual-stack UDP socket, blocking recvmmsg() in batches of 64,
 * a check of the fixed header (length, magic, version, type) and, per
 * client, the highest sequence number with the gaps it implies: nothing
 * else. No payload decoding, no timestamps, no duplicate detection (a
 * duplicate or reordered datagram only closes one gap), no latency, no
 * metrics. Anything the collector does beyond this is its price.
 *
 * usage: baseline_minimal [--port 7700] [--duration S] [--quiet S]
 *                         [--rcvbuf BYTES] [--json FILE] [--gro]
 *
 * --gro (docs/CAPACITY.md, "Receive-path options"): UDP_GRO on the socket,
 * 64 KiB buffers, and each read split at the segment size the kernel's
 * UDP_GRO control message gives, so datagrams the device's GRO coalesced
 * are counted one by one; the summary's "gro" object has the reads and
 * the datagrams they carried.
 *
 * Stops after --duration seconds, after --quiet seconds without datagrams
 * once traffic started (0: never), or on SIGINT/SIGTERM, then prints a
 * summary with the names bench/xtelbench/derive.py reads (totals.received,
 * lost, duplicates, rusage, vmhwm_kb) to --json FILE or stdout.
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bpf/xtel_wire.h"

enum { BATCH = 64, BUF = 2048, GRO_BUF = 65536 };

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

struct peer {
	uint32_t id;
	bool used;
	uint64_t highest;	/* highest sequence number of the epoch */
	uint64_t received, lost;
};

static struct peer *tab;
static uint32_t cap, used;
static uint64_t rejected;
static uint64_t gro_reads, gro_datagrams;
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static struct peer *slot(struct peer *t, uint32_t c, uint32_t id)
{
	uint32_t i = (uint32_t)(((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> 32);

	for (i &= c - 1; t[i].used && t[i].id != id; i = (i + 1) & (c - 1))
		;
	return &t[i];
}

/* The client's entry, created on first sight; NULL when memory runs out. */
static struct peer *peer_get(uint32_t id)
{
	struct peer *p;

	if ((used + 1) * 2 > cap) {
		uint32_t ncap = cap ? cap * 2 : 1024;
		struct peer *nt = calloc(ncap, sizeof(*nt));

		if (!nt)
			return NULL;
		for (uint32_t i = 0; i < cap; i++)
			if (tab[i].used)
				*slot(nt, ncap, tab[i].id) = tab[i];
		free(tab);
		tab = nt;
		cap = ncap;
	}
	p = slot(tab, cap, id);
	if (!p->used) {
		p->used = true;
		p->id = id;
		used++;
	}
	return p;
}

static void handle(const uint8_t *buf, size_t len)
{
	struct xtel_wire_hdr h;
	struct peer *p;
	uint64_t seq;

	if (len < XTEL_WIRE_HDR_LEN) {
		rejected++;
		return;
	}
	memcpy(&h, buf, sizeof(h));
	if (be16toh(h.magic) != XTEL_WIRE_MAGIC || h.version != XTEL_WIRE_VERSION ||
	    h.type < XTEL_MSG_INIT || h.type > XTEL_MSG_TYPE_MAX ||
	    !(p = peer_get(be32toh(h.client_id)))) {
		rejected++;
		return;
	}
	seq = be64toh(h.seq);
	p->received++;
	if (h.type == XTEL_MSG_INIT && seq == 0) {
		p->highest = 0;		/* a (re)start: a new epoch */
		return;
	}
	if (seq > p->highest) {
		/* BYE carries the last number sent and takes none itself. */
		p->lost += seq - p->highest - (h.type == XTEL_MSG_BYE ? 0 : 1);
		p->highest = seq;
	} else if (p->lost && h.type != XTEL_MSG_BYE) {
		p->lost--;		/* late: fills a gap */
	}
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void summary(FILE *f)
{
	uint64_t rx = 0, lost = 0;
	struct rusage ru;
	char line[256];
	long hwm = 0;
	FILE *st = fopen("/proc/self/status", "r");

	while (st && fgets(line, sizeof(line), st))
		if (sscanf(line, "VmHWM: %ld kB", &hwm) == 1)
			break;
	if (st)
		fclose(st);
	for (uint32_t i = 0; i < cap; i++) {
		rx += tab[i].received;
		lost += tab[i].lost;
	}
	getrusage(RUSAGE_SELF, &ru);
	fprintf(f, "{\n  \"receiver\": \"baseline_minimal\",\n"
		"  \"totals\": {\"received\": %" PRIu64 ", \"lost\": %" PRIu64
		", \"duplicates\": 0, \"clients\": %u},\n"
		"  \"rejected_total\": %" PRIu64 ",\n"
		"  \"gro\": {\"reads\": %" PRIu64 ", \"datagrams\": %" PRIu64 "},\n"
		"  \"rusage\": {\"utime_s\": %.6f, \"stime_s\": %.6f, \"cpu_s\": %.6f},\n"
		"  \"vmhwm_kb\": %ld\n}\n", rx, lost, used, rejected,
		gro_reads, gro_datagrams,
		tv_s(ru.ru_utime), tv_s(ru.ru_stime),
		tv_s(ru.ru_utime) + tv_s(ru.ru_stime), hwm);
}

/* One read of --gro: the segment size from UDP_GRO, or the whole read. */
static void handle_gro(struct msghdr *mh, const uint8_t *buf, size_t len)
{
	size_t seg = len;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm;
	     cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			int gso;

			memcpy(&gso, CMSG_DATA(cm), sizeof(gso));
			if (gso > 0)
				seg = (size_t)gso;
		}
	}
	gro_reads++;
	for (size_t off = 0; off < len; off += seg) {
		handle(buf + off, len - off < seg ? len - off : seg);
		gro_datagrams++;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "quiet", required_argument, NULL, 'q' },
		{ "rcvbuf", required_argument, NULL, 'r' },
		{ "json", required_argument, NULL, 'j' },
		{ "gro", no_argument, NULL, 'g' },
		{ 0 },
	};
	static uint64_t ctrl[BATCH][CMSG_SPACE(sizeof(int)) / 8 + 1];
	static struct mmsghdr msgs[BATCH];
	uint8_t *bufs;
	size_t buflen = BUF;
	bool gro = false;
	static struct iovec iov[BATCH];
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct timeval tv = { .tv_usec = 100000 };
	struct sigaction sig = { .sa_handler = on_signal };
	double duration = 60, quiet = 2, start, last = 0;
	int port = 7700, rcvbuf = 4 << 20, fd, c, off = 0;
	const char *json = NULL;
	FILE *out = stdout;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'q': quiet = atof(optarg); break;
		case 'r': rcvbuf = atoi(optarg); break;
		case 'j': json = optarg; break;
		case 'g': gro = true; buflen = GRO_BUF; break;
		default:
			fprintf(stderr, "usage: baseline_minimal [--port N] [--duration S] "
				"[--quiet S] [--rcvbuf BYTES] [--json FILE] [--gro]\n");
			return 2;
		}
	}
	sigaction(SIGINT, &sig, NULL);	/* no SA_RESTART: interrupt recvmmsg */
	sigaction(SIGTERM, &sig, NULL);
	sa.sin6_port = htons((uint16_t)port);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0)
		return 1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (gro && setsockopt(fd, SOL_UDP, UDP_GRO, &(int){ 1 }, sizeof(int))) {
		fprintf(stderr, "baseline_minimal: UDP_GRO: %s\n", strerror(errno));
		return 1;
	}
	bufs = malloc(BATCH * buflen);
	if (!bufs)
		return 1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "baseline_minimal: bind port %d: %s\n", port, strerror(errno));
		return 1;
	}
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs + i * buflen, buflen };
		msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		if (gro) {
			msgs[i].msg_hdr.msg_control = ctrl[i];
			msgs[i].msg_hdr.msg_controllen = sizeof(ctrl[i]);
		}
	}
	start = now_s();
	while (!stop_flag) {
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		double t = now_s();

		for (int i = 0; i < n; i++) {
			if (gro) {
				handle_gro(&msgs[i].msg_hdr, bufs + i * buflen, msgs[i].msg_len);
				/* recvmmsg shortens msg_controllen: give it back. */
				msgs[i].msg_hdr.msg_controllen = sizeof(ctrl[i]);
			} else {
				handle(bufs + i * buflen, msgs[i].msg_len);
			}
		}
		if (n > 0)
			last = t;
		if (t - start >= duration || (quiet > 0 && last && t - last >= quiet))
			break;
	}
	if (json && !(out = fopen(json, "w"))) {
		fprintf(stderr, "baseline_minimal: %s: %s\n", json, strerror(errno));
		return 1;
	}
	summary(out);
	if (out != stdout)
		fclose(out);
	return 0;
}
