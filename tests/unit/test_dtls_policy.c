// SPDX-License-Identifier: MIT
/*
 * Unit tests of the admission policy (userspace/dtls/policy.c and its
 * checks in verify.c): every loading error with its message (a new
 * server certificate whose key does not match it too), clients
 * refused as revoked (CRL), denied (deny list) or not issued by a pinned
 * CA, and a new policy swapped into a running server: the sessions it
 * revokes or denies end, the others and every counter carry on. Along an
 * intermediate CA's chain (test_chain_*): a device revoked by the
 * intermediate's CRL, the intermediate revoked by the root's, a missing
 * CRL of either, reloads that revoke (sessions, cache hits, tickets),
 * reloads that leave a CA of the chain without a CRL (the same), a
 * cross-certificate of the root (no leaf-only CRL check), pins of the
 * root, an intermediate the CA file gave dropped, chains of two and three
 * intermediates.
 *
 * usage: test_dtls_policy SOURCE_ROOT
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dtls/server_internal.h"
#include "dtls_harness.h"
#include "dtls_raw.h"

/*
 * cert() returns one of a few rotating buffers; a policy configuration
 * keeps its paths for longer, so they are copied into a pool of their own.
 */
static const char *keep(const char *path)
{
	static char pool[32][512];
	static unsigned int next;
	char *p = pool[next++ % 32];

	snprintf(p, sizeof(pool[0]), "%s", path);
	return p;
}

static X509 *read_crt(const char *rel)
{
	FILE *f = fopen(cert(rel), "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *read_key(const char *rel)
{
	FILE *f = fopen(cert(rel), "r");
	EVP_PKEY *k;

	assert_non_null(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

/*
 * certdir/extra/<name>: a CRL of the CA ca (ca.crt/.key, or bad/rogue-ca)
 * revoking the certificates in revoked (NULL-terminated, certdir-relative),
 * valid from now + from_s to now + to_s.
 */
static const char *make_crl(const char *name, const char *ca,
			    const char *const *revoked, long from_s, long to_s)
{
	char crt[64], key[64];
	X509_CRL *crl = X509_CRL_new();
	X509 *cax;
	EVP_PKEY *cak;
	ASN1_TIME *t;
	FILE *f;
	const char *path;

	snprintf(crt, sizeof(crt), "%s.crt", ca);
	snprintf(key, sizeof(key), "%s.key", ca);
	cax = read_crt(crt);
	cak = read_key(key);
	assert_non_null(crl);
	assert_int_equal(X509_CRL_set_version(crl, 1), 1);
	assert_int_equal(X509_CRL_set_issuer_name(crl,
		X509_get_subject_name(cax)), 1);
	t = X509_gmtime_adj(NULL, from_s);
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
	ASN1_TIME_free(t);
	t = X509_gmtime_adj(NULL, to_s);
	assert_int_equal(X509_CRL_set1_nextUpdate(crl, t), 1);
	ASN1_TIME_free(t);
	for (; revoked != NULL && *revoked != NULL; revoked++) {
		X509 *x = read_crt(*revoked);
		X509_REVOKED *r = X509_REVOKED_new();

		t = X509_gmtime_adj(NULL, -60);
		assert_int_equal(X509_REVOKED_set_serialNumber(r,
			X509_get_serialNumber(x)), 1);
		assert_int_equal(X509_REVOKED_set_revocationDate(r, t), 1);
		assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
		ASN1_TIME_free(t);
		X509_free(x);
	}
	assert_true(X509_CRL_sort(crl) == 1);
	assert_true(X509_CRL_sign(crl, cak, EVP_sha256()) > 0);
	path = keep(cert(name));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509_CRL(f, crl), 1);
	fclose(f);
	X509_CRL_free(crl);
	X509_free(cax);
	EVP_PKEY_free(cak);
	return path;
}

/* certdir/extra/<name> holding text. */
static const char *write_file(const char *name, const char *text)
{
	const char *path = keep(cert(name));
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* certdir/extra/<name>: the concatenation of two certdir files. */
static const char *cat_files(const char *name, const char *a, const char *b)
{
	char cmd[1024];
	const char *path = keep(cert(name));

	snprintf(cmd, sizeof(cmd), "cat '%s' '%s' > '%s'", cert(a), cert(b), path);
	assert_int_equal(system(cmd), 0);
	return path;
}

/* The SHA-256 fingerprint of a certdir certificate, as openssl prints it. */
static void fingerprint(const char *rel, char *out, size_t len)
{
	unsigned char md[32];
	unsigned int n;
	X509 *x = read_crt(rel);
	size_t o = 0;

	assert_int_equal(X509_digest(x, EVP_sha256(), md, &n), 1);
	for (unsigned int i = 0; i < n && o + 3 < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%02X", i ? ":" : "", md[i]);
	X509_free(x);
}

static struct xtel_dtls_policy_cfg pcfg;
static struct xtel_dtls_policy *policy;

/*
 * Entries of the verification cache of the servers net_with makes: on in
 * every test of this file, so each policy change and each refusal also
 * holds for certificates whose chain check was cached. The cache's own
 * tests set another size.
 */
static unsigned int vc_cap = 64;

/* base_cfg with the policy of pcfg (loaded into `policy`). */
static void with_policy(struct xtel_dtls_server_cfg *cfg)
{
	cfg->policy = policy;
	cfg->verify_cache = vc_cap;
}

/* A net whose server has policy c (and whatever else tweak sets). */
static struct net *net_tweaked(void **state, const struct xtel_dtls_policy_cfg *c,
			       void (*tweak)(struct xtel_dtls_server_cfg *))
{
	struct net *n;

	pcfg = *c;
	if (pcfg.ca_file == NULL)
		pcfg.ca_file = keep(cert("ca.crt"));
	assert_int_equal(xtel_dtls_policy_load(&policy, &pcfg), 0);
	n = net_create(state, tweak);
	/* The server holds its own reference. */
	xtel_dtls_policy_put(policy);
	policy = NULL;
	return n;
}

static struct net *net_with(void **state, const struct xtel_dtls_policy_cfg *c)
{
	return net_tweaked(state, c, with_policy);
}

/* Load must fail with ret and log msg. */
static void load_fails(const struct xtel_dtls_policy_cfg *c, int ret,
		       const char *msg)
{
	struct xtel_dtls_policy *p = NULL;

	logs.last[0] = '\0';
	if (xtel_dtls_policy_load(&p, c) != ret)
		fail_msg("want %d: '%s'", ret, logs.last);
	assert_null(p);
	if (strstr(logs.last, msg) == NULL)
		fail_msg("message '%s', want '%s'", logs.last, msg);
}

static void test_load_errors(void **state)
{
	static const char *const rev2[] = { "client-2.crt", NULL };
	struct xtel_dtls_policy_cfg c = { .ca_file = keep(cert("ca.crt")) };
	struct xtel_dtls_policy *p;
	char pin[128], msg[512];
	const char *pins[2];

	(void)state;
	c.ca_file = keep(cert("none.crt"));
	load_fails(&c, -ENOENT, "cannot read CA");
	c.ca_file = keep(cert("ca.key"));
	load_fails(&c, -ENOMSG, "no usable certificate");
	c.ca_file = keep(cert("ca.crt"));

	c.crl_file = keep(cert("none.pem"));
	load_fails(&c, -ENOENT, "cannot read CRL");
	c.crl_file = keep(cert("ca.crt"));
	load_fails(&c, -EBADMSG, "no PEM CRL in it");
	c.crl_file = make_crl("extra/rogue.crl", "bad/rogue-ca", NULL, -60, 3600);
	snprintf(msg, sizeof(msg), "issued by /CN=XTel Rogue CA, which is "
		 "neither a CA of %s nor an intermediate CA whose certificate "
		 "is in %s", cert("ca.crt"), cert("extra/rogue.crl"));
	load_fails(&c, -EBADMSG, msg);
	c.crl_file = make_crl("extra/old.crl", "ca", rev2, -7200, -3600);
	load_fails(&c, -EBADMSG, "expired at ");
	load_fails(&c, -EBADMSG, "(certs/gen.sh crl DIR)");
	c.crl_file = make_crl("extra/future.crl", "ca", rev2, 3600, 7200);
	load_fails(&c, -EBADMSG, "is not valid before ");
	c.crl_file = NULL;

	c.deny_file = keep(cert("none.txt"));
	load_fails(&c, -ENOENT, "cannot read deny list");
	c.deny_file = write_file("extra/deny-bad.txt", "# ids\n1\n\n  x7 # no\n");
	snprintf(msg, sizeof(msg), "deny list %s:4: 'x7' is not a client id "
		 "(1..4294967295)", cert("extra/deny-bad.txt"));
	load_fails(&c, -EINVAL, msg);
	c.deny_file = write_file("extra/deny-big.txt", "4294967296\n");
	load_fails(&c, -EINVAL, ":1: '4294967296' is not a client id");
	c.deny_file = write_file("extra/deny-zero.txt", "0\n");
	load_fails(&c, -EINVAL, ":1: '0' is not a client id");
	c.deny_file = NULL;

	pins[0] = "AB:CD";
	c.pin_ca = pins;
	c.n_pin_ca = 1;
	load_fails(&c, -EINVAL, "pinned CA 'AB:CD' is not a SHA-256 fingerprint");
	fingerprint("bad/rogue-ca.crt", pin, sizeof(pin));
	pins[0] = pin;
	snprintf(msg, sizeof(msg), "pinned CA %s matches no certificate of %s",
		 pin, cert("ca.crt"));
	load_fails(&c, -EINVAL, msg);

	c.pin_ca = NULL;
	c.n_pin_ca = 0;

	/* A new server identity: both files, matching each other. */
	c.cert_file = keep(cert("none.crt"));
	c.key_file = keep(cert("server.key"));
	load_fails(&c, -ENOENT, "cannot read certificate");
	c.cert_file = keep(cert("server.crt"));
	c.key_file = keep(cert("client-1.key"));
	snprintf(msg, sizeof(msg), "private key %s does not match certificate %s",
		 cert("client-1.key"), cert("server.crt"));
	load_fails(&c, -EKEYREJECTED, msg);
	c.key_file = keep(cert("server.key"));
	assert_int_equal(xtel_dtls_policy_load(&p, &c), 0);
	xtel_dtls_policy_put(p);
	c.cert_file = c.key_file = NULL;
	pins[0] = pin;
	c.pin_ca = pins;
	c.n_pin_ca = 1;

	/* What a good one holds. */
	fingerprint("ca.crt", pin, sizeof(pin));
	c.crl_file = make_crl("extra/rev2.crl", "ca", rev2, -60, 3600);
	c.deny_file = write_file("extra/deny.txt",
				 "# refused\n3\n\t7 \n3\r\n4294967295\n\n");
	assert_int_equal(xtel_dtls_policy_load(&p, &c), 0);
	assert_int_equal(xtel_dtls_policy_revoked(p), 1);
	assert_int_equal(xtel_dtls_policy_denied(p), 3);
	assert_ptr_equal(xtel_dtls_policy_get(p), p);
	xtel_dtls_policy_put(p);
	xtel_dtls_policy_put(p);

	/* A CRL that revokes nothing (no revokedCertificates at all). */
	c.crl_file = make_crl("extra/empty.crl", "ca", NULL, -60, 3600);
	c.deny_file = write_file("extra/deny-none.txt", "# nobody\n");
	assert_int_equal(xtel_dtls_policy_load(&p, &c), 0);
	assert_int_equal(xtel_dtls_policy_revoked(p), 0);
	assert_int_equal(xtel_dtls_policy_denied(p), 0);
	xtel_dtls_policy_put(p);
}

static void test_fingerprint_syntax(void **state)
{
	unsigned char md[32];
	char hex[65];

	(void)state;
	for (int i = 0; i < 64; i++)
		hex[i] = "0123456789abcdef"[i % 16];
	hex[64] = '\0';
	assert_int_equal(xtel_dtls_parse_fingerprint(hex, md), 0);
	assert_int_equal(md[0], 0x01);
	assert_int_equal(md[31], 0xef);
	hex[63] = '\0';
	assert_int_equal(xtel_dtls_parse_fingerprint(hex, md), -EINVAL);
	assert_int_equal(xtel_dtls_parse_fingerprint(
		"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
		"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99", md), 0);
	assert_int_equal(md[5], 0xff);
	assert_int_equal(xtel_dtls_parse_fingerprint(
		"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
		"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:9G", md), -EINVAL);
	assert_int_equal(xtel_dtls_parse_fingerprint("", md), -EINVAL);
	memset(hex, 'a', 64);
	hex[64] = '\0';
	assert_int_equal(xtel_dtls_parse_fingerprint(hex, md), 0);
	{
		char longer[70];

		snprintf(longer, sizeof(longer), "%saa", hex);
		assert_int_equal(xtel_dtls_parse_fingerprint(longer, md), -EINVAL);
	}
}

/* Client slot i of n is refused for reason, its client told by alert. */
static void assert_refused(struct net *n, int i, const char *alert)
{
	assert_int_equal(xtel_dtls_client_state(n->cl[i].c),
			 XTEL_DTLS_CLIENT_FAILED);
	assert_int_equal(xtel_dtls_server_peer(n->srv, &n->cl[i].addr.sa,
					       n->cl[i].addr_len, NULL), -ENOENT);
	if (strstr(xtel_dtls_client_error(n->cl[i].c), alert) == NULL)
		fail_msg("client %d: '%s', want '%s'", i,
			 xtel_dtls_client_error(n->cl[i].c), alert);
}

/* A CRL revoking client-2: it is refused, client-1 is not. */
static void test_revoked(void **state)
{
	static const char *const rev2[] = { "client-2.crt", NULL };
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct net *n;

	set_mode(state);
	c.crl_file = make_crl("extra/rev2.crl", "ca", rev2, -60, 3600);
	n = net_with(state, &c);
	add_client(n, 1);
	add_client(n, 2);
	pump(n);
	assert_established(n, 0, 1);
	assert_refused(n, 1, "sslv3 alert certificate revoked");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_REVOKED, 1);
	assert_int_equal(st.handshakes_ok, 1);
	assert_non_null(strstr(logs.last, "(certificate revoked)"));
	net_free(n);
}

/* The deny list refuses client 3 whatever its certificate. */
static void test_denied(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct net *n;

	set_mode(state);
	c.deny_file = write_file("extra/deny3.txt", "3\n");
	n = net_with(state, &c);
	add_client(n, 1);
	add_client(n, 3);
	pump(n);
	assert_established(n, 0, 1);
	assert_refused(n, 1, "sslv3 alert bad certificate");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_DENIED, 1);
	assert_non_null(strstr(logs.last, "(certificate rejected)"));
	net_free(n);
}

/* Client 1's certificate from the rogue CA (certs/gen.sh's bad/). */
static void add_rogue_client(struct net *n)
{
	add_client_ctx(n, n->cctx, "bad/client-1-rogue.crt",
		       "bad/client-1-rogue.key", "198.18.0.1");
}

/*
 * With both CAs in the CA file, either issues clients; pinning the real
 * one refuses the rogue CA's client as unknown_ca.
 */
static void test_pinned_ca(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	char pin[128];
	const char *pins[1] = { pin };
	struct net *n;

	(void)state;
	c.ca_file = cat_files("extra/both-ca.crt", "ca.crt", "bad/rogue-ca.crt");
	n = net_with(state, &c);
	add_client(n, 1);
	add_rogue_client(n);
	pump(n);
	assert_established(n, 0, 1);
	assert_established(n, 1, 1);
	net_free(n);

	fingerprint("ca.crt", pin, sizeof(pin));
	c.pin_ca = pins;
	c.n_pin_ca = 1;
	n = net_with(state, &c);
	add_client(n, 1);
	add_rogue_client(n);
	pump(n);
	assert_established(n, 0, 1);
	assert_refused(n, 1, "sslv3 alert bad certificate");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_UNKNOWN_CA, 1);
	assert_non_null(strstr(logs.last, "(certificate not trusted)"));
	net_free(n);
}

/*
 * A CRL for one CA of two: the other CA's clients are refused (no CRL
 * for them), with a warning when the policy is loaded.
 */
static void test_crl_missing_for_a_ca(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct net *n;

	(void)state;
	c.ca_file = cat_files("extra/both-ca.crt", "ca.crt", "bad/rogue-ca.crt");
	c.crl_file = make_crl("extra/empty.crl", "ca", NULL, -60, 3600);
	logs.last[0] = '\0';
	n = net_with(state, &c);
	add_rogue_client(n);
	add_client(n, 2);
	pump(n);
	assert_refused(n, 0, "alert");
	assert_established(n, 1, 2);
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_OTHER, 1);
	assert_non_null(strstr(logs.last, "(unable to get certificate CRL)"));
	net_free(n);
}

static int logs_with(const char *needle, const char *from)
{
	return strstr(from, needle) != NULL;
}

/*
 * A new policy on a running server: client 2's certificate revoked and
 * client 3 denied end their sessions (close_notify, sessions_revoked);
 * client 1 and every counter carry on; 2 and 3 cannot come back until a
 * policy lets them.
 */
/* Load c and swap it in as n's policy. */
static void swap_policy(struct net *n, const struct xtel_dtls_policy_cfg *c)
{
	struct xtel_dtls_policy *p;

	assert_int_equal(xtel_dtls_policy_load(&p, c), 0);
	xtel_dtls_server_set_policy(n->srv, p);
	xtel_dtls_policy_put(p);
	pump(n);
}

/* Swap in a policy (c) that revokes client-2 and denies client 3. */
static void revoke2_deny3(struct net *n, struct xtel_dtls_policy_cfg *c)
{
	static const char *const rev2[] = { "client-2.crt", NULL };

	c->ca_file = keep(cert("ca.crt"));
	c->crl_file = make_crl("extra/rev2.crl", "ca", rev2, -60, 3600);
	c->deny_file = write_file("extra/deny3.txt", "3\n");
	swap_policy(n, c);
}

static void test_set_policy(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_policy *p;
	struct net *n;

	set_mode(state);
	n = net_with(state, &c);
	for (int id = 1; id <= 3; id++)
		add_client(n, id);
	pump(n);
	for (int i = 0; i < 3; i++) {
		assert_established(n, i, (uint32_t)i + 1);
		send_record(n, i, (uint32_t)i + 1, 1);
	}
	pump(n);
	assert_int_equal(n->delivered, 3);

	revoke2_deny3(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_revoked, 2);
	assert_int_equal(st.policy_updates, 1);
	assert_int_equal(st.close_notify_tx, 2);
	assert_int_equal(st.handshakes_ok, 3);
	assert_int_equal(st.records_rx, 3);
	assert_int_equal(st.handshake_failed, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
	assert_int_equal(xtel_dtls_client_state(n->cl[1].c),
			 XTEL_DTLS_CLIENT_CLOSED);
	assert_int_equal(xtel_dtls_client_state(n->cl[2].c),
			 XTEL_DTLS_CLIENT_CLOSED);
	assert_true(logs_with("(client 3) closed: client id denied by the new "
			      "policy", logs.last));
	/* Client 1 carries on. */
	send_record(n, 0, 1, 2);
	pump(n);
	assert_int_equal(n->delivered, 4);
	assert_established(n, 0, 1);

	/* 2 and 3 try again: refused for their reasons. */
	add_client(n, 2);
	add_client(n, 3);
	pump(n);
	assert_refused(n, 3, "sslv3 alert certificate revoked");
	assert_refused(n, 4, "sslv3 alert bad certificate");
	st = stats(n);
	assert_int_equal(st.failed_revoked, 1);
	assert_int_equal(st.failed_denied, 1);
	assert_int_equal(st.handshake_failed, 2);

	/* A policy without them lets them in again. */
	c.crl_file = NULL;
	c.deny_file = NULL;
	assert_int_equal(xtel_dtls_policy_load(&p, &c), 0);
	xtel_dtls_server_set_policy(n->srv, p);
	xtel_dtls_policy_put(p);
	add_client(n, 2);
	add_client(n, 3);
	pump(n);
	assert_established(n, 5, 2);
	assert_established(n, 6, 3);
	st = stats(n);
	assert_int_equal(st.policy_updates, 2);
	assert_int_equal(st.sessions_revoked, 2);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 3);
	net_free(n);
}

/*
 * A reload that drops a CA from the CA file ends the established sessions
 * of the clients it issued (close_notify, sessions_untrusted: not
 * revoked), the other CA's clients carry on, and the dropped CA's client
 * cannot come back (unknown_ca). Both CAs again with the other one
 * pinned does the same to the first CA's clients.
 */
static void test_set_policy_drops_ca(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	char pin[128];
	const char *pins[1] = { pin };
	struct net *n;

	set_mode(state);
	c.ca_file = cat_files("extra/both-ca.crt", "ca.crt", "bad/rogue-ca.crt");
	n = net_with(state, &c);
	add_client(n, 1);
	add_client(n, 2);
	add_rogue_client(n);
	pump(n);
	assert_established(n, 0, 1);
	assert_established(n, 1, 2);
	assert_established(n, 2, 1);

	c.ca_file = keep(cert("ca.crt"));
	logs.last[0] = '\0';
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_untrusted, 1);
	assert_int_equal(st.sessions_revoked, 0);
	assert_int_equal(st.close_notify_tx, 1);
	assert_int_equal(st.policy_updates, 1);
	assert_int_equal(st.handshake_failed, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 2);
	assert_int_equal(xtel_dtls_client_state(n->cl[2].c),
			 XTEL_DTLS_CLIENT_CLOSED);
	assert_true(logs_with("(client 1) closed: its CA no longer trusted by "
			      "the new policy", logs.last));
	/* The real CA's clients carry on; the rogue CA's is refused now. */
	send_record(n, 0, 1, 1);
	send_record(n, 1, 2, 1);
	pump(n);
	assert_int_equal(n->delivered, 2);
	add_rogue_client(n);
	pump(n);
	assert_refused(n, 3, "alert");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_UNKNOWN_CA, 1);
	assert_int_equal(st.sessions_untrusted, 1);

	/* Both CAs, only the rogue one pinned: clients 1 and 2 go. */
	fingerprint("bad/rogue-ca.crt", pin, sizeof(pin));
	c.ca_file = cat_files("extra/both-ca.crt", "ca.crt", "bad/rogue-ca.crt");
	c.pin_ca = pins;
	c.n_pin_ca = 1;
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_untrusted, 3);
	assert_int_equal(st.sessions_revoked, 0);
	assert_int_equal(st.close_notify_tx, 3);
	assert_int_equal(st.policy_updates, 2);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);
	net_free(n);
}

