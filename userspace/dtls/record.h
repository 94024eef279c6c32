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

#include <openssl/evp.h>
#include <openssl/ssl.h>

/* Algorithms fetched once per server; any may be NULL (no built-in layer). */
struct dtls_rl_algs {
	EVP_MD *sha256, *sha384;	/* the PRF hashes of the suites */
	EVP_CIPHER *aes128gcm, *aes256gcm, *chacha;
};

void dtls_rl_algs_fetch(struct dtls_rl_algs *a);
void dtls_rl_algs_free(struct dtls_rl_algs *a);

/* Epoch-1 keys of one established session, as the server uses them. */
struct dtls_rl_keys {
	EVP_CIPHER_CTX *rx;		/* client_write_key, decrypting */
	const EVP_CIPHER *cipher;
	bool chacha;			/* nonce = IV ^ seq, no explicit part */
	bool tls_mode;			/* GCM: rx opens in the provider's TLS mode */
	uint8_t key_len;
	unsigned char tx_key[32];	/* server_write_key */
	unsigned char tx_iv[12];	/* server_write_IV (4 bytes for GCM) */
	unsigned char rx_iv[12];	/* client_write_IV */
	uint64_t tx_seq;		/* next epoch-1 record number we send */
};

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

/* Free and wipe k (also a zeroed or failed one). */
void dtls_rl_clear(struct dtls_rl_keys *k);

/*
 * Authenticate and decrypt record r (header included, flen fragment
 * bytes that the caller checked are present) into out. Returns the
 * plaintext length, or -1 when the record is not authentic or does not
 * fit cap.
 */
int dtls_rl_open(struct dtls_rl_keys *k, const unsigned char *r, size_t flen,
		 unsigned char *out, size_t cap);

/*
 * Encrypt pt as one epoch-1 record of content type `type`, numbered
 * k->tx_seq (advanced even on failure), header included, into out.
 * Returns its length, or -1 when it does not fit cap or OpenSSL failed.
 */
int dtls_rl_seal(struct dtls_rl_keys *k, uint8_t type, const unsigned char *pt,
		 size_t pt_len, unsigned char *out, size_t cap);

#endif /* XTEL_DTLS_RECORD_H */
