// SPDX-License-Identifier: MIT
/*
 * XDP front end of the collector. Every frame on the collector's interface
 * passes through here first: traffic that is not UDP to the collector's port
 * leaves untouched (XDP_PASS), datagrams that cannot be valid telemetry are
 * dropped and counted by reason before the kernel spends an skb on them, a
 * source allowlist and a per-source token bucket for DTLS sources without a
 * session stop floods here, and the rest is counted per client and passed to
 * the kernel socket or redirected to an AF_XDP socket. Settings are rodata
 * (set by the loader, userspace/xdp/, before load); maps are described in
 * bpf/xtel_maps.h and docs/XDP.md. The header parsers are in bpf/parse.h;
 * this file decides what each parse result means and counts it.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"
#include "ratelimit.h"
#include "xtel_maps.h"

/* Settings, fixed at load time so the verifier prunes the unused branches. */
const volatile __u16 cfg_port = 7700;
const volatile __u8 cfg_mode = XTEL_XDP_MODE_PLAIN;
const volatile __u8 cfg_afxdp = 0;
const volatile __u8 cfg_allowlist = 0;
const volatile __u32 cfg_hs_rate = 0;	/* datagrams/s per sessionless source; 0: off */
const volatile __u32 cfg_hs_burst = 1;	/* bucket size in datagrams */
const volatile __u32 cfg_hs_global_rate = 0;	/* all sessionless sources; 0: off */
const volatile __u32 cfg_hs_global_burst = 1;
const volatile __u8 cfg_devices = 0;	/* plain: check ids in xtel_devices */
const volatile __u8 cfg_inventory_only = 0;	/* and drop ids it lacks */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XTEL_XDP_STAT_MAX);
	__type(key, __u32);	/* enum xtel_xdp_stat: array keys must be a BTF int */
	__type(value, struct xtel_xdp_counter);
} xtel_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XTEL_XDP_MAX_CLIENTS);
	__type(key, __u32);
	__type(value, struct xtel_xdp_client);
} xtel_clients SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XTEL_XDP_MAX_PEERS);
	__type(key, struct xtel_xdp_addr_key);
	__type(value, struct xtel_xdp_peer);
} xtel_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XTEL_XDP_MAX_BUCKETS);
	__type(key, struct xtel_xdp_addr_key);
	__type(value, struct xtel_xdp_bucket);
} xtel_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XTEL_XDP_MAX_ALLOW);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xtel_xdp_lpm4);
	__type(value, struct xtel_xdp_allow);
} xtel_allow4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XTEL_XDP_MAX_ALLOW);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xtel_xdp_lpm6);
	__type(value, struct xtel_xdp_allow);
} xtel_allow6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XTEL_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xtel_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xtel_xdp_global);
} xtel_hs_global SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XTEL_XDP_MAX_DEVICES);
	__type(key, __u32);
	__type(value, struct xtel_xdp_device);
} xtel_devices SEC(".maps");

struct dtls_rec {
	__u8 type;
	__u8 version[2];
	__u8 epoch[2];
	__u8 seq[6];
	__u8 length[2];
} __attribute__((packed));

enum {
	/* records past this offset are not walked (no jumbo DTLS in practice) */
	DTLS_SCAN_MAX = 9216,
};

static __always_inline int count(enum xtel_xdp_stat idx, __u64 len, int verdict)
{
	struct xtel_xdp_counter *c = bpf_map_lookup_elem(&xtel_stats, &idx);

	/* per-CPU slot: this CPU is the only writer, plain adds suffice */
	if (c) {
		c->packets++;
		c->bytes += len;
	}
	return verdict;
}

static __always_inline void mark(enum xtel_xdp_stat idx, __u64 len)
{
	count(idx, len, 0);
}

/*
 * Count one datagram for a client. Plain mode also tracks the sequence:
 * INIT starts a new epoch, anything above the highest sequence advances it
 * by compare-and-swap and adds the numbers it skipped to seq_gaps, anything
 * at or below it (reordered, duplicate) changes nothing. BYE takes no number
 * of its own but carries the last one sent, so when it is above the highest
 * that number was lost too (tail loss) and counts as a gap.
 */
