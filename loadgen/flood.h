/* SPDX-License-Identifier: MIT */
/*
 * Handshake flood: unauthenticated DTLS 1.2 ClientHellos (no cookie) from
 * many source addresses of a range and many source ports, paced like the
 * clients, to exercise the collector's stateless cookie exchange and its
 * XDP rate limiting. Replies (HelloVerifyRequests) are drained and counted.
 */
#ifndef XTEL_LG_FLOOD_H
#define XTEL_LG_FLOOD_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"

enum {
	XTEL_LG_FLOOD_SOCKETS = 64,	/* distinct source ports */
};

/*
 * Open the flood sockets (before any thread starts, so errors are early).
 * Returns 0 or -errno.
 */
int xtel_lg_flood_open(struct xtel_lg_run *run);
void xtel_lg_flood_close(void);

/* pthread entry point; arg is the struct xtel_lg_run. */
void *xtel_lg_flood_main(void *arg);

/* Build one ClientHello record with a fresh random; returns its length. */
size_t xtel_lg_client_hello(uint8_t *buf, size_t cap, uint64_t *rng,
			    uint64_t record_seq);

#endif /* XTEL_LG_FLOOD_H */
