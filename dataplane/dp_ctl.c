/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane, control side (main lcore): start and stop the workers,
 * build and publish snapshots under RCU, read counters and drain events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dataplane/dp_private.h"

#define EVENT_RING_SIZE 4096
#define INJECT_RING_SIZE 4096 /* frames control sends (beacons, RARPs) in flight */

static const char *const drop_names[DP_DROP_MAX] = {
#define DP_DROP_NAME(name, str) [DP_DROP_##name] = str,
	DP_DROP_REASONS(DP_DROP_NAME)
#undef DP_DROP_NAME
};

const char *
dp_drop_name(enum dp_drop reason)
{
	return reason < DP_DROP_MAX ? drop_names[reason] : "?";
}

struct dp_worker *
dp_worker_get(unsigned id)
{
	return id < dp.n_workers ? dp.workers[id] : NULL;
}

unsigned
dp_n_workers(void)
{
	return dp.n_workers;
}

struct rte_mempool *
dp_mempool(void)
{
	return dp.mp;
}

const struct dp_snapshot *
dp_current(void)
{
	return __atomic_load_n(&dp.snap, __ATOMIC_ACQUIRE);
}

int
dp_init(unsigned n_workers, unsigned n_mbufs)
{
	size_t sz;
	unsigned i;
	int ret;

	if (n_workers == 0 || n_workers > DP_MAX_WORKERS)
		return -EINVAL;
	dp.n_workers = n_workers;
	dp.mp = rte_pktmbuf_pool_create(
		"portico_mbufs", n_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (dp.mp == NULL)
		return -rte_errno;
	sz = rte_rcu_qsbr_get_memsize(n_workers);
	dp.qs = rte_zmalloc("portico_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (dp.qs == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = rte_rcu_qsbr_init(dp.qs, n_workers);
	if (ret != 0) {
		ret = -rte_errno;
		goto fail;
	}
	for (i = 0; i < n_workers; i++) {
		struct dp_worker *w;
		char name[RTE_RING_NAMESIZE];

		w = rte_zmalloc("portico_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
		if (w == NULL) {
			ret = -ENOMEM;
			goto fail;
		}
		dp.workers[i] = w;
		w->id = i;
		w->tsc_hz = rte_get_tsc_hz();
		memset(w->slot_of, 0xff, sizeof(w->slot_of));
		snprintf(name, sizeof(name), "portico_ev%u", i);
		w->events = rte_ring_create_elem(name, sizeof(struct dp_event), EVENT_RING_SIZE,
			rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->events == NULL) {
			ret = -rte_errno;
			goto fail;
		}
		snprintf(name, sizeof(name), "portico_inj%u", i);
		w->inject = rte_ring_create(
			name, INJECT_RING_SIZE, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->inject == NULL) {
			ret = -rte_errno;
			goto fail;
		}
		rte_rcu_qsbr_thread_register(dp.qs, i);
	}
	dp.snap = dp_snapshot_new();
	if (dp.snap == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	dp_fini();
	return ret;
}

int
dp_start(void)
{
	unsigned lcore, i = 0;
	int ret;

	/* Running from the first launch on, so dp_fini() waits for what started. */
	dp.running = true;
	RTE_LCORE_FOREACH_WORKER (lcore) {
		if (i >= dp.n_workers)
			break;
		dp.workers[i]->lcore = lcore;
		ret = rte_eal_remote_launch(dp_worker_main, dp.workers[i], lcore);
		if (ret != 0)
			return ret;
		i++;
	}
	return i < dp.n_workers ? -ENODEV : 0;
}

void
dp_fini(void)
{
	unsigned i;

	if (dp.running) {
		dp.quit = true;
		rte_eal_mp_wait_lcore();
		dp.running = false;
	}
	dp_snapshot_free(dp.snap);
	dp.snap = NULL;
	for (i = 0; i < DP_MAX_WORKERS; i++) {
		if (dp.workers[i] == NULL)
			continue;
		rte_ring_free(dp.workers[i]->events);
		if (dp.workers[i]->inject != NULL) {
			struct rte_mbuf *m;

			while (rte_ring_sc_dequeue(dp.workers[i]->inject, (void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(dp.workers[i]->inject);
		}
		rte_free(dp.workers[i]);
		dp.workers[i] = NULL;
	}
	rte_free(dp.qs);
	dp.qs = NULL;
	rte_mempool_free(dp.mp);
	dp.mp = NULL;
}

void
dp_synchronize(void)
{
	uint64_t token;

	if (dp.qs == NULL)
		return;
	/*
	 * Not rte_rcu_qsbr_synchronize(): it spins, and on a CPU shared with
	 * a worker that steals the worker's time (dpdk-notes.md).
	 */
	token = rte_rcu_qsbr_start(dp.qs);
	while (rte_rcu_qsbr_check(dp.qs, token, false) == 0)
		usleep(50);
}

void
dp_publish(struct dp_snapshot *s)
{
	struct dp_snapshot *old = dp.snap;

	s->generation = ++dp.generation;
	__atomic_store_n(&dp.snap, s, __ATOMIC_RELEASE);
	dp_synchronize();
	dp_snapshot_free(old);
}

struct dp_snapshot *
dp_snapshot_new(void)
{
	struct dp_snapshot *s = calloc(1, sizeof(*s));

	if (s != NULL)
		s->age_seconds = DP_AGE_DEFAULT;
	return s;
}

struct dp_port *
dp_port_new(void)
{
	struct dp_port *p =
		aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*p), RTE_CACHE_LINE_SIZE));

	if (p != NULL)
		memset(p, 0, sizeof(*p));
	return p;
}

void
dp_snapshot_free(struct dp_snapshot *s)
{
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < DP_MAX_PORTS; i++)
		free(s->ports[i]);
	for (i = 0; i < DP_MAX_VSWITCHES; i++) {
		fdb_destroy(s->vswitches[i].statics);
		free(s->vswitches[i].flood_start);
		free(s->vswitches[i].flood_ports);
		free(s->vswitches[i].flood_tagged);
		free(s->vswitches[i].taps);
		free(s->vswitches[i].teams);
		free(s->vswitches[i].pvlan_of);
	}
	free(s);
}

int
dp_vswitch_add_static(
	struct dp_snapshot *s, const struct dp_port *port, const struct rte_ether_addr *mac)
{
	struct fdb *t = s->vswitches[port->vswitch].statics;
	uint64_t key = fdb_key(0, mac);
	int ret;

	ret = fdb_set(t, key, port->index, 0);
	if (ret != 0)
		return ret;
	/* Access ports receive one VLAN: the entry holds it for the hot path. */
	fdb_find(t, key)->vid = port->vlan.tagged || port->vlan.mode == VLAN_MODE_PVLAN
		? FDB_VID_ANY
		: port->vlan.access_vid;
	return 0;
}

/* Does VM port p of vSwitch v get unicast frames that are not for it? */
static bool
is_tap(const struct dp_port *p, unsigned v)
{
	const uint32_t uu = SEC_MAC_LEARNING | SEC_UNKNOWN_FLOOD;

	if (p == NULL || p->vswitch != v || p->kind != DP_PORT_VM)
		return false;
	return (p->sec.flags & SEC_PROMISC) || (p->sec.flags & uu) == uu;
}

int
dp_vswitch_build_flood(struct dp_snapshot *s, unsigned v)
{
	struct dp_vswitch *vs = &s->vswitches[v];
	uint32_t total = 0, vid, i;

	free(vs->flood_start);
	free(vs->flood_ports);
	free(vs->flood_tagged);
	free(vs->taps);
	vs->taps = NULL;
	vs->n_taps = 0;
	vs->flood_ports = NULL;
	vs->flood_start = calloc(VLAN_VID_COUNT + 1, sizeof(*vs->flood_start));
	vs->flood_tagged = calloc(VLAN_VID_COUNT, sizeof(*vs->flood_tagged));
	if (vs->flood_start == NULL || vs->flood_tagged == NULL)
		return -ENOMEM;
	for (vid = 0; vid < VLAN_VID_COUNT; vid++) {
		vs->flood_start[vid] = total;
		for (i = 0; i < DP_MAX_PORTS; i++) {
			const struct dp_port *p = s->ports[i];

			if (p != NULL && p->vswitch == v && p->kind == DP_PORT_VM &&
				vlan_carries(&p->vlan, vid))
				total++;
		}
	}
	vs->flood_start[VLAN_VID_COUNT] = total;
	vs->flood_ports = malloc((total ? total : 1) * sizeof(*vs->flood_ports));
	if (vs->flood_ports == NULL)
		return -ENOMEM;
	total = 0;
	for (vid = 0; vid < VLAN_VID_COUNT; vid++)
		for (i = 0; i < DP_MAX_PORTS; i++) {
			const struct dp_port *p = s->ports[i];

			if (p != NULL && p->vswitch == v && p->kind == DP_PORT_VM &&
				vlan_carries(&p->vlan, vid)) {
				vs->flood_ports[total++] = i;
				vs->flood_tagged[vid] |= p->vlan.tagged;
			}
		}
	/* The taps: counted, then listed. */
	total = 0;
	for (i = 0; i < DP_MAX_PORTS; i++)
		total += is_tap(s->ports[i], v);
	if (total == 0)
		return 0;
	vs->taps = malloc(total * sizeof(*vs->taps));
	if (vs->taps == NULL)
		return -ENOMEM;
	for (i = 0; i < DP_MAX_PORTS; i++)
		if (is_tap(s->ports[i], v))
			vs->taps[vs->n_taps++] = (uint16_t)i;
	return 0;
}

int
dp_vswitch_set_pvlan(struct dp_snapshot *s, unsigned v, uint16_t vid, uint16_t primary)
{
	struct dp_vswitch *vs = &s->vswitches[v];

	if (vid >= VLAN_VID_COUNT)
		return -EINVAL;
	if (vs->pvlan_of == NULL) {
		vs->pvlan_of = calloc(VLAN_VID_COUNT, sizeof(*vs->pvlan_of));
		if (vs->pvlan_of == NULL)
			return -ENOMEM;
	}
	vs->pvlan_of[vid] = primary;
	return 0;
}

void
dp_worker_stats_get(unsigned id, struct dp_worker_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (id >= dp.n_workers)
		return;
	*out = dp.workers[id]->ws;
	out->lcore = dp.workers[id]->lcore;
}

void
dp_port_stats_get(uint16_t port, struct dp_port_stats *out)
{
	unsigned i, r;

	memset(out, 0, sizeof(*out));
	if (port >= DP_MAX_PORTS)
		return;
	for (i = 0; i < dp.n_workers; i++) {
		const struct dp_port_stats *st = &dp.workers[i]->stats[port];

		out->rx_packets += st->rx_packets;
		out->rx_bytes += st->rx_bytes;
		out->tx_packets += st->tx_packets;
		out->tx_bytes += st->tx_bytes;
		out->unlearned += st->unlearned;
		for (r = 0; r < DP_DROP_MAX; r++)
			out->drops[r] += st->drops[r];
	}
}

struct dp_worker *
dp_trace_worker_new(void)
{
	struct dp_worker *w = rte_zmalloc("portico_trace", sizeof(*w), RTE_CACHE_LINE_SIZE);

	if (w == NULL)
		return NULL;
	w->id = 0; /* reads worker 0's learned tables; writes none of them */
	w->tsc_hz = rte_get_tsc_hz();
	memset(w->slot_of, 0xff, sizeof(w->slot_of));
	return w;
}

void
dp_trace_worker_free(struct dp_worker *w)
{
	rte_free(w);
}

int
dp_inject(uint16_t port, struct rte_mbuf *m)
{
	/* Worker 0: every worker has its own tx queue on every uplink. */
	struct dp_worker *w = dp.n_workers > 0 ? dp.workers[0] : NULL;

	m->port = port;
	if (w == NULL || rte_ring_sp_enqueue(w->inject, m) != 0) {
		rte_pktmbuf_free(m);
		dp.inject_refused++;
		return -ENOBUFS;
	}
	return 0;
}

void
dp_mirror_stats(unsigned session, uint64_t *sent, uint64_t *dropped)
{
	*sent = *dropped = 0;
	for (unsigned i = 0; session < DP_MAX_MIRRORS && i < dp.n_workers; i++) {
		*sent += dp.workers[i]->mirror_sent[session];
		*dropped += dp.workers[i]->mirror_dropped[session];
	}
}

uint64_t
dp_inject_lost(void)
{
	uint64_t lost = dp.inject_refused;

	for (unsigned i = 0; i < dp.n_workers; i++)
		lost += dp.workers[i]->inject_lost;
	return lost;
}

unsigned
dp_events_drain(struct dp_event *ev, unsigned n)
{
	unsigned got = 0, i;

	for (i = 0; i < dp.n_workers && got < n; i++)
		got += rte_ring_sc_dequeue_burst_elem(
			dp.workers[i]->events, ev + got, sizeof(*ev), n - got, NULL);
	return got;
}

uint64_t
dp_events_lost(void)
{
	uint64_t lost = 0;

	for (unsigned i = 0; i < dp.n_workers; i++)
		lost += dp.workers[i]->events_lost;
	return lost;
}
