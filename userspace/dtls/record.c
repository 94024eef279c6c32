/* SPDX-License-Identifier: MIT */
/*
 * The built-in DTLS 1.2 AEAD record layer of the server: key derivation,
 * record decryption and record encryption. This file is all the
 * cryptography XTel does itself; everything else is OpenSSL's.
 *
 * Why it exists: an established OpenSSL 3.0 DTLS connection keeps about
 * 41 KiB even with its record buffers released (the 22 KiB handshake
 * buffer stays for retransmitted Finished messages, plus the SSL, session
 * and peer certificate). A collector holding 100k clients cannot afford
 * that. Once the handshake is complete, all that is left is to decrypt
 * epoch-1 records and to send an alert, so the server keeps only the keys
 * derived here and frees the SSL (established.c does the take-over).
 *
 * Contract:
 * - Suites: ECDHE-ECDSA with AES-128-GCM, AES-256-GCM (RFC 5288: 4-byte
 *   implicit salt + 8-byte explicit nonce) or ChaCha20-Poly1305 (RFC 7905:
 *   IV xor epoch||sequence). Anything else is -ENOTSUP and the session
 *   stays on OpenSSL's layer.
 * - Keys: key_block = PRF(master_secret, "key expansion", server_random +
 *   client_random) with the handshake's PRF hash (RFC 5246 6.3), split into
 *   client_write_key, server_write_key, client_write_IV, server_write_IV.
 *   Only when the extended master secret (RFC 7627) was negotiated: without
 *   it a master secret can be shared with another connection (triple
 *   handshake) and so would these keys.
 * - Additional data per RFC 6347 4.1.2.1: epoch || sequence number, type,
 *   version, plaintext length.
 * - dtls_rl_open authenticates one record; it does not judge the header
 *   (version, epoch) nor replays: the caller checks those before and keeps
 *   the replay window, marking a record seen only after open succeeded.
 * - dtls_rl_seal numbers its records from tx_seq, which the caller must set
 *   past every epoch-1 record OpenSSL already sent under the same key (the
 *   GCM explicit nonce is the record number: a repeat would reuse a
 *   nonce). A number is consumed even when sealing fails.
 * - Keys are wiped when cleared; key material on the stack is wiped before
 *   return. One dtls_rl_keys belongs to one session on one thread.
 * - Decrypt contexts belong to the server's dtls_rl_cache (record.h), not
 *   to a session: a record whose key is not in its slot re-keys it first
 *   (key, and for GCM the TLS-mode fixed IV). A slot decrypts only for
 *   the id it is tagged with, and a session's slot is wiped when its keys
 *   are cleared (EVP_CIPHER_CTX_reset: the provider frees its state with
 *   OPENSSL_clear_free).
 * - A server's cache (dtls_rl_cache_init) keys and opens GCM slots through
 *   the provider's own cipher functions, found once per server with
 *   OSSL_PROVIDER_query_operation: the same provider code EVP would call,
 *   without EVP's per-init parameter queries; the provider's freectx wipes
 *   such a context. ChaCha20-Poly1305 goes through the EVP calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/provider.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "bpf/xtel_wire.h"
#include "common/log.h"
#include "dtls/internal.h"
#include "dtls/record.h"

enum {
	KEY_MAX = 32,
	IV_MAX = 12,
	NONCE_LEN = 12,
	AAD_LEN = 13,
	LABEL_LEN = 13,		/* "key expansion" */
};

/* Whether name is one of an algorithm's names ("A:B:C", any case). */
static bool names_have(const char *names, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = names; p != NULL && *p != '\0';) {
		const char *end = strchr(p, ':');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len == n && strncasecmp(p, name, n) == 0)
			return true;
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

/*
 * The functions of ci's implementation, from the provider that gave it
 * (the public core API: OSSL_PROVIDER_query_operation), into g; g stays
 * zeroed when one is missing. They stay valid while ci holds its
 * provider.
 */
static void find_gcm(const EVP_CIPHER *ci, const char *name,
		     struct dtls_rl_gcm *g)
{
	const OSSL_PROVIDER *prov = ci != NULL ? EVP_CIPHER_get0_provider(ci) : NULL;
	const OSSL_ALGORITHM *alg, *algs;
	struct dtls_rl_gcm f = { 0 };
	int no_cache = 0;

