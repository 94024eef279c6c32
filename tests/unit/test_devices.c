// SPDX-License-Identifier: MIT
/*
 * Unit tests of the device inventory (userspace/devices/): snapshots built
 * whole and by one change (sorted, shared devices, lookups), the validation
 * of names, labels, heartbeats and notes, request bodies applied strictly
 * (every error code with the field it names), and the manager over a real
 * SQLite file: every change stored and handed to the apply callback in
 * order, persisted across a reopen field by field, a refused write
 * changing nothing, a newer schema version refused, SIGHUP's reload
 * picking up rows written by another connection.
 *
 * usage: test_devices   (works in a temporary directory of its own)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "devices/db.h"
#include "devices/device_json.h"
#include "devices/devices.h"

static char dir[] = "/tmp/xtel-test-devices-XXXXXX";
static char path[256];

static struct xtel_device *dev(uint32_t id, bool enabled, const char *name)
{
	struct xtel_device_spec s;

	xtel_device_spec_init(&s, id);
	s.enabled = enabled;
	snprintf(s.name, sizeof(s.name), "%s", name);
	return xtel_device_new(&s);
}

static void test_snapshot(void **state)
{
	struct xtel_device *d[3] = { dev(30, true, "c"), dev(10, false, "a"),
				     dev(20, true, "b") };
	struct xtel_inventory *a, *b, *c;
	struct xtel_device *n;

	(void)state;
	a = xtel_inventory_new(d, 3, 1);
	assert_non_null(a);
	assert_int_equal(a->n, 3);
	assert_int_equal(a->n_enabled, 2);
	assert_int_equal(a->keys[0].id, 10);
	assert_int_equal(a->keys[2].id, 30);
	assert_string_equal(xtel_inventory_find(a, 20)->name, "b");
	assert_null(xtel_inventory_find(a, 15));
	assert_null(xtel_inventory_find(a, 0));
	assert_null(xtel_inventory_find(a, 4294967295u));
	assert_null(xtel_inventory_find(NULL, 10));

	/* with: a new id in order, then a replacement sharing the rest */
	n = dev(15, true, "new");
	b = xtel_inventory_with(a, n);
	assert_int_equal(b->n, 4);
	assert_int_equal(b->version, 2);
	assert_int_equal(b->keys[1].id, 15);
	assert_ptr_equal(b->devs[0], a->devs[0]);
	xtel_device_put(n);
	n = dev(10, true, "a2");
	c = xtel_inventory_with(b, n);
	xtel_device_put(n);
	assert_int_equal(c->n, 4);
	assert_int_equal(c->n_enabled, 4);
	assert_string_equal(xtel_inventory_find(c, 10)->name, "a2");
	assert_string_equal(xtel_inventory_find(b, 10)->name, "a");	/* b unchanged */
	xtel_inventory_put(a);	/* b, c still hold their devices */
	assert_string_equal(xtel_inventory_find(b, 30)->name, "c");
	xtel_inventory_put(b);
	b = xtel_inventory_without(c, 15);
	assert_non_null(b);
	assert_int_equal(b->n, 3);
	assert_null(xtel_inventory_find(b, 15));
	assert_null(xtel_inventory_without(b, 15));
	assert_int_equal(errno, ENOENT);
	xtel_inventory_put(b);
	xtel_inventory_put(c);

	/* a repeated id is refused (and the devices put) */
	d[0] = dev(1, true, "x");
	d[1] = dev(1, true, "y");
	assert_null(xtel_inventory_new(d, 2, 1));
	assert_int_equal(errno, EEXIST);
	/* empty is fine */
	a = xtel_inventory_new(NULL, 0, 1);
	assert_non_null(a);
	assert_int_equal(a->n, 0);
	assert_null(xtel_inventory_find(a, 1));
	xtel_inventory_put(a);
}

