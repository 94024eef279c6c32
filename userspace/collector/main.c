// SPDX-License-Identifier: MIT
/*
 * collector: the XTel telemetry collector daemon.
 *
 * usage: collector [--mode dtls|plain] [--port N] [--bind ADDR] [--workers N]
 *                  [--iface IFNAME [--afxdp] [--allow CIDR]... [--pin-dir D]
 *                   [--handshake-rate PPS] [--handshake-global-rate PPS]
 *                  | --no-xdp] [--cert F --key F --ca F]
 *                  [--interval S] [--top N] [--quiet] [--duration S]
 *                  [--summary-json F] [--csv F] ...   (collector --help)
 *
 * main wires the modules together and owns every decision about exit
 * codes: it validates the configuration and the environment before
 * starting anything (preflight.c), starts one receive worker per --workers
 * (rx/uring.c), loads and attaches the XDP program (--iface) once the
 * sockets are bound, optionally runs one AF_XDP receive thread
 * (rx/afxdp.c), and then runs the control-plane loop (loop.c) on this
 * thread: signals (SIGHUP reloads the DTLS admission policy), worker
 * errors, the interval tick (model.c makes the view, out/table.c prints
 * it) and the --duration deadline. On SIGINT/
 * SIGTERM or --duration it stops the receivers (each drains what is still
 * queued for it), flushes the CSV, renders the final view (summary and
 * --summary-json) and detaches the program (its pinned counters stay).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "acct/registry.h"
#include "collector/api/api.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/notify.h"
#include "common/signals.h"
#include "common/options_service.h"
#include "collector/cli.h"
#include "collector/counters.h"
#include "collector/ingest.h"
#include "collector/loop.h"
#include "collector/model.h"
#include "collector/out/csv.h"
#include "collector/out/store_feed.h"
#include "collector/out/summary_json.h"
#include "collector/out/table.h"
#include "collector/preflight.h"
#include "collector/reload.h"
#include "collector/run_info.h"
#include "collector/rx/afxdp.h"
#include "collector/rx/uring.h"
#include "collector/xdp_source.h"
#include "devices/devices.h"
#include "export/exporter.h"
#include "collector/agg/agg.h"
#include "xdp/xdp.h"

struct app {
	struct xtel_config cfg;
	unsigned int n;			/* io_uring workers */
	unsigned int n_paths;		/* n, plus one with AF_XDP */
	struct xtel_registry **regs;
	struct xtel_worker_counters *cnts;
	struct xtel_ingest *igs;
	struct xtel_rx_worker **workers;
	struct xtel_csv_writer *csv;
	struct xtel_model *model;
	struct xtel_api *api;		/* NULL: no --http */
	struct xtel_exporter *exp;	/* NULL: no --export */
	struct xtel_store *store;	/* NULL: no --db */
	struct xtel_loop *loop;
	FILE *json;
	int sfd;
	int fatal_efd;
	int rcvbuf_eff;
	bool rcvbuf_forced;
	struct xtel_xdp *xdp;		/* NULL: --no-xdp */
	struct xtel_ax_rx axr;		/* axr.ax NULL: no AF_XDP */
	struct xtel_xdp_source xdp_src;
	/* DTLS: whom the workers admit; replaced on SIGHUP (ours: one ref). */
	struct xtel_dtls_policy *policy;
	struct xtel_devices *devices;	/* NULL: no --db */

	/* the run loop's state */
	uint64_t t0;			/* CLOCK_MONOTONIC at start */
	uint64_t interval_ns;
	uint64_t next_tick;		/* when the running interval ends */
	const char *stop_reason;
	char stop_buf[64];
	int status;
};

_Static_assert((int)XTEL_EXPORT_MAX <= (int)XTEL_VIEW_FAMILY_ROWS &&
	       (int)XTEL_EXPORT_G_MAX <= (int)XTEL_VIEW_FAMILY_ROWS,
	       "the exporter's table fits a view family");

/* xtel_model_families_fn: the exporter's counters, when it runs. */
static unsigned int export_families(void *arg, struct xtel_view_family *out,
				    unsigned int max)
{
	struct app *a = arg;

	if (!a->exp || !max)
		return 0;
	*out = (struct xtel_view_family){
		.name = "export", .desc = xtel_export_desc,
		.gauge_desc = xtel_export_gauge_desc,
		.n = XTEL_EXPORT_MAX, .n_gauges = XTEL_EXPORT_G_MAX,
	};
	xtel_export_read(a->exp, out->vals, out->gauges);
	return 1;
}

