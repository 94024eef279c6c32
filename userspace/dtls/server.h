/* SPDX-License-Identifier: MIT */
/*
 * The DTLS 1.2 server side, used by the collector: one object per receive
 * worker, serving many clients on one UDP port. Datagrams come in as
 * buffers with their peer address and go out through a callback; the caller
 * owns the socket and the clock (monotonic ns passed in as `now`). See
 * dtls/dtls.h for what both ends share and how errors are reported.
 */
#ifndef XTEL_DTLS_SERVER_H
#define XTEL_DTLS_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dtls/dtls.h"

struct xtel_dtls_server;

/*
 * Who may connect: the CAs client certificates must chain to, the CRLs
 * that revoke some of them, the client ids refused whatever their
 * certificate (a deny list), and optionally the CAs pinned as the only
 * issuers of clients. Loaded once with every file checked, then never
 * changed: servers on several threads share one by reference, and a
 * reload loads a new one and hands it to each server
 * (xtel_dtls_server_set_policy), which keeps the old one if loading fails.
 */
struct xtel_dtls_policy;

struct xtel_dtls_policy_cfg {
	const char *ca_file;	/* required: PEM CA certificate(s) */
	/*
	 * PEM CRLs, each valid now and signed by a CA of ca_file or by an
	 * intermediate CA whose certificate is in crl_file too and chains to
	 * ca_file (NULL: no revocation check). Every CA of a client's chain
	 * is checked: a client a CA of whose chain has no CRL in it is
	 * refused (OpenSSL finds no CRL for it): give one per CA.
	 */
	const char *crl_file;
	/*
	 * Client ids to refuse, one per line, decimal; '#' comments, blank
	 * lines allowed (NULL: none).
	 */
	const char *deny_file;
	/*
	 * SHA-256 fingerprints (64 hex digits, colons allowed, as `openssl
	 * x509 -noout -fingerprint -sha256` prints them) of CAs of ca_file:
	 * when any is given, a client certificate must be issued directly by
	 * one of them. n_pin_ca 0: any CA of ca_file.
	 */
	const char *const *pin_ca;
	unsigned int n_pin_ca;
	/*
	 * Optional, both or neither: a new server certificate and its key
	 * (PEM), checked to belong together. A server that takes this policy
	 * (xtel_dtls_server_set_policy) hands out the new certificate from
	 * its next handshake on; established sessions keep theirs. NULL: the
	 * server keeps the certificate it has.
	 */
	const char *cert_file, *key_file;
};

/*
 * Load a policy (one reference, the caller's). Every problem is logged
 * with pr_err naming the file and returned: -ENOENT, -EACCES, ... (a file
 * cannot be opened), -ENOMSG (no certificate in ca_file), -EBADMSG (no
 * CRL in crl_file, or one not signed by a CA of ca_file or an intermediate
 * of crl_file, expired or not yet valid; an intermediate of crl_file that
 * does not chain to ca_file), -EINVAL (a deny list line that is not a client id, a pin
 * that is not a fingerprint of a certificate in ca_file), -EKEYREJECTED
 * (key_file does not match cert_file), -ENOMEM.
 */
int xtel_dtls_policy_load(struct xtel_dtls_policy **out,
			  const struct xtel_dtls_policy_cfg *cfg);
/* Another reference (p returned); put drops one, the last frees it. */
struct xtel_dtls_policy *xtel_dtls_policy_get(struct xtel_dtls_policy *p);
void xtel_dtls_policy_put(struct xtel_dtls_policy *p);
/* Revoked certificates in its CRLs, and distinct denied client ids. */
unsigned int xtel_dtls_policy_revoked(const struct xtel_dtls_policy *p);
unsigned int xtel_dtls_policy_denied(const struct xtel_dtls_policy *p);
/*
 * CAs of its CA file and CRL file without a CRL (0 without a CRL file):
 * every device whose chain passes through one is refused.
 */
