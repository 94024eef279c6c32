// SPDX-License-Identifier: MIT
/*
 * probe: periodic TLS download probes from simulated devices.
 *
 * usage: probe --server https://HOST:PORT --certs DIR [--devices N]
 *              [--interval S] [--count N | --duration S]
 *              [--collector ADDR:PORT] ... (--help)
 *
 * main() owns the run and the exit code: parse, open the JSON-lines log
 * and the report file (so a bad path fails before any probe), set up each
 * device's DTLS session with the collector (the load generator's clients:
 * handshake, INIT), then the schedule loop: a probe that comes due starts
 * (at most --parallel at once), curl's multi handle drives them all, and
 * each finished download becomes a sample, a log line and a DATA datagram.
 * The schedule is fixed in advance: a device whose previous download still
 * runs skips that occurrence (counted) instead of drifting. At the end (or
 * SIGINT/SIGTERM) downloads still running are dropped, every device sends
 * BYE, and the summary and report are written.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "client.h"
#include "dtls_client.h"
#include "fault.h"
#include "probe.h"
#include "run.h"

enum {
	SAMPLES_MAX = 1000000,		/* bound of the summary's sample array */
	LATE_NS = 100000000,
};

static struct xtel_pb_run *g_run;

static void on_signal(int sig)
{
	(void)sig;
	g_run->stop = 1;
}

/* The collector side: the load generator's DTLS clients, one per device. */
struct pb_sender {
	struct xtel_lg_config lcfg;
	struct xtel_lg_run lrun;
	struct xtel_lg_thread th;
	struct xtel_lg_batch *batch;
};

static int sender_open(struct xtel_pb_run *run)
{
	const struct xtel_pb_config *cfg = run->cfg;
	struct pb_sender *s = calloc(1, sizeof(*s));
	uint32_t failed;
	int ret;

	if (!s)
		return XTEL_PB_EXIT_RUNTIME;
	run->sender = s;
	s->lcfg.target = cfg->collector;
	s->lcfg.target_len = cfg->collector_len;
	snprintf(s->lcfg.target_str, sizeof(s->lcfg.target_str), "%s", cfg->collector_str);
	s->lcfg.clients = cfg->devices;
	s->lcfg.threads = 1;
	s->lcfg.first_id = cfg->first_id;
	s->lcfg.mode = XTEL_LG_MODE_DTLS;
	s->lcfg.certs_dir = cfg->certs_dir;
	s->lcfg.handshake_timeout_s = cfg->handshake_timeout_s;
	s->lcfg.seed = cfg->seed;
	s->lcfg.batch = 8;
	s->lrun.cfg = &s->lcfg;
	xtel_lg_fault_cfg_init(&s->lrun.fault, &s->lcfg);
	s->lrun.clients = calloc(cfg->devices, sizeof(*s->lrun.clients));
	s->batch = xtel_lg_batch_new(8);
	if (!s->lrun.clients || !s->batch)
		return XTEL_PB_EXIT_RUNTIME;
	for (uint32_t i = 0; i < cfg->devices; i++)
		s->lrun.clients[i].fd = -1;
	ret = xtel_lg_dtls_init(&s->lrun);
	if (ret)
		return ret == -ENOMEM ? XTEL_PB_EXIT_RUNTIME : XTEL_PB_EXIT_CERTS;
	for (uint32_t i = 0; i < cfg->devices; i++) {
		ret = xtel_lg_client_open(&s->lrun.clients[i], cfg->first_id + i, &s->lcfg);
		if (ret) {
			pr_err("--collector %s: cannot open the socket of device %u: %s",
			       cfg->collector_str, cfg->first_id + i, strerror(-ret));
			return ret == -ENETUNREACH || ret == -EADDRNOTAVAIL ?
			       XTEL_PB_EXIT_UNREACHABLE : XTEL_PB_EXIT_RUNTIME;
		}
	}
	s->th.run = &s->lrun;
	s->th.n_clients = cfg->devices;
	failed = xtel_lg_dtls_handshake_all(&s->th);
	if (atomic_load(&s->lrun.fatal))
		return XTEL_PB_EXIT_UNREACHABLE;
	if (failed) {
		for (uint32_t i = 0; i < cfg->devices; i++)
			if (s->lrun.clients[i].state == XTEL_LG_CLIENT_FAILED) {
				pr_err("%u of %u DTLS handshakes with the collector failed; device %u: %s",
				       failed, cfg->devices, s->lrun.clients[i].id,
				       s->lrun.clients[i].hs_error);
				break;
			}
		return XTEL_PB_EXIT_HANDSHAKE;
	}
	for (uint32_t i = 0; i < cfg->devices; i++) {
		struct xtel_lg_tx tx = { .run = &s->lrun, .batch = s->batch,
					 .ctr = &s->th.ctr, .now_ns = xtel_mono_ns() };

		xtel_lg_client_send_init(&tx, &s->lrun.clients[i]);
	}
	return atomic_load(&s->lrun.fatal) ? XTEL_PB_EXIT_UNREACHABLE : 0;
}