static int add_resuming_as(struct net *n, const char *crt, const char *key,
			   const struct xtel_dtls_ticket *t);

/* Extension nid = value on x, issued by iss (X509V3 config syntax). */
static void add_ext(X509 *x, X509 *iss, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, iss, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A v3 certificate of key for the hour around now, unsigned. */
static X509 *new_cert(EVP_PKEY *key, const BIGNUM *serial)
{
	X509 *x = X509_new();

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_non_null(BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	return x;
}

static void write_pem(const char *rel, X509 *x, EVP_PKEY *k)
{
	FILE *f = fopen(cert(rel), "w");

	assert_non_null(f);
	assert_int_equal(x ? PEM_write_X509(f, x) :
			 PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
}

/* A BIGNUM of the serial in hex. */
static BIGNUM *serial_of(const char *hex)
{
	BIGNUM *bn = NULL;

	assert_true(BN_hex2bn(&bn, hex) > 0);
	return bn;
}

/*
 * certdir/<rel>.crt and .key: a client certificate for client-<id> (key
 * usage and purpose as gen.sh's) with serial hex, issued by ca (key cak).
 */
static void issue_client(const char *rel, int id, X509 *ca, EVP_PKEY *cak,
			 const char *hex)
{
	EVP_PKEY *lk = EVP_EC_gen("P-256");
	BIGNUM *serial = serial_of(hex);
	X509_NAME *cn = X509_NAME_new();
	char name[64], path[128];
	X509 *leaf;

	assert_non_null(lk);
	leaf = new_cert(lk, serial);
	snprintf(name, sizeof(name), "client-%d", id);
	assert_int_equal(X509_NAME_add_entry_by_txt(cn, "CN", MBSTRING_ASC,
		(const unsigned char *)name, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(leaf, cn), 1);
	assert_int_equal(X509_set_issuer_name(leaf, X509_get_subject_name(ca)), 1);
	add_ext(leaf, ca, NID_key_usage, "critical,digitalSignature");
	add_ext(leaf, ca, NID_ext_key_usage, "clientAuth");
	add_ext(leaf, ca, NID_subject_key_identifier, "hash");
	add_ext(leaf, ca, NID_authority_key_identifier, "keyid:always");
	assert_true(X509_sign(leaf, cak, EVP_sha256()) > 0);
	snprintf(path, sizeof(path), "%s.crt", rel);
	write_pem(path, leaf, NULL);
	snprintf(path, sizeof(path), "%s.key", rel);
	write_pem(path, NULL, lk);
	X509_NAME_free(cn);
	X509_free(leaf);
	BN_free(serial);
	EVP_PKEY_free(lk);
}

/*
 * A CA certificate of key cak named name, serial hex, valid from a
 * minute ago for life_s seconds.
 */
static X509 *self_signed_ca(EVP_PKEY *cak, const char *hex,
			    const X509_NAME *name, long life_s)
{
	BIGNUM *serial = serial_of(hex);
	X509 *ca = new_cert(cak, serial);

	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(ca), life_s));
	assert_int_equal(X509_set_subject_name(ca, name), 1);
	assert_int_equal(X509_set_issuer_name(ca, name), 1);
	add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(ca, ca, NID_subject_key_identifier, "hash");
	assert_true(X509_sign(ca, cak, EVP_sha256()) > 0);
	BN_free(serial);
	return ca;
}

/*
 * The CA's twin: a CA of another key under the very name of ca.crt (a
 * CA re-keyed under its old name), extra/twin-ca.crt, and the client
 * certificate extra/twin-client-<id>.crt/.key it issued.
 */
static void make_twin_ca(int id)
{
	EVP_PKEY *cak = EVP_EC_gen("P-256");
	X509 *real = read_crt("ca.crt"), *ca;
	char rel[64];

	assert_non_null(cak);
	ca = self_signed_ca(cak, "7717", X509_get_subject_name(real), 3600);
	write_pem("extra/twin-ca.crt", ca, NULL);
	snprintf(rel, sizeof(rel), "extra/twin-client-%d", id);
	issue_client(rel, id, ca, cak, "7718");
	X509_free(ca);
	X509_free(real);
	EVP_PKEY_free(cak);
}

/*
 * A reload that drops the twin of a CA (same name, another key) ends the
 * sessions of the twin's clients, the resumed ones too: a resumed session
 * has no certificate to read the authority key id from, so the ticket
 * must carry it; without it the sweep knew the session only by its
 * issuer's name, which the CA that stays also has, and kept it. The real
 * CA's client carries on.
 */
static void test_set_policy_drops_twin_ca(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_ticket *t;
	struct net *n;
	int i;

	set_mode(state);
	make_twin_ca(7);
	c.ca_file = cat_files("extra/ca-and-twin.crt", "ca.crt", "extra/twin-ca.crt");
	n = net_with(state, &c);
	add_client(n, 1);
	add_client_ctx(n, n->cctx, "extra/twin-client-7.crt",
		       "extra/twin-client-7.key", "198.18.0.1");
	pump(n);
	assert_established(n, 0, 1);
	assert_established(n, 1, 7);
	t = xtel_dtls_client_ticket(n->cl[1].c);
	assert_non_null(t);
	i = add_resuming_as(n, "extra/twin-client-7.crt",
			    "extra/twin-client-7.key", t);
	pump(n);
	assert_established(n, i, 7);
	assert_true(xtel_dtls_client_resumed(n->cl[i].c));
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 3);

	c.ca_file = keep(cert("ca.crt"));
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_untrusted, 2);
	assert_int_equal(st.sessions_revoked, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
	assert_int_equal(xtel_dtls_client_state(n->cl[i].c),
			 XTEL_DTLS_CLIENT_CLOSED);
	send_record(n, 0, 1, 1);
	pump(n);
	assert_int_equal(n->delivered, 1);
	xtel_dtls_ticket_free(t);
	net_free(n);
}

/*
 * A client certificate whose serial number is over 20 bytes (RFC 5280
 * 4.1.2.2: a CA must not issue one) is refused (failed_other):
 * the server could not note it for a later policy (the session holds 20
 * bytes of serial), so a reload that revokes it, denies its client id or
 * drops its CA could not find the session and kept it. A 20-byte serial
 * is admitted, and such a session does end when its id is denied.
 */
static void test_long_serial(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	X509 *ca = read_crt("ca.crt");
	EVP_PKEY *cak = read_key("ca.key");
	struct net *n;

	set_mode(state);
	/* 21 and 20 bytes, the first bit clear (no sign byte added). */
	issue_client("extra/serial21-client-8", 8, ca, cak,
		     "4a0102030405060708090a0b0c0d0e0f1011121314");
	issue_client("extra/serial20-client-9", 9, ca, cak,
		     "4a0102030405060708090a0b0c0d0e0f10111213");
	n = net_with(state, &c);
	add_client_ctx(n, n->cctx, "extra/serial21-client-8.crt",
		       "extra/serial21-client-8.key", "198.18.0.1");
	add_client_ctx(n, n->cctx, "extra/serial20-client-9.crt",
		       "extra/serial20-client-9.key", "198.18.0.1");
	pump(n);
	assert_refused(n, 0, "alert");
	assert_established(n, 1, 9);
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_OTHER, 1);

	c.ca_file = keep(cert("ca.crt"));
	c.deny_file = write_file("extra/deny9.txt", "9\n");
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_revoked, 1);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);
	X509_free(ca);
	EVP_PKEY_free(cak);
	net_free(n);
}

