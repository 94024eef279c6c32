// SPDX-License-Identifier: MIT
/*
 * Unit tests of the device side of the view (collector/model.c, built in):
 * real registries fed datagrams at chosen arrival times, an inventory of
 * devices with and without a heartbeat, enabled and disabled, and views
 * made at chosen times, so every figure is exact: each client's device (or
 * none: unknown) and silent_s, a heartbeat deciding staleness where
 * --stale-after does not, BYE winning, the state counts kept in step,
 * devices never seen (silent since the start), and the inventory's counts.
 *
 * usage: test_model_devices
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collector/model.h"

enum { S = 1000000000 };
static const uint64_t T0 = 1800000000ull * S;	/* some CLOCK_REALTIME */

static struct xtel_inventory *inv;

static void no_counters(void *arg, struct xtel_worker_counters *out)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
}

static struct xtel_inventory *current(void *arg)
{
	(void)arg;
	return xtel_inventory_get(inv);
}

static void feed(struct xtel_registry *reg, uint32_t id, uint8_t type,
		 uint64_t seq, uint64_t at)
{
	struct xtel_msg m = {
		.version = 1, .type = type, .client_id = id, .seq = seq,
		.send_ts_ns = at, .payload = "",
	};
	struct xtel_acct_result res;

	assert_int_equal(xtel_registry_account(reg, &m, at, 28, &res), 0);
}

static struct xtel_device *dev(uint32_t id, uint32_t hb_ms, bool enabled,
			       const char *name)
{
	struct xtel_device_spec s;

	xtel_device_spec_init(&s, id);
	s.heartbeat_ms = hb_ms;
	s.enabled = enabled;
	strcpy(s.name, name);
	return xtel_device_new(&s);
}

static const struct xtel_view_client *client(const struct xtel_view *v,
					     uint32_t id)
{
	for (uint32_t i = 0; i < v->snap.n_clients; i++)
		if (v->clients[i].snap->client_id == id)
			return &v->clients[i];
	fail_msg("client %u not in the view", id);
	return NULL;
}

static const struct xtel_view_device *vdev(const struct xtel_view *v, uint32_t id)
{
	for (uint32_t i = 0; i < v->n_devices; i++)
		if (v->devices[i].dev->id == id)
			return &v->devices[i];
	fail_msg("device %u not in the view", id);
	return NULL;
}

