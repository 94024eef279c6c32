/* SPDX-License-Identifier: MIT */
/*
 * Private to the server's files: its state, one session, and the functions
 * they call across files. Who writes what:
 *   server.c       lifecycle, the input dispatch (cur_*, now), timers, stats
 *   cookie.c       struct dtls_cookies, the cookie callbacks
 *   peers.c        the hash table, the half-open list and LRU, sessions'
 *                  allocation and end (the one place a session goes down)
 *   handshake.c    the listener, handshakes, the capture of the final flight
 *   prefilter.c    what a half-open handshake may hand OpenSSL, and the
 *                  estimate of what that costs (session.held)
 *   established.c  established sessions' records on either record layer
 *   record.c       the built-in layer's keys (dtls_rl_keys, see record.h)
 * Everything runs on the thread that owns the server; nothing is locked.
 */
#ifndef XTEL_DTLS_SERVER_INTERNAL_H
#define XTEL_DTLS_SERVER_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "common/log.h"
#include "dtls/dgram_bio.h"
#include "dtls/internal.h"
#include "dtls/record.h"
#include "dtls/server.h"

enum {
	FLIGHT_MAX = 4,		/* datagrams of our final flight kept */
	SECRET_LEN = 32,	/* cookie secret */
	COOKIE_MAC_LEN = 20,	/* the MAC part of a cookie (cookie.c) */
	LOG_NAME_LEN = 32,
	SERIAL_MAX = 20,	/* bytes of a certificate serial (RFC 5280) */
	/* "address:port" or "[address]:port" of dtls_format_peer */
	PEER_STR_LEN = INET6_ADDRSTRLEN + 8,
	/*
	 * Handshake messages of the client's flight after its ClientHello:
	 * Certificate, ClientKeyExchange, CertificateVerify (prefilter.c).
	 */
	CLIENT_FLIGHT_MSGS = 3,
	/*
	 * Heap a half-open handshake holds while it waits for the client's
	 * flight, the base of the estimate in half_open_bytes. Measured with
	 * OpenSSL 3.0 (test_half_open_memory_under_attack checks it): the
	 * handshake buffer 21.8 KiB, the SSL 7.6 KiB, the write-buffering
	 * BIO 8 KiB, our flight kept for resending 1.3 KiB, session, keys
	 * and the rest 5 KiB. Its record buffers are freed (parked).
	 */
	HALF_OPEN_BASE_BYTES = 44 * 1024,
};

/* Address and port in one fixed-size, zero-padded hash key. */
struct peer_key {
	uint16_t family;
	uint16_t port;		/* network byte order */
	uint32_t scope_id;
	unsigned char addr[16];
};

union peer_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/*
 * What a verified chain leaves a session (verify.c), a verification cache
 * entry (vcache.c) and, through the ticket, a resumed session: its trust
 * anchor (the CA of the CA file X509_verify_cert ended at: the leaf's
 * issuer when the CA file trusts that directly, the root when the device
 * sends its intermediate), by subject name hash and key id hash, and the
 * validity every certificate of the chain shares. "Still trusted" is
 * judged by the anchor (refused_now), the pins by the leaf's issuer.
 *
 * And the intermediate CAs between the leaf and the anchor (ca[0] the
 * leaf's issuer, up to DTLS_CHAIN_CAS of them; a longer chain is refused,
 * dtls_check_leaf): each by its identity (dtls_ca_key of its subject name
 * hash and subject key id hash), so a new policy tells whether a pin or
 * the CA file still has it, and by its revocation key (dtls_rev_key of
 * its issuer's name hash and its serial), so a new policy finds it in its
 * CRLs. ca_stored bit k: ca[k] came from the CA file, not from the
 * device (a CA file without it cannot build the chain again).
 */
enum { DTLS_CHAIN_CAS = 2 };

struct dtls_chain {
	unsigned long anchor_hash;
	uint64_t anchor_kid;
	int64_t not_before, not_after;	/* valid in [not_before, not_after) */
	uint64_t ca_key[DTLS_CHAIN_CAS];
	uint64_t ca_rev[DTLS_CHAIN_CAS];
	uint8_t n_cas;
	uint8_t ca_stored;
};

enum session_state {
	SESSION_HANDSHAKE,
	SESSION_ESTABLISHED,
};

