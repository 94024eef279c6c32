// SPDX-License-Identifier: MIT
/*
 * The service side of the option table (see options_service.h): built-in
 * options, the libconfig config file, --print-config, --check-config, the
 * man page, and the SIGHUP re-parse. libconfig was chosen over TOML
 * because Debian 12 has no maintained C TOML library (only C++'s toml11),
 * while libconfig is packaged, stable for a decade, reports the line of
 * every setting (config_setting_source_line) and of every syntax error,
 * and its `key = value;` syntax maps one to one onto long options,
 * dashes included.
 *
 * A start, and every re-parse, runs the same four steps: the program's
 * defaults, the built-in options of argv (--config, --log-*; --help and
 * the other exits stop here), the file, then the program's options of argv
 * on top, and the program's cross-option checks.
 */
#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/options.h"
#include "common/options_service.h"
#include "common/version.h"

/* The built-in options' values. */
struct svc_vals {
	const char *config;
	bool check_config, print_config;
	unsigned int log_level;		/* enum xtel_log_level */
	unsigned int log_format;	/* enum xtel_log_format */
};

enum svc_opt {
	SVC_CONFIG, SVC_CHECK_CONFIG, SVC_PRINT_CONFIG,	/* with a config file */
	SVC_LOG_LEVEL, SVC_LOG_FORMAT, SVC_VERSION, SVC_MAN,
	SVC_N,
};

static const char *const level_names[] = {
	"err", "warn", "info", "debug", NULL,
};
static const char *const format_names[] = {
	"auto", "text", "journal", "json", NULL,
};

static void print_version(FILE *out);
static void print_man(FILE *out);

#define SV struct svc_vals

static struct xtel_opt svc_opt[SVC_N] = {
	[SVC_CONFIG] = { .name = "config", .metavar = "FILE",
		.section = "Configuration and logs:",
		XTEL_OPT_STRING_AT(SV, config), .lo = 1,
		.valid = "a file path",
		/* .help is filled with the program's default path */ },
	[SVC_CHECK_CONFIG] = { .name = "check-config",
		XTEL_OPT_FLAG_AT(SV, check_config),
		.help = "check the config file and the options (all the\n"
			"start-up checks of values), then exit: 0 when\n"
			"valid, else 2 after the FILE:LINE: KEY of the error" },
	[SVC_PRINT_CONFIG] = { .name = "print-config",
		XTEL_OPT_FLAG_AT(SV, print_config),
		.help = "print the configuration in effect (defaults, the\n"
			"file, the flags) in the file's syntax, then exit" },
	[SVC_LOG_LEVEL] = { .name = "log-level", .metavar = "LEVEL",
		XTEL_OPT_CHOICE_AT(SV, log_level, level_names),
		.valid = "err, warn, info or debug", .reload = true,
		.help = "err, warn, info (default) or debug; re-read on\n"
			"SIGHUP from the config file" },
	[SVC_LOG_FORMAT] = { .name = "log-format", .metavar = "FMT",
		XTEL_OPT_CHOICE_AT(SV, log_format, format_names),
		.valid = "auto, text, journal or json",
		.help = "auto (default: journal priorities when stderr is\n"
			"the systemd journal, else text), text, journal\n"
			"or json (one object per line, for log shippers)" },
	[SVC_VERSION] = { .name = "version", .type = XTEL_OPT_EXIT,
		.print = print_version,
		.help = "print the version (and git describe) and exit" },
	[SVC_MAN] = { .name = "man", .type = XTEL_OPT_EXIT, .print = print_man },
};

/* The full set, or without the config entries (a table without a file). */
static struct xtel_opts svc_full = { .opt = svc_opt, .n = SVC_N };
static struct xtel_opts svc_nofile = { .opt = svc_opt + SVC_LOG_LEVEL,
				       .n = SVC_N - SVC_LOG_LEVEL };

/* The process's state: one program table per process. */
static struct {
	const struct xtel_opts *t;
	int argc;
	char **argv;
	unsigned int base_level;	/* the program's level before options */
	struct svc_vals cur, pending;
	const char *file;		/* the file read at start, NULL: none */
	/* what the start's file or argv gave: table entries, then built-ins */
	unsigned int given[XTEL_OPTS_TOTAL];
	char config_help[256];
} svc;

