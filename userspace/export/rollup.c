// SPDX-License-Identifier: MIT
/*
 * Rollup codec (rollup.h). The encoder writes only non-zero fields, so a
 * quiet client costs a few bytes; the decoder reads keys in any order
 * (header first, in a pass that skips the entries) and skips keys it does
 * not know, which is how a later schema version can add fields that a
 * version-1 aggregator ignores.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acct/latency.h"
#include "export/rollup.h"

void xtel_rollup_put_hdr(struct xtel_cbor_buf *b, const struct xtel_rollup_hdr *h,
			 bool with_totals)
{
	xtel_cbor_map(b, 11 + (with_totals ? 1 : 0));
	xtel_cbor_kv(b, XTEL_RK_VERSION, XTEL_ROLLUP_VERSION);
	xtel_cbor_uint(b, XTEL_RK_SITE);
	xtel_cbor_cstr(b, h->site);
	xtel_cbor_uint(b, XTEL_RK_EDGE);
	xtel_cbor_cstr(b, h->edge);
	xtel_cbor_kv(b, XTEL_RK_RUN, h->run);
	xtel_cbor_kv(b, XTEL_RK_SEQ, h->seq);
	xtel_cbor_kv(b, XTEL_RK_PART, h->part);
	xtel_cbor_kv(b, XTEL_RK_PARTS, h->parts);
	xtel_cbor_kv(b, XTEL_RK_TAKEN_NS, h->taken_ns);
	xtel_cbor_kv(b, XTEL_RK_INTERVAL_NS, h->interval_ns);
	xtel_cbor_uint(b, XTEL_RK_FINAL);
	xtel_cbor_bool(b, h->final);
	if (with_totals)
		xtel_cbor_uint(b, XTEL_RK_TOTALS);
	/* the totals' entry follows (put_client), then the clients */
}

void xtel_rollup_put_clients_head(struct xtel_cbor_buf *b, uint32_t n)
{
	xtel_cbor_uint(b, XTEL_RK_CLIENTS);
	xtel_cbor_array(b, n);
}

static bool any_type(const struct xtel_rollup_client *c)
{
	for (unsigned int t = 0; t <= XTEL_MSG_TYPE_MAX; t++)
		if (c->by_type[t])
			return true;
	return false;
}

