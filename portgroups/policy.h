/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port policy and its inheritance: vSwitch -> port group -> port.
 *
 * A policy is a set of scalar fields (security, MAC learning, storm
 * control), each either set at a level or unset there. The effective value
 * of a field for a port is the one set at the most specific level, else the
 * built-in default (vsphere-semantics.md, Inheritance). Fields are described
 * once, in PG_POLICY_FIELDS: the config codec, `port.show`, the CLI's help
 * and the resolver below are all driven by that table, so a new field is one
 * line here.
 *
 * Pure C: no DPDK, no JSON. control/ turns JSON into struct pg_policy and
 * compiles the effective values into the dataplane's per-port flags.
 */
#ifndef PORTICO_PORTGROUPS_POLICY_H
#define PORTICO_PORTGROUPS_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* How a field's value is written in JSON and on the CLI. */
enum pg_kind {
	PG_KIND_ACCEPT, /* "reject" (0) or "accept" (1) */
	PG_KIND_BOOL, /* false (0) or true (1) */
	PG_KIND_COUNT, /* an integer in [min, max] */
	PG_KIND_LIMIT_POLICY, /* "drop" (0) or "allow" (1) */
	PG_KIND_SHAPE_MODE, /* "police" (0) or "shape" (1) */
	PG_KIND_LOAD_BALANCING, /* "port_id", "src_mac", "ip_hash", "explicit_failover" */
	PG_KIND_FAILURE_DETECTION, /* "link_status" (0) or "beacon_probing" (1) */
};

/*
 * Teaming's uplink order: the names of the vSwitch's uplinks that are
 * active, then standby, in failover order; the others are unused. Set at
 * the vSwitch or the port group as a whole (not per field, not per port).
 */
#define PG_MAX_UPLINKS 8 /* per vSwitch */
#define PG_NAME_MAX 64 /* an uplink name, with NUL */

struct pg_uplink_order {
	bool set; /* set at this level (else inherited) */
	uint8_t n_active; /* entries in active */
	uint8_t n_standby; /* entries in standby */
	char active[PG_MAX_UPLINKS][PG_NAME_MAX]; /* active uplinks, in order */
	char standby[PG_MAX_UPLINKS][PG_NAME_MAX]; /* standby uplinks, in order */
};

enum pg_limit_policy {
	PG_LIMIT_DROP, /* frames from a new source beyond the limit are dropped */
	PG_LIMIT_ALLOW, /* ...are forwarded without being learned */
};

#define PG_MAC_LIMIT_MAX 4096
#define PG_STORM_PPS_MAX 100000000 /* 100 Mpps: more than any port here forwards */
#define PG_RATE_MIN 1000 /* bits/s: 1 Kbit/s, vSphere's unit */
#define PG_RATE_MAX INT64_C(1000000000000) /* bits/s: 1 Tbit/s */
#define PG_BURST_MAX (INT64_C(200) << 20) /* bytes: 200 MiB */
#define PG_RATE_DEFAULT 100000000 /* 100 Mbit/s, vSphere's default average and peak */
#define PG_BURST_DEFAULT (INT64_C(100) << 20) /* 100 MiB, vSphere's default burst */

/*
 * The fields: X(ID, group, name, kind, min, max, default).
 * Defaults: security reject/reject/reject (vSphere 7+); MAC learning off,
 * and when on: limit 4096, drop beyond it, unknown unicast flooded to the
 * port (vDS 6.7's defaults); storm control off (0 = no limit); shaping
 * off, and when on vSphere's 100 Mbit/s average and peak, 100 MiB burst,
 * policing. Shaping directions are the switch's: ingress = VM -> switch.
 * Teaming (vSwitch and port group only): originating port ID, link status,
 * notify switches and failback on, every uplink active (vSphere's).
 */
#define PG_POLICY_FIELDS(X)                                                                      \
	X(PROMISCUOUS, "security", "promiscuous", PG_KIND_ACCEPT, 0, 1, 0)                       \
	X(MAC_CHANGES, "security", "mac_changes", PG_KIND_ACCEPT, 0, 1, 0)                       \
	X(FORGED_TRANSMITS, "security", "forged_transmits", PG_KIND_ACCEPT, 0, 1, 0)             \
	X(MAC_LEARNING, "mac_learning", "enabled", PG_KIND_BOOL, 0, 1, 0)                        \
	X(MAC_LIMIT, "mac_learning", "limit", PG_KIND_COUNT, 1, PG_MAC_LIMIT_MAX, 4096)          \
	X(MAC_LIMIT_POLICY, "mac_learning", "limit_policy", PG_KIND_LIMIT_POLICY, 0, 1, 0)       \
	X(UNKNOWN_UNICAST_FLOODING, "mac_learning", "unknown_unicast_flooding", PG_KIND_BOOL, 0, \
		1, 1)                                                                            \
	X(STORM_BROADCAST, "storm_control", "broadcast_pps", PG_KIND_COUNT, 0, PG_STORM_PPS_MAX, \
		0)                                                                               \
	X(STORM_MULTICAST, "storm_control", "multicast_pps", PG_KIND_COUNT, 0, PG_STORM_PPS_MAX, \
		0)                                                                               \
	X(STORM_UNKNOWN_UNICAST, "storm_control", "unknown_unicast_pps", PG_KIND_COUNT, 0,       \
		PG_STORM_PPS_MAX, 0)                                                             \
	PG_SHAPING_FIELDS(X, IN, "shaping.ingress")                                              \
	PG_SHAPING_FIELDS(X, OUT, "shaping.egress")                                              \
	X(LOAD_BALANCING, "teaming", "load_balancing", PG_KIND_LOAD_BALANCING, 0, 3, 0)          \
	X(FAILURE_DETECTION, "teaming", "failure_detection", PG_KIND_FAILURE_DETECTION, 0, 1, 0) \
	X(NOTIFY_SWITCHES, "teaming", "notify_switches", PG_KIND_BOOL, 0, 1, 1)                  \
	X(FAILBACK, "teaming", "failback", PG_KIND_BOOL, 0, 1, 1)

