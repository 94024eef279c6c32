// SPDX-License-Identifier: MIT
/*
 * The device manager (devices.h): every change is check, database write,
 * new snapshot, swap, apply, all under one mutex, so changes are applied
 * in the order they were stored and a failed write changes nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/log.h"
#include "devices/db.h"
#include "devices/devices.h"

struct xtel_devices {
	pthread_mutex_t lock;		/* guards everything below */
	struct xtel_devices_db *db;
	/*
	 * Ours: one reference. Written under both locks, read by readers
	 * under cur_lock only, so a slow database write never holds up the
	 * control loop or a GET.
	 */
	struct xtel_inventory *cur;
	pthread_mutex_t cur_lock;
	xtel_devices_apply_fn *apply;
	void *apply_arg;
};

int xtel_devices_open(const char *path, struct xtel_devices **out)
{
	struct xtel_devices *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->cur_lock, NULL);
	rc = xtel_devices_db_open(path, &m->db);
	if (!rc)
		rc = xtel_devices_db_load(m->db, 1, &m->cur);
	if (rc) {
		xtel_devices_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void xtel_devices_free(struct xtel_devices *m)
{
	if (!m)
		return;
	xtel_inventory_put(m->cur);
	xtel_devices_db_close(m->db);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->cur_lock);
	free(m);
}

void xtel_devices_set_apply(struct xtel_devices *m, xtel_devices_apply_fn *fn,
			    void *arg)
{
	pthread_mutex_lock(&m->lock);
	m->apply = fn;
	m->apply_arg = arg;
	if (fn)
		fn(arg, NULL, m->cur);
	pthread_mutex_unlock(&m->lock);
}

struct xtel_inventory *xtel_devices_current(struct xtel_devices *m)
{
	struct xtel_inventory *inv;

	pthread_mutex_lock(&m->cur_lock);
	inv = xtel_inventory_get(m->cur);
	pthread_mutex_unlock(&m->cur_lock);
	return inv;
}

/* Under the lock: make next current, tell the collector, drop the old one. */
static void swap_in(struct xtel_devices *m, struct xtel_inventory *next)
{
	struct xtel_inventory *old = m->cur;

	pthread_mutex_lock(&m->cur_lock);
	m->cur = next;
	pthread_mutex_unlock(&m->cur_lock);
	if (m->apply)
		m->apply(m->apply_arg, old, next);
	xtel_inventory_put(old);
}

/* Under the lock: store d and swap in a snapshot with it; d's ref is ours. */
static int store(struct xtel_devices *m, struct xtel_device *d,
		 struct xtel_device **out)
{
	struct xtel_inventory *next;
	int rc;

	rc = xtel_devices_db_put(m->db, d);
	if (rc) {
		xtel_device_put(d);
		return rc;
	}
	next = xtel_inventory_with(m->cur, d);
	if (!next) {
		/* On disk, not in memory: SIGHUP (or a restart) catches up. */
		xtel_device_put(d);
		return -ENOMEM;
	}
	swap_in(m, next);
	*out = d;
	return 0;
}

static int put_spec(struct xtel_devices *m, struct xtel_device_spec *s,
		    struct xtel_dev_err *err, struct xtel_device **out)
{
	struct xtel_device *d;
	int rc = xtel_device_spec_check(s, err);

	if (rc)
		return rc;
	d = xtel_device_new(s);
	return d ? store(m, d, out) : -ENOMEM;
}

int xtel_devices_create(struct xtel_devices *m, const struct xtel_device_spec *s,
			uint64_t now_ns, struct xtel_dev_err *err,
			struct xtel_device **out)
{
	struct xtel_device_spec c = *s;
	int rc;

	c.created_ns = c.updated_ns = now_ns;
	pthread_mutex_lock(&m->lock);
	rc = xtel_inventory_find(m->cur, s->id) ? -EEXIST :
						  put_spec(m, &c, err, out);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int xtel_devices_replace(struct xtel_devices *m, const struct xtel_device_spec *s,
			 uint64_t now_ns, struct xtel_dev_err *err,
			 bool *created, struct xtel_device **out)
{
	struct xtel_device_spec c = *s;
	const struct xtel_device *old;
	int rc;

	pthread_mutex_lock(&m->lock);
	old = xtel_inventory_find(m->cur, s->id);
	*created = !old;
	c.created_ns = old ? old->created_ns : now_ns;
	c.updated_ns = now_ns;
	rc = put_spec(m, &c, err, out);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int xtel_devices_edit(struct xtel_devices *m, uint32_t id,
		      xtel_devices_edit_fn *fn, void *arg, uint64_t now_ns,
		      struct xtel_dev_err *err, struct xtel_device **out)
{
	struct xtel_device_spec c;
	const struct xtel_device *old;
	int rc;

	pthread_mutex_lock(&m->lock);
	old = xtel_inventory_find(m->cur, id);
	if (!old) {
		rc = -ENOENT;
		goto out;
	}
	xtel_device_spec_from(&c, old);
	rc = fn(arg, &c, err);
	if (rc)
		goto out;
	/* The edit may not move the device or its history. */
	c.id = id;
	c.created_ns = old->created_ns;
	c.updated_ns = now_ns;
	rc = put_spec(m, &c, err, out);
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int xtel_devices_delete(struct xtel_devices *m, uint32_t id,
			struct xtel_device **out)
{
	struct xtel_inventory *next;
	struct xtel_device *old;
	int rc;

	pthread_mutex_lock(&m->lock);
	old = xtel_inventory_take(m->cur, id);
	if (!old) {
		rc = -ENOENT;
		goto out;
	}
	rc = xtel_devices_db_delete(m->db, id);
	next = rc ? NULL : xtel_inventory_without(m->cur, id);
	if (!next) {
		rc = rc ? rc : -ENOMEM;
		xtel_device_put(old);
		goto out;
	}
	*out = old;
	swap_in(m, next);
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int xtel_devices_reload(struct xtel_devices *m)
{
	struct xtel_inventory *next;
	int rc;

	pthread_mutex_lock(&m->lock);
	rc = xtel_devices_db_load(m->db, m->cur->version + 1, &next);
	if (!rc) {
		swap_in(m, next);
		pr_info("SIGHUP: %u devices reloaded from --db (%u enabled)",
			next->n, next->n_enabled);
	} else {
		pr_err("SIGHUP: devices not reloaded (%s); the running "
		       "inventory stays", rc == -ENOMEM ? "out of memory" :
		       "database error, see above");
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}
