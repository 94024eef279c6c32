// SPDX-License-Identifier: MIT
/*
 * loadgen's command line: getopt_long over the flags listed in usage_text,
 * one strict number parser per kind of value, then the checks that involve
 * several flags at once (--ramp excludes --rate, probabilities sum to <= 1,
 * ...). Nothing here opens sockets or files: the certificates and the target
 * are checked by the modules that use them, with their own exit codes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "cli.h"
#include "common/parse.h"

#ifndef XTEL_VERSION
#define XTEL_VERSION "0.1.0"
#endif

static const char usage_text[] =
"usage: loadgen --target ADDR:PORT [options]\n"
"\n"
"Simulates many XTel telemetry clients (DTLS or plain UDP), each with its own\n"
"UDP socket, sending INIT, paced DATA (+HEARTBEAT) and BYE; optionally injects\n"
"loss/duplication/reordering and floods unauthenticated DTLS ClientHellos.\n"
"\n"
"target and load:\n"
"  --target ADDR:PORT     198.18.0.1:7700 or [2001:2::1]:7700 (required)\n"
"  --clients N            simulated clients, 1..60000 (0 only with\n"
"                         --flood-handshakes; default 1)\n"
"  --threads T            sender threads, 1..64 and <= clients (default 1)\n"
"  --first-id N           client ids N..N+clients-1, 0..2^32-clients (default 1)\n"
"  --rate PPS             total DATA rate, 0..10000000, 0 = as fast as\n"
"                         possible (default 1000)\n"
"  --ramp R1,R2,...       step through rates (1..64 steps, each 0 < R <= 1e7)\n"
"  --step S               ... S seconds each, 0.1..3600 (default 5); --ramp excludes\n"
"                         --rate and --duration\n"
"  --duration S           seconds of DATA, 0.001..86400\n"
"  --count N              DATA datagrams per client, 1..1e12\n"
"                         (neither --duration nor --count: --duration 10)\n"
"  --batch N              datagrams per sendmmsg call, 1..256 (default 64)\n"
"\n"
"protocol:\n"
"  --mode dtls|plain      default dtls\n"
"  --certs DIR            ca.crt, client-<id>.crt, client-<id>.key (dtls mode)\n"
"  --handshake-timeout S  per-client handshake limit, 0.1..600 (default 10)\n"
"  --payload TEMPLATE     key=value;... with placeholders {seq} {client}\n"
"                         {rand:LO:HI} {randf:LO:HI} {elapsed_ms}\n"
"  --payload-size B       generated metrics of exactly B bytes, 0 or 3..1200\n"
"                         (default: --payload 'temp={randf:15:30};load={rand:0:100}')\n"
"  --heartbeat S          HEARTBEAT after S idle seconds, 0 (off, default)\n"
"                         or 0.01..3600\n"
"\n"
"fault injection (DATA only, deterministic for a seed):\n"
"  --seed N               0..2^64-1 (default 1)\n"
"  --loss P               skip a DATA datagram (its seq is used), 0..1\n"
"  --dup P                send a DATA datagram twice, 0..1\n"
"  --reorder P            hold a DATA datagram back, 0..1 (loss+dup+reorder <= 1)\n"
"  --reorder-depth D      ... and send it D datagrams later, 1..10000 (default 3)\n"
"\n"
"handshake flood:\n"
"  --flood-handshakes PPS ClientHellos without cookie, 1..1000000 per second\n"
"  --flood-src CIDR       source range (default 198.18.1.0/24 or\n"
"                         2001:2:0:1::/64, by the target's family)\n"
"\n"
"output:\n"
"  --quiet                no progress lines on stderr\n"
"  --report-json FILE     write the final report as JSON\n"
"  --help, --version\n"
"\n"
"exit codes:\n"
"  0 run completed (also when stopped by SIGINT/SIGTERM)\n"
"  1 unexpected system error, or the report could not be written\n"
"  2 invalid flag or flag value\n"
"  3 target unreachable (no route, ICMP port unreachable/refused)\n"
"  4 DTLS handshake failed or timed out\n"
"  5 certificate or key missing, unreadable or not matching\n";

void xtel_lg_cli_usage(FILE *out)
{
	fputs(usage_text, out);
}

enum opt_id {
	OPT_TARGET = 256, OPT_CLIENTS, OPT_THREADS, OPT_FIRST_ID, OPT_RATE,
	OPT_RAMP, OPT_STEP, OPT_DURATION, OPT_COUNT, OPT_BATCH, OPT_MODE,
	OPT_CERTS, OPT_HS_TIMEOUT, OPT_PAYLOAD, OPT_PAYLOAD_SIZE,
	OPT_HEARTBEAT, OPT_SEED, OPT_LOSS, OPT_DUP, OPT_REORDER,
	OPT_REORDER_DEPTH, OPT_FLOOD, OPT_FLOOD_SRC, OPT_QUIET,
	OPT_REPORT_JSON, OPT_HELP, OPT_VERSION,
};

static const struct option long_opts[] = {
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "clients", required_argument, NULL, OPT_CLIENTS },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "first-id", required_argument, NULL, OPT_FIRST_ID },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "ramp", required_argument, NULL, OPT_RAMP },
	{ "step", required_argument, NULL, OPT_STEP },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "certs", required_argument, NULL, OPT_CERTS },
	{ "handshake-timeout", required_argument, NULL, OPT_HS_TIMEOUT },
	{ "payload", required_argument, NULL, OPT_PAYLOAD },
	{ "payload-size", required_argument, NULL, OPT_PAYLOAD_SIZE },
	{ "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "loss", required_argument, NULL, OPT_LOSS },
	{ "dup", required_argument, NULL, OPT_DUP },
	{ "reorder", required_argument, NULL, OPT_REORDER },
	{ "reorder-depth", required_argument, NULL, OPT_REORDER_DEPTH },
	{ "flood-handshakes", required_argument, NULL, OPT_FLOOD },
	{ "flood-src", required_argument, NULL, OPT_FLOOD_SRC },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "report-json", required_argument, NULL, OPT_REPORT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* The message is xtel_bad_value's, worded as the collector's. */
