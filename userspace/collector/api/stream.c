// SPDX-License-Identifier: MIT
/*
 * The live stream of GET /api/v1/stream (stream.h): the ticker thread that
 * renders one event per published view, the bounded per-stream queues and
 * libmicrohttpd's content reader that drains them, suspending an idle
 * connection instead of returning 0 again and again (which would spin a
 * server thread: libmicrohttpd calls a reader that returned 0 at once).
 *
 * An event is rendered at most once per view and kind (deltas, full
 * table, totals only) and shared by reference: the cost of a view does not
 * grow with the number of streams. Rows are written by hand, not through
 * jansson: a full table of 100,000 clients is 1.5 million numbers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "common/clock.h"
#include "common/json.h"
#include "collector/api/stream.h"
#include "collector/out/view_json.h"
#include "xdp/xdp.h"

enum ev_kind { EV_DELTA, EV_FULL, EV_BARE, EV_KINDS };

struct stream_event {
	unsigned int refs;		/* under the streams' lock */
	size_t len;
	char *data;
};

struct xtel_api_stream {
	struct xtel_api_streams *s;
	struct MHD_Connection *c;	/* NULL until its response is queued */
	struct xtel_api_stream *prev, *next;
	struct stream_event *q[XTEL_STREAM_QUEUE];
	unsigned int head, n;
	size_t off;			/* bytes of q[head] already sent */
	size_t queued_bytes;
	bool rows;			/* ?rows=changed (default) */
	bool need_full;			/* next event: the whole table */
	bool suspended, closing;
};

struct xtel_api_streams {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* the ticker's wake-up; and quiesce's */
	pthread_t thread;
	bool thread_on, stop;
	bool wake;			/* a new stream wants its table */
	struct xtel_model *model;
	/* views published and not yet rendered, oldest first */
	struct xtel_view *pending[XTEL_STREAM_PENDING];
	unsigned int p_head, p_n;
	struct xtel_api_stream *list;
	/* the ticker's own: the view of the last deltas, its events */
	struct xtel_view *prev;
	uint64_t last_seq;
	struct stream_event *ev[EV_KINDS];	/* of last_seq; NULL: not built */
	struct xtel_api_stream_stats st;
};

/* ---- events ---- */

static void ev_put(struct stream_event *e)
{
	if (e && !--e->refs) {
		free(e->data);
		free(e);
	}
}

static enum xtel_client_state prev_state(const struct xtel_view *p,
					 uint32_t *i, uint32_t id,
					 const struct xtel_view_client **out)
{
	*out = NULL;
	if (!p)
		return XTEL_CLIENT_LIVE;
	while (*i < p->snap.n_clients && p->snap.clients[*i].client_id < id)
		(*i)++;
	if (*i < p->snap.n_clients && p->snap.clients[*i].client_id == id)
		*out = &p->clients[*i];
	return *out ? (*out)->state : XTEL_CLIENT_LIVE;
}

/* A client's row differs from the previous view's (or it is new). */
static bool row_changed(const struct xtel_view_client *vc,
			const struct xtel_view_client *pc)
{
	const struct xtel_client_snap *a = vc->snap, *b;

	if (!pc)
		return true;
	b = pc->snap;
	return a->received != b->received || a->lost != b->lost ||
	       a->duplicates != b->duplicates || a->reordered != b->reordered ||
	       a->too_late != b->too_late || vc->state != pc->state ||
	       vc->pkt_s != pc->pkt_s;
}

static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

static double age_s(const struct xtel_view *v, uint64_t ns)
{
	return ns && v->taken_ns > ns ? (double)(v->taken_ns - ns) / 1e9 : 0.0;
}

/* The columns of a row, in order (docs/API.md, "Stream"). */
static const char row_cols[] =
	"[\"client_id\",\"state\",\"received\",\"bytes\",\"lost\","
	"\"duplicates\",\"reordered\",\"too_late\",\"loss_pct\",\"pkt_s\","
	"\"mb_s\",\"latency_p50_us\",\"latency_p99_us\",\"latency_max_us\","
	"\"last_seen_age_s\",\"pending\"]";

