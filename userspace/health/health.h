/* SPDX-License-Identifier: MIT */
/*
 * Health inference: per client and per group, once per interval, a verdict
 * (ok, congested, anomalous, degraded, silent; warmup before the first)
 * with a score, a start time and an explanation naming the signals behind
 * it, their values and their baselines. No trained model: each client's
 * signals have an EWMA/MAD baseline (baseline.c) and a CUSUM (cusum.c), the
 * interval is checked against its group's service level (slo.c) and the
 * network signals against the group's robust centre (peer.c), and nothing
 * is said before warm-up (warmup.c). docs/HEALTH.md has the rules and the
 * measured accuracy.
 *
 * The engine is single threaded: the collector's control loop feeds it one
 * input per client per interval (collector/health_feed.c builds them from
 * the view) and publishes the results it writes into a struct
 * xtel_health_view, which is immutable afterwards. Transitions go to a
 * bounded ring of events; when it is full the oldest is overwritten and
 * counted in events_dropped.
 */
#ifndef XTEL_HEALTH_H
#define XTEL_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf/xtel_wire.h"
#include "common/counter.h"
#include "health/slo.h"

/* X(ENUM, "name"): the value is the Prometheus xtel_client_health_state. */
#define XTEL_HEALTH_STATES(X)		\
	X(OK, "ok")			\
	X(CONGESTED, "congested")	\
	X(ANOMALOUS, "anomalous")	\
	X(DEGRADED, "degraded")		\
	X(SILENT, "silent")		\
	X(WARMUP, "warmup")

enum xtel_health_state {
#define X(id, name) XTEL_HEALTH_##id,
	XTEL_HEALTH_STATES(X)
#undef X
	XTEL_HEALTH_STATE_MAX,
};

const char *xtel_health_state_name(enum xtel_health_state s);
/* -1 when name is no state */
int xtel_health_state_parse(const char *name);

/*
 * The per-interval signals: X(ENUM, "name", "unit", "label", how), how a
 * bit set of XTEL_HEALTH_UP (a rise is a fault), XTEL_HEALTH_DOWN (a fall
 * is), XTEL_HEALTH_PEER (compared with the group). p50 is shown, not
 * judged: its deviation is the queueing delay's, which needs no clock sync.
 */
enum {
	XTEL_HEALTH_UP = 1,
	XTEL_HEALTH_DOWN = 2,
	XTEL_HEALTH_PEER = 4,
};

#define XTEL_HEALTH_SIGNALS(X)						\
	X(P50, "lat_p50_ms", "ms", "p50 latency", 0)			\
	X(P99, "lat_p99_ms", "ms", "p99 latency", XTEL_HEALTH_UP)	\
	X(QUEUE, "queue_ms", "ms", "queueing delay",			\
	  XTEL_HEALTH_UP | XTEL_HEALTH_PEER)				\
	X(JITTER, "jitter_ms", "ms", "jitter", XTEL_HEALTH_UP)		\
	X(LOSS, "loss_pct", "%", "loss", XTEL_HEALTH_UP | XTEL_HEALTH_PEER) \
	X(DUP, "dup_pct", "%", "duplicates",				\
	  XTEL_HEALTH_UP | XTEL_HEALTH_PEER)				\
	X(REORDER, "reorder_pct", "%", "reordering",			\
	  XTEL_HEALTH_UP | XTEL_HEALTH_PEER)				\
	X(RATE, "rate_pps", "/s", "datagram rate",			\
	  XTEL_HEALTH_UP | XTEL_HEALTH_DOWN)

enum xtel_health_signal {
#define X(id, name, unit, label, how) XTEL_HEALTH_SIG_##id,
	XTEL_HEALTH_SIGNALS(X)
#undef X
	XTEL_HEALTH_SIG_MAX,
};

struct xtel_health_signal_desc {
	const char *name, *unit, *label;
	unsigned int how;
};

extern const struct xtel_health_signal_desc
	xtel_health_signals[XTEL_HEALTH_SIG_MAX];

