// SPDX-License-Identifier: MIT
/*
 * The probe server's request parser (userspace/probe_server/http.c):
 * where a head ends, and the status of every kind of request it may get,
 * with the size limits at both ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "probe_server/http.h"

static int status_of(const char *req, uint64_t max, uint64_t *size)
{
	struct xtel_probe_req r;

	xtel_probe_http_parse(req, strlen(req), max, &r);
	*size = r.size;
	if (r.status != 200)
		assert_non_null(r.why);
	return r.status;
}

static void test_head_len(void **state)
{
	const char *h = "GET / HTTP/1.1\r\nHost: x\r\n\r\nrest";

	(void)state;
	assert_int_equal(xtel_probe_http_head_len(h, strlen(h)), strlen(h) - 4);
	assert_int_equal(xtel_probe_http_head_len(h, strlen(h) - 5), 0);
	assert_int_equal(xtel_probe_http_head_len("\r\n\r", 3), 0);
	assert_int_equal(xtel_probe_http_head_len("", 0), 0);
}

static void test_requests(void **state)
{
	const uint64_t gib = XTEL_PROBE_MAX_SIZE;
	uint64_t size;

	(void)state;
	assert_int_equal(status_of("GET /probe/object?size=1024 HTTP/1.1\r\n\r\n", gib, &size), 200);
	assert_int_equal(size, 1024);
	assert_int_equal(status_of("GET /probe/object?size=1073741824 HTTP/1.0\r\nA: b\r\n\r\n", gib, &size), 200);
	assert_int_equal(size, gib);
	assert_int_equal(status_of("GET /probe/object?x=1&size=4096&y HTTP/1.1\r\n\r\n", gib, &size), 200);
	assert_int_equal(size, 4096);

	assert_int_equal(status_of("GET /probe/object?size=1023 HTTP/1.1\r\n\r\n", gib, &size), 416);
	assert_int_equal(size, 0);
	assert_int_equal(status_of("GET /probe/object?size=1073741825 HTTP/1.1\r\n\r\n", gib, &size), 416);
	assert_int_equal(status_of("GET /probe/object?size=2048 HTTP/1.1\r\n\r\n", 2047, &size), 416);
	assert_int_equal(status_of("GET /probe/object?size=99999999999999999999 HTTP/1.1\r\n\r\n", gib, &size), 400);
	assert_int_equal(status_of("GET /probe/object?size=abc HTTP/1.1\r\n\r\n", gib, &size), 400);
	assert_int_equal(status_of("GET /probe/object?size=-5 HTTP/1.1\r\n\r\n", gib, &size), 400);
	assert_int_equal(status_of("GET /probe/object?size= HTTP/1.1\r\n\r\n", gib, &size), 400);
	assert_int_equal(status_of("GET /probe/object?other=1 HTTP/1.1\r\n\r\n", gib, &size), 400);
	assert_int_equal(status_of("GET /probe/object HTTP/1.1\r\n\r\n", gib, &size), 400);
	assert_int_equal(status_of("GET /probe/objects?size=1024 HTTP/1.1\r\n\r\n", gib, &size), 404);
	assert_int_equal(status_of("GET / HTTP/1.1\r\n\r\n", gib, &size), 404);
	assert_int_equal(status_of("POST /probe/object?size=1024 HTTP/1.1\r\n\r\n", gib, &size), 405);
	assert_int_equal(status_of("HEAD /probe/object?size=1024 HTTP/1.1\r\n\r\n", gib, &size), 405);
	assert_int_equal(status_of("GET /probe/object?size=1024 HTTP/2.0\r\n\r\n", gib, &size), 505);
	assert_int_equal(status_of("GET /probe/object?size=1024 HTTP/1.1 x\r\n\r\n", gib, &size), 400);
	assert_int_equal(status_of("GET  /probe/object?size=1024 HTTP/1.1\r\n\r\n", gib, &size), 400);
	assert_int_equal(status_of("GET\r\n\r\n", gib, &size), 400);
	assert_int_equal(status_of("GET /probe/object?size=1024 HTTP/1.1", gib, &size), 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_len),
		cmocka_unit_test(test_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
