/* SPDX-License-Identifier: MIT */
/*
 * The DTLS server of dtls/server.h: creation from the configuration, the
 * dispatch of every datagram to the listener, a handshake or an
 * established session, the timers (retransmission, handshake timeout, idle
 * expiry), shutdown, statistics, and the rate-limited log of the receive
 * path. The pieces it dispatches to live in cookie.c, peers.c,
 * handshake.c and established.c (see server_internal.h).
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bpf/xtel_wire.h"
#include "common/clock.h"
#include "dtls/server_internal.h"

enum {
	DEFAULT_MAX_SESSIONS = 4096,
	DEFAULT_MAX_HALF_OPEN = 256,
	DEFAULT_LOG_BURST = 10,
	/*
	 * Half-open handshakes holding this much that ended make the timers
	 * trim the heap: free() keeps the pages of chunks freed below live
	 * ones. Measured after a full half-open table (256) under attack had
	 * timed out: 15 MiB more resident than before it, all kept by free()
	 * alone, 11 to 15 MiB given back by malloc_trim(0) (a worker's arena,
	 * the main one); test_half_open_memory_under_attack checks it on 64.
	 * 2 MiB is ~35 attacked handshakes; a trim costs ~75 us per MiB it
	 * gives back (10 ms for 130 MiB).
	 */
	TRIM_AFTER_BYTES = 2 << 20,
};

#define DEFAULT_IDLE_TIMEOUT (60 * XTEL_NS_PER_SEC)
#define DEFAULT_HANDSHAKE_TIMEOUT (10 * XTEL_NS_PER_SEC)
/*
 * A cookie lives one to two periods: 10 to 20 s covers a client's
 * retransmissions of its ClientHello (after 1, 2 and 4 s) with room, and
 * keeps the window for a replay short (cookie.c remembers the cookies that
 * started a handshake for those two periods).
 */
#define DEFAULT_COOKIE_PERIOD (10 * XTEL_NS_PER_SEC)

const char *const xtel_dtls_server_stat_names[XTEL_DTLS_SERVER_NSTATS] = {
#define STAT_NAME(e, name, help) [XTEL_DTLS_STAT_##e] = #name,
	XTEL_DTLS_SERVER_STATS(STAT_NAME)
#undef STAT_NAME
};

const char *const xtel_dtls_server_stat_help[XTEL_DTLS_SERVER_NSTATS] = {
#define STAT_HELP(e, name, help) [XTEL_DTLS_STAT_##e] = help,
	XTEL_DTLS_SERVER_STATS(STAT_HELP)
#undef STAT_HELP
};

/* Callers read the struct as an array indexed by the enum. */
_Static_assert(sizeof(struct xtel_dtls_server_stats) ==
	       XTEL_DTLS_SERVER_NSTATS * sizeof(uint64_t),
	       "one uint64_t per XTEL_DTLS_SERVER_STATS entry");

void dtls_srv_log(struct xtel_dtls_server *srv, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (XTEL_LOG_WARN > xtel_log_max() ||
	    !xtel_ratelimit_ok(&srv->log_rl, srv->now))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (srv->log_name[0] != '\0')
		pr_warn("%s: %s", srv->log_name, msg);
	else
		pr_warn("%s", msg);
}

/*
 * While a restarted client's handshake is pending beside its old session,
 * which of the two a datagram is for: handshake traffic (any epoch-0
 * record, or a first record of type handshake: the new Finished) goes to
 * the new handshake, the rest (the old session's epoch-1 records) to the
 * old session.
 */
static bool for_pending(const unsigned char *d, size_t len)
{
	size_t off = 0;

	if (d[0] == XTEL_DTLS_CT_HANDSHAKE)
		return true;
	while (off + XTEL_DTLS_HDR_LEN <= len) {
		const unsigned char *r = d + off;

		if (dtls_rec_epoch(r) == 0)
			return true;
		off += XTEL_DTLS_HDR_LEN + (dtls_rec_len(r));
	}
	return false;
}

/*
 * A ClientHello to an established session is either a late copy of the
 * one that created it (same random: ignore), a copy of the one of a
 * pending restart (its handshake handles that), or a client that
 * restarted on the same port: that one must prove its address with a
 * cookie like any other, and complete its handshake, before the old
 * session is dropped.
 */
static void hello_to_established(struct xtel_dtls_server *srv,
				 struct session *s, uint32_t h,
				 const unsigned char *d, size_t len,
				 const unsigned char *rnd)
{
	if (memcmp(s->client_random, rnd, sizeof(s->client_random)) == 0) {
		srv->st.handshake_repeats++;
		return;
	}
	if (s->pending != NULL &&
	    memcmp(s->pending->client_random, rnd,
		   sizeof(s->client_random)) == 0) {
		dtls_handshake_input(srv, s->pending, d, len);
		return;
	}
	dtls_listener_input(srv, h, d, len, s);
}

