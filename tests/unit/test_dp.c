/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the burst pipeline (dp_process): forwarding, flooding,
 * learning, VLANs and drops, with fake ports that record what they are
 * given. EAL runs without hugepages (--no-huge) for the mempool and rings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <rte_eal.h>

#include "dataplane/dp.h"
#include "dataplane/dp_private.h" /* the worker's security state, reset per test */

#define MAX_SEEN 64

/* A fake port: records copies of what it is sent. */
struct fake {
	volatile uint8_t up;
	bool consumes; /* behaves like an ethdev (takes the mbufs) */
	unsigned n; /* frames seen */
	uint8_t data[MAX_SEEN][80];
	uint16_t len[MAX_SEEN];
	unsigned accept; /* how many of a burst it takes (ring space) */
};

static uint16_t
fake_rx(void *priv, uint16_t q, struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t n)
{
	return 0;
}

/*
 * The frames a consuming (ethdev) port took in the current burst: a vhost
 * port must never be given one of them after (the ethdev may have freed it).
 */
static bool consumed_in_burst;
static struct rte_mbuf *consumed[256];
static unsigned n_consumed;

static uint16_t
fake_tx(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	struct fake *f = priv;
	uint16_t i, take = n < f->accept ? n : (uint16_t)f->accept;

	/* An ethdev may free what it takes: no copying port may get it after. */
	if (!consumed_in_burst)
		n_consumed = 0;
	consumed_in_burst = true;
	for (i = 0; i < n; i++)
		for (unsigned k = 0; k < n_consumed; k++)
			if (!f->consumes && pkts[i] == consumed[k])
				fail_msg("a vhost port was sent a frame an ethdev took in the same "
					 "burst");
	for (i = 0; f->consumes && i < take && n_consumed < RTE_DIM(consumed); i++)
		consumed[n_consumed++] = pkts[i];

	for (i = 0; i < take; i++) {
		if (f->n < MAX_SEEN) {
			uint16_t l = pkts[i]->data_len < 80 ? pkts[i]->data_len : 80;

			memcpy(f->data[f->n], rte_pktmbuf_mtod(pkts[i], void *), l);
			f->len[f->n] = pkts[i]->data_len;
		}
		f->n++;
		if (f->consumes)
			rte_pktmbuf_free(pkts[i]);
	}
	return take;
}

static const struct dp_port_ops vm_ops = {.rx = fake_rx, .tx = fake_tx, .tx_consumes = false};
static const struct dp_port_ops eth_ops = {.rx = fake_rx, .tx = fake_tx, .tx_consumes = true};

/*
 * The test switch: vSwitch 0 with
 *   port 0: VM a, EST (VLAN 0)      52:54:00:00:00:0a
 *   port 1: VM b, EST (VLAN 0)      52:54:00:00:00:0b
 *   port 2: VM c, VST 10            52:54:00:00:00:0c
 *   port 3: VM d, VST 10            52:54:00:00:00:0d
 *   port 4: VM e, VGT (4095)        52:54:00:00:00:0e
 *   port 5: VM f, trunk 100-200     52:54:00:00:00:0f
 *   port 6: uplink
 */
#define N_PORTS 7
#define UPLINK 6
static struct fake fakes[N_PORTS];
static struct dp_snapshot *snap;
static struct dp_worker *w;

static void
mac_of(unsigned port, uint8_t mac[6])
{
	static const uint8_t base[6] = {0x52, 0x54, 0, 0, 0, 0x0a};

	memcpy(mac, base, 6);
	mac[5] += (uint8_t)port;
}

/* Compile a team of n_active uplinks (slots 0..), those in link up, balancing lb. */
static void
team_set(struct team *t, unsigned n_active, uint32_t link, enum team_lb lb)
{
	struct team_policy pol = {.lb = (uint8_t)lb, .notify_switches = true, .failback = true};
	struct team_state ts;

	for (unsigned u = 0; u < n_active; u++)
		pol.active[pol.n_active++] = (uint8_t)u;
	assert_int_equal(team_state_init(&ts, &pol, NULL, NULL, 0, link, 1000, 0), 0);
	team_state_compile(&ts, t);
}

/* What control's compile gives a VM port of team t (control/teams.c). */
static void
team_port(struct dp_port *p, const struct team *t)
{
	p->team = t;
	p->team_members = t->members;
	p->team_rx = t->lb == TEAM_LB_IP_HASH || t->shotgun != 0
		? DP_TEAM_RX_ANY
		: team_port_uplink(t, p->index, &p->sec.eff_mac);
}

static int
setup(void **state)
{
	static const struct vlan_range trunk = {100, 200};
	struct dp_vswitch *vs;
	unsigned i;

	memset(fakes, 0, sizeof(fakes));
	snap = dp_snapshot_new();
	vs = &snap->vswitches[0];
	vs->used = true;
	vs->statics = fdb_create(16);
	vs->learned[0] = fdb_create(64);
	/* One port group's teaming: the one uplink active, link up. */
	vs->teams = calloc(1, sizeof(*vs->teams));
	vs->n_teams = 1;
	team_set(&vs->teams[0], 1, 1, TEAM_LB_PORT_ID);
	for (i = 0; i < N_PORTS; i++) {
		struct dp_port *p = dp_port_new();
		struct rte_ether_addr mac;

		fakes[i].up = 1;
		fakes[i].accept = 1000;
		fakes[i].consumes = i == UPLINK;
		p->index = (uint16_t)i;
		p->kind = i == UPLINK ? DP_PORT_UPLINK : DP_PORT_VM;
		p->n_queues = 1;
		p->max_frame = 1518;
		p->ops = i == UPLINK ? &eth_ops : &vm_ops;
		p->priv = &fakes[i];
		p->up = &fakes[i].up;
		switch (i) {
		case 0:
		case 1:
			vlan_port_cfg_init(&p->vlan, VLAN_MODE_NONE, 0, NULL, 0);
			break;
		case 2:
		case 3:
			vlan_port_cfg_init(&p->vlan, VLAN_MODE_VST, 10, NULL, 0);
			break;
		case 4:
			vlan_port_cfg_init(&p->vlan, VLAN_MODE_VGT, 0, NULL, 0);
			break;
		case 5:
			vlan_port_cfg_init(&p->vlan, VLAN_MODE_TRUNK, 0, &trunk, 1);
			break;
		default:
			vlan_port_cfg_uplink(&p->vlan);
			p->uplink_slot = (uint8_t)vs->n_uplinks;
			vs->uplinks[vs->n_uplinks++] = (uint16_t)i;
		}
		if (i != UPLINK)
			team_port(p, &vs->teams[0]);
		snap->ports[i] = p;
		if (i != UPLINK) {
			mac_of(i, mac.addr_bytes);
			assert_int_equal(dp_vswitch_add_static(snap, p, &mac), 0);
		}
	}
	assert_int_equal(dp_vswitch_build_flood(snap, 0), 0);
	memset(w->sec, 0, sizeof(w->sec));
	return 0;
}

static int
teardown(void **state)
{
	fdb_destroy(snap->vswitches[0].learned[0]);
	dp_snapshot_free(snap);
	return 0;
}

/* A frame dst <- src, optionally tagged (tci != 0 or force_tag), with a marker byte. */
static struct rte_mbuf *
mk(const uint8_t dst[6], const uint8_t src[6], bool tagged, uint16_t tci, uint16_t len,
	uint8_t marker)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp_mempool());
	uint8_t *p;
	size_t off = 12;

	assert_non_null(m);
	assert_non_null(rte_pktmbuf_append(m, len));
	p = rte_pktmbuf_mtod(m, uint8_t *);
	memset(p, 0, len);
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	if (tagged) {
		p[off++] = 0x81, p[off++] = 0;
		p[off++] = tci >> 8, p[off++] = tci & 0xff;
	}
	p[off++] = 0x88, p[off++] = 0xb5;
	p[off] = marker;
	return m;
}

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ext1[6] = {0x02, 0, 0, 0, 0, 0x01}; /* a host behind the uplink */
static const uint8_t ext2[6] = {0x02, 0, 0, 0, 0, 0x02}; /* a host nobody knows */

