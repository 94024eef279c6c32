// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness of the XDP program (bpf/xtel_xdp.bpf.c), run in the
 * kernel through BPF_PROG_TEST_RUN one frame per input: the fuzzer mutates
 * frames (seeds from tests/lib/frames.h) in userspace and the program runs
 * for real. Six programs are loaded once, as tests/bpf/test_xdp_prog.c
 * loads them: plain; DTLS with two peers; plain with an allowlist; DTLS
 * with AF_XDP (no socket bound), an allowlist and the peers; plain with
 * AF_XDP on port 4433; DTLS with per-source and global handshake limits.
 *
 * For every frame:
 *   - exactly one outcome counter of XTEL_XDP_STATS moved, by one packet
 *     and the frame's bytes, and the verdict is that row's (PASS, DROP,
 *     REDIRECT); marks move only as documented (no_session beside a
 *     delivery of a sessionless DTLS datagram, never clients_full: the
 *     harness empties xtel_clients long before it fills);
 *   - the outcome is the one a reference classifier written here from
 *     docs/XDP.md ("What the program does with a frame") predicts; under
 *     the rate limits, whose state is the clock's, a sessionless DTLS
 *     datagram may be any of delivered/drop_ratelimit/drop_hs_global;
 *   - per-client counters move as docs/XDP.md step 4 says: packets + 1,
 *     bytes + the UDP payload, and in plain mode the sequence rules
 *     (INIT restarts, a higher number adds the numbers it skipped to
 *     seq_gaps, a BYE above the highest counts its own number too);
 *     nothing moves for a frame that is not delivered;
 *   - the frame leaves unchanged, and with AF_XDP a delivered frame
 *     carries struct xtel_xdp_meta (magic, the peer's client id or 0).
 *
 * Input: byte 0 picks the program, the rest is the frame (14..3000 bytes).
 * Needs root (CAP_BPF, CAP_NET_ADMIN); exits 77 only when a trivial XDP
 * program cannot be loaded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "fuzz.h"
#include "xdp/xdp.h"

enum {
	MAX_FRAME = 3000,	/* BPF_PROG_TEST_RUN takes up to a page minus headroom */
	CLEAR_CLIENTS_AT = 60000,	/* of XTEL_XDP_MAX_CLIENTS entries */
	NPEERS = 2,
};

/* The verdict column of the table, by counter. */
static const int stat_kind[XTEL_XDP_STAT_MAX] = {
#define KIND(id, name, verdict, help) [id] = XTEL_XDP_KIND_##verdict,
	XTEL_XDP_STATS(KIND)
#undef KIND
};

struct prog {
	const char *name;
	struct xtel_xdp_opts opts;
	bool peers;		/* the two peers below are established */
	struct xtel_xdp *x;
	unsigned int clients;	/* entries the program created since the last clear */
};

static struct prog progs[] = {
	{ "plain", { .no_pin = true, .quiet = true }, false, NULL, 0 },
	{ "dtls", { .no_pin = true, .quiet = true, .dtls = true }, true, NULL, 0 },
	{ "plain+allow", { .no_pin = true, .quiet = true, .allowlist = true },
	  false, NULL, 0 },
	{ "dtls+afxdp+allow", { .no_pin = true, .quiet = true, .dtls = true,
				.afxdp = true, .allowlist = true }, true, NULL, 0 },
	{ "plain+afxdp:4433", { .no_pin = true, .quiet = true, .afxdp = true,
				.port = 4433 }, false, NULL, 0 },
	{ "dtls+limits", { .no_pin = true, .quiet = true, .dtls = true,
			   .handshake_rate = 1, .handshake_burst = 2,
			   .handshake_global_rate = 1,
			   .handshake_global_burst = 4 }, true, NULL, 0 },
};
#define NPROGS (sizeof(progs) / sizeof(progs[0]))
_Static_assert(NPROGS == 6, "one row of reached[] per program");

/*
 * The program's coverage is in the kernel, out of libFuzzer's sight: the
 * reference classifier's branches stand in for it, and these extra
 * counters (a section libFuzzer reads as coverage) tell it which outcome
 * each program reached, so an input reaching a new (program, outcome,
 * verdict) pair is kept.
 */
__attribute__((section("__libfuzzer_extra_counters")))
static uint8_t reached[6][XTEL_XDP_STAT_MAX][5];

/* Established DTLS peers: frames.h's default sources, port 40000. */
static const struct {
	const char *addr;
	uint32_t id;
} peer_list[NPEERS] = { { "198.18.0.2", 7 }, { "2001:2::2", 9 } };

/* ---- the reference classifier (docs/XDP.md) ---- */

struct expect {
	int outcome;		/* enum xtel_xdp_stat */
	bool limited;		/* sessionless under limits: any of three */
	bool account;		/* counted for client `id` */
	uint32_t id;
	uint32_t dlen;
	bool plain;
	uint8_t type;
	uint64_t seq;
	uint32_t meta_id;	/* AF_XDP metadata client id */
};

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The allowlist the programs with one get: 198.18.0.0/24, 2001:2::/64. */
static bool allowed(const uint8_t src[16], bool v4)
{
	static const uint8_t net6[8] = { 0x20, 0x01, 0x00, 0x02 };

	if (v4)
		return src[12] == 198 && src[13] == 18 && src[14] == 0;
	return memcmp(src, net6, 8) == 0;
}

static uint32_t peer_of(const uint8_t src[16], uint16_t port)
{
	for (int i = 0; i < NPEERS; i++) {
		uint8_t a[16] = { 0 };

		if (strchr(peer_list[i].addr, ':')) {
			inet_pton(AF_INET6, peer_list[i].addr, a);
		} else {
			a[10] = a[11] = 0xff;
			inet_pton(AF_INET, peer_list[i].addr, a + 12);
		}
		if (port == 40000 && memcmp(a, src, 16) == 0)
			return peer_list[i].id;
	}
	return 0;
}

/* Step 2, DTLS mode: the record walk. Returns 0 or the drop reason. */
static int dtls_records(const uint8_t *p, uint32_t dlen)
{
	uint32_t off = 0;

	if (dlen < 13)
		return XTEL_XDP_DROP_SHORT;
	for (int i = 0; i < 8 && off < dlen; i++) {
		const uint8_t *r = p + off;
		uint32_t ver, rlen;

		if (dlen - off < 13)
			return XTEL_XDP_DROP_DTLS_LENGTH;	/* header runs past */
		if (r[0] < 20 || r[0] > 23)
			return XTEL_XDP_DROP_DTLS_TYPE;
		ver = be16(r + 1);
		if (ver != 0xfefd && !(ver == 0xfeff && (r[0] == 22 || r[0] == 21)))
			return XTEL_XDP_DROP_DTLS_VERSION;
		if (r[0] == 23 && be16(r + 3) == 0)
			return XTEL_XDP_DROP_DTLS_EPOCH;
		rlen = be16(r + 11);
		if (rlen > dlen - off - 13)
			return XTEL_XDP_DROP_DTLS_LENGTH;
		off += 13 + rlen;
	}
	return 0;
}

static void classify(const struct prog *pr, const uint8_t *f, size_t len,
		     struct expect *e)
{
	const struct xtel_xdp_opts *o = &pr->opts;
	uint16_t port = o->port ? o->port : 7700;
	uint8_t src[16] = { 0 };
	size_t off = 14;
	uint32_t proto = be16(f + 12), ulen, dlen;
	const uint8_t *pl;
	bool v4;

	memset(e, 0, sizeof(*e));
	e->outcome = -1;
	/* 1. Ethernet, up to two VLAN tags, IPv4 or IPv6, UDP */
	for (int i = 0; i < 2 && (proto == 0x8100 || proto == 0x88a8); i++) {
		if (off + 4 > len)
			goto bad_l3;
		proto = be16(f + off + 2);
		off += 4;
	}
	if (proto == 0x0800) {
		size_t ihl;

		if (off + 20 > len)
			goto bad_l3;
		ihl = f[off] & 0x0f;
		if (ihl < 5)
			goto bad_l3;
		if (f[off + 9] != IPPROTO_UDP)
			goto not_ours;
		if (be16(f + off + 6) & 0x3fff) {
			e->outcome = XTEL_XDP_STAT_PASS_FRAGMENT;
			return;
		}
		src[10] = src[11] = 0xff;
		memcpy(src + 12, f + off + 12, 4);
		off += ihl * 4;
		v4 = true;
	} else if (proto == 0x86dd) {
		uint8_t nh;

		if (off + 40 > len)
			goto bad_l3;
		nh = f[off + 6];
		if (nh != IPPROTO_UDP) {
			switch (nh) {
			case IPPROTO_HOPOPTS: case IPPROTO_ROUTING:
			case IPPROTO_FRAGMENT: case IPPROTO_DSTOPTS:
			case IPPROTO_AH: case IPPROTO_MH:
				e->outcome = XTEL_XDP_STAT_PASS_IPV6_EXT;
				return;
			}
			goto not_ours;
		}
		memcpy(src, f + off + 8, 16);
		off += 40;
		v4 = false;
	} else {
		goto not_ours;
	}
	if (off + 8 > len)
		goto bad_l3;
	if (be16(f + off + 2) != port)
		goto not_ours;

	/* 2. the collector's port */
	if (o->allowlist && !allowed(src, v4)) {
		e->outcome = XTEL_XDP_DROP_NOT_ALLOWED;
		return;
	}
	ulen = be16(f + off + 4);
	if (ulen < 8 || off + ulen > len) {
		e->outcome = XTEL_XDP_DROP_UDP_LEN;
		return;
	}
	dlen = ulen - 8;
	pl = f + off + 8;
	if (!o->dtls) {
		if (dlen < 28)
			e->outcome = XTEL_XDP_DROP_SHORT;
		else if (be16(pl) != 0x5854)
			e->outcome = XTEL_XDP_DROP_BAD_MAGIC;
		else if (pl[2] != 1)
			e->outcome = XTEL_XDP_DROP_BAD_VERSION;
		else if (pl[3] < 1 || pl[3] > 4)
			e->outcome = XTEL_XDP_DROP_BAD_TYPE;
		else if (be16(pl + 4) != 0)
			e->outcome = XTEL_XDP_DROP_BAD_FLAGS;
		else if (be16(pl + 6) > 1200 || be16(pl + 6) != dlen - 28)
			e->outcome = XTEL_XDP_DROP_BAD_LENGTH;
		if (e->outcome >= 0)
			return;
		/* 4. counted under the header's client id */
		e->account = true;
		e->plain = true;
		e->id = (uint32_t)be16(pl + 8) << 16 | be16(pl + 10);
		e->dlen = dlen;
		e->type = pl[3];
		e->seq = be64(pl + 12);
	} else {
		int why = dtls_records(pl, dlen);
		uint32_t id;

		if (why) {
			e->outcome = why;
			return;
		}
		/* 3. sessions */
		id = peer_of(src, (uint16_t)be16(f + off));
		if (id) {
			e->account = true;
			e->id = id;
			e->dlen = dlen;
			e->meta_id = id;
		} else {
			e->limited = o->handshake_rate || o->handshake_global_rate;
		}
	}
	/* 5. deliver */
	e->outcome = o->afxdp ? XTEL_XDP_STAT_XSK_MISS : XTEL_XDP_STAT_PASSED;
	return;
bad_l3:
	e->outcome = XTEL_XDP_STAT_PASS_BAD_L3;
	return;
not_ours:
	e->outcome = XTEL_XDP_STAT_NOT_OURS;
}

/* ---- the harness ---- */

static bool bpf_unavailable(void)
{
	int r = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL);

	if (r == 1)
		return false;
	fprintf(stderr, "fuzz_xdp: XDP programs cannot be loaded here (%s): %s\n",
		r == 0 ? "not supported" : strerror(-r),
		geteuid() ? "run as root" : "kernel lacks BPF/XDP");
	return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (bpf_unavailable())
		exit(77);
	for (size_t i = 0; i < NPROGS; i++) {
		struct prog *p = &progs[i];
		int err = xtel_xdp_open(&p->x, &p->opts);

		FUZZ_CHECK(err == 0, "loading %s: %s", p->name, strerror(-err));
		if (p->opts.allowlist)
			FUZZ_CHECK(xtel_xdp_allow_add(p->x, "198.18.0.0/24") == 0 &&
				   xtel_xdp_allow_add(p->x, "2001:2::/64") == 0,
				   "allowlist of %s", p->name);
		for (int k = 0; p->peers && k < NPEERS; k++) {
			struct sockaddr_in sin = { .sin_family = AF_INET,
						   .sin_port = htons(40000) };
			struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
						     .sin6_port = htons(40000) };
			struct sockaddr *sa;

			if (strchr(peer_list[k].addr, ':')) {
				inet_pton(AF_INET6, peer_list[k].addr, &sin6.sin6_addr);
				sa = (struct sockaddr *)&sin6;
			} else {
				inet_pton(AF_INET, peer_list[k].addr, &sin.sin_addr);
				sa = (struct sockaddr *)&sin;
			}
			FUZZ_CHECK(xtel_xdp_peer_add(p->x, sa, peer_list[k].id) == 0,
				   "peer of %s", p->name);
		}
	}
	return 0;
}