/* --export: the NATS exporter, fed every view from now on. */
static int export_setup(struct app *a)
{
	static char host[64];
	const struct xtel_config *c = &a->cfg;
	struct xtel_export_cfg ec = {
		.servers = c->export_urls, .site = c->site, .edge = c->edge,
		.user = c->nats_user, .password = c->nats_password,
		.creds = c->nats_creds, .nkey = c->nats_nkey,
		.nkey_seed = c->nats_nkey_seed, .ca = c->nats_ca,
		.cert = c->nats_cert, .key = c->nats_key,
		.queue = c->export_queue,
		.backlog_bytes = (uint64_t)(c->export_backlog_mib * 1048576.0),
		.spill_dir = c->export_spill,
		.spill_bytes = (uint64_t)c->export_spill_mib << 20,
		.clients_per_msg = c->export_clients_per_msg,
		.max_wait_ms = c->export_max_wait_ms,
		.view_put = xtel_view_put,
	};
	int rc;

	if (!ec.edge) {
		if (gethostname(host, sizeof(host) - 1))
			snprintf(host, sizeof(host), "edge");
		ec.edge = host;
	}
	rc = xtel_export_new(&ec, &a->exp);
	return rc == -EINVAL ? XTEL_EXIT_USAGE : rc ? XTEL_EXIT_RUNTIME : 0;
}

/* Hands v to the exporter with a reference of its own. */
static void export_view(struct app *a, struct xtel_view *v)
{
	if (!a->exp || !v)
		return;
	xtel_view_get(v);
	xtel_export_push(a->exp, v);
}

/* xtel_model_counters_fn: the workers' counters, kernel drops folded in. */
static void sum_counters(void *arg, struct xtel_worker_counters *out)
{
	struct app *a = arg;
	const struct xtel_worker_counters *ptrs[256];
	uint64_t kdrops = 0;

	for (unsigned int i = 0; i < a->n_paths; i++) {
		ptrs[i] = &a->cnts[i];
		if (i < a->n && a->workers[i])
			kdrops += xtel_rx_worker_kernel_drops(a->workers[i]);
	}
	xtel_counters_sum(ptrs, a->n_paths, out);
	out->drops[XTEL_DROP_RXQ_OVFL] = kdrops;
}

/* xtel_model_failures_fn: the newest DTLS handshake failures of every path. */
static unsigned int recent_failures(void *arg, struct xtel_fail_event *out,
				    unsigned int max)
{
	struct app *a = arg;
	const struct xtel_fail_ring *rings[257];

	for (unsigned int i = 0; i < a->n_paths; i++)
		rings[i] = &a->igs[i].fails;
	return xtel_fail_recent(rings, a->n_paths, out, max);
}

/* ---- XDP program ---- */

static int xdp_setup(struct app *a)
{
	const struct xtel_config *cfg = &a->cfg;
	struct xtel_xdp_opts xo = {
		.ifname = cfg->iface,
		.pin_dir = cfg->pin_dir,
		.port = cfg->port,
		.dtls = cfg->mode == XTEL_MODE_DTLS,
		.afxdp = cfg->afxdp,
		.allowlist = cfg->n_allow > 0,
		.handshake_rate = cfg->handshake_rate,
		.handshake_burst = cfg->handshake_burst,
		.handshake_global_rate = cfg->handshake_global_rate,
		.handshake_global_burst = cfg->handshake_global_burst,
		.skb_mode = cfg->xdp_skb,
		.quiet = false,
		.devices = cfg->db != NULL,
		.inventory_only = cfg->inventory_only,
		/* an entry per client, per DTLS session of every worker */
		.max_clients = cfg->max_clients,
		.max_peers = (uint32_t)((uint64_t)cfg->max_sessions * cfg->workers > UINT32_MAX ?
					UINT32_MAX : (uint64_t)cfg->max_sessions * cfg->workers),
	};
	int rc;

	rc = xtel_xdp_open(&a->xdp, &xo);
	if (rc) {
		a->xdp = NULL;
		return xtel_exit_xdp_error(cfg, rc);
	}
	/*
	 * Pins are reused across restarts: start from this run's allowlist
	 * and from no DTLS peers (a previous run's sessions are gone).
	 */
	xtel_xdp_allow_clear(a->xdp);
	xtel_xdp_peer_clear(a->xdp);
	for (unsigned int i = 0; i < cfg->n_allow; i++) {
		rc = xtel_xdp_allow_add(a->xdp, cfg->allow[i]);
		if (rc) {
			pr_err("--allow %s: %s",
				cfg->allow[i], strerror(-rc));
			return rc == -EINVAL ? XTEL_EXIT_USAGE : XTEL_EXIT_RUNTIME;
		}
	}
	return 0;
}


/*
 * Registry and ingest state of datagram path i (a worker, or the AF_XDP
 * path after them). Returns 0 or the exit code for main, after a message:
 * DTLS credential problems found while loading them are exit codes 3 and 4.
 */
