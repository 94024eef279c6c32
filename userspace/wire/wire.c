// SPDX-License-Identifier: MIT
/*
 * Telemetry wire codec: the strict decoder the collector runs on every
 * received datagram and the encoder the load generator and tests use.
 * The decoder is written for hostile input: it reads only inside [buf,
 * buf + len), never writes outside *out, and turns every invalid datagram
 * into one named reason. docs/PROTOCOL.md is the normative description; the
 * order of the checks below is part of that contract, because the collector
 * counts rejects per reason and tests expect one exact reason per input:
 *
 *   1. len < 28                          -> truncated
 *   2. magic != 0x5854                   -> bad_magic
 *   3. version != 1                      -> bad_version
 *   4. type not in 1..4                  -> unknown_type
 *   5. flags != 0                        -> bad_flags
 *   6. payload_len > 1200                -> payload_too_large
 *   7. payload_len != len - 28           -> length_mismatch
 *   8. payload grammar, pair by pair from the left; for each pair:
 *      a. empty pair (leading, doubled or trailing ';') -> malformed_metric
 *      b. it is pair number 33                         -> too_many_metrics
 *      c. no '=' in the pair                           -> malformed_metric
 *      d. key empty, > 32 bytes, byte not [A-Za-z0-9_.-] -> bad_key
 *      e. value empty, > 32 bytes, not a finite decimal -> bad_value
 *      f. key equal to an earlier key                  -> duplicate_key
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strtod_l, newlocale */
#endif
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "wire/wire.h"

_Static_assert(sizeof(struct xtel_wire_hdr) == XTEL_WIRE_HDR_LEN,
	       "wire header must be 28 bytes");
_Static_assert(XTEL_MAX_METRICS <= UINT8_MAX && XTEL_MAX_KEY_LEN <= UINT8_MAX,
	       "key_len and metric counts are stored in narrow fields");

const struct xtel_counter_desc xtel_wire_err_desc[XTEL_WIRE_ERR_MAX] = {
#define X(id, name, unit, help) XTEL_COUNTER_DESC(XTEL_WIRE_, id, name, unit, help)
	XTEL_WIRE_ERR_TABLE(X)
#undef X
};

const char *xtel_wire_err_name(enum xtel_wire_err err)
{
	/* The cast catches negative values of a signed enum as well. */
	if ((unsigned int)err >= XTEL_WIRE_ERR_MAX)
		return "unknown_error";
	return xtel_wire_err_desc[err].name;
}

const char *xtel_msg_type_name(uint8_t type)
{
	switch (type) {
	case XTEL_MSG_INIT:
		return "INIT";
	case XTEL_MSG_HEARTBEAT:
		return "HEARTBEAT";
	case XTEL_MSG_DATA:
		return "DATA";
	case XTEL_MSG_BYE:
		return "BYE";
	default:
		return "UNKNOWN";
	}
}

/*
 * Key bytes allowed by the grammar. A table rather than isalnum(), which
 * depends on the locale and is undefined for negative chars.
 */
static const uint8_t key_ok[256] = {
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['_'] = 1, ['.'] = 1, ['-'] = 1,
};

static int valid_key(const uint8_t *k, size_t n)
{
	if (n == 0 || n > XTEL_MAX_KEY_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!key_ok[k[i]])
			return 0;
	return 1;
}

static inline int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/*
 * strtod() honours LC_NUMERIC, so a collector that called setlocale() for
 * its CLI output would start rejecting "72.3" in a comma locale. The
 * fallback path therefore uses strtod_l() with a private "C" locale,
 * created once for all threads.
 */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* 10^0 .. 10^22 are exactly representable in a double. */
