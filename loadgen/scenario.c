// SPDX-License-Identifier: MIT
/*
 * Scenario rules (scenario.h): parsing with a reason for every refusal,
 * the effect of the rules on one client at one time, and the per-datagram
 * draws (hashes of seed, client and seq, as fault.c's, with their own
 * salts so they are independent of --loss/--dup/--reorder).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "fault.h"
#include "scenario.h"

static const char *const kind_names[] = {
	[XTEL_LG_SC_LATENCY] = "latency", [XTEL_LG_SC_LOSS] = "loss",
	[XTEL_LG_SC_RATE] = "rate", [XTEL_LG_SC_STOP] = "stop",
	[XTEL_LG_SC_METRIC] = "metric",
};

static int bad(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_ids(const char *s, struct xtel_lg_sc_rule *r)
{
	const char *dash = strchr(s, '-');
	uint64_t lo, hi;
	char buf[24];

	if (!strcmp(s, "*")) {
		r->id_lo = 0;
		r->id_hi = UINT32_MAX;
		return 0;
	}
	if (!dash)
		return xtel_parse_u64(s, 0, UINT32_MAX, &lo) ? -EINVAL :
		       (r->id_lo = r->id_hi = (uint32_t)lo, 0);
	if ((size_t)(dash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = 0;
	if (xtel_parse_u64(buf, 0, UINT32_MAX, &lo) ||
	    xtel_parse_u64(dash + 1, lo, UINT32_MAX, &hi))
		return -EINVAL;
	r->id_lo = (uint32_t)lo;
	r->id_hi = (uint32_t)hi;
	return 0;
}

/* A metric delta: a decimal with an optional sign ("+30", "-2.5"). */
static int parse_delta(const char *s, double *out)
{
	double v;

	if (*s == '+' || *s == '-') {
		if (xtel_parse_double(s + 1, 0, 1e12, &v))
			return -EINVAL;
		*out = *s == '-' ? -v : v;
		return 0;
	}
	return xtel_parse_double(s, 0, 1e12, out);
}

static bool key_ok(const char *k)
{
	size_t n = strlen(k);

	if (!n || n > XTEL_MAX_KEY_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(k[i] == '_' || k[i] == '.' || k[i] == '-' ||
		      (k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'z') ||
		      (k[i] >= 'A' && k[i] <= 'Z')))
			return false;
	return true;
}

int xtel_lg_scenario_parse_line(const char *line, struct xtel_lg_sc_rule *r,
				char *err, size_t errlen)
{
	char buf[256], *tok[8], *save = NULL;
	unsigned int n = 0, want_lo, want_hi;
	int kind = -1;

	if (strlen(line) >= sizeof(buf))
		return bad(err, errlen, "%s", "line too long");
	strcpy(buf, line);
	for (char *t = strtok_r(buf, " \t\r\n", &save); t;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 8)
			return bad(err, errlen, "%s", "too many fields");
		tok[n++] = t;
	}
	memset(r, 0, sizeof(*r));
	if (n < 4)
		return bad(err, errlen, "%s",
			   "want IDS FROM TO KIND [ARGS] (e.g. 5-9 10 end latency 50)");
	if (parse_ids(tok[0], r))
		return bad(err, errlen, "bad client ids '%s' (N, LO-HI or *)", tok[0]);
	if (xtel_parse_double(tok[1], 0, 1e9, &r->from_s))
		return bad(err, errlen, "bad start '%s' (seconds >= 0)", tok[1]);
	if (!strcmp(tok[2], "end"))
		r->to_s = INFINITY;
	else if (xtel_parse_double(tok[2], 0, 1e9, &r->to_s) || r->to_s <= r->from_s)
		return bad(err, errlen, "bad end '%s' (seconds after the start, or end)",
			   tok[2]);
	for (int k = 0; k < (int)(sizeof(kind_names) / sizeof(kind_names[0])); k++)
		if (!strcmp(tok[3], kind_names[k]))
			kind = k;
	if (kind < 0)
		return bad(err, errlen,
			   "unknown fault '%s' (latency, loss, rate, stop, metric)",
			   tok[3]);
	r->kind = (enum xtel_lg_sc_kind)kind;
	r->b = 0;
	switch (r->kind) {
	case XTEL_LG_SC_LATENCY:
		want_lo = 5, want_hi = 6;
		break;
	case XTEL_LG_SC_STOP:
		want_lo = want_hi = 4;
		break;
	case XTEL_LG_SC_METRIC:
		want_lo = want_hi = 6;
		break;
	default:
		want_lo = want_hi = 5;
		break;
	}
	if (n < want_lo || n > want_hi)
		return bad(err, errlen, "wrong number of arguments for '%s'", tok[3]);
	switch (r->kind) {
	case XTEL_LG_SC_LATENCY:
		if (xtel_parse_double(tok[4], 0, 3600000, &r->a) ||
		    (n == 6 && xtel_parse_double(tok[5], 0, 3600000, &r->b)))
			return bad(err, errlen, "%s", "latency: MS [JITTER_MS], 0..3600000");
		break;
	case XTEL_LG_SC_LOSS:
		if (xtel_parse_double(tok[4], 0, 1, &r->a))
			return bad(err, errlen, "%s", "loss: a probability 0..1");
		break;
	case XTEL_LG_SC_RATE:
		if (xtel_parse_double(tok[4], 0, 100, &r->a))
			return bad(err, errlen, "%s", "rate: a factor 0..100");
		break;
	case XTEL_LG_SC_METRIC:
		if (!key_ok(tok[4]))
			return bad(err, errlen, "metric: bad key '%s'", tok[4]);
		strcpy(r->key, tok[4]);
		if (parse_delta(tok[5], &r->a))
			return bad(err, errlen, "metric: bad delta '%s' (e.g. +30, -2.5)",
				   tok[5]);
		break;
	case XTEL_LG_SC_STOP:
		break;
	}
	return 0;
}