static void row(FILE *f, const struct xtel_view *v,
		const struct xtel_view_client *vc, bool first)
{
	const struct xtel_client_snap *c = vc->snap;

	fprintf(f, "%s[%u,\"%s\",%llu,%llu,%llu,%llu,%llu,%llu,%.6f,%.3f,%.6f,"
		"%.3f,%.3f,%.3f,%.3f,%llu]", first ? "" : ",", c->client_id,
		xtel_client_state_name(vc->state),
		(unsigned long long)c->received, (unsigned long long)c->bytes,
		(unsigned long long)c->lost, (unsigned long long)c->duplicates,
		(unsigned long long)c->reordered, (unsigned long long)c->too_late,
		xtel_view_client_loss_pct(vc), vc->pkt_s, vc->mb_s, us(c->lat.p50_ns),
		us(c->lat.p99_ns), us(c->lat.max_ns), age_s(v, c->last_seen_ns),
		(unsigned long long)c->pending);
}

/* The fleet's figures of one view: the head of every event. */
static json_t *totals_json(const struct xtel_view *v)
{
	const struct xtel_client_snap *t = v->total.snap;
	json_t *o = json_object(), *xdp = json_object(), *drops;

	xtel_json_set(o, "clients", json_integer(v->snap.n_clients));
	xtel_json_set(o, "live", json_integer(v->live));
	xtel_json_set(o, "stale", json_integer(v->stale));
	xtel_json_set(o, "bye", json_integer(v->bye));
	xtel_json_set(o, "received", xtel_json_u64(t->received));
	xtel_json_set(o, "bytes", xtel_json_u64(t->bytes));
	xtel_json_set(o, "lost", xtel_json_u64(t->lost));
	xtel_json_set(o, "pending", xtel_json_u64(t->pending));
	xtel_json_set(o, "duplicates", xtel_json_u64(t->duplicates));
	xtel_json_set(o, "reordered", xtel_json_u64(t->reordered));
	xtel_json_set(o, "too_late", xtel_json_u64(t->too_late));
	xtel_json_set(o, "loss_pct", xtel_json_fixed(xtel_view_client_loss_pct(&v->total), 6));
	xtel_json_set(o, "pkt_s", xtel_json_fixed(v->total.pkt_s, 3));
	xtel_json_set(o, "mb_s", xtel_json_fixed(v->total.mb_s, 6));
	xtel_json_set(o, "latency_us", xtel_view_json_latency(&t->lat));
	xtel_json_set(o, "dtls_sessions", xtel_json_u64(v->dtls_sessions));
	xtel_json_set(o, "dropped_total", xtel_json_u64(v->dropped_total));
	xtel_json_set(o, "drops", xtel_view_json_family(xtel_drop_desc,
							 v->cnt.drops, 1,
							 XTEL_DROP_MAX));
	xtel_json_set(xdp, "on", json_boolean(v->xdp.on));
	xtel_json_set(xdp, "dropped", xtel_json_u64(v->xdp.dropped));
	drops = json_object();
	for (unsigned int i = 0; v->xdp.on && i < XTEL_XDP_STAT_OUTCOMES; i++)
		if (!strncmp(xtel_xdp_stat_name(i), "drop_", 5))
			xtel_json_set(drops, xtel_xdp_stat_name(i) + 5,
				      xtel_json_u64(v->xdp.totals.packets[i]));
	xtel_json_set(xdp, "drops", drops);
	xtel_json_set(o, "xdp", xdp);
	return o;
}

static struct stream_event *render(const struct xtel_view *v,
				   const struct xtel_view *prev,
				   enum ev_kind kind)
{
	struct stream_event *e = calloc(1, sizeof(*e));
	json_t *head = json_object();
	char *hj = NULL;
	size_t hlen = 0;
	uint32_t pi = 0, n = 0;
	FILE *f;

