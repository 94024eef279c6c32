/* SPDX-License-Identifier: MIT */
/*
 * The DTLS client the load generator runs for each simulated client (see
 * dtls/client.h): OpenSSL's handshake over a datagram BIO whose outgoing
 * datagrams wait in a ring the caller pops. It shares identity.c, ssl.c
 * and record.c with the server, so a program using it does not link the
 * server.
 *
 * After the handshake the client takes the record layer over, as the
 * server does (established.c): an established OpenSSL 3.0 DTLS client
 * keeps ~56 KB (its handshake buffer for retransmits, the SSL, both AEAD
 * contexts, the session with the server's certificate), so one load
 * generator could not hold 100,000 sessions. What is kept instead: the
 * keys (record.c derives them), the next epoch-1 record number (noted
 * from every datagram the handshake wrote, by a callback on the BIO), the
 * BIO as the outgoing ring, the client's final flight when the handshake
 * was abbreviated (the server, not we, finished it: a server that missed
 * our Finished resends its flight and gets ours again) and, when the ctx
 * keeps tickets, the session as DER for xtel_dtls_client_ticket. Records
 * are sealed with one AEAD context per thread (thread_seal), re-keyed
 * when the thread seals for another client. A suite record.c does not
 * handle (or a session without the extended master secret) stays on
 * OpenSSL's layer, reported per client (xtel_dtls_client_stats.openssl).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "dtls/client.h"
#include "dtls/dgram_bio.h"
#include "dtls/internal.h"
#include "dtls/record.h"
#include "bpf/xtel_wire.h"

enum {
	DEFAULT_OUT_SLOTS = 16,
	ALERT_WARNING = 1,
	ALERT_FATAL = 2,
	ALERT_CLOSE_NOTIFY = 0,
	ALERT_ILLEGAL_PARAMETER = 47,
};

struct xtel_dtls_client_ctx {
	SSL_CTX *ctx;
	struct dtls_rl_algs algs;	/* for the take-over */
	bool openssl_records;		/* no take-over */
	bool keep_tickets;		/* taken over: keep the session DER */
};

struct xtel_dtls_ticket {
	SSL_SESSION *sess;
};

struct xtel_dtls_client {
	SSL *ssl;		/* NULL once taken over */
	BIO *bio;		/* owned by ssl, by us once taken over */
	const struct xtel_dtls_client_ctx *ctx;
	enum xtel_dtls_client_state state;
	bool own;		/* records are record.c's (keys) */
	bool resumed;		/* kept from the SSL at the take-over */
	bool tx1_seen;		/* the handshake wrote an epoch-1 record */
	uint64_t tx1_next;	/* the record number after it */
	uint64_t deadline;	/* retransmission timer, UINT64_MAX: none */
	uint64_t retransmits;
	uint64_t records_tx;
	uint64_t bad_record;
	/*
	 * The last datagram the handshake wrote with an epoch-1 record (our
	 * Finished); kept after the take-over only when resumed.
	 */
	unsigned char *flight;
	size_t flight_len;
	unsigned char *sess_der;	/* the ticket's session, taken over */
	size_t sess_der_len;
	struct dtls_rl_keys keys;	/* own: tx_* ours, rx_* the server's */
	char err[XTEL_DTLS_ERR_LEN];
};

/*
 * One sealing context per thread, shared by the clients it seals for:
 * tag is the keys id it holds (0: none). Freed at the thread's exit.
 */
struct seal_ctx {
	EVP_CIPHER_CTX *ctx;
	uint64_t tag;
};

static pthread_key_t seal_key;
static pthread_once_t seal_once = PTHREAD_ONCE_INIT;
static bool seal_key_ok;
static _Thread_local struct seal_ctx *tl_seal;
/* Keys ids, unique in the process: a thread's context never mixes them. */
static _Atomic uint64_t key_ids;

static void seal_ctx_free(void *p)
{
	struct seal_ctx *s = p;

	EVP_CIPHER_CTX_free(s->ctx);	/* wipes the key schedule */
	free(s);
	tl_seal = NULL;
}

static void seal_key_make(void)
{
	seal_key_ok = pthread_key_create(&seal_key, seal_ctx_free) == 0;
}

static struct seal_ctx *thread_seal(void)
{
	struct seal_ctx *s = tl_seal;

	if (s != NULL)
		return s;
	pthread_once(&seal_once, seal_key_make);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->ctx = EVP_CIPHER_CTX_new();
	if (s->ctx == NULL || !seal_key_ok ||
	    pthread_setspecific(seal_key, s) != 0) {
		EVP_CIPHER_CTX_free(s->ctx);
		free(s);
		return NULL;
	}
	tl_seal = s;
	return s;
}

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
	c->keep_tickets = true;
	dtls_rl_algs_fetch(&c->algs);
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
	dtls_rl_algs_free(&ctx->algs);
	free(ctx);
}

