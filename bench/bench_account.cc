// SPDX-License-Identifier: MIT
/*
 * Micro-benchmarks of per-client accounting (userspace/registry.c and
 * friends): the ns a receive worker spends accounting one datagram in steady
 * state (in order, 1,000 clients round-robin, header only and with three
 * metrics), the cost of recording one latency sample, and the time a
 * reporter needs to snapshot 100,000 clients.
 *
 * usage: bench_account [Google Benchmark options, e.g. --benchmark_min_time=0.5]
 */
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "acct/latency.h"
#include "acct/registry.h"
#include "acct/snapshot.h"

namespace {

const uint64_t kT0 = 1763700000000000000ULL;

void fill(struct xtel_msg *m, uint32_t id, uint64_t seq, int metrics)
{
	static const char *const keys[] = { "CPU", "MEM", "TEMP" };

	memset(m, 0, sizeof(*m));
	m->version = XTEL_WIRE_VERSION;
	m->type = seq ? XTEL_MSG_DATA : XTEL_MSG_INIT;
	m->client_id = id;
	m->seq = seq;
	m->send_ts_ns = kT0 + seq * 1000000;
	for (int i = 0; i < metrics; i++) {
		m->metrics[i].key = keys[i];
		m->metrics[i].key_len = (uint8_t)strlen(keys[i]);
		m->metrics[i].value = 40.0 + i;
	}
	m->n_metrics = (uint32_t)metrics;
}

struct xtel_registry *new_registry(uint32_t n)
{
	struct xtel_registry *reg = xtel_registry_new(n);

	if (!reg) {
		perror("bench_account: xtel_registry_new");
		abort();
	}
	return reg;
}

void BM_AccountInOrder(benchmark::State &state)
{
	const uint32_t clients = 1000;
	const int metrics = (int)state.range(0);
	struct xtel_registry *reg = new_registry(clients);
	std::vector<uint64_t> next(clients, 0);
	struct xtel_msg m;
	struct xtel_acct_result res;
	uint32_t id = 0;

	/* Warm up: every client known, its histogram blocks allocated. */
	for (int r = 0; r < 100; r++)
		for (uint32_t c = 0; c < clients; c++) {
			fill(&m, c, next[c]++, metrics);
			xtel_registry_account(reg, &m, m.send_ts_ns + 40000, 80, &res);
		}
	fill(&m, 0, 0, metrics);
	for (auto _ : state) {
		m.client_id = id;
		m.seq = next[id]++;
		m.type = XTEL_MSG_DATA;
		m.send_ts_ns = kT0 + m.seq * 1000000;
		xtel_registry_account(reg, &m, m.send_ts_ns + 40000 + (m.seq & 1023),
				      80, &res);
		benchmark::DoNotOptimize(res);
		if (++id == clients)
			id = 0;
	}
	state.SetItemsProcessed((int64_t)state.iterations());
	xtel_registry_free(reg);
}
BENCHMARK(BM_AccountInOrder)->Arg(0)->Arg(3)->ArgName("metrics");

void BM_LatencyRecord(benchmark::State &state)
{
	struct xtel_latency h;
	std::vector<int64_t> v(4096);
	size_t i = 0;

	srand(1);
	for (auto &x : v)
		x = 10000 + rand() % 990000;	/* 10 us .. 1 ms */
	xtel_latency_init(&h);
	for (auto x : v)
		xtel_latency_record(&h, x);
	for (auto _ : state) {
		xtel_latency_record(&h, v[i++ & 4095]);
		benchmark::ClobberMemory();
	}
	state.SetItemsProcessed((int64_t)state.iterations());
	xtel_latency_destroy(&h);
}
BENCHMARK(BM_LatencyRecord);

void BM_Snapshot100k(benchmark::State &state)
{
	const uint32_t clients = 100000;
	struct xtel_registry *reg = new_registry(clients);
	struct xtel_msg m;
	struct xtel_acct_result res;

	for (uint32_t c = 0; c < clients; c++)
		for (uint64_t s = 0; s < 20; s++) {
			fill(&m, c, s, 3);
			xtel_registry_account(reg, &m,
					      m.send_ts_ns + 20000 + (c * 7 + s * 131) % 200000,
					      80, &res);
		}
	for (auto _ : state) {
		struct xtel_snapshot snap;

		if (xtel_snapshot_take(&reg, 1, kT0, 1000000000, false, &snap)) {
			state.SkipWithError("snapshot failed");
			break;
		}
		benchmark::DoNotOptimize(snap.total.received);
		xtel_snapshot_free(&snap);
	}
	state.SetItemsProcessed((int64_t)state.iterations() * clients);
	xtel_registry_free(reg);
}
BENCHMARK(BM_Snapshot100k)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
