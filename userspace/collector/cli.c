// SPDX-License-Identifier: MIT
/*
 * Collector command line: the option table (common/options.h) with each
 * option's range, error text and --help lines, the defaults, and the
 * checks that involve several options. Every numeric option is checked
 * against a documented range and a bad value is reported with the option's
 * name and that range, so a typo in a unit file fails loudly at start
 * instead of running with a surprising setting.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "collector/cli.h"
#include "common/options.h"
#include "common/options_service.h"
#include "common/parse.h"
#include "dtls/server.h"
#include "store/writer.h"

/* Table order is --help order. */
enum col_opt {
	COL_OPT_MODE, COL_OPT_PORT, COL_OPT_BIND, COL_OPT_WORKERS,
	COL_OPT_RCVBUF, COL_OPT_RX_BUFFERS, COL_OPT_RX_WAIT,
	COL_OPT_RX_BATCH, COL_OPT_RX_NAPI, COL_OPT_RX_NAPI_PREFER, COL_OPT_BUSY_POLL,
	COL_OPT_RX_PREFETCH,
	COL_OPT_MAX_CLIENTS, COL_OPT_IFACE,
	COL_OPT_NO_XDP, COL_OPT_PIN_DIR, COL_OPT_ALLOW, COL_OPT_HS_RATE,
	COL_OPT_HS_BURST, COL_OPT_HS_GLOBAL_RATE, COL_OPT_HS_GLOBAL_BURST,
	COL_OPT_AFXDP, COL_OPT_AFXDP_FRAMES, COL_OPT_XDP_SKB, COL_OPT_DETACH, COL_OPT_CERT, COL_OPT_KEY, COL_OPT_CA,
	COL_OPT_CRL, COL_OPT_DENY_LIST, COL_OPT_PIN_CA, COL_OPT_CIPHERS,
	COL_OPT_TICKET_KEY_FILE, COL_OPT_VERIFY_CACHE,
	COL_OPT_MAX_SESSIONS, COL_OPT_DTLS_IDLE, COL_OPT_INTERVAL, COL_OPT_TOP,
	COL_OPT_QUIET, COL_OPT_STALE_AFTER, COL_OPT_DURATION,
	COL_OPT_SUMMARY_JSON, COL_OPT_CSV, COL_OPT_CSV_RING,
	COL_OPT_HTTP, COL_OPT_HTTP_CERT, COL_OPT_HTTP_KEY, COL_OPT_HTTP_TOKENS,
	COL_OPT_HTTP_RATE, COL_OPT_HTTP_BURST, COL_OPT_HTTP_SOURCE_CONNS,
	COL_OPT_HTTP_MAX_CONNS, COL_OPT_HTTP_THREADS, COL_OPT_FRESH_FOR, COL_OPT_API_WINDOW,
	COL_OPT_METRICS_CLIENTS, COL_OPT_METRICS_CLIENT_IDS,
	COL_OPT_HTTP_STREAMS,
	COL_OPT_DB, COL_OPT_RETAIN, COL_OPT_DB_QUEUE, COL_OPT_INVENTORY_ONLY,
	COL_OPT_NO_HEALTH, COL_OPT_HEALTH_WARMUP, COL_OPT_HEALTH_WINDOW,
	COL_OPT_HEALTH_Z, COL_OPT_HEALTH_CONFIRM, COL_OPT_HEALTH_CLEAR,
	COL_OPT_HEALTH_SILENT, COL_OPT_HEALTH_SLO, COL_OPT_HEALTH_EVENTS,
	COL_OPT_HEALTH_PROBE_FRAC, COL_OPT_HEALTH_PROBE_MIN,
	COL_OPT_EXPORT, COL_OPT_SITE, COL_OPT_EDGE, COL_OPT_EXPORT_BACKLOG,
	COL_OPT_EXPORT_SPILL, COL_OPT_EXPORT_SPILL_MIB,
	COL_OPT_EXPORT_QUEUE, COL_OPT_EXPORT_CLIENTS_PER_MSG,
	COL_OPT_EXPORT_MAX_WAIT, COL_OPT_EXPORT_DRAIN,
	COL_OPT_AGGREGATE, COL_OPT_AGG_DB, COL_OPT_AGG_DURABLE, COL_OPT_AGG_FILTER,
	COL_OPT_AGG_REPLICAS, COL_OPT_AGG_ACK_WAIT, COL_OPT_AGG_BATCH,
	COL_OPT_AGG_DUP_WINDOW,
	COL_OPT_NATS_USER, COL_OPT_NATS_PASSWORD, COL_OPT_NATS_CREDS,
	COL_OPT_NATS_NKEY, COL_OPT_NATS_NKEY_SEED, COL_OPT_NATS_CA,
	COL_OPT_NATS_CERT, COL_OPT_NATS_KEY,
	COL_OPT_OPENSSL_RECORDS,
	COL_OPT_HELP,
	COL_N_OPTS,
};

/*
 * Options that only mean something to the XDP program, so --no-xdp can
 * refuse them by name instead of silently running without what the user
 * asked for.
 */
enum { COL_GROUP_XDP = 1 << 0 };

static const char *const mode_names[] = {
	[XTEL_MODE_DTLS] = "dtls",
	[XTEL_MODE_PLAIN] = "plain",
	NULL,
};

