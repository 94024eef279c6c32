// SPDX-License-Identifier: MIT
/*
 * AF_XDP receive path (see afxdp.h). Each RX queue gets its own UMEM and
 * XSK, so queues never share rings and one thread per queue could own one
 * later. Frames are recycled into the fill ring as soon as the callback
 * returns, so the fill ring never runs dry while the collector keeps up.
 * The XDP program writes the arrival time (CLOCK_TAI) and the DTLS peer's
 * client id into the metadata area in front of each redirected frame.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <xdp/xsk.h>

#include "common/clock.h"
#include "common/log.h"
#include "xdp/afxdp.h"
#include "xdp/xdp.h"

#define FRAME_SIZE 2048u	/* holds a 1500-byte MTU frame after the 256-byte XDP headroom */
#define DEFAULT_FRAMES 8192u	/* 16 MiB per queue: ~40 ms of a 200k pps burst */
#define MAX_SOCKETS XTEL_XDP_MAX_QUEUES

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

struct xsk_queue {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	void *area;
	size_t area_len;
	uint32_t queue_id;
	bool zerocopy;
};

struct xtel_afxdp {
	struct xsk_queue q[MAX_SOCKETS];
	unsigned int n;
	int64_t tai_offset_ns;		/* CLOCK_TAI - CLOCK_REALTIME, whole seconds */
	struct xtel_afxdp_stats st;
	bool quiet;
	struct xtel_afxdp_pkt pkts[XTEL_AFXDP_BATCH];	/* one drain's */
};

/* Number of RX queues as the kernel exposes them (veth: usually 1). */
static int rx_queue_count(const char *ifname)
{
	char path[128];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "rx-", 3))
			n++;
	closedir(d);
	return n ? n : 1;
}

static int fill_all(struct xsk_queue *q, uint32_t frames)
{
	uint32_t idx, i, n;

	n = xsk_ring_prod__reserve(&q->fill, frames, &idx);
	if (n != frames)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&q->fill, idx + i) = (uint64_t)i * FRAME_SIZE;
	xsk_ring_prod__submit(&q->fill, n);
	return 0;
}

static int queue_open(struct xsk_queue *q, const char *ifname, uint32_t queue_id,
		      uint32_t frames, bool force_copy, int xsks_fd)
{
	struct xsk_umem_config uc = {
		.fill_size = frames,
		.comp_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.frame_size = FRAME_SIZE,
		.frame_headroom = 0,
	};
	struct xsk_socket_config sc = {
		.rx_size = frames,
		.tx_size = 0,
		/* the program is ours and already attached: libxdp must not load its own */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	};
	int err;

	q->queue_id = queue_id;
	q->area_len = (size_t)frames * FRAME_SIZE;
	q->area = mmap(NULL, q->area_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q->area == MAP_FAILED) {
		q->area = NULL;
		return -errno;
	}
	err = xsk_umem__create(&q->umem, q->area, q->area_len, &q->fill, &q->comp, &uc);
	if (err)
		return err;
	err = -EOPNOTSUPP;
	if (!force_copy) {
		sc.bind_flags = XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP;
		err = xsk_socket__create(&q->xsk, ifname, queue_id, q->umem, &q->rx, NULL, &sc);
		q->zerocopy = err == 0;
	}
	if (err) {
		sc.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
		err = xsk_socket__create(&q->xsk, ifname, queue_id, q->umem, &q->rx, NULL, &sc);
	}
	if (err) {
		q->xsk = NULL;
		return err;
	}
	err = fill_all(q, frames);
	if (err)
		return err;
	return xsk_socket__update_xskmap(q->xsk, xsks_fd);
}

static void queue_close(struct xsk_queue *q)
{
	if (q->xsk)
		xsk_socket__delete(q->xsk);
	if (q->umem)
		xsk_umem__delete(q->umem);
	if (q->area)
		munmap(q->area, q->area_len);
	memset(q, 0, sizeof(*q));
}

