/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user ports on rte_vhost. Queue pair q is virtqueue 2q (toward the
 * guest: enqueue) and 2q+1 (from the guest: dequeue).
 */
#include <errno.h>
#include <linux/virtio_net.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_vhost.h>

#include "vhost/vhost.h"

#define VIRTIO_RXQ 0
#define VIRTIO_TXQ 1

struct vh_port {
	char path[PATH_MAX]; /* the socket */
	volatile uint8_t up; /* a device is ready: workers may call rte_vhost with vid */
	int vid; /* rte_vhost device id while connected, else -1 */
	uint16_t queues; /* queue pairs configured */
	uint16_t nr_qp; /* queue pairs the connected peer has (<= queues) */
	unsigned connects; /* new_device calls seen */
	struct vh_port *next; /* registry list */
};

/*
 * The registry maps rte_vhost's callbacks (which know a vid or a path) to
 * ports. The lock is never held while calling into rte_vhost, which calls
 * back with its own locks held.
 */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vh_port *registry;
static void (*grace)(void);

static uint16_t
vh_rx(void *priv, uint16_t queue, struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t n)
{
	struct vh_port *p = priv;

	if (unlikely(queue >= p->nr_qp))
		return 0; /* the peer has fewer queue pairs than configured */
	return rte_vhost_dequeue_burst(p->vid, queue * 2 + VIRTIO_TXQ, mp, pkts, n);
}

static uint16_t
vh_tx(void *priv, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vh_port *p = priv;

	if (unlikely(queue >= p->nr_qp))
		queue %= p->nr_qp;
	return rte_vhost_enqueue_burst(p->vid, queue * 2 + VIRTIO_RXQ, pkts, n);
}

const struct dp_port_ops vh_port_ops = {
	.rx = vh_rx,
	.tx = vh_tx,
	.tx_consumes = false,
};

/* Find the port of a socket path. Caller holds registry_lock. */
static struct vh_port *
find_path(const char *path)
{
	struct vh_port *p;

	for (p = registry; p != NULL; p = p->next)
		if (strcmp(p->path, path) == 0)
			return p;
	return NULL;
}

static struct vh_port *
find_vid(int vid)
{
	char path[PATH_MAX];
	struct vh_port *p;

	if (rte_vhost_get_ifname(vid, path, sizeof(path)) != 0)
		return NULL;
	pthread_mutex_lock(&registry_lock);
	p = find_path(path);
	pthread_mutex_unlock(&registry_lock);
	return p;
}

/* rte_vhost thread: a peer is connected and its rings are ready. */
static int
new_device(int vid)
{
	struct vh_port *p = find_vid(vid);
	uint16_t q, nr;

	if (p == NULL)
		return -1;
	/* A server socket accepts more peers; the port has one device at a time. */
	if (__atomic_load_n(&p->up, __ATOMIC_ACQUIRE) != 0)
		return -1;
	/* We poll: the guest need not kick us, we need not interrupt it. */
	nr = rte_vhost_get_vring_num(vid);
	for (q = 0; q < nr; q++)
		rte_vhost_enable_guest_notification(vid, q, 0);
	p->nr_qp = RTE_MIN((uint16_t)(nr / 2), p->queues);
	if (p->nr_qp == 0)
		return -1;
	p->vid = vid;
	p->connects++;
	__atomic_store_n(&p->up, 1, __ATOMIC_RELEASE);
	return 0;
}

/* rte_vhost thread: the device goes away; no worker may touch it afterwards. */
static void
destroy_device(int vid)
{
	struct vh_port *p = find_vid(vid);

	if (p == NULL || p->vid != vid)
		return;
	__atomic_store_n(&p->up, 0, __ATOMIC_RELEASE);
	if (grace != NULL)
		grace();
	p->vid = -1;
}

static const struct rte_vhost_device_ops vh_ops = {
	.new_device = new_device,
	.destroy_device = destroy_device,
};