static void test_validation(void **state)
{
	struct xtel_device_spec s;
	struct xtel_dev_err err;
	char long_name[80];

	(void)state;
	assert_true(xtel_dev_name_ok(""));
	assert_true(xtel_dev_name_ok("Büro 3 / rack #2"));
	assert_false(xtel_dev_name_ok("a\"b"));
	assert_false(xtel_dev_name_ok("a\\b"));
	assert_false(xtel_dev_name_ok("a\nb"));
	memset(long_name, 'n', 64);
	long_name[64] = '\0';
	assert_true(xtel_dev_name_ok(long_name));
	long_name[64] = 'n';
	long_name[65] = '\0';
	assert_false(xtel_dev_name_ok(long_name));
	assert_true(xtel_dev_label_ok("fra1-dc:a/b_c.d"));
	assert_false(xtel_dev_label_ok("fra 1"));
	assert_false(xtel_dev_label_ok("a=b"));
	assert_true(xtel_dev_notes_ok("line 1\n\tline 2"));
	assert_false(xtel_dev_notes_ok("bell\a"));

	xtel_device_spec_init(&s, 5);
	assert_int_equal(xtel_device_spec_check(&s, &err), 0);
	s.heartbeat_ms = 99;
	assert_int_equal(xtel_device_spec_check(&s, &err), -EINVAL);
	assert_string_equal(err.code, "bad_heartbeat");
	assert_string_equal(err.field, "heartbeat_s");
	s.heartbeat_ms = 86400001;
	assert_int_equal(xtel_device_spec_check(&s, &err), -EINVAL);
	s.heartbeat_ms = 86400000;
	assert_int_equal(xtel_device_spec_check(&s, &err), 0);
	strcpy(s.labels[XTEL_DEV_LABEL_RACK], "r 1");
	assert_int_equal(xtel_device_spec_check(&s, &err), -EINVAL);
	assert_string_equal(err.code, "bad_label");
	assert_string_equal(err.field, "rack");
}

/* Apply body to a fresh spec of id 9 (patch: to a stored-like one). */
static int apply(const char *body, bool patch, struct xtel_device_spec *s,
		 struct xtel_dev_err *err)
{
	json_t *o = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
	int rc;

	assert_non_null(o);
	xtel_device_spec_init(s, 9);
	if (patch) {
		strcpy(s->labels[XTEL_DEV_LABEL_SITE], "fra1");
		strcpy(s->labels[XTEL_DEV_LABEL_ROLE], "edge");
	}
	rc = xtel_device_spec_apply_json(o, s, patch, err);
	json_decref(o);
	return rc;
}

static void expect_err(const char *body, bool patch, const char *code,
		       const char *field)
{
	struct xtel_device_spec s;
	struct xtel_dev_err err = { 0 };

	assert_int_equal(apply(body, patch, &s, &err), -EINVAL);
	assert_string_equal(err.code, code);
	assert_string_equal(err.field, field);
	assert_true(strlen(err.msg) > 0);
}

