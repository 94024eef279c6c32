// SPDX-License-Identifier: MIT
/*
 * The datagram path (see ingest.h): decode -> (client id check) ->
 * accounting -> CSV record. Each step that refuses a datagram counts it
 * under exactly one reason, so the drop table always adds up to
 * rx_datagrams - accepted.
 */
#include <errno.h>
#include <string.h>

#include "ingest.h"

int xtel_ingest_init(struct xtel_ingest *ig, const struct xtel_config *cfg,
		     struct xtel_registry *reg, struct xtel_worker_counters *cnt,
		     struct xtel_csv_ring *csv)
{
	*ig = (struct xtel_ingest){
		.mode = cfg->mode,
		.reg = reg,
		.cnt = cnt,
		.csv = csv,
	};
	if (cfg->mode == XTEL_MODE_DTLS)
		return -EPROTONOSUPPORT;	/* until the DTLS server lands */
	return 0;
}

void xtel_ingest_fini(struct xtel_ingest *ig)
{
	ig->dtls = NULL;
}

void xtel_ingest_set_send(struct xtel_ingest *ig, xtel_ingest_send_fn fn,
			  void *ctx)
{
	ig->send = fn;
	ig->send_ctx = ctx;
}

/*
 * Decode and account one telemetry message. want_id is the client id the
 * transport authenticated (DTLS certificate), or 0 in plain mode where the
 * header is all there is.
 */
static void accept_message(struct xtel_ingest *ig, const uint8_t *buf,
			   uint32_t len, uint64_t arrival_ns, uint32_t want_id)
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
	if (want_id && msg.client_id != want_id) {
		xtel_cnt_add(&ig->cnt->drops[XTEL_DROP_CLIENT_ID_MISMATCH], 1);
		return;
	}
	rc = xtel_registry_account(ig->reg, &msg, arrival_ns, len, &res);
	if (rc) {
		xtel_cnt_add(&ig->cnt->drops[XTEL_DROP_REGISTRY_FULL], 1);
		return;
	}
	xtel_cnt_add(&ig->cnt->events[XTEL_EV_ACCEPTED], 1);
	if (ig->csv && !xtel_csv_push(ig->csv, &msg, arrival_ns, &res))
		xtel_cnt_add(&ig->cnt->events[XTEL_EV_CSV_DROPPED], 1);
}

void xtel_ingest_datagram(struct xtel_ingest *ig, const uint8_t *buf,
			  uint32_t len, uint64_t arrival_ns,
			  const struct sockaddr *peer, socklen_t peer_len)
{
	xtel_cnt_add(&ig->cnt->events[XTEL_EV_RX_DATAGRAMS], 1);
	xtel_cnt_add(&ig->cnt->events[XTEL_EV_RX_BYTES], len);
	accept_message(ig, buf, len, arrival_ns, 0);
}

uint64_t xtel_ingest_timers(struct xtel_ingest *ig, uint64_t now_ns)
{
	return UINT64_MAX;
}

bool xtel_ingest_wants_timers(const struct xtel_ingest *ig)
{
	return ig->dtls != NULL;
}
