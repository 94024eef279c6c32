/* SPDX-License-Identifier: MIT */
/*
 * Crafted DTLS 1.2 datagrams: what a peer that has only proved its address
 * with a cookie can send to its half-open handshake (issue 10, item 1).
 * Plain byte builders, without OpenSSL or cmocka, so the unit tests
 * (tests/unit/test_dtls_prefilter.c) and the benchmark (bench/bench_dtls.cc)
 * replay the same patterns.
 *
 * The attack on one half-open handshake is ATTACK_DGRAMS datagrams:
 *   0 .. ATTACK_HS_DGRAMS-1   epoch-0 handshake fragments of one byte (26-
 *                             byte datagrams) for message_seq 2..12: the
 *                             message OpenSSL waits for and the 10 after it
 *                             it would buffer, each allocated at its claimed
 *                             length. Seq 2-4 (the client's flight) and
 *                             7-12 claim 4096 bytes, the most the server
 *                             lets through (XTEL_DTLS_HS_MSG_MAX), seq 5
 *                             100,000 (OpenSSL's default limit) and seq 6
 *                             17,000 (its floor when max_cert_list is
 *                             lowered)
 *   the rest                  epoch-1 records of types 21, 22 and 23 in
 *                             turn, 24-byte bodies (37-byte datagrams) and
 *                             every fourth one 8 bytes: OpenSSL 3.0 buffers
 *                             up to 100 records of the next epoch, each with
 *                             a whole 16.7 KiB read buffer
 * It assumes the ClientHello that made the handshake had message_seq 1 and
 * record number 1 (the second ClientHello of xtel_dtls_client).
 */
#ifndef XTEL_TESTS_DTLS_ATTACK_H
#define XTEL_TESTS_DTLS_ATTACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
	ATTACK_HS_DGRAMS = 11,
	ATTACK_REC_DGRAMS = 100,
	ATTACK_DGRAMS = ATTACK_HS_DGRAMS + ATTACK_REC_DGRAMS,
	/* Room for any datagram the builders below write. */
	ATTACK_DGRAM_MAX = 64,
	HS_CERTIFICATE = 11,
};

/*
 * One DTLS 1.2 record: the 13-byte header, then body_len bytes of body
 * (zeros when body is NULL). Returns the record's length.
 */
size_t attack_record(unsigned char *out, uint8_t type, uint16_t epoch,
		     uint64_t seq, const void *body, size_t body_len);

/*
 * An epoch-0 handshake record, number rec_seq, holding one fragment:
 * the 12-byte handshake header then frag_len zero bytes.
 */
size_t attack_hs_fragment(unsigned char *out, uint64_t rec_seq,
			  uint8_t msg_type, uint32_t msg_len, uint16_t msg_seq,
			  uint32_t frag_off, uint32_t frag_len);

/* Datagram k (0 <= k < ATTACK_DGRAMS) of the attack on one handshake. */
size_t attack_dgram(unsigned char *out, unsigned int k);

#ifdef __cplusplus
}
#endif

#endif /* XTEL_TESTS_DTLS_ATTACK_H */
