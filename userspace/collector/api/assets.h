/* SPDX-License-Identifier: MIT */
/*
 * The dashboard's files, embedded into the collector at build time
 * (web/gen_assets.py writes the table from userspace/collector/web/ and
 * the chart library npm installed into the build directory): one entry
 * per URL path with its bytes, Content-Type, strong ETag and
 * Cache-Control. Files other than the page are named by their content
 * hash (/static/app.3f2a9c1e.js), so they can be cached for good; the page
 * itself is revalidated with its ETag on every load.
 */
#ifndef XTEL_API_ASSETS_H
#define XTEL_API_ASSETS_H

#include <stddef.h>

struct xtel_asset {
	const char *path;		/* "/" or "/static/NAME" */
	const char *content_type;
	const char *etag;		/* quoted */
	const char *cache_control;
	const unsigned char *data;
	size_t len;
};

extern const struct xtel_asset xtel_assets[];
extern const unsigned int xtel_n_assets;

/* The asset at path, or NULL. */
const struct xtel_asset *xtel_asset_find(const char *path);

#endif /* XTEL_API_ASSETS_H */