static int path_init(struct app *a, unsigned int i)
{
	const struct xtel_config *cfg = &a->cfg;
	int rc;

	a->regs[i] = xtel_registry_new(cfg->max_clients);
	if (!a->regs[i]) {
		pr_err("registry: %s", strerror(errno));
		return XTEL_EXIT_RUNTIME;
	}
	rc = xtel_ingest_init(&a->igs[i], cfg, i, a->regs[i], &a->cnts[i],
			      a->csv ? xtel_csv_writer_ring(a->csv, i) : NULL,
			      a->policy);
	if (!rc)
		return 0;
	/* The DTLS server logged what went wrong. */
	if (rc == -EKEYREJECTED)
		return XTEL_EXIT_KEY_MISMATCH;
	if (rc == -ENOENT || rc == -EACCES || rc == -EBADMSG ||
	    rc == -ENOMSG || rc == -EINVAL)
		return XTEL_EXIT_CERT;
	return XTEL_EXIT_RUNTIME;
}

/* ---- the DTLS admission policy (--ca, --crl, --deny-list, --pin-ca) ---- */

/*
 * Load it from the files named by cfg (every problem logged); with
 * identity (SIGHUP) also --cert and --key, which the workers' servers then
 * use for their next handshakes (at start they load them themselves).
 */
static int policy_load(const struct xtel_config *cfg, bool identity,
		       struct xtel_dtls_policy **out)
{
	const struct xtel_dtls_policy_cfg pc = {
		.ca_file = cfg->ca,
		.crl_file = cfg->crl,
		.deny_file = cfg->deny_list,
		.pin_ca = cfg->pin_ca,
		.n_pin_ca = cfg->n_pin_ca,
		.cert_file = identity ? cfg->cert : NULL,
		.key_file = identity ? cfg->key : NULL,
	};

	return xtel_dtls_policy_load(out, &pc);
}

static void policy_log(const char *what, const struct xtel_config *cfg,
		       const struct xtel_dtls_policy *p)
{
	char crl[160] = "no CRL", deny[96] = "no deny list";
	unsigned int no_crl = xtel_dtls_policy_cas_without_crl(p);

	if (cfg->crl)
		snprintf(crl, sizeof(crl), "%u revoked (--crl)",
			 xtel_dtls_policy_revoked(p));
	if (cfg->crl && no_crl > 0)	/* the warnings above name them */
		snprintf(crl + strlen(crl), sizeof(crl) - strlen(crl),
			 ", %u CA%s without a CRL: their devices are refused",
			 no_crl, no_crl == 1 ? "" : "s");
	if (cfg->deny_list)
		snprintf(deny, sizeof(deny), "%u client id%s denied (--deny-list)",
			 xtel_dtls_policy_denied(p),
			 xtel_dtls_policy_denied(p) == 1 ? "" : "s");
	pr_info("%s: %s, %s, %u pinned CA%s", what, crl, deny, cfg->n_pin_ca,
		cfg->n_pin_ca == 1 ? "" : "s");
}

/*
 * SIGHUP, all or nothing (docs/OPERATIONS.md "Reload"): parse the whole
 * configuration again (defaults, the --config file, the start's flags),
 * load the DTLS policy (--ca, --crl, --deny-list, --pin-ca, and the server
 * certificate: --cert, --key) and the API
 * tokens it names, check the new allowlist; only when everything loaded
 * are the reloadable values taken and the new state swapped in. Sessions
 * and counters carry on; a refused reload leaves all of it as it was.
 */
static void reload(struct app *a)
{
	struct xtel_config next;
	struct xtel_dtls_policy *p = NULL;

	xtel_notify_reloading();
	if (xtel_cli_reparse(&next) ||
	    xtel_reload_allow_check(a->xdp, &a->cfg, &next) ||
	    (a->cfg.mode == XTEL_MODE_DTLS && policy_load(&next, true, &p))) {
		pr_err("SIGHUP: reload refused (see above); the running "
		       "configuration stays");
		goto out;
	}
	if (a->api && xtel_api_reload(a->api)) {	/* swaps only on success */
		pr_err("SIGHUP: reload refused: --http-tokens did not load; "
		       "the running configuration stays");
		xtel_dtls_policy_put(p);
		goto out;
	}
	if (xtel_reload_allow_apply(a->xdp, &a->cfg, &next))
		pr_err("SIGHUP: the allowlist map could not be updated fully");
	xtel_cli_take_reloadable(&a->cfg, &next);
	if (p) {
		for (unsigned int i = 0; i < a->n_paths; i++)
			xtel_ingest_post_policy(&a->igs[i], p);
		xtel_dtls_policy_put(a->policy);
		a->policy = p;
		policy_log("SIGHUP: DTLS policy reloaded", &a->cfg, p);
		pr_info("SIGHUP: server certificate %s reloaded (new handshakes)",
			a->cfg.cert);
	}
	/*
	 * The device inventory lives in the database, not in the files
	 * above: it is read again on its own, and a database that does not
	 * read keeps the running inventory (devices.c says why).
	 */
	if (a->devices && xtel_devices_reload(a->devices))
		pr_err("SIGHUP: the device inventory did not reload; the "
		       "running inventory stays");
out:
	xtel_notify_ready(NULL);
}
/* ---- the device inventory (--db) ---- */

