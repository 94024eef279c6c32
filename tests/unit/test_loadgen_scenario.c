// SPDX-License-Identifier: MIT
/*
 * loadgen/scenario.c: every rule kind parses and every malformed line is
 * refused with its reason; the effect of overlapping rules at a time; the
 * metric rewrite of a rendered payload (still valid for the decoder); the
 * per-datagram latency and loss draws are deterministic, in range, and at
 * the requested rate.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenario.h"
#include "wire/wire.h"

static void test_parse_ok(void **state)
{
	struct xtel_lg_sc_rule r;
	char err[160];

	(void)state;
	assert_int_equal(xtel_lg_scenario_parse_line("5-9 10 end latency 50 10",
						     &r, err, sizeof(err)), 0);
	assert_int_equal(r.id_lo, 5);
	assert_int_equal(r.id_hi, 9);
	assert_true(r.from_s == 10 && isinf(r.to_s));
	assert_int_equal(r.kind, XTEL_LG_SC_LATENCY);
	assert_true(r.a == 50 && r.b == 10);
	assert_int_equal(xtel_lg_scenario_parse_line("* 0 5.5 loss 0.25", &r, err,
						     sizeof(err)), 0);
	assert_true(r.id_lo == 0 && r.id_hi == UINT32_MAX && r.to_s == 5.5 && r.a == 0.25);
	assert_int_equal(xtel_lg_scenario_parse_line("7 1 2 metric temp -2.5", &r,
						     err, sizeof(err)), 0);
	assert_string_equal(r.key, "temp");
	assert_true(r.a == -2.5);
	assert_int_equal(xtel_lg_scenario_parse_line("7 1 2 stop", &r, err,
						     sizeof(err)), 0);
	assert_int_equal(xtel_lg_scenario_parse_line("7 1 2 rate 0.5", &r, err,
						     sizeof(err)), 0);
}

static void test_parse_refused(void **state)
{
	static const struct { const char *line, *why; } bad[] = {
		{ "5 10 end", "want IDS FROM TO KIND" },
		{ "x 10 end stop", "bad client ids 'x'" },
		{ "9-5 10 end stop", "bad client ids '9-5'" },
		{ "5 -1 end stop", "bad start '-1'" },
		{ "5 10 10 stop", "bad end '10'" },
		{ "5 10 end melt", "unknown fault 'melt'" },
		{ "5 10 end latency", "wrong number of arguments for 'latency'" },
		{ "5 10 end stop now", "wrong number of arguments for 'stop'" },
		{ "5 10 end loss 1.5", "loss: a probability 0..1" },
		{ "5 10 end rate -1", "rate: a factor 0..100" },
		{ "5 10 end metric te=mp 1", "metric: bad key 'te=mp'" },
		{ "5 10 end metric temp x", "metric: bad delta 'x'" },
	};
	struct xtel_lg_sc_rule r;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(xtel_lg_scenario_parse_line(bad[i].line, &r, err,
							     sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].why))
			fail_msg("'%s': '%s' lacks '%s'", bad[i].line, err, bad[i].why);
	}
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/xtel-scenario-XXXXXX", err[256];
	struct xtel_lg_scenario *sc = calloc(1, sizeof(*sc));
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	fputs("# a comment\n\n3 10 end latency 50   # trailing comment\n"
	      "4-6 10 20 loss 0.1\n", f);
	fclose(f);
	assert_int_equal(xtel_lg_scenario_load(path, sc, err, sizeof(err)), 0);
	assert_int_equal(sc->n, 2);
	f = fopen(path, "a");
	fputs("7 1 2 boom\n", f);
	fclose(f);
	assert_int_equal(xtel_lg_scenario_load(path, sc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":5: unknown fault 'boom'"));
	unlink(path);
	assert_int_equal(xtel_lg_scenario_load(path, sc, err, sizeof(err)), -ENOENT);
	free(sc);
}

static void test_effect(void **state)
{
	struct xtel_lg_scenario *sc = calloc(1, sizeof(*sc));
	struct xtel_lg_sc_effect e;
	char err[160];
	const char *lines[] = { "3 10 end latency 50", "3 12 end latency 0 10",
				"3-4 10 20 loss 0.5", "3-4 10 20 loss 0.5",
				"4 5 end rate 0.5", "4 6 end rate 0.5",
				"5 10 20 stop", "3 10 end metric temp +40" };

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_int_equal(xtel_lg_scenario_parse_line(lines[i],
				 &sc->rules[sc->n++], err, sizeof(err)), 0);
	xtel_lg_scenario_effect(sc, 3, 9.99, &e);
	assert_false(e.any);
	assert_true(e.rate == 1.0 && e.loss == 0 && e.delay_ns == 0);
	xtel_lg_scenario_effect(sc, 3, 12, &e);
	assert_true(e.any && e.delay_ns == 50000000 && e.jitter_ns == 10000000);
	assert_true(fabs(e.loss - 0.75) < 1e-12);	/* 1 - 0.5 * 0.5 */
	assert_int_equal(e.n_metrics, 1);
	assert_true(e.metric[0].delta == 40);
	xtel_lg_scenario_effect(sc, 3, 20, &e);	/* loss ended at 20 */
	assert_true(e.loss == 0);
	xtel_lg_scenario_effect(sc, 4, 7, &e);
	assert_true(e.rate == 0.25);
	xtel_lg_scenario_effect(sc, 5, 15, &e);
	assert_true(e.stop);
	xtel_lg_scenario_effect(sc, 6, 15, &e);
	assert_false(e.any);
	free(sc);
}

