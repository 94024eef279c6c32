/* SPDX-License-Identifier: MIT */
/*
 * The probe server's configuration, counters and shared state. The server
 * is its own program, not part of the collector: a 1 GiB download keeps a
 * core busy encrypting, and that must never compete with the collector's
 * receive workers (different process, its own threads, can run on another
 * host); it shares the collector's libraries (common, the certs/gen.sh PKI
 * through OpenSSL) and nothing else.
 *
 * One thread per connection, at most --max-conns at once; the main thread
 * accepts, reaps finished connection threads and handles signals.
 */
#ifndef XTEL_PROBE_SERVER_H
#define XTEL_PROBE_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "common/counter.h"
#include "probe/schedule.h"

/* Exit codes, decided in main only; --help and docs/PROBES.md list them. */
enum xtel_ps_exit {
	XTEL_PS_EXIT_OK = 0,
	XTEL_PS_EXIT_RUNTIME = 1,
	XTEL_PS_EXIT_USAGE = 2,
	XTEL_PS_EXIT_LISTEN = 3,	/* cannot bind/listen (in use, no address) */
	XTEL_PS_EXIT_CERTS = 5,		/* certificate, key or CA unusable */
};

enum xtel_ps_scope {
	XTEL_PS_SCOPE_CONNECTION = 0,	/* each download gets the rate */
	XTEL_PS_SCOPE_TOTAL,		/* all downloads share it */
};

struct xtel_ps_config {
	struct sockaddr_storage listen;
	socklen_t listen_len;
	char listen_str[80];
	const char *cert, *key, *ca;
	unsigned int tls_min;		/* 0: TLS 1.2, 1: TLS 1.3 */
	unsigned int tls_max;
	uint32_t max_conns;
	uint64_t max_size;
	struct xtel_probe_schedule sched;
	enum xtel_ps_scope scope;
	double period_s;		/* throttle schedule repeats; 0: no */
	double epoch_s;			/* schedule's second 0, unix time; 0: start */
	double io_timeout_s;
	double duration_s;		/* 0: until SIGINT/SIGTERM */
	uint32_t truncate_every;	/* test fault: every Nth object cut; 0 off */
	const char *summary_json;
	bool quiet;
};

/* X(ENUM, "name", "unit", "help"): the server's counters, in its summary. */
#define XTEL_PS_COUNTER_TABLE(X)					\
	X(CONNECTIONS, "connections", "connections", "TCP connections accepted") \
	X(BUSY, "busy_refused", "connections",				\
	  "closed at once: --max-conns downloads were running")		\
	X(TLS_FAILED, "tls_failed", "connections",			\
	  "TLS handshake failed (no or bad client certificate, timeout)") \
	X(REQUESTS, "requests", "requests", "request heads read")	\
	X(BAD_REQUESTS, "bad_requests", "requests",			\
	  "answered 4xx/5xx (bad path, method, size), or head too large/slow") \
	X(OBJECTS, "objects_ok", "objects", "objects sent in full")	\
	X(ABORTED, "objects_aborted", "objects",			\
	  "the client went away or a write timed out mid-object")	\
	X(TRUNCATED, "objects_truncated", "objects",			\
	  "cut short on purpose by --truncate-every")			\
	X(BYTES, "body_bytes", "bytes", "object bytes written to TLS")

enum xtel_ps_counter {
#define X(id, name, unit, help) XTEL_PS_C_##id,
	XTEL_PS_COUNTER_TABLE(X)
#undef X
	XTEL_PS_C_MAX,
};

extern const struct xtel_counter_desc xtel_ps_counter_desc[XTEL_PS_C_MAX];

struct xtel_ps_conn {
	struct xtel_ps_server *srv;
	pthread_t tid;
	int fd;
	atomic_int state;		/* 0 free, 1 running, 2 finished */
	uint64_t accept_ns;
};

struct xtel_ps_server {
	const struct xtel_ps_config *cfg;
	SSL_CTX *ctx;
	int listen_fd;
	atomic_int stop;
	uint64_t epoch_ns;		/* CLOCK_REALTIME of the schedule's 0 */
	uint64_t start_mono_ns;

	pthread_mutex_t pacer_lock;	/* XTEL_PS_SCOPE_TOTAL only */
	struct xtel_probe_pacer pacer;
	unsigned int pacer_users;	/* downloads sending; under pacer_lock */

	atomic_uint_fast64_t responses;	/* 200s begun, for --truncate-every */
	atomic_uint_fast64_t ctr[XTEL_PS_C_MAX];

	uint8_t *pattern;		/* the body's bytes, repeated */
	struct xtel_ps_conn *conns;	/* max_conns slots */
};

/* Parses argv; 0 run, 1 --help/--version printed, -EINVAL message printed. */
int xtel_ps_cli_parse(int argc, char **argv, struct xtel_ps_config *cfg);

/* TLS context: cert, key, CA for client certificates. 0 or -errno. */
int xtel_ps_tls_init(struct xtel_ps_server *srv);

/* A connection slot's thread: TLS, one request, one answer, close. */
void *xtel_ps_conn_main(void *arg);

static inline void xtel_ps_count(struct xtel_ps_server *srv,
				 enum xtel_ps_counter c, uint64_t n)
{
	atomic_fetch_add_explicit(&srv->ctr[c], n, memory_order_relaxed);
}

#endif /* XTEL_PROBE_SERVER_H */
