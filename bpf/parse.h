/* SPDX-License-Identifier: MIT */
/*
 * Cursor-style header parsers of the XDP program (the shape of xdp-tools'
 * parsing_helpers.h): a struct hdr_cursor points at the next header, and
 * one parse_* per header proves that header's bounds to the verifier (all
 * through cursor_pull), hands it back, advances the cursor past it and
 * returns what the caller needs to pick the next parser (the EtherType, the
 * IP protocol), or -1 when the header does not fit in the frame. The parsers only read: what a header
 * means for the collector (ours, passed, dropped) is decided and counted by
 * the caller, bpf/xtel_xdp.bpf.c.
 *
 * Everything is __always_inline: the program is one function for the
 * verifier and for the cost per packet, as it was before the split.
 */
#ifndef XTEL_BPF_PARSE_H
#define XTEL_BPF_PARSE_H

#include <stdbool.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct hdr_cursor {
	void *pos;
};

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

enum {
	/* 802.1ad outer (or a second 802.1Q) and 802.1Q inner: QinQ is the
	 * deepest stack seen on a collector's link; a third tag is not ours */
	XTEL_VLAN_MAX_DEPTH = 2,
	/* MF and the fragment offset of iphdr.frag_off (host order) */
	XTEL_IP_MF_OFFSET = 0x3fff,
};

/*
 * The one bounds check of every parser: when size bytes fit between the
 * cursor and data_end, returns the header there and moves the cursor past
 * it; else returns NULL and leaves the cursor alone.
 */
static __always_inline void *cursor_pull(struct hdr_cursor *nh, void *data_end, __u32 size)
{
	void *hdr = nh->pos;

	if ((__u8 *)hdr + size > (__u8 *)data_end)
		return NULL;
	nh->pos = (__u8 *)hdr + size;
	return hdr;
}

static __always_inline bool proto_is_vlan(__u16 h_proto)
{
	return h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD);
}

/*
 * Ethernet and up to XTEL_VLAN_MAX_DEPTH VLAN tags. Returns the EtherType
 * that follows the last tag parsed (network byte order), or -1 when the
 * Ethernet header or a tag is cut.
 */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end,
					struct ethhdr **ethhdr)
{
	struct ethhdr *eth = cursor_pull(nh, data_end, sizeof(*eth));
	__u16 h_proto;
	int i;

	if (!eth)
		return -1;
	*ethhdr = eth;
	h_proto = eth->h_proto;
	for (i = 0; i < XTEL_VLAN_MAX_DEPTH; i++) {
		struct vlan_hdr *vh;

		if (!proto_is_vlan(h_proto))
			break;
		vh = cursor_pull(nh, data_end, sizeof(*vh));
		if (!vh)
			return -1;
		h_proto = vh->proto;
	}
	return h_proto;
}

/*
 * IPv4 with options. Returns the IP protocol, or -1 when the fixed header
 * is cut or ihl is below 5. The cursor moves past the options without
 * proving they fit: the next parser proves its own header, which covers
 * them, and the caller can still tell a packet of another protocol from a
 * cut one whatever its options claim.
 */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end,
				       struct iphdr **iphdr)
{
	struct iphdr *iph = cursor_pull(nh, data_end, sizeof(*iph));
	__u32 hdrsize;

	if (!iph)
		return -1;
	hdrsize = iph->ihl * 4;
	if (hdrsize < sizeof(*iph))
		return -1;
	nh->pos = (__u8 *)iph + hdrsize;
	*iphdr = iph;
	return iph->protocol;
}

/* MF set or a fragment offset: only the reassembled datagram can be judged. */
static __always_inline bool ip_is_fragment(const struct iphdr *iph)
{
	return iph->frag_off & bpf_htons(XTEL_IP_MF_OFFSET);
}

/*
 * The fixed IPv6 header. Returns its next header, or -1 when it is cut.
 * Extension headers are not walked (see ipv6_is_ext_hdr).
 */
static __always_inline int parse_ip6hdr(struct hdr_cursor *nh, void *data_end,
					struct ipv6hdr **ip6hdr)
{
	struct ipv6hdr *ip6h = cursor_pull(nh, data_end, sizeof(*ip6h));

	if (!ip6h)
		return -1;
	*ip6hdr = ip6h;
	return ip6h->nexthdr;
}

/*
 * The extension headers that may follow the fixed IPv6 header. Telemetry
 * never carries one, so the caller passes such packets on unjudged instead
 * of spending a loop per packet walking the chain.
 */
static __always_inline bool ipv6_is_ext_hdr(__u8 nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case IPPROTO_MH:
		return true;
	default:
		return false;
	}
}

/* The UDP header. Returns 0, or -1 when it is cut. */
static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end,
					struct udphdr **udphdr)
{
	struct udphdr *udp = cursor_pull(nh, data_end, sizeof(*udp));

	if (!udp)
		return -1;
	*udphdr = udp;
	return 0;
}

/*
 * Bytes of the datagram after the UDP header, or -1 when the UDP length is
 * below 8 or runs past the frame. The UDP length, not the frame, bounds the
 * datagram: short frames are padded to 60 bytes.
 */
static __always_inline int udp_payload_len(const struct udphdr *udp, void *data_end)
{
	__u16 ulen = bpf_ntohs(udp->len);

	if (ulen < sizeof(*udp) || (const __u8 *)udp + ulen > (const __u8 *)data_end)
		return -1;
	return ulen - sizeof(*udp);
}

#endif /* XTEL_BPF_PARSE_H */
