/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NIC teaming of a port group: which uplink a frame leaves through, on which
 * uplinks frames for a VM are accepted, and the control-side state machines
 * that decide which uplinks serve (failover, failback, beacon probing).
 * Semantics: vsphere-semantics.md, "NIC teaming"; choices: docs/teaming.md.
 *
 * A leaf module (DPDK only, no I/O). Uplinks are named by their index in
 * the vSwitch's uplink list (0..TEAM_MAX_UPLINKS-1); sets of uplinks are
 * bitmaps (bit u: uplink u).
 *
 * Control side: a struct team_state per port group holds the policy
 * (struct team_policy), the uplinks' carrier, the beacon probing state and
 * the "active slots". A team has one slot per configured active uplink
 * (explicit failover: a single slot); a slot is held by its own active
 * uplink, by a replacement (a standby, or with failback off a recovered
 * active), or by nobody. Link and beacon inputs change the holders and
 * report events (struct team_events); team_state_compile() turns the holders
 * into a struct team for the snapshot.
 *
 * Packet path: a struct team is immutable once published. A frame's uplink
 * is one hash of the frame (or the port index), one mask and one load from
 * a 256-entry table mapping hash buckets to the slots' holders; buckets of
 * an empty slot are spread over the other holders, so a failure moves only
 * the traffic of the failed uplink. The table holds only active/standby
 * uplinks: an unused uplink is never selected.
 */
#ifndef PORTICO_TEAMING_H
#define PORTICO_TEAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#define TEAM_MAX_UPLINKS 8 /* uplinks per vSwitch (DP_MAX_UPLINKS) */
#define TEAM_NONE 0xff /* no uplink */
#define TEAM_TABLE_SIZE 256 /* hash buckets of a team; a power of two */
#define TEAM_BEACON_ETHERTYPE 0x8922 /* as vSphere's beacons */
#define TEAM_BEACON_MAX_VLANS 8 /* VLANs one team probes */
#define TEAM_BEACON_MISSES 3 /* consecutive beacons missed before an uplink fails */
#define TEAM_BEACON_JUDGE_DIV 5 /* a round is judged 1/5 s after it is sent */
#define TEAM_FRAME_LEN 60 /* beacon and RARP frames, untagged, without FCS */
#define TEAM_FRAME_MAX (TEAM_FRAME_LEN + 4) /* the same with an 802.1Q tag */
#define TEAM_EV_MAX 32 /* events one struct team_events holds */

/* Load balancing: how a frame's uplink is chosen among the serving ones. */
enum team_lb {
	TEAM_LB_PORT_ID, /* originating virtual port ID (the default) */
	TEAM_LB_SRC_MAC, /* source MAC hash */
	TEAM_LB_IP_HASH, /* IP hash: source XOR destination address */
	TEAM_LB_EXPLICIT, /* explicit failover order: one uplink serves */
	TEAM_LB_MAX
};

/* Failure detection. */
enum team_detect {
	TEAM_DETECT_LINK, /* link status only (carrier) */
	TEAM_DETECT_BEACON, /* link status and beacon probing */
	TEAM_DETECT_MAX
};

/* Names as in the config ("port_id", "link_status", ...). */
const char *team_lb_name(enum team_lb lb);
const char *team_detect_name(enum team_detect d);
/* The enum value of a name, or -EINVAL. */
int team_lb_from_name(const char *name);
int team_detect_from_name(const char *name);

/* A port group's teaming policy, inheritance resolved (control side). */
struct team_policy {
	uint8_t lb; /* enum team_lb */
	uint8_t detect; /* enum team_detect */
	bool notify_switches; /* send RARPs when a VM's uplink changes (caller's job) */
	bool failback; /* a recovered active uplink takes its slot back at once */
	uint8_t n_active; /* entries in active */
	uint8_t n_standby; /* entries in standby */
	uint8_t active[TEAM_MAX_UPLINKS]; /* active uplinks, in failover order */
	uint8_t standby[TEAM_MAX_UPLINKS]; /* standby uplinks, in failover order */
};

/*
 * Is the policy well formed? Indices below TEAM_MAX_UPLINKS, no uplink
 * twice (in or across the lists), enums in range, and no beacon probing with
 * IP hash (the reference forbids it). Returns 0 or -EINVAL.
 */
int team_policy_check(const struct team_policy *pol);

