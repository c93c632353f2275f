/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L2 security of a VM port: the compiled per-port policy the burst pipeline
 * reads, and storm control's token buckets.
 *
 * A leaf module (DPDK only). Control resolves the inherited policy
 * (portgroups/) and the port's reported state (effective MAC, guest
 * promiscuous mode) into a struct sec_port_cfg once, when it compiles a
 * snapshot; the dataplane tests its flags per frame. What each flag means is
 * vsphere-semantics.md's security table:
 *
 *   forged transmits = reject  -> SEC_FORGED_REJECT: a frame from the VM whose
 *                                 source is not the effective MAC is dropped;
 *   MAC address changes = reject and effective != configured
 *                              -> SEC_RX_BLOCKED: nothing is delivered to the VM;
 *   promiscuous = accept and the guest asked for it
 *                              -> SEC_PROMISC: the port receives every frame of
 *                                 the VLANs it carries.
 *
 * Storm control limits broadcast, multicast and unknown unicast frames a
 * port may send, in frames per second, with a token bucket whose credit is
 * kept in TSC cycles: time is a parameter, so tests use a fake clock.
 */
#ifndef PORTICO_SECURITY_H
#define PORTICO_SECURITY_H

#include <stdbool.h>
#include <stdint.h>

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

/* What a port's policy asks of the packet path. */
enum sec_flag {
	SEC_FORGED_REJECT = 1 << 0, /* drop frames whose source is not the effective MAC */
	SEC_RX_BLOCKED = 1 << 1, /* MAC changes rejected and the guest changed its MAC */
	SEC_PROMISC = 1 << 2, /* receive every frame of the VLANs the port carries */
	SEC_MAC_LEARNING = 1 << 3, /* learn the sources behind the port (nested hosts) */
	SEC_LIMIT_ALLOW = 1 << 4, /* beyond the MAC limit: forward unlearned, not drop */
	SEC_UNKNOWN_FLOOD = 1 << 5, /* a learning port that also receives unknown unicast */
	SEC_STORM = 1 << 6, /* at least one storm control limit is set */
};

/* The frame classes storm control limits. */
enum sec_storm_class {
	SEC_STORM_BROADCAST,
	SEC_STORM_MULTICAST,
	SEC_STORM_UNKNOWN_UNICAST,
	SEC_STORM_MAX
};

/* One storm control limit, compiled. */
struct sec_storm_cfg {
	uint64_t cost; /* TSC cycles of credit one frame takes; 0: no limit */
	uint64_t depth; /* most credit the bucket holds, in cycles */
};

/* A bucket's state: per worker, per port, per class. All zero: never used. */
struct sec_storm_state {
	uint64_t credit; /* cycles of credit left at time last */
	uint64_t last; /* TSC of the last refill; 0 never */
};

/* A VM port's compiled security policy. Read-only on the packet path. */
struct sec_port_cfg {
	uint32_t flags; /* enum sec_flag bits */
	uint32_t mac_limit; /* SEC_MAC_LEARNING: most sources learned behind the port */
	struct rte_ether_addr eff_mac; /* the MAC the guest uses (starts as the configured one) */
	uint64_t eff_key; /* eff_mac's 6 bytes as loaded by sec_src_key(): one compare per frame */
	struct sec_storm_cfg storm[SEC_STORM_MAX]; /* by enum sec_storm_class */
};

/* What one worker keeps per port. */
struct sec_port_state {
	struct sec_storm_state storm[SEC_STORM_MAX]; /* buckets, by class */
	uint32_t n_learned; /* sources this worker learned behind the port */
};

/*
 * Compile a limit of pps frames per second for a TSC of hz. The bucket
 * holds a tenth of a second of frames (at least one), so a limit holds
 * over any window longer than that. pps 0: no limit. Returns 0 or -EINVAL
 * (hz 0, or pps above hz).
 */
int sec_storm_cfg_init(struct sec_storm_cfg *cfg, uint64_t pps, uint64_t hz);

/*
 * May one more frame pass the bucket at time now (TSC)? Takes its credit
 * if so. A bucket never used starts full. Worker lcore.
 */
static inline bool
sec_storm_admit(const struct sec_storm_cfg *cfg, struct sec_storm_state *st, uint64_t now)
{
	uint64_t credit = st->credit;

	if (cfg->cost == 0)
		return true;
	/* Refill for the time gone by, up to the depth (no overflow: depth < 2^63). */
	if (unlikely(st->last == 0))
		credit = cfg->depth; /* never used: full (a TSC is never 0) */
	else if (now > st->last)
		credit += RTE_MIN(now - st->last, cfg->depth);
	st->last = now;
	if (credit > cfg->depth)
		credit = cfg->depth;
	if (credit < cfg->cost) {
		st->credit = credit;
		return false;
	}
	st->credit = credit - cfg->cost;
	return true;
}

/* The source MAC of an Ethernet frame (at least 14 bytes) as one integer. */
static inline uint64_t
sec_src_key(const struct rte_ether_hdr *eth)
{
	uint64_t k;

	/* Bytes 6..13: the source and the ethertype; only the source is kept. */
	memcpy(&k, &eth->src_addr, sizeof(k));
	return k & (rte_cpu_to_be_64(UINT64_C(0xffffffffffff0000)));
}

/* Set cfg->eff_mac and the key the packet path compares with. */
static inline void
sec_set_eff_mac(struct sec_port_cfg *cfg, const struct rte_ether_addr *mac)
{
	struct rte_ether_hdr h = {.src_addr = *mac};

	cfg->eff_mac = *mac;
	cfg->eff_key = sec_src_key(&h);
}

/*
 * Is src a source the port may not send from, under forged transmits =
 * reject? Compares with the effective MAC. Worker lcore.
 */
static inline bool
sec_forged(const struct sec_port_cfg *cfg, const struct rte_ether_addr *src)
{
	return !rte_is_same_ether_addr(src, &cfg->eff_mac);
}

#endif /* PORTICO_SECURITY_H */
