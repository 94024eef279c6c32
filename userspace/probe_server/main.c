// SPDX-License-Identifier: MIT
/*
 * probe-server: HTTPS test objects for XTel's download probes.
 *
 * usage: probe-server --cert FILE --key FILE --ca FILE [--listen ADDR:PORT]
 *                     [--throttle SCHEDULE] ... (--help)
 *
 * main() owns the life cycle and the exit code: parse the options, load
 * the TLS material (exit 5), listen (exit 3), then accept until SIGINT,
 * SIGTERM or --duration, one thread per connection up to --max-conns. At
 * the end it stops accepting, wakes every running download (its socket is
 * shut down, so a blocked write returns), joins them all and prints and
 * writes the counters.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "probe_server/server.h"

const struct xtel_counter_desc xtel_ps_counter_desc[XTEL_PS_C_MAX] = {
#define X(id, nm, un, hp) XTEL_COUNTER_DESC(XTEL_PS_C_, id, nm, un, hp)
	XTEL_PS_COUNTER_TABLE(X)
#undef X
};

enum { PATTERN_BYTES = 192 * 1024 };	/* period 128 KiB + one 64 KiB write */

static atomic_int *g_stop;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(g_stop, 1);
}

static int open_listener(struct xtel_ps_server *srv)
{
	const struct xtel_ps_config *cfg = srv->cfg;
	int one = 1, fd;

	fd = socket(cfg->listen.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&cfg->listen, cfg->listen_len) ||
	    listen(fd, 1024)) {
		int err = errno;

		close(fd);
		return -err;
	}
	srv->listen_fd = fd;
	return 0;
}

static uint8_t *make_pattern(void)
{
	uint8_t *p = malloc(PATTERN_BYTES);
	uint64_t x = 0x9e3779b97f4a7c15ull;

	if (!p)
		return NULL;
	/* xorshift64: incompressible, so no layer can shrink the object. */
	for (size_t i = 0; i < PATTERN_BYTES; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 32);
	}
	return p;
}

/* Joins finished connection threads; returns a free slot or NULL. */
static struct xtel_ps_conn *reap(struct xtel_ps_server *srv)
{
	struct xtel_ps_conn *free_slot = NULL;

	for (uint32_t i = 0; i < srv->cfg->max_conns; i++) {
		struct xtel_ps_conn *c = &srv->conns[i];
		int st = atomic_load(&c->state);

		if (st == 2) {
			pthread_join(c->tid, NULL);
			atomic_store(&c->state, 0);
			st = 0;
		}
		if (st == 0 && !free_slot)
			free_slot = c;
	}
	return free_slot;
}

static int start_conn(struct xtel_ps_server *srv, int fd, pthread_attr_t *attr)
{
	const struct xtel_ps_config *cfg = srv->cfg;
	struct timeval tv = {
		.tv_sec = (time_t)cfg->io_timeout_s,
		.tv_usec = (suseconds_t)((cfg->io_timeout_s -
					  (double)(time_t)cfg->io_timeout_s) * 1e6),
	};
	struct xtel_ps_conn *c = reap(srv);
	int one = 1, ret;

	xtel_ps_count(srv, XTEL_PS_C_CONNECTIONS, 1);
	if (!c) {
		xtel_ps_count(srv, XTEL_PS_C_BUSY, 1);
		close(fd);
		return 0;
	}
	/* Paced writes are small: Nagle would hold each for the last ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->srv = srv;
	c->fd = fd;
	c->accept_ns = xtel_mono_ns();
	atomic_store(&c->state, 1);
	ret = pthread_create(&c->tid, attr, xtel_ps_conn_main, c);
	if (ret) {
		atomic_store(&c->state, 0);
		xtel_ps_count(srv, XTEL_PS_C_BUSY, 1);
		close(fd);
		xtel_log_ratelimited(XTEL_LOG_WARN, xtel_mono_ns(),
				     "cannot start a connection thread: %s", strerror(ret));
	}
	return 0;
}

static void serve(struct xtel_ps_server *srv)
{
	const struct xtel_ps_config *cfg = srv->cfg;
	uint64_t end = cfg->duration_s > 0 ?
		srv->start_mono_ns + (uint64_t)(cfg->duration_s * 1e9) : UINT64_MAX;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	while (!atomic_load(&srv->stop) && xtel_mono_ns() < end) {
		struct pollfd pfd = { .fd = srv->listen_fd, .events = POLLIN };
		int fd;

		if (poll(&pfd, 1, 100) <= 0) {
			reap(srv);
			continue;
		}
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		start_conn(srv, fd, &attr);
	}
	pthread_attr_destroy(&attr);
	close(srv->listen_fd);
	srv->listen_fd = -1;
	/* Wake the downloads still running, then wait for each. */
	atomic_store(&srv->stop, 1);
	for (uint32_t i = 0; i < cfg->max_conns; i++) {
		struct xtel_ps_conn *c = &srv->conns[i];

		if (atomic_load(&c->state) == 1 && c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR);
	}
	for (uint32_t i = 0; i < cfg->max_conns; i++)
		if (atomic_load(&srv->conns[i].state))
			pthread_join(srv->conns[i].tid, NULL);
}

