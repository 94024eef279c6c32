// SPDX-License-Identifier: MIT
/*
 * The ClientHello flood. A small pool of unconnected UDP sockets gives the
 * source ports; each datagram picks its source address from the range
 * through an IP_PKTINFO / IPV6_PKTINFO control message, so one sendmmsg
 * carries many (address, port) sources without a socket per address. The
 * testbed makes the flood ranges local to xtel-gen (AnyIP routes) and
 * routes them back from xtel-col, and 127.0.0.0/8 works the same on
 * loopback. The ClientHello is a well-formed DTLS 1.2 record: a collector
 * must answer it with a HelloVerifyRequest and keep no state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/bytes.h"
#include "fault.h"
#include "flood.h"
#include "pacing.h"

enum { FLOOD_BATCH = 64, HELLO_MAX = 256 };

static int flood_fds[XTEL_LG_FLOOD_SOCKETS];
static uint32_t n_flood_fds;

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Cursor-style writers: store big-endian, return the next free byte. */
static uint8_t *put16(uint8_t *p, uint32_t v)
{
	xtel_store_be16(p, (uint16_t)v);
	return p + 2;
}

static uint8_t *put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	return put16(p + 1, v);
}

size_t xtel_lg_client_hello(uint8_t *buf, size_t cap, uint64_t *rng,
			    uint64_t record_seq)
{
	/* What a DTLS 1.2 client with an ECDSA P-256 certificate offers. */
	static const uint16_t suites[] = {
		0xc02b, 0xc02c, 0xcca9, 0xc02f, 0xc030, 0xcca8, 0x00ff,
	};
	static const uint8_t extensions[] = {
		0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, /* groups */
		0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,	/* ec_point_formats */
		0x00, 0x0d, 0x00, 0x08, 0x00, 0x06,	/* signature_algorithms */
		0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
		0x00, 0x17, 0x00, 0x00,			/* extended_master_secret */
		0x00, 0x16, 0x00, 0x00,			/* encrypt_then_mac */
	};
	uint8_t *p = buf, *rec_len, *hs_len, *frag_len, *body;
	uint32_t blen;

	if (cap < HELLO_MAX)
		return 0;
	/* Record header: handshake, DTLS 1.2, epoch 0, 48-bit sequence. */
	*p++ = XTEL_DTLS_CT_HANDSHAKE;
	p = put16(p, XTEL_DTLS_V12);
	p = put16(p, 0);
	p = put16(p, (uint32_t)(record_seq >> 32) & 0xffff);
	p = put16(p, (uint32_t)(record_seq >> 16) & 0xffff);
	p = put16(p, (uint32_t)record_seq & 0xffff);
	rec_len = p;
	p += 2;
	/* Handshake header: client_hello, message_seq 0, one fragment. */
	*p++ = 1;
	hs_len = p;
	p += 3;
	p = put16(p, 0);
	p = put24(p, 0);
	frag_len = p;
	p += 3;
	body = p;
	p = put16(p, XTEL_DTLS_V12);
	for (int i = 0; i < 4; i++) {
		uint64_t r = rng_next(rng);

		memcpy(p, &r, 8);
		p += 8;
	}
	*p++ = 0;	/* session_id */
	*p++ = 0;	/* cookie: none, which is the point */
	p = put16(p, sizeof(suites));
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		p = put16(p, suites[i]);
	*p++ = 1;	/* compression methods: null */
	*p++ = 0;
	p = put16(p, sizeof(extensions));
	memcpy(p, extensions, sizeof(extensions));
	p += sizeof(extensions);

	blen = (uint32_t)(p - body);
	put24(hs_len, blen);
	put24(frag_len, blen);
	put16(rec_len, blen + 12);
	return (size_t)(p - buf);
}

int xtel_lg_flood_open(struct xtel_lg_run *run)
{
	const struct xtel_lg_config *cfg = run->cfg;
	int fam = cfg->target.ss_family, one = 1, ret;

	for (n_flood_fds = 0; n_flood_fds < XTEL_LG_FLOOD_SOCKETS; n_flood_fds++) {
		struct sockaddr_storage any = { .ss_family = (sa_family_t)fam };
		int fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (fd < 0)
			goto fail;
		/*
		 * FREEBIND lets pktinfo name any address of the range even
		 * where it is not local; replies still need the testbed's
		 * routes back to reach us.
		 */
		if (fam == AF_INET)
			setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
		else
			setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&any, fam == AF_INET ?
			 sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0) {
			close(fd);
			goto fail;
		}
		flood_fds[n_flood_fds] = fd;
	}
	run->flood.sockets = n_flood_fds;
	/* sendmmsg wants a mutable msg_name: a copy of the target. */
	memcpy(&run->flood_target, &cfg->target, sizeof(cfg->target));
	return 0;
fail:
	ret = -errno;
	xtel_lg_flood_close();
	return ret;
}

void xtel_lg_flood_close(void)
{
	for (uint32_t i = 0; i < n_flood_fds; i++)
		close(flood_fds[i]);
	n_flood_fds = 0;
}

/* A source address of the range: skips the v4 network/broadcast addresses. */
static void pick_source(const struct xtel_lg_config *cfg, uint64_t *rng,
			struct in_addr *a4, struct in6_addr *a6)
{
	uint64_t r = rng_next(rng);

