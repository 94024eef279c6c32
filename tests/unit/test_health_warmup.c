// SPDX-License-Identifier: MIT
/* health/warmup.c: warm after exactly `need` intervals, again after a restart. */
#include "test_health_methods.h"
#include "health/warmup.h"

static void test_warmup(void **state)
{
	struct xtel_health_warmup w = { 0 };

	(void)state;
	for (unsigned int i = 1; i < 5; i++) {
		assert_false(xtel_health_warmup_tick(&w, 5));
		assert_false(xtel_health_warm(&w, 5));
	}
	assert_true(xtel_health_warmup_tick(&w, 5));
	assert_true(xtel_health_warm(&w, 5));
	xtel_health_warmup_restart(&w);
	assert_false(xtel_health_warm(&w, 5));
	w.seen = UINT32_MAX;
	assert_true(xtel_health_warmup_tick(&w, 5));
	assert_int_equal(w.seen, UINT32_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_warmup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
