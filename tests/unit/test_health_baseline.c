// SPDX-License-Identifier: MIT
/*
 * health/baseline.c: the first fit starts at the median, the EWMA follows
 * accepted samples, the MAD scale and its floors, and the z of a value.
 */
#include "test_health_methods.h"
#include "health/baseline.h"
#include "health/robust.h"

static const struct xtel_health_baseline_cfg cfg = {
	.window = 8, .refit = 4, .alpha = 0.5, .floor_abs = 0.1, .floor_rel = 0,
};

static void test_fit(void **state)
{
	struct xtel_health_baseline b;
	/* median 10, |x - 10| = 2,1,0,1,2,0,1,100: MAD 1, mean 107/8 */
	const double x[] = { 8, 9, 10, 11, 12, 10, 9, 110 };

	(void)state;
	xtel_health_baseline_init(&b);
	assert_true(xtel_health_baseline_z(&b, 50) == 0.0);	/* unfitted */
	xtel_health_baseline_add(&b, &cfg, x[0]);
	assert_true(b.fitted && b.centre == 8.0);
	for (unsigned int i = 1; i < 8; i++)
		xtel_health_baseline_add(&b, &cfg, x[i]);
	assert_true(b.centre == 10.0);	/* the median of the 8 */
	/* refit every sample while the window fills: the last fit saw all 8 */
	assert_true(b.mad == 1.0);
	/* the outlier makes the mean absolute deviation (107 / 8) the wider */
	assert_true(fabs(b.scale - XTEL_HEALTH_MEANAD_SIGMA * 107 / 8) < 1e-6);
	/* z of 10 + 3 sigma */
	assert_true(fabs(xtel_health_baseline_z(&b, b.centre + 3 * b.scale) - 3) < 1e-9);
}

static void test_ewma(void **state)
{
	struct xtel_health_baseline b;

	(void)state;
	xtel_health_baseline_init(&b);
	/* filling: the centre is the window's median */
	for (unsigned int i = 0; i < 8; i++)
		xtel_health_baseline_add(&b, &cfg, i < 2 ? 100 : 0);
	assert_true(b.centre == 0.0);
	/* full: EWMA, 0 + 0.5 * 8, then 4 + 0.5 * 4 */
	xtel_health_baseline_add(&b, &cfg, 8);
	assert_true(b.centre == 4.0);
	xtel_health_baseline_add(&b, &cfg, 8);
	assert_true(b.centre == 6.0);
}

static void test_floors(void **state)
{
	struct xtel_health_baseline b;
	struct xtel_health_baseline_cfg rel = cfg;

	(void)state;
	/* a constant signal: MAD 0, the absolute floor holds the scale */
	xtel_health_baseline_init(&b);
	for (unsigned int i = 0; i < 8; i++)
		xtel_health_baseline_add(&b, &cfg, 5);
	assert_true(b.mad == 0.0 && b.scale == 0.1);
	assert_true(fabs(xtel_health_baseline_z(&b, 5.5) - 5.0) < 1e-9);
	/* relative floor: 10% of a centre of 200 */
	rel.floor_rel = 0.1;
	xtel_health_baseline_init(&b);
	for (unsigned int i = 0; i < 8; i++)
		xtel_health_baseline_add(&b, &rel, 200);
	assert_true(fabs(b.scale - 20.0) < 1e-9);
}

static void test_refit_every(void **state)
{
	struct xtel_health_baseline b;

	(void)state;
	xtel_health_baseline_init(&b);
	for (unsigned int i = 0; i < 8; i++)
		xtel_health_baseline_add(&b, &cfg, i % 2 ? 11 : 9);	/* MAD 1 */
	assert_true(b.mad == 1.0);
	/* three wide samples: no refit yet (every 4), the scale holds */
	for (unsigned int i = 0; i < 3; i++)
		xtel_health_baseline_add(&b, &cfg, i % 2 ? 0 : 20);
	assert_true(b.mad == 1.0);
	xtel_health_baseline_add(&b, &cfg, 20);	/* the 4th: refit */
	assert_true(b.mad > 1.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_ewma),
		cmocka_unit_test(test_floors),
		cmocka_unit_test(test_refit_every),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
