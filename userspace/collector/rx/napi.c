// SPDX-License-Identifier: MIT
/*
 * IORING_REGISTER_NAPI by hand (see rx/napi.h): the opcode and the layout
 * of struct io_uring_napi as in the kernel's uapi (6.9; 6.15 added an
 * opcode and its parameter in the padding, whose zero value means "register
 * with dynamic tracking", the 6.9 behaviour), so one binary works on both.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "collector/rx/napi.h"

enum { XTEL_IORING_REGISTER_NAPI = 27 };

struct xtel_io_uring_napi {
	uint32_t busy_poll_to;		/* microseconds */
	uint8_t prefer_busy_poll;
	uint8_t opcode;			/* 0: register, dynamic tracking */
	uint8_t pad[2];
	uint32_t op_param;
	uint32_t resv;
};

_Static_assert(sizeof(struct xtel_io_uring_napi) == 16,
	       "struct io_uring_napi is 16 bytes in the kernel's uapi");

int xtel_rx_napi_register(int ring_fd, unsigned int busy_us, bool prefer)
{
	struct xtel_io_uring_napi napi = {
		.busy_poll_to = busy_us,
		.prefer_busy_poll = prefer ? 1 : 0,
	};
	long rc = syscall(__NR_io_uring_register, ring_fd,
			  XTEL_IORING_REGISTER_NAPI, &napi, 1);

	return rc < 0 ? -errno : 0;
}
