// SPDX-License-Identifier: MIT
/*
 * probe-report: the congestion-pattern report of probe results.
 *
 * usage: probe-report (--log FILE | --db FILE) [--out DIR] [--json FILE]
 *                     [--from TIME] [--to TIME] [--device ID] ... (--help)
 *
 * main() reads the samples, runs the analysis once for the fleet (or the
 * one --device), writes DIR/report.md with the PNG graphs beside it and
 * the analysis JSON, and decides the exit code.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/json.h"
#include "common/log.h"
#include "common/options.h"
#include "common/parse.h"
#include "probe_report/report.h"

enum {
	PR_EXIT_OK = 0,
	PR_EXIT_RUNTIME = 1,	/* cannot write the report */
	PR_EXIT_USAGE = 2,
	PR_EXIT_INPUT = 3,	/* the log or database cannot be read */
	PR_EXIT_EMPTY = 4,	/* no probe sample in the range */
};

struct pr_config {
	const char *log, *db, *out, *json, *title;
	double from, to;
	uint32_t device;
	struct xtel_probe_analysis_cfg a;
	int tz;
	bool no_graphs;
};

enum pr_opt {
	PR_OPT_LOG, PR_OPT_DB, PR_OPT_FROM, PR_OPT_TO, PR_OPT_DEVICE,
	PR_OPT_OUT, PR_OPT_JSON, PR_OPT_TITLE, PR_OPT_FRAC, PR_OPT_MIN_EP,
	PR_OPT_WINDOW, PR_OPT_TZ, PR_OPT_NO_GRAPHS, PR_OPT_HELP,
	PR_N_OPTS,
};

static void usage(FILE *out);

#define TIME_VALID "unix seconds 0..1e11 or an RFC 3339 time, e.g. " \
		   "2026-12-01T12:00:00Z"

/* --from, --to: Unix seconds (fractions too) or RFC 3339 (the API's from/to). */
static int parse_time(const struct xtel_opt *o, const char *val, void *cfg)
{
	double *out = (double *)((char *)cfg + o->offset);
	int64_t sec;
	uint32_t ns;
	double t;

	if (!xtel_parse_double(val, 0, 1e11, out))
		return 0;
	if (xtel_parse_rfc3339(val, &sec, &ns))
		return xtel_bad_value(o->name, val, o->valid);
	t = (double)sec + ns / 1e9;
	if (t < 0 || t > 1e11)
		return xtel_bad_value(o->name, val, o->valid);
	*out = t;
	return 0;
}

static int parse_tz(const struct xtel_opt *o, const char *val, void *arg)
{
	struct pr_config *cfg = arg;
	char *end;
	long v = strtol(val, &end, 10);

	if (!*val || *end || v < -1440 || v > 1440)
		return xtel_bad_value(o->name, val, o->valid);
	cfg->tz = (int)v;
	return 0;
}

#define CFG struct pr_config

