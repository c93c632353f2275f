/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NIC teaming, control side: policy names and checks, the frames control
 * sends (beacons, RARPs), beacon probing, the failover/failback state
 * machine and its compilation into the table the packet path reads
 * (teaming.h). Pure: no I/O, time passed in.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_common.h>

#include "teaming/teaming.h"

_Static_assert(TEAM_MAX_UPLINKS <= 32, "uplink sets are 32-bit bitmaps");
_Static_assert((TEAM_TABLE_SIZE & (TEAM_TABLE_SIZE - 1)) == 0, "table size: a power of two");
_Static_assert(TEAM_TABLE_SIZE <= 256, "buckets are bytes");

#define BIT(u) (UINT32_C(1) << (u))

static const char *const lb_names[TEAM_LB_MAX] = {
	[TEAM_LB_PORT_ID] = "port_id",
	[TEAM_LB_SRC_MAC] = "src_mac",
	[TEAM_LB_IP_HASH] = "ip_hash",
	[TEAM_LB_EXPLICIT] = "explicit_failover",
};

static const char *const detect_names[TEAM_DETECT_MAX] = {
	[TEAM_DETECT_LINK] = "link_status",
	[TEAM_DETECT_BEACON] = "beacon_probing",
};

static const char *const event_names[TEAM_EV_MAX_TYPE] = {
	[TEAM_EV_UPLINK_DOWN] = "uplink_down",
	[TEAM_EV_UPLINK_UP] = "uplink_up",
	[TEAM_EV_FAILOVER] = "failover",
	[TEAM_EV_FAILBACK] = "failback",
	[TEAM_EV_SHOTGUN_ON] = "shotgun_on",
	[TEAM_EV_SHOTGUN_OFF] = "shotgun_off",
};

const char *
team_lb_name(enum team_lb lb)
{
	return (unsigned)lb < TEAM_LB_MAX ? lb_names[lb] : "?";
}

const char *
team_detect_name(enum team_detect d)
{
	return (unsigned)d < TEAM_DETECT_MAX ? detect_names[d] : "?";
}

const char *
team_event_name(enum team_event_type type)
{
	return (unsigned)type < TEAM_EV_MAX_TYPE ? event_names[type] : "?";
}

