/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane: worker loop, the burst pipeline, snapshot publish (RCU),
 * per-lcore counters and event rings.
 *
 * The burst pipeline has two passes. The first classifies every frame
 * (VLAN, size, lookup, learning) and appends it to one output slot per
 * destination port; the second sends each slot with one burst call. Frames
 * go to several ports without copies: vhost-user enqueue copies into the
 * guest and leaves the mbuf to us, so a flood enqueues the same mbuf to
 * every VM port and an ethdev (which takes ownership) comes last. A frame
 * of a tagged VLAN is delivered untagged first, then tagged in place for the
 * ports that want the tag.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dataplane/dp.h"

#define NO_SLOT UINT16_MAX
#define EVENT_RING_SIZE 4096
#define AGE_BUDGET 4096 /* slots of a learned table a worker ages per second */

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
	uint64_t events_lost; /* events not pushed: ring full */
	uint64_t learn_full; /* MACs not learned: table full */
	uint64_t tsc_hz;
	uint64_t next_second; /* TSC at which now_sec moves on */
	uint32_t now_sec; /* seconds since start, for learned entries */
	uint32_t age_cursor[DP_MAX_VSWITCHES]; /* where aging goes on, per vSwitch */
	uint8_t aging_vswitch; /* the vSwitch being aged, for aged_cb() */
	struct dp_worker_stats ws; /* where the cycles go */
	uint16_t n_out; /* slots used in this burst */
	uint16_t slot_of[DP_MAX_PORTS]; /* port index -> slot, NO_SLOT when none */
	struct dp_out out[DP_MAX_PORTS]; /* the slots */
	struct dp_port_stats stats[DP_MAX_PORTS];
};

static struct {
	unsigned n_workers;
	struct dp_worker *workers[DP_MAX_WORKERS];
	struct rte_mempool *mp;
	struct rte_rcu_qsbr *qs;
	struct dp_snapshot *snap; /* published; atomic pointer */
	uint64_t generation;
	volatile bool quit;
	bool running;
} dp;

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

/* --- the burst pipeline (worker lcore, RCU read side) --- */

static inline void
out_add(struct dp_worker *w, uint16_t port, struct rte_mbuf *m, uint32_t len)
{
	uint16_t k = w->slot_of[port];
	struct dp_out *o;

	if (k == NO_SLOT) {
		k = w->n_out++;
		w->slot_of[port] = k;
		w->out[k].port = port;
		w->out[k].n = 0;
		w->out[k].bytes = 0;
	}
	o = &w->out[k];
	o->pkts[o->n++] = m;
	o->bytes += len;
}

static inline void
event_push(
	struct dp_worker *w, enum dp_event_type type, uint8_t vswitch, uint64_t key, uint16_t port)
{
	struct dp_event ev = {.type = type, .vswitch = vswitch, .port = port};
	struct rte_ether_addr mac;

	fdb_key_split(key, &ev.vid, &mac);
	memcpy(ev.mac, mac.addr_bytes, sizeof(ev.mac));
	if (rte_ring_sp_enqueue_elem(w->events, &ev, sizeof(ev)) != 0)
		w->events_lost++;
}

/* The uplink that carries floods and unknown unicast: the first one up. */
static inline uint16_t
flood_uplink(const struct dp_snapshot *s, const struct dp_vswitch *vs)
{
	for (unsigned i = 0; i < vs->n_uplinks; i++) {
		const struct dp_port *u = s->ports[vs->uplinks[i]];

		if (u != NULL && *u->up)
			return u->index;
	}
	return NO_SLOT;
}

/* Send one slot and count what the port took. */
static inline void
out_send(const struct dp_snapshot *s, struct dp_worker *w, struct dp_out *o)
{
	const struct dp_port *p = s->ports[o->port];
	struct dp_port_stats *st = &w->stats[o->port];
	uint64_t bytes = o->bytes;
	uint16_t sent = 0, i;

	if (likely(*p->up))
		sent = p->ops->tx(
			p->priv, p->n_queues == 1 ? 0 : w->id % p->n_queues, o->pkts, o->n);
	if (unlikely(sent < o->n)) {
		/* Frames not taken are still ours: count their bytes out. */
		for (i = sent; i < o->n; i++) {
			bytes -= o->pkts[i]->pkt_len;
			if (p->ops->tx_consumes)
				rte_pktmbuf_free(o->pkts[i]);
		}
		st->drops[*p->up ? DP_DROP_TX_FULL : DP_DROP_PEER_DOWN] += o->n - sent;
	}
	st->tx_packets += sent;
	st->tx_bytes += bytes;
}