/* ---- interned strings ---- */

struct intern {
	struct intern *next;
	char s[];
};

static struct intern *interned;

/* s, stored once for the process; NULL when out of memory. */
static const char *intern(const char *s)
{
	size_t n = strlen(s);
	struct intern *e;

	for (e = interned; e; e = e->next)
		if (!strcmp(e->s, s))
			return e->s;
	e = malloc(sizeof(*e) + n + 1);
	if (!e)
		return NULL;
	memcpy(e->s, s, n + 1);
	e->next = interned;
	interned = e;
	return e->s;
}

void xtel_opts_free(void)
{
	while (interned) {
		struct intern *e = interned;

		interned = e->next;
		free(e);
	}
}

const struct xtel_opts *xtel_opts_builtin(const struct xtel_opts *t)
{
	if (!t->config_path)
		return &svc_nofile;
	if (!svc_opt[SVC_CONFIG].help) {
		snprintf(svc.config_help, sizeof(svc.config_help),
			 "read options from FILE, keys = long options\n"
			 "(`port = 7700;`); flags override it (default\n"
			 "%s, when it exists)", t->config_path);
		svc_opt[SVC_CONFIG].help = svc.config_help;
	}
	return &svc_full;
}

const char *xtel_opts_config_file(void)
{
	return svc.file;
}

static void print_version(FILE *out)
{
	fprintf(out, "%s (xtel) %s (git %s)\n", svc.t->prog, xtel_version(),
		xtel_git_describe());
}

static void print_man(FILE *out)
{
	xtel_opts_man(svc.t, out);
}

/* ---- values as text (--print-config, change detection) ---- */

static uint64_t load_uint(const void *p, size_t size)
{
	switch (size) {
	case 1: return *(const uint8_t *)p;
	case 2: return *(const uint16_t *)p;
	case 4: return *(const uint32_t *)p;
	default: return *(const uint64_t *)p;
	}
}

