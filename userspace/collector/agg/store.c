// SPDX-License-Identifier: MIT
/*
 * SQLite checkpoint (store.h). Tables, STRICT:
 *   client(site TEXT, id INTEGER, state BLOB)  primary key (site, id)
 *   applied(msg_id TEXT PRIMARY KEY, seq INTEGER, ts_ns INTEGER)
 *                                   index applied_by_ts (ts_ns)
 *   applied_range(run_key TEXT, lo_seq, lo_part, hi_seq, hi_part,
 *                 hi_parts INTEGER)  primary key (run_key, lo_seq, lo_part)
 * synchronous=FULL: a commit is on disk before the acks go out, which is
 * the whole point. The applied ids are also kept in a hash set in memory
 * so checking one costs no query. ts_ns (the stream's store time of the
 * message) came after the first version: a file without it gets the
 * column (0: pruned at the first chance once acked).
 *
 * An edge's message (its id "<edge>.<run>.<seq>.<part>" as its header
 * says) is remembered in the interval sets of ranges.h, never forgotten,
 * one row per range: a changed run's rows are rewritten in the batch's
 * transaction. Only what has no such id (no id, an undecodable message)
 * goes to the pruned per-id table. A checkpoint from before the ranges
 * (PRAGMA user_version 0) moves its edge ids from applied into
 * applied_range at open, in one transaction that sets user_version 1
 * (their parts unknown: see ranges.h). One-way (docs/SCALE-OUT.md,
 * upgrade note): the previous binary reads only applied, where no edge
 * id goes any more, so keeping the moved rows would not keep its
 * deduplication; user_version 0 set by hand moves them again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/log.h"
#include "collector/agg/ranges.h"
#include "collector/agg/store.h"
#include "export/rollup.h"

struct pending_id {
	char *id;
	uint64_t seq, ts_ns;
};

struct xtel_agg_store {
	sqlite3 *db;
	sqlite3_stmt *put_client, *put_id, *prune, *del_ranges, *put_range,
		     *del_id;
	struct xtel_agg_ranges ranges;
	char **set;			/* open addressing, owned strings */
	uint64_t set_n, set_mask;
	struct pending_id *pend;
	size_t n_pend, cap_pend;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static int set_grow(struct xtel_agg_store *st)
{
	uint64_t mask = st->set_mask ? st->set_mask * 2 + 1 : 4095;
	char **n = calloc(mask + 1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (uint64_t i = 0; st->set && i <= st->set_mask; i++) {
		uint64_t k;

		if (!st->set[i])
			continue;
		for (k = str_hash(st->set[i]) & mask; n[k]; k = (k + 1) & mask)
			;
		n[k] = st->set[i];
	}
	free(st->set);
	st->set = n;
	st->set_mask = mask;
	return 0;
}

/* Adds a copy of id; 1 when it was there already. */
static int set_add(struct xtel_agg_store *st, const char *id)
{
	uint64_t k;

	if ((st->set_n + 1) * 2 > st->set_mask + 1 && set_grow(st))
		return -ENOMEM;
	for (k = str_hash(id) & st->set_mask; st->set[k]; k = (k + 1) & st->set_mask)
		if (!strcmp(st->set[k], id))
			return 1;
	st->set[k] = strdup(id);
	if (!st->set[k])
		return -ENOMEM;
	st->set_n++;
	return 0;
}

/* Whether a at slot j may move back into the hole at slot k. */
static bool may_fill(const struct xtel_agg_store *st, uint64_t k, uint64_t j)
{
	uint64_t home = str_hash(st->set[j]) & st->set_mask;

	/* it stays when its home lies cyclically in (k, j] */
	return k < j ? home <= k || home > j : home <= k && home > j;
}

/* Removes id (linear probing: the entries after it close the gap). */
static void set_del(struct xtel_agg_store *st, const char *id)
{
	uint64_t k = str_hash(id) & st->set_mask, j;

	for (; st->set[k]; k = (k + 1) & st->set_mask)
		if (!strcmp(st->set[k], id))
			break;
	if (!st->set[k])
		return;
	free(st->set[k]);
	st->set[k] = NULL;
	st->set_n--;
	for (j = (k + 1) & st->set_mask; st->set[j]; j = (j + 1) & st->set_mask) {
		if (!may_fill(st, k, j))
			continue;
		st->set[k] = st->set[j];
		st->set[j] = NULL;
		k = j;
	}
}

bool xtel_agg_store_seen(struct xtel_agg_store *st, const char *id)
{
	struct xtel_rollup_id p;

	if (xtel_rollup_parse_id(id, &p) &&
	    xtel_agg_ranges_has(&st->ranges, id, p.key_len, p.seq, p.part))
		return true;
	if (!st->set)
		return false;
	for (uint64_t k = str_hash(id) & st->set_mask; st->set[k];
	     k = (k + 1) & st->set_mask)
		if (!strcmp(st->set[k], id))
			return true;
	return false;
}

uint64_t xtel_agg_store_ids(const struct xtel_agg_store *st)
{
	return st->set_n;
}

uint64_t xtel_agg_store_ranges(const struct xtel_agg_store *st)
{
	return st->ranges.n_ranges;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	pr_err("--agg-db: %s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
	return -EIO;
}

static int step(struct xtel_agg_store *st, sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc == SQLITE_DONE)
		return 0;
	pr_err("--agg-db: %s", sqlite3_errmsg(st->db));
	return -EIO;
}

/* The dirty runs' rows anew (in the caller's transaction). */
static int write_ranges(struct xtel_agg_store *st)
{
	int err = 0;

	for (size_t i = 0; i < st->ranges.n_dirty && !err; i++) {
		const struct xtel_agg_runset *r = st->ranges.dirty[i];

		sqlite3_bind_text(st->del_ranges, 1, r->key, -1, SQLITE_STATIC);
		err = step(st, st->del_ranges);
		for (uint32_t k = 0; k < r->n && !err; k++) {
			const struct xtel_agg_range *g = &r->r[k];

			sqlite3_bind_text(st->put_range, 1, r->key, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st->put_range, 2, (sqlite3_int64)g->lo_seq);
			sqlite3_bind_int64(st->put_range, 3, g->lo_part);
			sqlite3_bind_int64(st->put_range, 4, (sqlite3_int64)g->hi_seq);
			sqlite3_bind_int64(st->put_range, 5, g->hi_part);
			sqlite3_bind_int64(st->put_range, 6, g->hi_parts);
			err = step(st, st->put_range);
		}
	}
	return err;
}

static int load_ranges(struct xtel_agg_store *st)
{
	sqlite3_stmt *q;
	int rc, err = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT run_key, lo_seq, lo_part, hi_seq, "
			       "hi_part, hi_parts FROM applied_range ORDER BY "
			       "run_key, lo_seq, lo_part", -1, &q, NULL))
		return -EIO;
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct xtel_agg_range g = {
			.lo_seq = (uint64_t)sqlite3_column_int64(q, 1),
			.lo_part = (uint32_t)sqlite3_column_int64(q, 2),
			.hi_seq = (uint64_t)sqlite3_column_int64(q, 3),
			.hi_part = (uint32_t)sqlite3_column_int64(q, 4),
			.hi_parts = (uint32_t)sqlite3_column_int64(q, 5),
		};

		err = xtel_agg_ranges_load(&st->ranges,
					   (const char *)sqlite3_column_text(q, 0), &g);
	}
	sqlite3_finalize(q);
	return err ? err : rc == SQLITE_DONE ? 0 : -EIO;
}

