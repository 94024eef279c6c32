// SPDX-License-Identifier: MIT
/*
 * Client datagram emission: sequence numbering, DATA fault injection with
 * the held-back queue, encoding (and sealing, in DTLS mode) into the sender
 * thread's batch, and the sendmmsg flush that turns batch slots into exact
 * per-type "sent" counts. Only datagrams the kernel accepted are counted as
 * sent; a refused target stops the whole run (exit code 3).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "client.h"
#include "dtls_client.h"
#include "pacing.h"
#include "wire/wire.h"

struct xtel_lg_batch *xtel_lg_batch_new(uint32_t cap)
{
	struct xtel_lg_batch *b = aligned_alloc(64, (sizeof(*b) + 63) & ~(size_t)63);

	if (!b)
		return NULL;
	memset(b, 0, sizeof(*b));
	b->cap = cap;
	for (uint32_t i = 0; i < XTEL_LG_MAX_BATCH; i++) {
		b->iov[i].iov_base = b->buf[i];
		b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
		b->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return b;
}

void xtel_lg_batch_free(struct xtel_lg_batch *b)
{
	free(b);
}

int xtel_lg_client_open(struct xtel_lg_client *c, uint32_t id,
			const struct xtel_lg_config *cfg)
{
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	/* Bounded block on a full send buffer; never hang a stopping run. */
	struct timeval snd_to = { .tv_sec = 1 };
	int fd, ret;

	memset(c, 0, sizeof(*c));
	c->id = id;
	c->fd = -1;
	c->payload_rng = xtel_lg_mix3(cfg->seed, id, 0x7061796c6f6164ull);
	fd = socket(cfg->target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd_to, sizeof(snd_to));
	if (cfg->source_len &&
	    bind(fd, (const struct sockaddr *)&cfg->source, cfg->source_len) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (connect(fd, (const struct sockaddr *)&cfg->target, cfg->target_len) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0) {
		c->src_port = ntohs(local.ss_family == AF_INET ?
			((struct sockaddr_in *)&local)->sin_port :
			((struct sockaddr_in6 *)&local)->sin6_port);
	}
	c->fd = fd;
	return 0;
}

