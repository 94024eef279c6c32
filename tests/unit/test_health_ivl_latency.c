// SPDX-License-Identifier: MIT
/*
 * health/ivl_latency.c: the quantiles of an interval are those of the
 * samples added since the previous call, not of the whole history.
 */
#include "test_health_methods.h"
#include "acct/latency.h"
#include "health/ivl_latency.h"

/* a client's cumulative histogram and the feed's copy of it */
struct fx {
	struct xtel_latency cum;
	struct xtel_health_lat_prev prev;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	xtel_latency_init(&f->cum);
	xtel_health_lat_prev_init(&f->prev);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	xtel_latency_destroy(&f->cum);
	xtel_health_lat_prev_destroy(&f->prev);
	free(f);
	return 0;
}

/* o's bucket indices give exactly its figures (what the feed keeps) */
static void assert_idx_exact(const struct xtel_health_ivl_lat *o)
{
	const double ms[XTEL_HEALTH_IVL_N] = {
		[XTEL_HEALTH_IVL_MIN] = o->min_ms, [XTEL_HEALTH_IVL_P10] = o->p10_ms,
		[XTEL_HEALTH_IVL_P50] = o->p50_ms, [XTEL_HEALTH_IVL_P90] = o->p90_ms,
		[XTEL_HEALTH_IVL_P99] = o->p99_ms,
	};

	for (unsigned int k = 0; k < XTEL_HEALTH_IVL_N; k++)
		assert_true(xtel_health_ivl_ms(o->idx[k], o->max_ns) == ms[k]);
}

static void test_interval_only(void **state)
{
	struct fx *f = *state;
	struct xtel_latency *cum = &f->cum;
	struct xtel_health_lat_prev *prev = &f->prev;
	struct xtel_health_ivl_lat o;

	/* interval 1: 100 samples of 1 ms */
	for (unsigned int i = 0; i < 100; i++)
		assert_int_equal(xtel_latency_record(cum, 1000000), 0);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(o.count, 100);
	assert_true(fabs(o.p50_ms - 1.0) < 0.01 && fabs(o.p99_ms - 1.0) < 0.01);
	/* interval 2: 90 of 10 ms, 10 of 50 ms: the 1 ms ones are gone */
	for (unsigned int i = 0; i < 90; i++)
		xtel_latency_record(cum, 10000000);
	for (unsigned int i = 0; i < 10; i++)
		xtel_latency_record(cum, 50000000);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(o.count, 100);
	assert_true(fabs(o.min_ms - 10.0) < 0.1);
	assert_true(fabs(o.p10_ms - 10.0) < 0.1);
	assert_true(fabs(o.p50_ms - 10.0) < 0.1);
	assert_true(fabs(o.p90_ms - 10.0) < 0.1);	/* rank 90 */
	assert_true(fabs(o.p99_ms - 50.0) < 0.5);
	assert_idx_exact(&o);
	/* interval 3: nothing */
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(o.count, 0);
	assert_true(o.p99_ms == 0);
}

/*
 * Samples past the last bucket report the histogram's maximum; the
 * indices say so (XTEL_LAT_BUCKETS) and still give the same figures.
 */
static void test_overflow_idx(void **state)
{
	struct fx *f = *state;
	struct xtel_health_ivl_lat o;

	for (unsigned int i = 0; i < 95; i++)
		assert_int_equal(xtel_latency_record(&f->cum, 2000000), 0);
	for (unsigned int i = 0; i < 5; i++)
		assert_int_equal(xtel_latency_record(&f->cum, XTEL_LAT_OVERFLOW_NS + 7), 0);
	assert_int_equal(xtel_health_ivl_latency(&f->prev, &f->cum, &o), 0);
	assert_int_equal(o.count, 100);
	assert_true(o.idx[XTEL_HEALTH_IVL_P90] < XTEL_LAT_BUCKETS);
	assert_int_equal(o.idx[XTEL_HEALTH_IVL_P99], XTEL_LAT_BUCKETS);
	assert_true(o.p99_ms == (double)(XTEL_LAT_OVERFLOW_NS + 7) / 1e6);
	assert_idx_exact(&o);
	/* only overflow samples: the minimum is the maximum too */
	assert_int_equal(xtel_latency_record(&f->cum, XTEL_LAT_OVERFLOW_NS), 0);
	assert_int_equal(xtel_health_ivl_latency(&f->prev, &f->cum, &o), 0);
	assert_int_equal(o.idx[XTEL_HEALTH_IVL_MIN], XTEL_LAT_BUCKETS);
	assert_idx_exact(&o);
}

