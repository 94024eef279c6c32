// SPDX-License-Identifier: MIT
/*
 * The probe's downloads: one curl easy handle per device, all driven by one
 * multi handle. Each download is a fresh connection (no reuse), so every
 * probe measures DNS, TCP connect and the full TLS handshake, as a device
 * coming back after its interval would. The write callback counts the
 * body and timestamps the end of the warm-up; the header callback reads
 * the server's Server-Timing ttfb and X-Probe-Throttle-Mbps. At the end
 * curl's timing breakdown and result code become one sample, its kind
 * decided by classify().
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common/clock.h"
#include "common/log.h"
#include "probe.h"

struct xtel_pb_http {
	CURL *easy;
	struct xtel_pb_run *run;
	struct xtel_pb_device *dev;
	char url[320];
	char cert[4096], key[4096], ca[4096];
	char errbuf[CURL_ERROR_SIZE];
	uint64_t start_real_ns;
	uint64_t first_ns, warm_ns, last_ns;	/* CLOCK_MONOTONIC of the body */
	uint64_t bytes, warm_bytes;
	double server_ttfb_ms, throttle_mbps;
};

static CURLM *g_multi;

int xtel_pb_http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

void xtel_pb_http_global_free(void)
{
	curl_global_cleanup();
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xtel_pb_http *h = arg;
	uint64_t now = xtel_mono_ns();
	size_t n = size * nmemb;

	(void)ptr;
	if (!h->first_ns)
		h->first_ns = now;
	h->bytes += n;
	h->last_ns = now;
	/*
	 * The warm-up ends with the first write at least warmup_s in; that
	 * write's bytes arrived before it ended, so they belong to the warm-up.
	 */
	if (!h->warm_ns &&
	    now - h->first_ns >= (uint64_t)(h->run->cfg->warmup_s * 1e9)) {
		h->warm_ns = now;
		h->warm_bytes = h->bytes;
	}
	return n;
}

/* "Server-Timing: tls;dur=3.8, request;dur=0.0, ttfb;dur=3.9" */
static double server_timing(const char *v, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = v; (p = strstr(p, name)); p += nl) {
		if ((p == v || p[-1] == ' ' || p[-1] == ',') &&
		    !strncmp(p + nl, ";dur=", 5))
			return strtod(p + nl + 5, NULL);
	}
	return NAN;
}

static size_t on_header(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct xtel_pb_http *h = arg;
	size_t n = size * nmemb;
	char line[512];

	if (n >= sizeof(line))
		return n;
	memcpy(line, buf, n);
	line[n] = '\0';
	if (!strncasecmp(line, "Server-Timing:", 14))
		h->server_ttfb_ms = server_timing(line + 14, "ttfb");
	else if (!strncasecmp(line, "X-Probe-Throttle-Mbps:", 22))
		h->throttle_mbps = strtod(line + 22, NULL);
	return n;
}

int xtel_pb_http_open(struct xtel_pb_run *run)
{
	const struct xtel_pb_config *cfg = run->cfg;
	static const long tls_ver[] = {
		CURL_SSLVERSION_TLSv1_2,
		CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2,
		CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3,
	};

	g_multi = curl_multi_init();
	if (!g_multi)
		return -ENOMEM;
	curl_multi_setopt(g_multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)cfg->parallel);
	for (uint32_t i = 0; i < cfg->devices; i++) {
		struct xtel_pb_device *d = &run->dev[i];
		struct xtel_pb_http *h = calloc(1, sizeof(*h));
		CURL *e;

		if (!h)
			return -ENOMEM;
		d->http = h;
		h->run = run;
		h->dev = d;
		h->easy = e = curl_easy_init();
		if (!e)
			return -ENOMEM;
		snprintf(h->url, sizeof(h->url), "%s/probe/object?size=%llu",
			 cfg->server, (unsigned long long)cfg->size);
		snprintf(h->cert, sizeof(h->cert), "%s/client-%u.crt", cfg->certs_dir, d->id);
		snprintf(h->key, sizeof(h->key), "%s/client-%u.key", cfg->certs_dir, d->id);
		if (cfg->server_ca)
			snprintf(h->ca, sizeof(h->ca), "%s", cfg->server_ca);
		else
			snprintf(h->ca, sizeof(h->ca), "%s/ca.crt", cfg->certs_dir);
		curl_easy_setopt(e, CURLOPT_URL, h->url);
		curl_easy_setopt(e, CURLOPT_PRIVATE, h);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
		curl_easy_setopt(e, CURLOPT_SSLVERSION, tls_ver[cfg->tls]);
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca);
		curl_easy_setopt(e, CURLOPT_SSLCERT, h->cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, h->key);
		curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(cfg->timeout_s * 1000));
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
				 (long)(cfg->connect_timeout_s * 1000));
		curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, h);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	}
	return 0;
}

void xtel_pb_http_close(struct xtel_pb_run *run)
{
	xtel_pb_http_abort_all(run);
	for (uint32_t i = 0; run->dev && i < run->cfg->devices; i++) {
		struct xtel_pb_http *h = run->dev[i].http;

		if (h) {
			curl_easy_cleanup(h->easy);
			free(h);
			run->dev[i].http = NULL;
		}
	}
	if (g_multi)
		curl_multi_cleanup(g_multi);
	g_multi = NULL;
}

int xtel_pb_http_start(struct xtel_pb_run *run, struct xtel_pb_device *d)
{
	struct xtel_pb_http *h = d->http;

	h->start_real_ns = xtel_realtime_ns();
	h->first_ns = h->warm_ns = h->last_ns = 0;
	h->bytes = h->warm_bytes = 0;
	h->server_ttfb_ms = h->throttle_mbps = NAN;
	h->errbuf[0] = '\0';
	if (curl_multi_add_handle(g_multi, h->easy) != CURLM_OK)
		return -ENOMEM;
	d->busy = true;
	run->inflight++;
	return 0;
}

