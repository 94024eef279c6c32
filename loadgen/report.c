// SPDX-License-Identifier: MIT
/*
 * Reports. Progress lines read the threads' published counters (relaxed
 * atomics, one writer each); the final reports sum the per-client records,
 * which are exact because each client's thread was joined first. Field
 * names in the JSON are a contract with the tests and docs/LOADGEN.md.
 * The JSON report is a jansson tree built with common/json.h's helpers, so
 * no message text or counter value can make the file invalid JSON.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "common/json.h"
#include "pacing.h"
#include "report.h"

struct summary {
	struct xtel_lg_client_stats t;
	uint64_t last_seq_max;
	uint32_t hs_ok, hs_failed;
	uint32_t hs_openssl;	/* of hs_ok: on OpenSSL's record layer */
	double hs_min_ms, hs_max_ms, hs_sum_ms;
	uint64_t hs_retransmits;
	double data_elapsed_s;
	uint64_t step_slots[XTEL_LG_MAX_RAMP_STEPS];
};

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void add_stats(struct xtel_lg_client_stats *a,
		      const struct xtel_lg_client_stats *b)
{
	a->sent += b->sent;
	for (int i = 0; i <= XTEL_MSG_TYPE_MAX; i++)
		a->sent_type[i] += b->sent_type[i];
	a->data_slots += b->data_slots;
	a->injected_loss += b->injected_loss;
	a->injected_dup += b->injected_dup;
	a->injected_reorder += b->injected_reorder;
	a->reorder_held += b->reorder_held;
	a->reorder_in_order += b->reorder_in_order;
	a->reorder_not_held += b->reorder_not_held;
	a->send_errors += b->send_errors;
	a->scenario_loss += b->scenario_loss;
	a->scenario_skipped += b->scenario_skipped;
	a->scenario_extra += b->scenario_extra;
	a->scenario_delayed += b->scenario_delayed;
	a->bytes += b->bytes;
}

static int hs_done(const struct xtel_lg_client *c)
{
	return c->hs_end_ns && c->state != XTEL_LG_CLIENT_FAILED;
}

/* --reconnect: the rounds' handshakes, and the slowest thread's time. */
struct reconnects {
	uint64_t ok, resumed, max_ns;
};

static void sum_reconnects(const struct xtel_lg_run *run, struct reconnects *r)
{
	memset(r, 0, sizeof(*r));
	for (uint32_t t = 0; t < run->cfg->threads && run->cfg->clients; t++) {
		struct xtel_lg_thread *th = &run->threads[t];

		r->ok += xtel_lg_ctr_get(&th->ctr.reconnects);
		r->resumed += xtel_lg_ctr_get(&th->ctr.resumed);
		if (th->reconnect_ns > r->max_ns)
			r->max_ns = th->reconnect_ns;
	}
}

static void summarize(struct xtel_lg_run *run, struct summary *s)
{
	const struct xtel_lg_config *cfg = run->cfg;
	uint64_t end = 0;

	memset(s, 0, sizeof(*s));
	s->hs_min_ms = INFINITY;
	for (uint32_t i = 0; i < cfg->clients; i++) {
		const struct xtel_lg_client *c = &run->clients[i];

		add_stats(&s->t, &c->st);
		if (c->seq > s->last_seq_max)
			s->last_seq_max = c->seq;
		if (c->state == XTEL_LG_CLIENT_FAILED)
			s->hs_failed++;
		if (hs_done(c)) {
			double m = ms(c->hs_end_ns - c->hs_start_ns);

			s->hs_ok++;
			s->hs_openssl += c->openssl_layer;
			s->hs_sum_ms += m;
			s->hs_min_ms = fmin(s->hs_min_ms, m);
			s->hs_max_ms = fmax(s->hs_max_ms, m);
		}
		s->hs_retransmits += c->hs_retransmits;
	}
	if (!s->hs_ok)
		s->hs_min_ms = 0;
	for (uint32_t t = 0; t < cfg->threads && cfg->clients; t++) {
		struct xtel_lg_thread *th = &run->threads[t];

		if (th->data_end_ns > end)
			end = th->data_end_ns;
		for (uint32_t k = 0; k < XTEL_LG_MAX_RAMP_STEPS; k++)
			s->step_slots[k] += xtel_lg_ctr_get(&th->ctr.step_slots[k]);
	}
	if (run->t0_ns && end > run->t0_ns)
		s->data_elapsed_s = (double)(end - run->t0_ns) / 1e9;
}

