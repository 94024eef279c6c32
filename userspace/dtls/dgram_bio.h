/* SPDX-License-Identifier: MIT */
/*
 * A datagram-preserving OpenSSL BIO for DTLS without sockets. OpenSSL 3.0 has
 * no BIO_s_dgram_pair and BIO_s_mem merges datagrams, so this BIO keeps the
 * boundaries itself: every write is exactly one outgoing datagram and every
 * read returns exactly one incoming datagram (a read buffer too small for it
 * is an error, never a silent truncation). The caller does the socket I/O.
 *
 * Input is lent, not copied: xtel_dgram_bio_set_input() points the BIO at
 * the caller's buffer, which must stay valid until the SSL call that consumes
 * it returns (both users feed one datagram and process it synchronously).
 *
 * Output goes either to a sink callback (the collector: each DTLS datagram is
 * handed straight to its send queue, nothing is stored per session) or to a
 * ring of fixed-size slots allocated once (the load generator pops them in
 * batches for sendmmsg). Neither path allocates per datagram (a trimmed
 * ring is allocated again once, at the next write).
 */
#ifndef XTEL_DGRAM_BIO_H
#define XTEL_DGRAM_BIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/bio.h>

enum {
	/* Largest datagram a slot holds: one Ethernet MTU of UDP payload. */
	XTEL_DGRAM_SLOT_SIZE = 1500,
	/* Default per-packet overhead reported to OpenSSL (IPv6 + UDP). */
	XTEL_DGRAM_OVERHEAD = 48,
};

/*
 * Called once per datagram OpenSSL writes, in sink mode. buf is only valid
 * during the call.
 */
typedef void xtel_dgram_sink_fn(void *arg, const void *buf, size_t len);

/*
 * Create a BIO. tx_slots == 0 selects sink mode (set the sink before the
 * first write, or writes are dropped and counted); otherwise a ring of
 * tx_slots slots of XTEL_DGRAM_SLOT_SIZE bytes holds outgoing datagrams.
 * Returns NULL when out of memory. Use the same BIO as rbio and wbio:
 * SSL_set_bio(ssl, bio, bio) hands the single reference to the SSL.
 */
BIO *xtel_dgram_bio_new(unsigned int tx_slots);

/* Sink-mode output target. A NULL sink drops writes (counted). */
void xtel_dgram_bio_set_sink(BIO *bio, xtel_dgram_sink_fn *sink, void *arg);

/*
 * Lend one incoming datagram to the next BIO_read. Replaces any datagram
 * still unread (returns true when one was, so callers can count it).
 */
bool xtel_dgram_bio_set_input(BIO *bio, const void *dgram, size_t len);

/* Forget an unread input datagram. Returns true when there was one. */
bool xtel_dgram_bio_clear_input(BIO *bio);

/*
 * Ring mode: copy the oldest queued outgoing datagram into buf and dequeue
 * it. Returns its length, 0 when the queue is empty, -EMSGSIZE when cap is
 * too small (the datagram stays queued).
 */
ssize_t xtel_dgram_bio_pop(BIO *bio, void *buf, size_t cap);

/*
 * Ring mode, zero copy: the oldest queued datagram (NULL when none) and its
 * length; xtel_dgram_bio_drop() dequeues it once the caller has sent it.
 */
const void *xtel_dgram_bio_peek(BIO *bio, size_t *len);
void xtel_dgram_bio_drop(BIO *bio);

/*
 * Ring mode: free the ring while it is empty (true when it was freed); the
 * next write allocates it again (a write that cannot is dropped and
 * counted). For endpoints that sit idle in great numbers: a load generator
 * holding 100,000 established sessions keeps no ring of 32 x 1.5 KB each.
 */
bool xtel_dgram_bio_trim(BIO *bio);
/* Datagrams waiting in the ring. */
unsigned int xtel_dgram_bio_tx_queued(BIO *bio);

/* Free slots left in the ring (0 in sink mode). */
unsigned int xtel_dgram_bio_tx_space(BIO *bio);

/* Datagrams written while the ring was full (or no sink was set): dropped. */
unsigned long xtel_dgram_bio_tx_dropped(BIO *bio);

/* Change the per-packet overhead answered to BIO_CTRL_DGRAM_GET_MTU_OVERHEAD. */
void xtel_dgram_bio_set_overhead(BIO *bio, unsigned int overhead);

#endif /* XTEL_DGRAM_BIO_H */
