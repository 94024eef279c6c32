// SPDX-License-Identifier: MIT
/*
 * Inventory snapshots and devices (inventory.h): validation of a spec,
 * the immutable device objects, and snapshots built whole (from the
 * database) or as one change of an older snapshot, which shares every
 * device but the changed one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/inventory.h"

#define LABEL_NAME_(e, name) [XTEL_DEV_LABEL_##e] = name,
const char *const xtel_dev_label_names[XTEL_DEV_NLABELS] = {
	XTEL_DEV_LABELS(LABEL_NAME_)
};
#undef LABEL_NAME_

void xtel_device_spec_init(struct xtel_device_spec *s, uint32_t id)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->enabled = true;
}

void xtel_device_spec_from(struct xtel_device_spec *s,
			   const struct xtel_device *d)
{
	memset(s, 0, sizeof(*s));
	s->id = d->id;
	s->enabled = d->enabled;
	s->heartbeat_ms = d->heartbeat_ms;
	s->created_ns = d->created_ns;
	s->updated_ns = d->updated_ns;
	memcpy(s->name, d->name, sizeof(s->name));
	memcpy(s->labels, d->labels, sizeof(s->labels));
	snprintf(s->notes, sizeof(s->notes), "%s", d->notes);
}

/* s is at most max bytes, none of which bad() refuses. */
static bool text_ok(const char *s, size_t max, bool (*bad)(unsigned char c))
{
	size_t n = strlen(s);

	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (bad((unsigned char)s[i]))
			return false;
	return true;
}

static bool bad_name_char(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '"' || c == '\\';
}

static bool bad_label_char(unsigned char c)
{
	return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		 (c >= '0' && c <= '9') || (c && strchr("_.:/-", c)));
}

static bool bad_notes_char(unsigned char c)
{
	return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f;
}

bool xtel_dev_name_ok(const char *s)
{
	return text_ok(s, XTEL_DEV_NAME_MAX, bad_name_char);
}

bool xtel_dev_label_ok(const char *s)
{
	return text_ok(s, XTEL_DEV_LABEL_MAX, bad_label_char);
}

bool xtel_dev_notes_ok(const char *s)
{
	return text_ok(s, XTEL_DEV_NOTES_MAX, bad_notes_char);
}

