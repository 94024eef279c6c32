/* SPDX-License-Identifier: MIT */
/*
 * The terminal reports: the interval table (the busiest clients over the
 * last interval, totals, drops by reason, XDP counters) and the final
 * summary. They render a view and compute nothing themselves;
 * docs/COLLECTOR.md documents every column.
 */
#ifndef XTEL_OUT_TABLE_H
#define XTEL_OUT_TABLE_H

#include <stdio.h>

#include "collector/run_info.h"
#include "collector/view.h"

/* One interval: header line, the top busiest clients, total, drops, XDP. */
void xtel_table_interval(FILE *f, const struct xtel_view *v, unsigned int top);

/* The final summary of a final view. */
void xtel_table_summary(FILE *f, const struct xtel_view *v,
			const struct xtel_run_info *info);

#endif /* XTEL_OUT_TABLE_H */
