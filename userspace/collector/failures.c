// SPDX-License-Identifier: MIT
/*
 * The rings of recent DTLS handshake failures and their merge (see
 * failures.h for the single-writer protocol).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/failures.h"

static void store(uint64_t *w, uint64_t v)
{
	__atomic_store_n(w, v, __ATOMIC_RELAXED);
}

static uint64_t load(const uint64_t *w)
{
	return __atomic_load_n(w, __ATOMIC_RELAXED);
}

static uint64_t addr_word(const uint8_t *a)
{
	uint64_t v;

	memcpy(&v, a, sizeof(v));
	return v;
}

void xtel_fail_ring_push(struct xtel_fail_ring *r, uint32_t path,
			 uint64_t time_ns, const struct sockaddr *peer,
			 enum xtel_dtls_fail reason, uint32_t client_id)
{
	uint64_t n = load(&r->head);
	struct xtel_fail_slot *s = &r->slot[n % XTEL_FAIL_RING_SLOTS];
	uint8_t addr[16] = { 0 };
	uint16_t port = 0;
	uint64_t seq = load(&s->seq);

	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)peer;

		memcpy(addr, &in->sin_addr, 4);
		port = ntohs(in->sin_port);
	} else if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)peer;

		memcpy(addr, &in6->sin6_addr, 16);
		port = ntohs(in6->sin6_port);
	}
	store(&s->seq, seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	store(&s->w[0], time_ns);
	store(&s->w[1], (uint64_t)client_id | (uint64_t)reason << 32 |
			(uint64_t)peer->sa_family << 40 | (uint64_t)port << 48);
	store(&s->w[2], addr_word(addr));
	store(&s->w[3], addr_word(addr + 8));
	store(&s->w[4], (uint64_t)path << 48 | (n & 0xffffffffffffull));
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
	__atomic_store_n(&r->head, n + 1, __ATOMIC_RELEASE);
}

/* Event number k of r into e; false when it is being or was overwritten. */
static bool read_event(const struct xtel_fail_ring *r, uint64_t k,
		       struct xtel_fail_event *e)
{
	const struct xtel_fail_slot *s = &r->slot[k % XTEL_FAIL_RING_SLOTS];

	for (int tries = 0; tries < 4; tries++) {
		uint64_t s1 = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE), w[5];

		if (s1 & 1)
			continue;
		for (int i = 0; i < 5; i++)
			w[i] = load(&s->w[i]);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (load(&s->seq) != s1)
			continue;
		if ((w[4] & 0xffffffffffffull) != (k & 0xffffffffffffull))
			return false;	/* a newer event took the slot */
		e->time_ns = w[0];
		e->client_id = (uint32_t)w[1];
		e->reason = (uint8_t)(w[1] >> 32);
		e->family = (uint8_t)(w[1] >> 40);
		e->port = (uint16_t)(w[1] >> 48);
		memcpy(e->addr, &w[2], 8);
		memcpy(e->addr + 8, &w[3], 8);
		e->path = (uint32_t)(w[4] >> 48);
		return true;
	}
	return false;
}

static int event_cmp(const void *a, const void *b)
{
	const struct xtel_fail_event *x = a, *y = b;

	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? -1 : 1;
	return x->path < y->path ? -1 : x->path > y->path;
}

unsigned int xtel_fail_recent(const struct xtel_fail_ring *const *rings,
			      unsigned int n, struct xtel_fail_event *out,
			      unsigned int max)
{
	struct xtel_fail_event *all;
	unsigned int got = 0;

	if (n == 0 || max == 0)
		return 0;
	all = calloc((size_t)n * XTEL_FAIL_RING_SLOTS, sizeof(*all));
	if (all == NULL)
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t head = __atomic_load_n(&rings[i]->head, __ATOMIC_ACQUIRE);
		uint64_t first = head > XTEL_FAIL_RING_SLOTS ?
				 head - XTEL_FAIL_RING_SLOTS : 0;

		for (uint64_t k = first; k < head; k++)
			if (read_event(rings[i], k, &all[got]))
				got++;
	}
	qsort(all, got, sizeof(*all), event_cmp);
	if (got > max) {
		memmove(all, all + (got - max), max * sizeof(*all));
		got = max;
	}
	memcpy(out, all, got * sizeof(*all));
	free(all);
	return got;
}

void xtel_fail_format_peer(const struct xtel_fail_event *e, char *buf,
			   size_t len)
{
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};
	char a[INET6_ADDRSTRLEN];

	if (e->family == AF_INET ||
	    (e->family == AF_INET6 && memcmp(e->addr, mapped, 12) == 0)) {
		inet_ntop(AF_INET, e->family == AF_INET ? e->addr : e->addr + 12,
			  a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, e->port);
	} else if (e->family == AF_INET6) {
		inet_ntop(AF_INET6, e->addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, e->port);
	} else {
		snprintf(buf, len, "?");
	}
}
