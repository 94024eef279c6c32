// SPDX-License-Identifier: MIT
/*
 * Run-wide error reporting: the first fatal error of a run decides the exit
 * code and the message in the reports; it also raises the stop flag so
 * every thread winds down (sending BYE where that still makes sense).
 */
#include <stdarg.h>
#include <stdio.h>

#include "common/log.h"
#include "run.h"

void xtel_lg_run_fail(struct xtel_lg_run *run, int code, const char *fmt, ...)
{
	int expected = 0;
	va_list ap;

	if (atomic_compare_exchange_strong(&run->fatal, &expected, code)) {
		va_start(ap, fmt);
		vsnprintf(run->fatal_msg, sizeof(run->fatal_msg), fmt, ap);
		va_end(ap);
		pr_err("%s", run->fatal_msg);
	}
	atomic_store(&run->stop, 1);
}
