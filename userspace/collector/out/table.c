// SPDX-License-Identifier: MIT
/*
 * Interval table and final summary (see table.h), rendered from a view.
 * Sorting is presentation and stays here: the view keeps clients by id.
 */
#include <stdlib.h>
#include <time.h>

#include "collector/out/table.h"

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
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

/* What XDP passed and dropped, by reason, and the AF_XDP rings. */
static void print_xdp(FILE *f, const struct xtel_view_xdp *x)
{
	const struct xtel_afxdp_stats *st = &x->afxdp_stats;

	if (!x->on)
		return;
	fprintf(f, "  xdp %s: passed=%llu redirected=%llu xsk_miss=%llu "
		"dropped=%llu", x->attach_mode,
		(unsigned long long)x->totals.packets[XTEL_XDP_STAT_PASSED],
		(unsigned long long)x->totals.packets[XTEL_XDP_STAT_REDIRECTED],
		(unsigned long long)x->totals.packets[XTEL_XDP_STAT_XSK_MISS],
		(unsigned long long)x->dropped);
	for (int i = XTEL_XDP_DROP_UDP_LEN; i < XTEL_XDP_STAT_OUTCOMES; i++)
		if (x->totals.packets[i])
			fprintf(f, " %s=%llu", xtel_xdp_stat_name(i),
				(unsigned long long)x->totals.packets[i]);
	if (x->afxdp)
		fprintf(f, "  afxdp: rx=%llu ring_full=%llu "
			"fill_empty=%llu rx_dropped=%llu",
			(unsigned long long)st->rx_packets,
			(unsigned long long)st->rx_ring_full,
			(unsigned long long)st->fill_ring_empty,
			(unsigned long long)st->rx_dropped);
	fputc('\n', f);
}

/* Busiest first over the interval; ties by bytes, then by id. */
static int rate_cmp(const void *a, const void *b)
{
	const struct xtel_view_client *x = *(const struct xtel_view_client *const *)a;
	const struct xtel_view_client *y = *(const struct xtel_view_client *const *)b;

	if (x->d_received != y->d_received)
		return x->d_received < y->d_received ? 1 : -1;
	if (x->d_bytes != y->d_bytes)
		return x->d_bytes < y->d_bytes ? 1 : -1;
	return x->snap->client_id < y->snap->client_id ? -1 : 1;
}

static void print_rate_row(FILE *f, const char *label,
			   const struct xtel_view_client *vc, const char *state)
{
	const struct xtel_client_snap *c = vc->snap;

	fprintf(f, "  %10s %12llu %9llu %7llu %7llu %6.2f %9.0f %8.2f "
		"%8.1f %8.1f %9.1f%s%s\n",
		label, (unsigned long long)c->received,
		(unsigned long long)c->lost, (unsigned long long)c->duplicates,
		(unsigned long long)c->reordered, xtel_view_client_loss_pct(vc), vc->pkt_s,
		vc->mb_s, us(c->lat.p50_ns), us(c->lat.p99_ns),
		us(c->lat.max_ns), state ? " " : "", state ? state : "");
}

void xtel_table_interval(FILE *f, const struct xtel_view *v, unsigned int top)
{
	unsigned int n = v->snap.n_clients;
	unsigned int shown = n < top ? n : top;
	const struct xtel_view_client **rows = calloc(n ? n : 1, sizeof(*rows));
	time_t t = (time_t)(v->taken_ns / 1000000000ull);
	char ts[16], label[16];
	struct tm tm;

	if (!rows)
		return;
	for (unsigned int i = 0; i < n; i++)
		rows[i] = &v->clients[i];
	qsort(rows, n, sizeof(*rows), rate_cmp);

	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(f, "[%s] clients %u (live %u, stale %u, bye %u)  "
		"%.0f pkt/s  %.2f MB/s  received %llu  dropped %llu\n",
		ts, n, v->live, v->stale, v->bye, v->total.pkt_s,
		v->total.mb_s, (unsigned long long)v->snap.total.received,
		(unsigned long long)v->dropped_total);
	if (v->inv)
		fprintf(f, "  devices %u (stale %u, never seen %u, disabled %u), "
			"clients not in the inventory %u\n", v->n_devices,
			v->devices_stale, v->devices_unseen, v->devices_disabled,
			v->clients_unknown);
	if (shown)
		fprintf(f, "  %10s %12s %9s %7s %7s %6s %9s %8s %8s %8s %9s %s%s\n",
			"client", "received", "lost", "dup", "reord", "loss%",
			"pkt/s", "MB/s", "p50us", "p99us", "maxus", "state",
			v->inv ? "       name" : "");
	for (unsigned int i = 0; i < shown; i++) {
		const struct xtel_view_client *vc = rows[i];
		char state[160];

		snprintf(label, sizeof(label), "%u", vc->snap->client_id);
		if (!v->inv)
			snprintf(state, sizeof(state), "%s",
				 xtel_client_state_name(vc->state));
		else {
			char st[24];

			/* stale with how long: silent for that many seconds */
			if (vc->state == XTEL_CLIENT_STALE)
				snprintf(st, sizeof(st), "stale:%.0fs", vc->silent_s);
			else
				snprintf(st, sizeof(st), "%s",
					 xtel_client_state_name(vc->state));
			snprintf(state, sizeof(state), "%-11s %s", st,
				 vc->dev ? vc->dev->name : "(unknown)");
		}
		print_rate_row(f, label, vc, state);
	}
	if (shown)
		print_rate_row(f, "total", &v->total, NULL);
	print_drops(f, &v->cnt);
	print_xdp(f, &v->xdp);
	fflush(f);
	free(rows);
}

