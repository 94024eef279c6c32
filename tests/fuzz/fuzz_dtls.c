// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness of the DTLS server input path (userspace/dtls/server.h):
 * a real xtel_dtls_server with the test certificates and the fake clock of
 * tests/lib/dtls_harness, fed datagrams from seven peers (three client
 * addresses, three strangers, and the IPv4-mapped IPv6 form of client 0's
 * address). Each input is a small program (the ops below): it first
 * completes 0..3 real handshakes, then seals real application records with
 * the clients' keys and mutates them, replays anything seen before from
 * any peer, sends raw bytes, restarts clients, runs stranger handshakes
 * with good, foreign or no certificates, loses flights, closes sessions
 * and moves the clock through retransmission, handshake and idle timeouts.
 *
 * What it asserts, after every datagram and every timer run:
 *   - xtel_dtls_server_input returns 0 for both families;
 *   - every count only grows; the gauges half_open and half_open_bytes
 *     follow the table (half_open_bytes is 0 with no handshake left);
 *   - a datagram shorter than a record header moves exactly `malformed`,
 *     one over XTEL_DGRAM_SLOT_SIZE exactly `oversize`; from a peer
 *     without a session, a non-handshake datagram moves exactly
 *     `unknown_peer`, and a handshake datagram exactly one listener outcome
 *     (bad_hello, cookie_sent, handshakes_started, half_open_full,
 *     sessions_full, half_open_source_full or cookie_replay; beside it
 *     only cookie_bad, half_open_evicted or handshake_failed may move,
 *     once);
 *   - on either record layer, a datagram to an established session
 *     whose first record is not of epoch 0 and not a handshake record
 *     (which may belong to a restart's handshake) moves a counter or
 *     makes the server answer. (The rest is not asserted: epoch-0 records
 *     there and half-open sessions drop some datagrams uncounted;
 *     FUZZ_SILENT=1 surveys them.)
 *   - authenticity: no more records are delivered (records_rx plus
 *     client_id_mismatch) than the datagram holds byte-exact copies of
 *     records sealed by a client and not certainly delivered before, so
 *     raw and mutated bytes are never delivered, and nothing twice;
 *   - a record sealed by an established client and fed unchanged from its
 *     own address is delivered exactly once, with the plaintext written
 *     (or counted as client_id_mismatch when its header names another id),
 *     and so is one sent twice in one datagram, unless the two copies make
 *     a datagram over XTEL_DGRAM_SLOT_SIZE, which delivers nothing;
 *   - every on_data names the fed peer, the session's client id, and
 *     (unless no_client_id_check) a header client_id equal to it;
 *     records_rx grows by the number of on_data calls;
 *   - every datagram the server sends goes to a peer it heard from, with
 *     the family's exact address length, and is at most XTEL_DTLS_MTU;
 *   - session up/down callbacks alternate per peer and the number of peers
 *     up is xtel_dtls_server_sessions(); after shutdown or free none is up;
 *   - the tables: half-open within max_half_open, all within max_sessions
 *     (one over while a restart's handshake runs beside the session it
 *     would replace, which the cap leaves out), every
 *     established session on the built-in record layer unless
 *     openssl_records or a counted fallback, next_timeout finite exactly
 *     when a session exists, and the session ledger
 *       handshakes_ok = sessions + close_notify_rx + session_errors
 *                       + sessions_expired + sessions_replaced
 *       handshakes_started >= handshakes_ok + handshake_failed
 *                       + restart_other_id + handshake_timeout
 *                       + half_open_evicted + half_open
 *     (>=: a restart's pending handshake superseded by a newer restart ends
 *     without a counter);
 *   - shutdown sends one close_notify per established session;
 *   - ASan: no memory error and no leak after the server is freed.
 *
 * Datagrams are up to 2048 bytes, the collector's receive buffer: one over
 * XTEL_DGRAM_SLOT_SIZE must move exactly `oversize`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "dtls_harness.h"
#include "fuzz.h"
#include "wire/wire.h"

#ifndef XTEL_SOURCE_ROOT
#define XTEL_SOURCE_ROOT "."
#endif

enum {
	NSLOT = 6,		/* endpoints with a client: 0..2 clients, 3..5 strangers */
	NPEER = 7,		/* + peer 6: client 0's address, IPv4-mapped IPv6 */
	NCLIENTS = 3,
	MAX_OPS = 48,
	QMAX = 256,		/* server -> client datagrams in flight */
	HIST = 48,		/* datagrams kept for replays */
	SEALED = 64,		/* records sealed by clients, for authenticity */
	FUZZ_MAX_DGRAM = 2048,	/* the collector's receive buffer */
	N_STATS = XTEL_DTLS_SERVER_NSTATS,
};

enum op {
	OP_RAW,			/* bytes from the input, from any peer */
	OP_SEAL,		/* a client seals a record, maybe mutated */
	OP_REPLAY,		/* a datagram seen before, maybe mutated, any peer */
	OP_HANDSHAKE,		/* a slot (re)starts a handshake, partly pumped */
	OP_PUMP,		/* move datagrams until quiet */
	OP_ADVANCE,		/* the clock moves; both ends' timers run */
	OP_CLOSE,		/* a client sends close_notify */
	OP_LOSE,		/* every datagram in flight, both ways, is lost */
	OP_MAX,
};

/* Certificates a stranger slot may present (NULL: none). */
static const char *const stranger_certs[][2] = {
	{ "client-4.crt", "client-4.key" },
	{ "client-5.crt", "client-5.key" },
	{ "extra/client-badcn-alpha.crt", "extra/client-badcn-alpha.key" },
	{ "bad/client-1-rogue.crt", "bad/client-1-rogue.key" },
	{ "bad/client-1-expired.crt", "bad/client-1-expired.key" },
	{ NULL, NULL },
};
#define N_STRANGER_CERTS (sizeof(stranger_certs) / sizeof(stranger_certs[0]))

struct qpkt {
	uint8_t slot;
	uint16_t len;
	unsigned char data[XTEL_DTLS_MTU];
};

struct hist {
	uint16_t len;
	unsigned char data[FUZZ_MAX_DGRAM];
};

struct sealed {
	uint16_t len;
	bool delivered;		/* certainly delivered (or counted mismatch) */
	unsigned char data[XTEL_DTLS_MTU];
};

/* Everything of one input; reset at its start. */
static struct run {
	struct xtel_dtls_server *srv;
	struct xtel_dtls_server_cfg cfg;
	struct tclient peer[NPEER];	/* addresses; .c is the slot's client */
	uint32_t slot_id[NSLOT];	/* client id its certificate names */
	uint64_t next_seq[NSLOT];
	bool fed[NPEER];		/* the server heard from this peer */
	bool up[NPEER];			/* on_session said up, not yet down */
	unsigned int n_up;
	unsigned int nq, q_lost;	/* in q[] */
	unsigned int nhist, hist_next;	/* in hist[] */
	unsigned int nsealed, sealed_next;	/* in sealed[] */
	unsigned int sent;		/* datagrams the server sent */
	/* the datagram being fed */
	int cur_peer;
	unsigned int on_data_calls;
	const unsigned char *want_plain;	/* the sealed op's plaintext */
	size_t want_plain_len;
	bool want_plain_seen;
} R;

/* Big, and reset by their counts in R: not cleared per input. */
static struct qpkt q_buf[QMAX];
static struct hist hist_buf[HIST];
static struct sealed sealed_buf[SEALED];

/* FUZZ_TRACE=1 in the environment: one line per op and datagram (stderr). */
static bool trace;
#define TRACE(...) do { if (trace) fprintf(stderr, __VA_ARGS__); } while (0)

/* Loaded once: the identities and the client context. */
static struct xtel_dtls_identity *client_ident[NCLIENTS];
static struct xtel_dtls_identity *stranger_ident[N_STRANGER_CERTS];
static struct xtel_dtls_client_ctx *cctx;

/* ---- peers ---- */

static void peers_init(void)
{
	struct sockaddr_in6 *m = &R.peer[6].addr.in6;

	for (int i = 0; i < NSLOT; i++)
		client_addr(&R.peer[i], i);
	/* ::ffff:198.18.1.1 port 40000: client 0 as a dual-stack socket sees it */
	memset(&R.peer[6].addr, 0, sizeof(R.peer[6].addr));
	m->sin6_family = AF_INET6;
	m->sin6_port = R.peer[0].addr.in.sin_port;
	m->sin6_addr.s6_addr[10] = 0xff;
	m->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&m->sin6_addr.s6_addr[12], &R.peer[0].addr.in.sin_addr, 4);
	R.peer[6].addr_len = sizeof(*m);
}

