// SPDX-License-Identifier: MIT
/*
 * Unit tests of the stateless cookies (userspace/dtls/cookie.c): nothing
 * is stored before a valid cookie, a cookie binds address, port, time and
 * the ClientHello's random, and a failing RAND_bytes never makes the
 * secret a constant.
 *
 * usage: test_dtls_cookie SOURCE_ROOT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_harness.h"

#include <openssl/rand.h>

/*
 * RAND_bytes, interposed (the executable comes first in symbol lookup) so
 * a test can make it fail: the server's cookie secrets come from it.
 * OpenSSL's own randomness goes through RAND_bytes_ex and its providers,
 * which stay untouched.
 */
static bool rand_fail;

int RAND_bytes(unsigned char *buf, int num)
{
	if (rand_fail)
		return 0;
	return RAND_bytes_ex(NULL, buf, (size_t)num, 0);
}

static int drop_all_to_client(const struct pkt *p, unsigned int nth)
{
	(void)nth;
	return p->to >= 0;
}

static void test_hello_without_cookie_leaves_no_state(void **state)
{
	struct net *n = net_create(state, NULL);
	struct xtel_dtls_server_stats st;
	struct pkt hello;
	unsigned char junk[40];

	set_mode(state);
	add_client(n, 1);
	/* Only the first ClientHello reaches the server; HVR goes nowhere. */
	n->filter = drop_all_to_client;
	pump(n);
	hello = n->last_to_server;
	st = stats(n);
	assert_int_equal(st.cookie_sent, 1);
	assert_int_equal(st.handshakes_started, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	assert_int_equal(xtel_dtls_server_peer(n->srv, &n->cl[0].addr.sa,
					       n->cl[0].addr_len, NULL), -ENOENT);
	assert_int_equal(xtel_dtls_server_next_timeout(n->srv, fake_now),
			 UINT64_MAX);

	/* The same hello again: another HVR, still nothing stored. */
	assert_int_equal(xtel_dtls_server_input(n->srv, &n->cl[0].addr.sa,
		n->cl[0].addr_len, hello.data, hello.len, fake_now), 0);
	assert_int_equal(stats(n).cookie_sent, 2);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);

	/* Junk: a "handshake" record too short to parse, and app data. */
	memset(junk, 0, sizeof(junk));
	junk[0] = 22;
	junk[1] = 0xfe;
	junk[2] = 0xfd;
	junk[12] = 27;
	assert_int_equal(xtel_dtls_server_input(n->srv, &n->cl[0].addr.sa,
		n->cl[0].addr_len, junk, sizeof(junk), fake_now), 0);
	junk[0] = 23;
	assert_int_equal(xtel_dtls_server_input(n->srv, &n->cl[0].addr.sa,
		n->cl[0].addr_len, junk, sizeof(junk), fake_now), 0);
	assert_int_equal(xtel_dtls_server_input(n->srv, &n->cl[0].addr.sa,
		n->cl[0].addr_len, junk, 5, fake_now), 0);
	st = stats(n);
	assert_int_equal(st.bad_hello, 1);
	assert_int_equal(st.unknown_peer, 1);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.cookie_sent, 2);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	net_free(n);
}

/* The cookie binds address, port and time. */
static void test_cookie_binding(void **state)
{
	struct net *n = net_create(state, NULL);
	struct xtel_dtls_server_stats st;
	struct pkt hello2;
	struct sockaddr_in other;

	set_mode(state);
	add_client(n, 1);
	/* Hello -> HVR -> Hello with cookie: capture the second hello. */
	{
		unsigned char buf[XTEL_DGRAM_SLOT_SIZE];
		ssize_t len = xtel_dtls_client_pop(n->cl[0].c, buf, sizeof(buf));

		assert_true(len > 0);
		xtel_dtls_server_input(n->srv, &n->cl[0].addr.sa,
				       n->cl[0].addr_len, buf, (size_t)len, fake_now);
		assert_int_equal(n->nq, 1);
		xtel_dtls_client_input(n->cl[0].c, n->q[0].data, n->q[0].len,
				       fake_now);
		n->nq = 0;
		len = xtel_dtls_client_pop(n->cl[0].c, hello2.data,
					   sizeof(hello2.data));
		assert_true(len > 0);
		hello2.len = (size_t)len;
	}
	/* From another port: bad cookie, answered by a fresh HVR. */
	other = n->cl[0].addr.in;
	other.sin_port = htons(5555);
	n->cl[1].addr.in = other;	/* so srv_send can route the HVR */
	n->cl[1].addr_len = sizeof(other);
	n->ncl = 2;
	assert_int_equal(xtel_dtls_client_new(&n->cl[1].c, n->cctx, NULL, NULL, 0), 0);
	xtel_dtls_server_input(n->srv, (struct sockaddr *)&other, sizeof(other),
			       hello2.data, hello2.len, fake_now);
	st = stats(n);
	assert_int_equal(st.cookie_bad, 1);
	assert_int_equal(st.cookie_sent, 2);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	n->nq = 0;

	/* Two cookie periods later the cookie has expired. */
	fake_now += 40 * NS;
	xtel_dtls_server_input(n->srv, &n->cl[0].addr.sa, n->cl[0].addr_len,
			       hello2.data, hello2.len, fake_now);
	st = stats(n);
	assert_int_equal(st.cookie_bad, 2);
	assert_int_equal(st.cookie_sent, 3);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	n->nq = 0;
	net_free(n);
}

