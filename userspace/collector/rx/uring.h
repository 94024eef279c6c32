/* SPDX-License-Identifier: MIT */
/*
 * The io_uring receive loop: one thread per worker, each with its own ring
 * and its own SO_REUSEPORT UDP socket. Datagrams arrive through a multishot
 * recvmsg over a provided buffer ring and are handed, with their kernel
 * receive timestamp and peer address, to the worker's datagram path
 * (ingest.h). The same ring sends the datagram path's outgoing datagrams
 * through a bounded queue, drives its timers and wakes up for shutdown.
 */
#ifndef XTEL_RX_URING_H
#define XTEL_RX_URING_H

#include <stdint.h>
#include <sys/socket.h>

#include "collector/cli.h"
#include "collector/ingest.h"
#include "collector/rx/socket.h"

struct xtel_rx_worker;

/*
 * Is io_uring usable at all? 0, or -EPERM/-ENOSYS when disabled or absent
 * (main turns those into the "kernel.io_uring_disabled" message).
 */
int xtel_rx_uring_probe(void);

/*
 * Create worker id on socket fd (taken over: closed by _free) feeding ig.
 * Returns NULL with errno set.
 */
struct xtel_rx_worker *xtel_rx_worker_new(unsigned int id, int fd,
					  unsigned int rx_buffers,
					  struct xtel_ingest *ig);

/*
 * Plain mode (no DTLS timers): wake at most every wait_us and take what
 * arrived, instead of on the first datagram (0). Before _start.
 */
void xtel_rx_worker_set_wait(struct xtel_rx_worker *w, unsigned int wait_us);

/*
 * Receive-path options measured for issue 16 (docs/CAPACITY.md, "Receive-
 * path options"); all zero is the default behaviour.
 */
struct xtel_rx_tuning {
	unsigned int napi_us;		/* --rx-napi: busy poll per wait; 0: off */
	bool napi_prefer;		/* --rx-napi-prefer */
	unsigned int batch;		/* --rx-batch: completions per wait; 0: default */
	unsigned int prefetch;		/* --rx-prefetch: distance D; 0: off */
};

/* Before _start. */
void xtel_rx_worker_set_tuning(struct xtel_rx_worker *w,
			       const struct xtel_rx_tuning *t);

/*
 * Start the thread and wait until its ring is set up. fatal_efd (an
 * eventfd, or -1) is written when the loop dies of an unexpected error at
 * run time. Returns 0 or the setup error (-EPERM/-ENOSYS: io_uring
 * disabled; -EINVAL: a feature the kernel lacks).
 */
int xtel_rx_worker_start(struct xtel_rx_worker *w, int fatal_efd);

/* Ask the loop to stop receiving, finish queued work and exit. */
void xtel_rx_worker_stop(struct xtel_rx_worker *w);

/* Wait for the thread; returns its exit status (0 or -errno). */
int xtel_rx_worker_join(struct xtel_rx_worker *w);

void xtel_rx_worker_free(struct xtel_rx_worker *w);

/* How the ring was set up: "single_issuer+defer_taskrun", ... */
const char *xtel_rx_worker_ring_mode(const struct xtel_rx_worker *w);

/*
 * Datagrams the kernel dropped on this worker's socket (receive buffer
 * full): the larger of the last SO_RXQ_OVFL value seen and SO_MEMINFO's
 * drop count. Safe to call from any thread.
 */
uint64_t xtel_rx_worker_kernel_drops(const struct xtel_rx_worker *w);

/*
 * The worker's socket, for a thread that only sends through it (the AF_XDP
 * receive thread's DTLS replies): sendto on a UDP socket is thread-safe.
 */
int xtel_rx_worker_fd(const struct xtel_rx_worker *w);

/* Human-readable reason when start or the loop failed. */
const char *xtel_rx_worker_error(const struct xtel_rx_worker *w);

#endif /* XTEL_RX_URING_H */
