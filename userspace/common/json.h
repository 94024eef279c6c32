/* SPDX-License-Identifier: MIT */
/*
 * JSON through jansson for every report (collector summary, loadgen report,
 * and the HTTP API): the few value constructors jansson leaves to
 * us, and the one file layout the reports share.
 *
 * jansson refuses what these accept: NaN and infinities (JSON has neither:
 * they become null, "no value"), integers above INT64_MAX (our counters and
 * sequence numbers are u64: they become reals, the only JSON number left),
 * and strings that are not UTF-8 (text from the outside, such as a path or
 * an interface name: invalid bytes become U+FFFD). So a hostile or odd
 * value can never make a report invalid or make a constructor fail.
 */
#ifndef XTEL_JSON_H
#define XTEL_JSON_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Reals print with 17 significant digits: every double round-trips. */
#define XTEL_JSON_FLAGS (JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY)

json_t *xtel_json_real(double v);
/*
 * v rounded to decimals (>= 0) places exactly as printf's %.*f shows it, so
 * a reader parses the same double as from a "%.3f" report; null if not
 * finite.
 */
json_t *xtel_json_fixed(double v, int decimals);
json_t *xtel_json_u64(uint64_t v);
/* s as a JSON string (never NULL: invalid UTF-8 is replaced); NULL: null. */
json_t *xtel_json_text(const char *s);

/*
 * Sets obj[key] = v and takes v (json_object_set_new). A NULL v, which
 * only a failed allocation gives, is recorded in the object's error flag:
 * xtel_json_write_report() then fails with -ENOMEM rather than write a
 * report with a member missing.
 */
void xtel_json_set(json_t *obj, const char *key, json_t *v);

/*
 * Writes a report object in the reports' layout: one top-level member per
 * line, and the elements of a top-level array of objects one per line (so
 * a report with 10,000 clients stays readable and line-diffable), every
 * value on its line compact. Returns 0, or -ENOMEM / -EIO.
 */
int xtel_json_write_report(FILE *f, json_t *obj);

/*
 * The same with n_rows more members after obj's, in that order: each
 * rows[r].key, an array of n objects that row(ctx, i) makes one at a time
 * (NULL: out of memory); each is
 * written and released before the next is made, so a report with 100,000
 * clients never holds them all as a tree (the summary JSON of 100,000
 * clients took ~700 MB that way). A failure part way (-ENOMEM, -EIO)
 * leaves the file cut short.
 */
struct xtel_json_rows {
	const char *key;
	size_t n;
	json_t *(*row)(const void *ctx, size_t i);
	const void *ctx;
};

int xtel_json_write_report_rows(FILE *f, json_t *obj,
				const struct xtel_json_rows *rows, size_t n_rows);

/*
 * xtel_json_write_report into a new file at path (created or truncated,
 * closed again). Returns 0, -errno of the open, -ENOMEM or -EIO.
 */
int xtel_json_write_report_file(const char *path, json_t *obj);

/*
 * v as one compact line in a malloc'd, NUL-terminated buffer (*len bytes
 * without the NUL), for a network reply. Returns 0, or -ENOMEM when a
 * member failed (xtel_json_set) or the encoding ran out of memory.
 */
int xtel_json_dump_alloc(json_t *v, char **out, size_t *len);

#endif /* XTEL_JSON_H */