static void test_json(void **state)
{
	struct xtel_device_spec s;
	struct xtel_dev_err err;
	struct xtel_device *d;
	json_t *o;
	char *txt;

	(void)state;
	assert_int_equal(apply("{\"id\": 4294967295, \"name\": \"n\", "
			       "\"labels\": {\"site\": \"s\", \"rack\": \"r\", "
			       "\"role\": \"x\"}, \"heartbeat_s\": 2.5, "
			       "\"enabled\": false, \"notes\": \"hi\", "
			       "\"created_ns\": 1}", false, &s, &err), 0);
	assert_int_equal(s.id, 4294967295u);
	assert_int_equal(s.heartbeat_ms, 2500);
	assert_false(s.enabled);
	assert_string_equal(s.labels[XTEL_DEV_LABEL_ROLE], "x");
	assert_int_equal(s.created_ns, 0);	/* read-only: ignored */

	/* patch: labels merge, null clears one */
	assert_int_equal(apply("{\"labels\": {\"rack\": \"r9\", \"role\": null}}",
			       true, &s, &err), 0);
	assert_string_equal(s.labels[XTEL_DEV_LABEL_SITE], "fra1");
	assert_string_equal(s.labels[XTEL_DEV_LABEL_RACK], "r9");
	assert_string_equal(s.labels[XTEL_DEV_LABEL_ROLE], "");
	/* PUT/POST: labels replace */
	assert_int_equal(apply("{\"labels\": {\"rack\": \"r9\"}}", false, &s, &err), 0);
	assert_string_equal(s.labels[XTEL_DEV_LABEL_SITE], "");

	expect_err("{\"colour\": 1}", false, "unknown_field", "colour");
	expect_err("{\"id\": -1}", false, "bad_id", "id");
	expect_err("{\"id\": 4294967296}", false, "bad_id", "id");
	expect_err("{\"id\": \"7\"}", false, "bad_id", "id");
	expect_err("{\"id\": 8}", true, "id_mismatch", "id");
	expect_err("{\"name\": 5}", false, "bad_name", "name");
	expect_err("{\"name\": \"a\\\"b\"}", false, "bad_name", "name");
	expect_err("{\"labels\": []}", false, "bad_label", "labels");
	expect_err("{\"labels\": {\"floor\": \"2\"}}", false, "bad_label", "labels");
	expect_err("{\"labels\": {\"site\": \"a b\"}}", false, "bad_label", "site");
	expect_err("{\"labels\": {\"site\": 3}}", false, "bad_label", "site");
	expect_err("{\"heartbeat_s\": -1}", false, "bad_heartbeat", "heartbeat_s");
	expect_err("{\"heartbeat_s\": 0.05}", false, "bad_heartbeat", "heartbeat_s");
	expect_err("{\"heartbeat_s\": 86401}", false, "bad_heartbeat", "heartbeat_s");
	expect_err("{\"heartbeat_s\": \"10\"}", false, "bad_heartbeat", "heartbeat_s");
	expect_err("{\"enabled\": 1}", false, "bad_enabled", "enabled");
	expect_err("{\"notes\": \"a\\u0001\"}", false, "bad_notes", "notes");

	/* and back out: the API's object */
	assert_int_equal(apply("{\"name\": \"n\", \"heartbeat_s\": 10, "
			       "\"labels\": {\"site\": \"s\"}}", false, &s, &err), 0);
	s.created_ns = 5;
	s.updated_ns = 6;
	d = xtel_device_new(&s);
	o = xtel_device_json(d);
	txt = json_dumps(o, JSON_COMPACT);
	assert_string_equal(txt, "{\"id\":9,\"name\":\"n\",\"labels\":{\"site\":\"s\","
			    "\"rack\":\"\",\"role\":\"\"},\"heartbeat_s\":10.0,"
			    "\"enabled\":true,\"notes\":\"\",\"created_ns\":5,"
			    "\"updated_ns\":6}");
	free(txt);
	json_decref(o);
	xtel_device_put(d);
}

/* The apply callback's record of what it was handed. */
struct applied {
	unsigned int calls;
	uint32_t old_n, now_n;
	bool had_old;
	uint64_t version;
};

static void on_apply(void *arg, const struct xtel_inventory *old,
		     struct xtel_inventory *now)
{
	struct applied *a = arg;

	a->calls++;
	a->had_old = old != NULL;
	a->old_n = old ? old->n : 0;
	a->now_n = now->n;
	a->version = now->version;
}

static void spec(struct xtel_device_spec *s, uint32_t id, const char *name,
		 uint32_t hb_ms)
{
	xtel_device_spec_init(s, id);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->heartbeat_ms = hb_ms;
	strcpy(s->labels[XTEL_DEV_LABEL_SITE], "fra1");
	strcpy(s->notes, "two\nlines");
}

