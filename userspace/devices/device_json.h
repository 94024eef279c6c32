/* SPDX-License-Identifier: MIT */
/*
 * A device as JSON (jansson), as the API sends and takes it: the object
 * xtel_device_json builds, and xtel_device_spec_apply_json, which applies
 * a request body's fields to a spec (POST and PUT start from defaults,
 * PATCH from the stored device and merges the labels object).
 */
#ifndef XTEL_DEVICES_DEVICE_JSON_H
#define XTEL_DEVICES_DEVICE_JSON_H

#include <errno.h>
#include <stdbool.h>

#include <jansson.h>

#include "devices/inventory.h"

json_t *xtel_device_json(const struct xtel_device *d);

/*
 * Apply body o to s; with patch set, an "id" must equal s->id and labels
 * merge (null clears one). Returns 0, or -EINVAL with err naming the field
 * (codes unknown_field, bad_id, id_mismatch, bad_name, bad_label,
 * bad_heartbeat, bad_enabled, bad_notes, bad_json).
 */
int xtel_device_spec_apply_json(json_t *o, struct xtel_device_spec *s,
				bool patch, struct xtel_dev_err *err);

#endif /* XTEL_DEVICES_DEVICE_JSON_H */
