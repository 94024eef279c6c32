/* SPDX-License-Identifier: MIT */
/*
 * Session resumption for reconnecting devices: stateless session tickets
 * (RFC 5077), not a session-ID cache. A ticket is the session sealed with
 * the server's ticket key and kept by the client, so the server stores
 * nothing per device and a restart storm of any size costs no memory; the
 * collector's workers share one key (cfg.ticket_key) so a device may come
 * back on any of them. The sealed session holds the client's certificate,
 * and the client id binding stays: before OpenSSL may use a ticket, the
 * decrypt callback re-checks that certificate against the current policy
 * (dtls_check_resumed: validity, CRLs, deny list, admit callback, the id
 * of a session it would replace) and that the policy still trusts what it
 * trusted then (its CAs and pins, trust_digest). A ticket it refuses, or one sealed with
 * another key, resumes nothing: the handshake goes on as a full one, whose
 * verification refuses a revoked or denied device under its reason.
 * Rotation: xtel_dtls_server_set_ticket_key; tickets of the old key then
 * fall back to full handshakes.
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
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

/* Before a ticket is sealed: the trust it was issued under. */
static int ticket_generated(SSL *ssl, void *arg)
{
	struct xtel_dtls_server *srv = arg;
	unsigned char md[SHA256_DIGEST_LENGTH];

	/* Without it the ticket resumes nothing (ticket_refused). */
	if (trust_digest(srv->policy, md) == 0)
		SSL_SESSION_set1_ticket_appdata(SSL_get0_session(ssl), md,
						sizeof(md));
	ERR_clear_error();
	return 1;
}

static bool same_trust(const struct xtel_dtls_server *srv, SSL_SESSION *ss)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	void *data = NULL;
	size_t len = 0;

	return SSL_SESSION_get0_ticket_appdata(ss, &data, &len) == 1 &&
	       len == sizeof(md) && trust_digest(srv->policy, md) == 0 &&
	       memcmp(data, md, sizeof(md)) == 0;
}

static SSL_TICKET_RETURN ticket_decrypted(SSL *ssl, SSL_SESSION *ss,
					  const unsigned char *keyname,
					  size_t keyname_len,
					  SSL_TICKET_STATUS status, void *arg)
{
	struct session *s = SSL_get_ex_data(ssl, dtls_ex_session_idx);
	struct xtel_dtls_server *srv = arg;

	(void)keyname;
	(void)keyname_len;
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
	if (s == NULL || ss == NULL || !same_trust(srv, ss) ||
	    dtls_check_resumed(s, SSL_SESSION_get0_peer(ss)) != 0) {
		srv->st.ticket_refused++;
		if (s != NULL)
			s->client_id = 0;
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	}
	return status == SSL_TICKET_SUCCESS_RENEW ?
	       SSL_TICKET_RETURN_USE_RENEW : SSL_TICKET_RETURN_USE;
}

static const unsigned char sid_ctx[] = "xtel-dtls";

static int set_key(struct xtel_dtls_server *srv, const unsigned char *key)
{
	unsigned char k[XTEL_DTLS_TICKET_KEY_LEN];
	long r;

	memcpy(k, key, sizeof(k));
	r = SSL_CTX_set_tlsext_ticket_keys(srv->ctx, k, sizeof(k));
	OPENSSL_cleanse(k, sizeof(k));
	if (r != 1) {
		pr_err("OpenSSL refused the session ticket key (%s)",
		       dtls_openssl_reason());
		ERR_clear_error();
		return -EINVAL;
	}
	return 0;
}

int dtls_resume_install(struct xtel_dtls_server *srv)
{
	if (srv->cfg.no_tickets)
		return 0;
	SSL_CTX_clear_options(srv->ctx, SSL_OP_NO_TICKET);
	/* OpenSSL resumes a verified peer only within a named context. */
	if (SSL_CTX_set_session_id_context(srv->ctx, sid_ctx,
					   sizeof(sid_ctx) - 1) != 1 ||
	    SSL_CTX_set_session_ticket_cb(srv->ctx, ticket_generated,
					  ticket_decrypted, srv) != 1) {
		ERR_clear_error();
		return -ENOMEM;
	}
	return srv->cfg.ticket_key != NULL ? set_key(srv, srv->cfg.ticket_key) : 0;
}

int xtel_dtls_server_set_ticket_key(struct xtel_dtls_server *srv,
				    const unsigned char *key)
{
	if (srv->cfg.no_tickets)
		return -ENOTSUP;
	return set_key(srv, key);
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
