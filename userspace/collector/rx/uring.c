// SPDX-License-Identifier: MIT
/*
 * io_uring receive loop (see rx/uring.h). The shape follows liburing's
 * examples: one multishot recvmsg over a provided buffer ring keeps the
 * socket drained without a syscall per datagram; completions are drained
 * in batches and their buffers handed back to the kernel in one tail update
 * per batch; the multishot request is re-armed whenever a completion comes
 * without IORING_CQE_F_MORE (the ring ran dry: -ENOBUFS, or an error).
 * liburing 2.3 has no io_uring_setup_buf_ring, so the buffer ring is an
 * anonymous page-aligned mapping registered with io_uring_register_buf_ring.
 */
#include <errno.h>
#include <liburing.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/clock.h"
#include "collector/rx/napi.h"
#include "collector/rx/prefetch.h"
#include "collector/rx/uring.h"
#include "dtls/server.h"

/*
 * user_data: the kind in the top byte, a value (send slot) below. Every
 * request this loop submits is one of these, so a completion is dispatched
 * without any lookup.
 */
enum ud_kind {
	UD_RECV = 1,
	UD_SEND,
	UD_TIMER,
	UD_WAKE,
	UD_CANCEL,
};
#define UD(kind, val)	(((uint64_t)(kind) << 56) | (uint64_t)(val))
#define UD_KIND(ud)	((unsigned int)((ud) >> 56))
#define UD_VAL(ud)	((ud) & ((1ULL << 56) - 1))

enum {
	/*
	 * A receive buffer holds io_uring_recvmsg_out, the peer address, the
	 * control messages and the payload. 2048 bytes leaves room for any
	 * DTLS record under a 1500-byte MTU; larger datagrams are truncated
	 * by the kernel and counted as oversize.
	 */
	RX_BUF_SIZE = 2048,
	BGID = 0,
	SQ_ENTRIES = 256,
	CQE_BATCH = XTEL_RX_PF_MAX,	/* a batch is the prefetch's */
	/* Bounded outgoing queue: DTLS flights are rare and small. */
	SEND_SLOTS = 256,
	SEND_BUF = 2048,
	/*
	 * Busy mode: while completions come densely (see the loop), each wait asks
	 * for BUSY_BATCH of them, for BUSY_WAIT_NS at most. 500 us is 250
	 * datagrams at 500k pps, far below what the socket buffer holds.
	 */
	BUSY_BATCH = 32,
	BUSY_WAIT_NS = 500 * 1000,
	BUSY_ENTER = 8,
	BUSY_GAP_NS = 200 * 1000,	/* 5k datagrams/s */
	/* DTLS timers are second-grained; a 50 ms tick is precise enough. */
	TICK_NS = 50 * 1000 * 1000,
	/*
	 * After the stop, the socket buffer is read dry with recvmmsg. The
	 * bounds keep a flood that outpaces us from holding the exit: the
	 * default 32 MiB buffer holds at most ~100k datagrams, whatever
	 * their size, read in well under a second.
	 */
	DRAIN_BATCH = 32,
	DRAIN_MAX = 1 << 20,
	DRAIN_NS = 1000 * 1000 * 1000,
	CTRL_LEN = CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t)),
	RX_NAME_LEN = (sizeof(struct sockaddr_in6) + 7) & ~(size_t)7,
	/*
	 * The largest datagram a receive buffer holds: what the kernel writes
	 * before the payload (recvmsg_out, the address, the control messages)
	 * leaves 1944 of the 2048 bytes. Anything larger is "oversize", on the
	 * multishot path and on the drain path alike (docs/COLLECTOR.md).
	 */
	RX_MAX_DATAGRAM = RX_BUF_SIZE - sizeof(struct io_uring_recvmsg_out) -
			  RX_NAME_LEN - CTRL_LEN,
};

_Static_assert(RX_MAX_DATAGRAM == 1944,
	       "docs/COLLECTOR.md states the oversize threshold: update it");

struct send_slot {
	struct msghdr mh;
	struct iovec iov;
	struct sockaddr_storage peer;
	uint8_t buf[SEND_BUF];
};

struct xtel_rx_worker {
	unsigned int id;
	int fd;
	int wake_efd;
	int fatal_efd;
	struct xtel_ingest *ig;
	struct xtel_worker_counters *cnt;

	struct io_uring ring;
	bool ring_ok;
	const char *ring_mode;

