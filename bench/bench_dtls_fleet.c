// SPDX-License-Identifier: MIT
/*
 * Where a DTLS record's CPU goes when a fleet of N sessions sends (issue
 * 16: CPU per record at 100,000 clients <= 1.2x that at 10). N clients
 * handshake in memory with one real server (userspace/dtls/, the
 * collector's defaults: built-in record layer, tickets; client i from its
 * own address, resuming with a ticket of one of K identities, so 100,000
 * sessions need neither 100,000 certificates nor full handshakes), each
 * seals R telemetry records (INIT, then DATA with the load generator's
 * default two metrics) which are kept, and the client is freed. Every
 * session's INIT goes in first, unmeasured (as it came when the device
 * connected); then drain() feeds the other N x (R - 1) records to the
 * server, as the receive worker
 * does (xtel_dtls_server_input; each decrypted record decoded and
 * accounted in a real registry, as ingest.c's accept_message does without
 * its counters), in one of two orders: "bursts" (each session's R records
 * back to back, as the many-clients drain fills the socket) or
 * "interleaved" (record r of every session, then record r + 1: every
 * record from another session, as a fleet sends). Prints CPU ns per
 * record of the drain and the server's counters, and checks every count
 * (records delivered, accounted, AEAD hits and re-keys, no bad record):
 * exit 1 when one is off. The records are stored in the order fed, so a
 * drain reads its input sequentially, as a receiver's recycled buffers.
 *
 * --prefetch D feeds in batches of 256 (the io_uring completion batch) as
 * the collector's io_uring loop does: with S stages (--stages, default 2),
 * stage s of record j + (S - s) D before record j, never across a batch
 * (whatever xtel_dtls_server_prefetch_pays() would say): 0 the peer's
 * bucket (xtel_dtls_server_prefetch_peer), 1 its session
 * (_prefetch_session), 2 the session's client id and its registry slot,
 * 3 the client's record (xtel_registry_prefetch_slot, _record).
 * --ab K splits the drain into K parts fed with D and without in the
 * order ABBA ABBA ..., and prints each half's CPU ns per record: the two
 * compared in one process, on the same sessions, as close in time as a
 * noisy machine allows.
 *
 * Under callgrind, only the drain: --instr-atstart=no (the program starts
 * the instrumentation around drain()), with --cache-sim=yes for simulated
 * cache misses per function (docs/CAPACITY.md "DTLS at 100,000 sessions:
 * where the time goes").
 *
 * usage: bench_dtls_fleet CERTDIR [--clients N] [--records R]
 *                         [--order bursts|interleaved] [--identities K]
 *                         [--prefetch D [--stages S] [--ab K]]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
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
#include "common/clock.h"
#include "common/log.h"
#include "dtls/client.h"
#include "dtls/server.h"
#include "mem_dtls.h"
#include "wire/wire.h"

enum { KMAX = 64, REC_MAX = 160, BATCH = 256, PREFETCH_MAX = 64 };

struct fleet {
	struct xtel_dtls_server *srv;
	struct xtel_dtls_client_ctx *cctx;
	struct xtel_dtls_identity *ids[KMAX];
	struct xtel_dtls_ticket *tickets[KMAX];
	unsigned int nids;
	struct mem_dtls_q q;
	struct xtel_registry *reg;
	uint64_t arrival_ns;
	unsigned long delivered, accounted, refused;
	/*
	 * The sealed records: client i's r-th at rec[i * R + r] once sealed,
	 * then (connect_all) in the order the drain feeds them, record j from
	 * client who[j].
	 */
	unsigned char (*rec)[REC_MAX];
	uint8_t *rec_len;
	uint32_t *who;
	bool capture;		/* client datagrams go to rec, not the server */
	size_t cap_at;
};

