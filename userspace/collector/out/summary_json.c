// SPDX-License-Identifier: MIT
/*
 * The summary JSON (see summary_json.h), built with jansson from the final
 * view: the run's configuration and facts around the pieces of
 * view_json.c, which the HTTP API shares. The clients are made one at a
 * time as they are written (xtel_json_write_report_rows), not as a tree.
 */
#include <errno.h>
#include <math.h>
#include <sys/resource.h>

#include "common/json.h"
#include "collector/out/store_feed.h"
#include "collector/out/summary_json.h"
#include "collector/out/view_json.h"

/*
 * Peak resident memory of this process image. ru_maxrss is kept across
 * execve, so a collector started by a larger program (a Python test
 * harness, a shell) would report its parent's peak: read VmHWM, which
 * belongs to our own address space, and fall back to ru_maxrss.
 */
static long peak_rss_kb(const struct rusage *ru)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f != NULL) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
				break;
		fclose(f);
	}
	return kb >= 0 ? kb : ru->ru_maxrss;
}

static json_t *rusage_json(uint64_t rx)
{
	struct rusage ru = { 0 };
	double user_s, sys_s;
	json_t *o = json_object();

	getrusage(RUSAGE_SELF, &ru);
	user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	xtel_json_set(o, "user_s", xtel_json_fixed(user_s, 6));
	xtel_json_set(o, "sys_s", xtel_json_fixed(sys_s, 6));
	xtel_json_set(o, "max_rss_kb", json_integer(peak_rss_kb(&ru)));
	xtel_json_set(o, "cpu_ns_per_datagram",
		      xtel_json_fixed(rx ? (user_s + sys_s) * 1e9 / (double)rx :
					   0.0, 1));
	return o;
}

static json_t *summary_json(const struct xtel_view *v,
			    const struct xtel_config *cfg,
			    const struct xtel_run_info *info)
{
	const struct xtel_worker_counters *cnt = &v->cnt;
	json_t *root = json_object(), *totals = json_object(), *csv = json_object();

	xtel_json_set(root, "version", json_integer(1));
	xtel_json_set(root, "mode", json_string(cfg->mode == XTEL_MODE_DTLS ?
						"dtls" : "plain"));
	xtel_json_set(root, "bind", xtel_json_text(cfg->bind_str));
	xtel_json_set(root, "port", json_integer(cfg->port));
	xtel_json_set(root, "iface", xtel_json_text(cfg->iface));
	xtel_view_json_xdp(root, &v->xdp, cfg, false);
	xtel_view_json_devices(root, v);
	xtel_json_set(root, "workers", json_integer(cfg->workers));
	xtel_json_set(root, "io_uring_mode", xtel_json_text(info->ring_mode));
	xtel_json_set(root, "rcvbuf_bytes", json_integer(info->rcvbuf_effective));
	xtel_json_set(root, "rcvbuf_forced", json_boolean(info->rcvbuf_forced));
	xtel_json_set(root, "started_ns", xtel_json_u64(info->started_ns));
	xtel_json_set(root, "stopped_ns", xtel_json_u64(info->stopped_ns));
	xtel_json_set(root, "duration_s", xtel_json_fixed(info->elapsed_s, 6));
	xtel_json_set(root, "stop_reason", xtel_json_text(info->stop_reason));

	xtel_json_set(totals, "clients", json_integer(v->snap.n_clients));
	xtel_view_json_counts(totals, &v->total);
	xtel_json_set(root, "totals", totals);
	xtel_view_json_counters(root, v);
	xtel_view_json_recent_failures(root, v);
	xtel_json_set(csv, "path", xtel_json_text(cfg->csv));
	xtel_json_set(csv, "rows", xtel_json_u64(info->csv_rows));
	xtel_json_set(csv, "dropped",
		      xtel_json_u64(cnt->events[XTEL_EV_CSV_DROPPED]));
	xtel_json_set(csv, "error", json_integer(info->csv_error));
	xtel_json_set(root, "csv", csv);
	xtel_json_set(root, "db", cfg->db ?
		      xtel_store_stats_json(cfg->db, &info->db) : json_null());
	xtel_json_set(root, "rusage",
		      rusage_json(cnt->events[XTEL_EV_RX_DATAGRAMS]));
	return root;
}

/* xtel_json_rows' rows: client i of the view, made as it is written. */
static json_t *client_row(const void *ctx, size_t i)
{
	const struct xtel_view *v = ctx;

	return xtel_view_json_client(&v->clients[i]);
}

static json_t *xdp_client_row(const void *ctx, size_t i)
{
	const struct xtel_view *v = ctx;

	return xtel_view_json_xdp_client(&v->xdp.clients[i]);
}

int xtel_summary_json_write(FILE *f, const struct xtel_view *v,
			    const struct xtel_config *cfg,
			    const struct xtel_run_info *info)
{
	json_t *root = summary_json(v, cfg, info);
	/* the per-client arrays last, "xdp_clients" only with XDP */
	const struct xtel_json_rows rows[] = {
		{ .key = "clients", .n = v->snap.n_clients,
		  .row = client_row, .ctx = v },
		{ .key = "xdp_clients", .n = v->xdp.clients ? v->xdp.n_clients : 0,
		  .row = xdp_client_row, .ctx = v },
	};
	int rc;

	if (!root)
		return -ENOMEM;
	rc = xtel_json_write_report_rows(f, root, rows, v->xdp.on ? 2 : 1);
	json_decref(root);
	return rc;
}
