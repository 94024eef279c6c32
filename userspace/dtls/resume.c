/* SPDX-License-Identifier: MIT */
/*
 * Session resumption for reconnecting devices: stateless session tickets
 * (RFC 5077), not a session-ID cache. A ticket is the session sealed with
 * the server's ticket key and kept by the client, so the server stores
 * nothing per device and a restart storm of any size costs no memory; the
 * collector's workers share one key (cfg.ticket_key, random per process
 * or from --ticket-key-file, ticket_key.c) so a device may come back on
 * any of them, and after a restart. The client id binding stays: when a
 * ticket is sealed, its certificate's identity (client id, validity,
 * issuer hash, serial) and the trust digest of the policy (its CAs and
 * pins, trust_digest) go in beside the session (ticket_generated); at
 * resumption that identity is re-checked against the current policy
 * (dtls_check_resumed_id: validity, CRLs, deny list, admit callback, the
 * id of a session it would replace, the trust). The ticket is opened here
 * without decoding the certificate (dtls_resume_hello, ticket.c); OpenSSL
 * opens it only when that cannot be done, and the same checks then run on
 * the decoded certificate (ticket_decrypted). A ticket refused, sealed
 * with another key or not authentic resumes nothing: the handshake goes
 * on as a full one, whose verification refuses a revoked or denied device
 * under its reason. Rotation: cfg.ticket_key_prev still opens the
 * previous key's tickets (and the handshake seals a new one);
 * xtel_dtls_server_set_ticket_key replaces the key, whose old tickets then
 * fall back to full handshakes.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "bpf/xtel_wire.h"
#include "dtls/server_internal.h"

/*
 * What the certificate was trusted by: SHA-256 over the policy's CA
 * certificates and pins. Sealed into each ticket (its app data) and
 * compared at resumption, so a policy that drops a CA or pins another
 * resumes no ticket issued under the old trust (the CRLs and the deny list
 * are re-checked instead: a reload of those keeps the tickets). Returns
 * 0 or -EIO.
 */
static int trust_digest(const struct xtel_dtls_policy *p,
			unsigned char md[SHA256_DIGEST_LENGTH])
{
	const STACK_OF(X509) *sets[2] = { p->cas, p->pins };
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);

	for (int k = 0; k < 2 && ok; k++) {
		for (int i = 0; sets[k] != NULL && i < sk_X509_num(sets[k]) && ok; i++) {
			unsigned char d[SHA256_DIGEST_LENGTH];
			unsigned int n;

			ok = X509_digest(sk_X509_value(sets[k], i), EVP_sha256(), d, &n) &&
			     EVP_DigestUpdate(ctx, d, n);
		}
		ok = ok && EVP_DigestUpdate(ctx, "|", 1);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : -EIO;
}

void dtls_resume_policy(struct xtel_dtls_server *srv)
{
	srv->tk.trust_ok = trust_digest(srv->policy, srv->tk.trust) == 0;
}

/*
 * Before a ticket is sealed: what its certificate is (client id,
 * validity, issuer and serial) and the trust it was issued under, the
 * ticket's app data. Without it the ticket resumes nothing
 * (ticket_refused).
 */
static int ticket_generated(SSL *ssl, void *arg)
{
	struct xtel_dtls_server *srv = arg;
	unsigned char app[DTLS_TICKET_ID_LEN];
	struct session *s = SSL_get_ex_data(ssl, dtls_ex_session_idx);
	struct dtls_ticket_id id;

	if (srv->tk.trust_ok && s != NULL &&
	    dtls_ticket_id_from_cert(SSL_get0_peer_certificate(ssl), &id) == 0) {
		memcpy(id.trust, srv->tk.trust, sizeof(id.trust));
		/*
		 * Where its chain ended, and the validity of the chain
		 * (an intermediate may expire before the leaf), as the
		 * verification noted them.
		 */
		id.anchor_hash = s->chain.anchor_hash;
		id.anchor_kid = s->chain.anchor_kid;
		id.n_cas = s->chain.n_cas;
		id.ca_stored = s->chain.ca_stored;
		memcpy(id.ca_key, s->chain.ca_key, sizeof(id.ca_key));
		memcpy(id.ca_rev, s->chain.ca_rev, sizeof(id.ca_rev));
		if (s->chain.not_before > id.not_before)
			id.not_before = s->chain.not_before;
		if (s->chain.not_after < id.not_after)
			id.not_after = s->chain.not_after;
		dtls_ticket_id_encode(&id, app);
		if (SSL_SESSION_set1_ticket_appdata(SSL_get0_session(ssl), app,
						    sizeof(app)) == 1)
			dtls_ticket_shed_peer(ssl);
	}
	ERR_clear_error();
	return 1;
}

/* The identity a ticket sealed, if its trust is the policy's now. */
static bool trusted_id(const struct xtel_dtls_server *srv, const void *app,
		       size_t len, struct dtls_ticket_id *id)
{
	return srv->tk.trust_ok && dtls_ticket_id_decode(app, len, id) == 0 &&
	       CRYPTO_memcmp(id->trust, srv->tk.trust, sizeof(id->trust)) == 0;
}