/* A port group's team as the packet path reads it. Immutable once published. */
struct team {
	uint8_t lb; /* enum team_lb */
	uint8_t n_serving; /* entries in serving; 0: no uplink serves the port group */
	uint8_t serving[TEAM_MAX_UPLINKS]; /* the slots' holders, in slot order */
	uint32_t members; /* active and standby uplinks: all the team may ever use */
	uint32_t healthy; /* members up for this team (carrier, and beacons if probing) */
	uint32_t shotgun; /* beacon probing cannot tell the failed uplink: send every
			   * frame out of each of these (vSphere's "shotgun"); else 0 */
	uint8_t table[TEAM_TABLE_SIZE]; /* hash bucket -> uplink; TEAM_NONE when nothing serves */
};

/* --- hashes (worker lcore; pure) --- */

/* Fold 32 bits to a bucket: the XOR of the four bytes. */
static inline uint32_t
team_fold32(uint32_t x)
{
	x ^= x >> 16;
	x ^= x >> 8;
	return x & 0xff;
}

/* Source MAC hash: the XOR of the address's six bytes. */
static inline uint32_t
team_hash_mac(const struct rte_ether_addr *a)
{
	const uint8_t *b = a->addr_bytes;

	return b[0] ^ b[1] ^ b[2] ^ b[3] ^ b[4] ^ b[5];
}

/*
 * IP hash of an untagged frame (the switch strips the tag and keeps it
 * beside): the XOR of all bytes of the source and destination addresses.
 * IPv4 and every other ethertype hash bytes 26..33 (where an IPv4 header's
 * source and destination sit: a non-IP frame hashes whatever is there;
 * bytes beyond the first segment count as zero). IPv6 (ethertype 0x86dd,
 * at least 54 bytes in the first segment) hashes its two 16-byte addresses,
 * bytes 22..53. XOR is symmetric: both directions of a flow hash alike.
 */
static inline uint32_t
team_hash_ip(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = m->data_len, a, b, i, x = 0;
	uint16_t type;

	if (likely(len >= 34)) {
		memcpy(&type, p + 12, sizeof(type));
		if (unlikely(type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) && len >= 54) {
			for (i = 22; i < 54; i += 4) {
				memcpy(&a, p + i, sizeof(a));
				x ^= a;
			}
			return team_fold32(x);
		}
		memcpy(&a, p + 26, sizeof(a));
		memcpy(&b, p + 30, sizeof(b));
		return team_fold32(a ^ b);
	}
	for (i = 26; i < len; i++)
		x ^= p[i];
	return x;
}

/*
 * The uplink frame m from VM port `port` leaves through: an uplink index,
 * or TEAM_NONE when no uplink serves. Port ID: bucket = port index mod 256;
 * source MAC: the frame's source MAC hash; IP hash: team_hash_ip(); explicit
 * failover: the one serving uplink. When t->shotgun is not 0 the caller
 * sends the frame out of each uplink in t->shotgun instead. m's first
 * segment holds at least the Ethernet header. Worker lcore, RCU read side.
 */
static inline uint8_t
team_select(const struct team *t, uint16_t port, const struct rte_mbuf *m)
{
	uint32_t h;

	switch (t->lb) {
	case TEAM_LB_PORT_ID:
		h = port;
		break;
	case TEAM_LB_SRC_MAC:
		h = team_hash_mac(&rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->src_addr);
		break;
	case TEAM_LB_IP_HASH:
		h = team_hash_ip(m);
		break;
	default:
		h = 0;
		break;
	}
	return t->table[h & (TEAM_TABLE_SIZE - 1)];
}

/*
 * The uplink VM port `port` with MAC mac is expected on: where its frames
 * from mac leave (port ID, source MAC, explicit failover), or, with IP
 * hash (per flow, not per port), the first serving uplink. This is the
 * uplink that receives its group traffic (team_rx_accept()) and the one its
 * RARP goes out of (notify switches). TEAM_NONE when nothing serves. Worker
 * lcore or control.
 */
static inline uint8_t
team_port_uplink(const struct team *t, uint16_t port, const struct rte_ether_addr *mac)
{
	switch (t->lb) {
	case TEAM_LB_PORT_ID:
		return t->table[port & (TEAM_TABLE_SIZE - 1)];
	case TEAM_LB_SRC_MAC:
		return t->table[team_hash_mac(mac) & (TEAM_TABLE_SIZE - 1)];
	case TEAM_LB_IP_HASH:
		return t->n_serving != 0 ? t->serving[0] : TEAM_NONE;
	default:
		return t->table[0];
	}
}

