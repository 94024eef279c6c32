// SPDX-License-Identifier: MIT
/*
 * Payload templates: parse "{...}" placeholders out of a key=value;...
 * template once, then render each DATA payload with integer formatting only
 * (no printf on the hot path). The compile step renders the extreme values of
 * every placeholder and runs the real wire decoder on the result, so a
 * template the collector would reject is refused before the run starts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "wire/wire.h"

static const int64_t rand_abs_max = 1000000000000000ll;	/* 1e15 */

/* xorshift64*: fast, and good enough for metric values. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x2545f4914f6cdd1dull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static size_t fmt_u64(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static size_t fmt_i64(char *out, int64_t v)
{
	if (v < 0) {
		out[0] = '-';
		return 1 + fmt_u64(out + 1, (uint64_t)0 - (uint64_t)v);
	}
	return fmt_u64(out, (uint64_t)v);
}

/* Thousandths as "I.FFF". */
static size_t fmt_milli(char *out, int64_t v)
{
	size_t n = 0;
	uint64_t a;

	if (v < 0) {
		out[n++] = '-';
		a = (uint64_t)0 - (uint64_t)v;
	} else {
		a = (uint64_t)v;
	}
	n += fmt_u64(out + n, a / 1000);
	out[n++] = '.';
	out[n++] = (char)('0' + a / 100 % 10);
	out[n++] = (char)('0' + a / 10 % 10);
	out[n++] = (char)('0' + a % 10);
	return n;
}

static int parse_bound(const char *s, size_t n, int milli, int64_t *out)
{
	char buf[40], *end;
	double d;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	d = strtod(buf, &end);
	if (errno || *end || d < -(double)rand_abs_max || d > (double)rand_abs_max)
		return -EINVAL;
	if (!milli) {
		long long v = strtoll(buf, &end, 10);

		if (*end)
			return -EINVAL;	/* {rand} takes integers */
		*out = v;
	} else {
		*out = (int64_t)(d * 1000.0 + (d < 0 ? -0.5 : 0.5));
	}
	return 0;
}

/* Parse the inside of one "{...}" into ph. */
static int parse_placeholder(const char *s, size_t n, struct xtel_lg_ph *ph)
{
	const char *c1, *c2;
	int milli;

	if (n == 3 && !memcmp(s, "seq", 3)) {
		ph->kind = XTEL_LG_PH_SEQ;
		return 0;
	}
	if (n == 6 && !memcmp(s, "client", 6)) {
		ph->kind = XTEL_LG_PH_CLIENT;
		return 0;
	}
	if (n == 10 && !memcmp(s, "elapsed_ms", 10)) {
		ph->kind = XTEL_LG_PH_ELAPSED_MS;
		return 0;
	}
	if (n > 5 && !memcmp(s, "rand:", 5)) {
		milli = 0;
		c1 = s + 5;
	} else if (n > 6 && !memcmp(s, "randf:", 6)) {
		milli = 1;
		c1 = s + 6;
	} else {
		return -EINVAL;
	}
	c2 = memchr(c1, ':', (size_t)(s + n - c1));
	if (!c2)
		return -EINVAL;
	if (parse_bound(c1, (size_t)(c2 - c1), milli, &ph->lo) ||
	    parse_bound(c2 + 1, (size_t)(s + n - c2 - 1), milli, &ph->hi) ||
	    ph->lo > ph->hi)
		return -EINVAL;
	ph->kind = milli ? XTEL_LG_PH_RANDF : XTEL_LG_PH_RAND;
	return 0;
}

/*
 * Expand the template into buf. extreme < 0 renders the real values; 0 or 1
 * puts every placeholder at its smallest or largest value, which is how
 * validate() finds the longest datagram a run can produce. One loop serves
 * both so validation checks exactly what the senders will write.
 */
