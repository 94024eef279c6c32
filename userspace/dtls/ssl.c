/* SPDX-License-Identifier: MIT */
/*
 * What every SSL of either end needs from OpenSSL: the context settings
 * both share (DTLS 1.2 only, the AEAD suites, no tickets, renegotiation or
 * compression), the datagram BIO and MTU, failure texts, the retransmission
 * timer in the caller's clock, and the guard that keeps OpenSSL 3.0 from
 * seeing records it would fail the connection for.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "bpf/xtel_wire.h"
#include "common/clock.h"
#include "common/log.h"
#include "dtls/internal.h"

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

/*
 * The same three by their IANA numbers (RFC 5289, RFC 7905): the only
 * suites the server's built-in record layer (record.c) can take over. Any
 * other would leave a session on OpenSSL's record layer at about 22 times
 * the memory, so a cipher list that enables one is refused at start-up.
 */
static const uint16_t dtls_suite_ids[] = { 0xc02b, 0xcca9, 0xc02c };

/*
 * The first release of each 3.x branch whose SSL_free_buffers cannot free
 * a read buffer that still holds a record (CVE-2024-4741). The server
 * frees the buffers of every idle handshake (dtls_session_park), so it
 * must not run on an older one, whatever the headers it was built with
 * said. OpenSSL 3 numbers its releases 0xMNN00PP0.
 */
bool dtls_openssl_version_ok(unsigned long v)
{
	static const unsigned long fixed[] = {
		0x300000e0ul,	/* 3.0.14 */
		0x30100060ul,	/* 3.1.6 */
		0x30200020ul,	/* 3.2.2 */
		0x30300010ul,	/* 3.3.1 */
	};
	unsigned long minor = (v >> 20) & 0xff;

	if (v >> 28 != 3)
		return v >> 28 > 3;
	if (minor >= sizeof(fixed) / sizeof(fixed[0]))
		return true;
	return v >= fixed[minor];
}

/* The reason string of OpenSSL's most recent error ("" when none). */
const char *dtls_openssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r != NULL ? r : "";
}

/* Settings shared by both ends. */
static int ctx_common(SSL_CTX *ctx)
{
	if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, dtls_ciphers) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, dtls_groups) != 1) {
		pr_err("OpenSSL rejected the DTLS settings (%s)",
		       dtls_openssl_reason());
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

int dtls_ctx_check_ciphers(SSL_CTX *ctx, const char *list)
{
	STACK_OF(SSL_CIPHER) *sk;
	SSL *ssl;
	int n, ret = 0;

	ERR_clear_error();
	if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
		pr_err("cipher list '%s' names no usable suite (%s): use some "
		       "of %s", list, dtls_openssl_reason(), dtls_ciphers);
		ERR_clear_error();
		return -EINVAL;
	}
	/* What a DTLS 1.2 handshake could negotiate (no TLS 1.3 suites). */
	ssl = SSL_new(ctx);
	sk = ssl != NULL ? SSL_get1_supported_ciphers(ssl) : NULL;
	if (sk == NULL) {
		pr_err("cipher list '%s': OpenSSL failed (%s)", list,
		       dtls_openssl_reason());
		ret = -ENOMEM;
		goto out;
	}
	n = sk_SSL_CIPHER_num(sk);
	for (int i = 0; i < n && ret == 0; i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		uint16_t id = SSL_CIPHER_get_protocol_id(c);
		bool ok = false;

		for (size_t k = 0; k < sizeof(dtls_suite_ids) /
				       sizeof(dtls_suite_ids[0]); k++)
			ok |= id == dtls_suite_ids[k];
		if (!ok) {
			pr_err("cipher list '%s' enables %s: only %s are "
			       "supported (the AEAD suites of the built-in "
			       "record layer)", list, SSL_CIPHER_get_name(c),
			       dtls_ciphers);
			ret = -ENOTSUP;
		}
	}
	if (ret == 0 && n == 0) {
		pr_err("cipher list '%s' leaves no DTLS 1.2 suite: use some "
		       "of %s", list, dtls_ciphers);
		ret = -EINVAL;
	}
out:
	sk_SSL_CIPHER_free(sk);
	SSL_free(ssl);
	ERR_clear_error();
	return ret;
}

int xtel_dtls_check_ciphers(const char *list)
{
	SSL_CTX *ctx;
	int ret;

	ret = dtls_ctx_new(&ctx, DTLS_server_method());
	if (ret)
		return ret;
	ret = dtls_ctx_check_ciphers(ctx, list);
	SSL_CTX_free(ctx);
	return ret;
}

int dtls_ctx_new(SSL_CTX **out, const SSL_METHOD *method)
{
	SSL_CTX *ctx = SSL_CTX_new(method);
	int ret;

	if (ctx == NULL) {
		pr_err("SSL_CTX_new failed (%s)", dtls_openssl_reason());
		ERR_clear_error();
		return -ENOMEM;
	}
	ret = ctx_common(ctx);
	if (ret) {
		SSL_CTX_free(ctx);
		return ret;
	}
	*out = ctx;
	return 0;
}

/* Give an SSL its datagram BIO and MTU. */
int dtls_ssl_attach_bio(SSL *ssl, BIO *bio)
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
void dtls_ssl_failure_text(SSL *ssl, char *buf, size_t len)
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
uint64_t dtls_ssl_timer_deadline(SSL *ssl, uint64_t now)
{
	struct timeval tv;

	if (DTLSv1_get_timeout(ssl, &tv) != 1)
		return UINT64_MAX;
	return now + (uint64_t)tv.tv_sec * XTEL_NS_PER_SEC +
	       (uint64_t)tv.tv_usec * 1000ull;
}

/*
 * Bytes an encrypted record carries besides its plaintext: GCM's explicit
 * nonce and tag, or ChaCha20-Poly1305's tag. During a handshake the
 * negotiated (pending) suite counts: epoch-1 records use it from the
 * ChangeCipherSpec on, before OpenSSL calls it current. 0 while no suite
 * is known.
 */
size_t dtls_ssl_record_overhead(const SSL *ssl)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	if (c == NULL)
		c = SSL_get_pending_cipher(ssl);

	if (c == NULL)
		return 0;
	switch (SSL_CIPHER_get_cipher_nid(c)) {
	case NID_aes_128_gcm:
	case NID_aes_256_gcm:
		return DTLS_GCM_EXPLICIT + DTLS_AEAD_TAG;
	case NID_chacha20_poly1305:
		return DTLS_AEAD_TAG;
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
bool dtls_has_short_record(const unsigned char *d, size_t len,
			   size_t overhead)
{
	size_t off = 0;

	if (overhead == 0)
		return false;
	while (off + XTEL_DTLS_HDR_LEN <= len) {
		const unsigned char *r = d + off;
		size_t flen = dtls_rec_len(r);

		if (dtls_rec_epoch(r) != 0 && flen < overhead)
			return true;
		off += XTEL_DTLS_HDR_LEN + flen;
	}
	return false;
}
