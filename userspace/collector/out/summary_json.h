/* SPDX-License-Identifier: MIT */
/*
 * The --summary-json file: the final view with the configuration and the
 * run's facts, every client with all its counters, latency percentiles
 * and whole-run metrics. docs/COLLECTOR.md documents every field.
 */
#ifndef XTEL_OUT_SUMMARY_JSON_H
#define XTEL_OUT_SUMMARY_JSON_H

#include <stdio.h>

#include "collector/cli.h"
#include "collector/run_info.h"
#include "collector/view.h"

/* Returns 0, or -ENOMEM / -EIO. */
int xtel_summary_json_write(FILE *f, const struct xtel_view *v,
			    const struct xtel_config *cfg,
			    const struct xtel_run_info *info);

#endif /* XTEL_OUT_SUMMARY_JSON_H */