void xtel_rollup_put_client(struct xtel_cbor_buf *b,
			    const struct xtel_rollup_client *c)
{
	const uint64_t u[] = {
		[XTEL_CK_ID] = c->client_id, [XTEL_CK_RECEIVED] = c->received,
		[XTEL_CK_BYTES] = c->bytes, [XTEL_CK_LOST] = c->lost,
		[XTEL_CK_PENDING] = c->pending,
		[XTEL_CK_DUPLICATES] = c->duplicates,
		[XTEL_CK_REORDERED] = c->reordered,
		[XTEL_CK_TOO_LATE] = c->too_late, [XTEL_CK_EPOCHS] = c->epochs,
		[XTEL_CK_FIRST_SEEN] = c->first_seen_ns,
		[XTEL_CK_LAST_SEEN] = c->last_seen_ns,
		[XTEL_CK_HIGHEST_SEQ] = c->highest_seq,
		[XTEL_CK_METRICS_DROPPED] = c->metrics_dropped,
	};
	bool lat = c->lat_count || c->lat_negative || c->n_buckets;
	unsigned int n = 1 + (any_type(c) ? 1 : 0) + (c->bye ? 1 : 0) +
			 (lat ? 1 : 0) + (c->n_metrics ? 1 : 0) +
			 (c->health ? 1 : 0);

	for (unsigned int k = 1; k < sizeof(u) / sizeof(u[0]); k++)
		if (u[k] && k != XTEL_CK_BY_TYPE && k != XTEL_CK_BYE &&
		    k != XTEL_CK_LAT && k != XTEL_CK_METRICS)
			n++;
	xtel_cbor_map(b, n);
	xtel_cbor_kv(b, XTEL_CK_ID, c->client_id);
	for (unsigned int k = 1; k < sizeof(u) / sizeof(u[0]); k++) {
		switch (k) {
		case XTEL_CK_BY_TYPE:
			if (!any_type(c))
				break;
			xtel_cbor_uint(b, k);
			xtel_cbor_array(b, XTEL_MSG_TYPE_MAX + 1);
			for (unsigned int t = 0; t <= XTEL_MSG_TYPE_MAX; t++)
				xtel_cbor_uint(b, c->by_type[t]);
			break;
		case XTEL_CK_BYE:
			if (!c->bye)
				break;
			xtel_cbor_uint(b, k);
			xtel_cbor_bool(b, true);
			break;
		case XTEL_CK_LAT:
			if (!lat)
				break;
			/* [count, negative, sum, min, max, overflow, [idx, n, ...]] */
			xtel_cbor_uint(b, k);
			xtel_cbor_array(b, 7);
			xtel_cbor_uint(b, c->lat_count);
			xtel_cbor_uint(b, c->lat_negative);
			xtel_cbor_uint(b, c->lat_sum);
			xtel_cbor_uint(b, c->lat_min);
			xtel_cbor_uint(b, c->lat_max);
			xtel_cbor_uint(b, c->lat_overflow);
			xtel_cbor_array(b, 2ULL * c->n_buckets);
			for (uint32_t i = 0; i < c->n_buckets; i++) {
				xtel_cbor_uint(b, c->buckets[i].idx);
				xtel_cbor_uint(b, c->buckets[i].count);
			}
			break;
		case XTEL_CK_METRICS:
			if (!c->n_metrics)
				break;
			/* [[key, count, sum, min, max, last, last_ts_ns], ...] */
			xtel_cbor_uint(b, k);
			xtel_cbor_array(b, c->n_metrics);
			for (uint32_t i = 0; i < c->n_metrics; i++) {
				const struct xtel_rollup_metric *m = &c->metrics[i];

				xtel_cbor_array(b, 7);
				xtel_cbor_cstr(b, m->key);
				xtel_cbor_uint(b, m->count);
				xtel_cbor_double(b, m->sum);
				xtel_cbor_double(b, m->min);
				xtel_cbor_double(b, m->max);
				xtel_cbor_double(b, m->last);
				xtel_cbor_uint(b, m->last_ts_ns);
			}
			break;
		default:
			if (u[k])
				xtel_cbor_kv(b, k, u[k]);
		}
	}
	if (c->health) {
		/* [state, score, since_ns] */
		xtel_cbor_uint(b, XTEL_CK_HEALTH);
		xtel_cbor_array(b, 3);
		xtel_cbor_cstr(b, c->health_state);
		xtel_cbor_double(b, c->health_score);
		xtel_cbor_uint(b, c->health_since_ns);
	}
}

/* ---- decoder ---- */

struct dec_scratch {
	struct xtel_lat_bucket buckets[XTEL_LAT_BUCKETS];
	struct xtel_rollup_metric metrics[XTEL_ROLLUP_MAX_METRICS];
};

