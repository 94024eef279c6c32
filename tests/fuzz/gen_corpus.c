// SPDX-License-Identifier: MIT
/*
 * Writes the seed corpora of tests/fuzz (corpus/<harness>/) from real
 * inputs: the datagrams of docs/PROTOCOL.md and one per decoder reason
 * (wire), records such as the collector pushes after decoding them (csv),
 * report members like the summary's (json), the frames of the bpf tier's
 * fixture tables built with tests/lib/frames.h (xdp), and programs of the
 * DTLS harness whose raw datagrams come from a real handshake run here
 * with the test certificates (dtls). Each file is named after what it is.
 * The committed corpus was made with this program; run it again after a
 * harness's input format changes (tests/fuzz/README.md):
 *
 *     build-fuzz/tests/fuzz/fuzz_gen_corpus tests/fuzz/corpus
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dtls_harness.h"
#include "frames.h"
#include "wire/wire.h"

static const char *outdir;
static int files;

/* ---- a growing byte buffer ---- */

struct buf {
	uint8_t b[8192];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > sizeof(b->b)) {
		fprintf(stderr, "gen_corpus: seed too large\n");
		exit(1);
	}
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void u8(struct buf *b, unsigned int v)
{
	uint8_t c = (uint8_t)v;

	put(b, &c, 1);
}

static void u16le(struct buf *b, unsigned int v)
{
	u8(b, v & 0xff);
	u8(b, v >> 8);
}

static void u64le(struct buf *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		u8(b, (unsigned int)(v >> (8 * i)));
}

static void f64(struct buf *b, double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	u64le(b, v);
}

