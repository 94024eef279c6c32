/* SPDX-License-Identifier: MIT */
/*
 * NATS connection settings as NATS users expect them, shared by the edge
 * exporter and the aggregator: a comma-separated server list (nats:// or
 * tls://, user:password@ allowed in the URL), user and password, a .creds
 * file or an nkey with its seed file, and for TLS a CA bundle and an
 * optional client certificate. Reconnects forever, also when the first
 * connect fails: a NATS that is down at start is waited for, not fatal.
 */
#ifndef XTEL_NATS_CONN_H
#define XTEL_NATS_CONN_H

#include <nats/nats.h>

struct xtel_nats_conn_cfg {
	const char *servers;
	const char *user, *password;
	const char *creds;
	const char *nkey, *nkey_seed;
	const char *ca, *cert, *key;
	const char *name;		/* the connection's name in server logs */
};

/* A new natsOptions; returns 0 or -EINVAL after a message naming the option. */
int xtel_nats_options(const struct xtel_nats_conn_cfg *c, natsOptions **out);

#endif /* XTEL_NATS_CONN_H */
