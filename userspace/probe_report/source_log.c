// SPDX-License-Identifier: MIT
/*
 * probe-report's samples from a probe --log: one JSON object per line
 * (probe/sample.h's codec). A line that is not a probe result (cut short
 * by a killed probe, written by something else) is counted and skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "probe_report/report.h"

int xtel_pr_read_log(const char *path, double from, double to,
		     struct xtel_probe_samples *out)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	if (!f) {
		ret = -errno;
		pr_err("--log %s: cannot open it: %s", path, strerror(errno));
		return ret;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		struct xtel_probe_sample s;
		json_t *o = json_loadb(line, (size_t)len, 0, NULL);
		double t;

		if (!o || xtel_probe_sample_from_json(o, &s)) {
			out->skipped++;
			json_decref(o);
			continue;
		}
		json_decref(o);
		t = (double)s.ts_ns / 1e9;
		if (t < from || t >= to)
			continue;
		ret = xtel_probe_samples_push(out, &s);
		if (ret)
			break;
	}
	free(line);
	fclose(f);
	return ret;
}
