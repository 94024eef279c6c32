/* SPDX-License-Identifier: MIT */
/*
 * DATA payloads: a key=value;... template with placeholders, compiled once
 * and rendered per datagram, or a fixed valid payload of an exact size.
 *
 * Placeholders (each stands for one value):
 *   {seq}            the datagram's sequence number
 *   {client}         the client id
 *   {elapsed_ms}     milliseconds since the DATA phase started
 *   {rand:LO:HI}     integer uniform in [LO, HI] (-1e15 <= LO <= HI <= 1e15)
 *   {randf:LO:HI}    decimal with 3 fraction digits uniform in [LO, HI)
 * Every rendering is checked against the wire grammar at compile time (the
 * longest possible rendering must fit XTEL_MAX_PAYLOAD).
 */
#ifndef XTEL_LG_PAYLOAD_H
#define XTEL_LG_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/xtel_wire.h"

enum xtel_lg_ph_kind {
	XTEL_LG_PH_LITERAL = 0,
	XTEL_LG_PH_SEQ,
	XTEL_LG_PH_CLIENT,
	XTEL_LG_PH_ELAPSED_MS,
	XTEL_LG_PH_RAND,
	XTEL_LG_PH_RANDF,
};

struct xtel_lg_ph {
	enum xtel_lg_ph_kind kind;
	uint16_t off, len;	/* literal: bytes in text[] */
	int64_t lo, hi;		/* rand; randf in thousandths */
};

struct xtel_lg_payload {
	char text[XTEL_MAX_PAYLOAD + 1];	/* literals, or the fixed payload */
	size_t text_len;
	struct xtel_lg_ph parts[2 * XTEL_MAX_METRICS + 2];
	uint32_t n_parts;
	int fixed;		/* no placeholder: text is the payload */
};

/*
 * Compile a template. On error returns -EINVAL and writes a reason into
 * err (for "loadgen: --payload: <reason>").
 */
int xtel_lg_payload_compile(struct xtel_lg_payload *p, const char *tmpl,
			    char *err, size_t errlen);

/* A fixed payload of exactly `size` valid bytes (0 or 3..XTEL_MAX_PAYLOAD). */
int xtel_lg_payload_fixed(struct xtel_lg_payload *p, uint32_t size);

struct xtel_lg_render_ctx {
	uint64_t seq;
	uint32_t client_id;
	uint64_t elapsed_ms;
	uint64_t *rng;		/* the client's payload random state */
};

/* Render into buf (at least XTEL_MAX_PAYLOAD bytes); returns the length. */
size_t xtel_lg_payload_render(const struct xtel_lg_payload *p,
			      const struct xtel_lg_render_ctx *ctx, char *buf);

#endif /* XTEL_LG_PAYLOAD_H */
