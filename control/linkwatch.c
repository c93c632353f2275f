/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel link watcher (linkwatch.h): two libnl-3 route sockets, one
 * subscribed to RTNLGRP_LINK and non-blocking (notifications, polled by
 * the main loop), one for requests (the state of one interface when it is
 * first watched, and again for all after lost notifications).
 *
 * Notifications queued before an interface was read may be applied after
 * it: they are in order and the kernel sends one for every change, so the
 * last one applied is the current state (at worst a change already over is
 * reported, followed by its undoing).
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "control/linkwatch.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* <linux/if.h>, which clashes with <net/if.h> */
#endif

#define RCVBUF (1 << 20) /* notification socket buffer: bursts of link changes */
#define MAX_READS 4096 /* datagrams read per ctl_lw_process() call */

/* One watched interface. */
struct lw_if {
	char name[IFNAMSIZ]; /* the name watched */
	int ifindex; /* its index while it exists, else 0 */
	bool up; /* carrier as last known */
};

struct ctl_lw {
	struct nl_sock *ev; /* RTNLGRP_LINK notifications, non-blocking */
	struct nl_sock *req; /* requests, blocking */
	ctl_lw_cb cb; /* what to call on a change */
	void *arg; /* its argument */
	unsigned n; /* entries in ifs */
	unsigned cap; /* allocated entries */
	struct lw_if *ifs; /* watched interfaces */
	int changes; /* changes reported by the current ctl_lw_process() */
	int msg_type; /* RTM_NEWLINK or RTM_DELLINK being parsed */
};

/* libnl's error codes to -errno. */
static int
nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
	case NLE_NOACCESS:
		return -EPERM;
	case NLE_INVAL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static struct lw_if *
find(const struct ctl_lw *lw, const char *name)
{
	for (unsigned i = 0; i < lw->n; i++)
		if (strcmp(lw->ifs[i].name, name) == 0)
			return &lw->ifs[i];
	return NULL;
}

static bool
carrier(unsigned flags)
{
	return (flags & IFF_UP) && (flags & IFF_LOWER_UP);
}

static void
set_up(struct ctl_lw *lw, struct lw_if *e, bool up)
{
	if (e->up == up)
		return;
	e->up = up;
	lw->changes++;
	if (lw->cb != NULL)
		lw->cb(lw->arg, e->name, up);
}

/* A link exists (present) or was deleted: apply it to the watched entries. */
static void
apply(struct ctl_lw *lw, const char *name, int ifindex, bool present, unsigned flags)
{
	for (unsigned i = 0; i < lw->n; i++) {
		struct lw_if *e = &lw->ifs[i];

		if (name != NULL && strcmp(e->name, name) == 0) {
			if (present) {
				e->ifindex = ifindex;
				set_up(lw, e, carrier(flags));
			} else if (e->ifindex == ifindex || e->ifindex == 0) {
				e->ifindex = 0;
				set_up(lw, e, false);
			}
		} else if (ifindex != 0 && e->ifindex == ifindex) {
			/* Renamed away from the name watched (or gone). */
			e->ifindex = 0;
			set_up(lw, e, false);
		}
	}
}

/* Ask the kernel for one watched interface. 0 or -errno (ENODEV: absent, down). */
static int
query(struct ctl_lw *lw, struct lw_if *e)
{
	struct rtnl_link *link = NULL;
	int rc = nl_errno(rtnl_link_get_kernel(lw->req, 0, e->name, &link));

	if (rc == 0) {
		apply(lw, e->name, rtnl_link_get_ifindex(link), true, rtnl_link_get_flags(link));
		rtnl_link_put(link);
		return 0;
	}
	if (rc == -ENODEV) {
		e->ifindex = 0;
		set_up(lw, e, false);
	}
	return rc;
}

/* Re-read every watched interface (after lost notifications). */
static int
resync(struct ctl_lw *lw)
{
	int rc = 0;

	for (unsigned i = 0; i < lw->n; i++) {
		int r = query(lw, &lw->ifs[i]);

		if (r != 0 && r != -ENODEV)
			rc = r;
	}
	return rc;
}

static void
parsed(struct nl_object *obj, void *arg)
{
	struct ctl_lw *lw = arg;
	struct rtnl_link *link = (struct rtnl_link *)obj;

	/* AF_BRIDGE and other per-family copies repeat what AF_UNSPEC says. */
	if (rtnl_link_get_family(link) != AF_UNSPEC)
		return;
	apply(lw, rtnl_link_get_name(link), rtnl_link_get_ifindex(link),
		lw->msg_type == RTM_NEWLINK, rtnl_link_get_flags(link));
}

