// SPDX-License-Identifier: MIT
/*
 * The collector's run-time calls on the XDP program's maps: the source
 * allowlist, the DTLS peers, the outcome counters summed over CPUs and the
 * per-client counters, and the conversions of the program's clocks to
 * CLOCK_REALTIME. The layouts of every map struct are pinned here, since
 * this is the userspace side that reads and writes them. See xdp.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/clock.h"
#include "common/parse.h"
#include "xdp/handle.h"
#include "xdp/xdp.h"

/* The layouts the BPF program was compiled against, pinned here too. */
_Static_assert(sizeof(struct xtel_xdp_counter) == 16, "xtel_xdp_counter layout");
_Static_assert(sizeof(struct xtel_xdp_client) == 64, "xtel_xdp_client layout");
_Static_assert(sizeof(struct xtel_xdp_addr_key) == 20, "xtel_xdp_addr_key layout");
_Static_assert(sizeof(struct xtel_xdp_peer) == 8, "xtel_xdp_peer layout");
_Static_assert(sizeof(struct xtel_xdp_bucket) == 32, "xtel_xdp_bucket layout");
_Static_assert(sizeof(struct xtel_xdp_lpm4) == 8, "xtel_xdp_lpm4 layout");
_Static_assert(sizeof(struct xtel_xdp_lpm6) == 20, "xtel_xdp_lpm6 layout");
_Static_assert(sizeof(struct xtel_xdp_allow) == 4, "xtel_xdp_allow layout");
_Static_assert(sizeof(struct xtel_xdp_meta) == 16, "xtel_xdp_meta layout");
_Static_assert(sizeof(struct xtel_xdp_global) == 8, "xtel_xdp_global layout");
_Static_assert(sizeof(struct xtel_xdp_device) == 8, "xtel_xdp_device layout");
/* key fields whose offsets the program and bpftool users rely on */
_Static_assert(offsetof(struct xtel_xdp_addr_key, port) == 16, "xtel_xdp_addr_key.port");
_Static_assert(offsetof(struct xtel_xdp_lpm4, addr) == 4, "xtel_xdp_lpm4.addr");
_Static_assert(offsetof(struct xtel_xdp_lpm6, addr) == 4, "xtel_xdp_lpm6.addr");
_Static_assert(offsetof(struct xtel_xdp_meta, magic) == 12, "xtel_xdp_meta.magic");

/* Outcomes first, then marks: XTEL_XDP_STAT_OUTCOMES is both their number
 * and the first mark's index, and the collector sums indices below it. */
