/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From one desired state to the next: diff by name, create what is new,
 * compile a snapshot, publish it under RCU, destroy what is gone.
 *
 * An object is kept when its identity did not change (an uplink: vSwitch
 * and devargs; a port: socket, mode, type, queues); anything else about it
 * (port group, MAC, MTU, VLAN) is only a new snapshot. A changed identity is
 * a removal plus a creation. When a creation needs what a removal frees (the
 * same socket or device), the removal goes first behind an intermediate
 * snapshot, and is undone if the creation fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_log.h>

#include "control/apply.h"

#define MIRROR_CAPACITY 65536
#define MAX_UPLINKS_ALL (CTL_MAX_VSWITCHES * CTL_MAX_UPLINKS)

uint64_t
ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
ctl_now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

struct ctl_rt *
ctl_rt_new(void)
{
	struct ctl_rt *rt = calloc(1, sizeof(*rt));

	if (rt == NULL)
		return NULL;
	rt->cfg = ctl_config_new();
	if (rt->cfg == NULL) {
		free(rt);
		return NULL;
	}
	rt->start_sec = ctl_now_sec();
	return rt;
}

struct ctl_rt_port *
ctl_rt_port(const struct ctl_rt *rt, const char *name)
{
	for (unsigned i = 0; i < rt->n_ports; i++)
		if (strcmp(rt->ports[i]->cfg.name, name) == 0)
			return rt->ports[i];
	return NULL;
}

struct ctl_rt_uplink *
ctl_rt_uplink(const struct ctl_rt *rt, const char *name)
{
	for (unsigned i = 0; i < rt->n_uplinks; i++)
		if (strcmp(rt->uplinks[i]->cfg.name, name) == 0)
			return rt->uplinks[i];
	return NULL;
}

struct ctl_rt_vswitch *
ctl_rt_vswitch(const struct ctl_rt *rt, const char *name)
{
	for (unsigned i = 0; i < DP_MAX_VSWITCHES; i++)
		if (rt->vswitches[i] != NULL && strcmp(rt->vswitches[i]->name, name) == 0)
			return rt->vswitches[i];
	return NULL;
}

void
ctl_rt_stats(uint16_t index, const struct dp_port_stats *base, struct dp_port_stats *out)
{
	dp_port_stats_get(index, out);
	out->rx_packets -= base->rx_packets;
	out->rx_bytes -= base->rx_bytes;
	out->tx_packets -= base->tx_packets;
	out->tx_bytes -= base->tx_bytes;
	out->unlearned -= base->unlearned;
	for (unsigned r = 0; r < DP_DROP_MAX; r++)
		out->drops[r] -= base->drops[r];
}

/* --- creating and destroying runtime objects --- */

static int
index_alloc(struct ctl_rt *rt)
{
	/*
	 * The workers' learned tables and per-port counts still name a gone
	 * port's index until its entries age out: an index rests that long
	 * before it is given again, unless none other is free (then the one
	 * freed longest ago).
	 */
	const uint64_t rest_ms = (DP_AGE_DEFAULT + 2) * UINT64_C(1000), now = ctl_now_ms();
	int oldest = -1;

	for (unsigned i = 0; i < DP_MAX_PORTS; i++) {
		if (rt->index_used[i])
			continue;
		if (rt->index_freed_ms[i] == 0 || now - rt->index_freed_ms[i] > rest_ms) {
			oldest = (int)i;
			break;
		}
		if (oldest < 0 || rt->index_freed_ms[i] < rt->index_freed_ms[oldest])
			oldest = (int)i;
	}
	if (oldest < 0)
		return -ENOSPC;
	rt->index_used[oldest] = true;
	return oldest;
}

/* A published port's index is free again (it rests: index_alloc()). */
static void
index_free(struct ctl_rt *rt, uint16_t idx)
{
	rt->index_used[idx] = false;
	rt->index_freed_ms[idx] = ctl_now_ms();
}

static void
vswitch_free(struct ctl_rt_vswitch *v)
{
	if (v == NULL)
		return;
	for (unsigned w = 0; w < DP_MAX_WORKERS; w++)
		fdb_destroy(v->learned[w]);
	fdb_destroy(v->mirror);
	free(v->teams);
	free(v->staged);
	free(v);
}

static struct ctl_rt_vswitch *
vswitch_create(struct ctl_rt *rt, const char *name, bool *slot_taken, char *err)
{
	struct ctl_rt_vswitch *v;
	unsigned i;

	for (i = 0; i < DP_MAX_VSWITCHES; i++)
		if (rt->vswitches[i] == NULL && !slot_taken[i])
			break;
	if (i == DP_MAX_VSWITCHES) {
		snprintf(err, CTL_ERR_MAX, "too many vSwitches");
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		goto nomem;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->index = (uint8_t)i;
	for (unsigned w = 0; w < dp_n_workers(); w++) {
		v->learned[w] = fdb_create(DP_FDB_LEARNED);
		if (v->learned[w] == NULL)
			goto nomem;
	}
	v->mirror = fdb_create(MIRROR_CAPACITY);
	if (v->mirror == NULL)
		goto nomem;
	slot_taken[i] = true;
	return v;
nomem:
	vswitch_free(v);
	snprintf(err, CTL_ERR_MAX, "out of memory");
	return NULL;
}

/*
 * Objects and their resources. An object whose resource is released (vh or
 * eth NULL) keeps its config, so it can be opened again: that is how an
 * early removal is undone. The snapshot and the methods skip such objects.
 */

static int
uplink_open(struct ctl_rt *rt, struct ctl_rt_uplink *u, char *err)
{
	char why[256];
	int idx = index_alloc(rt);

	if (idx < 0) {
		snprintf(err, CTL_ERR_MAX, "too many ports");
		return -ENOSPC;
	}
	const char *members[CTL_MAX_MEMBERS];

	for (unsigned i = 0; i < u->cfg.n_members; i++)
		members[i] = u->cfg.members[i];
	u->eth = dp_ethdev_open(
		u->cfg.devargs, members, u->cfg.n_members, dp_n_workers(), dp_mempool(), why);
	if (u->eth == NULL) {
		snprintf(err, CTL_ERR_MAX, "uplink \"%.63s\": %.180s", u->cfg.name, why);
		rt->index_used[idx] = false;
		return -EIO;
	}
	u->index = (uint16_t)idx;
	dp_port_stats_get(u->index, &u->base);
	ctl_teams_uplink_open(rt, u);
	RTE_LOG(INFO, USER1, "uplink %s: opened %s as ethdev %u\n", u->cfg.name, u->cfg.devargs,
		dp_ethdev_port_id(u->eth));
	return 0;
}

static void
uplink_release(struct ctl_rt *rt, struct ctl_rt_uplink *u)
{
	int ret;

	if (u->eth == NULL)
		return;
	ctl_teams_uplink_close(rt, u);
	ret = dp_ethdev_close(u->eth);
	if (ret != 0)
		RTE_LOG(ERR, USER1, "uplink %s: the driver did not let the device go: %s\n",
			u->cfg.name, rte_strerror(-ret));
	u->eth = NULL;
	index_free(rt, u->index);
	RTE_LOG(INFO, USER1, "uplink %s: closed\n", u->cfg.name);
}

static struct ctl_rt_uplink *
uplink_create(struct ctl_rt *rt, const struct ctl_uplink *cfg, const char *vswitch, char *err)
{
	struct ctl_rt_uplink *u = calloc(1, sizeof(*u));

	if (u == NULL) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		return NULL;
	}
	u->cfg = *cfg;
	snprintf(u->vswitch, sizeof(u->vswitch), "%s", vswitch);
	if (uplink_open(rt, u, err) != 0) {
		free(u);
		return NULL;
	}
	return u;
}

