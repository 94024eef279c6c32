// SPDX-License-Identifier: MIT
/*
 * A device as JSON (docs/API.md, "Devices"), both ways: the object every
 * device endpoint answers with, and a request body applied to a spec,
 * strictly: an unknown field, a value of the wrong type or out of range
 * is an error naming the field, never ignored.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "devices/device_json.h"

json_t *xtel_device_json(const struct xtel_device *d)
{
	json_t *o = json_object(), *l = json_object();

	xtel_json_set(o, "id", xtel_json_u64(d->id));
	xtel_json_set(o, "name", xtel_json_text(d->name));
	for (int i = 0; i < XTEL_DEV_NLABELS; i++)
		xtel_json_set(l, xtel_dev_label_names[i],
			      xtel_json_text(d->labels[i]));
	xtel_json_set(o, "labels", l);
	xtel_json_set(o, "heartbeat_s", xtel_json_fixed(d->heartbeat_ms / 1000.0, 3));
	xtel_json_set(o, "enabled", json_boolean(d->enabled));
	xtel_json_set(o, "notes", xtel_json_text(d->notes));
	xtel_json_set(o, "created_ns", xtel_json_u64(d->created_ns));
	xtel_json_set(o, "updated_ns", xtel_json_u64(d->updated_ns));
	return o;
}

static int bad(struct xtel_dev_err *err, const char *code, const char *field,
	       const char *msg)
{
	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field);
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	return -EINVAL;
}

static int set_text(json_t *v, char *dst, size_t size, const char *field,
		    const char *code, struct xtel_dev_err *err)
{
	const char *s;

	if (!json_is_string(v))
		return bad(err, code, field, "must be a string");
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || strlen(s) >= size) {
		bad(err, code, field, "");
		snprintf(err->msg, sizeof(err->msg), "%s: at most %zu bytes, "
			 "no NUL", field, size - 1);
		return -EINVAL;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int set_labels(json_t *v, struct xtel_device_spec *s, bool merge,
		      struct xtel_dev_err *err)
{
	const char *key;
	json_t *lv;

	if (!json_is_object(v))
		return bad(err, "bad_label", "labels",
			   "labels must be an object of site, rack, role");
	if (!merge)
		memset(s->labels, 0, sizeof(s->labels));
	json_object_foreach(v, key, lv) {
		int i;

		for (i = 0; i < XTEL_DEV_NLABELS; i++)
			if (!strcmp(key, xtel_dev_label_names[i]))
				break;
		if (i == XTEL_DEV_NLABELS) {
			bad(err, "bad_label", "labels", "");
			snprintf(err->msg, sizeof(err->msg), "unknown label "
				 "'%.40s': labels are site, rack, role", key);
			return -EINVAL;
		}
		if (json_is_null(lv)) {
			s->labels[i][0] = '\0';
			continue;
		}
		if (set_text(lv, s->labels[i], sizeof(s->labels[i]), key,
			     "bad_label", err))
			return -EINVAL;
	}
	return 0;
}

int xtel_device_spec_apply_json(json_t *o, struct xtel_device_spec *s,
				bool patch, struct xtel_dev_err *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		return bad(err, "bad_json", "", "the body must be a JSON object");
	json_object_foreach(o, key, v) {
		if (!strcmp(key, "id")) {
			json_int_t id = json_is_integer(v) ? json_integer_value(v) : -1;

			if (id < 0 || id > UINT32_MAX)
				return bad(err, "bad_id", "id",
					   "id: a whole number in 0..4294967295");
			if (patch && (uint32_t)id != s->id)
				return bad(err, "id_mismatch", "id",
					   "id differs from the path's");
			s->id = (uint32_t)id;
		} else if (!strcmp(key, "name")) {
			if (set_text(v, s->name, sizeof(s->name), key,
				     "bad_name", err))
				return -EINVAL;
		} else if (!strcmp(key, "labels")) {
			if (set_labels(v, s, patch, err))
				return -EINVAL;
		} else if (!strcmp(key, "heartbeat_s")) {
			double h = json_is_number(v) ? json_number_value(v) : -1;

			if (!(h == 0 || (h >= 0.1 && h <= 86400)) || isnan(h))
				return bad(err, "bad_heartbeat", "heartbeat_s",
					   "heartbeat_s: 0 (none) or 0.1..86400 "
					   "seconds");
			s->heartbeat_ms = (uint32_t)llround(h * 1000.0);
		} else if (!strcmp(key, "enabled")) {
			if (!json_is_boolean(v))
				return bad(err, "bad_enabled", "enabled",
					   "enabled: true or false");
			s->enabled = json_is_true(v);
		} else if (!strcmp(key, "notes")) {
			if (set_text(v, s->notes, sizeof(s->notes), key,
				     "bad_notes", err))
				return -EINVAL;
		} else if (!strcmp(key, "created_ns") || !strcmp(key, "updated_ns")) {
			/* Read-only: a GET's object may be sent back as is. */
			continue;
		} else {
			bad(err, "unknown_field", "", "");
			snprintf(err->field, sizeof(err->field), "%.31s", key);
			snprintf(err->msg, sizeof(err->msg), "unknown field "
				 "'%.40s' (fields: id, name, labels, heartbeat_s, "
				 "enabled, notes)", key);
			return -EINVAL;
		}
	}
	return xtel_device_spec_check(s, err);
}
