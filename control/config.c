/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Portico configuration model: lifecycle, lookups, editing, validation, the
 * JSON codec and the state file (see config.h).
 *
 * This is the only place that knows the JSON shape of the desired state. It
 * uses jansson and libc only (no DPDK), so porticod, the CLI and the unit
 * tests all link it without EAL. Nothing here is thread-safe: the control
 * thread owns a config; the dataplane only sees snapshots compiled from it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* GNU strerror_r */
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "control/config.h"

#define VLAN_ID_MAX 4094 /* highest VLAN ID a frame can carry */
#define VLAN_VGT 4095 /* the JSON value meaning "guest tagging" */
#define STATE_FILE_MAX (16u << 20) /* ctl_config_load() refuses bigger files */
#define ESC_MAX 80 /* escaped user text in an error message */
#define VLAN_ERR "must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"

/* Which characters a name may hold. */
enum name_kind {
	NAME_PLAIN, /* vSwitch, uplink, port: no spaces at all */
	NAME_SPACES /* port group: inner spaces allowed ("VM Network") */
};

static void set_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_err(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err, CTL_ERR_MAX, fmt, ap);
	va_end(ap);
}

/* Prefix err (which holds a message) with "prefix: ". */
static void
prefix_err(char *err, const char *kind, const char *name)
{
	char tmp[CTL_ERR_MAX];

	if (err == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s", err);
	set_err(err, "%s \"%s\": %s", kind, name, tmp);
}

/*
 * Make user text safe to quote in a one-line message: '"', '\' and
 * non-printable bytes are escaped, long text is cut with "...".
 */
static const char *
esc(char buf[ESC_MAX], const char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 8 >= ESC_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\')
			o += snprintf(buf + o, ESC_MAX - o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			o += snprintf(buf + o, ESC_MAX - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

static const char *
errstr(int errnum, char *buf, size_t size)
{
	return strerror_r(errnum, buf, size);
}

/* NULL when s[0..len) is a valid name, else why not. */
static const char *
name_problem(const char *s, size_t len, enum name_kind kind)
{
	size_t i;

	if (len == 0 || len >= CTL_NAME_MAX)
		return "a name must be 1..63 characters";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '/')
			return "a name must be printable ASCII without '/'";
		if (c == ' ' && kind == NAME_PLAIN)
			return "a name must not contain spaces";
	}
	if (s[0] == ' ' || s[len - 1] == ' ')
		return "a name must not start or end with a space";
	return NULL;
}

/* Length of a char[size] field, or size when it has no NUL (corrupt). */
static size_t
field_len(const char *s, size_t size)
{
	return strnlen(s, size);
}

/* Check a name held in a struct; writes "<kind> "name": problem" on failure. */
static int
check_name(const char *name, const char *what, enum name_kind kind, char *err)
{
	char buf[ESC_MAX];
	size_t len = field_len(name, CTL_NAME_MAX);
	const char *why;

	why = len == CTL_NAME_MAX ? "a name must be 1..63 characters"
				  : name_problem(name, len, kind);
	if (why == NULL)
		return 0;
	set_err(err, "%s \"%s\": invalid name: %s", what, esc(buf, name, len), why);
	return -EINVAL;
}

/* Length of the DPDK device name in devargs (the part before the first ','). */
static size_t
devname_len(const char *devargs)
{
	return strcspn(devargs, ",");
}

/* NULL when s[0..len) is usable devargs, else why not. */
static const char *
devargs_problem(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= CTL_DEVARGS_MAX)
		return "must be 1..255 characters";
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return "must be printable ASCII without spaces";
	if (devname_len(s) == 0)
		return "must start with a device name";
	return NULL;
}

/* NULL when s[0..len) is usable as a vhost-user socket path, else why not. */
static const char *
socket_problem(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] != '/')
		return "must be an absolute path";
	if (len >= CTL_PATH_MAX)
		return "must be shorter than 108 bytes";
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return "must not contain control characters";
	return NULL;
}

/* NULL when mac can be a vNIC's configured MAC, else why not. */
static const char *
mac_problem(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	if (mac[0] & 1)
		return "is a multicast MAC";
	if (memcmp(mac, zero, sizeof(zero)) == 0)
		return "is the all-zero MAC";
	return NULL;
}

static const char *
vlan_problem(const struct ctl_vlan *vlan)
{
	unsigned i;

	switch (vlan->mode) {
	case CTL_VLAN_NONE:
	case CTL_VLAN_VGT:
		return NULL;
	case CTL_VLAN_VST:
		if (vlan->vid < 1 || vlan->vid > VLAN_ID_MAX)
			return "VST VLAN ID must be 1..4094";
		return NULL;
	case CTL_VLAN_PVLAN:
		if (vlan->vid < 1 || vlan->vid > VLAN_ID_MAX)
			return "private VLAN ID must be 1..4094";
		return NULL;
	case CTL_VLAN_TRUNK:
		if (vlan->n_ranges < 1 || vlan->n_ranges > CTL_MAX_VLAN_RANGES)
			return "a trunk must have 1..64 ranges";
		for (i = 0; i < vlan->n_ranges; i++) {
			if (vlan->ranges[i].last > VLAN_ID_MAX)
				return "trunk VLAN IDs must be 0..4094";
			if (vlan->ranges[i].first > vlan->ranges[i].last)
				return "a trunk range must have first <= last";
		}
		return NULL;
	}
	return "unknown VLAN mode";
}

/*
 * MAC addresses.
 */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ctl_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t tmp[6];
	int i, hi, lo;

	if (s == NULL || mac == NULL || strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		hi = hexval(s[3 * i]);
		lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, tmp, sizeof(tmp));
	return 0;
}

void
ctl_mac_format(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		mac[5]);
}

bool
ctl_vlan_carries(const struct ctl_vlan *vlan, uint16_t vid)
{
	unsigned i;

	if (vlan == NULL || vid > VLAN_ID_MAX)
		return false;
	switch (vlan->mode) {
	case CTL_VLAN_NONE:
		return vid == 0;
	case CTL_VLAN_VST:
	case CTL_VLAN_PVLAN: /* the VLAN it sends on; what it receives is the map's business */
		return vid == vlan->vid;
	case CTL_VLAN_VGT:
		return true;
	case CTL_VLAN_TRUNK:
		for (i = 0; i < vlan->n_ranges && i < CTL_MAX_VLAN_RANGES; i++)
			if (vid >= vlan->ranges[i].first && vid <= vlan->ranges[i].last)
				return true;
		return false;
	}
	return false;
}

/*
 * Lifecycle.
 */

static void
vswitch_release(struct ctl_vswitch *vs)
{
	free(vs->uplinks);
	free(vs->portgroups);
	vs->uplinks = NULL;
	vs->portgroups = NULL;
	vs->n_uplinks = 0;
	vs->n_portgroups = 0;
}

/* Copy n elements of size into a new array; NULL for none (not an error). */
static int
dup_array(void **dst, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (n == 0)
		return 0;
	*dst = malloc(n * size);
	if (*dst == NULL)
		return -ENOMEM;
	memcpy(*dst, src, n * size);
	return 0;
}

/* Deep copy of src into dst (whose arrays are not owned yet). */
static int
vswitch_copy(struct ctl_vswitch *dst, const struct ctl_vswitch *src)
{
	void *up, *pg;

	if (dup_array(&up, src->uplinks, src->n_uplinks, sizeof(*src->uplinks)) < 0)
		goto fail;
	if (dup_array(&pg, src->portgroups, src->n_portgroups, sizeof(*src->portgroups)) < 0)
		goto free_up;
	*dst = *src;
	dst->uplinks = up;
	dst->portgroups = pg;
	return 0;

free_up:
	free(up);
fail:
	return -ENOMEM;
}

struct ctl_config *
ctl_config_new(void)
{
	struct ctl_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		errno = ENOMEM;
	return cfg;
}

void
ctl_config_free(struct ctl_config *cfg)
{
	unsigned i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_vswitches; i++)
		vswitch_release(&cfg->vswitches[i]);
	free(cfg->vswitches);
	free(cfg->ports);
	free(cfg);
}

struct ctl_config *
ctl_config_clone(const struct ctl_config *cfg)
{
	struct ctl_config *c;
	void *ports;
	unsigned i;

	if (cfg == NULL) {
		errno = EINVAL;
		return NULL;
	}
	c = ctl_config_new();
	if (c == NULL)
		goto fail;
	if (cfg->n_vswitches > 0) {
		c->vswitches = calloc(cfg->n_vswitches, sizeof(*c->vswitches));
		if (c->vswitches == NULL)
			goto free_cfg;
	}
	for (i = 0; i < cfg->n_vswitches; i++) {
		if (vswitch_copy(&c->vswitches[i], &cfg->vswitches[i]) < 0)
			goto free_cfg;
		c->n_vswitches++;
	}
	if (dup_array(&ports, cfg->ports, cfg->n_ports, sizeof(*cfg->ports)) < 0)
		goto free_cfg;
	c->ports = ports;
	c->n_ports = cfg->n_ports;
	c->n_mirrors = cfg->n_mirrors;
	memcpy(c->mirrors, cfg->mirrors, sizeof(c->mirrors));
	return c;

free_cfg:
	ctl_config_free(c);
fail:
	errno = ENOMEM;
	return NULL;
}

/*
 * Lookups.
 */

struct ctl_vswitch *
ctl_config_vswitch(const struct ctl_config *cfg, const char *name)
{
	unsigned i;

	if (cfg == NULL || name == NULL)
		return NULL;
	for (i = 0; i < cfg->n_vswitches; i++)
		if (strncmp(cfg->vswitches[i].name, name, CTL_NAME_MAX) == 0)
			return &cfg->vswitches[i];
	return NULL;
}

struct ctl_portgroup *
ctl_vswitch_portgroup(const struct ctl_vswitch *vs, const char *name)
{
	unsigned i;

	if (vs == NULL || name == NULL)
		return NULL;
	for (i = 0; i < vs->n_portgroups; i++)
		if (strncmp(vs->portgroups[i].name, name, CTL_NAME_MAX) == 0)
			return &vs->portgroups[i];
	return NULL;
}

static struct ctl_uplink *
vswitch_uplink(const struct ctl_vswitch *vs, const char *name)
{
	unsigned i;

	for (i = 0; i < vs->n_uplinks; i++)
		if (strncmp(vs->uplinks[i].name, name, CTL_NAME_MAX) == 0)
			return &vs->uplinks[i];
	return NULL;
}

struct ctl_uplink *
ctl_config_uplink(const struct ctl_config *cfg, const char *name, struct ctl_vswitch **vs_out)
{
	struct ctl_uplink *up;
	unsigned i;

	if (cfg == NULL || name == NULL)
		return NULL;
	for (i = 0; i < cfg->n_vswitches; i++) {
		up = vswitch_uplink(&cfg->vswitches[i], name);
		if (up != NULL) {
			if (vs_out != NULL)
				*vs_out = &cfg->vswitches[i];
			return up;
		}
	}
	return NULL;
}

struct ctl_port *
ctl_config_port(const struct ctl_config *cfg, const char *name)
{
	unsigned i;

	if (cfg == NULL || name == NULL)
		return NULL;
	for (i = 0; i < cfg->n_ports; i++)
		if (strncmp(cfg->ports[i].name, name, CTL_NAME_MAX) == 0)
			return &cfg->ports[i];
	return NULL;
}

/*
 * Editing. Arrays are sized exactly and grown by one with realloc(), so a
 * struct filled elsewhere with a malloc()ed array of n entries works too.
 */

/* Make room for one more element at the end of *arr (of n elements). */
static int
grow(void **arr, unsigned n, size_t size)
{
	void *p = realloc(*arr, ((size_t)n + 1) * size);

	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	return 0;
}

/* Remove element i of arr (of *n elements), keeping the order. */
static void
remove_at(void *arr, unsigned *n, unsigned i, size_t size)
{
	char *base = arr;

	memmove(base + (size_t)i * size, base + ((size_t)i + 1) * size,
		((size_t)*n - i - 1) * size);
	(*n)--;
}

