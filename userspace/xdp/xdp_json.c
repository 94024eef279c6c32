// SPDX-License-Identifier: MIT
/*
 * The XDP program's counters as JSON (see xdp.h): one object member per
 * row of XTEL_XDP_STATS, by its name, for the collector's summary and the
 * test driver alike.
 */
#include "common/json.h"
#include "xdp/xdp.h"

json_t *xtel_xdp_totals_json(const struct xtel_xdp_totals *t)
{
	json_t *stats = json_object();

	for (int i = 0; i < XTEL_XDP_STAT_MAX; i++) {
		json_t *s = json_object();

		xtel_json_set(s, "packets", xtel_json_u64(t->packets[i]));
		xtel_json_set(s, "bytes", xtel_json_u64(t->bytes[i]));
		xtel_json_set(stats, xtel_xdp_stat_name(i), s);
	}
	return stats;
}
