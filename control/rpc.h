/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-RPC 2.0 framing: parse a request line, dispatch it to a method
 * table, build the response line. Methods see a params object and return a
 * result, or NULL with an error code and a message a person understands.
 */
#ifndef PORTICO_CONTROL_RPC_H
#define PORTICO_CONTROL_RPC_H

#include <stddef.h>

#include <jansson.h>

#include "control/config.h"

enum ctl_rpc_code {
	CTL_RPC_PARSE_ERROR = -32700,
	CTL_RPC_INVALID_REQUEST = -32600,
	CTL_RPC_METHOD_NOT_FOUND = -32601,
	CTL_RPC_INVALID_PARAMS = -32602, /* validation: nothing was changed */
	CTL_RPC_INTERNAL = -32603,
	CTL_RPC_FAILED = -32000, /* valid, but applying it failed: nothing was changed */
	CTL_RPC_NOT_FOUND = -32004, /* the named object does not exist */
};

struct ctl_rpc_error {
	int code; /* enum ctl_rpc_code */
	char msg[CTL_ERR_MAX]; /* one line */
};

/* A method: returns the result (new reference), or NULL with *e filled. */
typedef json_t *(*ctl_method_fn)(void *ctx, json_t *params, struct ctl_rpc_error *e);

struct ctl_method {
	const char *name; /* "object.verb" */
	ctl_method_fn fn;
};

/*
 * Handle one request line against a NULL-name-terminated method table.
 * Returns the response line (malloc'd, no newline), or NULL for a
 * notification (a request without "id").
 */
char *ctl_rpc_handle(const struct ctl_method *methods, void *ctx, const char *line, size_t len);

/*
 * Parse and check one request line: 0 with *req (a new reference, the
 * caller's), *id (in *req; NULL for a notification), *method and *params
 * (in *req; NULL when absent). Else -1 with *e filled, *req the parsed
 * document or NULL (not JSON) and *id the id to answer with, if usable.
 */
int ctl_rpc_parse(const char *line, size_t len, json_t **req, json_t **id, const char **method,
	json_t **params, struct ctl_rpc_error *e);

/* Fill *e (printf-style); returns NULL, for "return ctl_rpc_fail(...)". */
json_t *ctl_rpc_fail(struct ctl_rpc_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* PORTICO_CONTROL_RPC_H */
