/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NIC teaming, control side: one team state per port group (teaming/'s
 * failover and beacon machines), fed by the uplinks' links (the kernel's
 * carrier through control/linkwatch for af_packet/af_xdp/tap uplinks,
 * DPDK's link for the others) and by the beacons workers report, compiled
 * into the snapshot's struct team the packet path selects uplinks with.
 * Frames control sends (beacons, RARPs for notify switches) go through
 * dp_inject(). Main lcore only.
 */
#ifndef PORTICO_CONTROL_TEAMS_H
#define PORTICO_CONTROL_TEAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "control/config.h"
#include "dataplane/dp.h"
#include "teaming/teaming.h"

struct ctl_rt;
struct ctl_rt_uplink;
struct ctl_rt_vswitch;

/* The team of one port group. */
struct ctl_rt_team {
	char pg[CTL_NAME_MAX]; /* its port group */
	struct team_policy pol; /* the resolved policy the state was built with */
	uint8_t n_vlans; /* entries in vlans */
	uint16_t vlans[TEAM_BEACON_MAX_VLANS]; /* VLANs beacons probe */
	uint16_t rarp_vid; /* the VLAN a RARP for its VMs carries on the uplink */
	struct rte_ether_addr macs[TEAM_MAX_UPLINKS]; /* uplink MACs it was built with */
	struct team_state ts; /* failover and beacon state */
	struct team compiled; /* what the last snapshot carries */
	uint32_t seq; /* next beacon sequence number */
	uint64_t count[TEAM_EV_MAX_TYPE]; /* events, by type */
	uint64_t beacons_sent; /* beacons handed to the dataplane */
	uint64_t beacons_rx; /* beacons received for this team */
	uint64_t rarps_sent; /* notify-switches frames sent */
};

/*
 * The teams of vSwitch vs (runtime rv) for a new snapshot: a port group
 * whose resolved policy, VLAN and uplinks did not change keeps its state
 * (failover history, beacons); the others get a new one. ups[slot] is the
 * runtime uplink at each position of vs's uplink list (NULL: not open).
 * Fills d->teams (one per port group, in vs's order) and stages the new
 * states in rv: ctl_teams_commit() once the snapshot is published (or
 * not). 0 or -ENOMEM / -EINVAL with err.
 */
int ctl_teams_build(struct ctl_rt_vswitch *rv, const struct ctl_vswitch *vs,
	struct ctl_rt_uplink *const *ups, struct dp_vswitch *d, char *err);

/*
 * After a compile: make the staged teams the running ones (published true)
 * or drop them (the snapshot was not published). NULL is a no-op.
 */
void ctl_teams_commit(struct ctl_rt_vswitch *rv, bool published);

/* Give VM port p (port group pg_index of the vSwitch) its team in d. */
void ctl_teams_port(const struct dp_vswitch *d, unsigned pg_index, struct dp_port *p);

/* An uplink was opened / is being closed: watch its kernel interface or not. */
void ctl_teams_uplink_open(struct ctl_rt *rt, struct ctl_rt_uplink *u);
void ctl_teams_uplink_close(struct ctl_rt *rt, struct ctl_rt_uplink *u);

/* A worker saw a beacon (DP_EV_BEACON). */
void ctl_teams_beacon_rx(struct ctl_rt *rt, const struct dp_event *ev);

/*
 * Links, beacon rounds, failover: every main-loop round (at most
 * CTL_TEAMS_POLL_MS apart). Republishes when a team changed and sends the
 * RARPs notify switches asks for.
 */
void ctl_teams_poll(struct ctl_rt *rt);
#define CTL_TEAMS_POLL_MS 10

/* The team of port group pg on vSwitch rv, NULL when none. */
const struct ctl_rt_team *ctl_teams_find(const struct ctl_rt_vswitch *rv, const char *pg);

#endif /* PORTICO_CONTROL_TEAMS_H */
