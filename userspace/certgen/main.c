// SPDX-License-Identifier: MIT
/*
 * xtel-certgen: the client certificates of certs/gen.sh for many clients in
 * one process (issue 16: 100,000 DTLS clients). gen.sh made one openssl
 * process per client (10,000 in ~30 s, 100,000 in ~5 min); this makes the
 * same files with OpenSSL's API on a few threads: for each id 1..N it keeps
 * OUTDIR/client-<id>.crt and .key when the certificate chains to the CA
 * for client use, its subject is exactly CN=client-<id> and the key is the
 * certificate's, and otherwise writes a new pair: a fresh P-256 key of its
 * own per client (nothing shared), PKCS#8 PEM with mode 0600, and a
 * certificate with gen.sh's v3_client profile (critical CA:FALSE, critical
 * keyUsage digitalSignature, extendedKeyUsage clientAuth, subject and
 * authority key ids), a random positive serial, valid from now for --days,
 * signed with SHA-256 by the CA key. A new pair is written under the staging
 * directory (--stage, on OUTDIR's file system) and renamed into OUTDIR, key
 * first, so an interrupted run never leaves a half-written file under a
 * final name. Progress goes to stderr every --progress clients. Run from
 * gen.sh when XTEL_CERTGEN names this binary; the CA and server
 * certificates stay gen.sh's.
 *
 * usage: xtel-certgen --ca-cert FILE --ca-key FILE --dir OUTDIR
 *                     --stage DIR --clients N [--fresh] [--days D]
 *                     [--jobs J] [--progress K]
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/options.h"

enum cg_exit { CG_EXIT_OK = 0, CG_EXIT_FAIL = 1, CG_EXIT_USAGE = 2 };

enum { MAX_JOBS = 64, PATH_LEN = 4096, SERIAL_BYTES = 16 };

struct cg_config {
	const char *ca_cert, *ca_key, *dir, *stage;
	uint32_t clients;
	uint32_t days;
	uint32_t jobs;
	uint32_t progress;
	bool fresh;
};

/* What the threads share: read-only CA material and the work counters. */
struct cg_run {
	const struct cg_config *cfg;
	X509 *ca;
	EVP_PKEY *ca_key;
	X509_STORE *store;
	atomic_uint next;		/* the next id to look at, from 1 */
	atomic_uint done, made;
	atomic_int failed;		/* the first failure's -errno */
};

/*
 * The v3_client section of gen.sh's openssl.cnf, in its order (openssl
 * req writes the extensions as the section lists them).
 */
static const struct {
	int nid;
	const char *value;
} client_ext[] = {
	{ NID_basic_constraints, "critical,CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_ext_key_usage, "clientAuth" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid" },
};

static void ossl_err(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "no detail";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	pr_err("%s: %s", what, buf);
	ERR_clear_error();
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

/*
 * One thread's PEM private-key decoder, made once: OpenSSL 3.0 builds a
 * decoder chain per PEM_read_PrivateKey (4.4M of the 6.7M instructions a
 * pair's check took), and one made up front decodes every key file.
 */
struct key_reader {
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *out;			/* where dctx puts a decoded key */
};

/* keytype: "EC" for the clients' keys, NULL for any (the CA's). */
static int key_reader_init(struct key_reader *kr, const char *keytype)
{
	kr->out = NULL;
	kr->dctx = OSSL_DECODER_CTX_new_for_pkey(&kr->out, "PEM", NULL, keytype,
						 OSSL_KEYMGMT_SELECT_KEYPAIR,
						 NULL, NULL);
	return kr->dctx ? 0 : -ENOMEM;
}

/* The key in path, or NULL; the caller frees it. */
static EVP_PKEY *key_reader_read(struct key_reader *kr, const char *path)
{
	unsigned char buf[4096];
	const unsigned char *p = buf;
	size_t len;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (len == 0 || len == sizeof(buf))
		return NULL;
	kr->out = NULL;
	if (OSSL_DECODER_from_data(kr->dctx, &p, &len) != 1) {
		EVP_PKEY_free(kr->out);
		kr->out = NULL;
	}
	return kr->out;
}

/* Whether the pair in OUTDIR for id may stay (see the top of the file). */
static bool pair_good(struct cg_run *r, struct key_reader *kr, uint32_t id)
{
	char crt[PATH_LEN], key[PATH_LEN], cn[32], want[32];
	X509_STORE_CTX *xs = NULL;
	EVP_PKEY *k = NULL;
	X509 *x;
	bool ok = false;

	snprintf(crt, sizeof(crt), "%s/client-%u.crt", r->cfg->dir, id);
	snprintf(key, sizeof(key), "%s/client-%u.key", r->cfg->dir, id);
	x = read_cert(crt);
	if (!x)
		goto out;
	k = key_reader_read(kr, key);
	if (!k || EVP_PKEY_eq(X509_get0_pubkey(x), k) != 1)
		goto out;
	snprintf(want, sizeof(want), "client-%u", id);
	if (X509_NAME_entry_count(X509_get_subject_name(x)) != 1 ||
	    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
				      cn, sizeof(cn)) < 0 || strcmp(cn, want))
		goto out;
	xs = X509_STORE_CTX_new();
	if (!xs || !X509_STORE_CTX_init(xs, r->store, x, NULL))
		goto out;
	X509_STORE_CTX_set_purpose(xs, X509_PURPOSE_SSL_CLIENT);
	ok = X509_verify_cert(xs) == 1;
out:
	X509_STORE_CTX_free(xs);
	EVP_PKEY_free(k);
	X509_free(x);
	ERR_clear_error();
	return ok;
}