/*
 * The built-in record layer of an established session once OpenSSL is
 * done with it (established.c): the AEAD keys of epoch 1 and our last
 * handshake flight, kept until the client proves it arrived. It lives
 * inside its session (rl_mem), right after the fields every record reads,
 * so that a record's open and re-key read the lines next to them.
 */
struct own_rl {
	unsigned char *flight;		/* datagrams back to back; every record checks it */
	struct dtls_rl_keys keys;	/* its hot part next to flight (record.h) */
	uint8_t flight_n;
	uint16_t flight_len[FLIGHT_MAX];
};

/*
 * The fields every established session's record reads come first, in 64
 * bytes (the look-up's hash and key, the state, the layer, the replay
 * window, the client id and peer_len for on_data), then what an authentic
 * one writes (the LRU links, last_rx): at 100,000 sessions in fleet order
 * each line a record
 * touches is a cache miss (docs/CAPACITY.md "The session side in fleet
 * order"). The look-up reads hnext only past a mismatch.
 */
struct session {
	uint32_t hash;
	uint8_t state;
	bool win_valid;
	uint16_t win_epoch;
	struct peer_key key;
	struct own_rl *rl;		/* NULL, or &rl_mem: the built-in layer */
	uint64_t win_top;		/* highest delivered record number */
	uint64_t win_bits;		/* bit i: win_top - i was delivered */
	uint32_t client_id;
	socklen_t peer_len;		/* of peer, handed to on_data */
	struct session *prev, *next;	/* half-open list or idle LRU */
	uint64_t last_rx;		/* last authentic record */
	struct own_rl rl_mem;		/* rl points here once it took over */
	struct session *hnext;		/* hash chain */
	struct xtel_dtls_server *srv;
	SSL *ssl;			/* NULL once rl took over */
	BIO *bio;			/* owned by ssl */
	union peer_addr peer;
	bool bad_cn;			/* certificate CN was not client-<id> */
	bool other_id;			/* a restart as another client id */
	bool parked;			/* record buffers freed (session_park) */
	/*
	 * Half-open only. progressed: OpenSSL's handshake moved on from the
	 * state our first flight left it in (hs_state), which only a
	 * client's real flight does; epoch1_rx: epoch-1 records passed;
	 * held: the estimate of the heap it holds (prefilter.c), charged[i]:
	 * the longest message claimed with message_seq 2 + i.
	 */
	bool progressed;
	uint8_t epoch1_rx;
	int hs_state;
	uint32_t held;
	uint16_t charged[CLIENT_FLIGHT_MSGS];
	uint64_t started;		/* cookie verified */
	uint64_t rtx_deadline;		/* handshake retransmission timer */
	unsigned char client_random[32];	/* of the handshake that made it */
	/*
	 * A client restarting on the address of an established session
	 * handshakes in a session of its own, `pending`, that is not in the
	 * hash table; `replaces` points back. Only when that handshake
	 * completes does it replace the old session (RFC 6347 4.2.8), so a
	 * replayed or spoofed ClientHello cannot end a working session.
	 */
	struct session *pending;
	struct session *replaces;
	/*
	 * A check of our own refused the handshake (verify.c): fail is the
	 * enum xtel_dtls_fail it chose.
	 */
	bool fail_set;
	uint8_t fail;
	/*
	 * The client certificate that passed verification (verify.c): its
	 * issuer's name hash and serial number, so a new policy can find the
	 * session in its CRLs, and its authority key id (hashed, 0: none), so
	 * a new policy that no longer trusts the issuer ends it. serial_len
	 * 0: none yet (or a serial over SERIAL_MAX bytes, which RFC 5280
	 * does not allow).
	 */
	uint8_t serial_len;
	unsigned char serial[SERIAL_MAX];
	unsigned long issuer_hash;
	uint64_t issuer_kid;
	struct dtls_chain chain;
	/*
	 * The next record number of epoch 1 after the ones this session's
	 * handshake sent (tx1_seen: any). A resumed handshake sends its
	 * Finished before the client's: the take-over (established.c) finds
	 * it here, not in the last call's capture.
	 */
	bool tx1_seen;
	uint64_t tx1_next;
	/*
	 * The ClientHello's ticket, opened by resume.c before OpenSSL would:
	 * the verdict, and for TICKET_RESUME the session to resume (ours
	 * until OpenSSL takes it from the session cache callback).
	 */
	uint8_t ticket_verdict;
	SSL_SESSION *resume_sess;
};

