// SPDX-License-Identifier: MIT
/* Group centre and scale for the peer comparison (peer.h). */
#include <math.h>

#include "health/peer.h"
#include "health/robust.h"

void xtel_health_peer_fit(struct xtel_health_peer *p, float *vals, size_t n,
			  size_t min_n, double floor_abs)
{
	double med;

	p->n = n;
	p->centre = 0;
	p->scale = 0;
	if (n < min_n || n == 0)
		return;
	med = xtel_health_median(vals, n);
	for (size_t i = 0; i < n; i++)
		vals[i] = (float)fabs((double)vals[i] - med);
	p->centre = med;
	p->scale = XTEL_HEALTH_MAD_SIGMA * xtel_health_median(vals, n);
	if (p->scale < floor_abs)
		p->scale = floor_abs;
	if (p->scale <= 0)
		p->scale = 1e-12;
}

double xtel_health_peer_z(const struct xtel_health_peer *p, double x)
{
	return p->scale > 0 ? (x - p->centre) / p->scale : 0.0;
}
