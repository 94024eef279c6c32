// SPDX-License-Identifier: MIT
/*
 * collector: the XTel telemetry collector daemon.
 *
 * usage: collector [--mode dtls|plain] [--port N] [--bind ADDR] [--workers N]
 *                  [--iface IFNAME [--afxdp] [--allow CIDR]... [--pin-dir D]
 *                   [--handshake-rate PPS] [--handshake-global-rate PPS]
 *                  | --no-xdp] [--cert F --key F --ca F]
 *                  [--interval S] [--top N] [--quiet] [--duration S]
 *                  [--summary-json F] [--csv F] ...   (collector --help)
 *
 * main wires the modules together and owns every decision about exit
 * codes: it validates the configuration and the environment (interface,
 * privileges, credentials, io_uring, port) before starting anything, starts
 * one receive worker per --workers, loads and attaches the XDP program
 * (--iface) once the sockets are bound, optionally runs one AF_XDP receive
 * thread (--afxdp), runs the reporter on this thread between signalfd
 * wake-ups, and on SIGINT/SIGTERM or --duration stops the receivers (each
 * drains what is still queued for it), flushes the CSV, writes the final
 * summary and detaches the program (its pinned counters stay).
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

#include "common/clock.h"
#include "common/log.h"
#include "xdp/afxdp.h"
#include "collector/certcheck.h"
#include "collector/cli.h"
#include "collector/counters.h"
#include "collector/csv.h"
#include "collector/ingest.h"
#include "acct/registry.h"
#include "collector/report.h"
#include "collector/uring_rx.h"
#include "xdp/xdp.h"

/*
 * The AF_XDP receive thread: one more datagram path (its own ingest
 * context, registry and counters, the last of app's arrays), fed by
 * xtel_afxdp_poll. Replies leave through worker 0's UDP socket.
 */
enum { AX_TXQ = 16, AX_TX_BUF = 1500 };

struct ax_tx {
	struct sockaddr_storage peer;
	socklen_t peer_len;
	uint16_t len;
	uint8_t buf[AX_TX_BUF];
};

struct ax_rx {
	struct xtel_afxdp *ax;
	/*
	 * Replies are held until the datagram that caused them has been
	 * handled: a handshake's final flight then leaves after on_session
	 * put the peer into the XDP map, so the client's first record never
	 * meets the handshake rate limit (the io_uring path gets the same
	 * order from submitting its queue later).
	 */
	struct ax_tx txq[AX_TXQ];
	unsigned int n_tx;
	struct xtel_ingest *ig;
	struct xtel_worker_counters *cnt;
	int send_fd;
	int fatal_efd;
	pthread_t thread;
	bool started;
	int stop;
	int err;
};

struct app {
	struct xtel_config cfg;
	unsigned int n;			/* io_uring workers */
	unsigned int n_paths;		/* n, plus one with AF_XDP */
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
	struct xtel_xdp *xdp;		/* NULL: --no-xdp */
	struct ax_rx axr;		/* axr.ax NULL: no AF_XDP */
};

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

	for (unsigned int i = 0; i < a->n_paths; i++) {
		ptrs[i] = &a->cnts[i];
		if (i < a->n && a->workers[i])
			kdrops += xtel_rx_worker_kernel_drops(a->workers[i]);
	}
	xtel_counters_sum(ptrs, a->n_paths, out);
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
		pr_err("io_uring is disabled (sysctl "
			"kernel.io_uring_disabled=%d): set it to 0%s", v,
			v == 1 ? ", or run as a member of kernel.io_uring_group" : "");
	else if (rc == -ENOSYS)
		pr_err("this kernel has no io_uring "
			"(io_uring_setup: ENOSYS)");
	else if (rc == -EPERM || rc == -EACCES)
		pr_err("io_uring is disabled: io_uring_setup "
			"refused with %s although kernel.io_uring_disabled=%d "
			"(a seccomp or LSM policy?)", strerror(-rc), v);
	else
		pr_err("io_uring unusable: io_uring_setup: "
			"%s", strerror(-rc));
	return XTEL_EXIT_URING;
}