/*
 * May a frame received on uplink u be delivered to VM port `port` (MAC
 * mac) of team t? group: the destination is broadcast or multicast.
 *
 * Never from an uplink the team does not use (unused, or not in the
 * vSwitch's list). With IP hash (the upstream switch balances over a static
 * EtherChannel) from any member uplink, as also in shotgun mode (the broken
 * path is unknown). Otherwise a group frame only from the uplink the port's
 * traffic leaves through (team_port_uplink()): the physical network floods
 * a group frame to every uplink, and the VM must get it once, from where the
 * upstream switches have learned it. A unicast frame is accepted from any
 * member: only one copy is ever sent to a learned MAC, and while the
 * upstream switches still point at a VM's old uplink (before its RARP, or
 * with notify switches off) refusing it would black-hole the VM. A caller
 * that wants the strict rule for unicast too passes group = true.
 * Worker lcore.
 */
static inline bool
team_rx_accept(const struct team *t, unsigned u, uint16_t port, const struct rte_ether_addr *mac,
	bool group)
{
	if (u >= TEAM_MAX_UPLINKS || !((t->members >> u) & 1))
		return false;
	if (!group || t->lb == TEAM_LB_IP_HASH || t->shotgun != 0)
		return true;
	return team_port_uplink(t, port, mac) == u;
}

/* Is an untagged frame (tag beside) a beacon (ethertype 0x8922)? Worker lcore. */
static inline bool
team_is_beacon(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	return eth->ether_type == RTE_BE16(TEAM_BEACON_ETHERTYPE);
}

/* --- frames the control side sends (handed to the worker owning the tx queue) --- */

/*
 * Write a beacon from the uplink with MAC mac, on VLAN vid (0: untagged; else
 * an inline 802.1Q tag, as it leaves the uplink), sequence number seq, into
 * buf. Format: broadcast destination, source mac, ethertype 0x8922, then
 * "PTCB", version 1, a zero byte, vid (big endian, 2 bytes), mac (6 bytes),
 * two zero bytes, seq (big endian, 4 bytes), zero padding to 60 bytes
 * (64 tagged). Returns the length or -ENOSPC (size below the length).
 */
int team_beacon_build(
	void *buf, size_t size, const struct rte_ether_addr *mac, uint16_t vid, uint32_t seq);
/* The same into an empty mbuf (appended). Returns 0 or -ENOSPC. */
int team_beacon_build_mbuf(
	struct rte_mbuf *m, const struct rte_ether_addr *mac, uint16_t vid, uint32_t seq);
/*
 * Classify a frame: is it a beacon, from which uplink MAC? Takes an untagged
 * frame or one with an inline 802.1Q/802.1ad tag (then *vid is the tag's VLAN
 * ID, else the VLAN ID written in the beacon). from, vid, seq may be NULL.
 * Returns 0 (one of ours), -EPROTO (ethertype 0x8922 but another format, e.g.
 * another vendor's: still consumed, never delivered) or -ENOENT (not a beacon).
 */
int team_beacon_parse(
	const void *frame, size_t len, struct rte_ether_addr *from, uint16_t *vid, uint32_t *seq);

/*
 * Write the notify-switches frame for a VM's MAC, on VLAN vid (0: untagged,
 * else tagged inline): a broadcast RARP (ethertype 0x8035, reverse request)
 * with mac as Ethernet source and as sender and target hardware address, IP
 * addresses 0, padded to 60 bytes (64 tagged), like QEMU's self-announce.
 * Returns the length or -ENOSPC.
 */
int team_rarp_build(void *buf, size_t size, const struct rte_ether_addr *mac, uint16_t vid);
/* The same into an empty mbuf (appended). Returns 0 or -ENOSPC. */
int team_rarp_build_mbuf(struct rte_mbuf *m, const struct rte_ether_addr *mac, uint16_t vid);

/* --- beacon probing (control side, time passed in) --- */

/*
 * Beacon probing of one team, in rounds. Once a second (team_beacon_due())
 * every member uplink with carrier sends one beacon per VLAN probed; the
 * caller feeds the beacons the uplinks receive (team_beacon_rx()). A fifth
 * of a second after a round was sent it is judged (TEAM_BEACON_JUDGE_DIV;
 * beacons cross a switch in microseconds, control reads them every 10 ms,
 * and the sooner a round is judged the sooner a failure shows: 2.2-3.2 s
 * after the cut with 3 misses): an uplink "heard" the round
 * when, on every VLAN probed, it received a beacon of that round from at
 * least one other member. An uplink that missed 3 consecutive rounds is
 * isolated. Among the members with carrier, isolated uplinks fail when
 * another one heard the last round (it proves the network works); when
 * none did (two uplinks that cannot hear each other: which one is broken
 * cannot be told), none fails and the team is in shotgun mode: frames go
 * out of all of them, as vSphere does. With fewer than two members with
 * carrier nothing can be probed: none fails.
 * Judging whole rounds (never single beacons) means the order in which one
 * round's beacons arrive never shows as a transient failure. A failure is
 * seen 2.5 to 3.5 s after it happens (plus the caller's tick period); a
 * repair at the judgement of the first round heard.
 */
