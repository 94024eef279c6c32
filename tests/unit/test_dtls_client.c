// SPDX-License-Identifier: MIT
/*
 * Unit tests of the load generator's client (userspace/dtls/client.c):
 * it checks the server's certificate and name, retransmits its
 * ClientHello, and survives a spoofed record too short to be authentic.
 *
 * usage: test_dtls_client SOURCE_ROOT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_harness.h"

static void test_client_checks_server(void **state)
{
	struct net *n = net_create(state, NULL);
	struct xtel_dtls_client_ctx *rogue;

	set_mode(state);
	/* Wrong name: the server's SAN lists 198.18.0.1, not .9. */
	add_client_ctx(n, n->cctx, "client-1.crt", "client-1.key", "198.18.0.9");
	pump(n);
	assert_int_equal(xtel_dtls_client_state(n->cl[0].c),
			 XTEL_DTLS_CLIENT_FAILED);
	assert_string_equal(xtel_dtls_client_error(n->cl[0].c),
			    "certificate verify failed (IP address mismatch)");

	/* A client trusting another CA refuses the server. */
	assert_int_equal(xtel_dtls_client_ctx_new(&rogue,
		cert("bad/rogue-ca.crt"), NULL, NULL), 0);
	add_client_ctx(n, rogue, "client-2.crt", "client-2.key", "localhost");
	pump(n);
	assert_int_equal(xtel_dtls_client_state(n->cl[1].c),
			 XTEL_DTLS_CLIENT_FAILED);
	assert_string_equal(xtel_dtls_client_error(n->cl[1].c),
		"certificate verify failed (unable to get local issuer certificate)");
	/*
	 * Each client's plaintext alert is refused (anyone could spoof one
	 * to end a handshake): the server lets the handshake time out.
	 */
	assert_int_equal(stats(n).hs_plain_alert, 2);
	assert_int_equal(stats(n).handshake_failed, 0);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 2);
	for (int i = 0; i < 5; i++)
		advance(n, 1 * NS), pump(n);
	assert_int_equal(stats(n).handshake_timeout, 2);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);
	net_free(n);
	xtel_dtls_client_ctx_free(rogue);
}

static int drop_first_to_server(const struct pkt *p, unsigned int nth)
{
	return p->to == -1 && nth == 0;
}

static void test_retransmit_client_hello(void **state)
{
	struct net *n = net_create(state, NULL);
	struct xtel_dtls_client_stats cs;

	set_mode(state);
	add_client(n, 1);
	n->filter = drop_first_to_server;
	pump(n);
	assert_int_equal(stats(n).cookie_sent, 0);
	assert_int_equal(xtel_dtls_client_next_timeout(n->cl[0].c),
			 fake_now + 1 * NS);
	advance(n, 1 * NS);
	pump(n);
	assert_established(n, 0, 1);
	xtel_dtls_client_get_stats(n->cl[0].c, &cs);
	assert_int_equal(cs.retransmits, 1);
	net_free(n);
}

/*
 * The load generator's client runs OpenSSL's record layer: a spoofed
 * epoch-1 record shorter than the AEAD overhead (from the server's
 * address) is dropped and counted instead of failing the client.
 */
static void test_client_short_record(void **state)
{
	(void)state;
	for (unsigned int k = 0; k < 2; k++) {
		struct mode m = { false, dtls_test_suites[k] };
		struct net *n = net_create_mode(&m, NULL);
		unsigned char rec[XTEL_DTLS_HDR_LEN + 23] = {
			23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 15,
		};
		struct xtel_dtls_client_stats cs;

		add_client(n, 1);
		pump(n);
		assert_established(n, 0, 1);
		for (size_t l = 0; l <= 23; l++) {
			rec[11] = 0;
			rec[12] = (unsigned char)l;
			/* From the overhead up OpenSSL sees it: a bad tag, dropped. */
			assert_int_equal(xtel_dtls_client_input(n->cl[0].c, rec,
				XTEL_DTLS_HDR_LEN + l, fake_now), 0);
			assert_int_equal(xtel_dtls_client_state(n->cl[0].c),
					 XTEL_DTLS_CLIENT_ESTABLISHED);
		}
		xtel_dtls_client_get_stats(n->cl[0].c, &cs);
		assert_int_equal(cs.bad_record, k == 0 ? 24 : 16);
		send_record(n, 0, 1, 1);
		pump(n);
		assert_int_equal(n->delivered, 1);
		/* Its OpenSSL still works: the server's close_notify ends it. */
		xtel_dtls_server_shutdown(n->srv);
		pump(n);
		assert_int_equal(n->cl[0].last_input_ret, -ECONNRESET);
		net_free(n);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_checks_server),
		cmocka_unit_test(test_retransmit_client_hello),
		cmocka_unit_test(test_client_short_record),
	};

	return dtls_harness_main(argc, argv, "dtls_client", tests);
}
