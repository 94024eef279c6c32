// SPDX-License-Identifier: MIT
/*
 * unit: the aggregator's SQLite checkpoint (userspace/collector/agg/
 * store.c, with the merged state of agg/state.c) in a real file of a
 * temporary directory: the edges' health verdicts survive a restart
 * (the checkpoint keeps the latest per client, restored before any new
 * rollup comes), and the applied message ids are pruned once older than
 * the stream's duplicate window and acked, in bounded steps, oldest
 * first, while the newer ones (and old unacked ones) still recognise a
 * redelivery; a checkpoint of the first schema opens, its edge ids
 * moved into interval sets once; the edge runs' interval sets survive a
 * reopen position for position, holes included, and a late message
 * closes its hole in the file too.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "collector/agg/state.h"
#include "collector/agg/store.h"
#include "health/health.h"

struct fix {
	char dir[64];
	char db[96];
	struct xtel_agg_state s;
	struct xtel_agg_store *st;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/xtel-test-agg-store.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/agg.db", f->dir);
	*state = f;
	return 0;
}

static void close_store(struct fix *f)
{
	xtel_agg_store_close(f->st);
	f->st = NULL;
	xtel_agg_state_fini(&f->s);
}

static void open_store(struct fix *f)
{
	assert_int_equal(xtel_agg_state_init(&f->s), 0);
	assert_int_equal(xtel_agg_store_open(f->db, &f->s, &f->st), 0);
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char path[128];

	if (f->st)
		close_store(f);
	unlink(f->db);
	snprintf(path, sizeof(path), "%s-wal", f->db);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", f->db);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static const struct xtel_agg_client *find(const struct xtel_agg_state *s,
					  const char *site, uint32_t id)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->c[i]->id == id && !strcmp(s->sites[s->c[i]->site], site))
			return s->c[i];
	return NULL;
}

/* One client rollup of 10 datagrams, with a verdict when state is set. */
static void merge(struct fix *f, const char *site, uint32_t id,
		  const char *state, double score, uint64_t since_ns)
{
	struct xtel_rollup_client rc = { .client_id = id, .received = 10,
					 .bytes = 640, .last_seen_ns = 5 };

	if (state) {
		rc.health = true;
		snprintf(rc.health_state, sizeof(rc.health_state), "%s", state);
		rc.health_score = score;
		rc.health_since_ns = since_ns;
	}
	assert_int_equal(xtel_agg_merge(&f->s, site, &rc), 0);
}

static void expect_verdict(const struct xtel_agg_client *c, int state,
			   float score, uint64_t since_ns)
{
	assert_non_null(c);
	assert_true(c->has_health);
	assert_int_equal(c->health_state, state);
	assert_true(c->health_score == score);
	assert_int_equal(c->health_since_ns, since_ns);
}

