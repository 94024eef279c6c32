/* SPDX-License-Identifier: MIT */
/*
 * What the files of api/ share and main never sees: the server's state,
 * one request as the handlers see it (its view, its parameters) and the
 * reply they fill in. server.c owns the request's life (limits, routing,
 * authentication, the reply on the wire), the h_*.c files and metrics.c
 * turn a view into a reply, stats.c, sources.c, tokens.c and history.c
 * keep the state that lives between requests.
 *
 * Threads: libmicrohttpd calls the handlers and connection callbacks on
 * its pool threads (--http-threads), any of them for any connection; the
 * main thread touches the server only through api.h. So everything shared
 * has a lock (stats, sources, tokens, history) or is atomic (the receive
 * flag, omitted_series); a request's own state is its thread's alone.
 */
#ifndef XTEL_API_INTERNAL_H
#define XTEL_API_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "collector/api/api.h"
#include "collector/api/history.h"
#include "collector/api/sources.h"
#include "collector/api/stats.h"
#include "collector/api/stream.h"
#include "collector/api/tokens.h"
#include "collector/cli.h"
#include "collector/model.h"
#include "store/query.h"
#include "store/writer.h"

/*
 * Fixed limits of one request (docs/API.md, "Limits"): the request line
 * and headers together, the body (no endpoint takes one), query
 * parameters.
 */
enum {
	XTEL_API_MAX_HEADER_BYTES = 8192,	/* beyond: 431 */
	XTEL_API_MAX_BODY_BYTES = 4096,		/* beyond: 413 */
	XTEL_API_MAX_PARAMS = 16,		/* beyond: 400 */
	XTEL_API_MAX_PAGE = 10000,		/* /clients?limit= */
	XTEL_API_DEVICES_PAGE = 1000,		/* /devices' default limit */
};

/* Request methods as the route table's bits (HEAD is GET). */
enum {
	XTEL_API_M_GET = 1 << 0,
	XTEL_API_M_POST = 1 << 1,
	XTEL_API_M_PUT = 1 << 2,
	XTEL_API_M_PATCH = 1 << 3,
	XTEL_API_M_DELETE = 1 << 4,
};

struct xtel_devices;

struct xtel_api {
	const struct xtel_config *cfg;
	struct xtel_model *model;
	struct MHD_Daemon *daemon;
	int listen_fd;
	char *cert_pem, *key_pem;
	struct xtel_api_tokens *tokens;	/* NULL: no --http-tokens */
	struct xtel_api_sources *sources;
	struct xtel_api_stats stats;
	struct xtel_api_history *history;	/* NULL: --api-window 0 */
	struct xtel_api_streams *streams;	/* /api/v1/stream */
	/* --metrics-client-ids as sorted [lo, hi] ranges; n 0: the first N */
	struct xtel_api_id_range { uint32_t lo, hi; } *metric_ids;
	unsigned int n_metric_ids;
	uint64_t omitted_series;	/* /metrics: series left out (__atomic) */
	uint64_t started_mono_ns, started_real_ns;
	bool receiving;			/* __atomic */
	/* --db: the writer (its counters) and the history's readers */
	struct xtel_store *store;
	struct xtel_store_readers *store_readers;
	struct xtel_devices *devices;	/* NULL: no --db (main's; thread-safe) */
};

/* One query parameter as received (decoded, NUL-free). */
struct xtel_api_param {
	const char *key, *val;
};

struct xtel_api_req {
	struct xtel_api *api;
	const char *path;
	unsigned int endpoint;		/* enum xtel_api_endpoint */
	uint32_t path_id;		/* /clients/{id}, /devices/{id} */
	unsigned int method;		/* XTEL_API_M_* */
	const char *body;		/* routes that take one; NULL: none */
	size_t body_len;
	struct xtel_view *v;		/* the latest view, or NULL before one */
	uint64_t now_ns;		/* CLOCK_REALTIME at the request */
	const char *if_none_match;	/* the header, or NULL (the dashboard) */
	struct xtel_api_param params[XTEL_API_MAX_PARAMS];
	unsigned int n_params;
	bool accept_csv;		/* Accept: names text/csv */
};

struct xtel_api_reply {
	unsigned int status;
	json_t *json;			/* the body, or */
	char *text;			/* malloc'd (/metrics) */
	size_t text_len;
	const char *content_type;	/* with text */
	unsigned int retry_after;	/* 429: seconds; 0: none */
	const char *allow;		/* 405 */
	bool www_authenticate;		/* 401 */
	const struct xtel_asset *asset;	/* a dashboard file (h_web.c) */
	struct xtel_api_stream *stream;	/* /api/v1/stream: an event stream */
};

/* ---- replies (reply.c) ---- */

/*
 * A JSON error body {"error": {"status", "code", "message", "param"}};
 * param NULL when no parameter is at fault. Returns -1 for the caller's
 * convenience.
 */
