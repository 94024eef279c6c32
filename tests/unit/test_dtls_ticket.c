// SPDX-License-Identifier: MIT
/*
 * Unit tests of the session tickets' own opening (userspace/dtls/ticket.c,
 * dtls_ticket_open) on what a holder of the ticket key could seal: the
 * MAC checked before anything is decrypted or parsed, the lengths of the
 * ticket, then the DER of the session without its certificate (outer
 * and element lengths, their long forms, truncation at every byte, every
 * bit flipped, a high tag number, the peer element dropped undecoded) and
 * the sealed identity (version, length, serial length). Whatever the
 * plaintext, the answer is a session or an error, never a read outside
 * it (run it under valgrind or ASan).
 *
 * usage: test_dtls_ticket SOURCE_ROOT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#include "dtls/server_internal.h"
#include "dtls_harness.h"

enum {
	NAME = 16, IV = 16, MAC = 32, PLAIN_MAX = 4096,
	/*
	 * version, trust, client id, validity, issuer hash and key id,
	 * anchor hash and key id
	 */
	SERIAL_LEN_AT = 1 + 32 + 4 + 8 + 8 + 8 + 8 + 8 + 8,
};

static unsigned char key[XTEL_DTLS_TICKET_KEY_LEN];

static void with_key(struct xtel_dtls_server_cfg *cfg)
{
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 11 + 5);
	cfg->ticket_key = key;
}

/*
 * A ticket of plain (plen bytes) under key, as dtls_ticket_key_cb seals:
 * name | IV | AES-256-CBC (PKCS#7 padding) | HMAC-SHA256 of the rest.
 * Its length.
 */
static size_t seal(const unsigned char *plain, size_t plen, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned int ml = 0;
	int n = 0, f = 0;

	memcpy(out, key, NAME);
	memset(out + NAME, 0x3c, IV);
	assert_non_null(c);
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, key + 48,
					    out + NAME), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out + NAME + IV, &n, plain,
					   (int)plen), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + NAME + IV + n, &f), 1);
	EVP_CIPHER_CTX_free(c);
	assert_non_null(HMAC(EVP_sha256(), key + 16, 32, out,
			     NAME + IV + (size_t)(n + f),
			     out + NAME + IV + n + f, &ml));
	assert_int_equal(ml, MAC);
	return NAME + IV + (size_t)(n + f) + MAC;
}

/* dtls_ticket_open of plain sealed; a session it gives is freed. */
static int open_plain(struct net *n, const unsigned char *plain, size_t plen,
		      struct dtls_ticket_id *id)
{
	static unsigned char t[PLAIN_MAX + 256];
	SSL_SESSION *ss = NULL;
	int r;

	assert_true(plen + 16 + NAME + IV + MAC <= sizeof(t));
	r = dtls_ticket_open(n->srv, t, seal(plain, plen, t), &ss, id);
	assert_true((r == 0) == (ss != NULL));
	SSL_SESSION_free(ss);
	return r;
}

/* A session as the server seals one: a real DER with our identity. */
static size_t good_session(unsigned char *der, size_t cap,
			   const struct dtls_ticket_id *id)
{
	SSL_CTX *ctx = SSL_CTX_new(DTLS_server_method());
	SSL *ssl = SSL_new(ctx);
	SSL_SESSION *ss = SSL_SESSION_new();
	unsigned char app[DTLS_TICKET_ID_LEN], ms[48], sid[32];
	unsigned char *p = der;
	int len;

	assert_non_null(ss);
	memset(ms, 0x11, sizeof(ms));
	memset(sid, 0x22, sizeof(sid));
	assert_int_equal(SSL_SESSION_set1_master_key(ss, ms, sizeof(ms)), 1);
	assert_int_equal(SSL_SESSION_set1_id(ss, sid, sizeof(sid)), 1);
	assert_int_equal(SSL_SESSION_set_protocol_version(ss, DTLS1_2_VERSION), 1);
	assert_int_equal(SSL_SESSION_set_cipher(ss,
		SSL_CIPHER_find(ssl, (const unsigned char *)"\xc0\x2b")), 1);
	assert_true(SSL_SESSION_set_time(ss, 1000) != 0);
	dtls_ticket_id_encode(id, app);
	assert_int_equal(SSL_SESSION_set1_ticket_appdata(ss, app, sizeof(app)), 1);
	len = i2d_SSL_SESSION(ss, NULL);
	assert_true(len > 0 && (size_t)len <= cap);
	assert_int_equal(i2d_SSL_SESSION(ss, &p), len);
	SSL_SESSION_free(ss);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return (size_t)len;
}

static struct dtls_ticket_id sample_id(void)
{
	struct dtls_ticket_id id = { 0 };

