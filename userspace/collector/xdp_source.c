// SPDX-License-Identifier: MIT
/*
 * Reads the XDP program's side of a view (see xdp_source.h).
 */
#include <stdlib.h>

#include "collector/xdp_source.h"

struct client_list {
	struct xtel_view_xdp_client *v;
	uint64_t n, cap;
	uint64_t seen;		/* entries walked, kept or not */
	bool failed;
};

static int add_client(uint32_t id, const struct xtel_xdp_client *c, void *arg)
{
	struct client_list *l = arg;

	l->seen++;
	if (l->failed)
		return 0;
	if (l->n == l->cap) {
		uint64_t ncap = l->cap ? l->cap * 2 : 256;
		struct xtel_view_xdp_client *n = realloc(l->v, ncap * sizeof(*n));

		if (!n) {
			l->failed = true;
			return 0;
		}
		l->v = n;
		l->cap = ncap;
	}
	l->v[l->n++] = (struct xtel_view_xdp_client){
		.client_id = id, .packets = c->packets, .bytes = c->bytes,
		.seq_gaps = c->seq_gaps,
	};
	return 0;
}

void xtel_xdp_source_read(void *arg, struct xtel_view_xdp *out,
			  bool with_clients)
{
	const struct xtel_xdp_source *src = arg;

	if (!src->xdp || xtel_xdp_read_totals(src->xdp, &out->totals))
		return;
	out->on = true;
	out->attach_mode = xtel_xdp_attach_mode(src->xdp);
	out->opts = *xtel_xdp_options(src->xdp);
	out->pin_dir = xtel_xdp_pin_dir(src->xdp);
	for (int i = XTEL_XDP_DROP_UDP_LEN; i < XTEL_XDP_STAT_OUTCOMES; i++)
		out->dropped += out->totals.packets[i];
	if (with_clients) {
		struct client_list l = { 0 };

		xtel_xdp_foreach_client(src->xdp, add_client, &l);
		/* Out of memory: the count stays right, the list is left out. */
		out->n_clients = l.seen;
		if (l.failed) {
			free(l.v);
			l.v = NULL;
		}
		out->clients = l.v;
	}
	if (src->ax) {
		out->afxdp = true;
		out->afxdp_bind_mode = xtel_afxdp_bind_mode(src->ax);
		out->afxdp_sockets = xtel_afxdp_n_sockets(src->ax);
		xtel_afxdp_read_stats(src->ax, &out->afxdp_stats);
	}
}