static void test_heartbeat_staleness(void **state)
{
	struct xtel_registry *reg = xtel_registry_new(100);
	struct xtel_registry *regs[1] = { reg };
	struct xtel_device *d[5] = {
		dev(1, 1000, true, "hb1"),	/* heartbeat 1 s */
		dev(2, 0, false, "nohb"),	/* --stale-after, disabled */
		dev(4, 1000, true, "bye"),
		dev(5, 3000, true, "unseen3"),	/* never seen, heartbeat 3 s */
		dev(6, 0, true, "unseen"),	/* never seen, no heartbeat */
	};
	struct xtel_model *m;
	struct xtel_view *v;
	const struct xtel_view_client *c;
	const struct xtel_view_device *vd;

	(void)state;
	inv = xtel_inventory_new(d, 5, 1);
	assert_non_null(inv);
	/* 1, 2, 3 (unknown) last heard at T0; 4 said BYE at T0 */
	for (uint32_t id = 1; id <= 4; id++) {
		feed(reg, id, XTEL_MSG_INIT, 0, T0 - S);
		feed(reg, id, XTEL_MSG_DATA, 1, T0);
	}
	feed(reg, 4, XTEL_MSG_BYE, 1, T0);
	assert_int_equal(xtel_model_new(&(struct xtel_model_cfg){
		.regs = regs, .n_regs = 1, .stale_after_ns = 15ull * S,
		.counters = no_counters, .inventory = current,
	}, &m), 0);

	/* 2.5 s later, 2.5 s into the run */
	assert_int_equal(xtel_model_update(m, T0 + 2500000000ull, 2.5, false), 0);
	v = xtel_model_view(m);
	assert_ptr_equal(v->inv, inv);
	c = client(v, 1);
	assert_string_equal(c->dev->name, "hb1");
	assert_true(c->silent_s == 2.5);
	assert_int_equal(c->state, XTEL_CLIENT_STALE);	/* 2.5 s > 1 s heartbeat */
	c = client(v, 2);
	assert_string_equal(c->dev->name, "nohb");
	assert_int_equal(c->state, XTEL_CLIENT_LIVE);	/* within --stale-after */
	c = client(v, 3);
	assert_null(c->dev);				/* unknown */
	assert_true(c->silent_s == 2.5);
	assert_int_equal(c->state, XTEL_CLIENT_LIVE);
	assert_int_equal(client(v, 4)->state, XTEL_CLIENT_BYE);
	assert_int_equal(v->live, 2);
	assert_int_equal(v->stale, 1);
	assert_int_equal(v->bye, 1);
	assert_int_equal(v->clients_unknown, 1);

	assert_int_equal(v->n_devices, 5);
	vd = vdev(v, 1);
	assert_ptr_equal(vd->vc, client(v, 1));
	assert_true(vd->stale);
	assert_true(vd->silent_s == 2.5);
	assert_false(vdev(v, 2)->stale);
	assert_false(vdev(v, 4)->stale);		/* said BYE */
	vd = vdev(v, 5);
	assert_null(vd->vc);
	assert_true(vd->silent_s == 2.5);		/* since the start */
	assert_false(vd->stale);			/* 2.5 s < 3 s */
	assert_true(vdev(v, 6)->stale);			/* never seen, no heartbeat */
	assert_int_equal(v->devices_stale, 2);
	assert_int_equal(v->devices_unseen, 2);
	assert_int_equal(v->devices_disabled, 1);
	xtel_view_put(v);

	/* client 1 speaks again at T0 + 3 s; the next view at T0 + 3.5 s */
	feed(reg, 1, XTEL_MSG_HEARTBEAT, 2, T0 + 3ull * S);
	assert_int_equal(xtel_model_update(m, T0 + 3500000000ull, 3.5, false), 0);
	v = xtel_model_view(m);
	c = client(v, 1);
	assert_true(c->silent_s == 0.5);
	assert_int_equal(c->state, XTEL_CLIENT_LIVE);
	assert_int_equal(v->live, 3);
	assert_int_equal(v->stale, 0);
	assert_true(vdev(v, 5)->stale);			/* 3.5 s > 3 s */
	assert_int_equal(v->devices_stale, 2);		/* 5 and 6 */
	xtel_view_put(v);

	xtel_model_free(m);
	xtel_inventory_put(inv);
	xtel_registry_free(reg);
}

/* Without an inventory: no device, silent_s still computed. */
static void test_no_inventory(void **state)
{
	struct xtel_registry *reg = xtel_registry_new(10);
	struct xtel_registry *regs[1] = { reg };
	struct xtel_model *m;
	struct xtel_view *v;

	(void)state;
	feed(reg, 7, XTEL_MSG_INIT, 0, T0);
	assert_int_equal(xtel_model_new(&(struct xtel_model_cfg){
		.regs = regs, .n_regs = 1, .stale_after_ns = 1ull * S,
		.counters = no_counters,
	}, &m), 0);
	assert_int_equal(xtel_model_update(m, T0 + 2ull * S, 2, false), 0);
	v = xtel_model_view(m);
	assert_null(v->inv);
	assert_int_equal(v->n_devices, 0);
	assert_null(client(v, 7)->dev);
	assert_true(client(v, 7)->silent_s == 2.0);
	assert_int_equal(client(v, 7)->state, XTEL_CLIENT_STALE);
	assert_int_equal(v->clients_unknown, 0);
	xtel_view_put(v);
	xtel_model_free(m);
	xtel_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heartbeat_staleness),
		cmocka_unit_test(test_no_inventory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
