// SPDX-License-Identifier: MIT
/*
 * health/baseline.c: the first sample, the running means while the
 * baseline fills, the widening, the clipped (Huber) step of an outlier,
 * the EWMA weights once full, the floors, and the z of a value.
 */
#include "test_health_methods.h"
#include "health/baseline.h"
#include "health/robust.h"

static const struct xtel_health_baseline_cfg cfg = {
	.alpha = 0.05, .floor_abs = 0.1, .floor_rel = 0,
};

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-4 * fmax(1, fabs(b));
}

static void test_first(void **state)
{
	struct xtel_health_baseline b;

	(void)state;
	xtel_health_baseline_init(&b);
	assert_true(xtel_health_baseline_z(&b, 50) == 0.0);	/* unfitted */
	xtel_health_baseline_add(&b, &cfg, 5);
	assert_true(b.fitted && b.n == 1 && b.centre == 5.0f);
	/* no deviation yet: the floor is the scale */
	assert_true(b.absdev == 0 && near(b.scale, 0.1));
	assert_true(near(xtel_health_baseline_z(&b, 5.5), 5.0));
}

static void test_filling(void **state)
{
	struct xtel_health_baseline b;
	const double x[] = { 8, 9, 10, 11, 12, 10, 9, 11 };

	(void)state;
	xtel_health_baseline_init(&b);
	xtel_health_baseline_add(&b, &cfg, 9);
	xtel_health_baseline_add(&b, &cfg, 11);
	/* running means: centre 10, |11 - 9| / 2 = 1; widened by sqrt(64 / 2) */
	assert_true(near(b.centre, 10) && near(b.absdev, 1));
	assert_true(near(b.scale, XTEL_HEALTH_MEANAD_SIGMA * 1 * sqrt(32)));
	xtel_health_baseline_init(&b);
	for (unsigned int i = 0; i < 8; i++)
		xtel_health_baseline_add(&b, &cfg, x[i]);
	/* 1/n beats alpha all along: the centre is the plain mean */
	assert_true(b.n == 8 && near(b.centre, 10));
	/* 8 of 64: widened by sqrt(8) */
	assert_true(near(b.scale, XTEL_HEALTH_MEANAD_SIGMA * b.absdev * sqrt(8)));
	assert_true(near(xtel_health_baseline_z(&b, b.centre + 3 * b.scale), 3));
}

static void test_outlier_clipped(void **state)
{
	struct xtel_health_baseline b;
	double c0, a0, s0;

	(void)state;
	xtel_health_baseline_init(&b);
	for (unsigned int i = 0; i < 7; i++)
		xtel_health_baseline_add(&b, &cfg, i % 2 ? 11 : 9);
	c0 = b.centre;
	a0 = b.absdev;
	s0 = b.scale;
	xtel_health_baseline_add(&b, &cfg, 1000);
	/* the 8th sample moves both means by 1/8 of 3 scales, not of 990 */
	assert_true(near(b.centre, c0 + XTEL_HEALTH_HUBER_C * s0 / 8));
	assert_true(near(b.absdev, a0 + (XTEL_HEALTH_HUBER_C * s0 - a0) / 8));
	assert_true(b.centre < 12);
}

static void test_ewma(void **state)
{
	struct xtel_health_baseline b;
	double c0, a0;

	(void)state;
	xtel_health_baseline_init(&b);
	for (unsigned int i = 0; i < 200; i++)
		xtel_health_baseline_add(&b, &cfg, i % 2 ? 11 : 9);
	assert_true(fabs(b.centre - 10) < 0.1);
	/* |x - centre| is 1 for every sample, whatever the weights */
	assert_true(fabs(b.absdev - 1) < 0.1);
	c0 = b.centre;
	a0 = b.absdev;
	/* full: the centre moves by alpha, the deviation by 1/64 */
	xtel_health_baseline_add(&b, &cfg, c0 + 1.5);
	assert_true(near(b.centre, c0 + 0.05 * 1.5));
	assert_true(near(b.absdev, a0 + (1.5 - a0) / XTEL_HEALTH_ABSDEV_N));
	assert_true(b.n == 201);
	/* full memory: no widening */
	assert_true(near(b.scale, XTEL_HEALTH_MEANAD_SIGMA * b.absdev));
}

static void test_floors(void **state)
{
	struct xtel_health_baseline b;
	struct xtel_health_baseline_cfg rel = cfg;

	(void)state;
	/* a constant signal: deviation 0, the absolute floor holds the scale */
	xtel_health_baseline_init(&b);
	for (unsigned int i = 0; i < 8; i++)
		xtel_health_baseline_add(&b, &cfg, 5);
	assert_true(b.absdev == 0 && near(b.scale, 0.1));
	assert_true(near(xtel_health_baseline_z(&b, 5.5), 5.0));
	/* relative floor: 10% of a centre of 200 */
	rel.floor_rel = 0.1;
	xtel_health_baseline_init(&b);
	for (unsigned int i = 0; i < 8; i++)
		xtel_health_baseline_add(&b, &rel, 200);
	assert_true(near(b.scale, 20.0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first),
		cmocka_unit_test(test_filling),
		cmocka_unit_test(test_outlier_clipped),
		cmocka_unit_test(test_ewma),
		cmocka_unit_test(test_floors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
