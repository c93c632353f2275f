/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porticod's JSON-RPC methods.
 *
 * A change works on a copy of the running config: edit, validate, apply,
 * save. Any failure answers with an error and leaves the running config,
 * the dataplane and the state file as they were (a failed save undoes the
 * apply).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_version.h>

#include "control/methods.h"
#include "control/rates.h"

/* A required string parameter. */
static const char *
param_str(json_t *params, const char *key, struct ctl_rpc_error *e)
{
	json_t *v = json_object_get(params, key);

	if (!json_is_string(v)) {
		ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "missing string parameter \"%s\"", key);
		return NULL;
	}
	return json_string_value(v);
}

/* An optional string parameter (NULL when absent); e set when of the wrong type. */
static const char *
param_opt_str(json_t *params, const char *key, struct ctl_rpc_error *e)
{
	json_t *v = json_object_get(params, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "parameter \"%s\" must be a string", key);
		return NULL;
	}
	return json_string_value(v);
}

/* Reject parameters outside allowed (NULL-terminated). */
static bool
params_only(json_t *params, const char *const *allowed, struct ctl_rpc_error *e)
{
	const char *key;
	json_t *v;

	json_object_foreach (params, key, v) {
		const char *const *a;

		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a == NULL) {
			ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "unknown parameter \"%.64s\"", key);
			return false;
		}
	}
	return true;
}

static struct ctl_config *
working_copy(struct ctl_daemon *d, struct ctl_rpc_error *e)
{
	struct ctl_config *c = ctl_config_clone(d->rt->cfg);

	if (c == NULL)
		ctl_rpc_fail(e, CTL_RPC_INTERNAL, "out of memory");
	return c;
}

/*
 * Make next the running config: validate, apply, save. Takes next. Returns
 * 0, or -1 with *e filled and nothing changed.
 */
static int
commit(struct ctl_daemon *d, struct ctl_config *next, struct ctl_rpc_error *e)
{
	char err[CTL_ERR_MAX];
	struct ctl_config *prev;

	if (ctl_config_validate(next, err) != 0) {
		ctl_config_free(next);
		ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "%s", err);
		return -1;
	}
	prev = ctl_config_clone(d->rt->cfg);
	if (prev == NULL) {
		ctl_config_free(next);
		ctl_rpc_fail(e, CTL_RPC_INTERNAL, "out of memory");
		return -1;
	}
	if (ctl_apply(d->rt, next, err) != 0) {
		ctl_config_free(next);
		ctl_config_free(prev);
		ctl_rpc_fail(e, CTL_RPC_FAILED, "%s", err);
		return -1;
	}
	if (d->state_path != NULL && ctl_config_save(d->rt->cfg, d->state_path, err) != 0) {
		char undo[CTL_ERR_MAX];

		ctl_rpc_fail(e, CTL_RPC_FAILED, "cannot save the state file: %s", err);
		if (ctl_apply(d->rt, prev, undo) != 0) {
			ctl_config_free(prev);
			snprintf(e->msg + strlen(e->msg), sizeof(e->msg) - strlen(e->msg),
				" (and undoing failed: %s)", undo);
		}
		return -1;
	}
	ctl_config_free(prev);
	return 0;
}

/* --- system, config --- */

static json_t *
m_system_version(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	static const char *const allowed[] = {NULL};

	if (!params_only(params, allowed, e))
		return NULL;
	return json_pack("{s:s, s:s}", "version", PORTICO_VERSION, "dpdk", rte_version());
}

static json_t *
m_config_get(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const allowed[] = {NULL};

	if (!params_only(params, allowed, e))
		return NULL;
	return ctl_config_to_json(d->rt->cfg);
}

/* --- policy --- */

/*
 * The effective policy of the levels given (port may be NULL, portgroup
 * too): {"<group>": {"<field>": {"value": v, "from": "default|vswitch|
 * portgroup|port"}}}.
 */
static json_t *
effective_json(const struct pg_policy *vswitch, const struct pg_policy *portgroup,
	const struct pg_policy *port)
{
	struct pg_effective eff;
	json_t *obj = json_object();

	pg_resolve(vswitch, portgroup, port, &eff);
	for (unsigned f = 0; obj != NULL && f < PG_F_MAX; f++) {
		const struct pg_field_desc *fd = pg_field(f);
		json_t *group = ctl_policy_group_obj(obj, fd->group);

		json_object_set_new(group, fd->name,
			json_pack("{s:o, s:s}", "value", ctl_policy_value_to_json(f, eff.v[f]),
				"from", pg_source_name(eff.from[f])));
	}
	return obj;
}

/* --- vSwitch --- */

static const char *const name_key[] = {"name", NULL};

static json_t *
m_vswitch_add(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const allowed[] = {"name", "mtu", "policy", "pvlans", NULL};
	char err[CTL_ERR_MAX];
	struct ctl_vswitch vs;
	struct ctl_config *next;
	const char *name;

	if (!params_only(params, allowed, e) || (name = param_str(params, "name", e)) == NULL)
		return NULL;
	if (ctl_config_vswitch(d->rt->cfg, name) != NULL)
		return ctl_rpc_fail(
			e, CTL_RPC_INVALID_PARAMS, "vSwitch \"%s\" already exists", name);
	memset(&vs, 0, sizeof(vs));
	if (ctl_vswitch_from_json(params, NULL, &vs, err) != 0)
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "%s", err);
	next = working_copy(d, e);
	if (next == NULL)
		return NULL;
	if (ctl_config_add_vswitch(next, &vs) != 0) {
		ctl_config_free(next);
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "too many vSwitches");
	}
	if (commit(d, next, e) != 0)
		return NULL;
	return ctl_vswitch_to_json(ctl_config_vswitch(d->rt->cfg, name));
}

static json_t *
m_vswitch_set(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const allowed[] = {"name", "mtu", "policy", "pvlans", NULL};
	char err[CTL_ERR_MAX];
	struct ctl_config *next;
	struct ctl_vswitch *vs;
	const char *name;

	if (!params_only(params, allowed, e) || (name = param_str(params, "name", e)) == NULL)
		return NULL;
	if (ctl_config_vswitch(d->rt->cfg, name) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no vSwitch \"%s\"", name);
	next = working_copy(d, e);
	if (next == NULL)
		return NULL;
	vs = ctl_config_vswitch(next, name);
	if (ctl_vswitch_update_json(params, name_key, vs, err) != 0) {
		ctl_config_free(next);
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "%s", err);
	}
	if (commit(d, next, e) != 0)
		return NULL;
	return ctl_vswitch_to_json(ctl_config_vswitch(d->rt->cfg, name));
}

