// SPDX-License-Identifier: MIT
/*
 * The device inventory's endpoints (docs/API.md, "Devices"):
 *
 *   GET    /api/v1/devices        every device, with its status in the view
 *   POST   /api/v1/devices        create (201; 409 when the id is taken)
 *   GET    /api/v1/devices/{id}   one device
 *   PUT    /api/v1/devices/{id}   create (201) or replace (200) whole
 *   PATCH  /api/v1/devices/{id}   change the fields given (labels merge)
 *   DELETE /api/v1/devices/{id}   remove (200, the device as it was)
 *
 * Reads need the read scope, writes admin (the route table says so). A
 * write goes through the device manager (devices/devices.h), which stores
 * it and puts it in effect before the reply is sent. The status of a
 * device (seen, stale, silent for how long) is read from the request's
 * view, never computed here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "collector/api/internal.h"
#include "devices/device_json.h"
#include "devices/devices.h"

/* The view's entry of device id, or NULL (the view predates the device). */
static const struct xtel_view_device *view_device(const struct xtel_view *v,
						  uint32_t id)
{
	uint32_t lo = 0, hi = v ? v->n_devices : 0;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v->devices[mid].dev->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return v && lo < v->n_devices && v->devices[lo].dev->id == id ?
	       &v->devices[lo] : NULL;
}

/* {"seen", "state", "stale", "silent_s", "received"}, or null (no view). */
static json_t *status_json(const struct xtel_view *v, uint32_t id)
{
	const struct xtel_view_device *vd = view_device(v, id);
	const struct xtel_view_client *vc;
	json_t *o;

	if (!v)
		return json_null();
	o = json_object();
	/* A device newer than the view: what the view knows of its client. */
	vc = vd ? vd->vc : xtel_api_find_client(v, id);
	xtel_json_set(o, "seen", json_boolean(vc != NULL));
	xtel_json_set(o, "state", json_string(vc ? xtel_client_state_name(vc->state) :
					      "never_seen"));
	if (vd) {
		xtel_json_set(o, "stale", json_boolean(vd->stale));
		xtel_json_set(o, "silent_s", xtel_json_fixed(vd->silent_s, 3));
	} else {
		xtel_json_set(o, "stale", vc ? json_boolean(vc->state == XTEL_CLIENT_STALE) :
					       json_null());
		xtel_json_set(o, "silent_s", vc ? xtel_json_fixed(vc->silent_s, 3) :
						  json_null());
	}
	xtel_json_set(o, "received", xtel_json_u64(vc ? vc->snap->received : 0));
	return o;
}

static json_t *device_json(const struct xtel_api_req *r,
			   const struct xtel_device *d)
{
	json_t *o = xtel_device_json(d);

	xtel_json_set(o, "status", status_json(r->v, d->id));
	return o;
}

/* The reply for a manager error (rc < 0); returns -1. */
static int change_error(struct xtel_api_reply *rep, int rc, uint32_t id,
			const struct xtel_dev_err *err)
{
	switch (rc) {
	case -EINVAL:
		return xtel_api_error(rep, 400, err->code, err->field[0] ?
				      err->field : NULL, "%s", err->msg);
	case -EEXIST:
		return xtel_api_error(rep, 409, "duplicate_id", "id",
				      "device %u exists: PUT or PATCH "
				      "/api/v1/devices/%u to change it", id, id);
	case -ENOENT:
		return xtel_api_error(rep, 404, "no_such_device", NULL,
				      "no device %u in the inventory", id);
	case -ENOMEM:
		return xtel_api_error(rep, 500, "out_of_memory", NULL,
				      "out of memory");
	default:
		return xtel_api_error(rep, 503, "db_error", NULL,
				      "the database refused the write (%s): "
				      "nothing changed", strerror(-rc));
	}
}

/* The request body as a JSON object, or NULL after a 400. */
static json_t *body_json(const struct xtel_api_req *r,
			 struct xtel_api_reply *rep)
{
	json_error_t je;
	json_t *o;

	if (!r->body_len) {
		xtel_api_error(rep, 400, "bad_json", NULL,
			       "this request needs a JSON object as its body");
		return NULL;
	}
	o = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		xtel_api_error(rep, 400, "bad_json", NULL,
			       "body is not JSON: %s (line %d)", je.text, je.line);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		xtel_api_error(rep, 400, "bad_json", NULL,
			       "the body must be a JSON object");
		return NULL;
	}
	return o;
}

static void reply_device(const struct xtel_api_req *r,
			 struct xtel_api_reply *rep, unsigned int status,
			 const char *key, struct xtel_device *d)
{
	json_t *o = xtel_api_ok(rep);

	rep->status = status;
	xtel_json_set(o, key, device_json(r, d));
	xtel_device_put(d);
}

static bool have_inventory(const struct xtel_api_req *r,
			   struct xtel_api_reply *rep)
{
	if (r->api->devices)
		return true;
	xtel_api_error(rep, 404, "no_inventory", NULL,
		       "device management needs the collector started with "
		       "--db FILE");
	return false;
}

/*
 * One page of the inventory by id: limit devices from offset, or those
 * after the id a cursor names (next_after of the previous page).
 */