/* Accept "::", "::1", "[::1]", "0.0.0.0", "198.18.0.1". */
static int parse_bind(const struct xtel_opt *o, const char *val, void *arg)
{
	struct xtel_config *cfg = arg;
	char buf[sizeof(cfg->bind_str)];
	size_t n = strlen(val);
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cfg->bind_addr;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&cfg->bind_addr;

	if (n + 1 > sizeof(buf))
		return xtel_bad_value(o->name, val, o->valid);
	memcpy(buf, val, n + 1);
	if (buf[0] == '[' && n > 2 && buf[n - 1] == ']') {
		memmove(buf, buf + 1, n - 2);
		buf[n - 2] = '\0';
	}
	memset(&cfg->bind_addr, 0, sizeof(cfg->bind_addr));
	if (inet_pton(AF_INET6, buf, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		cfg->bind_len = sizeof(*s6);
	} else if (inet_pton(AF_INET, buf, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		cfg->bind_len = sizeof(*s4);
	} else {
		return xtel_bad_value(o->name, val, o->valid);
	}
	snprintf(cfg->bind_str, sizeof(cfg->bind_str), "%s", buf);
	return 0;
}

static const char *show_bind(const struct xtel_opt *o, const void *arg)
{
	return ((const struct xtel_config *)arg)->bind_str;
}

static const char *show_http(const struct xtel_opt *o, const void *arg)
{
	return ((const struct xtel_config *)arg)->http;
}

/* --http: "198.18.0.1:9477", "127.0.0.1:9477", "[::1]:9477" (numeric). */
static int parse_http(const struct xtel_opt *o, const char *val, void *arg)
{
	struct xtel_config *cfg = arg;
	char host[INET6_ADDRSTRLEN];
	const char *colon = strrchr(val, ':'), *h = val;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cfg->http_addr;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&cfg->http_addr;
	bool v6 = val[0] == '[';
	uint64_t port;
	size_t n;

	if (!colon || xtel_parse_u64(colon + 1, 1, 65535, &port))
		return xtel_bad_value(o->name, val, o->valid);
	n = (size_t)(colon - val);
	if (v6) {
		if (n < 3 || val[n - 1] != ']')
			return xtel_bad_value(o->name, val, o->valid);
		h++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(host))
		return xtel_bad_value(o->name, val, o->valid);
	memcpy(host, h, n);
	host[n] = '\0';
	memset(&cfg->http_addr, 0, sizeof(cfg->http_addr));
	if (v6 && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		cfg->http_len = sizeof(*s6);
	} else if (!v6 && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		cfg->http_len = sizeof(*s4);
	} else {
		return xtel_bad_value(o->name, val, o->valid);
	}
	cfg->http = val;
	return 0;
}

/* --metrics-client-ids: "ID" or "LO-HI", comma-separated, ids 0..2^32-1. */
static bool client_ids_ok(const char *val)
{
	const char *p = val;

	if (!*p)
		return false;
	while (*p) {
		char buf[24];
		size_t n = strcspn(p, ",");
		const char *dash;
		uint64_t lo, hi;

		if (n == 0 || n >= sizeof(buf))
			return false;
		memcpy(buf, p, n);
		buf[n] = '\0';
		dash = strchr(buf, '-');
		if (dash) {
			buf[dash - buf] = '\0';
			if (xtel_parse_u64(buf, 0, UINT32_MAX, &lo) ||
			    xtel_parse_u64(dash + 1, lo, UINT32_MAX, &hi))
				return false;
		} else if (xtel_parse_u64(buf, 0, UINT32_MAX, &lo)) {
			return false;
		}
		p += n;
		if (*p == ',' && !*++p)
			return false;
	}
	return true;
}

/*
 * --allow: "ADDR" or "ADDR/LEN", IPv4 (LEN 0..32) or IPv6 (0..128). Checked
 * here so a typo fails at start with the option's name; the XDP loader
 * parses it again when it fills its maps. Host bits are allowed: the loader
 * ignores them, as LPM matching does.
 */
static bool allow_ok(const char *val)
{
	struct xtel_cidr c;

	return xtel_parse_cidr(val, 0, &c) == 0;
}

static bool fingerprint_ok(const char *val)
{
	unsigned char md[32];

	return xtel_dtls_parse_fingerprint(val, md) == 0;
}

/* The DTLS server logs what is wrong with the list. */
static bool ciphers_ok(const char *val)
{
	return xtel_dtls_check_ciphers(val) == 0;
}

/* --retain: "10s=2d,1m=30d,1h=400d" (store/writer.c parses it). */
static int parse_retain(const struct xtel_opt *o, const char *val, void *arg)
{
	struct xtel_config *cfg = arg;

	if (xtel_store_parse_retain(val, cfg->retain_s))
		return xtel_bad_value(o->name, val, o->valid);
	return 0;
}

/* --health-slo LABEL:p99=MS,loss=PCT,jitter=MS (repeatable, one per label) */
static int parse_health_slo(const struct xtel_opt *o, const char *val, void *arg)
{
	struct xtel_config *cfg = arg;

	if (xtel_health_slo_parse(&cfg->health, val))
		return xtel_bad_value(o->name, val, o->valid);
	return 0;
}

#define CFG struct xtel_config

static const struct xtel_opt col_opt[COL_N_OPTS] = {
	[COL_OPT_MODE] = { .name = "mode", .metavar = "dtls|plain",
		.section = "Receive:",
		XTEL_OPT_CHOICE_AT(CFG, mode, mode_names), .valid = "dtls or plain",
		.help = "transport (default dtls)" },
	[COL_OPT_PORT] = { .name = "port", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, port, 1, 65535), .valid = "1..65535",
		.help = "UDP port, 1..65535 (default 7700)" },
	[COL_OPT_BIND] = { .name = "bind", .metavar = "ADDR",
		.type = XTEL_OPT_CUSTOM, .parse = parse_bind, .show = show_bind,
		.valid = "an IPv4 or IPv6 address",
		.help = "local IPv4/IPv6 address (default :: dual-stack,\n"
			"IPv4 and IPv6 both accepted)" },
	[COL_OPT_WORKERS] = { .name = "workers", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, workers, 1, 256), .valid = "1..256",
		.help = "receive threads, 1..256 (default: online CPUs)" },
	[COL_OPT_RCVBUF] = { .name = "rcvbuf", .metavar = "BYTES",
		XTEL_OPT_UINT_AT(CFG, rcvbuf, 4096, 1u << 30),
		.check = XTEL_OPT_OR_ZERO, .valid = "0 or 4096..1073741824",
		.help = "socket receive buffer per worker, 0 or\n"
			"4096..1073741824 (default 33554432; 0 keeps the\n"
			"system default). SO_RCVBUFFORCE as root, else\n"
			"SO_RCVBUF capped by net.core.rmem_max" },
	[COL_OPT_RX_BUFFERS] = { .name = "rx-buffers", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, rx_buffers, 64, 32768),
		.check = XTEL_OPT_POW2, .valid = "a power of two, 64..32768",
		.help = "io_uring provided buffers per worker, power of\n"
			"two 64..32768 (default 4096)" },
	[COL_OPT_RX_WAIT] = { .name = "rx-wait", .metavar = "US",
		XTEL_OPT_UINT_AT(CFG, rx_wait_us, 0, 100000),
		.valid = "0..100000 microseconds",
		.help = "plain mode: the io_uring loop wakes at most every US\n"
			"microseconds and takes what arrived (AF_XDP: at\n"
			"most 1000, while frames come densely), 0..100000\n"
			"(default 5000; 0: on the first datagram). Kernel\n"
			"timestamps keep latency exact; counts lag by <= US" },
	/* Issue 16's receive-path options: docs/CAPACITY.md has the figures. */
	[COL_OPT_RX_BATCH] = { .name = "rx-batch", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, rx_batch, 1, 32768),
		.check = XTEL_OPT_OR_ZERO, .valid = "0 or 1..32768",
		.help = "completions one io_uring wait asks for while\n"
			"traffic flows, 0 or 1..32768 (default 0: 32, and in\n"
			"plain mode with --rx-wait the buffer count)" },
	[COL_OPT_RX_NAPI] = { .name = "rx-napi", .metavar = "US",
		XTEL_OPT_UINT_AT(CFG, rx_napi_us, 1, 10000),
		.check = XTEL_OPT_OR_ZERO, .valid = "0 or 1..10000 microseconds",
		.help = "io_uring NAPI busy polling (kernel 6.9+): each\n"
			"wait polls the device queue for up to US\n"
			"microseconds, 0 or 1..10000 (default 0: off; on veth\n"
			"it needs XDP attached, which gives the queue a NAPI)" },
	[COL_OPT_RX_NAPI_PREFER] = { .name = "rx-napi-prefer",
		XTEL_OPT_FLAG_AT(CFG, rx_napi_prefer),
		.help = "with --rx-napi: ask the kernel to leave the queue\n"
			"to the busy poller rather than its softirq" },
	[COL_OPT_BUSY_POLL] = { .name = "busy-poll", .metavar = "US",
		XTEL_OPT_UINT_AT(CFG, busy_poll_us, 1, 10000),
		.check = XTEL_OPT_OR_ZERO, .valid = "0 or 1..10000 microseconds",
		.help = "SO_BUSY_POLL on the worker sockets: a receive that\n"
			"finds the socket empty polls the device queue for\n"
			"up to US microseconds, 0 or 1..10000 (default 0: off)" },
	[COL_OPT_RX_PREFETCH] = { .name = "rx-prefetch", .metavar = "D",
		XTEL_OPT_UINT_AT(CFG, rx_prefetch, 1, 64),
		.check = XTEL_OPT_OR_ZERO, .valid = "0 or 1..64",
		.help = "DTLS mode, a receive path (io_uring worker, AF_XDP)\n"
			"with 4,096 sessions or more: within a batch of\n"
			"datagrams, prefetch a record's peer bucket 4D\n"
			"ahead, its session 3D, its registry slot 2D, its\n"
			"accounting record D, 0 or 1..64 (default 2; 0: off)" },
	[COL_OPT_MAX_CLIENTS] = { .name = "max-clients", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, max_clients, 1, 1u << 22),
		.valid = "1..4194304",
		.help = "clients per worker, 1..4194304 (default 65536)" },
	[COL_OPT_IFACE] = { .name = "iface", .metavar = "IFNAME",
		.groups = COL_GROUP_XDP,
		XTEL_OPT_STRING_AT(CFG, iface), .lo = 1, .hi = 15,
		.valid = "an interface name of 1..15 characters",
		.help = "interface for the XDP fast path (required unless\n"
			"--no-xdp): the program drops invalid datagrams,\n"
			"counts every client before the socket and\n"
			"rate-limits DTLS handshakes. Native mode, else\n"
			"generic (a message says so)" },
	[COL_OPT_NO_XDP] = { .name = "no-xdp", XTEL_OPT_FLAG_AT(CFG, no_xdp),
		.help = "run without XDP on plain sockets" },

	[COL_OPT_PIN_DIR] = { .name = "pin-dir", .metavar = "DIR",
		.section = "XDP (with --iface):", .groups = COL_GROUP_XDP,
		XTEL_OPT_STRING_AT(CFG, pin_dir), .check = XTEL_OPT_ABSOLUTE,
		.valid = "an absolute directory path on a bpffs",
		.help = "bpffs directory of the program's maps (default\n"
			"/sys/fs/bpf/xtel); counters survive a restart" },
	[COL_OPT_ALLOW] = { .name = "allow", .metavar = "CIDR",
		.groups = COL_GROUP_XDP,
		.type = XTEL_OPT_STRINGS, XTEL_OPT_AT(CFG, allow),
		.count_offset = offsetof(CFG, n_allow), .hi = XTEL_MAX_ALLOW,
		.accept = allow_ok, .reload = true, .valid_extra = "at most 64 prefixes",
		.valid = "an IPv4 or IPv6 address or CIDR "
			 "(e.g. 198.18.0.0/24, 2001:2::/64)",
		.help = "accept only sources in CIDR (IPv4 or IPv6, e.g.\n"
			"198.18.0.0/24, 2001:2::/64, or one address);\n"
			"repeatable up to 64; others are dropped in XDP" },
	[COL_OPT_HS_RATE] = { .name = "handshake-rate", .metavar = "PPS",
		.groups = COL_GROUP_XDP,
		XTEL_OPT_UINT_AT(CFG, handshake_rate, 0, 10000000),
		.valid = "0..10000000 datagrams/s",
		.help = "DTLS datagrams/s per source without a session,\n"
			"0..10000000 (default 0: unlimited)" },
	[COL_OPT_HS_BURST] = { .name = "handshake-burst", .metavar = "N",
		.groups = COL_GROUP_XDP,
		XTEL_OPT_UINT_AT(CFG, handshake_burst, 0, 10000000),
		.valid = "0..10000000 datagrams",
		.help = "its bucket size, 0..10000000 (default 0: 32)" },
	[COL_OPT_HS_GLOBAL_RATE] = { .name = "handshake-global-rate",
		.metavar = "PPS", .groups = COL_GROUP_XDP,
		XTEL_OPT_UINT_AT(CFG, handshake_global_rate, 0, 10000000),
		.valid = "0..10000000 datagrams/s",
		.help = "the same for all sessionless sources together,\n"
			"0..10000000 (default 0: unlimited)" },
	[COL_OPT_HS_GLOBAL_BURST] = { .name = "handshake-global-burst",
		.metavar = "N", .groups = COL_GROUP_XDP,
		XTEL_OPT_UINT_AT(CFG, handshake_global_burst, 0, 10000000),
		.valid = "0..10000000 datagrams",
		.help = "its bucket, 0..10000000 (default 0: rate/10, at\n"
			"least 32)" },
	[COL_OPT_AFXDP] = { .name = "afxdp", .groups = COL_GROUP_XDP,
		XTEL_OPT_FLAG_AT(CFG, afxdp),
		.help = "receive through AF_XDP sockets (one per RX queue)\n"
			"on one extra thread; falls back to io_uring with\n"
			"a message when AF_XDP is unavailable" },
	[COL_OPT_AFXDP_FRAMES] = { .name = "afxdp-frames", .metavar = "N",
		.groups = COL_GROUP_XDP,
		XTEL_OPT_UINT_AT(CFG, afxdp_frames, 2048, 262144),
		.check = XTEL_OPT_OR_ZERO | XTEL_OPT_POW2, .valid = "0 or a power of two, 2048..262144",
		.help = "UMEM frames (2 KiB) and ring slots per AF_XDP\n"
			"socket, 0 or a power of two 2048..262144\n"
			"(default 0: 8192)" },
	[COL_OPT_XDP_SKB] = { .name = "xdp-generic", .groups = COL_GROUP_XDP,
		XTEL_OPT_FLAG_AT(CFG, xdp_skb),
		.help = "attach in generic (skb) mode straight away" },
	[COL_OPT_DETACH] = { .name = "detach", .metavar = "IFNAME",
		XTEL_OPT_STRING_AT(CFG, detach), .lo = 1, .hi = 15,
		.valid = "an interface name of 1..15 characters",
		.help = "remove the XDP program a killed collector left\n"
			"on IFNAME and exit (its pinned counters stay);\n"
			"refused while a collector runs there" },

	[COL_OPT_CERT] = { .name = "cert", .metavar = "FILE",
		.section = "DTLS (required with --mode dtls):",
		XTEL_OPT_STRING_AT(CFG, cert), .reload = true,
		.help = "server certificate (PEM); re-read on SIGHUP" },
	[COL_OPT_KEY] = { .name = "key", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, key), .reload = true,
		.help = "server private key (PEM)" },
	[COL_OPT_CA] = { .name = "ca", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, ca), .reload = true,
		.help = "CA that signs client certificates (PEM)" },
	[COL_OPT_CRL] = { .name = "crl", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, crl), .reload = true,
		.help = "CRLs of every CA of the chains (PEM), and the\n"
			"intermediates' certificates that sign some: a\n"
			"revoked client or CA is refused; re-read on\n"
			"SIGHUP (certs/gen.sh revoke, chain-revoke)" },
	[COL_OPT_DENY_LIST] = { .name = "deny-list", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, deny_list), .reload = true,
		.help = "client ids to refuse, one per line ('#'\n"
			"comments); re-read on SIGHUP" },
	[COL_OPT_PIN_CA] = { .name = "pin-ca", .metavar = "SHA256",
		.type = XTEL_OPT_STRINGS, XTEL_OPT_AT(CFG, pin_ca),
		.count_offset = offsetof(CFG, n_pin_ca), .hi = XTEL_MAX_PIN_CA,
		.accept = fingerprint_ok, .reload = true, .valid_extra = "at most 8 fingerprints",
		.valid = "a SHA-256 fingerprint: 64 hex digits, colons allowed",
		.help = "accept only clients whose chain passes through\n"
			"this CA of --ca (openssl x509 -noout\n"
			"-fingerprint -sha256); repeatable up to 8" },
	[COL_OPT_CIPHERS] = { .name = "ciphers", .metavar = "LIST",
		XTEL_OPT_STRING_AT(CFG, ciphers), .accept = ciphers_ok,
		.valid = "some of ECDHE-ECDSA-AES128-GCM-SHA256, "
			 "ECDHE-ECDSA-CHACHA20-POLY1305, "
			 "ECDHE-ECDSA-AES256-GCM-SHA384",
		.help = "OpenSSL cipher list of ECDHE-ECDSA suites with\n"
			"AES-128-GCM, ChaCha20-Poly1305 or AES-256-GCM\n"
			"only (default: all three, in this order)" },
	[COL_OPT_TICKET_KEY_FILE] = { .name = "ticket-key-file", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, ticket_key_file),
		.help = "keep the session ticket key in FILE (made 0600\n"
			"if missing; refused unless owner-only and 80\n"
			"bytes, or 160: new key then the previous one,\n"
			"a rotation) so devices resume after a restart;\n"
			"default: a new random key per run" },
	[COL_OPT_VERIFY_CACHE] = { .name = "verify-cache", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, verify_cache, 0, 1u << 24),
		.valid = "0..16777216",
		.help = "remember the chain check of up to N client\n"
			"certificates per worker (64 bytes each) so a\n"
			"device's next full handshake skips it; a policy\n"
			"reload forgets them; 0: off (default 65536)" },
	[COL_OPT_MAX_SESSIONS] = { .name = "max-sessions", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, max_sessions, 1, 1u << 20),
		.valid = "1..1048576",
		.help = "DTLS sessions per worker, 1..1048576 (default 4096)" },
	[COL_OPT_DTLS_IDLE] = { .name = "dtls-idle", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, dtls_idle_s, 1, 86400),
		.valid = "1..86400 seconds",
		.help = "close a DTLS session idle for S seconds,\n"
			"1..86400 (default 60)" },

	[COL_OPT_INTERVAL] = { .name = "interval", .metavar = "S",
		.section = "Reports:",
		XTEL_OPT_DOUBLE_AT(CFG, interval_s, 0.1, 3600),
		.valid = "0.1..3600 seconds",
		.help = "report period in seconds, 0.1..3600 (default 1)" },
	[COL_OPT_TOP] = { .name = "top", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, top, 0, 100000), .valid = "0..100000",
		.help = "clients shown per report, 0..100000 (default 10)" },
	[COL_OPT_QUIET] = { .name = "quiet", XTEL_OPT_FLAG_AT(CFG, quiet),
		.help = "no periodic table (final summary still printed)" },
	[COL_OPT_STALE_AFTER] = { .name = "stale-after", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, stale_after_s, 0.1, 86400),
		.valid = "0.1..86400 seconds",
		.help = "a client with no datagram for S seconds is shown\n"
			"as stale, 0.1..86400 (default 15 = 3 heartbeats)" },
	[COL_OPT_DURATION] = { .name = "duration", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, duration_s, 0, 31536000),
		.valid = "0..31536000 seconds",
		.help = "stop after S seconds, 0..31536000 (default 0:\n"
			"run until SIGINT/SIGTERM)" },
	[COL_OPT_SUMMARY_JSON] = { .name = "summary-json", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, summary_json),
		.help = "write the final summary as JSON" },
	[COL_OPT_CSV] = { .name = "csv", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, csv),
		.help = "one row per accepted datagram" },
	[COL_OPT_CSV_RING] = { .name = "csv-ring", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, csv_ring, 1024, 1u << 24),
		.check = XTEL_OPT_POW2, .valid = "a power of two, 1024..16777216",
		.help = "CSV ring slots (64 bytes) per worker, power of\n"
			"two 1024..16777216 (default 131072); overflow is\n"
			"counted as csv_dropped" },

	[COL_OPT_HTTP] = { .name = "http", .metavar = "ADDR:PORT",
		.section = "HTTP API and Prometheus /metrics (docs/API.md):",
		.type = XTEL_OPT_CUSTOM, .parse = parse_http, .show = show_http,
		.valid = "a numeric IPv4 ADDR:PORT or [IPv6]:PORT, port 1..65535",
		.help = "serve the query API and /metrics on ADDR:PORT\n"
			"(default off; e.g. 127.0.0.1:9477)" },
	[COL_OPT_HTTP_CERT] = { .name = "http-cert", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, http_cert),
		.help = "HTTPS: server certificate (PEM; with --http-key)" },
	[COL_OPT_HTTP_KEY] = { .name = "http-key", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, http_key),
		.help = "HTTPS: its private key (PEM)" },
	[COL_OPT_HTTP_TOKENS] = { .name = "http-tokens", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, http_tokens),
		.help = "require bearer tokens: lines 'read|admin\n"
			"sha256:HEX [name]' (reloaded on SIGHUP)" },
	[COL_OPT_HTTP_RATE] = { .name = "http-rate", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, http_rate, 0, 1000000),
		.valid = "0..1000000 requests/s",
		.help = "requests/s per source address, 0..1000000\n"
			"(default 100; 0: no limit); over it: 429" },
	[COL_OPT_HTTP_BURST] = { .name = "http-burst", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, http_burst, 1, 1000000),
		.valid = "1..1000000 requests",
		.help = "its bucket, 1..1000000 (default 200)" },
	[COL_OPT_HTTP_SOURCE_CONNS] = { .name = "http-source-conns",
		.metavar = "N",
		XTEL_OPT_UINT_AT(CFG, http_source_conns, 1, 65536),
		.valid = "1..65536 connections",
		.help = "open connections per source address, 1..65536\n"
			"(default 32); more are closed at accept" },
	[COL_OPT_HTTP_MAX_CONNS] = { .name = "http-max-conns", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, http_max_conns, 1, 65536),
		.valid = "1..65536 connections",
		.help = "open connections in all, 1..65536 (default 1024)" },
	[COL_OPT_HTTP_THREADS] = { .name = "http-threads", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, http_threads, 1, 64),
		.valid = "1..64 threads",
		.help = "server threads, 1..64 (default 2): one can serve\n"
			"probes while another builds a large reply" },
	[COL_OPT_FRESH_FOR] = { .name = "fresh-for", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, fresh_for_s, 0.1, 86400),
		.valid = "0.1..86400 seconds",
		.help = "a value older than S seconds is stale (get: 503),\n"
			"0.1..86400 (default 3)" },
	[COL_OPT_API_WINDOW] = { .name = "api-window", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, api_window_s, 0, 3600),
		.valid = "0..3600 seconds",
		.help = "longest /api/v1/aggregate?window=, 0..3600\n"
			"(default 10; 0: whole run only)" },
	[COL_OPT_METRICS_CLIENTS] = { .name = "metrics-clients", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, metrics_clients, 0, 1000000),
		.valid = "0..1000000 clients",
		.help = "clients with per-client series on /metrics,\n"
			"0..1000000 (default 1000); the rest are counted" },
	[COL_OPT_METRICS_CLIENT_IDS] = { .name = "metrics-client-ids",
		.metavar = "LIST", XTEL_OPT_STRING_AT(CFG, metrics_client_ids),
		.accept = client_ids_ok,
		.valid = "client ids and LO-HI ranges, comma-separated "
			 "(e.g. 1,5,10-20)",
		.help = "per-client series only for these ids (e.g.\n"
			"1,5,10-20; still capped by --metrics-clients)" },
	[COL_OPT_HTTP_STREAMS] = { .name = "http-streams", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, http_streams, 1, 4096),
		.valid = "1..4096 streams",
		.help = "open /api/v1/stream event streams (the\n"
			"dashboard), 1..4096 (default 16); more: 503" },
	[COL_OPT_DB] = { .name = "db", .metavar = "FILE",
		.section = "History and devices in SQLite (docs/STORAGE.md, "
			   "docs/DEVICES.md):",
		XTEL_OPT_STRING_AT(CFG, db),
		.help = "keep rollups of every client and the fleet and\n"
			"the device inventory in this SQLite file\n"
			"(created; WAL mode); served by /api/v1/history\n"
			"and /api/v1/devices with --http; SIGHUP reloads\n"
			"the inventory" },
	[COL_OPT_RETAIN] = { .name = "retain", .metavar = "TIER=AGE,...",
		.type = XTEL_OPT_CUSTOM, .parse = parse_retain,
		.valid = "TIER=AGE pairs, comma-separated, TIER one of 1s, "
			 "10s, 1m, 1h, AGE a number with s, m, h or d, at "
			 "least the tier's width (e.g. 10s=2d,1m=30d)",
		.help = "how long each tier is kept (default\n"
			"1s=2d,10s=2d,1m=30d,1h=400d; 1s: fleet totals)" },
	[COL_OPT_DB_QUEUE] = { .name = "db-queue", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, db_queue, 1, 1024), .valid = "1..1024 views",
		.help = "views waiting for the history writer, 1..1024\n"
			"(default 8); more are dropped and counted" },
	[COL_OPT_INVENTORY_ONLY] = { .name = "inventory-only",
		XTEL_OPT_FLAG_AT(CFG, inventory_only),
		.help = "refuse client ids not in the inventory\n"
			"(device_unknown; needs --db)" },
	[COL_OPT_NO_HEALTH] = { .name = "no-health",
		.section = "Health inference (docs/HEALTH.md):",
		XTEL_OPT_FLAG_AT(CFG, no_health),
		.help = "no verdicts (/api/v1/health answers 404)" },
	[COL_OPT_HEALTH_WARMUP] = { .name = "health-warmup", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, health.warmup, 1, 100000),
		.valid = "1..100000 intervals",
		.help = "intervals with data before a client's first verdict\n"
			"(default 12)" },
	[COL_OPT_HEALTH_WINDOW] = { .name = "health-window", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, health.window, 4, 32),
		.valid = "4..32 intervals",
		.help = "window of the latency minimum (two blocks of N/2)\n"
			"behind the queueing delay, 4..32 intervals (default 32)" },
	[COL_OPT_HEALTH_Z] = { .name = "health-z", .metavar = "Z",
		XTEL_OPT_DOUBLE_AT(CFG, health.z, 2, 1000),
		.valid = "2..1000 MAD",
		.help = "one-interval threshold in MAD units (default 8;\n"
			"the CUSUM catches smaller sustained shifts)" },
	[COL_OPT_HEALTH_CONFIRM] = { .name = "health-confirm", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, health.confirm, 1, 100),
		.valid = "1..100 intervals",
		.help = "faulty intervals in a row that start a verdict\n"
			"(default 2)" },
	[COL_OPT_HEALTH_CLEAR] = { .name = "health-clear", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, health.clear, 1, 100000),
		.valid = "1..100000 intervals",
		.help = "clean intervals in a row that end one (default 3)" },
	[COL_OPT_HEALTH_SILENT] = { .name = "health-silent", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, health.silent_after, 1, 100000),
		.valid = "1..100000 intervals",
		.help = "intervals without a datagram that make a client\n"
			"silent (default 2; at least 3 expected at its rate)" },
	[COL_OPT_HEALTH_SLO] = { .name = "health-slo", .metavar = "RULE",
		.type = XTEL_OPT_CUSTOM, .parse = parse_health_slo,
		.valid = "LABEL:p99=MS,loss=PCT,jitter=MS (any of them; "
			 "LABEL * for every group)",
		.help = "service level of a group label (repeatable),\n"
			"e.g. site-a:p99=50,loss=0.5; default\n"
			"*:p99=250,loss=2,jitter=100 (0: off)" },
	[COL_OPT_HEALTH_EVENTS] = { .name = "health-events", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, health.events, 1, 1000000),
		.valid = "1..1000000 events",
		.help = "event ring of /api/v1/events (default 1024;\n"
			"overwritten ones are counted)" },
	[COL_OPT_HEALTH_PROBE_FRAC] = { .name = "health-probe-frac", .metavar = "F",
		XTEL_OPT_DOUBLE_AT(CFG, health.probe_frac, 0.01, 1),
		.valid = "0.01..1",
		.help = "congested when probe_speed_mbps stays under F x\n"
			"the device's baseline speed (default 0.5)" },
	[COL_OPT_HEALTH_PROBE_MIN] = { .name = "health-probe-min", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, health.probe_min, 1, 1000),
		.valid = "1..1000 probes",
		.help = "slow probes in a row for that verdict (default 3)" },
	[COL_OPT_EXPORT] = { .name = "export", .metavar = "URLS",
		.section = "Scale-out over NATS JetStream (docs/SCALE-OUT.md):",
		XTEL_OPT_STRING_AT(CFG, export_urls),
		.help = "edge: publish each interval's rollup deltas to NATS\n"
			"JetStream (nats://HOST:PORT or tls://, comma-separated;\n"
			"docs/SCALE-OUT.md); needs --site" },
	[COL_OPT_SITE] = { .name = "site", .metavar = "NAME",
		XTEL_OPT_STRING_AT(CFG, site),
		.help = "this edge's site (subject xtel.rollup.SITE.EDGE)" },
	[COL_OPT_EDGE] = { .name = "edge", .metavar = "NAME",
		XTEL_OPT_STRING_AT(CFG, edge),
		.help = "this edge's name (default: the host name)" },
	[COL_OPT_EXPORT_BACKLOG] = { .name = "export-backlog", .metavar = "MIB",
		XTEL_OPT_DOUBLE_AT(CFG, export_backlog_mib, 0.001, 65536),
		.help = "unacknowledged rollups kept in memory while NATS is\n"
			"away, 0.001..65536 MiB (default 64; beyond: spilled,\n"
			"or the oldest dropped and counted)" },
	[COL_OPT_EXPORT_SPILL] = { .name = "export-spill", .metavar = "DIR",
		XTEL_OPT_STRING_AT(CFG, export_spill),
		.help = "spill what the memory backlog cannot hold to files in\n"
			"DIR; a later run of the same --edge sends what is left" },
	[COL_OPT_EXPORT_SPILL_MIB] = { .name = "export-spill-mib", .metavar = "MIB",
		XTEL_OPT_UINT_AT(CFG, export_spill_mib, 1, 1048576),
		.help = "at most this much in --export-spill, 1..1048576 MiB" },
	[COL_OPT_EXPORT_QUEUE] = { .name = "export-queue", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, export_queue, 1, 1024),
		.help = "views waiting for the exporter thread, 1..1024\n"
			"(default 4)" },
	[COL_OPT_EXPORT_CLIENTS_PER_MSG] = { .name = "export-clients-per-msg",
		.metavar = "N",
		XTEL_OPT_UINT_AT(CFG, export_clients_per_msg, 1, 100000),
		.help = "client rollups per message, 1..100000 (bigger\n"
			"rollups are split in parts; default 4096)" },
	[COL_OPT_EXPORT_MAX_WAIT] = { .name = "export-max-wait", .metavar = "MS",
		XTEL_OPT_UINT_AT(CFG, export_max_wait_ms, 100, 600000),
		.help = "wait for a publish ack before resending,\n"
			"100..600000 ms (default 5000)" },
	[COL_OPT_EXPORT_DRAIN] = { .name = "export-drain", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, export_drain_s, 0, 3600),
		.help = "at exit, wait for the backlog's acks, 0..3600 s\n"
			"(default 5)" },
	[COL_OPT_AGGREGATE] = { .name = "aggregate", .metavar = "URLS",
		XTEL_OPT_STRING_AT(CFG, aggregate_urls),
		.help = "run as the central aggregator instead: merge the\n"
			"edges' rollups from NATS JetStream and serve them on\n"
			"--http; needs --agg-db (docs/SCALE-OUT.md)" },
	[COL_OPT_AGG_DB] = { .name = "agg-db", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, agg_db),
		.help = "aggregator: SQLite checkpoint of the merged state" },
	[COL_OPT_AGG_DURABLE] = { .name = "agg-durable", .metavar = "NAME",
		XTEL_OPT_STRING_AT(CFG, agg_durable),
		.help = "aggregator: durable consumer name (default xtel-agg)" },
	[COL_OPT_AGG_FILTER] = { .name = "agg-filter", .metavar = "SUBJECT",
		XTEL_OPT_STRING_AT(CFG, agg_filter),
		.help = "aggregator: its share of the subjects, e.g.\n"
			"xtel.rollup.siteA.> (default xtel.rollup.>)" },
	[COL_OPT_AGG_REPLICAS] = { .name = "agg-replicas", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, agg_replicas, 1, 5),
		.help = "replicas of the stream if the aggregator creates it, 1..5" },
	[COL_OPT_AGG_ACK_WAIT] = { .name = "agg-ack-wait", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, agg_ack_wait_s, 1, 3600),
		.help = "aggregator: redelivery after S s without ack, 1..3600" },
	[COL_OPT_AGG_BATCH] = { .name = "agg-batch", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, agg_batch, 1, 10000),
		.help = "aggregator: messages merged per checkpoint,\n"
			"1..10000 (default 256)" },
	[COL_OPT_AGG_DUP_WINDOW] = { .name = "agg-dup-window", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, agg_dup_window_s, 1, 86400),
		.help = "duplicate window of the stream if the aggregator\n"
			"creates it, 1..86400 (default 120); applied ids\n"
			"older than the stream's window are pruned" },
	[COL_OPT_NATS_USER] = { .name = "nats-user", .metavar = "USER",
		XTEL_OPT_STRING_AT(CFG, nats_user), .help = "NATS user name" },
	[COL_OPT_NATS_PASSWORD] = { .name = "nats-password", .metavar = "PW",
		XTEL_OPT_STRING_AT(CFG, nats_password), .help = "NATS password" },
	[COL_OPT_NATS_CREDS] = { .name = "nats-creds", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, nats_creds),
		.help = "NATS .creds file (user JWT and nkey seed)" },
	[COL_OPT_NATS_NKEY] = { .name = "nats-nkey", .metavar = "PUBKEY",
		XTEL_OPT_STRING_AT(CFG, nats_nkey),
		.help = "NATS nkey user (with --nats-nkey-seed)" },
	[COL_OPT_NATS_NKEY_SEED] = { .name = "nats-nkey-seed", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, nats_nkey_seed), .help = "its seed file" },
	[COL_OPT_NATS_CA] = { .name = "nats-ca", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, nats_ca),
		.help = "CA bundle for tls:// NATS servers" },
	[COL_OPT_NATS_CERT] = { .name = "nats-cert", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, nats_cert),
		.help = "TLS client certificate for NATS (with --nats-key)" },
	[COL_OPT_NATS_KEY] = { .name = "nats-key", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, nats_key), .help = "its key" },
	[COL_OPT_OPENSSL_RECORDS] = { .name = "openssl-records",
		XTEL_OPT_FLAG_AT(CFG, openssl_records),
		.help = "DTLS sessions keep OpenSSL's record layer instead\n"
			"of the built-in one (slower, larger; the same\n"
			"counts: docs/COLLECTOR.md)" },
	[COL_OPT_HELP] = { .name = "help", .short_name = 'h',
		.type = XTEL_OPT_EXIT, .print = xtel_cli_usage,
		.help = "this text" },
};

