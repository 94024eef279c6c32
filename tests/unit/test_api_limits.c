// SPDX-License-Identifier: MIT
/*
 * The HTTP API's per-source state and token file (userspace/collector/api/
 * sources.c, tokens.c) with exact cases: the bucket admits exactly burst
 * requests at once and one more per 1/rate seconds, Retry-After is the
 * whole seconds until the next token; the connection cap counts IPv4 and
 * IPv4-mapped IPv6 as one source and a full table serves new sources
 * untracked; token files with every kind of mistake are refused naming
 * the line, scopes are exact, and a failed reload keeps the old tokens.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "collector/api/sources.h"
#include "collector/api/tokens.h"

static struct sockaddr_in v4(const char *a)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(1234) };

	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static struct sockaddr_in6 v6(const char *a)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(99) };

	inet_pton(AF_INET6, a, &s.sin6_addr);
	return s;
}

#define SA(x) ((const struct sockaddr *)&(x))
#define SEC 1000000000ull

static void test_rate_limit(void **state)
{
	struct xtel_api_source_cfg cfg = { .rate = 2, .burst = 3, .max_conns = 8 };
	struct xtel_api_sources *s;
	struct sockaddr_in a = v4("198.18.0.2"), b = v4("198.18.0.3");
	uint64_t t = 100 * SEC;

	assert_int_equal(xtel_api_sources_new(&cfg, &s), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(xtel_api_sources_request(s, SA(a), t), 0);
	/* empty bucket, 2/s: the next token in 0.5 s, said as 1 s */
	assert_int_equal(xtel_api_sources_request(s, SA(a), t), 1);
	/* another source has its own bucket */
	assert_int_equal(xtel_api_sources_request(s, SA(b), t), 0);
	assert_int_equal(xtel_api_sources_request(s, SA(a), t + SEC / 2), 0);
	assert_int_equal(xtel_api_sources_request(s, SA(a), t + SEC / 2), 1);
	/* a long pause refills to burst, not beyond */
	t += 100 * SEC;
	for (int i = 0; i < 3; i++)
		assert_int_equal(xtel_api_sources_request(s, SA(a), t), 0);
	assert_int_equal(xtel_api_sources_request(s, SA(a), t), 1);
	xtel_api_sources_free(s);

	cfg.rate = 0;	/* no limit */
	assert_int_equal(xtel_api_sources_new(&cfg, &s), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(xtel_api_sources_request(s, SA(a), t), 0);
	xtel_api_sources_free(s);

	cfg = (struct xtel_api_source_cfg){ .rate = 1, .burst = 1, .max_conns = 1 };
	assert_int_equal(xtel_api_sources_new(&cfg, &s), 0);
	assert_int_equal(xtel_api_sources_request(s, SA(a), t), 0);
	/* 1/s, empty: 1 s to wait */
	assert_int_equal(xtel_api_sources_request(s, SA(a), t), 1);
	assert_int_equal(xtel_api_sources_request(s, SA(a), t + SEC - 1), 1);
	assert_int_equal(xtel_api_sources_request(s, SA(a), t + SEC), 0);
	xtel_api_sources_free(s);
}

static void test_connection_cap(void **state)
{
	struct xtel_api_source_cfg cfg = { .rate = 0, .burst = 1, .max_conns = 2 };
	struct xtel_api_sources *s;
	struct sockaddr_in a = v4("198.18.0.2");
	struct sockaddr_in6 am = v6("::ffff:198.18.0.2"), b = v6("2001:2::2");

	assert_int_equal(xtel_api_sources_new(&cfg, &s), 0);
	assert_true(xtel_api_sources_may_connect(s, SA(a)));
	xtel_api_sources_opened(s, SA(a));
	assert_true(xtel_api_sources_may_connect(s, SA(am)));
	xtel_api_sources_opened(s, SA(am));	/* the same source, mapped */
	assert_false(xtel_api_sources_may_connect(s, SA(a)));
	assert_false(xtel_api_sources_may_connect(s, SA(am)));
	assert_true(xtel_api_sources_may_connect(s, SA(b)));
	xtel_api_sources_closed(s, SA(a));
	assert_true(xtel_api_sources_may_connect(s, SA(a)));
	xtel_api_sources_closed(s, SA(am));
	xtel_api_sources_closed(s, SA(am));	/* never below zero */
	xtel_api_sources_opened(s, SA(a));
	xtel_api_sources_opened(s, SA(a));
	assert_false(xtel_api_sources_may_connect(s, SA(a)));
	xtel_api_sources_free(s);
}

static void test_table_full(void **state)
{
	struct xtel_api_source_cfg cfg = { .rate = 0, .burst = 1, .max_conns = 1 };
	struct xtel_api_sources *s;
	unsigned int i;

	assert_int_equal(xtel_api_sources_new(&cfg, &s), 0);
	/* every slot busy with an open connection: nothing to reuse */
	for (i = 0; i < 2 * XTEL_API_SOURCES; i++) {
		struct sockaddr_in6 a = v6("2001:2::");

		a.sin6_addr.s6_addr[12] = (uint8_t)(i >> 8);
		a.sin6_addr.s6_addr[13] = (uint8_t)i;
		a.sin6_addr.s6_addr[14] = 0x5a;
		xtel_api_sources_opened(s, SA(a));
	}
	assert_true(xtel_api_sources_untracked(s) >= XTEL_API_SOURCES);
	{
		struct sockaddr_in n = v4("198.19.255.1");

		/* an untracked source is served, never refused for lack of room */
		assert_true(xtel_api_sources_may_connect(s, SA(n)));
	}
	xtel_api_sources_free(s);
}

