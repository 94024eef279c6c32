// SPDX-License-Identifier: MIT
/*
 * Fault decisions. One uniform draw per DATA datagram, hashed from (seed,
 * client id, seq), is compared with cumulative thresholds, so the three
 * faults are exclusive and each happens with its own probability. The held
 * queue itself is driven by the client module (client.c), which knows when
 * a datagram leaves.
 */
#include "fault.h"

static uint64_t splitmix64_fin(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t xtel_lg_mix3(uint64_t a, uint64_t b, uint64_t c)
{
	const uint64_t golden = 0x9e3779b97f4a7c15ull;
	uint64_t h = splitmix64_fin(a + golden);

	h = splitmix64_fin(h ^ (b + 2 * golden));
	return splitmix64_fin(h ^ (c + 3 * golden));
}

void xtel_lg_fault_cfg_init(struct xtel_lg_fault_cfg *f,
			    const struct xtel_lg_config *cfg)
{
	f->seed = cfg->seed;
	f->loss = cfg->loss;
	f->dup = cfg->loss + cfg->dup;
	f->reorder = cfg->loss + cfg->dup + cfg->reorder;
	f->depth = cfg->reorder_depth;
	f->any = cfg->loss > 0 || cfg->dup > 0 || cfg->reorder > 0;
}

enum xtel_lg_fault xtel_lg_fault_decide(const struct xtel_lg_fault_cfg *f,
					uint32_t client_id, uint64_t seq)
{
	double u;

	if (!f->any)
		return XTEL_LG_FAULT_NONE;
	/* 53 random bits: a double uniform in [0, 1). */
	u = (double)(xtel_lg_mix3(f->seed, client_id, seq) >> 11) * 0x1.0p-53;
	if (u < f->loss)
		return XTEL_LG_FAULT_LOSS;
	if (u < f->dup)
		return XTEL_LG_FAULT_DUP;
	if (u < f->reorder)
		return XTEL_LG_FAULT_REORDER;
	return XTEL_LG_FAULT_NONE;
}