unsigned int xtel_dtls_policy_cas_without_crl(const struct xtel_dtls_policy *p);
/* 64 hex digits, colons anywhere, into 32 bytes. Returns 0 or -EINVAL. */
int xtel_dtls_parse_fingerprint(const char *s, unsigned char out[32]);

/*
 * Send one datagram to peer. Called synchronously from inside the server
 * functions (handshake flights, HelloVerifyRequest, alerts, close_notify);
 * buf is only valid during the call, so queue a copy.
 */
typedef void xtel_dtls_send_fn(void *arg, const struct sockaddr *peer,
			       socklen_t peer_len, const void *buf, size_t len);

/*
 * One decrypted application record from an established session whose
 * client certificate says `client-<client_id>`. plaintext is valid only
 * during the call. Unless cfg.no_client_id_check is set, a record of at
 * least XTEL_WIRE_HDR_LEN bytes whose header client_id differs from the
 * session's was already dropped and counted as client_id_mismatch; shorter
 * records are passed on for the codec to reject.
 */
typedef void xtel_dtls_data_fn(void *arg, uint32_t client_id,
			       const struct sockaddr *peer, socklen_t peer_len,
			       const void *plaintext, size_t len);

/*
 * A session came up (up: the handshake completed and the client is
 * client-<client_id>) or went down (up false: close_notify, idle expiry,
 * error, replacement by a new handshake from the same address and port as
 * the same client id, shutdown or free). Every up is matched by exactly one down for the same peer, so a
 * caller can mirror the established sessions elsewhere (the collector
 * tells its XDP program which sources have a session). Called from inside
 * the server functions, on the thread that owns the server.
 */
typedef void xtel_dtls_session_fn(void *arg, const struct sockaddr *peer,
				  socklen_t peer_len, uint32_t client_id,
				  bool up);

/*
 * A handshake failed (counted under handshake_failed and reason's own
 * counter): peer, why (an enum xtel_dtls_fail, declared below), and the client id its certificate's CN names (0
 * when it sent none, or it was not read). The id is the certificate's
 * claim: for reasons other than the policy's (revoked, denied) the
 * certificate may not be trustworthy at all. Called from inside the
 * server functions, on the thread that owns the server.
 */
typedef void xtel_dtls_failure_fn(void *arg, const struct sockaddr *peer,
				  socklen_t peer_len, unsigned int reason,
				  uint32_t client_id);

