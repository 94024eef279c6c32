// SPDX-License-Identifier: MIT
/*
 * The exporter's thread (exporter.h). The backlog is an array of messages
 * in (sequence, part) order: this thread appends, publishes and removes;
 * libnats' ack handler only flips an entry's state (found by binary search
 * on the sequence and part in its Nats-Msg-Id) and wakes this thread, so
 * the handler never publishes and never waits. The lock is never held
 * across a libnats call, which may itself wait for the ack handler.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nats/nats.h>

#include "collector/view.h"
#include "common/clock.h"
#include "common/log.h"
#include "export/delta.h"
#include "export/exporter.h"
#include "export/nats_conn.h"
#include "export/rollup.h"
#include "export/spill.h"

#define ROW(id, nm, un, hp) XTEL_COUNTER_DESC(XTEL_EXPORT_, id, nm, un, hp)
const struct xtel_counter_desc xtel_export_desc[XTEL_EXPORT_MAX] = {
	XTEL_EXPORT_TABLE(ROW)
};
#undef ROW
#define ROW(id, nm, un, hp) XTEL_COUNTER_DESC(XTEL_EXPORT_G_, id, nm, un, hp)
const struct xtel_counter_desc xtel_export_gauge_desc[XTEL_EXPORT_G_MAX] = {
	XTEL_EXPORT_GAUGE_TABLE(ROW)
};
#undef ROW

/*
 * E_SPILLED: on disk only (data NULL); E_ACKED also marks a dropped entry.
 * Every entry keeps its len; data is in memory in the other states.
 */
enum entry_state { E_QUEUED = 0, E_IN_FLIGHT, E_ACKED, E_SPILLED };

struct entry {
	uint64_t run;		/* the edge run that made it (recovered: older) */
	uint64_t seq;
	uint32_t part;
	enum entry_state st;
	bool sent_before;
	bool on_disk;		/* a spill file exists (removed at compaction) */
	uint64_t sent_ns;
	uint32_t clients;
	size_t len;
	uint8_t *data;
};

struct xtel_exporter {
	struct xtel_export_cfg cfg;
	char subject[160];
	pthread_t thr;
	bool started, stopped;
	pthread_mutex_t lock;		/* queue, backlog states, stop */
	pthread_cond_t cond;
	struct xtel_view **q;
	unsigned int q_head, q_n;
	bool stop;
	uint64_t drain_deadline_ns;	/* CLOCK_MONOTONIC */
	bool woken;

	struct entry *b;		/* the backlog, (seq, part) order */
	size_t b_n, b_cap;
	uint64_t b_bytes;		/* in memory; this thread only */
	uint64_t spill_bytes;		/* on disk; this thread only */
	unsigned int in_flight;		/* under lock */
	uint64_t retry_at_ns;
	bool spill_warned;

	uint64_t stats[XTEL_EXPORT_MAX];	/* __atomic */
	uint64_t gauges[XTEL_EXPORT_G_MAX];	/* __atomic */

	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	bool was_connected;

	struct xtel_delta *delta;
	struct xtel_cbor_buf body, msg;
	size_t *offs;			/* client entries' offsets in body */
	size_t n_offs, cap_offs;
};

static void stat_add(struct xtel_exporter *e, enum xtel_export_stat s, uint64_t n)
{
	__atomic_add_fetch(&e->stats[s], n, __ATOMIC_RELAXED);
}

static void gauge_set(struct xtel_exporter *e, enum xtel_export_gauge g, uint64_t v)
{
	__atomic_store_n(&e->gauges[g], v, __ATOMIC_RELAXED);
}

/* The first spill failure is logged; the others are only counted. */
static void pr_warn_once_spill(struct xtel_exporter *e, int err)
{
	if (e->spill_warned)
		return;
	e->spill_warned = true;
	pr_warn("export: --export-spill %s: %s (counted in spill_errors)",
		e->cfg.spill_dir, strerror(-err));
}

void xtel_export_read(struct xtel_exporter *e, uint64_t *counters,
		      uint64_t *gauges)
{
	for (unsigned int i = 0; i < XTEL_EXPORT_MAX; i++)
		counters[i] = __atomic_load_n(&e->stats[i], __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < XTEL_EXPORT_G_MAX; i++)
		gauges[i] = __atomic_load_n(&e->gauges[i], __ATOMIC_RELAXED);
}

