// SPDX-License-Identifier: MIT
/*
 * health/engine.c: a small fleet driven interval by interval with known
 * faults. Asserts the exact verdict of every client, when it starts (the
 * confirm rule), its explanation, the transitions in the event ring, the
 * ring's overflow count, warm-up, the group verdict and the SLO rules.
 */
#include <stdio.h>

#include "test_health_methods.h"
#include "health/health.h"

enum { N = 10, DT_NS = 1000000000 };
static const uint64_t T0 = 1700000000000000000ULL;	/* 22:13:20 UTC */

/* deterministic noise in [-1, 1] */
static double noise(uint32_t id, uint32_t t, uint32_t k)
{
	uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ULL ^ (uint64_t)t << 20 ^ k;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	return (double)(x % 2001) / 1000.0 - 1.0;
}

enum fault { F_NONE, F_LAT, F_LAT_LOSS, F_LOSS, F_STOP, F_METRIC };

/* the inputs' metrics, by client id (ids are 1..N) */
static struct xtel_health_metric_in met[N + 1][XTEL_HEALTH_MAX_METRICS];

static void make(struct xtel_health_input *in, uint32_t id, uint32_t t,
		 enum fault f)
{
	memset(in, 0, sizeof(*in));
	in->client_id = id;
	in->metrics = met[id];
	in->datagrams = 100;
	in->have_rates = true;
	in->have_lat = true;
	in->lat_min_ms = 5.0 + 0.05 * noise(id, t, 1);	/* 5 ms clock offset */
	in->sig[XTEL_HEALTH_SIG_P50] = 5.3 + 0.1 * noise(id, t, 2);
	in->sig[XTEL_HEALTH_SIG_P99] = 6.0 + 0.3 * noise(id, t, 3);
	in->sig[XTEL_HEALTH_SIG_JITTER] = 0.5 + 0.1 * noise(id, t, 4);
	in->sig[XTEL_HEALTH_SIG_RATE] = 100 + 0.2 * noise(id, t, 5);
	in->n_metrics = 1;
	in->metrics[0].key = "temp";
	in->metrics[0].mean = 40 + noise(id, t, 6);
	switch (f) {
	case F_LAT:		/* +40 ms one way: p50 and p99 */
		in->lat_min_ms += 40;
		in->sig[XTEL_HEALTH_SIG_P50] += 40;
		in->sig[XTEL_HEALTH_SIG_P99] += 40;
		break;
	case F_LAT_LOSS:	/* queueing: the minimum stays, loss 5% */
		in->sig[XTEL_HEALTH_SIG_P50] += 30;
		in->sig[XTEL_HEALTH_SIG_P99] += 60;
		in->sig[XTEL_HEALTH_SIG_LOSS] = 5;
		break;
	case F_LOSS:
		in->sig[XTEL_HEALTH_SIG_LOSS] = 4.8;
		break;
	case F_STOP:
		in->datagrams = 0;
		in->have_lat = false;
		in->have_rates = false;
		break;
	case F_METRIC:
		in->metrics[0].mean += 30;
		break;
	case F_NONE:
		break;
	}
}

/* the explanation of a result, in a static buffer */
static const char *why(const struct xtel_health_result *r)
{
	static char buf[XTEL_HEALTH_WHY_LEN];

	xtel_health_explain(r, buf, sizeof(buf));
	return buf;
}

struct fx {
	struct xtel_health *h;
	struct xtel_health_view *hv;
	uint32_t t;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct xtel_health_cfg cfg;