static void sender_result(struct xtel_pb_run *run, struct xtel_pb_device *d,
			  const struct xtel_probe_sample *smp)
{
	struct pb_sender *s = run->sender;
	struct xtel_lg_client *c;
	struct xtel_lg_tx tx;
	uint64_t before;
	char payload[1300];
	int len;

	if (!s)
		return;
	c = &s->lrun.clients[d->index];
	len = xtel_probe_sample_format(smp, payload, sizeof(payload));
	if (len < 0 || c->state != XTEL_LG_CLIENT_ACTIVE) {
		run->ctr[XTEL_PB_C_SEND_ERR]++;
		return;
	}
	tx = (struct xtel_lg_tx){ .run = &s->lrun, .batch = s->batch,
				  .ctr = &s->th.ctr, .now_ns = xtel_mono_ns(),
				  .payload = payload, .payload_len = (size_t)len };
	before = c->st.sent_type[XTEL_MSG_DATA];
	xtel_lg_client_send_data(&tx, c, 1);
	run->ctr[c->st.sent_type[XTEL_MSG_DATA] > before ?
		 XTEL_PB_C_SENT : XTEL_PB_C_SEND_ERR]++;
}

static void sender_heartbeats(struct xtel_pb_run *run, uint64_t now)
{
	struct pb_sender *s = run->sender;
	uint64_t idle = (uint64_t)(run->cfg->heartbeat_s * 1e9);

	for (uint32_t i = 0; s && i < run->cfg->devices; i++) {
		struct xtel_lg_client *c = &s->lrun.clients[i];
		struct xtel_lg_tx tx = { .run = &s->lrun, .batch = s->batch,
					 .ctr = &s->th.ctr, .now_ns = now };

		if (c->state == XTEL_LG_CLIENT_ACTIVE && now - c->last_send_ns >= idle)
			xtel_lg_client_send_heartbeat(&tx, c);
	}
}

static void sender_close(struct xtel_pb_run *run)
{
	struct pb_sender *s = run->sender;

	if (!s)
		return;
	for (uint32_t i = 0; s->lrun.clients && i < run->cfg->devices; i++) {
		struct xtel_lg_client *c = &s->lrun.clients[i];
		struct xtel_lg_tx tx = { .run = &s->lrun, .batch = s->batch,
					 .ctr = &s->th.ctr, .now_ns = xtel_mono_ns() };

		xtel_lg_client_finish(&tx, c);
		xtel_lg_dtls_close(c, true);
		xtel_lg_client_close(c);
	}
	xtel_lg_dtls_free(&s->lrun);
	xtel_lg_batch_free(s->batch);
	free(s->lrun.clients);
	free(s);
	run->sender = NULL;
}

/* CLOCK_MONOTONIC at which device d's occurrence k is due. */
static uint64_t due_of(const struct xtel_pb_run *run, const struct xtel_pb_device *d,
		       uint64_t k)
{
	const struct xtel_pb_config *cfg = run->cfg;
	uint64_t period = (uint64_t)(cfg->interval_s * 1e9);
	double u = (double)(xtel_lg_mix3(cfg->seed, d->id, k) >> 11) * 0x1p-53;
	uint64_t jitter = (uint64_t)(cfg->jitter_s * 1e9 * u), first;

	if (cfg->align == XTEL_PB_ALIGNED) {
		/* The next wall-clock multiple of the interval, in monotonic time. */
		uint64_t next = (run->t0_real_ns / period + 1) * period;

		first = run->t0_mono_ns + (next - run->t0_real_ns);
	} else {
		first = run->t0_mono_ns + (uint64_t)((double)period * d->index /
						     cfg->devices);
	}
	return first + k * period + jitter;
}

