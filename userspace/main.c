// SPDX-License-Identifier: MIT
/*
 * collector: the XTel telemetry collector daemon.
 *
 * usage: collector [--mode dtls|plain] [--port N] [--bind ADDR] [--workers N]
 *                  [--iface IFNAME | --no-xdp] [--cert F --key F --ca F]
 *                  [--interval S] [--top N] [--quiet] [--duration S]
 *                  [--summary-json F] [--csv F] ...   (collector --help)
 *
 * main wires the modules together and owns every decision about exit
 * codes: it validates the configuration and the environment (interface,
 * privileges, credentials, io_uring, port) before starting anything, starts
 * one receive worker per --workers, runs the reporter on this thread between
 * signalfd wake-ups, and on SIGINT/SIGTERM or --duration stops the workers,
 * flushes the CSV and writes the final summary.
 */
#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "certcheck.h"
#include "cli.h"
#include "counters.h"
#include "csv.h"
#include "ingest.h"
#include "registry.h"
#include "report.h"
#include "uring_rx.h"

struct app {
	struct xtel_config cfg;
	unsigned int n;
	struct xtel_registry **regs;
	struct xtel_worker_counters *cnts;
	struct xtel_ingest *igs;
	struct xtel_rx_worker **workers;
	struct xtel_csv_writer *csv;
	struct xtel_reporter *rep;
	FILE *json;
	int sfd;
	int fatal_efd;
	int rcvbuf_eff;
	bool rcvbuf_forced;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool has_cap(unsigned int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = { { 0 } };

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

/* Reporter callback: per-worker counters plus the kernel's socket drops. */
static void sum_counters(void *arg, struct xtel_worker_counters *out)
{
	struct app *a = arg;
	const struct xtel_worker_counters *ptrs[256];
	uint64_t kdrops = 0;

	for (unsigned int i = 0; i < a->n; i++) {
		ptrs[i] = &a->cnts[i];
		if (a->workers[i])
			kdrops += xtel_rx_worker_kernel_drops(a->workers[i]);
	}
	xtel_counters_sum(ptrs, a->n, out);
	out->drops[XTEL_DROP_RXQ_OVFL] = kdrops;
}

static int uring_unavailable(int rc)
{
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	if (v > 0)
		fprintf(stderr, "collector: io_uring is disabled (sysctl "
			"kernel.io_uring_disabled=%d): set it to 0%s\n", v,
			v == 1 ? ", or run as a member of kernel.io_uring_group" : "");
	else if (rc == -ENOSYS)
		fprintf(stderr, "collector: this kernel has no io_uring "
			"(io_uring_setup: ENOSYS)\n");
	else if (rc == -EPERM || rc == -EACCES)
		fprintf(stderr, "collector: io_uring is disabled: io_uring_setup "
			"refused with %s although kernel.io_uring_disabled=%d "
			"(a seccomp or LSM policy?)\n", strerror(-rc), v);
	else
		fprintf(stderr, "collector: io_uring unusable: io_uring_setup: "
			"%s\n", strerror(-rc));
	return XTEL_EXIT_URING;
}

static int bind_error(const struct xtel_config *cfg, int rc)
{
	if (rc == -EADDRINUSE) {
		fprintf(stderr, "collector: UDP port %u on %s is already in use "
			"(EADDRINUSE): stop the other listener or pick --port\n",
			cfg->port, cfg->bind_str);
		return XTEL_EXIT_ADDR;
	}
	if (rc == -EACCES) {
		fprintf(stderr, "collector: binding UDP port %u needs "
			"CAP_NET_BIND_SERVICE (ports below 1024)\n", cfg->port);
		return XTEL_EXIT_PRIVILEGE;
	}
	fprintf(stderr, "collector: cannot bind UDP %s port %u: %s\n",
		cfg->bind_str, cfg->port, strerror(-rc));
	return XTEL_EXIT_ADDR;
}

/* Everything checkable before any thread or socket exists. */
static int preflight(struct xtel_config *cfg)
{
	int rc;

	if (cfg->iface) {
		cfg->ifindex = if_nametoindex(cfg->iface);
		if (!cfg->ifindex) {
			fprintf(stderr, "collector: interface %s not found "
				"(--iface)\n", cfg->iface);
			return XTEL_EXIT_IFACE;
		}
		if (!cfg->no_xdp) {
			if (!has_cap(CAP_NET_ADMIN)) {
				fprintf(stderr, "collector: XDP on %s needs "
					"CAP_NET_ADMIN (run as root, or pass "
					"--no-xdp)\n", cfg->iface);
				return XTEL_EXIT_PRIVILEGE;
			}
			if (!has_cap(CAP_BPF) && !has_cap(CAP_SYS_ADMIN)) {
				fprintf(stderr, "collector: XDP on %s needs "
					"CAP_BPF (run as root, or pass "
					"--no-xdp)\n", cfg->iface);
				return XTEL_EXIT_PRIVILEGE;
			}
			fprintf(stderr, "collector: note: the XDP fast path is "
				"not built yet; --iface %s (ifindex %u) is "
				"recorded, receiving on sockets\n",
				cfg->iface, cfg->ifindex);
		}
	}
	if (cfg->mode == XTEL_MODE_DTLS) {
		rc = xtel_certcheck(cfg->cert, cfg->key, cfg->ca);
		if (rc)
			return rc;
	}
	rc = xtel_rx_uring_probe();
	if (rc)
		return uring_unavailable(rc);
	rc = xtel_rx_port_probe(cfg);
	if (rc)
		return bind_error(cfg, rc);
	return 0;
}

static int setup(struct app *a)
{
	const struct xtel_config *cfg = &a->cfg;
	char err[XTEL_DTLS_ERR_LEN] = "";
	int rcvbuf_eff = 0;
	bool forced = false;
	int rc;

	a->regs = calloc(a->n, sizeof(*a->regs));
	a->igs = calloc(a->n, sizeof(*a->igs));
	a->workers = calloc(a->n, sizeof(*a->workers));
	if (posix_memalign((void **)&a->cnts, 64, a->n * sizeof(*a->cnts)))
		a->cnts = NULL;
	if (!a->regs || !a->igs || !a->workers || !a->cnts) {
		fprintf(stderr, "collector: out of memory\n");
		return XTEL_EXIT_RUNTIME;
	}
	memset(a->cnts, 0, a->n * sizeof(*a->cnts));
	if (cfg->csv) {
		rc = xtel_csv_writer_open(cfg->csv, a->n, cfg->csv_ring, &a->csv);
		if (rc) {
			fprintf(stderr, "collector: --csv %s: %s\n", cfg->csv,
				strerror(-rc));
			return XTEL_EXIT_USAGE;
		}
	}
	for (unsigned int i = 0; i < a->n; i++) {
		int fd;

		a->regs[i] = xtel_registry_new(cfg->max_clients);
		if (!a->regs[i]) {
			fprintf(stderr, "collector: registry: %s\n", strerror(errno));
			return XTEL_EXIT_RUNTIME;
		}
		rc = xtel_ingest_init(&a->igs[i], cfg, i, a->regs[i], &a->cnts[i],
				      a->csv ? xtel_csv_writer_ring(a->csv, i) : NULL,
				      err, sizeof(err));
		if (rc) {
			fprintf(stderr, "collector: %s\n", err[0] ? err : strerror(-rc));
			if (rc == -EKEYREJECTED)
				return XTEL_EXIT_KEY_MISMATCH;
			if (rc == -ENOENT || rc == -EACCES || rc == -EBADMSG ||
			    rc == -ENOMSG || rc == -EINVAL)
				return XTEL_EXIT_CERT;
			return XTEL_EXIT_RUNTIME;
		}
		fd = xtel_rx_socket_open(cfg, &rcvbuf_eff, &forced);
		if (fd < 0)
			return bind_error(cfg, fd);
		a->workers[i] = xtel_rx_worker_new(i, fd, cfg->rx_buffers, &a->igs[i]);
		if (!a->workers[i]) {
			close(fd);
			fprintf(stderr, "collector: worker %u: %s\n", i, strerror(errno));
			return XTEL_EXIT_RUNTIME;
		}
	}
	if (cfg->rcvbuf && !forced)
		fprintf(stderr, "collector: warning: SO_RCVBUFFORCE needs "
			"CAP_NET_ADMIN; fell back to SO_RCVBUF, capped by "
			"net.core.rmem_max\n");
	a->rcvbuf_eff = rcvbuf_eff;
	a->rcvbuf_forced = forced;
	return 0;
}

static int start(struct app *a)
{
	int rc;

	if (a->csv) {
		rc = xtel_csv_writer_start(a->csv);
		if (rc) {
			fprintf(stderr, "collector: CSV writer: %s\n", strerror(-rc));
			return XTEL_EXIT_RUNTIME;
		}
	}
	for (unsigned int i = 0; i < a->n; i++) {
		rc = xtel_rx_worker_start(a->workers[i], a->fatal_efd);
		if (rc == -EPERM || rc == -ENOSYS || rc == -EACCES)
			return uring_unavailable(rc);
		if (rc) {
			fprintf(stderr, "collector: worker %u: %s\n", i,
				xtel_rx_worker_error(a->workers[i]));
			return rc == -EINVAL || rc == -EOPNOTSUPP ? XTEL_EXIT_URING :
								    XTEL_EXIT_RUNTIME;
		}
	}
	return 0;
}

/* Reporter loop on this thread; returns why it stopped. */
static const char *run(struct app *a, uint64_t t0, int *status)
{
	const uint64_t ivl = (uint64_t)(a->cfg.interval_s * 1e9);
	const uint64_t deadline = a->cfg.duration_s > 0 ?
		t0 + (uint64_t)(a->cfg.duration_s * 1e9) : UINT64_MAX;
	uint64_t next = t0 + ivl;
	static char reason[64];

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = a->sfd, .events = POLLIN },
			{ .fd = a->fatal_efd, .events = POLLIN },
		};
		uint64_t now = clock_ns(CLOCK_MONOTONIC);
		uint64_t until = next < deadline ? next : deadline;
		int timeout_ms = until > now ? (int)((until - now + 999999) / 1000000) : 0;

