/* SPDX-License-Identifier: MIT */
/*
 * Established sessions' datagrams, on either record layer. With OpenSSL's
 * (cfg.openssl_records, or a take-over that failed) SSL_read decrypts;
 * with the built-in one (record.c) this file walks the records itself:
 * decrypt application data of epoch 1, detect replays, answer a
 * retransmitted client Finished with our last flight, and send or receive
 * close_notify. Both keep the same replay window so a replay is counted as
 * one, and both deliver through the same client id check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "bpf/xtel_wire.h"
#include "dtls/server_internal.h"

enum {
	REPLAY_WINDOW = 64,
	ALERT_WARNING = 1,
	ALERT_FATAL = 2,
	ALERT_CLOSE_NOTIFY = 0,
	ALERT_DECODE_ERROR = 50,
	ALERT_ILLEGAL_PARAMETER = 47,
};

void dtls_record_info(const unsigned char *d, size_t len,
		      struct record_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	if (len < XTEL_DTLS_HDR_LEN)
		return;
	ri->single = XTEL_DTLS_HDR_LEN + dtls_rec_len(d) == len;
	dtls_record_hdr(d, ri);
}

static bool window_seen(const struct session *s, const struct record_info *ri)
{
	uint64_t diff;

	if (!s->win_valid || ri->epoch != s->win_epoch || ri->seq > s->win_top)
		return false;
	diff = s->win_top - ri->seq;
	return diff >= REPLAY_WINDOW || (s->win_bits >> diff) & 1;
}

static void window_mark(struct session *s, const struct record_info *ri)
{
	uint64_t shift;

	if (!s->win_valid || ri->epoch != s->win_epoch) {
		s->win_valid = true;
		s->win_epoch = ri->epoch;
		s->win_top = ri->seq;
		s->win_bits = 1;
		return;
	}
	if (ri->seq > s->win_top) {
		shift = ri->seq - s->win_top;
		s->win_bits = shift >= REPLAY_WINDOW ? 1 : s->win_bits << shift | 1;
		s->win_top = ri->seq;
	} else {
		s->win_bits |= 1ull << (s->win_top - ri->seq);
	}
}

static void deliver(struct xtel_dtls_server *srv, struct session *s,
		    size_t len)
{
	if (!srv->cfg.no_client_id_check && len >= XTEL_WIRE_HDR_LEN) {
		const unsigned char *p = srv->plain +
			offsetof(struct xtel_wire_hdr, client_id);
		uint32_t hdr_id = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
				  (uint32_t)p[2] << 8 | p[3];

		if (hdr_id != s->client_id) {
			srv->st.client_id_mismatch++;
			return;
		}
	}
	srv->st.records_rx++;
	if (srv->cfg.on_data)
		srv->cfg.on_data(srv->cfg.data_arg, s->client_id, &s->peer.sa,
				 s->peer_len, srv->plain, len);
}

/* An established session ended by an error: counted, logged, freed. */
static void session_error(struct xtel_dtls_server *srv, struct session *s,
			  const char *why)
{
	char peer[PEER_STR_LEN];

	srv->st.session_errors++;
	dtls_format_peer(&s->peer.sa, peer, sizeof(peer));
	dtls_srv_log(srv, "dtls: session with %s (client %u) ended: %s", peer,
		     s->client_id, why);
	dtls_session_free(srv, s);
}

/* The peer sent close_notify: answer with ours, end the session. */
static void peer_closed(struct xtel_dtls_server *srv, struct session *s)
{
	srv->st.close_notify_rx++;
	dtls_session_send_close(srv, s);
	dtls_session_free(srv, s);
}

/*
 * The next record of datagram d (len bytes) at *off, for both layers'
 * walks: its header into *ri, its fragment length into *flen, *off moved
 * past it. A record of another version is counted bad_record and skipped;
 * a truncated one is counted bad_record and ends the walk, as does the
 * datagram's end: NULL.
 */
static const unsigned char *next_record(struct xtel_dtls_server *srv,
					const unsigned char *d, size_t len,
					size_t *off, struct record_info *ri,
					size_t *flen)
{
	while (*off + XTEL_DTLS_HDR_LEN <= len) {
		const unsigned char *r = d + *off;

		*flen = dtls_rec_len(r);
		dtls_record_hdr(r, ri);
		if (*off + XTEL_DTLS_HDR_LEN + *flen > len) {
			srv->st.bad_record++;	/* truncated */
			return NULL;
		}
		*off += XTEL_DTLS_HDR_LEN + *flen;
		if ((r[1] << 8 | r[2]) == XTEL_DTLS_V12)
			return r;
		srv->st.bad_record++;
	}
	return NULL;
}

