// SPDX-License-Identifier: MIT
/*
 * The probe server's request parser (see http.h). Only the request line
 * matters: the headers are read to find the end of the head and then
 * ignored (the connection closes after one answer, so neither keep-alive
 * nor a body of the request is possible).
 */
#include <string.h>

#include "common/parse.h"
#include "probe_server/http.h"

size_t xtel_probe_http_head_len(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' &&
		    buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return i + 1;
	return 0;
}

static int refuse(const char **why_out, int status, const char *why)
{
	*why_out = why;
	return status;
}

/* The size=N parameter of a query "a=b&size=N&..." (the last one wins). */
static int query_size(const char *q, size_t len, uint64_t *size, int *found)
{
	char num[24];

	*found = 0;
	while (len) {
		const char *amp = memchr(q, '&', len);
		size_t plen = amp ? (size_t)(amp - q) : len;

		if (plen > 5 && !memcmp(q, "size=", 5)) {
			if (plen - 5 >= sizeof(num))
				return -1;
			memcpy(num, q + 5, plen - 5);
			num[plen - 5] = '\0';
			if (xtel_parse_u64(num, 0, UINT64_MAX, size))
				return -1;
			*found = 1;
		} else if (plen == 5 && !memcmp(q, "size=", 5)) {
			return -1;
		}
		if (!amp)
			break;
		len -= plen + 1;
		q = amp + 1;
	}
	return 0;
}

static int parse(const char *head, size_t len, uint64_t max_size,
		 uint64_t *size_out, const char **why)
{
	const char *eol = memchr(head, '\r', len), *sp1, *sp2, *q, *end;
	size_t line, plen;
	uint64_t size = 0;
	int found;

	if (!eol)
		return refuse(why, 400, "no request line");
	line = (size_t)(eol - head);
	sp1 = memchr(head, ' ', line);
	if (!sp1)
		return refuse(why, 400, "malformed request line");
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || memchr(sp2 + 1, ' ', (size_t)(eol - sp2 - 1)))
		return refuse(why, 400, "malformed request line");
	if ((size_t)(eol - sp2 - 1) != 8 ||
	    (memcmp(sp2 + 1, "HTTP/1.1", 8) && memcmp(sp2 + 1, "HTTP/1.0", 8)))
		return refuse(why, 505, "only HTTP/1.0 and HTTP/1.1");
	if (sp1 - head != 3 || memcmp(head, "GET", 3))
		return refuse(why, 405, "only GET");
	end = sp2;
	q = memchr(sp1 + 1, '?', (size_t)(end - sp1 - 1));
	plen = (size_t)((q ? q : end) - (sp1 + 1));
	if (plen != strlen("/probe/object") || memcmp(sp1 + 1, "/probe/object", plen))
		return refuse(why, 404, "only /probe/object?size=BYTES");
	if (!q)
		return refuse(why, 400, "size=BYTES missing");
	if (query_size(q + 1, (size_t)(end - q - 1), &size, &found))
		return refuse(why, 400, "size is not a whole number of bytes");
	if (!found)
		return refuse(why, 400, "size=BYTES missing");
	if (size < XTEL_PROBE_MIN_SIZE || size > max_size)
		return refuse(why, 416, "size out of range 1024..max-size bytes");
	*size_out = size;
	return 200;
}

void xtel_probe_http_parse(const char *head, size_t len, uint64_t max_size,
			   struct xtel_probe_req *out)
{
	out->size = 0;
	out->why = NULL;
	out->status = parse(head, len, max_size, &out->size, &out->why);
	if (out->status != 200)
		out->size = 0;
}

const char *xtel_probe_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 416: return "Range Not Satisfiable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}
