// SPDX-License-Identifier: MIT
/*
 * The analysis of probe samples (see analysis.h). One pass sorts the
 * samples by device and time; profiles, trend and windows are weighted
 * sums (a stored bucket of n downloads weighs n), episodes a walk through
 * each device's samples in time order against its baseline.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/json.h"
#include "probe/analysis.h"

enum { WINDOWS_MAX = 1000000 };
#define DAY_NS (86400.0 * 1e9)
#define MARGIN_CAP 1000.0

void xtel_probe_analysis_cfg_default(struct xtel_probe_analysis_cfg *cfg)
{
	*cfg = (struct xtel_probe_analysis_cfg){
		.congested_frac = 0.5,
		.min_episode_s = 0,
		.window_s = 3600,
		.n_worst = 5,
		.tz_offset_min = 0,
		.max_episodes = 1000,
	};
}

const char *xtel_probe_dow_name(int dow)
{
	static const char *const names[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};

	return dow >= 0 && dow < 7 ? names[dow] : "?";
}

static int by_device_time(const void *a, const void *b)
{
	const struct xtel_probe_sample *x = a, *y = b;

	if (x->device != y->device)
		return x->device < y->device ? -1 : 1;
	return (x->ts_ns > y->ts_ns) - (x->ts_ns < y->ts_ns);
}

static bool in_scope(const struct xtel_probe_sample *s, uint32_t device)
{
	return !device || s->device == device;
}

static void bucket_add(struct xtel_probe_bucket *b, const struct xtel_probe_sample *s)
{
	double sp = s->v[XTEL_PROBE_M_SPEED], tt = s->v[XTEL_PROBE_M_TTFB],
	       to = s->v[XTEL_PROBE_M_TOTAL], w = s->n_ok;

	b->failed += s->n > s->n_ok ? s->n - s->n_ok : 0;
	if (!s->n_ok)
		return;
	if (!isnan(sp)) {
		if (!b->n || sp < b->speed_min)
			b->speed_min = sp;
		if (!b->n || sp > b->speed_max)
			b->speed_max = sp;
		b->n += s->n_ok;
		b->s_speed += w * sp;
		b->ss_speed += w * sp * sp;
	}
	if (!isnan(tt)) {
		b->ttfb_n += s->n_ok;
		b->s_ttfb += w * tt;
		b->ss_ttfb += w * tt * tt;
	}
	if (!isnan(to)) {
		b->total_n += s->n_ok;
		b->s_total += w * to;
	}
}

static double sample_sd(double s, double ss, uint64_t n)
{
	double mean, var;

	if (n < 2)
		return n ? 0 : NAN;
	mean = s / (double)n;
	var = (ss - (double)n * mean * mean) / (double)(n - 1);
	return var > 0 ? sqrt(var) : 0;
}

static void bucket_finish(struct xtel_probe_bucket *b)
{
	b->speed_mean = b->n ? b->s_speed / (double)b->n : NAN;
	b->speed_sd = sample_sd(b->s_speed, b->ss_speed, b->n);
	if (!b->n)
		b->speed_min = b->speed_max = NAN;
	b->ttfb_mean = b->ttfb_n ? b->s_ttfb / (double)b->ttfb_n : NAN;
	b->ttfb_sd = sample_sd(b->s_ttfb, b->ss_ttfb, b->ttfb_n);
	b->total_mean = b->total_n ? b->s_total / (double)b->total_n : NAN;
}

/* The local (tz-shifted) seconds of a sample. */
static int64_t local_s(const struct xtel_probe_analysis_cfg *cfg, uint64_t ts_ns)
{
	return (int64_t)(ts_ns / XTEL_NS_PER_SEC) + (int64_t)cfg->tz_offset_min * 60;
}

static double bucket_value(const struct xtel_probe_bucket *b, bool ttfb)
{
	return ttfb ? b->ttfb_mean : b->speed_mean;
}

/* Busier: slower, or (ttfb) slower to answer; ties go to the earlier bucket. */
static bool busier(double v, double than, bool ttfb)
{
	return ttfb ? v > than : v < than;
}

/*
 * The busiest of n buckets: lowest speed mean (ttfb false) or
 * highest ttfb mean (true), and the runner-up's distance in standard
 * errors of the difference of the two means.
 */
static void busiest_of(const struct xtel_probe_bucket *b, int n, bool ttfb,
		       struct xtel_probe_busiest *out)
{
	int best = -1, second = -1;
	double se;

