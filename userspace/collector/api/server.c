// SPDX-License-Identifier: MIT
/*
 * The HTTP server of the API (api.h): libmicrohttpd's internal threads
 * (--http-threads, a pool sharing the listening socket, each with epoll),
 * on a listening socket bound here (so a bind error is ours to
 * explain, and nothing listens on 0.0.0.0 by accident), and the life of
 * one request:
 *
 *   first call   size limits (431, 413), route (404), method (405), rate
 *                limit (429), bearer token (401, 403), query parameters
 *                (400): a refusal is queued at once, and then the
 *                connection closes;
 *   body calls   counted; kept (up to the body limit) for the routes
 *                that take one (the device writes), else discarded;
 *   last call    the latest view is taken, the endpoint's handler fills
 *                the reply from it, the reply is queued, the view put back.
 *
 * Queuing a successful reply on the last call rather than the first keeps
 * the connection alive (libmicrohttpd closes one answered before it read
 * the whole request). Per-source connection caps are enforced at accept:
 * the count rises when a connection starts, so with a pool two threads
 * accepting from one source at the same instant may both pass the check
 * (the cap can be exceeded by at most the threads less one).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/parse.h"
#include "collector/api/assets.h"
#include "collector/api/internal.h"

enum {
	M_GET = XTEL_API_M_GET, M_POST = XTEL_API_M_POST, M_PUT = XTEL_API_M_PUT,
	M_PATCH = XTEL_API_M_PATCH, M_DELETE = XTEL_API_M_DELETE,
};

struct route {
	const char *path;		/* exact, or a prefix ending in '/' for {id} */
	unsigned int ep;
	unsigned int methods;
	enum xtel_api_scope scope;	/* NONE: open even with tokens */
	bool needs_view;
	const char *const *params;	/* accepted query parameters */
	xtel_api_handler_fn *fn;
	/* Methods other than GET need this scope instead (NONE: scope). */
	enum xtel_api_scope write_scope;
	bool body;			/* takes a body (kept, not discarded) */
};

static const char *const p_none[] = { NULL };
static const char *const p_clients[] = { "state", "sort", "order", "limit",
					 "offset", "site", NULL };
static const char *const p_site[] = { "site", NULL };
static const char *const p_get[] = { "client_id", "metric", NULL };
static const char *const p_list[] = { "metric", "state", NULL };
static const char *const p_agg[] = { "metric", "window", "client_id", NULL };
static const char *const p_seed_get[] = { "switch_id", "metric", NULL };
static const char *const p_seed_list[] = { "metric", NULL };
static const char *const p_stream[] = { "rows", "token", NULL };
static const char *const p_history[] = { "client_id", "metric", "from", "to",
					 "step", "format", NULL };
static const char *const p_history_totals[] = { "from", "to", "step",
						"format", NULL };
static const char *const p_probes[] = { "from", "to", "tier", NULL };
static const char *const p_probes_analysis[] = { "from", "to", "tier", "device",
	"congested_frac", "min_episode", "window", "worst", "tz_offset", NULL };
static const char *const p_probes_series[] = { "from", "to", "tier", "device",
					       NULL };
static const char *const p_health[] = { "state", "limit", "offset", NULL };
static const char *const p_events[] = { "after", "limit", "client_id", "from",
				       "to", "offset", "source", NULL };
static const char *const p_devices[] = { "limit", "offset", "after", NULL };

#define R_GET(p, e, prm, f) { p, XTEL_API_EP_##e, M_GET, XTEL_API_SCOPE_READ, true, prm, f }