/*
 * Bring the XDP program's device map from old to now: set what is new or
 * changed, delete what is gone (both snapshots are sorted by id), so a
 * change costs a syscall per changed device, not per device.
 */
static void xdp_devices_sync(struct xtel_xdp *x, const struct xtel_inventory *old,
			     const struct xtel_inventory *now)
{
	uint32_t i = 0, j = 0, no = old ? old->n : 0;
	unsigned int errors = 0;
	int rc;

	while (i < now->n || j < no) {
		const struct xtel_inventory_key *k = i < now->n ? &now->keys[i] : NULL;
		const struct xtel_inventory_key *o = j < no ? &old->keys[j] : NULL;

		if (k && (!o || k->id < o->id)) {
			rc = xtel_xdp_device_set(x, k->id, k->enabled);
			i++;
		} else if (!k || o->id < k->id) {
			rc = xtel_xdp_device_del(x, o->id);
			j++;
		} else {
			rc = k->enabled == o->enabled ? 0 :
				xtel_xdp_device_set(x, k->id, k->enabled);
			i++;
			j++;
		}
		errors += rc != 0;
	}
	if (errors)
		pr_warn("xdp: %u device map update%s failed (the map holds %d "
			"devices); the receive path still refuses them",
			errors, errors == 1 ? "" : "s", XTEL_XDP_MAX_DEVICES);
}

/* xtel_devices_apply_fn: a change, in effect everywhere before it returns. */
static void devices_apply(void *arg, const struct xtel_inventory *old,
			  struct xtel_inventory *now)
{
	struct app *a = arg;

	for (unsigned int i = 0; i < a->n_paths; i++)
		xtel_ingest_post_inventory(&a->igs[i], now);
	if (a->xdp && a->cfg.mode == XTEL_MODE_PLAIN)
		xdp_devices_sync(a->xdp, old, now);
}

/* xtel_model_inventory_fn */
static struct xtel_inventory *current_inventory(void *arg)
{
	return xtel_devices_current(arg);
}

static int devices_setup(struct app *a)
{
	int rc = xtel_devices_open(a->cfg.db, &a->devices);
	struct xtel_inventory *inv;

	if (rc) {
		a->devices = NULL;
		if (rc == -ENOMEM)
			pr_err("--db %s: out of memory", a->cfg.db);
		return rc == -ENOMEM ? XTEL_EXIT_RUNTIME : XTEL_EXIT_USAGE;
	}
	inv = xtel_devices_current(a->devices);
	pr_info("devices: %u in %s (%u enabled)%s", inv->n, a->cfg.db,
		inv->n_enabled, a->cfg.inventory_only ?
		", others refused (--inventory-only)" : "");
	xtel_inventory_put(inv);
	return 0;
}

/*
 * --afxdp: open one XSK per RX queue and a datagram path for them. When
 * AF_XDP is unavailable, say why (afxdp.c printed the cause) and keep
 * receiving through io_uring: the program passes datagrams of queues
 * without a socket.
 */
static int afxdp_setup(struct app *a)
{
	const struct xtel_config *cfg = &a->cfg;
	struct xtel_afxdp_opts ao = { .ifname = cfg->iface,
				       .frames = cfg->afxdp_frames };
	unsigned int i = a->n;
	int rc;

	rc = xtel_afxdp_open(&a->axr.ax, a->xdp, &ao);
	if (rc) {
		a->axr.ax = NULL;
		pr_err("AF_XDP unavailable on %s (%s): "
			"receiving through io_uring", cfg->iface, strerror(-rc));
		return 0;
	}
	/* The workers loaded the same credentials: any failure is a runtime one. */
	if (path_init(a, i))
		return XTEL_EXIT_RUNTIME;
	xtel_ax_rx_init(&a->axr, a->axr.ax, &a->igs[i], &a->cnts[i],
			xtel_rx_worker_fd(a->workers[0]));
	xtel_ax_rx_set_wait(&a->axr, cfg->rx_wait_us);
	xtel_ax_rx_set_prefetch(&a->axr, cfg->rx_prefetch);
	a->n_paths = a->n + 1;
	return 0;
}

