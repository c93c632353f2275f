/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of teaming/ (pure, no EAL): the selection policies
 * (distribution over 2, 3 and 4 uplinks, stability, never an unused
 * uplink), explicit failover order, failover/failback sequences and their
 * events, the receive-side rule, beacon probing with a fake clock (three
 * missed beacons, two-uplink shotgun, recovery, VLANs) and the bytes of the
 * frames control sends.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "teaming/teaming.h"
#include "tests/unit/mbuf_fake.h"

#define HZ UINT64_C(1000) /* the fake clock counts milliseconds */
#define ALL_UP UINT32_C(0xff)

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: deterministic pseudo-random numbers. */
static uint64_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static struct team_policy
policy(enum team_lb lb, const uint8_t *active, unsigned n_active, const uint8_t *standby,
	unsigned n_standby, bool failback)
{
	struct team_policy p = {
		.lb = (uint8_t)lb,
		.detect = TEAM_DETECT_LINK,
		.notify_switches = true,
		.failback = failback,
		.n_active = (uint8_t)n_active,
		.n_standby = (uint8_t)n_standby,
	};

	if (n_active != 0)
		memcpy(p.active, active, n_active);
	if (n_standby != 0)
		memcpy(p.standby, standby, n_standby);
	return p;
}

/* A state with a link-status policy and the given carrier. */
static void
state(struct team_state *ts, const struct team_policy *p, uint32_t link)
{
	assert_int_equal(team_state_init(ts, p, NULL, NULL, 0, link, HZ, 1000), 0);
}

/* An untagged IPv4 frame. */
static struct rte_mbuf *
ipv4_frame(const uint8_t *src_mac, uint32_t src_ip, uint32_t dst_ip)
{
	uint8_t f[64] = {0};

	memset(f, 0x02, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	src_ip = rte_cpu_to_be_32(src_ip);
	dst_ip = rte_cpu_to_be_32(dst_ip);
	memcpy(f + 26, &src_ip, 4);
	memcpy(f + 30, &dst_ip, 4);
	return fake_mbuf(f, sizeof(f));
}

static void
random_mac(uint8_t *mac)
{
	uint64_t r = rnd();

	memcpy(mac, &r, 6);
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
}

/* Counts within +-tol (fraction) of an even share of total over the uplinks in set. */
static void
assert_even(const unsigned *count, uint32_t set, unsigned total, double tol, const char *what)
{
	unsigned n = (unsigned)__builtin_popcount(set);
	double even = (double)total / n;

	for (unsigned u = 0; u < TEAM_MAX_UPLINKS; u++) {
		if (!(set & (1u << u))) {
			if (count[u] != 0)
				fail_msg("%s: %u frames on uplink %u, not serving", what, count[u],
					u);
			continue;
		}
		if (count[u] < even * (1 - tol) || count[u] > even * (1 + tol))
			fail_msg("%s: uplink %u got %u of %u, even share %.0f", what, u, count[u],
				total, even);
	}
}

/* --- policy --- */

static void
test_names_and_check(void **st)
{
	static const uint8_t a[] = {0, 1}, dup[] = {1, 1}, big[] = {8};
	struct team_policy p;

	for (int lb = 0; lb < TEAM_LB_MAX; lb++)
		assert_int_equal(team_lb_from_name(team_lb_name((enum team_lb)lb)), lb);
	for (int d = 0; d < TEAM_DETECT_MAX; d++)
		assert_int_equal(team_detect_from_name(team_detect_name((enum team_detect)d)), d);
	assert_string_equal(team_lb_name(TEAM_LB_EXPLICIT), "explicit_failover");
	assert_string_equal(team_detect_name(TEAM_DETECT_BEACON), "beacon_probing");
	assert_int_equal(team_lb_from_name("load_based"), -EINVAL);
	assert_int_equal(team_lb_from_name(NULL), -EINVAL);
	assert_string_equal(team_event_name(TEAM_EV_FAILBACK), "failback");

	p = policy(TEAM_LB_PORT_ID, a, 2, NULL, 0, true);
	assert_int_equal(team_policy_check(&p), 0);
	p = policy(TEAM_LB_PORT_ID, dup, 2, NULL, 0, true);
	assert_int_equal(team_policy_check(&p), -EINVAL);
	p = policy(TEAM_LB_PORT_ID, a, 2, a + 1, 1, true); /* uplink 1 active and standby */
	assert_int_equal(team_policy_check(&p), -EINVAL);
	p = policy(TEAM_LB_PORT_ID, big, 1, NULL, 0, true);
	assert_int_equal(team_policy_check(&p), -EINVAL);
	p = policy(TEAM_LB_IP_HASH, a, 2, NULL, 0, true);
	p.detect = TEAM_DETECT_BEACON; /* not with IP hash */
	assert_int_equal(team_policy_check(&p), -EINVAL);
	p = policy(TEAM_LB_MAX, a, 2, NULL, 0, true);
	assert_int_equal(team_policy_check(&p), -EINVAL);
}

/* --- hashes --- */

static void
test_hash_ip_bytes(void **st)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	uint8_t f[64] = {0};
	struct rte_mbuf *m;

	/* IPv4: XOR of the 8 address bytes. */
	m = ipv4_frame(mac, 0x0a000001, 0x0a000102); /* 10.0.0.1 -> 10.0.1.2 */
	assert_int_equal(team_hash_ip(m), 0x0a ^ 0x01 ^ 0x0a ^ 0x01 ^ 0x02);
	free(m);
	/* Symmetric. */
	m = ipv4_frame(mac, 0x0a000102, 0x0a000001);
	assert_int_equal(team_hash_ip(m), 0x0a ^ 0x01 ^ 0x0a ^ 0x01 ^ 0x02);
	free(m);

	/* Non-IP (ARP): whatever bytes 26..33 hold. */
	f[12] = 0x08;
	f[13] = 0x06;
	for (int i = 26; i < 34; i++)
		f[i] = (uint8_t)(1u << (i - 26));
	f[34] = 0xaa; /* beyond: not hashed */
	m = fake_mbuf(f, 60);
	assert_int_equal(team_hash_ip(m), 0xff);
	free(m);
	/* Short frame: only the bytes present (26..29). */
	m = fake_mbuf(f, 30);
	assert_int_equal(team_hash_ip(m), 0x0f);
	free(m);
	m = fake_mbuf(f, 20);
	assert_int_equal(team_hash_ip(m), 0);
	free(m);

	/* IPv6: XOR of the 32 address bytes 22..53. */
	memset(f, 0, sizeof(f));
	f[12] = 0x86;
	f[13] = 0xdd;
	f[22] = 0x20; /* src 2001:: ... 1 */
	f[23] = 0x01;
	f[37] = 0x01;
	f[38] = 0x20; /* dst 2001:: ... 7 */
	f[39] = 0x01;
	f[53] = 0x07;
	f[21] = 0xff; /* before: not hashed */
	f[54] = 0xff; /* after: not hashed */
	m = fake_mbuf(f, 64);
	assert_int_equal(team_hash_ip(m), 0x01 ^ 0x07);
	free(m);
	/* A truncated IPv6 first segment hashes the IPv4 offsets instead. */
	m = fake_mbuf(f, 40);
	assert_int_equal(
		team_hash_ip(m), f[26] ^ f[27] ^ f[28] ^ f[29] ^ f[30] ^ f[31] ^ f[32] ^ f[33]);
	free(m);
}

