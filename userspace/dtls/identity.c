/* SPDX-License-Identifier: MIT */
/*
 * Credentials of both ends: a certificate with its private key (an
 * identity), the CA bundle a peer's certificate must chain to, and the
 * client id a client certificate's CN names. Every failure is logged with
 * pr_err naming the file, and returned as the errno dtls.h lists, so a
 * user learns which file to fix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "dtls/internal.h"

/* Open a file for PEM parsing; a failure keeps open()'s errno. */
static int open_pem(const char *what, const char *path, FILE **out)
{
	FILE *f;

	if (path == NULL) {
		pr_err("no %s file given", what);
		return -EINVAL;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		int e = errno;

		pr_err("cannot read %s %s: %s", what, path, strerror(e));
		return -e;
	}
	*out = f;
	return 0;
}

/*
 * The certificates of path after its first (a device's intermediate CAs,
 * sent with its own): *out NULL when there are none.
 */
static int read_chain(const char *path, STACK_OF(X509) **out)
{
	FILE *f = NULL;
	X509 *x;
	int ret = open_pem("certificate", path, &f);

	*out = NULL;
	if (ret)
		return ret;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	X509_free(x);
	while (x != NULL && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if ((*out == NULL && (*out = sk_X509_new_null()) == NULL) ||
		    !sk_X509_push(*out, x)) {
			X509_free(x);
			ret = -ENOMEM;
			break;
		}
	}
	fclose(f);
	/* The end of the file reads as a PEM error. */
	ERR_clear_error();
	return ret;
}

/*
 * Read path's PEM object: a certificate into *cert, or (cert NULL) a
 * private key into *key. what names it in messages.
 */
static int read_pem(const char *what, const char *path, X509 **cert,
		    EVP_PKEY **key)
{
	FILE *f = NULL;
	bool ok;
	int ret;

	ret = open_pem(what, path, &f);
	if (ret)
		return ret;
	ERR_clear_error();
	if (cert != NULL)
		ok = (*cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL;
	else
		ok = (*key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) != NULL;
	fclose(f);
	if (!ok) {
		pr_err("%s: not a PEM %s (%s)", path, what,
		       dtls_openssl_reason());
		return -EBADMSG;
	}
	return 0;
}

/*
 * A PEM private-key decoder made once for many keys (loadgen's 100,000
 * clients): OpenSSL 3.0 builds a decoder chain for every
 * PEM_read_PrivateKey, two thirds of an identity's load (4.4M of 6.7M
 * instructions); one chain decodes any number of key files.
 */
struct xtel_dtls_identity_loader {
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *out;			/* where dctx puts the decoded key */
};

/* A key file larger than this is refused (a PEM private key is < 4 KB). */
enum { KEY_FILE_MAX = 64 * 1024 };

int xtel_dtls_identity_loader_new(struct xtel_dtls_identity_loader **out)
{
	struct xtel_dtls_identity_loader *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -ENOMEM;
	l->dctx = OSSL_DECODER_CTX_new_for_pkey(&l->out, "PEM", NULL, NULL,
						OSSL_KEYMGMT_SELECT_KEYPAIR,
						NULL, NULL);
	if (l->dctx == NULL) {
		free(l);
		ERR_clear_error();
		return -ENOMEM;
	}
	*out = l;
	return 0;
}

void xtel_dtls_identity_loader_free(struct xtel_dtls_identity_loader *l)
{
	if (l == NULL)
		return;
	OSSL_DECODER_CTX_free(l->dctx);
	free(l);
}

/* read_pem's private key, decoded by l's decoder. */
static int read_key_with(struct xtel_dtls_identity_loader *l,
			 const char *path, EVP_PKEY **key)
{
	FILE *f = NULL;
	unsigned char *buf;
	const unsigned char *p;
	size_t len;
	int ret = open_pem("private key", path, &f);

	if (ret)
		return ret;
	buf = malloc(KEY_FILE_MAX);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(buf, 1, KEY_FILE_MAX, f);
	fclose(f);
	p = buf;
	l->out = NULL;
	ERR_clear_error();
	if (len == 0 || len == KEY_FILE_MAX ||
	    OSSL_DECODER_from_data(l->dctx, &p, &len) != 1 || l->out == NULL) {
		EVP_PKEY_free(l->out);
		l->out = NULL;
		pr_err("%s: not a PEM private key (%s)", path,
		       dtls_openssl_reason());
		ret = -EBADMSG;
	}
	OPENSSL_cleanse(buf, KEY_FILE_MAX);
	free(buf);
	*key = l->out;
	l->out = NULL;
	return ret;
}

int xtel_dtls_identity_load(struct xtel_dtls_identity **out,
			    const char *cert_file, const char *key_file)
{
	return xtel_dtls_identity_load_with(NULL, out, cert_file, key_file);
}

int xtel_dtls_identity_load_with(struct xtel_dtls_identity_loader *l,
				 struct xtel_dtls_identity **out,
				 const char *cert_file, const char *key_file)
{
	struct xtel_dtls_identity *id;
	int ret;

	id = calloc(1, sizeof(*id));
	if (id == NULL) {
		pr_err("out of memory");
		return -ENOMEM;
	}

	ret = read_pem("certificate", cert_file, &id->cert, NULL);
	if (ret)
		goto fail;
	ret = read_chain(cert_file, &id->chain);
	if (ret)
		goto fail;
	ret = l != NULL ? read_key_with(l, key_file, &id->key) :
			  read_pem("private key", key_file, NULL, &id->key);
	if (ret)
		goto fail;
	if (X509_check_private_key(id->cert, id->key) != 1) {
		pr_err("private key %s does not match certificate %s",
		       key_file, cert_file);
		ret = -EKEYREJECTED;
		goto fail;
	}
	ERR_clear_error();
	*out = id;
	return 0;
fail:
	ERR_clear_error();
	xtel_dtls_identity_free(id);
	return ret;
}

void xtel_dtls_identity_free(struct xtel_dtls_identity *id)
{
	if (id == NULL)
		return;
	X509_free(id->cert);
	EVP_PKEY_free(id->key);
	sk_X509_pop_free(id->chain, X509_free);
	free(id);
}

/* Load the CA bundle peers' certificates must chain to. */
int dtls_ctx_load_ca(SSL_CTX *ctx, const char *ca_file)
{
	FILE *f = NULL;
	int ret;

	/* Probe readability first so a missing file gets its own errno. */
	ret = open_pem("CA", ca_file, &f);
	if (ret)
		return ret;
	fclose(f);
	ERR_clear_error();
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		pr_err("CA %s: no usable certificate (%s)", ca_file,
		       dtls_openssl_reason());
		ERR_clear_error();
		return -ENOMSG;
	}
	return 0;
}

