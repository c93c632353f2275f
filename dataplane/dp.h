/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane: ports, the compiled snapshot workers forward with, worker
 * lcores, per-lcore counters and the event rings back to control.
 *
 * Two one-way paths meet here (DESIGN.md). Control builds a struct
 * dp_snapshot (dp_snapshot_*() builders), publishes it with dp_publish()
 * (pointer swap, then an RCU grace period before the old one is freed);
 * workers read only the published snapshot and their own state, and push
 * events (learned MACs) on a ring per worker that control drains.
 *
 * Ports have stable indices (0..DP_MAX_PORTS-1) chosen by control for the
 * port's lifetime; counters and learned entries are keyed by them.
 */
#ifndef PORTICO_DATAPLANE_DP_H
#define PORTICO_DATAPLANE_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "capture/capture.h"
#include "dataplane/fdb.h"
#include "security/security.h"
#include "shaping/shaping.h"
#include "teaming/teaming.h"
#include "vlan/vlan.h"

#define DP_BURST 32
#define DP_MAX_PORTS 1088 /* 1024 VM ports + uplinks */
#define DP_MAX_VSWITCHES 16
#define DP_MAX_UPLINKS 8 /* per vSwitch */
#define DP_MAX_WORKERS 16
#define DP_MAX_RXQ 256 /* (port, queue) pairs one worker polls */
#define DP_FDB_LEARNED 8192 /* learned MACs per vSwitch per worker */
#define DP_AGE_DEFAULT 300 /* seconds */
#define DP_FRAME_OVERHEAD 18 /* Ethernet header + one VLAN tag, as Open vSwitch counts */
#define DP_NO_UPLINK UINT16_MAX /* an uplink slot without an open uplink */
#define DP_TEAM_RX_ANY 0xfe /* dp_port.team_rx: group frames from any member uplink */

/*
 * Every drop has a reason and a counter (on the port the frame came in on,
 * or, for the tx reasons, the port it was going out of).
 */
#define DP_DROP_REASONS(X)                                                                   \
	X(RUNT, "runt") /* shorter than an Ethernet header */                                \
	X(OVERSIZE, "oversize") /* longer than MTU + 18 */                                   \
	X(VLAN_TAGGED, "vlan_tagged") /* tagged frame from an EST/VST port */                \
	X(VLAN_NOT_ALLOWED, "vlan_not_allowed") /* VLAN outside a trunk port's ranges */     \
	X(VLAN_UNKNOWN, "vlan_unknown") /* from an uplink, no port carries the VLAN */       \
	X(REFLECTION, "reflection") /* from an uplink with a local VM's source MAC */        \
	X(UNKNOWN_UNICAST, "unknown_unicast") /* from an uplink, not for a local VM */       \
	X(SAME_PORT, "same_port") /* unicast back to the port it came from */                \
	X(NO_UPLINK, "no_uplink") /* unknown unicast from a VM, no uplink up */              \
	X(NO_HEADROOM, "no_headroom") /* no room to insert a VLAN tag */                     \
	X(FORGED_SOURCE, "forged_source") /* forged transmits: source not the VM's MAC */    \
	X(MAC_LIMIT, "mac_limit") /* MAC learning: a new source beyond the limit */          \
	X(STORM_BROADCAST, "storm_broadcast") /* storm control: over the limit */            \
	X(STORM_MULTICAST, "storm_multicast") /* storm control: over the limit */            \
	X(STORM_UNKNOWN_UNICAST, "storm_unknown_unicast") /* storm control */                \
	X(PVLAN, "pvlan") /* private VLAN: the destination's role may not hear it */         \
	X(SHAPING_EXCEED, "shaping_exceed") /* policing: over the rate (either direction) */ \
	X(TEAM_RX, "team_rx") /* from an uplink the port's teaming does not take it from */  \
	X(BEACON, "beacon") /* a teaming beacon, consumed by the switch (not an error) */    \
	X(SHAPING_QUEUE_FULL, "shaping_queue_full") /* shaping: the queue was full */        \
	X(MAC_CHANGED, "mac_changed") /* tx: MAC changes rejected, the guest changed it */   \
	X(PEER_DOWN, "peer_down") /* tx: the port's peer is not connected */                 \
	X(TX_FULL, "tx_full") /* tx: the peer's ring is full */