/* ---- the backlog ---- */

static int entry_cmp(uint64_t run, uint64_t seq, uint32_t part,
		     const struct entry *x)
{
	if (run != x->run)
		return run < x->run ? -1 : 1;
	if (seq != x->seq)
		return seq < x->seq ? -1 : 1;
	return part < x->part ? -1 : part > x->part;
}

static struct entry *entry_find(struct xtel_exporter *e, uint64_t run,
				uint64_t seq, uint32_t part)
{
	size_t lo = 0, hi = e->b_n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = entry_cmp(run, seq, part, &e->b[mid]);

		if (!c)
			return &e->b[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static void msg_id(const struct xtel_exporter *e, const struct entry *en,
		   char *buf, size_t n)
{
	snprintf(buf, n, "%s.%" PRIu64 ".%" PRIu64 ".%" PRIu32, e->cfg.edge,
		 en->run, en->seq, en->part);
}

/*
 * libnats' thread: one ack or failure. Marks the entry; never publishes
 * (a resend from here can fail and be lost).
 */
static void on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae,
		   void *arg)
{
	struct xtel_exporter *e = arg;
	const char *id = NULL;
	struct xtel_rollup_id pid;
	struct entry *en;

	if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || !id ||
	    !xtel_rollup_parse_id(id, &pid))
		return;
	pthread_mutex_lock(&e->lock);
	en = entry_find(e, pid.run, pid.seq, pid.part);
	if (en && en->st == E_IN_FLIGHT) {
		e->in_flight--;
		if (pae) {
			en->st = E_QUEUED;
			stat_add(e, XTEL_EXPORT_PUBLISH_ERRORS, 1);
		} else {
			en->st = E_ACKED;
			stat_add(e, XTEL_EXPORT_ACKED, 1);
			if (pa && pa->Duplicate)
				stat_add(e, XTEL_EXPORT_ACKED_DUPLICATE, 1);
		}
		e->woken = true;
		pthread_cond_signal(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
}

static struct xtel_spill_name spill_name(const struct entry *en)
{
	return (struct xtel_spill_name){ .run = en->run, .seq = en->seq,
		.part = en->part, .clients = en->clients };
}

/* An entry's storage goes: its memory, its spill file. */
static void entry_release(struct xtel_exporter *e, struct entry *en)
{
	if (en->data) {
		e->b_bytes -= en->len;
		free(en->data);
		en->data = NULL;
	}
	if (en->on_disk) {
		struct xtel_spill_name n = spill_name(en);

		xtel_spill_remove(e->cfg.spill_dir, e->cfg.edge, &n);
		e->spill_bytes -= en->len;
		en->on_disk = false;
	}
}

/*
 * Make room in memory for one message: the oldest queued entry goes to
 * disk (with --export-spill, while the spill has room), else the oldest
 * queued or spilled entry is dropped. false when nothing can go.
 */
static bool make_room(struct xtel_exporter *e, size_t len)
{
	for (size_t i = 0; i < e->b_n; i++) {
		struct entry *en = &e->b[i];
		struct xtel_spill_name n = spill_name(en);
		int err;

		if (en->st != E_QUEUED || !en->data)
			continue;
		if (e->cfg.spill_dir && !en->on_disk &&
		    e->spill_bytes + en->len <= e->cfg.spill_bytes) {
			err = xtel_spill_write(e->cfg.spill_dir, e->cfg.edge, &n,
					       en->data, en->len);
			if (!err) {
				en->on_disk = true;
				e->spill_bytes += en->len;
				stat_add(e, XTEL_EXPORT_SPILLED, 1);
			} else {
				stat_add(e, XTEL_EXPORT_SPILL_ERRORS, 1);
				pr_warn_once_spill(e, err);
			}
		}
		if (en->on_disk) {	/* in the file now: free the memory */
			e->b_bytes -= en->len;
			free(en->data);
			en->data = NULL;
			en->st = E_SPILLED;
			return true;
		}
		break;
	}
	/*
	 * Nothing could go to disk. With spill room left, drop nothing: the
	 * memory is held by messages in flight, and the caller spills the
	 * new one. Else drop the oldest entry not in flight.
	 */
	if (e->cfg.spill_dir && e->spill_bytes + len <= e->cfg.spill_bytes)
		return false;
	for (size_t i = 0; i < e->b_n; i++) {
		struct entry *en = &e->b[i];

		if (en->st != E_QUEUED && en->st != E_SPILLED)
			continue;
		stat_add(e, XTEL_EXPORT_BACKLOG_DROPPED, 1);
		stat_add(e, XTEL_EXPORT_BACKLOG_DROPPED_ROLLUPS, en->clients);
		entry_release(e, en);
		en->st = E_ACKED;	/* removed by the next compaction */
		return true;
	}
	return false;
}

/* Remove the acknowledged (and dropped) entries, keeping the order. */
static void compact(struct xtel_exporter *e)
{
	size_t w = 0;

	for (size_t i = 0; i < e->b_n; i++) {
		if (e->b[i].st == E_ACKED) {
			entry_release(e, &e->b[i]);
			continue;
		}
		e->b[w++] = e->b[i];
	}
	e->b_n = w;
	if (w > e->gauges[XTEL_EXPORT_G_BACKLOG_PEAK])
		gauge_set(e, XTEL_EXPORT_G_BACKLOG_PEAK, w);
	gauge_set(e, XTEL_EXPORT_G_BACKLOG_MESSAGES, w);
	gauge_set(e, XTEL_EXPORT_G_BACKLOG_BYTES, e->b_bytes);
	gauge_set(e, XTEL_EXPORT_G_SPILL_BYTES, e->spill_bytes);
}

static int backlog_add(struct xtel_exporter *e, uint64_t seq, uint32_t part,
		       uint32_t clients, const uint8_t *data, size_t len)
{
	struct entry *en;
	uint8_t *copy = malloc(len);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	pthread_mutex_lock(&e->lock);
	while (e->b_bytes + len > e->cfg.backlog_bytes && make_room(e, len))
		;
	pthread_mutex_unlock(&e->lock);
	if (e->b_n == e->b_cap) {
		size_t ncap = e->b_cap ? e->b_cap * 2 : 256;
		struct entry *nb;

		/* the handler searches e->b: resize under the lock */
		pthread_mutex_lock(&e->lock);
		nb = realloc(e->b, ncap * sizeof(*nb));
		if (nb) {
			e->b = nb;
			e->b_cap = ncap;
		}
		pthread_mutex_unlock(&e->lock);
		if (!nb) {
			free(copy);
			return -ENOMEM;
		}
	}
	pthread_mutex_lock(&e->lock);
	en = &e->b[e->b_n++];
	*en = (struct entry){ .run = e->cfg.run_id, .seq = seq, .part = part,
			      .clients = clients, .len = len, .data = copy };
	e->b_bytes += len;
	pthread_mutex_unlock(&e->lock);
	if (e->b_bytes > e->cfg.backlog_bytes && e->cfg.spill_dir &&
	    e->spill_bytes + len <= e->cfg.spill_bytes) {
		/* still over (the rest is in flight): this one waits on disk */
		struct xtel_spill_name n = spill_name(en);
		int err = xtel_spill_write(e->cfg.spill_dir, e->cfg.edge, &n,
					   copy, len);

		if (err) {
			stat_add(e, XTEL_EXPORT_SPILL_ERRORS, 1);
			pr_warn_once_spill(e, err);
			return 0;	/* kept in memory, over the bound */
		}
		stat_add(e, XTEL_EXPORT_SPILLED, 1);
		e->spill_bytes += len;
		pthread_mutex_lock(&e->lock);
		en->on_disk = true;
		en->st = E_SPILLED;
		en->data = NULL;
		pthread_mutex_unlock(&e->lock);
		e->b_bytes -= len;
		free(copy);
	}
	return 0;
}

/* ---- encoding ---- */

static int on_client(void *arg, const struct xtel_rollup_client *rc)
{
	struct xtel_exporter *e = arg;

	if (e->n_offs + 1 >= e->cap_offs) {
		size_t ncap = e->cap_offs ? e->cap_offs * 2 : 1024;
		size_t *n = realloc(e->offs, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		e->offs = n;
		e->cap_offs = ncap;
	}
	e->offs[e->n_offs++] = e->body.len;
	xtel_rollup_put_client(&e->body, rc);
	return e->body.err;
}

/* One view into its messages, appended to the backlog. */
static int encode_view(struct xtel_exporter *e, const struct xtel_view *v)
{
	struct xtel_rollup_client totals;
	struct xtel_rollup_hdr h = {
		.version = XTEL_ROLLUP_VERSION, .run = e->cfg.run_id,
		.seq = v->seq, .taken_ns = v->taken_ns,
		.interval_ns = (uint64_t)(v->dt_s * 1e9), .final = v->final,
	};
	uint64_t t0 = xtel_mono_ns();
	size_t n, per = e->cfg.clients_per_msg;
	int err;

	snprintf(h.site, sizeof(h.site), "%s", e->cfg.site);
	snprintf(h.edge, sizeof(h.edge), "%s", e->cfg.edge);
	xtel_cbor_buf_reset(&e->body);
	e->n_offs = 0;
	err = xtel_delta_step_health(e->delta, &v->snap, v->health, on_client, e,
				     &totals);
	if (err)
		return err;
	n = e->n_offs;
	if (!n && !e->offs) {	/* no client yet: on_client never reserved */
		e->offs = malloc(1024 * sizeof(*e->offs));
		if (!e->offs)
			return -ENOMEM;
		e->cap_offs = 1024;
	}
	e->offs[n] = e->body.len;	/* room kept by on_client */
	h.parts = (uint32_t)(n ? (n + per - 1) / per : 1);
	for (h.part = 0; h.part < h.parts; h.part++) {
		size_t a = (size_t)h.part * per;
		size_t z = a + per < n ? a + per : n;

		xtel_cbor_buf_reset(&e->msg);
		xtel_rollup_put_hdr(&e->msg, &h, h.part == 0);
		if (h.part == 0)
			xtel_rollup_put_client(&e->msg, &totals);
		xtel_rollup_put_clients_head(&e->msg, (uint32_t)(z - a));
		if (z > a)
			xtel_cbor_raw(&e->msg, e->body.p + e->offs[a],
				      e->offs[z] - e->offs[a]);
		if (e->msg.err)
			return e->msg.err;
		err = backlog_add(e, h.seq, h.part, (uint32_t)(z - a), e->msg.p,
				  e->msg.len);
		if (err)
			return err;
		stat_add(e, XTEL_EXPORT_MESSAGES, 1);
		stat_add(e, XTEL_EXPORT_ENCODED_BYTES, e->msg.len);
	}
	stat_add(e, XTEL_EXPORT_CLIENT_ROLLUPS, n);
	stat_add(e, XTEL_EXPORT_ENCODE_NS, xtel_mono_ns() - t0);
	return 0;
}

/* ---- publishing ---- */

/* A spilled entry back into memory if it fits; false when it must wait. */
static bool load_spilled(struct xtel_exporter *e, struct entry *en)
{
	struct xtel_spill_name n = spill_name(en);
	uint8_t *data;
	int err;

	if (e->b_bytes + en->len > e->cfg.backlog_bytes)
		return false;
	err = xtel_spill_read(e->cfg.spill_dir, e->cfg.edge, &n, en->len, &data);
	if (err) {	/* the file is gone or short: the message is lost */
		stat_add(e, XTEL_EXPORT_SPILL_ERRORS, 1);
		stat_add(e, XTEL_EXPORT_BACKLOG_DROPPED, 1);
		stat_add(e, XTEL_EXPORT_BACKLOG_DROPPED_ROLLUPS, en->clients);
		pr_warn_once_spill(e, err);
		pthread_mutex_lock(&e->lock);
		entry_release(e, en);
		en->st = E_ACKED;
		pthread_mutex_unlock(&e->lock);
		return false;
	}
	en->data = data;
	e->b_bytes += en->len;
	stat_add(e, XTEL_EXPORT_SPILL_LOADED, 1);
	pthread_mutex_lock(&e->lock);
	en->st = E_QUEUED;
	pthread_mutex_unlock(&e->lock);
	return true;
}

static void publish_queued(struct xtel_exporter *e, uint64_t now)
{
	for (size_t i = 0; i < e->b_n; i++) {
		struct entry *en = &e->b[i];
		natsMsg *m = NULL;
		jsPubOptions po;
		char id[128];
		natsStatus s;

		if (en->st == E_SPILLED && !load_spilled(e, en))
			continue;
		pthread_mutex_lock(&e->lock);
		if (en->st != E_QUEUED || e->in_flight >= e->cfg.max_in_flight) {
			bool full = e->in_flight >= e->cfg.max_in_flight;

			pthread_mutex_unlock(&e->lock);
			if (full)
				return;
			continue;
		}
		en->st = E_IN_FLIGHT;
		en->sent_ns = now;
		e->in_flight++;
		pthread_mutex_unlock(&e->lock);
		if (en->sent_before)
			stat_add(e, XTEL_EXPORT_RESENT, 1);
		en->sent_before = true;
		msg_id(e, en, id, sizeof(id));
		jsPubOptions_Init(&po);
		po.MsgId = id;
		po.MaxWait = e->cfg.max_wait_ms;
		s = natsMsg_Create(&m, e->subject, NULL, (const char *)en->data,
				   (int)en->len);
		if (s == NATS_OK)
			s = js_PublishMsgAsync(e->js, &m, &po);
		stat_add(e, XTEL_EXPORT_PUBLISHED, 1);
		if (s != NATS_OK) {
			natsMsg_Destroy(m);	/* NULL when the library took it */
			pthread_mutex_lock(&e->lock);
			if (en->st == E_IN_FLIGHT) {
				en->st = E_QUEUED;
				e->in_flight--;
			}
			pthread_mutex_unlock(&e->lock);
			stat_add(e, XTEL_EXPORT_PUBLISH_ERRORS, 1);
			e->retry_at_ns = now + 250000000ULL;
			return;
		}
	}
}

/* An ack that never came (the library's MaxWait should have fired). */
static void expire_in_flight(struct xtel_exporter *e, uint64_t now)
{
	uint64_t limit = ((uint64_t)e->cfg.max_wait_ms + 2000) * 1000000ULL;

	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->b_n; i++) {
		struct entry *en = &e->b[i];

		if (en->st == E_IN_FLIGHT && now - en->sent_ns > limit) {
			en->st = E_QUEUED;
			e->in_flight--;
			stat_add(e, XTEL_EXPORT_PUBLISH_ERRORS, 1);
		}
	}
	pthread_mutex_unlock(&e->lock);
}

static bool connected(struct xtel_exporter *e)
{
	bool on = e->nc && natsConnection_Status(e->nc) == NATS_CONN_STATUS_CONNECTED;

	if (on != e->was_connected) {
		if (on && e->stats[XTEL_EXPORT_PUBLISHED])
			stat_add(e, XTEL_EXPORT_RECONNECTS, 1);
		else if (!on)
			stat_add(e, XTEL_EXPORT_DISCONNECTS, 1);
		if (on)
			pr_info("export: connected to NATS");
		else
			pr_warn("export: NATS unreachable, keeping a backlog");
		e->was_connected = on;
		gauge_set(e, XTEL_EXPORT_G_CONNECTED, on);
	}
	return on;
}

static void *thread_main(void *arg)
{
	struct xtel_exporter *e = arg;

	for (;;) {
		struct xtel_view *v = NULL;
		uint64_t now;
		bool stop, done;

		pthread_mutex_lock(&e->lock);
		if (!e->q_n && !e->stop && !e->woken) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&e->cond, &e->lock, &ts);
		}
		e->woken = false;
		if (e->q_n) {
			v = e->q[e->q_head];
			e->q_head = (e->q_head + 1) % e->cfg.queue;
			e->q_n--;
		}
		stop = e->stop;
		pthread_mutex_unlock(&e->lock);
		if (v) {
			int err = encode_view(e, v);

			if (err)
				pr_warn("export: view %" PRIu64 " not encoded: %s",
					v->seq, strerror(-err));
			e->cfg.view_put(v);
		}
		now = xtel_mono_ns();
		pthread_mutex_lock(&e->lock);
		compact(e);
		gauge_set(e, XTEL_EXPORT_G_IN_FLIGHT, e->in_flight);
		pthread_mutex_unlock(&e->lock);
		if (connected(e) && now >= e->retry_at_ns)
			publish_queued(e, now);
		expire_in_flight(e, now);
		pthread_mutex_lock(&e->lock);
		done = stop && !e->q_n && (e->b_n == 0 || now >= e->drain_deadline_ns);
		pthread_mutex_unlock(&e->lock);
		if (done)
			break;
	}
	return NULL;
}

