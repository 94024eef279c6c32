/* SPDX-License-Identifier: MIT */
/*
 * Reports of the collector: the periodic table (top clients by traffic over
 * the last interval, totals, drops by reason), the final summary on stdout
 * and the --summary-json file. Runs on the reporter (main) thread only and
 * reads the workers through xtel_snapshot_take() and relaxed counter loads,
 * so it never stops or slows the receive path. docs/COLLECTOR.md documents
 * every column and JSON field.
 */
#ifndef XTEL_REPORT_H
#define XTEL_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "collector/cli.h"
#include "collector/counters.h"
#include "acct/registry.h"
#include "acct/snapshot.h"

/* Sums the workers' counters (with the kernel's drop counts folded in). */
typedef void (*xtel_report_counters_fn)(void *arg,
					struct xtel_worker_counters *out);

/* Facts about the run that only main knows, for the summary JSON. */
struct xtel_run_info {
	const char *ring_mode;		/* io_uring setup flags in use */
	int rcvbuf_effective;		/* bytes, as read back from the kernel */
	bool rcvbuf_forced;
	uint64_t csv_rows;		/* data rows written to --csv */
	int csv_error;			/* 0 or -errno of the CSV writer */
	uint64_t started_ns, stopped_ns;	/* CLOCK_REALTIME */
	double elapsed_s;		/* CLOCK_MONOTONIC, start to stop */
	const char *stop_reason;	/* "signal SIGTERM", "duration", ... */
};

struct xtel_reporter;

/*
 * The XDP program's view, supplied by main (which owns the loader): line()
 * prints the "  xdp: ..." line(s) of the interval table and the summary;
 * json() writes members of the summary object, starting with "xdp": {...}
 * and without a trailing comma, returning 0 (or -errno before writing
 * anything). Without them the table has no XDP line and "xdp" is false.
 */
struct xtel_report_xdp {
	void (*line)(void *arg, FILE *f);
	int (*json)(void *arg, FILE *f);
	void *arg;
};

int xtel_reporter_new(const struct xtel_config *cfg,
		      struct xtel_registry *const *regs, unsigned int n,
		      xtel_report_counters_fn counters, void *counters_arg,
		      struct xtel_reporter **out);
void xtel_reporter_free(struct xtel_reporter *r);

void xtel_reporter_set_xdp(struct xtel_reporter *r,
			   const struct xtel_report_xdp *xdp);

/*
 * One interval boundary: advance the metric interval, take a snapshot,
 * print the table unless --quiet. Returns 0 or -errno.
 */
int xtel_report_interval(struct xtel_reporter *r, uint64_t now_ns,
			 double elapsed_s);

/*
 * After the workers stopped: final snapshot (pending gaps become lost),
 * summary on stdout, and the JSON to json (may be NULL). Returns 0 or
 * -errno (a failed JSON write).
 */
int xtel_report_final(struct xtel_reporter *r, uint64_t now_ns,
		      const struct xtel_run_info *info, FILE *json);

#endif /* XTEL_REPORT_H */
