/* SPDX-License-Identifier: MIT */
/*
 * The control-plane event loop (in the manner of redis's ae.c): file
 * events and timers registered by the components that run on the main
 * thread (signals, the worker-error eventfd, the interval tick, the
 * --duration deadline; later the storage writer's wake-ups, exporters,
 * reloads). One thread, callbacks run to completion, nothing here ever
 * touches the receive workers, which never wait on this loop.
 *
 * Timers fire in deadline order; timers due at the same time fire in the
 * order they were added. After any callback that called xtel_loop_stop(),
 * xtel_loop_run() returns without running further callbacks.
 */
#ifndef XTEL_LOOP_H
#define XTEL_LOOP_H

#include <stdint.h>

struct xtel_loop;

/* fd is readable (or has an error: read it to find out). */
typedef void xtel_loop_fd_fn(struct xtel_loop *l, int fd, void *arg);

/*
 * A timer is due at now_ns (CLOCK_MONOTONIC). Returns its next deadline,
 * or 0 to remove it.
 */
typedef uint64_t xtel_loop_timer_fn(struct xtel_loop *l, uint64_t now_ns,
				    void *arg);

enum { XTEL_LOOP_MAX_FDS = 16, XTEL_LOOP_MAX_TIMERS = 16 };

int xtel_loop_new(struct xtel_loop **out);
void xtel_loop_free(struct xtel_loop *l);

/* Returns 0, or -ENOSPC when XTEL_LOOP_MAX_FDS are registered. */
int xtel_loop_add_fd(struct xtel_loop *l, int fd, xtel_loop_fd_fn *fn,
		     void *arg);
void xtel_loop_del_fd(struct xtel_loop *l, int fd);

/* First deadline at_ns (CLOCK_MONOTONIC). Returns an id > 0, or -ENOSPC. */
int xtel_loop_add_timer(struct xtel_loop *l, uint64_t at_ns,
			xtel_loop_timer_fn *fn, void *arg);
void xtel_loop_del_timer(struct xtel_loop *l, int id);

/* Make xtel_loop_run() return once the running callback is done. */
void xtel_loop_stop(struct xtel_loop *l);

/* Runs until stopped (returns 0) or poll fails (returns -errno). */
int xtel_loop_run(struct xtel_loop *l);

#endif /* XTEL_LOOP_H */