static void col_defaults(void *cfg);
static int col_check(void *cfg, const unsigned int *seen);

static const struct xtel_opts col_opts = {
	.opt = col_opt,
	.n = COL_N_OPTS,
	.usage =
"usage: collector [options]\n"
"\n"
"Receives XTel telemetry datagrams (DTLS or plain UDP), accounts loss,\n"
"duplicates, reordering and latency per client, and reports them.\n"
"\n",
	.epilogue =
"\n"
"Exit codes:\n"
"  0 success                         5 port in use / address not bindable\n"
"  1 runtime failure (XDP load too)  6 --iface interface not found\n"
"  2 invalid flag or value           7 missing privilege (capability named)\n"
"  3 cert/key/CA/CRL/deny list bad   8 io_uring disabled or unsupported\n"
"  4 key does not match certificate\n",
	.value_for_flag_is_unknown = true,
	.prog = "collector",
	.config_path = "/etc/xtel/collector.conf",
	.defaults = col_defaults,
	.check = col_check,
	.summary = "XTel telemetry collector (XDP, io_uring, DTLS)",
	.man_section = "8",
	.man_text =
".SH SIGNALS\n"
".TP\n.B SIGINT, SIGTERM\n"
"Stop: drain the receive queues, print the final summary, detach XDP\n"
"(the pinned counters stay).\n"
".TP\n.B SIGHUP\n"
"Reload without a restart: the config file is read again (its\n"
"reloadable keys: cert, key, ca, crl, deny\\-list, pin\\-ca, allow,\n"
"log\\-level), the server certificate, CA, CRL and deny list files and\n"
"the API token file are re\\-read, and the device inventory of \\-\\-db.\n"
"A file that does not load is refused with a message and the running\n"
"configuration stays; counters and sessions carry on.\n"
".SH FILES\n"
".TP\n.I /etc/xtel/collector.conf\n"
"The config file (libconfig syntax).\n"
".TP\n.I /run/xtel\n"
"Runtime directory of the systemd unit (bpffs pins with \\-\\-pin\\-dir).\n"
".TP\n.I /var/lib/xtel\n"
"State directory of the systemd unit.\n"
".SH SEE ALSO\n"
".BR loadgen (1),\n"
".BR systemd.exec (5),\n"
"/usr/share/doc/xtel/OPERATIONS.md\n",
};

