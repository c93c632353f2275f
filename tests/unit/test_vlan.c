/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of vlan/: compile, classify (strip), tag. No EAL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/mbuf_fake.h"
#include "vlan/vlan.h"

static const uint8_t dst[6] = {0x52, 0x54, 0, 0, 0, 2}, src[6] = {0x52, 0x54, 0, 0, 0, 1};

/* An Ethernet frame of 60 bytes, tagged with tci when tagged. */
static struct rte_mbuf *
frame(bool tagged, uint16_t tci)
{
	uint8_t f[64] = {0};
	size_t off = 12;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (tagged) {
		f[off++] = 0x81, f[off++] = 0x00;
		f[off++] = tci >> 8, f[off++] = tci & 0xff;
	}
	f[off++] = 0x08, f[off++] = 0x00;
	memset(f + off, 0xab, 60 - off);
	return fake_mbuf(f, 60);
}

static uint16_t
ethertype(struct rte_mbuf *m)
{
	return rte_be_to_cpu_16(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type);
}

static void
test_compile(void **state)
{
	struct vlan_port_cfg c;
	struct vlan_range r[2] = {{100, 200}, {300, 300}};

	assert_int_equal(vlan_port_cfg_init(&c, VLAN_MODE_NONE, 0, NULL, 0), 0);
	assert_true(vlan_carries(&c, 0));
	assert_false(vlan_carries(&c, 1));
	assert_false(c.tagged);

	assert_int_equal(vlan_port_cfg_init(&c, VLAN_MODE_VST, 10, NULL, 0), 0);
	assert_true(vlan_carries(&c, 10));
	assert_false(vlan_carries(&c, 0));
	assert_false(vlan_carries(&c, 11));
	assert_int_equal(c.access_vid, 10);
	assert_int_equal(vlan_port_cfg_init(&c, VLAN_MODE_VST, 0, NULL, 0), -EINVAL);
	assert_int_equal(vlan_port_cfg_init(&c, VLAN_MODE_VST, 4095, NULL, 0), -EINVAL);

	assert_int_equal(vlan_port_cfg_init(&c, VLAN_MODE_VGT, 0, NULL, 0), 0);
	assert_true(c.tagged);
	for (unsigned v = 0; v < 4095; v++)
		assert_true(vlan_carries(&c, v));
	assert_false(vlan_carries(&c, 4095));

	assert_int_equal(vlan_port_cfg_init(&c, VLAN_MODE_TRUNK, 0, r, 2), 0);
	assert_false(vlan_carries(&c, 99));
	assert_true(vlan_carries(&c, 100));
	assert_true(vlan_carries(&c, 200));
	assert_false(vlan_carries(&c, 201));
	assert_true(vlan_carries(&c, 300));
	assert_false(vlan_carries(&c, 0));
	assert_int_equal(vlan_port_cfg_init(&c, VLAN_MODE_TRUNK, 0, r, 0), -EINVAL);
	r[0].first = 300, r[0].last = 100;
	assert_int_equal(vlan_port_cfg_init(&c, VLAN_MODE_TRUNK, 0, r, 1), -EINVAL);
}

static void
test_access_ports(void **state)
{
	struct vlan_port_cfg est, vst;
	struct rte_mbuf *m;
	uint16_t tci;

	vlan_port_cfg_init(&est, VLAN_MODE_NONE, 0, NULL, 0);
	vlan_port_cfg_init(&vst, VLAN_MODE_VST, 42, NULL, 0);

	m = frame(false, 0);
	assert_int_equal(vlan_ingress(&est, m, &tci), VLAN_PASS);
	assert_int_equal(tci, 0);
	assert_int_equal(m->pkt_len, 60);
	free(m);

	m = frame(false, 0);
	assert_int_equal(vlan_ingress(&vst, m, &tci), VLAN_PASS);
	assert_int_equal(tci, 42);
	free(m);

	/* A guest may not tag on an access port... */
	m = frame(true, 7);
	assert_int_equal(vlan_ingress(&vst, m, &tci), VLAN_TAGGED);
	free(m);
	m = frame(true, 7);
	assert_int_equal(vlan_ingress(&est, m, &tci), VLAN_TAGGED);
	free(m);
	/* ...but a priority tag (VLAN 0) is untagged. */
	m = frame(true, 0x6000);
	assert_int_equal(vlan_ingress(&vst, m, &tci), VLAN_PASS);
	assert_int_equal(tci, 42);
	assert_int_equal(m->pkt_len, 56);
	assert_int_equal(ethertype(m), 0x0800);
	free(m);

	/* Toward a VST port nothing is tagged. */
	assert_false(vlan_egress_tagged(&vst, 42));
	assert_false(vlan_egress_tagged(&est, 0));
}