static int setup(struct app *a)
{
	const struct xtel_config *cfg = &a->cfg;
	int rcvbuf_eff = 0;
	bool forced = false;
	int rc;

	/* One slot more than the workers: the AF_XDP path, if it comes up. */
	const unsigned int slots = a->n + 1;

	a->n_paths = a->n;
	a->regs = calloc(slots, sizeof(*a->regs));
	a->igs = calloc(slots, sizeof(*a->igs));
	a->workers = calloc(a->n, sizeof(*a->workers));
	if (posix_memalign((void **)&a->cnts, 64, slots * sizeof(*a->cnts)))
		a->cnts = NULL;
	if (!a->regs || !a->igs || !a->workers || !a->cnts) {
		pr_err("out of memory");
		return XTEL_EXIT_RUNTIME;
	}
	memset(a->cnts, 0, slots * sizeof(*a->cnts));
	if (cfg->mode == XTEL_MODE_DTLS) {
		rc = policy_load(cfg, false, &a->policy);
		if (rc)
			return rc == -ENOMEM ? XTEL_EXIT_RUNTIME : XTEL_EXIT_CERT;
		policy_log("DTLS policy", cfg, a->policy);
		if (cfg->openssl_records)
			pr_info("DTLS sessions keep OpenSSL's record layer "
				"(--openssl-records)");
		/* Before the workers: they all seal with the process key. */
		if (cfg->ticket_key_file &&
		    xtel_dtls_process_ticket_key_file(cfg->ticket_key_file))
			return XTEL_EXIT_CERT;
	}
	if (cfg->csv) {
		rc = xtel_csv_writer_open(cfg->csv, cfg->afxdp ? slots : a->n,
					  cfg->csv_ring, &a->csv);
		if (rc) {
			pr_err("--csv %s: %s", cfg->csv,
				strerror(-rc));
			return XTEL_EXIT_USAGE;
		}
	}
	for (unsigned int i = 0; i < a->n; i++) {
		int fd;

		rc = path_init(a, i);
		if (rc)
			return rc;
		fd = xtel_rx_socket_open(cfg, &rcvbuf_eff, &forced);
		if (fd < 0)
			return xtel_exit_bind_error(cfg, fd);
		a->workers[i] = xtel_rx_worker_new(i, fd, cfg->rx_buffers, &a->igs[i]);
		if (a->workers[i]) {
			const struct xtel_rx_tuning tune = {
				.napi_us = cfg->rx_napi_us,
				.napi_prefer = cfg->rx_napi_prefer,
				.batch = cfg->rx_batch,
				.prefetch = cfg->rx_prefetch,
			};

			xtel_rx_worker_set_wait(a->workers[i], cfg->rx_wait_us);
			xtel_rx_worker_set_tuning(a->workers[i], &tune);
		}
		if (!a->workers[i]) {
			close(fd);
			pr_err("worker %u: %s", i, strerror(errno));
			return XTEL_EXIT_RUNTIME;
		}
	}
	if (cfg->rcvbuf && !forced)
		pr_warn("warning: SO_RCVBUFFORCE needs "
			"CAP_NET_ADMIN; fell back to SO_RCVBUF, capped by "
			"net.core.rmem_max");
	a->rcvbuf_eff = rcvbuf_eff;
	a->rcvbuf_forced = forced;
	/* The sockets exist: datagrams the program passes have a taker. */
	if (cfg->iface && !cfg->no_xdp) {
		rc = xdp_setup(a);
		if (rc)
			return rc;
		if (cfg->afxdp) {
			rc = afxdp_setup(a);
			if (rc)
				return rc;
		}
		for (unsigned int i = 0; i < a->n_paths; i++)
			xtel_ingest_set_xdp(&a->igs[i], a->xdp);
	}
	return 0;
}

static int start(struct app *a)
{
	int rc;

	if (a->csv) {
		rc = xtel_csv_writer_start(a->csv);
		if (rc) {
			pr_err("CSV writer: %s", strerror(-rc));
			return XTEL_EXIT_RUNTIME;
		}
	}
	for (unsigned int i = 0; i < a->n; i++) {
		rc = xtel_rx_worker_start(a->workers[i], a->fatal_efd);
		if (rc == -EPERM || rc == -ENOSYS || rc == -EACCES)
			return xtel_exit_uring_unavailable(rc);
		if (rc) {
			pr_err("worker %u: %s", i,
				xtel_rx_worker_error(a->workers[i]));
			return rc == -EINVAL || rc == -EOPNOTSUPP ? XTEL_EXIT_URING :
								    XTEL_EXIT_RUNTIME;
		}
	}
	if (a->axr.ax) {
		rc = xtel_ax_rx_start(&a->axr, a->fatal_efd);
		if (rc) {
			pr_err("AF_XDP thread: %s", strerror(-rc));
			return XTEL_EXIT_RUNTIME;
		}
	}
	return 0;
}
/* Stop every receive path; each drains what is queued for it first. */
static int stop_receivers(struct app *a)
{
	int status = 0, rc;

	for (unsigned int i = 0; i < a->n; i++)
		xtel_rx_worker_stop(a->workers[i]);
	for (unsigned int i = 0; i < a->n; i++) {
		rc = xtel_rx_worker_join(a->workers[i]);
		if (rc) {
			pr_err("worker %u: %s", i,
				xtel_rx_worker_error(a->workers[i]));
			status = XTEL_EXIT_RUNTIME;
		}
	}
	rc = xtel_ax_rx_stop(&a->axr);
	if (rc) {
		pr_err("AF_XDP receive: %s", strerror(-rc));
		status = XTEL_EXIT_RUNTIME;
	}
	return status;
}