	memset(g, 0, sizeof(*g));
	if (prov == NULL ||
	    (algs = OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER,
						  &no_cache)) == NULL)
		return;
	for (alg = algs; alg->algorithm_names != NULL; alg++)
		if (names_have(alg->algorithm_names, name))
			break;
	for (const OSSL_DISPATCH *d = alg->implementation;
	     alg->algorithm_names != NULL && d->function_id != 0; d++) {
		switch (d->function_id) {
		case OSSL_FUNC_CIPHER_NEWCTX:
			f.newctx = OSSL_FUNC_cipher_newctx(d);
			break;
		case OSSL_FUNC_CIPHER_FREECTX:
			f.freectx = OSSL_FUNC_cipher_freectx(d);
			break;
		case OSSL_FUNC_CIPHER_DECRYPT_INIT:
			f.dinit = OSSL_FUNC_cipher_decrypt_init(d);
			break;
		case OSSL_FUNC_CIPHER_CIPHER:
			f.cipher = OSSL_FUNC_cipher_cipher(d);
			break;
		case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
			f.set_ctx_params = OSSL_FUNC_cipher_set_ctx_params(d);
			break;
		}
	}
	OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs);
	f.provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
	if (f.newctx != NULL && f.freectx != NULL && f.dinit != NULL &&
	    f.cipher != NULL && f.set_ctx_params != NULL)
		*g = f;
}

/*
 * Keep cipher *ci for the built-in layer only when it proves itself. The
 * layer relies on the provider honouring the TLS-mode parameters (fixed
 * IV, AAD) that make it check the tag; a provider that ignored an unknown
 * parameter, as OpenSSL's convention allows, would open forged records.
 * So a record sealed here must open, through the provider's functions (g)
 * and through the EVP calls, and the same record with one bit of its tag,
 * its header (the AAD) or its ciphertext flipped must not. A cipher that
 * fails is dropped (its sessions stay on OpenSSL's record layer), said
 * once.
 */
static void algs_prove(struct dtls_rl_algs *a, EVP_CIPHER **ci,
		       uint8_t key_len, bool chacha, struct dtls_rl_gcm *g)
{
	if (*ci == NULL)
		return;
	if (dtls_rl_cipher_proves(a, *ci, key_len, chacha, false) == 0 &&
	    (g == NULL || g->newctx == NULL ||
	     dtls_rl_cipher_proves(a, *ci, key_len, chacha, true) == 0))
		return;
	pr_warn("dtls: %s of provider %s failed the record layer's self-test "
		"(a sealed record did not open or a changed one did); its "
		"sessions use OpenSSL's record layer",
		EVP_CIPHER_get0_name(*ci),
		OSSL_PROVIDER_get0_name(EVP_CIPHER_get0_provider(*ci)));
	EVP_CIPHER_free(*ci);
	*ci = NULL;
	if (g != NULL)
		memset(g, 0, sizeof(*g));
	ERR_clear_error();
}

void dtls_rl_algs_fetch(struct dtls_rl_algs *a)
{
	/* Missing algorithms only disable the built-in layer. */
	a->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	a->sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
	a->aes128gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	a->aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	a->chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	find_gcm(a->aes128gcm, "AES-128-GCM", &a->gcm128);
	find_gcm(a->aes256gcm, "AES-256-GCM", &a->gcm256);
	ERR_clear_error();
	algs_prove(a, &a->aes128gcm, 16, false, &a->gcm128);
	algs_prove(a, &a->aes256gcm, 32, false, &a->gcm256);
	algs_prove(a, &a->chacha, 32, true, NULL);
}

void dtls_rl_cache_init(struct dtls_rl_cache *c, const struct dtls_rl_algs *a)
{
	c->algs = a;
}

