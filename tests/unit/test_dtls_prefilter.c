// SPDX-License-Identifier: MIT
/*
 * Unit tests of what a half-open handshake may hand OpenSSL
 * (userspace/dtls/prefilter.c, and the half-open accounting of peers.c):
 * the pre-authentication memory attacks of tests/lib/dtls_attack.h
 * replayed through the real server with the heap each half-open handshake
 * holds measured, every refusal counted under its reason, and real
 * clients' flights, whole, split or reordered, still passing.
 *
 * usage: test_dtls_prefilter SOURCE_ROOT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dtls_attack.h"
#include "dtls_harness.h"

enum {
	ATTACKED = 64,
	BASE = 44 * 1024,	/* HALF_OPEN_BASE_BYTES of the server */
	/*
	 * What the estimate adds for a message the pre-filter lets OpenSSL
	 * buffer: its length, its reassembly bitmap, 128 bytes of
	 * bookkeeping. The attack claims the longest allowed for each of the
	 * three messages of the client's flight.
	 */
	FRAG_COST = XTEL_DTLS_HS_MSG_MAX + XTEL_DTLS_HS_MSG_MAX / 8 + 128,
	ATTACK_HELD = BASE + 3 * FRAG_COST,
};

static void attack_cfg(struct xtel_dtls_server_cfg *cfg)
{
	cfg->max_sessions = 4 * ATTACKED;
	cfg->max_half_open = ATTACKED;
	cfg->max_half_open_per_source = ATTACKED;
}

/* Slot i at port `port` of its address opens a half-open handshake. */
static void half_open_port(struct net *n, int i, uint16_t port)
{
	n->cl[i].addr.in.sin_port = htons(port);
	half_open(n, i);
}

/* The whole attack of dtls_attack.h from slot i's address and port. */
static void attack(struct net *n, int i)
{
	unsigned char d[ATTACK_DGRAM_MAX];

	for (unsigned int k = 0; k < ATTACK_DGRAMS; k++)
		feed_bytes(n, i, d, attack_dgram(d, k));
}

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

/* Resident set size of the process, KiB. */
static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &pages, &rss), 2);
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/*
 * ATTACKED half-open handshakes from one IPv4 address, each sent the whole
 * attack (111 datagrams, 3.9 KB). Before the pre-filter OpenSSL made each
 * hold about 1.9 MiB. Now every datagram but the three fragments of the
 * client's flight is refused, each under its reason, and the bound is 16
 * KiB of heap per handshake on top of what a half-open handshake holds
 * anyway (OpenSSL's own ~44 KiB, measured here too): 64 KiB in all.
 * Issue 10's target for the bytes an attack adds was 32 KiB.
 */