		if (poll(pfd, 2, timeout_ms) < 0 && errno != EINTR) {
			*status = XTEL_EXIT_RUNTIME;
			return "poll error";
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(a->sfd, &si, sizeof(si)) == sizeof(si)) {
				snprintf(reason, sizeof(reason), "signal %s",
					 si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
				return reason;
			}
		}
		if (pfd[1].revents & POLLIN) {
			*status = XTEL_EXIT_RUNTIME;
			return "worker error";
		}
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= deadline)
			return "duration";
		if (now >= next) {
			int rc = xtel_report_interval(a->rep, clock_ns(CLOCK_REALTIME),
						      (double)(now - t0) / 1e9);

			if (rc)
				fprintf(stderr, "collector: report: %s\n", strerror(-rc));
			next += ivl;
			if (next <= now)	/* we fell behind: skip, do not burst */
				next = now + ivl;
		}
	}
}

static void cleanup(struct app *a)
{
	for (unsigned int i = 0; a->workers && i < a->n; i++)
		xtel_rx_worker_free(a->workers[i]);
	xtel_csv_writer_free(a->csv);
	for (unsigned int i = 0; a->igs && i < a->n; i++)
		xtel_ingest_fini(&a->igs[i]);
	for (unsigned int i = 0; a->regs && i < a->n; i++)
		xtel_registry_free(a->regs[i]);
	xtel_reporter_free(a->rep);
	if (a->json)
		fclose(a->json);
	if (a->sfd >= 0)
		close(a->sfd);
	if (a->fatal_efd >= 0)
		close(a->fatal_efd);
	free(a->workers);
	free(a->igs);
	free(a->regs);
	free(a->cnts);
}

