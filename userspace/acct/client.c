// SPDX-License-Identifier: MIT
/*
 * Per-client accounting: classifies each datagram (INIT/BYE epoch rules here,
 * sequence rules in seqwin.c), keeps the counters, feeds the latency
 * histogram and the per-key metric intervals. See client.h for the rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acct/client.h"

void xtel_client_init(struct xtel_client *c, uint32_t client_id)
{
	memset(c, 0, sizeof(*c));
	c->client_id = client_id;
	xtel_seqwin_init(&c->win);
	xtel_latpack_init(&c->lat);
}

/*
 * Remember the closing epoch's INIT timestamp in the past-inits ring, made
 * at the first restart. Returns 0, or -ENOMEM without a block (that INIT
 * is then not recognised as a late copy: a restart instead of too late).
 */
static int remember_init(struct xtel_client *c, struct xtel_arena *a,
			 uint64_t init_ts)
{
	struct xtel_past_inits *p;
	void *ptr;

	if (!c->past_inits) {
		c->past_inits = xtel_arena_alloc(a, sizeof(*p), XTEL_ARENA_COLD,
						 &ptr);
		if (!c->past_inits)
			return -ENOMEM;
	}
	p = xtel_arena_ptr(a, c->past_inits);
	p->ts[c->past_init_next] = init_ts;
	c->past_init_next = (c->past_init_next + 1) % XTEL_PAST_INITS;
	return 0;
}

static void new_epoch_state(struct xtel_client *c, struct xtel_arena *a,
			    uint64_t init_ts, uint64_t send_ts,
			    uint64_t arrival_ns, int *err)
{
	if (c->epoch_init_ts && remember_init(c, a, c->epoch_init_ts))
		*err = -ENOMEM;
	c->epochs++;
	c->epoch_init_ts = init_ts;
	c->epoch_init_arrival_ns = arrival_ns;
	c->epoch_min_ts = send_ts;
	c->bye_seen = 0;
	c->bye_seq = 0;
}

/*
 * Sent before this epoch's INIT, and arriving soon after it: a straggler of
 * a past epoch. Past the grace period the send time is not trusted (the
 * client's clock may have stepped back) and the window decides.
 */
static bool from_past_epoch(const struct xtel_client *c, uint64_t ts,
			    uint64_t arrival_ns)
{
	return c->epoch_init_ts && ts < c->epoch_init_ts &&
	       arrival_ns < c->epoch_init_arrival_ns + XTEL_STRAGGLER_NS;
}

/* The timestamp of a recent past epoch's INIT: this is a late copy. */
static bool is_past_init(const struct xtel_client *c,
			 const struct xtel_arena *a, uint64_t ts)
{
	const struct xtel_past_inits *p;

	if (!c->past_inits)	/* the ring is all empty slots, zeros */
		return ts == 0;
	p = xtel_arena_ptr(a, c->past_inits);
	for (unsigned int i = 0; i < XTEL_PAST_INITS; i++)
		if (p->ts[i] == ts)
			return true;
	return false;
}

static enum xtel_seq_verdict account_init(struct xtel_client *c,
					  struct xtel_arena *a,
					  const struct xtel_msg *msg,
					  uint64_t arrival_ns, uint64_t *gap,
					  int *err)
{
	struct xtel_seqwin *w = &c->win;
	uint64_t ts = msg->send_ts_ns;

	if (!w->started) {
		new_epoch_state(c, a, ts, ts, arrival_ns, err);
		return xtel_seqwin_account(w, 0, gap);
	}
	if (c->epoch_init_ts) {
		if (ts == c->epoch_init_ts) {
			w->duplicates++;
			return XTEL_SEQ_DUPLICATE;
		}
		if (from_past_epoch(c, ts, arrival_ns) || is_past_init(c, a, ts)) {
			w->too_late++;
			return XTEL_SEQ_TOO_LATE;
		}
	} else if (ts <= c->epoch_min_ts) {
		/* This epoch's own INIT, overtaken by its datagrams. */
		c->epoch_init_ts = ts;
		c->epoch_init_arrival_ns = arrival_ns;
		c->epoch_min_ts = ts;
		return xtel_seqwin_account(w, 0, gap);
	}
	xtel_seqwin_restart(w, 0);
	new_epoch_state(c, a, ts, ts, arrival_ns, err);
	return XTEL_SEQ_RESTART;
}

