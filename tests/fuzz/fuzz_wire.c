// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness of the wire decoder, xtel_wire_decode
 * (userspace/wire/wire.c), against an oracle written from
 * docs/PROTOCOL.md alone: spec_decode below follows the document's check
 * tables (section 4) and its ABNF (section 3), and reads values with the
 * C library's strtod in the C locale, as the document defines them. For
 * every input both must agree on
 *   - the verdict (the first failing check names the reason),
 *   - the header fields (for every verdict but truncated),
 *   - on ok: the payload pointer, the number of metrics, every key (as a
 *     pointer into the datagram and a length) and every value bit for bit
 *     (so -0 stays negative zero), and that the encoder rebuilds the very
 *     same bytes from the decoded fields;
 *   - on a reject: no metrics and no payload.
 *
 * Input: byte 0 picks how the rest is used. Even: the rest is the whole
 * datagram. Odd: the rest is a payload behind a valid header (type from
 * the byte, payload_len its length), so the fuzzer spends its time on the
 * metric grammar instead of rediscovering the header.
 */
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "wire/wire.h"

/* ---- the oracle: docs/PROTOCOL.md sections 2-4 ---- */

struct spec_metric {
	size_t off, len;	/* key: bytes [off, off + len) of the datagram */
	double value;
};

struct spec_result {
	enum xtel_wire_err err;
	uint8_t version, type;
	uint16_t flags, payload_len;
	uint32_t client_id;
	uint64_t seq, send_ts_ns;
	unsigned int n;
	struct spec_metric m[32];
};

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* keychar = ALPHA / DIGIT / "_" / "." / "-" */
static bool keychar(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static bool digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/*
 * value = [ sign ] mantissa [ exponent ], as a state machine over the
 * ABNF of section 3:
 *   mantissa = 1*DIGIT [ "." *DIGIT ] / "." 1*DIGIT
 *   exponent = ("e" / "E") [ sign ] 1*DIGIT
 */
static bool value_grammar(const uint8_t *s, size_t n)
{
	enum { START, SIGNED, INT, DOT_AFTER_INT, LONE_DOT, FRAC, E, E_SIGN,
	       EXP } st = START;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		switch (st) {
		case START:
			if (c == '+' || c == '-')
				st = SIGNED;
			else if (digit(c))
				st = INT;
			else if (c == '.')
				st = LONE_DOT;
			else
				return false;
			break;
		case SIGNED:
			if (digit(c))
				st = INT;
			else if (c == '.')
				st = LONE_DOT;
			else
				return false;
			break;
		case INT:
			if (digit(c))
				st = INT;
			else if (c == '.')
				st = DOT_AFTER_INT;
			else if (c == 'e' || c == 'E')
				st = E;
			else
				return false;
			break;
		case DOT_AFTER_INT:
		case FRAC:
			if (digit(c))
				st = FRAC;
			else if (c == 'e' || c == 'E')
				st = E;
			else
				return false;
			break;
		case LONE_DOT:
			if (digit(c))
				st = FRAC;
			else
				return false;
			break;
		case E:
			if (c == '+' || c == '-')
				st = E_SIGN;
			else if (digit(c))
				st = EXP;
			else
				return false;
			break;
		case E_SIGN:
		case EXP:
			if (digit(c))
				st = EXP;
			else
				return false;
			break;
		}
	}
	return st == INT || st == DOT_AFTER_INT || st == FRAC || st == EXP;
}

static locale_t c_locale;

/* Rule 8e: 1..32 bytes, the grammar, and finite as strtod reads it. */
static bool spec_value(const uint8_t *s, size_t n, double *out)
{
	char text[64];
	char *end;

	if (n < 1 || n > 32 || !value_grammar(s, n))
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	*out = strtod_l(text, &end, c_locale);
	FUZZ_CHECK(end == text + n, "strtod stopped at %td of \"%s\"",
		   end - text, text);
	return isfinite(*out);
}

/* Section 4, table 2: the payload, pair by pair from the left. */
static enum xtel_wire_err spec_payload(const uint8_t *d, size_t start,
				       size_t end, struct spec_result *r)
{
	size_t pos = start;

	if (start == end)
		return XTEL_WIRE_OK;
	for (unsigned int k = 0;; k++) {
		size_t stop = pos, eq;

		while (stop < end && d[stop] != ';')
			stop++;
		/* the pair is d[pos, stop) */
		if (stop == pos)
			return XTEL_WIRE_MALFORMED_METRIC;		/* 8a */
		if (k == 32)
			return XTEL_WIRE_TOO_MANY_METRICS;		/* 8b */
		for (eq = pos; eq < stop && d[eq] != '='; eq++)
			;
		if (eq == stop)
			return XTEL_WIRE_MALFORMED_METRIC;		/* 8c */
		if (eq == pos || eq - pos > 32)
			return XTEL_WIRE_BAD_KEY;			/* 8d */
		for (size_t i = pos; i < eq; i++)
			if (!keychar(d[i]))
				return XTEL_WIRE_BAD_KEY;
		if (!spec_value(d + eq + 1, stop - eq - 1, &r->m[k].value))
			return XTEL_WIRE_BAD_VALUE;			/* 8e */
		for (unsigned int j = 0; j < k; j++)			/* 8f */
			if (r->m[j].len == eq - pos &&
			    memcmp(d + r->m[j].off, d + pos, eq - pos) == 0)
				return XTEL_WIRE_DUPLICATE_KEY;
		r->m[k].off = pos;
		r->m[k].len = eq - pos;
		r->n = k + 1;
		if (stop == end)
			return XTEL_WIRE_OK;
		pos = stop + 1;		/* past the ';': maybe an empty pair */
	}
}

