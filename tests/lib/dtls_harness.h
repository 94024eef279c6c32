/* SPDX-License-Identifier: MIT */
/*
 * The DTLS test harness, shared by tests/unit/test_dtls_*.c: everything
 * runs in memory. One server and up to MAX_CLIENTS clients exchange
 * datagrams through a wire loop (pump) that can drop, duplicate or corrupt
 * them through a filter, under a fake clock. OpenSSL's DTLS timers read
 * gettimeofday(), which the harness defines to follow the fake clock, so
 * retransmission tests are exact and take no real time.
 *
 * Certificates come from certs/gen.sh when it exists in the source tree,
 * otherwise from tests/unit/dtls_certs_fixture.sh (same layout); the
 * fixture always adds OUTDIR/extra/ (client certs with invalid CNs). They
 * are made once per test program in a temporary directory, removed when
 * its tests have run (dtls_harness_main).
 *
 * Messages of the DTLS code are captured (logs), not printed.
 */
#ifndef XTEL_TESTS_DTLS_HARNESS_H
#define XTEL_TESTS_DTLS_HARNESS_H

#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "bpf/xtel_wire.h"
#include "common/clock.h"
#include "dtls/client.h"
#include "dtls/dgram_bio.h"
#include "dtls/server.h"

#define NS XTEL_NS_PER_SEC

/*
 * Heap measurements (mallinfo2) see nothing under AddressSanitizer, whose
 * allocator is its own: tests skip those assertions when this is defined.
 */
#if defined(__SANITIZE_ADDRESS__)
#define DTLS_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DTLS_UNDER_ASAN 1
#endif
#endif
#define MS 1000000ull

enum { MAX_CLIENTS = 16, MAX_PKTS = 512, K_RECORDS = 40 };

/* ---- fake clock ---- */

/* What the tests pass as `now`; OpenSSL's gettimeofday() follows it. */
extern uint64_t fake_now;

/* ---- certificates ---- */

extern char certdir[256];
/* certdir/rel, from a small rotating pool (valid for a few calls). */
const char *cert(const char *rel);

/* The three supported suites: AES-128-GCM, ChaCha20-Poly1305, AES-256-GCM. */
extern const char *const dtls_test_suites[3];

/* ---- messages of the DTLS code ---- */

/* How many since the running test's net was made, and the last one. */
struct dtls_logs {
	int lines;
	char last[512];
};
extern struct dtls_logs logs;

/* ---- record layers ---- */

/*
 * Record-path tests run twice: with the server's own record layer (the
 * default) and with OpenSSL's (cfg.openssl_records), whose behaviour the
 * own layer must match.
 */
struct mode {
	bool openssl_records;
	const char *ciphers;
};
extern struct mode mode_own, mode_ssl, cur_mode;
/* Set by a BOTH() test that skipped itself (see mode_teardown). */
extern bool mode_exempt;

/* cur_mode from the test's prestate (none: built-in). */
void set_mode(void **state);

/*
 * A BOTH() test must build its servers in its prestate's mode only, and
 * at least one of them.
 */
int mode_setup(void **state);
int mode_teardown(void **state);

#define BOTH(f) \
	cmocka_unit_test_prestate_setup_teardown(f, mode_setup, mode_teardown, \
						 (void *)&mode_own), \
	cmocka_unit_test_prestate_setup_teardown(f, mode_setup, mode_teardown, \
						 (void *)&mode_ssl)

/* ---- the in-memory network ---- */

struct pkt {
	int to;			/* client index, or -1 for the server */
	int from;
	size_t len;
	unsigned char data[XTEL_DGRAM_SLOT_SIZE];
};

struct tclient {
	struct xtel_dtls_client *c;
	struct xtel_dtls_identity *id;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr;
	socklen_t addr_len;
	int last_input_ret;
};

/* Decides the fate of each datagram: 0 deliver, 1 drop. */
typedef int filter_fn(const struct pkt *p, unsigned int nth);

struct net {
	struct xtel_dtls_server *srv;
	struct xtel_dtls_client_ctx *cctx;
	struct tclient cl[MAX_CLIENTS];
	int ncl;
	struct pkt *q;		/* server -> client datagrams not yet moved */
	int nq;
	unsigned int to_server, to_client;	/* counters for filters */
	filter_fn *filter;
	struct pkt last_to_server;	/* copy of the last client datagram */

