// SPDX-License-Identifier: MIT
/*
 * Packed latency histogram (acct/latpack.c) and the block arena under it
 * (acct/arena.c): recorded next to the dense histogram (acct/latency.c)
 * the packed one expands to exactly the same buckets and totals and so to
 * byte-identical store encodings and equal merges, across counter
 * promotion from 2 to 64 bits, directory growth to all 32 pages, the
 * overflow bucket and negative samples; the arena reuses what was freed,
 * merging freed neighbours,
 * counts every byte and refuses handles outside its chunks; and a reader
 * snapshotting while the writer grows and promotes pages always sees a
 * histogram whose buckets add up to its count.
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acct/arena.h"
#include "acct/latpack.h"
#include "acct/registry.h"
#include "acct/snapshot.h"
#include "xorshift.h"

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rng(void)
{
	return xtel_xorshift64(&rng_state);
}

/* A packed histogram with its arena and the dense reference beside it. */
struct pair {
	struct xtel_arena a;
	struct xtel_latpack p;
	struct xtel_latency ref;
	struct xtel_latency view;	/* p expanded */
	uint64_t blocks[XTEL_LAT_BUCKETS];
};

static struct pair *pair_new(void)
{
	struct pair *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	assert_int_equal(xtel_arena_init(&x->a, 1 << 24), 0);
	xtel_latpack_init(&x->p);
	xtel_latency_init(&x->ref);
	return x;
}

static void pair_free(struct pair *x)
{
	xtel_latency_destroy(&x->ref);
	xtel_arena_destroy(&x->a);
	free(x);
}

static void record(struct pair *x, int64_t ns)
{
	assert_int_equal(xtel_latpack_record(&x->p, &x->a, ns), 0);
	assert_int_equal(xtel_latency_record(&x->ref, ns), 0);
}

static void add(struct pair *x, unsigned int idx, uint64_t n)
{
	assert_int_equal(xtel_latpack_add_bucket(&x->p, &x->a, idx, n), 0);
	assert_int_equal(xtel_latency_add_bucket(&x->ref, idx, n), 0);
}

/* Expanded equals the reference: totals, every bucket, the encoding. */
static void check_equal(struct pair *x)
{
	const struct xtel_latency *r = &x->ref, *v = &x->view;
	size_t max;
	uint8_t *e1, *e2;
	size_t n1, n2;

	xtel_latpack_expand(&x->p, &x->a, &x->view, x->blocks);
	assert_int_equal(v->count, r->count);
	assert_int_equal(v->negative, r->negative);
	assert_int_equal(v->overflow, r->overflow);
	assert_int_equal(v->sum, r->sum);
	assert_int_equal(v->min, r->min);
	assert_int_equal(v->max, r->max);
	for (unsigned int g = 0; g < XTEL_LAT_GROUPS; g++)
		for (unsigned int k = 0; k < XTEL_LAT_SUB; k++)
			assert_int_equal(v->blocks[g] ? v->blocks[g][k] : 0,
					 r->blocks[g] ? r->blocks[g][k] : 0);
	/* the expansion names exactly the 16-bucket pages with a count, as
	 * the dense form does, and its groups are the packed form's pages */
	assert_memory_equal(v->pages, r->pages, sizeof(v->pages));
	assert_true(v->groups == x->p.mask);
	max = xtel_latency_encoded_max(r);
	assert_true(xtel_latency_encoded_max(v) <= max);
	e1 = malloc(max);
	e2 = malloc(max);
	assert_non_null(e1);
	assert_non_null(e2);
	n1 = xtel_latency_encode(r, e1);
	n2 = xtel_latency_encode(v, e2);
	assert_int_equal(n1, n2);
	assert_memory_equal(e1, e2, n1);
	free(e1);
	free(e2);
}

static void test_random_equal(void **state)
{
	struct pair *x = pair_new();

	(void)state;
	check_equal(x);		/* empty */
	for (int i = 0; i < 200000; i++) {
		uint64_t r = rng();
		int64_t v;

		switch (r % 8) {
		case 0: v = (int64_t)(r >> 8) % 128; break;	/* exact range */
		case 1: v = -(int64_t)(r >> 40) - 1; break;	/* skew */
		case 2: v = (int64_t)XTEL_LAT_OVERFLOW_NS + (int64_t)(r >> 40);
			break;
		default:
			/* log-uniform over the whole range */
			v = (int64_t)((r >> 32) % (1ULL << (r >> 3) % 37));
		}
		record(x, v);
		if (i % 20000 == 0)
			check_equal(x);
	}
	check_equal(x);
	/* Every page of the index space: the directory reaches 32. */
	for (unsigned int idx = 0; idx < XTEL_LAT_BUCKETS; idx += 7)
		add(x, idx, 1);
	check_equal(x);
	pair_free(x);
}

