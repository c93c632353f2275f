/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * portico-agent's side of porticod's control socket (control/rpc_client.h):
 * one connection, kept open; calls are synchronous and bounded by
 * AGENT_PORTICOD_TIMEOUT_MS (porticod answers from its control loop in
 * microseconds; a hung porticod costs the agent at most that per call).
 *
 * porticod going away shows as EOF on the idle connection (or a failed
 * call). The agent then reconnects every AGENT_PORTICOD_RETRY_MS and, once
 * connected, reconciles: the ports of every VM that is not stopped exist
 * (re-added if porticod lost them), no port of a stopped VM is left, and
 * every NIC's reported state (effective MAC, guest promiscuous mode; not
 * persisted by porticod) is sent again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/agent.h"

static void
pd_drop(struct agent *a, const char *why)
{
	if (a->pd.fd >= 0 && a->pd_up)
		agent_log("porticod: connection lost (%s); reconnecting", why);
	ctl_client_close(&a->pd);
	a->pd.fd = -1;
	a->pd_up = false;
	a->pd_retry_ms = agent_now_ms() + AGENT_PORTICOD_RETRY_MS;
}

static int
pd_connect(struct agent *a)
{
	int rc = ctl_client_connect(&a->pd, a->porticod_path, AGENT_PORTICOD_TIMEOUT_MS);

	if (rc < 0) {
		ctl_client_close(&a->pd);
		a->pd.fd = -1;
	}
	return rc;
}

int
agent_pd_call(struct agent *a, const char *method, json_t *params, json_t **result, json_t **error)
{
	int rc;

	*result = *error = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (a->pd.fd < 0) {
			rc = pd_connect(a);
			if (rc < 0)
				return rc;
		}
		rc = ctl_client_call(&a->pd, method, params, result, error);
		if (rc == 0 || rc == -EINVAL || rc == -ENOMEM)
			return rc;
		/* A stale connection (porticod restarted): once more, anew. */
		pd_drop(a, a->pd.err);
	}
	return rc;
}

/* The error message of a porticod error object. */
static const char *
err_msg(json_t *error)
{
	json_t *m = json_object_get(error, "message");

	return json_is_string(m) ? json_string_value(m) : "error";
}

static int
err_code(json_t *error)
{
	json_t *c = json_object_get(error, "code");

	return json_is_integer(c) ? (int)json_integer_value(c) : 0;
}

/* Call and keep only whether it worked: 0, -ENOENT (no such object), -EREMOTEIO, -errno. */
static int
pd_simple(struct agent *a, const char *method, json_t *params, char *err, json_t **result)
{
	json_t *res = NULL, *error = NULL;
	int rc;

	rc = agent_pd_call(a, method, params, &res, &error);
	if (rc < 0) {
		if (err != NULL)
			snprintf(err, VMM_ERR_MAX, "porticod unreachable: %.200s", a->pd.err);
		return rc;
	}
	if (error != NULL) {
		rc = err_code(error) == CTL_RPC_NOT_FOUND ? -ENOENT : -EREMOTEIO;
		if (err != NULL)
			snprintf(err, VMM_ERR_MAX, "porticod: %s: %s", method, err_msg(error));
	}
	if (result != NULL && rc == 0)
		*result = res;
	else
		json_decref(res);
	json_decref(error);
	return rc;
}

/* port.add's params for NIC i of vm. */
static json_t *
port_params(const struct agent_vm *vm, unsigned i)
{
	const struct vmm_nic *nic = &vm->spec.nics[i];
	char name[VMM_PORT_NAME_MAX], mac[18];

	if (vmm_nic_port_name(&vm->spec, i, name) < 0)
		return NULL;
	vmm_mac_format(nic->mac, mac);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "name", name, "vswitch",
		nic->vswitch, "portgroup", nic->portgroup, "socket", nic->socket, "mac", mac,
		"mode", "client", "queues", (int)nic->queues);
}

/* Does porticod's port (port.show result) match what NIC i needs? */
static bool
port_matches(json_t *port, json_t *want)
{
	static const char *const keys[] = {"vswitch", "portgroup", "socket", "mac", "mode"};

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		json_t *a = json_object_get(port, keys[k]), *b = json_object_get(want, keys[k]);

		if (!json_is_string(a) || !json_is_string(b) ||
			strcasecmp(json_string_value(a), json_string_value(b)) != 0)
			return false;
	}
	return json_integer_value(json_object_get(port, "queues")) ==
		json_integer_value(json_object_get(want, "queues"));
}