static void test_half_open_memory_under_attack(void **state)
{
	struct net *n = net_create(state, attack_cfg);
	size_t before, opened, attacked, ended;
	struct xtel_dtls_server_stats st;
	long rss_before, rss_attacked, rss_ended;
	double idle, held;

	/* Warm up OpenSSL's lazily built tables outside the measurement. */
	add_client(n, 1);
	pump(n);
	assert_established(n, 0, 1);
	before = heap_in_use();
	rss_before = rss_kib();
	for (uint16_t p = 0; p < ATTACKED; p++)
		half_open_port(n, 0, (uint16_t)(20000 + p));
	opened = heap_in_use();
	st = stats(n);
	assert_int_equal(st.half_open, ATTACKED);
	assert_int_equal(st.half_open_bytes, ATTACKED * BASE);
	for (uint16_t p = 0; p < ATTACKED; p++) {
		n->cl[0].addr.in.sin_port = htons((uint16_t)(20000 + p));
		attack(n, 0);
	}
	attacked = heap_in_use();
	rss_attacked = rss_kib();
	idle = ((double)opened - (double)before) / ATTACKED;
	held = ((double)attacked - (double)before) / ATTACKED;
	printf("[   INFO   ] per half-open handshake: %.0f bytes idle, %.0f "
	       "under attack (%.0f added)\n", idle, held, held - idle);

	st = stats(n);
	assert_int_equal(st.half_open, ATTACKED);
	assert_int_equal(st.half_open_bytes, ATTACKED * ATTACK_HELD);
	/*
	 * Per handshake: seq 5 and 6 claim too much, seq 7-12 are past the
	 * flight; of the 100 epoch-1 records 67 are alerts or handshake
	 * records before the ChangeCipherSpec, 33 application data.
	 */
	assert_int_equal(st.hs_msg_too_long, ATTACKED * 2);
	assert_int_equal(st.hs_msg_seq_ahead, ATTACKED * 6);
	assert_int_equal(st.hs_epoch1_early, ATTACKED * 67);
	assert_int_equal(st.hs_record_type, ATTACKED * 33);
	assert_int_equal(st.hs_epoch1_full + st.hs_plain_alert + st.bad_record +
			 st.handshake_failed + st.unknown_peer, 0);
	assert_int_equal(n->nq, 0);		/* nothing answered */

	/*
	 * The attack ends: the handshakes time out and give it all back,
	 * to malloc, and (3.7 MiB being over 2 MiB) the heap is trimmed so
	 * the pages go back to the system.
	 */
	assert_int_equal(st.heap_trims, 0);
	advance(n, 5 * NS);
	st = stats(n);
	assert_int_equal(st.handshake_timeout, ATTACKED);
	assert_int_equal(st.half_open, 0);
	assert_int_equal(st.half_open_bytes, 0);
	assert_int_equal(st.heap_trims, 1);
	ended = heap_in_use();
	rss_ended = rss_kib();
	printf("[   INFO   ] after the timeout: %.0f bytes per handshake left; "
	       "RSS %ld KiB before, %ld attacked, %ld after\n",
	       ((double)ended - (double)before) / ATTACKED, rss_before,
	       rss_attacked, rss_ended);
	advance(n, 5 * NS);
	assert_int_equal(stats(n).heap_trims, 1);	/* once per 2 MiB */
#ifndef DTLS_UNDER_ASAN
	/* The estimate's base is what a half-open handshake really holds. */
	assert_true(idle > BASE * 0.9 && idle < BASE * 1.1);
	assert_true(held - idle <= 16 * 1024);
	assert_true(held <= 64 * 1024);
	assert_true(held <= ATTACK_HELD * 1.1);
	assert_true((double)ended - (double)before <= 1024.0 * ATTACKED);
	/* Most of the attack's resident pages went back. */
	assert_true(rss_ended - rss_before < (rss_attacked - rss_before) / 4);
#endif
	net_free(n);
}

static struct pkt flight;	/* the client's flight after our first */
static bool have_flight;

/* Hold the client's datagram that carries its Certificate (type 11). */
static int hold_flight(const struct pkt *p, unsigned int nth)
{
	(void)nth;
	if (p->to == -1 && !have_flight && p->data[0] == XTEL_DTLS_CT_HANDSHAKE &&
	    p->data[XTEL_DTLS_HDR_LEN] == HS_CERTIFICATE) {
		flight = *p;
		have_flight = true;
		return 1;
	}
	return 0;
}

/*
 * The held flight split where its epoch-1 records (the Finished) begin:
 * *a the records before, *b the rest.
 */
static void split_flight(struct pkt *a, struct pkt *b)
{
	size_t off = 0;

	while (off + XTEL_DTLS_HDR_LEN <= flight.len &&
	       !(flight.data[off + 3] == 0 && flight.data[off + 4] == 1))
		off += XTEL_DTLS_HDR_LEN + ((size_t)flight.data[off + 11] << 8 |
					    flight.data[off + 12]);
	assert_true(off > 0 && off < flight.len);
	*a = flight;
	a->len = off;
	*b = flight;
	memmove(b->data, flight.data + off, flight.len - off);
	b->len = flight.len - off;
}

static uint64_t refusals(const struct xtel_dtls_server_stats *st)
{
	return st->hs_msg_too_long + st->hs_msg_seq_ahead + st->hs_epoch1_early +
	       st->hs_epoch1_full + st->hs_record_type + st->hs_plain_alert +
	       st->bad_record;
}

/*
 * A real client's flight passes whole, and its longest message (the
 * Certificate, of a certs/gen.sh P-256 client) is far below the limit:
 * XTEL_DTLS_HS_MSG_MAX leaves room for eight of it.
 */
