// SPDX-License-Identifier: MIT
/*
 * unit: the export library's codec and deltas (userspace/export/): CBOR
 * bytes as RFC 8949 spells them and foreign widths read back; a rollup
 * message round trip field by field, unknown keys skipped, a future
 * version refused, every truncation refused without a crash; deltas of
 * successive snapshots (changed clients only, histogram buckets less the
 * previous ones, new clients between old ones).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "export/cbor.h"
#include "export/delta.h"
#include "export/rollup.h"
#include "health/health.h"

static void expect_bytes(struct xtel_cbor_buf *b, const char *hex)
{
	char got[256] = "";

	for (size_t i = 0; i < b->len && 2 * i + 2 < sizeof(got); i++)
		snprintf(got + 2 * i, 3, "%02x", b->p[i]);
	assert_string_equal(got, hex);
	xtel_cbor_buf_reset(b);
}

static void test_cbor_rfc_examples(void **state)
{
	struct xtel_cbor_buf b = { 0 };

	(void)state;
	xtel_cbor_uint(&b, 0);
	expect_bytes(&b, "00");
	xtel_cbor_uint(&b, 23);
	expect_bytes(&b, "17");
	xtel_cbor_uint(&b, 24);
	expect_bytes(&b, "1818");
	xtel_cbor_uint(&b, 1000);
	expect_bytes(&b, "1903e8");
	xtel_cbor_uint(&b, 1000000);
	expect_bytes(&b, "1a000f4240");
	xtel_cbor_uint(&b, 1ULL << 32);
	expect_bytes(&b, "1b0000000100000000");
	xtel_cbor_cstr(&b, "IETF");
	expect_bytes(&b, "6449455446");
	xtel_cbor_bool(&b, true);
	expect_bytes(&b, "f5");
	xtel_cbor_double(&b, 1.1);
	expect_bytes(&b, "fb3ff199999999999a");
	xtel_cbor_array(&b, 2);
	xtel_cbor_map(&b, 1);
	expect_bytes(&b, "82a1");
	assert_int_equal(b.err, 0);
	xtel_cbor_buf_free(&b);
}

static void test_cbor_reader(void **state)
{
	/* [1.0 as float16, 100000.0 as float32, 0 as a non-shortest uint,
	 *  {"a": [1, 2]} (skipped), -1, true] */
	static const uint8_t in[] = { 0x86, 0xf9, 0x3c, 0x00, 0xfa, 0x47, 0xc3,
		0x50, 0x00, 0x18, 0x00, 0xa1, 0x61, 0x61, 0x82, 0x01, 0x02,
		0x20, 0xf5 };
	struct xtel_cbor_cur c;

	(void)state;
	xtel_cbor_cur_init(&c, in, sizeof(in));
	assert_int_equal(xtel_cbor_get_array(&c), 6);
	assert_true(xtel_cbor_get_double(&c) == 1.0);
	assert_true(xtel_cbor_get_double(&c) == 100000.0);
	assert_int_equal(xtel_cbor_get_uint(&c), 0);
	xtel_cbor_skip(&c);
	assert_true(xtel_cbor_get_double(&c) == -1.0);
	assert_true(xtel_cbor_get_bool(&c));
	assert_int_equal(c.err, 0);
	assert_ptr_equal(c.p, c.end);
	/* past the end, a wrong type, an indefinite length: sticky errors */
	assert_int_equal(xtel_cbor_get_uint(&c), 0);
	assert_int_equal(c.err, -EBADMSG);
	xtel_cbor_cur_init(&c, in, sizeof(in));
	xtel_cbor_get_uint(&c);
	assert_int_equal(c.err, -EBADMSG);
	xtel_cbor_cur_init(&c, (const uint8_t[]){ 0x9f, 0xff }, 2);
	xtel_cbor_get_array(&c);
	assert_int_equal(c.err, -EBADMSG);
	/* an array claiming more elements than bytes left */
	xtel_cbor_cur_init(&c, (const uint8_t[]){ 0x9a, 0xff, 0xff, 0xff, 0xff }, 5);
	assert_int_equal(xtel_cbor_get_array(&c), 0);
	assert_int_equal(c.err, -EBADMSG);
}

/* ---- rollup round trip ---- */

static const struct xtel_lat_bucket buckets[] = {
	{ .idx = 3, .count = 7 }, { .idx = 700, .count = 1ULL << 40 },
};
static const struct xtel_rollup_metric metrics[] = {
	{ .key = "temp", .count = 5, .sum = 101.5, .min = 15.25, .max = 29.0,
	  .last = 20.5, .last_ts_ns = 1796000000000000001ULL },
	{ .key = "load", .last = 3, .last_ts_ns = 9 },
};

