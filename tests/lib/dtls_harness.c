// SPDX-License-Identifier: MIT
/*
 * The DTLS test harness declared in dtls_harness.h: fake clock,
 * certificates, log capture, record-layer modes, and the in-memory network
 * between one server and its clients.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "dtls_harness.h"
#include "wire/wire.h"

/* ---- fake clock ---- */

uint64_t fake_now = 1000 * NS;
static uint64_t real_base;		/* wall clock at start, ns */

/*
 * OpenSSL 3.0 drives DTLS timers from gettimeofday(); defining it here
 * makes libssl's calls resolve to the fake clock (the executable comes
 * first in symbol lookup). Wall time keeps its real base so certificate
 * validity is unaffected (X509 uses time(), not this).
 */
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	uint64_t t = real_base + fake_now;

	(void)tz;
	tv->tv_sec = (time_t)(t / NS);
	tv->tv_usec = (suseconds_t)(t % NS / 1000);
	return 0;
}

/* ---- certificates ---- */

char certdir[256];
static char path_buf[8][512];
static unsigned int path_next;

const char *cert(const char *rel)
{
	char *p = path_buf[path_next++ % 8];

	snprintf(p, sizeof(path_buf[0]), "%s/%s", certdir, rel);
	return p;
}

const char *const dtls_test_suites[3] = {
	"ECDHE-ECDSA-AES128-GCM-SHA256",
	"ECDHE-ECDSA-CHACHA20-POLY1305",
	"ECDHE-ECDSA-AES256-GCM-SHA384",
};

/* ---- messages ---- */

struct dtls_logs logs;

static void log_capture(void *arg, enum xtel_log_level level, const char *msg)
{
	(void)arg;
	(void)level;
	logs.lines++;
	snprintf(logs.last, sizeof(logs.last), "%s", msg);
}

/* ---- record layers ---- */

struct mode mode_own = { false, NULL };
struct mode mode_ssl = { true, NULL };
struct mode cur_mode;
/* Servers built per record layer: [0] built-in, [1] OpenSSL's. */
static unsigned int mode_runs[2];
static unsigned int runs_before[2];	/* mode_runs when a BOTH() test began */
bool mode_exempt;

void set_mode(void **state)
{
	cur_mode = *state ? *(const struct mode *)*state : mode_own;
}

/*
 * A BOTH() test must build its servers in its prestate's mode only, and at
 * least one of them (a test skipped under ASan sets mode_exempt).
 */
int mode_setup(void **state)
{
	(void)state;
	runs_before[0] = mode_runs[0];
	runs_before[1] = mode_runs[1];
	mode_exempt = false;
	return 0;
}

int mode_teardown(void **state)
{
	const struct mode *m = *state;
	unsigned int want = m->openssl_records, other = !m->openssl_records;

	if (mode_runs[other] != runs_before[other]) {
		fprintf(stderr, "test built a server in the wrong mode\n");
		return -1;
	}
	if (!mode_exempt && mode_runs[want] == runs_before[want]) {
		fprintf(stderr, "test built no server in its mode\n");
		return -1;
	}
	return 0;
}

/* ---- the in-memory network ---- */

struct net *N;


static void srv_send(void *arg, const struct sockaddr *peer, socklen_t plen,
		     const void *buf, size_t len)
{
	struct net *n = arg;
	struct pkt *p;
	int to = -2;

	for (int i = 0; i < n->ncl; i++)
		if (n->cl[i].addr_len <= plen &&
		    memcmp(&n->cl[i].addr, peer, n->cl[i].addr_len) == 0)
			to = i;
	assert_true(to >= 0);
	/* The server must name peers by the family's exact size. */
	if (plen != n->cl[to].addr_len)
		n->send_bad_len++;
	assert_true(n->nq < MAX_PKTS);
	assert_true(len <= XTEL_DGRAM_SLOT_SIZE);
	p = &n->q[n->nq++];
	p->to = to;
	p->from = -1;
	p->len = len;
	memcpy(p->data, buf, len);
}

static void srv_data(void *arg, uint32_t client_id, const struct sockaddr *peer,
		     socklen_t plen, const void *pt, size_t len)
{
	struct net *n = arg;
	struct xtel_msg m;

	if (client_id == 0 || client_id > (uint32_t)n->ncl ||
	    plen != n->cl[client_id - 1].addr_len ||
	    memcmp(peer, &n->cl[client_id - 1].addr, plen) != 0)
		n->data_bad_peer++;
	n->last_id = client_id;
	n->delivered++;
	if (xtel_wire_decode(pt, len, &m) != XTEL_WIRE_OK) {
		n->decode_errors++;
		return;
	}
	assert_int_equal(m.client_id, client_id);
	if (client_id <= MAX_CLIENTS && m.seq <= K_RECORDS)
		n->seen[client_id][m.seq]++;
}

