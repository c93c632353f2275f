/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VLAN configuration compile (control side). The per-frame functions are
 * inline in vlan.h.
 */
#include <errno.h>
#include <string.h>

#include "vlan/vlan.h"

static void
carry(struct vlan_port_cfg *cfg, uint16_t vid)
{
	cfg->carried[vid >> 6] |= UINT64_C(1) << (vid & 63);
}

int
vlan_port_cfg_init(struct vlan_port_cfg *cfg, enum vlan_mode mode, uint16_t vid,
	const struct vlan_range *ranges, unsigned n_ranges)
{
	unsigned i, v;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = mode;
	switch (mode) {
	case VLAN_MODE_NONE:
		carry(cfg, 0);
		return 0;
	case VLAN_MODE_VST:
		if (vid == 0 || vid >= VLAN_VID_COUNT - 1)
			return -EINVAL;
		cfg->access_vid = vid;
		carry(cfg, vid);
		return 0;
	case VLAN_MODE_VGT:
		cfg->tagged = true;
		for (v = 0; v < VLAN_VID_COUNT - 1; v++)
			carry(cfg, v);
		return 0;
	case VLAN_MODE_TRUNK:
		cfg->tagged = true;
		if (n_ranges == 0)
			return -EINVAL;
		for (i = 0; i < n_ranges; i++) {
			if (ranges[i].first > ranges[i].last ||
				ranges[i].last >= VLAN_VID_COUNT - 1)
				return -EINVAL;
			for (v = ranges[i].first; v <= ranges[i].last; v++)
				carry(cfg, v);
		}
		return 0;
	case VLAN_MODE_PVLAN:
		return -EINVAL; /* vlan_port_cfg_pvlan() */
	}
	return -EINVAL;
}

int
vlan_port_cfg_pvlan(struct vlan_port_cfg *cfg, uint16_t primary, uint16_t vid,
	const struct vlan_pvlan_secondary *secs, unsigned n_secs)
{
	int type = vid == primary ? VLAN_PVLAN_PROMISCUOUS : -1;
	unsigned i;

	memset(cfg, 0, sizeof(*cfg));
	if (primary == 0 || primary >= VLAN_VID_COUNT - 1)
		return -EINVAL;
	for (i = 0; i < n_secs && type < 0; i++)
		if (secs[i].vid == vid)
			type = secs[i].type;
	if (type < 0 || vid == 0 || vid >= VLAN_VID_COUNT - 1)
		return -EINVAL;
	cfg->mode = VLAN_MODE_PVLAN;
	cfg->access_vid = vid;
	cfg->pvlan_primary = primary;
	carry(cfg, primary); /* everyone hears the promiscuous ports */
	for (i = 0; i < n_secs; i++) {
		if (secs[i].vid == 0 || secs[i].vid >= VLAN_VID_COUNT - 1)
			return -EINVAL;
		if (type == VLAN_PVLAN_PROMISCUOUS ||
			(type == VLAN_PVLAN_COMMUNITY && secs[i].vid == vid))
			carry(cfg, secs[i].vid);
	}
	return 0;
}

void
vlan_port_cfg_uplink(struct vlan_port_cfg *cfg)
{
	vlan_port_cfg_init(cfg, VLAN_MODE_VGT, 0, NULL, 0);
	cfg->uplink = true;
}
