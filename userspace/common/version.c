// SPDX-License-Identifier: MIT
/*
 * The build's version strings (see version.h). Only this file includes the
 * generated header, so a new commit recompiles one file.
 */
#include "common/version.h"
#include "common/xtel_version.h"	/* generated in the build tree */

#ifndef XTEL_VERSION
#error "XTEL_VERSION comes from the top meson.build"
#endif

const char *xtel_version(void)
{
	return XTEL_VERSION;
}

const char *xtel_git_describe(void)
{
	return XTEL_GIT_DESCRIBE[0] ? XTEL_GIT_DESCRIBE : "unknown";
}