static int bad(const char *flag, const char *val, const char *range)
{
	return xtel_bad_value(flag, val, range);
}

static int parse_u64(const char *flag, const char *s, uint64_t lo,
		     uint64_t hi, const char *range, uint64_t *out)
{
	return xtel_flag_u64(flag, s, lo, hi, range, out);
}

static int parse_double(const char *flag, const char *s, double lo, double hi,
			const char *range, double *out)
{
	return xtel_flag_double(flag, s, lo, hi, range, out);
}

int xtel_lg_parse_addr_port(const char *s, struct sockaddr_storage *ss,
			    socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_s;
	size_t hlen;
	uint64_t port;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen);
		port_s = close + 2;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hlen);
		port_s = colon + 1;
	}
	host[hlen] = '\0';
	if (xtel_parse_u64(port_s, 1, 65535, &port))
		return -EINVAL;

	if (*s != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	}
	return 0;
}

/* "198.18.1.0/24" or "2001:2:0:1::/64"; host bits must be zero. */
static int parse_cidr(const char *s, struct sockaddr_storage *ss,
		      uint32_t *prefix)
{
	struct xtel_cidr c;

	if (xtel_parse_cidr(s, XTEL_CIDR_NEED_PREFIX, &c) ||
	    xtel_cidr_host_bits(&c))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (c.family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		/* A /64 or longer keeps the source arithmetic in 64 bits. */
		if (c.prefix < 64)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, c.addr, 16);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (c.prefix < 8)
			return -EINVAL;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, c.addr, 4);
	}
	*prefix = c.prefix;
	return 0;
}