int main(int argc, char **argv)
{
	struct app a = { .sfd = -1, .fatal_efd = -1 };
	struct xtel_run_info info = { 0 };
	sigset_t mask;
	uint64_t t0;
	int status = XTEL_EXIT_OK, rc;

	rc = xtel_cli_parse(argc, argv, &a.cfg);
	if (rc >= 0)
		return rc;
	a.n = a.cfg.workers;
	rc = preflight(&a.cfg);
	if (rc)
		return rc;
	if (a.cfg.summary_json) {
		/* Open now: a bad path should fail at start, not after a run. */
		a.json = fopen(a.cfg.summary_json, "w");
		if (!a.json) {
			fprintf(stderr, "collector: --summary-json %s: %s\n",
				a.cfg.summary_json, strerror(errno));
			return XTEL_EXIT_USAGE;
		}
	}

	/*
	 * Block the stop signals before any thread exists so every thread
	 * inherits the mask and only the signalfd below sees them.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	a.sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	a.fatal_efd = eventfd(0, EFD_CLOEXEC);
	if (a.sfd < 0 || a.fatal_efd < 0) {
		perror("collector: signalfd/eventfd");
		status = XTEL_EXIT_RUNTIME;
		goto out;
	}
	status = setup(&a);
	if (status)
		goto out;
	rc = xtel_reporter_new(&a.cfg, a.regs, a.n, sum_counters, &a, &a.rep);
	if (rc) {
		status = XTEL_EXIT_RUNTIME;
		goto out;
	}
	info.started_ns = clock_ns(CLOCK_REALTIME);
	t0 = clock_ns(CLOCK_MONOTONIC);
	status = start(&a);
	if (status)
		goto out;
	info.ring_mode = xtel_rx_worker_ring_mode(a.workers[0]);
	fprintf(stderr, "collector: %s mode, %u worker%s on [%s]:%u, io_uring %s, "
		"rcvbuf %d bytes%s\n",
		a.cfg.mode == XTEL_MODE_DTLS ? "dtls" : "plain", a.n,
		a.n == 1 ? "" : "s", a.cfg.bind_str, a.cfg.port, info.ring_mode,
		a.rcvbuf_eff, a.rcvbuf_forced ? " (forced)" : "");

	info.stop_reason = run(&a, t0, &status);

	/* Stop receiving, let each worker finish what the kernel handed over. */
	for (unsigned int i = 0; i < a.n; i++)
		xtel_rx_worker_stop(a.workers[i]);
	for (unsigned int i = 0; i < a.n; i++) {
		rc = xtel_rx_worker_join(a.workers[i]);
		if (rc) {
			fprintf(stderr, "collector: worker %u: %s\n", i,
				xtel_rx_worker_error(a.workers[i]));
			status = XTEL_EXIT_RUNTIME;
		}
	}
	info.stopped_ns = clock_ns(CLOCK_REALTIME);
	info.elapsed_s = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	if (a.csv) {
		info.csv_error = xtel_csv_writer_stop(a.csv, &info.csv_rows);
		if (info.csv_error) {
			fprintf(stderr, "collector: --csv %s: write failed: %s\n",
				a.cfg.csv, strerror(-info.csv_error));
			status = XTEL_EXIT_RUNTIME;
		}
	}
	info.rcvbuf_effective = a.rcvbuf_eff;
	info.rcvbuf_forced = a.rcvbuf_forced;
	rc = xtel_report_final(a.rep, info.stopped_ns, &info, a.json);
	if (rc) {
		fprintf(stderr, "collector: final report: %s\n", strerror(-rc));
		status = XTEL_EXIT_RUNTIME;
	}
out:
	cleanup(&a);
	return status;
}
