/* SPDX-License-Identifier: MIT */
/*
 * Per-source state of the HTTP server: a token bucket for the request
 * rate limit (--http-rate, --http-burst; 429 with Retry-After) and the
 * count of open connections for the connection cap (--http-source-conns).
 * A source is an IPv4 address or an IPv6 address (IPv4-mapped ones count
 * as IPv4), all ports together.
 *
 * A fixed open-addressing table of XTEL_API_SOURCES slots: memory does not
 * grow with the number of sources. When every slot is taken, a slot with
 * no open connection whose bucket is full again (it would allow a burst
 * anyway) is reused; if there is none, the new source is served without
 * state and counted in untracked. Every call takes the table's lock: the
 * server's pool threads share it.
 */
#ifndef XTEL_API_SOURCES_H
#define XTEL_API_SOURCES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum { XTEL_API_SOURCES = 4096 };

struct xtel_api_sources;

struct xtel_api_source_cfg {
	unsigned int rate;		/* requests/s; 0: no limit */
	unsigned int burst;
	unsigned int max_conns;		/* open connections per source */
};

int xtel_api_sources_new(const struct xtel_api_source_cfg *cfg,
			 struct xtel_api_sources **out);
void xtel_api_sources_free(struct xtel_api_sources *s);

/*
 * A connection from sa is being accepted:
 * false when the source has max_conns open already.
 */
bool xtel_api_sources_may_connect(struct xtel_api_sources *s,
				  const struct sockaddr *sa);
/* It was opened / closed. */
void xtel_api_sources_opened(struct xtel_api_sources *s,
			     const struct sockaddr *sa);
void xtel_api_sources_closed(struct xtel_api_sources *s,
			     const struct sockaddr *sa);

/*
 * One request from sa at now_ns: 0 when it may go on, else the seconds
 * (>= 1) until the bucket holds a token again, for Retry-After.
 */
unsigned int xtel_api_sources_request(struct xtel_api_sources *s,
				      const struct sockaddr *sa,
				      uint64_t now_ns);

uint64_t xtel_api_sources_untracked(struct xtel_api_sources *s);

#endif /* XTEL_API_SOURCES_H */
