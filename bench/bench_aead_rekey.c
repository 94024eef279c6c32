// SPDX-License-Identifier: MIT
/*
 * What re-keying an OpenSSL 3.0 AEAD decrypt context costs against one
 * decryption of a 100-byte record, per cipher of the built-in record
 * layer (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305): the figures behind
 * the size of the server's per-worker context cache (record.c,
 * docs/CAPACITY.md "AEAD contexts per worker, not per session"). Each
 * operation runs the calls record.c makes: "open" decrypts and checks one
 * record with the context already keyed (GCM in the provider's TLS mode);
 * "rekey" gives a keyed context another key (and, for GCM, the TLS-mode
 * fixed IV), alternating between two keys; "miss" is a re-key followed by
 * the open, what a record costs when its session's key is not cached.
 * Prints ns per operation; under callgrind, run one op with
 * --collect-atstart=no --toggle-collect=run_op and divide Ir by the count.
 *
 * usage: bench_aead_rekey [--iters N] [--op open|rekey|miss|all]
 *                         [--cipher aes128|aes256|chacha|all]
 *                         [--rekey init|params]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

enum { REC_PT = 100, EXPLICIT = 8, TAG = 16, HDR = 13 };

struct bench_cipher {
	const char *name, *openssl_name;
	bool gcm;
};

static const struct bench_cipher ciphers[] = {
	{ "aes128", "AES-128-GCM", true },
	{ "aes256", "AES-256-GCM", true },
	{ "chacha", "ChaCha20-Poly1305", false },
};

struct bench_state {
	EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *ctx;
	bool gcm;
	unsigned char key[2][32], iv[2][12];
	unsigned char rec[HDR + EXPLICIT + REC_PT + TAG];
	size_t flen;
	unsigned char buf[256];
};

/*
 * How a GCM re-key sets the fixed IV: "params" (record.c's way) keys, then
 * sets the salt as OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED; "init" passes key
 * and salt in the one EVP_DecryptInit_ex (the provider keeps the TLS
 * mode's IV state of the first key, so the salt as the IV's first 4 bytes
 * is enough; checked in bench_one). Tried as a cheaper re-key: 2,083 Ir
 * against 1,826 (callgrind, AES-128-GCM), so not used.
 */
static bool rekey_params = true;

static int rekey(struct bench_state *b, int which)
{
	OSSL_PARAM p[2];

	if (b->gcm && !rekey_params) {
		unsigned char iv[12] = { 0 };

		memcpy(iv, b->iv[which], 4);
		return EVP_DecryptInit_ex(b->ctx, NULL, NULL, b->key[which],
					  iv) == 1 ? 0 : -1;
	}
	if (EVP_DecryptInit_ex(b->ctx, NULL, NULL, b->key[which], NULL) != 1)
		return -1;
	if (!b->gcm)
		return 0;
	p[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED,
						 b->iv[which], 4);
	p[1] = OSSL_PARAM_construct_end();
	return EVP_CIPHER_CTX_set_params(b->ctx, p) == 1 ? 0 : -1;
}