/* --- distribution, stability --- */

static void
test_distribution(void **st)
{
	static const uint8_t ups[] = {0, 1, 2, 3};

	for (unsigned n = 2; n <= 4; n++) {
		struct team_policy p;
		struct team_state ts;
		struct team t;
		unsigned count[TEAM_MAX_UPLINKS] = {0};
		uint32_t set = (1u << n) - 1;
		char what[64];

		/* Port ID: port index modulo the active uplinks. */
		p = policy(TEAM_LB_PORT_ID, ups, n, NULL, 0, true);
		state(&ts, &p, ALL_UP);
		team_state_compile(&ts, &t);
		for (uint16_t port = 0; port < 1024; port++) {
			uint8_t u = team_select(&t, port, NULL);

			if (port < 256)
				assert_int_equal(u, port % n);
			assert_int_equal(u, team_select(&t, port, NULL));
			assert_int_equal(u, team_port_uplink(&t, port, NULL));
			count[u]++;
		}
		snprintf(what, sizeof(what), "port_id/%u", n);
		assert_even(count, set, 1024, 0.05, what);

		/* Source MAC: random MACs. */
		memset(count, 0, sizeof(count));
		p = policy(TEAM_LB_SRC_MAC, ups, n, NULL, 0, true);
		state(&ts, &p, ALL_UP);
		team_state_compile(&ts, &t);
		for (unsigned i = 0; i < 20000; i++) {
			uint8_t mac[6];
			struct rte_mbuf *m;
			uint8_t u;

			random_mac(mac);
			m = ipv4_frame(mac, (uint32_t)rnd(), (uint32_t)rnd());
			u = team_select(&t, (uint16_t)i, m);
			/* Stable for the source, whatever the port and addresses. */
			assert_int_equal(u, team_port_uplink(&t, 7, (struct rte_ether_addr *)mac));
			count[u]++;
			free(m);
		}
		snprintf(what, sizeof(what), "src_mac/%u", n);
		assert_even(count, set, 20000, 0.08, what);

		/* IP hash: random address pairs. */
		memset(count, 0, sizeof(count));
		p = policy(TEAM_LB_IP_HASH, ups, n, NULL, 0, true);
		state(&ts, &p, ALL_UP);
		team_state_compile(&ts, &t);
		for (unsigned i = 0; i < 20000; i++) {
			static const uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
			uint32_t a = (uint32_t)rnd(), b = (uint32_t)rnd();
			struct rte_mbuf *m = ipv4_frame(mac, a, b), *r = ipv4_frame(mac, b, a);
			uint8_t u = team_select(&t, 1, m);

			assert_int_equal(u, team_select(&t, 1, m));
			assert_int_equal(u, team_select(&t, 2, r)); /* both directions alike */
			count[u]++;
			free(m);
			free(r);
		}
		snprintf(what, sizeof(what), "ip_hash/%u", n);
		assert_even(count, set, 20000, 0.08, what);

		/* A typical subnet: one server, clients 10.0.0.1..254. */
		memset(count, 0, sizeof(count));
		for (uint32_t c = 1; c < 255; c++) {
			static const uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
			struct rte_mbuf *m = ipv4_frame(mac, 0x0a000000 | c, 0x0a000105);

			count[team_select(&t, 1, m)]++;
			free(m);
		}
		snprintf(what, sizeof(what), "ip_hash/%u subnet", n);
		assert_even(count, set, 254, 0.1, what);
	}
}

/* The table spreads evenly over uplinks that are not the first ones. */
static void
test_never_unused(void **st)
{
	/* Uplinks 0..5 exist; the team uses 5, 2 active, 4 standby; 0, 1, 3 unused. */
	static const uint8_t act[] = {5, 2}, sby[] = {4};
	static const enum team_lb lbs[] = {
		TEAM_LB_PORT_ID, TEAM_LB_SRC_MAC, TEAM_LB_IP_HASH, TEAM_LB_EXPLICIT};

	for (unsigned l = 0; l < RTE_DIM(lbs); l++) {
		struct team_policy p = policy(lbs[l], act, 2, sby, 1, l % 2 == 0);
		struct team_state ts;
		struct team t;

		state(&ts, &p, 0x3f);
		/* Every carrier combination of the six uplinks. */
		for (uint32_t link = 0; link < 64; link++) {
			for (unsigned u = 0; u < 6; u++)
				team_state_link(&ts, u, (link >> u) & 1, 2000, NULL);
			team_state_compile(&ts, &t);
			for (unsigned b = 0; b < TEAM_TABLE_SIZE; b++) {
				uint8_t u = t.table[b];

				if (u == TEAM_NONE) {
					assert_int_equal(t.n_serving, 0);
					continue;
				}
				assert_true(u == 5 || u == 2 || u == 4);
				assert_true((link >> u) & 1);
			}
			/* Something serves whenever a member has carrier. */
			assert_int_equal(t.n_serving == 0, (link & 0x34) == 0);
		}
	}
}

/* --- explicit failover --- */

