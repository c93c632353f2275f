/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NIC teaming, control side (see teams.h). Clocks are in milliseconds
 * (ctl_now_ms()); the team states run with hz = 1000.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "control/apply.h"
#include "control/teams.h"
#include "dataplane/ethdev.h"

#define TEAMS_HZ 1000 /* the team states' clock: ms */

/* The VLAN a port group's beacons probe and its RARPs carry (0: untagged). */
static uint16_t
pg_vid(const struct ctl_portgroup *pg)
{
	switch (pg->vlan.mode) {
	case CTL_VLAN_VST:
	case CTL_VLAN_PVLAN:
		return pg->vlan.vid;
	default:
		return 0; /* EST; guest tagging (the guest's VLANs are its own) */
	}
}

/* The position of uplink name in vs's list, or TEAM_NONE. */
static uint8_t
slot_of(const struct ctl_vswitch *vs, const char *name)
{
	for (unsigned j = 0; j < vs->n_uplinks; j++)
		if (strcmp(vs->uplinks[j].name, name) == 0)
			return (uint8_t)j;
	return TEAM_NONE;
}

/* A port group's resolved teaming policy (config validated: names exist). */
static void
resolve(const struct ctl_vswitch *vs, const struct ctl_portgroup *pg, struct team_policy *pol)
{
	const struct pg_uplink_order *o = pg->policy.order.set ? &pg->policy.order
		: vs->policy.order.set			       ? &vs->policy.order
							       : NULL;
	struct pg_effective e;

	memset(pol, 0, sizeof(*pol));
	pg_resolve(&vs->policy, &pg->policy, NULL, &e);
	pol->lb = (uint8_t)e.v[PG_F_LOAD_BALANCING];
	pol->detect = (uint8_t)e.v[PG_F_FAILURE_DETECTION];
	pol->notify_switches = e.v[PG_F_NOTIFY_SWITCHES] != 0;
	pol->failback = e.v[PG_F_FAILBACK] != 0;
	if (o == NULL) {
		/* vSphere's default: every uplink active, in the vSwitch's order. */
		for (unsigned j = 0; j < vs->n_uplinks && j < TEAM_MAX_UPLINKS; j++)
			pol->active[pol->n_active++] = (uint8_t)j;
		return;
	}
	for (unsigned i = 0; i < o->n_active; i++)
		pol->active[pol->n_active++] = slot_of(vs, o->active[i]);
	for (unsigned i = 0; i < o->n_standby; i++)
		pol->standby[pol->n_standby++] = slot_of(vs, o->standby[i]);
}

/* Log and count a team's events; true when the compiled team may have changed. */
static bool
report(struct ctl_rt_team *t, const char *vswitch, struct ctl_rt_uplink *const *slots,
	const struct team_events *ev)
{
	for (unsigned i = 0; i < ev->n; i++) {
		const struct team_event *e = &ev->ev[i];
		const char *up = e->uplink < TEAM_MAX_UPLINKS && slots[e->uplink] != NULL
			? slots[e->uplink]->cfg.name
			: "-";
		const char *from = e->from < TEAM_MAX_UPLINKS && slots[e->from] != NULL
			? slots[e->from]->cfg.name
			: "none";
		const char *to = e->to < TEAM_MAX_UPLINKS && slots[e->to] != NULL
			? slots[e->to]->cfg.name
			: "none";

		if (e->type < TEAM_EV_MAX_TYPE)
			t->count[e->type]++;
		switch (e->type) {
		case TEAM_EV_UPLINK_DOWN:
			RTE_LOG(NOTICE, USER1, "teaming %s/%s: uplink %s down (%s)\n", vswitch,
				t->pg, up, e->reason == TEAM_REASON_BEACON ? "beacons" : "link");
			break;
		case TEAM_EV_UPLINK_UP:
			RTE_LOG(NOTICE, USER1, "teaming %s/%s: uplink %s up\n", vswitch, t->pg, up);
			break;
		case TEAM_EV_FAILOVER:
		case TEAM_EV_FAILBACK:
			RTE_LOG(NOTICE, USER1, "teaming %s/%s: %s of slot %u: %s -> %s\n", vswitch,
				t->pg, team_event_name(e->type), e->slot, from, to);
			break;
		default:
			RTE_LOG(NOTICE, USER1, "teaming %s/%s: %s\n", vswitch, t->pg,
				team_event_name(e->type));
		}
	}
	if (ev->lost > 0)
		RTE_LOG(WARNING, USER1, "teaming %s/%s: %u events not reported\n", vswitch, t->pg,
			ev->lost);
	return ev->n > 0 || ev->lost > 0;
}