struct xtel_dtls_server_cfg base_cfg(struct net *n)
{
	struct xtel_dtls_server_cfg cfg = {
		.cert_file = cert("server.crt"),
		.key_file = cert("server.key"),
		.ca_file = cert("ca.crt"),
		.max_sessions = 64,
		.max_half_open = 16,
		/* Odd-numbered clients share 2001:2:0:1::/64. */
		.max_half_open_per_source = 16,
		.idle_timeout = 30 * NS,
		.handshake_timeout = 5 * NS,
		.cookie_period = 20 * NS,
		.send = srv_send,
		.send_arg = n,
		.on_data = srv_data,
		.data_arg = n,
		.openssl_records = cur_mode.openssl_records,
		.ciphers = cur_mode.ciphers,
	};
	return cfg;
}

/*
 * A server (base_cfg in mode m, then tweak) and a client ctx trusting the
 * real CA. The mode is an argument so a test cannot build its server in
 * the previous test's mode; pump() then checks every established session
 * really runs on the record layer the mode asks for.
 */
struct net *net_create_mode(const struct mode *m,
				   void (*tweak)(struct xtel_dtls_server_cfg *))
{
	struct net *n;
	struct xtel_dtls_server_cfg cfg;
	int r;

	cur_mode = *m;
	logs.lines = 0;
	n = calloc(1, sizeof(*n));
	assert_non_null(n);
	cfg = base_cfg(n);
	n->mode = *m;
	mode_runs[m->openssl_records]++;
	n->q = calloc(MAX_PKTS, sizeof(*n->q));
	assert_non_null(n->q);
	if (tweak)
		tweak(&cfg);
	r = xtel_dtls_server_new(&n->srv, &cfg);
	if (r)
		fail_msg("server: %d %s", r, logs.last);
	r = xtel_dtls_client_ctx_new(&n->cctx, cert("ca.crt"), NULL, NULL);
	if (r)
		fail_msg("client ctx: %d %s", r, logs.last);
	N = n;
	return n;
}

/* The server in the mode of the test's prestate (none: built-in). */
struct net *net_create(void **state,
			      void (*tweak)(struct xtel_dtls_server_cfg *))
{
	set_mode(state);
	return net_create_mode(&cur_mode, tweak);
}

void net_free(struct net *n)
{
	for (int i = 0; i < n->ncl; i++) {
		xtel_dtls_client_free(n->cl[i].c);
		xtel_dtls_identity_free(n->cl[i].id);
	}
	xtel_dtls_server_free(n->srv);
	xtel_dtls_client_ctx_free(n->cctx);
	free(n->q);
	free(n);
	N = NULL;
}

/* Client i's source address: even i IPv4 198.18.1.x, odd i IPv6. */
void client_addr(struct tclient *t, int i)
{
	memset(&t->addr, 0, sizeof(t->addr));
	if (i % 2 == 0) {
		t->addr.in.sin_family = AF_INET;
		t->addr.in.sin_port = htons((uint16_t)(40000 + i));
		inet_pton(AF_INET, "198.18.1.1", &t->addr.in.sin_addr);
		t->addr.in.sin_addr.s_addr = htonl(ntohl(t->addr.in.sin_addr.s_addr) + (uint32_t)i);
		t->addr_len = sizeof(t->addr.in);
	} else {
		char a[64];

		snprintf(a, sizeof(a), "2001:2:0:1::%x", i);
		t->addr.in6.sin6_family = AF_INET6;
		t->addr.in6.sin6_port = htons((uint16_t)(40000 + i));
		inet_pton(AF_INET6, a, &t->addr.in6.sin6_addr);
		t->addr_len = sizeof(t->addr.in6);
	}
}

/* Add a client with the given cert/key (relative to certdir); start it. */
int add_client_ctx(struct net *n, struct xtel_dtls_client_ctx *ctx,
			  const char *crt, const char *key,
			  const char *server_name)
{
	int i = n->ncl++;
	struct tclient *t = &n->cl[i];

	assert_true(i < MAX_CLIENTS);
	client_addr(t, i);
	if (crt != NULL) {
		int r = xtel_dtls_identity_load(&t->id, cert(crt), cert(key));

		if (r)
			fail_msg("identity %s: %d %s", crt, r, logs.last);
	}
	assert_int_equal(xtel_dtls_client_new(&t->c, ctx, t->id, server_name,
					      0), 0);
	assert_int_equal(xtel_dtls_client_state(t->c), XTEL_DTLS_CLIENT_IDLE);
	assert_int_equal(xtel_dtls_client_start(t->c, fake_now), 0);
	return i;
}