static int peer_index(const struct sockaddr *sa, socklen_t len)
{
	for (int i = 0; i < NPEER; i++)
		if (len == R.peer[i].addr_len &&
		    memcmp(sa, &R.peer[i].addr, len) == 0)
			return i;
	return -1;
}

/* ---- the server's callbacks ---- */

static void on_send(void *arg, const struct sockaddr *sa, socklen_t len,
		    const void *buf, size_t n)
{
	int p = peer_index(sa, len);
	struct qpkt *q;

	(void)arg;
	FUZZ_CHECK(p >= 0, "server sends to an address no peer has (len %u)",
		   (unsigned int)len);
	FUZZ_CHECK(R.fed[p], "server sends to peer %d it never heard from", p);
	FUZZ_CHECK(n > 0 && n <= XTEL_DTLS_MTU, "server datagram of %zu bytes", n);
	R.sent++;
	if (p >= NSLOT || R.peer[p].c == NULL)
		return;		/* nobody listens there */
	if (R.nq == QMAX) {
		R.q_lost++;
		return;
	}
	q = &q_buf[R.nq++];
	q->slot = (uint8_t)p;
	q->len = (uint16_t)n;
	memcpy(q->data, buf, n);
}

static void on_data(void *arg, uint32_t client_id, const struct sockaddr *sa,
		    socklen_t len, const void *pt, size_t n)
{
	uint32_t sess_id = 0;

	(void)arg;
	FUZZ_CHECK(R.cur_peer >= 0 && peer_index(sa, len) == R.cur_peer,
		   "record delivered for peer %d while feeding peer %d",
		   peer_index(sa, len), R.cur_peer);
	FUZZ_CHECK(xtel_dtls_server_peer(R.srv, sa, len, &sess_id) == 0 &&
		   sess_id == client_id,
		   "record for client %u, the peer's session is client %u",
		   client_id, sess_id);
	FUZZ_CHECK(n <= XTEL_DTLS_MAX_PLAINTEXT,
		   "plaintext of %zu bytes; no client can seal that", n);
	if (!R.cfg.no_client_id_check && n >= XTEL_WIRE_HDR_LEN) {
		const unsigned char *h = (const unsigned char *)pt + 8;
		uint32_t hdr = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
			       (uint32_t)h[2] << 8 | h[3];

		FUZZ_CHECK(hdr == client_id, "header client_id %u delivered "
			   "for client %u", hdr, client_id);
	}
	if (R.want_plain != NULL && n == R.want_plain_len &&
	    memcmp(pt, R.want_plain, n) == 0)
		R.want_plain_seen = true;
	R.on_data_calls++;
}

