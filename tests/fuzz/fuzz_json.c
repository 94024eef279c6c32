// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness of the JSON helpers (userspace/common/json.c): hostile
 * text, keys and numbers go through xtel_json_text, _real, _fixed, _u64
 * and _set into a report written by xtel_json_write_report, which is then
 * parsed back with jansson (duplicate keys rejected). The report must be:
 *   - written (0) exactly when every member key is valid UTF-8 (jansson
 *     refuses other keys, and json.h promises -ENOMEM rather than a report
 *     with a member missing), else refused with -ENOMEM;
 *   - valid JSON in the documented layout: one top-level member per line,
 *     a top-level array of objects one element per line;
 *   - the same data: every member once, text as given except that each
 *     byte that does not start a well-formed UTF-8 sequence (RFC 3629,
 *     Unicode table 3-7, checked here by a decoder of its own) became
 *     U+FFFD, reals bit for bit (17 digits round-trip) or null when not
 *     finite, fixed reals printing as the value does with %.*f, and u64 as
 *     an integer up to INT64_MAX, above it as the nearest double.
 *
 * xtel_json_dump_alloc (the HTTP API's replies) must succeed and fail
 * alike, give one compact line, and parse back to the same object.
 *
 * Input: entries of (kind, key, value) until the input ends, at most 16.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/json.h"
#include "fuzz.h"

enum { MAX_ENTRIES = 16, MAX_ROWS = 4 };

enum kind { K_TEXT, K_REAL, K_FIXED, K_U64, K_METRIC, K_ROWS, K_NULL, K_MAX };

struct entry {
	enum kind kind;
	char key[64];
	char text[300];		/* K_TEXT: the input; its expected form below */
	char want[900];
	double d;
	int decimals;
	uint64_t u;
	unsigned int rows;	/* K_ROWS */
	bool superseded;	/* a later entry set the same key */
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* ---- the oracle: UTF-8 after Unicode table 3-7 ---- */

/* Length of the well-formed sequence at s (NUL-terminated), or 0. */
static size_t well_formed(const unsigned char *s)
{
	static const struct {
		unsigned char lead_lo, lead_hi, next_lo, next_hi;
		size_t len;
	} rows[] = {
		{ 0x00, 0x7f, 0, 0, 1 },
		{ 0xc2, 0xdf, 0x80, 0xbf, 2 },
		{ 0xe0, 0xe0, 0xa0, 0xbf, 3 },
		{ 0xe1, 0xec, 0x80, 0xbf, 3 },
		{ 0xed, 0xed, 0x80, 0x9f, 3 },
		{ 0xee, 0xef, 0x80, 0xbf, 3 },
		{ 0xf0, 0xf0, 0x90, 0xbf, 4 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 },
		{ 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		if (s[0] < rows[r].lead_lo || s[0] > rows[r].lead_hi)
			continue;
		if (rows[r].len == 1)
			return 1;
		/* the second byte has the row's range, the rest 80..bf */
		if (s[1] < rows[r].next_lo || s[1] > rows[r].next_hi)
			return 0;
		for (size_t i = 2; i < rows[r].len; i++)
			if (s[i] < 0x80 || s[i] > 0xbf)
				return 0;
		return rows[r].len;
	}
	return 0;
}

static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = well_formed(p);

		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

/* s with every byte that starts no well-formed sequence as U+FFFD. */
static void replaced(const char *s, char *out)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = well_formed(p);

		if (n == 0) {
			memcpy(out, "\xef\xbf\xbd", 3);
			out += 3;
			p++;
		} else {
			memcpy(out, p, n);
			out += n;
			p += n;
		}
	}
	*out = '\0';
}

/* ---- building the report ---- */

/* A C string of up to max bytes of the input (it ends at a NUL). */
static void read_text(struct fuzz_in *in, char *out, size_t max)
{
	const uint8_t *b;
	size_t n = fuzz_bytes(in, fuzz_u8(in) % (max + 1), &b);

	memcpy(out, b, n);
	out[n] = '\0';
}

static double read_double(struct fuzz_in *in)
{
	uint64_t bits = fuzz_u64(in);
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* The members of a whole-run metric, as summary_json.c writes them. */
static json_t *metric_json(const struct entry *e)
{
	json_t *o = json_object();

	xtel_json_set(o, "last", xtel_json_real(e->d));
	xtel_json_set(o, "min", xtel_json_real(e->u ? e->d : NAN));
	xtel_json_set(o, "count", xtel_json_u64(e->u));
	xtel_json_set(o, "text", xtel_json_text(e->text));
	return o;
}

static json_t *build(const struct entry *e)
{
	json_t *a;

	switch (e->kind) {
	case K_TEXT:
		return xtel_json_text(e->text);
	case K_REAL:
		return xtel_json_real(e->d);
	case K_FIXED:
		return xtel_json_fixed(e->d, e->decimals);
	case K_U64:
		return xtel_json_u64(e->u);
	case K_METRIC:
		return metric_json(e);
	case K_ROWS:
		a = json_array();
		for (unsigned int i = 0; i < e->rows; i++)
			json_array_append_new(a, metric_json(e));
		return a;
	case K_NULL:
	case K_MAX:
		break;
	}
	return xtel_json_text(NULL);
}

/* ---- checking it ---- */

static void check_real(json_t *v, double d, const char *what)
{
	if (!isfinite(d)) {
		FUZZ_CHECK(json_is_null(v), "%s: non-finite %a not null", what, d);
		return;
	}
	FUZZ_CHECK(json_is_real(v), "%s: %a not a real", what, d);
	FUZZ_CHECK(memcmp(&(double){ json_real_value(v) }, &d, sizeof(d)) == 0,
		   "%s: %a read back as %a", what, d, json_real_value(v));
}

static void check_u64(json_t *v, uint64_t u, const char *what)
{
	if (u <= (uint64_t)INT64_MAX) {
		FUZZ_CHECK(json_is_integer(v) &&
			   (uint64_t)json_integer_value(v) == u,
			   "%s: %llu", what, (unsigned long long)u);
		return;
	}
	FUZZ_CHECK(json_is_real(v) && json_real_value(v) == (double)u,
		   "%s: %llu not the nearest double", what, (unsigned long long)u);
}

static char *fixed_text(double d, int decimals)
{
	int n = snprintf(NULL, 0, "%.*f", decimals, d);
	char *s = malloc((size_t)n + 1);

	FUZZ_CHECK(s != NULL, "out of memory");
	snprintf(s, (size_t)n + 1, "%.*f", decimals, d);
	return s;
}

static void check_metric(json_t *o, const struct entry *e)
{
	json_t *t;

	FUZZ_CHECK(json_is_object(o) && json_object_size(o) == 4, "metric object");
	check_real(json_object_get(o, "last"), e->d, "last");
	check_real(json_object_get(o, "min"), e->u ? e->d : NAN, "min");
	check_u64(json_object_get(o, "count"), e->u, "count");
	t = json_object_get(o, "text");
	FUZZ_CHECK(json_is_string(t) && strcmp(json_string_value(t), e->want) == 0,
		   "metric text");
}

static void check_entry(json_t *v, const struct entry *e)
{
	char *a, *b;

	FUZZ_CHECK(v != NULL, "member \"%s\" missing", e->key);
	switch (e->kind) {
	case K_TEXT:
		FUZZ_CHECK(json_is_string(v) &&
			   json_string_length(v) == strlen(e->want) &&
			   strcmp(json_string_value(v), e->want) == 0,
			   "text \"%s\" read back as \"%s\", expected \"%s\"",
			   e->text, json_string_value(v), e->want);
		break;
	case K_REAL:
		check_real(v, e->d, "real");
		break;
	case K_FIXED:
		if (!isfinite(e->d)) {
			FUZZ_CHECK(json_is_null(v), "fixed: non-finite not null");
			break;
		}
		FUZZ_CHECK(json_is_real(v), "fixed: not a real");
		a = fixed_text(e->d, e->decimals);
		b = fixed_text(json_real_value(v), e->decimals);
		FUZZ_CHECK(strcmp(a, b) == 0, "fixed %a to %d places: %%.*f "
			   "prints \"%s\", the report's %a prints \"%s\"", e->d,
			   e->decimals, a, json_real_value(v), b);
		free(a);
		free(b);
		break;
	case K_U64:
		check_u64(v, e->u, "u64");
		break;
	case K_METRIC:
		check_metric(v, e);
		break;
	case K_ROWS:
		FUZZ_CHECK(json_is_array(v) && json_array_size(v) == e->rows, "rows");
		for (unsigned int i = 0; i < e->rows; i++)
			check_metric(json_array_get(v, i), e);
		break;
	case K_NULL:
	case K_MAX:
		FUZZ_CHECK(json_is_null(v), "null");
		break;
	}
}

/* Lines the layout gives the member: an array of objects one per element. */
static size_t member_lines(const struct entry *e)
{
	return e->kind == K_ROWS && e->rows > 0 ? e->rows + 2 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct entry *e = calloc(MAX_ENTRIES, sizeof(*e));
	json_t *obj = json_object(), *back;
	json_error_t jerr;
	size_t n = 0, members = 0, lines = 2, text_len = 0, nl = 0;
	bool all_valid = true;
	char *text = NULL, *line = NULL;
	size_t line_len = 0;
	json_t *line_back;
	FILE *f;
	int rc, line_rc;

	FUZZ_CHECK(e && obj, "out of memory");
	while (fuzz_left(&in) && n < MAX_ENTRIES) {
		struct entry *x = &e[n++];

		x->kind = (enum kind)(fuzz_u8(&in) % K_MAX);
		read_text(&in, x->key, sizeof(x->key) - 1);
		read_text(&in, x->text, sizeof(x->text) - 1);
		replaced(x->text, x->want);
		x->d = read_double(&in);
		x->decimals = fuzz_u8(&in);
		x->u = fuzz_u64(&in);
		x->rows = fuzz_u8(&in) % (MAX_ROWS + 1);

		/* xtel_json_text alone: never NULL, the oracle's string */
		{
			json_t *t = xtel_json_text(x->text);

			FUZZ_CHECK(t && json_is_string(t) &&
				   strcmp(json_string_value(t), x->want) == 0,
				   "xtel_json_text(\"%s\")", x->text);
			json_decref(t);
		}
		xtel_json_set(obj, x->key, build(x));
		all_valid &= valid_utf8(x->key);
		for (size_t k = 0; k + 1 < n; k++)
			if (strcmp(e[k].key, x->key) == 0)
				e[k].superseded = true;
	}

	f = open_memstream(&text, &text_len);
	FUZZ_CHECK(f != NULL, "open_memstream");
	rc = xtel_json_write_report(f, obj);
	fclose(f);
	line_rc = xtel_json_dump_alloc(obj, &line, &line_len);
	if (!all_valid) {
		FUZZ_CHECK(rc == -ENOMEM && line_rc == -ENOMEM, "a key that is "
			   "not UTF-8: report returned %d, dump_alloc %d, not "
			   "-ENOMEM", rc, line_rc);
		goto out;
	}
	FUZZ_CHECK(rc == 0 && line_rc == 0, "report (%d) or dump_alloc (%d) "
		   "failed with every key valid UTF-8", rc, line_rc);

	/* the API's one-line form: the same data, one compact line */
	FUZZ_CHECK(line_len == strlen(line) && !memchr(line, '\n', line_len),
		   "dump_alloc: %zu bytes, not one line: %s", line_len, line);
	back = json_loadb(line, line_len, JSON_REJECT_DUPLICATES, &jerr);
	FUZZ_CHECK(back != NULL, "dump_alloc's line does not parse: %s: %s",
		   jerr.text, line);
	for (size_t k = 0; k < n; k++)
		if (!e[k].superseded)
			check_entry(json_object_get(back, e[k].key), &e[k]);
	line_back = back;

	back = json_loadb(text, text_len, JSON_REJECT_DUPLICATES, &jerr);
	FUZZ_CHECK(back != NULL, "the report does not parse: %s (line %d): %s",
		   jerr.text, jerr.line, text);
	for (size_t k = 0; k < n; k++) {
		if (e[k].superseded)
			continue;
		members++;
		lines += member_lines(&e[k]);
		check_entry(json_object_get(back, e[k].key), &e[k]);
	}
	FUZZ_CHECK(json_object_size(back) == members, "%zu members, %zu set",
		   json_object_size(back), members);
	for (size_t i = 0; i < text_len; i++)
		nl += text[i] == '\n';
	FUZZ_CHECK(nl == lines && text_len && text[text_len - 1] == '\n',
		   "%zu lines, the layout gives %zu: %s", nl, lines, text);
	FUZZ_CHECK(json_equal(back, line_back), "report and dump_alloc differ");
	json_decref(back);
	json_decref(line_back);
out:
	free(line);
	free(text);
	json_decref(obj);
	free(e);
	return 0;
}
