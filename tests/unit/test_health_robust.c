// SPDX-License-Identifier: MIT
/*
 * health/robust.c: median and MAD of odd and even samples, ties, one
 * sample, and an outlier that does not move them.
 */
#include "test_health_methods.h"
#include "health/robust.h"

static void test_median(void **state)
{
	float a[] = { 5, 1, 4, 2, 3 };
	float b[] = { 4, 1, 3, 2 };
	float c[] = { 7 };
	float d[] = { 2, 2, 2, 2, 2, 2 };

	(void)state;
	assert_true(xtel_health_median(a, 5) == 3.0);
	assert_true(xtel_health_median(b, 4) == 2.5);
	assert_true(xtel_health_median(c, 1) == 7.0);
	assert_true(xtel_health_median(d, 6) == 2.0);
	assert_true(xtel_health_median(NULL, 0) == 0.0);
}

static void test_mad_outlier(void **state)
{
	/* 1..9 and one huge outlier: median 5.5, |x - 5.5| median 2.5 */
	float src[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 1e6 }, tmp[10];
	double med, mad;

	(void)state;
	double meanad;

	xtel_health_median_mad(src, 10, tmp, &med, &mad, &meanad);
	assert_true(med == 5.5);
	assert_true(mad == 2.5);
	/* (4.5+3.5+2.5+1.5+.5+.5+1.5+2.5+3.5 + 1e6-5.5) / 10 */
	assert_true(fabs(meanad - (20.5 + 1e6 - 5.5) / 10) < 1e-6);
	assert_true(src[9] == 1e6f);	/* the source is left alone */
}

static void test_many_sizes(void **state)
{
	/* the median of a shuffled 0..n-1 (67 is prime to every n) is (n-1)/2 for every n */
	(void)state;
	for (unsigned int n = 1; n <= 64; n++) {
		float a[64];

		for (unsigned int i = 0; i < n; i++)
			a[i] = (float)((i * 67u) % n);
		assert_true(fabs(xtel_health_median(a, n) - (n - 1) / 2.0) < 1e-9);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median),
		cmocka_unit_test(test_mad_outlier),
		cmocka_unit_test(test_many_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
