// SPDX-License-Identifier: MIT
/*
 * The API's counters (stats.h): one struct per endpoint under one lock.
 * A reply costs a lock, two adds and a histogram record.
 */
#include <string.h>

#include "collector/api/stats.h"

const struct xtel_api_endpoint_desc xtel_api_endpoints[XTEL_API_EP_MAX] = {
#define X(id, nm, pt) [XTEL_API_EP_##id] = { .name = (nm), .path = (pt) },
	XTEL_API_ENDPOINTS(X)
#undef X
};

const struct xtel_counter_desc xtel_api_refusals[XTEL_API_REFUSED_MAX] = {
#define X(id, name, unit, help) XTEL_COUNTER_DESC(XTEL_API_REFUSED_, id, name, unit, help)
	XTEL_API_REFUSALS(X)
#undef X
};

const unsigned int xtel_api_codes[XTEL_API_N_CODES] = {
	200, 400, 401, 403, 404, 405, 413, 429, 431, 500, 503,
	204, 304, 414,
};

int xtel_api_code_index(unsigned int status)
{
	for (int i = 0; i < XTEL_API_N_CODES; i++)
		if (xtel_api_codes[i] == status)
			return i;
	return -1;
}

void xtel_api_stats_init(struct xtel_api_stats *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	for (unsigned int i = 0; i < XTEL_API_EP_MAX; i++)
		xtel_latency_init(&s->ep[i].lat);
}

void xtel_api_stats_fini(struct xtel_api_stats *s)
{
	for (unsigned int i = 0; i < XTEL_API_EP_MAX; i++)
		xtel_latency_destroy(&s->ep[i].lat);
	pthread_mutex_destroy(&s->lock);
}

void xtel_api_stats_reply(struct xtel_api_stats *s, unsigned int ep,
			  unsigned int status, uint64_t ns)
{
	struct xtel_api_ep_stats *e;
	int ci = xtel_api_code_index(status);

	if (ep >= XTEL_API_EP_MAX)
		ep = XTEL_API_EP_UNKNOWN;
	e = &s->ep[ep];
	pthread_mutex_lock(&s->lock);
	e->requests++;
	if (ci >= 0)
		e->by_code[ci]++;
	if (status >= 400)
		e->errors++;
	/* a failed block allocation loses the sample, counted by latency.c */
	(void)xtel_latency_record(&e->lat, (int64_t)ns);
	pthread_mutex_unlock(&s->lock);
}

void xtel_api_stats_refused(struct xtel_api_stats *s, unsigned int why)
{
	if (why >= XTEL_API_REFUSED_MAX)
		return;
	pthread_mutex_lock(&s->lock);
	s->refused[why]++;
	pthread_mutex_unlock(&s->lock);
}

void xtel_api_stats_copy(struct xtel_api_stats *s,
			 struct xtel_api_stats_copy *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	for (unsigned int i = 0; i < XTEL_API_EP_MAX; i++) {
		const struct xtel_api_ep_stats *e = &s->ep[i];

		out->ep[i].requests = e->requests;
		out->ep[i].errors = e->errors;
		memcpy(out->ep[i].by_code, e->by_code, sizeof(e->by_code));
		xtel_latency_summary(&e->lat, &out->ep[i].lat);
		out->requests += e->requests;
		out->errors += e->errors;
	}
	memcpy(out->refused, s->refused, sizeof(s->refused));
	out->connections = s->connections;
	out->open_connections = s->open_connections;
	out->token_reloads = s->token_reloads;
	out->token_reload_errors = s->token_reload_errors;
	pthread_mutex_unlock(&s->lock);
}
