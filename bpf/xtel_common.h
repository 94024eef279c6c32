/* SPDX-License-Identifier: MIT */
/*
 * Layouts shared by the XDP program (bpf/) and userspace: the telemetry wire
 * header, protocol limits, and (below) the key/value structs of the pinned
 * BPF maps. Nothing else belongs here, so both halves can include it without
 * pulling in each other's headers. Everything on the wire is big-endian.
 */
#ifndef XTEL_COMMON_H
#define XTEL_COMMON_H

#ifdef __BPF__
#include <linux/types.h>
#else
#include <linux/types.h>
#endif

/* ---- Wire protocol (docs/PROTOCOL.md is the normative description) ---- */

enum {
	XTEL_WIRE_MAGIC = 0x5854,	/* "XT" */
	XTEL_WIRE_VERSION = 1,
	XTEL_WIRE_HDR_LEN = 28,
	XTEL_MAX_PAYLOAD = 1200,	/* keeps a DTLS record under a 1280 MTU */
	XTEL_MAX_METRICS = 32,		/* key=value pairs per datagram */
	XTEL_MAX_KEY_LEN = 32,
	XTEL_MAX_VALUE_LEN = 32,
	XTEL_MAX_DATAGRAM = XTEL_WIRE_HDR_LEN + XTEL_MAX_PAYLOAD,
};

enum xtel_msg_type {
	XTEL_MSG_INIT = 1,
	XTEL_MSG_HEARTBEAT = 2,
	XTEL_MSG_DATA = 3,
	XTEL_MSG_BYE = 4,
	XTEL_MSG_TYPE_MAX = XTEL_MSG_BYE,
};

/*
 * The fixed header. Offsets are what matter; the struct is packed so that the
 * XDP program can read it straight out of the packet.
 */
struct xtel_wire_hdr {
	__u16 magic;		/*  0: XTEL_WIRE_MAGIC */
	__u8 version;		/*  2: XTEL_WIRE_VERSION */
	__u8 type;		/*  3: enum xtel_msg_type */
	__u16 flags;		/*  4: no flag is defined in version 1: must be 0 */
	__u16 payload_len;	/*  6: bytes after the header, <= XTEL_MAX_PAYLOAD */
	__u32 client_id;	/*  8 */
	__u64 seq;		/* 12: per-client sequence number */
	__u64 send_ts_ns;	/* 20: CLOCK_REALTIME nanoseconds at send */
} __attribute__((packed));

#endif /* XTEL_COMMON_H */
