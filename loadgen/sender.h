/* SPDX-License-Identifier: MIT */
/*
 * Sender threads. Each owns a contiguous block of clients and runs them
 * through the phases of a run: handshakes (DTLS), INIT, a start barrier
 * shared with main, the paced DATA phase with heartbeats and faults, and BYE.
 */
#ifndef XTEL_LG_SENDER_H
#define XTEL_LG_SENDER_H

#include "run.h"

/* pthread entry point; arg is a struct xtel_lg_thread. */
void *xtel_lg_sender_main(void *arg);

#endif /* XTEL_LG_SENDER_H */
