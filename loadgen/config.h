/* SPDX-License-Identifier: MIT */
/*
 * The load generator's run configuration and exit codes: what the command
 * line parses into (cli.c) and what every other loadgen module reads. It is
 * filled once before any thread starts and read-only afterwards, so no module
 * needs a lock to look at it.
 */
#ifndef XTEL_LG_CONFIG_H
#define XTEL_LG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

/*
 * Exit codes, decided in main only. Documented in --help and
 * docs/LOADGEN.md; tests assert them, so never renumber.
 */
enum xtel_lg_exit {
	XTEL_LG_EXIT_OK = 0,		/* run completed (also after SIGINT) */
	XTEL_LG_EXIT_RUNTIME = 1,	/* unexpected system error, report write */
	XTEL_LG_EXIT_USAGE = 2,		/* invalid flag or flag value */
	XTEL_LG_EXIT_UNREACHABLE = 3,	/* no route, ICMP unreachable/refused */
	XTEL_LG_EXIT_HANDSHAKE = 4,	/* a DTLS handshake failed or timed out */
	XTEL_LG_EXIT_CERTS = 5,		/* certificate/key missing or mismatched */
};

enum xtel_lg_mode {
	XTEL_LG_MODE_DTLS = 0,
	XTEL_LG_MODE_PLAIN,
};

enum {
	XTEL_LG_MAX_THREADS = 64,
	XTEL_LG_MAX_CLIENTS = 60000,	/* about one ephemeral port range */
	XTEL_LG_MAX_RAMP_STEPS = 64,
	XTEL_LG_MAX_BATCH = 256,	/* sendmmsg vector length cap */
	XTEL_LG_MAX_HELD = 64,		/* reordered datagrams held per client */
	XTEL_LG_MAX_REORDER_DEPTH = 10000,
};

struct xtel_lg_config {
	struct sockaddr_storage target;
	socklen_t target_len;
	char target_str[80];		/* as given, for messages */

	uint32_t clients;
	uint32_t threads;
	uint32_t first_id;
	struct sockaddr_storage source;	/* --source: bind address, port 0 */
	socklen_t source_len;		/* 0: not given (the route picks) */

	/* Pacing: rate[0] alone, or the ramp steps of step_s seconds each. */
	double rates[XTEL_LG_MAX_RAMP_STEPS];
	uint32_t n_rates;
	bool ramp;
	double step_s;

	double duration_s;		/* 0: not given */
	uint64_t count;			/* DATA per client; 0: not given */

	enum xtel_lg_mode mode;
	const char *certs_dir;
	double handshake_timeout_s;
	double data_delay_s;		/* --data-delay: pause before INIT */
	uint32_t reconnect;		/* --reconnect: rounds after the handshakes */
	bool resume;			/* --resume: reconnect with the ticket */
	const char *reconnect_after;	/* --reconnect-after: wait for this file */
	bool openssl_records;		/* --openssl-records: no take-over */
	bool no_close;			/* --no-close: no close_notify at the end */

	const char *payload_template;	/* NULL: use payload_size */
	uint32_t payload_size;
	double heartbeat_s;		/* 0: off */

	uint64_t seed;
	double loss, dup, reorder;
	uint32_t reorder_depth;

	double flood_pps;		/* 0: no flood */
	struct sockaddr_storage flood_net;	/* network address of the range */
	uint32_t flood_prefix;
	bool flood_src_given;

	uint32_t batch;			/* sendmmsg batch size */
	bool quiet;
	const char *report_json;
	const char *scenario;		/* --scenario FILE; NULL: none */
};

#endif /* XTEL_LG_CONFIG_H */