/* xtel_dtls_data_fn: decode and account, as ingest.c's accept_message. */
static void on_data(void *arg, uint32_t id, const struct sockaddr *peer,
		    socklen_t plen, const void *pt, size_t len)
{
	struct fleet *f = arg;
	struct xtel_msg msg;

	(void)id;
	(void)peer;
	(void)plen;
	f->delivered++;
	if (xtel_wire_decode(pt, len, &msg) != XTEL_WIRE_OK ||
	    xtel_registry_account(f->reg, &msg, f->arrival_ns,
				  (uint32_t)len, NULL) != 0) {
		f->refused++;
		return;
	}
	f->accounted++;
}

/* mem_dtls_feed_fn: to the server as from client i, or into rec. */
static void to_server(void *arg, unsigned int i, const void *d, size_t len,
		      uint64_t now)
{
	struct fleet *f = arg;
	struct sockaddr_in a = mem_dtls_addr(i);

	if (f->capture) {
		if (len <= REC_MAX) {
			memcpy(f->rec[f->cap_at], d, len);
			f->rec_len[f->cap_at] = (uint8_t)len;
		}
		f->cap_at++;
		return;
	}
	xtel_dtls_server_input(f->srv, (const struct sockaddr *)&a, sizeof(a),
			       d, len, now);
}

/* Client i's handshake (resuming with ticket t when not NULL). */
static struct xtel_dtls_client *handshake(struct fleet *f, unsigned int i,
					  unsigned int k,
					  const struct xtel_dtls_ticket *t)
{
	struct xtel_dtls_client *c;
	uint64_t now = xtel_mono_ns();

	if (xtel_dtls_client_new(&c, f->cctx, f->ids[k], NULL, 0))
		return NULL;
	if ((t != NULL && xtel_dtls_client_resume(c, t)) ||
	    xtel_dtls_client_start(c, now) ||
	    !mem_dtls_handshake(&f->q, c, i, to_server, f, 0, now)) {
		fprintf(stderr, "bench_dtls_fleet: handshake %u failed: %s\n", i,
			xtel_dtls_client_error(c));
		xtel_dtls_client_free(c);
		return NULL;
	}
	return c;
}

