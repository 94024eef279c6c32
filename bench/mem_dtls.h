/* SPDX-License-Identifier: MIT */
/*
 * DTLS in memory for the benches that measure the server alone
 * (resume_prof.c, bench_dtls_memory.c): the real server's datagrams queue
 * up for the client in hand (mem_dtls_on_send, the server's send callback
 * with the queue as its argument), the client's go to the server through
 * the caller's feed, and every client has its own source address.
 */
#ifndef XTEL_BENCH_MEM_DTLS_H
#define XTEL_BENCH_MEM_DTLS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dtls/client.h"
#include "dtls/server.h"

enum { MEM_DTLS_QMAX = 16, MEM_DTLS_DGRAM_MAX = 1500 };

/* The server's datagrams not yet given to the client. */
struct mem_dtls_q {
	unsigned int n;
	size_t len[MEM_DTLS_QMAX];
	unsigned char d[MEM_DTLS_QMAX][MEM_DTLS_DGRAM_MAX];
};

static inline void mem_dtls_on_send(void *arg, const struct sockaddr *peer,
				    socklen_t len, const void *buf, size_t n)
{
	struct mem_dtls_q *q = arg;

	(void)peer;
	(void)len;
	if (q->n < MEM_DTLS_QMAX && n <= MEM_DTLS_DGRAM_MAX) {
		memcpy(q->d[q->n], buf, n);
		q->len[q->n++] = n;
	}
}

/* The server's files in a certs/gen.sh directory. */
struct mem_dtls_files {
	char crt[512], key[512], ca[512];
};

/*
 * Point cfg at dir's server.crt, server.key and ca.crt (kept in f, which
 * must outlive the server's creation) and log only errors as prog.
 */
static inline void mem_dtls_server_files(struct xtel_dtls_server_cfg *cfg,
					 struct mem_dtls_files *f,
					 const char *dir, const char *prog)
{
	snprintf(f->crt, sizeof(f->crt), "%s/server.crt", dir);
	snprintf(f->key, sizeof(f->key), "%s/server.key", dir);
	snprintf(f->ca, sizeof(f->ca), "%s/ca.crt", dir);
	xtel_log_setup(prog, XTEL_LOG_ERR);
	cfg->cert_file = f->crt;
	cfg->key_file = f->key;
	cfg->ca_file = f->ca;
}

/* Client i's address: 198.18.2.x, a port of its own. */
static inline struct sockaddr_in mem_dtls_addr(unsigned int i)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	a.sin_addr.s_addr = htonl(0xc6120200u + (i >> 15));
	a.sin_port = htons((uint16_t)(1024 + (i & 0x7fff)));
	return a;
}

/* One datagram of client i to the server. */
typedef void mem_dtls_feed_fn(void *arg, unsigned int i, const void *d,
			      size_t len, uint64_t now);

/* The flags of the DTLS benches on this net (bench_dtls_memory, _seal). */
struct mem_dtls_args {
	bool json;		/* --json */
	bool openssl_records;	/* --openssl-records: the clients keep OpenSSL's layer */
	unsigned int clients;	/* --clients N */
};

/* Take argv[*i] (and its value) when it is one of them; true if it was. */
static inline bool mem_dtls_arg(struct mem_dtls_args *a, int argc, char **argv,
				int *i)
{
	if (!strcmp(argv[*i], "--json"))
		a->json = true;
	else if (!strcmp(argv[*i], "--openssl-records"))
		a->openssl_records = true;
	else if (!strcmp(argv[*i], "--clients") && *i + 1 < argc)
		a->clients = (unsigned int)strtoul(argv[++*i], NULL, 10);
	else
		return false;
	return true;
}

/* One server, its datagrams for the client in hand, the records it delivered. */
struct mem_dtls_net {
	struct xtel_dtls_server *srv;
	struct xtel_dtls_client_ctx *cctx;
	struct mem_dtls_q q;
	unsigned long records;
};

/* The server's on_data: counts the records (arg: the mem_dtls_net). */
static inline void mem_dtls_count_data(void *arg, uint32_t id,
				       const struct sockaddr *peer,
				       socklen_t plen, const void *pt, size_t len)
{
	(void)id;
	(void)peer;
	(void)plen;
	(void)pt;
	(void)len;
	((struct mem_dtls_net *)arg)->records++;
}

/* mem_dtls_feed_fn: to the net's server as from client i's address. */
static inline void mem_dtls_to_server(void *arg, unsigned int i, const void *d,
				      size_t len, uint64_t now)
{
	struct mem_dtls_net *mn = arg;
	struct sockaddr_in a = mem_dtls_addr(i);

	xtel_dtls_server_input(mn->srv, (const struct sockaddr *)&a, sizeof(a),
			       d, len, now);
}

/* Everything client c (address i) has queued, through feed; true if any. */
static inline bool mem_dtls_flush(struct xtel_dtls_client *c, unsigned int i,
				  mem_dtls_feed_fn *feed, void *arg, uint64_t now)
{
	unsigned char buf[MEM_DTLS_DGRAM_MAX];
	bool moved = false;
	ssize_t len;

	while ((len = xtel_dtls_client_pop(c, buf, sizeof(buf))) > 0) {
		moved = true;
		feed(arg, i, buf, (size_t)len, now);
	}
	return moved;
}

/*
 * Client c (address i, started) and the server trade flights until
 * neither has anything to send; with rounds > 0 stop after that many
 * client flights instead, the server's answer dropped (rounds 1: the
 * server is left half-open). True when c is established (or, with rounds,
 * when it stopped there).
 */
static inline bool mem_dtls_handshake(struct mem_dtls_q *q,
				      struct xtel_dtls_client *c, unsigned int i,
				      mem_dtls_feed_fn *feed, void *arg,
				      int rounds, uint64_t now)
{
	for (int round = 0; round < 20; round++) {
		bool moved = mem_dtls_flush(c, i, feed, arg, now);

		if (rounds && round == rounds) {
			q->n = 0;
			return true;
		}
		for (unsigned int k = 0; k < q->n; k++) {
			moved = true;
			xtel_dtls_client_input(c, q->d[k], q->len[k], now);
		}
		q->n = 0;
		if (!moved)
			break;
	}
	return xtel_dtls_client_state(c) == XTEL_DTLS_CLIENT_ESTABLISHED;
}

#endif /* XTEL_BENCH_MEM_DTLS_H */
