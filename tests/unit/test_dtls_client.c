// SPDX-License-Identifier: MIT
/*
 * Unit tests of the load generator's client (userspace/dtls/client.c):
 * it checks the server's certificate and name, retransmits its
 * ClientHello, survives a spoofed record too short to be authentic, and
 * takes the record layer over after the handshake: its records open on a
 * real server in every suite, its faults are counted there exactly, and
 * an abbreviated handshake whose Finished was lost still completes.
 *
 * usage: test_dtls_client SOURCE_ROOT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/internal.h"
#include "dtls_harness.h"
#include "wire/wire.h"

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

static struct xtel_dtls_client_stats cstats(struct xtel_dtls_client *c)
{
	struct xtel_dtls_client_stats cs;

	xtel_dtls_client_get_stats(c, &cs);
	return cs;
}

/* Record seq of client 1 sealed by c without its queue (xtel_dtls_client_seal). */
static struct pkt *seal_direct(struct xtel_dtls_client *c, uint64_t seq)
{
	struct pkt *p = calloc(1, sizeof(*p));
	unsigned char buf[XTEL_MAX_DATAGRAM];
	ssize_t len;

	assert_non_null(p);
	len = xtel_wire_encode(buf, sizeof(buf), XTEL_MSG_DATA, 1, seq, 0, "a=1", 3);
	assert_true(len > 0);
	/* One byte short of the record: refused, no record number taken. */
	assert_int_equal(xtel_dtls_client_seal(c, buf, (size_t)len, p->data,
		(size_t)len + XTEL_DTLS_HDR_LEN + DTLS_AEAD_TAG - 1), -EMSGSIZE);
	len = xtel_dtls_client_seal(c, buf, (size_t)len, p->data, sizeof(p->data));
	assert_true(len > 0);
	p->len = (size_t)len;
	return p;
}

/* The server's counters that faults move, since base. */
static void assert_counted(struct net *n, struct xtel_dtls_server_stats *base,
			   uint64_t rx, uint64_t bad, uint64_t replay)
{
	struct xtel_dtls_server_stats st = stats(n);

	assert_int_equal(st.records_rx - base->records_rx, rx);
	assert_int_equal(st.bad_record - base->bad_record, bad);
	assert_int_equal(st.replay - base->replay, replay);
	assert_int_equal(st.session_errors + st.close_notify_rx, 0);
	*base = st;
}

/*
 * In each suite, two established clients seal on their own layer, in
 * turn on this thread (one shared context, re-keyed at each change), by
 * write/pop and by seal: the server opens every record, numbered on from
 * the Finished; a replay, a flipped tag and a cut record are counted
 * exactly once each. A client of an openssl_records ctx keeps OpenSSL's
 * layer and writes records of the same size. The server's close_notify is
 * answered with ours.
 */
