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
	assert_true(fabs(o.mean_ms - 1.0) < 1e-9);
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
	assert_true(fabs(o.mean_ms - 14.0) < 1e-9);
	/* interval 3: nothing */
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(o.count, 0);
	assert_true(o.p99_ms == 0);
}

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
			 sizeof(*prev) + 2 * XTEL_LAT_SUB * sizeof(uint32_t));
	/* interval 2: 10 ms only, a group between the two */
	for (unsigned int i = 0; i < 3; i++)
		xtel_latency_record(cum, 10000000);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(o.count, 3);
	assert_true(fabs(o.min_ms - 10.0) < 0.1 && fabs(o.p99_ms - 10.0) < 0.1);
	assert_int_equal(xtel_health_lat_prev_bytes(prev),
			 sizeof(*prev) + 3 * XTEL_LAT_SUB * sizeof(uint32_t));
	/* interval 3: one more at each: the moved copies kept their counts */
	xtel_latency_record(cum, 1000000);
	xtel_latency_record(cum, 100000000);
	assert_int_equal(xtel_health_ivl_latency(prev, cum, &o), 0);
	assert_int_equal(o.count, 2);
	assert_true(fabs(o.min_ms - 1.0) < 0.01 && fabs(o.p99_ms - 100.0) < 1);
	assert_true(fabs(o.p50_ms - 1.0) < 0.01);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_interval_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_group_between, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
