// SPDX-License-Identifier: MIT
/*
 * JSON value writers for the reports (see json.h). Text from the outside
 * (metric keys, paths, interface names, error messages) goes through
 * xtel_json_str so a quote or a control byte in it cannot break the file.
 */
#include <math.h>

#include "common/json.h"

void xtel_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void xtel_json_double(FILE *f, double v)
{
	/* JSON has no inf or nan; a reader sees "no value" instead. */
	if (isfinite(v))
		fprintf(f, "%.17g", v);
	else
		fputs("null", f);
}