	struct io_uring_buf_ring *br;
	size_t br_size;
	uint8_t *bufs;
	unsigned int n_bufs;
	unsigned int recycled;		/* buffers added since the last advance */
	struct msghdr rx_mh;		/* layout of every receive buffer */
	unsigned int buf_len;		/* bytes of a buffer the kernel may fill */
	bool recv_armed;
	bool need_rearm;
	uint64_t lazy_ns;		/* plain mode's wake-up period; 0: off */
	struct xtel_rx_tuning tune;	/* --rx-napi, --rx-batch */
	char mode_buf[64];		/* ring_mode with "+napi" */

	struct send_slot *slots;
	unsigned int free_slots[SEND_SLOTS];
	unsigned int n_free;
	unsigned int tx_inflight;

	struct __kernel_timespec tick_ts;
	bool timer_armed;
	uint64_t wake_val;
	bool wake_armed;

	pthread_t thread;
	bool started;
	sem_t ready;
	int init_err;
	int exit_err;
	char err[200];

	int stop;			/* set by xtel_rx_worker_stop */
	bool draining;
	bool socket_drained;
	bool shutdown_done;
	uint32_t rxq_ovfl;		/* last SO_RXQ_OVFL value (cumulative) */
};

int xtel_rx_uring_probe(void)
{
	struct io_uring ring;
	int rc = io_uring_queue_init(2, &ring, 0);

	if (rc)
		return rc;
	io_uring_queue_exit(&ring);
	return 0;
}

/* ---- ring setup ---- */

/*
 * SINGLE_ISSUER|DEFER_TASKRUN runs completion work only when this thread
 * asks for events, which is what a dedicated receive thread wants (6.1+).
 * Older kernels refuse the flags with -EINVAL: fall back to COOP_TASKRUN
 * (5.19+), then to no flags.
 */
static int ring_init(struct xtel_rx_worker *w)
{
	static const struct {
		unsigned int flags;
		const char *name;
	} modes[] = {
		{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		  "single_issuer+defer_taskrun" },
		{ IORING_SETUP_COOP_TASKRUN, "coop_taskrun" },
		{ 0, "default" },
	};
	const size_t n_modes = sizeof(modes) / sizeof(modes[0]);
	int rc = -EINVAL;

	for (size_t i = 0; i < n_modes; i++) {
		struct io_uring_params p = {
			.flags = modes[i].flags | IORING_SETUP_CQSIZE |
				 IORING_SETUP_CLAMP,
			/*
			 * Room for a full buffer ring of receive completions
			 * plus every send, twice over; never below the SQ size
			 * (the kernel refuses that), clamped to its maximum.
			 */
			.cq_entries = 2 * (w->n_bufs + SEND_SLOTS),
		};

		rc = io_uring_queue_init_params(SQ_ENTRIES, &w->ring, &p);
		if (!rc) {
			w->ring_mode = modes[i].name;
			break;
		}
		if (rc != -EINVAL)
			break;
		if (w->id == 0 && i + 1 < n_modes)
			pr_err("kernel refused io_uring "
				"setup flags %s (EINVAL); falling back to %s",
				modes[i].name, modes[i + 1].name);
	}
	if (rc) {
		snprintf(w->err, sizeof(w->err), "io_uring_queue_init: %s",
			 strerror(-rc));
		return rc;
	}
	w->ring_ok = true;
	return 0;
}

/*
 * --rx-napi: optional. A kernel that refuses it (older than 6.9, or without
 * CONFIG_NET_RX_BUSY_POLL) leaves the ring as it is, with one line saying
 * so; the worker runs as without the option.
 */
static void napi_init(struct xtel_rx_worker *w)
{
	int rc;

	if (!w->tune.napi_us)
		return;
	rc = xtel_rx_napi_register(w->ring.ring_fd, w->tune.napi_us,
				   w->tune.napi_prefer);
	if (rc) {
		if (w->id == 0)
			pr_warn("--rx-napi: kernel refused IORING_REGISTER_NAPI "
				"(%s; needs 6.9+ with CONFIG_NET_RX_BUSY_POLL): "
				"running without NAPI busy polling", strerror(-rc));
		return;
	}
	snprintf(w->mode_buf, sizeof(w->mode_buf), "%s+napi%s", w->ring_mode,
		 w->tune.napi_prefer ? "_prefer" : "");
	w->ring_mode = w->mode_buf;
}

