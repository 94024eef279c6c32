// SPDX-License-Identifier: MIT
/*
 * The control thread's signalfd (signals.h): the one place that decides
 * which signals a daemon takes, and in which order it takes them over.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>

#include "common/signals.h"

int xtel_signals_block(int sfd_flags)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	/*
	 * A shell starts background jobs with SIGINT ignored. Once blocked,
	 * the signal is queued for the signalfd even so, but one that arrives
	 * before this point would be discarded and the daemon would keep
	 * running: restore the default so an early SIGINT still stops it.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &mask, sfd_flags);
	return fd < 0 ? -errno : fd;
}