int
ctl_teams_build(struct ctl_rt_vswitch *rv, const struct ctl_vswitch *vs,
	struct ctl_rt_uplink *const *ups, struct dp_vswitch *d, char *err)
{
	struct ctl_rt_team *teams = NULL;
	struct rte_ether_addr macs[TEAM_MAX_UPLINKS];
	uint32_t link = 0;
	uint64_t now = ctl_now_ms();
	unsigned i, j;

	memset(macs, 0, sizeof(macs));
	for (j = 0; j < vs->n_uplinks && j < TEAM_MAX_UPLINKS; j++) {
		if (ups[j] == NULL)
			continue;
		dp_ethdev_mac(ups[j]->eth, &macs[j]);
		if (ups[j]->carrier)
			link |= UINT32_C(1) << j;
	}
	if (vs->n_portgroups > 0) {
		teams = calloc(vs->n_portgroups, sizeof(*teams));
		d->teams = calloc(vs->n_portgroups, sizeof(*d->teams));
		if (teams == NULL || d->teams == NULL) {
			free(teams);
			snprintf(err, CTL_ERR_MAX, "out of memory");
			return -ENOMEM;
		}
	}
	for (i = 0; i < vs->n_portgroups; i++) {
		const struct ctl_portgroup *pg = &vs->portgroups[i];
		struct ctl_rt_team *t = &teams[i];
		const struct ctl_rt_team *old = ctl_teams_find(rv, pg->name);

		snprintf(t->pg, sizeof(t->pg), "%s", pg->name);
		resolve(vs, pg, &t->pol);
		t->n_vlans = 1;
		t->vlans[0] = pg_vid(pg);
		t->rarp_vid = pg_vid(pg);
		memcpy(t->macs, macs, sizeof(macs));
		if (old != NULL && memcmp(&old->pol, &t->pol, sizeof(t->pol)) == 0 &&
			old->vlans[0] == t->vlans[0] &&
			memcmp(old->macs, macs, sizeof(macs)) == 0) {
			/* Same team: keep its history; the link may have moved meanwhile. */
			struct team_events ev = {0};

			*t = *old;
			for (j = 0; j < vs->n_uplinks && j < TEAM_MAX_UPLINKS; j++)
				if (((t->ts.link >> j) & 1) != ((link >> j) & 1))
					team_state_link(&t->ts, j, (link >> j) & 1, now, &ev);
			report(t, vs->name, ups, &ev);
		} else if (team_state_init(&t->ts, &t->pol, macs, t->vlans, t->n_vlans, link,
				   TEAMS_HZ, now) != 0) {
			snprintf(err, CTL_ERR_MAX, "port group \"%s\": invalid teaming", pg->name);
			free(teams);
			return -EINVAL;
		}
		team_state_compile(&t->ts, &t->compiled);
		d->teams[i] = t->compiled;
	}
	d->n_teams = (uint16_t)vs->n_portgroups;
	/* Staged: the running teams change only once the snapshot is published. */
	free(rv->staged);
	rv->staged = teams;
	rv->n_staged = vs->n_portgroups;
	rv->has_staged = true;
	for (j = 0; j < DP_MAX_UPLINKS; j++)
		rv->staged_slots[j] = j < vs->n_uplinks ? ups[j] : NULL;
	return 0;
}

