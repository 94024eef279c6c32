// SPDX-License-Identifier: MIT
/*
 * The dashboard's endpoints (docs/DASHBOARD.md): its embedded files at "/"
 * and /static/ (assets.h; a matching If-None-Match is 304), and the live
 * event stream GET /api/v1/stream (stream.h), whose reply server.c puts on
 * the wire as libmicrohttpd's callback response.
 *
 * The files are open even with --http-tokens: they hold no data, and the
 * page asks for a token when the API answers 401. EventSource cannot send
 * an Authorization header, so the stream alone also takes the token as
 * ?token= (server.c checks it exactly as the header).
 */
#include <errno.h>
#include <string.h>

#include "collector/api/assets.h"
#include "collector/api/internal.h"

void xtel_api_h_dashboard(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	const struct xtel_asset *a = xtel_asset_find(r->path);

	if (!a) {
		xtel_api_error(rep, 404, "not_found", NULL,
			       "no dashboard file at this path");
		return;
	}
	rep->asset = a;
	rep->status = r->if_none_match && strstr(r->if_none_match, a->etag) ?
		      304 : 200;
}

void xtel_api_h_stream(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	static const char *const rows_choice[] = { "changed", "none", NULL };
	int rows = xtel_api_param_choice(r, rep, "rows", rows_choice, 0);
	int rc;

	if (rows < 0)
		return;
	rc = xtel_api_stream_open(r->api->streams, rows == 0, &rep->stream);
	if (rc == -EBUSY) {
		xtel_api_stats_refused(&r->api->stats, XTEL_API_REFUSED_STREAMS);
		rep->retry_after = 5;
		xtel_api_error(rep, 503, "too_many_streams", NULL,
			       "%u streams are open (--http-streams): retry "
			       "later", r->api->cfg->http_streams);
	} else if (rc) {
		xtel_api_error(rep, rc == -ENOMEM ? 500 : 503,
			       rc == -ENOMEM ? "out_of_memory" : "stopping",
			       NULL, rc == -ENOMEM ? "out of memory" :
			       "the collector is stopping");
	} else {
		rep->status = 200;
	}
}
