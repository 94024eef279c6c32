/* SPDX-License-Identifier: MIT */
/*
 * The server's cost of one resumed (or full) DTLS handshake, in memory,
 * for callgrind (docs/CAPACITY.md, "Session resumption"). One client makes
 * a full handshake and keeps its ticket; then N clients, each from its own
 * address, resume with it (or, with --full, handshake in full), complete,
 * and close. Every datagram the server gets passes server_feed(), and
 * only the handshake's datagrams do (the close_notify goes around it), so
 *   valgrind --tool=callgrind --collect-atstart=no \
 *            --toggle-collect=server_feed bench/resume_prof CERTDIR 1000
 * counts exactly the server's instructions of N handshakes: the cookie
 * exchange, OpenSSL's handshake, the ticket, the take-over by the built-in
 * record layer. Without valgrind it prints the server's thread CPU per
 * handshake (noisy; compare builds side by side).
 *
 * usage: resume_prof CERTDIR N [--full] [--openssl-records]
 *                    [--verify-cache ENTRIES] [--clients K]
 *                    [--crl FILE] [--client-ca FILE] [--client-dir DIR]
 * CERTDIR as made by certs/gen.sh (ca.crt, server.*, client-1..K.*).
 * --crl: the server checks every CA of the chain against FILE (the
 * collector's --crl); --client-ca and --client-dir: the clients' CA (the
 * server's --ca, default CERTDIR/ca.crt) and their certificates (default
 * CERTDIR), e.g. certs/gen.sh chain's CERTDIR/chain/root.crt and chain/.
 * The full handshakes take turns among client-1..K (default 1); with the
 * verification cache (dtls/vcache.c; default off) of ENTRIES, K = 1 makes
 * every full handshake a hit (warm), K > ENTRIES every one a miss (cold).
 * Exit 0 when all N handshakes completed as asked (resumed unless --full).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "dtls/client.h"
#include "dtls/server.h"
#include "mem_dtls.h"

enum { KMAX = 64 };

struct prof_net {
	struct xtel_dtls_server *srv;
	struct xtel_dtls_client_ctx *cctx;
	struct xtel_dtls_identity *ids[KMAX];
	unsigned int nids;
	struct mem_dtls_q q;
	bool measured;		/* the datagrams of this handshake pass server_feed */
	uint64_t cpu_ns;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * XTEL_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The one function callgrind collects in (--toggle-collect=server_feed). */
__attribute__((noinline)) void server_feed(struct prof_net *pn,
					   const struct sockaddr_in *a,
					   const void *d, size_t len,
					   uint64_t now);
__attribute__((noinline)) void server_feed(struct prof_net *pn,
					   const struct sockaddr_in *a,
					   const void *d, size_t len,
					   uint64_t now)
{
	xtel_dtls_server_input(pn->srv, (const struct sockaddr *)a, sizeof(*a),
			       d, len, now);
}

/* mem_dtls_feed_fn: straight to the server (not collected). */
static void server_in(void *arg, unsigned int i, const void *d, size_t len,
		      uint64_t now)
{
	struct prof_net *pn = arg;
	struct sockaddr_in a = mem_dtls_addr(i);

	xtel_dtls_server_input(pn->srv, (const struct sockaddr *)&a, sizeof(a),
			       d, len, now);
}

/* mem_dtls_feed_fn of handshakes: timed, and through server_feed when
 * measured. */
static void to_server(void *arg, unsigned int i, const void *d, size_t len,
		      uint64_t now)
{
	struct prof_net *pn = arg;
	struct sockaddr_in a = mem_dtls_addr(i);
	uint64_t t0 = thread_cpu_ns();

	if (pn->measured)
		server_feed(pn, &a, d, len, now);
	else
		server_in(pn, i, d, len, now);
	pn->cpu_ns += thread_cpu_ns() - t0;
}

/*
 * One client's handshake from address i; the client, or NULL. Only
 * measured ones pass server_feed (the first, which makes the ticket, not).
 */
static struct xtel_dtls_client *handshake(struct prof_net *pn, unsigned int i,
					  const struct xtel_dtls_ticket *t,
					  bool measured)
{
	struct xtel_dtls_identity *id = pn->ids[i % pn->nids];
	struct xtel_dtls_client *c;
	uint64_t now = xtel_mono_ns();

	if (xtel_dtls_client_new(&c, pn->cctx, id, NULL, 0))
		return NULL;
	if ((t != NULL && xtel_dtls_client_resume(c, t)) ||
	    xtel_dtls_client_start(c, now))
		goto fail;
	pn->measured = measured;
	if (mem_dtls_handshake(&pn->q, c, i, to_server, pn, 0, now))
		return c;
	fprintf(stderr, "resume_prof: handshake %u failed: %s\n", i,
		xtel_dtls_client_error(c));
fail:
	xtel_dtls_client_free(c);
	return NULL;
}