static bool device_done(const struct xtel_pb_run *run, const struct xtel_pb_device *d)
{
	const struct xtel_pb_config *cfg = run->cfg;

	if (cfg->count && d->next_k >= cfg->count)
		return true;
	return cfg->duration_s &&
	       d->due_ns > run->t0_mono_ns + (uint64_t)(cfg->duration_s * 1e9);
}

static void advance(struct xtel_pb_run *run, struct xtel_pb_device *d)
{
	d->next_k++;
	d->due_ns = due_of(run, d, d->next_k);
}

static void on_done(struct xtel_pb_run *run, struct xtel_pb_device *d,
		    const struct xtel_probe_sample *s)
{
	run->kinds[s->kind]++;
	d->kinds[s->kind]++;
	if (run->n_samples < run->cap_samples)
		run->samples[run->n_samples++] = *s;
	else
		run->ctr[XTEL_PB_C_DROPPED]++;
	if (run->log)
		xtel_pb_log_sample(run->log, s, d->next_k - 1,
				   s->kind == XTEL_PROBE_OK ? NULL : xtel_pb_http_error(d));
	sender_result(run, d, s);
}

/* Starts what is due; returns the earliest due time still ahead. */
static uint64_t start_due(struct xtel_pb_run *run, uint64_t now, bool *all_done)
{
	uint64_t wake = UINT64_MAX;

	*all_done = true;
	for (uint32_t i = 0; i < run->cfg->devices; i++) {
		struct xtel_pb_device *d = &run->dev[i];

		while (!device_done(run, d) && d->due_ns <= now) {
			if (d->busy) {
				run->ctr[XTEL_PB_C_SKIPPED]++;
				advance(run, d);
				continue;
			}
			if (run->inflight >= run->cfg->parallel)
				break;
			if (now - d->due_ns > LATE_NS)
				run->ctr[XTEL_PB_C_LATE]++;
			if (xtel_pb_http_start(run, d) == 0)
				run->ctr[XTEL_PB_C_STARTED]++;
			advance(run, d);
			break;
		}
		if (!device_done(run, d)) {
			*all_done = false;
			if (d->due_ns < wake)
				wake = d->due_ns;
		}
		if (d->busy)
			*all_done = false;
	}
	return wake;
}

static int run_loop(struct xtel_pb_run *run)
{
	uint64_t next_progress = run->t0_mono_ns + XTEL_NS_PER_SEC;
	uint64_t next_hb = run->t0_mono_ns + XTEL_NS_PER_SEC;

	while (!run->stop) {
		uint64_t now = xtel_mono_ns(), wake;
		bool all_done;
		int wait_ms;

		wake = start_due(run, now, &all_done);
		if (all_done)
			break;
		if (now >= next_hb) {
			sender_heartbeats(run, now);
			next_hb = now + XTEL_NS_PER_SEC;
		}
		if (now >= next_progress) {
			if (!run->cfg->quiet)
				xtel_pb_progress(run, stderr);
			next_progress += XTEL_NS_PER_SEC;
		}
		/* At most 100 ms, to see signals, heartbeats and progress. */
		if (wake <= now)
			wait_ms = run->inflight >= run->cfg->parallel ? 100 : 0;
		else
			wait_ms = wake - now >= 100000000ull ? 100 :
				  (int)((wake - now + 999999) / 1000000);
		if (xtel_pb_http_poll(run, wait_ms, on_done))
			return XTEL_PB_EXIT_RUNTIME;
		if (run->sender && atomic_load(&((struct pb_sender *)run->sender)->lrun.fatal))
			return XTEL_PB_EXIT_UNREACHABLE;
	}
	return 0;
}

/*
 * Every device's certificate and key must be there before the first probe:
 * a missing one is a set-up mistake (exit 5), not a failed download.
 */
static int check_certs(const struct xtel_pb_config *cfg)
{
	char path[4200];
	const char *ca = cfg->server_ca;

	if (!ca) {
		snprintf(path, sizeof(path), "%s/ca.crt", cfg->certs_dir);
		ca = path;
	}
	if (access(ca, R_OK)) {
		pr_err("%s: cannot read the CA certificate: %s (certs/gen.sh DIR N makes it)",
		       ca, strerror(errno));
		return -ENOENT;
	}
	for (uint32_t i = 0; i < cfg->devices; i++) {
		static const char *const ext[] = { "crt", "key" };

		for (int k = 0; k < 2; k++) {
			snprintf(path, sizeof(path), "%s/client-%u.%s", cfg->certs_dir,
				 cfg->first_id + i, ext[k]);
			if (access(path, R_OK)) {
				pr_err("--certs %s: cannot read %s: %s (expected client-<id>.crt/.key for every device, as made by certs/gen.sh DIR N)",
				       cfg->certs_dir, path, strerror(errno));
				return -ENOENT;
			}
		}
	}
	return 0;
}