static void
test_explicit_order(void **st)
{
	static const uint8_t act[] = {2, 0}, sby[] = {3, 1};
	struct team_policy p = policy(TEAM_LB_EXPLICIT, act, 2, sby, 2, true);
	struct team_state ts;
	struct team t;
	struct team_events ev = {0};
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	struct rte_mbuf *m = ipv4_frame(mac, 1, 2);

#define SELECTS(want)                                                     \
	do {                                                              \
		team_state_compile(&ts, &t);                              \
		for (uint16_t port = 0; port < 300; port += 37)           \
			assert_int_equal(team_select(&t, port, m), want); \
	} while (0)

	state(&ts, &p, 0xf);
	SELECTS(2);
	team_state_link(&ts, 2, false, 1100, &ev);
	SELECTS(0);
	assert_int_equal(ev.n, 2);
	assert_int_equal(ev.ev[0].type, TEAM_EV_UPLINK_DOWN);
	assert_int_equal(ev.ev[0].uplink, 2);
	assert_int_equal(ev.ev[0].reason, TEAM_REASON_LINK);
	assert_int_equal(ev.ev[1].type, TEAM_EV_FAILOVER);
	assert_int_equal(ev.ev[1].from, 2);
	assert_int_equal(ev.ev[1].to, 0);
	team_state_link(&ts, 0, false, 1200, NULL);
	SELECTS(3);
	team_state_link(&ts, 3, false, 1300, NULL);
	SELECTS(1);
	team_state_link(&ts, 1, false, 1400, NULL);
	SELECTS(TEAM_NONE);
	assert_int_equal(t.n_serving, 0);
	/* Failback on: the first healthy in order, whatever serves. */
	team_state_link(&ts, 1, true, 1500, NULL);
	SELECTS(1);
	ev.n = 0;
	team_state_link(&ts, 0, true, 1600, &ev);
	SELECTS(0);
	assert_int_equal(ev.n, 2);
	assert_int_equal(ev.ev[1].type, TEAM_EV_FAILBACK);
	assert_int_equal(ev.ev[1].from, 1);
	assert_int_equal(ev.ev[1].to, 0);
	team_state_link(&ts, 2, true, 1700, NULL);
	SELECTS(2);

	/* Failback off: a recovered uplink waits until the serving one fails. */
	p.failback = false;
	state(&ts, &p, 0xf);
	team_state_link(&ts, 2, false, 1100, NULL);
	SELECTS(0);
	ev.n = 0;
	team_state_link(&ts, 2, true, 1200, &ev);
	SELECTS(0);
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.ev[0].type, TEAM_EV_UPLINK_UP);
	ev.n = 0;
	team_state_link(&ts, 0, false, 1300, &ev);
	SELECTS(2); /* the first healthy in order replaces it */
	assert_int_equal(ev.ev[1].type, TEAM_EV_FAILOVER);
	assert_int_equal(ev.ev[1].from, 0);
	assert_int_equal(ev.ev[1].to, 2);
#undef SELECTS
	free(m);
}

/* --- failover, failback with load balancing --- */

static void
test_failover_failback_lb(void **st)
{
	static const uint8_t act[] = {0, 1}, sby[] = {2};
	struct team_policy p = policy(TEAM_LB_PORT_ID, act, 2, sby, 1, true);
	struct team_state ts;
	struct team t, before;
	struct team_events ev = {0};
	unsigned port;

	state(&ts, &p, 0x7);
	team_state_compile(&ts, &before);
	assert_int_equal(before.n_serving, 2);
	assert_int_equal(before.serving[0], 0);
	assert_int_equal(before.serving[1], 1);

	/* Uplink 0 fails: the standby takes its slot, uplink 1's ports stay. */
	team_state_link(&ts, 0, false, 2000, &ev);
	assert_int_equal(ev.n, 2);
	assert_int_equal(ev.ev[0].type, TEAM_EV_UPLINK_DOWN);
	assert_int_equal(ev.ev[0].uplink, 0);
	assert_int_equal(ev.ev[1].type, TEAM_EV_FAILOVER);
	assert_int_equal(ev.ev[1].slot, 0);
	assert_int_equal(ev.ev[1].from, 0);
	assert_int_equal(ev.ev[1].to, 2);
	team_state_compile(&ts, &t);
	for (port = 0; port < 512; port++) {
		uint8_t was = team_port_uplink(&before, (uint16_t)port, NULL);

		assert_int_equal(team_port_uplink(&t, (uint16_t)port, NULL), was == 0 ? 2 : was);
	}
	/* Same event twice: nothing more. */
	ev.n = 0;
	team_state_link(&ts, 0, false, 2100, &ev);
	assert_int_equal(ev.n, 0);

	/* Failback on: uplink 0 takes its slot back at once. */
	team_state_link(&ts, 0, true, 3000, &ev);
	assert_int_equal(ev.n, 2);
	assert_int_equal(ev.ev[0].type, TEAM_EV_UPLINK_UP);
	assert_int_equal(ev.ev[1].type, TEAM_EV_FAILBACK);
	assert_int_equal(ev.ev[1].from, 2);
	assert_int_equal(ev.ev[1].to, 0);
	team_state_compile(&ts, &t);
	assert_memory_equal(t.table, before.table, sizeof(t.table));

	/* Failback off: it stays idle until another active uplink fails. */
	p.failback = false;
	state(&ts, &p, 0x7);
	team_state_link(&ts, 0, false, 2000, NULL);
	ev.n = 0;
	team_state_link(&ts, 0, true, 3000, &ev);
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.ev[0].type, TEAM_EV_UPLINK_UP);
	team_state_compile(&ts, &t);
	assert_int_equal(t.n_serving, 2);
	assert_int_equal(t.serving[0], 2);
	assert_int_equal(t.serving[1], 1);
	ev.n = 0;
	team_state_link(&ts, 1, false, 4000, &ev);
	assert_int_equal(ev.n, 2);
	assert_int_equal(ev.ev[1].type, TEAM_EV_FAILOVER);
	assert_int_equal(ev.ev[1].slot, 1);
	assert_int_equal(ev.ev[1].from, 1);
	assert_int_equal(ev.ev[1].to, 0);
	team_state_compile(&ts, &t);
	assert_int_equal(t.serving[0], 2);
	assert_int_equal(t.serving[1], 0);
	/* The standby fails too: its slot is empty, uplink 0 carries everything. */
	ev.n = 0;
	team_state_link(&ts, 2, false, 5000, &ev);
	assert_int_equal(ev.ev[1].type, TEAM_EV_FAILOVER);
	assert_int_equal(ev.ev[1].to, TEAM_NONE);
	team_state_compile(&ts, &t);
	for (port = 0; port < 512; port++)
		assert_int_equal(team_select(&t, (uint16_t)port, NULL), 0);
	/* Uplink 1 comes back: it fills the empty slot (nothing to displace). */
	ev.n = 0;
	team_state_link(&ts, 1, true, 6000, &ev);
	assert_int_equal(ev.n, 2);
	assert_int_equal(ev.ev[1].type, TEAM_EV_FAILBACK);
	assert_int_equal(ev.ev[1].from, TEAM_NONE);
	assert_int_equal(ev.ev[1].to, 1);
	/* Everything down. */
	team_state_link(&ts, 0, false, 7000, NULL);
	team_state_link(&ts, 1, false, 7000, NULL);
	team_state_compile(&ts, &t);
	assert_int_equal(t.n_serving, 0);
	assert_int_equal(team_select(&t, 3, NULL), TEAM_NONE);
	assert_int_equal(team_port_uplink(&t, 3, NULL), TEAM_NONE);
}

