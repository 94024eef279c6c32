// SPDX-License-Identifier: MIT
/*
 * The devices table in SQLite (db.h). Every write is one statement in
 * autocommit mode, so a change is on disk (in the WAL) before the
 * manager swaps it into memory; a crash loses nothing the API confirmed.
 * The schema is created in one transaction together with its version row.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/log.h"
#include "devices/db.h"

struct xtel_devices_db {
	sqlite3 *db;
	sqlite3_stmt *put, *del;
};

static const char schema_sql[] =
	"BEGIN IMMEDIATE;"
	"CREATE TABLE IF NOT EXISTS xtel_schema("
	"  component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT;"
	"CREATE TABLE IF NOT EXISTS devices("
	"  id INTEGER PRIMARY KEY CHECK (id BETWEEN 0 AND 4294967295),"
	"  name TEXT NOT NULL, site TEXT NOT NULL, rack TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  heartbeat_ms INTEGER NOT NULL CHECK (heartbeat_ms >= 0),"
	"  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),"
	"  notes TEXT NOT NULL,"
	"  created_ns INTEGER NOT NULL, updated_ns INTEGER NOT NULL) STRICT;"
	"INSERT INTO xtel_schema(component, version) VALUES ('devices', 1)"
	"  ON CONFLICT(component) DO NOTHING;"
	"COMMIT;";

static int db_err(struct xtel_devices_db *db, const char *what)
{
	int code = sqlite3_errcode(db->db);

	pr_err("--db: %s: %s", what, sqlite3_errmsg(db->db));
	if (code == SQLITE_READONLY)
		return -EROFS;
	if (code == SQLITE_CANTOPEN || code == SQLITE_PERM)
		return -EACCES;
	if (code == SQLITE_FULL)
		return -ENOSPC;
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return -EBUSY;
	return -EIO;
}

static int schema_version(struct xtel_devices_db *db, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->db, "SELECT version FROM xtel_schema "
			       "WHERE component = 'devices'", -1, &st, NULL))
		return db_err(db, "schema version");
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(db, "schema version");
}

int xtel_devices_db_open(const char *path, struct xtel_devices_db **out)
{
	struct xtel_devices_db *db = calloc(1, sizeof(*db));
	int64_t ver;
	int rc;

	if (!db)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)) {
		rc = db->db ? db_err(db, path) : -ENOMEM;
		goto fail;
	}
	sqlite3_busy_timeout(db->db, 5000);
	if (sqlite3_exec(db->db, "PRAGMA journal_mode=WAL;"
			 "PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) ||
	    sqlite3_exec(db->db, schema_sql, NULL, NULL, NULL)) {
		rc = db_err(db, path);
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
		goto fail;
	}
	rc = schema_version(db, &ver);
	if (rc)
		goto fail;
	if (ver != XTEL_DEVICES_SCHEMA_VERSION) {
		pr_err("--db %s: devices schema version %lld, this collector "
		       "knows %d: use the collector that wrote it",
		       path, (long long)ver, XTEL_DEVICES_SCHEMA_VERSION);
		rc = -EPROTO;
		goto fail;
	}
	if (sqlite3_prepare_v3(db->db, "INSERT OR REPLACE INTO devices(id, "
			       "name, site, rack, role, heartbeat_ms, enabled, "
			       "notes, created_ns, updated_ns) VALUES (?1, ?2, "
			       "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", -1,
			       SQLITE_PREPARE_PERSISTENT, &db->put, NULL) ||
	    sqlite3_prepare_v3(db->db, "DELETE FROM devices WHERE id = ?1", -1,
			       SQLITE_PREPARE_PERSISTENT, &db->del, NULL)) {
		rc = db_err(db, "prepare");
		goto fail;
	}
	*out = db;
	return 0;
fail:
	xtel_devices_db_close(db);
	return rc;
}

void xtel_devices_db_close(struct xtel_devices_db *db)
{
	if (!db)
		return;
	sqlite3_finalize(db->put);
	sqlite3_finalize(db->del);
	sqlite3_close(db->db);
	free(db);
}

/* Column col into dst; false when it does not fit (the row is refused). */
static bool col_text(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return (size_t)snprintf(dst, size, "%s", t ? (const char *)t : "") < size;
}