void xtel_dtls_client_ctx_set_openssl_records(struct xtel_dtls_client_ctx *ctx,
					      bool on)
{
	ctx->openssl_records = on;
}

void xtel_dtls_client_ctx_set_keep_tickets(struct xtel_dtls_client_ctx *ctx,
					   bool on)
{
	ctx->keep_tickets = on;
}

/*
 * Called by OpenSSL's writes to the BIO during the handshake: note the
 * epoch-1 record numbers (our own layer continues after the last) and
 * keep the datagram that carried them (our final flight).
 */
static long note_tx(BIO *b, int oper, const char *argp, size_t len, int argi,
		    long argl, int ret, size_t *processed)
{
	struct xtel_dtls_client *c = (struct xtel_dtls_client *)BIO_get_callback_arg(b);
	const unsigned char *d = (const unsigned char *)argp;
	bool epoch1 = false;
	unsigned char *copy;

	(void)argi;
	(void)argl;
	(void)processed;
	if (oper != BIO_CB_WRITE || c == NULL || d == NULL)
		return ret;
	for (size_t off = 0; off + XTEL_DTLS_HDR_LEN <= len;
	     off += XTEL_DTLS_HDR_LEN + dtls_rec_len(d + off)) {
		if (dtls_rec_epoch(d + off) != 1)
			continue;
		if (!c->tx1_seen || dtls_rec_seq(d + off) + 1 > c->tx1_next)
			c->tx1_next = dtls_rec_seq(d + off) + 1;
		c->tx1_seen = true;
		epoch1 = true;
	}
	if (epoch1 && len > 0 && (copy = realloc(c->flight, len)) != NULL) {
		memcpy(copy, d, len);
		c->flight = copy;
		c->flight_len = len;
	}
	return ret;
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
	c->ctx = ctx;
	c->ssl = SSL_new(ctx->ctx);
	if (c->ssl == NULL)
		goto fail;
	c->bio = xtel_dgram_bio_new(out_slots ? out_slots : DEFAULT_OUT_SLOTS);
	if (c->bio == NULL)
		goto fail;
	ret = dtls_ssl_attach_bio(c->ssl, c->bio);
	if (ret)
		goto fail;
	BIO_set_callback_arg(c->bio, (char *)c);
	BIO_set_callback_ex(c->bio, note_tx);
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
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	else
		BIO_free(c->bio);
	/* This thread's context holds our key: wipe it. */
	if (c->own && tl_seal != NULL && tl_seal->tag == c->keys.id) {
		EVP_CIPHER_CTX_reset(tl_seal->ctx);
		tl_seal->tag = 0;
	}
	dtls_rl_clear(NULL, &c->keys);
	free(c->flight);
	if (c->sess_der != NULL)
		OPENSSL_clear_free(c->sess_der, c->sess_der_len);
	free(c);
}

/*
 * Keep the session as DER for xtel_dtls_client_ticket (a parsed one with
 * the server's certificate is several KB; its DER about 1 KB).
 */
static void keep_session(struct xtel_dtls_client *c)
{
	SSL_SESSION *sess = SSL_get0_session(c->ssl);
	unsigned char *p;
	int n;

	if (!c->ctx->keep_tickets || sess == NULL ||
	    !SSL_SESSION_has_ticket(sess) || !SSL_SESSION_is_resumable(sess))
		return;
	n = i2d_SSL_SESSION(sess, NULL);
	if (n <= 0 || (c->sess_der = malloc((size_t)n)) == NULL)
		return;
	p = c->sess_der;
	c->sess_der_len = (size_t)i2d_SSL_SESSION(sess, &p);
}

/*
 * The handshake is complete: derive the keys and free the SSL. Anything
 * that stops it leaves c on OpenSSL's layer (ctx->openssl_records, a suite
 * record.c does not handle, no epoch-1 record seen).
 */
