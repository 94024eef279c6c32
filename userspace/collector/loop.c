// SPDX-License-Identifier: MIT
/*
 * The event loop of loop.h: poll(2) over a small fixed table of file
 * events, and a small table of timers scanned for the earliest deadline.
 * The control plane has a handful of each, so tables beat heaps here.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/clock.h"
#include "collector/loop.h"

struct loop_fd {
	int fd;
	xtel_loop_fd_fn *fn;
	void *arg;
};

struct loop_timer {
	int id;			/* 0: free slot */
	uint64_t at_ns;
	uint64_t order;		/* insertion order, for ties */
	xtel_loop_timer_fn *fn;
	void *arg;
};

struct xtel_loop {
	struct loop_fd fds[XTEL_LOOP_MAX_FDS];
	unsigned int n_fds;
	struct loop_timer timers[XTEL_LOOP_MAX_TIMERS];
	int next_id;
	uint64_t next_order;
	bool stop;
};

int xtel_loop_new(struct xtel_loop **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void xtel_loop_free(struct xtel_loop *l)
{
	free(l);
}

int xtel_loop_add_fd(struct xtel_loop *l, int fd, xtel_loop_fd_fn *fn,
		     void *arg)
{
	if (l->n_fds == XTEL_LOOP_MAX_FDS)
		return -ENOSPC;
	l->fds[l->n_fds++] = (struct loop_fd){ .fd = fd, .fn = fn, .arg = arg };
	return 0;
}

void xtel_loop_del_fd(struct xtel_loop *l, int fd)
{
	for (unsigned int i = 0; i < l->n_fds; i++) {
		if (l->fds[i].fd != fd)
			continue;
		l->fds[i] = l->fds[--l->n_fds];
		return;
	}
}

int xtel_loop_add_timer(struct xtel_loop *l, uint64_t at_ns,
			xtel_loop_timer_fn *fn, void *arg)
{
	for (unsigned int i = 0; i < XTEL_LOOP_MAX_TIMERS; i++) {
		struct loop_timer *t = &l->timers[i];

		if (t->id)
			continue;
		*t = (struct loop_timer){
			.id = ++l->next_id, .at_ns = at_ns,
			.order = l->next_order++, .fn = fn, .arg = arg,
		};
		return t->id;
	}
	return -ENOSPC;
}

void xtel_loop_del_timer(struct xtel_loop *l, int id)
{
	for (unsigned int i = 0; i < XTEL_LOOP_MAX_TIMERS; i++)
		if (l->timers[i].id == id)
			l->timers[i].id = 0;
}

void xtel_loop_stop(struct xtel_loop *l)
{
	l->stop = true;
}

/* The timer due first (ties: added first), or NULL without timers. */
static struct loop_timer *earliest(struct xtel_loop *l)
{
	struct loop_timer *best = NULL;

	for (unsigned int i = 0; i < XTEL_LOOP_MAX_TIMERS; i++) {
		struct loop_timer *t = &l->timers[i];

		if (t->id && (!best || t->at_ns < best->at_ns ||
			      (t->at_ns == best->at_ns && t->order < best->order)))
			best = t;
	}
	return best;
}

static int poll_timeout_ms(struct xtel_loop *l)
{
	struct loop_timer *t = earliest(l);
	uint64_t now;

	if (!t)
		return -1;
	now = xtel_mono_ns();
	/* Round up: waking a little late is fine, spinning early is not. */
	return t->at_ns > now ? (int)((t->at_ns - now + 999999) / 1000000) : 0;
}

/* Run every timer due now, in order; stop early when asked. */
static void run_timers(struct xtel_loop *l)
{
	uint64_t now = xtel_mono_ns();
	struct loop_timer *t;

	while (!l->stop && (t = earliest(l)) != NULL && t->at_ns <= now) {
		int id = t->id;
		uint64_t next = t->fn(l, now, t->arg);

		/* The callback may have deleted or re-added timers. */
		if (t->id != id)
			continue;
		if (next) {
			t->at_ns = next;
			t->order = l->next_order++;
		} else {
			t->id = 0;
		}
	}
}

int xtel_loop_run(struct xtel_loop *l)
{
	struct pollfd pfd[XTEL_LOOP_MAX_FDS];

	l->stop = false;
	while (!l->stop) {
		unsigned int n = l->n_fds;

		for (unsigned int i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = l->fds[i].fd,
						  .events = POLLIN };
		if (poll(pfd, n, poll_timeout_ms(l)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (unsigned int i = 0; i < n && !l->stop; i++)
			if (pfd[i].revents && i < l->n_fds &&
			    l->fds[i].fd == pfd[i].fd)
				l->fds[i].fn(l, pfd[i].fd, l->fds[i].arg);
		run_timers(l);
	}
	return 0;
}