static int bufring_init(struct xtel_rx_worker *w)
{
	struct io_uring_buf_reg reg = { 0 };
	int rc, mask = io_uring_buf_ring_mask(w->n_bufs);

	w->br_size = w->n_bufs * sizeof(struct io_uring_buf);
	w->br = mmap(NULL, w->br_size, PROT_READ | PROT_WRITE,
		     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (w->br == MAP_FAILED) {
		w->br = NULL;
		rc = -errno;
		goto err;
	}
	w->bufs = mmap(NULL, (size_t)w->n_bufs * RX_BUF_SIZE,
		       PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE,
		       -1, 0);
	if (w->bufs == MAP_FAILED) {
		w->bufs = NULL;
		rc = -errno;
		goto err;
	}
	reg.ring_addr = (uint64_t)(uintptr_t)w->br;
	reg.ring_entries = w->n_bufs;
	reg.bgid = BGID;
	rc = io_uring_register_buf_ring(&w->ring, &reg, 0);
	if (rc) {
		snprintf(w->err, sizeof(w->err), "io_uring_register_buf_ring: %s%s",
			 strerror(-rc), rc == -EINVAL ?
			 " (kernel lacks provided buffer rings: needs 5.19+)" : "");
		return rc;
	}
	/*
	 * The kernel lays out each buffer as recvmsg_out (16 bytes), then
	 * msg_namelen bytes of address, then the control messages. Rounding
	 * the 28-byte sockaddr_in6 up to 32 keeps the cmsghdrs 8-byte
	 * aligned, as CMSG_* and struct cmsghdr require. Plain mode accounts
	 * by the header's client id and never reads the peer: the kernel is
	 * not asked for it (one copy less per datagram), and the buffer is
	 * announced shorter by as much, so the largest datagram stays
	 * RX_MAX_DATAGRAM in both modes.
	 */
	if (xtel_ingest_wants_timers(w->ig)) {
		w->rx_mh.msg_namelen = RX_NAME_LEN;
		w->buf_len = RX_BUF_SIZE;
	} else {
		w->rx_mh.msg_namelen = 0;
		w->buf_len = RX_BUF_SIZE - RX_NAME_LEN;
	}
	w->rx_mh.msg_controllen = CTRL_LEN;
	io_uring_buf_ring_init(w->br);
	for (unsigned int i = 0; i < w->n_bufs; i++)
		io_uring_buf_ring_add(w->br, w->bufs + (size_t)i * RX_BUF_SIZE,
				      w->buf_len, (unsigned short)i, mask, (int)i);
	io_uring_buf_ring_advance(w->br, (int)w->n_bufs);
	return 0;
err:
	snprintf(w->err, sizeof(w->err), "buffer ring allocation: %s",
		 strerror(-rc));
	return rc;
}

/* ---- submissions ---- */

static struct io_uring_sqe *get_sqe(struct xtel_rx_worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe) {
		/* SQ full: push what is queued to the kernel and retry once. */
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

static int arm_recv(struct xtel_rx_worker *w)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_recvmsg_multishot(sqe, w->fd, &w->rx_mh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, UD(UD_RECV, 0));
	w->recv_armed = true;
	w->need_rearm = false;
	return 0;
}

static int arm_wake(struct xtel_rx_worker *w)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, w->wake_efd, &w->wake_val, sizeof(w->wake_val), 0);
	io_uring_sqe_set_data64(sqe, UD(UD_WAKE, 0));
	w->wake_armed = true;
	return 0;
}

static int arm_timer(struct xtel_rx_worker *w)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return -EBUSY;
	w->tick_ts.tv_sec = 0;
	w->tick_ts.tv_nsec = TICK_NS;
	io_uring_prep_timeout(sqe, &w->tick_ts, 0, 0);
	io_uring_sqe_set_data64(sqe, UD(UD_TIMER, 0));
	w->timer_armed = true;
	return 0;
}