/* ---- life cycle ---- */

/* xtel_spill_found_fn: an earlier run's message, queued first. */
static int recovered(void *arg, const struct xtel_spill_name *n, size_t size)
{
	struct xtel_exporter *e = arg;
	struct entry *en;

	if (e->b_n == e->b_cap) {
		size_t ncap = e->b_cap ? e->b_cap * 2 : 256;
		struct entry *nb = realloc(e->b, ncap * sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		e->b = nb;
		e->b_cap = ncap;
	}
	en = &e->b[e->b_n++];
	*en = (struct entry){ .run = n->run, .seq = n->seq, .part = n->part,
			      .clients = n->clients, .len = size,
			      .st = E_SPILLED, .on_disk = true };
	e->spill_bytes += size;
	stat_add(e, XTEL_EXPORT_RECOVERED, 1);
	/* this run's entries must sort after every recovered one */
	if (e->cfg.run_id <= n->run)
		e->cfg.run_id = n->run + 1;
	return 0;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > XTEL_ROLLUP_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

static int setup_nats(struct xtel_exporter *e)
{
	struct xtel_nats_conn_cfg c = {
		.servers = e->cfg.servers, .user = e->cfg.user,
		.password = e->cfg.password, .creds = e->cfg.creds,
		.nkey = e->cfg.nkey, .nkey_seed = e->cfg.nkey_seed,
		.ca = e->cfg.ca, .cert = e->cfg.cert, .key = e->cfg.key,
		.name = e->cfg.edge,
	};
	jsOptions jo;
	natsStatus s;
	int err = xtel_nats_options(&c, &e->opts);

	if (err)
		return err;
	s = natsConnection_Connect(&e->nc, e->opts);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
		pr_err("--export %s: %s", e->cfg.servers, natsStatus_GetText(s));
		return -EINVAL;
	}
	jsOptions_Init(&jo);
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = e;
	jo.PublishAsync.MaxPending = (int64_t)e->cfg.max_in_flight * 2;
	s = natsConnection_JetStream(&e->js, e->nc, &jo);
	if (s != NATS_OK) {
		pr_err("--export: JetStream context: %s", natsStatus_GetText(s));
		return -ENOMEM;
	}
	return 0;
}

int xtel_export_new(const struct xtel_export_cfg *cfg, struct xtel_exporter **out)
{
	struct xtel_exporter *e;
	int err;

	if (!name_ok(cfg->site) || !name_ok(cfg->edge)) {
		pr_err("--site and --edge: 1..63 of [A-Za-z0-9_-] (they are NATS "
		       "subject tokens), got '%s' and '%s'", cfg->site, cfg->edge);
		return -EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	if (!e->cfg.run_id)
		e->cfg.run_id = xtel_realtime_ns();
	if (!e->cfg.queue)
		e->cfg.queue = 4;
	if (!e->cfg.clients_per_msg)
		e->cfg.clients_per_msg = 4096;
	if (!e->cfg.max_in_flight)
		e->cfg.max_in_flight = 256;
	if (!e->cfg.max_wait_ms)
		e->cfg.max_wait_ms = 5000;
	snprintf(e->subject, sizeof(e->subject), "xtel.rollup.%s.%s",
		 cfg->site, cfg->edge);
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	e->q = calloc(e->cfg.queue, sizeof(*e->q));
	err = e->q ? xtel_delta_new(&e->delta) : -ENOMEM;
	if (!err && e->cfg.spill_dir) {
		if (mkdir(e->cfg.spill_dir, 0700) && errno != EEXIST) {
			pr_err("--export-spill %s: %s", e->cfg.spill_dir, strerror(errno));
			err = -EINVAL;
		} else {
			int n = xtel_spill_scan(e->cfg.spill_dir, e->cfg.edge,
						recovered, e);

			err = n < 0 ? n : 0;
			if (n > 0)
				pr_info("export: %d unacknowledged messages of an earlier "
					"run found in %s: sending them", n, e->cfg.spill_dir);
		}
	}
	if (!err)
		err = setup_nats(e);
	if (!err)
		err = -pthread_create(&e->thr, NULL, thread_main, e);
	if (err) {
		xtel_export_free(e);
		return err;
	}
	e->started = true;
	pr_info("export: rollups to %s on %s (run %" PRIu64 ")", e->subject,
		cfg->servers, e->cfg.run_id);
	*out = e;
	return 0;
}

void xtel_export_push(struct xtel_exporter *e, struct xtel_view *v)
{
	bool queued = false;

	pthread_mutex_lock(&e->lock);
	if (e->q_n < e->cfg.queue) {
		e->q[(e->q_head + e->q_n) % e->cfg.queue] = v;
		e->q_n++;
		queued = true;
		pthread_cond_signal(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
	stat_add(e, queued ? XTEL_EXPORT_VIEWS_QUEUED : XTEL_EXPORT_VIEWS_DROPPED, 1);
	if (!queued)
		e->cfg.view_put(v);
}

void xtel_export_stop(struct xtel_exporter *e, double drain_s)
{
	if (!e || e->stopped)
		return;
	e->stopped = true;
	if (e->started) {
		pthread_mutex_lock(&e->lock);
		e->stop = true;
		e->drain_deadline_ns = xtel_mono_ns() + (uint64_t)(drain_s * 1e9);
		pthread_cond_signal(&e->cond);
		pthread_mutex_unlock(&e->lock);
		pthread_join(e->thr, NULL);
	}
	if (e->nc)
		natsConnection_Close(e->nc);
	/*
	 * No ack handler runs after the close: the backlog is ours. What is
	 * unacknowledged goes to the spill for the next run (in flight too:
	 * if it was stored, its id makes the resend harmless); what cannot
	 * is lost, and counted.
	 */
	for (size_t i = 0; i < e->b_n; i++) {
		struct entry *en = &e->b[i];
		struct xtel_spill_name n = spill_name(en);

		if (en->st == E_ACKED)
			continue;
		if (!en->on_disk && e->cfg.spill_dir && en->data &&
		    !xtel_spill_write(e->cfg.spill_dir, e->cfg.edge, &n, en->data,
				      en->len))
			en->on_disk = true;
		stat_add(e, en->on_disk ? XTEL_EXPORT_SPILL_KEPT_AT_EXIT :
			 XTEL_EXPORT_UNSENT_AT_EXIT, 1);
	}
	if (e->stats[XTEL_EXPORT_UNSENT_AT_EXIT])
		pr_warn("export: %" PRIu64 " messages unacknowledged at exit, lost",
			e->stats[XTEL_EXPORT_UNSENT_AT_EXIT]);
	if (e->stats[XTEL_EXPORT_SPILL_KEPT_AT_EXIT])
		pr_info("export: %" PRIu64 " messages unacknowledged at exit, kept "
			"in %s for the next run", e->stats[XTEL_EXPORT_SPILL_KEPT_AT_EXIT],
			e->cfg.spill_dir);
}

void xtel_export_free(struct xtel_exporter *e)
{
	if (!e)
		return;
	xtel_export_stop(e, 0);
	jsCtx_Destroy(e->js);
	natsConnection_Destroy(e->nc);
	natsOptions_Destroy(e->opts);
	/* unacknowledged spill files stay for the next run to send */
	for (size_t i = 0; i < e->b_n; i++)
		free(e->b[i].data);
	while (e->q && e->q_n) {
		e->cfg.view_put(e->q[e->q_head]);
		e->q_head = (e->q_head + 1) % e->cfg.queue;
		e->q_n--;
	}
	free(e->b);
	free(e->q);
	free(e->offs);
	xtel_cbor_buf_free(&e->body);
	xtel_cbor_buf_free(&e->msg);
	xtel_delta_free(e->delta);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->cond);
	free(e);
}