static void test_verdicts_survive_restart(void **state)
{
	struct fix *f = *state;
	const struct xtel_agg_client *c;
	struct xtel_view *v;

	open_store(f);
	merge(f, "siteA", 3, "anomalous", 2.5, 1000);
	merge(f, "siteA", 5, NULL, 0, 0);
	merge(f, "siteB", 3, "silent", 1.25, 2000);
	assert_int_equal(xtel_agg_store_mark(f->st, "e1.1.1.0", 1, 10, NULL), 0);
	assert_int_equal(xtel_agg_store_commit(f->st, &f->s), 0);
	/* a later verdict of one client alone: only its record is rewritten */
	merge(f, "siteA", 3, "ok", 0.5, 3000);
	assert_int_equal(xtel_agg_store_mark(f->st, "e1.1.2.0", 2, 20, NULL), 0);
	assert_int_equal(xtel_agg_store_commit(f->st, &f->s), 0);
	close_store(f);

	open_store(f);
	assert_int_equal(f->s.n, 3);
	expect_verdict(find(&f->s, "siteA", 3), XTEL_HEALTH_OK, 0.5f, 3000);
	expect_verdict(find(&f->s, "siteB", 3), XTEL_HEALTH_SILENT, 1.25f, 2000);
	c = find(&f->s, "siteA", 5);
	assert_non_null(c);
	assert_false(c->has_health);
	assert_int_equal(find(&f->s, "siteA", 3)->c.received, 20);
	for (uint32_t i = 0; i < f->s.n; i++)
		assert_false(f->s.c[i]->dirty);
	/* the restored verdicts are the view's, before any new rollup */
	v = xtel_agg_view(&f->s, 10000, 1000000000ULL, 1.0, false);
	assert_non_null(v);
	assert_int_equal(v->health->n_clients, 3);
	/* sorted by id, then site: (3, siteA), (3, siteB), (5, siteA) */
	assert_int_equal(v->health->clients[0].state, XTEL_HEALTH_OK);
	assert_int_equal(v->health->clients[0].since_ns, 3000);
	assert_int_equal(v->health->clients[1].state, XTEL_HEALTH_SILENT);
	assert_true(v->health->clients[1].score == 1.25f);
	assert_int_equal(v->health->clients[2].state, XTEL_HEALTH_WARMUP);
	assert_int_equal(v->health->counts[XTEL_HEALTH_OK], 1);
	assert_int_equal(v->health->counts[XTEL_HEALTH_SILENT], 1);
	assert_int_equal(v->health->counts[XTEL_HEALTH_WARMUP], 1);
	xtel_view_get(v);	/* the model takes the first on publish */
	xtel_view_put(v);
	/* an older verdict than the restored one does not replace it */
	merge(f, "siteB", 3, "ok", 0.1, 1500);
	expect_verdict(find(&f->s, "siteB", 3), XTEL_HEALTH_SILENT, 1.25f, 2000);
}

enum { N_IDS = 3000, ACK_FLOOR = 2500, BEFORE = 2000 };

static void id_of(char *buf, size_t len, unsigned int i)
{
	snprintf(buf, len, "edge%u.1.%u.0", i % 7, i);
}

/* Ids 1..N_IDS applied at stream time i (seq i), one late id old but unacked. */
static void mark_ids(struct fix *f)
{
	char id[32];

	for (unsigned int i = 1; i <= N_IDS; i++) {
		id_of(id, sizeof(id), i);
		assert_int_equal(xtel_agg_store_mark(f->st, id, i, i, NULL), 0);
	}
	/* stored long ago, but above the ack floor: may come back */
	assert_int_equal(xtel_agg_store_mark(f->st, "late.1.1.0", ACK_FLOOR + 600, 5, NULL), 0);
	assert_int_equal(xtel_agg_store_commit(f->st, &f->s), 0);
}

/* Every id older than BEFORE and acked is gone, every other one is seen. */
static void expect_pruned(struct fix *f)
{
	char id[32];

	assert_int_equal(xtel_agg_store_ids(f->st), N_IDS + 1 - (BEFORE - 1));
	for (unsigned int i = 1; i <= N_IDS; i++) {
		id_of(id, sizeof(id), i);
		if (i < BEFORE)
			assert_false(xtel_agg_store_seen(f->st, id));
		else	/* a redelivery inside the window: still a duplicate */
			assert_true(xtel_agg_store_seen(f->st, id));
	}
	assert_true(xtel_agg_store_seen(f->st, "late.1.1.0"));
}

static void test_prune_ids(void **state)
{
	struct fix *f = *state;
	char id[32];

	open_store(f);
	mark_ids(f);
	assert_int_equal(xtel_agg_store_ids(f->st), N_IDS + 1);
	/* a bounded step takes the oldest first */
	assert_int_equal(xtel_agg_store_prune(f->st, BEFORE, ACK_FLOOR, 500), 500);
	assert_int_equal(xtel_agg_store_ids(f->st), N_IDS + 1 - 500);
	for (unsigned int i = 1; i <= 501; i++) {
		id_of(id, sizeof(id), i);
		assert_int_equal(xtel_agg_store_seen(f->st, id), i > 500);
	}
	/* the rest in one step; the next finds nothing */
	assert_int_equal(xtel_agg_store_prune(f->st, BEFORE, ACK_FLOOR, 10000),
			 BEFORE - 1 - 500);
	assert_int_equal(xtel_agg_store_prune(f->st, BEFORE, ACK_FLOOR, 10000), 0);
	expect_pruned(f);
	/* the file holds the same after a restart */
	close_store(f);
	open_store(f);
	expect_pruned(f);
}

