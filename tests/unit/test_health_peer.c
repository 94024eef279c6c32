// SPDX-License-Identifier: MIT
/*
 * health/peer.c: the group centre is the median, robust to a sick
 * minority; too few members means no comparison; the floor holds a
 * perfectly uniform group.
 */
#include "test_health_methods.h"
#include "health/peer.h"
#include "health/robust.h"

static void test_outlier(void **state)
{
	/* 8 devices near 1 ms, 2 at 50 ms */
	float v[] = { 1.0f, 1.1f, 0.9f, 1.0f, 1.2f, 0.8f, 1.0f, 1.0f, 50, 50 };
	struct xtel_health_peer p;

	(void)state;
	xtel_health_peer_fit(&p, v, 10, 5, 0.01);
	assert_true(fabs(p.centre - 1.0) < 1e-6);
	/* |x - 1| = 0, .1, .1, 0, .2, .2, 0, 0, 49, 49: median 0.1 */
	assert_true(fabs(p.scale - XTEL_HEALTH_MAD_SIGMA * 0.1) < 1e-6);
	assert_true(xtel_health_peer_z(&p, 50) > 300);
	assert_true(fabs(xtel_health_peer_z(&p, 1.0)) < 1e-6);
}

static void test_small_and_floor(void **state)
{
	float few[] = { 1, 2, 3 }, same[] = { 0, 0, 0, 0, 0, 0 };
	struct xtel_health_peer p;

	(void)state;
	xtel_health_peer_fit(&p, few, 3, 5, 0.5);
	assert_true(p.scale == 0 && xtel_health_peer_z(&p, 100) == 0);
	xtel_health_peer_fit(&p, same, 6, 5, 0.5);
	assert_true(p.scale == 0.5);
	assert_true(xtel_health_peer_z(&p, 4) == 8.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outlier),
		cmocka_unit_test(test_small_and_floor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
