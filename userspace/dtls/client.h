/* SPDX-License-Identifier: MIT */
/*
 * The DTLS 1.2 client side, used only by the load generator: one object per
 * simulated client. Datagrams from the server are fed in as buffers, and
 * datagrams to it wait in a small queue the caller pops and sends; the
 * caller owns the sockets and the clock (monotonic ns passed in as `now`).
 * The client runs OpenSSL's handshake, then takes the record layer over
 * (record.c's keys, one AEAD context per thread; see client.c): an idle
 * established client keeps a few hundred bytes, not OpenSSL's ~56 KB.
 */
#ifndef XTEL_DTLS_CLIENT_H
#define XTEL_DTLS_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dtls/dtls.h"

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
 * on: clients of ctx keep OpenSSL's record layer after the handshake (the
 * behaviour before the take-over; benchmarks compare the two). Default off.
 */
void xtel_dtls_client_ctx_set_openssl_records(struct xtel_dtls_client_ctx *ctx,
					      bool on);
/*
 * Whether taken-over clients keep their session (~1 KB of DER) for
 * xtel_dtls_client_ticket. Default on; a load generator that never
 * resumes turns it off.
 */
void xtel_dtls_client_ctx_set_keep_tickets(struct xtel_dtls_client_ctx *ctx,
					   bool on);

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

/*
 * write + pop in one, without the queue: seal one record straight into out
 * (cap >= len + 37 bytes) and return its length, or the errors of write
 * (-EMSGSIZE also when cap is too small). A load generator sealing for
 * many clients keeps no ring per client this way.
 */
ssize_t xtel_dtls_client_seal(struct xtel_dtls_client *c, const void *buf,
			      size_t len, void *out, size_t cap);
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
	bool openssl;		/* established on OpenSSL's record layer
				 * (not taken over: see client.c) */
};
void xtel_dtls_client_get_stats(const struct xtel_dtls_client *c,
				struct xtel_dtls_client_stats *out);

/*
 * Session resumption. A ticket is what an established client keeps to
 * come back with an abbreviated handshake (the server's session ticket
 * and the session it seals). xtel_dtls_client_ticket: the ticket of an
 * established c (NULL: none, e.g. the server issues none; -ENOMEM too),
 * freed with xtel_dtls_ticket_free. xtel_dtls_client_resume: offer t in
 * the handshake of a new c, before xtel_dtls_client_start (0 or -EINVAL);
 * the server may still choose a full handshake. xtel_dtls_client_resumed:
 * whether c's completed handshake was an abbreviated one.
 */
struct xtel_dtls_ticket;
struct xtel_dtls_ticket *xtel_dtls_client_ticket(const struct xtel_dtls_client *c);
void xtel_dtls_ticket_free(struct xtel_dtls_ticket *t);
int xtel_dtls_client_resume(struct xtel_dtls_client *c,
			    const struct xtel_dtls_ticket *t);
bool xtel_dtls_client_resumed(const struct xtel_dtls_client *c);

#endif /* XTEL_DTLS_CLIENT_H */
