// SPDX-License-Identifier: MIT
/*
 * The probe server's throttle schedule and pacer (userspace/probe/
 * schedule.c): every spelling the parser accepts or refuses, the rate at
 * and around each step (with and without a period), and the pacer's send
 * times to the nanosecond for steady, changing, unlimited and idle use.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "probe/schedule.h"

#define S(x) ((uint64_t)((x) * 1e9))

static void test_parse_ok(void **state)
{
	struct xtel_probe_schedule sc;

	(void)state;
	assert_int_equal(xtel_probe_schedule_parse("200", &sc), 0);
	assert_int_equal(sc.n, 1);
	assert_true(xtel_probe_schedule_rate(&sc, 0) == 200);
	assert_true(xtel_probe_schedule_rate(&sc, S(1e6)) == 200);

	assert_int_equal(xtel_probe_schedule_parse("0=200,20=20,40.5=0", &sc), 0);
	assert_int_equal(sc.n, 3);
	assert_true(xtel_probe_schedule_rate(&sc, 0) == 200);
	assert_true(xtel_probe_schedule_rate(&sc, S(20) - 1) == 200);
	assert_true(xtel_probe_schedule_rate(&sc, S(20)) == 20);
	assert_true(xtel_probe_schedule_rate(&sc, S(40.5) - 1) == 20);
	assert_true(xtel_probe_schedule_rate(&sc, S(40.5)) == 0);
	assert_true(xtel_probe_schedule_rate(&sc, S(1e6)) == 0);

	sc.period_ns = S(60);
	assert_true(xtel_probe_schedule_rate(&sc, S(61)) == 200);
	assert_true(xtel_probe_schedule_rate(&sc, S(80)) == 20);
	assert_true(xtel_probe_schedule_rate(&sc, S(120 + 41)) == 0);

	assert_int_equal(xtel_probe_schedule_parse("0.001", &sc), 0);
	assert_int_equal(xtel_probe_schedule_parse("0", &sc), 0);
	assert_true(xtel_probe_schedule_rate(&sc, 5) == 0);
	memset(&sc, 0, sizeof(sc));
	assert_true(xtel_probe_schedule_rate(&sc, 5) == 0);	/* no steps */
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "abc", "-1", "0.0001", "100001", "1e6", "1=200",
		"0=200,0=20", "0=200,10=20,5=30", "0=200,10=", "0=", "=5",
		"0=200,,10=20", "0=200,", ",0=200", "0=200;10=20", "0==5",
		"0=inf", "0=nan", "0=0x10", "0=+5",
	};
	struct xtel_probe_schedule sc;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xtel_probe_schedule_parse(bad[i], &sc), -EINVAL);
}

static void test_pacer(void **state)
{
	struct xtel_probe_pacer p = { .next_ns = 1000, .burst_ns = 0 };
	uint64_t at = 0;

	(void)state;
	/* 1250 bytes = 10,000 bits: 1 ms at 10 Mbit/s; ends of slots. */
	for (int k = 0; k < 1000; k++)
		at = xtel_probe_pacer_reserve(&p, 1000, 1250, 10);
	assert_int_equal(at, 1000 + 1000 * 1000000ull);
	/* Twice the rate: half the time per write, from where it was. */
	at = xtel_probe_pacer_reserve(&p, 2000, 1250, 20);
	assert_int_equal(at, 1000 + 1000 * 1000000ull + 500000);
	/* Unlimited: now, and the pacer restarts there. */
	assert_int_equal(xtel_probe_pacer_reserve(&p, 7777, 1 << 20, 0), 7777);
	assert_int_equal(p.next_ns, 7777);
}

static void test_pacer_idle(void **state)
{
	struct xtel_probe_pacer p = { .next_ns = 0, .burst_ns = 2000000 };
	uint64_t now = 10000000000ull;

	(void)state;
	/* Idle for 10 s: only 2 ms of credit are left. */
	assert_int_equal(xtel_probe_pacer_reserve(&p, now, 1250, 10),
			 now - 2000000 + 1000000);
	assert_int_equal(xtel_probe_pacer_reserve(&p, now, 1250, 10), now);
	assert_int_equal(xtel_probe_pacer_reserve(&p, now, 1250, 10), now + 1000000);
	/* Idle for less than the burst: no reset, the slot follows on. */
	p = (struct xtel_probe_pacer){ .next_ns = 0, .burst_ns = 2000000 };
	assert_int_equal(xtel_probe_pacer_reserve(&p, 1000000, 1250, 10), 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_pacer),
		cmocka_unit_test(test_pacer_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