static void test_client_flight_passes(void **state)
{
	struct net *n = net_create(state, NULL);
	const unsigned char *h = flight.data + XTEL_DTLS_HDR_LEN;
	struct xtel_dtls_server_stats st;
	uint32_t cert_len;

	have_flight = false;
	add_client(n, 1);
	n->filter = hold_flight;
	pump(n);
	assert_true(have_flight);
	cert_len = (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	printf("[   INFO   ] client flight: %zu bytes, Certificate message "
	       "%u bytes\n", flight.len, cert_len);
	assert_true(8 * cert_len <= XTEL_DTLS_HS_MSG_MAX);
	n->filter = NULL;
	feed(n, 0, &flight);
	pump(n);
	assert_established(n, 0, 1);
	st = stats(n);
	assert_int_equal(refusals(&st), 0);
	assert_int_equal(st.half_open, 0);
	assert_int_equal(st.half_open_bytes, 0);
	net_free(n);
}

/*
 * The flight in two datagrams: the epoch-0 part (up to the
 * ChangeCipherSpec) then the Finished completes the handshake. In the
 * other order the Finished is refused, not buffered (OpenSSL reads epoch 0
 * still), and the client's retransmitted flight completes it.
 */
static void test_client_flight_split(void **state)
{
	struct net *n = net_create(state, NULL);
	struct pkt a, b;
	struct xtel_dtls_server_stats st;

	have_flight = false;
	add_client(n, 1);
	n->filter = hold_flight;
	pump(n);
	n->filter = NULL;
	split_flight(&a, &b);
	feed(n, 0, &a);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 1);
	feed(n, 0, &b);
	pump(n);
	assert_established(n, 0, 1);
	st = stats(n);
	assert_int_equal(refusals(&st), 0);

	/* Reordered: the Finished first. */
	have_flight = false;
	add_client(n, 2);
	n->filter = hold_flight;
	pump(n);
	n->filter = NULL;
	split_flight(&a, &b);
	feed(n, 1, &b);
	st = stats(n);
	assert_int_equal(st.hs_epoch1_early, 1);
	feed(n, 1, &a);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 1);
	advance(n, 1 * NS);		/* the client repeats its flight */
	pump(n);
	assert_established(n, 1, 2);
	st = stats(n);
	assert_int_equal(st.hs_epoch1_early, 1);
	assert_int_equal(refusals(&st), 1);
	net_free(n);
}

/*
 * Epoch-1 records once OpenSSL reads epoch 1 (it took the ChangeCipherSpec
 * and waits for the Finished): at most four reach it per handshake, and
 * none shorter than the AEAD overhead (24 bytes with AES-GCM), which
 * OpenSSL 3.0 would answer with a fatal error. Client 1 gets a short
 * record and three junk ones, then its Finished is the fourth and
 * completes; client 2 gets four junk ones, then the fifth record is
 * refused, and so is its Finished: the handshake times out.
 */
static void test_epoch1_records(void **state)
{
	struct net *n = net_create(state, NULL);
	unsigned char d[ATTACK_DGRAM_MAX];
	struct pkt a, b[2];
	struct xtel_dtls_server_stats st;

	for (int i = 0; i < 2; i++) {
		have_flight = false;
		add_client(n, i + 1);
		n->filter = hold_flight;
		pump(n);
		split_flight(&a, &b[i]);
		feed(n, i, &a);
	}
	n->filter = NULL;
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 2);

	feed_bytes(n, 0, d, attack_record(d, XTEL_DTLS_CT_HANDSHAKE, 1, 50,
					  NULL, 23));
	for (uint64_t seq = 51; seq < 54; seq++)
		feed_bytes(n, 0, d, attack_record(d, XTEL_DTLS_CT_HANDSHAKE, 1,
						  seq, NULL, 40));
	st = stats(n);
	assert_int_equal(st.bad_record, 1);
	assert_int_equal(st.hs_epoch1_full, 0);
	feed(n, 0, &b[0]);
	pump(n);
	assert_established(n, 0, 1);

	for (uint64_t seq = 50; seq < 55; seq++)
		feed_bytes(n, 1, d, attack_record(d, XTEL_DTLS_CT_ALERT, 1,
						  seq, NULL, 40));
	feed(n, 1, &b[1]);
	st = stats(n);
	assert_int_equal(st.hs_epoch1_full, 2);
	assert_int_equal(st.bad_record, 1);
	assert_int_equal(st.session_errors + st.handshake_failed, 0);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 1);
	xtel_dtls_client_close(n->cl[1].c);
	for (int i = 0; i < 5; i++)
		advance(n, 1 * NS);
	assert_int_equal(stats(n).handshake_timeout, 1);
	net_free(n);
}

/*
 * Anyone can send a plaintext alert from a client's address: one used to
 * end the client's half-open handshake. It is refused now, the handshake
 * completes, and one whose client really gave up times out.
 */
static void test_plain_alert_keeps_half_open(void **state)
{
	static const unsigned char fatal_bad_cert[2] = { 2, 42 };
	struct net *n = net_create(state, NULL);
	unsigned char d[ATTACK_DGRAM_MAX];
	struct xtel_dtls_server_stats st;

	add_client(n, 1);
	n->to_client = 0;
	n->filter = drop_after_hvr;
	pump(n);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 1);
	feed_bytes(n, 0, d, attack_record(d, XTEL_DTLS_CT_ALERT, 0, 7,
					  fatal_bad_cert, 2));
	st = stats(n);
	assert_int_equal(st.hs_plain_alert, 1);
	assert_int_equal(st.handshake_failed, 0);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 1);
	n->filter = NULL;
	advance(n, 1 * NS);		/* the server resends its flight */
	pump(n);
	assert_established(n, 0, 1);
	assert_int_equal(stats(n).hs_plain_alert, 1);
	net_free(n);
}