static void
process(unsigned in, struct rte_mbuf **pkts, uint16_t n)
{
	consumed_in_burst = false;
	dp_process(snap, w, snap->ports[in], pkts, n, 0);
}

static void
send1(unsigned in, struct rte_mbuf *m)
{
	process(in, &m, 1);
}

static void
counts(unsigned expect[N_PORTS])
{
	for (unsigned i = 0; i < N_PORTS; i++)
		if (fakes[i].n != expect[i])
			fail_msg("port %u saw %u frames, expected %u", i, fakes[i].n, expect[i]);
}

static uint64_t
drops(unsigned port, enum dp_drop r)
{
	struct dp_port_stats st;

	dp_port_stats_get((uint16_t)port, &st);
	return st.drops[r];
}

/* Is frame k seen by port tagged, and with which VLAN ID? */
static int
seen_vid(unsigned port, unsigned k)
{
	const uint8_t *d = fakes[port].data[k];

	if (d[12] == 0x81 && d[13] == 0)
		return ((d[14] << 8) | d[15]) & 0xfff;
	return -1;
}

static void
test_unicast_vm_to_vm(void **state)
{
	uint8_t a[6], b[6];
	struct dp_port_stats before, after;

	mac_of(0, a), mac_of(1, b);
	dp_port_stats_get(1, &before);
	send1(0, mk(b, a, false, 0, 60, 1));
	counts((unsigned[]){0, 1, 0, 0, 0, 0, 0});
	assert_int_equal(seen_vid(1, 0), -1);
	assert_int_equal(fakes[1].data[0][14], 1);
	dp_port_stats_get(1, &after);
	assert_int_equal(after.tx_packets - before.tx_packets, 1);
	assert_int_equal(after.tx_bytes - before.tx_bytes, 60);
}

static void
test_broadcast_from_vm(void **state)
{
	uint8_t a[6], c[6];

	/* EST: VMs on VLAN 0 (b), VGT e (untagged), uplink; never back to a. */
	mac_of(0, a);
	send1(0, mk(bcast, a, false, 0, 60, 2));
	counts((unsigned[]){0, 1, 0, 0, 1, 0, 1});
	assert_int_equal(seen_vid(UPLINK, 0), -1);
	assert_int_equal(seen_vid(4, 0), -1);

	/* VST 10: d untagged, e (VGT) and the uplink tagged 10. */
	memset(fakes, 0, sizeof(fakes[0]) * 0); /* keep counts running */
	mac_of(2, c);
	send1(2, mk(bcast, c, false, 0, 60, 3));
	counts((unsigned[]){0, 1, 0, 1, 2, 0, 2});
	assert_int_equal(seen_vid(3, 0), -1);
	assert_int_equal(seen_vid(4, 1), 10);
	assert_int_equal(seen_vid(UPLINK, 1), 10);
	assert_int_equal(fakes[3].len[0], 60);
	assert_int_equal(fakes[UPLINK].len[1], 64);
}

static void
test_unknown_unicast_from_vm(void **state)
{
	uint8_t a[6];

	mac_of(0, a);
	send1(0, mk(ext1, a, false, 0, 60, 4));
	/* Only the uplink: a VM receives only frames addressed to it. */
	counts((unsigned[]){0, 0, 0, 0, 0, 0, 1});
}

static void
test_from_uplink(void **state)
{
	uint8_t b[6], d[6];
	uint64_t unknown = drops(UPLINK, DP_DROP_UNKNOWN_UNICAST);
	uint64_t vlan_unknown = drops(UPLINK, DP_DROP_VLAN_UNKNOWN);

	mac_of(1, b), mac_of(3, d);
	/* Untagged to b: delivered. Tagged 10 to d: delivered untagged. */
	send1(UPLINK, mk(b, ext1, false, 0, 60, 5));
	send1(UPLINK, mk(d, ext1, true, 10, 64, 6));
	counts((unsigned[]){0, 1, 0, 1, 0, 0, 0});
	assert_int_equal(seen_vid(3, 0), -1);
	assert_int_equal(fakes[3].len[0], 60);
	assert_int_equal(fakes[3].data[0][14], 6);
	/* Tagged 10 to b (VLAN 0): not b's VLAN, and never back out: dropped. */
	send1(UPLINK, mk(b, ext1, true, 10, 64, 7));
	/* Unknown unicast from the uplink: dropped. */
	send1(UPLINK, mk((uint8_t[]){2, 0, 0, 0, 0, 9}, ext1, false, 0, 60, 8));
	counts((unsigned[]){0, 1, 0, 1, 0, 0, 0});
	assert_int_equal(drops(UPLINK, DP_DROP_UNKNOWN_UNICAST) - unknown, 2);
	/* Broadcast on VLAN 150: only f (trunk 100-200, tagged) and e (VGT, tagged). */
	send1(UPLINK, mk(bcast, ext1, true, 150, 64, 9));
	counts((unsigned[]){0, 1, 0, 1, 1, 1, 0});
	assert_int_equal(seen_vid(4, 0), 150);
	assert_int_equal(seen_vid(5, 0), 150);
	/* Broadcast on VLAN 4000 reaches only e; VLAN 4094 too; none on trunk. */
	send1(UPLINK, mk(bcast, ext1, true, 4000, 64, 10));
	counts((unsigned[]){0, 1, 0, 1, 2, 1, 0});
	assert_int_equal(drops(UPLINK, DP_DROP_VLAN_UNKNOWN), vlan_unknown);
}

static void
test_learning(void **state)
{
	struct fdb *learned = snap->vswitches[0].learned[0];
	struct rte_ether_addr e1;
	uint8_t a[6];
	struct dp_event ev[8];
	unsigned n;

	memcpy(e1.addr_bytes, ext1, 6);
	mac_of(0, a);
	while (dp_events_drain(ev, 8) > 0)
		;
	send1(UPLINK, mk(a, ext1, false, 0, 60, 11));
	assert_int_equal(fdb_lookup(learned, fdb_key(0, &e1)), UPLINK);
	n = dp_events_drain(ev, 8);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].type, DP_EV_LEARNED);
	assert_int_equal(ev[0].port, UPLINK);
	assert_memory_equal(ev[0].mac, ext1, 6);
	/* Seen again at the same place: no new event. */
	send1(UPLINK, mk(a, ext1, false, 0, 60, 12));
	assert_int_equal(dp_events_drain(ev, 8), 0);
	/* Per VLAN: the same MAC on VLAN 10 is another entry. */
	send1(UPLINK, mk(bcast, ext1, true, 10, 64, 13));
	assert_int_equal(fdb_lookup(learned, fdb_key(10, &e1)), UPLINK);
	/* Known external unicast goes out of the uplink it was learned on. */
	send1(0, mk(ext1, a, false, 0, 60, 14));
	assert_int_equal(fakes[UPLINK].n, 1);
}

