/* SPDX-License-Identifier: MIT */
/*
 * The two JSON value writers the reports share (collector summary, XDP
 * section, loadgen report): a string with the escapes JSON requires, and a
 * double that stays valid JSON when it is not finite.
 */
#ifndef XTEL_JSON_H
#define XTEL_JSON_H

#include <stdio.h>

/*
 * Writes s as a quoted JSON string: '"' and '\\' backslash-escaped, bytes
 * below 0x20 as \u00XX, everything else (UTF-8 included) as is. NULL is
 * written as "".
 */
void xtel_json_str(FILE *f, const char *s);

/* Writes v with %.17g (round-trips exactly), or null when not finite. */
void xtel_json_double(FILE *f, double v);

#endif /* XTEL_JSON_H */
