/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Uplinks as DPDK ethdevs. Each worker owns one tx queue (its index), so
 * no tx queue is shared; rx queue 0 is polled by the worker control assigns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_eth_bond.h>
#include <rte_eth_bond_8023ad.h>
#include <rte_ethdev.h>

#include "dataplane/ethdev.h"

#define RX_DESC 1024
#define TX_DESC 1024

struct dp_ethdev {
	uint16_t port_id; /* ethdev port */
	bool bond; /* a net_bonding device over members[] */
	volatile uint8_t up; /* link up, as last polled */
	bool lsc; /* the PMD reports link changes by interrupt */
	volatile uint8_t lsc_pending; /* set by the interrupt thread, cleared by control */
	struct rte_device *dev; /* the probed device, for removal */
	char name[RTE_ETH_NAME_MAX_LEN]; /* device name: devargs up to the first ',' */
	unsigned n_members; /* a bond's devices, probed before it and removed after it */
	struct dp_ethdev_member {
		uint16_t port_id;
		char name[RTE_ETH_NAME_MAX_LEN];
		char iface[32]; /* its kernel interface (af_packet, af_xdp, tap), or "" */
		bool out; /* taken out of the bond while its carrier is down */
	} members[DP_ETHDEV_MAX_MEMBERS];
};

/* The device name of devargs (up to the first ','), into name; false if none or too long. */
static bool
devname(const char *devargs, char name[RTE_ETH_NAME_MAX_LEN])
{
	size_t len = strcspn(devargs, ",");

	if (len == 0 || len >= RTE_ETH_NAME_MAX_LEN)
		return false;
	memcpy(name, devargs, len);
	name[len] = '\0';
	return true;
}

/* Remove a device probed by name, whatever its bus. */
static void
remove_by_name(const char *name)
{
	uint16_t port;
	struct rte_eth_dev_info info;

	if (rte_eth_dev_get_port_by_name(name, &port) == 0 &&
		rte_eth_dev_info_get(port, &info) == 0 && info.device != NULL) {
		rte_eth_dev_stop(port);
		rte_dev_remove(info.device);
	}
}

/*
 * Before a bond is removed: its driver refuses to go while it has slaves
 * (-EBUSY, and the device stays), so they are taken from it first.
 */
static void
bond_let_go(struct dp_ethdev *e)
{
	if (!e->bond)
		return;
	rte_eth_dev_stop(e->port_id);
	for (unsigned i = 0; i < e->n_members; i++)
		if (!e->members[i].out &&
			rte_eth_bond_slave_remove(e->port_id, e->members[i].port_id) == 0)
			e->members[i].out = true;
}

/* rte_dev_remove(), a bond's slaves taken from it first: 0 or -errno (the device stays). */
static int
dev_remove(struct dp_ethdev *e)
{
	bond_let_go(e);
	return rte_dev_remove(e->dev);
}

static void
members_remove(struct dp_ethdev *e)
{
	while (e->n_members > 0)
		remove_by_name(e->members[--e->n_members].name);
}

/*
 * Probe a bond's members, and write the bond's devargs with them as its
 * slaves into out (22.11's bonding PMD takes only devices already probed).
 * 0, or -errno with err.
 */
