// SPDX-License-Identifier: MIT
/*
 * The aggregator's process (agg.h): one thread fetches a batch from the
 * durable pull consumer, applies each rollup message not applied before
 * (the message id, the edge's Nats-Msg-Id, is the key: a redelivery or a
 * duplicate stored past JetStream's window is skipped, however late:
 * store.c keeps the edge runs' applied sets as ranges, never pruned), checkpoints the
 * batch in one SQLite transaction, and only then acks it. Once per
 * --interval it publishes a view of the merged state for the HTTP API,
 * which runs on libmicrohttpd's threads exactly as in a collector.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <nats/nats.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/signals.h"
#include "collector/agg/agg.h"
#include "collector/agg/state.h"
#include "collector/agg/store.h"
#include "collector/api/api.h"
#include "collector/model.h"
#include "export/nats_conn.h"

#define XTEL_AGG_STREAM "XTEL_ROLLUP"

#define XTEL_AGG_TABLE(X)						\
	X(MESSAGES, "messages", "messages", "rollup messages fetched")	\
	X(APPLIED, "applied", "messages", "messages merged into the state") \
	X(DUPLICATES, "duplicates", "messages",				\
	  "messages applied before (redelivered or stored twice): skipped") \
	X(REDELIVERED, "redelivered", "messages",			\
	  "messages JetStream delivered more than once")		\
	X(DECODE_ERRORS, "decode_errors", "messages",			\
	  "messages that are no valid rollup (acked, not merged)")	\
	X(CLIENT_ROLLUPS, "client_rollups", "rollups", "client rollups merged") \
	X(CHECKPOINTS, "checkpoints", "transactions", "SQLite commits")	\
	X(CHECKPOINT_NS, "checkpoint_ns", "nanoseconds", "time in those commits") \
	X(MERGE_NS, "merge_ns", "nanoseconds", "time decoding and merging") \
	X(FETCH_ERRORS, "fetch_errors", "fetches",			\
	  "pull requests that failed (NATS away, no leader)")		\
	X(ACKS, "acks", "messages", "acks sent after a checkpoint")	\
	X(IDS_PRUNED, "ids_pruned", "messages",				\
	  "applied ids forgotten: acked and older than the stream's duplicate window") \
	X(PRUNE_ERRORS, "prune_errors", "steps",			\
	  "pruning steps that failed (no ack floor from NATS, SQLite)") \
	X(STORED_DUPLICATES, "stored_duplicates", "messages",		\
	  "duplicates delivered first: stored again by the stream after its window") \
	X(FOREIGN_MESSAGES, "foreign_messages", "messages",		\
	  "messages merged whose id is not their header's edge id: kept by id, pruned")

#define E(id, nm, un, hp) XTEL_AGG_##id,
enum xtel_agg_stat { XTEL_AGG_TABLE(E) XTEL_AGG_MAX };
#undef E
#define ROW(id, nm, un, hp) XTEL_COUNTER_DESC(XTEL_AGG_, id, nm, un, hp)
static const struct xtel_counter_desc agg_desc[XTEL_AGG_MAX] = {
	XTEL_AGG_TABLE(ROW)
};
#undef ROW

#define XTEL_AGG_GAUGE_TABLE(X)						\
	X(CONNECTED, "connected", "", "1 while connected to NATS")	\
	X(CLIENTS, "clients", "clients", "(site, client) records merged") \
	X(SITES, "sites", "sites", "sites seen")				\
	X(APPLIED_IDS, "applied_ids", "messages", "message ids in the checkpoint") \
	X(APPLIED_RANGES, "applied_ranges", "ranges",			\
	  "ranges of the edge runs' applied (seq, part) sets in the checkpoint")

#define E(id, nm, un, hp) XTEL_AGG_G_##id,
enum xtel_agg_gauge { XTEL_AGG_GAUGE_TABLE(E) XTEL_AGG_G_MAX };
#undef E
#define ROW(id, nm, un, hp) XTEL_COUNTER_DESC(XTEL_AGG_G_, id, nm, un, hp)
static const struct xtel_counter_desc agg_gauge_desc[XTEL_AGG_G_MAX] = {
	XTEL_AGG_GAUGE_TABLE(ROW)
};
#undef ROW

_Static_assert((int)XTEL_AGG_MAX <= (int)XTEL_VIEW_FAMILY_ROWS &&
	       (int)XTEL_AGG_G_MAX <= (int)XTEL_VIEW_FAMILY_ROWS,
	       "the aggregator's table fits a view family");

struct agg {
	const struct xtel_config *cfg;
	struct xtel_agg_state st;
	struct xtel_agg_store *store;
	struct xtel_model *model;
	struct xtel_api *api;
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;
	int sfd;
	bool stop;
	uint64_t stats[XTEL_AGG_MAX];	/* this thread writes; views copy */
	uint64_t gauges[XTEL_AGG_G_MAX];
	uint64_t t0;
	uint64_t crash_after;	/* XTEL_AGG_TEST_EXIT_AFTER_COMMIT; 0: off */
	uint64_t dup_window_ns;	/* the stream's; 0: not known yet */
	uint64_t next_prune_ns;	/* monotonic */
};

