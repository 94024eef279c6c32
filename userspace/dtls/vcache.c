/* SPDX-License-Identifier: MIT */
/*
 * The verification cache for reconnecting devices (cfg.verify_cache): a
 * device that comes back with a full handshake (no ticket, or one that
 * expired) sends the same certificate again, and building its chain and
 * checking the CA's signature over it (X509_verify_cert, about 0.9M
 * instructions) gives the same answer as last time while the policy is
 * the same. So the chain check is replaced (SSL_CTX_set_cert_verify_callback)
 * by a lookup of the certificate's SHA-256 (over its DER) in a table of
 * the certificates that passed it, and of our own checks that depend only
 * on the certificate and the trust (the pins, the key usage), under the
 * policy in force: a policy swap (a reload, a CRL, a CA or a pin change)
 * empties it (dtls_vcache_policy). An entry lives only within the
 * validity of every certificate of the chain it was made with, and of the
 * policy's CRLs (their earliest nextUpdate); it is made only when the
 * whole verification succeeded, ours included. What can change between
 * two handshakes of the same certificate still runs every time on a hit:
 * the client id (CN) binding, the deny list, the admit callback, the id
 * of a session it would replace (dtls_verify_depth). The CertificateVerify
 * signature, the proof that the client holds the key, is OpenSSL's and is
 * not touched. The table is bounded (cfg.verify_cache entries, least
 * recently used evicted); hits, misses and evictions are server stats.
 * An entry keeps the trust anchor its chain ended at and its intermediates:
 * a session made on a hit has no chain to read them from, and a later
 * policy judges it by them. An entry is the leaf's; a hit applies only
 * when the intermediates the device does not send this time are in the CA
 * file (dtls_chain_rebuilt), else the entry is forgotten and the chain
 * checked in full.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dtls/server_internal.h"

#define VC_NONE UINT32_MAX

struct dtls_vcache_entry {
	unsigned char md[32];		/* SHA-256 of the DER */
	struct dtls_chain chain;	/* valid in its [not_before, not_after) */
	uint32_t hnext;			/* bucket chain, or free list */
	uint32_t prev, next;		/* LRU: head is the least recent */
};

static uint32_t bucket_of(const struct dtls_vcache *vc, const unsigned char *md)
{
	uint32_t h;

	/* A digest is uniform, and only verified certificates get in. */
	memcpy(&h, md, sizeof(h));
	return h & vc->mask;
}

static void lru_unlink(struct dtls_vcache *vc, uint32_t i)
{
	struct dtls_vcache_entry *e = &vc->e[i];

	if (e->prev != VC_NONE)
		vc->e[e->prev].next = e->next;
	else
		vc->head = e->next;
	if (e->next != VC_NONE)
		vc->e[e->next].prev = e->prev;
	else
		vc->tail = e->prev;
}

static void lru_append(struct dtls_vcache *vc, uint32_t i)
{
	struct dtls_vcache_entry *e = &vc->e[i];

	e->prev = vc->tail;
	e->next = VC_NONE;
	if (vc->tail != VC_NONE)
		vc->e[vc->tail].next = i;
	else
		vc->head = i;
	vc->tail = i;
}

/* Take entry i out of its bucket and the LRU; it is free afterwards. */
static void remove_entry(struct dtls_vcache *vc, uint32_t i)
{
	uint32_t *pp = &vc->buckets[bucket_of(vc, vc->e[i].md)];

	while (*pp != i)
		pp = &vc->e[*pp].hnext;
	*pp = vc->e[i].hnext;
	lru_unlink(vc, i);
	vc->e[i].hnext = vc->free;
	vc->free = i;
	vc->n--;
}

void dtls_vcache_flush(struct dtls_vcache *vc)
{
	if (vc->cap == 0)
		return;
	memset(vc->buckets, 0xff,
	       ((size_t)vc->mask + 1) * sizeof(*vc->buckets));
	vc->head = vc->tail = vc->free = VC_NONE;
	vc->n = 0;
	vc->used = 0;
}