int xtel_afxdp_open(struct xtel_afxdp **out, struct xtel_xdp *xdp,
		    const struct xtel_afxdp_opts *opts)
{
	uint32_t frames = opts->frames ? opts->frames : DEFAULT_FRAMES;
	struct xtel_afxdp *a;
	int xsks_fd, nq, i, err;

	*out = NULL;
	/* the rings are power-of-two sized */
	if (frames & (frames - 1))
		return -EINVAL;
	xsks_fd = xtel_xdp_map_fd(xdp, XTEL_XDP_MAP_XSKS);
	if (xsks_fd < 0)
		return xsks_fd;
	nq = rx_queue_count(opts->ifname);
	if (nq < 0) {
		pr_err("afxdp: cannot count RX queues of %s: %s", opts->ifname, strerror(-nq));
		return nq;
	}
	if (nq > MAX_SOCKETS)
		nq = MAX_SOCKETS;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->quiet = opts->quiet;
	for (i = 0; i < nq; i++) {
		err = queue_open(&a->q[i], opts->ifname, i, frames, opts->force_copy, xsks_fd);
		if (err) {
			pr_err("afxdp: AF_XDP socket on %s queue %d: %s%s", opts->ifname, i,
			       strerror(-err),
			       err == -EPERM ? " (needs CAP_NET_RAW and CAP_BPF, or root)" : "");
			goto err_close;
		}
		a->n = i + 1;
	}
	a->tai_offset_ns = -(int64_t)xtel_xdp_tai_to_realtime(0);
	if (!opts->quiet)
		pr_info("afxdp: %u socket%s on %s (%s mode), %u frames each", a->n,
			a->n == 1 ? "" : "s", opts->ifname, xtel_afxdp_bind_mode(a), frames);
	*out = a;
	return 0;

err_close:
	/* a socket that did get created was in the map; deleting it removes it */
	for (i = 0; i < nq; i++)
		queue_close(&a->q[i]);
	free(a);
	return err;
}

void xtel_afxdp_close(struct xtel_afxdp *a)
{
	unsigned int i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		queue_close(&a->q[i]);
	free(a);
}

unsigned int xtel_afxdp_n_sockets(const struct xtel_afxdp *a)
{
	return a->n;
}

int xtel_afxdp_fd(const struct xtel_afxdp *a, unsigned int i)
{
	return i < a->n ? xsk_socket__fd(a->q[i].xsk) : -EINVAL;
}

const char *xtel_afxdp_bind_mode(const struct xtel_afxdp *a)
{
	unsigned int i, zc = 0;

	for (i = 0; i < a->n; i++)
		zc += a->q[i].zerocopy;
	return zc == a->n ? "zerocopy" : zc ? "mixed" : "copy";
}

/*
 * Parses Ethernet (two VLAN tags at most), IPv4/IPv6 and UDP. The program
 * only redirects validated datagrams, so failing here means a bug, which
 * the unparsed counter makes visible instead of crashing on it.
 */
static bool parse_frame(const uint8_t *f, uint32_t len, struct xtel_afxdp_pkt *p)
{
	const uint8_t *end = f + len, *l3 = f + ETH_HLEN;
	const struct udphdr *udp;
	uint16_t proto, ulen;
	int i;

	if (len < ETH_HLEN)
		return false;
	proto = (uint16_t)f[12] << 8 | f[13];
	for (i = 0; i < 2 && (proto == ETH_P_8021Q || proto == ETH_P_8021AD); i++) {
		if (l3 + 4 > end)
			return false;
		proto = (uint16_t)l3[2] << 8 | l3[3];
		l3 += 4;
	}
	memset(&p->src, 0, sizeof(p->src));
	if (proto == ETH_P_IP) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&p->src;
		struct iphdr ip;

		if (l3 + sizeof(ip) > end)
			return false;
		memcpy(&ip, l3, sizeof(ip));
		if (ip.ihl < 5 || ip.protocol != IPPROTO_UDP)
			return false;
		udp = (const struct udphdr *)(l3 + ip.ihl * 4);
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = ip.saddr;
		p->src_len = sizeof(*sin);
	} else if (proto == ETH_P_IPV6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&p->src;
		struct ipv6hdr ip6;

		if (l3 + sizeof(ip6) > end)
			return false;
		memcpy(&ip6, l3, sizeof(ip6));
		if (ip6.nexthdr != IPPROTO_UDP)
			return false;
		udp = (const struct udphdr *)(l3 + sizeof(ip6));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = ip6.saddr;
		p->src_len = sizeof(*sin6);
	} else {
		return false;
	}
	if ((const uint8_t *)(udp + 1) > end)
		return false;
	ulen = ntohs(udp->len);
	if (ulen < sizeof(*udp) || (const uint8_t *)udp + ulen > end)
		return false;
	/* sin_port and sin6_port sit at the same offset */
	((struct sockaddr_in *)&p->src)->sin_port = udp->source;
	p->data = (const uint8_t *)(udp + 1);
	p->len = ulen - sizeof(*udp);
	return true;
}

