// SPDX-License-Identifier: MIT
/* The descriptors of the probe's outcome kinds and metrics (kinds.h). */
#include <stddef.h>
#include <string.h>

#include "probe/kinds.h"

const struct xtel_counter_desc xtel_probe_kind_desc[XTEL_PROBE_KIND_MAX] = {
#define X(id, nm, un, hp) XTEL_COUNTER_DESC(XTEL_PROBE_, id, nm, un, hp)
	XTEL_PROBE_KIND_TABLE(X)
#undef X
};

const struct xtel_counter_desc xtel_probe_metric_desc[XTEL_PROBE_M_MAX] = {
#define X(id, nm, un, hp) XTEL_COUNTER_DESC(XTEL_PROBE_M_, id, nm, un, hp)
	XTEL_PROBE_METRIC_TABLE(X)
#undef X
};

const char *xtel_probe_kind_name(unsigned int kind)
{
	return kind < XTEL_PROBE_KIND_MAX ? xtel_probe_kind_desc[kind].name : NULL;
}

int xtel_probe_kind_from_name(const char *name)
{
	for (unsigned int i = 0; i < XTEL_PROBE_KIND_MAX; i++)
		if (!strcmp(name, xtel_probe_kind_desc[i].name))
			return (int)i;
	return -1;
}