/* s quoted in libconfig's syntax, appended at buf + *len. */
static void put_quoted(char *buf, size_t size, size_t *len, const char *s)
{
	size_t n = *len;

	if (n + 1 < size)
		buf[n++] = '"';
	for (; *s && n + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	if (n + 1 < size)
		buf[n++] = '"';
	buf[n] = '\0';
	*len = n;
}

/* The shortest %g that reads back as v. */
static void put_double(char *buf, size_t size, double v)
{
	if (v == (double)(long long)v && v > -1e15 && v < 1e15) {
		snprintf(buf, size, "%lld", (long long)v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static const void *field_of(const struct xtel_opt *o, const void *cfg)
{
	return (const char *)cfg + o->offset;
}

/* NULL: not set (a NULL string, an empty list, a CUSTOM without show). */
static const char *show(const struct xtel_opt *o, const void *cfg)
{
	static char buf[8192];
	const void *p = field_of(o, cfg);
	const char *s;
	size_t len = 0;

	switch (o->type) {
	case XTEL_OPT_FLAG:
		return *(const bool *)p ? "true" : "false";
	case XTEL_OPT_UINT:
		snprintf(buf, sizeof(buf), "%llu",
			 (unsigned long long)load_uint(p, o->size));
		return buf;
	case XTEL_OPT_DOUBLE:
		put_double(buf, sizeof(buf), *(const double *)p);
		return buf;
	case XTEL_OPT_CHOICE:
		put_quoted(buf, sizeof(buf), &len,
			   o->choices[load_uint(p, o->size)]);
		return buf;
	case XTEL_OPT_STRING:
		s = *(const char *const *)p;
		if (!s)
			return NULL;
		put_quoted(buf, sizeof(buf), &len, s);
		return buf;
	case XTEL_OPT_STRINGS: {
		const char *const *v = p;
		unsigned int n = *(const unsigned int *)((const char *)cfg +
							 o->count_offset);

		if (!n)
			return NULL;
		buf[len++] = '[';
		for (unsigned int i = 0; i < n; i++) {
			if (i && len + 2 < sizeof(buf)) {
				buf[len++] = ',';
				buf[len++] = ' ';
			}
			put_quoted(buf, sizeof(buf), &len, v[i]);
		}
		if (len + 1 < sizeof(buf))
			buf[len++] = ']';
		buf[len] = '\0';
		return buf;
	}
	case XTEL_OPT_CUSTOM:
		s = o->show ? o->show(o, cfg) : NULL;
		if (!s)
			return NULL;
		put_quoted(buf, sizeof(buf), &len, s);
		return buf;
	case XTEL_OPT_EXIT:
		break;
	}
	return NULL;
}

const char *xtel_opts_show(const struct xtel_opts *t, unsigned int i,
			   const void *cfg)
{
	return show(&t->opt[i], cfg);
}

/* A key of the config file: a value, not a command. */
static bool is_key(const struct xtel_opt *o)
{
	return o->type != XTEL_OPT_EXIT && o != &svc_opt[SVC_CONFIG] &&
	       o != &svc_opt[SVC_CHECK_CONFIG] && o != &svc_opt[SVC_PRINT_CONFIG];
}

/*
 * What was given as a key; a default as a comment, so the output read
 * back as a config file gives the same configuration.
 */
static void print_entries(const struct xtel_opts *t, const void *cfg,
			  const unsigned int *given, FILE *out)
{
	for (unsigned int i = 0; i < t->n; i++) {
		const struct xtel_opt *o = &t->opt[i];
		const char *v;

		if (!is_key(o))
			continue;
		v = show(o, cfg);
		if (!v)
			fprintf(out, "# %s: not set\n", o->name);
		else
			fprintf(out, "%s%s = %s;\n", given[i] ? "" : "# ",
				o->name, v);
	}
}

void xtel_opts_print_config(const struct xtel_opts *t, const void *cfg,
			    FILE *out)
{
	fprintf(out, "# %s (xtel) %s: the configuration in effect%s%s\n",
		t->prog, xtel_version(), svc.file ? ", read from " : "",
		svc.file ? svc.file : "");
	print_entries(t, cfg, svc.given, out);
	print_entries(xtel_opts_builtin(t), &svc.cur, svc.given + t->n, out);
}

/* ---- the config file ---- */

static int find_key(const struct xtel_opts *t, const struct xtel_opts *b,
		    const char *name)
{
	for (unsigned int i = 0; i < t->n; i++)
		if (!strcmp(t->opt[i].name, name))
			return (int)i;
	for (unsigned int i = 0; i < b->n; i++)
		if (!strcmp(b->opt[i].name, name))
			return (int)(t->n + i);
	return -1;
}

/* A scalar setting as the text its flag would have been given. */
static const char *setting_text(const config_setting_t *s)
{
	char buf[64];

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		return intern(config_setting_get_string(s));
	case CONFIG_TYPE_INT:
		snprintf(buf, sizeof(buf), "%d", config_setting_get_int(s));
		return intern(buf);
	case CONFIG_TYPE_INT64:
		snprintf(buf, sizeof(buf), "%lld",
			 (long long)config_setting_get_int64(s));
		return intern(buf);
	case CONFIG_TYPE_FLOAT:
		put_double(buf, sizeof(buf), config_setting_get_float(s));
		return intern(buf);
	case CONFIG_TYPE_BOOL:
		return intern(config_setting_get_bool(s) ? "true" : "false");
	default:
		return NULL;
	}
}

static bool is_scalar(const config_setting_t *s)
{
	int type = config_setting_type(s);

	return type == CONFIG_TYPE_STRING || type == CONFIG_TYPE_INT ||
	       type == CONFIG_TYPE_INT64 || type == CONFIG_TYPE_FLOAT ||
	       type == CONFIG_TYPE_BOOL;
}

/*
 * One setting into dst by its option: 0 applied, 1 a flag set to false
 * (not "given"), -EINVAL after a message.
 */
static int apply_setting(const struct xtel_opt *o, const config_setting_t *s,
			 void *dst)
{
	struct xtel_opts one = { .opt = o, .n = 1 };
	const char *v;

	if (!is_key(o)) {
		pr_err("--%s is a command, not a key of the config file",
		       o->name);
		return -EINVAL;
	}
	if (o->type == XTEL_OPT_FLAG) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			pr_err("expected true or false (a flag)");
			return -EINVAL;
		}
		*(bool *)((char *)dst + o->offset) = config_setting_get_bool(s);
		return config_setting_get_bool(s) ? 0 : 1;
	}
	if (o->type == XTEL_OPT_STRINGS &&
	    (config_setting_is_array(s) || config_setting_is_list(s))) {
		int n = config_setting_length(s);

		*(unsigned int *)((char *)dst + o->count_offset) = 0;
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned int)i);

			v = is_scalar(e) ? setting_text(e) : NULL;
			if (!v) {
				pr_err("expected a list of values");
				return -EINVAL;
			}
			if (xtel_opts_apply(&one, 0, v, dst))
				return -EINVAL;
		}
		return 0;
	}
	if (!is_scalar(s) || config_setting_type(s) == CONFIG_TYPE_BOOL) {
		pr_err("expected %s", o->type == XTEL_OPT_STRINGS ?
		       "a value or a list of values" : "one value");
		return -EINVAL;
	}
	v = setting_text(s);
	if (!v) {
		pr_err("out of memory");
		return -EINVAL;
	}
	if (o->type == XTEL_OPT_STRINGS)
		*(unsigned int *)((char *)dst + o->count_offset) = 0;
	return xtel_opts_apply(&one, 0, v, dst) ? -EINVAL : 0;
}