/* The provider functions for cipher ci in c, or NULL: the EVP calls. */
static const struct dtls_rl_gcm *gcm_of(const struct dtls_rl_cache *c,
					const EVP_CIPHER *ci)
{
	const struct dtls_rl_gcm *g = NULL;

	if (c->algs == NULL || ci == NULL)
		return NULL;
	if (ci == c->algs->aes128gcm)
		g = &c->algs->gcm128;
	else if (ci == c->algs->aes256gcm)
		g = &c->algs->gcm256;
	return g != NULL && g->newctx != NULL ? g : NULL;
}

void dtls_rl_algs_free(struct dtls_rl_algs *a)
{
	EVP_MD_free(a->sha256);
	EVP_MD_free(a->sha384);
	EVP_CIPHER_free(a->aes128gcm);
	EVP_CIPHER_free(a->aes256gcm);
	EVP_CIPHER_free(a->chacha);
}

void dtls_rl_cache_adopt(struct dtls_rl_cache *c, struct dtls_rl_keys *k)
{
	k->id = ++c->next_id;
}

/* Free the provider context of sl (the provider wipes it). */
static void slot_free_pctx(struct dtls_rl_slot *sl)
{
	if (sl->pctx != NULL)
		sl->gcm->freectx(sl->pctx);
	sl->pctx = NULL;
	sl->gcm = NULL;
}

void dtls_rl_cache_free(struct dtls_rl_cache *c)
{
	for (unsigned int i = 0; i < DTLS_RL_CACHE_SLOTS; i++) {
		EVP_CIPHER_CTX_free(c->slot[i].ctx);
		slot_free_pctx(&c->slot[i]);
	}
	OPENSSL_cleanse(c, sizeof(*c));
}

static struct dtls_rl_slot *slot_of(struct dtls_rl_cache *c, uint64_t id)
{
	return &c->slot[id % DTLS_RL_CACHE_SLOTS];
}

/* Forget (and wipe) what slot sl was keyed with. */
static void slot_wipe(struct dtls_rl_slot *sl)
{
	if (sl->ctx != NULL)
		EVP_CIPHER_CTX_reset(sl->ctx);
	slot_free_pctx(sl);
	sl->cipher = NULL;
	sl->tag = 0;
	sl->tls_mode = false;
}

void dtls_rl_clear(struct dtls_rl_cache *c, struct dtls_rl_keys *k)
{
	if (c != NULL && k->id != 0 && slot_of(c, k->id)->tag == k->id)
		slot_wipe(slot_of(c, k->id));
	OPENSSL_cleanse(k, sizeof(*k));
}

/*
 * Key slot sl with k's client_write key, tagged k->id. Only the key goes
 * in when sl already holds a context of k's cipher (OpenSSL keeps the
 * provider state and redoes the key schedule); otherwise the context is
 * set up for the cipher. GCM: the implicit salt goes in as the provider's
 * TLS-mode fixed IV, so that each record opens in that mode (see
 * open_gcm_tls). 0, or -1 with sl wiped.
 */
/*
 * slot_rekey through the provider's functions g: the key and the TLS-mode
 * fixed IV in one init, as the EVP calls would hand them to the provider,
 * without EVP_DecryptInit_ex's key and IV length queries (OpenSSL 3.0
 * asks the provider each time). The context is made once per slot and
 * cipher.
 */
static int slot_rekey_prov(struct dtls_rl_slot *sl, const struct dtls_rl_gcm *g,
			   const struct dtls_rl_keys *k)
{
	unsigned char salt[4];
	OSSL_PARAM params[2];

	sl->tag = 0;
	if (sl->gcm != g)
		slot_free_pctx(sl);
	/*
	 * An EVP context left keyed by the slot's last ChaCha20 session: the
	 * slot is not that session's any more, so its end would not wipe it.
	 */
	if (sl->ctx != NULL && EVP_CIPHER_CTX_get0_cipher(sl->ctx) != NULL) {
		EVP_CIPHER_CTX_reset(sl->ctx);
		sl->cipher = NULL;	/* ctx is set up for none now */
	}
	if (sl->pctx == NULL) {
		sl->pctx = g->newctx(g->provctx);
		if (sl->pctx == NULL)
			return -1;
		sl->gcm = g;
	}
	memcpy(salt, k->rx_iv, sizeof(salt));	/* the parameter takes no const */
	params[0] = OSSL_PARAM_construct_octet_string(
		OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, salt, sizeof(salt));
	params[1] = OSSL_PARAM_construct_end();
	if (g->dinit(sl->pctx, k->rx_key, k->key_len, NULL, 0, params) != 1) {
		slot_wipe(sl);
		ERR_clear_error();
		return -1;
	}
	sl->cipher = k->cipher;
	sl->tls_mode = true;
	sl->tag = k->id;
	return 0;
}