static void get_name(struct xtel_cbor_cur *c, char *dst, size_t cap)
{
	size_t n;
	const char *s = xtel_cbor_get_text(c, &n);

	if (n >= cap) {
		c->err = -EBADMSG;
		n = 0;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void get_lat(struct xtel_cbor_cur *c, struct xtel_rollup_client *rc,
		    struct dec_scratch *s)
{
	uint64_t n = xtel_cbor_get_array(c), nb;

	if (n < 7) {
		c->err = -EBADMSG;
		return;
	}
	rc->lat_count = xtel_cbor_get_uint(c);
	rc->lat_negative = xtel_cbor_get_uint(c);
	rc->lat_sum = xtel_cbor_get_uint(c);
	rc->lat_min = xtel_cbor_get_uint(c);
	rc->lat_max = xtel_cbor_get_uint(c);
	rc->lat_overflow = xtel_cbor_get_uint(c);
	nb = xtel_cbor_get_array(c);
	if (nb % 2 || nb / 2 > XTEL_LAT_BUCKETS) {
		c->err = -EBADMSG;
		return;
	}
	for (uint64_t i = 0; i < nb / 2 && !c->err; i++) {
		uint64_t idx = xtel_cbor_get_uint(c);

		if (idx >= XTEL_LAT_BUCKETS)
			c->err = -EBADMSG;
		s->buckets[i] = (struct xtel_lat_bucket){ .idx = (uint32_t)idx,
			.count = xtel_cbor_get_uint(c) };
	}
	rc->n_buckets = (uint32_t)(nb / 2);
	rc->buckets = s->buckets;
	for (uint64_t i = 7; i < n; i++)
		xtel_cbor_skip(c);
}

static void get_metrics(struct xtel_cbor_cur *c, struct xtel_rollup_client *rc,
			struct dec_scratch *s)
{
	uint64_t n = xtel_cbor_get_array(c);

	if (n > XTEL_ROLLUP_MAX_METRICS) {
		c->err = -EBADMSG;
		return;
	}
	for (uint64_t i = 0; i < n && !c->err; i++) {
		struct xtel_rollup_metric *m = &s->metrics[i];
		uint64_t f = xtel_cbor_get_array(c);

		if (f < 7) {
			c->err = -EBADMSG;
			return;
		}
		get_name(c, m->key, sizeof(m->key));
		m->count = xtel_cbor_get_uint(c);
		m->sum = xtel_cbor_get_double(c);
		m->min = xtel_cbor_get_double(c);
		m->max = xtel_cbor_get_double(c);
		m->last = xtel_cbor_get_double(c);
		m->last_ts_ns = xtel_cbor_get_uint(c);
		for (uint64_t k = 7; k < f; k++)
			xtel_cbor_skip(c);
	}
	rc->n_metrics = (uint32_t)n;
	rc->metrics = s->metrics;
}

static void get_health(struct xtel_cbor_cur *c, struct xtel_rollup_client *rc)
{
	uint64_t n = xtel_cbor_get_array(c);

	if (n < 3) {
		c->err = -EBADMSG;
		return;
	}
	get_name(c, rc->health_state, sizeof(rc->health_state));
	rc->health_score = xtel_cbor_get_double(c);
	rc->health_since_ns = xtel_cbor_get_uint(c);
	rc->health = true;
	for (uint64_t i = 3; i < n; i++)
		xtel_cbor_skip(c);
}

static void get_client(struct xtel_cbor_cur *c, struct xtel_rollup_client *rc,
		       struct dec_scratch *s)
{
	uint64_t n = xtel_cbor_get_map(c);

	memset(rc, 0, sizeof(*rc));
	for (uint64_t i = 0; i < n && !c->err; i++) {
		uint64_t k = xtel_cbor_get_uint(c);
		uint64_t *dst = NULL;

		switch (k) {
		case XTEL_CK_ID: {
			uint64_t id = xtel_cbor_get_uint(c);

			if (id > UINT32_MAX)
				c->err = -EBADMSG;
			rc->client_id = (uint32_t)id;
			continue;
		}
		case XTEL_CK_RECEIVED: dst = &rc->received; break;
		case XTEL_CK_BYTES: dst = &rc->bytes; break;
		case XTEL_CK_LOST: dst = &rc->lost; break;
		case XTEL_CK_PENDING: dst = &rc->pending; break;
		case XTEL_CK_DUPLICATES: dst = &rc->duplicates; break;
		case XTEL_CK_REORDERED: dst = &rc->reordered; break;
		case XTEL_CK_TOO_LATE: dst = &rc->too_late; break;
		case XTEL_CK_EPOCHS: dst = &rc->epochs; break;
		case XTEL_CK_FIRST_SEEN: dst = &rc->first_seen_ns; break;
		case XTEL_CK_LAST_SEEN: dst = &rc->last_seen_ns; break;
		case XTEL_CK_HIGHEST_SEQ: dst = &rc->highest_seq; break;
		case XTEL_CK_METRICS_DROPPED: dst = &rc->metrics_dropped; break;
		case XTEL_CK_BY_TYPE: {
			uint64_t nt = xtel_cbor_get_array(c);

			for (uint64_t t = 0; t < nt && !c->err; t++) {
				uint64_t v = xtel_cbor_get_uint(c);

				if (t <= XTEL_MSG_TYPE_MAX)
					rc->by_type[t] = v;
			}
			continue;
		}
		case XTEL_CK_BYE:
			rc->bye = xtel_cbor_get_bool(c);
			continue;
		case XTEL_CK_LAT:
			get_lat(c, rc, s);
			continue;
		case XTEL_CK_METRICS:
			get_metrics(c, rc, s);
			continue;
		case XTEL_CK_HEALTH:
			get_health(c, rc);
			continue;
		default:
			xtel_cbor_skip(c);
			continue;
		}
		*dst = xtel_cbor_get_uint(c);
	}
}

int xtel_rollup_decode(const void *data, size_t len, struct xtel_rollup_hdr *h,
		       xtel_rollup_client_fn *fn, void *arg)
{
	struct dec_scratch *s;
	struct xtel_cbor_cur c, totals = { 0 }, clients = { 0 };
	struct xtel_rollup_client rc;
	bool have_totals = false, have_clients = false, have_version = false;
	uint64_t n;
	int err;

	memset(h, 0, sizeof(*h));
	xtel_cbor_cur_init(&c, data, len);
	n = xtel_cbor_get_map(&c);
	for (uint64_t i = 0; i < n && !c.err; i++) {
		uint64_t k = xtel_cbor_get_uint(&c);

		switch (k) {
		case XTEL_RK_VERSION:
			h->version = (unsigned int)xtel_cbor_get_uint(&c);
			have_version = true;
			break;
		case XTEL_RK_SITE: get_name(&c, h->site, sizeof(h->site)); break;
		case XTEL_RK_EDGE: get_name(&c, h->edge, sizeof(h->edge)); break;
		case XTEL_RK_RUN: h->run = xtel_cbor_get_uint(&c); break;
		case XTEL_RK_SEQ: h->seq = xtel_cbor_get_uint(&c); break;
		case XTEL_RK_PART: h->part = (uint32_t)xtel_cbor_get_uint(&c); break;
		case XTEL_RK_PARTS: h->parts = (uint32_t)xtel_cbor_get_uint(&c); break;
		case XTEL_RK_TAKEN_NS: h->taken_ns = xtel_cbor_get_uint(&c); break;
		case XTEL_RK_INTERVAL_NS: h->interval_ns = xtel_cbor_get_uint(&c); break;
		case XTEL_RK_FINAL: h->final = xtel_cbor_get_bool(&c); break;
		case XTEL_RK_TOTALS:
			totals = c;
			have_totals = true;
			xtel_cbor_skip(&c);
			break;
		case XTEL_RK_CLIENTS:
			clients = c;
			have_clients = true;
			xtel_cbor_skip(&c);
			break;
		default:
			xtel_cbor_skip(&c);
		}
	}
	if (c.err || !have_version || !h->site[0] || !h->edge[0])
		return -EBADMSG;
	if (h->version != XTEL_ROLLUP_VERSION)
		return -EPROTONOSUPPORT;
	/* 33 KiB of scratch: per message, so any thread may decode */
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = 0;
	if (have_totals) {
		get_client(&totals, &rc, s);
		err = totals.err ? -EBADMSG : fn(arg, h, &rc, true);
	}
	n = have_clients && !err ? xtel_cbor_get_array(&clients) : 0;
	for (uint64_t i = 0; i < n && !err; i++) {
		get_client(&clients, &rc, s);
		err = clients.err ? -EBADMSG : fn(arg, h, &rc, false);
	}
	if (!err && have_clients && clients.err)
		err = -EBADMSG;
	free(s);
	return err;
}

/* A decimal field of id from p up to stop (exclusive); false if empty. */
static bool id_field(const char *p, const char *stop, uint64_t *v)
{
	char *end;

	if (p == stop || *p < '0' || *p > '9')
		return false;
	errno = 0;
	*v = strtoull(p, &end, 10);
	return !errno && end == stop;
}

bool xtel_rollup_parse_id(const char *id, struct xtel_rollup_id *out)
{
	const char *dot[3], *p = id + strlen(id);
	uint64_t part;

	/* from the right: the edge names no dot, but be strict anyway */
	for (int k = 2; k >= 0; k--) {
		while (p > id && p[-1] != '.')
			p--;
		if (p == id)
			return false;
		dot[k] = --p;
	}
	if (dot[0] == id || !id_field(dot[0] + 1, dot[1], &out->run) ||
	    !id_field(dot[1] + 1, dot[2], &out->seq) ||
	    !id_field(dot[2] + 1, id + strlen(id), &part) || part > UINT32_MAX)
		return false;
	out->part = (uint32_t)part;
	out->edge_len = (size_t)(dot[0] - id);
	out->key_len = (size_t)(dot[1] - id);
	return true;
}
