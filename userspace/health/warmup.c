// SPDX-License-Identifier: MIT
/* Warm-up counting (warmup.h); saturates instead of wrapping. */
#include "health/warmup.h"

bool xtel_health_warmup_tick(struct xtel_health_warmup *w, uint32_t need)
{
	if (w->seen < UINT32_MAX)
		w->seen++;
	return w->seen >= need;
}
