// SPDX-License-Identifier: MIT
/*
 * The AF_XDP receive thread (see rx/afxdp.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "collector/rx/afxdp.h"
#include "collector/rx/prefetch.h"

enum {
	AX_POLL_MS = 50,		/* also the DTLS timer tick */
	AX_BUDGET = 256,		/* frames per queue per poll */
	AX_LAZY_MIN = 2,		/* frames per look that make it sleep a period */
	AX_LAZY_MAX_NS = 1000 * 1000,
	/* After the stop: drain at most this long / this many frames. */
	AX_DRAIN_NS = 500 * 1000 * 1000,
	AX_DRAIN_MAX = 1 << 20,
};

_Static_assert((int)XTEL_AFXDP_BATCH <= (int)XTEL_RX_PF_MAX,
	       "a drain is one prefetch batch");

/* Send the held replies through a normal UDP socket. */
static void ax_flush(struct xtel_ax_rx *r)
{
	for (unsigned int i = 0; i < r->n_tx; i++) {
		const struct xtel_ax_tx *t = &r->txq[i];

		if (sendto(r->send_fd, t->buf, t->len, MSG_DONTWAIT,
			   (const struct sockaddr *)&t->peer, t->peer_len) < 0)
			xtel_cnt_add(&r->cnt->events[errno == EAGAIN || errno == ENOBUFS ?
						     XTEL_EV_TX_DROPPED :
						     XTEL_EV_TX_ERRORS], 1);
		else
			xtel_cnt_add(&r->cnt->events[XTEL_EV_TX_DATAGRAMS], 1);
	}
	r->n_tx = 0;
}

/* xtel_ingest_send_fn: hold one DTLS datagram until ax_flush. */
static int ax_send(void *ctx, const void *buf, size_t len,
		   const struct sockaddr *peer, socklen_t peer_len)
{
	struct xtel_ax_rx *r = ctx;
	struct xtel_ax_tx *t;

	if (len > XTEL_AX_TX_BUF || peer_len > sizeof(t->peer)) {
		xtel_cnt_add(&r->cnt->events[XTEL_EV_TX_DROPPED], 1);
		return -EMSGSIZE;
	}
	if (r->n_tx == XTEL_AX_TXQ)	/* a flight larger than the queue: send */
		ax_flush(r);
	t = &r->txq[r->n_tx++];
	memcpy(t->buf, buf, len);
	t->len = (uint16_t)len;
	memcpy(&t->peer, peer, peer_len);
	t->peer_len = peer_len;
	return 0;
}

/* A drain's datagrams for the prefetch's callbacks (rx/prefetch.h). */
struct ax_batch {
	struct xtel_ax_rx *r;
	const struct xtel_afxdp_pkt *pkts;
};

static void ax_one(struct xtel_ax_rx *r, const struct xtel_afxdp_pkt *p)
{
	xtel_ingest_datagram(r->ig, p->data, p->len, p->rx_ns,
			     (const struct sockaddr *)&p->src, p->src_len);
	if (r->n_tx)
		ax_flush(r);
}

static bool ax_peer(void *ctx, unsigned int j, const struct sockaddr **peer,
		    socklen_t *len)
{
	const struct ax_batch *b = ctx;

	*peer = (const struct sockaddr *)&b->pkts[j].src;
	*len = b->pkts[j].src_len;
	return true;
}

static void ax_handle(void *ctx, unsigned int j)
{
	const struct ax_batch *b = ctx;

	ax_one(b->r, &b->pkts[j]);
}

/* xtel_afxdp_batch_fn: with the DTLS batch prefetch once it pays. */
static void ax_deliver(const struct xtel_afxdp_pkt *pkts, unsigned int n,
		       void *arg)
{
	struct xtel_ax_rx *r = arg;
	struct ax_batch b = { .r = r, .pkts = pkts };

	if (!xtel_rx_pf_on(r->ig, r->prefetch)) {
		for (unsigned int j = 0; j < n; j++)
			ax_one(r, &pkts[j]);
		return;
	}
	xtel_cnt_add(&r->cnt->events[XTEL_EV_RX_PREFETCHED], n);
	xtel_rx_pf_run(r->ig, r->prefetch, n, ax_peer, ax_handle, &b);
}