/* close_notify, so the table does not fill (not collected). */
static void close_client(struct prof_net *pn, unsigned int i,
			 struct xtel_dtls_client *c)
{
	xtel_dtls_client_close(c);
	mem_dtls_flush(c, i, server_in, pn, xtel_mono_ns());
	pn->q.n = 0;
	xtel_dtls_client_free(c);
}

int main(int argc, char **argv)
{
	struct xtel_dtls_server_cfg cfg = { 0 };
	struct xtel_dtls_server_stats st;
	struct prof_net pn = { 0 };
	struct xtel_dtls_ticket *t = NULL;
	struct xtel_dtls_client *c;
	struct mem_dtls_files files;
	char ccrt[512], ckey[512];
	struct xtel_dtls_policy_cfg pc = { 0 };
	struct xtel_dtls_policy *policy = NULL;
	const char *cdir;
	unsigned long n, k = 1;
	bool full = false;
	int ok = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: resume_prof CERTDIR N [--full] "
			"[--openssl-records] [--verify-cache ENTRIES] [--clients K] "
			"[--crl FILE] [--client-ca FILE] [--client-dir DIR]\n");
		return 2;
	}
	cdir = argv[1];
	n = strtoul(argv[2], NULL, 10);
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--full") == 0)
			full = true;
		else if (strcmp(argv[i], "--openssl-records") == 0)
			cfg.openssl_records = true;
		else if (strcmp(argv[i], "--verify-cache") == 0 && i + 1 < argc)
			cfg.verify_cache = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc)
			k = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--crl") == 0 && i + 1 < argc)
			pc.crl_file = argv[++i];
		else if (strcmp(argv[i], "--client-ca") == 0 && i + 1 < argc)
			pc.ca_file = argv[++i];
		else if (strcmp(argv[i], "--client-dir") == 0 && i + 1 < argc)
			cdir = argv[++i];
	}
	if (k < 1 || k > KMAX) {
		fprintf(stderr, "resume_prof: --clients 1..%d\n", KMAX);
		return 2;
	}
	mem_dtls_server_files(&cfg, &files, argv[1], "resume_prof");
	cfg.max_sessions = 1024;
	cfg.send = mem_dtls_on_send;
	cfg.send_arg = &pn.q;
	if (pc.crl_file != NULL || pc.ca_file != NULL) {
		if (pc.ca_file == NULL)
			pc.ca_file = files.ca;
		if (xtel_dtls_policy_load(&policy, &pc))
			return 1;
		cfg.policy = policy;
	}
	if (xtel_dtls_server_new(&pn.srv, &cfg) ||
	    xtel_dtls_client_ctx_new(&pn.cctx, files.ca, NULL, NULL))
		return 1;
	xtel_dtls_policy_put(policy);	/* the server holds its own */
	for (pn.nids = 0; pn.nids < k; pn.nids++) {
		snprintf(ccrt, sizeof(ccrt), "%s/client-%u.crt", cdir, pn.nids + 1);
		snprintf(ckey, sizeof(ckey), "%s/client-%u.key", cdir, pn.nids + 1);
		if (xtel_dtls_identity_load(&pn.ids[pn.nids], ccrt, ckey))
			return 1;
	}
	c = handshake(&pn, 0xffff, NULL, false);
	if (c == NULL || (t = xtel_dtls_client_ticket(c)) == NULL) {
		fprintf(stderr, "resume_prof: no ticket from the first handshake\n");
		return 1;
	}
	close_client(&pn, 0xffff, c);
	pn.cpu_ns = 0;
	for (unsigned long i = 0; i < n; i++) {
		c = handshake(&pn, (unsigned int)i, full ? NULL : t, true);
		if (c == NULL)
			break;
		ok += full || xtel_dtls_client_resumed(c);
		close_client(&pn, (unsigned int)i, c);
	}
	xtel_dtls_server_get_stats(pn.srv, &st);
	printf("handshakes %d of %lu %s, server cpu %.1f us each; "
	       "resumed %llu ticket_unknown %llu ticket_refused %llu; "
	       "verify cache hits %llu misses %llu evictions %llu\n",
	       ok, n, full ? "full" : "resumed",
	       ok ? (double)pn.cpu_ns / ok / 1000.0 : 0.0,
	       (unsigned long long)st.handshakes_resumed,
	       (unsigned long long)st.ticket_unknown,
	       (unsigned long long)st.ticket_refused,
	       (unsigned long long)st.verify_cache_hits,
	       (unsigned long long)st.verify_cache_misses,
	       (unsigned long long)st.verify_cache_evictions);
	xtel_dtls_ticket_free(t);
	xtel_dtls_server_free(pn.srv);
	xtel_dtls_client_ctx_free(pn.cctx);
	for (unsigned int i = 0; i < pn.nids; i++)
		xtel_dtls_identity_free(pn.ids[i]);
	return (unsigned long)ok == n ? 0 : 1;
}
