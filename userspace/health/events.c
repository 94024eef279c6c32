// SPDX-License-Identifier: MIT
/*
 * Events (health.h): the bounded ring of transitions, overwritten oldest
 * first and counted when full, and its copy into each interval's results
 * with the counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/internal.h"

void xtel_health_event_push(struct xtel_health *h, uint64_t ts_ns, bool group,
			    uint32_t client_id, uint32_t group_idx,
			    enum xtel_health_state from,
			    enum xtel_health_state to, double score,
			    const char *why)
{
	struct xtel_health_event *e;
	uint32_t cap = h->cfg.events;

	if (h->n_ring == cap) {
		h->head_ring = (h->head_ring + 1) % cap;
		h->n_ring--;
		h->counters[XTEL_HEALTH_CNT_EVENTS_DROPPED]++;
	}
	e = &h->ring[(h->head_ring + h->n_ring) % cap];
	h->n_ring++;
	*e = (struct xtel_health_event){ .seq = ++h->event_seq, .ts_ns = ts_ns,
		.group = group, .client_id = client_id, .group_idx = group_idx,
		.from = from, .to = to, .score = (float)score };
	snprintf(e->why, sizeof(e->why), "%s", why ? why : "");
	h->counters[XTEL_HEALTH_CNT_EVENTS]++;
	h->events_to[to]++;
}

void xtel_health_events_copy(const struct xtel_health *h,
			     struct xtel_health_view *hv)
{
	hv->events = malloc((h->n_ring ? h->n_ring : 1) * sizeof(*hv->events));
	if (hv->events) {
		for (uint32_t i = 0; i < h->n_ring; i++)
			hv->events[i] = h->ring[(h->head_ring + i) % h->cfg.events];
		hv->n_events = h->n_ring;
	}
	memcpy(hv->counters, h->counters, sizeof(hv->counters));
	memcpy(hv->events_to, h->events_to, sizeof(hv->events_to));
}