int add_client(struct net *n, int id)
{
	char crt[64], key[64];

	snprintf(crt, sizeof(crt), "client-%d.crt", id);
	snprintf(key, sizeof(key), "client-%d.key", id);
	return add_client_ctx(n, n->cctx, crt, key, "198.18.0.1");
}

void half_open(struct net *n, int i)
{
	const struct tclient *t = &n->cl[i];
	unsigned char buf[XTEL_DGRAM_SLOT_SIZE];
	struct xtel_dtls_client *c;
	ssize_t len;

	assert_true(i < n->ncl);
	assert_int_equal(xtel_dtls_client_new(&c, n->cctx, NULL, NULL, 0), 0);
	assert_int_equal(xtel_dtls_client_start(c, fake_now), 0);
	for (int step = 0; step < 2; step++) {
		len = xtel_dtls_client_pop(c, buf, sizeof(buf));
		assert_true(len > 0);
		n->nq = 0;
		assert_int_equal(xtel_dtls_server_input(n->srv, &t->addr.sa,
			t->addr_len, buf, (size_t)len, fake_now), 0);
		/* step 0: the HelloVerifyRequest; step 1: our flight */
		assert_true(n->nq >= 1);
		if (step == 0)
			xtel_dtls_client_input(c, n->q[0].data, n->q[0].len,
					       fake_now);
	}
	n->nq = 0;
	xtel_dtls_client_free(c);
}

/* Move datagrams until nothing moves. Returns datagrams moved. */
unsigned int pump(struct net *n)
{
	unsigned int moved = 0, rounds = 0;
	struct pkt *p = malloc(sizeof(*p));
	bool again = true;

	assert_non_null(p);
	while (again) {
		again = false;
		assert_true(++rounds < 1000);
		for (int i = 0; i < n->ncl; i++) {
			ssize_t len;

			while ((len = xtel_dtls_client_pop(n->cl[i].c, p->data,
							   sizeof(p->data))) > 0) {
				p->len = (size_t)len;
				p->to = -1;
				p->from = i;
				again = true;
				moved++;
				n->last_to_server = *p;
				if (n->filter && n->filter(p, n->to_server++))
					continue;
				if (n->wide_len) {
					struct sockaddr_storage ss;

					memset(&ss, 0xee, sizeof(ss));
					memcpy(&ss, &n->cl[i].addr, n->cl[i].addr_len);
					assert_int_equal(xtel_dtls_server_input(n->srv,
						(struct sockaddr *)&ss, n->wide_len,
						p->data, p->len, fake_now), 0);
					continue;
				}
				assert_int_equal(xtel_dtls_server_input(n->srv,
					&n->cl[i].addr.sa, n->cl[i].addr_len,
					p->data, p->len, fake_now), 0);
			}
			assert_true(len == 0);
		}
		for (int k = 0; k < n->nq; k++) {
			struct pkt *q = &n->q[k];

			again = true;
			moved++;
			if (n->filter && n->filter(q, n->to_client++))
				continue;
			n->cl[q->to].last_input_ret = xtel_dtls_client_input(
				n->cl[q->to].c, q->data, q->len, fake_now);
		}
		n->nq = 0;
	}
	free(p);
	/* Every established session runs on the record layer asked for. */
	assert_int_equal(xtel_dtls_server_builtin_sessions(n->srv),
			 n->mode.openssl_records ? 0 :
			 xtel_dtls_server_sessions(n->srv));
	return moved;
}

/* Advance the fake clock and run both ends' timers. */
void advance(struct net *n, uint64_t dt)
{
	fake_now += dt;
	xtel_dtls_server_timers(n->srv, fake_now);
	for (int i = 0; i < n->ncl; i++)
		xtel_dtls_client_timers(n->cl[i].c, fake_now);
}

struct xtel_dtls_server_stats stats(struct net *n)
{
	struct xtel_dtls_server_stats st;

	xtel_dtls_server_get_stats(n->srv, &st);
	return st;
}

void assert_failures(const struct xtel_dtls_server_stats *st,
		     enum xtel_dtls_fail reason, uint64_t want)
{
	const uint64_t *v = (const uint64_t *)st;

	for (unsigned int r = 0; r < XTEL_DTLS_NFAILS; r++)
		if (v[xtel_dtls_fail_stat(r)] != (r == reason ? want : 0))
			fail_msg("failed_%s = %llu, want %llu",
				 xtel_dtls_fail_name(r),
				 (unsigned long long)v[xtel_dtls_fail_stat(r)],
				 (unsigned long long)(r == reason ? want : 0));
	assert_int_equal(st->handshake_failed, want);
}

