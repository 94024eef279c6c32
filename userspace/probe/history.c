// SPDX-License-Identifier: MIT
/*
 * The probe samples of the stored history (see history.h): one query per
 * read, rows ordered by client and bucket, folded into a sample whenever
 * the (client, ts) pair changes. Metric names go through metric_names, so
 * the query needs no knowledge of their ids.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "probe/history.h"
#include "store/schema.h"

int xtel_probe_samples_push(struct xtel_probe_samples *v,
			    const struct xtel_probe_sample *s)
{
	if (v->max && v->n >= v->max)
		return -E2BIG;
	if (v->n == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 1024;
		struct xtel_probe_sample *p = realloc(v->s, nc * sizeof(*p));

		if (!p)
			return -ENOMEM;
		v->s = p;
		v->cap = nc;
	}
	v->s[v->n++] = *s;
	return 0;
}

void xtel_probe_samples_free(struct xtel_probe_samples *v)
{
	free(v->s);
	v->s = NULL;
	v->n = v->cap = 0;
}

static int db_fail(sqlite3 *db, const char *what)
{
	xtel_log_ratelimited(XTEL_LOG_WARN, xtel_mono_ns(),
			     "probe history: %s: %s", what, sqlite3_errmsg(db));
	return -EIO;
}

/* The oldest probe_ok bucket of a tier, or INT64_MAX when it has none. */
static int oldest(sqlite3 *db, int tier, int64_t *out)
{
	char sql[256];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT MIN(m.ts) FROM metric_%s m JOIN metric_names n "
		 "ON n.id = m.metric WHERE n.name = 'probe_ok'", xtel_tiers[tier].name);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "prepare");
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL ?
	       sqlite3_column_int64(st, 0) : INT64_MAX;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, "query");
}

int xtel_probe_history_tier(sqlite3 *db, int64_t from, int tier)
{
	int64_t o[XTEL_TIER_N];

	if (tier >= XTEL_TIER_CLIENT_FIRST && tier < XTEL_TIER_N)
		return tier;
	for (int t = XTEL_TIER_CLIENT_FIRST; t < XTEL_TIER_N; t++)
		if (oldest(db, t, &o[t]))
			return -EIO;
	/*
	 * A tier covers the range when it reaches back as far as every
	 * coarser one does (to within the coarser bucket), or to from: a
	 * finer tier whose old rows retention deleted does not.
	 */
	for (int t = XTEL_TIER_CLIENT_FIRST; t < XTEL_TIER_N; t++) {
		bool covers = o[t] != INT64_MAX;

		for (int c = t + 1; covers && c < XTEL_TIER_N; c++)
			if (o[c] != INT64_MAX &&
			    o[t] > (from > o[c] ? from : o[c]) + (int64_t)xtel_tiers[c].width_s)
				covers = false;
		if (covers)
			return t;
	}
	return XTEL_TIER_CLIENT_FIRST;
}

/* A bucket being read: its sample and the range of its probe_kind. */
struct bucket {
	struct xtel_probe_sample s;
	double kind_min, kind_max;	/* NaN: no probe_kind row */
};

static void bucket_start(struct bucket *b, uint32_t client, int64_t ts)
{
	xtel_probe_sample_init(&b->s);
	b->s.n = 0;
	b->s.device = client;
	b->s.ts_ns = (uint64_t)ts * XTEL_NS_PER_SEC;
	b->kind_min = b->kind_max = NAN;
}

/* Folds one metric row into the bucket. */
static void fold(struct bucket *b, const char *name, int64_t count, double sum,
		 double min, double max)
{
	double mean = count ? sum / (double)count : NAN;

	if (!strcmp(name, "probe_ok")) {
		b->s.n = (uint32_t)count;
		b->s.n_ok = (uint32_t)llround(sum);
	} else if (!strcmp(name, "probe_kind")) {
		b->kind_min = min;
		b->kind_max = max;
	}
	xtel_probe_sample_set(&b->s, name, strlen(name), mean);
}

/*
 * The bucket's kind: ok when every download was; the failures' kind when
 * it is known (all of one kind, or ok ones and a single failure, whose
 * kind is then the maximum); else mixed.
 */
static int flush(struct xtel_probe_samples *out, struct bucket *b)
{
	struct xtel_probe_sample *s = &b->s;
	double lo = b->kind_min, hi = b->kind_max;

	if (!s->n) {
		out->skipped++;
		return 0;
	}
	if (s->n_ok >= s->n)
		s->kind = XTEL_PROBE_OK;
	else if (lo == hi && hi > 0 && hi < XTEL_PROBE_KIND_MAX)
		s->kind = (uint32_t)hi;
	else if (lo == 0 && s->n_ok + 1 == s->n && hi > 0 && hi < XTEL_PROBE_KIND_MAX)
		s->kind = (uint32_t)hi;
	else
		s->kind = XTEL_PROBE_MIXED;
	return xtel_probe_samples_push(out, s);
}

int xtel_probe_history_read(sqlite3 *db, int64_t from, int64_t to,
			    uint32_t device, int tier,
			    struct xtel_probe_samples *out)
{
	struct bucket cur;
	int64_t cur_client = -1, cur_ts = 0;
	sqlite3_stmt *st;
	char sql[512];
	int rc, ret = 0;

	tier = xtel_probe_history_tier(db, from, tier);
	if (tier < 0)
		return tier;
	out->tier = tier;
	snprintf(sql, sizeof(sql),
		 "SELECT m.client, m.ts, n.name, m.count, m.sum, m.min, m.max "
		 "FROM metric_%s m JOIN metric_names n ON n.id = m.metric "
		 "WHERE n.name LIKE 'probe\\_%%' ESCAPE '\\' AND m.ts >= ?1 AND m.ts < ?2 "
		 "AND (?3 = 0 OR m.client = ?3) ORDER BY m.client, m.ts",
		 xtel_tiers[tier].name);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "prepare");
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	sqlite3_bind_int64(st, 3, device);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t client = sqlite3_column_int64(st, 0), ts = sqlite3_column_int64(st, 1);
		const char *name = (const char *)sqlite3_column_text(st, 2);

		out->rows++;
		if (client != cur_client || ts != cur_ts) {
			if (cur_client >= 0 && (ret = flush(out, &cur)))
				break;
			bucket_start(&cur, (uint32_t)client, ts);
			cur_client = client;
			cur_ts = ts;
		}
		if (name)
			fold(&cur, name, sqlite3_column_int64(st, 3),
			     sqlite3_column_double(st, 4), sqlite3_column_double(st, 5),
			     sqlite3_column_double(st, 6));
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(db, "query");
	if (!ret && cur_client >= 0)
		ret = flush(out, &cur);
	sqlite3_finalize(st);
	return ret;
}
