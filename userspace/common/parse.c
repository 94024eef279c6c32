// SPDX-License-Identifier: MIT
/*
 * Strict value parsing for both command lines (see parse.h). strtoull and
 * strtod alone are too lenient for flags: they skip leading space, take a
 * sign on unsigned input (strtoull("-1") is UINT64_MAX), and strtod reads
 * hex, "inf" and "nan". Each parser here first checks the leading
 * characters, then lets libc convert and insists the whole string was used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "common/parse.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int xtel_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!is_digit(*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno || v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

int xtel_parse_double(const char *s, double lo, double hi, double *out)
{
	const char *num = *s == '-' ? s + 1 : s;
	char *end;
	double v;

	/* Starting with a digit or '.' rules out space, '+', inf and nan. */
	if (!is_digit(*num) && *num != '.')
		return -EINVAL;
	if (num[0] == '0' && (num[1] == 'x' || num[1] == 'X'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end)
		return -EINVAL;
	if (errno || !isfinite(v) || v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

int xtel_bad_value(const char *flag, const char *val,
		   const char *valid)
{
	pr_err("invalid value '%s' for --%s (valid: %s)", val, flag, valid);
	return -EINVAL;
}

int xtel_flag_u64(const char *flag, const char *val,
		  uint64_t lo, uint64_t hi, const char *valid, uint64_t *out)
{
	if (xtel_parse_u64(val, lo, hi, out))
		return xtel_bad_value(flag, val, valid);
	return 0;
}

int xtel_flag_double(const char *flag, const char *val,
		     double lo, double hi, const char *valid, double *out)
{
	if (xtel_parse_double(val, lo, hi, out))
		return xtel_bad_value(flag, val, valid);
	return 0;
}

int xtel_parse_cidr(const char *s, unsigned int flags, struct xtel_cidr *out)
{
	/* The longest IPv6 text (with an embedded IPv4) is 45 characters. */
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int max;

	if (!slash && (flags & XTEL_CIDR_NEED_PREFIX))
		return -EINVAL;
	if (!hlen || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	out->prefix = max;
	if (slash) {
		uint64_t p;

		if (xtel_parse_u64(slash + 1, 0, max, &p))
			return -EINVAL;
		out->prefix = (unsigned int)p;
	}
	return 0;
}

static unsigned int family_bits(const struct xtel_cidr *c)
{
	return c->family == AF_INET ? 32 : 128;
}

bool xtel_cidr_host_bits(const struct xtel_cidr *c)
{
	for (unsigned int i = c->prefix; i < family_bits(c); i++)
		if (c->addr[i / 8] & (0x80u >> (i % 8)))
			return true;
	return false;
}

void xtel_cidr_mask(struct xtel_cidr *c)
{
	for (unsigned int i = c->prefix; i < family_bits(c); i++)
		c->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
}

int xtel_parse_addr_port(const char *s, struct sockaddr_storage *ss,
			    socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_s;
	size_t hlen;
	uint64_t port;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen);
		port_s = close + 2;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hlen);
		port_s = colon + 1;
	}
	host[hlen] = '\0';
	if (xtel_parse_u64(port_s, 1, 65535, &port))
		return -EINVAL;

	if (*s != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	}
	return 0;
}

int xtel_parse_rfc3339(const char *s, int64_t *sec, uint32_t *nsec)
{
	struct tm tm = { 0 };
	uint32_t ns = 0, scale = 100000000;
	char buf[64];
	const char *p;
	int64_t off = 0;

	/* RFC 3339 allows a lower-case t, which strptime's literal is not */
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	if (strlen(buf) > 10 && (buf[10] == 't' || buf[10] == ' '))
		buf[10] = 'T';
	p = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -EINVAL;
		/* nanoseconds: the first nine digits count, the rest are read */
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			ns += (uint32_t)(*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' &&
		   p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
		   p[4] >= '0' && p[4] <= '5' && p[5] >= '0' && p[5] <= '9') {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
		      ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '-')
			off = -off;
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	*sec = (int64_t)timegm(&tm) - off;
	if (nsec)
		*nsec = ns;
	return 0;
}

int xtel_parse_time(const char *s, int64_t *out)
{
	uint64_t u;

	if (!xtel_parse_u64(s, 0, 253402300799ull, &u)) {
		*out = (int64_t)u;
		return 0;
	}
	return xtel_parse_rfc3339(s, out, NULL);
}