/*
 * The file's settings into cfg (t's keys) and vals (the built-in ones);
 * file_seen[i] is the position of key i in the file. 0 or -EINVAL after
 * a message "FILE:LINE: KEY: what is wrong".
 */
static int load_file(const struct xtel_opts *t, const struct xtel_opts *b,
		     const char *path, void *cfg, struct svc_vals *vals,
		     unsigned int *file_seen)
{
	config_setting_t *root;
	char ctx[512];
	unsigned int pos = 0;
	config_t c;
	int rc = 0;

	config_init(&c);
	if (!config_read_file(&c, path)) {
		if (config_error_type(&c) == CONFIG_ERR_FILE_IO)
			pr_err("--config %s: cannot read it (%s)", path,
			       strerror(errno ? errno : ENOENT));
		else
			pr_err("%s:%d: %s", config_error_file(&c) ?
			       config_error_file(&c) : path,
			       config_error_line(&c), config_error_text(&c));
		config_destroy(&c);
		return -EINVAL;
	}
	root = config_root_setting(&c);
	for (int i = 0; i < config_setting_length(root) && !rc; i++) {
		config_setting_t *s = config_setting_get_elem(root, (unsigned int)i);
		const char *file = config_setting_source_file(s);
		const char *name = config_setting_name(s);
		int k = find_key(t, b, name);

		snprintf(ctx, sizeof(ctx), "%s:%u: %s", file ? file : path,
			 config_setting_source_line(s), name);
		xtel_log_set_context(ctx);
		if (k < 0) {
			pr_err("unknown key (%s has no --%s; see --help)",
			       t->prog, name);
			rc = -EINVAL;
		} else {
			const struct xtel_opt *o = k < (int)t->n ? &t->opt[k] :
					   &b->opt[k - (int)t->n];

			rc = apply_setting(o, s, k < (int)t->n ? cfg : (void *)vals);
			if (rc == 0)
				file_seen[k] = ++pos;
			if (rc > 0)
				rc = 0;
		}
		xtel_log_set_context(NULL);
	}
	config_destroy(&c);
	return rc;
}