/* ---- tokens ---- */

static char dir[64];

static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* 64 hex digits, the hash of no token in these tests */
#define H_READ "d4b0dcbdf03b7a5a4c1c7e78e79a4cf8b1cbf7ba9c86c4c3b2d5d86e32de9da0"

/* sha256 of "read-token" and "admin-token", from sha256sum */
static char h_read[65], h_admin[65];

static void sha_hex(const char *s, char out[65])
{
	char cmd[128];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "printf %%s '%s' | sha256sum", s);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, 65, p));
	pclose(p);
}

static char logged[512];

static void capture(void *arg, enum xtel_log_level level, const char *msg)
{
	snprintf(logged, sizeof(logged), "%s", msg);
}

static void expect_refused(const char *text, const char *msg_part)
{
	struct xtel_api_tokens *t = NULL;
	const char *p = write_file("bad", text);

	logged[0] = '\0';
	assert_int_equal(xtel_api_tokens_load(p, &t), -EINVAL);
	assert_null(t);
	if (!strstr(logged, msg_part))
		fail_msg("'%s' not in '%s'", msg_part, logged);
}

static void test_tokens(void **state)
{
	char text[512];
	struct xtel_api_tokens *t;
	const char *p;

	sha_hex("read-token", h_read);
	sha_hex("admin-token", h_admin);
	snprintf(text, sizeof(text),
		 "# comment\n\n  read sha256:%s grafana  \nadmin\tsha256:%s # ops\n",
		 h_read, h_admin);
	p = write_file("tokens", text);
	assert_int_equal(xtel_api_tokens_load(p, &t), 0);
	assert_int_equal(xtel_api_tokens_count(t), 2);
	assert_int_equal(xtel_api_tokens_scope(t, "read-token", 10), XTEL_API_SCOPE_READ);
	assert_int_equal(xtel_api_tokens_scope(t, "admin-token", 11), XTEL_API_SCOPE_ADMIN);
	assert_int_equal(xtel_api_tokens_scope(t, "read-toke", 9), XTEL_API_SCOPE_NONE);
	assert_int_equal(xtel_api_tokens_scope(t, "read-tokenx", 11), XTEL_API_SCOPE_NONE);
	assert_int_equal(xtel_api_tokens_scope(t, "", 0), XTEL_API_SCOPE_NONE);

	/* a broken file at reload: the old tokens stay */
	write_file("tokens", "read sha256:zz\n");
	assert_int_equal(xtel_api_tokens_reload(t), -EINVAL);
	assert_int_equal(xtel_api_tokens_scope(t, "read-token", 10), XTEL_API_SCOPE_READ);
	/* a good one replaces them */
	snprintf(text, sizeof(text), "admin sha256:%s\n", h_read);
	write_file("tokens", text);
	assert_int_equal(xtel_api_tokens_reload(t), 0);
	assert_int_equal(xtel_api_tokens_count(t), 1);
	assert_int_equal(xtel_api_tokens_scope(t, "read-token", 10), XTEL_API_SCOPE_ADMIN);
	assert_int_equal(xtel_api_tokens_scope(t, "admin-token", 11), XTEL_API_SCOPE_NONE);
	xtel_api_tokens_free(t);

	expect_refused("write sha256:" H_READ "\n", "bad:1: scope 'write' is neither read nor admin");
	expect_refused("\nread " H_READ "\n", "bad:2: expected sha256:<64 hex digits>");
	expect_refused("read sha256:" H_READ "0\n", "bad:1: expected sha256:<64 hex digits>");
	expect_refused("read sha256:g" H_READ "\n", "bad:1: expected sha256");
	expect_refused("read sha256:x4b0dcbdf03b7a5a4c1c7e78e79a4cf8b1cbf7ba9c86c4c3b2d5d86e32de9da0\n",
		       "bad:1: the hash has a character that is no hex digit");
	expect_refused("read sha256:" H_READ " a b\n", "bad:1: after the hash only a name");
	expect_refused("# nothing\n", "no token in the file");
	expect_refused("read\n", "bad:1: expected sha256");
	{
		struct xtel_api_tokens *none = NULL;

		assert_int_equal(xtel_api_tokens_load("/nonexistent/tokens", &none), -ENOENT);
		assert_true(strstr(logged, "/nonexistent/tokens: No such file") != NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_connection_cap),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_tokens),
	};
	int rc;

	xtel_log_setup("test", XTEL_LOG_INFO);
	xtel_log_set_sink(capture, NULL);
	snprintf(dir, sizeof(dir), "/tmp/xtel-tokens.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(write_file("tokens", ""));
	unlink(write_file("bad", ""));
	rmdir(dir);
	return rc;
}
