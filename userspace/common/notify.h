/* SPDX-License-Identifier: MIT */
/*
 * The service manager's notifications (sd_notify(3)) for a Type=notify
 * unit: READY once the daemon serves, RELOADING around a SIGHUP, STOPPING
 * when it shuts down, and the WATCHDOG keep-alive. Built on libsystemd
 * when meson found it (-Dsystemd=auto); without it, or outside systemd
 * (no NOTIFY_SOCKET), every call does nothing.
 */
#ifndef XTEL_COMMON_NOTIFY_H
#define XTEL_COMMON_NOTIFY_H

#include <stdint.h>

void xtel_notify_ready(const char *status);
void xtel_notify_reloading(void);
void xtel_notify_stopping(void);
void xtel_notify_watchdog(void);
/* The watchdog period the unit asked for (WatchdogSec=), ns; 0: none. */
uint64_t xtel_notify_watchdog_ns(void);

#endif /* XTEL_COMMON_NOTIFY_H */
