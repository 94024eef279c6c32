// SPDX-License-Identifier: MIT
/*
 * Periodic table, final summary and summary JSON (see report.h). Rates come
 * from the difference of two snapshots divided by the real time between
 * them, so a late tick does not inflate pkt/s. Per-metric min/max/mean are
 * folded here over every interval of the run: the registry keeps only the
 * last complete interval, and the final summary wants the whole run.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/json.h"
#include "collector/report.h"

struct run_metric {
	char key[XTEL_MAX_KEY_LEN + 1];
	double last, min, max, sum;
	uint64_t count;
};

struct run_client {
	uint32_t client_id;
	uint32_t n, cap;
	struct run_metric *m;
};

struct xtel_reporter {
	const struct xtel_config *cfg;
	struct xtel_registry *const *regs;
	unsigned int n_regs;
	xtel_report_counters_fn counters;
	void *counters_arg;

	struct xtel_snapshot prev;
	bool have_prev;
	double prev_elapsed_s;
	struct xtel_worker_counters prev_cnt;

	/* whole-run metric aggregates, sorted by client_id */
	struct run_client *rc;
	uint32_t n_rc, cap_rc;

	struct xtel_report_xdp xdp;	/* zeroed: no XDP program */
};

int xtel_reporter_new(const struct xtel_config *cfg,
		      struct xtel_registry *const *regs, unsigned int n,
		      xtel_report_counters_fn counters, void *counters_arg,
		      struct xtel_reporter **out)
{
	struct xtel_reporter *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->cfg = cfg;
	r->regs = regs;
	r->n_regs = n;
	r->counters = counters;
	r->counters_arg = counters_arg;
	*out = r;
	return 0;
}

void xtel_reporter_set_xdp(struct xtel_reporter *r,
			   const struct xtel_report_xdp *xdp)
{
	r->xdp = *xdp;
}

void xtel_reporter_free(struct xtel_reporter *r)
{
	if (!r)
		return;
	if (r->have_prev)
		xtel_snapshot_free(&r->prev);
	for (uint32_t i = 0; i < r->n_rc; i++)
		free(r->rc[i].m);
	free(r->rc);
	free(r);
}

/* ---- whole-run metric aggregates ---- */