static void
test_reflection_and_same_port(void **state)
{
	uint8_t a[6];
	uint64_t refl = drops(UPLINK, DP_DROP_REFLECTION), same = drops(0, DP_DROP_SAME_PORT);

	mac_of(0, a);
	/* Our own VM's broadcast coming back in from the physical network. */
	send1(UPLINK, mk(bcast, a, false, 0, 60, 15));
	counts((unsigned[]){0, 0, 0, 0, 0, 0, 0});
	assert_int_equal(drops(UPLINK, DP_DROP_REFLECTION) - refl, 1);
	send1(0, mk(a, a, false, 0, 60, 16));
	assert_int_equal(drops(0, DP_DROP_SAME_PORT) - same, 1);
}

static void
test_vlan_isolation_and_drops(void **state)
{
	uint8_t a[6], c[6], e[6], f[6];
	uint64_t tagged = drops(0, DP_DROP_VLAN_TAGGED), na = drops(5, DP_DROP_VLAN_NOT_ALLOWED);
	uint64_t big = drops(0, DP_DROP_OVERSIZE);

	mac_of(0, a), mac_of(2, c), mac_of(4, e), mac_of(5, f);
	/* a (VLAN 0) to c (VST 10): different VLANs, goes to the uplink as unknown. */
	send1(0, mk(c, a, false, 0, 60, 17));
	counts((unsigned[]){0, 0, 0, 0, 0, 0, 1});
	/* A guest tag on an EST port. */
	send1(0, mk(bcast, a, true, 10, 64, 18));
	assert_int_equal(drops(0, DP_DROP_VLAN_TAGGED) - tagged, 1);
	/* Trunk 100-200: VLAN 300 refused, 150 passes tagged to e and the uplink. */
	send1(5, mk(bcast, f, true, 300, 64, 19));
	assert_int_equal(drops(5, DP_DROP_VLAN_NOT_ALLOWED) - na, 1);
	send1(5, mk(bcast, f, true, 0x6000 | 150, 64, 20));
	counts((unsigned[]){0, 0, 0, 0, 1, 0, 2});
	assert_int_equal(seen_vid(4, 0), 150);
	assert_int_equal(fakes[4].data[0][14], 0x60); /* the guest's priority bits kept */
	assert_int_equal(seen_vid(UPLINK, 1), 150);
	/* VGT e sends to c on VLAN 10 tagged: c gets it untagged. */
	send1(4, mk(c, e, true, 10, 64, 21));
	counts((unsigned[]){0, 0, 1, 0, 1, 0, 2});
	assert_int_equal(seen_vid(2, 0), -1);
	assert_int_equal(fakes[2].len[0], 60);
	/* MTU 1500: 1518 bytes pass, 1519 do not. */
	send1(0, mk(bcast, a, false, 0, 1518, 22));
	send1(0, mk(bcast, a, false, 0, 1519, 23));
	assert_int_equal(drops(0, DP_DROP_OVERSIZE) - big, 1);
}

static void
test_peer_down_and_full(void **state)
{
	uint8_t a[6], b[6];
	struct rte_mbuf *burst[4];
	uint64_t down = drops(1, DP_DROP_PEER_DOWN), full = drops(1, DP_DROP_TX_FULL);
	unsigned free_before = rte_mempool_avail_count(dp_mempool());

	mac_of(0, a), mac_of(1, b);
	fakes[1].up = 0;
	send1(0, mk(b, a, false, 0, 60, 24));
	assert_int_equal(drops(1, DP_DROP_PEER_DOWN) - down, 1);
	fakes[1].up = 1;
	fakes[1].accept = 1;
	for (unsigned i = 0; i < 4; i++)
		burst[i] = mk(b, a, false, 0, 60, (uint8_t)(30 + i));
	process(0, burst, 4);
	assert_int_equal(fakes[1].n, 1);
	assert_int_equal(drops(1, DP_DROP_TX_FULL) - full, 3);
	/* Uplink (consuming) refusing frames: they are freed, nothing leaks. */
	fakes[UPLINK].accept = 0;
	send1(0, mk(ext1, a, false, 0, 60, 40));
	send1(0, mk(bcast, a, false, 0, 60, 41));
	assert_int_equal(rte_mempool_avail_count(dp_mempool()), free_before);
}

/* A mixed burst: unicast, broadcast and tagged frames to several ports at once. */
static void
test_mixed_burst_no_leak(void **state)
{
	unsigned free_before = rte_mempool_avail_count(dp_mempool());
	struct rte_mbuf *burst[DP_BURST];
	uint8_t a[6], b[6], c[6];
	unsigned i;

	mac_of(0, a), mac_of(1, b), mac_of(2, c);
	for (i = 0; i < DP_BURST; i++) {
		switch (i % 4) {
		case 0:
			burst[i] = mk(b, a, false, 0, 60, (uint8_t)i);
			break;
		case 1:
			burst[i] = mk(bcast, a, false, 0, 60, (uint8_t)i);
			break;
		case 2:
			burst[i] = mk(ext1, a, false, 0, 60, (uint8_t)i);
			break;
		default:
			burst[i] = mk(c, a, true, 5, 64, (uint8_t)i); /* refused: tagged */
		}
	}
	process(0, burst, DP_BURST);
	/* b: 8 unicast + 8 broadcast, in order; uplink: 8 broadcast + 8 unknown. */
	assert_int_equal(fakes[1].n, 16);
	assert_int_equal(fakes[UPLINK].n, 16);
	assert_int_equal(fakes[4].n, 8);
	for (i = 0; i < 16; i++)
		assert_int_equal(fakes[1].data[i][14], i / 2 * 4 + i % 2);
	assert_int_equal(rte_mempool_avail_count(dp_mempool()), free_before);
}

/*
 * An uplink and a VGT port in one burst, the uplink's slot first: the VGT
 * port must still get its copy before the ethdev may free the frame.
 */
static void
test_ethdev_last(void **state)
{
	struct rte_mbuf *burst[2];
	uint8_t a[6];

	mac_of(0, a);
	burst[0] = mk(ext1, a, false, 0, 60, 50); /* unknown unicast: uplink slot first */
	burst[1] = mk(bcast, a, false, 0, 60, 51); /* broadcast: VGT e, b, and the uplink */
	process(0, burst, 2);
	counts((unsigned[]){0, 1, 0, 0, 1, 0, 2});
	assert_int_equal(fakes[4].data[0][14], 51);
}

/* Bytes of tagged deliveries count the tag, and refused ones come off exactly. */
static void
test_tagged_bytes(void **state)
{
	struct dp_port_stats before, after;
	uint8_t c[6];

	mac_of(2, c);
	dp_port_stats_get(4, &before);
	send1(2, mk(bcast, c, false, 0, 60, 52)); /* VST 10 -> VGT e tagged: 64 bytes */
	dp_port_stats_get(4, &after);
	assert_int_equal(after.tx_bytes - before.tx_bytes, 64);
	fakes[4].up = 0;
	send1(2, mk(bcast, c, false, 0, 60, 53));
	dp_port_stats_get(4, &after);
	assert_int_equal(after.tx_bytes - before.tx_bytes, 64);
	assert_int_equal(after.tx_packets - before.tx_packets, 1);
	assert_int_equal(after.drops[DP_DROP_PEER_DOWN] - before.drops[DP_DROP_PEER_DOWN], 1);
}

/* --- security --- */

/* Give VM port its security flags (effective MAC = configured unless eff given). */
static struct dp_port *
sec_set(unsigned port, uint32_t flags, const uint8_t *eff)
{
	struct dp_port *p = snap->ports[port];

	struct rte_ether_addr m;

	p->sec.flags = flags;
	if (eff != NULL)
		memcpy(m.addr_bytes, eff, 6);
	else
		mac_of(port, m.addr_bytes);
	sec_set_eff_mac(&p->sec, &m);
	assert_int_equal(dp_vswitch_build_flood(snap, 0), 0);
	return p;
}