	for (int i = 0; i < n; i++) {
		double v = ttfb ? b[i].ttfb_mean : b[i].speed_mean;

		if (isnan(v))
			continue;
		if (best < 0 || busier(v, bucket_value(&b[best], ttfb), ttfb)) {
			second = best;
			best = i;
		} else if (second < 0 ||
			   busier(v, bucket_value(&b[second], ttfb), ttfb)) {
			second = i;
		}
	}
	memset(out, 0, sizeof(*out));
	out->index = best;
	out->runner_up = second;
	out->value = out->runner_up_value = out->margin_se = NAN;
	out->confidence = "low";
	if (best < 0)
		return;
	out->n = ttfb ? b[best].ttfb_n : b[best].n;
	out->value = ttfb ? b[best].ttfb_mean : b[best].speed_mean;
	if (second < 0)
		return;
	out->runner_up_n = ttfb ? b[second].ttfb_n : b[second].n;
	out->runner_up_value = ttfb ? b[second].ttfb_mean : b[second].speed_mean;
	{
		double s1 = ttfb ? b[best].ttfb_sd : b[best].speed_sd,
		       s2 = ttfb ? b[second].ttfb_sd : b[second].speed_sd;

		se = sqrt(s1 * s1 / (double)out->n + s2 * s2 / (double)out->runner_up_n);
	}
	out->margin_se = se > 0 ? fabs(out->runner_up_value - out->value) / se :
			 out->runner_up_value != out->value ? MARGIN_CAP : 0;
	if (out->margin_se > MARGIN_CAP)
		out->margin_se = MARGIN_CAP;
	if (out->n >= 30 && out->margin_se >= 3)
		out->confidence = "high";
	else if (out->n >= 10 && out->margin_se >= 2)
		out->confidence = "medium";
}

static void profiles(const struct xtel_probe_sample *s, size_t n, uint32_t device,
		     struct xtel_probe_analysis *a)
{
	const struct xtel_probe_analysis_cfg *cfg = &a->cfg;

	for (size_t i = 0; i < n; i++) {
		int64_t t;
		int hour, dow;

		if (!in_scope(&s[i], device))
			continue;
		t = local_s(cfg, s[i].ts_ns);
		hour = (int)(((t / 3600) % 24 + 24) % 24);
		dow = (int)((((t >= 0 ? t / 86400 : (t - 86399) / 86400) + 4) % 7 + 7) % 7);
		bucket_add(&a->hour[hour], &s[i]);
		bucket_add(&a->week[dow * 24 + hour], &s[i]);
	}
	for (int h = 0; h < 24; h++)
		bucket_finish(&a->hour[h]);
	for (int k = 0; k < 7 * 24; k++)
		bucket_finish(&a->week[k]);
	a->weekly = a->summary.downloads &&
		    (double)(a->summary.last_ns - a->summary.first_ns) >= 7 * DAY_NS;
	busiest_of(a->hour, 24, false, &a->busiest_speed);
	busiest_of(a->hour, 24, true, &a->busiest_ttfb);
	busiest_of(a->week, 7 * 24, false, &a->week_speed);
	busiest_of(a->week, 7 * 24, true, &a->week_ttfb);
}

static void trend(const struct xtel_probe_sample *s, size_t n, uint32_t device,
		  struct xtel_probe_analysis *a)
{
	double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, den;

	for (size_t i = 0; i < n; i++) {
		double y = s[i].v[XTEL_PROBE_M_SPEED], x, w = s[i].n_ok;

		if (!in_scope(&s[i], device) || !s[i].n_ok || isnan(y))
			continue;
		x = (double)(s[i].ts_ns - a->summary.first_ns) / DAY_NS;
		sw += w;
		sx += w * x;
		sy += w * y;
		sxx += w * x * x;
		sxy += w * x * y;
	}
	a->trend_n = (uint64_t)sw;
	den = sw * sxx - sx * sx;
	if (sw < 2 || den <= 0) {
		a->trend_mbps_per_day = a->trend_pct_per_day = NAN;
		return;
	}
	a->trend_mbps_per_day = (sw * sxy - sx * sy) / den;
	a->trend_pct_per_day = sy > 0 ? a->trend_mbps_per_day / (sy / sw) * 100 : NAN;
}

