/* SPDX-License-Identifier: MIT */
/*
 * Command-line options as one table (the idea of xdp-tools' params.h): each
 * entry says the option's name and value, where the value goes in the
 * program's config struct, what range and extra constraint it must meet,
 * the "valid:" text of its error message, its --help lines and section,
 * and the caller's group bits. xtel_opts_parse builds getopt_long's table
 * from the entries and xtel_opts_help renders --help from the same entries,
 * so an option cannot be parsed one way and documented another.
 *
 * Defaults are not in the table: each program fills its config struct
 * before parsing, where they read as one initializer. Checks that involve
 * several options stay plain code after the parse, reading what was given
 * from the seen[] array.
 *
 * Every rejected value is reported with xtel_bad_value's message
 * ("invalid value 'V' for --NAME (valid: TEXT)") through common/log.h.
 */
#ifndef XTEL_OPTIONS_H
#define XTEL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum xtel_opt_type {
	XTEL_OPT_FLAG = 0,	/* no value: sets a bool to true */
	XTEL_OPT_UINT,		/* decimal integer lo..hi, into 1, 2, 4 or 8 bytes */
	XTEL_OPT_DOUBLE,	/* finite decimal dlo..dhi, into a double */
	XTEL_OPT_STRING,	/* const char * into argv; length lo..hi (hi 0: any) */
	XTEL_OPT_CHOICE,	/* one of choices[]: its index, into an enum/uint */
	XTEL_OPT_STRINGS,	/* repeatable: const char *[hi] and an unsigned count */
	XTEL_OPT_CUSTOM,	/* parse() does it all */
	XTEL_OPT_EXIT,		/* no value: print() then stop, successfully */
};

/* Extra constraints on top of the range, in xtel_opt.check. */
enum xtel_opt_check {
	XTEL_OPT_POW2 = 1 << 0,		/* UINT: a power of two */
	XTEL_OPT_OR_ZERO = 1 << 1,	/* UINT/DOUBLE: 0, or lo..hi */
	XTEL_OPT_ABSOLUTE = 1 << 2,	/* STRING: starts with '/' */
};

/* The first column of help text; a longer "--name ARG" gets its own line. */
enum { XTEL_OPTS_HELP_COLUMN = 25 };

/*
 * Entries per table; getopt's table is built on the stack from a
 * program's table and the built-in one (options_service.c).
 */
/* 96: the collector's table had 62 entries when the service options came. */
enum { XTEL_OPTS_MAX = 96, XTEL_OPTS_TOTAL = XTEL_OPTS_MAX + 16 };

/* xtel_opts_parse's result when an XTEL_OPT_EXIT option was given. */
enum { XTEL_OPTS_EXIT = 1 };

struct xtel_opt {
	const char *name;		/* long name without "--" */
	char short_name;		/* 0: none */
	const char *metavar;		/* the value's name in --help; NULL: none */
	enum xtel_opt_type type;

	size_t offset;			/* of the value in the config struct */
	size_t size;			/* its size (UINT, CHOICE: 1, 2, 4 or 8) */
	size_t count_offset;		/* STRINGS: of the unsigned int count */

	uint64_t lo, hi;		/* UINT, STRING length, STRINGS: hi = max count */
	double dlo, dhi;		/* DOUBLE */
	unsigned int check;		/* enum xtel_opt_check bits */
	const char *const *choices;	/* CHOICE: NULL-terminated */
	/* STRING, STRINGS: an extra test of the value, reported with valid. */
	bool (*accept)(const char *val);

	/* "valid:" text of the error message when the value is refused. */
	const char *valid;
	/*
	 * The text when only the extra constraint fails (the gap below lo of
	 * XTEL_OPT_OR_ZERO, XTEL_OPT_POW2) or a STRINGS option is given more
	 * than hi times; NULL: valid.
	 */
	const char *valid_extra;

	/* CUSTOM: 0, or -EINVAL after a message (xtel_bad_value's). */
	int (*parse)(const struct xtel_opt *o, const char *val, void *cfg);
	/* EXIT: prints --help, --version, ... on out. */
	void (*print)(FILE *out);
	/*
	 * CUSTOM, for --print-config: the value as text (NULL: the text it
	 * was last given, or "not set"). Optional.
	 */
	const char *(*show)(const struct xtel_opt *o, const void *cfg);
	/* Re-read from the config file on SIGHUP (xtel_opts_reparse). */
	bool reload;

	/*
	 * --help: lines separated by '\n' (NULL: the option is not listed;
	 * "": only its label). label replaces "--name METAVAR". section, when
	 * set, is a heading printed before this entry.
	 */
	const char *help;
	const char *label;
	const char *section;

	unsigned int groups;		/* the caller's bits, see xtel_opts_first */
};

/* .offset and .size of a member of struct type st, for a table entry. */
#define XTEL_OPT_AT(st, member)						\
	.offset = offsetof(st, member),					\
	.size = sizeof(((st *)0)->member)

