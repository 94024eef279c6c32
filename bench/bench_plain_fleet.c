// SPDX-License-Identifier: MIT
/*
 * Where a plain datagram's CPU goes when a fleet of N clients sends (issue
 * 16: CPU per datagram at 100,000 clients <= 1.2x that at 10), without the
 * kernel: N clients' datagrams (INIT, then DATA with the load generator's
 * default two metrics, "temp" and "load") are encoded up front as the wire
 * carries them, every client's INIT is accounted first, unmeasured (as it
 * came when the device started), then drain() decodes and accounts the
 * other N x (R - 1) datagrams in one real registry, as ingest.c's
 * accept_message does (xtel_wire_decode, xtel_registry_account; without
 * its per-worker counters), in one of two orders: "bursts" (each client's
 * datagrams back to back, as the many-clients drain fills the socket with
 * loadgen's batches) or "interleaved" (datagram r of every client, then
 * r + 1: every datagram from another client, as a fleet sends and as
 * loadgen --batch 1 fills it). With --first-seq S (>= XTEL_SEQ_WINDOW) the clients have been
 * sending for a while: the first datagram is DATA number S (a collector
 * that joined late), the others S + 1, ...; so the sequence window's
 * bitmap word moves every 64 numbers, as a long-lived client's does. Send times follow the order at 300,000
 * datagrams/s; each latency is drawn from synth_fleet.h's log-normal table
 * around 40 us (kernel receive timestamps: a frozen receiver's backlog is
 * not in them). Prints CPU ns per datagram of the drain and checks every
 * count in a final snapshot (each client R datagrams, R - 1 DATA (R with
 * --first-seq), no loss, duplicate or reorder, R latency samples, two
 * keys):
 * exit 1 when one is off.
 *
 * Beside the time it prints what the registry made resident: the
 * process's RSS growth from before the first datagram to after the drain
 * (the inputs are built and touched before) and the process's
 * AnonHugePages (/proc/self/smaps_rollup), which says whether the
 * registry's huge-page mappings got huge pages (acct/hugemap.h; docs/
 * CAPACITY.md "Huge pages for the accounting at 100,000 clients").
 *
 * Under callgrind, only the drain: --instr-atstart=no (the program starts
 * the instrumentation around drain()), with --cache-sim=yes
 * --LL=33554432,16,64 for simulated cache misses per function
 * (docs/CAPACITY.md "The accounting record in fleet order").
 *
 * usage: bench_plain_fleet [--clients N] [--datagrams R]
 *                          [--order bursts|interleaved] [--first-seq S]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include "acct/registry.h"
#include "acct/seqwin.h"
#include "acct/snapshot.h"
#include "common/clock.h"
#include "synth_fleet.h"
#include "wire/wire.h"

enum { DGRAM_MAX = 64, FIRST_ID = 1000 };

struct plain_fleet {
	struct xtel_registry *reg;
	unsigned int n, nrec;
	uint64_t first_seq;	/* 0: INIT first */
	/* the k-th datagram fed (every INIT, then the order's) at dg[k],
	 * its arrival time in arrival[k] */
	uint8_t (*dg)[DGRAM_MAX];
	uint8_t *len;
	uint64_t *arrival;
	unsigned long accounted, refused;
};

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * XTEL_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* A "Name:   N kB" line's N from a /proc file, or 0. */
static unsigned long proc_kb(const char *file, const char *name)
{
	char line[256];
	unsigned long kb = 0;
	size_t n = strlen(name);
	FILE *fp = fopen(file, "r");

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, name, n) && line[n] == ':') {
			kb = strtoul(line + n + 1, NULL, 10);
			break;
		}
	fclose(fp);
	return kb;
}

/* One datagram, decoded and accounted as accept_message does. */
static inline void feed(struct plain_fleet *f, size_t at)
{
	struct xtel_msg msg;
	struct xtel_acct_result res;

	if (xtel_wire_decode(f->dg[at], f->len[at], &msg) != XTEL_WIRE_OK ||
	    xtel_registry_account(f->reg, &msg, f->arrival[at], f->len[at],
				  &res)) {
		f->refused++;
		return;
	}
	f->accounted++;
}

/*
 * The measured part (callgrind: the only instrumented one). The inputs
 * are stored in the order they are fed, so reading them is sequential in
 * both orders, as a receiver reads its ring: what the fleet's order
 * costs is then the registry's, not the bench's input arrays' (which,
 * strided by client, cost a TLB miss and two LL misses per datagram
 * interleaved).
 */
__attribute__((noinline)) static void drain(struct plain_fleet *f)
{
	size_t total = (size_t)f->n * f->nrec;

	for (size_t at = f->n; at < total; at++)
		feed(f, at);
}

/*
 * Encode every datagram; the k-th sent in the chosen order (INITs first)
 * leaves at t0 + k / 300,000 s and is stored at k.
 */