static int cmp_window(const void *x, const void *y)
{
	const struct xtel_probe_bucket *a = x, *b = y;

	/* A window where nothing succeeded is worse than any slow one. */
	if (!a->n || !b->n) {
		if (a->n != b->n)
			return a->n ? 1 : -1;
		return (a->failed < b->failed) - (a->failed > b->failed);
	}
	return (a->speed_mean > b->speed_mean) - (a->speed_mean < b->speed_mean);
}

static int worst_windows(const struct xtel_probe_sample *s, size_t n, uint32_t device,
			 struct xtel_probe_analysis *a)
{
	uint64_t w_ns, first, last, nw;
	struct xtel_probe_bucket *w;
	unsigned int k = 0;

	a->n_worst = 0;
	if (!a->summary.downloads || a->cfg.window_s <= 0)
		return 0;
	w_ns = (uint64_t)(a->cfg.window_s * 1e9);
	first = a->summary.first_ns / w_ns;
	last = a->summary.last_ns / w_ns;
	nw = last - first + 1;
	if (nw > WINDOWS_MAX)
		return 0;	/* too fine for the span: no ranking */
	w = calloc(nw, sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (in_scope(&s[i], device))
			bucket_add(&w[s[i].ts_ns / w_ns - first], &s[i]);
	for (uint64_t i = 0; i < nw; i++) {
		bucket_finish(&w[i]);
		/* The window's start rides along in s_total's slot: after sorting. */
		w[i].s_total = (double)(first + i);
	}
	qsort(w, nw, sizeof(*w), cmp_window);
	for (uint64_t i = 0; i < nw && k < a->cfg.n_worst && k < XTEL_PROBE_WORST_MAX; i++) {
		if (!w[i].n && !w[i].failed)
			continue;
		a->worst[k++] = (struct xtel_probe_window){
			.start_ns = (uint64_t)w[i].s_total * w_ns,
			.n = w[i].n, .failed = w[i].failed,
			.speed_mean = w[i].speed_mean, .ttfb_mean = w[i].ttfb_mean,
		};
	}
	a->n_worst = k;
	free(w);
	return 0;
}

static int keep_episode(struct xtel_probe_analysis *a, const struct xtel_probe_episode *e,
			size_t *cap)
{
	if ((double)(e->end_ns - e->start_ns) < a->cfg.min_episode_s * 1e9)
		return 0;
	if (a->n_episodes == a->cfg.max_episodes) {
		a->episodes_dropped++;
		return 0;
	}
	if (a->n_episodes == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct xtel_probe_episode *p = realloc(a->episodes, nc * sizeof(*p));

		if (!p)
			return -ENOMEM;
		a->episodes = p;
		*cap = nc;
	}
	a->episodes[a->n_episodes++] = *e;
	return 0;
}

/* One device's samples s[0..n-1], in time order. */
static int device_episodes(const struct xtel_probe_sample *s, size_t n,
			   struct xtel_probe_analysis *a, size_t *cap)
{
	struct xtel_probe_summary sm;
	struct xtel_probe_episode e;
	double thr, sum = 0;
	uint64_t ok_n = 0;
	bool open = false;
	int ret;

	ret = xtel_probe_summarize(s, n, 0, &sm);
	if (ret)
		return ret;
	if (!sm.speed.n)
		return 0;
	/* The device's baseline: what its line does on a good day. */
	thr = a->cfg.congested_frac * sm.speed.p90;
	for (size_t i = 0; i <= n; i++) {
		const struct xtel_probe_sample *x = i < n ? &s[i] : NULL;
		double sp = x ? x->v[XTEL_PROBE_M_SPEED] : NAN;
		bool ok = x && x->n_ok && !isnan(sp);
		bool degraded = x && ((ok && sp < thr) ||
				      (!x->n_ok && x->kind == XTEL_PROBE_TIMEOUT));

		if (degraded) {
			double tot = x->v[XTEL_PROBE_M_TOTAL];

			if (!open) {
				memset(&e, 0, sizeof(e));
				e.device = x->device;
				e.start_ns = x->ts_ns;
				e.baseline_mbps = sm.speed.p90;
				e.threshold_mbps = thr;
				e.min_mbps = NAN;
				sum = 0;
				ok_n = 0;
				open = true;
			}
			e.samples++;
			e.end_ns = x->ts_ns + (isnan(tot) ? 0 : (uint64_t)(tot * 1e6));
			if (ok) {
				sum += sp * x->n_ok;
				ok_n += x->n_ok;
				if (isnan(e.min_mbps) || sp < e.min_mbps)
					e.min_mbps = sp;
			} else {
				e.timeouts += x->n;
			}
		} else if (open && (ok || !x)) {
			e.mean_mbps = ok_n ? sum / (double)ok_n : NAN;
			ret = keep_episode(a, &e, cap);
			if (ret)
				return ret;
			open = false;
		}
	}
	return 0;
}

static int by_start(const void *x, const void *y)
{
	const struct xtel_probe_episode *a = x, *b = y;

	if (a->start_ns != b->start_ns)
		return a->start_ns < b->start_ns ? -1 : 1;
	return (a->device > b->device) - (a->device < b->device);
}

static int episodes(const struct xtel_probe_sample *s, size_t n, uint32_t device,
		    struct xtel_probe_analysis *a)
{
	size_t cap = 0;