/*
 * The kind of a finished transfer: curl's result first, then what an "ok"
 * transfer may still lack. In TLS 1.3 the server checks the client's
 * certificate after the client's handshake is done, so its refusal shows
 * as a send or receive error before any response: a TLS failure too.
 */
static enum xtel_probe_kind classify(CURLcode rc, long status, double connect_ms,
				     uint64_t bytes, uint64_t want)
{
	switch (rc) {
	case CURLE_OK:
		if (status != 200)
			return XTEL_PROBE_HTTP_STATUS;
		return bytes == want ? XTEL_PROBE_OK : XTEL_PROBE_SHORT_BODY;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return XTEL_PROBE_CONNECT_REFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return connect_ms > 0 ? XTEL_PROBE_TIMEOUT : XTEL_PROBE_CONNECT_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
		return XTEL_PROBE_TLS_VERIFY;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return XTEL_PROBE_TLS_HANDSHAKE;
	case CURLE_PARTIAL_FILE:
		return XTEL_PROBE_SHORT_BODY;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		if (status == 0)
			return XTEL_PROBE_TLS_HANDSHAKE;
		return XTEL_PROBE_SHORT_BODY;
	default:
		return XTEL_PROBE_OTHER;
	}
}

static double info_ms(CURL *e, CURLINFO what)
{
	curl_off_t us = 0;

	if (curl_easy_getinfo(e, what, &us) != CURLE_OK)
		return NAN;
	return (double)us / 1000.0;
}

static void finish(struct xtel_pb_http *h, CURLcode rc, struct xtel_probe_sample *s)
{
	const struct xtel_pb_config *cfg = h->run->cfg;
	double dns, conn, app, ttfb, total;
	long status = 0;

	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
	dns = info_ms(h->easy, CURLINFO_NAMELOOKUP_TIME_T);
	conn = info_ms(h->easy, CURLINFO_CONNECT_TIME_T);
	app = info_ms(h->easy, CURLINFO_APPCONNECT_TIME_T);
	ttfb = info_ms(h->easy, CURLINFO_STARTTRANSFER_TIME_T);
	total = info_ms(h->easy, CURLINFO_TOTAL_TIME_T);

	xtel_probe_sample_init(s);
	s->ts_ns = h->start_real_ns;
	s->device = h->dev->id;
	s->kind = classify(rc, status, conn, h->bytes, cfg->size);
	s->n_ok = s->kind == XTEL_PROBE_OK;
	s->v[XTEL_PROBE_M_OK] = s->n_ok;
	s->v[XTEL_PROBE_M_KIND] = s->kind;
	s->v[XTEL_PROBE_M_STATUS] = (double)status;
	s->v[XTEL_PROBE_M_BYTES] = (double)h->bytes;
	s->v[XTEL_PROBE_M_TOTAL] = total;
	/* curl's times are 0 for a phase it never reached. */
	if (dns > 0 || conn > 0)
		s->v[XTEL_PROBE_M_DNS] = dns;
	if (conn > 0)
		s->v[XTEL_PROBE_M_CONNECT] = conn - dns;
	if (app > 0)
		s->v[XTEL_PROBE_M_TLS] = app - conn;
	if (ttfb > 0 && status)
		s->v[XTEL_PROBE_M_TTFB] = ttfb;
	s->v[XTEL_PROBE_M_SERVER_TTFB] = h->server_ttfb_ms;
	s->v[XTEL_PROBE_M_THROTTLE] = h->throttle_mbps;
	if (s->kind == XTEL_PROBE_OK) {
		s->v[XTEL_PROBE_M_SPEED] = xtel_probe_speed_mbps(h->bytes, ttfb, total);
		if (h->warm_ns && h->last_ns > h->warm_ns &&
		    h->last_ns - h->warm_ns >= 1000000)
			s->v[XTEL_PROBE_M_SPEED_WARM] =
				(double)(h->bytes - h->warm_bytes) * 8.0 * 1000.0 /
				(double)(h->last_ns - h->warm_ns);
	}
}

int xtel_pb_http_poll(struct xtel_pb_run *run, int wait_ms,
		      void (*done)(struct xtel_pb_run *, struct xtel_pb_device *,
				   const struct xtel_probe_sample *))
{
	int running = 0, left;
	CURLMsg *m;

	if (curl_multi_poll(g_multi, NULL, 0, wait_ms, NULL) != CURLM_OK ||
	    curl_multi_perform(g_multi, &running) != CURLM_OK)
		return -EIO;
	while ((m = curl_multi_info_read(g_multi, &left))) {
		struct xtel_pb_http *h = NULL;
		struct xtel_probe_sample s;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&h);
		finish(h, m->data.result, &s);
		curl_multi_remove_handle(g_multi, h->easy);
		h->dev->busy = false;
		run->inflight--;
		if (s.kind != XTEL_PROBE_OK && h->errbuf[0])
			pr_debug("device %u: %s", h->dev->id, h->errbuf);
		done(run, h->dev, &s);
	}
	return 0;
}

const char *xtel_pb_http_error(const struct xtel_pb_device *d)
{
	return d->http ? d->http->errbuf : "";
}

void xtel_pb_http_abort_all(struct xtel_pb_run *run)
{
	for (uint32_t i = 0; run->dev && i < run->cfg->devices; i++) {
		struct xtel_pb_device *d = &run->dev[i];

		if (d->busy && d->http) {
			curl_multi_remove_handle(g_multi, d->http->easy);
			d->busy = false;
			run->inflight--;
		}
	}
}