static void list(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	struct xtel_inventory *inv;
	uint64_t limit, offset, after;
	bool cursor = xtel_api_param(r, "after") != NULL;
	uint32_t i, end;
	json_t *o, *a;

	if (xtel_api_param_u64(r, rep, "limit", 1, XTEL_API_MAX_PAGE,
			       XTEL_API_DEVICES_PAGE, &limit) ||
	    xtel_api_param_u64(r, rep, "offset", 0, UINT32_MAX, 0, &offset) ||
	    xtel_api_param_u64(r, rep, "after", 0, UINT32_MAX, 0, &after))
		return;
	if (cursor && xtel_api_param(r, "offset")) {
		xtel_api_error(rep, 400, "bad_parameter", "offset",
			       "offset and after exclude each other: page by "
			       "one of them");
		return;
	}
	inv = xtel_devices_current(r->api->devices);
	if (cursor) {
		i = xtel_inventory_lower(inv, (uint32_t)after);
		if (i < inv->n && inv->keys[i].id == after)
			i++;
	} else {
		i = offset < inv->n ? (uint32_t)offset : inv->n;
	}
	end = inv->n - i > limit ? i + (uint32_t)limit : inv->n;
	o = xtel_api_ok(rep);
	a = json_array();
	xtel_json_set(o, "total", xtel_json_u64(inv->n));
	xtel_json_set(o, "count", xtel_json_u64(end - i));
	xtel_json_set(o, "limit", xtel_json_u64(limit));
	if (cursor)
		xtel_json_set(o, "after", xtel_json_u64(after));
	else
		xtel_json_set(o, "offset", xtel_json_u64(offset));
	xtel_json_set(o, "next_after", end < inv->n ?
		      xtel_json_u64(inv->keys[end - 1].id) : json_null());
	for (; i < end; i++)
		json_array_append_new(a, device_json(r, inv->devs[i]));
	xtel_json_set(o, "enabled", xtel_json_u64(inv->n_enabled));
	xtel_json_set(o, "inventory_only",
		      json_boolean(r->api->cfg->inventory_only));
	xtel_json_set(o, "version", xtel_json_u64(inv->version));
	xtel_json_set(o, "devices", a);
	xtel_inventory_put(inv);
}

/* POST and PUT: a whole device from the body's fields and the defaults. */
static int spec_from_body(struct xtel_api_req *r, struct xtel_api_reply *rep,
			  struct xtel_device_spec *s, uint32_t id,
			  bool id_required, struct xtel_dev_err *err)
{
	json_t *o = body_json(r, rep);
	int rc;

	if (!o)
		return -1;
	if (id_required && !json_object_get(o, "id")) {
		json_decref(o);
		return xtel_api_error(rep, 400, "bad_id", "id",
				      "a new device needs its client id: "
				      "{\"id\": N, ...}");
	}
	xtel_device_spec_init(s, id);
	/* PUT: an id in the body must be the path's (patch mode checks it). */
	rc = xtel_device_spec_apply_json(o, s, !id_required, err);
	json_decref(o);
	return rc ? change_error(rep, rc, s->id, err) : 0;
}

void xtel_api_h_devices(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	struct xtel_device_spec s;
	struct xtel_dev_err err;
	struct xtel_device *d;
	int rc;

	if (!have_inventory(r, rep))
		return;
	if (r->method != XTEL_API_M_POST) {
		list(r, rep);
		return;
	}
	if (spec_from_body(r, rep, &s, 0, true, &err))
		return;
	rc = xtel_devices_create(r->api->devices, &s, r->now_ns, &err, &d);
	if (rc) {
		change_error(rep, rc, s.id, &err);
		return;
	}
	reply_device(r, rep, 201, "device", d);
}

/* xtel_devices_edit_fn for PATCH: the body's fields onto the stored ones. */
static int patch_edit(void *arg, struct xtel_device_spec *s,
		      struct xtel_dev_err *err)
{
	return xtel_device_spec_apply_json(arg, s, true, err);
}

void xtel_api_h_device(struct xtel_api_req *r, struct xtel_api_reply *rep)
{
	struct xtel_devices *m = r->api->devices;
	const uint32_t id = r->path_id;
	struct xtel_device_spec s;
	struct xtel_dev_err err;
	struct xtel_device *d = NULL;
	struct xtel_inventory *inv;
	bool created = false;
	json_t *o;
	int rc;

	if (!have_inventory(r, rep))
		return;
	switch (r->method) {
	case XTEL_API_M_GET:
		inv = xtel_devices_current(m);
		d = xtel_inventory_take(inv, id);
		xtel_inventory_put(inv);
		if (!d) {
			change_error(rep, -ENOENT, id, NULL);
			return;
		}
		reply_device(r, rep, 200, "device", d);
		return;
	case XTEL_API_M_PUT:
		if (spec_from_body(r, rep, &s, id, false, &err))
			return;
		rc = xtel_devices_replace(m, &s, r->now_ns, &err, &created, &d);
		break;
	case XTEL_API_M_PATCH:
		o = body_json(r, rep);
		if (!o)
			return;
		rc = xtel_devices_edit(m, id, patch_edit, o, r->now_ns, &err, &d);
		json_decref(o);
		break;
	default:	/* DELETE */
		rc = xtel_devices_delete(m, id, &d);
		if (!rc) {
			reply_device(r, rep, 200, "deleted", d);
			return;
		}
		break;
	}
	if (rc) {
		change_error(rep, rc, id, &err);
		return;
	}
	reply_device(r, rep, created ? 201 : 200, "device", d);
}
