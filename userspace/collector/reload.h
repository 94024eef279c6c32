/* SPDX-License-Identifier: MIT */
/*
 * SIGHUP's pieces that are not the DTLS policy (main.c swaps that one):
 * the check that a new --allow list can be applied to the running XDP
 * program, and the update of its allowlist map without a gap. See
 * docs/OPERATIONS.md "Reload" for what a SIGHUP re-reads.
 */
#ifndef XTEL_COLLECTOR_RELOAD_H
#define XTEL_COLLECTOR_RELOAD_H

#include "collector/cli.h"

struct xtel_xdp;

/*
 * Whether next's allowlist can replace cur's on x (NULL: no XDP): 0, or
 * -EINVAL after a message (the program was loaded without an allowlist,
 * or the new one is empty and would drop every source).
 */
int xtel_reload_allow_check(const struct xtel_xdp *x,
			    const struct xtel_config *cur,
			    const struct xtel_config *next);
/*
 * Puts next's prefixes into the map first, then removes cur's prefixes
 * that next does not have (compared as networks, host bits cleared), so
 * a source allowed by both lists is never dropped in between. 0 or
 * -errno after a message.
 */
int xtel_reload_allow_apply(struct xtel_xdp *x, const struct xtel_config *cur,
			    const struct xtel_config *next);

#endif /* XTEL_COLLECTOR_RELOAD_H */