static enum xtel_seq_verdict account_numbered(struct xtel_client *c,
					      struct xtel_arena *a,
					      const struct xtel_msg *msg,
					      uint64_t arrival_ns, uint64_t *gap,
					      int *err)
{
	struct xtel_seqwin *w = &c->win;
	uint64_t ts = msg->send_ts_ns;
	bool first = !w->started;
	enum xtel_seq_verdict v;

	/* A closed epoch takes nothing more, short of a sequence reset. */
	if (from_past_epoch(c, ts, arrival_ns) ||
	    (c->bye_seen && !xtel_seqwin_is_reset(w, msg->seq))) {
		w->too_late++;
		return XTEL_SEQ_TOO_LATE;
	}
	v = xtel_seqwin_account(w, msg->seq, gap);
	if (first || v == XTEL_SEQ_RESTART)
		new_epoch_state(c, a, 0, ts, arrival_ns, err);
	else if (ts < c->epoch_min_ts)
		c->epoch_min_ts = ts;
	return v;
}

static enum xtel_seq_verdict account_bye(struct xtel_client *c,
					 const struct xtel_msg *msg,
					 uint64_t arrival_ns, uint64_t *gap)
{
	struct xtel_seqwin *w = &c->win;

	if (c->bye_seen && msg->seq == c->bye_seq) {
		w->duplicates++;
		return XTEL_SEQ_DUPLICATE;
	}
	if (c->bye_seen || from_past_epoch(c, msg->send_ts_ns, arrival_ns)) {
		w->too_late++;
		return XTEL_SEQ_TOO_LATE;
	}
	/* A BYE before anything else of the epoch settles nothing: the
	 * collector cannot know what it missed before it started. */
	*gap = xtel_seqwin_bye(w, msg->seq);
	c->bye_seen = 1;
	c->bye_seq = msg->seq;
	return XTEL_SEQ_NEW;
}

/* Bring a key's intervals up to the global interval now. */
static void roll(struct xtel_metric_state *m, uint64_t now)
{
	if (m->cur_id == now)
		return;
	if (m->cur_id + 1 == now)
		m->prev = m->cur;
	else
		memset(&m->prev, 0, sizeof(m->prev));
	memset(&m->cur, 0, sizeof(m->cur));
	m->cur_id = now;
}

static void ivl_of(struct xtel_metric_ivl *out, const struct xtel_metric_acc *a)
{
	out->count = a->count;
	out->min = a->min;
	out->max = a->max;
	out->sum = a->sum;
}

void xtel_metric_last_interval(const struct xtel_metric_state *m, uint64_t now,
			       struct xtel_metric_ivl *out)
{
	memset(out, 0, sizeof(*out));
	if (now == 0)
		return;
	out->id = now - 1;
	/* prev is interval cur_id - 1, which is now - 1 when cur_id == now */
	if (m->cur_id == now - 1)
		ivl_of(out, &m->cur);
	else if (m->cur_id == now)
		ivl_of(out, &m->prev);
}

/*
 * Keys are short (most under 16 bytes): a loop beats a memcmp call. The
 * registry's copy is NUL-padded, so the byte after a match of len bytes
 * tells whether the names have the same length.
 */
static inline bool key_eq(const struct xtel_metric_state *m, const char *key,
			  unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		if (m->key[i] != key[i])
			return false;
	return m->key[len] == '\0';
}

/*
 * The slot of a metric key. A client sends the same keys in the same
 * order, so the pos-th metric of a datagram is tried at slot pos first.
 */