/*
 * Applied ids forgotten per step (at the first view of each second, as
 * a step asks the server for the ack floor): bounded, so a backlog of
 * old ids (a checkpoint from before pruning) goes in small transactions
 * between batches instead of one long one.
 */
enum { XTEL_AGG_PRUNE_STEP = 2048 };
#define XTEL_AGG_PRUNE_PERIOD_NS 1000000000ULL

static unsigned int agg_families(void *arg, struct xtel_view_family *out,
				 unsigned int max)
{
	struct agg *a = arg;

	if (!max)
		return 0;
	*out = (struct xtel_view_family){
		.name = "aggregate", .desc = agg_desc, .gauge_desc = agg_gauge_desc,
		.n = XTEL_AGG_MAX, .n_gauges = XTEL_AGG_G_MAX,
	};
	a->gauges[XTEL_AGG_G_CONNECTED] = a->nc &&
		natsConnection_Status(a->nc) == NATS_CONN_STATUS_CONNECTED;
	a->gauges[XTEL_AGG_G_CLIENTS] = a->st.n;
	a->gauges[XTEL_AGG_G_SITES] = a->st.n_sites;
	a->gauges[XTEL_AGG_G_APPLIED_IDS] = a->store ? xtel_agg_store_ids(a->store) : 0;
	a->gauges[XTEL_AGG_G_APPLIED_RANGES] = a->store ?
		xtel_agg_store_ranges(a->store) : 0;
	memcpy(out->vals, a->stats, sizeof(a->stats));
	memcpy(out->gauges, a->gauges, sizeof(a->gauges));
	return 1;
}

/* The model wants a counters source; an aggregator has no receive path. */
static void no_counters(void *arg, struct xtel_worker_counters *out)
{
	memset(out, 0, sizeof(*out));
}

static void publish_view(struct agg *a, bool final)
{
	struct xtel_view *v = xtel_agg_view(&a->st, xtel_realtime_ns(),
		(uint64_t)(a->cfg->stale_after_s * 1e9),
		(double)(xtel_mono_ns() - a->t0) / 1e9, final);

	if (!v) {
		pr_err("aggregate: view: %s", strerror(ENOMEM));
		return;
	}
	xtel_model_publish(a->model, v);
	xtel_api_view_published(a->api);
}