/* a page of the 8-bit and of the 16-bit copy: 16 buckets */
#define PAGE_BYTE (1u << XTEL_LAT_PAGE_BITS)
#define PAGE_NARROW (PAGE_BYTE * sizeof(uint16_t))

/* A new octave between two known ones: the compact copy makes room. */
static void test_new_group_between(void **state)
{
	struct fx *f = *state;
	struct xtel_latency *cum = &f->cum;
	struct xtel_health_lat_prev *prev = &f->prev;
	struct xtel_health_ivl_lat o;

	xtel_latency_record(cum, 1000000);		/* 1 ms */
	xtel_latency_record(cum, 100000000);		/* 100 ms */
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(xtel_health_lat_prev_bytes(prev),
			 sizeof(*prev) + 2 * PAGE_BYTE);
	/* interval 2: 10 ms only, a group between the two */
	for (unsigned int i = 0; i < 3; i++)
		xtel_latency_record(cum, 10000000);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(o.count, 3);
	assert_true(fabs(o.min_ms - 10.0) < 0.1 && fabs(o.p99_ms - 10.0) < 0.1);
	assert_int_equal(xtel_health_lat_prev_bytes(prev),
			 sizeof(*prev) + 3 * PAGE_BYTE);
	/* interval 3: one more at each: the moved copies kept their counts */
	xtel_latency_record(cum, 1000000);
	xtel_latency_record(cum, 100000000);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(o.count, 2);
	assert_true(fabs(o.min_ms - 1.0) < 0.01 && fabs(o.p99_ms - 100.0) < 1);
	assert_true(fabs(o.p50_ms - 1.0) < 0.01);
}

/* n samples of ms milliseconds into h */
static void record_n(struct xtel_latency *h, unsigned int n, int64_t ms)
{
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(xtel_latency_record(h, ms * 1000000), 0);
}

/*
 * A device once a second: 8-bit counts, which wrap (a bucket past 255 in
 * all) with exact differences; 4 samples at once widen the copy to 16.
 */
static void test_byte_copy(void **state)
{
	struct fx *f = *state;
	struct xtel_latency *cum = &f->cum;
	struct xtel_health_lat_prev *prev = &f->prev;
	struct xtel_health_ivl_lat o;

	for (unsigned int k = 0; k < 600; k++) {
		record_n(cum, 1 + k % 3, k % 5 ? 2 : 30);
		assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
		assert_int_equal(o.count, 1 + k % 3);
		assert_true(fabs(o.p50_ms - (k % 5 ? 2 : 30)) < 0.3);
		assert_int_equal(prev->width, 0);
	}
	assert_int_equal(xtel_health_lat_prev_bytes(prev),
			 sizeof(*prev) + 2 * PAGE_BYTE);
	record_n(cum, 4, 30);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(o.count, 4);
	assert_true(fabs(o.min_ms - 30) < 0.3);
	assert_int_equal(prev->width, 1);
	/* a fresh copy of a histogram that holds many samples starts wider */
	xtel_health_lat_prev_destroy(prev);
	record_n(cum, 1, 2);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(prev->width, 2);	/* ~1,200 at once: 32-bit */
}

/*
 * The narrow copy's counts wrap (a bucket past 65,535 in all) and its
 * differences stay exact; an interval of 1,024 samples widens it, and the
 * wide copy's quantiles are the interval's too.
 */
static void test_narrow_wraps_then_widens(void **state)
{
	struct fx *f = *state;
	struct xtel_latency *cum = &f->cum;
	struct xtel_health_lat_prev *prev = &f->prev;
	struct xtel_health_ivl_lat o;

	for (unsigned int k = 0; k < 70; k++) {
		/* 1,000 an interval: 900 of 2 ms, 100 of 8 ms */
		record_n(cum, 900, 2);
		record_n(cum, 100, 8);
		assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
		assert_int_equal(o.count, 1000);
		assert_true(fabs(o.p50_ms - 2.0) < 0.02);
		assert_true(fabs(o.p90_ms - 2.0) < 0.02);	/* rank 900 */
		assert_true(fabs(o.p99_ms - 8.0) < 0.07);
		assert_int_equal(prev->width, 1);
	}
	assert_true(cum->count > 65536);
	assert_int_equal(xtel_health_lat_prev_bytes(prev),
			 sizeof(*prev) + 2 * PAGE_NARROW);
	/* 1,024 of 4 ms: still exact, and from now on 32-bit */
	record_n(cum, 1024, 4);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(o.count, 1024);
	assert_true(fabs(o.min_ms - 4.0) < 0.04 && fabs(o.p99_ms - 4.0) < 0.04);
	assert_int_equal(prev->width, 2);
	assert_int_equal(xtel_health_lat_prev_bytes(prev),
			 sizeof(*prev) + 3 * 2 * PAGE_NARROW);
	record_n(cum, 70000, 2);
	record_n(cum, 10, 8);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(o.count, 70010);
	assert_true(fabs(o.p99_ms - 2.0) < 0.02 && fabs(o.min_ms - 2.0) < 0.02);
}