/* Client c (address i) seals its R records into f->rec. */
static int seal_records(struct fleet *f, struct xtel_dtls_client *c,
			unsigned int i, unsigned int nrec)
{
	static const char data[] = "temp=21.5;load=42";
	unsigned char msg[128];

	for (unsigned int r = 0; r < nrec; r++) {
		uint8_t type = r == 0 ? XTEL_MSG_INIT : XTEL_MSG_DATA;
		ssize_t len = xtel_wire_encode(msg, sizeof(msg), type, i + 1, r,
					       f->arrival_ns,
					       r == 0 ? NULL : data,
					       r == 0 ? 0 : sizeof(data) - 1);

		if (len < 0 || xtel_dtls_client_write(c, msg, (size_t)len))
			return -1;
		f->capture = true;
		f->cap_at = (size_t)i * nrec + r;
		mem_dtls_flush(c, i, to_server, f, xtel_mono_ns());
		f->capture = false;
		if (f->cap_at != (size_t)i * nrec + r + 1 ||
		    f->rec_len[(size_t)i * nrec + r] == 0)
			return -1;	/* not one datagram of at most REC_MAX */
	}
	return 0;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * XTEL_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* One record to the server, as the receive worker's ingest gives it. */
static void feed(struct fleet *f, unsigned int i, size_t at, uint64_t now)
{
	struct sockaddr_in a = mem_dtls_addr(i);

	xtel_dtls_server_input(f->srv, (const struct sockaddr *)&a, sizeof(a),
			       f->rec[at], f->rec_len[at], now);
}

/*
 * Prefetch stage st for record j of the batch at b: 0 the peer's bucket
 * (its hash into h[j]), 1 the session, 2 its client id (into id[j]) and
 * that client's registry slot, 3 the client's record.
 */
static void hint(const struct fleet *f, size_t b, size_t j, unsigned int st,
		 uint32_t *h, uint32_t *id)
{
	struct sockaddr_in a;

	switch (st) {
	case 0:
		a = mem_dtls_addr(f->who[b + j]);
		h[j] = xtel_dtls_server_prefetch_peer(f->srv,
			(const struct sockaddr *)&a, sizeof(a));
		break;
	case 1:
		xtel_dtls_server_prefetch_session(f->srv, h[j]);
		break;
	case 2:
		/*
		 * The session's id is one of the K identities' and the
		 * records carry i + 1 (cfg.no_client_id_check): the
		 * collector's are the same id, so the hint's cost is paid
		 * and the wire's id prefetched.
		 */
		id[j] = xtel_dtls_server_prefetch_client(f->srv, h[j]);
		id[j] = id[j] ? f->who[b + j] + 1 : 0;
		xtel_registry_prefetch_slot(f->reg, id[j]);
		break;
	default:
		xtel_registry_prefetch_record(f->reg, id[j]);
		break;
	}
}

/*
 * The measured part (callgrind: the only instrumented one). With d > 0,
 * stage st of record j + (stages - st) d before record j.
 */
__attribute__((noinline)) static void drain(struct fleet *f, size_t from,
					    size_t to, unsigned int d,
					    unsigned int stages)
{
	uint64_t now = xtel_mono_ns();
	uint32_t h[BATCH], id[BATCH];

	for (size_t b = from; b < to; b += BATCH) {
		size_t m = to - b < BATCH ? to - b : BATCH;

		for (unsigned int st = 0; d && st < stages; st++)
			for (size_t j = 0; j < (stages - st) * d && j < m; j++)
				hint(f, b, j, st, h, id);
		for (size_t j = 0; j < m; j++) {
			for (unsigned int st = 0; d && st < stages; st++)
				if (j + (stages - st) * d < m)
					hint(f, b, j + (stages - st) * d, st, h, id);
			feed(f, f->who[b + j], b + j, now);
		}
	}
}

/*
 * Every client's INIT, as it came once it connected (not measured), then
 * the other records moved into the order the drain feeds them.
 */
static int connect_all(struct fleet *f, unsigned int n, unsigned int nrec,
		       bool interleaved)
{
	size_t total = (size_t)n * (nrec - 1), j = 0;
	unsigned char (*rec)[REC_MAX] = calloc(total, sizeof(*rec));
	uint8_t *len = calloc(total, 1);
	uint64_t now = xtel_mono_ns();

	f->who = calloc(total, sizeof(*f->who));
	if (!rec || !len || !f->who) {
		free(rec);
		free(len);
		return -1;
	}
	for (unsigned int i = 0; i < n; i++)
		feed(f, i, (size_t)i * nrec, now);
	for (unsigned int a = 0; a < (interleaved ? nrec - 1 : n); a++)
		for (unsigned int b = 0; b < (interleaved ? n : nrec - 1); b++, j++) {
			unsigned int i = interleaved ? b : a;
			size_t at = (size_t)i * nrec + 1 + (interleaved ? a : b);

			memcpy(rec[j], f->rec[at], REC_MAX);
			len[j] = f->rec_len[at];
			f->who[j] = i;
		}
	free(f->rec);
	free(f->rec_len);
	f->rec = rec;
	f->rec_len = len;
	return 0;
}

static int load_ids(struct fleet *f, const char *dir, unsigned int k)
{
	char crt[512], key[512];

	for (f->nids = 0; f->nids < k; f->nids++) {
		snprintf(crt, sizeof(crt), "%s/client-%u.crt", dir, f->nids + 1);
		snprintf(key, sizeof(key), "%s/client-%u.key", dir, f->nids + 1);
		if (xtel_dtls_identity_load(&f->ids[f->nids], crt, key)) {
			fprintf(stderr, "bench_dtls_fleet: %s has no client-%u\n",
				dir, f->nids + 1);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct xtel_dtls_server_cfg cfg = { 0 };
	struct xtel_dtls_server_stats st;
	struct fleet f = { 0 };
	struct mem_dtls_files files;
	unsigned int n = 10, nrec = 4, k = 16, pf = 0, ab = 0, stages = 2;
	uint64_t half_ns[2] = { 0, 0 }, half_n[2] = { 0, 0 };
	bool interleaved = false;
	uint64_t t0, t1, total;
	unsigned int retries = 0;
	int ret = 1;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--clients") && i + 1 < argc)
			n = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--records") && i + 1 < argc)
			nrec = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--identities") && i + 1 < argc)
			k = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--order") && i + 1 < argc)
			interleaved = !strcmp(argv[++i], "interleaved");
		else if (!strcmp(argv[i], "--prefetch") && i + 1 < argc)
			pf = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--stages") && i + 1 < argc)
			stages = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--ab") && i + 1 < argc)
			ab = (unsigned int)strtoul(argv[++i], NULL, 10);
		else
			argc = 0;
	}
	if (argc < 2 || n < 1 || n > 200000 || nrec < 2 || nrec > 1000000 || (uint64_t)n * nrec > 2000000 ||
	    k < 1 || k > KMAX || pf > PREFETCH_MAX || ab % 2 || ab > 1000 ||
	    stages < 1 || stages > 4 ||
	    (ab && !pf)) {
		fprintf(stderr, "usage: bench_dtls_fleet CERTDIR [--clients 1..200000] "
			"[--records 2..1000000, N x R <= 2000000] [--order bursts|interleaved] "
			"[--identities 1..%d] [--prefetch 1..%d [--stages 1..4] "
			"[--ab 2..1000, even]]\n",
			KMAX, PREFETCH_MAX);
		return 2;
	}
	mem_dtls_server_files(&cfg, &files, argv[1], "bench_dtls_fleet");
	cfg.max_sessions = n + KMAX + 16;	/* as --max-sessions */
	cfg.no_client_id_check = true;		/* as the collector */
	cfg.idle_timeout = 3600 * XTEL_NS_PER_SEC;
	cfg.send = mem_dtls_on_send;
	cfg.send_arg = &f.q;
	cfg.on_data = on_data;
	cfg.data_arg = &f;
	f.arrival_ns = xtel_realtime_ns();
	f.rec = calloc((size_t)n * nrec, sizeof(*f.rec));
	f.rec_len = calloc((size_t)n * nrec, 1);
	f.reg = xtel_registry_new(n + 16);
	if (!f.rec || !f.rec_len || !f.reg || load_ids(&f, argv[1], k) ||
	    xtel_dtls_client_ctx_new(&f.cctx, files.ca, NULL, NULL) ||
	    xtel_dtls_server_new(&f.srv, &cfg))
		goto out;
	/* A ticket per identity, from a full handshake (then closed). */
	for (unsigned int j = 0; j < f.nids; j++) {
		unsigned int a = n + j;
		struct xtel_dtls_client *c = handshake(&f, a, j, NULL);

		if (c == NULL || (f.tickets[j] = xtel_dtls_client_ticket(c)) == NULL) {
			fprintf(stderr, "bench_dtls_fleet: no ticket for identity %u\n", j);
			xtel_dtls_client_free(c);
			goto out;
		}
		xtel_dtls_client_close(c);
		mem_dtls_flush(c, a, to_server, &f, xtel_mono_ns());
		f.q.n = 0;
		xtel_dtls_client_free(c);
	}
	for (unsigned int i = 0; i < n; i++) {
		struct xtel_dtls_client *c = handshake(&f, i, i % f.nids,
						       f.tickets[i % f.nids]);
		struct xtel_dtls_ticket *t;

		/*
		 * A fresh cookie is refused as used now and then at this
		 * handshake rate (cookie.c: the Bloom filter's false "used",
		 * 1-2 in 10,000 at 100,000 per period); the device starts
		 * over with a new random.
		 */
		for (int again = 0; c == NULL && again < 3; again++) {
			retries++;
			c = handshake(&f, i, i % f.nids, f.tickets[i % f.nids]);
		}

		if (c == NULL || seal_records(&f, c, i, nrec)) {
			fprintf(stderr, "bench_dtls_fleet: client %u: no session or records\n", i);
			xtel_dtls_client_free(c);
			goto out;
		}
		/* The next of this identity resumes with the newest ticket. */
		t = xtel_dtls_client_ticket(c);
		if (t != NULL) {
			xtel_dtls_ticket_free(f.tickets[i % f.nids]);
			f.tickets[i % f.nids] = t;
		}
		xtel_dtls_client_free(c);
	}
	xtel_dtls_server_get_stats(f.srv, &st);
	if (xtel_dtls_server_sessions(f.srv) != n ||
	    xtel_dtls_server_builtin_sessions(f.srv) != n) {
		fprintf(stderr, "bench_dtls_fleet: %u sessions (%u built-in), want %u\n",
			xtel_dtls_server_sessions(f.srv),
			xtel_dtls_server_builtin_sessions(f.srv), n);
		goto out;
	}
	if (connect_all(&f, n, nrec, interleaved))
		goto out;
	xtel_dtls_server_get_stats(f.srv, &st);
	f.accounted = 0;
	total = (uint64_t)n * (nrec - 1);
	t0 = cpu_ns();
	CALLGRIND_START_INSTRUMENTATION;
	if (ab == 0)
		drain(&f, 0, total, pf, stages);
	for (unsigned int p = 0; p < ab; p++) {
		size_t from = total * p / ab, to = total * (p + 1) / ab;
		unsigned int on = p % 4 == 0 || p % 4 == 3;
		uint64_t a = cpu_ns();

		drain(&f, from, to, on ? pf : 0, stages);
		half_ns[on] += cpu_ns() - a;
		half_n[on] += to - from;
	}
	CALLGRIND_STOP_INSTRUMENTATION;
	t1 = cpu_ns();
	{
		struct xtel_dtls_server_stats e;

		xtel_dtls_server_get_stats(f.srv, &e);
		printf("{\"clients\": %u, \"records\": %llu, \"order\": \"%s\", "
		       "\"cpu_ns_per_record\": %.1f, \"records_rx\": %llu, "
		       "\"accounted\": %lu, \"aead_ctx_hits\": %llu, "
		       "\"aead_ctx_rekeys\": %llu, \"bad_record\": %llu, "
		       "\"resumed\": %llu, \"handshake_retries\": %u, "
		       "\"prefetch\": %u, \"stages\": %u",
		       n, (unsigned long long)total,
		       interleaved ? "interleaved" : "bursts",
		       (double)(t1 - t0) / (double)total,
		       (unsigned long long)(e.records_rx - st.records_rx),
		       f.accounted,
		       (unsigned long long)(e.aead_ctx_hits - st.aead_ctx_hits),
		       (unsigned long long)(e.aead_ctx_rekeys - st.aead_ctx_rekeys),
		       (unsigned long long)(e.bad_record - st.bad_record),
		       (unsigned long long)e.handshakes_resumed, retries, pf,
		       stages);
		if (ab)
			printf(", \"ab_parts\": %u, \"ab_on_ns\": %.1f, "
			       "\"ab_off_ns\": %.1f", ab,
			       (double)half_ns[1] / (double)half_n[1],
			       (double)half_ns[0] / (double)half_n[0]);
		printf("}\n");
		/* Exact: every record delivered and accounted once. */
		if (e.records_rx - st.records_rx != total || f.accounted != total ||
		    f.refused != 0 || e.bad_record != st.bad_record ||
		    e.aead_ctx_hits - st.aead_ctx_hits +
			    e.aead_ctx_rekeys - st.aead_ctx_rekeys != total) {
			fprintf(stderr, "bench_dtls_fleet: counts are off\n");
			goto out;
		}
	}
	ret = 0;
out:
	for (unsigned int j = 0; j < f.nids; j++) {
		xtel_dtls_ticket_free(f.tickets[j]);
		xtel_dtls_identity_free(f.ids[j]);
	}
	xtel_dtls_server_free(f.srv);
	xtel_dtls_client_ctx_free(f.cctx);
	xtel_registry_free(f.reg);
	free(f.rec);
	free(f.rec_len);
	free(f.who);
	return ret;
}
