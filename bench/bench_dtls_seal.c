// SPDX-License-Identifier: MIT
/*
 * What loadgen's DTLS clients cost per record sealed, on their own record
 * layer (the default since the take-over after the handshake, dtls/client.c:
 * record.c's seal with one AEAD context per thread) against OpenSSL's
 * (--openssl-records: SSL_write into the client's queue, then a pop, as
 * loadgen did before). N clients handshake in memory with one real server
 * (mem_dtls.h); then seal_loop seals R records of a 100-byte telemetry
 * datagram with xtel_dtls_client_seal, as loadgen's sender threads do:
 * "bursts" seals each client's records back to back (loadgen's batches:
 * the shared context is re-keyed once per client), "interleaved" one
 * record per client in turn (re-keyed at every record, the worst case).
 * The last record of every client is then handed to the server, which
 * must deliver all N: the records are real ones.
 *
 * Prints the thread CPU ns per record (noisy on a shared machine); for a
 * repeatable figure run it under callgrind with --collect-atstart=no
 * --toggle-collect=seal_loop and divide Ir by R (docs/CAPACITY.md,
 * "loadgen's DTLS clients after the handshake").
 *
 * usage: bench_dtls_seal CERTDIR [--clients N] [--records R]
 *                        [--order bursts|interleaved] [--openssl-records]
 *                        [--json]
 * CERTDIR as made by certs/gen.sh with at least N clients.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "dtls/client.h"
#include "dtls/server.h"
#include "mem_dtls.h"
#include "wire/wire.h"

enum { BURST = 64 };	/* loadgen --batch's default */

