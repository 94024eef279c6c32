/* SPDX-License-Identifier: MIT */
/*
 * What a half-open handshake may hand OpenSSL. A peer that has proved its
 * address with a cookie, and nothing else, owns a half-open handshake, and
 * OpenSSL 3.0 keeps whatever such a peer sends for later: up to 100 records
 * of the next epoch, each with a whole 16.7 KiB read buffer, and fragments
 * of up to 10 future handshake messages allocated at their claimed length
 * (up to 100 KiB each). 3.9 KB sent made a handshake hold 1.9 MiB
 * (issue 10, tests/lib/dtls_attack.h). Every datagram of a half-open
 * handshake passes here first, record by record, and only what a client's
 * second flight can hold goes on:
 *
 *   epoch 0  ChangeCipherSpec; handshake fragments whose message is at most
 *            XTEL_DTLS_HS_MSG_MAX bytes and whose message_seq is at most
 *            that of the last message of the client's flight: the
 *            ClientHello with the cookie is message 1 (handshake.c admits no
 *            other), then come Certificate, ClientKeyExchange and
 *            CertificateVerify (2 to 4). Alerts are refused: not
 *            authenticated, a spoofed one would end the handshake; the
 *            handshake timeout ends one whose client gave up.
 *   epoch 1  handshake (the Finished) and alert records, only once OpenSSL
 *            reads epoch 1 (it has taken the client's ChangeCipherSpec), so
 *            none is ever buffered, at most HS_EPOCH1_MAX of them, and none
 *            shorter than the AEAD overhead (openssl/openssl#25290).
 *   else     refused: application data cannot come before the handshake
 *            completes, other types and epochs are never valid here.
 *
 * A datagram is cut at the first record refused: the records before it go
 * on, the refusal is counted once under its reason. When a datagram holds
 * the ChangeCipherSpec and then the Finished, it goes on in two steps (the
 * epoch-0 records, then the rest) so the Finished finds epoch 1 read.
 *
 * Memory: with these bounds OpenSSL holds, besides its state of a
 * handshake waiting for the client's flight (HALF_OPEN_BASE_BYTES), at most
 * one buffer per message of the flight, each at most XTEL_DTLS_HS_MSG_MAX
 * bytes plus an eighth for its reassembly bitmap. The estimate kept per
 * session (session.held, summed in the server's half_open_bytes) adds that
 * for every message a fragment claimed, whether or not OpenSSL needed the
 * buffer (a message that arrives whole and in order needs none): an upper
 * bound.
 */
#include <openssl/ssl.h>

#include "bpf/xtel_wire.h"
#include "dtls/server_internal.h"

enum {
	HS_HDR_LEN = 12,	/* msg_type, length, message_seq, offset, length */
	/* message_seq of the client's flight after its ClientHello (1). */
	HS_FLIGHT_FIRST = 2,
	HS_FLIGHT_LAST = HS_FLIGHT_FIRST + CLIENT_FLIGHT_MSGS - 1,
	/*
	 * Epoch-1 records per half-open handshake: a client sends one (its
	 * Finished) each time it sends its flight, and repeats the flight
	 * at most three times before the 10 s handshake timeout (after 1, 2
	 * and 4 s). OpenSSL decrypts them, it buffers none (see above). The
	 * cost: when a client's ChangeCipherSpec and Finished arrive in
	 * different datagrams, whoever can send from its address and port
	 * in between can use the four up, and that handshake times out.
	 */
	HS_EPOCH1_MAX = 4,
	/* OpenSSL's bookkeeping of one buffered message (hm_fragment, pitem). */
	HS_FRAG_OVERHEAD = 128,
};