/* ---- OpenSSL's record layer ---- */

/*
 * OpenSSL's DTLS layer drops most faulty records without a word: a bad
 * tag, a replay by its own window, a record of another epoch or version,
 * a ChangeCipherSpec after the handshake, a truncated record (with the
 * rest of its datagram). So that each is counted as the built-in layer
 * counts it (own_records), this walk makes the same checks on the
 * headers, then hands OpenSSL the records that pass one at a time, each
 * as a datagram of its own (records never span datagrams, RFC 6347
 * 4.1.1). What OpenSSL did with one shows in what it returned (data, a
 * close, an error), read (an alert: ssl_msg_cb) or wrote (our flight
 * again, or a no_renegotiation warning); a record that changed nothing
 * failed its authentication, or is a handshake message OpenSSL ignores:
 * bad_record either way.
 */

/*
 * Hand OpenSSL record r (rlen bytes with its header) alone. Returns false
 * when it ended the session (s is freed).
 */
static bool ssl_record(struct xtel_dtls_server *srv, struct session *s,
		       const unsigned char *r, size_t rlen,
		       const struct record_info *ri, bool *delivered)
{
	uint64_t refused = srv->st.renegotiation_refused;
	bool took = false;
	int n;

	srv->ssl_alerts_rx = 0;
	srv->ssl_records_tx = 0;
	srv->ssl_warning_rx = false;
	xtel_dgram_bio_set_input(s->bio, r, rlen);
	for (;;) {
		ERR_clear_error();
		n = SSL_read(s->ssl, srv->plain, sizeof(srv->plain));
		if (n <= 0)
			break;
		took = true;
		*delivered = true;
		deliver(srv, s, (size_t)n);
	}
	/*
	 * Once per record, as the built-in layer counts it (own_record):
	 * OpenSSL 3.0 reads one warning alert five times over and then ends
	 * the session with "too many warn alerts" (openssl/openssl#25444),
	 * which the switch below counts as a session error.
	 */
	if (srv->ssl_warning_rx)
		srv->st.alerts_warning_rx++;
	switch (SSL_get_error(s->ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		break;
	case SSL_ERROR_ZERO_RETURN:
		peer_closed(srv, s);
		return false;
	default: {
		char why[XTEL_DTLS_ERR_LEN];

		dtls_ssl_failure_text(s->ssl, why, sizeof(why));
		session_error(srv, s, why);
		return false;
	}
	}
	xtel_dgram_bio_clear_input(s->bio);
	if (srv->st.renegotiation_refused != refused ||
	    srv->ssl_alerts_rx > 0) {
		took = true;
	} else if (ri->type == XTEL_DTLS_CT_HANDSHAKE &&
		   srv->ssl_records_tx > 0) {
		/* The client's Finished again: OpenSSL resent our flight. */
		srv->st.retransmits++;
		took = true;
	}
	if (took)
		window_mark(s, ri);
	else
		srv->st.bad_record++;
	return true;
}

/* An established session's datagram: every record, in order. */
static void session_records(struct xtel_dtls_server *srv, struct session *s,
			    const unsigned char *d, size_t len,
			    const struct record_info *dri)
{
	size_t overhead = dtls_ssl_record_overhead(s->ssl), off = 0, flen;
	bool delivered = false, unparked = false;
	const unsigned char *r;
	struct record_info ri;

	(void)dri;
	/* In own_records' order: truncation, version, epoch 0, the rest. */
	while ((r = next_record(srv, d, len, &off, &ri, &flen)) != NULL) {
		/* Epoch 0: a repeated handshake flight. */
		if (ri.epoch == 0) {
			srv->st.handshake_repeats++;
			continue;
		}
		/*
		 * Types other than these three a session never takes: to
		 * OpenSSL a ChangeCipherSpec now is dropped silently and an
		 * unknown type ends the session.
		 */
		if (ri.epoch != 1 ||
		    (ri.type != XTEL_DTLS_CT_APPDATA &&
		     ri.type != XTEL_DTLS_CT_HANDSHAKE &&
		     ri.type != XTEL_DTLS_CT_ALERT)) {
			srv->st.bad_record++;
			continue;
		}
		/* Counted here; OpenSSL drops replays silently. */
		if (window_seen(s, &ri)) {
			srv->st.replay++;
			continue;
		}
		/*
		 * Shorter than the AEAD overhead: never authentic, and
		 * OpenSSL 3.0 ends the connection on one (dtls_has_short_record).
		 */
		if (flen < overhead) {
			srv->st.bad_record++;
			continue;
		}
		if (!unparked && !dtls_session_unpark(s)) {
			srv->st.bad_record++;
			continue;
		}
		unparked = true;
		if (!ssl_record(srv, s, r, XTEL_DTLS_HDR_LEN + flen, &ri,
				&delivered))
			return;
	}
	/* Only authentic records keep a session alive. */
	if (delivered)
		dtls_session_touch(srv, s);
	if (unparked)
		dtls_session_park(s);
}

/* ---- the built-in record layer ---- */

void dtls_own_rl_free(struct xtel_dtls_server *srv, struct own_rl *rl)
{
	if (rl == NULL)
		return;
	dtls_rl_clear(&srv->rl_cache, &rl->keys);
	free(rl->flight);
	memset(rl, 0, sizeof(*rl));	/* its session's rl_mem */
}

/*
 * Mark the client's epoch-1 records of the datagram that completed the
 * handshake (its Finished) as seen: a copy replayed later is then a
 * replay, not a request to resend our final flight. A Finished the client
 * repeats itself carries a new record number and still gets the flight.
 */
static void seed_window(struct xtel_dtls_server *srv, struct session *s)
{
	const unsigned char *d = srv->cur_dgram;
	size_t off = 0, len = srv->cur_len;

	while (d != NULL && off + XTEL_DTLS_HDR_LEN <= len) {
		const unsigned char *r = d + off;
		size_t flen = dtls_rec_len(r);
		struct record_info ri;

		if (off + XTEL_DTLS_HDR_LEN + flen > len)
			break;
		dtls_record_hdr(r, &ri);
		if (ri.epoch == 1 && ri.type == XTEL_DTLS_CT_HANDSHAKE)
			window_mark(s, &ri);
		off += XTEL_DTLS_HDR_LEN + flen;
	}
}

/* Keep the captured final flight for resending (dtls_take_over). */
static int keep_flight(const struct xtel_dtls_server *srv, struct own_rl *rl)
{
	size_t total = 0;

	if (srv->cap_n == 0)
		return 0;
	for (unsigned int i = 0; i < srv->cap_n; i++)
		total += srv->cap_len[i];
	rl->flight = malloc(total);
	if (rl->flight == NULL)
		return -ENOMEM;
	total = 0;
	for (unsigned int i = 0; i < srv->cap_n; i++) {
		memcpy(rl->flight + total, srv->cap[i], srv->cap_len[i]);
		rl->flight_len[i] = srv->cap_len[i];
		total += srv->cap_len[i];
	}
	rl->flight_n = srv->cap_n;
	return 0;
}

/*
 * Called as the handshake completes, with the final flight just captured:
 * the keys are derived, our next record number follows the last one
 * OpenSSL sent, and the SSL is freed. Any failure leaves s untouched.
 */
int dtls_take_over(struct xtel_dtls_server *srv, struct session *s)
{
	struct own_rl *rl;
	uint64_t tx_seq;

	if (srv->cap_overflow)
		return -ENOTSUP;
	rl = &s->rl_mem;		/* zeroed: never used before */
	/*
	 * Our next record number follows the last epoch-1 one the handshake
	 * sent (noted by resume.c as each datagram left): a resumed one sent
	 * its Finished in an earlier call, not in the final capture.
	 */
	tx_seq = s->tx1_next;
	if (!s->tx1_seen ||
	    dtls_rl_derive(&rl->keys, &srv->rl_algs, s->ssl) != 0 ||
	    keep_flight(srv, rl) != 0) {
		dtls_own_rl_free(srv, rl);
		ERR_clear_error();
		return -ENOTSUP;
	}
	rl->keys.tx_seq = tx_seq;
	dtls_rl_cache_adopt(&srv->rl_cache, &rl->keys);
	SSL_free(s->ssl);
	s->ssl = NULL;
	s->bio = NULL;
	s->parked = false;
	s->rl = rl;
	srv->builtin++;
	seed_window(srv, s);
	ERR_clear_error();
	return 0;
}

/* Send one alert on the built-in layer. Returns whether it went out. */
static bool own_send_alert(struct xtel_dtls_server *srv, struct session *s,
			   uint8_t level, uint8_t desc)
{
	const unsigned char alert[2] = { level, desc };
	unsigned char rec[64];
	int len = dtls_rl_seal(&s->rl->keys, XTEL_DTLS_CT_ALERT, alert,
			       sizeof(alert), rec, sizeof(rec));

	if (len < 0)
		return false;
	srv->cfg.send(srv->cfg.send_arg, &s->peer.sa, s->peer_len, rec,
		      (size_t)len);
	return true;
}

static void own_send_close(struct xtel_dtls_server *srv, struct session *s)
{
	if (own_send_alert(srv, s, ALERT_WARNING, ALERT_CLOSE_NOTIFY))
		srv->st.close_notify_tx++;
}

static void own_resend_flight(struct xtel_dtls_server *srv, struct session *s)
{
	const unsigned char *p = s->rl->flight;

	for (unsigned int i = 0; i < s->rl->flight_n; i++) {
		srv->cfg.send(srv->cfg.send_arg, &s->peer.sa, s->peer_len, p,
			      s->rl->flight_len[i]);
		p += s->rl->flight_len[i];
	}
	srv->st.retransmits++;
}

enum {
	ALERT_NO_RENEGOTIATION = 100,
	HS_MSG_CLIENT_HELLO = 1,
	HS_MSG_HDR_LEN = 12,	/* DTLS handshake message header */
};

/*
 * A ClientHello in epoch 1: the client wants to renegotiate, which this
 * server never does. Silence would leave it retransmitting until it gives
 * up; answer as OpenSSL's layer does under SSL_OP_NO_RENEGOTIATION, with a
 * no_renegotiation warning (RFC 5246 7.2.2). The session stays; the
 * client decides (OpenSSL's ends it with a handshake_failure alert).
 * Returns whether the record was such a ClientHello.
 */
static bool own_refuse_renegotiation(struct xtel_dtls_server *srv,
				     struct session *s, int n)
{
	if (n < HS_MSG_HDR_LEN || srv->plain[0] != HS_MSG_CLIENT_HELLO)
		return false;
	srv->st.renegotiation_refused++;
	own_send_alert(srv, s, ALERT_WARNING, ALERT_NO_RENEGOTIATION);
	return true;
}

/*
 * OpenSSL's record layer answers a renegotiating ClientHello itself
 * (SSL_OP_NO_RENEGOTIATION); its outgoing no_renegotiation warning is how
 * we learn of it, to count it as the built-in layer does. The alerts it
 * reads and the records it writes tell ssl_record what a record did.
 */
static void ssl_msg_cb(int write_p, int version, int content_type,
		       const void *buf, size_t len, SSL *ssl, void *arg)
{
	const unsigned char *p = buf;
	struct session *s;

	(void)version;
	(void)arg;
	if (!write_p && content_type != SSL3_RT_ALERT)
		return;
	if (write_p && content_type != SSL3_RT_HEADER &&
	    content_type != SSL3_RT_ALERT)
		return;
	s = SSL_get_ex_data(ssl, dtls_ex_session_idx);
	if (s == NULL)
		return;
	if (!write_p) {
		s->srv->ssl_alerts_rx++;
		if (len == 2 && p[0] == ALERT_WARNING &&
		    p[1] != ALERT_CLOSE_NOTIFY)
			s->srv->ssl_warning_rx = true;
		return;
	}
	if (content_type == SSL3_RT_HEADER) {
		s->srv->ssl_records_tx++;
		return;
	}
	if (len == 2 && p[0] == ALERT_WARNING &&
	    p[1] == ALERT_NO_RENEGOTIATION)
		s->srv->st.renegotiation_refused++;
}

void dtls_watch_ssl_layer(struct xtel_dtls_server *srv, struct session *s)
{
	if (s->ssl == NULL)
		return;
	SSL_set_msg_callback(s->ssl, ssl_msg_cb);
	/* A replayed Finished is a replay here too (see seed_window). */
	seed_window(srv, s);
}

/*
 * One authentic record r of type ri->type, n bytes of plaintext in
 * srv->plain. Returns false when it ended the session.
 */
static bool own_record(struct xtel_dtls_server *srv, struct session *s,
		       const struct record_info *ri, int n, bool *delivered)
{
	switch (ri->type) {
	case XTEL_DTLS_CT_APPDATA:
		/* Data means the client has our Finished. */
		if (s->rl->flight != NULL) {
			free(s->rl->flight);
			s->rl->flight = NULL;
			s->rl->flight_n = 0;
		}
		deliver(srv, s, (size_t)n);
		*delivered = true;
		return true;
	case XTEL_DTLS_CT_HANDSHAKE:
		if (own_refuse_renegotiation(srv, s, n))
			return true;
		if (s->rl->flight_n > 0)
			own_resend_flight(srv, s);
		return true;
	case XTEL_DTLS_CT_ALERT:
		/*
		 * Level and description, nothing else (RFC 5246 7.2):
		 * anything else ends the session, as OpenSSL's layer does
		 * (it sends unexpected_message; decode_error is the alert
		 * RFC 5246 7.2.2 names for a message of the wrong length).
		 */
		if (n != 2) {
			char why[48];

			own_send_alert(srv, s, ALERT_FATAL, ALERT_DECODE_ERROR);
			snprintf(why, sizeof(why), "alert of %d byte%s "
				 "(decode_error)", n, n == 1 ? "" : "s");
			session_error(srv, s, why);
			return false;
		}
		/*
		 * The level first, as OpenSSL's layer judges it: a close_notify
		 * is a close only at the warning level.
		 */
		if (srv->plain[0] == ALERT_FATAL) {
			char why[32];

			snprintf(why, sizeof(why), "fatal alert %u from peer",
				 srv->plain[1]);
			session_error(srv, s, why);
			return false;
		}
		/*
		 * A level neither warning nor fatal ends the session, as on
		 * OpenSSL's layer (illegal_parameter, RFC 5246 7.2.2).
		 */
		if (srv->plain[0] != ALERT_WARNING) {
			char why[48];

			own_send_alert(srv, s, ALERT_FATAL,
				       ALERT_ILLEGAL_PARAMETER);
			snprintf(why, sizeof(why), "alert of level %u "
				 "(illegal_parameter)", srv->plain[0]);
			session_error(srv, s, why);
			return false;
		}
		if (srv->plain[1] == ALERT_CLOSE_NOTIFY) {
			peer_closed(srv, s);
			return false;
		}
		srv->st.alerts_warning_rx++;	/* changes nothing else */
		return true;
	default:
		srv->st.bad_record++;
		return true;
	}
}

/* Every record of an established session's datagram, in order. */
static void own_records(struct xtel_dtls_server *srv, struct session *s,
			const unsigned char *d, size_t len)
{
	bool delivered = false, rekeyed;
	size_t off = 0, flen;
	const unsigned char *r;
	struct record_info ri;
	int n;

	while ((r = next_record(srv, d, len, &off, &ri, &flen)) != NULL) {
		/*
		 * Epoch 0: the client repeating its handshake flight because
		 * our last one was lost. Its Finished (epoch 1) triggers the
		 * resend below, once per flight.
		 */
		if (ri.epoch == 0) {
			srv->st.handshake_repeats++;
			continue;
		}
		if (ri.epoch != 1) {
			srv->st.bad_record++;
			continue;
		}
		if (window_seen(s, &ri)) {
			srv->st.replay++;
			continue;
		}
		rekeyed = false;
		n = dtls_rl_open(&srv->rl_cache, &s->rl->keys, r, flen,
				 srv->plain, sizeof(srv->plain), &rekeyed);
		if (rekeyed)
			srv->st.aead_ctx_rekeys++;
		else if (n >= 0)
			srv->st.aead_ctx_hits++;
		if (n < 0) {
			srv->st.bad_record++;
			continue;
		}
		window_mark(s, &ri);
		if (!own_record(srv, s, &ri, n, &delivered))
			return;
	}
	if (delivered)
		dtls_session_touch(srv, s);
}

/* ---- either layer ---- */

void dtls_established_input(struct xtel_dtls_server *srv, struct session *s,
			    const unsigned char *d, size_t len,
			    const struct record_info *ri)
{
	if (s->rl != NULL)
		own_records(srv, s, d, len);
	else
		session_records(srv, s, d, len, ri);
}

void dtls_session_send_close(struct xtel_dtls_server *srv, struct session *s)
{
	if (s->rl != NULL) {
		own_send_close(srv, s);
		return;
	}
	if (!dtls_session_unpark(s))
		return;
	ERR_clear_error();
	if (SSL_shutdown(s->ssl) >= 0)
		srv->st.close_notify_tx++;
	ERR_clear_error();
}
