/* SPDX-License-Identifier: MIT */
/*
 * A registry's metric key names, each kept once: a client's key slot
 * points at the registry's copy instead of holding 33 bytes of its own, as
 * a fleet's clients send the same few keys. Entries come from the
 * registry's arena, are NUL-padded to XTEL_MAX_KEY_LEN + 1 bytes and are
 * never changed or freed while the registry lives, so a reader that copied
 * a slot consistently may read its key at any time. The hash from name to
 * entry is the writer's alone (open addressing, doubled at half full).
 * Bounded like the slots themselves: at most XTEL_CLIENT_MAX_KEYS new
 * names per client.
 */
#ifndef XTEL_KEYS_H
#define XTEL_KEYS_H

#include <stdint.h>

#include "acct/arena.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xtel_keys {
	struct xtel_key_slot {
		uint32_t hash;
		uint32_t pad_;
		const char *key;	/* NULL: empty */
	} *slots;
	uint32_t mask;
	uint32_t used;
};

void xtel_keys_init(struct xtel_keys *t);
void xtel_keys_destroy(struct xtel_keys *t);

/*
 * The registry's copy of key[0..len) (len <= XTEL_MAX_KEY_LEN), made in a
 * if new; NULL when memory ran out.
 */
const char *xtel_keys_intern(struct xtel_keys *t, struct xtel_arena *a,
			     const char *key, unsigned int len);

/* Bytes of the hash (the entries are the arena's, XTEL_ARENA_METRICS). */
uint64_t xtel_keys_bytes(const struct xtel_keys *t);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_KEYS_H */