static json_t *
m_vswitch_del(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	struct ctl_config *next;
	const char *name;

	if (!params_only(params, name_key, e) || (name = param_str(params, "name", e)) == NULL)
		return NULL;
	if (ctl_config_vswitch(d->rt->cfg, name) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no vSwitch \"%s\"", name);
	for (unsigned i = 0; i < d->rt->cfg->n_ports; i++)
		if (strcmp(d->rt->cfg->ports[i].vswitch, name) == 0)
			return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
				"vSwitch \"%s\" still has port \"%s\": delete its ports first",
				name, d->rt->cfg->ports[i].name);
	next = working_copy(d, e);
	if (next == NULL)
		return NULL;
	ctl_config_del_vswitch(next, name);
	if (commit(d, next, e) != 0)
		return NULL;
	return json_null();
}

static json_t *
m_vswitch_list(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const allowed[] = {NULL};
	const struct ctl_config *cfg = d->rt->cfg;
	json_t *list;

	if (!params_only(params, allowed, e))
		return NULL;
	list = json_array();
	for (unsigned i = 0; i < cfg->n_vswitches; i++) {
		const struct ctl_vswitch *vs = &cfg->vswitches[i];
		json_t *ups = json_array(), *pgs = json_array();
		unsigned j, n_ports = 0;

		for (j = 0; j < vs->n_uplinks; j++)
			json_array_append_new(ups, json_string(vs->uplinks[j].name));
		for (j = 0; j < vs->n_portgroups; j++)
			json_array_append_new(pgs, json_string(vs->portgroups[j].name));
		for (j = 0; j < cfg->n_ports; j++)
			n_ports += strcmp(cfg->ports[j].vswitch, vs->name) == 0;
		json_array_append_new(list,
			json_pack("{s:s, s:i, s:o, s:o, s:i, s:o}", "name", vs->name, "mtu",
				(int)vs->mtu, "uplinks", ups, "portgroups", pgs, "ports",
				(int)n_ports, "policy", effective_json(&vs->policy, NULL, NULL)));
	}
	return list;
}

/* --- uplinks --- */

static json_t *
m_uplink_add(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const ignore[] = {"vswitch", NULL};
	char err[CTL_ERR_MAX];
	struct ctl_config *next;
	struct ctl_uplink up;
	const char *vsname;

	if ((vsname = param_str(params, "vswitch", e)) == NULL)
		return NULL;
	memset(&up, 0, sizeof(up));
	if (ctl_uplink_from_json(params, ignore, &up, err) != 0)
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "%s", err);
	if (ctl_config_vswitch(d->rt->cfg, vsname) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no vSwitch \"%s\"", vsname);
	if (ctl_config_uplink(d->rt->cfg, up.name, NULL) != NULL)
		return ctl_rpc_fail(
			e, CTL_RPC_INVALID_PARAMS, "uplink \"%s\" already exists", up.name);
	next = working_copy(d, e);
	if (next == NULL)
		return NULL;
	if (ctl_vswitch_add_uplink(ctl_config_vswitch(next, vsname), &up) != 0) {
		ctl_config_free(next);
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
			"vSwitch \"%s\" has %d uplinks already", vsname, CTL_MAX_UPLINKS);
	}
	if (commit(d, next, e) != 0)
		return NULL;
	return ctl_uplink_to_json(ctl_config_uplink(d->rt->cfg, up.name, NULL));
}

static json_t *
m_uplink_del(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	struct ctl_config *next;
	struct ctl_vswitch *vs;
	const char *name;

	if (!params_only(params, name_key, e) || (name = param_str(params, "name", e)) == NULL)
		return NULL;
	if (ctl_config_uplink(d->rt->cfg, name, NULL) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no uplink \"%s\"", name);
	next = working_copy(d, e);
	if (next == NULL)
		return NULL;
	ctl_config_uplink(next, name, &vs);
	ctl_vswitch_del_uplink(vs, name);
	if (commit(d, next, e) != 0)
		return NULL;
	return json_null();
}

/*
 * How each port group of vs uses uplink slot u: its role (active, standby,
 * unused), whether it carries the group's traffic now, its beacon state,
 * the team's event counts.
 */
static json_t *
uplink_teams_json(const struct ctl_rt *rt, const struct ctl_vswitch *vs, uint8_t u)
{
	const struct ctl_rt_vswitch *rv = ctl_rt_vswitch(rt, vs->name);
	json_t *arr = json_array();

	for (unsigned i = 0; rv != NULL && i < rv->n_teams; i++) {
		const struct ctl_rt_team *t = &rv->teams[i];
		const struct team_state *ts = &t->ts;
		const char *role = "unused", *beacon = "off";
		json_t *ev = json_object();
		bool serving = false;
		unsigned k;

		for (k = 0; k < t->pol.n_active; k++)
			if (t->pol.active[k] == u)
				role = "active";
		for (k = 0; k < t->pol.n_standby; k++)
			if (t->pol.standby[k] == u)
				role = "standby";
		for (k = 0; k < t->compiled.n_serving; k++)
			serving |= t->compiled.serving[k] == u;
		if (ts->probing)
			beacon = (ts->beacon.failed >> u) & 1 ? "failed"
				: ts->shotgun		      ? "shotgun"
				: (ts->beacon.ok >> u) & 1    ? "ok"
							      : "down";
		for (k = 0; k < TEAM_EV_MAX_TYPE; k++)
			json_object_set_new(
				ev, team_event_name(k), json_integer((json_int_t)t->count[k]));
		json_array_append_new(arr,
			json_pack("{s:s, s:s, s:b, s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:o}", "name",
				t->pg, "role", role, "serving", serving, "healthy",
				(int)((ts->healthy >> u) & 1), "beacon", beacon, "load_balancing",
				team_lb_name(t->pol.lb), "failure_detection",
				team_detect_name(t->pol.detect), "beacons_sent",
				(json_int_t)t->beacons_sent, "beacons_received",
				(json_int_t)t->beacons_rx, "rarps_sent", (json_int_t)t->rarps_sent,
				"events", ev));
	}
	return arr;
}

