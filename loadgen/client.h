/* SPDX-License-Identifier: MIT */
/*
 * One simulated client: its connected UDP socket, its sequence numbering
 * (INIT 0, then one number per HEARTBEAT and DATA, BYE repeating the last),
 * the faults applied to its DATA, and its exact per-client statistics. The
 * datagrams a client emits go into its sender thread's batch and leave in one
 * sendmmsg call per client turn.
 */
#ifndef XTEL_LG_CLIENT_H
#define XTEL_LG_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fault.h"
#include "run.h"
#include "scenario.h"

struct xtel_dtls_client;

enum {
	XTEL_LG_SLOT_SIZE = 1536,	/* a sealed DTLS record fits too */
};

/* Exact per-client figures (the thread that owns the client writes them). */
struct xtel_lg_client_stats {
	uint64_t sent;			/* datagrams that left, all types */
	uint64_t sent_type[XTEL_MSG_TYPE_MAX + 1];
	uint64_t data_slots;		/* DATA sequence numbers consumed */
	uint64_t injected_loss;		/* DATA seqs skipped */
	uint64_t injected_dup;		/* extra copies sent */
	uint64_t injected_reorder;	/* held DATA sent after a higher seq */
	uint64_t reorder_held;		/* DATA held back (>= injected_reorder) */
	uint64_t reorder_in_order;	/* held, but flushed with no higher seq after */
	uint64_t reorder_not_held;	/* reorder drawn while the queue was full */
	uint64_t send_errors;		/* datagrams that failed to send */
	/* --scenario (scenario.h): its losses are in injected_loss too */
	uint64_t scenario_loss;		/* DATA seqs the scenario skipped */
	uint64_t scenario_skipped;	/* paced slots not sent (rate < 1, stop) */
	uint64_t scenario_extra;	/* DATA seqs added (rate > 1) */
	uint64_t scenario_delayed;	/* datagrams sent back-dated */
	uint64_t bytes;			/* UDP payload bytes sent */
};

enum xtel_lg_client_state {
	XTEL_LG_CLIENT_NEW = 0,
	XTEL_LG_CLIENT_READY,		/* handshake done, INIT not yet sent */
	XTEL_LG_CLIENT_ACTIVE,		/* INIT sent */
	XTEL_LG_CLIENT_DONE,		/* BYE sent (or given up) */
	XTEL_LG_CLIENT_FAILED,		/* handshake failed */
};

struct xtel_lg_client {
	uint32_t id;
	int fd;
	uint16_t src_port;
	enum xtel_lg_client_state state;

	uint64_t seq;			/* last sequence number taken */
	uint64_t max_data_seq;		/* highest DATA seq that left */
	uint64_t last_send_ns;		/* CLOCK_MONOTONIC, for heartbeats */
	uint64_t payload_rng;
	struct xtel_lg_held_queue held;
	struct xtel_lg_sc_effect eff;	/* the scenario now (send_data) */
	double rate_credit;		/* DATA seqs owed under a rate rule */

	/* DTLS (dtls_client.c); NULL in plain mode. */
	struct xtel_dtls_client *sess;
	uint64_t hs_start_ns, hs_end_ns;
	uint32_t hs_retransmits;
	char hs_error[160];
	struct xtel_dtls_ticket *ticket;	/* --resume: offered next time */
	bool resumed;			/* the last handshake was abbreviated */
	bool openssl_layer;		/* established on OpenSSL's record layer */

	struct xtel_lg_client_stats st;
};

/* A sender thread's sendmmsg batch; holds one client's datagrams at a time. */
struct xtel_lg_batch {
	uint32_t n, cap;
	uint8_t types[XTEL_LG_MAX_BATCH];
	struct mmsghdr msgs[XTEL_LG_MAX_BATCH];
	struct iovec iov[XTEL_LG_MAX_BATCH];
	uint8_t buf[XTEL_LG_MAX_BATCH][XTEL_LG_SLOT_SIZE];
	uint8_t plain[XTEL_LG_SLOT_SIZE];	/* DTLS: record before sealing */
};

/* Everything a client needs to emit datagrams from its sender thread. */
struct xtel_lg_tx {
	struct xtel_lg_run *run;
	struct xtel_lg_batch *batch;
	struct xtel_lg_counters *ctr;
	uint64_t now_ns;		/* CLOCK_MONOTONIC of this turn */
	/* DATA payload given as is (the probe's results); NULL: the template. */
	const char *payload;
	size_t payload_len;
};

struct xtel_lg_batch *xtel_lg_batch_new(uint32_t cap);
void xtel_lg_batch_free(struct xtel_lg_batch *b);

/*
 * Open the client's socket: ephemeral source port, connected to the target
 * (so ICMP errors come back as ECONNREFUSED and the collector sees one
 * address/port per client). Returns 0 or -errno.
 */
int xtel_lg_client_open(struct xtel_lg_client *c, uint32_t id,
			const struct xtel_lg_config *cfg);
void xtel_lg_client_close(struct xtel_lg_client *c);

/* INIT with seq 0. Sends (flushes) at once. */
void xtel_lg_client_send_init(struct xtel_lg_tx *tx, struct xtel_lg_client *c);

/* k DATA sequence numbers with faults applied; flushes. */
void xtel_lg_client_send_data(struct xtel_lg_tx *tx, struct xtel_lg_client *c,
			      uint64_t k);

/* One HEARTBEAT (takes the next seq); flushes. */
void xtel_lg_client_send_heartbeat(struct xtel_lg_tx *tx,
				   struct xtel_lg_client *c);

/* Release every held datagram, then BYE with the last seq; flushes. */
void xtel_lg_client_finish(struct xtel_lg_tx *tx, struct xtel_lg_client *c);

/* Send what the batch holds on c's socket. Returns 0 or -errno (fatal). */
int xtel_lg_batch_flush(struct xtel_lg_tx *tx, struct xtel_lg_client *c);

#endif /* XTEL_LG_CLIENT_H */
