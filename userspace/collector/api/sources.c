// SPDX-License-Identifier: MIT
/*
 * The per-source table of sources.h: 16-byte keys (IPv4 as IPv4-mapped
 * IPv6), linear probing from a hash of the key, buckets refilled lazily
 * from the time of the last request (the GCRA-like arithmetic of the XDP
 * rate limiter, in floating point: rates here are small).
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "collector/api/sources.h"

struct source {
	uint8_t addr[16];
	bool used;
	unsigned int conns;
	double tokens;
	uint64_t last_ns;		/* of the last refill; 0: never */
};

struct xtel_api_sources {
	struct xtel_api_source_cfg cfg;
	pthread_mutex_t lock;		/* guards untracked and slot[] */
	uint64_t untracked;
	struct source slot[XTEL_API_SOURCES];
};

int xtel_api_sources_new(const struct xtel_api_source_cfg *cfg,
			 struct xtel_api_sources **out)
{
	struct xtel_api_sources *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	if (s->cfg.burst == 0)
		s->cfg.burst = 1;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

void xtel_api_sources_free(struct xtel_api_sources *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void key_of(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa && sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

static uint32_t hash16(const uint8_t k[16])
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

/* Refill b's bucket up to now. */
static void refill(const struct xtel_api_sources *s, struct source *b,
		   uint64_t now_ns)
{
	if (b->last_ns && now_ns > b->last_ns)
		b->tokens += (double)(now_ns - b->last_ns) / 1e9 * s->cfg.rate;
	if (b->tokens > s->cfg.burst)
		b->tokens = s->cfg.burst;
	b->last_ns = now_ns;
}

/* True when b's bucket is full again at now (b is not changed). */
static bool full_at(const struct xtel_api_sources *s, const struct source *b,
		    uint64_t now_ns)
{
	double t = b->tokens;

	if (s->cfg.rate && b->last_ns && now_ns > b->last_ns)
		t += (double)(now_ns - b->last_ns) / 1e9 * s->cfg.rate;
	return t >= s->cfg.burst;
}

/* The slot of sa, made when create is set; NULL when none is free. */
static struct source *lookup(struct xtel_api_sources *s,
			     const struct sockaddr *sa, bool create,
			     uint64_t now_ns)
{
	uint8_t key[16];
	uint32_t h;
	struct source *free_slot = NULL, *reuse = NULL;

	key_of(sa, key);
	h = hash16(key);
	/* Probe a bounded run: a full table must not cost a full scan. */
	for (unsigned int i = 0; i < 64; i++) {
		struct source *b = &s->slot[(h + i) % XTEL_API_SOURCES];

		if (!b->used) {
			if (!free_slot)
				free_slot = b;
			continue;
		}
		if (!memcmp(b->addr, key, 16))
			return b;
		if (!reuse && now_ns && b->conns == 0 && full_at(s, b, now_ns))
			reuse = b;
	}
	if (!create)
		return NULL;
	if (!free_slot)
		free_slot = reuse;
	if (!free_slot) {
		s->untracked++;
		return NULL;
	}
	memset(free_slot, 0, sizeof(*free_slot));
	memcpy(free_slot->addr, key, 16);
	free_slot->used = true;
	free_slot->tokens = s->cfg.burst;
	return free_slot;
}

bool xtel_api_sources_may_connect(struct xtel_api_sources *s,
				  const struct sockaddr *sa)
{
	struct source *b;
	bool ok;

	pthread_mutex_lock(&s->lock);
	b = lookup(s, sa, false, 0);
	ok = !b || b->conns < s->cfg.max_conns;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void xtel_api_sources_opened(struct xtel_api_sources *s,
			     const struct sockaddr *sa)
{
	struct source *b;

	pthread_mutex_lock(&s->lock);
	b = lookup(s, sa, true, 0);
	if (b)
		b->conns++;
	pthread_mutex_unlock(&s->lock);
}

void xtel_api_sources_closed(struct xtel_api_sources *s,
			     const struct sockaddr *sa)
{
	struct source *b;

	pthread_mutex_lock(&s->lock);
	b = lookup(s, sa, false, 0);
	if (b && b->conns)
		b->conns--;
	pthread_mutex_unlock(&s->lock);
}

unsigned int xtel_api_sources_request(struct xtel_api_sources *s,
				      const struct sockaddr *sa,
				      uint64_t now_ns)
{
	unsigned int wait = 0;
	struct source *b;

	if (s->cfg.rate == 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	b = lookup(s, sa, true, now_ns);
	if (b) {
		refill(s, b, now_ns);
		if (b->tokens >= 1.0)
			b->tokens -= 1.0;
		else
			wait = (unsigned int)ceil((1.0 - b->tokens) / s->cfg.rate);
	}
	pthread_mutex_unlock(&s->lock);
	return wait;
}

uint64_t xtel_api_sources_untracked(struct xtel_api_sources *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->untracked;
	pthread_mutex_unlock(&s->lock);
	return n;
}
