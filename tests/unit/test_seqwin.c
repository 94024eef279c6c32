// SPDX-License-Identifier: MIT
/*
 * Sequence accounting, end to end through the registry: each test feeds a
 * known pattern of INIT/DATA/BYE datagrams for one client and checks the
 * exact counters a snapshot reports (received, lost, pending, duplicates,
 * reordered, too_late, epochs) and the per-datagram verdicts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acct/registry.h"
#include "acct/snapshot.h"
#include "acct/seqwin.h"
#include "acct/client.h"

enum { CID = 42 };
static const uint64_t T0 = 1700000000000000000ULL;	/* send time of seq 0 */
static const uint64_t ONE_WAY = 50000;			/* 50 us */

struct fx {
	struct xtel_registry *reg;
	struct xtel_snapshot snap;
	uint64_t epoch_ts;	/* send ts of the current epoch's INIT */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->reg = xtel_registry_new(16);
	assert_non_null(f->reg);
	f->epoch_ts = T0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	xtel_snapshot_free(&f->snap);
	xtel_registry_free(f->reg);
	free(f);
	return 0;
}

static enum xtel_seq_verdict feed_at(struct fx *f, uint8_t type, uint64_t seq,
				     uint64_t ts, uint64_t arrival)
{
	struct xtel_msg m;
	struct xtel_acct_result res;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.client_id = CID;
	m.seq = seq;
	m.send_ts_ns = ts;
	assert_int_equal(xtel_registry_account(f->reg, &m, arrival,
					       XTEL_WIRE_HDR_LEN, &res), 0);
	return res.verdict;
}

/* Send times grow 1 us per sequence number inside an epoch. */
static enum xtel_seq_verdict feed_ts(struct fx *f, uint8_t type, uint64_t seq,
				     uint64_t ts, uint64_t *gap)
{
	struct xtel_msg m;
	struct xtel_acct_result res;

	memset(&m, 0, sizeof(m));
	m.version = XTEL_WIRE_VERSION;
	m.type = type;
	m.client_id = CID;
	m.seq = seq;
	m.send_ts_ns = ts;
	assert_int_equal(xtel_registry_account(f->reg, &m, ts + ONE_WAY,
					       XTEL_WIRE_HDR_LEN, &res), 0);
	if (gap)
		*gap = res.gap;
	return res.verdict;
}

static enum xtel_seq_verdict feed(struct fx *f, uint8_t type, uint64_t seq)
{
	return feed_ts(f, type, seq, f->epoch_ts + seq * 1000, NULL);
}

static void data_range(struct fx *f, uint64_t from, uint64_t to)
{
	for (uint64_t s = from; s <= to; s++)
		feed(f, s == 0 ? XTEL_MSG_INIT : XTEL_MSG_DATA, s);
}

static const struct xtel_client_snap *snap(struct fx *f, bool final)
{
	xtel_snapshot_free(&f->snap);
	assert_int_equal(xtel_snapshot_take(&f->reg, 1, T0, UINT64_MAX, final,
					    &f->snap), 0);
	assert_int_equal(f->snap.n_clients, 1);
	assert_int_equal(f->snap.clients[0].client_id, CID);
	return &f->snap.clients[0];
}

static void expect(struct fx *f, uint64_t received, uint64_t lost,
		   uint64_t pending, uint64_t dups, uint64_t reord,
		   uint64_t late, uint32_t epochs)
{
	const struct xtel_client_snap *c = snap(f, false);

	assert_int_equal(c->received, received);
	assert_int_equal(c->lost, lost);
	assert_int_equal(c->pending, pending);
	assert_int_equal(c->duplicates, dups);
	assert_int_equal(c->reordered, reord);
	assert_int_equal(c->too_late, late);
	assert_int_equal(c->epochs, epochs);
}

