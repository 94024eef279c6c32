/* SPDX-License-Identifier: MIT */
/*
 * The session tickets' own format and the fast way to open one (resume.c
 * wires it into OpenSSL). A ticket is what OpenSSL 3.0 seals: key name
 * (16 bytes) | IV (16) | AES-256-CBC of the DER-encoded SSL_SESSION |
 * HMAC-SHA256 of all before it (32), the key being name | HMAC key | AES
 * key (XTEL_DTLS_TICKET_KEY_LEN). The sealing is ours (dtls_ticket_key_cb),
 * so it stays the same whoever opens it.
 *
 * The sealed session holds the client's certificate, and decoding it is
 * what made a resumption expensive: d2i_SSL_SESSION spent 71% of the
 * server's instructions of a resumed handshake in the certificate, most
 * of them in OpenSSL 3.0's decoder look-up for its public key
 * (docs/CAPACITY.md). Nothing of the certificate is needed to resume,
 * because what the policy re-checks is sealed beside it as the ticket's
 * app data (struct dtls_ticket_id: client id, validity, issuer name hash,
 * the chain's trust anchor, serial, the trust digest). So dtls_ticket_open checks the MAC, decrypts,
 * drops the certificate from the DER before decoding the rest, and hands
 * back the session and its identity; resume.c makes OpenSSL resume that
 * session without opening the ticket again.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "dtls/server_internal.h"

enum {
	KEY_NAME_LEN = 16,
	KEY_HMAC_OFF = 16,
	KEY_AES_OFF = 48,
	TICKET_IV_LEN = 16,
	TICKET_MAC_LEN = 32,
	/*
	 * Sessions with longer certificates take OpenSSL's way; a client
	 * certificate message is at most XTEL_DTLS_HS_MSG_MAX anyway.
	 */
	TICKET_PLAIN_MAX = 4096,
	TAG_PEER = 0xa3,	/* SSL_SESSION_ASN1 peer: [3] EXPLICIT X509 */
	/*
	 * 2: with the issuer's key id. 3: with the chain's trust anchor
	 * (a device of an intermediate CA). 4: with the chain's intermediate
	 * CAs (their revocation by a later CRL). A ticket of an older version
	 * is refused: its device handshakes in full once (ticket_refused).
	 */
	ID_VERSION = 4,
};

_Static_assert(KEY_AES_OFF + 32 == XTEL_DTLS_TICKET_KEY_LEN,
	       "name, HMAC key and AES key make the ticket key");

/* ---- the identity sealed as app data ---- */

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void dtls_ticket_id_encode(const struct dtls_ticket_id *id,
			   unsigned char out[DTLS_TICKET_ID_LEN])
{
	unsigned char *p = out;

	*p++ = ID_VERSION;
	memcpy(p, id->trust, sizeof(id->trust));
	p += sizeof(id->trust);
	for (int i = 0; i < 4; i++)
		*p++ = (unsigned char)(id->client_id >> (24 - 8 * i));
	put64(p, (uint64_t)id->not_before);
	put64(p + 8, (uint64_t)id->not_after);
	put64(p + 16, id->issuer_hash);
	put64(p + 24, id->issuer_kid);
	put64(p + 32, id->anchor_hash);
	put64(p + 40, id->anchor_kid);
	p += 48;
	*p++ = id->serial_len;
	memset(p, 0, SERIAL_MAX);
	memcpy(p, id->serial, id->serial_len);
	p += SERIAL_MAX;
	*p++ = id->n_cas;
	*p++ = id->ca_stored;
	for (int k = 0; k < DTLS_CHAIN_CAS; k++, p += 16) {
		put64(p, k < id->n_cas ? id->ca_key[k] : 0);
		put64(p + 8, k < id->n_cas ? id->ca_rev[k] : 0);
	}
}

int dtls_ticket_id_decode(const void *data, size_t len,
			  struct dtls_ticket_id *id)
{
	const unsigned char *p = data;