/* Empty xtel_clients so that it never fills (clients_full stays 0). */
static void clear_clients(struct prog *p)
{
	int fd = xtel_xdp_map_fd(p->x, XTEL_XDP_MAP_CLIENTS);
	__u32 key;

	while (bpf_map_get_next_key(fd, NULL, &key) == 0)
		FUZZ_CHECK(bpf_map_delete_elem(fd, &key) == 0, "clearing clients");
	p->clients = 0;
}

static bool read_client(struct prog *p, uint32_t id, struct xtel_xdp_client *c)
{
	int err = xtel_xdp_read_client(p->x, id, c);

	FUZZ_CHECK(err == 0 || err == -ENOENT, "reading client %u: %d", id, err);
	if (err)
		memset(c, 0, sizeof(*c));
	return err == 0;
}

static void check_client(const struct expect *e, bool had,
			 const struct xtel_xdp_client *b,
			 const struct xtel_xdp_client *a)
{
	uint64_t gaps = b->seq_gaps, highest = b->highest_seq,
		 restarts = b->restarts;

	FUZZ_CHECK(a->packets == b->packets + 1 && a->bytes == b->bytes + e->dlen,
		   "client %u: packets %llu -> %llu, bytes %llu -> %llu (+%u)",
		   e->id, (unsigned long long)b->packets,
		   (unsigned long long)a->packets, (unsigned long long)b->bytes,
		   (unsigned long long)a->bytes, e->dlen);
	if (!e->plain) {
		FUZZ_CHECK(a->highest_seq == b->highest_seq &&
			   a->seq_gaps == b->seq_gaps && a->restarts == b->restarts,
			   "DTLS client %u: sequence fields moved", e->id);
		return;
	}
	if (!had) {
		highest = e->seq;	/* first seen: tracking starts here */
	} else if (e->type == XTEL_MSG_INIT) {
		highest = e->seq;
		restarts++;
	} else if (e->seq > highest) {
		gaps += e->seq - highest - 1 + (e->type == XTEL_MSG_BYE);
		highest = e->seq;
	}
	FUZZ_CHECK(a->highest_seq == highest && a->seq_gaps == gaps &&
		   a->restarts == restarts,
		   "client %u, type %u seq %llu: highest %llu gaps %llu restarts "
		   "%llu, expected %llu %llu %llu", e->id, e->type,
		   (unsigned long long)e->seq, (unsigned long long)a->highest_seq,
		   (unsigned long long)a->seq_gaps, (unsigned long long)a->restarts,
		   (unsigned long long)highest, (unsigned long long)gaps,
		   (unsigned long long)restarts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int verdict_of[] = {
		[XTEL_XDP_KIND_PASS] = XDP_PASS,
		[XTEL_XDP_KIND_DROP] = XDP_DROP,
		[XTEL_XDP_KIND_REDIRECT] = XDP_REDIRECT,
	};
	struct prog *p;
	struct xtel_xdp_totals before, after;
	struct xtel_xdp_client cb, ca;
	struct expect e;
	uint8_t out[MAX_FRAME + 256];
	const uint8_t *frame;
	size_t len;
	int moved = -1, err;
	bool had = false;

	if (size < 1 + ETH_HLEN)
		return 0;	/* BPF_PROG_TEST_RUN wants an Ethernet header */
	p = &progs[data[0] % NPROGS];
	frame = data + 1;
	len = size - 1 < MAX_FRAME ? size - 1 : MAX_FRAME;
	if (p->clients >= CLEAR_CLIENTS_AT)
		clear_clients(p);
	classify(p, frame, len, &e);
	if (e.account)
		had = read_client(p, e.id, &cb);
	FUZZ_CHECK(xtel_xdp_read_totals(p->x, &before) == 0, "reading stats");

	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = frame,
		.data_size_in = (__u32)len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = 1);
	err = bpf_prog_test_run_opts(xtel_xdp_prog_fd(p->x), &o);
	FUZZ_CHECK(err == 0, "BPF_PROG_TEST_RUN of %zu bytes: %s", len,
		   strerror(errno));
	FUZZ_CHECK(xtel_xdp_read_totals(p->x, &after) == 0, "reading stats");

	/* exactly one outcome, by one packet of this frame */
	for (int s = 0; s < XTEL_XDP_STAT_OUTCOMES; s++) {
		uint64_t dp = after.packets[s] - before.packets[s];
		uint64_t db = after.bytes[s] - before.bytes[s];

		if (dp == 0 && db == 0)
			continue;
		FUZZ_CHECK(moved < 0, "%s: outcomes %s and %s both moved", p->name,
			   xtel_xdp_stat_name(moved), xtel_xdp_stat_name(s));
		FUZZ_CHECK(dp == 1 && db == len, "%s: %s moved by %llu/%llu",
			   p->name, xtel_xdp_stat_name(s), (unsigned long long)dp,
			   (unsigned long long)db);
		moved = s;
	}
	FUZZ_CHECK(moved >= 0, "%s: no outcome counter moved", p->name);
	reached[p - progs][moved][o.retval < 5 ? o.retval : 0]++;
	FUZZ_CHECK((int)o.retval == verdict_of[stat_kind[moved]],
		   "%s: verdict %u for %s", p->name, o.retval,
		   xtel_xdp_stat_name(moved));

	/* the reference's outcome, and the marks beside it */
	if (e.limited)
		FUZZ_CHECK(moved == e.outcome || moved == XTEL_XDP_DROP_RATELIMIT ||
			   moved == XTEL_XDP_DROP_HS_GLOBAL,
			   "%s: %s for a sessionless datagram under limits", p->name,
			   xtel_xdp_stat_name(moved));
	else
		FUZZ_CHECK(moved == e.outcome, "%s: %s, docs/XDP.md says %s",
			   p->name, xtel_xdp_stat_name(moved),
			   xtel_xdp_stat_name(e.outcome));
	{
		bool sessionless = p->opts.dtls && !e.account &&
				   (moved == XTEL_XDP_STAT_PASSED ||
				    moved == XTEL_XDP_STAT_XSK_MISS);
		uint64_t ns = after.packets[XTEL_XDP_STAT_NO_SESSION] -
			      before.packets[XTEL_XDP_STAT_NO_SESSION];
		uint64_t full = after.packets[XTEL_XDP_STAT_CLIENTS_FULL] -
				before.packets[XTEL_XDP_STAT_CLIENTS_FULL];

		FUZZ_CHECK(ns == (sessionless ? 1u : 0u) &&
			   after.bytes[XTEL_XDP_STAT_NO_SESSION] -
			   before.bytes[XTEL_XDP_STAT_NO_SESSION] == ns * len,
			   "%s: no_session moved by %llu for %s", p->name,
			   (unsigned long long)ns, xtel_xdp_stat_name(moved));
		FUZZ_CHECK(full == 0, "%s: clients_full moved", p->name);
	}

	/* per client */
	if (e.account && moved == e.outcome) {
		bool has = read_client(p, e.id, &ca);

		FUZZ_CHECK(has, "%s: client %u not counted", p->name, e.id);
		p->clients += !had;
		check_client(&e, had, &cb, &ca);
	} else if (e.account) {
		read_client(p, e.id, &ca);
		FUZZ_CHECK(memcmp(&ca, &cb, sizeof(ca)) == 0,
			   "%s: client %u moved for a frame not delivered", p->name,
			   e.id);
	}

	/* the frame itself, and the AF_XDP metadata */
	if (p->opts.afxdp && moved == XTEL_XDP_STAT_XSK_MISS) {
		struct xtel_xdp_meta m;

		FUZZ_CHECK(o.data_size_out == len + sizeof(m),
			   "%s: %u bytes out, %zu in + metadata", p->name,
			   o.data_size_out, len);
		memcpy(&m, out, sizeof(m));
		FUZZ_CHECK(m.magic == XTEL_XDP_META_MAGIC && m.client_id == e.meta_id,
			   "%s: metadata magic %#x client %u, expected client %u",
			   p->name, m.magic, m.client_id, e.meta_id);
		FUZZ_CHECK(memcmp(out + sizeof(m), frame, len) == 0,
			   "%s: frame changed", p->name);
	} else {
		FUZZ_CHECK(o.data_size_out == len && memcmp(out, frame, len) == 0,
			   "%s: frame changed (%u bytes out of %zu)", p->name,
			   o.data_size_out, len);
	}
	return 0;
}