static void test_in_order(void **state)
{
	struct fx *f = *state;

	assert_int_equal(feed(f, XTEL_MSG_INIT, 0), XTEL_SEQ_NEW);
	data_range(f, 1, 2999);
	expect(f, 3000, 0, 0, 0, 0, 0, 1);
	assert_int_equal(f->snap.clients[0].highest_seq, 2999);
	assert_int_equal(f->snap.clients[0].by_type[XTEL_MSG_INIT], 1);
	assert_int_equal(f->snap.clients[0].by_type[XTEL_MSG_DATA], 2999);
}

static void test_single_loss(void **state)
{
	struct fx *f = *state;
	uint64_t gap;

	data_range(f, 0, 4);
	assert_int_equal(feed_ts(f, XTEL_MSG_DATA, 6, T0 + 6000, &gap),
			 XTEL_SEQ_NEW);
	assert_int_equal(gap, 1);
	/* Seq 5 stays pending while it is inside the window ... */
	data_range(f, 7, 5 + XTEL_SEQ_WINDOW - 1);
	expect(f, XTEL_SEQ_WINDOW + 4, 0, 1, 0, 0, 0, 1);
	/* ... and is lost the moment it leaves it. */
	feed(f, XTEL_MSG_DATA, 5 + XTEL_SEQ_WINDOW);
	expect(f, XTEL_SEQ_WINDOW + 5, 1, 0, 0, 0, 0, 1);
}

static void test_multiple_loss(void **state)
{
	struct fx *f = *state;

	for (uint64_t s = 0; s <= 1999; s++) {
		if (s == 5 || s == 7 || s == 8 || (s >= 20 && s <= 29) ||
		    (s >= 1500 && s <= 1502))
			continue;
		feed(f, s == 0 ? XTEL_MSG_INIT : XTEL_MSG_DATA, s);
	}
	/* 13 gaps have left the window, 3 are still inside it. */
	expect(f, 2000 - 16, 13, 3, 0, 0, 0, 1);
	data_range(f, 2000, 3000);
	expect(f, 3001 - 16, 16, 0, 0, 0, 0, 1);
}

static void test_gap_filled(void **state)
{
	struct fx *f = *state;

	data_range(f, 0, 4);
	data_range(f, 6, 100);
	expect(f, 100, 0, 1, 0, 0, 0, 1);
	assert_int_equal(feed(f, XTEL_MSG_DATA, 5), XTEL_SEQ_REORDERED);
	expect(f, 101, 0, 0, 0, 1, 0, 1);
	data_range(f, 101, 3000);
	expect(f, 3001, 0, 0, 0, 1, 0, 1);
}

static void test_reorder_in_window(void **state)
{
	struct fx *f = *state;
	/* Pairs swapped, and one number arriving 1000 places late. */
	static const uint64_t order[] = { 0, 2, 1, 4, 3, 6, 5 };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		feed(f, order[i] ? XTEL_MSG_DATA : XTEL_MSG_INIT, order[i]);
	data_range(f, 7, 9);
	data_range(f, 11, 1010);
	assert_int_equal(feed(f, XTEL_MSG_DATA, 10), XTEL_SEQ_REORDERED);
	expect(f, 1011, 0, 0, 0, 4, 0, 1);
}

static void test_duplicate(void **state)
{
	struct fx *f = *state;

	data_range(f, 0, 10);
	assert_int_equal(feed(f, XTEL_MSG_DATA, 7), XTEL_SEQ_DUPLICATE);
	assert_int_equal(feed(f, XTEL_MSG_DATA, 10), XTEL_SEQ_DUPLICATE);
	/* Duplicates are received datagrams but never loss or reorder. */
	expect(f, 13, 0, 0, 2, 0, 0, 1);
}

static void test_too_late(void **state)
{
	struct fx *f = *state;

	data_range(f, 0, 99);
	data_range(f, 101, 2000);
	expect(f, 2000, 1, 0, 0, 0, 0, 1);
	assert_int_equal(feed(f, XTEL_MSG_DATA, 100), XTEL_SEQ_TOO_LATE);
	/* Counted apart: loss already confirmed stays confirmed. */
	expect(f, 2001, 1, 0, 0, 0, 1, 1);
	/* Exactly one window behind the highest is already too late. */
	assert_int_equal(feed(f, XTEL_MSG_DATA, 2000 - XTEL_SEQ_WINDOW),
			 XTEL_SEQ_TOO_LATE);
	assert_int_equal(feed(f, XTEL_MSG_DATA, 2000 - XTEL_SEQ_WINDOW + 1),
			 XTEL_SEQ_DUPLICATE);
}

