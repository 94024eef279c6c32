/* SPDX-License-Identifier: MIT */
/*
 * Facts about the whole run that only main knows (how the sockets and the
 * ring came up, when and why the run stopped), for the final summary and
 * its JSON. Filled in by main; read by the renderers in out/.
 */
#ifndef XTEL_RUN_INFO_H
#define XTEL_RUN_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include "store/writer.h"

struct xtel_run_info {
	const char *ring_mode;		/* io_uring setup flags in use */
	int rcvbuf_effective;		/* bytes, as read back from the kernel */
	bool rcvbuf_forced;
	uint64_t csv_rows;		/* data rows written to --csv */
	int csv_error;			/* 0 or -errno of the CSV writer */
	uint64_t started_ns, stopped_ns;	/* CLOCK_REALTIME */
	double elapsed_s;		/* CLOCK_MONOTONIC, start to stop */
	const char *stop_reason;	/* "signal SIGTERM", "duration", ... */
	struct xtel_store_stats db;	/* --db: the writer's, after it stopped */
};

#endif /* XTEL_RUN_INFO_H */
