/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Uplinks: a DPDK ethdev opened from devargs (a PCI NIC, or net_af_packet,
 * net_af_xdp, net_tap, net_pcap, net_vhost ... here), as a dataplane port.
 * Open/close and link polling run on the main lcore; rx/tx on workers.
 */
#ifndef PORTICO_DATAPLANE_ETHDEV_H
#define PORTICO_DATAPLANE_ETHDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

#include "dataplane/dp.h"

struct dp_ethdev;

extern const struct dp_port_ops dp_ethdev_ops;

#define DP_ETHDEV_MAX_MEMBERS 8
/* A bond's devargs with ",slave=NAME" for each member. */
#define DP_ETHDEV_BOND_DEVARGS_MAX (256 + DP_ETHDEV_MAX_MEMBERS * (7 + 64))

/*
 * Probe devargs (hotplug), configure one rx queue and n_txq tx queues,
 * start it in promiscuous mode. A net_bonding device takes members
 * (devargs each), probed first and given to it as its slaves; other
 * devices take none. NULL with errno and a reason in err (256 bytes) on
 * failure; nothing is left behind.
 */
struct dp_ethdev *dp_ethdev_open(const char *devargs, const char *const *members,
	unsigned n_members, unsigned n_txq, struct rte_mempool *mp, char *err);
/*
 * Stop, close and remove the device (a bond's members after it), and free
 * e. 0, or -errno when the driver kept the device. NULL is a no-op.
 */
int dp_ethdev_close(struct dp_ethdev *e);

uint16_t dp_ethdev_port_id(const struct dp_ethdev *e);

/* A bond's member as uplink.list shows it. */
struct dp_bond_member {
	char name[64]; /* its device name */
	bool in_bond; /* false while out for carrier loss (dp_ethdev_member_set_link()) */
	bool link_up; /* its own link, as its PMD reports it */
	bool active; /* the bond uses it (in LACP: its aggregator is selected) */
	bool lacp; /* mode 4: the states below are read */
	uint8_t actor_state, partner_state; /* LACP state bits (STATE_* of 802.1AX) */
	uint8_t partner_system[6]; /* the partner's system ID (its MAC) */
};

bool dp_ethdev_is_bond(const struct dp_ethdev *e);
/* A bond's member i's kernel interface, or NULL (none, or no such member). */
const char *dp_ethdev_member_iface(const struct dp_ethdev *e, unsigned i);
/*
 * The kernel says iface's carrier is up or down: the bond's members on it
 * leave the bond or come back to it (PMDs such as af_packet keep their link
 * up whatever the carrier). Waits for the workers (dp_synchronize()). How
 * many members moved (0: none on iface, or already so), or -errno from the
 * bonding PMD. Main lcore.
 */
int dp_ethdev_member_set_link(struct dp_ethdev *e, const char *iface, bool up);
/* A bond's members into out (at most max): how many; 0 for other devices. Main lcore. */
int dp_ethdev_bond_info(const struct dp_ethdev *e, struct dp_bond_member *out, unsigned max);
void dp_ethdev_mac(const struct dp_ethdev *e, struct rte_ether_addr *mac);
/* The flag workers read: non-zero while the link is up. */
const volatile uint8_t *dp_ethdev_up(const struct dp_ethdev *e);
/* Read the link state into the flag; returns it (1 up). Main lcore. */
int dp_ethdev_poll_link(struct dp_ethdev *e);
/*
 * Set what workers see of the link, for uplinks whose link control learns
 * elsewhere (the kernel's carrier, see dp_ethdev_kernel_iface()). Main lcore.
 */
void dp_ethdev_set_up(struct dp_ethdev *e, bool up);
/*
 * Does the PMD report link changes by interrupt (RTE_ETH_DEV_INTR_LSC)?
 * Then lsc_pending() says (once) that one happened since the last call and
 * the link should be read. Main lcore.
 */
bool dp_ethdev_has_lsc(const struct dp_ethdev *e);
bool dp_ethdev_lsc_pending(struct dp_ethdev *e);
/*
 * The kernel interface behind devargs, for the PMDs that drive one
 * (net_af_packet, net_af_xdp: iface=; net_tap: iface=, the TAP it makes),
 * into buf; false for the others (their link is DPDK's).
 */
bool dp_ethdev_kernel_iface(const char *devargs, char *buf, size_t size);

#endif /* PORTICO_DATAPLANE_ETHDEV_H */
