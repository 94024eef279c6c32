// SPDX-License-Identifier: MIT
/*
 * The applied interval sets (ranges.h): a hash table of edge runs, each a
 * sorted array of ranges found by binary search. Adding a position puts
 * it in as a range of its own and merges it with its neighbours when
 * adjacent, so the common case (the next message of a run) extends the
 * last range in place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector/agg/ranges.h"

static uint64_t key_hash(const char *k, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)k[i]) * 1099511628211ULL;
	return h;
}

static bool key_eq(const struct xtel_agg_runset *s, const char *k, size_t len)
{
	return !strncmp(s->key, k, len) && s->key[len] == '\0';
}

void xtel_agg_ranges_init(struct xtel_agg_ranges *rs)
{
	memset(rs, 0, sizeof(*rs));
}

void xtel_agg_ranges_fini(struct xtel_agg_ranges *rs)
{
	for (uint64_t i = 0; rs->slot && i <= rs->mask; i++) {
		if (!rs->slot[i])
			continue;
		free(rs->slot[i]->key);
		free(rs->slot[i]->r);
		free(rs->slot[i]);
	}
	free(rs->slot);
	free(rs->dirty);
	memset(rs, 0, sizeof(*rs));
}

static struct xtel_agg_runset *find(const struct xtel_agg_ranges *rs,
				    const char *k, size_t len)
{
	if (!rs->slot)
		return NULL;
	for (uint64_t i = key_hash(k, len) & rs->mask; rs->slot[i];
	     i = (i + 1) & rs->mask)
		if (key_eq(rs->slot[i], k, len))
			return rs->slot[i];
	return NULL;
}

static int grow(struct xtel_agg_ranges *rs)
{
	uint64_t mask = rs->mask ? rs->mask * 2 + 1 : 63;
	struct xtel_agg_runset **n = calloc(mask + 1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (uint64_t i = 0; rs->slot && i <= rs->mask; i++) {
		uint64_t k;

		if (!rs->slot[i])
			continue;
		k = key_hash(rs->slot[i]->key, strlen(rs->slot[i]->key)) & mask;
		while (n[k])
			k = (k + 1) & mask;
		n[k] = rs->slot[i];
	}
	free(rs->slot);
	rs->slot = n;
	rs->mask = mask;
	return 0;
}

/* The run's set, created empty when missing; NULL: -ENOMEM. */
static struct xtel_agg_runset *get(struct xtel_agg_ranges *rs, const char *k,
				   size_t len)
{
	struct xtel_agg_runset *s = find(rs, k, len);
	uint64_t i;

	if (s)
		return s;
	if ((rs->n_sets + 1) * 2 > rs->mask + 1 && grow(rs))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->key = strndup(k, len))) {
		free(s);
		return NULL;
	}
	for (i = key_hash(k, len) & rs->mask; rs->slot[i]; i = (i + 1) & rs->mask)
		;
	rs->slot[i] = s;
	rs->n_sets++;
	return s;
}

static int pos_cmp(uint64_t sa, uint32_t pa, uint64_t sb, uint32_t pb)
{
	if (sa != sb)
		return sa < sb ? -1 : 1;
	return pa < pb ? -1 : pa > pb;
}

/* Whether b begins right after a ends: nothing can lie between them. */
static bool adjacent(const struct xtel_agg_range *a, const struct xtel_agg_range *b)
{
	if (a->hi_seq == b->lo_seq)
		return a->hi_part != UINT32_MAX && a->hi_part + 1 == b->lo_part;
	return a->hi_seq != UINT64_MAX && a->hi_seq + 1 == b->lo_seq &&
	       b->lo_part == 0 && a->hi_parts && a->hi_part + 1 == a->hi_parts;
}