/*
 * OPENSSL_sk_new_null, failing once when fail_stack_new is set: how the
 * server's list of CA names can fail to be built. Every other call goes
 * to libcrypto's.
 */
static bool fail_stack_new;

OPENSSL_STACK *OPENSSL_sk_new_null(void)
{
	static OPENSSL_STACK *(*real)(void);

	if (fail_stack_new) {
		fail_stack_new = false;
		return NULL;
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "OPENSSL_sk_new_null");
	return real();
}

/*
 * A new policy whose CA names cannot be built (out of memory) is still
 * the one clients are verified against: the CRL it brings refuses client
 * 2, and the failure is logged.
 */
static void test_set_policy_names_fail(void **state)
{
	static const char *const rev2[] = { "client-2.crt", NULL };
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_policy *p;
	struct net *n;

	(void)state;
	n = net_with(state, &c);
	c.ca_file = keep(cert("ca.crt"));
	c.crl_file = make_crl("extra/rev2.crl", "ca", rev2, -60, 3600);
	assert_int_equal(xtel_dtls_policy_load(&p, &c), 0);
	fail_stack_new = true;
	xtel_dtls_server_set_policy(n->srv, p);
	assert_false(fail_stack_new);	/* it was the names' list */
	xtel_dtls_policy_put(p);
	assert_true(logs_with("out of memory for the CA names", logs.last));
	add_client(n, 2);
	pump(n);
	assert_refused(n, 0, "sslv3 alert certificate revoked");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_REVOKED, 1);
	assert_int_equal(st.policy_updates, 1);
	net_free(n);
}

/* Datagrams of the client's Finished (an epoch-1 record) are lost. */
static bool has_epoch1(const unsigned char *d, size_t len)
{
	for (size_t off = 0; off + XTEL_DTLS_HDR_LEN <= len;
	     off += XTEL_DTLS_HDR_LEN + ((size_t)d[off + 11] << 8 | d[off + 12]))
		if (d[off + 3] != 0 || d[off + 4] != 0)
			return true;
	return false;
}

/*
 * A handshake whose certificate passed under the old policy and which
 * waits for the client's Finished ends when the new one revokes it.
 */
static void test_set_policy_half_open(void **state)
{
	static const char *const rev1[] = { "client-1.crt", NULL };
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_policy *p;
	struct raw_client *r;
	unsigned char buf[XTEL_DGRAM_SLOT_SIZE];
	struct net *n;
	ssize_t len;

	(void)state;
	n = net_with(state, &c);
	r = raw_client_new(n, "client-1.crt", "client-1.key", 0, 0);
	/* Small datagrams: the Finished travels apart from the Certificate. */
	SSL_set_mtu(r->ssl, 256);
	for (int round = 0; round < 4; round++) {
		while ((len = xtel_dgram_bio_pop(r->bio, buf, sizeof(buf))) > 0)
			if (!has_epoch1(buf, (size_t)len))
				assert_int_equal(xtel_dtls_server_input(n->srv,
					&n->cl[0].addr.sa, n->cl[0].addr_len,
					buf, (size_t)len, fake_now), 0);
		for (int k = 0; k < n->nq; k++) {
			xtel_dgram_bio_set_input(r->bio, n->q[k].data, n->q[k].len);
			SSL_do_handshake(r->ssl);
			xtel_dgram_bio_clear_input(r->bio);
		}
		n->nq = 0;
	}
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 1);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);

	c.ca_file = keep(cert("ca.crt"));
	c.crl_file = make_crl("extra/rev1.crl", "ca", rev1, -60, 3600);
	assert_int_equal(xtel_dtls_policy_load(&p, &c), 0);
	xtel_dtls_server_set_policy(n->srv, p);
	xtel_dtls_policy_put(p);
	st = stats(n);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	assert_failures(&st, XTEL_DTLS_FAILED_REVOKED, 1);
	assert_int_equal(st.sessions_revoked, 0);
	assert_true(logs_with("(client 1) ended: certificate revoked by the new "
			      "policy", logs.last));
	raw_client_free(r);
	net_free(n);
}

/* A new client slot (a new address) with certdir's crt/key, offering t. */
static int add_resuming_as(struct net *n, const char *crt, const char *key,
			   const struct xtel_dtls_ticket *t)
{
	int i = n->ncl++;
	struct tclient *tc = &n->cl[i];

	assert_true(i < MAX_CLIENTS);
	client_addr(tc, i);
	assert_int_equal(xtel_dtls_identity_load(&tc->id, cert(crt), cert(key)), 0);
	assert_int_equal(xtel_dtls_client_new(&tc->c, n->cctx, tc->id,
					      "198.18.0.1", 0), 0);
	assert_int_equal(xtel_dtls_client_resume(tc->c, t), 0);
	assert_int_equal(xtel_dtls_client_start(tc->c, fake_now), 0);
	return i;
}

/* A new client slot (a new address) for client-<id>, offering ticket t. */
static int add_resuming(struct net *n, int id, const struct xtel_dtls_ticket *t)
{
	char crt[64], key[64];

	snprintf(crt, sizeof(crt), "client-%d.crt", id);
	snprintf(key, sizeof(key), "client-%d.key", id);
	return add_resuming_as(n, crt, key, t);
}

/*
 * client-<id> comes back from a new address with ticket t and is admitted,
 * by a resumed handshake or (resumed false) a full one. Its index.
 */
static int come_back(struct net *n, int id, const struct xtel_dtls_ticket *t,
		     bool resumed)
{
	int i = add_resuming(n, id, t);

	pump(n);
	assert_established(n, i, (uint32_t)id);
	assert_int_equal(xtel_dtls_client_resumed(n->cl[i].c), resumed);
	return i;
}

/*
 * Resumption (resume.c): three devices come back with their tickets and
 * resume, records flow; then a policy revokes client-2 and denies client
 * 3: their tickets resume nothing, the full handshakes that follow are
 * refused under failed_revoked and failed_denied; client 1's still works.
 */
static void test_resume(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_ticket *tk[3];
	struct xtel_dtls_server_stats st;
	struct net *n;

	set_mode(state);
	n = net_with(state, &c);
	for (int id = 1; id <= 3; id++)
		add_client(n, id);
	pump(n);
	for (int i = 0; i < 3; i++) {
		assert_established(n, i, (uint32_t)i + 1);
		assert_false(xtel_dtls_client_resumed(n->cl[i].c));
		tk[i] = xtel_dtls_client_ticket(n->cl[i].c);
		assert_non_null(tk[i]);
	}
	for (int i = 0; i < 3; i++)
		add_resuming(n, i + 1, tk[i]);
	pump(n);
	for (int i = 3; i < 6; i++) {
		assert_established(n, i, (uint32_t)i - 2);
		assert_true(xtel_dtls_client_resumed(n->cl[i].c));
		send_record(n, i, (uint32_t)i - 2, 1);
	}
	pump(n);
	assert_int_equal(n->delivered, 3);
	st = stats(n);
	assert_int_equal(st.handshakes_ok, 6);
	assert_int_equal(st.handshakes_resumed, 3);
	assert_int_equal(st.ticket_refused, 0);
	assert_int_equal(st.ticket_unknown, 0);
	assert_int_equal(st.handshake_failed, 0);
	assert_int_equal(st.record_layer_fallback, 0);

	revoke2_deny3(n, &c);
	/* Both sessions of client 2 and of client 3 (the resumed ones too). */
	assert_int_equal(stats(n).sessions_revoked, 4);

	for (int i = 0; i < 3; i++)
		add_resuming(n, i + 1, tk[i]);
	pump(n);
	assert_established(n, 6, 1);
	assert_true(xtel_dtls_client_resumed(n->cl[6].c));
	assert_refused(n, 7, "sslv3 alert certificate revoked");
	assert_refused(n, 8, "alert");
	st = stats(n);
	assert_int_equal(st.handshakes_ok, 7);
	assert_int_equal(st.handshakes_resumed, 4);
	assert_int_equal(st.ticket_refused, 2);
	assert_int_equal(st.handshake_failed, 2);
	assert_int_equal(st.failed_revoked, 1);
	assert_int_equal(st.failed_denied, 1);
	send_record(n, 6, 1, 2);
	pump(n);
	assert_int_equal(n->delivered, 4);
	for (int i = 0; i < 3; i++)
		xtel_dtls_ticket_free(tk[i]);
	net_free(n);
}

/*
 * A policy that trusts otherwise (here: pins the CA) resumes no ticket of
 * the old trust: a full handshake, verified under the new policy.
 */
static void test_resume_new_trust(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_ticket *t;
	const char *pins[1];
	char pin[100];
	struct net *n;

	set_mode(state);
	n = net_with(state, &c);
	add_client(n, 1);
	pump(n);
	assert_established(n, 0, 1);
	t = xtel_dtls_client_ticket(n->cl[0].c);
	assert_non_null(t);
	fingerprint("ca.crt", pin, sizeof(pin));
	pins[0] = pin;
	c.ca_file = keep(cert("ca.crt"));
	c.pin_ca = pins;
	c.n_pin_ca = 1;
	swap_policy(n, &c);
	add_resuming(n, 1, t);
	pump(n);
	assert_established(n, 1, 1);
	assert_false(xtel_dtls_client_resumed(n->cl[1].c));
	st = stats(n);
	assert_int_equal(st.ticket_refused, 1);
	assert_int_equal(st.handshakes_resumed, 0);
	assert_int_equal(st.handshakes_ok, 2);
	assert_int_equal(st.handshake_failed, 0);
	xtel_dtls_ticket_free(t);
	net_free(n);
}

/*
 * A device restarting behind a NAT that kept its port: the resumed
 * handshake on the established session's address replaces that session,
 * as a full restart does; another client's ticket on that address is not
 * resumed (the session's id is checked) and its full handshake is refused
 * as restart_other_id.
 */
static void test_resume_restart_same_port(void **state)
{
	struct xtel_dtls_ticket *t1, *t2;
	struct xtel_dtls_server_stats st;
	struct tclient *tc;
	struct net *n;

	set_mode(state);
	n = net_create(state, NULL);
	add_client(n, 1);
	add_client(n, 2);
	pump(n);
	t1 = xtel_dtls_client_ticket(n->cl[0].c);
	t2 = xtel_dtls_client_ticket(n->cl[1].c);
	assert_non_null(t1);
	assert_non_null(t2);
	tc = &n->cl[0];
	xtel_dtls_client_free(tc->c);
	assert_int_equal(xtel_dtls_client_new(&tc->c, n->cctx, tc->id,
					      "198.18.0.1", 0), 0);
	assert_int_equal(xtel_dtls_client_resume(tc->c, t1), 0);
	assert_int_equal(xtel_dtls_client_start(tc->c, fake_now), 0);
	pump(n);
	assert_established(n, 0, 1);
	assert_true(xtel_dtls_client_resumed(tc->c));
	st = stats(n);
	assert_int_equal(st.handshakes_resumed, 1);
	assert_int_equal(st.sessions_replaced, 1);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 2);
	send_record(n, 0, 1, 1);
	pump(n);
	assert_int_equal(n->delivered, 1);

	/* Client 2's identity and ticket from client 1's address. */
	xtel_dtls_client_free(tc->c);
	assert_int_equal(xtel_dtls_client_new(&tc->c, n->cctx, n->cl[1].id,
					      "198.18.0.1", 0), 0);
	assert_int_equal(xtel_dtls_client_resume(tc->c, t2), 0);
	assert_int_equal(xtel_dtls_client_start(tc->c, fake_now), 0);
	pump(n);
	st = stats(n);
	assert_int_equal(st.ticket_refused, 1);
	assert_int_equal(st.restart_other_id, 1);
	assert_int_equal(st.handshakes_resumed, 1);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 2);
	/* Client 1's session on that address is kept. */
	assert_int_equal(xtel_dtls_server_peer(n->srv, &tc->addr.sa,
					       tc->addr_len, NULL), 0);
	xtel_dtls_ticket_free(t1);
	xtel_dtls_ticket_free(t2);
	net_free(n);
}

static uint32_t disabled_id;

static bool admit_enabled(void *arg, uint32_t id)
{
	(void)arg;
	return id != disabled_id;
}

static void with_admit(struct xtel_dtls_server_cfg *cfg)
{
	cfg->admit = admit_enabled;
}

/*
 * A device disabled after it got its ticket (the admit callback) does not
 * come back through it; a ticket of a rotated-out key gets a full
 * handshake, which succeeds.
 */
static void test_resume_disabled_and_rotated(void **state)
{
	unsigned char key[XTEL_DTLS_TICKET_KEY_LEN];
	struct xtel_dtls_ticket *t1, *t2;
	struct xtel_dtls_server_stats st;
	struct net *n;

	set_mode(state);
	disabled_id = 0;
	n = net_create(state, with_admit);
	add_client(n, 1);
	add_client(n, 2);
	pump(n);
	assert_established(n, 0, 1);
	assert_established(n, 1, 2);
	t1 = xtel_dtls_client_ticket(n->cl[0].c);
	t2 = xtel_dtls_client_ticket(n->cl[1].c);
	assert_non_null(t1);
	assert_non_null(t2);

	disabled_id = 2;
	add_resuming(n, 2, t2);
	pump(n);
	assert_refused(n, 2, "alert");
	st = stats(n);
	assert_int_equal(st.ticket_refused, 1);
	assert_failures(&st, XTEL_DTLS_FAILED_DEVICE, 1);
	assert_int_equal(st.handshakes_resumed, 0);

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 7 + 1);
	assert_int_equal(xtel_dtls_server_set_ticket_key(n->srv, key), 0);
	add_resuming(n, 1, t1);
	pump(n);
	assert_established(n, 3, 1);
	assert_false(xtel_dtls_client_resumed(n->cl[3].c));
	st = stats(n);
	assert_int_equal(st.ticket_unknown, 1);
	assert_int_equal(st.ticket_refused, 1);
	assert_int_equal(st.handshakes_ok, 3);
	assert_int_equal(st.handshakes_resumed, 0);
	assert_int_equal(st.handshake_failed, 1);
	send_record(n, 3, 1, 1);
	pump(n);
	assert_int_equal(n->delivered, 1);
	/* The new key's tickets resume. */
	xtel_dtls_ticket_free(t1);
	t1 = xtel_dtls_client_ticket(n->cl[3].c);
	assert_non_null(t1);
	add_resuming(n, 1, t1);
	pump(n);
	assert_established(n, 4, 1);
	assert_true(xtel_dtls_client_resumed(n->cl[4].c));
	assert_int_equal(stats(n).handshakes_resumed, 1);
	xtel_dtls_ticket_free(t1);
	xtel_dtls_ticket_free(t2);
	net_free(n);
}

