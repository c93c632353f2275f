/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Applying a configuration: the runtime objects behind the config (vhost
 * sockets, ethdevs, stable port and vSwitch indices, learned tables) and the
 * step from one desired state to the next.
 *
 * ctl_apply() is validate-first and all-or-nothing: it creates what the new
 * config adds, compiles and publishes a snapshot, then destroys what it
 * removes. If creating anything fails, what was created is destroyed again
 * and the running state is unchanged. Main lcore only.
 */
#ifndef PORTICO_CONTROL_APPLY_H
#define PORTICO_CONTROL_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "control/config.h"
#include "control/linkwatch.h"
#include "control/teams.h"
#include "dataplane/dp.h"
#include "dataplane/ethdev.h"
#include "vhost/vhost.h"

/* A VM port's runtime. */
struct ctl_rt_port {
	struct ctl_port cfg; /* what it was created from */
	struct vh_port *vh; /* its vhost-user socket */
	uint16_t index; /* dataplane port index */
	struct dp_port_stats base; /* counters of the index when created (reported as 0) */
	/* Reported state (port.set, fed by the host agent), not configuration: */
	bool eff_mac_set; /* the guest's MAC was reported */
	uint8_t eff_mac[6]; /* ...and is this one */
	int8_t guest_promisc; /* -1 not reported (counts as asking), 0 no, 1 the guest asked */
	/* Traffic shaping state per direction and worker, made when shaping is first
	 * enabled and kept (credit, counters, queue) until the port goes: */
	struct shp_state *shp[DP_DIR_MAX][DP_MAX_WORKERS];
	struct cap_session *cap; /* its captures (control/capture.c), published with it */
	uint64_t connects_seen; /* vhost connections already announced (notify switches) */
};

/* An uplink's runtime. */
struct ctl_rt_uplink {
	struct ctl_uplink cfg; /* what it was created from */
	char vswitch[CTL_NAME_MAX]; /* its vSwitch */
	struct dp_ethdev *eth; /* the opened ethdev */
	uint16_t index; /* dataplane port index */
	struct dp_port_stats base; /* counters of the index when created */
	struct cap_session *cap; /* its captures (control/capture.c), published with it */
	char iface[32]; /* the kernel interface behind it (af_packet, af_xdp, tap), or "" */
	bool carrier; /* its link, as teaming sees it */
	uint8_t slot; /* position in its vSwitch's uplink list (set at compile) */
	uint64_t link_downs; /* times the link went down */
	uint64_t link_ups; /* times it came back */
};

/* A vSwitch's runtime. */
struct ctl_rt_vswitch {
	char name[CTL_NAME_MAX];
	uint8_t index; /* stable dataplane vSwitch index */
	struct fdb *learned[DP_MAX_WORKERS]; /* per worker, owned by the worker while published */
	struct fdb *mirror; /* control's view of learned MACs, from events; seen = learned at */
	unsigned n_teams; /* entries in teams */
	struct ctl_rt_team *teams; /* one per port group (control/teams.h) */
	struct ctl_rt_uplink *slots[DP_MAX_UPLINKS]; /* uplinks by position, as published */
	/* What the last compile built, until it is published (ctl_teams_commit()): */
	bool has_staged;
	unsigned n_staged;
	struct ctl_rt_team *staged;
	struct ctl_rt_uplink *staged_slots[DP_MAX_UPLINKS];
};

struct ctl_rt {
	struct ctl_config *cfg; /* the applied config */
	unsigned n_ports;
	struct ctl_rt_port *ports[CTL_MAX_PORTS];
	unsigned n_uplinks;
	struct ctl_rt_uplink *uplinks[CTL_MAX_VSWITCHES * CTL_MAX_UPLINKS];
	struct ctl_rt_vswitch *vswitches[DP_MAX_VSWITCHES]; /* by index */
	bool index_used[DP_MAX_PORTS];
	uint64_t index_freed_ms[DP_MAX_PORTS]; /* when a published index was freed (0: never) */
	uint64_t start_sec; /* monotonic seconds at start, for ages */
	struct ctl_lw *lw; /* kernel carrier of kernel-backed uplinks; NULL if it failed */
	/* Mirroring sessions' stable numbers (their counters): the name holding each. */
	char mirror_slot[DP_MAX_MIRRORS][CTL_NAME_MAX];
	uint64_t mirror_base[DP_MAX_MIRRORS][2]; /* counters (sent, dropped) when taken */
	bool republish; /* a team changed: publish a new snapshot */
};

struct ctl_rt *ctl_rt_new(void);
/* Tear everything down (ports, uplinks), publish an empty snapshot. NULL no-op. */
void ctl_rt_free(struct ctl_rt *rt);

/*
 * Make next the running config (next must be valid). On success rt owns
 * next; on failure the caller keeps it, err says why and nothing changed.
 * Returns 0 or -errno.
 */
int ctl_apply(struct ctl_rt *rt, struct ctl_config *next, char *err);

/*
 * Publish a new snapshot of the running config, after a port's reported
 * state changed. 0 or -ENOMEM with err; nothing changed on failure.
 */
int ctl_rt_republish(struct ctl_rt *rt, char *err);

/* The MAC a port's guest uses: reported, else the configured one. */
const uint8_t *ctl_rt_port_eff_mac(const struct ctl_rt_port *p, const struct ctl_port *cfg);

/* A mirroring session's copies sent and dropped since it was made (-ENOENT: none). */
int ctl_rt_mirror_stats(
	const struct ctl_rt *rt, const char *name, uint64_t *sent, uint64_t *dropped);

/* Runtime lookups by name (NULL when absent). */
struct ctl_rt_port *ctl_rt_port(const struct ctl_rt *rt, const char *name);
struct ctl_rt_uplink *ctl_rt_uplink(const struct ctl_rt *rt, const char *name);
struct ctl_rt_vswitch *ctl_rt_vswitch(const struct ctl_rt *rt, const char *name);

/* Counters since the port was created. */
void ctl_rt_stats(uint16_t index, const struct dp_port_stats *base, struct dp_port_stats *out);
/* A VM port's shaping counters in direction d (all workers); *queued: frames queued now. */
void ctl_rt_shaping_stats(
	const struct ctl_rt_port *p, enum dp_dir d, struct shp_stats *out, uint64_t *queued);

/*
 * Drain worker events into the mirrors; links, teaming. Main loop, at least
 * every ctl_rt_poll_timeout_ms().
 */
void ctl_rt_poll(struct ctl_rt *rt);
int ctl_rt_poll_timeout_ms(const struct ctl_rt *rt);

/* Monotonic seconds, milliseconds. */
uint64_t ctl_now_sec(void);
uint64_t ctl_now_ms(void);

#endif /* PORTICO_CONTROL_APPLY_H */
