// SPDX-License-Identifier: MIT
/*
 * unit: the aggregator's applied interval sets (userspace/collector/agg/
 * ranges.c): positions added in order make one range, out of order and
 * with holes as many ranges as there are gaps, a hole filled merges its
 * neighbours, a duplicate is refused and changes nothing, (seq, last
 * part) and (seq + 1, 0) join only when the parts are known (also
 * when a late message tells a migrated range's parts by merging into
 * it), runs are apart, and stored ranges load back (out of order
 * refused). Exact range counts and bounds throughout.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collector/agg/ranges.h"

#define K1 "edge1.100"
#define K2 "edge1.200"

static int add(struct xtel_agg_ranges *rs, const char *k, uint64_t seq,
	       uint32_t part, uint32_t parts)
{
	return xtel_agg_ranges_add(rs, k, strlen(k), seq, part, parts);
}

static bool has(const struct xtel_agg_ranges *rs, const char *k, uint64_t seq,
		uint32_t part)
{
	return xtel_agg_ranges_has(rs, k, strlen(k), seq, part);
}

static const struct xtel_agg_runset *set_of(const struct xtel_agg_ranges *rs,
					    const char *k)
{
	for (uint64_t i = 0; i <= rs->mask; i++)
		if (rs->slot[i] && !strcmp(rs->slot[i]->key, k))
			return rs->slot[i];
	return NULL;
}

static void expect_range(const struct xtel_agg_runset *s, uint32_t i,
			 uint64_t lo_seq, uint32_t lo_part, uint64_t hi_seq,
			 uint32_t hi_part)
{
	assert_true(i < s->n);
	assert_int_equal(s->r[i].lo_seq, lo_seq);
	assert_int_equal(s->r[i].lo_part, lo_part);
	assert_int_equal(s->r[i].hi_seq, hi_seq);
	assert_int_equal(s->r[i].hi_part, hi_part);
}

static void test_in_order(void **state)
{
	struct xtel_agg_ranges rs;

	xtel_agg_ranges_init(&rs);
	for (uint64_t seq = 1; seq <= 10000; seq++)
		for (uint32_t part = 0; part < 2; part++)
			assert_int_equal(add(&rs, K1, seq, part, 2), 0);
	assert_int_equal(rs.n_ranges, 1);
	assert_int_equal(rs.n_sets, 1);
	expect_range(set_of(&rs, K1), 0, 1, 0, 10000, 1);
	assert_int_equal(set_of(&rs, K1)->r[0].hi_parts, 2);
	assert_true(has(&rs, K1, 5000, 1));
	assert_false(has(&rs, K1, 10001, 0));
	assert_false(has(&rs, K1, 0, 0));
	assert_false(has(&rs, K2, 1, 0));
	assert_false(has(&rs, "edge1.10", 1, 0));	/* a prefix of K1 */
	/* one dirty set, listed once */
	assert_int_equal(rs.n_dirty, 1);
	xtel_agg_ranges_clean(&rs);
	assert_int_equal(rs.n_dirty, 0);
	assert_false(set_of(&rs, K1)->dirty);
	xtel_agg_ranges_fini(&rs);
}