struct xtel_dtls_server_cfg {
	const char *cert_file;		/* server certificate (PEM) */
	const char *key_file;		/* its private key (PEM) */
	/*
	 * CA client certificates must chain to, when policy is NULL; with a
	 * policy its CA file is used instead.
	 */
	const char *ca_file;
	/* NULL: ca_file alone (no CRL, deny list or pin). A reference is taken. */
	struct xtel_dtls_policy *policy;
	unsigned int max_sessions;	/* established + half-open; 0: 4096 */
	unsigned int max_half_open;	/* handshakes past the cookie; 0: 256 */
	/*
	 * Half-open handshakes per source: an IPv4 address (also when it
	 * arrives IPv4-mapped, ::ffff:a.b.c.d, on a socket bound to [::]) or
	 * an IPv6 /64 (0: max_half_open / 4, i.e. 64), so one host with many
	 * ports cannot fill max_half_open. A load generator on one address
	 * needs its handshakes in flight below this.
	 */
	unsigned int max_half_open_per_source;
	uint64_t idle_timeout;		/* ns without a record; 0: 60 s */
	uint64_t handshake_timeout;	/* ns from cookie to Finished; 0: 10 s */
	/* ns per cookie secret, a cookie lives 1-2 of them; 0: 10 s */
	uint64_t cookie_period;
	bool no_client_id_check;	/* see xtel_dtls_data_fn */
	/*
	 * Keep OpenSSL's record layer for established sessions instead of
	 * the built-in one (about 41 KiB per session instead of 1.6 KiB and
	 * 3-4x the CPU per record; for comparison and tests).
	 */
	bool openssl_records;
	/*
	 * OpenSSL cipher list (NULL: ECDHE-ECDSA with AES-128-GCM, then
	 * ChaCha20-Poly1305, then AES-256-GCM). Only these three AEAD suites
	 * are supported; e.g. put ChaCha20 first on CPUs without AES-NI. A
	 * list that enables any other suite is refused (see
	 * xtel_dtls_check_ciphers).
	 */
	const char *ciphers;
	xtel_dtls_send_fn *send;	/* required */
	void *send_arg;
	xtel_dtls_data_fn *on_data;	/* NULL: records are counted, dropped */
	void *data_arg;
	/*
	 * Failures on the receive path (a handshake, a session) are logged
	 * with pr_warn, at most log_burst lines per second of the `now`
	 * passed in (0: 10), each prefixed "log_name: " when log_name is not
	 * NULL (copied; e.g. "worker 3").
	 */
	const char *log_name;
	unsigned int log_burst;
	xtel_dtls_session_fn *on_session;	/* NULL: not told */
	void *session_arg;
	xtel_dtls_failure_fn *on_failure;	/* NULL: only counted */
	void *failure_arg;
	/*
	 * Whether client_id (from a certificate that passed every other
	 * check) may connect; false refuses the handshake as failed_device.
	 * NULL: every id may. Called on the server's thread.
	 */
	bool (*admit)(void *arg, uint32_t client_id);
	void *admit_arg;
	/*
	 * Session resumption (resume.c): the key of the stateless session
	 * tickets, XTEL_DTLS_TICKET_KEY_LEN bytes the servers of one collector
	 * share (a device may come back on another worker); NULL: a random
	 * key of this server's own. no_tickets: full handshakes only.
	 */
	const unsigned char *ticket_key;
	/*
	 * The key before it (NULL: none), for a rotation: its tickets still
	 * resume, and get a ticket of ticket_key in the same handshake.
	 */
	const unsigned char *ticket_key_prev;
	bool no_tickets;
	/*
	 * Entries of the verification cache (vcache.c; 0: off): a returning
	 * certificate that passed the chain check under the policy in force
	 * skips it (about 0.9M instructions); the checks that may change
	 * (CN binding, deny list, admit) and the client's CertificateVerify
	 * still run. About 64 bytes per entry.
	 */
	unsigned int verify_cache;
};

/* Bytes of a ticket key: name (16), HMAC secret (32), AES key (32). */
#define XTEL_DTLS_TICKET_KEY_LEN 80

/*
 * The server's counters, one table: X(ENUM, name, help) per counter, each
 * for one reason. The enum (XTEL_DTLS_STAT_<ENUM>), the fields of struct
 * xtel_dtls_server_stats (in this order, exactly XTEL_DTLS_SERVER_NSTATS
 * uint64_t), xtel_dtls_server_stat_names and xtel_dtls_server_stat_help all
 * expand from it, so a counter is one line and none of them can drift. The
 * names are keys of the collector's report and --summary-json
 * (docs/COLLECTOR.md): add at the end, never rename.
 *
 * The rows whose help starts "gauge:" are current values, not counts
 * (xtel_dtls_server_stat_is_gauge): summed over workers they are the
 * collector's total, but a rate or a delta of them means nothing.
 */
