/* SPDX-License-Identifier: MIT */
/*
 * The version every program prints with --version: meson's project version
 * (XTEL_VERSION, passed by the top meson.build) and `git describe` of the
 * tree it was built from ("unknown" outside a git checkout, as in a
 * release tarball).
 */
#ifndef XTEL_COMMON_VERSION_H
#define XTEL_COMMON_VERSION_H

/* "0.1.0" */
const char *xtel_version(void);
/* "0a60834-dirty", "v0.1.0-3-g0a60834", or "unknown" */
const char *xtel_git_describe(void);

#endif /* XTEL_COMMON_VERSION_H */
