/* SPDX-License-Identifier: MIT */
/*
 * The model's XDP source (xtel_model_xdp_fn): reads the program's counters,
 * and on the final view its per-client map, and the AF_XDP ring statistics
 * into a view. main owns the loader and the sockets; this only reads them.
 */
#ifndef XTEL_XDP_SOURCE_H
#define XTEL_XDP_SOURCE_H

#include <stdbool.h>

#include "collector/view.h"

struct xtel_xdp_source {
	struct xtel_xdp *xdp;		/* NULL: no program */
	struct xtel_afxdp *ax;		/* NULL: no AF_XDP sockets */
};

void xtel_xdp_source_read(void *arg, struct xtel_view_xdp *out,
			  bool with_clients);

#endif /* XTEL_XDP_SOURCE_H */
