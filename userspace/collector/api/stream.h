/* SPDX-License-Identifier: MIT */
/*
 * GET /api/v1/stream: the live view as Server-Sent Events, one event per
 * interval (docs/API.md, "Stream"). The dashboard's only live source.
 *
 * One ticker thread of the streams' own is handed each published view
 * (xtel_api_streams_kick from the main thread queues a reference to it),
 * renders the interval's event once (fleet totals and the client rows that
 * changed since the previous view) and appends a reference to it to every
 * open stream's bounded queue. A stream's reader runs on libmicrohttpd's
 * thread: it copies queued bytes out, and with nothing queued it suspends
 * its connection, which the ticker resumes with the next event. So an idle
 * stream costs no CPU, and no thread ever waits on a slow reader.
 *
 * A new stream first gets the whole client table (a "full" event), then
 * deltas. A reader too slow for its queue (XTEL_STREAM_QUEUE events or
 * XTEL_STREAM_QUEUE_BYTES) has its queued events dropped and counted, and
 * is sent a full table again, so its table is never silently wrong. The
 * number of open streams is capped (--http-streams); a stream over it is
 * refused with 503 and counted. Both counts are in /api/v1/stats and on
 * /metrics.
 *
 * Locking: one mutex guards the list of streams, every stream's queue and
 * the counters; libmicrohttpd's suspend and resume are called under it, so
 * a reader cannot suspend after the ticker's resume of the same event.
 */
#ifndef XTEL_API_STREAM_H
#define XTEL_API_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "collector/model.h"

struct MHD_Connection;
struct MHD_Response;
struct xtel_api_streams;
struct xtel_api_stream;

enum {
	XTEL_STREAM_QUEUE = 8,			/* events per stream */
	XTEL_STREAM_QUEUE_BYTES = 16 << 20,	/* bytes queued per stream */
	XTEL_STREAM_PENDING = 8,		/* views waiting for the ticker */
};

/* The streams' counters, as /api/v1/stats and /metrics show them. */
struct xtel_api_stream_stats {
	uint64_t open, max;		/* now, --http-streams */
	uint64_t opened;		/* over the run */
	uint64_t events;		/* events queued to streams */
	uint64_t dropped;		/* events dropped: the reader was too slow */
	uint64_t resyncs;		/* full tables sent after a drop */
	uint64_t bytes;			/* bytes handed to libmicrohttpd */
	uint64_t skipped;		/* views never rendered: the ticker was late */
};

/* Starts the ticker. max: open streams allowed. Returns 0 or -errno. */
int xtel_api_streams_new(struct xtel_model *model, unsigned int max,
			 struct xtel_api_streams **out);

/* A new view is published (main thread; takes a reference, never waits). */
void xtel_api_streams_kick(struct xtel_api_streams *s);

/*
 * A new stream (rows: whether its events carry client rows). Returns 0,
 * -EBUSY over the cap, -ESHUTDOWN while stopping, -ENOMEM.
 */
int xtel_api_stream_open(struct xtel_api_streams *s, bool rows,
			 struct xtel_api_stream **out);

/* Frees a stream that never got a response (its request failed). */
void xtel_api_stream_abandon(struct xtel_api_stream *st);

/*
 * The response of stream st on connection c (MHD_create_response_from_
 * callback; the stream is the response's and freed with it). NULL: out of
 * memory (st freed).
 */
struct MHD_Response *xtel_api_stream_response(struct xtel_api_stream *st,
					      struct MHD_Connection *c);

/*
 * Before MHD_stop_daemon: no new streams, every open one resumed and
 * ended, then waits (up to timeout_ms) until libmicrohttpd released them
 * all. libmicrohttpd aborts when stopped with a connection suspended.
 */
void xtel_api_streams_quiesce(struct xtel_api_streams *s, unsigned int timeout_ms);

void xtel_api_streams_stats(struct xtel_api_streams *s,
			    struct xtel_api_stream_stats *out);

/* After MHD_stop_daemon. NULL: no-op. */
void xtel_api_streams_free(struct xtel_api_streams *s);

#endif /* XTEL_API_STREAM_H */
