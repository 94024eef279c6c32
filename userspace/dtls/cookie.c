/* SPDX-License-Identifier: MIT */
/*
 * Stateless cookies (RFC 6347 4.2.1), the server's proof that a peer owns
 * its address before anything is stored for it. OpenSSL's DTLSv1_listen
 * asks for them through the callbacks installed here.
 *
 * Cookies are HMAC-SHA256(secret, period number || address || port ||
 * ClientHello random) truncated to 20 bytes, prefixed by the low byte of
 * the period number so verification picks the current or previous secret
 * with one HMAC. The secret is replaced each cookie_period, so a cookie
 * lives 1-2 periods. The random is in the MAC because a client resends the
 * same random with the cookie: a ClientHello seen on the wire then cannot
 * be replayed with a new random to start another handshake in the
 * client's name, and one with the same random is recognised as a copy.
 *
 * While a handshake lives, a copy of its ClientHello goes to it (it is
 * keyed by address and port). Once it is dead (failed, timed out, closed)
 * a copy replayed from the client's address within the cookie's life would
 * start a new one in the client's name, so the cookies that started a
 * handshake are remembered for the two periods a cookie can live: the
 * cookie is the MAC of period, peer and ClientHello random, so this
 * remembers each random per peer and period. A copy is refused as
 * cookie_replay; the client itself starts over with a new random, or gets
 * a new cookie once this one expires.
 *
 * The memory is a Bloom filter per period (COOKIE_USED_BITS bits, 4 bits
 * per cookie taken from the MAC itself, which is unpredictable without the
 * secret): fixed size whatever the handshake rate, never a false "new". A
 * false "used" is a fresh cookie refused until it expires, and its client
 * keeps resending that ClientHello, so it matters: a restart storm starts
 * 20,000 handshakes within one period, where 2^19 bits refused 2 devices of
 * 10,000 until their handshake timed out (4 in 10,000 per cookie, both
 * periods checked). 2^22 bits make it 3 in 10 million at 20,000 and 1-2 in
 * 10,000 at 100,000 handshakes per period, for 1 MiB per worker.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "dtls/server_internal.h"

enum {
	COOKIE_LEN = 1 + COOKIE_MAC_LEN,
	COOKIE_USED_BITS = 1 << 22,	/* 512 KiB per period */
	COOKIE_USED_HASHES = 4,
};

/* A new period begins: `gap` periods after the last one. */
static void used_rotate(struct dtls_cookies *ck, uint64_t gap)
{
	if (ck->used[0] == NULL)
		return;
	if (gap == 1) {
		uint64_t *t = ck->used[1];

		ck->used[1] = ck->used[0];
		ck->used[0] = t;
	} else {
		memset(ck->used[1], 0, COOKIE_USED_BITS / 8);
	}
	memset(ck->used[0], 0, COOKIE_USED_BITS / 8);
}

/* Bit i of the filter for the cookie MAC m (22 bits from its bytes). */
static uint32_t used_bit(const unsigned char *m, int i)
{
	uint32_t v = (uint32_t)m[3 * i] << 16 | (uint32_t)m[3 * i + 1] << 8 |
		     m[3 * i + 2];

	return v & (COOKIE_USED_BITS - 1);
}

static bool used_in(const uint64_t *f, const unsigned char *m)
{
	for (int i = 0; i < COOKIE_USED_HASHES; i++) {
		uint32_t b = used_bit(m, i);

		if (!(f[b / 64] >> (b % 64) & 1))
			return false;
	}
	return true;
}

bool dtls_cookie_used(const struct xtel_dtls_server *srv)
{
	const struct dtls_cookies *ck = &srv->cookie;

	if (!ck->have_verified || ck->used[0] == NULL)
		return false;
	return used_in(ck->used[0], ck->verified) ||
	       used_in(ck->used[1], ck->verified);
}

void dtls_cookie_mark_used(struct xtel_dtls_server *srv)
{
	struct dtls_cookies *ck = &srv->cookie;

	if (!ck->have_verified || ck->used[0] == NULL)
		return;
	for (int i = 0; i < COOKIE_USED_HASHES; i++) {
		uint32_t b = used_bit(ck->verified, i);

		ck->used[0][b / 64] |= 1ull << (b % 64);
	}
}

/*
 * Move to the secret of period now / cookie_period. A secret is never a
 * constant: when RAND_bytes fails the current secret simply serves another
 * period (the period number is inside the MAC, so older cookies do not
 * come back to life), and before the first secret exists no cookie is
 * issued or accepted, which refuses new handshakes until RAND recovers.
 */
void dtls_cookie_rotate(struct xtel_dtls_server *srv, uint64_t now)
{
	struct dtls_cookies *ck = &srv->cookie;
	uint64_t p = now / srv->cfg.cookie_period;
	unsigned char fresh[SECRET_LEN];

	if (ck->have_period && p == ck->period)
		return;
	if (RAND_bytes(fresh, SECRET_LEN) != 1) {
		ERR_clear_error();
		srv->st.cookie_rand_failed++;
		if (!ck->have_period) {
			dtls_srv_log(srv, "dtls: RAND_bytes failed: no cookie "
				     "secret yet, refusing new handshakes");
			return;
		}
		dtls_srv_log(srv, "dtls: RAND_bytes failed: keeping the previous "
			     "cookie secret for another period");
		memcpy(ck->secret[1], ck->secret[0], SECRET_LEN);
		used_rotate(ck, p - ck->period);
		ck->period = p;
		return;
	}
	used_rotate(ck, ck->have_period ? p - ck->period : 2);
	if (ck->have_period && p == ck->period + 1) {
		memcpy(ck->secret[1], ck->secret[0], SECRET_LEN);
	} else {
		/*
		 * First use or a gap: no earlier cookie can still be valid, and
		 * the previous slot's MAC includes a period no cookie carries
		 * now; a copy of the fresh secret is as good as another one.
		 */
		memcpy(ck->secret[1], fresh, SECRET_LEN);
	}
	memcpy(ck->secret[0], fresh, SECRET_LEN);
	OPENSSL_cleanse(fresh, sizeof(fresh));
	ck->period = p;
	ck->have_period = true;
}

