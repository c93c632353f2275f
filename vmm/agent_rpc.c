/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * portico-agent's JSON-RPC methods: vm.* here, everything else forwarded to
 * porticod as it is (same method, same params; porticod's answer, result or
 * error, goes back with the caller's id). vm.start and vm.stop may answer
 * later: the method keeps the caller as a waiter of the VM and returns
 * AGENT_DEFERRED; the life cycle code answers it (agent_reply()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/agent.h"

/* Params of a method: "name" must be a known VM. */
static struct agent_vm *
vm_param(struct agent *a, json_t *params, struct ctl_rpc_error *e)
{
	json_t *name = json_object_get(params, "name");
	struct agent_vm *vm;

	if (!json_is_string(name)) {
		ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "\"name\" (a VM name) is required");
		return NULL;
	}
	vm = agent_vm_find(a, json_string_value(name));
	if (vm == NULL)
		ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no VM \"%.64s\"", json_string_value(name));
	return vm;
}

/* Only these keys (NULL-terminated) may be in params. */
static bool
keys_ok(json_t *params, const char *const *keys, struct ctl_rpc_error *e)
{
	const char *key;
	json_t *v;

	json_object_foreach (params, key, v) {
		const char *const *k;

		for (k = keys; *k != NULL; k++)
			if (strcmp(*k, key) == 0)
				break;
		if (*k == NULL) {
			ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "unknown parameter \"%.64s\"", key);
			return false;
		}
	}
	return true;
}

static json_t *
m_create(struct agent *a, uint64_t conn, json_t *id, json_t *params, struct ctl_rpc_error *e)
{
	return agent_vm_create(a, params, e);
}

static json_t *
m_start(struct agent *a, uint64_t conn, json_t *id, json_t *params, struct ctl_rpc_error *e)
{
	static const char *const keys[] = {"name", NULL};
	struct agent_vm *vm;
	json_t *res;

	if (!keys_ok(params, keys, e) || (vm = vm_param(a, params, e)) == NULL)
		return NULL;
	res = agent_vm_start(a, vm, e);
	if (res == NULL && e->code == AGENT_DEFERRED)
		agent_waiter_add(&vm->start_waiters, conn, id);
	return res;
}

static json_t *
m_stop(struct agent *a, uint64_t conn, json_t *id, json_t *params, struct ctl_rpc_error *e)
{
	static const char *const keys[] = {"name", "force", "timeout", NULL};
	json_t *force = json_object_get(params, "force");
	json_t *timeout = json_object_get(params, "timeout");
	struct agent_vm *vm;
	json_t *res;

	if (!keys_ok(params, keys, e) || (vm = vm_param(a, params, e)) == NULL)
		return NULL;
	if (force != NULL && !json_is_boolean(force))
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "\"force\" must be true or false");
	if (timeout != NULL &&
		(!json_is_integer(timeout) || json_integer_value(timeout) < 0 ||
			json_integer_value(timeout) > 3600))
		return ctl_rpc_fail(
			e, CTL_RPC_INVALID_PARAMS, "\"timeout\" must be 0..3600 (seconds)");
	res = agent_vm_stop(a, vm, json_is_true(force),
		timeout != NULL ? (int)json_integer_value(timeout) : AGENT_STOP_TIMEOUT_S, e);
	if (res == NULL && e->code == AGENT_DEFERRED)
		agent_waiter_add(&vm->stop_waiters, conn, id);
	return res;
}

static json_t *
m_destroy(struct agent *a, uint64_t conn, json_t *id, json_t *params, struct ctl_rpc_error *e)
{
	static const char *const keys[] = {"name", NULL};
	struct agent_vm *vm;

	if (!keys_ok(params, keys, e) || (vm = vm_param(a, params, e)) == NULL)
		return NULL;
	return agent_vm_destroy(a, vm, e);
}

static json_t *
m_list(struct agent *a, uint64_t conn, json_t *id, json_t *params, struct ctl_rpc_error *e)
{
	static const char *const keys[] = {NULL};
	json_t *list;

	if (!keys_ok(params, keys, e))
		return NULL;
	list = json_array();
	for (int i = 0; list != NULL && i < AGENT_MAX_VMS; i++)
		if (a->vms[i] != NULL)
			json_array_append_new(list, agent_vm_to_json(a, a->vms[i], false));
	return list != NULL ? list : ctl_rpc_fail(e, CTL_RPC_INTERNAL, "out of memory");
}

static json_t *
m_show(struct agent *a, uint64_t conn, json_t *id, json_t *params, struct ctl_rpc_error *e)
{
	static const char *const keys[] = {"name", NULL};
	struct agent_vm *vm;

	if (!keys_ok(params, keys, e) || (vm = vm_param(a, params, e)) == NULL)
		return NULL;
	return agent_vm_to_json(a, vm, true);
}

