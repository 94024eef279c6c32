/* SPDX-License-Identifier: MIT */
/*
 * Which clients the server accepts, and why it refused one. On top of
 * OpenSSL's verification (chain to the CA file, validity, OpenSSL's
 * lenient purpose check) the client's certificate must carry key usage
 * digitalSignature and extended key usage clientAuth, both present: a
 * certificate issued for something else (a server, code signing, no
 * stated purpose) is not a client's. The ClientHello must offer the
 * extended master secret.
 *
 * Every failed handshake gets exactly one reason of XTEL_DTLS_FAIL_STATS
 * (dtls/server.h), from the check of our own that refused it (the CN, the
 * key usage, ...) or else from what OpenSSL's verification or handshake
 * reported. The reason is counted in its own counter next to
 * handshake_failed, so a user learns which clients fail and why.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dtls/server_internal.h"

_Static_assert(XTEL_DTLS_STAT_FAILED_OTHER - XTEL_DTLS_STAT_FAILED_UNKNOWN_CA ==
	       XTEL_DTLS_FAILED_OTHER,
	       "the failed_* counters are one block in reason order");

const char *xtel_dtls_fail_name(enum xtel_dtls_fail reason)
{
	static const char prefix[] = "failed_";

	if ((unsigned int)reason >= XTEL_DTLS_NFAILS)
		return "unknown";
	return xtel_dtls_server_stat_names[xtel_dtls_fail_stat(reason)] +
	       sizeof(prefix) - 1;
}

/* Refuse the certificate being verified for our reason, with error err. */
static int refuse(struct session *s, X509_STORE_CTX *xs,
		  enum xtel_dtls_fail reason, int err)
{
	s->fail_set = true;
	s->fail = (uint8_t)reason;
	X509_STORE_CTX_set_error(xs, err);
	return 0;
}

/*
 * Both extensions present and saying so. OpenSSL's purpose check accepts
 * a certificate without them (no extension means any use).
 */
