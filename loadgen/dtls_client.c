// SPDX-License-Identifier: MIT
/*
 * loadgen's DTLS adapter over the shared client API (userspace/dtls/client.h).
 *
 * Certificates are loaded and checked once, before any socket is opened, so
 * a missing client-<id>.crt or a key that does not match fails the run at
 * once with exit code 5. Handshakes run per sender thread, a window of
 * clients at a time, all concurrently: one poll() over the window's
 * sockets, the retransmission timers of every session, and a per-client
 * deadline (--handshake-timeout). After the handshake each telemetry
 * datagram is sealed into exactly one record, straight into the thread's
 * sendmmsg batch (xtel_dtls_client_seal: the client keeps only its keys,
 * and the thread one AEAD context), and goes out like a plain datagram.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "client.h"
#include "dtls/client.h"
#include "dtls_client.h"
#include "pacing.h"

enum {
	/*
	 * Handshakes in flight per thread. The collector keeps a bounded
	 * number of half-open sessions per worker (256 by default); staying
	 * well below it keeps our handshakes from being refused by our own
	 * concurrency while still overlapping many round trips.
	 */
	HS_WINDOW = 64,
	OUT_SLOTS = 32,		/* a handshake flight fits with room to spare */
};

struct xtel_lg_dtls {
	struct xtel_dtls_client_ctx *ctx;
	struct xtel_dtls_identity **ids;	/* one per client, by index */
	uint32_t n_ids;
	char server_name[INET6_ADDRSTRLEN];	/* the target's IP: SAN check */
};

static int cert_problem(const char *dir, const char *msg)
{
	pr_err("--certs %s: %s (expected ca.crt and client-<id>.crt/.key for every client id, as made by certs/gen.sh DIR N)",
		dir, msg);
	return -EKEYREJECTED;
}

/*
 * The DTLS library logs why a file cannot be loaded; loadgen says that in
 * its one line about --certs, so the message is caught while loading.
 */
static void catch_load_error(void *arg, enum xtel_log_level level,
			     const char *msg)
{
	(void)level;
	snprintf(arg, XTEL_DTLS_ERR_LEN, "%s", msg);
}

static int load_credentials(struct xtel_lg_dtls *d,
			    const struct xtel_lg_config *cfg)
{
	const char *dir = cfg->certs_dir;
	char ca[4096], crt[4096], key[4096];
	struct xtel_dtls_identity_loader *l;
	int ret;

	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	ret = xtel_dtls_client_ctx_new(&d->ctx, ca, NULL, NULL);
	if (ret)
		return ret;
	/* Tickets only for --resume: ~1 KB per client otherwise wasted. */
	xtel_dtls_client_ctx_set_keep_tickets(d->ctx, cfg->resume);
	xtel_dtls_client_ctx_set_openssl_records(d->ctx, cfg->openssl_records);
	/* One key decoder for every client: 15,000 keys in ~1/3 the time. */
	ret = xtel_dtls_identity_loader_new(&l);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < cfg->clients; i++) {
		uint32_t id = cfg->first_id + i;

		snprintf(crt, sizeof(crt), "%s/client-%u.crt", dir, id);
		snprintf(key, sizeof(key), "%s/client-%u.key", dir, id);
		ret = xtel_dtls_identity_load_with(l, &d->ids[i], crt, key);
		if (ret)
			break;
		d->n_ids++;
	}
	xtel_dtls_identity_loader_free(l);
	return ret;
}

int xtel_lg_dtls_init(struct xtel_lg_run *run)
{
	const struct xtel_lg_config *cfg = run->cfg;
	char why[XTEL_DTLS_ERR_LEN] = "";
	struct xtel_lg_dtls *d;
	const void *addr;
	int ret;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ids = calloc(cfg->clients, sizeof(*d->ids));
	if (!d->ids) {
		free(d);
		return -ENOMEM;
	}
	run->dtls = d;
	addr = cfg->target.ss_family == AF_INET ?
		(const void *)&((const struct sockaddr_in *)&cfg->target)->sin_addr :
		(const void *)&((const struct sockaddr_in6 *)&cfg->target)->sin6_addr;
	inet_ntop(cfg->target.ss_family, addr, d->server_name, sizeof(d->server_name));

	xtel_log_set_sink(catch_load_error, why);
	ret = load_credentials(d, cfg);
	xtel_log_set_sink(NULL, NULL);
	if (ret)
		return ret == -ENOMEM ? ret : cert_problem(cfg->certs_dir, why);
	return 0;
}