static int random_serial(X509 *x)
{
	unsigned char b[SERIAL_BYTES];
	ASN1_INTEGER *ai;
	BIGNUM *bn;
	int ret = -EIO;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	b[0] = (b[0] & 0x7f) | 0x40;	/* positive, and always 16 bytes */
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	if (ai && X509_set_serialNumber(x, ai) == 1)
		ret = 0;
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return ret;
}

static X509 *make_cert(struct cg_run *r, uint32_t id, EVP_PKEY *k)
{
	char cn[32];
	X509V3_CTX v3;
	X509 *x = X509_new();

	snprintf(cn, sizeof(cn), "client-%u", id);
	if (!x || X509_set_version(x, X509_VERSION_3) != 1 || random_serial(x) ||
	    X509_set_issuer_name(x, X509_get_subject_name(r->ca)) != 1 ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				       (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)r->cfg->days, 0, NULL) ||
	    X509_set_pubkey(x, k) != 1)
		goto fail;
	X509V3_set_ctx(&v3, r->ca, x, NULL, NULL, 0);
	for (size_t i = 0; i < sizeof(client_ext) / sizeof(client_ext[0]); i++) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, client_ext[i].nid,
							client_ext[i].value);

		if (!e || X509_add_ext(x, e, -1) != 1) {
			X509_EXTENSION_free(e);
			goto fail;
		}
		X509_EXTENSION_free(e);
	}
	if (X509_sign(x, r->ca_key, EVP_sha256()) <= 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* PEM into path, created with mode (no one else may read a key). */
static int write_pem(const char *path, mode_t mode, X509 *x, EVP_PKEY *k)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f;
	int ok;

	if (fd < 0)
		return -errno;
	/* The mode itself, not what the umask leaves of it (certificates). */
	if (fchmod(fd, mode)) {
		close(fd);
		return -errno;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -errno;
	}
	ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 || ok != 1)
		return -EIO;
	return 0;
}

static int make_pair(struct cg_run *r, EVP_PKEY_CTX *gen, uint32_t id)
{
	char path[2][2][PATH_LEN];	/* [key, crt][staged, final] */
	const char *ext[2] = { "key", "crt" };
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	int ret = -EIO;

	for (int i = 0; i < 2; i++) {
		snprintf(path[i][0], PATH_LEN, "%s/client-%u.%s", r->cfg->stage, id, ext[i]);
		snprintf(path[i][1], PATH_LEN, "%s/client-%u.%s", r->cfg->dir, id, ext[i]);
	}
	if (EVP_PKEY_generate(gen, &k) != 1) {
		ossl_err("generating a P-256 key");
		goto out;
	}
	x = make_cert(r, id, k);
	if (!x) {
		ossl_err("making a client certificate");
		goto out;
	}
	ret = write_pem(path[0][0], 0600, NULL, k);
	if (!ret)
		ret = write_pem(path[1][0], 0644, x, NULL);
	if (ret) {
		pr_err("%s: cannot write it: %s", r->cfg->stage, strerror(-ret));
		goto out;
	}
	for (int i = 0; i < 2 && !ret; i++)
		if (rename(path[i][0], path[i][1])) {
			ret = -errno;
			pr_err("%s: cannot rename it into place: %s", path[i][1],
			       strerror(errno));
		}
out:
	X509_free(x);
	EVP_PKEY_free(k);
	return ret;
}