static int cookie_mac(struct dtls_cookies *ck, const unsigned char *secret,
		      uint64_t period, const struct peer_key *k,
		      const unsigned char random[32],
		      unsigned char out[COOKIE_MAC_LEN])
{
	unsigned char full[EVP_MAX_MD_SIZE], pbytes[8];
	size_t outl = 0;

	for (int i = 0; i < 8; i++)
		pbytes[i] = (unsigned char)(period >> (56 - 8 * i));
	if (EVP_MAC_init(ck->mac_ctx, secret, SECRET_LEN, NULL) != 1 ||
	    EVP_MAC_update(ck->mac_ctx, pbytes, sizeof(pbytes)) != 1 ||
	    EVP_MAC_update(ck->mac_ctx, (const unsigned char *)k,
			   sizeof(*k)) != 1 ||
	    EVP_MAC_update(ck->mac_ctx, random, 32) != 1 ||
	    EVP_MAC_final(ck->mac_ctx, full, &outl, sizeof(full)) != 1 ||
	    outl < COOKIE_MAC_LEN) {
		ERR_clear_error();
		return -EIO;
	}
	memcpy(out, full, COOKIE_MAC_LEN);
	return 0;
}

static struct xtel_dtls_server *ssl_server(SSL *ssl)
{
	return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

static int cookie_generate_cb(SSL *ssl, unsigned char *cookie,
			      unsigned int *cookie_len)
{
	struct xtel_dtls_server *srv = ssl_server(ssl);
	const struct peer_key *k = SSL_get_ex_data(ssl, dtls_ex_peer_idx);
	struct dtls_cookies *ck;

	if (srv == NULL || k == NULL || !srv->cookie.have_period)
		return 0;
	ck = &srv->cookie;
	cookie[0] = (unsigned char)ck->period;
	if (cookie_mac(ck, ck->secret[0], ck->period, k, srv->cur_random,
		       cookie + 1))
		return 0;
	*cookie_len = COOKIE_LEN;
	srv->st.cookie_sent++;
	return 1;
}

static int cookie_verify_cb(SSL *ssl, const unsigned char *cookie,
			    unsigned int cookie_len)
{
	struct xtel_dtls_server *srv = ssl_server(ssl);
	const struct peer_key *k = SSL_get_ex_data(ssl, dtls_ex_peer_idx);
	unsigned char want[COOKIE_MAC_LEN];
	const unsigned char *secret;
	struct dtls_cookies *ck;
	uint64_t period;

	if (srv == NULL || k == NULL || !srv->cookie.have_period)
		return 0;
	ck = &srv->cookie;
	if (cookie_len != COOKIE_LEN)
		goto bad;
	if (cookie[0] == (unsigned char)ck->period) {
		secret = ck->secret[0];
		period = ck->period;
	} else if (cookie[0] == (unsigned char)(ck->period - 1)) {
		secret = ck->secret[1];
		period = ck->period - 1;
	} else {
		goto bad;
	}
	if (cookie_mac(ck, secret, period, k, srv->cur_random, want) ||
	    CRYPTO_memcmp(want, cookie + 1, COOKIE_MAC_LEN) != 0)
		goto bad;
	memcpy(ck->verified, want, COOKIE_MAC_LEN);
	ck->have_verified = true;
	return 1;
bad:
	srv->st.cookie_bad++;
	return 0;
}

int dtls_cookie_init(struct xtel_dtls_server *srv)
{
	static char sha256_name[] = "SHA256";
	struct dtls_cookies *ck = &srv->cookie;
	OSSL_PARAM params[2];

	SSL_CTX_set_cookie_generate_cb(srv->ctx, cookie_generate_cb);
	SSL_CTX_set_cookie_verify_cb(srv->ctx, cookie_verify_cb);
	ck->used[0] = calloc(COOKIE_USED_BITS / 8, 1);
	ck->used[1] = calloc(COOKIE_USED_BITS / 8, 1);
	if (ck->used[0] == NULL || ck->used[1] == NULL) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	ck->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ck->mac_ctx = ck->mac ? EVP_MAC_CTX_new(ck->mac) : NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     sha256_name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ck->mac_ctx == NULL ||
	    EVP_MAC_CTX_set_params(ck->mac_ctx, params) != 1) {
		pr_err("HMAC-SHA256 unavailable (%s)", dtls_openssl_reason());
		return -ENOSYS;
	}
	return 0;
}

void dtls_cookie_free(struct xtel_dtls_server *srv)
{
	EVP_MAC_CTX_free(srv->cookie.mac_ctx);
	EVP_MAC_free(srv->cookie.mac);
	OPENSSL_cleanse(srv->cookie.secret, sizeof(srv->cookie.secret));
	free(srv->cookie.used[0]);
	free(srv->cookie.used[1]);
}
