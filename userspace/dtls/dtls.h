/* SPDX-License-Identifier: MIT */
/*
 * DTLS 1.2 sessions without sockets, for both ends of XTel: the collector's
 * per-worker server (many clients on one UDP port) and the load generator's
 * simulated clients. Datagrams come in as buffers and go out through a
 * callback (server) or a queue the caller pops (client); the callers own all
 * socket I/O and the clock (monotonic nanoseconds passed in as `now`).
 *
 * Both ends use mutual certificate authentication: ECDHE-ECDSA with AES-GCM
 * or ChaCha20-Poly1305, no renegotiation, no tickets, no compression.
 *
 * The server runs OpenSSL for the cookie exchange and the handshake only.
 * An established session is then served by a small built-in DTLS 1.2 AEAD
 * record layer (keys derived from the session's master secret), so it costs
 * about 1.6 KiB instead of OpenSSL's ~41 KiB, and a record about 0.3 us
 * instead of 1 us (bench/bench_dtls.cc). cfg.openssl_records keeps
 * OpenSSL's record layer instead.
 *
 * Messages go through common/log.h. Loading (xtel_dtls_identity_load,
 * xtel_dtls_client_ctx_new and the server's create) logs every failure with
 * pr_err, naming the file, and returns a negative errno:
 *   -ENOENT, -EACCES, ...  a file cannot be opened (errno of open)
 *   -EBADMSG               the certificate or key file is not valid PEM
 *   -EKEYREJECTED          the private key does not match the certificate
 *   -ENOMSG                the CA file holds no usable certificate
 */
#ifndef XTEL_DTLS_H
#define XTEL_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

enum {
	/*
	 * Largest DTLS datagram either end emits: handshake flights are
	 * fragmented to fit, application records are limited to
	 * XTEL_DTLS_MAX_PLAINTEXT bytes of plaintext (an XTel datagram,
	 * XTEL_MAX_DATAGRAM = 1228, always fits).
	 */
	XTEL_DTLS_MTU = 1400,
	XTEL_DTLS_MAX_PLAINTEXT = 1300,
	/* Room for any text xtel_dtls_client_error() returns. */
	XTEL_DTLS_ERR_LEN = 256,
};

/* ------------------------------------------------------------------ */
/* Identities: a certificate and its private key, loaded once.        */
/* ------------------------------------------------------------------ */

struct xtel_dtls_identity;

/*
 * Load a PEM certificate and its PEM private key and check that they
 * belong together. Errors: see the top of this file.
 */
int xtel_dtls_identity_load(struct xtel_dtls_identity **out,
			    const char *cert_file, const char *key_file);
void xtel_dtls_identity_free(struct xtel_dtls_identity *id);

/* ------------------------------------------------------------------ */
/* Client side (load generator): one object per simulated client.     */
/* ------------------------------------------------------------------ */

struct xtel_dtls_client_ctx;
struct xtel_dtls_client;

enum xtel_dtls_client_state {
	XTEL_DTLS_CLIENT_IDLE,		/* created, start() not called yet */
	XTEL_DTLS_CLIENT_HANDSHAKING,
	XTEL_DTLS_CLIENT_ESTABLISHED,	/* write() allowed */
	XTEL_DTLS_CLIENT_CLOSED,	/* close_notify sent or received */
	XTEL_DTLS_CLIENT_FAILED,	/* see xtel_dtls_client_error() */
};

/*
 * Shared client settings: the CA that must have signed the server's
 * certificate, and optionally a default identity (cert_file and key_file
 * both NULL: clients without xtel_dtls_client_new(id) send no certificate,
 * which the collector rejects; tests use that).
 */
int xtel_dtls_client_ctx_new(struct xtel_dtls_client_ctx **out,
			     const char *ca_file, const char *cert_file,
			     const char *key_file);
void xtel_dtls_client_ctx_free(struct xtel_dtls_client_ctx *ctx);

/*
 * A client. id overrides the ctx's identity (NULL: use the ctx's). When
 * server_name is not NULL the server certificate must match it: an IP
 * literal is checked against the SAN IP entries, anything else as a DNS
 * name. out_slots is the outgoing queue depth (0 selects 16); datagrams
 * written while it is full are dropped and counted, like a full socket
 * buffer. Returns 0 or -ENOMEM / -EINVAL.
 */
int xtel_dtls_client_new(struct xtel_dtls_client **out,
			 struct xtel_dtls_client_ctx *ctx,
			 const struct xtel_dtls_identity *id,
			 const char *server_name, unsigned int out_slots);
void xtel_dtls_client_free(struct xtel_dtls_client *c);

/* Begin the handshake: queues the ClientHello. */
int xtel_dtls_client_start(struct xtel_dtls_client *c, uint64_t now);

/*
 * Feed one datagram received from the server. Returns 0, or:
 *   -EPROTO      the handshake or session failed (state FAILED; the reason
 *                is in xtel_dtls_client_error(), e.g. "certificate verify
 *                failed (certificate has expired)" or "tlsv1 alert unknown
 *                ca" when the server rejected our certificate)
 *   -ECONNRESET  the server sent close_notify (state CLOSED)
 * Application data from the server is not part of the protocol: it is
 * decrypted and discarded.
 */
int xtel_dtls_client_input(struct xtel_dtls_client *c, const void *dgram,
			   size_t len, uint64_t now);

/*
 * Retransmission timer. next_timeout returns the absolute time at which
 * xtel_dtls_client_timers() must be called, or UINT64_MAX when no timer
 * runs. timers() retransmits when due and returns 0, or -ETIMEDOUT after
 * OpenSSL gave up retransmitting (state FAILED).
 */