/* client.c's ticket: the session the client keeps, its ticket inside. */
struct ticket_view {
	SSL_SESSION *sess;
};

/*
 * A ticket changed on its way (one bit of its ciphertext) is not
 * authentic: it resumes nothing (ticket_unknown) and the full handshake
 * that follows admits the device as any other.
 */
static void test_resume_tampered_ticket(void **state)
{
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_ticket *t;
	const unsigned char *tick;
	size_t len = 0;
	struct net *n;

	set_mode(state);
	n = net_create(state, NULL);
	add_client(n, 1);
	pump(n);
	assert_established(n, 0, 1);
	t = xtel_dtls_client_ticket(n->cl[0].c);
	assert_non_null(t);
	SSL_SESSION_get0_ticket(((struct ticket_view *)t)->sess, &tick, &len);
	assert_true(len > 64);
	((unsigned char *)(uintptr_t)tick)[40] ^= 0x01;
	come_back(n, 1, t, false);
	st = stats(n);
	assert_int_equal(st.ticket_unknown, 1);
	assert_int_equal(st.ticket_refused, 0);
	assert_int_equal(st.handshakes_resumed, 0);
	assert_int_equal(st.handshakes_ok, 2);
	send_record(n, 1, 1, 1);
	pump(n);
	assert_int_equal(n->delivered, 1);
	xtel_dtls_ticket_free(t);
	net_free(n);
}

/*
 * SSL_set_connect_state, interposed: with no_ticket_ext set, the client
 * being made offers its session by session id only, without the session
 * ticket extension (SSL_OP_NO_TICKET), as a client may.
 */
static bool no_ticket_ext;

void SSL_set_connect_state(SSL *ssl)
{
	static void (*real)(SSL *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "SSL_set_connect_state");
	if (no_ticket_ext)
		SSL_set_options(ssl, SSL_OP_NO_TICKET);
	real(ssl);
}

/*
 * A session resumed from its ticket must not land in OpenSSL's internal
 * session cache, whose look-up by session id needs no ticket and so runs
 * none of the re-checks (dtls_resume_hello opens tickets only): client 1
 * resumes, is denied by a new policy (its sessions end with close_notify,
 * which keeps a cached session in the cache), and comes back offering the
 * same session by id alone; it must get a full handshake, refused as
 * denied, not a resumption.
 */
static void test_resume_not_cached(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_ticket *t;
	struct net *n;
	int i;

	set_mode(state);
	n = net_with(state, &c);
	add_client(n, 1);
	pump(n);
	t = xtel_dtls_client_ticket(n->cl[0].c);
	assert_non_null(t);
	come_back(n, 1, t, true);
	assert_int_equal(SSL_CTX_sess_number(n->srv->ctx), 0);

	c.ca_file = keep(cert("ca.crt"));
	c.deny_file = write_file("extra/deny1.txt", "1\n");
	swap_policy(n, &c);
	assert_int_equal(stats(n).sessions_revoked, 2);
	no_ticket_ext = true;
	i = add_resuming(n, 1, t);
	no_ticket_ext = false;
	pump(n);
	assert_false(xtel_dtls_client_resumed(n->cl[i].c));
	assert_refused(n, i, "alert");
	st = stats(n);
	assert_int_equal(st.handshakes_resumed, 1);
	assert_failures(&st, XTEL_DTLS_FAILED_DENIED, 1);
	xtel_dtls_ticket_free(t);
	net_free(n);
}

/*
 * time(), interposed: time_shift seconds later than the real clock, for
 * everything that reads it (the resumption's checks, OpenSSL's
 * certificate validity).
 */
static time_t time_shift;

time_t time(time_t *t)
{
	static time_t (*real)(time_t *);
	time_t now;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "time");
	now = real(NULL) + time_shift;
	if (t != NULL)
		*t = now;
	return now;
}

/*
 * A ticket whose certificate is still valid but whose CA expired since
 * resumes nothing: a full handshake then refuses the chain as expired,
 * and so must the resumption (the ticket seals the leaf's validity only;
 * the CA's is the policy's). The CA here lives 10 minutes, the client's
 * certificate an hour, the ticket two hours; the client comes back 20
 * minutes later.
 */
/*
 * The device of certdir's rel.crt/.key comes back with ticket t 20
 * minutes later (time() interposed), past what its CA lived: the ticket
 * resumes nothing and the full handshake is refused as expired.
 */
static void expired_later(struct net *n, const char *rel,
			  const struct xtel_dtls_ticket *t)
{
	struct xtel_dtls_server_stats st;
	char crt[64], key[64];
	int i;

	snprintf(crt, sizeof(crt), "%s.crt", rel);
	snprintf(key, sizeof(key), "%s.key", rel);
	time_shift = 1200;
	i = add_resuming_as(n, crt, key, t);
	pump(n);
	time_shift = 0;
	assert_false(xtel_dtls_client_resumed(n->cl[i].c));
	assert_refused(n, i, "alert");
	st = stats(n);
	assert_int_equal(st.ticket_refused, 1);
	assert_int_equal(st.handshakes_resumed, 0);
	assert_failures(&st, XTEL_DTLS_FAILED_EXPIRED, 1);
}

static void test_resume_ca_expired(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	EVP_PKEY *cak = EVP_EC_gen("P-256");
	X509_NAME *name = X509_NAME_new();
	struct xtel_dtls_ticket *t;
	X509 *ca;
	struct net *n;

	set_mode(state);
	assert_non_null(cak);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		(const unsigned char *)"XTel Short CA", -1, -1, 0), 1);
	ca = self_signed_ca(cak, "7719", name, 600);
	write_pem("extra/short-ca.crt", ca, NULL);
	issue_client("extra/short-client-6", 6, ca, cak, "771a");
	c.ca_file = cat_files("extra/ca-and-short.crt", "ca.crt",
			      "extra/short-ca.crt");
	n = net_with(state, &c);
	add_client_ctx(n, n->cctx, "extra/short-client-6.crt",
		       "extra/short-client-6.key", "198.18.0.1");
	pump(n);
	assert_established(n, 0, 6);
	t = xtel_dtls_client_ticket(n->cl[0].c);
	assert_non_null(t);

	expired_later(n, "extra/short-client-6", t);
	xtel_dtls_ticket_free(t);
	X509_free(ca);
	X509_NAME_free(name);
	EVP_PKEY_free(cak);
	net_free(n);
}

static const unsigned char *rot_key, *rot_prev;

static void with_rotation(struct xtel_dtls_server_cfg *c)
{
	c->ticket_key = rot_key;
	c->ticket_key_prev = rot_prev;
}

/* Two distinct ticket keys for the rotation tests. */
static void rotation_keys(unsigned char *k1, unsigned char *k2)
{
	for (size_t i = 0; i < XTEL_DTLS_TICKET_KEY_LEN; i++) {
		k1[i] = (unsigned char)(i * 3 + 1);
		k2[i] = (unsigned char)(i * 5 + 2);
	}
}

/* A server sealing with key, opening prev's tickets too (NULL: none). */
static struct net *net_keyed(void **state, const unsigned char *key,
			     const unsigned char *prev)
{
	rot_key = key;
	rot_prev = prev;
	return net_create(state, with_rotation);
}

/*
 * A ticket key rotation (ticket_key.c): a server whose previous key is
 * the old one resumes the old key's ticket (OpenSSL opens it) and hands
 * the device a ticket of the new key in that handshake; once the old key
 * is dropped, the new ticket resumes and the old one does not.
 */
static void test_resume_rotation(void **state)
{
	unsigned char k1[XTEL_DTLS_TICKET_KEY_LEN], k2[sizeof(k1)];
	struct xtel_dtls_ticket *t1, *t2;
	struct xtel_dtls_server_stats st;
	struct net *n;

	set_mode(state);
	rotation_keys(k1, k2);
	n = net_keyed(state, k1, NULL);
	add_client(n, 1);
	pump(n);
	assert_established(n, 0, 1);
	t1 = xtel_dtls_client_ticket(n->cl[0].c);
	assert_non_null(t1);
	net_free(n);

	rot_key = k2;
	rot_prev = k1;
	n = net_create(state, with_rotation);
	come_back(n, 1, t1, true);
	st = stats(n);
	assert_int_equal(st.handshakes_resumed, 1);
	assert_int_equal(st.ticket_unknown, 0);
	assert_int_equal(st.ticket_refused, 0);
	t2 = xtel_dtls_client_ticket(n->cl[0].c);
	assert_non_null(t2);
	send_record(n, 0, 1, 1);
	pump(n);
	assert_int_equal(n->delivered, 1);
	net_free(n);

	rot_prev = NULL;
	n = net_create(state, with_rotation);
	come_back(n, 1, t2, true);
	come_back(n, 1, t1, false);
	st = stats(n);
	assert_int_equal(st.handshakes_resumed, 1);
	assert_int_equal(st.ticket_unknown, 1);
	net_free(n);
	xtel_dtls_ticket_free(t1);
	xtel_dtls_ticket_free(t2);
}

/*
 * The session sealed in a ticket of key k (name, HMAC key, AES key), as
 * OpenSSL seals it: name, IV, AES-256-CBC, HMAC-SHA256 over all before.
 */
static SSL_SESSION *unseal(const struct xtel_dtls_ticket *t,
			   const unsigned char *k)
{
	unsigned char mac[32], plain[4096];
	const unsigned char *tick, *p;
	unsigned int maclen = 0;
	size_t len = 0;
	int m = 0, f = 0;
	EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
	SSL_SESSION *ss;

	SSL_SESSION_get0_ticket(((const struct ticket_view *)t)->sess, &tick,
				&len);
	assert_true(len > 16 + 16 + 32 && len - 64 <= sizeof(plain));
	assert_memory_equal(tick, k, 16);
	assert_non_null(HMAC(EVP_sha256(), k + 16, 32, tick, len - 32, mac,
			     &maclen));
	assert_int_equal(maclen, 32);
	assert_memory_equal(mac, tick + len - 32, 32);
	assert_non_null(cc);
	assert_int_equal(EVP_DecryptInit_ex(cc, EVP_aes_256_cbc(), NULL, k + 48,
					    tick + 16), 1);
	assert_int_equal(EVP_DecryptUpdate(cc, plain, &m, tick + 32,
					   (int)(len - 64)), 1);
	assert_int_equal(EVP_DecryptFinal_ex(cc, plain + m, &f), 1);
	EVP_CIPHER_CTX_free(cc);
	p = plain;
	ss = d2i_SSL_SESSION(NULL, &p, m + f);
	assert_non_null(ss);
	assert_ptr_equal(p, plain + m + f);
	return ss;
}

/*
 * Tickets are sealed without the client certificate (ticket_lean.c): the
 * session in the ticket has no peer but the identity beside it. Opened
 * OpenSSL's way (a previous key's ticket), such a ticket is checked by
 * that identity: a device revoked since resumes nothing and its full
 * handshake is refused; one not revoked resumes and gets a new ticket,
 * also without the certificate.
 */
static void test_resume_ticket_lean(void **state)
{
	static const char *const rev1[] = { "client-1.crt", NULL };
	unsigned char k1[XTEL_DTLS_TICKET_KEY_LEN], k2[sizeof(k1)];
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_ticket *t[2], *t3;
	struct xtel_dtls_server_stats st;
	struct dtls_ticket_id id;
	void *app = NULL;
	size_t app_len = 0;
	SSL_SESSION *ss;
	struct net *n;
	int i;

	set_mode(state);
	rotation_keys(k1, k2);
	n = net_keyed(state, k1, NULL);
	add_client(n, 1);
	add_client(n, 2);
	pump(n);
	for (int k = 0; k < 2; k++) {
		assert_established(n, k, (uint32_t)k + 1);
		t[k] = xtel_dtls_client_ticket(n->cl[k].c);
		assert_non_null(t[k]);
		ss = unseal(t[k], k1);
		assert_null(SSL_SESSION_get0_peer(ss));
		SSL_SESSION_get0_ticket_appdata(ss, &app, &app_len);
		assert_int_equal(dtls_ticket_id_decode(app, app_len, &id), 0);
		assert_int_equal(id.client_id, k + 1);
		SSL_SESSION_free(ss);
	}
	net_free(n);

	n = net_keyed(state, k2, k1);
	c.ca_file = keep(cert("ca.crt"));
	c.crl_file = make_crl("extra/rev1.crl", "ca", rev1, -60, 3600);
	swap_policy(n, &c);
	i = add_resuming(n, 1, t[0]);
	pump(n);
	assert_refused(n, i, "certificate revoked");
	i = come_back(n, 2, t[1], true);
	st = stats(n);
	assert_int_equal(st.ticket_refused, 1);
	assert_int_equal(st.failed_revoked, 1);
	assert_int_equal(st.handshakes_resumed, 1);
	t3 = xtel_dtls_client_ticket(n->cl[i].c);
	assert_non_null(t3);
	ss = unseal(t3, k2);
	assert_null(SSL_SESSION_get0_peer(ss));
	SSL_SESSION_get0_ticket_appdata(ss, &app, &app_len);
	assert_int_equal(dtls_ticket_id_decode(app, app_len, &id), 0);
	assert_int_equal(id.client_id, 2);
	SSL_SESSION_free(ss);
	net_free(n);
	for (int k = 0; k < 2; k++)
		xtel_dtls_ticket_free(t[k]);
	xtel_dtls_ticket_free(t3);
}

/*
 * --ticket-key-file (ticket_key.c): the key is made 0600 when missing and
 * read back the same; a collector restarted on it (a new server) resumes
 * the tickets of the old one. A key file others may read, or of the wrong
 * size, is refused with what to do.
 */