/* xtel_ingest_send_fn: queue one outgoing datagram on this worker's ring. */
static int rx_send(void *ctx, const void *buf, size_t len,
		   const struct sockaddr *peer, socklen_t peer_len)
{
	struct xtel_rx_worker *w = ctx;
	struct io_uring_sqe *sqe;
	struct send_slot *s;
	unsigned int idx;

	if (len > SEND_BUF || peer_len > sizeof(s->peer) || !w->n_free) {
		xtel_cnt_add(&w->cnt->events[XTEL_EV_TX_DROPPED], 1);
		return len > SEND_BUF ? -EMSGSIZE : -ENOBUFS;
	}
	sqe = get_sqe(w);
	if (!sqe) {
		xtel_cnt_add(&w->cnt->events[XTEL_EV_TX_DROPPED], 1);
		return -EBUSY;
	}
	idx = w->free_slots[--w->n_free];
	s = &w->slots[idx];
	memcpy(s->buf, buf, len);
	memcpy(&s->peer, peer, peer_len);
	s->iov = (struct iovec){ .iov_base = s->buf, .iov_len = len };
	s->mh = (struct msghdr){
		.msg_name = &s->peer,
		.msg_namelen = peer_len,
		.msg_iov = &s->iov,
		.msg_iovlen = 1,
	};
	io_uring_prep_sendmsg(sqe, w->fd, &s->mh, 0);
	io_uring_sqe_set_data64(sqe, UD(UD_SEND, idx));
	w->tx_inflight++;
	return 0;
}

/* ---- completions ---- */

static void recycle(struct xtel_rx_worker *w, unsigned int bid)
{
	io_uring_buf_ring_add(w->br, w->bufs + (size_t)bid * RX_BUF_SIZE,
			      w->buf_len, (unsigned short)bid,
			      io_uring_buf_ring_mask(w->n_bufs), (int)w->recycled);
	w->recycled++;
}


/*
 * One control message of a received datagram: the kernel's receive time
 * (SO_TIMESTAMPNS) into *arrival_ns, the socket's drop count (SO_RXQ_OVFL,
 * cumulative per socket: the latest value is kept).
 */
static void read_cmsg(struct xtel_rx_worker *w, const struct cmsghdr *cm,
		      uint64_t *arrival_ns)
{
	if (cm->cmsg_level != SOL_SOCKET)
		return;
	if (cm->cmsg_type == SCM_TIMESTAMPNS &&
	    cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
		struct timespec ts;

		memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
		*arrival_ns = xtel_timespec_ns(&ts);
	} else if (cm->cmsg_type == SO_RXQ_OVFL &&
		   cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
		uint32_t drops;

		memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
		__atomic_store_n(&w->rxq_ovfl, drops, __ATOMIC_RELAXED);
	}
}

/* A datagram without a kernel timestamp is timed now, and counted. */
static uint64_t arrival_or_now(struct xtel_rx_worker *w, uint64_t arrival_ns)
{
	if (arrival_ns)
		return arrival_ns;
	xtel_cnt_add(&w->cnt->events[XTEL_EV_NO_TIMESTAMP], 1);
	return xtel_realtime_ns();
}
/* The header of a receive completion's buffer (F_BUFFER), NULL if bad. */
static struct io_uring_recvmsg_out *recv_out(struct xtel_rx_worker *w,
					      const struct io_uring_cqe *cqe)
{
	unsigned int bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

	return io_uring_recvmsg_validate(w->bufs + (size_t)bid * RX_BUF_SIZE,
					 cqe->res, &w->rx_mh);
}

static socklen_t recv_peer_len(const struct xtel_rx_worker *w,
			       const struct io_uring_recvmsg_out *o)
{
	return o->namelen < w->rx_mh.msg_namelen ? o->namelen :
						   w->rx_mh.msg_namelen;
}

