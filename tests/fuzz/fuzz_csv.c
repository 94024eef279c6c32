// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness of the CSV writer (userspace/collector/out/csv.c): up
 * to 8 records with hostile contents go through the real ring and writer
 * thread into a file, which is then read back with an RFC 4180 parser
 * written here. Metric keys are any 0..32 bytes (the decoder admits only
 * [A-Za-z0-9_.-], but csv.c promises a parseable file "whatever the key
 * set allows"), values any double including NaN, infinities, -0 and
 * subnormals, and every header field any value of its type.
 *
 * The file must be:
 *   - the documented header row, then one row per record, in push order,
 *     each terminated by "\n", 10 fields per row (docs/COLLECTOR.md
 *     section 7);
 *   - valid RFC 4180: an unquoted field holds no comma, quote, CR or LF; a
 *     quoted one escapes quotes by doubling them;
 *   - exact: integers in canonical decimal, type and verdict by their
 *     documented names, duplicate 1 exactly for a duplicate, and metrics
 *     as key=value;... with every key byte for byte and every value "the
 *     shortest decimal that reads back as the same double" (COLLECTOR.md):
 *     strtod reads it back bit for bit (any NaN for a NaN), and one
 *     significant digit less would not.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "collector/out/csv.h"
#include "fuzz.h"

enum { MAX_RECS = 8, RING_SLOTS = 256, NFIELDS = 10 };

static const char header[] =
	"client_id,seq,send_ts_ns,type,metrics,duplicate,gap,verdict,"
	"arrival_ns,latency_ns\n";

struct rec {
	struct xtel_msg msg;
	uint64_t arrival;
	struct xtel_acct_result res;
	uint8_t keys[XTEL_MAX_METRICS][XTEL_MAX_KEY_LEN];
};

static char path[64];

static void remove_file(void)
{
	unlink(path);
}

/* The file from off on, escaped, for a failure message. */
static const char *excerpt(const char *b, size_t n, size_t off)
{
	static char out[1024];
	size_t o = 0;

	for (size_t i = off; i < n && o + 5 < sizeof(out); i++) {
		unsigned char c = (unsigned char)b[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/xtel-fuzz-csv.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(1);
	}
	close(fd);
	atexit(remove_file);
	return 0;
}

/* ---- reading the file back: RFC 4180, with LF line ends ---- */

struct field {
	char *s;	/* unescaped, NUL-terminated (may hold NULs) */
	size_t len;
};

/*
 * Parse one row starting at *pos into f (up to max fields). Returns the
 * number of fields, or -1 when the bytes break RFC 4180.
 */
static int parse_row(const char *b, size_t n, size_t *pos, struct field *f,
		     int max)
{
	size_t i = *pos;
	int nf = 0;

	for (;;) {
		char *out = malloc(n - i + 1);
		size_t o = 0;

		FUZZ_CHECK(out != NULL, "out of memory");
		if (nf == max) {
			free(out);
			return -1;
		}
		if (i < n && b[i] == '"') {
			for (i++;; i++) {
				if (i >= n) {
					free(out);
					return -1;	/* EOF inside quotes */
				}
				if (b[i] == '"') {
					if (i + 1 < n && b[i + 1] == '"') {
						out[o++] = '"';
						i++;
						continue;
					}
					i++;
					break;
				}
				out[o++] = b[i];
			}
			if (i >= n || (b[i] != ',' && b[i] != '\n')) {
				free(out);
				return -1;	/* bytes after the closing quote */
			}
		} else {
			for (; i < n && b[i] != ',' && b[i] != '\n'; i++) {
				if (b[i] == '"' || b[i] == '\r') {
					free(out);
					return -1;
				}
				out[o++] = b[i];
			}
			if (i >= n) {
				free(out);
				return -1;	/* row not terminated */
			}
		}
		out[o] = '\0';
		f[nf].s = out;
		f[nf].len = o;
		nf++;
		if (b[i++] == '\n') {
			*pos = i;
			return nf;
		}
	}
}

/* ---- checking a row ---- */

static void check_u64(const struct field *f, uint64_t v, const char *what)
{
	char want[32];

	snprintf(want, sizeof(want), "%" PRIu64, v);
	FUZZ_CHECK(f->len == strlen(want) && strcmp(f->s, want) == 0,
		   "%s: \"%s\", expected %s", what, f->s, want);
}

/* Significant digits of a number's text: first to last non-zero digit. */
static int sig_digits(const char *s, size_t n)
{
	int first = -1, last = -1, digits = 0;

	for (size_t i = 0; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] >= '1' && s[i] <= '9') {
			if (first < 0)
				first = (int)i;
			last = (int)i;
		}
	}
	if (first < 0)
		return 1;	/* zero */
	for (int i = first; i <= last; i++)
		digits += s[i] >= '0' && s[i] <= '9';	/* not the '.' */
	return digits;
}

