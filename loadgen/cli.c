// SPDX-License-Identifier: MIT
/*
 * loadgen's command line: the option table (common/options.h) with each
 * option's range, error text and --help lines, the value parsers of its own
 * kinds (target, ramp, flood range), then the checks that involve several
 * options at once (--ramp excludes --rate, probabilities sum to <= 1, ...).
 * Nothing here opens sockets or files: the certificates and the target are
 * checked by the modules that use them, with their own exit codes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "cli.h"
#include "common/options.h"
#include "common/parse.h"

/* Table order is --help order. */
enum lg_opt {
	LG_OPT_TARGET, LG_OPT_CLIENTS, LG_OPT_THREADS, LG_OPT_FIRST_ID, LG_OPT_SOURCE,
	LG_OPT_RATE, LG_OPT_RAMP, LG_OPT_STEP, LG_OPT_DURATION, LG_OPT_COUNT,
	LG_OPT_BATCH, LG_OPT_MODE, LG_OPT_CERTS, LG_OPT_HS_TIMEOUT, LG_OPT_DATA_DELAY,
	LG_OPT_PAYLOAD, LG_OPT_PAYLOAD_SIZE, LG_OPT_HEARTBEAT, LG_OPT_SEED,
	LG_OPT_LOSS, LG_OPT_DUP, LG_OPT_REORDER, LG_OPT_REORDER_DEPTH,
	LG_OPT_SCENARIO, LG_OPT_RECONNECT, LG_OPT_RESUME, LG_OPT_RECONNECT_AFTER,
	LG_OPT_OPENSSL_RECORDS,
	LG_OPT_NO_CLOSE,
	LG_OPT_FLOOD, LG_OPT_FLOOD_SRC, LG_OPT_QUIET, LG_OPT_REPORT_JSON,
	LG_OPT_HELP,
	LG_N_OPTS,
};

static const char *const mode_names[] = {
	[XTEL_LG_MODE_DTLS] = "dtls",
	[XTEL_LG_MODE_PLAIN] = "plain",
	NULL,
};

int xtel_lg_parse_addr_port(const char *s, struct sockaddr_storage *ss,
			    socklen_t *len)
{
	return xtel_parse_addr_port(s, ss, len);
}

/* The address of c as a socket address, port 0; returns its length. */
static socklen_t cidr_sockaddr(const struct xtel_cidr *c, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (c->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, c->addr, 16);
		return sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, c->addr, 4);
		return sizeof(*sin);
	}
}

/* "198.18.1.0/24" or "2001:2:0:1::/64"; host bits must be zero. */
static int parse_cidr(const char *s, struct sockaddr_storage *ss,
		      uint32_t *prefix)
{
	struct xtel_cidr c;

	if (xtel_parse_cidr(s, XTEL_CIDR_NEED_PREFIX, &c) ||
	    xtel_cidr_host_bits(&c))
		return -EINVAL;
	/* A /64 or longer keeps the source arithmetic in 64 bits. */
	if (c.prefix < (c.family == AF_INET6 ? 64u : 8u))
		return -EINVAL;
	cidr_sockaddr(&c, ss);
	*prefix = c.prefix;
	return 0;
}

static int parse_ramp(const struct xtel_opt *o, const char *s, void *arg)
{
	struct xtel_lg_config *cfg = arg;
	char buf[1024], *save = NULL, *tok;
	uint32_t n = 0;

	if (strlen(s) >= sizeof(buf))
		return xtel_bad_value(o->name, s, o->valid);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		double r;

		if (n == XTEL_LG_MAX_RAMP_STEPS)
			return xtel_bad_value(o->name, s, o->valid);
		if (xtel_parse_double(tok, 0, 1e7, &r) || r <= 0)
			return xtel_bad_value(o->name, s, o->valid);
		cfg->rates[n++] = r;
	}
	/* strtok_r skips empty fields: ",," or a trailing comma is an error. */
	if (n == 0 || strstr(s, ",,") || s[0] == ',' || s[strlen(s) - 1] == ',')
		return xtel_bad_value(o->name, s, o->valid);
	cfg->n_rates = n;
	cfg->ramp = true;
	return 0;
}

