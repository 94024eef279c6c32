/* SPDX-License-Identifier: MIT */
/*
 * The server's sessions: keyed by peer address and port in a hash table
 * with a per-server random seed, on one of two lists (half-open handshakes
 * oldest first, established sessions least recently active first), with
 * the half-open accounting that keeps one source or a flood from taking
 * the whole table. dtls_session_free is the one place a session ends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "common/clock.h"
#include "dtls/server_internal.h"

_Static_assert(sizeof(union peer_addr) == sizeof(struct sockaddr_in6),
	       "a session stores at most a sockaddr_in6");
_Static_assert(sizeof(struct peer_key) == 24, "peer_key is hashed as 3 words");

/*
 * Sessions from which the batch prefetch pays (xtel_dtls_server_prefetch_pays):
 * measured in bench_dtls_fleet --ab (docs/CAPACITY.md "DTLS fleet order: a
 * prefetch in the batch").
 */
enum { PREFETCH_MIN_SESSIONS = 4096 };

static struct session **bucket(const struct xtel_dtls_server *srv, uint32_t h)
{
	return &srv->buckets[h & (srv->nbuckets - 1)];
}

int dtls_peers_init(struct xtel_dtls_server *srv)
{
	uint32_t want = 2 * (srv->cfg.max_sessions + srv->cfg.max_half_open);

	for (srv->nbuckets = 64; srv->nbuckets < want && srv->nbuckets < (1u << 30);)
		srv->nbuckets <<= 1;
	srv->buckets = calloc(srv->nbuckets, sizeof(*srv->buckets));
	if (srv->buckets == NULL ||
	    RAND_bytes((unsigned char *)&srv->hash_seed,
		       sizeof(srv->hash_seed)) != 1) {
		ERR_clear_error();
		return -ENOMEM;
	}
	return 0;
}

void dtls_peers_free(struct xtel_dtls_server *srv)
{
	if (srv->buckets != NULL) {
		while (srv->lru.head != NULL)
			dtls_session_free(srv, srv->lru.head);
		while (srv->half_open.head != NULL)
			dtls_session_free(srv, srv->half_open.head);
	}
	free(srv->buckets);
	srv->buckets = NULL;
}

void dtls_list_append(struct session_list *l, struct session *s)
{
	s->next = NULL;
	s->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = s;
	else
		l->head = s;
	l->tail = s;
	l->n++;
}

void dtls_list_remove(struct session_list *l, struct session *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		l->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		l->tail = s->prev;
	s->prev = s->next = NULL;
	l->n--;
}

void dtls_half_open_add(struct xtel_dtls_server *srv, struct session *s)
{
	s->held = HALF_OPEN_BASE_BYTES;
	srv->half_open_bytes += s->held;
	dtls_list_append(&srv->half_open, s);
}

void dtls_half_open_del(struct xtel_dtls_server *srv, struct session *s)
{
	srv->half_open_bytes -= s->held;
	s->held = 0;
	dtls_list_remove(&srv->half_open, s);
}

void dtls_half_open_charge(struct xtel_dtls_server *srv, struct session *s,
			   uint32_t bytes)
{
	s->held += bytes;
	srv->half_open_bytes += bytes;
}

/*
 * The key of a peer address. The caller's length may be larger than the
 * family's struct (a sockaddr_storage from recvmsg); everything from here
 * on uses the family's exact size (dtls_peer_addr_len), since that is all a
 * session stores. A length too small for the family is refused.
 */