static int check_key_usage(struct session *s, X509_STORE_CTX *xs, X509 *leaf)
{
	uint32_t flags = X509_get_extension_flags(leaf);

	if (!(flags & EXFLAG_KUSAGE) ||
	    !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
		return refuse(s, xs, XTEL_DTLS_FAILED_KEY_USAGE,
			      X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE);
	if (!(flags & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT))
		return refuse(s, xs, XTEL_DTLS_FAILED_KEY_USAGE,
			      X509_V_ERR_INVALID_PURPOSE);
	return 1;
}

/*
 * With pinned CAs, the chain must pass through one of them: the leaf's
 * issuer, an intermediate above it or the root it ends at (or the leaf
 * itself when the CA file trusts it directly). A pin of a root admits
 * the devices of all its intermediates; a pin of an intermediate only
 * those under it.
 */
static int check_pin(struct session *s, X509_STORE_CTX *xs, X509 *leaf)
{
	const struct xtel_dtls_policy *p = s->srv->policy;
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(xs);
	int depth = chain != NULL ? sk_X509_num(chain) : 0;

	if (p->pins == NULL)
		return 1;
	for (int k = depth > 1 ? 1 : 0; k < (depth > 1 ? depth : 1); k++) {
		X509 *ca = depth > 1 ? sk_X509_value(chain, k) : leaf;

		for (int i = 0; i < sk_X509_num(p->pins); i++)
			if (X509_cmp(ca, sk_X509_value(p->pins, i)) == 0)
				return 1;
	}
	return refuse(s, xs, XTEL_DTLS_FAILED_UNKNOWN_CA,
		      X509_V_ERR_CERT_UNTRUSTED);
}

/* Bit k: c's intermediate k is none of the certificates the device sent. */
static uint8_t stored_bits(const struct dtls_chain *c, STACK_OF(X509) *sent)
{
	uint8_t bits = 0;

	for (unsigned int k = 0; k < c->n_cas; k++) {
		bool found = false;

		for (int i = 0; sent != NULL && i < sk_X509_num(sent) && !found; i++)
			found = dtls_cert_ca_key(sk_X509_value(sent, i)) == c->ca_key[k];
		if (!found)
			bits |= (uint8_t)(1u << k);
	}
	return bits;
}

/* Whether p's CA file still has each intermediate that c took from one. */
static bool chain_cas_stored(const struct xtel_dtls_policy *p,
			     const struct dtls_chain *c)
{
	for (unsigned int k = 0; k < c->n_cas; k++)
		if ((c->ca_stored & (1u << k)) &&
		    !dtls_policy_has_ca(p, c->ca_key[k], false))
			return false;
	return true;
}

int dtls_chain_rebuilt(const struct xtel_dtls_policy *p, struct dtls_chain *c,
		       STACK_OF(X509) *sent)
{
	c->ca_stored = stored_bits(c, sent);
	return chain_cas_stored(p, c) ? 0 : -ENOENT;
}

/*
 * The intermediates of xs's chain (between the leaf and the anchor) into
 * c: identity, revocation key, and whether the CA file gave it.
 */
static void note_cas(struct dtls_chain *c, X509_STORE_CTX *xs,
		     STACK_OF(X509) *chain, int depth)
{
	c->n_cas = 0;
	for (int k = 1; k < depth - 1 && c->n_cas < DTLS_CHAIN_CAS; k++) {
		X509 *ca = sk_X509_value(chain, k);

		c->ca_key[c->n_cas] = dtls_cert_ca_key(ca);
		c->ca_rev[c->n_cas] = dtls_rev_key(
			X509_NAME_hash_ex(X509_get_issuer_name(ca), NULL, NULL,
					  NULL),
			X509_get0_serialNumber(ca));
		c->n_cas++;
	}
	c->ca_stored = stored_bits(c, X509_STORE_CTX_get0_untrusted(xs));
}

/*
 * Note what a new policy needs to find this session in its CRLs (the
 * issuer's name and the serial number) and to judge whether it still
 * trusts it (the issuer, for the pins; the chain's trust anchor, the last
 * certificate of the verified chain, which X509_verify_cert took from the
 * CA file).
 */
void dtls_note_certificate(struct session *s, X509 *leaf, X509_STORE_CTX *xs)
{
	const ASN1_INTEGER *serial = X509_get0_serialNumber(leaf);
	int len = ASN1_STRING_length(serial);
	STACK_OF(X509) *chain = xs != NULL ? X509_STORE_CTX_get0_chain(xs) : NULL;
	int depth = chain != NULL ? sk_X509_num(chain) : 0;

	s->issuer_hash = X509_NAME_hash_ex(X509_get_issuer_name(leaf), NULL,
					   NULL, NULL);
	s->issuer_kid = dtls_key_id_hash(X509_get0_authority_key_id(leaf));
	s->chain.anchor_hash = s->issuer_hash;
	s->chain.anchor_kid = s->issuer_kid;
	s->chain.n_cas = 0;
	s->chain.ca_stored = 0;
	if (depth > 1) {
		X509 *top = sk_X509_value(chain, depth - 1);

		note_cas(&s->chain, xs, chain, depth);
		s->chain.anchor_hash = X509_NAME_hash_ex(
			X509_get_subject_name(top), NULL, NULL, NULL);
		s->chain.anchor_kid = dtls_key_id_hash(
			X509_get0_subject_key_id(top));
	}
	/* Unreadable: the leaf's own validity bounds its tickets. */
	if (depth == 0 || dtls_chain_validity(xs, &s->chain.not_before,
					      &s->chain.not_after) != 0) {
		s->chain.not_before = INT64_MIN;
		s->chain.not_after = INT64_MAX;
	}
	s->serial_len = 0;
	if (len > 0 && len <= SERIAL_MAX) {
		memcpy(s->serial, ASN1_STRING_get0_data(serial), (size_t)len);
		s->serial_len = (uint8_t)len;
	}
}

/* Refuse (other) a certificate a session could not note, logging why. */
static int refuse_unnoted(struct session *s, X509_STORE_CTX *xs,
			  const char *why)
{
	char peer[PEER_STR_LEN];

	dtls_format_peer(&s->peer.sa, peer, sizeof(peer));
	dtls_srv_log(s->srv, "dtls: handshake with %s refused: the client "
		     "certificate's %s", peer, why);
	return refuse(s, xs, XTEL_DTLS_FAILED_OTHER,
		      X509_V_ERR_APPLICATION_VERIFICATION);
}

int dtls_check_leaf(struct session *s, X509_STORE_CTX *xs, int ok,
		    bool cached)
{
	X509 *leaf = X509_STORE_CTX_get_current_cert(xs);
	char why[96];
	uint32_t id;

	if (leaf == NULL)
		return ok;
	/* The id it claims, for the failure report even when refused. */
	if (dtls_parse_client_cn(leaf, &id) == 0)
		s->client_id = id;
	if (!ok || (!cached && (!check_pin(s, xs, leaf) ||
				!check_key_usage(s, xs, leaf))))
		return 0;
	/*
	 * RFC 5280 4.1.2.2 allows 20 bytes. A longer serial could not be
	 * noted (dtls_note_certificate), and a session not noted is one no
	 * later policy finds: its revocation, a denied id, its CA dropped
	 * would all leave it running.
	 */
	if (ASN1_STRING_length(X509_get0_serialNumber(leaf)) > SERIAL_MAX) {
		snprintf(why, sizeof(why), "serial number of %d bytes is over "
			 "RFC 5280's 20",
			 ASN1_STRING_length(X509_get0_serialNumber(leaf)));
		return refuse_unnoted(s, xs, why);
	}
	/*
	 * The same for a chain of more intermediates than a session notes
	 * (DTLS_CHAIN_CAS): a later CRL revoking the one above could not
	 * find it.
	 */
	if (!cached && X509_STORE_CTX_get0_chain(xs) != NULL &&
	    sk_X509_num(X509_STORE_CTX_get0_chain(xs)) > DTLS_CHAIN_CAS + 2) {
		snprintf(why, sizeof(why), "chain has %d intermediate CAs, over %d",
			 sk_X509_num(X509_STORE_CTX_get0_chain(xs)) - 2,
			 DTLS_CHAIN_CAS);
		return refuse_unnoted(s, xs, why);
	}
	if (s->client_id != 0 && dtls_policy_denies(s->srv->policy, s->client_id))
		return refuse(s, xs, XTEL_DTLS_FAILED_DENIED,
			      X509_V_ERR_CERT_REJECTED);
	if (s->client_id != 0 && s->srv->cfg.admit != NULL &&
	    !s->srv->cfg.admit(s->srv->cfg.admit_arg, s->client_id))
		return refuse(s, xs, XTEL_DTLS_FAILED_DEVICE,
			      X509_V_ERR_CERT_REJECTED);
	dtls_note_certificate(s, leaf, cached ? NULL : xs);
	return 1;
}

static enum xtel_dtls_fail refused_now(const struct xtel_dtls_server *srv,
				       const struct session *s);

/*
 * A ticket's certificate passed every check when the ticket was issued;
 * what may have changed since is re-checked: its validity and its CA's,
 * the CRLs, the deny list, the admit callback, and (for a restart) that
 * it names the client of the session it would replace. Anything refused
 * resumes nothing: the full handshake that follows verifies the
 * certificate the client sends and refuses it under its reason.
 */
int dtls_check_resumed_id(struct session *s, const struct dtls_ticket_id *id)
{
	const struct xtel_dtls_server *srv = s->srv;
	int64_t now = (int64_t)time(NULL);

	/*
	 * As X509_cmp_time: expired at notAfter, valid from past notBefore;
	 * the CA too, as the full handshake's chain check would have it.
	 */
	if (id->not_after <= now || id->not_before > now ||
	    !dtls_policy_anchor_valid(srv->policy, (unsigned long)id->anchor_hash,
				      id->anchor_kid, now))
		return -EPERM;
	if (s->replaces != NULL && s->replaces->client_id != id->client_id)
		return -EPERM;
	s->issuer_hash = (unsigned long)id->issuer_hash;
	s->issuer_kid = id->issuer_kid;
	s->chain.anchor_hash = (unsigned long)id->anchor_hash;
	s->chain.anchor_kid = id->anchor_kid;
	s->chain.not_before = id->not_before;
	s->chain.not_after = id->not_after;
	s->chain.n_cas = id->n_cas;
	s->chain.ca_stored = id->ca_stored;
	memcpy(s->chain.ca_key, id->ca_key, sizeof(s->chain.ca_key));
	memcpy(s->chain.ca_rev, id->ca_rev, sizeof(s->chain.ca_rev));
	memcpy(s->serial, id->serial, sizeof(s->serial));
	s->serial_len = id->serial_len;
	s->client_id = id->client_id;
	if (refused_now(srv, s) != XTEL_DTLS_NFAILS ||
	    (srv->cfg.admit != NULL &&
	     !srv->cfg.admit(srv->cfg.admit_arg, id->client_id))) {
		s->serial_len = 0;
		return -EPERM;
	}
	return 0;
}

int dtls_check_resumed(struct session *s, X509 *leaf,
		       const struct dtls_ticket_id *sealed)
{
	struct dtls_ticket_id id;

	if (dtls_ticket_id_from_cert(leaf, &id) != 0)
		return -EPERM;
	/* A ticket carries no chain: its anchor, CAs and validity are sealed. */
	id.anchor_hash = sealed->anchor_hash;
	id.anchor_kid = sealed->anchor_kid;
	id.n_cas = sealed->n_cas;
	id.ca_stored = sealed->ca_stored;
	memcpy(id.ca_key, sealed->ca_key, sizeof(id.ca_key));
	memcpy(id.ca_rev, sealed->ca_rev, sizeof(id.ca_rev));
	if (sealed->not_before > id.not_before)
		id.not_before = sealed->not_before;
	if (sealed->not_after < id.not_after)
		id.not_after = sealed->not_after;
	return dtls_check_resumed_id(s, &id);
}

int dtls_policy_apply(struct xtel_dtls_server *srv)
{
	const struct xtel_dtls_policy *p = srv->policy;
	STACK_OF(X509_NAME) *names;

	/* The store first: whatever else fails, verification is p's. */
	SSL_CTX_set1_cert_store(srv->ctx, p->store);
	/* And tickets resume under p's trust only. */
	dtls_resume_policy(srv);
	/* And no chain check made under another policy is taken. */
	dtls_vcache_policy(srv);
	names = sk_X509_NAME_new_null();
	if (names == NULL)
		return -ENOMEM;
	/* Tell clients which CAs we accept (they pick their certificate). */
	for (int i = 0; i < sk_X509_num(p->cas); i++) {
		X509_NAME *n = X509_NAME_dup(X509_get_subject_name(
			sk_X509_value(p->cas, i)));

		if (n == NULL || !sk_X509_NAME_push(names, n)) {
			X509_NAME_free(n);
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			return -ENOMEM;
		}
	}
	SSL_CTX_set_client_CA_list(srv->ctx, names);
	return 0;
}

/* Whether p's CRLs list the certificate s noted. */
static bool revoked(const struct xtel_dtls_policy *p, const struct session *s)
{
	ASN1_INTEGER *serial;
	bool found = false;

	if (p->crls == NULL || s->serial_len == 0)
		return false;
	/* An intermediate of its chain revoked (by the CA above it). */
	for (unsigned int k = 0; k < s->chain.n_cas; k++)
		if (dtls_policy_revokes_ca(p, s->chain.ca_rev[k]))
			return true;
	serial = ASN1_INTEGER_new();
	if (serial == NULL ||
	    ASN1_STRING_set(serial, s->serial, s->serial_len) != 1) {
		ASN1_INTEGER_free(serial);
		return false;
	}
	for (int i = 0; i < sk_X509_CRL_num(p->crls) && !found; i++) {
		X509_CRL *crl = sk_X509_CRL_value(p->crls, i);
		X509_REVOKED *rev;

		if (X509_NAME_hash_ex(X509_CRL_get_issuer(crl), NULL, NULL,
				      NULL) == s->issuer_hash &&
		    X509_CRL_get0_by_serial(crl, &rev, serial) == 1)
			found = true;
	}
	ASN1_INTEGER_free(serial);
	return found;
}

/* Whether a CA of s's chain (issuer, intermediates, anchor) is pinned. */
static bool chain_pinned(const struct xtel_dtls_policy *p,
			 const struct session *s)
{
	if (dtls_policy_trusts_issuer(p, s->issuer_hash, s->issuer_kid) ||
	    dtls_policy_has_ca(p, dtls_ca_key(s->chain.anchor_hash,
					      s->chain.anchor_kid), true))
		return true;
	for (unsigned int k = 0; k < s->chain.n_cas; k++)
		if (dtls_policy_has_ca(p, s->chain.ca_key[k], true))
			return true;
	return false;
}

/*
 * Whether a CA of s's chain (the leaf's issuer, the anchor, an
 * intermediate) has no CRL under p: the full handshake's CRL_CHECK_ALL
 * refuses such a chain ("unable to get certificate CRL"), so neither its
 * sessions nor its tickets outlive a reload to such a CRL file. An
 * intermediate must be one of p's files with a CRL: one only devices
 * send has none.
 */
static bool chain_lacks_crl(const struct xtel_dtls_policy *p,
			    const struct session *s)
{
	if (p->crls == NULL)
		return false;
	if (dtls_policy_lacks_crl(p, s->issuer_hash, s->issuer_kid) ||
	    dtls_policy_lacks_crl(p, s->chain.anchor_hash, s->chain.anchor_kid))
		return true;
	for (unsigned int k = 0; k < s->chain.n_cas; k++)
		if (!dtls_policy_ca_has_crl(p, s->chain.ca_key[k]))
			return true;
	return false;
}

/* Why srv->policy refuses the session now (XTEL_DTLS_NFAILS: it does not). */
static enum xtel_dtls_fail refused_now(const struct xtel_dtls_server *srv,
				       const struct session *s)
{
	if (s->serial_len == 0)
		return XTEL_DTLS_NFAILS;
	if (revoked(srv->policy, s))
		return XTEL_DTLS_FAILED_REVOKED;
	if (dtls_policy_denies(srv->policy, s->client_id))
		return XTEL_DTLS_FAILED_DENIED;
	/*
	 * its chain's root left the CA file, or an intermediate the CA file
	 * gave it, or (pinned) no CA of its chain is pinned any more
	 */
	if (!dtls_policy_trusts_anchor(srv->policy, s->chain.anchor_hash,
				       s->chain.anchor_kid) ||
	    !chain_cas_stored(srv->policy, &s->chain) ||
	    (srv->policy->pins != NULL && !chain_pinned(srv->policy, s)))
		return XTEL_DTLS_FAILED_UNKNOWN_CA;
	/* as the full handshake: failed_other */
	if (chain_lacks_crl(srv->policy, s))
		return XTEL_DTLS_FAILED_OTHER;
	return XTEL_DTLS_NFAILS;
}

/* What the sweep's log line says a new policy did to a session. */
static const char *swept_why(enum xtel_dtls_fail r)
{
	return r == XTEL_DTLS_FAILED_REVOKED ? "certificate revoked" :
	       r == XTEL_DTLS_FAILED_DENIED ? "client id denied" :
	       r == XTEL_DTLS_FAILED_OTHER ? "a CA of its chain has no CRL" :
	       "its CA no longer trusted";
}

void dtls_policy_sweep(struct xtel_dtls_server *srv)
{
	struct session *s, *next;
	char peer[PEER_STR_LEN];

	for (s = srv->lru.head; s != NULL; s = next) {
		enum xtel_dtls_fail r = refused_now(srv, s);

		next = s->next;
		if (r == XTEL_DTLS_NFAILS)
			continue;
		dtls_format_peer(&s->peer.sa, peer, sizeof(peer));
		dtls_srv_log(srv, "dtls: session with %s (client %u) closed: "
			     "%s by the new policy", peer, s->client_id,
			     swept_why(r));
		/* A CA without a CRL is no longer trusted: untrusted. */
		if (r == XTEL_DTLS_FAILED_UNKNOWN_CA ||
		    r == XTEL_DTLS_FAILED_OTHER)
			srv->st.sessions_untrusted++;
		else
			srv->st.sessions_revoked++;
		dtls_session_send_close(srv, s);
		dtls_session_free(srv, s);
	}
	/* Past their certificate under the old policy: refused now. */
	for (s = srv->half_open.head; s != NULL; s = next) {
		enum xtel_dtls_fail r = refused_now(srv, s);

		next = s->next;
		if (r == XTEL_DTLS_NFAILS)
			continue;
		dtls_format_peer(&s->peer.sa, peer, sizeof(peer));
		dtls_srv_log(srv, "dtls: handshake with %s (client %u) ended: "
			     "%s by the new policy", peer, s->client_id,
			     swept_why(r));
		dtls_count_failure(srv, s, r);
		dtls_session_free(srv, s);
	}
}

/*
 * The ClientHello must offer the extended master secret (RFC 7627): the
 * built-in record layer derives its keys from the master secret, and
 * without EMS a man in the middle can make two sessions share one (the
 * triple handshake attack). RFC 7627 5.3 lets a server refuse such a
 * client; this one does, with a handshake_failure alert, before any key
 * exchange work. DTLSv1_listen does not run this callback: it comes with
 * the session's first SSL_do_handshake, so the session is known.
 */
static int hello_cb(SSL *ssl, int *al, void *arg)
{
	struct session *s = SSL_get_ex_data(ssl, dtls_ex_session_idx);
	const unsigned char *ext;
	size_t len;

	(void)arg;
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_extended_master_secret,
				      &ext, &len) == 1) {
		if (s != NULL)
			dtls_resume_hello(s, ssl);
		return SSL_CLIENT_HELLO_SUCCESS;
	}
	if (s != NULL) {
		s->fail_set = true;
		s->fail = XTEL_DTLS_FAILED_NO_EMS;
	}
	*al = SSL_AD_HANDSHAKE_FAILURE;
	return SSL_CLIENT_HELLO_ERROR;
}