	if (!e || !head)
		goto fail;
	xtel_json_set(head, "seq", xtel_json_u64(v->seq));
	xtel_json_set(head, "taken_ns", xtel_json_u64(v->taken_ns));
	xtel_json_set(head, "elapsed_s", xtel_json_fixed(v->elapsed_s, 6));
	xtel_json_set(head, "dt_s", xtel_json_fixed(v->dt_s, 6));
	xtel_json_set(head, "final", json_boolean(v->final));
	xtel_json_set(head, "totals", totals_json(v));
	xtel_json_set(head, "full", json_boolean(kind == EV_FULL));
	if (xtel_json_dump_alloc(head, &hj, &hlen) || hlen < 2)
		goto fail;
	f = open_memstream(&e->data, &e->len);
	if (!f)
		goto fail;
	/* the event's id is the view's seq: a reconnect can tell a gap */
	fprintf(f, "id: %llu\nevent: interval\ndata: %.*s",
		(unsigned long long)v->seq, (int)(hlen - 1), hj);
	if (kind != EV_BARE) {
		fprintf(f, ",\"cols\":%s,\"rows\":[", row_cols);
		for (uint32_t i = 0; i < v->snap.n_clients; i++) {
			const struct xtel_view_client *vc = &v->clients[i], *pc;

			prev_state(prev, &pi, vc->snap->client_id, &pc);
			if (kind == EV_DELTA && !row_changed(vc, pc))
				continue;
			row(f, v, vc, !n++);
		}
		fputc(']', f);
	}
	fprintf(f, ",\"n_rows\":%u}\n\n", n);
	if (fclose(f))
		goto fail;
	free(hj);
	json_decref(head);
	e->refs = 1;
	return e;
fail:
	free(hj);
	json_decref(head);
	if (e)
		free(e->data);
	free(e);
	return NULL;
}

/* ---- queues (under the lock) ---- */

static void drop_queued(struct xtel_api_stream *st, bool keep_head)
{
	unsigned int keep = keep_head && st->off ? 1 : 0;

	while (st->n > keep) {
		unsigned int i = (st->head + st->n - 1) % XTEL_STREAM_QUEUE;

		st->queued_bytes -= st->q[i]->len;
		ev_put(st->q[i]);
		st->q[i] = NULL;
		st->n--;
	}
}

static void resume(struct xtel_api_stream *st)
{
	if (st->suspended && st->c) {
		st->suspended = false;
		MHD_resume_connection(st->c);
	}
}

/*
 * Appends e; a full queue loses what it holds (but the event being sent,
 * so the bytes on the wire stay whole events), counted, and the stream is
 * due a full table. Returns false when e was not queued.
 */
static bool enqueue(struct xtel_api_streams *s, struct xtel_api_stream *st,
		    struct stream_event *e)
{
	if (st->n == XTEL_STREAM_QUEUE ||
	    st->queued_bytes + e->len > XTEL_STREAM_QUEUE_BYTES) {
		unsigned int before = st->n;

		drop_queued(st, true);
		s->st.dropped += before - st->n + 1;	/* and e */
		s->st.resyncs += st->rows;	/* a full table follows */
		st->need_full = st->rows;
		return false;
	}
	e->refs++;
	st->q[(st->head + st->n) % XTEL_STREAM_QUEUE] = e;
	st->n++;
	st->queued_bytes += e->len;
	s->st.events++;
	resume(st);
	return true;
}

/* ---- the ticker ---- */

static void set_events(struct xtel_api_streams *s, uint64_t seq)
{
	for (int k = 0; k < EV_KINDS; k++) {
		ev_put(s->ev[k]);
		s->ev[k] = NULL;
	}
	s->last_seq = seq;
}

/*
 * A published view's deltas (or totals) to every stream that has its
 * table. Events are rendered without the lock, which the readers need.
 * Takes the reference to v.
 */