#define STAT_ORDER_(id, name, verdict, help) \
	&& ((id < XTEL_XDP_STAT_OUTCOMES) == (XTEL_XDP_KIND_##verdict != XTEL_XDP_KIND_MARK))
_Static_assert(1 XTEL_XDP_STATS(STAT_ORDER_), "XTEL_XDP_STATS: outcome rows before marks");
#undef STAT_ORDER_

#define STAT_NAME_(id, name, verdict, help) [id] = name,
static const char *const stat_names[XTEL_XDP_STAT_MAX] = { XTEL_XDP_STATS(STAT_NAME_) };
#undef STAT_NAME_

const char *xtel_xdp_stat_name(enum xtel_xdp_stat s)
{
	if ((unsigned int)s >= XTEL_XDP_STAT_MAX || !stat_names[s])
		return "unknown";
	return stat_names[s];
}

#define STAT_HELP_(id, name, verdict, help) [id] = help,
static const char *const stat_help[XTEL_XDP_STAT_MAX] = { XTEL_XDP_STATS(STAT_HELP_) };
#undef STAT_HELP_

#define STAT_KIND_(id, name, verdict, help) [id] = XTEL_XDP_KIND_##verdict,
static const enum xtel_xdp_stat_kind stat_kind[XTEL_XDP_STAT_MAX] = {
	XTEL_XDP_STATS(STAT_KIND_)
};
#undef STAT_KIND_

const char *xtel_xdp_stat_help(enum xtel_xdp_stat s)
{
	if ((unsigned int)s >= XTEL_XDP_STAT_MAX || !stat_help[s])
		return "";
	return stat_help[s];
}

enum xtel_xdp_stat_kind xtel_xdp_stat_kind(enum xtel_xdp_stat s)
{
	if ((unsigned int)s >= XTEL_XDP_STAT_MAX)
		return XTEL_XDP_KIND_MARK;
	return stat_kind[s];
}

/* Deletes every entry; keys are read one ahead because deleting the current
 * key would restart get_next_key from the beginning. */
static int map_clear(int fd, size_t key_size)
{
	unsigned char cur[64], next[64];
	bool have = false;

	if (key_size > sizeof(cur))
		return -E2BIG;
	while (bpf_map_get_next_key(fd, have ? cur : NULL, next) == 0) {
		if (have && bpf_map_delete_elem(fd, cur) && errno != ENOENT)
			return -errno;
		memcpy(cur, next, key_size);
		have = true;
	}
	if (have && bpf_map_delete_elem(fd, cur) && errno != ENOENT)
		return -errno;
	return 0;
}

/* ---- allowlist ---- */

static int allow_op(struct xtel_xdp *x, const char *cidr, bool add)
{
	struct xtel_xdp_allow v = { .allow = 1 };
	struct xtel_cidr c;
	int fd, err;

	err = xtel_parse_cidr(cidr, 0, &c);
	if (err)
		return err;
	/* LPM matching ignores host bits, but deletion needs the exact key */
	xtel_cidr_mask(&c);
	if (c.family == AF_INET) {
		struct xtel_xdp_lpm4 k = { .prefixlen = c.prefix };

		memcpy(k.addr, c.addr, 4);
		fd = xtel_xdp_map_fd(x, XTEL_XDP_MAP_ALLOW4);
		err = add ? bpf_map_update_elem(fd, &k, &v, BPF_ANY) : bpf_map_delete_elem(fd, &k);
	} else {
		struct xtel_xdp_lpm6 k = { .prefixlen = c.prefix };

		memcpy(k.addr, c.addr, 16);
		fd = xtel_xdp_map_fd(x, XTEL_XDP_MAP_ALLOW6);
		err = add ? bpf_map_update_elem(fd, &k, &v, BPF_ANY) : bpf_map_delete_elem(fd, &k);
	}
	return err ? -errno : 0;
}

int xtel_xdp_allow_add(struct xtel_xdp *x, const char *cidr)
{
	return allow_op(x, cidr, true);
}

int xtel_xdp_allow_del(struct xtel_xdp *x, const char *cidr)
{
	return allow_op(x, cidr, false);
}

int xtel_xdp_allow_clear(struct xtel_xdp *x)
{
	int err = map_clear(xtel_xdp_map_fd(x, XTEL_XDP_MAP_ALLOW4), sizeof(struct xtel_xdp_lpm4));

	return err ? err : map_clear(xtel_xdp_map_fd(x, XTEL_XDP_MAP_ALLOW6),
				     sizeof(struct xtel_xdp_lpm6));
}

/* ---- inventory devices ---- */

int xtel_xdp_device_set(struct xtel_xdp *x, uint32_t client_id, bool enabled)
{
	struct xtel_xdp_device v = { .enabled = enabled };

	if (bpf_map_update_elem(xtel_xdp_map_fd(x, XTEL_XDP_MAP_DEVICES),
				&client_id, &v, BPF_ANY))
		return -errno;
	return 0;
}

int xtel_xdp_device_del(struct xtel_xdp *x, uint32_t client_id)
{
	if (bpf_map_delete_elem(xtel_xdp_map_fd(x, XTEL_XDP_MAP_DEVICES),
				&client_id))
		return -errno;
	return 0;
}

int xtel_xdp_device_clear(struct xtel_xdp *x)
{
	return map_clear(xtel_xdp_map_fd(x, XTEL_XDP_MAP_DEVICES), sizeof(uint32_t));
}

/* ---- DTLS peers ---- */

static int addr_key(const struct sockaddr *sa, struct xtel_xdp_addr_key *k)
{
	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		memcpy(&k->addr[12], &sin->sin_addr, 4);
		k->port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		/* the program keys IPv4 as IPv4-mapped, so a mapped address from
		 * a dual-stack socket already matches */
		memcpy(k->addr, &sin6->sin6_addr, 16);
		k->port = ntohs(sin6->sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

int xtel_xdp_peer_add(struct xtel_xdp *x, const struct sockaddr *sa, uint32_t client_id)
{
	struct xtel_xdp_peer v = { .client_id = client_id };
	struct xtel_xdp_addr_key k;
	int err = addr_key(sa, &k);

	if (err)
		return err;
	if (bpf_map_update_elem(xtel_xdp_map_fd(x, XTEL_XDP_MAP_PEERS), &k, &v, BPF_ANY))
		return -errno;
	return 0;
}

int xtel_xdp_peer_del(struct xtel_xdp *x, const struct sockaddr *sa)
{
	struct xtel_xdp_addr_key k;
	int err = addr_key(sa, &k);

	if (err)
		return err;
	if (bpf_map_delete_elem(xtel_xdp_map_fd(x, XTEL_XDP_MAP_PEERS), &k))
		return -errno;
	return 0;
}

int xtel_xdp_peer_clear(struct xtel_xdp *x)
{
	return map_clear(xtel_xdp_map_fd(x, XTEL_XDP_MAP_PEERS), sizeof(struct xtel_xdp_addr_key));
}

/* ---- counters ---- */

int xtel_xdp_read_totals(struct xtel_xdp *x, struct xtel_xdp_totals *out)
{
	int fd = xtel_xdp_map_fd(x, XTEL_XDP_MAP_STATS);
	struct xtel_xdp_counter *v;
	__u32 i;
	int c;

	memset(out, 0, sizeof(*out));
	v = calloc(x->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < XTEL_XDP_STAT_MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, v)) {
			int err = -errno;

			free(v);
			return err;
		}
		for (c = 0; c < x->ncpus; c++) {
			out->packets[i] += v[c].packets;
			out->bytes[i] += v[c].bytes;
		}
	}
	free(v);
	return 0;
}

int xtel_xdp_read_client(struct xtel_xdp *x, uint32_t client_id, struct xtel_xdp_client *out)
{
	if (bpf_map_lookup_elem(xtel_xdp_map_fd(x, XTEL_XDP_MAP_CLIENTS), &client_id, out))
		return -errno;
	return 0;
}

int xtel_xdp_foreach_client(struct xtel_xdp *x,
			    int (*fn)(uint32_t client_id, const struct xtel_xdp_client *c,
				      void *arg),
			    void *arg)
{
	int fd = xtel_xdp_map_fd(x, XTEL_XDP_MAP_CLIENTS);
	struct xtel_xdp_client c;
	__u32 key, next;
	bool have = false;
	int ret;

	while (bpf_map_get_next_key(fd, have ? &key : NULL, &next) == 0) {
		key = next;
		have = true;
		/* an entry deleted meanwhile is simply skipped */
		if (bpf_map_lookup_elem(fd, &key, &c))
			continue;
		ret = fn(key, &c, arg);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- clocks ---- */

/* The offsets are read a few ns apart; mono_ns + (rt - mono) wraps as the
 * sum of the parts would. */
uint64_t xtel_xdp_mono_to_realtime(uint64_t mono_ns)
{
	uint64_t mono = xtel_mono_ns();
	uint64_t rt = xtel_realtime_ns();

	return mono_ns + (rt - mono);
}

uint64_t xtel_xdp_tai_to_realtime(uint64_t tai_ns)
{
	uint64_t tai = xtel_clock_ns(CLOCK_TAI);
	int64_t off = (int64_t)(tai - xtel_realtime_ns());

	/* the two reads are a few ns apart; the offset is whole seconds */
	off = (off + (off >= 0 ? 500000000LL : -500000000LL)) / 1000000000LL * 1000000000LL;
	return tai_ns - off;
}