void xtel_lg_progress_line(struct xtel_lg_run *run, struct xtel_lg_progress *p,
			   uint64_t now_ns)
{
	const struct xtel_lg_config *cfg = run->cfg;
	uint64_t slots = 0, sent = 0, errors = 0, hs_ok = 0, hs_failed = 0;
	uint64_t flood = xtel_lg_ctr_get(&run->flood.sent);
	double dt = p->last_ns ? (double)(now_ns - p->last_ns) / 1e9 : 0;

	for (uint32_t t = 0; t < cfg->threads && cfg->clients; t++) {
		struct xtel_lg_counters *c = &run->threads[t].ctr;

		slots += xtel_lg_ctr_get(&c->data_slots);
		sent += xtel_lg_ctr_get(&c->sent);
		errors += xtel_lg_ctr_get(&c->errors);
		hs_ok += xtel_lg_ctr_get(&c->hs_ok);
		hs_failed += xtel_lg_ctr_get(&c->hs_failed);
	}
	if (dt > 0) {
		double req = 0;

		if (run->t0_ns && now_ns > run->t0_ns) {
			struct xtel_lg_pacer pc;

			xtel_lg_pacer_init(&pc, cfg, 1.0, run->t0_ns, 0);
			req = pc.unlimited ? 0 :
			      pc.rates[xtel_lg_pacer_step(&pc, now_ns)];
		}
		fprintf(stderr, "loadgen: %6.1fs  data %9.0f pps (req %.0f)  sent %llu",
			(double)(now_ns - run->run_start_ns) / 1e9,
			(double)(slots - p->last_slots) / dt, req,
			(unsigned long long)sent);
		if (run->dtls)
			fprintf(stderr, "  hs %llu/%u", (unsigned long long)hs_ok,
				cfg->clients);
		if (hs_failed)
			fprintf(stderr, " (%llu failed)", (unsigned long long)hs_failed);
		if (cfg->flood_pps > 0)
			fprintf(stderr, "  flood %.0f/s",
				(double)(flood - p->last_flood) / dt);
		fprintf(stderr, "  errors %llu\n", (unsigned long long)errors);
	}
	p->last_ns = now_ns;
	p->last_slots = slots;
	p->last_sent = sent;
	p->last_flood = flood;
}

static const char *mode_name(const struct xtel_lg_config *cfg)
{
	return cfg->mode == XTEL_LG_MODE_DTLS ? "dtls" : "plain";
}

static double requested_rate(const struct xtel_lg_config *cfg)
{
	return cfg->ramp ? 0 : cfg->rates[0];
}

