/* SPDX-License-Identifier: MIT */
/*
 * Command line of the collector daemon: the configuration every other
 * module reads, its defaults, the parser that validates each value against
 * its documented range, and the process exit codes (decided in main only,
 * listed here so --help, docs/COLLECTOR.md and main agree).
 */
#ifndef XTEL_CLI_H
#define XTEL_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "store/schema.h"
#include "health/health.h"

/* Process exit codes; docs/COLLECTOR.md lists the same table. */
enum xtel_exit {
	XTEL_EXIT_OK = 0,
	XTEL_EXIT_RUNTIME = 1,		/* unexpected failure at run time */
	XTEL_EXIT_USAGE = 2,		/* unknown flag, bad or missing value */
	XTEL_EXIT_CERT = 3,		/* cert/key/CA/CRL/deny list missing or invalid */
	XTEL_EXIT_KEY_MISMATCH = 4,	/* private key does not match the cert */
	XTEL_EXIT_ADDR = 5,		/* port in use or address not bindable */
	XTEL_EXIT_IFACE = 6,		/* --iface names no interface */
	XTEL_EXIT_PRIVILEGE = 7,	/* a needed capability is missing */
	XTEL_EXIT_URING = 8,		/* io_uring disabled or unsupported */
};

enum xtel_mode {
	XTEL_MODE_DTLS = 0,
	XTEL_MODE_PLAIN,
};

enum {
	XTEL_MAX_ALLOW = 64,	/* --allow prefixes */
	XTEL_MAX_PIN_CA = 8,	/* --pin-ca fingerprints */
};

struct xtel_config {
	enum xtel_mode mode;
	uint16_t port;
	char bind_str[64];		/* as given, for messages */
	struct sockaddr_storage bind_addr;	/* port filled in */
	socklen_t bind_len;
	unsigned int workers;
	const char *iface;		/* NULL unless --iface */
	unsigned int ifindex;		/* filled by main after validation */
	bool no_xdp;
	const char *pin_dir;		/* bpffs directory of the XDP maps */
	const char *allow[XTEL_MAX_ALLOW];	/* --allow CIDRs, validated */
	unsigned int n_allow;
	uint32_t handshake_rate;	/* per sessionless source, pps; 0: off */
	uint32_t handshake_burst;	/* 0: the loader's default (32) */
	uint32_t handshake_global_rate;	/* all sessionless sources, pps; 0: off */
	uint32_t handshake_global_burst; /* 0: the loader's default */
	bool afxdp;			/* receive through AF_XDP sockets */
	uint32_t afxdp_frames;		/* --afxdp-frames; 0: the library's default */
	bool xdp_skb;			/* attach in generic mode straight away */
	const char *detach;		/* --detach IFNAME: only that, then exit */
	const char *cert, *key, *ca;
	const char *crl;		/* NULL: no revocation check */
	const char *deny_list;		/* NULL: no client id denied */
	const char *pin_ca[XTEL_MAX_PIN_CA];	/* SHA-256, syntax checked */
	unsigned int n_pin_ca;
	const char *ciphers;		/* NULL: the DTLS server's default */
	const char *ticket_key_file;	/* NULL: a random key per process */
	uint64_t rcvbuf;		/* 0: leave the system default */
	double interval_s;
	unsigned int top;
	bool quiet;
	double duration_s;		/* 0: until SIGINT/SIGTERM */
	const char *summary_json;
	const char *csv;
	unsigned int csv_ring;		/* 64-byte slots per worker ring */
	double stale_after_s;
	unsigned int max_clients;	/* per worker registry */
	unsigned int rx_buffers;	/* provided buffers per worker */
	unsigned int rx_wait_us;	/* --rx-wait: plain mode's wake-up period */
	unsigned int rx_batch;		/* --rx-batch; 0: the loop's defaults */
	unsigned int rx_napi_us;	/* --rx-napi; 0: off */
	bool rx_napi_prefer;		/* --rx-napi-prefer */
	unsigned int rx_prefetch;	/* --rx-prefetch; 0: off */
	unsigned int busy_poll_us;	/* --busy-poll (SO_BUSY_POLL); 0: off */
	unsigned int max_sessions;	/* DTLS sessions per worker */
	unsigned int verify_cache;	/* verification cache entries per worker */
	bool openssl_records;		/* sessions stay on OpenSSL's record layer */
	double dtls_idle_s;		/* DTLS session idle timeout */

