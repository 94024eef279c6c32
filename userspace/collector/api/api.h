/* SPDX-License-Identifier: MIT */
/*
 * The collector's HTTP API and Prometheus /metrics (docs/API.md), as main
 * sees it: made from the configuration and the model, started once the
 * receive workers run, fed each published view for its window history, and
 * reloaded on SIGHUP. Requests are served by libmicrohttpd on its own
 * thread and read only views (xtel_model_view), never the registries: a
 * request can neither block nor slow the receive path.
 */
#ifndef XTEL_API_H
#define XTEL_API_H

#include <stdbool.h>

#include "collector/cli.h"
#include "collector/model.h"
#include "store/writer.h"

struct xtel_api;
struct xtel_devices;

/*
 * Reads the token file and the HTTPS certificate and key (errors are
 * logged, naming the file): returns 0, -errno for a token file that
 * cannot be read, -EINVAL for a malformed one, -ENOKEY when the
 * certificate or key cannot be read, -ENOMEM. Nothing listens yet.
 */
int xtel_api_new(const struct xtel_config *cfg, struct xtel_model *model,
		 struct xtel_api **out);

/*
 * Binds cfg->http and starts the server thread. Returns 0, -EADDRINUSE,
 * -EADDRNOTAVAIL, -EACCES (bind), -EPROTO (TLS setup) or another -errno,
 * after a message.
 */
int xtel_api_start(struct xtel_api *api);

/* What /readyz reports about the receive path (main sets it). */
void xtel_api_set_receiving(struct xtel_api *api, bool on);

/*
 * --db: the history writer, whose counters /api/v1/stats and /metrics
 * show; the history endpoints read cfg->db on connections of their own.
 * Returns 0 or -ENOMEM.
 */
int xtel_api_set_store(struct xtel_api *api, struct xtel_store *store);

/* Main, after each xtel_model_update: the window history takes the view. */
void xtel_api_view_published(struct xtel_api *api);

/*
 * SIGHUP: re-read the token file. On an error the old tokens stay in
 * force (logged, counted in /api/v1/stats). Returns 0 or -errno.
 */
int xtel_api_reload(struct xtel_api *api);

/* The device manager the /api/v1/devices endpoints use (NULL: none). */
void xtel_api_set_devices(struct xtel_api *api, struct xtel_devices *devices);

/* Stops the server (open requests finish first) and frees. NULL: no-op. */
void xtel_api_free(struct xtel_api *api);

#endif /* XTEL_API_H */