void
ctl_teams_commit(struct ctl_rt_vswitch *rv, bool published)
{
	if (rv == NULL || !rv->has_staged)
		return;
	if (published) {
		free(rv->teams);
		rv->teams = rv->staged;
		rv->n_teams = rv->n_staged;
		memcpy(rv->slots, rv->staged_slots, sizeof(rv->slots));
	} else {
		free(rv->staged);
	}
	rv->staged = NULL;
	rv->n_staged = 0;
	rv->has_staged = false;
}

void
ctl_teams_port(const struct dp_vswitch *d, unsigned pg_index, struct dp_port *p)
{
	const struct team *t = pg_index < d->n_teams ? &d->teams[pg_index] : NULL;

	p->team = t;
	if (t == NULL) {
		p->team_members = 0;
		p->team_rx = TEAM_NONE;
		return;
	}
	p->team_members = t->members;
	p->team_rx = t->lb == TEAM_LB_IP_HASH || t->shotgun != 0
		? DP_TEAM_RX_ANY
		: team_port_uplink(t, p->index, &p->sec.eff_mac);
}

const struct ctl_rt_team *
ctl_teams_find(const struct ctl_rt_vswitch *rv, const char *pg)
{
	for (unsigned i = 0; rv != NULL && i < rv->n_teams; i++)
		if (strcmp(rv->teams[i].pg, pg) == 0)
			return &rv->teams[i];
	return NULL;
}

/* The vSwitch runtime an uplink belongs to. */
static struct ctl_rt_vswitch *
vswitch_of(struct ctl_rt *rt, const struct ctl_rt_uplink *u)
{
	return ctl_rt_vswitch(rt, u->vswitch);
}

/* Uplink u's link is now up or down: tell its vSwitch's teams. */
static void
link_changed(struct ctl_rt *rt, struct ctl_rt_uplink *u, bool up)
{
	struct ctl_rt_vswitch *rv = vswitch_of(rt, u);
	uint64_t now = ctl_now_ms();

	if (u->carrier == up)
		return;
	u->carrier = up;
	if (up)
		u->link_ups++;
	else
		u->link_downs++;
	RTE_LOG(NOTICE, USER1, "uplink %s: link %s\n", u->cfg.name, up ? "up" : "down");
	if (u->eth != NULL && u->iface[0] != '\0')
		dp_ethdev_set_up(u->eth, up);
	if (rv == NULL || rv->slots[u->slot] != u)
		return; /* not compiled yet: the next compile reads u->carrier */
	for (unsigned i = 0; i < rv->n_teams; i++) {
		struct team_events ev = {0};

		team_state_link(&rv->teams[i].ts, u->slot, up, now, &ev);
		rt->republish |= report(&rv->teams[i], rv->name, rv->slots, &ev);
	}
}

/* A bond uplink's members on iface follow its carrier; said when they move. */
static void
bond_member_link(struct ctl_rt_uplink *u, const char *iface, bool up)
{
	int ret = dp_ethdev_member_set_link(u->eth, iface, up);

	if (ret > 0)
		RTE_LOG(NOTICE, USER1, "uplink %s: member on %s %s\n", u->cfg.name, iface,
			up ? "carrier up: back in the bond" : "carrier down: out of the bond");
	else if (ret < 0)
		RTE_LOG(ERR, USER1, "uplink %s: member on %s: cannot %s the bond: %s\n",
			u->cfg.name, iface, up ? "put it back in" : "take it out of",
			rte_strerror(-ret));
}

/* linkwatch's callback: carrier of a watched interface changed. */
static void
lw_changed(void *arg, const char *ifname, bool up)
{
	struct ctl_rt *rt = arg;

	for (unsigned i = 0; i < rt->n_uplinks; i++) {
		struct ctl_rt_uplink *u = rt->uplinks[i];

		if (u == NULL)
			continue;
		if (strcmp(u->iface, ifname) == 0)
			link_changed(rt, u, up);
		else if (u->eth != NULL && dp_ethdev_is_bond(u->eth))
			bond_member_link(u, ifname, up);
	}
}