static json_t *
m_console(struct agent *a, uint64_t conn, json_t *id, json_t *params, struct ctl_rpc_error *e)
{
	static const char *const keys[] = {"name", "lines", "input", NULL};
	struct agent_vm *vm;

	if (!keys_ok(params, keys, e) || (vm = vm_param(a, params, e)) == NULL)
		return NULL;
	return agent_vm_console(a, vm, params, e);
}

/* A method of the agent. */
struct agent_method {
	const char *name; /* "vm.verb" */
	/* the result, or NULL with e (AGENT_DEFERRED: the method keeps id to answer later) */
	json_t *(*fn)(struct agent *a, uint64_t conn, json_t *id, json_t *params,
		struct ctl_rpc_error *e);
};

static const struct agent_method methods[] = {
	{"vm.create", m_create},
	{"vm.start", m_start},
	{"vm.stop", m_stop},
	{"vm.destroy", m_destroy},
	{"vm.list", m_list},
	{"vm.show", m_show},
	{"vm.console", m_console},
	{NULL, NULL},
};

/* The response line (malloc'd, no newline). */
static char *
respond(json_t *id, json_t *result, const struct ctl_rpc_error *e, json_t *raw_error)
{
	json_t *resp;
	char *s;

	if (raw_error != NULL)
		resp = json_pack("{s:s, s:O, s:O}", "jsonrpc", "2.0", "id", id ? id : json_null(),
			"error", raw_error);
	else if (e != NULL)
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

/* Forward a method the agent does not have to porticod. */
static char *
proxy(struct agent *a, json_t *id, const char *method, json_t *params)
{
	struct ctl_rpc_error e = {0};
	json_t *result = NULL, *error = NULL;
	char *out;
	int rc;

	rc = agent_pd_call(a, method, params, &result, &error);
	if (rc < 0) {
		ctl_rpc_fail(&e, CTL_RPC_FAILED, "porticod unreachable: %s", a->pd.err);
		return respond(id, NULL, &e, NULL);
	}
	out = respond(id, result, NULL, error);
	json_decref(result);
	json_decref(error);
	return out;
}

char *
agent_rpc_handle(struct agent *a, uint64_t conn, const char *line, size_t len)
{
	struct ctl_rpc_error e = {0};
	json_t *req, *id, *params, *result = NULL;
	const struct agent_method *m;
	const char *method;
	char *out = NULL;

	if (ctl_rpc_parse(line, len, &req, &id, &method, &params, &e) != 0) {
		if (req == NULL)
			return respond(NULL, NULL, &e, NULL);
		goto answer;
	}
	for (m = methods; m->name != NULL; m++)
		if (strcmp(m->name, method) == 0)
			break;
	if (m->name == NULL) {
		if (strncmp(method, "vm.", 3) == 0) {
			ctl_rpc_fail(
				&e, CTL_RPC_METHOD_NOT_FOUND, "unknown method \"%.64s\"", method);
			goto answer;
		}
		out = proxy(a, id, method, params);
		if (id == NULL) { /* a notification: forwarded, no answer */
			free(out);
			out = NULL;
		}
		json_decref(req);
		return out;
	}
	params = params != NULL ? json_incref(params) : json_object();
	if (params == NULL) {
		ctl_rpc_fail(&e, CTL_RPC_INTERNAL, "out of memory");
		goto answer;
	}
	/* A deferred answer needs an id to go with: a notification gets none. */
	result = m->fn(a, conn, id != NULL ? id : json_null(), params, &e);
	json_decref(params);
	if (result == NULL && e.code == AGENT_DEFERRED) {
		json_decref(req);
		return NULL;
	}
	if (result == NULL && e.code == 0)
		ctl_rpc_fail(&e, CTL_RPC_INTERNAL, "internal error");
answer:
	if (id == NULL && e.code == 0) {
		json_decref(result);
		json_decref(req);
		return NULL; /* a notification */
	}
	out = respond(id, result, e.code ? &e : NULL, NULL);
	json_decref(result);
	json_decref(req);
	return out;
}

void
agent_waiter_add(struct agent_waiter **list, uint64_t conn, json_t *id)
{
	struct agent_waiter *w = calloc(1, sizeof(*w)), **p;

	if (w == NULL)
		return; /* the caller times out: nothing else to do without memory */
	w->conn = conn;
	w->id = json_incref(id);
	for (p = list; *p != NULL; p = &(*p)->next)
		;
	*p = w;
}

void
agent_reply(struct agent *a, struct agent_waiter *w, json_t *result, const struct ctl_rpc_error *e)
{
	char *line;

	if (!json_is_null(w->id)) {
		line = respond(w->id, result, e, NULL);
		if (line != NULL)
			agent_net_send(a->net, w->conn, line);
		free(line);
	}
	json_decref(w->id);
	free(w);
}

void
agent_reply_all(
	struct agent *a, struct agent_waiter **list, json_t *result, const struct ctl_rpc_error *e)
{
	struct agent_waiter *w = *list, *next;

	*list = NULL;
	for (; w != NULL; w = next) {
		next = w->next;
		agent_reply(a, w, result, e);
	}
}