static int disable(void *arg, struct xtel_device_spec *s, struct xtel_dev_err *err)
{
	(void)arg;
	(void)err;
	s->enabled = false;
	strcpy(s->labels[XTEL_DEV_LABEL_RACK], "r7");
	s->id = 999;	/* an edit cannot move the device */
	return 0;
}

static void test_manager_persist(void **state)
{
	struct xtel_devices *m;
	struct xtel_device_spec s;
	struct xtel_dev_err err;
	struct xtel_device *d;
	struct xtel_inventory *inv;
	struct applied ap = { 0 };
	const struct xtel_device *x;
	bool created;

	(void)state;
	assert_int_equal(xtel_devices_open(path, &m), 0);
	xtel_devices_set_apply(m, on_apply, &ap);
	assert_int_equal(ap.calls, 1);
	assert_false(ap.had_old);
	assert_int_equal(ap.now_n, 0);

	spec(&s, 7, "seven", 2000);
	assert_int_equal(xtel_devices_create(m, &s, 100, &err, &d), 0);
	assert_int_equal(d->created_ns, 100);
	xtel_device_put(d);
	assert_int_equal(ap.calls, 2);
	assert_int_equal(ap.now_n, 1);
	assert_int_equal(xtel_devices_create(m, &s, 101, &err, &d), -EEXIST);
	assert_int_equal(ap.calls, 2);	/* nothing happened */
	spec(&s, 8, "eight", 0);
	assert_int_equal(xtel_devices_replace(m, &s, 200, &err, &created, &d), 0);
	assert_true(created);
	xtel_device_put(d);
	spec(&s, 8, "eight again", 0);
	assert_int_equal(xtel_devices_replace(m, &s, 300, &err, &created, &d), 0);
	assert_false(created);
	assert_int_equal(d->created_ns, 200);
	assert_int_equal(d->updated_ns, 300);
	xtel_device_put(d);
	assert_int_equal(xtel_devices_edit(m, 7, disable, NULL, 400, &err, &d), 0);
	assert_int_equal(d->id, 7);
	assert_false(d->enabled);
	xtel_device_put(d);
	assert_int_equal(xtel_devices_edit(m, 70, disable, NULL, 400, &err, &d), -ENOENT);
	spec(&s, 9, "bad\"name", 0);
	assert_int_equal(xtel_devices_create(m, &s, 500, &err, &d), -EINVAL);
	assert_string_equal(err.code, "bad_name");
	spec(&s, 9, "nine", 0);
	assert_int_equal(xtel_devices_create(m, &s, 500, &err, &d), 0);
	xtel_device_put(d);
	assert_int_equal(xtel_devices_delete(m, 9, &d), 0);
	assert_string_equal(d->name, "nine");
	xtel_device_put(d);
	assert_int_equal(xtel_devices_delete(m, 9, &d), -ENOENT);
	assert_int_equal(ap.calls, 7);
	assert_int_equal(ap.old_n, 3);
	assert_int_equal(ap.now_n, 2);
	assert_int_equal(ap.version, 7);
	xtel_devices_free(m);

	/* reopen: everything as it was, field by field */
	assert_int_equal(xtel_devices_open(path, &m), 0);
	inv = xtel_devices_current(m);
	assert_int_equal(inv->n, 2);
	assert_int_equal(inv->n_enabled, 1);
	x = xtel_inventory_find(inv, 7);
	assert_non_null(x);
	assert_string_equal(x->name, "seven");
	assert_false(x->enabled);
	assert_int_equal(x->heartbeat_ms, 2000);
	assert_string_equal(x->labels[XTEL_DEV_LABEL_SITE], "fra1");
	assert_string_equal(x->labels[XTEL_DEV_LABEL_RACK], "r7");
	assert_string_equal(x->labels[XTEL_DEV_LABEL_ROLE], "");
	assert_string_equal(x->notes, "two\nlines");
	assert_int_equal(x->created_ns, 100);
	assert_int_equal(x->updated_ns, 400);
	x = xtel_inventory_find(inv, 8);
	assert_string_equal(x->name, "eight again");
	assert_int_equal(x->created_ns, 200);
	assert_null(xtel_inventory_find(inv, 9));
	xtel_inventory_put(inv);
	xtel_devices_free(m);
}

