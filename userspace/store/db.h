/* SPDX-License-Identifier: MIT */
/*
 * One SQLite database file shared by the collector's components (the
 * history of store/, the device inventory): opening it the one way they
 * all need (WAL, synchronous=NORMAL, a busy timeout, foreign keys) and
 * versioned schemas with a small migration runner. Each component owns a
 * row of the table
 *
 *   xtel_schema(component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT
 *
 * and a list of SQL steps: step i takes the component from version i to
 * i + 1, each in its own transaction (BEGIN IMMEDIATE, so two connections
 * migrating at once take turns). A file whose component is newer than the
 * steps this program knows is refused with a message, never written.
 * Errors are logged naming the file and what to do; functions return 0 or
 * a negative errno.
 */
#ifndef XTEL_STORE_DB_H
#define XTEL_STORE_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

enum xtel_db_flags {
	XTEL_DB_READONLY = 1 << 0,	/* a reader: never creates or writes */
};

struct xtel_db_component {
	const char *name;		/* the xtel_schema row, e.g. "history" */
	const char *const *steps;	/* steps[i]: version i -> i + 1 */
	unsigned int n_steps;		/* the version this program writes */
};

/* A component named nm of the steps in array st. */
#define XTEL_DB_COMPONENT(nm, st)					\
	{ .name = (nm), .steps = (st), .n_steps = sizeof(st) / sizeof((st)[0]) }

/*
 * Opens (or creates, unless XTEL_DB_READONLY) path with the pragmas
 * above. Returns 0, -ENOENT (no such directory, or no file for a reader),
 * -EACCES or -EROFS (not writable), -ENOTDIR, -EBADMSG (not a database) or
 * -EIO, after a message that starts with what (e.g. "--db FILE").
 */
int xtel_db_open(const char *path, unsigned int flags, const char *what,
		 sqlite3 **out);

/*
 * Brings component c up to c->n_steps. Returns 0, -EPROTONOSUPPORT when
 * the file holds a newer version (refused), or -EIO (a step failed and
 * was rolled back), after a message.
 */
int xtel_db_migrate(sqlite3 *db, const struct xtel_db_component *c,
		    const char *what);

/* The component's version in the file (0: none). Returns 0 or -EIO. */
int xtel_db_version(sqlite3 *db, const char *component, int *out);

/*
 * sqlite3_prepare_v3 (persistent: the statement is kept for the life of
 * the connection); -errno after logging what, the error and the SQL.
 */
int xtel_db_prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql,
		    const char *what);

/* Runs a bound statement once, then resets it and clears its bindings. */
int xtel_db_step(sqlite3 *db, sqlite3_stmt *st);

/*
 * The first column of sql's first row as an integer, sql's ?1 bound to
 * key. Returns 0, -ENOENT (no row) or -errno (nothing logged).
 */
int xtel_db_lookup(sqlite3 *db, const char *sql, const char *key, int64_t *out);

/* Logs "what: action: SQLite's message"; returns the last error as -errno. */
int xtel_db_error(sqlite3 *db, const char *what, const char *action);

/* sqlite3_exec without a callback; -EIO after logging what and the error. */
int xtel_db_exec(sqlite3 *db, const char *sql, const char *what);

/* An SQLite result code as -errno (SQLITE_FULL -> -ENOSPC, ...). */
int xtel_db_errno(int rc);

#endif /* XTEL_STORE_DB_H */
