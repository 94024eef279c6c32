// SPDX-License-Identifier: MIT
/*
 * Loading and attaching the collector's XDP program: rodata, the bpffs and
 * the pins (with a BTF layout check, so a pin left by an older build is
 * replaced instead of silently reused), the verifier log when the program
 * is rejected, and the attach through libxdp with a generic-mode retry and
 * a per-interface claim. The run-time calls on the maps are in maps.c; see
 * xdp.h for the API and docs/XDP.md for the maps.
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "common/log.h"
#include "xdp/handle.h"
#include "xdp/xdp.h"
/* bpftool's generated skeleton casts away const on its embedded object */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "bpf/xtel_xdp.skel.h"
#pragma GCC diagnostic pop

#define VERIFIER_LOG_SIZE (4u << 20)
#define VERIFIER_TAIL_LINES 30

/* The maps that are pinned: everything except the AF_XDP socket map, whose
 * entries are this process's sockets and mean nothing after it exits. */
static const char *const pinned_maps[] = {
	XTEL_XDP_MAP_STATS, XTEL_XDP_MAP_CLIENTS, XTEL_XDP_MAP_PEERS,
	XTEL_XDP_MAP_BUCKETS, XTEL_XDP_MAP_ALLOW4, XTEL_XDP_MAP_ALLOW6,
};

/*
 * Messages go through common/log.h as "PROG: xdp: ...". Errors always
 * print; what the loader is doing, and what it repaired on its way (a stale
 * pin, a program left attached), is silenced by opts.quiet.
 *
 * libbpf and libxdp talk a lot at INFO/DEBUG; only their warnings matter,
 * and they become warnings of ours. Their formats end in a newline, which
 * the log adds itself, so it is cut off the format (not the message).
 */
static int lib_vwarn(const char *fmt, va_list ap)
{
	char f[256];
	size_t n = strlen(fmt);

	if (n && n < sizeof(f) && fmt[n - 1] == '\n') {
		memcpy(f, fmt, n - 1);
		f[n - 1] = '\0';
		fmt = f;
	}
	xtel_vlog(XTEL_LOG_WARN, fmt, ap);
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? lib_vwarn(fmt, ap) : 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return level == LIBXDP_WARN ? lib_vwarn(fmt, ap) : 0;
}

static void perm_hint(const char *what)
{
	pr_err("xdp: %s: permission denied: run as root or grant CAP_BPF, CAP_NET_ADMIN "
	       "and CAP_PERFMON (e.g. setcap cap_bpf,cap_net_admin,cap_perfmon+ep)", what);
}

/* ---- bpffs ---- */

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

/*
 * The pin dir must be on a bpffs. The default one lives under /sys/fs/bpf,
 * which we mount when nothing is there (a fresh host, or `ip netns exec`,
 * which gives every command a fresh /sys). Another dir must already be on a
 * bpffs: we do not guess where the user wants one mounted.
 */
static int ensure_bpffs(struct xtel_xdp *x)
{
	static const char sysfs_bpf[] = "/sys/fs/bpf";
	char probe[PATH_MAX];
	char *slash;
	int err;

	snprintf(probe, sizeof(probe), "%s", x->pin_dir);
	/* the closest existing ancestor decides which filesystem we are on */
	while (access(probe, F_OK) != 0 && (slash = strrchr(probe, '/')) && slash != probe)
		*slash = '\0';
	if (!is_bpffs(probe)) {
		bool under_sys = strncmp(x->pin_dir, sysfs_bpf, sizeof(sysfs_bpf) - 1) == 0;

		if (!under_sys) {
			pr_err("xdp: pin dir %s is not on a bpffs: mount one (mount -t bpf bpf DIR) "
			       "or pass --pin-dir on an existing bpffs", x->pin_dir);
			return -ENOTSUP;
		}
		if (!is_bpffs(sysfs_bpf)) {
			if (mount("bpf", sysfs_bpf, "bpf", 0, "mode=0700")) {
				err = -errno;
				pr_err("xdp: bpffs not mounted at %s and mounting it failed (%s): "
				       "run mount -t bpf bpf %s, or pass --pin-dir DIR on a bpffs",
				       sysfs_bpf, strerror(-err), sysfs_bpf);
				return err == -EPERM ? -EPERM : -ENOTSUP;
			}
			if (!x->opts.quiet)
				pr_info("xdp: mounted bpffs at %s", sysfs_bpf);
		}
	}
	err = mkdir_p(x->pin_dir);
	if (err) {
		pr_err("xdp: cannot create pin dir %s: %s", x->pin_dir, strerror(-err));
		return err;
	}
	return 0;
}