static int
members_probe(struct dp_ethdev *e, const char *devargs, const char *const *members,
	unsigned n_members, char *out, size_t size, char *err)
{
	size_t len;
	int ret;

	if (n_members == 0 || n_members > DP_ETHDEV_MAX_MEMBERS) {
		snprintf(err, 256, "a bond needs 1..%d members", DP_ETHDEV_MAX_MEMBERS);
		return -EINVAL;
	}
	len = (size_t)snprintf(out, size, "%s", devargs);
	for (unsigned i = 0; i < n_members; i++) {
		struct dp_ethdev_member *m = &e->members[i];

		if (!devname(members[i], m->name)) {
			snprintf(err, 256, "member \"%s\": no device name", members[i]);
			ret = -EINVAL;
			goto fail;
		}
		if (rte_eth_dev_get_port_by_name(m->name, &m->port_id) == 0) {
			snprintf(err, 256, "member %s is already in use", m->name);
			ret = -EEXIST;
			goto fail;
		}
		ret = rte_dev_probe(members[i]);
		if (ret != 0 || rte_eth_dev_get_port_by_name(m->name, &m->port_id) != 0) {
			snprintf(err, 256, "cannot open member \"%s\"%s", members[i],
				ret == 0 ? ": no port appeared" : " (see porticod's log)");
			if (ret == 0)
				rte_eal_hotplug_remove("vdev", m->name);
			ret = ret != 0 && ret != -1 ? ret : -EIO;
			goto fail;
		}
		if (!dp_ethdev_kernel_iface(members[i], m->iface, sizeof(m->iface)))
			m->iface[0] = '\0';
		e->n_members++;
		len += (size_t)snprintf(
			out + len, len < size ? size - len : 0, ",slave=%s", m->name);
		if (len >= size) {
			snprintf(err, 256, "the bond's devargs with its members are too long");
			ret = -ENAMETOOLONG;
			goto fail;
		}
	}
	return 0;
fail:
	members_remove(e);
	return ret;
}

static uint16_t
ethdev_rx(void *priv, uint16_t queue, struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t n)
{
	struct dp_ethdev *e = priv;

	RTE_SET_USED(mp);
	return rte_eth_rx_burst(e->port_id, queue, pkts, n);
}

static uint16_t
ethdev_tx(void *priv, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct dp_ethdev *e = priv;

	return rte_eth_tx_burst(e->port_id, queue, pkts, n);
}

/* A link state change interrupt (EAL's interrupt thread): control reads the link. */
static int
lsc_event(uint16_t port_id, enum rte_eth_event_type type, void *arg, void *ret_param)
{
	struct dp_ethdev *e = arg;

	RTE_SET_USED(port_id);
	RTE_SET_USED(type);
	RTE_SET_USED(ret_param);
	__atomic_store_n(&e->lsc_pending, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Stop the interrupt callback (waiting out one that runs now). */
static void
lsc_unregister(struct dp_ethdev *e)
{
	if (!e->lsc)
		return;
	while (rte_eth_dev_callback_unregister(e->port_id, RTE_ETH_EVENT_INTR_LSC, lsc_event, e) ==
		-EAGAIN)
		;
	e->lsc = false;
}

const struct dp_port_ops dp_ethdev_ops = {
	.rx = ethdev_rx,
	.tx = ethdev_tx,
	.tx_consumes = true,
};

struct dp_ethdev *
dp_ethdev_open(const char *devargs, const char *const *members, unsigned n_members, unsigned n_txq,
	struct rte_mempool *mp, char *err)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	char bond_devargs[DP_ETHDEV_BOND_DEVARGS_MAX];
	struct dp_ethdev *e;
	unsigned q;
	int ret;

	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, 256, "out of memory");
		return NULL;
	}
	if (!devname(devargs, e->name)) {
		snprintf(err, 256, "devargs \"%.180s\": no device name", devargs);
		ret = -EINVAL;
		goto free;
	}
	if (rte_eth_dev_get_port_by_name(e->name, &e->port_id) == 0) {
		snprintf(err, 256, "device %s is already in use", e->name);
		ret = -EEXIST;
		goto free;
	}
	e->bond = strncmp(devargs, "net_bonding", strlen("net_bonding")) == 0;
	if (!e->bond && n_members > 0) {
		snprintf(err, 256, "members are for net_bonding devices only");
		ret = -EINVAL;
		goto free;
	}
	if (e->bond) {
		ret = members_probe(
			e, devargs, members, n_members, bond_devargs, sizeof(bond_devargs), err);
		if (ret != 0)
			goto free;
		devargs = bond_devargs;
	}
	ret = rte_dev_probe(devargs);
	if (ret != 0) {
		/* Drivers often return -1 for any failure: that is no errno. */
		snprintf(err, 256, "cannot open device \"%.180s\": %s", devargs,
			ret == -1 ? "the driver could not probe it (see porticod's log)"
				  : rte_strerror(-ret));
		goto free;
	}
	ret = rte_eth_dev_get_port_by_name(e->name, &e->port_id);
	if (ret != 0) {
		snprintf(err, 256, "device %s probed but no port appeared", e->name);
		goto remove;
	}
	ret = rte_eth_dev_info_get(e->port_id, &info);
	if (ret != 0) {
		snprintf(err, 256, "%s: cannot get device info: %s", e->name, rte_strerror(-ret));
		/* No rte_device to remove through: leave it closed. */
		rte_eth_dev_close(e->port_id);
		goto free;
	}
	e->dev = info.device;
	if (n_txq > info.max_tx_queues) {
		snprintf(err, 256, "%s: needs %u tx queues (one per worker), has %u", e->name,
			n_txq, info.max_tx_queues);
		ret = -ENOTSUP;
		goto close;
	}
	/* Link changes by interrupt where the PMD has them (else control polls). */
	if (info.dev_flags != NULL && (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) &&
		rte_eth_dev_callback_register(e->port_id, RTE_ETH_EVENT_INTR_LSC, lsc_event, e) ==
			0) {
		conf.intr_conf.lsc = 1;
		e->lsc = true;
	}
	ret = rte_eth_dev_configure(e->port_id, 1, n_txq, &conf);
	if (ret != 0) {
		snprintf(err, 256, "%s: configure failed: %s", e->name, rte_strerror(-ret));
		goto close;
	}
	ret = rte_eth_rx_queue_setup(
		e->port_id, 0, RX_DESC, rte_eth_dev_socket_id(e->port_id), NULL, mp);
	if (ret != 0) {
		snprintf(err, 256, "%s: rx queue setup failed: %s", e->name, rte_strerror(-ret));
		goto close;
	}
	for (q = 0; q < n_txq; q++) {
		ret = rte_eth_tx_queue_setup(
			e->port_id, q, TX_DESC, rte_eth_dev_socket_id(e->port_id), NULL);
		if (ret != 0) {
			snprintf(err, 256, "%s: tx queue setup failed: %s", e->name,
				rte_strerror(-ret));
			goto close;
		}
	}
	ret = rte_eth_dev_start(e->port_id);
	if (ret != 0) {
		snprintf(err, 256, "%s: start failed: %s", e->name, rte_strerror(-ret));
		goto close;
	}
	/* A switch port sees every frame on the wire. */
	rte_eth_promiscuous_enable(e->port_id);
	rte_eth_allmulticast_enable(e->port_id);
	dp_ethdev_poll_link(e);
	return e;