/* Make NIC i's port exist as needed (kept when it already matches). */
static int
port_ensure(struct agent *a, const struct agent_vm *vm, unsigned i, char *err, bool *added)
{
	json_t *want, *name, *port = NULL, *del;
	int rc;

	*added = false;
	want = port_params(vm, i);
	if (want == NULL) {
		snprintf(err, VMM_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	name = json_pack("{s:O}", "name", json_object_get(want, "name"));
	rc = pd_simple(a, "port.show", name, err, &port);
	if (rc == 0 && port_matches(port, want))
		goto out;
	if (rc == 0) {
		/* A port of that name with other settings (an older spec): replace it. */
		del = json_pack("{s:O}", "name", json_object_get(want, "name"));
		rc = pd_simple(a, "port.del", del, err, NULL);
		json_decref(del);
		if (rc < 0 && rc != -ENOENT)
			goto out;
	} else if (rc != -ENOENT) {
		goto out;
	}
	rc = pd_simple(a, "port.add", want, err, NULL);
	*added = rc == 0;
out:
	json_decref(port);
	json_decref(name);
	json_decref(want);
	return rc;
}

static void
port_del(struct agent *a, const struct agent_vm *vm, unsigned i)
{
	char name[VMM_PORT_NAME_MAX];
	json_t *p;

	if (vmm_nic_port_name(&vm->spec, i, name) < 0)
		return;
	p = json_pack("{s:s}", "name", name);
	pd_simple(a, "port.del", p, NULL, NULL);
	json_decref(p);
}

int
agent_pd_ports_add(struct agent *a, const struct agent_vm *vm, char *err)
{
	bool added;
	unsigned i;
	int rc = 0;

	for (i = 0; i < vm->spec.n_nics; i++) {
		rc = port_ensure(a, vm, i, err, &added);
		if (rc < 0)
			break;
	}
	if (rc < 0)
		while (i-- > 0)
			port_del(a, vm, i);
	return rc;
}

void
agent_pd_ports_del(struct agent *a, const struct agent_vm *vm)
{
	for (unsigned i = 0; i < vm->spec.n_nics; i++)
		port_del(a, vm, i);
}

void
agent_pd_report(struct agent *a, struct agent_vm *vm)
{
	char name[VMM_PORT_NAME_MAX], mac[18], err[VMM_ERR_MAX];
	json_t *p;

	if (a->pd.fd < 0 && !a->pd_up)
		return; /* sent on reconnect */
	for (unsigned i = 0; i < vm->spec.n_nics; i++) {
		struct agent_nic_report *r = &vm->nic[i];

		if (!r->known || r->sent || vmm_nic_port_name(&vm->spec, i, name) < 0)
			continue;
		vmm_mac_format(r->mac, mac);
		p = json_pack("{s:s, s:s, s:b}", "name", name, "effective_mac", mac,
			"guest_promisc", r->promisc);
		if (pd_simple(a, "port.set", p, err, NULL) == 0) {
			r->sent = true;
			agent_log("vm %s: %s: effective MAC %s, guest promiscuous %s",
				vm->spec.name, name, mac, r->promisc ? "on" : "off");
		} else {
			agent_log("vm %s: cannot report %s's state: %s", vm->spec.name, name, err);
		}
		json_decref(p);
	}
}

/* Connected again: porticod may have lost ports and reported state. */
static void
reconcile(struct agent *a)
{
	char err[VMM_ERR_MAX];
	unsigned added = 0, reports = 0;
	bool one;

	for (int v = 0; v < AGENT_MAX_VMS; v++) {
		struct agent_vm *vm = a->vms[v];

		if (vm == NULL)
			continue;
		if (vm->state == AGENT_VM_STOPPED) {
			for (unsigned i = 0; i < vm->spec.n_nics; i++) {
				char name[VMM_PORT_NAME_MAX];
				json_t *p, *port = NULL;

				if (vmm_nic_port_name(&vm->spec, i, name) < 0)
					continue;
				p = json_pack("{s:s}", "name", name);
				if (pd_simple(a, "port.show", p, NULL, &port) == 0) {
					agent_log("vm %s is stopped: removing its port %s",
						vm->spec.name, name);
					port_del(a, vm, i);
				}
				json_decref(port);
				json_decref(p);
			}
			continue;
		}
		for (unsigned i = 0; i < vm->spec.n_nics; i++) {
			if (port_ensure(a, vm, i, err, &one) < 0)
				agent_log("vm %s: %s", vm->spec.name, err);
			added += one;
			if (vm->nic[i].known) {
				vm->nic[i].sent = false;
				reports++;
			}
		}
		agent_pd_report(a, vm);
		agent_vm_announce(vm);
	}
	agent_log("porticod: connected (%u port(s) re-added, %u report(s) re-sent, guests "
		  "announced)",
		added, reports);
}

void
agent_pd_tick(struct agent *a)
{
	if (a->pd_up || agent_now_ms() < a->pd_retry_ms)
		return;
	if (a->pd.fd < 0 && pd_connect(a) < 0) {
		a->pd_retry_ms = agent_now_ms() + AGENT_PORTICOD_RETRY_MS;
		return;
	}
	a->pd_up = true;
	reconcile(a);
}

void
agent_pd_input(struct agent *a)
{
	char c;
	ssize_t n;

	/* porticod never speaks unasked: readable means it closed. */
	n = recv(a->pd.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		pd_drop(a, n == 0 ? "porticod closed it" : strerror(errno));
}