/* ---- pin compatibility ---- */

/*
 * A printable signature of a BTF type: kinds, sizes, member names and
 * offsets, recursively. Two maps whose key and value signatures match hold
 * the same layout; libbpf only compares sizes, which misses a renamed or
 * reordered field.
 */
static void btf_sig(const struct btf *btf, __u32 id, char *buf, size_t cap, int depth)
{
	const struct btf_type *t;
	size_t len = strlen(buf);
	__u16 i;

	if (len + 64 >= cap)
		return;
	if (depth > 8) {
		snprintf(buf + len, cap - len, "...");
		return;
	}
	t = btf__type_by_id(btf, id);
	/* typedefs and qualifiers do not change the layout */
	while (t && (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t) ||
		     btf_is_restrict(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t) {
		snprintf(buf + len, cap - len, "?");
		return;
	}
	if (btf_is_int(t)) {
		snprintf(buf + len, cap - len, "i%u", t->size);
	} else if (btf_is_enum(t)) {
		snprintf(buf + len, cap - len, "e%u", t->size);
	} else if (btf_is_array(t)) {
		const struct btf_array *a = btf_array(t);

		snprintf(buf + len, cap - len, "[%u]", a->nelems);
		btf_sig(btf, a->type, buf, cap, depth + 1);
	} else if (btf_is_composite(t)) {
		const struct btf_member *m = btf_members(t);

		snprintf(buf + len, cap - len, "%s%u{", btf_is_struct(t) ? "s" : "u", t->size);
		for (i = 0; i < btf_vlen(t); i++, m++) {
			len = strlen(buf);
			if (len + 64 >= cap)
				return;
			snprintf(buf + len, cap - len, "%s@%u:", btf__name_by_offset(btf, m->name_off),
				 btf_member_bit_offset(t, i));
			btf_sig(btf, m->type, buf, cap, depth + 1);
			len = strlen(buf);
			snprintf(buf + len, cap - len, ";");
		}
		len = strlen(buf);
		snprintf(buf + len, cap - len, "}");
	} else {
		snprintf(buf + len, cap - len, "k%u", btf_kind(t));
	}
}

/* Whether type a_id of BTF a and type b_id of BTF b have one signature. */
static bool same_layout(const struct btf *a, __u32 a_id, const struct btf *b, __u32 b_id)
{
	char sa[1024] = "", sb[1024] = "";

	btf_sig(a, a_id, sa, sizeof(sa), 0);
	btf_sig(b, b_id, sb, sizeof(sb), 0);
	return strcmp(sa, sb) == 0;
}

/*
 * Returns 1 when the pin at path can be reused for map, 0 when it is stale
 * (or absent: nothing to reuse), -errno when it cannot be inspected.
 */
static int pin_compatible(const struct bpf_object *obj, const struct bpf_map *map,
			  const char *path, const char **why)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct btf *pbtf = NULL;
	const struct btf *obtf = bpf_object__btf(obj);
	int fd, ret = 0;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		ret = -errno;
		goto out;
	}
	*why = "type, sizes or flags differ";
	if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.max_entries != bpf_map__max_entries(map) ||
	    info.map_flags != bpf_map__map_flags(map))
		goto out;
	*why = "no BTF";
	if (!info.btf_id || !obtf)
		goto out;
	pbtf = btf__load_from_kernel_by_id(info.btf_id);
	if (!pbtf && errno == EPERM) {
		/*
		 * Reading BTF back needs CAP_SYS_ADMIN, which the service
		 * (xtel-collector.service) does not have: the pin matches in
		 * type and sizes, so it is reused; after an upgrade that
		 * changed a map's struct, remove the pins (docs/OPERATIONS.md).
		 */
		ret = 1;
		goto out;
	}
	if (!pbtf) {
		ret = -errno;
		goto out;
	}
	*why = "key or value struct changed";
	if (same_layout(pbtf, info.btf_key_type_id, obtf, bpf_map__btf_key_type_id(map)) &&
	    same_layout(pbtf, info.btf_value_type_id, obtf, bpf_map__btf_value_type_id(map)))
		ret = 1;