/*
 * The per-id table into the set. A checkpoint from before the ranges
 * (user_version 0) moves its edge ids into their runs' ranges instead,
 * once: they leave the table in one transaction with the ranges' rows
 * and user_version 1. (Later, an edge id in the table is an undecodable
 * message's, which stays there.)
 */
static int load_ids(struct xtel_agg_store *st, bool migrate)
{
	sqlite3_stmt *q;
	char **moved = NULL;
	size_t n = 0, cap = 0;
	int rc, err = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT msg_id FROM applied", -1, &q, NULL))
		return -EIO;
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(q, 0);
		struct xtel_rollup_id p;

		if (!migrate || !xtel_rollup_parse_id(id, &p)) {
			err = set_add(st, id) < 0 ? -ENOMEM : 0;
			continue;
		}
		if (n == cap) {
			char **m = realloc(moved, (cap = cap ? cap * 2 : 256) * sizeof(*m));

			if (!m) {
				err = -ENOMEM;
				break;
			}
			moved = m;
		}
		moved[n] = strdup(id);
		if (!moved[n++] ||
		    xtel_agg_ranges_add(&st->ranges, id, p.key_len, p.seq, p.part, 0) < 0)
			err = -ENOMEM;
	}
	sqlite3_finalize(q);
	if (!err && rc != SQLITE_DONE)
		err = -EIO;
	if (!err && migrate) {
		err = exec(st->db, "BEGIN IMMEDIATE");
		if (!err)
			err = write_ranges(st);
		for (size_t i = 0; i < n && !err; i++) {
			sqlite3_bind_text(st->del_id, 1, moved[i], -1, SQLITE_STATIC);
			err = step(st, st->del_id);
		}
		if (!err)
			err = exec(st->db, "PRAGMA user_version = 1");
		if (!err)
			err = exec(st->db, "COMMIT");
		if (err)
			exec(st->db, "ROLLBACK");
		else if (n)
			pr_info("--agg-db: %zu applied ids moved into %" PRIu64
				" ranges", n, st->ranges.n_ranges);
	}
	xtel_agg_ranges_clean(&st->ranges);
	for (size_t i = 0; i < n; i++)
		free(moved[i]);
	free(moved);
	return err;
}

