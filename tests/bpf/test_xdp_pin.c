// SPDX-License-Identifier: MIT
/*
 * Pinning behaviour of the XDP loader on a private bpffs (mounted by the
 * test on a temporary directory, unmounted at the end): counters survive a
 * reload, sessions and the allowlist do not, a pin with the same sizes but a
 * different struct (the PLATFORM.md trap) is replaced instead of reused, and
 * a pin dir outside any bpffs is refused with -ENOTSUP. Needs root, no
 * namespace; exits 77 only when BPF or mounting a bpffs is refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "frames.h"
#include "xdp/xdp.h"

static int checks, failed;

#define CHECK(cond, ...)                                        \
	do {                                                    \
		checks++;                                       \
		if (cond) {                                     \
			printf("ok   %s\n", #cond);             \
		} else {                                        \
			failed++;                               \
			printf("FAIL %s: ", #cond);             \
			printf(__VA_ARGS__);                    \
			putchar('\n');                          \
		}                                               \
	} while (0)

/* One valid plain INIT from client 1, IPv4: 70 bytes, a 28-byte datagram. */
static const struct frame_spec plain_init = {
	.ipv = 4,
	.plain = { .type = XTEL_MSG_INIT, .client = 1 },
};

static int run_once(struct xtel_xdp *x)
{
	uint8_t f[FRAME_MAX];
	size_t dlen;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .repeat = 1);

	o.data_size_in = frame_build(f, &plain_init, &dlen);
	if (bpf_prog_test_run_opts(xtel_xdp_prog_fd(x), &o))
		return -errno;
	return o.retval;
}

/*
 * A hash map pinned where xtel_clients goes: same type, key and value sizes
 * and max_entries, but the value is a struct of differently named fields,
 * as an older build would have left it.
 */
static int pin_lookalike(const char *path)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo);
	struct btf *btf = btf__new_empty();
	int u32_id, u64_id, st_id, btf_fd, fd, i, err;
	char name[16];

	if (!btf)
		return -errno;
	u32_id = btf__add_int(btf, "unsigned int", 4, 0);
	u64_id = btf__add_int(btf, "long long unsigned int", 8, 0);
	st_id = btf__add_struct(btf, "xtel_xdp_client", 64);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "old_field%d", i);
		btf__add_field(btf, name, u64_id, i * 64, 0);
	}
	err = btf__load_into_kernel(btf);
	if (err) {
		btf__free(btf);
		return err;
	}
	btf_fd = btf__fd(btf);
	mo.btf_fd = btf_fd;
	mo.btf_key_type_id = u32_id;
	mo.btf_value_type_id = st_id;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xtel_clients", 4, 64, XTEL_XDP_MAX_CLIENTS, &mo);
	err = fd < 0 ? -errno : 0;
	if (!err && bpf_obj_pin(fd, path))
		err = -errno;
	if (fd >= 0)
		close(fd);
	btf__free(btf);
	return err;
}

