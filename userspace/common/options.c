// SPDX-License-Identifier: MIT
/*
 * The option table's parser and --help renderer (see options.h). Values go
 * through the strict parsers of parse.c, so every program accepts the same
 * spellings and words a mistake the same way; the table entry supplies the
 * range and the "valid:" text. A value is stored only once it passed every
 * check, so a refused value leaves the config as it was.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "common/log.h"
#include "common/options.h"
#include "common/options_service.h"
#include "common/parse.h"

/* getopt_long's value of entry i; above any short option's character. */
enum { OPT_VAL_BASE = 256 };

static void *field(const struct xtel_opt *o, void *cfg)
{
	return (char *)cfg + o->offset;
}

static void store_uint(void *p, size_t size, uint64_t v)
{
	switch (size) {
	case 1: *(uint8_t *)p = (uint8_t)v; break;
	case 2: *(uint16_t *)p = (uint16_t)v; break;
	case 4: *(uint32_t *)p = (uint32_t)v; break;
	case 8: *(uint64_t *)p = v; break;
	}
}

static const char *extra_text(const struct xtel_opt *o)
{
	return o->valid_extra ? o->valid_extra : o->valid;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int parse_uint(const struct xtel_opt *o, const char *val, void *cfg)
{
	uint64_t lo = o->check & XTEL_OPT_OR_ZERO ? 0 : o->lo, v;

	if (xtel_flag_u64(o->name, val, lo, o->hi, o->valid, &v))
		return -EINVAL;
	if ((o->check & XTEL_OPT_OR_ZERO) && v && v < o->lo)
		return xtel_bad_value(o->name, val, extra_text(o));
	if ((o->check & XTEL_OPT_POW2) && !is_pow2(v))
		return xtel_bad_value(o->name, val, extra_text(o));
	store_uint(field(o, cfg), o->size, v);
	return 0;
}

static int parse_double(const struct xtel_opt *o, const char *val, void *cfg)
{
	double lo = o->check & XTEL_OPT_OR_ZERO ? 0 : o->dlo, v;

	if (xtel_flag_double(o->name, val, lo, o->dhi, o->valid, &v))
		return -EINVAL;
	if ((o->check & XTEL_OPT_OR_ZERO) && v != 0 && v < o->dlo)
		return xtel_bad_value(o->name, val, extra_text(o));
	*(double *)field(o, cfg) = v;
	return 0;
}

static int parse_string(const struct xtel_opt *o, const char *val, void *cfg)
{
	size_t len = strlen(val);

	if (len < o->lo || (o->hi && len > o->hi) ||
	    ((o->check & XTEL_OPT_ABSOLUTE) && val[0] != '/') ||
	    (o->accept && !o->accept(val)))
		return xtel_bad_value(o->name, val, o->valid);
	*(const char **)field(o, cfg) = val;
	return 0;
}

static int parse_choice(const struct xtel_opt *o, const char *val, void *cfg)
{
	for (unsigned int i = 0; o->choices[i]; i++) {
		if (!strcmp(val, o->choices[i])) {
			store_uint(field(o, cfg), o->size, i);
			return 0;
		}
	}
	return xtel_bad_value(o->name, val, o->valid);
}

/* The count is checked first: the 65th value is refused for being one too many. */
static int parse_strings(const struct xtel_opt *o, const char *val, void *cfg)
{
	unsigned int *count = (unsigned int *)((char *)cfg + o->count_offset);

	if (*count >= o->hi)
		return xtel_bad_value(o->name, val, extra_text(o));
	if (o->accept && !o->accept(val))
		return xtel_bad_value(o->name, val, o->valid);
	((const char **)field(o, cfg))[(*count)++] = val;
	return 0;
}

/* One occurrence of o: 0, XTEL_OPTS_EXIT, or -EINVAL after a message. */
static int apply_one(const struct xtel_opt *o, const char *val, void *cfg)
{
	switch (o->type) {
	case XTEL_OPT_FLAG:
		*(bool *)field(o, cfg) = true;
		return 0;
	case XTEL_OPT_UINT:
		return parse_uint(o, val, cfg);
	case XTEL_OPT_DOUBLE:
		return parse_double(o, val, cfg);
	case XTEL_OPT_STRING:
		return parse_string(o, val, cfg);
	case XTEL_OPT_CHOICE:
		return parse_choice(o, val, cfg);
	case XTEL_OPT_STRINGS:
		return parse_strings(o, val, cfg);
	case XTEL_OPT_CUSTOM:
		return o->parse(o, val, cfg);
	case XTEL_OPT_EXIT:
		o->print(stdout);
		return XTEL_OPTS_EXIT;
	}
	return -EINVAL;
}

int xtel_opts_apply(const struct xtel_opts *t, unsigned int i,
		    const char *val, void *cfg)
{
	return apply_one(&t->opt[i], val, cfg);
}

static bool takes_value(const struct xtel_opt *o)
{
	return o->type != XTEL_OPT_FLAG && o->type != XTEL_OPT_EXIT;
}

/* A mistake in a table, not in argv: said plainly so a test catches it. */
static int check_table(const struct xtel_opts *t)
{
	if (t->n > XTEL_OPTS_MAX) {
		pr_err("option table: %u entries, at most %d", t->n, XTEL_OPTS_MAX);
		return -E2BIG;
	}
	for (unsigned int i = 0; i < t->n; i++) {
		const struct xtel_opt *o = &t->opt[i];
		bool ok = true;

		if (o->type == XTEL_OPT_UINT || o->type == XTEL_OPT_CHOICE)
			ok = o->size == 1 || o->size == 2 || o->size == 4 ||
			     o->size == 8;
		if (o->type == XTEL_OPT_FLAG)
			ok = o->size == sizeof(bool);
		if (o->type == XTEL_OPT_CHOICE)
			ok = ok && o->choices;
		if (o->type == XTEL_OPT_CUSTOM)
			ok = o->parse != NULL;
		if (o->type == XTEL_OPT_EXIT)
			ok = o->print != NULL;
		if (!ok || !o->name) {
			pr_err("option table: entry %u (--%s) is malformed", i,
			       o->name ? o->name : "?");
			return -EINVAL;
		}
	}
	return 0;
}

/* The table of entry i of t followed by b (b may be NULL). */
static const struct xtel_opt *entry(const struct xtel_opts *t,
				    const struct xtel_opts *b, unsigned int i)
{
	return i < t->n ? &t->opt[i] : &b->opt[i - t->n];
}

static unsigned int n_entries(const struct xtel_opts *t,
			      const struct xtel_opts *b)
{
	return t->n + (b ? b->n : 0);
}

/*
 * getopt_long's tables from t and b; shorts holds 2 * XTEL_OPTS_TOTAL + 2
 * bytes.
 */
static void build_getopt(const struct xtel_opts *t, const struct xtel_opts *b,
			 struct option *longs, char *shorts)
{
	unsigned int n = n_entries(t, b);
	char *s = shorts;

	/* ':' first: a missing value is told apart from an unknown option. */
	*s++ = ':';
	for (unsigned int i = 0; i < n; i++) {
		const struct xtel_opt *o = entry(t, b, i);

		longs[i] = (struct option){
			.name = o->name,
			.has_arg = takes_value(o) ? required_argument : no_argument,
			.val = OPT_VAL_BASE + (int)i,
		};
		if (o->short_name) {
			*s++ = o->short_name;
			if (takes_value(o))
				*s++ = ':';
		}
	}
	longs[n] = (struct option){ 0 };
	*s = '\0';
}

/* getopt_long's ':' and '?', worded as both programs always did. */
static int getopt_error(const struct xtel_opts *t, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	/* '?' with optopt set to an entry's value: "--quiet=1". */
	if (c == ':' || (optopt >= OPT_VAL_BASE && !t->value_for_flag_is_unknown))
		pr_err("%s needs a value (try --help)", arg);
	else
		pr_err("unknown option '%s' (try --help)", arg);
	return -EINVAL;
}

/*
 * A short option's character is its entry's value only through the table,
 * so it is mapped back to the entry here.
 */
static int entry_of(const struct xtel_opts *t, const struct xtel_opts *b,
		    int c)
{
	unsigned int n = n_entries(t, b);

	if (c >= OPT_VAL_BASE && c < OPT_VAL_BASE + (int)n)
		return c - OPT_VAL_BASE;
	for (unsigned int i = 0; i < n; i++)
		if (entry(t, b, i)->short_name && entry(t, b, i)->short_name == c)
			return (int)i;
	return -1;
}

int xtel_opts_parse_argv(const struct xtel_opts *t, const struct xtel_opts *b,
			 int argc, char **argv, void *cfg, void *bcfg,
			 unsigned int *seen, enum xtel_opts_pass pass)
{
	struct option longs[XTEL_OPTS_TOTAL + 1];
	char shorts[2 * XTEL_OPTS_TOTAL + 2];
	unsigned int given = 0, n = n_entries(t, b);
	int c, ret;

	ret = check_table(t);
	if (!ret && b)
		ret = check_table(b);
	if (ret)
		return ret;
	build_getopt(t, b, longs, shorts);
	if (seen)
		memset(seen, 0, n * sizeof(*seen));
	opterr = 0;	/* our own messages, naming the option */
	optind = 0;	/* a full restart, also after an earlier parse */
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		int i = entry_of(t, b, c);
		const struct xtel_opt *o;
		bool own;

		if (i < 0)
			return getopt_error(t, c, argv);
		o = entry(t, b, (unsigned int)i);
		own = (unsigned int)i >= t->n;
		/* The first given replaces a list the config file set. */
		if (seen && !seen[i] && pass == XTEL_OPTS_PASS_TABLE &&
		    o->type == XTEL_OPT_STRINGS)
			*(unsigned int *)((char *)cfg + o->count_offset) = 0;
		if (seen && !seen[i])
			seen[i] = ++given;
		if (pass == XTEL_OPTS_PASS_TABLE && own)
			continue;
		if (pass == XTEL_OPTS_PASS_BUILTIN && !own &&
		    o->type != XTEL_OPT_EXIT)
			continue;
		ret = apply_one(o, optarg, own ? bcfg : cfg);
		if (ret)
			return ret;
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (try --help)", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int xtel_opts_parse(const struct xtel_opts *t, int argc, char **argv,
		    void *cfg, unsigned int *seen)
{
	if (t->prog)
		return xtel_opts_service_parse(t, argc, argv, cfg, seen);
	return xtel_opts_parse_argv(t, NULL, argc, argv, cfg, NULL, seen,
				    XTEL_OPTS_PASS_ALL);
}

int xtel_opts_first(const struct xtel_opts *t, const unsigned int *seen,
		    unsigned int groups)
{
	int first = -1;

	for (unsigned int i = 0; i < t->n; i++)
		if ((t->opt[i].groups & groups) && seen[i] &&
		    (first < 0 || seen[i] < seen[first]))
			first = (int)i;
	return first;
}

/*
 * "  --name ARG" and the first help line at XTEL_OPTS_HELP_COLUMN, or the
 * label on a line of its own when it reaches that column; further help
 * lines indented to it.
 */
static void help_entry(const struct xtel_opt *o, FILE *out)
{
	const char *line = o->help, *end;
	int col;

	if (o->label)
		col = fprintf(out, "  %s", o->label);
	else if (o->metavar)
		col = fprintf(out, "  --%s %s", o->name, o->metavar);
	else
		col = fprintf(out, "  --%s", o->name);
	if (!*line) {
		fputc('\n', out);
		return;
	}
	if (col >= XTEL_OPTS_HELP_COLUMN) {
		fputc('\n', out);
		col = 0;
	}
	for (;;) {
		end = strchrnul(line, '\n');
		fprintf(out, "%*s%.*s\n", XTEL_OPTS_HELP_COLUMN - col, "",
			(int)(end - line), line);
		if (!*end)
			break;
		line = end + 1;
		col = 0;
	}
}

static void help_entries(const struct xtel_opts *t, bool blank, FILE *out)
{
	for (unsigned int i = 0; i < t->n; i++) {
		const struct xtel_opt *o = &t->opt[i];

		if (o->section)
			fprintf(out, "%s%s\n", blank ? "\n" : "", o->section);
		if (o->help)
			help_entry(o, out);
	}
}

void xtel_opts_help(const struct xtel_opts *t, FILE *out)
{
	const struct xtel_opts *b = t->prog ? xtel_opts_builtin(t) : NULL;

	if (t->usage)
		fputs(t->usage, out);
	help_entries(t, t->blank_before_section, out);
	if (b)
		help_entries(b, t->blank_before_section, out);
	if (t->epilogue)
		fputs(t->epilogue, out);
}