out:
	btf__free(pbtf);
	close(fd);
	return ret;
}

static int setup_pins(struct xtel_xdp *x)
{
	struct bpf_object *obj = x->skel->obj;
	char path[PATH_MAX + 64];
	const char *why = "";
	size_t i;
	int err;

	err = ensure_bpffs(x);
	if (err)
		return err;
	for (i = 0; i < sizeof(pinned_maps) / sizeof(pinned_maps[0]); i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, pinned_maps[i]);

		if (!map)
			return -ENOENT;
		snprintf(path, sizeof(path), "%s/%s", x->pin_dir, pinned_maps[i]);
		err = pin_compatible(obj, map, path, &why);
		if (err < 0) {
			pr_err("xdp: cannot inspect pinned map %s: %s", path, strerror(-err));
			return err;
		}
		if (err == 0 && access(path, F_OK) == 0) {
			/* a pin from an older build: reusing it would misread its fields */
			if (!x->opts.quiet)
				pr_warn("xdp: replacing stale pinned map %s (%s)", path, why);
			if (unlink(path)) {
				err = -errno;
				pr_err("xdp: cannot remove stale pin %s: %s", path, strerror(-err));
				return err;
			}
		}
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

/* ---- accessors ---- */

int xtel_xdp_map_fd(const struct xtel_xdp *x, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(x->skel->obj, name);

	return map ? bpf_map__fd(map) : -ENOENT;
}

int xtel_xdp_prog_fd(const struct xtel_xdp *x)
{
	return bpf_program__fd(x->skel->progs.xtel_xdp_prog);
}

int xtel_xdp_ifindex(const struct xtel_xdp *x)
{
	return x->mode == XDP_MODE_UNSPEC ? 0 : x->ifindex;
}

const struct xtel_xdp_opts *xtel_xdp_options(const struct xtel_xdp *x)
{
	return &x->opts;
}

const char *xtel_xdp_pin_dir(const struct xtel_xdp *x)
{
	return x->opts.no_pin ? "" : x->pin_dir;
}

const char *xtel_xdp_attach_mode(const struct xtel_xdp *x)
{
	switch (x->mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "skb";
	default:
		return "none";
	}
}

/* ---- attach ---- */

/*
 * Only one xtel process may drive an interface's XDP program. The claim is
 * an abstract unix socket named after the ifindex: abstract names live in
 * the network namespace (as ifindexes do) and vanish when the process dies,
 * so a program left attached by a crashed collector can be told from one a
 * running collector still uses.
 */
/*
 * One collector per interface: an abstract unix socket named after the
 * ifindex is held while the program is ours to drive, so a second process
 * (or --detach) cannot pull it from under a running collector.
 */
static int claim_ifindex(int ifindex, const char *ifname)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "xtel-xdp-%d", ifindex);
	if (bind(fd, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + 1 + n)) {
		int err = -errno;

		close(fd);
		if (err == -EADDRINUSE) {
			pr_err("xdp: another xtel process drives the XDP program on %s: stop it first "
			       "(or run this one with --no-xdp)", ifname);
			return -EBUSY;
		}
		return err;
	}
	return fd;
}

static int claim_iface(struct xtel_xdp *x)
{
	int fd = claim_ifindex(x->ifindex, x->ifname);

	if (fd < 0)
		return fd;
	x->claim_fd = fd;
	return 0;
}

/*
 * Detach our own program (by name, legacy single-program attachment) from
 * ifindex. Returns 1 when one was detached, 0 when none is attached, or
 * -EEXIST (after a message) when another program is there.
 */
