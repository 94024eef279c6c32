// SPDX-License-Identifier: MIT
/*
 * Start-up checks and exit-code mapping (see preflight.h).
 */
#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "collector/certcheck.h"
#include "collector/preflight.h"
#include "collector/rx/uring.h"
#include "store/writer.h"
#include "xdp/xdp.h"

static bool has_cap(unsigned int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = { { 0 } };

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

/* Reporter callback: per-worker counters plus the kernel's socket drops. */
int xtel_exit_uring_unavailable(int rc)
{
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	if (v > 0)
		pr_err("io_uring is disabled (sysctl "
			"kernel.io_uring_disabled=%d): set it to 0%s", v,
			v == 1 ? ", or run as a member of kernel.io_uring_group" : "");
	else if (rc == -ENOSYS)
		pr_err("this kernel has no io_uring "
			"(io_uring_setup: ENOSYS)");
	else if (rc == -EPERM || rc == -EACCES)
		pr_err("io_uring is disabled: io_uring_setup "
			"refused with %s although kernel.io_uring_disabled=%d "
			"(a seccomp or LSM policy?)", strerror(-rc), v);
	else
		pr_err("io_uring unusable: io_uring_setup: "
			"%s", strerror(-rc));
	return XTEL_EXIT_URING;
}

int xtel_exit_bind_error(const struct xtel_config *cfg, int rc)
{
	if (rc == -EADDRINUSE) {
		pr_err("UDP port %u on %s is already in use "
			"(EADDRINUSE): stop the other listener or pick --port",
			cfg->port, cfg->bind_str);
		return XTEL_EXIT_ADDR;
	}
	if (rc == -EACCES) {
		pr_err("binding UDP port %u needs "
			"CAP_NET_BIND_SERVICE (ports below 1024)", cfg->port);
		return XTEL_EXIT_PRIVILEGE;
	}
	pr_err("cannot bind UDP %s port %u: %s",
		cfg->bind_str, cfg->port, strerror(-rc));
	return XTEL_EXIT_ADDR;
}

/* Everything checkable before any thread or socket exists. */
int xtel_preflight(struct xtel_config *cfg)
{
	int rc;

	if (cfg->iface) {
		cfg->ifindex = if_nametoindex(cfg->iface);
		if (!cfg->ifindex) {
			pr_err("interface %s not found "
				"(--iface)", cfg->iface);
			return XTEL_EXIT_IFACE;
		}
		if (!cfg->no_xdp) {
			if (!has_cap(CAP_NET_ADMIN)) {
				pr_err("XDP on %s needs "
					"CAP_NET_ADMIN (run as root, or pass "
					"--no-xdp)", cfg->iface);
				return XTEL_EXIT_PRIVILEGE;
			}
			if (!has_cap(CAP_BPF) && !has_cap(CAP_SYS_ADMIN)) {
				pr_err("XDP on %s needs "
					"CAP_BPF (run as root, or pass "
					"--no-xdp)", cfg->iface);
				return XTEL_EXIT_PRIVILEGE;
			}
			/*
			 * The verifier allows the program's packet-length
			 * arithmetic (data_end - data) only to perfmon_capable().
			 */
			if (!has_cap(CAP_PERFMON) && !has_cap(CAP_SYS_ADMIN)) {
				pr_err("XDP on %s needs CAP_PERFMON: the "
				       "verifier refuses the program without it "
				       "(run as root, or pass --no-xdp)",
				       cfg->iface);
				return XTEL_EXIT_PRIVILEGE;
			}
		}
	}
	if (cfg->mode == XTEL_MODE_DTLS) {
		rc = xtel_certcheck(cfg->cert, cfg->key, cfg->ca);
		if (rc)
			return rc;
	}
	if (cfg->db) {
		/* open, migrate, prepare: what the writer will do, said now */
		struct xtel_store_cfg sc = { .path = cfg->db };
		struct xtel_store *st;

		if (xtel_store_open(&sc, &st))
			return XTEL_EXIT_USAGE;
		xtel_store_free(st);
	}
	rc = xtel_rx_uring_probe();
	if (rc)
		return xtel_exit_uring_unavailable(rc);
	rc = xtel_rx_port_probe(cfg);
	if (rc)
		return xtel_exit_bind_error(cfg, rc);
	return 0;
}


int xtel_exit_xdp_error(const struct xtel_config *cfg, int rc)
{
	/* The loader already explained the cause; add the way out. */
	switch (rc) {
	case -EPERM:
		pr_err("loading XDP on %s needs CAP_BPF and "
			"CAP_NET_ADMIN (run as root, or pass --no-xdp)",
			cfg->iface);
		return XTEL_EXIT_PRIVILEGE;
	case -ENODEV:
		pr_err("interface %s not found (--iface)",
			cfg->iface);
		return XTEL_EXIT_IFACE;
	case -ENOTSUP:
		pr_err("no usable bpffs for --pin-dir %s: "
			"mount one (mount -t bpf bpf /sys/fs/bpf) or point "
			"--pin-dir at a directory on a bpffs", cfg->pin_dir);
		return XTEL_EXIT_RUNTIME;
	default:
		pr_err("XDP on %s: %s (pass --no-xdp to run "
			"without it)", cfg->iface, strerror(-rc));
		return XTEL_EXIT_RUNTIME;
	}
}

int xtel_detach(const struct xtel_config *cfg)
{
	int rc;

	if (!has_cap(CAP_NET_ADMIN)) {
		pr_err("--detach %s needs CAP_NET_ADMIN (run as root)",
		       cfg->detach);
		return XTEL_EXIT_PRIVILEGE;
	}
	rc = xtel_xdp_detach_iface(cfg->detach);
	switch (rc) {
	case 1:
		pr_info("detached the XDP program from %s", cfg->detach);
		return XTEL_EXIT_OK;
	case 0:
		pr_info("no xtel XDP program is attached to %s", cfg->detach);
		return XTEL_EXIT_OK;
	case -ENODEV:
		return XTEL_EXIT_IFACE;
	case -EPERM:
		return XTEL_EXIT_PRIVILEGE;
	default:
		if (rc != -EBUSY && rc != -EEXIST)
			pr_err("--detach %s: %s", cfg->detach, strerror(-rc));
		return XTEL_EXIT_RUNTIME;
	}
}
