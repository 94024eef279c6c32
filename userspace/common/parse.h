/* SPDX-License-Identifier: MIT */
/*
 * Strict parsing of command-line values, shared by the collector and the
 * load generator so both accept the same spellings and word the same
 * mistake the same way: whole-string decimal integers and finite decimals
 * checked against an inclusive range, the one error message that names the
 * flag and its valid values, and IPv4/IPv6 addresses with an optional /LEN.
 */
#ifndef XTEL_PARSE_H
#define XTEL_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * s is a whole decimal integer (digits only: no sign, space, base prefix or
 * trailing junk) in lo..hi inclusive. Returns 0 and sets *out, -EINVAL for
 * a malformed string, -ERANGE for one outside lo..hi or beyond 64 bits.
 */
int xtel_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/*
 * s is a whole finite decimal ("5", "-0.5", ".5", "1e3"; no '+', space,
 * hex, inf or nan) in lo..hi inclusive. Returns 0, -EINVAL or -ERANGE (out
 * of lo..hi, or too large or too small for a double).
 */
int xtel_parse_double(const char *s, double lo, double hi, double *out);

/*
 * An RFC 3339 time: "2026-12-01T12:00:00Z", a fraction of a second
 * ("...:00.25Z"), an offset ("+02:00", "-05:30") instead of Z, a space for
 * the T. Returns 0 with the Unix seconds in *sec and the fraction in
 * *nsec (nanoseconds, beyond nine digits cut; nsec may be NULL), or
 * -EINVAL.
 */
int xtel_parse_rfc3339(const char *s, int64_t *sec, uint32_t *nsec);

/*
 * Unix seconds (digits only, up to 9999-12-31) or an RFC 3339 time, as
 * whole Unix seconds (a fraction is dropped). Returns 0 or -EINVAL. The
 * HTTP API's from/to and the reports' --from/--to take these.
 */
int xtel_parse_time(const char *s, int64_t *out);

/*
 * Logs "invalid value 'VAL' for --FLAG (valid: VALID)" on stderr
 * (flag without its dashes) as an error and returns -EINVAL.
 */
int xtel_bad_value(const char *flag, const char *val,
		   const char *valid);

/* xtel_parse_u64/_double, with xtel_bad_value's message on failure. */
int xtel_flag_u64(const char *flag, const char *val,
		  uint64_t lo, uint64_t hi, const char *valid, uint64_t *out);
int xtel_flag_double(const char *flag, const char *val,
		     double lo, double hi, const char *valid, double *out);

enum xtel_cidr_flags {
	XTEL_CIDR_NEED_PREFIX = 1 << 0,	/* a bare address is an error */
};

struct xtel_cidr {
	int family;			/* AF_INET or AF_INET6 */
	unsigned int prefix;		/* 0..32 or 0..128; bare address: max */
	unsigned char addr[16];		/* network order, as written */
};

/*
 * "ADDR" or "ADDR/LEN" (LEN digits only, at most the family's bits). Host
 * bits are kept as written: callers decide whether they are an error
 * (xtel_cidr_host_bits) or are to be ignored (xtel_cidr_mask). Returns 0
 * or -EINVAL.
 */
int xtel_parse_cidr(const char *s, unsigned int flags, struct xtel_cidr *out);

/* True when a bit beyond the prefix is set in c->addr. */
bool xtel_cidr_host_bits(const struct xtel_cidr *c);

/* Clears the bits beyond the prefix. */
void xtel_cidr_mask(struct xtel_cidr *c);

/*
 * "198.18.0.1:7700" or "[2001:2::1]:7700" (port 1..65535) into *ss and its
 * length; shared by every program that takes a listen or target address.
 * Returns 0 or -EINVAL.
 */
int xtel_parse_addr_port(const char *s, struct sockaddr_storage *ss,
			 socklen_t *len);

#endif /* XTEL_PARSE_H */
