/* SPDX-License-Identifier: MIT */
/*
 * The DTLS client the load generator runs for each simulated client (see
 * dtls/client.h): OpenSSL's handshake and record layer over a datagram BIO
 * whose outgoing datagrams wait in a ring the caller pops. It shares only
 * identity.c and ssl.c with the server, so a program using it does not
 * link the server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "dtls/client.h"
#include "dtls/dgram_bio.h"
#include "dtls/internal.h"

enum { DEFAULT_OUT_SLOTS = 16 };

struct xtel_dtls_client_ctx {
	SSL_CTX *ctx;
};

struct xtel_dtls_ticket {
	SSL_SESSION *sess;
};

struct xtel_dtls_client {
	SSL *ssl;
	BIO *bio;		/* owned by ssl */
	enum xtel_dtls_client_state state;
	uint64_t deadline;	/* retransmission timer, UINT64_MAX: none */
	uint64_t retransmits;
	uint64_t records_tx;
	uint64_t bad_record;
	char err[XTEL_DTLS_ERR_LEN];
};

int xtel_dtls_client_ctx_new(struct xtel_dtls_client_ctx **out,
			     const char *ca_file, const char *cert_file,
			     const char *key_file)
{
	struct xtel_dtls_client_ctx *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	ret = dtls_ctx_new(&c->ctx, DTLS_client_method());
	if (ret)
		goto fail;
	ret = dtls_ctx_load_ca(c->ctx, ca_file);
	if (ret)
		goto fail;
	if (cert_file != NULL || key_file != NULL) {
		ret = dtls_ctx_use_files(c->ctx, cert_file, key_file);
		if (ret)
			goto fail;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	/* Accept the server's session tickets (xtel_dtls_client_ticket). */
	SSL_CTX_clear_options(c->ctx, SSL_OP_NO_TICKET);
	*out = c;
	return 0;
fail:
	ERR_clear_error();
	xtel_dtls_client_ctx_free(c);
	return ret;
}

void xtel_dtls_client_ctx_free(struct xtel_dtls_client_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ctx);
	free(ctx);
}

int xtel_dtls_client_new(struct xtel_dtls_client **out,
			 struct xtel_dtls_client_ctx *ctx,
			 const struct xtel_dtls_identity *id,
			 const char *server_name, unsigned int out_slots)
{
	struct xtel_dtls_client *c;
	int ret = -ENOMEM;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->deadline = UINT64_MAX;
	c->ssl = SSL_new(ctx->ctx);
	if (c->ssl == NULL)
		goto fail;
	c->bio = xtel_dgram_bio_new(out_slots ? out_slots : DEFAULT_OUT_SLOTS);
	if (c->bio == NULL)
		goto fail;
	ret = dtls_ssl_attach_bio(c->ssl, c->bio);
	if (ret)
		goto fail;
	if (id != NULL) {
		if (SSL_use_certificate(c->ssl, id->cert) != 1 ||
		    SSL_set1_chain(c->ssl, id->chain) != 1 ||
		    SSL_use_PrivateKey(c->ssl, id->key) != 1) {
			ret = -EINVAL;
			goto fail;
		}
	}
	if (server_name != NULL) {
		X509_VERIFY_PARAM *p = SSL_get0_param(c->ssl);

		/* An IP literal is matched against SAN IPs, else a DNS name. */
		if (X509_VERIFY_PARAM_set1_ip_asc(p, server_name) != 1) {
			ERR_clear_error();
			if (X509_VERIFY_PARAM_set1_host(p, server_name, 0) != 1) {
				ret = -EINVAL;
				goto fail;
			}
		}
	}
	SSL_set_connect_state(c->ssl);
	*out = c;
	return 0;
fail:
	ERR_clear_error();
	if (c->ssl != NULL)
		SSL_free(c->ssl);	/* frees the BIO once attached */
	else if (c->bio != NULL)
		BIO_free(c->bio);
	free(c);
	return ret;
}

void xtel_dtls_client_free(struct xtel_dtls_client *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	free(c);
}

static int client_fail(struct xtel_dtls_client *c)
{
	dtls_ssl_failure_text(c->ssl, c->err, sizeof(c->err));
	c->state = XTEL_DTLS_CLIENT_FAILED;
	c->deadline = UINT64_MAX;
	return -EPROTO;
}