static struct xtel_rollup_client sample(uint32_t id)
{
	struct xtel_rollup_client c = {
		.client_id = id, .received = 1000 + id, .bytes = 47000,
		.lost = 3, .pending = 2, .duplicates = 4, .reordered = 5,
		.too_late = 1, .epochs = 1, .metrics_dropped = 6,
		.by_type = { 1, 0, 998, 1 },
		.first_seen_ns = 1796000000000000000ULL,
		.last_seen_ns = 1796000001000000000ULL, .highest_seq = 1000,
		.bye = true, .lat_count = 990, .lat_negative = 2,
		.lat_sum = 1234567, .lat_min = 900, .lat_max = 90000,
		.lat_overflow = 1, .n_buckets = 2, .buckets = buckets,
		.n_metrics = 2, .metrics = metrics,
	};
	if (id) {	/* clients carry the edge's verdict, the totals none */
		c.health = true;
		snprintf(c.health_state, sizeof(c.health_state), "%s",
			 id % 2 ? "anomalous" : "ok");
		c.health_score = 25.25 + id;
		c.health_since_ns = 1796000000500000000ULL + id;
	}
	return c;
}

struct got {
	unsigned int n, totals;
	struct xtel_rollup_hdr h;
	uint32_t ids[4];
};

static void same_client(const struct xtel_rollup_client *a,
			const struct xtel_rollup_client *b)
{
	assert_int_equal(a->client_id, b->client_id);
	assert_int_equal(a->received, b->received);
	assert_int_equal(a->bytes, b->bytes);
	assert_int_equal(a->lost, b->lost);
	assert_int_equal(a->pending, b->pending);
	assert_int_equal(a->duplicates, b->duplicates);
	assert_int_equal(a->reordered, b->reordered);
	assert_int_equal(a->too_late, b->too_late);
	assert_int_equal(a->epochs, b->epochs);
	assert_int_equal(a->metrics_dropped, b->metrics_dropped);
	assert_memory_equal(a->by_type, b->by_type, sizeof(a->by_type));
	assert_int_equal(a->first_seen_ns, b->first_seen_ns);
	assert_int_equal(a->last_seen_ns, b->last_seen_ns);
	assert_int_equal(a->highest_seq, b->highest_seq);
	assert_int_equal(a->bye, b->bye);
	assert_int_equal(a->lat_count, b->lat_count);
	assert_int_equal(a->lat_negative, b->lat_negative);
	assert_int_equal(a->lat_sum, b->lat_sum);
	assert_int_equal(a->lat_min, b->lat_min);
	assert_int_equal(a->lat_max, b->lat_max);
	assert_int_equal(a->lat_overflow, b->lat_overflow);
	assert_int_equal(a->n_buckets, b->n_buckets);
	assert_memory_equal(a->buckets, b->buckets, a->n_buckets * sizeof(*a->buckets));
	assert_int_equal(a->health, b->health);
	assert_string_equal(a->health_state, b->health_state);
	assert_true(a->health_score == b->health_score);
	assert_int_equal(a->health_since_ns, b->health_since_ns);
	assert_int_equal(a->n_metrics, b->n_metrics);
	for (uint32_t k = 0; k < a->n_metrics; k++) {
		assert_string_equal(a->metrics[k].key, b->metrics[k].key);
		assert_int_equal(a->metrics[k].count, b->metrics[k].count);
		assert_true(a->metrics[k].sum == b->metrics[k].sum);
		assert_true(a->metrics[k].min == b->metrics[k].min);
		assert_true(a->metrics[k].max == b->metrics[k].max);
		assert_true(a->metrics[k].last == b->metrics[k].last);
		assert_int_equal(a->metrics[k].last_ts_ns, b->metrics[k].last_ts_ns);
	}
}

static int collect(void *arg, const struct xtel_rollup_hdr *h,
		   const struct xtel_rollup_client *c, bool is_total)
{
	struct got *g = arg;
	struct xtel_rollup_client want = sample(is_total ? 0 : c->client_id);

	same_client(&want, c);
	if (is_total) {
		g->totals++;
	} else if (g->n < 4) {
		g->ids[g->n++] = c->client_id;
	}
	g->h = *h;
	return 0;
}

static const struct xtel_rollup_hdr hdr = {
	.version = XTEL_ROLLUP_VERSION, .site = "siteA", .edge = "edge-1",
	.run = 1796000000000000000ULL, .seq = 42, .part = 1, .parts = 3,
	.taken_ns = 1796000002000000000ULL, .interval_ns = 1000000000,
	.final = true,
};

