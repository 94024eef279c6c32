// SPDX-License-Identifier: MIT
/*
 * Unit tests of the credentials (userspace/dtls/identity.c): loading
 * errors that name the file, client certificates refused for their chain
 * or their CN, and the client id read from the CN as text.
 *
 * usage: test_dtls_identity SOURCE_ROOT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_harness.h"
#include "dtls_raw.h"
#include "dtls/internal.h"	/* struct xtel_dtls_identity: the loader test */

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* What cfg.on_failure was told. */
static struct {
	unsigned int calls;
	unsigned int reason;
	uint32_t client_id;
	struct sockaddr_storage peer;
	socklen_t peer_len;
} failure;

static void on_failure(void *arg, const struct sockaddr *peer,
		       socklen_t peer_len, unsigned int reason,
		       uint32_t client_id)
{
	(void)arg;
	failure.calls++;
	failure.reason = reason;
	failure.client_id = client_id;
	memcpy(&failure.peer, peer, peer_len);
	failure.peer_len = peer_len;
}

static void with_failure_hook(struct xtel_dtls_server_cfg *cfg)
{
	cfg->on_failure = on_failure;
}

/*
 * A client that must be refused; checks both ends' reasons, and what
 * cfg.on_failure hears: once, this peer, this reason, and the client id
 * the certificate claims (1 for every client-1 certificate here, 0 when
 * there is none or its CN names no client).
 */
static void expect_rejected(const char *crt, const char *key,
			    const char *server_reason, const char *client_reason,
			    enum xtel_dtls_fail reason)
{
	struct net *n = net_create_mode(&mode_own, with_failure_hook);
	struct xtel_dtls_server_stats st;
	uint32_t want_id = crt != NULL && strstr(crt, "client-1") != NULL &&
			   reason != XTEL_DTLS_FAILED_BAD_CN;

	memset(&failure, 0, sizeof(failure));

	add_client_ctx(n, n->cctx, crt, key, "198.18.0.1");
	pump(n);
	assert_int_equal(xtel_dtls_client_state(n->cl[0].c),
			 XTEL_DTLS_CLIENT_FAILED);
	assert_int_equal(n->cl[0].last_input_ret, -EPROTO);
	st = stats(n);
	assert_failures(&st, reason, 1);
	assert_int_equal(st.handshakes_ok, 0);
	assert_int_equal(st.handshakes_started, 1);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	assert_int_equal(xtel_dtls_server_peer(n->srv, &n->cl[0].addr.sa,
					       n->cl[0].addr_len, NULL), -ENOENT);
	if (strstr(logs.last, server_reason) == NULL)
		fail_msg("server reason '%s', want '%s'", logs.last,
			 server_reason);
	if (strstr(xtel_dtls_client_error(n->cl[0].c), client_reason) == NULL)
		fail_msg("client reason '%s', want '%s'",
			 xtel_dtls_client_error(n->cl[0].c), client_reason);
	/* The failure was logged once, naming the peer and the reason. */
	assert_int_equal(logs.lines, 1);
	assert_non_null(strstr(logs.last, server_reason));
	assert_int_equal(failure.calls, 1);
	assert_int_equal(failure.reason, reason);
	assert_int_equal(failure.client_id, want_id);
	assert_int_equal(failure.peer_len, n->cl[0].addr_len);
	assert_memory_equal(&failure.peer, &n->cl[0].addr, n->cl[0].addr_len);
	net_free(n);
}

static void test_reject_rogue_ca(void **state)
{
	set_mode(state);
	expect_rejected("bad/client-1-rogue.crt", "bad/client-1-rogue.key",
			"unable to get local issuer certificate",
			"tlsv1 alert unknown ca", XTEL_DTLS_FAILED_UNKNOWN_CA);
}

static void test_reject_expired(void **state)
{
	set_mode(state);
	expect_rejected("bad/client-1-expired.crt", "bad/client-1-expired.key",
			"certificate has expired", "sslv3 alert certificate expired",
			XTEL_DTLS_FAILED_EXPIRED);
}

static void test_reject_no_cert(void **state)
{
	set_mode(state);
	expect_rejected(NULL, NULL, "peer did not return a certificate",
			"alert", XTEL_DTLS_FAILED_NO_CERT);
}