void
dp_process(const struct dp_snapshot *s, struct dp_worker *w, const struct dp_port *in,
	struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	const struct dp_vswitch *vs = &s->vswitches[in->vswitch];
	struct dp_port_stats *ist = &w->stats[in->index];
	struct fdb *learned = vs->learned[w->id];
	const bool from_uplink = in->kind == DP_PORT_UPLINK;
	struct rte_mbuf *done[DP_BURST]; /* frames no ethdev took: freed at the end */
	uint16_t tci[DP_BURST];
	uint32_t tag_mask = 0; /* bit i: frame i leaves tagged somewhere */
	uint16_t uplink = NO_SLOT;
	bool uplink_chosen = false;
	unsigned n_done = 0, i, k;
	uint64_t rx_bytes = 0, key, last_key = 0; /* 0 is no valid key */
	const struct fdb_entry *last_se = NULL;

	RTE_SET_USED(now);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eth;
		const struct fdb_entry *se;
		enum dp_drop why;
		uint16_t dst, vid;

		rx_bytes += m->pkt_len;
		tci[i] = 0;
		done[n_done++] = m;

		if (unlikely(m->data_len < RTE_ETHER_HDR_LEN)) {
			why = DP_DROP_RUNT;
			goto drop;
		}
		if (unlikely(m->pkt_len > in->max_frame)) {
			why = DP_DROP_OVERSIZE;
			goto drop;
		}
		switch (vlan_ingress(&in->vlan, m, &tci[i])) {
		case VLAN_PASS:
			break;
		case VLAN_TAGGED:
			why = DP_DROP_VLAN_TAGGED;
			goto drop;
		default:
			why = DP_DROP_VLAN_NOT_ALLOWED;
			goto drop;
		}
		vid = tci[i] & VLAN_VID_MASK;
		if (unlikely(vid != 0 && rte_pktmbuf_headroom(m) < sizeof(struct rte_vlan_hdr))) {
			why = DP_DROP_NO_HEADROOM;
			goto drop;
		}
		eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		if (from_uplink) {
			uint64_t src = fdb_key_frame(vid, &eth->src_addr);

			/* Reflection: our own VM's frame coming back in. */
			if (unlikely(fdb_lookup(vs->statics, fdb_key_frame(0, &eth->src_addr)) !=
				    FDB_MISS)) {
				why = DP_DROP_REFLECTION;
				goto drop;
			}
			if (likely(rte_is_unicast_ether_addr(&eth->src_addr))) {
				enum fdb_learn_result r =
					fdb_learn(learned, src, in->index, w->now_sec);

				if (unlikely(r == FDB_NEW || r == FDB_MOVED))
					event_push(w, DP_EV_LEARNED, in->vswitch, src, in->index);
				else if (unlikely(r == FDB_FULL))
					w->learn_full++;
			}
		}

		if (unlikely(rte_is_multicast_ether_addr(&eth->dst_addr))) {
			/* Broadcast and multicast: every VM port of the VLAN but the sender. */
			uint32_t j, end = vs->flood_start[vid + 1];
			bool any = false;

			/* VGT/trunk members get the frame tagged, 4 bytes longer. */
			uint32_t tlen = m->pkt_len + (vid != 0 ? sizeof(struct rte_vlan_hdr) : 0);

			if (vid != 0 && vs->flood_tagged[vid])
				tag_mask |= UINT32_C(1) << i;
			for (j = vs->flood_start[vid]; j < end; j++) {
				uint16_t p = vs->flood_ports[j];

				if (p == in->index)
					continue;
				out_add(w, p, m, s->ports[p]->vlan.tagged ? tlen : m->pkt_len);
				any = true;
			}
			if (!from_uplink) {
				if (!uplink_chosen) {
					uplink = flood_uplink(s, vs);
					uplink_chosen = true;
				}
				if (uplink != NO_SLOT) {
					out_add(w, uplink, m, tlen);
					if (vid != 0)
						tag_mask |= UINT32_C(1) << i;
					n_done--; /* the uplink's ethdev takes it, last */
					any = true;
				}
			}
			if (unlikely(!any && from_uplink && vs->flood_start[vid] == end)) {
				why = DP_DROP_VLAN_UNKNOWN;
				goto drop;
			}
			continue;
		}

		/*
		 * A local VM? Its entry holds the one VLAN an access port carries,
		 * so the common case needs no look at the port itself.
		 */
		key = fdb_key_frame(0, &eth->dst_addr);
		if (key != last_key) {
			/* Runs of frames to one MAC (the usual burst) look up once. */
			last_key = key;
			last_se = fdb_find(vs->statics, key);
		}
		se = last_se;
		if (likely(se != NULL) &&
			(likely(se->vid == vid) ||
				(se->vid == FDB_VID_ANY &&
					vlan_carries(&s->ports[se->port]->vlan, vid)))) {
			if (unlikely(se->port == in->index)) {
				why = DP_DROP_SAME_PORT;
				goto drop;
			}
			/* Access ports get untagged frames; the others keep the tag. */
			if (vid != 0 && se->vid == FDB_VID_ANY) {
				tag_mask |= UINT32_C(1) << i;
				out_add(w, se->port, m, m->pkt_len + sizeof(struct rte_vlan_hdr));
			} else {
				out_add(w, se->port, m, m->pkt_len);
			}
			continue;
		}
		if (from_uplink) {
			why = DP_DROP_UNKNOWN_UNICAST;
			goto drop;
		}
		/* Not a local VM: out of the uplink it was learned on, else the flood uplink. */
		dst = fdb_lookup(learned, fdb_key_frame(vid, &eth->dst_addr));
		if (dst != FDB_MISS) {
			const struct dp_port *p = s->ports[dst];

			/* A stale entry (port gone, index reused) counts as unknown. */
			if (p == NULL || p->kind != DP_PORT_UPLINK || p->vswitch != in->vswitch ||
				!*p->up)
				dst = FDB_MISS;
		}
		if (dst == FDB_MISS) {
			if (!uplink_chosen) {
				uplink = flood_uplink(s, vs);
				uplink_chosen = true;
			}
			dst = uplink;
		}
		if (unlikely(dst == NO_SLOT)) {
			why = DP_DROP_NO_UPLINK;
			goto drop;
		}
		if (vid != 0) {
			tag_mask |= UINT32_C(1) << i;
			out_add(w, dst, m, m->pkt_len + sizeof(struct rte_vlan_hdr));
		} else {
			out_add(w, dst, m, m->pkt_len);
		}
		n_done--; /* the uplink's ethdev takes it */
		continue;
	drop:
		ist->drops[why]++;
	}
	ist->rx_packets += n;
	ist->rx_bytes += rx_bytes;

	/*
	 * Second pass. Every copying port (vhost) before any consuming one
	 * (an ethdev may free a frame as soon as it has it), and among the
	 * copying ports the untagged deliveries before tags are inserted in
	 * place.
	 */
	for (k = 0; k < w->n_out; k++) {
		struct dp_out *o = &w->out[k];
		const struct dp_port *p = s->ports[o->port];

		if (!p->ops->tx_consumes && (!p->vlan.tagged || tag_mask == 0))
			out_send(s, w, o);
	}
	if (unlikely(tag_mask != 0)) {
		for (i = 0; i < n; i++)
			if (tag_mask & (UINT32_C(1) << i))
				vlan_push(pkts[i], tci[i]);
		for (k = 0; k < w->n_out; k++) {
			struct dp_out *o = &w->out[k];
			const struct dp_port *p = s->ports[o->port];

			if (!p->ops->tx_consumes && p->vlan.tagged)
				out_send(s, w, o);
		}
	}
	for (k = 0; k < w->n_out; k++) {
		struct dp_out *o = &w->out[k];

		if (s->ports[o->port]->ops->tx_consumes)
			out_send(s, w, o);
		w->slot_of[o->port] = NO_SLOT;
	}
	w->n_out = 0;
	if (n_done > 0)
		rte_pktmbuf_free_bulk(done, n_done);
}