static void
process_at(unsigned in, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	consumed_in_burst = false;
	dp_process(snap, w, snap->ports[in], pkts, n, now);
}

static void
test_forged_transmits(void **state)
{
	static const uint8_t guest_new[6] = {0x52, 0x54, 0, 0, 0x99, 0x01};
	uint8_t a[6], b[6];
	uint64_t before = drops(0, DP_DROP_FORGED_SOURCE);

	mac_of(0, a), mac_of(1, b);
	/* Reject: only the effective MAC may send. */
	sec_set(0, SEC_FORGED_REJECT, NULL);
	send1(0, mk(b, a, false, 0, 60, 1));
	send1(0, mk(b, ext1, false, 0, 60, 2));
	send1(0, mk(bcast, ext1, false, 0, 60, 3));
	counts((unsigned[]){0, 1, 0, 0, 0, 0, 0});
	assert_int_equal(drops(0, DP_DROP_FORGED_SOURCE) - before, 2);
	/* The guest changed its MAC: now that one is its own, the old one forged. */
	sec_set(0, SEC_FORGED_REJECT, guest_new);
	send1(0, mk(b, guest_new, false, 0, 60, 4));
	send1(0, mk(b, a, false, 0, 60, 5));
	counts((unsigned[]){0, 2, 0, 0, 0, 0, 0});
	assert_int_equal(drops(0, DP_DROP_FORGED_SOURCE) - before, 3);
	/* Accept: anything goes. */
	sec_set(0, 0, NULL);
	send1(0, mk(b, ext1, false, 0, 60, 6));
	counts((unsigned[]){0, 3, 0, 0, 0, 0, 0});
	assert_int_equal(drops(0, DP_DROP_FORGED_SOURCE) - before, 3);
}

static void
test_mac_changes(void **state)
{
	uint8_t a[6], b[6];
	uint64_t before = drops(1, DP_DROP_MAC_CHANGED);

	mac_of(0, a), mac_of(1, b);
	/* Reject and the guest changed its MAC: nothing reaches it, unicast or flood. */
	sec_set(1, SEC_RX_BLOCKED, NULL);
	send1(0, mk(b, a, false, 0, 60, 1));
	send1(0, mk(bcast, a, false, 0, 60, 2));
	counts((unsigned[]){0, 0, 0, 0, 1, 0, 1});
	assert_int_equal(drops(1, DP_DROP_MAC_CHANGED) - before, 2);
	/* It reverted (control compiles the flag away): delivered again. */
	sec_set(1, 0, NULL);
	send1(0, mk(b, a, false, 0, 60, 3));
	counts((unsigned[]){0, 1, 0, 0, 1, 0, 1});
}

static void
test_promiscuous(void **state)
{
	uint8_t a[6], b[6], c[6], d[6];
	uint64_t before = drops(UPLINK, DP_DROP_UNKNOWN_UNICAST);

	mac_of(0, a), mac_of(1, b), mac_of(2, c), mac_of(3, d);
	sec_set(3, SEC_PROMISC, NULL); /* d: VST 10 */
	sec_set(4, SEC_PROMISC, NULL); /* e: VGT */
	/* Unicast a -> b (VLAN 0): e sees a copy, untagged; d (VLAN 10) does not. */
	send1(0, mk(b, a, false, 0, 60, 1));
	counts((unsigned[]){0, 1, 0, 0, 1, 0, 0});
	assert_int_equal(seen_vid(4, 0), -1);
	/* Unknown unicast from c (VLAN 10): uplink, d, and e tagged 10. */
	send1(2, mk(ext1, c, false, 0, 60, 2));
	counts((unsigned[]){0, 1, 0, 1, 2, 0, 1});
	assert_int_equal(seen_vid(4, 1), 10);
	assert_int_equal(seen_vid(3, 0), -1);
	/* From the uplink, tagged 10, to c: c, d, e. */
	send1(UPLINK, mk(c, ext1, true, 10, 64, 3));
	counts((unsigned[]){0, 1, 1, 2, 3, 0, 1});
	/* From the uplink, unknown unicast on 10: the promiscuous ports only. */
	send1(UPLINK, mk(ext2, ext1, true, 10, 64, 4));
	counts((unsigned[]){0, 1, 1, 3, 4, 0, 1});
	assert_int_equal(drops(UPLINK, DP_DROP_UNKNOWN_UNICAST) - before, 0);
	/* ...on VLAN 300 (only e carries it): e; on VLAN 0 nobody else: e too. */
	send1(UPLINK, mk(ext2, ext1, true, 300, 64, 5));
	counts((unsigned[]){0, 1, 1, 3, 5, 0, 1});
	/* Not promiscuous: a frame for another VM never reaches d. */
	sec_set(3, 0, NULL);
	sec_set(4, 0, NULL);
	send1(2, mk(ext1, c, false, 0, 60, 6));
	send1(UPLINK, mk(ext2, ext1, true, 10, 64, 7));
	counts((unsigned[]){0, 1, 1, 3, 5, 0, 2});
	assert_int_equal(drops(UPLINK, DP_DROP_UNKNOWN_UNICAST) - before, 1);
	(void)d;
}

static void
test_mac_learning_port(void **state)
{
	static const uint8_t h1[6] = {0x02, 0, 0, 0, 0x10, 1}, h2[6] = {0x02, 0, 0, 0, 0x10, 2},
			     h3[6] = {0x02, 0, 0, 0, 0x10, 3};
	struct dp_port *p;
	struct dp_port_stats st0, st1;
	uint8_t b[6];
	uint64_t before = drops(0, DP_DROP_MAC_LIMIT), d0;

	mac_of(1, b);
	p = sec_set(0, SEC_FORGED_REJECT | SEC_MAC_LEARNING, NULL);
	p->sec.mac_limit = 2;
	/* Two sources behind a are learned; the third is beyond the limit. */
	send1(0, mk(b, h1, false, 0, 60, 1));
	send1(0, mk(b, h2, false, 0, 60, 2));
	send1(0, mk(b, h3, false, 0, 60, 3));
	send1(0, mk(b, h1, false, 0, 60, 4)); /* known: passes */
	counts((unsigned[]){0, 3, 0, 0, 0, 0, 0});
	assert_int_equal(drops(0, DP_DROP_MAC_LIMIT) - before, 1);
	/* Frames to a learned source reach a, from a VM and from the uplink. */
	send1(1, mk(h2, b, false, 0, 60, 5));
	send1(UPLINK, mk(h1, ext1, false, 0, 60, 6));
	counts((unsigned[]){2, 3, 0, 0, 0, 0, 0});
	/* Unknown unicast from the uplink: dropped (no flooding to a yet). */
	send1(UPLINK, mk(h3, ext1, false, 0, 60, 7));
	counts((unsigned[]){2, 3, 0, 0, 0, 0, 0});
	/* ...with unknown unicast flooding: a gets it; ordinary ports never. */
	sec_set(0, SEC_MAC_LEARNING | SEC_UNKNOWN_FLOOD, NULL)->sec.mac_limit = 2;
	send1(UPLINK, mk(h3, ext1, false, 0, 60, 8));
	counts((unsigned[]){3, 3, 0, 0, 0, 0, 0});
	/* Allow beyond the limit: passes unlearned and counted. */
	dp_port_stats_get(0, &st0);
	sec_set(0, SEC_MAC_LEARNING | SEC_LIMIT_ALLOW, NULL)->sec.mac_limit = 2;
	send1(0, mk(b, h3, false, 0, 60, 9));
	counts((unsigned[]){3, 4, 0, 0, 0, 0, 0});
	dp_port_stats_get(0, &st1);
	assert_int_equal(st1.unlearned - st0.unlearned, 1);
	/* A broadcast from h1 coming back by an uplink is ours, reflected: not a move. */
	d0 = drops(UPLINK, DP_DROP_REFLECTION);
	send1(UPLINK, mk(bcast, h1, false, 0, 60, 10));
	assert_int_equal(drops(UPLINK, DP_DROP_REFLECTION) - d0, 1);
	assert_int_equal(w->sec[0].n_learned, 2);
	/* h1 moves behind the uplink (a unicast from there): a's count drops, h3 can be learned. */
	send1(UPLINK, mk(ext2, h1, false, 0, 60, 10));
	sec_set(0, SEC_MAC_LEARNING, NULL)->sec.mac_limit = 2;
	send1(0, mk(b, h3, false, 0, 60, 11));
	assert_int_equal(drops(0, DP_DROP_MAC_LIMIT) - before, 1);
	assert_int_equal(w->sec[0].n_learned, 2);
	/* A frame to a source behind the port it came from goes nowhere. */
	send1(0, mk(h3, h2, false, 0, 60, 12));
	assert_int_equal(drops(0, DP_DROP_SAME_PORT) > 0, 1);
}