/* One bucket through every width: 3/4, 15/16, 255/256, 65535/65536,
 * 2^32-1/2^32. A page is 64 counters, its directory 4 entries (16 bytes). */
static void test_promotion_exact(void **state)
{
	struct pair *x = pair_new();
	const unsigned int b = 1000;	/* a bucket in the middle of a page */

	(void)state;
	record(x, (int64_t)xtel_latency_bucket_lower(b - 1));	/* a neighbour */
	for (int i = 0; i < 3; i++)
		record(x, (int64_t)xtel_latency_bucket_lower(b));
	check_equal(x);
	assert_int_equal(xtel_latpack_bytes(&x->p, &x->a), 16 + 16);
	record(x, (int64_t)xtel_latency_bucket_lower(b));	/* 4: 4 bits */
	check_equal(x);
	assert_int_equal(xtel_latpack_bytes(&x->p, &x->a), 16 + 32);
	add(x, b, 15 - 4);
	check_equal(x);
	assert_int_equal(xtel_latpack_bytes(&x->p, &x->a), 16 + 32);
	record(x, (int64_t)xtel_latency_bucket_lower(b));	/* 16: u8 */
	check_equal(x);
	assert_int_equal(xtel_latpack_bytes(&x->p, &x->a), 16 + 64);
	add(x, b, 255 - 16);
	check_equal(x);
	assert_int_equal(xtel_latpack_bytes(&x->p, &x->a), 16 + 64);
	record(x, (int64_t)xtel_latency_bucket_lower(b));	/* 256: u16 */
	check_equal(x);
	assert_int_equal(xtel_latpack_bytes(&x->p, &x->a), 16 + 128);
	add(x, b, 65535 - 256);
	check_equal(x);
	add(x, b, 1);					/* 65536: u32 */
	check_equal(x);
	assert_int_equal(xtel_latpack_bytes(&x->p, &x->a), 16 + 256);
	add(x, b, 0xFFFFFFFFULL - 65536);
	check_equal(x);
	add(x, b, 1);					/* 2^32: u64 */
	check_equal(x);
	assert_int_equal(xtel_latpack_bytes(&x->p, &x->a), 16 + 512);
	add(x, b, 1ULL << 40);
	check_equal(x);
	/* A jump straight past several widths, in a new page. */
	add(x, b + 100, 1ULL << 33);
	check_equal(x);
	assert_int_equal(xtel_latpack_bytes(&x->p, &x->a), 16 + 512 + 512);
	/* Freed narrow pages are counted back: live = what is in use. */
	assert_int_equal(x->a.live[XTEL_ARENA_HIST],
			 xtel_latpack_bytes(&x->p, &x->a));
	pair_free(x);
}

/* Merging expansions equals recording everything into one histogram. */
static void test_merge_equal(void **state)
{
	struct pair *a = pair_new(), *b = pair_new(), *all = pair_new();
	struct xtel_latency m;

	(void)state;
	for (int i = 0; i < 50000; i++) {
		int64_t v = 20000 + (int64_t)(rng() % 3000000);

		record(i % 3 ? a : b, v);
		record(all, v);
	}
	check_equal(a);
	check_equal(b);
	check_equal(all);
	xtel_latency_init(&m);
	assert_int_equal(xtel_latency_merge(&m, &a->view), 0);
	assert_int_equal(xtel_latency_merge(&m, &b->view), 0);
	assert_int_equal(m.count, all->ref.count);
	assert_int_equal(m.sum, all->ref.sum);
	assert_int_equal(m.min, all->ref.min);
	assert_int_equal(m.max, all->ref.max);
	for (unsigned int g = 0; g < XTEL_LAT_GROUPS; g++)
		for (unsigned int k = 0; k < XTEL_LAT_SUB; k++)
			assert_int_equal(m.blocks[g] ? m.blocks[g][k] : 0,
					 all->ref.blocks[g] ?
					 all->ref.blocks[g][k] : 0);
	xtel_latency_destroy(&m);
	pair_free(a);
	pair_free(b);
	pair_free(all);
}

