// SPDX-License-Identifier: MIT
/*
 * The shared database file (db.h): open with the pragmas every component
 * relies on, and the per-component migration runner. The messages say what
 * to fix: a missing directory, a file or directory this user cannot write,
 * a file that is not a database, a schema newer than this program.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "store/db.h"

int xtel_db_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -EBADMSG;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

int xtel_db_exec(sqlite3 *db, const char *sql, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc == SQLITE_OK)
		return 0;
	pr_err("%s: %s", what, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return xtel_db_errno(rc);
}

/* Why path cannot be opened, from the file system's point of view. */
static int explain(const char *path, unsigned int flags, const char *what)
{
	char *copy = strdup(path);
	const char *dir = copy ? dirname(copy) : ".";
	struct stat st;
	int rc;

	if (stat(dir, &st) != 0) {
		pr_err("%s: directory %s does not exist: create it or pick "
		       "another path", what, dir);
		rc = -ENOENT;
	} else if (!S_ISDIR(st.st_mode)) {
		pr_err("%s: %s is not a directory", what, dir);
		rc = -ENOTDIR;
	} else if (flags & XTEL_DB_READONLY && access(path, F_OK) != 0) {
		pr_err("%s: no database yet (the collector's --db creates it)",
		       what);
		rc = -ENOENT;
	} else if (!(flags & XTEL_DB_READONLY) &&
		   access(path, F_OK) == 0 && access(path, W_OK) != 0) {
		pr_err("%s: the file is not writable by this user (%s): fix "
		       "its owner or mode, or pick another path", what,
		       strerror(errno));
		rc = errno == EROFS ? -EROFS : -EACCES;
	} else if (!(flags & XTEL_DB_READONLY) && access(dir, W_OK) != 0) {
		/* SQLite needs the directory too: the -wal and -shm files */
		pr_err("%s: directory %s is not writable by this user (%s); "
		       "SQLite keeps its -wal and -shm files beside the "
		       "database", what, dir, strerror(errno));
		rc = errno == EROFS ? -EROFS : -EACCES;
	} else {
		rc = 0;
	}
	free(copy);
	return rc;
}

int xtel_db_open(const char *path, unsigned int flags, const char *what,
		 sqlite3 **out)
{
	int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *mode;
	int rc;

	*out = NULL;
	rc = explain(path, flags, what);
	if (rc)
		return rc;
	oflags |= flags & XTEL_DB_READONLY ? SQLITE_OPEN_READONLY :
		  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &db, oflags, NULL);
	if (rc != SQLITE_OK) {
		pr_err("%s: cannot open: %s", what,
		       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return xtel_db_errno(rc);
	}
	sqlite3_busy_timeout(db, 5000);
	/*
	 * journal_mode reads the header: the first statement to fail on a
	 * file that is not a database. A reader leaves the mode as the
	 * writer set it (changing it needs a write).
	 */
	rc = sqlite3_prepare_v2(db, flags & XTEL_DB_READONLY ?
				"PRAGMA journal_mode" : "PRAGMA journal_mode=WAL",
				-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = sqlite3_extended_errcode(db);
		pr_err("%s: %s%s", what, sqlite3_errmsg(db),
		       (rc & 0xff) == SQLITE_NOTADB ? " (not an SQLite database: "
		       "pick another path)" : (rc & 0xff) == SQLITE_READONLY ?
		       " (read-only: check the file system and the file's "
		       "mode)" : "");
		sqlite3_finalize(st);
		sqlite3_close(db);
		return xtel_db_errno(rc);
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (!(flags & XTEL_DB_READONLY) && (!mode || strcmp(mode, "wal")))
		pr_warn("%s: journal mode is %s, not wal (the file system "
			"may not support shared memory): readers will wait "
			"for the writer", what, mode ? mode : "unknown");
	sqlite3_finalize(st);
	rc = xtel_db_exec(db, "PRAGMA synchronous=NORMAL; "
			  "PRAGMA foreign_keys=ON", what);
	if (rc) {
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

int xtel_db_prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql,
		    const char *what)
{
	int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				    st, NULL);

	if (rc != SQLITE_OK) {
		pr_err("%s: %s (in %.60s...)", what, sqlite3_errmsg(db), sql);
		return xtel_db_errno(rc);
	}
	return 0;
}

int xtel_db_error(sqlite3 *db, const char *what, const char *action)
{
	pr_err("%s: %s: %s", what, action, sqlite3_errmsg(db));
	return xtel_db_errno(sqlite3_extended_errcode(db));
}

int xtel_db_step(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	/* Reset at once: a statement left unreset pins the WAL. */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 :
	       xtel_db_errno(sqlite3_extended_errcode(db));
}

int xtel_db_lookup(sqlite3 *db, const char *sql, const char *key, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return xtel_db_errno(rc);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT :
	       xtel_db_errno(rc);
}

int xtel_db_version(sqlite3 *db, const char *component, int *out)
{
	int64_t v = 0;
	int rc = xtel_db_lookup(db, "SELECT version FROM xtel_schema "
				"WHERE component = ?1", component, &v);

	*out = (int)v;
	/* no row, or no table yet: version 0 */
	if (rc == -ENOENT || (rc && strstr(sqlite3_errmsg(db), "no such table")))
		return 0;
	return rc;
}

/* Step i (0-based) of c in one transaction, with its version row. */
static int apply(sqlite3 *db, const struct xtel_db_component *c,
		 unsigned int i, const char *what)
{
	sqlite3_stmt *st = NULL;
	int version, rc;

	rc = xtel_db_exec(db, "BEGIN IMMEDIATE", what);
	if (rc)
		return rc;
	/* Another connection may have migrated while we waited. */
	rc = xtel_db_version(db, c->name, &version);
	if (rc || version > (int)i)
		goto done;
	rc = xtel_db_exec(db, c->steps[i], what);
	if (rc)
		goto done;
	rc = xtel_db_prepare(db, &st, "INSERT INTO xtel_schema (component, "
			     "version) VALUES (?1, ?2) ON CONFLICT "
			     "(component) DO UPDATE SET version = ?2", what);
	if (!rc) {
		sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, (int)i + 1);
		rc = xtel_db_step(db, st);
		sqlite3_finalize(st);
	}
done:
	if (rc) {
		/* the step's own error was logged by xtel_db_exec */
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		pr_err("%s: schema %s: step %u -> %u failed (rolled back)",
		       what, c->name, i, i + 1);
		return rc;
	}
	return xtel_db_exec(db, "COMMIT", what);
}

int xtel_db_migrate(sqlite3 *db, const struct xtel_db_component *c,
		    const char *what)
{
	int version, rc;

	rc = xtel_db_exec(db, "CREATE TABLE IF NOT EXISTS xtel_schema ("
			  "component TEXT PRIMARY KEY, "
			  "version INTEGER NOT NULL) STRICT", what);
	if (rc)
		return rc;
	rc = xtel_db_version(db, c->name, &version);
	if (rc) {
		pr_err("%s: cannot read the schema version: %s", what,
		       sqlite3_errmsg(db));
		return rc;
	}
	if (version > (int)c->n_steps) {
		pr_err("%s: its %s schema is version %d, newer than this "
		       "program's %u: run a newer release on it, or pick "
		       "another file", what, c->name, version, c->n_steps);
		return -EPROTONOSUPPORT;
	}
	for (unsigned int i = (unsigned int)version; i < c->n_steps; i++) {
		rc = apply(db, c, i, what);
		if (rc)
			return rc;
	}
	return 0;
}