static void *ax_main(void *arg)
{
	struct xtel_ax_rx *r = arg;
	uint64_t next_tick = xtel_mono_ns() + AX_POLL_MS * 1000000ull;
	uint64_t deadline, drained = 0;
	int rc, last = 0;

	pthread_setname_np(pthread_self(), "xtel-afxdp");
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		uint64_t now;

		if (r->lazy_ns && last >= AX_BUDGET) {
			/* More than a budget waiting: go on at once. */
			rc = xtel_afxdp_poll(r->ax, 0, AX_BUDGET, ax_deliver, r);
		} else if (r->lazy_ns && last >= AX_LAZY_MIN) {
			/*
			 * Frames come densely (several since the last look):
			 * sleep a period and take them all, one wake-up per
			 * period instead of one per frame or two. A period
			 * that brings fewer than AX_LAZY_MIN falls back to
			 * waiting in poll, so low rates keep waking per frame
			 * (a timer wake-up costs ~22 us on this VM).
			 */
			struct timespec ts = { .tv_nsec = (long)r->lazy_ns };

			while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
				;
			rc = xtel_afxdp_poll(r->ax, 0, AX_BUDGET, ax_deliver, r);
		} else {
			rc = xtel_afxdp_poll(r->ax, AX_POLL_MS, AX_BUDGET, ax_deliver, r);
		}
		last = rc;
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN) {
			r->err = rc;
			goto fatal;
		}
		now = xtel_mono_ns();
		if (now >= next_tick) {
			xtel_ingest_timers(r->ig);
			ax_flush(r);
			next_tick = now + AX_POLL_MS * 1000000ull;
		}
	}
	/*
	 * Stopped: take what is still in the RX rings, bounded so a flood
	 * cannot keep the collector from exiting, then say goodbye to the
	 * DTLS peers.
	 */
	deadline = xtel_mono_ns() + AX_DRAIN_NS;
	for (;;) {
		rc = xtel_afxdp_poll(r->ax, 0, AX_BUDGET, ax_deliver, r);
		if (rc <= 0)
			break;
		drained += (uint64_t)rc;
		if (drained >= AX_DRAIN_MAX ||
		    xtel_mono_ns() >= deadline) {
			xtel_cnt_add(&r->cnt->events[XTEL_EV_DRAIN_CUT], 1);
			break;
		}
	}
	xtel_cnt_add(&r->cnt->events[XTEL_EV_DRAINED], drained);
	xtel_ingest_timers(r->ig);
	xtel_ingest_shutdown(r->ig);
	ax_flush(r);
	return NULL;
fatal:
	if (r->fatal_efd >= 0) {
		uint64_t one = 1;

		if (write(r->fatal_efd, &one, sizeof(one)) < 0)
			pr_err("eventfd write: %s", strerror(errno));
	}
	return NULL;
}

void xtel_ax_rx_init(struct xtel_ax_rx *r, struct xtel_afxdp *ax,
		     struct xtel_ingest *ig, struct xtel_worker_counters *cnt,
		     int send_fd)
{
	r->ax = ax;
	r->ig = ig;
	r->cnt = cnt;
	r->send_fd = send_fd;
	r->fatal_efd = -1;
	xtel_ingest_set_send(ig, ax_send, r);
}

void xtel_ax_rx_set_prefetch(struct xtel_ax_rx *r, unsigned int d)
{
	r->prefetch = d;
}

void xtel_ax_rx_set_wait(struct xtel_ax_rx *r, unsigned int wait_us)
{
	uint64_t ns = (uint64_t)wait_us * 1000;

	r->lazy_ns = xtel_ingest_wants_timers(r->ig) ? 0 :
		     ns < AX_LAZY_MAX_NS ? ns : AX_LAZY_MAX_NS;
}

int xtel_ax_rx_start(struct xtel_ax_rx *r, int fatal_efd)
{
	int rc;

	r->fatal_efd = fatal_efd;
	rc = pthread_create(&r->thread, NULL, ax_main, r);
	if (rc)
		return -rc;
	r->started = true;
	return 0;
}

int xtel_ax_rx_stop(struct xtel_ax_rx *r)
{
	if (!r->started)
		return 0;
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	pthread_join(r->thread, NULL);
	r->started = false;
	return r->err;
}
