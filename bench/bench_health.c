// SPDX-License-Identifier: MIT
/*
 * Health inference accuracy and cost on a synthetic fleet whose truth is
 * known exactly (docs/HEALTH.md). Each client has its own clock offset,
 * rate and metric levels, and every signal its own noise; at interval
 * --fault-at, 5% of the clients per fault kind go bad (latency, congestion,
 * loss, silence, rate drop, metric shift, jitter) at three magnitudes, for
 * --fault-len intervals; the rest stay steady for the whole run. The
 * engine (userspace/health) is fed exactly what the collector's feed would
 * hand it, interval by interval, and its verdicts are scored:
 *
 *   recall      faulty clients with a verdict within the fault window
 *   right       ... whose verdict 2 intervals after the first is the kind's
 *   precision   of the verdicts a kind expects, the share on clients that
 *               have that fault (steady clients' false ones count against)
 *   delay       intervals from the fault's start to the first verdict
 *               (1: at the end of the first faulty interval)
 *   false/1k h  ok -> verdict transitions of clients while steady, per 1,000
 *               client-hours (per row: that kind's clients before their
 *               fault; the steady row: the clients steady all along)
 *   cost        CPU time of xtel_health_update per client per interval
 *
 * Magnitudes are in units of the baseline's deviation as the detector sees
 * it: the noise's sigma, or the signal's scale floor when that is larger
 * (loss, with a baseline of 0, in % instead). Runnable alone, prints a
 * table; bench/run.sh --health runs it too.
 *
 * usage: bench_health [--clients N] [--intervals N] [--interval S]
 *                     [--fault-at N] [--fault-len N] [--seed N]
 *                     [--verbose 1]   (explain every false verdict on stderr)
 *                     [--cusum-k-milli N] [--cusum-h-milli N] [--z-milli N]
 *                     [--alpha-milli N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "acct/latency.h"
#include "health/health.h"
#include "health/ivl_latency.h"
#include "xorshift.h"

enum kind { K_STEADY, K_LATENCY, K_CONGESTION, K_LOSS, K_SILENT, K_RATE,
	    K_METRIC, K_JITTER, K_MAX };

static const char *const kind_name[K_MAX] = {
	"steady", "latency", "congestion", "loss", "silent", "rate drop",
	"metric shift", "jitter",
};
static const enum xtel_health_state expect[K_MAX] = {
	XTEL_HEALTH_OK, XTEL_HEALTH_ANOMALOUS, XTEL_HEALTH_CONGESTED,
	XTEL_HEALTH_DEGRADED, XTEL_HEALTH_SILENT, XTEL_HEALTH_ANOMALOUS,
	XTEL_HEALTH_ANOMALOUS, XTEL_HEALTH_ANOMALOUS,
};
/* magnitudes: baseline deviations (loss: %) */
static const double mags[K_MAX][3] = {
	[K_LATENCY] = { 3, 5, 8 }, [K_CONGESTION] = { 3, 5, 8 },
	[K_LOSS] = { 1, 3, 10 }, [K_SILENT] = { 1, 1, 1 },
	[K_RATE] = { 3, 5, 8 }, [K_METRIC] = { 3, 5, 8 },
	[K_JITTER] = { 3, 5, 8 },
};

struct client {
	enum kind kind;
	int mag;			/* index into mags */
	double offset_ms, rate, temp, cpu;
	/* scoring */
	int first;			/* interval of the first verdict in the fault, -1 */
	enum xtel_health_state first_state, held_state;
	unsigned int false_verdicts;
	enum xtel_health_state prev;
};

static uint64_t rng_state = 88172645463325252ull;

static double urand(void)
{
	return xtel_xorshift_unit(&rng_state);
}