static int parse_ramp(const char *s, struct xtel_lg_config *cfg)
{
	static const char range[] =
		"comma-separated rates, 1..64 of them, each 0 < R <= 10000000";
	char buf[1024], *save = NULL, *tok;
	uint32_t n = 0;

	if (strlen(s) >= sizeof(buf))
		return bad("ramp", s, range);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		double r;

		if (n == XTEL_LG_MAX_RAMP_STEPS)
			return bad("ramp", s, range);
		if (xtel_parse_double(tok, 0, 1e7, &r) || r <= 0)
			return bad("ramp", s, range);
		cfg->rates[n++] = r;
	}
	/* strtok_r skips empty fields: ",," or a trailing comma is an error. */
	if (n == 0 || strstr(s, ",,") || s[0] == ',' || s[strlen(s) - 1] == ',')
		return bad("ramp", s, range);
	cfg->n_rates = n;
	return 0;
}

static void set_defaults(struct xtel_lg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->clients = 1;
	cfg->threads = 1;
	cfg->first_id = 1;
	cfg->rates[0] = 1000;
	cfg->n_rates = 1;
	cfg->step_s = 5;
	cfg->mode = XTEL_LG_MODE_DTLS;
	cfg->handshake_timeout_s = 10;
	cfg->seed = 1;
	cfg->reorder_depth = 3;
	cfg->batch = 64;
}

static int parse_one(int opt, const char *arg, struct xtel_lg_config *cfg,
		     bool *seen)
{
	uint64_t u;
	int ret = 0;

	switch (opt) {
	case OPT_TARGET:
		if (strlen(arg) >= sizeof(cfg->target_str) ||
		    xtel_lg_parse_addr_port(arg, &cfg->target, &cfg->target_len))
			return bad("target", arg,
				   "IPv4:PORT or [IPv6]:PORT with PORT 1..65535, e.g. 198.18.0.1:7700 or [2001:2::1]:7700");
		strcpy(cfg->target_str, arg);
		break;
	case OPT_CLIENTS:
		ret = parse_u64("clients", arg, 0, XTEL_LG_MAX_CLIENTS,
				"an integer 1..60000, or 0 with --flood-handshakes", &u);
		cfg->clients = (uint32_t)u;
		break;
	case OPT_THREADS:
		ret = parse_u64("threads", arg, 1, XTEL_LG_MAX_THREADS,
				"an integer 1..64", &u);
		cfg->threads = (uint32_t)u;
		break;
	case OPT_FIRST_ID:
		ret = parse_u64("first-id", arg, 0, UINT32_MAX,
				"an integer 0..4294967295, and first+clients-1 <= 4294967295", &u);
		cfg->first_id = (uint32_t)u;
		break;
	case OPT_RATE:
		ret = parse_double("rate", arg, 0, 1e7,
				   "packets per second 0..10000000, 0 = as fast as possible",
				   &cfg->rates[0]);
		break;
	case OPT_RAMP:
		ret = parse_ramp(arg, cfg);
		cfg->ramp = true;
		break;
	case OPT_STEP:
		ret = parse_double("step", arg, 0.1, 3600,
				   "seconds 0.1..3600", &cfg->step_s);
		break;
	case OPT_DURATION:
		ret = parse_double("duration", arg, 0.001, 86400,
				   "seconds 0.001..86400", &cfg->duration_s);
		break;
	case OPT_COUNT:
		ret = parse_u64("count", arg, 1, 1000000000000ull,
				"an integer 1..1000000000000", &cfg->count);
		break;
	case OPT_BATCH:
		ret = parse_u64("batch", arg, 1, XTEL_LG_MAX_BATCH,
				"an integer 1..256", &u);
		cfg->batch = (uint32_t)u;
		break;
	case OPT_MODE:
		if (!strcmp(arg, "dtls"))
			cfg->mode = XTEL_LG_MODE_DTLS;
		else if (!strcmp(arg, "plain"))
			cfg->mode = XTEL_LG_MODE_PLAIN;
		else
			return bad("mode", arg, "dtls or plain");
		break;
	case OPT_CERTS:
		if (!*arg)
			return bad("certs", arg, "a directory path");
		cfg->certs_dir = arg;
		break;
	case OPT_HS_TIMEOUT:
		ret = parse_double("handshake-timeout", arg, 0.1, 600,
				   "seconds 0.1..600", &cfg->handshake_timeout_s);
		break;
	case OPT_PAYLOAD:
		cfg->payload_template = arg;
		break;
	case OPT_PAYLOAD_SIZE:
		ret = parse_u64("payload-size", arg, 0, 1200,
				"bytes: 0 or 3..1200", &u);
		if (!ret && (u == 1 || u == 2))
			return bad("payload-size", arg, "bytes: 0 or 3..1200; the shortest metric 'a=1' is 3 bytes");
		cfg->payload_size = (uint32_t)u;
		break;
	case OPT_HEARTBEAT:
		ret = parse_double("heartbeat", arg, 0, 3600,
				   "seconds: 0 (off) or 0.01..3600", &cfg->heartbeat_s);
		if (!ret && cfg->heartbeat_s > 0 && cfg->heartbeat_s < 0.01)
			return bad("heartbeat", arg, "seconds: 0 (off) or 0.01..3600");
		break;
	case OPT_SEED:
		ret = parse_u64("seed", arg, 0, UINT64_MAX,
				"an integer 0..18446744073709551615", &cfg->seed);
		break;
	case OPT_LOSS:
		ret = parse_double("loss", arg, 0, 1,
				   "a probability 0..1, e.g. 0.05", &cfg->loss);
		break;
	case OPT_DUP:
		ret = parse_double("dup", arg, 0, 1,
				   "a probability 0..1, e.g. 0.05", &cfg->dup);
		break;
	case OPT_REORDER:
		ret = parse_double("reorder", arg, 0, 1,
				   "a probability 0..1, e.g. 0.05", &cfg->reorder);
		break;
	case OPT_REORDER_DEPTH:
		ret = parse_u64("reorder-depth", arg, 1,
				XTEL_LG_MAX_REORDER_DEPTH,
				"an integer 1..10000", &u);
		cfg->reorder_depth = (uint32_t)u;
		break;
	case OPT_FLOOD:
		ret = parse_double("flood-handshakes", arg, 1, 1e6,
				   "ClientHellos per second 1..1000000", &cfg->flood_pps);
		break;
	case OPT_FLOOD_SRC:
		if (parse_cidr(arg, &cfg->flood_net, &cfg->flood_prefix))
			return bad("flood-src", arg,
				   "IPv4 CIDR /8../32 or IPv6 CIDR /64../128 with host bits zero, e.g. 198.18.1.0/24");
		cfg->flood_src_given = true;
		break;
	case OPT_QUIET:
		cfg->quiet = true;
		break;
	case OPT_REPORT_JSON:
		if (!*arg)
			return bad("report-json", arg, "a file path");
		cfg->report_json = arg;
		break;
	default:
		return -EINVAL;
	}
	if (!ret)
		seen[opt - OPT_TARGET] = true;
	return ret;
}

