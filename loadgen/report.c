// SPDX-License-Identifier: MIT
/*
 * Reports. Progress lines read the threads' published counters (relaxed
 * atomics, one writer each); the final reports sum the per-client records,
 * which are exact because each client's thread was joined first. Field
 * names in the JSON are a contract with the tests and docs/LOADGEN.md.
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
	a->bytes += b->bytes;
}

static int hs_done(const struct xtel_lg_client *c)
{
	return c->hs_end_ns && c->state != XTEL_LG_CLIENT_FAILED;
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

static void json_stats(FILE *f, const struct xtel_lg_client_stats *st)
{
	fprintf(f, "\"sent\": %llu, \"sent_init\": %llu, \"sent_heartbeat\": %llu, "
		"\"sent_data\": %llu, \"sent_bye\": %llu, \"bytes\": %llu, "
		"\"data_seqs\": %llu, \"injected_loss\": %llu, \"injected_dup\": %llu, "
		"\"injected_reorder\": %llu, \"reorder_held\": %llu, "
		"\"reorder_in_order\": %llu, \"reorder_not_held\": %llu, "
		"\"send_errors\": %llu",
		(unsigned long long)st->sent,
		(unsigned long long)st->sent_type[XTEL_MSG_INIT],
		(unsigned long long)st->sent_type[XTEL_MSG_HEARTBEAT],
		(unsigned long long)st->sent_type[XTEL_MSG_DATA],
		(unsigned long long)st->sent_type[XTEL_MSG_BYE],
		(unsigned long long)st->bytes,
		(unsigned long long)st->data_slots,
		(unsigned long long)st->injected_loss,
		(unsigned long long)st->injected_dup,
		(unsigned long long)st->injected_reorder,
		(unsigned long long)st->reorder_held,
		(unsigned long long)st->reorder_in_order,
		(unsigned long long)st->reorder_not_held,
		(unsigned long long)st->send_errors);
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

int xtel_lg_report_json(struct xtel_lg_run *run, int exit_code, FILE *f)
{
	const struct xtel_lg_config *cfg = run->cfg;
	struct summary s;
	int ret = 0;

	summarize(run, &s);
	fprintf(f, "{\n  \"version\": 1,\n  \"target\": ");
	xtel_json_str(f, cfg->target_str);
	fprintf(f, ",\n  \"mode\": \"%s\",\n  \"clients_configured\": %u,\n"
		"  \"threads\": %u,\n  \"first_id\": %u,\n  \"seed\": %llu,\n",
		mode_name(cfg), cfg->clients, cfg->threads, cfg->first_id,
		(unsigned long long)cfg->seed);
	fprintf(f, "  \"count\": %llu,\n  \"duration_s\": %.6f,\n  \"heartbeat_s\": %.6f,\n",
		(unsigned long long)cfg->count, cfg->duration_s, cfg->heartbeat_s);
	fprintf(f, "  \"faults\": {\"loss\": %.9g, \"dup\": %.9g, \"reorder\": %.9g, \"reorder_depth\": %u},\n",
		cfg->loss, cfg->dup, cfg->reorder, cfg->reorder_depth);
	fprintf(f, "  \"exit_code\": %d,\n  \"error\": ", exit_code);
	if (run->fatal_msg[0])
		xtel_json_str(f, run->fatal_msg);
	else
		fputs("null", f);
	fprintf(f, ",\n  \"interrupted\": %s,\n",
		atomic_load(&run->interrupted) ? "true" : "false");
	fprintf(f, "  \"rate\": {\"requested_pps\": %.3f, \"achieved_pps\": %.3f, "
		"\"achieved_wire_pps\": %.3f, \"data_elapsed_s\": %.6f},\n",
		requested_rate(cfg),
		s.data_elapsed_s > 0 ? (double)s.t.data_slots / s.data_elapsed_s : 0,
		s.data_elapsed_s > 0 ? (double)s.t.sent_type[XTEL_MSG_DATA] / s.data_elapsed_s : 0,
		s.data_elapsed_s);
	fprintf(f, "  \"totals\": {");
	json_stats(f, &s.t);
	fprintf(f, "},\n");
	fprintf(f, "  \"handshakes\": {\"attempted\": %u, \"ok\": %u, \"failed\": %u, "
		"\"min_ms\": %.3f, \"mean_ms\": %.3f, \"max_ms\": %.3f, \"retransmits\": %llu, "
		"\"phase_s\": %.6f},\n",
		run->dtls ? cfg->clients : 0, s.hs_ok, s.hs_failed, s.hs_min_ms,
		s.hs_ok ? s.hs_sum_ms / s.hs_ok : 0, s.hs_max_ms,
		(unsigned long long)s.hs_retransmits,
		run->hs_end_ns > run->run_start_ns && run->dtls ?
		(double)(run->hs_end_ns - run->run_start_ns) / 1e9 : 0);
	fprintf(f, "  \"ramp\": [");
	for (uint32_t k = 0; cfg->ramp && k < cfg->n_rates; k++)
		fprintf(f, "%s\n    {\"step\": %u, \"requested_pps\": %.3f, \"achieved_pps\": %.3f, \"data_seqs\": %llu, \"step_s\": %.3f}",
			k ? "," : "", k, cfg->rates[k],
			(double)s.step_slots[k] / cfg->step_s,
			(unsigned long long)s.step_slots[k], cfg->step_s);
	fprintf(f, "%s],\n", cfg->ramp ? "\n  " : "");
	if (cfg->flood_pps > 0) {
		double fe = (double)(run->flood.end_ns - run->flood.start_ns) / 1e9;
		uint64_t fs = xtel_lg_ctr_get(&run->flood.sent);

		fprintf(f, "  \"flood\": {\"requested_pps\": %.3f, \"sent\": %llu, "
			"\"achieved_pps\": %.3f, \"replies\": %llu, \"errors\": %llu, "
			"\"source_ports\": %u, \"elapsed_s\": %.6f},\n",
			cfg->flood_pps, (unsigned long long)fs,
			fe > 0 ? (double)fs / fe : 0,
			(unsigned long long)xtel_lg_ctr_get(&run->flood.replies),
			(unsigned long long)xtel_lg_ctr_get(&run->flood.errors),
			run->flood.sockets, fe);
	} else {
		fprintf(f, "  \"flood\": null,\n");
	}
	fprintf(f, "  \"clients\": [");
	for (uint32_t i = 0; i < cfg->clients; i++) {
		const struct xtel_lg_client *c = &run->clients[i];

		fprintf(f, "%s\n    {\"client_id\": %u, \"src_port\": %u, \"state\": \"%s\", \"last_seq\": %llu, ",
			i ? "," : "", c->id, c->src_port, state_name(c->state),
			(unsigned long long)c->seq);
		json_stats(f, &c->st);
		fprintf(f, ", \"handshake_ms\": %.3f, \"handshake_retransmits\": %u, \"handshake_error\": ",
			hs_done(c) ? ms(c->hs_end_ns - c->hs_start_ns) : 0,
			c->hs_retransmits);
		if (c->hs_error[0])
			xtel_json_str(f, c->hs_error);
		else
			fputs("null", f);
		fputc('}', f);
	}
	fprintf(f, "%s]\n}\n", cfg->clients ? "\n  " : "");
	if (ferror(f))
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}
