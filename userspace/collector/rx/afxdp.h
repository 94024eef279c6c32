/* SPDX-License-Identifier: MIT */
/*
 * The AF_XDP receive thread (--afxdp): one more datagram path, with its own
 * ingest context, registry and counters, fed by xtel_afxdp_poll from the
 * XSKs the XDP program redirects to. DTLS replies leave through a normal
 * UDP socket (worker 0's).
 */
#ifndef XTEL_RX_AFXDP_H
#define XTEL_RX_AFXDP_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "collector/counters.h"
#include "collector/ingest.h"
#include "xdp/afxdp.h"

/* Replies held per received datagram, and their largest size. */
enum { XTEL_AX_TXQ = 16, XTEL_AX_TX_BUF = 1500 };

struct xtel_ax_tx {
	struct sockaddr_storage peer;
	socklen_t peer_len;
	uint16_t len;
	uint8_t buf[XTEL_AX_TX_BUF];
};

struct xtel_ax_rx {
	struct xtel_afxdp *ax;
	/*
	 * Replies are held until the datagram that caused them has been
	 * handled: a handshake's final flight then leaves after on_session
	 * put the peer into the XDP map, so the client's first record never
	 * meets the handshake rate limit (the io_uring path gets the same
	 * order from submitting its queue later).
	 */
	struct xtel_ax_tx txq[XTEL_AX_TXQ];
	unsigned int n_tx;
	struct xtel_ingest *ig;
	struct xtel_worker_counters *cnt;
	int send_fd;
	int fatal_efd;
	uint64_t lazy_ns;		/* plain mode's batching period; 0: off */
	unsigned int prefetch;		/* --rx-prefetch: distance D; 0: off */
	pthread_t thread;
	bool started;
	int stop;
	int err;
};


/*
 * Set up r to receive from ax into ig/cnt, replying through send_fd; the
 * ingest context's send function is pointed at the reply queue.
 */
void xtel_ax_rx_init(struct xtel_ax_rx *r, struct xtel_afxdp *ax,
		     struct xtel_ingest *ig, struct xtel_worker_counters *cnt,
		     int send_fd);

/*
 * Plain mode: while frames come densely, look at the rings every wait_us
 * (at most 1 ms: an AF_XDP ring that fills drops) instead of waking per
 * frame; 0 keeps waking per frame. Before _start.
 */
void xtel_ax_rx_set_wait(struct xtel_ax_rx *r, unsigned int wait_us);

/* DTLS: the batch prefetch's distance (--rx-prefetch; 0: off). Before _start. */
void xtel_ax_rx_set_prefetch(struct xtel_ax_rx *r, unsigned int d);

/* Starts the thread; a fatal receive error is signalled on fatal_efd. */
int xtel_ax_rx_start(struct xtel_ax_rx *r, int fatal_efd);

/*
 * Stops the thread (it drains the rings, bounded, and ends its DTLS
 * sessions first) and joins it. Returns 0 or the receive error. Does
 * nothing for a thread that never started.
 */
int xtel_ax_rx_stop(struct xtel_ax_rx *r);

#endif /* XTEL_RX_AFXDP_H */