/* A value's text: reads back as v, and is the shortest that does. */
static void check_value(const char *s, size_t n, double v)
{
	char text[64], shorter[64], *end;
	double back;
	int digits;

	FUZZ_CHECK(n > 0 && n < sizeof(text), "value text of %zu bytes", n);
	memcpy(text, s, n);
	text[n] = '\0';
	back = strtod(text, &end);
	FUZZ_CHECK(end == text + n, "value \"%s\" is not one number", text);
	if (isnan(v)) {
		FUZZ_CHECK(isnan(back), "NaN written as \"%s\"", text);
		return;
	}
	FUZZ_CHECK(memcmp(&back, &v, sizeof(v)) == 0,
		   "\"%s\" reads back as %a, not %a", text, back, v);
	if (!isfinite(v))
		return;
	digits = sig_digits(text, n);
	if (digits > 1) {
		snprintf(shorter, sizeof(shorter), "%.*g", digits - 1, v);
		FUZZ_CHECK(strtod(shorter, NULL) != v,
			   "\"%s\" (%d digits) is not the shortest: \"%s\" reads "
			   "back the same", text, digits, shorter);
	}
}

/* metrics: key=value;... with the keys known byte for byte. */
static void check_metrics(const struct field *f, const struct rec *r)
{
	const char *s = f->s;
	size_t pos = 0, n = f->len;

	for (uint32_t i = 0; i < r->msg.n_metrics; i++) {
		const struct xtel_metric *m = &r->msg.metrics[i];
		size_t end;

		if (i) {
			FUZZ_CHECK(pos < n && s[pos] == ';', "no ';' before metric %u", i);
			pos++;
		}
		FUZZ_CHECK(n - pos >= m->key_len && memcmp(s + pos, m->key, m->key_len) == 0,
			   "metric %u: key of %u bytes not written as given", i,
			   m->key_len);
		pos += m->key_len;
		FUZZ_CHECK(pos < n && s[pos] == '=', "metric %u: no '='", i);
		pos++;
		for (end = pos; end < n && s[end] != ';'; end++)
			;
		check_value(s + pos, end - pos, m->value);
		pos = end;
	}
	FUZZ_CHECK(pos == n, "%zu bytes after the last metric", n - pos);
}

static const char *type_name(uint8_t t)
{
	static const char *const names[] = { "INIT", "HEARTBEAT", "DATA", "BYE" };

	return t >= 1 && t <= 4 ? names[t - 1] : "UNKNOWN";
}

static const char *verdict_name(unsigned int v)
{
	static const char *const names[] = {
		"new", "reordered", "duplicate", "too_late", "restart",
	};

	return v < 5 ? names[v] : "unknown";
}

static void check_row(const struct field *f, const struct rec *r)
{
	char lat[32];

	check_u64(&f[0], r->msg.client_id, "client_id");
	check_u64(&f[1], r->msg.seq, "seq");
	check_u64(&f[2], r->msg.send_ts_ns, "send_ts_ns");
	FUZZ_CHECK(strcmp(f[3].s, type_name(r->msg.type)) == 0 &&
		   f[3].len == strlen(f[3].s), "type \"%s\" for %u", f[3].s,
		   r->msg.type);
	check_metrics(&f[4], r);
	FUZZ_CHECK(strcmp(f[5].s, r->res.verdict == XTEL_SEQ_DUPLICATE ? "1" : "0") == 0,
		   "duplicate \"%s\" for verdict %u", f[5].s, r->res.verdict);
	check_u64(&f[6], r->res.gap, "gap");
	FUZZ_CHECK(strcmp(f[7].s, verdict_name(r->res.verdict)) == 0,
		   "verdict \"%s\" for %u", f[7].s, r->res.verdict);
	check_u64(&f[8], r->arrival, "arrival_ns");
	snprintf(lat, sizeof(lat), "%" PRId64, r->res.latency_ns);
	FUZZ_CHECK(strcmp(f[9].s, lat) == 0, "latency \"%s\", expected %s",
		   f[9].s, lat);
}