/*
 * The fast way (ticket.c): the ClientHello callback opens the ticket
 * itself, without decoding the certificate in it, and re-checks the
 * identity sealed beside it (dtls_check_resumed_id). The verdict then
 * steers OpenSSL: the ticket key callback declines to open the ticket
 * again, so OpenSSL's decrypt callback sees "no decrypt" and answers per
 * verdict: a ticket to resume is "ignored" (SSL_TICKET_RETURN_IGNORE),
 * which makes OpenSSL look the ClientHello's session id up in the session
 * cache, whose callback (get_session) hands it the session opened here;
 * a refused or foreign one is ignored with a new ticket to come, a full
 * handshake. Only a client that sends a ticket without a session id
 * (OpenSSL's clients send one) or a ticket too long to open here takes
 * OpenSSL's own way, with the same checks on the decoded certificate.
 */
void dtls_resume_hello(struct session *s, SSL *ssl)
{
	struct xtel_dtls_server *srv = s->srv;
	const unsigned char *t, *sid;
	struct dtls_ticket_id id;
	SSL_SESSION *ss = NULL;
	void *app = NULL;
	size_t len, sid_len, app_len = 0;
	int r;

	SSL_SESSION_free(s->resume_sess);
	s->resume_sess = NULL;
	s->ticket_verdict = TICKET_SLOW;
	sid_len = SSL_client_hello_get0_session_id(ssl, &sid);
	if (srv->cfg.no_tickets || sid_len == 0 ||
	    SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_session_ticket, &t,
				      &len) != 1 || len == 0)
		return;
	r = dtls_ticket_open(srv, t, len, &ss, &id);
	if (r == -E2BIG || r == -EIO || r == -EKEYEXPIRED)
		return;
	if (r == -ENOKEY || r == -EBADMSG) {
		s->ticket_verdict = TICKET_FOREIGN;
		return;
	}
	/*
	 * OpenSSL would refuse it after the cache look-up, and then not seal
	 * a new ticket (a cache miss): let the full handshake make one.
	 */
	if (r == 0 && (uint64_t)time(NULL) >
		      (uint64_t)SSL_SESSION_get_time(ss) +
		      (uint64_t)SSL_SESSION_get_timeout(ss)) {
		SSL_SESSION_free(ss);
		s->ticket_verdict = TICKET_EXPIRED;
		return;
	}
	if (r == 0)
		SSL_SESSION_get0_ticket_appdata(ss, &app, &app_len);
	if (r != 0 || !trusted_id(srv, app, app_len, &id) ||
	    dtls_check_resumed_id(s, &id) != 0 ||
	    SSL_SESSION_set1_id(ss, sid, (unsigned int)sid_len) != 1) {
		SSL_SESSION_free(ss);
		s->client_id = 0;
		s->ticket_verdict = TICKET_REFUSED;
		ERR_clear_error();
		return;
	}
	s->resume_sess = ss;
	s->ticket_verdict = TICKET_RESUME;
}

/* OpenSSL's session cache asks for the session dtls_resume_hello opened. */
static SSL_SESSION *get_session(SSL *ssl, const unsigned char *sid, int len,
				int *copy)
{
	struct session *s = SSL_get_ex_data(ssl, dtls_ex_session_idx);
	SSL_SESSION *ss = s != NULL ? s->resume_sess : NULL;
	unsigned int have = 0;
	const unsigned char *id = ss != NULL ? SSL_SESSION_get_id(ss, &have) : NULL;

	if (ss == NULL || len < 0 || have != (unsigned int)len ||
	    memcmp(id, sid, have) != 0)
		return NULL;
	s->resume_sess = NULL;	/* OpenSSL's now */
	*copy = 0;
	return ss;
}

static int ticket_key_cb(SSL *ssl, unsigned char *name, unsigned char *iv,
			 EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct xtel_dtls_server *srv = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	struct session *s = SSL_get_ex_data(ssl, dtls_ex_session_idx);
	int r;

	/*
	 * No IV (RAND failed): 0 sends an empty ticket, the handshake goes on
	 * and the device handshakes in full next time.
	 */
	if (enc)
		return dtls_ticket_seal_init(srv, name, iv, cctx, hctx) == 0;
	/* Opened already (dtls_resume_hello): 0 says "cannot decrypt". */
	if (s != NULL && s->ticket_verdict != TICKET_SLOW)
		return 0;
	/* 2: the previous key's, resume and seal a new ticket. */
	r = dtls_ticket_unseal_init(srv, name, iv, cctx, hctx);
	return r >= 0 ? 1 + r : r == -ENOKEY ? 0 : -1;
}

