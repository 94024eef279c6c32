/* SPDX-License-Identifier: MIT */
/*
 * DTLS 1.2 sessions over the datagram BIO (dgram_bio.c): certificate and key
 * loading with errors a user can act on, the shared SSL_CTX settings, and the
 * client used by the load generator. See dtls.h for the contract.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "dgram_bio.h"
#include "dtls.h"

/*
 * AEAD suites only (the record overhead is fixed and small), ECDSA because
 * certs/gen.sh issues P-256 keys. AES-GCM first: the collector's CPUs have
 * AES-NI; ChaCha20 stays acceptable for peers without it.
 */
static const char dtls_ciphers[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:"
	"ECDHE-ECDSA-AES256-GCM-SHA384";
static const char dtls_groups[] = "X25519:P-256";

enum { DEFAULT_OUT_SLOTS = 16 };

struct xtel_dtls_identity {
	X509 *cert;
	EVP_PKEY *key;
};

static void set_err(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* The reason string of OpenSSL's most recent error ("" when none). */
static const char *openssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r != NULL ? r : "";
}

/* Open a file for PEM parsing; a failure keeps open()'s errno. */
static int open_pem(const char *what, const char *path, FILE **out,
		    char *err, size_t err_len)
{
	FILE *f;

	if (path == NULL) {
		set_err(err, err_len, "no %s file given", what);
		return -EINVAL;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		int e = errno;

		set_err(err, err_len, "cannot read %s %s: %s", what, path,
			strerror(e));
		return -e;
	}
	*out = f;
	return 0;
}

int xtel_dtls_identity_load(struct xtel_dtls_identity **out,
			    const char *cert_file, const char *key_file,
			    char *err, size_t err_len)
{
	struct xtel_dtls_identity *id;
	FILE *f = NULL;
	int ret;

	id = calloc(1, sizeof(*id));
	if (id == NULL)
		return -ENOMEM;

	ret = open_pem("certificate", cert_file, &f, err, err_len);
	if (ret)
		goto fail;
	ERR_clear_error();
	id->cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (id->cert == NULL) {
		set_err(err, err_len, "%s: not a PEM certificate (%s)",
			cert_file, openssl_reason());
		ret = -EBADMSG;
		goto fail;
	}

	ret = open_pem("private key", key_file, &f, err, err_len);
	if (ret)
		goto fail;
	ERR_clear_error();
	id->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (id->key == NULL) {
		set_err(err, err_len, "%s: not a PEM private key (%s)",
			key_file, openssl_reason());
		ret = -EBADMSG;
		goto fail;
	}

	if (X509_check_private_key(id->cert, id->key) != 1) {
		set_err(err, err_len,
			"private key %s does not match certificate %s",
			key_file, cert_file);
		ret = -EKEYREJECTED;
		goto fail;
	}
	ERR_clear_error();
	*out = id;
	return 0;
fail:
	ERR_clear_error();
	xtel_dtls_identity_free(id);
	return ret;
}

void xtel_dtls_identity_free(struct xtel_dtls_identity *id)
{
	if (id == NULL)
		return;
	X509_free(id->cert);
	EVP_PKEY_free(id->key);
	free(id);
}

/* Load the CA bundle peers' certificates must chain to. */
static int ctx_load_ca(SSL_CTX *ctx, const char *ca_file, char *err,
		       size_t err_len)
{
	FILE *f;
	int ret;

	/* Probe readability first so a missing file gets its own errno. */
	ret = open_pem("CA", ca_file, &f, err, err_len);
	if (ret)
		return ret;
	fclose(f);
	ERR_clear_error();
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		set_err(err, err_len, "CA %s: no usable certificate (%s)",
			ca_file, openssl_reason());
		ERR_clear_error();
		return -ENOMSG;
	}
	return 0;
}

static int ctx_use_identity(SSL_CTX *ctx, const struct xtel_dtls_identity *id,
			    char *err, size_t err_len)
{
	if (SSL_CTX_use_certificate(ctx, id->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, id->key) != 1) {
		set_err(err, err_len, "certificate rejected (%s)",
			openssl_reason());
		ERR_clear_error();
		return -EBADMSG;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		set_err(err, err_len, "private key does not match certificate");
		ERR_clear_error();
		return -EKEYREJECTED;
	}
	return 0;
}

