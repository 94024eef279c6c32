// SPDX-License-Identifier: MIT
/*
 * What an io_uring recv bundle (IORING_RECVSEND_BUNDLE, kernel 6.10+) does
 * on a UDP socket, for docs/CAPACITY.md's "Receive-path options": a socket
 * on loopback gets 8 datagrams of different lengths queued, then one
 * multishot recv over a provided buffer ring reads them, once without and
 * once with the bundle flag. Prints one line per completion (bytes, first
 * buffer id) and a last line "bundle: N completions for 8 datagrams, M with
 * more than one datagram". A bundle only batches when one completion can
 * carry several datagrams; on UDP each recvmsg of the socket returns one
 * datagram, so it cannot (the figures this prints on kernel 6.18 say so).
 * recv, unlike recvmsg, also carries no control messages (the kernel
 * receive timestamp) and no source address, both of which the collector's
 * path needs. liburing 2.3 has no name for the flag: it is defined here.
 *
 * usage: recv_bundle_probe      (no root; loopback only)
 * Exit status: 0 probed, 1 io_uring or the socket unavailable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum {
	N_DGRAMS = 8,
	N_BUFS = 64,		/* a power of two, as buffer rings need */
	BUF_SIZE = 256,		/* room for several of the datagrams */
	BGID = 1,
	XTEL_RECVSEND_BUNDLE = 1u << 4,	/* IORING_RECVSEND_BUNDLE (6.10) */
};

/* One multishot recv of what is queued; returns completions or -errno. */
static int probe(int fd, bool bundle, unsigned int *multi)
{
	struct io_uring_params p = { 0 };
	struct io_uring_buf_reg reg = { 0 };
	struct io_uring_buf_ring *br;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	unsigned int head, n = 0, bytes = 0;
	char *bufs;
	int rc;

	rc = io_uring_queue_init_params(8, &ring, &p);
	if (rc)
		return rc;
	br = mmap(NULL, N_BUFS * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE,
		  MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	bufs = malloc(N_BUFS * BUF_SIZE);
	if (br == MAP_FAILED || !bufs) {
		rc = -ENOMEM;
		goto out;
	}
	reg.ring_addr = (unsigned long)br;
	reg.ring_entries = N_BUFS;
	reg.bgid = BGID;
	rc = io_uring_register_buf_ring(&ring, &reg, 0);
	if (rc)
		goto out;
	io_uring_buf_ring_init(br);
	for (int i = 0; i < N_BUFS; i++)
		io_uring_buf_ring_add(br, bufs + i * BUF_SIZE, BUF_SIZE, (unsigned short)i,
				      io_uring_buf_ring_mask(N_BUFS), i);
	io_uring_buf_ring_advance(br, N_BUFS);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_recv(sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	sqe->ioprio |= IORING_RECV_MULTISHOT | (bundle ? XTEL_RECVSEND_BUNDLE : 0);
	rc = io_uring_submit(&ring);
	if (rc < 0)
		goto out;
	/* Everything is queued already: the completions are there at once. */
	while (bytes < N_DGRAMS * 60 && n < N_DGRAMS) {
		rc = io_uring_wait_cqe(&ring, &cqe);
		if (rc)
			goto out;
		io_uring_for_each_cqe(&ring, head, cqe) {
			printf("%s: completion %u: %d bytes, buffer %u%s\n",
			       bundle ? "bundle" : "plain", n, cqe->res,
			       cqe->flags >> IORING_CQE_BUFFER_SHIFT,
			       cqe->flags & IORING_CQE_F_MORE ? ", more" : "");
			if (cqe->res < 0) {
				rc = cqe->res;
				goto out;
			}
			/* The datagrams are 60..67 bytes: more is more than one. */
			if (cqe->res > 67)
				(*multi)++;
			bytes += (unsigned int)cqe->res;
			n++;
		}
		io_uring_cq_advance(&ring, n);
	}
	rc = (int)n;
out:
	io_uring_queue_exit(&ring);
	free(bufs);
	if (br != MAP_FAILED)
		munmap(br, N_BUFS * sizeof(struct io_uring_buf));
	return rc;
}

static int run(bool bundle)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	unsigned int multi = 0;
	char msg[N_DGRAMS + 60];
	int rx, tx, rc = -1;

	rx = socket(AF_INET, SOCK_DGRAM, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&a, al) ||
	    getsockname(rx, (struct sockaddr *)&a, &al))
		goto out;
	for (int i = 0; i < N_DGRAMS; i++) {
		memset(msg, 'a' + i, sizeof(msg));
		if (sendto(tx, msg, 60 + i, 0, (struct sockaddr *)&a, al) < 0)
			goto out;
	}
	rc = probe(rx, bundle, &multi);
	if (rc < 0)
		fprintf(stderr, "recv_bundle_probe: %s: %s\n",
			bundle ? "bundle" : "plain", strerror(-rc));
	else
		printf("%s: %d completions for %d datagrams, %u with more than one datagram\n",
		       bundle ? "bundle" : "plain", rc, N_DGRAMS, multi);
out:
	if (rx >= 0)
		close(rx);
	if (tx >= 0)
		close(tx);
	return rc < 0 ? 1 : 0;
}

int main(void)
{
	int rc = run(false);

	return rc ? rc : run(true);
}
