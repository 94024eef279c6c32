// SPDX-License-Identifier: MIT
/*
 * Snapshot: the reader side of the registries. Lists every published record
 * of every registry, sorts the list by client id so that records of the same
 * client (seen by several workers) are adjacent, then copies each record
 * under its seqlock, merges counters, histograms and metric keys of the same
 * client, computes the latency summary from the merged histogram and adds
 * it all to the totals. The writers never wait for any of this.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "acct/record.h"
#include "acct/registry.h"
#include "acct/snapshot.h"

/* Word-wise relaxed copy: the writer may be storing to src concurrently. */
static void copy_words(void *dst, const void *src, size_t len)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

#pragma GCC unroll 8
	for (size_t i = 0; i < len / sizeof(uint64_t); i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

/*
 * The record's words but its sequence window's bitmap: no reader of a
 * snapshot needs it (lost and pending are its counts), and it is 128 of
 * the record's 424 bytes, two cache lines a client per view.
 */
enum {
	BITS_AT = offsetof(struct xtel_client, win) +
		  offsetof(struct xtel_seqwin, bits),
	BITS_END = BITS_AT + sizeof(((struct xtel_seqwin *)0)->bits),
};
_Static_assert(BITS_AT % sizeof(uint64_t) == 0, "the bitmap is word-aligned");

static void copy_record(struct xtel_client *out, const struct xtel_client *c)
{
	copy_words(out, c, BITS_AT);
	copy_words((char *)out + BITS_END, (const char *)c + BITS_END,
		   sizeof(*c) - BITS_END);
}

_Static_assert(sizeof(struct xtel_client) % sizeof(uint64_t) == 0,
	       "struct xtel_client is copied in words");
_Static_assert(sizeof(struct xtel_metric_state) % sizeof(uint64_t) == 0,
	       "struct xtel_metric_state is copied in words");

/* The writer is mid-update: let its hyperthread sibling run. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

unsigned int xtel_record_read(const struct xtel_registry *reg,
			      const struct xtel_record *r,
			      struct xtel_client *out, struct xtel_latency *lat,
			      uint64_t *hist_blocks,
			      struct xtel_metric_state *key_slots)
{
	unsigned int retries = 0;

	for (;; retries++) {
		uint32_t s1 = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		uint32_t n_keys;

		if (s1 & 1) {
			cpu_relax();
			continue;
		}
		copy_record(out, &r->c);
		xtel_latpack_expand(&out->lat, &reg->arena, lat, hist_blocks);
		n_keys = out->n_keys;
		if (n_keys > XTEL_CLIENT_MAX_KEYS)
			n_keys = XTEL_CLIENT_MAX_KEYS;
		for (unsigned int i = 0; i < n_keys; i++) {
			unsigned int c = xtel_key_chunk(i);
			const struct xtel_metric_state *k = out->keys[c];

			if (!k) {	/* torn view: the seq check rejects it */
				n_keys = i;
				break;
			}
			copy_words(&key_slots[i], &k[i - xtel_key_chunk_first(c)],
				   sizeof(key_slots[i]));
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&r->seq, __ATOMIC_RELAXED) == s1) {
			out->n_keys = n_keys;
			for (unsigned int c = 0; c < XTEL_METRIC_CHUNKS; c++)
				out->keys[c] = key_slots + xtel_key_chunk_first(c);
			return retries;
		}
	}
}