int
ctl_config_add_vswitch(struct ctl_config *cfg, const struct ctl_vswitch *vs)
{
	void *arr;

	if (cfg == NULL || vs == NULL)
		return -EINVAL;
	if (cfg->n_vswitches >= CTL_MAX_VSWITCHES || vs->n_uplinks > CTL_MAX_UPLINKS ||
		vs->n_portgroups > CTL_MAX_PORTGROUPS)
		return -ENOSPC;
	arr = cfg->vswitches;
	if (grow(&arr, cfg->n_vswitches, sizeof(*cfg->vswitches)) < 0)
		return -ENOMEM;
	cfg->vswitches = arr;
	if (vswitch_copy(&cfg->vswitches[cfg->n_vswitches], vs) < 0)
		return -ENOMEM;
	cfg->n_vswitches++;
	return 0;
}

int
ctl_vswitch_add_uplink(struct ctl_vswitch *vs, const struct ctl_uplink *up)
{
	void *arr;

	if (vs == NULL || up == NULL)
		return -EINVAL;
	if (vs->n_uplinks >= CTL_MAX_UPLINKS)
		return -ENOSPC;
	arr = vs->uplinks;
	if (grow(&arr, vs->n_uplinks, sizeof(*vs->uplinks)) < 0)
		return -ENOMEM;
	vs->uplinks = arr;
	vs->uplinks[vs->n_uplinks++] = *up;
	return 0;
}

int
ctl_vswitch_add_portgroup(struct ctl_vswitch *vs, const struct ctl_portgroup *pg)
{
	void *arr;

	if (vs == NULL || pg == NULL)
		return -EINVAL;
	if (vs->n_portgroups >= CTL_MAX_PORTGROUPS)
		return -ENOSPC;
	arr = vs->portgroups;
	if (grow(&arr, vs->n_portgroups, sizeof(*vs->portgroups)) < 0)
		return -ENOMEM;
	vs->portgroups = arr;
	vs->portgroups[vs->n_portgroups++] = *pg;
	return 0;
}

int
ctl_config_add_port(struct ctl_config *cfg, const struct ctl_port *port)
{
	void *arr;

	if (cfg == NULL || port == NULL)
		return -EINVAL;
	if (cfg->n_ports >= CTL_MAX_PORTS)
		return -ENOSPC;
	arr = cfg->ports;
	if (grow(&arr, cfg->n_ports, sizeof(*cfg->ports)) < 0)
		return -ENOMEM;
	cfg->ports = arr;
	cfg->ports[cfg->n_ports++] = *port;
	return 0;
}

int
ctl_config_del_vswitch(struct ctl_config *cfg, const char *name)
{
	struct ctl_vswitch *vs = ctl_config_vswitch(cfg, name);

	if (vs == NULL)
		return -ENOENT;
	vswitch_release(vs);
	remove_at(cfg->vswitches, &cfg->n_vswitches, (unsigned)(vs - cfg->vswitches), sizeof(*vs));
	return 0;
}

int
ctl_vswitch_del_uplink(struct ctl_vswitch *vs, const char *name)
{
	struct ctl_uplink *up;

	if (vs == NULL || name == NULL)
		return -ENOENT;
	up = vswitch_uplink(vs, name);
	if (up == NULL)
		return -ENOENT;
	remove_at(vs->uplinks, &vs->n_uplinks, (unsigned)(up - vs->uplinks), sizeof(*up));
	return 0;
}

int
ctl_vswitch_del_portgroup(struct ctl_vswitch *vs, const char *name)
{
	struct ctl_portgroup *pg = ctl_vswitch_portgroup(vs, name);

	if (pg == NULL)
		return -ENOENT;
	remove_at(vs->portgroups, &vs->n_portgroups, (unsigned)(pg - vs->portgroups), sizeof(*pg));
	return 0;
}

int
ctl_config_del_port(struct ctl_config *cfg, const char *name)
{
	struct ctl_port *port = ctl_config_port(cfg, name);

	if (port == NULL)
		return -ENOENT;
	remove_at(cfg->ports, &cfg->n_ports, (unsigned)(port - cfg->ports), sizeof(*port));
	return 0;
}

/*
 * Validation.
 */

static int
validate_uplink(const struct ctl_uplink *up, char *err)
{
	char buf[ESC_MAX];
	size_t len = field_len(up->devargs, CTL_DEVARGS_MAX);
	const char *why;

	if (check_name(up->name, "uplink", NAME_PLAIN, err) < 0)
		return -EINVAL;
	why = len == CTL_DEVARGS_MAX ? "must be 1..255 characters"
				     : devargs_problem(up->devargs, len);
	if (why != NULL) {
		set_err(err, "uplink \"%s\": devargs \"%s\" %s", up->name,
			esc(buf, up->devargs, len), why);
		return -EINVAL;
	}
	if (up->n_members > CTL_MAX_MEMBERS) {
		set_err(err, "uplink \"%s\": more than %d members", up->name, CTL_MAX_MEMBERS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < up->n_members; i++) {
		len = field_len(up->members[i], CTL_DEVARGS_MAX);
		why = len == CTL_DEVARGS_MAX ? "must be 1..255 characters"
					     : devargs_problem(up->members[i], len);
		if (why != NULL) {
			set_err(err, "uplink \"%s\": member \"%s\" %s", up->name,
				esc(buf, up->members[i], len), why);
			return -EINVAL;
		}
	}
	if (!ctl_devargs_is_bond(up->devargs)) {
		if (up->n_members == 0)
			return 0;
		set_err(err, "uplink \"%s\": members are for net_bonding devargs only", up->name);
		return -EINVAL;
	}
	if (up->n_members == 0) {
		set_err(err,
			"uplink \"%s\": a net_bonding uplink needs members (the devices it bonds)",
			up->name);
		return -EINVAL;
	}
	/* Members are given to the bond by porticod, from "members". */
	if (strstr(up->devargs, ",slave=") != NULL) {
		set_err(err,
			"uplink \"%s\": give the bond's devices as members, not slave=", up->name);
		return -EINVAL;
	}
	return 0;
}

bool
ctl_devargs_is_bond(const char *devargs)
{
	return strncmp(devargs, "net_bonding", strlen("net_bonding")) == 0;
}

/*
 * The private VLAN map: IDs 1..4094, each used once in the map (as a
 * primary or a secondary), secondaries isolated or community, at most one
 * isolated secondary per primary (as vDS).
 */
static int
validate_pvlans(const struct ctl_vswitch *vs, char *err)
{
	uint8_t seen[(VLAN_ID_MAX + 1 + 7) / 8] = {0};
	unsigned i, j;

	if (vs->n_pvlans > CTL_MAX_PVLANS) {
		set_err(err, "vSwitch \"%s\": too many private VLANs (at most %u)", vs->name,
			CTL_MAX_PVLANS);
		return -EINVAL;
	}
	for (i = 0; i < vs->n_pvlans; i++) {
		const struct ctl_pvlan *pv = &vs->pvlans[i];
		unsigned isolated = 0;

		if (pv->n_secondaries > CTL_MAX_PVLAN_SECONDARIES)
			goto bad;
		for (j = 0; j <= pv->n_secondaries; j++) {
			uint16_t vid = j == 0 ? pv->primary : pv->secondaries[j - 1].vid;

			if (vid < 1 || vid > VLAN_ID_MAX)
				goto bad;
			if (seen[vid / 8] & (1u << (vid % 8))) {
				set_err(err, "vSwitch \"%s\": pvlans: VLAN %u is used twice",
					vs->name, vid);
				return -EINVAL;
			}
			seen[vid / 8] |= 1u << (vid % 8);
			if (j == 0)
				continue;
			if (pv->secondaries[j - 1].type == CTL_PVLAN_ISOLATED)
				isolated++;
			else if (pv->secondaries[j - 1].type != CTL_PVLAN_COMMUNITY)
				goto bad;
		}
		if (isolated > 1) {
			set_err(err,
				"vSwitch \"%s\": pvlans: primary %u has more than one isolated "
				"secondary",
				vs->name, pv->primary);
			return -EINVAL;
		}
	}
	return 0;
bad:
	set_err(err, "vSwitch \"%s\": pvlans: IDs must be 1..4094 and types isolated or community",
		vs->name);
	return -EINVAL;
}

/*
 * Shaping, on the effective policy of a port (or, port NULL, of a port
 * group): where a direction is enabled, peak >= average and the burst
 * holds the longest frame of the vSwitch.
 */
static int
shaping_problem(const struct ctl_vswitch *vs, const struct ctl_portgroup *pg,
	const struct ctl_port *port, char *err)
{
	static const struct {
		const char *name;
		enum pg_field on, avg, peak, burst;
	} dirs[] = {
		{"ingress", PG_F_IN_SHAPING, PG_F_IN_AVERAGE, PG_F_IN_PEAK, PG_F_IN_BURST},
		{"egress", PG_F_OUT_SHAPING, PG_F_OUT_AVERAGE, PG_F_OUT_PEAK, PG_F_OUT_BURST},
	};
	struct pg_effective e;

	pg_resolve(&vs->policy, &pg->policy, port != NULL ? &port->policy : NULL, &e);
	for (unsigned d = 0; d < 2; d++) {
		const char *why = NULL;

		if (!e.v[dirs[d].on])
			continue;
		if (e.v[dirs[d].peak] < e.v[dirs[d].avg])
			why = "peak_bps is below average_bps";
		else if (e.v[dirs[d].burst] < (int64_t)vs->mtu + 18)
			why = "burst_bytes is shorter than the vSwitch's longest frame (MTU + 18)";
		if (why == NULL)
			continue;
		if (port != NULL)
			set_err(err, "port \"%s\": shaping.%s: %s", port->name, dirs[d].name, why);
		else
			set_err(err, "vSwitch \"%s\": port group \"%s\": shaping.%s: %s", vs->name,
				pg->name, dirs[d].name, why);
		return -EINVAL;
	}
	return 0;
}

/*
 * Teaming of the vSwitch (pg NULL) or a port group: the uplink order names
 * uplinks of the vSwitch, each once, at least one active; beacon probing
 * neither with IP hash nor on a guest-tagging port group (vSphere's rules).
 */
static int
teaming_problem(const struct ctl_vswitch *vs, const struct ctl_portgroup *pg, char *err)
{
	const struct pg_uplink_order *o = pg != NULL ? &pg->policy.order : &vs->policy.order;
	const char *what = pg != NULL ? pg->name : NULL;
	struct pg_effective e;
	unsigned i, j, n = o->n_active + o->n_standby;
	const char *why = NULL;

	if (o->set) {
		if (o->n_active == 0 || o->n_active > PG_MAX_UPLINKS ||
			o->n_standby > PG_MAX_UPLINKS)
			why = "teaming.active must name at least one uplink";
		for (i = 0; why == NULL && i < n; i++) {
			const char *a =
				i < o->n_active ? o->active[i] : o->standby[i - o->n_active];

			for (j = 0; j < vs->n_uplinks && strcmp(vs->uplinks[j].name, a) != 0; j++)
				;
			if (j == vs->n_uplinks) {
				set_err(err,
					"vSwitch \"%s\": %s%s%steaming: \"%s\" is not an uplink of "
					"the "
					"vSwitch",
					vs->name, what ? "port group \"" : "", what ? what : "",
					what ? "\": " : "", a);
				return -EINVAL;
			}
			for (j = 0; j < i; j++) {
				const char *b = j < o->n_active ? o->active[j]
								: o->standby[j - o->n_active];

				if (strcmp(a, b) == 0)
					why = "an uplink is named twice in teaming.active/standby";
			}
		}
	}
	if (why == NULL) {
		pg_resolve(&vs->policy, pg != NULL ? &pg->policy : NULL, NULL, &e);
		if (e.v[PG_F_FAILURE_DETECTION] == 1 && e.v[PG_F_LOAD_BALANCING] == 2)
			why = "beacon probing does not work with IP hash";
		else if (e.v[PG_F_FAILURE_DETECTION] == 1 && pg != NULL &&
			(pg->vlan.mode == CTL_VLAN_VGT || pg->vlan.mode == CTL_VLAN_TRUNK))
			why = "beacon probing does not work with guest VLAN tagging";
	}
	if (why == NULL)
		return 0;
	if (what != NULL)
		set_err(err, "vSwitch \"%s\": port group \"%s\": %s", vs->name, what, why);
	else
		set_err(err, "vSwitch \"%s\": %s", vs->name, why);
	return -EINVAL;
}

static int
validate_shaping(const struct ctl_config *cfg, const struct ctl_port *p, char *err)
{
	const struct ctl_vswitch *vs = ctl_config_vswitch(cfg, p->vswitch);

	/* validate_port() checked both exist. */
	return shaping_problem(vs, ctl_vswitch_portgroup(vs, p->portgroup), p, err);
}

static int
validate_vswitch(const struct ctl_vswitch *vs, char *err)
{
	const struct ctl_portgroup *pg;
	const char *why;
	unsigned i, j;

	if (check_name(vs->name, "vSwitch", NAME_PLAIN, err) < 0)
		return -EINVAL;
	if (vs->mtu < CTL_MTU_MIN || vs->mtu > CTL_MTU_MAX) {
		set_err(err, "vSwitch \"%s\": mtu %u is out of range %u..%u", vs->name, vs->mtu,
			CTL_MTU_MIN, CTL_MTU_MAX);
		return -EINVAL;
	}
	if (vs->n_uplinks > CTL_MAX_UPLINKS) {
		set_err(err, "vSwitch \"%s\": too many uplinks (at most %u)", vs->name,
			CTL_MAX_UPLINKS);
		return -EINVAL;
	}
	if (vs->n_portgroups > CTL_MAX_PORTGROUPS) {
		set_err(err, "vSwitch \"%s\": too many port groups (at most %u)", vs->name,
			CTL_MAX_PORTGROUPS);
		return -EINVAL;
	}
	if ((vs->n_uplinks > 0 && vs->uplinks == NULL) ||
		(vs->n_portgroups > 0 && vs->portgroups == NULL)) {
		set_err(err, "vSwitch \"%s\": missing uplink or port group array", vs->name);
		return -EINVAL;
	}
	for (i = 0; i < vs->n_uplinks; i++) {
		if (validate_uplink(&vs->uplinks[i], err) < 0) {
			prefix_err(err, "vSwitch", vs->name);
			return -EINVAL;
		}
	}
	for (i = 0; i < vs->n_portgroups; i++) {
		pg = &vs->portgroups[i];
		if (check_name(pg->name, "port group", NAME_SPACES, err) < 0) {
			prefix_err(err, "vSwitch", vs->name);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(vs->portgroups[j].name, pg->name) == 0) {
				set_err(err, "duplicate port group \"%s\" on vSwitch \"%s\"",
					pg->name, vs->name);
				return -EINVAL;
			}
		}
		why = vlan_problem(&pg->vlan);
		if (why == NULL && pg->vlan.mode == CTL_VLAN_PVLAN &&
			ctl_vswitch_pvlan(vs, pg->vlan.vid, NULL) == NULL)
			why = "not in the vSwitch's private VLAN map (pvlans)";
		if (why == NULL && pg->vlan.mode == CTL_VLAN_VST &&
			ctl_vswitch_pvlan(vs, pg->vlan.vid, NULL) != NULL)
			why = "is a private VLAN: use {\"pvlan\": N}";
		if (why != NULL) {
			set_err(err, "vSwitch \"%s\": port group \"%s\": vlan: %s", vs->name,
				pg->name, why);
			return -EINVAL;
		}
		why = pg_policy_problem(&pg->policy);
		if (why != NULL) {
			set_err(err,
				"vSwitch \"%s\": port group \"%s\": policy: %s is out of range",
				vs->name, pg->name, why);
			return -EINVAL;
		}
	}
	why = pg_policy_problem(&vs->policy);
	if (why != NULL) {
		set_err(err, "vSwitch \"%s\": policy: %s is out of range", vs->name, why);
		return -EINVAL;
	}
	/* The effective policies, once every level is known to be in range. */
	if (teaming_problem(vs, NULL, err) < 0)
		return -EINVAL;
	for (i = 0; i < vs->n_portgroups; i++)
		if (shaping_problem(vs, &vs->portgroups[i], NULL, err) < 0 ||
			teaming_problem(vs, &vs->portgroups[i], err) < 0)
			return -EINVAL;
	return validate_pvlans(vs, err);
}

