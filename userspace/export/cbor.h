/* SPDX-License-Identifier: MIT */
/*
 * The subset of CBOR (RFC 8949) the rollup schema uses: unsigned
 * integers, text strings, arrays and maps of known length, booleans and
 * float64, written into a growable buffer and read back with a bounded
 * cursor. Any CBOR library in any language decodes what the writer
 * makes; the reader accepts every integer and float width a foreign
 * writer may choose, and can skip items it does not know (a newer
 * schema's extra keys), so the format can grow without a version break.
 * Errors are sticky: check once at the end instead of after every call.
 */
#ifndef XTEL_CBOR_H
#define XTEL_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum xtel_cbor_major {
	XTEL_CBOR_UINT = 0,
	XTEL_CBOR_NINT = 1,
	XTEL_CBOR_BYTES = 2,
	XTEL_CBOR_TEXT = 3,
	XTEL_CBOR_ARRAY = 4,
	XTEL_CBOR_MAP = 5,
	XTEL_CBOR_TAG = 6,
	XTEL_CBOR_SIMPLE = 7,
};

struct xtel_cbor_buf {
	uint8_t *p;
	size_t len, cap;
	int err;		/* sticky: -ENOMEM */
};

void xtel_cbor_buf_reset(struct xtel_cbor_buf *b);	/* len = 0, err = 0 */
void xtel_cbor_buf_free(struct xtel_cbor_buf *b);

void xtel_cbor_uint(struct xtel_cbor_buf *b, uint64_t v);
void xtel_cbor_text(struct xtel_cbor_buf *b, const char *s, size_t len);
void xtel_cbor_cstr(struct xtel_cbor_buf *b, const char *s);
void xtel_cbor_array(struct xtel_cbor_buf *b, uint64_t n);
void xtel_cbor_map(struct xtel_cbor_buf *b, uint64_t n);
void xtel_cbor_bool(struct xtel_cbor_buf *b, bool v);
void xtel_cbor_double(struct xtel_cbor_buf *b, double v);
/* Bytes already CBOR-encoded (items made by another buffer). */
void xtel_cbor_raw(struct xtel_cbor_buf *b, const void *p, size_t len);
/* Key k (a small uint) followed by uint v: the common map entry. */
void xtel_cbor_kv(struct xtel_cbor_buf *b, uint64_t k, uint64_t v);

struct xtel_cbor_cur {
	const uint8_t *p, *end;
	int err;		/* sticky: -EBADMSG */
	unsigned int depth;	/* of skip's recursion */
};

void xtel_cbor_cur_init(struct xtel_cbor_cur *c, const void *p, size_t len);
uint64_t xtel_cbor_get_uint(struct xtel_cbor_cur *c);
/* Text as a pointer into the buffer (not NUL-terminated). */
const char *xtel_cbor_get_text(struct xtel_cbor_cur *c, size_t *len);
/* The element count of an array or map head. */
uint64_t xtel_cbor_get_array(struct xtel_cbor_cur *c);
uint64_t xtel_cbor_get_map(struct xtel_cbor_cur *c);
bool xtel_cbor_get_bool(struct xtel_cbor_cur *c);
/* float16/32/64, or an integer. */
double xtel_cbor_get_double(struct xtel_cbor_cur *c);
/* Skip one whole item (nested up to 16 levels). */
void xtel_cbor_skip(struct xtel_cbor_cur *c);

#endif /* XTEL_CBOR_H */
