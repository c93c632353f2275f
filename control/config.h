/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Portico configuration model.
 *
 * The desired state of the switch as plain C structs: what the JSON-RPC
 * methods edit, what the state file holds, and what the dataplane snapshot is
 * compiled from. JSON stays here at the edge: the codec below turns a JSON
 * document into these structs (and back), and every other module sees only
 * the structs.
 *
 * Every function that takes "err" writes a one-line, human-readable reason
 * there on failure (at most CTL_ERR_MAX bytes, NUL-terminated).
 */
#ifndef PORTICO_CONTROL_CONFIG_H
#define PORTICO_CONTROL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "portgroups/policy.h"

#define CTL_ERR_MAX 256
#define CTL_NAME_MAX 64 /* names of vSwitches, uplinks, port groups, ports, with NUL */
#define CTL_DEVARGS_MAX 256 /* DPDK devargs string, with NUL */
#define CTL_MAX_MEMBERS 8 /* members of a net_bonding uplink */
#define CTL_PATH_MAX 108 /* a unix socket path (sizeof sun_path), with NUL */
#define CTL_MAX_VSWITCHES 16
#define CTL_MAX_UPLINKS 8 /* per vSwitch; DPDK here has 32 ethdevs in all */
#define CTL_MAX_PORTGROUPS 512 /* per vSwitch, as vSphere */
#define CTL_MAX_PORTS 1024 /* rte_vhost's limit per process */
#define CTL_MAX_VLAN_RANGES 64 /* trunk ranges per port group */
#define CTL_MAX_QUEUES 8 /* queue pairs per vhost-user port */
#define CTL_MAX_PVLANS 32 /* private VLAN primaries per vSwitch */
#define CTL_MAX_PVLAN_SECONDARIES 32 /* secondaries per primary */
#define CTL_MTU_MIN 68
#define CTL_MTU_MAX 9000
#define CTL_MTU_DEFAULT 1500

/* How a port group treats 802.1Q tags (vsphere-semantics.md, VLAN). */
enum ctl_vlan_mode {
	CTL_VLAN_NONE, /* 0: EST, untagged everywhere */
	CTL_VLAN_VST, /* 1-4094: the switch tags toward uplinks, strips toward VMs */
	CTL_VLAN_VGT, /* 4095: guest tags, every VLAN passes unchanged */
	CTL_VLAN_TRUNK, /* like VGT, only the listed VLAN IDs (0 = untagged) */
	CTL_VLAN_PVLAN, /* {"pvlan": N}: a private VLAN of the vSwitch's map, untagged at the VM */
};

/* The role of a VLAN ID in a private VLAN. */
enum ctl_pvlan_type {
	CTL_PVLAN_PROMISCUOUS, /* the primary: reaches every port of the private VLAN */
	CTL_PVLAN_ISOLATED, /* reaches promiscuous ports only */
	CTL_PVLAN_COMMUNITY, /* reaches promiscuous ports and its own community */
};

/* A secondary VLAN of a private VLAN. */
struct ctl_pvlan_secondary {
	uint16_t vid; /* 1..4094, unique in the vSwitch's map */
	enum ctl_pvlan_type type; /* isolated or community */
};

/* A private VLAN: a primary and its secondaries (vDS's PVLAN map entry). */
struct ctl_pvlan {
	uint16_t primary; /* 1..4094: promiscuous ports and the uplink's view of it */
	uint16_t n_secondaries; /* entries used in secondaries */
	struct ctl_pvlan_secondary secondaries[CTL_MAX_PVLAN_SECONDARIES];
};

/* An inclusive range of VLAN IDs, 0 <= first <= last <= 4094. */
struct ctl_vlan_range {
	uint16_t first; /* first VLAN ID of the range */
	uint16_t last; /* last VLAN ID of the range, included */
};

/* A port group's VLAN setting. */
struct ctl_vlan {
	enum ctl_vlan_mode mode; /* which of the four settings */
	uint16_t vid; /* VST: the VLAN ID (1-4094); PVLAN: a primary or secondary; 0 otherwise */
	uint16_t n_ranges; /* TRUNK: number of ranges used */
	struct ctl_vlan_range ranges[CTL_MAX_VLAN_RANGES]; /* TRUNK: the ranges, as given */
};

