/* SPDX-License-Identifier: MIT */
/*
 * The server's handshakes, run by OpenSSL. State stays off the wire until
 * a peer proves it owns its address: a single reusable "listener" SSL runs
 * DTLSv1_listen() on every ClientHello from an address without a session.
 * A ClientHello without a valid cookie (cookie.c) gets a HelloVerifyRequest
 * straight back from the listener and nothing is stored. With a valid
 * cookie, and room in the caps (peers.c), the listener SSL (which holds
 * that ClientHello) becomes the new session and a fresh listener is made.
 *
 * Until it completes, every datagram of a handshake passes prefilter.c
 * before OpenSSL sees it. The client certificate must chain to the CA and
 * name the client in its CN (identity.c), the one of the session it would
 * replace for a restart; the final flight is captured on its way out so
 * the built-in record layer can resend it (established.c takes over there).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "bpf/xtel_wire.h"
#include "dtls/server_internal.h"

enum { HS_CLIENT_HELLO = 1 };

int dtls_ex_session_idx = -1;
int dtls_ex_peer_idx = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static void ex_init_once(void)
{
	dtls_ex_session_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	dtls_ex_peer_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

int dtls_ex_init(void)
{
	pthread_once(&ex_once, ex_init_once);
	return dtls_ex_session_idx < 0 || dtls_ex_peer_idx < 0 ? -ENOMEM : 0;
}

int dtls_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs,
			SSL_get_ex_data_X509_STORE_CTX_idx());
	struct session *s = ssl ? SSL_get_ex_data(ssl, dtls_ex_session_idx) : NULL;

	return dtls_verify_depth(s, xs, ok, false);
}

int dtls_verify_depth(struct session *s, X509_STORE_CTX *xs, int ok,
		      bool cached)
{
	uint32_t id;

	if (s != NULL && X509_STORE_CTX_get_error_depth(xs) == 0)
		ok = dtls_check_leaf(s, xs, ok, cached);
	/*
	 * A CA above the leaf refused (revoked, expired, no CRL): the
	 * failure report still names the id the leaf claims.
	 */
	if (!ok && s != NULL && s->client_id == 0 &&
	    X509_STORE_CTX_get_error_depth(xs) != 0 &&
	    dtls_parse_client_cn(X509_STORE_CTX_get0_cert(xs), &id) == 0)
		s->client_id = id;
	if (!ok || X509_STORE_CTX_get_error_depth(xs) != 0)
		return ok;
	if (dtls_parse_client_cn(X509_STORE_CTX_get_current_cert(xs), &id) != 0) {
		if (s != NULL)
			s->bad_cn = true;
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (s != NULL)
		s->client_id = id;
	/*
	 * A restart may replace its session only as the same client: another
	 * id on that address and port (a spoofed or stolen port, a NAT that
	 * reused it) is refused while the session lives, so one client's
	 * certificate cannot take over another's session.
	 */
	if (s != NULL && s->replaces != NULL && s->replaces->client_id != id) {
		s->other_id = true;
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

static void listener_sink(void *arg, const void *buf, size_t len)
{
	struct xtel_dtls_server *srv = arg;

	srv->cfg.send(srv->cfg.send_arg, srv->cur_peer, srv->cur_peer_len,
		      buf, len);
}

static void session_sink(void *arg, const void *buf, size_t len)
{
	struct session *s = arg;
	struct xtel_dtls_server *srv = s->srv;

	if (srv->capturing) {
		if (srv->cap_n < FLIGHT_MAX && len <= XTEL_DGRAM_SLOT_SIZE) {
			memcpy(srv->cap[srv->cap_n], buf, len);
			srv->cap_len[srv->cap_n++] = (uint16_t)len;
		} else {
			srv->cap_overflow = true;
		}
	}
	if (s->state == SESSION_HANDSHAKE)
		dtls_resume_note_tx(s, buf, len);
	srv->cfg.send(srv->cfg.send_arg, &s->peer.sa, s->peer_len, buf, len);
}

int dtls_listener_new(struct xtel_dtls_server *srv)
{
	SSL *ssl = SSL_new(srv->ctx);
	BIO *bio;

	if (ssl == NULL)
		goto fail;
	bio = xtel_dgram_bio_new(0);
	if (bio == NULL) {
		SSL_free(ssl);
		goto fail;
	}
	xtel_dgram_bio_set_sink(bio, listener_sink, srv);
	if (dtls_ssl_attach_bio(ssl, bio)) {
		SSL_free(ssl);
		goto fail;
	}
	SSL_set_accept_state(ssl);
	SSL_set_ex_data(ssl, dtls_ex_peer_idx, &srv->cur_key);
	srv->listener = ssl;
	srv->lbio = bio;
	return 0;
fail:
	ERR_clear_error();
	srv->listener = NULL;
	srv->lbio = NULL;
	return -ENOMEM;
}

/* The ClientHello's 32-byte random, when d is a whole first fragment. */
const unsigned char *dtls_hello_random(const unsigned char *d, size_t len)
{
	/* record header, handshake header (12), client_version (2) */
	if (len < XTEL_DTLS_HDR_LEN + 12 + 2 + 32 || d[0] != XTEL_DTLS_CT_HANDSHAKE ||
	    dtls_rec_epoch(d) != 0 || d[XTEL_DTLS_HDR_LEN] != HS_CLIENT_HELLO)
		return NULL;
	return d + XTEL_DTLS_HDR_LEN + 12 + 2;
}

static void handshake_failed(struct xtel_dtls_server *srv, struct session *s)
{
	char peer[PEER_STR_LEN], why[XTEL_DTLS_ERR_LEN];
	enum xtel_dtls_fail reason = dtls_fail_reason(s);

	dtls_format_peer(&s->peer.sa, peer, sizeof(peer));
	if (s->other_id) {
		ERR_clear_error();
		srv->st.restart_other_id++;
		dtls_srv_log(srv, "dtls: handshake with %s as client %u refused: "
			     "its address and port have a session of another "
			     "client", peer, s->client_id);
		dtls_session_free(srv, s);
		return;
	}
	if (s->bad_cn) {
		ERR_clear_error();
		snprintf(why, sizeof(why),
			 "client certificate CN is not client-<1..4294967295>");
	} else {
		dtls_ssl_failure_text(s->ssl, why, sizeof(why));
	}
	dtls_count_failure(srv, s, reason);
	dtls_srv_log(srv, "dtls: handshake with %s failed: %s", peer, why);
	dtls_session_free(srv, s);
}

static void session_established(struct xtel_dtls_server *srv,
				struct session *s)
{
	if (s->replaces != NULL) {
		struct session *old = s->replaces;

		/* The restart proved itself: now the old session goes. */
		s->replaces = NULL;
		old->pending = NULL;
		srv->st.sessions_replaced++;
		dtls_session_free(srv, old);
		dtls_table_insert(srv, s);
	}
	dtls_half_open_del(srv, s);
	s->state = SESSION_ESTABLISHED;
	s->rtx_deadline = UINT64_MAX;
	s->last_rx = srv->now;
	dtls_list_append(&srv->lru, s);
	srv->st.handshakes_ok++;
	if (SSL_session_reused(s->ssl))
		srv->st.handshakes_resumed++;
	SSL_get_client_random(s->ssl, s->client_random,
			      sizeof(s->client_random));
	/* Failure keeps OpenSSL's record layer: slower, bigger, correct. */
	if (!srv->cfg.openssl_records) {
		int r = dtls_take_over(srv, s);

		if (r) {
			char peer[PEER_STR_LEN];

			srv->st.record_layer_fallback++;
			dtls_format_peer(&s->peer.sa, peer, sizeof(peer));
			dtls_srv_log(srv, "dtls: session with %s (client %u) keeps "
				     "OpenSSL's record layer: built-in take-over "
				     "failed (%s)", peer, s->client_id,
				     strerror(-r));
		}
	}
	dtls_watch_ssl_layer(srv, s);
	/*
	 * The final flight was handed to cfg.send already; a sender that
	 * queues (the collector's io_uring path submits after this returns)
	 * lets whoever mirrors sessions know the peer before its first record.
	 */
	if (srv->cfg.on_session != NULL)
		srv->cfg.on_session(srv->cfg.session_arg, &s->peer.sa,
				    s->peer_len, s->client_id, true);
}

/*
 * Run the handshake on s after input or creation. Returns 0 while it is
 * still running, 1 when established, -1 when s failed and was freed.
 */
static int session_handshake(struct xtel_dtls_server *srv, struct session *s)
{
	int r;

	if (!dtls_session_unpark(s)) {
		handshake_failed(srv, s);
		return -1;
	}
	ERR_clear_error();
	srv->capturing = true;
	srv->cap_n = 0;
	srv->cap_overflow = false;
	r = SSL_do_handshake(s->ssl);
	srv->capturing = false;
	if (r == 1) {
		session_established(srv, s);
		return 1;
	}
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		s->rtx_deadline = dtls_ssl_timer_deadline(s->ssl, srv->now);
		return 0;
	default:
		handshake_failed(srv, s);
		return -1;
	}
}

/*
 * A datagram for a session whose handshake runs: OpenSSL gets what the
 * pre-filter lets through (prefilter.c), in the steps it asks for.
 */
void dtls_handshake_input(struct xtel_dtls_server *srv, struct session *s,
			  const void *dgram, size_t len)
{
	const unsigned char *d = dgram;
	bool more = true;
	size_t off = 0;

	while (more && off < len && s->state == SESSION_HANDSHAKE) {
		size_t n = dtls_prefilter(srv, s, d + off, len - off, &more);

		if (n == 0)
			break;
		xtel_dgram_bio_set_input(s->bio, d + off, n);
		if (session_handshake(srv, s) < 0)
			return;		/* s is gone, its BIO with it */
		if (s->bio != NULL)
			xtel_dgram_bio_clear_input(s->bio);
		off += n;
	}
	/* Only a client's real flight moves OpenSSL's state on. */
	if (s->state == SESSION_HANDSHAKE &&
	    (int)SSL_get_state(s->ssl) != s->hs_state)
		s->progressed = true;
	/* Half-open floods should not pin record buffers. */
	if (s->bio != NULL)
		dtls_session_park(s);
}

/* Whether restart old's handshake supersedes an unfinished one. */
static unsigned int superseded(const struct session *old)
{
	return old != NULL && old->pending != NULL;
}

/*
 * Whether a handshake whose cookie was valid may have a session. The
 * caps are checked before anything, the old session included, changes.
 *
 * A restart (old: the established session on the same address and port)
 * replaces old when it completes, and supersedes old's unfinished restart
 * (old->pending) right away, so neither counts against the caps: a client
 * restarting into a full table is not refused. While its handshake runs
 * the table holds one session more than max_sessions, at most one per
 * established session (each has at most one pending restart, and only
 * its own address can start one).
 */
static bool admit(struct xtel_dtls_server *srv, const struct session *old)
{
	unsigned int replaced = old != NULL;

	if (dtls_half_open_from_source(srv, &srv->cur_key) - superseded(old) >=
	    srv->cfg.max_half_open_per_source) {
		srv->st.half_open_source_full++;
		return false;
	}
	if (srv->half_open.n - superseded(old) >= srv->cfg.max_half_open &&
	    !dtls_evict_half_open(srv)) {
		/* The next DTLSv1_listen() starts with SSL_clear(). */
		srv->st.half_open_full++;
		return false;
	}
	/* (The eviction may have taken old->pending: count it again.) */
	if (srv->half_open.n + srv->lru.n - superseded(old) - replaced >=
	    srv->cfg.max_sessions) {
		srv->st.sessions_full++;
		return false;
	}
	return true;
}

/*
 * A handshake datagram from an address without a session, or a new
 * ClientHello to an established one (`old`): the new handshake then runs
 * beside it and replaces it only when it completes.
 */
void dtls_listener_input(struct xtel_dtls_server *srv, uint32_t h,
			 const void *dgram, size_t len, struct session *old)
{
	const unsigned char *d = dgram, *rnd = dtls_hello_random(dgram, len);
	struct session *s;
	uint64_t sent;
	int r;

	/* Not a whole ClientHello: DTLSv1_listen would drop it too. */
	if (rnd == NULL) {
		srv->st.bad_hello++;
		return;
	}
	if (srv->listener == NULL && dtls_listener_new(srv) != 0) {
		srv->st.bad_hello++;
		return;
	}
	memcpy(srv->cur_random, rnd, sizeof(srv->cur_random));
	srv->cookie.have_verified = false;
	sent = srv->st.cookie_sent;
	xtel_dgram_bio_set_input(srv->lbio, dgram, len);
	ERR_clear_error();
	r = DTLSv1_listen(srv->listener, srv->listen_addr);
	xtel_dgram_bio_clear_input(srv->lbio);
	ERR_clear_error();
	if (r <= 0) {
		/* HelloVerifyRequest sent (counted in the callback) or dropped. */
		if (srv->st.cookie_sent == sent)
			srv->st.bad_hello++;
		return;
	}
	/*
	 * The ClientHello with a cookie is message 1 (RFC 6347 4.2.2).
	 * DTLSv1_listen refuses higher numbers but takes 0, and the
	 * pre-filter's bounds assume OpenSSL waits for message 2 next.
	 */
	if ((d[XTEL_DTLS_HDR_LEN + 4] << 8 | d[XTEL_DTLS_HDR_LEN + 5]) != 1) {
		srv->st.bad_hello++;
		return;
	}
	/* A copy of a ClientHello whose handshake is gone (cookie.c). */
	if (dtls_cookie_used(srv)) {
		srv->st.cookie_replay++;
		return;
	}
	if (!admit(srv, old))
		return;
	s = dtls_session_new(srv, h, rnd);
	if (s == NULL) {
		srv->st.sessions_full++;
		return;
	}
	dtls_cookie_mark_used(srv);

	/* Promote the listener to this session; a new one listens next. */
	s->ssl = srv->listener;
	s->bio = srv->lbio;
	srv->listener = NULL;
	srv->lbio = NULL;
	SSL_set_ex_data(s->ssl, dtls_ex_peer_idx, &s->key);
	SSL_set_ex_data(s->ssl, dtls_ex_session_idx, s);
	xtel_dgram_bio_set_sink(s->bio, session_sink, s);

	if (old != NULL) {
		/* A newer restart supersedes an unfinished one. */
		if (old->pending != NULL)
			dtls_session_free(srv, old->pending);
		old->pending = s;
		s->replaces = old;
	} else {
		dtls_table_insert(srv, s);
	}
	dtls_half_open_add(srv, s);
	srv->st.handshakes_started++;

	dtls_listener_new(srv);	/* failure retried on the next ClientHello */
	if (session_handshake(srv, s) == 0) {
		/* Where our flight leaves OpenSSL (see progressed). */
		s->hs_state = SSL_get_state(s->ssl);
		dtls_session_park(s);
	}
}

void dtls_handshake_timer(struct xtel_dtls_server *srv, struct session *s,
			  uint64_t now)
{
	int r;

	if (!dtls_session_unpark(s)) {
		handshake_failed(srv, s);
		return;
	}
	ERR_clear_error();
	r = DTLSv1_handle_timeout(s->ssl);
	if (r < 0) {
		/* OpenSSL gave up retransmitting. */
		handshake_failed(srv, s);
		return;
	}
	if (r > 0)
		srv->st.retransmits++;
	/* r == 0: OpenSSL's clock is behind ours; re-arm from it. */
	s->rtx_deadline = dtls_ssl_timer_deadline(s->ssl, now);
	dtls_session_park(s);
}