int dtls_peer_key_from(const struct sockaddr *sa, socklen_t len,
		       struct peer_key *k)
{
	memset(k, 0, sizeof(*k));
	if (len < sizeof(sa->sa_family))
		return -EAFNOSUPPORT;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		k->family = AF_INET;
		k->port = in->sin_port;
		memcpy(k->addr, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		k->family = AF_INET6;
		k->port = in6->sin6_port;
		k->scope_id = in6->sin6_scope_id;
		memcpy(k->addr, &in6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* Bytes of a sockaddr of the key's family (dtls_peer_key_from took it). */
socklen_t dtls_peer_addr_len(const struct peer_key *k)
{
	return k->family == AF_INET ? sizeof(struct sockaddr_in)
				    : sizeof(struct sockaddr_in6);
}

/*
 * Keyed hash of a peer key: sessions only exist for addresses that
 * answered a cookie, but lookups happen for every datagram, so a per-server
 * random seed keeps chains short even for chosen source addresses.
 */
uint32_t dtls_peer_hash(const struct xtel_dtls_server *srv,
			const struct peer_key *k)
{
	uint64_t w[3], h = srv->hash_seed;

	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 3; i++) {
		h ^= w[i];
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

struct session *dtls_session_lookup(const struct xtel_dtls_server *srv,
				    const struct peer_key *k, uint32_t h)
{
	struct session *s;

	for (s = *bucket(srv, h); s != NULL; s = s->hnext)
		if (s->hash == h && memcmp(&s->key, k, sizeof(*k)) == 0)
			return s;
	return NULL;
}

bool xtel_dtls_server_prefetch_pays(const struct xtel_dtls_server *srv)
{
	return srv->lru.n >= PREFETCH_MIN_SESSIONS;
}

uint32_t xtel_dtls_server_prefetch_peer(const struct xtel_dtls_server *srv,
					const struct sockaddr *peer,
					socklen_t peer_len)
{
	struct peer_key k;
	uint32_t h;

	if (dtls_peer_key_from(peer, peer_len, &k))
		return 0;	/* refused by the input too: any bucket will do */
	h = dtls_peer_hash(srv, &k);
	__builtin_prefetch(bucket(srv, h));
	return h;
}

void xtel_dtls_server_prefetch_session(const struct xtel_dtls_server *srv,
				       uint32_t hash)
{
	const struct session *s = *bucket(srv, hash);

	if (s == NULL)
		return;
	/*
	 * The hot fields, the LRU links and the keys up to rx_iv's end: ~160
	 * bytes from a 16-byte aligned chunk, so up to four lines.
	 */
	for (size_t off = 0; off < offsetof(struct session, rl_mem.keys.rx_iv);
	     off += 64)
		__builtin_prefetch((const char *)s + off);
	__builtin_prefetch(&s->rl_mem.keys.rx_iv[sizeof(s->rl_mem.keys.rx_iv) - 1]);
}

uint32_t xtel_dtls_server_prefetch_client(const struct xtel_dtls_server *srv,
					  uint32_t hash)
{
	const struct session *s = *bucket(srv, hash);

	return s != NULL && s->state == SESSION_ESTABLISHED ? s->client_id : 0;
}

void dtls_format_peer(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(in6->sin6_port));
	}
}

struct session *dtls_session_new(struct xtel_dtls_server *srv, uint32_t h,
				 const unsigned char random[32])
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->srv = srv;
	s->key = srv->cur_key;
	s->hash = h;
	/* cur_peer_len is the family's size: it fits union peer_addr. */
	memcpy(&s->peer, srv->cur_peer, srv->cur_peer_len);
	s->peer_len = srv->cur_peer_len;
	s->state = SESSION_HANDSHAKE;
	s->started = srv->now;
	s->rtx_deadline = UINT64_MAX;
	memcpy(s->client_random, random, sizeof(s->client_random));
	return s;
}

void dtls_table_insert(struct xtel_dtls_server *srv, struct session *s)
{
	struct session **head = bucket(srv, s->hash);

	s->hnext = *head;
	*head = s;
}

void dtls_session_free(struct xtel_dtls_server *srv, struct session *s)
{
	struct session **pp = bucket(srv, s->hash);

	/*
	 * Every way an established session ends passes here, so this is the
	 * one place that reports it down (and only sessions reported up).
	 */
	if (s->state == SESSION_ESTABLISHED && srv->cfg.on_session != NULL)
		srv->cfg.on_session(srv->cfg.session_arg, &s->peer.sa,
				    s->peer_len, s->client_id, false);

	if (s->replaces != NULL) {
		/* A pending handshake is not in the hash table. */
		s->replaces->pending = NULL;
	} else {
		while (*pp != s)
			pp = &(*pp)->hnext;
		*pp = s->hnext;
	}
	if (s->pending != NULL) {
		/* The restarted client's handshake carries on on its own. */
		s->pending->replaces = NULL;
		dtls_table_insert(srv, s->pending);
	}
	if (s->state == SESSION_HANDSHAKE) {
		srv->untrimmed += s->held;
		dtls_half_open_del(srv, s);
	} else {
		dtls_list_remove(&srv->lru, s);
	}
	if (s->rl != NULL)
		srv->builtin--;
	SSL_free(s->ssl);
	SSL_SESSION_free(s->resume_sess);	/* one OpenSSL did not take */
	dtls_own_rl_free(srv, s->rl);
	free(s);
}

void dtls_session_touch(struct xtel_dtls_server *srv, struct session *s)
{
	s->last_rx = srv->now;
	dtls_list_remove(&srv->lru, s);
	dtls_list_append(&srv->lru, s);
}

/*
 * Between datagrams a session gives its record buffers back (about 19 KiB:
 * OpenSSL 3.0 keeps them for DTLS even with SSL_MODE_RELEASE_BUFFERS).
 * OpenSSL re-creates them only on its read path; a retransmission, alert or
 * close_notify written first would use a NULL buffer, so every call into
 * OpenSSL for a session is preceded by dtls_session_unpark().
 */
void dtls_session_park(struct session *s)
{
	if (s->ssl != NULL && !s->parked && SSL_free_buffers(s->ssl) == 1)
		s->parked = true;
}

bool dtls_session_unpark(struct session *s)
{
	if (s->parked) {
		if (SSL_alloc_buffers(s->ssl) != 1) {
			ERR_clear_error();
			return false;
		}
		s->parked = false;
	}
	return true;
}

/*
 * The source a peer key belongs to, for the per-source cap: an IPv4
 * address, or an IPv6 /64 (one host can use a whole /64). An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d, how a socket bound to [::] sees IPv4
 * peers) is the IPv4 address it maps: its /64 is all zeros, the same for
 * every IPv4 peer, so grouping it as IPv6 made all of IPv4 one source.
 */
struct source {
	uint16_t family;
	unsigned char prefix[8];
};

static void source_of(const struct peer_key *k, struct source *src)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};

	memset(src, 0, sizeof(*src));
	if (k->family == AF_INET) {
		src->family = AF_INET;
		memcpy(src->prefix, k->addr, 4);
	} else if (memcmp(k->addr, mapped, sizeof(mapped)) == 0) {
		src->family = AF_INET;
		memcpy(src->prefix, k->addr + 12, 4);
	} else {
		src->family = AF_INET6;
		memcpy(src->prefix, k->addr, 8);
	}
}