static void tick_view(struct xtel_api_streams *s, struct xtel_view *v)
{
	struct stream_event *d = render(v, s->prev, EV_DELTA);
	struct stream_event *b = render(v, s->prev, EV_BARE);
	struct xtel_api_stream *st;

	pthread_mutex_lock(&s->lock);
	set_events(s, v->seq);
	s->ev[EV_DELTA] = d;
	s->ev[EV_BARE] = b;
	for (st = s->list; st; st = st->next) {
		struct stream_event *e = st->rows ? d : b;

		if (st->closing || (st->rows && st->need_full))
			continue;
		if (e)
			enqueue(s, st, e);
		else
			st->need_full = st->rows;
	}
	pthread_mutex_unlock(&s->lock);
	xtel_view_put(s->prev);
	s->prev = v;
}

/*
 * The whole table of the last rendered view to the streams that need one
 * (new, or after a drop): the deltas that follow are against that view.
 */
static void serve_full(struct xtel_api_streams *s)
{
	struct xtel_api_stream *st;
	bool want = false;

	if (!s->prev)
		return;
	pthread_mutex_lock(&s->lock);
	for (st = s->list; st; st = st->next)
		want |= st->need_full && !st->closing;
	pthread_mutex_unlock(&s->lock);
	if (!want)
		return;
	if (!s->ev[EV_FULL]) {
		struct stream_event *full = render(s->prev, NULL, EV_FULL);

		pthread_mutex_lock(&s->lock);
		s->ev[EV_FULL] = full;
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	for (st = s->list; st && s->ev[EV_FULL]; st = st->next) {
		if (!st->need_full || st->closing)
			continue;
		/*
		 * After a drop the queue holds at most the event being sent;
		 * a new stream's holds its retry line, which must stay.
		 */
		if (enqueue(s, st, s->ev[EV_FULL]))
			st->need_full = false;
	}
	pthread_mutex_unlock(&s->lock);
}

static void *ticker(void *arg)
{
	struct xtel_api_streams *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		if (!s->p_n && !s->wake) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&s->cond, &s->lock, &ts);
			continue;
		}
		s->wake = false;
		while (s->p_n && !s->stop) {
			struct xtel_view *v = s->pending[s->p_head];

			s->pending[s->p_head] = NULL;
			s->p_head = (s->p_head + 1) % XTEL_STREAM_PENDING;
			s->p_n--;
			pthread_mutex_unlock(&s->lock);
			tick_view(s, v);
			pthread_mutex_lock(&s->lock);
		}
		pthread_mutex_unlock(&s->lock);
		serve_full(s);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/*
 * The main thread, right after publishing: the view is queued for the
 * ticker, so that every view becomes one event even when the ticker runs
 * late. A ticker XTEL_STREAM_PENDING views behind skips the oldest
 * (counted); the deltas stay exact, being against the last rendered view.
 */
void xtel_api_streams_kick(struct xtel_api_streams *s)
{
	struct xtel_view *v, *old = NULL;

	if (!s || !(v = xtel_model_view(s->model)))
		return;
	pthread_mutex_lock(&s->lock);
	if (s->p_n == XTEL_STREAM_PENDING) {
		old = s->pending[s->p_head];
		s->p_head = (s->p_head + 1) % XTEL_STREAM_PENDING;
		s->p_n--;
		s->st.skipped++;
	}
	s->pending[(s->p_head + s->p_n) % XTEL_STREAM_PENDING] = v;
	s->p_n++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	xtel_view_put(old);
}

int xtel_api_streams_new(struct xtel_model *model, unsigned int max,
			 struct xtel_api_streams **out)
{
	struct xtel_api_streams *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int rc;

	if (!s)
		return -ENOMEM;
	s->model = model;
	s->st.max = max;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&s->thread, NULL, ticker, s);
	if (rc) {
		xtel_api_streams_free(s);
		return -rc;
	}
	s->thread_on = true;
	pthread_setname_np(s->thread, "xtel-stream");
	*out = s;
	return 0;
}

/* ---- one stream ---- */