static void on_session(void *arg, const struct sockaddr *sa, socklen_t len,
		       uint32_t client_id, bool up)
{
	int p = peer_index(sa, len);

	(void)arg;
	FUZZ_CHECK(p >= 0, "session of an unknown peer");
	FUZZ_CHECK(client_id != 0, "session of client 0");
	if (up) {
		FUZZ_CHECK(!R.up[p], "peer %d up twice", p);
		R.up[p] = true;
		R.n_up++;
	} else {
		FUZZ_CHECK(R.up[p], "peer %d down without up", p);
		R.up[p] = false;
		R.n_up--;
	}
}

/* ---- invariants ---- */

static void get_stats(uint64_t st[N_STATS])
{
	struct xtel_dtls_server_stats s;

	xtel_dtls_server_get_stats(R.srv, &s);
	memcpy(st, &s, sizeof(s));
}

#define ST(a, name) ((a)[XTEL_DTLS_STAT_##name])

/*
 * Half-open handshakes a restart runs beside an established session (not
 * in the table, so no peer's lookup finds them): those the peers' lookups
 * do not show as in progress. Every address the server heard from is a
 * peer's.
 */
static unsigned int pending_restarts(unsigned int half)
{
	unsigned int in_table = 0;

	for (int p = 0; p < NPEER; p++)
		in_table += xtel_dtls_server_peer(R.srv, &R.peer[p].addr.sa,
						  R.peer[p].addr_len, NULL) ==
			    -EINPROGRESS;
	FUZZ_CHECK(in_table <= half, "%u handshakes in the table, %u half-open",
		   in_table, half);
	return half - in_table;
}

static void check_tables(const uint64_t before[N_STATS])
{
	uint64_t st[N_STATS];
	unsigned int sess = xtel_dtls_server_sessions(R.srv);
	unsigned int half = xtel_dtls_server_half_open(R.srv);
	unsigned int builtin = xtel_dtls_server_builtin_sessions(R.srv);
	uint64_t next = xtel_dtls_server_next_timeout(R.srv, fake_now);
	unsigned int pending;

	get_stats(st);
	for (int i = 0; i < N_STATS; i++)
		FUZZ_CHECK(xtel_dtls_server_stat_is_gauge(i) || st[i] >= before[i],
			   "%s went down", xtel_dtls_server_stat_names[i]);
	FUZZ_CHECK(ST(st, HALF_OPEN) == half, "gauge half_open %llu, %u half-open",
		   (unsigned long long)ST(st, HALF_OPEN), half);
	FUZZ_CHECK(half > 0 || ST(st, HALF_OPEN_BYTES) == 0,
		   "no half-open handshake, but half_open_bytes %llu",
		   (unsigned long long)ST(st, HALF_OPEN_BYTES));
	FUZZ_CHECK(sess == R.n_up, "%u sessions, %u peers up", sess, R.n_up);
	/*
	 * The session cap leaves out the session a restart replaces, so
	 * while restarts are pending the table holds one over it.
	 */
	pending = pending_restarts(half);
	FUZZ_CHECK(pending <= sess, "%u restarts pending beside %u sessions",
		   pending, sess);
	FUZZ_CHECK(half <= R.cfg.max_half_open &&
		   sess + half <= R.cfg.max_sessions + (pending ? 1 : 0),
		   "%u sessions + %u half-open (%u of them restarts) over the "
		   "caps", sess, half, pending);
	if (R.cfg.openssl_records)
		FUZZ_CHECK(builtin == 0, "%u built-in sessions", builtin);
	else if (ST(st, RECORD_LAYER_FALLBACK) == 0)
		FUZZ_CHECK(builtin == sess, "%u of %u sessions built-in",
			   builtin, sess);
	FUZZ_CHECK((next != UINT64_MAX) == (sess + half > 0),
		   "next_timeout %llu with %u sessions, %u half-open",
		   (unsigned long long)next, sess, half);
	FUZZ_CHECK(ST(st, HANDSHAKES_OK) == sess + ST(st, CLOSE_NOTIFY_RX) +
		   ST(st, SESSION_ERRORS) + ST(st, SESSIONS_EXPIRED) +
		   ST(st, SESSIONS_REPLACED),
		   "ledger: ok %llu != %u sessions + close %llu + errors %llu + "
		   "expired %llu + replaced %llu",
		   (unsigned long long)ST(st, HANDSHAKES_OK), sess,
		   (unsigned long long)ST(st, CLOSE_NOTIFY_RX),
		   (unsigned long long)ST(st, SESSION_ERRORS),
		   (unsigned long long)ST(st, SESSIONS_EXPIRED),
		   (unsigned long long)ST(st, SESSIONS_REPLACED));
	FUZZ_CHECK(ST(st, HANDSHAKES_STARTED) >= ST(st, HANDSHAKES_OK) +
		   ST(st, HANDSHAKE_FAILED) + ST(st, RESTART_OTHER_ID) +
		   ST(st, HANDSHAKE_TIMEOUT) + ST(st, HALF_OPEN_EVICTED) + half,
		   "ledger: started %llu < ok %llu + failed %llu + other id %llu "
		   "+ timeout %llu + evicted %llu + %u half-open",
		   (unsigned long long)ST(st, HANDSHAKES_STARTED),
		   (unsigned long long)ST(st, HANDSHAKES_OK),
		   (unsigned long long)ST(st, HANDSHAKE_FAILED),
		   (unsigned long long)ST(st, RESTART_OTHER_ID),
		   (unsigned long long)ST(st, HANDSHAKE_TIMEOUT),
		   (unsigned long long)ST(st, HALF_OPEN_EVICTED), half);
}

/* Only the counters in `allowed` moved, each by at most its bound. */
static void check_only(const uint64_t b[N_STATS], const uint64_t a[N_STATS],
		       const int *allowed, const uint64_t *bound, int n,
		       const char *what)
{
	for (int i = 0; i < N_STATS; i++) {
		uint64_t d = a[i] - b[i], max = 0;

		if (xtel_dtls_server_stat_is_gauge(i))
			continue;	/* follow the sessions: check_tables */
		for (int k = 0; k < n; k++)
			if (allowed[k] == i)
				max = bound[k];
		FUZZ_CHECK(d <= max, "%s: %s moved by %llu", what,
			   xtel_dtls_server_stat_names[i], (unsigned long long)d);
	}
}

