// SPDX-License-Identifier: MIT
/*
 * probe-report's samples from the collector's history database (--db):
 * the file opened read-only, the probe_* rows of the range read by the
 * probe library's history reader (probe/history.h), the same code the
 * API's /api/v1/probes endpoints use.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/log.h"
#include "probe_report/report.h"
#include "store/query.h"
#include "store/schema.h"

int xtel_pr_read_db(const char *path, double from, double to,
		    struct xtel_probe_samples *out)
{
	sqlite3 *db;
	int ret;

	ret = xtel_store_reader_open(path, &db);
	if (ret)
		return ret;
	ret = xtel_probe_history_read(db, (int64_t)floor(from),
				      isinf(to) ? INT64_MAX : (int64_t)ceil(to), 0, -1, out);
	sqlite3_close(db);
	if (ret)
		pr_err("--db %s: cannot read the probe history: %s", path, strerror(-ret));
	else
		pr_info("--db %s: %zu samples from %llu rows of tier %s", path, out->n,
			(unsigned long long)out->rows, xtel_tiers[out->tier].name);
	return ret;
}
