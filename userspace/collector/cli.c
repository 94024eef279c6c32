// SPDX-License-Identifier: MIT
/*
 * Collector command line: defaults, --help text and strict value parsing.
 * Every numeric flag is checked against a documented range and a bad value
 * is reported with the flag's name and that range, so a typo in a unit file
 * fails loudly at start instead of running with a surprising setting.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "collector/cli.h"
#include "common/parse.h"

enum {
	OPT_MODE = 256, OPT_PORT, OPT_BIND, OPT_WORKERS, OPT_IFACE, OPT_NO_XDP,
	OPT_CERT, OPT_KEY, OPT_CA, OPT_RCVBUF, OPT_INTERVAL, OPT_TOP, OPT_QUIET,
	OPT_DURATION, OPT_SUMMARY_JSON, OPT_CSV, OPT_CSV_RING, OPT_STALE_AFTER,
	OPT_MAX_CLIENTS, OPT_RX_BUFFERS, OPT_MAX_SESSIONS, OPT_DTLS_IDLE, OPT_HELP,
	OPT_ALLOW, OPT_HS_RATE, OPT_HS_BURST, OPT_HS_GLOBAL_RATE,
	OPT_HS_GLOBAL_BURST, OPT_PIN_DIR, OPT_AFXDP, OPT_XDP_SKB,
};

static const struct option long_opts[] = {
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "iface", required_argument, NULL, OPT_IFACE },
	{ "no-xdp", no_argument, NULL, OPT_NO_XDP },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "summary-json", required_argument, NULL, OPT_SUMMARY_JSON },
	{ "csv", required_argument, NULL, OPT_CSV },
	{ "csv-ring", required_argument, NULL, OPT_CSV_RING },
	{ "stale-after", required_argument, NULL, OPT_STALE_AFTER },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "rx-buffers", required_argument, NULL, OPT_RX_BUFFERS },
	{ "max-sessions", required_argument, NULL, OPT_MAX_SESSIONS },
	{ "dtls-idle", required_argument, NULL, OPT_DTLS_IDLE },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "handshake-rate", required_argument, NULL, OPT_HS_RATE },
	{ "handshake-burst", required_argument, NULL, OPT_HS_BURST },
	{ "handshake-global-rate", required_argument, NULL, OPT_HS_GLOBAL_RATE },
	{ "handshake-global-burst", required_argument, NULL, OPT_HS_GLOBAL_BURST },
	{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
	{ "afxdp", no_argument, NULL, OPT_AFXDP },
	{ "xdp-generic", no_argument, NULL, OPT_XDP_SKB },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

void xtel_cli_usage(FILE *out)
{
	fprintf(out,
"usage: collector [options]\n"
"\n"
"Receives XTel telemetry datagrams (DTLS or plain UDP), accounts loss,\n"
"duplicates, reordering and latency per client, and reports them.\n"
"\n"
"Receive:\n"
"  --mode dtls|plain      transport (default dtls)\n"
"  --port N               UDP port, 1..65535 (default 7700)\n"
"  --bind ADDR            local IPv4/IPv6 address (default :: dual-stack,\n"
"                         IPv4 and IPv6 both accepted)\n"
"  --workers N            receive threads, 1..256 (default: online CPUs)\n"
"  --rcvbuf BYTES         socket receive buffer per worker, 0 or\n"
"                         4096..1073741824 (default 33554432; 0 keeps the\n"
"                         system default). SO_RCVBUFFORCE as root, else\n"
"                         SO_RCVBUF capped by net.core.rmem_max\n"
"  --rx-buffers N         io_uring provided buffers per worker, power of\n"
"                         two 64..32768 (default 4096)\n"
"  --max-clients N        clients per worker, 1..4194304 (default 65536)\n"
"  --iface IFNAME         interface for the XDP fast path (required unless\n"
"                         --no-xdp): the program drops invalid datagrams,\n"
"                         counts every client before the socket and\n"
"                         rate-limits DTLS handshakes. Native mode, else\n"
"                         generic (a message says so)\n"
"  --no-xdp               run without XDP on plain sockets\n"
"XDP (with --iface):\n"
"  --pin-dir DIR          bpffs directory of the program's maps (default\n"
"                         /sys/fs/bpf/xtel); counters survive a restart\n"
"  --allow CIDR           accept only sources in CIDR (IPv4 or IPv6, e.g.\n"
"                         198.18.0.0/24, 2001:2::/64, or one address);\n"
"                         repeatable up to 64; others are dropped in XDP\n"
"  --handshake-rate PPS   DTLS datagrams/s per source without a session,\n"
"                         0..10000000 (default 0: unlimited)\n"
"  --handshake-burst N    its bucket size, 0..10000000 (default 0: 32)\n"
"  --handshake-global-rate PPS\n"
"                         the same for all sessionless sources together,\n"
"                         0..10000000 (default 0: unlimited)\n"
"  --handshake-global-burst N\n"
"                         its bucket, 0..10000000 (default 0: rate/10, at\n"
"                         least 32)\n"
"  --afxdp                receive through AF_XDP sockets (one per RX queue)\n"
"                         on one extra thread; falls back to io_uring with\n"
"                         a message when AF_XDP is unavailable\n"
"  --xdp-generic          attach in generic (skb) mode straight away\n"
"DTLS (required with --mode dtls):\n"
"  --cert FILE            server certificate (PEM)\n"
"  --key FILE             server private key (PEM)\n"
"  --ca FILE              CA that signs client certificates (PEM)\n"
"  --max-sessions N       DTLS sessions per worker, 1..1048576 (default 4096)\n"
"  --dtls-idle S          close a DTLS session idle for S seconds,\n"
"                         1..86400 (default 60)\n"
"Reports:\n"
"  --interval S           report period in seconds, 0.1..3600 (default 1)\n"
"  --top N                clients shown per report, 0..100000 (default 10)\n"
"  --quiet                no periodic table (final summary still printed)\n"
"  --stale-after S        a client with no datagram for S seconds is shown\n"
"                         as stale, 0.1..86400 (default 15 = 3 heartbeats)\n"
"  --duration S           stop after S seconds, 0..31536000 (default 0:\n"
"                         run until SIGINT/SIGTERM)\n"
"  --summary-json FILE    write the final summary as JSON\n"
"  --csv FILE             one row per accepted datagram\n"
"  --csv-ring N           CSV ring slots (64 bytes) per worker, power of\n"
"                         two 1024..16777216 (default 131072); overflow is\n"
"                         counted as csv_dropped\n"
"  --help                 this text\n"
"\n"
"Exit codes:\n"
"  0 success                         5 port in use / address not bindable\n"
"  1 runtime failure (XDP load too)  6 --iface interface not found\n"
"  2 invalid flag or value           7 missing privilege (capability named)\n"
"  3 cert/key/CA missing or invalid  8 io_uring disabled or unsupported\n"
"  4 key does not match certificate\n");
}

/* The messages are xtel_bad_value's, shared with loadgen; exit code 2. */
static int bad_value(const char *flag, const char *val, const char *range)
{
	xtel_bad_value(flag, val, range);
	return XTEL_EXIT_USAGE;
}

