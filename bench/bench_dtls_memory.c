// SPDX-License-Identifier: MIT
/*
 * Memory per DTLS session, by component (issue 16: <= 4 KiB per DTLS
 * client at 100,000 clients, the plain client's share included). N clients
 * handshake in memory with one real server (userspace/dtls/, the
 * collector's defaults: built-in record layer, tickets, the verification
 * cache of --verify-cache's default), each sends one record (which proves
 * the server's final flight arrived, so the server frees its copy), and
 * all stay established. Printed, per session: the heap the server's
 * sessions hold (mallinfo2, malloc headers included), split into the
 * session entry (struct session, the built-in record layer's keys, struct
 * own_rl, inside it: own_rl_b 0), the session's share of OpenSSL's AEAD decrypt contexts (the
 * worker's cache of DTLS_RL_CACHE_SLOTS of them, record.h, made as the
 * sessions' first records arrive; one measured alone, made the same way)
 * and the rest of the growth, and the fixed
 * tables the
 * server sizes by --max-sessions and --verify-cache (hash buckets, cache
 * entries); the client side's heap per session (what loadgen holds for
 * one client after the handshake: its keys, as the client takes the record
 * layer over, or with --openssl-records the SSL object and its buffers as
 * before; its record sealed as loadgen seals, without a queue; no ticket
 * kept, as loadgen without --resume); and
 * the heap of one half-open handshake (the server's state while it waits
 * for the client's flight, bounded by --max-half-open). Deterministic but
 * for OpenSSL's own allocations, which do not vary from run to run.
 *
 * usage: bench_dtls_memory CERTDIR [--clients N] [--half-open M]
 *                          [--verify-cache E] [--openssl-records] [--json]
 * CERTDIR as made by certs/gen.sh with at least N clients.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "dtls/client.h"
#include "dtls/server.h"
#include "dtls/server_internal.h"
#include "mem_dtls.h"

static uint64_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/*
 * Client i's handshake; rounds 0: to completion, else only that many
 * client flights (1: the cookie exchange and the ClientHello with it, so
 * the server is left half-open, its flight not delivered).
 */
static int handshake(struct mem_dtls_net *mn, struct xtel_dtls_client *c,
		     unsigned int i, int rounds)
{
	uint64_t now = xtel_mono_ns();

	if (xtel_dtls_client_start(c, now))
		return -1;
	return mem_dtls_handshake(&mn->q, c, i, mem_dtls_to_server, mn, rounds, now) ? 0 : -1;
}

static int load_id(const char *dir, unsigned int id, struct xtel_dtls_identity **out)
{
	char crt[512], key[512];

	snprintf(crt, sizeof(crt), "%s/client-%u.crt", dir, id);
	snprintf(key, sizeof(key), "%s/client-%u.key", dir, id);
	return xtel_dtls_identity_load(out, crt, key);
}

struct mem_result {
	unsigned int n, m, verify_cache;
	double identity;		/* a client's certificate and key, loaded */
	uint64_t server_fixed;		/* xtel_dtls_server_new: tables, contexts */
	double server;			/* per established session, flight freed */
	double server_flight;		/* the same before the client's first record */
	double client_idle;		/* per client session after its handshake */
	double client;			/* ... after one record sent */
	double half_open;		/* per half-open handshake, server side */
	double half_open_estimate;	/* what the server charges for one */
	double aead;			/* one AEAD context, measured alone */
	bool openssl_records;		/* the clients kept OpenSSL's layer */
};

/*
 * The session's share of the AEAD contexts: batch B's n sessions (ids in
 * a row) key min(n, slots) slots of the worker's cache.
 */
static double aead_share(const struct mem_result *r)
{
	unsigned int used = r->n < DTLS_RL_CACHE_SLOTS ? r->n : DTLS_RL_CACHE_SLOTS;

	return r->aead * used / r->n;
}

