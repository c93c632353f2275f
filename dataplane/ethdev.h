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

/*
 * Probe devargs (hotplug), configure one rx queue and n_txq tx queues,
 * start it in promiscuous mode. NULL with errno and a reason in err (256
 * bytes) on failure; nothing is left behind.
 */
struct dp_ethdev *dp_ethdev_open(
	const char *devargs, unsigned n_txq, struct rte_mempool *mp, char *err);
/* Stop, close and remove the device. NULL is a no-op. */
void dp_ethdev_close(struct dp_ethdev *e);

uint16_t dp_ethdev_port_id(const struct dp_ethdev *e);
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