/* 802.1AX LACP state bits by name, low bit first. */
static json_t *
lacp_state_json(uint8_t st)
{
	static const char *const bits[8] = {"activity", "short_timeout", "aggregation",
		"synchronization", "collecting", "distributing", "defaulted", "expired"};
	json_t *a = json_array();

	for (unsigned b = 0; b < 8; b++)
		if (st & (1u << b))
			json_array_append_new(a, json_string(bits[b]));
	return a;
}

/* A bond uplink's members: link, use, and in LACP mode both sides' states. */
static json_t *
bond_members_json(const struct ctl_rt_uplink *u)
{
	struct dp_bond_member m[DP_ETHDEV_MAX_MEMBERS];
	json_t *arr = json_array();
	int n = dp_ethdev_bond_info(u->eth, m, RTE_DIM(m));

	for (int i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s, s:s, s:b, s:b}", "name", m[i].name, "link",
			m[i].in_bond && m[i].link_up ? "up" : "down", "in_bond", m[i].in_bond,
			"active", m[i].active);

		if (m[i].lacp) {
			struct rte_ether_addr sys;
			char buf[RTE_ETHER_ADDR_FMT_SIZE];

			memcpy(sys.addr_bytes, m[i].partner_system, 6);
			rte_ether_format_addr(buf, sizeof(buf), &sys);
			json_object_set_new(o, "lacp",
				json_pack("{s:o, s:o, s:s, s:b}", "actor_state",
					lacp_state_json(m[i].actor_state), "partner_state",
					lacp_state_json(m[i].partner_state), "partner_system", buf,
					/* in the bundle: both sides collect and distribute on it */
					"bundled",
					(m[i].actor_state & 0x30) == 0x30 &&
						(m[i].partner_state & 0x30) == 0x30));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *
m_uplink_list(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const allowed[] = {NULL};
	json_t *list;

	if (!params_only(params, allowed, e))
		return NULL;
	list = json_array();
	for (unsigned i = 0; i < d->rt->cfg->n_vswitches; i++) {
		const struct ctl_vswitch *vs = &d->rt->cfg->vswitches[i];

		for (unsigned j = 0; j < vs->n_uplinks; j++) {
			const struct ctl_rt_uplink *u = ctl_rt_uplink(d->rt, vs->uplinks[j].name);
			struct rte_ether_addr mac = {{0}};
			char buf[RTE_ETHER_ADDR_FMT_SIZE];
			const char *link = "failed"; /* could not be reopened after an undo */

			if (u->eth != NULL) {
				dp_ethdev_mac(u->eth, &mac);
				link = u->carrier ? "up" : "down";
			}
			rte_ether_format_addr(buf, sizeof(buf), &mac);
			json_array_append_new(list,
				json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I, s:I, s:o}",
					"name", u->cfg.name, "vswitch", vs->name, "devargs",
					u->cfg.devargs, "link", link, "mac", buf, "port_id",
					u->eth != NULL ? dp_ethdev_port_id(u->eth) : -1,
					"link_source",
					u->iface[0] != '\0' ? "kernel"
						: u->eth != NULL && dp_ethdev_has_lsc(u->eth)
						? "dpdk-interrupt"
						: "dpdk-poll",
					"link_downs", (json_int_t)u->link_downs, "link_ups",
					(json_int_t)u->link_ups, "portgroups",
					uplink_teams_json(d->rt, vs, (uint8_t)j)));
			if (u->eth != NULL && dp_ethdev_is_bond(u->eth))
				json_object_set_new(json_array_get(list, json_array_size(list) - 1),
					"members", bond_members_json(u));
		}
	}
	return list;
}

/* --- port groups --- */

static const char *const pg_ignore[] = {"vswitch", NULL};
static const char *const pg_set_ignore[] = {"vswitch", "name", NULL};

static json_t *
m_portgroup_add(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	char err[CTL_ERR_MAX];
	struct ctl_config *next;
	struct ctl_portgroup pg;
	const char *vsname;
	struct ctl_vswitch *vs;

	if ((vsname = param_str(params, "vswitch", e)) == NULL)
		return NULL;
	memset(&pg, 0, sizeof(pg));
	if (ctl_portgroup_from_json(params, pg_ignore, &pg, err) != 0)
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "%s", err);
	vs = ctl_config_vswitch(d->rt->cfg, vsname);
	if (vs == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no vSwitch \"%s\"", vsname);
	if (ctl_vswitch_portgroup(vs, pg.name) != NULL)
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
			"port group \"%s\" already exists on vSwitch \"%s\"", pg.name, vsname);
	next = working_copy(d, e);
	if (next == NULL)
		return NULL;
	if (ctl_vswitch_add_portgroup(ctl_config_vswitch(next, vsname), &pg) != 0) {
		ctl_config_free(next);
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "too many port groups");
	}
	if (commit(d, next, e) != 0)
		return NULL;
	return ctl_portgroup_to_json(
		ctl_vswitch_portgroup(ctl_config_vswitch(d->rt->cfg, vsname), pg.name));
}

static json_t *
m_portgroup_set(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	char err[CTL_ERR_MAX];
	struct ctl_config *next;
	const char *vsname, *name;
	struct ctl_vswitch *vs;

	if ((vsname = param_str(params, "vswitch", e)) == NULL ||
		(name = param_str(params, "name", e)) == NULL)
		return NULL;
	vs = ctl_config_vswitch(d->rt->cfg, vsname);
	if (vs == NULL || ctl_vswitch_portgroup(vs, name) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no port group \"%s\" on vSwitch \"%s\"",
			name, vsname);
	next = working_copy(d, e);
	if (next == NULL)
		return NULL;
	if (ctl_portgroup_update_json(params, pg_set_ignore,
		    ctl_vswitch_portgroup(ctl_config_vswitch(next, vsname), name), err) != 0) {
		ctl_config_free(next);
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "%s", err);
	}
	if (commit(d, next, e) != 0)
		return NULL;
	return ctl_portgroup_to_json(
		ctl_vswitch_portgroup(ctl_config_vswitch(d->rt->cfg, vsname), name));
}