/*
 * What a session ticket's certificate was, sealed beside it as the ticket's
 * app data (ticket.c) so a resumption re-checks the policy without
 * decoding the certificate: the client id of its CN, its validity, its
 * issuer name's hash and serial (CRLs), and the trust digest of the policy
 * that admitted it (resume.c).
 */
struct dtls_ticket_id {
	unsigned char trust[32];
	uint32_t client_id;
	int64_t not_before, not_after;	/* seconds since the epoch */
	uint64_t issuer_hash;
	/*
	 * Its authority key id, hashed (dtls_key_id_hash, 0: none): a
	 * resumed session has no certificate to read it from, and without it
	 * a reload could tell its CA only by name from a same-named one.
	 */
	uint64_t issuer_kid;
	/* The chain's trust anchor, as the session's (anchor_hash). */
	uint64_t anchor_hash, anchor_kid;
	uint8_t serial_len;
	unsigned char serial[SERIAL_MAX];
	/* Its intermediate CAs, as the session's (struct dtls_chain). */
	uint8_t n_cas, ca_stored;
	uint64_t ca_key[DTLS_CHAIN_CAS], ca_rev[DTLS_CHAIN_CAS];
};

/*
 * Version, trust, id, validity, issuer hash, issuer key id, anchor hash,
 * anchor key id, serial length and bytes, the number of intermediates,
 * their stored bits, their keys and revocation keys.
 */
enum { DTLS_TICKET_ID_LEN = 1 + 32 + 4 + 8 + 8 + 8 + 8 + 8 + 8 + 1 +
			    SERIAL_MAX + 1 + 1 + 16 * DTLS_CHAIN_CAS };

/* How the ClientHello's ticket went (ticket_verdict, resume.c). */
enum ticket_verdict {
	TICKET_SLOW,		/* not opened here: OpenSSL opens it */
	TICKET_RESUME,		/* opened, re-checked: resume resume_sess */
	TICKET_FOREIGN,		/* another key, or not ours: ticket_unknown */
	TICKET_REFUSED,		/* the policy refuses it now: ticket_refused */
	TICKET_EXPIRED,		/* past the session's timeout: a new one */
};

/*
 * The ticket key and what opens tickets (ticket.c): AES-256-CBC and
 * HMAC-SHA256 fetched once; trust: the digest of the policy in force.
 */
struct dtls_tickets {
	unsigned char key[XTEL_DTLS_TICKET_KEY_LEN];
	unsigned char prev[XTEL_DTLS_TICKET_KEY_LEN];	/* has_prev: opens only */
	bool has_prev;
	EVP_CIPHER *aes;
	EVP_CIPHER_CTX *cctx;
	EVP_MAC *mac;
	EVP_MAC_CTX *hmac;		/* keyed with key's HMAC part */
	bool hmac_keyed;
	unsigned char trust[32];
	bool trust_ok;
};

/* The verification cache (vcache.c): cap entries (0: off), LRU evicted. */
struct dtls_vcache {
	struct dtls_vcache_entry *e;
	uint32_t *buckets;		/* mask + 1 chain heads */
	uint32_t cap, mask, n, used;	/* used: entries ever filled */
	uint32_t head, tail, free;	/* LRU ends, free list */
	int64_t until;			/* policy's earliest CRL nextUpdate */
	EVP_MD *sha256;
};

struct session_list {
	struct session *head, *tail;
	unsigned int n;
};

/*
 * Cookie secrets (cookie.c): [0] current period, [1] previous. The same
 * two periods have a Bloom filter each (`used`) of the cookies that started
 * a handshake, so a copy of such a ClientHello cannot start another one.
 */
struct dtls_cookies {
	EVP_MAC *mac;
	EVP_MAC_CTX *mac_ctx;
	unsigned char secret[2][SECRET_LEN];
	uint64_t period;		/* current period number */
	bool have_period;
	uint64_t *used[2];		/* COOKIE_USED_BITS bits each */
	/* The cookie the listener just verified (cookie_verify_cb). */
	unsigned char verified[COOKIE_MAC_LEN];
	bool have_verified;
};