void xtel_cli_usage(FILE *out)
{
	xtel_opts_help(&col_opts, out);
}

static unsigned int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > 256 ? 256 : (unsigned int)n;
}

static void set_defaults(struct xtel_config *cfg)
{
	*cfg = (struct xtel_config){
		.mode = XTEL_MODE_DTLS,
		.port = 7700,
		.workers = online_cpus(),
		/*
		 * 32 MiB, not 8: with native XDP on veth every datagram
		 * reaches the socket in a page-sized skb, so 8 MiB held only
		 * ~2,000 of them (4 ms at 500k/s) and lost 12% at full rate;
		 * 32 MiB lost none. It is a limit, not an allocation.
		 */
		.rcvbuf = 32u << 20,
		.interval_s = 1.0,
		.top = 10,
		.csv_ring = 131072,
		.stale_after_s = 15.0,
		.max_clients = 65536,
		.rx_buffers = 4096,
		.rx_wait_us = 5000,
		.rx_prefetch = 2,
		.max_sessions = 4096,
		.verify_cache = 65536,
		.dtls_idle_s = 60,
		.pin_dir = "/sys/fs/bpf/xtel",
		.http_rate = 100,
		.http_burst = 200,
		.http_source_conns = 32,
		.http_max_conns = 1024,
		.http_threads = 2,
		.fresh_for_s = 3.0,
		.api_window_s = 10.0,
		.metrics_clients = 1000,
		.export_backlog_mib = 64,
		.export_spill_mib = 1024,
		.export_queue = 4,
		.export_clients_per_msg = 4096,
		.export_max_wait_ms = 5000,
		.export_drain_s = 5.0,
		.agg_durable = "xtel-agg",
		.agg_filter = "xtel.rollup.>",
		.agg_replicas = 1,
		.agg_ack_wait_s = 10.0,
		.agg_batch = 256,
		.agg_dup_window_s = 120.0,
		.http_streams = 16,
		.db_queue = 8,
	};
	parse_bind(&col_opt[COL_OPT_BIND], "::", cfg);
	xtel_health_cfg_defaults(&cfg->health);
}