/*
 * --http: read the token file and certificate, then listen. The server
 * serves views only, so it may start before the workers; /readyz says
 * when they run. Returns 0 or the exit code, after a message.
 */
static int api_setup(struct app *a)
{
	int rc = xtel_api_new(&a->cfg, a->model, &a->api);

	if (rc == -ENOKEY)
		return XTEL_EXIT_CERT;
	if (rc)		/* the token file, or memory */
		return rc == -ENOMEM ? XTEL_EXIT_RUNTIME : XTEL_EXIT_USAGE;
	rc = xtel_api_start(a->api);
	if (rc == -EADDRINUSE || rc == -EADDRNOTAVAIL || rc == -EACCES)
		return XTEL_EXIT_ADDR;
	if (rc == -EPROTO)
		return XTEL_EXIT_CERT;
	return rc ? XTEL_EXIT_RUNTIME : 0;
}

/*
 * --db: open the history (preflight checked the file) and start its
 * writer thread. Returns 0 or the exit code, after a message.
 */
static int store_setup(struct app *a)
{
	struct xtel_store_cfg sc = {
		.path = a->cfg.db,
		.queue_len = a->cfg.db_queue,
	};
	int rc;

	memcpy(sc.retain_s, a->cfg.retain_s, sizeof(sc.retain_s));
	rc = xtel_store_open(&sc, &a->store);
	if (!rc)
		rc = xtel_store_start(a->store);
	if (rc) {
		pr_err("--db %s: the history writer did not start: %s",
		       a->cfg.db, strerror(-rc));
		return rc == -ENOMEM ? XTEL_EXIT_RUNTIME : XTEL_EXIT_USAGE;
	}
	return 0;
}

/* ---- the control-plane loop ---- */

static void stop_run(struct app *a, const char *reason, int status)
{
	a->stop_reason = reason;
	if (status)
		a->status = status;
	xtel_loop_stop(a->loop);
}

static void on_signal(struct xtel_loop *l, int fd, void *arg)
{
	struct app *a = arg;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		reload(a);
		return;
	}
	snprintf(a->stop_buf, sizeof(a->stop_buf), "signal %s",
		 si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
	stop_run(a, a->stop_buf, 0);
}

static void on_worker_error(struct xtel_loop *l, int fd, void *arg)
{
	stop_run(arg, "worker error", XTEL_EXIT_RUNTIME);
}

/* WatchdogSec=: a keep-alive at half the period, from the control loop. */
static uint64_t on_watchdog(struct xtel_loop *l, uint64_t now_ns, void *arg)
{
	xtel_notify_watchdog();
	return now_ns + xtel_notify_watchdog_ns() / 2;
}

static uint64_t on_duration(struct xtel_loop *l, uint64_t now_ns, void *arg)
{
	stop_run(arg, "duration", 0);
	return 0;
}

/* One interval: a new view, printed unless --quiet. */
static uint64_t on_interval(struct xtel_loop *l, uint64_t now_ns, void *arg)
{
	struct app *a = arg;
	struct xtel_view *v;
	int rc;

	rc = xtel_model_update(a->model, xtel_realtime_ns(),
			       (double)(now_ns - a->t0) / 1e9, false);
	v = rc == 0 || rc == -ENOMEM ? xtel_model_view(a->model) : NULL;
	if (v && !a->cfg.quiet)
		xtel_table_interval(stdout, v, a->cfg.top);
	if (v)
		xtel_store_feed(a->store, v, false);
	if (v)
		xtel_api_view_published(a->api);
	export_view(a, v);
	xtel_view_put(v);
	if (rc)
		pr_err("report: %s", strerror(-rc));
	a->next_tick += a->interval_ns;
	if (a->next_tick <= now_ns)	/* we fell behind: skip, do not burst */
		a->next_tick = now_ns + a->interval_ns;
	return a->next_tick;
}

