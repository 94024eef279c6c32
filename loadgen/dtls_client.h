/* SPDX-License-Identifier: MIT */
/*
 * loadgen's DTLS side: loads and checks the client certificates, drives many
 * client handshakes concurrently from one sender thread, and seals each
 * telemetry datagram into one DTLS record. The DTLS machinery itself is the
 * shared client API in userspace/dtls/client.h; this file only adapts it to
 * loadgen's clients and error reporting.
 */
#ifndef XTEL_LG_DTLS_CLIENT_H
#define XTEL_LG_DTLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "run.h"

struct xtel_lg_client;
struct xtel_lg_thread;

/*
 * Load ca.crt and check that every client-<id>.crt/.key in cfg->certs_dir
 * exists and matches. Returns 0, -ENOENT/-EINVAL (certificate problem,
 * message printed), or another -errno.
 */
int xtel_lg_dtls_init(struct xtel_lg_run *run);
void xtel_lg_dtls_free(struct xtel_lg_run *run);

/*
 * Run the handshakes of thread th's clients concurrently, with
 * retransmission, until each is done, failed or timed out. Returns the
 * number of failed handshakes (each client's hs_error says why).
 */
uint32_t xtel_lg_dtls_handshake_all(struct xtel_lg_thread *th);
uint32_t xtel_lg_dtls_reconnect_all(struct xtel_lg_thread *th);

/* Seal one plaintext datagram into one record in out. Returns its length. */
ssize_t xtel_lg_dtls_seal(struct xtel_lg_client *c, const void *plain,
			  size_t len, void *out, size_t cap);

/*
 * Queue and send close_notify (unless notify is false: the session is left
 * as a device that loses power leaves it, for the collector's idle timeout),
 * then free the session.
 */
void xtel_lg_dtls_close(struct xtel_lg_client *c, bool notify);

#endif /* XTEL_LG_DTLS_CLIENT_H */
