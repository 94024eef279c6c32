/* SPDX-License-Identifier: MIT */
/*
 * struct xtel_xdp, the handle behind the opaque type of xdp.h: loader.c
 * creates, attaches and frees it; maps.c and xdp_json.c only read it
 * (settings, pin dir, CPU count) and reach the maps through
 * xtel_xdp_map_fd. Private to userspace/xdp/.
 */
#ifndef XTEL_XDP_HANDLE_H
#define XTEL_XDP_HANDLE_H

#include <limits.h>
#include <net/if.h>

#include <xdp/libxdp.h>

#include "xdp/xdp.h"

struct xtel_xdp_bpf;

struct xtel_xdp {
	struct xtel_xdp_opts opts;	/* defaults applied; ifname, pin_dir NULL */
	char pin_dir[PATH_MAX];
	char ifname[IF_NAMESIZE];
	struct xtel_xdp_bpf *skel;
	struct xdp_program *prog;
	char *log_buf;
	int ifindex;
	enum xdp_attach_mode mode;	/* XDP_MODE_UNSPEC: not attached */
	int claim_fd;			/* abstract socket: we own this interface */
	int ncpus;
};

#endif /* XTEL_XDP_HANDLE_H */
