/* SPDX-License-Identifier: MIT */
/*
 * loadgen output: the once-a-second progress line on stderr, the final
 * human-readable report on stdout and the JSON report (docs/LOADGEN.md
 * documents every field). The final figures are summed from the per-client
 * records after the sender threads have been joined.
 */
#ifndef XTEL_LG_REPORT_H
#define XTEL_LG_REPORT_H

#include <stdio.h>

#include "run.h"

/* Progress state kept by main between two lines. */
struct xtel_lg_progress {
	uint64_t last_ns;
	uint64_t last_slots;
	uint64_t last_sent;
	uint64_t last_flood;
};

void xtel_lg_progress_line(struct xtel_lg_run *run, struct xtel_lg_progress *p,
			   uint64_t now_ns);

void xtel_lg_report_text(struct xtel_lg_run *run, int exit_code, FILE *out);

/* Write and close f. Returns 0 or -errno (the file could not be written). */
int xtel_lg_report_json(struct xtel_lg_run *run, int exit_code, FILE *f);

#endif /* XTEL_LG_REPORT_H */