static const struct route routes[] = {
	R_GET("/api/v1/clients", CLIENTS, p_clients, xtel_api_h_clients),
	R_GET("/api/v1/clients/", CLIENT, p_site, xtel_api_h_client),
	R_GET("/api/v1/get", GET, p_get, xtel_api_h_get),
	R_GET("/api/v1/list", LIST, p_list, xtel_api_h_list),
	R_GET("/api/v1/aggregate", AGGREGATE, p_agg, xtel_api_h_aggregate),
	R_GET("/api/v1/totals", TOTALS, p_site, xtel_api_h_totals),
	{ "/api/v1/stats", XTEL_API_EP_STATS, M_GET, XTEL_API_SCOPE_READ,
	  false, p_none, xtel_api_h_stats },
	{ "/api/v1/admin/reload", XTEL_API_EP_RELOAD, M_POST,
	  XTEL_API_SCOPE_ADMIN, false, p_none, xtel_api_h_reload },
	{ "/healthz", XTEL_API_EP_HEALTHZ, M_GET, XTEL_API_SCOPE_NONE, false,
	  p_none, xtel_api_h_healthz },
	{ "/readyz", XTEL_API_EP_READYZ, M_GET, XTEL_API_SCOPE_NONE, false,
	  p_none, xtel_api_h_readyz },
	R_GET("/metrics", METRICS, p_none, xtel_api_h_metrics),
	R_GET("/api/v1/health", HEALTH, p_health, xtel_api_h_health),
	R_GET("/api/v1/health/", HEALTH_CLIENT, p_none, xtel_api_h_health_client),
	R_GET("/api/v1/events", EVENTS, p_events, xtel_api_h_events),
	R_GET("/telemetry/get", SEED_GET, p_seed_get, xtel_api_h_seed_get),
	R_GET("/telemetry/list", SEED_LIST, p_seed_list, xtel_api_h_seed_list),
	R_GET("/telemetry/aggregate", SEED_AGGREGATE, p_none,
	      xtel_api_h_seed_aggregate),
	{ "/telemetry/stats", XTEL_API_EP_SEED_STATS, M_GET,
	  XTEL_API_SCOPE_READ, false, p_none, xtel_api_h_seed_stats },
	/* the dashboard (h_web.c): the stream waits for the first view */
	{ "/api/v1/stream", XTEL_API_EP_STREAM, M_GET, XTEL_API_SCOPE_READ,
	  false, p_stream, xtel_api_h_stream },
	{ "/", XTEL_API_EP_DASHBOARD, M_GET, XTEL_API_SCOPE_NONE, false,
	  p_none, xtel_api_h_dashboard },
	{ "/static/", XTEL_API_EP_DASHBOARD, M_GET, XTEL_API_SCOPE_NONE, false,
	  p_none, xtel_api_h_dashboard },
	{ "/api/v1/history", XTEL_API_EP_HISTORY, M_GET, XTEL_API_SCOPE_READ,
	  false, p_history, xtel_api_h_history },
	{ "/api/v1/history/totals", XTEL_API_EP_HISTORY_TOTALS, M_GET,
	  XTEL_API_SCOPE_READ, false, p_history_totals,
	  xtel_api_h_history_totals },
	{ "/api/v1/probes/summary", XTEL_API_EP_PROBES_SUMMARY, M_GET,
	  XTEL_API_SCOPE_READ, false, p_probes, xtel_api_h_probes_summary },
	{ "/api/v1/probes/analysis", XTEL_API_EP_PROBES_ANALYSIS, M_GET,
	  XTEL_API_SCOPE_READ, false, p_probes_analysis, xtel_api_h_probes_analysis },
	{ "/api/v1/probes/series", XTEL_API_EP_PROBES_SERIES, M_GET,
	  XTEL_API_SCOPE_READ, false, p_probes_series, xtel_api_h_probes_series },
	{ "/api/v1/devices", XTEL_API_EP_DEVICES, M_GET | M_POST,
	  XTEL_API_SCOPE_READ, false, p_devices, xtel_api_h_devices,
	  XTEL_API_SCOPE_ADMIN, true },
	{ "/api/v1/devices/", XTEL_API_EP_DEVICE,
	  M_GET | M_PUT | M_PATCH | M_DELETE, XTEL_API_SCOPE_READ, false,
	  p_none, xtel_api_h_device, XTEL_API_SCOPE_ADMIN, true },
};