int xtel_dtls_server_input(struct xtel_dtls_server *srv,
			   const struct sockaddr *peer, socklen_t peer_len,
			   const void *dgram, size_t len, uint64_t now)
{
	const unsigned char *d = dgram, *rnd;
	struct record_info ri;
	struct session *s;
	uint32_t h;

	if (dtls_peer_key_from(peer, peer_len, &srv->cur_key))
		return -EAFNOSUPPORT;
	srv->now = now;
	srv->cur_peer = peer;
	srv->cur_dgram = d;
	srv->cur_len = len;
	srv->cur_peer_len = dtls_peer_addr_len(&srv->cur_key);
	if (len < XTEL_DTLS_HDR_LEN) {
		srv->st.malformed++;
		return 0;
	}
	/*
	 * Every datagram of ours and of a client fits a slot (flights are
	 * fragmented to XTEL_DTLS_MTU). A larger one can only be crafted,
	 * and OpenSSL ends the connection on one over its read buffer.
	 */
	if (len > XTEL_DGRAM_SLOT_SIZE) {
		srv->st.oversize++;
		return 0;
	}
	dtls_cookie_rotate(srv, now);
	dtls_record_info(d, len, &ri);
	h = dtls_peer_hash(srv, &srv->cur_key);
	s = dtls_session_lookup(srv, &srv->cur_key, h);

	if (s == NULL) {
		if (ri.type == XTEL_DTLS_CT_HANDSHAKE && ri.epoch == 0)
			dtls_listener_input(srv, h, dgram, len, NULL);
		else
			srv->st.unknown_peer++;
		return 0;
	}
	if (s->state == SESSION_HANDSHAKE) {
		dtls_handshake_input(srv, s, dgram, len);
		return 0;
	}
	rnd = ri.type == XTEL_DTLS_CT_HANDSHAKE && ri.epoch == 0 ?
	      dtls_hello_random(d, len) : NULL;
	if (rnd != NULL)
		hello_to_established(srv, s, h, d, len, rnd);
	/*
	 * The datagram first: s->pending is a handshake-time field in another
	 * cache line of the session than the lookup's, one LL miss per record
	 * at 100,000 sessions (docs/CAPACITY.md "DTLS at 100,000 sessions").
	 */
	else if (for_pending(d, len) && s->pending != NULL)
		dtls_handshake_input(srv, s->pending, dgram, len);
	else
		dtls_established_input(srv, s, d, len, &ri);
	return 0;
}

/* ---- timers ---- */

uint64_t xtel_dtls_server_next_timeout(const struct xtel_dtls_server *srv,
				       uint64_t now)
{
	uint64_t t = UINT64_MAX;
	const struct session *s;

	(void)now;
	/* Half-open sessions are few (max_half_open): scan them all. */
	for (s = srv->half_open.head; s != NULL; s = s->next) {
		if (s->rtx_deadline < t)
			t = s->rtx_deadline;
		if (s->started + srv->cfg.handshake_timeout < t)
			t = s->started + srv->cfg.handshake_timeout;
	}
	s = srv->lru.head;
	if (s != NULL && s->last_rx + srv->cfg.idle_timeout < t)
		t = s->last_rx + srv->cfg.idle_timeout;
	return t;
}

void xtel_dtls_server_timers(struct xtel_dtls_server *srv, uint64_t now)
{
	struct session *s, *next;

	srv->now = now;
	srv->cur_dgram = NULL;		/* the last input's buffer is gone */
	dtls_cookie_rotate(srv, now);
	for (s = srv->half_open.head; s != NULL; s = next) {
		next = s->next;
		if (s->started + srv->cfg.handshake_timeout <= now) {
			srv->st.handshake_timeout++;
			dtls_session_free(srv, s);
			continue;
		}
		if (s->rtx_deadline <= now)
			dtls_handshake_timer(srv, s, now);
	}
	while ((s = srv->lru.head) != NULL &&
	       s->last_rx + srv->cfg.idle_timeout <= now) {
		srv->st.sessions_expired++;
		/* The peer may be gone, but if not it learns why. */
		dtls_session_send_close(srv, s);
		dtls_session_free(srv, s);
	}
	/* After an attack ends, give its heap back (TRIM_AFTER_BYTES). */
	if (srv->untrimmed >= TRIM_AFTER_BYTES) {
		malloc_trim(0);
		srv->untrimmed = 0;
		srv->st.heap_trims++;
	}
}

