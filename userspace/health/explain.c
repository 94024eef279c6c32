// SPDX-License-Identifier: MIT
/*
 * Explanations (health.h): one clause per cause, SLO breaches first, then
 * the strongest, the start time after the first ("p99 latency 24 ms vs
 * baseline 0.9 ms (+26 MAD) since 12:03:10; loss 4.8% over SLO 2%"). They
 * are made from a result's causes when read (the API's threads) or at a
 * transition (the event), never for every client every interval.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "health/health.h"

static int cause_cmp(const void *a, const void *b)
{
	const struct xtel_health_cause *x = a, *y = b;
	double zx = x->kind == XTEL_HEALTH_CAUSE_SLO ? 1e9 * x->z :
		    x->kind == XTEL_HEALTH_CAUSE_PROBE ? 1e6 * x->z : fabs(x->z);
	double zy = y->kind == XTEL_HEALTH_CAUSE_SLO ? 1e9 * y->z :
		    y->kind == XTEL_HEALTH_CAUSE_PROBE ? 1e6 * y->z : fabs(y->z);

	/* SLO breaches first (they are what a user is promised), then slow
	 * probes (a measured download), then |z| */
	return zx > zy ? -1 : zx < zy;
}

static int put(char *buf, size_t cap, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int put(char *buf, size_t cap, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at >= cap)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, cap - *at, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	*at += (size_t)n < cap - *at ? (size_t)n : cap - *at - 1;
	return 0;
}

/* "24 ms", "4.8%", "20/s", or a bare number for a device metric */
static void put_val(char *buf, size_t cap, size_t *at, const char *unit,
		    double v)
{
	if (!strcmp(unit, "%"))
		put(buf, cap, at, "%.3g%%", v);
	else if (!strcmp(unit, "/s"))
		put(buf, cap, at, "%.3g/s", v);
	else if (*unit)
		put(buf, cap, at, "%.3g %s", v, unit);
	else
		put(buf, cap, at, "%.4g", v);
}

size_t xtel_health_explain(const struct xtel_health_result *r, char *buf,
			   size_t cap)
{
	struct xtel_health_cause cs[XTEL_HEALTH_MAX_CAUSES];
	uint32_t n = r->n_causes < XTEL_HEALTH_MAX_CAUSES ? r->n_causes :
		     XTEL_HEALTH_MAX_CAUSES;
	bool said_since = false;
	size_t at = 0;

	if (!cap)
		return 0;
	buf[0] = 0;
	if (n) {	/* r->cause is NULL for a client with no cause */
		memcpy(cs, r->cause, n * sizeof(cs[0]));
		qsort(cs, n, sizeof(cs[0]), cause_cmp);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct xtel_health_cause *k = &cs[i];
		const char *label, *unit;

		if (k->sig >= 0 && k->sig < XTEL_HEALTH_SIG_MAX) {
			label = xtel_health_signals[k->sig].label;
			unit = xtel_health_signals[k->sig].unit;
		} else if (k->metric >= 0 && (uint32_t)k->metric < r->n_metrics) {
			label = r->metric[k->metric].key;
			unit = "";
		} else {
			continue;
		}
		if (at)
			put(buf, cap, &at, "; ");
		switch (k->kind) {
		case XTEL_HEALTH_CAUSE_SILENT:
			put(buf, cap, &at, "no datagram for %u intervals (rate baseline ",
			    (unsigned int)k->z);
			put_val(buf, cap, &at, "/s", k->ref);
			put(buf, cap, &at, ")");
			break;
		case XTEL_HEALTH_CAUSE_PROBE:
			put(buf, cap, &at, "probe speed ");
			put_val(buf, cap, &at, "Mbit/s", k->value);
			put(buf, cap, &at, " vs baseline ");
			put_val(buf, cap, &at, "Mbit/s", k->ref);
			put(buf, cap, &at, " (%.0f%% of it, %u probes in a row)",
			    k->ref > 0 ? 100.0 * k->value / k->ref : 0.0,
			    (unsigned int)k->n);
			break;
		case XTEL_HEALTH_CAUSE_SLO:
			put(buf, cap, &at, "%s ", label);
			put_val(buf, cap, &at, unit, k->value);
			put(buf, cap, &at, " over SLO ");
			put_val(buf, cap, &at, unit, k->ref);
			break;
		default:
			put(buf, cap, &at, "%s ", label);
			put_val(buf, cap, &at, unit, k->value);
			put(buf, cap, &at, " vs %s ",
			    k->kind == XTEL_HEALTH_CAUSE_PEER ? "group" : "baseline");
			put_val(buf, cap, &at, unit, k->ref);
			put(buf, cap, &at, " (%+.0f MAD%s)", k->z,
			    k->sustained ? ", sustained" : "");
			/* the same signal against its group: one clause */
			for (uint32_t j = i + 1; j < n; j++) {
				struct xtel_health_cause *p = &cs[j];

				if (k->kind != XTEL_HEALTH_CAUSE_BASE ||
				    p->kind != XTEL_HEALTH_CAUSE_PEER || p->sig != k->sig)
					continue;
				put(buf, cap, &at, ", group ");
				put_val(buf, cap, &at, unit, p->ref);
				put(buf, cap, &at, " (%+.0f MAD)", p->z);
				p->sig = -2;	/* said */
			}
			break;
		}
		if (!said_since) {
			time_t t = (time_t)(r->since_ns / 1000000000ull);
			struct tm tm;
			char ts[16];

			gmtime_r(&t, &tm);
			strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
			put(buf, cap, &at, " since %s", ts);
			said_since = true;
		}
	}
	return at;
}

size_t xtel_health_group_explain(const struct xtel_health_group_result *g,
				 char *buf, size_t cap)
{
	size_t at = 0;

	if (!cap)
		return 0;
	buf[0] = 0;
	if (g->state == XTEL_HEALTH_OK || g->state == XTEL_HEALTH_WARMUP)
		return 0;
	/* the members' verdicts first, then a shift they share */
	if (g->counts[g->state] * 2 >= g->warm && g->counts[g->state])
		put(buf, cap, &at, "%u of %u clients %s", g->counts[g->state],
		    g->warm, xtel_health_state_name(g->state));
	if (g->common_sig >= 0 && g->common_sig < XTEL_HEALTH_SIG_MAX)
		put(buf, cap, &at, "%s%s %s at %u of %u clients at once",
		    at ? "; " : "", xtel_health_signals[g->common_sig].label,
		    g->common_up ? "up" : "down", g->common_n, g->common_of);
	return at;
}