static void handle_recv(struct xtel_rx_worker *w, const struct io_uring_cqe *cqe)
{
	struct io_uring_recvmsg_out *o;
	struct cmsghdr *cm;
	uint64_t arrival_ns = 0;
	unsigned int bid;
	socklen_t peer_len;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		w->recv_armed = false;
		w->need_rearm = true;
	}
	if (cqe->res < 0) {
		if (cqe->res == -ENOBUFS)
			xtel_cnt_add(&w->cnt->events[XTEL_EV_ENOBUFS], 1);
		else if (cqe->res != -ECANCELED)
			xtel_cnt_add(&w->cnt->events[XTEL_EV_RECV_ERRORS], 1);
		if (cqe->res == -EINVAL && !w->exit_err) {
			/* The kernel rejected the request itself: no re-arm loop. */
			snprintf(w->err, sizeof(w->err), "multishot recvmsg "
				 "refused (EINVAL): kernel lacks multishot "
				 "recvmsg (needs 6.0+)");
			w->exit_err = -EINVAL;
		}
		return;
	}
	if (!(cqe->flags & IORING_CQE_F_BUFFER))
		return;
	bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	o = recv_out(w, cqe);
	if (!o) {
		xtel_cnt_add(&w->cnt->events[XTEL_EV_RECV_ERRORS], 1);
		goto out;
	}
	for (cm = io_uring_recvmsg_cmsg_firsthdr(o, &w->rx_mh); cm;
	     cm = io_uring_recvmsg_cmsg_nexthdr(o, &w->rx_mh, cm))
		read_cmsg(w, cm, &arrival_ns);
	arrival_ns = arrival_or_now(w, arrival_ns);
	if (o->flags & MSG_TRUNC) {
		/* Larger than a receive buffer: no valid datagram is. */
		xtel_cnt_add(&w->cnt->events[XTEL_EV_RX_DATAGRAMS], 1);
		xtel_cnt_add(&w->cnt->events[XTEL_EV_RX_BYTES], o->payloadlen);
		xtel_cnt_add(&w->cnt->drops[XTEL_DROP_OVERSIZE], 1);
		goto out;
	}
	peer_len = recv_peer_len(w, o);
	xtel_ingest_datagram(w->ig, io_uring_recvmsg_payload(o, &w->rx_mh),
			     io_uring_recvmsg_payload_length(o, cqe->res, &w->rx_mh),
			     arrival_ns, io_uring_recvmsg_name(o), peer_len);
out:
	recycle(w, bid);
}

/*
 * The multishot receive is gone (cancelled at the stop), but datagrams the
 * kernel already queued on the socket are ours: senders were told nothing
 * else. Read them with non-blocking recvmmsg until EAGAIN, through the same
 * datagram path, and count them as drained. Bounded in time and count so a
 * flood cannot keep the worker alive; hitting a bound counts drain_cut.
 */
static void drain_socket(struct xtel_rx_worker *w)
{
	struct drain_slot {
		struct sockaddr_in6 name;
		uint64_t ctrl[(CTRL_LEN + 7) / 8];
		uint8_t buf[RX_BUF_SIZE];
	} *slots;
	struct mmsghdr msgs[DRAIN_BATCH];
	struct iovec iov[DRAIN_BATCH];
	uint64_t t0;
	uint64_t drained = 0, elapsed;
	int n;

	slots = calloc(DRAIN_BATCH, sizeof(*slots));
	if (!slots) {
		xtel_cnt_add(&w->cnt->events[XTEL_EV_DRAIN_CUT], 1);
		return;
	}
	t0 = xtel_mono_ns();
	for (;;) {
		for (unsigned int i = 0; i < DRAIN_BATCH; i++) {
			iov[i] = (struct iovec){ slots[i].buf, RX_MAX_DATAGRAM };
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &slots[i].name,
				.msg_namelen = sizeof(slots[i].name),
				.msg_iov = &iov[i],
				.msg_iovlen = 1,
				.msg_control = slots[i].ctrl,
				.msg_controllen = sizeof(slots[i].ctrl),
			};
		}
		n = recvmmsg(w->fd, msgs, DRAIN_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* EAGAIN: empty */
		for (int i = 0; i < n; i++) {
			struct msghdr *mh = &msgs[i].msg_hdr;
			uint64_t arrival_ns = 0;
			struct cmsghdr *cm;

			for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
				read_cmsg(w, cm, &arrival_ns);
			arrival_ns = arrival_or_now(w, arrival_ns);
			drained++;
			if (mh->msg_flags & MSG_TRUNC) {
				xtel_cnt_add(&w->cnt->events[XTEL_EV_RX_DATAGRAMS], 1);
				xtel_cnt_add(&w->cnt->events[XTEL_EV_RX_BYTES],
					     msgs[i].msg_len);
				xtel_cnt_add(&w->cnt->drops[XTEL_DROP_OVERSIZE], 1);
				continue;
			}
			xtel_ingest_datagram(w->ig, slots[i].buf, msgs[i].msg_len,
					     arrival_ns,
					     (const struct sockaddr *)&slots[i].name,
					     mh->msg_namelen);
		}
		elapsed = xtel_mono_ns() - t0;
		if (drained >= DRAIN_MAX || elapsed >= DRAIN_NS) {
			xtel_cnt_add(&w->cnt->events[XTEL_EV_DRAIN_CUT], 1);
			break;
		}
	}
	xtel_cnt_add(&w->cnt->events[XTEL_EV_DRAINED], drained);
	free(slots);
}