/* ---- one input ---- */

static void read_rec(struct fuzz_in *in, struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->msg.type = fuzz_u8(in);
	r->msg.client_id = fuzz_u32(in);
	r->msg.seq = fuzz_u64(in);
	r->msg.send_ts_ns = fuzz_u64(in);
	r->arrival = fuzz_u64(in);
	r->res.verdict = (enum xtel_seq_verdict)(fuzz_u8(in) % 6);
	r->res.gap = fuzz_u64(in);
	r->res.latency_ns = (int64_t)fuzz_u64(in);
	r->msg.n_metrics = fuzz_u8(in) % (XTEL_MAX_METRICS + 1);
	for (uint32_t i = 0; i < r->msg.n_metrics; i++) {
		struct xtel_metric *m = &r->msg.metrics[i];
		uint64_t bits;
		const uint8_t *k;
		size_t got;

		m->key_len = fuzz_u8(in) % (XTEL_MAX_KEY_LEN + 1);
		got = fuzz_bytes(in, m->key_len, &k);
		memcpy(r->keys[i], k, got);	/* missing bytes stay 0 */
		m->key = (const char *)r->keys[i];
		bits = fuzz_u64(in);
		memcpy(&m->value, &bits, sizeof(bits));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct xtel_csv_writer *w;
	struct xtel_csv_ring *ring;
	struct rec *recs;
	unsigned int n = fuzz_u8(&in) % MAX_RECS + 1;
	uint64_t rows = 0;
	struct field f[NFIELDS];
	size_t flen, pos;
	char *file;
	FILE *fp;
	int rc;

	recs = calloc(n, sizeof(*recs));
	FUZZ_CHECK(recs != NULL, "out of memory");
	for (unsigned int i = 0; i < n; i++)
		read_rec(&in, &recs[i]);

	rc = xtel_csv_writer_open(path, 1, RING_SLOTS, &w);
	FUZZ_CHECK(rc == 0, "open %d", rc);
	ring = xtel_csv_writer_ring(w, 0);
	rc = xtel_csv_writer_start(w);
	FUZZ_CHECK(rc == 0, "start %d", rc);
	for (unsigned int i = 0; i < n; i++)
		FUZZ_CHECK(xtel_csv_push(ring, &recs[i].msg, recs[i].arrival,
					 &recs[i].res),
			   "a %u-slot ring refused record %u of %u", RING_SLOTS, i, n);
	rc = xtel_csv_writer_stop(w, &rows);
	FUZZ_CHECK(rc == 0 && rows == n, "stop %d, %llu rows of %u", rc,
		   (unsigned long long)rows, n);
	xtel_csv_writer_free(w);

	fp = fopen(path, "rb");
	FUZZ_CHECK(fp != NULL, "reopen: %s", strerror(errno));
	fseek(fp, 0, SEEK_END);
	flen = (size_t)ftell(fp);
	rewind(fp);
	file = malloc(flen + 1);
	FUZZ_CHECK(file && fread(file, 1, flen, fp) == flen, "read back");
	fclose(fp);

	FUZZ_CHECK(flen >= sizeof(header) - 1 &&
		   memcmp(file, header, sizeof(header) - 1) == 0, "header row");
	pos = sizeof(header) - 1;
	for (unsigned int i = 0; i < n; i++) {
		size_t row = pos;
		int nf = parse_row(file, flen, &pos, f, NFIELDS);

		FUZZ_CHECK(nf == NFIELDS, "row %u: %d fields (-1: not RFC 4180): %s",
			   i, nf, excerpt(file, flen, row));
		check_row(f, &recs[i]);
		for (int k = 0; k < nf; k++)
			free(f[k].s);
	}
	FUZZ_CHECK(pos == flen, "%zu bytes after the last row", flen - pos);
	free(file);
	free(recs);
	return 0;
}
