// SPDX-License-Identifier: MIT
/*
 * probe-report's samples from the collector's history database: until
 * the storage lands on this branch, a clear refusal.
 */
#include <errno.h>

#include "common/log.h"
#include "probe_report/report.h"

int xtel_pr_read_db(const char *path, double from, double to,
		    struct xtel_pr_samples *out)
{
	(void)from;
	(void)to;
	(void)out;
	pr_err("--db %s: this build has no history storage; use --log", path);
	return -ENOTSUP;
}
