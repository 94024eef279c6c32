// SPDX-License-Identifier: MIT
/*
 * Registry and snapshot: per-metric interval statistics across
 * xtel_interval_advance(), 100,000 clients in one and in two registries with
 * exact totals (and the time a snapshot takes), a full registry, staleness,
 * and a writer thread accounting a known sequence while a reader thread
 * snapshots in a loop: every snapshot must be internally consistent and the
 * last one exact.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/clock.h"
#include "acct/record.h"
#include "acct/registry.h"
#include "acct/snapshot.h"

static const uint64_t T0 = 1700000000000000000ULL;

static void msg_init(struct xtel_msg *m, uint32_t id, uint8_t type,
		     uint64_t seq, uint64_t ts)
{
	memset(m, 0, sizeof(*m));
	m->version = XTEL_WIRE_VERSION;
	m->type = type;
	m->client_id = id;
	m->seq = seq;
	m->send_ts_ns = ts;
}

static void add_metric(struct xtel_msg *m, const char *key, double v)
{
	struct xtel_metric *mt = &m->metrics[m->n_metrics++];

	mt->key = key;
	mt->key_len = (uint8_t)strlen(key);
	mt->value = v;
}

static int account(struct xtel_registry *reg, const struct xtel_msg *m,
		   uint64_t latency)
{
	struct xtel_acct_result res;

	return xtel_registry_account(reg, m, m->send_ts_ns + latency, 100, &res);
}

static const struct xtel_metric_snap *find_metric(const struct xtel_client_snap *c,
						  const char *key)
{
	for (uint32_t i = 0; i < c->n_metrics; i++)
		if (strcmp(c->metrics[i].key, key) == 0)
			return &c->metrics[i];
	return NULL;
}

static void send_cpu(struct xtel_registry *reg, uint64_t seq, double v)
{
	struct xtel_msg m;

	msg_init(&m, 1, XTEL_MSG_DATA, seq, T0 + seq);
	add_metric(&m, "cpu", v);
	assert_int_equal(account(reg, &m, 1000), 0);
}

static const struct xtel_metric_snap *cpu_now(struct xtel_registry *reg,
					      struct xtel_snapshot *s)
{
	xtel_snapshot_free(s);
	assert_int_equal(xtel_snapshot_take(&reg, 1, T0, 1, false, s), 0);
	assert_int_equal(s->n_clients, 1);
	return find_metric(&s->clients[0], "cpu");
}

static void test_metric_intervals(void **state)
{
	struct xtel_registry *reg = xtel_registry_new(8);
	struct xtel_snapshot s = { 0 };
	const struct xtel_metric_snap *m;
	struct xtel_msg msg;
	char keys[20][8];

	(void)state;
	assert_non_null(reg);
	send_cpu(reg, 0, 1);
	send_cpu(reg, 1, 2);
	send_cpu(reg, 2, 3);
	m = cpu_now(reg, &s);
	assert_non_null(m);
	assert_true(m->last == 3);
	assert_int_equal(m->last_ts_ns, T0 + 2);
	assert_int_equal(m->count, 0);		/* no complete interval yet */

	xtel_interval_advance();
	m = cpu_now(reg, &s);			/* the writer has not rolled */
	assert_int_equal(m->count, 3);
	assert_true(m->min == 1 && m->max == 3 && m->mean == 2);

	send_cpu(reg, 3, 10);
	send_cpu(reg, 4, 20);
	m = cpu_now(reg, &s);			/* rolled: still reports 1..3 */
	assert_int_equal(m->count, 3);
	assert_true(m->min == 1 && m->max == 3 && m->mean == 2);
	assert_true(m->last == 20);

	/* A duplicate carries no new sample; a reordered older datagram
	 * adds its sample but does not replace the latest value. */
	send_cpu(reg, 4, 20);
	msg_init(&msg, 1, XTEL_MSG_DATA, 6, T0 + 6);
	add_metric(&msg, "cpu", 60);
	assert_int_equal(account(reg, &msg, 1000), 0);
	send_cpu(reg, 5, -30);

	xtel_interval_advance();
	m = cpu_now(reg, &s);
	assert_int_equal(m->count, 4);
	assert_true(m->min == -30 && m->max == 60 && m->mean == 15);
	assert_true(m->last == 60);
	assert_int_equal(m->last_ts_ns, T0 + 6);
	assert_int_equal(s.clients[0].duplicates, 1);
	assert_int_equal(s.clients[0].reordered, 1);

	/* Two intervals without data: the last complete one is empty. */
	xtel_interval_advance();
	m = cpu_now(reg, &s);
	assert_int_equal(m->count, 0);
	xtel_interval_advance();
	send_cpu(reg, 7, 5);
	m = cpu_now(reg, &s);
	assert_int_equal(m->count, 0);
	assert_true(m->last == 5);

	/* 20 distinct keys: 16 kept (cpu is one of them), 5 dropped. */
	msg_init(&msg, 1, XTEL_MSG_DATA, 8, T0 + 8);
	for (int i = 0; i < 20; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%02d", i);
		add_metric(&msg, keys[i], i);
	}
	assert_int_equal(account(reg, &msg, 1000), 0);
	cpu_now(reg, &s);
	assert_int_equal(s.clients[0].n_metrics, 16);
	assert_int_equal(s.clients[0].metrics_dropped, 5);
	assert_non_null(find_metric(&s.clients[0], "k14"));
	assert_null(find_metric(&s.clients[0], "k15"));
	xtel_snapshot_free(&s);
	xtel_registry_free(reg);
}

