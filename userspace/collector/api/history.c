// SPDX-License-Identifier: MIT
/*
 * The window history of history.h: a ring of compact records, each made
 * from one view in one pass over its clients.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector/api/history.h"

int xtel_api_history_new(unsigned int cap, struct xtel_api_history **out)
{
	struct xtel_api_history *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->cap = cap ? cap : 1;
	h->ring = calloc(h->cap, sizeof(*h->ring));
	h->keys = calloc(XTEL_API_HIST_KEYS, sizeof(*h->keys));
	h->key_hash = calloc(2 * XTEL_API_HIST_KEYS, sizeof(*h->key_hash));
	if (!h->ring || !h->keys || !h->key_hash) {
		free(h->ring);
		free(h->keys);
		free(h->key_hash);
		free(h);
		return -ENOMEM;
	}
	pthread_mutex_init(&h->lock, NULL);
	*out = h;
	return 0;
}

static void rec_free(struct xtel_api_hist_rec *r)
{
	free(r->clients);
	free(r->metrics);
	memset(r, 0, sizeof(*r));
}

void xtel_api_history_free(struct xtel_api_history *h)
{
	if (!h)
		return;
	for (unsigned int i = 0; i < h->cap; i++)
		rec_free(&h->ring[i]);
	free(h->ring);
	free(h->keys);
	free(h->key_hash);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* The index of key, added when new; -1 when the table is full. */
static int64_t intern(struct xtel_api_history *h, const char *key)
{
	uint32_t hash = 2166136261u, mask = 2 * XTEL_API_HIST_KEYS - 1;

	for (const char *p = key; *p; p++)
		hash = (hash ^ (uint8_t)*p) * 16777619u;
	for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
		uint32_t slot = h->key_hash[i];

		if (slot == 0) {
			if (h->n_keys == XTEL_API_HIST_KEYS)
				return -1;
			memcpy(h->keys[h->n_keys], key, sizeof(h->keys[0]));
			h->key_hash[i] = h->n_keys + 1;
			/* /stats reads the count without the lock */
			__atomic_store_n(&h->n_keys, h->n_keys + 1, __ATOMIC_RELEASE);
			return h->n_keys - 1;
		}
		if (!strcmp(h->keys[slot - 1], key))
			return slot - 1;
	}
}

/* Builds the record of v outside the lock (the main thread interns). */
static int rec_make(struct xtel_api_history *h, const struct xtel_view *v,
		    struct xtel_api_hist_rec *r)
{
	uint64_t nm = 0, used = 0;

	for (uint32_t i = 0; i < v->snap.n_clients; i++)
		nm += v->snap.clients[i].n_metrics;
	memset(r, 0, sizeof(*r));
	r->clients = calloc(v->snap.n_clients ? v->snap.n_clients : 1,
			    sizeof(*r->clients));
	r->metrics = calloc(nm ? nm : 1, sizeof(*r->metrics));
	if (!r->clients || !r->metrics) {
		rec_free(r);
		return -ENOMEM;
	}
	r->seq = v->seq;
	r->taken_ns = v->taken_ns;
	r->n_clients = v->snap.n_clients;
	for (uint32_t i = 0; i < v->snap.n_clients; i++) {
		const struct xtel_client_snap *c = &v->snap.clients[i];
		struct xtel_api_hist_client *d = &r->clients[i];

		d->client_id = c->client_id;
		d->received = c->received;
		d->lost = c->lost;
		d->duplicates = c->duplicates;
		d->reordered = c->reordered;
		d->too_late = c->too_late;
		d->first_metric = used;
		d->n_metrics = c->n_metrics;
		for (uint32_t k = 0; k < c->n_metrics; k++) {
			const struct xtel_metric_snap *ms = &c->metrics[k];
			int64_t key = intern(h, ms->key);
			struct xtel_api_hist_metric *m;

			if (key < 0) {
				__atomic_store_n(&h->keys_full, h->keys_full + 1,
						 __ATOMIC_RELAXED);
				d->n_metrics--;
				continue;
			}
			m = &r->metrics[used++];
			m->key = (uint32_t)key;
			m->count = ms->count > UINT32_MAX ? UINT32_MAX : (uint32_t)ms->count;
			m->min = ms->min;
			m->max = ms->max;
			m->sum = ms->mean * (double)ms->count;
		}
	}
	return 0;
}

void xtel_api_history_add(struct xtel_api_history *h, const struct xtel_view *v)
{
	struct xtel_api_hist_rec r, old;
	const struct xtel_api_hist_rec *newest;

	pthread_mutex_lock(&h->lock);
	newest = xtel_api_history_at(h, 0);
	if (newest && newest->seq >= v->seq) {
		pthread_mutex_unlock(&h->lock);
		return;
	}
	pthread_mutex_unlock(&h->lock);
	if (rec_make(h, v, &r)) {
		pthread_mutex_lock(&h->lock);
		h->add_failed++;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	pthread_mutex_lock(&h->lock);
	h->head = h->n ? (h->head + 1) % h->cap : 0;
	old = h->ring[h->head];
	h->ring[h->head] = r;
	if (h->n < h->cap)
		h->n++;
	pthread_mutex_unlock(&h->lock);
	rec_free(&old);
}

const struct xtel_api_hist_rec *xtel_api_history_at(const struct xtel_api_history *h,
						    unsigned int i)
{
	if (i >= h->n)
		return NULL;
	return &h->ring[(h->head + h->cap - i) % h->cap];
}

const struct xtel_api_hist_client *
xtel_api_hist_find(const struct xtel_api_hist_rec *r, uint32_t id,
		   uint32_t *cursor)
{
	while (*cursor < r->n_clients && r->clients[*cursor].client_id < id)
		(*cursor)++;
	if (*cursor < r->n_clients && r->clients[*cursor].client_id == id)
		return &r->clients[*cursor];
	return NULL;
}