static struct xtel_metric_state *key_slot(struct xtel_client *c,
					  struct xtel_arena *a,
					  struct xtel_keys *keys,
					  const struct xtel_metric *mt,
					  unsigned int pos, uint64_t interval,
					  int *err)
{
	struct xtel_metric_state *m;
	unsigned int i, len = mt->key_len;
	const char *name;

	if (len > XTEL_MAX_KEY_LEN)
		len = XTEL_MAX_KEY_LEN;
	if (pos < c->n_keys && key_eq(m = xtel_client_key(c, pos), mt->key, len))
		return m;
	for (i = 0; i < c->n_keys; i++) {
		m = xtel_client_key(c, i);
		if (key_eq(m, mt->key, len))
			return m;
	}
	if (i == XTEL_CLIENT_MAX_KEYS)
		return NULL;
	name = xtel_keys_intern(keys, a, mt->key, len);
	if (!name) {
		*err = -ENOMEM;
		return NULL;
	}
	if (!c->keys[xtel_key_chunk(i)]) {
		unsigned int k = xtel_key_chunk(i);
		void *p;

		if (!xtel_arena_alloc(a, xtel_key_chunk_len(k) * sizeof(*m),
				      XTEL_ARENA_METRICS, &p)) {
			*err = -ENOMEM;
			return NULL;
		}
		__atomic_store_n(&c->keys[k], (struct xtel_metric_state *)p,
				 __ATOMIC_RELEASE);
	}
	m = xtel_client_key(c, i);
	m->key = name;
	m->cur_id = interval;
	c->n_keys = (uint8_t)(i + 1);
	return m;
}

static int apply_metrics(struct xtel_client *c, struct xtel_arena *a,
			 struct xtel_keys *keys, const struct xtel_msg *msg,
			 uint64_t interval)
{
	int err = 0;
	uint32_t n = msg->n_metrics;

	if (n > XTEL_MAX_METRICS)
		n = XTEL_MAX_METRICS;
	for (uint32_t i = 0; i < n; i++) {
		const struct xtel_metric *mt = &msg->metrics[i];
		struct xtel_metric_state *m = key_slot(c, a, keys, mt, i,
							   interval, &err);
		double v = mt->value;

		if (!m) {
			c->metrics_dropped++;
			continue;
		}
		/* A reordered datagram must not replace a newer value. */
		if (msg->send_ts_ns >= m->last_ts_ns) {
			m->last = v;
			m->last_ts_ns = msg->send_ts_ns;
		}
		roll(m, interval);
		if (m->cur.count == 0 || v < m->cur.min)
			m->cur.min = v;
		if (m->cur.count == 0 || v > m->cur.max)
			m->cur.max = v;
		m->cur.sum += v;
		m->cur.count++;
	}
	return err;
}

int xtel_client_account(struct xtel_client *c, struct xtel_arena *a,
			struct xtel_keys *keys, const struct xtel_msg *msg,
			uint64_t arrival_ns, uint32_t wire_len,
			uint64_t interval, struct xtel_acct_result *res)
{
	enum xtel_seq_verdict v;
	uint64_t gap = 0;
	int64_t lat = (int64_t)(arrival_ns - msg->send_ts_ns);
	unsigned int t = msg->type <= XTEL_MSG_TYPE_MAX ? msg->type : 0;
	int err = 0;

	c->bytes += wire_len;
	c->by_type[t]++;
	if (c->first_seen_ns == 0 || arrival_ns < c->first_seen_ns)
		c->first_seen_ns = arrival_ns;
	if (arrival_ns > c->last_seen_ns)
		c->last_seen_ns = arrival_ns;

	if (t == XTEL_MSG_INIT && msg->seq == 0)
		v = account_init(c, a, msg, arrival_ns, &gap, &err);
	else if (t == XTEL_MSG_BYE)
		v = account_bye(c, msg, arrival_ns, &gap);
	else
		v = account_numbered(c, a, msg, arrival_ns, &gap, &err);

	if (v != XTEL_SEQ_DUPLICATE && xtel_latpack_record(&c->lat, a, lat))
		err = -ENOMEM;
	if (t == XTEL_MSG_DATA &&
	    (v == XTEL_SEQ_NEW || v == XTEL_SEQ_REORDERED ||
	     v == XTEL_SEQ_RESTART) && msg->n_metrics &&
	    apply_metrics(c, a, keys, msg, interval))
		err = -ENOMEM;
	if (res) {
		res->verdict = v;
		res->gap = gap;
		res->latency_ns = lat;
	}
	return err;
}
