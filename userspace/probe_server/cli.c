// SPDX-License-Identifier: MIT
/*
 * probe-server's command line: the option table (common/options.h) with
 * each option's range, error text and --help lines, the parsers of its own
 * kinds (listen address, throttle schedule), then the checks across
 * options. Nothing here opens files: the TLS set-up checks them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/options.h"
#include "common/parse.h"
#include "probe_server/http.h"
#include "probe_server/server.h"

enum ps_opt {
	PS_OPT_LISTEN, PS_OPT_CERT, PS_OPT_KEY, PS_OPT_CA, PS_OPT_TLS_MIN,
	PS_OPT_TLS_MAX, PS_OPT_MAX_CONNS, PS_OPT_MAX_SIZE, PS_OPT_IO_TIMEOUT,
	PS_OPT_THROTTLE, PS_OPT_SCOPE, PS_OPT_PERIOD, PS_OPT_EPOCH,
	PS_OPT_TRUNCATE, PS_OPT_DURATION, PS_OPT_SUMMARY, PS_OPT_QUIET,
	PS_OPT_HELP,
	PS_N_OPTS,
};

static const char *const tls_names[] = { "1.2", "1.3", NULL };
static const char *const scope_names[] = {
	[XTEL_PS_SCOPE_CONNECTION] = "connection",
	[XTEL_PS_SCOPE_TOTAL] = "total",
	NULL,
};

static int parse_listen(const struct xtel_opt *o, const char *val, void *arg)
{
	struct xtel_ps_config *cfg = arg;

	if (strlen(val) >= sizeof(cfg->listen_str) ||
	    xtel_parse_addr_port(val, &cfg->listen, &cfg->listen_len))
		return xtel_bad_value(o->name, val, o->valid);
	strcpy(cfg->listen_str, val);
	return 0;
}

static int parse_throttle(const struct xtel_opt *o, const char *val, void *arg)
{
	struct xtel_ps_config *cfg = arg;

	if (xtel_probe_schedule_parse(val, &cfg->sched))
		return xtel_bad_value(o->name, val, o->valid);
	return 0;
}

void xtel_ps_cli_usage(FILE *out);

static const char *show_listen(const struct xtel_opt *o, const void *arg)
{
	return ((const struct xtel_ps_config *)arg)->listen_str;
}

#define CFG struct xtel_ps_config

static void ps_defaults(void *arg);
static int ps_check(void *arg, const unsigned int *seen);

static const struct xtel_opt ps_opt[PS_N_OPTS] = {
	[PS_OPT_LISTEN] = { .name = "listen", .metavar = "ADDR:PORT",
		.section = "service:",
		.type = XTEL_OPT_CUSTOM, .parse = parse_listen, .show = show_listen,
		.valid = "IPv4:PORT or [IPv6]:PORT with PORT 1..65535, e.g. 198.18.0.1:8443",
		.help = "where to serve HTTPS (default 127.0.0.1:8443)" },
	[PS_OPT_CERT] = { .name = "cert", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, cert), .lo = 1, .valid = "a file path",
		.help = "server certificate, PEM (certs/gen.sh: server.crt; required)" },
	[PS_OPT_KEY] = { .name = "key", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, key), .lo = 1, .valid = "a file path",
		.help = "its private key, PEM (required)" },
	[PS_OPT_CA] = { .name = "ca", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, ca), .lo = 1, .valid = "a file path",
		.help = "CA that signs the devices' client certificates;\n"
			"a client without one is refused (required)" },
	[PS_OPT_TLS_MIN] = { .name = "tls-min", .metavar = "1.2|1.3",
		XTEL_OPT_CHOICE_AT(CFG, tls_min, tls_names), .valid = "1.2 or 1.3",
		.help = "lowest TLS version accepted (default 1.2)" },
	[PS_OPT_TLS_MAX] = { .name = "tls-max", .metavar = "1.2|1.3",
		XTEL_OPT_CHOICE_AT(CFG, tls_max, tls_names), .valid = "1.2 or 1.3",
		.help = "highest TLS version offered (default 1.3)" },
	[PS_OPT_MAX_CONNS] = { .name = "max-conns", .metavar = "N",
		XTEL_OPT_UINT_AT(CFG, max_conns, 1, 20000),
		.valid = "an integer 1..20000",
		.help = "concurrent connections (one thread each), 1..20000;\n"
			"more are closed at once (default 1024)" },
	[PS_OPT_MAX_SIZE] = { .name = "max-size", .metavar = "BYTES",
		XTEL_OPT_UINT_AT(CFG, max_size, XTEL_PROBE_MIN_SIZE, XTEL_PROBE_MAX_SIZE),
		.valid = "bytes 1024..1073741824",
		.help = "largest object, 1024..1073741824 (default 1 GiB)" },
	[PS_OPT_IO_TIMEOUT] = { .name = "io-timeout", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, io_timeout_s, 0.1, 3600),
		.valid = "seconds 0.1..3600",
		.help = "a read or write that blocks this long ends the\n"
			"connection (default 30)" },

	[PS_OPT_THROTTLE] = { .name = "throttle", .metavar = "SCHEDULE",
		.section = "throttle (congestion of a known shape):",
		.type = XTEL_OPT_CUSTOM, .parse = parse_throttle,
		.valid = "MBIT, or S=MBIT,S=MBIT,... with increasing seconds from 0 and MBIT 0 (unlimited) or 0.001..100000, e.g. 0=200,20=20,40=200",
		.help = "download rate over time in Mbit/s: MBIT, or\n"
			"S=MBIT,... from second S (default 0: unlimited)" },
	[PS_OPT_SCOPE] = { .name = "throttle-scope", .metavar = "connection|total",
		XTEL_OPT_CHOICE_AT(CFG, scope, scope_names),
		.valid = "connection or total",
		.help = "each download gets the rate, or all share it\n"
			"(default connection)" },
	[PS_OPT_PERIOD] = { .name = "throttle-period", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, period_s, 0.001, 1e9),
		.check = XTEL_OPT_OR_ZERO, .valid = "seconds: 0 (no repeat) or 0.001..1e9",
		.help = "the schedule repeats every S seconds (default 0: no)" },
	[PS_OPT_EPOCH] = { .name = "throttle-epoch", .metavar = "UNIX_S",
		XTEL_OPT_DOUBLE_AT(CFG, epoch_s, 1, 1e11),
		.valid = "a unix time in seconds, e.g. 1764590400",
		.help = "wall-clock time of the schedule's second 0\n"
			"(default: when the server started)" },
	[PS_OPT_TRUNCATE] = { .name = "truncate-every", .metavar = "N",
		.section = "test faults:",
		XTEL_OPT_UINT_AT(CFG, truncate_every, 1, UINT32_MAX),
		.valid = "an integer 1..4294967295",
		.help = "cut every Nth object at half its length and close" },

	[PS_OPT_DURATION] = { .name = "duration", .metavar = "S",
		.section = "run:",
		XTEL_OPT_DOUBLE_AT(CFG, duration_s, 0.001, 1e9),
		.valid = "seconds 0.001..1e9",
		.help = "stop after S seconds (default: at SIGINT/SIGTERM)" },
	[PS_OPT_SUMMARY] = { .name = "summary-json", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, summary_json), .lo = 1,
		.valid = "a file path",
		.help = "write the counters as JSON at exit" },
	[PS_OPT_QUIET] = { .name = "quiet", XTEL_OPT_FLAG_AT(CFG, quiet),
		.help = "no summary line at exit" },
	[PS_OPT_HELP] = { .name = "help", .short_name = 'h',
		.type = XTEL_OPT_EXIT, .print = xtel_ps_cli_usage,
		.help = "this text" },
};

static const struct xtel_opts ps_opts = {
	.opt = ps_opt,
	.n = PS_N_OPTS,
	.usage =
"usage: probe-server --cert FILE --key FILE --ca FILE [options]\n"
"\n"
"Serves test objects for XTel's download probes over HTTPS (TLS 1.2/1.3,\n"
"client certificates required): GET /probe/object?size=BYTES returns BYTES\n"
"generated bytes (1 KiB..1 GiB) with Server-Timing (tls, request, ttfb in ms\n"
"as the server saw them) and X-Probe-Throttle-Mbps headers, paced by the\n"
"throttle schedule. One request per connection.\n",
	.epilogue =
"\n"
"exit codes:\n"
"  0 stopped by SIGINT/SIGTERM or --duration\n"
"  1 unexpected system error, or the summary could not be written\n"
"  2 invalid flag or flag value\n"
"  3 cannot listen on --listen (in use, address not here)\n"
"  5 certificate, key or CA missing, unreadable or not matching\n",
	.blank_before_section = true,
	.prog = "probe-server",
	.config_path = "/etc/xtel/probe-server.conf",
	.defaults = ps_defaults,
	.check = ps_check,
	.summary = "HTTPS test-object server for XTel's download probes",
	.man_section = "1",
	.man_text = ".SH SEE ALSO\n.BR probe (1),\n.BR probe\\-report (1),\n"
		"/usr/share/doc/xtel/PROBES.md\n",
};

void xtel_ps_cli_usage(FILE *out)
{
	xtel_opts_help(&ps_opts, out);
}

static void ps_defaults(void *arg)
{
	struct xtel_ps_config *cfg = arg;

	memset(cfg, 0, sizeof(*cfg));
	xtel_parse_addr_port("127.0.0.1:8443", &cfg->listen, &cfg->listen_len);
	strcpy(cfg->listen_str, "127.0.0.1:8443");
	cfg->tls_min = 0;
	cfg->tls_max = 1;
	cfg->max_conns = 1024;
	cfg->max_size = XTEL_PROBE_MAX_SIZE;
	cfg->io_timeout_s = 30;
}

/* The checks across options (also for --check-config). */
static int ps_check(void *arg, const unsigned int *seen)
{
	struct xtel_ps_config *cfg = arg;

	if (!cfg->cert || !cfg->key || !cfg->ca) {
		pr_err("--cert, --key and --ca are required (certs/gen.sh DIR makes server.crt, server.key, ca.crt; try --help)");
		return -EINVAL;
	}
	if (cfg->tls_min > cfg->tls_max) {
		pr_err("--tls-min %s is above --tls-max %s", tls_names[cfg->tls_min],
		       tls_names[cfg->tls_max]);
		return -EINVAL;
	}
	if (seen[PS_OPT_PERIOD] && !seen[PS_OPT_THROTTLE]) {
		pr_err("--throttle-period needs --throttle SCHEDULE");
		return -EINVAL;
	}
	cfg->sched.period_ns = (uint64_t)(cfg->period_s * 1e9 + 0.5);
	if (cfg->sched.period_ns && cfg->sched.n &&
	    cfg->sched.step[cfg->sched.n - 1].at_ns >= cfg->sched.period_ns) {
		pr_err("--throttle-period %g: every step of --throttle must start within the period",
		       cfg->period_s);
		return -EINVAL;
	}
	return 0;
}

int xtel_ps_cli_parse(int argc, char **argv, struct xtel_ps_config *cfg)
{
	unsigned int seen[PS_N_OPTS];
	int ret;

	ret = xtel_opts_parse(&ps_opts, argc, argv, cfg, seen);
	if (ret == XTEL_OPTS_EXIT)
		return 1;
	if (ret)
		return -EINVAL;
	return 0;
}
