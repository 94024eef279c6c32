/* SPDX-License-Identifier: MIT */
/*
 * The two limits of the XDP program for DTLS datagrams from sources without
 * a session: a token bucket per source (xtel_buckets) and one GCRA limiter
 * for all such sources together (xtel_hs_global). The caller passes the map,
 * the rate and the burst (rodata settings), so this header owns only the
 * arithmetic and the update protocol of each state; bpf/xtel_xdp.bpf.c
 * decides when a datagram is subject to them and counts the outcome.
 *
 * Both run on bpf_ktime_get_coarse_ns: a clock step cannot refill every
 * bucket, and reading it costs a few ns instead of ~25; its tick (1-4 ms)
 * only makes the refill come in steps, which the burst absorbs.
 */
#ifndef XTEL_BPF_RATELIMIT_H
#define XTEL_BPF_RATELIMIT_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xtel_maps.h"

enum {
	/* compare-and-swap attempts before a contended datagram counts as over */
	XTEL_GCRA_TRIES = 4,
};

/*
 * Token bucket in time units: a datagram costs 1e9/rate ns of credit, the
 * credit grows with elapsed time and is capped at burst datagrams (a burst
 * of 0 counts as 1). A source seen for the first time gets a full bucket
 * minus this datagram; a full LRU evicts the coldest source, which is what
 * we want. Racing CPUs on one bucket may both take the same credit; a
 * source's flow normally sits on one queue, and the error is one datagram
 * per race, so no lock is taken. rate must not be 0. Returns true when the
 * datagram may pass.
 */
static __always_inline bool bucket_take(void *buckets, const struct xtel_xdp_addr_key *key,
					__u64 now, __u32 rate, __u32 burst)
{
	__u64 cost = 1000000000ULL / rate;
	__u64 cap = cost * (burst ? burst : 1);
	struct xtel_xdp_bucket *b = bpf_map_lookup_elem(buckets, key);
	__u64 credit;

	if (!b) {
		struct xtel_xdp_bucket nb = {
			.credit_ns = cap - cost,
			.last_ns = now,
			.passed = 1,
		};
		bpf_map_update_elem(buckets, key, &nb, BPF_NOEXIST);
		return true;
	}
	credit = b->credit_ns + (now - b->last_ns);
	if (credit > cap)
		credit = cap;
	b->last_ns = now;
	if (credit >= cost) {
		b->credit_ns = credit - cost;
		b->passed++;
		return true;
	}
	b->credit_ns = credit;
	b->dropped++;
	return false;
}

/*
 * The aggregate limit as GCRA: a datagram at time now may pass when the
 * theoretical arrival time, advanced by one cost, stays within burst costs
 * of now. The state is one word in entry 0 of an array map, shared by all
 * CPUs (a per-CPU split would cut the limit to rate/ncpus whenever the flood
 * lands on one queue), advanced by compare-and-swap; after XTEL_GCRA_TRIES
 * lost races under heavy contention the datagram counts as over the limit.
 * rate must not be 0. Returns true when the datagram may pass.
 */
static __always_inline bool gcra_take(void *state, __u64 now, __u32 rate, __u32 burst)
{
	__u64 cost = 1000000000ULL / rate;
	__u64 window = cost * (burst ? burst : 1);
	struct xtel_xdp_global *g;
	__u32 zero = 0;
	__u64 old;
	int i;

	g = bpf_map_lookup_elem(state, &zero);
	if (!g)
		return true;
	old = g->tat_ns;
	for (i = 0; i < XTEL_GCRA_TRIES; i++) {
		__u64 t = old > now ? old : now;
		__u64 prev;

		if (t + cost - now > window)
			return false;
		prev = __sync_val_compare_and_swap(&g->tat_ns, old, t + cost);
		if (prev == old)
			return true;
		old = prev;
	}
	return false;
}

#endif /* XTEL_BPF_RATELIMIT_H */