	xtel_health_cfg_defaults(&cfg);
	cfg.events = 8;
	assert_int_equal(xtel_health_new(&cfg, &f->h), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	xtel_health_view_free(f->hv);
	xtel_health_free(f->h);
	free(f);
	return 0;
}

/* One interval; client i (1-based) gets faults[i - 1]. */
static void step(struct fx *f, const enum fault *faults)
{
	struct xtel_health_input in[N];

	for (uint32_t i = 0; i < N; i++)
		make(&in[i], i + 1, f->t, faults ? faults[i] : F_NONE);
	xtel_health_view_free(f->hv);
	f->t++;
	assert_int_equal(xtel_health_update(f->h, T0 + (uint64_t)f->t * DT_NS,
					    1.0, in, N, &f->hv), 0);
	assert_int_equal(f->hv->n_clients, N);
}

static void warm_up(struct fx *f)
{
	for (unsigned int i = 0; i < 30; i++)
		step(f, NULL);
}

static void test_warmup_then_ok(void **state)
{
	struct fx *f = *state;

	/* the default warm-up: 12 intervals with data */
	for (unsigned int i = 1; i < 12; i++) {
		step(f, NULL);
		assert_int_equal(f->hv->counts[XTEL_HEALTH_WARMUP], N);
		assert_int_equal(f->hv->groups[0].state, XTEL_HEALTH_WARMUP);
	}
	step(f, NULL);
	assert_int_equal(f->hv->counts[XTEL_HEALTH_OK], N);
	for (unsigned int i = 0; i < 200; i++) {
		step(f, NULL);
		assert_int_equal(f->hv->counts[XTEL_HEALTH_OK], N);
	}
	assert_int_equal(f->hv->n_events, 0);	/* warmup -> ok is no event */
	assert_string_equal(f->hv->groups[0].label, "fleet");
	assert_int_equal(f->hv->groups[0].state, XTEL_HEALTH_OK);
}

/*
 * A client's first interval is partial (it started inside it): a rate of
 * 20/s before a steady 100/s. It stays out of the baselines, so the rate's
 * centre is the steady one and its scale the 5% floor, not a deviation
 * widened by that first sample for dozens of intervals.
 */
static void test_partial_first_interval(void **state)
{
	struct fx *f = *state;
	struct xtel_health_input in[N];

	for (uint32_t i = 0; i < N; i++) {
		make(&in[i], i + 1, 0, F_NONE);
		in[i].datagrams = 20;
		in[i].sig[XTEL_HEALTH_SIG_RATE] = 20;
	}
	f->t++;
	assert_int_equal(xtel_health_update(f->h, T0 + DT_NS, 1.0, in, N, &f->hv), 0);
	warm_up(f);
	for (uint32_t i = 0; i < N; i++) {
		const struct xtel_health_sig_out *r =
			&f->hv->clients[i].sig[XTEL_HEALTH_SIG_RATE];

		assert_int_equal(f->hv->clients[i].state, XTEL_HEALTH_OK);
		assert_true(fabs(r->centre - 100) < 0.2);
		assert_true(fabs(r->scale - 5.0) < 0.01);
	}
}

static void test_faults(void **state)
{
	struct fx *f = *state;
	const enum fault faults[N] = { F_LAT, F_LAT_LOSS, F_LOSS, F_STOP,
				       F_METRIC };
	const enum xtel_health_state want[N] = {
		XTEL_HEALTH_ANOMALOUS, XTEL_HEALTH_CONGESTED,
		XTEL_HEALTH_DEGRADED, XTEL_HEALTH_SILENT, XTEL_HEALTH_ANOMALOUS,
	};
	const struct xtel_health_result *r;

	warm_up(f);
	/* the 1st faulty interval: nothing yet (confirm 2; silent after 2) */
	step(f, faults);
	assert_int_equal(f->hv->counts[XTEL_HEALTH_OK], N);
	/* the 2nd: every fault has its verdict, the steady clients none */
	step(f, faults);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(f->hv->clients[i].state, want[i]);
	r = &f->hv->clients[0];
	/* it started with the 1st faulty interval (t 31: ends at T0 + 31 s) */
	assert_true(r->since_ns == T0 + 30ULL * DT_NS);
	assert_true(r->score > 8);
	assert_non_null(strstr(why(r),
			       "queueing delay 40"));
	assert_non_null(strstr(why(r),
			       "since 22:13:50"));
	/* the group's view of the same signal joins its clause */
	assert_non_null(strstr(why(r), " (+20 MAD), group 0.3"));
	assert_non_null(strstr(why(&f->hv->clients[1]),
			       "vs baseline"));
	assert_non_null(strstr(why(&f->hv->clients[2]),
			       "loss 4.8% over SLO 2%"));
	assert_non_null(strstr(why(&f->hv->clients[3]),
			       "no datagram for 2 intervals"));
	assert_non_null(strstr(why(&f->hv->clients[4]),
			       "temp 70"));
	assert_int_equal(f->hv->n_events, 5);
	for (uint32_t i = 0; i < 5; i++) {
		const struct xtel_health_event *e = &f->hv->events[i];

		assert_int_equal(e->client_id, i + 1);
		assert_int_equal(e->from, XTEL_HEALTH_OK);
		assert_int_equal(e->to, want[i]);
		assert_false(e->group);
	}
	/* 5 of 10 faulty, but no one state holds the quorum: the group is ok */
	assert_int_equal(f->hv->groups[0].state, XTEL_HEALTH_OK);
	/* healed: 3 clean intervals end each verdict */
	step(f, NULL);
	step(f, NULL);
	assert_int_equal(f->hv->counts[XTEL_HEALTH_OK], N - 5);
	step(f, NULL);
	assert_int_equal(f->hv->counts[XTEL_HEALTH_OK], N);
	/* 10 transitions into a ring of 8: the 2 oldest were dropped */
	assert_int_equal(f->hv->n_events, 8);
	assert_int_equal(f->hv->counters[XTEL_HEALTH_CNT_EVENTS], 10);
	assert_int_equal(f->hv->counters[XTEL_HEALTH_CNT_EVENTS_DROPPED], 2);
	assert_int_equal(f->hv->events[7].to, XTEL_HEALTH_OK);
	assert_int_equal(f->hv->events_to[XTEL_HEALTH_OK], 5);
}

/* One interval; client 1 reports a download probe's speed unless NAN. */
static void step_probe(struct fx *f, double speed)
{
	struct xtel_health_input in[N];

	for (uint32_t i = 0; i < N; i++)
		make(&in[i], i + 1, f->t, F_NONE);
	if (!isnan(speed)) {
		in[0].metrics[1].key = XTEL_HEALTH_PROBE_KEY;
		in[0].metrics[1].mean = speed;
		in[0].n_metrics = 2;
	}
	xtel_health_view_free(f->hv);
	f->t++;
	assert_int_equal(xtel_health_update(f->h, T0 + (uint64_t)f->t * DT_NS,
					    1.0, in, N, &f->hv), 0);
}

static void test_probe_congestion(void **state)
{
	struct fx *f = *state;
	const struct xtel_health_result *r;
	uint64_t slow3_start;

	/* probes every 2nd interval at 100 Mbit/s: the device's baseline */
	for (unsigned int i = 0; i < 40; i++)
		step_probe(f, i % 2 ? NAN : 100);
	r = &f->hv->clients[0];
	assert_int_equal(f->hv->counts[XTEL_HEALTH_OK], N);
	/* 60% of the baseline, 6 probes: over the share (50%), no verdict,
	 * and the speed is not judged by MAD (that would be -20 MAD) */
	for (unsigned int i = 0; i < 12; i++) {
		step_probe(f, i % 2 ? NAN : 60);
		assert_int_equal(f->hv->counts[XTEL_HEALTH_OK], N);
	}
	step_probe(f, 100);
	/* 30%: the 1st and 2nd slow probes (and the intervals between) are
	 * no verdict yet, the 3rd is (probe_min 3), at once */
	step_probe(f, 30);
	step_probe(f, NAN);
	step_probe(f, 30);
	step_probe(f, NAN);
	r = &f->hv->clients[0];
	assert_int_equal(r->state, XTEL_HEALTH_OK);
	slow3_start = T0 + (uint64_t)f->t * DT_NS;
	step_probe(f, 30);
	r = &f->hv->clients[0];
	assert_int_equal(r->state, XTEL_HEALTH_CONGESTED);
	assert_true(r->since_ns == slow3_start);
	assert_float_equal(r->score, 100.0 / 30.0, 1e-4);
	assert_string_equal(why(r), "probe speed 30 Mbit/s vs baseline 100 Mbit/s "
			    "(30% of it, 3 probes in a row) since 22:14:17");
	assert_int_equal(f->hv->counts[XTEL_HEALTH_OK], N - 1);
	assert_int_equal(f->hv->n_events, 1);
	assert_int_equal(f->hv->events[0].to, XTEL_HEALTH_CONGESTED);
	assert_non_null(strstr(f->hv->events[0].why, "3 probes in a row"));
	/* the episode holds between probes, and counts the 4th */
	for (unsigned int i = 0; i < 5; i++) {
		step_probe(f, NAN);
		assert_int_equal(f->hv->clients[0].state, XTEL_HEALTH_CONGESTED);
	}
	step_probe(f, 20);
	r = &f->hv->clients[0];
	assert_non_null(strstr(why(r), "probe speed 20 Mbit/s vs baseline "
			       "100 Mbit/s (20% of it, 4 probes in a row)"));
	/* a probe back over the share ends the run: 3 clean intervals end it */
	step_probe(f, 95);
	step_probe(f, NAN);
	assert_int_equal(f->hv->clients[0].state, XTEL_HEALTH_CONGESTED);
	step_probe(f, NAN);
	assert_int_equal(f->hv->clients[0].state, XTEL_HEALTH_OK);
	assert_int_equal(f->hv->counts[XTEL_HEALTH_OK], N);
	assert_int_equal(f->hv->n_events, 2);
	/* the slow probes stayed out of the baseline: the next episode is
	 * judged against 100 again */
	step_probe(f, 45);
	step_probe(f, 45);
	step_probe(f, 45);
	r = &f->hv->clients[0];
	assert_int_equal(r->state, XTEL_HEALTH_CONGESTED);
	assert_non_null(strstr(why(r), "vs baseline 100 Mbit/s (45% of it"));
}

static void test_group_verdict(void **state)
{
	struct fx *f = *state;
	enum fault faults[N];

	warm_up(f);
	for (uint32_t i = 0; i < N; i++)
		faults[i] = i < 6 ? F_LOSS : F_NONE;
	step(f, faults);
	step(f, faults);
	assert_int_equal(f->hv->groups[0].state, XTEL_HEALTH_DEGRADED);
	assert_int_equal(f->hv->groups[0].counts[XTEL_HEALTH_DEGRADED], 6);
	{
		char buf[XTEL_HEALTH_WHY_LEN];

		xtel_health_group_explain(&f->hv->groups[0], buf, sizeof(buf));
		assert_string_equal(buf, "6 of 10 clients degraded; "
				    "loss up at 6 of 10 clients at once");
	}
	assert_true(f->hv->events[f->hv->n_events - 1].group);
}

/*
 * Every client's latency up at once (a site's uplink, the collector's
 * host): the group's verdict, not each member's; a member with a fault of
 * its own keeps that one.
 */
static void test_common_mode(void **state)
{
	struct fx *f = *state;
	enum fault faults[N];
	char buf[XTEL_HEALTH_WHY_LEN];

	warm_up(f);
	for (uint32_t i = 0; i < N; i++)
		faults[i] = i == 0 ? F_METRIC : F_LAT;
	step(f, faults);
	step(f, faults);
	assert_int_equal(f->hv->clients[0].state, XTEL_HEALTH_ANOMALOUS);
	assert_non_null(strstr(why(&f->hv->clients[0]), "temp 70"));
	assert_null(strstr(why(&f->hv->clients[0]), "queueing"));
	assert_int_equal(f->hv->counts[XTEL_HEALTH_OK], N - 1);
	assert_int_equal(f->hv->groups[0].state, XTEL_HEALTH_ANOMALOUS);
	xtel_health_group_explain(&f->hv->groups[0], buf, sizeof(buf));
	assert_string_equal(buf, "p99 latency up at 9 of 10 clients at once");
}

/*
 * A result names its metric keys in the view's own copy: a view kept
 * while the engine interns more keys (its table then moves) still reads
 * them, and each result's keys are the ones its client sent.
 */
static void test_view_keys(void **state)
{
	struct fx *f = *state;
	struct xtel_health_view *old;
	struct xtel_health_input in[N];
	char names[N][16];

	step(f, NULL);
	old = f->hv;
	f->hv = NULL;
	assert_int_equal(old->n_keys, 1);
	for (uint32_t t = 0; t < 6; t++) {	/* 7 keys a client, of 8 */
		for (uint32_t i = 0; i < N; i++) {
			make(&in[i], i + 1, t, F_NONE);
			in[i].n_metrics = 2;
			snprintf(names[i], sizeof(names[i]), "k%u", t * N + i);
			in[i].metrics[1].key = names[i];
			in[i].metrics[1].mean = 1;
		}
		xtel_health_view_free(f->hv);
		assert_int_equal(xtel_health_update(f->h, T0 + (uint64_t)(t + 2) *
						    DT_NS, 1.0, in, N, &f->hv), 0);
	}
	assert_int_equal(f->hv->n_keys, 1 + 6 * N);
	for (uint32_t i = 0; i < N; i++) {
		char want[16];

		assert_int_equal(old->clients[i].n_metrics, 1);
		assert_string_equal(old->clients[i].metric[0].key, "temp");
		snprintf(want, sizeof(want), "k%u", 5 * N + i);
		assert_string_equal(f->hv->clients[i].metric[0].key, "temp");
		assert_string_equal(f->hv->clients[i].metric[
			f->hv->clients[i].n_metrics - 1].key, want);
	}
	xtel_health_view_free(old);
}

/* a and b alike: every result, cause, metric, group and event */
static void assert_views_equal(const struct xtel_health_view *a,
			       const struct xtel_health_view *b)
{
	assert_int_equal(a->n_clients, b->n_clients);
	assert_memory_equal(a->counts, b->counts, sizeof(a->counts));
	for (uint32_t i = 0; i < a->n_clients; i++) {
		const struct xtel_health_result *x = &a->clients[i], *y = &b->clients[i];

		assert_int_equal(x->client_id, y->client_id);
		assert_int_equal(x->state, y->state);
		assert_true(x->score == y->score);
		assert_true(x->since_ns == y->since_ns);
		assert_int_equal(x->n_causes, y->n_causes);
		assert_int_equal(x->n_metrics, y->n_metrics);
		if (x->n_causes)
			assert_memory_equal(x->cause, y->cause,
					    x->n_causes * sizeof(*x->cause));
		assert_memory_equal(x->sig, y->sig, sizeof(x->sig));
		for (uint32_t k = 0; k < x->n_metrics; k++) {
			assert_string_equal(x->metric[k].key, y->metric[k].key);
			assert_memory_equal(&x->metric[k].s, &y->metric[k].s,
					    sizeof(x->metric[k].s));
		}
	}
	assert_int_equal(a->n_groups, b->n_groups);
	assert_memory_equal(a->groups, b->groups, a->n_groups * sizeof(*a->groups));
	assert_int_equal(a->n_events, b->n_events);
	for (uint32_t i = 0; i < a->n_events; i++) {
		assert_true(a->events[i].seq == b->events[i].seq);
		assert_int_equal(a->events[i].client_id, b->events[i].client_id);
		assert_int_equal(a->events[i].to, b->events[i].to);
		assert_string_equal(a->events[i].why, b->events[i].why);
	}
}

/*
 * An interval taken in blocks (begin, take, finish: the collector's feed)
 * judges exactly as one update of the whole fleet, through warm-up, faults
 * of every kind and their end.
 */
static void test_blocks(void **state)
{
	struct fx *f = *state;
	const enum fault faults[N] = { F_LAT, F_LAT_LOSS, F_LOSS, F_STOP,
				       F_METRIC };
	struct xtel_health_cfg cfg;
	struct xtel_health *b;

	xtel_health_cfg_defaults(&cfg);
	cfg.events = 8;
	assert_int_equal(xtel_health_new(&cfg, &b), 0);
	for (uint32_t t = 0; t < 40; t++) {
		const enum fault *fl = t >= 30 && t < 34 ? faults : NULL;
		struct xtel_health_input in[N];
		struct xtel_health_view *bv;

		step(f, fl);
		for (uint32_t i = 0; i < N; i++)
			make(&in[i], i + 1, f->t - 1, fl ? fl[i] : F_NONE);
		assert_int_equal(xtel_health_begin(b, N), 0);
		for (uint32_t i = 0; i < N; i += 3)
			assert_int_equal(xtel_health_take(b, in + i,
							  N - i < 3 ? N - i : 3), 0);
		assert_int_equal(xtel_health_finish(b, T0 + (uint64_t)f->t * DT_NS,
						    1.0, &bv), 0);
		assert_views_equal(f->hv, bv);
		xtel_health_view_free(bv);
	}
	/* the faults were judged, not just equally ignored */
	assert_int_equal(f->hv->counters[XTEL_HEALTH_CNT_EVENTS], 10);
	xtel_health_free(b);
}

static void test_slo_parse(void **state)
{
	struct xtel_health_cfg cfg;

	(void)state;
	xtel_health_cfg_defaults(&cfg);
	assert_int_equal(xtel_health_slo_parse(&cfg, "site-a:p99=50,loss=0.5"), 0);
	assert_int_equal(cfg.n_slo, 2);
	assert_true(cfg.slo[1].slo.p99_ms == 50 && cfg.slo[1].slo.loss_pct == 0.5);
	assert_int_equal(xtel_health_slo_parse(&cfg, "*:jitter=0"), 0);
	assert_int_equal(cfg.n_slo, 2);
	assert_true(cfg.slo[0].slo.jitter_ms == 0 && cfg.slo[0].slo.p99_ms == 250);
	assert_int_equal(xtel_health_slo_parse(&cfg, "nolabel"), -EINVAL);
	assert_int_equal(xtel_health_slo_parse(&cfg, ":p99=1"), -EINVAL);
	assert_int_equal(xtel_health_slo_parse(&cfg, "a:p98=1"), -EINVAL);
	assert_int_equal(xtel_health_slo_parse(&cfg, "a:p99=-1"), -EINVAL);
	assert_int_equal(xtel_health_state_parse("silent"), XTEL_HEALTH_SILENT);
	assert_int_equal(xtel_health_state_parse("bad"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_warmup_then_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_first_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_congestion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_verdict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_common_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocks, setup, teardown),
		cmocka_unit_test(test_slo_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
