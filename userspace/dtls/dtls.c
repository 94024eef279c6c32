/* SPDX-License-Identifier: MIT */
/*
 * DTLS 1.2 sessions over the datagram BIO (dgram_bio.c), in this order:
 * certificate and key loading with errors a user can act on, the SSL_CTX
 * settings both ends share, the client used by the load generator, and the
 * collector's server: stateless cookie front door, per-peer sessions in a
 * hash table, timers, and the built-in record layer that serves established
 * sessions once OpenSSL has finished the handshake. See dtls.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bpf/xtel_wire.h"
#include "common/clock.h"
#include "common/log.h"
#include "dtls/dgram_bio.h"
#include "dtls/dtls.h"

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

/* The reason string of OpenSSL's most recent error ("" when none). */
static const char *openssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r != NULL ? r : "";
}

/* Open a file for PEM parsing; a failure keeps open()'s errno. */
static int open_pem(const char *what, const char *path, FILE **out)
{
	FILE *f;

	if (path == NULL) {
		pr_err("no %s file given", what);
		return -EINVAL;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		int e = errno;

		pr_err("cannot read %s %s: %s", what, path, strerror(e));
		return -e;
	}
	*out = f;
	return 0;
}

int xtel_dtls_identity_load(struct xtel_dtls_identity **out,
			    const char *cert_file, const char *key_file)
{
	struct xtel_dtls_identity *id;
	FILE *f = NULL;
	int ret;

	id = calloc(1, sizeof(*id));
	if (id == NULL) {
		pr_err("out of memory");
		return -ENOMEM;
	}

	ret = open_pem("certificate", cert_file, &f);
	if (ret)
		goto fail;
	ERR_clear_error();
	id->cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (id->cert == NULL) {
		pr_err("%s: not a PEM certificate (%s)", cert_file,
		       openssl_reason());
		ret = -EBADMSG;
		goto fail;
	}

	ret = open_pem("private key", key_file, &f);
	if (ret)
		goto fail;
	ERR_clear_error();
	id->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (id->key == NULL) {
		pr_err("%s: not a PEM private key (%s)", key_file,
		       openssl_reason());
		ret = -EBADMSG;
		goto fail;
	}

	if (X509_check_private_key(id->cert, id->key) != 1) {
		pr_err("private key %s does not match certificate %s",
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
static int ctx_load_ca(SSL_CTX *ctx, const char *ca_file)
{
	FILE *f = NULL;
	int ret;

	/* Probe readability first so a missing file gets its own errno. */
	ret = open_pem("CA", ca_file, &f);
	if (ret)
		return ret;
	fclose(f);
	ERR_clear_error();
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		pr_err("CA %s: no usable certificate (%s)", ca_file,
		       openssl_reason());
		ERR_clear_error();
		return -ENOMSG;
	}
	return 0;
}

static int ctx_use_identity(SSL_CTX *ctx, const struct xtel_dtls_identity *id)
{
	if (SSL_CTX_use_certificate(ctx, id->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, id->key) != 1) {
		pr_err("certificate rejected (%s)", openssl_reason());
		ERR_clear_error();
		return -EBADMSG;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		pr_err("private key does not match certificate");
		ERR_clear_error();
		return -EKEYREJECTED;
	}
	return 0;
}

/* Settings shared by both ends. */
static int ctx_common(SSL_CTX *ctx)
{
	if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, dtls_ciphers) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, dtls_groups) != 1) {
		pr_err("OpenSSL rejected the DTLS settings (%s)",
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
	/*
	 * NO_AUTO_CHAIN: certs/gen.sh signs leaf certificates directly with
	 * the CA every peer already has; sending the CA too would only add a
	 * datagram to each flight.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
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
	/* Returns the MTU it set, 0 when below the DTLS minimum. */
	if (SSL_set_mtu(ssl, XTEL_DTLS_MTU) <= 0)
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
	return now + (uint64_t)tv.tv_sec * XTEL_NS_PER_SEC +
	       (uint64_t)tv.tv_usec * 1000ull;
}

/*
 * The AEAD parts of an encrypted record (RFC 5288, RFC 7905): every record
 * ends in a 16-byte tag; GCM records also start with an 8-byte explicit
 * nonce, ChaCha20-Poly1305 records have none.
 */
enum {
	AEAD_TAG = 16,
	GCM_EXPLICIT = 8,
};

/*
 * Bytes an encrypted record carries besides its plaintext: GCM's explicit
 * nonce and tag, or ChaCha20-Poly1305's tag. 0 while no cipher is known.
 */

static size_t ssl_record_overhead(const SSL *ssl)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	if (c == NULL)
		return 0;
	switch (SSL_CIPHER_get_cipher_nid(c)) {
	case NID_aes_128_gcm:
	case NID_aes_256_gcm:
		return GCM_EXPLICIT + AEAD_TAG;
	case NID_chacha20_poly1305:
		return AEAD_TAG;
	default:
		return 0;
	}
}

/*
 * Whether a datagram holds an encrypted (epoch > 0) record shorter than
 * the AEAD overhead. No such record can be authentic, but OpenSSL 3.0
 * answers one with a fatal internal error that ends the connection
 * (openssl/openssl#25290), so a single spoofed datagram could kill a
 * session or a load generator client. Callers drop the whole datagram
 * before OpenSSL sees it.
 */
static bool has_short_record(const unsigned char *d, size_t len,
			     size_t overhead)
{
	size_t off = 0;

	if (overhead == 0)
		return false;
	while (off + XTEL_DTLS_HDR_LEN <= len) {
		const unsigned char *r = d + off;
		size_t flen = (size_t)r[11] << 8 | r[12];

		if ((r[3] != 0 || r[4] != 0) && flen < overhead)
			return true;
		off += XTEL_DTLS_HDR_LEN + flen;
	}
	return false;
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
	uint64_t bad_record;
	char err[XTEL_DTLS_ERR_LEN];
};

