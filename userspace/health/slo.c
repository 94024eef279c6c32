// SPDX-License-Identifier: MIT
/* Service-level ceilings (slo.h). A value equal to its ceiling passes. */
#include "health/slo.h"

static void over(double v, double ceiling, unsigned int bit,
		 unsigned int *mask, double *worst)
{
	if (ceiling <= 0 || v <= ceiling)
		return;
	*mask |= bit;
	if (v / ceiling > *worst)
		*worst = v / ceiling;
}

unsigned int xtel_health_slo_check(const struct xtel_health_slo *s,
				   bool have_lat, double p99_ms,
				   double loss_pct, double jitter_ms,
				   double *worst)
{
	unsigned int mask = 0;

	*worst = 0;
	if (have_lat) {
		over(p99_ms, s->p99_ms, XTEL_HEALTH_SLO_P99, &mask, worst);
		over(jitter_ms, s->jitter_ms, XTEL_HEALTH_SLO_JITTER, &mask, worst);
	}
	over(loss_pct, s->loss_pct, XTEL_HEALTH_SLO_LOSS, &mask, worst);
	return mask;
}
