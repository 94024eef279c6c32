// SPDX-License-Identifier: MIT
/*
 * Retention of the history (--retain): a bounded slice per view, and the
 * parser of the option's value.
 */
#include <errno.h>
#include <string.h>

#include "common/parse.h"
#include "store/writer_internal.h"

/* ---- retention ---- */

static uint64_t retain_s(const struct xtel_store *w, unsigned int t)
{
	return w->cfg.retain_s[t] ? w->cfg.retain_s[t] : xtel_tiers[t].retain_s;
}

static void count_deleted(struct xtel_store *w, sqlite3_stmt *st,
			  const char *what)
{
	xtel_store_row(w, st, what);
	if (!w->txn_failed) {
		/* deletions are not rows written */
		w->txn_rows--;
		xtel_store_stat_add(w, XTEL_STORE_STAT_RETAIN_DELETED,
			 (uint64_t)sqlite3_changes(w->db));
	}
}

/*
 * A bounded slice of retention per view: per tier, up to 1,000 fleet
 * rows, and the old rows of the next few clients (a key-range delete each,
 * after a seek to the next client id), so a sweep over every client takes
 * a few hundred views and no view's transaction grows large.
 */
void xtel_store_retain_step(struct xtel_store *w, uint64_t now_s)
{
	uint32_t visits = 64 + w->n_clients / 256;

	for (unsigned int t = 0; t < XTEL_TIER_N && !w->txn_failed; t++) {
		uint64_t keep = retain_s(w, t);
		int64_t cut;

		if (now_s <= keep)
			continue;
		cut = (int64_t)(now_s - keep);
		sqlite3_bind_int64(w->del_totals[t], 1, cut);
		sqlite3_bind_int64(w->del_totals[t], 2, 1000);
		count_deleted(w, w->del_totals[t], "retention");
		if (t < XTEL_TIER_CLIENT_FIRST)
			continue;
		for (uint32_t v = 0; v < visits && !w->txn_failed; v++) {
			sqlite3_stmt *st = w->next_client[t];
			int64_t client;

			sqlite3_bind_int64(st, 1, w->retain_cursor[t]);
			if (sqlite3_step(st) != SQLITE_ROW) {
				sqlite3_reset(st);
				w->retain_cursor[t] = -1;	/* wrap around */
				break;
			}
			client = sqlite3_column_int64(st, 0);
			sqlite3_reset(st);
			w->retain_cursor[t] = client;
			sqlite3_bind_int64(w->del_acct[t], 1, client);
			sqlite3_bind_int64(w->del_acct[t], 2, cut);
			count_deleted(w, w->del_acct[t], "retention");
			sqlite3_bind_int64(w->del_metric[t], 1, client);
			sqlite3_bind_int64(w->del_metric[t], 2, cut);
			count_deleted(w, w->del_metric[t], "retention");
		}
	}
}

/* ---- --retain ---- */

int xtel_store_parse_retain(const char *s, uint64_t retain_s[XTEL_TIER_N])
{
	const char *p = s;

	if (!*p)
		return -EINVAL;
	while (*p) {
		size_t n = strcspn(p, ","), k;
		char buf[32], *eq;
		uint64_t v, mult = 1;
		unsigned int t;

		if (n == 0 || n >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, p, n);
		buf[n] = '\0';
		eq = strchr(buf, '=');
		if (!eq)
			return -EINVAL;
		*eq++ = '\0';
		for (t = 0; t < XTEL_TIER_N; t++)
			if (!strcmp(buf, xtel_tiers[t].name))
				break;
		k = strlen(eq);
		if (t == XTEL_TIER_N || k < 2)
			return -EINVAL;
		switch (eq[k - 1]) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return -EINVAL;
		}
		eq[k - 1] = '\0';
		if (xtel_parse_u64(eq, 1, 100ull * 366 * 86400, &v) ||
		    v * mult < xtel_tiers[t].width_s)
			return -EINVAL;
		retain_s[t] = v * mult;
		p += n;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	return 0;
}