enum dp_drop {
#define DP_DROP_ENUM(name, str) DP_DROP_##name,
	DP_DROP_REASONS(DP_DROP_ENUM)
#undef DP_DROP_ENUM
	DP_DROP_MAX
};

/* The reason's name as shown by port.stats. */
const char *dp_drop_name(enum dp_drop reason);

/* Counters of one port on one worker (summed by control). */
struct dp_port_stats {
	uint64_t rx_packets; /* frames received from the port */
	uint64_t rx_bytes;
	uint64_t tx_packets; /* frames delivered to the port */
	uint64_t tx_bytes;
	uint64_t unlearned; /* frames forwarded from a source beyond the MAC limit (allow) */
	uint64_t drops[DP_DROP_MAX]; /* by reason */
} __rte_cache_aligned;

/*
 * How a port moves frames: vhost-user (vhost/) and ethdev (ethdev.c)
 * implement it. Functions run on worker lcores.
 */
struct dp_port_ops {
	/* Receive up to n frames from queue. */
	uint16_t (*rx)(void *priv, uint16_t queue, struct rte_mempool *mp, struct rte_mbuf **pkts,
		uint16_t n);
	/* Send up to n frames on queue; returns how many were taken. */
	uint16_t (*tx)(void *priv, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
	/* tx takes ownership of the frames it accepts (ethdev) rather than copying (vhost). */
	bool tx_consumes;
};

/* Traffic directions, from the switch's point of view. */
enum dp_dir {
	DP_DIR_IN, /* ingress: from the port into the switch */
	DP_DIR_OUT, /* egress: from the switch to the port */
	DP_DIR_MAX
};

#define DP_MAX_MIRRORS 16 /* mirroring sessions */

/* Where a port's mirrored frames go. */
struct dp_mirror_target {
	uint16_t port; /* the destination port index */
	uint16_t vid; /* RSPAN: the VLAN tag copies get (an uplink destination); else 0 */
	uint8_t session; /* the session's stable number, for its counters */
};

/* The sessions mirroring one direction of a port. */
struct dp_mirror {
	uint8_t n; /* entries in t */
	struct dp_mirror_target t[DP_MAX_MIRRORS];
};

enum dp_port_kind {
	DP_PORT_VM, /* a VM's vNIC */
	DP_PORT_UPLINK, /* an uplink of its vSwitch */
};

/* A port as workers see it in a snapshot. Immutable once published. */
struct dp_port {
	uint16_t index; /* stable index, 0..DP_MAX_PORTS-1 */
	uint8_t kind; /* enum dp_port_kind */
	uint8_t vswitch; /* stable vSwitch index */
	uint16_t n_queues; /* queue pairs; worker w sends on queue w % n_queues */
	uint16_t max_frame; /* frames longer than this are dropped */
	const struct dp_port_ops *ops; /* how to move frames */
	void *priv; /* the implementation's port object */
	const volatile uint8_t *up; /* non-zero while the peer/link can take frames */
	struct vlan_port_cfg vlan; /* VLAN classification of this port */
	struct sec_port_cfg sec; /* VM ports: security policy (all zero on uplinks) */
	struct cap_session *cap; /* the port's captures (a chain), NULL when none */
	uint8_t mir_on; /* bit d (enum dp_dir): mirror[d] has targets */
	struct dp_mirror mirror[DP_DIR_MAX]; /* sessions mirroring each direction */
	uint8_t uplink_slot; /* uplinks: position in the vSwitch's uplink list (teaming's index) */
	/* VM ports: teaming of the port group (in the snapshot's vSwitch), and what the
	 * port takes from uplinks: any member for unicast, group frames only from
	 * team_rx (DP_TEAM_RX_ANY: any member; IP hash or shotgun). */
	uint8_t team_rx;
	uint32_t team_members;
	const struct team *team;
	uint8_t shp_on; /* bit d (enum dp_dir): traffic shaping enforced in direction d */
	/* Shaping profiles by direction: valid wherever shp_st has states (kept when
	 * shaping goes off, so queued frames still drain). */
	struct shp_profile shp[DP_DIR_MAX];
	struct shp_state *shp_st[DP_DIR_MAX][DP_MAX_WORKERS]; /* per worker; owned by control */
};

/* One vSwitch in a snapshot. */
struct dp_vswitch {
	bool used; /* slot in use */
	uint16_t n_uplinks; /* entries in uplinks */
	uint16_t uplinks[DP_MAX_UPLINKS]; /* by position in the config (teaming's uplink
					   * numbers): port index, NO_UPLINK when not open */
	uint16_t n_teams; /* entries in teams */
	struct team *teams; /* one per port group, as VM ports point at them */
	struct fdb *statics; /* MAC -> VM port (key vid 0); immutable */
	struct fdb *learned[DP_MAX_WORKERS]; /* (VLAN, MAC) -> port, one per worker, owned by it */
	uint32_t *flood_start; /* [VLAN_VID_COUNT + 1]: VM ports of VLAN v are */
	uint16_t *flood_ports; /* flood_ports[flood_start[v] .. flood_start[v + 1]) */
	uint8_t *flood_tagged; /* [VLAN_VID_COUNT]: a VGT/trunk port is among them */
	uint16_t n_taps; /* entries in taps */
	uint16_t *taps; /* VM ports that also get unicast not for them (SEC_PROMISC, or
			 * SEC_MAC_LEARNING with SEC_UNKNOWN_FLOOD: unknown unicast only) */
	uint16_t *pvlan_of; /* [VLAN_VID_COUNT]: the primary of each private VLAN ID, else 0;
			     * NULL when the vSwitch has no private VLANs */
};

/* A (port, queue) a worker polls. */
struct dp_rxq {
	uint16_t port; /* port index */
	uint16_t queue; /* queue pair */
};

/* What one worker polls. */
struct dp_worker_cfg {
	uint16_t n_rxq;
	struct dp_rxq rxq[DP_MAX_RXQ];
};

/* Everything workers forward with: built by control, then read-only. */
struct dp_snapshot {
	uint64_t generation; /* increases with every publish */
	uint32_t age_seconds; /* learned entries expire after this */
	struct dp_port *ports[DP_MAX_PORTS]; /* by index; NULL when unused */
	struct dp_vswitch vswitches[DP_MAX_VSWITCHES]; /* by stable index */
	struct dp_worker_cfg workers[DP_MAX_WORKERS];
	uint16_t n_shaped; /* entries in shaped */
	uint16_t shaped[DP_MAX_PORTS]; /* ports with shaping states: queues drained every loop */
	/* Uplinks whose tx each worker calls every DP_KICK_MS even with nothing to
	 * send (net_bonding in LACP mode sends its LACPDUs from inside tx). */
	uint16_t n_kick;
	uint16_t kick[DP_MAX_PORTS];
};

#define DP_KICK_MS 10 /* the bonding PMD wants tx at least every 100 ms */

/* Events from workers to control. */
enum dp_event_type {
	DP_EV_LEARNED, /* a MAC learned, or moved to another port */
	DP_EV_AGED, /* a learned MAC expired */
	DP_EV_FULL, /* a MAC could not be learned: table full */
	DP_EV_BEACON, /* a teaming beacon arrived on uplink port (mac: its sender) */
};

struct dp_event {
	uint8_t type; /* enum dp_event_type */
	uint8_t vswitch; /* vSwitch index */
	uint16_t port; /* port index */
	uint16_t vid; /* VLAN ID */
	uint8_t mac[6]; /* the MAC */
	uint32_t pad;
};

/*
 * Start the dataplane: n_workers worker lcores (the EAL worker lcores, in
 * order), the mbuf pool, RCU and event rings. Workers are launched by
 * dp_start() once the first snapshot is published. Returns 0 or -errno.
 */
int dp_init(unsigned n_workers, unsigned n_mbufs);
int dp_start(void);
/* Stop workers, wait for them and free everything. */
void dp_fini(void);

unsigned dp_n_workers(void);
struct rte_mempool *dp_mempool(void);

/* Snapshot builder (control side). */
struct dp_snapshot *dp_snapshot_new(void);
void dp_snapshot_free(struct dp_snapshot *s); /* frees ports and flood lists, not learned tables */
struct dp_port *dp_port_new(void);
/*
 * Make port (already in s, a VM port) the static owner of mac in its
 * vSwitch. 0 or -ENOSPC.
 */
int dp_vswitch_add_static(
	struct dp_snapshot *s, const struct dp_port *port, const struct rte_ether_addr *mac);
/*
 * Compute a vSwitch's flood lists and taps from its VM ports in s (call
 * once all ports are in). 0 or -ENOMEM.
 */
int dp_vswitch_build_flood(struct dp_snapshot *s, unsigned vswitch);
/* Record that VLAN vid belongs to private VLAN primary in a vSwitch. 0 or -ENOMEM. */
int dp_vswitch_set_pvlan(struct dp_snapshot *s, unsigned vswitch, uint16_t vid, uint16_t primary);

/*
 * Publish s, wait until no worker can see the previous snapshot, free it.
 * Main lcore. Never stops forwarding.
 */
void dp_publish(struct dp_snapshot *s);
/* The published snapshot (control side: may be read, never changed). */
const struct dp_snapshot *dp_current(void);
/* Wait until every worker has passed a quiescent state (RCU grace period). */
void dp_synchronize(void);

/* A worker's own counters: where its cycles go. */
struct dp_worker_stats {
	unsigned lcore; /* EAL lcore */
	uint64_t loops; /* poll loops */
	uint64_t busy_loops; /* loops that received at least one frame */
	uint64_t rx_packets; /* frames received, all ports */
	uint64_t busy_cycles; /* TSC cycles in loops that received frames */
	uint64_t idle_cycles; /* TSC cycles in loops that did not */
};

/* A worker's counters (id < dp_n_workers()). Main lcore. */
void dp_worker_stats_get(unsigned id, struct dp_worker_stats *out);

/* Sum of a port's counters over all workers. */
void dp_port_stats_get(uint16_t port, struct dp_port_stats *out);

/*
 * Hand a frame the control side built (a beacon, a RARP) to a worker, which
 * sends it out of uplink port at its next round. Takes the mbuf (freed when
 * the ring or the port refuses it). 0 or -ENOBUFS. Main lcore.
 */
int dp_inject(uint16_t port, struct rte_mbuf *m);
/* A mirroring session's copies sent and dropped, all workers. Main lcore. */
void dp_mirror_stats(unsigned session, uint64_t *sent, uint64_t *dropped);
/* Frames given to dp_inject() that could not be sent (ring or tx queue full). */
uint64_t dp_inject_lost(void);

/* Drain up to n events from the workers' rings. Main lcore. */
unsigned dp_events_drain(struct dp_event *ev, unsigned n);
/* Events lost to full rings since start. */
uint64_t dp_events_lost(void);

/*
 * Process a burst received on port in (worker w): classify, look up,
 * deliver. Exposed for tests; the worker loop calls it. Worker lcore, RCU
 * read side.
 */
struct dp_worker;
struct dp_worker *dp_worker_get(unsigned id); /* for tests */
void dp_process(const struct dp_snapshot *s, struct dp_worker *w, const struct dp_port *in,
	struct rte_mbuf **pkts, uint16_t n, uint64_t now);
/*
 * Packet trace: the steps one frame takes through the same pipeline the
 * workers run (dp_process() and dp_trace() are one function compiled twice;
 * the trace's copy writes nothing the workers own: no learning, no event,
 * no transmit). Control renders the steps as text.
 */
enum dp_trace_type {
	DP_TR_RX, /* received on port; arg: length */
	DP_TR_VLAN, /* belongs to VLAN vid in the switch (0 untagged) */
	DP_TR_SOURCE, /* a VM's source check; arg: enum dp_trace_source */
	DP_TR_BEACON, /* a teaming beacon: consumed */
	DP_TR_LEARN, /* from an uplink: its source would be learned on port */
	DP_TR_FLOOD, /* broadcast/multicast; arg: VM ports of the VLAN */
	DP_TR_STATIC, /* the destination is local VM port port */
	DP_TR_OTHER_VLAN, /* the destination MAC is local VM port port's, which does not carry vid
			   */
	DP_TR_LEARNED, /* the destination was learned behind port */
	DP_TR_UNKNOWN, /* unknown unicast */
	DP_TR_TAPS, /* arg: promiscuous or learning ports that get a copy */
	DP_TR_UPLINKS, /* arg: uplinks teaming sends it out of (its port group's policy) */
	DP_TR_OUT, /* to port, tagged vid (0: untagged), arg: enum dp_drop when it would not
		    * leave (peer down, MAC changes), else -1 */
	DP_TR_DROP, /* dropped; arg: enum dp_drop */
};

enum dp_trace_source {
	DP_TR_SRC_OWN, /* the port's effective MAC */
	DP_TR_SRC_FORGED_OK, /* another source, forged transmits accept */
	DP_TR_SRC_LEARNED, /* learned behind the port (MAC learning) */
	DP_TR_SRC_WOULD_LEARN, /* would be learned now */
	DP_TR_SRC_UNLEARNED, /* beyond the MAC limit, passed unlearned (allow) */
};

struct dp_trace_step {
	uint8_t type; /* enum dp_trace_type */
	uint16_t port; /* a port index, where the step names one */
	uint16_t vid; /* a VLAN ID, where the step names one */
	int32_t arg; /* per type, see enum dp_trace_type */
};

#define DP_TRACE_MAX 64
struct dp_trace {
	unsigned n; /* steps used */
	struct dp_trace_step step[DP_TRACE_MAX];
};

/*
 * Trace frame m received on port in (m is consumed): w from
 * dp_trace_worker_new() (control's own, never a real worker's), the
 * published snapshot. Main lcore.
 */
void dp_trace(const struct dp_snapshot *s, struct dp_worker *w, const struct dp_port *in,
	struct rte_mbuf *m, uint64_t now, struct dp_trace *tr);
/* A worker state for dp_trace() (reads worker 0's learned tables). NULL when out of memory. */
struct dp_worker *dp_trace_worker_new(void);
void dp_trace_worker_free(struct dp_worker *w);

/*
 * Release what the shaping queues of s's shaped ports have credit for at
 * time now (ingress frames go through dp_process(), egress frames to their
 * port). The worker loop calls it every round. Worker lcore, RCU read side.
 */
void dp_drain_shaped(const struct dp_snapshot *s, struct dp_worker *w, uint64_t now);
/*
 * Shape or police frames just received from VM port p with ingress shaping
 * on: returns how many go on to dp_process() now (the others were dropped
 * and freed, or queued). Worker lcore.
 */
uint16_t dp_ingress_shape(struct dp_worker *w, const struct dp_port *p, struct rte_mbuf **pkts,
	uint16_t n, uint64_t now);

#endif /* PORTICO_DATAPLANE_DP_H */