/* Drive the handshake one step; called after start and every input. */
static int client_handshake(struct xtel_dtls_client *c, uint64_t now)
{
	int r;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->state = XTEL_DTLS_CLIENT_ESTABLISHED;
		c->deadline = UINT64_MAX;
		/*
		 * The outgoing ring (out_slots x 1.5 KB; empty here, as the
		 * client's last flight went before the server's Finished) comes
		 * back at the next write; until then a load generator holding
		 * many idle sessions (100,000 DTLS clients) does not keep it.
		 * A ring holding a datagram stays. (SSL_free_buffers was tried
		 * too: it changed nothing measurable, bench_dtls_memory.)
		 */
		xtel_dgram_bio_trim(c->bio);
		return 0;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		c->deadline = dtls_ssl_timer_deadline(c->ssl, now);
		return 0;
	default:
		return client_fail(c);
	}
}

int xtel_dtls_client_start(struct xtel_dtls_client *c, uint64_t now)
{
	if (c->state != XTEL_DTLS_CLIENT_IDLE)
		return -EALREADY;
	c->state = XTEL_DTLS_CLIENT_HANDSHAKING;
	return client_handshake(c, now);
}

/* Read and discard records until none is left; watch for close_notify. */
static int client_drain(struct xtel_dtls_client *c)
{
	unsigned char buf[XTEL_DTLS_MAX_PLAINTEXT];
	int r;

	for (;;) {
		ERR_clear_error();
		r = SSL_read(c->ssl, buf, sizeof(buf));
		if (r > 0)
			continue;
		switch (SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			return 0;
		case SSL_ERROR_ZERO_RETURN:
			/* Answer the peer's close_notify with ours. */
			SSL_shutdown(c->ssl);
			ERR_clear_error();
			c->state = XTEL_DTLS_CLIENT_CLOSED;
			return -ECONNRESET;
		default:
			return client_fail(c);
		}
	}
}

int xtel_dtls_client_input(struct xtel_dtls_client *c, const void *dgram,
			   size_t len, uint64_t now)
{
	int ret = 0;

	if ((c->state == XTEL_DTLS_CLIENT_HANDSHAKING ||
	     c->state == XTEL_DTLS_CLIENT_ESTABLISHED) &&
	    dtls_has_short_record(dgram, len, dtls_ssl_record_overhead(c->ssl))) {
		c->bad_record++;
		return 0;
	}
	switch (c->state) {
	case XTEL_DTLS_CLIENT_HANDSHAKING:
		xtel_dgram_bio_set_input(c->bio, dgram, len);
		ret = client_handshake(c, now);
		/* The datagram may also carry records after the Finished. */
		if (ret == 0 && c->state == XTEL_DTLS_CLIENT_ESTABLISHED)
			ret = client_drain(c);
		break;
	case XTEL_DTLS_CLIENT_ESTABLISHED:
		xtel_dgram_bio_set_input(c->bio, dgram, len);
		ret = client_drain(c);
		break;
	default:
		/* Nothing listens before start or after the end. */
		return 0;
	}
	xtel_dgram_bio_clear_input(c->bio);
	return ret;
}

uint64_t xtel_dtls_client_next_timeout(const struct xtel_dtls_client *c)
{
	return c->state == XTEL_DTLS_CLIENT_HANDSHAKING ? c->deadline
							: UINT64_MAX;
}

int xtel_dtls_client_timers(struct xtel_dtls_client *c, uint64_t now)
{
	int r;

	if (c->state != XTEL_DTLS_CLIENT_HANDSHAKING || now < c->deadline)
		return 0;
	ERR_clear_error();
	r = DTLSv1_handle_timeout(c->ssl);
	if (r < 0) {
		client_fail(c);
		if (c->err[0] == '\0' || strcmp(c->err, "connection failed") == 0)
			snprintf(c->err, sizeof(c->err), "handshake timed out");
		return -ETIMEDOUT;
	}
	if (r > 0)
		c->retransmits++;
	/*
	 * r == 0: OpenSSL's own clock says the timer has not expired yet
	 * (its clock is gettimeofday, ours is the caller's); re-arm from
	 * what it reports.
	 */
	c->deadline = dtls_ssl_timer_deadline(c->ssl, now);
	return 0;
}

int xtel_dtls_client_write(struct xtel_dtls_client *c, const void *buf,
			   size_t len)
{
	int r;

	if (c->state != XTEL_DTLS_CLIENT_ESTABLISHED)
		return -ENOTCONN;
	if (len > XTEL_DTLS_MAX_PLAINTEXT)
		return -EMSGSIZE;
	if (xtel_dgram_bio_tx_space(c->bio) == 0)
		return -ENOBUFS;
	ERR_clear_error();
	r = SSL_write(c->ssl, buf, (int)len);
	if (r <= 0) {
		dtls_ssl_failure_text(c->ssl, c->err, sizeof(c->err));
		return -EPROTO;
	}
	c->records_tx++;
	return 0;
}

