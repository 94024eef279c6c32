// SPDX-License-Identifier: MIT
/*
 * The simplest sender there is, as the ceiling the load generator is
 * measured against (the "Load generator" section of bench/run.sh): one thread
 * per --threads, each with one connected UDP socket, sending pre-built plain
 * XTel DATA datagrams (28-byte header + a fixed --payload-size payload, made
 * with xtel_wire_encode) in sendmmsg batches of 64 as fast as the kernel
 * takes them. No pacing, no per-datagram work apart from writing the
 * sequence number into the pre-built header, no faults, no DTLS: whatever
 * loadgen reaches below this is the cost of being a load generator.
 *
 * usage: bare_sendmmsg --target ADDR:PORT [--threads T] [--duration S]
 *                      [--count N] [--payload-size B]
 *
 * Each thread is one client (id 1..T): INIT seq 0, then DATA seq 1, 2, ...,
 * then BYE with the last seq, so a receiver's accounting stays meaningful.
 * A thread stops after --duration seconds or when it has sent its share of
 * --count DATA datagrams (count / threads, the first threads take the
 * remainder), whichever comes first. Prints one JSON object on stdout:
 * {"sent": DATA datagrams sent, "sent_all": the same plus INIT and BYE,
 * "elapsed_s": from starting the threads to the end of the last one,
 * "pps": sent / elapsed_s, "threads": T, ...}. Exit 0, 1 on a system error
 * (socket, send), 2 on a bad flag.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/parse.h"
#include "wire/wire.h"

enum {
	BATCH = 64,		/* datagrams per sendmmsg, as loadgen's default --batch */
	MAX_THREADS = 64,
	DEFAULT_PAYLOAD = 64,
	MIN_PAYLOAD = 4,	/* "m0=1" */
};

static const char prog[] = "bare_sendmmsg";

struct config {
	struct sockaddr_storage target;
	socklen_t target_len;
	unsigned int threads;
	double duration_s;
	uint64_t count;
	unsigned int payload_size;
	char payload[XTEL_MAX_PAYLOAD];
};

/* One sender thread; written by that thread only, read by main after join. */
struct sender {
	pthread_t tid;
	const struct config *cfg;
	uint32_t client_id;
	uint64_t quota;		/* DATA datagrams to send at most */
	uint64_t deadline_ns;	/* CLOCK_MONOTONIC */
	uint64_t sent;		/* DATA datagrams the kernel accepted */
	uint64_t ctl_sent;	/* INIT and BYE datagrams sent */
	uint64_t end_ns;
	int err;		/* 0 or -errno of the failure that stopped it */
	const char *err_what;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s --target ADDR:PORT [--threads T] [--duration S]\n"
		"                     [--count N] [--payload-size B]\n"
		"  --target ADDR:PORT  198.18.0.1:7700 or [2001:2::1]:7700\n"
		"  --threads T         sender threads, one socket each (1..%d, default 1)\n"
		"  --duration S        seconds of sending (0.001..3600, default 5)\n"
		"  --count N           DATA datagrams over all threads (1..1e12, default 1e9)\n"
		"  --payload-size B    payload bytes after the 28-byte header (%d..%d, default %d)\n",
		prog, MAX_THREADS, MIN_PAYLOAD, XTEL_MAX_PAYLOAD, DEFAULT_PAYLOAD);
}

/* "A.B.C.D:PORT" or "[V6]:PORT", numeric only. Returns 0 or -EINVAL. */
static int parse_target(const char *s, struct config *cfg)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = s;
	size_t hlen;
	uint64_t port;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (xtel_parse_u64(colon + 1, 1, 65535, &port))
		return -EINVAL;
	memset(&cfg->target, 0, sizeof(cfg->target));
	if (s[0] != '[') {
		struct sockaddr_in *in = (struct sockaddr_in *)&cfg->target;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -EINVAL;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		cfg->target_len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&cfg->target;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		cfg->target_len = sizeof(*in6);
	}
	return 0;
}

/*
 * Fills cfg->payload with "m0=1111...;m1=111..." of exactly B bytes, each
 * value at most XTEL_MAX_VALUE_LEN digits, and checks it with the
 * collector's decoder so that the receiver accepts every datagram.
 */