/* --- worker lcore --- */

static void
aged_cb(uint64_t key, uint16_t port, void *arg)
{
	struct dp_worker *w = arg;
	uint16_t vid;
	struct rte_ether_addr mac;
	struct dp_event ev = {.type = DP_EV_AGED, .port = port};

	fdb_key_split(key, &vid, &mac);
	ev.vid = vid;
	ev.vswitch = w->aging_vswitch;
	memcpy(ev.mac, mac.addr_bytes, sizeof(ev.mac));
	if (rte_ring_sp_enqueue_elem(w->events, &ev, sizeof(ev)) != 0)
		w->events_lost++;
}

/* Once a second: the clock, and aging of this worker's learned tables. */
static void
worker_tick(const struct dp_snapshot *s, struct dp_worker *w, uint64_t now)
{
	w->next_second = now + w->tsc_hz;
	w->now_sec++;
	for (unsigned v = 0; v < DP_MAX_VSWITCHES; v++) {
		struct fdb *t = s->vswitches[v].used ? s->vswitches[v].learned[w->id] : NULL;

		if (t == NULL || t->n == 0)
			continue;
		w->aging_vswitch = v;
		fdb_age(t, w->now_sec, s->age_seconds, &w->age_cursor[v], AGE_BUDGET, aged_cb, w);
	}
}