/* Create the watcher on first use: false if there is none. */
static bool
lw_ready(struct ctl_rt *rt)
{
	if (rt->lw == NULL) {
		rt->lw = ctl_lw_new(lw_changed, rt);
		if (rt->lw == NULL)
			RTE_LOG(WARNING, USER1,
				"link watcher: %s: kernel uplinks keep DPDK's link status\n",
				strerror(errno));
	}
	return rt->lw != NULL;
}

/* A bond's members on kernel interfaces take the kernel's carrier, now and on changes. */
static void
bond_members_watch(struct ctl_rt *rt, struct ctl_rt_uplink *u)
{
	for (unsigned i = 0; i < DP_ETHDEV_MAX_MEMBERS; i++) {
		const char *iface = dp_ethdev_member_iface(u->eth, i);
		int ret, c;

		if (iface == NULL)
			continue;
		if (!lw_ready(rt))
			return;
		ret = ctl_lw_watch(rt->lw, iface);
		if (ret != 0 && ret != -EEXIST)
			continue;
		c = ctl_lw_carrier(rt->lw, iface);
		if (c >= 0)
			bond_member_link(u, iface, c == 1);
	}
}

void
ctl_teams_uplink_open(struct ctl_rt *rt, struct ctl_rt_uplink *u)
{
	int c;

	u->iface[0] = '\0';
	if (!dp_ethdev_kernel_iface(u->cfg.devargs, u->iface, sizeof(u->iface))) {
		if (dp_ethdev_is_bond(u->eth))
			bond_members_watch(rt, u);
		u->carrier = dp_ethdev_poll_link(u->eth);
		return;
	}
	c = -ENOENT;
	if (lw_ready(rt)) {
		int ret = ctl_lw_watch(rt->lw, u->iface);

		if (ret == 0 || ret == -EEXIST)
			c = ctl_lw_carrier(rt->lw, u->iface);
	}
	if (c < 0) {
		/* No watcher: DPDK's link it is. */
		u->iface[0] = '\0';
		u->carrier = dp_ethdev_poll_link(u->eth);
		return;
	}
	u->carrier = c == 1;
	dp_ethdev_set_up(u->eth, u->carrier);
}

/* Does an open uplink other than u watch iface (as its own, or a bond member's)? */
static bool
iface_watched(const struct ctl_rt *rt, const struct ctl_rt_uplink *u, const char *iface)
{
	for (unsigned i = 0; i < rt->n_uplinks; i++) {
		const struct ctl_rt_uplink *o = rt->uplinks[i];

		if (o == NULL || o == u || o->eth == NULL)
			continue;
		if (strcmp(o->iface, iface) == 0)
			return true;
		for (unsigned m = 0; m < DP_ETHDEV_MAX_MEMBERS; m++) {
			const char *mi = dp_ethdev_member_iface(o->eth, m);

			if (mi != NULL && strcmp(mi, iface) == 0)
				return true;
		}
	}
	return false;
}

void
ctl_teams_uplink_close(struct ctl_rt *rt, struct ctl_rt_uplink *u)
{
	if (rt->lw == NULL)
		return;
	if (u->iface[0] != '\0' && !iface_watched(rt, u, u->iface))
		ctl_lw_unwatch(rt->lw, u->iface);
	for (unsigned m = 0; u->eth != NULL && m < DP_ETHDEV_MAX_MEMBERS; m++) {
		const char *mi = dp_ethdev_member_iface(u->eth, m);

		if (mi != NULL && !iface_watched(rt, u, mi))
			ctl_lw_unwatch(rt->lw, mi);
	}
}