/* Without a replacement, only the failed uplink's ports move, evenly. */
static void
test_failover_spread(void **st)
{
	static const uint8_t act[] = {0, 1, 2};
	struct team_policy p = policy(TEAM_LB_PORT_ID, act, 3, NULL, 0, true);
	struct team_state ts;
	struct team before, t;
	unsigned moved[TEAM_MAX_UPLINKS] = {0}, n_moved = 0;

	state(&ts, &p, 0x7);
	team_state_compile(&ts, &before);
	team_state_link(&ts, 1, false, 2000, NULL);
	team_state_compile(&ts, &t);
	for (unsigned port = 0; port < 768; port++) {
		uint8_t was = team_select(&before, (uint16_t)port, NULL);
		uint8_t now = team_select(&t, (uint16_t)port, NULL);

		assert_int_not_equal(now, 1);
		if (was != 1) {
			assert_int_equal(now, was);
		} else {
			moved[now]++;
			n_moved++;
		}
	}
	assert_even(moved, 0x5, n_moved, 0.05, "ports of the failed uplink");
	/* Back: exactly the table before (failback on). */
	team_state_link(&ts, 1, true, 3000, NULL);
	team_state_compile(&ts, &t);
	assert_memory_equal(t.table, before.table, sizeof(t.table));
}

/* Only standbys configured, and a team with no uplink at all. */
static void
test_degenerate(void **st)
{
	static const uint8_t sby[] = {3, 1};
	struct team_policy p = policy(TEAM_LB_SRC_MAC, NULL, 0, sby, 2, true);
	struct team_state ts;
	struct team t;

	state(&ts, &p, ALL_UP);
	team_state_compile(&ts, &t);
	assert_int_equal(t.n_serving, 1);
	assert_int_equal(t.serving[0], 3);
	team_state_link(&ts, 3, false, 2000, NULL);
	team_state_compile(&ts, &t);
	assert_int_equal(t.serving[0], 1);

	p = policy(TEAM_LB_PORT_ID, NULL, 0, NULL, 0, true);
	state(&ts, &p, ALL_UP);
	team_state_compile(&ts, &t);
	assert_int_equal(t.n_serving, 0);
	assert_int_equal(t.members, 0);
	assert_int_equal(team_select(&t, 0, NULL), TEAM_NONE);
	assert_false(team_rx_accept(&t, 0, 0, NULL, false));
}

/* --- receive side --- */

static void
test_rx_accept(void **st)
{
	static const uint8_t act[] = {0, 1}, sby[] = {2};
	struct team_policy p = policy(TEAM_LB_PORT_ID, act, 2, sby, 1, true);
	struct team_state ts;
	struct team t;
	struct rte_ether_addr mac = {{2, 0, 0, 0, 0, 5}};

	state(&ts, &p, 0xf);
	team_state_compile(&ts, &t);
	/* Port 4 leaves through uplink 0 (4 mod 2). */
	assert_int_equal(team_port_uplink(&t, 4, &mac), 0);
	assert_true(team_rx_accept(&t, 0, 4, &mac, true));
	assert_false(team_rx_accept(&t, 1, 4, &mac, true)); /* group on another uplink */
	assert_false(team_rx_accept(&t, 2, 4, &mac, true)); /* idle standby */
	assert_true(team_rx_accept(&t, 1, 4, &mac, false)); /* unicast: any member */
	assert_true(team_rx_accept(&t, 2, 4, &mac, false));
	assert_false(team_rx_accept(&t, 3, 4, &mac, false)); /* unused: never */
	assert_false(team_rx_accept(&t, 3, 4, &mac, true));
	assert_false(team_rx_accept(&t, 200, 4, &mac, false));

	/* Source MAC: the port's MAC decides. */
	p.lb = TEAM_LB_SRC_MAC;
	state(&ts, &p, 0xf);
	team_state_compile(&ts, &t);
	{
		uint8_t u = team_port_uplink(&t, 4, &mac);

		assert_true(u == 0 || u == 1);
		assert_true(team_rx_accept(&t, u, 4, &mac, true));
		assert_false(team_rx_accept(&t, 1 - u, 4, &mac, true));
	}

	/* IP hash: any member uplink, group or not; never an unused one. */
	p.lb = TEAM_LB_IP_HASH;
	state(&ts, &p, 0xf);
	team_state_compile(&ts, &t);
	for (unsigned u = 0; u < 3; u++)
		assert_true(team_rx_accept(&t, u, 4, &mac, true));
	assert_false(team_rx_accept(&t, 3, 4, &mac, true));
	assert_int_equal(team_port_uplink(&t, 4, &mac), 0); /* its RARP: first serving */

	/* Explicit: the serving uplink only. */
	p.lb = TEAM_LB_EXPLICIT;
	state(&ts, &p, 0xe);
	team_state_compile(&ts, &t);
	assert_true(team_rx_accept(&t, 1, 9, &mac, true));
	assert_false(team_rx_accept(&t, 0, 9, &mac, true));
	assert_false(team_rx_accept(&t, 2, 9, &mac, true));
}

/* --- frames --- */