/*
 * Freed neighbours merge: three adjacent 16-byte blocks freed in the order
 * outer, outer, middle become one 48-byte block, which a 48-byte request
 * then takes whole (no fresh space); a 16-byte block freed beside a free
 * 32-byte one makes a 48-byte block again.
 */
static void test_arena_coalesce(void **state)
{
	struct xtel_arena a;
	uint32_t b[4], fresh, h;
	void *ptr;

	(void)state;
	assert_int_equal(xtel_arena_init(&a, XTEL_ARENA_CHUNK), 0);
	for (int i = 0; i < 4; i++)	/* b[3] keeps the bump area apart */
		assert_int_not_equal(b[i] = xtel_arena_alloc(&a, 16, XTEL_ARENA_HIST,
							     &ptr), 0);
	for (int i = 1; i < 4; i++)
		assert_int_equal(b[i], b[0] + (uint32_t)i);
	fresh = a.next_unit;
	xtel_arena_free(&a, b[0], 16, XTEL_ARENA_HIST);
	xtel_arena_free(&a, b[2], 16, XTEL_ARENA_HIST);
	xtel_arena_free(&a, b[1], 16, XTEL_ARENA_HIST);
	assert_int_equal(a.live[XTEL_ARENA_HIST], 16);
	h = xtel_arena_alloc(&a, 48, XTEL_ARENA_METRICS, &ptr);
	assert_int_equal(h, b[0]);
	assert_int_equal(a.next_unit, fresh);
	/* split again: 16 freed next to a free 32 */
	xtel_arena_free(&a, h, 48, XTEL_ARENA_METRICS);
	h = xtel_arena_alloc(&a, 16, XTEL_ARENA_HIST, &ptr);
	assert_int_equal(h, b[0]);
	xtel_arena_free(&a, h, 16, XTEL_ARENA_HIST);
	assert_int_equal(xtel_arena_alloc(&a, 48, XTEL_ARENA_HIST, &ptr), b[0]);
	assert_int_equal(a.next_unit, fresh);
	assert_int_equal(a.live[XTEL_ARENA_HIST], 16 + 48);
	xtel_arena_destroy(&a);
}

static void test_arena_reuse_and_bounds(void **state)
{
	struct xtel_arena a;
	struct xtel_latpack p;
	uint64_t chunks;
	uint32_t h, fresh;
	void *ptr;

	(void)state;
	assert_int_equal(xtel_arena_init(&a, 2 * XTEL_ARENA_CHUNK), 0);
	xtel_latpack_init(&p);
	for (unsigned int idx = 0; idx < XTEL_LAT_BUCKETS; idx += 16)
		assert_int_equal(xtel_latpack_add_bucket(&p, &a, idx, 300), 0);
	/* 32 pages of 16-bit counters and the largest directory. */
	assert_int_equal(xtel_latpack_bytes(&p, &a), 32 * 128 + 32 * 4);
	assert_int_equal(a.live[XTEL_ARENA_HIST], 32 * 128 + 32 * 4);
	chunks = a.chunk_bytes;
	fresh = a.next_unit;
	xtel_latpack_release(&p, &a);
	assert_int_equal(a.live[XTEL_ARENA_HIST], 0);
	/* The first run left nothing unused behind but the directories it
	 * outgrew (4, 8, 12, 16 and 24 entries) and the 2-bit page freed by
	 * the last promotion (each new page reused the one before). */
	assert_int_equal((fresh - XTEL_ARENA_RESERVED) * XTEL_ARENA_UNIT -
			 (32 * 128 + 32 * 4), (4 + 8 + 12 + 16 + 24) * 4 + 16);
	/* The same again comes mostly from the free lists: splitting
	 * without coalescing fragments some, but far less than a run. */
	for (unsigned int idx = 0; idx < XTEL_LAT_BUCKETS; idx += 16)
		assert_int_equal(xtel_latpack_add_bucket(&p, &a, idx, 300), 0);
	assert_true((a.next_unit - fresh) * 3 < fresh);
	fresh = a.next_unit;
	/* Blocks of another size come from the freed ones too (split). */
	xtel_latpack_release(&p, &a);
	for (int i = 0; i < 20; i++)
		assert_int_not_equal(xtel_arena_alloc(&a, 48, XTEL_ARENA_METRICS,
						      &ptr), 0);
	assert_int_equal(a.next_unit, fresh);
	assert_int_equal(a.chunk_bytes, chunks);
	assert_int_equal(a.live[XTEL_ARENA_METRICS], 20 * 48);
	/* Readers never leave the mapped chunks. */
	h = xtel_arena_alloc(&a, 16, XTEL_ARENA_HIST, &ptr);
	assert_non_null(xtel_arena_read(&a, h, 16));
	assert_ptr_equal(xtel_arena_read(&a, h, 16), ptr);
	assert_null(xtel_arena_read(&a, 0, 16));
	assert_null(xtel_arena_read(&a, 5u << XTEL_ARENA_UNIT_BITS, 16));
	assert_null(xtel_arena_read(&a, (1u << XTEL_ARENA_UNIT_BITS) - 1, 32));
	assert_non_null(xtel_arena_read(&a, (1u << XTEL_ARENA_UNIT_BITS) - 1, 16));
	/* Too big, and the arena's limit. */
	assert_int_equal(xtel_arena_alloc(&a, XTEL_ARENA_MAX + 1,
					  XTEL_ARENA_HIST, &ptr), 0);
	while (xtel_arena_alloc(&a, XTEL_ARENA_MAX, XTEL_ARENA_HIST, &ptr))
		;
	assert_int_equal(a.chunk_bytes, 2 * XTEL_ARENA_CHUNK);
	xtel_arena_destroy(&a);
}