/* Device names (a bond's and its members') are unique on the host. */
static int
validate_devices_unique(const struct ctl_config *cfg, char *err)
{
	struct dev {
		const char *devargs, *uplink;
	} * devs;
	unsigned n = 0, i, j, k;
	size_t len;

	for (i = 0; i < cfg->n_vswitches; i++)
		for (j = 0; j < cfg->vswitches[i].n_uplinks; j++) {
			k = cfg->vswitches[i].uplinks[j].n_members;
			n += 1 + (k < CTL_MAX_MEMBERS ? k : CTL_MAX_MEMBERS);
		}
	devs = calloc(n ? n : 1, sizeof(*devs));
	if (devs == NULL) {
		set_err(err, "out of memory");
		return -ENOMEM;
	}
	n = 0;
	for (i = 0; i < cfg->n_vswitches; i++)
		for (j = 0; j < cfg->vswitches[i].n_uplinks; j++) {
			const struct ctl_uplink *up = &cfg->vswitches[i].uplinks[j];

			devs[n++] = (struct dev){up->devargs, up->name};
			for (k = 0; k < up->n_members && k < CTL_MAX_MEMBERS; k++)
				devs[n++] = (struct dev){up->members[k], up->name};
		}
	for (i = 0; i < n; i++) {
		len = devname_len(devs[i].devargs);
		for (j = 0; j < i; j++)
			if (devname_len(devs[j].devargs) == len &&
				memcmp(devs[i].devargs, devs[j].devargs, len) == 0) {
				set_err(err,
					"uplink device \"%.*s\" is used twice (uplinks \"%s\" and "
					"\"%s\")",
					(int)len, devs[i].devargs, devs[j].uplink, devs[i].uplink);
				free(devs);
				return -EINVAL;
			}
	}
	free(devs);
	return 0;
}

/* Uplink names and device names are unique on the host. */
static int
validate_uplinks_unique(const struct ctl_config *cfg, char *err)
{
	const struct ctl_vswitch *va, *vb;
	const struct ctl_uplink *a, *b;
	unsigned i, j, k, l;

	for (i = 0; i < cfg->n_vswitches; i++) {
		va = &cfg->vswitches[i];
		for (j = 0; j < va->n_uplinks; j++) {
			a = &va->uplinks[j];
			/* every uplink (k, l) before (i, j) */
			for (k = 0; k <= i; k++) {
				vb = &cfg->vswitches[k];
				for (l = 0; l < (k == i ? j : vb->n_uplinks); l++) {
					b = &vb->uplinks[l];
					if (strcmp(a->name, b->name) == 0) {
						set_err(err,
							"duplicate uplink \"%s\" (on vSwitch "
							"\"%s\" and vSwitch \"%s\")",
							a->name, vb->name, va->name);
						return -EINVAL;
					}
				}
			}
		}
	}
	return validate_devices_unique(cfg, err);
}

static int
validate_port(const struct ctl_config *cfg, const struct ctl_port *p, char *err)
{
	const struct ctl_vswitch *vs;
	char buf[ESC_MAX], mac[18];
	const char *why;
	size_t len;

	if (check_name(p->name, "port", NAME_PLAIN, err) < 0)
		return -EINVAL;
	len = field_len(p->vswitch, CTL_NAME_MAX);
	vs = len < CTL_NAME_MAX ? ctl_config_vswitch(cfg, p->vswitch) : NULL;
	if (vs == NULL) {
		set_err(err, "port \"%s\": vSwitch \"%s\" does not exist", p->name,
			esc(buf, p->vswitch, len));
		return -EINVAL;
	}
	len = field_len(p->portgroup, CTL_NAME_MAX);
	if (len == CTL_NAME_MAX || ctl_vswitch_portgroup(vs, p->portgroup) == NULL) {
		set_err(err, "port \"%s\": port group \"%s\" does not exist on vSwitch \"%s\"",
			p->name, esc(buf, p->portgroup, len), vs->name);
		return -EINVAL;
	}
	if (p->type != CTL_PORT_VHOST_USER) {
		set_err(err, "port \"%s\": unknown type %d", p->name, (int)p->type);
		return -EINVAL;
	}
	if (p->mode != CTL_PORT_CLIENT && p->mode != CTL_PORT_SERVER) {
		set_err(err, "port \"%s\": unknown mode %d", p->name, (int)p->mode);
		return -EINVAL;
	}
	len = field_len(p->socket, CTL_PATH_MAX);
	why = len == CTL_PATH_MAX ? "must be shorter than 108 bytes"
				  : socket_problem(p->socket, len);
	if (why != NULL) {
		set_err(err, "port \"%s\": socket \"%s\" %s", p->name, esc(buf, p->socket, len),
			why);
		return -EINVAL;
	}
	why = mac_problem(p->mac);
	if (why != NULL) {
		ctl_mac_format(p->mac, mac);
		set_err(err, "port \"%s\": mac %s %s", p->name, mac, why);
		return -EINVAL;
	}
	if (p->queues < 1 || p->queues > CTL_MAX_QUEUES) {
		set_err(err, "port \"%s\": queues %u is out of range 1..%u", p->name,
			(unsigned)p->queues, CTL_MAX_QUEUES);
		return -EINVAL;
	}
	why = pg_policy_problem(&p->policy);
	if (why != NULL) {
		set_err(err, "port \"%s\": policy: %s is out of range", p->name, why);
		return -EINVAL;
	}
	for (unsigned f = 0; f < PG_F_MAX; f++)
		if ((pg_policy_has(&p->policy, f) && strcmp(pg_field(f)->group, "teaming") == 0) ||
			p->policy.order.set) {
			set_err(err,
				"port \"%s\": teaming is set on the vSwitch or the port group, "
				"not on a port",
				p->name);
			return -EINVAL;
		}
	return 0;
}

static int validate_mirror(const struct ctl_config *cfg, const struct ctl_mirror *m, char *err);