static void test_metrics_rewrite(void **state)
{
	struct xtel_lg_sc_effect e = { .n_metrics = 2 };
	char buf[XTEL_MAX_PAYLOAD + 1] = "temp=21.5;load=40;fan=3";
	struct xtel_msg m;
	uint8_t dgram[XTEL_MAX_DATAGRAM];
	size_t n;
	ssize_t len;

	(void)state;
	e.metric[0].key = "temp";
	e.metric[0].delta = 40;
	e.metric[1].key = "fan";
	e.metric[1].delta = -5;
	n = xtel_lg_scenario_metrics(&e, buf, strlen(buf), sizeof(buf) - 1);
	buf[n] = 0;
	assert_string_equal(buf, "temp=61.500;load=40;fan=-2.000");
	/* the collector's decoder takes it */
	len = xtel_wire_encode(dgram, sizeof(dgram), XTEL_MSG_DATA, 1, 1, 1, buf, n);
	assert_true(len > 0);
	assert_int_equal(xtel_wire_decode(dgram, (size_t)len, &m), XTEL_WIRE_OK);
	assert_int_equal(m.n_metrics, 3);
	/* no delta: untouched */
	e.n_metrics = 0;
	assert_int_equal(xtel_lg_scenario_metrics(&e, buf, n, sizeof(buf) - 1), n);
}

static void test_draws(void **state)
{
	struct xtel_lg_sc_effect e = { .delay_ns = 50000000, .jitter_ns = 10000000,
				       .loss = 0.1 };
	uint64_t lost = 0;

	(void)state;
	for (uint64_t seq = 1; seq <= 100000; seq++) {
		uint64_t d = xtel_lg_scenario_delay(&e, 7, 3, seq);

		assert_true(d >= 50000000 && d < 60000000);
		assert_int_equal(d, xtel_lg_scenario_delay(&e, 7, 3, seq));
		lost += xtel_lg_scenario_lose(&e, 7, 3, seq);
	}
	/* 10% of 100000, within 4 sigma (95) */
	assert_true(lost > 10000 - 380 && lost < 10000 + 380);
	e.loss = 0;
	assert_false(xtel_lg_scenario_lose(&e, 7, 3, 1));
	e.jitter_ns = 0;
	assert_int_equal(xtel_lg_scenario_delay(&e, 7, 3, 1), 50000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_effect),
		cmocka_unit_test(test_metrics_rewrite),
		cmocka_unit_test(test_draws),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
