// SPDX-License-Identifier: MIT
/*
 * loadgen: the XTel load generator.
 *
 * usage: loadgen --target ADDR:PORT [--clients N] [--threads T] [--rate PPS]
 *                [--duration S | --count N] [--mode dtls|plain] ... (--help)
 *
 * main() owns the life cycle of a run and is the only place that picks an
 * exit code: parse and validate flags, check certificates, open every
 * client socket up front (so a bad target fails before any load), start the
 * sender threads and the flood thread, step them through the handshake /
 * INIT / DATA phases with a barrier, print progress once a second, then
 * join everything and write the reports. SIGINT or SIGTERM ends the DATA
 * phase early; BYEs and the reports still go out.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "cli.h"
#include "client.h"
#include "dtls_client.h"
#include "flood.h"
#include "pacing.h"
#include "report.h"
#include "sender.h"

static struct xtel_lg_run *g_run;
static const char default_payload[] = "temp={randf:15:30};load={rand:0:100}";

static void on_signal(int sig)
{
	(void)sig;
	/* A second signal means "now": skip BYE and reports. */
	if (atomic_load(&g_run->interrupted))
		_exit(130);
	atomic_store(&g_run->interrupted, 1);
	atomic_store(&g_run->stop, 1);
}

/*
 * SIGUSR1 ends --data-delay's wait at once: a script holding several
 * loadgen processes with their handshakes done lets them send one after
 * the other (bench/xtelbench/capacity.py, 100,000 DTLS clients).
 */
static volatile sig_atomic_t data_go;

static void on_data_go(int sig)
{
	(void)sig;
	data_go = 1;
}

static int is_unreachable(int err)
{
	return err == ENETUNREACH || err == EHOSTUNREACH ||
	       err == ECONNREFUSED || err == EADDRNOTAVAIL || err == ENETDOWN;
}

static int open_clients(struct xtel_lg_run *run)
{
	const struct xtel_lg_config *cfg = run->cfg;

	for (uint32_t i = 0; i < cfg->clients; i++) {
		int ret = xtel_lg_client_open(&run->clients[i], cfg->first_id + i, cfg);

		if (ret == 0)
			continue;
		if (cfg->source_len && ret == -EADDRNOTAVAIL) {
			pr_err("client %u: cannot bind the --source address: %s (not an address of this host or namespace?)",
				cfg->first_id + i, strerror(-ret));
			return XTEL_LG_EXIT_RUNTIME;
		}
		if (is_unreachable(-ret)) {
			pr_err("target %s unreachable: %s (check the address and the routes of this namespace)",
				cfg->target_str, strerror(-ret));
			return XTEL_LG_EXIT_UNREACHABLE;
		}
		pr_err("opening the socket of client %u failed: %s%s",
			cfg->first_id + i, strerror(-ret),
			ret == -EADDRINUSE || ret == -EAGAIN ?
			" (out of ephemeral ports: use fewer clients)" : "");
		return XTEL_LG_EXIT_RUNTIME;
	}
	return 0;
}

static void check_handshakes(struct xtel_lg_run *run)
{
	const struct xtel_lg_config *cfg = run->cfg;
	const struct xtel_lg_client *first = NULL;
	uint32_t failed = 0;

	for (uint32_t i = 0; i < cfg->clients; i++) {
		if (run->clients[i].state == XTEL_LG_CLIENT_FAILED) {
			if (!first)
				first = &run->clients[i];
			failed++;
		}
	}
	if (failed)
		xtel_lg_run_fail(run, XTEL_LG_EXIT_HANDSHAKE,
				 "%u of %u DTLS handshakes failed; client %u: %s",
				 failed, cfg->clients, first->id, first->hs_error);
}

/* The DATA payload: --payload-size bytes, or the compiled template. */
static int prepare_payload(struct xtel_lg_run *run)
{
	const struct xtel_lg_config *cfg = run->cfg;
	char err[256];

	if (cfg->payload_size) {
		if (xtel_lg_payload_fixed(&run->payload, cfg->payload_size)) {
			pr_err("--payload-size: cannot build %u bytes",
			       cfg->payload_size);
			return XTEL_LG_EXIT_USAGE;
		}
	} else if (xtel_lg_payload_compile(&run->payload, cfg->payload_template ?
					   cfg->payload_template : default_payload,
					   err, sizeof(err))) {
		pr_err("invalid value '%s' for --payload: %s",
		       cfg->payload_template, err);
		return XTEL_LG_EXIT_USAGE;
	}
	return 0;
}