static void begin_drain(struct xtel_rx_worker *w)
{
	struct io_uring_sqe *sqe;

	w->draining = true;
	if (w->recv_armed) {
		sqe = get_sqe(w);
		if (sqe) {
			io_uring_prep_cancel64(sqe, UD(UD_RECV, 0), 0);
			io_uring_sqe_set_data64(sqe, UD(UD_CANCEL, 0));
		}
	}
}

static void handle_cqe(struct xtel_rx_worker *w, const struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);

	switch (UD_KIND(ud)) {
	case UD_RECV:
		handle_recv(w, cqe);
		break;
	case UD_SEND:
		if (cqe->res < 0)
			xtel_cnt_add(&w->cnt->events[XTEL_EV_TX_ERRORS], 1);
		else
			xtel_cnt_add(&w->cnt->events[XTEL_EV_TX_DATAGRAMS], 1);
		w->free_slots[w->n_free++] = (unsigned int)UD_VAL(ud);
		w->tx_inflight--;
		break;
	case UD_TIMER:
		w->timer_armed = false;
		xtel_ingest_timers(w->ig);
		if (!w->draining)
			arm_timer(w);
		break;
	case UD_WAKE:
		w->wake_armed = false;
		if (__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
			if (!w->draining)
				begin_drain(w);
		} else {
			arm_wake(w);
		}
		break;
	default:
		break;
	}
}

/* A completion batch for the prefetch's callbacks (rx/prefetch.h). */
struct batch {
	struct xtel_rx_worker *w;
	struct io_uring_cqe *const *cqes;
};

static bool batch_peer(void *ctx, unsigned int j, const struct sockaddr **peer,
		       socklen_t *len)
{
	const struct batch *b = ctx;
	const struct io_uring_cqe *cqe = b->cqes[j];
	struct io_uring_recvmsg_out *o;

	if (UD_KIND(io_uring_cqe_get_data64(cqe)) != UD_RECV || cqe->res < 0 ||
	    !(cqe->flags & IORING_CQE_F_BUFFER) || !(o = recv_out(b->w, cqe)))
		return false;
	*peer = io_uring_recvmsg_name(o);
	*len = recv_peer_len(b->w, o);
	return true;
}

static void batch_handle(void *ctx, unsigned int j)
{
	const struct batch *b = ctx;

	handle_cqe(b->w, b->cqes[j]);
}

/*
 * One batch of completions, with the DTLS batch prefetch (rx/prefetch.h)
 * once a worker holds enough sessions for it to pay.
 */
static void handle_batch(struct xtel_rx_worker *w,
			 struct io_uring_cqe *const *cqes, unsigned int n)
{
	struct batch b = { .w = w, .cqes = cqes };

	if (!xtel_rx_pf_on(w->ig, w->tune.prefetch)) {
		for (unsigned int j = 0; j < n; j++)
			handle_cqe(w, cqes[j]);
		return;
	}
	xtel_cnt_add(&w->cnt->events[XTEL_EV_RX_PREFETCHED], n);
	xtel_rx_pf_run(w->ig, w->tune.prefetch, n, batch_peer, batch_handle, &b);
}