	if (cfg->flood_net.ss_family == AF_INET) {
		uint32_t base = ntohl(((const struct sockaddr_in *)&cfg->flood_net)->sin_addr.s_addr);
		uint32_t hostbits = 32 - cfg->flood_prefix;
		uint64_t size = 1ull << hostbits, host;

		if (size > 2)
			host = 1 + r % (size - 2);
		else
			host = r % size;
		a4->s_addr = htonl(base + (uint32_t)host);
	} else {
		uint32_t hostbits = 128 - cfg->flood_prefix;
		uint64_t mask = hostbits >= 64 ? UINT64_MAX :
				(hostbits ? (1ull << hostbits) - 1 : 0);
		uint64_t host = r & mask, low;

		if (mask && host == 0)
			host = 1;
		*a6 = ((const struct sockaddr_in6 *)&cfg->flood_net)->sin6_addr;
		memcpy(&low, &a6->s6_addr[8], 8);
		low = be64toh(low) | host;
		low = htobe64(low);
		memcpy(&a6->s6_addr[8], &low, 8);
	}
}

static void drain(struct xtel_lg_run *run, int fd)
{
	uint8_t buf[2048];
	int got = 0;

	for (int i = 0; i < 256; i++) {
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0)
			break;
		got++;
	}
	if (got)
		xtel_lg_ctr_add(&run->flood.replies, (uint64_t)got);
}

struct flood_batch {
	struct mmsghdr msgs[FLOOD_BATCH];
	struct iovec iov[FLOOD_BATCH];
	uint8_t buf[FLOOD_BATCH][HELLO_MAX];
	union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctl[FLOOD_BATCH];
};

static void send_hellos(struct xtel_lg_run *run, struct flood_batch *fb,
			uint32_t k, int fd, uint64_t *rng, uint64_t *rec_seq)
{
	const struct xtel_lg_config *cfg = run->cfg;
	int v4 = cfg->target.ss_family == AF_INET;
	uint32_t off = 0;

	for (uint32_t i = 0; i < k; i++) {
		struct msghdr *mh = &fb->msgs[i].msg_hdr;
		struct cmsghdr *cm;
		struct in6_addr a6 = { 0 };
		struct in_addr a4 = { 0 };

		fb->iov[i].iov_base = fb->buf[i];
		fb->iov[i].iov_len = xtel_lg_client_hello(fb->buf[i], HELLO_MAX,
							  rng, (*rec_seq)++);
		memset(mh, 0, sizeof(*mh));
		mh->msg_name = &run->flood_target;
		mh->msg_namelen = cfg->target_len;
		mh->msg_iov = &fb->iov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = fb->ctl[i].b;
		pick_source(cfg, rng, &a4, &a6);
		if (v4) {
			struct in_pktinfo pi = { .ipi_spec_dst = a4 };

			mh->msg_controllen = CMSG_SPACE(sizeof(pi));
			cm = CMSG_FIRSTHDR(mh);
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		} else {
			struct in6_pktinfo pi = { .ipi6_addr = a6 };

			mh->msg_controllen = CMSG_SPACE(sizeof(pi));
			cm = CMSG_FIRSTHDR(mh);
			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		}
	}
	while (off < k) {
		int r = sendmmsg(fd, &fb->msgs[off], k - off, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EINVAL || errno == EADDRNOTAVAIL) {
				xtel_lg_run_fail(run, XTEL_LG_EXIT_RUNTIME,
						 "--flood-src: cannot send from the range (%s): it must be local to this host (the testbed's flood ranges are, inside xtel-gen)",
						 strerror(errno));
			}
			xtel_lg_ctr_add(&run->flood.errors, k - off);
			break;
		}
		off += (uint32_t)r;
		xtel_lg_ctr_add(&run->flood.sent, (uint64_t)r);
	}
}

void *xtel_lg_flood_main(void *arg)
{
	struct xtel_lg_run *run = arg;
	const struct xtel_lg_config *cfg = run->cfg;
	struct xtel_lg_config one = *cfg;
	static struct flood_batch fb;
	struct xtel_lg_pacer pacer;
	uint64_t rng = xtel_lg_mix3(cfg->seed, 0xf100d, 1), rec_seq = 0;
	uint64_t done = 0, start = xtel_mono_ns();
	uint32_t sock = 0;

	/* The flood has its own single rate; duration bounds flood-only runs. */
	one.ramp = false;
	one.rates[0] = cfg->flood_pps;
	one.duration_s = cfg->clients ? 0 : cfg->duration_s;
	xtel_lg_pacer_init(&pacer, &one, 1.0, start, 0);
	run->flood.start_ns = start;

	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		uint64_t now = xtel_mono_ns(), due, wake;

		/* With clients, the flood lasts as long as they do. */
		if (cfg->clients && atomic_load(&run->senders_done) == (int)cfg->threads)
			break;
		if (pacer.end_ns && now >= pacer.end_ns && done >= xtel_lg_pacer_due(&pacer, now))
			break;
		due = xtel_lg_pacer_due(&pacer, now);
		while (done < due) {
			uint32_t k = due - done > FLOOD_BATCH ? FLOOD_BATCH :
				     (uint32_t)(due - done);

			send_hellos(run, &fb, k, flood_fds[sock], &rng, &rec_seq);
			drain(run, flood_fds[sock]);
			sock = sock + 1 == n_flood_fds ? 0 : sock + 1;
			done += k;
		}
		wake = xtel_lg_pacer_time_of(&pacer, done + 16);
		if (wake > now + 5000000)
			wake = now + 5000000;
		if (pacer.end_ns && wake > pacer.end_ns)
			wake = pacer.end_ns;
		xtel_lg_sleep_until(wake);
	}
	/* Late replies still count. */
	for (uint32_t i = 0; i < n_flood_fds; i++)
		drain(run, flood_fds[i]);
	run->flood.end_ns = xtel_mono_ns();
	return NULL;
}