	if (len != DTLS_TICKET_ID_LEN || p[0] != ID_VERSION)
		return -EINVAL;
	p++;
	memcpy(id->trust, p, sizeof(id->trust));
	p += sizeof(id->trust);
	id->client_id = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			(uint32_t)p[2] << 8 | p[3];
	p += 4;
	id->not_before = (int64_t)get64(p);
	id->not_after = (int64_t)get64(p + 8);
	id->issuer_hash = get64(p + 16);
	id->issuer_kid = get64(p + 24);
	id->anchor_hash = get64(p + 32);
	id->anchor_kid = get64(p + 40);
	p += 48;
	id->serial_len = *p++;
	/* No serial: refused_now would skip the CRLs, the deny list, the CA. */
	if (id->serial_len == 0 || id->serial_len > SERIAL_MAX)
		return -EINVAL;
	memcpy(id->serial, p, SERIAL_MAX);
	p += SERIAL_MAX;
	id->n_cas = *p++;
	id->ca_stored = *p++;
	if (id->n_cas > DTLS_CHAIN_CAS)
		return -EINVAL;
	for (int k = 0; k < DTLS_CHAIN_CAS; k++, p += 16) {
		id->ca_key[k] = get64(p);
		id->ca_rev[k] = get64(p + 8);
	}
	return 0;
}

int dtls_asn1_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -EINVAL;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int dtls_ticket_id_from_cert(X509 *leaf, struct dtls_ticket_id *id)
{
	const ASN1_INTEGER *serial;
	int len;

	memset(id, 0, sizeof(*id));
	if (leaf == NULL || dtls_parse_client_cn(leaf, &id->client_id) != 0 ||
	    dtls_asn1_time(X509_get0_notBefore(leaf), &id->not_before) != 0 ||
	    dtls_asn1_time(X509_get0_notAfter(leaf), &id->not_after) != 0) {
		ERR_clear_error();
		return -EINVAL;
	}
	id->issuer_hash = X509_NAME_hash_ex(X509_get_issuer_name(leaf), NULL,
					    NULL, NULL);
	id->issuer_kid = dtls_key_id_hash(X509_get0_authority_key_id(leaf));
	serial = X509_get0_serialNumber(leaf);
	len = ASN1_STRING_length(serial);
	if (len <= 0 || len > SERIAL_MAX)
		return -EINVAL;
	memcpy(id->serial, ASN1_STRING_get0_data(serial), (size_t)len);
	id->serial_len = (uint8_t)len;
	return 0;
}

/* ---- sealing, opening ---- */

static int hmac_params(EVP_MAC_CTX *hctx, unsigned char *key)
{
	static char sha256[] = "SHA256";
	OSSL_PARAM params[3];

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
		key + KEY_HMAC_OFF, 32);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     sha256, 0);
	params[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, params) == 1 ? 0 : -EIO;
}

int dtls_ticket_seal_init(struct xtel_dtls_server *srv, unsigned char *name,
			  unsigned char *iv, EVP_CIPHER_CTX *cctx,
			  EVP_MAC_CTX *hctx)
{
	unsigned char *key = srv->tk.key;

	memcpy(name, key, KEY_NAME_LEN);
	if (RAND_bytes(iv, TICKET_IV_LEN) != 1 ||
	    EVP_EncryptInit_ex(cctx, srv->tk.aes, NULL, key + KEY_AES_OFF,
			       iv) != 1 ||
	    hmac_params(hctx, key) != 0)
		return -EIO;
	return 0;
}

int dtls_ticket_unseal_init(struct xtel_dtls_server *srv,
			    const unsigned char *name, const unsigned char *iv,
			    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx)
{
	struct dtls_tickets *tk = &srv->tk;
	unsigned char *key = tk->key;
	int prev = 0;

	if (CRYPTO_memcmp(name, key, KEY_NAME_LEN) != 0) {
		if (!tk->has_prev ||
		    CRYPTO_memcmp(name, tk->prev, KEY_NAME_LEN) != 0)
			return -ENOKEY;
		key = tk->prev;
		prev = 1;
	}
	if (EVP_DecryptInit_ex(cctx, tk->aes, NULL, key + KEY_AES_OFF,
			       iv) != 1 ||
	    hmac_params(hctx, key) != 0)
		return -EIO;
	return prev;
}