/* An entry's type, where its value goes and its range, in one line. */
#define XTEL_OPT_FLAG_AT(st, member)					\
	.type = XTEL_OPT_FLAG, XTEL_OPT_AT(st, member)
#define XTEL_OPT_UINT_AT(st, member, min, max)				\
	.type = XTEL_OPT_UINT, XTEL_OPT_AT(st, member),			\
	.lo = (min), .hi = (max)
#define XTEL_OPT_DOUBLE_AT(st, member, min, max)			\
	.type = XTEL_OPT_DOUBLE, XTEL_OPT_AT(st, member),		\
	.dlo = (min), .dhi = (max)
#define XTEL_OPT_STRING_AT(st, member)					\
	.type = XTEL_OPT_STRING, XTEL_OPT_AT(st, member)
#define XTEL_OPT_CHOICE_AT(st, member, names)				\
	.type = XTEL_OPT_CHOICE, XTEL_OPT_AT(st, member),		\
	.choices = (names)

struct xtel_opts {
	const struct xtel_opt *opt;
	unsigned int n;
	const char *usage;		/* --help before the list */
	const char *epilogue;		/* --help after the list */
	bool blank_before_section;	/* an empty line before each heading */
	/*
	 * A value given to an option that takes none ("--quiet=1") is
	 * reported as an unknown option when set, else as "needs a value":
	 * the two programs have always worded it differently.
	 */
	bool value_for_flag_is_unknown;

	/*
	 * A program's table sets these (common/options_service.c): prog adds
	 * the built-in --version, --log-level and --log-format (and the
	 * hidden --man); config_path, the default of the built-in --config,
	 * adds the config file and --check-config/--print-config. NULL: a
	 * bare table, as the unit tests use.
	 */
	const char *prog;
	const char *config_path;
	/* Fills cfg before the file and argv are applied (NULL: the caller did). */
	void (*defaults)(void *cfg);
	/*
	 * The checks that involve several options, after the file and argv:
	 * 0, or -EINVAL after a message. --check-config runs them too.
	 */
	int (*check)(void *cfg, const unsigned int *seen);
	/*
	 * The man page (--man): a one-line summary for NAME, its section
	 * ("8", "1") and extra roff text (FILES, SIGNALS, SEE ALSO, ...).
	 */
	const char *summary;
	const char *man_section;
	const char *man_text;
};

/*
 * Parses argv into cfg by the table (getopt_long, from argv[1]; "--" ends
 * the options). seen, when not NULL, has t->n entries: seen[i] is 0 when
 * option i was not given, else the position (1, 2, ...) of its first
 * occurrence among the options given. Returns 0 when every argument was
 * an option and its value was valid, XTEL_OPTS_EXIT after an XTEL_OPT_EXIT
 * option printed on stdout, or -EINVAL after an error message (an unknown
 * option, a missing or invalid value, an argument that is no option, a
 * malformed entry; -E2BIG for more than XTEL_OPTS_MAX entries).
 */
int xtel_opts_parse(const struct xtel_opts *t, int argc, char **argv,
		    void *cfg, unsigned int *seen);

/*
 * The index of the option given first (by seen[]) among those with one of
 * groups' bits, or -1 when none of them was given.
 */
int xtel_opts_first(const struct xtel_opts *t, const unsigned int *seen,
		    unsigned int groups);

/* --help: usage, each listed option (sections in between), epilogue. */
void xtel_opts_help(const struct xtel_opts *t, FILE *out);

/*
 * For options_service.c: argv by t and the built-in table b (entries
 * t->n.. of seen), b's values into bcfg. PASS_ALL applies every option,
 * PASS_BUILTIN only b's and the XTEL_OPT_EXIT ones (--help first), and
 * PASS_TABLE only t's, a repeatable option's first occurrence replacing
 * the list the config file set.
 */
enum xtel_opts_pass {
	XTEL_OPTS_PASS_ALL = 0,
	XTEL_OPTS_PASS_BUILTIN,
	XTEL_OPTS_PASS_TABLE,
};
int xtel_opts_parse_argv(const struct xtel_opts *t, const struct xtel_opts *b,
			 int argc, char **argv, void *cfg, void *bcfg,
			 unsigned int *seen, enum xtel_opts_pass pass);

/*
 * One occurrence of option i of t with value val (NULL for a flag) into
 * cfg: 0, XTEL_OPTS_EXIT, or -EINVAL after a message. The config file's
 * loader goes through here, so a key is checked as its flag is.
 */
int xtel_opts_apply(const struct xtel_opts *t, unsigned int i,
		    const char *val, void *cfg);
/* Option i's value in cfg as text for --print-config (static buffer). */
const char *xtel_opts_show(const struct xtel_opts *t, unsigned int i,
			   const void *cfg);

#endif /* XTEL_OPTIONS_H */
