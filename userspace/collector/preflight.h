/* SPDX-License-Identifier: MIT */
/*
 * Start-up checks and the exit codes they decide. Everything checkable
 * before any thread or socket exists is checked here (interface,
 * capabilities, DTLS credentials, io_uring, port), each problem with a
 * message that says what to do and its own exit code (cli.h, documented in
 * --help and docs/COLLECTOR.md). The xtel_exit_* helpers map a failure
 * found later (binding, attaching XDP) to its message and code the same
 * way. Only main returns these codes.
 */
#ifndef XTEL_PREFLIGHT_H
#define XTEL_PREFLIGHT_H

#include "collector/cli.h"

/* Returns XTEL_EXIT_OK or the exit code, after a message. cfg->ifindex is set. */
int xtel_preflight(struct xtel_config *cfg);

/* io_uring_setup failed with rc: says why (sysctl, policy), XTEL_EXIT_URING. */
int xtel_exit_uring_unavailable(int rc);
/* Binding the port failed with rc. */
int xtel_exit_bind_error(const struct xtel_config *cfg, int rc);
/* Loading or attaching the XDP program failed with rc (the loader said why). */
int xtel_exit_xdp_error(const struct xtel_config *cfg, int rc);

/*
 * --detach IFNAME: remove a killed collector's XDP program, with the exit
 * code of what stood in the way (interface, privilege, a live collector).
 */
int xtel_detach(const struct xtel_config *cfg);

#endif /* XTEL_PREFLIGHT_H */
