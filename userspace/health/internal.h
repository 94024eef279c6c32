/* SPDX-License-Identifier: MIT */
/*
 * The engine's private state, shared by engine.c (passes, state machine),
 * groups.c and events.c. Nothing outside userspace/health includes this.
 */
#ifndef XTEL_HEALTH_INTERNAL_H
#define XTEL_HEALTH_INTERNAL_H

#include "health/baseline.h"
#include "health/cusum.h"
#include "health/health.h"
#include "health/peer.h"
#include "health/warmup.h"

enum {
	HEALTH_MAX_CAUSES = XTEL_HEALTH_MAX_CAUSES,
	HEALTH_MAX_KEYS = 1024,	/* distinct metric keys the engine judges */
};

/* 28 bytes a signal: baseline 16, CUSUM 8, this interval's z 4 */
struct hsig {
	struct xtel_health_baseline b;
	struct xtel_health_cusum c;
	float z;		/* this interval's, for the result */
};

struct hmetric {
	uint16_t key;		/* index into the engine's interned keys */
	bool have;
	float val;
	struct hsig s;
};

struct hverdict {
	uint32_t n;
	float score;
	struct xtel_health_cause c[HEALTH_MAX_CAUSES];
};

/*
 * A client's state, 328 bytes (at most 1 KiB, checked below) and 36 bytes
 * a metric slot (apart, grown 2, 4, 8 as the device's metrics need):
 * single precision, streaming baselines, metric keys interned in the
 * engine (a key is 2 bytes here, not 33), no baseline for the p50 that is
 * only shown, the causes of a verdict held apart and this interval's in
 * the engine's pool (vd_at) only for the clients that have any. The hot
 * part (what every interval reads) comes first; `last` is only read while
 * a verdict holds.
 */
struct hclient {
	uint32_t id;
	uint16_t group;		/* < XTEL_HEALTH_MAX_GROUPS */
	uint8_t state;		/* enum xtel_health_state */
	uint8_t raw;		/* ... this interval's raw verdict */
	struct xtel_health_warmup warm;
	uint32_t bad_run, clean_run, silent_n;
	uint32_t probe_low;	/* probe speeds in a row under the share */
	float score;
	bool gone, stale;
	bool judged;		/* raw and vd_at are this interval's */
	bool in_ivl;		/* taken this interval, its result not made */
	uint8_t n_m, cap_m;	/* metrics judged, and room for them in m */
	uint8_t have;		/* bit s: val[s] is this interval's */
	uint64_t datagrams;
	uint64_t since_ns, pending_since_ns;
	/* windowed minimum of the latency: two half-window blocks */
	float min_cur, min_prev;
	uint32_t min_n;
	uint32_t vd_at;		/* this interval's causes (pass 3a): 1 + their
				 * index in the engine's vds, 0 for none */
	float val[XTEL_HEALTH_SIG_MAX];
	/* the judged signals' state: p50 (signal 0) is only shown, so it
	 * has no slot (HSIG) */
	struct hsig s[XTEL_HEALTH_SIG_MAX - 1];
	struct hmetric *m;	/* cap_m (2, 4, 8: most devices send 2) */
	struct hverdict *last;	/* the causes of the verdict held: made at a
				 * client's first verdict (most never have one) */
};

/* p50 is signal 0 and never judged (health.h): s[] starts at signal 1 */
enum {
	HEALTH_HOW_P50 =
#define X(id, nm, un, lb, hw) (XTEL_HEALTH_SIG_##id == XTEL_HEALTH_SIG_P50 ? (hw) : 0) |
	XTEL_HEALTH_SIGNALS(X)
#undef X
	0,
};
_Static_assert(XTEL_HEALTH_SIG_P50 == 0 && HEALTH_HOW_P50 == 0,
	       "the signal without baseline state is the first");
_Static_assert(XTEL_HEALTH_SIG_MAX <= 8, "have is a byte of signal bits");
_Static_assert(XTEL_HEALTH_MAX_GROUPS <= UINT16_MAX + 1 &&
	       XTEL_HEALTH_STATE_MAX <= UINT8_MAX, "group and states fit");
#define HSIG(c, sig) (&(c)->s[(sig) - 1])
#define HAVE(c, sig) (((c)->have >> (sig)) & 1)

_Static_assert(sizeof(struct hclient) <= 1024,
	       "a client's health state fits 1 KiB (issue 16's 2 KiB client)");

struct hgroup {
	char label[XTEL_HEALTH_LABEL_LEN];
	struct xtel_health_slo slo;
	enum xtel_health_state state;
	uint64_t since_ns;
	struct xtel_health_peer peer[XTEL_HEALTH_SIG_MAX];
	/* this interval: members judged, and those whose own baseline saw
	 * each signal move up [0] or down [1] (common-mode shifts) */
	uint32_t judged, moved[XTEL_HEALTH_SIG_MAX][2];
	bool common[XTEL_HEALTH_SIG_MAX][2];
};

struct xtel_health {
	struct xtel_health_cfg cfg;
	struct hclient *c;		/* sorted by id */
	uint32_t n_c, cap_c;
	struct hgroup g[XTEL_HEALTH_MAX_GROUPS];
	uint32_t n_groups;
	float *scratch;
	uint32_t cap_scratch;
	/* pass 3a's verdicts that have causes, for pass 3 (most clients have
	 * none: 128 bytes each in every client was a third of its state) */
	struct hverdict *vds;
	uint32_t n_vds, cap_vds;
	/* the interval being taken (xtel_health_begin .. _finish) */
	uint32_t in_hint, in_n, in_metrics;
	int in_err;
	uint64_t in_cost_ns;
	/* metric keys, interned: a client's metric names one by index */
	char (*keys)[XTEL_MAX_KEY_LEN + 1];
	uint32_t n_keys, cap_keys;
	int32_t probe_key;	/* XTEL_HEALTH_PROBE_KEY's index, -1 until seen */
	struct xtel_health_event *ring;
	uint32_t head_ring, n_ring;
	uint64_t event_seq;
	uint64_t counters[XTEL_HEALTH_CNT_MAX];
	uint64_t events_to[XTEL_HEALTH_STATE_MAX];
};

/* The causes pass 3a found for c this interval, NULL for none. */
static inline struct hverdict *xtel_health_vd(const struct xtel_health *h,
					      const struct hclient *c)
{
	return c->vd_at ? &h->vds[c->vd_at - 1] : NULL;
}

/* Which verdict wins when several hold (engine.c). */
extern const int xtel_health_precedence[XTEL_HEALTH_STATE_MAX];

/* groups.c: pass 2 (peer centres), common-mode shifts, group verdicts. */
int xtel_health_fit_groups(struct xtel_health *h);
void xtel_health_common_mode(struct xtel_health *h);
int xtel_health_judge_groups(struct xtel_health *h, uint64_t now_ns,
			     struct xtel_health_view *hv);

/* events.c: record a transition; copy the ring and counters into hv. */
enum xtel_health_state xtel_health_reverdict(const struct hverdict *vd,
					      enum xtel_health_state raw);
void xtel_health_events_copy(const struct xtel_health *h,
			     struct xtel_health_view *hv);
void xtel_health_event_push(struct xtel_health *h, uint64_t ts_ns, bool group,
			    uint32_t client_id, uint32_t group_idx,
			    enum xtel_health_state from,
			    enum xtel_health_state to, double score,
			    const char *why);

#endif /* XTEL_HEALTH_INTERNAL_H */