static int parse_target(const struct xtel_opt *o, const char *val, void *arg)
{
	struct xtel_lg_config *cfg = arg;

	if (strlen(val) >= sizeof(cfg->target_str) ||
	    xtel_lg_parse_addr_port(val, &cfg->target, &cfg->target_len))
		return xtel_bad_value(o->name, val, o->valid);
	strcpy(cfg->target_str, val);
	return 0;
}

static int parse_flood_src(const struct xtel_opt *o, const char *val, void *arg)
{
	struct xtel_lg_config *cfg = arg;

	if (parse_cidr(val, &cfg->flood_net, &cfg->flood_prefix))
		return xtel_bad_value(o->name, val, o->valid);
	cfg->flood_src_given = true;
	return 0;
}

/* The address of ss as text into buf (INET6_ADDRSTRLEN bytes at least). */
static char *addr_text(const struct sockaddr_storage *ss, char *buf)
{
	const void *a = ss->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (!inet_ntop(ss->ss_family, a, buf, INET6_ADDRSTRLEN))
		buf[0] = '\0';
	return buf;
}

/* A bare address of either family: every client socket binds it, port 0. */
static int parse_source(const struct xtel_opt *o, const char *val, void *arg)
{
	struct xtel_lg_config *cfg = arg;
	struct xtel_cidr c;

	if (xtel_parse_cidr(val, 0, &c) || strchr(val, '/'))
		return xtel_bad_value(o->name, val, o->valid);
	cfg->source_len = cidr_sockaddr(&c, &cfg->source);
	return 0;
}

static const char *show_source(const struct xtel_opt *o, const void *arg)
{
	const struct xtel_lg_config *cfg = arg;
	static char buf[INET6_ADDRSTRLEN];

	return cfg->source_len ? addr_text(&cfg->source, buf) : NULL;
}

static const char *show_target(const struct xtel_opt *o, const void *arg)
{
	const struct xtel_lg_config *cfg = arg;

	return cfg->target_str[0] ? cfg->target_str : NULL;
}

static const char *show_ramp(const struct xtel_opt *o, const void *arg)
{
	const struct xtel_lg_config *cfg = arg;
	static char buf[64 * 24];
	size_t n = 0;

	if (!cfg->ramp)
		return NULL;
	for (uint32_t i = 0; i < cfg->n_rates && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%g",
				      i ? "," : "", cfg->rates[i]);
	return buf;
}

static const char *show_flood_src(const struct xtel_opt *o, const void *arg)
{
	const struct xtel_lg_config *cfg = arg;
	static char buf[INET6_ADDRSTRLEN + 8];

	if (!cfg->flood_src_given)
		return NULL;
	addr_text(&cfg->flood_net, buf);
	snprintf(buf + strlen(buf), 8, "/%u", cfg->flood_prefix);
	return buf;
}

#define CFG struct xtel_lg_config
#define PROBABILITY "a probability 0..1, e.g. 0.05"