	memset(id.trust, 0x5a, sizeof(id.trust));
	id.client_id = 4242;
	id.not_before = 100;
	id.not_after = 4000000000;
	id.issuer_hash = 0x1122334455667788ULL;
	id.issuer_kid = 0x99aabbccddeeff00ULL;
	id.anchor_hash = 0x0102030405060708ULL;
	id.anchor_kid = 0x8877665544332211ULL;
	id.serial_len = 3;
	id.serial[0] = 1;
	id.serial[1] = 2;
	id.serial[2] = 3;
	id.n_cas = 2;
	id.ca_stored = 2;
	id.ca_key[0] = 0x0a0b0c0d0e0f1011ULL;
	id.ca_key[1] = 0x1213141516171819ULL;
	id.ca_rev[0] = 0x2122232425262728ULL;
	id.ca_rev[1] = 0x3132333435363738ULL;
	return id;
}

/* Field by field: the struct has padding. */
static void assert_id(const struct dtls_ticket_id *a,
		      const struct dtls_ticket_id *b)
{
	assert_memory_equal(a->trust, b->trust, sizeof(a->trust));
	assert_int_equal(a->client_id, b->client_id);
	assert_int_equal(a->not_before, b->not_before);
	assert_int_equal(a->not_after, b->not_after);
	assert_int_equal(a->issuer_hash, b->issuer_hash);
	assert_int_equal(a->issuer_kid, b->issuer_kid);
	assert_int_equal(a->anchor_hash, b->anchor_hash);
	assert_int_equal(a->anchor_kid, b->anchor_kid);
	assert_int_equal(a->serial_len, b->serial_len);
	assert_memory_equal(a->serial, b->serial, a->serial_len);
	assert_int_equal(a->n_cas, b->n_cas);
	assert_int_equal(a->ca_stored, b->ca_stored);
	for (int k = 0; k < a->n_cas; k++) {
		assert_int_equal(a->ca_key[k], b->ca_key[k]);
		assert_int_equal(a->ca_rev[k], b->ca_rev[k]);
	}
}

/*
 * The ticket's own lengths and its MAC: too short, a ciphertext not of
 * whole blocks, one bit of any part changed (name, IV, ciphertext, MAC),
 * too long to open here; a good one opens to the identity sealed.
 */
static void test_ticket_lengths_and_mac(void **state)
{
	struct dtls_ticket_id want = sample_id(), id;
	unsigned char der[2048], t[PLAIN_MAX + 256];
	static unsigned char big[PLAIN_MAX + 16];
	SSL_SESSION *ss = NULL;
	size_t len, tl;
	struct net *n;

	n = net_create(state, with_key);
	len = good_session(der, sizeof(der), &want);
	assert_int_equal(open_plain(n, der, len, &id), 0);
	assert_id(&id, &want);

	tl = seal(der, len, t);
	for (size_t cut = 0; cut < NAME + IV + 16 + MAC; cut++)
		assert_int_equal(dtls_ticket_open(n->srv, t, cut, &ss, &id),
				 -EBADMSG);
	assert_int_equal(dtls_ticket_open(n->srv, t, tl - 1, &ss, &id), -EBADMSG);
	for (size_t i = NAME; i < tl; i += 7) {
		t[i] ^= 0x10;
		assert_int_equal(dtls_ticket_open(n->srv, t, tl, &ss, &id), -EBADMSG);
		t[i] ^= 0x10;
	}
	t[3] ^= 1;
	assert_int_equal(dtls_ticket_open(n->srv, t, tl, &ss, &id), -ENOKEY);
	t[3] ^= 1;
	assert_int_equal(dtls_ticket_open(n->srv, t, tl, &ss, &id), 0);
	SSL_SESSION_free(ss);
	/* A plaintext of more than 4096 bytes takes OpenSSL's way. */
	assert_int_equal(open_plain(n, big, sizeof(big), &id), -E2BIG);
	net_free(n);
}

/*
 * The DER: truncated at every length, every bit flipped, lengths in
 * forms this parser refuses (indefinite, over 3 bytes, past the end) and
 * a high tag number. Each opens to an error or (a flip the decoder
 * tolerates) a session; none reads outside the plaintext.
 */
static void test_ticket_der_mutations(void **state)
{
	struct dtls_ticket_id want = sample_id(), id;
	unsigned char der[2048], m[2048];
	size_t len;
	struct net *n;
	int ok = 0;

	n = net_create(state, with_key);
	len = good_session(der, sizeof(der), &want);
	assert_true(len > 130);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_not_equal(open_plain(n, der, cut, &id), 0);
	for (size_t i = 0; i < len; i++)
		for (int b = 0; b < 8; b++) {
			memcpy(m, der, len);
			m[i] ^= (unsigned char)(1 << b);
			ok += open_plain(n, m, len, &id) == 0;
		}
	assert_true(ok < (int)len * 8);
	/* The outer length: indefinite, then in four bytes. */
	memcpy(m, der, len);
	assert_int_equal(m[0], 0x30);
	m[1] = 0x80;
	assert_int_equal(open_plain(n, m, len, &id), -EBADMSG);
	if (der[1] == 0x81 || der[1] == 0x82) {
		size_t hdr = der[1] == 0x81 ? 3 : 4, body = len - hdr;

		m[0] = 0x30;
		m[1] = 0x84;
		m[2] = 0;
		m[3] = 0;
		m[4] = (unsigned char)(body >> 8);
		m[5] = (unsigned char)body;
		memcpy(m + 6, der + hdr, body);
		assert_int_equal(open_plain(n, m, body + 6, &id), -EBADMSG);
		/* The first element's length past the end, and a high tag. */
		memcpy(m, der, len);
		m[hdr + 1] = 0x83;
		assert_int_equal(open_plain(n, m, len, &id), -EBADMSG);
		memcpy(m, der, len);
		m[hdr] = 0x1f;
		assert_int_equal(open_plain(n, m, len, &id), -EBADMSG);
	}
	net_free(n);
}

