/* SPDX-License-Identifier: MIT */
/*
 * Telemetry wire codec shared by the collector and the load generator: a
 * strict decoder that names the reason for every rejected datagram and never
 * reads past the buffer, and an encoder that produces only what the decoder
 * accepts. docs/PROTOCOL.md is the normative description of the format.
 */
#ifndef XTEL_WIRE_H
#define XTEL_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpf/xtel_wire.h"
#include "common/counter.h"

/* The benchmarks are C++ (Google Benchmark). */
#ifdef __cplusplus
extern "C" {
#endif

/*
 * Why a datagram was rejected: X(ENUM, name, unit, help) rows, in value
 * order.
 * XTEL_WIRE_OK is 0; the rest are distinct. The collector's drop reasons
 * start with these (collector/counters.h).
 */
#define XTEL_WIRE_ERR_TABLE(X)						\
	X(OK, "ok", "datagrams", "valid datagram")					\
	X(TRUNCATED, "truncated", "datagrams", "shorter than the 28-byte header")	\
	X(BAD_MAGIC, "bad_magic", "datagrams", "magic is not 0x5854 (\"XT\")")	\
	X(BAD_VERSION, "bad_version", "datagrams", "protocol version is not 1")	\
	X(UNKNOWN_TYPE, "unknown_type", "datagrams", "message type is not 1..4")	\
	X(BAD_FLAGS, "bad_flags", "datagrams",					\
	  "a flag bit that version 1 does not define")			\
	X(PAYLOAD_TOO_LARGE, "payload_too_large", "datagrams",			\
	  "payload_len larger than 1200")				\
	X(LENGTH_MISMATCH, "length_mismatch", "datagrams",				\
	  "payload_len is not the datagram length minus the header")	\
	X(MALFORMED_METRIC, "malformed_metric", "datagrams",			\
	  "a pair that is not key=value, an empty pair or a stray byte") \
	X(BAD_KEY, "bad_key", "datagrams",						\
	  "metric key empty, too long or with a forbidden character")	\
	X(BAD_VALUE, "bad_value", "datagrams",					\
	  "metric value not a finite decimal number, or too long")	\
	X(TOO_MANY_METRICS, "too_many_metrics", "datagrams", "more than 32 pairs")	\
	X(DUPLICATE_KEY, "duplicate_key", "datagrams",				\
	  "the same key twice in one datagram")

enum xtel_wire_err {
#define X(id, name, unit, help) XTEL_WIRE_##id,
	XTEL_WIRE_ERR_TABLE(X)
#undef X
	XTEL_WIRE_ERR_MAX,
};

extern const struct xtel_counter_desc xtel_wire_err_desc[XTEL_WIRE_ERR_MAX];

struct xtel_metric {
	const char *key;	/* points into the datagram; not NUL-terminated */
	uint8_t key_len;
	double value;
};

/* A decoded datagram. Host byte order; payload/metric keys point into buf. */
struct xtel_msg {
	uint8_t version;
	uint8_t type;		/* enum xtel_msg_type */
	uint16_t flags;
	uint16_t payload_len;
	uint32_t client_id;
	uint64_t seq;
	uint64_t send_ts_ns;
	const char *payload;
	uint32_t n_metrics;
	struct xtel_metric metrics[XTEL_MAX_METRICS];
};

/*
 * Decode and fully validate one datagram. Returns XTEL_WIRE_OK or a reason
 * (check order: see wire.c and docs/PROTOCOL.md). Unless the result is
 * XTEL_WIRE_TRUNCATED, out's header fields hold the values as read even for
 * a rejected datagram (so it can be accounted by client id); payload and
 * metrics are set only on XTEL_WIRE_OK (n_metrics is 0 otherwise).
 * Thread-safe; reads nothing outside [buf, buf + len).
 */
enum xtel_wire_err xtel_wire_decode(const void *buf, size_t len,
				    struct xtel_msg *out);

/* Stable snake_case name of a reason ("truncated", "bad_magic", ...). */
const char *xtel_wire_err_name(enum xtel_wire_err err);

/* "INIT", "HEARTBEAT", "DATA", "BYE", or "UNKNOWN". */
const char *xtel_msg_type_name(uint8_t type);

/*
 * Encode a header and payload into buf. The payload is copied as given and
 * is not validated here (tests use that to build invalid datagrams; use
 * xtel_wire_decode on the result to check). Returns the datagram length, or
 * -ENOSPC when cap is too small, -EINVAL when plen > XTEL_MAX_PAYLOAD.
 */
ssize_t xtel_wire_encode(void *buf, size_t cap, uint8_t type,
			 uint32_t client_id, uint64_t seq, uint64_t send_ts_ns,
			 const void *payload, size_t plen);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_WIRE_H */
