/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user ports: a VM's vNIC, driven with rte_vhost's API directly (not
 * the net_vhost PMD, which would cost one of Debian's 32 ethdevs per VM).
 *
 * porticod is the client (default: QEMU or a virtio_user peer serves the
 * socket and rte_vhost reconnects to it whenever it comes back) or the
 * server of the socket. rte_vhost's own thread calls new_device and
 * destroy_device; a port's "up" flag tells workers whether its device may be
 * touched, and destroy_device waits for an RCU grace period after clearing
 * it, so no worker uses a device rte_vhost is tearing down.
 */
#ifndef PORTICO_VHOST_H
#define PORTICO_VHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/dp.h"

struct vh_port;

extern const struct dp_port_ops vh_port_ops;

/*
 * Set up the module: sync() waits for an RCU grace period of the workers
 * (dp_synchronize). Main lcore, once.
 */
void vh_init(void (*sync)(void));

/*
 * Register and start a vhost-user socket. client: porticod connects (and
 * reconnects); otherwise it listens on path. queues: queue pairs offered.
 * Guest offloads the switch does not implement are disabled. NULL with errno
 * and a reason in err (256 bytes). Main lcore.
 */
struct vh_port *vh_port_create(const char *path, bool client, uint16_t queues, char *err);
/* Unregister (the peer is disconnected) and free. NULL is a no-op. Main lcore. */
void vh_port_destroy(struct vh_port *p);

/* The flag workers read: non-zero while a peer is connected and ready. */
const volatile uint8_t *vh_port_up(const struct vh_port *p);
/* Connected now? And how often it connected since created. */
bool vh_port_connected(const struct vh_port *p);
unsigned vh_port_connects(const struct vh_port *p);

#endif /* PORTICO_VHOST_H */