static int
on_msg(struct nl_msg *msg, void *arg)
{
	struct ctl_lw *lw = arg;
	int type = nlmsg_hdr(msg)->nlmsg_type;

	if (type != RTM_NEWLINK && type != RTM_DELLINK)
		return NL_OK;
	lw->msg_type = type;
	nl_msg_parse(msg, parsed, lw);
	return NL_OK;
}

struct ctl_lw *
ctl_lw_new(ctl_lw_cb cb, void *arg)
{
	struct ctl_lw *lw = calloc(1, sizeof(*lw));
	int rc = -ENOMEM;

	if (lw == NULL)
		goto fail;
	lw->cb = cb;
	lw->arg = arg;
	lw->ev = nl_socket_alloc();
	lw->req = nl_socket_alloc();
	if (lw->ev == NULL || lw->req == NULL)
		goto fail;
	nl_socket_disable_seq_check(lw->ev);
	nl_socket_disable_auto_ack(lw->ev);
	rc = nl_errno(nl_socket_modify_cb(lw->ev, NL_CB_VALID, NL_CB_CUSTOM, on_msg, lw));
	if (rc == 0)
		rc = nl_errno(nl_connect(lw->ev, NETLINK_ROUTE));
	if (rc == 0)
		rc = nl_errno(nl_socket_add_membership(lw->ev, RTNLGRP_LINK));
	if (rc == 0)
		rc = nl_errno(nl_socket_set_nonblocking(lw->ev));
	if (rc == 0)
		rc = nl_errno(nl_socket_set_buffer_size(lw->ev, RCVBUF, 0));
	if (rc == 0)
		rc = nl_errno(nl_connect(lw->req, NETLINK_ROUTE));
	if (rc != 0)
		goto fail;
	return lw;
fail:
	ctl_lw_destroy(lw);
	errno = -rc;
	return NULL;
}

void
ctl_lw_destroy(struct ctl_lw *lw)
{
	if (lw == NULL)
		return;
	if (lw->ev != NULL)
		nl_socket_free(lw->ev); /* closes */
	if (lw->req != NULL)
		nl_socket_free(lw->req);
	free(lw->ifs);
	free(lw);
}

int
ctl_lw_fd(const struct ctl_lw *lw)
{
	return nl_socket_get_fd(lw->ev);
}

int
ctl_lw_watch(struct ctl_lw *lw, const char *ifname)
{
	struct lw_if *e;
	int rc;

	if (ifname == NULL || ifname[0] == '\0' || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	if (find(lw, ifname) != NULL)
		return -EEXIST;
	if (lw->n == lw->cap) {
		unsigned cap = lw->cap != 0 ? 2 * lw->cap : 8;
		struct lw_if *ifs = realloc(lw->ifs, cap * sizeof(*ifs));

		if (ifs == NULL)
			return -ENOMEM;
		lw->ifs = ifs;
		lw->cap = cap;
	}
	e = &lw->ifs[lw->n++];
	memset(e, 0, sizeof(*e));
	strcpy(e->name, ifname);
	/* The initial state is no change: read it without a callback. */
	{
		ctl_lw_cb cb = lw->cb;

		lw->cb = NULL;
		rc = query(lw, e);
		lw->cb = cb;
	}
	if (rc != 0 && rc != -ENODEV) {
		lw->n--;
		return rc;
	}
	return 0;
}

int
ctl_lw_unwatch(struct ctl_lw *lw, const char *ifname)
{
	struct lw_if *e = ifname != NULL ? find(lw, ifname) : NULL;

	if (e == NULL)
		return -ENOENT;
	*e = lw->ifs[--lw->n];
	return 0;
}

int
ctl_lw_process(struct ctl_lw *lw)
{
	bool lost = false;
	int rc = 0;

	lw->changes = 0;
	for (unsigned i = 0; i < MAX_READS; i++) {
		int r = nl_recvmsgs_default(lw->ev);

		if (r >= 0)
			continue;
		if (r == -NLE_AGAIN)
			break;
		if (r == -NLE_NOMEM) {
			/* ENOBUFS: the kernel dropped notifications. Keep reading, then re-read. */
			lost = true;
			continue;
		}
		rc = nl_errno(r);
		lost = true;
		break;
	}
	if (lost) {
		int r = resync(lw);

		if (rc == 0)
			rc = r;
	}
	return rc != 0 ? rc : lw->changes;
}

int
ctl_lw_carrier(const struct ctl_lw *lw, const char *ifname)
{
	const struct lw_if *e = ifname != NULL ? find(lw, ifname) : NULL;

	if (e == NULL)
		return -ENOENT;
	return e->up ? 1 : 0;
}
