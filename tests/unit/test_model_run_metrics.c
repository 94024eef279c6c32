// SPDX-License-Identifier: MIT
/*
 * Whole-run metrics of the view (collector/model.c, built in): folded
 * from the previous view and each new interval, exact over several
 * intervals (count, min, max, sum, mean, last), keys in order of first
 * appearance with a key that appears late, a client that appears late, a
 * client with no metrics, and an interval in which a client sent nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acct/client.h"
#include "collector/model.h"

enum { S = 1000000000 };
static const uint64_t T0 = 1800000000ull * S;

static void no_counters(void *arg, struct xtel_worker_counters *out)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
}

/* One DATA datagram of id with the given key=value pairs. */
static void data(struct xtel_registry *reg, uint32_t id, uint64_t seq,
		 const char *const *keys, const double *vals, unsigned int n)
{
	struct xtel_msg m = {
		.version = 1, .type = seq ? XTEL_MSG_DATA : XTEL_MSG_INIT,
		.client_id = id, .seq = seq, .send_ts_ns = T0 + seq,
		.payload = "", .n_metrics = seq ? n : 0,
	};

	for (unsigned int k = 0; seq && k < n; k++) {
		m.metrics[k].key = keys[k];
		m.metrics[k].key_len = (uint8_t)strlen(keys[k]);
		m.metrics[k].value = vals[k];
	}
	assert_int_equal(xtel_registry_account(reg, &m, T0 + seq + 1000, 64, NULL), 0);
}

static const struct xtel_run_metric *run(const struct xtel_view *v, uint32_t id,
					 unsigned int k, uint32_t n_expected)
{
	for (uint32_t i = 0; i < v->snap.n_clients; i++) {
		const struct xtel_view_client *vc = &v->clients[i];

		if (vc->snap->client_id != id)
			continue;
		assert_int_equal(vc->n_run_metrics, n_expected);
		return n_expected ? &vc->run_metrics[k] : NULL;
	}
	fail_msg("client %u not in the view", id);
	return NULL;
}

static void check(const struct xtel_run_metric *r, const char *key,
		  uint64_t count, double min, double max, double sum, double last)
{
	assert_string_equal(r->latest->key, key);
	assert_int_equal(r->count, count);
	assert_true(r->min == min);
	assert_true(r->max == max);
	assert_true(r->sum == sum);
	assert_true(xtel_run_metric_mean(r) == sum / (double)count);
	assert_true(r->latest->last == last);
}

static void test_fold_over_intervals(void **state)
{
	struct xtel_registry *reg = xtel_registry_new(100);
	struct xtel_registry *regs[1] = { reg };
	static const char *const tl[2] = { "temp", "load" };
	static const char *const lt[3] = { "load", "temp", "fan" };
	struct xtel_model *m;
	struct xtel_view *v;
	double a[3];

	(void)state;
	assert_non_null(reg);
	assert_int_equal(xtel_model_new(&(struct xtel_model_cfg){
		.regs = regs, .n_regs = 1, .stale_after_ns = 1000ull * S,
		.counters = no_counters,
	}, &m), 0);
	/* interval 1: client 1 temp 10, 30; load 1, 3. client 2: INIT only */
	data(reg, 1, 0, NULL, NULL, 0);
	data(reg, 2, 0, NULL, NULL, 0);
	a[0] = 10, a[1] = 1;
	data(reg, 1, 1, tl, a, 2);
	a[0] = 30, a[1] = 3;
	data(reg, 1, 2, tl, a, 2);
	assert_int_equal(xtel_model_update(m, T0 + S, 1, false), 0);
	v = xtel_model_view(m);
	check(run(v, 1, 0, 2), "temp", 2, 10, 30, 40, 30);
	check(run(v, 1, 1, 2), "load", 2, 1, 3, 4, 3);
	assert_null(run(v, 2, 0, 0));
	xtel_view_put(v);

	/* interval 2: nothing from client 1; client 3 appears */
	a[0] = 7;
	data(reg, 3, 0, NULL, NULL, 0);
	data(reg, 3, 1, tl, a, 1);
	assert_int_equal(xtel_model_update(m, T0 + 2ull * S, 2, false), 0);
	v = xtel_model_view(m);
	check(run(v, 1, 0, 2), "temp", 2, 10, 30, 40, 30);
	check(run(v, 1, 1, 2), "load", 2, 1, 3, 4, 3);
	check(run(v, 3, 0, 1), "temp", 1, 7, 7, 7, 7);
	xtel_view_put(v);

	/* interval 3: client 1 in another order, with a new key last */
	a[0] = 0.5, a[1] = 50, a[2] = 1200;
	data(reg, 1, 3, lt, a, 3);
	assert_int_equal(xtel_model_update(m, T0 + 3ull * S, 3, false), 0);
	v = xtel_model_view(m);
	check(run(v, 1, 0, 3), "temp", 3, 10, 50, 90, 50);
	check(run(v, 1, 1, 3), "load", 3, 0.5, 3, 4.5, 0.5);
	check(run(v, 1, 2, 3), "fan", 1, 1200, 1200, 1200, 1200);
	check(run(v, 3, 0, 1), "temp", 1, 7, 7, 7, 7);
	assert_null(run(v, 2, 0, 0));
	xtel_view_put(v);

	xtel_model_free(m);
	xtel_registry_free(reg);
}