/* Within the next period, the previous secret still verifies. */
static void test_cookie_previous_period(void **state)
{
	struct net *n = net_create(state, NULL);
	unsigned char buf[XTEL_DGRAM_SLOT_SIZE];
	ssize_t len;

	set_mode(state);
	add_client(n, 1);
	len = xtel_dtls_client_pop(n->cl[0].c, buf, sizeof(buf));
	xtel_dtls_server_input(n->srv, &n->cl[0].addr.sa, n->cl[0].addr_len,
			       buf, (size_t)len, fake_now);
	xtel_dtls_client_input(n->cl[0].c, n->q[0].data, n->q[0].len, fake_now);
	n->nq = 0;
	fake_now += 20 * NS;	/* exactly one period later */
	pump(n);
	assert_established(n, 0, 1);
	assert_int_equal(stats(n).cookie_bad, 0);
	net_free(n);
}

/*
 * RAND_bytes failing never makes the cookie secret a constant: before the
 * first secret exists no cookie is issued (handshakes are refused until it
 * recovers); later the current secret serves one more period.
 */
static void test_cookie_rand_failure(void **state)
{
	struct net *n = net_create(state, NULL);
	struct xtel_dtls_server_stats st;

	rand_fail = true;
	add_client(n, 1);
	pump(n);
	st = stats(n);
	assert_int_equal(st.cookie_rand_failed, 1);
	assert_int_equal(st.cookie_sent, 0);
	assert_int_equal(st.bad_hello, 1);
	assert_int_equal(st.handshakes_started, 0);
	assert_int_equal(logs.lines, 1);
	assert_non_null(strstr(logs.last, "refusing new handshakes"));

	/* RAND recovers: the client's retransmitted hello gets a cookie. */
	rand_fail = false;
	advance(n, 1 * NS);
	pump(n);
	assert_established(n, 0, 1);
	assert_int_equal(stats(n).cookie_sent, 1);

	/* Fails again at the next rotation: the old secret keeps serving. */
	rand_fail = true;
	advance(n, 20 * NS);
	assert_int_equal(stats(n).cookie_rand_failed, 2);
	assert_non_null(strstr(logs.last, "keeping the previous"));
	add_client(n, 2);
	pump(n);
	rand_fail = false;
	assert_established(n, 1, 2);
	st = stats(n);
	assert_int_equal(st.cookie_rand_failed, 2);	/* once per period */
	assert_int_equal(st.cookie_sent, 2);
	assert_int_equal(st.cookie_bad, 0);
	send_record(n, 0, 1, 1);
	send_record(n, 1, 2, 1);
	pump(n);
	assert_int_equal(n->delivered, 2);
	net_free(n);
}

static struct pkt captured_hello;

/* Keep a copy of the client's second datagram: its ClientHello with cookie. */
static int capture_cookie_hello(const struct pkt *p, unsigned int nth)
{
	if (p->to == -1 && nth == 1)
		captured_hello = *p;
	return 0;
}

/*
 * Someone who saw a client's ClientHello replays it from the client's
 * address within the cookie's lifetime, with a new random (a copy with the
 * same random is recognised as one). The cookie covers the random, so it
 * fails like any wrong cookie; the established session is untouched and
 * the client's next record is delivered.
 */
static void test_replayed_hello_keeps_session(void **state)
{
	struct net *n = net_create(state, NULL);
	struct xtel_dtls_server_stats st;
	enum { RANDOM_LAST = XTEL_DTLS_HDR_LEN + 12 + 2 + 31 };

	n->filter = capture_cookie_hello;
	add_client(n, 1);
	pump(n);
	n->filter = NULL;
	assert_established(n, 0, 1);
	assert_int_equal(captured_hello.data[0], 22);		/* handshake */
	assert_int_equal(captured_hello.data[XTEL_DTLS_HDR_LEN], 1); /* ClientHello */
	send_record(n, 0, 1, 1);
	pump(n);
	assert_int_equal(n->delivered, 1);

	/* 25 s later: the cookie is one period old, still within its life. */
	fake_now += 25 * NS;
	feed(n, 0, &captured_hello);		/* an exact copy: ignored */
	assert_int_equal(n->nq, 0);
	captured_hello.data[RANDOM_LAST] ^= 0x55;
	feed(n, 0, &captured_hello);
	st = stats(n);
	assert_int_equal(st.cookie_bad, 1);
	assert_int_equal(st.cookie_sent, 2);	/* a fresh HVR, to the client */
	assert_int_equal(st.handshakes_started, 1);
	assert_int_equal(st.sessions_replaced, 0);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
	pump(n);	/* the established client ignores that HVR */
	assert_int_equal(n->cl[0].last_input_ret, 0);

	send_record(n, 0, 1, 2);
	pump(n);
	assert_int_equal(n->delivered, 2);
	assert_int_equal(n->seen[1][2], 1);
	st = stats(n);
	assert_int_equal(st.sessions_replaced, 0);
	assert_int_equal(st.session_errors, 0);
	assert_int_equal(st.bad_record, 0);
	net_free(n);
}

