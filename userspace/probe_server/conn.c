// SPDX-License-Identifier: MIT
/*
 * The probe server's TLS context and one connection's life: handshake
 * (a client certificate from --ca is required), one request head, one
 * answer, close. The object's bytes come from a shared pattern buffer and
 * leave in writes sized to about 2 ms at the current throttle rate, each
 * reserved on the pacer first, so the rate follows the schedule closely
 * even when it changes mid-object. Every outcome is one counter.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/clock.h"
#include "common/log.h"
#include "probe_server/http.h"
#include "probe_server/server.h"

enum {
	PATTERN_PERIOD = 128 * 1024,	/* offsets into the pattern wrap here */
	WRITE_MAX = 64 * 1024,
	WRITE_MIN = 1024,
};

/* How late a pacer's writes may fall and still be made up: 1 s. */
#define PACER_SLACK_NS 1000000000ull

static void ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", strerror(errno));
	ERR_clear_error();
}

int xtel_ps_tls_init(struct xtel_ps_server *srv)
{
	static const int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };
	const struct xtel_ps_config *cfg = srv->cfg;
	STACK_OF(X509_NAME) *names;
	char why[256];
	SSL_CTX *ctx;

	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(ctx, versions[cfg->tls_min]);
	SSL_CTX_set_max_proto_version(ctx, versions[cfg->tls_max]);
	/* Every probe is a full handshake: the TLS time is part of what it measures. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
		ssl_reason(why, sizeof(why));
		pr_err("--cert %s: cannot load the certificate: %s", cfg->cert, why);
		goto bad;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_reason(why, sizeof(why));
		pr_err("--key %s: cannot load it or it does not match --cert: %s",
		       cfg->key, why);
		goto bad;
	}
	names = SSL_load_client_CA_file(cfg->ca);
	if (!names || SSL_CTX_load_verify_locations(ctx, cfg->ca, NULL) != 1) {
		ssl_reason(why, sizeof(why));
		pr_err("--ca %s: cannot load the CA certificate: %s", cfg->ca, why);
		if (names)
			sk_X509_NAME_pop_free(names, X509_NAME_free);
		goto bad;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   NULL);
	srv->ctx = ctx;
	return 0;
bad:
	SSL_CTX_free(ctx);
	return -EKEYREJECTED;
}

static double ms_between(uint64_t a, uint64_t b)
{
	return b > a ? (double)(b - a) / 1e6 : 0;
}

static int stopping(struct xtel_ps_server *srv)
{
	return atomic_load_explicit(&srv->stop, memory_order_relaxed);
}

/* Sleeps until the monotonic time at, waking every 100 ms to see stop. */
static void sleep_until(struct xtel_ps_server *srv, uint64_t at)
{
	for (;;) {
		uint64_t now = xtel_mono_ns(), until = at;
		struct timespec ts;

		if (now >= at || stopping(srv))
			return;
		if (until - now > 100000000ull)
			until = now + 100000000ull;
		ts.tv_sec = (time_t)(until / XTEL_NS_PER_SEC);
		ts.tv_nsec = (long)(until % XTEL_NS_PER_SEC);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static double current_rate(struct xtel_ps_server *srv)
{
	uint64_t now = xtel_realtime_ns();

	return xtel_probe_schedule_rate(&srv->cfg->sched,
					now > srv->epoch_ns ? now - srv->epoch_ns : 0);
}

static int write_all(SSL *ssl, const void *buf, size_t len)
{
	return SSL_write(ssl, buf, (int)len) == (int)len ? 0 : -EIO;
}

/* The pacer's send time for len bytes at mbps, per connection or shared. */
static uint64_t reserve(struct xtel_ps_server *srv, struct xtel_probe_pacer *own,
			uint64_t len, double mbps)
{
	uint64_t at;

	if (srv->cfg->scope == XTEL_PS_SCOPE_CONNECTION)
		return xtel_probe_pacer_reserve(own, xtel_mono_ns(), len, mbps);
	pthread_mutex_lock(&srv->pacer_lock);
	at = xtel_probe_pacer_reserve(&srv->pacer, xtel_mono_ns(), len, mbps);
	pthread_mutex_unlock(&srv->pacer_lock);
	return at;
}

/*
 * The object's body: limit bytes of size (limit < size: truncated on
 * purpose). Returns 0, or -EIO when the client went away.
 */
static int send_body(struct xtel_ps_server *srv, SSL *ssl, uint64_t limit)
{
	/*
	 * A download's own pacer starts now, with no credit; the shared one
	 * restarts when the first of its downloads begins. Credit up to
	 * PACER_SLACK_NS makes up for writes a busy machine woke late for
	 * (without it the lateness would be lost and the rate fall short).
	 */
	struct xtel_probe_pacer own = { .next_ns = xtel_mono_ns(),
					.burst_ns = PACER_SLACK_NS };
	uint64_t sent = 0;
	int ret = 0;

	if (srv->cfg->scope == XTEL_PS_SCOPE_TOTAL) {
		pthread_mutex_lock(&srv->pacer_lock);
		if (srv->pacer_users++ == 0)
			srv->pacer.next_ns = xtel_mono_ns();
		pthread_mutex_unlock(&srv->pacer_lock);
	}

	while (sent < limit) {
		double mbps = current_rate(srv);
		uint64_t chunk = WRITE_MAX;
		int w;

		if (stopping(srv)) {
			ret = -EIO;
			break;
		}
		if (mbps > 0) {
			/* About 2 ms of data: Mbit/s * 250 = bytes per 2 ms. */
			chunk = (uint64_t)(mbps * 250.0);
			chunk = chunk < WRITE_MIN ? WRITE_MIN :
				chunk > WRITE_MAX ? WRITE_MAX : chunk;
		}
		if (chunk > limit - sent)
			chunk = limit - sent;
		sleep_until(srv, reserve(srv, &own, chunk, mbps));
		w = SSL_write(ssl, srv->pattern + sent % PATTERN_PERIOD, (int)chunk);
		if (w <= 0) {
			ret = -EIO;
			break;
		}
		sent += (uint64_t)w;
		xtel_ps_count(srv, XTEL_PS_C_BYTES, (uint64_t)w);
	}
	if (srv->cfg->scope == XTEL_PS_SCOPE_TOTAL) {
		pthread_mutex_lock(&srv->pacer_lock);
		srv->pacer_users--;
		pthread_mutex_unlock(&srv->pacer_lock);
	}
	return ret;
}

static void peer_name(SSL *ssl, char *buf, size_t len)
{
	X509 *peer = SSL_get1_peer_certificate(ssl);

	snprintf(buf, len, "-");
	if (peer) {
		if (X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
					      NID_commonName, buf, (int)len) < 0)
			snprintf(buf, len, "-");
		X509_free(peer);
	}
}

/* Reads the request head; its length, or 0 when none came. */
static size_t read_head(SSL *ssl, char *buf, size_t cap)
{
	size_t have = 0, head;

	while (have < cap) {
		int r = SSL_read(ssl, buf + have, (int)(cap - have));

		if (r <= 0)
			return 0;
		have += (size_t)r;
		head = xtel_probe_http_head_len(buf, have);
		if (head)
			return head;
	}
	return 0;
}

static void answer(struct xtel_ps_server *srv, struct xtel_ps_conn *c, SSL *ssl,
		   uint64_t tls_ns, uint64_t req_ns, const struct xtel_probe_req *rq)
{
	const struct xtel_ps_config *cfg = srv->cfg;
	char hdr[1024], client[128];
	uint64_t limit, nth;
	double mbps;
	int n;

	if (rq->status != 200) {
		char body[160];
		int blen = snprintf(body, sizeof(body), "%s\n", rq->why);

		n = snprintf(hdr, sizeof(hdr),
			     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
			     "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			     rq->status, xtel_probe_http_reason(rq->status),
			     blen, body);
		xtel_ps_count(srv, XTEL_PS_C_BAD_REQUESTS, 1);
		write_all(ssl, hdr, (size_t)n);
		return;
	}
	peer_name(ssl, client, sizeof(client));
	mbps = current_rate(srv);
	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
		     "Content-Length: %llu\r\nCache-Control: no-store\r\n"
		     "Connection: close\r\n"
		     "Server-Timing: tls;dur=%.3f, request;dur=%.3f, ttfb;dur=%.3f\r\n"
		     "X-Probe-Throttle-Mbps: %g\r\nX-Probe-Client: %s\r\n\r\n",
		     (unsigned long long)rq->size, ms_between(c->accept_ns, tls_ns),
		     ms_between(tls_ns, req_ns),
		     ms_between(c->accept_ns, xtel_mono_ns()), mbps, client);
	if (write_all(ssl, hdr, (size_t)n)) {
		xtel_ps_count(srv, XTEL_PS_C_ABORTED, 1);
		return;
	}
	nth = atomic_fetch_add(&srv->responses, 1) + 1;
	limit = rq->size;
	if (cfg->truncate_every && nth % cfg->truncate_every == 0)
		limit = rq->size / 2;
	if (send_body(srv, ssl, limit)) {
		xtel_ps_count(srv, XTEL_PS_C_ABORTED, 1);
		return;
	}
	xtel_ps_count(srv, limit < rq->size ? XTEL_PS_C_TRUNCATED : XTEL_PS_C_OBJECTS, 1);
}