/*
 * The heap one session's AEAD context holds, measured alone: k contexts
 * made as dtls_rl_derive makes the rx one (AES-128-GCM, the default
 * suite's, keyed, its implicit salt set for the TLS mode).
 */
static double aead_ctx_bytes(unsigned int k)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	EVP_CIPHER_CTX **v = calloc(k, sizeof(*v));
	unsigned char key[16] = { 1 }, iv[4] = { 2 };
	uint64_t h0;
	double per = -1;

	if (c == NULL || v == NULL)
		goto out;
	h0 = heap_bytes();
	for (unsigned int i = 0; i < k; i++) {
		v[i] = EVP_CIPHER_CTX_new();
		if (v[i] == NULL || EVP_DecryptInit_ex(v[i], c, NULL, key, NULL) != 1 ||
		    EVP_CIPHER_CTX_ctrl(v[i], EVP_CTRL_GCM_SET_IV_FIXED, sizeof(iv), iv) != 1)
			goto out;
	}
	per = (double)(heap_bytes() - h0) / k;
out:
	for (unsigned int i = 0; v != NULL && i < k; i++)
		EVP_CIPHER_CTX_free(v[i]);
	free(v);
	EVP_CIPHER_free(c);
	return per;
}

/* A heap block of size bytes as glibc's malloc holds it (header, 16-byte steps). */
static size_t chunk(size_t size)
{
	size_t c = (size + 8 + 15) & ~(size_t)15;

	return c < 32 ? 32 : c;
}

static void print_result(const struct mem_result *r, bool json)
{
	/* own_rl is a field of struct session (its rl_mem): no heap of its own */
	size_t sess = chunk(sizeof(struct session)), rl = 0;
	double aead = aead_share(r);
	double rest = r->server - (double)sess - (double)rl - aead;

	if (json) {
		printf("{\"clients\": %u, \"verify_cache\": %u, "
		       "\"server_session_b\": %.1f, \"session_entry_b\": %zu, "
		       "\"own_rl_b\": %zu, \"aead_ctx_b\": %.1f, "
		       "\"aead_ctx_one_b\": %.1f, \"aead_slots\": %d, \"rest_b\": %.1f, "
		       "\"server_session_flight_b\": %.1f, "
		       "\"server_fixed_b\": %llu, \"client_idle_b\": %.1f, "
		       "\"client_session_b\": %.1f, "
		       "\"client_identity_b\": %.1f, \"half_open_b\": %.1f, "
		       "\"half_open_estimate_b\": %.1f, \"client_records\": \"%s\"}\n",
		       r->n, r->verify_cache, r->server, sess, rl, aead, r->aead,
		       DTLS_RL_CACHE_SLOTS, rest,
		       r->server_flight, (unsigned long long)r->server_fixed,
		       r->client_idle, r->client, r->identity,
		       r->half_open, r->half_open_estimate,
		       r->openssl_records ? "openssl" : "own");
		return;
	}
	printf("DTLS memory, %u established sessions, %u half-open, verify cache %u entries\n",
	       r->n, r->m, r->verify_cache);
	printf("server, per established session: %8.1f B\n", r->server);
	printf("  session entry (struct session)   %8zu B (%zu B of fields)\n",
	       sess, sizeof(struct session));
	printf("  built-in record layer (own_rl)   %8zu B (its %zu B inside the entry)\n",
	       rl, sizeof(struct own_rl));
	printf("  OpenSSL's AEAD contexts (share)  %8.1f B (the worker's %d of %.1f B each)\n",
	       aead, DTLS_RL_CACHE_SLOTS, r->aead);
	printf("  the rest                         %8.1f B\n", rest);
	printf("  ... before the client's first record (its final flight kept): %.1f B\n",
	       r->server_flight);
	printf("server, fixed (tables, contexts):  %8llu B = %.1f B per session at %u\n",
	       (unsigned long long)r->server_fixed, (double)r->server_fixed / r->n, r->n);
	printf("server, per half-open handshake:   %8.1f B (charged as %.1f B)\n",
	       r->half_open, r->half_open_estimate);
	printf("client (loadgen), per session:     %8.1f B idle after the handshake, "
	       "%.1f B after a record; its identity %.1f B (%s record layer)\n",
	       r->client_idle, r->client, r->identity,
	       r->openssl_records ? "OpenSSL's" : "its own");
}

