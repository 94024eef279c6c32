// SPDX-License-Identifier: MIT
/*
 * Unit tests of the built-in record layer's per-worker decrypt contexts
 * (struct dtls_rl_cache, userspace/dtls/record.c): more sessions than
 * slots alternating records, each decrypted right under every cipher; a
 * slot that a freed session's successor takes never opens the old key's
 * records; tampered records still fail on a cached and on a re-keyed
 * context; and, through a real server and clients, the hit and re-key
 * counters (aead_ctx_hits, aead_ctx_rekeys) counting every record opened
 * exactly once.
 *
 * usage: test_dtls_rl_cache SOURCE_ROOT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/xtel_wire.h"
#include "dtls/internal.h"
#include "dtls/record.h"
#include "dtls_harness.h"

#include <openssl/crypto.h>

enum {
	SESSIONS = 3 * DTLS_RL_CACHE_SLOTS / 2 + 7,	/* over the slots */
	PT_LEN = 100,
	REC_MAX = XTEL_DTLS_HDR_LEN + DTLS_GCM_EXPLICIT + PT_LEN + DTLS_AEAD_TAG,
};

/* One session's two ends: the client's sealing keys, the server's. */
struct pair {
	struct dtls_rl_keys cl, srv;
};

/*
 * Keys of cipher c (0 AES-128-GCM, 1 AES-256-GCM, 2 ChaCha20-Poly1305),
 * distinct for each seed: the client seals with what the server opens.
 */
static void make_pair(struct pair *p, const struct dtls_rl_algs *a, int c,
		      unsigned int seed)
{
	memset(p, 0, sizeof(*p));
	p->srv.cipher = c == 0 ? a->aes128gcm : c == 1 ? a->aes256gcm : a->chacha;
	assert_non_null(p->srv.cipher);
	p->srv.key_len = c == 0 ? 16 : 32;
	p->srv.chacha = c == 2;
	for (unsigned int i = 0; i < sizeof(p->srv.rx_key); i++)
		p->srv.rx_key[i] = (unsigned char)(seed * 131 + i * 7 + 1);
	for (unsigned int i = 0; i < sizeof(p->srv.rx_iv); i++)
		p->srv.rx_iv[i] = (unsigned char)(seed * 17 + i + 3);
	p->cl = p->srv;
	memcpy(p->cl.tx_key, p->srv.rx_key, sizeof(p->cl.tx_key));
	memcpy(p->cl.tx_iv, p->srv.rx_iv, sizeof(p->cl.tx_iv));
	p->cl.tx_seq = 1;
}

/* The client's next record of p: PT_LEN bytes of (seed, seq). */
static int seal(struct pair *p, unsigned int seed, unsigned char *rec)
{
	unsigned char pt[PT_LEN];

	memset(pt, (int)(seed ^ p->cl.tx_seq), sizeof(pt));
	memcpy(pt, &seed, sizeof(seed));
	return dtls_rl_seal(&p->cl, XTEL_DTLS_CT_APPDATA, pt, sizeof(pt), rec,
			    REC_MAX);
}

/* Open rec with the server's keys of p; the plaintext must be seed's. */
static int open_check(struct dtls_rl_cache *c, struct pair *p,
		      unsigned int seed, const unsigned char *rec, int len,
		      bool *rekeyed)
{
	unsigned char out[256];
	unsigned int got;
	int n;

	*rekeyed = false;
	n = dtls_rl_open(c, &p->srv, rec,
			 (size_t)len - XTEL_DTLS_HDR_LEN, out, sizeof(out),
			 rekeyed);
	if (n < 0)
		return n;
	assert_int_equal(n, PT_LEN);
	memcpy(&got, out, sizeof(got));
	assert_int_equal(got, seed);
	return n;
}

/*
 * Each test runs twice (its prestate): with the cache the server makes,
 * whose GCM slots go through the provider's functions, and with a zeroed
 * cache, all through the EVP calls.
 */
static bool prov_of(void **state)
{
	return *state != NULL && *(const int *)*state;
}

/* A cache and the server's algorithms, as a server makes them (prov). */
static struct dtls_rl_cache *cache_new(struct dtls_rl_algs *a, bool prov)
{
	struct dtls_rl_cache *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	dtls_rl_algs_fetch(a);
	/* The self-test keeps every cipher of the default provider. */
	assert_non_null(a->aes128gcm);
	assert_non_null(a->aes256gcm);
	assert_non_null(a->chacha);
	if (prov) {
		assert_non_null(a->gcm128.newctx);
		assert_non_null(a->gcm256.newctx);
		dtls_rl_cache_init(c, a);
	}
	return c;
}

