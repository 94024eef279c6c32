/* SPDX-License-Identifier: MIT */
/*
 * Warm-up: no verdict on a client before it has delivered `need` intervals
 * with data, so its baselines hold enough samples to mean something. A
 * client that restarts (a new epoch) warms up again: its old baselines may
 * describe another firmware or another place.
 */
#ifndef XTEL_HEALTH_WARMUP_H
#define XTEL_HEALTH_WARMUP_H

#include <stdbool.h>
#include <stdint.h>

struct xtel_health_warmup {
	uint32_t seen;		/* intervals with data so far */
};

/* One more interval with data; true once the client is warm. */
bool xtel_health_warmup_tick(struct xtel_health_warmup *w, uint32_t need);

static inline bool xtel_health_warm(const struct xtel_health_warmup *w,
				    uint32_t need)
{
	return w->seen >= need;
}

static inline void xtel_health_warmup_restart(struct xtel_health_warmup *w)
{
	w->seen = 0;
}

#endif /* XTEL_HEALTH_WARMUP_H */
