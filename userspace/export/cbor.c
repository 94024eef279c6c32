// SPDX-License-Identifier: MIT
/*
 * CBOR writer and reader (cbor.h). Heads use the shortest encoding, as
 * RFC 8949's preferred serialization asks, so the same rollup always
 * encodes to the same bytes; floats are always float64 (exact, and the
 * cost of shortening them is not worth one byte or four per metric).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export/cbor.h"

void xtel_cbor_buf_reset(struct xtel_cbor_buf *b)
{
	b->len = 0;
	b->err = 0;
}

void xtel_cbor_buf_free(struct xtel_cbor_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static uint8_t *room(struct xtel_cbor_buf *b, size_t n)
{
	if (b->err)
		return NULL;
	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 4096;
		uint8_t *np;

		while (ncap < b->len + n)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (!np) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->p = np;
		b->cap = ncap;
	}
	b->len += n;
	return b->p + b->len - n;
}

static void head(struct xtel_cbor_buf *b, unsigned int major, uint64_t v)
{
	uint8_t *p;
	unsigned int n, extra;

	if (v < 24) {
		n = 0;
		extra = (unsigned int)v;
	} else if (v <= 0xff) {
		n = 1;
		extra = 24;
	} else if (v <= 0xffff) {
		n = 2;
		extra = 25;
	} else if (v <= 0xffffffffULL) {
		n = 4;
		extra = 26;
	} else {
		n = 8;
		extra = 27;
	}
	p = room(b, 1 + n);
	if (!p)
		return;
	p[0] = (uint8_t)(major << 5 | extra);
	for (unsigned int i = 0; i < n; i++)
		p[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void xtel_cbor_uint(struct xtel_cbor_buf *b, uint64_t v)
{
	head(b, XTEL_CBOR_UINT, v);
}

void xtel_cbor_text(struct xtel_cbor_buf *b, const char *s, size_t len)
{
	uint8_t *p;

	head(b, XTEL_CBOR_TEXT, len);
	p = room(b, len);
	if (p && len)
		memcpy(p, s, len);
}

void xtel_cbor_cstr(struct xtel_cbor_buf *b, const char *s)
{
	xtel_cbor_text(b, s, strlen(s));
}

void xtel_cbor_array(struct xtel_cbor_buf *b, uint64_t n)
{
	head(b, XTEL_CBOR_ARRAY, n);
}

void xtel_cbor_map(struct xtel_cbor_buf *b, uint64_t n)
{
	head(b, XTEL_CBOR_MAP, n);
}

void xtel_cbor_bool(struct xtel_cbor_buf *b, bool v)
{
	uint8_t *p = room(b, 1);

	if (p)
		p[0] = v ? 0xf5 : 0xf4;
}

void xtel_cbor_double(struct xtel_cbor_buf *b, double v)
{
	uint8_t *p = room(b, 9);
	uint64_t u;

	if (!p)
		return;
	memcpy(&u, &v, sizeof(u));
	p[0] = 0xfb;
	for (unsigned int i = 0; i < 8; i++)
		p[1 + i] = (uint8_t)(u >> (8 * (7 - i)));
}

void xtel_cbor_raw(struct xtel_cbor_buf *b, const void *p, size_t len)
{
	uint8_t *d = room(b, len);

	if (d && len)
		memcpy(d, p, len);
}

void xtel_cbor_kv(struct xtel_cbor_buf *b, uint64_t k, uint64_t v)
{
	head(b, XTEL_CBOR_UINT, k);
	head(b, XTEL_CBOR_UINT, v);
}

/* ---- reader ---- */

void xtel_cbor_cur_init(struct xtel_cbor_cur *c, const void *p, size_t len)
{
	c->p = p;
	c->end = c->p + len;
	c->err = 0;
	c->depth = 0;
}

static int bad(struct xtel_cbor_cur *c)
{
	c->err = -EBADMSG;
	c->p = c->end;
	return -1;
}