/*
 * Start the sender threads (and the flood's) with every signal blocked, so
 * only main takes SIGINT/SIGTERM and its sleeps are the ones cut short.
 * Returns whether the flood thread runs.
 */
static int start_threads(struct xtel_lg_run *run, uint32_t n_threads,
			 pthread_t *flood_tid)
{
	const struct xtel_lg_config *cfg = run->cfg;
	struct sigaction sa = { .sa_handler = on_signal };
	int flood_started = 0, ret;
	sigset_t all, old;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_data_go;
	sigaction(SIGUSR1, &sa, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (uint32_t t = 0; t < n_threads; t++) {
		struct xtel_lg_thread *th = &run->threads[t];
		uint32_t per = cfg->clients / n_threads, extra = cfg->clients % n_threads;

		th->run = run;
		th->index = t;
		th->first_client = t * per + (t < extra ? t : extra);
		th->n_clients = per + (t < extra);
		ret = pthread_create(&th->tid, NULL, xtel_lg_sender_main, th);
		if (ret) {
			/* The barrier counts on every thread: give up hard. */
			pr_err("cannot start thread %u: %s", t, strerror(ret));
			_exit(XTEL_LG_EXIT_RUNTIME);
		}
		th->started = 1;
	}
	if (cfg->flood_pps > 0) {
		ret = pthread_create(flood_tid, NULL, xtel_lg_flood_main, run);
		if (ret) {
			pr_err("cannot start the flood thread: %s", strerror(ret));
			atomic_store(&run->stop, 1);
		} else {
			flood_started = 1;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return flood_started;
}

/*
 * Walk the senders through their phases (handshakes, INIT, DATA) and print
 * progress once a second until the senders and the flood are done.
 */
static void wait_run(struct xtel_lg_run *run, uint32_t n_threads,
		     int flood_started)
{
	const struct xtel_lg_config *cfg = run->cfg;
	struct xtel_lg_progress prog = { 0 };

	if (n_threads) {
		pthread_barrier_wait(&run->start_barrier);	/* handshakes done */
		run->hs_end_ns = xtel_mono_ns();
		if (run->dtls)
			check_handshakes(run);
		if (cfg->data_delay_s > 0) {
			/* Unconditional (also with --quiet): a script waits for it. */
			uint64_t end = xtel_mono_ns() + (uint64_t)(cfg->data_delay_s * 1e9);

			fprintf(stderr, "loadgen: handshakes done, DATA in %g s or at SIGUSR1\n",
				cfg->data_delay_s);
			/* A signal cuts the sleep short: SIGUSR1, or a stop. */
			for (uint64_t now = xtel_mono_ns();
			     now < end && !data_go && !atomic_load(&run->stop);
			     now = xtel_mono_ns())
				xtel_lg_sleep_until(end);
		}
		pthread_barrier_wait(&run->start_barrier);	/* go: INIT */
		pthread_barrier_wait(&run->start_barrier);	/* INITs sent */
		run->t0_ns = xtel_mono_ns();
		pthread_barrier_wait(&run->start_barrier);	/* go: DATA */
	}

	prog.last_ns = 0;
	for (uint64_t next = xtel_mono_ns() + 1000000000ull;;) {
		uint64_t now;
		int senders_left = atomic_load(&run->senders_done) < (int)n_threads;
		int flood_left = flood_started && !run->flood.end_ns;

		if (!senders_left && !flood_left)
			break;
		now = xtel_mono_ns();
		if (now >= next) {
			if (!cfg->quiet)
				xtel_lg_progress_line(run, &prog, now);
			next += 1000000000ull;
			continue;
		}
		if (!prog.last_ns && !cfg->quiet)
			xtel_lg_progress_line(run, &prog, now);	/* baseline */
		xtel_lg_sleep_until(now + 50000000ull < next ? now + 50000000ull : next);
	}
}

int main(int argc, char **argv)
{
	static struct xtel_lg_run run;
	struct xtel_lg_config cfg;
	pthread_t flood_tid;
	int flood_started = 0, code = XTEL_LG_EXIT_OK, ret;
	uint32_t n_threads = 0;
	FILE *json_out = NULL;

	xtel_log_setup("loadgen", XTEL_LOG_INFO);
	switch (xtel_lg_cli_parse(argc, argv, &cfg)) {
	case XTEL_LG_CLI_RUN:
		break;
	case XTEL_LG_CLI_EXIT_OK:
		return XTEL_LG_EXIT_OK;
	case XTEL_LG_CLI_BAD:
		return XTEL_LG_EXIT_USAGE;
	}
	g_run = &run;
	run.cfg = &cfg;
	run.run_start_ns = xtel_mono_ns();
	xtel_lg_fault_cfg_init(&run.fault, &cfg);

	code = prepare_payload(&run);
	if (code)
		return code;
	if (cfg.scenario) {
		static struct xtel_lg_scenario sc;
		char err[512];

		if (xtel_lg_scenario_load(cfg.scenario, &sc, err, sizeof(err))) {
			pr_err("--scenario %s", err);
			return XTEL_LG_EXIT_USAGE;
		}
		run.scenario = &sc;
	}
	/* Client sockets, the flood's, and a few for stdio, the report, OpenSSL. */
	if (xtel_lg_raise_fd_limit(cfg.clients + (cfg.flood_pps > 0 ? XTEL_LG_FLOOD_SOCKETS : 0) + 32,
				   "--clients", "clients"))
		return XTEL_LG_EXIT_RUNTIME;
	run.clients = calloc(cfg.clients ? cfg.clients : 1, sizeof(*run.clients));
	if (!run.clients) {
		pr_err("out of memory for %u clients", cfg.clients);
		return XTEL_LG_EXIT_RUNTIME;
	}
	for (uint32_t i = 0; i < cfg.clients; i++)
		run.clients[i].fd = -1;

	/* Fail now rather than after a long run. */
	if (cfg.report_json) {
		json_out = fopen(cfg.report_json, "w");
		if (!json_out) {
			pr_err("invalid value '%s' for --report-json: cannot create the file: %s",
				cfg.report_json, strerror(errno));
			code = XTEL_LG_EXIT_USAGE;
			goto out_clients;
		}
	}

	if (cfg.mode == XTEL_LG_MODE_DTLS && cfg.clients) {
		ret = xtel_lg_dtls_init(&run);
		if (ret) {
			code = ret == -ENOENT || ret == -EINVAL || ret == -EKEYREJECTED ?
			       XTEL_LG_EXIT_CERTS : XTEL_LG_EXIT_RUNTIME;
			goto out_clients;
		}
	}
	code = open_clients(&run);
	if (code)
		goto out_dtls;
	if (cfg.flood_pps > 0) {
		ret = xtel_lg_flood_open(&run);
		if (ret) {
			pr_err("--flood-handshakes: cannot open sockets: %s",
				strerror(-ret));
			code = XTEL_LG_EXIT_RUNTIME;
			goto out_sockets;
		}
	}

	n_threads = cfg.clients ? cfg.threads : 0;
	run.threads = calloc(n_threads ? n_threads : 1, sizeof(*run.threads));
	if (!run.threads ||
	    pthread_barrier_init(&run.start_barrier, NULL, n_threads + 1)) {
		pr_err("out of memory");
		code = XTEL_LG_EXIT_RUNTIME;
		goto out_flood;
	}

	flood_started = start_threads(&run, n_threads, &flood_tid);
	wait_run(&run, n_threads, flood_started);
	for (uint32_t t = 0; t < n_threads; t++)
		pthread_join(run.threads[t].tid, NULL);
	if (flood_started)
		pthread_join(flood_tid, NULL);

	code = atomic_load(&run.fatal);
	xtel_lg_report_text(&run, code, stdout);
	fflush(stdout);
	if (json_out) {
		ret = xtel_lg_report_json(&run, code, json_out);
		json_out = NULL;
		if (ret) {
			pr_err("--report-json: cannot write '%s': %s",
				cfg.report_json, strerror(-ret));
			if (!code)
				code = XTEL_LG_EXIT_RUNTIME;
		}
	}
	pthread_barrier_destroy(&run.start_barrier);
out_flood:
	free(run.threads);
	if (cfg.flood_pps > 0)
		xtel_lg_flood_close();
out_sockets:
	for (uint32_t i = 0; i < cfg.clients; i++)
		xtel_lg_client_close(&run.clients[i]);
out_dtls:
	if (run.dtls)
		xtel_lg_dtls_free(&run);
out_clients:
	free(run.clients);
	if (json_out)
		fclose(json_out);
	return code;
}