int xtel_api_error(struct xtel_api_reply *rep, unsigned int status,
		   const char *code, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* rep->status = 200 and a fresh object for the body; NULL if out of memory. */
json_t *xtel_api_ok(struct xtel_api_reply *rep);

/* The value of parameter key, or NULL when not given. */
const char *xtel_api_param(const struct xtel_api_req *r, const char *key);

/*
 * Parameter key as a decimal in lo..hi (def when absent). Returns 0, or
 * -1 after a 400 naming the parameter and its range.
 */
int xtel_api_param_u64(const struct xtel_api_req *r,
		       struct xtel_api_reply *rep, const char *key,
		       uint64_t lo, uint64_t hi, uint64_t def, uint64_t *out);
int xtel_api_param_double(const struct xtel_api_req *r,
			  struct xtel_api_reply *rep, const char *key,
			  double lo, double hi, double *out, bool *given);

/*
 * Parameter key as one of choices (NULL-terminated), def when absent.
 * Returns the index, or -1 after a 400 listing the choices.
 */
int xtel_api_param_choice(const struct xtel_api_req *r,
			  struct xtel_api_reply *rep, const char *key,
			  const char *const *choices, int def);

/*
 * Parameter key as Unix seconds or an RFC 3339 time (h_history.c), def
 * when absent. Returns 0, or -1 after a 400 naming the parameter.
 */
int xtel_api_param_time(const struct xtel_api_req *r, struct xtel_api_reply *rep,
			const char *key, int64_t def, int64_t *out);

/* A metric name as the wire grammar has it: [A-Za-z0-9_.-]{1,32}. */
bool xtel_api_metric_name_ok(const char *s);

/* Seconds from ts_ns to the request (never negative: clock skew). */
double xtel_api_age_s(const struct xtel_api_req *r, uint64_t ts_ns);

/* The client of the request's view, or NULL (binary search by id). */
const struct xtel_view_client *xtel_api_find_client(const struct xtel_view *v,
						    uint32_t id);

/* The whole-run metric key of a client, or NULL. */
const struct xtel_run_metric *xtel_api_find_metric(const struct xtel_view_client *vc,
						   const char *key);

/* A value is fresh when its client is live and it is younger than --fresh-for. */
bool xtel_api_fresh(const struct xtel_api_req *r,
		    const struct xtel_view_client *vc, uint64_t ts_ns);

/* One client as /api/v1/clients has it (detail: /clients/{id}'s extras). */
json_t *xtel_api_client_json(const struct xtel_api_req *r,
			     const struct xtel_view_client *vc, bool detail);

/*
 * The lookups the value endpoints share (h_query.c): a client and a metric
 * named by parameters id_param and "metric" (0, or -1 after a 400/404),
 * and one value's fields (value, ts_ns, age_s, fresh, state) into o.
 */
int xtel_api_lookup_value(const struct xtel_api_req *r,
			  struct xtel_api_reply *rep, const char *id_param,
			  const struct xtel_view_client **vc_out,
			  const struct xtel_run_metric **m_out);
void xtel_api_value_json(json_t *o, const struct xtel_api_req *r,
			 const struct xtel_view_client *vc,
			 const struct xtel_run_metric *m);

/* One client's aggregate (h_query.c): counts and each metric's fold. */
struct xtel_api_fold {
	const char *key;
	uint64_t count;
	double min, max, sum;
};

struct xtel_api_agg {
	uint64_t received, lost, duplicates, reordered, too_late;
	unsigned int n;
	struct xtel_api_fold m[64];
};

/*
 * The aggregate of every client of the request's view (or of ?client_id=),
 * over the run or ?window= (with ?metric=: that metric only, and only the
 * clients that sent it). Calls fn once per client, puts window_s,
 * intervals, from_ns and to_ns into meta. Returns 0, or -1 after an error
 * reply.
 */
int xtel_api_aggregate(struct xtel_api_req *r, struct xtel_api_reply *rep,
		       void (*fn)(void *arg, const struct xtel_view_client *vc,
				  const struct xtel_api_agg *agg),
		       void *arg, json_t *meta);

/* Seconds since the server started. */
double xtel_api_uptime_s(const struct xtel_api *api);

/* ---- handlers (h_clients.c, h_query.c, h_status.c, h_seed.c, h_health.c,
 * metrics.c, h_web.c) ---- */

typedef void xtel_api_handler_fn(struct xtel_api_req *r,
				 struct xtel_api_reply *rep);

xtel_api_handler_fn xtel_api_h_clients, xtel_api_h_client;
xtel_api_handler_fn xtel_api_h_get, xtel_api_h_list, xtel_api_h_aggregate;
xtel_api_handler_fn xtel_api_h_totals, xtel_api_h_stats;
xtel_api_handler_fn xtel_api_h_healthz, xtel_api_h_readyz, xtel_api_h_reload;
xtel_api_handler_fn xtel_api_h_seed_get, xtel_api_h_seed_list;
xtel_api_handler_fn xtel_api_h_seed_aggregate, xtel_api_h_seed_stats;
xtel_api_handler_fn xtel_api_h_metrics;
xtel_api_handler_fn xtel_api_h_stream, xtel_api_h_dashboard;
xtel_api_handler_fn xtel_api_h_history, xtel_api_h_history_totals;
xtel_api_handler_fn xtel_api_h_probes_summary, xtel_api_h_probes_analysis;
xtel_api_handler_fn xtel_api_h_probes_series;
xtel_api_handler_fn xtel_api_h_devices, xtel_api_h_device;
xtel_api_handler_fn xtel_api_h_health, xtel_api_h_health_client, xtel_api_h_events;

#endif /* XTEL_API_INTERNAL_H */