enum {
	XTEL_HEALTH_MAX_METRICS = 8,	/* device metrics judged per client */
	XTEL_HEALTH_MAX_GROUPS = 256,
	XTEL_HEALTH_LABEL_LEN = 65,	/* a device label (64) and its NUL */
	XTEL_HEALTH_WHY_LEN = 240,
	XTEL_HEALTH_MAX_SLO = 16,	/* per-label service levels */
};

struct xtel_health_slo_rule {
	char label[XTEL_HEALTH_LABEL_LEN];	/* "*": every other group */
	struct xtel_health_slo slo;
};

struct xtel_health_cfg {
	uint32_t warmup;	/* intervals with data before any verdict */
	uint32_t window;	/* samples until a baseline is full, 4..32 */
	double alpha;		/* EWMA weight */
	double z;		/* one-interval threshold, MAD units */
	double accept_z;	/* samples beyond this never enter a baseline;
				 * lower than z it would truncate the window's
				 * spread and shrink the MAD it is judged by */
	double cusum_k, cusum_h;
	double joint_z;		/* loss or rate drop that makes a latency
				 * rise congestion, MAD units */
	double peer_z;		/* peer threshold, group MAD units */
	uint32_t peer_min;	/* members a group needs for peers */
	uint32_t confirm;	/* consecutive faulty intervals for a verdict */
	uint32_t clear;		/* consecutive clean intervals to end one */
	uint32_t silent_after;	/* intervals without a datagram */
	double group_quorum;	/* share of members for a group verdict, and
				 * of a common-mode shift */
	uint32_t events;	/* event ring capacity */
	/* scale floors per signal (absolute, and relative to the centre) */
	double floor_abs[XTEL_HEALTH_SIG_MAX], floor_rel[XTEL_HEALTH_SIG_MAX];
	double metric_floor_abs, metric_floor_rel;
	struct xtel_health_slo_rule slo[XTEL_HEALTH_MAX_SLO];
	uint32_t n_slo;
	/* congestion from download probes (metric XTEL_HEALTH_PROBE_KEY):
	 * probe_min probes in a row under probe_frac x the device's baseline */
	double probe_frac;
	uint32_t probe_min;
};

/* The probe speed metric judged by the congestion rule (docs/PROBES.md). */
#define XTEL_HEALTH_PROBE_KEY "probe_speed_mbps"

/* The documented defaults (docs/HEALTH.md). */
void xtel_health_cfg_defaults(struct xtel_health_cfg *cfg);

/*
 * "LABEL:p99=MS,loss=PCT,jitter=MS" (any subset, 0 turns one off) into
 * cfg->slo; a rule for a label already there replaces it. -EINVAL on a
 * malformed rule, -ENOSPC when the table is full.
 */
int xtel_health_slo_parse(struct xtel_health_cfg *cfg, const char *rule);

/* One client's interval, as the feed measured it. */
struct xtel_health_metric_in {
	const char *key;
	double mean;		/* the interval's mean */
};

struct xtel_health_input {
	uint32_t client_id;
	uint32_t group;		/* xtel_health_group() */
	bool gone;		/* said BYE: no verdict any more */
	bool restarted;		/* a new epoch since the last interval */
	bool stale;		/* the collector's --stale-after passed */
	bool have_lat;		/* latency samples in the interval */
	bool have_rates;	/* datagrams expected: loss etc. mean something */
	uint64_t datagrams;	/* received in the interval */
	double lat_min_ms;	/* the interval's minimum one-way latency */
	double sig[XTEL_HEALTH_SIG_MAX];	/* QUEUE is the engine's */
	uint32_t n_metrics;	/* at most XTEL_HEALTH_MAX_METRICS */
	/* the caller's, read during xtel_health_update() only (a pointer,
	 * not 8 slots: an input is 112 bytes and 16 per metric, not 240) */
	struct xtel_health_metric_in *metrics;
};

/*
 * Why a verdict holds: one piece of evidence. The sentence is made from
 * these when someone reads it (xtel_health_explain), not every interval
 * on the control thread.
 */