static const struct xtel_opt lg_opt[LG_N_OPTS] = {
	[LG_OPT_TARGET] = { .name = "target", .metavar = "ADDR:PORT",
		.section = "target and load:",
		.type = XTEL_OPT_CUSTOM, .parse = parse_target, .show = show_target,
		.valid = "IPv4:PORT or [IPv6]:PORT with PORT 1..65535, e.g. 198.18.0.1:7700 or [2001:2::1]:7700",
		.help = "198.18.0.1:7700 or [2001:2::1]:7700 (required)" },
	[LG_OPT_CLIENTS] = { .name = "clients", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, clients, 0, XTEL_LG_MAX_CLIENTS),
		.valid = "an integer 1..60000, or 0 with --flood-handshakes",
		.help = "simulated clients, 1..60000 (0 only with\n"
			"--flood-handshakes; default 1)" },
	[LG_OPT_THREADS] = { .name = "threads", .metavar = "T",
		XTEL_OPT_UINT_AT(CFG, threads, 1, XTEL_LG_MAX_THREADS),
		.valid = "an integer 1..64",
		.help = "sender threads, 1..64 and <= clients (default 1)" },
	[LG_OPT_FIRST_ID] = { .name = "first-id", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, first_id, 0, UINT32_MAX),
		.valid = "an integer 0..4294967295, and first+clients-1 <= 4294967295",
		.help = "client ids N..N+clients-1, 0..2^32-clients (default 1)" },
	[LG_OPT_SOURCE] = { .name = "source", .metavar = "ADDR",
		.type = XTEL_OPT_CUSTOM, .parse = parse_source, .show = show_source,
		.valid = "an IPv4 or IPv6 address of the target's family, e.g. 198.18.1.1",
		.help = "bind every client socket to ADDR (port 0), e.g. one\n"
			"address per process for more clients than one address\n"
			"has ports (default: the route's source address)" },
	[LG_OPT_RATE] = { .name = "rate", .metavar = "PPS",
		XTEL_OPT_DOUBLE_AT(CFG, rates[0], 0, 1e7),
		.valid = "packets per second 0..10000000, 0 = as fast as possible",
		.help = "total DATA rate, 0..10000000, 0 = as fast as\n"
			"possible (default 1000)" },
	[LG_OPT_RAMP] = { .name = "ramp", .metavar = "R1,R2,...",
		.type = XTEL_OPT_CUSTOM, .parse = parse_ramp, .show = show_ramp,
		.valid = "comma-separated rates, 1..64 of them, each 0 < R <= 10000000",
		.help = "step through rates (1..64 steps, each 0 < R <= 1e7)" },
	[LG_OPT_STEP] = { .name = "step", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, step_s, 0.1, 3600),
		.valid = "seconds 0.1..3600",
		.help = "... S seconds each, 0.1..3600 (default 5); --ramp excludes\n"
			"--rate and --duration" },
	[LG_OPT_DURATION] = { .name = "duration", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, duration_s, 0.001, 86400),
		.valid = "seconds 0.001..86400",
		.help = "seconds of DATA, 0.001..86400" },
	[LG_OPT_COUNT] = { .name = "count", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, count, 1, 1000000000000ull),
		.valid = "an integer 1..1000000000000",
		.help = "DATA datagrams per client, 1..1e12\n"
			"(neither --duration nor --count: --duration 10)" },
	[LG_OPT_BATCH] = { .name = "batch", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, batch, 1, XTEL_LG_MAX_BATCH),
		.valid = "an integer 1..256",
		.help = "datagrams per sendmmsg call, 1..256 (default 64)" },

	[LG_OPT_MODE] = { .name = "mode", .metavar = "dtls|plain",
		.section = "protocol:",
		XTEL_OPT_CHOICE_AT(CFG, mode, mode_names), .valid = "dtls or plain",
		.help = "default dtls" },
	[LG_OPT_CERTS] = { .name = "certs", .metavar = "DIR",
		XTEL_OPT_STRING_AT(CFG, certs_dir), .lo = 1,
		.valid = "a directory path",
		.help = "ca.crt, client-<id>.crt, client-<id>.key (dtls mode)" },
	[LG_OPT_HS_TIMEOUT] = { .name = "handshake-timeout", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, handshake_timeout_s, 0.1, 600),
		.valid = "seconds 0.1..600",
		.help = "per-client handshake limit, 0.1..600 (default 10)" },
	[LG_OPT_DATA_DELAY] = { .name = "data-delay", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, data_delay_s, 0, 3600),
		.valid = "seconds 0..3600",
		.help = "wait S seconds after the handshakes before INIT and\n"
			"DATA, announced on stderr (bench/run.sh's capacity rows\n"
			"stop the receiver then; default 0); SIGUSR1 ends it" },
	[LG_OPT_RECONNECT] = { .name = "reconnect", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, reconnect, 0, 100),
		.valid = "an integer 0..100",
		.help = "after the handshakes, every client closes its session\n"
			"and handshakes again, N rounds, all at once (a restart\n"
			"storm; dtls mode; default 0)" },
	[LG_OPT_RESUME] = { .name = "resume",
		XTEL_OPT_FLAG_AT(CFG, resume),
		.help = "--reconnect offers the session ticket (abbreviated\n"
			"handshake when the collector takes it)" },
	[LG_OPT_RECONNECT_AFTER] = { .name = "reconnect-after", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, reconnect_after),
		.help = "--reconnect starts only once FILE exists (at most\n"
			"--handshake-timeout later), e.g. after the test\n"
			"restarted the collector" },
	[LG_OPT_OPENSSL_RECORDS] = { .name = "openssl-records",
		XTEL_OPT_FLAG_AT(CFG, openssl_records),
		.help = "keep OpenSSL's record layer after the handshake\n"
			"(~56 KB per client; by default each client keeps only\n"
			"its keys: docs/CAPACITY.md; dtls mode)" },
	[LG_OPT_NO_CLOSE] = { .name = "no-close",
		XTEL_OPT_FLAG_AT(CFG, no_close),
		.help = "at the end, leave the sessions without close_notify,\n"
			"as devices that lose power do: the collector's idle\n"
			"timeout ends them (bench/run.sh's DTLS capacity rows,\n"
			"so a drain times records, not session teardowns; dtls\n"
			"mode)" },
	[LG_OPT_PAYLOAD] = { .name = "payload", .metavar = "TEMPLATE",
		XTEL_OPT_STRING_AT(CFG, payload_template),
		.help = "key=value;... with placeholders {seq} {client}\n"
			"{rand:LO:HI} {randf:LO:HI} {elapsed_ms}" },
	[LG_OPT_PAYLOAD_SIZE] = { .name = "payload-size", .metavar = "B",
		XTEL_OPT_UINT_AT(CFG, payload_size, 3, 1200),
		.check = XTEL_OPT_OR_ZERO, .valid = "bytes: 0 or 3..1200",
		.valid_extra = "bytes: 0 or 3..1200; the shortest metric 'a=1' is 3 bytes",
		.help = "generated metrics of exactly B bytes, 0 or 3..1200\n"
			"(default: --payload 'temp={randf:15:30};load={rand:0:100}')" },
	[LG_OPT_HEARTBEAT] = { .name = "heartbeat", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, heartbeat_s, 0.01, 3600),
		.check = XTEL_OPT_OR_ZERO, .valid = "seconds: 0 (off) or 0.01..3600",
		.help = "HEARTBEAT after S idle seconds, 0 (off, default)\n"
			"or 0.01..3600" },

	[LG_OPT_SEED] = { .name = "seed", .metavar = "N",
		.section = "fault injection (DATA only, deterministic for a seed):",
		XTEL_OPT_UINT_AT(CFG, seed, 0, UINT64_MAX),
		.valid = "an integer 0..18446744073709551615",
		.help = "0..2^64-1 (default 1)" },
	[LG_OPT_LOSS] = { .name = "loss", .metavar = "P",
		XTEL_OPT_DOUBLE_AT(CFG, loss, 0, 1), .valid = PROBABILITY,
		.help = "skip a DATA datagram (its seq is used), 0..1" },
	[LG_OPT_DUP] = { .name = "dup", .metavar = "P",
		XTEL_OPT_DOUBLE_AT(CFG, dup, 0, 1), .valid = PROBABILITY,
		.help = "send a DATA datagram twice, 0..1" },
	[LG_OPT_REORDER] = { .name = "reorder", .metavar = "P",
		XTEL_OPT_DOUBLE_AT(CFG, reorder, 0, 1), .valid = PROBABILITY,
		.help = "hold a DATA datagram back, 0..1 (loss+dup+reorder <= 1)" },
	[LG_OPT_REORDER_DEPTH] = { .name = "reorder-depth", .metavar = "D",
		XTEL_OPT_UINT_AT(CFG, reorder_depth, 1, XTEL_LG_MAX_REORDER_DEPTH),
		.valid = "an integer 1..10000",
		.help = "... and send it D datagrams later, 1..10000 (default 3)" },
	[LG_OPT_SCENARIO] = { .name = "scenario", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, scenario), .lo = 1, .valid = "a file path",
		.help = "faults per client at time offsets: latency (back-dated\n"
			"timestamps), loss, rate, stop, metric shifts\n"
			"(docs/LOADGEN.md)" },

	[LG_OPT_FLOOD] = { .name = "flood-handshakes", .metavar = "PPS",
		.section = "handshake flood:",
		XTEL_OPT_DOUBLE_AT(CFG, flood_pps, 1, 1e6),
		.valid = "ClientHellos per second 1..1000000",
		.help = "ClientHellos without cookie, 1..1000000 per second" },
	[LG_OPT_FLOOD_SRC] = { .name = "flood-src", .metavar = "CIDR",
		.type = XTEL_OPT_CUSTOM, .parse = parse_flood_src, .show = show_flood_src,
		.valid = "IPv4 CIDR /8../32 or IPv6 CIDR /64../128 with host bits zero, e.g. 198.18.1.0/24",
		.help = "source range (default 198.18.1.0/24 or\n"
			"2001:2:0:1::/64, by the target's family)" },

	[LG_OPT_QUIET] = { .name = "quiet", .section = "output:",
		XTEL_OPT_FLAG_AT(CFG, quiet),
		.help = "no progress lines on stderr" },
	[LG_OPT_REPORT_JSON] = { .name = "report-json", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, report_json), .lo = 1,
		.valid = "a file path",
		.help = "write the final report as JSON" },
	[LG_OPT_HELP] = { .name = "help", .short_name = 'h',
		.type = XTEL_OPT_EXIT, .print = xtel_lg_cli_usage,
		.help = "this text" },
};