static const double exact_pow10[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/*
 * Validate one value against the grammar
 *     [sign] (digits ["." [digits]] / "." digits) [("e"/"E") [sign] digits]
 * and convert it. Returns 1 and sets *out on success, 0 for bad_value.
 *
 * Most telemetry values ("72.3", "-4", "1013.25") have few significant
 * digits and a small exponent. For those the result is computed exactly
 * as the integer mantissa times or divided by an exact power of ten: one
 * IEEE operation on two exact operands is correctly rounded, which is what
 * strtod() returns as well (Clinger's fast path). Everything else goes to
 * strtod_l(), so the result always equals strtod()'s in the C locale.
 */
static size_t scan_value(const uint8_t *s, size_t n, double *out)
{
	size_t i = 0, int_digits = 0, frac_digits = 0, sig = 0;
	uint64_t mant = 0;
	long exp10 = 0, e = 0;
	int neg = 0, exp_neg = 0, exact = 1;

	if (n == 0)
		return 0;
	if (s[i] == '+' || s[i] == '-')
		neg = s[i++] == '-';
	for (; i < n && is_digit(s[i]); i++, int_digits++) {
		if (mant == 0 && s[i] == '0')
			continue;	/* leading zeros are not significant */
		if (++sig <= 19)
			mant = mant * 10 + (uint64_t)(s[i] - '0');
		else
			exact = 0;
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && is_digit(s[i]); i++, frac_digits++) {
			if (mant == 0 && s[i] == '0') {
				exp10--;
				continue;
			}
			if (++sig <= 19) {
				mant = mant * 10 + (uint64_t)(s[i] - '0');
				exp10--;
			} else {
				exact = 0;
			}
		}
	}
	if (int_digits + frac_digits == 0)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp_digits = 0;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			exp_neg = s[i++] == '-';
		for (; i < n && is_digit(s[i]); i++, exp_digits++)
			if (e < 100000)	/* saturate: the value is 32 bytes */
				e = e * 10 + (s[i] - '0');
		if (exp_digits == 0)
			return 0;	/* "1e", "1e+": no shorter prefix either */
	}
	/* s[i], if any, ends the prefix (parse_value: a stray byte). */

	exp10 += exp_neg ? -e : e;
	if (exact && mant <= (UINT64_C(1) << 53) && exp10 >= -22 &&
	    exp10 <= 22) {
		double v = (double)mant;

		if (exp10 >= 0)
			v *= exact_pow10[exp10];
		else
			v /= exact_pow10[-exp10];
		*out = neg ? -v : v;
		return i;
	}

	/* Slow path: the grammar already holds, so strtod_l cannot see hex. */
	char tmp[XTEL_MAX_VALUE_LEN + 1];
	char *end;
	double v;

	pthread_once(&c_locale_once, c_locale_init);
	if (c_locale == (locale_t)0)
		return 0;	/* out of memory at first use; fail closed */
	memcpy(tmp, s, i);
	tmp[i] = '\0';
	v = strtod_l(tmp, &end, c_locale);
	if (end != tmp + i || !isfinite(v))
		return 0;	/* overflow to inf is not a finite value */
	*out = v;
	return i;
}

/*
 * Validate one whole value against the grammar above and convert it.
 * Returns 1 and sets *out on success, 0 for bad_value.
 */
static int parse_value(const uint8_t *s, size_t n, double *out)
{
	return n <= XTEL_MAX_VALUE_LEN && n > 0 && scan_value(s, n, out) == n;
}

static enum xtel_wire_err parse_payload(const uint8_t *p, size_t n,
					struct xtel_msg *out)
{
	size_t pos = 0;
	uint32_t count = 0;

	if (n == 0)
		return XTEL_WIRE_OK;
	/*
	 * Each round consumes one pair and its terminating ';' (if any). The
	 * loop runs once more after a trailing ';', so "a=1;" fails on the
	 * empty pair as the grammar demands.
	 */
	for (;;) {
		const uint8_t *pair = p + pos;
		const uint8_t *semi = memchr(pair, ';', n - pos);
		size_t plen = semi ? (size_t)(semi - pair) : n - pos;
		const uint8_t *eq;
		size_t klen;
		struct xtel_metric *m;

		if (plen == 0)
			return XTEL_WIRE_MALFORMED_METRIC;
		if (count == XTEL_MAX_METRICS)
			return XTEL_WIRE_TOO_MANY_METRICS;
		eq = memchr(pair, '=', plen);
		if (!eq)
			return XTEL_WIRE_MALFORMED_METRIC;
		klen = (size_t)(eq - pair);
		if (!valid_key(pair, klen))
			return XTEL_WIRE_BAD_KEY;
		m = &out->metrics[count];
		if (!parse_value(eq + 1, plen - klen - 1, &m->value))
			return XTEL_WIRE_BAD_VALUE;
		for (uint32_t j = 0; j < count; j++)
			if (out->metrics[j].key_len == klen &&
			    memcmp(out->metrics[j].key, pair, klen) == 0)
				return XTEL_WIRE_DUPLICATE_KEY;
		m->key = (const char *)pair;
		m->key_len = (uint8_t)klen;
		count++;
		if (!semi)
			break;
		pos += plen + 1;
	}
	out->n_metrics = count;
	return XTEL_WIRE_OK;
}

static bool same_key(const struct xtel_metric *m, const uint8_t *k, size_t n)
{
	if (m->key_len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)m->key[i] != k[i])
			return false;
	return true;
}

/*
 * The common case in one pass: every pair "key=value" with a valid key,
 * a valid value and no repeated key. Returns true with out's metrics set
 * exactly as parse_payload would set them; false as soon as anything is
 * unusual, and the caller then runs parse_payload, which names the reason
 * in the documented order. So this path decides nothing on its own about
 * an invalid payload; it only skips the memchr calls of a valid one.
 */
