// SPDX-License-Identifier: MIT
/*
 * A registry's huge-page mappings (acct/hugemap.c): the size rounded up
 * to 2 MiB, the base aligned to 2 MiB, parts taken in order at their
 * alignment and zeroed, NULL (and nothing used) once full, and the kernel
 * told: when THP is available (enabled is "always" or "madvise") the
 * mapping past its first 2 MiB, or all of it when whole, is THPeligible in
 * /proc/self/smaps and the first 2 MiB of a partial one is not; when it is
 * not available the mapping still works and the fallback is counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acct/hugemap.h"

enum { MIB2 = XTEL_HUGEMAP_PAGE };

static bool thp_available(void)
{
	char line[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	return strstr(line, "[always]") || strstr(line, "[madvise]");
}

/* THPeligible of the mapping that starts at addr: 1, 0, or -1 (none). */
static int thp_eligible(const void *addr)
{
	char line[256], start[32];
	int found = 0, v = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	snprintf(start, sizeof(start), "%lx-", (unsigned long)(uintptr_t)addr);
	while (fgets(line, sizeof(line), f)) {
		if (!found && !strncmp(line, start, strlen(start)))
			found = 1;
		else if (found && !strncmp(line, "THPeligible:", 12)) {
			v = atoi(line + 12);
			break;
		}
	}
	fclose(f);
	return v;
}

static void test_take(void **state)
{
	struct xtel_hugemap m;
	uint8_t *a, *b, *c;

	(void)state;
	assert_int_equal(xtel_hugemap_init(&m, 5 * 1024 * 1024, false), 0);
	assert_int_equal(m.size, 3 * MIB2);
	assert_int_equal((uintptr_t)m.base % MIB2, 0);
	a = xtel_hugemap_take(&m, 100, 64);
	b = xtel_hugemap_take(&m, 1, 4096);
	assert_ptr_equal(a, m.base);
	assert_ptr_equal(b, m.base + 4096);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(a[i], 0);
	memset(a, 0xff, 100);
	/* The rest fits exactly; one byte more does not, and uses nothing. */
	c = xtel_hugemap_take(&m, m.size - 4097, 1);
	assert_ptr_equal(c, m.base + 4097);
	c[m.size - 4098] = 1;
	assert_null(xtel_hugemap_take(&m, 1, 1));
	assert_int_equal(m.used, m.size);
	xtel_hugemap_destroy(&m);
	assert_null(m.base);
	assert_null(xtel_hugemap_take(&m, 1, 1));
}

static void test_advice(void **state)
{
	struct xtel_hugemap part, whole, one;
	bool thp = thp_available();
	uint64_t before = xtel_hugemap_fallbacks();

	(void)state;
	assert_int_equal(xtel_hugemap_init(&part, 3 * MIB2, false), 0);
	assert_int_equal(xtel_hugemap_init(&whole, MIB2, true), 0);
	/* One 2 MiB page of a partial mapping: nothing to advise. */
	assert_int_equal(xtel_hugemap_init(&one, MIB2, false), 0);
	assert_false(one.huge);
	assert_int_equal(part.huge, thp);
	assert_int_equal(whole.huge, thp);
	assert_int_equal(xtel_hugemap_fallbacks() - before, thp ? 0 : 2);
	if (thp) {
		assert_int_equal(thp_eligible(part.base), 0);
		assert_int_equal(thp_eligible(part.base + MIB2), 1);
		assert_int_equal(thp_eligible(whole.base), 1);
	}
	xtel_hugemap_destroy(&one);
	xtel_hugemap_destroy(&whole);
	xtel_hugemap_destroy(&part);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_advice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
