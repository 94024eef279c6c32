// SPDX-License-Identifier: MIT
/*
 * The datagram path (see ingest.h): [DTLS ->] decode -> client id check ->
 * accounting -> CSV record. Each step that refuses a datagram counts it
 * under exactly one reason. In plain mode the drop table therefore adds up
 * to rx_datagrams - accepted; in DTLS mode the handshake datagrams are
 * neither, and the DTLS reasons count handshakes and records.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/clock.h"
#include "collector/ingest.h"
#include "xdp/xdp.h"

/* The inventory to look ids up in, after taking a newly posted one. */
static const struct xtel_inventory *inventory(struct xtel_ingest *ig)
{
	/* Relaxed first: the exchange (and its cache line write) is rare. */
	if (__atomic_load_n(&ig->next_inv, __ATOMIC_RELAXED)) {
		struct xtel_inventory *p =
			__atomic_exchange_n(&ig->next_inv, NULL, __ATOMIC_ACQ_REL);

		if (p) {
			xtel_inventory_put(ig->inv);
			ig->inv = p;
		}
	}
	return ig->inv;
}

/* 0 when client id may send, else the drop reason. */
static unsigned int device_refusal(struct xtel_ingest *ig, uint32_t id)
{
	const struct xtel_inventory *inv = inventory(ig);
	long i;

	if (!inv)
		return 0;
	i = xtel_inventory_index(inv, id);
	if (i < 0)
		return ig->inventory_only ? XTEL_DROP_DEVICE_UNKNOWN : 0;
	return inv->keys[i].enabled ? 0 : XTEL_DROP_DEVICE_DISABLED;
}

/* cfg.admit of the DTLS server: the same check at the handshake. */
static bool dtls_admit(void *arg, uint32_t client_id)
{
	return device_refusal(arg, client_id) == 0;
}

/*
 * Decode and account one telemetry message. When has_id is set, the
 * transport authenticated the sender as client want_id (its DTLS
 * certificate) and a header claiming another id is refused; in plain mode
 * the header is all there is.
 */
static void accept_message(struct xtel_ingest *ig, const uint8_t *buf,
			   uint32_t len, uint64_t arrival_ns, bool has_id,
			   uint32_t want_id)
{
	struct xtel_msg msg;
	struct xtel_acct_result res;
	enum xtel_wire_err err;
	int rc;

	err = xtel_wire_decode(buf, len, &msg);
	if (err != XTEL_WIRE_OK) {
		xtel_cnt_add(&ig->cnt->drops[err < XTEL_WIRE_ERR_MAX ? err : 0], 1);
		return;
	}
	if (has_id && msg.client_id != want_id) {
		xtel_cnt_add(&ig->cnt->drops[XTEL_DROP_CLIENT_ID_MISMATCH], 1);
		return;
	}
	/* DTLS: also a session of a device disabled after its handshake. */
	rc = (int)device_refusal(ig, msg.client_id);
	if (rc) {
		xtel_cnt_add(&ig->cnt->drops[rc], 1);
		return;
	}
	rc = xtel_registry_account(ig->reg, &msg, arrival_ns, len, &res);
	if (rc) {
		/*
		 * -ENOSPC: --max-clients reached. -ENOMEM for a new client is
		 * the same outcome; for a known client the registry counted
		 * the datagram without some detail, but telling the two apart
		 * would need the registry's internals, and both only happen
		 * when memory ran out: report it as refused.
		 */
		xtel_cnt_add(&ig->cnt->drops[XTEL_DROP_REGISTRY_FULL], 1);
		return;
	}
	xtel_cnt_add(&ig->cnt->events[XTEL_EV_ACCEPTED], 1);
	if (ig->csv && !xtel_csv_push(ig->csv, &msg, arrival_ns, &res))
		xtel_cnt_add(&ig->cnt->events[XTEL_EV_CSV_DROPPED], 1);
}