static __always_inline void account(__u32 id, __u64 dlen, __u64 now, bool plain,
				    __u8 type, __u64 seq, __u64 frame_len)
{
	struct xtel_xdp_client *c = bpf_map_lookup_elem(&xtel_clients, &id);
	__u64 old, bye;
	int i;

	if (!c) {
		struct xtel_xdp_client nc = {
			.packets = 1,
			.bytes = dlen,
			.highest_seq = plain ? seq : 0,
			.last_seen_mono_ns = now,
		};
		if (bpf_map_update_elem(&xtel_clients, &id, &nc, BPF_NOEXIST) == 0)
			return;
		/* another CPU created it first, or the map is full */
		c = bpf_map_lookup_elem(&xtel_clients, &id);
		if (!c) {
			mark(XTEL_XDP_STAT_CLIENTS_FULL, frame_len);
			return;
		}
	}
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, dlen);
	c->last_seen_mono_ns = now;
	if (!plain)
		return;
	if (type == XTEL_MSG_INIT) {
		c->highest_seq = seq;
		__sync_fetch_and_add(&c->restarts, 1);
		return;
	}
	bye = type == XTEL_MSG_BYE;
	old = c->highest_seq;
	for (i = 0; i < 4; i++) {
		__u64 prev;

		if (seq <= old)
			break;
		prev = __sync_val_compare_and_swap(&c->highest_seq, old, seq);
		if (prev == old) {
			if (seq - old > 1 - bye)
				__sync_fetch_and_add(&c->seq_gaps, seq - old - 1 + bye);
			break;
		}
		old = prev;
	}
}

/* Plain header checks in the order userspace/wire.c applies them. */
static __always_inline int check_plain(const struct xtel_wire_hdr *h, __u32 dlen)
{
	__u16 plen;

	if (h->magic != bpf_htons(XTEL_WIRE_MAGIC))
		return XTEL_XDP_DROP_BAD_MAGIC;
	if (h->version != XTEL_WIRE_VERSION)
		return XTEL_XDP_DROP_BAD_VERSION;
	if (h->type < XTEL_MSG_INIT || h->type > XTEL_MSG_TYPE_MAX)
		return XTEL_XDP_DROP_BAD_TYPE;
	if (h->flags != 0)
		return XTEL_XDP_DROP_BAD_FLAGS;
	plen = bpf_ntohs(h->payload_len);
	if (plen > XTEL_MAX_PAYLOAD || plen != dlen - XTEL_WIRE_HDR_LEN)
		return XTEL_XDP_DROP_BAD_LENGTH;
	return 0;
}

/*
 * Walk the DTLS records of a datagram (a handshake flight packs several).
 * Content types 20..23 only: heartbeat (24) is never negotiated by the
 * collector and 25 (tls12_cid) needs connection IDs, which OpenSSL 3.0
 * lacks. Record version 1.2, or 1.0 for handshake and alert records, which
 * clients send before the version is agreed. Application data cannot be in
 * epoch 0. Every record must fit in the datagram.
 */
static __always_inline int check_dtls(void *payload, void *data_end, __u32 dlen)
{
	__u32 off = 0;
	int i;

	if (dlen < XTEL_DTLS_HDR_LEN)
		return XTEL_XDP_DROP_SHORT;
	for (i = 0; i < XTEL_XDP_DTLS_MAX_RECORDS; i++) {
		struct dtls_rec *r;
		__u16 ver, epoch, rlen;

		if (off >= dlen || off > DTLS_SCAN_MAX)
			break;
		r = payload + off;
		if ((void *)(r + 1) > data_end || dlen - off < XTEL_DTLS_HDR_LEN)
			return XTEL_XDP_DROP_DTLS_LENGTH;
		if (r->type < XTEL_DTLS_CT_CCS || r->type > XTEL_DTLS_CT_APPDATA)
			return XTEL_XDP_DROP_DTLS_TYPE;
		ver = (__u16)r->version[0] << 8 | r->version[1];
		if (ver != XTEL_DTLS_V12 &&
		    !(ver == XTEL_DTLS_V10 && (r->type == XTEL_DTLS_CT_HANDSHAKE || r->type == XTEL_DTLS_CT_ALERT)))
			return XTEL_XDP_DROP_DTLS_VERSION;
		epoch = (__u16)r->epoch[0] << 8 | r->epoch[1];
		if (r->type == XTEL_DTLS_CT_APPDATA && epoch == 0)
			return XTEL_XDP_DROP_DTLS_EPOCH;
		rlen = (__u16)r->length[0] << 8 | r->length[1];
		if (rlen > dlen - off - XTEL_DTLS_HDR_LEN)
			return XTEL_XDP_DROP_DTLS_LENGTH;
		off += XTEL_DTLS_HDR_LEN + rlen;
	}
	return 0;
}

