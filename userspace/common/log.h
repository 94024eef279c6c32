/* SPDX-License-Identifier: MIT */
/*
 * The one logging path of every XTel program (the idea of xdp-tools'
 * pr_warn/pr_info/pr_debug and the kernel's ratelimited printk). A message
 * is one line, "PROG: text", written by one fputs so lines of different
 * threads never interleave. Libraries log through here too and never print
 * on their own; a message a user can act on says what to do.
 *
 * Levels below the configured one are dropped cheaply. The sink can be
 * replaced (tests capture messages). The line's format is plain text on
 * stderr, "<N>text" when stderr is the systemd journal (JOURNAL_STREAM
 * names it: journald reads the priority N and adds the program's name), or
 * one JSON object per line for log shippers (--log-format json).
 * Messages from the receive path go through a rate limit, so a flood of bad
 * datagrams cannot turn into a flood of lines: see xtel_ratelimit below.
 */
#ifndef XTEL_LOG_H
#define XTEL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum xtel_log_level {
	XTEL_LOG_ERR = 0,	/* the program cannot do what was asked */
	XTEL_LOG_WARN,		/* it goes on, but something is off */
	XTEL_LOG_INFO,		/* what it is doing (default level) */
	XTEL_LOG_DEBUG,
};

enum xtel_log_format {
	XTEL_LOG_FMT_AUTO = 0,	/* JOURNAL when stderr is the journal, else TEXT */
	XTEL_LOG_FMT_TEXT,	/* "PROG: text" */
	XTEL_LOG_FMT_JOURNAL,	/* "<3>text": syslog priority, no name */
	XTEL_LOG_FMT_JSON,	/* {"time":..,"level":..,"prog":..,"msg":..} */
};

/* Receives each message that passed the level, without prefix or newline. */
typedef void xtel_log_sink_fn(void *arg, enum xtel_log_level level,
			      const char *msg);

/*
 * prog is the prefix of every line ("collector", "loadgen"); it must stay
 * valid. Call once at start, before any thread is created.
 */
void xtel_log_setup(const char *prog, enum xtel_log_level max);
enum xtel_log_level xtel_log_max(void);
/* Changes the level at run time (SIGHUP); safe while threads log. */
void xtel_log_set_level(enum xtel_log_level max);
/* Call before threads exist; AUTO probes JOURNAL_STREAM again. */
void xtel_log_set_format(enum xtel_log_format fmt);
enum xtel_log_format xtel_log_format(void);
/*
 * A prefix for this thread's messages ("collector.conf:12: port"), NULL
 * to end it: the config loader names the file, line and key this way.
 * ctx must stay valid until it is replaced.
 */
void xtel_log_set_context(const char *ctx);
/* sink NULL restores stderr. */
void xtel_log_set_sink(xtel_log_sink_fn *sink, void *arg);

void xtel_vlog(enum xtel_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void xtel_log(enum xtel_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)	xtel_log(XTEL_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	xtel_log(XTEL_LOG_WARN, __VA_ARGS__)
#define pr_info(...)	xtel_log(XTEL_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	xtel_log(XTEL_LOG_DEBUG, __VA_ARGS__)

/*
 * At most burst messages per interval_ns; the first message of a later
 * interval is preceded by "N similar messages suppressed". The caller passes
 * now (monotonic ns, or a test's fake clock). Threads may share one limit:
 * a contended check counts as suppressed rather than waiting.
 */
struct xtel_ratelimit {
	uint64_t interval_ns;
	uint32_t burst;
	uint32_t lock;		/* 0 free, 1 held (test-and-set) */
	uint64_t begin_ns;	/* start of the current interval, 0: none yet */
	uint32_t printed;	/* in the current interval */
	uint64_t missed;	/* suppressed since the last report */
};

#define XTEL_RATELIMIT_INIT(interval, n) \
	{ .interval_ns = (interval), .burst = (n) }

/* True when the caller may log now. */
bool xtel_ratelimit_ok(struct xtel_ratelimit *rl, uint64_t now_ns);

/* One limit per call site: 10 lines a second. */
#define xtel_log_ratelimited(level, now_ns, ...)				\
	do {								\
		static struct xtel_ratelimit rl_ =			\
			XTEL_RATELIMIT_INIT(1000000000ull, 10);		\
		if ((level) <= xtel_log_max() &&			\
		    xtel_ratelimit_ok(&rl_, (now_ns)))			\
			xtel_log((level), __VA_ARGS__);			\
	} while (0)

#ifdef __cplusplus
}
#endif

#endif /* XTEL_LOG_H */