int xtel_afxdp_drain(struct xtel_afxdp *a, unsigned int i, unsigned int budget,
		     xtel_afxdp_batch_fn *cb, void *arg)
{
	struct xsk_queue *q;
	uint32_t idx_rx, idx_fill, n, k;
	uint64_t fallback_ns = 0;
	int delivered = 0;

	if (i >= a->n)
		return -EINVAL;
	q = &a->q[i];
	if (!budget)
		budget = 64;
	n = xsk_ring_cons__peek(&q->rx, budget < XTEL_AFXDP_BATCH ? budget :
					XTEL_AFXDP_BATCH, &idx_rx);
	if (!n) {
		/* with need_wakeup the kernel waits for a kick to refill */
		if (xsk_ring_prod__needs_wakeup(&q->fill))
			recvfrom(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return 0;
	}
	/* the fill ring has room for every frame we hold, so this cannot fail */
	while (xsk_ring_prod__reserve(&q->fill, n, &idx_fill) != n)
		;
	for (k = 0; k < n; k++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx_rx + k);
		uint64_t addr = xsk_umem__add_offset_to_addr(d->addr);
		uint8_t *frame = xsk_umem__get_data(q->area, addr);
		/* a frame that does not parse leaves its slot to the next */
		struct xtel_afxdp_pkt *p = &a->pkts[delivered];
		struct xtel_xdp_meta m;

		p->queue = q->queue_id;
		p->client_id = 0;
		/* the metadata sits right in front of the frame, inside the
		 * same UMEM chunk's headroom */
		memcpy(&m, frame - sizeof(m), sizeof(m));
		if (m.magic == XTEL_XDP_META_MAGIC) {
			p->rx_ns = m.rx_tai_ns - a->tai_offset_ns;
			p->client_id = m.client_id;
			/* the chunk is reused: do not let the next frame see this */
			memset(frame - sizeof(m), 0, sizeof(m));
		} else {
			if (!fallback_ns)
				fallback_ns = xtel_realtime_ns();
			p->rx_ns = fallback_ns;
			a->st.no_meta++;
		}
		if (parse_frame(frame, d->len, p)) {
			a->st.rx_packets++;
			a->st.rx_bytes += p->len;
			delivered++;
		} else {
			a->st.unparsed++;
		}
		*xsk_ring_prod__fill_addr(&q->fill, idx_fill + k) = addr - addr % FRAME_SIZE;
	}
	/* the kernel gets the frames back only with the submit below */
	if (delivered)
		cb(a->pkts, (unsigned int)delivered, arg);
	xsk_ring_prod__submit(&q->fill, n);
	xsk_ring_cons__release(&q->rx, n);
	return delivered;
}

int xtel_afxdp_poll(struct xtel_afxdp *a, int timeout_ms, unsigned int budget,
		    xtel_afxdp_batch_fn *cb, void *arg)
{
	struct pollfd pfd[MAX_SOCKETS];
	unsigned int i;
	int n, got, total = 0;

	for (i = 0; i < a->n; i++) {
		pfd[i].fd = xsk_socket__fd(a->q[i].xsk);
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	n = poll(pfd, a->n, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < a->n; i++) {
		if (!(pfd[i].revents & POLLIN))
			continue;
		got = xtel_afxdp_drain(a, i, budget, cb, arg);
		if (got < 0)
			return got;
		total += got;
	}
	return total;
}

int xtel_afxdp_read_stats(const struct xtel_afxdp *a, struct xtel_afxdp_stats *out)
{
	unsigned int i;

	*out = a->st;
	out->rx_dropped = out->rx_ring_full = out->fill_ring_empty = 0;
	for (i = 0; i < a->n; i++) {
		struct xdp_statistics s;
		socklen_t len = sizeof(s);

		if (getsockopt(xsk_socket__fd(a->q[i].xsk), SOL_XDP, XDP_STATISTICS, &s, &len))
			return -errno;
		out->rx_dropped += s.rx_dropped;
		out->rx_ring_full += s.rx_ring_full;
		out->fill_ring_empty += s.rx_fill_ring_empty_descs;
	}
	return 0;
}