close:
	lsc_unregister(e);
	dev_remove(e);
	goto free;
remove:
	/* No port: the device was probed by a driver that is not an ethdev. */
	rte_eal_hotplug_remove("vdev", e->name);
free:
	members_remove(e);
	free(e);
	errno = -ret;
	return NULL;
}

int
dp_ethdev_close(struct dp_ethdev *e)
{
	int ret;

	if (e == NULL)
		return 0;
	lsc_unregister(e);
	rte_eth_dev_stop(e->port_id);
	/* The driver's remove closes and releases the port; a bond's members go after it. */
	ret = dev_remove(e);
	members_remove(e);
	free(e);
	return ret;
}

bool
dp_ethdev_is_bond(const struct dp_ethdev *e)
{
	return e->bond;
}

const char *
dp_ethdev_member_iface(const struct dp_ethdev *e, unsigned i)
{
	return i < e->n_members && e->members[i].iface[0] != '\0' ? e->members[i].iface : NULL;
}

/*
 * PMDs such as af_packet keep their link up whatever the kernel's carrier,
 * and cannot be set down: a member whose carrier goes is taken out of the
 * bond (so LACP and the bond's distribution move off it at once) and put
 * back when it returns. The bond's API must not race the workers' rx/tx on
 * it: the workers see the bond down, and are waited out, around the change.
 */