/*
 * A jump from under 1,024 samples to more than 65,535 in one interval:
 * the narrow copy cannot tell the buckets' differences apart, so the
 * interval has no figures (-ERANGE) and the next one, wide, is exact.
 */
static void test_jump_past_narrow(void **state)
{
	struct fx *f = *state;
	struct xtel_latency *cum = &f->cum;
	struct xtel_health_lat_prev *prev = &f->prev;
	struct xtel_health_ivl_lat o;

	record_n(cum, 10, 1);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(prev->width, 1);
	record_n(cum, 65536, 3);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), -ERANGE);
	assert_int_equal(o.count, 0);
	assert_true(o.p99_ms == 0);
	assert_int_equal(prev->width, 2);
	record_n(cum, 5, 1);
	record_n(cum, 95, 3);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(o.count, 100);
	assert_true(fabs(o.min_ms - 1.0) < 0.01 && fabs(o.p10_ms - 3.0) < 0.03);
	/* a first interval of many samples starts wide: no jump to miss */
	xtel_health_lat_prev_destroy(prev);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(prev->width, 2);
	assert_int_equal(o.count, cum->count);
}

/*
 * The interval's minimum and quantiles exactly, as bucket indices, against
 * the sorted samples of the interval (nearest rank), on small intervals
 * over a few octaves: ranks at page edges and pages passed by their sum
 * (ivl_latency.c).
 */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* o against the interval's n samples v[] (sorted here) */
static void assert_ivl_exact(const struct xtel_health_ivl_lat *o, uint64_t *v,
			     unsigned int n)
{
	static const double q[4] = { 0.10, 0.50, 0.90, 0.99 };
	static const unsigned int at[4] = { XTEL_HEALTH_IVL_P10, XTEL_HEALTH_IVL_P50,
					    XTEL_HEALTH_IVL_P90, XTEL_HEALTH_IVL_P99 };

	qsort(v, n, sizeof(v[0]), cmp_u64);
	assert_int_equal(o->count, n);
	assert_int_equal(o->idx[XTEL_HEALTH_IVL_MIN], xtel_latency_bucket(v[0]));
	for (unsigned int k = 0; k < 4; k++) {
		uint64_t r = (uint64_t)ceil(q[k] * n);

		r = r < 1 ? 1 : r;
		assert_int_equal(o->idx[at[k]], xtel_latency_bucket(v[r - 1]));
	}
	assert_idx_exact(o);
}

/*
 * Three intervals a round: the second and third checked, so a walk that
 * stopped early (every new sample met) must have left the copy exact.
 */
static void test_exact_small_intervals(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull, v[48];

	(void)state;
	for (unsigned int round = 0; round < 2000; round++) {
		struct xtel_latency cum;
		struct xtel_health_lat_prev prev;
		struct xtel_health_ivl_lat o;
		unsigned int n[3], span;

		xtel_latency_init(&cum);
		xtel_health_lat_prev_init(&prev);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		n[0] = 1 + (unsigned int)(x % 48);
		n[1] = 1 + (unsigned int)(x >> 8) % n[0];
		n[2] = 1 + (unsigned int)(x >> 24) % n[0];
		span = 1 + (unsigned int)(x >> 16) % 5;
		for (unsigned int k = 0; k < 3; k++) {
			for (unsigned int i = 0; i < n[k]; i++) {
				unsigned int idx;

				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				idx = 64 + (unsigned int)(x % (64u * span));
				v[i] = x >> 40 & 1 ? xtel_latency_bucket_lower(idx) :
						     xtel_latency_bucket_upper(idx);
				assert_int_equal(xtel_latency_record(&cum, (int64_t)v[i]), 0);
			}
			assert_int_equal(xtel_health_ivl_latency(&prev, &cum, &o), 0);
			if (k)
				assert_ivl_exact(&o, v, n[k]);
		}
		xtel_latency_destroy(&cum);
		xtel_health_lat_prev_destroy(&prev);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_interval_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_group_between, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_narrow_wraps_then_widens, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_jump_past_narrow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow_idx, setup, teardown),
		cmocka_unit_test(test_exact_small_intervals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