int xtel_dtls_client_ctx_new(struct xtel_dtls_client_ctx **out,
			     const char *ca_file, const char *cert_file,
			     const char *key_file)
{
	struct xtel_dtls_client_ctx *c;
	struct xtel_dtls_identity *id = NULL;
	int ret;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	c->ctx = SSL_CTX_new(DTLS_client_method());
	if (c->ctx == NULL) {
		pr_err("SSL_CTX_new failed (%s)", openssl_reason());
		ret = -ENOMEM;
		goto fail;
	}
	ret = ctx_common(c->ctx);
	if (ret)
		goto fail;
	ret = ctx_load_ca(c->ctx, ca_file);
	if (ret)
		goto fail;
	if (cert_file != NULL || key_file != NULL) {
		ret = xtel_dtls_identity_load(&id, cert_file, key_file);
		if (ret)
			goto fail;
		ret = ctx_use_identity(c->ctx, id);
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

	if ((c->state == XTEL_DTLS_CLIENT_HANDSHAKING ||
	     c->state == XTEL_DTLS_CLIENT_ESTABLISHED) &&
	    has_short_record(dgram, len, ssl_record_overhead(c->ssl))) {
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
	out->bad_record = c->bad_record;
}

/* ------------------------------------------------------------------ */
/* Server                                                             */
/* ------------------------------------------------------------------ */

/*
 * How the server keeps state off the wire until a peer proves it owns its
 * address: a single reusable "listener" SSL runs DTLSv1_listen() on every
 * ClientHello from an unknown address. A ClientHello without a valid
 * cookie gets a HelloVerifyRequest straight back from the listener and
 * nothing is stored. With a valid cookie the listener SSL (which holds
 * that ClientHello) becomes the new session and a fresh listener is made.
 *
 * Cookies are HMAC-SHA256(secret, period number || address || port ||
 * ClientHello random) truncated to 20 bytes, prefixed by the low byte of the period number so
 * verification picks the current or previous secret with one HMAC. The
 * secret is replaced each cookie_period, so a cookie lives 1-2 periods.
 * The random is in the MAC because a client resends the same random with
 * the cookie (RFC 6347 4.2.1): a ClientHello seen on the wire then cannot
 * be replayed with a new random to start another handshake in the
 * client's name, and one with the same random is recognised as a copy.
 */

enum {
	DEFAULT_MAX_SESSIONS = 4096,
	DEFAULT_MAX_HALF_OPEN = 256,
	DEFAULT_LOG_BURST = 10,
	LOG_NAME_LEN = 32,
	COOKIE_MAC_LEN = 20,
	COOKIE_LEN = 1 + COOKIE_MAC_LEN,
	SECRET_LEN = 32,
	HS_CLIENT_HELLO = 1,
	REPLAY_WINDOW = 64,
};

#define DEFAULT_IDLE_TIMEOUT (60 * XTEL_NS_PER_SEC)
#define DEFAULT_HANDSHAKE_TIMEOUT (10 * XTEL_NS_PER_SEC)
#define DEFAULT_COOKIE_PERIOD (30 * XTEL_NS_PER_SEC)

const char *const xtel_dtls_server_stat_names[XTEL_DTLS_SERVER_NSTATS] = {
#define STAT_NAME(e, name, help) [XTEL_DTLS_STAT_##e] = #name,
	XTEL_DTLS_SERVER_STATS(STAT_NAME)
#undef STAT_NAME
};

const char *const xtel_dtls_server_stat_help[XTEL_DTLS_SERVER_NSTATS] = {
#define STAT_HELP(e, name, help) [XTEL_DTLS_STAT_##e] = help,
	XTEL_DTLS_SERVER_STATS(STAT_HELP)
#undef STAT_HELP
};

/* Callers read the struct as an array indexed by the enum. */
_Static_assert(sizeof(struct xtel_dtls_server_stats) ==
	       XTEL_DTLS_SERVER_NSTATS * sizeof(uint64_t),
	       "one uint64_t per XTEL_DTLS_SERVER_STATS entry");

/* Address and port in one fixed-size, zero-padded hash key. */
struct peer_key {
	uint16_t family;
	uint16_t port;		/* network byte order */
	uint32_t scope_id;
	unsigned char addr[16];
};

union peer_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

_Static_assert(sizeof(union peer_addr) == sizeof(struct sockaddr_in6),
	       "a session stores at most a sockaddr_in6");

enum session_state {
	SESSION_HANDSHAKE,
	SESSION_ESTABLISHED,
};

enum { FLIGHT_MAX = 4 };

/*
 * The record layer of an established session once OpenSSL is done with it
 * (see "Own record layer" below): AEAD keys of epoch 1 and our last
 * handshake flight, kept until the client proves it arrived.
 */
struct own_rl {
	EVP_CIPHER_CTX *rx;		/* client_write_key, decrypting */
	const EVP_CIPHER *cipher;
	bool chacha;			/* nonce = IV ^ seq, no explicit part */
	uint8_t key_len;
	uint8_t flight_n;
	unsigned char tx_key[32];	/* server_write_key */
	unsigned char tx_iv[12];	/* server_write_IV (4 bytes for GCM) */
	unsigned char rx_iv[12];	/* client_write_IV */
	uint64_t tx_seq;		/* next epoch-1 record number we send */
	uint16_t flight_len[FLIGHT_MAX];
	unsigned char *flight;		/* datagrams back to back */
};

struct session {
	struct session *hnext;		/* hash chain */
	struct session *prev, *next;	/* half-open list or idle LRU */
	struct xtel_dtls_server *srv;
	SSL *ssl;			/* NULL once rl took over */
	BIO *bio;			/* owned by ssl */
	struct own_rl *rl;
	struct peer_key key;
	union peer_addr peer;
	socklen_t peer_len;
	uint32_t hash;
	uint32_t client_id;
	uint8_t state;
	bool bad_cn;			/* certificate CN was not client-<id> */
	bool parked;			/* record buffers freed (session_park) */
	bool second_flight;		/* sent more than its ClientHello */
	bool win_valid;
	uint16_t win_epoch;
	uint64_t win_top;		/* highest delivered record number */
	uint64_t win_bits;		/* bit i: win_top - i was delivered */
	uint64_t started;		/* cookie verified */
	uint64_t last_rx;		/* last authentic record */
	uint64_t rtx_deadline;		/* handshake retransmission timer */
	unsigned char client_random[32];	/* of the handshake that made it */
	/*
	 * A client restarting on the address of an established session
	 * handshakes in a session of its own, `pending`, that is not in the
	 * hash table; `replaces` points back. Only when that handshake
	 * completes does it replace the old session (RFC 6347 4.2.8), so a
	 * replayed or spoofed ClientHello cannot end a working session.
	 */
	struct session *pending;
	struct session *replaces;
};

struct session_list {
	struct session *head, *tail;
	unsigned int n;
};

struct xtel_dtls_server {
	struct xtel_dtls_server_cfg cfg;
	SSL_CTX *ctx;

	/* The stateless front door (see above). */
	SSL *listener;
	BIO *lbio;
	BIO_ADDR *listen_addr;
	struct peer_key cur_key;	/* peer of the datagram being handled */
	unsigned char cur_random[32];	/* its ClientHello's random (cookies) */
	const struct sockaddr *cur_peer;
	const unsigned char *cur_dgram;	/* the datagram being handled */
	size_t cur_len;
	socklen_t cur_peer_len;
	uint64_t now;

	/* Cookie secrets: [0] current period, [1] previous. */
	EVP_MAC *mac;
	EVP_MAC_CTX *mac_ctx;
	unsigned char secret[2][SECRET_LEN];
	uint64_t period;		/* current period number */
	bool have_period;

	struct session **buckets;
	uint32_t nbuckets;		/* power of two */
	uint64_t hash_seed;
	struct session_list half_open;	/* oldest first */
	struct session_list lru;	/* established, least recently active first */
	unsigned int builtin;		/* sessions of lru with an own_rl */

	struct xtel_dtls_server_stats st;

	/*
	 * Failure messages come from the receive path: at most log_burst a
	 * second of the server's own clock (now), the rest counted.
	 */
	struct xtel_ratelimit log_rl;
	char log_name[LOG_NAME_LEN];	/* cfg.log_name, copied */

	/* Own record layer: algorithms fetched once. */
	EVP_KDF *prf;
	EVP_CIPHER *aes128gcm, *aes256gcm, *chacha;

	/* Datagrams of the handshake step being run (the final flight). */
	bool capturing;
	uint8_t cap_n;
	bool cap_overflow;
	uint16_t cap_len[FLIGHT_MAX];
	unsigned char cap[FLIGHT_MAX][XTEL_DGRAM_SLOT_SIZE];

	/* Plaintext of the record being delivered. */
	unsigned char plain[16384];
};

static int ex_session_idx = -1;
static int ex_peer_idx = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static void ex_init(void)
{
	ex_session_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	ex_peer_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static void list_append(struct session_list *l, struct session *s)
{
	s->next = NULL;
	s->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = s;
	else
		l->head = s;
	l->tail = s;
	l->n++;
}

static void list_remove(struct session_list *l, struct session *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		l->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		l->tail = s->prev;
	s->prev = s->next = NULL;
	l->n--;
}

/*
 * The key of a peer address. The caller's length may be larger than the
 * family's struct (a sockaddr_storage from recvmsg); everything from here
 * on uses the family's exact size (peer_addr_len), since that is all a
 * session stores. A length too small for the family is refused.
 */
static int peer_key_from(const struct sockaddr *sa, socklen_t len,
			 struct peer_key *k)
{
	memset(k, 0, sizeof(*k));
	if (len < sizeof(sa->sa_family))
		return -EAFNOSUPPORT;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		k->family = AF_INET;
		k->port = in->sin_port;
		memcpy(k->addr, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		k->family = AF_INET6;
		k->port = in6->sin6_port;
		k->scope_id = in6->sin6_scope_id;
		memcpy(k->addr, &in6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* Bytes of a sockaddr of the key's family (peer_key_from accepted it). */
static socklen_t peer_addr_len(const struct peer_key *k)
{
	return k->family == AF_INET ? sizeof(struct sockaddr_in)
				    : sizeof(struct sockaddr_in6);
}

/*
 * Keyed hash of a peer key: sessions only exist for addresses that
 * answered a cookie, but lookups happen for every datagram, so a per-server
 * random seed keeps chains short even for chosen source addresses.
 */
static uint32_t peer_hash(const struct xtel_dtls_server *srv,
			  const struct peer_key *k)
{
	uint64_t w[3], h = srv->hash_seed;

	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 3; i++) {
		h ^= w[i];
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

_Static_assert(sizeof(struct peer_key) == 24, "peer_key is hashed as 3 words");

static struct session *session_lookup(const struct xtel_dtls_server *srv,
				      const struct peer_key *k, uint32_t h)
{
	struct session *s;

	for (s = srv->buckets[h & (srv->nbuckets - 1)]; s != NULL; s = s->hnext)
		if (s->hash == h && memcmp(&s->key, k, sizeof(*k)) == 0)
			return s;
	return NULL;
}

static void format_peer(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(in6->sin6_port));
	}
}

/*
 * A warning from the receive path, rate limited by the server's own clock
 * and prefixed with cfg.log_name when one was given.
 */
static void srv_log(struct xtel_dtls_server *srv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void srv_log(struct xtel_dtls_server *srv, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (XTEL_LOG_WARN > xtel_log_max() ||
	    !xtel_ratelimit_ok(&srv->log_rl, srv->now))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (srv->log_name[0] != '\0')
		pr_warn("%s: %s", srv->log_name, msg);
	else
		pr_warn("%s", msg);
}

/* ---- cookies ---- */

/*
 * Move to the secret of period now / cookie_period. A secret is never a
 * constant: when RAND_bytes fails the current secret simply serves another
 * period (the period number is inside the MAC, so older cookies do not
 * come back to life), and before the first secret exists no cookie is
 * issued or accepted, which refuses new handshakes until RAND recovers.
 */
static void cookie_rotate(struct xtel_dtls_server *srv, uint64_t now)
{
	uint64_t p = now / srv->cfg.cookie_period;
	unsigned char fresh[SECRET_LEN];

	if (srv->have_period && p == srv->period)
		return;
	if (RAND_bytes(fresh, SECRET_LEN) != 1) {
		ERR_clear_error();
		srv->st.cookie_rand_failed++;
		if (!srv->have_period) {
			srv_log(srv, "dtls: RAND_bytes failed: no cookie secret yet, "
				"refusing new handshakes");
			return;
		}
		srv_log(srv, "dtls: RAND_bytes failed: keeping the previous "
			"cookie secret for another period");
		memcpy(srv->secret[1], srv->secret[0], SECRET_LEN);
		srv->period = p;
		return;
	}
	if (srv->have_period && p == srv->period + 1) {
		memcpy(srv->secret[1], srv->secret[0], SECRET_LEN);
	} else {
		/*
		 * First use or a gap: no earlier cookie can still be valid, and
		 * the previous slot's MAC includes a period no cookie carries
		 * now; a copy of the fresh secret is as good as another one.
		 */
		memcpy(srv->secret[1], fresh, SECRET_LEN);
	}
	memcpy(srv->secret[0], fresh, SECRET_LEN);
	OPENSSL_cleanse(fresh, sizeof(fresh));
	srv->period = p;
	srv->have_period = true;
}

static int cookie_mac(struct xtel_dtls_server *srv, const unsigned char *secret,
		      uint64_t period, const struct peer_key *k,
		      const unsigned char random[32],
		      unsigned char out[COOKIE_MAC_LEN])
{
	unsigned char full[EVP_MAX_MD_SIZE], pbytes[8];
	size_t outl = 0;

	for (int i = 0; i < 8; i++)
		pbytes[i] = (unsigned char)(period >> (56 - 8 * i));
	if (EVP_MAC_init(srv->mac_ctx, secret, SECRET_LEN, NULL) != 1 ||
	    EVP_MAC_update(srv->mac_ctx, pbytes, sizeof(pbytes)) != 1 ||
	    EVP_MAC_update(srv->mac_ctx, (const unsigned char *)k,
			   sizeof(*k)) != 1 ||
	    EVP_MAC_update(srv->mac_ctx, random, 32) != 1 ||
	    EVP_MAC_final(srv->mac_ctx, full, &outl, sizeof(full)) != 1 ||
	    outl < COOKIE_MAC_LEN) {
		ERR_clear_error();
		return -EIO;
	}
	memcpy(out, full, COOKIE_MAC_LEN);
	return 0;
}

static struct xtel_dtls_server *ssl_server(SSL *ssl)
{
	return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

static int cookie_generate_cb(SSL *ssl, unsigned char *cookie,
			      unsigned int *cookie_len)
{
	struct xtel_dtls_server *srv = ssl_server(ssl);
	const struct peer_key *k = SSL_get_ex_data(ssl, ex_peer_idx);

	if (srv == NULL || k == NULL || !srv->have_period)
		return 0;
	cookie[0] = (unsigned char)srv->period;
	if (cookie_mac(srv, srv->secret[0], srv->period, k, srv->cur_random,
		       cookie + 1))
		return 0;
	*cookie_len = COOKIE_LEN;
	srv->st.cookie_sent++;
	return 1;
}

static int cookie_verify_cb(SSL *ssl, const unsigned char *cookie,
			    unsigned int cookie_len)
{
	struct xtel_dtls_server *srv = ssl_server(ssl);
	const struct peer_key *k = SSL_get_ex_data(ssl, ex_peer_idx);
	unsigned char want[COOKIE_MAC_LEN];
	const unsigned char *secret;
	uint64_t period;

	if (srv == NULL || k == NULL || !srv->have_period)
		return 0;
	if (cookie_len != COOKIE_LEN)
		goto bad;
	if (cookie[0] == (unsigned char)srv->period) {
		secret = srv->secret[0];
		period = srv->period;
	} else if (cookie[0] == (unsigned char)(srv->period - 1)) {
		secret = srv->secret[1];
		period = srv->period - 1;
	} else {
		goto bad;
	}
	if (cookie_mac(srv, secret, period, k, srv->cur_random, want) ||
	    CRYPTO_memcmp(want, cookie + 1, COOKIE_MAC_LEN) != 0)
		goto bad;
	return 1;
bad:
	srv->st.cookie_bad++;
	return 0;
}

/* ---- client certificate ---- */

/*
 * The client id is the decimal number in the certificate's only CN,
 * "client-<id>", 1..2^32-1, no sign, no leading zero, nothing after it.
 * The CN is read as text through ASN1_STRING_to_UTF8, whatever its ASN.1
 * string type: the raw bytes of a BMPString or UniversalString that happen
 * to spell "client-1" are other characters and do not match.
 */
static int parse_client_cn(X509 *cert, uint32_t *id)
{
	X509_NAME *name = X509_get_subject_name(cert);
	static const char prefix[] = "client-";
	const ASN1_STRING *str;
	unsigned char *d = NULL;
	uint64_t v = 0;
	int idx, len, i, ret = -EINVAL;

	idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
		return -EINVAL;
	str = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	len = ASN1_STRING_to_UTF8(&d, str);
	if (len < 0) {
		ERR_clear_error();
		return -EINVAL;
	}
	if (len <= (int)sizeof(prefix) - 1 || len > (int)sizeof(prefix) - 1 + 10 ||
	    memcmp(d, prefix, sizeof(prefix) - 1) != 0)
		goto out;
	i = sizeof(prefix) - 1;
	if (d[i] == '0')
		goto out;
	for (; i < len; i++) {
		if (d[i] < '0' || d[i] > '9')
			goto out;
		v = v * 10 + (uint64_t)(d[i] - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		goto out;
	*id = (uint32_t)v;
	ret = 0;
out:
	OPENSSL_free(d);
	return ret;
}

static int verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs,
			SSL_get_ex_data_X509_STORE_CTX_idx());
	struct session *s = ssl ? SSL_get_ex_data(ssl, ex_session_idx) : NULL;
	uint32_t id;

	if (!ok || X509_STORE_CTX_get_error_depth(xs) != 0)
		return ok;
	if (parse_client_cn(X509_STORE_CTX_get_current_cert(xs), &id) != 0) {
		if (s != NULL)
			s->bad_cn = true;
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (s != NULL)
		s->client_id = id;
	return 1;
}

/* ---- output ---- */

static void listener_sink(void *arg, const void *buf, size_t len)
{
	struct xtel_dtls_server *srv = arg;

	srv->cfg.send(srv->cfg.send_arg, srv->cur_peer, srv->cur_peer_len,
		      buf, len);
}

static void session_sink(void *arg, const void *buf, size_t len)
{
	struct session *s = arg;
	struct xtel_dtls_server *srv = s->srv;

	if (srv->capturing) {
		if (srv->cap_n < FLIGHT_MAX && len <= XTEL_DGRAM_SLOT_SIZE) {
			memcpy(srv->cap[srv->cap_n], buf, len);
			srv->cap_len[srv->cap_n++] = (uint16_t)len;
		} else {
			srv->cap_overflow = true;
		}
	}
	srv->cfg.send(srv->cfg.send_arg, &s->peer.sa, s->peer_len, buf, len);
}

static int own_rl_take_over(struct xtel_dtls_server *srv, struct session *s);
static const unsigned char *hello_random(const unsigned char *d, size_t len);
static void own_rl_free(struct own_rl *rl);
static void own_send_close(struct xtel_dtls_server *srv, struct session *s);

/* ---- sessions ---- */

static int listener_new(struct xtel_dtls_server *srv)
{
	SSL *ssl = SSL_new(srv->ctx);
	BIO *bio;

	if (ssl == NULL)
		goto fail;
	bio = xtel_dgram_bio_new(0);
	if (bio == NULL) {
		SSL_free(ssl);
		goto fail;
	}
	xtel_dgram_bio_set_sink(bio, listener_sink, srv);
	if (ssl_attach_bio(ssl, bio)) {
		SSL_free(ssl);
		goto fail;
	}
	SSL_set_accept_state(ssl);
	SSL_set_ex_data(ssl, ex_peer_idx, &srv->cur_key);
	srv->listener = ssl;
	srv->lbio = bio;
	return 0;
fail:
	ERR_clear_error();
	srv->listener = NULL;
	srv->lbio = NULL;
	return -ENOMEM;
}

/*
 * Between datagrams a session gives its record buffers back (about 19 KiB:
 * OpenSSL 3.0 keeps them for DTLS even with SSL_MODE_RELEASE_BUFFERS).
 * OpenSSL re-creates them only on its read path; a retransmission, alert or
 * close_notify written first would use a NULL buffer, so every call into
 * OpenSSL for a session is preceded by session_unpark().
 */
static void session_park(struct session *s)
{
	if (s->ssl != NULL && !s->parked && SSL_free_buffers(s->ssl) == 1)
		s->parked = true;
}

static bool session_unpark(struct session *s)
{
	if (s->parked) {
		if (SSL_alloc_buffers(s->ssl) != 1) {
			ERR_clear_error();
			return false;
		}
		s->parked = false;
	}
	return true;
}

static struct session **pp_head(struct xtel_dtls_server *srv, uint32_t h)
{
	return &srv->buckets[h & (srv->nbuckets - 1)];
}

static void session_free(struct xtel_dtls_server *srv, struct session *s)
{
	struct session **pp = &srv->buckets[s->hash & (srv->nbuckets - 1)];

	/*
	 * Every way an established session ends passes here, so this is the
	 * one place that reports it down (and only sessions reported up).
	 */
	if (s->state == SESSION_ESTABLISHED && srv->cfg.on_session != NULL)
		srv->cfg.on_session(srv->cfg.session_arg, &s->peer.sa,
				    s->peer_len, s->client_id, false);

	if (s->replaces != NULL) {
		/* A pending handshake is not in the hash table. */
		s->replaces->pending = NULL;
	} else {
		while (*pp != s)
			pp = &(*pp)->hnext;
		*pp = s->hnext;
	}
	if (s->pending != NULL) {
		/* The restarted client's handshake carries on on its own. */
		s->pending->replaces = NULL;
		s->pending->hnext = *pp_head(srv, s->hash);
		*pp_head(srv, s->hash) = s->pending;
	}
	list_remove(s->state == SESSION_HANDSHAKE ? &srv->half_open : &srv->lru,
		    s);
	if (s->rl != NULL)
		srv->builtin--;
	SSL_free(s->ssl);
	own_rl_free(s->rl);
	free(s);
}

/* Queue our close_notify to the peer (best effort: it is one datagram). */
static void session_send_close(struct xtel_dtls_server *srv, struct session *s)
{
	if (s->rl != NULL) {
		own_send_close(srv, s);
		return;
	}
	if (!session_unpark(s))
		return;
	ERR_clear_error();
	if (SSL_shutdown(s->ssl) >= 0)
		srv->st.close_notify_tx++;
	ERR_clear_error();
}

static void handshake_failed(struct xtel_dtls_server *srv, struct session *s)
{
	char peer[INET6_ADDRSTRLEN + 8], why[XTEL_DTLS_ERR_LEN];

	if (s->bad_cn) {
		ERR_clear_error();
		snprintf(why, sizeof(why),
			 "client certificate CN is not client-<1..4294967295>");
	} else {
		ssl_failure_text(s->ssl, why, sizeof(why));
	}
	srv->st.handshake_failed++;
	format_peer(&s->peer.sa, peer, sizeof(peer));
	srv_log(srv, "dtls: handshake with %s failed: %s", peer, why);
	session_free(srv, s);
}

static void session_established(struct xtel_dtls_server *srv,
				struct session *s)
{
	if (s->replaces != NULL) {
		struct session *old = s->replaces;

		/* The restart proved itself: now the old session goes. */
		s->replaces = NULL;
		old->pending = NULL;
		srv->st.sessions_replaced++;
		session_free(srv, old);
		s->hnext = *pp_head(srv, s->hash);
		*pp_head(srv, s->hash) = s;
	}
	list_remove(&srv->half_open, s);
	s->state = SESSION_ESTABLISHED;
	s->rtx_deadline = UINT64_MAX;
	s->last_rx = srv->now;
	list_append(&srv->lru, s);
	srv->st.handshakes_ok++;
	SSL_get_client_random(s->ssl, s->client_random,
			      sizeof(s->client_random));
	/* Failure keeps OpenSSL's record layer: slower, bigger, correct. */
	if (!srv->cfg.openssl_records) {
		int r = own_rl_take_over(srv, s);

		if (r) {
			char peer[INET6_ADDRSTRLEN + 8];

			srv->st.record_layer_fallback++;
			format_peer(&s->peer.sa, peer, sizeof(peer));
			srv_log(srv, "dtls: session with %s (client %u) keeps "
				"OpenSSL's record layer: built-in take-over "
				"failed (%s)", peer, s->client_id, strerror(-r));
		}
	}
	/*
	 * The final flight was handed to cfg.send already; a sender that
	 * queues (the collector's io_uring path submits after this returns)
	 * lets whoever mirrors sessions know the peer before its first record.
	 */
	if (srv->cfg.on_session != NULL)
		srv->cfg.on_session(srv->cfg.session_arg, &s->peer.sa,
				    s->peer_len, s->client_id, true);
}

/*
 * Run the handshake on s after input or creation. Returns 0 while it is
 * still running, 1 when established, -1 when s failed and was freed.
 */
static int session_handshake(struct xtel_dtls_server *srv, struct session *s)
{
	int r;

	if (!session_unpark(s)) {
		handshake_failed(srv, s);
		return -1;
	}
	ERR_clear_error();
	srv->capturing = true;
	srv->cap_n = 0;
	srv->cap_overflow = false;
	r = SSL_do_handshake(s->ssl);
	srv->capturing = false;
	if (r == 1) {
		session_established(srv, s);
		return 1;
	}
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		s->rtx_deadline = ssl_timer_deadline(s->ssl, srv->now);
		return 0;
	default:
		handshake_failed(srv, s);
		return -1;
	}
}

/* A datagram for a session whose handshake runs. */
static void handshake_input(struct xtel_dtls_server *srv, struct session *s,
			    const void *dgram, size_t len)
{
	if (has_short_record(dgram, len, ssl_record_overhead(s->ssl))) {
		srv->st.bad_record++;
		return;
	}
	if (hello_random(dgram, len) == NULL)
		s->second_flight = true;
	xtel_dgram_bio_set_input(s->bio, dgram, len);
	if (session_handshake(srv, s) < 0)
		return;		/* s is gone, its BIO with it */
	if (s->bio != NULL) {
		xtel_dgram_bio_clear_input(s->bio);
		/* Half-open floods should not pin record buffers. */
		session_park(s);
	}
}

/* A datagram made of exactly one record: its header fields. */
struct record_info {
	bool single;
	uint8_t type;
	uint16_t epoch;
	uint64_t seq;
};

static void record_info(const unsigned char *d, size_t len,
			struct record_info *ri)
{
	size_t rlen;

	memset(ri, 0, sizeof(*ri));
	if (len < XTEL_DTLS_HDR_LEN)
		return;
	rlen = (size_t)d[11] << 8 | d[12];
	ri->single = XTEL_DTLS_HDR_LEN + rlen == len;
	ri->type = d[0];
	ri->epoch = (uint16_t)(d[3] << 8 | d[4]);
	for (int i = 5; i < 11; i++)
		ri->seq = ri->seq << 8 | d[i];
}

static bool window_seen(const struct session *s, const struct record_info *ri)
{
	uint64_t diff;

	if (!s->win_valid || ri->epoch != s->win_epoch || ri->seq > s->win_top)
		return false;
	diff = s->win_top - ri->seq;
	return diff >= REPLAY_WINDOW || (s->win_bits >> diff) & 1;
}

static void window_mark(struct session *s, const struct record_info *ri)
{
	uint64_t shift;

	if (!s->win_valid || ri->epoch != s->win_epoch) {
		s->win_valid = true;
		s->win_epoch = ri->epoch;
		s->win_top = ri->seq;
		s->win_bits = 1;
		return;
	}
	if (ri->seq > s->win_top) {
		shift = ri->seq - s->win_top;
		s->win_bits = shift >= REPLAY_WINDOW ? 1 : s->win_bits << shift | 1;
		s->win_top = ri->seq;
	} else {
		s->win_bits |= 1ull << (s->win_top - ri->seq);
	}
}

static void deliver(struct xtel_dtls_server *srv, struct session *s,
		    size_t len)
{
	if (!srv->cfg.no_client_id_check && len >= XTEL_WIRE_HDR_LEN) {
		const unsigned char *p = srv->plain +
			offsetof(struct xtel_wire_hdr, client_id);
		uint32_t hdr_id = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
				  (uint32_t)p[2] << 8 | p[3];

		if (hdr_id != s->client_id) {
			srv->st.client_id_mismatch++;
			return;
		}
	}
	srv->st.records_rx++;
	if (srv->cfg.on_data)
		srv->cfg.on_data(srv->cfg.data_arg, s->client_id, &s->peer.sa,
				 s->peer_len, srv->plain, len);
}

/* An established session's datagram: decrypt and deliver its records. */
static void session_records(struct xtel_dtls_server *srv, struct session *s,
			    const unsigned char *d, size_t len,
			    const struct record_info *ri)
{
	bool app = ri->single && ri->type == XTEL_DTLS_CT_APPDATA;
	bool delivered = false;
	int r;

	if (has_short_record(d, len, ssl_record_overhead(s->ssl))) {
		srv->st.bad_record++;
		xtel_dgram_bio_clear_input(s->bio);
		return;
	}
	/*
	 * OpenSSL drops replays silently; checking our copy of the window
	 * first makes them countable and skips the decryption.
	 */
	if (app && window_seen(s, ri)) {
		srv->st.replay++;
		xtel_dgram_bio_clear_input(s->bio);
		return;
	}
	if (!session_unpark(s)) {
		xtel_dgram_bio_clear_input(s->bio);
		srv->st.bad_record++;
		return;
	}
	for (;;) {
		ERR_clear_error();
		r = SSL_read(s->ssl, srv->plain, sizeof(srv->plain));
		if (r > 0) {
			delivered = true;
			if (app)
				window_mark(s, ri);
			deliver(srv, s, (size_t)r);
			continue;
		}
		switch (SSL_get_error(s->ssl, r)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			goto done;
		case SSL_ERROR_ZERO_RETURN:
			srv->st.close_notify_rx++;
			session_send_close(srv, s);
			session_free(srv, s);
			return;
		default: {
			char peer[INET6_ADDRSTRLEN + 8], why[XTEL_DTLS_ERR_LEN];

			ssl_failure_text(s->ssl, why, sizeof(why));
			srv->st.session_errors++;
			format_peer(&s->peer.sa, peer, sizeof(peer));
			srv_log(srv, "dtls: session with %s (client %u) ended: %s",
				peer, s->client_id, why);
			session_free(srv, s);
			return;
		}
		}
	}
done:
	xtel_dgram_bio_clear_input(s->bio);
	if (app && !delivered)
		srv->st.bad_record++;
	if (delivered) {
		/* Only authentic records keep a session alive. */
		s->last_rx = srv->now;
		list_remove(&srv->lru, s);
		list_append(&srv->lru, s);
	}
	session_park(s);
}

/* ---- Own record layer ---- */

/*
 * Why: an established OpenSSL 3.0 DTLS connection keeps about 41 KiB even
 * with its record buffers released (the 22 KiB handshake buffer stays for
 * retransmitted Finished messages, plus the SSL, session and peer
 * certificate). A collector holding 100k clients cannot afford that. Once
 * the handshake is complete the only things left to do are: decrypt
 * AEAD records of epoch 1, detect replays, answer a retransmitted client
 * Finished with our last flight, and send or receive close_notify. So the
 * epoch-1 keys are derived from the session's master secret with the
 * public TLS 1.2 PRF (RFC 5246 6.3), the final flight is kept as bytes,
 * and the SSL is freed. Record formats: AES-GCM per RFC 5288 (4-byte
 * implicit salt + 8-byte explicit nonce), ChaCha20-Poly1305 per RFC 7905
 * (IV xor epoch||sequence); additional data per RFC 6347 4.1.2.1.
 */

enum {
	ALERT_FATAL = 2,
	ALERT_CLOSE_NOTIFY = 0,
};

static void own_rl_free(struct own_rl *rl)
{
	if (rl == NULL)
		return;
	EVP_CIPHER_CTX_free(rl->rx);
	free(rl->flight);
	OPENSSL_cleanse(rl, sizeof(*rl));
	free(rl);
}

static uint64_t rec_seq(const unsigned char *r)
{
	uint64_t v = 0;

	for (int i = 5; i < 11; i++)
		v = v << 8 | r[i];
	return v;
}

/* Highest epoch-1 record number among the datagrams in the capture. */
static int captured_tx_seq(const struct xtel_dtls_server *srv, uint64_t *next)
{
	bool found = false;

	for (unsigned int i = 0; i < srv->cap_n; i++) {
		const unsigned char *d = srv->cap[i];
		size_t off = 0, len = srv->cap_len[i];

		while (off + XTEL_DTLS_HDR_LEN <= len) {
			const unsigned char *r = d + off;
			size_t flen = (size_t)r[11] << 8 | r[12];

			if (r[3] == 0 && r[4] == 1 &&
			    (!found || rec_seq(r) + 1 > *next)) {
				*next = rec_seq(r) + 1;
				found = true;
			}
			off += XTEL_DTLS_HDR_LEN + flen;
		}
	}
	return found ? 0 : -ENOENT;
}

/*
 * Mark the client's epoch-1 records of the datagram that completed the
 * handshake (its Finished) as seen: a copy replayed later is then a
 * replay, not a request to resend our final flight. A Finished the client
 * repeats itself carries a new record number and still gets the flight.
 */
static void seed_window(struct xtel_dtls_server *srv, struct session *s)
{
	const unsigned char *d = srv->cur_dgram;
	size_t off = 0, len = srv->cur_len;

	while (d != NULL && off + XTEL_DTLS_HDR_LEN <= len) {
		const unsigned char *r = d + off;
		size_t flen = (size_t)r[11] << 8 | r[12];
		struct record_info ri = {
			.type = r[0],
			.epoch = (uint16_t)(r[3] << 8 | r[4]),
			.seq = rec_seq(r),
		};

		if (off + XTEL_DTLS_HDR_LEN + flen > len)
			break;
		if (ri.epoch == 1 && ri.type == XTEL_DTLS_CT_HANDSHAKE)
			window_mark(s, &ri);
		off += XTEL_DTLS_HDR_LEN + flen;
	}
}

static int own_rl_take_over(struct xtel_dtls_server *srv, struct session *s)
{
	char prf_digest[32];
	const SSL_CIPHER *c = SSL_get_current_cipher(s->ssl);
	unsigned char ms[SSL_MAX_MASTER_KEY_LENGTH];
	unsigned char seed[13 + 2 * SSL3_RANDOM_SIZE];
	unsigned char kb[2 * 32 + 2 * 12];
	size_t ms_len, kb_len, iv_len;
	const EVP_MD *md;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[4];
	struct own_rl *rl;
	int ret = -ENOTSUP;

	if (c == NULL || srv->cap_overflow)
		return -ENOTSUP;
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return -ENOMEM;
	switch (SSL_CIPHER_get_cipher_nid(c)) {
	case NID_aes_128_gcm:
		rl->cipher = srv->aes128gcm;
		rl->key_len = 16;
		iv_len = 4;
		break;
	case NID_aes_256_gcm:
		rl->cipher = srv->aes256gcm;
		rl->key_len = 32;
		iv_len = 4;
		break;
	case NID_chacha20_poly1305:
		rl->cipher = srv->chacha;
		rl->key_len = 32;
		iv_len = 12;
		rl->chacha = true;
		break;
	default:
		goto out;
	}
	md = SSL_CIPHER_get_handshake_digest(c);
	if (rl->cipher == NULL || md == NULL || srv->prf == NULL ||
	    captured_tx_seq(srv, &rl->tx_seq) != 0)
		goto out;
	/*
	 * Without the extended master secret (RFC 7627) a master secret can
	 * be shared with another connection (triple handshake); the keys
	 * derived here from it alone would then be too. OpenSSL's own layer
	 * is as exposed, but it is not this file's construction.
	 */
	if (SSL_get_extms_support(s->ssl) != 1)
		goto out;

	/* key_block = PRF(master, "key expansion", server_random + client_random) */
	ms_len = SSL_SESSION_get_master_key(SSL_get_session(s->ssl), ms,
					    sizeof(ms));
	memcpy(seed, "key expansion", 13);
	if (ms_len == 0 ||
	    SSL_get_server_random(s->ssl, seed + 13, SSL3_RANDOM_SIZE) !=
		    SSL3_RANDOM_SIZE ||
	    SSL_get_client_random(s->ssl, seed + 13 + SSL3_RANDOM_SIZE,
				  SSL3_RANDOM_SIZE) != SSL3_RANDOM_SIZE)
		goto out;
	snprintf(prf_digest, sizeof(prf_digest), "%s", EVP_MD_get0_name(md));
	kb_len = 2 * (size_t)rl->key_len + 2 * iv_len;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     prf_digest, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
						      ms, ms_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
						      seed, sizeof(seed));
	params[3] = OSSL_PARAM_construct_end();
	kctx = EVP_KDF_CTX_new(srv->prf);
	if (kctx == NULL || EVP_KDF_derive(kctx, kb, kb_len, params) != 1)
		goto out;

	/* client_write_key, server_write_key, client_write_IV, server_write_IV */
	memcpy(rl->tx_key, kb + rl->key_len, rl->key_len);
	memcpy(rl->rx_iv, kb + 2 * rl->key_len, iv_len);
	memcpy(rl->tx_iv, kb + 2 * rl->key_len + iv_len, iv_len);
	rl->rx = EVP_CIPHER_CTX_new();
	if (rl->rx == NULL ||
	    EVP_DecryptInit_ex(rl->rx, rl->cipher, NULL, kb, NULL) != 1)
		goto out;

	if (srv->cap_n > 0) {
		size_t total = 0;

		for (unsigned int i = 0; i < srv->cap_n; i++)
			total += srv->cap_len[i];
		rl->flight = malloc(total);
		if (rl->flight == NULL)
			goto out;
		total = 0;
		for (unsigned int i = 0; i < srv->cap_n; i++) {
			memcpy(rl->flight + total, srv->cap[i], srv->cap_len[i]);
			rl->flight_len[i] = srv->cap_len[i];
			total += srv->cap_len[i];
		}
		rl->flight_n = srv->cap_n;
	}

	SSL_free(s->ssl);
	s->ssl = NULL;
	s->bio = NULL;
	s->parked = false;
	s->rl = rl;
	srv->builtin++;
	seed_window(srv, s);
	rl = NULL;
	ret = 0;
out:
	EVP_KDF_CTX_free(kctx);
	OPENSSL_cleanse(ms, sizeof(ms));
	OPENSSL_cleanse(kb, sizeof(kb));
	own_rl_free(rl);
	ERR_clear_error();
	return ret;
}

/* The 12-byte AEAD nonce and 13-byte additional data of record r. */
static void own_nonce_aad(const struct own_rl *rl, const unsigned char *iv,
			  const unsigned char *r, const unsigned char *explicit,
			  size_t pt_len, unsigned char nonce[12],
			  unsigned char aad[13])
{
	if (rl->chacha) {
		memcpy(nonce, iv, 12);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= r[3 + i];
	} else {
		memcpy(nonce, iv, 4);
		memcpy(nonce + 4, explicit, GCM_EXPLICIT);
	}
	memcpy(aad, r + 3, 8);		/* epoch || sequence number */
	aad[8] = r[0];			/* type */
	aad[9] = r[1];			/* version */
	aad[10] = r[2];
	aad[11] = (unsigned char)(pt_len >> 8);
	aad[12] = (unsigned char)pt_len;
}

/* Authenticate and decrypt record r (header included) into out. */
static int own_open(struct own_rl *rl, const unsigned char *r, size_t flen,
		    unsigned char *out, size_t cap)
{
	const unsigned char *frag = r + XTEL_DTLS_HDR_LEN, *ct = frag;
	unsigned char nonce[12], aad[13], tag[AEAD_TAG];
	size_t overhead = AEAD_TAG + (rl->chacha ? 0 : GCM_EXPLICIT);
	size_t ct_len;
	int n, m;

	if (flen < overhead)
		return -1;
	ct_len = flen - overhead;
	if (ct_len > cap)
		return -1;
	if (!rl->chacha)
		ct += GCM_EXPLICIT;
	own_nonce_aad(rl, rl->rx_iv, r, frag, ct_len, nonce, aad);
	memcpy(tag, ct + ct_len, AEAD_TAG);
	if (EVP_DecryptInit_ex(rl->rx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_DecryptUpdate(rl->rx, NULL, &n, aad, sizeof(aad)) != 1 ||
	    EVP_DecryptUpdate(rl->rx, out, &n, ct, (int)ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(rl->rx, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG, tag) != 1 ||
	    EVP_DecryptFinal_ex(rl->rx, out + n, &m) != 1) {
		ERR_clear_error();
		return -1;
	}
	return (int)ct_len;
}

/* Encrypt one epoch-1 record of our own (an alert) into out. */
static int own_seal(struct own_rl *rl, uint8_t type, const unsigned char *pt,
		    size_t pt_len, unsigned char *out, size_t cap)
{
	size_t explicit = rl->chacha ? 0 : GCM_EXPLICIT;
	size_t flen = explicit + pt_len + AEAD_TAG;
	unsigned char nonce[12], aad[13];
	EVP_CIPHER_CTX *ctx;
	uint64_t seq = rl->tx_seq++;
	int n, m, ret = -1;

	if (XTEL_DTLS_HDR_LEN + flen > cap)
		return -1;
	out[0] = type;
	out[1] = XTEL_DTLS_V12 >> 8;
	out[2] = XTEL_DTLS_V12 & 0xff;
	out[3] = 0;
	out[4] = 1;			/* epoch */
	for (int i = 0; i < 6; i++)
		out[5 + i] = (unsigned char)(seq >> (40 - 8 * i));
	out[11] = (unsigned char)(flen >> 8);
	out[12] = (unsigned char)flen;
	/* GCM's explicit nonce: the record number, unique per key. */
	memcpy(out + XTEL_DTLS_HDR_LEN, out + 3, explicit);
	own_nonce_aad(rl, rl->tx_iv, out, out + XTEL_DTLS_HDR_LEN, pt_len, nonce, aad);

	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return -1;
	if (EVP_EncryptInit_ex(ctx, rl->cipher, NULL, rl->tx_key, nonce) == 1 &&
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, sizeof(aad)) == 1 &&
	    EVP_EncryptUpdate(ctx, out + XTEL_DTLS_HDR_LEN + explicit, &n, pt,
			      (int)pt_len) == 1 &&
	    EVP_EncryptFinal_ex(ctx, out + XTEL_DTLS_HDR_LEN + explicit + n, &m) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG,
				out + XTEL_DTLS_HDR_LEN + explicit + pt_len) == 1)
		ret = (int)(XTEL_DTLS_HDR_LEN + flen);
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

static void own_send_close(struct xtel_dtls_server *srv, struct session *s)
{
	static const unsigned char close_notify[2] = { 1, ALERT_CLOSE_NOTIFY };
	unsigned char rec[64];
	int len = own_seal(s->rl, XTEL_DTLS_CT_ALERT, close_notify, sizeof(close_notify),
			   rec, sizeof(rec));

	if (len < 0)
		return;
	srv->cfg.send(srv->cfg.send_arg, &s->peer.sa, s->peer_len, rec,
		      (size_t)len);
	srv->st.close_notify_tx++;
}

static void own_resend_flight(struct xtel_dtls_server *srv, struct session *s)
{
	const unsigned char *p = s->rl->flight;

	for (unsigned int i = 0; i < s->rl->flight_n; i++) {
		srv->cfg.send(srv->cfg.send_arg, &s->peer.sa, s->peer_len, p,
			      s->rl->flight_len[i]);
		p += s->rl->flight_len[i];
	}
	srv->st.retransmits++;
}

/* Every record of an established session's datagram, in order. */
static void own_records(struct xtel_dtls_server *srv, struct session *s,
			const unsigned char *d, size_t len)
{
	bool delivered = false;
	size_t off = 0;

	while (off + XTEL_DTLS_HDR_LEN <= len) {
		const unsigned char *r = d + off;
		size_t flen = (size_t)r[11] << 8 | r[12];
		struct record_info ri = {
			.type = r[0],
			.epoch = (uint16_t)(r[3] << 8 | r[4]),
			.seq = rec_seq(r),
		};
		int n;

		if (off + XTEL_DTLS_HDR_LEN + flen > len) {
			srv->st.bad_record++;	/* truncated */
			break;
		}
		off += XTEL_DTLS_HDR_LEN + flen;
		if ((r[1] << 8 | r[2]) != XTEL_DTLS_V12) {
			srv->st.bad_record++;
			continue;
		}
		/*
		 * Epoch 0: the client repeating its handshake flight because
		 * our last one was lost. Its Finished (epoch 1) triggers the
		 * resend below, once per flight.
		 */
		if (ri.epoch == 0)
			continue;
		if (ri.epoch != 1) {
			srv->st.bad_record++;
			continue;
		}
		if (window_seen(s, &ri)) {
			srv->st.replay++;
			continue;
		}
		n = own_open(s->rl, r, flen, srv->plain, sizeof(srv->plain));
		if (n < 0) {
			srv->st.bad_record++;
			continue;
		}
		window_mark(s, &ri);
		switch (ri.type) {
		case XTEL_DTLS_CT_APPDATA:
			/* Data means the client has our Finished. */
			if (s->rl->flight != NULL) {
				free(s->rl->flight);
				s->rl->flight = NULL;
				s->rl->flight_n = 0;
			}
			deliver(srv, s, (size_t)n);
			delivered = true;
			break;
		case XTEL_DTLS_CT_HANDSHAKE:
			if (s->rl->flight_n > 0)
				own_resend_flight(srv, s);
			break;
		case XTEL_DTLS_CT_ALERT:
			if (n >= 2 && srv->plain[1] == ALERT_CLOSE_NOTIFY) {
				srv->st.close_notify_rx++;
				own_send_close(srv, s);
				session_free(srv, s);
				return;
			}
			if (n >= 2 && srv->plain[0] == ALERT_FATAL) {
				char peer[INET6_ADDRSTRLEN + 8];

				srv->st.session_errors++;
				format_peer(&s->peer.sa, peer, sizeof(peer));
				srv_log(srv, "dtls: session with %s (client %u) ended: "
					"fatal alert %u from peer", peer,
					s->client_id, srv->plain[1]);
				session_free(srv, s);
				return;
			}
			break;	/* warnings change nothing */
		default:
			srv->st.bad_record++;
			break;
		}
	}
	if (delivered) {
		s->last_rx = srv->now;
		list_remove(&srv->lru, s);
		list_append(&srv->lru, s);
	}
}

/* The ClientHello's 32-byte random, when d is a whole first fragment. */
static const unsigned char *hello_random(const unsigned char *d, size_t len)
{
	/* record header, handshake header (12), client_version (2) */
	if (len < XTEL_DTLS_HDR_LEN + 12 + 2 + 32 || d[0] != XTEL_DTLS_CT_HANDSHAKE ||
	    d[3] != 0 || d[4] != 0 || d[XTEL_DTLS_HDR_LEN] != HS_CLIENT_HELLO)
		return NULL;
	return d + XTEL_DTLS_HDR_LEN + 12 + 2;
}

/*
 * Half-open handshakes from the source of k: the same IPv4 address, or
 * the same IPv6 /64 (one host can use a whole /64). The list is at most
 * max_half_open long and this runs only for valid cookies.
 */
static unsigned int half_open_from_source(const struct xtel_dtls_server *srv,
					  const struct peer_key *k)
{
	size_t plen = k->family == AF_INET ? 4 : 8;
	unsigned int n = 0;

	for (const struct session *s = srv->half_open.head; s != NULL; s = s->next)
		if (s->key.family == k->family &&
		    memcmp(s->key.addr, k->addr, plen) == 0)
			n++;
	return n;
}

/*
 * With the half-open table full, make room by dropping the oldest
 * handshake that never sent anything but its ClientHello for at least a
 * second (the first retransmission interval): a real client answers our
 * flight within a round trip, so those are the likeliest to be a flood
 * that proved an address but nothing more. Returns whether one went.
 */
static bool evict_silent(struct xtel_dtls_server *srv)
{
	for (struct session *s = srv->half_open.head; s != NULL; s = s->next) {
		if (s->started + XTEL_NS_PER_SEC > srv->now)
			break;		/* oldest first: the rest are younger */
		if (!s->second_flight) {
			srv->st.half_open_evicted++;
			session_free(srv, s);
			return true;
		}
	}
	return false;
}

/*
 * A handshake datagram from an address without a session, or a new
 * ClientHello to an established one (`old`): the new handshake then runs
 * beside it and replaces it only when it completes.
 */
static void listener_input(struct xtel_dtls_server *srv, uint32_t h,
			   const void *dgram, size_t len, struct session *old)
{
	const unsigned char *rnd = hello_random(dgram, len);
	struct session *s;
	uint64_t sent;
	int r;

	/* Not a whole ClientHello: DTLSv1_listen would drop it too. */
	if (rnd == NULL) {
		srv->st.bad_hello++;
		return;
	}
	if (srv->listener == NULL && listener_new(srv) != 0) {
		srv->st.bad_hello++;
		return;
	}
	memcpy(srv->cur_random, rnd, sizeof(srv->cur_random));
	sent = srv->st.cookie_sent;
	xtel_dgram_bio_set_input(srv->lbio, dgram, len);
	ERR_clear_error();
	r = DTLSv1_listen(srv->listener, srv->listen_addr);
	xtel_dgram_bio_clear_input(srv->lbio);
	ERR_clear_error();
	if (r <= 0) {
		/* HelloVerifyRequest sent (counted in the callback) or dropped. */
		if (srv->st.cookie_sent == sent)
			srv->st.bad_hello++;
		return;
	}

	/* The old session is not touched before these pass. */
	if (half_open_from_source(srv, &srv->cur_key) >=
	    srv->cfg.max_half_open_per_source) {
		srv->st.half_open_source_full++;
		return;
	}
	if (srv->half_open.n >= srv->cfg.max_half_open && !evict_silent(srv)) {
		/* The next DTLSv1_listen() starts with SSL_clear(). */
		srv->st.half_open_full++;
		return;
	}
	if (srv->half_open.n + srv->lru.n >= srv->cfg.max_sessions) {
		srv->st.sessions_full++;
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		srv->st.sessions_full++;
		return;
	}
	s->srv = srv;
	s->key = srv->cur_key;
	s->hash = h;
	/* cur_peer_len is the family's size: it fits union peer_addr. */
	memcpy(&s->peer, srv->cur_peer, srv->cur_peer_len);
	s->peer_len = srv->cur_peer_len;
	s->state = SESSION_HANDSHAKE;
	s->started = srv->now;
	s->rtx_deadline = UINT64_MAX;
	memcpy(s->client_random, rnd, sizeof(s->client_random));

	/* Promote the listener to this session; a new one listens next. */
	s->ssl = srv->listener;
	s->bio = srv->lbio;
	srv->listener = NULL;
	srv->lbio = NULL;
	SSL_set_ex_data(s->ssl, ex_peer_idx, &s->key);
	SSL_set_ex_data(s->ssl, ex_session_idx, s);
	xtel_dgram_bio_set_sink(s->bio, session_sink, s);

	if (old != NULL) {
		/* A newer restart supersedes an unfinished one. */
		if (old->pending != NULL)
			session_free(srv, old->pending);
		old->pending = s;
		s->replaces = old;
	} else {
		s->hnext = *pp_head(srv, h);
		*pp_head(srv, h) = s;
	}
	list_append(&srv->half_open, s);
	srv->st.handshakes_started++;

	listener_new(srv);	/* failure retried on the next ClientHello */
	if (session_handshake(srv, s) == 0)
		session_park(s);
}

/*
 * While a restarted client's handshake is pending beside its old session,
 * which of the two a datagram is for: handshake traffic (any epoch-0
 * record, or a first record of type handshake: the new Finished) goes to
 * the new handshake, the rest (the old session's epoch-1 records) to the
 * old session.
 */
static bool for_pending(const unsigned char *d, size_t len)
{
	size_t off = 0;

	if (d[0] == XTEL_DTLS_CT_HANDSHAKE)
		return true;
	while (off + XTEL_DTLS_HDR_LEN <= len) {
		const unsigned char *r = d + off;

		if (r[3] == 0 && r[4] == 0)
			return true;
		off += XTEL_DTLS_HDR_LEN + ((size_t)r[11] << 8 | r[12]);
	}
	return false;
}

int xtel_dtls_server_input(struct xtel_dtls_server *srv,
			   const struct sockaddr *peer, socklen_t peer_len,
			   const void *dgram, size_t len, uint64_t now)
{
	const unsigned char *d = dgram;
	struct record_info ri;
	struct session *s;
	uint32_t h;

	if (peer_key_from(peer, peer_len, &srv->cur_key))
		return -EAFNOSUPPORT;
	srv->now = now;
	srv->cur_peer = peer;
	srv->cur_dgram = d;
	srv->cur_len = len;
	srv->cur_peer_len = peer_addr_len(&srv->cur_key);
	if (len < XTEL_DTLS_HDR_LEN) {
		srv->st.malformed++;
		return 0;
	}
	cookie_rotate(srv, now);
	record_info(d, len, &ri);
	h = peer_hash(srv, &srv->cur_key);
	s = session_lookup(srv, &srv->cur_key, h);

	if (s == NULL) {
		if (ri.type == XTEL_DTLS_CT_HANDSHAKE && ri.epoch == 0)
			listener_input(srv, h, dgram, len, NULL);
		else
			srv->st.unknown_peer++;
		return 0;
	}
	if (s->state == SESSION_HANDSHAKE) {
		handshake_input(srv, s, dgram, len);
		return 0;
	}

	/*
	 * A ClientHello to an established session is either a late copy of
	 * the one that created it (same random: ignore), a copy of the one
	 * of a pending restart (its handshake handles that), or a client that
	 * restarted on the same port: that one must prove its address with
	 * a cookie like any other, and complete its handshake, before the
	 * old session is dropped.
	 */
	if (ri.type == XTEL_DTLS_CT_HANDSHAKE && ri.epoch == 0) {
		const unsigned char *rnd = hello_random(d, len);

		if (rnd != NULL) {
			if (memcmp(s->client_random, rnd,
				   sizeof(s->client_random)) == 0)
				return 0;
			if (s->pending != NULL &&
			    memcmp(s->pending->client_random, rnd,
				   sizeof(s->client_random)) == 0) {
				handshake_input(srv, s->pending, dgram, len);
				return 0;
			}
			listener_input(srv, h, dgram, len, s);
			return 0;
		}
	}
	if (s->pending != NULL && for_pending(d, len)) {
		handshake_input(srv, s->pending, dgram, len);
		return 0;
	}
	if (s->rl != NULL) {
		own_records(srv, s, d, len);
		return 0;
	}
	xtel_dgram_bio_set_input(s->bio, dgram, len);
	session_records(srv, s, d, len, &ri);
	return 0;
}

/* ---- timers ---- */

uint64_t xtel_dtls_server_next_timeout(const struct xtel_dtls_server *srv,
				       uint64_t now)
{
	uint64_t t = UINT64_MAX;
	const struct session *s;

	(void)now;
	/* Half-open sessions are few (max_half_open): scan them all. */
	for (s = srv->half_open.head; s != NULL; s = s->next) {
		if (s->rtx_deadline < t)
			t = s->rtx_deadline;
		if (s->started + srv->cfg.handshake_timeout < t)
			t = s->started + srv->cfg.handshake_timeout;
	}
	s = srv->lru.head;
	if (s != NULL && s->last_rx + srv->cfg.idle_timeout < t)
		t = s->last_rx + srv->cfg.idle_timeout;
	return t;
}

void xtel_dtls_server_timers(struct xtel_dtls_server *srv, uint64_t now)
{
	struct session *s, *next;
	int r;

	srv->now = now;
	srv->cur_dgram = NULL;		/* the last input's buffer is gone */
	cookie_rotate(srv, now);
	for (s = srv->half_open.head; s != NULL; s = next) {
		next = s->next;
		if (s->started + srv->cfg.handshake_timeout <= now) {
			srv->st.handshake_timeout++;
			session_free(srv, s);
			continue;
		}
		if (s->rtx_deadline > now)
			continue;
		if (!session_unpark(s)) {
			handshake_failed(srv, s);
			continue;
		}
		ERR_clear_error();
		r = DTLSv1_handle_timeout(s->ssl);
		if (r < 0) {
			/* OpenSSL gave up retransmitting. */
			handshake_failed(srv, s);
			continue;
		}
		if (r > 0)
			srv->st.retransmits++;
		/* r == 0: OpenSSL's clock is behind ours; re-arm from it. */
		s->rtx_deadline = ssl_timer_deadline(s->ssl, now);
		session_park(s);
	}
	while ((s = srv->lru.head) != NULL &&
	       s->last_rx + srv->cfg.idle_timeout <= now) {
		srv->st.sessions_expired++;
		/* The peer may be gone, but if not it learns why. */
		session_send_close(srv, s);
		session_free(srv, s);
	}
}

void xtel_dtls_server_shutdown(struct xtel_dtls_server *srv)
{
	while (srv->lru.head != NULL) {
		session_send_close(srv, srv->lru.head);
		session_free(srv, srv->lru.head);
	}
	while (srv->half_open.head != NULL)
		session_free(srv, srv->half_open.head);
}

/* ---- lifecycle ---- */

int xtel_dtls_server_new(struct xtel_dtls_server **out,
			 const struct xtel_dtls_server_cfg *cfg)
{
	struct xtel_dtls_server *srv;
	struct xtel_dtls_identity *id = NULL;
	static char sha256_name[] = "SHA256";
	STACK_OF(X509_NAME) *names;
	OSSL_PARAM params[2];
	uint32_t want;
	int ret;

	if (cfg->send == NULL) {
		pr_err("no send callback");
		return -EINVAL;
	}
	pthread_once(&ex_once, ex_init);
	srv = ex_session_idx < 0 || ex_peer_idx < 0 ? NULL :
	      calloc(1, sizeof(*srv));
	if (srv == NULL) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	srv->cfg = *cfg;
	if (!srv->cfg.max_sessions)
		srv->cfg.max_sessions = DEFAULT_MAX_SESSIONS;
	if (!srv->cfg.max_half_open)
		srv->cfg.max_half_open = DEFAULT_MAX_HALF_OPEN;
	/*
	 * A quarter of the table per source: a flood from one host leaves
	 * room for others, while the load generator (one address, 64
	 * handshakes in flight per thread) still fits one worker's default.
	 */
	if (!srv->cfg.max_half_open_per_source)
		srv->cfg.max_half_open_per_source =
			srv->cfg.max_half_open / 4 ? srv->cfg.max_half_open / 4 : 1;
	if (!srv->cfg.idle_timeout)
		srv->cfg.idle_timeout = DEFAULT_IDLE_TIMEOUT;
	if (!srv->cfg.handshake_timeout)
		srv->cfg.handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
	if (!srv->cfg.cookie_period)
		srv->cfg.cookie_period = DEFAULT_COOKIE_PERIOD;
	if (!srv->cfg.log_burst)
		srv->cfg.log_burst = DEFAULT_LOG_BURST;
	/* Strings are the caller's; they are not needed after loading. */
	srv->cfg.cert_file = srv->cfg.key_file = srv->cfg.ca_file = NULL;
	srv->cfg.ciphers = NULL;
	if (cfg->log_name != NULL)
		snprintf(srv->log_name, sizeof(srv->log_name), "%s",
			 cfg->log_name);
	srv->cfg.log_name = NULL;
	srv->log_rl = (struct xtel_ratelimit)
		XTEL_RATELIMIT_INIT(XTEL_NS_PER_SEC, srv->cfg.log_burst);

	srv->ctx = SSL_CTX_new(DTLS_server_method());
	if (srv->ctx == NULL) {
		pr_err("SSL_CTX_new failed (%s)", openssl_reason());
		ret = -ENOMEM;
		goto fail;
	}
	ret = ctx_common(srv->ctx);
	if (ret)
		goto fail;
	ret = xtel_dtls_identity_load(&id, cfg->cert_file, cfg->key_file);
	if (ret)
		goto fail;
	ret = ctx_use_identity(srv->ctx, id);
	xtel_dtls_identity_free(id);
	if (ret)
		goto fail;
	ret = ctx_load_ca(srv->ctx, cfg->ca_file);
	if (ret)
		goto fail;
	/* Tell clients which CA we accept (they pick their certificate). */
	names = SSL_load_client_CA_file(cfg->ca_file);
	if (names != NULL)
		SSL_CTX_set_client_CA_list(srv->ctx, names);
	SSL_CTX_set_verify(srv->ctx,
			   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   verify_cb);
	SSL_CTX_set_options(srv->ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (cfg->ciphers != NULL &&
	    SSL_CTX_set_cipher_list(srv->ctx, cfg->ciphers) != 1) {
		pr_err("cipher list '%s' rejected (%s)", cfg->ciphers,
		       openssl_reason());
		ret = -EINVAL;
		goto fail;
	}
	/* Every handshake is a full one: nothing to cache per client. */
	SSL_CTX_set_session_cache_mode(srv->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_cookie_generate_cb(srv->ctx, cookie_generate_cb);
	SSL_CTX_set_cookie_verify_cb(srv->ctx, cookie_verify_cb);
	SSL_CTX_set_app_data(srv->ctx, srv);

	srv->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	srv->mac_ctx = srv->mac ? EVP_MAC_CTX_new(srv->mac) : NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     sha256_name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (srv->mac_ctx == NULL || EVP_MAC_CTX_set_params(srv->mac_ctx, params) != 1) {
		pr_err("HMAC-SHA256 unavailable (%s)", openssl_reason());
		ret = -ENOSYS;
		goto fail;
	}

	/* Missing algorithms only disable the own record layer. */
	srv->prf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	srv->aes128gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	srv->aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	srv->chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	ERR_clear_error();

	want = 2 * (srv->cfg.max_sessions + srv->cfg.max_half_open);
	for (srv->nbuckets = 64; srv->nbuckets < want && srv->nbuckets < (1u << 30);)
		srv->nbuckets <<= 1;
	srv->buckets = calloc(srv->nbuckets, sizeof(*srv->buckets));
	srv->listen_addr = BIO_ADDR_new();
	if (srv->buckets == NULL || srv->listen_addr == NULL ||
	    RAND_bytes((unsigned char *)&srv->hash_seed,
		       sizeof(srv->hash_seed)) != 1 ||
	    listener_new(srv) != 0) {
		pr_err("out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	ERR_clear_error();
	*out = srv;
	return 0;
fail:
	ERR_clear_error();
	xtel_dtls_server_free(srv);
	return ret;
}

void xtel_dtls_server_free(struct xtel_dtls_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->buckets != NULL) {
		while (srv->lru.head != NULL)
			session_free(srv, srv->lru.head);
		while (srv->half_open.head != NULL)
			session_free(srv, srv->half_open.head);
	}
	SSL_free(srv->listener);
	BIO_ADDR_free(srv->listen_addr);
	free(srv->buckets);
	EVP_MAC_CTX_free(srv->mac_ctx);
	EVP_MAC_free(srv->mac);
	EVP_KDF_free(srv->prf);
	EVP_CIPHER_free(srv->aes128gcm);
	EVP_CIPHER_free(srv->aes256gcm);
	EVP_CIPHER_free(srv->chacha);
	SSL_CTX_free(srv->ctx);
	OPENSSL_cleanse(srv->secret, sizeof(srv->secret));
	free(srv);
}

int xtel_dtls_server_peer(const struct xtel_dtls_server *srv,
			  const struct sockaddr *peer, socklen_t peer_len,
			  uint32_t *client_id)
{
	struct peer_key k;
	struct session *s;

	if (peer_key_from(peer, peer_len, &k))
		return -EAFNOSUPPORT;
	s = session_lookup(srv, &k, peer_hash(srv, &k));
	if (s == NULL)
		return -ENOENT;
	if (s->state != SESSION_ESTABLISHED)
		return -EINPROGRESS;
	if (client_id)
		*client_id = s->client_id;
	return 0;
}

unsigned int xtel_dtls_server_sessions(const struct xtel_dtls_server *srv)
{
	return srv->lru.n;
}

unsigned int xtel_dtls_server_half_open(const struct xtel_dtls_server *srv)
{
	return srv->half_open.n;
}

unsigned int xtel_dtls_server_builtin_sessions(const struct xtel_dtls_server *srv)
{
	return srv->builtin;
}

void xtel_dtls_server_get_stats(const struct xtel_dtls_server *srv,
				struct xtel_dtls_server_stats *out)
{
	*out = srv->st;
}