static int bind_error(const struct xtel_config *cfg, int rc)
{
	if (rc == -EADDRINUSE) {
		pr_err("UDP port %u on %s is already in use "
			"(EADDRINUSE): stop the other listener or pick --port",
			cfg->port, cfg->bind_str);
		return XTEL_EXIT_ADDR;
	}
	if (rc == -EACCES) {
		pr_err("binding UDP port %u needs "
			"CAP_NET_BIND_SERVICE (ports below 1024)", cfg->port);
		return XTEL_EXIT_PRIVILEGE;
	}
	pr_err("cannot bind UDP %s port %u: %s",
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
			pr_err("interface %s not found "
				"(--iface)", cfg->iface);
			return XTEL_EXIT_IFACE;
		}
		if (!cfg->no_xdp) {
			if (!has_cap(CAP_NET_ADMIN)) {
				pr_err("XDP on %s needs "
					"CAP_NET_ADMIN (run as root, or pass "
					"--no-xdp)", cfg->iface);
				return XTEL_EXIT_PRIVILEGE;
			}
			if (!has_cap(CAP_BPF) && !has_cap(CAP_SYS_ADMIN)) {
				pr_err("XDP on %s needs "
					"CAP_BPF (run as root, or pass "
					"--no-xdp)", cfg->iface);
				return XTEL_EXIT_PRIVILEGE;
			}
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

/* ---- XDP program ---- */

static int xdp_error(const struct xtel_config *cfg, int rc)
{
	/* The loader already explained the cause; add the way out. */
	switch (rc) {
	case -EPERM:
		pr_err("loading XDP on %s needs CAP_BPF and "
			"CAP_NET_ADMIN (run as root, or pass --no-xdp)",
			cfg->iface);
		return XTEL_EXIT_PRIVILEGE;
	case -ENODEV:
		pr_err("interface %s not found (--iface)",
			cfg->iface);
		return XTEL_EXIT_IFACE;
	case -ENOTSUP:
		pr_err("no usable bpffs for --pin-dir %s: "
			"mount one (mount -t bpf bpf /sys/fs/bpf) or point "
			"--pin-dir at a directory on a bpffs", cfg->pin_dir);
		return XTEL_EXIT_RUNTIME;
	default:
		pr_err("XDP on %s: %s (pass --no-xdp to run "
			"without it)", cfg->iface, strerror(-rc));
		return XTEL_EXIT_RUNTIME;
	}
}

static int xdp_setup(struct app *a)
{
	const struct xtel_config *cfg = &a->cfg;
	struct xtel_xdp_opts xo = {
		.ifname = cfg->iface,
		.pin_dir = cfg->pin_dir,
		.port = cfg->port,
		.dtls = cfg->mode == XTEL_MODE_DTLS,
		.afxdp = cfg->afxdp,
		.allowlist = cfg->n_allow > 0,
		.handshake_rate = cfg->handshake_rate,
		.handshake_burst = cfg->handshake_burst,
		.handshake_global_rate = cfg->handshake_global_rate,
		.handshake_global_burst = cfg->handshake_global_burst,
		.skb_mode = cfg->xdp_skb,
		.quiet = false,
	};
	int rc;

	rc = xtel_xdp_open(&a->xdp, &xo);
	if (rc) {
		a->xdp = NULL;
		return xdp_error(cfg, rc);
	}
	/*
	 * Pins are reused across restarts: start from this run's allowlist
	 * and from no DTLS peers (a previous run's sessions are gone).
	 */
	xtel_xdp_allow_clear(a->xdp);
	xtel_xdp_peer_clear(a->xdp);
	for (unsigned int i = 0; i < cfg->n_allow; i++) {
		rc = xtel_xdp_allow_add(a->xdp, cfg->allow[i]);
		if (rc) {
			pr_err("--allow %s: %s",
				cfg->allow[i], strerror(-rc));
			return rc == -EINVAL ? XTEL_EXIT_USAGE : XTEL_EXIT_RUNTIME;
		}
	}
	return 0;
}

/* Interval/summary line: what XDP passed and dropped, by reason. */
static void xdp_line(void *arg, FILE *f)
{
	struct app *a = arg;
	struct xtel_xdp_totals t;
	uint64_t dropped = 0;

	if (xtel_xdp_read_totals(a->xdp, &t))
		return;
	for (int i = XTEL_XDP_DROP_UDP_LEN; i < XTEL_XDP_STAT_OUTCOMES; i++)
		dropped += t.packets[i];
	fprintf(f, "  xdp %s: passed=%llu redirected=%llu xsk_miss=%llu "
		"dropped=%llu", xtel_xdp_attach_mode(a->xdp),
		(unsigned long long)t.packets[XTEL_XDP_STAT_PASSED],
		(unsigned long long)t.packets[XTEL_XDP_STAT_REDIRECTED],
		(unsigned long long)t.packets[XTEL_XDP_STAT_XSK_MISS],
		(unsigned long long)dropped);
	for (int i = XTEL_XDP_DROP_UDP_LEN; i < XTEL_XDP_STAT_OUTCOMES; i++)
		if (t.packets[i])
			fprintf(f, " %s=%llu", xtel_xdp_stat_name(i),
				(unsigned long long)t.packets[i]);
	if (a->axr.ax) {
		struct xtel_afxdp_stats st;

		if (!xtel_afxdp_read_stats(a->axr.ax, &st))
			fprintf(f, "  afxdp: rx=%llu ring_full=%llu "
				"fill_empty=%llu rx_dropped=%llu",
				(unsigned long long)st.rx_packets,
				(unsigned long long)st.rx_ring_full,
				(unsigned long long)st.fill_ring_empty,
				(unsigned long long)st.rx_dropped);
	}
	fputc('\n', f);
}

static int xdp_client_json(uint32_t id, const struct xtel_xdp_client *c,
			   void *arg)
{
	FILE *f = ((void **)arg)[0];
	bool *first = ((void **)arg)[1];

	fprintf(f, "%s{\"client_id\": %u, \"packets\": %llu, \"bytes\": %llu, "
		"\"seq_gaps\": %llu}", *first ? "" : ", ", id,
		(unsigned long long)c->packets, (unsigned long long)c->bytes,
		(unsigned long long)c->seq_gaps);
	*first = false;
	return 0;
}

/*
 * Summary JSON members: "xdp" (the loader's object), "xdp_clients" (its
 * per-client counters, as pinned: cumulative over restarts) and "afxdp".
 */
static int xdp_json(void *arg, FILE *f)
{
	struct app *a = arg;
	bool first = true;
	void *cb_arg[2] = { f, &first };
	int rc;

	fputs("\"xdp\": ", f);
	rc = xtel_xdp_write_json(a->xdp, f);
	if (rc)
		return rc;
	fputs(",\n  \"xdp_clients\": [", f);
	xtel_xdp_foreach_client(a->xdp, xdp_client_json, cb_arg);
	fputs("],\n  \"afxdp\": ", f);
	if (a->axr.ax) {
		struct xtel_afxdp_stats st = { 0 };

		xtel_afxdp_read_stats(a->axr.ax, &st);
		fprintf(f, "{\"bind_mode\": \"%s\", \"sockets\": %u, "
			"\"rx_packets\": %llu, \"rx_bytes\": %llu, "
			"\"unparsed\": %llu, \"no_meta\": %llu, "
			"\"rx_dropped\": %llu, \"rx_ring_full\": %llu, "
			"\"fill_ring_empty\": %llu}",
			xtel_afxdp_bind_mode(a->axr.ax),
			xtel_afxdp_n_sockets(a->axr.ax),
			(unsigned long long)st.rx_packets,
			(unsigned long long)st.rx_bytes,
			(unsigned long long)st.unparsed,
			(unsigned long long)st.no_meta,
			(unsigned long long)st.rx_dropped,
			(unsigned long long)st.rx_ring_full,
			(unsigned long long)st.fill_ring_empty);
	} else {
		fputs("false", f);
	}
	return ferror(f) ? -EIO : 0;
}

/* ---- AF_XDP receive thread ---- */

enum {
	AX_POLL_MS = 50,		/* also the DTLS timer tick */
	AX_BUDGET = 256,		/* frames per queue per poll */
	/* After the stop: drain at most this long / this many frames. */
	AX_DRAIN_NS = 500 * 1000 * 1000,
	AX_DRAIN_MAX = 1 << 20,
};

/* Send the held replies through a normal UDP socket. */
static void ax_flush(struct ax_rx *r)
{
	for (unsigned int i = 0; i < r->n_tx; i++) {
		const struct ax_tx *t = &r->txq[i];

		if (sendto(r->send_fd, t->buf, t->len, MSG_DONTWAIT,
			   (const struct sockaddr *)&t->peer, t->peer_len) < 0)
			xtel_cnt_add(&r->cnt->events[errno == EAGAIN || errno == ENOBUFS ?
						     XTEL_EV_TX_DROPPED :
						     XTEL_EV_TX_ERRORS], 1);
		else
			xtel_cnt_add(&r->cnt->events[XTEL_EV_TX_DATAGRAMS], 1);
	}
	r->n_tx = 0;
}

/* xtel_ingest_send_fn: hold one DTLS datagram until ax_flush. */
static int ax_send(void *ctx, const void *buf, size_t len,
		   const struct sockaddr *peer, socklen_t peer_len)
{
	struct ax_rx *r = ctx;
	struct ax_tx *t;

	if (len > AX_TX_BUF || peer_len > sizeof(t->peer)) {
		xtel_cnt_add(&r->cnt->events[XTEL_EV_TX_DROPPED], 1);
		return -EMSGSIZE;
	}
	if (r->n_tx == AX_TXQ)	/* a flight larger than the queue: send */
		ax_flush(r);
	t = &r->txq[r->n_tx++];
	memcpy(t->buf, buf, len);
	t->len = (uint16_t)len;
	memcpy(&t->peer, peer, peer_len);
	t->peer_len = peer_len;
	return 0;
}

static void ax_deliver(const struct xtel_afxdp_pkt *p, void *arg)
{
	struct ax_rx *r = arg;

	xtel_ingest_datagram(r->ig, p->data, p->len, p->rx_ns,
			     (const struct sockaddr *)&p->src, p->src_len);
	if (r->n_tx)
		ax_flush(r);
}

static void *ax_main(void *arg)
{
	struct ax_rx *r = arg;
	uint64_t next_tick = xtel_mono_ns() + AX_POLL_MS * 1000000ull;
	uint64_t deadline, drained = 0;
	int rc;

	pthread_setname_np(pthread_self(), "xtel-afxdp");
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		uint64_t now;

		rc = xtel_afxdp_poll(r->ax, AX_POLL_MS, AX_BUDGET, ax_deliver, r);
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN) {
			r->err = rc;
			goto fatal;
		}
		now = xtel_mono_ns();
		if (now >= next_tick) {
			xtel_ingest_timers(r->ig);
			ax_flush(r);
			next_tick = now + AX_POLL_MS * 1000000ull;
		}
	}
	/*
	 * Stopped: take what is still in the RX rings, bounded so a flood
	 * cannot keep the collector from exiting, then say goodbye to the
	 * DTLS peers.
	 */
	deadline = xtel_mono_ns() + AX_DRAIN_NS;
	for (;;) {
		rc = xtel_afxdp_poll(r->ax, 0, AX_BUDGET, ax_deliver, r);
		if (rc <= 0)
			break;
		drained += (uint64_t)rc;
		if (drained >= AX_DRAIN_MAX ||
		    xtel_mono_ns() >= deadline) {
			xtel_cnt_add(&r->cnt->events[XTEL_EV_DRAIN_CUT], 1);
			break;
		}
	}
	xtel_cnt_add(&r->cnt->events[XTEL_EV_DRAINED], drained);
	xtel_ingest_timers(r->ig);
	xtel_ingest_shutdown(r->ig);
	ax_flush(r);
	return NULL;
fatal:
	if (r->fatal_efd >= 0) {
		uint64_t one = 1;

		if (write(r->fatal_efd, &one, sizeof(one)) < 0)
			perror("collector: eventfd write");
	}
	return NULL;
}