static void
uplink_destroy(struct ctl_rt *rt, struct ctl_rt_uplink *u)
{
	if (u == NULL)
		return;
	uplink_release(rt, u);
	free(u);
}

static int
port_open(struct ctl_rt *rt, struct ctl_rt_port *p, char *err)
{
	char why[256];
	int idx = index_alloc(rt);

	if (idx < 0) {
		snprintf(err, CTL_ERR_MAX, "too many ports");
		return -ENOSPC;
	}
	p->vh = vh_port_create(p->cfg.socket, p->cfg.mode == CTL_PORT_CLIENT, p->cfg.queues, why);
	if (p->vh == NULL) {
		snprintf(err, CTL_ERR_MAX, "port \"%.63s\": %.180s", p->cfg.name, why);
		rt->index_used[idx] = false;
		return -EIO;
	}
	p->index = (uint16_t)idx;
	dp_port_stats_get(p->index, &p->base);
	RTE_LOG(INFO, USER1, "port %s: vhost-user %s on %s\n", p->cfg.name,
		p->cfg.mode == CTL_PORT_CLIENT ? "client" : "server", p->cfg.socket);
	return 0;
}

static void
port_release(struct ctl_rt *rt, struct ctl_rt_port *p)
{
	if (p->vh == NULL)
		return;
	vh_port_destroy(p->vh);
	p->vh = NULL;
	index_free(rt, p->index);
	RTE_LOG(INFO, USER1, "port %s: released\n", p->cfg.name);
}