void
ctl_teams_beacon_rx(struct ctl_rt *rt, const struct dp_event *ev)
{
	struct ctl_rt_vswitch *rv =
		ev->vswitch < DP_MAX_VSWITCHES ? rt->vswitches[ev->vswitch] : NULL;
	struct rte_ether_addr from;
	uint64_t now = ctl_now_ms();
	unsigned slot;

	if (rv == NULL)
		return;
	for (slot = 0; slot < DP_MAX_UPLINKS; slot++)
		if (rv->slots[slot] != NULL && rv->slots[slot]->index == ev->port)
			break;
	if (slot == DP_MAX_UPLINKS)
		return;
	memcpy(from.addr_bytes, ev->mac, sizeof(ev->mac));
	for (unsigned i = 0; i < rv->n_teams; i++) {
		struct ctl_rt_team *t = &rv->teams[i];
		struct team_events tev = {0};

		if (!t->ts.probing || !((t->ts.members >> slot) & 1))
			continue;
		if (team_state_beacon_rx(&t->ts, slot, &from, ev->vid, now, &tev) == 0)
			t->beacons_rx++;
		rt->republish |= report(t, rv->name, rv->slots, &tev);
	}
}

/* Send a round of beacons for team t: one per VLAN out of each member with link. */
static void
send_beacons(struct ctl_rt_vswitch *rv, struct ctl_rt_team *t)
{
	for (unsigned u = 0; u < TEAM_MAX_UPLINKS; u++) {
		const struct ctl_rt_uplink *up = rv->slots[u];

		if (up == NULL || up->eth == NULL || !up->carrier || !((t->ts.members >> u) & 1))
			continue;
		for (unsigned v = 0; v < t->n_vlans; v++) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(dp_mempool());

			if (m == NULL)
				return;
			if (team_beacon_build_mbuf(m, &t->macs[u], t->vlans[v], t->seq) != 0) {
				rte_pktmbuf_free(m);
				continue;
			}
			if (dp_inject(up->index, m) == 0)
				t->beacons_sent++;
		}
	}
	t->seq++;
}