struct team_beacon {
	uint32_t members; /* uplinks that probe (active and standby) */
	uint32_t link; /* of those, the ones with carrier */
	uint8_t n_vlans; /* entries in vlans */
	uint16_t vlans[TEAM_BEACON_MAX_VLANS]; /* VLAN IDs probed (0: untagged) */
	struct rte_ether_addr mac[TEAM_MAX_UPLINKS]; /* each member's MAC, by uplink */
	uint64_t hz; /* clock units per second: one round */
	uint64_t next_send; /* when the next round is due */
	uint64_t round_start; /* when the current round was sent */
	bool in_round; /* a round was sent and is not judged yet */
	/* [receiver][sender]: the VLANs (bit i: vlans[i]) heard in the current round */
	uint8_t heard[TEAM_MAX_UPLINKS][TEAM_MAX_UPLINKS];
	uint8_t misses[TEAM_MAX_UPLINKS]; /* consecutive rounds the uplink heard nobody */
	uint32_t hearing; /* uplinks that heard the last round judged (since carrier up) */
	uint32_t ok; /* output: members with carrier that beacons do not fail */
	uint32_t failed; /* output: members with carrier that beacons fail (isolated) */
	bool shotgun; /* output: no failed uplink can be told apart: send on all in ok */
};

/*
 * Start probing: members (bitmap), their MACs (mac[u] for each member u;
 * unicast, all different), the VLANs (0 = untagged, up to 4094), link
 * (carrier bitmap), hz clock units per second, now. Nobody has missed a
 * round yet; the first round is due at once. Returns 0 or -EINVAL.
 */
int team_beacon_init(struct team_beacon *b, uint32_t members, const struct rte_ether_addr *mac,
	const uint16_t *vlans, unsigned n_vlans, uint32_t link, uint64_t hz, uint64_t now);
/* Carrier of uplink u changed; an uplink coming up starts with no evidence either way. */
void team_beacon_link(struct team_beacon *b, unsigned u, bool up);
/*
 * Uplink u received a beacon from MAC from on VLAN vid. Counts for the
 * current round (judged later). Returns 0 (counted; one of u's own beacons
 * coming back is ignored), -ENOENT (not from a member: another team's or
 * host's) or -EINVAL (u not a member, vid not probed).
 */
int team_beacon_rx(
	struct team_beacon *b, unsigned u, const struct rte_ether_addr *from, uint16_t vid);
/* Judge the current round if half a second has passed. Call every <= 100 ms. */
void team_beacon_eval(struct team_beacon *b, uint64_t now);
/*
 * Is a round of beacons due at now? If so the current round is judged (if
 * it was not yet), a new one starts, the next is scheduled one second
 * later, and the caller sends one beacon per VLAN out of every member
 * uplink with carrier.
 */
bool team_beacon_due(struct team_beacon *b, uint64_t now);

/* --- failover and failback (control side) --- */

/* What happened to a team. */
enum team_event_type {
	TEAM_EV_UPLINK_DOWN, /* uplink stopped being healthy for this team (reason) */
	TEAM_EV_UPLINK_UP, /* uplink became healthy again */
	TEAM_EV_FAILOVER, /* slot's holder `from` failed; `to` took over (TEAM_NONE: nobody) */
	TEAM_EV_FAILBACK, /* recovered uplink `to` took slot from healthy `from`
			   * (TEAM_NONE: the slot was empty) */
	TEAM_EV_SHOTGUN_ON, /* beacons cannot tell the failed uplink: sending on all */
	TEAM_EV_SHOTGUN_OFF, /* they can again */
	TEAM_EV_MAX_TYPE
};

/* Why an uplink is down for a team. */
enum team_reason {
	TEAM_REASON_NONE,
	TEAM_REASON_LINK, /* no carrier */
	TEAM_REASON_BEACON, /* carrier, but isolated by beacon probing */
};