static void *worker(void *arg)
{
	struct cg_run *r = arg;
	EVP_PKEY_CTX *gen = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	struct key_reader kr;

	if (key_reader_init(&kr, "EC")) {
		ossl_err("a PEM key decoder");
		atomic_store(&r->failed, -ENOMEM);
		EVP_PKEY_CTX_free(gen);
		return NULL;
	}
	if (!gen || EVP_PKEY_keygen_init(gen) != 1 ||
	    EVP_PKEY_CTX_set_group_name(gen, "P-256") != 1) {
		ossl_err("P-256 key generation");
		atomic_store(&r->failed, -EIO);
		goto out;
	}
	for (;;) {
		unsigned int id = atomic_fetch_add(&r->next, 1), done;
		int ret;

		if (id == 0 || id > r->cfg->clients || atomic_load(&r->failed))
			break;
		if (r->cfg->fresh || !pair_good(r, &kr, id)) {
			ret = make_pair(r, gen, id);
			if (ret) {
				atomic_store(&r->failed, ret);
				break;
			}
			atomic_fetch_add(&r->made, 1);
		}
		done = atomic_fetch_add(&r->done, 1) + 1;
		if (r->cfg->progress && done % r->cfg->progress == 0)
			pr_info("%u of %u clients checked, %u made", done,
				r->cfg->clients, atomic_load(&r->made));
	}
out:
	OSSL_DECODER_CTX_free(kr.dctx);
	EVP_PKEY_CTX_free(gen);
	return NULL;
}

static int load_ca(struct cg_run *r)
{
	struct key_reader kr;

	r->ca = read_cert(r->cfg->ca_cert);
	if (!r->ca) {
		ossl_err(r->cfg->ca_cert);
		return -EINVAL;
	}
	if (key_reader_init(&kr, NULL)) {
		ossl_err("a PEM key decoder");
		return -ENOMEM;
	}
	r->ca_key = key_reader_read(&kr, r->cfg->ca_key);
	OSSL_DECODER_CTX_free(kr.dctx);
	if (!r->ca_key) {
		ossl_err(r->cfg->ca_key);
		return -EINVAL;
	}
	if (X509_check_private_key(r->ca, r->ca_key) != 1) {
		pr_err("--ca-key %s is not the key of --ca-cert %s", r->cfg->ca_key,
		       r->cfg->ca_cert);
		return -EINVAL;
	}
	/* Its extensions cached now, before the threads read them. */
	X509_check_purpose(r->ca, -1, 0);
	r->store = X509_STORE_new();
	if (!r->store || X509_STORE_add_cert(r->store, r->ca) != 1) {
		ossl_err("the CA's trust store");
		return -ENOMEM;
	}
	return 0;
}

enum cg_opt {
	CG_OPT_CA_CERT, CG_OPT_CA_KEY, CG_OPT_DIR, CG_OPT_STAGE, CG_OPT_CLIENTS,
	CG_OPT_FRESH, CG_OPT_DAYS, CG_OPT_JOBS, CG_OPT_PROGRESS, CG_OPT_HELP,
	CG_N_OPTS,
};

static void usage(FILE *out);

#define CFG struct cg_config