static void
test_trunk_and_vgt(void **state)
{
	struct vlan_port_cfg vgt, trunk, up;
	struct vlan_range r = {100, 200};
	struct rte_mbuf *m;
	uint16_t tci;

	vlan_port_cfg_init(&vgt, VLAN_MODE_VGT, 0, NULL, 0);
	vlan_port_cfg_init(&trunk, VLAN_MODE_TRUNK, 0, &r, 1);
	vlan_port_cfg_uplink(&up);

	m = frame(true, 0xa000 | 300); /* PCP 5, VLAN 300 */
	assert_int_equal(vlan_ingress(&vgt, m, &tci), VLAN_PASS);
	assert_int_equal(tci, 0xa000 | 300); /* priority kept */
	assert_int_equal(m->pkt_len, 56);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *), dst, 6);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *) + 6, src, 6);
	free(m);

	m = frame(true, 300);
	assert_int_equal(vlan_ingress(&trunk, m, &tci), VLAN_NOT_ALLOWED);
	free(m);
	m = frame(true, 150);
	assert_int_equal(vlan_ingress(&trunk, m, &tci), VLAN_PASS);
	assert_int_equal(tci, 150);
	free(m);
	/* Untagged on a trunk without 0 in its ranges. */
	m = frame(false, 0);
	assert_int_equal(vlan_ingress(&trunk, m, &tci), VLAN_NOT_ALLOWED);
	free(m);

	/* Uplinks take every VLAN. */
	m = frame(true, 4000);
	assert_int_equal(vlan_ingress(&up, m, &tci), VLAN_PASS);
	assert_int_equal(tci, 4000);
	free(m);
	assert_true(vlan_egress_tagged(&up, 5));
	assert_false(vlan_egress_tagged(&up, 0));
}

static void
test_offloaded_tag(void **state)
{
	struct vlan_port_cfg up;
	struct rte_mbuf *m = frame(false, 0);
	uint16_t tci;

	vlan_port_cfg_uplink(&up);
	m->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = 77;
	assert_int_equal(vlan_ingress(&up, m, &tci), VLAN_PASS);
	assert_int_equal(tci, 77);
	assert_int_equal(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED, 0);
	assert_int_equal(m->pkt_len, 60);
	free(m);
}

static void
test_push_pop_round_trip(void **state)
{
	struct rte_mbuf *m = frame(false, 0), *ref = frame(false, 0);
	uint16_t tci;

	assert_int_equal(vlan_push(m, 0x2000 | 123), 0);
	assert_int_equal(m->pkt_len, 64);
	assert_int_equal(ethertype(m), 0x8100);
	assert_int_equal(rte_pktmbuf_mtod_offset(m, uint8_t *, 14)[0], 0x20);
	assert_int_equal(rte_pktmbuf_mtod_offset(m, uint8_t *, 15)[0], 123);
	assert_int_equal(rte_pktmbuf_mtod_offset(m, uint8_t *, 16)[0], 0x08);
	vlan_pop(m, &tci);
	assert_int_equal(tci, 0x2000 | 123);
	assert_int_equal(m->pkt_len, 60);
	assert_memory_equal(rte_pktmbuf_mtod(m, void *), rte_pktmbuf_mtod(ref, void *), 60);

	/* No headroom: refused, frame unchanged. */
	m->data_off = 2;
	memcpy(rte_pktmbuf_mtod(m, void *), rte_pktmbuf_mtod(ref, void *), 60);
	assert_int_equal(vlan_push(m, 5), -ENOSPC);
	assert_int_equal(m->pkt_len, 60);
	free(m);
	free(ref);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile),
		cmocka_unit_test(test_access_ports),
		cmocka_unit_test(test_trunk_and_vgt),
		cmocka_unit_test(test_offloaded_tag),
		cmocka_unit_test(test_push_pop_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