/* Read a head: its major type, and its argument in *v. -1 on error. */
static int get_head(struct xtel_cbor_cur *c, unsigned int *major, uint64_t *v,
		    unsigned int *info)
{
	unsigned int n;

	if (c->err || c->p >= c->end)
		return bad(c);
	*major = c->p[0] >> 5;
	*info = c->p[0] & 0x1f;
	c->p++;
	if (*info < 24) {
		*v = *info;
		return 0;
	}
	if (*info > 27)		/* indefinite lengths: not in this schema */
		return bad(c);
	n = 1u << (*info - 24);
	if ((size_t)(c->end - c->p) < n)
		return bad(c);
	*v = 0;
	for (unsigned int i = 0; i < n; i++)
		*v = *v << 8 | c->p[i];
	c->p += n;
	return 0;
}

static uint64_t get_major(struct xtel_cbor_cur *c, unsigned int want)
{
	unsigned int major, info;
	uint64_t v;

	if (get_head(c, &major, &v, &info))
		return 0;
	if (major != want) {
		bad(c);
		return 0;
	}
	return v;
}

uint64_t xtel_cbor_get_uint(struct xtel_cbor_cur *c)
{
	return get_major(c, XTEL_CBOR_UINT);
}

const char *xtel_cbor_get_text(struct xtel_cbor_cur *c, size_t *len)
{
	uint64_t n = get_major(c, XTEL_CBOR_TEXT);
	const char *s = (const char *)c->p;

	if (c->err || n > (uint64_t)(c->end - c->p)) {
		bad(c);
		*len = 0;
		return "";
	}
	c->p += n;
	*len = (size_t)n;
	return s;
}

uint64_t xtel_cbor_get_array(struct xtel_cbor_cur *c)
{
	uint64_t n = get_major(c, XTEL_CBOR_ARRAY);

	/* every element takes a byte at least: a bound on hostile counts */
	if (n > (uint64_t)(c->end - c->p))
		return bad(c), 0;
	return n;
}

uint64_t xtel_cbor_get_map(struct xtel_cbor_cur *c)
{
	uint64_t n = get_major(c, XTEL_CBOR_MAP);

	if (n > (uint64_t)(c->end - c->p) / 2)
		return bad(c), 0;
	return n;
}

bool xtel_cbor_get_bool(struct xtel_cbor_cur *c)
{
	if (c->err || c->p >= c->end)
		return bad(c), false;
	if (c->p[0] == 0xf5 || c->p[0] == 0xf4)
		return *c->p++ == 0xf5;
	return bad(c), false;
}

static double half(uint16_t h)
{
	int e = (h >> 10) & 0x1f;
	double m = h & 0x3ff;
	double v;

	if (e == 0)
		v = ldexp(m, -24);
	else if (e == 31)
		v = m == 0 ? INFINITY : NAN;
	else
		v = ldexp(m + 1024, e - 25);
	return h & 0x8000 ? -v : v;
}

double xtel_cbor_get_double(struct xtel_cbor_cur *c)
{
	unsigned int major, info;
	uint64_t v;

	if (get_head(c, &major, &v, &info))
		return 0;
	if (major == XTEL_CBOR_UINT)
		return (double)v;
	if (major == XTEL_CBOR_NINT)
		return -1.0 - (double)v;
	if (major != XTEL_CBOR_SIMPLE || info < 25) {
		bad(c);
		return 0;
	}
	if (info == 25)
		return half((uint16_t)v);
	if (info == 26) {
		uint32_t u = (uint32_t)v;
		float f;

		memcpy(&f, &u, sizeof(f));
		return f;
	}
	{
		double d;

		memcpy(&d, &v, sizeof(d));
		return d;
	}
}

void xtel_cbor_skip(struct xtel_cbor_cur *c)
{
	unsigned int major, info;
	uint64_t v;

	if (get_head(c, &major, &v, &info))
		return;
	switch (major) {
	case XTEL_CBOR_BYTES:
	case XTEL_CBOR_TEXT:
		if (v > (uint64_t)(c->end - c->p))
			bad(c);
		else
			c->p += v;
		return;
	case XTEL_CBOR_ARRAY:
	case XTEL_CBOR_MAP:
		if (++c->depth > 16 || v > (uint64_t)(c->end - c->p)) {
			bad(c);
			return;
		}
		if (major == XTEL_CBOR_MAP)
			v *= 2;
		for (uint64_t i = 0; i < v && !c->err; i++)
			xtel_cbor_skip(c);
		c->depth--;
		return;
	case XTEL_CBOR_TAG:
		xtel_cbor_skip(c);
		return;
	default:	/* uint, nint, simple, float: the head was all */
		return;
	}
}