static void test_resume_key_file(void **state)
{
	unsigned char key[2 * XTEL_DTLS_TICKET_KEY_LEN], again[sizeof(key)];
	char path[512], link_path[520];
	unsigned int nk = 0;
	struct xtel_dtls_ticket *t;
	struct stat st;
	struct net *n;
	FILE *f;

	set_mode(state);
	snprintf(path, sizeof(path), "%s/extra/ticket-%d.key", certdir,
		 cur_mode.openssl_records);
	unlink(path);
	assert_int_equal(xtel_dtls_ticket_key_file(path, key, &nk), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, XTEL_DTLS_TICKET_KEY_LEN);
	assert_int_equal(nk, 1);
	assert_int_equal(xtel_dtls_ticket_key_file(path, again, &nk), 0);
	assert_int_equal(nk, 1);
	assert_memory_equal(key, again, XTEL_DTLS_TICKET_KEY_LEN);

	n = net_create(state, NULL);
	assert_int_equal(xtel_dtls_server_set_ticket_key(n->srv, key), 0);
	add_client(n, 1);
	pump(n);
	assert_established(n, 0, 1);
	t = xtel_dtls_client_ticket(n->cl[0].c);
	assert_non_null(t);
	net_free(n);

	/* The restart: a new server, the key read from the file again. */
	assert_int_equal(xtel_dtls_ticket_key_file(path, again, &nk), 0);
	n = net_create(state, NULL);
	assert_int_equal(xtel_dtls_server_set_ticket_key(n->srv, again), 0);
	come_back(n, 1, t, true);
	assert_int_equal(stats(n).handshakes_resumed, 1);
	assert_int_equal(stats(n).ticket_unknown, 0);
	send_record(n, 0, 1, 1);
	pump(n);
	assert_int_equal(n->delivered, 1);
	net_free(n);
	xtel_dtls_ticket_free(t);

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(xtel_dtls_ticket_key_file(path, again, &nk), -EPERM);
	assert_non_null(strstr(logs.last, "has mode 0640"));
	assert_non_null(strstr(logs.last, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	f = fopen(path, "ab");
	assert_non_null(f);
	fputc('x', f);
	fclose(f);
	assert_int_equal(xtel_dtls_ticket_key_file(path, again, &nk), -EINVAL);
	assert_non_null(strstr(logs.last, "holds 81 bytes, not one key's 80 "
			    "or two keys' 160"));
	snprintf(link_path, sizeof(link_path), "%s.link", path);
	unlink(link_path);
	assert_int_equal(symlink(path, link_path), 0);
	assert_int_equal(xtel_dtls_ticket_key_file(link_path, again, &nk), -ELOOP);
	unlink(link_path);
	unlink(path);
}

/*
 * write(), interposed: with race_path set, the next key-sized write first
 * reads race_path's key file, as a second collector starting on the same
 * --ticket-key-file at that moment would (race_ret, race_key).
 */
static const char *race_path;
static int race_ret;
static unsigned int race_nk;
static unsigned char race_key[2 * XTEL_DTLS_TICKET_KEY_LEN];

ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);
	const char *p = race_path;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "write");
	if (p != NULL && len == XTEL_DTLS_TICKET_KEY_LEN) {
		race_path = NULL;
		race_ret = xtel_dtls_ticket_key_file(p, race_key, &race_nk);
	}
	return real(fd, buf, len);
}

/* Files in dir whose name starts with prefix. */
static int count_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/*
 * Two collectors making the missing key file at once: the one that comes
 * while the other writes must not find a file without its key (it refused
 * to start: "holds 0 bytes"). Both end with the same key, the file holds
 * exactly it (0600), and nothing of the making is left beside it.
 */
static void test_key_file_create_race(void **state)
{
	unsigned char key[2 * XTEL_DTLS_TICKET_KEY_LEN];
	char dir[512], path[600];
	unsigned int nk = 0;
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/extra/race", certdir);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/ticket.key", dir);
	unlink(path);
	race_ret = 1;
	race_path = path;
	assert_int_equal(xtel_dtls_ticket_key_file(path, key, &nk), 0);
	assert_null(race_path);
	if (race_ret != 0)
		fail_msg("the second collector: %d (%s)", race_ret, logs.last);
	assert_int_equal(nk, 1);
	assert_int_equal(race_nk, 1);
	assert_memory_equal(key, race_key, XTEL_DTLS_TICKET_KEY_LEN);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, XTEL_DTLS_TICKET_KEY_LEN);
	assert_int_equal(count_prefixed(dir, "ticket.key"), 1);
	unlink(path);
	rmdir(dir);
}

/*
 * A key file owned by another user is refused even at mode 0600: its
 * owner can write a key of their choice, and whoever knows the key can
 * seal a ticket for any client id (put there before the first start, in
 * a directory others may write, it would be taken). Needs root to chown.
 */
static void test_key_file_owner(void **state)
{
	unsigned char key[2 * XTEL_DTLS_TICKET_KEY_LEN];
	char path[512];
	unsigned int nk = 0;

	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(path, sizeof(path), "%s/extra/ticket-owner.key", certdir);
	unlink(path);
	assert_int_equal(xtel_dtls_ticket_key_file(path, key, &nk), 0);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(xtel_dtls_ticket_key_file(path, key, &nk), -EPERM);
	assert_int_equal(nk, 0);
	assert_non_null(strstr(logs.last, "is owned by uid 65534"));
	assert_non_null(strstr(logs.last, "chown"));
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(xtel_dtls_ticket_key_file(path, key, &nk), 0);
	assert_int_equal(nk, 1);
	unlink(path);
}

/* ---- the verification cache (vcache.c) ---- */

/* n with policy c, a cache of cap entries and the admit callback. */
static void with_policy_admit(struct xtel_dtls_server_cfg *cfg)
{
	with_policy(cfg);
	cfg->admit = admit_enabled;
}

static struct net *net_vc(void **state, const struct xtel_dtls_policy_cfg *c,
			  unsigned int cap)
{
	struct net *n;

	vc_cap = cap;
	n = net_tweaked(state, c, with_policy_admit);
	vc_cap = 64;
	disabled_id = 0;
	return n;
}

static void assert_vc(struct net *n, uint64_t hits, uint64_t misses,
		      uint64_t evictions)
{
	struct xtel_dtls_server_stats st = stats(n);

	assert_int_equal(st.verify_cache_hits, hits);
	assert_int_equal(st.verify_cache_misses, misses);
	assert_int_equal(st.verify_cache_evictions, evictions);
}

/*
 * A device's second full handshake with the same certificate takes the
 * chain check from the cache, and the session works on either record
 * layer; another certificate is a miss. What runs every time still does:
 * a disabled device (admit) is refused on a hit, as is a denied id.
 */
static void test_vcache_hit(void **state)
{
	struct xtel_dtls_server_stats st;
	struct net *n;

	set_mode(state);
	n = net_vc(state, &(struct xtel_dtls_policy_cfg){ 0 }, 8);
	add_client(n, 1);
	pump(n);
	assert_established(n, 0, 1);
	assert_vc(n, 0, 1, 0);
	add_client(n, 1);		/* the device again, a new address */
	add_client(n, 2);
	pump(n);
	assert_established(n, 1, 1);
	assert_established(n, 2, 2);
	assert_vc(n, 1, 2, 0);
	send_record(n, 1, 1, 1);
	pump(n);
	assert_int_equal(n->delivered, 1);

	disabled_id = 2;
	add_client(n, 2);
	pump(n);
	assert_refused(n, 3, "alert");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_DEVICE, 1);
	assert_vc(n, 2, 2, 0);
	disabled_id = 0;
	add_client(n, 2);
	pump(n);
	assert_established(n, 4, 2);
	assert_vc(n, 3, 2, 0);
	assert_int_equal(stats(n).handshakes_ok, 4);
	net_free(n);
}

/*
 * A CRL reload after client 2 was cached refuses it (revoked: the reload
 * voided the cache, so OpenSSL checks it again) while client 1 is checked
 * anew and let in; a reload dropping a CA refuses that CA's cached client
 * (unknown_ca); the deny list of a reload refuses a client cached under it.
 */
static void test_vcache_policy_voids(void **state)
{
	static const char *const rev2[] = { "client-2.crt", NULL };
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct net *n;

	set_mode(state);
	c.ca_file = cat_files("extra/both-ca.crt", "ca.crt", "bad/rogue-ca.crt");
	n = net_vc(state, &c, 8);
	for (int k = 0; k < 2; k++) {
		add_client(n, 1);
		add_client(n, 2);
		add_rogue_client(n);
		pump(n);
	}
	for (int i = 0; i < 6; i++)
		assert_established(n, i, i % 3 == 1 ? 2 : 1);
	assert_vc(n, 3, 3, 0);

	/* The same CAs, now with a CRL revoking client 2. */
	c.crl_file = make_crl("extra/rev2.crl", "ca", rev2, -60, 3600);
	swap_policy(n, &c);
	add_client(n, 2);
	add_client(n, 1);
	pump(n);
	assert_refused(n, 6, "sslv3 alert certificate revoked");
	assert_established(n, 7, 1);
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_REVOKED, 1);
	assert_vc(n, 3, 5, 0);
	add_client(n, 1);		/* cached again under the new policy */
	pump(n);
	assert_established(n, 8, 1);
	assert_vc(n, 4, 5, 0);

	/* The rogue CA removed: its client, cached before, is refused. */
	c.ca_file = keep(cert("ca.crt"));
	c.crl_file = NULL;
	c.deny_file = write_file("extra/deny3.txt", "3\n");
	swap_policy(n, &c);
	add_rogue_client(n);
	add_client(n, 3);
	pump(n);
	assert_refused(n, 9, "alert");
	assert_refused(n, 10, "sslv3 alert bad certificate");
	st = stats(n);
	assert_int_equal(st.failed_unknown_ca, 1);
	assert_int_equal(st.failed_denied, 1);
	assert_int_equal(st.handshake_failed, 3);
	assert_vc(n, 4, 7, 0);
	/* Client 3 passed the chain but not the deny list: not cached. */
	add_client(n, 3);
	pump(n);
	assert_refused(n, 11, "sslv3 alert bad certificate");
	assert_vc(n, 4, 8, 0);
	net_free(n);
}

/*
 * Least recently used out, every eviction counted: a cache of 2 with
 * clients 1, 2, 3 evicts 1; then 1 is a miss again (evicting 2), 3 a hit.
 */
static void test_vcache_eviction(void **state)
{
	struct net *n;

	set_mode(state);
	n = net_vc(state, &(struct xtel_dtls_policy_cfg){ 0 }, 2);
	for (int id = 1; id <= 3; id++)
		add_client(n, id);
	pump(n);
	assert_vc(n, 0, 3, 1);
	add_client(n, 1);
	pump(n);
	assert_vc(n, 0, 4, 2);
	add_client(n, 3);
	pump(n);
	assert_vc(n, 1, 4, 2);
	add_client(n, 2);		/* out since 1 came back */
	pump(n);
	assert_vc(n, 1, 5, 3);
	for (int i = 0; i < 6; i++)
		assert_int_equal(xtel_dtls_client_state(n->cl[i].c),
				 XTEL_DTLS_CLIENT_ESTABLISHED);
	assert_int_equal(stats(n).handshakes_ok, 6);
	net_free(n);
}

/* With the cache off (0) nothing is looked up or counted. */
static void test_vcache_off(void **state)
{
	struct net *n;

	(void)state;
	n = net_vc(state, &(struct xtel_dtls_policy_cfg){ 0 }, 0);
	add_client(n, 1);
	add_client(n, 1);
	pump(n);
	assert_established(n, 0, 1);
	assert_established(n, 1, 1);
	assert_vc(n, 0, 0, 0);
	net_free(n);
}

/*
 * Client certificate client-<id> of the real CA valid from now - 60 s to
 * now + life_s, written to certdir/extra/short-<id>.crt (its key is
 * client-<id>.key's).
 */
static const char *short_lived_cert(int id, long life_s)
{
	char rel[64], cn[32];
	X509 *ca = read_crt("ca.crt"), *x = X509_new();
	EVP_PKEY *cak = read_key("ca.key"), *k;
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX v3;
	const char *path;
	FILE *f;

	snprintf(rel, sizeof(rel), "client-%d.key", id);
	k = read_key(rel);
	snprintf(cn, sizeof(cn), "client-%d", id);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x),
					  700000 + id), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		(const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(ca)), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), life_s));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
	{
		static const struct { int nid; const char *v; } ext[] = {
			{ NID_key_usage, "critical,digitalSignature" },
			{ NID_ext_key_usage, "clientAuth" },
			{ NID_authority_key_identifier, "keyid" },
		};

		for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
			X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3,
				ext[i].nid, ext[i].v);

			assert_non_null(e);
			assert_int_equal(X509_add_ext(x, e, -1), 1);
			X509_EXTENSION_free(e);
		}
	}
	assert_true(X509_sign(x, cak, EVP_sha256()) > 0);
	snprintf(rel, sizeof(rel), "extra/short-%d.crt", id);
	path = keep(cert(rel));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
	X509_NAME_free(name);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cak);
	return keep(rel);
}

/*
 * A cached certificate past its notAfter is not taken from the cache: the
 * full check refuses it as expired. (Waits about 5 s of real time for the
 * certificate's 4 s of life: room for the first two handshakes.)
 */
static void test_vcache_expiry(void **state)
{
	const char *crt;
	struct xtel_dtls_server_stats st;
	time_t until;
	struct net *n;

	(void)state;
	crt = short_lived_cert(5, 4);
	until = time(NULL) + 5;
	n = net_vc(state, &(struct xtel_dtls_policy_cfg){ 0 }, 8);
	add_client_ctx(n, n->cctx, crt, "client-5.key", "198.18.0.1");
	add_client_ctx(n, n->cctx, crt, "client-5.key", "198.18.0.1");
	pump(n);
	assert_established(n, 0, 5);
	assert_established(n, 1, 5);
	assert_vc(n, 1, 1, 0);
	while (time(NULL) <= until)
		usleep(100000);
	add_client_ctx(n, n->cctx, crt, "client-5.key", "198.18.0.1");
	pump(n);
	assert_refused(n, 2, "sslv3 alert certificate expired");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_EXPIRED, 1);
	assert_vc(n, 1, 2, 0);
	net_free(n);
}

/* Insert md, its chain valid in [nb, na) and of anchor hash ah. */
static int vc_put(struct dtls_vcache *vc, const unsigned char *md,
		  int64_t nb, int64_t na, unsigned long ah)
{
	struct dtls_chain c = { .anchor_hash = ah, .anchor_kid = ah + 100,
				.not_before = nb, .not_after = na };

	return dtls_vcache_insert(vc, md, &c);
}

