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

/*
 * A test of the security, shaping, capture or mirror policy on the packet
 * path. Built with -Dpolicy_path=false (DP_NO_POLICY) every such test is
 * false and the code behind it goes: the baseline bench/ measures their
 * cost against.
 */
#ifdef DP_NO_POLICY
#define POLICY(cond) 0
#else
#define POLICY(cond) (cond)
#endif

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

/*
 * Frame m (length len on the uplink) out of the uplink its port group's
 * teaming picks for it, or, when beacon probing cannot tell which uplink
 * failed, out of every one of the shotgun set (one reference each).
 * Returns how many uplinks took it: the caller's reference went to them.
 */
static inline unsigned
to_uplinks(struct dp_worker *w, const struct dp_vswitch *vs, const struct dp_port *in,
	struct rte_mbuf *m, uint32_t len)
{
	const struct team *t = in->team;
	uint32_t set;
	unsigned k = 0;
	uint8_t u;

	if (unlikely(t == NULL))
		return 0;
	if (likely(t->shotgun == 0)) {
		u = team_select(t, in->index, m);
		if (u >= DP_MAX_UPLINKS || vs->uplinks[u] == DP_NO_UPLINK)
			return 0;
		out_add(w, vs->uplinks[u], m, len);
		return 1;
	}
	for (set = t->shotgun; set != 0; set &= set - 1) {
		u = (uint8_t)__builtin_ctz(set);
		if (u < DP_MAX_UPLINKS && vs->uplinks[u] != DP_NO_UPLINK) {
			out_add(w, vs->uplinks[u], m, len);
			k++;
		}
	}
	if (k > 1)
		rte_mbuf_refcnt_update(m, (int16_t)(k - 1));
	return k;
}

/*
 * May VM port p take a frame that came in on uplink slot u? Unicast from
 * any uplink its teaming uses; broadcast and multicast only from the one
 * its traffic leaves by (the physical network floods it to every uplink),
 * or any with IP hash or in shotgun mode (teaming/teaming.h).
 */
static inline bool
team_rx_ok(const struct dp_port *p, uint8_t u, bool group)
{
	return ((p->team_members >> u) & 1) &&
		(!group || p->team_rx == DP_TEAM_RX_ANY || p->team_rx == u);
}

/*
 * Port mirroring: copies of frames, as they are on the port's wire, to each
 * session's destination (tagged with the RSPAN VLAN out of an uplink).
 * Copies, because the originals are tagged or untagged in place and an
 * ethdev destination frees what it takes; sent straight to the destination,
 * so a mirrored frame is never mirrored (or captured) again. Worker lcore.
 */
static void __rte_noinline
mirror(const struct dp_snapshot *s, struct dp_worker *w, const struct dp_mirror *mir,
	struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *c[DP_BURST];

	for (unsigned k = 0; k < mir->n; k++) {
		const struct dp_mirror_target *t = &mir->t[k];
		const struct dp_port *d = s->ports[t->port];
		uint16_t made = 0, sent = 0, i;

		/* MAC changes = reject: nothing reaches the port, mirrored copies neither. */
		if (d == NULL || !*d->up || (d->sec.flags & SEC_RX_BLOCKED)) {
			w->mirror_dropped[t->session] += n;
			continue;
		}
		for (i = 0; i < n; i++) {
			struct rte_mbuf *m = rte_pktmbuf_copy(pkts[i], dp.mp, 0, UINT32_MAX);

			if (unlikely(m == NULL))
				break;
			/* A tag the NIC stripped is part of the frame on the wire. */
			if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
				m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN);
				if (vlan_push(m, m->vlan_tci) != 0) {
					rte_pktmbuf_free(m);
					break;
				}
			}
			if (t->vid != 0 && vlan_push(m, t->vid) != 0) {
				rte_pktmbuf_free(m);
				break;
			}
			c[made++] = m;
		}
		if (made > 0)
			sent = d->ops->tx(
				d->priv, d->n_queues == 1 ? 0 : w->id % d->n_queues, c, made);
		w->mirror_sent[t->session] += sent;
		w->mirror_dropped[t->session] += n - sent;
		if (d->ops->tx_consumes) {
			if (sent < made)
				rte_pktmbuf_free_bulk(c + sent, made - sent);
		} else if (made > 0) {
			rte_pktmbuf_free_bulk(c, made); /* vhost-user copied what it took */
		}
	}
}

