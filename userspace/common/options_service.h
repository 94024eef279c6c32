/* SPDX-License-Identifier: MIT */
/*
 * What a program's option table (options.h with .prog set) gets for free
 * to run as a service: the built-in options --version, --log-level,
 * --log-format and the hidden --man, and with .config_path a config file
 * whose keys are the table's long options, read with libconfig
 * (`port = 7700;`, `allow = ["198.18.0.0/24", "2001:2::/64"];`,
 * `no-xdp = true;`). Each value goes through the option's own parser, so
 * a key is checked exactly as its flag is, and an error names the file,
 * the line and the key. Flags given on the command line override the file.
 * --check-config validates all of it (the program's cross-option checks
 * too) and exits, --print-config prints the configuration in effect in the
 * file's syntax, and xtel_opts_reparse/xtel_opts_take_reloadable re-read
 * it on SIGHUP for the options marked .reload.
 *
 * The strings read from a file are interned for the life of the process
 * (a value once seen is stored once), so a re-read never frees a string a
 * running configuration points to and repeated SIGHUPs do not grow memory.
 */
#ifndef XTEL_OPTIONS_SERVICE_H
#define XTEL_OPTIONS_SERVICE_H

#include <stdio.h>

#include "common/options.h"

/* Called by xtel_opts_parse for a table with .prog. */
int xtel_opts_service_parse(const struct xtel_opts *t, int argc, char **argv,
			    void *cfg, unsigned int *seen);
/* The built-in entries that go with t (after t's own in --help). */
const struct xtel_opts *xtel_opts_builtin(const struct xtel_opts *t);

/* The config file read at start (NULL: none). */
const char *xtel_opts_config_file(void);

/*
 * SIGHUP: the whole configuration again into cfg (a scratch struct: the
 * program's defaults, the config file, then the same argv as at start),
 * with every check. Returns 0, or -EINVAL after messages naming the file,
 * line and key (the running configuration is then untouched).
 */
int xtel_opts_reparse(const struct xtel_opts *t, void *cfg);
/*
 * After the program accepted what reparse read (it loaded the new files):
 * copies the .reload options that changed from src to dst and applies a
 * new --log-level, logging each change; an option without .reload that
 * changed is logged as needing a restart and keeps its running value.
 * Returns how many values changed.
 */
unsigned int xtel_opts_take_reloadable(const struct xtel_opts *t, void *dst,
				       const void *src);

/* --print-config's text for cfg (also the built-in log settings). */
void xtel_opts_print_config(const struct xtel_opts *t, const void *cfg,
			    FILE *out);
/* --man: the man page of t in roff. */
void xtel_opts_man(const struct xtel_opts *t, FILE *out);

/* Frees the interned strings; at exit, after the last use of a config. */
void xtel_opts_free(void);

#endif /* XTEL_OPTIONS_SERVICE_H */