/*
 * Half-open handshakes from the source of k (source_of). The list is at
 * most max_half_open long and this runs only for valid cookies.
 */
unsigned int dtls_half_open_from_source(const struct xtel_dtls_server *srv,
					const struct peer_key *k)
{
	struct source want, src;
	unsigned int n = 0;

	source_of(k, &want);
	for (const struct session *s = srv->half_open.head; s != NULL;
	     s = s->next) {
		source_of(&s->key, &src);
		if (memcmp(&src, &want, sizeof(src)) == 0)
			n++;
	}
	return n;
}

/*
 * With the half-open table full, make room by dropping a handshake whose
 * client has not moved it on for at least a second (the first
 * retransmission interval): a real client answers our flight within a
 * round trip, so those are the likeliest to be a flood that proved an
 * address but nothing more. Datagrams that OpenSSL only buffered or
 * dropped do not count as an answer (progressed is OpenSSL's own state
 * moving), and among them the one holding the most memory goes first,
 * then the oldest. Returns whether one went.
 */
bool dtls_evict_half_open(struct xtel_dtls_server *srv)
{
	struct session *victim = NULL;

	for (struct session *s = srv->half_open.head; s != NULL; s = s->next) {
		if (s->started + XTEL_NS_PER_SEC > srv->now)
			break;		/* oldest first: the rest are younger */
		if (!s->progressed && (victim == NULL || s->held > victim->held))
			victim = s;
	}
	if (victim == NULL)
		return false;
	srv->st.half_open_evicted++;
	dtls_session_free(srv, victim);
	return true;
}