static int conflict(const char *a, const char *b)
{
	pr_err("%s and %s cannot be used together", a, b);
	return -EINVAL;
}

/* Checks that involve more than one flag. */
static int check_combination(struct xtel_lg_config *cfg, const bool *seen)
{
	char val[16], range[64];

#define SEEN(o) seen[(o) - OPT_TARGET]
	if (!SEEN(OPT_TARGET)) {
		pr_err("--target ADDR:PORT is required (try --help)");
		return -EINVAL;
	}
	if (cfg->clients == 0 && !SEEN(OPT_FLOOD)) {
		return bad("clients", "0",
			   "an integer 1..60000, or 0 with --flood-handshakes");
	}
	if (cfg->clients > 0 && cfg->threads > cfg->clients) {
		snprintf(val, sizeof(val), "%u", cfg->threads);
		snprintf(range, sizeof(range),
			 "1..%u, at most one thread per client", cfg->clients);
		return bad("threads", val, range);
	}
	if (cfg->clients > 0 &&
	    (uint64_t)cfg->first_id + cfg->clients - 1 > UINT32_MAX) {
		snprintf(val, sizeof(val), "%u", cfg->first_id);
		snprintf(range, sizeof(range), "0..%llu for %u clients",
			 (unsigned long long)UINT32_MAX - cfg->clients + 1,
			 cfg->clients);
		return bad("first-id", val, range);
	}
	if (SEEN(OPT_RAMP) && SEEN(OPT_RATE))
		return conflict("--ramp", "--rate");
	if (SEEN(OPT_RAMP) && SEEN(OPT_DURATION))
		return conflict("--ramp", "--duration (a ramp lasts steps x --step)");
	if (SEEN(OPT_STEP) && !SEEN(OPT_RAMP)) {
		pr_err("--step needs --ramp");
		return -EINVAL;
	}
	if (SEEN(OPT_PAYLOAD) && SEEN(OPT_PAYLOAD_SIZE))
		return conflict("--payload", "--payload-size");
	if (cfg->loss + cfg->dup + cfg->reorder > 1.0 + 1e-12) {
		pr_err("--loss + --dup + --reorder = %g: expected a sum of at most 1",
			cfg->loss + cfg->dup + cfg->reorder);
		return -EINVAL;
	}
	if (SEEN(OPT_REORDER_DEPTH) && !SEEN(OPT_REORDER)) {
		pr_err("--reorder-depth needs --reorder P");
		return -EINVAL;
	}
	if (SEEN(OPT_FLOOD_SRC) && !SEEN(OPT_FLOOD)) {
		pr_err("--flood-src needs --flood-handshakes PPS");
		return -EINVAL;
	}
	if (cfg->mode == XTEL_LG_MODE_DTLS && cfg->clients > 0 &&
	    !cfg->certs_dir) {
		pr_err("--mode dtls needs --certs DIR (ca.crt, client-<id>.crt/.key; see certs/gen.sh), or use --mode plain");
		return -EINVAL;
	}
	if (cfg->ramp) {
		cfg->duration_s = cfg->n_rates * cfg->step_s;
	} else if (!SEEN(OPT_DURATION) && !SEEN(OPT_COUNT)) {
		cfg->duration_s = 10;
	}
	if (cfg->clients == 0 && cfg->duration_s == 0) {
		pr_err("--count needs --clients >= 1; bound a flood-only run with --duration S");
		return -EINVAL;
	}
	if (SEEN(OPT_FLOOD)) {
		int fam = cfg->target.ss_family;

		if (!cfg->flood_src_given) {
			const char *def = fam == AF_INET ? "198.18.1.0/24" :
							   "2001:2:0:1::/64";

			parse_cidr(def, &cfg->flood_net, &cfg->flood_prefix);
		} else if (cfg->flood_net.ss_family != fam) {
			pr_err("--flood-src: the range must be of the target's address family (%s)",
				fam == AF_INET ? "IPv4" : "IPv6");
			return -EINVAL;
		}
	}
	return 0;
#undef SEEN
}