struct ref {
	uint32_t id;
	uint32_t reg;
	uint32_t idx;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	if (x->reg != y->reg)
		return x->reg < y->reg ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Sort refs by id, stably: a least-significant-digit radix sort, 11 bits
 * a pass, a pass skipped when every id has the same digit. refs come in
 * (registry, index) order, so the result is the order ref_cmp gives,
 * at a few instructions a ref instead of qsort's ~45 compares. Falls
 * back to qsort without memory for the second buffer.
 */
static void sort_refs(struct ref *refs, size_t n)
{
	enum { BITS = 11, BINS = 1 << BITS };
	struct ref *tmp = n > 1 ? malloc(n * sizeof(*tmp)) : NULL, *a = refs, *b = tmp;
	size_t *cnt;

	if (n < 2)
		return;
	cnt = tmp ? malloc(BINS * sizeof(*cnt)) : NULL;
	if (!cnt) {
		free(tmp);
		qsort(refs, n, sizeof(*refs), ref_cmp);
		return;
	}
	for (unsigned int shift = 0; shift < 32; shift += BITS) {
		size_t at = 0;

		memset(cnt, 0, BINS * sizeof(*cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(a[i].id >> shift) & (BINS - 1)]++;
		if (cnt[(a[0].id >> shift) & (BINS - 1)] == n)
			continue;	/* one digit: this pass moves nothing */
		for (unsigned int d = 0; d < BINS; d++) {
			size_t c = cnt[d];

			cnt[d] = at;
			at += c;
		}
		for (size_t i = 0; i < n; i++)
			b[cnt[(a[i].id >> shift) & (BINS - 1)]++] = a[i];
		a = b;
		b = a == refs ? tmp : refs;
	}
	if (a != refs)
		memcpy(refs, a, n * sizeof(*refs));
	free(cnt);
	free(tmp);
}

/* Encoded histograms of every client, in one allocation (like metrics). */
struct hist_pool {
	uint8_t *v;
	size_t n, cap;
};

/* Append h's encoding; d's lat_hist gets the offset until the pool is done. */
static int hist_add(struct hist_pool *p, const struct xtel_latency *h,
		    struct xtel_client_snap *d)
{
	size_t max = xtel_latency_encoded_max(h);

	if (p->n + max > p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 65536;
		uint8_t *nv;

		while (ncap < p->n + max)
			ncap *= 2;
		nv = realloc(p->v, ncap);
		if (!nv)
			return -ENOMEM;
		p->v = nv;
		p->cap = ncap;
	}
	d->lat_hist_len = (uint32_t)xtel_latency_encode(h, p->v + p->n);
	d->lat_hist = (const uint8_t *)(uintptr_t)p->n;
	p->n += d->lat_hist_len;
	return 0;
}

/* Scratch space for one snapshot. */
struct scratch {
	struct xtel_client rec;
	struct xtel_latency lat;	/* rec's histogram, expanded into blocks */
	uint64_t blocks[XTEL_LAT_GROUPS * XTEL_LAT_SUB];
	struct xtel_metric_state keys[XTEL_CLIENT_MAX_KEYS];
	struct xtel_latency merged;	/* this client, all registries */
	struct xtel_latency total;	/* every client */
	struct xtel_metric_snap msnap[XTEL_CLIENT_MAX_KEYS];
	uint32_t n_msnap;
	xtel_snapshot_lat_fn *lat_fn;	/* NULL: nobody wants the histograms */
	void *lat_arg;
};

static void add_counters(struct xtel_client_snap *d, const struct xtel_client *c,
			 bool final)
{
	const struct xtel_seqwin *w = &c->win;

	d->epochs += c->epochs;
	d->received += xtel_client_received(c);
	d->bytes += c->bytes;
	if (final) {
		d->lost += xtel_seqwin_final_lost(w);
	} else {
		d->lost += w->lost;
		d->pending += w->pending;
	}
	d->duplicates += w->duplicates;
	d->reordered += w->reordered;
	d->too_late += w->too_late;
	for (unsigned int t = 0; t <= XTEL_MSG_TYPE_MAX; t++)
		d->by_type[t] += c->by_type[t];
	if (c->first_seen_ns &&
	    (d->first_seen_ns == 0 || c->first_seen_ns < d->first_seen_ns))
		d->first_seen_ns = c->first_seen_ns;
	if (c->last_seen_ns > d->last_seen_ns)
		d->last_seen_ns = c->last_seen_ns;
	if (w->highest_rx > d->highest_seq)
		d->highest_seq = w->highest_rx;
	if (c->bye_seen)
		d->bye_seen = true;
	d->metrics_dropped += c->metrics_dropped;
}

/* Fold one record's metric keys into the client's list (same key: merge). */
static void add_metrics(struct scratch *s, const struct xtel_client *c,
			uint64_t now_ivl)
{
	for (uint32_t i = 0; i < c->n_keys; i++) {
		const struct xtel_metric_state *m = xtel_client_key(c, i);
		struct xtel_metric_snap *d = NULL;
		struct xtel_metric_ivl ivl;

		/* One registry interns a name once: the same pointer is the
		 * same key; another registry's copy compares by its text. */
		for (uint32_t j = 0; j < s->n_msnap && !d; j++)
			if (s->msnap[j].key == m->key)
				d = &s->msnap[j];
		for (uint32_t j = 0; j < s->n_msnap && !d; j++)
			if (strcmp(s->msnap[j].key, m->key) == 0)
				d = &s->msnap[j];
		if (!d) {
			if (s->n_msnap == XTEL_CLIENT_MAX_KEYS)
				continue;	/* a second worker saw other keys */
			d = &s->msnap[s->n_msnap++];
			memset(d, 0, sizeof(*d));
			d->key = m->key;	/* the registry's, not a copy */
		}
		if (d->last_ts_ns == 0 || m->last_ts_ns >= d->last_ts_ns) {
			d->last = m->last;
			d->last_ts_ns = m->last_ts_ns;
		}
		xtel_metric_last_interval(m, now_ivl, &ivl);
		if (!ivl.count)
			continue;
		if (d->count == 0 || ivl.min < d->min)
			d->min = ivl.min;
		if (d->count == 0 || ivl.max > d->max)
			d->max = ivl.max;
		/* mean holds the running sum until the client is complete */
		d->mean += ivl.sum;
		d->count += ivl.count;
	}
}

/*
 * Every published record of every registry as (client id, registry,
 * index), sorted by id so a client seen by several workers is adjacent.
 * Each registry's count is read once: records published after this point
 * wait for the next snapshot. *n_keys is the records' metric keys at this
 * moment (a record gains keys, never loses them): what the metric pool
 * will hold, unless a writer adds keys meanwhile, less the keys that
 * workers seeing the same client share.
 */
static int collect_refs(struct xtel_registry *const *regs, unsigned int n,
			struct ref **out, size_t *n_out, uint64_t *registry_full,
			size_t *n_keys)
{
	size_t cap = 0, n_refs = 0;
	uint32_t *counts = calloc(n ? n : 1, sizeof(*counts));
	struct ref *refs;

	if (!counts)
		return -ENOMEM;
	for (unsigned int r = 0; r < n; r++) {
		counts[r] = xtel_registry_count(regs[r]);
		cap += counts[r];
	}
	refs = malloc((cap ? cap : 1) * sizeof(*refs));
	if (!refs) {
		free(counts);
		return -ENOMEM;
	}
	for (unsigned int r = 0; r < n; r++) {
		for (uint32_t i = 0; i < counts[r]; i++) {
			const struct xtel_record *rec = xtel_registry_record(regs[r], i);
			uint32_t k = __atomic_load_n(&rec->c.n_keys, __ATOMIC_RELAXED);

			*n_keys += k < XTEL_CLIENT_MAX_KEYS ? k : XTEL_CLIENT_MAX_KEYS;
			refs[n_refs].id = rec->c.client_id;
			refs[n_refs].reg = r;
			refs[n_refs].idx = i;
			n_refs++;
		}
		*registry_full +=
			__atomic_load_n(&regs[r]->registry_full, __ATOMIC_RELAXED);
	}
	free(counts);
	sort_refs(refs, n_refs);
	*out = refs;
	*n_out = n_refs;
	return 0;
}

/*
 * Copy and merge the records refs[*i..] of one client into d (counters,
 * latency summary, metrics in s->msnap) and fold its latency into the
 * total; *i moves past them. Returns 0 or -ENOMEM.
 */
static int read_client(struct scratch *s, struct xtel_registry *const *regs,
		       const struct ref *refs, size_t n_refs, size_t *i,
		       bool final, uint64_t now_ivl, struct hist_pool *hp,
		       struct xtel_client_snap *d, const struct xtel_latency **hist)
{
	uint32_t id = refs[*i].id;

	memset(d, 0, sizeof(*d));
	d->client_id = id;
	s->n_msnap = 0;
	if (*i + 1 == n_refs || refs[*i + 1].id != id) {
		/* The common case: one worker saw this client. Its copied
		 * histogram is summarised as is, no merge. */
		xtel_record_read(regs[refs[*i].reg],
				 xtel_registry_record(regs[refs[*i].reg],
						      refs[*i].idx),
				 &s->rec, &s->lat, s->blocks, s->keys);
		add_counters(d, &s->rec, final);
		add_metrics(s, &s->rec, now_ivl);
		xtel_latency_summary(&s->lat, &d->lat);
		*hist = &s->lat;
		if (s->lat_fn)
			s->lat_fn(s->lat_arg, id, &s->lat);
		(*i)++;
		if (hp && hist_add(hp, &s->lat, d))
			return -ENOMEM;
		return xtel_latency_merge(&s->total, &s->lat) ? -ENOMEM : 0;
	}
	xtel_latency_reset(&s->merged);
	for (; *i < n_refs && refs[*i].id == id; (*i)++) {
		const struct xtel_record *rec = xtel_registry_record(
			regs[refs[*i].reg], refs[*i].idx);

		xtel_record_read(regs[refs[*i].reg], rec, &s->rec, &s->lat,
				 s->blocks, s->keys);
		add_counters(d, &s->rec, final);
		if (xtel_latency_merge(&s->merged, &s->lat))
			return -ENOMEM;
		add_metrics(s, &s->rec, now_ivl);
	}
	xtel_latency_summary(&s->merged, &d->lat);
	*hist = &s->merged;
	if (s->lat_fn)
		s->lat_fn(s->lat_arg, id, &s->merged);
	if (hp && hist_add(hp, &s->merged, d))
		return -ENOMEM;
	return xtel_latency_merge(&s->total, &s->merged) ? -ENOMEM : 0;
}

/* The metric snapshots of every client, in one allocation. */
struct metric_pool {
	struct xtel_metric_snap *v;
	size_t n, cap;
};

/*
 * Append the client's finished metrics (s->msnap, means still sums) to the
 * pool. d->metrics gets the offset: the pool may still move, so pointers
 * are set once it is complete. The pool starts at the keys the records
 * held when the snapshot began (collect_refs); it grows only when writers
 * added keys since.
 */
static int pool_add(struct metric_pool *p, struct scratch *s,
		    struct xtel_client_snap *d)
{
	if (!s->n_msnap)
		return 0;
	if (p->n + s->n_msnap > p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 1024;
		struct xtel_metric_snap *nv;

		while (ncap < p->n + s->n_msnap)
			ncap *= 2;
		nv = realloc(p->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		p->v = nv;
		p->cap = ncap;
	}
	for (uint32_t k = 0; k < s->n_msnap; k++) {
		struct xtel_metric_snap *m = &s->msnap[k];

		m->mean = m->count ? m->mean / (double)m->count : 0;
	}
	memcpy(p->v + p->n, s->msnap, s->n_msnap * sizeof(*p->v));
	d->metrics = (struct xtel_metric_snap *)(uintptr_t)p->n;
	d->n_metrics = s->n_msnap;
	p->n += s->n_msnap;
	return 0;
}

/* The non-empty buckets of every client, in one allocation. */
struct bucket_pool {
	struct xtel_lat_bucket *v;
	size_t n, cap;
};

/* Append h's non-empty buckets; d->buckets gets the offset (see pool_add). */
static int buckets_add(struct bucket_pool *p, const struct xtel_latency *h,
		       struct xtel_client_snap *d)
{
	size_t first = p->n;

	d->lat_overflow = h->overflow;
	for (unsigned int g = 0; g < XTEL_LAT_GROUPS; g++) {
		const uint64_t *b = h->blocks[g];

		if (!b)
			continue;
		for (unsigned int k = 0; k < XTEL_LAT_SUB; k++) {
			if (!b[k])
				continue;
			if (p->n == p->cap) {
				size_t ncap = p->cap ? p->cap * 2 : 4096;
				struct xtel_lat_bucket *nv =
					realloc(p->v, ncap * sizeof(*nv));

				if (!nv)
					return -ENOMEM;
				p->v = nv;
				p->cap = ncap;
			}
			p->v[p->n++] = (struct xtel_lat_bucket){
				.idx = g * XTEL_LAT_SUB + k, .count = b[k] };
		}
	}
	d->buckets = (const struct xtel_lat_bucket *)(uintptr_t)first;
	d->n_buckets = (uint32_t)(p->n - first);
	return 0;
}

/* p cut to bytes (> 0), or p as it was when realloc cannot. */
static void *shrink(void *p, size_t bytes)
{
	void *n;

	if (!p || !bytes)
		return p;
	n = realloc(p, bytes);
	return n ? n : p;
}

void xtel_client_snap_add(struct xtel_client_snap *t,
			  const struct xtel_client_snap *d)
{
	t->epochs += d->epochs;
	t->received += d->received;
	t->bytes += d->bytes;
	t->lost += d->lost;
	t->pending += d->pending;
	t->duplicates += d->duplicates;
	t->reordered += d->reordered;
	t->too_late += d->too_late;
	for (unsigned int k = 0; k <= XTEL_MSG_TYPE_MAX; k++)
		t->by_type[k] += d->by_type[k];
	if (d->first_seen_ns && (t->first_seen_ns == 0 ||
				 d->first_seen_ns < t->first_seen_ns))
		t->first_seen_ns = d->first_seen_ns;
	if (d->last_seen_ns > t->last_seen_ns)
		t->last_seen_ns = d->last_seen_ns;
	if (d->highest_seq > t->highest_seq)
		t->highest_seq = d->highest_seq;
	t->metrics_dropped += d->metrics_dropped;
}

int xtel_snapshot_take(struct xtel_registry *const *regs, unsigned int n,
		       uint64_t now_ns, uint64_t stale_after_ns, bool final,
		       struct xtel_snapshot *out)
{
	return xtel_snapshot_take_ex(regs, n, now_ns, stale_after_ns, final,
				     NULL, out);
}

int xtel_snapshot_take_ex(struct xtel_registry *const *regs, unsigned int n,
			  uint64_t now_ns, uint64_t stale_after_ns, bool final,
			  const struct xtel_snapshot_opts *opts,
			  struct xtel_snapshot *out)
{
	unsigned int flags = opts ? opts->flags : 0;
	bool with_buckets = flags & XTEL_SNAP_LAT_BUCKETS;
	struct ref *refs = NULL;
	struct scratch *s = NULL;
	struct metric_pool pool = { 0 };
	struct bucket_pool bpool = { 0 };
	struct hist_pool hpool = { 0 };
	struct hist_pool *hp = flags & XTEL_SNAP_LAT_HIST ? &hpool : NULL;
	size_t n_refs = 0, i = 0, n_keys = 0;
	uint32_t n_clients = 0, c;
	uint64_t now_ivl = xtel_interval_current();
	int err;

	memset(out, 0, sizeof(*out));
	out->taken_ns = now_ns;
	err = collect_refs(regs, n, &refs, &n_refs, &out->registry_full, &n_keys);
	if (err)
		return err;
	err = -ENOMEM;
	if (n_keys) {
		/* sized once: no doubling, no realloc copy on the way */
		pool.v = malloc(n_keys * sizeof(*pool.v));
		if (!pool.v)
			goto out;
		pool.cap = n_keys;
	}
	for (size_t k = 0; k < n_refs; k++)
		if (k == 0 || refs[k].id != refs[k - 1].id)
			n_clients++;
	s = calloc(1, sizeof(*s));
	/* not calloc: read_client() clears each entry it fills, and the
	 * array is only ever read up to the clients filled */
	out->clients = malloc((n_clients ? n_clients : 1) * sizeof(*out->clients));
	if (!s || !out->clients)
		goto out;
	xtel_latency_init(&s->merged);
	xtel_latency_init(&s->total);
	if (opts) {
		s->lat_fn = opts->lat;
		s->lat_arg = opts->lat_arg;
	}

	for (c = 0; i < n_refs; c++) {
		struct xtel_client_snap *d = &out->clients[c];
		const struct xtel_latency *hist = NULL;

		if (read_client(s, regs, refs, n_refs, &i, final, now_ivl, hp, d,
				&hist) ||
		    pool_add(&pool, s, d) ||
		    (with_buckets && buckets_add(&bpool, hist, d)))
			goto out;
		d->stale = now_ns > d->last_seen_ns &&
			   now_ns - d->last_seen_ns > stale_after_ns;
		xtel_client_snap_add(&out->total, d);
	}
	/* The bucket and histogram pools grew by doubling, the metric pool
	 * may hold fewer keys than the records (workers sharing a client): a
	 * view lives for an interval or more, so the unused tail goes back
	 * before pointers are set. */
	pool.v = shrink(pool.v, pool.n * sizeof(*pool.v));
	bpool.v = shrink(bpool.v, bpool.n * sizeof(*bpool.v));
	for (c = 0; c < n_clients; c++)
		if (out->clients[c].n_metrics)
			out->clients[c].metrics =
				pool.v + (uintptr_t)out->clients[c].metrics;
	for (c = 0; with_buckets && c < n_clients; c++)
		out->clients[c].buckets = out->clients[c].n_buckets ?
			bpool.v + (uintptr_t)out->clients[c].buckets : NULL;
	xtel_latency_summary(&s->total, &out->total.lat);
	if (hp) {
		if (hist_add(hp, &s->total, &out->total))
			goto out;
		hpool.v = shrink(hpool.v, hpool.n);
		for (c = 0; c < n_clients; c++)
			out->clients[c].lat_hist =
				hpool.v + (uintptr_t)out->clients[c].lat_hist;
		out->total.lat_hist = hpool.v + (uintptr_t)out->total.lat_hist;
		out->hist_pool = hpool.v;
		hpool.v = NULL;
	}
	out->n_clients = n_clients;
	out->metrics_pool = pool.v;
	out->buckets_pool = bpool.v;
	pool.v = NULL;
	bpool.v = NULL;
	err = 0;
out:
	if (err) {
		free(out->clients);
		out->clients = NULL;
	}
	if (s) {
		xtel_latency_destroy(&s->merged);
		xtel_latency_destroy(&s->total);
	}
	free(pool.v);
	free(bpool.v);
	free(hpool.v);
	free(s);
	free(refs);
	return err;
}

void xtel_snapshot_free(struct xtel_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->clients);
	free(snap->metrics_pool);
	free(snap->buckets_pool);
	free(snap->hist_pool);
	memset(snap, 0, sizeof(*snap));
}