void xtel_dtls_server_shutdown(struct xtel_dtls_server *srv)
{
	while (srv->lru.head != NULL) {
		dtls_session_send_close(srv, srv->lru.head);
		dtls_session_free(srv, srv->lru.head);
	}
	while (srv->half_open.head != NULL)
		dtls_session_free(srv, srv->half_open.head);
}

/* ---- lifecycle ---- */

/* cfg with every 0 replaced by its default; the caller's strings dropped. */
static void server_cfg(struct xtel_dtls_server *srv,
		       const struct xtel_dtls_server_cfg *cfg)
{
	srv->cfg = *cfg;
	if (!srv->cfg.max_sessions)
		srv->cfg.max_sessions = DEFAULT_MAX_SESSIONS;
	if (!srv->cfg.max_half_open)
		srv->cfg.max_half_open = DEFAULT_MAX_HALF_OPEN;
	/*
	 * A quarter of the table per source: a flood from one host leaves
	 * room for others, while the load generator (one address, 64
	 * handshakes in flight per thread) still fits one worker's default.
	 */
	if (!srv->cfg.max_half_open_per_source)
		srv->cfg.max_half_open_per_source =
			srv->cfg.max_half_open / 4 ? srv->cfg.max_half_open / 4 : 1;
	if (!srv->cfg.idle_timeout)
		srv->cfg.idle_timeout = DEFAULT_IDLE_TIMEOUT;
	if (!srv->cfg.handshake_timeout)
		srv->cfg.handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
	if (!srv->cfg.cookie_period)
		srv->cfg.cookie_period = DEFAULT_COOKIE_PERIOD;
	if (!srv->cfg.log_burst)
		srv->cfg.log_burst = DEFAULT_LOG_BURST;
	/* Strings are the caller's; they are not needed after loading. */
	srv->cfg.cert_file = srv->cfg.key_file = srv->cfg.ca_file = NULL;
	srv->cfg.ciphers = NULL;
	if (cfg->log_name != NULL)
		snprintf(srv->log_name, sizeof(srv->log_name), "%s",
			 cfg->log_name);
	srv->cfg.log_name = NULL;
	srv->log_rl = (struct xtel_ratelimit)
		XTEL_RATELIMIT_INIT(XTEL_NS_PER_SEC, srv->cfg.log_burst);
}

/* The server's SSL_CTX: credentials, client verification, ciphers. */
static int server_ctx(struct xtel_dtls_server *srv,
		      const struct xtel_dtls_server_cfg *cfg)
{
	int ret;

	/*
	 * The DTLS 1.2 method itself (the only version either end allows),
	 * so that an SSL's method stays its context's: ticket_lean.c swaps
	 * the session mid-handshake, which resets an SSL whose method is
	 * not. Deprecated since 1.1.0 but kept through 3.x.
	 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	ret = dtls_ctx_new(&srv->ctx, DTLSv1_2_server_method());
#pragma GCC diagnostic pop
	if (ret)
		return ret;
	ret = dtls_ctx_use_files(srv->ctx, cfg->cert_file, cfg->key_file);
	if (ret)
		return ret;
	if (cfg->policy != NULL)
		srv->policy = xtel_dtls_policy_get(cfg->policy);
	else
		ret = xtel_dtls_policy_load(&srv->policy,
			&(struct xtel_dtls_policy_cfg){ .ca_file = cfg->ca_file });
	if (!ret)
		ret = dtls_policy_apply(srv);
	if (ret)
		return ret;
	SSL_CTX_set_verify(srv->ctx,
			   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   dtls_verify_cb);
	SSL_CTX_set_options(srv->ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	dtls_verify_install(srv->ctx);
	if (cfg->ciphers != NULL) {
		ret = dtls_ctx_check_ciphers(srv->ctx, cfg->ciphers);
		if (ret)
			return ret;
	}
	/*
	 * No client certificate chain is longer than a handshake message
	 * may be (prefilter.c refuses longer messages first anyway).
	 */
	SSL_CTX_set_max_cert_list(srv->ctx, XTEL_DTLS_HS_MSG_MAX);
	/*
	 * Resumption by tickets only (resume.c): nothing cached per client.
	 * NO_INTERNAL too: OpenSSL otherwise stores the session resume.c's
	 * get_session hands it, and a later ClientHello offering it by id
	 * without the ticket resumed from there, past every re-check (a
	 * denied device came back, on OpenSSL's record layer).
	 */
	SSL_CTX_set_session_cache_mode(srv->ctx, SSL_SESS_CACHE_OFF |
				       SSL_SESS_CACHE_NO_INTERNAL);
	SSL_CTX_set_app_data(srv->ctx, srv);
	ret = dtls_vcache_install(srv);
	if (ret)
		return ret;
	return dtls_resume_install(srv);
}