ssize_t xtel_dtls_client_pop(struct xtel_dtls_client *c, void *buf,
			     size_t cap)
{
	return xtel_dgram_bio_pop(c->bio, buf, cap);
}

const void *xtel_dtls_client_peek(struct xtel_dtls_client *c, size_t *len)
{
	return xtel_dgram_bio_peek(c->bio, len);
}

void xtel_dtls_client_drop(struct xtel_dtls_client *c)
{
	xtel_dgram_bio_drop(c->bio);
}

unsigned int xtel_dtls_client_queued(const struct xtel_dtls_client *c)
{
	return xtel_dgram_bio_tx_queued(c->bio);
}

int xtel_dtls_client_close(struct xtel_dtls_client *c)
{
	if (c->state != XTEL_DTLS_CLIENT_ESTABLISHED) {
		if (c->state == XTEL_DTLS_CLIENT_HANDSHAKING ||
		    c->state == XTEL_DTLS_CLIENT_IDLE)
			c->state = XTEL_DTLS_CLIENT_CLOSED;
		return 0;
	}
	ERR_clear_error();
	/* 0 means "sent ours, the peer's is still to come": that is enough. */
	if (SSL_shutdown(c->ssl) < 0) {
		dtls_ssl_failure_text(c->ssl, c->err, sizeof(c->err));
		c->state = XTEL_DTLS_CLIENT_CLOSED;
		return -EPROTO;
	}
	c->state = XTEL_DTLS_CLIENT_CLOSED;
	return 0;
}

enum xtel_dtls_client_state xtel_dtls_client_state(const struct xtel_dtls_client *c)
{
	return c->state;
}

const char *xtel_dtls_client_state_name(enum xtel_dtls_client_state s)
{
	switch (s) {
	case XTEL_DTLS_CLIENT_IDLE:
		return "idle";
	case XTEL_DTLS_CLIENT_HANDSHAKING:
		return "handshaking";
	case XTEL_DTLS_CLIENT_ESTABLISHED:
		return "established";
	case XTEL_DTLS_CLIENT_CLOSED:
		return "closed";
	case XTEL_DTLS_CLIENT_FAILED:
		return "failed";
	}
	return "unknown";
}

const char *xtel_dtls_client_error(const struct xtel_dtls_client *c)
{
	return c->err;
}

void xtel_dtls_client_get_stats(const struct xtel_dtls_client *c,
				struct xtel_dtls_client_stats *out)
{
	out->retransmits = c->retransmits;
	out->tx_dropped = xtel_dgram_bio_tx_dropped(c->bio);
	out->records_tx = c->records_tx;
	out->bad_record = c->bad_record;
}

struct xtel_dtls_ticket *xtel_dtls_client_ticket(const struct xtel_dtls_client *c)
{
	struct xtel_dtls_ticket *t;
	SSL_SESSION *sess;

	if (c->state != XTEL_DTLS_CLIENT_ESTABLISHED)
		return NULL;
	/*
	 * A copy: OpenSSL marks the SSL's own session not resumable when
	 * that SSL ends without a shutdown it likes (an error, a free).
	 */
	sess = SSL_get0_session(c->ssl);
	sess = sess != NULL && SSL_SESSION_has_ticket(sess) &&
	       SSL_SESSION_is_resumable(sess) ? SSL_SESSION_dup(sess) : NULL;
	if (sess == NULL) {
		ERR_clear_error();
		return NULL;
	}
	t = malloc(sizeof(*t));
	if (t == NULL) {
		SSL_SESSION_free(sess);
		return NULL;
	}
	t->sess = sess;
	return t;
}

void xtel_dtls_ticket_free(struct xtel_dtls_ticket *t)
{
	if (t == NULL)
		return;
	SSL_SESSION_free(t->sess);
	free(t);
}

int xtel_dtls_client_resume(struct xtel_dtls_client *c,
			    const struct xtel_dtls_ticket *t)
{
	if (c->state != XTEL_DTLS_CLIENT_IDLE || t == NULL ||
	    SSL_set_session(c->ssl, t->sess) != 1) {
		ERR_clear_error();
		return -EINVAL;
	}
	return 0;
}

bool xtel_dtls_client_resumed(const struct xtel_dtls_client *c)
{
	return c->ssl != NULL && SSL_session_reused(c->ssl);
}