/*
 * FUZZ_SILENT=1: at exit, how many datagrams moved no counter and made the
 * server send nothing, by record layer, the peer's state before and the
 * first record's type and epoch. Not an invariant (the API promises a counter only for
 * datagrams without a session), a survey of what passes unrecorded.
 */
enum { SIL_NONE, SIL_HALF_OPEN, SIL_ESTABLISHED, SIL_STATES };
static const char *const sil_state[SIL_STATES] = {
	"no session", "half-open", "established",
};
static uint64_t sil_total[2][SIL_STATES], sil[2][SIL_STATES][5][2];
static bool survey;

static void survey_print(void)
{
	static const char *const type[5] = { "ccs", "alert", "handshake",
					     "appdata", "other" };

	for (int l = 0; l < 2; l++) {
		for (int st = 0; st < SIL_STATES; st++) {
			fprintf(stderr, "fuzz_dtls: %s record layer, %s: %llu "
				"datagrams\n", l ? "OpenSSL's" : "built-in",
				sil_state[st],
				(unsigned long long)sil_total[l][st]);
			for (int t = 0; t < 5; t++)
				for (int e = 0; e < 2; e++)
					if (sil[l][st][t][e])
						fprintf(stderr, "  silent: %s, epoch %s: %llu\n",
							type[t], e ? "0" : "> 0",
							(unsigned long long)sil[l][st][t][e]);
		}
	}
}

static void survey_count(int state, const unsigned char *d, size_t len,
			 const uint64_t b[N_STATS], const uint64_t a[N_STATS],
			 unsigned int sent)
{
	int st = state == -ENOENT ? SIL_NONE :
		 state == -EINPROGRESS ? SIL_HALF_OPEN : SIL_ESTABLISHED;

	int l = R.cfg.openssl_records;

	sil_total[l][st]++;
	if (memcmp(a, b, N_STATS * sizeof(uint64_t)) != 0 || sent != R.sent ||
	    len < XTEL_DTLS_HDR_LEN)
		return;
	sil[l][st][d[0] >= 20 && d[0] <= 23 ? d[0] - 20 : 4]
	   [d[3] == 0 && d[4] == 0]++;
}

/* ---- feeding the server ---- */

static void remember(const unsigned char *d, size_t len)
{
	struct hist *h = &hist_buf[R.hist_next];

	h->len = (uint16_t)len;
	memcpy(h->data, d, len);
	R.hist_next = (R.hist_next + 1) % HIST;
	if (R.nhist < HIST)
		R.nhist++;
}

/*
 * Sealed records a datagram holds byte for byte (walking its record
 * headers), at most 8, each once: the only records anyone could deliver.
 */
static int candidates(const unsigned char *d, size_t len, int out[8])
{
	size_t off = 0;
	int n = 0;

	while (off + XTEL_DTLS_HDR_LEN <= len && n < 8) {
		size_t rl = XTEL_DTLS_HDR_LEN + ((size_t)d[off + 11] << 8 | d[off + 12]);

		if (off + rl > len)
			break;
		for (unsigned int s = 0; s < R.nsealed; s++) {
			bool dup = false;

			if (sealed_buf[s].len != rl ||
			    memcmp(sealed_buf[s].data, d + off, rl) != 0)
				continue;
			for (int k = 0; k < n; k++)
				dup |= out[k] == (int)s;
			if (!dup)
				out[n++] = (int)s;
			break;
		}
		off += rl;
	}
	return n;
}

/*
 * Hand one datagram to the server from peer p and check what it did.
 * Returns the records it delivered (records_rx + client_id_mismatch).
 */