int xtel_dtls_server_new(struct xtel_dtls_server **out,
			 const struct xtel_dtls_server_cfg *cfg)
{
	struct xtel_dtls_server *srv;
	int ret;

	if (cfg->send == NULL) {
		pr_err("no send callback");
		return -EINVAL;
	}
	if (!dtls_openssl_version_ok(OpenSSL_version_num())) {
		pr_err("%s frees buffers still in use (CVE-2024-4741): "
		       "upgrade libssl to 3.0.14, 3.1.6, 3.2.2, 3.3.1 or later",
		       OpenSSL_version(OPENSSL_VERSION));
		return -ENOTSUP;
	}
	srv = dtls_ex_init() == 0 ? calloc(1, sizeof(*srv)) : NULL;
	if (srv == NULL) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	server_cfg(srv, cfg);
	ret = server_ctx(srv, cfg);
	if (ret)
		goto fail;
	ret = dtls_cookie_init(srv);
	if (ret)
		goto fail;
	dtls_rl_algs_fetch(&srv->rl_algs);
	dtls_rl_cache_init(&srv->rl_cache, &srv->rl_algs);
	srv->listen_addr = BIO_ADDR_new();
	if (srv->listen_addr == NULL || dtls_peers_init(srv) != 0 ||
	    dtls_listener_new(srv) != 0) {
		pr_err("out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	ERR_clear_error();
	*out = srv;
	return 0;
fail:
	ERR_clear_error();
	xtel_dtls_server_free(srv);
	return ret;
}

void xtel_dtls_server_free(struct xtel_dtls_server *srv)
{
	if (srv == NULL)
		return;
	dtls_peers_free(srv);
	dtls_rl_cache_free(&srv->rl_cache);
	SSL_free(srv->listener);
	BIO_ADDR_free(srv->listen_addr);
	dtls_cookie_free(srv);
	dtls_rl_algs_free(&srv->rl_algs);
	dtls_tickets_free(srv);
	dtls_vcache_free(&srv->vc);
	SSL_CTX_free(srv->ctx);
	xtel_dtls_policy_put(srv->policy);
	free(srv);
}

void xtel_dtls_server_set_policy(struct xtel_dtls_server *srv,
				 struct xtel_dtls_policy *p)
{
	struct xtel_dtls_policy *old = srv->policy;

	srv->policy = xtel_dtls_policy_get(p);
	/*
	 * A new server certificate: the context for the handshakes to come,
	 * and the listener already made from it (its next ClientHello).
	 * Sessions copied theirs at SSL_new and keep it.
	 */
	if (p->identity &&
	    (dtls_ctx_use_identity(srv->ctx, p->identity) ||
	     (srv->listener &&
	      (SSL_use_certificate(srv->listener, p->identity->cert) != 1 ||
	       SSL_set1_chain(srv->listener, p->identity->chain) != 1 ||
	       SSL_use_PrivateKey(srv->listener, p->identity->key) != 1))))
		dtls_srv_log(srv, "dtls: new policy: the server certificate "
			     "was refused; handshakes may still use the old one");
	/* Only the CA names can fail (memory): the last list stays then. */
	if (dtls_policy_apply(srv) != 0)
		dtls_srv_log(srv, "dtls: new policy: out of memory for the CA "
			     "names; the previous names are still sent");
	xtel_dtls_policy_put(old);
	srv->st.policy_updates++;
	dtls_policy_sweep(srv);
}

int xtel_dtls_server_peer(const struct xtel_dtls_server *srv,
			  const struct sockaddr *peer, socklen_t peer_len,
			  uint32_t *client_id)
{
	struct peer_key k;
	struct session *s;

	if (dtls_peer_key_from(peer, peer_len, &k))
		return -EAFNOSUPPORT;
	s = dtls_session_lookup(srv, &k, dtls_peer_hash(srv, &k));
	if (s == NULL)
		return -ENOENT;
	if (s->state != SESSION_ESTABLISHED)
		return -EINPROGRESS;
	if (client_id)
		*client_id = s->client_id;
	return 0;
}

unsigned int xtel_dtls_server_sessions(const struct xtel_dtls_server *srv)
{
	return srv->lru.n;
}

unsigned int xtel_dtls_server_half_open(const struct xtel_dtls_server *srv)
{
	return srv->half_open.n;
}

unsigned int xtel_dtls_server_builtin_sessions(const struct xtel_dtls_server *srv)
{
	return srv->builtin;
}

void xtel_dtls_server_get_stats(const struct xtel_dtls_server *srv,
				struct xtel_dtls_server_stats *out)
{
	*out = srv->st;
	out->half_open = srv->half_open.n;
	out->half_open_bytes = srv->half_open_bytes;
}