static void take_over(struct xtel_dtls_client *c)
{
	BIO_set_callback_ex(c->bio, NULL);
	BIO_set_callback_arg(c->bio, NULL);
	if (c->ctx->openssl_records || !c->tx1_seen ||
	    dtls_rl_derive_client(&c->keys, &c->ctx->algs, c->ssl) != 0) {
		free(c->flight);
		c->flight = NULL;
		ERR_clear_error();
		return;
	}
	c->keys.tx_seq = c->tx1_next;
	c->keys.id = atomic_fetch_add(&key_ids, 1) + 1;
	c->resumed = SSL_session_reused(c->ssl);
	if (!c->resumed) {
		/* The server's Finished came: it has ours. */
		free(c->flight);
		c->flight = NULL;
	}
	keep_session(c);
	BIO_up_ref(c->bio);	/* the outgoing ring stays */
	/*
	 * The shutdown is ours from here on. Without this, SSL_free marks
	 * the session not resumable, and with it the ticket this client
	 * resumed with, which the caller may offer again.
	 */
	SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(c->ssl);
	c->ssl = NULL;
	c->own = true;
	ERR_clear_error();
}

/* Seal one record with this thread's context. Its length, or -1. */
static int own_seal(struct xtel_dtls_client *c, uint8_t type,
		    const void *pt, size_t len, void *out, size_t cap)
{
	struct seal_ctx *s = thread_seal();
	int n;

	if (s == NULL) {
		c->keys.tx_seq++;	/* as dtls_rl_seal: a number per try */
		return -1;
	}
	n = dtls_rl_seal_in(s->ctx, s->tag != c->keys.id, &c->keys, type, pt,
			    len, out, cap);
	s->tag = n >= 0 ? c->keys.id : 0;
	return n;
}

/* Seal one record into the outgoing ring. 0 or -EPROTO. */
static int own_queue(struct xtel_dtls_client *c, uint8_t type,
		     const void *pt, size_t len)
{
	unsigned char rec[XTEL_DGRAM_SLOT_SIZE];
	int n = own_seal(c, type, pt, len, rec, sizeof(rec));

	if (n < 0) {
		snprintf(c->err, sizeof(c->err), "cannot seal a record");
		return -EPROTO;
	}
	BIO_write(c->bio, rec, n);
	return 0;
}

static int own_alert(struct xtel_dtls_client *c, uint8_t level, uint8_t desc)
{
	const unsigned char alert[2] = { level, desc };

	return own_queue(c, XTEL_DTLS_CT_ALERT, alert, sizeof(alert));
}

/* What OpenSSL says of a fatal alert received: "tlsv1 alert decode error". */
static void alert_text(struct xtel_dtls_client *c, uint8_t desc)
{
	const char *r = ERR_reason_error_string(
		ERR_PACK(ERR_LIB_SSL, 0, SSL_AD_REASON_OFFSET + desc));

	if (r != NULL)
		snprintf(c->err, sizeof(c->err), "%s", r);
	else
		snprintf(c->err, sizeof(c->err), "alert %u received", desc);
}

/*
 * A datagram on our own layer, as OpenSSL's would take it: epoch-1 records
 * that are not authentic are dropped, application data is discarded, a
 * close_notify is answered with ours (-ECONNRESET), a fatal alert or one
 * of an unknown level fails the client (-EPROTO), and an epoch-0 handshake record (the server's
 * flight again: it missed our Finished) gets our final flight again.
 */
static int own_input(struct xtel_dtls_client *c, const unsigned char *d,
		     size_t len)
{
	struct dtls_rl_cache rx = { 0 };
	unsigned char pt[XTEL_DGRAM_SLOT_SIZE];
	bool resent = false, rekeyed = false;
	int ret = 0;

	for (size_t off = 0; off + XTEL_DTLS_HDR_LEN <= len && ret == 0;) {
		const unsigned char *r = d + off;
		size_t flen = dtls_rec_len(r);
		int n;

		if (off + XTEL_DTLS_HDR_LEN + flen > len)
			break;
		off += XTEL_DTLS_HDR_LEN + flen;
		if (dtls_rec_epoch(r) == 0 && r[0] == XTEL_DTLS_CT_HANDSHAKE &&
		    c->flight != NULL && !resent) {
			BIO_write(c->bio, c->flight, (int)c->flight_len);
			c->retransmits++;
			resent = true;
			continue;
		}
		if (dtls_rec_epoch(r) != 1)
			continue;
		n = dtls_rl_open(&rx, &c->keys, r, flen, pt, sizeof(pt), &rekeyed);
		if (n < 0 || r[0] != XTEL_DTLS_CT_ALERT || n != 2)
			continue;
		/* The level first: a close_notify closes only as a warning. */
		if (pt[0] == ALERT_FATAL) {
			alert_text(c, pt[1]);
			c->state = XTEL_DTLS_CLIENT_FAILED;
			ret = -EPROTO;
		} else if (pt[0] != ALERT_WARNING) {
			/* As OpenSSL answers an unknown level (RFC 5246 7.2.2). */
			own_alert(c, ALERT_FATAL, ALERT_ILLEGAL_PARAMETER);
			snprintf(c->err, sizeof(c->err), "unknown alert type");
			c->state = XTEL_DTLS_CLIENT_FAILED;
			ret = -EPROTO;
		} else if (pt[1] == ALERT_CLOSE_NOTIFY) {
			own_alert(c, ALERT_WARNING, ALERT_CLOSE_NOTIFY);
			c->state = XTEL_DTLS_CLIENT_CLOSED;
			ret = -ECONNRESET;
		}
	}
	dtls_rl_cache_free(&rx);
	OPENSSL_cleanse(pt, sizeof(pt));
	return ret;
}

