// SPDX-License-Identifier: MIT
/*
 * The token file of tokens.h: parsed whole into a new table, swapped in
 * under the lock. Hashing is OpenSSL's SHA-256; the comparison is
 * CRYPTO_memcmp over every entry, so the time taken says nothing about
 * which entry (or how much of one) matched.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "collector/api/tokens.h"

struct token {
	unsigned char hash[32];
	enum xtel_api_scope scope;
	char name[65];
};

struct table {
	unsigned int n;
	struct token tok[];
};

struct xtel_api_tokens {
	char *path;
	pthread_mutex_t lock;
	struct table *tab;
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One non-comment line into t; 0 or -EINVAL after a message. */
static int parse_line(const char *path, unsigned int lineno, char *line,
		      struct token *t)
{
	char *scope, *hash, *name, *extra, *save = NULL;

	scope = strtok_r(line, " \t", &save);
	hash = strtok_r(NULL, " \t", &save);
	name = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	memset(t, 0, sizeof(*t));
	if (!strcmp(scope, "read")) {
		t->scope = XTEL_API_SCOPE_READ;
	} else if (!strcmp(scope, "admin")) {
		t->scope = XTEL_API_SCOPE_ADMIN;
	} else {
		pr_err("--http-tokens %s:%u: scope '%s' is neither read nor "
		       "admin", path, lineno, scope);
		return -EINVAL;
	}
	if (!hash || strncmp(hash, "sha256:", 7) || strlen(hash) != 7 + 64) {
		pr_err("--http-tokens %s:%u: expected sha256:<64 hex digits> "
		       "after the scope (make it with: printf %%s \"$TOKEN\" "
		       "| sha256sum)", path, lineno);
		return -EINVAL;
	}
	for (int i = 0; i < 32; i++) {
		int hi = hexval(hash[7 + 2 * i]), lo = hexval(hash[8 + 2 * i]);

		if (hi < 0 || lo < 0) {
			pr_err("--http-tokens %s:%u: the hash has a character "
			       "that is no hex digit", path, lineno);
			return -EINVAL;
		}
		t->hash[i] = (unsigned char)(hi << 4 | lo);
	}
	if (extra || (name && strlen(name) >= sizeof(t->name))) {
		pr_err("--http-tokens %s:%u: after the hash only a name of at "
		       "most 64 characters may follow", path, lineno);
		return -EINVAL;
	}
	snprintf(t->name, sizeof(t->name), "%s", name ? name : "");
	return 0;
}

static int load_table(const char *path, struct table **out)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned int lineno = 0;
	struct table *tab;
	int rc = 0;

	if (!f) {
		rc = -errno;
		pr_err("--http-tokens %s: %s", path, strerror(errno));
		return rc;
	}
	tab = calloc(1, sizeof(*tab) + XTEL_API_MAX_TOKENS * sizeof(tab->tok[0]));
	if (!tab) {
		fclose(f);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *hash = strchr(line, '#');

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			pr_err("--http-tokens %s:%u: line longer than %zu "
			       "bytes", path, lineno, sizeof(line) - 2);
			rc = -EINVAL;
			break;
		}
		if (hash)
			*hash = '\0';
		p[strcspn(p, "\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			continue;
		if (tab->n == XTEL_API_MAX_TOKENS) {
			pr_err("--http-tokens %s:%u: more than %d tokens", path,
			       lineno, XTEL_API_MAX_TOKENS);
			rc = -EINVAL;
			break;
		}
		rc = parse_line(path, lineno, p, &tab->tok[tab->n]);
		if (rc)
			break;
		tab->n++;
	}
	if (!rc && ferror(f)) {
		rc = -EIO;
		pr_err("--http-tokens %s: read error", path);
	}
	fclose(f);
	if (!rc && tab->n == 0) {
		pr_err("--http-tokens %s: no token in the file (a line is "
		       "'read|admin sha256:HEX [name]')", path);
		rc = -EINVAL;
	}
	if (rc) {
		free(tab);
		return rc;
	}
	*out = tab;
	return 0;
}

int xtel_api_tokens_load(const char *path, struct xtel_api_tokens **out)
{
	struct xtel_api_tokens *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return -ENOMEM;
	t->path = strdup(path);
	if (!t->path) {
		free(t);
		return -ENOMEM;
	}
	rc = load_table(path, &t->tab);
	if (rc) {
		free(t->path);
		free(t);
		return rc;
	}
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return 0;
}

int xtel_api_tokens_reload(struct xtel_api_tokens *t)
{
	struct table *tab, *old;
	int rc = load_table(t->path, &tab);

	if (rc) {
		pr_err("--http-tokens %s: reload failed, the previous tokens "
		       "stay in force", t->path);
		return rc;
	}
	pthread_mutex_lock(&t->lock);
	old = t->tab;
	t->tab = tab;
	pthread_mutex_unlock(&t->lock);
	free(old);
	pr_info("--http-tokens %s: %u token%s loaded", t->path, tab->n,
		tab->n == 1 ? "" : "s");
	return 0;
}

void xtel_api_tokens_free(struct xtel_api_tokens *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->tab);
	free(t->path);
	free(t);
}

enum xtel_api_scope xtel_api_tokens_scope(struct xtel_api_tokens *t,
					  const char *token, size_t len)
{
	unsigned char h[32];
	unsigned int hlen = 0;
	enum xtel_api_scope scope = XTEL_API_SCOPE_NONE;

	if (len == 0 || len > XTEL_API_TOKEN_MAX_LEN ||
	    !EVP_Digest(token, len, h, &hlen, EVP_sha256(), NULL))
		return XTEL_API_SCOPE_NONE;
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < t->tab->n; i++)
		if (!CRYPTO_memcmp(h, t->tab->tok[i].hash, sizeof(h)) &&
		    t->tab->tok[i].scope > scope)
			scope = t->tab->tok[i].scope;
	pthread_mutex_unlock(&t->lock);
	return scope;
}

unsigned int xtel_api_tokens_count(struct xtel_api_tokens *t)
{
	unsigned int n;

	pthread_mutex_lock(&t->lock);
	n = t->tab->n;
	pthread_mutex_unlock(&t->lock);
	return n;
}
