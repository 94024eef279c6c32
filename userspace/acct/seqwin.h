/* SPDX-License-Identifier: MIT */
/*
 * Sliding sequence window: decides, for each numbered datagram of one client
 * epoch, whether it is new, reordered, a duplicate or too late, and when a
 * missing number is confirmed lost. It is a bitmap of the last
 * XTEL_SEQ_WINDOW sequence numbers in u64 words (RFC 6479 / WireGuard
 * style): slot = seq % XTEL_SEQ_WINDOW, a set bit means "received, or not a
 * gap", so the zero bits inside the window are exactly the pending gaps.
 *
 * Rules (the client module adds the INIT/BYE timestamp rules on top):
 * - First datagram of a client or epoch with seq s: if s < XTEL_SEQ_WINDOW
 *   the window starts at 0 and 0..s-1 are pending (so a late INIT or early
 *   datagram is "reordered", not lost); otherwise the collector joined late
 *   and tracking starts at s (everything below s is too late).
 * - New: seq > highest. The skipped numbers become *pending* gaps. Advancing
 *   costs one word operation per 64 numbers passed (whole words are cleared,
 *   never single bits in a loop), so it is O(1) per datagram amortised.
 * - Reordered: behind the highest, inside the window, not seen: fills a
 *   pending gap, which therefore never becomes loss.
 * - Duplicate: inside the window and already seen.
 * - Too late: behind the window (or below where tracking started, or at or
 *   below a BYE of this epoch): counted apart, never changes lost.
 * - Loss is confirmed only when a pending gap leaves the window (counted
 *   then), at BYE (every gap up to BYE's seq, the last seq sent, is final;
 *   numbers above the highest received up to BYE's seq are tail loss), at a
 *   new epoch (the old epoch ended without BYE: its pending gaps are lost;
 *   its unknown tail is not guessed), or at a final snapshot (pending is
 *   folded into lost by the caller via xtel_seqwin_final_lost()).
 * - Sequence reset without INIT: a seq < XTEL_SEQ_WINDOW that is more than
 *   XTEL_SEQ_RESET_DISTANCE behind the highest starts a new epoch (verdict
 *   RESTART) instead of being "too late" forever.
 * Counters (lost, duplicates, ...) accumulate across epochs; the window
 * itself is per epoch.
 */
#ifndef XTEL_SEQWIN_H
#define XTEL_SEQWIN_H

#include <stdbool.h>
#include <stdint.h>

#include "acct/types.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
	XTEL_SEQ_WINDOW = 1024,
	XTEL_SEQ_WORDS = XTEL_SEQ_WINDOW / 64,
	XTEL_SEQ_RESET_DISTANCE = 65536,
};

struct xtel_seqwin {
	uint64_t bits[XTEL_SEQ_WORDS];
	uint64_t highest;	/* top of the window (after BYE: BYE's seq) */
	uint64_t highest_rx;	/* highest seq actually received this epoch */
	uint64_t floor;		/* numbers below are too late */
	uint64_t lost;
	uint64_t duplicates;
	uint64_t reordered;
	uint64_t too_late;
	uint32_t pending;	/* zero bits inside the window: < XTEL_SEQ_WINDOW */
	uint8_t started;
	uint8_t closed;		/* BYE seen in this epoch */
	uint8_t pad_[2];
};

/* Zero everything: no epoch yet. */
void xtel_seqwin_init(struct xtel_seqwin *w);

/*
 * Account one numbered datagram (INIT, HEARTBEAT, DATA). Starts the window
 * on the first one, detects a sequence reset. *gap gets the numbers skipped
 * ahead of seq (0 unless the verdict is NEW or RESTART).
 */
enum xtel_seq_verdict xtel_seqwin_account(struct xtel_seqwin *w, uint64_t seq,
					  uint64_t *gap);

/*
 * Close the current epoch (its pending gaps become lost) and start a new
 * one at seq, as for a restart signalled by a new INIT.
 */
void xtel_seqwin_restart(struct xtel_seqwin *w, uint64_t seq);

/*
 * BYE carrying last_seq: pending gaps and the tail above the highest up to
 * last_seq become lost. Returns the tail length. Datagrams of this epoch
 * at or below last_seq arriving later are too late.
 */
uint64_t xtel_seqwin_bye(struct xtel_seqwin *w, uint64_t last_seq);

/* Test whether seq is inside the window and already marked. */
bool xtel_seqwin_seen(const struct xtel_seqwin *w, uint64_t seq);

/* Lost as a final report would say it: confirmed plus still pending. */
static inline uint64_t xtel_seqwin_final_lost(const struct xtel_seqwin *w)
{
	return w->lost + w->pending;
}

/* Is seq, behind the window, a sequence reset without INIT (see above)? */
static inline bool xtel_seqwin_is_reset(const struct xtel_seqwin *w,
					uint64_t seq)
{
	return seq < XTEL_SEQ_WINDOW && w->highest > seq &&
	       w->highest - seq > XTEL_SEQ_RESET_DISTANCE;
}

#ifdef __cplusplus
}
#endif

#endif /* XTEL_SEQWIN_H */
