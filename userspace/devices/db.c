// SPDX-License-Identifier: MIT
/*
 * The devices table in SQLite (db.h). The file is opened and its schema
 * brought up to date by the shared code of store/db.h (the pragmas, the
 * xtel_schema row "devices", the messages for a file that is not a
 * database or is newer than this program). Every write is one statement
 * in autocommit mode, so a change is on disk (in the WAL) before the
 * manager swaps it into memory; a crash loses nothing the API confirmed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/log.h"
#include "devices/db.h"
#include "store/db.h"

struct xtel_devices_db {
	sqlite3 *db;
	sqlite3_stmt *put, *del, *load;
	char what[320];			/* "--db FILE", for messages */
};

/*
 * The "devices" component's steps. Released text never changes; a new
 * schema is a step appended. Step 1 is the table of 2026-12 (IF NOT
 * EXISTS: files made before the runner have the table and the row).
 */
static const char step1[] =
	"CREATE TABLE IF NOT EXISTS devices("
	"  id INTEGER PRIMARY KEY CHECK (id BETWEEN 0 AND 4294967295),"
	"  name TEXT NOT NULL, site TEXT NOT NULL, rack TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  heartbeat_ms INTEGER NOT NULL CHECK (heartbeat_ms >= 0),"
	"  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),"
	"  notes TEXT NOT NULL,"
	"  created_ns INTEGER NOT NULL, updated_ns INTEGER NOT NULL) STRICT;";

static const char *const steps[] = { step1 };

const struct xtel_db_component xtel_devices_schema =
	XTEL_DB_COMPONENT("devices", steps);

int xtel_devices_db_open(const char *path, struct xtel_devices_db **out)
{
	struct xtel_devices_db *db = calloc(1, sizeof(*db));
	int rc;

	if (!db)
		return -ENOMEM;
	snprintf(db->what, sizeof(db->what), "--db %s", path);
	rc = xtel_db_open(path, 0, db->what, &db->db);
	if (!rc)
		rc = xtel_db_migrate(db->db, &xtel_devices_schema, db->what);
	if (!rc)
		rc = xtel_db_prepare(db->db, &db->put, "INSERT OR REPLACE INTO "
				     "devices(id, name, site, rack, role, "
				     "heartbeat_ms, enabled, notes, created_ns, "
				     "updated_ns) VALUES (?1, ?2, ?3, ?4, ?5, "
				     "?6, ?7, ?8, ?9, ?10)", db->what);
	if (!rc)
		rc = xtel_db_prepare(db->db, &db->del, "DELETE FROM devices "
				     "WHERE id = ?1", db->what);
	if (!rc)
		rc = xtel_db_prepare(db->db, &db->load, "SELECT id, name, site, "
				     "rack, role, heartbeat_ms, enabled, notes, "
				     "created_ns, updated_ns FROM devices "
				     "ORDER BY id", db->what);
	if (rc) {
		xtel_devices_db_close(db);
		/* this library's codes (db.h) for the shared code's */
		return rc == -EBADMSG ? -EIO : rc == -EPROTONOSUPPORT ? -EPROTO : rc;
	}
	*out = db;
	return 0;
}

void xtel_devices_db_close(struct xtel_devices_db *db)
{
	if (!db)
		return;
	sqlite3_finalize(db->put);
	sqlite3_finalize(db->del);
	sqlite3_finalize(db->load);
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
	sqlite3_stmt *st = db->load;
	int rc;

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
			pr_warn("%s: device %u skipped: %s", db->what, s.id,
				err.msg);
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
		rc = rc == SQLITE_NOMEM ? -ENOMEM : xtel_db_error(db->db, db->what, "load");
		sqlite3_reset(st);
		for (uint32_t i = 0; i < n; i++)
			xtel_device_put(devs[i]);
		free(devs);
		return rc;
	}
	sqlite3_reset(st);
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
	rc = xtel_db_step(db->db, st);
	return rc ? xtel_db_error(db->db, db->what, "write") : 0;
}

int xtel_devices_db_delete(struct xtel_devices_db *db, uint32_t id)
{
	sqlite3_stmt *st = db->del;
	int rc;

	sqlite3_bind_int64(st, 1, id);
	rc = xtel_db_step(db->db, st);
	if (rc)
		return xtel_db_error(db->db, db->what, "delete");
	return sqlite3_changes(db->db) ? 0 : -ENOENT;
}