static void save(const char *dir, const char *name, const struct buf *b)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(b->b, 1, b->n, f) != b->n || fclose(f) != 0) {
		fprintf(stderr, "gen_corpus: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	files++;
}

/* ---- wire: datagrams (mode byte 0) and payloads (mode byte 1 + 2*type) ---- */

static void wire_dgram(const char *name, uint8_t type, uint32_t id, uint64_t seq,
		       uint64_t ts, const char *payload)
{
	struct buf b = { .n = 0 };
	uint8_t d[XTEL_MAX_DATAGRAM];
	ssize_t n = xtel_wire_encode(d, sizeof(d), type, id, seq, ts, payload,
				     strlen(payload));

	u8(&b, 0);
	put(&b, d, (size_t)n);
	save("wire", name, &b);
}

/* A datagram, then edited: byte at off set to v. */
static void wire_edit(const char *name, size_t off, uint8_t v, int cut)
{
	struct buf b = { .n = 0 };
	uint8_t d[XTEL_MAX_DATAGRAM];
	ssize_t n = xtel_wire_encode(d, sizeof(d), XTEL_MSG_DATA, 42, 7,
				     1763700000123456789ull, "CPU=72.3", 8);

	if (off < (size_t)n)
		d[off] = v;
	u8(&b, 0);
	put(&b, d, (size_t)n + (size_t)cut);
	save("wire", name, &b);
}

static void wire_payload(const char *name, const char *payload)
{
	struct buf b = { .n = 0 };

	u8(&b, 1 + 2 * 2);	/* DATA */
	put(&b, payload, strlen(payload));
	save("wire", name, &b);
}

static void gen_wire(void)
{
	char many[400] = "";

	/* docs/PROTOCOL.md section 10 */
	wire_dgram("doc-data", XTEL_MSG_DATA, 42, 7, 1763700000123456789ull,
		   "CPU=72.3;MEM=41.2;TEMP=67.5");
	wire_dgram("doc-bye", XTEL_MSG_BYE, 42, 7, 1763700001000000000ull, "");
	wire_dgram("init", XTEL_MSG_INIT, 1, 0, 1, "");
	wire_dgram("heartbeat", XTEL_MSG_HEARTBEAT, 4294967295u, 1, 0, "");
	/* one per header reason */
	wire_edit("truncated", 0, 0x58, -9);
	wire_edit("bad-magic", 1, 0x55, 0);
	wire_edit("bad-version", 2, 2, 0);
	wire_edit("unknown-type", 3, 5, 0);
	wire_edit("bad-flags", 5, 1, 0);
	wire_edit("payload-too-large", 6, 0x04, 0);
	wire_edit("length-mismatch", 7, 9, 0);
	/* the grammar: section 3's examples and section 4's consequences */
	wire_payload("values-valid", "a=72.3;b=-4;c=+4.5;d=.5;e=5.;f=1.5e3;"
		     "g=-2.5E-3;h=1.e+2;i=000123.4500;j=-0;k=1e-400");
	wire_payload("value-empty", "a=");
	wire_payload("value-sign", "a=-");
	wire_payload("value-dot", "a=.");
	wire_payload("value-e", "a=1e");
	wire_payload("value-e5", "a=e5");
	wire_payload("value-comma", "a=1,5");
	wire_payload("value-space", "a= 1");
	wire_payload("value-dots", "a=1.2.3");
	wire_payload("value-hex", "a=0x10");
	wire_payload("value-nan", "a=nan");
	wire_payload("value-overflow", "a=1e999");
	wire_payload("value-long", "a=123456789012345678901234567890123");
	wire_payload("value-slow-path", "a=9007199254740993;b=0.1e-22;"
		     "c=12345678901234567890");
	wire_payload("equals-twice", "a=1=2");
	wire_payload("key-empty", "=1");
	wire_payload("key-long", "abcdefghijklmnopqrstuvwxyz0123456=1");
	wire_payload("key-byte", "a b=1");
	wire_payload("trailing-semicolon", "a=1;");
	wire_payload("empty-pair", "a=1;;b=2");
	wire_payload("no-equals", "a");
	wire_payload("duplicate", "CPU=1;cpu=2;CPU=3");
	wire_payload("bad-before-duplicate", "a=1;a=x");
	for (int i = 0; i < 32; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "%sk%d=%d", i ? ";" : "", i, i);
	wire_payload("32-pairs", many);
	strcat(many, ";");
	wire_payload("32-pairs-semicolon", many);
	strcat(many, "x");
	wire_payload("33-pairs", many);
}

/* ---- csv: records as fuzz_csv reads them ---- */

struct csv_metric {
	const char *key;
	size_t key_len;
	double v;
};

static void csv_rec(struct buf *b, uint8_t type, uint32_t id, uint64_t seq,
		    unsigned int verdict, int64_t lat,
		    const struct csv_metric *m, unsigned int n)
{
	u8(b, type);
	u8(b, id & 0xff); u8(b, id >> 8 & 0xff); u8(b, id >> 16 & 0xff); u8(b, id >> 24);
	u64le(b, seq);
	u64le(b, 1763700000123456789ull);	/* send_ts */
	u64le(b, 1763700000123463739ull);	/* arrival */
	u8(b, verdict);
	u64le(b, seq > 1 ? 1 : 0);		/* gap */
	u64le(b, (uint64_t)lat);
	u8(b, n);
	for (unsigned int i = 0; i < n; i++) {
		u8(b, (unsigned int)m[i].key_len);
		put(b, m[i].key, m[i].key_len);
		f64(b, m[i].v);
	}
}

static void gen_csv(void)
{
	static const struct csv_metric doc[] = {
		{ "CPU", 3, 72.3 }, { "MEM", 3, 41.2 }, { "TEMP", 4, 67.5 },
	};
	static const struct csv_metric digits[] = {
		{ "sixteen", 7, 0.7999999999999999 }, { "seventeen", 9, 0.1 + 0.2 },
		{ "subnormal", 9, 4.9406564584124654e-324 }, { "neg0", 4, -0.0 },
		{ "big", 3, 1.7976931348623157e308 }, { "int", 3, 9007199254740993.0 },
	};
	static const struct csv_metric hostile[] = {
		{ "a,b", 3, 1 }, { "q\"uote", 6, 2 }, { "line\nfeed", 9, 3 },
		{ "cr\rx", 4, 4 }, { "nul\0x", 5, 5 }, { "\xff\xfe", 2, 6 },
	};
	struct buf b = { .n = 0 };

	u8(&b, 0);
	csv_rec(&b, XTEL_MSG_DATA, 42, 7, 0, 6950, doc, 3);
	save("csv", "doc-row", &b);

	b.n = 0;
	u8(&b, 4);
	csv_rec(&b, XTEL_MSG_INIT, 7, 0, 4, 100, NULL, 0);
	csv_rec(&b, XTEL_MSG_DATA, 7, 1, 0, -5, doc, 1);
	csv_rec(&b, XTEL_MSG_DATA, 7, 1, 2, 12, doc, 1);
	csv_rec(&b, XTEL_MSG_HEARTBEAT, 7, 3, 1, 0, NULL, 0);
	csv_rec(&b, XTEL_MSG_BYE, 7, 3, 3, INT64_MIN, NULL, 0);
	save("csv", "every-verdict", &b);

	b.n = 0;
	u8(&b, 0);
	csv_rec(&b, XTEL_MSG_DATA, 1, 1, 0, 1, digits, 6);
	save("csv", "shortest-digits", &b);

	b.n = 0;
	u8(&b, 0);
	csv_rec(&b, XTEL_MSG_DATA, 1, 1, 0, 1, hostile, 6);
	save("csv", "hostile-keys", &b);

	b.n = 0;
	u8(&b, 0);
	{
		struct csv_metric full[32];
		static char keys[32][33];

		for (int i = 0; i < 32; i++) {
			memset(keys[i], 'a' + i % 26, 32);
			keys[i][0] = (char)('A' + i % 26);
			full[i] = (struct csv_metric){ keys[i], 32, -1e-300 * i };
		}
		csv_rec(&b, 0xff, UINT32_MAX, UINT64_MAX, 5, INT64_MAX, full, 32);
	}
	save("csv", "largest-record", &b);
}

/* ---- json: entries as fuzz_json reads them ---- */

static void json_entry(struct buf *b, unsigned int kind, const char *key,
		       const char *text, double d, unsigned int decimals,
		       uint64_t u, unsigned int rows)
{
	u8(b, kind);
	u8(b, (unsigned int)strlen(key));
	put(b, key, strlen(key));
	u8(b, (unsigned int)strlen(text));
	put(b, text, strlen(text));
	f64(b, d);
	u8(b, decimals);
	u64le(b, u);
	u8(b, rows);
}

static void gen_json(void)
{
	struct buf b = { .n = 0 };

	/* a client of the summary: text, counters, latency, a metric */
	json_entry(&b, 0, "state", "active", 0, 0, 0, 0);
	json_entry(&b, 3, "received", "", 0, 0, 1000, 0);
	json_entry(&b, 2, "loss_pct", "", 0.123456789, 6, 0, 0);
	json_entry(&b, 2, "p99", "", 1234.5675, 3, 0, 0);
	json_entry(&b, 4, "CPU", "", 72.3, 0, 3, 0);
	save("json", "summary-client", &b);

	b.n = 0;
	json_entry(&b, 0, "interface", "veth\xff" "0", 0, 0, 0, 0);
	json_entry(&b, 0, "pin_dir", "/run/\xe2\x82\xac\xed\xa0\x80\xf4\x90", 0, 0, 0, 0);
	json_entry(&b, 0, "error", "\x01\x1f\"\\\x7f", 0, 0, 0, 0);
	save("json", "hostile-text", &b);

	b.n = 0;
	json_entry(&b, 1, "nan", "", __builtin_nan(""), 0, 0, 0);
	json_entry(&b, 1, "inf", "", __builtin_inf(), 0, 0, 0);
	json_entry(&b, 1, "neg0", "", -0.0, 0, 0, 0);
	json_entry(&b, 1, "tiny", "", 4.9406564584124654e-324, 0, 0, 0);
	json_entry(&b, 2, "fixed-big", "", 1.7976931348623157e308, 200, 0, 0);
	json_entry(&b, 2, "fixed-tie", "", 0.0005, 3, 0, 0);
	json_entry(&b, 3, "u64-max", "", 0, 0, UINT64_MAX, 0);
	json_entry(&b, 3, "i64-max", "", 0, 0, INT64_MAX, 0);
	save("json", "numbers", &b);

	b.n = 0;
	json_entry(&b, 5, "xdp_clients", "c", 1, 0, 2, 3);
	json_entry(&b, 5, "empty", "", 0, 0, 0, 0);
	json_entry(&b, 6, "afxdp", "", 0, 0, 0, 0);
	save("json", "rows", &b);

	b.n = 0;
	json_entry(&b, 0, "k\xc3", "x", 0, 0, 0, 0);
	json_entry(&b, 0, "dup", "first", 0, 0, 0, 0);
	json_entry(&b, 3, "dup", "", 0, 0, 5, 0);
	save("json", "bad-key", &b);

	b.n = 0;
	json_entry(&b, 0, "dup", "first", 0, 0, 0, 0);
	json_entry(&b, 3, "dup", "", 0, 0, 5, 0);
	json_entry(&b, 0, "\xe2\x82\xac", "euro key", 0, 0, 0, 0);
	save("json", "duplicate-key", &b);
}

/* ---- xdp: the bpf tier's frames, byte 0 picks the program ---- */

enum { P_PLAIN, P_DTLS, P_PLAIN_ALLOW, P_DTLS_AFXDP, P_PLAIN_AFXDP, P_LIMITS };

static void xdp_frame(const char *name, unsigned int prog, const struct frame_spec *s)
{
	struct buf b = { .n = 0 };
	uint8_t f[FRAME_MAX];
	size_t dlen, len = frame_build(f, s, &dlen);

	u8(&b, prog);
	put(&b, f, len);
	save("xdp", name, &b);
}

#define PLAIN(...) .plain = { __VA_ARGS__ }

static void gen_xdp(void)
{
	const struct { const char *name; unsigned int prog; struct frame_spec f; } rows[] = {
		{ "plain-init", P_PLAIN, { .ipv = 4, PLAIN(.type = XTEL_MSG_INIT, .client = 1, .body = 10) } },
		{ "plain-vlan-data", P_PLAIN, { .ipv = 4, .vlans = 1, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .seq = 1, .body = 20) } },
		{ "plain-qinq-v6-bye", P_PLAIN, { .ipv = 6, .vlans = 2, PLAIN(.type = XTEL_MSG_BYE, .client = 1, .seq = 4) } },
		{ "plain-v4-options", P_PLAIN, { .ipv = 4, .ip_opts = 40, PLAIN(.type = XTEL_MSG_DATA, .client = 2, .seq = 9) } },
		{ "plain-padding", P_PLAIN, { .ipv = 4, .pad = 6, PLAIN(.type = XTEL_MSG_DATA, .client = 2, .seq = 10) } },
		{ "plain-max-payload", P_PLAIN, { .ipv = 6, PLAIN(.type = XTEL_MSG_DATA, .client = 2, .seq = 11, .body = 1200) } },
		{ "plain-short", P_PLAIN, { .ipv = 4, .raw = 27 } },
		{ "plain-bad-magic", P_PLAIN, { .ipv = 4, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .magic = 0x5855) } },
		{ "plain-bad-length", P_PLAIN, { .ipv = 4, PLAIN(.type = XTEL_MSG_DATA, .client = 1, .body = 5, .len_delta = 1) } },
		{ "plain-udp-len-7", P_PLAIN, { .ipv = 4, .udp_len_delta = -8 - 28 + 7, PLAIN(.type = XTEL_MSG_DATA, .client = 1) } },
		{ "other-port", P_PLAIN, { .ipv = 4, .dport = 7701, .raw = 3 } },
		{ "arp", P_PLAIN, { .ipv = 0 } },
		{ "three-vlans", P_PLAIN, { .ipv = 4, .vlans = 3, PLAIN(.type = XTEL_MSG_DATA, .client = 1) } },
		{ "v4-fragment", P_PLAIN, { .ipv = 4, .frag = 0x2000, PLAIN(.type = XTEL_MSG_DATA, .client = 1) } },
		{ "v6-hop-by-hop", P_PLAIN, { .ipv = 6, .proto1 = IPPROTO_HOPOPTS + 1, .raw = 40 } },
		{ "v4-ihl-4", P_PLAIN, { .ipv = 4, .ihl = 4, .raw = 40 } },
		{ "udp-header-cut", P_PLAIN, { .ipv = 6, .raw = 40, .cut = 14 + 40 + 6 } },
		{ "dtls-client-hello", P_DTLS, { .ipv = 4, .recs = { { 22, 0xfeff, 0, 120 } } } },
		{ "dtls-flight", P_DTLS, { .ipv = 6, .vlans = 2, .recs = { { 22, 0xfefd, 0, 300 }, { 20, 0xfefd, 0, 1 }, { 22, 0xfefd, 1, 40 } } } },
		{ "dtls-peer-appdata", P_DTLS, { .ipv = 4, .recs = { { 23, 0xfefd, 1, 100 } } } },
		{ "dtls-v6-peer", P_DTLS, { .ipv = 6, .recs = { { 23, 0xfefd, 1, 50 } } } },
		{ "dtls-type-24", P_DTLS, { .ipv = 6, .recs = { { 24, 0xfefd, 1, 20 } } } },
		{ "dtls-appdata-v10", P_DTLS, { .ipv = 4, .recs = { { 23, 0xfeff, 1, 20 } } } },
		{ "dtls-epoch-0-appdata", P_DTLS, { .ipv = 4, .recs = { { 23, 0xfefd, 0, 20 } } } },
		{ "dtls-record-past-end", P_DTLS, { .ipv = 4, .recs = { { 23, 0xfefd, 1, 20, 1 } } } },
		{ "dtls-trailing", P_DTLS, { .ipv = 4, .recs = { { 23, 0xfefd, 1, 20 } }, .trailing = 5 } },
		{ "allow-outside-v4", P_PLAIN_ALLOW, { .ipv = 4, .src = "198.18.1.5", PLAIN(.type = XTEL_MSG_DATA, .client = 3, .seq = 1) } },
		{ "allow-inside-v6", P_PLAIN_ALLOW, { .ipv = 6, .vlans = 1, .src = "2001:2::77", PLAIN(.type = XTEL_MSG_DATA, .client = 3, .seq = 1) } },
		{ "afxdp-dtls-peer", P_DTLS_AFXDP, { .ipv = 4, .recs = { { 23, 0xfefd, 1, 100 } } } },
		{ "afxdp-plain-4433", P_PLAIN_AFXDP, { .ipv = 6, .dport = 4433, PLAIN(.type = XTEL_MSG_INIT, .client = 5) } },
		{ "limits-hello", P_LIMITS, { .ipv = 4, .src = "198.18.1.9", .recs = { { 22, 0xfeff, 0, 100 } } } },
		{ "limits-peer", P_LIMITS, { .ipv = 4, .recs = { { 23, 0xfefd, 1, 30 } } } },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		xdp_frame(rows[i].name, rows[i].prog, &rows[i].f);
}