static FILE *open_out(const char *path, const char *flag)
{
	FILE *f = fopen(path, "w");

	if (!f)
		pr_err("invalid value '%s' for --%s: cannot create the file: %s",
		       path, flag, strerror(errno));
	return f;
}

int main(int argc, char **argv)
{
	static struct xtel_pb_run run;
	struct xtel_pb_config cfg;
	struct sigaction sa = { .sa_handler = on_signal };
	FILE *report = NULL;
	int code = 0, ret;
	size_t cap;

	xtel_log_setup("probe", XTEL_LOG_INFO);
	ret = xtel_pb_cli_parse(argc, argv, &cfg);
	if (ret)
		return ret > 0 ? XTEL_PB_EXIT_OK : XTEL_PB_EXIT_USAGE;
	g_run = &run;
	run.cfg = &cfg;
	if (check_certs(&cfg))
		return XTEL_PB_EXIT_CERTS;
	/* A UDP socket per device, a TCP one per download, and a few spare. */
	if (xtel_lg_raise_fd_limit((cfg.collector_given ? cfg.devices : 0) +
				   cfg.parallel + 64, "--devices/--parallel", "devices"))
		return XTEL_PB_EXIT_RUNTIME;
	if (cfg.log_path && !(run.log = open_out(cfg.log_path, "log")))
		return XTEL_PB_EXIT_USAGE;
	if (cfg.report_json && !(report = open_out(cfg.report_json, "report-json"))) {
		code = XTEL_PB_EXIT_USAGE;
		goto out_log;
	}
	cap = cfg.count ? (size_t)cfg.count * cfg.devices :
	      (size_t)(cfg.duration_s / cfg.interval_s + 2) * cfg.devices;
	run.cap_samples = cap < SAMPLES_MAX ? cap : SAMPLES_MAX;
	run.samples = calloc(run.cap_samples, sizeof(*run.samples));
	run.dev = calloc(cfg.devices, sizeof(*run.dev));
	if (!run.samples || !run.dev || xtel_pb_http_global_init()) {
		pr_err("out of memory for %u devices", cfg.devices);
		code = XTEL_PB_EXIT_RUNTIME;
		goto out_mem;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (cfg.collector_given) {
		code = sender_open(&run);
		if (code)
			goto out_sender;
	}
	for (uint32_t i = 0; i < cfg.devices; i++) {
		run.dev[i].id = cfg.first_id + i;
		run.dev[i].index = i;
	}
	if (xtel_pb_http_open(&run)) {
		pr_err("cannot set up curl for %u devices", cfg.devices);
		code = XTEL_PB_EXIT_RUNTIME;
		goto out_http;
	}
	run.t0_mono_ns = xtel_mono_ns();
	run.t0_real_ns = xtel_realtime_ns();
	for (uint32_t i = 0; i < cfg.devices; i++)
		run.dev[i].due_ns = due_of(&run, &run.dev[i], 0);
	code = run_loop(&run);
	xtel_pb_http_abort_all(&run);
	xtel_pb_report_text(&run, stdout);
	fflush(stdout);
	if (report) {
		ret = xtel_pb_report_json(&run, code, report);
		report = NULL;
		if (ret) {
			pr_err("--report-json: cannot write '%s': %s", cfg.report_json,
			       strerror(-ret));
			if (!code)
				code = XTEL_PB_EXIT_RUNTIME;
		}
	}
out_http:
	xtel_pb_http_close(&run);
out_sender:
	sender_close(&run);
	xtel_pb_http_global_free();
out_mem:
	free(run.dev);
	free(run.samples);
	if (report)
		fclose(report);
out_log:
	if (run.log && fclose(run.log) && !code) {
		pr_err("--log: cannot write '%s'", cfg.log_path);
		code = XTEL_PB_EXIT_RUNTIME;
	}
	return code;
}