void xtel_lg_report_text(struct xtel_lg_run *run, int exit_code, FILE *out)
{
	const struct xtel_lg_config *cfg = run->cfg;
	struct summary s;

	summarize(run, &s);
	fprintf(out, "loadgen report: %s mode, target %s, %u clients on %u thread%s\n",
		mode_name(cfg), cfg->target_str, cfg->clients, cfg->threads,
		cfg->threads == 1 ? "" : "s");
	if (cfg->clients) {
		fprintf(out, "  sent          %llu datagrams (INIT %llu, HEARTBEAT %llu, DATA %llu, BYE %llu), %llu bytes\n",
			(unsigned long long)s.t.sent,
			(unsigned long long)s.t.sent_type[XTEL_MSG_INIT],
			(unsigned long long)s.t.sent_type[XTEL_MSG_HEARTBEAT],
			(unsigned long long)s.t.sent_type[XTEL_MSG_DATA],
			(unsigned long long)s.t.sent_type[XTEL_MSG_BYE],
			(unsigned long long)s.t.bytes);
		fprintf(out, "  data seqs     %llu in %.3f s: %.1f pps",
			(unsigned long long)s.t.data_slots, s.data_elapsed_s,
			s.data_elapsed_s > 0 ? (double)s.t.data_slots / s.data_elapsed_s : 0);
		if (!cfg->ramp && cfg->rates[0] > 0)
			fprintf(out, " (requested %.1f, %.3f%%)", cfg->rates[0],
				s.data_elapsed_s > 0 ? 100.0 * (double)s.t.data_slots /
				s.data_elapsed_s / cfg->rates[0] : 0);
		else if (!cfg->ramp)
			fprintf(out, " (requested: as fast as possible)");
		fprintf(out, "\n");
		fprintf(out, "  injected      loss %llu, dup %llu, reorder %llu (held %llu, flushed in order %llu)\n",
			(unsigned long long)s.t.injected_loss,
			(unsigned long long)s.t.injected_dup,
			(unsigned long long)s.t.injected_reorder,
			(unsigned long long)s.t.reorder_held,
			(unsigned long long)s.t.reorder_in_order);
		fprintf(out, "  send errors   %llu\n", (unsigned long long)s.t.send_errors);
	}
	if (run->dtls)
		fprintf(out, "  handshakes    %u ok, %u failed, %.2f/%.2f/%.2f ms min/mean/max, %llu retransmits\n",
			s.hs_ok, s.hs_failed, s.hs_min_ms,
			s.hs_ok ? s.hs_sum_ms / s.hs_ok : 0, s.hs_max_ms,
			(unsigned long long)s.hs_retransmits);
	if (run->dtls && s.hs_openssl)
		fprintf(out, "  record layer  %u of the sessions on OpenSSL's (%s), not the client's own\n",
			s.hs_openssl, cfg->openssl_records ? "--openssl-records" :
			"a suite the own layer lacks, or no extended master secret");
	if (cfg->reconnect) {
		struct reconnects rc;

		sum_reconnects(run, &rc);
		fprintf(out, "  reconnects    %llu ok (%llu resumed) in %u rounds, slowest thread %.3f s\n",
			(unsigned long long)rc.ok, (unsigned long long)rc.resumed,
			cfg->reconnect, (double)rc.max_ns / 1e9);
	}
	if (cfg->ramp) {
		for (uint32_t k = 0; k < cfg->n_rates; k++)
			fprintf(out, "  ramp step %-3u requested %.1f pps, achieved %.1f pps\n",
				k, cfg->rates[k], (double)s.step_slots[k] / cfg->step_s);
	}
	if (cfg->flood_pps > 0) {
		double fe = (double)(run->flood.end_ns - run->flood.start_ns) / 1e9;

		fprintf(out, "  flood         %llu ClientHellos (%.1f/s, requested %.1f), %llu replies, %llu errors\n",
			(unsigned long long)xtel_lg_ctr_get(&run->flood.sent),
			fe > 0 ? (double)xtel_lg_ctr_get(&run->flood.sent) / fe : 0,
			cfg->flood_pps,
			(unsigned long long)xtel_lg_ctr_get(&run->flood.replies),
			(unsigned long long)xtel_lg_ctr_get(&run->flood.errors));
	}
	if (atomic_load(&run->interrupted))
		fprintf(out, "  stopped early by a signal\n");
	fprintf(out, "  exit code     %d%s%s\n", exit_code,
		run->fatal_msg[0] ? ": " : "", run->fatal_msg);
}