static void lg_defaults(void *cfg);
static int lg_check(void *cfg, const unsigned int *seen);

static const struct xtel_opts lg_opts = {
	.opt = lg_opt,
	.n = LG_N_OPTS,
	.usage =
"usage: loadgen --target ADDR:PORT [options]\n"
"\n"
"Simulates many XTel telemetry clients (DTLS or plain UDP), each with its own\n"
"UDP socket, sending INIT, paced DATA (+HEARTBEAT) and BYE; optionally injects\n"
"loss/duplication/reordering and floods unauthenticated DTLS ClientHellos.\n",
	.epilogue =
"\n"
"exit codes:\n"
"  0 run completed (also when stopped by SIGINT/SIGTERM)\n"
"  1 unexpected system error, or the report could not be written\n"
"  2 invalid flag or flag value\n"
"  3 target unreachable (no route, ICMP port unreachable/refused)\n"
"  4 DTLS handshake failed or timed out\n"
"  5 certificate or key missing, unreadable or not matching\n",
	.blank_before_section = true,
	.prog = "loadgen",
	.config_path = "/etc/xtel/loadgen.conf",
	.defaults = lg_defaults,
	.check = lg_check,
	.summary = "XTel load generator: many simulated telemetry clients",
	.man_section = "1",
	.man_text =
".SH SIGNALS\n"
".TP\n.B SIGINT, SIGTERM\n"
"Stop sending, say BYE and write the report (exit code 0).\n"
".SH SEE ALSO\n"
".BR collector (8),\n"
"/usr/share/doc/xtel/LOADGEN.md\n",
};

