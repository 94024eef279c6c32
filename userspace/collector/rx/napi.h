/* SPDX-License-Identifier: MIT */
/*
 * io_uring NAPI busy polling for a receive worker's ring (kernel 6.9+,
 * IORING_REGISTER_NAPI). liburing 2.3 has no helper and its headers no
 * struct for it, so the register call and its argument are defined here.
 * While the worker waits for completions, the kernel then polls the NAPI
 * instances of the sockets the ring watches for up to the given time
 * instead of sleeping until their softirq runs (docs/CAPACITY.md,
 * "Receive-path options", says what that moved and cost on veth).
 */
#ifndef XTEL_RX_NAPI_H
#define XTEL_RX_NAPI_H

#include <stdbool.h>

/*
 * Register busy polling of busy_us microseconds (prefer: also ask the
 * kernel to leave the NAPI to the busy poller rather than its softirq) on
 * the ring ring_fd. Returns 0 or -errno (-EINVAL: kernel older than 6.9
 * or built without CONFIG_NET_RX_BUSY_POLL).
 */
int xtel_rx_napi_register(int ring_fd, unsigned int busy_us, bool prefer);

#endif /* XTEL_RX_NAPI_H */