static void
test_beacon_frame(void **st)
{
	static const uint8_t want[TEAM_FRAME_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* broadcast */
		0x02, 0x11, 0x22, 0x33, 0x44, 0x55, /* the uplink's MAC */
		0x89, 0x22, /* ethertype */
		'P', 'T', 'C', 'B', 1, 0, /* magic, version, zero */
		0x00, 0x00, /* VLAN ID */
		0x02, 0x11, 0x22, 0x33, 0x44, 0x55, /* the uplink's MAC */
		0, 0, 0x01, 0x02, 0x03, 0x04, /* zero, sequence */
	};
	struct rte_ether_addr mac = {{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}}, from;
	uint8_t f[128];
	uint16_t vid;
	uint32_t seq;
	struct rte_mbuf *m;

	assert_int_equal(team_beacon_build(f, sizeof(f), &mac, 0, 0x01020304), TEAM_FRAME_LEN);
	assert_memory_equal(f, want, sizeof(want));
	assert_int_equal(team_beacon_parse(f, TEAM_FRAME_LEN, &from, &vid, &seq), 0);
	assert_memory_equal(&from, &mac, 6);
	assert_int_equal(vid, 0);
	assert_int_equal(seq, 0x01020304);

	/* Tagged: an 802.1Q tag after the source, the rest 4 bytes later. */
	assert_int_equal(team_beacon_build(f, sizeof(f), &mac, 100, 7), TEAM_FRAME_MAX);
	assert_memory_equal(f, want, 12);
	assert_int_equal(f[12], 0x81);
	assert_int_equal(f[13], 0x00);
	assert_int_equal(f[14], 0x00);
	assert_int_equal(f[15], 100);
	assert_memory_equal(f + 16, want + 12, 8);
	assert_int_equal(f[24], 0);
	assert_int_equal(f[25], 100);
	assert_int_equal(team_beacon_parse(f, TEAM_FRAME_MAX, &from, &vid, &seq), 0);
	assert_int_equal(vid, 100);
	assert_int_equal(seq, 7);
	/* The switch's view: tag stripped, kept beside; the payload says 100. */
	memmove(f + 12, f + 16, TEAM_FRAME_LEN - 12);
	assert_int_equal(team_beacon_parse(f, TEAM_FRAME_LEN, NULL, &vid, NULL), 0);
	assert_int_equal(vid, 100);

	/* Not ours. */
	assert_int_equal(team_beacon_build(f, TEAM_FRAME_LEN - 1, &mac, 0, 0), -ENOSPC);
	assert_int_equal(team_beacon_build(f, TEAM_FRAME_LEN, &mac, 5, 0), -ENOSPC);
	team_beacon_build(f, sizeof(f), &mac, 0, 0);
	assert_int_equal(team_beacon_parse(f, 30, NULL, NULL, NULL), -EPROTO);
	f[14] = 'X';
	assert_int_equal(team_beacon_parse(f, TEAM_FRAME_LEN, NULL, NULL, NULL), -EPROTO);
	f[13] = 0x23;
	assert_int_equal(team_beacon_parse(f, TEAM_FRAME_LEN, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(team_beacon_parse(f, 10, NULL, NULL, NULL), -ENOENT);

	/* Into an mbuf; the hot classifier. */
	memset(f, 0, sizeof(f));
	m = fake_mbuf(f, 0);
	assert_int_equal(team_beacon_build_mbuf(m, &mac, 0, 0x01020304), 0);
	assert_int_equal(m->data_len, TEAM_FRAME_LEN);
	assert_int_equal(m->pkt_len, TEAM_FRAME_LEN);
	assert_memory_equal(rte_pktmbuf_mtod(m, void *), want, sizeof(want));
	assert_true(team_is_beacon(m));
	assert_int_equal(team_beacon_build_mbuf(m, &mac, 0, 1), -EINVAL); /* not empty */
	free(m);
	m = fake_mbuf(f, 0);
	assert_int_equal(team_rarp_build_mbuf(m, &mac, 0), 0);
	assert_false(team_is_beacon(m));
	free(m);
}

static void
test_rarp_frame(void **st)
{
	static const uint8_t want[TEAM_FRAME_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* broadcast */
		0x00, 0x50, 0x56, 0x01, 0x02, 0x03, /* the VM's MAC */
		0x80, 0x35, /* RARP */
		0x00, 0x01, 0x08, 0x00, 6, 4, /* Ethernet, IPv4, lengths */
		0x00, 0x03, /* reverse request */
		0x00, 0x50, 0x56, 0x01, 0x02, 0x03, 0, 0, 0, 0, /* sender */
		0x00, 0x50, 0x56, 0x01, 0x02, 0x03, 0, 0, 0, 0, /* target */
	};
	struct rte_ether_addr mac = {{0x00, 0x50, 0x56, 0x01, 0x02, 0x03}};
	uint8_t f[128];
	struct rte_mbuf *m;

	memset(f, 0xee, sizeof(f));
	assert_int_equal(team_rarp_build(f, sizeof(f), &mac, 0), TEAM_FRAME_LEN);
	assert_memory_equal(f, want, sizeof(want)); /* zero padding included */
	memset(f, 0xee, sizeof(f));
	assert_int_equal(team_rarp_build(f, sizeof(f), &mac, 4094), TEAM_FRAME_MAX);
	assert_memory_equal(f, want, 12);
	assert_int_equal(f[12], 0x81);
	assert_int_equal(f[13], 0x00);
	assert_int_equal(f[14], 0x0f);
	assert_int_equal(f[15], 0xfe);
	assert_memory_equal(f + 16, want + 12, TEAM_FRAME_LEN - 12);
	assert_int_equal(team_rarp_build(f, TEAM_FRAME_MAX - 1, &mac, 1), -ENOSPC);

	memset(f, 0, sizeof(f));
	m = fake_mbuf(f, 0);
	assert_int_equal(team_rarp_build_mbuf(m, &mac, 0), 0);
	assert_int_equal(m->data_len, TEAM_FRAME_LEN);
	assert_memory_equal(rte_pktmbuf_mtod(m, void *), want, sizeof(want));
	free(m);
}

/* --- beacon probing with a fake clock --- */

/* A fake physical network: path[s][r] = beacons from s reach r. */
struct net {
	bool path[TEAM_MAX_UPLINKS][TEAM_MAX_UPLINKS];
	struct rte_ether_addr mac[TEAM_MAX_UPLINKS];
	uint16_t vlans[2];
	unsigned n_vlans;
	bool vlan_broken[TEAM_MAX_UPLINKS][2]; /* uplink u does not carry vlans[i] */
	uint64_t last_rx[TEAM_MAX_UPLINKS]; /* when uplink u last received a beacon */
};

static void
net_init(struct net *n, unsigned uplinks)
{
	memset(n, 0, sizeof(*n));
	for (unsigned s = 0; s < uplinks; s++) {
		struct rte_ether_addr m = {{0x02, 0, 0, 0, 0xbe, (uint8_t)s}};

		n->mac[s] = m;
		for (unsigned r = 0; r < uplinks; r++)
			n->path[s][r] = true;
	}
	n->n_vlans = 1;
}

/* Cut (or mend) uplink u from the network. */
static void
net_cut(struct net *n, unsigned u, bool cut)
{
	for (unsigned o = 0; o < TEAM_MAX_UPLINKS; o++) {
		n->path[u][o] = !cut;
		n->path[o][u] = !cut;
	}
}

/*
 * Run the team from *now to until, in 100 ms ticks: beacons sent when due
 * from every member with carrier, delivered 2 ms later where the network
 * lets them. Returns when the first event of type stop_on happens (its
 * time in *now), or at until.
 */
static bool
run(struct team_state *ts, struct net *n, uint64_t *now, uint64_t until, int stop_on,
	struct team_events *ev)
{
	while (*now < until) {
		if (team_state_beacon_due(ts, *now, ev)) {
			for (unsigned s = 0; s < TEAM_MAX_UPLINKS; s++) {
				if (!(ts->members & ts->link & (1u << s)))
					continue;
				for (unsigned r = 0; r < TEAM_MAX_UPLINKS; r++) {
					if (!(ts->members & ts->link & (1u << r)) || !n->path[s][r])
						continue;
					for (unsigned v = 0; v < n->n_vlans; v++) {
						if (n->vlan_broken[s][v] || n->vlan_broken[r][v])
							continue;
						assert_int_equal(
							team_state_beacon_rx(ts, r, &n->mac[s],
								n->vlans[v], *now + 2, ev),
							0);
						if (r != s) /* its own: ignored */
							n->last_rx[r] = *now + 2;
					}
				}
			}
		}
		*now += HZ / 10;
		team_state_tick(ts, *now, ev);
		for (unsigned i = 0; ev != NULL && i < ev->n; i++)
			if (ev->ev[i].type == stop_on)
				return true;
	}
	return false;
}

static int
find_event(const struct team_events *ev, enum team_event_type type, unsigned uplink)
{
	for (unsigned i = 0; i < ev->n; i++)
		if (ev->ev[i].type == type && (uplink == TEAM_NONE || ev->ev[i].uplink == uplink))
			return (int)i;
	return -1;
}

static void
beacon_state(struct team_state *ts, struct net *n, const uint8_t *act, unsigned n_act,
	const uint8_t *sby, unsigned n_sby, uint32_t link, uint64_t now)
{
	struct team_policy p = policy(TEAM_LB_PORT_ID, act, n_act, sby, n_sby, true);

	p.detect = TEAM_DETECT_BEACON;
	assert_int_equal(team_state_init(ts, &p, n->mac, n->vlans, n->n_vlans, link, HZ, now), 0);
}

static void
test_beacon_three(void **st)
{
	static const uint8_t act[] = {0, 1}, sby[] = {2};
	struct team_state ts;
	struct team t;
	struct team_events ev = {0};
	struct net n;
	uint64_t now = 50000, cut;

	net_init(&n, 3);
	beacon_state(&ts, &n, act, 2, sby, 1, 0x7, now);
	/* Healthy network: nothing happens in a minute. */
	assert_false(run(&ts, &n, &now, now + 60 * HZ, TEAM_EV_UPLINK_DOWN, &ev));
	assert_int_equal(ev.n, 0);
	assert_int_equal(ts.healthy, 0x7);

	/* Uplink 0 loses the network, carrier stays: failed after 3 missed beacons. */
	net_cut(&n, 0, true);
	cut = now;
	assert_true(run(&ts, &n, &now, now + 10 * HZ, TEAM_EV_UPLINK_DOWN, &ev));
	/* 3 rounds missed, judged 1/5 round after the third; the bar: 4 s. */
	if (now - n.last_rx[0] < 3 * HZ + HZ / TEAM_BEACON_JUDGE_DIV - 10 ||
		now - n.last_rx[0] > 3 * HZ + HZ / TEAM_BEACON_JUDGE_DIV + HZ / 10 ||
		now - cut > 4 * HZ)
		fail_msg("beacon failure detected %lu ms after the cut, %lu after the last beacon",
			(unsigned long)(now - cut), (unsigned long)(now - n.last_rx[0]));
	assert_int_equal(ev.ev[0].uplink, 0);
	assert_int_equal(ev.ev[0].reason, TEAM_REASON_BEACON);
	assert_int_equal(ev.ev[1].type, TEAM_EV_FAILOVER);
	assert_int_equal(ev.ev[1].from, 0);
	assert_int_equal(ev.ev[1].to, 2);
	assert_int_equal(ts.beacon.failed, 0x1);
	assert_false(team_state_shotgun(&ts));
	team_state_compile(&ts, &t);
	assert_int_equal(t.healthy, 0x6);
	assert_int_equal(t.shotgun, 0);
	/* Once each. */
	ev.n = 0;
	assert_false(run(&ts, &n, &now, now + 20 * HZ, TEAM_EV_UPLINK_DOWN, &ev));
	assert_int_equal(ev.n, 0);

	/* Mended: back at the first beacon heard, failback. */
	net_cut(&n, 0, false);
	cut = now;
	assert_true(run(&ts, &n, &now, now + 5 * HZ, TEAM_EV_UPLINK_UP, &ev));
	assert_true(now - cut <= HZ + HZ / 2 + HZ / 10);
	assert_true(find_event(&ev, TEAM_EV_FAILBACK, TEAM_NONE) >= 0);
	assert_int_equal(ts.healthy, 0x7);

	/* Carrier loss is reported as such, and the other two still hear each other. */
	ev.n = 0;
	team_state_link(&ts, 1, false, now, &ev);
	assert_int_equal(ev.ev[0].type, TEAM_EV_UPLINK_DOWN);
	assert_int_equal(ev.ev[0].reason, TEAM_REASON_LINK);
	ev.n = 0;
	assert_false(run(&ts, &n, &now, now + 20 * HZ, TEAM_EV_UPLINK_DOWN, &ev));
	assert_int_equal(ts.healthy, 0x5);
	/* Carrier back: a fresh grace, no false failure while beacons resume. */
	team_state_link(&ts, 1, true, now, &ev);
	assert_false(run(&ts, &n, &now, now + 20 * HZ, TEAM_EV_UPLINK_DOWN, &ev));
	assert_int_equal(ts.healthy, 0x7);
}

static void
test_beacon_two_shotgun(void **st)
{
	static const uint8_t act[] = {0}, sby[] = {1};
	struct team_state ts;
	struct team t;
	struct team_events ev = {0};
	struct net n;
	uint64_t now = 1000, cut;

	net_init(&n, 2);
	beacon_state(&ts, &n, act, 1, sby, 1, 0x3, now);
	assert_false(run(&ts, &n, &now, now + 10 * HZ, TEAM_EV_SHOTGUN_ON, &ev));

	/* Either side broken: which one cannot be told; send on both. */
	net_cut(&n, 1, true);
	cut = now;
	assert_true(run(&ts, &n, &now, now + 10 * HZ, TEAM_EV_SHOTGUN_ON, &ev));
	assert_true(now - RTE_MAX(n.last_rx[0], n.last_rx[1]) >=
		3 * HZ + HZ / TEAM_BEACON_JUDGE_DIV - 10);
	assert_true(now - cut <= 4 * HZ);
	assert_int_equal(find_event(&ev, TEAM_EV_UPLINK_DOWN, TEAM_NONE), -1);
	assert_true(team_state_shotgun(&ts));
	assert_int_equal(ts.beacon.failed, 0);
	team_state_compile(&ts, &t);
	assert_int_equal(t.shotgun, 0x3);
	assert_int_equal(t.healthy, 0x3);
	assert_true(team_rx_accept(&t, 1, 5, NULL, true));

	/* A carrier flap meanwhile proves nothing: nobody fails, still shotgun. */
	ev.n = 0;
	team_state_link(&ts, 1, false, now, &ev);
	assert_false(team_state_shotgun(&ts)); /* one uplink: nothing to probe */
	team_state_link(&ts, 1, true, now, &ev);
	assert_true(team_state_shotgun(&ts)); /* uplink 0 isolated, nobody proves it */
	assert_int_equal(find_event(&ev, TEAM_EV_UPLINK_DOWN, 0), -1);
	ev.n = 0;
	assert_false(run(&ts, &n, &now, now + 10 * HZ, TEAM_EV_SHOTGUN_OFF, &ev));
	assert_true(team_state_shotgun(&ts));
	assert_int_equal(find_event(&ev, TEAM_EV_UPLINK_DOWN, 0), -1);
	assert_int_equal(ts.healthy, 0x3);

	/* Mended: shotgun off. */
	ev.n = 0;
	net_cut(&n, 1, false);
	assert_true(run(&ts, &n, &now, now + 3 * HZ, TEAM_EV_SHOTGUN_OFF, &ev));
	assert_int_equal(ev.n, 1); /* no transient failure while the round comes in */
	team_state_compile(&ts, &t);
	assert_int_equal(t.shotgun, 0);

	/* One direction only: uplink 0 hears 1, 1 does not hear 0: 1 failed. */
	ev.n = 0;
	n.path[0][1] = false;
	assert_true(run(&ts, &n, &now, now + 10 * HZ, TEAM_EV_UPLINK_DOWN, &ev));
	assert_int_equal(ev.ev[0].uplink, 1);
	assert_false(team_state_shotgun(&ts));
	n.path[0][1] = true;

	/* One uplink with carrier: nothing to probe, it stays up. */
	ev.n = 0;
	assert_true(run(&ts, &n, &now, now + 3 * HZ, TEAM_EV_UPLINK_UP, &ev));
	team_state_link(&ts, 1, false, now, &ev);
	net_cut(&n, 0, true);
	ev.n = 0;
	assert_false(run(&ts, &n, &now, now + 20 * HZ, TEAM_EV_UPLINK_DOWN, &ev));
	assert_int_equal(ts.healthy, 0x1);
}

/* A tick between two beacons of one round judges nothing: no transient failure. */
static void
test_beacon_round_order(void **st)
{
	static const uint8_t act[] = {0, 1};
	struct team_state ts;
	struct team_events ev = {0};
	struct net n;
	uint64_t now = 1000;

	net_init(&n, 2);
	beacon_state(&ts, &n, act, 2, NULL, 0, 0x3, now);
	/* Four silent rounds: both isolated, shotgun. */
	for (int k = 0; k < 4; k++) {
		assert_true(team_state_beacon_due(&ts, now, &ev));
		now += HZ / 2;
		team_state_tick(&ts, now, &ev);
		now += HZ / 2;
	}
	assert_true(team_state_shotgun(&ts));
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.ev[0].type, TEAM_EV_SHOTGUN_ON);
	/* The path is back: 0 -> 1 arrives, a tick, then 1 -> 0. */
	ev.n = 0;
	assert_true(team_state_beacon_due(&ts, now, &ev));
	assert_int_equal(team_state_beacon_rx(&ts, 1, &n.mac[0], 0, now + 1, &ev), 0);
	team_state_tick(&ts, now + 100, &ev);
	assert_int_equal(team_state_beacon_rx(&ts, 0, &n.mac[1], 0, now + 150, &ev), 0);
	assert_int_equal(ev.n, 0);
	team_state_tick(&ts, now + 500, &ev);
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.ev[0].type, TEAM_EV_SHOTGUN_OFF);
	assert_int_equal(ts.healthy, 0x3);
	/* A beacon of a round already judged counts for nothing. */
	ev.n = 0;
	for (int k = 0; k < 3; k++) {
		now += HZ;
		assert_true(team_state_beacon_due(&ts, now, &ev));
		assert_int_equal(team_state_beacon_rx(&ts, 1, &n.mac[0], 0, now + 1, &ev), 0);
		team_state_tick(&ts, now + HZ / 2, &ev);
		assert_int_equal(team_state_beacon_rx(&ts, 0, &n.mac[1], 0, now + 700, &ev), 0);
	}
	assert_int_equal(ev.n, 2); /* uplink 0 heard nothing in time: down, failover */
	assert_int_equal(ev.ev[0].type, TEAM_EV_UPLINK_DOWN);
	assert_int_equal(ev.ev[0].uplink, 0);
	assert_int_equal(ev.ev[0].reason, TEAM_REASON_BEACON);
	assert_int_equal(ev.ev[1].type, TEAM_EV_FAILOVER);
	assert_int_equal(ev.ev[1].from, 0);
	assert_int_equal(ev.ev[1].to, TEAM_NONE);
}

