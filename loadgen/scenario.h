/* SPDX-License-Identifier: MIT */
/*
 * Scenarios: faults that start and end at known times for chosen clients,
 * so one run drives a fleet in which some devices go bad at known moments
 * and the rest stay steady, and a test knows the truth exactly. A scenario
 * file has one rule per line (docs/LOADGEN.md):
 *
 *   IDS FROM TO KIND ARGS...        # IDS: N, LO-HI or *; FROM, TO: seconds
 *                                   # after the DATA phase starts, TO "end"
 *   latency MS [JITTER_MS]          send timestamps back-dated by MS (plus a
 *                                   uniform 0..JITTER_MS per datagram)
 *   loss P                          DATA seqs skipped with probability P
 *   rate FACTOR                     the client's DATA rate times FACTOR
 *   stop                            nothing at all (no DATA, no HEARTBEAT)
 *   metric KEY DELTA                KEY's value in each DATA plus DELTA
 *
 * Back-dating shifts the one-way latency the collector measures by exactly
 * that much, with no netem; every random choice is a hash of (seed, client,
 * seq), so a run is reproducible. Rules that overlap add up (latency,
 * jitter, metric deltas), multiply (rate) or combine as independent draws
 * (loss).
 */
#ifndef XTEL_LG_SCENARIO_H
#define XTEL_LG_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/xtel_wire.h"

enum xtel_lg_sc_kind {
	XTEL_LG_SC_LATENCY = 0,
	XTEL_LG_SC_LOSS,
	XTEL_LG_SC_RATE,
	XTEL_LG_SC_STOP,
	XTEL_LG_SC_METRIC,
};

enum {
	XTEL_LG_SC_MAX_RULES = 256,
	XTEL_LG_SC_MAX_METRICS = 8,	/* metric deltas active at once */
};

struct xtel_lg_sc_rule {
	uint32_t id_lo, id_hi;
	double from_s, to_s;		/* to_s INFINITY: "end" */
	enum xtel_lg_sc_kind kind;
	double a, b;			/* latency ms + jitter ms, P, FACTOR, DELTA */
	char key[XTEL_MAX_KEY_LEN + 1];	/* metric */
};

struct xtel_lg_scenario {
	struct xtel_lg_sc_rule rules[XTEL_LG_SC_MAX_RULES];
	uint32_t n;
};

/* What the rules do to one client at one time. */
struct xtel_lg_sc_effect {
	bool any;			/* some rule applies */
	bool stop;
	uint64_t delay_ns, jitter_ns;
	double loss;			/* combined probability */
	double rate;			/* factor, 1 without a rule */
	uint32_t n_metrics;
	struct {
		const char *key;
		double delta;
	} metric[XTEL_LG_SC_MAX_METRICS];
};

/*
 * Parse one rule line (no comment, not blank). Returns 0, or -EINVAL with a
 * reason in err.
 */
int xtel_lg_scenario_parse_line(const char *line, struct xtel_lg_sc_rule *r,
				char *err, size_t errlen);

/*
 * Load a file ('#' comments, blank lines). Returns 0, or -errno / -EINVAL
 * with "FILE:LINE: reason" in err.
 */
int xtel_lg_scenario_load(const char *path, struct xtel_lg_scenario *sc,
			  char *err, size_t errlen);

/* The effect on client id at t_s seconds into the DATA phase. */
void xtel_lg_scenario_effect(const struct xtel_lg_scenario *sc, uint32_t id,
			     double t_s, struct xtel_lg_sc_effect *out);

/*
 * Add the effect's metric deltas to the values of a rendered payload
 * (key=value;...) in place; returns the new length (the payload stays
 * valid for the wire grammar and within cap).
 */
size_t xtel_lg_scenario_metrics(const struct xtel_lg_sc_effect *e, char *buf,
				size_t len, size_t cap);

/* The extra one-way delay of one datagram: delay plus its jitter draw. */
uint64_t xtel_lg_scenario_delay(const struct xtel_lg_sc_effect *e,
				uint64_t seed, uint32_t id, uint64_t seq);

/* Whether the scenario loses this DATA seq (an independent draw). */
bool xtel_lg_scenario_lose(const struct xtel_lg_sc_effect *e, uint64_t seed,
			   uint32_t id, uint64_t seq);

#endif /* XTEL_LG_SCENARIO_H */
