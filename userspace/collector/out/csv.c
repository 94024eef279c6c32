// SPDX-License-Identifier: MIT
/*
 * CSV writer: per-worker SPSC rings of 64-byte slots and one formatting
 * thread (see csv.h). A record is a fixed 56-byte header followed by the
 * metrics packed as (key length, key bytes, 8-byte double) and occupies as
 * many consecutive slots as it needs, wrapping around the ring end; typical
 * telemetry (a handful of metrics) fits in one or two slots, so the
 * producer copies about as many bytes as the datagram had.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/out/csv.h"

enum {
	SLOT = 64,
	/* header + the largest metrics blob the decoder can produce */
	MAX_RECORD = 56 + XTEL_MAX_METRICS * (1 + XTEL_MAX_KEY_LEN + 8),
	OUT_BUF = 1 << 20,
};

struct rec_hdr {
	uint64_t seq;
	uint64_t send_ts_ns;
	uint64_t gap;
	uint64_t arrival_ns;
	int64_t latency_ns;
	uint32_t client_id;
	uint16_t blob_len;
	uint8_t type;
	uint8_t verdict;
	uint8_t n_slots;
	uint8_t n_metrics;
	uint8_t pad[6];
};
_Static_assert(sizeof(struct rec_hdr) == 56, "CSV record header is 56 bytes");

struct xtel_csv_ring {
	/* producer-owned line: head is published with release */
	uint64_t head __attribute__((aligned(64)));
	uint64_t cached_tail;
	/* consumer-owned line */
	uint64_t tail __attribute__((aligned(64)));
	uint64_t mask __attribute__((aligned(64)));	/* slots - 1 */
	uint8_t *data;
};

struct xtel_csv_writer {
	FILE *f;
	char *obuf;
	unsigned int n_rings;
	struct xtel_csv_ring *rings;
	pthread_t thread;
	bool running;
	int stop;		/* set by xtel_csv_writer_stop, read by the thread */
	int err;		/* first write error, -errno */
	uint64_t rows;
};

static void ring_copy_in(struct xtel_csv_ring *r, uint64_t slot,
			 const void *src, size_t len)
{
	size_t size = (r->mask + 1) * SLOT;
	size_t off = (slot & r->mask) * SLOT;
	size_t first = len < size - off ? len : size - off;

	memcpy(r->data + off, src, first);
	memcpy(r->data, (const uint8_t *)src + first, len - first);
}

static void ring_copy_out(const struct xtel_csv_ring *r, uint64_t slot,
			  void *dst, size_t len)
{
	size_t size = (r->mask + 1) * SLOT;
	size_t off = (slot & r->mask) * SLOT;
	size_t first = len < size - off ? len : size - off;

	memcpy(dst, r->data + off, first);
	memcpy((uint8_t *)dst + first, r->data, len - first);
}

bool xtel_csv_push(struct xtel_csv_ring *r, const struct xtel_msg *msg,
		   uint64_t arrival_ns, const struct xtel_acct_result *res)
{
	uint8_t rec[MAX_RECORD];
	struct rec_hdr *h = (struct rec_hdr *)rec;
	size_t len = sizeof(*h);
	uint64_t n_slots;

	for (uint32_t i = 0; i < msg->n_metrics; i++) {
		const struct xtel_metric *m = &msg->metrics[i];

		rec[len++] = m->key_len;
		memcpy(rec + len, m->key, m->key_len);
		len += m->key_len;
		memcpy(rec + len, &m->value, sizeof(m->value));
		len += sizeof(m->value);
	}
	n_slots = (len + SLOT - 1) / SLOT;
	/* Re-read the consumer's position only when the cached one says full. */
	if (r->head + n_slots - r->cached_tail > r->mask + 1) {
		r->cached_tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (r->head + n_slots - r->cached_tail > r->mask + 1)
			return false;
	}
	*h = (struct rec_hdr){
		.seq = msg->seq,
		.send_ts_ns = msg->send_ts_ns,
		.gap = res->gap,
		.arrival_ns = arrival_ns,
		.latency_ns = res->latency_ns,
		.client_id = msg->client_id,
		.blob_len = (uint16_t)(len - sizeof(*h)),
		.type = msg->type,
		.verdict = (uint8_t)res->verdict,
		.n_slots = (uint8_t)n_slots,
		.n_metrics = (uint8_t)msg->n_metrics,
	};
	ring_copy_in(r, r->head, rec, len);
	__atomic_store_n(&r->head, r->head + n_slots, __ATOMIC_RELEASE);
	return true;
}