int main(void)
{
	char dir[] = "/tmp/xtel-pin-test-XXXXXX";
	char pin_dir[sizeof(dir) + 8], path[sizeof(pin_dir) + 32];
	struct xtel_xdp_opts o = { .quiet = true, .pin_dir = pin_dir };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(40000) };
	struct xtel_xdp_client c;
	struct xtel_xdp *x;
	__u32 peer_key_probe[5];
	int err, rc = 0;

	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1) {
		fprintf(stderr, "XDP programs cannot be loaded here (%s)\n",
			geteuid() ? "not root" : "kernel lacks BPF");
		return 77;
	}
	if (!mkdtemp(dir))
		return 1;
	if (mount("bpf", dir, "bpf", 0, NULL)) {
		fprintf(stderr, "cannot mount a bpffs on %s: %s\n", dir, strerror(errno));
		rmdir(dir);
		return errno == EPERM ? 77 : 1;
	}
	snprintf(pin_dir, sizeof(pin_dir), "%s/xtel", dir);

	/* first run: pins created, one datagram counted, one peer written */
	err = xtel_xdp_open(&x, &o);
	CHECK(err == 0, "open: %s", strerror(-err));
	if (err)
		goto out;
	CHECK(run_once(x) == XDP_PASS, "verdict");
	inet_pton(AF_INET, "198.18.0.2", &sin.sin_addr);
	CHECK(xtel_xdp_peer_add(x, (struct sockaddr *)&sin, 4) == 0, "peer_add");
	CHECK(xtel_xdp_allow_add(x, "198.18.0.0/24") == 0, "allow_add");
	xtel_xdp_close(x);
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XTEL_XDP_MAP_CLIENTS);
	CHECK(access(path, F_OK) == 0, "%s not pinned", path);
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XTEL_XDP_MAP_XSKS);
	CHECK(access(path, F_OK) != 0, "%s must not be pinned", path);

	/* second run: counters carried over, sessions and allowlist gone */
	err = xtel_xdp_open(&x, &o);
	CHECK(err == 0, "reopen: %s", strerror(-err));
	if (err)
		goto out;
	CHECK(xtel_xdp_read_client(x, 1, &c) == 0 && c.packets == 1, "client 1 after reload");
	CHECK(run_once(x) == XDP_PASS, "verdict");
	CHECK(xtel_xdp_read_client(x, 1, &c) == 0 && c.packets == 2 && c.bytes == 56 &&
	      c.restarts == 1, "client 1: packets %llu bytes %llu restarts %llu, want 2 56 1",
	      (unsigned long long)c.packets, (unsigned long long)c.bytes,
	      (unsigned long long)c.restarts);
	{
		struct xtel_xdp_totals t;

		CHECK(xtel_xdp_read_totals(x, &t) == 0 && t.packets[XTEL_XDP_STAT_PASSED] == 2 &&
		      t.bytes[XTEL_XDP_STAT_PASSED] == 140, "passed %llu/%llu, want 2/140",
		      (unsigned long long)t.packets[XTEL_XDP_STAT_PASSED],
		      (unsigned long long)t.bytes[XTEL_XDP_STAT_PASSED]);
	}
	CHECK(bpf_map_get_next_key(xtel_xdp_map_fd(x, XTEL_XDP_MAP_PEERS), NULL,
				   peer_key_probe) != 0, "peers not cleared on reload");
	CHECK(xtel_xdp_allow_del(x, "198.18.0.0/24") == -ENOENT, "allowlist not cleared on reload");
	xtel_xdp_close(x);

	/* a look-alike pin from an "older build" is replaced, not reused */
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XTEL_XDP_MAP_CLIENTS);
	CHECK(unlink(path) == 0, "unlink");
	err = pin_lookalike(path);
	CHECK(err == 0, "pin look-alike: %s", strerror(-err));
	err = xtel_xdp_open(&x, &o);
	CHECK(err == 0, "open over a stale pin: %s", strerror(-err));
	if (err)
		goto out;
	CHECK(xtel_xdp_read_client(x, 1, &c) == -ENOENT, "stale pin was reused");
	CHECK(run_once(x) == XDP_PASS, "verdict");
	CHECK(xtel_xdp_read_client(x, 1, &c) == 0 && c.packets == 1, "fresh map counts");
	xtel_xdp_close(x);

	/* a pin dir that is not on a bpffs is refused, with a hint on stderr */
	o.pin_dir = "/tmp/xtel-not-bpffs/xtel";
	err = xtel_xdp_open(&x, &o);
	CHECK(err == -ENOTSUP, "open on tmpfs: %d", err);
	if (!err)
		xtel_xdp_close(x);

	/* no such interface */
	o.pin_dir = pin_dir;
	o.ifname = "xtel-nonexist0";
	err = xtel_xdp_open(&x, &o);
	CHECK(err == -ENODEV, "missing interface: %d", err);
	if (!err)
		xtel_xdp_close(x);
out:
	if (umount2(dir, MNT_DETACH) || rmdir(dir))
		rc = 1;
	printf("%d passed, %d failed\n", checks - failed, failed);
	return failed || rc ? 1 : 0;
}