struct xtel_dtls_server {
	struct xtel_dtls_server_cfg cfg;
	SSL_CTX *ctx;

	/* The stateless front door (handshake.c). */
	SSL *listener;
	BIO *lbio;
	BIO_ADDR *listen_addr;
	struct peer_key cur_key;	/* peer of the datagram being handled */
	unsigned char cur_random[32];	/* its ClientHello's random (cookies) */
	const struct sockaddr *cur_peer;
	const unsigned char *cur_dgram;	/* the datagram being handled */
	size_t cur_len;
	socklen_t cur_peer_len;
	uint64_t now;

	struct dtls_cookies cookie;

	/* Sessions (peers.c). */
	struct session **buckets;
	uint32_t nbuckets;		/* power of two */
	uint64_t hash_seed;
	struct session_list half_open;	/* oldest first */
	uint64_t half_open_bytes;	/* sum of their held */
	uint64_t untrimmed;		/* held of those ended since a trim */
	struct session_list lru;	/* established, least recently active first */
	unsigned int builtin;		/* sessions of lru with an own_rl */

	struct xtel_dtls_server_stats st;

	/*
	 * Failure messages come from the receive path: at most log_burst a
	 * second of the server's own clock (now), the rest counted.
	 */
	struct xtel_ratelimit log_rl;
	char log_name[LOG_NAME_LEN];	/* cfg.log_name, copied */

	/* Built-in record layer: algorithms fetched once. */
	struct dtls_rl_algs rl_algs;
	/* and the decrypt contexts its sessions share (record.h) */
	struct dtls_rl_cache rl_cache;

	/* Datagrams of the handshake step being run (the final flight). */
	bool capturing;
	uint8_t cap_n;
	bool cap_overflow;
	uint16_t cap_len[FLIGHT_MAX];
	unsigned char cap[FLIGHT_MAX][XTEL_DGRAM_SLOT_SIZE];

	/*
	 * What OpenSSL's record layer did with the record just handed to it
	 * (established.c, ssl_msg_cb): alerts it read, records it wrote,
	 * whether an alert it read was a warning other than close_notify.
	 */
	unsigned int ssl_alerts_rx, ssl_records_tx;
	bool ssl_warning_rx;

	/* Plaintext of the record being delivered. */
	unsigned char plain[16384];

	/* Whom to admit (policy.c, verify.c); a reference of ours. */
	struct xtel_dtls_policy *policy;

	/* Session tickets (ticket.c, resume.c). */
	struct dtls_tickets tk;

	/* Chain checks of returning certificates (vcache.c). */
	struct dtls_vcache vc;
};

/* The header fields of a datagram made of exactly one record. */
struct record_info {
	bool single;
	uint8_t type;
	uint16_t epoch;
	uint64_t seq;
};

/* Type, epoch and sequence number of the record at r. */
static inline void dtls_record_hdr(const unsigned char *r,
				   struct record_info *ri)
{
	ri->type = r[0];
	ri->epoch = dtls_rec_epoch(r);
	ri->seq = dtls_rec_seq(r);
}

/* The admission policy (policy.c), immutable once loaded. */
struct xtel_dtls_policy {
	unsigned int refs;		/* atomic: servers of several threads */
	X509_STORE *store;		/* cas and crls, CRL_CHECK with crls */
	STACK_OF(X509) *cas;		/* the CA file's certificates */
	STACK_OF(X509_CRL) *crls;	/* NULL: no CRL file */
	STACK_OF(X509) *pins;		/* NULL: any CA; else into cas */
	/*
	 * Intermediate CA certificates of the CRL file (devices send them;
	 * no CA file has them): each chains to cas, and only checks the
	 * signature of its CRL at load. Not in the store: trust is cas'.
	 */
	STACK_OF(X509) *crl_cas;
	/* dtls_rev_key of every CRL entry, sorted: the chain CAs' look-up */
	uint64_t *rev_keys;
	size_t n_rev_keys;
	/* dtls_ca_key of every CA of cas (stored), of pins, of cas' roots */
	uint64_t *ca_keys, *pin_keys, *root_keys;
	size_t n_ca_keys, n_pin_keys, n_root_keys;
	/*
	 * With CRLs: dtls_ca_key of every CA of cas and crl_cas that has a
	 * CRL, sorted, and those that have none (build_crl_sets); the
	 * sweep's and a ticket's look-up of a chain's CAs.
	 */
	uint64_t *crl_keys;
	size_t n_crl_keys;
	struct dtls_issuer *no_crl;
	unsigned int n_no_crl;
	uint32_t *deny;			/* sorted, distinct */
	size_t n_deny;
	unsigned int n_revoked;
	struct xtel_dtls_identity *identity;	/* NULL: keep the server's */
	/* the CAs that may issue clients (pins, else cas), for the sweep */
	struct dtls_issuer *issuers;
	unsigned int n_issuers;
	/* every CA of cas: a chain's trust anchor must be one */
	struct dtls_issuer *anchors;
	unsigned int n_anchors;
};