static int detach_ours(int ifindex, const char *ifname, bool quiet)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	const char *name;
	int err;

	if (libxdp_get_error(mp) || !mp)
		return 0;
	p = xdp_multiprog__main_prog(mp);
	if (!p) {
		xdp_multiprog__close(mp);
		return 0;
	}
	name = xdp_program__name(p);
	if (xdp_multiprog__is_legacy(mp) && name && !strcmp(name, "xtel_xdp_prog")) {
		/* our own program, left by a collector that did not exit cleanly */
		if (!quiet)
			pr_warn("xdp: replacing the xtel XDP program (id %u) left attached to %s",
				xdp_program__id(p), ifname);
		err = xdp_multiprog__detach(mp);
		if (err == -EPERM)
			perm_hint("detaching the XDP program");
		if (!err)
			err = 1;
	} else {
		pr_err("xdp: %s already has an XDP program (%s, id %u): remove it with "
		       "`ip link set dev %s xdp off` or run with --no-xdp",
		       ifname, name ? name : "?", xdp_program__id(p), ifname);
		err = -EEXIST;
	}
	xdp_multiprog__close(mp);
	return err;
}

/*
 * The attached program is also pinned (PIN_DIR/xtel_prog) while it runs,
 * so a collector killed without detaching is recognised by the next one
 * without CAP_SYS_ADMIN: libxdp identifies a program by reading it back by
 * id, which the unprivileged service (xtel-collector.service) may not do,
 * while a pin is opened by its file permissions and its id compared with
 * the one netlink reports. Returns 1 when the stale program was detached,
 * 0 when there was none, -errno.
 */
static void prog_pin_path(const struct xtel_xdp *x, char *buf, size_t n)
{
	snprintf(buf, n, "%s/xtel_prog", x->pin_dir);
}

static int detach_pinned(struct xtel_xdp *x)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), attached = 0;
	char path[PATH_MAX + 16];
	int fd, err = 0;

	prog_pin_path(x, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    !bpf_xdp_query_id(x->ifindex, 0, &attached) && attached == info.id) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = fd);
		__u32 mode = 0;

		bpf_xdp_query_id(x->ifindex, XDP_FLAGS_SKB_MODE, &mode);
		err = bpf_xdp_detach(x->ifindex, mode == attached ?
				     XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE, &o);
		if (!err && !x->opts.quiet)
			pr_warn("xdp: replacing the xtel XDP program (id %u) left attached to %s",
				attached, x->ifname);
		err = err ? err : 1;
	}
	close(fd);
	if (err >= 0)
		unlink(path);	/* stale either way */
	return err;
}

static int detach_stale(struct xtel_xdp *x)
{
	int err = detach_pinned(x);

	if (err < 0)
		return err;
	err = detach_ours(x->ifindex, x->ifname, x->opts.quiet);
	return err < 0 ? err : 0;
}

int xtel_xdp_detach_iface(const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);
	int fd, err;

	if (!ifindex) {
		pr_err("xdp: interface %s not found", ifname);
		return -ENODEV;
	}
	fd = claim_ifindex(ifindex, ifname);
	if (fd < 0)
		return fd;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
	err = detach_ours(ifindex, ifname, true);
	close(fd);
	return err;
}

static int attach(struct xtel_xdp *x)
{
	static const enum xdp_attach_mode modes[] = { XDP_MODE_NATIVE, XDP_MODE_SKB };
	char buf[256];
	int i, err;

	/* libxdp's multi-program dispatcher is refused on this kind of host
	 * (EPERM) and we attach one program anyway: skip it quietly. */
	setenv("LIBXDP_SKIP_DISPATCHER", "1", 0);
	libxdp_set_print(libxdp_print);

	err = claim_iface(x);
	if (err)
		return err;
	/*
	 * From the loaded object, not its fd: from_fd reads the program's BTF
	 * back from the kernel (BPF_BTF_GET_FD_BY_ID), which needs
	 * CAP_SYS_ADMIN, and libxdp 1.3 then crashes in attach without it.
	 */
	x->prog = xdp_program__from_bpf_obj(x->skel->obj, NULL);
	err = libxdp_get_error(x->prog);
	if (err) {
		x->prog = NULL;
		return err;
	}
	err = detach_stale(x);
	if (err)
		return err;
	/* native first, then generic: libxdp has no fallback of its own */
	for (i = x->opts.skb_mode ? 1 : 0; i < 2; i++) {
		err = xdp_program__attach(x->prog, x->ifindex, modes[i], 0);
		if (!err) {
			char path[PATH_MAX + 16];

			x->mode = modes[i];
			prog_pin_path(x, path, sizeof(path));
			if (bpf_obj_pin(xtel_xdp_prog_fd(x), path) && !x->opts.quiet)
				pr_warn("xdp: cannot pin the program at %s (%s): a "
					"collector killed now leaves it attached",
					path, strerror(errno));
			return 0;
		}
		if (err == -EPERM) {
			perm_hint("attaching the XDP program");
			return -EPERM;
		}
		libxdp_strerror(err, buf, sizeof(buf));
		if (modes[i] == XDP_MODE_NATIVE && !x->opts.quiet)
			pr_warn("xdp: native XDP not available on %s (%s): using generic (skb) mode",
				x->ifname, buf);
	}
	pr_err("xdp: cannot attach the XDP program to %s: %s", x->ifname, buf);
	return err;
}

