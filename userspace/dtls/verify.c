/* SPDX-License-Identifier: MIT */
/*
 * Which clients the server accepts, and why it refused one. On top of
 * OpenSSL's verification (chain to the CA file, validity, OpenSSL's
 * lenient purpose check) the client's certificate must carry key usage
 * digitalSignature and extended key usage clientAuth, both present: a
 * certificate issued for something else (a server, code signing, no
 * stated purpose) is not a client's. The ClientHello must offer the
 * extended master secret.
 *
 * Every failed handshake gets exactly one reason of XTEL_DTLS_FAIL_STATS
 * (dtls/server.h), from the check of our own that refused it (the CN, the
 * key usage, ...) or else from what OpenSSL's verification or handshake
 * reported. The reason is counted in its own counter next to
 * handshake_failed, so a user learns which clients fail and why.
 */
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dtls/server_internal.h"

_Static_assert(XTEL_DTLS_STAT_FAILED_OTHER - XTEL_DTLS_STAT_FAILED_UNKNOWN_CA ==
	       XTEL_DTLS_FAILED_OTHER,
	       "the failed_* counters are one block in reason order");

const char *xtel_dtls_fail_name(enum xtel_dtls_fail reason)
{
	static const char prefix[] = "failed_";

	if ((unsigned int)reason >= XTEL_DTLS_NFAILS)
		return "unknown";
	return xtel_dtls_server_stat_names[xtel_dtls_fail_stat(reason)] +
	       sizeof(prefix) - 1;
}

/* Refuse the certificate being verified for our reason, with error err. */
static int refuse(struct session *s, X509_STORE_CTX *xs,
		  enum xtel_dtls_fail reason, int err)
{
	s->fail_set = true;
	s->fail = (uint8_t)reason;
	X509_STORE_CTX_set_error(xs, err);
	return 0;
}

/*
 * Both extensions present and saying so. OpenSSL's purpose check accepts
 * a certificate without them (no extension means any use).
 */
static int check_key_usage(struct session *s, X509_STORE_CTX *xs, X509 *leaf)
{
	uint32_t flags = X509_get_extension_flags(leaf);

	if (!(flags & EXFLAG_KUSAGE) ||
	    !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
		return refuse(s, xs, XTEL_DTLS_FAILED_KEY_USAGE,
			      X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE);
	if (!(flags & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT))
		return refuse(s, xs, XTEL_DTLS_FAILED_KEY_USAGE,
			      X509_V_ERR_INVALID_PURPOSE);
	return 1;
}

int dtls_check_leaf(struct session *s, X509_STORE_CTX *xs, int ok)
{
	X509 *leaf = X509_STORE_CTX_get_current_cert(xs);

	if (!ok || leaf == NULL)
		return ok;
	return check_key_usage(s, xs, leaf);
}

/*
 * The ClientHello must offer the extended master secret (RFC 7627): the
 * built-in record layer derives its keys from the master secret, and
 * without EMS a man in the middle can make two sessions share one (the
 * triple handshake attack). RFC 7627 5.3 lets a server refuse such a
 * client; this one does, with a handshake_failure alert, before any key
 * exchange work. DTLSv1_listen does not run this callback: it comes with
 * the session's first SSL_do_handshake, so the session is known.
 */
static int hello_cb(SSL *ssl, int *al, void *arg)
{
	struct session *s = SSL_get_ex_data(ssl, dtls_ex_session_idx);
	const unsigned char *ext;
	size_t len;

	(void)arg;
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_extended_master_secret,
				      &ext, &len) == 1)
		return SSL_CLIENT_HELLO_SUCCESS;
	if (s != NULL) {
		s->fail_set = true;
		s->fail = XTEL_DTLS_FAILED_NO_EMS;
	}
	*al = SSL_AD_HANDSHAKE_FAILURE;
	return SSL_CLIENT_HELLO_ERROR;
}

void dtls_verify_install(SSL_CTX *ctx)
{
	SSL_CTX_set_client_hello_cb(ctx, hello_cb, NULL);
}

/* The reason of an X509_V_ERR_* result of the client's certificate. */
static enum xtel_dtls_fail verify_reason(long vr)
{
	switch (vr) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return XTEL_DTLS_FAILED_UNKNOWN_CA;
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return XTEL_DTLS_FAILED_EXPIRED;
	case X509_V_ERR_CERT_REVOKED:
		return XTEL_DTLS_FAILED_REVOKED;
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
		return XTEL_DTLS_FAILED_KEY_USAGE;
	default:
		return XTEL_DTLS_FAILED_OTHER;
	}
}

/*
 * Call before OpenSSL's error queue is cleared: a client that sent no
 * certificate is known only by the handshake's error.
 */
enum xtel_dtls_fail dtls_fail_reason(const struct session *s)
{
	unsigned long e = ERR_peek_last_error();
	long vr;

	if (s->fail_set)
		return (enum xtel_dtls_fail)s->fail;
	if (s->bad_cn)
		return XTEL_DTLS_FAILED_BAD_CN;
	if (s->ssl == NULL)
		return XTEL_DTLS_FAILED_OTHER;
	vr = SSL_get_verify_result(s->ssl);
	if (vr != X509_V_OK)
		return verify_reason(vr);
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		return XTEL_DTLS_FAILED_NO_CERT;
	return XTEL_DTLS_FAILED_OTHER;
}

void dtls_count_failure(struct xtel_dtls_server *srv, struct session *s,
			enum xtel_dtls_fail reason)
{
	uint64_t *st = (uint64_t *)&srv->st;

	srv->st.handshake_failed++;
	st[xtel_dtls_fail_stat(reason)]++;
	(void)s;
}