void xtel_lg_dtls_free(struct xtel_lg_run *run)
{
	struct xtel_lg_dtls *d = run->dtls;

	if (!d)
		return;
	for (uint32_t i = 0; i < d->n_ids; i++)
		xtel_dtls_identity_free(d->ids[i]);
	free(d->ids);
	xtel_dtls_client_ctx_free(d->ctx);
	free(d);
	run->dtls = NULL;
}

static int stopping(struct xtel_lg_run *run)
{
	return atomic_load_explicit(&run->stop, memory_order_relaxed);
}

static void unreachable(struct xtel_lg_run *run, struct xtel_lg_client *c,
			int err)
{
	xtel_lg_run_fail(run, XTEL_LG_EXIT_UNREACHABLE,
			 "target %s unreachable during the handshake of client %u: %s%s",
			 run->cfg->target_str, c->id, strerror(err),
			 err == ECONNREFUSED ?
			 " (ICMP port unreachable: is the collector listening there?)" : "");
}

/* Send everything the session queued (handshake flights, close_notify). */
static int flush_session(struct xtel_lg_run *run, struct xtel_lg_client *c)
{
	uint8_t buf[XTEL_DTLS_MTU + 100];
	ssize_t len;

	while ((len = xtel_dtls_client_pop(c->sess, buf, sizeof(buf))) > 0) {
		if (send(c->fd, buf, (size_t)len, 0) < 0) {
			int err = errno;

			if (err == ECONNREFUSED || err == EHOSTUNREACH ||
			    err == ENETUNREACH) {
				unreachable(run, c, err);
				return -err;
			}
			/* A lost flight is retransmitted by the timer. */
		}
	}
	return 0;
}

static void hs_fail(struct xtel_lg_thread *th, struct xtel_lg_client *c,
		    const char *why)
{
	struct xtel_dtls_client_stats st;

	snprintf(c->hs_error, sizeof(c->hs_error), "%s", why);
	c->state = XTEL_LG_CLIENT_FAILED;
	c->hs_end_ns = xtel_mono_ns();
	if (c->sess) {
		xtel_dtls_client_get_stats(c->sess, &st);
		c->hs_retransmits = (uint32_t)st.retransmits;
		xtel_dtls_client_free(c->sess);
		c->sess = NULL;
	}
	xtel_lg_ctr_add(&th->ctr.hs_failed, 1);
}

static void hs_done(struct xtel_lg_thread *th, struct xtel_lg_client *c,
		    uint64_t now)
{
	struct xtel_dtls_client_stats st;

	xtel_dtls_client_get_stats(c->sess, &st);
	c->hs_retransmits = (uint32_t)st.retransmits;
	c->hs_end_ns = now;
	c->state = XTEL_LG_CLIENT_READY;
	c->resumed = xtel_dtls_client_resumed(c->sess);
	c->openssl_layer = st.openssl;	/* a suite record.c lacks, or asked */
	if (th->reconnecting) {
		xtel_lg_ctr_add(&th->ctr.reconnects, 1);
		xtel_lg_ctr_add(&th->ctr.resumed, c->resumed);
	} else {
		xtel_lg_ctr_add(&th->ctr.hs_ok, 1);
	}
}

