/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dataplane internals shared by the worker side (dp.c) and the control side
 * (dp_ctl.c): a worker's own state and the module's globals. Not for other
 * modules: they see dp.h only.
 */
#ifndef PORTICO_DATAPLANE_DP_PRIVATE_H
#define PORTICO_DATAPLANE_DP_PRIVATE_H

#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dataplane/dp.h"

#define NO_SLOT UINT16_MAX

/* Frames collected for one destination port during a burst. */
struct dp_out {
	uint16_t port; /* destination port index */
	uint16_t n; /* frames in pkts */
	uint32_t bytes; /* their length in all */
	struct rte_mbuf *pkts[DP_BURST]; /* at most one entry per received frame */
};

/* A worker lcore's own state: written by it alone. */
struct dp_worker {
	unsigned id; /* worker index: RCU thread id, learned table, tx queue */
	unsigned lcore; /* EAL lcore it runs on */
	struct rte_ring *events; /* single producer (this worker), single consumer (main) */
	struct rte_ring *inject; /* frames from control to send: single producer (main) */
	uint64_t inject_lost; /* injected frames the port did not take */
	uint64_t events_lost; /* events not pushed: ring full */
	uint64_t learn_full; /* MACs not learned: table full */
	uint64_t tsc_hz;
	uint64_t next_second; /* TSC at which now_sec moves on */
	uint64_t next_kick; /* TSC at which the snapshot's kick uplinks get an empty tx */
	uint32_t now_sec; /* seconds since start, for learned entries */
	uint32_t age_cursor[DP_MAX_VSWITCHES]; /* where aging goes on, per vSwitch */
	uint8_t aging_vswitch; /* the vSwitch being aged, for aged_cb() */
	struct dp_worker_stats ws; /* where the cycles go */
	uint16_t n_out; /* slots used in this burst */
	uint16_t slot_of[DP_MAX_PORTS]; /* port index -> slot, NO_SLOT when none */
	struct dp_out out[DP_MAX_PORTS]; /* the slots */
	struct dp_port_stats stats[DP_MAX_PORTS];
	struct sec_port_state sec[DP_MAX_PORTS]; /* storm buckets and learned counts, by port */
	uint64_t mirror_sent[DP_MAX_MIRRORS]; /* copies a destination took, by session */
	uint64_t mirror_dropped[DP_MAX_MIRRORS]; /* copies not made or not taken */
};

/* The dataplane's globals. */
struct dp_globals {
	unsigned n_workers;
	struct dp_worker *workers[DP_MAX_WORKERS];
	struct rte_mempool *mp;
	struct rte_rcu_qsbr *qs;
	struct dp_snapshot *snap; /* published; atomic pointer */
	uint64_t generation;
	uint64_t inject_refused; /* dp_inject() frames no ring took (main lcore) */
	volatile bool quit;
	bool running;
};

extern struct dp_globals dp;

/* The worker lcore's entry point (dp.c). */
int dp_worker_main(void *arg);

#endif /* PORTICO_DATAPLANE_DP_PRIVATE_H */
