// SPDX-License-Identifier: MIT
/*
 * probe's command line: the option table (common/options.h) with ranges,
 * error texts and --help, then the checks across options. Files are
 * checked where they are used (curl for the HTTPS side, the loadgen's
 * DTLS adapter for the collector side), each with its exit code.
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/options.h"
#include "common/parse.h"
#include "probe.h"

enum pb_opt {
	PB_OPT_SERVER, PB_OPT_SIZE, PB_OPT_DEVICES, PB_OPT_FIRST_ID,
	PB_OPT_INTERVAL, PB_OPT_JITTER, PB_OPT_ALIGN, PB_OPT_COUNT,
	PB_OPT_DURATION, PB_OPT_PARALLEL, PB_OPT_TIMEOUT, PB_OPT_CONNECT_TIMEOUT,
	PB_OPT_WARMUP, PB_OPT_CERTS, PB_OPT_SERVER_CA, PB_OPT_TLS,
	PB_OPT_COLLECTOR, PB_OPT_HEARTBEAT, PB_OPT_HS_TIMEOUT, PB_OPT_SEED,
	PB_OPT_LOG, PB_OPT_REPORT_JSON, PB_OPT_QUIET, PB_OPT_HELP,
	PB_N_OPTS,
};

static const char *const align_names[] = {
	[XTEL_PB_SPREAD] = "spread",
	[XTEL_PB_ALIGNED] = "aligned",
	NULL,
};
static const char *const tls_names[] = { "auto", "1.2", "1.3", NULL };

static int parse_server(const struct xtel_opt *o, const char *val, void *arg)
{
	struct xtel_pb_config *cfg = arg;
	size_t n = strlen(val);

	if (strncmp(val, "https://", 8) || n <= 8 || n >= sizeof(cfg->server) ||
	    strchr(val + 8, '/') || strchr(val, ' '))
		return xtel_bad_value(o->name, val, o->valid);
	strcpy(cfg->server, val);
	return 0;
}

static int parse_collector(const struct xtel_opt *o, const char *val, void *arg)
{
	struct xtel_pb_config *cfg = arg;

	if (strlen(val) >= sizeof(cfg->collector_str) ||
	    xtel_parse_addr_port(val, &cfg->collector, &cfg->collector_len))
		return xtel_bad_value(o->name, val, o->valid);
	strcpy(cfg->collector_str, val);
	cfg->collector_given = true;
	return 0;
}

static void usage(FILE *out);

static const char *show_server(const struct xtel_opt *o, const void *arg)
{
	const struct xtel_pb_config *cfg = arg;

	return cfg->server[0] ? cfg->server : NULL;
}

static const char *show_collector(const struct xtel_opt *o, const void *arg)
{
	const struct xtel_pb_config *cfg = arg;

	return cfg->collector_given ? cfg->collector_str : NULL;
}

#define CFG struct xtel_pb_config

static void pb_defaults(void *arg);
static int pb_check(void *arg, const unsigned int *seen);

static const struct xtel_opt pb_opt[PB_N_OPTS] = {
	[PB_OPT_SERVER] = { .name = "server", .metavar = "URL",
		.section = "what to download:",
		.type = XTEL_OPT_CUSTOM, .parse = parse_server, .show = show_server,
		.valid = "https://HOST:PORT without a path, e.g. https://198.18.0.1:8443",
		.help = "the probe server, https://HOST:PORT (required)" },
	[PB_OPT_SIZE] = { .name = "size", .metavar = "BYTES",
		XTEL_OPT_UINT_AT(CFG, size, 1024, 1ull << 30),
		.valid = "bytes 1024..1073741824",
		.help = "object size, 1 KiB..1 GiB (default 1048576)" },
	[PB_OPT_DEVICES] = { .name = "devices", .metavar = "N",
		.section = "schedule:",
		XTEL_OPT_UINT_AT(CFG, devices, 1, XTEL_PB_MAX_DEVICES),
		.valid = "an integer 1..20000",
		.help = "simulated devices, 1..20000 (default 1)" },
	[PB_OPT_FIRST_ID] = { .name = "first-id", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, first_id, 1, UINT32_MAX),
		.valid = "an integer 1..4294967295, and first+devices-1 <= 4294967295",
		.help = "client ids N..N+devices-1 (default 1)" },
	[PB_OPT_INTERVAL] = { .name = "interval", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, interval_s, 0.01, 86400),
		.valid = "seconds 0.01..86400",
		.help = "each device probes every S seconds (default 60)" },
	[PB_OPT_JITTER] = { .name = "jitter", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, jitter_s, 0, 86400),
		.valid = "seconds 0..86400, below --interval",
		.help = "each probe starts up to S seconds late, drawn per\n"
			"probe from --seed (default 0)" },
	[PB_OPT_ALIGN] = { .name = "align", .metavar = "spread|aligned",
		XTEL_OPT_CHOICE_AT(CFG, align, align_names),
		.valid = "spread or aligned",
		.help = "spread: device i starts i/N of an interval in;\n"
			"aligned: on wall-clock multiples of --interval, as\n"
			"cron would (default spread)" },
	[PB_OPT_COUNT] = { .name = "count", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, count, 1, 100000000),
		.valid = "an integer 1..100000000",
		.help = "probes per device" },
	[PB_OPT_DURATION] = { .name = "duration", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, duration_s, 0.01, 30 * 86400),
		.valid = "seconds 0.01..2592000",
		.help = "no probe starts after S seconds (neither: --count 1)" },
	[PB_OPT_PARALLEL] = { .name = "parallel", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, parallel, 1, 10000),
		.valid = "an integer 1..10000",
		.help = "downloads at once at most; a due probe waits\n"
			"(default 256)" },
	[PB_OPT_TIMEOUT] = { .name = "timeout", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, timeout_s, 0.01, 86400),
		.valid = "seconds 0.01..86400",
		.help = "a download still running after S seconds is a\n"
			"timeout (default 30)" },
	[PB_OPT_CONNECT_TIMEOUT] = { .name = "connect-timeout", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, connect_timeout_s, 0.01, 600),
		.valid = "seconds 0.01..600",
		.help = "TCP connect limit (default 5)" },
	[PB_OPT_WARMUP] = { .name = "warmup", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, warmup_s, 0, 600),
		.valid = "seconds 0..600",
		.help = "probe_speed_warm_mbps leaves out the body's first\n"
			"S seconds (default 0.2)" },
	[PB_OPT_CERTS] = { .name = "certs", .metavar = "DIR",
		.section = "credentials:",
		XTEL_OPT_STRING_AT(CFG, certs_dir), .lo = 1,
		.valid = "a directory path",
		.help = "ca.crt and client-<id>.crt/.key of every device\n"
			"(certs/gen.sh DIR N; required): HTTPS and DTLS" },
	[PB_OPT_SERVER_CA] = { .name = "server-ca", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, server_ca), .lo = 1,
		.valid = "a file path",
		.help = "check the probe server against this CA instead\n"
			"of DIR/ca.crt" },
	[PB_OPT_TLS] = { .name = "tls", .metavar = "auto|1.2|1.3",
		XTEL_OPT_CHOICE_AT(CFG, tls, tls_names),
		.valid = "auto, 1.2 or 1.3",
		.help = "TLS version of the downloads (default auto)" },
	[PB_OPT_COLLECTOR] = { .name = "collector", .metavar = "ADDR:PORT",
		.section = "results to the collector (DTLS telemetry):",
		.type = XTEL_OPT_CUSTOM, .parse = parse_collector, .show = show_collector,
		.valid = "IPv4:PORT or [IPv6]:PORT with PORT 1..65535",
		.help = "send each result as DATA there (default: none)" },
	[PB_OPT_HEARTBEAT] = { .name = "heartbeat", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, heartbeat_s, 0.1, 3600),
		.valid = "seconds 0.1..3600",
		.help = "HEARTBEAT after S idle seconds, so the session\n"
			"outlives long intervals (default 20)" },
	[PB_OPT_HS_TIMEOUT] = { .name = "handshake-timeout", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, handshake_timeout_s, 0.1, 600),
		.valid = "seconds 0.1..600",
		.help = "DTLS handshake limit per device (default 10)" },
	[PB_OPT_SEED] = { .name = "seed", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, seed, 0, UINT64_MAX),
		.valid = "an integer 0..18446744073709551615",
		.help = "for --jitter (default 1)" },
	[PB_OPT_LOG] = { .name = "log", .metavar = "FILE",
		.section = "output:",
		XTEL_OPT_STRING_AT(CFG, log_path), .lo = 1, .valid = "a file path",
		.help = "one JSON line per download" },
	[PB_OPT_REPORT_JSON] = { .name = "report-json", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, report_json), .lo = 1,
		.valid = "a file path",
		.help = "write the final report as JSON" },
	[PB_OPT_QUIET] = { .name = "quiet", XTEL_OPT_FLAG_AT(CFG, quiet),
		.help = "no progress lines on stderr" },
	[PB_OPT_HELP] = { .name = "help", .short_name = 'h',
		.type = XTEL_OPT_EXIT, .print = usage,
		.help = "this text" },
};

static const struct xtel_opts pb_opts = {
	.opt = pb_opt,
	.n = PB_N_OPTS,
	.usage =
"usage: probe --server https://HOST:PORT --certs DIR [options]\n"
"\n"
"Simulates devices that download a test object from the probe server every\n"
"--interval seconds over HTTPS (their client certificates), measure curl's\n"
"timings and the speed, and send each result to the collector as DTLS\n"
"telemetry (metrics probe_*; docs/PROBES.md).\n",
	.epilogue =
"\n"
"exit codes:\n"
"  0 run completed (failed downloads are results, not errors)\n"
"  1 unexpected system error, or a report could not be written\n"
"  2 invalid flag or flag value\n"
"  3 the collector is unreachable\n"
"  4 a DTLS handshake with the collector failed or timed out\n"
"  5 certificate or key missing, unreadable or not matching\n",
	.blank_before_section = true,
	.prog = "probe",
	.config_path = "/etc/xtel/probe.conf",
	.defaults = pb_defaults,
	.check = pb_check,
	.summary = "XTel download probes: simulated devices timing HTTPS downloads",
	.man_section = "1",
	.man_text = ".SH SEE ALSO\n.BR probe\\-server (1),\n.BR probe\\-report (1),\n"
		".BR collector (8),\n/usr/share/doc/xtel/PROBES.md\n",
};

static void usage(FILE *out)
{
	xtel_opts_help(&pb_opts, out);
}

static void pb_defaults(void *arg)
{
	struct xtel_pb_config *cfg = arg;

	memset(cfg, 0, sizeof(*cfg));
	cfg->size = 1048576;
	cfg->devices = 1;
	cfg->first_id = 1;
	cfg->interval_s = 60;
	cfg->parallel = 256;
	cfg->timeout_s = 30;
	cfg->connect_timeout_s = 5;
	cfg->warmup_s = 0.2;
	cfg->heartbeat_s = 20;
	cfg->handshake_timeout_s = 10;
	cfg->seed = 1;
}

/* The checks across options (also for --check-config). */
static int pb_check(void *arg, const unsigned int *seen)
{
	struct xtel_pb_config *cfg = arg;

	if (!cfg->server[0] || !cfg->certs_dir) {
		pr_err("--server https://HOST:PORT and --certs DIR are required (try --help)");
		return -EINVAL;
	}
	if ((uint64_t)cfg->first_id + cfg->devices - 1 > UINT32_MAX) {
		pr_err("--first-id %u with --devices %u goes past client id 4294967295",
		       cfg->first_id, cfg->devices);
		return -EINVAL;
	}
	if (cfg->jitter_s >= cfg->interval_s) {
		pr_err("--jitter %g must be below --interval %g", cfg->jitter_s,
		       cfg->interval_s);
		return -EINVAL;
	}
	if (seen[PB_OPT_HEARTBEAT] && !cfg->collector_given) {
		pr_err("--heartbeat needs --collector ADDR:PORT");
		return -EINVAL;
	}
	if (!cfg->count && !cfg->duration_s)
		cfg->count = 1;
	return 0;
}

int xtel_pb_cli_parse(int argc, char **argv, struct xtel_pb_config *cfg)
{
	unsigned int seen[PB_N_OPTS];
	int ret;

	ret = xtel_opts_parse(&pb_opts, argc, argv, cfg, seen);
	if (ret == XTEL_OPTS_EXIT)
		return 1;
	if (ret)
		return -EINVAL;
	return 0;
}