/* DER length at d (of at most end - d bytes): 0, with *len and *hdr. */
static int der_len(const unsigned char *d, const unsigned char *end,
		   size_t *len, size_t *hdr)
{
	size_t n, v = 0;

	if (d >= end)
		return -EINVAL;
	if (!(d[0] & 0x80)) {
		*len = d[0];
		*hdr = 1;
		return 0;
	}
	n = d[0] & 0x7f;
	if (n == 0 || n > 3 || (size_t)(end - d) < 1 + n)
		return -EINVAL;
	for (size_t i = 1; i <= n; i++)
		v = v << 8 | d[i];
	*len = v;
	*hdr = 1 + n;
	return 0;
}

/*
 * The DER of an SSL_SESSION (d, len) without its peer certificate, into
 * out (cap bytes): the outer SEQUENCE's elements but [3] copied, behind a
 * new minimal SEQUENCE header. Returns the length, or 0 when d is not a
 * SEQUENCE of low-tag elements filling it exactly.
 */
static size_t strip_peer(const unsigned char *d, size_t len,
			 unsigned char *out, size_t cap)
{
	const unsigned char *end = d + len, *p;
	size_t body, hdr, n = 0, off;

	if (len < 2 || d[0] != 0x30 || der_len(d + 1, end, &body, &hdr) ||
	    1 + hdr + body != len || cap < 4)
		return 0;
	p = d + 1 + hdr;
	off = 4;	/* room for 0x30 and a length of up to 3 bytes */
	while (p < end) {
		size_t el, eh, total;

		if ((p[0] & 0x1f) == 0x1f || der_len(p + 1, end, &el, &eh))
			return 0;
		total = 1 + eh + el;
		if (total > (size_t)(end - p))
			return 0;
		if (p[0] != TAG_PEER) {
			if (off + total > cap)
				return 0;
			memcpy(out + off, p, total);
			off += total;
			n += total;
		}
		p += total;
	}
	if (n > 0xffff)
		return 0;
	/* The header ends right before the body, at out + 4. */
	if (n < 0x80) {
		out[2] = 0x30;
		out[3] = (unsigned char)n;
		memmove(out, out + 2, 2 + n);
		return 2 + n;
	}
	if (n < 0x100) {
		out[1] = 0x30;
		out[2] = 0x81;
		out[3] = (unsigned char)n;
		memmove(out, out + 1, 3 + n);
		return 3 + n;
	}
	out[0] = 0x30;
	out[1] = 0x82;
	out[2] = (unsigned char)(n >> 8);
	out[3] = (unsigned char)n;
	return 4 + n;
}

size_t dtls_session_der_strip_peer(const unsigned char *d, size_t len,
				   unsigned char *out, size_t cap)
{
	return strip_peer(d, len, out, cap);
}