static json_t *
m_portgroup_del(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const allowed[] = {"vswitch", "name", NULL};
	struct ctl_config *next;
	const char *vsname, *name;
	struct ctl_vswitch *vs;

	if (!params_only(params, allowed, e) ||
		(vsname = param_str(params, "vswitch", e)) == NULL ||
		(name = param_str(params, "name", e)) == NULL)
		return NULL;
	vs = ctl_config_vswitch(d->rt->cfg, vsname);
	if (vs == NULL || ctl_vswitch_portgroup(vs, name) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no port group \"%s\" on vSwitch \"%s\"",
			name, vsname);
	for (unsigned i = 0; i < d->rt->cfg->n_ports; i++) {
		const struct ctl_port *p = &d->rt->cfg->ports[i];

		if (strcmp(p->vswitch, vsname) == 0 && strcmp(p->portgroup, name) == 0)
			return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
				"port group \"%s\" still has port \"%s\"", name, p->name);
	}
	next = working_copy(d, e);
	if (next == NULL)
		return NULL;
	ctl_vswitch_del_portgroup(ctl_config_vswitch(next, vsname), name);
	if (commit(d, next, e) != 0)
		return NULL;
	return json_null();
}

static json_t *
m_portgroup_list(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const allowed[] = {"vswitch", NULL};
	const struct ctl_config *cfg = d->rt->cfg;
	const char *only;
	json_t *list;

	if (!params_only(params, allowed, e))
		return NULL;
	only = param_opt_str(params, "vswitch", e);
	if (e->code != 0)
		return NULL;
	if (only != NULL && ctl_config_vswitch(cfg, only) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no vSwitch \"%s\"", only);
	list = json_array();
	for (unsigned i = 0; i < cfg->n_vswitches; i++) {
		const struct ctl_vswitch *vs = &cfg->vswitches[i];

		if (only != NULL && strcmp(only, vs->name) != 0)
			continue;
		for (unsigned j = 0; j < vs->n_portgroups; j++) {
			const struct ctl_portgroup *pg = &vs->portgroups[j];
			unsigned n = 0;

			for (unsigned k = 0; k < cfg->n_ports; k++)
				n += strcmp(cfg->ports[k].vswitch, vs->name) == 0 &&
					strcmp(cfg->ports[k].portgroup, pg->name) == 0;
			json_array_append_new(list,
				json_pack("{s:s, s:s, s:o, s:i, s:o}", "vswitch", vs->name, "name",
					pg->name, "vlan", ctl_vlan_to_json(&pg->vlan), "ports",
					(int)n, "policy", ctl_policy_to_json(&pg->policy)));
		}
	}
	return list;
}

/* --- ports --- */

static json_t *
m_port_add(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	char err[CTL_ERR_MAX];
	struct ctl_config *next;
	struct ctl_port port;

	memset(&port, 0, sizeof(port));
	if (ctl_port_from_json(params, NULL, &port, err) != 0)
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "%s", err);
	if (ctl_config_port(d->rt->cfg, port.name) != NULL)
		return ctl_rpc_fail(
			e, CTL_RPC_INVALID_PARAMS, "port \"%s\" already exists", port.name);
	next = working_copy(d, e);
	if (next == NULL)
		return NULL;
	if (ctl_config_add_port(next, &port) != 0) {
		ctl_config_free(next);
		return ctl_rpc_fail(
			e, CTL_RPC_INVALID_PARAMS, "too many ports (%d)", CTL_MAX_PORTS);
	}
	if (commit(d, next, e) != 0)
		return NULL;
	return ctl_port_to_json(ctl_config_port(d->rt->cfg, port.name));
}

/* A port's reported state, as port.show and port.set answer it. */
static void
reported_json(json_t *o, const struct ctl_rt_port *rp, const struct ctl_port *c)
{
	char mac[18];

	ctl_mac_format(ctl_rt_port_eff_mac(rp, c), mac);
	json_object_set_new(o, "effective_mac", json_string(mac));
	json_object_set_new(o, "guest_promisc",
		rp->guest_promisc < 0 ? json_null() : json_boolean(rp->guest_promisc));
}

/*
 * port.set. Besides the configuration, it takes the port's reported state,
 * which is not persisted: "effective_mac" (the MAC the guest uses; null:
 * the configured one) and "guest_promisc" (whether the guest asked for
 * promiscuous mode; null: not reported, which counts as asking).
 */
static json_t *
m_port_set(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	static const char *const ignore[] = {"name", "effective_mac", "guest_promisc", NULL};
	struct ctl_daemon *d = ctx;
	char err[CTL_ERR_MAX];
	struct ctl_config *next;
	struct ctl_rt_port *rp, old;
	const json_t *em, *gp;
	const char *name, *key;
	bool config = false;
	json_t *v, *o;
	uint8_t mac[6];

	if ((name = param_str(params, "name", e)) == NULL)
		return NULL;
	rp = ctl_rt_port(d->rt, name);
	if (ctl_config_port(d->rt->cfg, name) == NULL || rp == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no port \"%s\"", name);
	em = json_object_get(params, "effective_mac");
	gp = json_object_get(params, "guest_promisc");
	if (em != NULL && !json_is_null(em) &&
		(!json_is_string(em) || ctl_mac_parse(json_string_value(em), mac) != 0 ||
			(mac[0] & 1)))
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
			"effective_mac must be a unicast MAC like \"52:54:00:00:00:01\", or null");
	if (gp != NULL && !json_is_null(gp) && !json_is_boolean(gp))
		return ctl_rpc_fail(
			e, CTL_RPC_INVALID_PARAMS, "guest_promisc must be true, false or null");
	json_object_foreach (params, key, v)
		config |= strcmp(key, "name") != 0 && strcmp(key, "effective_mac") != 0 &&
			strcmp(key, "guest_promisc") != 0;
	next = NULL;
	if (config) {
		next = working_copy(d, e);
		if (next == NULL)
			return NULL;
		if (ctl_port_update_json(params, ignore, ctl_config_port(next, name), err) != 0) {
			ctl_config_free(next);
			return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "%s", err);
		}
	}
	/* The reported state first, so the one snapshot published has both. */
	old = *rp;
	if (em != NULL) {
		rp->eff_mac_set = !json_is_null(em);
		if (rp->eff_mac_set)
			memcpy(rp->eff_mac, mac, sizeof(mac));
	}
	if (gp != NULL)
		rp->guest_promisc = json_is_null(gp) ? -1 : json_is_true(gp);
	if (config ? commit(d, next, e) != 0 : ctl_rt_republish(d->rt, err) != 0) {
		if (!config)
			ctl_rpc_fail(e, CTL_RPC_FAILED, "%s", err);
		/* The port object is the same one: a failed commit keeps ports. */
		rp = ctl_rt_port(d->rt, name);
		if (rp != NULL) {
			rp->eff_mac_set = old.eff_mac_set;
			memcpy(rp->eff_mac, old.eff_mac, sizeof(old.eff_mac));
			rp->guest_promisc = old.guest_promisc;
		}
		return NULL;
	}
	rp = ctl_rt_port(d->rt, name);
	o = ctl_port_to_json(ctl_config_port(d->rt->cfg, name));
	reported_json(o, rp, ctl_config_port(d->rt->cfg, name));
	return o;
}