static int build_payload(struct config *cfg)
{
	unsigned char dgram[XTEL_MAX_DATAGRAM];
	struct xtel_msg msg;
	char *p = cfg->payload;
	size_t rem = cfg->payload_size;
	enum xtel_wire_err err;
	unsigned int i;
	ssize_t len;

	for (i = 0; rem > 0; i++) {
		char key[24];
		int klen;
		size_t vlen, after;

		if (i > 0) {
			*p++ = ';';
			rem--;
		}
		/*
		 * Long payloads get 16-character keys ("m0______________"),
		 * so that 1200 bytes need fewer than XTEL_MAX_METRICS pairs.
		 */
		klen = snprintf(key, sizeof(key), rem > 64 ? "m%-15u=" : "m%u=", i);
		for (int k = 1; k < klen - 1; k++)
			if (key[k] == ' ')
				key[k] = '_';
		if ((size_t)klen + 1 > rem)
			return -EINVAL;
		memcpy(p, key, (size_t)klen);
		p += klen;
		rem -= (size_t)klen;
		vlen = rem < XTEL_MAX_VALUE_LEN ? rem : XTEL_MAX_VALUE_LEN;
		after = rem - vlen;
		/*
		 * What is left after this value must fit a whole next pair
		 * (";mNN=1"): otherwise give this value fewer digits.
		 */
		if (after > 0 && after < (size_t)klen + 3)
			vlen = rem - ((size_t)klen + 3);
		memset(p, '1', vlen);
		p += vlen;
		rem -= vlen;
	}
	len = xtel_wire_encode(dgram, sizeof(dgram), XTEL_MSG_DATA, 1, 1, 0,
			       cfg->payload, cfg->payload_size);
	if (len < 0)
		return (int)len;
	err = xtel_wire_decode(dgram, (size_t)len, &msg);
	if (err != XTEL_WIRE_OK) {
		fprintf(stderr, "%s: a %u-byte payload is refused by the decoder (%s)\n",
			prog, cfg->payload_size, xtel_wire_err_name(err));
		return -EINVAL;
	}
	return 0;
}

/* One INIT or BYE datagram on the connected socket. */
static int send_one(int fd, uint8_t type, uint32_t id, uint64_t seq)
{
	unsigned char buf[XTEL_WIRE_HDR_LEN];
	ssize_t len;

	len = xtel_wire_encode(buf, sizeof(buf), type, id, seq,
			       xtel_realtime_ns(), NULL, 0);
	if (len < 0)
		return (int)len;
	if (send(fd, buf, (size_t)len, 0) < 0)
		return -errno;
	return 0;
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	const struct config *cfg = s->cfg;
	static const size_t seq_off = offsetof(struct xtel_wire_hdr, seq);
	unsigned char (*dgrams)[XTEL_WIRE_HDR_LEN + XTEL_MAX_PAYLOAD];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t seq = 0, ts = xtel_realtime_ns();
	size_t dlen = XTEL_WIRE_HDR_LEN + cfg->payload_size;
	int fd, i, ret;

	dgrams = calloc(BATCH, sizeof(*dgrams));
	if (!dgrams) {
		s->err = -ENOMEM;
		s->err_what = "calloc";
		return NULL;
	}
	fd = socket(cfg->target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		s->err = -errno;
		s->err_what = "socket";
		goto out_free;
	}
	if (connect(fd, (const struct sockaddr *)&cfg->target, cfg->target_len) < 0) {
		s->err = -errno;
		s->err_what = "connect";
		goto out_close;
	}
	/*
	 * Built once; the loop only writes each datagram's sequence number.
	 * The send timestamp stays that of the start: this sender measures
	 * throughput, not latency.
	 */
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		if (xtel_wire_encode(dgrams[i], sizeof(dgrams[i]), XTEL_MSG_DATA,
				     s->client_id, 0, ts, cfg->payload,
				     cfg->payload_size) < 0) {
			s->err = -EINVAL;
			s->err_what = "xtel_wire_encode";
			goto out_close;
		}
		iov[i].iov_base = dgrams[i];
		iov[i].iov_len = dlen;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	ret = send_one(fd, XTEL_MSG_INIT, s->client_id, 0);
	if (ret) {
		s->err = ret;
		s->err_what = "send INIT";
		goto out_close;
	}
	s->ctl_sent++;
	while (s->sent < s->quota) {
		uint64_t left = s->quota - s->sent;
		unsigned int n = left < BATCH ? (unsigned int)left : BATCH;

		/* The clock is read once per batch, as loadgen does. */
		if (xtel_mono_ns() >= s->deadline_ns)
			break;
		for (i = 0; i < (int)n; i++) {
			uint64_t be = htobe64(seq + 1 + (uint64_t)i);

			memcpy(dgrams[i] + seq_off, &be, sizeof(be));
		}
		ret = sendmmsg(fd, msgs, n, 0);
		if (ret < 0) {
			/*
			 * A full socket send queue or an ICMP error from an
			 * earlier datagram: neither stops a sender that only
			 * wants to push as much as it can; try again.
			 */
			if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR ||
			    errno == ECONNREFUSED)
				continue;
			s->err = -errno;
			s->err_what = "sendmmsg";
			break;
		}
		seq += (uint64_t)ret;
		s->sent += (uint64_t)ret;
	}
	s->end_ns = xtel_mono_ns();
	/* BYE carries the last sequence number sent; best effort. */
	if (send_one(fd, XTEL_MSG_BYE, s->client_id, seq) == 0)
		s->ctl_sent++;