static void check_signals(struct agg *a)
{
	struct signalfd_siginfo si;

	while (read(a->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			xtel_api_reload(a->api);
		else
			a->stop = true;
	}
}

/* Sleeps ms unless a stop signal comes first. */
static void nap(struct agg *a, int ms)
{
	struct pollfd p = { .fd = a->sfd, .events = POLLIN };

	if (poll(&p, 1, ms) > 0)
		check_signals(a);
}

/* The stream (created when missing) and our durable pull consumer. */
static int bind_consumer(struct agg *a)
{
	const char *subjects[] = { "xtel.rollup.>" };
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;

	while (!a->stop) {
		jsStreamInfo *si = NULL;

		s = js_GetStreamInfo(&si, a->js, XTEL_AGG_STREAM, NULL, &jerr);
		if (s == NATS_OK) {
			a->dup_window_ns = (uint64_t)si->Config->Duplicates;
			jsStreamInfo_Destroy(si);
			break;
		}
		if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
			jsStreamConfig sc;

			jsStreamConfig_Init(&sc);
			sc.Name = XTEL_AGG_STREAM;
			sc.Subjects = subjects;
			sc.SubjectsLen = 1;
			sc.Storage = js_FileStorage;
			sc.Replicas = a->cfg->agg_replicas;
			sc.Duplicates = (int64_t)(a->cfg->agg_dup_window_s * 1e9);
			s = js_AddStream(&si, a->js, &sc, NULL, &jerr);
			if (s == NATS_OK) {
				pr_info("aggregate: stream %s created (R%u)",
					XTEL_AGG_STREAM, a->cfg->agg_replicas);
				a->dup_window_ns = (uint64_t)si->Config->Duplicates;
				jsStreamInfo_Destroy(si);
				break;
			}
		}
		pr_warn("aggregate: stream %s not ready (%s, %d): retrying",
			XTEL_AGG_STREAM, natsStatus_GetText(s), (int)jerr);
		nap(a, 500);
	}
	while (!a->stop) {
		jsSubOptions_Init(&so);
		so.Stream = XTEL_AGG_STREAM;
		so.Config.AckWait = (int64_t)(a->cfg->agg_ack_wait_s * 1e9);
		so.Config.MaxAckPending = (int64_t)a->cfg->agg_batch * 8;
		so.Config.AckPolicy = js_AckExplicit;
		s = js_PullSubscribe(&a->sub, a->js, a->cfg->agg_filter,
				     a->cfg->agg_durable, NULL, &so, &jerr);
		if (s == NATS_OK) {
			pr_info("aggregate: consumer %s on %s", a->cfg->agg_durable,
				a->cfg->agg_filter);
			return 0;
		}
		pr_warn("aggregate: consumer %s not ready (%s, %d): retrying",
			a->cfg->agg_durable, natsStatus_GetText(s), (int)jerr);
		nap(a, 500);
	}
	return -EINTR;
}

static int validate_fn(void *arg, const struct xtel_rollup_hdr *h,
		       const struct xtel_rollup_client *c, bool is_total)
{
	return 0;
}

static int merge_fn(void *arg, const struct xtel_rollup_hdr *h,
		    const struct xtel_rollup_client *c, bool is_total)
{
	struct agg *a = arg;

	if (is_total)	/* the edge's own sums: the clients carry the same */
		return 0;
	a->stats[XTEL_AGG_CLIENT_ROLLUPS]++;
	return xtel_agg_merge(&a->st, h->site, c);
}

/* One message; -EIO/-ENOMEM are fatal (the state is no longer the file's). */
static int apply(struct agg *a, natsMsg *m)
{
	jsMsgMetaData *meta = NULL;
	const char *id = NULL;
	char idbuf[48];
	uint64_t seq = 0, ts_ns = 0, delivered = 0;
	const char *data = natsMsg_GetData(m);
	int len = natsMsg_GetDataLength(m);
	struct xtel_rollup_hdr h;
	int err;

	a->stats[XTEL_AGG_MESSAGES]++;
	if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
		seq = meta->Sequence.Stream;
		ts_ns = meta->Timestamp > 0 ? (uint64_t)meta->Timestamp : 0;
		delivered = meta->NumDelivered;
		if (meta->NumDelivered > 1)
			a->stats[XTEL_AGG_REDELIVERED]++;
		jsMsgMetaData_Destroy(meta);
	}
	if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || !id) {
		snprintf(idbuf, sizeof(idbuf), "stream.%" PRIu64, seq);
		id = idbuf;
	}
	if (xtel_agg_store_seen(a->store, id)) {
		a->stats[XTEL_AGG_DUPLICATES]++;
		if (delivered == 1)
			a->stats[XTEL_AGG_STORED_DUPLICATES]++;
		return 0;
	}
	/* validate the whole message first: never merge half of one */
	err = xtel_rollup_decode(data, (size_t)len, &h, validate_fn, a);
	if (err == -ENOMEM)
		return err;
	if (err) {
		a->stats[XTEL_AGG_DECODE_ERRORS]++;
		pr_warn("aggregate: message %s (stream seq %" PRIu64 ") is no "
			"rollup v1: %s", id, seq, strerror(-err));
	} else {
		err = xtel_rollup_decode(data, (size_t)len, &h, merge_fn, a);
		if (err)
			return err;
		a->stats[XTEL_AGG_APPLIED]++;
	}
	err = xtel_agg_store_mark(a->store, id, seq, ts_ns, err ? NULL : &h);
	if (err == 1)
		a->stats[XTEL_AGG_FOREIGN_MESSAGES]++;
	return err < 0 ? err : 0;
}