/* Begin client c's handshake. Returns 0, or -1 when it failed at once. */
static int hs_start(struct xtel_lg_thread *th, struct xtel_lg_client *c,
		    uint32_t index)
{
	struct xtel_lg_run *run = th->run;
	struct xtel_lg_dtls *d = run->dtls;
	struct xtel_dtls_client *sess = NULL;
	char why[96];
	int ret;

	c->hs_start_ns = xtel_mono_ns();
	ret = xtel_dtls_client_new(&sess, d->ctx, d->ids[index],
				   d->server_name, OUT_SLOTS);
	c->sess = sess;
	if (ret) {
		snprintf(why, sizeof(why), "cannot create a DTLS session: %s", strerror(-ret));
		hs_fail(th, c, why);
		return -1;
	}
	if (c->ticket != NULL) {
		/* Refused (it cannot be): a full handshake. */
		xtel_dtls_client_resume(c->sess, c->ticket);
		xtel_dtls_ticket_free(c->ticket);
		c->ticket = NULL;
	}
	if (xtel_dtls_client_start(c->sess, c->hs_start_ns) < 0) {
		hs_fail(th, c, xtel_dtls_client_error(c->sess));
		return -1;
	}
	flush_session(run, c);
	return 0;
}

/* Feed whatever arrived on c's socket. Returns -errno if unreachable. */
static int hs_input(struct xtel_lg_run *run, struct xtel_lg_client *c,
		    uint64_t now)
{
	uint8_t buf[2048];

	for (;;) {
		ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r < 0) {
			int err = errno;

			if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
				return 0;
			if (err == ECONNREFUSED || err == EHOSTUNREACH ||
			    err == ENETUNREACH) {
				unreachable(run, c, err);
				return -err;
			}
			return 0;
		}
		xtel_dtls_client_input(c->sess, buf, (size_t)r, now);
		if (xtel_dtls_client_state(c->sess) != XTEL_DTLS_CLIENT_HANDSHAKING)
			return 0;
	}
}

uint32_t xtel_lg_dtls_handshake_all(struct xtel_lg_thread *th)
{
	struct xtel_lg_run *run = th->run;
	const struct xtel_lg_config *cfg = run->cfg;
	struct xtel_lg_client *cl = run->clients + th->first_client;
	uint64_t limit_ns = (uint64_t)(cfg->handshake_timeout_s * 1e9);
	struct pollfd pfd[HS_WINDOW];
	uint32_t win[HS_WINDOW];	/* client index (within the thread) */
	uint32_t n = th->n_clients, next = 0, inflight = 0, failed = 0;
	char why[160];

	while ((next < n || inflight) && !stopping(run)) {

		uint64_t now, wake = UINT64_MAX;
		int timeout_ms;

		while (inflight < HS_WINDOW && next < n) {
			uint32_t i = next++;

			/* A reconnect round: only the clients that were up. */
			if (th->reconnecting && cl[i].state != XTEL_LG_CLIENT_NEW)
				continue;
			if (hs_start(th, &cl[i], th->first_client + i) == 0)
				win[inflight++] = i;
			else
				failed++;
		}
		for (uint32_t k = 0; k < inflight; k++) {
			struct xtel_lg_client *c = &cl[win[k]];
			uint64_t t = xtel_dtls_client_next_timeout(c->sess);

			pfd[k] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
			if (t < wake)
				wake = t;
			if (c->hs_start_ns + limit_ns < wake)
				wake = c->hs_start_ns + limit_ns;
		}
		now = xtel_mono_ns();
		timeout_ms = wake <= now ? 0 :
			     (int)((wake - now + 999999) / 1000000);
		if (timeout_ms > 100)
			timeout_ms = 100;	/* notice SIGINT */
		if (inflight && poll(pfd, inflight, timeout_ms) < 0 && errno != EINTR)
			break;
		now = xtel_mono_ns();
		/* Walk backwards so finished entries can be swapped out. */
		for (uint32_t k = inflight; k-- > 0;) {
			struct xtel_lg_client *c = &cl[win[k]];
			enum xtel_dtls_client_state st;

			if ((pfd[k].revents & (POLLIN | POLLERR)) &&
			    hs_input(run, c, now) < 0) {
				hs_fail(th, c, "target unreachable");
				failed++;
				win[k] = win[--inflight];
				continue;
			}
			if (xtel_dtls_client_state(c->sess) == XTEL_DTLS_CLIENT_HANDSHAKING &&
			    now >= xtel_dtls_client_next_timeout(c->sess))
				xtel_dtls_client_timers(c->sess, now);
			flush_session(run, c);
			st = xtel_dtls_client_state(c->sess);
			if (st == XTEL_DTLS_CLIENT_ESTABLISHED) {
				hs_done(th, c, now);
			} else if (st != XTEL_DTLS_CLIENT_HANDSHAKING) {
				snprintf(why, sizeof(why), "%s",
					 xtel_dtls_client_error(c->sess));
				hs_fail(th, c, why[0] ? why : "handshake failed");
				failed++;
			} else if (now >= c->hs_start_ns + limit_ns) {
				snprintf(why, sizeof(why),
					 "no handshake within --handshake-timeout %gs (no answer from the collector?)",
					 cfg->handshake_timeout_s);
				hs_fail(th, c, why);
				failed++;
			} else {
				continue;
			}
			win[k] = win[--inflight];
		}
	}
	return failed;
}