/* Send frames this worker owns (shaping's copies) to VM port p, count, free them. */
static void
tx_owned(const struct dp_snapshot *s, struct dp_worker *w, const struct dp_port *p,
	struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	struct dp_port_stats *st = &w->stats[p->index];
	uint16_t sent = 0, i;

	if (likely(*p->up && !POLICY(p->sec.flags & SEC_RX_BLOCKED))) {
		if (unlikely(p->cap != NULL))
			cap_offer(p->cap, w->id, pkts, n, CAP_DIR_OUT, now);
		if (unlikely(p->mir_on & (1u << DP_DIR_OUT)))
			mirror(s, w, &p->mirror[DP_DIR_OUT], pkts, n);
		sent = p->ops->tx(p->priv, p->n_queues == 1 ? 0 : w->id % p->n_queues, pkts, n);
	}
	for (i = 0; i < sent; i++)
		st->tx_bytes += pkts[i]->pkt_len;
	st->tx_packets += sent;
	if (unlikely(sent < n))
		st->drops[!*p->up				  ? DP_DROP_PEER_DOWN
				: (p->sec.flags & SEC_RX_BLOCKED) ? DP_DROP_MAC_CHANGED
								  : DP_DROP_TX_FULL] += n - sent;
	rte_pktmbuf_free_bulk(pkts, n); /* vhost-user copied what it took */
}

/*
 * Shape mode with an empty queue: the frames the buckets have credit for
 * now, in order, pass at once (no queueing, no copy); returns how many.
 * The rest wait behind them (the caller queues pkts[ret..n)), so order is
 * kept. Worker lcore.
 */
static inline uint16_t
shape_pass(const struct shp_profile *prof, struct shp_state *st, struct rte_mbuf **pkts, uint16_t n,
	uint64_t now)
{
	uint64_t bytes = 0;
	uint16_t k;

	if (shp_queue_count(st) != 0)
		return 0;
	shp_refill(prof, st, now);
	for (k = 0; k < n && shp_take(prof, st, pkts[k]->pkt_len); k++)
		bytes += pkts[k]->pkt_len;
	st->stats.conform_packets += k;
	st->stats.conform_bytes += bytes;
	return k;
}

/*
 * Egress shaping of a slot toward VM port p. Police: the slot keeps the
 * conforming frames. Shape: copies of the frames go to this worker's queue
 * (the originals may be flooded elsewhere and tagged in place after this)
 * and what has credit leaves now; the slot is emptied. Worker lcore.
 */
static void
out_shape(const struct dp_snapshot *s, struct dp_worker *w, const struct dp_port *p,
	struct dp_out *o, uint64_t now)
{
	struct shp_state *st = p->shp_st[DP_DIR_OUT][w->id];
	const struct shp_profile *prof = &p->shp[DP_DIR_OUT];
	struct dp_port_stats *ps = &w->stats[p->index];
	struct rte_mbuf *copies[DP_BURST];
	uint16_t k, i, room, pass;

	if (prof->mode == SHP_MODE_POLICE) {
		k = shp_police(prof, st, o->pkts, o->n, now);
		for (i = k; i < o->n; i++)
			o->bytes -= o->pkts[i]->pkt_len;
		ps->drops[DP_DROP_SHAPING_EXCEED] += o->n - k;
		o->n = k;
		return;
	}
	/* What has credit now leaves with the slot, the rest waits (copied). */
	pass = shape_pass(prof, st, o->pkts, o->n, now);
	if (likely(pass == o->n))
		return;
	room = (uint16_t)RTE_MIN((uint32_t)(o->n - pass), st->q_size - shp_queue_count(st));
	for (k = 0; k < room; k++) {
		copies[k] = rte_pktmbuf_copy(o->pkts[pass + k], dp.mp, 0, UINT32_MAX);
		if (unlikely(copies[k] == NULL))
			break;
	}
	i = shp_shape_enqueue(st, copies, k); /* all fit: room was checked */
	ps->drops[DP_DROP_SHAPING_QUEUE_FULL] += o->n - pass - i;
	for (i = pass; i < o->n; i++)
		o->bytes -= o->pkts[i]->pkt_len;
	o->n = pass;
	if (pass == 0) {
		k = shp_shape_release(prof, st, now, copies, DP_BURST);
		if (k > 0)
			tx_owned(s, w, p, copies, k, now);
	}
}

