/* SPDX-License-Identifier: MIT */
/*
 * What bench_memory and bench_interval feed the real registries: plain
 * clients' datagrams as a receive worker accounts them (INIT, then DATA
 * with the load generator's default two metrics), latencies drawn from a
 * log-normal table, all from one xorshift generator so that the same
 * arguments give the same records.
 */
#ifndef XTEL_BENCH_SYNTH_FLEET_H
#define XTEL_BENCH_SYNTH_FLEET_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "acct/registry.h"
#include "collector/model.h"
#include "xorshift.h"

enum { SYNTH_LAT_TABLE = 1 << 16 };

static uint64_t synth_rng_state = 0x9E3779B97F4A7C15ULL;

static inline uint64_t synth_rng(void)
{
	return xtel_xorshift64(&synth_rng_state);
}

static inline double synth_unit(void)
{
	return ((double)(synth_rng() >> 11) + 0.5) / (double)(1ULL << 53);
}

/* lat[SYNTH_LAT_TABLE]: log-normal around median_us (ns). */
static inline void synth_lat_table(uint64_t *lat, double median_us, double sigma)
{
	for (unsigned int i = 0; i < SYNTH_LAT_TABLE; i++) {
		double z = sqrt(-2 * log(synth_unit())) * cos(2 * M_PI * synth_unit());

		lat[i] = (uint64_t)(median_us * 1000 * exp(sigma * z));
	}
}

/* One datagram of client id sent at send (ns), accounted in reg. */
static inline int synth_account(struct xtel_registry *reg, uint32_t id,
				uint32_t seq, uint64_t send, bool init,
				const uint64_t *lat)
{
	static const char *keys[2] = { "temp", "load" };
	struct xtel_msg m = {
		.version = 1, .client_id = id, .seq = seq,
		.send_ts_ns = send, .payload = "",
		.type = init ? XTEL_MSG_INIT : XTEL_MSG_DATA,
	};

	if (!init) {
		m.n_metrics = 2;
		for (unsigned int k = 0; k < 2; k++) {
			m.metrics[k].key = keys[k];
			m.metrics[k].key_len = (uint8_t)strlen(keys[k]);
			m.metrics[k].value = (double)(synth_rng() % 1000) / 10;
		}
	}
	return xtel_registry_account(reg, &m,
				     send + lat[synth_rng() % SYNTH_LAT_TABLE],
				     64, NULL);
}

/* The model's counters source when there are no workers. */
static inline void synth_no_counters(void *arg, struct xtel_worker_counters *out)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
}

#endif /* XTEL_BENCH_SYNTH_FLEET_H */
