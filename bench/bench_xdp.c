// SPDX-License-Identifier: MIT
/*
 * usage: bench_xdp [--repeat N] [--trials T] [--json]
 *
 * Cost of the XDP program per packet, measured in the kernel with
 * BPF_PROG_TEST_RUN and a repeat count (the kernel reports the mean run
 * time; the median of T trials is printed). One frame per case: a valid
 * plain datagram, a DTLS record from an established peer, a sessionless
 * ClientHello through its token bucket and the global limit, a datagram
 * dropped for bad magic, and a frame for another port passed through.
 * The goal is < 100 ns per
 * packet. The test-run harness costs ~20 ns per iteration by itself (the
 * loop, the context setup), so an empty XDP program is timed too and the
 * "net" column subtracts it. Not included: the driver's own cost; AF_XDP
 * redirects cannot be timed this way (no socket in a test run).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/xtel_wire.h"
#include "frames.h"
#include "xdp/xdp.h"

struct bench_case {
	const char *name;
	int dtls;		/* program mode this case needs */
	uint8_t frame[256];
	size_t len;
	int verdict;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int measure(int prog_fd, const struct bench_case *c, unsigned int repeat,
		   unsigned int trials, double *ns)
{
	double t[64];
	unsigned int i;

	for (i = 0; i < trials; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o,
			.data_in = c->frame,
			.data_size_in = c->len,
			.repeat = repeat);

		if (bpf_prog_test_run_opts(prog_fd, &o))
			return -errno;
		if ((int)o.retval != c->verdict) {
			fprintf(stderr, "bench_xdp: %s: verdict %u, expected %d\n", c->name,
				o.retval, c->verdict);
			return -EINVAL;
		}
		t[i] = o.duration;	/* mean ns per run, computed by the kernel */
	}
	qsort(t, trials, sizeof(t[0]), cmp_double);
	*ns = t[trials / 2];
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "repeat", required_argument, NULL, 'r' },
		{ "trials", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bench_case cases[5] = {
		{ .name = "plain_datagram", .dtls = 0, .verdict = XDP_PASS },
		{ .name = "dtls_record_peer", .dtls = 1, .verdict = XDP_PASS },
		{ .name = "dtls_hello_bucket", .dtls = 1, .verdict = XDP_PASS },
		{ .name = "dropped_bad_magic", .dtls = 0, .verdict = XDP_DROP },
		{ .name = "pass_through", .dtls = 0, .verdict = XDP_PASS },
	};
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(40000) };
	unsigned int repeat = 1000000, trials = 5, i, n = sizeof(cases) / sizeof(cases[0]);
	struct xtel_xdp *x[2] = { NULL, NULL };
	double ns[5], base;
	struct bench_case empty_case = { .name = "empty_program", .verdict = XDP_PASS };
	struct bpf_insn empty[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int empty_fd = -1;
	int json = 0, c, err, mode;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r': repeat = strtoul(optarg, NULL, 10); break;
		case 't': trials = strtoul(optarg, NULL, 10); break;
		case 'j': json = 1; break;
		default:
			fprintf(stderr, "usage: %s [--repeat N] [--trials T] [--json]\n", argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (!repeat || !trials || trials > 64) {
		fprintf(stderr, "bench_xdp: --repeat >= 1, --trials 1..64\n");
		return 2;
	}

	/* The frames of the bpf tier's fixtures (tests/lib/frames.h). */
	{
		const struct frame_spec specs[5] = {
			{ .ipv = 4, .plain = { .type = XTEL_MSG_DATA, .client = 1,
					       .seq = 5, .body = 64 } },
			{ .ipv = 4, .recs = { { .type = XTEL_DTLS_CT_APPDATA,
						.version = XTEL_DTLS_V12, .epoch = 1,
						.len = 100 } } },
			/* huge rates keep the bucket and the global limit from
			 * running dry during the run, so every iteration takes
			 * the full passing path */
			{ .ipv = 4, .sport = 40001,
			  .recs = { { .type = XTEL_DTLS_CT_HANDSHAKE,
				      .version = XTEL_DTLS_V10, .len = 180 } } },
			{ .ipv = 4, .plain = { .type = XTEL_MSG_DATA, .client = 1,
					       .seq = 5, .body = 64,
					       .magic = 0x5855 } },
			{ .ipv = 4, .dport = 53, .raw = 60 },
		};
		uint8_t frame[FRAME_MAX];
		size_t dlen;

		for (i = 0; i < n; i++) {
			cases[i].len = frame_build(frame, &specs[i], &dlen);
			memcpy(cases[i].frame, frame, cases[i].len);
		}
	}

	for (mode = 0; mode < 2; mode++) {
		struct xtel_xdp_opts o = { .no_pin = true, .quiet = true, .dtls = mode,
					   .handshake_rate = 1000000000, .handshake_burst = 1000000,
					   .handshake_global_rate = 1000000000,
					   .handshake_global_burst = 1000000 };

		err = xtel_xdp_open(&x[mode], &o);
		if (err) {
			fprintf(stderr, "bench_xdp: loading the program: %s%s\n", strerror(-err),
				err == -EPERM ? " (run as root)" : "");
			/* a benchmark without the privilege is skipped, not failed */
			if (err == -EPERM && libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1)
				return 77;
			goto out;
		}
	}
	inet_pton(AF_INET, "198.18.0.2", &peer.sin_addr);
	err = xtel_xdp_peer_add(x[1], (struct sockaddr *)&peer, 1);
	if (err)
		goto out;

	/* the harness alone: an XDP program that only returns XDP_PASS */
	empty_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xtel_empty", "GPL", empty, 2, NULL);
	if (empty_fd < 0) {
		err = -errno;
		goto out;
	}
	memcpy(empty_case.frame, cases[0].frame, cases[0].len);
	empty_case.len = cases[0].len;
	err = measure(empty_fd, &empty_case, repeat, trials, &base);
	if (err)
		goto out;
	for (i = 0; i < n; i++) {
		err = measure(xtel_xdp_prog_fd(x[cases[i].dtls]), &cases[i], repeat, trials, &ns[i]);
		if (err) {
			fprintf(stderr, "bench_xdp: %s: %s\n", cases[i].name, strerror(-err));
			goto out;
		}
	}
	if (json) {
		printf("{\"repeat\": %u, \"trials\": %u, \"harness_ns\": %.1f, \"ns_per_packet\": {",
		       repeat, trials, base);
		for (i = 0; i < n; i++)
			printf("%s\"%s\": %.1f", i ? ", " : "", cases[i].name, ns[i]);
		printf("}, \"net_ns_per_packet\": {");
		for (i = 0; i < n; i++)
			printf("%s\"%s\": %.1f", i ? ", " : "", cases[i].name, ns[i] - base);
		printf("}}\n");
	} else {
		printf("XDP program cost per packet (BPF_PROG_TEST_RUN, repeat %u, median of %u)\n",
		       repeat, trials);
		printf("  %-20s %5s  %9s  %9s\n", "case", "bytes", "ns/packet", "net ns");
		printf("  %-20s %5zu  %9.1f  %9s\n", "(empty program)", empty_case.len, base, "-");
		for (i = 0; i < n; i++)
			printf("  %-20s %5zu  %9.1f  %9.1f\n", cases[i].name, cases[i].len,
			       ns[i], ns[i] - base);
	}
out:
	if (empty_fd >= 0)
		close(empty_fd);
	xtel_xdp_close(x[0]);
	xtel_xdp_close(x[1]);
	return err ? 1 : 0;
}