static void
test_storm_control(void **state)
{
	const uint64_t hz = rte_get_tsc_hz();
	uint64_t now = hz, b0 = drops(0, DP_DROP_STORM_BROADCAST),
		 m0 = drops(0, DP_DROP_STORM_MULTICAST),
		 u0 = drops(0, DP_DROP_STORM_UNKNOWN_UNICAST);
	static const uint8_t mcast[6] = {0x01, 0, 0x5e, 0, 0, 1};
	struct dp_port *p;
	uint8_t a[6], b[6];
	unsigned i, t;

	mac_of(0, a), mac_of(1, b);
	p = sec_set(0, SEC_STORM, NULL);
	assert_int_equal(sec_storm_cfg_init(&p->sec.storm[SEC_STORM_BROADCAST], 100, hz), 0);
	assert_int_equal(sec_storm_cfg_init(&p->sec.storm[SEC_STORM_UNKNOWN_UNICAST], 50, hz), 0);
	/* 5 s of 1000 broadcasts/s and 1000 unknown unicast/s, in bursts of 10. */
	for (t = 0; t < 500; t++, now += hz / 100) {
		struct rte_mbuf *m[20];

		for (i = 0; i < 10; i++)
			m[i] = mk(bcast, a, false, 0, 60, 1);
		for (i = 10; i < 20; i++)
			m[i] = mk(ext1, a, false, 0, 60, 2);
		process_at(0, m, 20, now);
	}
	/* Held to the limits (plus the first tenth of a second's bucket). */
	assert_in_range(fakes[1].n, 500, 510);
	assert_in_range(drops(0, DP_DROP_STORM_BROADCAST) - b0, 4490, 4500);
	assert_in_range(drops(0, DP_DROP_STORM_UNKNOWN_UNICAST) - u0, 4745, 4750);
	assert_in_range(fakes[UPLINK].n, 500 + 250, 510 + 255);
	/* Multicast has no limit here; known unicast never counts. */
	send1(0, mk(mcast, a, false, 0, 60, 3));
	for (i = 0; i < 100; i++)
		send1(0, mk(b, a, false, 0, 60, 4));
	assert_int_equal(drops(0, DP_DROP_STORM_MULTICAST) - m0, 0);
}

static void
test_private_vlans(void **state)
{
	/* Primary 100: a promiscuous, b and c isolated (101), d and f community 102. */
	static const struct vlan_pvlan_secondary secs[] = {
		{101, VLAN_PVLAN_ISOLATED},
		{102, VLAN_PVLAN_COMMUNITY},
	};
	static const uint16_t own[N_PORTS] = {100, 101, 101, 102, 0, 102};
	uint8_t mac[N_PORTS][6];
	unsigned i;
	uint64_t before = drops(1, DP_DROP_PVLAN);

	for (i = 0; i < N_PORTS; i++)
		mac_of(i, mac[i]);
	for (i = 0; i < UPLINK; i++) {
		struct dp_port *p = snap->ports[i];
		struct rte_ether_addr m;

		if (i == 4) /* e: not in the private VLAN */
			continue;
		assert_int_equal(vlan_port_cfg_pvlan(&p->vlan, 100, own[i], secs, 2), 0);
		memcpy(m.addr_bytes, mac[i], 6);
		assert_int_equal(dp_vswitch_add_static(snap, p, &m), 0);
	}
	for (i = 100; i <= 102; i++)
		assert_int_equal(dp_vswitch_set_pvlan(snap, 0, (uint16_t)i, 100), 0);
	assert_int_equal(dp_vswitch_build_flood(snap, 0), 0);

	/* Isolated b: broadcast to the promiscuous a and out tagged 101; e (VGT) too. */
	send1(1, mk(bcast, mac[1], false, 0, 60, 1));
	counts((unsigned[]){1, 0, 0, 0, 1, 0, 1});
	assert_int_equal(seen_vid(UPLINK, 0), 101);
	assert_int_equal(seen_vid(0, 0), -1);
	/* b -> c (both isolated): dropped, named; b -> a delivered. */
	send1(1, mk(mac[2], mac[1], false, 0, 60, 2));
	send1(1, mk(mac[0], mac[1], false, 0, 60, 3));
	counts((unsigned[]){2, 0, 0, 0, 1, 0, 1});
	assert_int_equal(drops(1, DP_DROP_PVLAN) - before, 1);
	/* Community d: to f (same community) and a; not to b. */
	send1(3, mk(mac[5], mac[3], false, 0, 60, 4));
	send1(3, mk(mac[0], mac[3], false, 0, 60, 5));
	send1(3, mk(mac[1], mac[3], false, 0, 60, 6));
	counts((unsigned[]){3, 0, 0, 0, 1, 1, 1});
	assert_int_equal(drops(3, DP_DROP_PVLAN), 1);
	/* Community broadcast: a, f, e, the uplink tagged 102. */
	send1(3, mk(bcast, mac[3], false, 0, 60, 7));
	counts((unsigned[]){4, 0, 0, 0, 2, 2, 2});
	assert_int_equal(seen_vid(UPLINK, 1), 102);
	/* Promiscuous a: everyone, the uplink tagged 100. */
	send1(0, mk(bcast, mac[0], false, 0, 60, 8));
	counts((unsigned[]){4, 1, 1, 1, 3, 3, 3});
	assert_int_equal(seen_vid(UPLINK, 2), 100);
	/* From the uplink: 101 reaches a only, 102 a, d, f; 100 everyone. */
	send1(UPLINK, mk(bcast, ext1, true, 101, 64, 9));
	counts((unsigned[]){5, 1, 1, 1, 4, 3, 3});
	send1(UPLINK, mk(bcast, ext1, true, 102, 64, 10));
	counts((unsigned[]){6, 1, 1, 2, 5, 4, 3});
	send1(UPLINK, mk(bcast, ext1, true, 100, 64, 11));
	counts((unsigned[]){7, 2, 2, 3, 6, 5, 3});
	/* Unicast from the uplink on 101 to the isolated c: a PVLAN drop. */
	send1(UPLINK, mk(mac[2], ext1, true, 101, 64, 12));
	counts((unsigned[]){7, 2, 2, 3, 6, 5, 3});
	assert_int_equal(drops(UPLINK, DP_DROP_PVLAN) > 0, 1);
}

/* --- traffic shaping --- */

