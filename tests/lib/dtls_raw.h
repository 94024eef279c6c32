/* SPDX-License-Identifier: MIT */
/*
 * A DTLS client made directly of OpenSSL, for the few tests that need a
 * client XTel's own (dtls/client.h) will not be: one without the extended
 * master secret, one that renegotiates. It takes a slot of the harness's
 * net (its address) but no xtel_dtls_client, so a test that uses one
 * exchanges datagrams with raw_pump(), never pump().
 */
#ifndef XTEL_TESTS_DTLS_RAW_H
#define XTEL_TESTS_DTLS_RAW_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "dtls_harness.h"

struct raw_client {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *bio;		/* ring mode, owned by ssl */
	int slot;		/* its address: n->cl[slot] */
	unsigned int alerts_rx;	/* alerts received */
	int last_alert;		/* (level << 8) | description, -1: none */
	int hs_ret;		/* the last SSL_do_handshake() result */
	unsigned int records_rx;	/* application data read */
	unsigned int dgrams_rx;		/* datagrams from the server */
};

/*
 * A client in the next slot of n with certdir-relative crt/key (NULL: no
 * certificate), trusting the real CA, options set_opts added to and
 * clear_opts removed from OpenSSL's defaults. Its ClientHello is queued.
 */
struct raw_client *raw_client_new(struct net *n, const char *crt,
				  const char *key, uint64_t set_opts,
				  uint64_t clear_opts);
void raw_client_free(struct raw_client *r);

/*
 * Move datagrams between r and the server until nothing moves, driving
 * r's handshake (or reading once it is done). Server datagrams to other
 * slots are dropped. Returns the datagrams moved.
 */
unsigned int raw_pump(struct net *n, struct raw_client *r);

/* SSL_renegotiate() and queue the new ClientHello (epoch 1). */
void raw_renegotiate(struct raw_client *r);

/* Write one telemetry record claiming client id `id`. */
void raw_send_record(struct raw_client *r, uint32_t id, uint64_t seq);

#endif /* XTEL_TESTS_DTLS_RAW_H */