/* One RARP for mac on VLAN vid out of uplink slot u of rv. */
static void
send_rarp(struct ctl_rt_vswitch *rv, struct ctl_rt_team *t, unsigned u,
	const struct rte_ether_addr *mac)
{
	struct rte_mbuf *m;

	if (u >= DP_MAX_UPLINKS || rv->slots[u] == NULL || rv->slots[u]->eth == NULL)
		return;
	m = rte_pktmbuf_alloc(dp_mempool());
	if (m == NULL)
		return;
	if (team_rarp_build_mbuf(m, mac, t->rarp_vid) != 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (dp_inject(rv->slots[u]->index, m) == 0)
		t->rarps_sent++;
}

/*
 * Notify switches: for each VM port whose uplink moved between the teams
 * in old (the snapshot before) and the ones now compiled, or whose guest
 * (re)connected, a RARP out of its uplink now.
 */
static void
notify(struct ctl_rt *rt, struct ctl_rt_team *const *old_by_vs)
{
	const struct ctl_config *cfg = rt->cfg;

	for (unsigned i = 0; i < cfg->n_ports; i++) {
		const struct ctl_port *c = &cfg->ports[i];
		struct ctl_rt_port *rp = ctl_rt_port(rt, c->name);
		struct ctl_rt_vswitch *rv = ctl_rt_vswitch(rt, c->vswitch);
		const struct dp_snapshot *s = dp_current();
		const struct dp_port *p;
		struct ctl_rt_team *t;
		const struct ctl_rt_team *o = NULL;
		uint8_t now_u, was_u;
		uint64_t conn;

		if (rp == NULL || rv == NULL || rp->vh == NULL || rp->index >= DP_MAX_PORTS)
			continue;
		p = s->ports[rp->index];
		t = (struct ctl_rt_team *)ctl_teams_find(rv, c->portgroup);
		if (p == NULL || t == NULL || !t->pol.notify_switches)
			continue;
		now_u = team_port_uplink(&t->compiled, rp->index, &p->sec.eff_mac);
		conn = vh_port_connected(rp->vh) ? vh_port_connects(rp->vh) : rp->connects_seen;
		if (old_by_vs != NULL && old_by_vs[rv->index] != NULL)
			for (unsigned k = 0; k < rv->n_teams; k++)
				if (strcmp(old_by_vs[rv->index][k].pg, t->pg) == 0)
					o = &old_by_vs[rv->index][k];
		was_u = o != NULL ? team_port_uplink(&o->compiled, rp->index, &p->sec.eff_mac)
				  : now_u;
		if ((now_u != was_u || conn != rp->connects_seen) && now_u != TEAM_NONE) {
			/* In shotgun mode the frame goes out of every uplink of the set. */
			if (t->compiled.shotgun != 0) {
				for (uint32_t set = t->compiled.shotgun; set != 0; set &= set - 1)
					send_rarp(rv, t, (unsigned)__builtin_ctz(set),
						&p->sec.eff_mac);
			} else {
				send_rarp(rv, t, now_u, &p->sec.eff_mac);
			}
		}
		rp->connects_seen = conn;
	}
}

void
ctl_teams_poll(struct ctl_rt *rt)
{
	static uint64_t last_dpdk_link;
	struct ctl_rt_team *old[DP_MAX_VSWITCHES] = {0};
	uint64_t now = ctl_now_ms();
	char err[CTL_ERR_MAX];
	unsigned v, i;

	if (rt->lw != NULL)
		ctl_lw_process(rt->lw);
	/*
	 * DPDK's link, for uplinks without a kernel interface: read when the
	 * PMD's interrupt says it changed (and once a second in case one was
	 * missed), or every round for PMDs without link interrupts.
	 */
	{
		bool slow = now - last_dpdk_link >= 1000;

		if (slow)
			last_dpdk_link = now;
		for (i = 0; i < rt->n_uplinks; i++) {
			struct ctl_rt_uplink *u = rt->uplinks[i];

			if (u == NULL || u->eth == NULL || u->iface[0] != '\0')
				continue;
			if (!dp_ethdev_has_lsc(u->eth) || dp_ethdev_lsc_pending(u->eth) || slow)
				link_changed(rt, u, dp_ethdev_poll_link(u->eth));
		}
	}
	for (v = 0; v < DP_MAX_VSWITCHES; v++) {
		struct ctl_rt_vswitch *rv = rt->vswitches[v];

		for (i = 0; rv != NULL && i < rv->n_teams; i++) {
			struct ctl_rt_team *t = &rv->teams[i];
			struct team_events ev = {0};

			team_state_tick(&t->ts, now, &ev);
			if (team_state_beacon_due(&t->ts, now, &ev))
				send_beacons(rv, t);
			rt->republish |= report(t, rv->name, rv->slots, &ev);
		}
	}
	if (!rt->republish) {
		static uint64_t last_connect_scan;

		/* Guests that (re)connected: a scan of every port, once a second. */
		if (now - last_connect_scan >= 1000) {
			last_connect_scan = now;
			notify(rt, NULL);
		}
		return;
	}
	/* Keep the teams as published, to tell whose uplink moves. */
	for (v = 0; v < DP_MAX_VSWITCHES; v++) {
		struct ctl_rt_vswitch *rv = rt->vswitches[v];

		if (rv == NULL || rv->n_teams == 0)
			continue;
		old[v] = malloc(rv->n_teams * sizeof(*old[v]));
		if (old[v] != NULL)
			memcpy(old[v], rv->teams, rv->n_teams * sizeof(*old[v]));
	}
	if (ctl_rt_republish(rt, err) != 0) {
		RTE_LOG(ERR, USER1, "teaming: cannot publish: %s (retrying)\n", err);
	} else {
		rt->republish = false;
		notify(rt, old);
	}
	for (v = 0; v < DP_MAX_VSWITCHES; v++)
		free(old[v]);
}
