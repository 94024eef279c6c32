// SPDX-License-Identifier: MIT
/*
 * The shared value parsers and JSON writers (userspace/parse.c, json.c)
 * with exact cases: both bounds of a range are inclusive, anything that is
 * not entirely a plain decimal is refused with -EINVAL, and a well-formed
 * value outside the range (or beyond 64 bits / a double) with -ERANGE; the
 * one error message both command lines print; CIDRs of both families with
 * good and bad prefixes and host bits as written; JSON string escapes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/log.h"
#include "common/parse.h"

static int u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	*out = 12345;	/* untouched on failure */
	return xtel_parse_u64(s, lo, hi, out);
}

static void test_u64(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(u64("1", 1, 65535, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(u64("65535", 1, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(u64("007", 0, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);

	assert_int_equal(u64("0", 1, 65535, &v), -ERANGE);
	assert_int_equal(u64("65536", 1, 65535, &v), -ERANGE);
	assert_int_equal(u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(u64("99999999999999999999", 0, UINT64_MAX, &v), -ERANGE);

	assert_int_equal(u64("", 0, 10, &v), -EINVAL);
	assert_int_equal(u64("-1", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(u64("-0", 0, 10, &v), -EINVAL);
	assert_int_equal(u64("+1", 0, 10, &v), -EINVAL);
	assert_int_equal(u64(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(u64("1 ", 0, 10, &v), -EINVAL);
	assert_int_equal(u64("5x", 0, 10, &v), -EINVAL);
	assert_int_equal(u64("1.5", 0, 10, &v), -EINVAL);
	assert_int_equal(u64("1e3", 0, 10000, &v), -EINVAL);
	assert_int_equal(u64("0x10", 0, 100, &v), -EINVAL);
	assert_int_equal(u64("abc", 0, 10, &v), -EINVAL);
	assert_int_equal(v, 12345);
}

static int dbl(const char *s, double lo, double hi, double *out)
{
	*out = 42.0;
	return xtel_parse_double(s, lo, hi, out);
}

static void test_double(void **state)
{
	double v;

	(void)state;
	assert_int_equal(dbl("0.1", 0.1, 3600, &v), 0);
	assert_true(v == 0.1);
	assert_int_equal(dbl("3600", 0.1, 3600, &v), 0);
	assert_true(v == 3600.0);
	assert_int_equal(dbl(".5", 0, 1, &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(dbl("1.", 0, 1, &v), 0);
	assert_true(v == 1.0);
	assert_int_equal(dbl("1e3", 0, 1e7, &v), 0);
	assert_true(v == 1000.0);
	assert_int_equal(dbl("2.5E-1", 0, 1, &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(dbl("-0.5", -1, 1, &v), 0);
	assert_true(v == -0.5);

	assert_int_equal(dbl("0.09", 0.1, 3600, &v), -ERANGE);
	assert_int_equal(dbl("3600.001", 0.1, 3600, &v), -ERANGE);
	assert_int_equal(dbl("-1", 0, 1, &v), -ERANGE);
	assert_int_equal(dbl("1e99", 0, 1e7, &v), -ERANGE);
	assert_int_equal(dbl("1e400", 0, INFINITY, &v), -ERANGE);
	assert_int_equal(dbl("1e-400", 0, 1, &v), -ERANGE);

	assert_int_equal(dbl("", 0, 1, &v), -EINVAL);
	assert_int_equal(dbl("-", 0, 1, &v), -EINVAL);
	assert_int_equal(dbl(".", 0, 1, &v), -EINVAL);
	assert_int_equal(dbl("+1", 0, 10, &v), -EINVAL);
	assert_int_equal(dbl(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(dbl("1 ", 0, 10, &v), -EINVAL);
	assert_int_equal(dbl("1e", 0, 10, &v), -EINVAL);
	assert_int_equal(dbl("1,5", 0, 10, &v), -EINVAL);
	assert_int_equal(dbl("0x10", 0, 100, &v), -EINVAL);
	assert_int_equal(dbl("0X1p3", 0, 100, &v), -EINVAL);
	assert_int_equal(dbl("-0x1", -10, 10, &v), -EINVAL);
	assert_int_equal(dbl("inf", 0, INFINITY, &v), -EINVAL);
	assert_int_equal(dbl("-inf", -INFINITY, 0, &v), -EINVAL);
	assert_int_equal(dbl("infinity", 0, INFINITY, &v), -EINVAL);
	assert_int_equal(dbl("nan", 0, 1, &v), -EINVAL);
	assert_int_equal(dbl("NAN", 0, 1, &v), -EINVAL);
	assert_int_equal(dbl("abc", 0, 1, &v), -EINVAL);
	assert_true(v == 42.0);
}

/* Runs fn with stderr sent to a temporary file; returns what it wrote. */
static char *capture_stderr(int (*fn)(void *), void *arg, int *ret)
{
	static char buf[512];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), 2) == 2);
	*ret = fn(arg);
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static int flag_port_bad(void *arg)
{
	uint64_t v = 0;

	(void)arg;
	xtel_log_setup("collector", XTEL_LOG_INFO);
	return xtel_flag_u64("port", "70000", 1, 65535, "1..65535", &v);
}

static int flag_rate_bad(void *arg)
{
	double v = 0;

	(void)arg;
	xtel_log_setup("loadgen", XTEL_LOG_INFO);
	return xtel_flag_double("rate", "nan", 0, 1e7,
				"packets per second 0..10000000", &v);
}

static int flag_ok(void *arg)
{
	double *v = arg;

	return xtel_flag_double("loss", "0.05", 0, 1, "0..1", v);
}

static void test_flag_message(void **state)
{
	double v = 0;
	int ret;
	char *msg;

	(void)state;
	msg = capture_stderr(flag_port_bad, NULL, &ret);
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(msg, "collector: invalid value '70000' for --port (valid: 1..65535)\n");
	msg = capture_stderr(flag_rate_bad, NULL, &ret);
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(msg, "loadgen: invalid value 'nan' for --rate (valid: packets per second 0..10000000)\n");
	msg = capture_stderr(flag_ok, &v, &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(msg, "");
	assert_true(v == 0.05);
}

static void expect_cidr(const char *s, unsigned int flags, int family,
			const char *addr, unsigned int prefix, bool host_bits)
{
	struct xtel_cidr c;
	unsigned char want[16] = { 0 };

	assert_int_equal(xtel_parse_cidr(s, flags, &c), 0);
	assert_int_equal(c.family, family);
	assert_int_equal(c.prefix, prefix);
	assert_int_equal(inet_pton(family, addr, want), 1);
	assert_memory_equal(c.addr, want, 16);
	assert_int_equal(xtel_cidr_host_bits(&c), host_bits);
}

static void test_cidr_good(void **state)
{
	(void)state;
	expect_cidr("198.18.1.0/24", 0, AF_INET, "198.18.1.0", 24, false);
	expect_cidr("198.18.1.0/24", XTEL_CIDR_NEED_PREFIX, AF_INET, "198.18.1.0", 24, false);
	expect_cidr("0.0.0.0/0", 0, AF_INET, "0.0.0.0", 0, false);
	expect_cidr("198.18.0.7/32", 0, AF_INET, "198.18.0.7", 32, false);
	expect_cidr("198.18.0.7", 0, AF_INET, "198.18.0.7", 32, false);
	expect_cidr("198.18.1.0/024", 0, AF_INET, "198.18.1.0", 24, false);
	/* Host bits are kept as written and reported. */
	expect_cidr("198.18.1.1/24", 0, AF_INET, "198.18.1.1", 24, true);
	expect_cidr("198.18.1.128/25", 0, AF_INET, "198.18.1.128", 25, false);
	expect_cidr("198.18.1.64/25", 0, AF_INET, "198.18.1.64", 25, true);
	expect_cidr("2001:2:0:1::/64", 0, AF_INET6, "2001:2:0:1::", 64, false);
	expect_cidr("2001:2::1/128", 0, AF_INET6, "2001:2::1", 128, false);
	expect_cidr("2001:2::1", 0, AF_INET6, "2001:2::1", 128, false);
	expect_cidr("::/0", 0, AF_INET6, "::", 0, false);
	expect_cidr("2001:2::1/64", 0, AF_INET6, "2001:2::1", 64, true);
	expect_cidr("::ffff:198.18.0.1/128", 0, AF_INET6, "::ffff:198.18.0.1", 128, false);
}

static void test_cidr_bad(void **state)
{
	static const char *const bad[] = {
		"", "/24", "198.18.1.0/", "198.18.1.0/33", "198.18.1.0/-1",
		"198.18.1.0/+24", "198.18.1.0/ 24", "198.18.1.0/24 ",
		"198.18.1.0/2x", "198.18.1.0/24/1", "198.18.1.0/99999999999999999999",
		"198.18.1/24", "300.18.1.0/24", "198.18.1.0 /24", " 198.18.1.0",
		"2001:2::/129", "2001:2::zz/64", "2001:2:::1/64", "[2001:2::1]/64",
		"2001:2::/0x40", "localhost", "::ffff:198.18.0.1:1/128",
		"0000:0000:0000:0000:0000:ffff:255.255.255.255:1/128",
	};
	struct xtel_cidr c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (xtel_parse_cidr(bad[i], 0, &c) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(xtel_parse_cidr("198.18.1.0", XTEL_CIDR_NEED_PREFIX, &c), -EINVAL);
	assert_int_equal(xtel_parse_cidr("2001:2::1", XTEL_CIDR_NEED_PREFIX, &c), -EINVAL);
}

static void test_cidr_mask(void **state)
{
	struct xtel_cidr c;
	unsigned char want[16] = { 0 };

	(void)state;
	assert_int_equal(xtel_parse_cidr("198.18.1.77/25", 0, &c), 0);
	xtel_cidr_mask(&c);
	inet_pton(AF_INET, "198.18.1.0", want);
	assert_memory_equal(c.addr, want, 16);
	assert_false(xtel_cidr_host_bits(&c));

	assert_int_equal(xtel_parse_cidr("2001:2:0:1:ffff::1/66", 0, &c), 0);
	xtel_cidr_mask(&c);
	memset(want, 0, sizeof(want));
	inet_pton(AF_INET6, "2001:2:0:1:c000::", want);
	assert_memory_equal(c.addr, want, 16);

	assert_int_equal(xtel_parse_cidr("255.255.255.255/0", 0, &c), 0);
	xtel_cidr_mask(&c);
	memset(want, 0, sizeof(want));
	assert_memory_equal(c.addr, want, 16);
}

static void expect_json(void (*write)(FILE *f, const void *v), const void *v,
			const char *want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	write(f, v);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(len, strlen(want));
	assert_string_equal(buf, want);
	free(buf);
}

static void write_str(FILE *f, const void *v)
{
	xtel_json_str(f, v);
}

static void write_double(FILE *f, const void *v)
{
	xtel_json_double(f, *(const double *)v);
}

static void test_json_str(void **state)
{
	(void)state;
	expect_json(write_str, "plain", "\"plain\"");
	expect_json(write_str, "", "\"\"");
	expect_json(write_str, NULL, "\"\"");
	expect_json(write_str, "say \"hi\"", "\"say \\\"hi\\\"\"");
	expect_json(write_str, "C:\\dir\\", "\"C:\\\\dir\\\\\"");
	expect_json(write_str, "a\nb\tc\rd", "\"a\\u000ab\\u0009c\\u000dd\"");
	expect_json(write_str, "\x01\x1f \x7f", "\"\\u0001\\u001f \x7f\"");
	/* UTF-8 (é, €, an emoji) passes through byte for byte. */
	expect_json(write_str, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88",
		    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88\"");
	expect_json(write_str, "/</script>", "\"/</script>\"");
}

static void test_json_double(void **state)
{
	double v;

	(void)state;
	v = 0.1;
	expect_json(write_double, &v, "0.10000000000000001");
	v = 42;
	expect_json(write_double, &v, "42");
	v = -1.5;
	expect_json(write_double, &v, "-1.5");
	v = 1e300;
	expect_json(write_double, &v, "1.0000000000000001e+300");
	v = NAN;
	expect_json(write_double, &v, "null");
	v = INFINITY;
	expect_json(write_double, &v, "null");
	v = -INFINITY;
	expect_json(write_double, &v, "null");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_double),
		cmocka_unit_test(test_flag_message),
		cmocka_unit_test(test_cidr_good),
		cmocka_unit_test(test_cidr_bad),
		cmocka_unit_test(test_cidr_mask),
		cmocka_unit_test(test_json_str),
		cmocka_unit_test(test_json_double),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
