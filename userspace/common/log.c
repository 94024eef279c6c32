// SPDX-License-Identifier: MIT
/*
 * The logging path declared in log.h: level filter, "PROG: " prefix, one
 * write per line, a replaceable sink, and the shared rate limiter.
 */
#include <stdio.h>

#include "common/log.h"

static const char *log_prog = "xtel";
static enum xtel_log_level log_level = XTEL_LOG_INFO;
static xtel_log_sink_fn *log_sink;
static void *log_sink_arg;

void xtel_log_setup(const char *prog, enum xtel_log_level max)
{
	if (prog != NULL)
		log_prog = prog;
	log_level = max;
}

enum xtel_log_level xtel_log_max(void)
{
	return log_level;
}

void xtel_log_set_sink(xtel_log_sink_fn *sink, void *arg)
{
	log_sink = sink;
	log_sink_arg = arg;
}

void xtel_vlog(enum xtel_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n, off;

	if (level > log_level)
		return;
	off = log_sink ? 0 : snprintf(line, sizeof(line), "%s: ", log_prog);
	n = vsnprintf(line + off, sizeof(line) - (size_t)off, fmt, ap);
	if (n < 0)
		return;
	if (log_sink) {
		log_sink(log_sink_arg, level, line);
		return;
	}
	n += off;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;	/* truncated: still one line */
	line[n] = '\n';
	line[n + 1] = '\0';
	fputs(line, stderr);
}

void xtel_log(enum xtel_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xtel_vlog(level, fmt, ap);
	va_end(ap);
}

bool xtel_ratelimit_ok(struct xtel_ratelimit *rl, uint64_t now_ns)
{
	uint64_t missed = 0;
	bool ok;

	if (__atomic_exchange_n(&rl->lock, 1, __ATOMIC_ACQUIRE))
		return false;
	if (rl->begin_ns == 0 || now_ns - rl->begin_ns >= rl->interval_ns) {
		missed = rl->missed;
		rl->missed = 0;
		rl->begin_ns = now_ns ? now_ns : 1;
		rl->printed = 0;
	}
	ok = rl->printed < rl->burst;
	if (ok)
		rl->printed++;
	else
		rl->missed++;
	__atomic_store_n(&rl->lock, 0, __ATOMIC_RELEASE);
	if (missed)
		xtel_log(XTEL_LOG_WARN, "%llu similar messages suppressed",
			 (unsigned long long)missed);
	return ok;
}