static double thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * The measured part: r records over n clients, each sealed into out[i]
 * (the client's last one stays there). Returns the failures.
 */
__attribute__((noinline)) static unsigned long
seal_loop(struct xtel_dtls_client **c, unsigned int n, unsigned long r,
	  bool interleaved, const unsigned char *pt, size_t pt_len,
	  unsigned char (*out)[MEM_DTLS_DGRAM_MAX], size_t *out_len)
{
	unsigned long failed = 0, done = 0;

	for (unsigned int i = 0; done < r; i = (i + 1) % n) {
		unsigned int k = interleaved ? 1 : BURST;

		for (; k > 0 && done < r; k--, done++) {
			ssize_t len = xtel_dtls_client_seal(c[i], pt, pt_len, out[i],
							    MEM_DTLS_DGRAM_MAX);

			if (len < 0)
				failed++;
			else
				out_len[i] = (size_t)len;
		}
	}
	return failed;
}

int main(int argc, char **argv)
{
	struct xtel_dtls_server_cfg cfg = { 0 };
	struct mem_dtls_net sn = { 0 };
	struct xtel_dtls_client **c;
	struct xtel_dtls_identity **ids;
	unsigned char (*out)[MEM_DTLS_DGRAM_MAX];
	unsigned char pt[XTEL_MAX_DATAGRAM];
	struct mem_dtls_files files;
	unsigned int n = 64;
	unsigned long r = 200000, failed;
	struct mem_dtls_args args = { .clients = 64 };
	bool json, interleaved = false, openssl_records;
	size_t *out_len;
	ssize_t pt_len;
	double t0, ns;
	int ret = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_dtls_seal CERTDIR [--clients N] [--records R] "
			"[--order bursts|interleaved] [--openssl-records] [--json]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (mem_dtls_arg(&args, argc, argv, &i))
			continue;
		if (!strcmp(argv[i], "--records") && i + 1 < argc)
			r = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--order") && i + 1 < argc &&
			 (!strcmp(argv[i + 1], "bursts") || !strcmp(argv[i + 1], "interleaved")))
			interleaved = !strcmp(argv[++i], "interleaved");
		else {
			fprintf(stderr, "bench_dtls_seal: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	n = args.clients;
	json = args.json;
	openssl_records = args.openssl_records;
	if (n < 1 || r < n) {
		fprintf(stderr, "bench_dtls_seal: --clients >= 1, --records >= --clients\n");
		return 2;
	}
	mem_dtls_server_files(&cfg, &files, argv[1], "bench_dtls_seal");
	cfg.max_sessions = n + 16;
	cfg.no_client_id_check = true;
	cfg.send = mem_dtls_on_send;
	cfg.send_arg = &sn.q;
	cfg.on_data = mem_dtls_count_data;
	cfg.data_arg = &sn;
	c = calloc(n, sizeof(*c));
	ids = calloc(n, sizeof(*ids));
	out = calloc(n, sizeof(*out));
	out_len = calloc(n, sizeof(*out_len));
	if (!c || !ids || !out || !out_len ||
	    xtel_dtls_client_ctx_new(&sn.cctx, files.ca, NULL, NULL) ||
	    xtel_dtls_server_new(&sn.srv, &cfg))
		return 1;
	xtel_dtls_client_ctx_set_openssl_records(sn.cctx, openssl_records);
	xtel_dtls_client_ctx_set_keep_tickets(sn.cctx, false);
	for (unsigned int i = 0; i < n; i++) {
		char crt[512], key[512];
		uint64_t now = xtel_mono_ns();

		snprintf(crt, sizeof(crt), "%s/client-%u.crt", argv[1], i + 1);
		snprintf(key, sizeof(key), "%s/client-%u.key", argv[1], i + 1);
		if (xtel_dtls_identity_load(&ids[i], crt, key) ||
		    xtel_dtls_client_new(&c[i], sn.cctx, ids[i], NULL, 0) ||
		    xtel_dtls_client_start(c[i], now) ||
		    !mem_dtls_handshake(&sn.q, c[i], i, mem_dtls_to_server, &sn, 0, now)) {
			fprintf(stderr, "bench_dtls_seal: client %u did not handshake (%s has client-%u? certs/gen.sh)\n",
				i + 1, argv[1], i + 1);
			goto out;
		}
	}
	pt_len = xtel_wire_encode(pt, sizeof(pt), XTEL_MSG_DATA, 1, 1, 0,
				  "cpu=0.25,mem=512,disk=0.75,net=1200,temp=42,fan=1", 50);
	while (pt_len > 0 && pt_len < 100)
		pt[pt_len++] = ' ';	/* a 100-byte datagram, as bench_aead_rekey */
	if (pt_len <= 0)
		goto out;

	t0 = thread_ns();
	failed = seal_loop(c, n, r, interleaved, pt, (size_t)pt_len, out, out_len);
	ns = (thread_ns() - t0) / (double)r;

	for (unsigned int i = 0; i < n; i++)
		mem_dtls_to_server(&sn, i, out[i], out_len[i], xtel_mono_ns());
	if (failed || sn.records != n) {
		fprintf(stderr, "bench_dtls_seal: %lu seals failed, the server took %lu of %u last records\n",
			failed, sn.records, n);
		goto out;
	}
	if (json)
		printf("{\"clients\": %u, \"records\": %lu, \"order\": \"%s\", "
		       "\"record_layer\": \"%s\", \"record_bytes\": %zu, "
		       "\"ns_per_record\": {\"seal\": %.1f}}\n",
		       n, r, interleaved ? "interleaved" : "bursts",
		       openssl_records ? "openssl" : "own", out_len[0], ns);
	else
		printf("%u clients, %lu records of %zd B plaintext (%s), %s record layer: "
		       "%.1f ns CPU per record sealed (record %zu B)\n",
		       n, r, pt_len, interleaved ? "interleaved" : "bursts",
		       openssl_records ? "OpenSSL's" : "the client's own", ns, out_len[0]);
	ret = 0;
out:
	for (unsigned int i = 0; i < n; i++) {
		xtel_dtls_client_free(c[i]);
		xtel_dtls_identity_free(ids[i]);
	}
	xtel_dtls_server_free(sn.srv);
	xtel_dtls_client_ctx_free(sn.cctx);
	free(c);
	free(ids);
	free(out);
	free(out_len);
	return ret;
}