void *xtel_ps_conn_main(void *arg)
{
	struct xtel_ps_conn *c = arg;
	struct xtel_ps_server *srv = c->srv;
	char head[XTEL_PROBE_REQ_MAX];
	struct xtel_probe_req rq;
	uint64_t tls_ns, req_ns;
	size_t hlen;
	SSL *ssl;

	ssl = SSL_new(srv->ctx);
	if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
		xtel_ps_count(srv, XTEL_PS_C_TLS_FAILED, 1);
		goto out;
	}
	if (SSL_accept(ssl) != 1) {
		char why[256];

		ssl_reason(why, sizeof(why));
		xtel_log_ratelimited(XTEL_LOG_DEBUG, xtel_mono_ns(),
				     "TLS handshake failed: %s", why);
		xtel_ps_count(srv, XTEL_PS_C_TLS_FAILED, 1);
		goto out;
	}
	tls_ns = xtel_mono_ns();
	hlen = read_head(ssl, head, sizeof(head));
	req_ns = xtel_mono_ns();
	if (!hlen) {
		/* Closed, too slow (--io-timeout) or over 8 KiB: no answer. */
		xtel_ps_count(srv, XTEL_PS_C_BAD_REQUESTS, 1);
		goto out_shutdown;
	}
	xtel_ps_count(srv, XTEL_PS_C_REQUESTS, 1);
	xtel_probe_http_parse(head, hlen, srv->cfg->max_size, &rq);
	answer(srv, c, ssl, tls_ns, req_ns, &rq);
out_shutdown:
	SSL_shutdown(ssl);
out:
	ERR_clear_error();
	SSL_free(ssl);
	close(c->fd);
	c->fd = -1;
	atomic_store(&c->state, 2);
	return NULL;
}
