/* SPDX-License-Identifier: MIT */
/*
 * The server's admission policy (struct xtel_dtls_policy, dtls/server.h):
 * the CAs client certificates must chain to, the CRLs of every CA of those
 * chains that revoke some clients or intermediate CAs (with the
 * certificates of the intermediates only devices send, to check their
 * CRLs), the client ids denied whatever their certificate, and the CAs
 * pinned as the ones a client's chain must pass through. Loading reads and checks
 * every file, so a bad one is refused with a message naming it (and the
 * line, for the deny list) before anything uses it; afterwards the object
 * never changes, so servers on several threads share it by reference and
 * a reload is the swap of one pointer (xtel_dtls_server_set_policy).
 * verify.c checks certificates against it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/parse.h"
#include "dtls/server_internal.h"

/* Open path for reading; a failure is logged and keeps open()'s errno. */
static int open_file(const char *what, const char *path, FILE **out)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		int e = errno;

		pr_err("cannot read %s %s: %s", what, path, strerror(e));
		return -e;
	}
	*out = f;
	return 0;
}

/* Every PEM certificate (certs non-NULL) or CRL of path. */
static int read_pem_objects(const char *what, const char *path,
			    STACK_OF(X509) *certs, STACK_OF(X509_CRL) *crls)
{
	STACK_OF(X509_INFO) *info;
	FILE *f = NULL;
	int ret;

	ret = open_file(what, path, &f);
	if (ret)
		return ret;
	ERR_clear_error();
	info = PEM_X509_INFO_read(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	for (int i = 0; info != NULL && i < sk_X509_INFO_num(info); i++) {
		X509_INFO *xi = sk_X509_INFO_value(info, i);

		if (certs != NULL && xi->x509 != NULL) {
			if (!sk_X509_push(certs, xi->x509))
				ret = -ENOMEM;
			else
				xi->x509 = NULL;
		}
		if (crls != NULL && xi->crl != NULL) {
			if (!sk_X509_CRL_push(crls, xi->crl))
				ret = -ENOMEM;
			else
				xi->crl = NULL;
		}
	}
	sk_X509_INFO_pop_free(info, X509_INFO_free);
	if (ret == -ENOMEM)
		pr_err("out of memory");
	return ret;
}

/* An ASN1_TIME as OpenSSL prints it ("Dec  1 10:50:57 2026 GMT"). */
static void time_str(const ASN1_TIME *t, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	if (b != NULL && ASN1_TIME_print(b, t) == 1)
		n = BIO_read(b, buf, (int)len - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

static void name_str(const X509_NAME *name, char *buf, size_t len)
{
	if (X509_NAME_oneline(name, buf, (int)len) == NULL)
		snprintf(buf, len, "?");
}

/* The CA of set that signed crl, or NULL. */
static X509 *crl_signer(STACK_OF(X509) *set, X509_CRL *crl)
{
	for (int i = 0; set != NULL && i < sk_X509_num(set); i++) {
		X509 *ca = sk_X509_value(set, i);

		if (X509_NAME_cmp(X509_get_subject_name(ca),
				  X509_CRL_get_issuer(crl)) == 0 &&
		    X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
			return ca;
	}
	ERR_clear_error();
	return NULL;
}

/* The CA of the CA file or an intermediate of the CRL file that signed crl. */
static X509 *crl_issuer(const struct xtel_dtls_policy *p, X509_CRL *crl)
{
	X509 *ca = crl_signer(p->cas, crl);

	return ca != NULL ? ca : crl_signer(p->crl_cas, crl);
}

/*
 * The intermediate CA certificates of the CRL file must chain to the CA
 * file now (the others of the CRL file may be on the way, as a device
 * sends them), and be CAs: otherwise the CRL they sign would belong to no
 * chain the collector accepts. Their own revocation is the handshake's.
 */
static int check_crl_cas(const struct xtel_dtls_policy *p,
			 const char *crl_file, const char *ca_file)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *xs = X509_STORE_CTX_new();
	char name[256];
	int ret = st == NULL || xs == NULL ? -ENOMEM : 0;

	for (int i = 0; !ret && i < sk_X509_num(p->cas); i++)
		if (X509_STORE_add_cert(st, sk_X509_value(p->cas, i)) != 1)
			ret = -ENOMEM;
	for (int i = 0; !ret && i < sk_X509_num(p->crl_cas); i++) {
		X509 *ca = sk_X509_value(p->crl_cas, i);
		int err;

		name_str(X509_get_subject_name(ca), name, sizeof(name));
		if (X509_check_ca(ca) == 0) {
			pr_err("CRL %s: certificate %s in it is not a CA's (a "
			       "CRL file holds CRLs and the intermediate CA "
			       "certificates that signed them)", crl_file, name);
			ret = -EBADMSG;
			break;
		}
		if (X509_STORE_CTX_init(xs, st, ca, p->crl_cas) != 1) {
			ret = -ENOMEM;
			break;
		}
		if (X509_verify_cert(xs) != 1) {
			err = X509_STORE_CTX_get_error(xs);
			pr_err("CRL %s: intermediate CA %s does not chain to a CA "
			       "of %s: %s", crl_file, name, ca_file,
			       X509_verify_cert_error_string(err));
			ret = -EBADMSG;
		}
		X509_STORE_CTX_cleanup(xs);
	}
	X509_STORE_CTX_free(xs);
	X509_STORE_free(st);
	ERR_clear_error();
	return ret;
}

/* Whether crls has a CRL issued under ca's subject name. */
static bool has_crl_of(STACK_OF(X509_CRL) *crls, X509 *ca)
{
	for (int k = 0; k < sk_X509_CRL_num(crls); k++)
		if (X509_NAME_cmp(X509_get_subject_name(ca),
			X509_CRL_get_issuer(sk_X509_CRL_value(crls, k))) == 0)
			return true;
	return false;
}

/*
 * Each CRL must be signed by a CA of the CA file, or by an intermediate
 * CA whose certificate the CRL file holds and which chains to the CA
 * file, and be valid now: a stale CRL would make OpenSSL refuse every
 * client of its CA (and one signed by another CA would never be
 * consulted), so it is refused here, where the user can still keep the
 * running one.
 */
static int check_crls(const struct xtel_dtls_policy *p, const char *crl_file,
		      const char *ca_file)
{
	STACK_OF(X509) *sets[2] = { p->cas, p->crl_cas };
	char name[256], when[64];
	int ret;

	if (sk_X509_CRL_num(p->crls) == 0) {
		pr_err("CRL %s: no PEM CRL in it", crl_file);
		return -EBADMSG;
	}
	ret = check_crl_cas(p, crl_file, ca_file);
	if (ret)
		return ret;
	for (int i = 0; i < sk_X509_CRL_num(p->crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(p->crls, i);
		const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);

		name_str(X509_CRL_get_issuer(crl), name, sizeof(name));
		if (crl_issuer(p, crl) == NULL) {
			pr_err("CRL %s: issued by %s, which is neither a CA of %s "
			       "nor an intermediate CA whose certificate is in "
			       "%s (or the signature does not verify): add the "
			       "intermediate's certificate to the CRL file",
			       crl_file, name, ca_file, crl_file);
			return -EBADMSG;
		}
		if (X509_cmp_current_time(X509_CRL_get0_lastUpdate(crl)) > 0) {
			time_str(X509_CRL_get0_lastUpdate(crl), when, sizeof(when));
			pr_err("CRL %s of %s is not valid before %s", crl_file,
			       name, when);
			return -EBADMSG;
		}
		if (next != NULL && X509_cmp_current_time(next) < 0) {
			time_str(next, when, sizeof(when));
			pr_err("CRL %s of %s expired at %s: issue a new one "
			       "(certs/gen.sh crl DIR)", crl_file, name, when);
			return -EBADMSG;
		}
	}
	/*
	 * A CA without a CRL: OpenSSL refuses the clients whose chain passes
	 * through it (no CRL; every CA of a chain is checked, the root's
	 * included). Fail closed, but say so loudly: before chains were
	 * checked in full only the leaf's issuer needed one.
	 */
	for (int k = 0; k < 2; k++)
		for (int i = 0; sets[k] != NULL && i < sk_X509_num(sets[k]); i++) {
			X509 *ca = sk_X509_value(sets[k], i);

			if (has_crl_of(p->crls, ca))
				continue;
			name_str(X509_get_subject_name(ca), name, sizeof(name));
			pr_warn("CRL %s has no CRL of %s (in %s): every device "
				"whose chain passes through that CA is refused "
				"(dtls_failed_other, \"unable to get certificate "
				"CRL\"); add that CA's CRL to %s (an empty one "
				"revokes nothing: openssl ca -gencrl, or "
				"certs/gen.sh crl DIR / certs/gen.sh chain DIR "
				"for gen.sh's CAs) and reload", crl_file, name,
				k == 0 ? ca_file : crl_file, crl_file);
		}
	return 0;
}

int xtel_dtls_parse_fingerprint(const char *s, unsigned char out[32])
{
	unsigned int n = 0;

	for (; *s != '\0'; s++) {
		int v;

		if (*s == ':')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return -EINVAL;
		if (n >= 64)
			return -EINVAL;
		if (n % 2 == 0)
			out[n / 2] = (unsigned char)(v << 4);
		else
			out[n / 2] |= (unsigned char)v;
		n++;
	}
	return n == 64 ? 0 : -EINVAL;
}

/* Each pin must name a certificate of the CA file: that CA is pinned. */
static int load_pins(struct xtel_dtls_policy *p,
		     const struct xtel_dtls_policy_cfg *cfg)
{
	if (cfg->n_pin_ca == 0)
		return 0;
	p->pins = sk_X509_new_null();
	if (p->pins == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < cfg->n_pin_ca; i++) {
		unsigned char want[32], md[EVP_MAX_MD_SIZE];
		unsigned int len;
		X509 *found = NULL;

		if (xtel_dtls_parse_fingerprint(cfg->pin_ca[i], want) != 0) {
			pr_err("pinned CA '%s' is not a SHA-256 fingerprint "
			       "(64 hex digits, colons allowed)", cfg->pin_ca[i]);
			return -EINVAL;
		}
		for (int k = 0; k < sk_X509_num(p->cas) && found == NULL; k++) {
			X509 *ca = sk_X509_value(p->cas, k);

			if (X509_digest(ca, EVP_sha256(), md, &len) == 1 &&
			    len == sizeof(want) && memcmp(md, want, len) == 0)
				found = ca;
		}
		if (found == NULL) {
			pr_err("pinned CA %s matches no certificate of %s "
			       "(openssl x509 -noout -fingerprint -sha256 -in "
			       "CA prints one)", cfg->pin_ca[i], cfg->ca_file);
			return -EINVAL;
		}
		if (!sk_X509_push(p->pins, found))
			return -ENOMEM;
	}
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * One client id per line, decimal 1..4294967295; '#' starts a comment,
 * blank lines and surrounding blanks are ignored.
 */
static int load_deny(struct xtel_dtls_policy *p, const char *path)
{
	char *line = NULL;
	size_t cap = 0, n_cap = 0;
	unsigned int lineno = 0;
	FILE *f = NULL;
	int ret;

	ret = open_file("deny list", path, &f);
	if (ret)
		return ret;
	while (getline(&line, &cap, f) >= 0) {
		char *s = line, *e;
		uint64_t id;

		lineno++;
		e = strchr(s, '#');
		if (e != NULL)
			*e = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' ||
				 e[-1] == '\n' || e[-1] == '\r'))
			*--e = '\0';
		if (*s == '\0')
			continue;
		if (xtel_parse_u64(s, 1, UINT32_MAX, &id) != 0) {
			pr_err("deny list %s:%u: '%s' is not a client id "
			       "(1..4294967295)", path, lineno, s);
			ret = -EINVAL;
			break;
		}
		if (p->n_deny == n_cap) {
			size_t nc = n_cap ? 2 * n_cap : 64;
			uint32_t *d = realloc(p->deny, nc * sizeof(*d));

			if (d == NULL) {
				pr_err("out of memory");
				ret = -ENOMEM;
				break;
			}
			p->deny = d;
			n_cap = nc;
		}
		p->deny[p->n_deny++] = (uint32_t)id;
	}
	free(line);
	fclose(f);
	if (ret == 0 && p->n_deny > 0) {
		size_t k = 1;

		qsort(p->deny, p->n_deny, sizeof(*p->deny), u32_cmp);
		for (size_t i = 1; i < p->n_deny; i++)	/* one of each */
			if (p->deny[i] != p->deny[k - 1])
				p->deny[k++] = p->deny[i];
		p->n_deny = k;
	}
	return ret;
}

uint64_t dtls_key_id_hash(const ASN1_OCTET_STRING *kid)
{
	const unsigned char *d;
	uint64_t h = 1469598103934665603ULL;
	int len;

	if (kid == NULL)
		return 0;
	d = ASN1_STRING_get0_data(kid);
	len = ASN1_STRING_length(kid);
	for (int i = 0; i < len; i++)
		h = (h ^ d[i]) * 1099511628211ULL;
	return h ? h : 1;
}

static uint64_t fnv(uint64_t h, const unsigned char *d, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ d[i]) * 1099511628211ULL;
	return h;
}

uint64_t dtls_ca_key(unsigned long name_hash, uint64_t kid)
{
	uint64_t v[2] = { name_hash, kid };
	uint64_t h = fnv(1469598103934665603ULL, (const unsigned char *)v,
			 sizeof(v));

	return h ? h : 1;
}

uint64_t dtls_rev_key(unsigned long issuer_hash, const ASN1_INTEGER *serial)
{
	uint64_t v = issuer_hash;
	uint64_t h = fnv(1099511628211ULL, (const unsigned char *)&v, sizeof(v));

	h = fnv(h, ASN1_STRING_get0_data(serial),
		(size_t)ASN1_STRING_length(serial));
	return h ? h : 1;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool keys_have(const uint64_t *keys, size_t n, uint64_t key)
{
	return n > 0 && bsearch(&key, keys, n, sizeof(*keys), u64_cmp) != NULL;
}

bool dtls_policy_revokes_ca(const struct xtel_dtls_policy *p, uint64_t rev)
{
	return keys_have(p->rev_keys, p->n_rev_keys, rev);
}

bool dtls_policy_has_ca(const struct xtel_dtls_policy *p, uint64_t key,
			bool pin)
{
	return pin ? keys_have(p->pin_keys, p->n_pin_keys, key) :
		     keys_have(p->ca_keys, p->n_ca_keys, key);
}

bool dtls_policy_leaf_crl_only(const struct xtel_dtls_policy *p, X509 *leaf,
			       STACK_OF(X509) *sent)
{
	const X509_NAME *issuer = X509_get_issuer_name(leaf);

	if (p->crls == NULL || !keys_have(p->root_keys, p->n_root_keys,
		dtls_ca_key(X509_NAME_hash_ex(issuer, NULL, NULL, NULL),
			    dtls_key_id_hash(X509_get0_authority_key_id(leaf)))))
		return false;
	for (int i = 0; sent != NULL && i < sk_X509_num(sent); i++)
		if (X509_NAME_cmp(X509_get_subject_name(sk_X509_value(sent, i)),
				  issuer) == 0)
			return false;
	return true;
}

uint64_t dtls_cert_ca_key(X509 *ca)
{
	return dtls_ca_key(X509_NAME_hash_ex(X509_get_subject_name(ca), NULL,
					     NULL, NULL),
			   dtls_key_id_hash(X509_get0_subject_key_id(ca)));
}

/* How many CAs of p's CA file and CRL file have ca's subject name. */
static int namesakes(const struct xtel_dtls_policy *p, X509 *ca)
{
	STACK_OF(X509) *sets[2] = { p->cas, p->crl_cas };
	int n = 0;

	for (int k = 0; k < 2; k++)
		for (int i = 0; sets[k] != NULL && i < sk_X509_num(sets[k]); i++)
			n += X509_NAME_cmp(X509_get_subject_name(ca),
				X509_get_subject_name(sk_X509_value(sets[k], i))) == 0;
	return n;
}

/*
 * The dtls_ca_key of every CA of set, sorted. Roots: the self-signed
 * only, and only those whose subject no other CA of p has: beside a
 * cross-certificate (same subject and key, issued by another root)
 * OpenSSL may build the chain through it, and the leaf-only shortcut
 * (dtls_policy_leaf_crl_only) would skip the other root's CRL of it.
 */
static int set_keys(const struct xtel_dtls_policy *p, STACK_OF(X509) *set,
		    bool roots, uint64_t **out, size_t *count)
{
	int n = set != NULL ? sk_X509_num(set) : 0, m = 0;
	uint64_t *k = calloc(n > 0 ? (size_t)n : 1, sizeof(*k));

	if (k == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		X509 *ca = sk_X509_value(set, i);

		if (roots && (!(X509_get_extension_flags(ca) & EXFLAG_SS) ||
			      namesakes(p, ca) != 1))
			continue;
		k[m++] = dtls_cert_ca_key(ca);
	}
	qsort(k, (size_t)m, sizeof(*k), u64_cmp);
	*out = k;
	*count = (size_t)m;
	return 0;
}

/*
 * What the sweep looks the chain CAs of a session up in: the CA file's
 * and the pins' identities, and every revoked serial under its CRL's
 * issuer (dtls_rev_key, as dtls_note_certificate makes them).
 */
static int build_keys(struct xtel_dtls_policy *p)
{
	size_t n = 0;
	int ret = set_keys(p, p->cas, false, &p->ca_keys, &p->n_ca_keys);

	if (!ret)
		ret = set_keys(p, p->cas, true, &p->root_keys, &p->n_root_keys);
	if (!ret && p->pins != NULL)
		ret = set_keys(p, p->pins, false, &p->pin_keys, &p->n_pin_keys);
	if (ret || p->n_revoked == 0)
		return ret;
	p->rev_keys = calloc(p->n_revoked, sizeof(*p->rev_keys));
	if (p->rev_keys == NULL)
		return -ENOMEM;
	for (int i = 0; i < sk_X509_CRL_num(p->crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(p->crls, i);
		STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
		unsigned long ih = X509_NAME_hash_ex(X509_CRL_get_issuer(crl),
						     NULL, NULL, NULL);

		for (int k = 0; k < sk_X509_REVOKED_num(rev) && n < p->n_revoked; k++)
			p->rev_keys[n++] = dtls_rev_key(ih,
				X509_REVOKED_get0_serialNumber(
					sk_X509_REVOKED_value(rev, k)));
	}
	qsort(p->rev_keys, n, sizeof(*p->rev_keys), u64_cmp);
	p->n_rev_keys = n;
	return 0;
}

/* CA ca as certificates name it. */
static void issuer_of(X509 *ca, struct dtls_issuer *is)
{
	is->name_hash = X509_NAME_hash_ex(X509_get_subject_name(ca), NULL,
					  NULL, NULL);
	is->kid = dtls_key_id_hash(X509_get0_subject_key_id(ca));
	/* Unreadable (OpenSSL loaded it): judged by the full handshake. */
	if (dtls_asn1_time(X509_get0_notBefore(ca), &is->not_before) != 0)
		is->not_before = INT64_MIN;
	if (dtls_asn1_time(X509_get0_notAfter(ca), &is->not_after) != 0)
		is->not_after = INT64_MAX;
}

/*
 * With CRLs, which CAs of the CA file and the CRL file have a CRL
 * (crl_keys) and which have none (no_crl): CRL_CHECK_ALL refuses every
 * chain through one without, and so do the sweep and a ticket's check
 * (refused_now), which have no chain to hand OpenSSL.
 */
static int build_crl_sets(struct xtel_dtls_policy *p)
{
	STACK_OF(X509) *sets[2] = { p->cas, p->crl_cas };
	size_t n;

	if (p->crls == NULL)
		return 0;
	n = (size_t)sk_X509_num(p->cas) + (size_t)sk_X509_num(p->crl_cas);
	p->crl_keys = calloc(n, sizeof(*p->crl_keys));
	p->no_crl = calloc(n, sizeof(*p->no_crl));
	if (p->crl_keys == NULL || p->no_crl == NULL)
		return -ENOMEM;
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < sk_X509_num(sets[k]); i++) {
			X509 *ca = sk_X509_value(sets[k], i);

			if (has_crl_of(p->crls, ca))
				p->crl_keys[p->n_crl_keys++] = dtls_cert_ca_key(ca);
			else
				issuer_of(ca, &p->no_crl[p->n_no_crl++]);
		}
	qsort(p->crl_keys, p->n_crl_keys, sizeof(*p->crl_keys), u64_cmp);
	return 0;
}

/* The CAs of set as certificates name them, into *out (*n of them). */
static int build_set(STACK_OF(X509) *set, struct dtls_issuer **out,
		     unsigned int *count)
{
	int n = sk_X509_num(set);
	struct dtls_issuer *is = calloc(n > 0 ? (size_t)n : 1, sizeof(*is));

	if (is == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		issuer_of(sk_X509_value(set, i), &is[i]);
	*out = is;
	*count = (unsigned int)n;
	return 0;
}

/*
 * Who may issue clients, as their certificates name them (the sweep's),
 * and the trust anchors their chains may end at.
 */
static int build_issuers(struct xtel_dtls_policy *p)
{
	int ret = build_set(p->pins != NULL ? p->pins : p->cas, &p->issuers,
			    &p->n_issuers);

	return ret ? ret : build_set(p->cas, &p->anchors, &p->n_anchors);
}

static bool issuer_is(const struct dtls_issuer *is, unsigned long name_hash,
		      uint64_t kid)
{
	return is->name_hash == name_hash &&
	       (kid == 0 || is->kid == 0 || is->kid == kid);
}

/* Whether set has that CA, valid at now (INT64_MIN: at any time). */
static bool set_has(const struct dtls_issuer *set, unsigned int n,
		    unsigned long name_hash, uint64_t kid, int64_t now)
{
	for (unsigned int i = 0; i < n; i++)
		if (issuer_is(&set[i], name_hash, kid) &&
		    (now == INT64_MIN ||
		     (set[i].not_before <= now && now < set[i].not_after)))
			return true;
	return false;
}

bool dtls_policy_trusts_issuer(const struct xtel_dtls_policy *p,
			       unsigned long name_hash, uint64_t kid)
{
	return set_has(p->issuers, p->n_issuers, name_hash, kid, INT64_MIN);
}

bool dtls_policy_trusts_anchor(const struct xtel_dtls_policy *p,
			       unsigned long name_hash, uint64_t kid)
{
	return set_has(p->anchors, p->n_anchors, name_hash, kid, INT64_MIN);
}

bool dtls_policy_anchor_valid(const struct xtel_dtls_policy *p,
			      unsigned long name_hash, uint64_t kid,
			      int64_t now)
{
	return set_has(p->anchors, p->n_anchors, name_hash, kid, now);
}

bool dtls_policy_lacks_crl(const struct xtel_dtls_policy *p,
			   unsigned long name_hash, uint64_t kid)
{
	return p->crls != NULL &&
	       set_has(p->no_crl, p->n_no_crl, name_hash, kid, INT64_MIN);
}

bool dtls_policy_ca_has_crl(const struct xtel_dtls_policy *p, uint64_t key)
{
	return p->crls == NULL || keys_have(p->crl_keys, p->n_crl_keys, key);
}

/* The store every server's SSL_CTX verifies against. */
static int build_store(struct xtel_dtls_policy *p)
{
	p->store = X509_STORE_new();
	if (p->store == NULL)
		return -ENOMEM;
	for (int i = 0; i < sk_X509_num(p->cas); i++)
		if (X509_STORE_add_cert(p->store, sk_X509_value(p->cas, i)) != 1)
			return -ENOMEM;
	for (int i = 0; i < sk_X509_CRL_num(p->crls); i++)
		if (X509_STORE_add_crl(p->store, sk_X509_CRL_value(p->crls, i)) != 1)
			return -ENOMEM;
	/*
	 * Every certificate of the chain, the intermediates' too, as an
	 * operator expects of OpenSSL's CRL_CHECK_ALL: a revoked
	 * intermediate refuses every device under it, and each CA of a
	 * chain needs a valid CRL.
	 */
	if (p->crls != NULL)
		X509_STORE_set_flags(p->store, X509_V_FLAG_CRL_CHECK |
				     X509_V_FLAG_CRL_CHECK_ALL);
	return 0;
}

int xtel_dtls_policy_load(struct xtel_dtls_policy **out,
			  const struct xtel_dtls_policy_cfg *cfg)
{
	struct xtel_dtls_policy *p;
	int ret;

	if (cfg->ca_file == NULL) {
		pr_err("no CA file given");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	p->refs = 1;
	p->cas = sk_X509_new_null();
	if (p->cas == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = read_pem_objects("CA", cfg->ca_file, p->cas, NULL);
	if (ret)
		goto fail;
	if (sk_X509_num(p->cas) == 0) {
		pr_err("CA %s: no usable certificate", cfg->ca_file);
		ret = -ENOMSG;
		goto fail;
	}
	if (cfg->crl_file != NULL) {
		p->crls = sk_X509_CRL_new_null();
		p->crl_cas = sk_X509_new_null();
		ret = p->crls == NULL || p->crl_cas == NULL ? -ENOMEM :
		      read_pem_objects("CRL", cfg->crl_file, p->crl_cas, p->crls);
		if (!ret)
			ret = check_crls(p, cfg->crl_file, cfg->ca_file);
		if (ret)
			goto fail;
		for (int i = 0; i < sk_X509_CRL_num(p->crls); i++) {
			/* -1 (no list at all) for a CRL that revokes nothing */
			int n = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(
				sk_X509_CRL_value(p->crls, i)));

			p->n_revoked += n > 0 ? (unsigned int)n : 0;
		}
	}
	ret = load_pins(p, cfg);
	if (!ret && (cfg->cert_file != NULL || cfg->key_file != NULL))
		ret = xtel_dtls_identity_load(&p->identity, cfg->cert_file,
					      cfg->key_file);
	if (!ret && cfg->deny_file != NULL)
		ret = load_deny(p, cfg->deny_file);
	if (!ret)
		ret = build_store(p);
	if (!ret)
		ret = build_issuers(p);
	if (!ret)
		ret = build_keys(p);
	if (!ret)
		ret = build_crl_sets(p);
	if (ret)
		goto fail;
	ERR_clear_error();
	*out = p;
	return 0;
fail:
	if (ret == -ENOMEM)
		pr_err("out of memory");
	ERR_clear_error();
	xtel_dtls_policy_put(p);
	return ret;
}

struct xtel_dtls_policy *xtel_dtls_policy_get(struct xtel_dtls_policy *p)
{
	if (p != NULL)
		__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void xtel_dtls_policy_put(struct xtel_dtls_policy *p)
{
	if (p == NULL || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	X509_STORE_free(p->store);
	sk_X509_free(p->pins);		/* references into cas */
	sk_X509_pop_free(p->cas, X509_free);
	sk_X509_CRL_pop_free(p->crls, X509_CRL_free);
	sk_X509_pop_free(p->crl_cas, X509_free);
	free(p->rev_keys);
	free(p->ca_keys);
	free(p->pin_keys);
	free(p->root_keys);
	free(p->crl_keys);
	free(p->no_crl);
	free(p->deny);
	free(p->issuers);
	free(p->anchors);
	xtel_dtls_identity_free(p->identity);
	free(p);
}

unsigned int xtel_dtls_policy_revoked(const struct xtel_dtls_policy *p)
{
	return p->n_revoked;
}

unsigned int xtel_dtls_policy_cas_without_crl(const struct xtel_dtls_policy *p)
{
	return p->n_no_crl;
}

unsigned int xtel_dtls_policy_denied(const struct xtel_dtls_policy *p)
{
	return (unsigned int)p->n_deny;
}

bool dtls_policy_denies(const struct xtel_dtls_policy *p, uint32_t id)
{
	return p->n_deny > 0 &&
	       bsearch(&id, p->deny, p->n_deny, sizeof(*p->deny), u32_cmp) != NULL;
}
