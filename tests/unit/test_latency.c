// SPDX-License-Identifier: MIT
/*
 * Latency histogram: bucket precision over the whole 1 us..100 s range,
 * quantiles within 1% of the exact nearest-rank quantile on known
 * distributions, merge equal to recording everything into one histogram,
 * overflow and negative samples, and the sparse memory layout.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acct/latency.h"
#include "xorshift.h"

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rng(void)
{
	return xtel_xorshift64(&rng_state);
}

static double unit(void)
{
	return xtel_xorshift_unit(&rng_state);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static unsigned int n_groups(const struct xtel_latency *h)
{
	unsigned int n = 0;

	for (unsigned int g = 0; g < XTEL_LAT_GROUPS; g++)
		n += h->blocks[g] != NULL;
	return n;
}

static void test_bucket_precision(void **state)
{
	(void)state;
	/* Exact below 128 ns. */
	for (uint64_t v = 0; v < 128; v++)
		assert_int_equal(xtel_latency_bucket_mid(xtel_latency_bucket(v)), v);
	/* Every bucket boundary region from 128 ns to the top, plus random
	 * values: the midpoint is within 1/128 of the value. */
	for (uint64_t v = 128; v < XTEL_LAT_OVERFLOW_NS; v += v / 97 + 1) {
		for (int d = -1; d <= 1; d++) {
			uint64_t x = v + (uint64_t)d;
			uint64_t mid = xtel_latency_bucket_mid(xtel_latency_bucket(x));
			double err = fabs((double)mid - (double)x) / (double)x;

			assert_true(xtel_latency_bucket(x) < XTEL_LAT_BUCKETS);
			assert_true(err <= 1.0 / 128);
		}
	}
	for (int i = 0; i < 1000000; i++) {
		uint64_t x = 128 + rng() % (XTEL_LAT_OVERFLOW_NS - 128);
		uint64_t mid = xtel_latency_bucket_mid(xtel_latency_bucket(x));

		assert_true(fabs((double)mid - (double)x) / (double)x <= 1.0 / 128);
	}
	/* Buckets are ordered: the index never decreases with the value. */
	assert_true(xtel_latency_bucket(1000) <= xtel_latency_bucket(1001));
	assert_int_equal(xtel_latency_bucket(XTEL_LAT_OVERFLOW_NS - 1),
			 XTEL_LAT_BUCKETS - 1);
	/* 100 s is inside the regular range. */
	assert_true(100000000000ULL < XTEL_LAT_OVERFLOW_NS);
}

enum { N = 200000 };

/* Record samples and compare the quantiles with the exact ones. */
static void check_distribution(uint64_t *v, size_t n)
{
	static const double qs[] = { 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9,
				     0.99, 0.999, 0.9999, 1.0 };
	struct xtel_latency h;
	struct xtel_lat_summary s;
	uint64_t sum = 0;

	xtel_latency_init(&h);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(xtel_latency_record(&h, (int64_t)v[i]), 0);
		sum += v[i];
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		size_t rank = (size_t)ceil(qs[i] * (double)n);
		uint64_t exact = v[(rank ? rank : 1) - 1];
		uint64_t got = xtel_latency_quantile(&h, qs[i]);

		assert_true(fabs((double)got - (double)exact) <=
			    0.01 * (double)exact);
	}
	xtel_latency_summary(&h, &s);
	assert_int_equal(s.count, n);
	assert_int_equal(s.min_ns, v[0]);
	assert_int_equal(s.max_ns, v[n - 1]);
	assert_int_equal(xtel_lat_mean_ns(&s), sum / n);
	assert_int_equal(s.p50_ns, xtel_latency_quantile(&h, 0.5));
	assert_int_equal(s.p999_ns, xtel_latency_quantile(&h, 0.999));
	xtel_latency_destroy(&h);
}