/* Runs the loop until a stop; returns why it stopped. */
static const char *run(struct app *a)
{
	int rc;

	a->interval_ns = (uint64_t)(a->cfg.interval_s * 1e9);
	a->next_tick = a->t0 + a->interval_ns;
	a->stop_reason = "poll error";
	/* The duration first: due with an interval, it wins, as documented. */
	if ((a->cfg.duration_s > 0 &&
	     xtel_loop_add_timer(a->loop, a->t0 + (uint64_t)(a->cfg.duration_s * 1e9),
				 on_duration, a) < 0) ||
	    xtel_loop_add_timer(a->loop, a->next_tick, on_interval, a) < 0 ||
	    xtel_loop_add_fd(a->loop, a->sfd, on_signal, a) ||
	    xtel_loop_add_fd(a->loop, a->fatal_efd, on_worker_error, a) ||
	    (xtel_notify_watchdog_ns() &&
	     xtel_loop_add_timer(a->loop, a->t0 + xtel_notify_watchdog_ns() / 2,
				 on_watchdog, a) < 0)) {
		a->status = XTEL_EXIT_RUNTIME;
		return "loop setup error";
	}
	rc = xtel_loop_run(a->loop);
	if (rc)
		a->status = XTEL_EXIT_RUNTIME;
	return a->stop_reason;
}

static void cleanup(struct app *a)
{
	/* First: requests in flight hold views of the model freed below. */
	xtel_api_free(a->api);
	xtel_store_free(a->store);	/* after the API, which reads its stats */
	xtel_export_free(a->exp);
	xtel_ax_rx_stop(&a->axr);
	for (unsigned int i = 0; a->workers && i < a->n; i++)
		xtel_rx_worker_free(a->workers[i]);
	xtel_afxdp_close(a->axr.ax);
	xtel_csv_writer_free(a->csv);
	/* Before the XDP close: freeing a DTLS server ends its sessions. */
	for (unsigned int i = 0; a->igs && i <= a->n; i++)
		xtel_ingest_fini(&a->igs[i]);
	/* Detach; the pinned counters stay for the next run and bpftool. */
	xtel_xdp_close(a->xdp);
	/* The model's view points at the registries' key names: first. */
	xtel_model_free(a->model);
	for (unsigned int i = 0; a->regs && i <= a->n; i++)
		xtel_registry_free(a->regs[i]);
	xtel_loop_free(a->loop);
	xtel_dtls_policy_put(a->policy);
	xtel_devices_free(a->devices);
	if (a->json)
		fclose(a->json);
	if (a->sfd >= 0)
		close(a->sfd);
	if (a->fatal_efd >= 0)
		close(a->fatal_efd);
	free(a->workers);
	free(a->igs);
	free(a->regs);
	free(a->cnts);
}