/* Fetch, apply, checkpoint, ack: one batch. Fatal errors: < 0. */
static int batch(struct agg *a)
{
	natsMsgList list = { 0 };
	jsErrCode jerr = 0;
	uint64_t t0, t1;
	natsStatus s;
	int err = 0;

	s = natsSubscription_Fetch(&list, a->sub, (int)a->cfg->agg_batch, 500, &jerr);
	if (s == NATS_TIMEOUT)
		return 0;
	if (s != NATS_OK) {
		a->stats[XTEL_AGG_FETCH_ERRORS]++;
		natsMsgList_Destroy(&list);
		nap(a, 200);
		return 0;
	}
	t0 = xtel_mono_ns();
	for (int i = 0; i < list.Count && !err; i++)
		err = apply(a, list.Msgs[i]);
	t1 = xtel_mono_ns();
	a->stats[XTEL_AGG_MERGE_NS] += t1 - t0;
	if (!err)
		err = xtel_agg_store_commit(a->store, &a->st);
	if (err) {
		pr_err("aggregate: %s: stopping unacked (the checkpoint keeps "
		       "what was committed)", strerror(-err));
		natsMsgList_Destroy(&list);
		return err;
	}
	a->stats[XTEL_AGG_CHECKPOINTS]++;
	a->stats[XTEL_AGG_CHECKPOINT_NS] += xtel_mono_ns() - t1;
	if (a->crash_after && a->stats[XTEL_AGG_CHECKPOINTS] == a->crash_after) {
		/* test hook: the worst moment to die, committed but unacked */
		pr_warn("aggregate: XTEL_AGG_TEST_EXIT_AFTER_COMMIT: exiting "
			"before the acks of checkpoint %" PRIu64, a->crash_after);
		_exit(9);
	}
	for (int i = 0; i < list.Count; i++)
		if (natsMsg_Ack(list.Msgs[i], NULL) == NATS_OK)
			a->stats[XTEL_AGG_ACKS]++;
	natsMsgList_Destroy(&list);
	return 0;
}

/*
 * One pruning step: the ids JetStream would no longer recognise itself
 * (stored before now less the duplicate window) and that the consumer
 * will never redeliver (at or below its ack floor, asked of the server:
 * our acks are fire and forget). A failure is counted and retried at
 * the next view: a failed step leaves the file and the set as they were.
 */
static void prune(struct agg *a)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	uint64_t now = xtel_realtime_ns(), mono = xtel_mono_ns(), floor;
	int n;

	if (!a->sub || !a->dup_window_ns || now <= a->dup_window_ns ||
	    mono < a->next_prune_ns)
		return;
	a->next_prune_ns = mono + XTEL_AGG_PRUNE_PERIOD_NS;
	if (natsSubscription_GetConsumerInfo(&ci, a->sub, NULL, &jerr) != NATS_OK) {
		a->stats[XTEL_AGG_PRUNE_ERRORS]++;
		return;
	}
	floor = ci->AckFloor.Stream;
	jsConsumerInfo_Destroy(ci);
	n = xtel_agg_store_prune(a->store, now - a->dup_window_ns, floor,
				 XTEL_AGG_PRUNE_STEP);
	if (n < 0)
		a->stats[XTEL_AGG_PRUNE_ERRORS]++;
	else
		a->stats[XTEL_AGG_IDS_PRUNED] += (uint64_t)n;
}