int xtel_api_stream_open(struct xtel_api_streams *s, bool rows,
			 struct xtel_api_stream **out)
{
	struct xtel_api_stream *st;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (s->stop)
		rc = -ESHUTDOWN;
	else if (s->st.open >= s->st.max)
		rc = -EBUSY;
	if (rc) {
		pthread_mutex_unlock(&s->lock);
		return rc;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;
	}
	st->s = s;
	st->rows = rows;
	st->need_full = rows;
	s->st.open++;
	s->st.opened++;
	pthread_mutex_unlock(&s->lock);
	*out = st;
	return 0;
}

static void stream_free(void *cls)
{
	struct xtel_api_stream *st = cls;
	struct xtel_api_streams *s = st->s;

	pthread_mutex_lock(&s->lock);
	if (st->c) {
		if (st->prev)
			st->prev->next = st->next;
		else
			s->list = st->next;
		if (st->next)
			st->next->prev = st->prev;
	}
	drop_queued(st, false);
	s->st.open--;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	free(st);
}

void xtel_api_stream_abandon(struct xtel_api_stream *st)
{
	if (st)
		stream_free(st);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct xtel_api_stream *st = cls;
	struct xtel_api_streams *s = st->s;
	struct stream_event *e;
	size_t n;

	pthread_mutex_lock(&s->lock);
	if (st->closing) {
		pthread_mutex_unlock(&s->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (!st->n) {
		/* nothing to send: sleep until the ticker's next event */
		st->suspended = true;
		MHD_suspend_connection(st->c);
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	e = st->q[st->head];
	n = e->len - st->off;
	if (n > max)
		n = max;
	memcpy(buf, e->data + st->off, n);
	st->off += n;
	s->st.bytes += n;
	if (st->off == e->len) {
		st->q[st->head] = NULL;
		st->head = (st->head + 1) % XTEL_STREAM_QUEUE;
		st->n--;
		st->queued_bytes -= e->len;
		st->off = 0;
		ev_put(e);
	}
	pthread_mutex_unlock(&s->lock);
	return (ssize_t)n;
}

struct MHD_Response *xtel_api_stream_response(struct xtel_api_stream *st,
					      struct MHD_Connection *c)
{
	static const char hello[] = "retry: 2000\n\n";
	struct xtel_api_streams *s = st->s;
	struct stream_event *e = calloc(1, sizeof(*e));
	struct MHD_Response *resp;

	if (e)
		e->data = strdup(hello);
	if (!e || !e->data) {
		free(e);
		stream_free(st);
		return NULL;
	}
	e->len = sizeof(hello) - 1;
	e->refs = 1;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
						 reader, st, stream_free);
	if (!resp) {
		ev_put(e);
		stream_free(st);
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	st->c = c;
	st->closing = s->stop;
	st->next = s->list;
	if (s->list)
		s->list->prev = st;
	s->list = st;
	/* the reconnect delay first, then the table at the next tick */
	st->q[0] = e;
	st->n = 1;
	st->queued_bytes = e->len;
	s->wake = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return resp;
}

void xtel_api_streams_quiesce(struct xtel_api_streams *s, unsigned int timeout_ms)
{
	struct timespec ts;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	for (struct xtel_api_stream *st = s->list; st; st = st->next) {
		st->closing = true;
		resume(st);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (s->list)
		if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&s->lock);
	if (s->thread_on) {
		pthread_join(s->thread, NULL);
		s->thread_on = false;
	}
}

void xtel_api_streams_stats(struct xtel_api_streams *s,
			    struct xtel_api_stream_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	pthread_mutex_unlock(&s->lock);
}

void xtel_api_streams_free(struct xtel_api_streams *s)
{
	if (!s)
		return;
	xtel_api_streams_quiesce(s, 0);
	while (s->p_n) {
		xtel_view_put(s->pending[s->p_head]);
		s->p_head = (s->p_head + 1) % XTEL_STREAM_PENDING;
		s->p_n--;
	}
	set_events(s, 0);
	xtel_view_put(s->prev);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
