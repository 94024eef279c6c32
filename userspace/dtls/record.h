/* SPDX-License-Identifier: MIT */
/*
 * Private to userspace/dtls: the server's built-in DTLS 1.2 AEAD record
 * layer (record.c), the only code of XTel that encrypts or decrypts. Its
 * contract is stated at the top of record.c.
 */
#ifndef XTEL_DTLS_RECORD_H
#define XTEL_DTLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/core_dispatch.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

/*
 * The provider's own functions of one GCM cipher (record.c, dtls_rl_algs
 * fetch): a slot keyed and opened through them skips the EVP layer's
 * generic parameter queries, which cost more than the key schedule in
 * OpenSSL 3.0 (docs/CAPACITY.md "The session side in fleet order").
 * newctx NULL: not found, the EVP calls are used.
 */
struct dtls_rl_gcm {
	void *provctx;
	OSSL_FUNC_cipher_newctx_fn *newctx;
	OSSL_FUNC_cipher_freectx_fn *freectx;
	OSSL_FUNC_cipher_decrypt_init_fn *dinit;
	OSSL_FUNC_cipher_cipher_fn *cipher;
	OSSL_FUNC_cipher_set_ctx_params_fn *set_ctx_params;
};

/* Algorithms fetched once per server; any may be NULL (no built-in layer). */
struct dtls_rl_algs {
	EVP_MD *sha256, *sha384;	/* the PRF hashes of the suites */
	EVP_CIPHER *aes128gcm, *aes256gcm, *chacha;
	struct dtls_rl_gcm gcm128, gcm256;	/* of aes128gcm, aes256gcm */
};

/*
 * Fetch the algorithms of the built-in layer; each cipher is kept only
 * when dtls_rl_cipher_proves it, both ways (EVP calls and, for GCM, the
 * provider's functions).
 */
void dtls_rl_algs_fetch(struct dtls_rl_algs *a);
/*
 * A record sealed with ci (key_len, chacha: its nonce) opens through a
 * cache of a's (through_provider) or the EVP calls, and the same record
 * with one bit of its tag, header or ciphertext changed does not: 0, or -1.
 */
int dtls_rl_cipher_proves(const struct dtls_rl_algs *a, const EVP_CIPHER *ci,
			  uint8_t key_len, bool chacha, bool through_provider);
void dtls_rl_algs_free(struct dtls_rl_algs *a);

/*
 * Epoch-1 keys of one established session, as the server uses them. The
 * session keeps its raw client_write key, not an OpenSSL context: those
 * live in the worker's dtls_rl_cache, keyed on demand.
 */
/*
 * What opening a record reads comes first (id, cipher, flags, rx_key,
 * rx_iv: 62 bytes), so that a re-key at 100,000 sessions, where each line
 * is a cache miss, reads two lines of it, not three (docs/CAPACITY.md "DTLS
 * at 100,000 sessions: where the time goes").
 */
struct dtls_rl_keys {
	uint64_t id;			/* the cache's tag of rx_key; 0: none yet */
	const EVP_CIPHER *cipher;
	bool chacha;			/* nonce = IV ^ seq, no explicit part */
	uint8_t key_len;
	unsigned char rx_key[32];	/* client_write_key */
	unsigned char rx_iv[12];	/* client_write_IV */
	unsigned char tx_key[32];	/* server_write_key */
	unsigned char tx_iv[12];	/* server_write_IV (4 bytes for GCM) */
	uint64_t tx_seq;		/* next epoch-1 record number we send */
};

/*
 * The decrypt contexts of one server (one receive worker), shared by its
 * sessions: slot id % DTLS_RL_CACHE_SLOTS holds the context of the keys
 * with that id, tagged with it. Ids are given once per server and never
 * reused (64 bits), so a freed session's slot can never decrypt for the
 * session that follows; a freed session's slot is also wiped at once.
 * Why 64 direct-mapped slots: re-keying an OpenSSL 3.0 GCM context costs
 * about one record's decryption (bench/bench_aead_rekey.c, 1,822 Ir
 * against 1,776 for AES-128-GCM), so slots pay only when a worker's
 * active sessions fit in them; 64 contexts of ~1.1 KiB stay in L2 next
 * to the sessions' own lines. Consecutive ids never collide, so a few
 * sessions that handshake one after the other all hit.
 */
enum { DTLS_RL_CACHE_SLOTS = 64 };

