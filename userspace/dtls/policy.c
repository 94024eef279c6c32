/* SPDX-License-Identifier: MIT */
/*
 * Why the server refused a client: every failed handshake gets exactly one
 * reason of XTEL_DTLS_FAIL_STATS (dtls/server.h), from the checks of our
 * own that refused it (the CN, a session's fail mark) or else from what
 * OpenSSL's certificate verification or handshake reported. The reason is
 * counted in its own counter next to handshake_failed and handed to
 * cfg.on_failure, so a user learns which clients fail and why.
 */
#include <openssl/err.h>
#include <openssl/x509.h>

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