#define XTEL_DTLS_SERVER_STATS(X)					\
	X(COOKIE_SENT, cookie_sent, "HelloVerifyRequest sent")		\
	X(COOKIE_BAD, cookie_bad,					\
	  "ClientHello with a wrong or stale cookie")			\
	X(BAD_HELLO, bad_hello,						\
	  "handshake datagram dropped by the listener")			\
	X(HALF_OPEN_FULL, half_open_full,				\
	  "valid cookie refused: half-open cap (and no silent one "	\
	  "to evict)")							\
	X(SESSIONS_FULL, sessions_full,					\
	  "valid cookie refused: session cap")				\
	X(HANDSHAKES_STARTED, handshakes_started,			\
	  "cookie verified, session created")				\
	X(HANDSHAKES_OK, handshakes_ok, "handshakes completed")		\
	X(HANDSHAKE_FAILED, handshake_failed,				\
	  "handshake ended by an OpenSSL error or a bad certificate "	\
	  "(each also counted under its reason, failed_*)")		\
	X(HANDSHAKE_TIMEOUT, handshake_timeout,				\
	  "handshake not finished within handshake_timeout")		\
	X(RETRANSMITS, retransmits,					\
	  "server flights re-sent: timeout, or the client repeating "	\
	  "its last flight")						\
	X(UNKNOWN_PEER, unknown_peer,					\
	  "non-handshake record without a session")			\
	X(RECORDS_RX, records_rx, "application records delivered")	\
	X(BAD_RECORD, bad_record,					\
	  "record dropped by DTLS (bad MAC, wrong epoch or version, "	\
	  "truncated)")							\
	X(REPLAY, replay, "record seen before or below the window")	\
	X(CLIENT_ID_MISMATCH, client_id_mismatch,			\
	  "record whose header client_id is not the certificate's")	\
	X(CLOSE_NOTIFY_RX, close_notify_rx, "close_notify received")	\
	X(CLOSE_NOTIFY_TX, close_notify_tx, "close_notify sent")	\
	X(SESSION_ERRORS, session_errors,				\
	  "established session ended by an error or alert")		\
	X(SESSIONS_EXPIRED, sessions_expired,				\
	  "sessions ended by idle_timeout")				\
	X(SESSIONS_REPLACED, sessions_replaced,				\
	  "a new handshake from a known address completed (the old "	\
	  "session served until then)")					\
	X(MALFORMED, malformed, "shorter than a DTLS record header")	\
	X(COOKIE_RAND_FAILED, cookie_rand_failed,			\
	  "RAND_bytes failed at a cookie secret rotation (the old "	\
	  "secret is kept; none yet: handshakes refused)")		\
	X(RECORD_LAYER_FALLBACK, record_layer_fallback,			\
	  "built-in record layer could not take over: the session "	\
	  "keeps OpenSSL's (logged)")					\
	X(HALF_OPEN_SOURCE_FULL, half_open_source_full,			\
	  "valid cookie refused: the source (IPv4 address, IPv6 /64) "	\
	  "has max_half_open_per_source")				\
	X(HALF_OPEN_EVICTED, half_open_evicted,				\
	  "half-open handshake dropped for a new one: table full, its "	\
	  "client had not moved it on for 1 s (largest first)")		\
	X(OVERSIZE, oversize,						\
	  "datagram larger than XTEL_DGRAM_SLOT_SIZE (1500 bytes), "	\
	  "dropped before any session sees it")				\
	X(RESTART_OTHER_ID, restart_other_id,				\
	  "handshake from an established session's address and port "	\
	  "with another client id: refused, the session kept")				\
	X(COOKIE_REPLAY, cookie_replay,					\
	  "ClientHello whose cookie already started a handshake (a "	\
	  "copy): refused")						\
	X(HS_MSG_TOO_LONG, hs_msg_too_long,				\
	  "half-open handshake: fragment of a message over "		\
	  "XTEL_DTLS_HS_MSG_MAX bytes (refused before OpenSSL)")	\
	X(HS_MSG_SEQ_AHEAD, hs_msg_seq_ahead,				\
	  "half-open handshake: fragment of a message past the "	\
	  "client's flight (message_seq over 4)")			\
	X(HS_EPOCH1_EARLY, hs_epoch1_early,				\
	  "half-open handshake: epoch-1 record before OpenSSL took the "	\
	  "client's ChangeCipherSpec (it would buffer it)")		\
	X(HS_EPOCH1_FULL, hs_epoch1_full,				\
	  "half-open handshake: epoch-1 record after its 4th")		\
	X(HS_RECORD_TYPE, hs_record_type,				\
	  "half-open handshake: application data or a record type "	\
	  "no handshake sends")						\
	X(HS_PLAIN_ALERT, hs_plain_alert,				\
	  "half-open handshake: plaintext (epoch-0) alert, which "	\
	  "anyone can spoof (the timeout ends the handshake)")		\
	X(HALF_OPEN, half_open,						\
	  "gauge: handshakes in progress now")				\
	X(HALF_OPEN_BYTES, half_open_bytes,				\
	  "gauge: heap they hold now, estimated (an upper bound)")	\
	X(HEAP_TRIMS, heap_trims,					\
	  "malloc_trim(0) calls by the timers after half-open "		\
	  "handshakes holding 2 MiB had ended")			\
	XTEL_DTLS_FAIL_STATS(X)						\
	X(RENEGOTIATION_REFUSED, renegotiation_refused,			\
	  "ClientHello on an established session (renegotiation), "	\
	  "answered with a no_renegotiation warning alert")		\
	X(SESSIONS_REVOKED, sessions_revoked,				\
	  "established sessions closed because a new policy revokes "	\
	  "their certificate or denies their client id")		\
	X(SESSIONS_UNTRUSTED, sessions_untrusted,			\
	  "established sessions closed because a new policy no longer "	\
	  "trusts the CA that issued their certificate (gone from the "	\
	  "CA file or the pins) or a CA of their chain has no CRL in "	\
	  "it")								\
	X(POLICY_UPDATES, policy_updates,				\
	  "policies swapped in (xtel_dtls_server_set_policy)")		\
	X(HANDSHAKES_RESUMED, handshakes_resumed,			\
	  "handshakes completed by resuming a session ticket (also "	\
	  "in handshakes_ok)")						\
	X(TICKET_UNKNOWN, ticket_unknown,				\
	  "session ticket of another key or malformed: a full "	\
	  "handshake instead")						\
	X(TICKET_REFUSED, ticket_refused,				\
	  "session ticket whose certificate the current policy refuses "	\
	  "(revoked, denied, device, expired, other id): a full "	\
	  "handshake instead, refused under its failed_* reason")	\
	X(VERIFY_CACHE_HITS, verify_cache_hits,				\
	  "full handshakes whose client certificate chain check came "	\
	  "from the verification cache")				\
	X(VERIFY_CACHE_MISSES, verify_cache_misses,			\
	  "full handshakes whose client certificate chain was checked "	\
	  "by OpenSSL (not in the verification cache, or expired)")	\
	X(VERIFY_CACHE_EVICTIONS, verify_cache_evictions,		\
	  "verification cache entries evicted (least recently used) "	\
	  "for a new one: the cache is smaller than the fleet")	\
	X(AEAD_CTX_HITS, aead_ctx_hits,					\
	  "built-in record layer: records decrypted with the worker's "	\
	  "cached context of their session's key")			\
	X(AEAD_CTX_REKEYS, aead_ctx_rekeys,				\
	  "built-in record layer: records whose session's key was not "	\
	  "in the worker's context cache, which was re-keyed for it")	\
	X(HANDSHAKE_REPEATS, handshake_repeats,				\
	  "epoch-0 records to an established session: the client "	\
	  "repeating its handshake flight (our last one was lost, or a "	\
	  "late copy of its ClientHello)")				\
	X(ALERTS_WARNING_RX, alerts_warning_rx,				\
	  "warning alerts other than close_notify received on an "	\
	  "established session (they change nothing)")