/* xtel_dtls_data_fn: one decrypted record of an authenticated client. */
static void dtls_on_data(void *arg, uint32_t client_id,
			 const struct sockaddr *peer, socklen_t peer_len,
			 const void *plaintext, size_t len)
{
	struct xtel_ingest *ig = arg;

	accept_message(ig, plaintext, (uint32_t)len, ig->arrival_ns, true,
		       client_id);
}

/* xtel_dtls_send_fn: handshake flights and alerts leave via the ring. */
static void dtls_send(void *arg, const struct sockaddr *peer,
		      socklen_t peer_len, const void *buf, size_t len)
{
	struct xtel_ingest *ig = arg;

	/* A refused send is counted by the send queue (tx_dropped). */
	if (ig->send)
		ig->send(ig->send_ctx, buf, len, peer, peer_len);
	else
		xtel_cnt_add(&ig->cnt->events[XTEL_EV_TX_DROPPED], 1);
}

/* xtel_dtls_session_fn: keep the XDP peer map in step with the sessions. */
static void dtls_on_session(void *arg, const struct sockaddr *peer,
			    socklen_t peer_len, uint32_t client_id, bool up)
{
	struct xtel_ingest *ig = arg;
	int rc;

	(void)peer_len;
	if (!ig->xdp)
		return;
	rc = up ? xtel_xdp_peer_add(ig->xdp, peer, client_id) :
		  xtel_xdp_peer_del(ig->xdp, peer);
	/*
	 * -ENOENT on delete: another worker's newer session for the same
	 * address already replaced the entry and removed it; nothing to do.
	 */
	if (rc && !(rc == -ENOENT && !up))
		xtel_cnt_add(&ig->cnt->events[XTEL_EV_XDP_PEER_ERRORS], 1);
}

/* xtel_dtls_failure_fn: remember it for the summary (failures.h). */
static void dtls_on_failure(void *arg, const struct sockaddr *peer,
			    socklen_t peer_len, unsigned int reason,
			    uint32_t client_id)
{
	struct xtel_ingest *ig = arg;

	(void)peer_len;
	xtel_fail_ring_push(&ig->fails, ig->worker, xtel_realtime_ns(), peer,
			    (enum xtel_dtls_fail)reason, client_id);
}

static void publish_dtls_stats(struct xtel_ingest *ig)
{
	struct xtel_dtls_server_stats st;
	const uint64_t *v = (const uint64_t *)&st;

	if (!ig->dtls)
		return;
	xtel_dtls_server_get_stats(ig->dtls, &st);
	for (unsigned int i = 0; i < XTEL_DTLS_SERVER_NSTATS; i++)
		xtel_cnt_set(&ig->cnt->dtls[i], v[i]);
}

int xtel_ingest_init(struct xtel_ingest *ig, const struct xtel_config *cfg,
		     unsigned int worker, struct xtel_registry *reg,
		     struct xtel_worker_counters *cnt, struct xtel_csv_ring *csv,
		     struct xtel_dtls_policy *policy)
{
	struct xtel_dtls_server_cfg scfg;
	char log_name[32];

	*ig = (struct xtel_ingest){
		.mode = cfg->mode,
		.worker = worker,
		.reg = reg,
		.cnt = cnt,
		.csv = csv,
		.inventory_only = cfg->inventory_only,
	};
	if (cfg->mode != XTEL_MODE_DTLS)
		return 0;
	snprintf(log_name, sizeof(log_name), "worker %u", worker);
	scfg = (struct xtel_dtls_server_cfg){
		.cert_file = cfg->cert,
		.key_file = cfg->key,
		.ca_file = cfg->ca,
		.policy = policy,
		.ciphers = cfg->ciphers,
		.max_sessions = cfg->max_sessions,
		.verify_cache = cfg->verify_cache,
		.openssl_records = cfg->openssl_records,
		.idle_timeout = (uint64_t)(cfg->dtls_idle_s * 1e9),
		/* The id check is ours (accept_message), after decoding, so a
		 * record is refused for exactly one reason. */
		.no_client_id_check = true,
		.send = dtls_send,
		.send_arg = ig,
		.on_data = dtls_on_data,
		.data_arg = ig,
		.log_name = log_name,
		.on_session = dtls_on_session,
		.session_arg = ig,
		.on_failure = dtls_on_failure,
		.failure_arg = ig,
		.admit = cfg->db ? dtls_admit : NULL,
		.admit_arg = ig,
		/* One ticket key for all workers: a device resumes on any. */
		.ticket_key = xtel_dtls_process_ticket_key(),
		.ticket_key_prev = xtel_dtls_process_ticket_key_prev(),
	};
	return xtel_dtls_server_new(&ig->dtls, &scfg);
}