/* Shape or police direction d of port at rate bps (burst = 4 frames of 1000 bytes). */
static struct shp_state **
shaping_set(unsigned port, enum dp_dir d, enum shp_mode mode, uint64_t bps)
{
	struct dp_port *p = snap->ports[port];
	struct shp_params prm = {
		.average_bps = bps, .peak_bps = bps * 4, .burst_bytes = 4000, .mode = mode};

	assert_int_equal(shp_profile_init(&p->shp[d], &prm, rte_get_tsc_hz()), 0);
	if (p->shp_st[d][0] == NULL) {
		p->shp_st[d][0] = shp_state_create(64, &p->shp[d], 1, SOCKET_ID_ANY);
		assert_non_null(p->shp_st[d][0]);
		snap->shaped[snap->n_shaped++] = (uint16_t)port;
	}
	p->shp_on |= 1u << d;
	return p->shp_st[d];
}

static void
shaping_free(unsigned port)
{
	struct dp_port *p = snap->ports[port];
	struct rte_mbuf *left[64];
	unsigned n;

	for (unsigned d = 0; d < DP_DIR_MAX; d++) {
		if (p->shp_st[d][0] == NULL)
			continue;
		while ((n = shp_shape_drain(p->shp_st[d][0], left, 64)) > 0)
			rte_pktmbuf_free_bulk(left, n);
		shp_state_destroy(p->shp_st[d][0]);
		p->shp_st[d][0] = NULL;
	}
	p->shp_on = 0;
	snap->n_shaped = 0;
}

/* Send count frames of 1000 bytes from port in to dst, bursts of 8, every gap cycles. */
static void
offer(unsigned in, const uint8_t dst[6], unsigned count, uint64_t *now, uint64_t gap)
{
	uint8_t src[6];

	mac_of(in, src);
	for (unsigned sent = 0; sent < count; sent += 8) {
		struct rte_mbuf *m[8];
		uint16_t n;

		for (unsigned i = 0; i < 8; i++)
			m[i] = mk(dst, src, false, 0, 1000, 9);
		consumed_in_burst = false;
		n = 8;
		if (snap->ports[in]->shp_on & (1u << DP_DIR_IN))
			n = dp_ingress_shape(w, snap->ports[in], m, n, *now);
		if (n > 0)
			dp_process(snap, w, snap->ports[in], m, n, *now);
		consumed_in_burst = false;
		dp_drain_shaped(snap, w, *now);
		*now += gap;
	}
}

static void
test_shaping_police(void **state)
{
	const uint64_t hz = rte_get_tsc_hz();
	uint64_t now = hz, b0 = drops(0, DP_DROP_SHAPING_EXCEED),
		 b1 = drops(1, DP_DROP_SHAPING_EXCEED);
	uint8_t a[6], b[6];

	mac_of(0, a), mac_of(1, b);
	/* Ingress police on a at 800 kbit/s (100 frames of 1000 bytes a second). */
	shaping_set(0, DP_DIR_IN, SHP_MODE_POLICE, 800000);
	/* 2 s of 1600 frames/s: the burst (4) plus ~200 pass. */
	offer(0, b, 3200, &now, hz / 200);
	assert_in_range(fakes[1].n, 200, 206);
	assert_in_range(drops(0, DP_DROP_SHAPING_EXCEED) - b0, 3200 - 206, 3200 - 200);
	shaping_free(0);

	/* Egress police on b: the same, from the other side. */
	memset(fakes, 0, sizeof(fakes));
	for (unsigned i = 0; i < N_PORTS; i++)
		fakes[i].up = 1, fakes[i].accept = 1000, fakes[i].consumes = i == UPLINK;
	shaping_set(1, DP_DIR_OUT, SHP_MODE_POLICE, 800000);
	offer(0, b, 3200, &now, hz / 200);
	assert_in_range(fakes[1].n, 200, 206);
	assert_in_range(drops(1, DP_DROP_SHAPING_EXCEED) - b1, 3200 - 206, 3200 - 200);
	/* Flooded frames: b is policed, the others are not. */
	offer(0, bcast, 80, &now, hz / 200);
	assert_int_equal(fakes[4].n, 80);
	assert_in_range(fakes[1].n, 201, 212);
	shaping_free(1);
}

static void
test_shaping_shape(void **state)
{
	const uint64_t hz = rte_get_tsc_hz();
	struct shp_state **st;
	uint64_t now = hz, qf = drops(1, DP_DROP_SHAPING_QUEUE_FULL);
	uint8_t a[6], b[6], e[6];

	mac_of(0, a), mac_of(1, b), mac_of(4, e);
	/* Egress shaping on b at 800 kbit/s: frames wait, then leave on credit. */
	st = shaping_set(1, DP_DIR_OUT, SHP_MODE_SHAPE, 800000);
	offer(0, b, 48, &now, hz / 1000); /* 48 frames in 6 ms */
	assert_in_range(fakes[1].n, 4, 6); /* the burst, then the rate */
	assert_int_equal(shp_queue_count(st[0]) + fakes[1].n, 48);
	/* Idle time drains the queue at the rate: 0.2 s = 20 frames. */
	for (int i = 0; i < 200; i++, now += hz / 1000)
		dp_drain_shaped(snap, w, now);
	assert_in_range(fakes[1].n, 24, 27);
	/* The frames are copies: what b got is intact after a flood tagged the originals. */
	for (int i = 0; i < 400; i++, now += hz / 1000)
		dp_drain_shaped(snap, w, now);
	assert_int_equal(fakes[1].n, 48);
	assert_int_equal(fakes[1].data[47][14], 9);
	/* A full queue drops, counted. */
	offer(0, b, 200, &now, 1);
	assert_true(drops(1, DP_DROP_SHAPING_QUEUE_FULL) - qf >= 200 - 64 - 8);
	assert_true(shp_queue_count(st[0]) <= 64);
	shaping_free(1);

	/* Ingress shaping on e (VGT): a burst waits and goes through the pipeline later. */
	memset(fakes, 0, sizeof(fakes));
	for (unsigned i = 0; i < N_PORTS; i++)
		fakes[i].up = 1, fakes[i].accept = 1000, fakes[i].consumes = i == UPLINK;
	st = shaping_set(4, DP_DIR_IN, SHP_MODE_SHAPE, 800000);
	offer(4, a, 16, &now, 1);
	assert_in_range(fakes[0].n, 3, 5); /* the peak bucket holds 2 x 1518 bytes */
	for (int i = 0; i < 200; i++, now += hz / 1000)
		dp_drain_shaped(snap, w, now);
	assert_int_equal(fakes[0].n, 16);
	assert_int_equal(shp_queue_count(st[0]), 0);
	shaping_free(4);
	(void)e;
}

/* --- NIC teaming --- */

/*
 * A teaming switch: port 0 VM a, port 1 VM b (EST), ports 2, 3, 4 the
 * uplinks at slots 0, 1, 2; one port group whose team is built by each test.
 */
static int
setup_team(void **state)
{
	struct dp_vswitch *vs;

	memset(fakes, 0, sizeof(fakes));
	snap = dp_snapshot_new();
	vs = &snap->vswitches[0];
	vs->used = true;
	vs->statics = fdb_create(16);
	vs->learned[0] = fdb_create(64);
	vs->teams = calloc(1, sizeof(*vs->teams));
	vs->n_teams = 1;
	for (unsigned i = 0; i < 5; i++) {
		struct dp_port *p = dp_port_new();
		struct rte_ether_addr mac;

		fakes[i].up = 1;
		fakes[i].accept = 1000;
		fakes[i].consumes = i >= 2;
		p->index = (uint16_t)i;
		p->kind = i >= 2 ? DP_PORT_UPLINK : DP_PORT_VM;
		p->n_queues = 1;
		p->max_frame = 1518;
		p->ops = i >= 2 ? &eth_ops : &vm_ops;
		p->priv = &fakes[i];
		p->up = &fakes[i].up;
		if (i >= 2) {
			vlan_port_cfg_uplink(&p->vlan);
			p->uplink_slot = (uint8_t)(i - 2);
			vs->uplinks[vs->n_uplinks++] = (uint16_t)i;
		} else {
			vlan_port_cfg_init(&p->vlan, VLAN_MODE_NONE, 0, NULL, 0);
			mac_of(i, mac.addr_bytes);
			sec_set_eff_mac(&p->sec, &mac);
		}
		snap->ports[i] = p;
		if (i < 2)
			assert_int_equal(dp_vswitch_add_static(snap, p, &mac), 0);
	}
	assert_int_equal(dp_vswitch_build_flood(snap, 0), 0);
	memset(w->sec, 0, sizeof(w->sec));
	return 0;
}