static const char *verdict_name(uint8_t v)
{
	switch (v) {
	case XTEL_SEQ_NEW: return "new";
	case XTEL_SEQ_REORDERED: return "reordered";
	case XTEL_SEQ_DUPLICATE: return "duplicate";
	case XTEL_SEQ_TOO_LATE: return "too_late";
	case XTEL_SEQ_RESTART: return "restart";
	}
	return "unknown";
}

/*
 * The shortest %.<N>g, N <= 17, that reads back as the same double: what
 * docs/COLLECTOR.md promises. For a normal double no N below 15 is needed
 * (any decimal of at most DBL_DIG = 15 digits survives the round trip, so
 * %.15g already is the shortest whenever one of 15 digits or fewer
 * exists); some need 16, the rest 17. A subnormal carries fewer digits,
 * so it is tried from 1 up.
 */
static int fmt_double(char *buf, size_t cap, double v)
{
	int prec = v != 0 && fabs(v) < DBL_MIN ? 1 : DBL_DIG;
	int n;

	for (;; prec++) {
		n = snprintf(buf, cap, "%.*g", prec, v);
		if (prec >= DBL_DECIMAL_DIG || strtod(buf, NULL) == v)
			return n;
	}
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return put_u64(p, (uint64_t)v);
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/*
 * Format one record. Keys are restricted by the decoder to characters that
 * need no CSV quoting; still, so that the file stays parseable whatever the
 * key set allows, the metrics field is quoted (RFC 4180) when a key holds a
 * comma, a quote (doubled), CR or LF, and keys are copied by their length,
 * NUL bytes included (tests/fuzz/fuzz_csv.c checks all of it).
 */
static size_t format_row(const uint8_t *rec, char *out)
{
	const struct rec_hdr *h = (const struct rec_hdr *)rec;
	const uint8_t *b = rec + sizeof(*h);
	char metrics[MAX_RECORD * 3];
	char *m = metrics, *p = out;
	bool quote = false;

	for (unsigned int i = 0; i < h->n_metrics; i++) {
		uint8_t kl = *b++;
		double v;

		if (i)
			*m++ = ';';
		for (unsigned int k = 0; k < kl; k++) {
			if (b[k] == ',' || b[k] == '"' || b[k] == '\n' ||
			    b[k] == '\r')
				quote = true;
			if (b[k] == '"')
				*m++ = '"';
			*m++ = (char)b[k];
		}
		b += kl;
		*m++ = '=';
		memcpy(&v, b, sizeof(v));
		b += sizeof(v);
		m += fmt_double(m, 32, v);
	}
	*m = '\0';

	p = put_u64(p, h->client_id);
	*p++ = ',';
	p = put_u64(p, h->seq);
	*p++ = ',';
	p = put_u64(p, h->send_ts_ns);
	*p++ = ',';
	p = put_str(p, xtel_msg_type_name(h->type));
	*p++ = ',';
	if (quote)
		*p++ = '"';
	memcpy(p, metrics, (size_t)(m - metrics));
	p += m - metrics;
	if (quote)
		*p++ = '"';
	*p++ = ',';
	*p++ = h->verdict == XTEL_SEQ_DUPLICATE ? '1' : '0';
	*p++ = ',';
	p = put_u64(p, h->gap);
	*p++ = ',';
	p = put_str(p, verdict_name(h->verdict));
	*p++ = ',';
	p = put_u64(p, h->arrival_ns);
	*p++ = ',';
	p = put_i64(p, h->latency_ns);
	*p++ = '\n';
	return (size_t)(p - out);
}

/* Write every record currently in ring r. Returns the number written. */
static uint64_t drain_ring(struct xtel_csv_writer *w, struct xtel_csv_ring *r)
{
	uint8_t rec[MAX_RECORD + SLOT];
	char row[MAX_RECORD * 3 + 256];
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint64_t tail = r->tail, n = 0;

	while (tail != head) {
		struct rec_hdr h;
		size_t len;

		ring_copy_out(r, tail, &h, sizeof(h));
		len = sizeof(h) + h.blob_len;
		ring_copy_out(r, tail, rec, len);
		len = format_row(rec, row);
		if (fwrite(row, 1, len, w->f) != len && !w->err)
			w->err = -errno;
		tail += h.n_slots;
		n++;
		/* Give slots back in batches: one shared-line write per 64 rows. */
		if (!(n & 63))
			__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	return n;
}

static void *writer_main(void *arg)
{
	struct xtel_csv_writer *w = arg;
	const struct timespec idle = { .tv_nsec = 500 * 1000 };

	for (;;) {
		/* Read stop before draining so the last pass sees every push. */
		int stop = __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE);
		uint64_t n = 0;

		for (unsigned int i = 0; i < w->n_rings; i++)
			n += drain_ring(w, &w->rings[i]);
		w->rows += n;
		if (stop)
			break;
		if (!n)
			nanosleep(&idle, NULL);
	}
	if (fflush(w->f) && !w->err)
		w->err = -errno;
	return NULL;
}

int xtel_csv_writer_open(const char *path, unsigned int n_rings,
			 unsigned int slots, struct xtel_csv_writer **out)
{
	struct xtel_csv_writer *w;
	int rc;

	if (!slots || (slots & (slots - 1)))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->n_rings = n_rings;
	rc = posix_memalign((void **)&w->rings, 64, n_rings * sizeof(*w->rings));
	if (rc) {
		rc = -rc;
		goto err_free;
	}
	memset(w->rings, 0, n_rings * sizeof(*w->rings));
	for (unsigned int i = 0; i < n_rings; i++) {
		w->rings[i].mask = slots - 1;
		rc = posix_memalign((void **)&w->rings[i].data, 4096,
				    (size_t)slots * SLOT);
		if (rc) {
			rc = -rc;
			goto err_rings;
		}
	}
	w->f = fopen(path, "w");
	if (!w->f) {
		rc = -errno;
		goto err_rings;
	}
	w->obuf = malloc(OUT_BUF);
	if (w->obuf)
		setvbuf(w->f, w->obuf, _IOFBF, OUT_BUF);
	fputs("client_id,seq,send_ts_ns,type,metrics,duplicate,gap,verdict,"
	      "arrival_ns,latency_ns\n", w->f);
	*out = w;
	return 0;

err_rings:
	for (unsigned int i = 0; i < n_rings; i++)
		free(w->rings[i].data);
	free(w->rings);
err_free:
	free(w);
	return rc;
}

struct xtel_csv_ring *xtel_csv_writer_ring(struct xtel_csv_writer *w,
					   unsigned int i)
{
	return i < w->n_rings ? &w->rings[i] : NULL;
}

int xtel_csv_writer_start(struct xtel_csv_writer *w)
{
	int rc = pthread_create(&w->thread, NULL, writer_main, w);

	if (rc)
		return -rc;
	pthread_setname_np(w->thread, "xtel-csv");
	w->running = true;
	return 0;
}

int xtel_csv_writer_stop(struct xtel_csv_writer *w, uint64_t *rows)
{
	int rc = 0;

	if (w->running) {
		__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
		pthread_join(w->thread, NULL);
		w->running = false;
	}
	if (w->f) {
		if (fclose(w->f) && !w->err)
			w->err = -errno;
		w->f = NULL;
	}
	rc = w->err;
	if (rows)
		*rows = w->rows;
	return rc;
}

void xtel_csv_writer_free(struct xtel_csv_writer *w)
{
	if (!w)
		return;
	xtel_csv_writer_stop(w, NULL);
	for (unsigned int i = 0; i < w->n_rings; i++)
		free(w->rings[i].data);
	free(w->rings);
	free(w->obuf);
	free(w);
}