	for (size_t i = 0; i < n;) {
		size_t j = i;
		int ret;

		while (j < n && s[j].device == s[i].device)
			j++;
		if (in_scope(&s[i], device)) {
			ret = device_episodes(s + i, j - i, a, &cap);
			if (ret)
				return ret;
		}
		i = j;
	}
	if (a->n_episodes)
		qsort(a->episodes, a->n_episodes, sizeof(*a->episodes), by_start);
	return 0;
}

int xtel_probe_analyze(struct xtel_probe_sample *s, size_t n, uint32_t device,
		       const struct xtel_probe_analysis_cfg *cfg,
		       struct xtel_probe_analysis *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	out->cfg = *cfg;
	if (out->cfg.n_worst > XTEL_PROBE_WORST_MAX)
		out->cfg.n_worst = XTEL_PROBE_WORST_MAX;
	qsort(s, n, sizeof(*s), by_device_time);
	ret = xtel_probe_summarize(s, n, device, &out->summary);
	if (ret)
		return ret;
	out->baseline_mbps = device ? out->summary.speed.p90 : NAN;
	profiles(s, n, device, out);
	trend(s, n, device, out);
	ret = worst_windows(s, n, device, out);
	if (!ret)
		ret = episodes(s, n, device, out);
	if (ret)
		xtel_probe_analysis_free(out);
	return ret;
}

void xtel_probe_analysis_free(struct xtel_probe_analysis *a)
{
	free(a->episodes);
	a->episodes = NULL;
	a->n_episodes = 0;
}

/* 3 decimals; a value that rounds to zero is 0, never "-0.0". */
static json_t *fixed3(double v)
{
	return xtel_json_fixed(fabs(v) < 0.0005 ? 0.0 : v, 3);
}

static json_t *time_s(uint64_t ns)
{
	return xtel_json_fixed((double)ns / 1e9, 3);
}

json_t *xtel_probe_bucket_json(const struct xtel_probe_bucket *b)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	xtel_json_set(o, "n", xtel_json_u64(b->n));
	xtel_json_set(o, "failed", xtel_json_u64(b->failed));
	xtel_json_set(o, "speed_mean", fixed3(b->speed_mean));
	xtel_json_set(o, "speed_sd", fixed3(b->speed_sd));
	xtel_json_set(o, "speed_min", fixed3(b->speed_min));
	xtel_json_set(o, "speed_max", fixed3(b->speed_max));
	xtel_json_set(o, "ttfb_mean", fixed3(b->ttfb_mean));
	xtel_json_set(o, "ttfb_sd", fixed3(b->ttfb_sd));
	xtel_json_set(o, "total_mean", fixed3(b->total_mean));
	return o;
}

static json_t *busiest_json(const struct xtel_probe_busiest *b, bool weekly,
			    const char *value_key)
{
	json_t *o;

	if (b->index < 0)
		return json_null();
	o = json_object();
	if (!o)
		return NULL;
	if (weekly) {
		xtel_json_set(o, "dow", json_integer(b->index / 24));
		xtel_json_set(o, "day", json_string(xtel_probe_dow_name(b->index / 24)));
	}
	xtel_json_set(o, "hour", json_integer(b->index % 24));
	xtel_json_set(o, "n", xtel_json_u64(b->n));
	xtel_json_set(o, value_key, fixed3(b->value));
	if (b->runner_up >= 0) {
		if (weekly)
			xtel_json_set(o, "runner_up_dow", json_integer(b->runner_up / 24));
		xtel_json_set(o, "runner_up_hour", json_integer(b->runner_up % 24));
		xtel_json_set(o, "runner_up_n", xtel_json_u64(b->runner_up_n));
		xtel_json_set(o, "runner_up_value", fixed3(b->runner_up_value));
	}
	xtel_json_set(o, "margin_se", fixed3(b->margin_se));
	xtel_json_set(o, "confidence", json_string(b->confidence));
	return o;
}

