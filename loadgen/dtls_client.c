// SPDX-License-Identifier: MIT
/*
 * loadgen's DTLS adapter. Until the shared client API (userspace/dtls.h)
 * is integrated, DTLS mode reports that it is unavailable; plain mode does
 * not touch this file.
 */
#include <errno.h>
#include <stdio.h>

#include "client.h"
#include "dtls_client.h"

int xtel_lg_dtls_init(struct xtel_lg_run *run)
{
	(void)run;
	fprintf(stderr, "loadgen: --mode dtls is not available in this build yet: use --mode plain\n");
	return -ENOTSUP;
}

void xtel_lg_dtls_free(struct xtel_lg_run *run)
{
	(void)run;
}

uint32_t xtel_lg_dtls_handshake_all(struct xtel_lg_thread *th)
{
	(void)th;
	return 0;
}

ssize_t xtel_lg_dtls_seal(struct xtel_lg_client *c, const void *plain,
			  size_t len, void *out, size_t cap)
{
	(void)c; (void)plain; (void)len; (void)out; (void)cap;
	return -ENOTSUP;
}

void xtel_lg_dtls_close(struct xtel_lg_client *c)
{
	(void)c;
}