/* The table itself: validity bounds, the free list, LRU order. */
static void test_vcache_table(void **state)
{
	struct dtls_vcache vc;
	unsigned char md[4][32];
	struct dtls_chain got = { 0 };

	(void)state;
	for (int i = 0; i < 4; i++) {
		memset(md[i], 0, sizeof(md[i]));
		/* one bucket (of 4): chains, removal from their middle */
		md[i][0] = (unsigned char)(4 * i);
		md[i][31] = (unsigned char)(0x40 + i);
	}
	assert_int_equal(dtls_vcache_init(&vc, 3), 0);
	assert_int_equal(dtls_vcache_lookup(&vc, md[0], 50, &got), -ENOENT);
	assert_int_equal(vc_put(&vc, md[0], 10, 100, 700), 0);
	assert_int_equal(vc_put(&vc, md[1], 10, 200, 701), 0);
	assert_int_equal(dtls_vcache_lookup(&vc, md[0], 9, &got), -ENOENT);
	/* out of its validity: gone, not just refused */
	assert_int_equal(vc.n, 1);
	assert_int_equal(dtls_vcache_lookup(&vc, md[0], 10, &got), -ENOENT);
	assert_int_equal(vc_put(&vc, md[0], 10, 100, 700), 0);
	assert_int_equal(dtls_vcache_lookup(&vc, md[0], 99, &got), 0);
	assert_int_equal(dtls_vcache_lookup(&vc, md[0], 100, &got), -ENOENT);
	assert_int_equal(vc_put(&vc, md[0], 10, 100, 700), 0);
	assert_int_equal(vc_put(&vc, md[2], 10, 100, 702), 0);
	assert_int_equal(vc.n, 3);
	/* LRU: 1, 0, 2; using 1 makes 0 the oldest */
	assert_int_equal(dtls_vcache_lookup(&vc, md[1], 50, &got), 0);
	assert_int_equal(vc_put(&vc, md[3], 10, 100, 703), 1);
	assert_int_equal(dtls_vcache_lookup(&vc, md[0], 50, &got), -ENOENT);
	assert_int_equal(dtls_vcache_lookup(&vc, md[1], 50, &got), 0);
	assert_int_equal(dtls_vcache_lookup(&vc, md[2], 50, &got), 0);
	assert_int_equal(dtls_vcache_lookup(&vc, md[3], 50, &got), 0);
	/* a hit gives the trust anchor its chain ended at */
	assert_int_equal(got.anchor_hash, 703);
	assert_int_equal(got.anchor_kid, 803);
	assert_int_equal(got.not_after, 100);
	/* the policy's CRLs end at 60 */
	vc.until = 60;
	assert_int_equal(dtls_vcache_lookup(&vc, md[3], 60, &got), -ENOENT);
	assert_int_equal(vc.n, 2);
	vc.until = INT64_MAX;
	dtls_vcache_flush(&vc);
	assert_int_equal(vc.n, 0);
	assert_int_equal(dtls_vcache_lookup(&vc, md[1], 50, &got), -ENOENT);
	dtls_vcache_free(&vc);
}

/* A name of one CN entry (the caller frees it). */
static X509_NAME *cn_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	assert_non_null(n);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
		(const unsigned char *)cn, -1, -1, 0), 1);
	return n;
}

/*
 * A CA certificate of key k named cn, serial hex, issued by iss (its key
 * issk), valid from a minute ago for life_s seconds.
 */
static X509 *issue_ca(EVP_PKEY *k, const char *cn, X509 *iss, EVP_PKEY *issk,
		      const char *hex, long life_s)
{
	X509_NAME *name = cn_name(cn);
	BIGNUM *serial = serial_of(hex);
	X509 *ca = new_cert(k, serial);

	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(ca), life_s));
	assert_int_equal(X509_set_subject_name(ca, name), 1);
	assert_int_equal(X509_set_issuer_name(ca, X509_get_subject_name(iss)), 1);
	add_ext(ca, iss, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(ca, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(ca, iss, NID_subject_key_identifier, "hash");
	add_ext(ca, iss, NID_authority_key_identifier, "keyid:always");
	assert_true(X509_sign(ca, issk, EVP_sha256()) > 0);
	X509_NAME_free(name);
	BN_free(serial);
	return ca;
}

/*
 * A root and an intermediate CA it issued: extra/chain-root-<id>.crt/.key
 * (a root, for the CA file) and extra/chain-int-<id>.crt/.key (in no CA
 * file, valid for int_life_s seconds). The root lives an hour.
 */
static void make_chain_ca(int id, long int_life_s)
{
	EVP_PKEY *rk = EVP_EC_gen("P-256"), *ik = EVP_EC_gen("P-256");
	X509_NAME *rn = cn_name("xtel test root");
	X509 *root, *inter;
	char path[80];

	assert_non_null(rk);
	assert_non_null(ik);
	root = self_signed_ca(rk, "7720", rn, 3600);
	snprintf(path, sizeof(path), "extra/chain-root-%d.crt", id);
	write_pem(path, root, NULL);
	snprintf(path, sizeof(path), "extra/chain-root-%d.key", id);
	write_pem(path, NULL, rk);
	inter = issue_ca(ik, "xtel test int", root, rk, "7721", int_life_s);
	snprintf(path, sizeof(path), "extra/chain-int-%d.crt", id);
	write_pem(path, inter, NULL);
	snprintf(path, sizeof(path), "extra/chain-int-%d.key", id);
	write_pem(path, NULL, ik);
	X509_free(root);
	X509_free(inter);
	X509_NAME_free(rn);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
}

/*
 * certdir/<rel>.crt/.key: client-<client> issued by the intermediate of
 * make_chain_ca(chain), serial hex; its .crt holds the leaf and then the
 * intermediate (the chain the device sends), or (leaf_only) the leaf.
 */
static void issue_chain_client(const char *rel, int chain, int client,
			       const char *hex, bool leaf_only)
{
	char crt[64], key[64], path[80];
	X509 *inter;
	EVP_PKEY *ik;
	FILE *f;

	snprintf(crt, sizeof(crt), "extra/chain-int-%d.crt", chain);
	snprintf(key, sizeof(key), "extra/chain-int-%d.key", chain);
	inter = read_crt(crt);
	ik = read_key(key);
	issue_client(rel, client, inter, ik, hex);
	if (!leaf_only) {
		snprintf(path, sizeof(path), "%s.crt", rel);
		f = fopen(cert(path), "a");
		assert_non_null(f);
		assert_int_equal(PEM_write_X509(f, inter), 1);
		fclose(f);
	}
	X509_free(inter);
	EVP_PKEY_free(ik);
}

/*
 * A device of an intermediate CA (make_chain_ca(id, int_life_s)):
 * extra/chain-client-<id>.crt/.key, the leaf then the intermediate.
 */
static void make_chain_client(int id, long int_life_s)
{
	char rel[64];

	make_chain_ca(id, int_life_s);
	snprintf(rel, sizeof(rel), "extra/chain-client-%d", id);
	issue_chain_client(rel, id, id, "7722", false);
}

/* A new client slot for the chain device of make_chain_client(id). */
static int add_chain_client(struct net *n, int id)
{
	char crt[64], key[64];

	snprintf(crt, sizeof(crt), "extra/chain-client-%d.crt", id);
	snprintf(key, sizeof(key), "extra/chain-client-%d.key", id);
	add_client_ctx(n, n->cctx, crt, key, "198.18.0.1");
	return n->ncl - 1;
}

/*
 * A device whose certificate an intermediate CA issued (the CA file has
 * only the root; the device sends the intermediate) is judged by its
 * chain's root, not by its direct issuer, which no CA file has. A reload
 * that keeps the root (a new deny list: the same trust) keeps its
 * session; its ticket resumes, and its full handshakes take the
 * verification cache, whose sessions a second such reload keeps too. A
 * reload that drops the root ends every one of them (sessions_untrusted),
 * its ticket is refused and its full handshake fails unknown_ca. The CA's
 * own device carries on throughout.
 */
static void test_chain_anchor(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_ticket *t;
	const char *both;
	struct net *n;
	int i;

	set_mode(state);
	make_chain_client(7, 3600);
	both = cat_files("extra/ca-and-root.crt", "ca.crt",
			 "extra/chain-root-7.crt");
	c.ca_file = both;
	n = net_with(state, &c);
	add_client(n, 1);
	i = add_chain_client(n, 7);
	pump(n);
	assert_established(n, 0, 1);
	assert_established(n, i, 7);
	assert_vc(n, 0, 2, 0);
	t = xtel_dtls_client_ticket(n->cl[i].c);
	assert_non_null(t);

	/* The root stays: nothing ends. */
	c.ca_file = both;
	c.deny_file = write_file("extra/deny3.txt", "3\n");
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.policy_updates, 1);
	assert_int_equal(st.sessions_untrusted, 0);
	assert_int_equal(st.sessions_revoked, 0);
	assert_int_equal(st.close_notify_tx, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 2);
	send_record(n, i, 7, 1);
	pump(n);
	assert_int_equal(n->delivered, 1);
	/* Its ticket resumes. */
	i = add_resuming_as(n, "extra/chain-client-7.crt",
			    "extra/chain-client-7.key", t);
	pump(n);
	assert_established(n, i, 7);
	assert_true(xtel_dtls_client_resumed(n->cl[i].c));
	/* Two full handshakes: the chain check, then the cache's. */
	i = add_chain_client(n, 7);
	pump(n);
	assert_established(n, i, 7);
	i = add_chain_client(n, 7);
	pump(n);
	assert_established(n, i, 7);
	assert_vc(n, 1, 3, 0);
	st = stats(n);
	assert_int_equal(st.handshakes_resumed, 1);
	assert_int_equal(st.ticket_refused, 0);
	assert_int_equal(st.handshake_failed, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 5);

	/* The root stays again: the cached one's session too. */
	c.deny_file = write_file("extra/deny4.txt", "4\n");
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.policy_updates, 2);
	assert_int_equal(st.sessions_untrusted, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 5);
	send_record(n, i, 7, 1);
	pump(n);
	assert_int_equal(n->delivered, 2);

	/* The root goes: its four sessions end, the CA's device stays. */
	c.ca_file = keep(cert("ca.crt"));
	c.deny_file = NULL;
	logs.last[0] = '\0';
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.policy_updates, 3);
	assert_int_equal(st.sessions_untrusted, 4);
	assert_int_equal(st.sessions_revoked, 0);
	assert_int_equal(st.close_notify_tx, 4);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
	assert_int_equal(xtel_dtls_client_state(n->cl[i].c),
			 XTEL_DTLS_CLIENT_CLOSED);
	assert_true(logs_with("(client 7) closed: its CA no longer trusted by "
			      "the new policy", logs.last));
	send_record(n, 0, 1, 1);
	pump(n);
	assert_int_equal(n->delivered, 3);
	/* Its ticket is refused, and its full handshake then fails. */
	i = add_resuming_as(n, "extra/chain-client-7.crt",
			    "extra/chain-client-7.key", t);
	pump(n);
	assert_refused(n, i, "alert");
	st = stats(n);
	assert_int_equal(st.ticket_refused, 1);
	assert_int_equal(st.handshakes_resumed, 1);
	assert_failures(&st, XTEL_DTLS_FAILED_UNKNOWN_CA, 1);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
	xtel_dtls_ticket_free(t);
	net_free(n);
}

/*
 * A device's intermediate CA expires before its certificate and its root:
 * the ticket sealed the validity of the whole chain, so 20 minutes later
 * (time() interposed) it resumes nothing, as the full handshake that
 * follows is refused as expired.
 */
static void test_chain_intermediate_expired(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_ticket *t;
	struct net *n;
	int i;

	set_mode(state);
	make_chain_client(8, 600);
	c.ca_file = keep(cert("extra/chain-root-8.crt"));
	n = net_with(state, &c);
	i = add_chain_client(n, 8);
	pump(n);
	assert_established(n, i, 8);
	t = xtel_dtls_client_ticket(n->cl[i].c);
	assert_non_null(t);

	expired_later(n, "extra/chain-client-8", t);
	xtel_dtls_ticket_free(t);
	net_free(n);
}

/* with_policy and with_rotation both. */
static void with_policy_rotation(struct xtel_dtls_server_cfg *cfg)
{
	with_policy(cfg);
	with_rotation(cfg);
}

/*
 * The previous key's ticket of a device of an intermediate CA: OpenSSL
 * opens it (ticket_decrypted re-checks the sealed identity), and the resumed
 * session keeps the root the ticket sealed: a reload that keeps the root
 * keeps it, one that drops the root ends it.
 */
static void test_chain_rotation(void **state)
{
	unsigned char k1[XTEL_DTLS_TICKET_KEY_LEN], k2[sizeof(k1)];
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_ticket *t;
	struct net *n;
	int i;

	set_mode(state);
	rotation_keys(k1, k2);
	make_chain_client(9, 3600);
	c.ca_file = keep(cert("extra/chain-root-9.crt"));
	rot_key = k1;
	rot_prev = NULL;
	n = net_tweaked(state, &c, with_policy_rotation);
	i = add_chain_client(n, 9);
	pump(n);
	assert_established(n, i, 9);
	t = xtel_dtls_client_ticket(n->cl[i].c);
	assert_non_null(t);
	net_free(n);

	rot_key = k2;
	rot_prev = k1;
	n = net_tweaked(state, &c, with_policy_rotation);
	i = add_resuming_as(n, "extra/chain-client-9.crt",
			    "extra/chain-client-9.key", t);
	pump(n);
	assert_established(n, i, 9);
	assert_true(xtel_dtls_client_resumed(n->cl[i].c));
	c.deny_file = write_file("extra/deny3.txt", "3\n");
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.handshakes_resumed, 1);
	assert_int_equal(st.ticket_refused, 0);
	assert_int_equal(st.sessions_untrusted, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
	c.ca_file = keep(cert("ca.crt"));
	c.deny_file = NULL;
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_untrusted, 1);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);
	rot_key = rot_prev = NULL;
	xtel_dtls_ticket_free(t);
	net_free(n);
}

/* ---- CRLs, pins and CA removal along an intermediate's chain ---- */

/*
 * The chain PKI of the tests below, made once: root and intermediate 20
 * (make_chain_ca), devices 21 and 22 of the intermediate sending it
 * (leaf, then intermediate) and device 23 sending only its leaf.
 */
/* The shell command copying device 21's key for its leaf-only file. */
static const char *cmd_cp_key(void)
{
	static char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cp '%s' ", cert("extra/c20-client-21.key"));
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "'%s'",
		 cert("extra/c20-client-21l.key"));
	return cmd;
}

static void chain20(void)
{
	static bool made;
	X509 *leaf;

	if (made)
		return;
	make_chain_ca(20, 3600);
	issue_chain_client("extra/c20-client-21", 20, 21, "7731", false);
	issue_chain_client("extra/c20-client-22", 20, 22, "7732", false);
	issue_chain_client("extra/c20-client-23", 20, 23, "7733", true);
	/* Device 21's certificate without the intermediate (same leaf). */
	leaf = read_crt("extra/c20-client-21.crt");
	write_pem("extra/c20-client-21l.crt", leaf, NULL);
	X509_free(leaf);
	assert_int_equal(system(cmd_cp_key()), 0);
	made = true;
}