static void *worker_main(void *arg)
{
	struct xtel_rx_worker *w = arg;
	struct io_uring_cqe *cqes[CQE_BATCH];
	uint64_t last_got_ns = 0, lazy_wait = w->lazy_ns;
	/* What one wait asks for in each mode (--rx-batch, else the default). */
	const unsigned int lazy_nr = w->tune.batch ? w->tune.batch : w->n_bufs;
	const unsigned int busy_nr = w->tune.batch ? w->tune.batch : BUSY_BATCH;
	bool busy = false, lazy_active = false;
	char name[16];
	int rc;

	snprintf(name, sizeof(name), "xtel-rx%u", w->id);
	pthread_setname_np(pthread_self(), name);

	rc = ring_init(w);
	if (!rc)
		napi_init(w);
	if (!rc)
		rc = bufring_init(w);
	if (!rc)
		rc = arm_wake(w);
	if (!rc)
		rc = arm_recv(w);
	if (!rc && xtel_ingest_wants_timers(w->ig))
		rc = arm_timer(w);
	w->init_err = rc;
	sem_post(&w->ready);
	if (rc)
		return NULL;

	for (;;) {
		unsigned int n, got = 0;

		if (w->lazy_ns && lazy_active && !w->draining) {
			/*
			 * Plain mode with traffic flowing: nothing here needs an
			 * answer soon (no handshakes, no timers), so wait for
			 * more completions than can come, bounded by the
			 * period, and take what arrived. Measured here against
			 * waiting for the first completion (--rx-wait 0), CPU
			 * per datagram fell (two interleaved runs) from 10.4-13.2
			 * to 7.2-7.6 us at 1k/s, 814-818 to 652-723 ns at 100k/s
			 * and 634-641 to 539-570 ns at 300k/s. After a period without any
			 * datagram the loop blocks for the first one again
			 * (lazy_active), so an idle collector does not tick.
			 * Latency stays exact (kernel stamps); the socket buffer
			 * holds a period's datagrams; a period that brought
			 * more than a quarter of the buffer ring makes the next
			 * one a quarter as long. (A plain sleep instead of the
			 * ring wait costs ~22 us per timer wake-up on this VM
			 * and gained nothing; tried and dropped.)
			 */
			struct __kernel_timespec ts = {
				.tv_sec = (long long)(lazy_wait / 1000000000ull),
				.tv_nsec = (long long)(lazy_wait % 1000000000ull),
			};
			struct io_uring_cqe *cqe;

			rc = io_uring_submit_and_wait_timeout(&w->ring, &cqe,
							      lazy_nr, &ts, NULL);
			if (rc == -ETIME)
				rc = 0;
		} else if (busy && !w->draining) {
			/*
			 * Traffic is flowing: wait for a batch of completions
			 * (or BUSY_WAIT_NS) instead of the first one. With
			 * DEFER_TASKRUN the kernel then wakes this thread once
			 * per batch instead of once per datagram, which halves
			 * the CPU per datagram at 500k pps. The delay does not
			 * show in the latency figures (the kernel stamps the
			 * arrival) and is bounded by the timeout.
			 */
			struct __kernel_timespec ts = { .tv_nsec = BUSY_WAIT_NS };
			struct io_uring_cqe *cqe;

			rc = io_uring_submit_and_wait_timeout(&w->ring, &cqe,
							      busy_nr, &ts, NULL);
			if (rc == -ETIME)
				rc = 0;
		} else {
			rc = io_uring_submit_and_wait(&w->ring, 1);
		}
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
			snprintf(w->err, sizeof(w->err), "io_uring_submit_and_wait: %s",
				 strerror(-rc));
			w->exit_err = rc;
			break;
		}
		while ((n = io_uring_peek_batch_cqe(&w->ring, cqes, CQE_BATCH))) {
			handle_batch(w, cqes, n);
			io_uring_cq_advance(&w->ring, n);
			got += n;
			/* Hand the batch's buffers back with one tail store. */
			if (w->recycled) {
				io_uring_buf_ring_advance(w->br, (int)w->recycled);
				w->recycled = 0;
			}
			xtel_cnt_add(&w->cnt->events[XTEL_EV_CQE_BATCHES], 1);
		}
		/*
		 * Batch waits pay only when datagrams come densely: at 1k/s a
		 * wait for BUSY_BATCH ends in its timeout with one datagram or
		 * none, and cost ~35 us per datagram instead of ~14. So stay
		 * busy only while completions come in bunches or less than
		 * BUSY_GAP_NS apart; otherwise block for the first one.
		 */
		if (got)
			xtel_cnt_add(&w->cnt->events[XTEL_EV_RX_WAITS], 1);
		lazy_wait = got > w->n_bufs / 4 ? w->lazy_ns / 4 : w->lazy_ns;
		lazy_active = got > 0;
		if (got > 0) {
			uint64_t now = xtel_mono_ns();

			busy = got >= BUSY_ENTER || now - last_got_ns < BUSY_GAP_NS;
			last_got_ns = now;
		} else {
			busy = false;
		}
		if (w->exit_err)
			break;
		if (w->need_rearm && !w->draining) {
			xtel_cnt_add(&w->cnt->events[XTEL_EV_REARMS], 1);
			arm_recv(w);
		}
		/*
		 * Draining: once the cancelled receive delivered its last
		 * completion, read what is still queued on the socket
		 * (drain_socket), then say goodbye to DTLS peers (close_notify)
		 * and end when every queued send completed.
		 */
		if (w->draining && !w->recv_armed) {
			if (!w->socket_drained) {
				drain_socket(w);
				w->socket_drained = true;
				/* Due DTLS timers, then the final statistics. */
				xtel_ingest_timers(w->ig);
			}
			if (!w->shutdown_done) {
				xtel_ingest_shutdown(w->ig);
				w->shutdown_done = true;
			}
			if (!w->tx_inflight)
				break;
		}
	}
	if (w->exit_err && w->fatal_efd >= 0) {
		uint64_t one = 1;

		if (write(w->fatal_efd, &one, sizeof(one)) < 0)
			perror("collector: eventfd write");
	}
	return NULL;
}

