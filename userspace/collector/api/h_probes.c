// SPDX-License-Identifier: MIT
/*
 * The probe endpoints (docs/API.md, "GET /api/v1/probes/..."): the
 * download probes' results as the history stored them (--db), analysed by
 * the probe library (probe/analysis.h) exactly as probe-report does:
 * summary (fleet and per device), analysis (one device or the fleet:
 * profile, busiest hour, trend, worst windows, congestion episodes) and
 * series (one device's samples, for graphs). Read on the API's own reader
 * connections, never the writer's.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/json.h"
#include "collector/api/internal.h"
#include "probe/analysis.h"
#include "probe/history.h"
#include "store/query.h"
#include "store/schema.h"

/* Samples one request may read (a sample is ~130 bytes). */
enum { MAX_SAMPLES = 500000, MAX_SERIES = 10000 };

struct probe_q {
	int64_t from, to;
	uint32_t device;
	int tier;			/* -1: the reader's choice */
	struct xtel_probe_samples v;
};

static const char *const tier_names[] = { "10s", "1m", "1h", NULL };

/*
 * The range (default: the last 24 h), ?tier= and ?device= (required when
 * need_device), then the samples. Returns 0, or -1 after an error reply.
 */
static int read_samples(struct xtel_api_req *r, struct xtel_api_reply *rep,
			bool need_device, struct probe_q *q)
{
	struct xtel_api *api = r->api;
	int64_t now = (int64_t)(r->now_ns / 1000000000ull);
	uint64_t dev = 0;
	sqlite3 *db;
	int t, rc;

	memset(q, 0, sizeof(*q));
	if (!api->store_readers)
		return xtel_api_error(rep, 404, "no_history", NULL,
				      "the collector runs without --db: no probe history");
	if (xtel_api_param_time(r, rep, "to", now + 1, &q->to) ||
	    xtel_api_param_time(r, rep, "from", q->to - 86400, &q->from))
		return -1;
	if (q->from >= q->to)
		return xtel_api_error(rep, 400, "bad_parameter", "from",
				      "from must be before to");
	if (need_device && !xtel_api_param(r, "device"))
		return xtel_api_error(rep, 400, "missing_parameter", "device",
				      "device is required");
	if (xtel_api_param_u64(r, rep, "device", 1, UINT32_MAX, 0, &dev))
		return -1;
	q->device = (uint32_t)dev;
	t = xtel_api_param_choice(r, rep, "tier", tier_names, -1);
	if (t < 0 && xtel_api_param(r, "tier"))
		return -1;
	q->tier = t < 0 ? -1 : XTEL_TIER_CLIENT_FIRST + t;
	db = xtel_store_readers_get(api->store_readers, &rc);
	if (!db) {
		rep->retry_after = rc == -EBUSY ? 1 : 0;
		return xtel_api_error(rep, 503, rc == -EBUSY ? "busy" : "history_unavailable",
				      NULL, "the history cannot be read now: %s",
				      strerror(-rc));
	}
	q->v.max = MAX_SAMPLES;
	rc = xtel_probe_history_read(db, q->from, q->to, q->device, q->tier, &q->v);
	xtel_store_readers_put(api->store_readers, db);
	if (rc == -E2BIG) {
		xtel_probe_samples_free(&q->v);
		return xtel_api_error(rep, 400, "bad_parameter", "from",
				      "more than %d samples: pick a shorter range "
				      "or tier=1h", MAX_SAMPLES);
	}
	if (rc) {
		xtel_probe_samples_free(&q->v);
		return xtel_api_error(rep, rc == -ENOMEM ? 500 : 503, rc == -ENOMEM ?
				      "out_of_memory" : "history_unavailable", NULL,
				      "the probe history query failed (see the collector's log)");
	}
	return 0;
}

static void source_json(json_t *o, const struct probe_q *q)
{
	xtel_json_set(o, "from", json_integer(q->from));
	xtel_json_set(o, "to", json_integer(q->to));
	xtel_json_set(o, "tier", json_string(xtel_tiers[q->v.tier].name));
	xtel_json_set(o, "rows", xtel_json_u64(q->v.rows));
	xtel_json_set(o, "samples", xtel_json_u64(q->v.n));
}

/* The analysis options of docs/PROBES.md as query parameters. */
static int analysis_cfg(struct xtel_api_req *r, struct xtel_api_reply *rep,
			struct xtel_probe_analysis_cfg *cfg)
{
	double tz = 0, n_worst = 0;
	bool given;