static void test_big_jump(void **state)
{
	struct fx *f = *state;
	uint64_t gap;

	data_range(f, 0, 0);
	assert_int_equal(feed_ts(f, XTEL_MSG_DATA, 5000, T0 + 5000000, &gap),
			 XTEL_SEQ_NEW);
	assert_int_equal(gap, 4999);
	/* 1..3976 are already a window behind; 3977..4999 still pending. */
	expect(f, 2, 3976, 1023, 0, 0, 0, 1);
	assert_int_equal(snap(f, true)->lost, 4999);
}

static void test_restart_with_init(void **state)
{
	struct fx *f = *state;

	data_range(f, 0, 100);
	f->epoch_ts = T0 + 10000000000ULL;	/* restarted 10 s later */
	assert_int_equal(feed(f, XTEL_MSG_INIT, 0), XTEL_SEQ_RESTART);
	data_range(f, 1, 50);
	expect(f, 152, 0, 0, 0, 0, 0, 2);
	assert_int_equal(f->snap.clients[0].highest_seq, 50);
	/* A straggler of the old epoch must not open gaps in the new one. */
	assert_int_equal(feed_ts(f, XTEL_MSG_DATA, 99, T0 + 99000, NULL),
			 XTEL_SEQ_TOO_LATE);
	expect(f, 153, 0, 0, 0, 0, 1, 2);
	assert_int_equal(f->snap.clients[0].highest_seq, 50);
}

static void test_client_clock_steps_back(void **state)
{
	struct fx *f = *state;
	const uint64_t hour = 3600ULL * 1000000000ULL;
	const uint64_t later = T0 + 3 * 1000000000ULL;	/* past the grace */

	data_range(f, 0, 10);
	/* The sender's clock steps back an hour: its datagrams now look older
	 * than the INIT, but long after it they are this epoch's, not
	 * stragglers of a past one. */
	for (uint64_t s = 11; s <= 20; s++)
		assert_int_equal(feed_at(f, XTEL_MSG_DATA, s, T0 - hour + s,
					 later + s),
				 XTEL_SEQ_NEW);
	expect(f, 21, 0, 0, 0, 0, 0, 1);
	/* An INIT "older" than the current one, past the grace: a restart. */
	assert_int_equal(feed_at(f, XTEL_MSG_INIT, 0, T0 - hour + 100, later + 100),
			 XTEL_SEQ_RESTART);
	expect(f, 22, 0, 0, 0, 0, 0, 2);
}

static void test_restart_closes_pending(void **state)
{
	struct fx *f = *state;

	data_range(f, 0, 49);
	data_range(f, 51, 100);		/* 50 pending */
	f->epoch_ts = T0 + 10000000000ULL;
	assert_int_equal(feed(f, XTEL_MSG_INIT, 0), XTEL_SEQ_RESTART);
	data_range(f, 1, 10);
	/* The old epoch ended without BYE: its pending gap is lost. */
	expect(f, 111, 1, 0, 0, 0, 0, 2);
}

static void test_seq_reset_without_init(void **state)
{
	struct fx *f = *state;
	uint64_t gap;

	data_range(f, 0, 60000);
	/* Within the reset distance a low seq is merely too late ... */
	assert_int_equal(feed(f, XTEL_MSG_DATA, 3), XTEL_SEQ_TOO_LATE);
	data_range(f, 60001, 70000);
	/* ... further behind it is a new epoch whose INIT was lost. */
	f->epoch_ts = T0 + 100000000000ULL;
	assert_int_equal(feed_ts(f, XTEL_MSG_DATA, 1, f->epoch_ts + 1000, &gap),
			 XTEL_SEQ_RESTART);
	assert_int_equal(gap, 1);
	data_range(f, 2, 20);
	expect(f, 70022, 0, 1, 0, 0, 1, 2);
	assert_int_equal(snap(f, true)->lost, 1);	/* the lost INIT */
}