/* ---- open and close ---- */

/* The last VERIFIER_TAIL_LINES lines of the verifier log, one message each:
 * the log path writes a line at a time, and the reason is at the end. */
static void print_log_tail(const char *log)
{
	const char *p = log + strlen(log), *end;
	int lines = 0;

	/* skip trailing newlines, then walk back VERIFIER_TAIL_LINES lines */
	while (p > log && p[-1] == '\n')
		p--;
	end = p;
	while (p > log) {
		if (p[-1] == '\n' && ++lines == VERIFIER_TAIL_LINES)
			break;
		p--;
	}
	pr_err("xdp: verifier log (last %d lines):", VERIFIER_TAIL_LINES);
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		int len = nl ? nl - p : end - p;

		pr_err("xdp:   %.*s", len, p);
		p += len + 1;
	}
}

int xtel_xdp_open(struct xtel_xdp **out, const struct xtel_xdp_opts *opts)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct xtel_xdp *x;
	int err;

	*out = NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->claim_fd = -1;
	x->opts = *opts;
	x->opts.ifname = NULL;
	x->opts.pin_dir = NULL;
	snprintf(x->pin_dir, sizeof(x->pin_dir), "%s",
		 opts->pin_dir ? opts->pin_dir : XTEL_XDP_DEFAULT_PIN_DIR);
	if (!x->opts.port)
		x->opts.port = 7700;
	if (!x->opts.handshake_burst)
		x->opts.handshake_burst = 32;
	if (x->opts.handshake_burst > 1000000)
		x->opts.handshake_burst = 1000000;	/* keeps burst * cost in 64 bits */
	if (!x->opts.handshake_global_burst) {
		x->opts.handshake_global_burst = x->opts.handshake_global_rate / 10;
		if (x->opts.handshake_global_burst < 32)
			x->opts.handshake_global_burst = 32;
	}
	if (x->opts.handshake_global_burst > 1000000)
		x->opts.handshake_global_burst = 1000000;
	x->ncpus = libbpf_num_possible_cpus();
	if (x->ncpus <= 0) {
		err = x->ncpus ? x->ncpus : -EINVAL;
		goto err_free;
	}

	if (opts->ifname) {
		snprintf(x->ifname, sizeof(x->ifname), "%s", opts->ifname);
		x->ifindex = if_nametoindex(opts->ifname);
		if (!x->ifindex) {
			pr_err("xdp: interface %s not found (in this network namespace)", opts->ifname);
			err = -ENODEV;
			goto err_free;
		}
	}

	libbpf_set_print(libbpf_print);
	/* The verifier log only matters when the program is rejected: libbpf
	 * retries the load with logging into this buffer in that case. */
	x->log_buf = calloc(1, VERIFIER_LOG_SIZE);
	if (!x->log_buf) {
		err = -ENOMEM;
		goto err_free;
	}
	oo.kernel_log_buf = x->log_buf;
	oo.kernel_log_size = VERIFIER_LOG_SIZE;
	oo.kernel_log_level = 0;
	x->skel = xtel_xdp_bpf__open_opts(&oo);
	if (!x->skel) {
		err = -errno;
		pr_err("xdp: cannot open the BPF object: %s", strerror(-err));
		goto err_free;
	}
	x->skel->rodata->cfg_port = x->opts.port;
	x->skel->rodata->cfg_mode = x->opts.dtls ? XTEL_XDP_MODE_DTLS : XTEL_XDP_MODE_PLAIN;
	x->skel->rodata->cfg_afxdp = x->opts.afxdp;
	x->skel->rodata->cfg_allowlist = x->opts.allowlist;
	x->skel->rodata->cfg_hs_rate = x->opts.handshake_rate;
	x->skel->rodata->cfg_hs_burst = x->opts.handshake_burst;
	x->skel->rodata->cfg_hs_global_rate = x->opts.handshake_global_rate;
	x->skel->rodata->cfg_hs_global_burst = x->opts.handshake_global_burst;
	x->skel->rodata->cfg_devices = x->opts.devices && !x->opts.dtls;
	x->skel->rodata->cfg_inventory_only = x->opts.inventory_only;
	/* Sized before the pins are judged: a pin of another size is stale. */
	err = 0;
	if (x->opts.max_clients > XTEL_XDP_MAX_CLIENTS)
		err = bpf_map__set_max_entries(x->skel->maps.xtel_clients,
					       x->opts.max_clients);
	if (!err && x->opts.max_peers > XTEL_XDP_MAX_PEERS)
		err = bpf_map__set_max_entries(x->skel->maps.xtel_peers,
					       x->opts.max_peers);
	if (err) {
		pr_err("xdp: cannot size the maps: %s", strerror(-err));
		goto err_skel;
	}

	if (!x->opts.no_pin) {
		err = setup_pins(x);
		if (err)
			goto err_skel;
	}

	err = xtel_xdp_bpf__load(x->skel);
	if (err) {
		if (err == -EPERM) {
			perm_hint("loading the XDP program");
		} else if (x->log_buf[0]) {
			pr_err("xdp: the kernel's verifier rejected the XDP program (%s)", strerror(-err));
			print_log_tail(x->log_buf);
			err = -EINVAL;
		} else {
			pr_err("xdp: loading the XDP program failed: %s", strerror(-err));
		}
		goto err_skel;
	}
	free(x->log_buf);
	x->log_buf = NULL;

	/* A reused pin carries the last run's sessions and allowlist; neither is
	 * valid now (sessions died with the old process, --allow is per run). */
	if (!x->opts.no_pin) {
		err = xtel_xdp_peer_clear(x);
		if (!err)
			err = xtel_xdp_allow_clear(x);
		if (err)
			goto err_skel;
	}

	if (x->ifindex) {
		err = attach(x);
		if (err)
			goto err_skel;
		if (!x->opts.quiet)
			pr_info("xdp: attached to %s in %s mode (port %u, %s%s%s)", x->ifname,
				xtel_xdp_attach_mode(x), x->opts.port, x->opts.dtls ? "dtls" : "plain",
				x->opts.afxdp ? ", af_xdp" : "", x->opts.allowlist ? ", allowlist" : "");
	}
	*out = x;
	return 0;

