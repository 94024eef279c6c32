// SPDX-License-Identifier: MIT
/*
 * The "xdp" object of the collector's summary JSON (xtel_xdp_write_json in
 * xdp.h): the loader's settings and every counter, by the names of
 * XTEL_XDP_STATS.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "common/json.h"
#include "xdp/handle.h"
#include "xdp/xdp.h"

static int count_client(uint32_t id, const struct xtel_xdp_client *c, void *arg)
{
	(*(uint64_t *)arg)++;
	return 0;
}

int xtel_xdp_write_json(struct xtel_xdp *x, FILE *f)
{
	struct xtel_xdp_totals t;
	uint64_t clients = 0;
	int err, i;

	err = xtel_xdp_read_totals(x, &t);
	if (err)
		return err;
	xtel_xdp_foreach_client(x, count_client, &clients);
	/* The interface name and the pin path come from the command line. */
	fputs("{\"interface\": ", f);
	xtel_json_str(f, x->ifname);
	fprintf(f, ", \"attach_mode\": \"%s\", \"pin_dir\": ", xtel_xdp_attach_mode(x));
	xtel_json_str(f, x->opts.no_pin ? "" : x->pin_dir);
	fprintf(f, ", \"port\": %u, \"mode\": \"%s\", \"afxdp\": %s, \"allowlist\": %s, "
		"\"handshake_rate\": %u, \"handshake_burst\": %u, \"handshake_global_rate\": %u, "
		"\"handshake_global_burst\": %u, \"clients\": %llu, \"stats\": {",
		x->opts.port, x->opts.dtls ? "dtls" : "plain", x->opts.afxdp ? "true" : "false",
		x->opts.allowlist ? "true" : "false", x->opts.handshake_rate,
		x->opts.handshake_burst, x->opts.handshake_global_rate,
		x->opts.handshake_global_burst, (unsigned long long)clients);
	for (i = 0; i < XTEL_XDP_STAT_MAX; i++)
		fprintf(f, "%s\"%s\": {\"packets\": %llu, \"bytes\": %llu}", i ? ", " : "",
			xtel_xdp_stat_name(i), (unsigned long long)t.packets[i],
			(unsigned long long)t.bytes[i]);
	fputs("}}", f);
	return ferror(f) ? -EIO : 0;
}