static int parse_u64(const char *flag, const char *val, uint64_t lo,
		     uint64_t hi, const char *range, uint64_t *out)
{
	if (xtel_flag_u64(flag, val, lo, hi, range, out))
		return XTEL_EXIT_USAGE;
	return 0;
}

static int parse_uint(const char *flag, const char *val, unsigned int lo,
		      unsigned int hi, const char *range, unsigned int *out)
{
	uint64_t v;
	int rc = parse_u64(flag, val, lo, hi, range, &v);

	if (!rc)
		*out = (unsigned int)v;
	return rc;
}

static int parse_secs(const char *flag, const char *val, double lo, double hi,
		      const char *range, double *out)
{
	if (xtel_flag_double(flag, val, lo, hi, range, out))
		return XTEL_EXIT_USAGE;
	return 0;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Accept "::", "::1", "[::1]", "0.0.0.0", "198.18.0.1". */
static int parse_bind(const char *val, struct xtel_config *cfg)
{
	char buf[sizeof(cfg->bind_str)];
	size_t n = strlen(val);
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cfg->bind_addr;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&cfg->bind_addr;

	if (n + 1 > sizeof(buf))
		return bad_value("bind", val, "an IPv4 or IPv6 address");
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
		return bad_value("bind", val, "an IPv4 or IPv6 address");
	}
	snprintf(cfg->bind_str, sizeof(cfg->bind_str), "%s", buf);
	return 0;
}