/* The shaping fields of one direction (in the nested group "shaping.<dir>"). */
#define PG_SHAPING_FIELDS(X, dir, group)                                                           \
	X(dir##_SHAPING, group, "enabled", PG_KIND_BOOL, 0, 1, 0)                                  \
	X(dir##_AVERAGE, group, "average_bps", PG_KIND_COUNT, PG_RATE_MIN, PG_RATE_MAX,            \
		PG_RATE_DEFAULT)                                                                   \
	X(dir##_PEAK, group, "peak_bps", PG_KIND_COUNT, PG_RATE_MIN, PG_RATE_MAX, PG_RATE_DEFAULT) \
	X(dir##_BURST, group, "burst_bytes", PG_KIND_COUNT, 64, PG_BURST_MAX, PG_BURST_DEFAULT)    \
	X(dir##_MODE, group, "mode", PG_KIND_SHAPE_MODE, 0, 1, 0)

enum pg_field {
#define PG_FIELD_ENUM(id, group, name, kind, min, max, def) PG_F_##id,
	PG_POLICY_FIELDS(PG_FIELD_ENUM)
#undef PG_FIELD_ENUM
	PG_F_MAX
};

/* What the table says about one field. */
struct pg_field_desc {
	const char *group; /* JSON object it sits in under "policy"; "a.b" is b inside a */
	const char *name; /* its key in that object */
	enum pg_kind kind; /* how it is written */
	int64_t min; /* smallest value */
	int64_t max; /* largest value */
	int64_t def; /* built-in default, when no level sets it */
};

/* The description of field f (f < PG_F_MAX). */
const struct pg_field_desc *pg_field(enum pg_field f);

/*
 * The policy set at one level. A field not set there inherits from the
 * level above; all zeroes is a policy that sets nothing.
 */
struct pg_policy {
	uint32_t set; /* bit f: field f is set at this level */
	int64_t v[PG_F_MAX]; /* the value of each field set, in [min, max] */
	struct pg_uplink_order order; /* teaming: vSwitch and port group only */
};

/* Where an effective value came from. */
enum pg_source {
	PG_FROM_DEFAULT, /* no level sets it */
	PG_FROM_VSWITCH,
	PG_FROM_PORTGROUP,
	PG_FROM_PORT,
};

/* The effective policy of a port (or of a port group: port level absent). */
struct pg_effective {
	int64_t v[PG_F_MAX]; /* every field has a value */
	uint8_t from[PG_F_MAX]; /* enum pg_source of each */
};

/* Set field f to v, or make it inherit again. */
void pg_policy_set(struct pg_policy *p, enum pg_field f, int64_t v);
void pg_policy_unset(struct pg_policy *p, enum pg_field f);
/* Is field f set at this level? */
static inline bool
pg_policy_has(const struct pg_policy *p, enum pg_field f)
{
	return (p->set >> f) & 1;
}
/* NULL when every field set is in range, else the name of the first that is not. */
const char *pg_policy_problem(const struct pg_policy *p);

/*
 * Resolve the effective policy from the levels, most general first; any of
 * them may be NULL (absent level).
 */
void pg_resolve(const struct pg_policy *vswitch, const struct pg_policy *portgroup,
	const struct pg_policy *port, struct pg_effective *out);

/* "default", "vswitch", "portgroup", "port". */
const char *pg_source_name(enum pg_source s);

/*
 * Text of an enumerated value ("accept", "drop", ...) for the kinds that
 * have one; NULL for PG_KIND_BOOL and PG_KIND_COUNT.
 */
const char *pg_value_name(enum pg_kind kind, int64_t v);
/*
 * Parse the text of an enumerated value: 0 and *v set, or -EINVAL (also
 * for the kinds without names).
 */
int pg_value_parse(enum pg_kind kind, const char *s, int64_t *v);

#endif /* PORTICO_PORTGROUPS_POLICY_H */