/* The per-client counters, into a client's row or the totals. */
static void set_stats(json_t *o, const struct xtel_lg_client_stats *st)
{
	xtel_json_set(o, "sent", xtel_json_u64(st->sent));
	xtel_json_set(o, "sent_init", xtel_json_u64(st->sent_type[XTEL_MSG_INIT]));
	xtel_json_set(o, "sent_heartbeat",
		      xtel_json_u64(st->sent_type[XTEL_MSG_HEARTBEAT]));
	xtel_json_set(o, "sent_data", xtel_json_u64(st->sent_type[XTEL_MSG_DATA]));
	xtel_json_set(o, "sent_bye", xtel_json_u64(st->sent_type[XTEL_MSG_BYE]));
	xtel_json_set(o, "bytes", xtel_json_u64(st->bytes));
	xtel_json_set(o, "data_seqs", xtel_json_u64(st->data_slots));
	xtel_json_set(o, "injected_loss", xtel_json_u64(st->injected_loss));
	xtel_json_set(o, "injected_dup", xtel_json_u64(st->injected_dup));
	xtel_json_set(o, "injected_reorder", xtel_json_u64(st->injected_reorder));
	xtel_json_set(o, "reorder_held", xtel_json_u64(st->reorder_held));
	xtel_json_set(o, "reorder_in_order", xtel_json_u64(st->reorder_in_order));
	xtel_json_set(o, "reorder_not_held", xtel_json_u64(st->reorder_not_held));
	xtel_json_set(o, "send_errors", xtel_json_u64(st->send_errors));
	xtel_json_set(o, "scenario_loss", xtel_json_u64(st->scenario_loss));
	xtel_json_set(o, "scenario_skipped_slots", xtel_json_u64(st->scenario_skipped));
	xtel_json_set(o, "scenario_extra_seqs", xtel_json_u64(st->scenario_extra));
	xtel_json_set(o, "scenario_delayed", xtel_json_u64(st->scenario_delayed));
}

static const char *state_name(enum xtel_lg_client_state st)
{
	switch (st) {
	case XTEL_LG_CLIENT_NEW: return "new";
	case XTEL_LG_CLIENT_READY: return "ready";
	case XTEL_LG_CLIENT_ACTIVE: return "active";
	case XTEL_LG_CLIENT_DONE: return "done";
	case XTEL_LG_CLIENT_FAILED: return "handshake_failed";
	}
	return "unknown";
}

/* An empty message is "no error": null. */
static json_t *json_msg(const char *msg)
{
	return xtel_json_text(msg[0] ? msg : NULL);
}

/*
 * Appends v to arr, taking both. On failure arr is released and NULL
 * returned (as for every later call), so the caller's xtel_json_set()
 * records the missing member and the report is not written short a row.
 */
