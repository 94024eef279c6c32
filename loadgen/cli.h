/* SPDX-License-Identifier: MIT */
/*
 * Command-line parsing for loadgen: turns argv into a validated
 * struct xtel_lg_config. Every rejected value is reported on stderr with the
 * flag's name and the accepted range, so the caller only maps the result to
 * an exit code.
 */
#ifndef XTEL_LG_CLI_H
#define XTEL_LG_CLI_H

#include <stdio.h>

#include "config.h"

enum xtel_lg_cli_result {
	XTEL_LG_CLI_RUN = 0,	/* cfg is complete: run */
	XTEL_LG_CLI_EXIT_OK,	/* --help or --version was printed */
	XTEL_LG_CLI_BAD,	/* a message was printed on stderr */
};

enum xtel_lg_cli_result xtel_lg_cli_parse(int argc, char **argv,
					  struct xtel_lg_config *cfg);

void xtel_lg_cli_usage(FILE *out);

/* "198.18.0.1:7700" / "[2001:2::1]:7700" into *ss; 0 or -EINVAL. */
int xtel_lg_parse_addr_port(const char *s, struct sockaddr_storage *ss,
			    socklen_t *len);

#endif /* XTEL_LG_CLI_H */