/*
 * --reconnect: every client that is up closes its session (close_notify)
 * and, all at once, handshakes again on its socket, cfg->reconnect
 * rounds; with --resume each offers the ticket of the session it closed.
 * The time of the rounds is th->reconnect_ns. Returns the failures.
 */
uint32_t xtel_lg_dtls_reconnect_all(struct xtel_lg_thread *th)
{
	struct xtel_lg_run *run = th->run;
	struct xtel_lg_client *cl = run->clients + th->first_client;
	uint32_t failed = 0;

	/* --reconnect-after: the test restarts the collector meanwhile. */
	if (run->cfg->reconnect_after != NULL) {
		uint64_t until = xtel_mono_ns() +
			(uint64_t)(run->cfg->handshake_timeout_s * 1e9);

		if (th->index == 0)
			fprintf(stderr, "loadgen: handshakes up, waiting for %s\n",
				run->cfg->reconnect_after);
		while (access(run->cfg->reconnect_after, F_OK) != 0 &&
		       xtel_mono_ns() < until && !stopping(run))
			usleep(10000);
	}
	for (uint32_t r = 0; r < run->cfg->reconnect && !stopping(run); r++) {
		uint64_t t0 = xtel_mono_ns();

		/* Markers for bench/xtelbench/storm.py, like main's "handshakes done". */
		if (th->index == 0)
			fprintf(stderr, "loadgen: reconnect round %u of %u\n", r + 1,
				run->cfg->reconnect);

		for (uint32_t i = 0; i < th->n_clients; i++) {
			struct xtel_lg_client *c = &cl[i];

			if (c->state != XTEL_LG_CLIENT_READY)
				continue;
			struct xtel_dtls_ticket *t = run->cfg->resume ?
				xtel_dtls_client_ticket(c->sess) : NULL;

			xtel_lg_dtls_close(c, true);	/* frees an unused ticket */
			c->ticket = t;
			c->state = XTEL_LG_CLIENT_NEW;
		}
		th->reconnecting = true;
		failed += xtel_lg_dtls_handshake_all(th);
		th->reconnecting = false;
		th->reconnect_ns += xtel_mono_ns() - t0;
	}
	if (th->index == 0)
		fprintf(stderr, "loadgen: reconnects done\n");
	return failed;
}

ssize_t xtel_lg_dtls_seal(struct xtel_lg_client *c, const void *plain,
			  size_t len, void *out, size_t cap)
{
	if (!c->sess)
		return -ENOTCONN;
	/* Straight into the batch slot: no outgoing ring per client. */
	return xtel_dtls_client_seal(c->sess, plain, len, out, cap);
}

void xtel_lg_dtls_close(struct xtel_lg_client *c, bool notify)
{
	if (!c->sess)
		return;
	if (notify &&
	    xtel_dtls_client_state(c->sess) == XTEL_DTLS_CLIENT_ESTABLISHED) {
		uint8_t buf[XTEL_DTLS_MTU + 100];
		ssize_t len;

		xtel_dtls_client_close(c->sess);
		/* close_notify: best effort, the collector also times out. */
		while ((len = xtel_dtls_client_pop(c->sess, buf, sizeof(buf))) > 0)
			send(c->fd, buf, (size_t)len, MSG_DONTWAIT);
	}
	xtel_dtls_client_free(c->sess);
	c->sess = NULL;
	xtel_dtls_ticket_free(c->ticket);
	c->ticket = NULL;
}