/* Send one slot and count what the port took. */
static inline void
out_send(const struct dp_snapshot *s, struct dp_worker *w, struct dp_out *o, uint64_t now)
{
	const struct dp_port *p = s->ports[o->port];
	struct dp_port_stats *st = &w->stats[o->port];
	uint64_t bytes;
	uint16_t sent = 0, i;

	if (unlikely(POLICY(p->shp_on & (1u << DP_DIR_OUT)))) {
		out_shape(s, w, p, o, now);
		if (o->n == 0)
			return;
	}
	bytes = o->bytes;

	if (likely(*p->up && !POLICY(p->sec.flags & SEC_RX_BLOCKED))) {
		/* What leaves, as it leaves (tagged or not): before an ethdev frees it. */
		if (unlikely(POLICY(p->cap != NULL)))
			cap_offer(p->cap, w->id, o->pkts, o->n, CAP_DIR_OUT, now);
		if (unlikely(POLICY(p->mir_on & (1u << DP_DIR_OUT))))
			mirror(s, w, &p->mirror[DP_DIR_OUT], o->pkts, o->n);
		sent = p->ops->tx(
			p->priv, p->n_queues == 1 ? 0 : w->id % p->n_queues, o->pkts, o->n);
	}
	if (unlikely(sent < o->n)) {
		/* Frames not taken are still ours: count their bytes out. */
		for (i = sent; i < o->n; i++) {
			bytes -= o->pkts[i]->pkt_len;
			if (p->ops->tx_consumes)
				rte_pktmbuf_free(o->pkts[i]);
		}
		st->drops[!*p->up				  ? DP_DROP_PEER_DOWN
				: (p->sec.flags & SEC_RX_BLOCKED) ? DP_DROP_MAC_CHANGED
								  : DP_DROP_TX_FULL] += o->n - sent;
	}
	st->tx_packets += sent;
	st->tx_bytes += bytes;
}

/* A learned entry moved away from port (or aged): one source fewer behind it. */
static inline void
unlearn(struct dp_worker *w, uint16_t port)
{
	if (port < DP_MAX_PORTS && w->sec[port].n_learned > 0)
		w->sec[port].n_learned--;
}

/* Learn key behind port; 0 or -ENOSPC (table full). */
static inline int
learn(struct dp_worker *w, struct fdb *learned, struct fdb_entry *e, uint64_t key, uint8_t vswitch,
	uint16_t port)
{
	enum fdb_learn_result r;

	if (e != NULL)
		unlearn(w, e->port);
	r = fdb_learn(learned, key, port, w->now_sec);
	if (unlikely(r == FDB_FULL)) {
		w->learn_full++;
		return -ENOSPC;
	}
	event_push(w, DP_EV_LEARNED, vswitch, key, port);
	return 0;
}

/*
 * A frame from a VM whose source is not the port's effective MAC: forged
 * transmits, or a source behind a MAC learning port. Returns the drop
 * reason, or DP_DROP_MAX to let it pass.
 */
/* Record a trace step (a no-op in the workers' copy of the pipeline: tr is NULL). */
static inline void
trace(struct dp_trace *tr, enum dp_trace_type type, uint16_t port, uint16_t vid, int32_t arg)
{
	if (tr != NULL && tr->n < DP_TRACE_MAX)
		tr->step[tr->n++] = (struct dp_trace_step){
			.type = (uint8_t)type, .port = port, .vid = vid, .arg = arg};
}

static inline enum dp_drop
vm_source(struct dp_worker *w, const struct dp_port *in, struct fdb *learned, uint16_t vid,
	const struct rte_ether_addr *src, struct dp_trace *tr)
{
	const struct sec_port_cfg *sec = &in->sec;
	struct sec_port_state *st = &w->sec[in->index];
	struct fdb_entry *e;
	uint64_t key;

	if (!(sec->flags & SEC_MAC_LEARNING) || !rte_is_unicast_ether_addr(src)) {
		if (sec->flags & SEC_FORGED_REJECT)
			return DP_DROP_FORGED_SOURCE;
		trace(tr, DP_TR_SOURCE, in->index, vid, DP_TR_SRC_FORGED_OK);
		return DP_DROP_MAX;
	}
	key = fdb_key_frame(vid, src);
	e = fdb_find(learned, key);
	if (likely(e != NULL && e->port == in->index)) {
		if (tr == NULL && e->seen != w->now_sec)
			e->seen = w->now_sec;
		trace(tr, DP_TR_SOURCE, in->index, vid, DP_TR_SRC_LEARNED);
		return DP_DROP_MAX;
	}
	/* A trace counts against worker 0's learned sources, as it reads its table. */
	if (tr != NULL && dp.workers[0]->sec[in->index].n_learned < sec->mac_limit) {
		trace(tr, DP_TR_SOURCE, in->index, vid, DP_TR_SRC_WOULD_LEARN);
		return DP_DROP_MAX;
	}
	if (tr == NULL && st->n_learned < sec->mac_limit &&
		learn(w, learned, e, key, in->vswitch, in->index) == 0) {
		st->n_learned++;
		return DP_DROP_MAX;
	}
	/* Beyond the limit (or the table is full). */
	if (sec->flags & SEC_LIMIT_ALLOW) {
		w->stats[in->index].unlearned++;
		trace(tr, DP_TR_SOURCE, in->index, vid, DP_TR_SRC_UNLEARNED);
		return DP_DROP_MAX;
	}
	return DP_DROP_MAC_LIMIT;
}

