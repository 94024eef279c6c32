/* SPDX-License-Identifier: MIT */
/*
 * Fault injection for DATA datagrams: the decision for each datagram (lose,
 * duplicate, hold back for reordering, or send normally) and the per-client
 * queue of held datagrams. A decision is a pure function of (seed, client
 * id, sequence number), so a run is reproducible whatever the timing and the
 * thread layout, and a test can recompute it.
 */
#ifndef XTEL_LG_FAULT_H
#define XTEL_LG_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

enum xtel_lg_fault {
	XTEL_LG_FAULT_NONE = 0,
	XTEL_LG_FAULT_LOSS,
	XTEL_LG_FAULT_DUP,
	XTEL_LG_FAULT_REORDER,
};

struct xtel_lg_fault_cfg {
	uint64_t seed;
	double loss, dup, reorder;	/* cumulative thresholds in [0, 1] */
	uint32_t depth;
	bool any;
};

/* A datagram held back: sent once `countdown` more DATA datagrams left. */
struct xtel_lg_held {
	uint64_t seq;
	uint32_t countdown;
};

struct xtel_lg_held_queue {
	struct xtel_lg_held items[XTEL_LG_MAX_HELD];
	uint32_t n;
};

void xtel_lg_fault_cfg_init(struct xtel_lg_fault_cfg *f,
			    const struct xtel_lg_config *cfg);

/* A 64-bit hash of the three inputs (splitmix64 finaliser chain). */
uint64_t xtel_lg_mix3(uint64_t a, uint64_t b, uint64_t c);

enum xtel_lg_fault xtel_lg_fault_decide(const struct xtel_lg_fault_cfg *f,
					uint32_t client_id, uint64_t seq);

#endif /* XTEL_LG_FAULT_H */