	/* Delivered records: seen[client][seq] counts arrivals. */
	unsigned int delivered;
	unsigned char seen[MAX_CLIENTS + 1][K_RECORDS + 1];
	uint32_t last_id;
	int decode_errors;
	struct mode mode;	/* the server's record layer */
	/*
	 * Non-zero: pump() hands the server each client address inside a
	 * sockaddr_storage filled with 0xee, with this length.
	 */
	socklen_t wide_len;
	unsigned int data_bad_peer;	/* on_data peer not a client's exact address */
	unsigned int send_bad_len;	/* send() peer_len not the family's size */
};

extern struct net *N;	/* the net of the running test (callbacks) */

/* The server configuration every net starts from, in cur_mode. */
struct xtel_dtls_server_cfg base_cfg(struct net *n);

/*
 * A server (base_cfg in mode m, then tweak) and a client ctx trusting the
 * real CA. The mode is an argument so a test cannot build its server in
 * the previous test's mode; pump() then checks every established session
 * really runs on the record layer the mode asks for.
 */
struct net *net_create_mode(const struct mode *m,
			    void (*tweak)(struct xtel_dtls_server_cfg *));
/* The server in the mode of the test's prestate (none: built-in). */
struct net *net_create(void **state,
		       void (*tweak)(struct xtel_dtls_server_cfg *));
void net_free(struct net *n);

/* Client i's source address: even i IPv4 198.18.1.x, odd i IPv6. */
void client_addr(struct tclient *t, int i);
/* Add a client with the given cert/key (relative to certdir); start it. */
int add_client_ctx(struct net *n, struct xtel_dtls_client_ctx *ctx,
		   const char *crt, const char *key, const char *server_name);
/* Add client-<id> with the real CA's certificate and start it. */
int add_client(struct net *n, int id);

/*
 * From client slot i's address and port (set them first), a throwaway
 * client opens a handshake and leaves it half-open: its ClientHello, our
 * HelloVerifyRequest, its ClientHello with the cookie. The server's flight
 * is discarded and the client freed, so only the server holds memory for
 * the handshake. Slot i's own client is not touched.
 */
void half_open(struct net *n, int i);

/* Move datagrams until nothing moves. Returns datagrams moved. */
unsigned int pump(struct net *n);
/* Advance the fake clock and run both ends' timers. */
void advance(struct net *n, uint64_t dt);
struct xtel_dtls_server_stats stats(struct net *n);
/*
 * Every failed_* counter of st is 0 except reason's, which is want; they
 * add up to handshake_failed.
 */
void assert_failures(const struct xtel_dtls_server_stats *st,
		     enum xtel_dtls_fail reason, uint64_t want);

/* Client i writes telemetry record seq claiming client id `id`. */
void send_record(struct net *n, int i, uint32_t id, uint64_t seq);
void assert_established(struct net *n, int i, uint32_t id);
/* Client c's encrypted datagram of record seq of client 1 (calloc'd). */
struct pkt *seal_record(struct xtel_dtls_client *c, uint64_t seq);
/* Client-1's (client 0's) encrypted datagram of record seq. */
struct pkt *capture_record(struct net *n, uint64_t seq);
/* Hand p to the server as if from client i. */
void feed(struct net *n, int i, const struct pkt *p);
/* Hand len bytes to the server as if from client i (any length). */
void feed_bytes(struct net *n, int i, const void *d, size_t len);

/* Hold every server datagram after the first (the HelloVerifyRequest). */
int drop_after_hvr(const struct pkt *p, unsigned int nth);

/* ---- the program ---- */

/*
 * The whole main of a DTLS test program: make the certificates (argv[1]
 * is the source root), capture the DTLS code's messages, run the group,
 * remove the certificates. Returns main's exit code.
 */
/*
 * The same steps for a program that is not a cmocka group (tests/fuzz):
 * setup starts the fake clock, makes the certificates under src_root's
 * certs/gen.sh and captures the DTLS code's messages (0, or 1 when the
 * certificates could not be made); cleanup removes the certificates.
 */
int dtls_harness_setup(const char *src_root);
void dtls_harness_cleanup(void);

int dtls_harness_run(int argc, char **argv, const char *group,
		     const struct CMUnitTest *tests, size_t n);
#define dtls_harness_main(argc, argv, group, tests)			\
	dtls_harness_run(argc, argv, group, tests,			\
			 sizeof(tests) / sizeof((tests)[0]))

#endif /* XTEL_TESTS_DTLS_HARNESS_H */