enum xtel_lg_cli_result xtel_lg_cli_parse(int argc, char **argv,
					  struct xtel_lg_config *cfg)
{
	bool seen[OPT_VERSION - OPT_TARGET + 1] = { false };
	int opt;

	set_defaults(cfg);
	opterr = 0;	/* our own messages, naming the flag */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (opt == 'h' || opt == OPT_HELP) {
			xtel_lg_cli_usage(stdout);
			return XTEL_LG_CLI_EXIT_OK;
		}
		if (opt == OPT_VERSION) {
			printf("loadgen (xtel) %s\n", XTEL_VERSION);
			return XTEL_LG_CLI_EXIT_OK;
		}
		if (opt == '?' || opt == ':') {
			const char *a = argv[optind - 1];

			if (optopt && optopt >= OPT_TARGET)
				pr_err("%s needs a value (try --help)", a);
			else
				pr_err("unknown option '%s' (try --help)", a);
			return XTEL_LG_CLI_BAD;
		}
		if (parse_one(opt, optarg, cfg, seen))
			return XTEL_LG_CLI_BAD;
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (try --help)",
			argv[optind]);
		return XTEL_LG_CLI_BAD;
	}
	if (check_combination(cfg, seen))
		return XTEL_LG_CLI_BAD;
	return XTEL_LG_CLI_RUN;
}
