/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port policy: the field table and inheritance (see policy.h).
 */
#include <errno.h>
#include <string.h>

#include "portgroups/policy.h"

_Static_assert(PG_F_MAX <= 32, "struct pg_policy's set mask has 32 bits");

static const struct pg_field_desc fields[PG_F_MAX] = {
#define PG_FIELD_DESC(id, g, n, k, lo, hi, d) \
	[PG_F_##id] = {.group = g, .name = n, .kind = k, .min = lo, .max = hi, .def = d},
	PG_POLICY_FIELDS(PG_FIELD_DESC)
#undef PG_FIELD_DESC
};

const struct pg_field_desc *
pg_field(enum pg_field f)
{
	return f < PG_F_MAX ? &fields[f] : NULL;
}

void
pg_policy_set(struct pg_policy *p, enum pg_field f, int64_t v)
{
	p->set |= UINT32_C(1) << f;
	p->v[f] = v;
}

void
pg_policy_unset(struct pg_policy *p, enum pg_field f)
{
	p->set &= ~(UINT32_C(1) << f);
	p->v[f] = 0;
}

const char *
pg_policy_problem(const struct pg_policy *p)
{
	if (p->set >> PG_F_MAX)
		return "unknown field";
	for (unsigned f = 0; f < PG_F_MAX; f++)
		if (pg_policy_has(p, f) && (p->v[f] < fields[f].min || p->v[f] > fields[f].max))
			return fields[f].name;
	return NULL;
}

void
pg_resolve(const struct pg_policy *vswitch, const struct pg_policy *portgroup,
	const struct pg_policy *port, struct pg_effective *out)
{
	const struct pg_policy *levels[] = {vswitch, portgroup, port};
	static const enum pg_source sources[] = {PG_FROM_VSWITCH, PG_FROM_PORTGROUP, PG_FROM_PORT};

	for (unsigned f = 0; f < PG_F_MAX; f++) {
		out->v[f] = fields[f].def;
		out->from[f] = PG_FROM_DEFAULT;
		for (unsigned l = 0; l < 3; l++) {
			if (levels[l] == NULL || !pg_policy_has(levels[l], f))
				continue;
			out->v[f] = levels[l]->v[f];
			out->from[f] = sources[l];
		}
	}
}

const char *
pg_source_name(enum pg_source s)
{
	static const char *const names[] = {
		[PG_FROM_DEFAULT] = "default",
		[PG_FROM_VSWITCH] = "vswitch",
		[PG_FROM_PORTGROUP] = "portgroup",
		[PG_FROM_PORT] = "port",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* Names of the enumerated kinds, by value. */
static const char *const accept_names[] = {"reject", "accept"};
static const char *const limit_names[] = {"drop", "allow"};
static const char *const shape_names[] = {"police", "shape"};
/* In the order of teaming/'s enum team_lb and enum team_detect. */
static const char *const lb_names[] = {"port_id", "src_mac", "ip_hash", "explicit_failover"};
static const char *const detect_names[] = {"link_status", "beacon_probing"};

/* The names of an enumerated kind and how many; NULL for the others. */
static const char *const *
names_of(enum pg_kind kind, unsigned *n)
{
	switch (kind) {
	case PG_KIND_ACCEPT:
		*n = 2;
		return accept_names;
	case PG_KIND_LIMIT_POLICY:
		*n = 2;
		return limit_names;
	case PG_KIND_SHAPE_MODE:
		*n = 2;
		return shape_names;
	case PG_KIND_LOAD_BALANCING:
		*n = 4;
		return lb_names;
	case PG_KIND_FAILURE_DETECTION:
		*n = 2;
		return detect_names;
	default:
		*n = 0;
		return NULL;
	}
}

const char *
pg_value_name(enum pg_kind kind, int64_t v)
{
	unsigned n;
	const char *const *names = names_of(kind, &n);

	return names != NULL && v >= 0 && v < n ? names[v] : NULL;
}

int
pg_value_parse(enum pg_kind kind, const char *s, int64_t *v)
{
	unsigned n;
	const char *const *names = names_of(kind, &n);

	if (names == NULL || s == NULL)
		return -EINVAL;
	for (int64_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*v = i;
			return 0;
		}
	return -EINVAL;
}