static void encode(struct xtel_cbor_buf *b)
{
	struct xtel_rollup_client t = sample(0), c1 = sample(7), c2 = sample(9);

	xtel_rollup_put_hdr(b, &hdr, true);
	xtel_rollup_put_client(b, &t);
	xtel_rollup_put_clients_head(b, 2);
	xtel_rollup_put_client(b, &c1);
	xtel_rollup_put_client(b, &c2);
	assert_int_equal(b->err, 0);
}

static void test_rollup_round_trip(void **state)
{
	struct xtel_cbor_buf b = { 0 };
	struct xtel_rollup_hdr h;
	struct got g = { 0 };

	(void)state;
	encode(&b);
	assert_int_equal(xtel_rollup_decode(b.p, b.len, &h, collect, &g), 0);
	assert_int_equal(g.totals, 1);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.ids[0], 7);
	assert_int_equal(g.ids[1], 9);
	assert_memory_equal(&h, &hdr, sizeof(h));
	/* every shorter prefix is refused, never read past */
	for (size_t n = 0; n < b.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, b.p, n);
		g = (struct got){ 0 };
		assert_int_equal(xtel_rollup_decode(copy, n, &h, collect, &g),
				 -EBADMSG);
		free(copy);
	}
	xtel_cbor_buf_free(&b);
}

static int count_only(void *arg, const struct xtel_rollup_hdr *h,
		      const struct xtel_rollup_client *c, bool is_total)
{
	(*(unsigned int *)arg)++;
	return 0;
}

