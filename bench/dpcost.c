/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * portico-dpcost: what the burst pipeline costs per packet, in TSC cycles,
 * in one process on one CPU, for the cases whose cost the issues bound
 * (policies at their defaults, a promiscuous port present, a port policed
 * or shaped above the offered rate, teaming over two uplinks, capture and
 * mirroring off).
 *
 * Why next to bench/run: on this host the two vCPUs move between near and
 * far placements, which swings bench/run's Mpps by up to 2x between trials
 * and hides differences of a few percent. Here the switch's own work is
 * timed alone: fake ports that take frames without copying them, frames
 * reused (a reference taken per burst, so no allocation is timed), warm
 * caches. Built twice: portico-dpcost (the dataplane as shipped) and
 * portico-dpcost-base (built with DP_NO_POLICY: no security, shaping,
 * capture or mirror test on the packet path). Compare the two outputs.
 *
 * usage: portico-dpcost [--bursts N] [--json]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dataplane/dp.h"
#include "dataplane/dp_private.h"

#define BURST 32
#define FRAME 60 /* 64 bytes on the wire with the FCS */
#define RUNS 5 /* the best of */

/* A port that takes every frame; an ethdev-like one frees its reference. */
static uint16_t
fake_rx(void *priv, uint16_t q, struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t n)
{
	return 0;
}

static uint16_t
take_tx(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	return n;
}

static uint16_t
consume_tx(void *priv, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	rte_pktmbuf_free_bulk(pkts, n);
	return n;
}

static const struct dp_port_ops vm_ops = {.rx = fake_rx, .tx = take_tx};
static const struct dp_port_ops eth_ops = {.rx = fake_rx, .tx = consume_tx, .tx_consumes = true};
static volatile uint8_t up = 1;

enum variant {
	V_VM2VM, /* a -> b, VLAN 0, policies at their defaults */
	V_PROMISC, /* the same, and a promiscuous port on VLAN 200 */
	V_POLICED, /* a's ingress policed at 100 Gbit/s */
	V_SHAPED, /* a's ingress shaped (queued) at 100 Gbit/s */
	V_UPLINK1, /* a -> a MAC behind the uplink, one uplink */
	V_UPLINK2, /* the same, teaming over two uplinks */
	V_MAX
};

static const char *const names[V_MAX] = {
	[V_VM2VM] = "vm2vm",
	[V_PROMISC] = "vm2vm-promisc",
	[V_POLICED] = "vm2vm-policed",
	[V_SHAPED] = "vm2vm-shaped",
	[V_UPLINK1] = "uplink",
	[V_UPLINK2] = "uplink-team2",
};

static struct dp_port *
port(struct dp_snapshot *s, uint16_t i, bool uplink, uint16_t vid)
{
	struct dp_port *p = dp_port_new();

	p->index = i;
	p->kind = uplink ? DP_PORT_UPLINK : DP_PORT_VM;
	p->n_queues = 1;
	p->max_frame = 1518;
	p->ops = uplink ? &eth_ops : &vm_ops;
	p->up = &up;
	if (uplink)
		vlan_port_cfg_uplink(&p->vlan);
	else if (vid != 0)
		vlan_port_cfg_init(&p->vlan, VLAN_MODE_VST, vid, NULL, 0);
	else
		vlan_port_cfg_init(&p->vlan, VLAN_MODE_NONE, 0, NULL, 0);
	struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, (uint8_t)i}};

	p->sec.flags = SEC_FORGED_REJECT; /* the defaults: reject, reject, reject */
	sec_set_eff_mac(&p->sec, &mac);
	s->ports[i] = p;
	return p;
}

/* The switch of a variant: VM ports 0 (a), 1 (b), 2 (promiscuous); uplinks 3, 4. */
static struct dp_snapshot *
build(enum variant v)
{
	struct dp_snapshot *s = dp_snapshot_new();
	struct dp_vswitch *vs = &s->vswitches[0];
	struct team_policy pol = {.lb = TEAM_LB_EXPLICIT, .failback = true};
	struct team_state ts;
	unsigned i;

	vs->used = true;
	vs->statics = fdb_create(8);
	vs->learned[0] = fdb_create(64);
	vs->teams = calloc(1, sizeof(*vs->teams));
	vs->n_teams = 1;
	port(s, 0, false, 0);
	port(s, 1, false, 0);
	if (v == V_PROMISC)
		port(s, 2, false, 200)->sec.flags |= SEC_PROMISC;
	port(s, 3, true, 0)->uplink_slot = 0;
	vs->uplinks[vs->n_uplinks++] = 3;
	pol.active[pol.n_active++] = 0;
	if (v == V_UPLINK2) {
		port(s, 4, true, 0)->uplink_slot = 1;
		vs->uplinks[vs->n_uplinks++] = 4;
		pol.active[pol.n_active++] = 1;
	}
	team_state_init(&ts, &pol, NULL, NULL, 0, 3, 1000, 0);
	team_state_compile(&ts, &vs->teams[0]);
	for (i = 0; i < 3; i++) {
		struct dp_port *p = s->ports[i];

		if (p == NULL)
			continue;
		dp_vswitch_add_static(s, p, &p->sec.eff_mac);
		p->team = &vs->teams[0];
		p->team_members = vs->teams[0].members;
		p->team_rx = team_port_uplink(&vs->teams[0], p->index, &p->sec.eff_mac);
	}
	dp_vswitch_build_flood(s, 0);
	if (v == V_POLICED || v == V_SHAPED) {
		struct dp_port *a = s->ports[0];
		struct shp_params prm = {.average_bps = 100000000000ULL,
			.peak_bps = 100000000000ULL,
			.burst_bytes = 1 << 20,
			.mode = v == V_SHAPED ? SHP_MODE_SHAPE : SHP_MODE_POLICE};

		shp_profile_init(&a->shp[DP_DIR_IN], &prm, rte_get_tsc_hz());
		a->shp_st[DP_DIR_IN][0] =
			shp_state_create(SHP_QUEUE_DEFAULT, &a->shp[DP_DIR_IN], rte_rdtsc(), 0);
		a->shp_on = 1u << DP_DIR_IN;
		s->shaped[s->n_shaped++] = 0;
	}
	return s;
}

