/* SPDX-License-Identifier: MIT */
/*
 * The little HTTP/1.1 the probe server speaks: one request per connection,
 * GET /probe/object?size=BYTES, answered with a status and a generated
 * body. The request parser is pure (bytes in, a verdict out) so its every
 * refusal is a unit test.
 */
#ifndef XTEL_PROBE_HTTP_H
#define XTEL_PROBE_HTTP_H

#include <stddef.h>
#include <stdint.h>

enum {
	XTEL_PROBE_REQ_MAX = 8192,		/* request head, bytes */
	XTEL_PROBE_MIN_SIZE = 1024,		/* 1 KiB */
};
#define XTEL_PROBE_MAX_SIZE (1ull << 30)	/* 1 GiB */

struct xtel_probe_req {
	int status;		/* 200, or the error status to answer with */
	const char *why;	/* the error's one-line reason for the body */
	uint64_t size;		/* the object's size when status is 200 */
};

/*
 * The length of the request head in buf (up to and including the blank
 * line), 0 when it is not complete yet.
 */
size_t xtel_probe_http_head_len(const char *buf, size_t len);

/*
 * Parse a complete request head. max_size is the largest object served
 * (XTEL_PROBE_MIN_SIZE..XTEL_PROBE_MAX_SIZE). Sets out->status: 200; 400
 * for a malformed request line or size; 404 for another path; 405 for a
 * method other than GET; 416 for a size outside 1 KiB..max_size; 505 for
 * a protocol other than HTTP/1.0 or 1.1.
 */
void xtel_probe_http_parse(const char *head, size_t len, uint64_t max_size,
			   struct xtel_probe_req *out);

/* "OK", "Bad Request", ... for the statuses above. */
const char *xtel_probe_http_reason(int status);

#endif /* XTEL_PROBE_HTTP_H */