int xtel_lg_scenario_load(const char *path, struct xtel_lg_scenario *sc,
			  char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[512], why[200];
	unsigned int ln = 0;
	int rc = 0;

	sc->n = 0;
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#'), *p = line;

		ln++;
		if (hash)
			*hash = 0;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			continue;
		if (sc->n == XTEL_LG_SC_MAX_RULES) {
			snprintf(err, errlen, "%s:%u: more than %d rules", path, ln,
				 XTEL_LG_SC_MAX_RULES);
			rc = -EINVAL;
			break;
		}
		rc = xtel_lg_scenario_parse_line(p, &sc->rules[sc->n], why, sizeof(why));
		if (rc) {
			snprintf(err, errlen, "%s:%u: %s", path, ln, why);
			break;
		}
		sc->n++;
	}
	fclose(f);
	return rc;
}

void xtel_lg_scenario_effect(const struct xtel_lg_scenario *sc, uint32_t id,
			     double t_s, struct xtel_lg_sc_effect *out)
{
	double keep = 1.0;

	memset(out, 0, sizeof(*out));
	out->rate = 1.0;
	for (uint32_t i = 0; sc && i < sc->n; i++) {
		const struct xtel_lg_sc_rule *r = &sc->rules[i];

		if (id < r->id_lo || id > r->id_hi || t_s < r->from_s || t_s >= r->to_s)
			continue;
		out->any = true;
		switch (r->kind) {
		case XTEL_LG_SC_LATENCY:
			out->delay_ns += (uint64_t)llround(r->a * 1e6);
			out->jitter_ns += (uint64_t)llround(r->b * 1e6);
			break;
		case XTEL_LG_SC_LOSS:
			keep *= 1.0 - r->a;
			break;
		case XTEL_LG_SC_RATE:
			out->rate *= r->a;
			break;
		case XTEL_LG_SC_STOP:
			out->stop = true;
			break;
		case XTEL_LG_SC_METRIC:
			if (out->n_metrics < XTEL_LG_SC_MAX_METRICS) {
				out->metric[out->n_metrics].key = r->key;
				out->metric[out->n_metrics++].delta = r->a;
			}
			break;
		}
	}
	out->loss = 1.0 - keep;
}

/* A uniform double in [0, 1) from a hash. */
static double unit(uint64_t h)
{
	return (double)(h >> 11) * 0x1.0p-53;
}

uint64_t xtel_lg_scenario_delay(const struct xtel_lg_sc_effect *e,
				uint64_t seed, uint32_t id, uint64_t seq)
{
	uint64_t j = 0;

	if (e->jitter_ns)
		j = (uint64_t)(unit(xtel_lg_mix3(seed ^ 0x6a6974746572ull, id, seq)) *
			       (double)e->jitter_ns);
	return e->delay_ns + j;
}

bool xtel_lg_scenario_lose(const struct xtel_lg_sc_effect *e, uint64_t seed,
			   uint32_t id, uint64_t seq)
{
	return e->loss > 0 &&
	       unit(xtel_lg_mix3(seed ^ 0x73636c6f7373ull, id, seq)) < e->loss;
}

size_t xtel_lg_scenario_metrics(const struct xtel_lg_sc_effect *e, char *buf,
				size_t len, size_t cap)
{
	char out[XTEL_MAX_PAYLOAD + 1];
	size_t o = 0, i = 0;

	if (!e->n_metrics)
		return len;
	while (i < len) {
		size_t end = i, eq;
		double delta = 0;
		bool hit = false;

		while (end < len && buf[end] != ';')
			end++;
		for (eq = i; eq < end && buf[eq] != '='; eq++)
			;
		for (uint32_t k = 0; k < e->n_metrics && eq < end; k++)
			if (strlen(e->metric[k].key) == eq - i &&
			    !memcmp(buf + i, e->metric[k].key, eq - i)) {
				delta += e->metric[k].delta;
				hit = true;
			}
		if (hit) {
			char num[40];
			size_t vl = end - eq - 1;
			int w;

			if (vl >= sizeof(num))
				vl = sizeof(num) - 1;
			memcpy(num, buf + eq + 1, vl);
			num[vl] = 0;
			w = snprintf(out + o, sizeof(out) - o, "%.*s=%.3f",
				     (int)(eq - i), buf + i, strtod(num, NULL) + delta);
			if (w < 0 || o + (size_t)w >= sizeof(out))
				return len;	/* would not fit: leave it alone */
			o += (size_t)w;
		} else {
			if (o + (end - i) >= sizeof(out))
				return len;
			memcpy(out + o, buf + i, end - i);
			o += end - i;
		}
		if (end < len) {
			if (o + 1 >= sizeof(out))
				return len;
			out[o++] = ';';
		}
		i = end + 1;
	}
	if (o > cap || o > XTEL_MAX_PAYLOAD)
		return len;
	memcpy(buf, out, o);
	return o;
}