/*
 * Registry and ingest state of datagram path i (a worker, or the AF_XDP
 * path after them). Returns 0 or the exit code for main, after a message:
 * DTLS credential problems found while loading them are exit codes 3 and 4.
 */
static int path_init(struct app *a, unsigned int i)
{
	const struct xtel_config *cfg = &a->cfg;
	int rc;

	a->regs[i] = xtel_registry_new(cfg->max_clients);
	if (!a->regs[i]) {
		pr_err("registry: %s", strerror(errno));
		return XTEL_EXIT_RUNTIME;
	}
	rc = xtel_ingest_init(&a->igs[i], cfg, i, a->regs[i], &a->cnts[i],
			      a->csv ? xtel_csv_writer_ring(a->csv, i) : NULL);
	if (!rc)
		return 0;
	/* The DTLS server logged what went wrong. */
	if (rc == -EKEYREJECTED)
		return XTEL_EXIT_KEY_MISMATCH;
	if (rc == -ENOENT || rc == -EACCES || rc == -EBADMSG ||
	    rc == -ENOMSG || rc == -EINVAL)
		return XTEL_EXIT_CERT;
	return XTEL_EXIT_RUNTIME;
}

/*
 * --afxdp: open one XSK per RX queue and a datagram path for them. When
 * AF_XDP is unavailable, say why (afxdp.c printed the cause) and keep
 * receiving through io_uring: the program passes datagrams of queues
 * without a socket.
 */
