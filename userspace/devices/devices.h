/* SPDX-License-Identifier: MIT */
/*
 * The device manager: the one writer of the inventory. It owns the
 * database connection (db.h) and the current snapshot (inventory.h), and
 * runs every change the same way under one lock: check, write to the
 * database, build the new snapshot, swap it in, and hand old and new to
 * the apply callback, which the collector uses to post the snapshot to
 * every datagram path and to bring the XDP program's device map in step.
 * So a change the API confirmed is on disk and in effect when the reply
 * leaves. Any thread may call these (the API's threads for changes, the
 * main thread for SIGHUP's reload); readers take xtel_devices_current().
 */
#ifndef XTEL_DEVICES_DEVICES_H
#define XTEL_DEVICES_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/inventory.h"

struct xtel_devices;

/*
 * Called under the manager's lock after each change (and after a reload),
 * with the snapshot before and after; neither may be kept without a
 * reference. Must not call back into the manager.
 */
typedef void xtel_devices_apply_fn(void *arg, const struct xtel_inventory *old,
				   struct xtel_inventory *now);

/* Open the database at path and load it. Errors as xtel_devices_db_open. */
int xtel_devices_open(const char *path, struct xtel_devices **out);
void xtel_devices_free(struct xtel_devices *m);

/* Install the callback and call it once with (NULL, current). */
void xtel_devices_set_apply(struct xtel_devices *m, xtel_devices_apply_fn *fn,
			    void *arg);

/* The current snapshot with a reference taken. */
struct xtel_inventory *xtel_devices_current(struct xtel_devices *m);

/*
 * Edits a copy of the stored device (patch) under the lock; returns 0 or
 * -EINVAL with err filled in.
 */
typedef int xtel_devices_edit_fn(void *arg, struct xtel_device_spec *s,
				 struct xtel_dev_err *err);

/*
 * Changes. now_ns (CLOCK_REALTIME) becomes updated_ns (and created_ns of
 * a new device). On success *out holds the stored device (a reference:
 * xtel_device_put it). Errors: -EINVAL (err says why), -EEXIST (create:
 * the id is taken), -ENOENT (no such device), -ENOMEM, or the database's
 * (-EIO, -EROFS, -ENOSPC, -EBUSY: logged, nothing changed).
 */
int xtel_devices_create(struct xtel_devices *m, const struct xtel_device_spec *s,
			uint64_t now_ns, struct xtel_dev_err *err,
			struct xtel_device **out);
/* Create or replace (*created says which). */
int xtel_devices_replace(struct xtel_devices *m, const struct xtel_device_spec *s,
			 uint64_t now_ns, struct xtel_dev_err *err,
			 bool *created, struct xtel_device **out);
int xtel_devices_edit(struct xtel_devices *m, uint32_t id,
		      xtel_devices_edit_fn *fn, void *arg, uint64_t now_ns,
		      struct xtel_dev_err *err, struct xtel_device **out);
/* *out: the device as it was. */
int xtel_devices_delete(struct xtel_devices *m, uint32_t id,
			struct xtel_device **out);

/* Read the database again (SIGHUP); on error the running inventory stays. */
int xtel_devices_reload(struct xtel_devices *m);

#endif /* XTEL_DEVICES_DEVICES_H */