/* ---- a reader beside a writer that grows and promotes pages ---- */

enum { W_CLIENTS = 8, W_ROUNDS = 300000 };

struct conc {
	struct xtel_registry *reg;
	int done;
	uint64_t snapshots, bad;
};

static void *writer(void *arg)
{
	struct conc *c = arg;
	const uint64_t t0 = 1800000000ull * 1000000000ull;

	for (uint64_t q = 0; q < W_ROUNDS; q++) {
		uint64_t r = rng();
		/* Mostly one hot bucket (promotions), often a new page. */
		uint64_t lat = r % 4 ? 5000 : (r >> 16) % (1ULL << (r >> 8) % 34);
		struct xtel_msg m = {
			.version = 1, .type = XTEL_MSG_HEARTBEAT,
			.client_id = 1 + (uint32_t)(q % W_CLIENTS),
			.seq = q / W_CLIENTS, .send_ts_ns = t0 + q, .payload = "",
		};

		if (xtel_registry_account(c->reg, &m, t0 + q + lat, 32, NULL))
			abort();
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *reader(void *arg)
{
	struct conc *c = arg;
	const struct xtel_snapshot_opts o = { .flags = XTEL_SNAP_LAT_BUCKETS };

	while (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE)) {
		struct xtel_snapshot s;

		if (xtel_snapshot_take_ex(&c->reg, 1, 0, UINT64_MAX, false, &o, &s))
			abort();
		for (uint32_t i = 0; i < s.n_clients; i++) {
			const struct xtel_client_snap *k = &s.clients[i];
			uint64_t sum = k->lat_overflow;

			for (uint32_t b = 0; b < k->n_buckets; b++)
				sum += k->buckets[b].count;
			c->bad += sum != k->lat.count ||
				  k->lat.count != k->received;
		}
		xtel_snapshot_free(&s);
		c->snapshots++;
	}
	return NULL;
}

static void test_concurrent_reader(void **state)
{
	struct conc c = { .reg = xtel_registry_new(W_CLIENTS) };
	pthread_t w, r;

	(void)state;
	assert_non_null(c.reg);
	assert_int_equal(pthread_create(&r, NULL, reader, &c), 0);
	assert_int_equal(pthread_create(&w, NULL, writer, &c), 0);
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	print_message("%" PRIu64 " snapshots taken while writing\n", c.snapshots);
	assert_int_equal(c.bad, 0);
	xtel_registry_free(c.reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_equal),
		cmocka_unit_test(test_promotion_exact),
		cmocka_unit_test(test_merge_equal),
		cmocka_unit_test(test_arena_reuse_and_bounds),
		cmocka_unit_test(test_arena_coalesce),
		cmocka_unit_test(test_concurrent_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
