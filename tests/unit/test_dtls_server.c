// SPDX-License-Identifier: MIT
/*
 * Unit tests of the server as a whole (userspace/dtls/server.c): the
 * statistics table, handshakes and exactly-once delivery for many
 * clients, retransmission of its flights, idle expiry, close_notify and
 * shutdown.
 *
 * usage: test_dtls_server SOURCE_ROOT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_attack.h"
#include "dtls_harness.h"
#include "dtls/internal.h"

/* The names table follows the struct field by field. */
static void test_stat_names(void **state)
{
#define F(x) { #x, offsetof(struct xtel_dtls_server_stats, x) }
	static const struct { const char *name; size_t off; } fields[] = {
		F(cookie_sent), F(cookie_bad), F(bad_hello), F(half_open_full),
		F(sessions_full), F(handshakes_started), F(handshakes_ok),
		F(handshake_failed), F(handshake_timeout), F(retransmits),
		F(unknown_peer), F(records_rx), F(bad_record), F(replay),
		F(client_id_mismatch), F(close_notify_rx), F(close_notify_tx),
		F(session_errors), F(sessions_expired), F(sessions_replaced),
		F(malformed), F(cookie_rand_failed), F(record_layer_fallback),
		F(half_open_source_full), F(half_open_evicted), F(oversize),
		F(restart_other_id), F(cookie_replay), F(hs_msg_too_long),
		F(hs_msg_seq_ahead), F(hs_epoch1_early), F(hs_epoch1_full),
		F(hs_record_type), F(hs_plain_alert), F(half_open),
		F(half_open_bytes), F(heap_trims),
		F(failed_unknown_ca), F(failed_expired), F(failed_no_cert),
		F(failed_revoked), F(failed_denied), F(failed_key_usage),
		F(failed_bad_cn), F(failed_no_ems), F(failed_other),
		F(failed_device),
		F(renegotiation_refused), F(sessions_revoked),
		F(sessions_untrusted),
		F(policy_updates), F(handshakes_resumed), F(ticket_unknown),
		F(ticket_refused),
		F(verify_cache_hits), F(verify_cache_misses),
		F(verify_cache_evictions),
		F(aead_ctx_hits), F(aead_ctx_rekeys),
		F(handshake_repeats), F(alerts_warning_rx),
	};
#undef F

	(void)state;
	assert_int_equal(sizeof(fields) / sizeof(fields[0]),
			 XTEL_DTLS_SERVER_NSTATS);
	for (unsigned int i = 0; i < XTEL_DTLS_SERVER_NSTATS; i++) {
		assert_int_equal(fields[i].off, i * sizeof(uint64_t));
		assert_string_equal(xtel_dtls_server_stat_names[i],
				    fields[i].name);
	}
}

/*
 * The releases whose SSL_free_buffers is fixed (CVE-2024-4741), branch by
 * branch, and the library this test runs with.
 */