/* Which way k's slot in c opened: through the provider's functions. */
static void assert_way(const struct dtls_rl_cache *c,
		       const struct dtls_rl_keys *k, bool prov)
{
	const struct dtls_rl_slot *sl = &c->slot[k->id % DTLS_RL_CACHE_SLOTS];

	assert_int_equal(sl->gcm != NULL, prov && !k->chacha);
	assert_int_equal(sl->pctx != NULL, prov && !k->chacha);
}

static void cache_done(struct dtls_rl_cache *c, struct dtls_rl_algs *a)
{
	dtls_rl_cache_free(c);
	free(c);
	dtls_rl_algs_free(a);
}

/*
 * SESSIONS sessions of one cipher, ids 1..SESSIONS, send in rounds: two
 * sessions whose ids are a slot count apart share a slot and re-key it
 * for every record, a session alone in its slot re-keys once; a round of
 * only the first DTLS_RL_CACHE_SLOTS sessions then re-keys just the slots
 * the others had last. Every record decrypts to its own plaintext.
 */
static void rounds(const struct dtls_rl_algs *a, int cipher, bool prov)
{
	static struct pair p[SESSIONS];
	struct dtls_rl_cache *c = calloc(1, sizeof(*c));
	unsigned char rec[REC_MAX];
	unsigned int rekeys = 0, hits = 0;
	bool rekeyed;

	assert_non_null(c);
	if (prov)
		dtls_rl_cache_init(c, a);
	for (unsigned int i = 0; i < SESSIONS; i++) {
		make_pair(&p[i], a, cipher, i + 100 * (unsigned int)cipher);
		dtls_rl_cache_adopt(c, &p[i].srv);
		assert_int_equal(p[i].srv.id, i + 1);
	}
	for (int round = 0; round < 3; round++)
		for (unsigned int i = 0; i < SESSIONS; i++) {
			int len = seal(&p[i], i, rec);

			assert_true(len > 0);
			assert_int_equal(open_check(c, &p[i], i, rec, len, &rekeyed),
					 PT_LEN);
			assert_way(c, &p[i].srv, prov);
			rekeys += rekeyed;
			hits += !rekeyed;
		}
	/*
	 * ids 1..64 fill the 64 slots; ids 65..SESSIONS share slots
	 * 1..SESSIONS-64 with ids 1..SESSIONS-64: those re-key for every
	 * record, the sessions alone in their slot once.
	 */
	{
		unsigned int shared = SESSIONS - DTLS_RL_CACHE_SLOTS;
		unsigned int alone = DTLS_RL_CACHE_SLOTS - shared;
		unsigned int want = alone + 3 * (SESSIONS - alone);

		assert_int_equal(rekeys, want);
		assert_int_equal(hits, 3 * SESSIONS - want);
	}
	/* The first 64 sessions alone, twice: after one re-key each, all hit. */
	rekeys = hits = 0;
	for (int round = 0; round < 2; round++)
		for (unsigned int i = 0; i < DTLS_RL_CACHE_SLOTS; i++) {
			int len = seal(&p[i], i, rec);

			assert_int_equal(open_check(c, &p[i], i, rec, len, &rekeyed),
					 PT_LEN);
			rekeys += rekeyed;
			hits += !rekeyed;
		}
	assert_int_equal(rekeys, SESSIONS - DTLS_RL_CACHE_SLOTS);
	assert_int_equal(hits, 2 * DTLS_RL_CACHE_SLOTS - rekeys);
	for (unsigned int i = 0; i < SESSIONS; i++)
		dtls_rl_clear(c, &p[i].srv);
	dtls_rl_cache_free(c);
	free(c);
}

static void test_more_sessions_than_slots(void **state)
{
	struct dtls_rl_algs a;

	dtls_rl_algs_fetch(&a);
	for (int cipher = 0; cipher < 3; cipher++)
		rounds(&a, cipher, prov_of(state));
	dtls_rl_algs_free(&a);
}

/*
 * Session A (slot s) is freed, and a later session B lands in slot s: A's
 * records, replayed to B, never open, whatever the cipher of either; B's
 * open after a re-key. A's cleared keys open nothing. Then sessions that
 * share a slot and alternate: each record re-keys and opens under its own
 * key only.
 */