static uint64_t srv_feed(int p, const unsigned char *d, size_t len)
{
	static const int listener[] = {
		XTEL_DTLS_STAT_BAD_HELLO, XTEL_DTLS_STAT_COOKIE_SENT,
		XTEL_DTLS_STAT_HANDSHAKES_STARTED, XTEL_DTLS_STAT_HALF_OPEN_FULL,
		XTEL_DTLS_STAT_SESSIONS_FULL, XTEL_DTLS_STAT_HALF_OPEN_SOURCE_FULL,
		XTEL_DTLS_STAT_COOKIE_REPLAY,
	};
	uint64_t b[N_STATS], a[N_STATS], delivered, outcomes = 0;
	unsigned int calls = R.on_data_calls, sent;
	int cand[8], ncand, fresh = 0, state;
	uint32_t id;
	int r;

	if (len > FUZZ_MAX_DGRAM)
		len = FUZZ_MAX_DGRAM;
	ncand = candidates(d, len, cand);
	for (int k = 0; k < ncand; k++)
		fresh += !sealed_buf[cand[k]].delivered;
	state = xtel_dtls_server_peer(R.srv, &R.peer[p].addr.sa,
				      R.peer[p].addr_len, &id);
	get_stats(b);
	sent = R.sent;
	R.fed[p] = true;
	R.cur_peer = p;
	r = xtel_dtls_server_input(R.srv, &R.peer[p].addr.sa, R.peer[p].addr_len,
				   d, len, fake_now);
	R.cur_peer = -1;
	FUZZ_CHECK(r == 0, "xtel_dtls_server_input returned %d", r);
	get_stats(a);
	remember(d, len);
	if (survey)
		survey_count(state, d, len, b, a, sent);

	delivered = ST(a, RECORDS_RX) - ST(b, RECORDS_RX) +
		    ST(a, CLIENT_ID_MISMATCH) - ST(b, CLIENT_ID_MISMATCH);
	FUZZ_CHECK(ST(a, RECORDS_RX) - ST(b, RECORDS_RX) == R.on_data_calls - calls,
		   "records_rx moved by %llu, on_data called %u times",
		   (unsigned long long)(ST(a, RECORDS_RX) - ST(b, RECORDS_RX)),
		   R.on_data_calls - calls);
	FUZZ_CHECK(delivered <= (uint64_t)fresh,
		   "%llu records delivered from a datagram of %zu bytes holding "
		   "%d sealed records not delivered before (peer %d)",
		   (unsigned long long)delivered, len, fresh, p);
	if (delivered > 0 && delivered == (uint64_t)ncand)
		for (int k = 0; k < ncand; k++)
			sealed_buf[cand[k]].delivered = true;

	if (len < XTEL_DTLS_HDR_LEN) {
		static const int only[] = { XTEL_DTLS_STAT_MALFORMED };
		static const uint64_t one[] = { 1 };

		FUZZ_CHECK(ST(a, MALFORMED) == ST(b, MALFORMED) + 1, "malformed");
		check_only(b, a, only, one, 1, "short datagram");
	} else if (len > XTEL_DGRAM_SLOT_SIZE) {
		static const int only[] = { XTEL_DTLS_STAT_OVERSIZE };
		static const uint64_t one[] = { 1 };

		FUZZ_CHECK(ST(a, OVERSIZE) == ST(b, OVERSIZE) + 1, "oversize");
		check_only(b, a, only, one, 1, "oversize datagram");
	} else if (state == -ENOENT && !(d[0] == XTEL_DTLS_CT_HANDSHAKE &&
					 d[3] == 0 && d[4] == 0)) {
		static const int only[] = { XTEL_DTLS_STAT_UNKNOWN_PEER };
		static const uint64_t one[] = { 1 };

		FUZZ_CHECK(ST(a, UNKNOWN_PEER) == ST(b, UNKNOWN_PEER) + 1,
			   "unknown_peer");
		check_only(b, a, only, one, 1, "datagram without a session");
	} else if (state == -ENOENT) {
		static const int also[] = {
			XTEL_DTLS_STAT_BAD_HELLO, XTEL_DTLS_STAT_COOKIE_SENT,
			XTEL_DTLS_STAT_HANDSHAKES_STARTED,
			XTEL_DTLS_STAT_HALF_OPEN_FULL, XTEL_DTLS_STAT_SESSIONS_FULL,
			XTEL_DTLS_STAT_HALF_OPEN_SOURCE_FULL,
			XTEL_DTLS_STAT_COOKIE_REPLAY,
			XTEL_DTLS_STAT_COOKIE_BAD, XTEL_DTLS_STAT_HALF_OPEN_EVICTED,
			XTEL_DTLS_STAT_HANDSHAKE_FAILED,
		};
		static const uint64_t ones[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };

		for (size_t k = 0; k < sizeof(listener) / sizeof(listener[0]); k++)
			outcomes += a[listener[k]] - b[listener[k]];
		FUZZ_CHECK(outcomes == 1, "handshake datagram without a session: "
			   "%llu listener outcomes", (unsigned long long)outcomes);
		check_only(b, a, also, ones, 10, "listener");
		FUZZ_CHECK(ST(a, HANDSHAKE_FAILED) == ST(b, HANDSHAKE_FAILED) ||
			   ST(a, HANDSHAKES_STARTED) > ST(b, HANDSHAKES_STARTED),
			   "a handshake failed that never started");
	}
	TRACE("  feed peer %d, %zu bytes, type %u: delivered %llu (fresh %d)\n",
	      p, len, len ? d[0] : 0, (unsigned long long)delivered, fresh);
	if (state == 0 && len >= XTEL_DTLS_HDR_LEN &&
	    (d[3] | d[4]) != 0 && d[0] != XTEL_DTLS_CT_HANDSHAKE &&
	    p < NSLOT && R.peer[p].c != NULL &&
	    xtel_dtls_client_state(R.peer[p].c) == XTEL_DTLS_CLIENT_ESTABLISHED)
		FUZZ_CHECK(memcmp(a, b, sizeof(a)) != 0 || R.sent != sent,
			   "%s record layer: a datagram of %zu bytes (type %u, "
			   "epoch %u) to an established session moved no "
			   "counter", R.cfg.openssl_records ? "OpenSSL's" :
			   "built-in", len, d[0], d[3] << 8 | d[4]);
	check_tables(b);
	return delivered;
}

/* ---- moving datagrams ---- */

static void client_flush(int s)
{
	unsigned char buf[XTEL_DGRAM_SLOT_SIZE];
	ssize_t n;

	if (R.peer[s].c == NULL)
		return;
	while ((n = xtel_dtls_client_pop(R.peer[s].c, buf, sizeof(buf))) > 0)
		srv_feed(s, buf, (size_t)n);
	FUZZ_CHECK(n == 0, "client pop %zd", n);
}

/* One round each way; returns datagrams moved. */
static unsigned int net_pump_round(void)
{
	unsigned int moved = 0, n;
	struct qpkt *batch;

	for (int s = 0; s < NSLOT; s++) {
		if (R.peer[s].c == NULL)
			continue;
		moved += xtel_dtls_client_queued(R.peer[s].c);
		client_flush(s);
	}
	/* The clients' answers queue behind this batch. */
	n = R.nq;
	if (n == 0)
		return moved;
	batch = malloc(n * sizeof(*batch));
	FUZZ_CHECK(batch != NULL, "out of memory");
	memcpy(batch, q_buf, n * sizeof(*batch));
	R.nq = 0;
	for (unsigned int k = 0; k < n; k++) {
		struct qpkt *q = &batch[k];

		if (R.peer[q->slot].c != NULL)
			xtel_dtls_client_input(R.peer[q->slot].c, q->data, q->len,
					       fake_now);
	}
	free(batch);
	return moved + n;
}