/*
 * Why a handshake failed: every failure counted in handshake_failed is
 * also counted in exactly one of these (they sum to it), and reported to
 * cfg.on_failure with the reason enum xtel_dtls_fail, XTEL_DTLS_<ENUM>
 * (XTEL_DTLS_FAILED_UNKNOWN_CA is 0), in this order. The reason's own name
 * is the counter's without "failed_" (xtel_dtls_fail_name: "unknown_ca").
 */
#define XTEL_DTLS_FAIL_STATS(X)						\
	X(FAILED_UNKNOWN_CA, failed_unknown_ca,				\
	  "handshake failed: the client certificate does not chain to "	\
	  "the CA file, or its issuer is not a pinned CA")		\
	X(FAILED_EXPIRED, failed_expired,				\
	  "handshake failed: client certificate expired or not yet "	\
	  "valid")							\
	X(FAILED_NO_CERT, failed_no_cert,				\
	  "handshake failed: the client sent no certificate")		\
	X(FAILED_REVOKED, failed_revoked,				\
	  "handshake failed: client certificate revoked by the CRL")	\
	X(FAILED_DENIED, failed_denied,					\
	  "handshake failed: the client id is on the deny list")	\
	X(FAILED_KEY_USAGE, failed_key_usage,				\
	  "handshake failed: the client certificate lacks key usage "	\
	  "digitalSignature or extended key usage clientAuth")		\
	X(FAILED_BAD_CN, failed_bad_cn,					\
	  "handshake failed: the certificate's CN is not "		\
	  "client-<1..4294967295>")					\
	X(FAILED_NO_EMS, failed_no_ems,					\
	  "handshake failed: the ClientHello did not offer the "	\
	  "extended master secret (RFC 7627)")				\
	X(FAILED_OTHER, failed_other,					\
	  "handshake failed for another reason (a protocol or OpenSSL "	\
	  "error, a bad signature, no valid CRL for the issuer, "	\
	  "retransmissions exhausted, a serial over 20 bytes)")		\
	X(FAILED_DEVICE, failed_device,					\
	  "handshake failed: the client id is a disabled device, or not "	\
	  "in the inventory with --inventory-only (admit callback)")

