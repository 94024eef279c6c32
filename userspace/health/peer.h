/* SPDX-License-Identifier: MIT */
/*
 * Peer comparison: where one device stands against the other devices of its
 * group in the same interval. The group's robust centre is the median of
 * its members' values and its scale 1.4826 MAD (floored, as a baseline's),
 * so a few sick devices cannot drag the centre towards themselves. It is
 * applied to the network signals that are comparable across devices
 * (queueing delay, loss, duplicates, reordering), not to device metrics,
 * whose normal differs from device to device.
 */
#ifndef XTEL_HEALTH_PEER_H
#define XTEL_HEALTH_PEER_H

#include <stddef.h>

struct xtel_health_peer {
	double centre, scale;
	size_t n;		/* members that had a value */
};

/*
 * Fit the group from vals[0..n-1] (reordered: it is the caller's scratch).
 * Fewer than min_n values leave the fit with scale 0: no comparison.
 */
void xtel_health_peer_fit(struct xtel_health_peer *p, float *vals, size_t n,
			  size_t min_n, double floor_abs);

/* (x - centre) / scale, 0 when the group is too small to compare. */
double xtel_health_peer_z(const struct xtel_health_peer *p, double x);

#endif /* XTEL_HEALTH_PEER_H */