static void
test_beacon_vlans(void **st)
{
	static const uint8_t act[] = {0, 1, 2};
	struct team_state ts;
	struct team_events ev = {0};
	struct net n;
	uint64_t now = 1000;

	net_init(&n, 3);
	n.n_vlans = 2;
	n.vlans[0] = 10;
	n.vlans[1] = 20;
	beacon_state(&ts, &n, act, 3, NULL, 0, 0x7, now);
	assert_false(run(&ts, &n, &now, now + 10 * HZ, TEAM_EV_UPLINK_DOWN, &ev));
	/* The physical port of uplink 2 does not carry VLAN 20. */
	n.vlan_broken[2][1] = true;
	assert_true(run(&ts, &n, &now, now + 10 * HZ, TEAM_EV_UPLINK_DOWN, &ev));
	assert_int_equal(ev.ev[0].uplink, 2);
	assert_int_equal(ev.ev[0].reason, TEAM_REASON_BEACON);
	assert_int_equal(ev.ev[1].type, TEAM_EV_FAILOVER);
	assert_int_equal(ev.ev[1].to, TEAM_NONE); /* no standby */

	/* Foreign and malformed input. */
	{
		struct rte_ether_addr other = {{0x02, 9, 9, 9, 9, 9}};

		assert_int_equal(team_state_beacon_rx(&ts, 0, &other, 10, now, NULL), -ENOENT);
		assert_int_equal(team_state_beacon_rx(&ts, 0, &n.mac[1], 30, now, NULL), -EINVAL);
		assert_int_equal(team_state_beacon_rx(&ts, 5, &n.mac[1], 10, now, NULL), -EINVAL);
		/* An uplink's own beacon coming back proves nothing. */
		assert_int_equal(team_state_beacon_rx(&ts, 2, &n.mac[2], 20, now, NULL), 0);
		assert_int_equal(ts.beacon.failed, 0x4);
	}
}