/* One request's state between libmicrohttpd's calls. */
struct conn_req {
	struct xtel_api_req r;
	struct xtel_api_reply rep;
	const struct route *route;
	uint64_t t0;			/* CLOCK_MONOTONIC at the first call */
	uint64_t body;			/* bytes received */
	char *body_buf;			/* kept for routes that take a body */
	bool queued;
};

/* ---- the reply on the wire ---- */

static char empty[1];	/* the body of a reply that has none */

static void snapshot_json(json_t *o, const struct xtel_api_req *r)
{
	json_t *s;

	if (!r->v)
		return;
	s = json_object();
	xtel_json_set(s, "seq", xtel_json_u64(r->v->seq));
	xtel_json_set(s, "taken_ns", xtel_json_u64(r->v->taken_ns));
	xtel_json_set(s, "age_s", xtel_json_fixed(xtel_api_age_s(r, r->v->taken_ns), 6));
	xtel_json_set(s, "final", json_boolean(r->v->final));
	xtel_json_set(o, "snapshot", s);
}

/*
 * The dashboard's replies: an embedded file (from the binary, never
 * copied; 304 without a body when the ETag matched) or an event stream.
 */
static enum MHD_Result queue_web(struct MHD_Connection *c, struct conn_req *q)
{
	struct xtel_api_reply *rep = &q->rep;
	const struct xtel_asset *a = rep->asset;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (rep->stream) {
		resp = xtel_api_stream_response(rep->stream, c);
		rep->stream = NULL;	/* the response's now */
	} else {
		/* PERSISTENT: libmicrohttpd neither frees nor writes it */
		resp = MHD_create_response_from_buffer(
			rep->status == 304 ? 0 : a->len,
			rep->status == 304 ? (void *)empty :
			(void *)(uintptr_t)a->data, MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	if (a) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					a->content_type);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
					a->cache_control);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, a->etag);
		MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	} else {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/event-stream");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
					"no-store");
	}
	ret = MHD_queue_response(c, rep->status, resp);
	MHD_destroy_response(resp);
	q->queued = true;
	xtel_view_put(q->r.v);
	q->r.v = NULL;
	xtel_api_stats_reply(&q->r.api->stats, q->r.endpoint, rep->status,
			     xtel_mono_ns() - q->t0);
	return ret;
}

static enum MHD_Result queue(struct MHD_Connection *c, struct conn_req *q)
{
	struct xtel_api *api = q->r.api;
	struct xtel_api_reply *rep = &q->rep;
	struct MHD_Response *resp;
	char *body = NULL;
	size_t len = 0;
	const char *ctype = "application/json";
	enum MHD_Result ret;
	char num[24];