static void test_rollup_versions(void **state)
{
	struct xtel_cbor_buf b = { 0 };
	struct xtel_rollup_hdr h;
	unsigned int n = 0;

	(void)state;
	/* a later writer's extra key (99: a nested map) is skipped */
	xtel_cbor_map(&b, 5);
	xtel_cbor_kv(&b, XTEL_RK_VERSION, 1);
	xtel_cbor_uint(&b, 99);
	xtel_cbor_map(&b, 1);
	xtel_cbor_kv(&b, 1, 2);
	xtel_cbor_uint(&b, XTEL_RK_SITE);
	xtel_cbor_cstr(&b, "s");
	xtel_cbor_uint(&b, XTEL_RK_EDGE);
	xtel_cbor_cstr(&b, "e");
	xtel_cbor_uint(&b, XTEL_RK_CLIENTS);
	xtel_cbor_array(&b, 1);
	xtel_cbor_map(&b, 2);
	xtel_cbor_kv(&b, XTEL_CK_ID, 5);
	xtel_cbor_kv(&b, 77, 1);	/* unknown client key */
	assert_int_equal(xtel_rollup_decode(b.p, b.len, &h, count_only, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(h.site, "s");
	/* version 2 is refused as such */
	b.p[2] = 2;
	assert_int_equal(xtel_rollup_decode(b.p, b.len, &h, count_only, &n),
			 -EPROTONOSUPPORT);
	xtel_cbor_buf_free(&b);
}

/* ---- deltas ---- */

struct seen {
	unsigned int n;
	struct xtel_rollup_client c[4];
	struct xtel_lat_bucket b[4][4];
};

static int keep(void *arg, const struct xtel_rollup_client *rc)
{
	struct seen *s = arg;

	assert_true(s->n < 4 && rc->n_buckets <= 4);
	s->c[s->n] = *rc;
	memcpy(s->b[s->n], rc->buckets, rc->n_buckets * sizeof(*rc->buckets));
	s->c[s->n].buckets = s->b[s->n];
	s->n++;
	return 0;
}

static void test_delta_steps(void **state)
{
	struct xtel_lat_bucket b1[] = { { .idx = 10, .count = 5 } };
	struct xtel_lat_bucket b2[] = { { .idx = 10, .count = 8 },
					{ .idx = 20, .count = 1 } };
	struct xtel_client_snap cl[3] = {
		{ .client_id = 1, .received = 10, .bytes = 100, .epochs = 1,
		  .lat = { .count = 5, .sum_ns = 50 }, .n_buckets = 1, .buckets = b1 },
		{ .client_id = 5, .received = 3, .bytes = 30, .epochs = 1 },
	};
	struct xtel_snapshot snap = { .n_clients = 2, .clients = cl };
	struct xtel_rollup_client tot;
	struct xtel_delta *d;
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(xtel_delta_new(&d), 0);
	snap.total.received = 13;
	assert_int_equal(xtel_delta_step(d, &snap, keep, &s, &tot), 0);
	assert_int_equal(s.n, 2);		/* first step: everything */
	assert_int_equal(s.c[0].received, 10);
	assert_int_equal(s.c[0].n_buckets, 1);
	assert_int_equal(s.c[0].buckets[0].count, 5);
	assert_int_equal(tot.received, 13);

	/* client 1 moves on, 5 does not, 3 is new between them */
	cl[2] = cl[1];
	cl[1] = (struct xtel_client_snap){ .client_id = 3, .received = 2,
					   .bytes = 20, .epochs = 1 };
	cl[0].received = 14;
	cl[0].bytes = 140;
	cl[0].lat.count = 9;
	cl[0].lat.sum_ns = 95;
	cl[0].n_buckets = 2;
	cl[0].buckets = b2;
	snap.n_clients = 3;
	snap.total.received = 19;
	s.n = 0;
	assert_int_equal(xtel_delta_step(d, &snap, keep, &s, &tot), 0);
	assert_int_equal(s.n, 2);		/* client 5 unchanged: left out */
	assert_int_equal(s.c[0].client_id, 1);
	assert_int_equal(s.c[0].received, 4);
	assert_int_equal(s.c[0].bytes, 40);
	assert_int_equal(s.c[0].epochs, 0);
	assert_int_equal(s.c[0].lat_count, 4);
	assert_int_equal(s.c[0].lat_sum, 45);
	assert_int_equal(s.c[0].n_buckets, 2);	/* 10: +3, 20: +1 */
	assert_int_equal(s.c[0].buckets[0].idx, 10);
	assert_int_equal(s.c[0].buckets[0].count, 3);
	assert_int_equal(s.c[0].buckets[1].idx, 20);
	assert_int_equal(s.c[0].buckets[1].count, 1);
	assert_int_equal(s.c[1].client_id, 3);
	assert_int_equal(s.c[1].received, 2);
	assert_int_equal(tot.received, 6);

	/* nothing moved: nothing sent, totals zero */
	s.n = 0;
	assert_int_equal(xtel_delta_step(d, &snap, keep, &s, &tot), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(tot.received, 0);
	xtel_delta_free(d);
}

/* The verdicts ride along; a changed verdict alone makes an entry. */
static void test_delta_health(void **state)
{
	struct xtel_client_snap cl[2] = {
		{ .client_id = 1, .received = 10, .epochs = 1, .pending = 2 },
		{ .client_id = 5, .received = 3, .epochs = 1 },
	};
	struct xtel_health_result res[2] = {
		{ .client_id = 1, .state = XTEL_HEALTH_OK, .since_ns = 100 },
		{ .client_id = 5, .state = XTEL_HEALTH_OK, .since_ns = 100 },
	};
	struct xtel_health_view hv = { .n_clients = 2, .clients = res };
	struct xtel_snapshot snap = { .n_clients = 2, .clients = cl };
	struct xtel_rollup_client tot;
	struct xtel_delta *d;
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(xtel_delta_new(&d), 0);
	assert_int_equal(xtel_delta_step_health(d, &snap, &hv, keep, &s, &tot), 0);
	assert_int_equal(s.n, 2);
	assert_true(s.c[0].health && s.c[1].health);
	assert_string_equal(s.c[0].health_state, "ok");
	assert_false(tot.health);		/* the totals have none */
	/* client 5 moves on, 1 is quiet and unchanged: only 5 */
	cl[1].received = 4;
	s.n = 0;
	assert_int_equal(xtel_delta_step_health(d, &snap, &hv, keep, &s, &tot), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.c[0].client_id, 5);
	/* client 1 goes silent: its new verdict alone makes its entry, with
	 * no counter delta and its pending as it is */
	res[0] = (struct xtel_health_result){ .client_id = 1,
		.state = XTEL_HEALTH_SILENT, .score = 2, .since_ns = 200 };
	s.n = 0;
	assert_int_equal(xtel_delta_step_health(d, &snap, &hv, keep, &s, &tot), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.c[0].client_id, 1);
	assert_int_equal(s.c[0].received, 0);
	assert_int_equal(s.c[0].pending, 2);
	assert_string_equal(s.c[0].health_state, "silent");
	assert_true(s.c[0].health_score == 2);
	assert_int_equal(s.c[0].health_since_ns, 200);
	/* the same verdict again: nothing */
	s.n = 0;
	assert_int_equal(xtel_delta_step_health(d, &snap, &hv, keep, &s, &tot), 0);
	assert_int_equal(s.n, 0);
	xtel_delta_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cbor_rfc_examples),
		cmocka_unit_test(test_cbor_reader),
		cmocka_unit_test(test_rollup_round_trip),
		cmocka_unit_test(test_rollup_versions),
		cmocka_unit_test(test_delta_steps),
		cmocka_unit_test(test_delta_health),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