/* Give the port group team t (compiled), as control's compile does. */
static void
team_use(const struct team *t)
{
	snap->vswitches[0].teams[0] = *t;
	team_port(snap->ports[0], &snap->vswitches[0].teams[0]);
	team_port(snap->ports[1], &snap->vswitches[0].teams[0]);
}

/* Build a team from a policy with link bitmap link, and use it. */
static void
team_policy_use(const struct team_policy *pol, uint32_t link)
{
	struct team_state ts;
	struct team t;

	assert_int_equal(team_state_init(&ts, pol, NULL, NULL, 0, link, 1000, 0), 0);
	team_state_compile(&ts, &t);
	team_use(&t);
}

static void
test_team_port_id(void **state)
{
	struct team t;
	uint8_t a[6], b[6];

	mac_of(0, a), mac_of(1, b);
	team_set(&t, 3, 7, TEAM_LB_PORT_ID);
	team_use(&t);
	/* a (port 0) leaves by slot 0, b (port 1) by slot 1, every frame of theirs. */
	for (int i = 0; i < 5; i++) {
		send1(0, mk(bcast, a, false, 0, 60, 1));
		send1(0, mk(ext1, a, false, 0, 60, 2));
		send1(1, mk(ext2, b, false, 0, 60, 3));
	}
	counts((unsigned[]){0, 5, 10, 5, 0, 0, 0});
	/* Slot 0 fails: a moves, b stays. */
	team_set(&t, 3, 6, TEAM_LB_PORT_ID);
	team_use(&t);
	send1(0, mk(ext1, a, false, 0, 60, 4));
	send1(1, mk(ext2, b, false, 0, 60, 5));
	assert_int_equal(fakes[2].n, 10);
	assert_int_equal(fakes[3].n + fakes[4].n, 5 + 2);
	assert_int_equal(fakes[3].n, 5 + 1 + (snap->ports[0]->team->table[0] == 1));
	/* No uplink serves: no_uplink. */
	team_set(&t, 3, 0, TEAM_LB_PORT_ID);
	team_use(&t);
	uint64_t d0 = drops(0, DP_DROP_NO_UPLINK);
	send1(0, mk(ext1, a, false, 0, 60, 6));
	assert_int_equal(drops(0, DP_DROP_NO_UPLINK) - d0, 1);
}

static void
test_team_hashes(void **state)
{
	struct team t;
	uint8_t a[6], src[6];
	unsigned i;

	mac_of(0, a);
	/* Source MAC hash: 300 sources spread over 3 uplinks (forged transmits accept). */
	team_set(&t, 3, 7, TEAM_LB_SRC_MAC);
	team_use(&t);
	for (i = 0; i < 300; i++) {
		memcpy(src, a, 6);
		src[4] = (uint8_t)(i >> 8), src[5] = (uint8_t)i;
		send1(0, mk(ext1, src, false, 0, 60, 1));
	}
	for (i = 2; i < 5; i++)
		assert_in_range(fakes[i].n, 60, 140);
	assert_int_equal(fakes[2].n + fakes[3].n + fakes[4].n, 300);
	/* IP hash: IPv4 source XOR destination at bytes 26..33. */
	memset(fakes, 0, sizeof(fakes));
	for (i = 0; i < 5; i++)
		fakes[i].up = 1, fakes[i].accept = 1000, fakes[i].consumes = i >= 2;
	team_set(&t, 3, 7, TEAM_LB_IP_HASH);
	team_use(&t);
	for (i = 0; i < 300; i++) {
		struct rte_mbuf *m = mk(ext1, a, false, 0, 60, 2);
		uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

		d[12] = 0x08, d[13] = 0x00;
		d[29] = (uint8_t)i; /* source address, low byte */
		d[33] = 7; /* destination */
		send1(0, m);
	}
	for (i = 2; i < 5; i++)
		assert_in_range(fakes[i].n, 60, 140);
	/* The same flow always takes the same uplink. */
	unsigned before[3] = {fakes[2].n, fakes[3].n, fakes[4].n}, moved = 0;
	for (i = 0; i < 10; i++) {
		struct rte_mbuf *m = mk(ext1, a, false, 0, 60, 3);
		uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

		d[12] = 0x08, d[13] = 0x00, d[29] = 42, d[33] = 7;
		send1(0, m);
	}
	for (i = 0; i < 3; i++)
		moved += fakes[2 + i].n != before[i];
	assert_int_equal(moved, 1);
}

static void
test_team_order(void **state)
{
	/* Explicit failover: active slot 1, standby slot 0, slot 2 unused. */
	struct team_policy pol = {.lb = TEAM_LB_EXPLICIT,
		.failback = true,
		.notify_switches = true,
		.n_active = 1,
		.active = {1},
		.n_standby = 1,
		.standby = {0}};
	uint8_t a[6], b[6];
	uint64_t d0;

	mac_of(0, a), mac_of(1, b);
	team_policy_use(&pol, 7);
	send1(0, mk(bcast, a, false, 0, 60, 1));
	send1(1, mk(ext1, b, false, 0, 60, 2));
	counts((unsigned[]){0, 1, 0, 2, 0, 0, 0});
	/* The active fails: the standby takes over; the unused one never. */
	team_policy_use(&pol, 5);
	send1(0, mk(ext1, a, false, 0, 60, 3));
	counts((unsigned[]){0, 1, 1, 2, 0, 0, 0});
	team_policy_use(&pol, 4);
	d0 = drops(0, DP_DROP_NO_UPLINK);
	send1(0, mk(ext1, a, false, 0, 60, 4));
	counts((unsigned[]){0, 1, 1, 2, 0, 0, 0});
	assert_int_equal(drops(0, DP_DROP_NO_UPLINK) - d0, 1);

	/* Receiving: a's traffic leaves by slot 1, so floods reach it from slot 1 only. */
	team_policy_use(&pol, 7);
	send1(2, mk(bcast, ext1, false, 0, 60, 5));
	counts((unsigned[]){0, 1, 1, 2, 0, 0, 0});
	send1(3, mk(bcast, ext1, false, 0, 60, 6));
	counts((unsigned[]){1, 2, 1, 2, 0, 0, 0});
	/* Unicast from any uplink of the team (here the standby); never from an unused one. */
	send1(2, mk(a, ext1, false, 0, 60, 7));
	counts((unsigned[]){2, 2, 1, 2, 0, 0, 0});
	d0 = drops(4, DP_DROP_TEAM_RX);
	send1(4, mk(a, ext1, false, 0, 60, 8));
	send1(4, mk(bcast, ext1, false, 0, 60, 9));
	counts((unsigned[]){2, 2, 1, 2, 0, 0, 0});
	assert_int_equal(drops(4, DP_DROP_TEAM_RX) - d0, 2);
}