static void
test_beacon_due_and_init(void **st)
{
	static const uint8_t act[] = {0, 1};
	struct team_state ts;
	struct team_policy p = policy(TEAM_LB_PORT_ID, act, 2, NULL, 0, true);
	struct net n;
	uint64_t now = 5000;
	unsigned rounds = 0;

	/* Link status only: never due, no beacon input. */
	state(&ts, &p, 0x3);
	assert_false(team_state_beacon_due(&ts, now, NULL));
	net_init(&n, 2);
	assert_int_equal(team_state_beacon_rx(&ts, 0, &n.mac[1], 0, now, NULL), -EINVAL);

	beacon_state(&ts, &n, act, 2, NULL, 0, 0x3, now);
	/* Due at once, then once a second (10 s in 10 ms steps: 10 rounds). */
	for (uint64_t t = now; t < now + 10 * HZ; t += 10)
		rounds += team_state_beacon_due(&ts, t, NULL);
	assert_int_equal(rounds, 10);
	/* A late caller does not get a burst. */
	assert_true(team_state_beacon_due(&ts, now + 100 * HZ, NULL));
	assert_false(team_state_beacon_due(&ts, now + 100 * HZ + 1, NULL));

	/* MACs must tell the uplinks apart. */
	p.detect = TEAM_DETECT_BEACON;
	n.mac[1] = n.mac[0];
	assert_int_equal(team_state_init(&ts, &p, n.mac, n.vlans, 1, 0x3, HZ, now), -EINVAL);
	net_init(&n, 2);
	assert_int_equal(team_state_init(&ts, &p, n.mac, n.vlans, 0, 0x3, HZ, now), -EINVAL);
	assert_int_equal(team_state_init(&ts, &p, NULL, n.vlans, 1, 0x3, HZ, now), -EINVAL);
	assert_int_equal(team_state_init(&ts, &p, n.mac, n.vlans, 1, 0x3, 0, now), -EINVAL);
	n.vlans[0] = 4095;
	assert_int_equal(team_state_init(&ts, &p, n.mac, n.vlans, 1, 0x3, HZ, now), -EINVAL);
}