static void test_quantiles_log_uniform(void **state)
{
	uint64_t *v = malloc(N * sizeof(*v));

	(void)state;
	assert_non_null(v);
	/* 1 us .. 100 s, log-uniform: every octave equally represented. */
	for (size_t i = 0; i < N; i++)
		v[i] = (uint64_t)(1000.0 * pow(1e8, unit()));
	check_distribution(v, N);
	free(v);
}

static void test_quantiles_uniform(void **state)
{
	uint64_t *v = malloc(N * sizeof(*v));

	(void)state;
	assert_non_null(v);
	for (size_t i = 0; i < N; i++)
		v[i] = 1000 + rng() % 999000;	/* 1 us .. 1 ms */
	check_distribution(v, N);
	free(v);
}

static void test_quantiles_long_tail(void **state)
{
	uint64_t *v = malloc(N * sizeof(*v));

	(void)state;
	assert_non_null(v);
	/* Exponential body around 40 us plus 0.5% of 1..100 s outliers. */
	for (size_t i = 0; i < N; i++) {
		if (rng() % 200 == 0)
			v[i] = 1000000000ULL + rng() % 99000000000ULL;
		else
			v[i] = 1000 + (uint64_t)(-40000.0 * log(1.0 - unit()));
	}
	check_distribution(v, N);
	free(v);
}

static void test_quantiles_constant(void **state)
{
	struct xtel_latency h;
	struct xtel_lat_summary s;

	(void)state;
	xtel_latency_init(&h);
	for (int i = 0; i < 1000; i++)
		xtel_latency_record(&h, 123457);
	xtel_latency_summary(&h, &s);
	/* Clamped to [min, max], so a constant is reported exactly. */
	assert_int_equal(s.p50_ns, 123457);
	assert_int_equal(s.p999_ns, 123457);
	assert_int_equal(xtel_lat_mean_ns(&s), 123457);
	assert_int_equal(n_groups(&h), 1);
	xtel_latency_destroy(&h);
}

static void assert_same(const struct xtel_latency *a, const struct xtel_latency *b)
{
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->negative, b->negative);
	assert_int_equal(a->overflow, b->overflow);
	assert_int_equal(a->sum, b->sum);
	assert_int_equal(a->min, b->min);
	assert_int_equal(a->max, b->max);
	for (unsigned int g = 0; g < XTEL_LAT_GROUPS; g++) {
		assert_int_equal(a->blocks[g] != NULL, b->blocks[g] != NULL);
		if (a->blocks[g])
			assert_memory_equal(a->blocks[g], b->blocks[g],
					    XTEL_LAT_SUB * sizeof(uint64_t));
	}
}

static void test_merge(void **state)
{
	struct xtel_latency a, b, all, empty;
	struct xtel_lat_summary sm, sa;

	(void)state;
	xtel_latency_init(&a);
	xtel_latency_init(&b);
	xtel_latency_init(&all);
	xtel_latency_init(&empty);
	for (int i = 0; i < 50000; i++) {
		int64_t v = (int64_t)(1000.0 * pow(1e8, unit()));

		if (i % 1000 == 0)
			v = -v;			/* some skew */
		if (i % 777 == 0)
			v = 200000000000LL;	/* some overflow */
		xtel_latency_record(i % 3 ? &a : &b, v);
		xtel_latency_record(&all, v);
	}
	assert_int_equal(xtel_latency_merge(&a, &b), 0);
	assert_same(&a, &all);
	xtel_latency_summary(&a, &sm);
	xtel_latency_summary(&all, &sa);
	assert_memory_equal(&sm, &sa, sizeof(sm));
	/* Merging an empty histogram changes nothing, either way round. */
	assert_int_equal(xtel_latency_merge(&a, &empty), 0);
	assert_same(&a, &all);
	assert_int_equal(xtel_latency_merge(&empty, &all), 0);
	assert_same(&empty, &all);
	xtel_latency_destroy(&a);
	xtel_latency_destroy(&b);
	xtel_latency_destroy(&all);
	xtel_latency_destroy(&empty);
}