/* Restore one record: its blob is a rollup of cumulative figures. */
static int restore_fn(void *arg, const struct xtel_rollup_hdr *h,
		      const struct xtel_rollup_client *c, bool is_total)
{
	return is_total ? 0 : xtel_agg_merge(arg, h->site, c);
}

static int load(struct xtel_agg_store *st, struct xtel_agg_state *s)
{
	sqlite3_stmt *q;
	int rc, err = 0, version;

	if (sqlite3_prepare_v2(st->db, "SELECT state FROM client", -1, &q, NULL))
		return -EIO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && !err) {
		struct xtel_rollup_hdr h;

		err = xtel_rollup_decode(sqlite3_column_blob(q, 0),
					 (size_t)sqlite3_column_bytes(q, 0), &h,
					 restore_fn, s);
	}
	sqlite3_finalize(q);
	if (err || rc != SQLITE_DONE)
		return err ? err : -EIO;
	for (uint32_t i = 0; i < s->n; i++)
		s->c[i]->dirty = false;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL))
		return -EIO;
	rc = sqlite3_step(q);
	version = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
	sqlite3_finalize(q);
	if (version < 0)
		return -EIO;
	err = load_ranges(st);
	return err ? err : load_ids(st, version < 1);
}

/* A checkpoint of the first version: its applied ids get ts_ns (0). */
static int add_ts_column(sqlite3 *db)
{
	sqlite3_stmt *q;

	if (sqlite3_prepare_v2(db, "SELECT ts_ns FROM applied LIMIT 0", -1, &q,
			       NULL) == SQLITE_OK) {
		sqlite3_finalize(q);
		return 0;
	}
	return exec(db, "ALTER TABLE applied ADD COLUMN ts_ns INTEGER NOT NULL "
		    "DEFAULT 0");
}

int xtel_agg_store_open(const char *path, struct xtel_agg_state *s,
			struct xtel_agg_store **out)
{
	struct xtel_agg_store *st = calloc(1, sizeof(*st));
	int err;