/* Events never overflow silently. */
static void
test_events_lost(void **st)
{
	static const uint8_t act[] = {0, 1, 2, 3, 4, 5, 6, 7};
	struct team_policy p = policy(TEAM_LB_PORT_ID, act, 8, NULL, 0, true);
	struct team_state ts;
	struct team_events ev = {0};

	state(&ts, &p, 0xff);
	for (unsigned round = 0; round < 3; round++)
		for (unsigned u = 0; u < 8; u++) {
			team_state_link(&ts, u, false, 2000, &ev);
			team_state_link(&ts, u, true, 2000, &ev);
		}
	assert_int_equal(ev.n, TEAM_EV_MAX);
	assert_int_equal(ev.n + ev.lost, 3 * 8 * 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_check),
		cmocka_unit_test(test_hash_ip_bytes),
		cmocka_unit_test(test_distribution),
		cmocka_unit_test(test_never_unused),
		cmocka_unit_test(test_explicit_order),
		cmocka_unit_test(test_failover_failback_lb),
		cmocka_unit_test(test_failover_spread),
		cmocka_unit_test(test_degenerate),
		cmocka_unit_test(test_rx_accept),
		cmocka_unit_test(test_beacon_frame),
		cmocka_unit_test(test_rarp_frame),
		cmocka_unit_test(test_beacon_three),
		cmocka_unit_test(test_beacon_two_shotgun),
		cmocka_unit_test(test_beacon_round_order),
		cmocka_unit_test(test_beacon_vlans),
		cmocka_unit_test(test_beacon_due_and_init),
		cmocka_unit_test(test_events_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