/*
 * A peer element ([3]) whose content is no certificate at all is dropped
 * without being decoded: the session opens, the identity is the sealed
 * one.
 */
static void test_ticket_peer_dropped(void **state)
{
	struct dtls_ticket_id want = sample_id(), id;
	unsigned char der[2048], m[2400];
	size_t len, hdr, body, nb, o = 0;
	struct net *n;

	n = net_create(state, with_key);
	len = good_session(der, sizeof(der), &want);
	hdr = der[1] < 0x80 ? 2 : der[1] == 0x81 ? 3 : 4;
	body = len - hdr;
	nb = 3 + 200 + body;
	m[o++] = 0x30;
	m[o++] = 0x82;
	m[o++] = (unsigned char)(nb >> 8);
	m[o++] = (unsigned char)nb;
	m[o++] = 0xa3;		/* [3] peer: 200 bytes of junk */
	m[o++] = 0x81;
	m[o++] = 200;
	memset(m + o, 0xee, 200);
	o += 200;
	memcpy(m + o, der + hdr, body);
	o += body;
	assert_int_equal(open_plain(n, m, o, &id), 0);
	assert_id(&id, &want);
	net_free(n);
}

/*
 * The identity sealed as app data: another version, another length, a
 * serial length over 20 or of 0 (no serial: the CRL check would be
 * skipped) are not ours (-ENOMSG).
 */
static void test_ticket_identity(void **state)
{
	struct dtls_ticket_id want = sample_id(), id;
	unsigned char app[DTLS_TICKET_ID_LEN], big[DTLS_TICKET_ID_LEN + 1];
	struct net *n;

	n = net_create(state, with_key);
	dtls_ticket_id_encode(&want, app);
	assert_int_equal(dtls_ticket_id_decode(app, sizeof(app), &id), 0);
	assert_id(&id, &want);
	assert_int_equal(dtls_ticket_id_decode(app, sizeof(app) - 1, &id), -EINVAL);
	memcpy(big, app, sizeof(app));
	big[sizeof(app)] = 0;
	assert_int_equal(dtls_ticket_id_decode(big, sizeof(big), &id), -EINVAL);
	app[0] = 1;	/* version 1: no issuer key id */
	assert_int_equal(dtls_ticket_id_decode(app, sizeof(app), &id), -EINVAL);
	app[0] = 2;	/* version 2: no trust anchor */
	assert_int_equal(dtls_ticket_id_decode(app, sizeof(app), &id), -EINVAL);
	app[0] = 3;	/* version 3: no intermediate CAs */
	assert_int_equal(dtls_ticket_id_decode(app, sizeof(app), &id), -EINVAL);
	app[0] = 4;
	/* More intermediates than a session notes: not ours. */
	assert_int_equal(app[SERIAL_LEN_AT + 1 + SERIAL_MAX], 2);
	app[SERIAL_LEN_AT + 1 + SERIAL_MAX] = DTLS_CHAIN_CAS + 1;
	assert_int_equal(dtls_ticket_id_decode(app, sizeof(app), &id), -EINVAL);
	app[SERIAL_LEN_AT + 1 + SERIAL_MAX] = 2;
	assert_int_equal(app[SERIAL_LEN_AT], 3);
	app[SERIAL_LEN_AT] = SERIAL_MAX + 1;
	assert_int_equal(dtls_ticket_id_decode(app, sizeof(app), &id), -EINVAL);
	app[SERIAL_LEN_AT] = 0;
	assert_int_equal(dtls_ticket_id_decode(app, sizeof(app), &id), -EINVAL);
	app[SERIAL_LEN_AT] = SERIAL_MAX;
	assert_int_equal(dtls_ticket_id_decode(app, sizeof(app), &id), 0);
	net_free(n);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ticket_lengths_and_mac),
		cmocka_unit_test(test_ticket_der_mutations),
		cmocka_unit_test(test_ticket_peer_dropped),
		cmocka_unit_test(test_ticket_identity),
	};

	return dtls_harness_main(argc, argv, "dtls_ticket", tests);
}