void send_record(struct net *n, int i, uint32_t id, uint64_t seq)
{
	unsigned char buf[XTEL_MAX_DATAGRAM];
	char payload[32];
	int plen = snprintf(payload, sizeof(payload), "load=%llu",
			    (unsigned long long)seq);
	ssize_t len = xtel_wire_encode(buf, sizeof(buf), XTEL_MSG_DATA, id, seq,
				       fake_now, payload, (size_t)plen);

	assert_true(len > 0);
	assert_int_equal(xtel_dtls_client_write(n->cl[i].c, buf, (size_t)len), 0);
}

void assert_established(struct net *n, int i, uint32_t id)
{
	uint32_t got = 0;

	assert_int_equal(xtel_dtls_client_state(n->cl[i].c),
			 XTEL_DTLS_CLIENT_ESTABLISHED);
	assert_int_equal(xtel_dtls_server_peer(n->srv, &n->cl[i].addr.sa,
					       n->cl[i].addr_len, &got), 0);
	assert_int_equal(got, id);
}

struct pkt *seal_record(struct xtel_dtls_client *c, uint64_t seq)
{
	struct pkt *p = calloc(1, sizeof(*p));
	unsigned char buf[XTEL_MAX_DATAGRAM];
	ssize_t len;

	assert_non_null(p);
	len = xtel_wire_encode(buf, sizeof(buf), XTEL_MSG_DATA, 1, seq, 0, "a=1", 3);
	assert_int_equal(xtel_dtls_client_write(c, buf, (size_t)len), 0);
	len = xtel_dtls_client_pop(c, p->data, sizeof(p->data));
	assert_true(len > 0);
	p->len = (size_t)len;
	return p;
}

struct pkt *capture_record(struct net *n, uint64_t seq)
{
	return seal_record(n->cl[0].c, seq);
}

void feed(struct net *n, int i, const struct pkt *p)
{
	assert_int_equal(xtel_dtls_server_input(n->srv, &n->cl[i].addr.sa,
		n->cl[i].addr_len, p->data, p->len, fake_now), 0);
}

void feed_bytes(struct net *n, int i, const void *d, size_t len)
{
	assert_int_equal(xtel_dtls_server_input(n->srv, &n->cl[i].addr.sa,
		n->cl[i].addr_len, d, len, fake_now), 0);
}

/* Drop every server datagram after the first (the HelloVerifyRequest). */
int drop_after_hvr(const struct pkt *p, unsigned int nth)
{
	return p->to >= 0 && nth >= 1;
}

/* ---- the program ---- */

static int run(const char *cmd)
{
	int r = system(cmd);

	if (r != 0)
		fprintf(stderr, "test_dtls: '%s' failed (%d)\n", cmd, r);
	return r;
}

static void remove_certs(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
	run(cmd);
}

/* Make the certificates. Returns 0 or the exit code for main. */
static int make_certs(const char *src_root)
{
	char cmd[2048], gen[512], fixture[512];

	snprintf(certdir, sizeof(certdir), "/tmp/xtel-test-dtls.XXXXXX");
	if (mkdtemp(certdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(gen, sizeof(gen), "%s/certs/gen.sh", src_root);
	snprintf(fixture, sizeof(fixture), "%s/tests/unit/dtls_certs_fixture.sh",
		 src_root);
	if (access(gen, X_OK) == 0) {
		snprintf(cmd, sizeof(cmd),
			 "'%s' '%s' 10 >/dev/null && bash '%s' --extras '%s'",
			 gen, certdir, fixture, certdir);
	} else {
		snprintf(cmd, sizeof(cmd), "bash '%s' '%s' 10", fixture, certdir);
	}
	if (run(cmd) != 0) {
		remove_certs();
		return 1;
	}
	return 0;
}

int dtls_harness_setup(const char *src_root)
{
	real_base = xtel_realtime_ns() - fake_now;
	if (make_certs(src_root) != 0)
		return 1;
	xtel_log_set_sink(log_capture, NULL);
	return 0;
}

void dtls_harness_cleanup(void)
{
	remove_certs();
}

int dtls_harness_run(int argc, char **argv, const char *group,
		     const struct CMUnitTest *tests, size_t n)
{
	int fails;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SOURCE_ROOT\n", argv[0]);
		return 2;
	}
	if (dtls_harness_setup(argv[1]) != 0)
		return 1;
	/* What cmocka_run_group_tests_name expands to, with n passed in. */
	fails = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	dtls_harness_cleanup();
	return fails;
}