/* One event. */
struct team_event {
	uint8_t type; /* enum team_event_type */
	uint8_t uplink; /* UPLINK_DOWN/UP: the uplink; else TEAM_NONE */
	uint8_t reason; /* UPLINK_DOWN: enum team_reason */
	uint8_t slot; /* FAILOVER/FAILBACK: the slot (0..); else TEAM_NONE */
	uint8_t from; /* FAILOVER/FAILBACK: who held the slot, or TEAM_NONE */
	uint8_t to; /* FAILOVER/FAILBACK: who holds it now, or TEAM_NONE */
};

/* Events produced by one or more calls; the caller empties it (n = 0). */
struct team_events {
	unsigned n; /* entries in ev */
	unsigned lost; /* events that did not fit */
	struct team_event ev[TEAM_EV_MAX]; /* in the order they happened */
};

/* The event's name for logs ("failover", ...). */
const char *team_event_name(enum team_event_type type);

/*
 * A team's control-side state. Healthy = member, carrier, and (beacon
 * probing) not failed by beacons. Slots: with load balancing, slot i belongs
 * to active[i] (with no active uplink at all, one slot that no uplink owns);
 * with explicit failover there is one slot. After every input:
 *   1. a slot whose holder is not healthy is emptied (failover);
 *   2. failback on: a healthy active uplink takes its own slot back from
 *      whoever holds it (explicit failover: the first healthy uplink in
 *      order, actives then standbys, holds the slot);
 *   3. each empty slot, in slot order, is taken by its own active uplink if
 *      healthy and idle, else by the first healthy idle uplink in order
 *      (actives, then standbys). With failback off, a recovered active thus
 *      stays idle ("standby") until a slot needs a replacement.
 * Holders that stay healthy never move otherwise (no needless churn).
 */
struct team_state {
	struct team_policy pol; /* the policy, as given */
	uint8_t n_slots; /* slots (see above) */
	uint8_t home[TEAM_MAX_UPLINKS]; /* slot -> the active uplink it belongs to, or TEAM_NONE */
	uint8_t slot[TEAM_MAX_UPLINKS]; /* slot -> holder, or TEAM_NONE */
	uint8_t order[2 * TEAM_MAX_UPLINKS]; /* actives then standbys: preference order */
	uint8_t n_order; /* entries in order */
	uint32_t members; /* active and standby uplinks */
	uint32_t link; /* carrier, every uplink of the vSwitch */
	uint32_t healthy; /* see above */
	bool shotgun; /* shotgun mode, as last reported */
	bool probing; /* failure detection is beacon probing */
	struct team_beacon beacon; /* when probing */
};

/*
 * Build a team's state: policy (team_policy_check()), mac[u] the MAC of
 * each uplink and the VLANs to probe (both only read with beacon probing;
 * may be NULL otherwise), link the carrier bitmap, hz clock units per
 * second, now. Slots start filled as step 3 fills them; no events. Returns
 * 0 or -EINVAL. After a policy change, build a new state (failback off
 * history is not kept) and diff the compiled teams for notify switches.
 */
int team_state_init(struct team_state *ts, const struct team_policy *pol,
	const struct rte_ether_addr *mac, const uint16_t *vlans, unsigned n_vlans, uint32_t link,
	uint64_t hz, uint64_t now);
/* Carrier of uplink u (any uplink of the vSwitch) is now up or down. ev may be NULL. */
void team_state_link(
	struct team_state *ts, unsigned u, bool up, uint64_t now, struct team_events *ev);
/*
 * Uplink u received a beacon from MAC from on VLAN vid. Returns as
 * team_beacon_rx() (-EINVAL also without beacon probing). ev may be NULL.
 */
int team_state_beacon_rx(struct team_state *ts, unsigned u, const struct rte_ether_addr *from,
	uint16_t vid, uint64_t now, struct team_events *ev);
/* Time passes: beacon rounds are judged. Call at least every 100 ms when probing. */
void team_state_tick(struct team_state *ts, uint64_t now, struct team_events *ev);
/*
 * Is a round of beacons due (always false without beacon probing)? See
 * team_beacon_due(); judging the round before may report events.
 */
bool team_state_beacon_due(struct team_state *ts, uint64_t now, struct team_events *ev);
/* Is the team in shotgun mode? */
static inline bool
team_state_shotgun(const struct team_state *ts)
{
	return ts->shotgun;
}
/* Fill t, the packet path's view of the team (see struct team). */
void team_state_compile(const struct team_state *ts, struct team *t);

#endif /* PORTICO_TEAMING_H */