static void test_reload_and_schema(void **state)
{
	struct xtel_devices *m;
	struct xtel_inventory *inv;
	struct xtel_device_spec s;
	struct xtel_dev_err err;
	struct xtel_device *d;
	sqlite3 *db;
	char *jm = NULL;

	(void)state;
	assert_int_equal(xtel_devices_open(path, &m), 0);
	/* WAL, as the store's writer expects of the shared file */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	{
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), 0);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		jm = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	assert_string_equal(jm, "wal");
	free(jm);
	/* another connection writes a row, one a check refuses, deletes one */
	assert_int_equal(sqlite3_exec(db,
		"INSERT INTO devices VALUES (42, 'x', 'a', 'b', 'c', 0, 1, '', 1, 1);"
		"INSERT INTO devices VALUES (43, 'bad\"', '', '', '', 0, 1, '', 1, 1);"
		"INSERT INTO devices VALUES (44, 'ok', '', '', '', 0, 1, printf('%.1025c', 'x'), 1, 1);"
		"INSERT INTO devices VALUES (45, 'ok', '', '', '', 8640000000000, 1, '', 1, 1);"
		"DELETE FROM devices WHERE id = 8;", NULL, NULL, NULL), SQLITE_OK);
	inv = xtel_devices_current(m);
	assert_int_equal(inv->n, 2);	/* not yet */
	xtel_inventory_put(inv);
	assert_int_equal(xtel_devices_reload(m), 0);
	inv = xtel_devices_current(m);
	assert_int_equal(inv->n, 2);	/* 7 and 42; 43..45 skipped, 8 gone */
	assert_non_null(xtel_inventory_find(inv, 42));
	assert_null(xtel_inventory_find(inv, 43));
	assert_null(xtel_inventory_find(inv, 44));	/* notes too long */
	assert_null(xtel_inventory_find(inv, 45));	/* heartbeat out of range */
	assert_null(xtel_inventory_find(inv, 8));
	xtel_inventory_put(inv);

	xtel_devices_free(m);
	spec(&s, 50, "fifty", 0);

	/* a newer schema is refused */
	assert_int_equal(sqlite3_exec(db, "UPDATE xtel_schema SET version = 2 "
				      "WHERE component = 'devices'", NULL, NULL,
				      NULL), SQLITE_OK);
	assert_int_equal(xtel_devices_open(path, &m), -EPROTO);
	assert_int_equal(sqlite3_exec(db, "UPDATE xtel_schema SET version = 1 "
				      "WHERE component = 'devices'", NULL, NULL,
				      NULL), SQLITE_OK);
	sqlite3_close(db);

	/* read-only file: open fails or the write does, never silently */
	assert_int_equal(xtel_devices_open(path, &m), 0);
	chmod(path, 0444);
	if (geteuid() != 0) {	/* root writes anyway */
		int rc = xtel_devices_create(m, &s, 1, &err, &d);

		assert_true(rc < 0 && rc != -EINVAL);
		inv = xtel_devices_current(m);
		assert_null(xtel_inventory_find(inv, 50));
		xtel_inventory_put(inv);
	}
	chmod(path, 0644);
	xtel_devices_free(m);

	/* not a database */
	{
		char junk[300];
		FILE *f;

		snprintf(junk, sizeof(junk), "%s/junk.db", dir);
		f = fopen(junk, "w");
		fputs("this is not an SQLite file, not even close to one....."
		      "......................................................", f);
		fclose(f);
		assert_int_equal(xtel_devices_open(junk, &m), -EIO);
	}
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/xtel.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_manager_persist),
		cmocka_unit_test(test_reload_and_schema),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