enum { MANY = 100000, PER_CLIENT = 10 };

struct expect {
	uint64_t received, lost, dups, epochs, bytes;
};

/*
 * Client id's traffic: INIT then DATA 1..9, seq 5 lost for every tenth
 * client, seq 3 repeated for every seventh. Latency grows with the id.
 */
static void feed_client(struct xtel_registry *reg, uint32_t id,
			uint64_t epoch_ts, struct expect *e)
{
	struct xtel_msg m;

	for (uint64_t s = 0; s < PER_CLIENT; s++) {
		int times = (id % 7 == 0 && s == 3) ? 2 : 1;

		if (id % 10 == 0 && s == 5)
			continue;
		msg_init(&m, id, s ? XTEL_MSG_DATA : XTEL_MSG_INIT, s,
			 epoch_ts + s * 1000);
		for (int t = 0; t < times; t++) {
			assert_int_equal(account(reg, &m, 1000 + id % 1000), 0);
			e->received++;
			e->bytes += 100;
		}
		e->dups += times - 1;
	}
	e->lost += id % 10 == 0;	/* after the final fold */
	e->epochs++;
}

static void check_totals(struct xtel_registry *const *regs, unsigned int n,
			 uint32_t n_clients, const struct expect *e)
{
	struct xtel_snapshot s;
	uint64_t t0 = xtel_mono_ns(), dt;

	assert_int_equal(xtel_snapshot_take(regs, n, T0, UINT64_MAX, true, &s), 0);
	dt = xtel_mono_ns() - t0;
	print_message("snapshot of %u clients in %u registr%s: %.1f ms\n",
		      n_clients, n, n == 1 ? "y" : "ies", (double)dt / 1e6);
	assert_int_equal(s.n_clients, n_clients);
	assert_int_equal(s.total.received, e->received);
	assert_int_equal(s.total.bytes, e->bytes);
	assert_int_equal(s.total.lost, e->lost);
	assert_int_equal(s.total.pending, 0);
	assert_int_equal(s.total.duplicates, e->dups);
	assert_int_equal(s.total.epochs, e->epochs);
	assert_int_equal(s.total.lat.count, e->received - e->dups);
	assert_int_equal(s.total.lat.min_ns, 1000);
	assert_int_equal(s.total.lat.max_ns, 1999);
	assert_int_equal(s.total.by_type[XTEL_MSG_INIT], e->epochs);
	for (uint32_t i = 1; i < s.n_clients; i++)
		assert_true(s.clients[i - 1].client_id < s.clients[i].client_id);
	xtel_snapshot_free(&s);
}