static void test_duplicate_init(void **state)
{
	struct fx *f = *state;

	assert_int_equal(feed(f, XTEL_MSG_INIT, 0), XTEL_SEQ_NEW);
	data_range(f, 1, 3);
	assert_int_equal(feed(f, XTEL_MSG_INIT, 0), XTEL_SEQ_DUPLICATE);
	data_range(f, 4, 2000);
	/* Even once seq 0 is behind the window, the same INIT is a dup. */
	assert_int_equal(feed(f, XTEL_MSG_INIT, 0), XTEL_SEQ_DUPLICATE);
	expect(f, 2003, 0, 0, 2, 0, 0, 1);
}

static void test_late_init(void **state)
{
	struct fx *f = *state;
	uint64_t gap;

	assert_int_equal(feed_ts(f, XTEL_MSG_DATA, 1, T0 + 1000, &gap),
			 XTEL_SEQ_NEW);
	assert_int_equal(gap, 1);
	data_range(f, 2, 5);
	expect(f, 5, 0, 1, 0, 0, 0, 1);
	assert_int_equal(feed(f, XTEL_MSG_INIT, 0), XTEL_SEQ_REORDERED);
	expect(f, 6, 0, 0, 0, 1, 0, 1);
}

static void test_late_join(void **state)
{
	struct fx *f = *state;
	uint64_t gap;

	assert_int_equal(feed_ts(f, XTEL_MSG_DATA, 5000, T0 + 5000000, &gap),
			 XTEL_SEQ_NEW);
	assert_int_equal(gap, 0);
	assert_int_equal(feed(f, XTEL_MSG_DATA, 4999), XTEL_SEQ_TOO_LATE);
	feed(f, XTEL_MSG_DATA, 5002);
	expect(f, 3, 0, 1, 0, 0, 1, 1);
}

static void test_bye_tail_loss(void **state)
{
	struct fx *f = *state;
	uint64_t gap;

	data_range(f, 0, 95);
	assert_int_equal(feed_ts(f, XTEL_MSG_BYE, 100, T0 + 101000, &gap),
			 XTEL_SEQ_NEW);
	assert_int_equal(gap, 5);
	expect(f, 97, 5, 0, 0, 0, 0, 1);
	assert_true(f->snap.clients[0].bye_seen);
	assert_int_equal(f->snap.clients[0].by_type[XTEL_MSG_BYE], 1);
	/* A repeated BYE is a duplicate; a straggler after BYE is too late. */
	assert_int_equal(feed_ts(f, XTEL_MSG_BYE, 100, T0 + 101000, NULL),
			 XTEL_SEQ_DUPLICATE);
	assert_int_equal(feed(f, XTEL_MSG_DATA, 97), XTEL_SEQ_TOO_LATE);
	expect(f, 99, 5, 0, 1, 0, 1, 1);
	assert_int_equal(snap(f, true)->lost, 5);
}

static void test_bye_confirms_pending(void **state)
{
	struct fx *f = *state;

	for (uint64_t s = 0; s <= 50; s++)
		if (s != 10 && s != 20)
			feed(f, s ? XTEL_MSG_DATA : XTEL_MSG_INIT, s);
	expect(f, 49, 0, 2, 0, 0, 0, 1);
	feed_ts(f, XTEL_MSG_BYE, 50, T0 + 51000, NULL);
	expect(f, 50, 2, 0, 0, 0, 0, 1);
	/* The epoch is closed (docs/PROTOCOL.md 6): a number after BYE is
	 * too late and opens no gap. */
	assert_int_equal(feed(f, XTEL_MSG_DATA, 53), XTEL_SEQ_TOO_LATE);
	expect(f, 51, 2, 0, 0, 0, 1, 1);
}