void xtel_ingest_fini(struct xtel_ingest *ig)
{
	xtel_dtls_policy_put(__atomic_exchange_n(&ig->next_policy, NULL,
						 __ATOMIC_ACQ_REL));
	xtel_dtls_server_free(ig->dtls);
	ig->dtls = NULL;
	xtel_inventory_put(__atomic_exchange_n(&ig->next_inv, NULL,
					       __ATOMIC_ACQ_REL));
	xtel_inventory_put(ig->inv);
	ig->inv = NULL;
}

void xtel_ingest_post_inventory(struct xtel_ingest *ig,
				struct xtel_inventory *inv)
{
	/* Release: the snapshot's contents before the pointer. */
	xtel_inventory_put(__atomic_exchange_n(&ig->next_inv,
		xtel_inventory_get(inv), __ATOMIC_ACQ_REL));
}

void xtel_ingest_post_policy(struct xtel_ingest *ig,
			     struct xtel_dtls_policy *policy)
{
	if (!ig->dtls)
		return;
	/* Release: the policy's contents before the pointer. */
	xtel_dtls_policy_put(__atomic_exchange_n(&ig->next_policy,
		xtel_dtls_policy_get(policy), __ATOMIC_ACQ_REL));
}

void xtel_ingest_set_xdp(struct xtel_ingest *ig, struct xtel_xdp *xdp)
{
	ig->xdp = xdp;
}

void xtel_ingest_set_send(struct xtel_ingest *ig, xtel_ingest_send_fn fn,
			  void *ctx)
{
	ig->send = fn;
	ig->send_ctx = ctx;
}

void xtel_ingest_datagram(struct xtel_ingest *ig, const uint8_t *buf,
			  uint32_t len, uint64_t arrival_ns,
			  const struct sockaddr *peer, socklen_t peer_len)
{
	xtel_cnt_add(&ig->cnt->events[XTEL_EV_RX_DATAGRAMS], 1);
	xtel_cnt_add(&ig->cnt->events[XTEL_EV_RX_BYTES], len);
	if (!ig->dtls) {
		accept_message(ig, buf, len, arrival_ns, false, 0);
		return;
	}
	/* dtls_on_data runs inside this call and picks the time up here. */
	ig->arrival_ns = arrival_ns;
	xtel_dtls_server_input(ig->dtls, peer, peer_len, buf, len, xtel_mono_ns());
}

void xtel_ingest_timers(struct xtel_ingest *ig)
{
	struct xtel_dtls_policy *p;
	uint64_t now;

	if (!ig->dtls)
		return;
	/* Acquire: pairs with xtel_ingest_post_policy's exchange. */
	p = __atomic_exchange_n(&ig->next_policy, NULL, __ATOMIC_ACQ_REL);
	if (p) {
		xtel_dtls_server_set_policy(ig->dtls, p);
		xtel_dtls_policy_put(p);
	}
	now = xtel_mono_ns();
	if (xtel_dtls_server_next_timeout(ig->dtls, now) <= now)
		xtel_dtls_server_timers(ig->dtls, now);
	publish_dtls_stats(ig);
}

void xtel_ingest_shutdown(struct xtel_ingest *ig)
{
	if (!ig->dtls)
		return;
	xtel_dtls_server_shutdown(ig->dtls);
	publish_dtls_stats(ig);
}

bool xtel_ingest_wants_timers(const struct xtel_ingest *ig)
{
	return ig->dtls != NULL;
}