err_skel:
	if (x->prog)
		xdp_program__close(x->prog);
	xtel_xdp_bpf__destroy(x->skel);
err_free:
	if (x->claim_fd >= 0)
		close(x->claim_fd);
	free(x->log_buf);
	free(x);
	return err;
}

void xtel_xdp_close(struct xtel_xdp *x)
{
	if (!x)
		return;
	if (x->prog && x->mode != XDP_MODE_UNSPEC) {
		/*
		 * libbpf, not xdp_program__detach: libxdp looks the attached
		 * program up by id (CAP_SYS_ADMIN); this detaches it only if
		 * it is still ours (XDP_FLAGS_REPLACE with our fd) and needs
		 * CAP_NET_ADMIN alone.
		 */
		LIBBPF_OPTS(bpf_xdp_attach_opts, dopts,
			    .old_prog_fd = xtel_xdp_prog_fd(x));
		int err = bpf_xdp_detach(x->ifindex, x->mode == XDP_MODE_SKB ?
					 XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE,
					 &dopts);

		if (err) {
			if (!x->opts.quiet)
				pr_warn("xdp: detaching from %s failed: %s", x->ifname, strerror(-err));
		} else {
			char path[PATH_MAX + 16];

			prog_pin_path(x, path, sizeof(path));
			unlink(path);
		}
	}
	if (x->prog)
		xdp_program__close(x->prog);
	xtel_xdp_bpf__destroy(x->skel);
	if (x->claim_fd >= 0)
		close(x->claim_fd);
	free(x->log_buf);
	free(x);
}