static int afxdp_setup(struct app *a)
{
	const struct xtel_config *cfg = &a->cfg;
	struct xtel_afxdp_opts ao = { .ifname = cfg->iface };
	unsigned int i = a->n;
	int rc;

	rc = xtel_afxdp_open(&a->axr.ax, a->xdp, &ao);
	if (rc) {
		a->axr.ax = NULL;
		pr_err("AF_XDP unavailable on %s (%s): "
			"receiving through io_uring", cfg->iface, strerror(-rc));
		return 0;
	}
	/* The workers loaded the same credentials: any failure is a runtime one. */
	if (path_init(a, i))
		return XTEL_EXIT_RUNTIME;
	a->axr.ig = &a->igs[i];
	a->axr.cnt = &a->cnts[i];
	a->axr.send_fd = xtel_rx_worker_fd(a->workers[0]);
	a->axr.fatal_efd = -1;
	xtel_ingest_set_send(a->axr.ig, ax_send, &a->axr);
	a->n_paths = a->n + 1;
	return 0;
}

static int setup(struct app *a)
{
	const struct xtel_config *cfg = &a->cfg;
	int rcvbuf_eff = 0;
	bool forced = false;
	int rc;

	/* One slot more than the workers: the AF_XDP path, if it comes up. */
	const unsigned int slots = a->n + 1;

	a->n_paths = a->n;
	a->regs = calloc(slots, sizeof(*a->regs));
	a->igs = calloc(slots, sizeof(*a->igs));
	a->workers = calloc(a->n, sizeof(*a->workers));
	if (posix_memalign((void **)&a->cnts, 64, slots * sizeof(*a->cnts)))
		a->cnts = NULL;
	if (!a->regs || !a->igs || !a->workers || !a->cnts) {
		pr_err("out of memory");
		return XTEL_EXIT_RUNTIME;
	}
	memset(a->cnts, 0, slots * sizeof(*a->cnts));
	if (cfg->csv) {
		rc = xtel_csv_writer_open(cfg->csv, cfg->afxdp ? slots : a->n,
					  cfg->csv_ring, &a->csv);
		if (rc) {
			pr_err("--csv %s: %s", cfg->csv,
				strerror(-rc));
			return XTEL_EXIT_USAGE;
		}
	}
	for (unsigned int i = 0; i < a->n; i++) {
		int fd;

		rc = path_init(a, i);
		if (rc)
			return rc;
		fd = xtel_rx_socket_open(cfg, &rcvbuf_eff, &forced);
		if (fd < 0)
			return bind_error(cfg, fd);
		a->workers[i] = xtel_rx_worker_new(i, fd, cfg->rx_buffers, &a->igs[i]);
		if (!a->workers[i]) {
			close(fd);
			pr_err("worker %u: %s", i, strerror(errno));
			return XTEL_EXIT_RUNTIME;
		}
	}
	if (cfg->rcvbuf && !forced)
		pr_warn("warning: SO_RCVBUFFORCE needs "
			"CAP_NET_ADMIN; fell back to SO_RCVBUF, capped by "
			"net.core.rmem_max");
	a->rcvbuf_eff = rcvbuf_eff;
	a->rcvbuf_forced = forced;
	/* The sockets exist: datagrams the program passes have a taker. */
	if (cfg->iface && !cfg->no_xdp) {
		rc = xdp_setup(a);
		if (rc)
			return rc;
		if (cfg->afxdp) {
			rc = afxdp_setup(a);
			if (rc)
				return rc;
		}
		for (unsigned int i = 0; i < a->n_paths; i++)
			xtel_ingest_set_xdp(&a->igs[i], a->xdp);
	}
	return 0;
}