enum xtel_dtls_fail {
#define XTEL_DTLS_FAIL_ENUM_(e, name, help) XTEL_DTLS_##e,
	XTEL_DTLS_FAIL_STATS(XTEL_DTLS_FAIL_ENUM_)
#undef XTEL_DTLS_FAIL_ENUM_
	XTEL_DTLS_NFAILS
};

enum xtel_dtls_server_stat {
#define XTEL_DTLS_STAT_ENUM_(e, name, help) XTEL_DTLS_STAT_##e,
	XTEL_DTLS_SERVER_STATS(XTEL_DTLS_STAT_ENUM_)
#undef XTEL_DTLS_STAT_ENUM_
	XTEL_DTLS_SERVER_NSTATS
};

struct xtel_dtls_server_stats {
#define XTEL_DTLS_STAT_FIELD_(e, name, help) uint64_t name;
	XTEL_DTLS_SERVER_STATS(XTEL_DTLS_STAT_FIELD_)
#undef XTEL_DTLS_STAT_FIELD_
};

/* Indexed by enum xtel_dtls_server_stat. */
extern const char *const xtel_dtls_server_stat_names[XTEL_DTLS_SERVER_NSTATS];
extern const char *const xtel_dtls_server_stat_help[XTEL_DTLS_SERVER_NSTATS];

/* Whether statistic st is a gauge (a current value) rather than a count. */
static inline bool xtel_dtls_server_stat_is_gauge(enum xtel_dtls_server_stat st)
{
	return st == XTEL_DTLS_STAT_HALF_OPEN ||
	       st == XTEL_DTLS_STAT_HALF_OPEN_BYTES;
}