static void test_openssl_version(void **state)
{
	static const struct { unsigned long v; bool ok; } cases[] = {
		{ 0x30000000ul, false },	/* 3.0.0 */
		{ 0x300000d0ul, false },	/* 3.0.13 */
		{ 0x300000e0ul, true },		/* 3.0.14 */
		{ 0x30000130ul, true },		/* 3.0.19 (Debian 12) */
		{ 0x30100000ul, false },	/* 3.1.0 */
		{ 0x30100050ul, false },	/* 3.1.5 */
		{ 0x30100060ul, true },		/* 3.1.6 */
		{ 0x30200010ul, false },	/* 3.2.1 */
		{ 0x30200020ul, true },		/* 3.2.2 */
		{ 0x30300000ul, false },	/* 3.3.0 */
		{ 0x30300010ul, true },		/* 3.3.1 */
		{ 0x30400000ul, true },		/* 3.4.0 */
		{ 0x30500000ul, true },		/* 3.5.0 */
		{ 0x40000000ul, true },		/* 4.0.0 */
		{ 0x101010bful, false },	/* 1.1.1k */
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (dtls_openssl_version_ok(cases[i].v) != cases[i].ok)
			fail_msg("0x%lx: want %d", cases[i].v, cases[i].ok);
	assert_true(dtls_openssl_version_ok(OpenSSL_version_num()));
	assert_true(OpenSSL_version_num() >= 0x300000e0ul);
}

/*
 * Only the three AEAD suites of the built-in record layer: a list that
 * enables any other is refused when the server is made, naming the suite,
 * instead of leaving its sessions on OpenSSL's record layer.
 */
static void test_cipher_config(void **state)
{
	static const struct { const char *list; int ret; const char *msg; } cases[] = {
		{ "ECDHE-ECDSA-AES128-GCM-SHA256", 0, NULL },
		{ "ECDHE-ECDSA-CHACHA20-POLY1305", 0, NULL },
		{ "ECDHE-ECDSA-AES256-GCM-SHA384", 0, NULL },
		{ "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:"
		  "ECDHE-ECDSA-AES256-GCM-SHA384", 0, NULL },
		{ "ECDHE-ECDSA-AES128-GCM-SHA256:!ECDHE-ECDSA-AES128-GCM-SHA256:"
		  "ECDHE-ECDSA-AES256-GCM-SHA384", 0, NULL },
		{ "ECDHE-ECDSA-AES128-SHA256", -ENOTSUP,
		  "enables ECDHE-ECDSA-AES128-SHA256: only" },
		{ "ECDHE-ECDSA-AES128-GCM-SHA256:AES128-SHA", -ENOTSUP,
		  "enables AES128-SHA: only" },
		{ "ECDHE-RSA-AES128-GCM-SHA256", -ENOTSUP,
		  "enables ECDHE-RSA-AES128-GCM-SHA256: only" },
		{ "DEFAULT", -ENOTSUP, "enables " },
		{ "no-such-suite", -EINVAL, "names no usable suite" },
	};
	struct xtel_dtls_server_cfg cfg;
	struct xtel_dtls_server *srv = NULL;

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		logs.last[0] = '\0';
		if (xtel_dtls_check_ciphers(cases[i].list) != cases[i].ret)
			fail_msg("'%s': want %d (%s)", cases[i].list,
				 cases[i].ret, logs.last);
		if (cases[i].msg != NULL &&
		    strstr(logs.last, cases[i].msg) == NULL)
			fail_msg("'%s': message '%s'", cases[i].list, logs.last);
	}
	/* The server refuses such a list when it is made. */
	cfg = base_cfg(NULL);
	cfg.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256";
	assert_int_equal(xtel_dtls_server_new(&srv, &cfg), -ENOTSUP);
	assert_null(srv);
	assert_non_null(strstr(logs.last, "cipher list 'ECDHE-ECDSA-AES128-GCM-"
			       "SHA256:ECDHE-ECDSA-AES128-SHA256' enables "
			       "ECDHE-ECDSA-AES128-SHA256: only "
			       "ECDHE-ECDSA-AES128-GCM-SHA256:"
			       "ECDHE-ECDSA-CHACHA20-POLY1305:"
			       "ECDHE-ECDSA-AES256-GCM-SHA384 are supported"));
	cfg.ciphers = "no-such-suite";
	assert_int_equal(xtel_dtls_server_new(&srv, &cfg), -EINVAL);
	assert_null(srv);
	for (unsigned int i = 0; i < 3; i++) {
		cfg.ciphers = dtls_test_suites[i];
		assert_int_equal(xtel_dtls_server_new(&srv, &cfg), 0);
		xtel_dtls_server_free(srv);
		srv = NULL;
	}
}

static void test_handshake_and_stats(void **state)
{
	struct net *n = net_create(state, NULL);
	struct xtel_dtls_server_stats st;
	struct xtel_dtls_client_stats cs;

	set_mode(state);
	add_client(n, 1);
	/* ClientHello goes out at start. */
	assert_int_equal(xtel_dtls_client_queued(n->cl[0].c), 1);
	pump(n);
	assert_established(n, 0, 1);
	st = stats(n);
	assert_int_equal(st.cookie_sent, 1);
	assert_int_equal(st.cookie_bad, 0);
	assert_int_equal(st.bad_hello, 0);
	assert_int_equal(st.handshakes_started, 1);
	assert_int_equal(st.handshakes_ok, 1);
	assert_int_equal(st.handshake_failed, 0);
	assert_int_equal(st.retransmits, 0);
	assert_int_equal(st.unknown_peer, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	assert_int_equal(logs.lines, 0);	/* no failure was reported */
	assert_string_equal(xtel_dtls_client_error(n->cl[0].c), "");
	/* No timer runs once established, except the idle timer. */
	assert_int_equal(xtel_dtls_client_next_timeout(n->cl[0].c), UINT64_MAX);
	assert_int_equal(xtel_dtls_server_next_timeout(n->srv, fake_now),
			 fake_now + 30 * NS);

	send_record(n, 0, 1, 1);
	pump(n);
	assert_int_equal(n->delivered, 1);
	assert_int_equal(n->last_id, 1);
	assert_int_equal(n->seen[1][1], 1);
	st = stats(n);
	assert_int_equal(st.records_rx, 1);
	xtel_dtls_client_get_stats(n->cl[0].c, &cs);
	assert_int_equal(cs.records_tx, 1);
	assert_int_equal(cs.retransmits, 0);
	assert_int_equal(cs.tx_dropped, 0);
	/* Every counter not named above stayed zero. */
	assert_int_equal(st.bad_record + st.replay + st.client_id_mismatch +
			 st.close_notify_rx + st.close_notify_tx +
			 st.session_errors + st.sessions_expired +
			 st.sessions_replaced + st.malformed +
			 st.half_open_full + st.sessions_full +
			 st.handshake_timeout, 0);
	net_free(n);
}

static void test_ten_clients_exactly_once(void **state)
{
	struct net *n = net_create(state, NULL);
	struct xtel_dtls_server_stats st;

	set_mode(state);
	for (int id = 1; id <= 10; id++)
		add_client(n, id);
	pump(n);
	for (int i = 0; i < 10; i++)
		assert_established(n, i, (uint32_t)i + 1);
	/* Interleave the clients' records, pumping every few writes. */
	for (uint64_t seq = 1; seq <= K_RECORDS; seq++) {
		for (int i = 0; i < 10; i++)
			send_record(n, i, (uint32_t)i + 1, seq);
		if (seq % 5 == 0)
			pump(n);
	}
	pump(n);
	assert_int_equal(n->delivered, 10 * K_RECORDS);
	assert_int_equal(n->decode_errors, 0);
	for (int id = 1; id <= 10; id++)
		for (int seq = 1; seq <= K_RECORDS; seq++)
			assert_int_equal(n->seen[id][seq], 1);
	st = stats(n);
	assert_int_equal(st.records_rx, 10 * K_RECORDS);
	assert_int_equal(st.handshakes_ok, 10);
	assert_int_equal(st.cookie_sent, 10);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 10);
	net_free(n);
}