/* The four steps (see the top); seen as xtel_opts_parse's. */
static int parse_all(const struct xtel_opts *t, int argc, char **argv,
		     void *cfg, struct svc_vals *vals, unsigned int *seen,
		     bool first)
{
	const struct xtel_opts *b = xtel_opts_builtin(t);
	unsigned int all[XTEL_OPTS_TOTAL], file_seen[XTEL_OPTS_TOTAL] = { 0 };
	unsigned int given = 0;
	bool explicit;
	int rc;

	if (t->n > XTEL_OPTS_MAX) {
		pr_err("option table: %u entries, at most %d", t->n,
		       XTEL_OPTS_MAX);
		return -E2BIG;
	}
	if (t->defaults)
		t->defaults(cfg);
	*vals = (struct svc_vals){
		.config = t->config_path,
		.log_level = svc.base_level,
		.log_format = XTEL_LOG_FMT_AUTO,
	};
	rc = xtel_opts_parse_argv(t, b, argc, argv, cfg, vals, all,
				  XTEL_OPTS_PASS_BUILTIN);
	if (rc)
		return rc;
	if (first)	/* the file's errors already in the asked format */
		xtel_log_set_format((enum xtel_log_format)vals->log_format);
	explicit = t->config_path && all[t->n + SVC_CONFIG];
	if (t->config_path && (explicit || access(vals->config, F_OK) == 0)) {
		const char *path = intern(vals->config);

		if (!path)
			return -ENOMEM;
		rc = load_file(t, b, path, cfg, vals, file_seen);
		if (rc)
			return rc;
		if (first)
			svc.file = path;
		/* The flags win over the file's built-in keys too. */
		rc = xtel_opts_parse_argv(t, b, argc, argv, cfg, vals, all,
					  XTEL_OPTS_PASS_BUILTIN);
		if (rc)
			return rc;
		if (first)
			xtel_log_set_format((enum xtel_log_format)vals->log_format);
	}
	rc = xtel_opts_parse_argv(t, b, argc, argv, cfg, vals, all,
				  XTEL_OPTS_PASS_TABLE);
	if (rc)
		return rc;
	for (unsigned int i = 0; i < t->n; i++)
		if (all[i] > given)
			given = all[i];
	for (unsigned int i = 0; i < t->n; i++) {
		seen[i] = all[i];
		if (!seen[i] && file_seen[i])
			seen[i] = given + file_seen[i];
	}
	if (first)
		for (unsigned int i = 0; i < t->n + b->n; i++)
			svc.given[i] = all[i] || file_seen[i];
	if (t->check && t->check(cfg, seen))
		return -EINVAL;
	return 0;
}

int xtel_opts_service_parse(const struct xtel_opts *t, int argc, char **argv,
			    void *cfg, unsigned int *seen)
{
	unsigned int local[XTEL_OPTS_MAX];
	int rc;

	svc.t = t;
	svc.argc = argc;
	svc.argv = argv;
	svc.base_level = xtel_log_max();
	svc.file = NULL;
	rc = parse_all(t, argc, argv, cfg, &svc.cur, seen ? seen : local, true);
	if (rc)
		return rc;
	xtel_log_set_level((enum xtel_log_level)svc.cur.log_level);
	if (svc.cur.check_config) {
		printf("%s: configuration valid%s%s\n", t->prog,
		       svc.file ? " in " : " (no config file)",
		       svc.file ? svc.file : "");
		return XTEL_OPTS_EXIT;
	}
	if (svc.cur.print_config) {
		xtel_opts_print_config(t, cfg, stdout);
		return XTEL_OPTS_EXIT;
	}
	return 0;
}

int xtel_opts_reparse(const struct xtel_opts *t, void *cfg)
{
	unsigned int seen[XTEL_OPTS_MAX];
	int rc;

	if (svc.t != t)
		return -EINVAL;
	rc = parse_all(t, svc.argc, svc.argv, cfg, &svc.pending, seen, false);
	return rc ? -EINVAL : 0;
}

/* Counts the changed values of t's entries; copies the .reload ones. */
static unsigned int take(const struct xtel_opts *t, void *dst, const void *src)
{
	unsigned int changed = 0;

	for (unsigned int i = 0; i < t->n; i++) {
		const struct xtel_opt *o = &t->opt[i];
		char before[512];
		const char *now;

		if (!is_key(o))
			continue;
		now = show(o, dst);
		snprintf(before, sizeof(before), "%s", now ? now : "(not set)");
		now = show(o, src);
		if (!strcmp(before, now ? now : "(not set)"))
			continue;
		changed++;
		if (!o->reload || o->type == XTEL_OPT_CUSTOM) {
			pr_warn("reload: %s changed to %s: it takes effect at "
				"the next start", o->name, now ? now : "(not set)");
			continue;
		}
		pr_info("reload: %s = %s (was %s)", o->name,
			now ? now : "(not set)", before);
		memcpy((char *)dst + o->offset, (const char *)src + o->offset,
		       o->type == XTEL_OPT_STRINGS ? o->hi * sizeof(char *) :
						     o->size);
		if (o->type == XTEL_OPT_STRINGS)
			memcpy((char *)dst + o->count_offset,
			       (const char *)src + o->count_offset,
			       sizeof(unsigned int));
	}
	return changed;
}