static uint32_t be24(const unsigned char *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Bytes OpenSSL may hold for a message of msg_len bytes being reassembled. */
static uint32_t frag_cost(uint32_t msg_len)
{
	return msg_len + (msg_len + 7) / 8 + HS_FRAG_OVERHEAD;
}

/*
 * Whether OpenSSL reads epoch 1: it took the client's ChangeCipherSpec and
 * waits for its Finished (it never waits in a later state: the Finished
 * completes the handshake within the same call).
 */
static bool reads_epoch1(const struct session *s)
{
	return SSL_get_state(s->ssl) == TLS_ST_SR_CHANGE;
}

/*
 * The handshake fragments of an epoch-0 record body b of flen bytes.
 * Returns the statistic to count when one is refused, or NULL; the memory
 * OpenSSL may spend on them is added to s->held.
 */
static uint64_t *check_fragments(struct xtel_dtls_server *srv,
				 struct session *s, const unsigned char *b,
				 size_t flen)
{
	size_t off = 0;

	while (off < flen) {
		const unsigned char *f = b + off;
		uint32_t msg_len, frag_len;
		uint16_t seq;

		/* A record holds whole fragments (RFC 6347 4.2.3). */
		if (flen - off < HS_HDR_LEN)
			return &srv->st.bad_record;
		msg_len = be24(f + 1);
		seq = (uint16_t)(f[4] << 8 | f[5]);
		frag_len = be24(f + 9);
		if (frag_len > flen - off - HS_HDR_LEN)
			return &srv->st.bad_record;
		if (msg_len > XTEL_DTLS_HS_MSG_MAX)
			return &srv->st.hs_msg_too_long;
		if (seq > HS_FLIGHT_LAST)
			return &srv->st.hs_msg_seq_ahead;
		/* Earlier messages are copies OpenSSL drops unread. */
		if (seq >= HS_FLIGHT_FIRST) {
			uint16_t *c = &s->charged[seq - HS_FLIGHT_FIRST];

			if (msg_len > *c) {
				dtls_half_open_charge(srv, s, frag_cost(msg_len) -
						      (*c ? frag_cost(*c) : 0));
				*c = (uint16_t)msg_len;
			}
		}
		off += HS_HDR_LEN + frag_len;
	}
	return NULL;
}

/* An epoch-1 record r of flen bytes: the statistic refusing it, or NULL. */
static uint64_t *check_epoch1(struct xtel_dtls_server *srv, struct session *s,
			      const unsigned char *r, size_t flen)
{
	if (r[0] != XTEL_DTLS_CT_HANDSHAKE && r[0] != XTEL_DTLS_CT_ALERT)
		return &srv->st.hs_record_type;
	if (!reads_epoch1(s))
		return &srv->st.hs_epoch1_early;
	if (s->epoch1_rx >= HS_EPOCH1_MAX)
		return &srv->st.hs_epoch1_full;
	if (flen < dtls_ssl_record_overhead(s->ssl))
		return &srv->st.bad_record;
	s->epoch1_rx++;
	return NULL;
}

size_t dtls_prefilter(struct xtel_dtls_server *srv, struct session *s,
		      const unsigned char *d, size_t len, bool *more)
{
	size_t off = 0;

	*more = false;
	while (off < len) {
		const unsigned char *r = d + off;
		uint64_t *refuse = NULL;
		size_t flen;

		if (len - off < XTEL_DTLS_HDR_LEN ||
		    len - off - XTEL_DTLS_HDR_LEN < dtls_rec_len(r)) {
			srv->st.bad_record++;	/* truncated */
			return off;
		}
		flen = dtls_rec_len(r);
		switch (dtls_rec_epoch(r)) {
		case 0:
			if (r[0] == XTEL_DTLS_CT_HANDSHAKE)
				refuse = check_fragments(srv, s,
					r + XTEL_DTLS_HDR_LEN, flen);
			else if (r[0] == XTEL_DTLS_CT_ALERT)
				refuse = &srv->st.hs_plain_alert;
			else if (r[0] != XTEL_DTLS_CT_CCS)
				refuse = &srv->st.hs_record_type;
			break;
		case 1:
			/*
			 * Epoch-1 records after epoch-0 ones wait until
			 * OpenSSL has taken those (its ChangeCipherSpec).
			 */
			if (off > 0 && !reads_epoch1(s)) {
				*more = true;
				return off;
			}
			refuse = check_epoch1(srv, s, r, flen);
			break;
		default:
			refuse = &srv->st.bad_record;	/* no such epoch yet */
			break;
		}
		if (refuse != NULL) {
			(*refuse)++;
			return off;
		}
		off += XTEL_DTLS_HDR_LEN + flen;
	}
	return off;
}
