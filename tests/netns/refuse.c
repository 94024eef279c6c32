// SPDX-License-Identifier: MIT
/*
 * refuse: run a command under a seccomp filter that makes the kernel refuse
 * the collector's optional receive-path options the way an older or
 * differently built kernel does, so that their fallbacks can be tested on a
 * kernel that accepts them (tests/netns/test_rx_options.sh):
 *   --busy-poll  setsockopt(SOL_SOCKET, SO_BUSY_POLL) fails with ENOPROTOOPT
 *                (a kernel without CONFIG_NET_RX_BUSY_POLL)
 *   --napi       io_uring_register(IORING_REGISTER_NAPI) fails with EINVAL
 *                (a kernel older than 6.9)
 * Every other system call runs as usual.
 *
 * usage: refuse [--busy-poll] [--napi] -- COMMAND [ARG...]
 * Exit status: COMMAND's, or 2 for a usage error, 1 if the filter fails.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { REGISTER_NAPI = 27 };	/* IORING_REGISTER_NAPI (uapi 6.9) */

#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define LD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))

int main(int argc, char **argv)
{
	int busy = 0, napi = 0, i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--busy-poll"))
			busy = 1;
		else if (!strcmp(argv[i], "--napi"))
			napi = 1;
		else
			goto usage;
	}
	if (i + 1 >= argc)
		goto usage;

	struct sock_filter f[] = {
		LD(offsetof(struct seccomp_data, arch)),
		JEQ(AUDIT_ARCH_X86_64, 1, 0),
		RET(SECCOMP_RET_ALLOW),
		LD(offsetof(struct seccomp_data, nr)),
		JEQ(SYS_setsockopt, 0, 6),
		/* setsockopt(fd, level, optname, ...) */
		LD(ARG_LO(1)),
		JEQ(SOL_SOCKET, 0, 2),
		LD(ARG_LO(2)),
		JEQ(busy ? SO_BUSY_POLL : ~0u, 1, 0),
		RET(SECCOMP_RET_ALLOW),
		RET(SECCOMP_RET_ERRNO | ENOPROTOOPT),
		JEQ(SYS_io_uring_register, 0, 2),
		/* io_uring_register(fd, opcode, arg, nr) */
		LD(ARG_LO(1)),
		JEQ(napi ? REGISTER_NAPI : ~0u, 1, 0),
		RET(SECCOMP_RET_ALLOW),
		RET(SECCOMP_RET_ERRNO | EINVAL),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		fprintf(stderr, "refuse: seccomp: %s\n", strerror(errno));
		return 1;
	}
	execvp(argv[i + 1], argv + i + 1);
	fprintf(stderr, "refuse: %s: %s\n", argv[i + 1], strerror(errno));
	return 127;
usage:
	fprintf(stderr, "usage: refuse [--busy-poll] [--napi] -- COMMAND [ARG...]\n");
	return 2;
}