static const struct xtel_opt cg_opt[CG_N_OPTS] = {
	[CG_OPT_CA_CERT] = { .name = "ca-cert", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, ca_cert), .lo = 1, .valid = "a file path",
		.help = "the CA certificate (PEM; required)" },
	[CG_OPT_CA_KEY] = { .name = "ca-key", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, ca_key), .lo = 1, .valid = "a file path",
		.help = "its private key (PEM; required)" },
	[CG_OPT_DIR] = { .name = "dir", .metavar = "OUTDIR",
		XTEL_OPT_STRING_AT(CFG, dir), .lo = 1, .valid = "a directory path",
		.help = "where client-<id>.crt/.key are (required)" },
	[CG_OPT_STAGE] = { .name = "stage", .metavar = "DIR",
		XTEL_OPT_STRING_AT(CFG, stage), .lo = 1, .valid = "a directory path",
		.help = "new files are written here, then renamed\n"
			"into OUTDIR: the same file system (required)" },
	[CG_OPT_CLIENTS] = { .name = "clients", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, clients, 1, 1000000),
		.valid = "a client count 1..1000000",
		.help = "client ids 1..N (required)" },
	[CG_OPT_FRESH] = { .name = "fresh", XTEL_OPT_FLAG_AT(CFG, fresh),
		.help = "make every pair anew (a new CA): no checks" },
	[CG_OPT_DAYS] = { .name = "days", .metavar = "D",
		XTEL_OPT_UINT_AT(CFG, days, 1, 36500), .valid = "days 1..36500",
		.help = "validity from now (825)" },
	[CG_OPT_JOBS] = { .name = "jobs", .metavar = "J",
		XTEL_OPT_UINT_AT(CFG, jobs, 1, MAX_JOBS), .valid = "threads 1..64",
		.help = "threads (default: the CPUs)" },
	[CG_OPT_PROGRESS] = { .name = "progress", .metavar = "K",
		XTEL_OPT_UINT_AT(CFG, progress, 0, 1000000),
		.valid = "clients 0..1000000 (0: none)",
		.help = "a progress line every K clients (10000)" },
	[CG_OPT_HELP] = { .name = "help", .short_name = 'h',
		.type = XTEL_OPT_EXIT, .print = usage, .help = "this text" },
};

static const struct xtel_opts cg_opts = {
	.opt = cg_opt,
	.n = CG_N_OPTS,
	.usage =
"usage: xtel-certgen --ca-cert FILE --ca-key FILE --dir OUTDIR --stage DIR\n"
"                    --clients N [options]\n"
"\n"
"Makes the client certificates of certs/gen.sh (CN client-<id>, one P-256\n"
"key each) for ids 1..N in one process, keeping the pairs that still verify.\n",
	.epilogue =
"\n"
"Prints 'made K' on stdout: the pairs written.\n"
"exit codes:\n"
"  0 every client has a good pair\n"
"  1 the CA cannot be loaded, or a pair cannot be made or written\n"
"  2 invalid flag or flag value\n",
	.prog = "xtel-certgen",
};

static void usage(FILE *out)
{
	xtel_opts_help(&cg_opts, out);
}

int main(int argc, char **argv)
{
	struct cg_config cfg = { .days = 825, .progress = 10000 };
	struct cg_run r = { .cfg = &cfg };
	pthread_t th[MAX_JOBS];
	unsigned int seen[CG_N_OPTS];
	unsigned int started = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int ret, code = CG_EXIT_FAIL;

	xtel_log_setup("xtel-certgen", XTEL_LOG_INFO);
	ret = xtel_opts_parse(&cg_opts, argc, argv, &cfg, seen);
	if (ret == XTEL_OPTS_EXIT)
		return CG_EXIT_OK;
	if (ret)
		return CG_EXIT_USAGE;
	if (!cfg.ca_cert || !cfg.ca_key || !cfg.dir || !cfg.stage || !cfg.clients) {
		pr_err("--ca-cert, --ca-key, --dir, --stage and --clients are required (try --help)");
		return CG_EXIT_USAGE;
	}
	if (!cfg.jobs)
		cfg.jobs = ncpu > 0 ? (ncpu < MAX_JOBS ? (uint32_t)ncpu : MAX_JOBS) : 1;
	umask(077);
	atomic_init(&r.next, 1);
	if (load_ca(&r))
		goto out;
	for (; started < cfg.jobs; started++)
		if (pthread_create(&th[started], NULL, worker, &r)) {
			pr_err("cannot start a thread: %s", strerror(errno));
			atomic_store(&r.failed, -EAGAIN);
			break;
		}
	for (unsigned int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (!atomic_load(&r.failed) && atomic_load(&r.done) == cfg.clients) {
		printf("made %u\n", atomic_load(&r.made));
		code = CG_EXIT_OK;
	}
out:
	X509_STORE_free(r.store);
	EVP_PKEY_free(r.ca_key);
	X509_free(r.ca);
	return code;
}
