/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VLAN handling of one port: classify on ingress, tag on egress.
 *
 * A leaf module (DPDK only). Inside the switch a frame is always untagged
 * and carries its 802.1Q TCI beside it (0 = untagged); vlan_ingress() strips
 * an inline or offloaded tag into that TCI and decides whether the port may
 * send that VLAN at all, vlan_push() puts the tag back on the way out. The
 * compiled per-port configuration (struct vlan_port_cfg) is built once on
 * the control side by vlan_port_cfg_init() and only read by workers.
 */
#ifndef PORTICO_VLAN_H
#define PORTICO_VLAN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#define VLAN_VID_MASK 0x0fff
#define VLAN_VID_COUNT 4096 /* VLAN IDs 0..4095; 4095 is reserved on the wire */

/* How a port group treats tags, as in the state file ("vlan": 0, N, 4095, ranges). */
enum vlan_mode {
	VLAN_MODE_NONE, /* EST: untagged only */
	VLAN_MODE_VST, /* switch tagging: VMs untagged, the uplink sees the tag */
	VLAN_MODE_VGT, /* guest tagging: every VLAN passes with its tag */
	VLAN_MODE_TRUNK, /* guest tagging limited to listed VLAN IDs */
	VLAN_MODE_PVLAN, /* a private VLAN port: untagged, sends on one VLAN, receives several */
};

/* The role of a VLAN in a private VLAN. */
enum vlan_pvlan_type {
	VLAN_PVLAN_PROMISCUOUS, /* the primary */
	VLAN_PVLAN_ISOLATED,
	VLAN_PVLAN_COMMUNITY,
};

/* A secondary VLAN of a private VLAN, for vlan_port_cfg_pvlan(). */
struct vlan_pvlan_secondary {
	uint16_t vid; /* its VLAN ID */
	uint8_t type; /* enum vlan_pvlan_type: isolated or community */
};

/* Why vlan_ingress() refused a frame. */
enum vlan_verdict {
	VLAN_PASS, /* the frame belongs to a VLAN this port carries */
	VLAN_TAGGED, /* a tagged frame from an access (EST/VST) port */
	VLAN_NOT_ALLOWED, /* a trunk/VGT port sent a VLAN outside its set */
};

/* Compiled VLAN configuration of one port. Read-only on the packet path. */
struct vlan_port_cfg {
	uint8_t mode; /* enum vlan_mode */
	bool tagged; /* frames cross this port tagged (VGT/trunk ports, uplinks) */
	bool uplink; /* an uplink: every VLAN passes, tags kept */
	uint16_t access_vid; /* EST/VST/PVLAN: the VLAN untagged frames belong to */
	uint16_t pvlan_primary; /* PVLAN: the private VLAN's primary; 0 otherwise */
	uint64_t carried[VLAN_VID_COUNT / 64]; /* bit v: the port carries VLAN v (0 = untagged) */
};

/* A VLAN range for vlan_port_cfg_init(), inclusive. */
struct vlan_range {
	uint16_t first;
	uint16_t last;
};

/*
 * Compile a port group's VLAN setting. vid is the VST VLAN ID; ranges are
 * the trunk ranges (both ignored by the modes that do not use them).
 * Returns 0 or -EINVAL (an out-of-range value).
 */
int vlan_port_cfg_init(struct vlan_port_cfg *cfg, enum vlan_mode mode, uint16_t vid,
	const struct vlan_range *ranges, unsigned n_ranges);
/*
 * Compile a port of private VLAN primary whose own VLAN is vid (the
 * primary itself for a promiscuous port, else one of secs). It sends on
 * vid, untagged at the VM, and receives what its role lets it: a
 * promiscuous port every VLAN of the private VLAN, a community port the
 * primary and its community, an isolated port the primary only. Returns 0
 * or -EINVAL (vid not in the private VLAN, IDs out of range).
 */
int vlan_port_cfg_pvlan(struct vlan_port_cfg *cfg, uint16_t primary, uint16_t vid,
	const struct vlan_pvlan_secondary *secs, unsigned n_secs);
/* Compile an uplink: carries every VLAN, tags kept on the wire. */
void vlan_port_cfg_uplink(struct vlan_port_cfg *cfg);

/* Does the port carry VLAN vid (0 = untagged)? */
static inline bool
vlan_carries(const struct vlan_port_cfg *cfg, uint16_t vid)
{
	return (cfg->carried[vid >> 6] >> (vid & 63)) & 1;
}

/* Does a frame of VLAN vid leave through this port with a tag? */
static inline bool
vlan_egress_tagged(const struct vlan_port_cfg *cfg, uint16_t vid)
{
	return cfg->tagged && vid != 0;
}

/*
 * Strip the 802.1Q tag of a frame, if any, into *tci (0 when untagged; a
 * priority tag with VLAN ID 0 counts as untagged). Handles a tag the PMD
 * already stripped (RTE_MBUF_F_RX_VLAN_STRIPPED). The mbuf must not be
 * shared. Worker lcore.
 */
static inline void
vlan_pop(struct rte_mbuf *m, uint16_t *tci)
{
	struct rte_ether_hdr *eth;
	struct rte_vlan_hdr *vh;

	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
		m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN);
		*tci = (m->vlan_tci & VLAN_VID_MASK) ? m->vlan_tci : 0;
		return;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
		m->data_len < sizeof(*eth) + sizeof(*vh)) {
		*tci = 0;
		return;
	}
	vh = (struct rte_vlan_hdr *)(eth + 1);
	*tci = rte_be_to_cpu_16(vh->vlan_tci);
	if ((*tci & VLAN_VID_MASK) == 0)
		*tci = 0;
	/* Move the two MAC addresses over the tag. */
	memmove((char *)eth + sizeof(*vh), eth, 2 * RTE_ETHER_ADDR_LEN);
	rte_pktmbuf_adj(m, sizeof(*vh));
}

/*
 * Classify a frame received on a port: strip its tag into *tci (the VLAN
 * it belongs to inside the switch) and say whether the port may send it.
 * Worker lcore.
 */
static inline enum vlan_verdict
vlan_ingress(const struct vlan_port_cfg *cfg, struct rte_mbuf *m, uint16_t *tci)
{
	vlan_pop(m, tci);
	if (cfg->uplink)
		return VLAN_PASS;
	if (!cfg->tagged) {
		if (*tci != 0)
			return VLAN_TAGGED;
		*tci = cfg->access_vid;
		return VLAN_PASS;
	}
	return vlan_carries(cfg, *tci & VLAN_VID_MASK) ? VLAN_PASS : VLAN_NOT_ALLOWED;
}

/*
 * Insert an 802.1Q tag with this TCI in front of the frame. The mbuf must
 * not be shared. Returns 0, or -ENOSPC when the mbuf has no headroom left.
 * Worker lcore.
 */
static inline int
vlan_push(struct rte_mbuf *m, uint16_t tci)
{
	struct rte_ether_hdr *eth;
	struct rte_vlan_hdr *vh;
	char *p;

	p = rte_pktmbuf_prepend(m, sizeof(*vh));
	if (p == NULL)
		return -ENOSPC;
	/* The MACs move to the front; the old ethertype is already where the tag's goes. */
	memmove(p, p + sizeof(*vh), 2 * RTE_ETHER_ADDR_LEN);
	eth = (struct rte_ether_hdr *)p;
	vh = (struct rte_vlan_hdr *)(eth + 1);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
	vh->vlan_tci = rte_cpu_to_be_16(tci);
	return 0;
}

#endif /* PORTICO_VLAN_H */
