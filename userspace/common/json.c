// SPDX-License-Identifier: MIT
/*
 * The jansson helpers of json.h. Text from the outside (metric keys, paths,
 * interface names, error messages) goes through xtel_json_text, numbers
 * through xtel_json_real/_u64, so nothing a client sends or a user types can
 * break a report.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

json_t *xtel_json_real(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *xtel_json_fixed(double v, int decimals)
{
	/* %f of DBL_MAX is 309 digits: room for a sign, the point, 190 decimals. */
	char buf[512];
	int n;

	if (!isfinite(v))
		return json_null();
	/*
	 * printf itself does the rounding, because round(v * 10^decimals)
	 * does not match it: the product is rounded before round() sees it
	 * (so a double just below a tie can become the tie) and round()
	 * takes ties away from zero where printf rounds the exact binary
	 * value, ties to even. Reading the text back gives the double a
	 * reader of the old %.*f reports parsed.
	 */
	n = snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return json_real(v);	/* over 190 decimals: left unrounded */
	return json_real(strtod(buf, NULL));
}

json_t *xtel_json_u64(uint64_t v)
{
	if (v > (uint64_t)INT64_MAX)
		return json_real((double)v);
	return json_integer((json_int_t)v);
}

/* Length of the valid UTF-8 sequence at s, or 0 (RFC 3629 ranges). */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

json_t *xtel_json_text(const char *s)
{
	static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD */
	const unsigned char *p;
	json_t *v;
	char *buf, *o;

	if (s == NULL)
		return json_null();
	v = json_string(s);
	if (v != NULL)
		return v;
	buf = malloc(strlen(s) * 3 + 1);
	if (buf == NULL)
		return NULL;
	for (p = (const unsigned char *)s, o = buf; *p;) {
		size_t n = utf8_len(p);

		if (n == 0) {
			memcpy(o, replacement, 3);
			o += 3;
			p++;
		} else {
			memcpy(o, p, n);
			o += n;
			p += n;
		}
	}
	*o = '\0';
	v = json_string(buf);
	free(buf);
	return v;
}

/* Key under which xtel_json_set records a failed member. */
static const char failed_key[] = "\x01xtel_json_failed";

void xtel_json_set(json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(obj, key, v))
		json_object_set_new(obj, failed_key, json_true());
}

/* True when obj or any object/array below it holds a failed member. */
static int has_failed(json_t *v)
{
	const char *key;
	json_t *m;
	size_t i;

	if (json_is_object(v)) {
		if (json_object_get(v, failed_key))
			return 1;
		json_object_foreach(v, key, m)
			if (has_failed(m))
				return 1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			if (has_failed(m))
				return 1;
	}
	return 0;
}

static int dump_line(FILE *f, const json_t *v)
{
	return json_dumpf(v, f, XTEL_JSON_FLAGS);
}

/* A top-level array of objects: one element per line. */
static int dump_rows(FILE *f, const json_t *arr)
{
	size_t i, n = json_array_size(arr);

	if (n == 0 || !json_is_object(json_array_get(arr, 0)))
		return dump_line(f, arr);
	fputs("[\n", f);
	for (i = 0; i < n; i++) {
		fputs("    ", f);
		if (dump_line(f, json_array_get(arr, i)))
			return -1;
		fputs(i + 1 < n ? ",\n" : "\n", f);
	}
	fputs("  ]", f);
	return 0;
}

/* One member's "  \"key\": " */
static int dump_key(FILE *f, const char *key)
{
	json_t *k = json_string(key);
	int rc;

	fputs("  ", f);
	rc = k == NULL || dump_line(f, k);
	json_decref(k);
	fputs(": ", f);
	return rc ? -ENOMEM : 0;
}

/* rows as dump_rows lays out an array of objects, each made, written and
 * released before the next is made. */
static int dump_streamed(FILE *f, const struct xtel_json_rows *rows)
{
	if (rows->n == 0) {
		fputs("[]", f);
		return 0;
	}
	fputs("[\n", f);
	for (size_t i = 0; i < rows->n; i++) {
		json_t *o = rows->row(rows->ctx, i);
		int bad = o == NULL || has_failed(o);

		fputs("    ", f);
		if (bad || dump_line(f, o)) {
			json_decref(o);
			return bad ? -ENOMEM : -EIO;
		}
		json_decref(o);
		fputs(i + 1 < rows->n ? ",\n" : "\n", f);
	}
	fputs("  ]", f);
	return 0;
}

int xtel_json_write_report_rows(FILE *f, json_t *obj,
				const struct xtel_json_rows *rows, size_t n_rows)
{
	const char *key;
	json_t *v;
	size_t i = 0, n = json_object_size(obj) + n_rows;
	int rc;

	if (has_failed(obj))
		return -ENOMEM;
	fputs("{\n", f);
	json_object_foreach(obj, key, v) {
		if ((rc = dump_key(f, key)))
			return rc;
		if (json_is_array(v) ? dump_rows(f, v) : dump_line(f, v))
			return -EIO;
		fputs(++i < n ? ",\n" : "\n", f);
	}
	for (size_t r = 0; r < n_rows; r++) {
		if ((rc = dump_key(f, rows[r].key)) ||
		    (rc = dump_streamed(f, &rows[r])))
			return rc;
		fputs(++i < n ? ",\n" : "\n", f);
	}
	fputs("}\n", f);
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}

int xtel_json_write_report(FILE *f, json_t *obj)
{
	return xtel_json_write_report_rows(f, obj, NULL, 0);
}

int xtel_json_write_report_file(const char *path, json_t *obj)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = xtel_json_write_report(f, obj);
	if (fclose(f) && !ret)
		ret = -EIO;
	return ret;
}

int xtel_json_dump_alloc(json_t *v, char **out, size_t *len)
{
	char *buf;

	if (has_failed(v))
		return -ENOMEM;
	buf = json_dumps(v, XTEL_JSON_FLAGS | JSON_COMPACT);
	if (buf == NULL)
		return -ENOMEM;
	*out = buf;
	*len = strlen(buf);
	return 0;
}
