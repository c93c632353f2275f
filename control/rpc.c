/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-RPC 2.0 request handling (jansson). Anything a peer sends gets an
 * answer or, for a notification, silence; nothing it sends can crash the
 * daemon or leave a change half made (methods validate before they act).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/rpc.h"

json_t *
ctl_rpc_fail(struct ctl_rpc_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return NULL;
}

static char *
respond(json_t *id, json_t *result, const struct ctl_rpc_error *e)
{
	json_t *resp;
	char *s;

	if (e != NULL)
		resp = json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
			id ? id : json_null(), "error", "code", e->code, "message", e->msg);
	else
		resp = json_pack("{s:s, s:O, s:O}", "jsonrpc", "2.0", "id", id ? id : json_null(),
			"result", result ? result : json_null());
	if (resp == NULL)
		return NULL;
	s = json_dumps(resp, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(resp);
	return s;
}

int
ctl_rpc_parse(const char *line, size_t len, json_t **req, json_t **id, const char **method,
	json_t **params, struct ctl_rpc_error *e)
{
	json_t *version, *val, *m;
	json_error_t jerr;
	const char *key;

	*id = *params = NULL;
	*method = NULL;
	*req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (*req == NULL) {
		ctl_rpc_fail(e, CTL_RPC_PARSE_ERROR, "parse error at column %d: %s", jerr.column,
			jerr.text);
		return -1;
	}
	if (!json_is_object(*req)) {
		ctl_rpc_fail(e, CTL_RPC_INVALID_REQUEST, "a request must be a JSON object");
		return -1;
	}
	*id = json_object_get(*req, "id");
	if (*id != NULL && !json_is_string(*id) && !json_is_integer(*id) && !json_is_null(*id)) {
		ctl_rpc_fail(e, CTL_RPC_INVALID_REQUEST, "\"id\" must be a string or an integer");
		*id = NULL;
		return -1;
	}
	json_object_foreach (*req, key, val) {
		if (strcmp(key, "jsonrpc") && strcmp(key, "id") && strcmp(key, "method") &&
			strcmp(key, "params")) {
			ctl_rpc_fail(e, CTL_RPC_INVALID_REQUEST, "unknown member \"%.64s\"", key);
			return -1;
		}
	}
	version = json_object_get(*req, "jsonrpc");
	if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0) {
		ctl_rpc_fail(e, CTL_RPC_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"");
		return -1;
	}
	m = json_object_get(*req, "method");
	if (!json_is_string(m)) {
		ctl_rpc_fail(e, CTL_RPC_INVALID_REQUEST, "\"method\" must be a string");
		return -1;
	}
	*params = json_object_get(*req, "params");
	if (*params != NULL && !json_is_object(*params)) {
		ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "\"params\" must be an object");
		return -1;
	}
	*method = json_string_value(m);
	return 0;
}

char *
ctl_rpc_handle(const struct ctl_method *methods, void *ctx, const char *line, size_t len)
{
	struct ctl_rpc_error e = {0};
	json_t *req, *id, *params, *result = NULL;
	const struct ctl_method *m;
	const char *method;
	char *out;

	if (ctl_rpc_parse(line, len, &req, &id, &method, &params, &e) != 0) {
		if (req == NULL)
			return respond(NULL, NULL, &e);
		goto answer;
	}
	for (m = methods; m->name != NULL; m++)
		if (strcmp(m->name, method) == 0)
			break;
	if (m->name == NULL) {
		ctl_rpc_fail(&e, CTL_RPC_METHOD_NOT_FOUND, "unknown method \"%.64s\"", method);
		goto answer;
	}
	/* Absent params are an empty object. */
	params = params != NULL ? json_incref(params) : json_object();
	if (params == NULL) {
		ctl_rpc_fail(&e, CTL_RPC_INTERNAL, "out of memory");
		goto answer;
	}
	result = m->fn(ctx, params, &e);
	json_decref(params);
	if (result == NULL && e.code == 0)
		ctl_rpc_fail(&e, CTL_RPC_INTERNAL, "internal error");
answer:
	if (id == NULL && e.code == 0) {
		/* A notification: no answer. */
		json_decref(result);
		json_decref(req);
		return NULL;
	}
	out = respond(id, result, e.code ? &e : NULL);
	json_decref(result);
	json_decref(req);
	return out;
}