int xtel_devices_db_load(struct xtel_devices_db *db, uint64_t version,
			 struct xtel_inventory **out)
{
	struct xtel_device **devs = NULL;
	uint32_t n = 0, cap = 0;
	struct xtel_inventory *inv;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->db, "SELECT id, name, site, rack, role, "
			       "heartbeat_ms, enabled, notes, created_ns, "
			       "updated_ns FROM devices ORDER BY id", -1, &st,
			       NULL))
		return db_err(db, "load");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct xtel_device_spec s;
		struct xtel_dev_err err = { .msg = "a text column is too long" };
		int64_t hb = sqlite3_column_int64(st, 5);
		bool fits;

		xtel_device_spec_init(&s, (uint32_t)sqlite3_column_int64(st, 0));
		fits = col_text(st, 1, s.name, sizeof(s.name));
		for (int i = 0; i < XTEL_DEV_NLABELS; i++)
			fits &= col_text(st, 2 + i, s.labels[i], sizeof(s.labels[i]));
		fits &= col_text(st, 7, s.notes, sizeof(s.notes));
		/* Out of range: let the check below refuse it. */
		s.heartbeat_ms = hb > XTEL_DEV_HEARTBEAT_MAX_MS ? UINT32_MAX : (uint32_t)hb;
		s.enabled = sqlite3_column_int64(st, 6) != 0;
		s.created_ns = (uint64_t)sqlite3_column_int64(st, 8);
		s.updated_ns = (uint64_t)sqlite3_column_int64(st, 9);
		if (!fits || xtel_device_spec_check(&s, &err)) {
			/* Written by hand: say which row, skip it. */
			pr_warn("--db: device %u skipped: %s", s.id, err.msg);
			continue;
		}
		if (n == cap) {
			uint32_t ncap = cap ? cap * 2 : 64;
			struct xtel_device **nd = realloc(devs, ncap * sizeof(*nd));

			if (!nd) {
				rc = SQLITE_NOMEM;
				break;
			}
			devs = nd;
			cap = ncap;
		}
		devs[n] = xtel_device_new(&s);
		if (!devs[n]) {
			rc = SQLITE_NOMEM;
			break;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		rc = rc == SQLITE_NOMEM ? -ENOMEM : db_err(db, "load");
		sqlite3_finalize(st);
		for (uint32_t i = 0; i < n; i++)
			xtel_device_put(devs[i]);
		free(devs);
		return rc;
	}
	sqlite3_finalize(st);
	inv = xtel_inventory_new(devs, n, version);
	free(devs);
	if (!inv)
		return -errno;
	*out = inv;
	return 0;
}

int xtel_devices_db_put(struct xtel_devices_db *db, const struct xtel_device *d)
{
	sqlite3_stmt *st = db->put;
	int rc;

	sqlite3_bind_int64(st, 1, d->id);
	sqlite3_bind_text(st, 2, d->name, -1, SQLITE_STATIC);
	for (int i = 0; i < XTEL_DEV_NLABELS; i++)
		sqlite3_bind_text(st, 3 + i, d->labels[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, d->heartbeat_ms);
	sqlite3_bind_int64(st, 7, d->enabled);
	sqlite3_bind_text(st, 8, d->notes, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (int64_t)d->created_ns);
	sqlite3_bind_int64(st, 10, (int64_t)d->updated_ns);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : db_err(db, "write");
	/* Reset at once: an unreset statement pins the WAL. */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int xtel_devices_db_delete(struct xtel_devices_db *db, uint32_t id)
{
	sqlite3_stmt *st = db->del;
	int rc;

	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? (sqlite3_changes(db->db) ? 0 : -ENOENT) :
				 db_err(db, "delete");
	sqlite3_reset(st);
	return rc;
}
