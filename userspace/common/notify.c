// SPDX-License-Identifier: MIT
/* sd_notify for Type=notify units, or nothing without libsystemd (notify.h). */
#include <stdio.h>

#include "common/notify.h"

#ifdef XTEL_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

void xtel_notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status ? status : "running");
}

void xtel_notify_reloading(void)
{
	sd_notify(0, "RELOADING=1");
}

void xtel_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void xtel_notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t xtel_notify_watchdog_ns(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec * 1000;
}
#else
void xtel_notify_ready(const char *status) { (void)status; }
void xtel_notify_reloading(void) { }
void xtel_notify_stopping(void) { }
void xtel_notify_watchdog(void) { }
uint64_t xtel_notify_watchdog_ns(void) { return 0; }
#endif