static json_t *append(json_t *arr, json_t *v)
{
	if (arr == NULL) {
		json_decref(v);
		return NULL;
	}
	if (json_array_append_new(arr, v)) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static json_t *json_faults(const struct xtel_lg_config *cfg)
{
	json_t *o = json_object();

	xtel_json_set(o, "loss", xtel_json_real(cfg->loss));
	xtel_json_set(o, "dup", xtel_json_real(cfg->dup));
	xtel_json_set(o, "reorder", xtel_json_real(cfg->reorder));
	xtel_json_set(o, "reorder_depth", json_integer(cfg->reorder_depth));
	return o;
}

static json_t *json_rate(const struct xtel_lg_config *cfg,
			 const struct summary *s)
{
	double el = s->data_elapsed_s;
	json_t *o = json_object();

	xtel_json_set(o, "requested_pps", xtel_json_fixed(requested_rate(cfg), 3));
	xtel_json_set(o, "achieved_pps", xtel_json_fixed(el > 0 ?
		      (double)s->t.data_slots / el : 0, 3));
	xtel_json_set(o, "achieved_wire_pps", xtel_json_fixed(el > 0 ?
		      (double)s->t.sent_type[XTEL_MSG_DATA] / el : 0, 3));
	xtel_json_set(o, "data_elapsed_s", xtel_json_fixed(el, 6));
	return o;
}

static json_t *json_totals(const struct summary *s)
{
	json_t *o = json_object();

	set_stats(o, &s->t);
	return o;
}

static json_t *json_handshakes(const struct xtel_lg_run *run,
			       const struct summary *s)
{
	const struct xtel_lg_config *cfg = run->cfg;
	json_t *o = json_object();

	xtel_json_set(o, "attempted", json_integer(run->dtls ? cfg->clients : 0));
	xtel_json_set(o, "ok", json_integer(s->hs_ok));
	xtel_json_set(o, "failed", json_integer(s->hs_failed));
	xtel_json_set(o, "min_ms", xtel_json_fixed(s->hs_min_ms, 3));
	xtel_json_set(o, "mean_ms", xtel_json_fixed(s->hs_ok ?
		      s->hs_sum_ms / s->hs_ok : 0, 3));
	xtel_json_set(o, "max_ms", xtel_json_fixed(s->hs_max_ms, 3));
	xtel_json_set(o, "retransmits", xtel_json_u64(s->hs_retransmits));
	/* Established on OpenSSL's record layer, not taken over. */
	xtel_json_set(o, "openssl_records", json_integer(s->hs_openssl));
	xtel_json_set(o, "phase_s", xtel_json_fixed(
		      run->hs_end_ns > run->run_start_ns && run->dtls ?
		      (double)(run->hs_end_ns - run->run_start_ns) / 1e9 : 0, 6));
	return o;
}

/*
 * --reconnect: rounds, handshakes completed in them (resumed: abbreviated),
 * and time_s, the slowest thread's time for all rounds (threads start
 * their rounds together, so: until every client was back).
 */
static json_t *json_reconnect(const struct xtel_lg_run *run)
{
	json_t *o = json_object();
	struct reconnects rc;

	sum_reconnects(run, &rc);
	xtel_json_set(o, "rounds", json_integer(run->cfg->reconnect));
	xtel_json_set(o, "resume", json_boolean(run->cfg->resume));
	xtel_json_set(o, "ok", xtel_json_u64(rc.ok));
	xtel_json_set(o, "resumed", xtel_json_u64(rc.resumed));
	xtel_json_set(o, "time_s", xtel_json_fixed((double)rc.max_ns / 1e9, 6));
	return o;
}

/* One row per ramp step; empty without --ramp. */
static json_t *json_ramp(const struct xtel_lg_config *cfg,
			 const struct summary *s)
{
	json_t *arr = json_array();

	for (uint32_t k = 0; arr && cfg->ramp && k < cfg->n_rates; k++) {
		json_t *o = json_object();

		xtel_json_set(o, "step", json_integer(k));
		xtel_json_set(o, "requested_pps", xtel_json_fixed(cfg->rates[k], 3));
		xtel_json_set(o, "achieved_pps", xtel_json_fixed(
			      (double)s->step_slots[k] / cfg->step_s, 3));
		xtel_json_set(o, "data_seqs", xtel_json_u64(s->step_slots[k]));
		xtel_json_set(o, "step_s", xtel_json_fixed(cfg->step_s, 3));
		arr = append(arr, o);
	}
	return arr;
}

/* null without --flood-handshakes. */
static json_t *json_flood(struct xtel_lg_run *run)
{
	const struct xtel_lg_config *cfg = run->cfg;
	double fe = (double)(run->flood.end_ns - run->flood.start_ns) / 1e9;
	uint64_t fs = xtel_lg_ctr_get(&run->flood.sent);
	json_t *o;

	if (cfg->flood_pps <= 0)
		return json_null();
	o = json_object();
	xtel_json_set(o, "requested_pps", xtel_json_fixed(cfg->flood_pps, 3));
	xtel_json_set(o, "sent", xtel_json_u64(fs));
	xtel_json_set(o, "achieved_pps", xtel_json_fixed(fe > 0 ? (double)fs / fe : 0, 3));
	xtel_json_set(o, "replies", xtel_json_u64(xtel_lg_ctr_get(&run->flood.replies)));
	xtel_json_set(o, "errors", xtel_json_u64(xtel_lg_ctr_get(&run->flood.errors)));
	xtel_json_set(o, "source_ports", json_integer(run->flood.sockets));
	xtel_json_set(o, "elapsed_s", xtel_json_fixed(fe, 6));
	return o;
}

static json_t *json_client(const struct xtel_lg_client *c)
{
	json_t *o = json_object();

	xtel_json_set(o, "client_id", json_integer(c->id));
	xtel_json_set(o, "src_port", json_integer(c->src_port));
	xtel_json_set(o, "state", json_string(state_name(c->state)));
	xtel_json_set(o, "last_seq", xtel_json_u64(c->seq));
	set_stats(o, &c->st);
	xtel_json_set(o, "handshake_ms", xtel_json_fixed(hs_done(c) ?
		      ms(c->hs_end_ns - c->hs_start_ns) : 0, 3));
	xtel_json_set(o, "handshake_retransmits", json_integer(c->hs_retransmits));
	xtel_json_set(o, "handshake_error", json_msg(c->hs_error));
	return o;
}

/* xtel_json_rows' row: client i, made as it is written. */
static json_t *client_row(const void *ctx, size_t i)
{
	const struct xtel_lg_run *run = ctx;

	return json_client(&run->clients[i]);
}

/*
 * The members are written in the order they are set (jansson keeps
 * insertion order), the order the report has always had; the clients
 * last, one at a time (not 60,000 of them as a tree). Rates and
 * milliseconds keep 3 decimals and seconds 6 (xtel_json_fixed), so
 * consumers read the same values as before; the fault probabilities are
 * written exactly as configured.
 */
int xtel_lg_report_json(struct xtel_lg_run *run, int exit_code, FILE *f)
{
	const struct xtel_lg_config *cfg = run->cfg;
	struct summary s;
	json_t *r;
	int ret;

	summarize(run, &s);
	r = json_object();
	if (r == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	xtel_json_set(r, "version", json_integer(1));
	xtel_json_set(r, "target", xtel_json_text(cfg->target_str));
	xtel_json_set(r, "mode", json_string(mode_name(cfg)));
	xtel_json_set(r, "clients_configured", json_integer(cfg->clients));
	xtel_json_set(r, "threads", json_integer(cfg->threads));
	xtel_json_set(r, "first_id", json_integer(cfg->first_id));
	xtel_json_set(r, "seed", xtel_json_u64(cfg->seed));
	xtel_json_set(r, "count", xtel_json_u64(cfg->count));
	xtel_json_set(r, "duration_s", xtel_json_fixed(cfg->duration_s, 6));
	xtel_json_set(r, "heartbeat_s", xtel_json_fixed(cfg->heartbeat_s, 6));
	xtel_json_set(r, "faults", json_faults(cfg));
	xtel_json_set(r, "exit_code", json_integer(exit_code));
	xtel_json_set(r, "error", json_msg(run->fatal_msg));
	xtel_json_set(r, "interrupted",
		      json_boolean(atomic_load(&run->interrupted)));
	xtel_json_set(r, "rate", json_rate(cfg, &s));
	xtel_json_set(r, "totals", json_totals(&s));
	xtel_json_set(r, "handshakes", json_handshakes(run, &s));
	xtel_json_set(r, "reconnect", json_reconnect(run));
	xtel_json_set(r, "ramp", json_ramp(cfg, &s));
	xtel_json_set(r, "flood", json_flood(run));
	ret = xtel_json_write_report_rows(f, r, &(const struct xtel_json_rows){
		.key = "clients", .n = cfg->clients, .row = client_row, .ctx = run }, 1);
	json_decref(r);
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}
