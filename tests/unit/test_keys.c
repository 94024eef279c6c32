// SPDX-License-Identifier: MIT
/*
 * Interned metric key names (acct/keys.c): one copy per name, found again
 * by its bytes and length (not by a longer or shorter name sharing a
 * prefix), NUL-padded to XTEL_MAX_KEY_LEN + 1, unchanged while the table
 * grows, and costing the arena one 48-byte entry per distinct name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acct/keys.h"
#include "bpf/xtel_wire.h"

static void test_intern(void **state)
{
	struct xtel_arena a;
	struct xtel_keys t;
	const char *temp, *temp2, *tem, *longest;
	char buf[XTEL_MAX_KEY_LEN + 8];
	const char *names[1000];

	(void)state;
	assert_int_equal(xtel_arena_init(&a, 1 << 22), 0);
	xtel_keys_init(&t);
	/* Not NUL-terminated in the datagram: only len bytes count. */
	temp = xtel_keys_intern(&t, &a, "temperature", 4);
	assert_non_null(temp);
	assert_string_equal(temp, "temp");
	temp2 = xtel_keys_intern(&t, &a, "temp=1", 4);
	assert_ptr_equal(temp, temp2);
	tem = xtel_keys_intern(&t, &a, "temp", 3);
	assert_ptr_not_equal(tem, temp);
	assert_string_equal(tem, "tem");
	memset(buf, 'k', sizeof(buf));
	longest = xtel_keys_intern(&t, &a, buf, XTEL_MAX_KEY_LEN);
	assert_int_equal(strlen(longest), XTEL_MAX_KEY_LEN);
	for (unsigned int i = 0; i <= XTEL_MAX_KEY_LEN; i++)
		assert_int_equal(tem[i], i < 3 ? "tem"[i] : 0);
	/* Growth keeps every entry where it was. */
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(buf, sizeof(buf), "m%d", i);

		names[i] = xtel_keys_intern(&t, &a, buf, (unsigned int)n);
		assert_non_null(names[i]);
	}
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(buf, sizeof(buf), "m%d", i);

		assert_ptr_equal(xtel_keys_intern(&t, &a, buf, (unsigned int)n),
				 names[i]);
	}
	assert_ptr_equal(xtel_keys_intern(&t, &a, "temp", 4), temp);
	assert_int_equal(t.used, 1003);
	assert_int_equal(a.live[XTEL_ARENA_METRICS], 1003 * 48);
	assert_true(xtel_keys_bytes(&t) >= 2 * 1003 * sizeof(*t.slots));
	xtel_keys_destroy(&t);
	xtel_arena_destroy(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