static void
unbuild(struct dp_snapshot *s)
{
	struct rte_mbuf *left[64];
	unsigned n;
	struct shp_state *st = s->ports[0]->shp_st[DP_DIR_IN][0];

	if (st != NULL) {
		while ((n = shp_shape_drain(st, left, 64)) > 0)
			rte_pktmbuf_free_bulk(left, n);
		shp_state_destroy(st);
	}
	fdb_destroy(s->vswitches[0].learned[0]);
	dp_snapshot_free(s);
}

/* Cycles per packet of one variant: the best of RUNS runs of bursts bursts. */
static double
measure(enum variant v, unsigned bursts)
{
	struct dp_snapshot *s = build(v);
	struct dp_worker *w = dp_worker_get(0);
	struct rte_mbuf *pkts[BURST], *b[BURST];
	double best = 1e9;
	/* b's MAC, or one learned behind the uplink (the uplink cases). */
	uint8_t dst[6] = {0x02, 0, 0, 0, 0, 1}, src[6] = {0x02, 0, 0, 0, 0, 0};

	if (v == V_UPLINK1 || v == V_UPLINK2) {
		struct rte_ether_addr ext = {{0x02, 0, 0, 0, 0, 0xee}};

		dst[5] = 0xee;
		fdb_learn(s->vswitches[0].learned[0], fdb_key(0, &ext), 3, 0);
	}
	for (unsigned i = 0; i < BURST; i++) {
		uint8_t *d;

		pkts[i] = rte_pktmbuf_alloc(dp_mempool());
		d = (uint8_t *)rte_pktmbuf_append(pkts[i], FRAME);
		memset(d, 0, FRAME);
		memcpy(d, dst, 6);
		memcpy(d + 6, src, 6);
		d[12] = 0x08;
	}
	for (int run = 0; run < RUNS + 1; run++) {
		uint64_t t0, t;

		t0 = rte_rdtsc();
		for (unsigned k = 0; k < bursts; k++) {
			uint64_t now = rte_rdtsc();
			uint16_t n = BURST;

			/* The pipeline frees a reference per frame: give it one. */
			for (unsigned i = 0; i < BURST; i++)
				rte_mbuf_refcnt_update(pkts[i], 1);
			memcpy(b, pkts, sizeof(b));
			if (unlikely(s->ports[0]->shp_on & (1u << DP_DIR_IN)))
				n = dp_ingress_shape(w, s->ports[0], b, n, now);
			if (n > 0)
				dp_process(s, w, s->ports[0], b, n, now);
			if (unlikely(s->n_shaped != 0))
				dp_drain_shaped(s, w, now);
		}
		t = rte_rdtsc() - t0;
		if (run > 0 && (double)t / (bursts * BURST) < best) /* run 0 warms up */
			best = (double)t / (bursts * BURST);
	}
	rte_pktmbuf_free_bulk(pkts, BURST);
	unbuild(s);
	return best;
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0], "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "-l", "0",
		"--log-level", "*:error", NULL};
	unsigned bursts = 200000;
	bool json = false;
	double c[V_MAX];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bursts") == 0 && i + 1 < argc)
			bursts = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else {
			fprintf(stderr, "usage: %s [--bursts N] [--json]\n", argv[0]);
			return 2;
		}
	}
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0 || dp_init(1, 8191) != 0) {
		fprintf(stderr, "%s: cannot start EAL or the dataplane\n", argv[0]);
		return 1;
	}
	for (int v = 0; v < V_MAX; v++)
		c[v] = measure(v, bursts);
	if (json) {
		printf("{\"build\": \"%s\"", DPCOST_BUILD);
		for (int v = 0; v < V_MAX; v++)
			printf(", \"%s\": %.2f", names[v], c[v]);
		printf("}\n");
	} else {
		printf("portico-dpcost (%s), TSC cycles per 64-byte packet, best of %d x %u "
		       "bursts:\n",
			DPCOST_BUILD, RUNS, bursts);
		for (int v = 0; v < V_MAX; v++)
			printf("  %-14s %7.2f\n", names[v], c[v]);
	}
	dp_fini();
	rte_eal_cleanup();
	return 0;
}