static int fail(struct xtel_dev_err *err, const char *code, const char *field,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(struct xtel_dev_err *err, const char *code, const char *field,
		const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -EINVAL;
	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int xtel_device_spec_check(const struct xtel_device_spec *s,
			   struct xtel_dev_err *err)
{
	if (!xtel_dev_name_ok(s->name))
		return fail(err, "bad_name", "name",
			    "name: at most %d bytes, no control character, "
			    "'\"' or '\\'", XTEL_DEV_NAME_MAX);
	for (int i = 0; i < XTEL_DEV_NLABELS; i++)
		if (!xtel_dev_label_ok(s->labels[i]))
			return fail(err, "bad_label", xtel_dev_label_names[i],
				    "label %s: at most %d of A-Z a-z 0-9 _ . "
				    ": / -", xtel_dev_label_names[i],
				    XTEL_DEV_LABEL_MAX);
	if (s->heartbeat_ms > XTEL_DEV_HEARTBEAT_MAX_MS ||
	    (s->heartbeat_ms && s->heartbeat_ms < 100))
		return fail(err, "bad_heartbeat", "heartbeat_s",
			    "heartbeat_s: 0 (none) or 0.1..86400 seconds");
	if (!xtel_dev_notes_ok(s->notes))
		return fail(err, "bad_notes", "notes",
			    "notes: at most %d bytes, no control character "
			    "but tab and newline", XTEL_DEV_NOTES_MAX);
	return 0;
}

struct xtel_device *xtel_device_new(const struct xtel_device_spec *s)
{
	size_t nl = strlen(s->notes);
	struct xtel_device *d = malloc(sizeof(*d) + nl + 1);

	if (!d)
		return NULL;
	d->id = s->id;
	d->enabled = s->enabled;
	d->heartbeat_ms = s->heartbeat_ms;
	d->created_ns = s->created_ns;
	d->updated_ns = s->updated_ns;
	memcpy(d->name, s->name, sizeof(d->name));
	memcpy(d->labels, s->labels, sizeof(d->labels));
	d->refs = 1;
	memcpy(d->notes, s->notes, nl + 1);
	return d;
}

struct xtel_device *xtel_device_get(struct xtel_device *d)
{
	__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
	return d;
}

void xtel_device_put(struct xtel_device *d)
{
	if (d && __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(d);
}

/* ---- snapshots ---- */

static struct xtel_inventory *inv_alloc(uint32_t n, uint64_t version)
{
	struct xtel_inventory *inv = calloc(1, sizeof(*inv));

	if (!inv)
		return NULL;
	inv->keys = calloc(n ? n : 1, sizeof(*inv->keys));
	inv->devs = calloc(n ? n : 1, sizeof(*inv->devs));
	if (!inv->keys || !inv->devs) {
		free(inv->keys);
		free(inv->devs);
		free(inv);
		return NULL;
	}
	inv->version = version;
	inv->refs = 1;
	return inv;
}

/* Fill keys and n_enabled from devs[0..n). */
static void inv_finish(struct xtel_inventory *inv, uint32_t n)
{
	inv->n = n;
	inv->n_enabled = 0;
	for (uint32_t i = 0; i < n; i++) {
		inv->keys[i] = (struct xtel_inventory_key){
			.id = inv->devs[i]->id, .enabled = inv->devs[i]->enabled,
		};
		inv->n_enabled += inv->devs[i]->enabled;
	}
}

static int cmp_dev(const void *a, const void *b)
{
	uint32_t x = (*(struct xtel_device *const *)a)->id;
	uint32_t y = (*(struct xtel_device *const *)b)->id;

	return x < y ? -1 : x > y;
}

struct xtel_inventory *xtel_inventory_new(struct xtel_device **devs,
					  uint32_t n, uint64_t version)
{
	struct xtel_inventory *inv = inv_alloc(n, version);

	if (!inv) {
		for (uint32_t i = 0; i < n; i++)
			xtel_device_put(devs[i]);
		errno = ENOMEM;
		return NULL;
	}
	if (n)
		memcpy(inv->devs, devs, n * sizeof(*devs));
	qsort(inv->devs, n, sizeof(*inv->devs), cmp_dev);
	for (uint32_t i = 1; i < n; i++) {
		if (inv->devs[i]->id == inv->devs[i - 1]->id) {
			inv->n = n;
			xtel_inventory_put(inv);
			errno = EEXIST;
			return NULL;
		}
	}
	inv_finish(inv, n);
	return inv;
}

struct xtel_inventory *xtel_inventory_with(const struct xtel_inventory *inv,
					   struct xtel_device *d)
{
	long at = xtel_inventory_index(inv, d->id);
	uint32_t n = inv->n + (at < 0);
	struct xtel_inventory *out = inv_alloc(n, inv->version + 1);
	uint32_t j = 0;
	bool placed = false;

	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < inv->n; i++) {
		if (!placed && inv->devs[i]->id >= d->id) {
			out->devs[j++] = xtel_device_get(d);
			placed = true;
			if (inv->devs[i]->id == d->id)
				continue;
		}
		out->devs[j++] = xtel_device_get(inv->devs[i]);
	}
	if (!placed)
		out->devs[j++] = xtel_device_get(d);
	inv_finish(out, j);
	return out;
}

struct xtel_inventory *xtel_inventory_without(const struct xtel_inventory *inv,
					      uint32_t id)
{
	long at = xtel_inventory_index(inv, id);
	struct xtel_inventory *out;
	uint32_t j = 0;

	if (at < 0) {
		errno = ENOENT;
		return NULL;
	}
	out = inv_alloc(inv->n - 1, inv->version + 1);
	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < inv->n; i++)
		if ((long)i != at)
			out->devs[j++] = xtel_device_get(inv->devs[i]);
	inv_finish(out, j);
	return out;
}

struct xtel_device *xtel_inventory_take(const struct xtel_inventory *inv,
					uint32_t id)
{
	long i = inv ? xtel_inventory_index(inv, id) : -1;

	return i < 0 ? NULL : xtel_device_get(inv->devs[i]);
}

struct xtel_inventory *xtel_inventory_get(struct xtel_inventory *inv)
{
	if (inv)
		__atomic_add_fetch(&inv->refs, 1, __ATOMIC_RELAXED);
	return inv;
}

void xtel_inventory_put(struct xtel_inventory *inv)
{
	if (!inv || __atomic_sub_fetch(&inv->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (uint32_t i = 0; i < inv->n; i++)
		xtel_device_put(inv->devs[i]);
	free(inv->keys);
	free(inv->devs);
	free(inv);
}