static int write_summary(struct xtel_ps_server *srv, const char *path)
{
	json_t *o = json_object(), *c = json_object();
	int ret;

	if (!o || !c) {
		json_decref(o);
		json_decref(c);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < XTEL_PS_C_MAX; i++)
		xtel_json_set(c, xtel_ps_counter_desc[i].name,
			      xtel_json_u64(atomic_load(&srv->ctr[i])));
	xtel_json_set(o, "listen", xtel_json_text(srv->cfg->listen_str));
	xtel_json_set(o, "elapsed_s", xtel_json_fixed(
		(double)(xtel_mono_ns() - srv->start_mono_ns) / 1e9, 3));
	xtel_json_set(o, "counters", c);
	ret = xtel_json_write_report_file(path, o);
	json_decref(o);
	return ret;
}

int main(int argc, char **argv)
{
	static struct xtel_ps_server srv;
	struct xtel_ps_config cfg;
	struct sigaction sa = { .sa_handler = on_signal };
	int code = XTEL_PS_EXIT_OK, ret;

	xtel_log_setup("probe-server", XTEL_LOG_INFO);
	ret = xtel_ps_cli_parse(argc, argv, &cfg);
	if (ret)
		return ret > 0 ? XTEL_PS_EXIT_OK : XTEL_PS_EXIT_USAGE;
	srv.cfg = &cfg;
	srv.listen_fd = -1;
	g_stop = &srv.stop;
	srv.start_mono_ns = xtel_mono_ns();
	srv.epoch_ns = cfg.epoch_s > 0 ? (uint64_t)(cfg.epoch_s * 1e9) :
					 xtel_realtime_ns();
	srv.pacer.burst_ns = 1000000000ull;	/* conn.c: PACER_SLACK_NS */
	pthread_mutex_init(&srv.pacer_lock, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	srv.pattern = make_pattern();
	srv.conns = calloc(cfg.max_conns, sizeof(*srv.conns));
	if (!srv.pattern || !srv.conns) {
		pr_err("out of memory for %u connection slots", cfg.max_conns);
		code = XTEL_PS_EXIT_RUNTIME;
		goto out;
	}
	if (xtel_ps_tls_init(&srv)) {
		code = XTEL_PS_EXIT_CERTS;
		goto out;
	}
	ret = open_listener(&srv);
	if (ret) {
		pr_err("cannot listen on %s: %s%s", cfg.listen_str, strerror(-ret),
		       ret == -EADDRINUSE ? " (another server there? choose another --listen port)" :
		       ret == -EADDRNOTAVAIL ? " (no such address on this host or namespace)" : "");
		code = XTEL_PS_EXIT_LISTEN;
		goto out_tls;
	}
	pr_info("listening on %s (HTTPS, TLS %s..%s, client certificates from %s required)",
		cfg.listen_str, cfg.tls_min ? "1.3" : "1.2", cfg.tls_max ? "1.3" : "1.2",
		cfg.ca);
	serve(&srv);
	if (!cfg.quiet) {
		char line[512];
		size_t n = 0;

		for (unsigned int i = 0; i < XTEL_PS_C_MAX && n < sizeof(line); i++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s=%llu",
					      i ? " " : "", xtel_ps_counter_desc[i].name,
					      (unsigned long long)atomic_load(&srv.ctr[i]));
		pr_info("stopped: %s", line);
	}
	if (cfg.summary_json) {
		ret = write_summary(&srv, cfg.summary_json);
		if (ret) {
			pr_err("--summary-json: cannot write '%s': %s", cfg.summary_json,
			       strerror(-ret));
			code = XTEL_PS_EXIT_RUNTIME;
		}
	}
out_tls:
	SSL_CTX_free(srv.ctx);
out:
	free(srv.conns);
	free(srv.pattern);
	return code;
}