/* ---- dtls: programs of fuzz_dtls (see its op list) ---- */

enum { OP_RAW, OP_SEAL, OP_REPLAY, OP_HANDSHAKE, OP_PUMP, OP_ADVANCE, OP_CLOSE, OP_LOSE };

/* Real datagrams of a handshake, made once by capture(). */
static struct pkt *hello, *hello_cookie, *flight5, *appdata, *closing;

static void raw(struct buf *b, unsigned int peer, const void *d, size_t n)
{
	u8(b, OP_RAW);
	u8(b, peer);
	u16le(b, (unsigned int)n);
	put(b, d, n);
}

/* seal: slot, kind (0 valid, 1 other id, 2 raw bytes), no edits, peer */
static void seal(struct buf *b, unsigned int slot, unsigned int kind,
		 unsigned int peer_byte)
{
	u8(b, OP_SEAL);
	u8(b, slot);
	u8(b, kind);
	if (kind == 2) {
		u16le(b, 39);	/* 1 + 39 bytes */
		put(b, "free-form plaintext, not a telemetry dgr", 40);
	}
	u8(b, 0);
	u8(b, peer_byte);
}

/* seal with one edit of the given kind (0 xor, 1 set, 2 cut, 3 double) */
static void seal_edit(struct buf *b, unsigned int slot, unsigned int edit,
		      unsigned int off, unsigned int v)
{
	u8(b, OP_SEAL);
	u8(b, slot);
	u8(b, 0);
	u8(b, 1);
	u8(b, edit);
	u16le(b, off);
	u8(b, v);
	u8(b, 0);
}

