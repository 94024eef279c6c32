/* SPDX-License-Identifier: MIT */
/*
 * The signals of a daemon's control thread, read from a signalfd:
 * SIGINT and SIGTERM stop, SIGHUP reloads. They are blocked in the
 * calling thread before it starts any other, so every thread inherits
 * the mask and only the signalfd sees them; SIGPIPE is ignored (a peer
 * that went away is an error return, not the end of the process).
 */
#ifndef XTEL_SIGNALS_H
#define XTEL_SIGNALS_H

/*
 * Blocks SIGINT, SIGTERM and SIGHUP, ignores SIGPIPE and returns a
 * signalfd for the three (sfd_flags: SFD_CLOEXEC, SFD_NONBLOCK), or
 * -errno (errno set too).
 */
int xtel_signals_block(int sfd_flags);

#endif /* XTEL_SIGNALS_H */