static int
name_index(const char *const *names, unsigned n, const char *name)
{
	for (unsigned i = 0; name != NULL && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}

int
team_lb_from_name(const char *name)
{
	return name_index(lb_names, TEAM_LB_MAX, name);
}

int
team_detect_from_name(const char *name)
{
	return name_index(detect_names, TEAM_DETECT_MAX, name);
}

int
team_policy_check(const struct team_policy *pol)
{
	uint32_t seen = 0;
	unsigned i;

	if (pol->lb >= TEAM_LB_MAX || pol->detect >= TEAM_DETECT_MAX ||
		pol->n_active > TEAM_MAX_UPLINKS || pol->n_standby > TEAM_MAX_UPLINKS)
		return -EINVAL;
	if (pol->lb == TEAM_LB_IP_HASH && pol->detect == TEAM_DETECT_BEACON)
		return -EINVAL;
	for (i = 0; i < pol->n_active + pol->n_standby; i++) {
		uint8_t u = i < pol->n_active ? pol->active[i] : pol->standby[i - pol->n_active];

		if (u >= TEAM_MAX_UPLINKS || (seen & BIT(u)))
			return -EINVAL;
		seen |= BIT(u);
	}
	return 0;
}

/* --- frames --- */

/* Write the Ethernet header (and tag) of a broadcast frame; returns its length. */
static size_t
frame_head(uint8_t *p, const struct rte_ether_addr *src, uint16_t vid, uint16_t type)
{
	struct rte_ether_hdr eth;
	struct rte_vlan_hdr vh;
	size_t off = 0;

	memset(&eth.dst_addr, 0xff, sizeof(eth.dst_addr));
	rte_ether_addr_copy(src, &eth.src_addr);
	if (vid != 0) {
		eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		memcpy(p, &eth, sizeof(eth));
		off = sizeof(eth);
		vh.vlan_tci = rte_cpu_to_be_16(vid & 0x0fff);
		vh.eth_proto = rte_cpu_to_be_16(type);
		memcpy(p + off, &vh, sizeof(vh));
		return off + sizeof(vh);
	}
	eth.ether_type = rte_cpu_to_be_16(type);
	memcpy(p, &eth, sizeof(eth));
	return sizeof(eth);
}

#define BEACON_MAGIC "PTCB"
#define BEACON_VERSION 1
#define BEACON_BODY 20 /* magic 4, version 1, zero 1, vid 2, mac 6, zero 2, seq 4 */

int
team_beacon_build(
	void *buf, size_t size, const struct rte_ether_addr *mac, uint16_t vid, uint32_t seq)
{
	size_t len = vid != 0 ? TEAM_FRAME_MAX : TEAM_FRAME_LEN, off;
	uint8_t *p = buf;
	uint16_t v = rte_cpu_to_be_16(vid);
	uint32_t s = rte_cpu_to_be_32(seq);

	if (size < len)
		return -ENOSPC;
	memset(p, 0, len);
	off = frame_head(p, mac, vid, TEAM_BEACON_ETHERTYPE);
	memcpy(p + off, BEACON_MAGIC, 4);
	p[off + 4] = BEACON_VERSION;
	memcpy(p + off + 6, &v, 2);
	memcpy(p + off + 8, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(p + off + 16, &s, 4);
	return (int)len;
}

int
team_rarp_build(void *buf, size_t size, const struct rte_ether_addr *mac, uint16_t vid)
{
	size_t len = vid != 0 ? TEAM_FRAME_MAX : TEAM_FRAME_LEN, off;
	uint8_t *p = buf;
	struct rte_arp_hdr arp;

	if (size < len)
		return -ENOSPC;
	memset(p, 0, len);
	off = frame_head(p, mac, vid, RTE_ETHER_TYPE_RARP);
	memset(&arp, 0, sizeof(arp));
	arp.arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp.arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp.arp_hlen = RTE_ETHER_ADDR_LEN;
	arp.arp_plen = 4;
	arp.arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REVREQUEST);
	rte_ether_addr_copy(mac, &arp.arp_data.arp_sha);
	rte_ether_addr_copy(mac, &arp.arp_data.arp_tha);
	memcpy(p + off, &arp, sizeof(arp));
	return (int)len;
}

/* Append a frame built by build() into an empty mbuf. */
static int
build_mbuf(struct rte_mbuf *m, int len)
{
	char *d;

	if (len < 0)
		return len;
	d = rte_pktmbuf_append(m, (uint16_t)len);
	if (d == NULL)
		return -ENOSPC;
	return 0;
}

int
team_beacon_build_mbuf(
	struct rte_mbuf *m, const struct rte_ether_addr *mac, uint16_t vid, uint32_t seq)
{
	uint8_t f[TEAM_FRAME_MAX];
	int len = team_beacon_build(f, sizeof(f), mac, vid, seq), rc;

	if (m->data_len != 0)
		return -EINVAL;
	rc = build_mbuf(m, len);
	if (rc == 0)
		memcpy(rte_pktmbuf_mtod(m, void *), f, (size_t)len);
	return rc;
}

int
team_rarp_build_mbuf(struct rte_mbuf *m, const struct rte_ether_addr *mac, uint16_t vid)
{
	uint8_t f[TEAM_FRAME_MAX];
	int len = team_rarp_build(f, sizeof(f), mac, vid), rc;

	if (m->data_len != 0)
		return -EINVAL;
	rc = build_mbuf(m, len);
	if (rc == 0)
		memcpy(rte_pktmbuf_mtod(m, void *), f, (size_t)len);
	return rc;
}

int
team_beacon_parse(
	const void *frame, size_t len, struct rte_ether_addr *from, uint16_t *vid, uint32_t *seq)
{
	const uint8_t *p = frame;
	size_t off = 2 * RTE_ETHER_ADDR_LEN;
	uint16_t type, tag_vid = 0, v;
	bool tagged = false;
	uint32_t s;

	if (len < off + 2)
		return -ENOENT;
	memcpy(&type, p + off, 2);
	type = rte_be_to_cpu_16(type);
	if (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ) {
		if (len < off + 6)
			return -ENOENT;
		memcpy(&v, p + off + 2, 2);
		tag_vid = rte_be_to_cpu_16(v) & 0x0fff;
		tagged = true;
		memcpy(&type, p + off + 4, 2);
		type = rte_be_to_cpu_16(type);
		off += 4;
	}
	if (type != TEAM_BEACON_ETHERTYPE)
		return -ENOENT;
	off += 2;
	if (len < off + BEACON_BODY || memcmp(p + off, BEACON_MAGIC, 4) != 0 ||
		p[off + 4] != BEACON_VERSION)
		return -EPROTO;
	memcpy(&v, p + off + 6, 2);
	if (vid != NULL)
		*vid = tagged ? tag_vid : rte_be_to_cpu_16(v) & 0x0fff;
	if (from != NULL)
		memcpy(from->addr_bytes, p + off + 8, RTE_ETHER_ADDR_LEN);
	memcpy(&s, p + off + 16, 4);
	if (seq != NULL)
		*seq = rte_be_to_cpu_32(s);
	return 0;
}

/* --- beacon probing --- */

#define ISOLATED_AFTER TEAM_BEACON_MISSES /* rounds missed in a row */

/*
 * The outputs from the misses and the carrier (no judging). Isolated
 * uplinks fail only if another uplink proves the network works (it heard
 * the last round): else which side is broken cannot be told (shotgun).
 */
static void
beacon_derive(struct team_beacon *b)
{
	uint32_t up = b->members & b->link, isolated = 0, witness = b->hearing & up;

	for (unsigned u = 0; u < TEAM_MAX_UPLINKS; u++)
		if ((up & BIT(u)) && b->misses[u] >= ISOLATED_AFTER)
			isolated |= BIT(u);
	if (__builtin_popcount(up) < 2 || isolated == 0) {
		b->ok = up;
		b->failed = 0;
		b->shotgun = false;
	} else if (witness == 0) {
		b->ok = up;
		b->failed = 0;
		b->shotgun = true;
	} else {
		b->ok = up & ~isolated;
		b->failed = isolated;
		b->shotgun = false;
	}
}

/* Judge the current round: who heard at least one other member on every VLAN. */
static void
beacon_judge(struct team_beacon *b)
{
	uint32_t up = b->members & b->link;
	uint8_t all = (uint8_t)((1u << b->n_vlans) - 1);
	unsigned r, s;

	b->in_round = false;
	for (r = 0; r < TEAM_MAX_UPLINKS; r++) {
		bool heard = false;

		if (!(up & BIT(r)))
			continue;
		b->hearing &= ~BIT(r);
		if (__builtin_popcount(up) < 2) {
			b->misses[r] = 0; /* nobody to hear: no evidence either way */
			continue;
		}
		for (s = 0; s < TEAM_MAX_UPLINKS && !heard; s++)
			heard = s != r && (up & BIT(s)) && b->heard[r][s] == all;
		if (heard) {
			b->misses[r] = 0;
			b->hearing |= BIT(r);
		} else if (b->misses[r] < UINT8_MAX) {
			b->misses[r]++;
		}
	}
	beacon_derive(b);
}

void
team_beacon_eval(struct team_beacon *b, uint64_t now)
{
	if (b->in_round && now >= b->round_start + b->hz / TEAM_BEACON_JUDGE_DIV)
		beacon_judge(b);
}

int
team_beacon_init(struct team_beacon *b, uint32_t members, const struct rte_ether_addr *mac,
	const uint16_t *vlans, unsigned n_vlans, uint32_t link, uint64_t hz, uint64_t now)
{
	unsigned u, o;

	memset(b, 0, sizeof(*b));
	if (hz == 0 || n_vlans == 0 || n_vlans > TEAM_BEACON_MAX_VLANS || vlans == NULL ||
		mac == NULL || (members >> TEAM_MAX_UPLINKS) != 0)
		return -EINVAL;
	for (u = 0; u < n_vlans; u++) {
		if (vlans[u] > 4094)
			return -EINVAL;
		for (o = 0; o < u; o++)
			if (vlans[o] == vlans[u])
				return -EINVAL;
		b->vlans[u] = vlans[u];
	}
	for (u = 0; u < TEAM_MAX_UPLINKS; u++) {
		if (!(members & BIT(u)))
			continue;
		if (!rte_is_unicast_ether_addr(&mac[u]) || rte_is_zero_ether_addr(&mac[u]))
			return -EINVAL;
		for (o = 0; o < u; o++)
			if ((members & BIT(o)) && rte_is_same_ether_addr(&mac[o], &mac[u]))
				return -EINVAL; /* beacons could not tell them apart */
		rte_ether_addr_copy(&mac[u], &b->mac[u]);
	}
	b->members = members;
	b->link = link & members;
	b->n_vlans = (uint8_t)n_vlans;
	b->hz = hz;
	b->next_send = now;
	beacon_derive(b);
	return 0;
}

void
team_beacon_link(struct team_beacon *b, unsigned u, bool up)
{
	if (u >= TEAM_MAX_UPLINKS || !(b->members & BIT(u)))
		return;
	if (up && !(b->link & BIT(u))) {
		b->link |= BIT(u);
		b->misses[u] = 0; /* no evidence yet either way */
		b->hearing &= ~BIT(u);
	} else if (!up) {
		b->link &= ~BIT(u);
		b->hearing &= ~BIT(u);
	}
	beacon_derive(b);
}

int
team_beacon_rx(struct team_beacon *b, unsigned u, const struct rte_ether_addr *from, uint16_t vid)
{
	unsigned v, s;

	if (u >= TEAM_MAX_UPLINKS || !(b->members & BIT(u)))
		return -EINVAL;
	for (v = 0; v < b->n_vlans && b->vlans[v] != vid; v++)
		;
	if (v == b->n_vlans)
		return -EINVAL;
	for (s = 0; s < TEAM_MAX_UPLINKS; s++)
		if ((b->members & BIT(s)) && rte_is_same_ether_addr(&b->mac[s], from))
			break;
	if (s == TEAM_MAX_UPLINKS)
		return -ENOENT;
	if (s != u)
		b->heard[u][s] |= (uint8_t)(1u << v);
	return 0;
}

bool
team_beacon_due(struct team_beacon *b, uint64_t now)
{
	if (now < b->next_send)
		return false;
	if (b->in_round)
		beacon_judge(b);
	memset(b->heard, 0, sizeof(b->heard));
	b->in_round = true;
	b->round_start = now;
	b->next_send += b->hz;
	if (b->next_send <= now) /* late by more than a round: no burst to catch up */
		b->next_send = now + b->hz;
	return true;
}

/* --- failover and failback --- */

static void
event_add(struct team_events *ev, const struct team_event *e)
{
	if (ev == NULL)
		return;
	if (ev->n < TEAM_EV_MAX)
		ev->ev[ev->n++] = *e;
	else
		ev->lost++;
}

/* Where u comes in the preference order (actives, then standbys). */
static unsigned
rank_of(const struct team_state *ts, uint8_t u)
{
	for (unsigned i = 0; i < ts->n_order; i++)
		if (ts->order[i] == u)
			return i;
	return TEAM_NONE;
}

/* The slot u holds, or TEAM_NONE. */
static unsigned
slot_of(const struct team_state *ts, uint8_t u)
{
	for (unsigned i = 0; i < ts->n_slots; i++)
		if (ts->slot[i] == u)
			return i;
	return TEAM_NONE;
}

/* The first healthy uplink in preference order that holds no slot, or TEAM_NONE. */
static uint8_t
first_idle(const struct team_state *ts, uint32_t held)
{
	for (unsigned i = 0; i < ts->n_order; i++) {
		uint8_t u = ts->order[i];

		if ((ts->healthy & BIT(u)) && !(held & BIT(u)))
			return u;
	}
	return TEAM_NONE;
}

static uint32_t
held_set(const struct team_state *ts)
{
	uint32_t held = 0;

	for (unsigned i = 0; i < ts->n_slots; i++)
		if (ts->slot[i] != TEAM_NONE)
			held |= BIT(ts->slot[i]);
	return held;
}

/* Recompute health and slots after an input; report what changed. */
static void
settle(struct team_state *ts, uint64_t now, struct team_events *ev, bool quiet)
{
	uint8_t old[TEAM_MAX_UPLINKS];
	uint32_t healthy, changed, held;
	bool shotgun_was = ts->shotgun;
	unsigned i, u;

	if (ts->probing)
		team_beacon_eval(&ts->beacon, now);
	healthy = ts->members & ts->link & (ts->probing ? ts->beacon.ok : UINT32_MAX);
	changed = healthy ^ ts->healthy;
	ts->healthy = healthy;
	ts->shotgun = ts->probing && ts->beacon.shotgun;
	if (!quiet) {
		if (ts->shotgun != shotgun_was) {
			struct team_event e = {
				.type = shotgun_was ? TEAM_EV_SHOTGUN_OFF : TEAM_EV_SHOTGUN_ON,
				.uplink = TEAM_NONE,
				.slot = TEAM_NONE,
				.from = TEAM_NONE,
				.to = TEAM_NONE,
			};

			event_add(ev, &e);
		}
		for (u = 0; u < TEAM_MAX_UPLINKS; u++) {
			struct team_event e = {
				.uplink = (uint8_t)u,
				.slot = TEAM_NONE,
				.from = TEAM_NONE,
				.to = TEAM_NONE,
			};

			if (!(changed & BIT(u)))
				continue;
			if (healthy & BIT(u)) {
				e.type = TEAM_EV_UPLINK_UP;
			} else {
				e.type = TEAM_EV_UPLINK_DOWN;
				e.reason =
					(ts->link & BIT(u)) ? TEAM_REASON_BEACON : TEAM_REASON_LINK;
			}
			event_add(ev, &e);
		}
	}

	memcpy(old, ts->slot, sizeof(old));
	/* 1. Failed holders leave their slots. */
	for (i = 0; i < ts->n_slots; i++)
		if (ts->slot[i] != TEAM_NONE && !(healthy & BIT(ts->slot[i])))
			ts->slot[i] = TEAM_NONE;
	/* 2. Failback: the preferred uplink takes its slot back. */
	if (ts->pol.failback) {
		if (ts->pol.lb == TEAM_LB_EXPLICIT) {
			uint8_t best = first_idle(ts, 0);

			if (best != TEAM_NONE &&
				(ts->slot[0] == TEAM_NONE ||
					rank_of(ts, best) < rank_of(ts, ts->slot[0])))
				ts->slot[0] = best;
		} else {
			for (i = 0; i < ts->n_slots; i++) {
				uint8_t h = ts->home[i];
				unsigned j;

				if (h == TEAM_NONE || !(healthy & BIT(h)) || ts->slot[i] == h)
					continue;
				j = slot_of(ts, h);
				if (j != TEAM_NONE)
					ts->slot[j] = TEAM_NONE;
				ts->slot[i] = h;
			}
		}
	}
	/* 3. Empty slots: their own active uplink if idle, else the first idle one. */
	held = held_set(ts);
	for (i = 0; i < ts->n_slots; i++) {
		uint8_t h = ts->home[i], c;

		if (ts->slot[i] != TEAM_NONE)
			continue;
		if (h != TEAM_NONE && (healthy & BIT(h)) && !(held & BIT(h)))
			c = h;
		else
			c = first_idle(ts, held);
		ts->slot[i] = c;
		if (c != TEAM_NONE)
			held |= BIT(c);
	}
	if (quiet)
		return;
	for (i = 0; i < ts->n_slots; i++) {
		struct team_event e = {
			.uplink = TEAM_NONE,
			.slot = (uint8_t)i,
			.from = old[i],
			.to = ts->slot[i],
		};

		if (old[i] == ts->slot[i])
			continue;
		e.type = old[i] != TEAM_NONE && !(healthy & BIT(old[i])) ? TEAM_EV_FAILOVER
									 : TEAM_EV_FAILBACK;
		event_add(ev, &e);
	}
}

int
team_state_init(struct team_state *ts, const struct team_policy *pol,
	const struct rte_ether_addr *mac, const uint16_t *vlans, unsigned n_vlans, uint32_t link,
	uint64_t hz, uint64_t now)
{
	unsigned i;
	int rc;

	memset(ts, 0, sizeof(*ts));
	rc = team_policy_check(pol);
	if (rc != 0)
		return rc;
	ts->pol = *pol;
	for (i = 0; i < pol->n_active; i++) {
		ts->order[ts->n_order++] = pol->active[i];
		ts->members |= BIT(pol->active[i]);
	}
	for (i = 0; i < pol->n_standby; i++) {
		ts->order[ts->n_order++] = pol->standby[i];
		ts->members |= BIT(pol->standby[i]);
	}
	memset(ts->slot, TEAM_NONE, sizeof(ts->slot));
	memset(ts->home, TEAM_NONE, sizeof(ts->home));
	if (ts->n_order == 0)
		ts->n_slots = 0; /* no uplink at all: an internal port group */
	else if (pol->lb == TEAM_LB_EXPLICIT || pol->n_active == 0)
		ts->n_slots = 1;
	else
		ts->n_slots = pol->n_active;
	if (pol->lb != TEAM_LB_EXPLICIT)
		for (i = 0; i < pol->n_active; i++)
			ts->home[i] = pol->active[i];
	ts->link = link;
	if (pol->detect == TEAM_DETECT_BEACON && ts->members != 0) {
		rc = team_beacon_init(&ts->beacon, ts->members, mac, vlans, n_vlans, link, hz, now);
		if (rc != 0)
			return rc;
		ts->probing = true;
	}
	settle(ts, now, NULL, true);
	return 0;
}

void
team_state_link(struct team_state *ts, unsigned u, bool up, uint64_t now, struct team_events *ev)
{
	if (u >= TEAM_MAX_UPLINKS)
		return;
	if (up)
		ts->link |= BIT(u);
	else
		ts->link &= ~BIT(u);
	if (ts->probing)
		team_beacon_link(&ts->beacon, u, up);
	settle(ts, now, ev, false);
}

int
team_state_beacon_rx(struct team_state *ts, unsigned u, const struct rte_ether_addr *from,
	uint16_t vid, uint64_t now, struct team_events *ev)
{
	int rc;

	if (!ts->probing)
		return -EINVAL;
	rc = team_beacon_rx(&ts->beacon, u, from, vid);
	settle(ts, now, ev, false);
	return rc;
}

void
team_state_tick(struct team_state *ts, uint64_t now, struct team_events *ev)
{
	settle(ts, now, ev, false);
}

bool
team_state_beacon_due(struct team_state *ts, uint64_t now, struct team_events *ev)
{
	if (!ts->probing || !team_beacon_due(&ts->beacon, now))
		return false;
	settle(ts, now, ev, false);
	return true;
}

void
team_state_compile(const struct team_state *ts, struct team *t)
{
	unsigned b, i, n = ts->n_slots;

	memset(t, 0, sizeof(*t));
	t->lb = ts->pol.lb;
	t->members = ts->members;
	t->healthy = ts->healthy;
	t->shotgun = team_state_shotgun(ts) ? ts->healthy : 0;
	for (i = 0; i < n; i++)
		if (ts->slot[i] != TEAM_NONE)
			t->serving[t->n_serving++] = ts->slot[i];
	if (t->n_serving == 0) {
		memset(t->table, TEAM_NONE, sizeof(t->table));
		return;
	}
	/*
	 * Bucket b belongs to slot b mod n; the buckets of an empty slot go
	 * round-robin to the holders, so only the failed uplink's traffic moves
	 * and it spreads evenly.
	 */
	for (b = 0; b < TEAM_TABLE_SIZE; b++) {
		uint8_t h = ts->slot[b % n];

		t->table[b] = h != TEAM_NONE ? h : t->serving[(b / n) % t->n_serving];
	}
}
