// SPDX-License-Identifier: MIT
/*
 * health/ivl_latency.c: the quantiles of an interval are those of the
 * samples added since the previous call, not of the whole history.
 */
#include "test_health_methods.h"
#include "acct/latency.h"
#include "health/ivl_latency.h"

static void test_interval_only(void **state)
{
	struct xtel_latency cum;
	struct xtel_health_lat_prev prev;
	struct xtel_health_ivl_lat o;

	(void)state;
	xtel_latency_init(&cum);
	xtel_health_lat_prev_init(&prev);
	/* interval 1: 100 samples of 1 ms */
	for (unsigned int i = 0; i < 100; i++)
		assert_int_equal(xtel_latency_record(&cum, 1000000), 0);
	assert_int_equal(xtel_health_ivl_latency(&prev, &cum, &o), 0);
	assert_int_equal(o.count, 100);
	assert_true(fabs(o.p50_ms - 1.0) < 0.01 && fabs(o.p99_ms - 1.0) < 0.01);
	assert_true(fabs(o.mean_ms - 1.0) < 1e-9);
	/* interval 2: 90 of 10 ms, 10 of 50 ms: the 1 ms ones are gone */
	for (unsigned int i = 0; i < 90; i++)
		xtel_latency_record(&cum, 10000000);
	for (unsigned int i = 0; i < 10; i++)
		xtel_latency_record(&cum, 50000000);
	assert_int_equal(xtel_health_ivl_latency(&prev, &cum, &o), 0);
	assert_int_equal(o.count, 100);
	assert_true(fabs(o.min_ms - 10.0) < 0.1);
	assert_true(fabs(o.p10_ms - 10.0) < 0.1);
	assert_true(fabs(o.p50_ms - 10.0) < 0.1);
	assert_true(fabs(o.p90_ms - 10.0) < 0.1);	/* rank 90 */
	assert_true(fabs(o.p99_ms - 50.0) < 0.5);
	assert_true(fabs(o.mean_ms - 14.0) < 1e-9);
	/* interval 3: nothing */
	assert_int_equal(xtel_health_ivl_latency(&prev, &cum, &o), 0);
	assert_int_equal(o.count, 0);
	assert_true(o.p99_ms == 0);
	xtel_latency_destroy(&cum);
	xtel_health_lat_prev_destroy(&prev);
}

/* A new octave between two known ones: the compact copy makes room. */
static void test_new_group_between(void **state)
{
	struct xtel_latency cum;
	struct xtel_health_lat_prev prev;
	struct xtel_health_ivl_lat o;

	(void)state;
	xtel_latency_init(&cum);
	xtel_health_lat_prev_init(&prev);
	xtel_latency_record(&cum, 1000000);		/* 1 ms */
	xtel_latency_record(&cum, 100000000);		/* 100 ms */
	assert_int_equal(xtel_health_ivl_latency(&prev, &cum, &o), 0);
	assert_int_equal(xtel_health_lat_prev_bytes(&prev),
			 sizeof(prev) + 2 * XTEL_LAT_SUB * sizeof(uint32_t));
	/* interval 2: 10 ms only, a group between the two */
	for (unsigned int i = 0; i < 3; i++)
		xtel_latency_record(&cum, 10000000);
	assert_int_equal(xtel_health_ivl_latency(&prev, &cum, &o), 0);
	assert_int_equal(o.count, 3);
	assert_true(fabs(o.min_ms - 10.0) < 0.1 && fabs(o.p99_ms - 10.0) < 0.1);
	assert_int_equal(xtel_health_lat_prev_bytes(&prev),
			 sizeof(prev) + 3 * XTEL_LAT_SUB * sizeof(uint32_t));
	/* interval 3: one more at each: the moved copies kept their counts */
	xtel_latency_record(&cum, 1000000);
	xtel_latency_record(&cum, 100000000);
	assert_int_equal(xtel_health_ivl_latency(&prev, &cum, &o), 0);
	assert_int_equal(o.count, 2);
	assert_true(fabs(o.min_ms - 1.0) < 0.01 && fabs(o.p99_ms - 100.0) < 1);
	assert_true(fabs(o.p50_ms - 1.0) < 0.01);
	xtel_latency_destroy(&cum);
	xtel_health_lat_prev_destroy(&prev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_only),
		cmocka_unit_test(test_new_group_between),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