static void test_reused_slot(void **state)
{
	unsigned char ra[REC_MAX], rb[REC_MAX];
	struct pair pa, pb, filler;
	struct dtls_rl_algs a;
	struct dtls_rl_cache *c = cache_new(&a, prov_of(state));
	uint64_t a_id;
	bool rekeyed;
	int la, lb;

	for (int ca = 0; ca < 3; ca++)
		for (int cb = 0; cb < 3; cb++) {
			make_pair(&pa, &a, ca, 1);
			dtls_rl_cache_adopt(c, &pa.srv);
			la = seal(&pa, 1, ra);
			assert_int_equal(open_check(c, &pa, 1, ra, la, &rekeyed), PT_LEN);
			la = seal(&pa, 1, ra);	/* a record A never got to send */
			a_id = pa.srv.id;
			dtls_rl_clear(c, &pa.srv);
			/* the freed slot holds nothing keyed any more */
			assert_int_equal(c->slot[a_id % DTLS_RL_CACHE_SLOTS].tag, 0);
			assert_null(c->slot[a_id % DTLS_RL_CACHE_SLOTS].cipher);
			assert_int_equal(dtls_rl_open(c, &pa.srv, ra,
						      (size_t)la - XTEL_DTLS_HDR_LEN,
						      rb, sizeof(rb), &rekeyed), -1);
			/* the ids in between, then B in A's slot */
			for (int i = 1; i < DTLS_RL_CACHE_SLOTS; i++) {
				make_pair(&filler, &a, cb, 9);
				dtls_rl_cache_adopt(c, &filler.srv);
				dtls_rl_clear(c, &filler.srv);
			}
			make_pair(&pb, &a, cb, 2);
			dtls_rl_cache_adopt(c, &pb.srv);
			assert_int_equal(pb.srv.id, a_id + DTLS_RL_CACHE_SLOTS);
			if (ca == cb) {
				/* same record length: A's record under B's id */
				assert_true(open_check(c, &pb, 2, ra, la, &rekeyed) < 0);
				assert_true(rekeyed);
			}
			lb = seal(&pb, 2, rb);
			assert_int_equal(open_check(c, &pb, 2, rb, lb, &rekeyed), PT_LEN);
			assert_int_equal(rekeyed, ca != cb);
			dtls_rl_clear(c, &pb.srv);
		}

	/* Two live sessions in one slot, alternating. */
	make_pair(&pa, &a, 0, 5);
	dtls_rl_cache_adopt(c, &pa.srv);
	for (int i = 1; i < DTLS_RL_CACHE_SLOTS; i++) {
		make_pair(&filler, &a, 0, 9);
		dtls_rl_cache_adopt(c, &filler.srv);
	}
	make_pair(&pb, &a, 0, 6);
	dtls_rl_cache_adopt(c, &pb.srv);
	for (int i = 0; i < 10; i++) {
		la = seal(&pa, 5, ra);
		lb = seal(&pb, 6, rb);
		/* each other's records fail (and re-key back) */
		assert_true(open_check(c, &pb, 6, ra, la, &rekeyed) < 0);
		assert_int_equal(open_check(c, &pa, 5, ra, la, &rekeyed), PT_LEN);
		assert_true(rekeyed);
		assert_int_equal(open_check(c, &pb, 6, rb, lb, &rekeyed), PT_LEN);
		assert_true(rekeyed);
	}
	dtls_rl_clear(c, &pa.srv);
	dtls_rl_clear(c, &pb.srv);
	cache_done(c, &a);
}

/*
 * A bad tag fails on a cached context and on a freshly re-keyed one, and
 * leaves the context good for the session's next record.
 */
static void test_bad_tag(void **state)
{
	struct pair p, other;
	unsigned char rec[REC_MAX], ro[REC_MAX];
	struct dtls_rl_algs a;
	struct dtls_rl_cache *c = cache_new(&a, prov_of(state));
	bool rekeyed;
	int len, lo;

	for (int cipher = 0; cipher < 3; cipher++) {
		make_pair(&p, &a, cipher, 3);
		dtls_rl_cache_adopt(c, &p.srv);
		make_pair(&other, &a, cipher, 4);
		other.srv.id = p.srv.id + DTLS_RL_CACHE_SLOTS;	/* its slot */
		len = seal(&p, 3, rec);
		assert_int_equal(open_check(c, &p, 3, rec, len, &rekeyed), PT_LEN);
		assert_true(rekeyed);
		for (int fresh = 0; fresh < 2; fresh++) {
			if (fresh) {	/* the slot keyed by another session */
				lo = seal(&other, 4, ro);
				assert_int_equal(open_check(c, &other, 4, ro, lo,
							    &rekeyed), PT_LEN);
			}
			len = seal(&p, 3, rec);
			rec[len - 1] ^= 0x01;
			assert_true(open_check(c, &p, 3, rec, len, &rekeyed) < 0);
			assert_int_equal(rekeyed, fresh);
			rec[len - 1] ^= 0x01;
			rec[XTEL_DTLS_HDR_LEN + 12] ^= 0x80;	/* ciphertext */
			assert_true(open_check(c, &p, 3, rec, len, &rekeyed) < 0);
			rec[XTEL_DTLS_HDR_LEN + 12] ^= 0x80;
			assert_int_equal(open_check(c, &p, 3, rec, len, &rekeyed),
					 PT_LEN);
			assert_false(rekeyed);
		}
		dtls_rl_clear(c, &p.srv);
		dtls_rl_clear(c, &other.srv);
	}
	cache_done(c, &a);
}