static const struct xtel_opt pr_opt[PR_N_OPTS] = {
	[PR_OPT_LOG] = { .name = "log", .metavar = "FILE", .section = "input:",
		XTEL_OPT_STRING_AT(CFG, log), .lo = 1, .valid = "a file path",
		.help = "a probe --log (JSON lines, one download each)" },
	[PR_OPT_DB] = { .name = "db", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, db), .lo = 1, .valid = "a file path",
		.help = "the collector's history database (--db):\n"
			"probe_* metrics of every client" },
	[PR_OPT_FROM] = { .name = "from", .metavar = "TIME",
		.type = XTEL_OPT_CUSTOM, XTEL_OPT_AT(CFG, from), .parse = parse_time,
		.valid = TIME_VALID,
		.help = "first second analysed (default: all): Unix\n"
			"seconds or RFC 3339 (2026-12-01T12:00:00Z)" },
	[PR_OPT_TO] = { .name = "to", .metavar = "TIME",
		.type = XTEL_OPT_CUSTOM, XTEL_OPT_AT(CFG, to), .parse = parse_time,
		.valid = TIME_VALID,
		.help = "end, exclusive (default: all), as --from" },
	[PR_OPT_DEVICE] = { .name = "device", .metavar = "ID",
		XTEL_OPT_UINT_AT(CFG, device, 1, UINT32_MAX),
		.valid = "a client id 1..4294967295",
		.help = "one device only (default: the fleet)" },
	[PR_OPT_OUT] = { .name = "out", .metavar = "DIR", .section = "output:",
		XTEL_OPT_STRING_AT(CFG, out), .lo = 1, .valid = "a directory path",
		.help = "write DIR/report.md and its probe-*.png graphs" },
	[PR_OPT_JSON] = { .name = "json", .metavar = "FILE",
		XTEL_OPT_STRING_AT(CFG, json), .lo = 1, .valid = "a file path",
		.help = "write the analysis as JSON (as /api/v1/probes serves it)" },
	[PR_OPT_TITLE] = { .name = "title", .metavar = "TEXT",
		XTEL_OPT_STRING_AT(CFG, title), .lo = 1, .hi = 200,
		.valid = "1..200 characters",
		.help = "the report's heading (default 'Probe report')" },
	[PR_OPT_NO_GRAPHS] = { .name = "no-graphs", XTEL_OPT_FLAG_AT(CFG, no_graphs),
		.help = "markdown only, no gnuplot" },
	[PR_OPT_FRAC] = { .name = "congested-frac", .metavar = "F",
		.section = "analysis (docs/PROBES.md):",
		XTEL_OPT_DOUBLE_AT(CFG, a.congested_frac, 0.01, 1),
		.valid = "a fraction 0.01..1",
		.help = "congested below F x the device's baseline (0.5)" },
	[PR_OPT_MIN_EP] = { .name = "min-episode", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, a.min_episode_s, 0, 1e7),
		.valid = "seconds 0..1e7",
		.help = "shorter congestion episodes are left out (0)" },
	[PR_OPT_WINDOW] = { .name = "window", .metavar = "S",
		XTEL_OPT_DOUBLE_AT(CFG, a.window_s, 1, 1e7),
		.valid = "seconds 1..1e7",
		.help = "width of the worst windows (3600)" },
	[PR_OPT_TZ] = { .name = "tz-offset", .metavar = "MIN",
		.type = XTEL_OPT_CUSTOM, .parse = parse_tz,
		.valid = "minutes east of UTC, -1440..1440",
		.help = "hours of day in UTC + MIN minutes (0)" },
	[PR_OPT_HELP] = { .name = "help", .short_name = 'h',
		.type = XTEL_OPT_EXIT, .print = usage,
		.help = "this text" },
};

static void pr_defaults(void *cfg);
static int pr_check(void *cfg, const unsigned int *seen);

static const struct xtel_opts pr_opts = {
	.opt = pr_opt,
	.n = PR_N_OPTS,
	.usage =
"usage: probe-report (--log FILE | --db FILE) [--out DIR] [--json FILE] [options]\n"
"\n"
"The congestion-pattern report of XTel's download probes: per device and\n"
"fleet downloads, speed and response-time statistics, the busiest hour (and\n"
"day), the hour-of-day profile, trend, worst windows and congestion episodes;\n"
"markdown with gnuplot graphs, and the analysis as JSON.\n",
	.epilogue =
"\n"
"exit codes:\n"
"  0 report written\n"
"  1 cannot write the report, the graphs or the JSON\n"
"  2 invalid flag or flag value\n"
"  3 the log or database cannot be read\n"
"  4 no probe sample in the range\n",
	.blank_before_section = true,
	.prog = "probe-report",
	.defaults = pr_defaults,
	.check = pr_check,
	.summary = "the congestion-pattern report of XTel's download probes",
	.man_section = "1",
	.man_text =
".SH SEE ALSO\n"
".BR probe (1),\n"
".BR probe\\-server (1),\n"
".BR collector (8),\n"
"/usr/share/doc/xtel/PROBES.md\n",
};

static void usage(FILE *out)
{
	xtel_opts_help(&pr_opts, out);
}

static void pr_defaults(void *arg)
{
	struct pr_config *cfg = arg;

	memset(cfg, 0, sizeof(*cfg));
	xtel_probe_analysis_cfg_default(&cfg->a);
}