static void net_pump(unsigned int max_rounds)
{
	for (unsigned int i = 0; i < max_rounds && net_pump_round() > 0; i++)
		;
}

static void lose_all(void)
{
	unsigned char buf[XTEL_DGRAM_SLOT_SIZE];

	R.nq = 0;
	for (int s = 0; s < NSLOT; s++)
		while (R.peer[s].c != NULL &&
		       xtel_dtls_client_pop(R.peer[s].c, buf, sizeof(buf)) > 0)
			;
}

static void run_timers(void)
{
	uint64_t b[N_STATS];

	get_stats(b);
	xtel_dtls_server_timers(R.srv, fake_now);
	check_tables(b);
	for (int s = 0; s < NSLOT; s++)
		if (R.peer[s].c != NULL)
			xtel_dtls_client_timers(R.peer[s].c, fake_now);
}

/* ---- clients ---- */

static const struct xtel_dtls_identity *slot_identity(int s, unsigned int pick,
						      uint32_t *id)
{
	if (s < NCLIENTS) {
		*id = (uint32_t)s + 1;
		return client_ident[s];
	}
	pick %= N_STRANGER_CERTS;
	*id = pick < 2 ? 4 + pick : 0;	/* client-4, client-5, or not valid */
	return stranger_ident[pick];
}

/* (Re)start slot s's client: a new client object on the same address. */
static void slot_start(int s, unsigned int pick)
{
	const struct xtel_dtls_identity *id = slot_identity(s, pick, &R.slot_id[s]);
	int r;

	xtel_dtls_client_free(R.peer[s].c);
	R.peer[s].c = NULL;
	r = xtel_dtls_client_new(&R.peer[s].c, cctx, id, "198.18.0.1", 0);
	FUZZ_CHECK(r == 0, "client_new %d", r);
	r = xtel_dtls_client_start(R.peer[s].c, fake_now);
	FUZZ_CHECK(r == 0, "client_start %d", r);
}

static bool established(int s)
{
	uint32_t id = 0;

	return R.peer[s].c != NULL &&
	       xtel_dtls_client_state(R.peer[s].c) == XTEL_DTLS_CLIENT_ESTABLISHED &&
	       xtel_dtls_server_peer(R.srv, &R.peer[s].addr.sa,
				     R.peer[s].addr_len, &id) == 0 &&
	       id == R.slot_id[s];
}

/* ---- mutations ---- */

/*
 * Up to 4 edits of a datagram: flip or set a byte, cut the datagram
 * short, or append a copy of itself (two records in one datagram: the
 * second is a replay of the first). Read from the input before the op
 * looks at any state, so that every op takes the same bytes whatever
 * happens: a mutation of one op then never shifts the ops after it.
 */
struct edits {
	unsigned int n;
	struct {
		uint8_t kind, v;
		uint16_t off;
	} e[4];
};

static void read_edits(struct fuzz_in *in, struct edits *ed)
{
	ed->n = fuzz_u8(in) % 5;
	for (unsigned int i = 0; i < ed->n; i++) {
		ed->e[i].kind = fuzz_u8(in);
		ed->e[i].off = fuzz_u16(in);
		ed->e[i].v = fuzz_u8(in);
	}
}

/* Apply ed to d (len bytes, room for cap); returns the new length. */
static size_t apply_edits(const struct edits *ed, unsigned char *d, size_t len,
			  size_t cap)
{
	for (unsigned int i = 0; i < ed->n; i++) {
		uint16_t off = ed->e[i].off;
		uint8_t v = ed->e[i].v;

		switch (ed->e[i].kind % 4) {
		case 0:
			if (len)
				d[off % len] ^= v ? v : 1;
			break;
		case 1:
			if (len)
				d[off % len] = v;
			break;
		case 2:
			len = off % (len + 1);
			break;
		case 3:
			if (2 * len <= cap) {
				memmove(d + len, d, len);
				len *= 2;
			}
			break;
		}
	}
	return len;
}

/* Peer choice of an op: a byte, low bit clear means "its own address". */
static int pick_peer(struct fuzz_in *in, int own)
{
	uint8_t b = fuzz_u8(in);

	return b & 1 ? (b >> 1) % NPEER : own;
}

/* ---- the ops ---- */

static void op_raw(struct fuzz_in *in)
{
	int p = fuzz_u8(in) % NPEER;
	size_t want = fuzz_u16(in) % (FUZZ_MAX_DGRAM + 1);
	const uint8_t *bytes;
	size_t n = fuzz_bytes(in, want, &bytes);
	unsigned char *d = malloc(n ? n : 1);	/* exact size: ASan sees overreads */

	FUZZ_CHECK(d != NULL, "out of memory");
	memcpy(d, bytes, n);
	FUZZ_CHECK(srv_feed(p, d, n) == 0, "raw bytes were delivered");
	free(d);
}