	if (rep->stream || rep->asset)
		return queue_web(c, q);
	if (!q->r.v && q->r.endpoint != XTEL_API_EP_METRICS)
		q->r.v = xtel_model_view(api->model);
	if (rep->text) {
		body = rep->text;
		len = rep->text_len;
		rep->text = NULL;
		ctype = rep->content_type;
	} else {
		if (!rep->json)
			xtel_api_error(rep, 500, "internal", NULL,
				       "the endpoint made no reply");
		snapshot_json(rep->json, &q->r);
		if (xtel_json_dump_alloc(rep->json, &body, &len)) {
			static const char oom[] = "{\"error\":{\"status\":500,"
				"\"code\":\"out_of_memory\",\"message\":"
				"\"out of memory\",\"param\":null}}";

			rep->status = 500;
			body = strdup(oom);
			len = body ? strlen(body) : 0;
		}
	}
	resp = MHD_create_response_from_buffer(len, body ? body : empty,
					       body ? MHD_RESPMEM_MUST_FREE :
						      MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (rep->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rep->allow);
	if (rep->retry_after) {
		snprintf(num, sizeof(num), "%u", rep->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	if (rep->www_authenticate)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"xtel\"");
	ret = MHD_queue_response(c, rep->status, resp);
	MHD_destroy_response(resp);
	q->queued = true;
	/*
	 * The body is bytes now: drop the JSON tree and the view here, not
	 * when the connection is done with the request. A whole-fleet reply's
	 * tree is hundreds of MB at 100k clients; freed at completion, its
	 * cost fell on the next request of the connection, and the view
	 * outlived the next interval.
	 */
	json_decref(rep->json);
	rep->json = NULL;
	xtel_view_put(q->r.v);
	q->r.v = NULL;
	xtel_api_stats_reply(&api->stats, q->r.endpoint, rep->status,
			     xtel_mono_ns() - q->t0);
	return ret;
}

/* ---- first call: everything that can refuse a request ---- */

struct header_sum {
	size_t bytes;
};

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind,
				       const char *key, const char *value)
{
	struct header_sum *s = cls;

	s->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

struct param_walk {
	struct conn_req *q;
	const struct route *route;
	int err;			/* 0, or -1 after a 400 */
};

static bool param_known(const struct route *rt, const char *key)
{
	for (unsigned int i = 0; rt->params[i]; i++)
		if (!strcmp(rt->params[i], key))
			return true;
	return false;
}

static enum MHD_Result add_param(void *cls, enum MHD_ValueKind kind,
				 const char *key, size_t key_size,
				 const char *value, size_t value_size)
{
	struct param_walk *w = cls;
	struct xtel_api_req *r = &w->q->r;
	struct xtel_api_reply *rep = &w->q->rep;

	if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
		w->err = xtel_api_error(rep, 400, "bad_parameter", NULL,
					"a parameter holds a NUL byte");
		return MHD_NO;
	}
	if (!param_known(w->route, key)) {
		w->err = xtel_api_error(rep, 400, "unknown_parameter", key,
					"%s takes no parameter '%s'",
					xtel_api_endpoints[w->route->ep].path,
					key);
		return MHD_NO;
	}
	if (xtel_api_param(r, key)) {
		w->err = xtel_api_error(rep, 400, "repeated_parameter", key,
					"parameter '%s' given twice", key);
		return MHD_NO;
	}
	if (r->n_params == XTEL_API_MAX_PARAMS) {
		w->err = xtel_api_error(rep, 400, "too_many_parameters", NULL,
					"more than %d parameters",
					XTEL_API_MAX_PARAMS);
		return MHD_NO;
	}
	r->params[r->n_params++] = (struct xtel_api_param){
		.key = key, .val = value ? value : "",
	};
	return MHD_YES;
}

static const struct route *find_route(const char *url, bool *path_ok)
{
	*path_ok = true;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		size_t n = strlen(rt->path);

		if (n > 1 && rt->path[n - 1] == '/') {
			if (!strncmp(url, rt->path, n) && url[n] &&
			    !strchr(url + n, '/'))
				return rt;
		} else if (!strcmp(url, rt->path)) {
			return rt;
		}
	}
	*path_ok = false;
	return NULL;
}

static unsigned int method_bit(const char *method)
{
	if (!strcmp(method, MHD_HTTP_METHOD_GET) ||
	    !strcmp(method, MHD_HTTP_METHOD_HEAD))
		return M_GET;
	if (!strcmp(method, MHD_HTTP_METHOD_POST))
		return M_POST;
	if (!strcmp(method, MHD_HTTP_METHOD_PUT))
		return M_PUT;
	if (!strcmp(method, "PATCH"))
		return M_PATCH;
	if (!strcmp(method, MHD_HTTP_METHOD_DELETE))
		return M_DELETE;
	return 0;
}

/* The Allow header of a route's methods. */
static const char *allow_header(unsigned int methods)
{
	static const char *const names[] = { "GET, HEAD", "POST", "PUT",
					     "PATCH", "DELETE" };
	static __thread char buf[64];

	buf[0] = '\0';
	for (unsigned int i = 0; i < 5; i++)
		if (methods & (1u << i))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
				 "%s%s", buf[0] ? ", " : "", names[i]);
	return buf;
}

static const struct sockaddr *client_addr(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	return ci ? ci->client_addr : NULL;
}