static int drop_nth_to_client_2(const struct pkt *p, unsigned int nth)
{
	/* nth counts server->client datagrams: 0 is the HVR, 1 ServerHello. */
	return p->to >= 0 && nth == 1;
}

static void test_retransmit_server_flight(void **state)
{
	struct net *n = net_create(state, NULL);
	uint64_t t;

	set_mode(state);
	add_client(n, 1);
	n->filter = drop_nth_to_client_2;
	pump(n);
	assert_int_equal(xtel_dtls_client_state(n->cl[0].c),
			 XTEL_DTLS_CLIENT_HANDSHAKING);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 1);
	/* OpenSSL's initial timeout is 1 s. */
	t = xtel_dtls_server_next_timeout(n->srv, fake_now);
	assert_int_equal(t, fake_now + 1 * NS);
	/* Before the deadline nothing is re-sent. */
	fake_now += 500 * MS;
	xtel_dtls_server_timers(n->srv, fake_now);
	assert_int_equal(n->nq, 0);
	fake_now += 500 * MS;
	xtel_dtls_server_timers(n->srv, fake_now);
	assert_true(n->nq > 0);
	assert_int_equal(stats(n).retransmits, 1);
	pump(n);
	assert_established(n, 0, 1);
	assert_int_equal(stats(n).handshakes_ok, 1);
	net_free(n);
}

static void test_idle_expiry(void **state)
{
	struct net *n = net_create(state, NULL);
	uint64_t t0;

	set_mode(state);
	add_client(n, 1);
	pump(n);
	t0 = fake_now;
	fake_now += 10 * NS;
	send_record(n, 0, 1, 1);	/* activity pushes the deadline */
	pump(n);
	assert_int_equal(xtel_dtls_server_next_timeout(n->srv, fake_now),
			 t0 + 40 * NS);
	fake_now = t0 + 40 * NS - 1;
	xtel_dtls_server_timers(n->srv, fake_now);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
	fake_now += 1;
	xtel_dtls_server_timers(n->srv, fake_now);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);
	assert_int_equal(stats(n).sessions_expired, 1);
	assert_int_equal(stats(n).close_notify_tx, 1);
	/* The client learns it from the close_notify. */
	pump(n);
	assert_int_equal(n->cl[0].last_input_ret, -ECONNRESET);
	assert_int_equal(xtel_dtls_client_state(n->cl[0].c),
			 XTEL_DTLS_CLIENT_CLOSED);
	/* Its answering close_notify finds no session. */
	pump(n);
	assert_int_equal(stats(n).unknown_peer, 1);
	net_free(n);
}

