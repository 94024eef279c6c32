/* SPDX-License-Identifier: MIT */
/*
 * The DTLS batch prefetch (--rx-prefetch D) of a receive loop that holds a
 * batch of datagrams: the io_uring completion batch (rx/uring.c) and the
 * AF_XDP RX ring's (rx/afxdp.c). In DTLS mode with enough sessions (fleet
 * order at 100,000 finds every record's bucket, session and accounting
 * record cold), stage st runs for item j + (XTEL_RX_PF_STAGES - st) D
 * before item j is handled, so the DRAM trips of the records to come
 * overlap the ones in between (docs/CAPACITY.md "DTLS fleet order: a
 * prefetch in the batch"):
 *   0  the peer's hash bucket (its hash kept),
 *   1  the session the bucket points to,
 *   2  the session's client id (kept) and that client's registry slot,
 *   3  the client's accounting record.
 * Each stage reads only what the one before fetched. Only hints: every
 * outcome is the same without them.
 *
 * The loops are inline so that each receive path's two callbacks (the
 * item's peer address, handle the item) are called directly.
 */
#ifndef XTEL_RX_PREFETCH_H
#define XTEL_RX_PREFETCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acct/registry.h"
#include "collector/ingest.h"
#include "dtls/server.h"

enum {
	XTEL_RX_PF_STAGES = 4,
	XTEL_RX_PF_MAX = 256,	/* items in one batch */
};

/* Item j's peer, or false when it is not a datagram (stage 0 then hints
 * any bucket). */
typedef bool xtel_rx_pf_peer_fn(void *ctx, unsigned int j,
				const struct sockaddr **peer, socklen_t *len);
typedef void xtel_rx_pf_handle_fn(void *ctx, unsigned int j);

/* Whether a batch of ig's pays the stages at distance d (0: off). */
static inline bool xtel_rx_pf_on(const struct xtel_ingest *ig, unsigned int d)
{
	return d && ig->dtls && xtel_dtls_server_prefetch_pays(ig->dtls);
}

static inline void xtel_rx_pf_stage(const struct xtel_ingest *ig,
				    xtel_rx_pf_peer_fn *peer, void *ctx,
				    unsigned int j, unsigned int st,
				    uint32_t *h, uint32_t *id)
{
	const struct sockaddr *sa;
	socklen_t len;

	switch (st) {
	case 0:
		*h = peer(ctx, j, &sa, &len) ?
		     xtel_dtls_server_prefetch_peer(ig->dtls, sa, len) : 0;
		break;
	case 1:
		xtel_dtls_server_prefetch_session(ig->dtls, *h);
		break;
	case 2:
		*id = xtel_dtls_server_prefetch_client(ig->dtls, *h);
		xtel_registry_prefetch_slot(ig->reg, *id);
		break;
	default:
		xtel_registry_prefetch_record(ig->reg, *id);
		break;
	}
}

/*
 * Handle items 0..n-1 (n <= XTEL_RX_PF_MAX) in order, the stages at
 * distance d running ahead (xtel_rx_pf_on said yes).
 */
static inline void xtel_rx_pf_run(const struct xtel_ingest *ig, unsigned int d,
				  unsigned int n, xtel_rx_pf_peer_fn *peer,
				  xtel_rx_pf_handle_fn *handle, void *ctx)
{
	const unsigned int ns = XTEL_RX_PF_STAGES;
	uint32_t h[XTEL_RX_PF_MAX], id[XTEL_RX_PF_MAX];

	for (unsigned int st = 0; st < ns; st++)
		for (unsigned int j = 0; j < (ns - st) * d && j < n; j++)
			xtel_rx_pf_stage(ig, peer, ctx, j, st, &h[j], &id[j]);
	for (unsigned int j = 0; j < n; j++) {
		for (unsigned int st = 0; st < ns; st++) {
			unsigned int k = j + (ns - st) * d;

			if (k < n)
				xtel_rx_pf_stage(ig, peer, ctx, k, st, &h[k], &id[k]);
		}
		handle(ctx, j);
	}
}

#endif /* XTEL_RX_PREFETCH_H */