static SSL_TICKET_RETURN ticket_decrypted(SSL *ssl, SSL_SESSION *ss,
					  const unsigned char *keyname,
					  size_t keyname_len,
					  SSL_TICKET_STATUS status, void *arg)
{
	struct session *s = SSL_get_ex_data(ssl, dtls_ex_session_idx);
	struct xtel_dtls_server *srv = arg;
	struct dtls_ticket_id id;
	void *app = NULL;
	size_t app_len = 0;

	(void)keyname;
	(void)keyname_len;
	switch (s != NULL ? s->ticket_verdict : TICKET_SLOW) {
	case TICKET_RESUME:
		/* Look the session id up: get_session has the session. */
		return SSL_TICKET_RETURN_IGNORE;
	case TICKET_FOREIGN:
		srv->st.ticket_unknown++;
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	case TICKET_REFUSED:
		srv->st.ticket_refused++;
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	case TICKET_EXPIRED:
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	default:
		break;
	}
	switch (status) {
	case SSL_TICKET_SUCCESS:
	case SSL_TICKET_SUCCESS_RENEW:
		break;
	case SSL_TICKET_NO_DECRYPT:
		srv->st.ticket_unknown++;
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	case SSL_TICKET_EMPTY:
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	default:	/* SSL_TICKET_NONE, a fatal error */
		return SSL_TICKET_RETURN_IGNORE;
	}
	if (ss != NULL)
		SSL_SESSION_get0_ticket_appdata(ss, &app, &app_len);
	/*
	 * OpenSSL's way: the certificate was decoded, check it too (a ticket
	 * sealed without it, ticket_lean.c, by the identity beside it).
	 */
	if (s == NULL || ss == NULL || !trusted_id(srv, app, app_len, &id) ||
	    (SSL_SESSION_get0_peer(ss) != NULL ?
	     dtls_check_resumed(s, SSL_SESSION_get0_peer(ss), &id) :
	     dtls_check_resumed_id(s, &id)) != 0 ||
	    s->client_id != id.client_id) {
		srv->st.ticket_refused++;
		if (s != NULL)
			s->client_id = 0;
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	}
	return status == SSL_TICKET_SUCCESS_RENEW ?
	       SSL_TICKET_RETURN_USE_RENEW : SSL_TICKET_RETURN_USE;
}

static const unsigned char sid_ctx[] = "xtel-dtls";


int dtls_resume_install(struct xtel_dtls_server *srv)
{
	int ret;

	if (srv->cfg.no_tickets)
		return 0;
	ret = dtls_tickets_init(srv);
	if (ret) {
		pr_err("AES-256-CBC or HMAC unavailable for session tickets (%s)",
		       dtls_openssl_reason());
		return ret;
	}
	if (srv->cfg.ticket_key != NULL) {
		dtls_tickets_set_key(srv, srv->cfg.ticket_key);
	} else {
		unsigned char k[XTEL_DTLS_TICKET_KEY_LEN];

		if (RAND_bytes(k, sizeof(k)) != 1) {
			ERR_clear_error();
			pr_err("no random bytes for the session ticket key");
			return -EIO;
		}
		dtls_tickets_set_key(srv, k);
		OPENSSL_cleanse(k, sizeof(k));
	}
	dtls_tickets_set_prev(srv, srv->cfg.ticket_key_prev);
	SSL_CTX_clear_options(srv->ctx, SSL_OP_NO_TICKET);
	/*
	 * OpenSSL resumes a verified peer only within a named context. The
	 * session cache stays off and empty: the lookup of a ticket opened
	 * by dtls_resume_hello comes to get_session all the same, and what
	 * it hands OpenSSL is not stored (SSL_SESS_CACHE_NO_INTERNAL, set
	 * in server.c).
	 */
	SSL_CTX_sess_set_get_cb(srv->ctx, get_session);
	if (SSL_CTX_set_session_id_context(srv->ctx, sid_ctx,
					   sizeof(sid_ctx) - 1) != 1 ||
	    SSL_CTX_set_session_ticket_cb(srv->ctx, ticket_generated,
					  ticket_decrypted, srv) != 1 ||
	    SSL_CTX_set_tlsext_ticket_key_evp_cb(srv->ctx, ticket_key_cb) != 1) {
		ERR_clear_error();
		return -ENOMEM;
	}
	return 0;
}

int xtel_dtls_server_set_ticket_key(struct xtel_dtls_server *srv,
				    const unsigned char *key)
{
	if (srv->cfg.no_tickets)
		return -ENOTSUP;
	dtls_tickets_set_key(srv, key);
	return 0;
}

void dtls_resume_note_tx(struct session *s, const unsigned char *d,
			 size_t len)
{
	size_t off = 0;

	while (off + XTEL_DTLS_HDR_LEN <= len) {
		const unsigned char *r = d + off;

		if (dtls_rec_epoch(r) == 1 &&
		    (!s->tx1_seen || dtls_rec_seq(r) + 1 > s->tx1_next)) {
			s->tx1_next = dtls_rec_seq(r) + 1;
			s->tx1_seen = true;
		}
		off += XTEL_DTLS_HDR_LEN + dtls_rec_len(r);
	}
}