static void test_overflow_and_negative(void **state)
{
	struct xtel_latency h;
	struct xtel_lat_summary s;

	(void)state;
	xtel_latency_init(&h);
	xtel_latency_record(&h, -1);
	xtel_latency_record(&h, -5000000);
	assert_int_equal(h.negative, 2);
	assert_int_equal(h.count, 0);
	assert_int_equal(n_groups(&h), 0);
	xtel_latency_summary(&h, &s);
	assert_int_equal(s.negative, 2);
	assert_int_equal(s.p50_ns, 0);

	xtel_latency_record(&h, 10000);
	xtel_latency_record(&h, 300000000000LL);	/* 300 s */
	assert_int_equal(h.overflow, 1);
	assert_int_equal(h.count, 2);
	xtel_latency_summary(&h, &s);
	assert_int_equal(s.min_ns, 10000);
	assert_int_equal(s.max_ns, 300000000000ULL);
	/* The midpoint of 10000's bucket [9984, 10111]: 10047. */
	assert_int_equal(s.p50_ns,
			 xtel_latency_bucket_mid(xtel_latency_bucket(10000)));
	assert_int_equal(s.p50_ns, 10047);
	assert_int_equal(s.p99_ns, 300000000000ULL);
	assert_int_equal(s.negative, 2);
	xtel_latency_destroy(&h);
}

static void test_sparse(void **state)
{
	struct xtel_latency h;

	(void)state;
	xtel_latency_init(&h);
	/* A loopback-like client: 20..120 us spans three octaves. */
	for (int i = 0; i < 100000; i++)
		xtel_latency_record(&h, 20000 + (int64_t)(rng() % 100000));
	assert_int_equal(n_groups(&h), 3);
	assert_true(sizeof(h) + n_groups(&h) * XTEL_LAT_SUB * sizeof(uint64_t) <
		    2048);
	xtel_latency_reset(&h);
	assert_int_equal(h.count, 0);
	assert_int_equal(xtel_latency_quantile(&h, 0.5), 0);
	xtel_latency_destroy(&h);
}

/* Every nonzero bucket's page is in h->pages (what the walks follow). */
static void assert_pages_cover(const struct xtel_latency *h)
{
	for (unsigned int g = 0; g < XTEL_LAT_GROUPS; g++)
		for (unsigned int k = 0; h->blocks[g] && k < XTEL_LAT_SUB; k++) {
			unsigned int p = (g * XTEL_LAT_SUB + k) >> XTEL_LAT_PAGE_BITS;

			if (h->blocks[g][k])
				assert_true(h->pages[p / 64] >> (p % 64) & 1);
		}
}

/*
 * The page mask through every writer: record, add_bucket, merge, reset;
 * the walks that follow it give what a walk of every bucket gives (the
 * quantiles against the sorted samples, the encoding against a bucket by
 * bucket rebuild).
 */
