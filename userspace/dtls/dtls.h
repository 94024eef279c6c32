/* SPDX-License-Identifier: MIT */
/*
 * DTLS 1.2 sessions without sockets, for both ends of XTel: the collector's
 * per-worker server (many clients on one UDP port) and the load generator's
 * simulated clients. Datagrams come in as buffers and go out through a
 * callback (server) or a queue the caller pops (client); the callers own all
 * socket I/O and the clock (monotonic nanoseconds passed in as `now`).
 *
 * Both ends use mutual certificate authentication: ECDHE-ECDSA with AES-GCM
 * or ChaCha20-Poly1305, no renegotiation, no tickets, no compression.
 *
 * The server runs OpenSSL for the cookie exchange and the handshake only.
 * An established session is then served by a small built-in DTLS 1.2 AEAD
 * record layer (keys derived from the session's master secret), so it costs
 * about 1.6 KiB instead of OpenSSL's ~41 KiB, and a record about 0.3 us
 * instead of 1 us (bench/bench_dtls.cc). cfg.openssl_records keeps
 * OpenSSL's record layer instead. The client takes the same layer over
 * after its handshake (~0.8 KB a session instead of ~60 KB; dtls/client.h).
 *
 * This header holds what both ends share: size limits and identities. The
 * client is declared in dtls/client.h, the server in dtls/server.h; a
 * program links only the side it uses (the load generator never links the
 * server).
 *
 * Messages go through common/log.h. Loading (xtel_dtls_identity_load,
 * xtel_dtls_client_ctx_new and the server's create) logs every failure with
 * pr_err, naming the file, and returns a negative errno:
 *   -ENOENT, -EACCES, ...  a file cannot be opened (errno of open)
 *   -EBADMSG               the certificate or key file is not valid PEM
 *   -EKEYREJECTED          the private key does not match the certificate
 *   -ENOMSG                the CA file holds no usable certificate
 */
#ifndef XTEL_DTLS_H
#define XTEL_DTLS_H

#include <stddef.h>
#include <stdint.h>

enum {
	/*
	 * Largest DTLS datagram either end emits: handshake flights are
	 * fragmented to fit, application records are limited to
	 * XTEL_DTLS_MAX_PLAINTEXT bytes of plaintext (an XTel datagram,
	 * XTEL_MAX_DATAGRAM = 1228, always fits).
	 */
	XTEL_DTLS_MTU = 1400,
	XTEL_DTLS_MAX_PLAINTEXT = 1300,
	/* Room for any text xtel_dtls_client_error() returns. */
	XTEL_DTLS_ERR_LEN = 256,
};

/* ------------------------------------------------------------------ */
/* Identities: a certificate and its private key, loaded once.        */
/* ------------------------------------------------------------------ */

struct xtel_dtls_identity;

/*
 * Load a PEM certificate and its PEM private key and check that they
 * belong together. Errors: see the top of this file.
 */
int xtel_dtls_identity_load(struct xtel_dtls_identity **out,
			    const char *cert_file, const char *key_file);
void xtel_dtls_identity_free(struct xtel_dtls_identity *id);

/*
 * Loading many identities (a load generator's clients): a loader keeps
 * one PEM key decoder for all of them, which OpenSSL 3.0 otherwise builds
 * for every key (about 3x the load's cost). The same checks and errors as
 * xtel_dtls_identity_load, which is load_with(NULL, ...). One thread's.
 */
struct xtel_dtls_identity_loader;
int xtel_dtls_identity_loader_new(struct xtel_dtls_identity_loader **out);
void xtel_dtls_identity_loader_free(struct xtel_dtls_identity_loader *l);
int xtel_dtls_identity_load_with(struct xtel_dtls_identity_loader *l,
				 struct xtel_dtls_identity **out,
				 const char *cert_file, const char *key_file);

/*
 * Check an OpenSSL cipher list (the server's cfg.ciphers): it may enable
 * only the three AEAD suites of the server's built-in record layer,
 * ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-ECDSA-CHACHA20-POLY1305 and
 * ECDHE-ECDSA-AES256-GCM-SHA384. Logs what is wrong with pr_err and
 * returns -EINVAL (no usable suite at all) or -ENOTSUP (it enables another
 * suite, named in the message); 0 when it is fine.
 */
int xtel_dtls_check_ciphers(const char *list);

#endif /* XTEL_DTLS_H */