/* Device id of chain20 (21 with leaf: its file without the intermediate). */
static int add_c20_as(struct net *n, int id, bool leaf)
{
	char crt[64], key[64];

	snprintf(crt, sizeof(crt), "extra/c20-client-%d%s.crt", id, leaf ? "l" : "");
	snprintf(key, sizeof(key), "extra/c20-client-%d%s.key", id, leaf ? "l" : "");
	add_client_ctx(n, n->cctx, crt, key, "198.18.0.1");
	return n->ncl - 1;
}

static int add_c20(struct net *n, int id)
{
	return add_c20_as(n, id, false);
}

enum { CRL_ROOT = 1, CRL_INT = 2, CRL_INT_CERT = 4, CRL_CA = 8 };

/*
 * extra/<name>: of chain 20, the root's CRL revoking rev_root, the
 * intermediate's revoking rev_int, the intermediate's certificate, and
 * (CRL_CA) an empty CRL of ca.crt: the parts wanted, in that order.
 */
static const char *chain_crls(const char *name, unsigned int parts,
			      const char *const *rev_root,
			      const char *const *rev_int)
{
	const char *path = keep(cert(name));
	char cmd[2048];
	size_t o;

	o = (size_t)snprintf(cmd, sizeof(cmd), "cat");
	if (parts & CRL_ROOT)
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, " '%s'",
			make_crl("extra/c20-root.crl", "extra/chain-root-20",
				 rev_root, -60, 3600));
	if (parts & CRL_INT)
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, " '%s'",
			make_crl("extra/c20-int.crl", "extra/chain-int-20",
				 rev_int, -60, 3600));
	if (parts & CRL_INT_CERT)
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, " '%s'",
				      cert("extra/chain-int-20.crt"));
	if (parts & CRL_CA)
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, " '%s'",
			make_crl("extra/ca-empty.crl", "ca", NULL, -60, 3600));
	snprintf(cmd + o, sizeof(cmd) - o, " > '%s'", path);
	assert_int_equal(system(cmd), 0);
	return path;
}

static const char *const rev22[] = { "extra/c20-client-22.crt", NULL };
static const char *const rev_int20[] = { "extra/chain-int-20.crt", NULL };

/*
 * Device 22 revoked by the intermediate's CRL (the CRL file holds the
 * intermediate's certificate, as no CA file does): refused as revoked,
 * device 21 of the same intermediate admitted.
 */
static void test_chain_revoked_by_int(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct net *n;

	set_mode(state);
	chain20();
	c.ca_file = keep(cert("extra/chain-root-20.crt"));
	c.crl_file = chain_crls("extra/c20.crl", CRL_ROOT | CRL_INT | CRL_INT_CERT,
				NULL, rev22);
	n = net_with(state, &c);
	add_c20(n, 21);
	add_c20(n, 22);
	pump(n);
	assert_established(n, 0, 21);
	assert_refused(n, 1, "sslv3 alert certificate revoked");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_REVOKED, 1);
	assert_int_equal(st.handshakes_ok, 1);
	net_free(n);

	/* The intermediate in the CA file instead: its CRL needs no more. */
	c.ca_file = cat_files("extra/root20-int20.crt", "extra/chain-root-20.crt",
			      "extra/chain-int-20.crt");
	c.crl_file = chain_crls("extra/c20.crl", CRL_ROOT | CRL_INT, NULL, rev22);
	n = net_with(state, &c);
	add_c20(n, 21);
	add_c20(n, 22);
	pump(n);
	assert_established(n, 0, 21);
	assert_refused(n, 1, "sslv3 alert certificate revoked");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_REVOKED, 1);
	net_free(n);
}

/* The intermediate revoked by the root's CRL: both its devices refused. */
static void test_chain_int_revoked(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct net *n;

	set_mode(state);
	chain20();
	c.ca_file = keep(cert("extra/chain-root-20.crt"));
	c.crl_file = chain_crls("extra/c20.crl", CRL_ROOT | CRL_INT | CRL_INT_CERT,
				rev_int20, NULL);
	n = net_with(state, &c);
	add_c20(n, 21);
	add_c20(n, 22);
	pump(n);
	assert_refused(n, 0, "sslv3 alert certificate revoked");
	assert_refused(n, 1, "sslv3 alert certificate revoked");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_REVOKED, 2);
	assert_int_equal(st.handshakes_ok, 0);
	net_free(n);
}

/* Load c, expect it to succeed with the last message holding msg. */
static void load_warns(const struct xtel_dtls_policy_cfg *c, const char *msg)
{
	struct xtel_dtls_policy *p = NULL;

	logs.last[0] = '\0';
	assert_int_equal(xtel_dtls_policy_load(&p, c), 0);
	xtel_dtls_policy_put(p);
	if (strstr(logs.last, msg) == NULL)
		fail_msg("message '%s', want '%s'", logs.last, msg);
}

/*
 * Every CA of a device's chain needs a valid CRL: without the
 * intermediate's (not even known at load: only the devices send it), or
 * with its certificate but no CRL of it (a warning), or without the
 * root's (a warning), the device is refused as other. An intermediate's
 * CRL without its certificate, or with one that chains to no CA of the
 * CA file, is not loaded.
 */
static void test_chain_crl_missing(void **state)
{
	static const unsigned int parts[3] = { CRL_ROOT, CRL_ROOT | CRL_INT_CERT,
					       CRL_INT | CRL_INT_CERT };
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	char msg[512];
	struct net *n;

	(void)state;
	chain20();
	c.ca_file = keep(cert("extra/chain-root-20.crt"));
	for (int k = 0; k < 3; k++) {
		c.crl_file = chain_crls("extra/c20.crl", parts[k], NULL, NULL);
		if (k > 0) {
			snprintf(msg, sizeof(msg), "CRL %s has no CRL of "
				 "/CN=xtel test %s (in %s): every device whose "
				 "chain passes through that CA is refused "
				 "(dtls_failed_other, \"unable to get certificate "
				 "CRL\"); add that CA's CRL to %s (an empty one "
				 "revokes nothing: openssl ca -gencrl, or "
				 "certs/gen.sh crl DIR / certs/gen.sh chain DIR "
				 "for gen.sh's CAs) and reload", c.crl_file,
				 k == 1 ? "int" : "root",
				 k == 1 ? c.crl_file : c.ca_file, c.crl_file);
			load_warns(&c, msg);
		}
		n = net_with(state, &c);
		add_c20(n, 21);
		pump(n);
		assert_refused(n, 0, "alert");
		st = stats(n);
		assert_failures(&st, XTEL_DTLS_FAILED_OTHER, 1);
		assert_non_null(strstr(logs.last, "(unable to get certificate CRL)"));
		net_free(n);
	}

	c.crl_file = chain_crls("extra/c20.crl", CRL_ROOT | CRL_INT, NULL, NULL);
	snprintf(msg, sizeof(msg), "issued by /CN=xtel test int, which is "
		 "neither a CA of %s nor an intermediate CA whose certificate "
		 "is in %s", cert("extra/chain-root-20.crt"),
		 cert("extra/c20.crl"));
	load_fails(&c, -EBADMSG, msg);
	c.ca_file = keep(cert("ca.crt"));
	c.crl_file = chain_crls("extra/c20.crl", CRL_INT | CRL_INT_CERT, NULL,
				NULL);
	snprintf(msg, sizeof(msg), "intermediate CA /CN=xtel test int does not "
		 "chain to a CA of %s: unable to get local issuer certificate",
		 cert("ca.crt"));
	load_fails(&c, -EBADMSG, msg);
}

/*
 * Device 21 (n's client first, established) two more ways: resumed from
 * its ticket, and a full handshake taking the verification cache. Its
 * ticket (the caller frees it).
 */
static struct xtel_dtls_ticket *c20_resumed_and_cached(struct net *n, int first)
{
	struct xtel_dtls_ticket *t = xtel_dtls_client_ticket(n->cl[first].c);
	int i;

	assert_non_null(t);
	i = add_resuming_as(n, "extra/c20-client-21.crt",
			    "extra/c20-client-21.key", t);
	pump(n);
	assert_established(n, i, 21);
	assert_true(xtel_dtls_client_resumed(n->cl[i].c));
	i = add_c20(n, 21);
	pump(n);
	assert_established(n, i, 21);
	return t;
}

/*
 * A reload to a CRL file that lacks a CRL of a CA of chain 20 (the
 * intermediate's, its certificate kept: a warning; the intermediate's
 * and its certificate: not known at load; the root's: a warning) ends
 * every session of devices 21 and 22, as the full handshake refuses them:
 * the full ones, the one resumed from a ticket and the one made on a
 * verification cache hit (sessions_untrusted, close_notify). The CA's own
 * device carries on. Afterwards the ticket resumes nothing
 * (ticket_refused) and the full handshakes, the cache voided, fail as
 * other ("unable to get certificate CRL").
 */
static void test_chain_reload_crl_missing(void **state)
{
	static const unsigned int parts[3] = {
		CRL_CA | CRL_ROOT | CRL_INT_CERT, CRL_CA | CRL_ROOT,
		CRL_CA | CRL_INT | CRL_INT_CERT };
	static const char *const warn[3] = {
		"has no CRL of /CN=xtel test int", NULL,
		"has no CRL of /CN=xtel test root" };
	const unsigned int all = CRL_CA | CRL_ROOT | CRL_INT | CRL_INT_CERT;
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_policy *p;
	struct xtel_dtls_ticket *t;
	struct net *n;
	int i;

	set_mode(state);
	chain20();
	c.ca_file = cat_files("extra/ca-and-root20.crt", "ca.crt",
			      "extra/chain-root-20.crt");
	for (int k = 0; k < 3; k++) {
		c.crl_file = chain_crls("extra/c20.crl", all, NULL, NULL);
		n = net_with(state, &c);
		add_client(n, 1);
		add_c20(n, 21);
		add_c20(n, 22);
		pump(n);
		assert_established(n, 0, 1);
		assert_established(n, 1, 21);
		assert_established(n, 2, 22);
		t = c20_resumed_and_cached(n, 1);
		assert_vc(n, 1, 3, 0);
		assert_int_equal(xtel_dtls_server_sessions(n->srv), 5);

		c.crl_file = chain_crls("extra/c20.crl", parts[k], NULL, NULL);
		logs.last[0] = '\0';
		assert_int_equal(xtel_dtls_policy_load(&p, &c), 0);
		assert_int_equal(xtel_dtls_policy_cas_without_crl(p),
				 warn[k] != NULL ? 1 : 0);
		if (warn[k] != NULL)
			assert_non_null(strstr(logs.last, warn[k]));
		xtel_dtls_server_set_policy(n->srv, p);
		xtel_dtls_policy_put(p);
		pump(n);
		st = stats(n);
		assert_int_equal(st.sessions_untrusted, 4);
		assert_int_equal(st.sessions_revoked, 0);
		assert_int_equal(st.close_notify_tx, 4);
		assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
		assert_true(logs_with("closed: a CA of its chain has no CRL by "
				      "the new policy", logs.last));
		for (int j = 1; j < 5; j++)
			assert_int_equal(xtel_dtls_client_state(n->cl[j].c),
					 XTEL_DTLS_CLIENT_CLOSED);
		send_record(n, 0, 1, 1);
		pump(n);
		assert_int_equal(n->delivered, 1);

		i = add_resuming_as(n, "extra/c20-client-21.crt",
				    "extra/c20-client-21.key", t);
		pump(n);
		assert_refused(n, i, "alert");
		i = add_c20(n, 22);
		pump(n);
		assert_refused(n, i, "alert");
		assert_non_null(strstr(logs.last,
				       "(unable to get certificate CRL)"));
		st = stats(n);
		assert_int_equal(st.ticket_refused, 1);
		assert_int_equal(st.handshakes_resumed, 1);
		assert_failures(&st, XTEL_DTLS_FAILED_OTHER, 2);
		assert_vc(n, 1, 5, 0);
		assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
		xtel_dtls_ticket_free(t);
		net_free(n);
	}
}

/*
 * A cross-certificate: X' of root X's subject and key, issued by root Y,
 * whose CRL revokes X'. With X expired, OpenSSL builds the chain of X's
 * device 24 (it sends its leaf) as leaf, X', Y, so the device is refused
 * as revoked: X's subject is not unique among the policy's CAs, so its
 * chain is checked in full, not as the leaf alone (leaf_crl_only). With
 * no cross-certificate the shortcut applies to X.
 */
static void test_chain_cross_cert(void **state)
{
	static const char *const rev_x2[] = { "extra/cross-x2.crt", NULL };
	EVP_PKEY *xk = EVP_EC_gen("P-256"), *yk = EVP_EC_gen("P-256");
	X509_NAME *xn = cn_name("xtel cross x"), *yn = cn_name("xtel cross y");
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_policy *p;
	X509 *x, *y, *x2, *leaf;
	struct net *n;

	set_mode(state);
	assert_non_null(xk);
	assert_non_null(yk);
	x = self_signed_ca(xk, "7740", xn, -30);	/* expired */
	y = self_signed_ca(yk, "7741", yn, 3600);
	x2 = issue_ca(xk, "xtel cross x", y, yk, "7742", 3600);
	write_pem("extra/cross-x.crt", x, NULL);
	write_pem("extra/cross-x.key", NULL, xk);
	write_pem("extra/cross-y.crt", y, NULL);
	write_pem("extra/cross-y.key", NULL, yk);
	write_pem("extra/cross-x2.crt", x2, NULL);
	issue_client("extra/cross-client-24", 24, x, xk, "7743");
	make_crl("extra/cross-x.crl", "extra/cross-x", NULL, -60, 3600);
	make_crl("extra/cross-y.crl", "extra/cross-y", rev_x2, -60, 3600);
	c.crl_file = cat_files("extra/cross.crl", "extra/cross-x.crl",
			       "extra/cross-y.crl");
	leaf = read_crt("extra/cross-client-24.crt");

	/* X and Y alone: X is a root of one subject, the shortcut's. */
	c.ca_file = cat_files("extra/cross-xy.crt", "extra/cross-x.crt",
			      "extra/cross-y.crt");
	assert_int_equal(xtel_dtls_policy_load(&p, &c), 0);
	assert_true(dtls_policy_leaf_crl_only(p, leaf, NULL));
	xtel_dtls_policy_put(p);
	/* With X' too: not any more. */
	c.ca_file = cat_files("extra/cross-xyx2.crt", "extra/cross-xy.crt",
			      "extra/cross-x2.crt");
	assert_int_equal(xtel_dtls_policy_load(&p, &c), 0);
	assert_false(dtls_policy_leaf_crl_only(p, leaf, NULL));
	xtel_dtls_policy_put(p);

	n = net_with(state, &c);
	add_client_ctx(n, n->cctx, "extra/cross-client-24.crt",
		       "extra/cross-client-24.key", "198.18.0.1");
	pump(n);
	assert_refused(n, 0, "sslv3 alert certificate revoked");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_REVOKED, 1);
	net_free(n);
	X509_free(leaf);
	X509_free(x);
	X509_free(y);
	X509_free(x2);
	X509_NAME_free(xn);
	X509_NAME_free(yn);
	EVP_PKEY_free(xk);
	EVP_PKEY_free(yk);
}