static void spec_decode(const uint8_t *d, size_t len, struct spec_result *r)
{
	enum xtel_wire_err e;

	memset(r, 0, sizeof(*r));
	if (len < 28) {
		r->err = XTEL_WIRE_TRUNCATED;				/* 1 */
		return;
	}
	r->version = d[2];
	r->type = d[3];
	r->flags = (uint16_t)be(d + 4, 2);
	r->payload_len = (uint16_t)be(d + 6, 2);
	r->client_id = (uint32_t)be(d + 8, 4);
	r->seq = be(d + 12, 8);
	r->send_ts_ns = be(d + 20, 8);
	if (be(d, 2) != 0x5854)
		e = XTEL_WIRE_BAD_MAGIC;				/* 2 */
	else if (r->version != 1)
		e = XTEL_WIRE_BAD_VERSION;				/* 3 */
	else if (r->type < 1 || r->type > 4)
		e = XTEL_WIRE_UNKNOWN_TYPE;				/* 4 */
	else if (r->flags != 0)
		e = XTEL_WIRE_BAD_FLAGS;				/* 5 */
	else if (r->payload_len > 1200)
		e = XTEL_WIRE_PAYLOAD_TOO_LARGE;			/* 6 */
	else if (r->payload_len != len - 28)
		e = XTEL_WIRE_LENGTH_MISMATCH;				/* 7 */
	else
		e = spec_payload(d, 28, len, r);			/* 8 */
	if (e != XTEL_WIRE_OK)
		r->n = 0;
	r->err = e;
}

/* ---- the harness ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c_locale == (locale_t)0)
		abort();
	return 0;
}

/* Check the decoder on the len bytes at d (a buffer of exactly len bytes). */
static void check(const uint8_t *d, size_t len)
{
	struct spec_result want;
	struct xtel_msg got;
	enum xtel_wire_err err;

	memset(&got, 0xa5, sizeof(got));	/* stale fields must not survive */
	err = xtel_wire_decode(d, len, &got);
	spec_decode(d, len, &want);
	FUZZ_CHECK(err == want.err, "decoder says %s, PROTOCOL.md says %s",
		   xtel_wire_err_name(err), xtel_wire_err_name(want.err));
	if (err != XTEL_WIRE_TRUNCATED) {
		FUZZ_CHECK(got.version == want.version && got.type == want.type &&
			   got.flags == want.flags &&
			   got.payload_len == want.payload_len &&
			   got.client_id == want.client_id &&
			   got.seq == want.seq && got.send_ts_ns == want.send_ts_ns,
			   "header fields differ (%s)", xtel_wire_err_name(err));
	}
	if (err != XTEL_WIRE_OK) {
		FUZZ_CHECK(got.n_metrics == 0 && got.payload == NULL,
			   "rejected (%s) but n_metrics %u, payload %p",
			   xtel_wire_err_name(err), got.n_metrics,
			   (const void *)got.payload);
		return;
	}
	FUZZ_CHECK(got.payload == (const char *)d + 28, "payload pointer");
	FUZZ_CHECK(got.n_metrics == want.n, "%u metrics, PROTOCOL.md says %u",
		   got.n_metrics, want.n);
	for (unsigned int i = 0; i < want.n; i++) {
		const struct xtel_metric *m = &got.metrics[i];

		FUZZ_CHECK(m->key == (const char *)d + want.m[i].off &&
			   m->key_len == want.m[i].len, "key of metric %u", i);
		FUZZ_CHECK(memcmp(&m->value, &want.m[i].value,
				  sizeof(double)) == 0,
			   "metric %u '%.*s': decoder %.17g, strtod %.17g", i,
			   (int)want.m[i].len, (const char *)d + want.m[i].off,
			   m->value, want.m[i].value);
	}

	/* The encoder rebuilds exactly what the decoder accepted. */
	{
		uint8_t again[XTEL_MAX_DATAGRAM];
		ssize_t n = xtel_wire_encode(again, sizeof(again), got.type,
					     got.client_id, got.seq,
					     got.send_ts_ns, got.payload,
					     got.payload_len);

		FUZZ_CHECK(n == (ssize_t)len && memcmp(again, d, len) == 0,
			   "encode(decode(x)) != x (%zd vs %zu bytes)", n, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	size_t len;

	if (size == 0)
		return 0;
	if (!(data[0] & 1)) {
		/* libFuzzer's copy of the input ends where it ends: ASan sees
		 * any read past it. */
		check(data + 1, size - 1);
		return 0;
	}
	/* Valid header, the rest as its payload (too large ones included). */
	len = 28 + (size - 1);
	buf = malloc(len);
	if (buf == NULL)
		return 0;
	buf[0] = 0x58;
	buf[1] = 0x54;
	buf[2] = 1;
	buf[3] = (uint8_t)((data[0] >> 1) % 4 + 1);
	buf[4] = buf[5] = 0;
	buf[6] = (uint8_t)((size - 1) >> 8);
	buf[7] = (uint8_t)(size - 1);
	memcpy(buf + 8, "\x00\x00\x00\x2a" "\x00\x00\x00\x00\x00\x00\x00\x07"
	       "\x18\x79\xeb\xce\x3d\xb7\x0d\x15", 20);
	memcpy(buf + 28, data + 1, size - 1);
	check(buf, len);
	free(buf);
	return 0;
}