/* A physical (or virtual) NIC of a vSwitch, opened as a DPDK ethdev. */
struct ctl_uplink {
	char name[CTL_NAME_MAX]; /* unique among all uplinks of all vSwitches */
	char devargs[CTL_DEVARGS_MAX]; /* e.g. "net_af_packet0,iface=veth0" */
	/*
	 * A net_bonding uplink's members, opened before the bond (22.11's
	 * bonding PMD takes only probed devices): e.g. devargs
	 * "net_bonding0,mode=4" (LACP) with members "net_af_packet0,iface=eth1"
	 * and "net_af_packet1,iface=eth2". Only for net_bonding, which needs one.
	 */
	unsigned n_members;
	char members[CTL_MAX_MEMBERS][CTL_DEVARGS_MAX];
};

/* A port group: a name VM ports attach to, carrying VLAN and policy. */
struct ctl_portgroup {
	char name[CTL_NAME_MAX]; /* unique within its vSwitch */
	struct ctl_vlan vlan; /* VLAN setting */
	struct pg_policy policy; /* overrides of the vSwitch's policy */
};

struct ctl_vswitch {
	char name[CTL_NAME_MAX]; /* unique on the host */
	uint32_t mtu; /* CTL_MTU_MIN..CTL_MTU_MAX; frames > mtu + 18 are dropped */
	unsigned n_uplinks; /* entries used in uplinks */
	struct ctl_uplink *uplinks; /* in order: the first healthy one carries floods */
	unsigned n_portgroups; /* entries used in portgroups */
	struct ctl_portgroup *portgroups;
	struct pg_policy policy; /* the vSwitch's policy; unset fields take the defaults */
	unsigned n_pvlans; /* entries used in pvlans */
	struct ctl_pvlan pvlans[CTL_MAX_PVLANS]; /* the private VLAN map */
};

enum ctl_port_type {
	CTL_PORT_VHOST_USER, /* "vhost-user": a VM's vNIC over a vhost-user socket */
};

/* porticod's own role on a vhost-user socket. */
enum ctl_port_mode {
	CTL_PORT_CLIENT, /* "client" (default): QEMU serves the socket, porticod reconnects */
	CTL_PORT_SERVER, /* "server": porticod creates the socket */
};

/* A VM's vNIC. */
struct ctl_port {
	char name[CTL_NAME_MAX]; /* unique on the host, e.g. "vm1.eth0" */
	char vswitch[CTL_NAME_MAX]; /* the vSwitch it is on */
	char portgroup[CTL_NAME_MAX]; /* a port group of that vSwitch */
	enum ctl_port_type type; /* only vhost-user today */
	char socket[CTL_PATH_MAX]; /* absolute path of the vhost-user socket */
	enum ctl_port_mode mode; /* client (default) or server */
	uint8_t mac[6]; /* configured MAC: unicast, unique within the vSwitch */
	uint16_t queues; /* queue pairs, 1..CTL_MAX_QUEUES, default 1 */
	struct pg_policy policy; /* overrides of its port group's policy */
};

#define CTL_MAX_MIRRORS 16 /* mirroring sessions on the host */
#define CTL_MAX_MIRROR_SOURCES 16 /* source ports per session */

/* Directions, from the switch's point of view (a bitmap). */
enum ctl_dir {
	CTL_DIR_IN = 1, /* "in": what the port sends into the switch */
	CTL_DIR_OUT = 2, /* "out": what the switch delivers to the port */
	CTL_DIR_BOTH = 3, /* "both" */
};

/* A mirrored port. */
struct ctl_mirror_source {
	char port[CTL_NAME_MAX]; /* a VM port or an uplink of the session's vSwitch */
	uint8_t dir; /* enum ctl_dir */
};

/*
 * A port mirroring session (vDS-style): copies of what the sources send
 * and/or receive go to a VM port (e.g. an IDS VM), or out of an uplink
 * tagged with an encapsulation VLAN (RSPAN).
 */
struct ctl_mirror {
	char name[CTL_NAME_MAX]; /* unique on the host */
	uint8_t n_sources; /* entries used in sources */
	struct ctl_mirror_source sources[CTL_MAX_MIRROR_SOURCES];
	char dst_port[CTL_NAME_MAX]; /* destination VM port, or "" */
	char dst_uplink[CTL_NAME_MAX]; /* destination uplink (RSPAN), or "" */
	uint16_t dst_vlan; /* RSPAN: the VLAN copies carry out of dst_uplink, 1..4094 */
};

