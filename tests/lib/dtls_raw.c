// SPDX-License-Identifier: MIT
/*
 * The OpenSSL-only DTLS client of dtls_raw.h: the in-memory net's server
 * on one side, OpenSSL's client state machine with the test's options on
 * the other, over XTel's datagram BIO.
 */
#include <stdlib.h>

#include <openssl/err.h>

#include "dtls/internal.h"
#include "dtls_raw.h"
#include "wire/wire.h"

static void info_cb(const SSL *ssl, int where, int ret)
{
	struct raw_client *r = SSL_get_app_data(ssl);

	/* SSL_CB_READ_ALERT and _WRITE_ALERT share the ALERT bit. */
	if (where == SSL_CB_READ_ALERT) {
		r->alerts_rx++;
		r->last_alert = ret;
	}
}

struct raw_client *raw_client_new(struct net *n, const char *crt,
				  const char *key, uint64_t set_opts,
				  uint64_t clear_opts)
{
	struct raw_client *r = calloc(1, sizeof(*r));
	struct tclient *t = &n->cl[n->ncl];

	assert_non_null(r);
	assert_true(n->ncl < MAX_CLIENTS);
	r->slot = n->ncl++;
	r->last_alert = -1;
	client_addr(t, r->slot);
	r->ctx = SSL_CTX_new(DTLS_client_method());
	assert_non_null(r->ctx);
	assert_int_equal(SSL_CTX_set_min_proto_version(r->ctx, DTLS1_2_VERSION), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(r->ctx, DTLS1_2_VERSION), 1);
	assert_int_equal(SSL_CTX_load_verify_locations(r->ctx, cert("ca.crt"),
						       NULL), 1);
	SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER, NULL);
	if (crt != NULL) {
		assert_int_equal(SSL_CTX_use_certificate_file(r->ctx, cert(crt),
			SSL_FILETYPE_PEM), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(r->ctx, cert(key),
			SSL_FILETYPE_PEM), 1);
	}
	SSL_CTX_set_options(r->ctx, set_opts);
	SSL_CTX_clear_options(r->ctx, clear_opts);
	r->ssl = SSL_new(r->ctx);
	assert_non_null(r->ssl);
	r->bio = xtel_dgram_bio_new(32);
	assert_non_null(r->bio);
	assert_int_equal(dtls_ssl_attach_bio(r->ssl, r->bio), 0);
	SSL_set_app_data(r->ssl, r);
	SSL_set_info_callback(r->ssl, info_cb);
	SSL_set_connect_state(r->ssl);
	r->hs_ret = SSL_do_handshake(r->ssl);
	ERR_clear_error();
	return r;
}

void raw_client_free(struct raw_client *r)
{
	if (r == NULL)
		return;
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
	free(r);
}

/* After input: advance the handshake, or read what arrived. */
static void drive(struct raw_client *r)
{
	unsigned char buf[2048];

	if (!SSL_is_init_finished(r->ssl) || SSL_renegotiate_pending(r->ssl)) {
		r->hs_ret = SSL_do_handshake(r->ssl);
		if (r->hs_ret != 1) {
			ERR_clear_error();
			return;
		}
	}
	while (SSL_read(r->ssl, buf, sizeof(buf)) > 0)
		r->records_rx++;
	ERR_clear_error();
}

unsigned int raw_pump(struct net *n, struct raw_client *r)
{
	const struct tclient *t = &n->cl[r->slot];
	unsigned char buf[XTEL_DGRAM_SLOT_SIZE];
	unsigned int moved = 0, rounds = 0;
	bool again = true;

	while (again) {
		ssize_t len;

		again = false;
		assert_true(++rounds < 1000);
		while ((len = xtel_dgram_bio_pop(r->bio, buf, sizeof(buf))) > 0) {
			again = true;
			moved++;
			assert_int_equal(xtel_dtls_server_input(n->srv, &t->addr.sa,
				t->addr_len, buf, (size_t)len, fake_now), 0);
		}
		for (int k = 0; k < n->nq; k++) {
			const struct pkt *q = &n->q[k];

			again = true;
			moved++;
			if (q->to != r->slot)
				continue;
			r->dgrams_rx++;
			xtel_dgram_bio_set_input(r->bio, q->data, q->len);
			drive(r);
			xtel_dgram_bio_clear_input(r->bio);
		}
		n->nq = 0;
	}
	return moved;
}

void raw_renegotiate(struct raw_client *r)
{
	assert_int_equal(SSL_renegotiate(r->ssl), 1);
	r->hs_ret = SSL_do_handshake(r->ssl);
	ERR_clear_error();
}

void raw_send_record(struct raw_client *r, uint32_t id, uint64_t seq)
{
	unsigned char buf[XTEL_MAX_DATAGRAM];
	ssize_t len = xtel_wire_encode(buf, sizeof(buf), XTEL_MSG_DATA, id, seq,
				       fake_now, "a=1", 3);

	assert_true(len > 0);
	assert_int_equal(SSL_write(r->ssl, buf, (int)len), (int)len);
}