/* AEAD bytes of an encrypted record on either layer. */
static size_t record_overhead(const struct xtel_dtls_client *c)
{
	if (c->own)
		return DTLS_AEAD_TAG + (c->keys.chacha ? 0 : DTLS_GCM_EXPLICIT);
	return dtls_ssl_record_overhead(c->ssl);
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
	    dtls_has_short_record(dgram, len, record_overhead(c))) {
		c->bad_record++;
		return 0;
	}
	if (c->own)
		return c->state == XTEL_DTLS_CLIENT_ESTABLISHED ?
		       own_input(c, dgram, len) : 0;
	switch (c->state) {
	case XTEL_DTLS_CLIENT_HANDSHAKING:
		xtel_dgram_bio_set_input(c->bio, dgram, len);
		ret = client_handshake(c, now);
		/* The datagram may also carry records after the Finished. */
		if (ret == 0 && c->state == XTEL_DTLS_CLIENT_ESTABLISHED)
			ret = client_drain(c);
		xtel_dgram_bio_clear_input(c->bio);
		if (ret == 0 && c->state == XTEL_DTLS_CLIENT_ESTABLISHED)
			take_over(c);
		return ret;
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
	if (c->own) {
		r = own_queue(c, XTEL_DTLS_CT_APPDATA, buf, len);
		if (r == 0)
			c->records_tx++;
		return r;
	}
	ERR_clear_error();
	r = SSL_write(c->ssl, buf, (int)len);
	if (r <= 0) {
		dtls_ssl_failure_text(c->ssl, c->err, sizeof(c->err));
		return -EPROTO;
	}
	c->records_tx++;
	return 0;
}

ssize_t xtel_dtls_client_seal(struct xtel_dtls_client *c, const void *buf,
			      size_t len, void *out, size_t cap)
{
	int n;

	if (!c->own) {
		n = xtel_dtls_client_write(c, buf, len);
		return n ? n : xtel_dtls_client_pop(c, out, cap);
	}
	if (c->state != XTEL_DTLS_CLIENT_ESTABLISHED)
		return -ENOTCONN;
	/* Checked first: a record that cannot be sealed takes no number. */
	if (len > XTEL_DTLS_MAX_PLAINTEXT ||
	    cap < XTEL_DTLS_HDR_LEN + len + record_overhead(c))
		return -EMSGSIZE;
	n = own_seal(c, XTEL_DTLS_CT_APPDATA, buf, len, out, cap);
	if (n < 0)
		return -EPROTO;
	c->records_tx++;
	return n;
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
	if (c->own) {
		c->state = XTEL_DTLS_CLIENT_CLOSED;
		return own_alert(c, ALERT_WARNING, ALERT_CLOSE_NOTIFY);
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
	out->openssl = c->state == XTEL_DTLS_CLIENT_ESTABLISHED && !c->own;
}

struct xtel_dtls_ticket *xtel_dtls_client_ticket(const struct xtel_dtls_client *c)
{
	struct xtel_dtls_ticket *t;
	SSL_SESSION *sess;

	if (c->state != XTEL_DTLS_CLIENT_ESTABLISHED)
		return NULL;
	if (c->own) {
		const unsigned char *p = c->sess_der;

		sess = p != NULL ? d2i_SSL_SESSION(NULL, &p, (long)c->sess_der_len) : NULL;
		goto wrap;
	}
	/*
	 * A copy: OpenSSL marks the SSL's own session not resumable when
	 * that SSL ends without a shutdown it likes (an error, a free).
	 */
	sess = SSL_get0_session(c->ssl);
	sess = sess != NULL && SSL_SESSION_has_ticket(sess) &&
	       SSL_SESSION_is_resumable(sess) ? SSL_SESSION_dup(sess) : NULL;
wrap:
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
	return c->ssl != NULL ? SSL_session_reused(c->ssl) == 1 : c->resumed;
}
