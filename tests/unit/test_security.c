/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of security/ and portgroups/ (pure, no EAL): storm control's
 * bucket with a fake clock, the forged-source test, private VLAN
 * compilation, and policy inheritance with where each value comes from.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "portgroups/policy.h"
#include "security/security.h"
#include "vlan/vlan.h"

#define HZ UINT64_C(2600000000) /* a fake TSC of 2.6 GHz */

/* Offer frames at offered_pps for seconds; return how many passed. */
static uint64_t
offer(const struct sec_storm_cfg *cfg, struct sec_storm_state *st, uint64_t *now,
	uint64_t offered_pps, double seconds)
{
	uint64_t gap = HZ / offered_pps, n = (uint64_t)(seconds * (double)offered_pps), pass = 0;

	for (uint64_t i = 0; i < n; i++) {
		pass += sec_storm_admit(cfg, st, *now);
		*now += gap;
	}
	return pass;
}

static void
test_storm_rate(void **state)
{
	static const uint64_t limits[] = {1, 10, 100, 1000, 50000, 1000000};

	for (unsigned i = 0; i < RTE_DIM(limits); i++) {
		struct sec_storm_cfg cfg;
		struct sec_storm_state st = {0};
		uint64_t now = 12345, pass, want = limits[i] * 20;

		assert_int_equal(sec_storm_cfg_init(&cfg, limits[i], HZ), 0);
		/* 20 s at 4x the limit: the limit, plus the first bucket (1/10 s). */
		pass = offer(&cfg, &st, &now, limits[i] * 4, 20.0);
		if (pass < want || pass > want + limits[i] / 10 + 2)
			fail_msg("limit %lu pps: %lu passed in 20 s, want ~%lu",
				(unsigned long)limits[i], (unsigned long)pass, (unsigned long)want);
	}
}

static void
test_storm_burst_and_idle(void **state)
{
	struct sec_storm_cfg cfg;
	struct sec_storm_state st = {0};
	uint64_t now = HZ * 100, pass = 0;

	assert_int_equal(sec_storm_cfg_init(&cfg, 1000, HZ), 0);
	/* A bucket never used is full: 100 frames at once pass, the 101st not. */
	for (int i = 0; i < 150; i++)
		pass += sec_storm_admit(&cfg, &st, now);
	assert_int_equal(pass, 100);
	/* After 1 ms one more frame's credit. */
	now += HZ / 1000;
	assert_true(sec_storm_admit(&cfg, &st, now));
	assert_false(sec_storm_admit(&cfg, &st, now));
	/* After a long idle time, never more than the depth. */
	now += HZ * 3600;
	pass = 0;
	for (int i = 0; i < 1000; i++)
		pass += sec_storm_admit(&cfg, &st, now);
	assert_int_equal(pass, 100);
	/* A clock that does not move (or goes back) gives no credit. */
	assert_false(sec_storm_admit(&cfg, &st, now - 5));
}

static void
test_storm_config(void **state)
{
	struct sec_storm_cfg cfg;
	struct sec_storm_state st = {0};
	uint64_t now = 1;

	/* 0 is no limit. */
	assert_int_equal(sec_storm_cfg_init(&cfg, 0, HZ), 0);
	assert_int_equal(cfg.cost, 0);
	for (int i = 0; i < 10000; i++)
		assert_true(sec_storm_admit(&cfg, &st, now));
	assert_int_equal(sec_storm_cfg_init(&cfg, 10, 0), -EINVAL);
	assert_int_equal(sec_storm_cfg_init(&cfg, HZ + 1, HZ), -EINVAL);
	/* A live change keeps the state: a lower limit caps the credit at once. */
	assert_int_equal(sec_storm_cfg_init(&cfg, 100000, HZ), 0);
	assert_true(sec_storm_admit(&cfg, &st, now));
	assert_int_equal(sec_storm_cfg_init(&cfg, 10, HZ), 0);
	/* Credit left is capped to one frame at 10 pps, less what was just used. */
	assert_false(sec_storm_admit(&cfg, &st, now));
	now += HZ / 10;
	assert_true(sec_storm_admit(&cfg, &st, now));
	assert_false(sec_storm_admit(&cfg, &st, now));
}

static void
test_forged(void **state)
{
	struct sec_port_cfg cfg = {.eff_mac = {{0x52, 0x54, 0, 0, 0, 1}}};
	struct rte_ether_addr same = {{0x52, 0x54, 0, 0, 0, 1}}, other = {{0x52, 0x54, 0, 0, 0, 2}},
			      high = {{0x53, 0x54, 0, 0, 0, 1}};

	assert_false(sec_forged(&cfg, &same));
	assert_true(sec_forged(&cfg, &other));
	assert_true(sec_forged(&cfg, &high));
}