/*
 * A client seen by two workers whose merged keys pass the per-client
 * limit: the snapshot drops one of the run's keys (the second worker's
 * last), and the run keeps it with its fold and last value, pointing at
 * the view's own copy of it.
 */
static void test_key_the_snapshot_dropped(void **state)
{
	struct xtel_registry *regs[2] = { xtel_registry_new(10),
					  xtel_registry_new(10) };
	static const char *const x[1] = { "x" };
	char names[XTEL_CLIENT_MAX_KEYS][8];
	const char *keys[XTEL_CLIENT_MAX_KEYS];
	double vals[XTEL_CLIENT_MAX_KEYS];
	struct xtel_model *m;
	struct xtel_view *v;

	(void)state;
	assert_non_null(regs[0]);
	assert_non_null(regs[1]);
	for (unsigned int k = 0; k < XTEL_CLIENT_MAX_KEYS; k++) {
		snprintf(names[k], sizeof(names[k]), "k%u", k);
		keys[k] = names[k];
		vals[k] = k;
	}
	assert_int_equal(xtel_model_new(&(struct xtel_model_cfg){
		.regs = regs, .n_regs = 2, .stale_after_ns = 1000ull * S,
		.counters = no_counters,
	}, &m), 0);
	/* interval 1: worker 1 sees all 16 keys, 8 a datagram */
	data(regs[1], 5, 0, NULL, NULL, 0);
	data(regs[1], 5, 1, keys, vals, 8);
	data(regs[1], 5, 2, keys + 8, vals + 8, 8);
	assert_int_equal(xtel_model_update(m, T0 + S, 1, false), 0);
	v = xtel_model_view(m);
	check(run(v, 5, 15, XTEL_CLIENT_MAX_KEYS), "k15", 1, 15, 15, 15, 15);
	xtel_view_put(v);

	/* interval 2: worker 0 sees a new key; merged, it comes first */
	vals[0] = 99;
	data(regs[0], 5, 0, NULL, NULL, 0);
	data(regs[0], 5, 1, x, vals, 1);
	assert_int_equal(xtel_model_update(m, T0 + 2ull * S, 2, false), 0);
	v = xtel_model_view(m);
	check(run(v, 5, 15, XTEL_CLIENT_MAX_KEYS + 1), "k15", 1, 15, 15, 15, 15);
	assert_int_equal(run(v, 5, 15, XTEL_CLIENT_MAX_KEYS + 1)->latest->count, 0);
	check(run(v, 5, 0, XTEL_CLIENT_MAX_KEYS + 1), "k0", 1, 0, 0, 0, 0);
	check(run(v, 5, XTEL_CLIENT_MAX_KEYS, XTEL_CLIENT_MAX_KEYS + 1),
	      "x", 1, 99, 99, 99, 99);
	xtel_view_put(v);

	/* interval 3: still dropped, still kept (a copy of the copy) */
	assert_int_equal(xtel_model_update(m, T0 + 3ull * S, 3, false), 0);
	v = xtel_model_view(m);
	check(run(v, 5, 15, XTEL_CLIENT_MAX_KEYS + 1), "k15", 1, 15, 15, 15, 15);
	xtel_view_put(v);

	xtel_model_free(m);
	xtel_registry_free(regs[0]);
	xtel_registry_free(regs[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_over_intervals),
		cmocka_unit_test(test_key_the_snapshot_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
