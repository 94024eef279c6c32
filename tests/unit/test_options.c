// SPDX-License-Identifier: MIT
/*
 * The option table of common/options.c with exact cases: what each type
 * stores (and that a refused value stores nothing), every error message
 * word for word as the log sink receives it, the order in seen[] and the
 * group query built on it, XTEL_OPT_EXIT stopping the parse, a malformed
 * table refused, and --help of a small table byte for byte (the column,
 * the own-line rule, continuation lines, labels, hidden entries, sections
 * with and without a blank line).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/options.h"

struct tcfg {
	bool quiet;
	uint8_t small;
	uint16_t port;
	uint32_t ring;
	uint32_t buf;
	uint64_t wide;
	double secs;
	double beat;
	const char *name;
	const char *dir;
	int mode;
	const char *add[3];
	unsigned int n_add;
	unsigned int pair_a, pair_b;
};

enum {
	T_QUIET, T_SMALL, T_PORT, T_RING, T_BUF, T_WIDE, T_SECS, T_BEAT,
	T_NAME, T_DIR, T_MODE, T_ADD, T_PAIR, T_HELP, T_COUNT,
};

enum { G_NET = 1 << 0, G_DISK = 1 << 1 };

static const char *const modes[] = { "a", "b", "c", NULL };
static int printed;

static bool starts_x(const char *val)
{
	return val[0] == 'x';
}

/* "A,B": two digits; anything else refused by name. */
static int parse_pair(const struct xtel_opt *o, const char *val, void *cfg)
{
	struct tcfg *c = cfg;

	if (strlen(val) != 3 || val[1] != ',' || val[0] < '0' || val[0] > '9' ||
	    val[2] < '0' || val[2] > '9') {
		pr_err("bad --%s: '%s'", o->name, val);
		return -EINVAL;
	}
	c->pair_a = (unsigned int)(val[0] - '0');
	c->pair_b = (unsigned int)(val[2] - '0');
	return 0;
}

static void print_help(FILE *out)
{
	printed++;
	assert_ptr_equal(out, stdout);
}

#define AT(m) XTEL_OPT_AT(struct tcfg, m)

static const struct xtel_opt topt[T_COUNT] = {
	[T_QUIET] = { .name = "quiet", .short_name = 'q',
		.type = XTEL_OPT_FLAG, AT(quiet), .groups = G_DISK },
	[T_SMALL] = { .name = "small", .metavar = "N", .type = XTEL_OPT_UINT,
		AT(small), .lo = 0, .hi = 255, .valid = "0..255" },
	[T_PORT] = { .name = "port", .short_name = 'p', .metavar = "N",
		.type = XTEL_OPT_UINT, AT(port), .lo = 1, .hi = 65535,
		.valid = "1..65535", .groups = G_NET },
	[T_RING] = { .name = "ring", .metavar = "N", .type = XTEL_OPT_UINT,
		AT(ring), .lo = 64, .hi = 32768, .check = XTEL_OPT_POW2,
		.valid = "a power of two, 64..32768" },
	[T_BUF] = { .name = "buf", .metavar = "B", .type = XTEL_OPT_UINT,
		AT(buf), .lo = 4096, .hi = 1u << 20, .check = XTEL_OPT_OR_ZERO,
		.valid = "0 or 4096..1048576",
		.valid_extra = "0 or 4096..1048576; less is too small" },
	[T_WIDE] = { .name = "wide", .metavar = "N", .type = XTEL_OPT_UINT,
		AT(wide), .lo = 0, .hi = UINT64_MAX, .valid = "any" },
	[T_SECS] = { .name = "secs", .metavar = "S", .type = XTEL_OPT_DOUBLE,
		AT(secs), .dlo = 0.1, .dhi = 3600, .valid = "0.1..3600 seconds",
		.groups = G_NET | G_DISK },
	[T_BEAT] = { .name = "beat", .metavar = "S", .type = XTEL_OPT_DOUBLE,
		AT(beat), .dlo = 0.01, .dhi = 10, .check = XTEL_OPT_OR_ZERO,
		.valid = "0 or 0.01..10" },
	[T_NAME] = { .name = "name", .metavar = "S", .type = XTEL_OPT_STRING,
		AT(name), .lo = 1, .hi = 3, .valid = "1..3 characters" },
	[T_DIR] = { .name = "dir", .metavar = "D", .type = XTEL_OPT_STRING,
		AT(dir), .check = XTEL_OPT_ABSOLUTE, .valid = "an absolute path",
		.groups = G_DISK },
	[T_MODE] = { .name = "mode", .metavar = "a|b|c", .type = XTEL_OPT_CHOICE,
		AT(mode), .choices = modes, .valid = "a, b or c" },
	[T_ADD] = { .name = "add", .metavar = "X", .type = XTEL_OPT_STRINGS,
		AT(add), .count_offset = offsetof(struct tcfg, n_add), .hi = 3,
		.accept = starts_x, .valid = "a word starting with x",
		.valid_extra = "at most 3 words", .groups = G_NET },
	[T_PAIR] = { .name = "pair", .metavar = "A,B", .type = XTEL_OPT_CUSTOM,
		.parse = parse_pair },
	[T_HELP] = { .name = "help", .short_name = 'h', .type = XTEL_OPT_EXIT,
		.print = print_help },
};