/* Move the fake clock to the start of the next cookie period. */
static void align_to_period(uint64_t period)
{
	fake_now = (fake_now / period + 1) * period;
}

/*
 * A ClientHello whose cookie already started a handshake is a replay:
 * once that handshake is dead (here closed), a copy sent from the
 * client's address within the cookie's life (this period or the next)
 * must not start another one in the client's name. The client itself,
 * with a new random, still gets in.
 */
static void test_cookie_replay(void **state)
{
	struct net *n;
	struct xtel_dtls_server_stats st;

	align_to_period(20 * NS);	/* base_cfg's cookie_period */
	n = net_create(state, NULL);
	n->filter = capture_cookie_hello;
	add_client(n, 1);
	pump(n);
	n->filter = NULL;
	assert_established(n, 0, 1);
	assert_int_equal(xtel_dtls_client_close(n->cl[0].c), 0);
	pump(n);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);

	fake_now += 5 * NS;		/* the same period */
	feed(n, 0, &captured_hello);
	assert_int_equal(n->nq, 0);	/* nothing sent to the client */
	fake_now += 20 * NS;		/* the next one: the cookie still lives */
	feed(n, 0, &captured_hello);
	assert_int_equal(n->nq, 0);
	st = stats(n);
	assert_int_equal(st.cookie_replay, 2);
	assert_int_equal(st.handshakes_started, 1);
	assert_int_equal(st.cookie_bad, 0);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);

	fake_now += 20 * NS;		/* two periods on: expired */
	feed(n, 0, &captured_hello);
	st = stats(n);
	assert_int_equal(st.cookie_bad, 1);
	assert_int_equal(st.cookie_replay, 2);
	n->nq = 0;			/* the HelloVerifyRequest it got */

	/* The client starting over (a new random) is not a replay. */
	xtel_dtls_client_free(n->cl[0].c);
	assert_int_equal(xtel_dtls_client_new(&n->cl[0].c, n->cctx,
					      n->cl[0].id, NULL, 0), 0);
	assert_int_equal(xtel_dtls_client_start(n->cl[0].c, fake_now), 0);
	pump(n);
	assert_established(n, 0, 1);
	assert_int_equal(stats(n).handshakes_started, 2);
	assert_int_equal(stats(n).cookie_replay, 2);
	net_free(n);
}

static void default_cookie_period(struct xtel_dtls_server_cfg *cfg)
{
	cfg->cookie_period = 0;
}

static int drop_second_hello(const struct pkt *p, unsigned int nth)
{
	return p->to == -1 && nth == 1;
}

/*
 * The default cookie period is 10 s, so a cookie lives 10 to 20 s: enough
 * for a client's retransmissions (1 + 2 + 4 s) and short for a replay. A
 * ClientHello carrying a cookie issued two periods ago is a bad cookie
 * (with the former 30 s period it was still good for 30 to 60 s).
 */
static void test_cookie_period_default(void **state)
{
	struct net *n;
	struct xtel_dtls_server_stats st;

	align_to_period(10 * NS);
	n = net_create(state, default_cookie_period);
	n->filter = drop_second_hello;	/* the hello with the cookie */
	add_client(n, 1);
	pump(n);
	n->filter = NULL;
	captured_hello = n->last_to_server;
	assert_int_equal(stats(n).cookie_sent, 1);

	fake_now += 20 * NS;
	feed(n, 0, &captured_hello);
	st = stats(n);
	assert_int_equal(st.cookie_bad, 1);
	assert_int_equal(st.cookie_sent, 2);
	assert_int_equal(st.handshakes_started, 0);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	n->nq = 0;
	net_free(n);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_without_cookie_leaves_no_state),
		cmocka_unit_test(test_cookie_binding),
		cmocka_unit_test(test_cookie_previous_period),
		cmocka_unit_test(test_cookie_rand_failure),
		BOTH(test_replayed_hello_keeps_session),
		cmocka_unit_test(test_cookie_replay),
		cmocka_unit_test(test_cookie_period_default),
	};

	return dtls_harness_main(argc, argv, "dtls_cookie", tests);
}
