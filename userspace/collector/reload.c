// SPDX-License-Identifier: MIT
/*
 * The allowlist part of SIGHUP (see reload.h). The XDP program's
 * allowlist switch is read-only data fixed at load, so a program loaded
 * without --allow cannot start filtering, and one loaded with it cannot
 * stop: both need a restart and are refused here with that said.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/log.h"
#include "common/parse.h"
#include "collector/reload.h"
#include "xdp/xdp.h"

static bool same_net(const char *a, const char *b)
{
	struct xtel_cidr x, y;

	if (xtel_parse_cidr(a, 0, &x) || xtel_parse_cidr(b, 0, &y))
		return false;
	xtel_cidr_mask(&x);
	xtel_cidr_mask(&y);
	return x.family == y.family && x.prefix == y.prefix &&
	       !memcmp(x.addr, y.addr, x.family == AF_INET ? 4 : 16);
}

static bool has_net(const struct xtel_config *c, const char *cidr)
{
	for (unsigned int i = 0; i < c->n_allow; i++)
		if (same_net(c->allow[i], cidr))
			return true;
	return false;
}

static bool same_list(const struct xtel_config *a, const struct xtel_config *b)
{
	if (a->n_allow != b->n_allow)
		return false;
	for (unsigned int i = 0; i < a->n_allow; i++)
		if (!has_net(b, a->allow[i]))
			return false;
	return true;
}

int xtel_reload_allow_check(const struct xtel_xdp *x,
			    const struct xtel_config *cur,
			    const struct xtel_config *next)
{
	if (same_list(cur, next))
		return 0;
	if (!x || cur->n_allow == 0) {
		pr_err("allow: the XDP program was started without an "
		       "allowlist: restart the collector to filter sources");
		return -EINVAL;
	}
	if (next->n_allow == 0) {
		pr_err("allow: an empty allowlist would drop every source: "
		       "restart the collector to stop filtering");
		return -EINVAL;
	}
	return 0;
}

int xtel_reload_allow_apply(struct xtel_xdp *x, const struct xtel_config *cur,
			    const struct xtel_config *next)
{
	int rc;

	if (!x || same_list(cur, next))
		return 0;
	for (unsigned int i = 0; i < next->n_allow; i++) {
		rc = xtel_xdp_allow_add(x, next->allow[i]);
		if (rc) {
			pr_err("allow %s: %s", next->allow[i], strerror(-rc));
			return rc;
		}
	}
	for (unsigned int i = 0; i < cur->n_allow; i++) {
		if (has_net(next, cur->allow[i]))
			continue;
		rc = xtel_xdp_allow_del(x, cur->allow[i]);
		if (rc && rc != -ENOENT) {
			pr_err("allow %s: %s", cur->allow[i], strerror(-rc));
			return rc;
		}
	}
	pr_info("SIGHUP: allowlist now %u prefix%s", next->n_allow,
		next->n_allow == 1 ? "" : "es");
	return 0;
}
