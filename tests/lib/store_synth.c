// SPDX-License-Identifier: MIT
/*
 * Synthetic views for the history writer (store_synth.h). The snapshot a
 * frame holds is laid out as acct/snapshot.c lays one out: clients sorted
 * by id, metrics and encoded histograms in pools the snapshot owns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_synth.h"

int xtel_synth_init(struct xtel_synth *s, uint32_t n, uint32_t first_id,
		    uint64_t t0_ns, double dt_s)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->first_id = first_id;
	s->t_ns = t0_ns;
	s->dt_s = dt_s;
	s->cum = calloc(n ? n : 1, sizeof(*s->cum));
	s->lat = calloc(n ? n : 1, sizeof(*s->lat));
	if (!s->cum || !s->lat) {
		xtel_synth_fini(s);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		s->cum[i].client_id = first_id + i;
		xtel_latency_init(&s->lat[i]);
	}
	xtel_latency_init(&s->total_lat);
	return 0;
}

void xtel_synth_fini(struct xtel_synth *s)
{
	for (uint32_t i = 0; s->lat && i < s->n; i++)
		xtel_latency_destroy(&s->lat[i]);
	xtel_latency_destroy(&s->total_lat);
	free(s->lat);
	free(s->cum);
	memset(s, 0, sizeof(*s));
}

static void snap_release(void *arg)
{
	xtel_snapshot_free(arg);
	free(arg);
}

static void lat_fill(struct xtel_client_snap *c, const struct xtel_latency *h)
{
	c->lat.count = h->count;
	c->lat.sum_ns = h->sum;
	c->lat.min_ns = h->min;
	c->lat.max_ns = h->max;
}

int xtel_synth_frame(struct xtel_synth *s, const struct xtel_synth_step *st,
		     struct xtel_store_frame *f)
{
	struct xtel_snapshot *snap = calloc(1, sizeof(*snap));
	size_t hist_cap = 0, used = 0;
	uint64_t samples = st->received - st->duplicates;

	if (!snap)
		return -ENOMEM;
	snap->n_clients = s->n;
	snap->taken_ns = s->t_ns;
	snap->clients = calloc(s->n ? s->n : 1, sizeof(*snap->clients));
	snap->metrics_pool = calloc((s->n ? s->n : 1) *
				    (st->metrics ? XTEL_SYNTH_MAX_METRICS : 1),
				    sizeof(*snap->metrics_pool));
	if (!snap->clients || !snap->metrics_pool)
		goto oom;
	for (uint32_t i = 0; i < s->n; i++) {
		struct xtel_client_snap *c = &s->cum[i];

		c->received += st->received;
		c->bytes += st->bytes;
		c->lost += st->lost;
		c->duplicates += st->duplicates;
		c->reordered += st->reordered;
		for (uint64_t k = 0; k < samples; k++) {
			int64_t ns = (int64_t)(st->lat_ns + k * st->lat_step_ns);

			xtel_latency_record(&s->lat[i], ns);
			xtel_latency_record(&s->total_lat, ns);
		}
		hist_cap += xtel_latency_encoded_max(&s->lat[i]);
	}
	hist_cap += xtel_latency_encoded_max(&s->total_lat);
	snap->hist_pool = malloc(hist_cap);
	if (!snap->hist_pool)
		goto oom;
	memset(&snap->total, 0, sizeof(snap->total));
	for (uint32_t i = 0; i < s->n; i++) {
		struct xtel_client_snap *d = &snap->clients[i];
		struct xtel_metric_snap *m = &snap->metrics_pool[i *
			(st->metrics ? XTEL_SYNTH_MAX_METRICS : 1)];

		*d = s->cum[i];
		lat_fill(d, &s->lat[i]);
		d->lat_hist = snap->hist_pool + used;
		d->lat_hist_len = (uint32_t)xtel_latency_encode(&s->lat[i],
							snap->hist_pool + used);
		used += d->lat_hist_len;
		if (st->metrics) {
			d->metrics = m;
			d->n_metrics = st->metrics(st->metrics_arg, d->client_id, s->t_ns,
						   m, XTEL_SYNTH_MAX_METRICS);
		} else if (st->temp_count) {
			m->key = "temp";
			m->count = st->temp_count;
			m->min = m->max = m->mean = m->last =
				(double)d->client_id + st->temp_add;
			d->metrics = m;
			d->n_metrics = 1;
		}
		snap->total.received += d->received;
		snap->total.bytes += d->bytes;
		snap->total.lost += d->lost;
		snap->total.duplicates += d->duplicates;
		snap->total.reordered += d->reordered;
	}
	lat_fill(&snap->total, &s->total_lat);
	snap->total.lat_hist = snap->hist_pool + used;
	snap->total.lat_hist_len = (uint32_t)xtel_latency_encode(&s->total_lat,
							snap->hist_pool + used);
	s->dropped += st->lost;	/* any monotonic figure will do */
	*f = (struct xtel_store_frame){
		.taken_ns = s->t_ns,
		.dt_s = s->dt_s,
		.snap = snap,
		.gauges = {
			[XTEL_STORE_G_CLIENTS] = s->n,
			[XTEL_STORE_G_LIVE] = s->n,
		},
		.fleet = { [XTEL_STORE_DROPPED - XTEL_STORE_N_ACCT] = s->dropped },
		.release = snap_release,
		.arg = snap,
	};
	s->t_ns += (uint64_t)(s->dt_s * 1e9);
	return 0;
oom:
	snap_release(snap);
	return -ENOMEM;
}
