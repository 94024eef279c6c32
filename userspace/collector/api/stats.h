/* SPDX-License-Identifier: MIT */
/*
 * The API's own observability (GET /api/v1/stats, the xtel_api_* series of
 * /metrics): per endpoint the requests, the replies by status code and the
 * latency from the request's arrival to its reply being queued (a
 * log-linear histogram, acct/latency.h: exact count, min, max and sum, p99
 * within 0.8%); and the requests refused before any endpoint saw them,
 * by reason. Written on the server thread, read there too; the lock is for
 * the rare reader elsewhere (tests, a future thread pool).
 */
#ifndef XTEL_API_STATS_H
#define XTEL_API_STATS_H

#include <pthread.h>
#include <stdint.h>

#include "acct/latency.h"
#include "common/counter.h"

/*
 * The endpoints: X(ENUM, "name", "path"), the name a JSON key and a
 * Prometheus label value (docs/API.md). UNKNOWN counts paths that match
 * no endpoint.
 */
#define XTEL_API_ENDPOINTS(X)						\
	X(CLIENTS, "clients", "/api/v1/clients")			\
	X(CLIENT, "client", "/api/v1/clients/{id}")			\
	X(GET, "get", "/api/v1/get")					\
	X(LIST, "list", "/api/v1/list")					\
	X(AGGREGATE, "aggregate", "/api/v1/aggregate")			\
	X(TOTALS, "totals", "/api/v1/totals")				\
	X(STATS, "stats", "/api/v1/stats")				\
	X(RELOAD, "reload", "/api/v1/admin/reload")			\
	X(HEALTHZ, "healthz", "/healthz")				\
	X(READYZ, "readyz", "/readyz")					\
	X(METRICS, "metrics", "/metrics")				\
	X(HEALTH, "health", "/api/v1/health")				\
	X(HEALTH_CLIENT, "health_client", "/api/v1/health/{id}")	\
	X(EVENTS, "events", "/api/v1/events")				\
	X(SEED_GET, "telemetry_get", "/telemetry/get")			\
	X(SEED_LIST, "telemetry_list", "/telemetry/list")		\
	X(SEED_AGGREGATE, "telemetry_aggregate", "/telemetry/aggregate") \
	X(SEED_STATS, "telemetry_stats", "/telemetry/stats")		\
	X(STREAM, "stream", "/api/v1/stream")				\
	X(DASHBOARD, "dashboard", "/")					\
	X(HISTORY, "history", "/api/v1/history")			\
	X(HISTORY_TOTALS, "history_totals", "/api/v1/history/totals")	\
	X(PROBES_SUMMARY, "probes_summary", "/api/v1/probes/summary")	\
	X(PROBES_ANALYSIS, "probes_analysis", "/api/v1/probes/analysis") \
	X(PROBES_SERIES, "probes_series", "/api/v1/probes/series")	\
	X(DEVICES, "devices", "/api/v1/devices")			\
	X(DEVICE, "device", "/api/v1/devices/{id}")			\
	X(UNKNOWN, "unknown", "")

enum xtel_api_endpoint {
#define X(id, name, path) XTEL_API_EP_##id,
	XTEL_API_ENDPOINTS(X)
#undef X
	XTEL_API_EP_MAX,
};

struct xtel_api_endpoint_desc {
	const char *name;	/* JSON key in /api/v1/stats, Prometheus label */
	const char *path;	/* as documented ({id} for the client id) */
};

extern const struct xtel_api_endpoint_desc xtel_api_endpoints[XTEL_API_EP_MAX];

/*
 * Why a request was refused before its endpoint ran, a counter table
 * (common/counter.h): X(ENUM, "name", "unit", "help").
 */
#define XTEL_API_REFUSALS(X)						\
	X(UNAUTHORIZED, "unauthorized", "requests", "no or unknown bearer token (401)") \
	X(FORBIDDEN, "forbidden", "requests", "token without the endpoint's scope (403)") \
	X(RATE_LIMITED, "rate_limited", "requests", "source over --http-rate (429)") \
	X(CONNECTIONS, "connections", "connections",			\
	  "connection closed at accept: source over --http-source-conns") \
	X(HEADERS_TOO_LARGE, "headers_too_large", "requests",		\
	  "request line and headers over 8192 bytes (431)")		\
	X(BODY_TOO_LARGE, "body_too_large", "requests", "body over 4096 bytes (413)") \
	X(STREAMS, "streams", "requests", "/api/v1/stream over --http-streams (503)")

enum xtel_api_refusal {
#define X(id, name, unit, help) XTEL_API_REFUSED_##id,
	XTEL_API_REFUSALS(X)
#undef X
	XTEL_API_REFUSED_MAX,
};

extern const struct xtel_counter_desc xtel_api_refusals[XTEL_API_REFUSED_MAX];

/* The status codes the API answers with, counted one by one. */
enum { XTEL_API_N_CODES = 14 };
extern const unsigned int xtel_api_codes[XTEL_API_N_CODES];

struct xtel_api_ep_stats {
	uint64_t requests;
	uint64_t by_code[XTEL_API_N_CODES];
	uint64_t errors;		/* replies with status >= 400 */
	struct xtel_latency lat;	/* arrival to reply queued, ns */
};

struct xtel_api_stats {
	pthread_mutex_t lock;
	struct xtel_api_ep_stats ep[XTEL_API_EP_MAX];
	uint64_t refused[XTEL_API_REFUSED_MAX];
	uint64_t connections;		/* accepted over the run */
	uint64_t open_connections;
	uint64_t token_reloads, token_reload_errors;
};

void xtel_api_stats_init(struct xtel_api_stats *s);
void xtel_api_stats_fini(struct xtel_api_stats *s);

/* One reply: its endpoint, status and how long it took. */
void xtel_api_stats_reply(struct xtel_api_stats *s, unsigned int ep,
			  unsigned int status, uint64_t ns);
void xtel_api_stats_refused(struct xtel_api_stats *s, unsigned int why);

/* Index of status in xtel_api_codes, or -1. */
int xtel_api_code_index(unsigned int status);

/*
 * A consistent copy (the histograms summarised), for a renderer that must
 * not hold the lock while it writes.
 */
struct xtel_api_stats_copy {
	struct {
		uint64_t requests, errors;
		uint64_t by_code[XTEL_API_N_CODES];
		struct xtel_lat_summary lat;
	} ep[XTEL_API_EP_MAX];
	uint64_t refused[XTEL_API_REFUSED_MAX];
	uint64_t connections, open_connections;
	uint64_t token_reloads, token_reload_errors;
	uint64_t requests, errors;	/* over every endpoint */
};

void xtel_api_stats_copy(struct xtel_api_stats *s,
			 struct xtel_api_stats_copy *out);

#endif /* XTEL_API_STATS_H */
