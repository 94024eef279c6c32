/* SPDX-License-Identifier: MIT */
/*
 * Bearer tokens of the HTTP API (--http-tokens FILE). The file holds no
 * token, only its SHA-256, one per line:
 *
 *     # scope  hash                                                   name
 *     read    sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 grafana
 *     admin   sha256:...                                              ops
 *
 * (make one with: printf %s "$TOKEN" | sha256sum). '#' starts a comment;
 * blank lines are skipped; the name is optional, at most 64 characters,
 * and shows in logs. Scope read may call every GET endpoint; admin also
 * the admin ones. A request's token is hashed and compared in constant
 * time against every entry. The table is replaced whole on reload
 * (SIGHUP), under a lock, and only when the new file parses.
 */
#ifndef XTEL_API_TOKENS_H
#define XTEL_API_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

enum xtel_api_scope {
	XTEL_API_SCOPE_NONE = 0,	/* no or unknown token */
	XTEL_API_SCOPE_READ,
	XTEL_API_SCOPE_ADMIN,
};

enum { XTEL_API_MAX_TOKENS = 1024, XTEL_API_TOKEN_MAX_LEN = 4096 };

struct xtel_api_tokens;

/*
 * Reads path. Returns 0, -errno when it cannot be read, or -EINVAL after
 * a message naming the line (a bad scope, a hash that is not 64 hex
 * digits after "sha256:", too many entries, no entry at all).
 */
int xtel_api_tokens_load(const char *path, struct xtel_api_tokens **out);
/* Re-reads the file it was loaded from; on an error the old table stays. */
int xtel_api_tokens_reload(struct xtel_api_tokens *t);
void xtel_api_tokens_free(struct xtel_api_tokens *t);

/* The scope of the token (len bytes, not NUL-terminated). */
enum xtel_api_scope xtel_api_tokens_scope(struct xtel_api_tokens *t,
					  const char *token, size_t len);

unsigned int xtel_api_tokens_count(struct xtel_api_tokens *t);

#endif /* XTEL_API_TOKENS_H */
