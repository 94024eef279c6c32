// SPDX-License-Identifier: MIT
/*
 * Run-wide error reporting: the first fatal error of a run decides the exit
 * code and the message in the reports; it also raises the stop flag so
 * every thread winds down (sending BYE where that still makes sense).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>

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

int xtel_lg_raise_fd_limit(uint32_t need, const char *flag, const char *noun)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= need)
		return 0;
	/*
	 * Root (CAP_SYS_RESOURCE) may raise the hard limit too, up to
	 * fs.nr_open: since a DTLS client keeps only its keys after the
	 * handshake, sockets, not memory, bound the clients of one process.
	 */
	if (rl.rlim_max < need) {
		struct rlimit hi = { .rlim_cur = need, .rlim_max = need };

		if (setrlimit(RLIMIT_NOFILE, &hi) == 0)
			return 0;
	}
	if (rl.rlim_max < need) {
		pr_err("%s needs %u file descriptors but the hard limit is %llu: raise it (ulimit -Hn) or use fewer %s",
			flag, need, (unsigned long long)rl.rlim_max, noun);
		return -EMFILE;
	}
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}