static json_t *busiest_pair(const struct xtel_probe_busiest *sp,
			    const struct xtel_probe_busiest *tt, bool weekly)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	xtel_json_set(o, "by_speed", busiest_json(sp, weekly, "speed_mean"));
	xtel_json_set(o, "by_response_time", busiest_json(tt, weekly, "ttfb_mean"));
	return o;
}

json_t *xtel_probe_analysis_json(const struct xtel_probe_analysis *a)
{
	json_t *o = json_object(), *hours = json_array(), *worst = json_array(),
	       *eps = json_array(), *cfg = json_object(), *tr = json_object();

	if (!o || !hours || !worst || !eps || !cfg || !tr) {
		json_decref(o);
		json_decref(hours);
		json_decref(worst);
		json_decref(eps);
		json_decref(cfg);
		json_decref(tr);
		return NULL;
	}
	xtel_json_set(cfg, "congested_frac", fixed3(a->cfg.congested_frac));
	xtel_json_set(cfg, "min_episode_s", fixed3(a->cfg.min_episode_s));
	xtel_json_set(cfg, "window_s", fixed3(a->cfg.window_s));
	xtel_json_set(cfg, "tz_offset_min", json_integer(a->cfg.tz_offset_min));
	xtel_json_set(o, "config", cfg);
	xtel_json_set(o, "summary", xtel_probe_summary_json(&a->summary));
	if (!isnan(a->baseline_mbps))
		xtel_json_set(o, "baseline_mbps", fixed3(a->baseline_mbps));
	for (int h = 0; h < 24; h++) {
		json_t *b = xtel_probe_bucket_json(&a->hour[h]);

		if (b)
			json_object_set_new(b, "hour", json_integer(h));
		json_array_append_new(hours, b);
	}
	xtel_json_set(o, "hours", hours);
	xtel_json_set(o, "busiest_hour", busiest_pair(&a->busiest_speed,
						      &a->busiest_ttfb, false));
	xtel_json_set(o, "weekly", a->weekly ?
		      busiest_pair(&a->week_speed, &a->week_ttfb, true) : json_null());
	xtel_json_set(tr, "n", xtel_json_u64(a->trend_n));
	xtel_json_set(tr, "mbps_per_day", fixed3(a->trend_mbps_per_day));
	xtel_json_set(tr, "pct_per_day", fixed3(a->trend_pct_per_day));
	xtel_json_set(o, "trend", tr);
	for (unsigned int i = 0; i < a->n_worst; i++) {
		const struct xtel_probe_window *w = &a->worst[i];
		json_t *x = json_object();

		if (x) {
			xtel_json_set(x, "start_s", time_s(w->start_ns));
			xtel_json_set(x, "n", xtel_json_u64(w->n));
			xtel_json_set(x, "failed", xtel_json_u64(w->failed));
			xtel_json_set(x, "speed_mean", fixed3(w->speed_mean));
			xtel_json_set(x, "ttfb_mean", fixed3(w->ttfb_mean));
		}
		json_array_append_new(worst, x);
	}
	xtel_json_set(o, "worst_windows", worst);
	for (size_t i = 0; i < a->n_episodes; i++) {
		const struct xtel_probe_episode *e = &a->episodes[i];
		json_t *x = json_object();

		if (x) {
			xtel_json_set(x, "device", json_integer(e->device));
			xtel_json_set(x, "start_s", time_s(e->start_ns));
			xtel_json_set(x, "end_s", time_s(e->end_ns));
			xtel_json_set(x, "duration_s", fixed3((double)(e->end_ns - e->start_ns) / 1e9));
			xtel_json_set(x, "samples", xtel_json_u64(e->samples));
			xtel_json_set(x, "timeouts", xtel_json_u64(e->timeouts));
			xtel_json_set(x, "baseline_mbps", fixed3(e->baseline_mbps));
			xtel_json_set(x, "threshold_mbps", fixed3(e->threshold_mbps));
			xtel_json_set(x, "mean_mbps", fixed3(e->mean_mbps));
			xtel_json_set(x, "min_mbps", fixed3(e->min_mbps));
		}
		json_array_append_new(eps, x);
	}
	xtel_json_set(o, "episodes", eps);
	xtel_json_set(o, "episodes_dropped", xtel_json_u64(a->episodes_dropped));
	return o;
}