static void test_reject_bad_cn(void **state)
{
	static const char *const bad[] = { "alpha", "zero", "big", "junk" };

	set_mode(state);
	for (unsigned int i = 0; i < 4; i++) {
		char crt[64], key[64];

		snprintf(crt, sizeof(crt), "extra/client-badcn-%s.crt", bad[i]);
		snprintf(key, sizeof(key), "extra/client-badcn-%s.key", bad[i]);
		expect_rejected(crt, key, "CN is not client-", "alert",
				XTEL_DTLS_FAILED_BAD_CN);
	}
}

/*
 * The server's own certificate is for serverAuth only: OpenSSL's purpose
 * check refuses it as a client's, counted as a key usage failure.
 */
static void test_reject_server_cert_as_client(void **state)
{
	set_mode(state);
	expect_rejected("server.crt", "server.key",
			"unsuitable certificate purpose",
			"sslv3 alert unsupported certificate",
			XTEL_DTLS_FAILED_KEY_USAGE);
}

/*
 * A client certificate needs key usage digitalSignature and extended key
 * usage clientAuth, both present: without either extension OpenSSL alone
 * would accept it.
 */
static void test_reject_key_usage(void **state)
{
	static const struct { const char *name, *server, *client; } cases[] = {
		{ "noext", "key usage does not include digital signature",
		  "sslv3 alert certificate unknown" },
		{ "noku", "key usage does not include digital signature",
		  "sslv3 alert certificate unknown" },
		{ "noeku", "unsuitable certificate purpose",
		  "sslv3 alert unsupported certificate" },
		{ "serverauth", "unsuitable certificate purpose",
		  "sslv3 alert unsupported certificate" },
		/* OpenSSL's client purpose takes keyAgreement instead. */
		{ "keyagree", "key usage does not include digital signature",
		  "sslv3 alert certificate unknown" },
	};

	set_mode(state);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char crt[64], key[64];

		snprintf(crt, sizeof(crt), "extra/client-1-%s.crt", cases[i].name);
		snprintf(key, sizeof(key), "extra/client-1-%s.key", cases[i].name);
		expect_rejected(crt, key, cases[i].server, cases[i].client,
				XTEL_DTLS_FAILED_KEY_USAGE);
	}
}

/*
 * A client that does not offer the extended master secret is refused at
 * its ClientHello with a handshake_failure alert; with it, the same
 * OpenSSL client gets through. On both record layers: the check is the
 * handshake's.
 */
static void test_require_ems(void **state)
{
	struct net *n = net_create(state, NULL);
	struct raw_client *r;
	struct xtel_dtls_server_stats st;

	set_mode(state);
	r = raw_client_new(n, "client-1.crt", "client-1.key",
			   SSL_OP_NO_EXTENDED_MASTER_SECRET, 0);
	raw_pump(n, r);
	st = stats(n);
	assert_failures(&st, XTEL_DTLS_FAILED_NO_EMS, 1);
	assert_int_equal(st.handshakes_started, 1);
	assert_int_equal(st.handshakes_ok, 0);
	assert_int_equal(st.bad_hello, 0);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	assert_int_equal(r->alerts_rx, 1);
	assert_int_equal(r->last_alert, SSL3_AL_FATAL << 8 |
			 SSL_AD_HANDSHAKE_FAILURE);
	assert_int_not_equal(r->hs_ret, 1);
	assert_int_equal(logs.lines, 1);
	raw_client_free(r);

	r = raw_client_new(n, "client-2.crt", "client-2.key", 0, 0);
	raw_pump(n, r);
	assert_int_equal(r->hs_ret, 1);
	assert_int_equal(SSL_get_extms_support(r->ssl), 1);
	assert_int_equal(xtel_dtls_server_peer(n->srv, &n->cl[1].addr.sa,
					       n->cl[1].addr_len, NULL), 0);
	st = stats(n);
	assert_int_equal(st.handshakes_ok, 1);
	assert_failures(&st, XTEL_DTLS_FAILED_NO_EMS, 1);
	raw_client_free(r);
	net_free(n);
}