void xtel_lg_cli_usage(FILE *out)
{
	xtel_opts_help(&lg_opts, out);
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

static int conflict(const char *a, const char *b)
{
	pr_err("%s and %s cannot be used together", a, b);
	return -EINVAL;
}

/* Checks that involve more than one option, after the table parse. */
static int check_combination(struct xtel_lg_config *cfg,
			     const unsigned int *seen)
{
	char val[16], range[64];

#define SEEN(o) (seen[LG_OPT_##o] != 0)
	if (!SEEN(TARGET)) {
		pr_err("--target ADDR:PORT is required (try --help)");
		return -EINVAL;
	}
	if (cfg->clients == 0 && !SEEN(FLOOD))
		return xtel_bad_value("clients", "0", lg_opt[LG_OPT_CLIENTS].valid);
	if (cfg->clients > 0 && cfg->threads > cfg->clients) {
		snprintf(val, sizeof(val), "%u", cfg->threads);
		snprintf(range, sizeof(range),
			 "1..%u, at most one thread per client", cfg->clients);
		return xtel_bad_value("threads", val, range);
	}
	if (cfg->clients > 0 &&
	    (uint64_t)cfg->first_id + cfg->clients - 1 > UINT32_MAX) {
		snprintf(val, sizeof(val), "%u", cfg->first_id);
		snprintf(range, sizeof(range), "0..%llu for %u clients",
			 (unsigned long long)UINT32_MAX - cfg->clients + 1,
			 cfg->clients);
		return xtel_bad_value("first-id", val, range);
	}
	if (cfg->source_len && cfg->source.ss_family != cfg->target.ss_family) {
		pr_err("--source: the address must be of the target's address family (%s)",
			cfg->target.ss_family == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	if (SEEN(RAMP) && SEEN(RATE))
		return conflict("--ramp", "--rate");
	if (SEEN(RAMP) && SEEN(DURATION))
		return conflict("--ramp", "--duration (a ramp lasts steps x --step)");
	if (SEEN(STEP) && !SEEN(RAMP)) {
		pr_err("--step needs --ramp");
		return -EINVAL;
	}
	if (SEEN(PAYLOAD) && SEEN(PAYLOAD_SIZE))
		return conflict("--payload", "--payload-size");
	if (cfg->loss + cfg->dup + cfg->reorder > 1.0 + 1e-12) {
		pr_err("--loss + --dup + --reorder = %g: expected a sum of at most 1",
			cfg->loss + cfg->dup + cfg->reorder);
		return -EINVAL;
	}
	if (SEEN(RECONNECT_AFTER) && !cfg->reconnect) {
		pr_err("--reconnect-after needs --reconnect N");
		return -EINVAL;
	}
	if (SEEN(RESUME) && !cfg->reconnect) {
		pr_err("--resume needs --reconnect N");
		return -EINVAL;
	}
	if (cfg->reconnect && cfg->mode != XTEL_LG_MODE_DTLS) {
		pr_err("--reconnect needs --mode dtls");
		return -EINVAL;
	}
	if (cfg->no_close && cfg->mode != XTEL_LG_MODE_DTLS) {
		pr_err("--no-close needs --mode dtls (plain mode has no sessions to close)");
		return -EINVAL;
	}
	if (SEEN(REORDER_DEPTH) && !SEEN(REORDER)) {
		pr_err("--reorder-depth needs --reorder P");
		return -EINVAL;
	}
	if (SEEN(FLOOD_SRC) && !SEEN(FLOOD)) {
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
	} else if (!SEEN(DURATION) && !SEEN(COUNT)) {
		cfg->duration_s = 10;
	}
	if (cfg->clients == 0 && cfg->duration_s == 0) {
		pr_err("--count needs --clients >= 1; bound a flood-only run with --duration S");
		return -EINVAL;
	}
	if (SEEN(FLOOD)) {
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

static void lg_defaults(void *cfg)
{
	set_defaults(cfg);
}

static int lg_check(void *cfg, const unsigned int *seen)
{
	return check_combination(cfg, seen);
}

enum xtel_lg_cli_result xtel_lg_cli_parse(int argc, char **argv,
					  struct xtel_lg_config *cfg)
{
	unsigned int seen[LG_N_OPTS];
	int ret;

	ret = xtel_opts_parse(&lg_opts, argc, argv, cfg, seen);
	if (ret == XTEL_OPTS_EXIT)
		return XTEL_LG_CLI_EXIT_OK;
	if (ret)
		return XTEL_LG_CLI_BAD;
	return XTEL_LG_CLI_RUN;
}
