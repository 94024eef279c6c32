/* SPDX-License-Identifier: MIT */
/*
 * Tickets sealed without the client certificate. OpenSSL 3.0 seals a
 * TLS 1.2 ticket by encoding the session, decoding that into a fresh copy
 * and encoding the copy (construct_stateless_ticket); the decode parses
 * the client certificate again, whose public key OpenSSL 3.0 decodes
 * through a decoder chain it builds per call (openssl/openssl#19119):
 * ~1.5M of the ~7.2M instructions a full handshake costs the server
 * (docs/CAPACITY.md, "Full handshakes"). Nothing reads that certificate
 * back: a resumption re-checks the identity sealed beside it in the
 * ticket's app data (resume.c), and dtls_ticket_open drops it unread. So
 * just before OpenSSL seals (the ticket generation callback), the SSL's
 * session is replaced by a copy made from its encoding without the
 * certificate: the same master secret, suite, extended-master-secret flag,
 * times, session id context, verify result and app data. The handshake
 * was verified already (certificate chain, CertificateVerify), and the
 * client id was taken from the certificate then; the certificate itself
 * is not needed after the ticket. The tickets are smaller too (~0.5 KB
 * less), and so is every resuming ClientHello.
 *
 * SSL_set_session switches an SSL back to its context's method when they
 * differ, which mid-handshake would discard the handshake's state: the
 * server's context therefore uses the DTLS 1.2 method itself (server.c),
 * not the version-flexible one that switches to it per SSL.
 */
#include <errno.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "dtls/server_internal.h"

int dtls_ticket_shed_peer(SSL *ssl)
{
	SSL_SESSION *cur = SSL_get_session(ssl), *copy = NULL;
	unsigned char *der = NULL, *lean = NULL, *w;
	const unsigned char *r;
	size_t m;
	int n, ret = -EINVAL;

	if (cur == NULL)
		return -EINVAL;
	if (SSL_SESSION_get0_peer(cur) == NULL)
		return 0;	/* nothing to shed (a resumed session) */
	/* SSL_set_session would reset an SSL not of its context's method. */
	if (SSL_CTX_get_ssl_method(SSL_get_SSL_CTX(ssl)) !=
	    SSL_get_ssl_method(ssl))
		return -ENOTSUP;
	n = i2d_SSL_SESSION(cur, NULL);
	if (n <= 0)
		goto out;
	der = OPENSSL_malloc((size_t)n);
	lean = OPENSSL_malloc((size_t)n);
	ret = -ENOMEM;
	if (der == NULL || lean == NULL)
		goto out;
	ret = -EINVAL;
	w = der;
	if (i2d_SSL_SESSION(cur, &w) != n)
		goto out;
	m = dtls_session_der_strip_peer(der, (size_t)n, lean, (size_t)n);
	r = lean;
	copy = m ? d2i_SSL_SESSION(NULL, &r, (long)m) : NULL;
	if (copy == NULL || r != lean + m || SSL_SESSION_get0_peer(copy) != NULL)
		goto out;
	if (SSL_set_session(ssl, copy) == 1)
		ret = 0;
out:
	SSL_SESSION_free(copy);
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)n);
	if (lean != NULL)
		OPENSSL_clear_free(lean, (size_t)n);
	ERR_clear_error();
	return ret;
}