	if (!st)
		return -ENOMEM;
	xtel_agg_ranges_init(&st->ranges);
	if (sqlite3_open(path, &st->db) != SQLITE_OK) {
		pr_err("--agg-db %s: %s", path, sqlite3_errmsg(st->db));
		err = -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	err = exec(st->db, "PRAGMA journal_mode=WAL");
	if (!err)
		err = exec(st->db, "PRAGMA synchronous=FULL");
	if (!err)
		err = exec(st->db, "CREATE TABLE IF NOT EXISTS client (site TEXT NOT NULL, "
			   "id INTEGER NOT NULL, state BLOB NOT NULL, "
			   "PRIMARY KEY (site, id)) STRICT, WITHOUT ROWID");
	if (!err)
		err = exec(st->db, "CREATE TABLE IF NOT EXISTS applied (msg_id TEXT "
			   "PRIMARY KEY, seq INTEGER NOT NULL, ts_ns INTEGER NOT "
			   "NULL DEFAULT 0) STRICT, WITHOUT ROWID");
	if (!err)
		err = add_ts_column(st->db);
	if (!err)
		err = exec(st->db, "CREATE INDEX IF NOT EXISTS applied_by_ts ON "
			   "applied (ts_ns)");
	if (!err)
		err = exec(st->db, "CREATE TABLE IF NOT EXISTS applied_range (run_key "
			   "TEXT NOT NULL, lo_seq INTEGER NOT NULL, lo_part INTEGER "
			   "NOT NULL, hi_seq INTEGER NOT NULL, hi_part INTEGER NOT "
			   "NULL, hi_parts INTEGER NOT NULL, PRIMARY KEY (run_key, "
			   "lo_seq, lo_part)) STRICT, WITHOUT ROWID");
	if (err)
		goto fail;
	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO client VALUES (?, ?, ?)",
			       -1, &st->put_client, NULL) ||
	    sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO applied VALUES (?, ?, ?)",
			       -1, &st->put_id, NULL) ||
	    sqlite3_prepare_v2(st->db, "DELETE FROM applied WHERE msg_id IN "
			       "(SELECT msg_id FROM applied WHERE ts_ns < ?1 AND "
			       "seq <= ?2 ORDER BY ts_ns LIMIT ?3) RETURNING msg_id",
			       -1, &st->prune, NULL) ||
	    sqlite3_prepare_v2(st->db, "DELETE FROM applied_range WHERE run_key = ?",
			       -1, &st->del_ranges, NULL) ||
	    sqlite3_prepare_v2(st->db, "INSERT INTO applied_range VALUES "
			       "(?, ?, ?, ?, ?, ?)", -1, &st->put_range, NULL) ||
	    sqlite3_prepare_v2(st->db, "DELETE FROM applied WHERE msg_id = ?",
			       -1, &st->del_id, NULL)) {
		pr_err("--agg-db %s: %s", path, sqlite3_errmsg(st->db));
		err = -EIO;
		goto fail;
	}
	err = load(st, s);
	if (err) {
		pr_err("--agg-db %s: the checkpoint does not load (%s)", path,
		       strerror(-err));
		goto fail;
	}
	*out = st;
	return 0;
fail:
	xtel_agg_store_close(st);
	return err;
}

void xtel_agg_store_close(struct xtel_agg_store *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->put_client);
	sqlite3_finalize(st->put_id);
	sqlite3_finalize(st->prune);
	sqlite3_finalize(st->del_ranges);
	sqlite3_finalize(st->put_range);
	sqlite3_finalize(st->del_id);
	xtel_agg_ranges_fini(&st->ranges);
	sqlite3_close(st->db);
	for (uint64_t i = 0; st->set && i <= st->set_mask; i++)
		free(st->set[i]);
	free(st->set);
	for (size_t i = 0; i < st->n_pend; i++)
		free(st->pend[i].id);
	free(st->pend);
	free(st);
}