/*
 * port.show: the port, its state, its reported state and its effective
 * policy with where each field comes from.
 */
static json_t *
m_port_show(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	const struct ctl_vswitch *vs;
	const struct ctl_portgroup *pg;
	const struct ctl_port *c;
	const struct ctl_rt_port *rp;
	const char *name;
	json_t *o;

	if (!params_only(params, name_key, e) || (name = param_str(params, "name", e)) == NULL)
		return NULL;
	c = ctl_config_port(d->rt->cfg, name);
	rp = ctl_rt_port(d->rt, name);
	if (c == NULL || rp == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no port \"%s\"", name);
	vs = ctl_config_vswitch(d->rt->cfg, c->vswitch);
	pg = ctl_vswitch_portgroup(vs, c->portgroup);
	o = ctl_port_to_json(c);
	json_object_set_new(o, "state",
		json_string(rp->vh == NULL		    ? "failed"
				: vh_port_connected(rp->vh) ? "connected"
							    : "waiting"));
	reported_json(o, rp, c);
	json_object_set_new(o, "vlan", ctl_vlan_to_json(&pg->vlan));
	json_object_set_new(
		o, "effective_policy", effective_json(&vs->policy, &pg->policy, &c->policy));
	return o;
}

/* portgroup.show: the port group and its effective policy (before port overrides). */
static json_t *
m_portgroup_show(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const allowed[] = {"vswitch", "name", NULL};
	const struct ctl_vswitch *vs;
	const struct ctl_portgroup *pg;
	const char *vsname, *name;
	json_t *o;

	if (!params_only(params, allowed, e) ||
		(vsname = param_str(params, "vswitch", e)) == NULL ||
		(name = param_str(params, "name", e)) == NULL)
		return NULL;
	vs = ctl_config_vswitch(d->rt->cfg, vsname);
	pg = vs != NULL ? ctl_vswitch_portgroup(vs, name) : NULL;
	if (pg == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no port group \"%s\" on vSwitch \"%s\"",
			name, vsname);
	o = ctl_portgroup_to_json(pg);
	json_object_set_new(o, "vswitch", json_string(vs->name));
	json_object_set_new(o, "effective_policy", effective_json(&vs->policy, &pg->policy, NULL));
	return o;
}

static json_t *
m_port_del(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	struct ctl_config *next;
	const char *name;

	if (!params_only(params, name_key, e) || (name = param_str(params, "name", e)) == NULL)
		return NULL;
	if (ctl_config_port(d->rt->cfg, name) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no port \"%s\"", name);
	next = working_copy(d, e);
	if (next == NULL)
		return NULL;
	ctl_config_del_port(next, name);
	if (commit(d, next, e) != 0)
		return NULL;
	return json_null();
}

static json_t *
m_port_list(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const allowed[] = {NULL};
	json_t *list;

	if (!params_only(params, allowed, e))
		return NULL;
	list = json_array();
	for (unsigned i = 0; i < d->rt->cfg->n_ports; i++) {
		const struct ctl_port *p = &d->rt->cfg->ports[i];
		const struct ctl_rt_port *rp = ctl_rt_port(d->rt, p->name);
		json_t *o = ctl_port_to_json(p);

		/* "failed": its socket could not be reopened after an undone change. */
		json_object_set_new(o, "state",
			json_string(rp->vh == NULL		    ? "failed"
					: vh_port_connected(rp->vh) ? "connected"
								    : "waiting"));
		json_object_set_new(
			o, "connects", json_integer(rp->vh != NULL ? vh_port_connects(rp->vh) : 0));
		json_array_append_new(list, o);
	}
	return list;
}

/* A VM port's shaping counters by direction, or NULL when it was never shaped. */
static json_t *
shaping_stats_json(const struct ctl_rt_port *rp)
{
	static const char *const dirs[DP_DIR_MAX] = {"ingress", "egress"};
	json_t *o;

	if (rp->shp[DP_DIR_IN][0] == NULL && rp->shp[DP_DIR_OUT][0] == NULL)
		return NULL;
	o = json_object();
	for (unsigned d = 0; d < DP_DIR_MAX; d++) {
		struct shp_stats st;
		uint64_t queued, dropped = 0;

		if (rp->shp[d][0] == NULL)
			continue;
		ctl_rt_shaping_stats(rp, d, &st, &queued);
		for (unsigned r = 0; r < SHP_DROP_MAX; r++)
			dropped += st.drops[r];
		json_object_set_new(o, dirs[d],
			json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "conforming_packets",
				(json_int_t)st.conform_packets, "conforming_bytes",
				(json_int_t)st.conform_bytes, "dropped_packets",
				(json_int_t)dropped, "dropped_bytes", (json_int_t)st.dropped_bytes,
				"queued_packets", (json_int_t)st.queued_packets, "queued_now",
				(json_int_t)queued));
	}
	return o;
}

static json_t *
stats_json(const char *name, const char *kind, uint16_t index, const struct dp_port_stats *base,
	const struct ctl_rt_port *rp)
{
	struct dp_port_stats st;
	json_t *drops = json_object(), *o, *shp;

	ctl_rt_stats(index, base, &st);
	for (unsigned r = 0; r < DP_DROP_MAX; r++)
		json_object_set_new(drops, dp_drop_name(r), json_integer((json_int_t)st.drops[r]));
	/* When the counters were read (monotonic), so rates can be computed from two reads. */
	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "name", name, "kind", kind,
		"time_us", (json_int_t)(rte_get_timer_cycles() / (rte_get_timer_hz() / 1000000)),
		"rx_packets", (json_int_t)st.rx_packets, "rx_bytes", (json_int_t)st.rx_bytes,
		"tx_packets", (json_int_t)st.tx_packets, "tx_bytes", (json_int_t)st.tx_bytes,
		"unlearned", (json_int_t)st.unlearned, "drops", drops);
	json_object_set_new(o, "rates", ctl_rates_json(index)); /* last second (control/rates.h) */
	shp = rp != NULL ? shaping_stats_json(rp) : NULL;
	if (shp != NULL)
		json_object_set_new(o, "shaping", shp);
	return o;
}

