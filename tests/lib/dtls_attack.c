// SPDX-License-Identifier: MIT
/* The crafted datagrams of dtls_attack.h. */
#include <string.h>

#include "bpf/xtel_wire.h"
#include "common/bytes.h"
#include "dtls_attack.h"

size_t attack_record(unsigned char *out, uint8_t type, uint16_t epoch,
		     uint64_t seq, const void *body, size_t body_len)
{
	out[0] = type;
	xtel_store_be16(out + 1, XTEL_DTLS_V12);
	xtel_store_be16(out + 3, epoch);
	xtel_store_be16(out + 5, (uint16_t)(seq >> 32));	/* 48-bit number */
	xtel_store_be32(out + 7, (uint32_t)seq);
	xtel_store_be16(out + 11, (uint16_t)body_len);
	if (body != NULL)
		memcpy(out + XTEL_DTLS_HDR_LEN, body, body_len);
	else
		memset(out + XTEL_DTLS_HDR_LEN, 0, body_len);
	return XTEL_DTLS_HDR_LEN + body_len;
}

static void put24(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 16);
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)v;
}

size_t attack_hs_fragment(unsigned char *out, uint64_t rec_seq,
			  uint8_t msg_type, uint32_t msg_len, uint16_t msg_seq,
			  uint32_t frag_off, uint32_t frag_len)
{
	unsigned char hs[12];
	size_t n;

	hs[0] = msg_type;
	put24(hs + 1, msg_len);
	xtel_store_be16(hs + 4, msg_seq);
	put24(hs + 6, frag_off);
	put24(hs + 9, frag_len);
	n = attack_record(out, XTEL_DTLS_CT_HANDSHAKE, 0, rec_seq, NULL,
			  sizeof(hs) + frag_len);
	memcpy(out + XTEL_DTLS_HDR_LEN, hs, sizeof(hs));
	return n;
}

size_t attack_dgram(unsigned char *out, unsigned int k)
{
	static const uint8_t types[3] = {
		XTEL_DTLS_CT_ALERT, XTEL_DTLS_CT_HANDSHAKE, XTEL_DTLS_CT_APPDATA,
	};
	unsigned int r;

	if (k < ATTACK_HS_DGRAMS) {
		uint16_t seq = (uint16_t)(2 + k);
		uint32_t claim = seq == 5 ? 100000 : seq == 6 ? 17000 : 4096;

		/* Record numbers after the two ClientHellos (0 and 1). */
		return attack_hs_fragment(out, 2 + k, HS_CERTIFICATE, claim,
					  seq, 0, 1);
	}
	r = k - ATTACK_HS_DGRAMS;
	return attack_record(out, types[r % 3], 1, r, NULL,
			     r % 4 == 3 ? 8 : 24);
}
