/* SPDX-License-Identifier: MIT */
/*
 * Test frames for the XDP program: one struct frame_spec describes a frame
 * (Ethernet, 0..3 VLAN tags, IPv4 with options or IPv6, UDP, then a plain
 * telemetry header, DTLS records or raw bytes) and frame_build writes it,
 * with knobs to break each layer (bad lengths, cut frames, padding,
 * fragments). A zeroed spec field means the usual value, so a fixture row
 * names only what it is about. Shared by the bpf tier's tests.
 */
#ifndef XTEL_TESTS_FRAMES_H
#define XTEL_TESTS_FRAMES_H

#include <stddef.h>
#include <stdint.h>

enum {
	FRAME_MAX = 2048,	/* frame_build writes (and first zeroes) this much */
};

struct plain_spec {
	uint8_t type;			/* 0: no plain header */
	uint32_t client;
	uint64_t seq;
	uint16_t body;			/* payload bytes after the header */
	int16_t len_delta;		/* added to the payload_len field */
	uint16_t magic;			/* 0: the real one */
	uint8_t version;		/* 0: the real one */
	uint16_t flags;
};

struct rec_spec {
	uint8_t type;			/* 0: end of the list */
	uint16_t version;
	uint16_t epoch;
	uint16_t len;			/* fragment bytes that follow */
	int16_t len_delta;		/* added to the length field only */
};

struct frame_spec {
	int vlans;			/* 0..3 tags */
	int ipv;			/* 4, 6, or 0 for an ARP frame */
	int ip_opts;			/* IPv4 option bytes, multiple of 4 */
	int ihl;			/* 0: computed */
	uint16_t frag;			/* IPv4 frag_off, host order */
	int proto1;			/* IP protocol + 1 (0 is hop-by-hop); 0: UDP */
	const char *src;		/* NULL: 198.18.0.2 / 2001:2::2 */
	uint16_t sport, dport;		/* 0: 40000 / 7700 */
	int udp_len_delta;		/* added to the UDP length field */
	int pad;			/* bytes after the datagram, outside IP/UDP lengths */
	int cut;			/* frame truncated to this many bytes (0: whole) */
	struct plain_spec plain;
	struct rec_spec recs[3];
	int raw;			/* raw payload bytes (0xab) when no plain/records */
	int trailing;			/* bytes after the DTLS records */
};

/*
 * Builds the frame into buf (FRAME_MAX bytes); returns its length and sets
 * *dlen_out to the UDP payload length. Addresses default to the testbed's
 * 198.18.0.2 -> 198.18.0.1 and 2001:2::2 -> 2001:2::1, ports to
 * 40000 -> 7700.
 */
size_t frame_build(uint8_t *buf, const struct frame_spec *s, size_t *dlen_out);

#endif /* XTEL_TESTS_FRAMES_H */