static void test_close_notify(void **state)
{
	struct net *n = net_create(state, NULL);
	struct xtel_dtls_server_stats st;

	set_mode(state);
	add_client(n, 1);
	pump(n);
	assert_int_equal(xtel_dtls_client_close(n->cl[0].c), 0);
	assert_int_equal(xtel_dtls_client_state(n->cl[0].c),
			 XTEL_DTLS_CLIENT_CLOSED);
	assert_int_equal(xtel_dtls_client_write(n->cl[0].c, "x", 1), -ENOTCONN);
	pump(n);
	st = stats(n);
	assert_int_equal(st.close_notify_rx, 1);
	assert_int_equal(st.close_notify_tx, 1);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);
	assert_int_equal(xtel_dtls_server_peer(n->srv, &n->cl[0].addr.sa,
					       n->cl[0].addr_len, NULL), -ENOENT);
	net_free(n);
}

static void test_shutdown_sends_close_notify(void **state)
{
	struct net *n = net_create(state, NULL);

	set_mode(state);
	add_client(n, 1);
	add_client(n, 2);
	pump(n);
	xtel_dtls_server_shutdown(n->srv);
	assert_int_equal(stats(n).close_notify_tx, 2);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 0);
	pump(n);
	assert_int_equal(xtel_dtls_client_state(n->cl[0].c),
			 XTEL_DTLS_CLIENT_CLOSED);
	assert_int_equal(xtel_dtls_client_state(n->cl[1].c),
			 XTEL_DTLS_CLIENT_CLOSED);
	net_free(n);
}

/* Hold the server's flights to client 1; its HelloVerifyRequests pass. */
static int hold_flights_to_1(const struct pkt *p, unsigned int nth)
{
	(void)nth;
	return p->to == 1 && p->data[XTEL_DTLS_HDR_LEN] != 3;
}

/*
 * A datagram larger than a slot (XTEL_DGRAM_SLOT_SIZE, 1500 bytes) is
 * counted as oversize and dropped, whoever sends it: OpenSSL's record
 * layer used to end an established session or a handshake on one over its
 * 16.7 KiB read buffer, and the built-in layer counted one datagram as
 * hundreds of bad records. A datagram of exactly a slot is served.
 */
static void test_oversize_datagram(void **state)
{
	static const size_t sizes[2] = { XTEL_DGRAM_SLOT_SIZE + 1, 18000 };
	static unsigned char big[18000];
	struct net *n = net_create(state, NULL);
	struct xtel_dtls_server_stats st;
	struct pkt *p;

	set_mode(state);
	add_client(n, 1);		/* established */
	add_client(n, 2);		/* its handshake stays half-open */
	n->filter = hold_flights_to_1;
	pump(n);
	assert_established(n, 0, 1);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 1);

	/* One slot exactly: a record padded with a zero record to 1500 bytes. */
	p = capture_record(n, 1);
	memset(big, 0, sizeof(big));
	memcpy(big, p->data, p->len);
	attack_record(big + p->len, XTEL_DTLS_CT_APPDATA, 1, 99, NULL,
		      XTEL_DGRAM_SLOT_SIZE - p->len - XTEL_DTLS_HDR_LEN);
	feed_bytes(n, 0, big, XTEL_DGRAM_SLOT_SIZE);
	assert_int_equal(n->delivered, 1);
	free(p);

	for (int i = 0; i < 2; i++) {
		for (int c = 0; c < 2; c++) {
			p = capture_record(n, 2);	/* a valid record first */
			memset(big, 0, sizeof(big));
			memcpy(big, p->data, p->len);
			feed_bytes(n, c, big, sizes[i]);
			free(p);
		}
	}
	st = stats(n);
	assert_int_equal(st.oversize, 4);
	assert_int_equal(st.records_rx, 1);
	/*
	 * The zero record that filled the 1500 bytes: a bad record to the
	 * built-in layer; OpenSSL's drops it silently (not a single record).
	 */
	assert_int_equal(st.bad_record, 1);
	assert_int_equal(st.session_errors + st.handshake_failed +
			 st.malformed + st.unknown_peer, 0);
	assert_int_equal(xtel_dtls_server_sessions(n->srv), 1);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 1);

	/* Both carry on: a record is delivered, the handshake completes. */
	send_record(n, 0, 1, 3);
	n->filter = NULL;
	advance(n, 1 * NS);
	pump(n);
	assert_established(n, 1, 2);
	assert_int_equal(n->seen[1][3], 1);
	assert_int_equal(stats(n).oversize, 4);
	net_free(n);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_names),
		cmocka_unit_test(test_openssl_version),
		cmocka_unit_test(test_cipher_config),
		BOTH(test_handshake_and_stats),
		BOTH(test_ten_clients_exactly_once),
		cmocka_unit_test(test_retransmit_server_flight),
		BOTH(test_idle_expiry),
		BOTH(test_close_notify),
		BOTH(test_shutdown_sends_close_notify),
		BOTH(test_oversize_datagram),
	};

	return dtls_harness_main(argc, argv, "dtls_server", tests);
}
