/* SPDX-License-Identifier: MIT */
/*
 * The inventory's table in the collector's SQLite database (--db FILE):
 * its own connection, opened by store/db.h like every component's (WAL,
 * synchronous=NORMAL, a busy timeout so the history writer's connection
 * to the same file can take turns), the component "devices" of the
 * shared migration runner, and the STRICT table devices. Not
 * thread-safe: the device manager (devices.c) calls it under its lock.
 */
#ifndef XTEL_DEVICES_DB_H
#define XTEL_DEVICES_DB_H

#include <stdint.h>

#include "devices/inventory.h"
#include "store/db.h"

struct xtel_devices_db;

/* The "devices" component: its name and migration steps (store/db.h). */
extern const struct xtel_db_component xtel_devices_schema;

/*
 * Open (create) path and bring the schema to our version. Returns 0,
 * -EIO (not a database, or SQLite failed), -EPROTO (made by a newer
 * version), -ENOENT/-ENOTDIR (no such directory), -EACCES/-EROFS
 * (read-only), after a message naming the file.
 */
int xtel_devices_db_open(const char *path, struct xtel_devices_db **out);
void xtel_devices_db_close(struct xtel_devices_db *db);

/* Every stored device as a snapshot of the given version. */
int xtel_devices_db_load(struct xtel_devices_db *db, uint64_t version,
			 struct xtel_inventory **out);

/* Insert or replace one device; delete one (-ENOENT when absent). */
int xtel_devices_db_put(struct xtel_devices_db *db, const struct xtel_device *d);
int xtel_devices_db_delete(struct xtel_devices_db *db, uint32_t id);

#endif /* XTEL_DEVICES_DB_H */
