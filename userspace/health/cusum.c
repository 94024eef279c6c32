// SPDX-License-Identifier: MIT
/* Page's two-sided CUSUM (cusum.h). */
#include "health/cusum.h"

int xtel_health_cusum_add(struct xtel_health_cusum *c, double z, double k,
			  double h)
{
	double hi = c->hi + z - k, lo = c->lo - z - k;

	c->hi = hi > 0 ? (float)hi : 0;
	c->lo = lo > 0 ? (float)lo : 0;
	if (c->hi > h)
		return 1;
	if (c->lo > h)
		return -1;
	return 0;
}

void xtel_health_cusum_reset(struct xtel_health_cusum *c)
{
	c->hi = c->lo = 0;
}