/*
 * docs/PROTOCOL.md 3: any type may carry a payload and it is validated, but
 * the collector records metrics from DATA only; a DATA of an epoch closed
 * by BYE (too late) records nothing either.
 */
static void test_metrics_from_data_only(void **state)
{
	static const uint8_t types[] = { XTEL_MSG_INIT, XTEL_MSG_HEARTBEAT,
					 XTEL_MSG_DATA, XTEL_MSG_BYE, XTEL_MSG_DATA };
	static const uint64_t seqs[] = { 0, 1, 2, 2, 5 };
	struct xtel_registry *reg = xtel_registry_new(8);
	struct xtel_snapshot s = { 0 };
	const struct xtel_metric_snap *m;

	(void)state;
	assert_non_null(reg);
	for (unsigned int i = 0; i < sizeof(types); i++) {
		struct xtel_msg msg;

		msg_init(&msg, 1, types[i], seqs[i], T0 + i);
		add_metric(&msg, "cpu", 10.0 * (i + 1));
		add_metric(&msg, types[i] == XTEL_MSG_DATA ? "mem" : "other", 1);
		assert_int_equal(account(reg, &msg, 1000), 0);
	}
	xtel_interval_advance();
	m = cpu_now(reg, &s);
	assert_int_equal(s.clients[0].received, 5);
	assert_int_equal(s.clients[0].too_late, 1);
	assert_int_equal(s.clients[0].n_metrics, 2);	/* cpu, mem: no "other" */
	assert_non_null(m);
	assert_int_equal(m->count, 1);
	assert_true(m->last == 30 && m->min == 30 && m->max == 30);
	assert_null(find_metric(&s.clients[0], "other"));
	xtel_snapshot_free(&s);
	xtel_registry_free(reg);
}

static void test_many_clients_one_registry(void **state)
{
	struct xtel_registry *reg = xtel_registry_new(MANY);
	struct expect e = { 0 };
	struct xtel_msg m;

	(void)state;
	assert_non_null(reg);
	for (uint32_t id = 1; id <= MANY; id++)
		feed_client(reg, id * 3, T0, &e);	/* sparse ids */
	check_totals(&reg, 1, MANY, &e);
	/* Full: a new client is refused and counted, old ones go on. */
	msg_init(&m, 7, XTEL_MSG_INIT, 0, T0);
	assert_int_equal(account(reg, &m, 1000), -ENOSPC);
	msg_init(&m, 3, XTEL_MSG_DATA, PER_CLIENT, T0 + PER_CLIENT * 1000);
	assert_int_equal(account(reg, &m, 1000), 0);
	{
		struct xtel_snapshot s;

		assert_int_equal(xtel_snapshot_take(&reg, 1, T0, 0, false, &s), 0);
		assert_int_equal(s.registry_full, 1);
		assert_int_equal(s.n_clients, MANY);
		xtel_snapshot_free(&s);
	}
	print_message("record %zu bytes + histogram pages (16-128 B per 16 buckets seen)\n",
		      sizeof(struct xtel_record));
	xtel_registry_free(reg);
}

static void test_many_clients_two_registries(void **state)
{
	struct xtel_registry *regs[2] = { xtel_registry_new(MANY),
					  xtel_registry_new(MANY) };
	struct expect e = { 0 };

	(void)state;
	assert_non_null(regs[0]);
	assert_non_null(regs[1]);
	for (uint32_t id = 0; id < MANY; id++) {
		feed_client(regs[id % 2], id, T0, &e);
		/* Every 1000th client restarted and landed on the other worker:
		 * its records in both registries merge into one client. */
		if (id % 1000 == 0)
			feed_client(regs[(id + 1) % 2], id, T0 + 1000000000, &e);
	}
	check_totals(regs, 2, MANY, &e);
	{
		struct xtel_snapshot s;

		assert_int_equal(xtel_snapshot_take(regs, 2, T0, 0, true, &s), 0);
		/* client 1000: twice 10 datagrams, one lost in each epoch,
		 * one duplicate in neither (1000 % 7 != 0). */
		assert_int_equal(s.clients[1000].client_id, 1000);
		assert_int_equal(s.clients[1000].epochs, 2);
		assert_int_equal(s.clients[1000].received, 18);
		assert_int_equal(s.clients[1000].lost, 2);
		assert_int_equal(s.clients[1000].lat.count, 18);
		assert_int_equal(s.clients[1000].lat.min_ns, 1000);
		assert_int_equal(s.clients[1000].lat.max_ns, 1000);
		xtel_snapshot_free(&s);
	}
	xtel_registry_free(regs[0]);
	xtel_registry_free(regs[1]);
}

