/* SPDX-License-Identifier: MIT */
/*
 * The download probe (`probe`): N simulated devices, each downloading a
 * test object from the probe server every --interval seconds with libcurl
 * and sending each result to the collector as a telemetry DATA datagram
 * under its own client id and certificate (the load generator's DTLS
 * clients, loadgen/dtls_client.c). This header holds the configuration,
 * one device's state and the run's; probe_cli.c parses, probe_http.c runs
 * the downloads, probe_out.c writes the log and the reports, probe_main.c
 * schedules and owns the exit code.
 *
 * Everything runs on the main thread: curl's multi interface drives every
 * download at once, and a result is one datagram, so there is nothing a
 * second thread would do.
 */
#ifndef XTEL_PROBE_CLIENT_H
#define XTEL_PROBE_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "probe/sample.h"

/* Exit codes, decided in main only; --help and docs/PROBES.md list them. */
enum xtel_pb_exit {
	XTEL_PB_EXIT_OK = 0,		/* run completed, whatever the downloads did */
	XTEL_PB_EXIT_RUNTIME = 1,	/* system error, or a report not written */
	XTEL_PB_EXIT_USAGE = 2,
	XTEL_PB_EXIT_UNREACHABLE = 3,	/* the collector is unreachable */
	XTEL_PB_EXIT_HANDSHAKE = 4,	/* a DTLS handshake with it failed */
	XTEL_PB_EXIT_CERTS = 5,		/* certificate or key missing/mismatched */
};

enum xtel_pb_align {
	XTEL_PB_SPREAD = 0,	/* device i starts i/N of an interval in */
	XTEL_PB_ALIGNED,	/* on wall-clock multiples of the interval */
};

enum { XTEL_PB_MAX_DEVICES = 20000 };

struct xtel_pb_config {
	char server[256];		/* https://HOST:PORT, no trailing '/' */
	uint64_t size;
	uint32_t devices, first_id;
	double interval_s, jitter_s;
	enum xtel_pb_align align;
	uint64_t count;			/* probes per device; 0: not given */
	double duration_s;		/* 0: not given */
	uint32_t parallel;
	double timeout_s, connect_timeout_s, warmup_s;
	const char *certs_dir;
	const char *server_ca;		/* NULL: certs_dir/ca.crt */
	unsigned int tls;		/* 0 auto, 1 only 1.2, 2 only 1.3 */
	bool collector_given;
	struct sockaddr_storage collector;
	socklen_t collector_len;
	char collector_str[80];
	double heartbeat_s, handshake_timeout_s;
	uint64_t seed;
	const char *log_path;		/* JSON lines, one per download */
	const char *report_json;
	bool quiet;
};

/* Run-wide counts besides the kinds. */
#define XTEL_PB_COUNTER_TABLE(X)					\
	X(STARTED, "started", "downloads", "downloads begun")		\
	X(SKIPPED, "skipped_busy", "probes",				\
	  "a probe came due while the device's previous one still ran") \
	X(LATE, "late_start", "probes",					\
	  "began over 100 ms after it was due (--parallel downloads busy)") \
	X(SENT, "results_sent", "datagrams", "result DATA datagrams sent to the collector") \
	X(SEND_ERR, "results_unsent", "datagrams",			\
	  "results that could not be sent (no session, socket error)")	\
	X(DROPPED, "samples_dropped", "samples",			\
	  "results past the summary's bound (kept in counts and the log)")

enum xtel_pb_counter {
#define X(id, name, unit, help) XTEL_PB_C_##id,
	XTEL_PB_COUNTER_TABLE(X)
#undef X
	XTEL_PB_C_MAX,
};

extern const struct xtel_counter_desc xtel_pb_counter_desc[XTEL_PB_C_MAX];

struct xtel_pb_http;		/* probe_http.c */

struct xtel_pb_device {
	uint32_t id;
	uint32_t index;
	uint64_t next_k;		/* the next occurrence of its schedule */
	uint64_t due_ns;		/* CLOCK_MONOTONIC of occurrence next_k */
	bool busy;
	uint64_t kinds[XTEL_PROBE_KIND_MAX];
	struct xtel_pb_http *http;
};

struct xtel_pb_run {
	const struct xtel_pb_config *cfg;
	struct xtel_pb_device *dev;
	uint64_t t0_mono_ns, t0_real_ns;
	uint64_t ctr[XTEL_PB_C_MAX];
	uint64_t kinds[XTEL_PROBE_KIND_MAX];
	uint32_t inflight;

	/* Samples for the final summary, bounded. */
	struct xtel_probe_sample *samples;
	size_t n_samples, cap_samples;

	FILE *log;
	void *sender;			/* probe_main.c's DTLS side, NULL: none */
	volatile int stop;
};

int xtel_pb_cli_parse(int argc, char **argv, struct xtel_pb_config *cfg);

/* curl set-up for the run and each device; 0 or -errno. */
int xtel_pb_http_global_init(void);
void xtel_pb_http_global_free(void);
int xtel_pb_http_open(struct xtel_pb_run *run);
void xtel_pb_http_close(struct xtel_pb_run *run);
/* Begins device d's download now (d->busy becomes true). 0 or -errno. */
int xtel_pb_http_start(struct xtel_pb_run *run, struct xtel_pb_device *d);
/*
 * Drives the downloads for up to wait_ms and calls done(run, d, sample)
 * for each that finished. Returns 0 or -errno.
 */
int xtel_pb_http_poll(struct xtel_pb_run *run, int wait_ms,
		      void (*done)(struct xtel_pb_run *, struct xtel_pb_device *,
				   const struct xtel_probe_sample *));
/* curl's message for the device's last download, "" when none. */
const char *xtel_pb_http_error(const struct xtel_pb_device *d);
/* Ends every download still running, without a result. */
void xtel_pb_http_abort_all(struct xtel_pb_run *run);

/* One JSON line for sample s on f. */
void xtel_pb_log_sample(FILE *f, const struct xtel_probe_sample *s, uint64_t k,
			const char *error);
void xtel_pb_progress(const struct xtel_pb_run *run, FILE *f);
void xtel_pb_report_text(struct xtel_pb_run *run, FILE *f);
int xtel_pb_report_json(struct xtel_pb_run *run, int code, FILE *f);

#endif /* XTEL_PROBE_CLIENT_H */
