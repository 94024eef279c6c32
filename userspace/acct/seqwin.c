// SPDX-License-Identifier: MIT
/*
 * Sliding sequence window (see seqwin.h for the rules). The invariant that
 * keeps everything O(1) is: inside the window, the zero bits are exactly the
 * pending gaps. Slots for numbers that were never expected (below where
 * tracking started, negative numbers at epoch start, numbers settled by BYE)
 * are kept set, so a word leaving the window is charged to "lost" with a
 * single popcount of its zero bits.
 */
#include <string.h>

#include "acct/seqwin.h"

void xtel_seqwin_init(struct xtel_seqwin *w)
{
	memset(w, 0, sizeof(*w));
}

static inline uint64_t *slot_word(struct xtel_seqwin *w, uint64_t seq)
{
	return &w->bits[(seq / 64) % XTEL_SEQ_WORDS];
}

static inline uint64_t slot_mask(uint64_t seq)
{
	return 1ULL << (seq % 64);
}

/* Start an epoch at seq, keeping the cumulative counters. */
static uint64_t start_epoch(struct xtel_seqwin *w, uint64_t seq)
{
	uint64_t gap = 0;

	/* Everything is "not a gap" unless named pending below. */
	memset(w->bits, 0xff, sizeof(w->bits));
	if (seq < XTEL_SEQ_WINDOW) {
		/* 0..seq-1 are expected: they occupy slots 0..seq-1. */
		uint64_t n = seq;

		for (unsigned int i = 0; n > 0; i++) {
			uint64_t take = n < 64 ? n : 64;

			w->bits[i] &= take == 64 ? 0 : ~((1ULL << take) - 1);
			n -= take;
		}
		w->floor = 0;
		gap = seq;
	} else {
		w->floor = seq;
	}
	w->pending = (uint32_t)gap;	/* < XTEL_SEQ_WINDOW */
	w->highest = seq;
	w->highest_rx = seq;
	w->started = 1;
	w->closed = 0;
	return gap;
}

/*
 * Reuse the slots of seq from..from+n-1 (n <= XTEL_SEQ_WINDOW) for new
 * numbers: their previous occupants, n numbers behind, leave the window, and
 * every zero bit among them was a pending gap that is now lost. Works a word
 * at a time.
 */
static uint64_t recycle(struct xtel_seqwin *w, uint64_t from, uint64_t n)
{
	uint64_t zeros = 0;

	while (n > 0) {
		unsigned int bit = from % 64;
		uint64_t take = 64 - bit;
		uint64_t mask;
		uint64_t *word = slot_word(w, from);

		if (take > n)
			take = n;
		mask = take == 64 ? ~0ULL : ((1ULL << take) - 1) << bit;
		zeros += (uint64_t)__builtin_popcountll(~*word & mask);
		*word &= ~mask;
		from += take;
		n -= take;
	}
	return zeros;
}

/* Move the top of the window from w->highest to seq > w->highest. */
static uint64_t advance(struct xtel_seqwin *w, uint64_t seq)
{
	uint64_t diff = seq - w->highest;

	if (diff == 1) {
		/*
		 * In order, the common case: seq's slot is the one leaving the
		 * window. A zero there was a pending gap, now lost; no other
		 * slot changes. Same result as the general case below, without
		 * its loop and popcount.
		 */
		uint64_t *word = slot_word(w, seq), mask = slot_mask(seq);
		uint64_t gone = !(*word & mask);

		w->lost += gone;
		w->pending -= (uint32_t)gone;
		*word |= mask;
		w->highest = seq;
		if (seq > w->highest_rx)
			w->highest_rx = seq;
		return 0;
	}
	if (diff >= XTEL_SEQ_WINDOW) {
		/* The whole old window leaves, and so do the skipped numbers
		 * that are already more than a window behind seq. */
		w->lost += w->pending + (diff - XTEL_SEQ_WINDOW);
		memset(w->bits, 0, sizeof(w->bits));
		w->pending = XTEL_SEQ_WINDOW - 1;
	} else {
		uint64_t gone = recycle(w, w->highest + 1, diff);

		w->lost += gone;
		w->pending = (uint32_t)(w->pending - gone + (diff - 1));
	}
	*slot_word(w, seq) |= slot_mask(seq);
	w->highest = seq;
	if (seq > w->highest_rx)
		w->highest_rx = seq;
	return diff - 1;
}

bool xtel_seqwin_seen(const struct xtel_seqwin *w, uint64_t seq)
{
	if (!w->started || seq > w->highest || seq < w->floor ||
	    w->highest - seq >= XTEL_SEQ_WINDOW)
		return false;
	return w->bits[(seq / 64) % XTEL_SEQ_WORDS] & slot_mask(seq);
}

enum xtel_seq_verdict xtel_seqwin_account(struct xtel_seqwin *w, uint64_t seq,
					  uint64_t *gap)
{
	uint64_t *word;

	*gap = 0;
	if (!w->started) {
		*gap = start_epoch(w, seq);
		return XTEL_SEQ_NEW;
	}
	if (seq > w->highest) {
		*gap = advance(w, seq);
		return XTEL_SEQ_NEW;
	}
	if (xtel_seqwin_is_reset(w, seq)) {
		xtel_seqwin_restart(w, seq);
		*gap = seq;
		return XTEL_SEQ_RESTART;
	}
	if (seq < w->floor || w->highest - seq >= XTEL_SEQ_WINDOW) {
		w->too_late++;
		return XTEL_SEQ_TOO_LATE;
	}
	word = slot_word(w, seq);
	if (*word & slot_mask(seq)) {
		w->duplicates++;
		return XTEL_SEQ_DUPLICATE;
	}
	*word |= slot_mask(seq);
	w->pending--;
	w->reordered++;
	return XTEL_SEQ_REORDERED;
}

void xtel_seqwin_restart(struct xtel_seqwin *w, uint64_t seq)
{
	/* No BYE ended the old epoch: what it still waited for is lost. Its
	 * tail (sent after the highest we saw) is unknowable and not guessed. */
	w->lost += w->pending;
	w->pending = 0;
	start_epoch(w, seq);
}

uint64_t xtel_seqwin_bye(struct xtel_seqwin *w, uint64_t last_seq)
{
	uint64_t tail = 0;

	if (!w->started)
		return 0;
	if (last_seq > w->highest)
		tail = last_seq - w->highest;
	w->lost += w->pending + tail;
	w->pending = 0;
	/* Every number up to last_seq is settled: mark the window full and
	 * move it so that later stragglers are too late, and a datagram above
	 * last_seq (a client that kept going) only opens new gaps. */
	memset(w->bits, 0xff, sizeof(w->bits));
	if (last_seq > w->highest)
		w->highest = last_seq;
	w->floor = w->highest + 1;
	w->closed = 1;
	return tail;
}