static int open_rec(struct bench_state *b)
{
	unsigned char aad[13], nonce[12], tag[TAG];
	int n;

	memcpy(aad, b->rec + 3, 8);
	aad[8] = b->rec[0];
	aad[9] = b->rec[1];
	aad[10] = b->rec[2];
	if (b->gcm) {
		OSSL_PARAM p[2];

		aad[11] = (unsigned char)(b->flen >> 8);
		aad[12] = (unsigned char)b->flen;
		p[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_AAD,
							 aad, sizeof(aad));
		p[1] = OSSL_PARAM_construct_end();
		memcpy(b->buf, b->rec + HDR, b->flen);
		return EVP_CIPHER_CTX_set_params(b->ctx, p) == 1 &&
		       EVP_Cipher(b->ctx, b->buf, b->buf, (unsigned int)b->flen) >= 0 ?
		       0 : -1;
	}
	aad[11] = 0;
	aad[12] = REC_PT;
	memcpy(nonce, b->iv[0], 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= b->rec[3 + i];
	memcpy(tag, b->rec + HDR + REC_PT, TAG);
	return EVP_DecryptInit_ex(b->ctx, NULL, NULL, NULL, nonce) == 1 &&
	       EVP_DecryptUpdate(b->ctx, NULL, &n, aad, sizeof(aad)) == 1 &&
	       EVP_DecryptUpdate(b->ctx, b->buf, &n, b->rec + HDR, REC_PT) == 1 &&
	       EVP_CIPHER_CTX_ctrl(b->ctx, EVP_CTRL_AEAD_SET_TAG, TAG, tag) == 1 &&
	       EVP_DecryptFinal_ex(b->ctx, b->buf + n, &n) == 1 ? 0 : -1;
}

/* A record of key 0, sequence number 1, sealed with a separate context. */
static int make_record(struct bench_state *b)
{
	EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
	size_t explicit = b->gcm ? EXPLICIT : 0;
	unsigned char nonce[12], aad[13], pt[REC_PT];
	int n, ok;

	memset(pt, 0x5a, sizeof(pt));
	memset(b->rec, 0, HDR);
	b->rec[0] = 23;
	b->rec[1] = 0xfe;
	b->rec[2] = 0xfd;
	b->rec[4] = 1;
	b->rec[10] = 1;
	b->flen = explicit + REC_PT + TAG;
	b->rec[11] = (unsigned char)(b->flen >> 8);
	b->rec[12] = (unsigned char)b->flen;
	memcpy(b->rec + HDR, b->rec + 3, explicit);
	memcpy(nonce, b->iv[0], 12);
	if (b->gcm)
		memcpy(nonce + 4, b->rec + 3, 8);
	else
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= b->rec[3 + i];
	memcpy(aad, b->rec + 3, 8);
	memcpy(aad + 8, b->rec, 3);
	aad[11] = 0;
	aad[12] = REC_PT;
	ok = e != NULL &&
	     EVP_EncryptInit_ex(e, b->cipher, NULL, b->key[0], nonce) == 1 &&
	     EVP_EncryptUpdate(e, NULL, &n, aad, sizeof(aad)) == 1 &&
	     EVP_EncryptUpdate(e, b->rec + HDR + explicit, &n, pt, REC_PT) == 1 &&
	     EVP_EncryptFinal_ex(e, b->rec + HDR + explicit + n, &n) == 1 &&
	     EVP_CIPHER_CTX_ctrl(e, EVP_CTRL_AEAD_GET_TAG, TAG,
				 b->rec + HDR + explicit + REC_PT) == 1;
	EVP_CIPHER_CTX_free(e);
	return ok ? 0 : -1;
}

/* The measured loop (callgrind: --toggle-collect=run_op). */
__attribute__((noinline)) static int run_op(struct bench_state *b,
					    const char *op, long iters)
{
	int bad = 0;

	for (long i = 0; i < iters; i++) {
		if (op[0] == 'o') {
			bad |= open_rec(b);
		} else if (op[0] == 'r') {
			bad |= rekey(b, (int)(i & 1));
		} else {
			/* a miss: the other key first, then this record's */
			bad |= rekey(b, 1) | rekey(b, 0) | open_rec(b);
		}
	}
	return bad;
}

/* A fresh context's first key: GCM's TLS mode is entered by the parameter. */
static int first_key(struct bench_state *b)
{
	bool was = rekey_params;
	int ret;

	rekey_params = true;
	ret = rekey(b, 0);
	rekey_params = was;
	return ret;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int bench_one(const struct bench_cipher *c, const char *op, long iters)
{
	struct bench_state b = { .gcm = c->gcm };
	bool bad_salt;
	double t0, ns;
	int ret = -1;

	b.cipher = EVP_CIPHER_fetch(NULL, c->openssl_name, NULL);
	b.ctx = EVP_CIPHER_CTX_new();
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 32; i++) {
			b.key[k][i] = (unsigned char)(k * 77 + i);
			if (i < 12)
				b.iv[k][i] = (unsigned char)(k * 31 + i);
		}
	if (b.cipher == NULL || b.ctx == NULL || make_record(&b) ||
	    EVP_DecryptInit_ex(b.ctx, b.cipher, NULL, b.key[0], NULL) != 1 ||
	    first_key(&b) || open_rec(&b)) {
		fprintf(stderr, "%s: setup or first open failed\n", c->name);
		goto out;
	}
	/* The re-key must carry the salt: with another one the record fails. */
	if (b.gcm) {
		b.iv[0][0] ^= 1;
		bad_salt = rekey(&b, 0) == 0 && open_rec(&b) == 0;
		b.iv[0][0] ^= 1;
		if (bad_salt || rekey(&b, 0) || open_rec(&b)) {
			fprintf(stderr, "%s: the re-key did not set the salt\n",
				c->name);
			goto out;
		}
	}
	t0 = now_ns();
	if (run_op(&b, op, iters)) {
		fprintf(stderr, "%s %s: an operation failed\n", c->name, op);
		goto out;
	}
	ns = (now_ns() - t0) / (double)iters;
	/* a miss made two re-keys to leave the context on another key */
	if (op[0] == 'm')
		printf("%-7s %-6s %8.1f ns/op (two re-keys and one open)\n",
		       c->name, op, ns);
	else
		printf("%-7s %-6s %8.1f ns/op\n", c->name, op, ns);
	ret = 0;
out:
	EVP_CIPHER_CTX_free(b.ctx);
	EVP_CIPHER_free(b.cipher);
	return ret;
}

int main(int argc, char **argv)
{
	const char *op = "all", *cipher = "all";
	static const char *const ops[] = { "open", "rekey", "miss" };
	long iters = 200000;
	int ret = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--iters"))
			iters = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--op"))
			op = argv[i + 1];
		else if (!strcmp(argv[i], "--cipher"))
			cipher = argv[i + 1];
		else if (!strcmp(argv[i], "--rekey"))
			rekey_params = !strcmp(argv[i + 1], "params");
		else {
			fprintf(stderr, "usage: %s [--iters N] [--op open|rekey|miss|all] "
				"[--cipher aes128|aes256|chacha|all] "
				"[--rekey init|params]\n", argv[0]);
			return 2;
		}
	}
	if (iters <= 0)
		return 2;
	for (size_t c = 0; c < sizeof(ciphers) / sizeof(ciphers[0]); c++) {
		if (strcmp(cipher, "all") && strcmp(cipher, ciphers[c].name))
			continue;
		for (size_t o = 0; o < 3; o++)
			if (!strcmp(op, "all") || !strcmp(op, ops[o]))
				ret |= bench_one(&ciphers[c], ops[o], iters);
	}
	return ret ? 1 : 0;
}