static double nrand(void)
{
	double u = urand(), v = urand();

	return sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

/* Poisson by normal approximation (counts of 10 and more) or inversion. */
static uint64_t prand(double lambda)
{
	if (lambda > 30) {
		double x = lambda + sqrt(lambda) * nrand();

		return x > 0 ? (uint64_t)llround(x) : 0;
	}
	{
		double l = exp(-lambda), p = 1;
		uint64_t k = 0;

		do {
			k++;
			p *= urand();
		} while (p > l);
		return k - 1;
	}
}

static uint64_t binom(uint64_t n, double p)
{
	uint64_t k = 0;

	for (uint64_t i = 0; i < n; i++)
		k += urand() < p;
	return k;
}

/* noise of the steady signals (ms, %, device units) */
static const double SIG_Q = 3.0, SIG_P99 = 6.0, SIG_J = 3.0;
static const double SIG_TEMP = 1.0, SIG_CPU = 5.0;

static void make_input(const struct client *c, uint32_t id, int t, int fault_at,
		       int fault_len, double dt, struct xtel_health_input *in,
		       struct xtel_health_metric_in *met)
{
	bool on = c->kind != K_STEADY && t >= fault_at && t < fault_at + fault_len;
	double k = mags[c->kind][c->mag];
	double lambda = c->rate * dt, q = 2.0, p99x = 12.0, jit = 6.0;
	double temp = c->temp + SIG_TEMP * nrand(), lat_shift = 0, loss = 0;
	uint64_t sent;

	memset(in, 0, sizeof(*in));
	in->client_id = id;
	in->metrics = met;	/* 2 slots */
	if (on) {
		switch (c->kind) {
		case K_LATENCY:		/* every datagram later: the minimum too */
			lat_shift = k * SIG_Q;
			break;
		case K_CONGESTION:	/* a queue: median and tail up, loss */
			q += k * SIG_Q;
			p99x += k * SIG_Q;
			loss = 0.03;
			break;
		case K_LOSS:
			loss = k / 100.0;
			break;
		case K_RATE:		/* k deviations of the count noise */
			lambda = fmax(0, lambda - k * fmax(sqrt(lambda), 0.05 * lambda));
			break;
		case K_METRIC:
			temp += k * SIG_TEMP;
			break;
		case K_JITTER:
			jit += k * SIG_J;
			break;
		default:
			break;
		}
	}
	if (on && c->kind == K_SILENT)
		return;		/* nothing: datagrams 0 */
	sent = prand(lambda);
	{
		uint64_t lost = loss > 0 ? binom(sent, loss) : 0;
		double min = c->offset_ms + 1.0 + lat_shift + 0.05 * fabs(nrand());
		double p50 = min + q + SIG_Q * nrand() * 0.5 + SIG_Q * 0.5 * nrand();

		in->datagrams = sent - lost;
		if (!in->datagrams)
			return;
		in->have_rates = true;
		in->have_lat = true;
		in->lat_min_ms = min;
		if (p50 < min)
			p50 = min;
		in->sig[XTEL_HEALTH_SIG_P50] = p50;
		in->sig[XTEL_HEALTH_SIG_P99] = p50 + p99x + SIG_P99 * nrand();
		in->sig[XTEL_HEALTH_SIG_JITTER] = fmax(0, jit + SIG_J * nrand());
		in->sig[XTEL_HEALTH_SIG_LOSS] = 100.0 * (double)lost / (double)sent;
		in->sig[XTEL_HEALTH_SIG_DUP] = 0;
		in->sig[XTEL_HEALTH_SIG_REORDER] = 0;
		in->sig[XTEL_HEALTH_SIG_RATE] = (double)in->datagrams / dt;
		in->n_metrics = 2;
		in->metrics[0].key = "temp";
		in->metrics[0].mean = temp;
		in->metrics[1].key = "cpu";
		in->metrics[1].mean = c->cpu + SIG_CPU * nrand();
	}
}

/*
 * What the collector's feed adds per client: the interval's quantiles from
 * two cumulative histograms, for a client whose latencies span 0.5..4 ms
 * (3 octaves, 100 samples an interval).
 */
static double ivl_latency_ns(double *prev_bytes)
{
	enum { NH = 1000, ROUNDS = 20 };
	static struct xtel_latency cur[NH];
	static struct xtel_health_lat_prev prev[NH];
	struct xtel_health_ivl_lat o;
	uint64_t t0, t = 0;

	for (int i = 0; i < NH; i++) {
		xtel_latency_init(&cur[i]);
		xtel_health_lat_prev_init(&prev[i]);
	}
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < NH; i++)
			for (int k = 0; k < 100; k++)
				xtel_latency_record(&cur[i],
					(int64_t)(500000 * pow(8.0, urand())));
		t0 = xtel_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		for (int i = 0; i < NH; i++)
			xtel_health_ivl_latency(&prev[i], &cur[i], &o);
		t += xtel_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	}
	*prev_bytes = 0;
	for (int i = 0; i < NH; i++) {
		*prev_bytes += (double)xtel_health_lat_prev_bytes(&prev[i]) / NH;
		xtel_latency_destroy(&cur[i]);
		xtel_health_lat_prev_destroy(&prev[i]);
	}
	return (double)t / (NH * ROUNDS);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static unsigned long arg(int argc, char **argv, const char *name,
			 unsigned long def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return strtoul(argv[i + 1], NULL, 10);
	return def;
}