enum xtel_health_cause_kind {
	XTEL_HEALTH_CAUSE_BASE,		/* far from the client's own baseline */
	XTEL_HEALTH_CAUSE_PEER,		/* far from its group's centre */
	XTEL_HEALTH_CAUSE_SLO,		/* over the group's service level */
	XTEL_HEALTH_CAUSE_SILENT,	/* no datagram */
	XTEL_HEALTH_CAUSE_PROBE,	/* download probes under a share of their
					 * baseline speed: z baseline/speed, n
					 * the probes in a row (congestion) */
};

enum { XTEL_HEALTH_MAX_CAUSES = 6 };

struct xtel_health_cause {
	uint8_t kind;		/* enum xtel_health_cause_kind */
	int8_t sig;		/* enum xtel_health_signal, -1: a metric */
	int8_t metric;		/* index into the result's metric[] */
	bool sustained;		/* raised by the CUSUM, not one interval */
	uint16_t n;		/* PROBE: slow probes in a row */
	float z;		/* MAD units; SLO: value/ceiling; SILENT: intervals */
	float ref;		/* baseline, group centre, ceiling; SILENT: rate */
	float value;
};

/* One judged signal of a result (value, baseline, scale, z). */
struct xtel_health_sig_out {
	float value, centre, scale, z;
};

struct xtel_health_metric_out {
	const char *key;	/* in the view's keys (lives with it) */
	struct xtel_health_sig_out s;
};

/*
 * 168 bytes and 24 per judged metric and 20 per cause: a result's causes
 * and metrics are slices of the view's pools (most clients hold no cause
 * and two metrics, not the 6 and 8 slots a fixed result would carry).
 */
struct xtel_health_result {
	uint32_t client_id;
	uint32_t group;
	float score;			/* max |z| (MAD) or SLO ratio behind it */
	uint8_t state;			/* enum xtel_health_state */
	uint8_t n_causes;		/* 0 when ok or warming up */
	uint8_t n_metrics;		/* the device metrics judged */
	uint64_t since_ns;		/* start of the state */
	struct xtel_health_cause *cause;	/* n_causes, in the view's pool */
	struct xtel_health_metric_out *metric;	/* n_metrics, likewise */
	struct xtel_health_sig_out sig[XTEL_HEALTH_SIG_MAX];
};

struct xtel_health_group_result {
	char label[XTEL_HEALTH_LABEL_LEN];
	enum xtel_health_state state;
	uint64_t since_ns;
	uint32_t members, warm;
	uint32_t counts[XTEL_HEALTH_STATE_MAX];
	double peer_centre[XTEL_HEALTH_SIG_MAX], peer_scale[XTEL_HEALTH_SIG_MAX];
	/* a shift of most members at once: the signal (-1: none), its
	 * direction and how many moved of how many judged */
	int common_sig;
	bool common_up;
	uint32_t common_n, common_of;
};

struct xtel_health_event {
	uint64_t seq;			/* 1, 2, ... over the run */
	uint64_t ts_ns;			/* CLOCK_REALTIME of the interval */
	bool group;			/* a group's transition, else a client's */
	uint32_t client_id;		/* a client's */
	uint32_t group_idx;
	enum xtel_health_state from, to;
	float score;
	char why[XTEL_HEALTH_WHY_LEN];
};

/* X(ENUM, "name", "unit", "help") for /api/v1/stats and /metrics */
#define XTEL_HEALTH_COUNTERS(X)						\
	X(EVENTS, "health_events", "events",				\
	  "health state transitions recorded (clients and groups)")	\
	X(EVENTS_DROPPED, "health_dropped_events", "events",		\
	  "transitions overwritten in the full event ring")		\
	X(METRICS_DROPPED, "health_unjudged_metrics", "metrics",	\
	  "device metric samples beyond the per-client limit, not judged") \
	X(NOMEM, "health_nomem", "intervals",				\
	  "intervals whose inference ran short of memory")		\
	X(LAT_SKIPPED, "health_unjudged_latency", "intervals",		\
	  "client intervals whose latency went unjudged: a jump past "	\
	  "65,535 samples from under 1,024 (health/ivl_latency.h)")

enum xtel_health_counter {
#define X(id, name, unit, help) XTEL_HEALTH_CNT_##id,
	XTEL_HEALTH_COUNTERS(X)
#undef X
	XTEL_HEALTH_CNT_MAX,
};

