/* SPDX-License-Identifier: MIT */
/*
 * State shared by all loadgen threads for one run: the configuration, the
 * clients, each sender thread's published counters, and the stop/fatal
 * flags. Each counter block has exactly one writer (its thread), stored with
 * relaxed atomics so the progress reporter can read it at any time.
 */
#ifndef XTEL_LG_RUN_H
#define XTEL_LG_RUN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "fault.h"
#include "payload.h"
#include "scenario.h"

struct xtel_lg_client;
struct xtel_lg_dtls;

/* One thread's running totals, for the once-a-second progress line. */
struct xtel_lg_counters {
	_Atomic uint64_t sent;		/* datagrams that left the sockets */
	_Atomic uint64_t data_slots;	/* DATA sequence numbers consumed */
	_Atomic uint64_t errors;	/* datagrams that failed to send */
	_Atomic uint64_t hs_ok;
	_Atomic uint64_t hs_failed;
	_Atomic uint64_t reconnects;	/* --reconnect handshakes completed */
	_Atomic uint64_t resumed;	/* of them abbreviated (--resume) */
	_Atomic uint64_t step_slots[XTEL_LG_MAX_RAMP_STEPS];
} __attribute__((aligned(64)));

struct xtel_lg_thread {
	struct xtel_lg_run *run;
	uint32_t index;
	uint32_t first_client, n_clients;	/* a contiguous block */
	pthread_t tid;
	int started;
	uint64_t data_end_ns;		/* when this thread's DATA phase ended */
	uint64_t reconnect_ns;		/* --reconnect rounds: time, summed */
	bool reconnecting;		/* hs_done counts a reconnect */
	struct xtel_lg_counters ctr;
};

struct xtel_lg_flood_stats {
	_Atomic uint64_t sent;
	_Atomic uint64_t replies;	/* datagrams received back (HelloVerify...) */
	_Atomic uint64_t errors;
	uint32_t sockets;
	uint64_t start_ns, end_ns;
};

struct xtel_lg_run {
	const struct xtel_lg_config *cfg;
	struct xtel_lg_payload payload;
	struct xtel_lg_fault_cfg fault;
	struct xtel_lg_scenario *scenario;	/* NULL: no --scenario */

	struct xtel_lg_client *clients;
	struct xtel_lg_thread *threads;
	struct xtel_lg_dtls *dtls;		/* NULL in plain mode */

	/* Main waits here with the threads: after INIT, before DATA. */
	pthread_barrier_t start_barrier;
	uint64_t run_start_ns;		/* CLOCK_MONOTONIC at startup */
	uint64_t hs_end_ns;		/* handshake phase done (all threads) */
	uint64_t t0_ns;			/* DATA phase start, set by main */
	_Atomic int senders_done;	/* threads that finished (for flood) */

	/* Set from the signal handler: finish, send BYE, report. */
	volatile _Atomic int stop;
	volatile _Atomic int interrupted;	/* by SIGINT/SIGTERM */
	/* First fatal error wins: exit code and message. */
	_Atomic int fatal;
	char fatal_msg[512];

	struct xtel_lg_flood_stats flood;
	struct sockaddr_storage flood_target;
};

/*
 * Record a fatal error (first one wins), print it, and make every thread
 * stop. code is an enum xtel_lg_exit value.
 */
void xtel_lg_run_fail(struct xtel_lg_run *run, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Raises the soft RLIMIT_NOFILE to need (sockets and a few spare) when
 * the hard limit allows. Returns 0, or -EMFILE after a message naming
 * the option (flag) that asked for that many (noun).
 */
int xtel_lg_raise_fd_limit(uint32_t need, const char *flag, const char *noun);

static inline void xtel_lg_ctr_add(_Atomic uint64_t *c, uint64_t v)
{
	/* Single writer: a relaxed load + store, no locked instruction. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static inline uint64_t xtel_lg_ctr_get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

#endif /* XTEL_LG_RUN_H */