/* The whole desired state. */
struct ctl_config {
	unsigned n_vswitches;
	struct ctl_vswitch *vswitches;
	unsigned n_ports;
	struct ctl_port *ports;
	unsigned n_mirrors; /* entries used in mirrors */
	struct ctl_mirror mirrors[CTL_MAX_MIRRORS];
};

/* Lifecycle. new() returns an empty config (NULL and errno on failure). */
struct ctl_config *ctl_config_new(void);
struct ctl_config *ctl_config_clone(const struct ctl_config *cfg);
void ctl_config_free(struct ctl_config *cfg); /* NULL is a no-op */

/* Lookups: NULL when absent. */
struct ctl_vswitch *ctl_config_vswitch(const struct ctl_config *cfg, const char *name);
struct ctl_portgroup *ctl_vswitch_portgroup(const struct ctl_vswitch *vs, const char *name);
/* An uplink by name across all vSwitches; *vs_out (if not NULL) gets its vSwitch. */
struct ctl_uplink *ctl_config_uplink(
	const struct ctl_config *cfg, const char *name, struct ctl_vswitch **vs_out);
struct ctl_port *ctl_config_port(const struct ctl_config *cfg, const char *name);

/*
 * Append objects (copied). They return 0 or -ENOMEM / -ENOSPC (a limit
 * reached). They do not validate: call ctl_config_validate() on the result.
 */
int ctl_config_add_vswitch(struct ctl_config *cfg, const struct ctl_vswitch *vs);
int ctl_vswitch_add_uplink(struct ctl_vswitch *vs, const struct ctl_uplink *up);
int ctl_vswitch_add_portgroup(struct ctl_vswitch *vs, const struct ctl_portgroup *pg);
int ctl_config_add_port(struct ctl_config *cfg, const struct ctl_port *port);
/* Remove by name: 0 or -ENOENT. Removing a vSwitch frees its uplinks and port groups. */
int ctl_config_del_vswitch(struct ctl_config *cfg, const char *name);
int ctl_vswitch_del_uplink(struct ctl_vswitch *vs, const char *name);
int ctl_vswitch_del_portgroup(struct ctl_vswitch *vs, const char *name);
int ctl_config_del_port(struct ctl_config *cfg, const char *name);

/*
 * Check the whole config for consistency: names valid (1..63 printable
 * characters, no '/'), unique where required, MTU in range, VLAN settings
 * valid, every port's vSwitch and port group exist, MACs unicast and unique
 * within a vSwitch, socket paths absolute and unique, uplink names and DPDK
 * device names (the devargs part before the first ',') unique on the host.
 * Returns 0 or -EINVAL with the first problem found in err.
 */
int ctl_config_validate(const struct ctl_config *cfg, char *err);

/*
 * JSON codec, with the state file's field names:
 * {"vswitches": [{"name", "mtu", "policy", "pvlans": [{"primary", "secondaries":
 *                    [{"vid", "type"}]}], "uplinks": [{"name", "devargs"}],
 *                 "portgroups": [{"name", "vlan", "policy"}]}],
 *  "ports": [{"name", "vswitch", "portgroup", "type", "socket", "mode", "mac", "queues",
 *             "policy"}]}
 * "vlan" is a number 0..4095, a list of [first, last] pairs, or {"pvlan": N}.
 * "policy" is {"<group>": {"<field>": value}} with the groups and fields of
 * PG_POLICY_FIELDS; only the fields set at that level are written, and null
 * (in *.set) unsets a field, so it inherits again.
 * Optional fields: mtu (1500), uplinks, portgroups ([]), type ("vhost-user"),
 * mode ("client"), queues (1). Unknown fields are an error (a typo must not
 * silently become a default).
 *
 * from_json() parses and validates: 0 and *out set, or -EINVAL and err.
 * to_json() returns a new reference (NULL on allocation failure).
 */
int ctl_config_from_json(const json_t *doc, struct ctl_config **out, char *err);
json_t *ctl_config_to_json(const struct ctl_config *cfg);

/*
 * Per-object codecs, used by the JSON-RPC methods. from_json() fills *out
 * from an object (defaults for what is absent) and checks field types and
 * ranges of that object alone; "ignore" names keys to skip (e.g. the
 * "vswitch" key of uplink.add params), NULL-terminated, may be NULL.
 * update_json() changes only the fields present in obj (for *.set).
 */
int ctl_vlan_from_json(const json_t *v, struct ctl_vlan *out, char *err);
json_t *ctl_vlan_to_json(const struct ctl_vlan *vlan);
int ctl_vswitch_from_json(
	const json_t *obj, const char *const *ignore, struct ctl_vswitch *out, char *err);