/* SQL on the checkpoint file as another program (the store closed). */
static void file_sql(struct fix *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/*
 * A checkpoint of the first version (no ts_ns, no ranges) opens: its
 * edge ids move into their runs' ranges once (parts unknown: one range
 * per seq), any other id stays in the pruned table with a time of 0.
 * The way forward again after a downgrade (docs/SCALE-OUT.md, upgrade
 * note): user_version 0 moves the previous binary's ids in as well.
 */
static void test_old_schema_migrates(void **state)
{
	struct fix *f = *state;
	struct xtel_rollup_hdr h = { .version = 1, .site = "s", .edge = "a",
				     .run = 1, .seq = 4, .part = 0, .parts = 1 };
	file_sql(f, "CREATE TABLE applied (msg_id TEXT PRIMARY KEY, seq INTEGER "
		 "NOT NULL) STRICT, WITHOUT ROWID;"
		 "INSERT INTO applied VALUES ('a.1.1.0', 1), ('a.1.2.0', 2), "
		 "('a.1.3.0', 3), ('stream.9', 9);");
	open_store(f);
	assert_int_equal(xtel_agg_store_ids(f->st), 1);
	assert_int_equal(xtel_agg_store_ranges(f->st), 3);
	for (unsigned int i = 1; i <= 3; i++) {
		char id[16];

		snprintf(id, sizeof(id), "a.1.%u.0", i);
		assert_true(xtel_agg_store_seen(f->st, id));
	}
	assert_false(xtel_agg_store_seen(f->st, "a.1.4.0"));
	assert_false(xtel_agg_store_seen(f->st, "a.1.3.1"));
	/* the edge ids are never pruned; the other one is, once acked */
	assert_int_equal(xtel_agg_store_prune(f->st, 1, 9, 100), 1);
	assert_false(xtel_agg_store_seen(f->st, "stream.9"));
	assert_true(xtel_agg_store_seen(f->st, "a.1.1.0"));
	/* a new message of the run (its parts known) and an undecodable one */
	assert_int_equal(xtel_agg_store_mark(f->st, "a.1.4.0", 10, 50, &h), 0);
	assert_int_equal(xtel_agg_store_mark(f->st, "b.1.1.0", 11, 50, NULL), 0);
	assert_int_equal(xtel_agg_store_commit(f->st, &f->s), 0);
	assert_int_equal(xtel_agg_store_ranges(f->st), 4);
	close_store(f);
	/* migrated once: the undecodable edge id stays in the table */
	open_store(f);
	assert_int_equal(xtel_agg_store_ids(f->st), 1);
	assert_int_equal(xtel_agg_store_ranges(f->st), 4);
	assert_true(xtel_agg_store_seen(f->st, "a.1.4.0"));
	assert_true(xtel_agg_store_seen(f->st, "b.1.1.0"));
	assert_true(xtel_agg_store_seen(f->st, "a.1.2.0"));
	close_store(f);
	/* one-way: back on the previous binary, which applied a.1.5.0 into
	 * the table; forward again after user_version = 0, the table's edge
	 * ids join the ranges there already (a.1.5.0 extends seq 4's range,
	 * whose parts are known; b.1.1.0 is a run of its own) */
	file_sql(f, "INSERT INTO applied VALUES ('a.1.5.0', 12, 60);"
		 "PRAGMA user_version = 0;");
	open_store(f);
	assert_int_equal(xtel_agg_store_ids(f->st), 0);
	assert_int_equal(xtel_agg_store_ranges(f->st), 5);
	assert_true(xtel_agg_store_seen(f->st, "a.1.5.0"));
	assert_true(xtel_agg_store_seen(f->st, "a.1.1.0"));
	assert_false(xtel_agg_store_seen(f->st, "a.1.6.0"));
	close_store(f);
	open_store(f);
	assert_int_equal(xtel_agg_store_ids(f->st), 0);
	assert_int_equal(xtel_agg_store_ranges(f->st), 5);
	assert_true(xtel_agg_store_seen(f->st, "a.1.5.0"));
}

/* A header of edge e, run, seq, part of parts. */
static struct xtel_rollup_hdr hdr(const char *edge, uint64_t run, uint64_t seq,
				  uint32_t part, uint32_t parts)
{
	struct xtel_rollup_hdr h = { .version = 1, .site = "s", .run = run,
				     .seq = seq, .part = part, .parts = parts };

	snprintf(h.edge, sizeof(h.edge), "%s", edge);
	return h;
}

static void mark_msg(struct fix *f, const char *edge, uint64_t run, uint64_t seq,
		     uint32_t part, uint32_t parts)
{
	struct xtel_rollup_hdr h = hdr(edge, run, seq, part, parts);
	char id[64];

	snprintf(id, sizeof(id), "%s.%" PRIu64 ".%" PRIu64 ".%" PRIu32, edge, run,
		 seq, part);
	assert_false(xtel_agg_store_seen(f->st, id));
	assert_int_equal(xtel_agg_store_mark(f->st, id, seq, 1, &h), 0);
}

/*
 * The edge runs' sets through the file: 1,000 views of 3 parts of one
 * run with two holes (seq 500 never came, seq 700 part 1 late) are three
 * ranges, in the per-id table nothing; after a reopen the same positions
 * are seen, nothing else is, and the late part fills its hole for good
 * (committed in the batch's transaction). A second run is a set of its
 * own. An id whose header disagrees goes to the per-id table.
 */
static void test_ranges_persist(void **state)
{
	struct fix *f = *state;
	struct xtel_rollup_hdr other = hdr("x", 9, 1, 0, 1);

	open_store(f);
	for (uint64_t seq = 1; seq <= 1000; seq++)
		for (uint32_t part = 0; part < 3; part++)
			if (seq != 500 && !(seq == 700 && part == 1))
				mark_msg(f, "e1", 77, seq, part, 3);
	mark_msg(f, "e1", 78, 1, 0, 1);
	/* the header says another edge: kept by id, not in a range (1) */
	assert_int_equal(xtel_agg_store_mark(f->st, "e1.79.1.0", 5, 1, &other), 1);
	assert_int_equal(xtel_agg_store_commit(f->st, &f->s), 0);
	assert_int_equal(xtel_agg_store_ranges(f->st), 4);
	assert_int_equal(xtel_agg_store_ids(f->st), 1);
	close_store(f);

	open_store(f);
	assert_int_equal(xtel_agg_store_ranges(f->st), 4);
	assert_int_equal(xtel_agg_store_ids(f->st), 1);
	assert_true(xtel_agg_store_seen(f->st, "e1.77.1.0"));
	assert_true(xtel_agg_store_seen(f->st, "e1.77.499.2"));
	assert_false(xtel_agg_store_seen(f->st, "e1.77.500.0"));
	assert_false(xtel_agg_store_seen(f->st, "e1.77.500.2"));
	assert_true(xtel_agg_store_seen(f->st, "e1.77.501.0"));
	assert_true(xtel_agg_store_seen(f->st, "e1.77.700.0"));
	assert_false(xtel_agg_store_seen(f->st, "e1.77.700.1"));
	assert_true(xtel_agg_store_seen(f->st, "e1.77.700.2"));
	assert_true(xtel_agg_store_seen(f->st, "e1.77.1000.2"));
	assert_false(xtel_agg_store_seen(f->st, "e1.77.1001.0"));
	assert_false(xtel_agg_store_seen(f->st, "e1.77.0.0"));
	assert_true(xtel_agg_store_seen(f->st, "e1.78.1.0"));
	assert_false(xtel_agg_store_seen(f->st, "e1.78.2.0"));
	assert_false(xtel_agg_store_seen(f->st, "e2.77.1.0"));
	assert_true(xtel_agg_store_seen(f->st, "e1.79.1.0"));
	/* the late part comes: its hole closes, in the file too */
	mark_msg(f, "e1", 77, 700, 1, 3);
	assert_int_equal(xtel_agg_store_commit(f->st, &f->s), 0);
	assert_int_equal(xtel_agg_store_ranges(f->st), 3);
	close_store(f);
	open_store(f);
	assert_int_equal(xtel_agg_store_ranges(f->st), 3);
	assert_true(xtel_agg_store_seen(f->st, "e1.77.700.1"));
	assert_false(xtel_agg_store_seen(f->st, "e1.77.500.1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verdicts_survive_restart,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_schema_migrates, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ranges_persist, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
