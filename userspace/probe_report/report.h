/* SPDX-License-Identifier: MIT */
/*
 * probe-report: the congestion analysis of probe results as a markdown
 * report with PNG graphs (gnuplot) and, for scripts and tests, the
 * analysis JSON the API serves. Its samples come from the probe's --log
 * (one download per line) or from the collector's history database
 * (--db: the probe_* metrics of every client, 10 s buckets or coarser).
 * One file per concern: main.c (options, run), source_log.c, source_db.c,
 * render.c (markdown), plots.c (gnuplot).
 */
#ifndef XTEL_PROBE_REPORT_H
#define XTEL_PROBE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probe/analysis.h"
#include "probe/history.h"

/* Reads a probe --log; samples outside [from, to) s are left out. */
int xtel_pr_read_log(const char *path, double from, double to,
		     struct xtel_probe_samples *out);

/* Reads the probe_* metrics of the history database at path. */
int xtel_pr_read_db(const char *path, double from, double to,
		    struct xtel_probe_samples *out);

struct xtel_pr_plot {
	const char *file;	/* "probe-speed.png", relative to the out dir */
	const char *title;
};

enum { XTEL_PR_MAX_PLOTS = 8 };

/*
 * Writes the graphs' data and gnuplot scripts into dir and runs gnuplot;
 * fills plots (made ones only). Without gnuplot: a warning, no plots.
 * Returns the number made, or -errno.
 */
int xtel_pr_plots(const char *dir, const struct xtel_probe_analysis *fleet,
		  const struct xtel_probe_samples *v, struct xtel_pr_plot *plots);

/* The markdown report. */
void xtel_pr_markdown(FILE *f, const char *title, const char *source,
		      const struct xtel_probe_analysis *fleet,
		      struct xtel_probe_samples *v,
		      const struct xtel_probe_analysis_cfg *cfg,
		      const struct xtel_pr_plot *plots, int n_plots);

#endif /* XTEL_PROBE_REPORT_H */
