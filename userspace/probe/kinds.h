/* SPDX-License-Identifier: MIT */
/*
 * What one probe download came to, as both ends and the analysis name it:
 * the outcome kinds (one per download: ok, or the first thing that went
 * wrong) and the telemetry metrics the probe sends to the collector for
 * each download. Both are X-macro tables (common/counter.h), so the
 * client's counters, its JSON report, the metric keys on the wire and
 * docs/PROBES.md cannot drift apart.
 */
#ifndef XTEL_PROBE_KINDS_H
#define XTEL_PROBE_KINDS_H

#include "common/counter.h"

/* X(ENUM, "name", "unit", "help"), in value order; OK is 0. */
#define XTEL_PROBE_KIND_TABLE(X)					\
	X(OK, "ok", "downloads", "the whole object arrived with status 200") \
	X(CONNECT_REFUSED, "connect_refused", "downloads",		\
	  "TCP connect refused or unreachable: no server listening")	\
	X(CONNECT_TIMEOUT, "connect_timeout", "downloads",		\
	  "no TCP connection within the connect timeout")		\
	X(TLS_VERIFY, "tls_verify", "downloads",			\
	  "the server's certificate did not verify against --ca (wrong CA, name)") \
	X(TLS_HANDSHAKE, "tls_handshake", "downloads",		\
	  "the TLS handshake failed or the server refused our certificate") \
	X(TIMEOUT, "timeout", "downloads",				\
	  "the download did not finish within --timeout")		\
	X(SHORT_BODY, "short_body", "downloads",			\
	  "the connection ended before Content-Length bytes arrived")	\
	X(HTTP_STATUS, "http_status", "downloads",			\
	  "the server answered with a status other than 200")		\
	X(OTHER, "other", "downloads", "any other transfer error (see the log)") \
	X(MIXED, "mixed", "downloads",					\
	  "stored history only: failures of several kinds in one bucket")

enum xtel_probe_kind {
#define X(id, name, unit, help) XTEL_PROBE_##id,
	XTEL_PROBE_KIND_TABLE(X)
#undef X
	XTEL_PROBE_KIND_MAX,
};

extern const struct xtel_counter_desc xtel_probe_kind_desc[XTEL_PROBE_KIND_MAX];

/* The kind's name, or NULL out of range. */
const char *xtel_probe_kind_name(unsigned int kind);
/* The kind named name, or -1. */
int xtel_probe_kind_from_name(const char *name);

/*
 * The metrics of one download's DATA datagram, X(ENUM, "key", "unit",
 * "help"), in payload order. Every download sends probe_ok and probe_kind;
 * the timings up to the failure point are sent when curl measured them,
 * the speeds only for an ok download. The order puts first what the
 * collector's health engine should judge: it takes a client's first eight
 * metrics (XTEL_HEALTH_MAX_METRICS).
 */
#define XTEL_PROBE_METRIC_TABLE(X)					\
	X(OK, "probe_ok", "bool", "1 when the download was ok, else 0")	\
	X(KIND, "probe_kind", "enum",					\
	  "the outcome kind's number (0 ok; see the kinds table)")	\
	X(SPEED, "probe_speed_mbps", "Mbit/s",				\
	  "body bits / (total - time to first byte), whole transfer")	\
	X(TTFB, "probe_ttfb_ms", "ms",					\
	  "time to first byte from the start (curl STARTTRANSFER_TIME)")	\
	X(TOTAL, "probe_total_ms", "ms", "whole download (curl TOTAL_TIME)")	\
	X(TLS, "probe_tls_ms", "ms",					\
	  "TLS handshake (APPCONNECT - CONNECT)")	\
	X(SPEED_WARM, "probe_speed_warm_mbps", "Mbit/s",		\
	  "body speed after the warm-up (first --warmup seconds skipped)")	\
	X(CONNECT, "probe_connect_ms", "ms",				\
	  "TCP connect, from the lookup's end (CONNECT - NAMELOOKUP)")	\
	X(DNS, "probe_dns_ms", "ms", "name lookup (curl NAMELOOKUP_TIME)")	\
	X(SERVER_TTFB, "probe_server_ttfb_ms", "ms",			\
	  "accept to first response byte as the server saw it (Server-Timing)")	\
	X(BYTES, "probe_bytes", "bytes", "body bytes received")	\
	X(STATUS, "probe_http_status", "code", "HTTP status, 0 when none")	\
	X(THROTTLE, "probe_throttle_mbps", "Mbit/s",			\
	  "the server's throttle when it answered (0: none)")

enum xtel_probe_metric {
#define X(id, key, unit, help) XTEL_PROBE_M_##id,
	XTEL_PROBE_METRIC_TABLE(X)
#undef X
	XTEL_PROBE_M_MAX,
};

extern const struct xtel_counter_desc xtel_probe_metric_desc[XTEL_PROBE_M_MAX];

#endif /* XTEL_PROBE_KINDS_H */