static const struct xtel_opts topts = { .opt = topt, .n = T_COUNT };

static const struct xtel_opts topts_unknown = {
	.opt = topt, .n = T_COUNT, .value_for_flag_is_unknown = true,
};

/* The log sink: every message, joined by '\n', at its level. */
static char logbuf[4096];
static int n_msgs;

static void sink(void *arg, enum xtel_log_level level, const char *msg)
{
	size_t len = strlen(logbuf);

	(void)arg;
	assert_int_equal(level, XTEL_LOG_ERR);
	snprintf(logbuf + len, sizeof(logbuf) - len, "%s%s", len ? "\n" : "", msg);
	n_msgs++;
}

static int setup(void **state)
{
	(void)state;
	logbuf[0] = '\0';
	n_msgs = 0;
	printed = 0;
	xtel_log_set_sink(sink, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xtel_log_set_sink(NULL, NULL);
	return 0;
}

/* Parses the NULL-terminated words after "prog" into *c (zeroed first). */
static int run_seen(const struct xtel_opts *t, struct tcfg *c,
		    unsigned int *seen, const char *const *words)
{
	/* Writable copies: getopt_long takes char **. */
	static char store[32][64];
	char *argv[33];
	int argc = 0;

	strcpy(store[0], "prog");
	argv[argc++] = store[0];
	for (; *words; words++, argc++) {
		assert_true(argc < 32 && strlen(*words) < sizeof(store[0]));
		strcpy(store[argc], *words);
		argv[argc] = store[argc];
	}
	argv[argc] = NULL;
	memset(c, 0, sizeof(*c));
	logbuf[0] = '\0';
	n_msgs = 0;
	return xtel_opts_parse(t, argc, argv, c, seen);
}

#define RUN(c, ...) run_seen(&topts, (c), NULL, (const char *const[]){ __VA_ARGS__, NULL })

/* One refused argv: -EINVAL and exactly this one message. */
#define REFUSED(msg, ...)						\
	do {								\
		struct tcfg c_;						\
		assert_int_equal(RUN(&c_, __VA_ARGS__), -EINVAL);	\
		assert_string_equal(logbuf, (msg));			\
		assert_int_equal(n_msgs, 1);				\
	} while (0)

static void test_each_type(void **state)
{
	struct tcfg c;

	(void)state;
	assert_int_equal(RUN(&c, "--quiet", "--small", "255", "--port", "65535",
			     "--ring", "32768", "--buf", "4096", "--wide",
			     "18446744073709551615", "--secs", "0.1", "--beat",
			     "0.01", "--name", "abc", "--dir", "/x", "--mode", "c",
			     "--add", "x1", "--add", "xx", "--pair", "4,2"), 0);
	assert_string_equal(logbuf, "");
	assert_true(c.quiet);
	assert_int_equal(c.small, 255);
	assert_int_equal(c.port, 65535);
	assert_int_equal(c.ring, 32768);
	assert_int_equal(c.buf, 4096);
	assert_true(c.wide == UINT64_MAX);
	assert_true(c.secs == 0.1);
	assert_true(c.beat == 0.01);
	assert_string_equal(c.name, "abc");
	assert_string_equal(c.dir, "/x");
	assert_int_equal(c.mode, 2);
	assert_int_equal(c.n_add, 2);
	assert_string_equal(c.add[0], "x1");
	assert_string_equal(c.add[1], "xx");
	assert_int_equal(c.pair_a, 4);
	assert_int_equal(c.pair_b, 2);
}

static void test_lower_bounds_and_spellings(void **state)
{
	struct tcfg c;

	(void)state;
	/* Short options, joined and separate, and --name=value. */
	assert_int_equal(RUN(&c, "-q", "-p1", "--small=0", "--ring", "64",
			     "--buf", "0", "--beat", "0", "--secs", "3600",
			     "--mode", "a", "--name", "a", "--wide", "0"), 0);
	assert_true(c.quiet);
	assert_int_equal(c.port, 1);
	assert_int_equal(c.small, 0);
	assert_int_equal(c.ring, 64);
	assert_int_equal(c.buf, 0);
	assert_true(c.beat == 0);
	assert_true(c.secs == 3600);
	assert_int_equal(c.mode, 0);
	assert_string_equal(c.name, "a");
	/* An unambiguous prefix is the option; the last occurrence wins. */
	assert_int_equal(RUN(&c, "--po", "7", "-p", "9", "--mode", "b"), 0);
	assert_int_equal(c.port, 9);
	assert_int_equal(c.mode, 1);
	/* A uint16_t field next to others: only its two bytes are written. */
	assert_int_equal(RUN(&c, "--port", "65535"), 0);
	assert_int_equal(c.small, 0);
	assert_int_equal(c.ring, 0);
	/* "--" ends the options; nothing after it is parsed. */
	assert_int_equal(RUN(&c, "--port", "5", "--"), 0);
	assert_int_equal(c.port, 5);
}

static void test_value_errors(void **state)
{
	(void)state;
	REFUSED("invalid value '256' for --small (valid: 0..255)", "--small", "256");
	REFUSED("invalid value '0' for --port (valid: 1..65535)", "--port", "0");
	REFUSED("invalid value ' 1' for --port (valid: 1..65535)", "--port", " 1");
	REFUSED("invalid value '' for --port (valid: 1..65535)", "--port", "");
	REFUSED("invalid value '18446744073709551616' for --wide (valid: any)",
		"--wide", "18446744073709551616");
	REFUSED("invalid value '1000' for --ring (valid: a power of two, 64..32768)",
		"--ring", "1000");
	REFUSED("invalid value '32' for --ring (valid: a power of two, 64..32768)",
		"--ring", "32");
	/* OR_ZERO: above hi is the range's text, the gap below lo the extra. */
	REFUSED("invalid value '1048577' for --buf (valid: 0 or 4096..1048576)",
		"--buf", "1048577");
	REFUSED("invalid value '4095' for --buf (valid: 0 or 4096..1048576; less is too small)",
		"--buf", "4095");
	REFUSED("invalid value '1' for --buf (valid: 0 or 4096..1048576; less is too small)",
		"--buf", "1");
	REFUSED("invalid value '0.09' for --secs (valid: 0.1..3600 seconds)",
		"--secs", "0.09");
	REFUSED("invalid value 'nan' for --secs (valid: 0.1..3600 seconds)",
		"--secs", "nan");
	REFUSED("invalid value '0.001' for --beat (valid: 0 or 0.01..10)",
		"--beat", "0.001");
	REFUSED("invalid value '-1' for --beat (valid: 0 or 0.01..10)",
		"--beat", "-1");
	REFUSED("invalid value '' for --name (valid: 1..3 characters)", "--name", "");
	REFUSED("invalid value 'abcd' for --name (valid: 1..3 characters)",
		"--name", "abcd");
	REFUSED("invalid value 'x' for --dir (valid: an absolute path)", "--dir", "x");
	REFUSED("invalid value '' for --dir (valid: an absolute path)", "--dir", "");
	REFUSED("invalid value 'A' for --mode (valid: a, b or c)", "--mode", "A");
	REFUSED("invalid value 'y' for --add (valid: a word starting with x)",
		"--add", "y");
	REFUSED("invalid value 'x4' for --add (valid: at most 3 words)",
		"--add", "x1", "--add", "x2", "--add", "x3", "--add", "x4");
	/* The count comes first: the fourth is too many even if malformed. */
	REFUSED("invalid value 'y' for --add (valid: at most 3 words)",
		"--add", "x1", "--add", "x2", "--add", "x3", "--add", "y");
	REFUSED("bad --pair: '4,'", "--pair", "4,");
	/* The first bad value ends the parse: later ones are not looked at. */
	REFUSED("invalid value '0' for --port (valid: 1..65535)",
		"--port", "0", "--small", "999");
}

static void test_refused_value_is_not_stored(void **state)
{
	struct tcfg c;

	(void)state;
	assert_int_equal(RUN(&c, "--port", "7", "--port", "70000"), -EINVAL);
	assert_int_equal(c.port, 7);
	assert_int_equal(RUN(&c, "--ring", "128", "--ring", "100"), -EINVAL);
	assert_int_equal(c.ring, 128);
	assert_int_equal(RUN(&c, "--buf", "8192", "--buf", "1"), -EINVAL);
	assert_int_equal(c.buf, 8192);
	assert_int_equal(RUN(&c, "--beat", "1", "--beat", "0.001"), -EINVAL);
	assert_true(c.beat == 1);
	assert_int_equal(RUN(&c, "--name", "ab", "--name", "abcd"), -EINVAL);
	assert_string_equal(c.name, "ab");
	assert_int_equal(RUN(&c, "--mode", "b", "--mode", "d"), -EINVAL);
	assert_int_equal(c.mode, 1);
	assert_int_equal(RUN(&c, "--add", "x1", "--add", "y"), -EINVAL);
	assert_int_equal(c.n_add, 1);
}

static void test_argv_errors(void **state)
{
	struct tcfg c;
	unsigned int seen[T_COUNT];

	(void)state;
	REFUSED("unknown option '--bogus' (try --help)", "--bogus");
	REFUSED("unknown option '-x' (try --help)", "-x");
	REFUSED("--port needs a value (try --help)", "--port");
	REFUSED("-p needs a value (try --help)", "-p");
	/* "--s" could be --small or --secs. */
	REFUSED("unknown option '--s' (try --help)", "--s", "1");
	REFUSED("unexpected argument 'extra' (try --help)", "--quiet", "extra");
	REFUSED("unexpected argument '-' (try --help)", "-");
	/* A value for a flag, in the two wordings the programs use. */
	REFUSED("--quiet=1 needs a value (try --help)", "--quiet=1");
	assert_int_equal(run_seen(&topts_unknown, &c, seen,
				  (const char *const[]){ "--quiet=1", NULL }),
			 -EINVAL);
	assert_string_equal(logbuf, "unknown option '--quiet=1' (try --help)");
	/* Missing values stay "needs a value" in both. */
	assert_int_equal(run_seen(&topts_unknown, &c, seen,
				  (const char *const[]){ "--port", NULL }),
			 -EINVAL);
	assert_string_equal(logbuf, "--port needs a value (try --help)");
}

static void test_exit_option(void **state)
{
	struct tcfg c;

	(void)state;
	assert_int_equal(RUN(&c, "--port", "3", "--help", "--bogus", "--port", "0"),
			 XTEL_OPTS_EXIT);
	assert_int_equal(printed, 1);
	assert_int_equal(c.port, 3);
	assert_string_equal(logbuf, "");
	assert_int_equal(RUN(&c, "-h"), XTEL_OPTS_EXIT);
	assert_int_equal(printed, 2);
	/* An error before it wins. */
	REFUSED("invalid value '0' for --port (valid: 1..65535)",
		"--port", "0", "--help");
	assert_int_equal(printed, 2);
	/* A stop inside a cluster of short options leaves no state behind. */
	assert_int_equal(RUN(&c, "-hq"), XTEL_OPTS_EXIT);
	assert_int_equal(RUN(&c, "--port", "4"), 0);
	assert_int_equal(c.port, 4);
	assert_false(c.quiet);
}

static void test_seen_and_groups(void **state)
{
	struct tcfg c;
	unsigned int seen[T_COUNT];

	(void)state;
	memset(seen, 0xff, sizeof(seen));
	assert_int_equal(run_seen(&topts, &c, seen, (const char *const[]){
		"--dir", "/a", "--port", "1", "--dir", "/b", "--add", "x",
		"-q", NULL }), 0);
	assert_int_equal(seen[T_DIR], 1);
	assert_int_equal(seen[T_PORT], 2);
	assert_int_equal(seen[T_ADD], 3);
	assert_int_equal(seen[T_QUIET], 4);
	assert_int_equal(seen[T_SECS], 0);
	assert_int_equal(seen[T_HELP], 0);
	assert_string_equal(c.dir, "/b");
	/* The first given of a group, by argv order, not table order. */
	assert_int_equal(xtel_opts_first(&topts, seen, G_NET), T_PORT);
	assert_int_equal(xtel_opts_first(&topts, seen, G_DISK), T_DIR);
	assert_int_equal(xtel_opts_first(&topts, seen, G_NET | G_DISK), T_DIR);
	assert_int_equal(xtel_opts_first(&topts, seen, 1 << 5), -1);

	assert_int_equal(run_seen(&topts, &c, seen, (const char *const[]){
		"--secs", "1", "--add", "x", NULL }), 0);
	assert_int_equal(xtel_opts_first(&topts, seen, G_DISK), T_SECS);
	assert_int_equal(xtel_opts_first(&topts, seen, G_NET), T_SECS);
	assert_int_equal(run_seen(&topts, &c, seen, (const char *const[]){
		"--small", "1", NULL }), 0);
	assert_int_equal(xtel_opts_first(&topts, seen, G_NET | G_DISK), -1);
}

static void test_malformed_table(void **state)
{
	struct tcfg c;
	static const struct xtel_opt bad_size[] = {
		{ .name = "x", .metavar = "N", .type = XTEL_OPT_UINT, .size = 3 },
	};
	static const struct xtel_opt no_parse[] = {
		{ .name = "y", .metavar = "V", .type = XTEL_OPT_CUSTOM },
	};
	const struct xtel_opts t1 = { .opt = bad_size, .n = 1 };
	const struct xtel_opts t2 = { .opt = no_parse, .n = 1 };
	const struct xtel_opts t3 = { .opt = topt, .n = XTEL_OPTS_MAX + 1 };
	char want[64];

	(void)state;
	assert_int_equal(run_seen(&t1, &c, NULL, (const char *const[]){ NULL }),
			 -EINVAL);
	assert_string_equal(logbuf, "option table: entry 0 (--x) is malformed");
	assert_int_equal(run_seen(&t2, &c, NULL, (const char *const[]){ NULL }),
			 -EINVAL);
	assert_string_equal(logbuf, "option table: entry 0 (--y) is malformed");
	assert_int_equal(run_seen(&t3, &c, NULL, (const char *const[]){ NULL }),
			 -E2BIG);
	snprintf(want, sizeof(want), "option table: %d entries, at most %d",
		 XTEL_OPTS_MAX + 1, XTEL_OPTS_MAX);
	assert_string_equal(logbuf, want);
}

static char *render(const struct xtel_opts *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	xtel_opts_help(t, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static const struct xtel_opt hopt[] = {
	{ .name = "port", .metavar = "N", .section = "Receive:",
		.help = "UDP port (default 7700)" },
	/* "  --twenty-four-wide PPS" is 24 wide: one space, then column 25. */
	{ .name = "twenty-four-wide", .metavar = "PPS",
		.help = "first line\nsecond line" },
	/* 25 wide: the help starts on the next line. */
	{ .name = "twenty-five-width", .metavar = "PPS",
		.help = "on its own line\nand a second" },
	{ .name = "secret", .type = XTEL_OPT_FLAG },
	{ .name = "quiet", .section = "Output:", .help = "no table" },
	{ .name = "help", .label = "--help, --version", .help = "" },
	{ .name = "version", .type = XTEL_OPT_EXIT },
};

static void test_help_layout(void **state)
{
	const struct xtel_opts t = {
		.opt = hopt, .n = 7, .usage = "usage: prog [options]\n\n",
		.epilogue = "\nExit codes:\n  0 fine\n",
	};
	const struct xtel_opts gap = {
		.opt = hopt, .n = 7, .usage = "usage: prog\n",
		.blank_before_section = true,
	};
	char *s;

	(void)state;
	s = render(&t);
	assert_string_equal(s,
		"usage: prog [options]\n"
		"\n"
		"Receive:\n"
		"  --port N               UDP port (default 7700)\n"
		"  --twenty-four-wide PPS first line\n"
		"                         second line\n"
		"  --twenty-five-width PPS\n"
		"                         on its own line\n"
		"                         and a second\n"
		"Output:\n"
		"  --quiet                no table\n"
		"  --help, --version\n"
		"\n"
		"Exit codes:\n"
		"  0 fine\n");
	free(s);
	s = render(&gap);
	assert_string_equal(s,
		"usage: prog\n"
		"\n"
		"Receive:\n"
		"  --port N               UDP port (default 7700)\n"
		"  --twenty-four-wide PPS first line\n"
		"                         second line\n"
		"  --twenty-five-width PPS\n"
		"                         on its own line\n"
		"                         and a second\n"
		"\n"
		"Output:\n"
		"  --quiet                no table\n"
		"  --help, --version\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lower_bounds_and_spellings,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_value_is_not_stored,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_argv_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seen_and_groups, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_malformed_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_help_layout, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