struct dtls_rl_slot {
	EVP_CIPHER_CTX *ctx;		/* NULL until first used */
	const EVP_CIPHER *cipher;	/* what ctx was set up for; NULL: none */
	uint64_t tag;			/* dtls_rl_keys.id keyed in; 0: none */
	bool tls_mode;			/* GCM: opens in the provider's TLS mode */
	/*
	 * GCM through the provider's functions (cache's algs): its context,
	 * of gcm's cipher, used instead of ctx while gcm is not NULL.
	 */
	void *pctx;
	const struct dtls_rl_gcm *gcm;
};

struct dtls_rl_cache {
	struct dtls_rl_slot slot[DTLS_RL_CACHE_SLOTS];
	uint64_t next_id;		/* last id given */
	/* NULL (a zeroed cache): every slot through the EVP calls */
	const struct dtls_rl_algs *algs;
};

/*
 * Let c key GCM slots through a's provider functions (a outlives c). A
 * zeroed cache works without, through the EVP calls.
 */
void dtls_rl_cache_init(struct dtls_rl_cache *c, const struct dtls_rl_algs *a);
/* Give k (derived) its id in c: from now on c decrypts for it. */
void dtls_rl_cache_adopt(struct dtls_rl_cache *c, struct dtls_rl_keys *k);
/* Free (and so wipe) every context of c. */
void dtls_rl_cache_free(struct dtls_rl_cache *c);

/*
 * Derive k from ssl's completed handshake. Returns 0, or -ENOTSUP (cipher
 * or algorithm missing, no extended master secret, OpenSSL refused) with
 * nothing left in k to clear. k->tx_seq is the caller's to set.
 */
int dtls_rl_derive(struct dtls_rl_keys *k, const struct dtls_rl_algs *a,
		   SSL *ssl);

/*
 * P_<md>(secret, seed) of RFC 5246 5, len bytes into out: the TLS 1.2 PRF
 * when seed is label + seed. secret may be at most md's block size (a
 * master secret is 48 bytes); a longer one is -EIO, as is a failure of
 * OpenSSL. 0 on success.
 */
int dtls_rl_p_hash(const EVP_MD *md, const unsigned char *secret,
		   size_t slen, const unsigned char *seed, size_t seed_len,
		   unsigned char *out, size_t len);

/*
 * Wipe k (also a zeroed or failed one) and, when c holds its key (c may be
 * NULL for keys never adopted), that slot's context.
 */
void dtls_rl_clear(struct dtls_rl_cache *c, struct dtls_rl_keys *k);

/*
 * Authenticate and decrypt record r (header included, flen fragment
 * bytes that the caller checked are present) into out with k's context
 * in c, keying it first when c's slot held another key (then *rekeyed is
 * set; it is left alone otherwise). Returns the plaintext length, or -1
 * when the record is not authentic, does not fit cap, or OpenSSL could
 * not key the context.
 */
int dtls_rl_open(struct dtls_rl_cache *c, const struct dtls_rl_keys *k,
		 const unsigned char *r, size_t flen, unsigned char *out,
		 size_t cap, bool *rekeyed);

/*
 * Encrypt pt as one epoch-1 record of content type `type`, numbered
 * k->tx_seq (advanced even on failure), header included, into out.
 * Returns its length, or -1 when it does not fit cap or OpenSSL failed.
 */
int dtls_rl_seal(struct dtls_rl_keys *k, uint8_t type, const unsigned char *pt,
		 size_t pt_len, unsigned char *out, size_t cap);

/*
 * The client's keys (dtls/client.c): dtls_rl_derive with the directions
 * turned round, so that tx_* is client_write_* and rx_* server_write_*
 * (dtls_rl_open then opens the server's records). Same returns.
 */
int dtls_rl_derive_client(struct dtls_rl_keys *k, const struct dtls_rl_algs *a,
			  SSL *ssl);

/*
 * dtls_rl_seal with a context the caller keeps: rekey sets ctx up for k's
 * cipher and tx_key first (a new context, or one last keyed for other
 * keys); otherwise ctx still holds k's tx_key from the record before and
 * only the nonce is set. A context shared by many keys on one thread
 * (the load generator's sender threads) is one key schedule per change
 * of keys, not one allocation and setup per record. Same returns.
 */
int dtls_rl_seal_in(EVP_CIPHER_CTX *ctx, bool rekey, struct dtls_rl_keys *k,
		    uint8_t type, const unsigned char *pt, size_t pt_len,
		    unsigned char *out, size_t cap);

#endif /* XTEL_DTLS_RECORD_H */