static size_t render_parts(const struct xtel_lg_payload *p,
			   const struct xtel_lg_render_ctx *ctx, int extreme,
			   char *buf)
{
	size_t n = 0;

	for (uint32_t i = 0; i < p->n_parts; i++) {
		const struct xtel_lg_ph *ph = &p->parts[i];
		uint64_t span;

		switch (ph->kind) {
		case XTEL_LG_PH_LITERAL:
			memcpy(buf + n, p->text + ph->off, ph->len);
			n += ph->len;
			break;
		case XTEL_LG_PH_SEQ:
			n += fmt_u64(buf + n, ctx->seq);
			break;
		case XTEL_LG_PH_CLIENT:
			n += fmt_u64(buf + n, ctx->client_id);
			break;
		case XTEL_LG_PH_ELAPSED_MS:
			n += fmt_u64(buf + n, ctx->elapsed_ms);
			break;
		case XTEL_LG_PH_RAND:
			if (extreme >= 0) {
				n += fmt_i64(buf + n, extreme ? ph->hi : ph->lo);
				break;
			}
			span = (uint64_t)(ph->hi - ph->lo) + 1;
			n += fmt_i64(buf + n, ph->lo +
				     (int64_t)(rng_next(ctx->rng) % span));
			break;
		case XTEL_LG_PH_RANDF:
			if (extreme >= 0) {
				n += fmt_milli(buf + n, extreme ? ph->hi : ph->lo);
				break;
			}
			span = (uint64_t)(ph->hi - ph->lo);
			n += fmt_milli(buf + n, ph->lo + (span ?
				       (int64_t)(rng_next(ctx->rng) % span) : 0));
			break;
		}
	}
	return n;
}

static int validate(const struct xtel_lg_payload *p, char *err, size_t errlen)
{
	/* Worst case: each placeholder expands to at most 21 bytes. */
	char buf[XTEL_MAX_PAYLOAD + 32 * 2 * XTEL_MAX_METRICS];
	uint8_t dgram[XTEL_MAX_DATAGRAM];
	struct xtel_msg msg;

	for (int hi = 0; hi < 2; hi++) {
		const struct xtel_lg_render_ctx ext = {
			.seq = hi ? UINT64_MAX : 0,
			.client_id = hi ? UINT32_MAX : 0,
			.elapsed_ms = hi ? UINT64_MAX : 0,
		};
		size_t n = render_parts(p, &ext, hi, buf);
		enum xtel_wire_err werr;
		ssize_t len;

		if (n > XTEL_MAX_PAYLOAD) {
			snprintf(err, errlen, "renders up to %zu bytes: more than the %d-byte payload limit",
				 n, XTEL_MAX_PAYLOAD);
			return -EINVAL;
		}
		len = xtel_wire_encode(dgram, sizeof(dgram), XTEL_MSG_DATA, 1, 1,
				       0, buf, n);
		if (len < 0) {
			snprintf(err, errlen, "cannot be encoded (%s)", strerror((int)-len));
			return -EINVAL;
		}
		werr = xtel_wire_decode(dgram, (size_t)len, &msg);
		if (werr != XTEL_WIRE_OK) {
			snprintf(err, errlen, "the collector would reject '%.*s' as %s (format: key=value;key=value, keys [A-Za-z0-9_.-]{1,32}, decimal values, at most %d pairs)",
				 (int)(n > 80 ? 80 : n), buf, xtel_wire_err_name(werr),
				 XTEL_MAX_METRICS);
			return -EINVAL;
		}
	}
	return 0;
}

