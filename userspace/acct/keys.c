// SPDX-License-Identifier: MIT
/*
 * Interned metric key names of a registry (see keys.h): FNV-1a over the
 * name, linear probing, entries in the arena.
 */
#include <stdlib.h>
#include <string.h>

#include "acct/keys.h"
#include "bpf/xtel_wire.h"

enum { KEYS_MIN = 64 };

void xtel_keys_init(struct xtel_keys *t)
{
	memset(t, 0, sizeof(*t));
}

void xtel_keys_destroy(struct xtel_keys *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static uint32_t hash_key(const char *key, unsigned int len)
{
	uint32_t h = 2166136261u;

	for (unsigned int i = 0; i < len; i++)
		h = (h ^ (uint8_t)key[i]) * 16777619u;
	return h;
}

static void put(struct xtel_key_slot *slots, uint32_t mask, uint32_t hash,
		const char *key)
{
	uint32_t i = hash & mask;

	while (slots[i].key)
		i = (i + 1) & mask;
	slots[i].hash = hash;
	slots[i].key = key;
}

static int grow(struct xtel_keys *t)
{
	uint32_t n = t->slots ? (t->mask + 1) * 2 : KEYS_MIN;
	struct xtel_key_slot *s = calloc(n, sizeof(*s));

	if (!s)
		return -1;
	for (uint32_t i = 0; t->slots && i <= t->mask; i++)
		if (t->slots[i].key)
			put(s, n - 1, t->slots[i].hash, t->slots[i].key);
	free(t->slots);
	t->slots = s;
	t->mask = n - 1;
	return 0;
}

const char *xtel_keys_intern(struct xtel_keys *t, struct xtel_arena *a,
			     const char *key, unsigned int len)
{
	uint32_t h = hash_key(key, len), i;
	void *p;

	for (i = t->slots ? h & t->mask : 0; t->slots && t->slots[i].key;
	     i = (i + 1) & t->mask) {
		const char *k = t->slots[i].key;

		if (t->slots[i].hash == h && !memcmp(k, key, len) && !k[len])
			return k;
	}
	if ((!t->slots || (t->used + 1) * 2 > t->mask + 1) && grow(t))
		return NULL;
	if (!xtel_arena_alloc(a, XTEL_MAX_KEY_LEN + 1, XTEL_ARENA_METRICS, &p))
		return NULL;
	memcpy(p, key, len);	/* the rest is zero */
	put(t->slots, t->mask, h, p);
	t->used++;
	return p;
}

uint64_t xtel_keys_bytes(const struct xtel_keys *t)
{
	return t->slots ? (uint64_t)(t->mask + 1) * sizeof(*t->slots) : 0;
}