/*
 * A re-key puts in both halves of the session's secret: a record sealed
 * with its key but another salt (the GCM implicit nonce, ChaCha's IV), or
 * with its salt but another key, never opens, on a slot just re-keyed
 * from another session's key and on the session's own cached one.
 */
static void test_wrong_key_or_salt(void **state)
{
	struct pair p, bad, other;
	unsigned char rec[REC_MAX], ro[REC_MAX];
	struct dtls_rl_algs a;
	bool prov = prov_of(state);
	struct dtls_rl_cache *c = cache_new(&a, prov);
	bool rekeyed;
	int len, lo;

	for (int cipher = 0; cipher < 3; cipher++)
		for (int what = 0; what < 2; what++) {
			make_pair(&p, &a, cipher, 7);
			dtls_rl_cache_adopt(c, &p.srv);
			make_pair(&other, &a, cipher, 8);
			other.srv.id = p.srv.id + DTLS_RL_CACHE_SLOTS;
			bad = p;
			if (what == 0)
				bad.cl.tx_iv[1] ^= 0x01;	/* the salt */
			else
				bad.cl.tx_key[5] ^= 0x01;	/* the key */
			for (int fresh = 0; fresh < 2; fresh++) {
				/* fresh: another session keyed the slot */
				lo = seal(&other, 8, ro);
				if (fresh)
					assert_int_equal(open_check(c, &other, 8,
						ro, lo, &rekeyed), PT_LEN);
				len = seal(&bad, 7, rec);
				assert_true(open_check(c, &p, 7, rec, len,
						       &rekeyed) < 0);
				assert_true(rekeyed || !fresh);
				len = seal(&p, 7, rec);
				assert_int_equal(open_check(c, &p, 7, rec, len,
							    &rekeyed), PT_LEN);
				assert_way(c, &p.srv, prov);
				p.cl.tx_seq = bad.cl.tx_seq =
					p.cl.tx_seq > bad.cl.tx_seq ?
					p.cl.tx_seq : bad.cl.tx_seq;
			}
			dtls_rl_clear(c, &p.srv);
			dtls_rl_clear(c, &other.srv);
		}
	cache_done(c, &a);
}

/*
 * A slot that opened a ChaCha20 session's record (through the EVP calls)
 * and is then re-keyed for an AES-GCM session (through the provider's
 * functions) keeps no trace of the first key: its EVP context is reset,
 * so once the first session ends (its keys cleared while the slot is the
 * second's) no context of the cache holds its key. Both still open their
 * records after.
 */
static void test_switch_way_wipes(void **state)
{
	unsigned char ra[REC_MAX], rb[REC_MAX];
	struct pair pa, pb, filler;
	struct dtls_rl_algs a;
	struct dtls_rl_cache *c = cache_new(&a, true);
	const struct dtls_rl_slot *sl;
	bool rekeyed;
	int la, lb;

	(void)state;
	make_pair(&pa, &a, 2, 11);		/* ChaCha20-Poly1305 */
	dtls_rl_cache_adopt(c, &pa.srv);
	for (int i = 1; i < DTLS_RL_CACHE_SLOTS; i++) {
		make_pair(&filler, &a, 0, 9);
		dtls_rl_cache_adopt(c, &filler.srv);
	}
	make_pair(&pb, &a, 0, 12);		/* AES-128-GCM, A's slot */
	dtls_rl_cache_adopt(c, &pb.srv);
	sl = &c->slot[pa.srv.id % DTLS_RL_CACHE_SLOTS];
	assert_ptr_equal(sl, &c->slot[pb.srv.id % DTLS_RL_CACHE_SLOTS]);
	la = seal(&pa, 11, ra);
	assert_int_equal(open_check(c, &pa, 11, ra, la, &rekeyed), PT_LEN);
	assert_non_null(sl->ctx);
	assert_non_null(EVP_CIPHER_CTX_get0_cipher(sl->ctx));
	lb = seal(&pb, 12, rb);
	assert_int_equal(open_check(c, &pb, 12, rb, lb, &rekeyed), PT_LEN);
	assert_true(rekeyed);
	assert_non_null(sl->pctx);
	/* A's key is gone from the slot now B holds it. */
	assert_null(EVP_CIPHER_CTX_get0_cipher(sl->ctx));
	dtls_rl_clear(c, &pa.srv);		/* A ends: B's slot stays */
	assert_int_equal(sl->tag, pb.srv.id);
	lb = seal(&pb, 12, rb);
	assert_int_equal(open_check(c, &pb, 12, rb, lb, &rekeyed), PT_LEN);
	assert_false(rekeyed);
	/* And back: a ChaCha20 session in the slot again opens. */
	make_pair(&pa, &a, 2, 13);
	pa.srv.id = pb.srv.id + DTLS_RL_CACHE_SLOTS;
	la = seal(&pa, 13, ra);
	assert_int_equal(open_check(c, &pa, 13, ra, la, &rekeyed), PT_LEN);
	assert_true(rekeyed);
	assert_null(sl->pctx);
	dtls_rl_clear(c, &pa.srv);
	dtls_rl_clear(c, &pb.srv);
	cache_done(c, &a);
}

