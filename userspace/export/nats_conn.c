// SPDX-License-Identifier: MIT
/* NATS connection options (nats_conn.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "export/nats_conn.h"

enum { MAX_SERVERS = 16 };

/*
 * With a connected callback the first connect retries in the background;
 * without one, natsConnection_Connect would retry synchronously, forever
 * with MaxReconnect -1.
 */
static void on_connected(natsConnection *nc, void *arg)
{
	(void)nc;
	(void)arg;
}

static int check(natsStatus s, const char *what)
{
	if (s == NATS_OK)
		return 0;
	pr_err("%s: %s", what, natsStatus_GetText(s));
	return -EINVAL;
}

int xtel_nats_options(const struct xtel_nats_conn_cfg *c, natsOptions **out)
{
	const char *urls[MAX_SERVERS];
	char *list = strdup(c->servers ? c->servers : ""), *save = NULL, *tok;
	int n = 0, err = 0;
	natsOptions *o = NULL;

	if (!list)
		return -ENOMEM;
	for (tok = strtok_r(list, ",", &save); tok && n < MAX_SERVERS;
	     tok = strtok_r(NULL, ",", &save))
		urls[n++] = tok;
	if (!n) {
		pr_err("NATS: no server URL (nats://HOST:PORT[,...])");
		free(list);
		return -EINVAL;
	}
	err = check(natsOptions_Create(&o), "NATS options");
	if (!err)
		err = check(natsOptions_SetServers(o, urls, n), "NATS server list");
	free(list);
	if (!err)
		err = check(natsOptions_SetMaxReconnect(o, -1), "NATS reconnect");
	if (!err)
		err = check(natsOptions_SetReconnectWait(o, 250), "NATS reconnect wait");
	if (!err)
		err = check(natsOptions_SetRetryOnFailedConnect(o, true, on_connected, NULL),
			    "NATS retry on failed connect");
	if (!err)
		err = check(natsOptions_SetTimeout(o, 2000), "NATS connect timeout");
	if (!err && c->name)
		err = check(natsOptions_SetName(o, c->name), "NATS name");
	if (!err && (c->user || c->password))
		err = check(natsOptions_SetUserInfo(o, c->user, c->password),
			    "NATS user/password");
	if (!err && c->creds)
		err = check(natsOptions_SetUserCredentialsFromFiles(o, c->creds, NULL),
			    c->creds);
	if (!err && (c->nkey || c->nkey_seed)) {
		if (!c->nkey || !c->nkey_seed) {
			pr_err("an nkey needs both the public key and the seed file");
			err = -EINVAL;
		} else {
			err = check(natsOptions_SetNKeyFromSeed(o, c->nkey, c->nkey_seed),
				    c->nkey_seed);
		}
	}
	if (!err && c->ca) {
		err = check(natsOptions_SetSecure(o, true), "NATS TLS");
		if (!err)
			err = check(natsOptions_LoadCATrustedCertificates(o, c->ca), c->ca);
	}
	if (!err && (c->cert || c->key)) {
		if (!c->cert || !c->key) {
			pr_err("a NATS client certificate needs both cert and key");
			err = -EINVAL;
		} else {
			err = check(natsOptions_LoadCertificatesChain(o, c->cert, c->key),
				    c->cert);
		}
	}
	if (err) {
		natsOptions_Destroy(o);
		return err;
	}
	*out = o;
	return 0;
}
