// SPDX-License-Identifier: MIT
/*
 * What every handler uses (internal.h): the error body, parameters parsed
 * strictly (common/parse.c: the same spellings the command line accepts),
 * lookups in a view and the freshness rule.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/parse.h"
#include "collector/api/internal.h"

int xtel_api_error(struct xtel_api_reply *rep, unsigned int status,
		   const char *code, const char *param, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	json_t *root = json_object(), *e = json_object();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(rep->json);
	rep->status = status;
	xtel_json_set(e, "status", json_integer(status));
	xtel_json_set(e, "code", json_string(code));
	xtel_json_set(e, "message", xtel_json_text(msg));
	xtel_json_set(e, "param", xtel_json_text(param));
	xtel_json_set(root, "error", e);
	rep->json = root;
	return -1;
}

json_t *xtel_api_ok(struct xtel_api_reply *rep)
{
	json_decref(rep->json);
	rep->status = 200;
	rep->json = json_object();
	return rep->json;
}

const char *xtel_api_param(const struct xtel_api_req *r, const char *key)
{
	for (unsigned int i = 0; i < r->n_params; i++)
		if (!strcmp(r->params[i].key, key))
			return r->params[i].val;
	return NULL;
}

int xtel_api_param_u64(const struct xtel_api_req *r,
		       struct xtel_api_reply *rep, const char *key,
		       uint64_t lo, uint64_t hi, uint64_t def, uint64_t *out)
{
	const char *val = xtel_api_param(r, key);

	if (!val) {
		*out = def;
		return 0;
	}
	if (xtel_parse_u64(val, lo, hi, out))
		return xtel_api_error(rep, 400, "bad_parameter", key,
				      "%s must be a whole number in %llu..%llu",
				      key, (unsigned long long)lo,
				      (unsigned long long)hi);
	return 0;
}

int xtel_api_param_double(const struct xtel_api_req *r,
			  struct xtel_api_reply *rep, const char *key,
			  double lo, double hi, double *out, bool *given)
{
	const char *val = xtel_api_param(r, key);

	*given = val != NULL;
	if (!val)
		return 0;
	if (xtel_parse_double(val, lo, hi, out))
		return xtel_api_error(rep, 400, "bad_parameter", key,
				      "%s must be a decimal number in %g..%g",
				      key, lo, hi);
	return 0;
}

int xtel_api_param_choice(const struct xtel_api_req *r,
			  struct xtel_api_reply *rep, const char *key,
			  const char *const *choices, int def)
{
	const char *val = xtel_api_param(r, key);
	char list[256] = "";
	size_t used = 0;

	if (!val)
		return def;
	for (int i = 0; choices[i]; i++) {
		if (!strcmp(val, choices[i]))
			return i;
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 "%s%s", i ? ", " : "", choices[i]);
		if (used >= sizeof(list))
			used = sizeof(list) - 1;
	}
	return xtel_api_error(rep, 400, "bad_parameter", key,
			      "%s must be one of %s", key, list);
}

bool xtel_api_metric_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > XTEL_MAX_KEY_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

double xtel_api_age_s(const struct xtel_api_req *r, uint64_t ts_ns)
{
	return r->now_ns > ts_ns ? (double)(r->now_ns - ts_ns) / 1e9 : 0.0;
}

const struct xtel_view_client *xtel_api_find_client(const struct xtel_view *v,
						    uint32_t id)
{
	uint32_t lo = 0, hi = v->snap.n_clients;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint32_t cid = v->snap.clients[mid].client_id;

		if (cid == id)
			return &v->clients[mid];
		if (cid < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct xtel_run_metric *xtel_api_find_metric(const struct xtel_view_client *vc,
						   const char *key)
{
	for (uint32_t k = 0; k < vc->n_run_metrics; k++)
		if (!strcmp(vc->run_metrics[k].latest->key, key))
			return &vc->run_metrics[k];
	return NULL;
}

bool xtel_api_fresh(const struct xtel_api_req *r,
		    const struct xtel_view_client *vc, uint64_t ts_ns)
{
	return vc->state == XTEL_CLIENT_LIVE &&
	       xtel_api_age_s(r, ts_ns) <= r->api->cfg->fresh_for_s;
}