static bool parse_payload_fast(const uint8_t *p, size_t n, struct xtel_msg *out)
{
	size_t pos = 0;
	uint32_t count = 0;

	while (pos < n) {
		size_t k0 = pos, v0, klen;
		struct xtel_metric *m;

		while (pos < n && key_ok[p[pos]])
			pos++;
		klen = pos - k0;
		if (klen == 0 || klen > XTEL_MAX_KEY_LEN || pos == n || p[pos] != '=' ||
		    count == XTEL_MAX_METRICS)
			return false;
		v0 = ++pos;
		m = &out->metrics[count];
		/*
		 * A valid value of at most 32 bytes, then ';' or the end: a
		 * longer one leaves a digit after the 32 scanned.
		 */
		pos += scan_value(p + v0, n - v0 < XTEL_MAX_VALUE_LEN ?
				  n - v0 : XTEL_MAX_VALUE_LEN, &m->value);
		if (pos == v0 || (pos < n && p[pos] != ';'))
			return false;
		for (uint32_t j = 0; j < count; j++)
			if (same_key(&out->metrics[j], p + k0, klen))
				return false;
		m->key = (const char *)(p + k0);
		m->key_len = (uint8_t)klen;
		count++;
		if (pos < n && ++pos == n)
			return false;	/* a trailing ';' */
	}
	out->n_metrics = count;
	return true;
}

enum xtel_wire_err xtel_wire_decode(const void *buf, size_t len,
				    struct xtel_msg *out)
{
	const uint8_t *b = buf;
	enum xtel_wire_err err;

	/*
	 * Header fields are filled in before they are judged, so a caller can
	 * log or account a rejected datagram by client id; payload and metrics
	 * are meaningful only when XTEL_WIRE_OK is returned.
	 */
	out->n_metrics = 0;
	out->payload = NULL;
	if (!b || len < XTEL_WIRE_HDR_LEN) {
		out->version = 0;
		out->type = 0;
		out->flags = 0;
		out->payload_len = 0;
		out->client_id = 0;
		out->seq = 0;
		out->send_ts_ns = 0;
		return XTEL_WIRE_TRUNCATED;
	}
	out->version = b[2];
	out->type = b[3];
	out->flags = xtel_load_be16(b + 4);
	out->payload_len = xtel_load_be16(b + 6);
	out->client_id = xtel_load_be32(b + 8);
	out->seq = xtel_load_be64(b + 12);
	out->send_ts_ns = xtel_load_be64(b + 20);

	if (xtel_load_be16(b) != XTEL_WIRE_MAGIC)
		return XTEL_WIRE_BAD_MAGIC;
	if (out->version != XTEL_WIRE_VERSION)
		return XTEL_WIRE_BAD_VERSION;
	if (out->type < XTEL_MSG_INIT || out->type > XTEL_MSG_TYPE_MAX)
		return XTEL_WIRE_UNKNOWN_TYPE;
	if (out->flags != 0)
		return XTEL_WIRE_BAD_FLAGS;
	if (out->payload_len > XTEL_MAX_PAYLOAD)
		return XTEL_WIRE_PAYLOAD_TOO_LARGE;
	if (out->payload_len != len - XTEL_WIRE_HDR_LEN)
		return XTEL_WIRE_LENGTH_MISMATCH;

	if (parse_payload_fast(b + XTEL_WIRE_HDR_LEN, out->payload_len, out))
		err = XTEL_WIRE_OK;
	else
		err = parse_payload(b + XTEL_WIRE_HDR_LEN, out->payload_len, out);
	if (err != XTEL_WIRE_OK) {
		out->n_metrics = 0;
		return err;
	}
	out->payload = (const char *)(b + XTEL_WIRE_HDR_LEN);
	return XTEL_WIRE_OK;
}

ssize_t xtel_wire_encode(void *buf, size_t cap, uint8_t type,
			 uint32_t client_id, uint64_t seq, uint64_t send_ts_ns,
			 const void *payload, size_t plen)
{
	uint8_t *b = buf;

	if (plen > XTEL_MAX_PAYLOAD || (plen && !payload))
		return -EINVAL;
	if (!b || cap < XTEL_WIRE_HDR_LEN + plen)
		return -ENOSPC;
	xtel_store_be16(b, XTEL_WIRE_MAGIC);
	b[2] = XTEL_WIRE_VERSION;
	b[3] = type;
	xtel_store_be16(b + 4, 0);
	xtel_store_be16(b + 6, (uint16_t)plen);
	xtel_store_be32(b + 8, client_id);
	xtel_store_be64(b + 12, seq);
	xtel_store_be64(b + 20, send_ts_ns);
	if (plen)
		memmove(b + XTEL_WIRE_HDR_LEN, payload, plen);
	return (ssize_t)(XTEL_WIRE_HDR_LEN + plen);
}
