// SPDX-License-Identifier: MIT
/*
 * The sender thread. The DATA phase is a loop around the pacer: each wakeup
 * computes the slots due since t0, hands them out round-robin to the
 * thread's active clients (an equal share each, at least one, at most a
 * batch), sends each client's share with one sendmmsg on its own socket, and
 * sleeps until enough new slots are due for a worthwhile batch. At low rates
 * that is one datagram per client turn, so the per-client spacing stays
 * even; at high rates the turns grow to full batches.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "client.h"
#include "dtls_client.h"
#include "pacing.h"
#include "sender.h"

/* Longest sleep: bounds the reaction time to SIGINT and the end time. */
static const uint64_t max_sleep_ns = 10 * 1000 * 1000;
/* Target time between wakeups at high rates; sets the minimum batch. */
static const double wake_quantum_s = 200e-6;

static void sync_with_main(struct xtel_lg_run *run)
{
	pthread_barrier_wait(&run->start_barrier);
}

static int stopping(struct xtel_lg_run *run)
{
	return atomic_load_explicit(&run->stop, memory_order_relaxed);
}

/* Heartbeats for clients idle for at least the interval. */
static void heartbeats(struct xtel_lg_tx *tx, struct xtel_lg_client *cl,
		       uint32_t n, uint64_t hb_ns)
{
	for (uint32_t i = 0; i < n; i++) {
		struct xtel_lg_client *c = &cl[i];

		if (c->state == XTEL_LG_CLIENT_ACTIVE &&
		    tx->now_ns - c->last_send_ns >= hb_ns)
			xtel_lg_client_send_heartbeat(tx, c);
	}
}

static void data_phase(struct xtel_lg_thread *th, struct xtel_lg_tx *tx)
{
	struct xtel_lg_run *run = th->run;
	const struct xtel_lg_config *cfg = run->cfg;
	struct xtel_lg_client *cl = run->clients + th->first_client;
	uint32_t n = th->n_clients, n_active = 0, cursor = 0;
	struct xtel_lg_pacer pacer;
	uint64_t done = 0, quantum, hb_ns = 0, hb_scan_ns = 0, next_hb = 0;
	uint64_t total_clients = cfg->clients, last_turn = 0;
	double thread_rate;

	for (uint32_t i = 0; i < n; i++)
		n_active += cl[i].state == XTEL_LG_CLIENT_ACTIVE;
	xtel_lg_pacer_init(&pacer, cfg, (double)n / (double)total_clients,
			   run->t0_ns, cfg->count ? cfg->count * n_active : 0);
	thread_rate = pacer.rates[0];
	for (uint32_t i = 1; i < pacer.n_steps; i++)
		if (pacer.rates[i] > thread_rate)
			thread_rate = pacer.rates[i];
	quantum = (uint64_t)fmax(1.0, fmin((double)cfg->batch,
					   thread_rate * wake_quantum_s));
	if (cfg->heartbeat_s > 0) {
		hb_ns = (uint64_t)llround(cfg->heartbeat_s * 1e9);
		/* Scanning every tenth of the interval keeps beats within 10%. */
		hb_scan_ns = hb_ns / 10 > 1000000 ? hb_ns / 10 : 1000000;
		next_hb = run->t0_ns + hb_scan_ns;
	}

	while (n_active && !stopping(run)) {
		uint64_t now = xtel_mono_ns(), due, credit, per, wake;

		tx->now_ns = now;
		due = xtel_lg_pacer_due(&pacer, now);
		if (pacer.end_ns && now >= pacer.end_ns &&
		    (pacer.unlimited || done >= due))
			break;
		credit = due - done;
		if (credit) {
			uint32_t step = xtel_lg_pacer_step(&pacer, now);
			uint64_t before = done;

			per = pacer.unlimited ? cfg->batch : credit / n_active;
			if (per < 1)
				per = 1;
			if (per > cfg->batch)
				per = cfg->batch;
			for (uint32_t visited = 0; credit && visited < n && n_active;
			     visited++) {
				struct xtel_lg_client *c = &cl[cursor];
				uint64_t k = per < credit ? per : credit;

				cursor = cursor + 1 == n ? 0 : cursor + 1;
				if (c->state != XTEL_LG_CLIENT_ACTIVE)
					continue;
				if (cfg->count && cfg->count - c->st.data_slots < k)
					k = cfg->count - c->st.data_slots;
				xtel_lg_client_send_data(tx, c, k);
				last_turn = now;
				credit -= k;
				done += k;
				if (cfg->count && c->st.data_slots == cfg->count) {
					xtel_lg_client_finish(tx, c);
					n_active--;
				}
				if (stopping(run))
					break;
			}
			xtel_lg_ctr_add(&th->ctr.step_slots[step], done - before);
			if (credit && !pacer.unlimited)
				continue;	/* behind schedule: no sleep */
		}
		if (hb_ns && now >= next_hb) {
			heartbeats(tx, cl, n, hb_ns);
			next_hb = now + hb_scan_ns;
		}
		if (pacer.unlimited)
			continue;
		wake = xtel_lg_pacer_time_of(&pacer, done + quantum);
		if (wake > now + max_sleep_ns)
			wake = now + max_sleep_ns;
		if (pacer.end_ns && wake > pacer.end_ns)
			wake = pacer.end_ns;
		if (hb_ns && wake > next_hb)
			wake = next_hb;
		if (wake > now)
			xtel_lg_sleep_until(wake);
	}
	/*
	 * The DATA phase ends with the turn that sent the last slot when
	 * every client reached --count, else now (capped at the end time), so
	 * the achieved rate is not diluted by BYEs and wakeup latency.
	 */
	if (!n_active && last_turn) {
		th->data_end_ns = last_turn;
	} else {
		th->data_end_ns = xtel_mono_ns();
		if (pacer.end_ns && th->data_end_ns > pacer.end_ns)
			th->data_end_ns = pacer.end_ns;
	}
}