static void test_final_folds_pending(void **state)
{
	struct fx *f = *state;

	data_range(f, 0, 9);
	data_range(f, 11, 20);
	expect(f, 20, 0, 1, 0, 0, 0, 1);
	assert_int_equal(snap(f, true)->lost, 1);
	assert_int_equal(snap(f, true)->pending, 0);
	assert_int_equal(f->snap.total.lost, 1);
	/* A final view changes nothing in the registry itself. */
	expect(f, 20, 0, 1, 0, 0, 0, 1);
}

static void test_clock_skew(void **state)
{
	struct fx *f = *state;
	struct xtel_msg m;
	struct xtel_acct_result res;
	const struct xtel_client_snap *c;

	data_range(f, 0, 9);
	memset(&m, 0, sizeof(m));
	m.type = XTEL_MSG_DATA;
	m.client_id = CID;
	m.seq = 10;
	m.send_ts_ns = T0 + 10000;
	/* Arrives 3 us "before" it was sent: the sender's clock is ahead. */
	assert_int_equal(xtel_registry_account(f->reg, &m, T0 + 7000, 40,
					       &res), 0);
	assert_int_equal(res.latency_ns, -3000);
	assert_int_equal(res.verdict, XTEL_SEQ_NEW);
	c = snap(f, false);
	assert_int_equal(c->received, 11);
	assert_int_equal(c->lat.count, 10);
	assert_int_equal(c->lat.negative, 1);
	assert_int_equal(c->lat.min_ns, ONE_WAY);
	assert_int_equal(c->lat.max_ns, ONE_WAY);
	assert_int_equal(c->lat.p999_ns, ONE_WAY);
	assert_int_equal(c->bytes, 10 * XTEL_WIRE_HDR_LEN + 40);
}

/* The window alone: word-granular advance keeps pending == zero bits. */
static void test_window_words(void **state)
{
	struct xtel_seqwin w;
	uint64_t gap, expect_lost = 0, expect_pending = 0;

	(void)state;
	xtel_seqwin_init(&w);
	srand(7);
	uint64_t s = 0;

	xtel_seqwin_account(&w, 0, &gap);
	for (int i = 0; i < 200000; i++) {
		uint64_t step = 1 + (uint64_t)(rand() % 3 == 0 ? rand() % 70 : 0);

		s += step;
		assert_int_equal(xtel_seqwin_account(&w, s, &gap), XTEL_SEQ_NEW);
		assert_int_equal(gap, step - 1);
	}
	expect_pending = w.pending;
	expect_lost = w.lost;
	/* Every skipped number is either lost or still pending. */
	assert_int_equal(expect_lost + expect_pending, s + 1 - 200001);
	{
		uint64_t zeros = 0;

		for (unsigned int i = 0; i < XTEL_SEQ_WORDS; i++)
			zeros += (uint64_t)__builtin_popcountll(~w.bits[i]);
		assert_int_equal(zeros, w.pending);
	}
}

/*
 * docs/PROTOCOL.md 6: a number of an epoch already closed by BYE is too
 * late and never changes the loss count; nor are its metrics recorded.
 */
static void test_after_bye_too_late(void **state)
{
	struct fx *f = *state;

	data_range(f, 0, 3);
	assert_int_equal(feed(f, XTEL_MSG_BYE, 3), XTEL_SEQ_NEW);
	assert_int_equal(feed(f, XTEL_MSG_DATA, 10), XTEL_SEQ_TOO_LATE);
	assert_int_equal(feed(f, XTEL_MSG_HEARTBEAT, 11), XTEL_SEQ_TOO_LATE);
	/* Another BYE of the closed epoch is too late as well; the same one
	 * again is a duplicate. */
	assert_int_equal(feed(f, XTEL_MSG_BYE, 12), XTEL_SEQ_TOO_LATE);
	assert_int_equal(feed(f, XTEL_MSG_BYE, 3), XTEL_SEQ_DUPLICATE);
	expect(f, 9, 0, 0, 1, 0, 3, 1);
	assert_int_equal(f->snap.clients[0].highest_seq, 3);
	assert_int_equal(snap(f, true)->lost, 0);
	/* A new INIT opens the next epoch as usual. */
	f->epoch_ts = T0 + 10000000000ULL;
	assert_int_equal(feed(f, XTEL_MSG_INIT, 0), XTEL_SEQ_RESTART);
	data_range(f, 1, 5);
	expect(f, 15, 0, 0, 1, 0, 3, 2);
}