/*
 * The ClientHello with a cookie is message 1 (RFC 6347 4.2.2); with any
 * other number (the cookie does not cover it) no handshake starts: the
 * pre-filter's bounds assume OpenSSL waits for message 2 next.
 */
static void test_hello_seq_is_one(void **state)
{
	struct net *n = net_create(state, NULL);
	struct pkt hello;
	unsigned char buf[XTEL_DGRAM_SLOT_SIZE];
	ssize_t len;

	add_client(n, 1);
	len = xtel_dtls_client_pop(n->cl[0].c, buf, sizeof(buf));
	feed_bytes(n, 0, buf, (size_t)len);
	assert_int_equal(n->nq, 1);
	xtel_dtls_client_input(n->cl[0].c, n->q[0].data, n->q[0].len, fake_now);
	n->nq = 0;
	len = xtel_dtls_client_pop(n->cl[0].c, hello.data, sizeof(hello.data));
	hello.len = (size_t)len;
	assert_int_equal(hello.data[XTEL_DTLS_HDR_LEN + 5], 1);
	/* OpenSSL's listener takes 0 (it refuses 2 and above itself). */
	hello.data[XTEL_DTLS_HDR_LEN + 5] = 0;
	feed(n, 0, &hello);
	hello.data[XTEL_DTLS_HDR_LEN + 5] = 2;
	feed(n, 0, &hello);
	assert_int_equal(stats(n).bad_hello, 2);
	assert_int_equal(stats(n).handshakes_started, 0);
	assert_int_equal(xtel_dtls_server_half_open(n->srv), 0);
	hello.data[XTEL_DTLS_HDR_LEN + 5] = 1;
	feed(n, 0, &hello);
	pump(n);
	assert_established(n, 0, 1);
	net_free(n);
}

static void two_half_open(struct xtel_dtls_server_cfg *cfg)
{
	cfg->max_half_open = 2;
}

/*
 * With the half-open table full, the handshake to make room for is the
 * one holding the most memory among those whose client has not moved
 * them on for a second. Datagrams that OpenSSL only buffers or drops are
 * not a client moving on (they used to mark a handshake as answered,
 * so an attacked one was never evicted): here the attacked handshake goes,
 * though the other is older.
 */
static void test_evict_by_memory(void **state)
{
	struct net *n = net_create(state, two_half_open);
	struct xtel_dtls_server_stats st;

	/* Slots 1 and 2 lend their addresses only: their hellos go nowhere. */
	for (int i = 0; i < 2; i++) {
		unsigned char buf[XTEL_DGRAM_SLOT_SIZE];

		add_client(n, i + 1);
		while (xtel_dtls_client_pop(n->cl[i].c, buf, sizeof(buf)) > 0)
			;
	}
	add_client(n, 3);
	half_open(n, 0);		/* idle, the oldest */
	fake_now += 100 * MS;
	half_open(n, 1);
	attack(n, 1);
	st = stats(n);
	assert_int_equal(st.half_open_bytes, BASE + ATTACK_HELD);
	fake_now += 1 * NS;
	pump(n);			/* client 3's handshake needs room */
	assert_established(n, 2, 3);
	st = stats(n);
	assert_int_equal(st.half_open_evicted, 1);
	assert_int_equal(st.half_open_full, 0);
	assert_int_equal(xtel_dtls_server_peer(n->srv, &n->cl[0].addr.sa,
					       n->cl[0].addr_len, NULL),
			 -EINPROGRESS);
	assert_int_equal(xtel_dtls_server_peer(n->srv, &n->cl[1].addr.sa,
					       n->cl[1].addr_len, NULL),
			 -ENOENT);
	assert_int_equal(st.half_open, 1);
	assert_int_equal(st.half_open_bytes, BASE);
	net_free(n);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_half_open_memory_under_attack),
		cmocka_unit_test(test_client_flight_passes),
		cmocka_unit_test(test_client_flight_split),
		cmocka_unit_test(test_epoch1_records),
		cmocka_unit_test(test_plain_alert_keeps_half_open),
		cmocka_unit_test(test_hello_seq_is_one),
		cmocka_unit_test(test_evict_by_memory),
	};

	return dtls_harness_main(argc, argv, "dtls_prefilter", tests);
}