/* Returns 0 to go on, -1 when q->rep holds the refusal. */
static int admit(struct MHD_Connection *c, struct conn_req *q,
		 const char *url, const char *method)
{
	struct xtel_api *api = q->r.api;
	struct xtel_api_reply *rep = &q->rep;
	struct header_sum hs = { strlen(url) + strlen(method) + 12 };
	const char *cl, *auth;
	const struct route *rt;
	struct param_walk w;
	unsigned int wait;
	enum xtel_api_scope need;
	bool path_ok;
	uint64_t n;

	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header_size, &hs);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_header_size, &hs);
	if (hs.bytes > XTEL_API_MAX_HEADER_BYTES) {
		xtel_api_stats_refused(&api->stats, XTEL_API_REFUSED_HEADERS_TOO_LARGE);
		return xtel_api_error(rep, 431, "headers_too_large", NULL,
				      "request line and headers are over %d "
				      "bytes", XTEL_API_MAX_HEADER_BYTES);
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && (xtel_parse_u64(cl, 0, UINT64_MAX, &n) ||
		   n > XTEL_API_MAX_BODY_BYTES)) {
		xtel_api_stats_refused(&api->stats, XTEL_API_REFUSED_BODY_TOO_LARGE);
		return xtel_api_error(rep, 413, "body_too_large", NULL,
				      "a body of at most %d bytes is "
				      "accepted, and ignored",
				      XTEL_API_MAX_BODY_BYTES);
	}
	rt = find_route(url, &path_ok);
	if (!rt)
		return xtel_api_error(rep, 404, "not_found", NULL,
				      "no endpoint at this path (docs/API.md "
				      "lists them)");
	q->route = rt;
	q->r.endpoint = rt->ep;
	need = rt->scope;
	q->r.method = method_bit(method);
	if (!(q->r.method & rt->methods)) {
		rep->allow = allow_header(rt->methods);
		return xtel_api_error(rep, 405, "method_not_allowed", NULL,
				      "%s answers %s only",
				      xtel_api_endpoints[rt->ep].path,
				      rep->allow);
	}
	wait = xtel_api_sources_request(api->sources, client_addr(c),
					xtel_mono_ns());
	if (wait) {
		xtel_api_stats_refused(&api->stats, XTEL_API_REFUSED_RATE_LIMITED);
		rep->retry_after = wait;
		return xtel_api_error(rep, 429, "rate_limited", NULL,
				      "more than %u requests/s from this "
				      "source: retry after %u s",
				      api->cfg->http_rate, wait);
	}
	if (rt->write_scope != XTEL_API_SCOPE_NONE && q->r.method != M_GET)
		need = rt->write_scope;
	if (need == XTEL_API_SCOPE_ADMIN && !api->tokens) {
		xtel_api_stats_refused(&api->stats, XTEL_API_REFUSED_FORBIDDEN);
		return xtel_api_error(rep, 403, "forbidden", NULL,
				      "admin endpoints need --http-tokens");
	}
	if (api->tokens && need != XTEL_API_SCOPE_NONE) {
		enum xtel_api_scope have = XTEL_API_SCOPE_NONE;

		auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						   MHD_HTTP_HEADER_AUTHORIZATION);
		if (auth && !strncasecmp(auth, "Bearer ", 7))
			have = xtel_api_tokens_scope(api->tokens, auth + 7,
						     strlen(auth + 7));
		/* EventSource sends no headers: the stream takes ?token= */
		if (!auth && rt->ep == XTEL_API_EP_STREAM) {
			auth = MHD_lookup_connection_value(c,
					MHD_GET_ARGUMENT_KIND, "token");
			if (auth)
				have = xtel_api_tokens_scope(api->tokens, auth,
							     strlen(auth));
		}
		if (have == XTEL_API_SCOPE_NONE) {
			xtel_api_stats_refused(&api->stats,
					       XTEL_API_REFUSED_UNAUTHORIZED);
			rep->www_authenticate = true;
			return xtel_api_error(rep, 401, "unauthorized", NULL,
					      auth ? "unknown bearer token" :
					      "send Authorization: Bearer "
					      "<token>");
		}
		if (have < need) {
			xtel_api_stats_refused(&api->stats,
					       XTEL_API_REFUSED_FORBIDDEN);
			return xtel_api_error(rep, 403, "forbidden", NULL,
					      "this endpoint needs a token of "
					      "scope admin");
		}
	}
	w = (struct param_walk){ .q = q, .route = rt };
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, add_param, &w);
	if (w.err)
		return -1;
	/* .../{id}; the dashboard's "/" and "/static/NAME" name files */
	if (rt->ep != XTEL_API_EP_DASHBOARD &&
	    rt->path[strlen(rt->path) - 1] == '/') {
		uint64_t id;

		if (xtel_parse_u64(url + strlen(rt->path), 0, UINT32_MAX, &id))
			return xtel_api_error(rep, 400, "bad_parameter", "id",
					      "the client id in the path must "
					      "be a whole number in "
					      "0..4294967295");
		q->r.path_id = (uint32_t)id;
	}
	return 0;
}

