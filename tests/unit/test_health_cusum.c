// SPDX-License-Identifier: MIT
/*
 * health/cusum.c: a shift of d alarms after the number of steps the sums
 * say, in either direction; noise within the slack never accumulates.
 */
#include "test_health_methods.h"
#include "health/cusum.h"

static void test_up_shift(void **state)
{
	struct xtel_health_cusum c = { 0 };

	(void)state;
	/* z 5, k 1.5: +3.5 per step, h 6: alarm at the 2nd step (7 > 6) */
	assert_int_equal(xtel_health_cusum_add(&c, 5, 1.5, 6), 0);
	assert_true(c.hi == 3.5);
	assert_int_equal(xtel_health_cusum_add(&c, 5, 1.5, 6), 1);
}

static void test_down_shift(void **state)
{
	struct xtel_health_cusum c = { 0 };
	int r = 0, steps = 0;

	(void)state;
	/* z -3: +1.5 per step on the low side: 6 is not > 6, the 5th is */
	while (!r && steps < 10) {
		r = xtel_health_cusum_add(&c, -3, 1.5, 6);
		steps++;
	}
	assert_int_equal(r, -1);
	assert_int_equal(steps, 5);
	xtel_health_cusum_reset(&c);
	assert_true(c.hi == 0 && c.lo == 0);
}

static void test_noise_within_slack(void **state)
{
	struct xtel_health_cusum c = { 0 };

	(void)state;
	for (unsigned int i = 0; i < 100000; i++)
		assert_int_equal(xtel_health_cusum_add(&c, i % 2 ? 1.4 : -1.4,
						       1.5, 6), 0);
	assert_true(c.hi == 0 && c.lo == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up_shift),
		cmocka_unit_test(test_down_shift),
		cmocka_unit_test(test_noise_within_slack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
