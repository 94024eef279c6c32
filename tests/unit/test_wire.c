// SPDX-License-Identifier: MIT
/*
 * Unit tests of the wire codec (userspace/wire.c): a fixture table of valid
 * and invalid datagrams with the exact reason and decoded fields each must
 * give, the worked hex examples of docs/PROTOCOL.md (read from the document
 * itself, so the document cannot drift from the code), every truncation of a
 * valid datagram, encode/decode round trips, the name tables, and a seeded
 * mutation loop that must never crash or read out of bounds. Every decode of
 * untrusted bytes runs on a heap buffer of exactly the datagram's length so
 * that AddressSanitizer flags any read past its end.
 *
 * usage: test_wire [path/to/docs/PROTOCOL.md]
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire/wire.h"

static const char *protocol_md;	/* argv[1], or NULL */

/* Decode from an exact-size heap copy: ASan reports any over-read. */
static enum xtel_wire_err decode_exact(const void *bytes, size_t len,
				       struct xtel_msg *out, uint8_t **copy)
{
	uint8_t *b = malloc(len ? len : 1);
	enum xtel_wire_err err;

	assert_non_null(b);
	if (len)
		memcpy(b, bytes, len);
	err = xtel_wire_decode(b, len, out);
	if (copy)
		*copy = b;	/* caller keeps it: out points into it */
	else
		free(b);
	return err;
}

/* Builds a header by hand (independently of the encoder under test). */
static size_t put_hdr(uint8_t *b, uint16_t magic, uint8_t version,
		      uint8_t type, uint16_t flags, uint16_t plen,
		      uint32_t client_id, uint64_t seq, uint64_t ts)
{
	b[0] = (uint8_t)(magic >> 8);
	b[1] = (uint8_t)magic;
	b[2] = version;
	b[3] = type;
	b[4] = (uint8_t)(flags >> 8);
	b[5] = (uint8_t)flags;
	b[6] = (uint8_t)(plen >> 8);
	b[7] = (uint8_t)plen;
	for (int i = 0; i < 4; i++)
		b[8 + i] = (uint8_t)(client_id >> (24 - 8 * i));
	for (int i = 0; i < 8; i++) {
		b[12 + i] = (uint8_t)(seq >> (56 - 8 * i));
		b[20 + i] = (uint8_t)(ts >> (56 - 8 * i));
	}
	return XTEL_WIRE_HDR_LEN;
}

/* ------------------------------------------------------------------ */
/* Fixture table                                                        */

struct exp_metric {
	const char *key;
	double value;
};

struct fixture {
	const char *name;
	uint16_t magic;
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	int plen;		/* header payload_len; -1: the payload's length */
	const char *payload;
	size_t payload_n;	/* 0: strlen(payload) (lets payloads hold NUL) */
	int len_delta;		/* bytes added to (or cut from) the datagram */
	enum xtel_wire_err want;
	uint32_t n_metrics;
	struct exp_metric m[4];
};

#define HDR_OK XTEL_WIRE_MAGIC, XTEL_WIRE_VERSION
/* A DATA datagram whose header is valid, judged on its payload alone. */
#define P(nm, pl, w, n, ...) \
	{ nm, HDR_OK, XTEL_MSG_DATA, 0, -1, pl, 0, 0, w, n, { __VA_ARGS__ } }
/* Same with an explicit payload length, for payloads holding NUL bytes. */
#define PN(nm, pl, w) \
	{ nm, HDR_OK, XTEL_MSG_DATA, 0, -1, pl, sizeof(pl) - 1, 0, w, 0, { { 0 } } }

