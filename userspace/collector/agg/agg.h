/* SPDX-License-Identifier: MIT */
/*
 * collector --aggregate: the central aggregator of docs/SCALE-OUT.md. It
 * pulls the edges' rollups from a durable JetStream consumer, merges them
 * per (site, client) exactly (state.c), checkpoints the merged state and
 * the ids of the applied messages in SQLite before it acks them
 * (store.c), and publishes views of the merged state that the HTTP API
 * and /metrics serve as they serve a collector's (run.c).
 */
#ifndef XTEL_AGG_H
#define XTEL_AGG_H

#include "collector/cli.h"

/* Runs until SIGINT/SIGTERM; returns the process exit code. */
int xtel_agg_main(const struct xtel_config *cfg);

#endif /* XTEL_AGG_H */