int dtls_vcache_init(struct dtls_vcache *vc, unsigned int cap)
{
	uint32_t nb = 1;

	memset(vc, 0, sizeof(*vc));
	vc->until = INT64_MAX;
	if (cap == 0)
		return 0;
	while (nb < cap)
		nb <<= 1;
	/* calloc: the kernel backs the pages only as entries fill them. */
	vc->e = calloc(cap, sizeof(*vc->e));
	vc->buckets = malloc((size_t)nb * sizeof(*vc->buckets));
	vc->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (vc->e == NULL || vc->buckets == NULL || vc->sha256 == NULL) {
		dtls_vcache_free(vc);
		return -ENOMEM;
	}
	vc->cap = cap;
	vc->mask = nb - 1;
	dtls_vcache_flush(vc);
	return 0;
}

void dtls_vcache_free(struct dtls_vcache *vc)
{
	free(vc->e);
	free(vc->buckets);
	EVP_MD_free(vc->sha256);
	memset(vc, 0, sizeof(*vc));
}

/* The earliest nextUpdate of p's CRLs (INT64_MAX: none). */
static int64_t crls_until(const struct xtel_dtls_policy *p)
{
	int64_t until = INT64_MAX;

	for (int i = 0; p->crls != NULL && i < sk_X509_CRL_num(p->crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(p->crls, i);
		const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
		int64_t t;

		if (next != NULL && dtls_asn1_time(next, &t) == 0 && t < until)
			until = t;
	}
	return until;
}

void dtls_vcache_policy(struct xtel_dtls_server *srv)
{
	dtls_vcache_flush(&srv->vc);
	srv->vc.until = crls_until(srv->policy);
}

static uint32_t find(const struct dtls_vcache *vc, const unsigned char *md)
{
	uint32_t i;

	for (i = vc->buckets[bucket_of(vc, md)]; i != VC_NONE; i = vc->e[i].hnext)
		if (memcmp(vc->e[i].md, md, sizeof(vc->e[i].md)) == 0)
			break;
	return i;
}

void dtls_vcache_forget(struct dtls_vcache *vc, const unsigned char md[32])
{
	uint32_t i = vc->cap > 0 ? find(vc, md) : VC_NONE;

	if (i != VC_NONE)
		remove_entry(vc, i);
}

int dtls_vcache_lookup(struct dtls_vcache *vc, const unsigned char md[32],
		       int64_t now, struct dtls_chain *chain)
{
	uint32_t i = find(vc, md);

	if (i == VC_NONE)
		return -ENOENT;
	if (now < vc->e[i].chain.not_before || now >= vc->e[i].chain.not_after ||
	    now >= vc->until) {
		/* Verified again in full: refused as expired, or made anew. */
		remove_entry(vc, i);
		return -ENOENT;
	}
	lru_unlink(vc, i);
	lru_append(vc, i);
	*chain = vc->e[i].chain;
	return 0;
}

int dtls_vcache_insert(struct dtls_vcache *vc, const unsigned char md[32],
		       const struct dtls_chain *chain)
{
	struct dtls_vcache_entry *e;
	uint32_t i, b;
	int evicted = 0;

	if (vc->cap == 0)
		return 0;
	if (vc->free != VC_NONE) {
		i = vc->free;
		vc->free = vc->e[i].hnext;
	} else if (vc->used < vc->cap) {
		i = vc->used++;
	} else {
		i = vc->head;
		remove_entry(vc, i);
		vc->free = vc->e[i].hnext;
		evicted = 1;
	}
	e = &vc->e[i];
	memcpy(e->md, md, sizeof(e->md));
	e->chain = *chain;
	b = bucket_of(vc, md);
	e->hnext = vc->buckets[b];
	vc->buckets[b] = i;
	lru_append(vc, i);
	vc->n++;
	return evicted;
}

int dtls_chain_validity(X509_STORE_CTX *xs, int64_t *nb, int64_t *na)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(xs);

	*nb = INT64_MIN;
	*na = INT64_MAX;
	if (chain == NULL || sk_X509_num(chain) == 0)
		return -EINVAL;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		int64_t b, a;

		if (dtls_asn1_time(X509_get0_notBefore(x), &b) != 0 ||
		    dtls_asn1_time(X509_get0_notAfter(x), &a) != 0)
			return -EINVAL;
		if (b > *nb)
			*nb = b;
		if (a < *na)
			*na = a;
	}
	return 0;
}