/* The names of the reasons are the counters' without "failed_". */
static void test_fail_names(void **state)
{
	static const char *const names[] = {
		"unknown_ca", "expired", "no_cert", "revoked", "denied",
		"key_usage", "bad_cn", "no_ems", "other", "device",
	};

	(void)state;
	assert_int_equal(XTEL_DTLS_NFAILS, 10);
	for (unsigned int r = 0; r < XTEL_DTLS_NFAILS; r++) {
		char want[64];

		assert_string_equal(xtel_dtls_fail_name(r), names[r]);
		snprintf(want, sizeof(want), "failed_%s", names[r]);
		assert_string_equal(xtel_dtls_server_stat_names[
			xtel_dtls_fail_stat(r)], want);
	}
	assert_string_equal(xtel_dtls_fail_name(XTEL_DTLS_NFAILS), "unknown");
	assert_int_equal(xtel_dtls_fail_stat(XTEL_DTLS_FAILED_UNKNOWN_CA),
			 XTEL_DTLS_STAT_FAILED_UNKNOWN_CA);
	assert_int_equal(xtel_dtls_fail_stat(XTEL_DTLS_FAILED_OTHER),
			 XTEL_DTLS_STAT_FAILED_OTHER);
}

/*
 * The server gave up retransmitting its flight to a client that never
 * answers (13 timeouts): no certificate was involved, the reason is other.
 */
static int drop_to_server_after_hello(const struct pkt *p, unsigned int nth)
{
	return p->to < 0 && nth >= 2;
}

static void long_handshake(struct xtel_dtls_server_cfg *cfg)
{
	cfg->handshake_timeout = 3600 * NS;
}

static void test_fail_other_retransmits(void **state)
{
	struct net *n = net_create_mode(&mode_own, long_handshake);
	struct xtel_dtls_server_stats st;

	(void)state;
	add_client(n, 1);
	n->filter = drop_to_server_after_hello;
	pump(n);
	for (int i = 0; i < 20 && xtel_dtls_server_half_open(n->srv); i++) {
		advance(n, 61 * NS);
		n->nq = 0;	/* the client hears nothing either */
	}
	st = stats(n);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	assert_failures(&st, XTEL_DTLS_FAILED_OTHER, 1);
	assert_int_equal(st.handshake_timeout, 0);
	assert_int_equal(st.retransmits, 12);
	assert_non_null(strstr(logs.last, "read timeout expired"));
	net_free(n);
}

static void add_ext(X509 *x, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, nid, value);

	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/*
 * Write certdir/extra/<name>.crt: client-1's key, signed by the real CA,
 * subject CN given as raw bytes of ASN.1 string type `type`.
 */
static void make_cn_cert(const char *name, int type,
			 const unsigned char *cn, int cn_len)
{
	X509 *ca, *x;
	EVP_PKEY *ca_key, *key;
	X509_NAME *subj;
	ASN1_STRING *str;
	X509_NAME_ENTRY *ne;
	char path[600];
	FILE *f;

	f = fopen(cert("ca.crt"), "r");
	assert_non_null(f);
	ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(cert("ca.key"), "r");
	assert_non_null(f);
	ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(cert("client-1.key"), "r");
	assert_non_null(f);
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_true(ca != NULL && ca_key != NULL && key != NULL);

	x = X509_new();
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 4242), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(ca)), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	/* The bytes go in as they are, tagged with `type`. */
	str = ASN1_STRING_type_new(type);
	assert_non_null(str);
	assert_int_equal(ASN1_STRING_set(str, cn, cn_len), 1);
	ne = X509_NAME_ENTRY_create_by_NID(NULL, NID_commonName, type,
					   ASN1_STRING_get0_data(str), cn_len);
	assert_non_null(ne);
	subj = X509_NAME_new();
	assert_int_equal(X509_NAME_add_entry(subj, ne, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, subj), 1);
	/* A client certificate's usages, as certs/gen.sh gives them. */
	add_ext(x, NID_key_usage, "critical,digitalSignature");
	add_ext(x, NID_ext_key_usage, "clientAuth");
	assert_true(X509_sign(x, ca_key, EVP_sha256()) > 0);
	assert_int_equal(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(
		X509_get_subject_name(x), 0))->type, type);

	snprintf(path, sizeof(path), "%s/extra/%s.crt", certdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
	X509_NAME_free(subj);
	X509_NAME_ENTRY_free(ne);
	ASN1_STRING_free(str);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
}