/* The source address comes from the key already built (copied out of the
 * packet once, so no packet bounds need re-proving here). */
static __always_inline bool allowed(const struct xtel_xdp_addr_key *src, bool v4)
{
	if (v4) {
		struct xtel_xdp_lpm4 k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, &src->addr[12], 4);
		return bpf_map_lookup_elem(&xtel_allow4, &k) != NULL;
	} else {
		struct xtel_xdp_lpm6 k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, src->addr, 16);
		return bpf_map_lookup_elem(&xtel_allow6, &k) != NULL;
	}
}

/*
 * Valid traffic for the collector: to the AF_XDP socket of this RX queue
 * when AF_XDP is on (with the arrival time and client id in the metadata
 * area), else to the kernel stack. bpf_redirect_map's XDP_PASS fallback
 * covers a queue without a socket, so no datagram is lost to a missing one.
 */
static __always_inline int deliver(struct xdp_md *ctx, __u64 frame_len, __u32 client_id)
{
	if (cfg_afxdp) {
		int act;

		if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct xtel_xdp_meta)) == 0) {
			void *data = (void *)(long)ctx->data;
			struct xtel_xdp_meta *m = (void *)(long)ctx->data_meta;

			if ((void *)(m + 1) <= data) {
				/* precise, and TAI converts exactly to realtime */
				m->rx_tai_ns = bpf_ktime_get_tai_ns();
				m->client_id = client_id;
				m->magic = XTEL_XDP_META_MAGIC;
			}
		}
		act = bpf_redirect_map(&xtel_xsks, ctx->rx_queue_index, XDP_PASS);
		if (act == XDP_REDIRECT)
			return count(XTEL_XDP_STAT_REDIRECTED, frame_len, act);
		return count(XTEL_XDP_STAT_XSK_MISS, frame_len, act);
	}
	return count(XTEL_XDP_STAT_PASSED, frame_len, XDP_PASS);
}