/* Add frame i (VLAN vid) to port p: tagged if the port keeps tags. */
static inline void
out_add_vlan(struct dp_worker *w, const struct dp_port *p, struct rte_mbuf *m, uint16_t vid,
	unsigned i, uint32_t *tag_mask)
{
	if (vid != 0 && p->vlan.tagged) {
		*tag_mask |= UINT32_C(1) << i;
		out_add(w, p->index, m, m->pkt_len + sizeof(struct rte_vlan_hdr));
	} else {
		out_add(w, p->index, m, m->pkt_len);
	}
}

/*
 * Copies of unicast frame i to the vSwitch's taps that carry its VLAN:
 * promiscuous ports always, MAC learning ports with unknown unicast
 * flooding when the destination is unknown. Never back to the sender nor
 * twice to the destination. Returns how many taps got it.
 */
static inline unsigned
taps_add(const struct dp_snapshot *s, struct dp_worker *w, const struct dp_vswitch *vs,
	struct rte_mbuf *m, uint16_t vid, const struct dp_port *in, uint16_t dst, bool unknown,
	unsigned i, uint32_t *tag_mask)
{
	const bool from_uplink = in->kind == DP_PORT_UPLINK;
	unsigned j, n = 0;

	for (j = 0; j < vs->n_taps; j++) {
		const struct dp_port *p = s->ports[vs->taps[j]];

		if (p->index == in->index || p->index == dst || !vlan_carries(&p->vlan, vid) ||
			(!unknown && !(p->sec.flags & SEC_PROMISC)) ||
			(from_uplink && !team_rx_ok(p, in->uplink_slot, false)))
			continue;
		out_add_vlan(w, p, m, vid, i, tag_mask);
		n++;
	}
	return n;
}

/* A beacon arrived on uplink in: its sender's MAC and VLAN go to control. */
static void
beacon_event(struct dp_worker *w, const struct dp_port *in, const struct rte_mbuf *m, uint16_t vid)
{
	struct dp_event ev = {
		.type = DP_EV_BEACON, .vswitch = in->vswitch, .port = in->index, .vid = vid};
	struct rte_ether_addr from;
	uint16_t bvid;
	uint32_t seq;

	if (team_beacon_parse(rte_pktmbuf_mtod(m, const void *), m->data_len, &from, &bvid, &seq) !=
		0)
		return;
	memcpy(ev.mac, from.addr_bytes, sizeof(ev.mac));
	if (rte_ring_sp_enqueue_elem(w->events, &ev, sizeof(ev)) != 0)
		w->events_lost++;
}

/* Is port a MAC learning VM port of in's vSwitch (sources are learned behind it)? */
static inline bool
learned_behind_vm(const struct dp_snapshot *s, const struct dp_port *in, uint16_t port)
{
	const struct dp_port *p = port < DP_MAX_PORTS ? s->ports[port] : NULL;

	return p != NULL && p->kind == DP_PORT_VM && p->vswitch == in->vswitch &&
		(p->sec.flags & SEC_MAC_LEARNING);
}

/* Storm control of frame class c from port in. */
static inline bool
storm_admit(struct dp_worker *w, const struct dp_port *in, enum sec_storm_class c, uint64_t now)
{
	return sec_storm_admit(&in->sec.storm[c], &w->sec[in->index].storm[c], now);
}

/*
 * What a trace reports of a slot instead of sending it: where, tagged or
 * not, and whether the port would take it; the references the slot holds
 * for a consuming port are released.
 */
static void
trace_out(const struct dp_snapshot *s, struct dp_out *o, const uint16_t *tci, uint32_t tag_mask,
	struct dp_trace *tr)
{
	const struct dp_port *p = s->ports[o->port];
	uint16_t vid = tci[0] & VLAN_VID_MASK;
	int32_t why = -1;

	if (!*p->up)
		why = DP_DROP_PEER_DOWN;
	else if (p->sec.flags & SEC_RX_BLOCKED)
		why = DP_DROP_MAC_CHANGED;
	trace(tr, DP_TR_OUT, o->port, (p->vlan.tagged && (tag_mask & 1)) ? vid : 0, why);
	if (p->ops->tx_consumes)
		rte_pktmbuf_free_bulk(o->pkts, o->n);
}

/*
 * The pipeline, written once for the workers (tr NULL: dp_process()) and
 * for packet trace (dp_trace()); the compiler keeps two copies, so the
 * workers' has no trace test at all.
 */