void *xtel_lg_sender_main(void *arg)
{
	struct xtel_lg_thread *th = arg;
	struct xtel_lg_run *run = th->run;
	struct xtel_lg_client *cl = run->clients + th->first_client;
	struct xtel_lg_tx tx = { .run = run, .ctr = &th->ctr };
	uint32_t n = th->n_clients;

	tx.batch = xtel_lg_batch_new(run->cfg->batch);
	if (!tx.batch)
		xtel_lg_run_fail(run, XTEL_LG_EXIT_RUNTIME, "out of memory for the send batch");

	/* 1: handshakes (DTLS), then main checks them. */
	if (run->dtls && tx.batch && !stopping(run))
		xtel_lg_dtls_handshake_all(th);
	if (run->dtls && tx.batch && run->cfg->reconnect && !stopping(run))
		xtel_lg_dtls_reconnect_all(th);
	sync_with_main(run);
	/* 2: INIT from every client that is ready. */
	sync_with_main(run);
	tx.now_ns = xtel_mono_ns();
	for (uint32_t i = 0; i < n && tx.batch && !stopping(run); i++) {
		if (cl[i].state == (run->dtls ? XTEL_LG_CLIENT_READY :
						XTEL_LG_CLIENT_NEW))
			xtel_lg_client_send_init(&tx, &cl[i]);
	}
	sync_with_main(run);
	/* 3: main has set t0. */
	sync_with_main(run);
	if (tx.batch)
		data_phase(th, &tx);
	else
		th->data_end_ns = xtel_mono_ns();

	/*
	 * BYE for everyone still active, also after SIGINT. After an
	 * unreachable target there is nobody to say goodbye to.
	 */
	tx.now_ns = xtel_mono_ns();
	if (atomic_load(&run->fatal) != XTEL_LG_EXIT_UNREACHABLE && tx.batch) {
		for (uint32_t i = 0; i < n; i++)
			xtel_lg_client_finish(&tx, &cl[i]);
	}
	if (run->dtls) {
		for (uint32_t i = 0; i < n; i++)
			xtel_lg_dtls_close(&cl[i], !run->cfg->no_close);
	}
	xtel_lg_batch_free(tx.batch);
	atomic_fetch_add(&run->senders_done, 1);
	return NULL;
}
