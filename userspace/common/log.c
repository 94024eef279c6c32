// SPDX-License-Identifier: MIT
/*
 * The logging path declared in log.h: level filter, the line's format
 * (text, journal priority, JSON), one write per line, a replaceable sink,
 * and the shared rate limiter.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "common/json.h"
#include "common/log.h"

static const char *log_prog = "xtel";
static enum xtel_log_level log_level = XTEL_LOG_INFO;
static enum xtel_log_format log_format = XTEL_LOG_FMT_TEXT;
static xtel_log_sink_fn *log_sink;
static void *log_sink_arg;
static __thread const char *log_context;

static const char *const level_names[] = {
	[XTEL_LOG_ERR] = "err", [XTEL_LOG_WARN] = "warn",
	[XTEL_LOG_INFO] = "info", [XTEL_LOG_DEBUG] = "debug",
};
/* syslog priorities (sd-daemon.h's SD_ERR ... SD_DEBUG). */
static const int level_prio[] = {
	[XTEL_LOG_ERR] = 3, [XTEL_LOG_WARN] = 4,
	[XTEL_LOG_INFO] = 6, [XTEL_LOG_DEBUG] = 7,
};

/* systemd sets JOURNAL_STREAM=DEV:INODE when stdout/stderr is the journal. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(2, &st))
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void xtel_log_setup(const char *prog, enum xtel_log_level max)
{
	if (prog != NULL)
		log_prog = prog;
	log_level = max;
	xtel_log_set_format(XTEL_LOG_FMT_AUTO);
}

enum xtel_log_level xtel_log_max(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

void xtel_log_set_level(enum xtel_log_level max)
{
	__atomic_store_n(&log_level, max, __ATOMIC_RELAXED);
}

void xtel_log_set_format(enum xtel_log_format fmt)
{
	if (fmt == XTEL_LOG_FMT_AUTO)
		fmt = stderr_is_journal() ? XTEL_LOG_FMT_JOURNAL : XTEL_LOG_FMT_TEXT;
	log_format = fmt;
}

enum xtel_log_format xtel_log_format(void)
{
	return log_format;
}

void xtel_log_set_context(const char *ctx)
{
	log_context = ctx;
}

/* One JSON object on one line; the message's invalid UTF-8 replaced. */
static void write_json(enum xtel_log_level level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char when[64];
	json_t *o;
	char *s;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000) % 1000);
	o = json_object();
	if (o) {
		json_object_set_new(o, "time", json_string(when));
		json_object_set_new(o, "level", json_string(level_names[level]));
		json_object_set_new(o, "prog", xtel_json_text(log_prog));
		json_object_set_new(o, "msg", xtel_json_text(msg));
	}
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!s) {	/* out of memory: the text still goes out */
		fprintf(stderr, "%s: %s\n", log_prog, msg);
		return;
	}
	fprintf(stderr, "%s\n", s);
	free(s);
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

	if (level > xtel_log_max())
		return;
	if (log_sink || log_format == XTEL_LOG_FMT_JSON)
		off = 0;
	else if (log_format == XTEL_LOG_FMT_JOURNAL)
		off = snprintf(line, sizeof(line), "<%d>", level_prio[level]);
	else
		off = snprintf(line, sizeof(line), "%s: ", log_prog);
	if (log_context)
		off += snprintf(line + off, sizeof(line) - (size_t)off, "%s: ",
				log_context);
	if ((size_t)off >= sizeof(line))
		off = 0;
	n = vsnprintf(line + off, sizeof(line) - (size_t)off, fmt, ap);
	if (n < 0)
		return;
	if (log_sink) {
		log_sink(log_sink_arg, level, line);
		return;
	}
	if (log_format == XTEL_LOG_FMT_JSON) {
		write_json(level, line);
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