/*
 * A real server with the built-in layer: each session's first record
 * re-keys, the rest hit (aead_ctx_hits counts authentic records only);
 * a bad tag is still one bad_record, a replay one replay that is never
 * decrypted, and records_rx counts what was delivered.
 */
static void test_server_counters(void **state)
{
	struct net *n = net_create_mode(&mode_own, NULL);
	struct xtel_dtls_server_stats st;
	struct pkt *p;

	(void)state;
	for (int id = 1; id <= 3; id++)
		add_client(n, id);
	pump(n);
	for (int i = 0; i < 3; i++)
		assert_established(n, i, (uint32_t)i + 1);
	for (uint64_t seq = 1; seq <= 4; seq++)
		for (int i = 0; i < 3; i++)
			send_record(n, i, (uint32_t)i + 1, seq);
	pump(n);
	p = capture_record(n, 5);
	feed(n, 0, p);
	feed(n, 0, p);			/* a replay: never decrypted */
	p->data[p->len - 1] ^= 0x40;
	p->data[10] ^= 0x10;		/* a fresh number (21), bad tag */
	feed(n, 0, p);
	st = stats(n);
	assert_int_equal(st.records_rx, 13);
	assert_int_equal(st.replay, 1);
	assert_int_equal(st.bad_record, 1);
	assert_int_equal(st.aead_ctx_rekeys, 3);
	assert_int_equal(st.aead_ctx_hits, 13 - 3);
	free(p);
	net_free(n);
}

/*
 * The self-test of dtls_rl_algs_fetch: each cipher proves itself both
 * ways; keys the provider refuses (AES-128-GCM keyed with 32 bytes) fail
 * it, so such a cipher would be dropped, not used.
 */
static void test_cipher_self_test(void **state)
{
	struct dtls_rl_algs a = { 0 };

	(void)state;
	dtls_rl_algs_fetch(&a);
	for (int prov = 0; prov <= 1; prov++) {
		assert_int_equal(dtls_rl_cipher_proves(&a, a.aes128gcm, 16,
						       false, prov), 0);
		assert_int_equal(dtls_rl_cipher_proves(&a, a.aes256gcm, 32,
						       false, prov), 0);
		assert_int_equal(dtls_rl_cipher_proves(&a, a.chacha, 32,
						       true, prov), 0);
	}
	assert_int_equal(dtls_rl_cipher_proves(&a, a.aes128gcm, 32, false,
					       true), -1);
	dtls_rl_algs_free(&a);
}

int main(int argc, char **argv)
{
	static int evp = 0, prov = 1;
	const struct CMUnitTest tests[] = {
#define TWO_WAYS(f) \
		cmocka_unit_test_prestate(f, (void *)&evp), \
		cmocka_unit_test_prestate(f, (void *)&prov)
		TWO_WAYS(test_more_sessions_than_slots),
		TWO_WAYS(test_reused_slot),
		TWO_WAYS(test_bad_tag),
		TWO_WAYS(test_wrong_key_or_salt),
#undef TWO_WAYS
		cmocka_unit_test(test_switch_way_wipes),
		cmocka_unit_test(test_cipher_self_test),
		cmocka_unit_test(test_server_counters),
	};

	return dtls_harness_main(argc, argv, "dtls_rl_cache", tests);
}