SEC("xdp")
int xtel_xdp_prog(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 frame_len = data_end - data;
	struct hdr_cursor nh = { .pos = data };
	struct xtel_xdp_addr_key key = {};
	struct ethhdr *eth;
	struct udphdr *udp;
	void *payload;
	int proto, ipproto, dlen, why;
	bool v4;

	proto = parse_ethhdr(&nh, data_end, &eth);
	if (proto < 0)
		return count(XTEL_XDP_STAT_PASS_BAD_L3, frame_len, XDP_PASS);
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph;

		ipproto = parse_iphdr(&nh, data_end, &iph);
		if (ipproto < 0)
			return count(XTEL_XDP_STAT_PASS_BAD_L3, frame_len, XDP_PASS);
		if (ipproto != IPPROTO_UDP)
			return count(XTEL_XDP_STAT_NOT_OURS, frame_len, XDP_PASS);
		if (ip_is_fragment(iph))
			return count(XTEL_XDP_STAT_PASS_FRAGMENT, frame_len, XDP_PASS);
		key.addr[10] = 0xff;
		key.addr[11] = 0xff;
		__builtin_memcpy(&key.addr[12], &iph->saddr, 4);
		v4 = true;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h;

		ipproto = parse_ip6hdr(&nh, data_end, &ip6h);
		if (ipproto < 0)
			return count(XTEL_XDP_STAT_PASS_BAD_L3, frame_len, XDP_PASS);
		if (ipproto != IPPROTO_UDP)
			return count(ipv6_is_ext_hdr(ipproto) ? XTEL_XDP_STAT_PASS_IPV6_EXT
							      : XTEL_XDP_STAT_NOT_OURS,
				     frame_len, XDP_PASS);
		__builtin_memcpy(key.addr, &ip6h->saddr, 16);
		v4 = false;
	} else {
		return count(XTEL_XDP_STAT_NOT_OURS, frame_len, XDP_PASS);
	}
	if (parse_udphdr(&nh, data_end, &udp) < 0)
		return count(XTEL_XDP_STAT_PASS_BAD_L3, frame_len, XDP_PASS);
	if (udp->dest != bpf_htons(cfg_port))
		return count(XTEL_XDP_STAT_NOT_OURS, frame_len, XDP_PASS);

	/* From here on the datagram is the collector's: judge it. */
	key.port = bpf_ntohs(udp->source);
	if (cfg_allowlist && !allowed(&key, v4))
		return count(XTEL_XDP_DROP_NOT_ALLOWED, frame_len, XDP_DROP);
	dlen = udp_payload_len(udp, data_end);
	if (dlen < 0)
		return count(XTEL_XDP_DROP_UDP_LEN, frame_len, XDP_DROP);
	payload = nh.pos;

	if (cfg_mode == XTEL_XDP_MODE_PLAIN) {
		struct xtel_wire_hdr *h = payload;
		__u64 now;

		if (dlen < XTEL_WIRE_HDR_LEN || (void *)(h + 1) > data_end)
			return count(XTEL_XDP_DROP_SHORT, frame_len, XDP_DROP);
		why = check_plain(h, dlen);
		if (why)
			return count(why, frame_len, XDP_DROP);
		if (cfg_devices) {
			__u32 id = bpf_ntohl(h->client_id);
			struct xtel_xdp_device *d = bpf_map_lookup_elem(&xtel_devices, &id);

			/* refused before it is counted for the client */
			if (d && !d->enabled)
				return count(XTEL_XDP_DROP_DEVICE_DISABLED, frame_len, XDP_DROP);
			if (!d && cfg_inventory_only)
				return count(XTEL_XDP_DROP_DEVICE_UNKNOWN, frame_len, XDP_DROP);
		}
		/* last_seen needs no more than the tick resolution: the precise
		 * clock would cost a quarter of the program's budget */
		now = bpf_ktime_get_coarse_ns();
		account(bpf_ntohl(h->client_id), dlen, now, true, h->type,
			bpf_be64_to_cpu(h->seq), frame_len);
		return deliver(ctx, frame_len, 0);
	} else {
		struct xtel_xdp_peer *peer;
		__u32 client_id;
		__u64 now;

		why = check_dtls(payload, data_end, dlen);
		if (why)
			return count(why, frame_len, XDP_DROP);
		peer = bpf_map_lookup_elem(&xtel_peers, &key);
		if (!peer) {
			now = cfg_hs_rate || cfg_hs_global_rate ? bpf_ktime_get_coarse_ns() : 0;
			if (cfg_hs_rate &&
			    !bucket_take(&xtel_buckets, &key, now, cfg_hs_rate, cfg_hs_burst))
				return count(XTEL_XDP_DROP_RATELIMIT, frame_len, XDP_DROP);
			if (cfg_hs_global_rate &&
			    !gcra_take(&xtel_hs_global, now, cfg_hs_global_rate, cfg_hs_global_burst))
				return count(XTEL_XDP_DROP_HS_GLOBAL, frame_len, XDP_DROP);
			mark(XTEL_XDP_STAT_NO_SESSION, frame_len);
			return deliver(ctx, frame_len, 0);
		}
		client_id = peer->client_id;
		now = bpf_ktime_get_coarse_ns();
		account(client_id, dlen, now, false, 0, 0, frame_len);
		return deliver(ctx, frame_len, client_id);
	}
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
