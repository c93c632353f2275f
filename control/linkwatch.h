/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel link watcher: carrier of kernel network interfaces, from
 * libnl-3 route notifications (NETLINK_ROUTE, group RTNLGRP_LINK).
 *
 * Where it fits: control side (main lcore). DPDK's link status for the
 * kernel-backed PMDs (net_af_packet, net_af_xdp, net_tap) does not follow the
 * kernel interface, so for those uplinks control watches the interface
 * itself and feeds the carrier to teaming (team_state_link()). The watcher
 * has one non-blocking socket whose fd the main loop polls; when it is
 * readable, ctl_lw_process() reads every pending notification and calls the
 * callback once per change of a watched interface's carrier.
 *
 * Carrier up means the interface exists, is administratively up (IFF_UP)
 * and has its lower layer up (IFF_LOWER_UP): a veth whose peer is down, an
 * interface set down, deleted or renamed away are all down. Interfaces are
 * watched by name, in the network namespace the watcher was created in; a
 * name that does not exist yet is down until it appears. If notifications
 * were lost (socket buffer overrun), ctl_lw_process() asks the kernel for
 * every watched interface again, so the state is always right in the end.
 */
#ifndef PORTICO_CONTROL_LINKWATCH_H
#define PORTICO_CONTROL_LINKWATCH_H

#include <stdbool.h>

struct ctl_lw;

/*
 * Called by ctl_lw_process() when the carrier of watched interface ifname
 * changes to up. Must not call ctl_lw_watch()/ctl_lw_unwatch().
 */
typedef void (*ctl_lw_cb)(void *arg, const char *ifname, bool up);

/* A watcher calling cb(arg, ...). NULL with errno set on failure. */
struct ctl_lw *ctl_lw_new(ctl_lw_cb cb, void *arg);
/* Close and free (NULL is a no-op). */
void ctl_lw_destroy(struct ctl_lw *lw);
/* The fd to poll for POLLIN. */
int ctl_lw_fd(const struct ctl_lw *lw);
/*
 * Watch ifname. Its current state is read from the kernel at once, without
 * a callback (ctl_lw_carrier() gives it). Returns 0, -EEXIST (already
 * watched), -EINVAL (empty or too long a name), -ENOMEM or -EIO.
 */
int ctl_lw_watch(struct ctl_lw *lw, const char *ifname);
/* Stop watching ifname. 0 or -ENOENT. */
int ctl_lw_unwatch(struct ctl_lw *lw, const char *ifname);
/*
 * Read the pending notifications (never blocks) and report the changes.
 * Returns how many changes were reported, or -errno (the socket failed;
 * the state was re-read from the kernel when that was possible).
 */
int ctl_lw_process(struct ctl_lw *lw);
/* Carrier of a watched interface: 1 up, 0 down, -ENOENT not watched. */
int ctl_lw_carrier(const struct ctl_lw *lw, const char *ifname);

#endif /* PORTICO_CONTROL_LINKWATCH_H */