/* Accept: text/csv (the history's CSV form); q=0 is not refused here. */
static bool accepts_csv(struct MHD_Connection *c)
{
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_ACCEPT);

	return a && strcasestr(a, "text/csv");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct xtel_api *api = cls;
	struct conn_req *q = *con_cls;

	if (!q) {
		q = calloc(1, sizeof(*q));
		if (!q)
			return MHD_NO;
		*con_cls = q;
		q->t0 = xtel_mono_ns();
		q->r.api = api;
		q->r.path = url;
		q->r.endpoint = XTEL_API_EP_UNKNOWN;
		q->r.now_ns = xtel_realtime_ns();
		q->r.if_none_match = MHD_lookup_connection_value(c,
			MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
		q->r.accept_csv = accepts_csv(c);
		if (admit(c, q, url, method))
			return queue(c, q);
		return MHD_YES;
	}
	if (q->queued) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		if (q->route->body && q->body + *upload_size <= XTEL_API_MAX_BODY_BYTES) {
			if (!q->body_buf)
				q->body_buf = malloc(XTEL_API_MAX_BODY_BYTES);
			if (!q->body_buf)
				return MHD_NO;
			memcpy(q->body_buf + q->body, upload, *upload_size);
		}
		q->body += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->body > XTEL_API_MAX_BODY_BYTES) {
		xtel_api_stats_refused(&api->stats, XTEL_API_REFUSED_BODY_TOO_LARGE);
		xtel_api_error(&q->rep, 413, "body_too_large", NULL,
			       "a body of at most %d bytes is accepted, and "
			       "ignored", XTEL_API_MAX_BODY_BYTES);
		return queue(c, q);
	}
	q->r.now_ns = xtel_realtime_ns();
	if (q->route->body && q->body) {
		q->r.body = q->body_buf;
		q->r.body_len = (size_t)q->body;
	}
	q->r.v = xtel_model_view(api->model);
	if (q->route->needs_view && !q->r.v)
		xtel_api_error(&q->rep, 503, "no_snapshot", NULL,
			       "no snapshot yet: the first comes one "
			       "--interval after the start");
	else
		q->route->fn(&q->r, &q->rep);
	return queue(c, q);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn_req *q = *con_cls;

	if (!q)
		return;
	xtel_view_put(q->r.v);
	json_decref(q->rep.json);
	free(q->rep.text);
	xtel_api_stream_abandon(q->rep.stream);
	free(q->body_buf);
	free(q);
	*con_cls = NULL;
}

/* ---- connections ---- */

static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa,
				 socklen_t len)
{
	struct xtel_api *api = cls;

	if (xtel_api_sources_may_connect(api->sources, sa))
		return MHD_YES;
	xtel_api_stats_refused(&api->stats, XTEL_API_REFUSED_CONNECTIONS);
	return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **sock_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct xtel_api *api = cls;
	const struct sockaddr *sa = client_addr(c);

	pthread_mutex_lock(&api->stats.lock);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		api->stats.connections++;
		api->stats.open_connections++;
	} else if (api->stats.open_connections) {
		api->stats.open_connections--;
	}
	pthread_mutex_unlock(&api->stats.lock);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		xtel_api_sources_opened(api->sources, sa);
	else
		xtel_api_sources_closed(api->sources, sa);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	xtel_log_ratelimited(XTEL_LOG_WARN, xtel_mono_ns(), "http: %s", msg);
}

