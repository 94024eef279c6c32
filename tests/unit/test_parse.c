// SPDX-License-Identifier: MIT
/*
 * The shared value parsers and JSON writers (userspace/parse.c, json.c)
 * with exact cases: both bounds of a range are inclusive, anything that is
 * not entirely a plain decimal is refused with -EINVAL, and a well-formed
 * value outside the range (or beyond 64 bits / a double) with -ERANGE; the
 * one error message both command lines print; CIDRs of both families with
 * good and bad prefixes and host bits as written; JSON string escapes of
 * the legacy writers; the jansson helpers' values (non-finite, u64 and
 * non-UTF-8 input) and the report layout byte for byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <float.h>
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

/* Unix seconds or RFC 3339, as the API's from/to and the reports' --from/--to. */
static void test_time(void **state)
{
	static const struct {
		const char *s;
		int rc;
		int64_t sec;
		uint32_t ns;	/* xtel_parse_rfc3339's; 0 for Unix seconds */
	} cases[] = {
		{ "0", 0, 0, 0 },
		{ "1796126400", 0, 1796126400, 0 },
		{ "253402300799", 0, 253402300799LL, 0 },
		{ "2026-12-01T12:00:00Z", 0, 1796126400, 0 },
		{ "2026-12-01t12:00:00z", 0, 1796126400, 0 },
		{ "2026-12-01 12:00:00Z", 0, 1796126400, 0 },
		{ "2026-12-01T12:00:00.25Z", 0, 1796126400, 250000000 },
		{ "2026-12-01T12:00:00.123456789123Z", 0, 1796126400, 123456789 },
		{ "2026-12-01T14:00:00+02:00", 0, 1796126400, 0 },
		{ "2026-12-01T06:30:00-05:30", 0, 1796126400, 0 },
		{ "1970-01-01T00:00:00Z", 0, 0, 0 },
		{ "1970-01-01T00:00:00+01:00", 0, -3600, 0 },
		{ "253402300800", -EINVAL, 0, 0 },	/* past 9999 as seconds */
		{ "-1", -EINVAL, 0, 0 },
		{ "1.5", -EINVAL, 0, 0 },
		{ "", -EINVAL, 0, 0 },
		{ "2026-12-01", -EINVAL, 0, 0 },	/* a date alone: no time */
		{ "2026-12-01T12:00:00", -EINVAL, 0, 0 },	/* no zone */
		{ "2026-12-01T12:00:00.Z", -EINVAL, 0, 0 },
		{ "2026-12-01T12:00:00+0200", -EINVAL, 0, 0 },
		{ "2026-12-01T12:00:00+02:60", -EINVAL, 0, 0 },
		{ "2026-12-01T12:00:00Z ", -EINVAL, 0, 0 },
		{ "2026-13-01T12:00:00Z", -EINVAL, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t t = 42, sec = 42;
		uint32_t ns = 42;
		int rc = xtel_parse_time(cases[i].s, &t);

		if (rc != cases[i].rc || (!rc && t != cases[i].sec))
			fail_msg("xtel_parse_time(\"%s\") = %d, %lld; expected %d, %lld",
				 cases[i].s, rc, (long long)t, cases[i].rc,
				 (long long)cases[i].sec);
		if (rc || !strchr(cases[i].s, '-'))
			continue;
		assert_int_equal(xtel_parse_rfc3339(cases[i].s, &sec, &ns), 0);
		assert_int_equal(sec, cases[i].sec);
		assert_int_equal(ns, cases[i].ns);
	}
	assert_int_equal(xtel_parse_rfc3339("1796126400", &(int64_t){ 0 }, NULL),
			 -EINVAL);
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

/* v dumped alone as the reports dump it; v is released. */
static void expect_dump(json_t *v, const char *want)
{
	char *got;

	assert_non_null(v);
	got = json_dumps(v, XTEL_JSON_FLAGS);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	json_decref(v);
}

static void test_json_real(void **state)
{
	(void)state;
	expect_dump(xtel_json_real(NAN), "null");
	expect_dump(xtel_json_real(-NAN), "null");
	expect_dump(xtel_json_real(INFINITY), "null");
	expect_dump(xtel_json_real(-INFINITY), "null");
	expect_dump(xtel_json_real(0.1), "0.10000000000000001");
	expect_dump(xtel_json_real(0), "0.0");
	expect_dump(xtel_json_real(-1.5), "-1.5");
	expect_dump(xtel_json_real(DBL_MAX), "1.7976931348623157e308");
}

static void test_json_u64(void **state)
{
	json_t *v;

	(void)state;
	/* Up to INT64_MAX: an exact integer. */
	v = xtel_json_u64(INT64_MAX);
	assert_true(json_is_integer(v));
	assert_true(json_integer_value(v) == INT64_MAX);
	expect_dump(v, "9223372036854775807");
	expect_dump(xtel_json_u64(0), "0");
	/* Above: the nearest real, never a negative integer. */
	v = xtel_json_u64((uint64_t)INT64_MAX + 1);
	assert_true(json_is_real(v));
	assert_true(json_real_value(v) == 0x1p63);
	expect_dump(v, "9.2233720368547758e18");
	v = xtel_json_u64(UINT64_MAX);
	assert_true(json_is_real(v));
	assert_true(json_real_value(v) == 0x1p64);
	expect_dump(v, "1.8446744073709552e19");
}

/* s as xtel_json_text makes it: its string value and how it is dumped. */
static void expect_text(const char *s, const char *value, const char *dump)
{
	json_t *v = xtel_json_text(s);

	assert_true(json_is_string(v));
	assert_string_equal(json_string_value(v), value);
	expect_dump(v, dump);
}

static void test_json_text(void **state)
{
	(void)state;
	expect_dump(xtel_json_text(NULL), "null");
	expect_text("", "", "\"\"");
	expect_text("say \"hi\"", "say \"hi\"", "\"say \\\"hi\\\"\"");
	expect_text("C:\\dir\\", "C:\\dir\\", "\"C:\\\\dir\\\\\"");
	expect_text("a\nb\tc\x01\x1f", "a\nb\tc\x01\x1f",
		    "\"a\\nb\\tc\\u0001\\u001F\"");
	/* Valid UTF-8 (é, €, an emoji) is kept byte for byte. */
	expect_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88",
		    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88",
		    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88\"");
	/* Every byte that starts no valid sequence becomes one U+FFFD. */
	expect_text("a\xff" "b", "a\xef\xbf\xbd" "b", "\"a\xef\xbf\xbd" "b\"");
	expect_text("caf\xc3\xa9\x80", "caf\xc3\xa9\xef\xbf\xbd",
		    "\"caf\xc3\xa9\xef\xbf\xbd\"");
	/* Overlong '/', a truncated euro sign, a UTF-16 surrogate. */
	expect_text("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd",
		    "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	expect_text("x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd",
		    "\"x\xef\xbf\xbd\xef\xbf\xbd\"");
	expect_text("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	/* Above U+10FFFF. */
	expect_text("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

/* xtel_json_fixed(v, decimals) must be the real want exactly. */
static void expect_fixed(double v, int decimals, double want)
{
	json_t *j = xtel_json_fixed(v, decimals);

	assert_true(json_is_real(j));
	if (json_real_value(j) != want)
		fail_msg("xtel_json_fixed(%.17g, %d) = %.17g, want %.17g",
			 v, decimals, json_real_value(j), want);
	json_decref(j);
}

static void test_json_fixed(void **state)
{
	(void)state;
	expect_fixed(2.0004, 3, 2.0);
	expect_fixed(2.0006, 3, 2.001);
	expect_fixed(19936.51149, 3, 19936.511);
	expect_fixed(-1.23456, 3, -1.235);
	expect_fixed(0.0451434999, 6, 0.045143);
	expect_fixed(0.0000004, 6, 0.0);
	expect_fixed(1.5, 0, 2.0);
	expect_fixed(1000, 3, 1000.0);
	expect_fixed(1e300, 3, 1e300);
	/*
	 * Near a tie the stored double decides, as it does for printf: the
	 * double nearest 4215.7945 is just below it. Scaling by 1000 first
	 * would round that product up to the tie and then away from zero.
	 */
	expect_fixed(4215.7945, 3, 4215.794);
	expect_fixed(2756.3255, 3, 2756.325);
	expect_fixed(387.1445, 3, 387.144);
	expect_dump(xtel_json_fixed(19936.511, 3), "19936.510999999999");
	expect_dump(xtel_json_fixed(NAN, 3), "null");
	expect_dump(xtel_json_fixed(INFINITY, 6), "null");
	expect_dump(xtel_json_fixed(-INFINITY, 6), "null");
}

/* Over a sweep of values and magnitudes: the same double as %.*f read back. */
static void test_json_fixed_as_printf(void **state)
{
	static const int decimals[] = { 0, 1, 3, 6 };
	char buf[64];

	(void)state;
	for (size_t d = 0; d < sizeof(decimals) / sizeof(decimals[0]); d++) {
		for (uint32_t i = 0; i < 200000; i++) {
			/* Ties and near-ties at every scale, and plain values. */
			double v = (i % 2 ? i / 2000.0 + 0.0005 : i * 0.7071067811865476) *
				   (i % 3 ? 1.0 : -1e-3);

			snprintf(buf, sizeof(buf), "%.*f", decimals[d], v);
			expect_fixed(v, decimals[d], strtod(buf, NULL));
		}
	}
}

/* What xtel_json_write_report writes for obj (released), and its result. */
static char *write_report(json_t *obj, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*ret = xtel_json_write_report(f, obj);
	assert_int_equal(fclose(f), 0);
	json_decref(obj);
	return buf;
}

static json_t *row(int a, const char *b)
{
	json_t *o = json_object();

	xtel_json_set(o, "a", json_integer(a));
	xtel_json_set(o, "b", xtel_json_text(b));
	return o;
}

static void test_json_write_report(void **state)
{
	json_t *obj = json_object(), *rows = json_array(), *nums = json_array();
	json_t *sub = json_object();
	char *got;
	int ret;

	(void)state;
	assert_int_equal(json_array_append_new(rows, row(1, "x")), 0);
	assert_int_equal(json_array_append_new(rows, row(2, NULL)), 0);
	assert_int_equal(json_array_append_new(nums, json_integer(1)), 0);
	assert_int_equal(json_array_append_new(nums, xtel_json_real(2.5)), 0);
	xtel_json_set(sub, "k", xtel_json_u64(7));
	xtel_json_set(sub, "nan", xtel_json_real(NAN));
	/* Members stay in the order they were set. */
	xtel_json_set(obj, "version", json_integer(1));
	xtel_json_set(obj, "name", xtel_json_text("n\"1"));
	xtel_json_set(obj, "rows", rows);
	xtel_json_set(obj, "empty", json_array());
	xtel_json_set(obj, "nums", nums);
	xtel_json_set(obj, "sub", sub);
	xtel_json_set(obj, "none", json_null());
	got = write_report(obj, &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(got,
		"{\n"
		"  \"version\": 1,\n"
		"  \"name\": \"n\\\"1\",\n"
		"  \"rows\": [\n"
		"    {\"a\": 1, \"b\": \"x\"},\n"
		"    {\"a\": 2, \"b\": null}\n"
		"  ],\n"
		"  \"empty\": [],\n"
		"  \"nums\": [1, 2.5],\n"
		"  \"sub\": {\"k\": 7, \"nan\": null},\n"
		"  \"none\": null\n"
		"}\n");
	free(got);

	obj = json_object();
	got = write_report(obj, &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(got, "{\n}\n");
	free(got);
}

static void test_json_write_report_failed(void **state)
{
	json_t *obj, *rows;
	char *got;
	int ret;

	(void)state;
	/* A NULL member (a failed constructor) fails the whole report. */
	obj = json_object();
	xtel_json_set(obj, "ok", json_integer(1));
	xtel_json_set(obj, "lost", NULL);
	got = write_report(obj, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_string_equal(got, "");
	free(got);

	/* So does one in a row of an array, however deep. */
	obj = json_object();
	rows = json_array();
	assert_int_equal(json_array_append_new(rows, row(1, "x")), 0);
	assert_int_equal(json_array_append_new(rows, json_object()), 0);
	xtel_json_set(json_array_get(rows, 1), "lost", NULL);
	xtel_json_set(obj, "rows", rows);
	got = write_report(obj, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_string_equal(got, "");
	free(got);
}

/* xtel_json_rows' row for the tests: row(i + 1), NULL at lost_at. */
struct rows_of {
	size_t *made;	/* rows asked for */
	size_t lost_at;
};

static json_t *streamed_row(const void *ctx, size_t i)
{
	const struct rows_of *r = ctx;

	(*r->made)++;
	if (i == r->lost_at)
		return NULL;
	return row((int)i + 1, i ? NULL : "x");
}

/* The same bytes from a streamed member as from an array in the tree. */
static void test_json_write_report_rows(void **state)
{
	size_t made = 0;
	struct rows_of r = { .made = &made, .lost_at = SIZE_MAX };
	struct xtel_json_rows rows = { .key = "rows", .n = 2,
				       .row = streamed_row, .ctx = &r };
	json_t *obj = json_object(), *tree = json_object(), *arr = json_array();
	char *buf = NULL, *want;
	size_t len = 0;
	FILE *f;
	int ret;

	(void)state;
	xtel_json_set(obj, "version", json_integer(1));
	xtel_json_set(tree, "version", json_integer(1));
	assert_int_equal(json_array_append_new(arr, row(1, "x")), 0);
	assert_int_equal(json_array_append_new(arr, row(2, NULL)), 0);
	xtel_json_set(tree, "rows", arr);
	want = write_report(tree, &ret);
	assert_int_equal(ret, 0);

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(xtel_json_write_report_rows(f, obj, &rows, 1), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, want);
	assert_int_equal(made, 2);
	free(buf);
	free(want);

	/* None: an empty array, as the tree writes it. */
	rows.n = 0;
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_int_equal(xtel_json_write_report_rows(f, obj, &rows, 1), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "{\n  \"version\": 1,\n  \"rows\": []\n}\n");
	free(buf);

	/* A row that could not be made fails the report, cut short. */
	rows.n = 3;
	r.lost_at = 1;
	made = 0;
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_int_equal(xtel_json_write_report_rows(f, obj, &rows, 1), -ENOMEM);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(made, 2);
	assert_null(strstr(buf, "\"a\": 2"));
	free(buf);
	json_decref(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_double),
		cmocka_unit_test(test_flag_message),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_cidr_good),
		cmocka_unit_test(test_cidr_bad),
		cmocka_unit_test(test_cidr_mask),
		cmocka_unit_test(test_json_real),
		cmocka_unit_test(test_json_u64),
		cmocka_unit_test(test_json_text),
		cmocka_unit_test(test_json_fixed),
		cmocka_unit_test(test_json_fixed_as_printf),
		cmocka_unit_test(test_json_write_report),
		cmocka_unit_test(test_json_write_report_failed),
		cmocka_unit_test(test_json_write_report_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