static void test_out_of_order_holes(void **state)
{
	struct xtel_agg_ranges rs;
	const struct xtel_agg_runset *s;

	xtel_agg_ranges_init(&rs);
	/* 10, 1..3, 7, 5: three holes (4, 6, 8..9) */
	assert_int_equal(add(&rs, K1, 10, 0, 1), 0);
	for (uint64_t seq = 1; seq <= 3; seq++)
		assert_int_equal(add(&rs, K1, seq, 0, 1), 0);
	assert_int_equal(add(&rs, K1, 7, 0, 1), 0);
	assert_int_equal(add(&rs, K1, 5, 0, 1), 0);
	s = set_of(&rs, K1);
	assert_int_equal(rs.n_ranges, 4);
	expect_range(s, 0, 1, 0, 3, 0);
	expect_range(s, 1, 5, 0, 5, 0);
	expect_range(s, 2, 7, 0, 7, 0);
	expect_range(s, 3, 10, 0, 10, 0);
	assert_false(has(&rs, K1, 4, 0));
	assert_false(has(&rs, K1, 9, 0));
	/* a duplicate: refused, nothing changes */
	assert_int_equal(add(&rs, K1, 2, 0, 1), 1);
	assert_int_equal(add(&rs, K1, 10, 0, 1), 1);
	assert_int_equal(rs.n_ranges, 4);
	/* the holes fill: 4 joins [1,3] and [5], 6 joins that and [7] */
	assert_int_equal(add(&rs, K1, 4, 0, 1), 0);
	assert_int_equal(rs.n_ranges, 3);
	expect_range(s, 0, 1, 0, 5, 0);
	assert_int_equal(add(&rs, K1, 6, 0, 1), 0);
	assert_int_equal(add(&rs, K1, 9, 0, 1), 0);	/* joins [10] from below */
	assert_int_equal(rs.n_ranges, 2);
	expect_range(s, 1, 9, 0, 10, 0);
	assert_int_equal(add(&rs, K1, 8, 0, 1), 0);
	assert_int_equal(rs.n_ranges, 1);
	expect_range(s, 0, 1, 0, 10, 0);
	/* another run is a set of its own */
	assert_int_equal(add(&rs, K2, 1, 0, 1), 0);
	assert_int_equal(rs.n_sets, 2);
	assert_int_equal(rs.n_ranges, 2);
	assert_false(has(&rs, K2, 2, 0));
	/* a part beyond its parts */
	assert_int_equal(add(&rs, K2, 2, 3, 3), -EINVAL);
	xtel_agg_ranges_fini(&rs);
}

static void test_parts(void **state)
{
	struct xtel_agg_ranges rs;
	const struct xtel_agg_runset *s;

	xtel_agg_ranges_init(&rs);
	/* seq 1 of 3 parts, part 1 missing; then seq 2 part 0 */
	assert_int_equal(add(&rs, K1, 1, 0, 3), 0);
	assert_int_equal(add(&rs, K1, 1, 2, 3), 0);
	assert_int_equal(add(&rs, K1, 2, 0, 2), 0);
	s = set_of(&rs, K1);
	assert_int_equal(rs.n_ranges, 2);	/* (1,0) and (1,2)..(2,0) */
	expect_range(s, 0, 1, 0, 1, 0);
	expect_range(s, 1, 1, 2, 2, 0);
	assert_false(has(&rs, K1, 1, 1));
	assert_int_equal(add(&rs, K1, 1, 1, 3), 0);
	assert_int_equal(rs.n_ranges, 1);
	/* parts unknown (a migrated id): no join across seqs ... */
	assert_int_equal(add(&rs, K2, 1, 0, 0), 0);
	assert_int_equal(add(&rs, K2, 2, 0, 0), 0);
	assert_int_equal(rs.n_ranges, 3);
	/* (3,0) does not tell how many parts 2 had: apart (K1 + 3) */
	assert_int_equal(add(&rs, K2, 3, 0, 1), 0);
	assert_int_equal(rs.n_ranges, 4);
	s = set_of(&rs, K2);
	expect_range(s, 0, 1, 0, 1, 0);
	expect_range(s, 1, 2, 0, 2, 0);
	expect_range(s, 2, 3, 0, 3, 0);
	/* the next seq joins the known one */
	assert_int_equal(add(&rs, K2, 4, 0, 1), 0);
	assert_int_equal(rs.n_ranges, 4);
	expect_range(s, 2, 3, 0, 4, 0);
	/* (1, 1) of 2 parts: the last part of seq 1, so it joins (1,0)
	 * and (2,0) both; (2,0) and (3,0) stay apart (2's parts unknown) */
	assert_int_equal(add(&rs, K2, 1, 1, 2), 0);
	assert_int_equal(rs.n_ranges, 3);
	expect_range(s, 0, 1, 0, 2, 0);
	xtel_agg_ranges_fini(&rs);
}

/*
 * A migrated range ends in a seq with its parts unknown; a late message
 * of that seq merges into it and tells them: the range then joins the
 * next seq, whether that comes after or was there already.
 */