enum {
	/*
	 * The longest handshake message a half-open handshake may send
	 * (dtls/prefilter.c refuses fragments of longer ones before OpenSSL
	 * allocates them; also OpenSSL's max_cert_list). The longest message
	 * a client sends is its Certificate: about 427 bytes for a
	 * certs/gen.sh P-256 client (test_client_flight_passes measures it
	 * and requires 8 times the room), so this is nearly ten times that:
	 * room for a chain of several such certificates or two RSA-4096
	 * ones, while what a handshake can make OpenSSL hold stays under
	 * 5 KiB per message of the client's flight.
	 */
	XTEL_DTLS_HS_MSG_MAX = 4096,
};

/* "unknown_ca", "expired", ... ("unknown" for a value out of range). */
const char *xtel_dtls_fail_name(enum xtel_dtls_fail reason);
/* Its counter, XTEL_DTLS_STAT_FAILED_<...>. */
static inline enum xtel_dtls_server_stat
xtel_dtls_fail_stat(enum xtel_dtls_fail reason)
{
	return (enum xtel_dtls_server_stat)(XTEL_DTLS_STAT_FAILED_UNKNOWN_CA +
					    (int)reason);
}

/*
 * Load credentials and build the server. Errors: see the top of this
 * file, and -ENOTSUP for a cipher list xtel_dtls_check_ciphers refuses or
 * an OpenSSL release with CVE-2024-4741.
 */
int xtel_dtls_server_new(struct xtel_dtls_server **out,
			 const struct xtel_dtls_server_cfg *cfg);

/*
 * Check clients against p from now on (a reference is taken, the old
 * policy's dropped). Handshakes not yet at their certificate use it when
 * they get there; an established session whose certificate p revokes, or
 * whose client id p denies, is closed (close_notify) and counted as
 * sessions_revoked, one whose certificate's CA p no longer trusts (gone
 * from the CA file, or not pinned) or that has a CA without a CRL in p
 * (CRL_CHECK_ALL would refuse its chain) as sessions_untrusted, and a
 * handshake already past its certificate that p
 * refuses ends as a failed handshake of that reason. Every other session
 * and every counter carries on. Counted as policy_updates. Call on the
 * thread that owns srv.
 */
/*
 * Seal new session tickets with key (XTEL_DTLS_TICKET_KEY_LEN bytes, copied);
 * tickets of the old key then get full handshakes (cfg.ticket_key_prev
 * still opens its own). 0, or -ENOTSUP with cfg.no_tickets.
 */
/*
 * A random ticket key made once per process, for the servers of one
 * collector to share (cfg.ticket_key); NULL when RAND_bytes failed.
 */
const unsigned char *xtel_dtls_process_ticket_key(void);
/* The previous key of the process's key file (cfg.ticket_key_prev), or NULL. */
const unsigned char *xtel_dtls_process_ticket_key_prev(void);

/*
 * The ticket keys kept in file path (--ticket-key-file; ticket_key.c):
 * the current key, optionally followed by the previous one (a rotation),
 * read into keys (room for 2 x XTEL_DTLS_TICKET_KEY_LEN bytes), *n set to
 * 1 or 2; made with one random key (0600) when path does not exist.
 * Refused, after a message saying what to do: -EPERM when group or others
 * have any access to it, -EINVAL when it is not a regular file of one or
 * two keys' size; else -errno of the file.
 */
int xtel_dtls_ticket_key_file(const char *path, unsigned char *keys,
			      unsigned int *n);
/*
 * Make the key of path the process key (xtel_dtls_process_ticket_key).
 * Call before any thread uses the process key. Returns as above.
 */
int xtel_dtls_process_ticket_key_file(const char *path);

int xtel_dtls_server_set_ticket_key(struct xtel_dtls_server *srv,
				    const unsigned char *key);

void xtel_dtls_server_set_policy(struct xtel_dtls_server *srv,
				 struct xtel_dtls_policy *p);

/* Free everything without sending anything (see _shutdown). */
void xtel_dtls_server_free(struct xtel_dtls_server *srv);

