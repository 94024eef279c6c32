// SPDX-License-Identifier: MIT
/*
 * A capture endpoint for the load generator tests: binds a UDP socket
 * (ephemeral port by default), receives everything with recvmmsg, decodes
 * each datagram with the real wire decoder and writes one line per datagram
 * so a script can compare the arrivals with loadgen's JSON report.
 *
 * usage: test_loadgen_capture_tool --bind ADDR [--port N] --port-file F
 *            --out FILE [--expect-byes N] [--expect-total N]
 *            [--idle-ms M] [--timeout S]
 *
 * Output lines: "SRC_ADDR SRC_PORT VERDICT TYPE CLIENT_ID SEQ LEN", where
 * VERDICT is "ok", a wire rejection name, or "client_hello" for a DTLS
 * ClientHello record (TYPE/CLIENT_ID/SEQ are then 0). A final line
 * "# drops N" gives the socket's receive-queue overflows (SO_RXQ_OVFL), which
 * must be 0 for the counts to mean anything.
 *
 * Stops after the expected BYEs (or total) arrived followed by --idle-ms of
 * silence, or exits 1 after --timeout seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/clock.h"
#include "wire/wire.h"

enum { BATCH = 64, BUF = 2048 };

static uint64_t now_ms(void)
{
	return xtel_mono_ns() / 1000000;
}

static int usage(void)
{
	fprintf(stderr, "usage: test_loadgen_capture_tool --bind ADDR [--port N] --port-file F --out FILE [--expect-byes N] [--expect-total N] [--idle-ms M] [--timeout S]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "expect-byes", required_argument, NULL, 'y' },
		{ "expect-total", required_argument, NULL, 'n' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bind_s = NULL, *port_file = NULL, *out_path = NULL;
	unsigned long port = 0, expect_byes = 0, expect_total = 0;
	unsigned long idle_ms = 300, timeout_s = 60;
	static uint8_t bufs[BATCH][BUF];
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov[BATCH];
	static struct sockaddr_storage srcs[BATCH];
	static union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(uint32_t))];
	} ctl[BATCH];
	struct sockaddr_storage ss = { 0 };
	socklen_t sslen;
	uint64_t byes = 0, total = 0, drops = 0, start, last = 0;
	int fd, opt, one = 1, rcvbuf = 64 << 20;
	FILE *out, *pf;
	char tmp[4096];

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': bind_s = optarg; break;
		case 'p': port = strtoul(optarg, NULL, 10); break;
		case 'f': port_file = optarg; break;
		case 'o': out_path = optarg; break;
		case 'y': expect_byes = strtoul(optarg, NULL, 10); break;
		case 'n': expect_total = strtoul(optarg, NULL, 10); break;
		case 'i': idle_ms = strtoul(optarg, NULL, 10); break;
		case 't': timeout_s = strtoul(optarg, NULL, 10); break;
		default: return usage();
		}
	}
	if (!bind_s || !port_file || !out_path)
		return usage();

	if (strchr(bind_s, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, bind_s, &s6->sin6_addr) != 1)
			return usage();
		sslen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, bind_s, &s4->sin_addr) != 1)
			return usage();
		sslen = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	/* FORCE works as root; otherwise rmem_max caps the plain option. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen)) {
		fprintf(stderr, "capture: bind %s: %s\n", bind_s, strerror(errno));
		return 1;
	}
	sslen = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sslen);
	port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
		     ((struct sockaddr_in6 *)&ss)->sin6_port);
	out = fopen(out_path, "w");
	snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
	pf = fopen(tmp, "w");
	if (!out || !pf) {
		perror("capture: output");
		return 1;
	}
	fprintf(pf, "%lu\n", port);
	fclose(pf);
	rename(tmp, port_file);	/* the script sees the whole number or nothing */

	start = now_ms();
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n;

		if ((expect_byes && byes >= expect_byes) ||
		    (expect_total && total >= expect_total)) {
			if (now_ms() - last >= idle_ms)
				break;
		}
		if (now_ms() - start > timeout_s * 1000) {
			fprintf(stderr, "capture: timeout after %lus: %llu datagrams, %llu BYE\n",
				timeout_s, (unsigned long long)total,
				(unsigned long long)byes);
			fprintf(out, "# drops %llu\n# timeout\n", (unsigned long long)drops);
			fclose(out);
			return 1;
		}
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], BUF };
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &srcs[i], .msg_namelen = sizeof(srcs[i]),
				.msg_iov = &iov[i], .msg_iovlen = 1,
				.msg_control = ctl[i].b, .msg_controllen = sizeof(ctl[i].b),
			};
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		last = now_ms();
		for (int i = 0; i < n; i++) {
			const uint8_t *b = bufs[i];
			size_t len = msgs[i].msg_len;
			struct xtel_msg m;
			enum xtel_wire_err e = xtel_wire_decode(b, len, &m);
			const char *verdict = xtel_wire_err_name(e);
			char addr[INET6_ADDRSTRLEN] = "?";
			unsigned int sport;
			struct cmsghdr *cm;

			for (cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm;
			     cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm))
				if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL)
					memcpy(&one, CMSG_DATA(cm), sizeof(one)), drops = (uint32_t)one;
			if (srcs[i].ss_family == AF_INET) {
				struct sockaddr_in *s4 = (struct sockaddr_in *)&srcs[i];

				inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
				sport = ntohs(s4->sin_port);
			} else {
				struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&srcs[i];

				inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
				sport = ntohs(s6->sin6_port);
			}
			if (e != XTEL_WIRE_OK && len > 25 && b[0] == 22 && b[13] == 1) {
				fprintf(out, "%s %u client_hello 0 0 0 %zu\n", addr, sport, len);
			} else if (e == XTEL_WIRE_OK || e > XTEL_WIRE_TRUNCATED) {
				fprintf(out, "%s %u %s %u %u %llu %zu\n", addr, sport,
					e == XTEL_WIRE_OK ? "ok" : verdict, m.type,
					m.client_id, (unsigned long long)m.seq, len);
			} else {
				fprintf(out, "%s %u %s 0 0 0 %zu\n", addr, sport, verdict, len);
			}
			if (e == XTEL_WIRE_OK && m.type == XTEL_MSG_BYE)
				byes++;
			total++;
		}
	}
	fprintf(out, "# drops %llu\n", (unsigned long long)drops);
	fclose(out);
	close(fd);
	return 0;
}