/*
 * A late copy of a past epoch's INIT (its timestamp is one the collector
 * saw open an epoch) is too late however late it arrives: it must not
 * start a fake epoch with phantom losses.
 */
static void test_late_copy_of_old_init(void **state)
{
	struct fx *f = *state;
	const uint64_t old_ts = T0;

	data_range(f, 0, 100);
	f->epoch_ts = T0 + 10000000000ULL;	/* restarted 10 s later */
	assert_int_equal(feed(f, XTEL_MSG_INIT, 0), XTEL_SEQ_RESTART);
	data_range(f, 1, 50);
	/* The old INIT again, a minute after the restart. */
	assert_int_equal(feed_at(f, XTEL_MSG_INIT, 0, old_ts,
				 f->epoch_ts + 60000000000ULL),
			 XTEL_SEQ_TOO_LATE);
	data_range(f, 51, 60);
	expect(f, 163, 0, 0, 0, 0, 1, 2);
	assert_int_equal(snap(f, true)->lost, 0);
}

/*
 * The record remembers the last XTEL_PAST_INITS epochs' INIT timestamps
 * (a ring in a cold block made at the first restart): copies of those are
 * too late, the one pushed out of the ring starts an epoch again. The
 * block is the record's: the memory breakdown counts it there.
 */
static void test_past_inits_ring(void **state)
{
	struct fx *f = *state;
	const uint64_t late = T0 + 100 * 1000000000ULL;
	struct xtel_acct_mem m0 = { 0 }, m1 = { 0 };
	uint64_t ts[XTEL_PAST_INITS + 2];

	data_range(f, 0, 3);
	xtel_registry_mem(f->reg, &m0);
	ts[0] = f->epoch_ts;
	for (unsigned int e = 1; e < XTEL_PAST_INITS + 2; e++) {
		f->epoch_ts = T0 + e * 10000000000ULL;
		ts[e] = f->epoch_ts;
		assert_int_equal(feed(f, XTEL_MSG_INIT, 0), XTEL_SEQ_RESTART);
		data_range(f, 1, 3);
	}
	xtel_registry_mem(f->reg, &m1);
	assert_int_equal(m1.records - m0.records, 32);
	/* ts[1..4] are in the ring, ts[0] was pushed out by ts[4]. */
	for (unsigned int e = 1; e <= XTEL_PAST_INITS; e++)
		assert_int_equal(feed_at(f, XTEL_MSG_INIT, 0, ts[e], late),
				 XTEL_SEQ_TOO_LATE);
	assert_int_equal(feed_at(f, XTEL_MSG_INIT, 0, ts[0], late),
			 XTEL_SEQ_RESTART);
	expect(f, 6 * 4 + 5, 0, 0, 0, 0, XTEL_PAST_INITS, 7);
}

/*
 * Before any restart the (not yet made) ring holds only empty slots, 0: an
 * INIT with send time 0 after the epoch's own INIT matches one, as it
 * did when the ring was part of every record.
 */
static void test_init_ts_zero(void **state)
{
	struct fx *f = *state;

	data_range(f, 0, 3);
	assert_int_equal(feed_at(f, XTEL_MSG_INIT, 0, 0, T0 + 100 * 1000000000ULL),
			 XTEL_SEQ_TOO_LATE);
	expect(f, 5, 0, 0, 0, 0, 1, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_past_inits_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_ts_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_single_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiple_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_filled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reorder_in_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_with_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_closes_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_clock_steps_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_reset_without_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_join, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bye_tail_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bye_confirms_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_final_folds_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_skew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_bye_too_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_copy_of_old_init, setup, teardown),
		cmocka_unit_test(test_window_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