static int start(struct app *a)
{
	int rc;

	if (a->csv) {
		rc = xtel_csv_writer_start(a->csv);
		if (rc) {
			pr_err("CSV writer: %s", strerror(-rc));
			return XTEL_EXIT_RUNTIME;
		}
	}
	for (unsigned int i = 0; i < a->n; i++) {
		rc = xtel_rx_worker_start(a->workers[i], a->fatal_efd);
		if (rc == -EPERM || rc == -ENOSYS || rc == -EACCES)
			return uring_unavailable(rc);
		if (rc) {
			pr_err("worker %u: %s", i,
				xtel_rx_worker_error(a->workers[i]));
			return rc == -EINVAL || rc == -EOPNOTSUPP ? XTEL_EXIT_URING :
								    XTEL_EXIT_RUNTIME;
		}
	}
	if (a->axr.ax) {
		a->axr.fatal_efd = a->fatal_efd;
		rc = pthread_create(&a->axr.thread, NULL, ax_main, &a->axr);
		if (rc) {
			pr_err("AF_XDP thread: %s",
				strerror(rc));
			return XTEL_EXIT_RUNTIME;
		}
		a->axr.started = true;
	}
	return 0;
}

/* Stop every receive path; each drains what is queued for it first. */
static int stop_receivers(struct app *a)
{
	int status = 0, rc;

	for (unsigned int i = 0; i < a->n; i++)
		xtel_rx_worker_stop(a->workers[i]);
	if (a->axr.started)
		__atomic_store_n(&a->axr.stop, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < a->n; i++) {
		rc = xtel_rx_worker_join(a->workers[i]);
		if (rc) {
			pr_err("worker %u: %s", i,
				xtel_rx_worker_error(a->workers[i]));
			status = XTEL_EXIT_RUNTIME;
		}
	}
	if (a->axr.started) {
		pthread_join(a->axr.thread, NULL);
		a->axr.started = false;
		if (a->axr.err) {
			pr_err("AF_XDP receive: %s",
				strerror(-a->axr.err));
			status = XTEL_EXIT_RUNTIME;
		}
	}
	return status;
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
		uint64_t now = xtel_mono_ns();
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
		now = xtel_mono_ns();
		if (now >= deadline)
			return "duration";
		if (now >= next) {
			int rc = xtel_report_interval(a->rep, xtel_realtime_ns(),
						      (double)(now - t0) / 1e9);

			if (rc)
				pr_err("report: %s", strerror(-rc));
			next += ivl;
			if (next <= now)	/* we fell behind: skip, do not burst */
				next = now + ivl;
		}
	}
}