	xtel_probe_analysis_cfg_default(cfg);
	if (xtel_api_param_double(r, rep, "congested_frac", 0.01, 1,
				  &cfg->congested_frac, &given) ||
	    xtel_api_param_double(r, rep, "min_episode", 0, 1e7, &cfg->min_episode_s,
				  &given) ||
	    xtel_api_param_double(r, rep, "window", 1, 1e7, &cfg->window_s, &given) ||
	    xtel_api_param_double(r, rep, "worst", 0, XTEL_PROBE_WORST_MAX, &n_worst,
				  &given))
		return -1;
	if (given)
		cfg->n_worst = (unsigned int)n_worst;
	if (xtel_api_param_double(r, rep, "tz_offset", -1440, 1440, &tz, &given))
		return -1;
	if (tz != floor(tz))
		return xtel_api_error(rep, 400, "bad_parameter", "tz_offset",
				      "tz_offset must be whole minutes in -1440..1440");
	cfg->tz_offset_min = (int)tz;
	return 0;
}

static int by_device(const void *a, const void *b)
{
	const struct xtel_probe_sample *x = a, *y = b;

	return (x->device > y->device) - (x->device < y->device);
}

void xtel_api_h_probes_summary(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	struct xtel_probe_summary sm;
	struct probe_q q;
	json_t *o, *devs;

	if (read_samples(r, rep, false, &q))
		return;
	if (xtel_probe_summarize(q.v.s, q.v.n, 0, &sm) || !(o = xtel_api_ok(rep))) {
		xtel_probe_samples_free(&q.v);
		xtel_api_error(rep, 500, "out_of_memory", NULL, "out of memory");
		return;
	}
	source_json(o, &q);
	xtel_json_set(o, "fleet", xtel_probe_summary_json(&sm));
	devs = json_array();
	/* The reader returns them by client already; sorting keeps that a rule. */
	qsort(q.v.s, q.v.n, sizeof(*q.v.s), by_device);
	for (size_t i = 0; devs && i < q.v.n;) {
		size_t j = i;
		json_t *d;

		while (j < q.v.n && q.v.s[j].device == q.v.s[i].device)
			j++;
		if (xtel_probe_summarize(q.v.s + i, j - i, 0, &sm) == 0 &&
		    (d = xtel_probe_summary_json(&sm))) {
			json_object_set_new(d, "device", json_integer(q.v.s[i].device));
			json_array_append_new(devs, d);
		}
		i = j;
	}
	xtel_json_set(o, "devices", devs);
	xtel_probe_samples_free(&q.v);
}

void xtel_api_h_probes_analysis(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	struct xtel_probe_analysis_cfg cfg;
	struct xtel_probe_analysis a;
	struct probe_q q;
	json_t *o, *body;

	if (analysis_cfg(r, rep, &cfg) || read_samples(r, rep, false, &q))
		return;
	if (xtel_probe_analyze(q.v.s, q.v.n, q.device, &cfg, &a)) {
		xtel_probe_samples_free(&q.v);
		xtel_api_error(rep, 500, "out_of_memory", NULL, "out of memory");
		return;
	}
	body = xtel_probe_analysis_json(&a);
	o = body ? xtel_api_ok(rep) : NULL;
	if (!o) {
		json_decref(body);
		xtel_api_error(rep, 500, "out_of_memory", NULL, "out of memory");
	} else {
		source_json(o, &q);
		xtel_json_set(o, "device", q.device ? json_integer(q.device) : json_null());
		json_object_update(o, body);
		json_decref(body);
	}
	xtel_probe_analysis_free(&a);
	xtel_probe_samples_free(&q.v);
}

static json_t *num3(double v)
{
	return xtel_json_fixed(v, 3);
}

void xtel_api_h_probes_series(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	struct probe_q q;
	json_t *o, *pts;

	if (read_samples(r, rep, true, &q))
		return;
	if (q.v.n > MAX_SERIES) {
		xtel_probe_samples_free(&q.v);
		xtel_api_error(rep, 400, "bad_parameter", "from",
			       "more than %d points: pick a shorter range or a "
			       "coarser tier", MAX_SERIES);
		return;
	}
	o = xtel_api_ok(rep);
	pts = json_array();
	if (o && pts) {
		source_json(o, &q);
		xtel_json_set(o, "device", json_integer(q.device));
		for (size_t i = 0; i < q.v.n; i++) {
			const struct xtel_probe_sample *s = &q.v.s[i];
			json_t *p = json_object();

			if (!p)
				break;
			xtel_json_set(p, "ts", json_integer((json_int_t)(s->ts_ns / 1000000000ull)));
			xtel_json_set(p, "downloads", json_integer(s->n));
			xtel_json_set(p, "ok", json_integer(s->n_ok));
			xtel_json_set(p, "kind", json_string(xtel_probe_kind_name(s->kind)));
			xtel_json_set(p, "speed_mbps", num3(s->v[XTEL_PROBE_M_SPEED]));
			xtel_json_set(p, "ttfb_ms", num3(s->v[XTEL_PROBE_M_TTFB]));
			xtel_json_set(p, "total_ms", num3(s->v[XTEL_PROBE_M_TOTAL]));
			xtel_json_set(p, "tls_ms", num3(s->v[XTEL_PROBE_M_TLS]));
			json_array_append_new(pts, p);
		}
	}
	if (o)
		xtel_json_set(o, "points", pts);
	else
		json_decref(pts);
	xtel_probe_samples_free(&q.v);
}
