/* SPDX-License-Identifier: MIT */
/*
 * The receive workers' UDP sockets: the port probe done at start-up and
 * one bound socket per worker.
 */
#ifndef XTEL_RX_SOCKET_H
#define XTEL_RX_SOCKET_H

#include <stdbool.h>

#include "collector/cli.h"

/*
 * Check that cfg's address and port are free (a bind without SO_REUSEPORT,
 * so another collector sharing the port is caught too). Returns 0,
 * -EADDRINUSE, or another -errno from socket/bind.
 */
int xtel_rx_port_probe(const struct xtel_config *cfg);

/*
 * Open and bind one worker socket: SO_REUSEPORT, dual-stack when bound to
 * an IPv6 address, SO_TIMESTAMPNS, SO_RXQ_OVFL, the receive buffer from
 * cfg->rcvbuf. *rcvbuf_eff gets the size the kernel reports back; *forced
 * tells whether SO_RCVBUFFORCE worked (false: capped by rmem_max).
 * Returns the fd or -errno.
 */
int xtel_rx_socket_open(const struct xtel_config *cfg, int *rcvbuf_eff,
			bool *forced);

#endif /* XTEL_RX_SOCKET_H */