static json_t *
m_port_stats(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const allowed[] = {"name", NULL};
	const char *only;
	json_t *list;
	unsigned i;

	if (!params_only(params, allowed, e))
		return NULL;
	only = param_opt_str(params, "name", e);
	if (e->code != 0)
		return NULL;
	if (only != NULL && ctl_rt_port(d->rt, only) == NULL && ctl_rt_uplink(d->rt, only) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no port or uplink \"%s\"", only);
	list = json_array();
	for (i = 0; i < d->rt->cfg->n_ports; i++) {
		const struct ctl_rt_port *p = ctl_rt_port(d->rt, d->rt->cfg->ports[i].name);

		if (only == NULL || strcmp(only, p->cfg.name) == 0)
			json_array_append_new(
				list, stats_json(p->cfg.name, "vm", p->index, &p->base, p));
	}
	for (i = 0; i < d->rt->n_uplinks; i++) {
		const struct ctl_rt_uplink *u = d->rt->uplinks[i];

		if (only == NULL || strcmp(only, u->cfg.name) == 0)
			json_array_append_new(
				list, stats_json(u->cfg.name, "uplink", u->index, &u->base, NULL));
	}
	return list;
}

/* --- port mirroring --- */

static json_t *
m_mirror_add(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	char err[CTL_ERR_MAX];
	struct ctl_config *next;
	struct ctl_mirror m;
	int ret;

	if (ctl_mirror_from_json(params, &m, err) != 0)
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "%s", err);
	next = working_copy(d, e);
	if (next == NULL)
		return NULL;
	ret = ctl_config_add_mirror(next, &m);
	if (ret != 0) {
		ctl_config_free(next);
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
			ret == -EEXIST ? "mirror \"%s\" already exists"
				       : "too many mirroring sessions (%s not added)",
			m.name);
	}
	if (commit(d, next, e) != 0)
		return NULL;
	return ctl_mirror_to_json(ctl_config_mirror(d->rt->cfg, m.name));
}

static json_t *
m_mirror_del(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	struct ctl_config *next;
	const char *name;

	if (!params_only(params, name_key, e) || (name = param_str(params, "name", e)) == NULL)
		return NULL;
	if (ctl_config_mirror(d->rt->cfg, name) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no mirror \"%s\"", name);
	next = working_copy(d, e);
	if (next == NULL)
		return NULL;
	ctl_config_del_mirror(next, name);
	if (commit(d, next, e) != 0)
		return NULL;
	return json_null();
}

static json_t *
m_mirror_list(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const allowed[] = {NULL};
	json_t *list;

	if (!params_only(params, allowed, e))
		return NULL;
	list = json_array();
	for (unsigned i = 0; i < d->rt->cfg->n_mirrors; i++) {
		const struct ctl_mirror *m = &d->rt->cfg->mirrors[i];
		json_t *o = ctl_mirror_to_json(m);
		uint64_t sent = 0, dropped = 0;

		ctl_rt_mirror_stats(d->rt, m->name, &sent, &dropped);
		json_object_set_new(o, "sent", json_integer((json_int_t)sent));
		json_object_set_new(o, "dropped", json_integer((json_int_t)dropped));
		json_array_append_new(list, o);
	}
	return list;
}

/* --- packet trace --- */

/* What each drop reason means, for trace's answer. */
static const char *
drop_explained(enum dp_drop why)
{
	switch (why) {
	case DP_DROP_RUNT:
		return "shorter than an Ethernet header";
	case DP_DROP_OVERSIZE:
		return "longer than the vSwitch's MTU + 18";
	case DP_DROP_VLAN_TAGGED:
		return "a tagged frame from a port group that does not let guests tag (EST/VST)";
	case DP_DROP_VLAN_NOT_ALLOWED:
		return "a VLAN outside the port group's trunk ranges";
	case DP_DROP_VLAN_UNKNOWN:
		return "no port group of the vSwitch carries this VLAN";
	case DP_DROP_REFLECTION:
		return "from an uplink with a local VM's source MAC (our own frame back)";
	case DP_DROP_UNKNOWN_UNICAST:
		return "from an uplink to a MAC no local port has";
	case DP_DROP_SAME_PORT:
		return "to a MAC behind the port it came from";
	case DP_DROP_NO_UPLINK:
		return "for the physical network, but teaming has no healthy uplink";
	case DP_DROP_FORGED_SOURCE:
		return "forged transmits = reject and the source is not the port's effective MAC";
	case DP_DROP_MAC_LIMIT:
		return "MAC learning: a new source beyond the port's limit (limit_policy drop)";
	case DP_DROP_STORM_BROADCAST:
	case DP_DROP_STORM_MULTICAST:
	case DP_DROP_STORM_UNKNOWN_UNICAST:
		return "storm control: over the port's rate for this class";
	case DP_DROP_PVLAN:
		return "private VLAN: the destination's role may not hear the sender's";
	case DP_DROP_TEAM_RX:
		return "from an uplink the destination's port group does not use";
	case DP_DROP_BEACON:
		return "a teaming beacon: consumed by the switch";
	case DP_DROP_MAC_CHANGED:
		return "MAC address changes = reject and the guest changed its MAC";
	case DP_DROP_PEER_DOWN:
		return "the port's peer is not connected";
	default:
		return dp_drop_name(why);
	}
}

/* The name of port index i (a VM port or an uplink). */
static const char *port_name_of(const struct ctl_rt *rt, uint16_t index);