/* Index of the first run_client whose id is >= id (r->rc is sorted). */
static uint32_t run_client_lower(const struct xtel_reporter *r, uint32_t id)
{
	uint32_t lo = 0, hi = r->n_rc;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (r->rc[mid].client_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct run_client *run_client_get(struct xtel_reporter *r, uint32_t id)
{
	uint32_t lo = run_client_lower(r, id);

	if (lo < r->n_rc && r->rc[lo].client_id == id)
		return &r->rc[lo];
	if (r->n_rc == r->cap_rc) {
		uint32_t ncap = r->cap_rc ? r->cap_rc * 2 : 64;
		struct run_client *n = realloc(r->rc, ncap * sizeof(*n));

		if (!n)
			return NULL;
		r->rc = n;
		r->cap_rc = ncap;
	}
	memmove(&r->rc[lo + 1], &r->rc[lo], (r->n_rc - lo) * sizeof(*r->rc));
	r->rc[lo] = (struct run_client){ .client_id = id };
	r->n_rc++;
	return &r->rc[lo];
}

static int fold_metrics(struct xtel_reporter *r, const struct xtel_snapshot *s)
{
	for (uint32_t i = 0; i < s->n_clients; i++) {
		const struct xtel_client_snap *c = &s->clients[i];
		struct run_client *rc;

		if (!c->n_metrics)
			continue;
		rc = run_client_get(r, c->client_id);
		if (!rc)
			return -ENOMEM;
		for (uint32_t k = 0; k < c->n_metrics; k++) {
			const struct xtel_metric_snap *m = &c->metrics[k];
			struct run_metric *d = NULL;

			for (uint32_t j = 0; j < rc->n; j++)
				if (!strcmp(rc->m[j].key, m->key))
					d = &rc->m[j];
			if (!d) {
				if (rc->n == rc->cap) {
					uint32_t ncap = rc->cap ? rc->cap * 2 : 8;
					struct run_metric *n =
						realloc(rc->m, ncap * sizeof(*n));

					if (!n)
						return -ENOMEM;
					rc->m = n;
					rc->cap = ncap;
				}
				d = &rc->m[rc->n++];
				memset(d, 0, sizeof(*d));
				memcpy(d->key, m->key, sizeof(d->key));
			}
			d->last = m->last;
			if (!m->count)
				continue;
			if (!d->count || m->min < d->min)
				d->min = m->min;
			if (!d->count || m->max > d->max)
				d->max = m->max;
			d->sum += m->mean * (double)m->count;
			d->count += m->count;
		}
	}
	return 0;
}

/* ---- helpers ---- */

static const char *client_state(const struct xtel_client_snap *c)
{
	if (c->bye_seen)
		return "bye";
	return c->stale ? "stale" : "live";
}

/* Loss as a share of the datagrams the client meant us to get. */
static double loss_pct(const struct xtel_client_snap *c)
{
	uint64_t unique = c->received - c->duplicates;
	uint64_t expected = unique + c->lost;

	return expected ? 100.0 * (double)c->lost / (double)expected : 0.0;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

struct rate_row {
	const struct xtel_client_snap *c;
	uint64_t d_rx, d_bytes;
};

static int rate_cmp(const void *a, const void *b)
{
	const struct rate_row *x = a, *y = b;

	if (x->d_rx != y->d_rx)
		return x->d_rx < y->d_rx ? 1 : -1;
	if (x->d_bytes != y->d_bytes)
		return x->d_bytes < y->d_bytes ? 1 : -1;
	return x->c->client_id < y->c->client_id ? -1 : 1;
}

static void print_drops(FILE *f, const struct xtel_worker_counters *c)
{
	bool any = false;

	fputs("  drops:", f);
	for (unsigned int i = 1; i < XTEL_DROP_MAX; i++) {
		if (!c->drops[i])
			continue;
		fprintf(f, " %s=%llu", xtel_drop_name(i),
			(unsigned long long)c->drops[i]);
		any = true;
	}
	if (!any)
		fputs(" none", f);
	if (c->events[XTEL_EV_ENOBUFS] || c->events[XTEL_EV_CSV_DROPPED] ||
	    c->events[XTEL_EV_TX_DROPPED])
		fprintf(f, "  (enobufs=%llu csv_dropped=%llu tx_dropped=%llu)",
			(unsigned long long)c->events[XTEL_EV_ENOBUFS],
			(unsigned long long)c->events[XTEL_EV_CSV_DROPPED],
			(unsigned long long)c->events[XTEL_EV_TX_DROPPED]);
	fputc('\n', f);
}

static void print_table(struct xtel_reporter *r, const struct xtel_snapshot *s,
			const struct xtel_worker_counters *cnt, double dt)
{
	const struct xtel_snapshot *p = r->have_prev ? &r->prev : NULL;
	struct rate_row *rows = calloc(s->n_clients ? s->n_clients : 1,
				       sizeof(*rows));
	unsigned int live = 0, stale = 0, bye = 0, shown;
	uint64_t d_rx_all = 0, d_bytes_all = 0;
	uint32_t j = 0;
	time_t t = (time_t)(s->taken_ns / 1000000000ull);
	struct tm tm;
	char ts[16];
	FILE *f = stdout;

	if (!rows)
		return;
	for (uint32_t i = 0; i < s->n_clients; i++) {
		const struct xtel_client_snap *c = &s->clients[i];
		uint64_t prx = 0, pby = 0;

		/* Both snapshots are sorted by client_id: merge walk. */
		while (p && j < p->n_clients && p->clients[j].client_id < c->client_id)
			j++;
		if (p && j < p->n_clients && p->clients[j].client_id == c->client_id) {
			prx = p->clients[j].received;
			pby = p->clients[j].bytes;
		}
		rows[i] = (struct rate_row){
			.c = c,
			.d_rx = c->received - prx,
			.d_bytes = c->bytes - pby,
		};
		if (c->bye_seen)
			bye++;
		else if (c->stale)
			stale++;
		else
			live++;
	}
	d_rx_all = s->total.received - (p ? p->total.received : 0);
	d_bytes_all = s->total.bytes - (p ? p->total.bytes : 0);
	qsort(rows, s->n_clients, sizeof(*rows), rate_cmp);

	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(f, "[%s] clients %u (live %u, stale %u, bye %u)  "
		"%.0f pkt/s  %.2f MB/s  received %llu  dropped %llu\n",
		ts, s->n_clients, live, stale, bye,
		dt > 0 ? (double)d_rx_all / dt : 0.0,
		dt > 0 ? (double)d_bytes_all / dt / 1e6 : 0.0,
		(unsigned long long)s->total.received,
		(unsigned long long)xtel_counters_total_drops(cnt));
	shown = s->n_clients < r->cfg->top ? s->n_clients : r->cfg->top;
	if (shown)
		fprintf(f, "  %10s %12s %9s %7s %7s %6s %9s %8s %8s %8s %9s %s\n",
			"client", "received", "lost", "dup", "reord", "loss%",
			"pkt/s", "MB/s", "p50us", "p99us", "maxus", "state");
	for (unsigned int i = 0; i < shown; i++) {
		const struct xtel_client_snap *c = rows[i].c;

		fprintf(f, "  %10u %12llu %9llu %7llu %7llu %6.2f %9.0f %8.2f "
			"%8.1f %8.1f %9.1f %s\n",
			c->client_id, (unsigned long long)c->received,
			(unsigned long long)c->lost,
			(unsigned long long)c->duplicates,
			(unsigned long long)c->reordered, loss_pct(c),
			dt > 0 ? (double)rows[i].d_rx / dt : 0.0,
			dt > 0 ? (double)rows[i].d_bytes / dt / 1e6 : 0.0,
			us(c->lat.p50_ns), us(c->lat.p99_ns), us(c->lat.max_ns),
			client_state(c));
	}
	if (shown) {
		const struct xtel_client_snap *c = &s->total;

		fprintf(f, "  %10s %12llu %9llu %7llu %7llu %6.2f %9.0f %8.2f "
			"%8.1f %8.1f %9.1f\n",
			"total", (unsigned long long)c->received,
			(unsigned long long)c->lost,
			(unsigned long long)c->duplicates,
			(unsigned long long)c->reordered, loss_pct(c),
			dt > 0 ? (double)d_rx_all / dt : 0.0,
			dt > 0 ? (double)d_bytes_all / dt / 1e6 : 0.0,
			us(c->lat.p50_ns), us(c->lat.p99_ns), us(c->lat.max_ns));
	}
	print_drops(f, cnt);
	if (r->xdp.line)
		r->xdp.line(r->xdp.arg, f);
	fflush(f);
	free(rows);
}

/*
 * What both reports start with: close the interval in progress (it counts,
 * and the snapshot then reports it as complete), snapshot every registry,
 * fold the metrics into the run's totals and read the counters. Returns
 * the snapshot's error with nothing to free, or 0 with s the caller's to
 * keep or free and fold_metrics' result in *fold_rc.
 */
static int take_snapshot(struct xtel_reporter *r, uint64_t now_ns, bool final,
			 struct xtel_snapshot *s,
			 struct xtel_worker_counters *cnt, int *fold_rc)
{
	int rc;

	xtel_interval_advance();
	rc = xtel_snapshot_take(r->regs, r->n_regs, now_ns,
				(uint64_t)(r->cfg->stale_after_s * 1e9), final, s);
	if (rc)
		return rc;
	*fold_rc = fold_metrics(r, s);
	r->counters(r->counters_arg, cnt);
	return 0;
}

int xtel_report_interval(struct xtel_reporter *r, uint64_t now_ns,
			 double elapsed_s)
{
	struct xtel_worker_counters cnt;
	struct xtel_snapshot s;
	int rc, taken;

	taken = take_snapshot(r, now_ns, false, &s, &cnt, &rc);
	if (taken)
		return taken;
	if (!r->cfg->quiet)
		print_table(r, &s, &cnt,
			    elapsed_s - (r->have_prev ? r->prev_elapsed_s : 0.0));
	if (r->have_prev)
		xtel_snapshot_free(&r->prev);
	r->prev = s;
	r->have_prev = true;
	r->prev_elapsed_s = elapsed_s;
	r->prev_cnt = cnt;
	return rc;
}

/* ---- final summary ---- */

static void print_lat_row(FILE *f, const char *label,
			  const struct xtel_client_snap *c)
{
	const struct xtel_lat_summary *l = &c->lat;

	fprintf(f, "  %10s %12llu %9llu %7llu %7llu %7.1f %9.1f %9.1f %9.1f "
		"%9.1f %9.1f %9.1f %9.1f\n",
		label, (unsigned long long)c->received,
		(unsigned long long)c->lost, (unsigned long long)c->duplicates,
		(unsigned long long)c->reordered,
		c->received ? (double)c->bytes / (double)c->received : 0.0,
		us(l->min_ns), us(l->mean_ns), us(l->p50_ns), us(l->p90_ns),
		us(l->p99_ns), us(l->p999_ns), us(l->max_ns));
}

enum { SUMMARY_MAX_CLIENTS = 100 };

static int recv_cmp(const void *a, const void *b)
{
	const struct xtel_client_snap *x = *(const struct xtel_client_snap *const *)a;
	const struct xtel_client_snap *y = *(const struct xtel_client_snap *const *)b;

	if (x->received != y->received)
		return x->received < y->received ? 1 : -1;
	return x->client_id < y->client_id ? -1 : 1;
}

static void print_summary(const struct xtel_reporter *r,
			  const struct xtel_snapshot *s,
			  const struct xtel_worker_counters *cnt,
			  const struct xtel_run_info *info)
{
	FILE *f = stdout;
	unsigned int n = s->n_clients;
	const struct xtel_client_snap **order = calloc(n ? n : 1, sizeof(*order));
	char label[16];

	fprintf(f, "== final summary: %u clients, %.3f s (%s)\n", n,
		info->elapsed_s, info->stop_reason);
	fprintf(f, "  %10s %12s %9s %7s %7s %7s %9s %9s %9s %9s %9s %9s %9s\n",
		"client", "received", "lost", "dup", "reord", "avgB",
		"min_us", "mean_us", "p50_us", "p90_us", "p99_us", "p999_us",
		"max_us");
	if (order) {
		for (unsigned int i = 0; i < n; i++)
			order[i] = &s->clients[i];
		/* Many clients: show the busiest; the JSON has them all. */
		if (n > SUMMARY_MAX_CLIENTS)
			qsort(order, n, sizeof(*order), recv_cmp);
		for (unsigned int i = 0; i < n && i < SUMMARY_MAX_CLIENTS; i++) {
			snprintf(label, sizeof(label), "%u", order[i]->client_id);
			print_lat_row(f, label, order[i]);
		}
		if (n > SUMMARY_MAX_CLIENTS)
			fprintf(f, "  ... %u more clients (see --summary-json)\n",
				n - SUMMARY_MAX_CLIENTS);
		free(order);
	}
	print_lat_row(f, "total", &s->total);
	fprintf(f, "  datagrams %llu, accepted %llu, dropped %llu, too late %llu, "
		"pending->lost at exit counted\n",
		(unsigned long long)cnt->events[XTEL_EV_RX_DATAGRAMS],
		(unsigned long long)cnt->events[XTEL_EV_ACCEPTED],
		(unsigned long long)xtel_counters_total_drops(cnt),
		(unsigned long long)s->total.too_late);
	print_drops(f, cnt);
	if (r->xdp.line)
		r->xdp.line(r->xdp.arg, f);
	if (cnt->events[XTEL_EV_DRAINED] || cnt->events[XTEL_EV_DRAIN_CUT])
		fprintf(f, "  drained after the stop: %llu datagrams%s\n",
			(unsigned long long)cnt->events[XTEL_EV_DRAINED],
			cnt->events[XTEL_EV_DRAIN_CUT] ?
			" (bound reached: more were left)" : "");
	if (info->csv_rows || cnt->events[XTEL_EV_CSV_DROPPED])
		fprintf(f, "  csv: %llu rows written, %llu dropped\n",
			(unsigned long long)info->csv_rows,
			(unsigned long long)cnt->events[XTEL_EV_CSV_DROPPED]);
	fflush(f);
}

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

/* ---- JSON ---- */

static void json_u64(FILE *f, const char *key, uint64_t v, bool comma)
{
	fprintf(f, "\"%s\": %llu%s", key, (unsigned long long)v, comma ? ", " : "");
}

static void json_latency(FILE *f, const struct xtel_lat_summary *l)
{
	fprintf(f, "{\"count\": %llu, \"negative\": %llu, \"min\": %.3f, "
		"\"mean\": %.3f, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
		"\"p999\": %.3f, \"max\": %.3f}",
		(unsigned long long)l->count, (unsigned long long)l->negative,
		us(l->min_ns), us(l->mean_ns), us(l->p50_ns), us(l->p90_ns),
		us(l->p99_ns), us(l->p999_ns), us(l->max_ns));
}

static void json_by_type(FILE *f, const struct xtel_client_snap *c)
{
	fputc('{', f);
	for (unsigned int t = 1; t <= XTEL_MSG_TYPE_MAX; t++)
		fprintf(f, "\"%s\": %llu%s", xtel_msg_type_name((uint8_t)t),
			(unsigned long long)c->by_type[t],
			t < XTEL_MSG_TYPE_MAX ? ", " : "");
	fputc('}', f);
}

/* Counters shared by totals and each client. */
static void json_counts(FILE *f, const struct xtel_client_snap *c)
{
	json_u64(f, "received", c->received, true);
	json_u64(f, "bytes", c->bytes, true);
	json_u64(f, "lost", c->lost, true);
	json_u64(f, "duplicates", c->duplicates, true);
	json_u64(f, "reordered", c->reordered, true);
	json_u64(f, "too_late", c->too_late, true);
	fprintf(f, "\"loss_pct\": %.6f, \"avg_size\": %.3f, \"by_type\": ",
		loss_pct(c),
		c->received ? (double)c->bytes / (double)c->received : 0.0);
	json_by_type(f, c);
	fputs(", \"latency_us\": ", f);
	json_latency(f, &c->lat);
}

static const struct run_client *run_client_find(const struct xtel_reporter *r,
						uint32_t id)
{
	uint32_t lo = run_client_lower(r, id);

	return lo < r->n_rc && r->rc[lo].client_id == id ? &r->rc[lo] : NULL;
}

static void json_client(FILE *f, const struct xtel_reporter *r,
			const struct xtel_client_snap *c)
{
	const struct run_client *rc = run_client_find(r, c->client_id);

	fprintf(f, "    {\"client_id\": %u, ", c->client_id);
	json_counts(f, c);
	fputs(", ", f);
	json_u64(f, "epochs", c->epochs, true);
	json_u64(f, "highest_seq", c->highest_seq, true);
	json_u64(f, "first_seen_ns", c->first_seen_ns, true);
	json_u64(f, "last_seen_ns", c->last_seen_ns, true);
	fprintf(f, "\"state\": \"%s\", ", client_state(c));
	json_u64(f, "metrics_dropped", c->metrics_dropped, true);
	fputs("\"metrics\": {", f);
	for (uint32_t k = 0; rc && k < rc->n; k++) {
		const struct run_metric *m = &rc->m[k];

		fprintf(f, "%s", k ? ", " : "");
		xtel_json_str(f, m->key);
		fputs(": {\"last\": ", f);
		xtel_json_double(f, m->last);
		fputs(", \"min\": ", f);
		xtel_json_double(f, m->count ? m->min : NAN);
		fputs(", \"max\": ", f);
		xtel_json_double(f, m->count ? m->max : NAN);
		fputs(", \"mean\": ", f);
		xtel_json_double(f, m->count ? m->sum / (double)m->count : NAN);
		fprintf(f, ", \"count\": %llu}", (unsigned long long)m->count);
	}
	fputs("}}", f);
}

static int write_json(FILE *f, const struct xtel_reporter *r,
		      const struct xtel_snapshot *s,
		      const struct xtel_worker_counters *cnt,
		      const struct xtel_run_info *info)
{
	const struct xtel_config *cfg = r->cfg;
	struct rusage ru = { 0 };
	double user_s, sys_s;
	uint64_t rx = cnt->events[XTEL_EV_RX_DATAGRAMS];

	getrusage(RUSAGE_SELF, &ru);
	user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;

	fputs("{\n  \"version\": 1,\n  \"mode\": ", f);
	xtel_json_str(f, cfg->mode == XTEL_MODE_DTLS ? "dtls" : "plain");
	fputs(",\n  \"bind\": ", f);
	xtel_json_str(f, cfg->bind_str);
	fprintf(f, ",\n  \"port\": %u,\n  \"iface\": ", cfg->port);
	if (cfg->iface)
		xtel_json_str(f, cfg->iface);
	else
		fputs("null", f);
	/*
	 * What the XDP program saw and dropped before the sockets, next to
	 * what userspace received below: together they say where loss
	 * happened (before the host, in XDP, in the socket buffer as
	 * rxq_ovfl, or in userspace).
	 */
	fputs(",\n  ", f);
	if (!r->xdp.json || r->xdp.json(r->xdp.arg, f))
		fputs("\"xdp\": false", f);
	fprintf(f, ",\n  \"workers\": %u,\n  \"io_uring_mode\": ",
		cfg->workers);
	xtel_json_str(f, info->ring_mode);
	fprintf(f, ",\n  \"rcvbuf_bytes\": %d,\n  \"rcvbuf_forced\": %s,\n",
		info->rcvbuf_effective, info->rcvbuf_forced ? "true" : "false");
	fprintf(f, "  \"started_ns\": %llu,\n  \"stopped_ns\": %llu,\n"
		"  \"duration_s\": %.6f,\n  \"stop_reason\": ",
		(unsigned long long)info->started_ns,
		(unsigned long long)info->stopped_ns, info->elapsed_s);
	xtel_json_str(f, info->stop_reason);

	fprintf(f, ",\n  \"totals\": {\"clients\": %u, ", s->n_clients);
	json_counts(f, &s->total);
	fputs("},\n  \"drops\": {", f);
	for (unsigned int i = 1; i < XTEL_DROP_MAX; i++)
		fprintf(f, "%s\"%s\": %llu", i > 1 ? ", " : "", xtel_drop_name(i),
			(unsigned long long)cnt->drops[i]);
	fprintf(f, "},\n  \"dropped_total\": %llu,\n  \"counters\": {",
		(unsigned long long)xtel_counters_total_drops(cnt));
	for (unsigned int e = 0; e < XTEL_EV_MAX; e++)
		fprintf(f, "%s\"%s\": %llu", e ? ", " : "", xtel_event_name(e),
			(unsigned long long)cnt->events[e]);
	fputs("},\n  \"dtls\": {", f);
	for (unsigned int d = 0; d < XTEL_DTLS_SERVER_NSTATS; d++)
		fprintf(f, "%s\"%s\": %llu", d ? ", " : "",
			xtel_dtls_server_stat_names[d],
			(unsigned long long)cnt->dtls[d]);
	fputs("},\n  \"csv\": {\"path\": ", f);
	if (cfg->csv)
		xtel_json_str(f, cfg->csv);
	else
		fputs("null", f);
	fprintf(f, ", \"rows\": %llu, \"dropped\": %llu, \"error\": %d},\n",
		(unsigned long long)info->csv_rows,
		(unsigned long long)cnt->events[XTEL_EV_CSV_DROPPED],
		info->csv_error);
	fprintf(f, "  \"rusage\": {\"user_s\": %.6f, \"sys_s\": %.6f, "
		"\"max_rss_kb\": %ld, \"cpu_ns_per_datagram\": %.1f},\n",
		user_s, sys_s, peak_rss_kb(&ru),
		rx ? (user_s + sys_s) * 1e9 / (double)rx : 0.0);
	fputs("  \"clients\": [\n", f);
	for (uint32_t i = 0; i < s->n_clients; i++) {
		json_client(f, r, &s->clients[i]);
		fputs(i + 1 < s->n_clients ? ",\n" : "\n", f);
	}
	fputs("  ]\n}\n", f);
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}

int xtel_report_final(struct xtel_reporter *r, uint64_t now_ns,
		      const struct xtel_run_info *info, FILE *json)
{
	struct xtel_worker_counters cnt;
	struct xtel_snapshot s;
	int rc, taken;

	taken = take_snapshot(r, now_ns, true, &s, &cnt, &rc);
	if (taken)
		return taken;
	print_summary(r, &s, &cnt, info);
	if (json && !rc)
		rc = write_json(json, r, &s, &cnt, info);
	xtel_snapshot_free(&s);
	return rc;
}