static int pr_check(void *arg, const unsigned int *seen)
{
	struct pr_config *cfg = arg;

	(void)seen;
	if (!cfg->log == !cfg->db) {
		pr_err("give one of --log FILE and --db FILE (try --help)");
		return -EINVAL;
	}
	if (!cfg->out && !cfg->json) {
		pr_err("nothing to write: give --out DIR and/or --json FILE");
		return -EINVAL;
	}
	if (cfg->to > 0 && cfg->to <= cfg->from) {
		pr_err("--to must be after --from");
		return -EINVAL;
	}
	cfg->a.tz_offset_min = cfg->tz;
	return 0;
}

static int read_samples(const struct pr_config *cfg, struct xtel_probe_samples *v)
{
	double to = cfg->to > 0 ? cfg->to : INFINITY;

	if (cfg->log)
		return xtel_pr_read_log(cfg->log, cfg->from, to, v);
	return xtel_pr_read_db(cfg->db, cfg->from, to, v);
}

static int write_json(const char *path, const struct xtel_probe_analysis *a)
{
	json_t *o = xtel_probe_analysis_json(a);
	int ret;

	if (!o)
		return -ENOMEM;
	ret = xtel_json_write_report_file(path, o);
	json_decref(o);
	return ret;
}

static int write_report(const struct pr_config *cfg, const struct xtel_probe_analysis *a,
			struct xtel_probe_samples *v)
{
	struct xtel_pr_plot plots[XTEL_PR_MAX_PLOTS];
	char path[4200];
	int n_plots = 0;
	FILE *f;

	if (mkdir(cfg->out, 0755) && errno != EEXIST) {
		pr_err("--out %s: cannot create it: %s", cfg->out, strerror(errno));
		return -errno;
	}
	if (!cfg->no_graphs) {
		n_plots = xtel_pr_plots(cfg->out, a, v, plots);
		if (n_plots < 0)
			return n_plots;
	}
	snprintf(path, sizeof(path), "%s/report.md", cfg->out);
	f = fopen(path, "w");
	if (!f) {
		pr_err("cannot write '%s': %s", path, strerror(errno));
		return -errno;
	}
	xtel_pr_markdown(f, cfg->title ? cfg->title : "Probe report",
			 cfg->log ? cfg->log : cfg->db, a, v, &a->cfg, plots, n_plots);
	return fclose(f) ? -EIO : 0;
}

int main(int argc, char **argv)
{
	struct xtel_probe_samples v = { 0 };
	struct xtel_probe_analysis a;
	unsigned int seen[PR_N_OPTS];
	struct pr_config cfg;
	int ret, code = PR_EXIT_OK;

	xtel_log_setup("probe-report", XTEL_LOG_INFO);
	ret = xtel_opts_parse(&pr_opts, argc, argv, &cfg, seen);
	if (ret == XTEL_OPTS_EXIT)
		return PR_EXIT_OK;
	if (ret)
		return PR_EXIT_USAGE;
	if (read_samples(&cfg, &v)) {
		code = PR_EXIT_INPUT;
		goto out;
	}
	if (xtel_probe_analyze(v.s, v.n, cfg.device, &cfg.a, &a)) {
		pr_err("out of memory for %zu samples", v.n);
		code = PR_EXIT_RUNTIME;
		goto out;
	}
	if (!a.summary.downloads) {
		pr_err("no probe sample%s in the range%s", cfg.device ? " of that device" : "",
		       v.skipped ? " (some lines were no probe result)" : "");
		code = PR_EXIT_EMPTY;
		goto out_a;
	}
	if (cfg.json && (ret = write_json(cfg.json, &a))) {
		pr_err("--json %s: cannot write it: %s", cfg.json, strerror(-ret));
		code = PR_EXIT_RUNTIME;
	}
	if (cfg.device) {
		/* The graphs and tables show only that device. */
		size_t m = 0;

		for (size_t i = 0; i < v.n; i++)
			if (v.s[i].device == cfg.device)
				v.s[m++] = v.s[i];
		v.n = m;
	}
	if (cfg.out && write_report(&cfg, &a, &v))
		code = PR_EXIT_RUNTIME;
out_a:
	xtel_probe_analysis_free(&a);
out:
	free(v.s);
	return code;
}