/* One trace step as a line of text. */
static json_t *
step_text(const struct ctl_rt *rt, const struct dp_trace_step *st)
{
	static const char *const sources[] = {
		[DP_TR_SRC_OWN] = "the port's effective MAC",
		[DP_TR_SRC_FORGED_OK] = "not the port's MAC, passed: forged transmits = accept",
		[DP_TR_SRC_LEARNED] = "learned behind the port (MAC learning)",
		[DP_TR_SRC_WOULD_LEARN] = "new: would be learned behind the port (MAC learning)",
		[DP_TR_SRC_UNLEARNED] =
			"beyond the MAC limit: passed unlearned (limit_policy allow)",
	};
	const char *port = port_name_of(rt, st->port);

	switch (st->type) {
	case DP_TR_RX:
		return json_sprintf("received on %s, %d bytes", port, st->arg);
	case DP_TR_VLAN:
		return st->vid ? json_sprintf("VLAN: %u", st->vid)
			       : json_string("VLAN: none (untagged, VLAN 0)");
	case DP_TR_SOURCE:
		return json_sprintf("source: %s",
			st->arg >= 0 && st->arg <= DP_TR_SRC_UNLEARNED ? sources[st->arg] : "?");
	case DP_TR_BEACON:
		return json_string("a teaming beacon (ethertype 0x8922): consumed by the switch");
	case DP_TR_LEARN:
		return json_sprintf("source MAC would be learned on %s, VLAN %u", port, st->vid);
	case DP_TR_FLOOD:
		return json_sprintf("broadcast/multicast: the %d VM port(s) of VLAN %u but the "
				    "sender, and the uplinks teaming picks",
			st->arg, st->vid);
	case DP_TR_STATIC:
		return json_sprintf("destination: local VM port %s", port);
	case DP_TR_OTHER_VLAN:
		return json_sprintf("the destination MAC is %s's, whose port group does not carry "
				    "VLAN %u: not delivered there",
			port, st->vid);
	case DP_TR_LEARNED:
		return json_sprintf("destination learned behind %s", port);
	case DP_TR_UNKNOWN:
		return json_string("destination unknown (unknown unicast)");
	case DP_TR_TAPS:
		return json_sprintf("copies to %d promiscuous or MAC-learning port(s)", st->arg);
	case DP_TR_UPLINKS:
		return json_sprintf(
			"teaming: out of %d uplink(s) of the port group's policy", st->arg);
	case DP_TR_OUT:
		if (st->arg >= 0)
			return json_sprintf("to %s: would be dropped: %s (%s)", port,
				dp_drop_name(st->arg), drop_explained(st->arg));
		return st->vid ? json_sprintf("to %s, tagged %u", port, st->vid)
			       : json_sprintf("to %s, untagged", port);
	case DP_TR_DROP:
		return json_sprintf(
			"dropped: %s (%s)", dp_drop_name(st->arg), drop_explained(st->arg));
	}
	return json_string("?");
}

/*
 * trace {port, src, dst, vlan, ethertype, ipv4: "SRC,DST", len} or
 * {port, hex}: the steps a frame received on port would take through the
 * pipeline as it is now, and where it would end.
 */
static json_t *
m_trace(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	static const char *const allowed[] = {
		"port", "src", "dst", "vlan", "ethertype", "ipv4", "len", "hex", NULL};
	static struct dp_worker *tw; /* control's own worker state, kept */
	struct ctl_daemon *d = ctx;
	const struct ctl_rt_port *rp;
	const struct ctl_rt_uplink *ru;
	const struct dp_snapshot *s = dp_current();
	uint8_t frame[1518] = {0}, mac[6];
	const char *name, *str;
	size_t len = 60, off = 12;
	json_t *steps, *outs, *res, *v;
	struct dp_trace tr;
	struct rte_mbuf *m;
	uint16_t index;

	if (!params_only(params, allowed, e) || (name = param_str(params, "port", e)) == NULL)
		return NULL;
	rp = ctl_rt_port(d->rt, name);
	ru = ctl_rt_uplink(d->rt, name);
	if ((rp == NULL || rp->vh == NULL) && (ru == NULL || ru->eth == NULL))
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no port or uplink \"%s\"", name);
	index = rp != NULL ? rp->index : ru->index;
	if (s->ports[index] == NULL)
		return ctl_rpc_fail(
			e, CTL_RPC_FAILED, "\"%s\" is not in the running snapshot", name);
	if ((str = param_opt_str(params, "hex", e)) != NULL) {
		size_t n = strlen(str);

		if (n % 2 != 0 || n / 2 < 14 || n / 2 > sizeof(frame))
			return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
				"hex must be a frame of 14..1518 bytes in hex digits");
		for (len = 0; len < n / 2; len++) {
			unsigned b;

			if (sscanf(str + 2 * len, "%2x", &b) != 1 ||
				!isxdigit((unsigned char)str[2 * len]) ||
				!isxdigit((unsigned char)str[2 * len + 1]))
				return ctl_rpc_fail(
					e, CTL_RPC_INVALID_PARAMS, "hex: not hex at %zu", len);
			frame[len] = (uint8_t)b;
		}
	} else {
		const char *src = param_str(params, "src", e), *dst;

		if (src == NULL || (dst = param_str(params, "dst", e)) == NULL)
			return NULL;
		if (ctl_mac_parse(dst, frame) != 0 || ctl_mac_parse(src, mac) != 0)
			return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "src and dst are MACs");
		memcpy(frame + 6, mac, 6);
		if ((v = json_object_get(params, "vlan")) != NULL) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
				json_integer_value(v) > 4094)
				return ctl_rpc_fail(
					e, CTL_RPC_INVALID_PARAMS, "vlan must be 0..4094");
			frame[off++] = 0x81, frame[off++] = 0x00;
			frame[off++] = (uint8_t)(json_integer_value(v) >> 8);
			frame[off++] = (uint8_t)json_integer_value(v);
		}
		if ((str = param_opt_str(params, "ipv4", e)) != NULL) {
			unsigned a[8];

			if (sscanf(str, "%u.%u.%u.%u,%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3],
				    &a[4], &a[5], &a[6], &a[7]) != 8)
				return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
					"ipv4 must be \"SRC,DST\" (a.b.c.d,a.b.c.d)");
			frame[off] = 0x08, frame[off + 1] = 0x00;
			frame[off + 2] = 0x45; /* IPv4, 20-byte header, then the addresses */
			frame[off + 11] = 17; /* UDP */
			for (int k = 0; k < 8; k++)
				frame[off + 14 + k] = (uint8_t)a[k];
		} else if ((v = json_object_get(params, "ethertype")) != NULL) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
				json_integer_value(v) > 0xffff)
				return ctl_rpc_fail(
					e, CTL_RPC_INVALID_PARAMS, "ethertype: 0..65535");
			frame[off] = (uint8_t)(json_integer_value(v) >> 8);
			frame[off + 1] = (uint8_t)json_integer_value(v);
		} else {
			frame[off] = 0x88, frame[off + 1] = 0xb5; /* local experimental */
		}
		if ((v = json_object_get(params, "len")) != NULL) {
			if (!json_is_integer(v) || json_integer_value(v) < 14 ||
				json_integer_value(v) > (json_int_t)sizeof(frame))
				return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "len: 14..1518");
			len = (size_t)json_integer_value(v);
		}
	}
	if (e->code != 0)
		return NULL;
	if (tw == NULL && (tw = dp_trace_worker_new()) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_INTERNAL, "out of memory");
	m = rte_pktmbuf_alloc(dp_mempool());
	if (m == NULL || rte_pktmbuf_append(m, (uint16_t)len) == NULL) {
		rte_pktmbuf_free(m);
		return ctl_rpc_fail(e, CTL_RPC_INTERNAL, "no mbuf");
	}
	memcpy(rte_pktmbuf_mtod(m, void *), frame, len);
	dp_trace(s, tw, s->ports[index], m, rte_rdtsc(), &tr);
	steps = json_array();
	outs = json_array();
	res = NULL;
	for (unsigned i = 0; i < tr.n; i++) {
		json_array_append_new(steps, step_text(d->rt, &tr.step[i]));
		if (tr.step[i].type == DP_TR_OUT && tr.step[i].arg < 0)
			json_array_append_new(outs,
				json_pack("{s:s, s:i}", "port",
					port_name_of(d->rt, tr.step[i].port), "vlan",
					tr.step[i].vid));
		if (tr.step[i].type == DP_TR_DROP)
			res = json_sprintf("dropped: %s", dp_drop_name(tr.step[i].arg));
	}
	if (res == NULL)
		res = json_array_size(outs) > 0 ? json_string("delivered")
						: json_string("dropped: nowhere to go");
	return json_pack("{s:o, s:o, s:o}", "steps", steps, "result", res, "outputs", outs);
}