static void
unlist(struct vh_port *p)
{
	struct vh_port **pp;

	pthread_mutex_lock(&registry_lock);
	for (pp = &registry; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pthread_mutex_unlock(&registry_lock);
}

void
vh_init(void (*sync)(void))
{
	grace = sync;
}

/* Offloads Portico does not implement (an L2 switch with an MTU check). */
static const uint64_t disabled_features = (1ULL << VIRTIO_NET_F_HOST_TSO4) |
	(1ULL << VIRTIO_NET_F_HOST_TSO6) | (1ULL << VIRTIO_NET_F_HOST_ECN) |
	(1ULL << VIRTIO_NET_F_HOST_UFO) | (1ULL << VIRTIO_NET_F_CSUM) |
	(1ULL << VIRTIO_NET_F_GUEST_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) |
	(1ULL << VIRTIO_NET_F_GUEST_TSO6) | (1ULL << VIRTIO_NET_F_GUEST_ECN) |
	(1ULL << VIRTIO_NET_F_GUEST_UFO);

/*
 * Is a socket listening on path (in this network namespace)? Read from
 * /proc/net/unix rather than by connecting: a vhost-user server (QEMU, a
 * virtio_user peer) takes a connection as a new backend.
 */
static bool
path_listened(const char *path)
{
	char line[512 + PATH_MAX];
	bool live = false;
	FILE *f = fopen("/proc/net/unix", "r");

	if (f == NULL)
		return true; /* cannot tell: do not touch it */
	while (!live && fgets(line, sizeof(line), f) != NULL) {
		unsigned long flags;
		char name[PATH_MAX];

		/* Num RefCount Protocol Flags Type St Inode Path */
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %4095s", &flags, name) == 2 &&
			(flags & 0x10000) != 0 /* __SO_ACCEPTCON: listening */ &&
			strcmp(name, path) == 0)
			live = true;
	}
	fclose(f);
	return live;
}

/*
 * Before listening on path: a live socket there belongs to someone else and
 * must stay (rte_vhost would fail to bind, then unlink it while cleaning up);
 * a dead one is left over and goes. 0, or -EADDRINUSE / -EEXIST with err.
 */
static int
server_path_free(const char *path, char *err)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, 256, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	if (path_listened(path)) {
		snprintf(err, 256, "%s is served by another process (client mode connects to it)",
			path);
		return -EADDRINUSE;
	}
	unlink(path);
	return 0;
}

struct vh_port *
vh_port_create(const char *path, bool client, uint16_t queues, char *err)
{
	uint64_t flags = RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS;
	struct vh_port *p;
	int ret;

	if (strlen(path) >= sizeof(p->path)) {
		snprintf(err, 256, "socket path too long");
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (!client) {
		int ret = server_path_free(path, err);

		if (ret != 0) {
			errno = -ret;
			return NULL;
		}
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, 256, "out of memory");
		return NULL;
	}
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->vid = -1;
	p->queues = queues;
	if (client)
		flags |= RTE_VHOST_USER_CLIENT; /* reconnects by default */

	pthread_mutex_lock(&registry_lock);
	if (find_path(path) != NULL) {
		pthread_mutex_unlock(&registry_lock);
		snprintf(err, 256, "socket %s is already in use", path);
		free(p);
		errno = EEXIST;
		return NULL;
	}
	p->next = registry;
	registry = p;
	pthread_mutex_unlock(&registry_lock);

	ret = rte_vhost_driver_register(path, flags);
	if (ret != 0) {
		snprintf(err, 256, "cannot register vhost-user socket %s", path);
		goto unlist;
	}
	/* DPDK 22.11 offers its maximum of queue pairs; we poll p->queues of them. */
	if (rte_vhost_driver_disable_features(path, disabled_features) != 0 ||
		rte_vhost_driver_callback_register(path, &vh_ops) != 0) {
		snprintf(err, 256, "cannot set up vhost-user socket %s", path);
		goto unregister;
	}
	if (rte_vhost_driver_start(path) != 0) {
		snprintf(err, 256, "cannot start vhost-user socket %s%s", path,
			client ? "" : " (is the directory writable?)");
		goto unregister;
	}
	return p;
unregister:
	rte_vhost_driver_unregister(path);
unlist:
	unlist(p);
	free(p);
	errno = EIO;
	return NULL;
}

void
vh_port_destroy(struct vh_port *p)
{
	if (p == NULL)
		return;
	/* Still listed, so a destroy_device this triggers finds the port. */
	rte_vhost_driver_unregister(p->path);
	unlist(p);
	free(p);
}

const volatile uint8_t *
vh_port_up(const struct vh_port *p)
{
	return &p->up;
}

bool
vh_port_connected(const struct vh_port *p)
{
	return __atomic_load_n(&p->up, __ATOMIC_ACQUIRE) != 0;
}

unsigned
vh_port_connects(const struct vh_port *p)
{
	return p->connects;
}