int main(int argc, char **argv)
{
	struct xtel_dtls_server_cfg cfg = { 0 };
	struct mem_dtls_net mn = { 0 };
	struct xtel_dtls_client **c;
	struct xtel_dtls_identity **ids;
	struct mem_dtls_files files;
	unsigned int n = 2000, m = 64, vc = 65536;
	uint64_t h0, h_ids, h_srv0, h_hs, h_a, h_est, h_cli, h_half0, h_half;
	struct mem_dtls_args args = { .clients = 2000 };
	bool json, openssl_records;
	int ret = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_dtls_memory CERTDIR [--clients N] "
			"[--half-open M] [--verify-cache E] [--openssl-records] [--json]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (mem_dtls_arg(&args, argc, argv, &i))
			continue;
		if (!strcmp(argv[i], "--half-open") && i + 1 < argc)
			m = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--verify-cache") && i + 1 < argc)
			vc = (unsigned int)strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "bench_dtls_memory: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	n = args.clients;
	json = args.json;
	openssl_records = args.openssl_records;
	if (n < 1 || m < 1 || m > 200) {
		fprintf(stderr, "bench_dtls_memory: --clients >= 1, --half-open 1..200\n");
		return 2;
	}
	mem_dtls_server_files(&cfg, &files, argv[1], "bench_dtls_memory");
	cfg.max_sessions = 2 * n + m + 16;
	cfg.max_half_open = m + 16;
	cfg.max_half_open_per_source = m + 16;
	cfg.verify_cache = vc;
	cfg.no_client_id_check = true;
	cfg.send = mem_dtls_on_send;
	cfg.send_arg = &mn.q;
	cfg.on_data = mem_dtls_count_data;
	cfg.data_arg = &mn;
	c = calloc(2 * n + m, sizeof(*c));
	ids = calloc(2 * n + m, sizeof(*ids));
	if (!c || !ids || xtel_dtls_client_ctx_new(&mn.cctx, files.ca, NULL, NULL))
		return 1;
	xtel_dtls_client_ctx_set_openssl_records(mn.cctx, openssl_records);
	xtel_dtls_client_ctx_set_keep_tickets(mn.cctx, false);

	h0 = heap_bytes();
	for (unsigned int i = 0; i < 2 * n + m; i++)
		if (load_id(argv[1], i + 1, &ids[i])) {
			fprintf(stderr, "bench_dtls_memory: %s has no client-%u (certs/gen.sh %s %u)\n",
				argv[1], i + 1, argv[1], 2 * n + m);
			return 1;
		}
	h_ids = heap_bytes();
	if (xtel_dtls_server_new(&mn.srv, &cfg))
		return 1;
	h_srv0 = heap_bytes();
	/*
	 * Batch A, clients 0..n-1: handshakes only, then the clients are
	 * freed (which the server does not see): the client side idle, as
	 * loadgen holds it until --data-delay ends, and the server's sessions
	 * still holding their final flight.
	 */
	for (unsigned int i = 0; i < n; i++)
		if (xtel_dtls_client_new(&c[i], mn.cctx, ids[i], NULL, 0) ||
		    handshake(&mn, c[i], i, 0)) {
			fprintf(stderr, "bench_dtls_memory: handshake %u failed: %s\n", i,
				c[i] ? xtel_dtls_client_error(c[i]) : "no client");
			goto out;
		}
	h_hs = heap_bytes();
	for (unsigned int i = 0; i < n; i++) {
		xtel_dtls_client_free(c[i]);
		c[i] = NULL;
	}
	h_a = heap_bytes();
	/* Batch B, clients n..2n-1: handshakes and one record each. */
	for (unsigned int i = n; i < 2 * n; i++) {
		static const char rec[] = "one record: the final flight arrived";
		unsigned char d[MEM_DTLS_DGRAM_MAX];
		ssize_t len = -1;

		/* Sealed as loadgen seals (xtel_lg_dtls_seal): no queue. */
		if (xtel_dtls_client_new(&c[i], mn.cctx, ids[i], NULL, 0) ||
		    handshake(&mn, c[i], i, 0) ||
		    (len = xtel_dtls_client_seal(c[i], rec, sizeof(rec), d, sizeof(d))) < 0) {
			fprintf(stderr, "bench_dtls_memory: handshake %u failed: %s\n", i,
				c[i] ? xtel_dtls_client_error(c[i]) : "no client");
			goto out;
		}
		mem_dtls_to_server(&mn, i, d, (size_t)len, xtel_mono_ns());
	}
	h_est = heap_bytes();
	if (xtel_dtls_server_sessions(mn.srv) != 2 * n || mn.records != n ||
	    xtel_dtls_server_builtin_sessions(mn.srv) != 2 * n) {
		fprintf(stderr, "bench_dtls_memory: %u sessions, %u on the built-in layer, %lu records of %u\n",
			xtel_dtls_server_sessions(mn.srv),
			xtel_dtls_server_builtin_sessions(mn.srv), mn.records, n);
		goto out;
	}
	for (unsigned int i = n; i < 2 * n; i++) {
		xtel_dtls_client_free(c[i]);
		c[i] = NULL;
	}
	h_cli = heap_bytes();
	/*
	 * Half-open: the cookie exchange, then the ClientHello with the
	 * cookie in, the server's flight out and not delivered. The clients
	 * are freed before the heap is read: what stays is the server's.
	 */
	h_half0 = heap_bytes();
	for (unsigned int i = 2 * n; i < 2 * n + m; i++)
		if (xtel_dtls_client_new(&c[i], mn.cctx, ids[i], NULL, 0) ||
		    handshake(&mn, c[i], i, 1)) {
			fprintf(stderr, "bench_dtls_memory: half-open handshake %u failed\n", i);
			goto out;
		}
	for (unsigned int i = 2 * n; i < 2 * n + m; i++) {
		xtel_dtls_client_free(c[i]);
		c[i] = NULL;
	}
	h_half = heap_bytes();
	if (xtel_dtls_server_half_open(mn.srv) != m) {
		fprintf(stderr, "bench_dtls_memory: %u half-open, want %u\n",
			xtel_dtls_server_half_open(mn.srv), m);
		goto out;
	}
	print_result(&(struct mem_result){
		.n = n, .m = m, .verify_cache = vc,
		.identity = (double)(h_ids - h0) / (2 * n + m),
		.server_fixed = h_srv0 - h_ids,
		.server = (double)(h_cli - h_a) / n,
		.server_flight = (double)(h_a - h_srv0) / n,
		.client_idle = (double)(h_hs - h_a) / n,
		.client = (double)(h_est - h_cli) / n,
		.half_open = (double)(h_half - h_half0) / m,
		.half_open_estimate = (double)mn.srv->half_open_bytes / m,
		.aead = aead_ctx_bytes(n),
		.openssl_records = openssl_records,
	}, json);
	ret = 0;
out:
	for (unsigned int i = 0; i < 2 * n + m; i++) {
		xtel_dtls_client_free(c[i]);
		xtel_dtls_identity_free(ids[i]);
	}
	xtel_dtls_server_free(mn.srv);
	xtel_dtls_client_ctx_free(mn.cctx);
	free(c);
	free(ids);
	return ret;
}
