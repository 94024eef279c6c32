/* SPDX-License-Identifier: MIT */
/*
 * The wire format every part of XTel shares: the XDP program, the collector
 * and the load generator. The telemetry header, the protocol limits, and the
 * few DTLS 1.2 record-layer constants (RFC 6347 section 4.1) that the XDP
 * pre-filter, the DTLS server and the handshake flood all need. Nothing here
 * depends on userspace or on the XDP map layout (xtel_maps.h). Everything on
 * the wire is big-endian; docs/PROTOCOL.md is the normative description.
 */
#ifndef XTEL_WIRE_FORMAT_H
#define XTEL_WIRE_FORMAT_H

#include <linux/types.h>

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

/* ---- DTLS 1.2 record layer (RFC 6347 4.1) ---- */

enum xtel_dtls_content {
	XTEL_DTLS_CT_CCS = 20,		/* change_cipher_spec */
	XTEL_DTLS_CT_ALERT = 21,
	XTEL_DTLS_CT_HANDSHAKE = 22,
	XTEL_DTLS_CT_APPDATA = 23,
};

enum {
	XTEL_DTLS_V12 = 0xfefd,		/* DTLS 1.2 on the wire */
	XTEL_DTLS_V10 = 0xfeff,		/* DTLS 1.0: ClientHello/alerts only */
	XTEL_DTLS_HDR_LEN = 13,		/* type, version, epoch, 48-bit seq, length */
};

#endif /* XTEL_WIRE_FORMAT_H */
