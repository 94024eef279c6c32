/* SPDX-License-Identifier: MIT */
/*
 * Big-endian loads and stores at any alignment, the one set every codec,
 * frame builder and test uses: byte-wise, so neither the host's byte order
 * nor the buffer's alignment matters, and the compiler folds them into one
 * load or store (plus a bswap) where the target allows.
 */
#ifndef XTEL_BYTES_H
#define XTEL_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t xtel_load_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned int)p[0] << 8 | p[1]);
}

static inline uint32_t xtel_load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t xtel_load_be64(const uint8_t *p)
{
	return (uint64_t)xtel_load_be32(p) << 32 | xtel_load_be32(p + 4);
}

static inline void xtel_store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void xtel_store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void xtel_store_be64(uint8_t *p, uint64_t v)
{
	xtel_store_be32(p, (uint32_t)(v >> 32));
	xtel_store_be32(p + 4, (uint32_t)v);
}

/* v as an unsigned LEB128 varint (1..10 bytes); returns its length. */
static inline size_t xtel_put_uleb128(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

#endif /* XTEL_BYTES_H */
