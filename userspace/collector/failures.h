/* SPDX-License-Identifier: MIT */
/*
 * The last DTLS handshake failures, for the summary: each datagram path
 * (receive worker, AF_XDP thread) keeps its own small ring of {time, peer,
 * reason, claimed client id}, written only by that path's thread when its
 * DTLS server reports a failure; the model reads every ring once per
 * interval and keeps the newest few of all of them in the view
 * (view.recent_failures), which the renderers read.
 *
 * Protocol: the writer bumps a slot's seq to odd, fills its words, bumps
 * seq to even (release), then publishes the event count head (release).
 * A reader loads head (acquire), copies each of the newest slots between
 * two reads of its seq and keeps the copy only when seq was even and
 * unchanged and the slot still holds the event it expected (a faster
 * writer may have moved on: that event is skipped, never torn). Every
 * word is read and written with relaxed atomics, so the protocol needs no
 * lock and the writer never waits.
 */
#ifndef XTEL_FAILURES_H
#define XTEL_FAILURES_H

#include <stdint.h>
#include <sys/socket.h>

#include "dtls/server.h"

enum {
	XTEL_FAIL_RING_SLOTS = 16,	/* per datagram path */
	XTEL_RECENT_FAILURES = 16,	/* in a view, over all paths */
};

struct xtel_fail_event {
	uint64_t time_ns;		/* CLOCK_REALTIME when it failed */
	uint32_t client_id;		/* its certificate's CN claims; 0: none */
	uint8_t reason;			/* enum xtel_dtls_fail */
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint16_t port;			/* host order */
	uint8_t addr[16];		/* 4 bytes for AF_INET */
	uint32_t path;			/* the datagram path (worker) */
};

struct xtel_fail_slot {
	uint64_t seq;			/* odd while being written */
	uint64_t w[5];			/* the event, and its number */
};

struct xtel_fail_ring {
	uint64_t head;			/* events ever written */
	struct xtel_fail_slot slot[XTEL_FAIL_RING_SLOTS];
};

/* Writer (the path's thread): record one failure of path `path`. */
void xtel_fail_ring_push(struct xtel_fail_ring *r, uint32_t path,
			 uint64_t time_ns, const struct sockaddr *peer,
			 enum xtel_dtls_fail reason, uint32_t client_id);

/*
 * Any thread: the newest failures of n rings, at most max, oldest first
 * (by time, then path). Returns how many were copied into out.
 */
unsigned int xtel_fail_recent(const struct xtel_fail_ring *const *rings,
			      unsigned int n, struct xtel_fail_event *out,
			      unsigned int max);

/*
 * "198.18.0.2:40001", "[2001:2::2]:40001"; an IPv4-mapped IPv6 address (a
 * dual-stack socket's IPv4 peer) as the IPv4 address. len >= 56.
 */
void xtel_fail_format_peer(const struct xtel_fail_event *e, char *buf,
			   size_t len);

#endif /* XTEL_FAILURES_H */