static void test_pages(void **state)
{
	struct xtel_latency a, b, c;
	uint64_t v[3000];
	uint8_t enc[65536];
	size_t n_enc;

	(void)state;
	xtel_latency_init(&a);
	xtel_latency_init(&b);
	xtel_latency_init(&c);
	for (unsigned int i = 0; i < 3000; i++) {
		v[i] = (uint64_t)exp(unit() * 30.0);	/* 1 ns .. 10 s */
		assert_int_equal(xtel_latency_record(i % 2 ? &a : &b,
						     (int64_t)v[i]), 0);
	}
	assert_pages_cover(&a);
	assert_pages_cover(&b);
	assert_int_equal(xtel_latency_merge(&a, &b), 0);
	assert_pages_cover(&a);
	qsort(v, 3000, sizeof(v[0]), cmp_u64);
	for (unsigned int q = 1; q <= 1000; q += 37) {
		uint64_t want = v[(size_t)ceil(q / 1000.0 * 3000) - 1];
		uint64_t got = xtel_latency_quantile(&a, q / 1000.0);

		assert_true(got >= xtel_latency_bucket_lower(xtel_latency_bucket(want)) ||
			    got == a.min);
		assert_true(got <= xtel_latency_bucket_upper(xtel_latency_bucket(want)) ||
			    got == a.max);
	}
	/* a bucket by bucket copy encodes the same */
	for (unsigned int g = 0; g < XTEL_LAT_GROUPS; g++)
		for (unsigned int k = 0; a.blocks[g] && k < XTEL_LAT_SUB; k++)
			if (a.blocks[g][k])
				assert_int_equal(xtel_latency_add_bucket(&c,
					g * XTEL_LAT_SUB + k, a.blocks[g][k]), 0);
	assert_pages_cover(&c);
	c.overflow = a.overflow;
	assert_true(xtel_latency_encoded_max(&a) <= sizeof(enc));
	n_enc = xtel_latency_encode(&a, enc);
	{
		uint8_t enc2[65536];

		assert_int_equal(xtel_latency_encode(&c, enc2), n_enc);
		assert_memory_equal(enc, enc2, n_enc);
	}
	xtel_latency_reset(&a);
	assert_true(a.pages[0] == 0 && a.pages[1] == 0);
	assert_int_equal(xtel_latency_encode(&a, enc), 0);
	xtel_latency_destroy(&a);
	xtel_latency_destroy(&b);
	xtel_latency_destroy(&c);
}

/*
 * The summary's quantiles exactly, against a reference from the sorted
 * samples (the nearest-rank sample's bucket midpoint, clamped to [min,
 * max]), on small histograms whose ranks fall on page boundaries, first
 * and last buckets of a page, and pages a rank passes by their sum
 * (latency.c).
 */
static void test_quantiles_exact_small(void **state)
{
	static const double qs[4] = { 0.50, 0.90, 0.99, 0.999 };
	uint64_t v[64];

	(void)state;
	for (unsigned int round = 0; round < 3000; round++) {
		unsigned int n = 1 + (unsigned int)(rng() % 64);
		unsigned int span = 1 + (unsigned int)(rng() % 6);	/* octaves */
		struct xtel_latency h;
		struct xtel_lat_summary s;
		uint64_t want[4];

		xtel_latency_init(&h);
		for (unsigned int i = 0; i < n; i++) {
			/* page edges often: a bucket's first or last value */
			unsigned int idx = 64 + (unsigned int)(rng() % (64u * span));

			v[i] = rng() & 1 ? xtel_latency_bucket_lower(idx) :
					   xtel_latency_bucket_upper(idx);
			assert_int_equal(xtel_latency_record(&h, (int64_t)v[i]), 0);
		}
		qsort(v, n, sizeof(v[0]), cmp_u64);
		for (unsigned int k = 0; k < 4; k++) {
			uint64_t r = (uint64_t)ceil(qs[k] * n), m;

			r = r < 1 ? 1 : r > n ? n : r;
			m = xtel_latency_bucket_mid(xtel_latency_bucket(v[r - 1]));
			want[k] = m < v[0] ? v[0] : m > v[n - 1] ? v[n - 1] : m;
		}
		xtel_latency_summary(&h, &s);
		assert_int_equal(s.p50_ns, want[0]);
		assert_int_equal(s.p90_ns, want[1]);
		assert_int_equal(s.p99_ns, want[2]);
		assert_int_equal(s.p999_ns, want[3]);
		xtel_latency_destroy(&h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_precision),
		cmocka_unit_test(test_quantiles_log_uniform),
		cmocka_unit_test(test_quantiles_uniform),
		cmocka_unit_test(test_quantiles_long_tail),
		cmocka_unit_test(test_quantiles_constant),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_overflow_and_negative),
		cmocka_unit_test(test_sparse),
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_quantiles_exact_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