static void col_defaults(void *cfg)
{
	set_defaults(cfg);
}

/* The checks that involve several options (also on SIGHUP's re-parse). */
static int col_check(void *arg, const unsigned int *seen)
{
	struct xtel_config *cfg = arg;
	int xdp_opt;

	if (cfg->detach)	/* a one-shot command: nothing else applies */
		return 0;
	if (cfg->aggregate_urls) {	/* no receive path: its checks do not apply */
		if (!cfg->agg_db || !cfg->http || cfg->export_urls) {
			pr_err("--aggregate needs --agg-db FILE and --http "
			       "ADDR:PORT (and no --export)");
			return -EINVAL;
		}
		return 0;
	}
	if (cfg->export_urls && !cfg->site) {
		pr_err("--export needs --site NAME (the subject is "
		       "xtel.rollup.SITE.EDGE)");
		return -EINVAL;
	}
	if (!cfg->iface && !cfg->no_xdp) {
		pr_err("--iface IFNAME is required for the XDP "
			"fast path (or pass --no-xdp to run on sockets only)");
		return -EINVAL;
	}
	xdp_opt = xtel_opts_first(&col_opts, seen, COL_GROUP_XDP);
	if (cfg->no_xdp && xdp_opt >= 0) {
		pr_err("--%s needs the XDP program: drop it or "
			"--no-xdp", col_opt[xdp_opt].name);
		return -EINVAL;
	}
	if (cfg->mode == XTEL_MODE_DTLS && (!cfg->cert || !cfg->key || !cfg->ca)) {
		pr_err("--mode dtls (the default) needs --cert, "
			"--key and --ca (or pass --mode plain)");
		return -EINVAL;
	}
	if (!cfg->http_cert != !cfg->http_key) {
		pr_err("--http-cert and --http-key go together (HTTPS needs "
		       "both)");
		return -EINVAL;
	}
	if (!cfg->http) {
		for (int i = COL_OPT_HTTP_CERT; i <= COL_OPT_HTTP_STREAMS; i++)
			if (seen[i]) {
				pr_err("--%s needs the HTTP API: add --http "
				       "ADDR:PORT (e.g. 127.0.0.1:9477)",
				       col_opt[i].name);
				return -EINVAL;
			}
	}
	if (!cfg->db && (seen[COL_OPT_RETAIN] || seen[COL_OPT_DB_QUEUE])) {
		pr_err("--%s needs the history: add --db FILE",
		       col_opt[seen[COL_OPT_RETAIN] ? COL_OPT_RETAIN :
			       COL_OPT_DB_QUEUE].name);
		return -EINVAL;
	}
	if (cfg->inventory_only && !cfg->db) {
		pr_err("--inventory-only needs the inventory: add --db FILE");
		return -EINVAL;
	}
	if (cfg->bind_addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&cfg->bind_addr)->sin6_port = htons(cfg->port);
	else
		((struct sockaddr_in *)&cfg->bind_addr)->sin_port = htons(cfg->port);
	return 0;
}

int xtel_cli_parse(int argc, char **argv, struct xtel_config *cfg)
{
	unsigned int seen[COL_N_OPTS];
	int rc;

	rc = xtel_opts_parse(&col_opts, argc, argv, cfg, seen);
	if (rc)
		return rc == XTEL_OPTS_EXIT ? XTEL_EXIT_OK : XTEL_EXIT_USAGE;
	return -1;
}

int xtel_cli_reparse(struct xtel_config *next)
{
	return xtel_opts_reparse(&col_opts, next);
}

unsigned int xtel_cli_take_reloadable(struct xtel_config *cfg,
				      const struct xtel_config *next)
{
	return xtel_opts_take_reloadable(&col_opts, cfg, next);
}
