// SPDX-License-Identifier: MIT
/*
 * The test frame builder declared in frames.h. Checksums are left 0: XDP
 * does not verify them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "bpf/xtel_wire.h"
#include "common/bytes.h"
#include "frames.h"

size_t frame_build(uint8_t *buf, const struct frame_spec *s, size_t *dlen_out)
{
	uint8_t *p = buf, *l3, *udp, *pl;
	size_t dlen = 0, iphl, i;
	int v;

	memset(buf, 0, FRAME_MAX);
	memcpy(p, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	p += 12;
	for (v = 0; v < s->vlans; v++) {
		/* outer tag of a QinQ stack is 802.1ad */
		xtel_store_be16(p, s->vlans > 1 && v == 0 ? 0x88a8 : 0x8100);
		xtel_store_be16(p + 2, 100 + v);
		p += 4;
	}
	xtel_store_be16(p, s->ipv == 4 ? 0x0800 : s->ipv == 6 ? 0x86dd : 0x0806);
	p += 2;
	l3 = p;
	if (s->ipv == 0) {
		memset(p, 0x11, 28);
		return p + 28 - buf;
	}
	iphl = s->ipv == 4 ? 20 + s->ip_opts : 40;
	udp = l3 + iphl;
	pl = udp + 8;

	/* payload */
	if (s->plain.type) {
		const struct plain_spec *h = &s->plain;

		xtel_store_be16(pl, h->magic ? h->magic : XTEL_WIRE_MAGIC);
		pl[2] = h->version ? h->version : XTEL_WIRE_VERSION;
		pl[3] = h->type;
		xtel_store_be16(pl + 4, h->flags);
		xtel_store_be16(pl + 6, h->body + h->len_delta);
		xtel_store_be32(pl + 8, h->client);
		xtel_store_be64(pl + 12, h->seq);
		xtel_store_be64(pl + 20, 1700000000000000000ull);
		memset(pl + 28, 'x', h->body);
		dlen = 28 + h->body;
	} else if (s->recs[0].type) {
		for (i = 0; i < 3 && s->recs[i].type; i++) {
			const struct rec_spec *r = &s->recs[i];
			uint8_t *rp = pl + dlen;

			rp[0] = r->type;
			xtel_store_be16(rp + 1, r->version);
			xtel_store_be16(rp + 3, r->epoch);
			xtel_store_be32(rp + 5, 0);
			xtel_store_be16(rp + 9, i + 1);
			xtel_store_be16(rp + 11, r->len + r->len_delta);
			memset(rp + 13, 0x5a, r->len);
			dlen += 13 + r->len;
		}
		memset(pl + dlen, 0x16, s->trailing);
		dlen += s->trailing;
	} else {
		memset(pl, 0xab, s->raw);
		dlen = s->raw;
	}

	/* UDP */
	xtel_store_be16(udp, s->sport ? s->sport : 40000);
	xtel_store_be16(udp + 2, s->dport ? s->dport : 7700);
	xtel_store_be16(udp + 4, 8 + dlen + s->udp_len_delta);
	/* checksum 0: XDP does not verify it */

	/* IP */
	if (s->ipv == 4) {
		l3[0] = 0x40 | (s->ihl ? (size_t)s->ihl : iphl / 4);
		xtel_store_be16(l3 + 2, iphl + 8 + dlen);
		xtel_store_be16(l3 + 6, s->frag);
		l3[8] = 64;
		l3[9] = s->proto1 ? s->proto1 - 1 : IPPROTO_UDP;
		inet_pton(AF_INET, s->src ? s->src : "198.18.0.2", l3 + 12);
		inet_pton(AF_INET, "198.18.0.1", l3 + 16);
		for (i = 0; i < (size_t)s->ip_opts; i++)
			l3[20 + i] = 1;		/* NOP options */
	} else {
		l3[0] = 0x60;
		xtel_store_be16(l3 + 4, 8 + dlen);
		l3[6] = s->proto1 ? s->proto1 - 1 : IPPROTO_UDP;
		l3[7] = 64;
		inet_pton(AF_INET6, s->src ? s->src : "2001:2::2", l3 + 8);
		inet_pton(AF_INET6, "2001:2::1", l3 + 24);
	}
	*dlen_out = dlen;
	p = pl + dlen + s->pad;
	if (s->cut)
		return s->cut;
	return p - buf;
}