static void test_stale_and_empty(void **state)
{
	struct xtel_registry *reg = xtel_registry_new(4);
	struct xtel_snapshot s;
	struct xtel_msg m;

	(void)state;
	assert_int_equal(xtel_snapshot_take(&reg, 1, T0, 10, false, &s), 0);
	assert_int_equal(s.n_clients, 0);
	assert_int_equal(s.total.received, 0);
	xtel_snapshot_free(&s);

	msg_init(&m, 1, XTEL_MSG_INIT, 0, T0);
	account(reg, &m, 1000);			/* arrives at T0 + 1000 */
	msg_init(&m, 2, XTEL_MSG_INIT, 0, T0 + 5000);
	account(reg, &m, 1000);			/* arrives at T0 + 6000 */
	assert_int_equal(xtel_snapshot_take(&reg, 1, T0 + 8000, 3000, false, &s),
			 0);
	assert_true(s.clients[0].stale);
	assert_false(s.clients[1].stale);
	assert_int_equal(s.clients[0].first_seen_ns, T0 + 1000);
	assert_int_equal(s.total.last_seen_ns, T0 + 6000);
	xtel_snapshot_free(&s);
	assert_null(xtel_registry_new(0));
	xtel_registry_free(reg);
}

/* ---- concurrent writer and reader ---- */

/* 64 busy clients, plus one new client per round for the first C_NEW rounds
 * (crossing a record chunk) so that readers also race with insertion. */
enum { C_CLIENTS = 64, C_ROUNDS = 20000, C_NEW = 2000, C_NEW_ID = 1000 };

struct conc {
	struct xtel_registry *reg;
	int done;
	uint64_t snapshots;
};

static bool c_lost(uint64_t seq) { return seq % 97 == 13; }
static bool c_dup(uint64_t seq) { return seq % 89 == 7; }