static void test_parts_learned_by_merge(void **state)
{
	struct xtel_agg_ranges rs;
	const struct xtel_agg_runset *s;

	xtel_agg_ranges_init(&rs);
	/* migrated (5,1), (5,2): one range, parts unknown */
	assert_int_equal(add(&rs, K1, 5, 1, 0), 0);
	assert_int_equal(add(&rs, K1, 5, 2, 0), 0);
	assert_int_equal(rs.n_ranges, 1);
	s = set_of(&rs, K1);
	assert_int_equal(s->r[0].hi_parts, 0);
	/* the late (5,0) of 3 parts: (5,0)..(5,2), which ends seq 5 */
	assert_int_equal(add(&rs, K1, 5, 0, 3), 0);
	assert_int_equal(rs.n_ranges, 1);
	expect_range(s, 0, 5, 0, 5, 2);
	assert_int_equal(s->r[0].hi_parts, 3);
	/* (6,0) joins it: still one range */
	assert_int_equal(add(&rs, K1, 6, 0, 1), 0);
	assert_int_equal(rs.n_ranges, 1);
	expect_range(s, 0, 5, 0, 6, 0);

	/* the same with (6,0) there first: 2 ranges, then 1 */
	assert_int_equal(add(&rs, K2, 5, 1, 0), 0);
	assert_int_equal(add(&rs, K2, 5, 2, 0), 0);
	assert_int_equal(add(&rs, K2, 6, 0, 1), 0);
	assert_int_equal(rs.n_ranges, 3);
	assert_int_equal(add(&rs, K2, 5, 0, 3), 0);
	assert_int_equal(rs.n_ranges, 2);
	s = set_of(&rs, K2);
	expect_range(s, 0, 5, 0, 6, 0);
	assert_int_equal(s->r[0].hi_parts, 1);

	/* migrated parts beyond what the message says (a foreign id): the
	 * parts stay unknown (a range never ends past its parts) */
	assert_int_equal(add(&rs, K2, 9, 1, 0), 0);
	assert_int_equal(add(&rs, K2, 9, 4, 0), 0);
	assert_int_equal(add(&rs, K2, 9, 2, 0), 0);
	assert_int_equal(add(&rs, K2, 9, 3, 0), 0);
	assert_int_equal(add(&rs, K2, 9, 0, 3), 0);
	assert_int_equal(rs.n_ranges, 3);
	expect_range(s, 1, 9, 0, 9, 4);
	assert_int_equal(s->r[1].hi_parts, 0);
	assert_int_equal(add(&rs, K2, 10, 0, 1), 0);
	assert_int_equal(rs.n_ranges, 4);
	xtel_agg_ranges_fini(&rs);
}

static void test_load(void **state)
{
	struct xtel_agg_ranges rs;
	const struct xtel_agg_range a = { .lo_seq = 1, .hi_seq = 9, .hi_part = 1,
					  .hi_parts = 2 };
	const struct xtel_agg_range b = { .lo_seq = 10, .hi_seq = 20, .hi_parts = 1 };
	const struct xtel_agg_range c = { .lo_seq = 30, .hi_seq = 40, .hi_parts = 1 };

	xtel_agg_ranges_init(&rs);
	assert_int_equal(xtel_agg_ranges_load(&rs, K1, &a), 0);
	assert_int_equal(xtel_agg_ranges_load(&rs, K1, &c), 0);
	assert_int_equal(rs.n_ranges, 2);
	assert_int_equal(rs.n_dirty, 0);
	/* before the last one: refused */
	assert_int_equal(xtel_agg_ranges_load(&rs, K1, &b), -EINVAL);
	assert_int_equal(rs.n_ranges, 2);
	assert_true(has(&rs, K1, 35, 0));
	assert_false(has(&rs, K1, 25, 0));
	/* b in order into another run: it joins a (9, last of 2) -> (10, 0) */
	assert_int_equal(xtel_agg_ranges_load(&rs, K2, &a), 0);
	assert_int_equal(xtel_agg_ranges_load(&rs, K2, &b), 0);
	assert_int_equal(rs.n_ranges, 3);
	expect_range(set_of(&rs, K2), 0, 1, 0, 20, 0);
	xtel_agg_ranges_fini(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order_holes),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_parts_learned_by_merge),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