unsigned int xtel_opts_take_reloadable(const struct xtel_opts *t, void *dst,
				       const void *src)
{
	unsigned int n = take(t, dst, src);

	n += take(xtel_opts_builtin(t), &svc.cur, &svc.pending);
	xtel_log_set_level((enum xtel_log_level)svc.cur.log_level);
	return n;
}

/* ---- the man page ---- */

/* Text in roff: backslashes and dashes escaped, a leading dot guarded. */
static void roff(FILE *out, const char *s, size_t n)
{
	bool bol = true;

	for (size_t i = 0; i < n && s[i]; i++) {
		char c = s[i];

		if (bol && (c == '.' || c == '\''))
			fputs("\\&", out);
		if (c == '\\')
			fputs("\\e", out);
		else if (c == '-')
			fputs("\\-", out);
		else
			fputc(c, out);
		bol = c == '\n';
	}
}

static void roff_str(FILE *out, const char *s)
{
	roff(out, s, strlen(s));
}

static void man_entries(const struct xtel_opts *t, FILE *out)
{
	for (unsigned int i = 0; i < t->n; i++) {
		const struct xtel_opt *o = &t->opt[i];
		const char *line, *end;

		if (o->section) {
			fputs(".SS ", out);
			roff_str(out, o->section);
			fputc('\n', out);
		}
		if (!o->help)
			continue;
		fputs(".TP\n", out);
		if (o->label) {
			fputs(".B ", out);
			roff_str(out, o->label);
		} else {
			fputs("\\fB\\-\\-", out);
			roff_str(out, o->name);
			fputs("\\fR", out);
			if (o->metavar) {
				fputs(" \\fI", out);
				roff_str(out, o->metavar);
				fputs("\\fR", out);
			}
		}
		fputc('\n', out);
		if (!*o->help) {
			fputs("(see above)\n", out);
			continue;
		}
		/* --help's lines joined into one paragraph. */
		for (line = o->help;; line = end + 1) {
			end = strchrnul(line, '\n');
			roff(out, line, (size_t)(end - line));
			fputc(*end ? ' ' : '\n', out);
			if (!*end)
				break;
		}
		if (o->reload)
			fputs(".br\nRe-read from the config file on SIGHUP.\n", out);
	}
}

void xtel_opts_man(const struct xtel_opts *t, FILE *out)
{
	const char *u = t->usage ? t->usage : "", *nl = strchrnul(u, '\n');
	const char *synopsis = u;

	if (!strncmp(synopsis, "usage: ", 7))
		synopsis += 7;
	fprintf(out, ".\\\" Generated by `%s --man` from its option table.\n"
		".TH %s %s \"\" \"xtel %s\" \"XTel\"\n.SH NAME\n%s \\- ",
		t->prog, t->prog, t->man_section ? t->man_section : "1",
		xtel_version(), t->prog);
	roff_str(out, t->summary ? t->summary : "an XTel program");
	fputs("\n.SH SYNOPSIS\n.B ", out);
	roff(out, synopsis, (size_t)(nl - synopsis));
	fputs("\n.SH DESCRIPTION\n", out);
	if (*nl)
		roff_str(out, nl + 1 + strspn(nl + 1, "\n"));
	fputs("\n.SH OPTIONS\n", out);
	man_entries(t, out);
	man_entries(xtel_opts_builtin(t), out);
	if (t->config_path) {
		fputs(".SH CONFIGURATION\nEvery long option is also a key of "
		      "the config file\n.I ", out);
		roff_str(out, t->config_path);
		fputs("\n(libconfig syntax: \\fBkey = value;\\fR, strings in "
		      "double quotes,\nflags \\fBtrue\\fR or \\fBfalse\\fR, "
		      "a list for a repeatable option).\nOptions given on the "
		      "command line override the file.\n\\fB\\-\\-check\\-config"
		      "\\fR names the line and key of an error;\n\\fB\\-\\-print"
		      "\\-config\\fR prints the configuration in effect.\n", out);
	}
	if (t->epilogue) {
		fputs(".SH EXIT STATUS\n.nf\n", out);
		roff_str(out, t->epilogue + strspn(t->epilogue, "\n"));
		fputs(".fi\n", out);
	}
	if (t->man_text)
		fputs(t->man_text, out);
}