/* seal plen bytes of free-form plaintext, the record doubled in its datagram */
static void seal_doubled(struct buf *b, unsigned int slot, unsigned int plen)
{
	u8(b, OP_SEAL);
	u8(b, slot);
	u8(b, 2);
	u16le(b, plen - 1);
	for (unsigned int i = 0; i < plen; i++)
		u8(b, 'a' + i % 26);
	u8(b, 1);
	u8(b, 3);	/* doubled */
	u16le(b, 0);
	u8(b, 0);
	u8(b, 0);
}

static void handshake(struct buf *b, unsigned int slot, unsigned int cert,
		      unsigned int rounds)
{
	u8(b, OP_HANDSHAKE);
	u8(b, slot);
	u8(b, cert);
	u8(b, rounds);
}

static void op_advance(struct buf *b, unsigned int step)
{
	u8(b, OP_ADVANCE);
	u8(b, step);
}

static void replay(struct buf *b, unsigned int k, unsigned int own, unsigned int pick)
{
	u8(b, OP_REPLAY);
	u8(b, k);
	u8(b, 0);	/* no edits */
	u8(b, own);
	u8(b, pick);
}

static struct pkt *copy_pkt(const struct pkt *p)
{
	struct pkt *c = malloc(sizeof(*c));

	if (c == NULL)
		exit(1);
	*c = *p;
	return c;
}