static void
test_pvlan_compile(void **state)
{
	static const struct vlan_pvlan_secondary secs[] = {
		{101, VLAN_PVLAN_ISOLATED},
		{102, VLAN_PVLAN_COMMUNITY},
		{103, VLAN_PVLAN_COMMUNITY},
	};
	struct vlan_port_cfg c;

	/* Promiscuous: hears every VLAN of the private VLAN. */
	assert_int_equal(vlan_port_cfg_pvlan(&c, 100, 100, secs, 3), 0);
	assert_int_equal(c.mode, VLAN_MODE_PVLAN);
	assert_false(c.tagged);
	assert_int_equal(c.access_vid, 100);
	assert_int_equal(c.pvlan_primary, 100);
	for (uint16_t v = 100; v <= 103; v++)
		assert_true(vlan_carries(&c, v));
	assert_false(vlan_carries(&c, 0));
	assert_false(vlan_carries(&c, 104));
	/* Isolated: the primary only, not even its own VLAN. */
	assert_int_equal(vlan_port_cfg_pvlan(&c, 100, 101, secs, 3), 0);
	assert_int_equal(c.access_vid, 101);
	assert_true(vlan_carries(&c, 100));
	assert_false(vlan_carries(&c, 101));
	assert_false(vlan_carries(&c, 102));
	/* Community: the primary and its own community. */
	assert_int_equal(vlan_port_cfg_pvlan(&c, 100, 102, secs, 3), 0);
	assert_true(vlan_carries(&c, 100));
	assert_false(vlan_carries(&c, 101));
	assert_true(vlan_carries(&c, 102));
	assert_false(vlan_carries(&c, 103));
	/* Errors. */
	assert_int_equal(vlan_port_cfg_pvlan(&c, 100, 104, secs, 3), -EINVAL);
	assert_int_equal(vlan_port_cfg_pvlan(&c, 0, 0, secs, 3), -EINVAL);
	assert_int_equal(vlan_port_cfg_pvlan(&c, 4095, 4095, NULL, 0), -EINVAL);
}

static void
test_policy_resolve(void **state)
{
	struct pg_policy vs = {0}, pg = {0}, port = {0};
	struct pg_effective e;

	/* Nothing set: the defaults (reject, reject, reject; learning off). */
	pg_resolve(NULL, NULL, NULL, &e);
	assert_int_equal(e.v[PG_F_PROMISCUOUS], 0);
	assert_int_equal(e.v[PG_F_MAC_CHANGES], 0);
	assert_int_equal(e.v[PG_F_FORGED_TRANSMITS], 0);
	assert_int_equal(e.v[PG_F_MAC_LEARNING], 0);
	assert_int_equal(e.v[PG_F_MAC_LIMIT], 4096);
	assert_int_equal(e.v[PG_F_UNKNOWN_UNICAST_FLOODING], 1);
	assert_int_equal(e.v[PG_F_STORM_BROADCAST], 0);
	for (unsigned f = 0; f < PG_F_MAX; f++)
		assert_int_equal(e.from[f], PG_FROM_DEFAULT);

	/* Each level overrides per field; the most specific wins. */
	pg_policy_set(&vs, PG_F_PROMISCUOUS, 1);
	pg_policy_set(&vs, PG_F_FORGED_TRANSMITS, 1);
	pg_policy_set(&pg, PG_F_FORGED_TRANSMITS, 0);
	pg_policy_set(&pg, PG_F_MAC_CHANGES, 1);
	pg_policy_set(&port, PG_F_MAC_CHANGES, 0);
	pg_policy_set(&port, PG_F_STORM_BROADCAST, 50);
	pg_resolve(&vs, &pg, &port, &e);
	assert_int_equal(e.v[PG_F_PROMISCUOUS], 1);
	assert_int_equal(e.from[PG_F_PROMISCUOUS], PG_FROM_VSWITCH);
	assert_int_equal(e.v[PG_F_FORGED_TRANSMITS], 0);
	assert_int_equal(e.from[PG_F_FORGED_TRANSMITS], PG_FROM_PORTGROUP);
	assert_int_equal(e.v[PG_F_MAC_CHANGES], 0);
	assert_int_equal(e.from[PG_F_MAC_CHANGES], PG_FROM_PORT);
	assert_int_equal(e.v[PG_F_STORM_BROADCAST], 50);
	assert_int_equal(e.from[PG_F_STORM_BROADCAST], PG_FROM_PORT);
	assert_int_equal(e.from[PG_F_MAC_LEARNING], PG_FROM_DEFAULT);

	/* Unset: inherits again. */
	pg_policy_unset(&port, PG_F_MAC_CHANGES);
	pg_resolve(&vs, &pg, &port, &e);
	assert_int_equal(e.v[PG_F_MAC_CHANGES], 1);
	assert_int_equal(e.from[PG_F_MAC_CHANGES], PG_FROM_PORTGROUP);
	pg_resolve(&vs, NULL, &port, &e);
	assert_int_equal(e.from[PG_F_FORGED_TRANSMITS], PG_FROM_VSWITCH);
	assert_string_equal(pg_source_name(PG_FROM_PORTGROUP), "portgroup");
}

static void
test_policy_values(void **state)
{
	struct pg_policy p = {0};
	int64_t v;

	assert_null(pg_policy_problem(&p));
	pg_policy_set(&p, PG_F_MAC_LIMIT, 0);
	assert_string_equal(pg_policy_problem(&p), "limit");
	pg_policy_set(&p, PG_F_MAC_LIMIT, PG_MAC_LIMIT_MAX);
	assert_null(pg_policy_problem(&p));
	pg_policy_set(&p, PG_F_PROMISCUOUS, 2);
	assert_string_equal(pg_policy_problem(&p), "promiscuous");
	pg_policy_set(&p, PG_F_PROMISCUOUS, 1);
	p.set |= UINT32_C(1) << 31;
	assert_non_null(pg_policy_problem(&p));

	assert_int_equal(pg_value_parse(PG_KIND_ACCEPT, "accept", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pg_value_parse(PG_KIND_LIMIT_POLICY, "drop", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pg_value_parse(PG_KIND_ACCEPT, "drop", &v), -EINVAL);
	assert_int_equal(pg_value_parse(PG_KIND_BOOL, "true", &v), -EINVAL);
	assert_string_equal(pg_value_name(PG_KIND_ACCEPT, 0), "reject");
	assert_null(pg_value_name(PG_KIND_COUNT, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storm_rate),
		cmocka_unit_test(test_storm_burst_and_idle),
		cmocka_unit_test(test_storm_config),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_pvlan_compile),
		cmocka_unit_test(test_policy_resolve),
		cmocka_unit_test(test_policy_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