static struct ctl_rt_port *
port_create(struct ctl_rt *rt, const struct ctl_port *cfg, char *err)
{
	struct ctl_rt_port *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		return NULL;
	}
	p->cfg = *cfg;
	p->guest_promisc = -1;
	if (port_open(rt, p, err) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

static void
port_destroy(struct ctl_rt *rt, struct ctl_rt_port *p)
{
	struct rte_mbuf *left[64];
	unsigned n;

	if (p == NULL)
		return;
	port_release(rt, p);
	/* No snapshot references the states any more: free what they still queue. */
	for (unsigned d = 0; d < DP_DIR_MAX; d++)
		for (unsigned w = 0; w < DP_MAX_WORKERS; w++) {
			if (p->shp[d][w] == NULL)
				continue;
			while ((n = shp_shape_drain(p->shp[d][w], left, RTE_DIM(left))) > 0)
				rte_pktmbuf_free_bulk(left, n);
			shp_state_destroy(p->shp[d][w]);
		}
	free(p);
}

void
ctl_rt_shaping_stats(
	const struct ctl_rt_port *p, enum dp_dir d, struct shp_stats *out, uint64_t *queued)
{
	memset(out, 0, sizeof(*out));
	*queued = 0;
	for (unsigned w = 0; w < DP_MAX_WORKERS; w++) {
		const struct shp_state *st = p->shp[d][w];

		if (st == NULL)
			continue;
		out->conform_packets += st->stats.conform_packets;
		out->conform_bytes += st->stats.conform_bytes;
		out->queued_packets += st->stats.queued_packets;
		out->queued_bytes += st->stats.queued_bytes;
		for (unsigned r = 0; r < SHP_DROP_MAX; r++)
			out->drops[r] += st->stats.drops[r];
		out->dropped_bytes += st->stats.dropped_bytes;
		*queued += shp_queue_count(st);
	}
}

/* --- compile --- */

/* A private VLAN port group's VLAN: its role in the vSwitch's map. */
static void
pvlan_compile(const struct ctl_vswitch *vs, uint16_t vid, struct vlan_port_cfg *out)
{
	struct vlan_pvlan_secondary secs[CTL_MAX_PVLAN_SECONDARIES];
	const struct ctl_pvlan *pv = ctl_vswitch_pvlan(vs, vid, NULL);

	/* The config was validated: pv exists. */
	for (unsigned i = 0; i < pv->n_secondaries; i++) {
		secs[i].vid = pv->secondaries[i].vid;
		secs[i].type = pv->secondaries[i].type == CTL_PVLAN_ISOLATED ? VLAN_PVLAN_ISOLATED
									     : VLAN_PVLAN_COMMUNITY;
	}
	vlan_port_cfg_pvlan(out, pv->primary, vid, secs, pv->n_secondaries);
}

static void
vlan_compile(const struct ctl_vswitch *vs, const struct ctl_vlan *v, struct vlan_port_cfg *out)
{
	struct vlan_range r[CTL_MAX_VLAN_RANGES];
	static const enum vlan_mode modes[] = {
		[CTL_VLAN_NONE] = VLAN_MODE_NONE,
		[CTL_VLAN_VST] = VLAN_MODE_VST,
		[CTL_VLAN_VGT] = VLAN_MODE_VGT,
		[CTL_VLAN_TRUNK] = VLAN_MODE_TRUNK,
	};

	if (v->mode == CTL_VLAN_PVLAN) {
		pvlan_compile(vs, v->vid, out);
		return;
	}
	for (unsigned i = 0; i < v->n_ranges; i++) {
		r[i].first = v->ranges[i].first;
		r[i].last = v->ranges[i].last;
	}
	/* The config was validated: this cannot fail. */
	vlan_port_cfg_init(out, modes[v->mode], v->vid, r, v->n_ranges);
}

const uint8_t *
ctl_rt_port_eff_mac(const struct ctl_rt_port *p, const struct ctl_port *cfg)
{
	return p->eff_mac_set ? p->eff_mac : cfg->mac;
}

/* A VM port's security policy, from its effective policy and reported state. */
static void
sec_compile(struct sec_port_cfg *sec, const struct pg_effective *e, const struct ctl_port *c,
	const struct ctl_rt_port *rp)
{
	static const enum pg_field storm[SEC_STORM_MAX] = {
		[SEC_STORM_BROADCAST] = PG_F_STORM_BROADCAST,
		[SEC_STORM_MULTICAST] = PG_F_STORM_MULTICAST,
		[SEC_STORM_UNKNOWN_UNICAST] = PG_F_STORM_UNKNOWN_UNICAST,
	};
	const uint8_t *eff = ctl_rt_port_eff_mac(rp, c);

	memset(sec, 0, sizeof(*sec));
	{
		struct rte_ether_addr m;

		memcpy(m.addr_bytes, eff, sizeof(m.addr_bytes));
		sec_set_eff_mac(sec, &m);
	}
	if (e->v[PG_F_FORGED_TRANSMITS] == 0)
		sec->flags |= SEC_FORGED_REJECT;
	if (e->v[PG_F_MAC_CHANGES] == 0 && memcmp(eff, c->mac, 6) != 0)
		sec->flags |= SEC_RX_BLOCKED;
	if (e->v[PG_F_PROMISCUOUS] == 1 && rp->guest_promisc != 0)
		sec->flags |= SEC_PROMISC;
	if (e->v[PG_F_MAC_LEARNING]) {
		sec->flags |= SEC_MAC_LEARNING;
		sec->mac_limit = (uint32_t)e->v[PG_F_MAC_LIMIT];
		if (e->v[PG_F_MAC_LIMIT_POLICY] == PG_LIMIT_ALLOW)
			sec->flags |= SEC_LIMIT_ALLOW;
		if (e->v[PG_F_UNKNOWN_UNICAST_FLOODING])
			sec->flags |= SEC_UNKNOWN_FLOOD;
	}
	for (unsigned k = 0; k < SEC_STORM_MAX; k++) {
		/* Validated: pps <= PG_STORM_PPS_MAX, far below the TSC rate. */
		sec_storm_cfg_init(&sec->storm[k], (uint64_t)e->v[storm[k]], rte_get_tsc_hz());
		if (sec->storm[k].cost != 0)
			sec->flags |= SEC_STORM;
	}
}

/*
 * Traffic shaping of a VM port: the profiles of both directions and, once a
 * direction is enabled, its per-worker states (kept in rp across snapshots,
 * so a rate change keeps credit, counters and queue). 0, or -EINVAL /
 * -ENOMEM with err.
 */
static int
shaping_compile(struct dp_port *p, const struct pg_effective *e, uint32_t mtu,
	struct ctl_rt_port *rp, char *err)
{
	static const struct {
		enum pg_field on, avg, peak, burst, mode;
	} f[DP_DIR_MAX] = {
		[DP_DIR_IN] = {PG_F_IN_SHAPING, PG_F_IN_AVERAGE, PG_F_IN_PEAK, PG_F_IN_BURST,
			PG_F_IN_MODE},
		[DP_DIR_OUT] = {PG_F_OUT_SHAPING, PG_F_OUT_AVERAGE, PG_F_OUT_PEAK, PG_F_OUT_BURST,
			PG_F_OUT_MODE},
	};
	const uint64_t hz = rte_get_tsc_hz();

	for (unsigned d = 0; d < DP_DIR_MAX; d++) {
		struct shp_params prm = {
			.average_bps = (uint64_t)e->v[f[d].avg],
			.peak_bps = (uint64_t)e->v[f[d].peak],
			.burst_bytes = (uint64_t)e->v[f[d].burst],
			.frame_max = mtu + DP_FRAME_OVERHEAD,
			.mode = e->v[f[d].mode] == 1 ? SHP_MODE_SHAPE : SHP_MODE_POLICE,
		};
		bool on = e->v[f[d].on] != 0;

		if (!on && rp->shp[d][0] == NULL)
			continue; /* never shaped: nothing to drain either */
		if (shp_profile_init(&p->shp[d], &prm, hz) != 0) {
			struct shp_params drain = {
				.average_bps = PG_RATE_DEFAULT,
				.peak_bps = PG_RATE_DEFAULT,
				.burst_bytes = PG_BURST_DEFAULT,
				.frame_max = mtu + DP_FRAME_OVERHEAD,
			};

			if (on) {
				snprintf(err, CTL_ERR_MAX, "port %s: shaping.%s: invalid rates",
					rp->cfg.name, d == DP_DIR_IN ? "ingress" : "egress");
				return -EINVAL;
			}
			/* Off, with values that do not make a profile: drain at the defaults. */
			shp_profile_init(&p->shp[d], &drain, hz);
		}
		for (unsigned w = 0; w < dp_n_workers(); w++) {
			if (rp->shp[d][w] != NULL)
				continue;
			rp->shp[d][w] = shp_state_create(
				SHP_QUEUE_DEFAULT, &p->shp[d], rte_rdtsc(), (int)rte_socket_id());
			if (rp->shp[d][w] == NULL) {
				snprintf(err, CTL_ERR_MAX, "out of memory");
				return -ENOMEM;
			}
		}
		memcpy(p->shp_st[d], rp->shp[d], sizeof(p->shp_st[d]));
		if (on)
			p->shp_on |= 1u << d;
	}
	return 0;
}

/*
 * The runtime objects of a config, aligned with it: vs[i] for
 * cfg->vswitches[i], up[k] for the k-th uplink in vSwitch order, pt[i] for
 * cfg->ports[i].
 */
struct resolved {
	struct ctl_rt_vswitch *vs[CTL_MAX_VSWITCHES];
	struct ctl_rt_uplink *up[MAX_UPLINKS_ALL];
	struct ctl_rt_port *pt[CTL_MAX_PORTS];
	uint8_t mirror_slot[CTL_MAX_MIRRORS]; /* cfg->mirrors[i]'s stable number */
	/* The numbers' owners and counter bases once published (mirror_slots()): */
	char mirror_name[DP_MAX_MIRRORS][CTL_NAME_MAX];
	uint64_t mirror_base[DP_MAX_MIRRORS][2];
};

/* The dataplane index of port or uplink name in cfg (resolved), or NO_PORT. */
#define NO_PORT UINT16_MAX
static uint16_t
index_of(const struct ctl_config *cfg, const struct resolved *r, const char *name)
{
	unsigned i, j, k = 0;

	for (i = 0; i < cfg->n_ports; i++)
		if (strcmp(cfg->ports[i].name, name) == 0)
			return r->pt[i]->vh != NULL ? r->pt[i]->index : NO_PORT;
	for (i = 0; i < cfg->n_vswitches; i++)
		for (j = 0; j < cfg->vswitches[i].n_uplinks; j++, k++)
			if (strcmp(cfg->vswitches[i].uplinks[j].name, name) == 0)
				return r->up[k]->eth != NULL ? r->up[k]->index : NO_PORT;
	return NO_PORT;
}

/* Mirroring sessions onto the ports of s: each source's directions get a target. */
static void
mirrors_compile(const struct ctl_config *cfg, const struct resolved *r, struct dp_snapshot *s)
{
	for (unsigned i = 0; i < cfg->n_mirrors; i++) {
		const struct ctl_mirror *m = &cfg->mirrors[i];
		uint16_t dst = index_of(cfg, r, m->dst_port[0] ? m->dst_port : m->dst_uplink);

		if (dst == NO_PORT || s->ports[dst] == NULL)
			continue; /* its destination could not be reopened */
		for (unsigned k = 0; k < m->n_sources; k++) {
			uint16_t src = index_of(cfg, r, m->sources[k].port);
			struct dp_port *p = src != NO_PORT ? s->ports[src] : NULL;

			for (unsigned d = 0; p != NULL && d < DP_DIR_MAX; d++) {
				struct dp_mirror *mir = &p->mirror[d];

				if (!(m->sources[k].dir & (1u << d)) || mir->n >= DP_MAX_MIRRORS)
					continue;
				mir->t[mir->n].port = dst;
				mir->t[mir->n].vid = m->dst_port[0] ? 0 : m->dst_vlan;
				mir->t[mir->n].session = r->mirror_slot[i];
				mir->n++;
				p->mir_on |= 1u << d;
			}
		}
	}
}

_Static_assert(CTL_MAX_MIRRORS <= DP_MAX_MIRRORS, "a number per mirroring session");

/*
 * Give each session of cfg a stable number (its counters): kept by name; a
 * new one takes a free number, its counters starting from there. Into r:
 * rt changes only when the snapshot is published (publish()).
 */
static void
mirror_slots(const struct ctl_rt *rt, const struct ctl_config *cfg, struct resolved *r)
{
	bool used[DP_MAX_MIRRORS] = {false};
	unsigned i, k;

	memset(r->mirror_name, 0, sizeof(r->mirror_name));
	memcpy(r->mirror_base, rt->mirror_base, sizeof(r->mirror_base));
	for (i = 0; i < cfg->n_mirrors; i++) {
		r->mirror_slot[i] = DP_MAX_MIRRORS;
		for (k = 0; k < DP_MAX_MIRRORS; k++)
			if (strcmp(rt->mirror_slot[k], cfg->mirrors[i].name) == 0) {
				r->mirror_slot[i] = (uint8_t)k;
				used[k] = true;
				memcpy(r->mirror_name[k], rt->mirror_slot[k], CTL_NAME_MAX);
			}
	}
	for (i = 0; i < cfg->n_mirrors; i++) {
		if (r->mirror_slot[i] != DP_MAX_MIRRORS)
			continue;
		for (k = 0; used[k]; k++) /* at most DP_MAX_MIRRORS sessions: one is free */
			;
		used[k] = true;
		r->mirror_slot[i] = (uint8_t)k;
		snprintf(r->mirror_name[k], CTL_NAME_MAX, "%s", cfg->mirrors[i].name);
		dp_mirror_stats(k, &r->mirror_base[k][0], &r->mirror_base[k][1]);
	}
}

int
ctl_rt_mirror_stats(const struct ctl_rt *rt, const char *name, uint64_t *sent, uint64_t *dropped)
{
	for (unsigned k = 0; k < DP_MAX_MIRRORS; k++)
		if (strcmp(rt->mirror_slot[k], name) == 0) {
			dp_mirror_stats(k, sent, dropped);
			*sent -= rt->mirror_base[k][0];
			*dropped -= rt->mirror_base[k][1];
			return 0;
		}
	return -ENOENT;
}

static struct dp_snapshot *
compile(const struct ctl_config *cfg, const struct resolved *r, char *err)
{
	struct dp_snapshot *s = dp_snapshot_new();
	unsigned i, j, k = 0, q, n_rxq = 0;

	if (s == NULL)
		goto nomem;
	for (i = 0; i < cfg->n_vswitches; i++) {
		const struct ctl_vswitch *vs = &cfg->vswitches[i];
		struct dp_vswitch *d = &s->vswitches[r->vs[i]->index];
		unsigned n_vm = 0;

		d->used = true;
		memcpy(d->learned, r->vs[i]->learned, sizeof(d->learned));
		for (j = 0; j < cfg->n_ports; j++)
			n_vm += strcmp(cfg->ports[j].vswitch, vs->name) == 0;
		/* A configured MAC per port, and a guest's changed MAC where accepted. */
		d->statics = fdb_create(n_vm ? 2 * n_vm : 1);
		if (d->statics == NULL)
			goto nomem;
		struct ctl_rt_uplink *slots[DP_MAX_UPLINKS] = {0};

		for (j = 0; j < DP_MAX_UPLINKS; j++)
			d->uplinks[j] = DP_NO_UPLINK;

		for (j = 0; j < vs->n_uplinks; j++) {
			struct ctl_rt_uplink *u = r->up[k++];
			struct dp_port *p;

			d->uplinks[j] = DP_NO_UPLINK;
			u->slot = (uint8_t)j;
			if (u->eth == NULL)
				continue; /* could not be reopened: see ctl_apply() */
			slots[j] = u;
			p = dp_port_new();
			if (p == NULL)
				goto nomem;
			p->index = u->index;
			p->kind = DP_PORT_UPLINK;
			p->vswitch = r->vs[i]->index;
			p->n_queues = (uint16_t)dp_n_workers(); /* one tx queue per worker */
			p->max_frame = (uint16_t)(vs->mtu + DP_FRAME_OVERHEAD);
			p->ops = &dp_ethdev_ops;
			p->priv = u->eth;
			p->up = dp_ethdev_up(u->eth);
			vlan_port_cfg_uplink(&p->vlan);
			p->cap = u->cap;
			p->uplink_slot = (uint8_t)j;
			s->ports[u->index] = p;
			d->uplinks[j] = u->index;
			if (dp_ethdev_is_bond(u->eth))
				s->kick[s->n_kick++] = u->index;
		}
		d->n_uplinks = (uint16_t)vs->n_uplinks;
		if (ctl_teams_build(r->vs[i], vs, slots, d, err) != 0) {
			dp_snapshot_free(s);
			return NULL;
		}
	}
	for (i = 0; i < cfg->n_ports; i++) {
		const struct ctl_port *c = &cfg->ports[i];
		const struct ctl_rt_port *rp = r->pt[i];
		const struct ctl_portgroup *pg;
		struct pg_effective eff;
		struct rte_ether_addr mac;
		struct dp_port *p;
		unsigned v;

		if (rp->vh == NULL)
			continue; /* could not be reopened: see ctl_apply() */
		p = dp_port_new();
		if (p == NULL)
			goto nomem;
		for (v = 0; v < cfg->n_vswitches; v++)
			if (strcmp(cfg->vswitches[v].name, c->vswitch) == 0)
				break;
		p->index = rp->index;
		p->kind = DP_PORT_VM;
		p->vswitch = r->vs[v]->index;
		p->n_queues = c->queues;
		p->max_frame = (uint16_t)(cfg->vswitches[v].mtu + DP_FRAME_OVERHEAD);
		p->ops = &vh_port_ops;
		p->priv = rp->vh;
		p->up = vh_port_up(rp->vh);
		pg = ctl_vswitch_portgroup(&cfg->vswitches[v], c->portgroup);
		vlan_compile(&cfg->vswitches[v], &pg->vlan, &p->vlan);
		pg_resolve(&cfg->vswitches[v].policy, &pg->policy, &c->policy, &eff);
		sec_compile(&p->sec, &eff, c, rp);
		ctl_teams_port(&s->vswitches[p->vswitch],
			(unsigned)(pg - cfg->vswitches[v].portgroups), p);
		p->cap = rp->cap;
		s->ports[rp->index] = p;
		if (shaping_compile(p, &eff, cfg->vswitches[v].mtu, r->pt[i], err) != 0) {
			dp_snapshot_free(s);
			return NULL;
		}
		if (p->shp_st[DP_DIR_IN][0] != NULL || p->shp_st[DP_DIR_OUT][0] != NULL)
			s->shaped[s->n_shaped++] = p->index;
		memcpy(mac.addr_bytes, c->mac, sizeof(c->mac));
		if (dp_vswitch_add_static(s, p, &mac) != 0)
			goto nomem;
	}
	/*
	 * A guest's new MAC, where MAC changes are accepted, reaches it too
	 * (once every configured MAC is in: those win).
	 */
	for (i = 0; i < cfg->n_ports; i++) {
		const struct ctl_rt_port *rp = r->pt[i];
		const struct dp_port *p = rp->vh != NULL ? s->ports[rp->index] : NULL;

		if (p == NULL || (p->sec.flags & SEC_RX_BLOCKED) ||
			memcmp(p->sec.eff_mac.addr_bytes, cfg->ports[i].mac, 6) == 0 ||
			!rte_is_unicast_ether_addr(&p->sec.eff_mac) ||
			fdb_lookup(s->vswitches[p->vswitch].statics, fdb_key(0, &p->sec.eff_mac)) !=
				FDB_MISS)
			continue;
		if (dp_vswitch_add_static(s, p, &p->sec.eff_mac) != 0)
			goto nomem;
	}
	/* Private VLAN IDs, so a drop between roles is named. */
	for (i = 0; i < cfg->n_vswitches; i++)
		for (j = 0; j < cfg->vswitches[i].n_pvlans; j++) {
			const struct ctl_pvlan *pv = &cfg->vswitches[i].pvlans[j];
			unsigned d = r->vs[i]->index;

			if (dp_vswitch_set_pvlan(s, d, pv->primary, pv->primary) != 0)
				goto nomem;
			for (q = 0; q < pv->n_secondaries; q++)
				if (dp_vswitch_set_pvlan(
					    s, d, pv->secondaries[q].vid, pv->primary) != 0)
					goto nomem;
		}
	for (i = 0; i < DP_MAX_VSWITCHES; i++)
		if (s->vswitches[i].used && dp_vswitch_build_flood(s, i) != 0)
			goto nomem;
	mirrors_compile(cfg, r, s);
	/* Spread (port, queue) pairs over the workers, in index order. */
	for (i = 0; i < DP_MAX_PORTS; i++) {
		const struct dp_port *p = s->ports[i];
		unsigned nq;

		if (p == NULL)
			continue;
		nq = p->kind == DP_PORT_UPLINK ? 1 : p->n_queues;
		for (q = 0; q < nq; q++) {
			struct dp_worker_cfg *wc = &s->workers[n_rxq++ % dp_n_workers()];

			if (wc->n_rxq == DP_MAX_RXQ) {
				snprintf(err, CTL_ERR_MAX, "too many queues for %u worker(s)",
					dp_n_workers());
				dp_snapshot_free(s);
				return NULL;
			}
			wc->rxq[wc->n_rxq].port = (uint16_t)i;
			wc->rxq[wc->n_rxq].queue = (uint16_t)q;
			wc->n_rxq++;
		}
	}
	return s;
nomem:
	dp_snapshot_free(s);
	snprintf(err, CTL_ERR_MAX, "out of memory");
	return NULL;
}

/* --- the diff --- */

static bool
uplink_same(const struct ctl_rt_uplink *u, const struct ctl_uplink *c, const char *vswitch)
{
	if (strcmp(u->cfg.name, c->name) != 0 || strcmp(u->cfg.devargs, c->devargs) != 0 ||
		strcmp(u->vswitch, vswitch) != 0 || u->cfg.n_members != c->n_members)
		return false;
	for (unsigned i = 0; i < c->n_members; i++)
		if (strcmp(u->cfg.members[i], c->members[i]) != 0)
			return false;
	return true;
}

static bool
port_same(const struct ctl_rt_port *p, const struct ctl_port *c)
{
	return strcmp(p->cfg.name, c->name) == 0 && strcmp(p->cfg.socket, c->socket) == 0 &&
		p->cfg.mode == c->mode && p->cfg.type == c->type && p->cfg.queues == c->queues;
}

/* The device name of devargs (up to the first ','). */
static bool
same_device(const char *a, const char *b)
{
	size_t la = strcspn(a, ","), lb = strcspn(b, ",");

	return la == lb && strncmp(a, b, la) == 0;
}

/* Whether two uplinks open a device in common (a bond's or a member). */
static bool
share_device(const struct ctl_uplink *a, const struct ctl_uplink *b)
{
	for (unsigned i = 0; i <= a->n_members; i++)
		for (unsigned j = 0; j <= b->n_members; j++)
			if (same_device(i == 0 ? a->devargs : a->members[i - 1],
				    j == 0 ? b->devargs : b->members[j - 1]))
				return true;
	return false;
}

/* Work list of one apply. */
struct plan {
	struct ctl_rt_vswitch *new_vs[CTL_MAX_VSWITCHES];
	unsigned n_new_vs;
	bool slot_taken[DP_MAX_VSWITCHES];
	/* Old objects not in next: */
	bool up_removed[MAX_UPLINKS_ALL];
	bool pt_removed[CTL_MAX_PORTS];
	/* New objects to create (next's uplink k / port i), and what was created: */
	bool up_create[MAX_UPLINKS_ALL];
	bool pt_create[CTL_MAX_PORTS];
	/* ...of which those that need a removal first (same device, same socket): */
	bool up_conflict[MAX_UPLINKS_ALL];
	bool pt_conflict[CTL_MAX_PORTS];
	struct ctl_rt_uplink *up_new[MAX_UPLINKS_ALL];
	struct ctl_rt_port *pt_new[CTL_MAX_PORTS];
};

/* Resolve cfg's objects among rt's (those not removed) and the plan's new ones. */
static void
resolve(const struct ctl_rt *rt, const struct plan *pl, const struct ctl_config *cfg,
	struct resolved *r)
{
	unsigned i, j, k = 0, u;

	for (i = 0; i < cfg->n_vswitches; i++) {
		const struct ctl_vswitch *vs = &cfg->vswitches[i];

		r->vs[i] = ctl_rt_vswitch(rt, vs->name);
		for (j = 0; r->vs[i] == NULL && j < pl->n_new_vs; j++)
			if (strcmp(pl->new_vs[j]->name, vs->name) == 0)
				r->vs[i] = pl->new_vs[j];
		for (j = 0; j < vs->n_uplinks; j++, k++) {
			r->up[k] = pl->up_new[k];
			for (u = 0; r->up[k] == NULL && u < rt->n_uplinks; u++)
				if (!pl->up_removed[u] &&
					strcmp(rt->uplinks[u]->cfg.name, vs->uplinks[j].name) == 0)
					r->up[k] = rt->uplinks[u];
		}
	}
	for (i = 0; i < cfg->n_ports; i++) {
		r->pt[i] = pl->pt_new[i];
		for (u = 0; r->pt[i] == NULL && u < rt->n_ports; u++)
			if (!pl->pt_removed[u] &&
				strcmp(rt->ports[u]->cfg.name, cfg->ports[i].name) == 0)
				r->pt[i] = rt->ports[u];
	}
}

/* Publish what cfg describes, resolved as above. */
static int
publish(struct ctl_rt *rt, const struct plan *pl, const struct ctl_config *cfg, char *err)
{
	struct resolved *r = calloc(1, sizeof(*r));
	struct dp_snapshot *s;

	if (r == NULL) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	resolve(rt, pl, cfg, r);
	mirror_slots(rt, cfg, r);
	s = compile(cfg, r, err);
	if (s != NULL) {
		dp_publish(s);
		memcpy(rt->mirror_slot, r->mirror_name, sizeof(rt->mirror_slot));
		memcpy(rt->mirror_base, r->mirror_base, sizeof(rt->mirror_base));
	}
	for (unsigned i = 0; i < cfg->n_vswitches; i++)
		ctl_teams_commit(r->vs[i], s != NULL);
	free(r);
	return s == NULL ? -ENOMEM : 0;
}

/* Create next's new uplinks and ports: the conflicting ones, or the others. */
static int
create_objects(struct ctl_rt *rt, struct plan *pl, const struct ctl_config *next, bool conflicts,
	char *err)
{
	unsigned i, j, k = 0;

	for (i = 0; i < next->n_vswitches; i++)
		for (j = 0; j < next->vswitches[i].n_uplinks; j++, k++) {
			if (!pl->up_create[k] || pl->up_conflict[k] != conflicts)
				continue;
			pl->up_new[k] = uplink_create(
				rt, &next->vswitches[i].uplinks[j], next->vswitches[i].name, err);
			if (pl->up_new[k] == NULL)
				return -EIO;
		}
	for (i = 0; i < next->n_ports; i++) {
		if (!pl->pt_create[i] || pl->pt_conflict[i] != conflicts)
			continue;
		pl->pt_new[i] = port_create(rt, &next->ports[i], err);
		if (pl->pt_new[i] == NULL)
			return -EIO;
	}
	return 0;
}

static void
destroy_created(struct ctl_rt *rt, struct plan *pl)
{
	unsigned i;

	for (i = 0; i < MAX_UPLINKS_ALL; i++) {
		uplink_destroy(rt, pl->up_new[i]);
		pl->up_new[i] = NULL;
	}
	for (i = 0; i < CTL_MAX_PORTS; i++) {
		port_destroy(rt, pl->pt_new[i]);
		pl->pt_new[i] = NULL;
	}
	for (i = 0; i < pl->n_new_vs; i++)
		vswitch_free(pl->new_vs[i]);
	pl->n_new_vs = 0;
}

/* Release the removed objects' resources (no snapshot may reference them any more). */
static void
release_removed(struct ctl_rt *rt, struct plan *pl)
{
	unsigned u;

	for (u = 0; u < rt->n_uplinks; u++)
		if (pl->up_removed[u]) {
			struct ctl_rt_vswitch *v = ctl_rt_vswitch(rt, rt->uplinks[u]->vswitch);

			if (v != NULL)
				fdb_flush_port(v->mirror, rt->uplinks[u]->index);
			uplink_release(rt, rt->uplinks[u]);
		}
	for (u = 0; u < rt->n_ports; u++)
		if (pl->pt_removed[u])
			port_release(rt, rt->ports[u]);
}

/* Undo release_removed(): open the removed objects again, from their config. */
static void
reopen_removed(struct ctl_rt *rt, struct plan *pl)
{
	char err[CTL_ERR_MAX];
	unsigned u;

	for (u = 0; u < rt->n_uplinks; u++)
		if (pl->up_removed[u] && rt->uplinks[u]->eth == NULL &&
			uplink_open(rt, rt->uplinks[u], err) != 0)
			RTE_LOG(ERR, USER1, "undo: %s: it stays out of service\n", err);
	for (u = 0; u < rt->n_ports; u++)
		if (pl->pt_removed[u] && rt->ports[u]->vh == NULL &&
			port_open(rt, rt->ports[u], err) != 0)
			RTE_LOG(ERR, USER1, "undo: %s: it stays out of service\n", err);
}

/* Free the removed objects for good. */
static void
free_removed(struct ctl_rt *rt, struct plan *pl)
{
	unsigned u;

	for (u = 0; u < rt->n_uplinks; u++)
		if (pl->up_removed[u]) {
			uplink_destroy(rt, rt->uplinks[u]);
			rt->uplinks[u] = NULL;
		}
	for (u = 0; u < rt->n_ports; u++)
		if (pl->pt_removed[u]) {
			port_destroy(rt, rt->ports[u]);
			rt->ports[u] = NULL;
		}
}

/* Compact rt's lists: drop NULLs, append the plan's new objects. */
static void
commit_lists(struct ctl_rt *rt, struct plan *pl)
{
	unsigned i, n = 0;

	for (i = 0; i < rt->n_uplinks; i++)
		if (rt->uplinks[i] != NULL)
			rt->uplinks[n++] = rt->uplinks[i];
	for (i = 0; i < MAX_UPLINKS_ALL; i++)
		if (pl->up_new[i] != NULL)
			rt->uplinks[n++] = pl->up_new[i];
	rt->n_uplinks = n;
	n = 0;
	for (i = 0; i < rt->n_ports; i++)
		if (rt->ports[i] != NULL)
			rt->ports[n++] = rt->ports[i];
	for (i = 0; i < CTL_MAX_PORTS; i++)
		if (pl->pt_new[i] != NULL)
			rt->ports[n++] = pl->pt_new[i];
	rt->n_ports = n;
}

int
ctl_apply(struct ctl_rt *rt, struct ctl_config *next, char *err)
{
	struct ctl_config *inter = NULL;
	bool conflicts = false, early = false;
	struct plan *pl;
	unsigned i, j, k, u;
	int ret;

	pl = calloc(1, sizeof(*pl));
	if (pl == NULL) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	/* vSwitches: new ones get an index and learned tables now. */
	for (i = 0; i < next->n_vswitches; i++) {
		if (ctl_rt_vswitch(rt, next->vswitches[i].name) != NULL)
			continue;
		pl->new_vs[pl->n_new_vs] =
			vswitch_create(rt, next->vswitches[i].name, pl->slot_taken, err);
		if (pl->new_vs[pl->n_new_vs] == NULL) {
			ret = -ENOMEM;
			goto fail;
		}
		pl->n_new_vs++;
	}
	/* Uplinks and ports: removed (old not kept), created (new not kept). */
	for (u = 0; u < rt->n_uplinks; u++) {
		struct ctl_vswitch *vs;
		struct ctl_uplink *c = ctl_config_uplink(next, rt->uplinks[u]->cfg.name, &vs);

		pl->up_removed[u] = c == NULL || !uplink_same(rt->uplinks[u], c, vs->name);
	}
	for (u = 0; u < rt->n_ports; u++) {
		struct ctl_port *c = ctl_config_port(next, rt->ports[u]->cfg.name);

		pl->pt_removed[u] = c == NULL || !port_same(rt->ports[u], c);
	}
	/* Creations, and which of them need what a removal frees. */
	k = 0;
	for (i = 0; i < next->n_vswitches; i++)
		for (j = 0; j < next->vswitches[i].n_uplinks; j++, k++) {
			const struct ctl_uplink *c = &next->vswitches[i].uplinks[j];
			struct ctl_rt_uplink *old = ctl_rt_uplink(rt, c->name);

			pl->up_create[k] =
				old == NULL || !uplink_same(old, c, next->vswitches[i].name);
			for (u = 0; pl->up_create[k] && u < rt->n_uplinks; u++)
				pl->up_conflict[k] |=
					pl->up_removed[u] && share_device(&rt->uplinks[u]->cfg, c);
			conflicts |= pl->up_conflict[k];
		}
	for (i = 0; i < next->n_ports; i++) {
		struct ctl_rt_port *old = ctl_rt_port(rt, next->ports[i].name);

		pl->pt_create[i] = old == NULL || !port_same(old, &next->ports[i]);
		for (u = 0; pl->pt_create[i] && u < rt->n_ports; u++)
			pl->pt_conflict[i] |= pl->pt_removed[u] &&
				strcmp(rt->ports[u]->cfg.socket, next->ports[i].socket) == 0;
		conflicts |= pl->pt_conflict[i];
	}

	ret = create_objects(rt, pl, next, false, err);
	if (ret != 0)
		goto fail;
	if (conflicts) {
		struct plan keep = {0};

		/* Forward with the running config less what goes, then free it early. */
		inter = ctl_config_clone(rt->cfg);
		if (inter == NULL) {
			snprintf(err, CTL_ERR_MAX, "out of memory");
			ret = -ENOMEM;
			goto fail;
		}
		for (u = 0; u < rt->n_uplinks; u++)
			if (pl->up_removed[u]) {
				struct ctl_vswitch *vs;

				ctl_config_uplink(inter, rt->uplinks[u]->cfg.name, &vs);
				ctl_vswitch_del_uplink(vs, rt->uplinks[u]->cfg.name);
			}
		for (u = 0; u < rt->n_ports; u++)
			if (pl->pt_removed[u])
				ctl_config_del_port(inter, rt->ports[u]->cfg.name);
		memcpy(keep.up_removed, pl->up_removed, sizeof(keep.up_removed));
		memcpy(keep.pt_removed, pl->pt_removed, sizeof(keep.pt_removed));
		ret = publish(rt, &keep, inter, err);
		if (ret != 0)
			goto fail;
		release_removed(rt, pl);
		early = true;
		ret = create_objects(rt, pl, next, true, err);
		if (ret != 0)
			goto fail;
	}
	ret = publish(rt, pl, next, err);
	if (ret != 0)
		goto fail;
	free_removed(rt, pl);
	/* vSwitches gone: no snapshot references their tables any more. */
	for (i = 0; i < DP_MAX_VSWITCHES; i++)
		if (rt->vswitches[i] != NULL &&
			ctl_config_vswitch(next, rt->vswitches[i]->name) == NULL) {
			vswitch_free(rt->vswitches[i]);
			rt->vswitches[i] = NULL;
		}
	for (i = 0; i < pl->n_new_vs; i++)
		rt->vswitches[pl->new_vs[i]->index] = pl->new_vs[i];
	pl->n_new_vs = 0;
	commit_lists(rt, pl);
	ctl_config_free(rt->cfg);
	rt->cfg = next;
	ret = 0;
	goto out;
fail:
	/* What was created goes first: it may hold a socket or device a removed object needs. */
	destroy_created(rt, pl);
	if (early) {
		struct plan back = {0};
		char why[CTL_ERR_MAX];

		reopen_removed(rt, pl);
		if (publish(rt, &back, rt->cfg, why) != 0)
			RTE_LOG(ERR, USER1, "undo: %s\n", why);
	}
out:
	ctl_config_free(inter);
	free(pl);
	return ret;
}

int
ctl_rt_republish(struct ctl_rt *rt, char *err)
{
	struct plan *none = calloc(1, sizeof(*none));
	int ret;

	if (none == NULL) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	ret = publish(rt, none, rt->cfg, err);
	free(none);
	return ret;
}

void
ctl_rt_free(struct ctl_rt *rt)
{
	char err[CTL_ERR_MAX];
	struct ctl_config *empty;

	if (rt == NULL)
		return;
	empty = ctl_config_new();
	if (empty == NULL || ctl_apply(rt, empty, err) != 0) {
		ctl_config_free(empty);
		RTE_LOG(ERR, USER1, "teardown: %s\n", err);
	}
	ctl_config_free(rt->cfg);
	ctl_lw_destroy(rt->lw);
	free(rt);
}

void
ctl_rt_poll(struct ctl_rt *rt)
{
	struct dp_event ev[256];
	uint64_t now = ctl_now_sec();
	unsigned n, i;

	/* Bounded: a MAC flood must not keep the control loop from its socket. */
	for (unsigned rounds = 0; rounds < 64 && (n = dp_events_drain(ev, RTE_DIM(ev))) > 0;
		rounds++)
		for (i = 0; i < n; i++) {
			struct ctl_rt_vswitch *v = ev[i].vswitch < DP_MAX_VSWITCHES
				? rt->vswitches[ev[i].vswitch]
				: NULL;
			struct rte_ether_addr mac;
			struct fdb_entry *e;
			uint64_t key;

			if (v == NULL)
				continue;
			if (ev[i].type == DP_EV_BEACON) {
				ctl_teams_beacon_rx(rt, &ev[i]);
				continue;
			}
			memcpy(mac.addr_bytes, ev[i].mac, sizeof(ev[i].mac));
			key = fdb_key(ev[i].vid, &mac);
			if (ev[i].type == DP_EV_LEARNED) {
				fdb_set(v->mirror, key, ev[i].port,
					(uint32_t)(now - rt->start_sec));
			} else if (ev[i].type == DP_EV_AGED) {
				e = fdb_find(v->mirror, key);
				if (e != NULL && e->port == ev[i].port)
					fdb_del(v->mirror, key);
			}
		}
	/* Links (the kernel's carrier, DPDK's link), beacons, failover. */
	ctl_teams_poll(rt);
}

int
ctl_rt_poll_timeout_ms(const struct ctl_rt *rt)
{
	/* With uplinks, teaming's clock: failover within its 100 ms budget. */
	return rt->n_uplinks > 0 ? CTL_TEAMS_POLL_MS : 100;
}