/*
 * A CA as a client certificate names it: subject name hash, key id hash;
 * and its validity (a resumption has no chain to check it in).
 */
struct dtls_issuer {
	unsigned long name_hash;
	uint64_t kid;			/* 0: the CA has no subject key id */
	int64_t not_before, not_after;	/* seconds since the epoch */
};

/* ---- server.c ---- */

/*
 * A warning from the receive path, rate limited by the server's clock and
 * prefixed with cfg.log_name.
 */
void dtls_srv_log(struct xtel_dtls_server *srv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- cookie.c ---- */

/* Fetch HMAC-SHA256 and install the cookie callbacks on srv->ctx. */
int dtls_cookie_init(struct xtel_dtls_server *srv);
void dtls_cookie_free(struct xtel_dtls_server *srv);
/* Move to the secret of period now / cookie_period. */
void dtls_cookie_rotate(struct xtel_dtls_server *srv, uint64_t now);
/* Whether the cookie the listener just verified already started a handshake. */
bool dtls_cookie_used(const struct xtel_dtls_server *srv);
/* Remember that the cookie the listener just verified started one. */
void dtls_cookie_mark_used(struct xtel_dtls_server *srv);

/* ---- peers.c ---- */

int dtls_peers_init(struct xtel_dtls_server *srv);
/* End every session without sending anything, then free the table. */
void dtls_peers_free(struct xtel_dtls_server *srv);
int dtls_peer_key_from(const struct sockaddr *sa, socklen_t len,
		       struct peer_key *k);
socklen_t dtls_peer_addr_len(const struct peer_key *k);
uint32_t dtls_peer_hash(const struct xtel_dtls_server *srv,
			const struct peer_key *k);
struct session *dtls_session_lookup(const struct xtel_dtls_server *srv,
				    const struct peer_key *k, uint32_t h);
void dtls_format_peer(const struct sockaddr *sa, char *buf, size_t len);
void dtls_list_append(struct session_list *l, struct session *s);
void dtls_list_remove(struct session_list *l, struct session *s);
/* s joins, or leaves, the half-open list, its held bytes with it. */
void dtls_half_open_add(struct xtel_dtls_server *srv, struct session *s);
void dtls_half_open_del(struct xtel_dtls_server *srv, struct session *s);
/* OpenSSL may now hold bytes more for half-open s. */
void dtls_half_open_charge(struct xtel_dtls_server *srv, struct session *s,
			   uint32_t bytes);
/* A half-open session for the datagram being handled; NULL: no memory. */
struct session *dtls_session_new(struct xtel_dtls_server *srv, uint32_t h,
				 const unsigned char random[32]);
void dtls_table_insert(struct xtel_dtls_server *srv, struct session *s);
void dtls_session_free(struct xtel_dtls_server *srv, struct session *s);
/* An authentic record arrived: s is the most recently active session. */
void dtls_session_touch(struct xtel_dtls_server *srv, struct session *s);
void dtls_session_park(struct session *s);
bool dtls_session_unpark(struct session *s);
unsigned int dtls_half_open_from_source(const struct xtel_dtls_server *srv,
					const struct peer_key *k);
/* Make room in a full half-open list. Returns whether a session went. */
bool dtls_evict_half_open(struct xtel_dtls_server *srv);

/* ---- prefilter.c ---- */

/*
 * How many bytes of datagram d (whole records) half-open s may hand
 * OpenSSL now. A refused record ends them, counted under its reason; *more
 * says they end where epoch-1 records wait for OpenSSL to take the epoch-0
 * records before them: run the handshake on those, then call again with
 * the rest.
 */
size_t dtls_prefilter(struct xtel_dtls_server *srv, struct session *s,
		      const unsigned char *d, size_t len, bool *more);

/* ---- policy.c ---- */

/* Whether p's deny list has id. */
bool dtls_policy_denies(const struct xtel_dtls_policy *p, uint32_t id);
/* A key identifier's bytes hashed (never 0), or 0 for none. */
uint64_t dtls_key_id_hash(const ASN1_OCTET_STRING *kid);
/*
 * Whether p still trusts an issuer (a certificate's issuer name hash and
 * authority key id hash): a CA of its file (of its pins, when it has
 * any) with that subject name and, where both carry one, that key id.
 */
bool dtls_policy_trusts_issuer(const struct xtel_dtls_policy *p,
			       unsigned long name_hash, uint64_t kid);
/*
 * Whether p trusts a chain's trust anchor: a CA of its CA file (pins or
 * not), by subject name hash and key id hash; and one of them is valid
 * at now (as X509_cmp_time).
 */
bool dtls_policy_trusts_anchor(const struct xtel_dtls_policy *p,
			       unsigned long name_hash, uint64_t kid);
bool dtls_policy_anchor_valid(const struct xtel_dtls_policy *p,
			      unsigned long name_hash, uint64_t kid,
			      int64_t now);

/* A CA's identity: its subject name hash and subject key id hash mixed. */
uint64_t dtls_ca_key(unsigned long name_hash, uint64_t kid);
/* A certificate's revocation key: its issuer's name hash and its serial. */
uint64_t dtls_rev_key(unsigned long issuer_hash, const ASN1_INTEGER *serial);
/* Whether p's CRLs revoke a CA of that revocation key. */
bool dtls_policy_revokes_ca(const struct xtel_dtls_policy *p, uint64_t rev);
/*
 * Whether the chain check of leaf (the device sent sent) needs only the
 * leaf's CRL: p has CRLs, and leaf's issuer is a self-signed CA of p's
 * CA file whose subject no other CA of p's files has (no cross-certificate
 * of it) and that the device did not send a namesake of, so the chain is
 * the leaf and that root, and CRL_CHECK_ALL would only add the root's
 * check against its own CRL.
 */
bool dtls_policy_leaf_crl_only(const struct xtel_dtls_policy *p, X509 *leaf,
			       STACK_OF(X509) *sent);
/* A CA certificate's dtls_ca_key (its subject name, its subject key id). */
uint64_t dtls_cert_ca_key(X509 *ca);
/*
 * With CRLs: whether that CA (as a certificate names its issuer) is one of
 * p's CA or CRL file without a CRL; whether the CA of that dtls_ca_key has
 * a CRL (true without CRLs). CRL_CHECK_ALL needs one of every CA of a
 * chain, the root's included.
 */
bool dtls_policy_lacks_crl(const struct xtel_dtls_policy *p,
			   unsigned long name_hash, uint64_t kid);
bool dtls_policy_ca_has_crl(const struct xtel_dtls_policy *p, uint64_t key);
/* Whether p's CA file (pin false) or its pins (pin true) have that CA. */
bool dtls_policy_has_ca(const struct xtel_dtls_policy *p, uint64_t key,
			bool pin);

/* ---- verify.c ---- */

/*
 * Our checks of the client certificate (s's leaf, depth 0 of xs) on top of
 * OpenSSL's, from the verify callback with its ok: returns the new ok,
 * after setting s's fail mark and xs's error when a check refused it.
 */
int dtls_check_leaf(struct session *s, X509_STORE_CTX *xs, int ok,
		    bool cached);
/*
 * Note leaf's issuer hash and serial in s (for CRL look-ups), and the
 * trust anchor of xs's chain (xs NULL or no chain: the leaf's issuer).
 */
void dtls_note_certificate(struct session *s, X509 *leaf, X509_STORE_CTX *xs);
/*
 * A cached chain c for a device that sent sent: which of its
 * intermediates the CA file must give this time (c->ca_stored), and
 * -ENOENT when p's CA file lacks one (the chain could not be built: the
 * cache entry does not apply), else 0.
 */
int dtls_chain_rebuilt(const struct xtel_dtls_policy *p, struct dtls_chain *c,
		       STACK_OF(X509) *sent);
/*
 * Whether the certificate of a session ticket (leaf) may resume s now:
 * 0, with s->client_id and the noted certificate set, or -EPERM.
 */
int dtls_check_resumed(struct session *s, X509 *leaf,
		       const struct dtls_ticket_id *sealed);
/* The same for the identity a ticket sealed (resume.c checks its trust). */
int dtls_check_resumed_id(struct session *s, const struct dtls_ticket_id *id);

/* ---- ticket.c ---- */

int dtls_tickets_init(struct xtel_dtls_server *srv);
/* Seal and open with key (XTEL_DTLS_TICKET_KEY_LEN bytes) from now on. */
void dtls_tickets_set_key(struct xtel_dtls_server *srv,
			  const unsigned char *key);
/* Also open (only) tickets of key, the one before (NULL: none). */
void dtls_tickets_set_prev(struct xtel_dtls_server *srv,
			   const unsigned char *key);
void dtls_tickets_free(struct xtel_dtls_server *srv);
void dtls_ticket_id_encode(const struct dtls_ticket_id *id,
			   unsigned char out[DTLS_TICKET_ID_LEN]);
/* 0, or -EINVAL when data is not an encoded identity. */
int dtls_ticket_id_decode(const void *data, size_t len,
			  struct dtls_ticket_id *id);
/* An ASN1_TIME as seconds since the epoch (0 or -EINVAL). */
int dtls_asn1_time(const ASN1_TIME *t, int64_t *out);
/* The identity of a client certificate (trust left zero): 0 or -EINVAL. */
int dtls_ticket_id_from_cert(X509 *leaf, struct dtls_ticket_id *id);
/* Ready cctx and hctx to seal a ticket with srv's key: 0 or -EIO. */
int dtls_ticket_seal_init(struct xtel_dtls_server *srv, unsigned char *name,
			  unsigned char *iv, EVP_CIPHER_CTX *cctx,
			  EVP_MAC_CTX *hctx);
/*
 * ... to open one named name: 0 with the key, 1 with the previous key (a
 * new ticket is due), -ENOKEY (another key) or -EIO.
 */
int dtls_ticket_unseal_init(struct xtel_dtls_server *srv,
			    const unsigned char *name, const unsigned char *iv,
			    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx);
/*
 * Open ticket t: its session without the certificate (*out, the caller's)
 * and the identity sealed with it. 0; -ENOKEY another key's, -EBADMSG not
 * authentic or not a session, -ENOMSG no identity of ours; OpenSSL's way
 * then for -E2BIG longer than this opens, -EKEYEXPIRED the previous key's
 * (which OpenSSL resumes with a new ticket).
 */
/*
 * The DER of an SSL_SESSION (d, len) without its peer certificate, into
 * out (cap bytes); its length, or 0 when d is not such a DER (ticket.c).
 */
size_t dtls_session_der_strip_peer(const unsigned char *d, size_t len,
				   unsigned char *out, size_t cap);
/*
 * Before OpenSSL seals a ticket: replace the SSL's session by a copy
 * without the peer certificate (ticket_lean.c). 0 or -errno (the session
 * is then left as it was).
 */
int dtls_ticket_shed_peer(SSL *ssl);
int dtls_ticket_open(struct xtel_dtls_server *srv, const unsigned char *t,
		     size_t len, SSL_SESSION **out, struct dtls_ticket_id *id);

/* ---- resume.c ---- */

/* Tickets on srv->ctx as srv->cfg asks. Returns 0 or -errno. */
int dtls_resume_install(struct xtel_dtls_server *srv);
/*
 * From the ClientHello callback: open the ticket the hello offers (if
 * any) and decide s->ticket_verdict before OpenSSL looks at it.
 */
void dtls_resume_hello(struct session *s, SSL *ssl);
/* The policy srv now applies is srv->policy: its trust digest. */
void dtls_resume_policy(struct xtel_dtls_server *srv);
/* Note the epoch-1 records of a datagram s's handshake sends. */
void dtls_resume_note_tx(struct session *s, const unsigned char *d,
			 size_t len);

/* Install the ClientHello check (the extended master secret) on ctx. */
void dtls_verify_install(SSL_CTX *ctx);
/*
 * Make srv->policy the one srv->ctx verifies with (store, the CA names
 * sent in the CertificateRequest). Returns 0 or -ENOMEM.
 */
int dtls_policy_apply(struct xtel_dtls_server *srv);
/* End the sessions srv->policy revokes or denies (set_policy). */
void dtls_policy_sweep(struct xtel_dtls_server *srv);

/*
 * Why s's handshake failed. Call before OpenSSL's error queue is cleared
 * (a missing client certificate is known only from it).
 */
enum xtel_dtls_fail dtls_fail_reason(const struct session *s);
/* Count a failed handshake of s under handshake_failed and its reason. */
void dtls_count_failure(struct xtel_dtls_server *srv, struct session *s,
			enum xtel_dtls_fail reason);

/* ---- handshake.c ---- */

extern int dtls_ex_session_idx, dtls_ex_peer_idx;
/* The SSL ex_data indices, once per process. Returns 0 or -ENOMEM. */
int dtls_ex_init(void);
int dtls_verify_cb(int ok, X509_STORE_CTX *xs);
/*
 * dtls_verify_cb's checks of the certificate at xs's error depth for s;
 * cached: the chain check came from the verification cache (vcache.c),
 * so the pins and the key usage, which it covers, are not checked again.
 */
int dtls_verify_depth(struct session *s, X509_STORE_CTX *xs, int ok,
		      bool cached);

/* ---- vcache.c ---- */

int dtls_vcache_init(struct dtls_vcache *vc, unsigned int cap);
void dtls_vcache_free(struct dtls_vcache *vc);
void dtls_vcache_flush(struct dtls_vcache *vc);
/*
 * 0: md verified and its chain valid at now (made the most recent), the
 * chain in *chain; -ENOENT.
 */
int dtls_vcache_lookup(struct dtls_vcache *vc, const unsigned char md[32],
		       int64_t now, struct dtls_chain *chain);
/* Remember md verified with chain: 1 when one was evicted. */
/* Forget md (an entry that did not apply). */
void dtls_vcache_forget(struct dtls_vcache *vc, const unsigned char md[32]);
int dtls_vcache_insert(struct dtls_vcache *vc, const unsigned char md[32],
		       const struct dtls_chain *chain);
/* The validity every certificate of xs's verified chain shares. */
int dtls_chain_validity(X509_STORE_CTX *xs, int64_t *nb, int64_t *na);
/* The cache on srv->ctx as srv->cfg.verify_cache asks: 0 or -ENOMEM. */
int dtls_vcache_install(struct xtel_dtls_server *srv);
/* srv->policy is new: forget every entry (dtls_policy_apply). */
void dtls_vcache_policy(struct xtel_dtls_server *srv);
int dtls_listener_new(struct xtel_dtls_server *srv);
const unsigned char *dtls_hello_random(const unsigned char *d, size_t len);
void dtls_listener_input(struct xtel_dtls_server *srv, uint32_t h,
			 const void *dgram, size_t len, struct session *old);
void dtls_handshake_input(struct xtel_dtls_server *srv, struct session *s,
			  const void *dgram, size_t len);
/* s's retransmission timer expired at now. */
void dtls_handshake_timer(struct xtel_dtls_server *srv, struct session *s,
			  uint64_t now);

/* ---- established.c ---- */

void dtls_record_info(const unsigned char *d, size_t len,
		      struct record_info *ri);
/* Serve s with the built-in record layer from here on (0 or -errno). */
int dtls_take_over(struct xtel_dtls_server *srv, struct session *s);
/* Wipe rl (NULL: nothing): its keys, its slot, its flight. */
void dtls_own_rl_free(struct xtel_dtls_server *srv, struct own_rl *rl);
/* A datagram of established session s (ri: dtls_record_info of it). */
void dtls_established_input(struct xtel_dtls_server *srv, struct session *s,
			    const unsigned char *d, size_t len,
			    const struct record_info *ri);
/*
 * s keeps OpenSSL's record layer, just established: watch what OpenSSL
 * reads and writes (to count what it does silently, as the built-in
 * layer counts its own) and mark the client's Finished seen.
 */
void dtls_watch_ssl_layer(struct xtel_dtls_server *srv, struct session *s);
/* Queue our close_notify to the peer (best effort: it is one datagram). */
void dtls_session_send_close(struct xtel_dtls_server *srv, struct session *s);

#endif /* XTEL_DTLS_SERVER_INTERNAL_H */