	/* the HTTP API (api/, docs/API.md); http NULL: off */
	const char *http;		/* --http ADDR:PORT as given */
	struct sockaddr_storage http_addr;	/* port filled in */
	socklen_t http_len;
	const char *http_cert, *http_key;	/* both or neither: HTTPS */
	const char *http_tokens;	/* bearer token file; NULL: no auth */
	unsigned int http_rate;		/* requests/s per source; 0: no limit */
	unsigned int http_burst;	/* its bucket */
	unsigned int http_source_conns;	/* open connections per source */
	unsigned int http_max_conns;	/* open connections in all */
	unsigned int http_threads;	/* server threads (libmicrohttpd pool) */
	double fresh_for_s;		/* a value older than this is stale */
	double api_window_s;		/* longest ?window= of /aggregate; 0: none */
	unsigned int metrics_clients;	/* per-client series cap on /metrics */
	const char *metrics_client_ids;	/* "1,5,10-20": only these; NULL: first N */
	unsigned int http_streams;	/* open /api/v1/stream streams at most */

	/* the history (store/, docs/STORAGE.md) and the device inventory
	 * (devices/, docs/DEVICES.md); db NULL: both off */
	const char *db;			/* --db FILE */
	uint64_t retain_s[XTEL_TIER_N];	/* --retain; 0: the tier's default */
	unsigned int db_queue;		/* views queued for the writer */
	bool inventory_only;		/* refuse client ids not in the inventory */
	/* health inference (docs/HEALTH.md) */
	bool no_health;
	struct xtel_health_cfg health;

	/* scale-out (docs/SCALE-OUT.md): edge export, or the aggregator */
	const char *export_urls;	/* --export nats://...; NULL: off */
	const char *site;		/* --site NAME */
	const char *edge;		/* --edge NAME; NULL: the host name */
	double export_backlog_mib;
	const char *export_spill;	/* directory; NULL: no spill */
	unsigned int export_spill_mib;
	unsigned int export_queue;
	unsigned int export_clients_per_msg;
	unsigned int export_max_wait_ms;
	double export_drain_s;
	const char *aggregate_urls;	/* --aggregate nats://...; NULL: off */
	const char *agg_db;		/* SQLite checkpoint file */
	const char *agg_durable;	/* JetStream durable consumer name */
	const char *agg_filter;		/* its subject filter */
	unsigned int agg_replicas;	/* of the stream, when it is created */
	double agg_ack_wait_s;
	unsigned int agg_batch;
	double agg_dup_window_s;	/* of the stream, when it is created */
	/* NATS credentials and TLS, for either side */
	const char *nats_user, *nats_password, *nats_creds;
	const char *nats_nkey, *nats_nkey_seed;
	const char *nats_ca, *nats_cert, *nats_key;
};

/*
 * Parse argv into cfg (defaults first). Returns -1 to continue, or the exit
 * code main should return right away (0 after --help, XTEL_EXIT_USAGE after
 * a message on stderr that names the flag and its valid range).
 */
int xtel_cli_parse(int argc, char **argv, struct xtel_config *cfg);

void xtel_cli_usage(FILE *out);

/*
 * SIGHUP: parse the configuration again into next (defaults, --config
 * file, the start's argv); 0 or -EINVAL after messages naming file, line
 * and key. Then, once main loaded what next names, take its reloadable
 * values (options marked .reload in cli.c, --log-level) into cfg.
 */
int xtel_cli_reparse(struct xtel_config *next);
unsigned int xtel_cli_take_reloadable(struct xtel_config *cfg,
				      const struct xtel_config *next);

#endif /* XTEL_CLI_H */