/* ---- life cycle ---- */

static int read_file(const char *opt, const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	char *buf;
	int rc;

	if (!f || fstat(fileno(f), &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > (1 << 20)) {
		rc = !f ? -errno : -EINVAL;
		pr_err("--%s %s: %s", opt, path, !f ? strerror(errno) :
		       "not a regular file of at most 1 MiB");
		if (f)
			fclose(f);
		return rc;
	}
	buf = calloc(1, (size_t)st.st_size + 1);
	if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		pr_err("--%s %s: read failed", opt, path);
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*out = buf;
	return 0;
}

/* --metrics-client-ids into sorted ranges (cli.c checked the syntax). */
static int parse_ids(struct xtel_api *api, const char *list)
{
	unsigned int n = 1;
	const char *p;

	for (p = list; *p; p++)
		n += *p == ',';
	api->metric_ids = calloc(n, sizeof(*api->metric_ids));
	if (!api->metric_ids)
		return -ENOMEM;
	for (p = list; *p;) {
		char buf[24];
		size_t len = strcspn(p, ",");
		char *dash;
		uint64_t lo = 0, hi = 0;

		snprintf(buf, sizeof(buf), "%.*s", (int)len, p);
		dash = strchr(buf, '-');
		if (dash)
			*dash = '\0';
		xtel_parse_u64(buf, 0, UINT32_MAX, &lo);
		hi = lo;
		if (dash)
			xtel_parse_u64(dash + 1, lo, UINT32_MAX, &hi);
		api->metric_ids[api->n_metric_ids++] =
			(struct xtel_api_id_range){ (uint32_t)lo, (uint32_t)hi };
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

int xtel_api_new(const struct xtel_config *cfg, struct xtel_model *model,
		 struct xtel_api **out)
{
	struct xtel_api *api = calloc(1, sizeof(*api));
	struct xtel_api_source_cfg sc = {
		.rate = cfg->http_rate, .burst = cfg->http_burst,
		.max_conns = cfg->http_source_conns,
	};
	int rc = -ENOMEM;

	if (!api)
		return -ENOMEM;
	api->cfg = cfg;
	api->model = model;
	api->listen_fd = -1;
	xtel_api_stats_init(&api->stats);
	if (xtel_api_sources_new(&sc, &api->sources))
		goto fail;
	if (cfg->api_window_s > 0 &&
	    xtel_api_history_new((unsigned int)(cfg->api_window_s /
						cfg->interval_s) + 2,
				 &api->history))
		goto fail;
	if (cfg->metrics_client_ids && parse_ids(api, cfg->metrics_client_ids))
		goto fail;
	rc = xtel_api_streams_new(model, cfg->http_streams, &api->streams);
	if (rc)
		goto fail;
	rc = -ENOMEM;
	if (cfg->http_tokens) {
		rc = xtel_api_tokens_load(cfg->http_tokens, &api->tokens);
		if (rc)
			goto fail;
	}
	if (cfg->http_cert) {
		rc = read_file("http-cert", cfg->http_cert, &api->cert_pem);
		if (!rc)
			rc = read_file("http-key", cfg->http_key, &api->key_pem);
		if (rc) {
			rc = -ENOKEY;
			goto fail;
		}
	}
	*out = api;
	return 0;
fail:
	xtel_api_free(api);
	return rc;
}

static int listen_socket(const struct xtel_config *cfg)
{
	int one = 1, fd, rc;

	fd = socket(cfg->http_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&cfg->http_addr, cfg->http_len) ||
	    listen(fd, 1024)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int xtel_api_start(struct xtel_api *api)
{
	const struct xtel_config *cfg = api->cfg;
	/* suspend/resume: an idle event stream sleeps (stream.h) */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			     MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem opts[16];
	unsigned int n = 0;
	int fd;

	fd = listen_socket(cfg);
	if (fd < 0) {
		pr_err("--http %s: %s%s", cfg->http, strerror(-fd),
		       fd == -EADDRINUSE ? " (another process listens there: "
		       "pick another port)" : fd == -EADDRNOTAVAIL ?
		       " (no interface has this address)" : "");
		return fd;
	}
	api->listen_fd = fd;
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){ o, (intptr_t)(v), p }
	/* The logger first, or libmicrohttpd logs its own way until it. */
	OPT(MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, api);
	OPT(MHD_OPTION_LISTEN_SOCKET, fd, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, api);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, api);
	OPT(MHD_OPTION_CONNECTION_LIMIT, cfg->http_max_conns, NULL);
	if (cfg->http_threads > 1)
		OPT(MHD_OPTION_THREAD_POOL_SIZE, cfg->http_threads, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL);
	/* Room for headers past our own 8 KiB limit, so that we answer. */
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL);
	if (api->cert_pem) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, api->cert_pem);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, api->key_pem);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	api->started_mono_ns = xtel_mono_ns();
	api->started_real_ns = xtel_realtime_ns();
	api->daemon = MHD_start_daemon(flags, 0, on_accept, api, on_request, api,
				       MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!api->daemon) {
		pr_err("--http %s: the HTTP server did not start%s", cfg->http,
		       api->cert_pem ? " (check that --http-cert and "
		       "--http-key are a PEM certificate and its key)" : "");
		return api->cert_pem ? -EPROTO : -EIO;
	}
	api->listen_fd = -1;	/* the daemon closes it when it stops */
	pr_info("HTTP API on %s://%s%s", api->cert_pem ? "https" : "http",
		cfg->http, api->tokens ? " (bearer tokens required)" : "");
	return 0;
}