int ctl_vswitch_update_json(
	const json_t *obj, const char *const *ignore, struct ctl_vswitch *vs, char *err);
json_t *ctl_vswitch_to_json(const struct ctl_vswitch *vs);
int ctl_uplink_from_json(
	const json_t *obj, const char *const *ignore, struct ctl_uplink *out, char *err);
json_t *ctl_uplink_to_json(const struct ctl_uplink *up);
/* Whether devargs name a net_bonding device (an uplink that takes members). */
bool ctl_devargs_is_bond(const char *devargs);
int ctl_portgroup_from_json(
	const json_t *obj, const char *const *ignore, struct ctl_portgroup *out, char *err);
int ctl_portgroup_update_json(
	const json_t *obj, const char *const *ignore, struct ctl_portgroup *pg, char *err);
json_t *ctl_portgroup_to_json(const struct ctl_portgroup *pg);
int ctl_port_from_json(
	const json_t *obj, const char *const *ignore, struct ctl_port *out, char *err);
int ctl_port_update_json(
	const json_t *obj, const char *const *ignore, struct ctl_port *port, char *err);
json_t *ctl_port_to_json(const struct ctl_port *port);

/*
 * Policy codec. update_json() applies obj (a "policy" value) to p: fields
 * given are set, null fields (or groups, or obj itself) are unset again.
 * to_json() writes the fields set (an empty object when none).
 * value_to_json() writes one value as the field's kind wants it.
 */
int ctl_policy_update_json(const json_t *obj, struct pg_policy *p, char *err);
json_t *ctl_policy_to_json(const struct pg_policy *p);
json_t *ctl_policy_value_to_json(enum pg_field f, int64_t v);
/*
 * The object of group (e.g. "shaping.ingress") under root, created (with
 * its parents) when missing; NULL on allocation failure.
 */
json_t *ctl_policy_group_obj(json_t *root, const char *group);
/* A JSON array of n uplink names (a teaming order list); NULL on allocation failure. */
json_t *ctl_uplink_order_to_json(const char (*names)[PG_NAME_MAX], unsigned n);
/* The private VLAN map entry vid belongs to (NULL if none); *type gets vid's role. */
const struct ctl_pvlan *ctl_vswitch_pvlan(
	const struct ctl_vswitch *vs, uint16_t vid, enum ctl_pvlan_type *type);

/*
 * Mirroring sessions: {"name", "sources": [{"port", "direction": in|out|both}],
 * "destination": {"port": NAME} | {"uplink": NAME, "vlan": 1..4094}}, the
 * state file's "mirrors" list. add: 0, -EEXIST or -ENOSPC; del: 0 or -ENOENT.
 */
int ctl_mirror_from_json(const json_t *obj, struct ctl_mirror *out, char *err);
json_t *ctl_mirror_to_json(const struct ctl_mirror *m);
struct ctl_mirror *ctl_config_mirror(const struct ctl_config *cfg, const char *name);
int ctl_config_add_mirror(struct ctl_config *cfg, const struct ctl_mirror *m);
int ctl_config_del_mirror(struct ctl_config *cfg, const char *name);
/* "in", "out", "both" <-> enum ctl_dir; parse returns 0 or -EINVAL. */
const char *ctl_dir_name(uint8_t dir);
int ctl_dir_parse(const char *s, uint8_t *dir);

/* MAC text "52:54:00:00:00:01" <-> bytes. parse returns 0 or -EINVAL. */
int ctl_mac_parse(const char *s, uint8_t mac[6]);
void ctl_mac_format(const uint8_t mac[6], char buf[18]);

/* Does the port group carry VLAN vid (0 = untagged)? */
bool ctl_vlan_carries(const struct ctl_vlan *vlan, uint16_t vid);

/*
 * State file. load(): 0 and *out, -ENOENT when the file does not exist, or
 * -EINVAL/-EIO with err (corrupt JSON, invalid config). save(): writes a temp
 * file next to path, fsyncs it, renames it over path, fsyncs the directory;
 * 0 or -errno with err. Nothing is changed on failure.
 */
int ctl_config_load(const char *path, struct ctl_config **out, char *err);
int ctl_config_save(const struct ctl_config *cfg, const char *path, char *err);

#endif /* PORTICO_CONTROL_CONFIG_H */