static void op_seal(struct fuzz_in *in)
{
	int s = fuzz_u8(in) % NSLOT, p, r;
	uint8_t kind = fuzz_u8(in);
	unsigned char pt[XTEL_DTLS_MAX_PLAINTEXT], orig[XTEL_DTLS_MTU];
	unsigned char d[2 * XTEL_DTLS_MTU];
	const uint8_t *bytes = NULL;
	size_t plen = 0, len, olen;
	struct edits ed;
	ssize_t n;
	bool own, exact, doubled, mismatch;
	uint64_t got;

	/* kind 2: free-form plaintext from the input */
	if (kind % 3 == 2)
		plen = fuzz_bytes(in, 1 + fuzz_u16(in) % XTEL_DTLS_MAX_PLAINTEXT,
				  &bytes);
	read_edits(in, &ed);
	p = pick_peer(in, s);
	if (!established(s) || (kind % 3 == 2 && plen == 0))
		return;
	if (kind % 3 < 2) {
		/* a telemetry datagram; kind 1 names another client id */
		uint32_t id = R.slot_id[s] + (kind % 3 == 1 ? 1 : 0);
		char payload[32];
		int pl = snprintf(payload, sizeof(payload), "load=%u", kind);

		n = xtel_wire_encode(pt, sizeof(pt), XTEL_MSG_DATA, id,
				     R.next_seq[s]++, fake_now, payload, (size_t)pl);
		FUZZ_CHECK(n > 0, "encode");
		plen = (size_t)n;
	} else {
		memcpy(pt, bytes, plen);
	}
	client_flush(s);	/* the record is then the only datagram queued */
	r = xtel_dtls_client_write(R.peer[s].c, pt, plen);
	FUZZ_CHECK(r == 0, "client_write %d", r);
	n = xtel_dtls_client_pop(R.peer[s].c, orig, sizeof(orig));
	FUZZ_CHECK(n > 0 && xtel_dtls_client_queued(R.peer[s].c) == 0,
		   "one record per write (%zd)", n);
	olen = (size_t)n;

	sealed_buf[R.sealed_next].len = (uint16_t)olen;
	sealed_buf[R.sealed_next].delivered = false;
	memcpy(sealed_buf[R.sealed_next].data, orig, olen);
	R.sealed_next = (R.sealed_next + 1) % SEALED;
	if (R.nsealed < SEALED)
		R.nsealed++;

	memcpy(d, orig, olen);
	len = apply_edits(&ed, d, olen, sizeof(d));
	own = p == s;
	exact = len == olen && memcmp(d, orig, olen) == 0;
	doubled = len == 2 * olen && memcmp(d, orig, olen) == 0 &&
		  memcmp(d + olen, orig, olen) == 0;
	mismatch = !R.cfg.no_client_id_check && plen >= XTEL_WIRE_HDR_LEN &&
		   memcmp(pt + 8, (unsigned char[4]){
			   (unsigned char)(R.slot_id[s] >> 24),
			   (unsigned char)(R.slot_id[s] >> 16),
			   (unsigned char)(R.slot_id[s] >> 8),
			   (unsigned char)R.slot_id[s] }, 4) != 0;

	R.want_plain = pt;
	R.want_plain_len = plen;
	R.want_plain_seen = false;
	got = srv_feed(p, d, len);
	R.want_plain = NULL;
	if (own && (exact || doubled)) {
		/*
		 * Exactly once, the second copy of a doubled record being a
		 * replay; but none when the datagram is over a slot. A sealed
		 * record is at most 1337 bytes, so "as sealed" always fits,
		 * while one of more than XTEL_DGRAM_SLOT_SIZE / 2 bytes
		 * doubled (714 bytes of plaintext or more with AES-GCM, 722
		 * with ChaCha20-Poly1305) makes a datagram the server drops
		 * whole as oversize before any session sees it, which
		 * srv_feed has just checked (exactly `oversize` moved).
		 */
		uint64_t want = len <= XTEL_DGRAM_SLOT_SIZE ? 1 : 0;

		FUZZ_CHECK(got == want, "client %u's sealed record delivered %llu "
			   "times (%s, %zu bytes)", R.slot_id[s],
			   (unsigned long long)got,
			   doubled ? "doubled" : "as sealed", len);
		FUZZ_CHECK(R.want_plain_seen == (want && !mismatch),
			   "plaintext %sdelivered, client_id %s",
			   R.want_plain_seen ? "" : "not ",
			   mismatch ? "mismatch" : "matches");
	}
}

static void op_replay(struct fuzz_in *in)
{
	unsigned int k = fuzz_u8(in);
	unsigned char d[2 * FUZZ_MAX_DGRAM];
	struct edits ed;
	struct hist *h;
	size_t len;
	int own, p;

	read_edits(in, &ed);
	own = fuzz_u8(in) % NPEER;
	p = pick_peer(in, own);
	if (R.nhist == 0)
		return;
	h = &hist_buf[k % R.nhist];
	memcpy(d, h->data, h->len);
	len = apply_edits(&ed, d, h->len, sizeof(d));
	srv_feed(p, d, len);
}

static void op_handshake(struct fuzz_in *in)
{
	int s = fuzz_u8(in) % NSLOT;
	unsigned int pick = fuzz_u8(in), rounds = fuzz_u8(in) % 8;

	slot_start(s, pick);
	net_pump(rounds == 7 ? 16 : rounds);
}

static void op_advance(struct fuzz_in *in)
{
	/* through retransmission (1 s), handshake (1/5 s), idle (2/30 s) */
	static const uint64_t steps[] = {
		1 * MS, 50 * MS, 500 * MS, 1100 * MS, 2100 * MS, 5100 * MS,
		10100 * MS, 20100 * MS, 30100 * MS, 61 * NS,
	};

	fake_now += steps[fuzz_u8(in) % (sizeof(steps) / sizeof(steps[0]))];
	run_timers();
}

static void op_close(struct fuzz_in *in)
{
	int s = fuzz_u8(in) % NSLOT;

	if (R.peer[s].c == NULL)
		return;
	xtel_dtls_client_close(R.peer[s].c);
	client_flush(s);
}

/* ---- one input ---- */