/*
 * The CN is compared as text: a BMPString whose raw bytes spell
 * "client-1" is a different (CJK) string and refused, while "client-7"
 * properly encoded as BMPString (UCS-2) is client 7.
 */
static void test_cn_string_types(void **state)
{
	static const unsigned char ucs2[] = {
		0, 'c', 0, 'l', 0, 'i', 0, 'e', 0, 'n', 0, 't', 0, '-', 0, '7',
	};
	struct net *n;

	(void)state;
	make_cn_cert("client-bmp-raw", V_ASN1_BMPSTRING,
		     (const unsigned char *)"client-1", 8);
	expect_rejected("extra/client-bmp-raw.crt", "client-1.key",
			"CN is not client-", "alert", XTEL_DTLS_FAILED_BAD_CN);
	make_cn_cert("client-bmp-7", V_ASN1_BMPSTRING, ucs2, sizeof(ucs2));
	n = net_create_mode(&mode_own, NULL);
	add_client_ctx(n, n->cctx, "extra/client-bmp-7.crt", "client-1.key",
		       "198.18.0.1");
	pump(n);
	assert_established(n, 0, 7);
	net_free(n);
}

static void test_max_client_id(void **state)
{
	struct net *n = net_create(state, NULL);

	set_mode(state);
	add_client_ctx(n, n->cctx, "extra/client-max.crt", "extra/client-max.key",
		       "198.18.0.1");
	pump(n);
	assert_established(n, 0, 4294967295u);
	net_free(n);
}

static void test_load_errors(void **state)
{
	struct xtel_dtls_server_cfg cfg = base_cfg(NULL);
	struct xtel_dtls_server *srv = NULL;
	struct xtel_dtls_identity *id = NULL;
	struct xtel_dtls_client_ctx *cctx = NULL;
	const char *err = logs.last;	/* the last message logged */
	char garbage[512];
	FILE *f;

	set_mode(state);
	cfg.cert_file = cert("nope.crt");
	assert_int_equal(xtel_dtls_server_new(&srv, &cfg), -ENOENT);
	assert_non_null(strstr(err, "cannot read certificate"));
	assert_non_null(strstr(err, "nope.crt"));

	cfg = base_cfg(NULL);
	cfg.key_file = cert("nope.key");
	assert_int_equal(xtel_dtls_server_new(&srv, &cfg), -ENOENT);
	assert_non_null(strstr(err, "cannot read private key"));

	cfg = base_cfg(NULL);
	cfg.key_file = cert("client-1.key");
	assert_int_equal(xtel_dtls_server_new(&srv, &cfg),
			 -EKEYREJECTED);
	assert_non_null(strstr(err, "does not match"));

	cfg = base_cfg(NULL);
	cfg.ca_file = cert("nope-ca.crt");
	assert_int_equal(xtel_dtls_server_new(&srv, &cfg), -ENOENT);
	assert_non_null(strstr(err, "cannot read CA"));

	cfg = base_cfg(NULL);
	cfg.ca_file = cert("ca.key");	/* readable, but no certificate */
	assert_int_equal(xtel_dtls_server_new(&srv, &cfg), -ENOMSG);
	assert_non_null(strstr(err, "no usable certificate"));

	snprintf(garbage, sizeof(garbage), "%s/garbage.pem", certdir);
	f = fopen(garbage, "w");
	assert_non_null(f);
	fputs("not a certificate\n", f);
	fclose(f);
	cfg = base_cfg(NULL);
	cfg.cert_file = garbage;
	assert_int_equal(xtel_dtls_server_new(&srv, &cfg), -EBADMSG);
	cfg = base_cfg(NULL);
	cfg.key_file = garbage;
	assert_int_equal(xtel_dtls_server_new(&srv, &cfg), -EBADMSG);
	cfg = base_cfg(NULL);
	cfg.send = NULL;
	assert_int_equal(xtel_dtls_server_new(&srv, &cfg), -EINVAL);
	assert_null(srv);

	assert_int_equal(xtel_dtls_identity_load(&id, cert("client-1.crt"),
		cert("client-2.key")), -EKEYREJECTED);
	assert_null(id);
	assert_int_equal(xtel_dtls_client_ctx_new(&cctx, cert("nope-ca.crt"),
		NULL, NULL), -ENOENT);
	assert_int_equal(xtel_dtls_client_ctx_new(&cctx, cert("ca.crt"),
		cert("client-1.crt"), cert("server.key")),
		-EKEYREJECTED);
	assert_null(cctx);
	/* The ctx identity is used by clients made without their own. */
	assert_int_equal(xtel_dtls_client_ctx_new(&cctx, cert("ca.crt"),
		cert("client-3.crt"), cert("client-3.key")), 0);
	{
		struct net *n = net_create(state, NULL);
		struct tclient *t = &n->cl[n->ncl];

		client_addr(t, n->ncl++);
		assert_int_equal(xtel_dtls_client_new(&t->c, cctx, NULL, NULL, 4), 0);
		assert_int_equal(xtel_dtls_client_start(t->c, fake_now), 0);
		pump(n);
		assert_established(n, 0, 3);
		net_free(n);
	}
	xtel_dtls_client_ctx_free(cctx);
}

