/* SPDX-License-Identifier: MIT */
/*
 * The NATS JetStream exporter of an edge collector (docs/SCALE-OUT.md):
 * the control loop hands it every published view (a reference taken);
 * its own thread turns each view into the rollup deltas of the interval
 * (delta.h, rollup.h), one or more messages on xtel.rollup.<site>.<edge>,
 * and publishes them asynchronously with JetStream acks. Each message's
 * Nats-Msg-Id is <edge>.<run>.<seq>.<part>, so a resend is stored once.
 *
 * Bounded everywhere: the view queue (a refused view loses nothing, the
 * next one's deltas cover it), and the backlog of messages not yet
 * acknowledged (--export-backlog bytes): while NATS is unreachable it
 * fills; when full, the oldest unsent message goes to a spill file
 * (--export-spill, spill.h, up to its own bound) or, beyond, is dropped
 * and counted with the client rollups it held. Failed publishes and lost acks
 * (jsPubOptions.MaxWait) are resent from this thread, never from the ack
 * handler.
 */
#ifndef XTEL_EXPORTER_H
#define XTEL_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/counter.h"

struct xtel_view;

#define XTEL_EXPORT_TABLE(X)						\
	X(VIEWS_QUEUED, "views_queued", "views", "views handed to the exporter") \
	X(VIEWS_DROPPED, "views_dropped", "views",			\
	  "views refused, the exporter's queue full (the next view's deltas cover them)") \
	X(MESSAGES, "messages", "messages", "rollup messages encoded")	\
	X(CLIENT_ROLLUPS, "client_rollups", "rollups",			\
	  "client entries encoded (a client that changed in an interval)") \
	X(ENCODED_BYTES, "encoded_bytes", "bytes", "rollup bytes encoded") \
	X(ENCODE_NS, "encode_ns", "nanoseconds", "time spent encoding")	\
	X(PUBLISHED, "published", "messages", "async publishes issued, resends included") \
	X(ACKED, "acked", "messages", "messages JetStream acknowledged as stored") \
	X(ACKED_DUPLICATE, "acked_duplicate", "messages",		\
	  "acknowledged as a duplicate of one stored before (a resend)") \
	X(PUBLISH_ERRORS, "publish_errors", "messages",			\
	  "publish calls or acks that failed or timed out (then resent)") \
	X(RESENT, "resent", "messages", "messages published again after a failure") \
	X(BACKLOG_DROPPED, "backlog_dropped", "messages",		\
	  "messages dropped unsent, the backlog full")			\
	X(BACKLOG_DROPPED_ROLLUPS, "backlog_dropped_rollups", "rollups",	\
	  "client rollups in those messages (lost to the aggregator)")	\
	X(UNSENT_AT_EXIT, "unsent_at_exit", "messages",			\
	  "messages unacknowledged when the drain at exit gave up, and not spilled: lost") \
	X(SPILL_KEPT_AT_EXIT, "spill_kept_at_exit", "messages",		\
	  "messages unacknowledged at exit, kept in --export-spill for the next run") \
	X(SPILLED, "spilled", "messages",				\
	  "messages written to --export-spill (the memory backlog full)") \
	X(SPILL_LOADED, "spill_loaded", "messages", "spilled messages read back to send") \
	X(SPILL_ERRORS, "spill_errors", "events", "spill files not written or not read back") \
	X(RECOVERED, "recovered", "messages",				\
	  "spill files of an earlier run found at start (sent with their own ids)") \
	X(DISCONNECTS, "disconnects", "events", "connection to NATS lost")	\
	X(RECONNECTS, "reconnects", "events", "connection to NATS back")

#define XTEL_EXPORT_ENUM(id, nm, un, hp) XTEL_EXPORT_##id,
enum xtel_export_stat { XTEL_EXPORT_TABLE(XTEL_EXPORT_ENUM) XTEL_EXPORT_MAX };
#undef XTEL_EXPORT_ENUM
extern const struct xtel_counter_desc xtel_export_desc[XTEL_EXPORT_MAX];

#define XTEL_EXPORT_GAUGE_TABLE(X)					\
	X(CONNECTED, "connected", "", "1 while connected to NATS")	\
	X(BACKLOG_MESSAGES, "backlog_messages", "messages",		\
	  "messages not yet acknowledged (queued or in flight)")	\
	X(BACKLOG_BYTES, "backlog_bytes", "bytes", "their size")	\
	X(BACKLOG_PEAK, "backlog_peak_messages", "messages",		\
	  "the most messages the backlog held at once")			\
	X(IN_FLIGHT, "in_flight", "messages", "published, ack outstanding") \
	X(SPILL_BYTES, "spill_bytes", "bytes", "spill files on disk now")

#define XTEL_EXPORT_ENUM(id, nm, un, hp) XTEL_EXPORT_G_##id,
enum xtel_export_gauge { XTEL_EXPORT_GAUGE_TABLE(XTEL_EXPORT_ENUM) XTEL_EXPORT_G_MAX };
#undef XTEL_EXPORT_ENUM
extern const struct xtel_counter_desc xtel_export_gauge_desc[XTEL_EXPORT_G_MAX];

struct xtel_export_cfg {
	const char *servers;		/* "nats://h:p,tls://h:p" */
	const char *site, *edge;	/* [A-Za-z0-9_-], at most 63 */
	const char *user, *password;	/* or in the URL */
	const char *creds;		/* .creds file (JWT + nkey seed) */
	const char *nkey, *nkey_seed;	/* public nkey and its seed file */
	const char *ca;			/* TLS: CA bundle */
	const char *cert, *key;		/* TLS client certificate */
	unsigned int queue;		/* views waiting for the thread */
	uint64_t backlog_bytes;		/* unacknowledged messages kept in memory */
	const char *spill_dir;		/* beyond: files here; NULL: drop */
	uint64_t spill_bytes;		/* at most this much on disk */
	unsigned int clients_per_msg;
	unsigned int max_wait_ms;	/* jsPubOptions.MaxWait */
	unsigned int max_in_flight;
	uint64_t run_id;		/* 0: the start time in ns */
	/* the owner's release of a view (xtel_view_put) */
	void (*view_put)(struct xtel_view *v);
};

struct xtel_exporter;

/* Validates, connects in the background (a down NATS is not an error). */
int xtel_export_new(const struct xtel_export_cfg *cfg, struct xtel_exporter **out);

/* Hands v (one reference, owned by the exporter now) over; never blocks. */
void xtel_export_push(struct xtel_exporter *e, struct xtel_view *v);

/* Relaxed copies of the counters and gauges, for the view (any thread). */
void xtel_export_read(struct xtel_exporter *e, uint64_t *counters,
		      uint64_t *gauges);

/*
 * Stops after the queued views are encoded and the backlog acknowledged,
 * or drain_s seconds; what is left is counted in unsent_at_exit. The
 * counters stay readable until xtel_export_free.
 */
void xtel_export_stop(struct xtel_exporter *e, double drain_s);
void xtel_export_free(struct xtel_exporter *e);

#endif /* XTEL_EXPORTER_H */