int dtls_ticket_open(struct xtel_dtls_server *srv, const unsigned char *t,
		     size_t len, SSL_SESSION **out, struct dtls_ticket_id *id)
{
	unsigned char mac[EVP_MAX_MD_SIZE], plain[TICKET_PLAIN_MAX + 32];
	unsigned char der[TICKET_PLAIN_MAX];
	const unsigned char *ct = t + KEY_NAME_LEN + TICKET_IV_LEN, *p;
	struct dtls_tickets *tk = &srv->tk;
	size_t ctlen, maclen = 0, n;
	void *app = NULL;
	size_t applen;
	SSL_SESSION *ss;
	int m = 0, f = 0, ret;

	*out = NULL;
	if (len < KEY_NAME_LEN + TICKET_IV_LEN + 16 + TICKET_MAC_LEN)
		return -EBADMSG;
	ctlen = len - KEY_NAME_LEN - TICKET_IV_LEN - TICKET_MAC_LEN;
	if (ctlen % 16 != 0)
		return -EBADMSG;
	if (ctlen > TICKET_PLAIN_MAX)
		return -E2BIG;
	/* tk->hmac holds the key already (dtls_tickets_set_key). */
	if (CRYPTO_memcmp(t, tk->key, KEY_NAME_LEN) != 0)
		return tk->has_prev &&
		       CRYPTO_memcmp(t, tk->prev, KEY_NAME_LEN) == 0 ?
		       -EKEYEXPIRED : -ENOKEY;
	ret = -EIO;
	if (!tk->hmac_keyed ||
	    EVP_DecryptInit_ex(tk->cctx, tk->aes, NULL, tk->key + KEY_AES_OFF,
			       t + KEY_NAME_LEN) != 1)
		goto out;
	ret = -EBADMSG;
	if (EVP_MAC_init(tk->hmac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(tk->hmac, t, len - TICKET_MAC_LEN) != 1 ||
	    EVP_MAC_final(tk->hmac, mac, &maclen, sizeof(mac)) != 1 ||
	    maclen != TICKET_MAC_LEN ||
	    CRYPTO_memcmp(mac, t + len - TICKET_MAC_LEN, TICKET_MAC_LEN) != 0)
		goto out;
	if (EVP_DecryptUpdate(tk->cctx, plain, &m, ct, (int)ctlen) != 1 ||
	    EVP_DecryptFinal_ex(tk->cctx, plain + m, &f) != 1)
		goto out;
	n = strip_peer(plain, (size_t)(m + f), der, sizeof(der));
	p = der;
	ss = n ? d2i_SSL_SESSION(NULL, &p, (long)n) : NULL;
	if (ss == NULL || p != der + n) {
		SSL_SESSION_free(ss);
		goto out;
	}
	applen = 0;
	SSL_SESSION_get0_ticket_appdata(ss, &app, &applen);
	if (dtls_ticket_id_decode(app, applen, id) != 0) {
		SSL_SESSION_free(ss);
		ret = -ENOMSG;
		goto out;
	}
	*out = ss;
	ret = 0;
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(der, sizeof(der));
	ERR_clear_error();
	return ret;
}

void dtls_tickets_set_key(struct xtel_dtls_server *srv,
			  const unsigned char *key)
{
	struct dtls_tickets *tk = &srv->tk;

	memcpy(tk->key, key, sizeof(tk->key));
	tk->hmac_keyed = hmac_params(tk->hmac, tk->key) == 0;
	ERR_clear_error();
}

void dtls_tickets_set_prev(struct xtel_dtls_server *srv,
			   const unsigned char *key)
{
	struct dtls_tickets *tk = &srv->tk;

	tk->has_prev = key != NULL;
	if (key != NULL)
		memcpy(tk->prev, key, sizeof(tk->prev));
	else
		OPENSSL_cleanse(tk->prev, sizeof(tk->prev));
}

int dtls_tickets_init(struct xtel_dtls_server *srv)
{
	struct dtls_tickets *tk = &srv->tk;

	tk->aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	tk->cctx = EVP_CIPHER_CTX_new();
	tk->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	tk->hmac = tk->mac ? EVP_MAC_CTX_new(tk->mac) : NULL;
	ERR_clear_error();
	return tk->aes && tk->cctx && tk->hmac ? 0 : -ENOSYS;
}

void dtls_tickets_free(struct xtel_dtls_server *srv)
{
	struct dtls_tickets *tk = &srv->tk;

	EVP_MAC_CTX_free(tk->hmac);
	EVP_MAC_free(tk->mac);
	EVP_CIPHER_CTX_free(tk->cctx);
	EVP_CIPHER_free(tk->aes);
	OPENSSL_cleanse(tk->key, sizeof(tk->key));
	OPENSSL_cleanse(tk->prev, sizeof(tk->prev));
}