static void cleanup(struct app *a)
{
	if (a->axr.started) {
		__atomic_store_n(&a->axr.stop, 1, __ATOMIC_RELEASE);
		pthread_join(a->axr.thread, NULL);
	}
	for (unsigned int i = 0; a->workers && i < a->n; i++)
		xtel_rx_worker_free(a->workers[i]);
	xtel_afxdp_close(a->axr.ax);
	xtel_csv_writer_free(a->csv);
	/* Before the XDP close: freeing a DTLS server ends its sessions. */
	for (unsigned int i = 0; a->igs && i <= a->n; i++)
		xtel_ingest_fini(&a->igs[i]);
	/* Detach; the pinned counters stay for the next run and bpftool. */
	xtel_xdp_close(a->xdp);
	for (unsigned int i = 0; a->regs && i <= a->n; i++)
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

	xtel_log_setup("collector", XTEL_LOG_INFO);
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
			pr_err("--summary-json %s: %s",
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
	/*
	 * A shell starts background jobs with SIGINT ignored. Once blocked,
	 * the signal is queued for the signalfd even so, but one that arrives
	 * before this point would be discarded and the collector would keep
	 * running: restore the default so an early SIGINT still stops it.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
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
	rc = xtel_reporter_new(&a.cfg, a.regs, a.n_paths, sum_counters, &a,
			       &a.rep);
	if (rc) {
		status = XTEL_EXIT_RUNTIME;
		goto out;
	}
	if (a.xdp)
		xtel_reporter_set_xdp(a.rep, &(struct xtel_report_xdp){
			.line = xdp_line, .json = xdp_json, .arg = &a });
	info.started_ns = xtel_realtime_ns();
	t0 = xtel_mono_ns();
	status = start(&a);
	if (status)
		goto out;
	info.ring_mode = xtel_rx_worker_ring_mode(a.workers[0]);
	if (a.xdp)
		pr_err("XDP %s on %s, maps in %s%s%s%s",
			xtel_xdp_attach_mode(a.xdp), a.cfg.iface, a.cfg.pin_dir,
			a.axr.ax ? ", AF_XDP " : "",
			a.axr.ax ? xtel_afxdp_bind_mode(a.axr.ax) : "",
			a.axr.ax ? " (1 receive thread)" : "");
	pr_err("%s mode, %u worker%s on [%s]:%u, io_uring %s, "
		"rcvbuf %d bytes%s",
		a.cfg.mode == XTEL_MODE_DTLS ? "dtls" : "plain", a.n,
		a.n == 1 ? "" : "s", a.cfg.bind_str, a.cfg.port, info.ring_mode,
		a.rcvbuf_eff, a.rcvbuf_forced ? " (forced)" : "");

	info.stop_reason = run(&a, t0, &status);

	/* Stop receiving, let each path finish what the kernel handed over. */
	rc = stop_receivers(&a);
	if (rc)
		status = rc;
	info.stopped_ns = xtel_realtime_ns();
	info.elapsed_s = (double)(xtel_mono_ns() - t0) / 1e9;
	if (a.csv) {
		info.csv_error = xtel_csv_writer_stop(a.csv, &info.csv_rows);
		if (info.csv_error) {
			pr_err("--csv %s: write failed: %s",
				a.cfg.csv, strerror(-info.csv_error));
			status = XTEL_EXIT_RUNTIME;
		}
	}
	info.rcvbuf_effective = a.rcvbuf_eff;
	info.rcvbuf_forced = a.rcvbuf_forced;
	rc = xtel_report_final(a.rep, info.stopped_ns, &info, a.json);
	if (rc) {
		pr_err("final report: %s", strerror(-rc));
		status = XTEL_EXIT_RUNTIME;
	}
out:
	cleanup(&a);
	return status;
}