/* Settings shared by both ends. */
static int ctx_common(SSL_CTX *ctx, char *err, size_t err_len)
{
	if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, dtls_ciphers) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, dtls_groups) != 1) {
		set_err(err, err_len, "OpenSSL rejected the DTLS settings (%s)",
			openssl_reason());
		ERR_clear_error();
		return -EINVAL;
	}
	/*
	 * NO_QUERY_MTU: there is no socket to ask, and without it OpenSSL
	 * falls back to a tiny MTU. The MTU itself is set per SSL.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET |
			    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/*
	 * The write buffer is sized from max_send_fragment; records never
	 * exceed XTEL_DTLS_MAX_PLAINTEXT, so do not reserve 16 KiB for them.
	 */
	SSL_CTX_set_max_send_fragment(ctx, XTEL_DTLS_MAX_PLAINTEXT);
	SSL_CTX_set_verify_depth(ctx, 4);
	return 0;
}

/* Give an SSL its datagram BIO and MTU. */
static int ssl_attach_bio(SSL *ssl, BIO *bio)
{
	SSL_set_bio(ssl, bio, bio);
	SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
	if (SSL_set_mtu(ssl, XTEL_DTLS_MTU) != 1)
		return -EINVAL;
	return 0;
}

/*
 * Describe why the last SSL operation failed: OpenSSL's reason, plus the
 * certificate verification result when that was the cause.
 */
static void ssl_failure_text(SSL *ssl, char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	long vr = SSL_get_verify_result(ssl);

	if (reason == NULL)
		reason = e ? "unknown OpenSSL error" : "connection failed";
	if (vr != X509_V_OK &&
	    ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED)
		snprintf(buf, len, "%s (%s)", reason,
			 X509_verify_cert_error_string(vr));
	else
		snprintf(buf, len, "%s", reason);
	ERR_clear_error();
}

/* Absolute deadline of the SSL's retransmission timer, or UINT64_MAX. */
static uint64_t ssl_timer_deadline(SSL *ssl, uint64_t now)
{
	struct timeval tv;

	if (DTLSv1_get_timeout(ssl, &tv) != 1)
		return UINT64_MAX;
	return now + (uint64_t)tv.tv_sec * 1000000000ull +
	       (uint64_t)tv.tv_usec * 1000ull;
}

/* ------------------------------------------------------------------ */
/* Client                                                             */
/* ------------------------------------------------------------------ */

struct xtel_dtls_client_ctx {
	SSL_CTX *ctx;
};

struct xtel_dtls_client {
	SSL *ssl;
	BIO *bio;		/* owned by ssl */
	enum xtel_dtls_client_state state;
	uint64_t deadline;	/* retransmission timer, UINT64_MAX: none */
	uint64_t retransmits;
	uint64_t records_tx;
	char err[XTEL_DTLS_ERR_LEN];
};

int xtel_dtls_client_ctx_new(struct xtel_dtls_client_ctx **out,
			     const char *ca_file, const char *cert_file,
			     const char *key_file, char *err, size_t err_len)
{
	struct xtel_dtls_client_ctx *c;
	struct xtel_dtls_identity *id = NULL;
	int ret;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->ctx = SSL_CTX_new(DTLS_client_method());
	if (c->ctx == NULL) {
		set_err(err, err_len, "SSL_CTX_new failed (%s)",
			openssl_reason());
		ret = -ENOMEM;
		goto fail;
	}
	ret = ctx_common(c->ctx, err, err_len);
	if (ret)
		goto fail;
	ret = ctx_load_ca(c->ctx, ca_file, err, err_len);
	if (ret)
		goto fail;
	if (cert_file != NULL || key_file != NULL) {
		ret = xtel_dtls_identity_load(&id, cert_file, key_file, err,
					      err_len);
		if (ret)
			goto fail;
		ret = ctx_use_identity(c->ctx, id, err, err_len);
		xtel_dtls_identity_free(id);
		if (ret)
			goto fail;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
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
	ret = ssl_attach_bio(c->ssl, c->bio);
	if (ret)
		goto fail;
	if (id != NULL) {
		if (SSL_use_certificate(c->ssl, id->cert) != 1 ||
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
	ssl_failure_text(c->ssl, c->err, sizeof(c->err));
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
		return 0;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		c->deadline = ssl_timer_deadline(c->ssl, now);
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
	c->deadline = ssl_timer_deadline(c->ssl, now);
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
		ssl_failure_text(c->ssl, c->err, sizeof(c->err));
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
		ssl_failure_text(c->ssl, c->err, sizeof(c->err));
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
}