/* One real handshake, keeping the datagrams the seeds replay raw. */
static void capture(const char *src_root)
{
	struct net *n;
	int first = 1;

	if (dtls_harness_setup(src_root) != 0)
		exit(1);
	n = net_create_mode(&mode_own, NULL);
	add_client(n, 1);
	/* ClientHello, then the one with the cookie, then the final flight */
	for (int step = 0; step < 3; step++) {
		ssize_t len;
		struct pkt p;

		while ((len = xtel_dtls_client_pop(n->cl[0].c, p.data,
						   sizeof(p.data))) > 0) {
			p.len = (size_t)len;
			if (step == 0)
				hello = copy_pkt(&p);
			else if (step == 1)
				hello_cookie = copy_pkt(&p);
			else if (first && p.data[0] == XTEL_DTLS_CT_HANDSHAKE &&
				 p.len > 400) {
				flight5 = copy_pkt(&p);	/* Certificate... */
				first = 0;
			}
			feed(n, 0, &p);
		}
		for (int k = 0; k < n->nq; k++)
			xtel_dtls_client_input(n->cl[0].c, n->q[k].data,
					       n->q[k].len, fake_now);
		n->nq = 0;
	}
	pump(n);
	appdata = capture_record(n, 1);
	xtel_dtls_client_close(n->cl[0].c);
	{
		struct pkt p;
		ssize_t len = xtel_dtls_client_pop(n->cl[0].c, p.data, sizeof(p.data));

		p.len = len > 0 ? (size_t)len : 0;
		closing = copy_pkt(&p);
	}
	net_free(n);
	dtls_harness_cleanup();
	if (!hello || !hello_cookie || !flight5 || !appdata || !closing->len) {
		fprintf(stderr, "gen_corpus: handshake capture incomplete\n");
		exit(1);
	}
}