/* --- FDB --- */

static const char *
port_name_of(const struct ctl_rt *rt, uint16_t index)
{
	for (unsigned i = 0; i < rt->n_ports; i++)
		if (rt->ports[i]->index == index)
			return rt->ports[i]->cfg.name;
	for (unsigned i = 0; i < rt->n_uplinks; i++)
		if (rt->uplinks[i]->index == index)
			return rt->uplinks[i]->cfg.name;
	return "?";
}

static json_t *
m_fdb_list(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	static const char *const allowed[] = {"vswitch", NULL};
	const struct ctl_config *cfg = d->rt->cfg;
	uint32_t now = (uint32_t)(ctl_now_sec() - d->rt->start_sec);
	const struct fdb_entry *fe;
	const char *only;
	char mac[18];
	json_t *list;
	unsigned i;

	if (!params_only(params, allowed, e))
		return NULL;
	only = param_opt_str(params, "vswitch", e);
	if (e->code != 0)
		return NULL;
	if (only != NULL && ctl_config_vswitch(cfg, only) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no vSwitch \"%s\"", only);
	list = json_array();
	for (i = 0; i < cfg->n_ports; i++) {
		const struct ctl_port *p = &cfg->ports[i];
		const struct ctl_vswitch *vs = ctl_config_vswitch(cfg, p->vswitch);

		if (only != NULL && strcmp(only, p->vswitch) != 0)
			continue;
		ctl_mac_format(p->mac, mac);
		json_array_append_new(list,
			json_pack("{s:s, s:o, s:s, s:s, s:s, s:n}", "vswitch", p->vswitch, "vlan",
				ctl_vlan_to_json(&ctl_vswitch_portgroup(vs, p->portgroup)->vlan),
				"mac", mac, "port", p->name, "type", "static", "age"));
	}
	for (i = 0; i < DP_MAX_VSWITCHES; i++) {
		const struct ctl_rt_vswitch *v = d->rt->vswitches[i];

		if (v == NULL || (only != NULL && strcmp(only, v->name) != 0))
			continue;
		FDB_FOREACH (v->mirror, fe) {
			struct rte_ether_addr ea;
			uint16_t vid;

			fdb_key_split(fe->key, &vid, &ea);
			ctl_mac_format(ea.addr_bytes, mac);
			json_array_append_new(list,
				json_pack("{s:s, s:i, s:s, s:s, s:s, s:i}", "vswitch", v->name,
					"vlan", vid, "mac", mac, "port",
					port_name_of(d->rt, fe->port), "type", "learned", "age",
					(int)(now - fe->seen)));
		}
	}
	return list;
}

/* --- workers --- */

static json_t *
m_system_stats(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	static const char *const allowed[] = {NULL};
	json_t *workers;

	if (!params_only(params, allowed, e))
		return NULL;
	workers = json_array();
	for (unsigned i = 0; i < dp_n_workers(); i++) {
		struct dp_worker_stats ws;

		dp_worker_stats_get(i, &ws);
		json_array_append_new(workers,
			json_pack("{s:i, s:i, s:I, s:I, s:I, s:I, s:I}", "worker", (int)i, "lcore",
				(int)ws.lcore, "loops", (json_int_t)ws.loops, "busy_loops",
				(json_int_t)ws.busy_loops, "rx_packets", (json_int_t)ws.rx_packets,
				"busy_cycles", (json_int_t)ws.busy_cycles, "idle_cycles",
				(json_int_t)ws.idle_cycles));
	}
	return json_pack("{s:I, s:o, s:I}", "tsc_hz", (json_int_t)rte_get_tsc_hz(), "workers",
		workers, "events_lost", (json_int_t)dp_events_lost());
}

const struct ctl_method ctl_methods[] = {
	{"system.version", m_system_version},
	{"system.stats", m_system_stats},
	{"config.get", m_config_get},
	{"vswitch.add", m_vswitch_add},
	{"vswitch.set", m_vswitch_set},
	{"vswitch.del", m_vswitch_del},
	{"vswitch.list", m_vswitch_list},
	{"uplink.add", m_uplink_add},
	{"uplink.del", m_uplink_del},
	{"uplink.list", m_uplink_list},
	{"portgroup.add", m_portgroup_add},
	{"portgroup.set", m_portgroup_set},
	{"portgroup.del", m_portgroup_del},
	{"portgroup.list", m_portgroup_list},
	{"portgroup.show", m_portgroup_show},
	{"port.add", m_port_add},
	{"port.set", m_port_set},
	{"port.del", m_port_del},
	{"port.list", m_port_list},
	{"port.show", m_port_show},
	{"port.stats", m_port_stats},
	{"fdb.list", m_fdb_list},
	{"trace.run", m_trace},
	{"mirror.add", m_mirror_add},
	{"mirror.del", m_mirror_del},
	{"mirror.list", m_mirror_list},
	{NULL, NULL},
};