/*
 * The loader (one key decoder for many identities) loads what
 * xtel_dtls_identity_load does, with the same refusals, and a client using
 * such an identity completes its handshake.
 */
static void test_identity_loader(void **state)
{
	struct xtel_dtls_identity_loader *l = NULL;
	struct xtel_dtls_identity *a = NULL, *b = NULL;
	const char *err = logs.last;

	set_mode(state);
	assert_int_equal(xtel_dtls_identity_loader_new(&l), 0);
	for (int i = 1; i <= 3; i++) {
		char crt[32], key[32];

		snprintf(crt, sizeof(crt), "client-%d.crt", i);
		snprintf(key, sizeof(key), "client-%d.key", i);
		assert_int_equal(xtel_dtls_identity_load_with(l, &a, cert(crt), cert(key)), 0);
		assert_int_equal(xtel_dtls_identity_load(&b, cert(crt), cert(key)), 0);
		assert_int_equal(EVP_PKEY_eq(a->key, b->key), 1);
		assert_int_equal(X509_cmp(a->cert, b->cert), 0);
		xtel_dtls_identity_free(b);
		b = NULL;
		if (i < 3) {
			xtel_dtls_identity_free(a);
			a = NULL;
		}
	}
	assert_int_equal(xtel_dtls_identity_load_with(l, &b, cert("client-1.crt"),
		cert("client-2.key")), -EKEYREJECTED);
	assert_null(b);
	assert_int_equal(xtel_dtls_identity_load_with(l, &b, cert("client-1.crt"),
		cert("nope.key")), -ENOENT);
	assert_non_null(strstr(err, "cannot read private key"));
	assert_int_equal(xtel_dtls_identity_load_with(l, &b, cert("client-1.crt"),
		cert("client-1.crt")), -EBADMSG);
	assert_non_null(strstr(err, "not a PEM private key"));
	/* The decoder still works after a refusal. */
	assert_int_equal(xtel_dtls_identity_load_with(l, &b, cert("client-2.crt"),
		cert("client-2.key")), 0);
	xtel_dtls_identity_free(b);
	xtel_dtls_identity_loader_free(l);
	{
		struct net *n = net_create(state, NULL);
		struct tclient *t = &n->cl[n->ncl];

		client_addr(t, n->ncl++);
		assert_int_equal(xtel_dtls_client_new(&t->c, n->cctx, a, NULL, 4), 0);
		assert_int_equal(xtel_dtls_client_start(t->c, fake_now), 0);
		pump(n);
		assert_established(n, 0, 3);
		net_free(n);
	}
	xtel_dtls_identity_free(a);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reject_rogue_ca),
		cmocka_unit_test(test_reject_expired),
		cmocka_unit_test(test_reject_no_cert),
		cmocka_unit_test(test_reject_bad_cn),
		cmocka_unit_test(test_reject_server_cert_as_client),
		cmocka_unit_test(test_reject_key_usage),
		BOTH(test_require_ems),
		cmocka_unit_test(test_fail_names),
		cmocka_unit_test(test_fail_other_retransmits),
		cmocka_unit_test(test_max_client_id),
		cmocka_unit_test(test_cn_string_types),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_identity_loader),
	};

	return dtls_harness_main(argc, argv, "dtls_identity", tests);
}