/* ---- lifecycle ---- */

struct xtel_rx_worker *xtel_rx_worker_new(unsigned int id, int fd,
					  unsigned int rx_buffers,
					  struct xtel_ingest *ig)
{
	struct xtel_rx_worker *w;
	int err;

	if (posix_memalign((void **)&w, 64, sizeof(*w))) {
		errno = ENOMEM;
		return NULL;
	}
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->fd = fd;
	w->fatal_efd = -1;
	w->ig = ig;
	w->cnt = ig->cnt;
	w->n_bufs = rx_buffers;
	w->wake_efd = eventfd(0, EFD_CLOEXEC);
	if (w->wake_efd < 0)
		goto err;
	w->slots = calloc(SEND_SLOTS, sizeof(*w->slots));
	if (!w->slots)
		goto err_efd;
	for (unsigned int i = 0; i < SEND_SLOTS; i++)
		w->free_slots[i] = SEND_SLOTS - 1 - i;
	w->n_free = SEND_SLOTS;
	sem_init(&w->ready, 0, 0);
	xtel_ingest_set_send(ig, rx_send, w);
	return w;

err_efd:
	close(w->wake_efd);
err:
	err = errno;
	free(w);
	errno = err;
	return NULL;
}

void xtel_rx_worker_set_wait(struct xtel_rx_worker *w, unsigned int wait_us)
{
	w->lazy_ns = xtel_ingest_wants_timers(w->ig) ? 0 : (uint64_t)wait_us * 1000;
}

void xtel_rx_worker_set_tuning(struct xtel_rx_worker *w,
			       const struct xtel_rx_tuning *t)
{
	w->tune = *t;
}

int xtel_rx_worker_start(struct xtel_rx_worker *w, int fatal_efd)
{
	int rc;

	w->fatal_efd = fatal_efd;
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc)
		return -rc;
	w->started = true;
	while (sem_wait(&w->ready) && errno == EINTR)
		;
	return w->init_err;
}

void xtel_rx_worker_stop(struct xtel_rx_worker *w)
{
	uint64_t one = 1;

	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	if (write(w->wake_efd, &one, sizeof(one)) < 0)
		perror("collector: eventfd write");
}

int xtel_rx_worker_join(struct xtel_rx_worker *w)
{
	if (w->started) {
		pthread_join(w->thread, NULL);
		w->started = false;
		/* The last count, for readers after the socket is closed. */
		__atomic_store_n(&w->rxq_ovfl,
				 (uint32_t)xtel_rx_worker_kernel_drops(w),
				 __ATOMIC_RELAXED);
	}
	return w->init_err ? w->init_err : w->exit_err;
}

void xtel_rx_worker_free(struct xtel_rx_worker *w)
{
	if (!w)
		return;
	if (w->started) {
		xtel_rx_worker_stop(w);
		xtel_rx_worker_join(w);
	}
	if (w->ring_ok)
		io_uring_queue_exit(&w->ring);
	if (w->bufs)
		munmap(w->bufs, (size_t)w->n_bufs * RX_BUF_SIZE);
	if (w->br)
		munmap(w->br, w->br_size);
	sem_destroy(&w->ready);
	free(w->slots);
	close(w->wake_efd);
	close(w->fd);
	free(w);
}

const char *xtel_rx_worker_ring_mode(const struct xtel_rx_worker *w)
{
	return w->ring_mode ? w->ring_mode : "none";
}

uint64_t xtel_rx_worker_kernel_drops(const struct xtel_rx_worker *w)
{
	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);
	uint64_t seen = __atomic_load_n(&w->rxq_ovfl, __ATOMIC_RELAXED);

	if (!getsockopt(w->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) &&
	    len > SK_MEMINFO_DROPS * sizeof(uint32_t) &&
	    mem[SK_MEMINFO_DROPS] > seen)
		return mem[SK_MEMINFO_DROPS];
	return seen;
}

int xtel_rx_worker_fd(const struct xtel_rx_worker *w)
{
	return w->fd;
}

const char *xtel_rx_worker_error(const struct xtel_rx_worker *w)
{
	return w->err[0] ? w->err : "unknown error";
}
