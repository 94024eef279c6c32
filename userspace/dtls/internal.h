/* SPDX-License-Identifier: MIT */
/*
 * Private to userspace/dtls: what both ends build on. The identity's
 * contents and the credential loaders (identity.c), the OpenSSL settings
 * and helpers every SSL of either end uses (ssl.c), and readers of DTLS
 * record header fields. Nothing here knows the server's state, so the
 * client's objects can be linked without it.
 */
#ifndef XTEL_DTLS_INTERNAL_H
#define XTEL_DTLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "dtls/dtls.h"

struct xtel_dtls_identity {
	X509 *cert;
	EVP_PKEY *key;
	/*
	 * The certificates after the first in the certificate file (the
	 * intermediate CAs that issued it), sent with it; NULL: none (and
	 * none of an identity before is sent).
	 */
	STACK_OF(X509) *chain;
};

/*
 * The AEAD parts of an encrypted record (RFC 5288, RFC 7905): every record
 * ends in a 16-byte tag; GCM records also start with an 8-byte explicit
 * nonce, ChaCha20-Poly1305 records have none.
 */
enum {
	DTLS_AEAD_TAG = 16,
	DTLS_GCM_EXPLICIT = 8,
};

/* ---- identity.c: credentials (each failure logged with pr_err) ---- */

/* Load the CA bundle peers' certificates must chain to. */
int dtls_ctx_load_ca(SSL_CTX *ctx, const char *ca_file);
/* id as the ctx's own identity: 0, -EBADMSG or -EKEYREJECTED (logged). */
int dtls_ctx_use_identity(SSL_CTX *ctx, const struct xtel_dtls_identity *id);
/* Load cert_file and key_file as the ctx's own identity. */
int dtls_ctx_use_files(SSL_CTX *ctx, const char *cert_file,
		       const char *key_file);
/*
 * The client id of a certificate whose only CN is "client-<id>",
 * 1..2^32-1. Returns 0 or -EINVAL.
 */
int dtls_parse_client_cn(X509 *cert, uint32_t *id);

/* ---- ssl.c: OpenSSL settings and helpers of both ends ---- */

/*
 * Whether OpenSSL release v (OpenSSL_version_num()) has the fix for
 * CVE-2024-4741 in SSL_free_buffers: 3.0.14, 3.1.6, 3.2.2, 3.3.1, 3.4.
 */
bool dtls_openssl_version_ok(unsigned long v);

/* The reason string of OpenSSL's most recent error ("" when none). */
const char *dtls_openssl_reason(void);
/*
 * Set ctx's cipher list to list, which may enable only the three AEAD
 * suites the built-in record layer supports. Logged; returns 0, -EINVAL
 * (OpenSSL rejects the list, or it leaves no DTLS 1.2 suite) or -ENOTSUP
 * (it enables another suite).
 */
int dtls_ctx_check_ciphers(SSL_CTX *ctx, const char *list);
/* An SSL_CTX of method with the settings both ends share (logged). */
int dtls_ctx_new(SSL_CTX **out, const SSL_METHOD *method);
/* Give an SSL its datagram BIO (owned by the SSL from here on) and MTU. */
int dtls_ssl_attach_bio(SSL *ssl, BIO *bio);
/*
 * Why the last SSL operation failed: OpenSSL's reason, plus the
 * certificate verification result when that was the cause. Clears
 * OpenSSL's error queue.
 */
void dtls_ssl_failure_text(SSL *ssl, char *buf, size_t len);
/* Absolute deadline of the SSL's retransmission timer, or UINT64_MAX. */
uint64_t dtls_ssl_timer_deadline(SSL *ssl, uint64_t now);
/* AEAD bytes a record of the SSL's cipher adds; 0 while none is known. */
size_t dtls_ssl_record_overhead(const SSL *ssl);
/*
 * Whether datagram d holds an encrypted (epoch > 0) record shorter than
 * overhead, which OpenSSL 3.0 must never see (see ssl.c).
 */
bool dtls_has_short_record(const unsigned char *d, size_t len,
			   size_t overhead);

/* ---- record header fields (RFC 6347 4.1), r at a record's start ---- */

static inline size_t dtls_rec_len(const unsigned char *r)
{
	return (size_t)r[11] << 8 | r[12];
}

static inline uint16_t dtls_rec_epoch(const unsigned char *r)
{
	return (uint16_t)(r[3] << 8 | r[4]);
}

/* The 48-bit sequence number. */
static inline uint64_t dtls_rec_seq(const unsigned char *r)
{
	uint64_t v = 0;

	for (int i = 5; i < 11; i++)
		v = v << 8 | r[i];
	return v;
}

#endif /* XTEL_DTLS_INTERNAL_H */