static inline __attribute__((always_inline)) void
pipeline(const struct dp_snapshot *s, struct dp_worker *w, const struct dp_port *in,
	struct rte_mbuf **pkts, uint16_t n, uint64_t now, struct dp_trace *tr)
{
	const struct dp_vswitch *vs = &s->vswitches[in->vswitch];
	struct dp_port_stats *ist = &w->stats[in->index];
	struct fdb *learned = vs->learned[w->id];
	const bool from_uplink = in->kind == DP_PORT_UPLINK;
	const bool taps = POLICY(vs->n_taps != 0);
	struct rte_mbuf *done[DP_BURST]; /* frames no ethdev took: freed at the end */
	uint16_t tci[DP_BURST];
	uint32_t tag_mask = 0; /* bit i: frame i leaves tagged somewhere */
	unsigned n_done = 0, i, k;
	uint64_t rx_bytes = 0, key, last_key = 0; /* 0 is no valid key */
	const struct fdb_entry *last_se = NULL;

	/* What came in, as it came in (after ingress shaping): before tags are stripped. */
	if (unlikely(tr == NULL && POLICY(in->cap != NULL)))
		cap_offer(in->cap, w->id, pkts, n, CAP_DIR_IN, now);
	if (unlikely(tr == NULL && POLICY(in->mir_on & (1u << DP_DIR_IN))))
		mirror(s, w, &in->mirror[DP_DIR_IN], pkts, n);

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eth;
		const struct fdb_entry *se;
		enum dp_drop why;
		uint16_t dst, vid;
		unsigned got;

		rx_bytes += m->pkt_len;
		tci[i] = 0;
		done[n_done++] = m;
		trace(tr, DP_TR_RX, in->index, 0, (int32_t)m->pkt_len);

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
		trace(tr, DP_TR_VLAN, in->index, vid, 0);
		if (unlikely(vid != 0 && rte_pktmbuf_headroom(m) < sizeof(struct rte_vlan_hdr))) {
			why = DP_DROP_NO_HEADROOM;
			goto drop;
		}
		eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

		if (from_uplink && unlikely(team_is_beacon(m))) {
			/* Teaming's beacon: for control, never for a VM, never learned. */
			trace(tr, DP_TR_BEACON, in->index, vid, 0);
			if (tr == NULL)
				beacon_event(w, in, m, vid);
			why = DP_DROP_BEACON;
			goto drop;
		}
		if (!from_uplink) {
			/* Forged transmits, MAC learning: only when the source is not the VM's. */
			if (unlikely(POLICY(sec_src_key(eth) != in->sec.eff_key))) {
				why = vm_source(w, in, learned, vid, &eth->src_addr, tr);
				if (why != DP_DROP_MAX)
					goto drop;
			} else {
				trace(tr, DP_TR_SOURCE, in->index, vid, DP_TR_SRC_OWN);
			}
		} else {
			uint64_t src = fdb_key_frame(vid, &eth->src_addr);

			/* Reflection: our own VM's frame coming back in. */
			if (unlikely(fdb_lookup(vs->statics, fdb_key_frame(0, &eth->src_addr)) !=
				    FDB_MISS)) {
				why = DP_DROP_REFLECTION;
				goto drop;
			}
			if (likely(rte_is_unicast_ether_addr(&eth->src_addr))) {
				struct fdb_entry *e = fdb_find(learned, src);

				/*
				 * A broadcast from a source learned behind a local MAC
				 * learning port: our own, flooded back by the physical
				 * network (teaming over several uplinks). Not a move.
				 */
				if (unlikely(e != NULL && e->port != in->index &&
					    rte_is_multicast_ether_addr(&eth->dst_addr) &&
					    learned_behind_vm(s, in, e->port))) {
					why = DP_DROP_REFLECTION;
					goto drop;
				}
				if (unlikely(tr != NULL)) {
					if (e == NULL || e->port != in->index)
						trace(tr, DP_TR_LEARN, in->index, vid, 0);
				} else if (likely(e != NULL && e->port == in->index)) {
					if (e->seen != w->now_sec)
						e->seen = w->now_sec;
				} else {
					learn(w, learned, e, src, in->vswitch, in->index);
				}
			}
		}