static void test_client_takes_over(void **state)
{
	(void)state;
	for (unsigned int k = 0; k < 3; k++) {
		struct mode m = { false, dtls_test_suites[k] };
		struct net *n = net_create_mode(&m, NULL);
		struct xtel_dtls_client_ctx *ssl_ctx;
		struct xtel_dtls_server_stats base;
		struct pkt *p[6], *q;
		unsigned char d[2 * XTEL_DGRAM_SLOT_SIZE];

		assert_int_equal(xtel_dtls_client_ctx_new(&ssl_ctx,
			cert("ca.crt"), NULL, NULL), 0);
		xtel_dtls_client_ctx_set_openssl_records(ssl_ctx, true);
		add_client(n, 1);
		add_client(n, 2);
		add_client_ctx(n, ssl_ctx, "client-3.crt", "client-3.key",
			       "198.18.0.1");
		pump(n);
		for (int i = 0; i < 3; i++)
			assert_established(n, i, (uint32_t)i + 1);
		assert_false(cstats(n->cl[0].c).openssl);
		assert_false(cstats(n->cl[1].c).openssl);
		assert_true(cstats(n->cl[2].c).openssl);

		/* Interleaved: each seal re-keys the thread's context. */
		for (uint64_t s = 1; s <= 4; s++) {
			send_record(n, 0, 1, s);
			send_record(n, 1, 2, s);
			send_record(n, 2, 3, s);
		}
		pump(n);
		assert_int_equal(n->delivered, 12);
		for (int id = 1; id <= 3; id++)
			for (int s = 1; s <= 4; s++)
				assert_int_equal(n->seen[id][s], 1);
		assert_int_equal(cstats(n->cl[0].c).records_tx, 4);

		base = stats(n);
		for (int i = 0; i < 6; i++)
			p[i] = i % 2 ? seal_direct(n->cl[0].c, 10 + (uint64_t)i) :
				       seal_record(n->cl[0].c, 10 + (uint64_t)i);
		/* After the Finished (record 0) and the 4 above: 5, 6, ... */
		for (int i = 0; i < 6; i++) {
			assert_int_equal(dtls_rec_epoch(p[i]->data), 1);
			assert_int_equal(dtls_rec_seq(p[i]->data), 5 + (uint64_t)i);
		}
		q = seal_record(n->cl[2].c, 10);
		assert_int_equal(q->len, p[0]->len);
		assert_memory_equal(q->data, p[0]->data, 5);	/* type, version, epoch */
		free(q);

		feed(n, 0, p[0]);
		feed(n, 0, p[1]);
		assert_counted(n, &base, 2, 0, 0);
		feed(n, 0, p[0]);				/* replayed */
		assert_counted(n, &base, 0, 0, 1);
		p[2]->data[p[2]->len - 1] ^= 0x40;		/* bad tag */
		feed(n, 0, p[2]);
		assert_counted(n, &base, 0, 1, 0);
		/* A good record, then one cut short, in one datagram. */
		memcpy(d, p[3]->data, p[3]->len);
		memcpy(d + p[3]->len, p[4]->data, p[4]->len - 5);
		feed_bytes(n, 0, d, p[3]->len + p[4]->len - 5);
		assert_counted(n, &base, 1, 1, 0);
		feed(n, 0, p[5]);
		assert_counted(n, &base, 1, 0, 0);
		assert_int_equal(cstats(n->cl[0].c).records_tx, 10);
		for (int i = 0; i < 6; i++)
			free(p[i]);

		/* The server's close_notify: ours back, on either layer. */
		xtel_dtls_server_shutdown(n->srv);
		pump(n);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(n->cl[i].last_input_ret, -ECONNRESET);
			assert_int_equal(xtel_dtls_client_state(n->cl[i].c),
					 XTEL_DTLS_CLIENT_CLOSED);
		}
		net_free(n);
		xtel_dtls_client_ctx_free(ssl_ctx);
	}
}

/* The resuming client's flight that completes the abbreviated handshake. */
static unsigned int resume_drop_nth;

static int drop_nth_to_server(const struct pkt *p, unsigned int nth)
{
	return p->to == -1 && nth == resume_drop_nth;
}

/*
 * A ticket from a taken-over client resumes; when its Finished (the last
 * flight, the client's) is lost, the server resends its flight and the
 * taken-over client answers with its flight again: the session is up.
 */
static void test_client_resumed_flight_lost(void **state)
{
	struct net *n = net_create(state, NULL);
	struct xtel_dtls_ticket *t;
	struct tclient *tc;
	unsigned int before;

	set_mode(state);
	add_client(n, 1);
	pump(n);
	assert_established(n, 0, 1);
	t = xtel_dtls_client_ticket(n->cl[0].c);
	assert_non_null(t);

	tc = &n->cl[n->ncl];
	client_addr(tc, n->ncl);
	assert_int_equal(xtel_dtls_identity_load(&tc->id, cert("client-1.crt"),
						 cert("client-1.key")), 0);
	assert_int_equal(xtel_dtls_client_new(&tc->c, n->cctx, tc->id,
					      "198.18.0.1", 0), 0);
	assert_int_equal(xtel_dtls_client_resume(tc->c, t), 0);
	n->ncl++;
	/* ClientHello, the one with the cookie, then CCS + Finished. */
	before = n->to_server;
	resume_drop_nth = before + 2;
	n->filter = drop_nth_to_server;
	assert_int_equal(xtel_dtls_client_start(tc->c, fake_now), 0);
	pump(n);
	assert_true(xtel_dtls_client_resumed(tc->c));
	assert_int_equal(xtel_dtls_client_state(tc->c),
			 XTEL_DTLS_CLIENT_ESTABLISHED);
	assert_false(cstats(tc->c).openssl);
	assert_int_equal(n->to_server - before, 3);
	assert_int_equal(stats(n).handshakes_resumed, 0);
	advance(n, 1 * NS);
	pump(n);
	assert_int_equal(cstats(tc->c).retransmits, 1);
	assert_int_equal(stats(n).handshakes_resumed, 1);
	assert_established(n, 1, 1);
	send_record(n, 1, 1, 1);
	pump(n);
	assert_int_equal(n->seen[1][1], 1);
	xtel_dtls_ticket_free(t);
	net_free(n);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_checks_server),
		cmocka_unit_test(test_retransmit_client_hello),
		cmocka_unit_test(test_client_short_record),
		cmocka_unit_test(test_client_takes_over),
		BOTH(test_client_resumed_flight_lost),
	};

	return dtls_harness_main(argc, argv, "dtls_client", tests);
}