int dtls_ctx_use_identity(SSL_CTX *ctx, const struct xtel_dtls_identity *id)
{
	if (SSL_CTX_use_certificate(ctx, id->cert) != 1 ||
	    SSL_CTX_set1_chain(ctx, id->chain) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, id->key) != 1) {
		pr_err("certificate rejected (%s)", dtls_openssl_reason());
		ERR_clear_error();
		return -EBADMSG;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		pr_err("private key does not match certificate");
		ERR_clear_error();
		return -EKEYREJECTED;
	}
	return 0;
}

int dtls_ctx_use_files(SSL_CTX *ctx, const char *cert_file,
		       const char *key_file)
{
	struct xtel_dtls_identity *id;
	int ret;

	ret = xtel_dtls_identity_load(&id, cert_file, key_file);
	if (ret)
		return ret;
	ret = dtls_ctx_use_identity(ctx, id);
	xtel_dtls_identity_free(id);
	return ret;
}

/*
 * The client id is the decimal number in the certificate's only CN,
 * "client-<id>", 1..2^32-1, no sign, no leading zero, nothing after it.
 * The CN is read as text through ASN1_STRING_to_UTF8, whatever its ASN.1
 * string type: the raw bytes of a BMPString or UniversalString that happen
 * to spell "client-1" are other characters and do not match.
 */
int dtls_parse_client_cn(X509 *cert, uint32_t *id)
{
	X509_NAME *name = X509_get_subject_name(cert);
	static const char prefix[] = "client-";
	const ASN1_STRING *str;
	unsigned char *d = NULL;
	uint64_t v = 0;
	int idx, len, i, ret = -EINVAL;

	idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
		return -EINVAL;
	str = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	len = ASN1_STRING_to_UTF8(&d, str);
	if (len < 0) {
		ERR_clear_error();
		return -EINVAL;
	}
	if (len <= (int)sizeof(prefix) - 1 || len > (int)sizeof(prefix) - 1 + 10 ||
	    memcmp(d, prefix, sizeof(prefix) - 1) != 0)
		goto out;
	i = sizeof(prefix) - 1;
	if (d[i] == '0')
		goto out;
	for (; i < len; i++) {
		if (d[i] < '0' || d[i] > '9')
			goto out;
		v = v * 10 + (uint64_t)(d[i] - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		goto out;
	*id = (uint32_t)v;
	ret = 0;
out:
	OPENSSL_free(d);
	return ret;
}