static void *writer(void *arg)
{
	struct conc *c = arg;
	struct xtel_msg m;

	for (uint64_t r = 0; r < C_ROUNDS; r++) {
		for (uint32_t id = 0; id < C_CLIENTS; id++) {
			if (c_lost(r))
				continue;
			msg_init(&m, id, r ? XTEL_MSG_DATA : XTEL_MSG_INIT, r,
				 T0 + r * 1000);
			add_metric(&m, "v", (double)r);
			account(c->reg, &m, 2000);
			if (c_dup(r))
				account(c->reg, &m, 2000);
		}
		if (r < C_NEW) {
			msg_init(&m, C_NEW_ID + (uint32_t)r, XTEL_MSG_INIT, 0, T0);
			account(c->reg, &m, 2000);
		}
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void check_consistent(const struct xtel_client_snap *k, bool client)
{
	uint64_t by_type = 0;

	for (unsigned int t = 0; t <= XTEL_MSG_TYPE_MAX; t++)
		by_type += k->by_type[t];
	assert_int_equal(k->received, by_type);
	assert_int_equal(k->bytes, 100 * k->received);
	/* Unique numbers seen = highest + 1 - (lost + pending). */
	if (client)
		assert_int_equal(k->received - k->duplicates,
				 k->highest_seq + 1 - k->lost - k->pending);
	assert_int_equal(k->lat.count, k->received - k->duplicates);
	if (k->lat.count)
		assert_int_equal(k->lat.min_ns, 2000);
}

static void *reader(void *arg)
{
	struct conc *c = arg;

	while (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE)) {
		struct xtel_snapshot s;

		if (xtel_snapshot_take(&c->reg, 1, T0, UINT64_MAX, false, &s))
			abort();
		for (uint32_t i = 0; i < s.n_clients; i++)
			check_consistent(&s.clients[i], true);
		check_consistent(&s.total, false);
		xtel_snapshot_free(&s);
		c->snapshots++;
	}
	return NULL;
}

static void test_concurrent_snapshot(void **state)
{
	struct conc c = { .reg = xtel_registry_new(C_CLIENTS + C_NEW) };
	pthread_t w, r;
	struct xtel_snapshot s;
	uint64_t lost = 0, dups = 0, recv = 0;

	(void)state;
	assert_non_null(c.reg);
	assert_int_equal(pthread_create(&r, NULL, reader, &c), 0);
	assert_int_equal(pthread_create(&w, NULL, writer, &c), 0);
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	for (uint64_t q = 0; q < C_ROUNDS; q++) {
		lost += c_lost(q);
		recv += !c_lost(q) + (!c_lost(q) && c_dup(q));
		dups += !c_lost(q) && c_dup(q);
	}
	print_message("%" PRIu64 " snapshots taken while writing\n", c.snapshots);
	assert_int_equal(xtel_snapshot_take(&c.reg, 1, T0, UINT64_MAX, true, &s), 0);
	assert_int_equal(s.n_clients, C_CLIENTS + C_NEW);
	for (uint32_t i = 0; i < C_CLIENTS; i++) {
		const struct xtel_client_snap *k = &s.clients[i];
		const struct xtel_metric_snap *v = find_metric(k, "v");

		assert_int_equal(k->received, recv);
		assert_int_equal(k->lost, lost);
		assert_int_equal(k->duplicates, dups);
		assert_int_equal(k->highest_seq, C_ROUNDS - 1);
		assert_non_null(v);
		assert_true(v->last == C_ROUNDS - 1);
	}
	assert_int_equal(s.clients[C_CLIENTS].client_id, C_NEW_ID);
	assert_int_equal(s.clients[C_CLIENTS].received, 1);
	assert_int_equal(s.total.received, recv * C_CLIENTS + C_NEW);
	assert_int_equal(s.total.lost, lost * C_CLIENTS);
	xtel_snapshot_free(&s);
	xtel_registry_free(c.reg);
}

/* The receive loop's prefetch hints read only: known ids, unknown, none. */
static void test_prefetch_hints_change_nothing(void **state)
{
	enum { N = 3000 };
	struct xtel_registry *reg = xtel_registry_new(N + 1);
	struct xtel_registry *empty = xtel_registry_new(4);
	struct expect e = { 0 };
	struct xtel_record *before;

	(void)state;
	assert_non_null(reg);
	assert_non_null(empty);
	for (uint32_t id = 1; id <= N; id++)
		feed_client(reg, id * 3, T0, &e);	/* sparse ids */
	before = malloc(N * sizeof(*before));
	assert_non_null(before);
	for (uint32_t i = 0; i < N; i++)
		memcpy(&before[i], xtel_registry_record(reg, i), sizeof(*before));
	for (uint32_t id = 0; id <= 3 * N + 7; id++) {	/* known and not */
		xtel_registry_prefetch_slot(reg, id);
		xtel_registry_prefetch_record(reg, id);
		xtel_registry_prefetch_slot(empty, id);
		xtel_registry_prefetch_record(empty, id);
	}
	assert_int_equal(xtel_registry_count(reg), N);
	assert_int_equal(reg->h_used, N);
	assert_int_equal(xtel_registry_count(empty), 0);
	assert_int_equal(empty->h_used, 0);
	for (uint32_t i = 0; i < N; i++)
		assert_memory_equal(&before[i], xtel_registry_record(reg, i),
				    sizeof(*before));
	check_totals(&reg, 1, N, &e);
	free(before);
	xtel_registry_free(empty);
	xtel_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metric_intervals),
		cmocka_unit_test(test_metrics_from_data_only),
		cmocka_unit_test(test_many_clients_one_registry),
		cmocka_unit_test(test_many_clients_two_registries),
		cmocka_unit_test(test_stale_and_empty),
		cmocka_unit_test(test_concurrent_snapshot),
		cmocka_unit_test(test_prefetch_hints_change_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