static const struct fixture fixtures[] = {
	/* Valid datagrams of each type. */
	{ "init empty", HDR_OK, XTEL_MSG_INIT, 0, -1, "", 0, 0, XTEL_WIRE_OK, 0, { { 0 } } },
	{ "heartbeat empty", HDR_OK, XTEL_MSG_HEARTBEAT, 0, -1, "", 0, 0, XTEL_WIRE_OK, 0, { { 0 } } },
	{ "bye empty", HDR_OK, XTEL_MSG_BYE, 0, -1, "", 0, 0, XTEL_WIRE_OK, 0, { { 0 } } },
	P("data three metrics", "CPU=72.3;MEM=41.2;TEMP=67.5", XTEL_WIRE_OK, 3,
	  { "CPU", 72.3 }, { "MEM", 41.2 }, { "TEMP", 67.5 }),
	P("data empty", "", XTEL_WIRE_OK, 0, { 0 }),
	P("key charset", "aZ09_.-=1", XTEL_WIRE_OK, 1, { "aZ09_.-", 1.0 }),
	P("keys are case-sensitive", "a=1;A=2", XTEL_WIRE_OK, 2, { "a", 1.0 }, { "A", 2.0 }),
	P("key prefix is not a duplicate", "ab=1;a=2;abc=3", XTEL_WIRE_OK, 3,
	  { "ab", 1.0 }, { "a", 2.0 }, { "abc", 3.0 }),
	P("key 32 bytes", "k2345678901234567890123456789012=5", XTEL_WIRE_OK, 1,
	  { "k2345678901234567890123456789012", 5.0 }),
	P("value 32 bytes", "v=1234567890123456789012345678901.", XTEL_WIRE_OK, 1,
	  { "v", 1234567890123456789012345678901. }),
	P("negative", "t=-4", XTEL_WIRE_OK, 1, { "t", -4.0 }),
	P("plus sign", "t=+4.5", XTEL_WIRE_OK, 1, { "t", 4.5 }),
	P("leading dot", "t=.5", XTEL_WIRE_OK, 1, { "t", 0.5 }),
	P("trailing dot", "t=5.", XTEL_WIRE_OK, 1, { "t", 5.0 }),
	P("exponent", "t=1.5e3", XTEL_WIRE_OK, 1, { "t", 1500.0 }),
	P("exponent E and sign", "t=-2.5E-3", XTEL_WIRE_OK, 1, { "t", -2.5e-3 }),
	P("dot then exponent", "t=1.e+2", XTEL_WIRE_OK, 1, { "t", 100.0 }),
	P("leading zeros", "t=000123.4500", XTEL_WIRE_OK, 1, { "t", 123.45 }),
	P("long mantissa", "t=0.1234567890123456789012345", XTEL_WIRE_OK, 1,
	  { "t", 0.1234567890123456789012345 }),
	P("large", "t=1.7976931348623157e308", XTEL_WIRE_OK, 1,
	  { "t", 1.7976931348623157e308 }),
	P("underflow is finite", "t=1e-400", XTEL_WIRE_OK, 1, { "t", 0.0 }),
	P("subnormal", "t=4.9e-324", XTEL_WIRE_OK, 1, { "t", 4.9e-324 }),
	P("big exponent digits", "t=1e0000000000000000000000000002", XTEL_WIRE_OK, 1,
	  { "t", 100.0 }),

	/* Header checks, in order; each input also breaks later checks. */
	{ "bad magic", 0x5855, 0, 0, 1, 9, "", 0, 0, XTEL_WIRE_BAD_MAGIC, 0, { { 0 } } },
	{ "magic byte-swapped", 0x5458, XTEL_WIRE_VERSION, XTEL_MSG_DATA, 0, -1, "", 0, 0,
	  XTEL_WIRE_BAD_MAGIC, 0, { { 0 } } },
	{ "version 0", XTEL_WIRE_MAGIC, 0, 0, 1, 9, "", 0, 0, XTEL_WIRE_BAD_VERSION, 0, { { 0 } } },
	{ "version 2", XTEL_WIRE_MAGIC, 2, XTEL_MSG_DATA, 0, -1, "", 0, 0,
	  XTEL_WIRE_BAD_VERSION, 0, { { 0 } } },
	{ "type 0", HDR_OK, 0, 1, 9, "", 0, 0, XTEL_WIRE_UNKNOWN_TYPE, 0, { { 0 } } },
	{ "type 5", HDR_OK, 5, 0, -1, "", 0, 0, XTEL_WIRE_UNKNOWN_TYPE, 0, { { 0 } } },
	{ "type 255", HDR_OK, 255, 0, -1, "", 0, 0, XTEL_WIRE_UNKNOWN_TYPE, 0, { { 0 } } },
	{ "flags 1", HDR_OK, XTEL_MSG_DATA, 1, 1300, "", 0, 0, XTEL_WIRE_BAD_FLAGS, 0, { { 0 } } },
	{ "flags 0x8000", HDR_OK, XTEL_MSG_BYE, 0x8000, -1, "", 0, 0, XTEL_WIRE_BAD_FLAGS, 0, { { 0 } } },
	{ "payload_len 1201", HDR_OK, XTEL_MSG_DATA, 0, 1201, "x", 0, 0,
	  XTEL_WIRE_PAYLOAD_TOO_LARGE, 0, { { 0 } } },
	{ "payload_len 65535", HDR_OK, XTEL_MSG_DATA, 0, 65535, "", 0, 0,
	  XTEL_WIRE_PAYLOAD_TOO_LARGE, 0, { { 0 } } },
	{ "payload_len too small", HDR_OK, XTEL_MSG_DATA, 0, 2, "a=1", 0, 0,
	  XTEL_WIRE_LENGTH_MISMATCH, 0, { { 0 } } },
	{ "payload_len too big", HDR_OK, XTEL_MSG_DATA, 0, 4, "a=1", 0, 0,
	  XTEL_WIRE_LENGTH_MISMATCH, 0, { { 0 } } },
	{ "trailing byte", HDR_OK, XTEL_MSG_DATA, 0, -1, "a=1", 0, 1,
	  XTEL_WIRE_LENGTH_MISMATCH, 0, { { 0 } } },
	{ "missing byte", HDR_OK, XTEL_MSG_DATA, 0, -1, "a=1", 0, -1,
	  XTEL_WIRE_LENGTH_MISMATCH, 0, { { 0 } } },
	{ "header only, 27", HDR_OK, XTEL_MSG_DATA, 0, -1, "", 0, -1,
	  XTEL_WIRE_TRUNCATED, 0, { { 0 } } },
	{ "payload_len checked before grammar", HDR_OK, XTEL_MSG_DATA, 0, 3, ";;;;", 0, 0,
	  XTEL_WIRE_LENGTH_MISMATCH, 0, { { 0 } } },

	/* Payload grammar. */
	P("leading semicolon", ";a=1", XTEL_WIRE_MALFORMED_METRIC, 0, { 0 }),
	P("lone semicolon", ";", XTEL_WIRE_MALFORMED_METRIC, 0, { 0 }),
	P("trailing semicolon", "a=1;", XTEL_WIRE_MALFORMED_METRIC, 0, { 0 }),
	P("double semicolon", "a=1;;b=2", XTEL_WIRE_MALFORMED_METRIC, 0, { 0 }),
	P("no equals", "a", XTEL_WIRE_MALFORMED_METRIC, 0, { 0 }),
	P("second pair no equals", "a=1;b", XTEL_WIRE_MALFORMED_METRIC, 0, { 0 }),
	P("empty key", "=1", XTEL_WIRE_BAD_KEY, 0, { 0 }),
	P("empty key and value", "=", XTEL_WIRE_BAD_KEY, 0, { 0 }),
	P("key 33 bytes", "k23456789012345678901234567890123=5", XTEL_WIRE_BAD_KEY, 0, { 0 }),
	P("key with space", "a b=1", XTEL_WIRE_BAD_KEY, 0, { 0 }),
	P("key with slash", "a/b=1", XTEL_WIRE_BAD_KEY, 0, { 0 }),
	P("key with 0xff", "a\xff=1", XTEL_WIRE_BAD_KEY, 0, { 0 }),
	PN("key with NUL", "a\0b=1", XTEL_WIRE_BAD_KEY),
	P("bad key before bad value", "a b=x", XTEL_WIRE_BAD_KEY, 0, { 0 }),
	P("empty value", "a=", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("value 33 bytes", "v=1234567890123456789012345678901.0", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("second equals", "a=1=2", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("double equals", "a==1", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("hex", "a=0x10", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("inf", "a=inf", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("infinity", "a=-Infinity", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("nan", "a=nan", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("overflow to inf", "a=1e999", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("leading space", "a= 1", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("trailing space", "a=1 ", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("comma decimal", "a=1,5", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("sign only", "a=-", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("dot only", "a=.", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("sign dot", "a=+.", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("two signs", "a=+-1", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("two dots", "a=1.2.3", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("exponent without digits", "a=1e", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("exponent sign only", "a=1e+", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("exponent only", "a=e5", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("fractional exponent", "a=1e1.5", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("value with 0xff", "a=1\xff", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	PN("value with NUL", "a=1\0", XTEL_WIRE_BAD_VALUE),
	PN("NUL as value", "a=\0;b=1", XTEL_WIRE_BAD_VALUE),
	P("bad value before duplicate", "a=1;a=x", XTEL_WIRE_BAD_VALUE, 0, { 0 }),
	P("duplicate key", "a=1;a=2", XTEL_WIRE_DUPLICATE_KEY, 0, { 0 }),
	P("duplicate later", "CPU=1;MEM=2;TEMP=3;MEM=4", XTEL_WIRE_DUPLICATE_KEY, 0, { 0 }),
	P("first error from the left wins", "a=1;a=2;b", XTEL_WIRE_DUPLICATE_KEY, 0, { 0 }),
};

static void check_fixture(const struct fixture *f)
{
	uint8_t b[2 * XTEL_MAX_DATAGRAM];
	size_t pn = f->payload_n ? f->payload_n : strlen(f->payload);
	uint16_t plen = f->plen < 0 ? (uint16_t)pn : (uint16_t)f->plen;
	size_t len = put_hdr(b, f->magic, f->version, f->type, f->flags, plen,
			     0xdeadbeef, 0x0102030405060708ull,
			     0x1122334455667788ull);
	struct xtel_msg m;
	uint8_t *copy;
	enum xtel_wire_err err;

	memcpy(b + len, f->payload, pn);
	len += pn;
	if (f->len_delta > 0)
		memset(b + len, 'x', (size_t)f->len_delta);
	len = (size_t)((long)len + f->len_delta);

	memset(&m, 0xa5, sizeof(m));
	err = decode_exact(b, len, &m, &copy);
	if (err != f->want)
		fail_msg("fixture '%s': got %s, want %s", f->name,
			 xtel_wire_err_name(err), xtel_wire_err_name(f->want));

	if (err == XTEL_WIRE_TRUNCATED) {
		assert_int_equal(m.n_metrics, 0);
		assert_null(m.payload);
		goto out;
	}
	/* Header fields are reported even for a rejected datagram. */
	assert_int_equal(m.version, f->version);
	assert_int_equal(m.type, f->type);
	assert_int_equal(m.flags, f->flags);
	assert_int_equal(m.payload_len, plen);
	assert_int_equal(m.client_id, 0xdeadbeef);
	assert_true(m.seq == 0x0102030405060708ull);
	assert_true(m.send_ts_ns == 0x1122334455667788ull);
	if (err != XTEL_WIRE_OK) {
		assert_int_equal(m.n_metrics, 0);
		assert_null(m.payload);
		goto out;
	}
	assert_ptr_equal(m.payload, copy + XTEL_WIRE_HDR_LEN);
	if (m.n_metrics != f->n_metrics)
		fail_msg("fixture '%s': %u metrics, want %u", f->name,
			 m.n_metrics, f->n_metrics);
	for (uint32_t i = 0; i < m.n_metrics; i++) {
		const struct exp_metric *e = &f->m[i];

		assert_int_equal(m.metrics[i].key_len, strlen(e->key));
		assert_memory_equal(m.metrics[i].key, e->key, strlen(e->key));
		if (memcmp(&m.metrics[i].value, &e->value, sizeof(double)))
			fail_msg("fixture '%s': metric %u = %.17g, want %.17g",
				 f->name, i, m.metrics[i].value, e->value);
	}
out:
	free(copy);
}

static void test_fixtures(void **state)
{
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		check_fixture(&fixtures[i]);
}

/* Negative zero keeps its sign, as strtod gives it. */
static void test_negative_zero(void **state)
{
	uint8_t b[64];
	struct xtel_msg m;
	ssize_t n = xtel_wire_encode(b, sizeof(b), XTEL_MSG_DATA, 1, 1, 1,
				     "z=-0.0", 6);

	assert_int_equal(n, 34);
	assert_int_equal(decode_exact(b, (size_t)n, &m, NULL), XTEL_WIRE_OK);
	assert_true(m.metrics[0].value == 0.0 && signbit(m.metrics[0].value));
}

/* Builds "k00=<v>;k01=<v>;..." with n pairs into p; returns its length. */
static size_t make_pairs(char *p, size_t cap, unsigned int n, const char *v)
{
	size_t len = 0;

	for (unsigned int i = 0; i < n; i++)
		len += (size_t)snprintf(p + len, cap - len, "%sk%02u=%s",
					i ? ";" : "", i, v);
	return len;
}

static void test_limits(void **state)
{
	char p[XTEL_MAX_PAYLOAD + 64];
	uint8_t b[XTEL_MAX_DATAGRAM + 64];
	struct xtel_msg m;
	size_t pn;
	ssize_t n;

	/* 32 pairs are allowed, a 33rd is too many whatever it contains. */
	pn = make_pairs(p, sizeof(p), 32, "1");
	n = xtel_wire_encode(b, sizeof(b), XTEL_MSG_DATA, 1, 1, 1, p, pn);
	assert_int_equal(decode_exact(b, (size_t)n, &m, NULL), XTEL_WIRE_OK);
	assert_int_equal(m.n_metrics, 32);
	memcpy(p + pn, ";junk", 5);
	n = xtel_wire_encode(b, sizeof(b), XTEL_MSG_DATA, 1, 1, 1, p, pn + 5);
	assert_int_equal(decode_exact(b, (size_t)n, &m, NULL),
			 XTEL_WIRE_TOO_MANY_METRICS);
	memcpy(p + pn, ";k00=1", 6);	/* also a duplicate, but too many first */
	n = xtel_wire_encode(b, sizeof(b), XTEL_MSG_DATA, 1, 1, 1, p, pn + 6);
	assert_int_equal(decode_exact(b, (size_t)n, &m, NULL),
			 XTEL_WIRE_TOO_MANY_METRICS);
	/* An empty 33rd pair is an empty pair first. */
	p[pn] = ';';
	n = xtel_wire_encode(b, sizeof(b), XTEL_MSG_DATA, 1, 1, 1, p, pn + 1);
	assert_int_equal(decode_exact(b, (size_t)n, &m, NULL),
			 XTEL_WIRE_MALFORMED_METRIC);

	/*
	 * A payload of exactly 1200 bytes: 24 pairs of a 32-byte key, '=' and
	 * a 16-byte value (17 for the first), plus 23 separators.
	 */
	pn = 0;
	for (unsigned int i = 0; i < 24; i++)
		pn += (size_t)snprintf(p + pn, sizeof(p) - pn,
				       "%skey_%02u_xxxxxxxxxxxxxxxxxxxxxxxxx=%s",
				       i ? ";" : "", i,
				       i ? "1.00000000000000" : "1.000000000000000");
	assert_int_equal(pn, XTEL_MAX_PAYLOAD);
	n = xtel_wire_encode(b, sizeof(b), XTEL_MSG_DATA, 1, 1, 1, p, pn);
	assert_int_equal(n, XTEL_MAX_DATAGRAM);
	assert_int_equal(decode_exact(b, (size_t)n, &m, NULL), XTEL_WIRE_OK);
	assert_int_equal(m.n_metrics, 24);
	assert_int_equal(m.payload_len, XTEL_MAX_PAYLOAD);
	assert_true(m.metrics[23].value == 1.0);
}

/* ------------------------------------------------------------------ */
/* The worked examples of docs/PROTOCOL.md                              */

static const uint8_t example_data[] = {
	0x58, 0x54, 0x01, 0x03, 0x00, 0x00, 0x00, 0x1b,
	0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x07, 0x18, 0x79, 0xeb, 0xce,
	0x3d, 0xb7, 0x0d, 0x15, 'C', 'P', 'U', '=',
	'7', '2', '.', '3', ';', 'M', 'E', 'M',
	'=', '4', '1', '.', '2', ';', 'T', 'E',
	'M', 'P', '=', '6', '7', '.', '5',
};

static const uint8_t example_bye[] = {
	0x58, 0x54, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x07, 0x18, 0x79, 0xeb, 0xce,
	0x71, 0xf6, 0x0a, 0x00,
};

static void test_example_data(void **state)
{
	const char *pl = "CPU=72.3;MEM=41.2;TEMP=67.5";
	uint8_t b[XTEL_MAX_DATAGRAM];
	struct xtel_msg m;
	ssize_t n;

	n = xtel_wire_encode(b, sizeof(b), XTEL_MSG_DATA, 42, 7,
			     1763700000123456789ull, pl, strlen(pl));
	assert_int_equal(n, sizeof(example_data));
	assert_memory_equal(b, example_data, sizeof(example_data));

	assert_int_equal(decode_exact(example_data, sizeof(example_data), &m,
				      NULL), XTEL_WIRE_OK);
	assert_int_equal(m.version, 1);
	assert_int_equal(m.type, XTEL_MSG_DATA);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.payload_len, 27);
	assert_int_equal(m.client_id, 42);
	assert_true(m.seq == 7);
	assert_true(m.send_ts_ns == 1763700000123456789ull);
	assert_int_equal(m.n_metrics, 3);
	assert_true(m.metrics[0].value == 72.3);
	assert_true(m.metrics[1].value == 41.2);
	assert_true(m.metrics[2].value == 67.5);
}

static void test_example_bye(void **state)
{
	uint8_t b[64];
	struct xtel_msg m;
	ssize_t n;

	n = xtel_wire_encode(b, sizeof(b), XTEL_MSG_BYE, 42, 7,
			     1763700001000000000ull, NULL, 0);
	assert_int_equal(n, sizeof(example_bye));
	assert_memory_equal(b, example_bye, sizeof(example_bye));
	assert_int_equal(decode_exact(example_bye, sizeof(example_bye), &m,
				      NULL), XTEL_WIRE_OK);
	assert_int_equal(m.type, XTEL_MSG_BYE);
	assert_int_equal(m.client_id, 42);
	assert_true(m.seq == 7);
	assert_true(m.send_ts_ns == 1763700001000000000ull);
	assert_int_equal(m.payload_len, 0);
	assert_int_equal(m.n_metrics, 0);
}

/*
 * Reads the hex dump that follows the line "<!-- example: NAME -->" in
 * PROTOCOL.md: lines "OFFSET  xx xx ..." up to the closing code fence.
 */
static size_t doc_example(const char *doc, const char *name, uint8_t *out,
			  size_t cap)
{
	char marker[64];
	const char *p;
	size_t n = 0;

	snprintf(marker, sizeof(marker), "<!-- example: %s -->", name);
	p = strstr(doc, marker);
	if (!p)
		fail_msg("PROTOCOL.md has no '%s'", marker);
	p = strstr(p, "```");
	assert_non_null(p);
	p = strchr(p, '\n');
	assert_non_null(p);
	p++;
	while (strncmp(p, "```", 3) != 0) {
		const char *eol = strchr(p, '\n');
		unsigned long off;
		char *end;

		assert_non_null(eol);
		off = strtoul(p, &end, 16);
		assert_int_equal(off, n);	/* offsets count up by the line */
		/*
		 * Hex bytes are separated by single spaces; the run of spaces
		 * before the ASCII column ends them (that column may itself
		 * look like hex: "72.3").
		 */
		p = end;
		while (p < eol && *p == ' ')
			p++;
		while (p + 2 <= eol) {
			unsigned int byte;
			int used;

			if (sscanf(p, "%2x%n", &byte, &used) != 1 || used != 2)
				fail_msg("bad hex near offset %zu", n);
			assert_true(n < cap);
			out[n++] = (uint8_t)byte;
			p += 2;
			if (p >= eol || p[0] != ' ' || p + 1 >= eol || p[1] == ' ')
				break;
			p++;
		}
		p = eol + 1;
	}
	return n;
}

static void test_protocol_md_examples(void **state)
{
	uint8_t got[XTEL_MAX_DATAGRAM];
	char *doc;
	FILE *f;
	long sz;
	size_t n;

	if (!protocol_md)
		skip();
	f = fopen(protocol_md, "r");
	if (!f)
		fail_msg("cannot open %s", protocol_md);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz > 0);
	rewind(f);
	doc = calloc(1, (size_t)sz + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);

	n = doc_example(doc, "data", got, sizeof(got));
	assert_int_equal(n, sizeof(example_data));
	assert_memory_equal(got, example_data, n);
	n = doc_example(doc, "bye", got, sizeof(got));
	assert_int_equal(n, sizeof(example_bye));
	assert_memory_equal(got, example_bye, n);
	free(doc);
}

/* ------------------------------------------------------------------ */

/* Every prefix of a valid datagram is rejected, by the right reason. */
static void test_every_truncation(void **state)
{
	struct xtel_msg m;

	for (size_t len = 0; len < sizeof(example_data); len++) {
		enum xtel_wire_err err = decode_exact(example_data, len, &m, NULL);

		if (len < XTEL_WIRE_HDR_LEN)
			assert_int_equal(err, XTEL_WIRE_TRUNCATED);
		else
			assert_int_equal(err, XTEL_WIRE_LENGTH_MISMATCH);
	}
	for (size_t len = 0; len < sizeof(example_bye); len++)
		assert_int_equal(decode_exact(example_bye, len, &m, NULL),
				 XTEL_WIRE_TRUNCATED);
	assert_int_equal(xtel_wire_decode(NULL, 0, &m), XTEL_WIRE_TRUNCATED);
	assert_int_equal(xtel_wire_decode(NULL, 100, &m), XTEL_WIRE_TRUNCATED);
}

static void test_round_trip(void **state)
{
	static const struct {
		uint8_t type;
		uint32_t id;
		uint64_t seq, ts;
		const char *pl;
	} cases[] = {
		{ XTEL_MSG_INIT, 0, 0, 0, "" },
		{ XTEL_MSG_INIT, 1, 0, 1763700000000000000ull, "" },
		{ XTEL_MSG_HEARTBEAT, UINT32_MAX, UINT64_MAX, UINT64_MAX, "" },
		{ XTEL_MSG_DATA, 10000, 123456789, 42, "a=1" },
		{ XTEL_MSG_DATA, 0x80000000u, 1ull << 63, 1ull << 63,
		  "x.y-z_0=-1.25e-7;CPU=100;t=0" },
		{ XTEL_MSG_BYE, 7, 99, 100, "" },
	};
	uint8_t b[XTEL_MAX_DATAGRAM];
	uint8_t again[XTEL_MAX_DATAGRAM];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t pn = strlen(cases[i].pl);
		struct xtel_msg m;
		uint8_t *copy;
		ssize_t n, n2;

		n = xtel_wire_encode(b, sizeof(b), cases[i].type, cases[i].id,
				     cases[i].seq, cases[i].ts, cases[i].pl, pn);
		assert_int_equal(n, XTEL_WIRE_HDR_LEN + pn);
		assert_int_equal(decode_exact(b, (size_t)n, &m, &copy),
				 XTEL_WIRE_OK);
		assert_int_equal(m.type, cases[i].type);
		assert_int_equal(m.client_id, cases[i].id);
		assert_true(m.seq == cases[i].seq);
		assert_true(m.send_ts_ns == cases[i].ts);
		assert_int_equal(m.payload_len, pn);
		assert_memory_equal(m.payload, cases[i].pl, pn);
		n2 = xtel_wire_encode(again, sizeof(again), m.type, m.client_id,
				      m.seq, m.send_ts_ns, m.payload,
				      m.payload_len);
		assert_int_equal(n2, n);
		assert_memory_equal(again, b, (size_t)n);
		free(copy);
	}
}

static void test_encode_errors(void **state)
{
	static char big[XTEL_MAX_PAYLOAD + 1];
	uint8_t b[XTEL_MAX_DATAGRAM + 8];

	memset(big, 'a', sizeof(big));
	assert_int_equal(xtel_wire_encode(b, sizeof(b), XTEL_MSG_DATA, 1, 1, 1,
					  big, XTEL_MAX_PAYLOAD + 1), -EINVAL);
	assert_int_equal(xtel_wire_encode(b, sizeof(b), XTEL_MSG_DATA, 1, 1, 1,
					  NULL, 3), -EINVAL);
	assert_int_equal(xtel_wire_encode(b, 30, XTEL_MSG_DATA, 1, 1, 1,
					  "a=1", 3), -ENOSPC);
	assert_int_equal(xtel_wire_encode(b, 31, XTEL_MSG_DATA, 1, 1, 1,
					  "a=1", 3), 31);
	assert_int_equal(xtel_wire_encode(b, 27, XTEL_MSG_BYE, 1, 1, 1,
					  NULL, 0), -ENOSPC);
	assert_int_equal(xtel_wire_encode(NULL, 0, XTEL_MSG_BYE, 1, 1, 1,
					  NULL, 0), -ENOSPC);
	assert_int_equal(xtel_wire_encode(b, 28, XTEL_MSG_BYE, 1, 1, 1,
					  NULL, 0), 28);
	assert_int_equal(xtel_wire_encode(b, XTEL_MAX_DATAGRAM, XTEL_MSG_DATA,
					  1, 1, 1, big, XTEL_MAX_PAYLOAD),
			 XTEL_MAX_DATAGRAM);
	/* The payload may already sit right behind the header in buf. */
	memcpy(b + XTEL_WIRE_HDR_LEN, "q=2", 3);
	assert_int_equal(xtel_wire_encode(b, sizeof(b), XTEL_MSG_DATA, 1, 1, 1,
					  b + XTEL_WIRE_HDR_LEN, 3), 31);
	assert_memory_equal(b + XTEL_WIRE_HDR_LEN, "q=2", 3);
}

static void test_names(void **state)
{
	static const char *const want[] = {
		"ok", "truncated", "bad_magic", "bad_version", "unknown_type",
		"bad_flags", "payload_too_large", "length_mismatch",
		"malformed_metric", "bad_key", "bad_value", "too_many_metrics",
		"duplicate_key",
	};

	assert_int_equal(sizeof(want) / sizeof(want[0]), XTEL_WIRE_ERR_MAX);
	for (int i = 0; i < XTEL_WIRE_ERR_MAX; i++)
		assert_string_equal(xtel_wire_err_name((enum xtel_wire_err)i),
				    want[i]);
	assert_string_equal(xtel_wire_err_name(XTEL_WIRE_ERR_MAX),
			    "unknown_error");
	assert_string_equal(xtel_wire_err_name((enum xtel_wire_err)-1),
			    "unknown_error");
	assert_string_equal(xtel_msg_type_name(XTEL_MSG_INIT), "INIT");
	assert_string_equal(xtel_msg_type_name(XTEL_MSG_HEARTBEAT), "HEARTBEAT");
	assert_string_equal(xtel_msg_type_name(XTEL_MSG_DATA), "DATA");
	assert_string_equal(xtel_msg_type_name(XTEL_MSG_BYE), "BYE");
	assert_string_equal(xtel_msg_type_name(0), "UNKNOWN");
	assert_string_equal(xtel_msg_type_name(5), "UNKNOWN");
	assert_string_equal(xtel_msg_type_name(255), "UNKNOWN");
}

/* ------------------------------------------------------------------ */
/* Seeded mutation loop                                                 */

static uint64_t rng_state;

static uint64_t rnd(void)	/* xorshift64*: fixed seed, same run every time */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Checks what must hold for any accepted datagram. */
static void check_accepted(const uint8_t *b, size_t len,
			   const struct xtel_msg *m)
{
	uint8_t again[XTEL_MAX_DATAGRAM];
	ssize_t n;

	assert_int_equal(len, XTEL_WIRE_HDR_LEN + m->payload_len);
	assert_ptr_equal(m->payload, b + XTEL_WIRE_HDR_LEN);
	assert_true(m->type >= XTEL_MSG_INIT && m->type <= XTEL_MSG_BYE);
	assert_true(m->n_metrics <= XTEL_MAX_METRICS);
	for (uint32_t i = 0; i < m->n_metrics; i++) {
		const struct xtel_metric *x = &m->metrics[i];
		const char *v = x->key + x->key_len + 1;
		const char *end = m->payload + m->payload_len;
		const char *semi = memchr(v, ';', (size_t)(end - v));
		char tmp[XTEL_MAX_VALUE_LEN + 1];
		size_t vn = (size_t)((semi ? semi : end) - v);
		double ref;

		assert_true(x->key_len >= 1 && x->key_len <= XTEL_MAX_KEY_LEN);
		assert_true(x->key >= m->payload && v <= end);
		assert_true(isfinite(x->value));
		/* The value equals what strtod makes of the same text. */
		assert_true(vn >= 1 && vn <= XTEL_MAX_VALUE_LEN);
		memcpy(tmp, v, vn);
		tmp[vn] = '\0';
		ref = strtod(tmp, NULL);
		assert_memory_equal(&ref, &x->value, sizeof(double));
	}
	n = xtel_wire_encode(again, sizeof(again), m->type, m->client_id, m->seq,
			     m->send_ts_ns, m->payload, m->payload_len);
	assert_int_equal(n, len);
	assert_memory_equal(again, b, len);
}

static void test_mutation_loop(void **state)
{
	static const char *const seeds[] = {
		"CPU=72.3;MEM=41.2;TEMP=67.5",
		"a=1",
		"",
		"x.y-z_0=-1.25e-7;CPU=100;t=0;big=1.7976931348623157e308",
		"k=.5;l=5.;m=+1E+2;n=-0.000001;o=123456789012345678901234",
	};
	static const uint8_t interesting[] = {
		';', '=', '.', 'e', 'E', '-', '+', '0', '9', 'x', ' ', 0, 0xff, 0x80,
	};
	enum { ITERATIONS = 200000 };
	unsigned long per_reason[XTEL_WIRE_ERR_MAX] = { 0 };
	uint8_t b[XTEL_MAX_DATAGRAM + 16];

	rng_state = 0x5854c0ffee123457ull;
	for (unsigned int it = 0; it < ITERATIONS; it++) {
		const char *s = seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];
		size_t len = (size_t)xtel_wire_encode(b, sizeof(b), (uint8_t)(1 + rnd() % 4),
						      (uint32_t)rnd(), rnd(), rnd(), s,
						      strlen(s));
		unsigned int muts = 1 + (unsigned int)(rnd() % 4);
		struct xtel_msg m;
		enum xtel_wire_err err;
		uint8_t *copy;

		for (unsigned int k = 0; k < muts; k++) {
			size_t pos = len ? (size_t)(rnd() % len) : 0;

			switch (rnd() % 8) {
			case 0:	/* flip a bit */
				if (len)
					b[pos] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 1:	/* random byte */
				if (len)
					b[pos] = (uint8_t)rnd();
				break;
			case 2:	/* a byte the grammar cares about */
			case 3:
				if (len > XTEL_WIRE_HDR_LEN)
					b[XTEL_WIRE_HDR_LEN + rnd() % (len - XTEL_WIRE_HDR_LEN)] =
						interesting[rnd() % sizeof(interesting)];
				break;
			case 4:	/* insert a byte */
				if (len < XTEL_MAX_DATAGRAM) {
					memmove(b + pos + 1, b + pos, len - pos);
					b[pos] = interesting[rnd() % sizeof(interesting)];
					len++;
				}
				break;
			case 5:	/* delete a byte */
				if (len) {
					memmove(b + pos, b + pos + 1, len - pos - 1);
					len--;
				}
				break;
			case 6:	/* truncate */
				len = (size_t)(rnd() % (len + 1));
				break;
			default:	/* keep the header honest so the grammar is reached */
				break;
			}
		}
		/* Mostly repair payload_len so mutations reach the payload. */
		if (len >= XTEL_WIRE_HDR_LEN && rnd() % 4 != 0) {
			b[6] = (uint8_t)((len - XTEL_WIRE_HDR_LEN) >> 8);
			b[7] = (uint8_t)(len - XTEL_WIRE_HDR_LEN);
		}
		err = decode_exact(b, len, &m, &copy);
		assert_true((unsigned int)err < XTEL_WIRE_ERR_MAX);
		per_reason[err]++;
		if (err == XTEL_WIRE_OK)
			check_accepted(copy, len, &m);
		else
			assert_int_equal(m.n_metrics, 0);
		free(copy);
	}
	/* The loop must exercise the grammar, not only the header checks. */
	for (int r = XTEL_WIRE_OK; r < XTEL_WIRE_ERR_MAX; r++) {
		if (r == XTEL_WIRE_TOO_MANY_METRICS)
			continue;	/* the seeds have too few pairs */
		if (per_reason[r] == 0)
			fail_msg("mutation loop never produced %s",
				 xtel_wire_err_name((enum xtel_wire_err)r));
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_negative_zero),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_example_data),
		cmocka_unit_test(test_example_bye),
		cmocka_unit_test(test_protocol_md_examples),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_mutation_loop),
	};

	if (argc > 1)
		protocol_md = argv[1];
	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
