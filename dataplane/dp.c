/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane, worker side: the worker loop and the burst pipeline (worker
 * lcore, RCU read side; nothing here blocks, logs, allocates or makes a
 * system call). The control side is dp_ctl.c.
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
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>

#include "dataplane/dp_private.h"

#define AGE_BUDGET 4096 /* slots of a learned table a worker ages per second */

struct dp_globals dp;

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

int
dp_worker_main(void *arg)
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