static int build(struct plain_fleet *f, bool interleaved)
{
	static const char data[] = "temp=21.5;load=42";
	static uint64_t lat[SYNTH_LAT_TABLE];
	const uint64_t t0 = 1750000000ULL * XTEL_NS_PER_SEC, step = 3333;
	uint64_t k = 0;

	synth_lat_table(lat, 40, 0.5);
	for (unsigned int i = 0; i < f->n; i++)
		for (unsigned int r = 0; r < f->nrec; r++) {
			/* the first ones go first, then the order's position */
			size_t at = r == 0 ? i : (size_t)f->n +
				(interleaved ? (size_t)(r - 1) * f->n + i :
					       (size_t)i * (f->nrec - 1) + r - 1);
			uint64_t send = t0 + at * step;
			bool init = r == 0 && f->first_seq == 0;
			ssize_t n = xtel_wire_encode(f->dg[at], DGRAM_MAX,
						     init ? XTEL_MSG_INIT : XTEL_MSG_DATA,
						     FIRST_ID + i, f->first_seq + r,
						     send, init ? "" : data,
						     init ? 0 : sizeof(data) - 1);

			if (n <= 0)
				return -1;
			f->len[at] = (uint8_t)n;
			f->arrival[at] = send + lat[synth_rng() % SYNTH_LAT_TABLE];
			k++;
		}
	return k == (uint64_t)f->n * f->nrec ? 0 : -1;
}

/* Every count as the load generator caused it. */
static int check(const struct plain_fleet *f)
{
	struct xtel_registry *regs[1] = { f->reg };
	struct xtel_snapshot s;
	unsigned int ndata = f->first_seq ? f->nrec : f->nrec - 1;
	int bad = 0;

	if (xtel_snapshot_take(regs, 1, 0, 0, true, &s))
		return -1;
	if (s.n_clients != f->n || s.registry_full)
		bad = 1;
	for (unsigned int i = 0; !bad && i < s.n_clients; i++) {
		const struct xtel_client_snap *c = &s.clients[i];

		if (c->client_id != FIRST_ID + i || c->received != f->nrec ||
		    c->by_type[XTEL_MSG_DATA] != ndata || c->lost ||
		    c->pending || c->duplicates || c->reordered ||
		    c->too_late || c->lat.count != f->nrec ||
		    c->highest_seq != f->first_seq + f->nrec - 1 ||
		    c->n_metrics != 2)
			bad = 1;
		for (unsigned int m = 0; !bad && m < c->n_metrics; m++)
			if (c->metrics[m].last_ts_ns == 0)
				bad = 1;
	}
	xtel_snapshot_free(&s);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct plain_fleet f = { .n = 10, .nrec = 20 };
	bool interleaved = false;
	uint64_t t;
	unsigned long rss0;
	size_t total;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--clients") && i + 1 < argc)
			f.n = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--datagrams") && i + 1 < argc)
			f.nrec = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--order") && i + 1 < argc)
			interleaved = !strcmp(argv[++i], "interleaved");
		else if (!strcmp(argv[i], "--first-seq") && i + 1 < argc)
			f.first_seq = strtoull(argv[++i], NULL, 10);
		else
			f.n = 0;
	}
	if (f.n == 0 || f.n > 1000000 || f.nrec < 2 || f.nrec > 100000 ||
	    (uint64_t)f.n * f.nrec > 20000000 || f.first_seq > (1ULL << 40) ||
	    (f.first_seq != 0 && f.first_seq < XTEL_SEQ_WINDOW)) {
		/*
		 * A first number below the window leaves 0..S-1 pending
		 * (acct/seqwin.h: an early datagram, not a late collector),
		 * which is not the long-lived client this option stands for.
		 */
		fprintf(stderr, "usage: bench_plain_fleet [--clients 1..1000000] "
			"[--datagrams 2..100000] [--order bursts|interleaved] "
			"[--first-seq 0 | %u..2^40] (clients x datagrams <= 20M)\n",
			(unsigned int)XTEL_SEQ_WINDOW);
		return 2;
	}
	total = (size_t)f.n * f.nrec;
	f.dg = malloc(total * sizeof(*f.dg));
	f.len = malloc(total);
	f.arrival = malloc(total * sizeof(*f.arrival));
	f.reg = xtel_registry_new(f.n);
	if (!f.dg || !f.len || !f.arrival || !f.reg || build(&f, interleaved)) {
		fprintf(stderr, "bench_plain_fleet: out of memory\n");
		goto out;
	}
	rss0 = proc_kb("/proc/self/status", "VmRSS");
	for (unsigned int i = 0; i < f.n; i++)	/* the first ones, not measured */
		feed(&f, i);
	f.accounted = 0;
	t = cpu_ns();
	CALLGRIND_START_INSTRUMENTATION;
	drain(&f);
	CALLGRIND_STOP_INSTRUMENTATION;
	t = cpu_ns() - t;
	printf("{\"clients\": %u, \"datagrams\": %llu, \"order\": \"%s\", "
	       "\"first_seq\": %llu, "
	       "\"cpu_ns_per_datagram\": %.1f, \"accounted\": %lu, "
	       "\"refused\": %lu, \"registry_rss_kb\": %lu, "
	       "\"anon_huge_kb\": %lu}\n",
	       f.n, (unsigned long long)(total - f.n),
	       interleaved ? "interleaved" : "bursts",
	       (unsigned long long)f.first_seq,
	       (double)t / (double)(total - f.n), f.accounted, f.refused,
	       proc_kb("/proc/self/status", "VmRSS") - rss0,
	       proc_kb("/proc/self/smaps_rollup", "AnonHugePages"));
	if (f.refused || f.accounted != total - f.n || check(&f)) {
		fprintf(stderr, "bench_plain_fleet: counts are off\n");
		goto out;
	}
	rc = 0;
out:
	xtel_registry_free(f.reg);
	free(f.arrival);
	free(f.len);
	free(f.dg);
	return rc;
}