/*
 * --allow: "ADDR" or "ADDR/LEN", IPv4 (LEN 0..32) or IPv6 (0..128). Checked
 * here so a typo fails at start with the flag's name; the XDP loader
 * parses it again when it fills its maps.
 */
static int parse_allow(const char *val, struct xtel_config *cfg)
{
	struct xtel_cidr c;

	if (cfg->n_allow >= XTEL_MAX_ALLOW)
		return bad_value("allow", val, "at most 64 prefixes");
	/* Host bits are allowed: the loader ignores them, as LPM matching does. */
	if (xtel_parse_cidr(val, 0, &c))
		return bad_value("allow", val, "an IPv4 or IPv6 address or CIDR "
				 "(e.g. 198.18.0.0/24, 2001:2::/64)");
	cfg->allow[cfg->n_allow++] = val;
	return 0;
}

static unsigned int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > 256 ? 256 : (unsigned int)n;
}

int xtel_cli_parse(int argc, char **argv, struct xtel_config *cfg)
{
	uint64_t v64;
	const char *xdp_flag = NULL;	/* first XDP-only option given */
	int opt, rc = 0;

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
		.max_sessions = 4096,
		.dtls_idle_s = 60,
		.pin_dir = "/sys/fs/bpf/xtel",
	};
	parse_bind("::", cfg);

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		/*
		 * Remember an option that only means something to the XDP
		 * program, so --no-xdp can refuse it by name instead of
		 * silently running without what the user asked for.
		 */
		switch (opt) {
		case OPT_IFACE: case OPT_ALLOW: case OPT_HS_RATE:
		case OPT_HS_BURST: case OPT_HS_GLOBAL_RATE:
		case OPT_HS_GLOBAL_BURST: case OPT_PIN_DIR: case OPT_AFXDP:
		case OPT_XDP_SKB:
			for (const struct option *o = long_opts;
			     xdp_flag == NULL && o->name != NULL; o++)
				if (o->val == opt)
					xdp_flag = o->name;
			break;
		}
		switch (opt) {
		case OPT_MODE:
			if (!strcmp(optarg, "dtls"))
				cfg->mode = XTEL_MODE_DTLS;
			else if (!strcmp(optarg, "plain"))
				cfg->mode = XTEL_MODE_PLAIN;
			else
				rc = bad_value("mode", optarg, "dtls or plain");
			break;
		case OPT_PORT:
			rc = parse_u64("port", optarg, 1, 65535, "1..65535", &v64);
			cfg->port = (uint16_t)v64;
			break;
		case OPT_BIND:
			rc = parse_bind(optarg, cfg);
			break;
		case OPT_WORKERS:
			rc = parse_uint("workers", optarg, 1, 256, "1..256",
					&cfg->workers);
			break;
		case OPT_IFACE:
			if (!*optarg || strlen(optarg) >= 16)
				rc = bad_value("iface", optarg,
					       "an interface name of 1..15 characters");
			cfg->iface = optarg;
			break;
		case OPT_NO_XDP:
			cfg->no_xdp = true;
			break;
		case OPT_CERT:
			cfg->cert = optarg;
			break;
		case OPT_KEY:
			cfg->key = optarg;
			break;
		case OPT_CA:
			cfg->ca = optarg;
			break;
		case OPT_RCVBUF:
			rc = parse_u64("rcvbuf", optarg, 0, 1u << 30,
				       "0 or 4096..1073741824", &cfg->rcvbuf);
			if (!rc && cfg->rcvbuf && cfg->rcvbuf < 4096)
				rc = bad_value("rcvbuf", optarg,
					       "0 or 4096..1073741824");
			break;
		case OPT_INTERVAL:
			rc = parse_secs("interval", optarg, 0.1, 3600,
					"0.1..3600 seconds", &cfg->interval_s);
			break;
		case OPT_TOP:
			rc = parse_uint("top", optarg, 0, 100000, "0..100000",
					&cfg->top);
			break;
		case OPT_QUIET:
			cfg->quiet = true;
			break;
		case OPT_DURATION:
			rc = parse_secs("duration", optarg, 0, 31536000,
					"0..31536000 seconds", &cfg->duration_s);
			break;
		case OPT_SUMMARY_JSON:
			cfg->summary_json = optarg;
			break;
		case OPT_CSV:
			cfg->csv = optarg;
			break;
		case OPT_CSV_RING:
			rc = parse_u64("csv-ring", optarg, 1024, 1u << 24,
				       "a power of two, 1024..16777216", &v64);
			if (!rc && !is_pow2(v64))
				rc = bad_value("csv-ring", optarg,
					       "a power of two, 1024..16777216");
			cfg->csv_ring = (unsigned int)v64;
			break;
		case OPT_STALE_AFTER:
			rc = parse_secs("stale-after", optarg, 0.1, 86400,
					"0.1..86400 seconds", &cfg->stale_after_s);
			break;
		case OPT_MAX_CLIENTS:
			rc = parse_uint("max-clients", optarg, 1, 1u << 22,
					"1..4194304", &cfg->max_clients);
			break;
		case OPT_RX_BUFFERS:
			rc = parse_u64("rx-buffers", optarg, 64, 32768,
				       "a power of two, 64..32768", &v64);
			if (!rc && !is_pow2(v64))
				rc = bad_value("rx-buffers", optarg,
					       "a power of two, 64..32768");
			cfg->rx_buffers = (unsigned int)v64;
			break;
		case OPT_MAX_SESSIONS:
			rc = parse_uint("max-sessions", optarg, 1, 1u << 20,
					"1..1048576", &cfg->max_sessions);
			break;
		case OPT_DTLS_IDLE:
			rc = parse_secs("dtls-idle", optarg, 1, 86400,
					"1..86400 seconds", &cfg->dtls_idle_s);
			break;
		case OPT_ALLOW:
			rc = parse_allow(optarg, cfg);
			break;
		case OPT_HS_RATE:
			rc = parse_u64("handshake-rate", optarg, 0, 10000000,
				       "0..10000000 datagrams/s", &v64);
			cfg->handshake_rate = (uint32_t)v64;
			break;
		case OPT_HS_BURST:
			rc = parse_u64("handshake-burst", optarg, 0, 10000000,
				       "0..10000000 datagrams", &v64);
			cfg->handshake_burst = (uint32_t)v64;
			break;
		case OPT_HS_GLOBAL_RATE:
			rc = parse_u64("handshake-global-rate", optarg, 0, 10000000,
				       "0..10000000 datagrams/s", &v64);
			cfg->handshake_global_rate = (uint32_t)v64;
			break;
		case OPT_HS_GLOBAL_BURST:
			rc = parse_u64("handshake-global-burst", optarg, 0, 10000000,
				       "0..10000000 datagrams", &v64);
			cfg->handshake_global_burst = (uint32_t)v64;
			break;
		case OPT_PIN_DIR:
			if (!*optarg || optarg[0] != '/')
				rc = bad_value("pin-dir", optarg,
					       "an absolute directory path on a bpffs");
			cfg->pin_dir = optarg;
			break;
		case OPT_AFXDP:
			cfg->afxdp = true;
			break;
		case OPT_XDP_SKB:
			cfg->xdp_skb = true;
			break;
		case OPT_HELP:
		case 'h':
			xtel_cli_usage(stdout);
			return XTEL_EXIT_OK;
		case ':':
			pr_err("%s needs a value (try --help)",
				argv[optind - 1]);
			return XTEL_EXIT_USAGE;
		default:
			pr_err("unknown option '%s' (try --help)",
				argv[optind - 1]);
			return XTEL_EXIT_USAGE;
		}
		if (rc)
			return rc;
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (try --help)",
			argv[optind]);
		return XTEL_EXIT_USAGE;
	}
	if (!cfg->iface && !cfg->no_xdp) {
		pr_err("--iface IFNAME is required for the XDP "
			"fast path (or pass --no-xdp to run on sockets only)");
		return XTEL_EXIT_USAGE;
	}
	if (cfg->no_xdp && xdp_flag != NULL) {
		pr_err("--%s needs the XDP program: drop it or "
			"--no-xdp", xdp_flag);
		return XTEL_EXIT_USAGE;
	}
	if (cfg->mode == XTEL_MODE_DTLS && (!cfg->cert || !cfg->key || !cfg->ca)) {
		pr_err("--mode dtls (the default) needs --cert, "
			"--key and --ca (or pass --mode plain)");
		return XTEL_EXIT_USAGE;
	}
	if (cfg->bind_addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&cfg->bind_addr)->sin6_port = htons(cfg->port);
	else
		((struct sockaddr_in *)&cfg->bind_addr)->sin_port = htons(cfg->port);
	return -1;
}