int xtel_lg_payload_compile(struct xtel_lg_payload *p, const char *tmpl,
			    char *err, size_t errlen)
{
	const char *s = tmpl;
	size_t lit_start;

	memset(p, 0, sizeof(*p));
	if (strlen(tmpl) > XTEL_MAX_PAYLOAD) {
		snprintf(err, errlen, "longer than %d bytes", XTEL_MAX_PAYLOAD);
		return -EINVAL;
	}
	lit_start = 0;
	while (*s) {
		if (*s == '{') {
			const char *close = strchr(s, '}');
			struct xtel_lg_ph ph = { 0 };

			if (!close || parse_placeholder(s + 1, (size_t)(close - s - 1), &ph)) {
				snprintf(err, errlen, "bad placeholder '%.*s' (known: {seq} {client} {elapsed_ms} {rand:LO:HI} {randf:LO:HI}, |LO|,|HI| <= 1e15, LO <= HI)",
					 close ? (int)(close - s + 1) : (int)strlen(s), s);
				return -EINVAL;
			}
			if (p->n_parts + 2 > sizeof(p->parts) / sizeof(p->parts[0]))
				goto too_many;
			if (p->text_len > lit_start) {
				p->parts[p->n_parts++] = (struct xtel_lg_ph){
					.kind = XTEL_LG_PH_LITERAL,
					.off = (uint16_t)lit_start,
					.len = (uint16_t)(p->text_len - lit_start),
				};
			}
			p->parts[p->n_parts++] = ph;
			lit_start = p->text_len;
			s = close + 1;
			continue;
		}
		if (*s == '}') {
			snprintf(err, errlen, "unmatched '}'");
			return -EINVAL;
		}
		p->text[p->text_len++] = *s++;
	}
	if (p->text_len > lit_start) {
		if (p->n_parts + 1 > sizeof(p->parts) / sizeof(p->parts[0]))
			goto too_many;
		p->parts[p->n_parts++] = (struct xtel_lg_ph){
			.kind = XTEL_LG_PH_LITERAL,
			.off = (uint16_t)lit_start,
			.len = (uint16_t)(p->text_len - lit_start),
		};
	}
	p->fixed = 1;
	for (uint32_t i = 0; i < p->n_parts; i++)
		if (p->parts[i].kind != XTEL_LG_PH_LITERAL)
			p->fixed = 0;
	return validate(p, err, errlen);

too_many:
	snprintf(err, errlen, "too many placeholders (at most %d metrics per datagram)",
		 XTEL_MAX_METRICS);
	return -EINVAL;
}

int xtel_lg_payload_fixed(struct xtel_lg_payload *p, uint32_t size)
{
	const uint32_t max_pair = XTEL_MAX_KEY_LEN + 1 + XTEL_MAX_VALUE_LEN;
	uint32_t n_pairs, chars, base, extra, pos = 0;

	memset(p, 0, sizeof(*p));
	p->fixed = 1;
	if (size == 0)
		return 0;
	if (size < 3 || size > XTEL_MAX_PAYLOAD)
		return -EINVAL;
	/*
	 * n pairs need n - 1 separators; spread the remaining bytes evenly so
	 * every pair is between "mN=1" and a 32-byte key plus a 32-byte value.
	 */
	n_pairs = (size + 1 + max_pair) / (max_pair + 1);
	chars = size - (n_pairs - 1);
	base = chars / n_pairs;
	extra = chars % n_pairs;
	for (uint32_t i = 0; i < n_pairs; i++) {
		uint32_t plen = base + (i < extra), klen, vlen;
		char key[16];
		int kn = snprintf(key, sizeof(key), "m%u", i);

		/* A single short pair may be narrower than "mN=1". */
		if (n_pairs == 1 && plen < (uint32_t)kn + 2)
			kn = 1;
		vlen = plen - 1 - (uint32_t)kn;
		if (vlen > XTEL_MAX_VALUE_LEN)
			vlen = XTEL_MAX_VALUE_LEN;
		klen = plen - 1 - vlen;
		if (i)
			p->text[pos++] = ';';
		memcpy(p->text + pos, key, (size_t)kn);
		/* Pad the key with '_' so the pair has exactly plen bytes. */
		memset(p->text + pos + kn, '_', klen - (uint32_t)kn);
		pos += klen;
		p->text[pos++] = '=';
		for (uint32_t j = 0; j < vlen; j++)
			p->text[pos++] = (char)('1' + (i + j) % 9);
	}
	p->text_len = pos;
	return pos == size ? 0 : -EINVAL;
}

size_t xtel_lg_payload_render(const struct xtel_lg_payload *p,
			      const struct xtel_lg_render_ctx *ctx, char *buf)
{
	if (p->fixed) {
		memcpy(buf, p->text, p->text_len);
		return p->text_len;
	}
	return render_parts(p, ctx, -1, buf);
}