static void server_new(uint8_t c0)
{
	static const char *const suites[4] = {
		"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
		"ECDHE-ECDSA-AES256-GCM-SHA384", NULL,
	};
	int r;

	/* The unit tests' server (tests/lib/dtls_harness.h), with our hooks. */
	R.cfg = base_cfg(NULL);
	R.cfg.openssl_records = c0 & 4;
	R.cfg.ciphers = suites[(c0 >> 3) & 3];
	R.cfg.no_client_id_check = c0 & 64;
	R.cfg.send = on_send;
	R.cfg.send_arg = NULL;
	R.cfg.on_data = on_data;
	R.cfg.data_arg = NULL;
	R.cfg.on_session = on_session;
	if (c0 & 32) {
		/* small tables: the caps and the eviction are reachable */
		R.cfg.max_sessions = 4;
		R.cfg.max_half_open = 2;
		R.cfg.max_half_open_per_source = 1;
	}
	if (c0 & 128) {
		R.cfg.idle_timeout = 2 * NS;
		R.cfg.handshake_timeout = 1 * NS;
		R.cfg.cookie_period = 1 * NS;
	}
	r = xtel_dtls_server_new(&R.srv, &R.cfg);
	FUZZ_CHECK(r == 0, "server_new %d: %s", r, logs.last);
}

static void run_free(bool shutdown)
{
	if (trace) {
		uint64_t st[N_STATS];

		get_stats(st);
		for (int i = 0; i < N_STATS; i++)
			if (st[i])
				TRACE("  %s %llu\n", xtel_dtls_server_stat_names[i],
				      (unsigned long long)st[i]);
	}
	if (shutdown) {
		uint64_t b[N_STATS], a[N_STATS];
		unsigned int sess = xtel_dtls_server_sessions(R.srv);

		get_stats(b);
		xtel_dtls_server_shutdown(R.srv);
		get_stats(a);
		FUZZ_CHECK(xtel_dtls_server_sessions(R.srv) == 0 &&
			   xtel_dtls_server_half_open(R.srv) == 0,
			   "sessions left after shutdown");
		FUZZ_CHECK(ST(a, CLOSE_NOTIFY_TX) - ST(b, CLOSE_NOTIFY_TX) == sess,
			   "shutdown of %u sessions sent %llu close_notify", sess,
			   (unsigned long long)(ST(a, CLOSE_NOTIFY_TX) -
						ST(b, CLOSE_NOTIFY_TX)));
		FUZZ_CHECK(R.n_up == 0, "%u peers up after shutdown", R.n_up);
	}
	xtel_dtls_server_free(R.srv);
	R.srv = NULL;
	FUZZ_CHECK(R.n_up == 0, "%u peers up after free", R.n_up);
	for (int s = 0; s < NSLOT; s++)
		xtel_dtls_client_free(R.peer[s].c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t c0 = fuzz_u8(&in), c1 = fuzz_u8(&in);
	unsigned int nclients = c0 & 3;

	memset(&R, 0, sizeof(R));
	R.cur_peer = -1;
	fake_now = 1000 * NS;
	peers_init();
	server_new(c0);

	/*
	 * The established sessions every op can use, one after the other so
	 * that the small tables' half-open cap does not refuse one.
	 */
	for (unsigned int s = 0; s < nclients; s++) {
		slot_start((int)s, 0);
		net_pump(32);
		FUZZ_CHECK(established((int)s),
			   "client %u: handshake did not complete (client %s: %s)",
			   s + 1, xtel_dtls_client_state_name(
				   xtel_dtls_client_state(R.peer[s].c)),
			   xtel_dtls_client_error(R.peer[s].c));
	}

	for (int i = 0; i < MAX_OPS && fuzz_left(&in); i++) {
		uint8_t op = fuzz_u8(&in) % OP_MAX;

		TRACE("op %d at %llu ms\n", op,
		      (unsigned long long)(fake_now / MS));
		switch (op) {
		case OP_RAW:
			op_raw(&in);
			break;
		case OP_SEAL:
			op_seal(&in);
			break;
		case OP_REPLAY:
			op_replay(&in);
			break;
		case OP_HANDSHAKE:
			op_handshake(&in);
			break;
		case OP_PUMP:
			net_pump(16);
			break;
		case OP_ADVANCE:
			op_advance(&in);
			break;
		case OP_CLOSE:
			op_close(&in);
			break;
		case OP_LOSE:
			lose_all();
			break;
		}
	}
	run_free(!(c1 & 1));
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *root = getenv("XTEL_SOURCE_ROOT");
	int r;

	(void)argc;
	(void)argv;
	if (root == NULL)
		root = XTEL_SOURCE_ROOT;
	trace = getenv("FUZZ_TRACE") != NULL;
	survey = getenv("FUZZ_SILENT") != NULL;
	if (survey)
		atexit(survey_print);
	if (dtls_harness_setup(root) != 0) {
		fprintf(stderr, "fuzz_dtls: cannot make certificates with %s/certs/gen.sh "
			"(set XTEL_SOURCE_ROOT to the source tree)\n", root);
		exit(1);
	}
	atexit(dtls_harness_cleanup);
	for (int i = 0; i < NCLIENTS; i++) {
		char crt[32], key[32];

		snprintf(crt, sizeof(crt), "client-%d.crt", i + 1);
		snprintf(key, sizeof(key), "client-%d.key", i + 1);
		r = xtel_dtls_identity_load(&client_ident[i], cert(crt), cert(key));
		FUZZ_CHECK(r == 0, "identity %s: %d %s", crt, r, logs.last);
	}
	for (size_t i = 0; i < N_STRANGER_CERTS; i++) {
		if (stranger_certs[i][0] == NULL)
			continue;
		r = xtel_dtls_identity_load(&stranger_ident[i],
					    cert(stranger_certs[i][0]),
					    cert(stranger_certs[i][1]));
		FUZZ_CHECK(r == 0, "identity %s: %d %s", stranger_certs[i][0], r,
			   logs.last);
	}
	r = xtel_dtls_client_ctx_new(&cctx, cert("ca.crt"), NULL, NULL);
	FUZZ_CHECK(r == 0, "client ctx %d %s", r, logs.last);
	return 0;
}