static void
test_team_shotgun_and_beacons(void **state)
{
	struct team t;
	struct dp_event ev[8];
	uint8_t a[6], frame[TEAM_FRAME_MAX];
	struct rte_ether_addr up_mac = {{0x02, 0, 0, 0, 0xbb, 1}};
	struct rte_mbuf *m;
	unsigned n, k, got = 0;
	uint64_t d0 = drops(3, DP_DROP_BEACON);
	int len;

	mac_of(0, a);
	/* Shotgun over slots 0 and 1: one frame out of both, none leaked or freed twice. */
	team_set(&t, 3, 7, TEAM_LB_PORT_ID);
	t.shotgun = 3;
	team_use(&t);
	for (int i = 0; i < 10; i++)
		send1(0, mk(bcast, a, false, 0, 60, 1));
	counts((unsigned[]){0, 10, 10, 10, 0, 0, 0});
	/* ...and from any uplink of the set the VMs take floods. */
	send1(4, mk(bcast, ext1, false, 0, 60, 2));
	counts((unsigned[]){1, 11, 10, 10, 0, 0, 0});

	/* A beacon from an uplink: consumed, counted, reported with its sender. */
	while (dp_events_drain(ev, 8) > 0)
		;
	len = team_beacon_build(frame, sizeof(frame), &up_mac, 0, 7);
	assert_true(len > 0);
	m = rte_pktmbuf_alloc(dp_mempool());
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), frame, (size_t)len);
	send1(3, m);
	counts((unsigned[]){1, 11, 10, 10, 0, 0, 0});
	assert_int_equal(drops(3, DP_DROP_BEACON) - d0, 1);
	n = dp_events_drain(ev, 8);
	for (k = 0; k < n; k++)
		if (ev[k].type == DP_EV_BEACON) {
			assert_int_equal(ev[k].port, 3);
			assert_memory_equal(ev[k].mac, up_mac.addr_bytes, 6);
			got++;
		}
	assert_int_equal(got, 1);
}

/* --- port mirroring --- */

static void
test_mirror(void **state)
{
	struct dp_port *a = snap->ports[0];
	uint8_t am[6], bm[6];
	uint64_t sent, dropped, s0, d0;

	mac_of(0, am), mac_of(1, bm);
	dp_mirror_stats(3, &s0, &d0);
	/*
	 * What a sends to e (port 4); what a receives to e and out of the
	 * uplink, RSPAN 999. (The copies are made at once, before the burst's
	 * own sends: the fake ethdev is told a new burst starts.)
	 */
	a->mirror[DP_DIR_IN] = (struct dp_mirror){.n = 1, .t = {{.port = 4, .session = 3}}};
	a->mirror[DP_DIR_OUT] = (struct dp_mirror){.n = 2,
		.t = {{.port = 4, .session = 3}, {.port = UPLINK, .vid = 999, .session = 3}}};
	a->mir_on = 3;
	send1(0, mk(bm, am, false, 0, 60, 1)); /* a -> b */
	counts((unsigned[]){0, 1, 0, 0, 1, 0, 0});
	assert_int_equal(seen_vid(4, 0), -1); /* as a sent it: untagged */
	assert_int_equal(fakes[4].data[0][14], 1);
	send1(1, mk(am, bm, false, 0, 60, 2)); /* b -> a: mirrored as it reaches a */
	counts((unsigned[]){1, 1, 0, 0, 2, 0, 1});
	assert_int_equal(fakes[4].data[1][14], 2);
	assert_int_equal(seen_vid(UPLINK, 0), 999);
	assert_int_equal(fakes[UPLINK].data[0][18], 2);
	/* A destination that cannot take frames: counted as dropped, forwarding unchanged. */
	fakes[4].up = 0;
	send1(0, mk(bm, am, false, 0, 60, 3));
	counts((unsigned[]){1, 2, 0, 0, 2, 0, 1});
	dp_mirror_stats(3, &sent, &dropped);
	assert_int_equal(sent - s0, 3);
	assert_int_equal(dropped - d0, 1);
	a->mir_on = 0;
}

/* --- packet trace --- */

static bool
has_step(const struct dp_trace *tr, enum dp_trace_type type, uint16_t port, int32_t arg)
{
	for (unsigned i = 0; i < tr->n; i++)
		if (tr->step[i].type == type && tr->step[i].port == port && tr->step[i].arg == arg)
			return true;
	return false;
}

static void
test_trace(void **state)
{
	struct dp_worker *tw = dp_trace_worker_new();
	struct dp_port_stats b0, b1;
	struct dp_trace tr;
	uint8_t a[6], c[6], d[6];

	assert_non_null(tw);
	mac_of(0, a), mac_of(2, c), mac_of(3, d);
	dp_port_stats_get(3, &b0);
	/* c -> d on VST 10: the local lookup, delivered untagged; nothing sent. */
	dp_trace(snap, tw, snap->ports[2], mk(d, c, false, 0, 60, 1), 1, &tr);
	assert_true(has_step(&tr, DP_TR_STATIC, 3, 0));
	assert_true(has_step(&tr, DP_TR_OUT, 3, -1));
	counts((unsigned[]){0, 0, 0, 0, 0, 0, 0});
	dp_port_stats_get(3, &b1);
	assert_int_equal(b1.tx_packets, b0.tx_packets);
	/* c -> a: a is on VLAN 0: said, then out of the uplink tagged 10. */
	dp_trace(snap, tw, snap->ports[2], mk(a, c, false, 0, 60, 2), 1, &tr);
	assert_true(has_step(&tr, DP_TR_OTHER_VLAN, 0, 0));
	assert_true(has_step(&tr, DP_TR_UPLINKS, 2, 1));
	for (unsigned i = 0; i < tr.n; i++)
		if (tr.step[i].type == DP_TR_OUT)
			assert_int_equal(tr.step[i].vid, 10);
	/* A tagged frame from a VST port: the drop and its reason. */
	dp_trace(snap, tw, snap->ports[2], mk(d, c, true, 7, 64, 3), 1, &tr);
	assert_true(has_step(&tr, DP_TR_DROP, 2, DP_DROP_VLAN_TAGGED));
	/* A broadcast from the uplink learns nothing in a trace. */
	dp_trace(snap, tw, snap->ports[UPLINK], mk(bcast, ext2, true, 10, 64, 4), 1, &tr);
	assert_true(has_step(&tr, DP_TR_LEARN, UPLINK, 0));
	assert_int_equal(fdb_lookup(snap->vswitches[0].learned[0], fdb_key(10, (const void *)ext2)),
		FDB_MISS);
	counts((unsigned[]){0, 0, 0, 0, 0, 0, 0});
	dp_trace_worker_free(tw);
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0], "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "-l", "0",
		"--log-level", "*:error", "--vdev", "net_null0,no-rx=1", NULL};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unicast_vm_to_vm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broadcast_from_vm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_unicast_from_vm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_uplink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_learning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reflection_and_same_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vlan_isolation_and_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_down_and_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_burst_no_leak, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ethdev_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tagged_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_transmits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_promiscuous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_learning_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storm_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_vlans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shaping_police, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shaping_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirror, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_team_port_id, setup_team, teardown),
		cmocka_unit_test_setup_teardown(test_team_hashes, setup_team, teardown),
		cmocka_unit_test_setup_teardown(test_team_order, setup_team, teardown),
		cmocka_unit_test_setup_teardown(
			test_team_shotgun_and_beacons, setup_team, teardown),
	};
	int ret;

	(void)argc;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		return 1;
	if (dp_init(1, 4095) != 0)
		return 1;
	w = dp_worker_get(0);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	dp_fini();
	rte_eal_cleanup();
	return ret;
}