void xtel_api_set_receiving(struct xtel_api *api, bool on)
{
	if (api)
		__atomic_store_n(&api->receiving, on, __ATOMIC_RELEASE);
}

int xtel_api_set_store(struct xtel_api *api, struct xtel_store *store)
{
	if (!api || !api->cfg->db)
		return 0;
	api->store = store;
	/* one reader per server thread, and one for the odd overlap */
	return xtel_store_readers_new(api->cfg->db, api->cfg->http_threads + 1,
				      &api->store_readers);
}

void xtel_api_view_published(struct xtel_api *api)
{
	struct xtel_view *v;

	if (api)
		xtel_api_streams_kick(api->streams);
	if (!api || !api->history)
		return;
	v = xtel_model_view(api->model);
	if (v)
		xtel_api_history_add(api->history, v);
	xtel_view_put(v);
}

int xtel_api_reload(struct xtel_api *api)
{
	int rc;

	if (!api || !api->tokens) {
		pr_info("SIGHUP: nothing to reload (no --http-tokens)");
		return 0;
	}
	rc = xtel_api_tokens_reload(api->tokens);
	pthread_mutex_lock(&api->stats.lock);
	if (rc)
		api->stats.token_reload_errors++;
	else
		api->stats.token_reloads++;
	pthread_mutex_unlock(&api->stats.lock);
	return rc;
}

void xtel_api_set_devices(struct xtel_api *api, struct xtel_devices *devices)
{
	if (api)
		api->devices = devices;
}

void xtel_api_free(struct xtel_api *api)
{
	if (!api)
		return;
	/*
	 * libmicrohttpd aborts when stopped with a connection suspended:
	 * end every stream first (each is resumed and its reader ends it).
	 */
	xtel_api_streams_quiesce(api->streams, 2000);
	if (api->daemon)
		MHD_stop_daemon(api->daemon);
	xtel_api_streams_free(api->streams);
	if (api->listen_fd >= 0)
		close(api->listen_fd);
	xtel_api_tokens_free(api->tokens);
	xtel_store_readers_free(api->store_readers);
	xtel_api_history_free(api->history);
	xtel_api_sources_free(api->sources);
	xtel_api_stats_fini(&api->stats);
	free(api->metric_ids);
	free(api->cert_pem);
	free(api->key_pem);
	free(api);
}