int
ctl_config_validate(const struct ctl_config *cfg, char *err)
{
	const struct ctl_port *p, *q;
	char mac[18];
	unsigned i, j;

	if (cfg == NULL) {
		set_err(err, "no configuration");
		return -EINVAL;
	}
	if (cfg->n_vswitches > CTL_MAX_VSWITCHES) {
		set_err(err, "too many vSwitches (at most %u)", CTL_MAX_VSWITCHES);
		return -EINVAL;
	}
	if (cfg->n_ports > CTL_MAX_PORTS) {
		set_err(err, "too many ports (at most %u)", CTL_MAX_PORTS);
		return -EINVAL;
	}
	if ((cfg->n_vswitches > 0 && cfg->vswitches == NULL) ||
		(cfg->n_ports > 0 && cfg->ports == NULL)) {
		set_err(err, "missing vSwitch or port array");
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_vswitches; i++) {
		if (validate_vswitch(&cfg->vswitches[i], err) < 0)
			return -EINVAL;
		for (j = 0; j < i; j++) {
			if (strcmp(cfg->vswitches[j].name, cfg->vswitches[i].name) == 0) {
				set_err(err, "duplicate vSwitch \"%s\"", cfg->vswitches[i].name);
				return -EINVAL;
			}
		}
	}
	if (validate_uplinks_unique(cfg, err) < 0)
		return -EINVAL;
	if (cfg->n_mirrors > CTL_MAX_MIRRORS) {
		set_err(err, "too many mirroring sessions (at most %u)", CTL_MAX_MIRRORS);
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_mirrors; i++) {
		if (validate_mirror(cfg, &cfg->mirrors[i], err) < 0)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (strcmp(cfg->mirrors[j].name, cfg->mirrors[i].name) == 0) {
				set_err(err, "duplicate mirror \"%s\"", cfg->mirrors[i].name);
				return -EINVAL;
			}
	}
	for (i = 0; i < cfg->n_ports; i++) {
		p = &cfg->ports[i];
		if (validate_port(cfg, p, err) < 0)
			return -EINVAL;
		if (validate_shaping(cfg, p, err) < 0)
			return -EINVAL;
		for (j = 0; j < i; j++) {
			q = &cfg->ports[j];
			if (strcmp(q->name, p->name) == 0) {
				set_err(err, "duplicate port \"%s\"", p->name);
				return -EINVAL;
			}
			if (strcmp(q->socket, p->socket) == 0) {
				set_err(err,
					"socket \"%s\" is used twice (ports \"%s\" and \"%s\")",
					p->socket, q->name, p->name);
				return -EINVAL;
			}
			if (strcmp(q->vswitch, p->vswitch) == 0 &&
				memcmp(q->mac, p->mac, sizeof(p->mac)) == 0) {
				ctl_mac_format(p->mac, mac);
				set_err(err,
					"duplicate MAC %s on vSwitch \"%s\" (ports \"%s\" and "
					"\"%s\")",
					mac, p->vswitch, q->name, p->name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/*
 * JSON decoding helpers.
 */

/* What is being decoded, for error messages: <kind> "<name>". */
struct jctx {
	const char *kind; /* "vSwitch", "uplink", "port group", "port" */
	const char *name; /* its name, "" when not known yet */
	const char *const *ignore; /* keys to skip, NULL-terminated, may be NULL */
	char *err; /* where messages go */
};

static int jerr(const struct jctx *c, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
jerr(const struct jctx *c, const char *field, const char *fmt, ...)
{
	char msg[CTL_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->name[0] != '\0')
		set_err(c->err, "%s \"%s\": field \"%s\" %s", c->kind, c->name, field, msg);
	else
		set_err(c->err, "%s: field \"%s\" %s", c->kind, field, msg);
	return -EINVAL;
}

static bool
ignored(const struct jctx *c, const char *key)
{
	const char *const *k;

	for (k = c->ignore; k != NULL && *k != NULL; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

static int
unknown_field(const struct jctx *c, const char *key, size_t klen)
{
	char buf[ESC_MAX];

	if (c->name[0] != '\0')
		set_err(c->err, "unknown field \"%s\" in %s \"%s\"", esc(buf, key, klen), c->kind,
			c->name);
	else
		set_err(c->err, "unknown field \"%s\" in %s", esc(buf, key, klen), c->kind);
	return -EINVAL;
}

/*
 * Iterate over the keys of obj that are not ignored; sets key, klen, val.
 * Keys holding a NUL byte come out with klen != strlen(key): callers treat
 * them as unknown fields.
 */
#define FOR_EACH_FIELD(c, obj, it, key, klen, val)                                              \
	for (it = json_object_iter((json_t *)(obj)); it != NULL;                                \
		it = json_object_iter_next((json_t *)(obj), it))                                \
		if ((key = json_object_iter_key(it)) != NULL &&                                 \
			(klen = json_object_iter_key_len(it), val = json_object_iter_value(it), \
				!ignored(c, key)))

static bool
key_is(const char *key, size_t klen, const char *want)
{
	return strlen(want) == klen && memcmp(key, want, klen) == 0;
}

/* A JSON integer in lo..hi. */
static bool
int_in(const json_t *v, json_int_t lo, json_int_t hi)
{
	return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

/* Copy a JSON string naming an object into buf[CTL_NAME_MAX]. */
static int
get_name(const struct jctx *c, const char *field, const json_t *v, enum name_kind kind, char *buf)
{
	char ebuf[ESC_MAX];
	const char *why;
	size_t len;

	if (!json_is_string(v))
		return jerr(c, field, "must be a string");
	len = json_string_length(v);
	why = name_problem(json_string_value(v), len, kind);
	if (why != NULL)
		return jerr(c, field, "\"%s\" is not valid: %s",
			esc(ebuf, json_string_value(v), len), why);
	memcpy(buf, json_string_value(v), len);
	buf[len] = '\0';
	return 0;
}

/*
 * The "name" of obj, which must be an object: copied to buf, and c->name
 * pointed at it. Required unless ignored.
 */
static int
get_own_name(struct jctx *c, const json_t *obj, enum name_kind kind, char *buf)
{
	char ebuf[ESC_MAX];
	const json_t *v;
	const char *why;
	size_t len;

	if (!json_is_object(obj)) {
		set_err(c->err, "%s: must be a JSON object", c->kind);
		return -EINVAL;
	}
	if (ignored(c, "name"))
		return 0;
	v = json_object_get(obj, "name");
	if (v == NULL)
		return jerr(c, "name", "is required");
	if (!json_is_string(v))
		return jerr(c, "name", "must be a string");
	len = json_string_length(v);
	why = name_problem(json_string_value(v), len, kind);
	if (why != NULL) {
		set_err(c->err, "%s \"%s\": invalid name: %s", c->kind,
			esc(ebuf, json_string_value(v), len), why);
		return -EINVAL;
	}
	memcpy(buf, json_string_value(v), len);
	buf[len] = '\0';
	c->name = buf;
	return 0;
}

/* In update_json(): "name" may be given, but only unchanged. */
static int
check_same_name(const struct jctx *c, const json_t *v)
{
	if (!json_is_string(v) || strcmp(json_string_value(v), c->name) != 0 ||
		json_string_length(v) != strlen(c->name))
		return jerr(c, "name", "cannot be changed");
	return 0;
}

/* A JSON string from a char[size] field (cut at size if it lacks a NUL). */
static json_t *
jstr(const char *s, size_t size)
{
	return json_stringn(s, strnlen(s, size));
}

/* Add key: v to obj; v may be NULL (failed allocation); consumes v. */
static int
jset(json_t *obj, const char *key, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(obj, key, v);
}

/*
 * VLAN.
 */

int
ctl_vlan_from_json(const json_t *v, struct ctl_vlan *out, char *err)
{
	struct ctl_vlan vlan;
	const json_t *pair;
	json_int_t first, last;
	size_t i, n;

	memset(&vlan, 0, sizeof(vlan));
	if (json_is_integer(v)) {
		if (!int_in(v, 0, VLAN_VGT))
			goto bad;
		first = json_integer_value(v);
		if (first == 0) {
			vlan.mode = CTL_VLAN_NONE;
		} else if (first == VLAN_VGT) {
			vlan.mode = CTL_VLAN_VGT;
		} else {
			vlan.mode = CTL_VLAN_VST;
			vlan.vid = (uint16_t)first;
		}
		goto done;
	}
	if (json_is_object(v)) {
		/* {"pvlan": N}: nothing else in the object. */
		const json_t *pv = json_object_get(v, "pvlan");

		if (pv == NULL || json_object_size(v) != 1 || !int_in(pv, 1, VLAN_ID_MAX)) {
			set_err(err, "vlan: a private VLAN is {\"pvlan\": 1..4094}");
			return -EINVAL;
		}
		vlan.mode = CTL_VLAN_PVLAN;
		vlan.vid = (uint16_t)json_integer_value(pv);
		goto done;
	}
	if (!json_is_array(v))
		goto bad;
	n = json_array_size(v);
	if (n == 0)
		goto bad;
	if (n > CTL_MAX_VLAN_RANGES) {
		set_err(err, "vlan: at most %u trunk ranges", CTL_MAX_VLAN_RANGES);
		return -EINVAL;
	}
	vlan.mode = CTL_VLAN_TRUNK;
	for (i = 0; i < n; i++) {
		pair = json_array_get(v, i);
		if (!json_is_array(pair) || json_array_size(pair) != 2 ||
			!json_is_integer(json_array_get(pair, 0)) ||
			!json_is_integer(json_array_get(pair, 1)))
			goto bad;
		first = json_integer_value(json_array_get(pair, 0));
		last = json_integer_value(json_array_get(pair, 1));
		if (first < 0 || first > VLAN_ID_MAX || last < 0 || last > VLAN_ID_MAX) {
			set_err(err, "vlan: trunk VLAN IDs must be 0..4094");
			return -EINVAL;
		}
		if (first > last) {
			set_err(err, "vlan: range [%d, %d] has first > last", (int)first,
				(int)last);
			return -EINVAL;
		}
		vlan.ranges[i].first = (uint16_t)first;
		vlan.ranges[i].last = (uint16_t)last;
	}
	vlan.n_ranges = (uint16_t)n;
done:
	*out = vlan;
	return 0;
bad:
	set_err(err, "vlan: " VLAN_ERR);
	return -EINVAL;
}

json_t *
ctl_vlan_to_json(const struct ctl_vlan *vlan)
{
	json_t *arr, *pair;
	unsigned i;

	switch (vlan->mode) {
	case CTL_VLAN_NONE:
		return json_integer(0);
	case CTL_VLAN_VST:
		return json_integer(vlan->vid);
	case CTL_VLAN_VGT:
		return json_integer(VLAN_VGT);
	case CTL_VLAN_PVLAN:
		return json_pack("{si}", "pvlan", (int)vlan->vid);
	case CTL_VLAN_TRUNK:
		break;
	default:
		return NULL;
	}
	arr = json_array();
	if (arr == NULL)
		return NULL;
	for (i = 0; i < vlan->n_ranges && i < CTL_MAX_VLAN_RANGES; i++) {
		pair = json_pack("[ii]", (int)vlan->ranges[i].first, (int)vlan->ranges[i].last);
		if (json_array_append_new(arr, pair) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/*
 * Policy.
 */

/* The field named key in group, or PG_F_MAX. */
static enum pg_field
policy_field(const char *group, const char *key, size_t klen)
{
	for (unsigned f = 0; f < PG_F_MAX; f++)
		if (strcmp(pg_field(f)->group, group) == 0 && key_is(key, klen, pg_field(f)->name))
			return f;
	return PG_F_MAX;
}

/* Is path a group (exact), or the parent of groups ("shaping" of "shaping.ingress")? */
static bool
policy_path_is(const char *path, bool parent)
{
	size_t len = strlen(path);

	for (unsigned f = 0; f < PG_F_MAX; f++) {
		const char *g = pg_field(f)->group;

		if (!parent && strcmp(g, path) == 0)
			return true;
		if (parent && strncmp(g, path, len) == 0 && g[len] == '.')
			return true;
	}
	return false;
}

/* Unset every field of the groups at or under path. */
static void
policy_unset_path(struct pg_policy *p, const char *path)
{
	size_t len = strlen(path);

	for (unsigned f = 0; f < PG_F_MAX; f++) {
		const char *g = pg_field(f)->group;

		if (strncmp(g, path, len) == 0 && (g[len] == '\0' || g[len] == '.'))
			pg_policy_unset(p, f);
	}
	if (strcmp(path, "teaming") == 0)
		memset(&p->order, 0, sizeof(p->order));
}

/* One value of field f from JSON: 0 and *v, or -EINVAL with err. */
static int
policy_value(enum pg_field f, const json_t *val, int64_t *v, char *err)
{
	const struct pg_field_desc *d = pg_field(f);

	switch (d->kind) {
	case PG_KIND_ACCEPT:
	case PG_KIND_LIMIT_POLICY:
	case PG_KIND_SHAPE_MODE:
	case PG_KIND_LOAD_BALANCING:
	case PG_KIND_FAILURE_DETECTION:
		if (json_is_string(val) &&
			strlen(json_string_value(val)) == json_string_length(val) &&
			pg_value_parse(d->kind, json_string_value(val), v) == 0)
			return 0;
		if (d->max == 1) {
			set_err(err, "policy: %s.%s must be \"%s\" or \"%s\" (or null to inherit)",
				d->group, d->name, pg_value_name(d->kind, 0),
				pg_value_name(d->kind, 1));
		} else {
			char list[128] = "";

			for (int64_t i = d->min; i <= d->max; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list),
					"%s\"%s\"", i > d->min ? ", " : "",
					pg_value_name(d->kind, i));
			set_err(err, "policy: %s.%s must be one of %s (or null to inherit)",
				d->group, d->name, list);
		}
		return -EINVAL;
	case PG_KIND_BOOL:
		if (json_is_boolean(val)) {
			*v = json_is_true(val);
			return 0;
		}
		set_err(err, "policy: %s.%s must be true or false (or null to inherit)", d->group,
			d->name);
		return -EINVAL;
	case PG_KIND_COUNT:
		if (int_in(val, d->min, d->max)) {
			*v = json_integer_value(val);
			return 0;
		}
		set_err(err, "policy: %s.%s must be an integer %lld..%lld (or null to inherit)",
			d->group, d->name, (long long)d->min, (long long)d->max);
		return -EINVAL;
	}
	set_err(err, "policy: %s.%s: unknown kind", d->group, d->name);
	return -EINVAL;
}

/*
 * teaming.active or teaming.standby (active: true for the first): a list of
 * uplink names sets the uplink order at this level (the other list keeps
 * what this level had, else empty); null unsets the whole order.
 */
static int
policy_order(struct pg_uplink_order *o, bool active, const json_t *val, char *err)
{
	const char *what = active ? "active" : "standby";
	char names[PG_MAX_UPLINKS][PG_NAME_MAX];
	size_t i, n;

	if (json_is_null(val)) {
		memset(o, 0, sizeof(*o));
		return 0;
	}
	n = json_array_size(val);
	if (!json_is_array(val) || n > PG_MAX_UPLINKS) {
		set_err(err,
			"policy: teaming.%s must be a list of at most %u uplink names, or null",
			what, PG_MAX_UPLINKS);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(val, i);
		const char *why = json_is_string(e)
			? name_problem(json_string_value(e), json_string_length(e), NAME_PLAIN)
			: "not a string";

		if (why != NULL) {
			set_err(err, "policy: teaming.%s[%zu]: %s", what, i, why);
			return -EINVAL;
		}
		snprintf(names[i], PG_NAME_MAX, "%s", json_string_value(e));
	}
	if (!o->set)
		memset(o, 0, sizeof(*o));
	o->set = true;
	if (active) {
		memcpy(o->active, names, sizeof(names[0]) * n);
		o->n_active = (uint8_t)n;
	} else {
		memcpy(o->standby, names, sizeof(names[0]) * n);
		o->n_standby = (uint8_t)n;
	}
	return 0;
}

/* Apply obj, the JSON object at path ("" for the policy itself), to p. */
static int
policy_apply(const json_t *obj, const char *path, struct pg_policy *p, char *err)
{
	char buf[ESC_MAX], sub[128];
	const char *key;
	json_t *val;
	void *it;

	for (it = json_object_iter((json_t *)obj); it != NULL;
		it = json_object_iter_next((json_t *)obj, it)) {
		size_t klen = json_object_iter_key_len(it);
		enum pg_field f;
		int64_t v;

		key = json_object_iter_key(it);
		val = json_object_iter_value(it);
		if (strcmp(path, "teaming") == 0 &&
			(key_is(key, klen, "active") || key_is(key, klen, "standby"))) {
			if (policy_order(&p->order, key[0] == 'a', val, err) < 0)
				return -EINVAL;
			continue;
		}
		/* A field of this group? */
		f = path[0] != '\0' ? policy_field(path, key, klen) : PG_F_MAX;
		if (f != PG_F_MAX) {
			if (json_is_null(val)) {
				pg_policy_unset(p, f);
				continue;
			}
			if (policy_value(f, val, &v, err) < 0)
				return -EINVAL;
			pg_policy_set(p, f, v);
			continue;
		}
		/* A group, or a parent of groups, below path? */
		if (klen != strlen(key) ||
			snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", key) >=
				(int)sizeof(sub) ||
			(!policy_path_is(sub, false) && !policy_path_is(sub, true))) {
			if (path[0] != '\0')
				set_err(err, "policy: unknown field \"%s\" in %s",
					esc(buf, key, klen), path);
			else
				set_err(err, "policy: unknown group \"%s\"", esc(buf, key, klen));
			return -EINVAL;
		}
		if (json_is_null(val)) {
			policy_unset_path(p, sub);
			continue;
		}
		if (!json_is_object(val)) {
			set_err(err, "policy: %s must be an object, or null", sub);
			return -EINVAL;
		}
		if (policy_apply(val, sub, p, err) < 0)
			return -EINVAL;
	}
	return 0;
}

int
ctl_policy_update_json(const json_t *obj, struct pg_policy *p, char *err)
{
	struct pg_policy tmp = *p;

	if (json_is_null(obj)) {
		memset(p, 0, sizeof(*p));
		return 0;
	}
	if (!json_is_object(obj)) {
		set_err(err, "policy: must be an object of groups, or null");
		return -EINVAL;
	}
	if (policy_apply(obj, "", &tmp, err) < 0)
		return -EINVAL;
	*p = tmp;
	return 0;
}

json_t *
ctl_policy_group_obj(json_t *root, const char *group)
{
	char name[128];
	const char *s = group;
	json_t *o = root;

	while (o != NULL && *s != '\0') {
		size_t len = strcspn(s, ".");
		json_t *next;

		if (len >= sizeof(name))
			return NULL;
		memcpy(name, s, len);
		name[len] = '\0';
		next = json_object_get(o, name);
		if (next == NULL) {
			next = json_object();
			if (json_object_set_new(o, name, next) < 0)
				return NULL;
		}
		o = next;
		s += len + (s[len] == '.');
	}
	return o;
}

json_t *
ctl_policy_value_to_json(enum pg_field f, int64_t v)
{
	const struct pg_field_desc *d = pg_field(f);

	if (d == NULL)
		return NULL;
	switch (d->kind) {
	case PG_KIND_ACCEPT:
	case PG_KIND_LIMIT_POLICY:
	case PG_KIND_SHAPE_MODE:
	case PG_KIND_LOAD_BALANCING:
	case PG_KIND_FAILURE_DETECTION:
		return json_string(pg_value_name(d->kind, v) ? pg_value_name(d->kind, v) : "?");
	case PG_KIND_BOOL:
		return json_boolean(v);
	case PG_KIND_COUNT:
		return json_integer(v);
	}
	return NULL;
}

json_t *
ctl_policy_to_json(const struct pg_policy *p)
{
	json_t *obj = json_object();

	if (obj == NULL)
		return NULL;
	for (unsigned f = 0; f < PG_F_MAX; f++) {
		const struct pg_field_desc *d = pg_field(f);
		json_t *group;

		if (!pg_policy_has(p, f))
			continue;
		group = ctl_policy_group_obj(obj, d->group);
		if (group == NULL || jset(group, d->name, ctl_policy_value_to_json(f, p->v[f])) < 0)
			goto fail;
	}
	if (p->order.set) {
		json_t *t = ctl_policy_group_obj(obj, "teaming");

		if (t == NULL ||
			jset(t, "active",
				ctl_uplink_order_to_json(p->order.active, p->order.n_active)) < 0 ||
			jset(t, "standby",
				ctl_uplink_order_to_json(p->order.standby, p->order.n_standby)) < 0)
			goto fail;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

/* Add "policy" to obj when p sets anything. */
static int
policy_to_obj(json_t *obj, const struct pg_policy *p)
{
	return p->set == 0 && !p->order.set ? 0 : jset(obj, "policy", ctl_policy_to_json(p));
}

json_t *
ctl_uplink_order_to_json(const char (*names)[PG_NAME_MAX], unsigned n)
{
	json_t *arr = json_array();

	for (unsigned i = 0; arr != NULL && i < n; i++)
		if (json_array_append_new(arr, jstr(names[i], PG_NAME_MAX)) < 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

/*
 * Private VLAN map.
 */

static const char *const pvlan_type_names[] = {
	[CTL_PVLAN_PROMISCUOUS] = "promiscuous",
	[CTL_PVLAN_ISOLATED] = "isolated",
	[CTL_PVLAN_COMMUNITY] = "community",
};

const struct ctl_pvlan *
ctl_vswitch_pvlan(const struct ctl_vswitch *vs, uint16_t vid, enum ctl_pvlan_type *type)
{
	for (unsigned i = 0; i < vs->n_pvlans && i < CTL_MAX_PVLANS; i++) {
		const struct ctl_pvlan *pv = &vs->pvlans[i];

		if (pv->primary == vid) {
			if (type != NULL)
				*type = CTL_PVLAN_PROMISCUOUS;
			return pv;
		}
		for (unsigned j = 0; j < pv->n_secondaries && j < CTL_MAX_PVLAN_SECONDARIES; j++)
			if (pv->secondaries[j].vid == vid) {
				if (type != NULL)
					*type = pv->secondaries[j].type;
				return pv;
			}
	}
	return NULL;
}

/* "pvlans": [{"primary": P, "secondaries": [{"vid": S, "type": "isolated"}]}] */
static int
pvlans_from_json(const struct jctx *c, const json_t *arr, struct ctl_vswitch *vs)
{
	static const char shape[] = "must be a list of {\"primary\": 1..4094, \"secondaries\": "
				    "[{\"vid\": 1..4094, \"type\": \"isolated\"|\"community\"}]}";
	size_t i, j, n;

	if (!json_is_array(arr) || json_array_size(arr) > CTL_MAX_PVLANS)
		return jerr(c, "pvlans", "%s (at most %u)", shape, CTL_MAX_PVLANS);
	n = json_array_size(arr);
	memset(vs->pvlans, 0, sizeof(vs->pvlans));
	vs->n_pvlans = 0;
	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(arr, i), *sec;
		struct ctl_pvlan *pv = &vs->pvlans[i];

		sec = json_object_get(e, "secondaries");
		if (!json_is_object(e) || !int_in(json_object_get(e, "primary"), 1, VLAN_ID_MAX) ||
			json_object_size(e) != 1u + (sec != NULL) ||
			(sec != NULL &&
				(!json_is_array(sec) ||
					json_array_size(sec) > CTL_MAX_PVLAN_SECONDARIES)))
			return jerr(c, "pvlans", "%s", shape);
		pv->primary = (uint16_t)json_integer_value(json_object_get(e, "primary"));
		for (j = 0; j < json_array_size(sec); j++) {
			const json_t *se = json_array_get(sec, j);
			const char *t = json_string_value(json_object_get(se, "type"));

			if (!json_is_object(se) || json_object_size(se) != 2 ||
				!int_in(json_object_get(se, "vid"), 1, VLAN_ID_MAX) || t == NULL ||
				strlen(t) != json_string_length(json_object_get(se, "type")))
				return jerr(c, "pvlans", "%s", shape);
			pv->secondaries[j].vid =
				(uint16_t)json_integer_value(json_object_get(se, "vid"));
			if (strcmp(t, "isolated") == 0)
				pv->secondaries[j].type = CTL_PVLAN_ISOLATED;
			else if (strcmp(t, "community") == 0)
				pv->secondaries[j].type = CTL_PVLAN_COMMUNITY;
			else
				return jerr(c, "pvlans", "%s", shape);
			pv->n_secondaries++;
		}
		vs->n_pvlans++;
	}
	return 0;
}

static json_t *
pvlans_to_json(const struct ctl_vswitch *vs)
{
	json_t *arr = json_array();

	for (unsigned i = 0; arr != NULL && i < vs->n_pvlans && i < CTL_MAX_PVLANS; i++) {
		const struct ctl_pvlan *pv = &vs->pvlans[i];
		json_t *sec = json_array(), *e;

		for (unsigned j = 0; sec != NULL && j < pv->n_secondaries; j++)
			if (json_array_append_new(sec,
				    json_pack("{siss}", "vid", (int)pv->secondaries[j].vid, "type",
					    pvlan_type_names[pv->secondaries[j].type])) < 0) {
				json_decref(sec);
				sec = NULL;
			}
		e = sec == NULL
			? NULL
			: json_pack("{siso}", "primary", (int)pv->primary, "secondaries", sec);
		if (json_array_append_new(arr, e) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/*
 * Uplinks.
 */

/* "members": an array of 1..CTL_MAX_MEMBERS devargs strings. */
static int
members_from_json(struct jctx *c, const char *key, const json_t *val, struct ctl_uplink *up)
{
	char buf[ESC_MAX];
	const char *why;
	size_t i, n;

	if (!json_is_array(val))
		return jerr(c, key, "must be an array of devargs strings");
	n = json_array_size(val);
	if (n == 0 || n > CTL_MAX_MEMBERS)
		return jerr(c, key, "must list 1..%d devices", CTL_MAX_MEMBERS);
	for (i = 0; i < n; i++) {
		const json_t *m = json_array_get(val, i);

		if (!json_is_string(m))
			return jerr(c, key, "must be an array of devargs strings");
		why = devargs_problem(json_string_value(m), json_string_length(m));
		if (why != NULL)
			return jerr(c, key, "\"%s\" %s",
				esc(buf, json_string_value(m), json_string_length(m)), why);
		memset(up->members[i], 0, sizeof(up->members[i]));
		memcpy(up->members[i], json_string_value(m), json_string_length(m));
	}
	up->n_members = (unsigned)n;
	return 0;
}

int
ctl_uplink_from_json(
	const json_t *obj, const char *const *ignore, struct ctl_uplink *out, char *err)
{
	struct jctx c = {"uplink", "", ignore, err};
	struct ctl_uplink up;
	bool have_devargs = false;
	char buf[ESC_MAX];
	const char *key, *why;
	json_t *val;
	size_t klen;
	void *it;

	memset(&up, 0, sizeof(up));
	if (get_own_name(&c, obj, NAME_PLAIN, up.name) < 0)
		return -EINVAL;
	FOR_EACH_FIELD(&c, obj, it, key, klen, val)
	{
		if (key_is(key, klen, "name"))
			continue;
		if (key_is(key, klen, "members")) {
			if (members_from_json(&c, key, val, &up) < 0)
				return -EINVAL;
			continue;
		}
		if (!key_is(key, klen, "devargs"))
			return unknown_field(&c, key, klen);
		if (!json_is_string(val))
			return jerr(&c, key, "must be a string");
		why = devargs_problem(json_string_value(val), json_string_length(val));
		if (why != NULL)
			return jerr(&c, key, "\"%s\" %s",
				esc(buf, json_string_value(val), json_string_length(val)), why);
		memcpy(up.devargs, json_string_value(val), json_string_length(val));
		have_devargs = true;
	}
	if (!have_devargs && !ignored(&c, "devargs"))
		return jerr(&c, "devargs", "is required");
	*out = up;
	return 0;
}

json_t *
ctl_uplink_to_json(const struct ctl_uplink *up)
{
	json_t *obj = json_object(), *members;

	if (obj == NULL)
		return NULL;
	if (jset(obj, "name", jstr(up->name, CTL_NAME_MAX)) < 0 ||
		jset(obj, "devargs", jstr(up->devargs, CTL_DEVARGS_MAX)) < 0)
		goto fail;
	if (up->n_members > 0) {
		members = json_array();
		if (jset(obj, "members", members) < 0)
			goto fail;
		for (unsigned i = 0; i < up->n_members && i < CTL_MAX_MEMBERS; i++)
			if (json_array_append_new(members, jstr(up->members[i], CTL_DEVARGS_MAX)) !=
				0)
				goto fail;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

/*
 * Port groups.
 */

/* Apply the fields of obj other than "name" to pg. */
static int
portgroup_apply(const struct jctx *c, const json_t *obj, struct ctl_portgroup *pg)
{
	const char *key;
	json_t *val;
	size_t klen;
	void *it;

	FOR_EACH_FIELD(c, obj, it, key, klen, val)
	{
		if (key_is(key, klen, "name"))
			continue;
		if (key_is(key, klen, "policy")) {
			if (ctl_policy_update_json(val, &pg->policy, c->err) < 0) {
				prefix_err(c->err, c->kind, c->name);
				return -EINVAL;
			}
			continue;
		}
		if (!key_is(key, klen, "vlan"))
			return unknown_field(c, key, klen);
		if (ctl_vlan_from_json(val, &pg->vlan, c->err) < 0) {
			prefix_err(c->err, c->kind, c->name);
			return -EINVAL;
		}
	}
	return 0;
}

int
ctl_portgroup_from_json(
	const json_t *obj, const char *const *ignore, struct ctl_portgroup *out, char *err)
{
	struct jctx c = {"port group", "", ignore, err};
	struct ctl_portgroup pg;

	memset(&pg, 0, sizeof(pg));
	pg.vlan.mode = CTL_VLAN_NONE;
	if (get_own_name(&c, obj, NAME_SPACES, pg.name) < 0)
		return -EINVAL;
	if (portgroup_apply(&c, obj, &pg) < 0)
		return -EINVAL;
	*out = pg;
	return 0;
}

int
ctl_portgroup_update_json(
	const json_t *obj, const char *const *ignore, struct ctl_portgroup *pg, char *err)
{
	struct jctx c = {"port group", pg->name, ignore, err};
	struct ctl_portgroup tmp = *pg;
	const json_t *name;

	if (!json_is_object(obj)) {
		set_err(err, "port group \"%s\": must be a JSON object", pg->name);
		return -EINVAL;
	}
	name = json_object_get(obj, "name");
	if (name != NULL && !ignored(&c, "name") && check_same_name(&c, name) < 0)
		return -EINVAL;
	if (portgroup_apply(&c, obj, &tmp) < 0)
		return -EINVAL;
	*pg = tmp;
	return 0;
}

json_t *
ctl_portgroup_to_json(const struct ctl_portgroup *pg)
{
	json_t *obj = json_object();

	if (obj == NULL)
		return NULL;
	if (jset(obj, "name", jstr(pg->name, CTL_NAME_MAX)) < 0 ||
		jset(obj, "vlan", ctl_vlan_to_json(&pg->vlan)) < 0 ||
		policy_to_obj(obj, &pg->policy) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/*
 * vSwitches.
 */

/* Parse a JSON array of uplinks or port groups into a new array. */
static int
vswitch_parse_list(
	const struct jctx *c, const char *field, const json_t *arr, struct ctl_vswitch *vs)
{
	bool is_up = strcmp(field, "uplinks") == 0;
	unsigned max = is_up ? CTL_MAX_UPLINKS : CTL_MAX_PORTGROUPS;
	size_t i, n;
	int rc;

	if (!json_is_array(arr))
		return jerr(c, field, "must be an array");
	n = json_array_size(arr);
	if (n > max)
		return jerr(c, field, "has more than %u entries", max);
	if (n == 0)
		return 0;
	if (is_up) {
		vs->uplinks = calloc(n, sizeof(*vs->uplinks));
		if (vs->uplinks == NULL)
			goto nomem;
	} else {
		vs->portgroups = calloc(n, sizeof(*vs->portgroups));
		if (vs->portgroups == NULL)
			goto nomem;
	}
	for (i = 0; i < n; i++) {
		if (is_up)
			rc = ctl_uplink_from_json(
				json_array_get(arr, i), NULL, &vs->uplinks[i], c->err);
		else
			rc = ctl_portgroup_from_json(
				json_array_get(arr, i), NULL, &vs->portgroups[i], c->err);
		if (rc < 0) {
			prefix_err(c->err, c->kind, c->name);
			return rc;
		}
		if (is_up)
			vs->n_uplinks++;
		else
			vs->n_portgroups++;
	}
	return 0;

nomem:
	set_err(c->err, "out of memory");
	return -ENOMEM;
}

/*
 * Apply the fields of obj other than "name" to vs. With nested, "uplinks"
 * and "portgroups" are parsed into new arrays (vs must have none); without,
 * they are refused.
 */
static int
vswitch_apply(const struct jctx *c, const json_t *obj, struct ctl_vswitch *vs, bool nested)
{
	const char *key;
	json_t *val;
	size_t klen;
	void *it;
	int rc;

	FOR_EACH_FIELD(c, obj, it, key, klen, val)
	{
		if (key_is(key, klen, "name"))
			continue;
		if (key_is(key, klen, "mtu")) {
			if (!int_in(val, CTL_MTU_MIN, CTL_MTU_MAX))
				return jerr(c, key, "must be an integer %u..%u", CTL_MTU_MIN,
					CTL_MTU_MAX);
			vs->mtu = (uint32_t)json_integer_value(val);
		} else if (key_is(key, klen, "policy")) {
			if (ctl_policy_update_json(val, &vs->policy, c->err) < 0) {
				prefix_err(c->err, c->kind, c->name);
				return -EINVAL;
			}
		} else if (key_is(key, klen, "pvlans")) {
			if (pvlans_from_json(c, val, vs) < 0)
				return -EINVAL;
		} else if (key_is(key, klen, "uplinks") || key_is(key, klen, "portgroups")) {
			if (!nested)
				return jerr(c, key, "cannot be given here; use %s.add",
					key[0] == 'u' ? "uplink" : "portgroup");
			rc = vswitch_parse_list(c, key, val, vs);
			if (rc < 0)
				return rc;
		} else {
			return unknown_field(c, key, klen);
		}
	}
	return 0;
}

/* Decode a vSwitch, with its uplinks and port groups when nested. */
static int
vswitch_from_json(const json_t *obj, const char *const *ignore, struct ctl_vswitch *out,
	bool nested, char *err)
{
	struct jctx c = {"vSwitch", "", ignore, err};
	struct ctl_vswitch vs;
	int rc;

	memset(&vs, 0, sizeof(vs));
	vs.mtu = CTL_MTU_DEFAULT;
	rc = get_own_name(&c, obj, NAME_PLAIN, vs.name);
	if (rc < 0)
		goto fail;
	rc = vswitch_apply(&c, obj, &vs, nested);
	if (rc < 0)
		goto free_vs;
	*out = vs;
	return 0;

free_vs:
	vswitch_release(&vs);
fail:
	return rc;
}

int
ctl_vswitch_from_json(
	const json_t *obj, const char *const *ignore, struct ctl_vswitch *out, char *err)
{
	return vswitch_from_json(obj, ignore, out, false, err);
}

int
ctl_vswitch_update_json(
	const json_t *obj, const char *const *ignore, struct ctl_vswitch *vs, char *err)
{
	struct jctx c = {"vSwitch", vs->name, ignore, err};
	struct ctl_vswitch tmp = *vs;
	const json_t *name;

	if (!json_is_object(obj)) {
		set_err(err, "vSwitch \"%s\": must be a JSON object", vs->name);
		return -EINVAL;
	}
	name = json_object_get(obj, "name");
	if (name != NULL && !ignored(&c, "name") && check_same_name(&c, name) < 0)
		return -EINVAL;
	if (vswitch_apply(&c, obj, &tmp, false) < 0)
		return -EINVAL;
	*vs = tmp;
	return 0;
}

json_t *
ctl_vswitch_to_json(const struct ctl_vswitch *vs)
{
	json_t *obj, *ups, *pgs;
	unsigned i;

	obj = json_object();
	ups = json_array();
	pgs = json_array();
	if (obj == NULL || ups == NULL || pgs == NULL)
		goto fail;
	for (i = 0; i < vs->n_uplinks; i++)
		if (json_array_append_new(ups, ctl_uplink_to_json(&vs->uplinks[i])) < 0)
			goto fail;
	for (i = 0; i < vs->n_portgroups; i++)
		if (json_array_append_new(pgs, ctl_portgroup_to_json(&vs->portgroups[i])) < 0)
			goto fail;
	if (jset(obj, "name", jstr(vs->name, CTL_NAME_MAX)) < 0 ||
		jset(obj, "mtu", json_integer(vs->mtu)) < 0 ||
		policy_to_obj(obj, &vs->policy) < 0 ||
		(vs->n_pvlans > 0 && jset(obj, "pvlans", pvlans_to_json(vs)) < 0))
		goto fail;
	if (json_object_set_new(obj, "uplinks", ups) < 0) {
		ups = NULL; /* set_new() dropped it */
		goto fail;
	}
	ups = NULL;
	if (json_object_set_new(obj, "portgroups", pgs) < 0) {
		pgs = NULL;
		goto fail;
	}
	return obj;

fail:
	json_decref(pgs);
	json_decref(ups);
	json_decref(obj);
	return NULL;
}

/*
 * Ports.
 */

enum port_field {
	PF_VSWITCH = 1 << 0,
	PF_PORTGROUP = 1 << 1,
	PF_SOCKET = 1 << 2,
	PF_MAC = 1 << 3,
};

/* Apply the fields of obj other than "name" to p; *seen gets PF_* bits. */
static int
port_apply(const struct jctx *c, const json_t *obj, struct ctl_port *p, unsigned *seen)
{
	char buf[ESC_MAX];
	const char *key, *s, *why;
	uint8_t mac[6];
	json_t *val;
	size_t klen, len;
	void *it;

	*seen = 0;
	FOR_EACH_FIELD(c, obj, it, key, klen, val)
	{
		if (key_is(key, klen, "name"))
			continue;
		s = json_string_value(val); /* NULL when not a string */
		len = json_string_length(val);
		if (key_is(key, klen, "vswitch")) {
			if (get_name(c, key, val, NAME_PLAIN, p->vswitch) < 0)
				return -EINVAL;
			*seen |= PF_VSWITCH;
		} else if (key_is(key, klen, "portgroup")) {
			if (get_name(c, key, val, NAME_SPACES, p->portgroup) < 0)
				return -EINVAL;
			*seen |= PF_PORTGROUP;
		} else if (key_is(key, klen, "type")) {
			if (s == NULL || strcmp(s, "vhost-user") != 0 || len != strlen(s))
				return jerr(c, key, "must be \"vhost-user\"");
			p->type = CTL_PORT_VHOST_USER;
		} else if (key_is(key, klen, "mode")) {
			if (s != NULL && len == strlen(s) && strcmp(s, "client") == 0)
				p->mode = CTL_PORT_CLIENT;
			else if (s != NULL && len == strlen(s) && strcmp(s, "server") == 0)
				p->mode = CTL_PORT_SERVER;
			else
				return jerr(c, key, "must be \"client\" or \"server\"");
		} else if (key_is(key, klen, "socket")) {
			if (s == NULL)
				return jerr(c, key, "must be a string");
			why = socket_problem(s, len);
			if (why != NULL)
				return jerr(c, key, "\"%s\" %s", esc(buf, s, len), why);
			memset(p->socket, 0, sizeof(p->socket));
			memcpy(p->socket, s, len);
			*seen |= PF_SOCKET;
		} else if (key_is(key, klen, "mac")) {
			if (s == NULL || len != strlen(s) || ctl_mac_parse(s, mac) < 0)
				return jerr(
					c, key, "must be a MAC address like \"52:54:00:00:00:01\"");
			why = mac_problem(mac);
			if (why != NULL)
				return jerr(c, key, "%s %s", s, why);
			memcpy(p->mac, mac, sizeof(mac));
			*seen |= PF_MAC;
		} else if (key_is(key, klen, "queues")) {
			if (!int_in(val, 1, CTL_MAX_QUEUES))
				return jerr(c, key, "must be an integer 1..%u", CTL_MAX_QUEUES);
			p->queues = (uint16_t)json_integer_value(val);
		} else if (key_is(key, klen, "policy")) {
			if (ctl_policy_update_json(val, &p->policy, c->err) < 0) {
				prefix_err(c->err, c->kind, c->name);
				return -EINVAL;
			}
		} else {
			return unknown_field(c, key, klen);
		}
	}
	return 0;
}

int
ctl_port_from_json(const json_t *obj, const char *const *ignore, struct ctl_port *out, char *err)
{
	static const struct {
		unsigned bit;
		const char *field;
	} required[] = {
		{PF_VSWITCH, "vswitch"},
		{PF_PORTGROUP, "portgroup"},
		{PF_SOCKET, "socket"},
		{PF_MAC, "mac"},
	};
	struct jctx c = {"port", "", ignore, err};
	struct ctl_port p;
	unsigned seen, i;

	memset(&p, 0, sizeof(p));
	p.type = CTL_PORT_VHOST_USER;
	p.mode = CTL_PORT_CLIENT;
	p.queues = 1;
	if (get_own_name(&c, obj, NAME_PLAIN, p.name) < 0)
		return -EINVAL;
	if (port_apply(&c, obj, &p, &seen) < 0)
		return -EINVAL;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!(seen & required[i].bit) && !ignored(&c, required[i].field))
			return jerr(&c, required[i].field, "is required");
	*out = p;
	return 0;
}

int
ctl_port_update_json(const json_t *obj, const char *const *ignore, struct ctl_port *port, char *err)
{
	struct jctx c = {"port", port->name, ignore, err};
	struct ctl_port tmp = *port;
	const json_t *name;
	unsigned seen;

	if (!json_is_object(obj)) {
		set_err(err, "port \"%s\": must be a JSON object", port->name);
		return -EINVAL;
	}
	name = json_object_get(obj, "name");
	if (name != NULL && !ignored(&c, "name") && check_same_name(&c, name) < 0)
		return -EINVAL;
	if (port_apply(&c, obj, &tmp, &seen) < 0)
		return -EINVAL;
	*port = tmp;
	return 0;
}

json_t *
ctl_port_to_json(const struct ctl_port *port)
{
	json_t *obj = json_object();
	char mac[18];

	if (obj == NULL)
		return NULL;
	ctl_mac_format(port->mac, mac);
	if (jset(obj, "name", jstr(port->name, CTL_NAME_MAX)) < 0 ||
		jset(obj, "vswitch", jstr(port->vswitch, CTL_NAME_MAX)) < 0 ||
		jset(obj, "portgroup", jstr(port->portgroup, CTL_NAME_MAX)) < 0 ||
		jset(obj, "type", json_string("vhost-user")) < 0 ||
		jset(obj, "socket", jstr(port->socket, CTL_PATH_MAX)) < 0 ||
		jset(obj, "mode",
			json_string(port->mode == CTL_PORT_SERVER ? "server" : "client")) < 0 ||
		jset(obj, "mac", json_string(mac)) < 0 ||
		jset(obj, "queues", json_integer(port->queues)) < 0 ||
		policy_to_obj(obj, &port->policy) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/*
 * Mirroring sessions.
 */

static const char *const dir_names[] = {
	[CTL_DIR_IN] = "in", [CTL_DIR_OUT] = "out", [CTL_DIR_BOTH] = "both"};

const char *
ctl_dir_name(uint8_t dir)
{
	return dir >= CTL_DIR_IN && dir <= CTL_DIR_BOTH ? dir_names[dir] : "?";
}

int
ctl_dir_parse(const char *s, uint8_t *dir)
{
	for (uint8_t d = CTL_DIR_IN; d <= CTL_DIR_BOTH; d++)
		if (s != NULL && strcmp(s, dir_names[d]) == 0) {
			*dir = d;
			return 0;
		}
	return -EINVAL;
}

int
ctl_mirror_from_json(const json_t *obj, struct ctl_mirror *out, char *err)
{
	struct jctx c = {"mirror", "", NULL, err};
	struct ctl_mirror m;
	const json_t *srcs = NULL, *dst = NULL, *v;
	const char *key;
	json_t *val;
	size_t klen, i;
	void *it;

	memset(&m, 0, sizeof(m));
	if (get_own_name(&c, obj, NAME_PLAIN, m.name) < 0)
		return -EINVAL;
	FOR_EACH_FIELD(&c, obj, it, key, klen, val)
	{
		if (key_is(key, klen, "name"))
			continue;
		if (key_is(key, klen, "sources"))
			srcs = val;
		else if (key_is(key, klen, "destination"))
			dst = val;
		else
			return unknown_field(&c, key, klen);
	}
	if (!json_is_array(srcs) || json_array_size(srcs) < 1 ||
		json_array_size(srcs) > CTL_MAX_MIRROR_SOURCES)
		return jerr(&c, "sources", "must be a list of 1..%u {\"port\", \"direction\"}",
			CTL_MAX_MIRROR_SOURCES);
	for (i = 0; i < json_array_size(srcs); i++) {
		const json_t *s = json_array_get(srcs, i);
		const json_t *d = json_object_get(s, "direction");

		if (!json_is_object(s) || json_object_size(s) != 1u + (d != NULL) ||
			get_name(&c, "sources", json_object_get(s, "port"), NAME_PLAIN,
				m.sources[i].port) < 0)
			return jerr(&c, "sources",
				"entries are {\"port\": NAME, \"direction\": "
				"\"in\"|\"out\"|\"both\"}");
		m.sources[i].dir = CTL_DIR_BOTH;
		if (d != NULL &&
			(ctl_dir_parse(json_string_value(d), &m.sources[i].dir) < 0 ||
				strlen(json_string_value(d)) != json_string_length(d)))
			return jerr(&c, "sources", "direction must be \"in\", \"out\" or \"both\"");
		m.n_sources++;
	}
	if (!json_is_object(dst))
		return jerr(&c, "destination",
			"is required: {\"port\": NAME} or {\"uplink\": NAME, \"vlan\": 1..4094}");
	if ((v = json_object_get(dst, "port")) != NULL && json_object_size(dst) == 1) {
		if (get_name(&c, "destination", v, NAME_PLAIN, m.dst_port) < 0)
			return -EINVAL;
	} else if ((v = json_object_get(dst, "uplink")) != NULL && json_object_size(dst) == 2 &&
		int_in(json_object_get(dst, "vlan"), 1, VLAN_ID_MAX)) {
		if (get_name(&c, "destination", v, NAME_PLAIN, m.dst_uplink) < 0)
			return -EINVAL;
		m.dst_vlan = (uint16_t)json_integer_value(json_object_get(dst, "vlan"));
	} else {
		return jerr(&c, "destination",
			"must be {\"port\": NAME} or {\"uplink\": NAME, \"vlan\": 1..4094}");
	}
	*out = m;
	return 0;
}

json_t *
ctl_mirror_to_json(const struct ctl_mirror *m)
{
	json_t *srcs = json_array(), *dst;

	for (unsigned i = 0; srcs != NULL && i < m->n_sources && i < CTL_MAX_MIRROR_SOURCES; i++)
		if (json_array_append_new(srcs,
			    json_pack("{s:s%, s:s}", "port", m->sources[i].port,
				    strnlen(m->sources[i].port, CTL_NAME_MAX), "direction",
				    ctl_dir_name(m->sources[i].dir))) < 0) {
			json_decref(srcs);
			return NULL;
		}
	dst = m->dst_port[0] != '\0'
		? json_pack("{s:s%}", "port", m->dst_port, strnlen(m->dst_port, CTL_NAME_MAX))
		: json_pack("{s:s%, s:i}", "uplink", m->dst_uplink,
			  strnlen(m->dst_uplink, CTL_NAME_MAX), "vlan", (int)m->dst_vlan);
	return json_pack("{s:s%, s:o, s:o}", "name", m->name, strnlen(m->name, CTL_NAME_MAX),
		"sources", srcs, "destination", dst);
}

struct ctl_mirror *
ctl_config_mirror(const struct ctl_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_mirrors && i < CTL_MAX_MIRRORS; i++)
		if (strcmp(cfg->mirrors[i].name, name) == 0)
			return (struct ctl_mirror *)&cfg->mirrors[i];
	return NULL;
}

int
ctl_config_add_mirror(struct ctl_config *cfg, const struct ctl_mirror *m)
{
	if (ctl_config_mirror(cfg, m->name) != NULL)
		return -EEXIST;
	if (cfg->n_mirrors >= CTL_MAX_MIRRORS)
		return -ENOSPC;
	cfg->mirrors[cfg->n_mirrors++] = *m;
	return 0;
}

int
ctl_config_del_mirror(struct ctl_config *cfg, const char *name)
{
	struct ctl_mirror *m = ctl_config_mirror(cfg, name);
	unsigned i;

	if (m == NULL)
		return -ENOENT;
	i = (unsigned)(m - cfg->mirrors);
	memmove(&cfg->mirrors[i], &cfg->mirrors[i + 1],
		(cfg->n_mirrors - i - 1) * sizeof(cfg->mirrors[0]));
	cfg->n_mirrors--;
	return 0;
}

/* Where a mirror's port is: its vSwitch's name, or NULL when no such port or uplink. */
static const char *
mirror_port_vswitch(const struct ctl_config *cfg, const char *name)
{
	const struct ctl_port *p = ctl_config_port(cfg, name);
	struct ctl_vswitch *vs;

	if (p != NULL)
		return p->vswitch;
	return ctl_config_uplink(cfg, name, &vs) != NULL ? vs->name : NULL;
}

/*
 * A session: a unique name, sources that exist (VM ports or uplinks, each
 * once), a destination that exists and is not a source, all on one vSwitch.
 */
static int
validate_mirror(const struct ctl_config *cfg, const struct ctl_mirror *m, char *err)
{
	const char *dst = m->dst_port[0] != '\0' ? m->dst_port : m->dst_uplink, *vs;
	unsigned i, j;

	if (check_name(m->name, "mirror", NAME_PLAIN, err) < 0)
		return -EINVAL;
	if (m->n_sources < 1 || m->n_sources > CTL_MAX_MIRROR_SOURCES) {
		set_err(err, "mirror \"%s\": 1..%u sources", m->name, CTL_MAX_MIRROR_SOURCES);
		return -EINVAL;
	}
	if (m->dst_port[0] != '\0' ? ctl_config_port(cfg, m->dst_port) == NULL
				   : ctl_config_uplink(cfg, m->dst_uplink, NULL) == NULL ||
				m->dst_vlan < 1 || m->dst_vlan > VLAN_ID_MAX) {
		set_err(err, "mirror \"%s\": destination %s \"%s\" does not exist%s", m->name,
			m->dst_port[0] != '\0' ? "port" : "uplink", dst,
			m->dst_port[0] != '\0' ? "" : " (or its VLAN is not 1..4094)");
		return -EINVAL;
	}
	vs = mirror_port_vswitch(cfg, dst);
	for (i = 0; i < m->n_sources; i++) {
		const char *src = m->sources[i].port, *svs = mirror_port_vswitch(cfg, src);

		if (svs == NULL) {
			set_err(err, "mirror \"%s\": source \"%s\" is not a port or an uplink",
				m->name, src);
			return -EINVAL;
		}
		if (strcmp(svs, vs) != 0) {
			set_err(err,
				"mirror \"%s\": source \"%s\" is not on vSwitch \"%s\" of the "
				"destination",
				m->name, src, vs);
			return -EINVAL;
		}
		if (strcmp(src, dst) == 0) {
			set_err(err, "mirror \"%s\": \"%s\" cannot be both source and destination",
				m->name, src);
			return -EINVAL;
		}
		if (m->sources[i].dir < CTL_DIR_IN || m->sources[i].dir > CTL_DIR_BOTH) {
			set_err(err, "mirror \"%s\": bad direction", m->name);
			return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (strcmp(m->sources[j].port, src) == 0) {
				set_err(err, "mirror \"%s\": source \"%s\" is named twice", m->name,
					src);
				return -EINVAL;
			}
	}
	return 0;
}

/*
 * The whole config.
 */

int
ctl_config_from_json(const json_t *doc, struct ctl_config **out, char *err)
{
	struct jctx c = {"config", "", NULL, err};
	const json_t *vss = NULL, *ports = NULL, *mirrors = NULL;
	struct ctl_config *cfg;
	const char *key;
	json_t *val;
	size_t klen, i, n;
	void *it;
	int rc;

	if (!json_is_object(doc)) {
		set_err(err, "config: must be a JSON object");
		return -EINVAL;
	}
	FOR_EACH_FIELD(&c, doc, it, key, klen, val)
	{
		if (key_is(key, klen, "vswitches"))
			vss = val;
		else if (key_is(key, klen, "ports"))
			ports = val;
		else if (key_is(key, klen, "mirrors"))
			mirrors = val;
		else
			return unknown_field(&c, key, klen);
		if (!json_is_array(val))
			return jerr(&c, key, "must be an array");
	}
	if (json_array_size(vss) > CTL_MAX_VSWITCHES) {
		set_err(err, "too many vSwitches (at most %u)", CTL_MAX_VSWITCHES);
		return -EINVAL;
	}
	if (json_array_size(ports) > CTL_MAX_PORTS) {
		set_err(err, "too many ports (at most %u)", CTL_MAX_PORTS);
		return -EINVAL;
	}
	if (json_array_size(mirrors) > CTL_MAX_MIRRORS) {
		set_err(err, "too many mirroring sessions (at most %u)", CTL_MAX_MIRRORS);
		return -EINVAL;
	}

	rc = -ENOMEM;
	cfg = ctl_config_new();
	if (cfg == NULL)
		goto nomem;
	n = json_array_size(vss);
	if (n > 0) {
		cfg->vswitches = calloc(n, sizeof(*cfg->vswitches));
		if (cfg->vswitches == NULL)
			goto nomem;
	}
	for (i = 0; i < n; i++) {
		rc = vswitch_from_json(json_array_get(vss, i), NULL, &cfg->vswitches[i], true, err);
		if (rc < 0)
			goto free_cfg;
		cfg->n_vswitches++;
	}
	n = json_array_size(ports);
	if (n > 0) {
		cfg->ports = calloc(n, sizeof(*cfg->ports));
		if (cfg->ports == NULL)
			goto nomem;
	}
	for (i = 0; i < n; i++) {
		rc = ctl_port_from_json(json_array_get(ports, i), NULL, &cfg->ports[i], err);
		if (rc < 0)
			goto free_cfg;
		cfg->n_ports++;
	}
	for (i = 0; i < json_array_size(mirrors); i++) {
		rc = ctl_mirror_from_json(json_array_get(mirrors, i), &cfg->mirrors[i], err);
		if (rc < 0)
			goto free_cfg;
		cfg->n_mirrors++;
	}
	rc = ctl_config_validate(cfg, err);
	if (rc < 0)
		goto free_cfg;
	*out = cfg;
	return 0;

nomem:
	set_err(err, "out of memory");
free_cfg:
	ctl_config_free(cfg);
	return rc;
}

json_t *
ctl_config_to_json(const struct ctl_config *cfg)
{
	json_t *doc, *vss, *ports;
	unsigned i;

	doc = json_object();
	vss = json_array();
	ports = json_array();
	if (doc == NULL || vss == NULL || ports == NULL)
		goto fail;
	for (i = 0; i < cfg->n_vswitches; i++)
		if (json_array_append_new(vss, ctl_vswitch_to_json(&cfg->vswitches[i])) < 0)
			goto fail;
	for (i = 0; i < cfg->n_ports; i++)
		if (json_array_append_new(ports, ctl_port_to_json(&cfg->ports[i])) < 0)
			goto fail;
	if (json_object_set_new(doc, "vswitches", vss) < 0) {
		vss = NULL; /* set_new() dropped it */
		goto fail;
	}
	vss = NULL;
	if (json_object_set_new(doc, "ports", ports) < 0) {
		ports = NULL;
		goto fail;
	}
	if (cfg->n_mirrors > 0) {
		json_t *ms = json_array();

		for (i = 0; ms != NULL && i < cfg->n_mirrors; i++)
			if (json_array_append_new(ms, ctl_mirror_to_json(&cfg->mirrors[i])) < 0) {
				json_decref(ms);
				ms = NULL;
			}
		if (jset(doc, "mirrors", ms) < 0) {
			ports = vss = NULL;
			goto fail;
		}
	}
	return doc;

fail:
	json_decref(ports);
	json_decref(vss);
	json_decref(doc);
	return NULL;
}

/*
 * State file.
 */

int
ctl_config_load(const char *path, struct ctl_config **out, char *err)
{
	char ebuf[128], *buf = NULL;
	json_error_t jerror;
	struct stat st;
	size_t done = 0;
	json_t *doc;
	ssize_t r;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		set_err(err, "%s: %s", path, errstr(-rc, ebuf, sizeof(ebuf)));
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		set_err(err, "%s: %s", path, errstr(-rc, ebuf, sizeof(ebuf)));
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		set_err(err, "%s: not a regular file", path);
		goto close_fd;
	}
	if (st.st_size > (off_t)STATE_FILE_MAX) {
		rc = -EINVAL;
		set_err(err, "%s: larger than %u MiB", path, STATE_FILE_MAX >> 20);
		goto close_fd;
	}
	/* one byte more than the size: notices a file that grew meanwhile */
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = -ENOMEM;
		set_err(err, "%s: out of memory", path);
		goto close_fd;
	}
	while (done < (size_t)st.st_size + 1) {
		r = read(fd, buf + done, (size_t)st.st_size + 1 - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			set_err(err, "%s: read: %s", path, errstr(-rc, ebuf, sizeof(ebuf)));
			goto free_buf;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	if (done > (size_t)st.st_size) {
		rc = -EIO;
		set_err(err, "%s: file changed while being read", path);
		goto free_buf;
	}
	doc = json_loadb(buf, done, JSON_REJECT_DUPLICATES, &jerror);
	if (doc == NULL) {
		rc = -EINVAL;
		set_err(err, "%s:%d:%d: %s", path, jerror.line, jerror.column, jerror.text);
		goto free_buf;
	}
	rc = ctl_config_from_json(doc, out, err);
	if (rc < 0 && err != NULL) {
		char tmp[CTL_ERR_MAX];

		snprintf(tmp, sizeof(tmp), "%s", err);
		set_err(err, "%s: %s", path, tmp);
	}
	json_decref(doc);
free_buf:
	free(buf);
close_fd:
	close(fd);
fail:
	return rc;
}

/* mkdir -p dir, 0755. */
static int
mkdir_p(const char *dir, char *err)
{
	char ebuf[128], tmp[PATH_MAX];
	struct stat st;
	size_t i, len = strlen(dir);
	int e;

	if (len == 0 || len >= sizeof(tmp)) {
		set_err(err, "%s: bad directory name", dir);
		return -ENAMETOOLONG;
	}
	memcpy(tmp, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (stat(tmp, &st) < 0 && mkdir(tmp, 0755) < 0 && errno != EEXIST) {
			e = errno;
			set_err(err, "%s: mkdir: %s", tmp, errstr(e, ebuf, sizeof(ebuf)));
			return -e;
		}
		if (i < len)
			tmp[i] = '/';
	}
	e = stat(dir, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (e != 0) {
		set_err(err, "%s: %s", dir, errstr(e, ebuf, sizeof(ebuf)));
		return -e;
	}
	return 0;
}

/* Write all of buf[len] to fd. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t r;

	while (len > 0) {
		r = write(fd, buf, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

int
ctl_config_save(const struct ctl_config *cfg, const char *path, char *err)
{
	char ebuf[128], dir[PATH_MAX], tmp[PATH_MAX];
	const char *slash, *step, *what;
	char *text = NULL;
	json_t *doc;
	int fd = -1, dfd, rc;
	size_t dlen;

	if (cfg == NULL || path == NULL || path[0] == '\0') {
		set_err(err, "save: no config or path");
		return -EINVAL;
	}
	rc = ctl_config_validate(cfg, err);
	if (rc < 0)
		goto fail;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
		rc = -ENAMETOOLONG;
		set_err(err, "%s: path too long", path);
		goto fail;
	}
	slash = strrchr(path, '/');
	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		dlen = slash == path ? 1 : (size_t)(slash - path);
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
	}
	rc = mkdir_p(dir, err);
	if (rc < 0)
		goto fail;

	doc = ctl_config_to_json(cfg);
	if (doc != NULL)
		text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (text == NULL) {
		rc = -ENOMEM;
		set_err(err, "%s: out of memory", path);
		goto fail;
	}

	step = "open";
	what = tmp;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		rc = -errno;
		goto report;
	}
	step = "write";
	rc = write_all(fd, text, strlen(text));
	if (rc == 0)
		rc = write_all(fd, "\n", 1);
	if (rc < 0)
		goto unlink_tmp;
	step = "fsync";
	if (fsync(fd) < 0) {
		rc = -errno;
		goto unlink_tmp;
	}
	step = "close";
	rc = close(fd);
	fd = -1;
	if (rc < 0) {
		rc = -errno;
		goto unlink_tmp;
	}
	step = "rename over the state file";
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto unlink_tmp;
	}

	/* the new file is in place; make its directory entry durable */
	step = "fsync";
	what = dir;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = -errno;
		goto report;
	}
	if (fsync(dfd) < 0)
		rc = -errno;
	close(dfd);
	if (rc < 0)
		goto report;
	free(text);
	return 0;

unlink_tmp:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
report:
	set_err(err, "%s: %s: %s", what, step, errstr(-rc, ebuf, sizeof(ebuf)));
	free(text);
fail:
	return rc;
}