static int setup(struct agg *a)
{
	const struct xtel_config *c = a->cfg;
	struct xtel_nats_conn_cfg nc = {
		.servers = c->aggregate_urls, .user = c->nats_user,
		.password = c->nats_password, .creds = c->nats_creds,
		.nkey = c->nats_nkey, .nkey_seed = c->nats_nkey_seed,
		.ca = c->nats_ca, .cert = c->nats_cert, .key = c->nats_key,
		.name = c->agg_durable,
	};
	natsStatus s;
	int rc;

	if (xtel_agg_state_init(&a->st))
		return XTEL_EXIT_RUNTIME;
	rc = xtel_agg_store_open(c->agg_db, &a->st, &a->store);
	if (rc)
		return rc == -ENOMEM ? XTEL_EXIT_RUNTIME : XTEL_EXIT_USAGE;
	pr_info("aggregate: %u clients of %u sites restored from %s",
		a->st.n, a->st.n_sites, c->agg_db);
	rc = xtel_model_new(&(struct xtel_model_cfg){
		.counters = no_counters, .families = agg_families,
		.families_arg = a }, &a->model);
	if (rc)
		return XTEL_EXIT_RUNTIME;
	rc = xtel_api_new(c, a->model, &a->api);
	if (rc == -ENOKEY)
		return XTEL_EXIT_CERT;
	if (rc)
		return rc == -ENOMEM ? XTEL_EXIT_RUNTIME : XTEL_EXIT_USAGE;
	rc = xtel_api_start(a->api);
	if (rc == -EADDRINUSE || rc == -EADDRNOTAVAIL || rc == -EACCES)
		return XTEL_EXIT_ADDR;
	if (rc)
		return rc == -EPROTO ? XTEL_EXIT_CERT : XTEL_EXIT_RUNTIME;
	publish_view(a, false);		/* the restored state, served at once */
	if (xtel_nats_options(&nc, &a->opts))
		return XTEL_EXIT_USAGE;
	s = natsConnection_Connect(&a->nc, a->opts);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
		pr_err("--aggregate %s: %s", c->aggregate_urls, natsStatus_GetText(s));
		return XTEL_EXIT_USAGE;
	}
	if (natsConnection_JetStream(&a->js, a->nc, NULL) != NATS_OK)
		return XTEL_EXIT_RUNTIME;
	return 0;
}

int xtel_agg_main(const struct xtel_config *cfg)
{
	struct agg a = { .cfg = cfg, .sfd = -1 };
	uint64_t interval_ns = (uint64_t)(cfg->interval_s * 1e9), next;
	int status;

	a.sfd = xtel_signals_block(SFD_CLOEXEC | SFD_NONBLOCK);
	a.t0 = xtel_mono_ns();
	if (getenv("XTEL_AGG_TEST_EXIT_AFTER_COMMIT"))
		a.crash_after = strtoull(getenv("XTEL_AGG_TEST_EXIT_AFTER_COMMIT"),
					 NULL, 10);
	if (a.sfd < 0) {
		pr_err("aggregate: signalfd: %s", strerror(-a.sfd));
		status = XTEL_EXIT_RUNTIME;
		goto out;
	}
	status = setup(&a);
	if (status)
		goto out;
	xtel_api_set_receiving(a.api, true);
	pr_info("aggregate mode, NATS %s, checkpoint %s, API on %s",
		cfg->aggregate_urls, cfg->agg_db, cfg->http);
	if (bind_consumer(&a))
		goto out;
	next = xtel_mono_ns() + interval_ns;
	while (!a.stop) {
		uint64_t now;

		if (batch(&a)) {
			status = XTEL_EXIT_RUNTIME;
			break;
		}
		check_signals(&a);
		now = xtel_mono_ns();
		if (now >= next) {
			prune(&a);
			publish_view(&a, false);
			next += interval_ns;
			if (next <= now)
				next = now + interval_ns;
		}
	}
	publish_view(&a, true);
out:
	xtel_api_free(a.api);
	if (a.sub)
		natsSubscription_Destroy(a.sub);
	if (a.nc)
		natsConnection_Close(a.nc);
	jsCtx_Destroy(a.js);
	natsConnection_Destroy(a.nc);
	natsOptions_Destroy(a.opts);
	xtel_model_free(a.model);
	xtel_agg_store_close(a.store);
	xtel_agg_state_fini(&a.st);
	if (a.sfd >= 0)
		close(a.sfd);
	pr_info("aggregate: stopped");
	return status;
}
