// SPDX-License-Identifier: MIT
/*
 * A test publisher for the aggregator's exactly-once cases
 * (test_agg_once.sh): publishes one rollup message of schema v1, as an
 * edge would (export/rollup.h), on xtel.rollup.<site>.<edge> with the
 * Nats-Msg-Id "<edge>.<run>.<seq>.<part>", synchronously, and prints what
 * JetStream answered: "stored <stream seq> duplicate <0|1>". The message
 * holds one client with `received` datagrams of 64 bytes (part 0 also the
 * edge's totals, the same figures), so a test knows every count it
 * caused. ID, when given, is the Nats-Msg-Id instead (a foreign
 * publisher's or a hand-made one, not the header's edge id). Exit 0 when
 * the publish was acknowledged, 1 otherwise.
 *
 * usage: agg_publish URL SITE EDGE RUN SEQ PART PARTS CLIENT RECEIVED [ID]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "export/cbor.h"
#include "export/rollup.h"

int main(int argc, char **argv)
{
	struct xtel_rollup_hdr h = { .version = XTEL_ROLLUP_VERSION };
	struct xtel_rollup_client c = { 0 };
	struct xtel_cbor_buf b = { 0 };
	char subject[160], id[160];
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsPubAck *pa = NULL;
	jsPubOptions po;
	jsErrCode jerr = 0;
	natsMsg *m = NULL;
	natsStatus s;
	int rc = 1;

	if (argc != 10 && argc != 11) {
		fprintf(stderr, "usage: agg_publish URL SITE EDGE RUN SEQ PART "
			"PARTS CLIENT RECEIVED [ID]\n");
		return 2;
	}
	snprintf(h.site, sizeof(h.site), "%s", argv[2]);
	snprintf(h.edge, sizeof(h.edge), "%s", argv[3]);
	h.run = strtoull(argv[4], NULL, 10);
	h.seq = strtoull(argv[5], NULL, 10);
	h.part = (uint32_t)strtoul(argv[6], NULL, 10);
	h.parts = (uint32_t)strtoul(argv[7], NULL, 10);
	h.taken_ns = h.run + h.seq * 1000000000ULL;
	h.interval_ns = 1000000000ULL;
	c.client_id = (uint32_t)strtoul(argv[8], NULL, 10);
	c.received = strtoull(argv[9], NULL, 10);
	c.bytes = c.received * 64;
	c.by_type[2] = c.received;	/* DATA */
	c.first_seen_ns = h.taken_ns - h.interval_ns;
	c.last_seen_ns = h.taken_ns;
	c.highest_seq = c.received;
	xtel_rollup_put_hdr(&b, &h, h.part == 0);
	if (h.part == 0)
		xtel_rollup_put_client(&b, &c);
	xtel_rollup_put_clients_head(&b, 1);
	xtel_rollup_put_client(&b, &c);
	if (b.err)
		return 1;
	snprintf(subject, sizeof(subject), "xtel.rollup.%s.%s", h.site, h.edge);
	if (argc == 11)
		snprintf(id, sizeof(id), "%s", argv[10]);
	else
		snprintf(id, sizeof(id), "%s.%" PRIu64 ".%" PRIu64 ".%" PRIu32,
			 h.edge, h.run, h.seq, h.part);
	s = natsConnection_ConnectTo(&nc, argv[1]);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&js, nc, NULL);
	if (s == NATS_OK)
		s = natsMsg_Create(&m, subject, NULL, (const char *)b.p, (int)b.len);
	if (s == NATS_OK) {
		jsPubOptions_Init(&po);
		po.MsgId = id;
		po.MaxWait = 5000;
		s = js_PublishMsg(&pa, js, m, &po, &jerr);
	}
	if (s == NATS_OK) {
		printf("stored %" PRIu64 " duplicate %d\n", pa->Sequence,
		       pa->Duplicate ? 1 : 0);
		rc = 0;
	} else {
		fprintf(stderr, "agg_publish %s: %s (%d)\n", id,
			natsStatus_GetText(s), (int)jerr);
	}
	jsPubAck_Destroy(pa);
	natsMsg_Destroy(m);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	xtel_cbor_buf_free(&b);
	nats_Close();
	return rc;
}