out_close:
	close(fd);
out_free:
	free(dgrams);
	return NULL;
}

static int parse_args(int argc, char **argv, struct config *cfg)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'T' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{ "payload-size", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_target = false;
	uint64_t u;
	int c;

	cfg->threads = 1;
	cfg->duration_s = 5.0;
	cfg->count = 1000000000ull;
	cfg->payload_size = DEFAULT_PAYLOAD;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_target(optarg, cfg))
				return xtel_bad_value("target", optarg,
						      "A.B.C.D:PORT or [V6]:PORT, numeric");
			have_target = true;
			break;
		case 'T':
			if (xtel_flag_u64("threads", optarg, 1, MAX_THREADS,
					  "1..64", &u))
				return -EINVAL;
			cfg->threads = (unsigned int)u;
			break;
		case 'd':
			if (xtel_flag_double("duration", optarg, 0.001, 3600,
					     "0.001..3600", &cfg->duration_s))
				return -EINVAL;
			break;
		case 'c':
			if (xtel_flag_u64("count", optarg, 1, 1000000000000ull,
					  "1..1000000000000", &cfg->count))
				return -EINVAL;
			break;
		case 'p':
			if (xtel_flag_u64("payload-size", optarg, MIN_PAYLOAD,
					  XTEL_MAX_PAYLOAD, "4..1200", &u))
				return -EINVAL;
			cfg->payload_size = (unsigned int)u;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		return -EINVAL;
	}
	if (!have_target) {
		fprintf(stderr, "%s: --target ADDR:PORT is required\n", prog);
		return -EINVAL;
	}
	if (cfg->count < cfg->threads) {
		fprintf(stderr, "%s: --count must be at least --threads\n", prog);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	struct sender senders[MAX_THREADS];
	uint64_t t0, end = 0, sent = 0, ctl = 0;
	unsigned int i, started = 0;
	double elapsed;
	int ret, rc = 0;

	xtel_log_setup(prog, XTEL_LOG_INFO);
	if (parse_args(argc, argv, &cfg))
		return 2;
	if (build_payload(&cfg))
		return 2;
	memset(senders, 0, sizeof(senders));
	t0 = xtel_mono_ns();
	for (i = 0; i < cfg.threads; i++) {
		struct sender *s = &senders[i];

		s->cfg = &cfg;
		s->client_id = i + 1;
		s->quota = cfg.count / cfg.threads + (i < cfg.count % cfg.threads);
		s->deadline_ns = t0 + (uint64_t)(cfg.duration_s * 1e9);
		ret = pthread_create(&s->tid, NULL, sender_main, s);
		if (ret) {
			fprintf(stderr, "%s: pthread_create: %s\n", prog, strerror(ret));
			rc = 1;
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		struct sender *s = &senders[i];

		pthread_join(s->tid, NULL);
		if (s->err) {
			fprintf(stderr, "%s: thread %u: %s: %s\n", prog, i + 1,
				s->err_what, strerror(-s->err));
			rc = 1;
		}
		sent += s->sent;
		ctl += s->ctl_sent;
		if (s->end_ns > end)
			end = s->end_ns;
	}
	elapsed = end > t0 ? (double)(end - t0) / 1e9 : 0.0;
	printf("{\"sent\": %" PRIu64 ", \"sent_all\": %" PRIu64 ", "
	       "\"elapsed_s\": %.6f, \"pps\": %.1f, "
	       "\"threads\": %u, \"payload_size\": %u, \"datagram_bytes\": %u, "
	       "\"batch\": %d}\n",
	       sent, sent + ctl, elapsed, elapsed > 0 ? (double)sent / elapsed : 0.0,
	       cfg.threads, cfg.payload_size,
	       (unsigned int)XTEL_WIRE_HDR_LEN + cfg.payload_size, BATCH);
	return rc;
}