uint64_t xtel_dtls_client_next_timeout(const struct xtel_dtls_client *c);
int xtel_dtls_client_timers(struct xtel_dtls_client *c, uint64_t now);

/*
 * Encrypt one record (one datagram) into the outgoing queue. Returns 0, or
 * -ENOTCONN before the handshake completed or after close, -EMSGSIZE when
 * len > XTEL_DTLS_MAX_PLAINTEXT, -ENOBUFS when the queue is full (nothing
 * was encrypted: pop and retry), -EPROTO on an OpenSSL error.
 */
int xtel_dtls_client_write(struct xtel_dtls_client *c, const void *buf,
			   size_t len);

/*
 * Outgoing datagrams, oldest first. pop copies one into buf and returns its
 * length, 0 when none is queued, -EMSGSIZE when cap is too small (use
 * XTEL_DTLS_MTU or more). peek/drop are the zero-copy pair: peek returns
 * the oldest datagram (NULL when none), drop dequeues it after sending.
 */
ssize_t xtel_dtls_client_pop(struct xtel_dtls_client *c, void *buf,
			     size_t cap);
const void *xtel_dtls_client_peek(struct xtel_dtls_client *c, size_t *len);
void xtel_dtls_client_drop(struct xtel_dtls_client *c);
unsigned int xtel_dtls_client_queued(const struct xtel_dtls_client *c);

/* Send close_notify (queued) and move to CLOSED. */
int xtel_dtls_client_close(struct xtel_dtls_client *c);

enum xtel_dtls_client_state xtel_dtls_client_state(const struct xtel_dtls_client *c);
const char *xtel_dtls_client_state_name(enum xtel_dtls_client_state s);

/* OpenSSL's reason for the failure, "" while none happened. */
const char *xtel_dtls_client_error(const struct xtel_dtls_client *c);

/* Per-client counters. */
struct xtel_dtls_client_stats {
	uint64_t retransmits;	/* handshake flights re-sent on timeout */
	uint64_t tx_dropped;	/* datagrams lost to a full outgoing queue */
	uint64_t records_tx;	/* application records written */
	uint64_t bad_record;	/* datagrams dropped before OpenSSL saw them:
				 * a record shorter than the AEAD overhead */
};
void xtel_dtls_client_get_stats(const struct xtel_dtls_client *c,
				struct xtel_dtls_client_stats *out);

/* ------------------------------------------------------------------ */
/* Server side (collector): one object per worker thread, not shared. */
/* ------------------------------------------------------------------ */

struct xtel_dtls_server;

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
 * error, replacement by a new handshake from the same address, shutdown or
 * free). Every up is matched by exactly one down for the same peer, so a
 * caller can mirror the established sessions elsewhere (the collector
 * tells its XDP program which sources have a session). Called from inside
 * the server functions, on the thread that owns the server.
 */
typedef void xtel_dtls_session_fn(void *arg, const struct sockaddr *peer,
				  socklen_t peer_len, uint32_t client_id,
				  bool up);

struct xtel_dtls_server_cfg {
	const char *cert_file;		/* server certificate (PEM) */
	const char *key_file;		/* its private key (PEM) */
	const char *ca_file;		/* CA client certificates must chain to */
	unsigned int max_sessions;	/* established + half-open; 0: 4096 */
	unsigned int max_half_open;	/* handshakes past the cookie; 0: 256 */
	/*
	 * Half-open handshakes per source: an IPv4 address or an IPv6 /64
	 * (0: max_half_open / 4, i.e. 64), so one host with many ports cannot
	 * fill max_half_open. A load generator on one address needs its
	 * handshakes in flight below this.
	 */
	unsigned int max_half_open_per_source;
	uint64_t idle_timeout;		/* ns without a record; 0: 60 s */
	uint64_t handshake_timeout;	/* ns from cookie to Finished; 0: 10 s */
	uint64_t cookie_period;		/* ns per cookie secret; 0: 30 s */
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
	 * are supported; e.g. put ChaCha20 first on CPUs without AES-NI.
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
};

/*
 * The server's counters, one table: X(ENUM, name, help) per counter, each
 * for one reason. The enum (XTEL_DTLS_STAT_<ENUM>), the fields of struct
 * xtel_dtls_server_stats (in this order, exactly XTEL_DTLS_SERVER_NSTATS
 * uint64_t), xtel_dtls_server_stat_names and xtel_dtls_server_stat_help all
 * expand from it, so a counter is one line and none of them can drift. The
 * names are keys of the collector's report and --summary-json
 * (docs/COLLECTOR.md): add at the end, never rename.
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
	  "handshake ended by an OpenSSL error or a bad certificate")	\
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
	  "half-open handshake dropped for a new one: table full, it "	\
	  "had sent nothing but its ClientHello for 1 s")

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

/* Load credentials and build the server. Errors: see the top of this file. */
int xtel_dtls_server_new(struct xtel_dtls_server **out,
			 const struct xtel_dtls_server_cfg *cfg);

/* Free everything without sending anything (see _shutdown). */
void xtel_dtls_server_free(struct xtel_dtls_server *srv);

/*
 * Feed one datagram from peer (AF_INET or AF_INET6). Sessions are keyed by
 * address and port. Returns 0 (every protocol outcome is a counter), or
 * -EAFNOSUPPORT for another address family.
 */
int xtel_dtls_server_input(struct xtel_dtls_server *srv,
			   const struct sockaddr *peer, socklen_t peer_len,
			   const void *dgram, size_t len, uint64_t now);

/*
 * When xtel_dtls_server_timers() must run next (absolute ns; UINT64_MAX:
 * nothing pending). Timers cover retransmission, handshake timeouts and
 * idle expiry.
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

#endif /* XTEL_DTLS_H */
