// SPDX-License-Identifier: MIT
/*
 * Explanations: one clause per cause, strongest first, the start time
 * after the first ("p99 latency 24 ms vs baseline 0.9 ms (+26 MAD) since
 * 12:03:10 UTC; loss 4.8% vs 0%"). Only clients that are not ok get one,
 * so the cost is the faulty clients', not the fleet's.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "health/internal.h"

uint32_t xtel_health_pool_add(struct xtel_health_view *hv, const char *s)
{
	size_t len = strlen(s) + 1;
	uint32_t off;

	if (!hv->why_len)
		hv->why_len = 1;	/* offset 0 means "none" */
	if (hv->why_len + len > hv->why_cap) {
		size_t ncap = hv->why_cap ? hv->why_cap * 2 : 4096;
		char *n;

		while (ncap < hv->why_len + len)
			ncap *= 2;
		n = realloc(hv->why_pool, ncap);
		if (!n)
			return 0;
		if (!hv->why_cap)
			n[0] = 0;
		hv->why_pool = n;
		hv->why_cap = ncap;
	}
	off = (uint32_t)hv->why_len;
	memcpy(hv->why_pool + off, s, len);
	hv->why_len += len;
	return off;
}

static int cause_cmp(const void *a, const void *b)
{
	const struct hcause *x = a, *y = b;
	double zx = x->kind == CAUSE_SLO ? 1e9 * x->z : fabs(x->z);
	double zy = y->kind == CAUSE_SLO ? 1e9 * y->z : fabs(y->z);

	/* SLO breaches first (they are what a user is promised), then |z| */
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

uint32_t xtel_health_explain(const struct xtel_health *h,
			     const struct hclient *c,
			     const struct hverdict *vd,
			     struct xtel_health_view *hv)
{
	struct hcause cs[HEALTH_MAX_CAUSES];
	char buf[XTEL_HEALTH_WHY_LEN];
	size_t at = 0;
	uint32_t n = vd->n;

	(void)h;
	buf[0] = 0;
	memcpy(cs, vd->c, n * sizeof(cs[0]));
	qsort(cs, n, sizeof(cs[0]), cause_cmp);
	for (uint32_t i = 0; i < n; i++) {
		const struct hcause *k = &cs[i];
		const char *label, *unit;
		double v;

		if (k->sig >= 0) {
			label = xtel_health_signals[k->sig].label;
			unit = xtel_health_signals[k->sig].unit;
			v = c->val[k->sig];
		} else {
			label = c->m[k->metric].key;
			unit = "";
			v = c->m[k->metric].val;
		}
		if (i)
			put(buf, sizeof(buf), &at, "; ");
		switch (k->kind) {
		case CAUSE_SILENT:
			put(buf, sizeof(buf), &at,
			    "no datagram for %u intervals (rate baseline ",
			    (unsigned int)k->z);
			put_val(buf, sizeof(buf), &at, "/s", k->ref);
			put(buf, sizeof(buf), &at, ")");
			break;
		case CAUSE_SLO:
			put(buf, sizeof(buf), &at, "%s ", label);
			put_val(buf, sizeof(buf), &at, unit, v);
			put(buf, sizeof(buf), &at, " over SLO ");
			put_val(buf, sizeof(buf), &at, unit, k->ref);
			break;
		case CAUSE_BASE:
		case CAUSE_PEER:
			put(buf, sizeof(buf), &at, "%s ", label);
			put_val(buf, sizeof(buf), &at, unit, v);
			put(buf, sizeof(buf), &at, " vs %s ",
			    k->kind == CAUSE_PEER ? "group" : "baseline");
			put_val(buf, sizeof(buf), &at, unit, k->ref);
			put(buf, sizeof(buf), &at, " (%+.0f MAD%s)", k->z,
			    k->sustained ? ", sustained" : "");
			break;
		}
		if (i == 0) {
			time_t t = (time_t)(c->since_ns / 1000000000ull);
			struct tm tm;
			char ts[16];

			gmtime_r(&t, &tm);
			strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
			put(buf, sizeof(buf), &at, " since %s", ts);
		}
	}
	return n ? xtel_health_pool_add(hv, buf) : 0;
}