static void gen_dtls(const char *src_root)
{
	static const unsigned char alert0[] = {
		21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 2, 2, 40,
	};
	struct buf b;

	capture(src_root);

	/* three clients, one valid record each; one names another id */
	b.n = 0;
	u8(&b, 3); u8(&b, 0);
	seal(&b, 0, 0, 0); seal(&b, 1, 0, 0); seal(&b, 2, 1, 0); seal(&b, 2, 2, 0);
	save("dtls", "three-clients-seal", &b);

	/* the same with OpenSSL's record layer and each suite */
	for (unsigned int suite = 0; suite < 4; suite++) {
		char name[64];

		b.n = 0;
		u8(&b, 2 | suite << 3); u8(&b, 0);
		seal(&b, 0, 0, 0); seal(&b, 1, 0, 0);
		snprintf(name, sizeof(name), "builtin-suite-%u", suite);
		save("dtls", name, &b);
		b.b[0] |= 4;
		snprintf(name, sizeof(name), "openssl-records-suite-%u", suite);
		save("dtls", name, &b);
	}

	/* a record edited in its header, its body, cut, doubled */
	b.n = 0;
	u8(&b, 1); u8(&b, 0);
	seal_edit(&b, 0, 0, 0, 1);	/* type */
	seal_edit(&b, 0, 0, 4, 1);	/* epoch */
	seal_edit(&b, 0, 0, 10, 0x80);	/* sequence */
	seal_edit(&b, 0, 0, 12, 1);	/* length */
	seal_edit(&b, 0, 0, 40, 0x20);	/* ciphertext */
	seal_edit(&b, 0, 2, 30, 0);	/* cut */
	seal_edit(&b, 0, 3, 0, 0);	/* doubled */
	save("dtls", "sealed-edits", &b);
	b.b[0] |= 4;
	save("dtls", "sealed-edits-openssl", &b);

	/*
	 * records doubled in one datagram: up to a slot (with AES-GCM 713
	 * bytes of plaintext) the first copy delivered, the second a replay;
	 * over it the datagram dropped as oversize (fuzz_dtls's first
	 * finding: 838 bytes, a record of 875 doubled to 1750)
	 */
	b.n = 0;
	u8(&b, 2); u8(&b, 0);
	seal_doubled(&b, 0, 713);
	seal_doubled(&b, 0, 714);
	seal_doubled(&b, 1, 838);
	save("dtls", "sealed-doubled-sizes", &b);

	/* a record from the wrong address, then replays of everything */
	b.n = 0;
	u8(&b, 2); u8(&b, 0);
	seal(&b, 0, 0, 1 | 1 << 1);	/* from client 1's address */
	seal(&b, 0, 0, 1 | 6 << 1);	/* from client 0 as IPv4-mapped IPv6 */
	seal(&b, 0, 0, 0);
	for (unsigned int k = 0; k < 10; k++)
		replay(&b, 47 - k, k % 7, k & 1 ? 0 : 1 | (k % 7) << 1);
	save("dtls", "wrong-peer-and-replays", &b);

	/* real handshake datagrams of another server: stale cookies, bad MACs */
	b.n = 0;
	u8(&b, 1); u8(&b, 0);
	raw(&b, 3, hello->data, hello->len);
	raw(&b, 3, hello_cookie->data, hello_cookie->len);
	raw(&b, 0, hello_cookie->data, hello_cookie->len);
	raw(&b, 0, flight5->data, flight5->len);
	raw(&b, 0, appdata->data, appdata->len);
	raw(&b, 0, closing->data, closing->len);
	raw(&b, 6, hello->data, hello->len);
	raw(&b, 4, alert0, sizeof(alert0));
	raw(&b, 5, alert0, 12);
	save("dtls", "foreign-datagrams", &b);

	/* one byte over the slot size, from a client and from a stranger */
	b.n = 0;
	u8(&b, 1); u8(&b, 0);
	{
		static unsigned char big[XTEL_DGRAM_SLOT_SIZE + 1];

		memcpy(big, appdata->data, appdata->len);
		raw(&b, 0, big, sizeof(big));
		memcpy(big, hello->data, hello->len);
		raw(&b, 3, big, sizeof(big));
	}
	save("dtls", "oversize", &b);

	/* client restarts: complete, partial, superseded */
	b.n = 0;
	u8(&b, 2); u8(&b, 0);
	handshake(&b, 0, 0, 7);
	seal(&b, 0, 0, 0);
	handshake(&b, 1, 0, 2);
	seal(&b, 1, 0, 0);
	handshake(&b, 1, 0, 1);
	u8(&b, OP_PUMP);
	seal(&b, 1, 0, 0);
	save("dtls", "restarts", &b);

	/* strangers with every certificate, then a record from one */
	b.n = 0;
	u8(&b, 0); u8(&b, 0);
	for (unsigned int c = 0; c < 6; c++)
		handshake(&b, 3 + c % 3, c, 7);
	handshake(&b, 3, 0, 7);
	seal(&b, 3, 0, 0);
	save("dtls", "stranger-certificates", &b);

	/* small tables: caps, per-source limit, eviction after a second */
	b.n = 0;
	u8(&b, 32 | 1); u8(&b, 0);
	handshake(&b, 3, 0, 2);		/* half-open: its flight 5 lost */
	u8(&b, OP_LOSE);
	handshake(&b, 4, 1, 2);
	u8(&b, OP_LOSE);
	handshake(&b, 5, 0, 2);		/* shares slot 3's /64 */
	u8(&b, OP_LOSE);
	op_advance(&b, 3);
	handshake(&b, 2, 0, 7);
	u8(&b, OP_PUMP);
	save("dtls", "small-tables", &b);

	/* lost flights, retransmission, handshake and idle timeouts */
	b.n = 0;
	u8(&b, 1); u8(&b, 0);
	handshake(&b, 4, 0, 2);
	u8(&b, OP_LOSE);
	op_advance(&b, 3);		/* the server retransmits */
	u8(&b, OP_LOSE);
	op_advance(&b, 5);		/* handshake timeout */
	handshake(&b, 5, 1, 2);
	u8(&b, OP_LOSE);
	op_advance(&b, 3);
	u8(&b, OP_PUMP);		/* completes after the loss */
	op_advance(&b, 8);
	seal(&b, 0, 0, 0);
	op_advance(&b, 9);
	u8(&b, OP_PUMP);
	seal(&b, 0, 0, 0);
	save("dtls", "timeouts", &b);

	/* short timeouts, close_notify both ways, free without shutdown */
	b.n = 0;
	u8(&b, 128 | 3); u8(&b, 1);
	u8(&b, OP_CLOSE); u8(&b, 0);
	seal(&b, 0, 0, 0);
	op_advance(&b, 4);
	u8(&b, OP_PUMP);
	seal(&b, 1, 0, 0);
	save("dtls", "close-and-expire", &b);

	/* no client id check: a record naming another client is delivered */
	b.n = 0;
	u8(&b, 64 | 1); u8(&b, 0);
	seal(&b, 0, 1, 0);
	seal(&b, 0, 2, 0);
	save("dtls", "no-client-id-check", &b);

	/* short datagrams and datagrams without a session */
	b.n = 0;
	u8(&b, 0); u8(&b, 0);
	raw(&b, 0, "", 0);
	raw(&b, 1, alert0, 12);
	raw(&b, 2, alert0, sizeof(alert0));
	raw(&b, 3, hello->data, 40);
	save("dtls", "no-session", &b);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0755);
	gen_wire();
	gen_csv();
	gen_json();
	gen_xdp();
	gen_dtls(XTEL_SOURCE_ROOT);
	printf("gen_corpus: %d files in %s\n", files, outdir);
	return 0;
}