static void print_lat_row(FILE *f, const char *label,
			  const struct xtel_view_client *vc)
{
	const struct xtel_client_snap *c = vc->snap;
	const struct xtel_lat_summary *l = &c->lat;

	fprintf(f, "  %10s %12llu %9llu %7llu %7llu %7.1f %9.1f %9.1f %9.1f "
		"%9.1f %9.1f %9.1f %9.1f\n",
		label, (unsigned long long)c->received,
		(unsigned long long)c->lost, (unsigned long long)c->duplicates,
		(unsigned long long)c->reordered, xtel_view_client_avg_size(vc),
		us(l->min_ns), us(xtel_lat_mean_ns(l)), us(l->p50_ns), us(l->p90_ns),
		us(l->p99_ns), us(l->p999_ns), us(l->max_ns));
}

enum { SUMMARY_MAX_CLIENTS = 100 };

/* Most received first, ties by id. */
static int recv_cmp(const void *a, const void *b)
{
	const struct xtel_view_client *x = *(const struct xtel_view_client *const *)a;
	const struct xtel_view_client *y = *(const struct xtel_view_client *const *)b;

	if (x->snap->received != y->snap->received)
		return x->snap->received < y->snap->received ? 1 : -1;
	return x->snap->client_id < y->snap->client_id ? -1 : 1;
}

void xtel_table_summary(FILE *f, const struct xtel_view *v,
			const struct xtel_run_info *info)
{
	const struct xtel_worker_counters *cnt = &v->cnt;
	unsigned int n = v->snap.n_clients;
	const struct xtel_view_client **order = calloc(n ? n : 1, sizeof(*order));
	char label[16];

	fprintf(f, "== final summary: %u clients, %.3f s (%s)\n", n,
		info->elapsed_s, info->stop_reason);
	fprintf(f, "  %10s %12s %9s %7s %7s %7s %9s %9s %9s %9s %9s %9s %9s\n",
		"client", "received", "lost", "dup", "reord", "avgB",
		"min_us", "mean_us", "p50_us", "p90_us", "p99_us", "p999_us",
		"max_us");
	if (order) {
		for (unsigned int i = 0; i < n; i++)
			order[i] = &v->clients[i];
		/* Many clients: show the busiest; the JSON has them all. */
		if (n > SUMMARY_MAX_CLIENTS)
			qsort(order, n, sizeof(*order), recv_cmp);
		for (unsigned int i = 0; i < n && i < SUMMARY_MAX_CLIENTS; i++) {
			snprintf(label, sizeof(label), "%u", order[i]->snap->client_id);
			print_lat_row(f, label, order[i]);
		}
		if (n > SUMMARY_MAX_CLIENTS)
			fprintf(f, "  ... %u more clients (see --summary-json)\n",
				n - SUMMARY_MAX_CLIENTS);
		free(order);
	}
	print_lat_row(f, "total", &v->total);
	fprintf(f, "  datagrams %llu, accepted %llu, dropped %llu, too late %llu, "
		"pending->lost at exit counted\n",
		(unsigned long long)cnt->events[XTEL_EV_RX_DATAGRAMS],
		(unsigned long long)cnt->events[XTEL_EV_ACCEPTED],
		(unsigned long long)v->dropped_total,
		(unsigned long long)v->snap.total.too_late);
	print_drops(f, cnt);
	print_xdp(f, &v->xdp);
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
