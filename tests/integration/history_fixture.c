// SPDX-License-Identifier: MIT
/*
 * history_fixture DB: writes the history the examples of docs/API.md
 * ("GET /api/v1/history") are answers about, through the store's own
 * writer: clients 101 and 102, 30 views of 1 s from 2026-12-01T00:00:00Z
 * (each 0.5 s into its second), every view 10 datagrams of 48 bytes per
 * client, one of them lost in every 10th view, 10 latency samples of
 * 200 us + view * 1 us + k * 0.5 us, and 10 samples of metric temp =
 * client id + view / 2. test_history.sh serves the file with a collector
 * and compares the replies with the documentation byte for byte.
 */
#include <stdio.h>
#include <string.h>

#include "store_synth.h"

enum { T0 = 1796083200, VIEWS = 30 };

int main(int argc, char **argv)
{
	struct xtel_store_cfg cfg = { 0 };
	struct xtel_store *w;
	struct xtel_synth s;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: history_fixture DB\n");
		return 2;
	}
	cfg.path = argv[1];
	for (unsigned int t = 0; t < XTEL_TIER_N; t++)
		cfg.retain_s[t] = 36500ull * 86400;	/* never, in the test */
	if (xtel_store_open(&cfg, &w))
		return 1;
	if (xtel_synth_init(&s, 2, 101, (uint64_t)T0 * 1000000000ull + 500000000ull,
			    1.0))
		return 1;
	for (unsigned int v = 0; v < VIEWS; v++) {
		struct xtel_synth_step st = {
			.received = 10, .bytes = 480, .lost = v % 10 == 9,
			.lat_ns = 200000 + v * 1000, .lat_step_ns = 500,
			.temp_count = 10, .temp_add = v / 2.0,
		};
		struct xtel_store_frame f;

		if (xtel_synth_frame(&s, &st, &f))
			return 1;
		xtel_store_process(w, &f);
	}
	xtel_store_flush(w);
	rc = xtel_store_stop(w);
	xtel_store_free(w);
	xtel_synth_fini(&s);
	return rc ? 1 : 0;
}