int xtel_agg_store_mark(struct xtel_agg_store *st, const char *msg_id,
			uint64_t seq, uint64_t ts_ns, const struct xtel_rollup_hdr *h)
{
	struct xtel_rollup_id p;

	/* an edge's message as its header says: its run's ranges */
	if (h && xtel_rollup_parse_id(msg_id, &p) && p.run == h->run &&
	    p.seq == h->seq && p.part == h->part && p.part < h->parts &&
	    p.edge_len == strlen(h->edge) && !strncmp(msg_id, h->edge, p.edge_len))
		return xtel_agg_ranges_add(&st->ranges, msg_id, p.key_len, p.seq,
					   p.part, h->parts) < 0 ? -ENOMEM : 0;
	if (st->n_pend == st->cap_pend) {
		size_t ncap = st->cap_pend ? st->cap_pend * 2 : 256;
		struct pending_id *n = realloc(st->pend, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		st->pend = n;
		st->cap_pend = ncap;
	}
	st->pend[st->n_pend].id = strdup(msg_id);
	if (!st->pend[st->n_pend].id)
		return -ENOMEM;
	st->pend[st->n_pend].seq = seq;
	st->pend[st->n_pend++].ts_ns = ts_ns;
	if (set_add(st, msg_id) < 0)
		return -ENOMEM;
	return h ? 1 : 0;
}

int xtel_agg_store_commit(struct xtel_agg_store *st, struct xtel_agg_state *s)
{
	static struct xtel_lat_bucket buckets[XTEL_LAT_BUCKETS];
	static struct xtel_rollup_metric metrics[XTEL_ROLLUP_MAX_METRICS];
	struct xtel_cbor_buf b = { 0 };
	int err = exec(st->db, "BEGIN IMMEDIATE");

	for (uint32_t i = 0; i < s->n && !err; i++) {
		struct xtel_agg_client *a = s->c[i];
		struct xtel_rollup_hdr h = { .version = XTEL_ROLLUP_VERSION,
					     .parts = 1 };
		struct xtel_rollup_client rc;

		if (!a->dirty)
			continue;
		snprintf(h.site, sizeof(h.site), "%s", s->sites[a->site]);
		snprintf(h.edge, sizeof(h.edge), "checkpoint");
		xtel_agg_as_rollup(a, &rc, buckets, metrics);
		xtel_cbor_buf_reset(&b);
		xtel_rollup_put_hdr(&b, &h, false);
		xtel_rollup_put_clients_head(&b, 1);
		xtel_rollup_put_client(&b, &rc);
		if (b.err) {
			err = b.err;
			break;
		}
		sqlite3_bind_text(st->put_client, 1, s->sites[a->site], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st->put_client, 2, a->id);
		sqlite3_bind_blob(st->put_client, 3, b.p, (int)b.len, SQLITE_STATIC);
		err = step(st, st->put_client);
	}
	if (!err)
		err = write_ranges(st);
	for (size_t i = 0; i < st->n_pend && !err; i++) {
		sqlite3_bind_text(st->put_id, 1, st->pend[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st->put_id, 2, (sqlite3_int64)st->pend[i].seq);
		sqlite3_bind_int64(st->put_id, 3, (sqlite3_int64)st->pend[i].ts_ns);
		err = step(st, st->put_id);
	}
	xtel_cbor_buf_free(&b);
	if (!err)
		err = exec(st->db, "COMMIT");
	if (err) {
		exec(st->db, "ROLLBACK");
		return -EIO;
	}
	for (uint32_t i = 0; i < s->n; i++)
		s->c[i]->dirty = false;
	xtel_agg_ranges_clean(&st->ranges);
	for (size_t i = 0; i < st->n_pend; i++)
		free(st->pend[i].id);
	st->n_pend = 0;
	return 0;
}

int xtel_agg_store_prune(struct xtel_agg_store *st, uint64_t before_ns,
			 uint64_t acked_seq, unsigned int max)
{
	char **gone = calloc(max ? max : 1, sizeof(*gone));
	unsigned int n = 0;
	int rc, err;

	if (!gone)
		return -ENOMEM;
	err = exec(st->db, "BEGIN IMMEDIATE");
	sqlite3_bind_int64(st->prune, 1, (sqlite3_int64)before_ns);
	sqlite3_bind_int64(st->prune, 2, (sqlite3_int64)acked_seq);
	sqlite3_bind_int64(st->prune, 3, max);
	while (!err && (rc = sqlite3_step(st->prune)) == SQLITE_ROW && n < max) {
		gone[n] = strdup((const char *)sqlite3_column_text(st->prune, 0));
		if (!gone[n++])
			err = -ENOMEM;
	}
	if (!err && rc != SQLITE_DONE) {
		pr_err("--agg-db: pruning applied ids: %s", sqlite3_errmsg(st->db));
		err = -EIO;
	}
	sqlite3_reset(st->prune);
	sqlite3_clear_bindings(st->prune);
	if (!err)
		err = exec(st->db, "COMMIT");
	if (err)
		exec(st->db, "ROLLBACK");
	/* the set follows the file: only what the commit removed leaves it */
	for (unsigned int i = 0; i < n; i++) {
		if (!err)
			set_del(st, gone[i]);
		free(gone[i]);
	}
	free(gone);
	return err ? err : (int)n;
}