static int slot_rekey(struct dtls_rl_slot *sl, const struct dtls_rl_keys *k,
		      const struct dtls_rl_gcm *g)
{
	const EVP_CIPHER *ci = sl->cipher == k->cipher ? NULL : k->cipher;
	unsigned char salt[4];

	if (g != NULL)
		return slot_rekey_prov(sl, g, k);
	slot_free_pctx(sl);
	if (sl->ctx == NULL && (sl->ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	sl->tag = 0;
	if (EVP_DecryptInit_ex(sl->ctx, ci, NULL, k->rx_key, NULL) != 1) {
		slot_wipe(sl);
		ERR_clear_error();
		return -1;
	}
	sl->cipher = k->cipher;
	memcpy(salt, k->rx_iv, sizeof(salt));	/* the ctrl takes no const */
	sl->tls_mode = !k->chacha &&
		EVP_CIPHER_CTX_ctrl(sl->ctx, EVP_CTRL_GCM_SET_IV_FIXED,
				    sizeof(salt), salt) == 1;
	/*
	 * Only a refused ctrl leaves errors behind: OpenSSL 3.0's
	 * ERR_clear_error walks all 16 slots of the thread's error queue
	 * (~840 Ir, as much as half the re-key), so not after every re-key.
	 */
	if (!k->chacha && !sl->tls_mode)
		ERR_clear_error();
	sl->tag = k->id;
	return 0;
}

/* The cipher of the suite and its key and fixed IV sizes. */
static int pick_cipher(struct dtls_rl_keys *k, const struct dtls_rl_algs *a,
		       const SSL_CIPHER *c, size_t *iv_len)
{
	switch (SSL_CIPHER_get_cipher_nid(c)) {
	case NID_aes_128_gcm:
		k->cipher = a->aes128gcm;
		k->key_len = 16;
		*iv_len = 4;
		break;
	case NID_aes_256_gcm:
		k->cipher = a->aes256gcm;
		k->key_len = 32;
		*iv_len = 4;
		break;
	case NID_chacha20_poly1305:
		k->cipher = a->chacha;
		k->key_len = 32;
		*iv_len = 12;
		k->chacha = true;
		break;
	default:
		return -ENOTSUP;
	}
	return k->cipher != NULL ? 0 : -ENOTSUP;
}

/*
 * HMAC(secret, a || b) with the ipad and opad states of secret in in and
 * out, the digest into h (the hash's size). 0 or -EIO.
 */
static int hmac2(EVP_MD_CTX *in, EVP_MD_CTX *out, EVP_MD_CTX *t,
		 const unsigned char *a, size_t alen, const unsigned char *b,
		 size_t blen, unsigned char *h)
{
	unsigned int n = 0;

	if (EVP_MD_CTX_copy_ex(t, in) != 1 || EVP_DigestUpdate(t, a, alen) != 1 ||
	    (blen && EVP_DigestUpdate(t, b, blen) != 1) ||
	    EVP_DigestFinal_ex(t, h, &n) != 1 || EVP_MD_CTX_copy_ex(t, out) != 1 ||
	    EVP_DigestUpdate(t, h, n) != 1 || EVP_DigestFinal_ex(t, h, &n) != 1)
		return -EIO;
	return 0;
}

/*
 * P_hash of RFC 5246 5 (the TLS 1.2 PRF is P_<hash>(secret, label +
 * seed)): A(i) = HMAC(secret, A(i-1)), out = HMAC(secret, A(i) + seed)...
 * HMAC by hand from two digest states made once, because OpenSSL 3.0's
 * TLS1-PRF fetches its digest and copies MAC contexts per call, twice the
 * instructions for the 40-88 bytes a key block takes (docs/CAPACITY.md).
 */
int dtls_rl_p_hash(const EVP_MD *md, const unsigned char *secret,
		   size_t slen, const unsigned char *seed, size_t seed_len,
		   unsigned char *out, size_t len)
{
	unsigned char pad[128], a[EVP_MAX_MD_SIZE], h[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *in = EVP_MD_CTX_new(), *o = EVP_MD_CTX_new();
	EVP_MD_CTX *t = EVP_MD_CTX_new();
	size_t bs = (size_t)EVP_MD_get_block_size(md);
	size_t hl = (size_t)EVP_MD_get_size(md);
	int ret = -EIO;

	if (in == NULL || o == NULL || t == NULL || bs > sizeof(pad) ||
	    slen > bs || hl > sizeof(a))
		goto out;
	memset(pad, 0x36, bs);
	for (size_t i = 0; i < slen; i++)
		pad[i] ^= secret[i];
	if (EVP_DigestInit_ex(in, md, NULL) != 1 ||
	    EVP_DigestUpdate(in, pad, bs) != 1)
		goto out;
	for (size_t i = 0; i < bs; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	if (EVP_DigestInit_ex(o, md, NULL) != 1 ||
	    EVP_DigestUpdate(o, pad, bs) != 1 ||
	    hmac2(in, o, t, seed, seed_len, NULL, 0, a))	/* A(1) */
		goto out;
	for (size_t off = 0; off < len; off += hl) {
		size_t n = len - off < hl ? len - off : hl;

		if (hmac2(in, o, t, a, hl, seed, seed_len, h))
			goto out;
		memcpy(out + off, h, n);
		if (off + n < len && hmac2(in, o, t, a, hl, NULL, 0, a))
			goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(h, sizeof(h));
	EVP_MD_CTX_free(in);
	EVP_MD_CTX_free(o);
	EVP_MD_CTX_free(t);
	return ret;
}

/* key_block = PRF(master, "key expansion", server_random + client_random) */
static int key_block(SSL *ssl, const EVP_MD *md, unsigned char *kb,
		     size_t kb_len)
{
	unsigned char ms[SSL_MAX_MASTER_KEY_LENGTH];
	unsigned char seed[LABEL_LEN + 2 * SSL3_RANDOM_SIZE];
	size_t ms_len;
	int ret = -ENOTSUP;

	ms_len = SSL_SESSION_get_master_key(SSL_get_session(ssl), ms,
					    sizeof(ms));
	memcpy(seed, "key expansion", LABEL_LEN);
	if (ms_len == 0 ||
	    SSL_get_server_random(ssl, seed + LABEL_LEN, SSL3_RANDOM_SIZE) !=
		    SSL3_RANDOM_SIZE ||
	    SSL_get_client_random(ssl, seed + LABEL_LEN + SSL3_RANDOM_SIZE,
				  SSL3_RANDOM_SIZE) != SSL3_RANDOM_SIZE)
		goto out;
	ret = dtls_rl_p_hash(md, ms, ms_len, seed, sizeof(seed), kb, kb_len);
out:
	OPENSSL_cleanse(ms, sizeof(ms));
	return ret;
}

int dtls_rl_derive(struct dtls_rl_keys *k, const struct dtls_rl_algs *a,
		   SSL *ssl)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	unsigned char kb[2 * KEY_MAX + 2 * IV_MAX];
	size_t iv_len = 0;
	const EVP_MD *md;
	int ret = -ENOTSUP;

	if (c == NULL || pick_cipher(k, a, c, &iv_len) != 0)
		goto out;
	/* The fetched digest: a legacy EVP_MD would be fetched per init. */
	md = SSL_CIPHER_get_handshake_digest(c);
	md = md == NULL ? NULL : EVP_MD_get_type(md) == NID_sha256 ? a->sha256 :
	     EVP_MD_get_type(md) == NID_sha384 ? a->sha384 : NULL;
	if (md == NULL)
		goto out;
	/* See the contract above: these keys need the extended master secret. */
	if (SSL_get_extms_support(ssl) != 1)
		goto out;
	if (key_block(ssl, md, kb, 2 * (size_t)k->key_len + 2 * iv_len))
		goto out;

	/* client_write_key, server_write_key, client_write_IV, server_write_IV */
	memcpy(k->rx_key, kb, k->key_len);
	memcpy(k->tx_key, kb + k->key_len, k->key_len);
	memcpy(k->rx_iv, kb + 2 * k->key_len, iv_len);
	memcpy(k->tx_iv, kb + 2 * k->key_len + iv_len, iv_len);
	ret = 0;
out:
	OPENSSL_cleanse(kb, sizeof(kb));
	if (ret)
		dtls_rl_clear(NULL, k);
	ERR_clear_error();
	return ret;
}

/* The 12-byte AEAD nonce and 13-byte additional data of record r. */
static void nonce_aad(const struct dtls_rl_keys *k, const unsigned char *iv,
		      const unsigned char *r, const unsigned char *explicit,
		      size_t pt_len, unsigned char nonce[NONCE_LEN],
		      unsigned char aad[AAD_LEN])
{
	if (k->chacha) {
		memcpy(nonce, iv, NONCE_LEN);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= r[3 + i];
	} else {
		memcpy(nonce, iv, 4);
		memcpy(nonce + 4, explicit, DTLS_GCM_EXPLICIT);
	}
	memcpy(aad, r + 3, 8);		/* epoch || sequence number */
	aad[8] = r[0];			/* type */
	aad[9] = r[1];			/* version */
	aad[10] = r[2];
	aad[11] = (unsigned char)(pt_len >> 8);
	aad[12] = (unsigned char)pt_len;
}

/*
 * AES-GCM in the provider's TLS mode, as libssl's own record layer opens
 * TLS 1.2 records: the 13-byte additional data (its length field the
 * fragment's, which the provider reduces by the explicit nonce and tag)
 * set as one parameter, then one EVP_Cipher call over explicit nonce,
 * ciphertext and tag, which takes the nonce from the fragment, decrypts and
 * checks the tag. In OpenSSL 3.0 that replaces an init (with an IV-length
 * parameter query), two updates, a tag ctrl and a final, each a trip
 * through OSSL_PARAM name lookups. It decrypts in place, so the fragment
 * is copied into out first (hence cap >= flen) and the plaintext moved
 * down over the explicit nonce after.
 */
static int open_gcm_tls(struct dtls_rl_slot *sl, const unsigned char *r,
			size_t flen, unsigned char *out)
{
	unsigned char aad[AAD_LEN];
	OSSL_PARAM params[2];
	size_t outl = 0;
	int n;

	memcpy(aad, r + 3, 8);		/* epoch || sequence number */
	aad[8] = r[0];
	aad[9] = r[1];
	aad[10] = r[2];
	aad[11] = (unsigned char)(flen >> 8);
	aad[12] = (unsigned char)flen;
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_AAD,
						      aad, sizeof(aad));
	params[1] = OSSL_PARAM_construct_end();
	memcpy(out, r + XTEL_DTLS_HDR_LEN, flen);
	/*
	 * The provider's functions as EVP_CIPHER_CTX_set_params and
	 * EVP_Cipher call them (a block size of 1: outsize flen); EVP_Cipher
	 * reports the bytes it was given, or -1 (bad tag).
	 */
	if (sl->gcm != NULL ?
	    sl->gcm->set_ctx_params(sl->pctx, params) != 1 ||
	    sl->gcm->cipher(sl->pctx, out, &outl, flen, out, flen) != 1 :
	    EVP_CIPHER_CTX_set_params(sl->ctx, params) != 1 ||
	    EVP_Cipher(sl->ctx, out, out, (unsigned int)flen) < 0) {
		ERR_clear_error();
		return -1;
	}
	n = (int)(flen - DTLS_GCM_EXPLICIT - DTLS_AEAD_TAG);
	memmove(out, out + DTLS_GCM_EXPLICIT, (size_t)n);
	return n;
}

int dtls_rl_open(struct dtls_rl_cache *c, const struct dtls_rl_keys *k,
		 const unsigned char *r, size_t flen, unsigned char *out,
		 size_t cap, bool *rekeyed)
{
	struct dtls_rl_slot *sl = slot_of(c, k->id);
	const unsigned char *frag = r + XTEL_DTLS_HDR_LEN, *ct = frag;
	unsigned char nonce[NONCE_LEN], aad[AAD_LEN], tag[DTLS_AEAD_TAG];
	size_t overhead = DTLS_AEAD_TAG + (k->chacha ? 0 : DTLS_GCM_EXPLICIT);
	size_t ct_len;
	int n, m;

	if (flen < overhead)
		return -1;
	ct_len = flen - overhead;
	if (ct_len > cap || k->id == 0)
		return -1;
	if (sl->tag != k->id) {
		if (slot_rekey(sl, k, gcm_of(c, k->cipher)) != 0)
			return -1;
		*rekeyed = true;
	}
	if (sl->tls_mode && flen <= cap && flen <= 0xffff)
		return open_gcm_tls(sl, r, flen, out);
	/* A provider context opens only in the TLS mode. */
	if (sl->gcm != NULL)
		return -1;
	if (!k->chacha)
		ct += DTLS_GCM_EXPLICIT;
	nonce_aad(k, k->rx_iv, r, frag, ct_len, nonce, aad);
	memcpy(tag, ct + ct_len, DTLS_AEAD_TAG);
	if (EVP_DecryptInit_ex(sl->ctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_DecryptUpdate(sl->ctx, NULL, &n, aad, sizeof(aad)) != 1 ||
	    EVP_DecryptUpdate(sl->ctx, out, &n, ct, (int)ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(sl->ctx, EVP_CTRL_AEAD_SET_TAG, DTLS_AEAD_TAG,
				tag) != 1 ||
	    EVP_DecryptFinal_ex(sl->ctx, out + n, &m) != 1) {
		ERR_clear_error();
		return -1;
	}
	return (int)ct_len;
}

int dtls_rl_seal(struct dtls_rl_keys *k, uint8_t type, const unsigned char *pt,
		 size_t pt_len, unsigned char *out, size_t cap)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int ret;

	if (ctx == NULL) {
		k->tx_seq++;		/* consumed even on failure */
		return -1;
	}
	ret = dtls_rl_seal_in(ctx, true, k, type, pt, pt_len, out, cap);
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

/*
 * algs_prove's test (record.h): one record sealed with a fixed key opens through a
 * cache of a's (through_provider) or a zeroed one (the EVP calls), and
 * none of three one-bit changes of it does. 0, or -1.
 */
int dtls_rl_cipher_proves(const struct dtls_rl_algs *a, const EVP_CIPHER *ci,
			  uint8_t key_len, bool chacha, bool through_provider)
{
	static const unsigned char pt[] = "xtel record layer self-test";
	unsigned char rec[XTEL_DTLS_HDR_LEN + DTLS_GCM_EXPLICIT + sizeof(pt) +
			  DTLS_AEAD_TAG];
	unsigned char bad[sizeof(rec)], out[sizeof(rec)];
	struct dtls_rl_keys k = { .cipher = ci, .chacha = chacha,
				  .key_len = key_len, .tx_seq = 7 };
	struct dtls_rl_cache *c = calloc(1, sizeof(*c));
	bool rekeyed = false;
	size_t at[3];
	int len, ret = -1;

	if (c == NULL)
		return -1;
	if (through_provider)
		dtls_rl_cache_init(c, a);
	for (unsigned int i = 0; i < sizeof(k.rx_key); i++)
		k.rx_key[i] = k.tx_key[i] = (unsigned char)(0x5a ^ i);
	for (unsigned int i = 0; i < sizeof(k.rx_iv); i++)
		k.rx_iv[i] = k.tx_iv[i] = (unsigned char)(0xa5 ^ i);
	dtls_rl_cache_adopt(c, &k);
	len = dtls_rl_seal(&k, XTEL_DTLS_CT_APPDATA, pt, sizeof(pt), rec,
			   sizeof(rec));
	if (len <= XTEL_DTLS_HDR_LEN + DTLS_AEAD_TAG)
		goto out;
	at[0] = (size_t)len - 1;			/* the tag */
	at[1] = 10;					/* the record number: AAD */
	at[2] = (size_t)len - DTLS_AEAD_TAG - 1;	/* the ciphertext */
	if (dtls_rl_open(c, &k, rec, (size_t)len - XTEL_DTLS_HDR_LEN, out,
			 sizeof(out), &rekeyed) != (int)sizeof(pt) ||
	    memcmp(out, pt, sizeof(pt)) != 0)
		goto out;
	for (unsigned int i = 0; i < 3; i++) {
		memcpy(bad, rec, (size_t)len);
		bad[at[i]] ^= 0x01;
		if (dtls_rl_open(c, &k, bad, (size_t)len - XTEL_DTLS_HDR_LEN,
				 out, sizeof(out), &rekeyed) != -1)
			goto out;
	}
	ret = 0;
out:
	dtls_rl_clear(c, &k);
	dtls_rl_cache_free(c);
	free(c);
	OPENSSL_cleanse(out, sizeof(out));
	return ret;
}

/* ---- the client's side of the keys (dtls/client.c) ---- */

int dtls_rl_derive_client(struct dtls_rl_keys *k, const struct dtls_rl_algs *a,
			  SSL *ssl)
{
	unsigned char t[KEY_MAX];
	int ret = dtls_rl_derive(k, a, ssl);

	if (ret)
		return ret;
	/* The client writes with client_write_* and reads server_write_*. */
	memcpy(t, k->rx_key, KEY_MAX);
	memcpy(k->rx_key, k->tx_key, KEY_MAX);
	memcpy(k->tx_key, t, KEY_MAX);
	memcpy(t, k->rx_iv, IV_MAX);
	memcpy(k->rx_iv, k->tx_iv, IV_MAX);
	memcpy(k->tx_iv, t, IV_MAX);
	OPENSSL_cleanse(t, sizeof(t));
	return 0;
}

int dtls_rl_seal_in(EVP_CIPHER_CTX *ctx, bool rekey, struct dtls_rl_keys *k,
		    uint8_t type, const unsigned char *pt, size_t pt_len,
		    unsigned char *out, size_t cap)
{
	size_t explicit = k->chacha ? 0 : DTLS_GCM_EXPLICIT;
	size_t flen = explicit + pt_len + DTLS_AEAD_TAG;
	unsigned char *frag = out + XTEL_DTLS_HDR_LEN;
	unsigned char nonce[NONCE_LEN], aad[AAD_LEN];
	const EVP_CIPHER *ci = rekey ? k->cipher : NULL;
	uint64_t seq = k->tx_seq++;
	int n, m;

	if (XTEL_DTLS_HDR_LEN + flen > cap)
		return -1;
	out[0] = type;
	out[1] = XTEL_DTLS_V12 >> 8;
	out[2] = XTEL_DTLS_V12 & 0xff;
	out[3] = 0;
	out[4] = 1;			/* epoch */
	for (int i = 0; i < 6; i++)
		out[5 + i] = (unsigned char)(seq >> (40 - 8 * i));
	out[11] = (unsigned char)(flen >> 8);
	out[12] = (unsigned char)flen;
	/* GCM's explicit nonce: the record number, unique per key. */
	memcpy(frag, out + 3, explicit);
	nonce_aad(k, k->tx_iv, out, frag, pt_len, nonce, aad);

	/*
	 * Same key as the last record: only the nonce changes. Another key
	 * of the cipher ctx holds: only the key schedule is redone (as
	 * slot_rekey), not the whole context.
	 */
	if (rekey && EVP_CIPHER_CTX_get0_cipher(ctx) == k->cipher)
		ci = NULL;
	if (EVP_EncryptInit_ex(ctx, ci, NULL, rekey ? k->tx_key : NULL,
			       nonce) == 1 &&
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, sizeof(aad)) == 1 &&
	    EVP_EncryptUpdate(ctx, frag + explicit, &n, pt, (int)pt_len) == 1 &&
	    EVP_EncryptFinal_ex(ctx, frag + explicit + n, &m) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, DTLS_AEAD_TAG,
				frag + explicit + pt_len) == 1)
		return (int)(XTEL_DTLS_HDR_LEN + flen);
	/* Errors only on failure: clearing costs ~840 Ir (see slot_rekey). */
	ERR_clear_error();
	return -1;
}