void dtls_verify_install(SSL_CTX *ctx)
{
	SSL_CTX_set_client_hello_cb(ctx, hello_cb, NULL);
}

/* The reason of an X509_V_ERR_* result of the client's certificate. */
static enum xtel_dtls_fail verify_reason(long vr)
{
	switch (vr) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return XTEL_DTLS_FAILED_UNKNOWN_CA;
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return XTEL_DTLS_FAILED_EXPIRED;
	case X509_V_ERR_CERT_REVOKED:
		return XTEL_DTLS_FAILED_REVOKED;
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
		return XTEL_DTLS_FAILED_KEY_USAGE;
	default:
		return XTEL_DTLS_FAILED_OTHER;
	}
}

/*
 * Call before OpenSSL's error queue is cleared: a client that sent no
 * certificate is known only by the handshake's error.
 */
enum xtel_dtls_fail dtls_fail_reason(const struct session *s)
{
	unsigned long e = ERR_peek_last_error();
	long vr;

	if (s->fail_set)
		return (enum xtel_dtls_fail)s->fail;
	if (s->bad_cn)
		return XTEL_DTLS_FAILED_BAD_CN;
	if (s->ssl == NULL)
		return XTEL_DTLS_FAILED_OTHER;
	vr = SSL_get_verify_result(s->ssl);
	if (vr != X509_V_OK)
		return verify_reason(vr);
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		return XTEL_DTLS_FAILED_NO_CERT;
	return XTEL_DTLS_FAILED_OTHER;
}

void dtls_count_failure(struct xtel_dtls_server *srv, struct session *s,
			enum xtel_dtls_fail reason)
{
	uint64_t *st = (uint64_t *)&srv->st;

	srv->st.handshake_failed++;
	st[xtel_dtls_fail_stat(reason)]++;
	if (srv->cfg.on_failure != NULL)
		srv->cfg.on_failure(srv->cfg.failure_arg, &s->peer.sa,
				    s->peer_len, reason, s->client_id);
}
