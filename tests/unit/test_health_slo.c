// SPDX-License-Identifier: MIT
/*
 * health/slo.c: each ceiling alone, the worst ratio, equality passes, a
 * ceiling of 0 is off, no latency sample skips the latency ceilings.
 */
#include "test_health_methods.h"
#include "health/slo.h"

static void test_ceilings(void **state)
{
	const struct xtel_health_slo s = { .p99_ms = 100, .loss_pct = 1,
					   .jitter_ms = 20 };
	double w;

	(void)state;
	assert_int_equal(xtel_health_slo_check(&s, true, 100, 1, 20, &w), 0);
	assert_true(w == 0);
	assert_int_equal(xtel_health_slo_check(&s, true, 150, 0, 0, &w),
			 XTEL_HEALTH_SLO_P99);
	assert_true(w == 1.5);
	assert_int_equal(xtel_health_slo_check(&s, true, 150, 4, 30, &w),
			 XTEL_HEALTH_SLO_P99 | XTEL_HEALTH_SLO_LOSS |
			 XTEL_HEALTH_SLO_JITTER);
	assert_true(w == 4.0);
	/* no latency in the interval: only loss counts */
	assert_int_equal(xtel_health_slo_check(&s, false, 900, 0.5, 900, &w), 0);
}

static void test_off(void **state)
{
	const struct xtel_health_slo s = { .loss_pct = 2 };
	double w;

	(void)state;
	assert_int_equal(xtel_health_slo_check(&s, true, 1e6, 3, 1e6, &w),
			 XTEL_HEALTH_SLO_LOSS);
	assert_true(w == 1.5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ceilings),
		cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