		if (unlikely(rte_is_multicast_ether_addr(&eth->dst_addr))) {
			/* Broadcast and multicast: every VM port of the VLAN but the sender. */
			uint32_t j, end = vs->flood_start[vid + 1];
			bool any = false;

			/* VGT/trunk members get the frame tagged, 4 bytes longer. */
			uint32_t tlen = m->pkt_len + (vid != 0 ? sizeof(struct rte_vlan_hdr) : 0);

			if (unlikely(POLICY(in->sec.flags & SEC_STORM))) {
				enum sec_storm_class c = rte_is_broadcast_ether_addr(&eth->dst_addr)
					? SEC_STORM_BROADCAST
					: SEC_STORM_MULTICAST;

				if (!storm_admit(w, in, c, now)) {
					why = c == SEC_STORM_BROADCAST ? DP_DROP_STORM_BROADCAST
								       : DP_DROP_STORM_MULTICAST;
					goto drop;
				}
			}
			if (vid != 0 && vs->flood_tagged[vid])
				tag_mask |= UINT32_C(1) << i;
			trace(tr, DP_TR_FLOOD, in->index, vid,
				(int32_t)(vs->flood_start[vid + 1] - vs->flood_start[vid]));
			for (j = vs->flood_start[vid]; j < end; j++) {
				uint16_t p = vs->flood_ports[j];
				const struct dp_port *dp = s->ports[p];

				if (p == in->index ||
					(from_uplink && !team_rx_ok(dp, in->uplink_slot, true)))
					continue;
				out_add(w, p, m, dp->vlan.tagged ? tlen : m->pkt_len);
				any = true;
			}
			if (!from_uplink && (k = to_uplinks(w, vs, in, m, tlen)) != 0) {
				trace(tr, DP_TR_UPLINKS, in->index, vid, (int32_t)k);
				if (vid != 0)
					tag_mask |= UINT32_C(1) << i;
				n_done--; /* the uplinks' ethdevs take it, last */
				any = true;
			}
			if (unlikely(!any && from_uplink)) {
				/* No port group carries the VLAN, or none takes it from this
				 * uplink. */
				why = vs->flood_start[vid] == end ? DP_DROP_VLAN_UNKNOWN
								  : DP_DROP_TEAM_RX;
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
		if (likely(se != NULL)) {
			const struct dp_port *p;

			if (likely(se->vid == vid)) {
				dst = se->port;
				trace(tr, DP_TR_STATIC, dst, vid, 0);
				if (unlikely(dst == in->index)) {
					why = DP_DROP_SAME_PORT;
					goto drop;
				}
				if (from_uplink &&
					unlikely(!team_rx_ok(
						s->ports[dst], in->uplink_slot, false))) {
					why = DP_DROP_TEAM_RX;
					goto drop;
				}
				out_add(w, dst, m, m->pkt_len);
				goto deliver_taps;
			}
			p = s->ports[se->port];
			if (se->vid == FDB_VID_ANY && vlan_carries(&p->vlan, vid)) {
				dst = se->port;
				trace(tr, DP_TR_STATIC, dst, vid, 0);
				if (unlikely(dst == in->index)) {
					why = DP_DROP_SAME_PORT;
					goto drop;
				}
				if (from_uplink &&
					unlikely(!team_rx_ok(p, in->uplink_slot, false))) {
					why = DP_DROP_TEAM_RX;
					goto drop;
				}
				/* VGT/trunk ports keep the tag; private VLAN ports get it untagged.
				 */
				out_add_vlan(w, p, m, vid, i, &tag_mask);
				goto deliver_taps;
			}
			trace(tr, DP_TR_OTHER_VLAN, se->port, vid, 0);
			/* A private VLAN port its role keeps from hearing this VLAN. */
			if (unlikely(vs->pvlan_of != NULL && p->vlan.pvlan_primary != 0 &&
				    vs->pvlan_of[vid] == p->vlan.pvlan_primary)) {
				why = DP_DROP_PVLAN;
				goto drop;
			}
		}
		/* Not a local VM's own MAC: learned behind an uplink or a MAC learning port? */
		dst = fdb_lookup(learned, fdb_key_frame(vid, &eth->dst_addr));
		if (dst != FDB_MISS) {
			const struct dp_port *p = s->ports[dst];

			trace(tr, DP_TR_LEARNED, dst, vid, 0);
			if (unlikely(dst == in->index)) {
				why = DP_DROP_SAME_PORT; /* behind the port it came from */
				goto drop;
			}
			/* A stale entry (port gone, index reused) counts as unknown. */
			if (p == NULL || p->vswitch != in->vswitch || !*p->up) {
				dst = FDB_MISS;
			} else if (p->kind == DP_PORT_VM) {
				if (!(p->sec.flags & SEC_MAC_LEARNING) ||
					!vlan_carries(&p->vlan, vid) ||
					(from_uplink && !team_rx_ok(p, in->uplink_slot, false)))
					dst = FDB_MISS;
				else {
					out_add_vlan(w, p, m, vid, i, &tag_mask);
					goto deliver_taps;
				}
			} else if (from_uplink) {
				dst = FDB_MISS; /* never from one uplink to another */
			}
			/*
			 * Behind an uplink, from a VM: teaming picks the uplink, not
			 * where the MAC was learned (never out of an unused uplink).
			 */
		}
		if (dst == FDB_MISS) {
			/* Unknown unicast. */
			trace(tr, DP_TR_UNKNOWN, in->index, vid, 0);
			if (unlikely(!from_uplink && POLICY(in->sec.flags & SEC_STORM) &&
				    !storm_admit(w, in, SEC_STORM_UNKNOWN_UNICAST, now))) {
				why = DP_DROP_STORM_UNKNOWN_UNICAST;
				goto drop;
			}
			got = unlikely(taps)
				? taps_add(s, w, vs, m, vid, in, NO_SLOT, true, i, &tag_mask)
				: 0;
			if (got != 0)
				trace(tr, DP_TR_TAPS, in->index, vid, (int32_t)got);
			if (from_uplink) {
				if (got == 0) {
					why = DP_DROP_UNKNOWN_UNICAST;
					goto drop;
				}
				continue;
			}
		} else if (unlikely(taps)) {
			got = taps_add(s, w, vs, m, vid, in, dst, false, i, &tag_mask);
		} else {
			got = 0;
		}
		k = to_uplinks(
			w, vs, in, m, m->pkt_len + (vid != 0 ? sizeof(struct rte_vlan_hdr) : 0));
		if (unlikely(k == 0)) {
			if (got != 0)
				continue;
			why = DP_DROP_NO_UPLINK;
			goto drop;
		}
		trace(tr, DP_TR_UPLINKS, in->index, vid, (int32_t)k);
		if (vid != 0)
			tag_mask |= UINT32_C(1) << i;
		n_done--; /* the uplinks' ethdevs take it */
		continue;
	deliver_taps:
		if (unlikely(taps))
			taps_add(s, w, vs, m, vid, in, dst, false, i, &tag_mask);
		continue;
	drop:
		trace(tr, DP_TR_DROP, in->index, 0, (int32_t)why);
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
	if (unlikely(tr != NULL)) {
		for (k = 0; k < w->n_out; k++) {
			trace_out(s, &w->out[k], tci, tag_mask, tr);
			w->slot_of[w->out[k].port] = NO_SLOT;
		}
		w->n_out = 0;
		if (n_done > 0)
			rte_pktmbuf_free_bulk(done, n_done);
		return;
	}
	for (k = 0; k < w->n_out; k++) {
		struct dp_out *o = &w->out[k];
		const struct dp_port *p = s->ports[o->port];

		if (!p->ops->tx_consumes && (!p->vlan.tagged || tag_mask == 0))
			out_send(s, w, o, now);
	}
	if (unlikely(tag_mask != 0)) {
		for (i = 0; i < n; i++)
			if (tag_mask & (UINT32_C(1) << i))
				vlan_push(pkts[i], tci[i]);
		for (k = 0; k < w->n_out; k++) {
			struct dp_out *o = &w->out[k];
			const struct dp_port *p = s->ports[o->port];

			if (!p->ops->tx_consumes && p->vlan.tagged)
				out_send(s, w, o, now);
		}
	}
	for (k = 0; k < w->n_out; k++) {
		struct dp_out *o = &w->out[k];

		if (s->ports[o->port]->ops->tx_consumes)
			out_send(s, w, o, now);
		w->slot_of[o->port] = NO_SLOT;
	}
	w->n_out = 0;
	if (n_done > 0)
		rte_pktmbuf_free_bulk(done, n_done);
}

void
dp_process(const struct dp_snapshot *s, struct dp_worker *w, const struct dp_port *in,
	struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	pipeline(s, w, in, pkts, n, now, NULL);
}

void
dp_trace(const struct dp_snapshot *s, struct dp_worker *w, const struct dp_port *in,
	struct rte_mbuf *m, uint64_t now, struct dp_trace *tr)
{
	tr->n = 0;
	pipeline(s, w, in, &m, 1, now, tr);
}

/* --- worker lcore --- */

/*
 * Ingress shaping (dp.h). Police: the conforming frames come first in pkts,
 * the others are freed. Shape: the frames go to the queue (shaped_drain()
 * releases them) and none goes on now.
 */
uint16_t
dp_ingress_shape(struct dp_worker *w, const struct dp_port *p, struct rte_mbuf **pkts, uint16_t n,
	uint64_t now)
{
	struct shp_state *st = p->shp_st[DP_DIR_IN][w->id];
	const struct shp_profile *prof = &p->shp[DP_DIR_IN];
	struct dp_port_stats *ps = &w->stats[p->index];
	enum dp_drop why;
	uint16_t k, i;

	uint16_t pass = 0;

	if (prof->mode == SHP_MODE_POLICE) {
		k = shp_police(prof, st, pkts, n, now);
		why = DP_DROP_SHAPING_EXCEED;
	} else {
		/* What has credit now goes on at once; the rest waits behind it. */
		pass = shape_pass(prof, st, pkts, n, now);
		if (likely(pass == n))
			return n;
		k = pass + shp_shape_enqueue(st, pkts + pass, n - pass);
		why = DP_DROP_SHAPING_QUEUE_FULL;
	}
	if (unlikely(k < n)) {
		/* Received, then dropped here: counted in, as every other drop. */
		for (i = k; i < n; i++)
			ps->rx_bytes += pkts[i]->pkt_len;
		ps->rx_packets += n - k;
		ps->drops[why] += n - k;
		rte_pktmbuf_free_bulk(pkts + k, n - k);
	}
	return prof->mode == SHP_MODE_POLICE ? k : pass;
}

/* Release what a shaped port's queues have credit for, both directions. */
static void
shaped_drain(
	const struct dp_snapshot *s, struct dp_worker *w, const struct dp_port *p, uint64_t now)
{
	struct shp_state *st;
	struct rte_mbuf *pkts[DP_BURST];
	uint16_t n;

	st = p->shp_st[DP_DIR_IN][w->id];
	if (st != NULL && shp_queue_count(st) > 0) {
		n = shp_shape_release(&p->shp[DP_DIR_IN], st, now, pkts, DP_BURST);
		if (n > 0)
			dp_process(s, w, p, pkts, n, now);
	}
	st = p->shp_st[DP_DIR_OUT][w->id];
	if (st != NULL && shp_queue_count(st) > 0) {
		n = shp_shape_release(&p->shp[DP_DIR_OUT], st, now, pkts, DP_BURST);
		if (n > 0)
			tx_owned(s, w, p, pkts, n, now);
	}
}

static void
aged_cb(uint64_t key, uint16_t port, void *arg)
{
	struct dp_worker *w = arg;
	uint16_t vid;
	struct rte_ether_addr mac;
	struct dp_event ev = {.type = DP_EV_AGED, .port = port};

	unlearn(w, port);
	fdb_key_split(key, &vid, &mac);
	ev.vid = vid;
	ev.vswitch = w->aging_vswitch;
	memcpy(ev.mac, mac.addr_bytes, sizeof(ev.mac));
	if (rte_ring_sp_enqueue_elem(w->events, &ev, sizeof(ev)) != 0)
		w->events_lost++;
}

/* Send what control handed over (beacons, RARPs) out of its uplinks. */
static void
inject_drain(const struct dp_snapshot *s, struct dp_worker *w)
{
	struct rte_mbuf *m[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->inject, (void **)m, RTE_DIM(m), NULL);

	for (unsigned i = 0; i < n; i++) {
		const struct dp_port *p = m[i]->port < DP_MAX_PORTS ? s->ports[m[i]->port] : NULL;

		/* Only uplinks: their ethdev takes the frame (or we free it). */
		if (p == NULL || p->kind != DP_PORT_UPLINK || !*p->up ||
			p->ops->tx(p->priv, p->n_queues == 1 ? 0 : w->id % p->n_queues, &m[i], 1) !=
				1) {
			rte_pktmbuf_free(m[i]);
			w->inject_lost++;
		}
	}
}

void
dp_drain_shaped(const struct dp_snapshot *s, struct dp_worker *w, uint64_t now)
{
	for (unsigned k = 0; k < s->n_shaped; k++)
		shaped_drain(s, w, s->ports[s->shaped[k]], now);
}

/* An empty tx on the uplinks that send their own control frames from it (bonds). */
static void
kick_uplinks(const struct dp_snapshot *s, struct dp_worker *w, uint64_t now)
{
	struct rte_mbuf *none[1];

	w->next_kick = now + w->tsc_hz / (1000 / DP_KICK_MS);
	for (unsigned k = 0; k < s->n_kick; k++) {
		const struct dp_port *p = s->ports[s->kick[k]];

		if (p != NULL && *p->up)
			p->ops->tx(p->priv, p->n_queues == 1 ? 0 : w->id % p->n_queues, none, 0);
	}
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
				rx += n;
				if (unlikely(POLICY(p->shp_on & (1u << DP_DIR_IN))))
					n = dp_ingress_shape(w, p, pkts, n, now);
				if (n > 0)
					dp_process(s, w, p, pkts, n, now);
			}
		}
		/* Shaping queues release on credit, whether or not anything arrived. */
		if (unlikely(POLICY(s->n_shaped != 0)))
			dp_drain_shaped(s, w, now);
		if (unlikely(now >= w->next_second))
			worker_tick(s, w, now);
		if (unlikely(s->n_kick != 0 && now >= w->next_kick))
			kick_uplinks(s, w, now);
		if (unlikely(!rte_ring_empty(w->inject)))
			inject_drain(s, w);
		rte_rcu_qsbr_quiescent(dp.qs, w->id);
	}
	rte_rcu_qsbr_thread_offline(dp.qs, w->id);
	return 0;
}