int main(int argc, char **argv)
{
	uint32_t n = (uint32_t)arg(argc, argv, "--clients", 2000);
	int T = (int)arg(argc, argv, "--intervals", 1800);
	double dt = (double)arg(argc, argv, "--interval", 1);
	int fault_at = (int)arg(argc, argv, "--fault-at", 900);
	int fault_len = (int)arg(argc, argv, "--fault-len", 300);
	struct xtel_health_cfg cfg;
	struct xtel_health *h;
	struct client *cl = calloc(n, sizeof(*cl));
	struct xtel_health_input *in = calloc(n, sizeof(*in));
	struct xtel_health_metric_in (*met)[2] = calloc(n, sizeof(*met));
	uint64_t cost = 0, cost_max = 0, judged = 0;
	unsigned int with_verdict[XTEL_HEALTH_STATE_MAX] = { 0 };
	unsigned int right_verdict[XTEL_HEALTH_STATE_MAX] = { 0 };
	double steady_hours = 0;
	/* the scales the detector judges by, over the noise's sigma: p99,
	 * jitter, temp, cpu of the steady clients just before the faults */
	double scale_ratio[4] = { 0 }, scale_n = 0;
	bool verbose = arg(argc, argv, "--verbose", 0) != 0;
	unsigned int false_total = 0;

	rng_state ^= arg(argc, argv, "--seed", 1) * 0x9e3779b97f4a7c15ull;
	if (!cl || !in || !met || n < 40 || T <= fault_at || fault_at < 50)
		return 2;
	xtel_health_cfg_defaults(&cfg);
	/* detector settings to explore (thousandths), defaults otherwise */
	cfg.cusum_k = (double)arg(argc, argv, "--cusum-k-milli",
				  (unsigned long)(cfg.cusum_k * 1000)) / 1000.0;
	cfg.cusum_h = (double)arg(argc, argv, "--cusum-h-milli",
				  (unsigned long)(cfg.cusum_h * 1000)) / 1000.0;
	cfg.z = (double)arg(argc, argv, "--z-milli",
			    (unsigned long)(cfg.z * 1000)) / 1000.0;
	cfg.alpha = (double)arg(argc, argv, "--alpha-milli",
				(unsigned long)(cfg.alpha * 1000)) / 1000.0;
	if (xtel_health_new(&cfg, &h))
		return 1;
	/* 5% per fault kind, three magnitudes each; the rest steady */
	for (uint32_t i = 0; i < n; i++) {
		struct client *c = &cl[i];
		uint32_t slot = i % 20;

		c->kind = slot < K_MAX - 1 ? (enum kind)(slot + 1) : K_STEADY;
		c->mag = (int)((i / 20) % 3);
		c->offset_ms = 50 * urand();
		c->rate = 20 + 180 * urand();
		c->temp = 30 + 20 * urand();
		c->cpu = 20 + 40 * urand();
		c->first = -1;
		c->prev = XTEL_HEALTH_WARMUP;
	}
	for (int t = 0; t < T; t++) {
		struct xtel_health_view *hv;

		for (uint32_t i = 0; i < n; i++)
			make_input(&cl[i], i + 1, t, fault_at, fault_len, dt, &in[i],
				   met[i]);
		if (xtel_health_update(h, 1700000000000000000ull +
				       (uint64_t)((t + 1) * dt * 1e9), dt, in, n, &hv))
			return 1;
		if (t >= (int)cfg.warmup) {
			cost += hv->cost_ns;
			judged += n;
			if (hv->cost_ns > cost_max)
				cost_max = hv->cost_ns;
		}
		for (uint32_t i = 0; i < n; i++) {
			struct client *c = &cl[i];
			enum xtel_health_state s = hv->clients[i].state;
			bool faulty = c->kind != K_STEADY && t >= fault_at &&
				      t < fault_at + fault_len;
			bool bad = s != XTEL_HEALTH_OK && s != XTEL_HEALTH_WARMUP;

			if (bad && c->prev == XTEL_HEALTH_OK &&
			    (c->kind == K_STEADY || t < fault_at)) {
				c->false_verdicts++;
				if (verbose) {
					char why[XTEL_HEALTH_WHY_LEN];

					xtel_health_explain(&hv->clients[i], why, sizeof(why));
					fprintf(stderr, "false verdict: client %u interval %d %s: %s\n",
						i + 1, t, xtel_health_state_name(s), why);
				}
			}
			if (faulty && bad && c->first < 0) {
				c->first = t - fault_at + 1;
				c->first_state = s;
			}
			if (faulty && c->first > 0 && t - fault_at + 1 == c->first + 2)
				c->held_state = s;
			c->prev = s;
			if (t == fault_at - 1 && c->kind == K_STEADY &&
			    hv->clients[i].n_metrics >= 2) {
				const struct xtel_health_result *r = &hv->clients[i];

				scale_ratio[0] += r->sig[XTEL_HEALTH_SIG_P99].scale / SIG_P99;
				scale_ratio[1] += r->sig[XTEL_HEALTH_SIG_JITTER].scale / SIG_J;
				scale_ratio[2] += r->metric[0].s.scale / SIG_TEMP;
				scale_ratio[3] += r->metric[1].s.scale / SIG_CPU;
				scale_n++;
			}
		}
		xtel_health_view_free(hv);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct client *c = &cl[i];

		steady_hours += (c->kind == K_STEADY ? T - (int)cfg.warmup :
				 fault_at - (int)cfg.warmup) * dt / 3600.0;
		false_total += c->false_verdicts;
		if (c->kind == K_STEADY) {
			if (c->false_verdicts)
				with_verdict[XTEL_HEALTH_ANOMALOUS]++;
			continue;
		}
		if (c->first > 0) {
			with_verdict[c->held_state]++;
			if (c->held_state == expect[c->kind])
				right_verdict[c->held_state]++;
		}
	}
	printf("health inference on a synthetic fleet: %u clients, %d intervals of "
	       "%.0f s, faults from interval %d for %d (5%% of the clients per "
	       "kind), seed %lu\n\n", n, T, dt, fault_at, fault_len,
	       arg(argc, argv, "--seed", 1));
	printf("| fault -> verdict | magnitude | clients | recall | recall <= 3 | "
	       "right verdict | precision | median delay | max delay | "
	       "false / 1k h |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|\n");
	for (int k = K_LATENCY; k < K_MAX; k++) {
		for (int m = 0; m < 3; m++) {
			int delays[4096], nd = 0, nc = 0, right = 0, fast = 0;
			unsigned int fv = 0;	/* false verdicts before the fault */
			double hours;
			enum xtel_health_state v = expect[k];
			char mag[32];

			if (k == K_SILENT && m > 0)
				break;
			for (uint32_t i = 0; i < n; i++) {
				const struct client *c = &cl[i];

				if (c->kind != (enum kind)k || (k != K_SILENT && c->mag != m))
					continue;
				nc++;
				if (c->first > 0 && nd < 4096)
					delays[nd++] = c->first;
				fast += c->first > 0 && c->first <= 3;
				fv += c->false_verdicts;
				right += c->first > 0 && c->held_state == v;
			}
			qsort(delays, (size_t)nd, sizeof(int), cmp_int);
			if (k == K_LOSS)
				snprintf(mag, sizeof(mag), "%.0f%%", mags[k][m]);
			else if (k == K_SILENT)
				snprintf(mag, sizeof(mag), "stop");
			else
				snprintf(mag, sizeof(mag), "%.0fx", mags[k][m]);
			char med[16] = "-", max[16] = "-";

			if (nd) {
				snprintf(med, sizeof(med), "%d", delays[nd / 2]);
				snprintf(max, sizeof(max), "%d", delays[nd - 1]);
			}
			hours = nc * (fault_at - (int)cfg.warmup) * dt / 3600.0;
			printf("| %s -> %s | %s | %d | %.2f | %.2f | %.2f | %.2f | %s | %s | %.2f |\n",
			       kind_name[k], xtel_health_state_name(v), mag, nc,
			       nc ? (double)nd / nc : 0, nc ? (double)fast / nc : 0,
			       nc ? (double)right / nc : 0,
			       with_verdict[v] ? (double)right_verdict[v] /
						 with_verdict[v] : 1.0, med, max,
			       hours > 0 ? 1000.0 * fv / hours : 0);
		}
	}
	{
		unsigned int ns = 0, fv = 0;

		for (uint32_t i = 0; i < n; i++)
			if (cl[i].kind == K_STEADY) {
				ns++;
				fv += cl[i].false_verdicts;
			}
		printf("| steady -> ok | - | %u | - | - | - | - | - | - | %.2f |\n", ns,
		       ns ? 1000.0 * fv / (ns * (T - (int)cfg.warmup) * dt / 3600.0) : 0);
	}
	printf("\nfalse verdicts while steady: %u in %.0f client-hours = %.2f per "
	       "1,000 client-hours\n", false_total, steady_hours,
	       1000.0 * false_total / steady_hours);
	printf("inference cost: %.0f ns per client per interval (mean), the "
	       "slowest interval %.0f ns per client\n",
	       judged ? (double)cost / (double)judged : 0,
	       (double)cost_max / (double)n);
	if (scale_n)
		printf("scale / noise sigma (steady clients, mean): p99 %.3f, jitter "
		       "%.3f, temp %.3f, cpu %.3f\n", scale_ratio[0] / scale_n,
		       scale_ratio[1] / scale_n, scale_ratio[2] / scale_n,
		       scale_ratio[3] / scale_n);
	printf("per-client state: %.0f bytes (the record, its metric slots and "
	       "its share of the interned metric keys)\n",
	       xtel_health_client_bytes(h));
	{
		double bytes, ns = ivl_latency_ns(&bytes);

		printf("collector feed: interval quantiles from the cumulative "
		       "histograms %.0f ns per client per interval; its previous "
		       "copy %.0f bytes per client\n", ns, bytes);
	}
	xtel_health_free(h);
	free(cl);
	free(in);
	free(met);
	return 0;
}