int main(int argc, char **argv)
{
	struct app a = { .sfd = -1, .fatal_efd = -1 };
	struct xtel_run_info info = { 0 };
	struct xtel_view *v;
	int status = XTEL_EXIT_OK, rc;

	xtel_log_setup("collector", XTEL_LOG_INFO);
	rc = xtel_cli_parse(argc, argv, &a.cfg);
	if (rc >= 0)
		return rc;
	if (a.cfg.detach)
		return xtel_detach(&a.cfg);
	if (a.cfg.aggregate_urls)
		return xtel_agg_main(&a.cfg);
	a.n = a.cfg.workers;
	rc = xtel_preflight(&a.cfg);
	if (rc)
		return rc;
	if (a.cfg.summary_json) {
		/* Open now: a bad path should fail at start, not after a run. */
		a.json = fopen(a.cfg.summary_json, "w");
		if (!a.json) {
			pr_err("--summary-json %s: %s",
				a.cfg.summary_json, strerror(errno));
			return XTEL_EXIT_USAGE;
		}
	}

	/*
	 * Block the stop signals before any thread exists so every thread
	 * inherits the mask and only the signalfd sees them (SIGHUP reloads:
	 * reload() above).
	 */
	a.sfd = xtel_signals_block(SFD_CLOEXEC);
	a.fatal_efd = eventfd(0, EFD_CLOEXEC);
	if (a.sfd < 0 || a.fatal_efd < 0) {
		pr_err("signalfd/eventfd: %s", strerror(errno));
		status = XTEL_EXIT_RUNTIME;
		goto out;
	}
	if (a.cfg.db) {
		status = devices_setup(&a);
		if (status)
			goto out;
	}
	status = setup(&a);
	if (status)
		goto out;
	/* Every path and the XDP map get the inventory before any datagram. */
	if (a.devices)
		xtel_devices_set_apply(a.devices, devices_apply, &a);
	a.xdp_src = (struct xtel_xdp_source){ .xdp = a.xdp, .ax = a.axr.ax };
	rc = xtel_model_new(&(struct xtel_model_cfg){
		.regs = a.regs, .n_regs = a.n_paths,
		.stale_after_ns = (uint64_t)(a.cfg.stale_after_s * 1e9),
		.counters = sum_counters, .counters_arg = &a,
		.xdp = a.xdp ? xtel_xdp_source_read : NULL, .xdp_arg = &a.xdp_src,
		.failures = a.cfg.mode == XTEL_MODE_DTLS ? recent_failures : NULL,
		.failures_arg = &a,
		.families = a.cfg.export_urls ? export_families : NULL,
		.families_arg = &a,
		.with_buckets = a.cfg.export_urls != NULL,
		.lat_hist = a.cfg.db != NULL,
		.inventory = a.devices ? current_inventory : NULL,
		.inventory_arg = a.devices,
		.health = a.cfg.no_health ? NULL : &a.cfg.health,
	}, &a.model);
	if (!rc)
		rc = xtel_loop_new(&a.loop);
	if (rc) {
		pr_err("%s", strerror(-rc));
		status = XTEL_EXIT_RUNTIME;
		goto out;
	}
	if (a.cfg.db) {
		status = store_setup(&a);
		if (status)
			goto out;
	}
	if (a.cfg.http) {
		status = api_setup(&a);
		if (status)
			goto out;
		if (xtel_api_set_store(a.api, a.store)) {
			pr_err("out of memory");
			status = XTEL_EXIT_RUNTIME;
			goto out;
		}
		xtel_api_set_devices(a.api, a.devices);
	}
	if (a.cfg.export_urls) {
		status = export_setup(&a);
		if (status)
			goto out;
	}
	info.started_ns = xtel_realtime_ns();
	a.t0 = xtel_mono_ns();
	status = start(&a);
	if (status)
		goto out;
	xtel_api_set_receiving(a.api, true);
	info.ring_mode = xtel_rx_worker_ring_mode(a.workers[0]);
	if (a.xdp)
		pr_info("XDP %s on %s, maps in %s%s%s%s",
			xtel_xdp_attach_mode(a.xdp), a.cfg.iface, a.cfg.pin_dir,
			a.axr.ax ? ", AF_XDP " : "",
			a.axr.ax ? xtel_afxdp_bind_mode(a.axr.ax) : "",
			a.axr.ax ? " (1 receive thread)" : "");
	pr_info("%s mode, %u worker%s on [%s]:%u, io_uring %s, "
		"rcvbuf %d bytes%s",
		a.cfg.mode == XTEL_MODE_DTLS ? "dtls" : "plain", a.n,
		a.n == 1 ? "" : "s", a.cfg.bind_str, a.cfg.port, info.ring_mode,
		a.rcvbuf_eff, a.rcvbuf_forced ? " (forced)" : "");

	xtel_notify_ready(a.xdp ? "receiving, XDP attached" : "receiving");
	info.stop_reason = run(&a);
	status = a.status;
	xtel_notify_stopping();

	/* Stop receiving, let each path finish what the kernel handed over. */
	rc = stop_receivers(&a);
	xtel_api_set_receiving(a.api, false);
	if (rc)
		status = rc;
	info.stopped_ns = xtel_realtime_ns();
	info.elapsed_s = (double)(xtel_mono_ns() - a.t0) / 1e9;
	if (a.csv) {
		info.csv_error = xtel_csv_writer_stop(a.csv, &info.csv_rows);
		if (info.csv_error) {
			pr_err("--csv %s: write failed: %s",
				a.cfg.csv, strerror(-info.csv_error));
			status = XTEL_EXIT_RUNTIME;
		}
	}
	info.rcvbuf_effective = a.rcvbuf_eff;
	info.rcvbuf_forced = a.rcvbuf_forced;
	/* The final view: pending gaps become lost, XDP clients are read. */
	rc = xtel_model_update(a.model, info.stopped_ns, info.elapsed_s, true);
	v = rc == 0 || rc == -ENOMEM ? xtel_model_view(a.model) : NULL;
	if (v && a.exp) {
		/*
		 * The final view goes out too; the summary then reports the
		 * exporter's counters after the drain (a few words written
		 * into a published view: readers see old or new values).
		 */
		export_view(&a, v);
		xtel_export_stop(a.exp, a.cfg.export_drain_s);
		export_families(&a, v->families, XTEL_VIEW_FAMILIES);
	}
	if (v && a.store)	/* the final view, then every partial bucket */
		xtel_store_feed(a.store, v, true);
	if (a.store) {
		int db_rc = xtel_store_stop(a.store);

		xtel_store_get_stats(a.store, &info.db);
		if (db_rc)
			pr_err("--db %s: %" PRIu64 " rows could not be written "
			       "(last error: %s)", a.cfg.db,
			       info.db.c[XTEL_STORE_STAT_ROWS_DROPPED],
			       strerror(-db_rc));
	}
	if (v) {
		xtel_table_summary(stdout, v, &info);
		if (a.json && !rc)
			rc = xtel_summary_json_write(a.json, v, &a.cfg, &info);
		xtel_view_put(v);
	}
	if (rc) {
		pr_err("final report: %s", strerror(-rc));
		status = XTEL_EXIT_RUNTIME;
	}
out:
	cleanup(&a);
	xtel_opts_free();
	return status;
}