/*
 * Feed one datagram from peer (AF_INET or AF_INET6). Sessions are keyed by
 * address and port. A datagram over XTEL_DGRAM_SLOT_SIZE bytes (no DTLS
 * peer of XTel sends one) is counted as oversize and dropped. Returns 0
 * (every protocol outcome is a counter), or -EAFNOSUPPORT for another
 * address family.
 */
int xtel_dtls_server_input(struct xtel_dtls_server *srv,
			   const struct sockaddr *peer, socklen_t peer_len,
			   const void *dgram, size_t len, uint64_t now);

/*
 * Hints that peer's datagram comes soon, for a receive loop that holds a
 * batch of them (io_uring's completions, an AF_XDP drain): first
 * xtel_dtls_server_prefetch_peer() prefetches the peer's hash bucket and
 * returns the peer's hash, then (later, once that line is in)
 * xtel_dtls_server_prefetch_session() with that hash prefetches the lines
 * of the session the bucket points to that a record reads (the look-up's,
 * the replay window's, the record layer's keys). Reads only, so what
 * xtel_dtls_server_input() does is the same with or without them. They pay
 * only when the sessions outgrow the caches (fleet order at 100,000
 * sessions, every record's bucket and session cold), and cost a few
 * instructions otherwise: xtel_dtls_server_prefetch_pays() says whether
 * this server holds enough sessions (docs/CAPACITY.md "DTLS fleet order:
 * a prefetch in the batch").
 */
bool xtel_dtls_server_prefetch_pays(const struct xtel_dtls_server *srv);
uint32_t xtel_dtls_server_prefetch_peer(const struct xtel_dtls_server *srv,
					const struct sockaddr *peer,
					socklen_t peer_len);
void xtel_dtls_server_prefetch_session(const struct xtel_dtls_server *srv,
				       uint32_t hash);
/*
 * After xtel_dtls_server_prefetch_session(hash) brought the session in:
 * its client id (0: none, or not established yet), for the caller to
 * prefetch what it keeps per client.
 */
uint32_t xtel_dtls_server_prefetch_client(const struct xtel_dtls_server *srv,
					  uint32_t hash);

/*
 * When xtel_dtls_server_timers() must run next (absolute ns; UINT64_MAX:
 * nothing pending). Timers cover retransmission, handshake timeouts and
 * idle expiry. Once half-open handshakes holding 2 MiB (half_open_bytes)
 * have ended since the last time, the timers also hand the freed heap
 * back to the system with malloc_trim(0) (heap_trims).
 */
uint64_t xtel_dtls_server_next_timeout(const struct xtel_dtls_server *srv,
				       uint64_t now);
void xtel_dtls_server_timers(struct xtel_dtls_server *srv, uint64_t now);

/* Send close_notify to every established session and drop all sessions. */
void xtel_dtls_server_shutdown(struct xtel_dtls_server *srv);

/*
 * Client id bound to peer's session: 0 when established, -EINPROGRESS while
 * the handshake runs, -ENOENT when there is no session.
 */
int xtel_dtls_server_peer(const struct xtel_dtls_server *srv,
			  const struct sockaddr *peer, socklen_t peer_len,
			  uint32_t *client_id);

/* Established sessions, and handshakes in progress. */
unsigned int xtel_dtls_server_sessions(const struct xtel_dtls_server *srv);
unsigned int xtel_dtls_server_half_open(const struct xtel_dtls_server *srv);
/*
 * Established sessions served by the built-in record layer (the rest use
 * OpenSSL's: cfg.openssl_records, or a take-over that failed).
 */
unsigned int xtel_dtls_server_builtin_sessions(const struct xtel_dtls_server *srv);

void xtel_dtls_server_get_stats(const struct xtel_dtls_server *srv,
				struct xtel_dtls_server_stats *out);

#endif /* XTEL_DTLS_SERVER_H */