/* The first range whose end is at or after (seq, part): 0..n. */
static uint32_t lower(const struct xtel_agg_runset *s, uint64_t seq, uint32_t part)
{
	uint32_t lo = 0, hi = s->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (pos_cmp(s->r[mid].hi_seq, s->r[mid].hi_part, seq, part) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool set_has(const struct xtel_agg_runset *s, uint64_t seq, uint32_t part)
{
	uint32_t i = lower(s, seq, part);

	return i < s->n &&
	       pos_cmp(s->r[i].lo_seq, s->r[i].lo_part, seq, part) <= 0;
}

bool xtel_agg_ranges_has(const struct xtel_agg_ranges *rs, const char *key,
			 size_t key_len, uint64_t seq, uint32_t part)
{
	const struct xtel_agg_runset *s = find(rs, key, key_len);

	return s && set_has(s, seq, part);
}

/* Ranges i and i+1 into one when adjacent; whether they were. */
static bool merge_next(struct xtel_agg_ranges *rs, struct xtel_agg_runset *s,
		       uint32_t i)
{
	if (i + 1 >= s->n || !adjacent(&s->r[i], &s->r[i + 1]))
		return false;
	s->r[i].hi_seq = s->r[i + 1].hi_seq;
	s->r[i].hi_part = s->r[i + 1].hi_part;
	s->r[i].hi_parts = s->r[i + 1].hi_parts;
	memmove(&s->r[i + 1], &s->r[i + 2], (s->n - i - 2) * sizeof(*s->r));
	s->n--;
	rs->n_ranges--;
	return true;
}

static int insert_at(struct xtel_agg_ranges *rs, struct xtel_agg_runset *s,
		     uint32_t i, const struct xtel_agg_range *r)
{
	if (s->n == s->cap) {
		uint32_t ncap = s->cap ? s->cap * 2 : 4;
		struct xtel_agg_range *n = realloc(s->r, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->r = n;
		s->cap = ncap;
	}
	memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
	s->r[i] = *r;
	s->n++;
	rs->n_ranges++;
	return 0;
}

static int mark_dirty(struct xtel_agg_ranges *rs, struct xtel_agg_runset *s)
{
	if (s->dirty)
		return 0;
	if (rs->n_dirty == rs->cap_dirty) {
		size_t ncap = rs->cap_dirty ? rs->cap_dirty * 2 : 16;
		struct xtel_agg_runset **n = realloc(rs->dirty, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		rs->dirty = n;
		rs->cap_dirty = ncap;
	}
	rs->dirty[rs->n_dirty++] = s;
	s->dirty = true;
	return 0;
}

int xtel_agg_ranges_add(struct xtel_agg_ranges *rs, const char *key,
			size_t key_len, uint64_t seq, uint32_t part,
			uint32_t parts)
{
	struct xtel_agg_range r = { .lo_seq = seq, .hi_seq = seq, .lo_part = part,
				    .hi_part = part, .hi_parts = parts };
	struct xtel_agg_runset *s;
	uint32_t i;
	int err;

	if (parts && part >= parts)
		return -EINVAL;
	s = get(rs, key, key_len);
	if (!s)
		return -ENOMEM;
	i = lower(s, seq, part);
	if (i < s->n && pos_cmp(s->r[i].lo_seq, s->r[i].lo_part, seq, part) <= 0)
		return 1;
	err = mark_dirty(rs, s);
	if (!err)
		err = insert_at(rs, s, i, &r);
	if (err)
		return err;
	/* what this message tells of its seq: the range before may end there */
	if (i > 0 && parts && !s->r[i - 1].hi_parts && s->r[i - 1].hi_seq == seq)
		s->r[i - 1].hi_parts = parts;
	merge_next(rs, s, i);
	if (i > 0 && merge_next(rs, s, i - 1))
		i--;
	/*
	 * A merge takes the parts of the right-hand range, unknown when it
	 * was migrated and ends in this seq: the message tells them, so the
	 * range holding (seq, part), r[i], can join the next seq (now or
	 * when it comes).
	 */
	if (parts && !s->r[i].hi_parts && s->r[i].hi_seq == seq &&
	    s->r[i].hi_part < parts) {
		s->r[i].hi_parts = parts;
		merge_next(rs, s, i);
	}
	return 0;
}

int xtel_agg_ranges_load(struct xtel_agg_ranges *rs, const char *key,
			 const struct xtel_agg_range *r)
{
	struct xtel_agg_runset *s;
	const struct xtel_agg_range *last;
	bool after;

	if (pos_cmp(r->lo_seq, r->lo_part, r->hi_seq, r->hi_part) > 0 ||
	    (r->hi_parts && r->hi_part >= r->hi_parts))
		return -EINVAL;
	s = get(rs, key, strlen(key));
	if (!s)
		return -ENOMEM;
	last = s->n ? &s->r[s->n - 1] : NULL;
	if (last && pos_cmp(last->hi_seq, last->hi_part, r->lo_seq, r->lo_part) >= 0)
		return -EINVAL;
	after = last != NULL;
	if (insert_at(rs, s, s->n, r))
		return -ENOMEM;
	if (after)
		merge_next(rs, s, s->n - 2);
	return 0;
}

void xtel_agg_ranges_clean(struct xtel_agg_ranges *rs)
{
	for (size_t i = 0; i < rs->n_dirty; i++)
		rs->dirty[i]->dirty = false;
	rs->n_dirty = 0;
}