int
dp_ethdev_member_set_link(struct dp_ethdev *e, const char *iface, bool up)
{
	int moved = 0;

	for (unsigned i = 0; i < e->n_members; i++) {
		struct dp_ethdev_member *m = &e->members[i];
		uint8_t was = e->up;
		int ret;

		if (strcmp(m->iface, iface) != 0 || m->out == !up)
			continue;
		e->up = 0;
		dp_synchronize();
		ret = up ? rte_eth_bond_slave_add(e->port_id, m->port_id)
			 : rte_eth_bond_slave_remove(e->port_id, m->port_id);
		e->up = was;
		if (ret != 0)
			return ret;
		m->out = !up;
		moved++;
	}
	return moved;
}

int
dp_ethdev_bond_info(const struct dp_ethdev *e, struct dp_bond_member *out, unsigned max)
{
	uint16_t active[RTE_MAX_ETHPORTS];
	int n_active, mode;
	unsigned i;

	if (!e->bond)
		return 0;
	mode = rte_eth_bond_mode_get(e->port_id);
	n_active = rte_eth_bond_active_slaves_get(e->port_id, active, RTE_DIM(active));
	for (i = 0; i < e->n_members && i < max; i++) {
		const struct dp_ethdev_member *m = &e->members[i];
		struct dp_bond_member *o = &out[i];
		struct rte_eth_bond_8023ad_slave_info li;
		struct rte_eth_link link;

		memset(o, 0, sizeof(*o));
		snprintf(o->name, sizeof(o->name), "%s", m->name);
		o->in_bond = !m->out;
		o->link_up = rte_eth_link_get_nowait(m->port_id, &link) == 0 &&
			link.link_status == RTE_ETH_LINK_UP;
		for (int k = 0; k < n_active; k++)
			o->active |= active[k] == m->port_id;
		o->lacp = !m->out && mode == BONDING_MODE_8023AD &&
			rte_eth_bond_8023ad_slave_info(e->port_id, m->port_id, &li) == 0;
		if (o->lacp) {
			o->actor_state = li.actor_state;
			o->partner_state = li.partner_state;
			memcpy(o->partner_system, li.partner.system.addr_bytes, 6);
		}
	}
	return (int)i;
}

uint16_t
dp_ethdev_port_id(const struct dp_ethdev *e)
{
	return e->port_id;
}

void
dp_ethdev_mac(const struct dp_ethdev *e, struct rte_ether_addr *mac)
{
	if (rte_eth_macaddr_get(e->port_id, mac) != 0)
		memset(mac, 0, sizeof(*mac));
}

const volatile uint8_t *
dp_ethdev_up(const struct dp_ethdev *e)
{
	return &e->up;
}

int
dp_ethdev_poll_link(struct dp_ethdev *e)
{
	struct rte_eth_link link;

	if (rte_eth_link_get_nowait(e->port_id, &link) != 0)
		link.link_status = RTE_ETH_LINK_DOWN;
	e->up = link.link_status == RTE_ETH_LINK_UP;
	return e->up;
}

bool
dp_ethdev_has_lsc(const struct dp_ethdev *e)
{
	return e->lsc;
}

bool
dp_ethdev_lsc_pending(struct dp_ethdev *e)
{
	return __atomic_exchange_n(&e->lsc_pending, 0, __ATOMIC_ACQ_REL) != 0;
}

void
dp_ethdev_set_up(struct dp_ethdev *e, bool up)
{
	e->up = up;
}

bool
dp_ethdev_kernel_iface(const char *devargs, char *buf, size_t size)
{
	static const char *const kernel_pmds[] = {"net_af_packet", "net_af_xdp", "net_tap"};
	const char *p;
	size_t len;
	bool kernel = false;

	for (unsigned i = 0; i < RTE_DIM(kernel_pmds); i++)
		kernel |= strncmp(devargs, kernel_pmds[i], strlen(kernel_pmds[i])) == 0;
	if (!kernel)
		return false;
	for (p = strchr(devargs, ','); p != NULL; p = strchr(p + 1, ','))
		if (strncmp(p + 1, "iface=", 6) == 0) {
			len = strcspn(p + 7, ",");
			if (len == 0 || len >= size)
				return false;
			memcpy(buf, p + 7, len);
			buf[len] = '\0';
			return true;
		}
	return false;
}
