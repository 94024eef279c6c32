// SPDX-License-Identifier: MIT
/*
 * DTLS credential checks at start-up (see certcheck.h). Only OpenSSL's PEM
 * readers are used, so the messages do not depend on the DTLS module.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "collector/certcheck.h"
#include "collector/cli.h"

static FILE *open_file(const char *flag, const char *path)
{
	FILE *f = fopen(path, "r");

	if (!f)
		pr_err("--%s %s: %s", flag, path,
			errno == ENOENT ? "file not found" :
			errno == EACCES ? "not readable (permission denied)" :
			strerror(errno));
	return f;
}

static X509 *read_cert(const char *flag, const char *path)
{
	FILE *f = open_file(flag, path);
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		pr_err("--%s %s: not a PEM certificate",
			flag, path);
	ERR_clear_error();
	return x;
}

int xtel_certcheck(const char *cert, const char *key, const char *ca)
{
	X509 *crt = NULL, *cacrt = NULL;
	EVP_PKEY *pk = NULL;
	FILE *f;
	int rc = XTEL_EXIT_CERT;

	crt = read_cert("cert", cert);
	if (!crt)
		goto out;
	f = open_file("key", key);
	if (!f)
		goto out;
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!pk) {
		pr_err("--key %s: not a PEM private key "
			"(or it is encrypted)", key);
		goto out;
	}
	cacrt = read_cert("ca", ca);
	if (!cacrt)
		goto out;
	if (X509_check_private_key(crt, pk) != 1) {
		ERR_clear_error();
		pr_err("--key %s does not match the "
			"certificate --cert %s", key, cert);
		rc = XTEL_EXIT_KEY_MISMATCH;
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(crt)) < 0)
		pr_warn("warning: --cert %s has expired; "
			"clients will refuse it", cert);
	rc = 0;
out:
	X509_free(cacrt);
	EVP_PKEY_free(pk);
	X509_free(crt);
	return rc;
}