extern const struct xtel_counter_desc xtel_health_counter_desc[XTEL_HEALTH_CNT_MAX];

/* The results of one interval; owned by whoever holds the collector view. */
struct xtel_health_view {
	uint64_t ts_ns;
	uint32_t n_clients;
	struct xtel_health_result *clients;	/* in input order */
	uint32_t n_groups;
	struct xtel_health_group_result *groups;	/* by index */
	uint32_t counts[XTEL_HEALTH_STATE_MAX];	/* clients per state */
	uint32_t n_events;
	struct xtel_health_event *events;	/* the ring, oldest first */
	uint64_t counters[XTEL_HEALTH_CNT_MAX];
	uint64_t events_to[XTEL_HEALTH_STATE_MAX];	/* transitions into */
	uint64_t cost_ns;		/* CPU time of this update */
	/* the metric keys the results name, once a view (not 33 bytes in
	 * each of a result's 8 metric slots) */
	uint32_t n_keys;
	char (*keys)[XTEL_MAX_KEY_LEN + 1];
	/* what the results' cause and metric point into */
	struct xtel_health_cause *causes;
	struct xtel_health_metric_out *metrics;
};

/*
 * The explanation of a result: one clause per cause, SLO breaches first,
 * then by |z|, the start time after the first ("p99 latency 24 ms vs
 * baseline 0.9 ms (+26 MAD) since 12:03:10; loss 4.8% over SLO 2%"); ""
 * when it has no cause. Returns the length (truncated to cap - 1).
 */
size_t xtel_health_explain(const struct xtel_health_result *r, char *buf,
			   size_t cap);

/* A group's: "6 of 10 clients degraded", "" when ok. */
size_t xtel_health_group_explain(const struct xtel_health_group_result *g,
				 char *buf, size_t cap);

/* The result of client id (results are sorted by id), or NULL. */
const struct xtel_health_result *xtel_health_find(const struct xtel_health_view *hv,
						  uint32_t id);

struct xtel_health;

int xtel_health_new(const struct xtel_health_cfg *cfg, struct xtel_health **out);
void xtel_health_free(struct xtel_health *h);

/*
 * Bytes of per-client state: one client's record (at most 1 KiB) and the
 * interned metric keys shared by all, divided among the clients known.
 */
double xtel_health_client_bytes(const struct xtel_health *h);

/* Bytes of the client table as allocated (its capacity) and the keys. */
uint64_t xtel_health_table_bytes(const struct xtel_health *h);

/* The index of a group label (made on first use); -ENOSPC when full. */
int xtel_health_group(struct xtel_health *h, const char *label);

/* The label of group index g ("" when there is none). */
const char *xtel_health_group_label(const struct xtel_health *h, uint32_t g);

/*
 * One interval: in[0..n-1] sorted by client_id, dt_s since the previous
 * one. Fills *out (allocated; free with xtel_health_view_free). Returns 0
 * or -ENOMEM (out then holds what could be made, or nothing).
 */
int xtel_health_update(struct xtel_health *h, uint64_t now_ns, double dt_s,
		       const struct xtel_health_input *in, uint32_t n,
		       struct xtel_health_view **out);

/*
 * The same interval taken in blocks, so that a caller needs room for a
 * block of inputs rather than one per client (collector/health_feed.c
 * takes 1,024 at a time): begin with the number of clients the interval
 * will bring (to size the table), take the inputs in blocks (each block
 * sorted by client_id, and after the previous one; an input is only read
 * during its call), finish to judge them all. Pass 1 is per client; the
 * passes that need the whole fleet (peers, common modes, groups) run in
 * finish, from the engine's own state. xtel_health_update() is begin, one
 * take and finish; the results are the same. take returns 0 or -ENOMEM
 * (kept, and returned by finish too, which still makes what it can).
 */
int xtel_health_begin(struct xtel_health *h, uint32_t n);
int xtel_health_take(struct xtel_health *h, const struct xtel_health_input *in,
		     uint32_t n);
int xtel_health_finish(struct xtel_health *h, uint64_t now_ns, double dt_s,
		       struct xtel_health_view **out);

void xtel_health_view_free(struct xtel_health_view *hv);

#endif /* XTEL_HEALTH_H */