void xtel_lg_client_close(struct xtel_lg_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int is_unreachable(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH ||
	       err == ENETUNREACH || err == EHOSTDOWN || err == ENETDOWN;
}

int xtel_lg_batch_flush(struct xtel_lg_tx *tx, struct xtel_lg_client *c)
{
	struct xtel_lg_batch *b = tx->batch;
	uint32_t off = 0, retries = 0;
	uint64_t sent = 0;
	int ret = 0;

	while (off < b->n) {
		int r = sendmmsg(c->fd, &b->msgs[off], b->n - off, 0);

		if (r < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			if ((err == ENOBUFS || err == EAGAIN) && retries++ < 100) {
				/* Queue full below us: back off briefly. */
				struct timespec ts = { .tv_nsec = 100000 };

				nanosleep(&ts, NULL);
				continue;
			}
			if (is_unreachable(err)) {
				xtel_lg_run_fail(tx->run, XTEL_LG_EXIT_UNREACHABLE,
						 "target %s unreachable from client %u: %s%s",
						 tx->run->cfg->target_str, c->id, strerror(err),
						 err == ECONNREFUSED ?
						 " (ICMP port unreachable: is the collector listening there?)" : "");
			}
			/* The rest of the batch did not leave: count, drop. */
			c->st.send_errors += b->n - off;
			xtel_lg_ctr_add(&tx->ctr->errors, b->n - off);
			ret = -err;
			break;
		}
		for (int i = 0; i < r; i++) {
			c->st.sent_type[b->types[off + i]]++;
			c->st.bytes += b->iov[off + i].iov_len;
		}
		off += (uint32_t)r;
		sent += (uint64_t)r;
	}
	if (sent) {
		c->st.sent += sent;
		c->last_send_ns = tx->now_ns;
		xtel_lg_ctr_add(&tx->ctr->sent, sent);
	}
	b->n = 0;
	return ret;
}

/* Encode one datagram into the next batch slot (flushing a full batch). */
static void emit(struct xtel_lg_tx *tx, struct xtel_lg_client *c, uint8_t type,
		 uint64_t seq)
{
	struct xtel_lg_run *run = tx->run;
	struct xtel_lg_batch *b = tx->batch;
	char payload[XTEL_MAX_PAYLOAD];
	uint64_t send_ts = xtel_realtime_ns();
	size_t plen = 0;
	uint8_t *out;
	ssize_t len;

	if (b->n == b->cap)
		xtel_lg_batch_flush(tx, c);
	if (type == XTEL_MSG_DATA && tx->payload) {
		plen = tx->payload_len < sizeof(payload) ? tx->payload_len : sizeof(payload);
		memcpy(payload, tx->payload, plen);
	} else if (type == XTEL_MSG_DATA) {
		struct xtel_lg_render_ctx rc = {
			.seq = seq,
			.client_id = c->id,
			.elapsed_ms = tx->now_ns > run->t0_ns ?
				      (tx->now_ns - run->t0_ns) / 1000000 : 0,
			.rng = &c->payload_rng,
		};

		plen = xtel_lg_payload_render(&run->payload, &rc, payload);
		plen = xtel_lg_scenario_metrics(&c->eff, payload, plen,
						sizeof(payload));
	}
	if (c->eff.delay_ns || c->eff.jitter_ns) {
		/* back-dated: the collector measures exactly this much more */
		send_ts -= xtel_lg_scenario_delay(&c->eff, run->cfg->seed, c->id, seq);
		c->st.scenario_delayed++;
	}
	out = run->dtls ? b->plain : b->buf[b->n];
	len = xtel_wire_encode(out, XTEL_LG_SLOT_SIZE, type, c->id, seq,
			       send_ts, payload, plen);
	if (len < 0)
		return;	/* cannot happen: the payload was validated */
	if (run->dtls) {
		len = xtel_lg_dtls_seal(c, b->plain, (size_t)len, b->buf[b->n],
					XTEL_LG_SLOT_SIZE);
		if (len < 0) {
			c->st.send_errors++;
			xtel_lg_ctr_add(&tx->ctr->errors, 1);
			return;
		}
	}
	b->iov[b->n].iov_len = (size_t)len;
	b->types[b->n] = type;
	b->n++;
}

static void emit_data_one(struct xtel_lg_tx *tx, struct xtel_lg_client *c,
			  uint64_t seq)
{
	emit(tx, c, XTEL_MSG_DATA, seq);
	if (seq < c->max_data_seq)
		c->st.injected_reorder++;
	else
		c->max_data_seq = seq;
}

/*
 * Send one DATA datagram and count it towards every held datagram's delay;
 * a held datagram whose delay runs out is sent, which counts as well.
 */
static void emit_data(struct xtel_lg_tx *tx, struct xtel_lg_client *c,
		      uint64_t seq)
{
	struct xtel_lg_held_queue *q = &c->held;
	uint32_t ticks = 1;

	emit_data_one(tx, c, seq);
	while (ticks && q->n) {
		ticks--;
		for (uint32_t i = 0; i < q->n;) {
			if (--q->items[i].countdown == 0) {
				uint64_t s = q->items[i].seq;

				memmove(&q->items[i], &q->items[i + 1],
					(q->n - i - 1) * sizeof(q->items[0]));
				q->n--;
				emit_data_one(tx, c, s);
				ticks++;
			} else {
				i++;
			}
		}
	}
}

void xtel_lg_client_send_init(struct xtel_lg_tx *tx, struct xtel_lg_client *c)
{
	c->seq = 0;
	c->max_data_seq = 0;
	emit(tx, c, XTEL_MSG_INIT, 0);
	xtel_lg_batch_flush(tx, c);
	c->state = XTEL_LG_CLIENT_ACTIVE;
}

/*
 * The scenario at this turn: how many DATA seqs the k paced slots become
 * (a rate rule owes fractions across turns; stop sends none).
 */
static uint64_t scenario_turn(struct xtel_lg_tx *tx, struct xtel_lg_client *c,
			      uint64_t k)
{
	const struct xtel_lg_run *run = tx->run;
	double t = tx->now_ns > run->t0_ns ? (double)(tx->now_ns - run->t0_ns) / 1e9 : 0;
	uint64_t n;

	if (!run->scenario)
		return k;
	xtel_lg_scenario_effect(run->scenario, c->id, t, &c->eff);
	if (c->eff.stop) {
		c->st.scenario_skipped += k;
		c->rate_credit = 0;
		return 0;
	}
	if (c->eff.rate == 1.0)
		return k;
	c->rate_credit += c->eff.rate * (double)k;
	n = (uint64_t)c->rate_credit;
	if (n > XTEL_LG_MAX_BATCH)
		n = XTEL_LG_MAX_BATCH;
	c->rate_credit -= (double)n;
	if (n < k)
		c->st.scenario_skipped += k - n;
	else
		c->st.scenario_extra += n - k;
	return n;
}

void xtel_lg_client_send_data(struct xtel_lg_tx *tx, struct xtel_lg_client *c,
			      uint64_t k)
{
	const struct xtel_lg_fault_cfg *f = &tx->run->fault;
	uint64_t slots = k;

	k = scenario_turn(tx, c, k);
	for (uint64_t i = 0; i < k; i++) {
		uint64_t seq = ++c->seq;

		c->st.data_slots++;
		if (c->eff.loss > 0 &&
		    xtel_lg_scenario_lose(&c->eff, tx->run->cfg->seed, c->id, seq)) {
			c->st.injected_loss++;
			c->st.scenario_loss++;
			continue;
		}
		switch (xtel_lg_fault_decide(f, c->id, seq)) {
		case XTEL_LG_FAULT_LOSS:
			c->st.injected_loss++;
			break;
		case XTEL_LG_FAULT_DUP:
			c->st.injected_dup++;
			emit_data(tx, c, seq);
			emit_data(tx, c, seq);
			break;
		case XTEL_LG_FAULT_REORDER:
			if (c->held.n < XTEL_LG_MAX_HELD) {
				c->held.items[c->held.n++] = (struct xtel_lg_held){
					.seq = seq, .countdown = f->depth,
				};
				c->st.reorder_held++;
				break;
			}
			c->st.reorder_not_held++;
			emit_data(tx, c, seq);
			break;
		case XTEL_LG_FAULT_NONE:
			emit_data(tx, c, seq);
			break;
		}
	}
	xtel_lg_ctr_add(&tx->ctr->data_slots, slots);
	xtel_lg_batch_flush(tx, c);
}

void xtel_lg_client_send_heartbeat(struct xtel_lg_tx *tx,
				   struct xtel_lg_client *c)
{
	if (scenario_turn(tx, c, 0), c->eff.stop)
		return;		/* a stopped device beats no more */
	emit(tx, c, XTEL_MSG_HEARTBEAT, ++c->seq);
	xtel_lg_batch_flush(tx, c);
}

void xtel_lg_client_finish(struct xtel_lg_tx *tx, struct xtel_lg_client *c)
{
	struct xtel_lg_held_queue *q = &c->held;

	if (c->state != XTEL_LG_CLIENT_ACTIVE)
		return;
	/* Held datagrams go first: the collector must see them before BYE. */
	for (uint32_t i = 0; i < q->n; i++) {
		uint64_t s = q->items[i].seq;

		if (s < c->max_data_seq) {
			emit_data_one(tx, c, s);
		} else {
			emit(tx, c, XTEL_MSG_DATA, s);
			c->max_data_seq = s;
			c->st.reorder_in_order++;
		}
	}
	q->n = 0;
	emit(tx, c, XTEL_MSG_BYE, c->seq);
	xtel_lg_batch_flush(tx, c);
	c->state = XTEL_LG_CLIENT_DONE;
}