/*
 * Reloads that revoke along the chain: device 22 by the intermediate's
 * CRL ends its session alone; then the intermediate by the root's CRL
 * ends every session of device 21: the full one, the one resumed from its
 * ticket and the one made on a verification cache hit. Afterwards its
 * ticket resumes nothing and its full handshake is refused as revoked
 * (the cache was voided by the reload).
 */
static void test_chain_reload_revokes(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_ticket *t;
	struct net *n;
	int i;

	set_mode(state);
	chain20();
	c.ca_file = keep(cert("extra/chain-root-20.crt"));
	c.crl_file = chain_crls("extra/c20.crl", CRL_ROOT | CRL_INT | CRL_INT_CERT,
				NULL, NULL);
	n = net_with(state, &c);
	add_c20(n, 21);
	add_c20(n, 22);
	pump(n);
	assert_established(n, 0, 21);
	assert_established(n, 1, 22);
	t = c20_resumed_and_cached(n, 0);
	assert_vc(n, 1, 2, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 4);

	c.crl_file = chain_crls("extra/c20.crl", CRL_ROOT | CRL_INT | CRL_INT_CERT,
				NULL, rev22);
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_revoked, 1);
	assert_int_equal(st.sessions_untrusted, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 3);
	assert_int_equal(xtel_dtls_client_state(n->cl[1].c),
			 XTEL_DTLS_CLIENT_CLOSED);

	c.crl_file = chain_crls("extra/c20.crl", CRL_ROOT | CRL_INT | CRL_INT_CERT,
				rev_int20, rev22);
	logs.last[0] = '\0';
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_revoked, 4);
	assert_int_equal(st.sessions_untrusted, 0);
	assert_int_equal(st.close_notify_tx, 4);
	assert_int_equal(st.policy_updates, 2);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);
	assert_true(logs_with("(client 21) closed: certificate revoked by the "
			      "new policy", logs.last));

	i = add_resuming_as(n, "extra/c20-client-21.crt",
			    "extra/c20-client-21.key", t);
	pump(n);
	assert_refused(n, i, "sslv3 alert certificate revoked");
	i = add_c20(n, 21);
	pump(n);
	assert_refused(n, i, "sslv3 alert certificate revoked");
	st = stats(n);
	assert_int_equal(st.ticket_refused, 1);
	assert_int_equal(st.handshakes_resumed, 1);
	assert_failures(&st, XTEL_DTLS_FAILED_REVOKED, 2);
	assert_vc(n, 1, 4, 0);
	xtel_dtls_ticket_free(t);
	net_free(n);
}

/*
 * A pin means the device's chain passes through the pinned CA: a pin of
 * the root admits the devices of its intermediate and refuses the other
 * CA's (unknown_ca); a reload keeping the pin keeps their sessions, one
 * pinning the other CA ends them (sessions_untrusted). A pin of the
 * intermediate (then in the CA file) admits its devices too.
 */
static void test_chain_pin_root(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	char pin[128];
	const char *pins[1] = { pin };
	struct net *n;

	set_mode(state);
	chain20();
	fingerprint("extra/chain-root-20.crt", pin, sizeof(pin));
	c.ca_file = cat_files("extra/ca-and-root20.crt", "ca.crt",
			      "extra/chain-root-20.crt");
	c.pin_ca = pins;
	c.n_pin_ca = 1;
	n = net_with(state, &c);
	add_client(n, 1);
	add_c20(n, 21);
	add_c20(n, 22);
	pump(n);
	assert_refused(n, 0, "sslv3 alert bad certificate");
	assert_established(n, 1, 21);
	assert_established(n, 2, 22);
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_UNKNOWN_CA, 1);

	c.deny_file = write_file("extra/deny3.txt", "3\n");
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_untrusted, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 2);
	send_record(n, 1, 21, 1);
	pump(n);
	assert_int_equal(n->delivered, 1);

	fingerprint("ca.crt", pin, sizeof(pin));
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_untrusted, 2);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);
	net_free(n);

	fingerprint("extra/chain-int-20.crt", pin, sizeof(pin));
	c.ca_file = cat_files("extra/root20-int20.crt", "extra/chain-root-20.crt",
			      "extra/chain-int-20.crt");
	c.deny_file = NULL;
	n = net_with(state, &c);
	add_c20(n, 21);
	pump(n);
	assert_established(n, 0, 21);
	net_free(n);
}

/*
 * An intermediate the CA file gave a device's chain (the device sends
 * only its leaf): a reload whose CA file no longer has it ends that
 * session (sessions_untrusted) and refuses the device's return
 * (unknown_ca); the device that sends the intermediate itself carries on.
 */
static void test_chain_drops_stored_int(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct net *n;
	int i;

	set_mode(state);
	chain20();
	c.ca_file = cat_files("extra/root20-int20.crt", "extra/chain-root-20.crt",
			      "extra/chain-int-20.crt");
	n = net_with(state, &c);
	add_c20(n, 21);
	add_c20(n, 23);
	pump(n);
	assert_established(n, 0, 21);
	assert_established(n, 1, 23);

	c.ca_file = keep(cert("extra/chain-root-20.crt"));
	logs.last[0] = '\0';
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_untrusted, 1);
	assert_int_equal(st.sessions_revoked, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
	assert_int_equal(xtel_dtls_client_state(n->cl[1].c),
			 XTEL_DTLS_CLIENT_CLOSED);
	assert_true(logs_with("(client 23) closed: its CA no longer trusted by "
			      "the new policy", logs.last));
	i = add_c20(n, 23);
	pump(n);
	assert_refused(n, i, "alert");
	i = add_c20(n, 21);
	pump(n);
	assert_established(n, i, 21);
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_UNKNOWN_CA, 1);
	net_free(n);
}

/*
 * A verification cache entry is the leaf's; the chain it stood for needs
 * the intermediate from the device or the CA file. Device 21 cached with
 * its intermediate comes back without it: with a CA file of the root
 * only, the entry does not apply (forgotten, a miss) and the full check
 * refuses it (unknown_ca); with the intermediate in the CA file it is a
 * hit, and the session notes that the CA file gave the intermediate: a
 * reload without it ends that session, not the one whose device sent it.
 */
static void test_chain_vcache_needs_int(void **state)
{
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	struct net *n;
	int i;

	set_mode(state);
	chain20();
	c.ca_file = keep(cert("extra/chain-root-20.crt"));
	n = net_with(state, &c);
	add_c20(n, 21);
	pump(n);
	assert_established(n, 0, 21);
	i = add_c20_as(n, 21, true);
	pump(n);
	assert_refused(n, i, "alert");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_UNKNOWN_CA, 1);
	assert_vc(n, 0, 2, 0);
	i = add_c20(n, 21);		/* forgotten: verified in full again */
	pump(n);
	assert_established(n, i, 21);
	assert_vc(n, 0, 3, 0);
	net_free(n);

	c.ca_file = cat_files("extra/root20-int20.crt", "extra/chain-root-20.crt",
			      "extra/chain-int-20.crt");
	n = net_with(state, &c);
	add_c20(n, 21);
	pump(n);
	i = add_c20_as(n, 21, true);
	pump(n);
	assert_established(n, 0, 21);
	assert_established(n, i, 21);
	assert_vc(n, 1, 1, 0);
	c.ca_file = keep(cert("extra/chain-root-20.crt"));
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_untrusted, 1);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
	assert_int_equal(xtel_dtls_client_state(n->cl[i].c),
			 XTEL_DTLS_CLIENT_CLOSED);
	assert_established(n, 0, 21);
	net_free(n);
}

/*
 * A chain of depth intermediates: extra/deep<depth>-root.crt/.key, each
 * intermediate k (1 under the root) extra/deep<depth>-i<k>.crt/.key, and
 * device 40 + depth of the last one, extra/deep<depth>-client.crt (the
 * leaf, then the intermediates from the last up) and .key.
 */
static void make_deep_chain(int depth)
{
	EVP_PKEY *k = EVP_EC_gen("P-256"), *nk;
	X509_NAME *rn = cn_name("xtel deep root");
	X509 *ca = self_signed_ca(k, "7740", rn, 3600), *next;
	char rel[64], path[80], cn[32], hex[8];
	FILE *f;

	snprintf(path, sizeof(path), "extra/deep%d-root.crt", depth);
	write_pem(path, ca, NULL);
	snprintf(path, sizeof(path), "extra/deep%d-root.key", depth);
	write_pem(path, NULL, k);
	for (int i = 1; i <= depth; i++) {
		nk = EVP_EC_gen("P-256");
		snprintf(cn, sizeof(cn), "xtel deep int %d", i);
		snprintf(hex, sizeof(hex), "774%d", i);
		next = issue_ca(nk, cn, ca, k, hex, 3600);
		snprintf(path, sizeof(path), "extra/deep%d-i%d.crt", depth, i);
		write_pem(path, next, NULL);
		snprintf(path, sizeof(path), "extra/deep%d-i%d.key", depth, i);
		write_pem(path, NULL, nk);
		X509_free(ca);
		EVP_PKEY_free(k);
		ca = next;
		k = nk;
	}
	snprintf(rel, sizeof(rel), "extra/deep%d-client", depth);
	issue_client(rel, 40 + depth, ca, k, "7750");
	snprintf(path, sizeof(path), "%s.crt", rel);
	f = fopen(cert(path), "a");
	assert_non_null(f);
	for (int i = depth; i >= 1; i--) {
		X509 *x;

		snprintf(path, sizeof(path), "extra/deep%d-i%d.crt", depth, i);
		x = read_crt(path);
		assert_int_equal(PEM_write_X509(f, x), 1);
		X509_free(x);
	}
	fclose(f);
	X509_free(ca);
	EVP_PKEY_free(k);
	X509_NAME_free(rn);
}

/*
 * A session notes two intermediates: a device with three is refused
 * (other: a later CRL revoking the top one could not find it); one with
 * two is admitted (every CA with its CRL, both intermediates' certificates
 * in the CRL file), and the root's CRL revoking the upper intermediate
 * on a reload ends its session.
 */
static void test_chain_depth(void **state)
{
	static const char *const rev_i1[] = { "extra/deep2-i1.crt", NULL };
	struct xtel_dtls_policy_cfg c = { 0 };
	struct xtel_dtls_server_stats st;
	char cmd[2048];
	struct net *n;

	(void)state;
	make_deep_chain(3);
	make_deep_chain(2);
	c.ca_file = keep(cert("extra/deep3-root.crt"));
	n = net_with(state, &c);
	add_client_ctx(n, n->cctx, "extra/deep3-client.crt",
		       "extra/deep3-client.key", "198.18.0.1");
	pump(n);
	assert_refused(n, 0, "alert");
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_OTHER, 1);
	net_free(n);

	c.ca_file = keep(cert("extra/deep2-root.crt"));
	for (int rev = 0; rev < 2; rev++) {
		snprintf(cmd, sizeof(cmd), "cat '%s' ",
			 make_crl("extra/deep2-root.crl", "extra/deep2-root",
				  rev ? rev_i1 : NULL, -60, 3600));
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "'%s' ",
			 make_crl("extra/deep2-i1.crl", "extra/deep2-i1", NULL,
				  -60, 3600));
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "'%s' ",
			 make_crl("extra/deep2-i2.crl", "extra/deep2-i2", NULL,
				  -60, 3600));
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "'%s' ",
			 cert("extra/deep2-i1.crt"));
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "'%s' > ",
			 cert("extra/deep2-i2.crt"));
		c.crl_file = keep(cert("extra/deep2.crl"));
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "'%s'",
			 c.crl_file);
		assert_int_equal(system(cmd), 0);
		if (rev == 0) {
			n = net_with(state, &c);
			add_client_ctx(n, n->cctx, "extra/deep2-client.crt",
				       "extra/deep2-client.key", "198.18.0.1");
			pump(n);
			assert_established(n, 0, 42);
		}
	}
	swap_policy(n, &c);
	st = stats(n);
	assert_int_equal(st.sessions_revoked, 1);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);
	net_free(n);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_fingerprint_syntax),
		BOTH(test_revoked),
		BOTH(test_denied),
		cmocka_unit_test(test_pinned_ca),
		cmocka_unit_test(test_crl_missing_for_a_ca),
		BOTH(test_set_policy),
		cmocka_unit_test(test_set_policy_half_open),
		cmocka_unit_test(test_set_policy_names_fail),
		BOTH(test_set_policy_drops_ca),
		BOTH(test_set_policy_drops_twin_ca),
		BOTH(test_long_serial),
		BOTH(test_resume),
		BOTH(test_resume_disabled_and_rotated),
		cmocka_unit_test(test_resume_new_trust),
		BOTH(test_resume_restart_same_port),
		BOTH(test_resume_key_file),
		cmocka_unit_test(test_key_file_create_race),
		cmocka_unit_test(test_key_file_owner),
		BOTH(test_resume_rotation),
		BOTH(test_resume_ticket_lean),
		BOTH(test_resume_tampered_ticket),
		BOTH(test_resume_not_cached),
		cmocka_unit_test(test_resume_ca_expired),
		BOTH(test_vcache_hit),
		BOTH(test_vcache_policy_voids),
		BOTH(test_vcache_eviction),
		cmocka_unit_test(test_vcache_off),
		cmocka_unit_test(test_vcache_expiry),
		cmocka_unit_test(test_vcache_table),
		BOTH(test_chain_anchor),
		BOTH(test_chain_intermediate_expired),
		BOTH(test_chain_rotation),
		BOTH(test_chain_revoked_by_int),
		BOTH(test_chain_int_revoked),
		cmocka_unit_test(test_chain_crl_missing),
		BOTH(test_chain_reload_revokes),
		BOTH(test_chain_reload_crl_missing),
		BOTH(test_chain_cross_cert),
		BOTH(test_chain_pin_root),
		BOTH(test_chain_drops_stored_int),
		BOTH(test_chain_vcache_needs_int),
		cmocka_unit_test(test_chain_depth),
	};

	return dtls_harness_main(argc, argv, "dtls_policy", tests);
}
