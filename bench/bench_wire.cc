// SPDX-License-Identifier: MIT
/*
 * Micro-benchmarks of the wire codec (userspace/wire.c): the cost in ns of
 * decoding and of encoding one datagram, the two per-packet operations the
 * collector and the load generator run at every datagram. The DATA datagram
 * is the PROTOCOL.md example (3 metrics); variants show what the values'
 * form costs (short decimals take the exact fast path, long mantissas fall
 * back to strtod_l) and what the header-only path costs.
 *
 * usage: bench_wire [Google Benchmark options, e.g. --benchmark_min_time=0.5]
 */
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "wire/wire.h"

namespace {

const char kPayload3[] = "CPU=72.3;MEM=41.2;TEMP=67.5";
const char kPayloadSlow[] =
	"CPU=72.31234567890123456789;MEM=4.1e-310;TEMP=67.512345678901234567";

size_t build(uint8_t *buf, size_t cap, uint8_t type, const char *pl)
{
	ssize_t n = xtel_wire_encode(buf, cap, type, 42, 7,
				     1763700000123456789ULL, pl, strlen(pl));
	struct xtel_msg m;

	if (n < 0 || xtel_wire_decode(buf, (size_t)n, &m) != XTEL_WIRE_OK) {
		fprintf(stderr, "bench_wire: test datagram does not decode\n");
		abort();
	}
	return (size_t)n;
}

void decode_bench(benchmark::State &state, uint8_t type, const char *pl)
{
	uint8_t buf[XTEL_MAX_DATAGRAM];
	size_t len = build(buf, sizeof(buf), type, pl);
	struct xtel_msg m;

	for (auto _ : state) {
		benchmark::DoNotOptimize(buf);
		enum xtel_wire_err err = xtel_wire_decode(buf, len, &m);
		benchmark::DoNotOptimize(err);
		benchmark::DoNotOptimize(m);
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * (int64_t)len);
}

void BM_decode_data_3_metrics(benchmark::State &state)
{
	decode_bench(state, XTEL_MSG_DATA, kPayload3);
}
BENCHMARK(BM_decode_data_3_metrics);

void BM_decode_data_3_metrics_slow_values(benchmark::State &state)
{
	decode_bench(state, XTEL_MSG_DATA, kPayloadSlow);
}
BENCHMARK(BM_decode_data_3_metrics_slow_values);

void BM_decode_heartbeat(benchmark::State &state)
{
	decode_bench(state, XTEL_MSG_HEARTBEAT, "");
}
BENCHMARK(BM_decode_heartbeat);

/* A reject on the cheapest check: what a flood of garbage costs. */
void BM_decode_bad_magic(benchmark::State &state)
{
	uint8_t buf[XTEL_MAX_DATAGRAM];
	size_t len = build(buf, sizeof(buf), XTEL_MSG_DATA, kPayload3);
	struct xtel_msg m;

	buf[0] ^= 0xff;
	for (auto _ : state) {
		benchmark::DoNotOptimize(buf);
		enum xtel_wire_err err = xtel_wire_decode(buf, len, &m);
		benchmark::DoNotOptimize(err);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_decode_bad_magic);

void BM_encode_data_3_metrics(benchmark::State &state)
{
	uint8_t buf[XTEL_MAX_DATAGRAM];
	uint64_t seq = 0;
	size_t plen = strlen(kPayload3);

	for (auto _ : state) {
		seq++;
		ssize_t n = xtel_wire_encode(buf, sizeof(buf), XTEL_MSG_DATA, 42,
					     seq, 1763700000123456789ULL + seq,
					     kPayload3, plen);
		benchmark::DoNotOptimize(n);
		benchmark::ClobberMemory();
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_encode_data_3_metrics);

} // namespace

BENCHMARK_MAIN();