/*
 * X509_verify_cert under srv's policy. With CRLs every CA of the chain is
 * checked (CRL_CHECK_ALL), but a chain of the leaf and a root of the CA
 * file is checked as the leaf alone: the root against its own CRL would
 * add a CRL signature check (~0.9M instructions, 13% of a full handshake)
 * that decides nothing.
 */
static int verify_chain(const struct xtel_dtls_server *srv, X509_STORE_CTX *xs,
			X509 *leaf)
{
	if (leaf != NULL && dtls_policy_leaf_crl_only(srv->policy, leaf,
			X509_STORE_CTX_get0_untrusted(xs)))
		X509_VERIFY_PARAM_clear_flags(X509_STORE_CTX_get0_param(xs),
					      X509_V_FLAG_CRL_CHECK_ALL);
	return X509_verify_cert(xs);
}

/*
 * In place of X509_verify_cert for the client's certificate. A miss runs
 * it (and dtls_verify_cb through it) and remembers a success; a hit runs
 * only the checks of ours that may have changed since. Without a cache
 * (cap 0) every handshake is a miss, not counted.
 */
static int cert_verify_cb(X509_STORE_CTX *xs, void *arg)
{
	struct xtel_dtls_server *srv = arg;
	struct dtls_vcache *vc = &srv->vc;
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs,
			SSL_get_ex_data_X509_STORE_CTX_idx());
	struct session *s = ssl ? SSL_get_ex_data(ssl, dtls_ex_session_idx) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int64_t now = (int64_t)time(NULL);
	struct dtls_chain chain;
	bool hit;
	int ok;

	if (s == NULL || leaf == NULL || vc->cap == 0 ||
	    X509_digest(leaf, vc->sha256, md, &mdlen) != 1 || mdlen != 32) {
		ERR_clear_error();
		return verify_chain(srv, xs, leaf);
	}
	/*
	 * The entry is the leaf's; the intermediates the device does not
	 * send this time must be in the CA file, as building the chain
	 * would need them.
	 */
	hit = dtls_vcache_lookup(vc, md, now, &chain) == 0;
	if (hit && dtls_chain_rebuilt(srv->policy, &chain,
				      X509_STORE_CTX_get0_untrusted(xs)) != 0) {
		dtls_vcache_forget(vc, md);
		hit = false;
	}
	if (hit) {
		srv->st.verify_cache_hits++;
		X509_STORE_CTX_set_current_cert(xs, leaf);
		X509_STORE_CTX_set_error_depth(xs, 0);
		X509_STORE_CTX_set_error(xs, X509_V_OK);
		ok = dtls_verify_depth(s, xs, 1, true);
		/* No chain was built: it is the entry's. */
		s->chain = chain;
		return ok;
	}
	srv->st.verify_cache_misses++;
	ok = verify_chain(srv, xs, leaf);
	if (ok == 1 && X509_STORE_CTX_get_error(xs) == X509_V_OK &&
	    !s->fail_set && dtls_chain_validity(xs, &chain.not_before,
						&chain.not_after) == 0) {
		int64_t nb = chain.not_before, na = chain.not_after;

		/* The anchor and intermediates dtls_note_certificate noted. */
		chain = s->chain;
		chain.not_before = nb;
		chain.not_after = na;
		srv->st.verify_cache_evictions +=
			(uint64_t)dtls_vcache_insert(vc, md, &chain);
	}
	return ok;
}

int dtls_vcache_install(struct xtel_dtls_server *srv)
{
	int ret = dtls_vcache_init(&srv->vc, srv->cfg.verify_cache);

	if (ret)
		return ret;
	SSL_CTX_set_cert_verify_callback(srv->ctx, cert_verify_cb, srv);
	srv->vc.until = crls_until(srv->policy);
	return 0;
}
