/* SPDX-License-Identifier: MIT */
/*
 * AF_XDP receive path: one XSK per RX queue of the collector's interface,
 * fed by the XDP program's redirect (xdp/xdp.h with afxdp = true).
 * Each frame is parsed (Ethernet, VLAN, IPv4/IPv6, UDP) and its UDP payload,
 * source address and arrival time are handed to a callback, a queue's
 * drain at a time, so the
 * collector runs the same decode, DTLS and accounting as on its io_uring
 * path. Receive only: replies leave through a normal socket.
 */
#ifndef XTEL_AFXDP_H
#define XTEL_AFXDP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct xtel_xdp;
struct xtel_afxdp;

/* One received datagram. Everything points into the UMEM frame, which is
 * recycled when the callback returns: copy what must outlive it. */
struct xtel_afxdp_pkt {
	const uint8_t *data;		/* UDP payload */
	uint32_t len;
	struct sockaddr_storage src;	/* sockaddr_in or sockaddr_in6, port set */
	socklen_t src_len;
	uint64_t rx_ns;			/* CLOCK_REALTIME arrival, taken in XDP */
	uint32_t client_id;		/* DTLS peer's id from XDP; 0: unknown */
	uint32_t queue;			/* RX queue it arrived on */
};

struct xtel_afxdp_opts {
	const char *ifname;		/* must be the interface xdp is attached to */
	uint32_t frames;		/* UMEM frames per queue, power of 2; 0: 8192 */
	bool force_copy;		/* skip the zero-copy attempt */
	bool quiet;
};

struct xtel_afxdp_stats {
	uint64_t rx_packets;		/* handed to the callback */
	uint64_t rx_bytes;		/* UDP payload bytes handed over */
	uint64_t unparsed;		/* frames that were not IP/UDP (not expected) */
	uint64_t no_meta;		/* frames without XDP metadata: time read in userspace */
	/* from the kernel (XDP_STATISTICS), summed over the sockets */
	uint64_t rx_dropped;		/* no room in the frame */
	uint64_t rx_ring_full;		/* our RX ring was full: lost */
	uint64_t fill_ring_empty;	/* no free frame to receive into */
};

/*
 * Creates one XSK per RX queue (zero-copy where the driver offers it, else
 * copy mode) and registers each in the program's xtel_xsks map. Returns 0,
 * or -errno with a message on stderr when AF_XDP is unavailable: the caller
 * then keeps receiving through its socket (the program passes datagrams on
 * queues without an XSK, counted as xsk_miss).
 */
int xtel_afxdp_open(struct xtel_afxdp **out, struct xtel_xdp *xdp,
		    const struct xtel_afxdp_opts *opts);
void xtel_afxdp_close(struct xtel_afxdp *a);

/*
 * The datagrams of one queue's drain, n >= 1 of them in ring order, for a
 * receiver that works on a batch (the collector's DTLS prefetch, rx/
 * prefetch.h). Their frames are recycled when it returns.
 */
typedef void xtel_afxdp_batch_fn(const struct xtel_afxdp_pkt *pkts,
				 unsigned int n, void *arg);

/* Frames one drain takes from a queue at most (its budget is capped). */
enum { XTEL_AFXDP_BATCH = 256 };

/*
 * Waits up to timeout_ms (-1: forever, 0: no wait) for frames on any
 * queue, then drains up to budget frames per queue through cb. Returns the
 * number of datagrams delivered (0 on timeout or EINTR) or -errno.
 */
int xtel_afxdp_poll(struct xtel_afxdp *a, int timeout_ms, unsigned int budget,
		    xtel_afxdp_batch_fn *cb, void *arg);

/* For an external event loop: the sockets' fds, and draining one of them. */
unsigned int xtel_afxdp_n_sockets(const struct xtel_afxdp *a);
int xtel_afxdp_fd(const struct xtel_afxdp *a, unsigned int i);
int xtel_afxdp_drain(struct xtel_afxdp *a, unsigned int i, unsigned int budget,
		     xtel_afxdp_batch_fn *cb, void *arg);

/* "zerocopy", "copy" or "mixed" (queues differ). */
const char *xtel_afxdp_bind_mode(const struct xtel_afxdp *a);
int xtel_afxdp_read_stats(const struct xtel_afxdp *a, struct xtel_afxdp_stats *out);

#endif /* XTEL_AFXDP_H */