static int
worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct rte_mbuf *pkts[DP_BURST];

	uint64_t prev = rte_rdtsc(), rx = 0;

	rte_rcu_qsbr_thread_online(dp.qs, w->id);
	w->next_second = prev + w->tsc_hz;
	while (!dp.quit) {
		const struct dp_snapshot *s = __atomic_load_n(&dp.snap, __ATOMIC_ACQUIRE);
		const struct dp_worker_cfg *wc = &s->workers[w->id];
		uint64_t now = rte_rdtsc();

		/* The previous loop ends now: one TSC read per loop accounts both. */
		if (rx != 0) {
			w->ws.busy_cycles += now - prev;
			w->ws.busy_loops++;
			w->ws.rx_packets += rx;
		} else {
			w->ws.idle_cycles += now - prev;
		}
		w->ws.loops++;
		prev = now;
		rx = 0;
		for (unsigned q = 0; q < wc->n_rxq; q++) {
			const struct dp_port *p = s->ports[wc->rxq[q].port];
			uint16_t n;

			if (unlikely(p == NULL || !*p->up))
				continue;
			n = p->ops->rx(p->priv, wc->rxq[q].queue, dp.mp, pkts, DP_BURST);
			if (n > 0) {
				dp_process(s, w, p, pkts, n, now);
				rx += n;
			}
		}
		if (unlikely(now >= w->next_second))
			worker_tick(s, w, now);
		rte_rcu_qsbr_quiescent(dp.qs, w->id);
	}
	rte_rcu_qsbr_thread_offline(dp.qs, w->id);
	return 0;
}

/* --- control side --- */

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
		ret = rte_eal_remote_launch(worker_main, dp.workers[i], lcore);
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
	/* Access ports carry one VLAN: the entry holds it for the hot path. */
	fdb_find(t, key)->vid = port->vlan.tagged ? FDB_VID_ANY : port->vlan.access_vid;
	return 0;
}

int
dp_vswitch_build_flood(struct dp_snapshot *s, unsigned v)
{
	struct dp_vswitch *vs = &s->vswitches[v];
	uint32_t total = 0, vid, i;

	free(vs->flood_start);
	free(vs->flood_ports);
	free(vs->flood_tagged);
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
		for (r = 0; r < DP_DROP_MAX; r++)
			out->drops[r] += st->drops[r];
	}
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
