/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for control/config.c: the configuration model, its validation,
 * the JSON codec and the state file. No DPDK; files go to a mkdtemp()
 * directory that each test removes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/config.h"

/* The example state file of the spec, verbatim. */
static const char *const EXAMPLE =
	"{\"vswitches\": [{\"name\": \"vSwitch0\", \"mtu\": 1500, \"uplinks\": [{\"name\": "
	"\"uplink0\", \"devargs\": \"net_af_packet0,iface=veth0\"}], \"portgroups\": [{\"name\": "
	"\"VM Network\", \"vlan\": 0}]}], \"ports\": [{\"name\": \"vm1.eth0\", \"vswitch\": "
	"\"vSwitch0\", \"portgroup\": \"VM Network\", \"type\": \"vhost-user\", \"socket\": "
	"\"/run/portico/vm1.eth0.sock\", \"mode\": \"server\", \"mac\": \"52:54:00:00:00:01\"}]}";

/*
 * Test documents are written with single quotes, turned into double quotes
 * by J(), so they stay readable.
 */
#define UPLINK0 "{'name': 'uplink0', 'devargs': 'net_af_packet0,iface=veth0'}"
#define PG0 "{'name': 'VM Network', 'vlan': 0}"
#define VS(name, uplinks, pgs) \
	"{'name': '" name "', 'uplinks': [" uplinks "], 'portgroups': [" pgs "]}"
#define VS0 VS("vSwitch0", UPLINK0, PG0)
#define PORT_FIELDS(name, sock, mac)                                             \
	"'name': '" name "', 'vswitch': 'vSwitch0', 'portgroup': 'VM Network', " \
	"'socket': '" sock "', 'mac': '" mac "'"
#define P1_FIELDS PORT_FIELDS("vm1.eth0", "/run/portico/vm1.eth0.sock", "52:54:00:00:00:01")
#define P1 "{" P1_FIELDS "}"
#define P1_WITH(extra) "{" P1_FIELDS ", " extra "}"
#define DOC(vss, ports) "{'vswitches': [" vss "], 'ports': [" ports "]}"

static json_t *
J(const char *text)
{
	json_error_t jerr;
	char *s, *p;
	json_t *j;

	s = strdup(text);
	assert_non_null(s);
	for (p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(s, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (j == NULL)
		fail_msg("test JSON does not parse (%s at %d:%d): %s", jerr.text, jerr.line,
			jerr.column, s);
	free(s);
	return j;
}

static struct ctl_config *
parse_ok(const char *text)
{
	struct ctl_config *cfg = NULL;
	char err[CTL_ERR_MAX] = "";
	json_t *doc = J(text);
	int rc;

	rc = ctl_config_from_json(doc, &cfg, err);
	json_decref(doc);
	if (rc != 0)
		fail_msg("from_json failed (%d): %s\n  doc: %s", rc, err, text);
	assert_non_null(cfg);
	return cfg;
}

static void
expect_err(const char *err, const char *want, bool exact)
{
	if (exact ? strcmp(err, want) != 0 : strstr(err, want) == NULL)
		fail_msg("error message\n  \"%s\"\n%s\n  \"%s\"", err,
			exact ? "is not" : "does not contain", want);
}

/* from_json must fail with -EINVAL, leave *out alone and explain itself. */
static void
parse_bad(const char *text, const char *want, bool exact)
{
	struct ctl_config *sentinel = (struct ctl_config *)&sentinel, *cfg = sentinel;
	char err[CTL_ERR_MAX] = "";
	json_t *doc = J(text);
	int rc;

	rc = ctl_config_from_json(doc, &cfg, err);
	json_decref(doc);
	if (rc != -EINVAL)
		fail_msg("from_json returned %d, not -EINVAL, for %s (err \"%s\")", rc, text, err);
	assert_ptr_equal(cfg, sentinel);
	expect_err(err, want, exact);
}

static void
assert_vlan_equal(const struct ctl_vlan *a, const struct ctl_vlan *b)
{
	unsigned i;

	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->vid, b->vid);
	assert_int_equal(a->n_ranges, b->n_ranges);
	for (i = 0; i < a->n_ranges; i++) {
		assert_int_equal(a->ranges[i].first, b->ranges[i].first);
		assert_int_equal(a->ranges[i].last, b->ranges[i].last);
	}
}

static void
assert_cfg_equal(const struct ctl_config *a, const struct ctl_config *b)
{
	const struct ctl_vswitch *va, *vb;
	const struct ctl_port *pa, *pb;
	unsigned i, j;

	assert_int_equal(a->n_vswitches, b->n_vswitches);
	for (i = 0; i < a->n_vswitches; i++) {
		va = &a->vswitches[i];
		vb = &b->vswitches[i];
		assert_string_equal(va->name, vb->name);
		assert_int_equal(va->mtu, vb->mtu);
		assert_int_equal(va->n_uplinks, vb->n_uplinks);
		for (j = 0; j < va->n_uplinks; j++) {
			assert_string_equal(va->uplinks[j].name, vb->uplinks[j].name);
			assert_string_equal(va->uplinks[j].devargs, vb->uplinks[j].devargs);
			assert_int_equal(va->uplinks[j].n_members, vb->uplinks[j].n_members);
			for (unsigned m = 0; m < va->uplinks[j].n_members; m++)
				assert_string_equal(
					va->uplinks[j].members[m], vb->uplinks[j].members[m]);
		}
		assert_int_equal(va->n_portgroups, vb->n_portgroups);
		for (j = 0; j < va->n_portgroups; j++) {
			assert_string_equal(va->portgroups[j].name, vb->portgroups[j].name);
			assert_vlan_equal(&va->portgroups[j].vlan, &vb->portgroups[j].vlan);
		}
	}
	assert_int_equal(a->n_ports, b->n_ports);
	for (i = 0; i < a->n_ports; i++) {
		pa = &a->ports[i];
		pb = &b->ports[i];
		assert_string_equal(pa->name, pb->name);
		assert_string_equal(pa->vswitch, pb->vswitch);
		assert_string_equal(pa->portgroup, pb->portgroup);
		assert_int_equal(pa->type, pb->type);
		assert_string_equal(pa->socket, pb->socket);
		assert_int_equal(pa->mode, pb->mode);
		assert_memory_equal(pa->mac, pb->mac, 6);
		assert_int_equal(pa->queues, pb->queues);
	}
}

/* to_json then from_json gives back an equal config. */
static void
assert_roundtrip(const struct ctl_config *cfg)
{
	struct ctl_config *back = NULL;
	char err[CTL_ERR_MAX] = "";
	json_t *doc;
	int rc;

	doc = ctl_config_to_json(cfg);
	assert_non_null(doc);
	rc = ctl_config_from_json(doc, &back, err);
	if (rc != 0)
		fail_msg("round trip failed: %s", err);
	assert_cfg_equal(cfg, back);
	ctl_config_free(back);
	json_decref(doc);
}

/*
 * Round trip and defaults.
 */

static void
test_example_roundtrip(void **state)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
	struct ctl_config *cfg, *again = NULL;
	char err[CTL_ERR_MAX] = "";
	json_error_t jerr;
	json_t *doc, *out;
	char *text;

	(void)state;
	doc = json_loads(EXAMPLE, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(doc);
	assert_int_equal(ctl_config_from_json(doc, &cfg, err), 0);
	json_decref(doc);

	assert_int_equal(cfg->n_vswitches, 1);
	assert_string_equal(cfg->vswitches[0].name, "vSwitch0");
	assert_int_equal(cfg->vswitches[0].mtu, 1500);
	assert_int_equal(cfg->vswitches[0].n_uplinks, 1);
	assert_string_equal(cfg->vswitches[0].uplinks[0].name, "uplink0");
	assert_string_equal(cfg->vswitches[0].uplinks[0].devargs, "net_af_packet0,iface=veth0");
	assert_int_equal(cfg->vswitches[0].n_portgroups, 1);
	assert_string_equal(cfg->vswitches[0].portgroups[0].name, "VM Network");
	assert_int_equal(cfg->vswitches[0].portgroups[0].vlan.mode, CTL_VLAN_NONE);
	assert_int_equal(cfg->n_ports, 1);
	assert_string_equal(cfg->ports[0].name, "vm1.eth0");
	assert_string_equal(cfg->ports[0].vswitch, "vSwitch0");
	assert_string_equal(cfg->ports[0].portgroup, "VM Network");
	assert_int_equal(cfg->ports[0].type, CTL_PORT_VHOST_USER);
	assert_string_equal(cfg->ports[0].socket, "/run/portico/vm1.eth0.sock");
	assert_int_equal(cfg->ports[0].mode, CTL_PORT_SERVER);
	assert_memory_equal(cfg->ports[0].mac, mac, 6);
	assert_int_equal(cfg->ports[0].queues, 1);

	/* to_json writes every field, defaults included, in a fixed order */
	out = ctl_config_to_json(cfg);
	assert_non_null(out);
	text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_non_null(text);
	assert_string_equal(text,
		"{\"vswitches\":[{\"name\":\"vSwitch0\",\"mtu\":1500,\"uplinks\":[{\"name\":"
		"\"uplink0\",\"devargs\":\"net_af_packet0,iface=veth0\"}],\"portgroups\":[{"
		"\"name\":\"VM Network\",\"vlan\":0}]}],\"ports\":[{\"name\":\"vm1.eth0\","
		"\"vswitch\":\"vSwitch0\",\"portgroup\":\"VM Network\",\"type\":\"vhost-user\","
		"\"socket\":\"/run/portico/vm1.eth0.sock\",\"mode\":\"server\",\"mac\":"
		"\"52:54:00:00:00:01\",\"queues\":1}]}");
	free(text);

	assert_int_equal(ctl_config_from_json(out, &again, err), 0);
	assert_cfg_equal(cfg, again);
	json_decref(out);
	ctl_config_free(again);
	ctl_config_free(cfg);
}

static void
test_defaults_and_empty(void **state)
{
	struct ctl_config *cfg;

	(void)state;
	cfg = parse_ok("{}");
	assert_int_equal(cfg->n_vswitches, 0);
	assert_int_equal(cfg->n_ports, 0);
	assert_roundtrip(cfg);
	ctl_config_free(cfg);

	cfg = parse_ok("{'vswitches': [], 'ports': []}");
	assert_int_equal(cfg->n_vswitches, 0);
	ctl_config_free(cfg);

	cfg = parse_ok("{'vswitches': [{'name': 'vs'}]}");
	assert_int_equal(cfg->vswitches[0].mtu, CTL_MTU_DEFAULT);
	assert_int_equal(cfg->vswitches[0].n_uplinks, 0);
	assert_null(cfg->vswitches[0].uplinks);
	assert_int_equal(cfg->vswitches[0].n_portgroups, 0);
	assert_roundtrip(cfg);
	ctl_config_free(cfg);

	cfg = parse_ok(DOC(VS0, P1));
	assert_int_equal(cfg->ports[0].mode, CTL_PORT_CLIENT);
	assert_int_equal(cfg->ports[0].queues, 1);
	assert_int_equal(cfg->ports[0].type, CTL_PORT_VHOST_USER);
	ctl_config_free(cfg);

	/* every optional field given, at its bounds */
	cfg = parse_ok(DOC("{'name': 'a', 'mtu': 68}, {'name': 'b', 'mtu': 9000, 'portgroups': "
			   "[{'name': 'VM Network', 'vlan': 4095}]}",
		"{'name': 'p', 'vswitch': 'b', 'portgroup': 'VM Network', 'socket': '/p', "
		"'mac': '02:00:00:00:00:01', 'mode': 'client', 'queues': 8, 'type': "
		"'vhost-user'}"));
	assert_int_equal(cfg->vswitches[0].mtu, 68);
	assert_int_equal(cfg->vswitches[1].mtu, 9000);
	assert_int_equal(cfg->vswitches[1].portgroups[0].vlan.mode, CTL_VLAN_VGT);
	assert_int_equal(cfg->ports[0].queues, 8);
	assert_int_equal(cfg->ports[0].mode, CTL_PORT_CLIENT);
	assert_roundtrip(cfg);
	ctl_config_free(cfg);
}

/*
 * VLAN.
 */

static void
test_vlan_from_json_valid(void **state)
{
	static const struct {
		const char *json;
		enum ctl_vlan_mode mode;
		uint16_t vid;
		uint16_t n_ranges;
		uint16_t first0, last_last; /* first of range 0, last of the last range */
	} cases[] = {
		{"0", CTL_VLAN_NONE, 0, 0, 0, 0},
		{"1", CTL_VLAN_VST, 1, 0, 0, 0},
		{"100", CTL_VLAN_VST, 100, 0, 0, 0},
		{"4094", CTL_VLAN_VST, 4094, 0, 0, 0},
		{"4095", CTL_VLAN_VGT, 0, 0, 0, 0},
		{"[[0,0]]", CTL_VLAN_TRUNK, 0, 1, 0, 0},
		{"[[0,4094]]", CTL_VLAN_TRUNK, 0, 1, 0, 4094},
		{"[[100,200],[300,300]]", CTL_VLAN_TRUNK, 0, 2, 100, 300},
		{"[[100,200],[150,250],[100,200]]", CTL_VLAN_TRUNK, 0, 3, 100, 200},
	};
	char err[CTL_ERR_MAX];
	struct ctl_vlan vlan;
	json_t *in, *out;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = J(cases[i].json);
		memset(&vlan, 0xa5, sizeof(vlan));
		if (ctl_vlan_from_json(in, &vlan, err) != 0)
			fail_msg("vlan %s: %s", cases[i].json, err);
		assert_int_equal(vlan.mode, cases[i].mode);
		assert_int_equal(vlan.vid, cases[i].vid);
		assert_int_equal(vlan.n_ranges, cases[i].n_ranges);
		if (vlan.n_ranges > 0) {
			assert_int_equal(vlan.ranges[0].first, cases[i].first0);
			assert_int_equal(vlan.ranges[vlan.n_ranges - 1].last, cases[i].last_last);
		}
		/* emitted back in the same form */
		out = ctl_vlan_to_json(&vlan);
		assert_non_null(out);
		if (!json_equal(in, out))
			fail_msg("vlan %s does not come back the same", cases[i].json);
		json_decref(out);
		json_decref(in);
	}
}

static void
test_vlan_from_json_invalid(void **state)
{
	static const struct {
		const char *json;
		const char *want;
	} cases[] = {
		{"-1", "vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"4096", "vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"65536",
			"vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"'10'", "vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"10.0", "vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"null", "vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"true", "vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"{}", "vlan: a private VLAN is {\"pvlan\": 1..4094}"},
		{"{\"pvlan\": 0}", "vlan: a private VLAN is {\"pvlan\": 1..4094}"},
		{"{\"pvlan\": 5, \"x\": 1}", "vlan: a private VLAN is {\"pvlan\": 1..4094}"},
		{"[]", "vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"[1,2,3]",
			"vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"[10,20]",
			"vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"[[1]]",
			"vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"[[1,2,3]]",
			"vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"[[1,'2']]",
			"vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"[[1,2],5]",
			"vlan: must be 0..4095, a list of [first, last] ranges or {\"pvlan\": N}"},
		{"[[5,3]]", "vlan: range [5, 3] has first > last"},
		{"[[0,4095]]", "vlan: trunk VLAN IDs must be 0..4094"},
		{"[[-1,3]]", "vlan: trunk VLAN IDs must be 0..4094"},
		{"[[1,2],[4095,4095]]", "vlan: trunk VLAN IDs must be 0..4094"},
	};
	struct ctl_vlan vlan, before;
	char err[CTL_ERR_MAX];
	json_t *in, *pair;
	unsigned i;

	(void)state;
	memset(&before, 0x5a, sizeof(before));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = J(cases[i].json);
		vlan = before;
		err[0] = '\0';
		if (ctl_vlan_from_json(in, &vlan, err) != -EINVAL)
			fail_msg("vlan %s was accepted", cases[i].json);
		expect_err(err, cases[i].want, true);
		assert_memory_equal(&vlan, &before, sizeof(vlan));
		json_decref(in);
	}

	/* 64 ranges is the most */
	in = json_array();
	for (i = 0; i < CTL_MAX_VLAN_RANGES; i++) {
		pair = json_pack("[ii]", (int)i * 10, (int)i * 10 + 5);
		assert_int_equal(json_array_append_new(in, pair), 0);
	}
	assert_int_equal(ctl_vlan_from_json(in, &vlan, err), 0);
	assert_int_equal(vlan.n_ranges, CTL_MAX_VLAN_RANGES);
	assert_int_equal(vlan.ranges[63].last, 635);
	assert_int_equal(json_array_append_new(in, json_pack("[ii]", 1000, 1001)), 0);
	vlan = before;
	assert_int_equal(ctl_vlan_from_json(in, &vlan, err), -EINVAL);
	expect_err(err, "at most 64", false);
	assert_memory_equal(&vlan, &before, sizeof(vlan));
	json_decref(in);

	/* in context the port group is named */
	parse_bad(DOC(VS("vSwitch0", "", "{'name': 'PG', 'vlan': 5000}"), ""),
		"vSwitch \"vSwitch0\": port group \"PG\": vlan: must be 0..4095, a list of "
		"[first, last] ranges or {\"pvlan\": N}",
		true);
	parse_bad(DOC(VS("vSwitch0", "", "{'name': 'PG', 'vlan': [[1,2,3]]}"), ""),
		"port group \"PG\": vlan: must be", false);
}

/* Reference: the ranges of a trunk, checked the slow way. */
static bool
in_ranges(const struct ctl_vlan *v, unsigned vid)
{
	unsigned i;

	for (i = 0; i < v->n_ranges; i++)
		if (vid >= v->ranges[i].first && vid <= v->ranges[i].last)
			return true;
	return false;
}

static void
test_vlan_carries(void **state)
{
	struct ctl_vlan none = {.mode = CTL_VLAN_NONE};
	struct ctl_vlan vst = {.mode = CTL_VLAN_VST, .vid = 100};
	struct ctl_vlan vgt = {.mode = CTL_VLAN_VGT};
	struct ctl_vlan trunk = {
		.mode = CTL_VLAN_TRUNK, .n_ranges = 3, .ranges = {{0, 0}, {100, 200}, {150, 300}}};
	struct ctl_vlan high = {.mode = CTL_VLAN_TRUNK, .n_ranges = 1, .ranges = {{4094, 4094}}};
	unsigned vid, n_trunk = 0;

	(void)state;
	for (vid = 0; vid <= 4094; vid++) {
		assert_int_equal(ctl_vlan_carries(&none, vid), vid == 0);
		assert_int_equal(ctl_vlan_carries(&vst, vid), vid == 100);
		assert_true(ctl_vlan_carries(&vgt, vid));
		assert_int_equal(ctl_vlan_carries(&trunk, vid), in_ranges(&trunk, vid));
		assert_int_equal(ctl_vlan_carries(&high, vid), vid == 4094);
		n_trunk += ctl_vlan_carries(&trunk, vid);
	}
	assert_int_equal(n_trunk, 1 + 201); /* 0, and 100..300 */
	assert_true(ctl_vlan_carries(&trunk, 0));
	assert_false(ctl_vlan_carries(&trunk, 1));
	assert_false(ctl_vlan_carries(&trunk, 99));
	assert_true(ctl_vlan_carries(&trunk, 100));
	assert_true(ctl_vlan_carries(&trunk, 300));
	assert_false(ctl_vlan_carries(&trunk, 301));
	/* 4095 is not a VLAN a frame can carry */
	assert_false(ctl_vlan_carries(&vgt, 4095));
	assert_false(ctl_vlan_carries(&none, 4095));
}

/*
 * MAC.
 */

static void
test_mac(void **state)
{
	static const char *const bad[] = {
		"",
		"52:54:00:00:00",
		"52:54:00:00:00:01:02",
		"52:54:00:00:00:01:",
		"52-54-00-00-00-01",
		"5254.0000.0001",
		"525400000001",
		"52:54:00:00:00:0g",
		"52:54:00:00:00:1",
		"52:54:00:00:0:001",
		" 52:54:00:00:00:01",
		"52:54:00:00:00:01 ",
		"52:54:00:00:00 01",
		"0x:54:00:00:00:01",
		"-2:54:00:00:00:01",
	};
	uint8_t mac[6], want[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
	char buf[18];
	unsigned i;

	(void)state;
	assert_int_equal(ctl_mac_parse("52:54:00:AB:cd:Ef", mac), 0);
	assert_memory_equal(mac, want, 6);
	ctl_mac_format(mac, buf);
	assert_string_equal(buf, "52:54:00:ab:cd:ef");
	assert_int_equal(ctl_mac_parse("ff:ff:ff:ff:ff:ff", mac), 0);
	ctl_mac_format(mac, buf);
	assert_string_equal(buf, "ff:ff:ff:ff:ff:ff");
	assert_int_equal(ctl_mac_parse("00:00:00:00:00:00", mac), 0); /* parse is only syntax */

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(mac, want, 6);
		if (ctl_mac_parse(bad[i], mac) != -EINVAL)
			fail_msg("MAC \"%s\" was accepted", bad[i]);
		assert_memory_equal(mac, want, 6);
	}
	assert_int_equal(ctl_mac_parse(NULL, mac), -EINVAL);
}

/*
 * from_json errors: codec and validation, as a user sees them.
 */

#define N63 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc"
#define P100                                                                                       \
	"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaa"

static void
test_from_json_errors(void **state)
{
	static const struct {
		const char *doc;
		const char *want;
		bool exact;
	} cases[] = {
		/* top level */
		{"[]", "config: must be a JSON object", true},
		{"{'vswitches': [], 'foo': 1}", "unknown field \"foo\" in config", true},
		{"{'vswitches': {}}", "field \"vswitches\" must be an array", false},
		{"{'ports': 1}", "field \"ports\" must be an array", false},
		{"{'vswitches': [1]}", "vSwitch: must be a JSON object", true},
		{"{'ports': ['p']}", "port: must be a JSON object", true},
		/* vSwitch */
		{"{'vswitches': [{'mtu': 1500}]}", "vSwitch: field \"name\" is required", true},
		{"{'vswitches': [{'name': 5}]}", "vSwitch: field \"name\" must be a string", true},
		{"{'vswitches': [{'name': ''}]}", "a name must be 1..63 characters", false},
		{"{'vswitches': [{'name': '" N63 "x'}]}", "a name must be 1..63 characters", false},
		{"{'vswitches': [{'name': 'a/b'}]}",
			"vSwitch \"a/b\": invalid name: a name must be printable ASCII without '/'",
			true},
		{"{'vswitches': [{'name': 'v 0'}]}", "must not contain spaces", false},
		{"{'vswitches': [{'name': 'v\\n0'}]}", "vSwitch \"v\\x0a0\": invalid name", false},
		{"{'vswitches': [{'name': 'v\\u00e90'}]}", "printable ASCII", false},
		{"{'vswitches': [{'name': 'vSwitch0', 'mtus': 1500}]}",
			"unknown field \"mtus\" in vSwitch \"vSwitch0\"", true},
		{"{'vswitches': [{'name': 'vSwitch0', 'mtu': '1500'}]}",
			"vSwitch \"vSwitch0\": field \"mtu\" must be an integer 68..9000", true},
		{"{'vswitches': [{'name': 'vs', 'mtu': 1500.0}]}", "must be an integer 68..9000",
			false},
		{"{'vswitches': [{'name': 'vs', 'mtu': 67}]}", "must be an integer 68..9000",
			false},
		{"{'vswitches': [{'name': 'vs', 'mtu': 9001}]}", "must be an integer 68..9000",
			false},
		{"{'vswitches': [{'name': 'vs', 'mtu': -1500}]}", "must be an integer 68..9000",
			false},
		{"{'vswitches': [{'name': 'vs', 'mtu': null}]}", "must be an integer 68..9000",
			false},
		{"{'vswitches': [{'name': 'vs', 'uplinks': {}}]}",
			"vSwitch \"vs\": field \"uplinks\" must be an array", true},
		{"{'vswitches': [{'name': 'vs', 'portgroups': 'x'}]}",
			"vSwitch \"vs\": field \"portgroups\" must be an array", true},
		/* uplink */
		{DOC(VS("vSwitch0", "{'name': 'uplink0'}", ""), ""),
			"vSwitch \"vSwitch0\": uplink \"uplink0\": field \"devargs\" is required",
			true},
		{DOC(VS("vSwitch0", "{'name': 'u', 'devargs': 5}", ""), ""),
			"uplink \"u\": field \"devargs\" must be a string", false},
		{DOC(VS("vSwitch0", "{'name': 'u', 'devargs': ''}", ""), ""), "1..255 characters",
			false},
		{DOC(VS("vSwitch0", "{'name': 'u', 'devargs': ',iface=x'}", ""), ""),
			"must start with a device name", false},
		{DOC(VS("vSwitch0", "{'name': 'u', 'devargs': 'net_tap0, iface=x'}", ""), ""),
			"without spaces", false},
		{DOC(VS("vSwitch0", "{'name': 'u', 'devargs': 'net_tap0', 'iface': 'x'}", ""), ""),
			"unknown field \"iface\" in uplink \"u\"", false},
		{DOC(VS("vSwitch0", "{'name': 'up/0', 'devargs': 'net_tap0'}", ""), ""),
			"uplink \"up/0\": invalid name", false},
		{DOC(VS("vSwitch0", "{'devargs': 'net_tap0'}", ""), ""),
			"uplink: field \"name\" is required", false},
		{DOC(VS("vSwitch0", "7", ""), ""), "uplink: must be a JSON object", false},
		/* port group */
		{DOC(VS("vSwitch0", "", "{'name': 'VM Network', 'vlans': 1}"), ""),
			"unknown field \"vlans\" in port group \"VM Network\"", false},
		{DOC(VS("vSwitch0", "", "{'name': ' VM'}"), ""),
			"a name must not start or end with a space", false},
		{DOC(VS("vSwitch0", "", "{'name': 'VM '}"), ""),
			"a name must not start or end with a space", false},
		{DOC(VS("vSwitch0", "", "{'name': 'VM\\tNet'}"), ""), "printable ASCII", false},
		{DOC(VS("vSwitch0", "", "{'name': 'VM/Net'}"), ""), "without '/'", false},
		{DOC(VS("vSwitch0", "", "{'name': 'PG', 'vlan': -1}"), ""), "vlan: must be", false},
		{DOC(VS("vSwitch0", "", "{'name': 'PG', 'vlan': 4096}"), ""), "vlan: must be",
			false},
		{DOC(VS("vSwitch0", "", "{'name': 'PG', 'vlan': '10'}"), ""), "vlan: must be",
			false},
		{DOC(VS("vSwitch0", "", "{'name': 'PG', 'vlan': []}"), ""), "vlan: must be", false},
		{DOC(VS("vSwitch0", "", "{'name': 'PG', 'vlan': [1,2,3]}"), ""), "vlan: must be",
			false},
		{DOC(VS("vSwitch0", "", "{'name': 'PG', 'vlan': [[9,8]]}"), ""), "first > last",
			false},
		/* port: codec */
		{DOC(VS0, P1_WITH("'foo': 1")), "unknown field \"foo\" in port \"vm1.eth0\"", true},
		{DOC(VS0, P1_WITH("'queues': 0")),
			"port \"vm1.eth0\": field \"queues\" must be an integer 1..8", true},
		{DOC(VS0, P1_WITH("'queues': 9")),
			"port \"vm1.eth0\": field \"queues\" must be an integer 1..8", true},
		{DOC(VS0, P1_WITH("'queues': '2'")),
			"port \"vm1.eth0\": field \"queues\" must be an integer 1..8", true},
		{DOC(VS0, P1_WITH("'queues': 2.0")),
			"port \"vm1.eth0\": field \"queues\" must be an integer 1..8", true},
		{DOC(VS0, P1_WITH("'mode': 'bridge'")),
			"port \"vm1.eth0\": field \"mode\" must be \"client\" or \"server\"", true},
		{DOC(VS0, P1_WITH("'mode': 1")), "must be \"client\" or \"server\"", false},
		{DOC(VS0, P1_WITH("'type': 'tap'")),
			"port \"vm1.eth0\": field \"type\" must be \"vhost-user\"", true},
		{DOC(VS0, "{" PORT_FIELDS("p", "run/p.sock", "52:54:00:00:00:01") "}"),
			"port \"p\": field \"socket\" \"run/p.sock\" must be an absolute path",
			true},
		{DOC(VS0, "{" PORT_FIELDS("p", "", "52:54:00:00:00:01") "}"),
			"must be an absolute path", false},
		{DOC(VS0, "{" PORT_FIELDS("p", P100 "12345678", "52:54:00:00:00:01") "}"),
			"must be shorter than 108 bytes", false},
		{DOC(VS0, "{" PORT_FIELDS("p", "/x", "52:54:00:00:00") "}"),
			"port \"p\": field \"mac\" must be a MAC address like "
			"\"52:54:00:00:00:01\"",
			true},
		{DOC(VS0, "{" PORT_FIELDS("p", "/x", "01:00:5e:00:00:01") "}"),
			"port \"p\": field \"mac\" 01:00:5e:00:00:01 is a multicast MAC", true},
		{DOC(VS0, "{" PORT_FIELDS("p", "/x", "FF:FF:FF:FF:FF:FF") "}"),
			"is a multicast MAC", false},
		{DOC(VS0, "{" PORT_FIELDS("p", "/x", "00:00:00:00:00:00") "}"),
			"is the all-zero MAC", false},
		{DOC(VS0, "{" PORT_FIELDS("vm1 eth0", "/x", "52:54:00:00:00:01") "}"),
			"port \"vm1 eth0\": invalid name: a name must not contain spaces", true},
		{DOC(VS0,
			 "{'name': 'p', 'portgroup': 'VM Network', 'socket': '/x', 'mac': "
			 "'52:54:00:00:00:01'}"),
			"port \"p\": field \"vswitch\" is required", true},
		{DOC(VS0,
			 "{'name': 'p', 'vswitch': 'vSwitch0', 'socket': '/x', 'mac': "
			 "'52:54:00:00:00:01'}"),
			"port \"p\": field \"portgroup\" is required", true},
		{DOC(VS0,
			 "{'name': 'p', 'vswitch': 'vSwitch0', 'portgroup': 'VM Network', 'mac': "
			 "'52:54:00:00:00:01'}"),
			"port \"p\": field \"socket\" is required", true},
		{DOC(VS0,
			 "{'name': 'p', 'vswitch': 'vSwitch0', 'portgroup': 'VM Network', "
			 "'socket': '/x'}"),
			"port \"p\": field \"mac\" is required", true},
		{DOC(VS0,
			 "{'name': 'p', 'vswitch': 5, 'portgroup': 'VM Network', 'socket': '/x', "
			 "'mac': '52:54:00:00:00:01'}"),
			"port \"p\": field \"vswitch\" must be a string", true},
		{DOC(VS0,
			 "{'name': 'p', 'vswitch': 'vSwitch0', 'portgroup': ' PG', "
			 "'socket': '/x', 'mac': '52:54:00:00:00:01'}"),
			"field \"portgroup\" \" PG\" is not valid", false},
		/* port: references (validation) */
		{DOC(VS0,
			 "{'name': 'vm1.eth0', 'vswitch': 'nope', 'portgroup': 'VM Network', "
			 "'socket': '/x', 'mac': '52:54:00:00:00:01'}"),
			"port \"vm1.eth0\": vSwitch \"nope\" does not exist", true},
		{DOC(VS0,
			 "{'name': 'vm1.eth0', 'vswitch': 'vSwitch0', 'portgroup': 'Foo', "
			 "'socket': '/x', 'mac': '52:54:00:00:00:01'}"),
			"port \"vm1.eth0\": port group \"Foo\" does not exist on vSwitch "
			"\"vSwitch0\"",
			true},
		{DOC(VS0 ", " VS("vSwitch1", "", "{'name': 'Other'}"),
			 "{'name': 'vm1.eth0', 'vswitch': 'vSwitch0', 'portgroup': 'Other', "
			 "'socket': '/x', 'mac': '52:54:00:00:00:01'}"),
			"port group \"Other\" does not exist on vSwitch \"vSwitch0\"", false},
		/* duplicates */
		{DOC(VS0 ", " VS("vSwitch0", "", ""), ""), "duplicate vSwitch \"vSwitch0\"", true},
		{DOC(VS("vSwitch0", "", PG0 ", " PG0), ""),
			"duplicate port group \"VM Network\" on vSwitch \"vSwitch0\"", true},
		{DOC(VS("vSwitch0", UPLINK0 ", {'name': 'uplink0', 'devargs': 'net_tap0'}", ""),
			 ""),
			"duplicate uplink \"uplink0\"", false},
		{DOC(VS0 ", " VS("vSwitch1", "{'name': 'uplink0', 'devargs': 'net_tap0'}", ""), ""),
			"duplicate uplink \"uplink0\"", false},
		{DOC(VS("vSwitch0",
			     UPLINK0
			     ", {'name': 'uplink1', 'devargs': 'net_af_packet0,iface=veth1'}",
			     ""),
			 ""),
			"uplink device \"net_af_packet0\" is used twice (uplinks \"uplink0\" and "
			"\"uplink1\")",
			true},
		{DOC(VS0 ", " VS(
			     "vSwitch1", "{'name': 'uplink1', 'devargs': 'net_af_packet0'}", ""),
			 ""),
			"uplink device \"net_af_packet0\" is used twice", false},
		/* bonds and their members */
		{DOC(VS("vSwitch0", "{'name': 'b', 'devargs': 'net_bonding0,mode=4'}", ""), ""),
			"uplink \"b\": a net_bonding uplink needs members", false},
		{DOC(VS("vSwitch0", "{'name': 'b', 'devargs': 'net_tap0', 'members': ['net_tap1']}",
			     ""),
			 ""),
			"uplink \"b\": members are for net_bonding devargs only", false},
		{DOC(VS("vSwitch0",
			     "{'name': 'b', 'devargs': 'net_bonding0,slave=net_tap0', "
			     "'members': ['net_tap1']}",
			     ""),
			 ""),
			"give the bond's devices as members, not slave=", false},
		{DOC(VS("vSwitch0", "{'name': 'b', 'devargs': 'net_bonding0', 'members': []}", ""),
			 ""),
			"field \"members\" must list 1..8 devices", false},
		{DOC(VS("vSwitch0",
			     "{'name': 'b', 'devargs': 'net_bonding0', 'members': "
			     "['a','b','c','d','e','f','g','h','i']}",
			     ""),
			 ""),
			"field \"members\" must list 1..8 devices", false},
		{DOC(VS("vSwitch0",
			     "{'name': 'b', 'devargs': 'net_bonding0', 'members': 'net_tap0'}", ""),
			 ""),
			"field \"members\" must be an array of devargs strings", false},
		{DOC(VS("vSwitch0", "{'name': 'b', 'devargs': 'net_bonding0', 'members': [7]}", ""),
			 ""),
			"field \"members\" must be an array of devargs strings", false},
		{DOC(VS("vSwitch0", "{'name': 'b', 'devargs': 'net_bonding0', 'members': [',x']}",
			     ""),
			 ""),
			"must start with a device name", false},
		{DOC(VS("vSwitch0",
			     "{'name': 'b', 'devargs': 'net_bonding0', 'members': ['net_tap0 x']}",
			     ""),
			 ""),
			"must be printable ASCII without spaces", false},
		{DOC(VS("vSwitch0",
			     UPLINK0 ", {'name': 'b', 'devargs': 'net_bonding0', "
				     "'members': ['net_tap0', 'net_af_packet0,iface=veth9']}",
			     ""),
			 ""),
			"uplink device \"net_af_packet0\" is used twice (uplinks \"uplink0\" and "
			"\"b\")",
			true},
		{DOC(VS("vSwitch0",
			     "{'name': 'b', 'devargs': 'net_bonding0', "
			     "'members': ['net_tap0', 'net_tap0,iface=x']}",
			     ""),
			 ""),
			"uplink device \"net_tap0\" is used twice (uplinks \"b\" and \"b\")", true},
		{DOC(VS("vSwitch0",
			     "{'name': 'b', 'devargs': 'net_bonding0', 'members': "
			     "['net_bonding0']}",
			     ""),
			 ""),
			"uplink device \"net_bonding0\" is used twice", false},
		{DOC(VS0,
			 "{" PORT_FIELDS("a", "/a", "52:54:00:00:00:01") "}, {" PORT_FIELDS(
				 "a", "/b", "52:54:00:00:00:02") "}"),
			"duplicate port \"a\"", true},
		{DOC(VS0,
			 "{" PORT_FIELDS("a", "/s", "52:54:00:00:00:01") "}, {" PORT_FIELDS(
				 "b", "/s", "52:54:00:00:00:02") "}"),
			"socket \"/s\" is used twice (ports \"a\" and \"b\")", true},
		{DOC(VS0,
			 "{" PORT_FIELDS("a", "/a", "52:54:00:00:00:01") "}, {" PORT_FIELDS(
				 "b", "/b", "52:54:00:00:00:01") "}"),
			"duplicate MAC 52:54:00:00:00:01 on vSwitch \"vSwitch0\" (ports \"a\" and "
			"\"b\")",
			true},
		{DOC(VS0,
			 "{" PORT_FIELDS("a", "/a", "52:54:00:00:00:0a") "}, {" PORT_FIELDS(
				 "b", "/b", "52:54:00:00:00:0A") "}"),
			"duplicate MAC 52:54:00:00:00:0a", false},
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_bad(cases[i].doc, cases[i].want, cases[i].exact);
}

/* What is allowed: the other side of the checks above. */
static void
test_from_json_accepts(void **state)
{
	struct ctl_config *cfg;

	(void)state;
	/* the same MAC, port group name and socket directory on two vSwitches */
	cfg = parse_ok(DOC(VS0
		", " VS("vSwitch1", "{'name': 'uplink1', 'devargs': 'net_af_packet01'}", PG0),
		"{" PORT_FIELDS("a", "/run/a",
			"52:54:00:00:00:01") "}, "
					     "{'name': 'b', 'vswitch': 'vSwitch1', 'portgroup': "
					     "'VM Network', 'socket': "
					     "'/run/b', 'mac': '52:54:00:00:00:01'}"));
	assert_int_equal(cfg->n_vswitches, 2);
	assert_int_equal(cfg->n_ports, 2);
	ctl_config_free(cfg);

	/* names: 63 characters, printable punctuation, inner spaces in port groups */
	cfg = parse_ok(DOC(VS(N63, "{'name': 'up-0_x.y', 'devargs': 'net_tap0,iface=t0'}",
				   "{'name': 'VM Network (prod) #1', 'vlan': [[0,0],[10,20]]}"),
		""));
	assert_int_equal(strlen(cfg->vswitches[0].name), 63);
	assert_string_equal(cfg->vswitches[0].portgroups[0].name, "VM Network (prod) #1");
	assert_int_equal(cfg->vswitches[0].portgroups[0].vlan.mode, CTL_VLAN_TRUNK);
	assert_roundtrip(cfg);
	ctl_config_free(cfg);

	/* a bond with its members, kept in order through a round trip */
	cfg = parse_ok(DOC(VS("vSwitch0",
				   "{'name': 'lag0', 'devargs': 'net_bonding0,mode=4', 'members': "
				   "['net_af_packet0,iface=eth1', 'net_af_packet1,iface=eth2']}",
				   PG0),
		""));
	assert_int_equal(cfg->vswitches[0].uplinks[0].n_members, 2);
	assert_string_equal(cfg->vswitches[0].uplinks[0].members[1], "net_af_packet1,iface=eth2");
	assert_true(ctl_devargs_is_bond(cfg->vswitches[0].uplinks[0].devargs));
	assert_roundtrip(cfg);
	ctl_config_free(cfg);

	/* a 107-byte socket path is the longest */
	cfg = parse_ok(DOC(VS0, "{" PORT_FIELDS("p", P100 "1234567", "02:00:00:00:00:01") "}"));
	assert_int_equal(strlen(cfg->ports[0].socket), 107);
	assert_roundtrip(cfg);
	ctl_config_free(cfg);
}

/* Keys and strings with NUL bytes in them (possible in jansson, not in C). */
static void
test_embedded_nul(void **state)
{
	struct ctl_config *cfg = NULL;
	char err[CTL_ERR_MAX];
	struct ctl_port port;
	json_t *doc, *obj;

	(void)state;
	doc = J(DOC(VS0, P1));
	obj = json_array_get(json_object_get(doc, "vswitches"), 0);
	assert_int_equal(json_object_set_new(obj, "name", json_stringn("vSwitch0\0x", 10)), 0);
	assert_int_equal(ctl_config_from_json(doc, &cfg, err), -EINVAL);
	expect_err(err, "vSwitch \"vSwitch0\\x00x\": invalid name", false);
	assert_null(cfg);
	json_decref(doc);

	doc = J(P1);
	assert_int_equal(json_object_setn_new(doc, "mode\0x", 6, json_string("server")), 0);
	assert_int_equal(ctl_port_from_json(doc, NULL, &port, err), -EINVAL);
	expect_err(err, "unknown field \"mode\\x00x\" in port \"vm1.eth0\"", true);
	json_decref(doc);

	doc = J(P1);
	assert_int_equal(
		json_object_set_new(doc, "mac", json_stringn("52:54:00:00:00:01\0", 18)), 0);
	assert_int_equal(ctl_port_from_json(doc, NULL, &port, err), -EINVAL);
	expect_err(err, "field \"mac\" must be a MAC address", false);
	json_decref(doc);
}

/*
 * ctl_config_validate() on structs edited directly.
 */

static void
mutate(struct ctl_config *c, int i)
{
	struct ctl_portgroup *pg = &c->vswitches[0].portgroups[0];
	struct ctl_port *p = &c->ports[0];
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

	switch (i) {
	case 0:
		c->vswitches[0].name[0] = '\0';
		break;
	case 1:
		strcpy(c->vswitches[0].name, "a/b");
		break;
	case 2:
		memset(c->vswitches[0].name, 'a', CTL_NAME_MAX); /* no NUL */
		break;
	case 3:
		c->vswitches[0].mtu = 67;
		break;
	case 4:
		c->vswitches[0].mtu = 9001;
		break;
	case 5:
		pg->vlan.mode = CTL_VLAN_VST;
		pg->vlan.vid = 0;
		break;
	case 6:
		pg->vlan.mode = CTL_VLAN_VST;
		pg->vlan.vid = 4095;
		break;
	case 7:
		pg->vlan.mode = CTL_VLAN_TRUNK;
		pg->vlan.n_ranges = 0;
		break;
	case 8:
		pg->vlan.mode = CTL_VLAN_TRUNK;
		pg->vlan.n_ranges = 1;
		pg->vlan.ranges[0].first = 20;
		pg->vlan.ranges[0].last = 10;
		break;
	case 9:
		pg->vlan.mode = CTL_VLAN_TRUNK;
		pg->vlan.n_ranges = 1;
		pg->vlan.ranges[0].first = 0;
		pg->vlan.ranges[0].last = 4095;
		break;
	case 10:
		pg->vlan.mode = (enum ctl_vlan_mode)7;
		break;
	case 11:
		strcpy(p->socket, "relative.sock");
		break;
	case 12:
		memcpy(p->mac, mcast, 6);
		break;
	case 13:
		memset(p->mac, 0, 6);
		break;
	case 14:
		p->queues = 0;
		break;
	case 15:
		p->queues = CTL_MAX_QUEUES + 1;
		break;
	case 16:
		p->mode = (enum ctl_port_mode)5;
		break;
	case 17:
		p->type = (enum ctl_port_type)3;
		break;
	case 18:
		strcpy(p->portgroup, "Foo");
		break;
	case 19:
		strcpy(p->vswitch, "vSwitch9");
		break;
	case 20:
		c->vswitches[0].uplinks[0].devargs[0] = '\0';
		break;
	case 21:
		strcpy(c->vswitches[0].uplinks[0].name, "up link");
		break;
	case 22:
		strcpy(pg->name, "VM Network ");
		break;
	case 23:
		memset(p->socket, 'a', CTL_PATH_MAX);
		p->socket[0] = '/';
		break;
	case 24:
		strcpy(p->name, "");
		break;
	}
}

static void
test_validate_structs(void **state)
{
	static const char *const want[] = {
		"vSwitch \"\": invalid name: a name must be 1..63 characters",
		"vSwitch \"a/b\": invalid name",
		"a name must be 1..63 characters",
		"vSwitch \"vSwitch0\": mtu 67 is out of range 68..9000",
		"vSwitch \"vSwitch0\": mtu 9001 is out of range 68..9000",
		"vSwitch \"vSwitch0\": port group \"VM Network\": vlan: VST VLAN ID must be "
		"1..4094",
		"VST VLAN ID must be 1..4094",
		"a trunk must have 1..64 ranges",
		"a trunk range must have first <= last",
		"trunk VLAN IDs must be 0..4094",
		"unknown VLAN mode",
		"port \"vm1.eth0\": socket \"relative.sock\" must be an absolute path",
		"port \"vm1.eth0\": mac 01:00:5e:00:00:01 is a multicast MAC",
		"port \"vm1.eth0\": mac 00:00:00:00:00:00 is the all-zero MAC",
		"port \"vm1.eth0\": queues 0 is out of range 1..8",
		"port \"vm1.eth0\": queues 9 is out of range 1..8",
		"port \"vm1.eth0\": unknown mode 5",
		"port \"vm1.eth0\": unknown type 3",
		"port \"vm1.eth0\": port group \"Foo\" does not exist on vSwitch \"vSwitch0\"",
		"port \"vm1.eth0\": vSwitch \"vSwitch9\" does not exist",
		"vSwitch \"vSwitch0\": uplink \"uplink0\": devargs \"\" must be 1..255 characters",
		"uplink \"up link\": invalid name: a name must not contain spaces",
		"port group \"VM Network \": invalid name",
		"must be shorter than 108 bytes",
		"port \"\": invalid name",
	};
	struct ctl_config *base, *c;
	char err[CTL_ERR_MAX];
	unsigned i;

	(void)state;
	base = parse_ok(EXAMPLE);
	assert_int_equal(ctl_config_validate(base, err), 0);
	assert_int_equal(ctl_config_validate(NULL, err), -EINVAL);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		c = ctl_config_clone(base);
		assert_non_null(c);
		mutate(c, (int)i);
		err[0] = '\0';
		if (ctl_config_validate(c, err) != -EINVAL)
			fail_msg("mutation %u was not caught (want \"%s\")", i, want[i]);
		expect_err(err, want[i], false);
		assert_true(strlen(err) < CTL_ERR_MAX);
		ctl_config_free(c);
	}
	ctl_config_free(base);
}

/*
 * Limits.
 */

static json_t *
big_doc(unsigned n_vs, unsigned n_up, unsigned n_pg, unsigned n_ports)
{
	json_t *doc, *vss, *ups, *pgs, *ports;
	char name[32], dev[32], sock[64], mac[24];
	unsigned i;

	vss = json_array();
	for (i = 0; i < n_vs; i++) {
		snprintf(name, sizeof(name), "vs%u", i);
		assert_int_equal(json_array_append_new(vss, json_pack("{ss}", "name", name)), 0);
	}
	if (n_vs == 0)
		assert_int_equal(json_array_append_new(vss, json_pack("{ss}", "name", "vs0")), 0);
	ups = json_array();
	for (i = 0; i < n_up; i++) {
		snprintf(name, sizeof(name), "up%u", i);
		snprintf(dev, sizeof(dev), "net_tap%u", i);
		assert_int_equal(json_array_append_new(
					 ups, json_pack("{ssss}", "name", name, "devargs", dev)),
			0);
	}
	pgs = json_array();
	for (i = 0; i < n_pg; i++) {
		snprintf(name, sizeof(name), "PG %u", i);
		assert_int_equal(json_array_append_new(
					 pgs, json_pack("{sssi}", "name", name, "vlan", (int)i)),
			0);
	}
	if (n_pg == 0)
		assert_int_equal(json_array_append_new(pgs, json_pack("{ss}", "name", "PG 0")), 0);
	json_object_set_new(json_array_get(vss, 0), "uplinks", ups);
	json_object_set_new(json_array_get(vss, 0), "portgroups", pgs);
	ports = json_array();
	for (i = 0; i < n_ports; i++) {
		snprintf(name, sizeof(name), "vm%u.eth0", i);
		snprintf(sock, sizeof(sock), "/run/portico/vm%u.sock", i);
		snprintf(mac, sizeof(mac), "52:54:00:00:%02x:%02x", i >> 8, i & 0xff);
		assert_int_equal(json_array_append_new(ports,
					 json_pack("{ssssssssss}", "name", name, "vswitch", "vs0",
						 "portgroup", "PG 0", "socket", sock, "mac", mac)),
			0);
	}
	doc = json_pack("{soso}", "vswitches", vss, "ports", ports);
	assert_non_null(doc);
	return doc;
}

static void
check_big(unsigned n_vs, unsigned n_up, unsigned n_pg, unsigned n_ports, const char *want)
{
	struct ctl_config *cfg = NULL;
	char err[CTL_ERR_MAX] = "";
	json_t *doc = big_doc(n_vs, n_up, n_pg, n_ports);
	int rc;

	rc = ctl_config_from_json(doc, &cfg, err);
	if (want == NULL) {
		if (rc != 0)
			fail_msg("at the limits: %s", err);
		assert_int_equal(cfg->n_vswitches, n_vs ? n_vs : 1);
		assert_int_equal(cfg->vswitches[0].n_uplinks, n_up);
		assert_int_equal(cfg->vswitches[0].n_portgroups, n_pg ? n_pg : 1);
		assert_int_equal(cfg->n_ports, n_ports);
		ctl_config_free(cfg);
	} else {
		assert_int_equal(rc, -EINVAL);
		expect_err(err, want, false);
	}
	json_decref(doc);
}

static void
test_limits_json(void **state)
{
	(void)state;
	check_big(CTL_MAX_VSWITCHES, CTL_MAX_UPLINKS, CTL_MAX_PORTGROUPS, CTL_MAX_PORTS, NULL);
	check_big(CTL_MAX_VSWITCHES + 1, 0, 0, 0, "too many vSwitches (at most 16)");
	check_big(1, CTL_MAX_UPLINKS + 1, 0, 0, "field \"uplinks\" has more than 8 entries");
	check_big(1, 0, CTL_MAX_PORTGROUPS + 1, 0, "field \"portgroups\" has more than 512");
	check_big(1, 0, 1, CTL_MAX_PORTS + 1, "too many ports (at most 1024)");
}

static void
test_limits_add(void **state)
{
	struct ctl_config *cfg = ctl_config_new();
	struct ctl_vswitch vs = {.mtu = 1500};
	struct ctl_uplink up = {.devargs = "net_tap0"};
	struct ctl_portgroup pg = {.vlan = {.mode = CTL_VLAN_NONE}};
	struct ctl_port port = {.vswitch = "vs0", .portgroup = "PG 0", .queues = 1};
	struct ctl_vswitch *vs0;
	char err[CTL_ERR_MAX];
	unsigned i;

	(void)state;
	assert_non_null(cfg);
	for (i = 0; i < CTL_MAX_VSWITCHES; i++) {
		snprintf(vs.name, sizeof(vs.name), "vs%u", i);
		assert_int_equal(ctl_config_add_vswitch(cfg, &vs), 0);
	}
	assert_int_equal(ctl_config_add_vswitch(cfg, &vs), -ENOSPC);
	assert_int_equal(cfg->n_vswitches, CTL_MAX_VSWITCHES);

	vs0 = ctl_config_vswitch(cfg, "vs0");
	assert_ptr_equal(vs0, &cfg->vswitches[0]);
	for (i = 0; i < CTL_MAX_UPLINKS; i++) {
		snprintf(up.name, sizeof(up.name), "up%u", i);
		snprintf(up.devargs, sizeof(up.devargs), "net_tap%u,iface=t%u", i, i);
		assert_int_equal(ctl_vswitch_add_uplink(vs0, &up), 0);
	}
	assert_int_equal(ctl_vswitch_add_uplink(vs0, &up), -ENOSPC);
	for (i = 0; i < CTL_MAX_PORTGROUPS; i++) {
		snprintf(pg.name, sizeof(pg.name), "PG %u", i);
		assert_int_equal(ctl_vswitch_add_portgroup(vs0, &pg), 0);
	}
	assert_int_equal(ctl_vswitch_add_portgroup(vs0, &pg), -ENOSPC);
	for (i = 0; i < CTL_MAX_PORTS; i++) {
		snprintf(port.name, sizeof(port.name), "p%u", i);
		snprintf(port.socket, sizeof(port.socket), "/s/%u", i);
		port.mac[0] = 0x02;
		port.mac[4] = (uint8_t)(i >> 8);
		port.mac[5] = (uint8_t)i;
		assert_int_equal(ctl_config_add_port(cfg, &port), 0);
	}
	assert_int_equal(ctl_config_add_port(cfg, &port), -ENOSPC);
	if (ctl_config_validate(cfg, err) != 0)
		fail_msg("full config: %s", err);

	/* a vSwitch bigger than the limits is refused */
	vs.n_uplinks = CTL_MAX_UPLINKS + 1;
	assert_int_equal(ctl_config_del_vswitch(cfg, "vs15"), 0);
	assert_int_equal(ctl_config_add_vswitch(cfg, &vs), -ENOSPC);
	vs.n_uplinks = 0;
	vs.n_portgroups = CTL_MAX_PORTGROUPS + 1;
	assert_int_equal(ctl_config_add_vswitch(cfg, &vs), -ENOSPC);
	ctl_config_free(cfg);
}

/* Structs over the limits (built by hand) are caught by validate. */
static void
test_limits_validate(void **state)
{
	struct ctl_config *cfg;
	struct ctl_vswitch *vs;
	char err[CTL_ERR_MAX];
	unsigned i, n;

	(void)state;
	cfg = parse_ok(DOC(VS0, P1));

	n = CTL_MAX_UPLINKS + 1;
	vs = &cfg->vswitches[0];
	vs->uplinks = realloc(vs->uplinks, n * sizeof(*vs->uplinks));
	assert_non_null(vs->uplinks);
	for (i = 1; i < n; i++) {
		snprintf(vs->uplinks[i].name, CTL_NAME_MAX, "u%u", i);
		snprintf(vs->uplinks[i].devargs, CTL_DEVARGS_MAX, "net_tap%u", i);
	}
	vs->n_uplinks = n;
	assert_int_equal(ctl_config_validate(cfg, err), -EINVAL);
	expect_err(err, "vSwitch \"vSwitch0\": too many uplinks (at most 8)", true);
	vs->n_uplinks = 1;

	n = CTL_MAX_PORTGROUPS + 1;
	vs->portgroups = realloc(vs->portgroups, n * sizeof(*vs->portgroups));
	assert_non_null(vs->portgroups);
	for (i = 1; i < n; i++) {
		memset(&vs->portgroups[i], 0, sizeof(vs->portgroups[i]));
		snprintf(vs->portgroups[i].name, CTL_NAME_MAX, "pg%u", i);
	}
	vs->n_portgroups = n;
	assert_int_equal(ctl_config_validate(cfg, err), -EINVAL);
	expect_err(err, "too many port groups (at most 512)", false);
	vs->n_portgroups = 1;

	n = CTL_MAX_PORTS + 1;
	cfg->ports = realloc(cfg->ports, n * sizeof(*cfg->ports));
	assert_non_null(cfg->ports);
	for (i = 1; i < n; i++) {
		cfg->ports[i] = cfg->ports[0];
		snprintf(cfg->ports[i].name, CTL_NAME_MAX, "p%u", i);
		snprintf(cfg->ports[i].socket, CTL_PATH_MAX, "/p%u", i);
		cfg->ports[i].mac[4] = (uint8_t)(i >> 8);
		cfg->ports[i].mac[5] = (uint8_t)i;
	}
	cfg->n_ports = n;
	assert_int_equal(ctl_config_validate(cfg, err), -EINVAL);
	expect_err(err, "too many ports (at most 1024)", true);
	cfg->n_ports = 1;

	n = CTL_MAX_VSWITCHES + 1;
	cfg->vswitches = realloc(cfg->vswitches, n * sizeof(*cfg->vswitches));
	assert_non_null(cfg->vswitches);
	for (i = 1; i < n; i++) {
		memset(&cfg->vswitches[i], 0, sizeof(cfg->vswitches[i]));
		snprintf(cfg->vswitches[i].name, CTL_NAME_MAX, "vs%u", i);
		cfg->vswitches[i].mtu = 1500;
	}
	cfg->n_vswitches = n;
	assert_int_equal(ctl_config_validate(cfg, err), -EINVAL);
	expect_err(err, "too many vSwitches (at most 16)", true);
	cfg->n_vswitches = 2;
	assert_int_equal(ctl_config_validate(cfg, err), 0);
	ctl_config_free(cfg);
}

/*
 * Editing, lookups, clone.
 */

static void
test_add_del_lookup(void **state)
{
	struct ctl_config *cfg = ctl_config_new();
	struct ctl_vswitch vs = {.name = "vSwitch0", .mtu = 1500}, *vsp, *found_vs = NULL;
	struct ctl_uplink up = {.name = "u0", .devargs = "net_tap0"};
	struct ctl_portgroup pg = {.name = "A"};
	struct ctl_port port = {
		.vswitch = "vSwitch0", .portgroup = "B", .queues = 1, .mac = {2, 0, 0, 0, 0, 1}};
	char err[CTL_ERR_MAX];
	unsigned i;

	(void)state;
	assert_non_null(cfg);
	ctl_config_free(NULL);

	/* the vSwitch is copied, arrays included */
	assert_int_equal(ctl_vswitch_add_uplink(&vs, &up), 0);
	assert_int_equal(ctl_config_add_vswitch(cfg, &vs), 0);
	assert_ptr_not_equal(cfg->vswitches[0].uplinks, vs.uplinks);
	strcpy(vs.uplinks[0].name, "changed");
	assert_string_equal(cfg->vswitches[0].uplinks[0].name, "u0");
	free(vs.uplinks);
	vs.uplinks = NULL;
	vs.n_uplinks = 0;
	strcpy(vs.name, "vSwitch1");
	assert_int_equal(ctl_config_add_vswitch(cfg, &vs), 0);
	strcpy(vs.name, "vSwitch2");
	assert_int_equal(ctl_config_add_vswitch(cfg, &vs), 0);

	vsp = ctl_config_vswitch(cfg, "vSwitch0");
	assert_non_null(vsp);
	for (i = 0; i < 4; i++) {
		pg.name[0] = (char)('A' + i);
		assert_int_equal(ctl_vswitch_add_portgroup(vsp, &pg), 0);
	}
	up = (struct ctl_uplink){.name = "u1", .devargs = "net_tap1"};
	assert_int_equal(ctl_vswitch_add_uplink(vsp, &up), 0);
	up = (struct ctl_uplink){.name = "u2", .devargs = "net_tap2"};
	assert_int_equal(ctl_vswitch_add_uplink(&cfg->vswitches[2], &up), 0);
	for (i = 0; i < 4; i++) {
		snprintf(port.name, sizeof(port.name), "p%u", i);
		snprintf(port.socket, sizeof(port.socket), "/s%u", i);
		port.mac[5] = (uint8_t)i + 1;
		assert_int_equal(ctl_config_add_port(cfg, &port), 0);
	}
	if (ctl_config_validate(cfg, err) != 0)
		fail_msg("%s", err);

	/* lookups */
	assert_null(ctl_config_vswitch(cfg, "nope"));
	assert_null(ctl_config_vswitch(cfg, NULL));
	assert_ptr_equal(ctl_config_vswitch(cfg, "vSwitch2"), &cfg->vswitches[2]);
	assert_ptr_equal(ctl_vswitch_portgroup(vsp, "C"), &vsp->portgroups[2]);
	assert_null(ctl_vswitch_portgroup(vsp, "c"));
	assert_null(ctl_vswitch_portgroup(&cfg->vswitches[1], "A"));
	assert_ptr_equal(ctl_config_uplink(cfg, "u2", &found_vs), &cfg->vswitches[2].uplinks[0]);
	assert_ptr_equal(found_vs, &cfg->vswitches[2]);
	assert_ptr_equal(ctl_config_uplink(cfg, "u1", NULL), &vsp->uplinks[1]);
	assert_null(ctl_config_uplink(cfg, "u9", &found_vs));
	assert_ptr_equal(ctl_config_port(cfg, "p3"), &cfg->ports[3]);
	assert_null(ctl_config_port(cfg, "p4"));

	/* deletes keep the order */
	assert_int_equal(ctl_vswitch_del_portgroup(vsp, "B"), 0);
	assert_int_equal(vsp->n_portgroups, 3);
	assert_string_equal(vsp->portgroups[0].name, "A");
	assert_string_equal(vsp->portgroups[1].name, "C");
	assert_string_equal(vsp->portgroups[2].name, "D");
	assert_int_equal(ctl_vswitch_del_portgroup(vsp, "B"), -ENOENT);
	/* the ports on B now dangle, and validate says so */
	assert_int_equal(ctl_config_validate(cfg, err), -EINVAL);
	expect_err(
		err, "port \"p0\": port group \"B\" does not exist on vSwitch \"vSwitch0\"", true);

	assert_int_equal(ctl_config_del_port(cfg, "p1"), 0);
	assert_int_equal(ctl_config_del_port(cfg, "p1"), -ENOENT);
	assert_int_equal(cfg->n_ports, 3);
	assert_string_equal(cfg->ports[0].name, "p0");
	assert_string_equal(cfg->ports[1].name, "p2");
	assert_string_equal(cfg->ports[2].name, "p3");
	assert_int_equal(ctl_config_del_port(cfg, "p3"), 0);
	assert_int_equal(ctl_config_del_port(cfg, "p0"), 0);
	assert_int_equal(ctl_config_del_port(cfg, "p2"), 0);
	assert_int_equal(cfg->n_ports, 0);
	assert_int_equal(ctl_config_validate(cfg, err), 0);
	/* and can grow again */
	assert_int_equal(ctl_config_add_port(cfg, &port), 0);
	assert_int_equal(ctl_config_del_port(cfg, port.name), 0);

	assert_int_equal(ctl_vswitch_del_uplink(vsp, "u0"), 0);
	assert_int_equal(ctl_vswitch_del_uplink(vsp, "u0"), -ENOENT);
	assert_int_equal(ctl_vswitch_del_uplink(vsp, "u2"), -ENOENT); /* on another vSwitch */
	assert_int_equal(vsp->n_uplinks, 1);
	assert_string_equal(vsp->uplinks[0].name, "u1");

	/* deleting a vSwitch frees its arrays (ASan watches) and keeps the order */
	assert_int_equal(ctl_config_del_vswitch(cfg, "vSwitch0"), 0);
	assert_int_equal(ctl_config_del_vswitch(cfg, "vSwitch0"), -ENOENT);
	assert_int_equal(cfg->n_vswitches, 2);
	assert_string_equal(cfg->vswitches[0].name, "vSwitch1");
	assert_string_equal(cfg->vswitches[1].name, "vSwitch2");
	assert_string_equal(cfg->vswitches[1].uplinks[0].name, "u2");
	assert_null(ctl_config_uplink(cfg, "u1", NULL));
	assert_int_equal(ctl_config_del_vswitch(cfg, "vSwitch2"), 0);
	assert_int_equal(ctl_config_del_vswitch(cfg, "vSwitch1"), 0);
	assert_int_equal(cfg->n_vswitches, 0);
	assert_int_equal(ctl_config_del_vswitch(cfg, "vSwitch1"), -ENOENT);
	ctl_config_free(cfg);
}

static void
test_clone_independent(void **state)
{
	struct ctl_config *orig, *ref, *c;
	struct ctl_uplink up = {.name = "uplink9", .devargs = "net_tap9"};
	struct ctl_portgroup pg = {.name = "New"};
	struct ctl_vswitch vs = {.name = "vSwitch5", .mtu = 9000};
	char err[CTL_ERR_MAX];

	(void)state;
	orig = parse_ok(DOC(VS0 ", " VS("vSwitch1", "", PG0), P1));
	ref = parse_ok(DOC(VS0 ", " VS("vSwitch1", "", PG0), P1));
	c = ctl_config_clone(orig);
	assert_non_null(c);
	assert_cfg_equal(orig, c);
	assert_ptr_not_equal(c->vswitches, orig->vswitches);
	assert_ptr_not_equal(c->vswitches[0].uplinks, orig->vswitches[0].uplinks);
	assert_ptr_not_equal(c->vswitches[0].portgroups, orig->vswitches[0].portgroups);
	assert_ptr_not_equal(c->ports, orig->ports);
	assert_int_equal(ctl_config_validate(c, err), 0);

	strcpy(c->vswitches[0].name, "renamed");
	c->vswitches[0].mtu = 9000;
	strcpy(c->vswitches[0].uplinks[0].devargs, "net_tap0");
	c->vswitches[0].portgroups[0].vlan.mode = CTL_VLAN_VGT;
	assert_int_equal(ctl_vswitch_add_uplink(&c->vswitches[0], &up), 0);
	assert_int_equal(ctl_vswitch_add_portgroup(&c->vswitches[1], &pg), 0);
	assert_int_equal(ctl_vswitch_del_portgroup(&c->vswitches[1], "VM Network"), 0);
	assert_int_equal(ctl_config_add_vswitch(c, &vs), 0);
	c->ports[0].queues = 4;
	c->ports[0].mac[5] = 0x99;
	assert_int_equal(ctl_config_del_port(c, "vm1.eth0"), 0);
	assert_int_equal(ctl_config_del_vswitch(c, "vSwitch1"), 0);

	assert_cfg_equal(orig, ref);
	ctl_config_free(c);
	/* the original still works on its own (a shared array would be freed twice) */
	assert_cfg_equal(orig, ref);
	assert_roundtrip(orig);

	/* an empty config clones too */
	ctl_config_free(ref);
	ref = ctl_config_new();
	c = ctl_config_clone(ref);
	assert_non_null(c);
	assert_cfg_equal(ref, c);
	ctl_config_free(c);
	errno = 0;
	assert_null(ctl_config_clone(NULL));
	assert_int_equal(errno, EINVAL);
	ctl_config_free(ref);
	ctl_config_free(orig);
}

/*
 * Per-object codecs (the JSON-RPC methods' view).
 */

static void
test_object_codecs(void **state)
{
	static const char *const ign_vs[] = {"vswitch", NULL};
	static const char *const ign_name[] = {"name", NULL};
	struct ctl_portgroup pg, pg_before;
	struct ctl_port port, port_before;
	struct ctl_vswitch vs, vs_before;
	struct ctl_uplink up;
	char err[CTL_ERR_MAX];
	json_t *in, *out;

	(void)state;
	/* uplink.add params carry "vswitch": ignored only when asked */
	in = J("{'vswitch': 'vSwitch0', 'name': 'uplink0', 'devargs': 'net_tap0'}");
	assert_int_equal(ctl_uplink_from_json(in, NULL, &up, err), -EINVAL);
	expect_err(err, "unknown field \"vswitch\" in uplink \"uplink0\"", true);
	assert_int_equal(ctl_uplink_from_json(in, ign_vs, &up, err), 0);
	assert_string_equal(up.name, "uplink0");
	assert_string_equal(up.devargs, "net_tap0");
	json_decref(in);
	out = ctl_uplink_to_json(&up);
	in = J("{'name': 'uplink0', 'devargs': 'net_tap0'}");
	assert_true(json_equal(in, out));
	json_decref(in);
	json_decref(out);

	/* vSwitch: name and mtu; uplinks and port groups go through their own methods */
	in = J("{'name': 'vs1', 'mtu': 9000}");
	memset(&vs, 0xa5, sizeof(vs));
	assert_int_equal(ctl_vswitch_from_json(in, NULL, &vs, err), 0);
	assert_string_equal(vs.name, "vs1");
	assert_int_equal(vs.mtu, 9000);
	assert_int_equal(vs.n_uplinks, 0);
	assert_null(vs.uplinks);
	assert_int_equal(vs.n_portgroups, 0);
	assert_null(vs.portgroups);
	json_decref(in);
	in = J("{'name': 'vs1'}");
	assert_int_equal(ctl_vswitch_from_json(in, NULL, &vs, err), 0);
	assert_int_equal(vs.mtu, CTL_MTU_DEFAULT);
	json_decref(in);
	in = J("{'name': 'vs1', 'uplinks': []}");
	assert_int_equal(ctl_vswitch_from_json(in, NULL, &vs, err), -EINVAL);
	expect_err(err, "vSwitch \"vs1\": field \"uplinks\" cannot be given here", false);
	json_decref(in);
	in = J("{'mtu': 1500}");
	assert_int_equal(ctl_vswitch_from_json(in, NULL, &vs, err), -EINVAL);
	expect_err(err, "vSwitch: field \"name\" is required", true);
	json_decref(in);

	/* vSwitch update: only the given fields, nothing on error */
	vs = (struct ctl_vswitch){.name = "vs1", .mtu = 1500};
	in = J("{'name': 'vs1', 'mtu': 9000}");
	assert_int_equal(ctl_vswitch_update_json(in, NULL, &vs, err), 0);
	assert_int_equal(vs.mtu, 9000);
	json_decref(in);
	vs_before = vs;
	in = J("{'mtu': 20}");
	assert_int_equal(ctl_vswitch_update_json(in, NULL, &vs, err), -EINVAL);
	expect_err(err, "vSwitch \"vs1\": field \"mtu\" must be an integer 68..9000", true);
	assert_memory_equal(&vs, &vs_before, sizeof(vs));
	json_decref(in);
	in = J("{'name': 'vs2', 'mtu': 1500}");
	assert_int_equal(ctl_vswitch_update_json(in, NULL, &vs, err), -EINVAL);
	expect_err(err, "vSwitch \"vs1\": field \"name\" cannot be changed", true);
	assert_memory_equal(&vs, &vs_before, sizeof(vs));
	json_decref(in);
	in = J("{'mtu': 1600, 'bogus': 1}");
	assert_int_equal(ctl_vswitch_update_json(in, NULL, &vs, err), -EINVAL);
	expect_err(err, "unknown field \"bogus\" in vSwitch \"vs1\"", true);
	assert_memory_equal(&vs, &vs_before, sizeof(vs));
	json_decref(in);
	out = ctl_vswitch_to_json(&vs);
	in = J("{'name': 'vs1', 'mtu': 9000, 'uplinks': [], 'portgroups': []}");
	assert_true(json_equal(in, out));
	json_decref(in);
	json_decref(out);

	/* port group: vlan defaults to 0; update changes the vlan only */
	in = J("{'name': 'VM Network', 'vswitch': 'vSwitch0'}");
	assert_int_equal(ctl_portgroup_from_json(in, ign_vs, &pg, err), 0);
	assert_string_equal(pg.name, "VM Network");
	assert_int_equal(pg.vlan.mode, CTL_VLAN_NONE);
	json_decref(in);
	in = J("{'vlan': [[10, 20]]}");
	assert_int_equal(ctl_portgroup_update_json(in, NULL, &pg, err), 0);
	assert_int_equal(pg.vlan.mode, CTL_VLAN_TRUNK);
	assert_int_equal(pg.vlan.n_ranges, 1);
	assert_string_equal(pg.name, "VM Network");
	json_decref(in);
	pg_before = pg;
	in = J("{'name': 'VM Network', 'vlan': 5000}");
	assert_int_equal(ctl_portgroup_update_json(in, NULL, &pg, err), -EINVAL);
	expect_err(err, "port group \"VM Network\": vlan: must be", false);
	assert_memory_equal(&pg, &pg_before, sizeof(pg));
	json_decref(in);
	out = ctl_portgroup_to_json(&pg);
	in = J("{'name': 'VM Network', 'vlan': [[10, 20]]}");
	assert_true(json_equal(in, out));
	json_decref(in);
	json_decref(out);

	/* port */
	in = J(P1_WITH("'queues': 2, 'mode': 'server'"));
	assert_int_equal(ctl_port_from_json(in, NULL, &port, err), 0);
	assert_int_equal(port.queues, 2);
	assert_int_equal(port.mode, CTL_PORT_SERVER);
	out = ctl_port_to_json(&port);
	json_object_set_new(in, "type", json_string("vhost-user"));
	assert_true(json_equal(in, out));
	json_decref(in);
	json_decref(out);

	in = J("{'portgroup': 'Other', 'queues': 4, 'mac': '52:54:00:AA:BB:CC'}");
	assert_int_equal(ctl_port_update_json(in, NULL, &port, err), 0);
	assert_string_equal(port.portgroup, "Other");
	assert_int_equal(port.queues, 4);
	assert_int_equal(port.mac[3], 0xaa);
	assert_string_equal(port.socket, "/run/portico/vm1.eth0.sock"); /* untouched */
	assert_int_equal(port.mode, CTL_PORT_SERVER);
	json_decref(in);
	port_before = port;
	/* the first fields are good, the last is not: nothing changes */
	in = J("{'portgroup': 'Third', 'queues': 3, 'socket': 'rel'}");
	assert_int_equal(ctl_port_update_json(in, NULL, &port, err), -EINVAL);
	expect_err(
		err, "port \"vm1.eth0\": field \"socket\" \"rel\" must be an absolute path", true);
	assert_memory_equal(&port, &port_before, sizeof(port));
	json_decref(in);
	in = J("{'name': 'vm2.eth0'}");
	assert_int_equal(ctl_port_update_json(in, NULL, &port, err), -EINVAL);
	expect_err(err, "port \"vm1.eth0\": field \"name\" cannot be changed", true);
	assert_int_equal(ctl_port_update_json(in, ign_name, &port, err), 0);
	assert_memory_equal(&port, &port_before, sizeof(port));
	json_decref(in);
	in = J("[]");
	assert_int_equal(ctl_port_update_json(in, NULL, &port, err), -EINVAL);
	assert_int_equal(ctl_port_from_json(in, NULL, &port, err), -EINVAL);
	expect_err(err, "port: must be a JSON object", true);
	json_decref(in);
}

/*
 * State file.
 */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static unsigned
count_entries(const char *dir)
{
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char *
read_text(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_save_load(void **state)
{
	char dir[] = "/tmp/test_config.XXXXXX", sub[256], path[300], err[CTL_ERR_MAX];
	struct ctl_config *cfg, *loaded = NULL;
	struct stat st;
	mode_t old_umask;
	char *text;

	(void)state;
	assert_non_null(mkdtemp(dir));
	old_umask = umask(022);
	cfg = parse_ok(DOC(VS0 ", " VS("vSwitch1", "", "{'name': 'Trunk', 'vlan': [[0,0],[5,9]]}"),
		P1_WITH("'queues': 3")));

	/* the parent directories are created */
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	snprintf(path, sizeof(path), "%s/state.json", sub);
	if (ctl_config_save(cfg, path, err) != 0)
		fail_msg("save: %s", err);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	assert_int_equal(count_entries(sub), 1); /* no temp file left */

	/* indented, and in a fixed key order */
	text = read_text(path);
	assert_non_null(strstr(text, "\n  \"vswitches\": [\n"));
	assert_true(strstr(text, "\"vswitches\"") < strstr(text, "\"ports\""));
	assert_int_equal(text[strlen(text) - 1], '\n');

	assert_int_equal(ctl_config_load(path, &loaded, err), 0);
	assert_cfg_equal(cfg, loaded);
	ctl_config_free(loaded);

	/* saving again replaces the file */
	cfg->vswitches[0].mtu = 9000;
	assert_int_equal(ctl_config_save(cfg, path, err), 0);
	assert_int_equal(count_entries(sub), 1);
	assert_int_equal(ctl_config_load(path, &loaded, err), 0);
	assert_int_equal(loaded->vswitches[0].mtu, 9000);
	assert_cfg_equal(cfg, loaded);
	ctl_config_free(loaded);

	/* an invalid config is not written, the file stays as it was */
	text = strdup(read_text(path));
	cfg->vswitches[0].mtu = 1;
	assert_int_equal(ctl_config_save(cfg, path, err), -EINVAL);
	expect_err(err, "mtu 1 is out of range", false);
	assert_string_equal(read_text(path), text);
	assert_int_equal(count_entries(sub), 1);
	free(text);
	cfg->vswitches[0].mtu = 1500;

	/* a path that is a directory: rename fails, the temp file is removed */
	assert_int_equal(ctl_config_save(cfg, sub, err), -EISDIR);
	expect_err(err, "rename", false);
	assert_int_equal(count_entries(dir), 1);
	assert_int_equal(count_entries(sub), 1);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	assert_int_equal(count_entries(sub), 1);

	/* a parent that is a regular file */
	snprintf(sub, sizeof(sub), "%s/a/b/state.json/x.json", dir);
	assert_int_equal(ctl_config_save(cfg, sub, err), -ENOTDIR);
	assert_true(err[0] != '\0');

	/* a relative path, in the current directory */
	{
		char cwd[256];

		assert_non_null(getcwd(cwd, sizeof(cwd)));
		snprintf(sub, sizeof(sub), "%s/a", dir);
		assert_int_equal(chdir(sub), 0);
		assert_int_equal(ctl_config_save(cfg, "rel.json", err), 0);
		assert_int_equal(ctl_config_load("rel.json", &loaded, err), 0);
		assert_cfg_equal(cfg, loaded);
		ctl_config_free(loaded);
		assert_int_equal(count_entries("."), 2);
		assert_int_equal(chdir(cwd), 0);
	}

	ctl_config_free(cfg);
	umask(old_umask);
	rm_rf(dir);
}

static void
test_load_errors(void **state)
{
	char dir[] = "/tmp/test_config.XXXXXX", path[300], want[400], err[CTL_ERR_MAX];
	struct ctl_config *sentinel = (struct ctl_config *)&sentinel, *cfg = sentinel;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));

	/* missing */
	snprintf(path, sizeof(path), "%s/missing.json", dir);
	err[0] = '\0';
	assert_int_equal(ctl_config_load(path, &cfg, err), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	expect_err(err, want, true);
	assert_ptr_equal(cfg, sentinel);

	/* corrupt JSON: file, line and column */
	snprintf(path, sizeof(path), "%s/corrupt.json", dir);
	write_file(path, "{\"vswitches\": [\n  {\"name\": \"x\",,}\n]}\n");
	assert_int_equal(ctl_config_load(path, &cfg, err), -EINVAL);
	snprintf(want, sizeof(want), "%s:2:", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", err, want);
	assert_ptr_equal(cfg, sentinel);

	/* empty file */
	write_file(path, "");
	assert_int_equal(ctl_config_load(path, &cfg, err), -EINVAL);
	snprintf(want, sizeof(want), "%s:1:", path);
	expect_err(err, want, false);

	/* duplicate keys are refused */
	write_file(path, "{\"vswitches\": [], \"vswitches\": []}");
	assert_int_equal(ctl_config_load(path, &cfg, err), -EINVAL);
	expect_err(err, "duplicate", false);

	/* valid JSON, invalid config: the file is named */
	write_file(path, "{\"vswitches\": [{\"name\": \"vs\", \"mtu\": 1}]}");
	assert_int_equal(ctl_config_load(path, &cfg, err), -EINVAL);
	snprintf(want, sizeof(want),
		"%s: vSwitch \"vs\": field \"mtu\" must be an integer 68..9000", path);
	expect_err(err, want, true);
	assert_ptr_equal(cfg, sentinel);

	/* bigger than 16 MiB (sparse) */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (16 << 20) + 1), 0);
	close(fd);
	assert_int_equal(ctl_config_load(path, &cfg, err), -EINVAL);
	expect_err(err, "16 MiB", false);

	/* a directory */
	assert_int_equal(ctl_config_load(dir, &cfg, err), -EINVAL);
	expect_err(err, "not a regular file", false);
	assert_ptr_equal(cfg, sentinel);

	/* the example, from a file */
	write_file(path, EXAMPLE);
	assert_int_equal(ctl_config_load(path, &cfg, err), 0);
	assert_string_equal(cfg->ports[0].name, "vm1.eth0");
	ctl_config_free(cfg);

	rm_rf(dir);
}

/*
 * Fuzz-ish: random mutations of a valid document never crash, and give either
 * a config that survives a round trip or -EINVAL with a message.
 */

static uint32_t
rnd(uint32_t *s)
{
	/* xorshift32 */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * A vSwitch for the fuzzers' seeds with every kind of field: policy in all
 * groups (shaping and teaming nested), a private VLAN map, port groups of
 * every VLAN kind; the caller closes its port group list.
 */
#define FUZZ_VS1                                                                               \
	"{'name': 'vSwitch1', 'uplinks': [{'name': 'u1', 'devargs': 'net_tap1,iface=t1'}, "    \
	"{'name': 'lag', 'devargs': 'net_bonding0,mode=4', 'members': ['net_tap2', "           \
	"'net_tap3']}], "                                                                      \
	"'policy': {'security': {'promiscuous': 'accept'}, 'mac_learning': {'enabled': true, " \
	"'limit': 9}, 'storm_control': {'broadcast_pps': 5}, 'teaming': {'load_balancing': "   \
	"'src_mac', 'active': ['u1'], 'standby': []}, 'shaping': {'egress': {'enabled': "      \
	"true, 'average_bps': 1000000, 'peak_bps': 2000000, 'burst_bytes': 65536, 'mode': "    \
	"'shape'}}}, 'pvlans': [{'primary': 300, 'secondaries': [{'vid': 301, 'type': "        \
	"'isolated'}, {'vid': 302, 'type': 'community'}]}], 'portgroups': [{'name': 'Trunk', " \
	"'vlan': [[0,0],[100,200]]}, {'name': 'V', 'vlan': 4095, 'policy': {'teaming': "       \
	"{'failback': false}}}, {'name': 'P', 'vlan': {'pvlan': 301}, 'policy': {'shaping': "  \
	"{'ingress': {'enabled': true}}}}"

static void
test_fuzz(void **state)
{
	static const char alphabet[] = "{}[]:,\"\\0123456789-+.eE ntrufals/a_:x";
	unsigned i, k, n_ops, json_bad = 0, cfg_bad = 0, ok = 0;
	size_t len, base_len, cap, pos, a, b;
	struct ctl_config *cfg, *back;
	char *base, *buf, err[CTL_ERR_MAX], slice[64];
	json_error_t jerr;
	uint32_t seed = 0x5eed1234;
	json_t *doc;
	int rc;

	(void)state;
	doc = J(DOC(VS0 ", " FUZZ_VS1 ", {'name': 'S', 'vlan': 7}]}",
		P1 ", {'name': 'b', 'vswitch': 'vSwitch1', 'portgroup': 'Trunk', 'socket': '/b', "
		   "'mac': '02:00:00:00:00:02', 'mode': 'client', 'queues': 2}"));
	base = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	assert_non_null(base);
	base_len = strlen(base);
	cap = base_len * 2 + 64;
	buf = malloc(cap);
	assert_non_null(buf);

	for (i = 0; i < 2000; i++) {
		memcpy(buf, base, base_len);
		len = base_len;
		n_ops = 1 + rnd(&seed) % 3;
		for (k = 0; k < n_ops && len > 0; k++) {
			pos = rnd(&seed) % len;
			switch (rnd(&seed) % 6) {
			case 0: /* replace with a JSON-ish character */
				buf[pos] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
				break;
			case 1: /* replace with any byte */
				buf[pos] = (char)rnd(&seed);
				break;
			case 2: /* delete */
				memmove(buf + pos, buf + pos + 1, len - pos - 1);
				len--;
				break;
			case 3: /* insert */
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
				len++;
				break;
			case 4: /* truncate */
				len = pos;
				break;
			case 5: /* copy a slice elsewhere (duplicates objects, names...) */
				a = rnd(&seed) % len;
				b = a + 1 + rnd(&seed) % sizeof(slice);
				if (b > len)
					b = len;
				if (len + (b - a) >= cap)
					break;
				memcpy(slice, buf + a, b - a);
				memmove(buf + pos + (b - a), buf + pos, len - pos);
				memcpy(buf + pos, slice, b - a);
				len += b - a;
				break;
			}
			assert_true(len < cap);
		}
		/* NULs in strings are possible through jansson: try them too */
		doc = json_loadb(buf, len, (i & 1) ? JSON_ALLOW_NUL : 0, &jerr);
		if (doc == NULL) {
			json_bad++;
			continue;
		}
		cfg = NULL;
		err[0] = '\0';
		rc = ctl_config_from_json(doc, &cfg, err);
		json_decref(doc);
		if (rc != 0) {
			if (rc != -EINVAL)
				fail_msg("iteration %u: from_json returned %d (%s)", i, rc, err);
			assert_null(cfg);
			assert_true(err[0] != '\0');
			assert_true(strlen(err) < CTL_ERR_MAX);
			cfg_bad++;
			continue;
		}
		ok++;
		assert_int_equal(ctl_config_validate(cfg, err), 0);
		assert_roundtrip(cfg);
		back = ctl_config_clone(cfg);
		assert_non_null(back);
		assert_cfg_equal(cfg, back);
		ctl_config_free(back);
		ctl_config_free(cfg);
	}
	/* the mutations reached every outcome */
	print_message("fuzz: %u bad JSON, %u bad config, %u accepted\n", json_bad, cfg_bad, ok);
	assert_true(json_bad > 0);
	assert_true(cfg_bad > 100);
	assert_true(ok > 10);
	free(buf);
	free(base);
}

/* A random JSON value, biased to the edges of what the codec accepts. */
static json_t *
random_value(uint32_t *seed)
{
	static const long long ints[] = {-1, 0, 1, 2, 7, 8, 9, 67, 68, 4094, 4095, 4096, 9000, 9001,
		1LL << 40, -(1LL << 62)};
	static const char *const strs[] = {"", "vSwitch0", "vSwitch1", "VM Network", "Trunk",
		"uplink0", "vm1.eth0", "/run/x.sock", "rel.sock", "52:54:00:00:00:01",
		"01:00:5e:00:00:01", "server", "client", "vhost-user", "net_af_packet0", " x",
		"a/b"};

	switch (rnd(seed) % 8) {
	case 0:
	case 1:
		return json_integer(ints[rnd(seed) % (sizeof(ints) / sizeof(ints[0]))]);
	case 2:
	case 3:
		return json_string(strs[rnd(seed) % (sizeof(strs) / sizeof(strs[0]))]);
	case 4:
		return rnd(seed) % 2 ? json_null() : json_true();
	case 5:
		return json_real(1.5);
	case 6:
		return json_pack("[[ii]]", (int)(rnd(seed) % 5000), (int)(rnd(seed) % 5000));
	default:
		return rnd(seed) % 2 ? json_array() : json_object();
	}
}

/* Change one node somewhere in doc. */
static void
mutate_tree(json_t *doc, uint32_t *seed)
{
	static const char *const keys[] = {"name", "mtu", "uplinks", "portgroups", "vlan",
		"devargs", "vswitch", "portgroup", "type", "socket", "mode", "mac", "queues",
		"vswitches", "ports", "bogus"};
	json_t *parent = doc, *child = NULL;
	const char *key = NULL;
	size_t idx = 0, n;
	void *it;

	/* walk down a random path */
	for (;;) {
		n = json_is_object(parent)	? json_object_size(parent)
			: json_is_array(parent) ? json_array_size(parent)
						: 0;
		if (n == 0)
			return;
		idx = rnd(seed) % n;
		if (json_is_array(parent)) {
			child = json_array_get(parent, idx);
		} else {
			it = json_object_iter(parent);
			while (idx-- > 0)
				it = json_object_iter_next(parent, it);
			key = json_object_iter_key(it);
			child = json_object_iter_value(it);
			idx = 0;
		}
		if ((!json_is_object(child) && !json_is_array(child)) || rnd(seed) % 3 == 0)
			break;
		parent = child;
		key = NULL;
	}
	switch (rnd(seed) % 4) {
	case 0: /* replace */
		if (key != NULL)
			json_object_set_new(parent, key, random_value(seed));
		else
			json_array_set_new(parent, idx, random_value(seed));
		break;
	case 1: /* remove */
		if (key != NULL)
			json_object_del(parent, key);
		else
			json_array_remove(parent, idx);
		break;
	case 2: /* duplicate (arrays) or add a field (objects) */
		if (key != NULL)
			json_object_set_new(parent,
				keys[rnd(seed) % (sizeof(keys) / sizeof(keys[0]))],
				random_value(seed));
		else
			json_array_append_new(parent, json_deep_copy(child));
		break;
	default: /* move a value under another key */
		if (key != NULL) {
			json_incref(child);
			json_object_del(parent, key);
			json_object_set_new(
				parent, keys[rnd(seed) % (sizeof(keys) / sizeof(keys[0]))], child);
		}
		break;
	}
}

/* Like test_fuzz, on the parsed tree: types and values instead of bytes. */
static void
test_fuzz_tree(void **state)
{
	unsigned i, k, bad = 0, ok = 0;
	struct ctl_config *cfg;
	uint32_t seed = 0xc0ffee;
	char err[CTL_ERR_MAX];
	json_t *base, *doc;
	int rc;

	(void)state;
	base = J(DOC(VS0 ", " FUZZ_VS1 "]}",
		P1 ", {'name': 'b', 'vswitch': 'vSwitch1', 'portgroup': 'Trunk', 'socket': '/b', "
		   "'mac': '02:00:00:00:00:02', 'mode': 'client', 'queues': 2}"));
	for (i = 0; i < 2000; i++) {
		doc = json_deep_copy(base);
		assert_non_null(doc);
		for (k = 0; k < 1 + rnd(&seed) % 2; k++)
			mutate_tree(doc, &seed);
		cfg = NULL;
		err[0] = '\0';
		rc = ctl_config_from_json(doc, &cfg, err);
		json_decref(doc);
		if (rc != 0) {
			if (rc != -EINVAL)
				fail_msg("iteration %u: from_json returned %d (%s)", i, rc, err);
			assert_null(cfg);
			assert_true(err[0] != '\0');
			bad++;
			continue;
		}
		ok++;
		assert_int_equal(ctl_config_validate(cfg, err), 0);
		assert_roundtrip(cfg);
		ctl_config_free(cfg);
	}
	print_message("tree fuzz: %u rejected, %u accepted\n", bad, ok);
	assert_true(bad > 500);
	assert_true(ok > 100);
	json_decref(base);
}

/* Policy at three levels: parsed, validated, written back as set, null inherits. */
static void
test_policy_json(void **state)
{
	struct ctl_config *cfg;
	const struct ctl_vswitch *vs;
	const struct ctl_portgroup *pg;
	struct ctl_port *port;
	char err[CTL_ERR_MAX] = "";
	json_t *out, *upd;

	cfg = parse_ok(
		DOC("{'name': 'vSwitch0', 'policy': {'security': {'promiscuous': 'accept'}},"
		    " 'portgroups': [{'name': 'VM Network', 'vlan': 0, 'policy': "
		    "{'security': {'forged_transmits': 'accept', 'mac_changes': 'reject'},"
		    " 'mac_learning': {'enabled': true, 'limit': 10, 'limit_policy': 'allow'}}}]}",
			P1_WITH("'policy': {'storm_control': {'broadcast_pps': 100}}")));
	vs = &cfg->vswitches[0];
	pg = &vs->portgroups[0];
	port = &cfg->ports[0];
	assert_true(pg_policy_has(&vs->policy, PG_F_PROMISCUOUS));
	assert_int_equal(vs->policy.v[PG_F_PROMISCUOUS], 1);
	assert_false(pg_policy_has(&vs->policy, PG_F_FORGED_TRANSMITS));
	assert_int_equal(pg->policy.v[PG_F_FORGED_TRANSMITS], 1);
	assert_int_equal(pg->policy.v[PG_F_MAC_CHANGES], 0);
	assert_true(pg_policy_has(&pg->policy, PG_F_MAC_CHANGES));
	assert_int_equal(pg->policy.v[PG_F_MAC_LEARNING], 1);
	assert_int_equal(pg->policy.v[PG_F_MAC_LIMIT], 10);
	assert_int_equal(pg->policy.v[PG_F_MAC_LIMIT_POLICY], PG_LIMIT_ALLOW);
	assert_int_equal(port->policy.v[PG_F_STORM_BROADCAST], 100);
	assert_int_equal(port->policy.set, UINT32_C(1) << PG_F_STORM_BROADCAST);

	/* Written back: only what is set. */
	out = ctl_config_to_json(cfg);
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(
				json_object_get(
					json_array_get(json_object_get(out, "vswitches"), 0),
					"policy"),
				"security"),
			"promiscuous")),
		"accept");
	assert_null(json_object_get(
		json_object_get(json_array_get(json_object_get(out, "vswitches"), 0), "policy"),
		"mac_learning"));
	json_decref(out);

	/* Update: a field, a null field (inherit), a null group. */
	upd = J("{'policy': {'storm_control': {'broadcast_pps': null, 'multicast_pps': 5},"
		" 'security': {'promiscuous': 'reject'}}}");
	assert_int_equal(ctl_port_update_json(upd, NULL, port, err), 0);
	json_decref(upd);
	assert_false(pg_policy_has(&port->policy, PG_F_STORM_BROADCAST));
	assert_int_equal(port->policy.v[PG_F_STORM_MULTICAST], 5);
	assert_int_equal(port->policy.v[PG_F_PROMISCUOUS], 0);
	upd = J("{'policy': {'storm_control': null}}");
	assert_int_equal(ctl_port_update_json(upd, NULL, port, err), 0);
	json_decref(upd);
	assert_int_equal(port->policy.set, UINT32_C(1) << PG_F_PROMISCUOUS);
	upd = J("{'policy': null}");
	assert_int_equal(ctl_port_update_json(upd, NULL, port, err), 0);
	json_decref(upd);
	assert_int_equal(port->policy.set, 0);
	assert_int_equal(ctl_config_validate(cfg, err), 0);
	ctl_config_free(cfg);

	/* Errors: nothing changed, and said clearly. */
	parse_bad(DOC(VS0, P1_WITH("'policy': {'security': {'promiscuous': 'yes'}}")),
		"policy: security.promiscuous must be \"reject\" or \"accept\"", false);
	parse_bad(DOC(VS0, P1_WITH("'policy': {'security': {'promiscous': 'accept'}}")),
		"policy: unknown field \"promiscous\" in security", false);
	parse_bad(DOC(VS0, P1_WITH("'policy': {'sekurity': {}}")), "unknown group \"sekurity\"",
		false);
	parse_bad(DOC(VS0, P1_WITH("'policy': {'mac_learning': {'limit': 0}}")),
		"mac_learning.limit must be an integer 1..4096", false);
	parse_bad(DOC(VS0, P1_WITH("'policy': {'mac_learning': {'enabled': 1}}")),
		"must be true or false", false);
	parse_bad(DOC(VS0, P1_WITH("'policy': {'storm_control': {'broadcast_pps': -1}}")),
		"broadcast_pps must be an integer", false);
	parse_bad(DOC(VS0, P1_WITH("'policy': []")), "policy: must be an object", false);
	parse_bad(DOC(VS0, P1_WITH("'policy': {'security': 3}")), "security must be an object",
		false);
}

/* The private VLAN map and port groups on it. */
static void
test_pvlan_json(void **state)
{
	struct ctl_config *cfg;
	const struct ctl_vswitch *vs;
	enum ctl_pvlan_type type;
	json_t *out;
	char *text;

#define PVS(map, pgs) "{'name': 'vSwitch0', 'pvlans': " map ", 'portgroups': [" pgs "]}"
#define MAP1                                                                   \
	"[{'primary': 100, 'secondaries': [{'vid': 101, 'type': 'isolated'}, " \
	"{'vid': 102, 'type': 'community'}]}]"
	cfg = parse_ok(DOC(PVS(MAP1,
				   "{'name': 'P', 'vlan': {'pvlan': 100}}, "
				   "{'name': 'I', 'vlan': {'pvlan': 101}}, "
				   "{'name': 'VM Network', 'vlan': {'pvlan': 102}}"),
		P1));
	vs = &cfg->vswitches[0];
	assert_int_equal(vs->n_pvlans, 1);
	assert_int_equal(vs->pvlans[0].primary, 100);
	assert_int_equal(vs->pvlans[0].n_secondaries, 2);
	assert_ptr_equal(ctl_vswitch_pvlan(vs, 101, &type), &vs->pvlans[0]);
	assert_int_equal(type, CTL_PVLAN_ISOLATED);
	assert_non_null(ctl_vswitch_pvlan(vs, 100, &type));
	assert_int_equal(type, CTL_PVLAN_PROMISCUOUS);
	assert_null(ctl_vswitch_pvlan(vs, 103, NULL));
	assert_int_equal(vs->portgroups[1].vlan.mode, CTL_VLAN_PVLAN);
	assert_int_equal(vs->portgroups[1].vlan.vid, 101);
	/* Round trip. */
	out = ctl_config_to_json(cfg);
	text = json_dumps(out, JSON_SORT_KEYS);
	assert_non_null(strstr(text,
		"\"pvlans\": [{\"primary\": 100, \"secondaries\": [{\"type\": "
		"\"isolated\", \"vid\": 101}"));
	assert_non_null(strstr(text, "\"vlan\": {\"pvlan\": 101}"));
	free(text);
	json_decref(out);
	ctl_config_free(cfg);

	parse_bad(DOC(PVS(MAP1, "{'name': 'VM Network', 'vlan': {'pvlan': 103}}"), P1),
		"vlan: not in the vSwitch's private VLAN map", false);
	parse_bad(DOC(PVS(MAP1, "{'name': 'VM Network', 'vlan': 101}"), P1),
		"is a private VLAN: use {\"pvlan\": N}", false);
	parse_bad(DOC(PVS("[{'primary': 100, 'secondaries': [{'vid': 100, 'type': 'isolated'}]}]",
			      PG0),
			  P1),
		"VLAN 100 is used twice", false);
	parse_bad(DOC(PVS("[{'primary': 100, 'secondaries': [{'vid': 101, 'type': 'isolated'},"
			  " {'vid': 102, 'type': 'isolated'}]}]",
			      PG0),
			  P1),
		"more than one isolated", false);
	parse_bad(DOC(PVS("[{'primary': 100, 'secondaries': [{'vid': 101, 'type': 'open'}]}]", PG0),
			  P1),
		"pvlans", false);
	parse_bad(DOC(PVS("[{'primary': 5000}]", PG0), P1), "pvlans", false);
	parse_bad(DOC(PVS("[{'primary': 10, 'extra': 1}]", PG0), P1), "pvlans", false);
#undef PVS
#undef MAP1
}

/* Shaping: nested groups, human-free integers, validation of the effective values. */
static void
test_shaping_json(void **state)
{
	struct ctl_config *cfg;
	char err[CTL_ERR_MAX] = "", *text;
	json_t *out, *upd;

	cfg = parse_ok(DOC(
		"{'name': 'vSwitch0', 'policy': {'shaping': {'egress': {'enabled': true,"
		" 'average_bps': 10000000, 'peak_bps': 20000000, 'burst_bytes': 65536}}},"
		" 'portgroups': [" PG0 "]}",
		P1_WITH("'policy': {'shaping': {'ingress': {'enabled': true, 'mode': 'shape'}}}")));
	assert_int_equal(cfg->vswitches[0].policy.v[PG_F_OUT_AVERAGE], 10000000);
	assert_true(pg_policy_has(&cfg->vswitches[0].policy, PG_F_OUT_SHAPING));
	assert_int_equal(cfg->ports[0].policy.v[PG_F_IN_MODE], 1);
	out = ctl_config_to_json(cfg);
	text = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(strstr(text,
		"\"policy\":{\"shaping\":{\"ingress\":{\"enabled\":true,"
		"\"mode\":\"shape\"}}}"));
	free(text);
	json_decref(out);
	/* Peak below average, effective after inheritance: refused. */
	upd = J("{'policy': {'shaping': {'egress': {'peak_bps': 5000000}}}}");
	assert_int_equal(ctl_port_update_json(upd, NULL, &cfg->ports[0], err), 0);
	json_decref(upd);
	assert_int_equal(ctl_config_validate(cfg, err), -EINVAL);
	expect_err(err, "port \"vm1.eth0\": shaping.egress: peak_bps is below average_bps", true);
	/* null on the parent group unsets both directions. */
	upd = J("{'policy': {'shaping': null}}");
	assert_int_equal(ctl_port_update_json(upd, NULL, &cfg->ports[0], err), 0);
	json_decref(upd);
	assert_int_equal(cfg->ports[0].policy.set, 0);
	assert_int_equal(ctl_config_validate(cfg, err), 0);
	ctl_config_free(cfg);

	parse_bad(DOC(VS0,
			  P1_WITH("'policy': {'shaping': {'ingress': {'enabled': true, "
				  "'burst_bytes': 1000}}}")),
		"shaping.ingress: burst_bytes is shorter than the vSwitch's longest frame", false);
	parse_bad(DOC(VS0, P1_WITH("'policy': {'shaping': {'sideways': {}}}")),
		"unknown field \"sideways\" in shaping", false);
	parse_bad(DOC(VS0, P1_WITH("'policy': {'shaping': {'ingress': {'mode': 'slow'}}}")),
		"mode must be \"police\" or \"shape\"", false);
	parse_bad(DOC(VS0, P1_WITH("'policy': {'shaping': {'ingress': {'average_bps': 10}}}")),
		"average_bps must be an integer 1000..", false);
	parse_bad(DOC(VS0, P1_WITH("'policy': {'shaping': {'enabled': true}}")),
		"unknown field \"enabled\" in shaping", false);
}

/* Teaming: scalar fields, the uplink order lists, and their validation. */
static void
test_teaming_json(void **state)
{
#define UP2                                                      \
	"{'name': 'up0', 'devargs': 'net_af_packet0,iface=a'}, " \
	"{'name': 'up1', 'devargs': 'net_af_packet1,iface=b'}"
	struct ctl_config *cfg;
	const struct pg_uplink_order *o;
	char err[CTL_ERR_MAX] = "", *text;
	json_t *out, *upd;

	cfg = parse_ok(DOC(VS("vSwitch0", UP2,
				   "{'name': 'VM Network', 'vlan': 0, 'policy': {'teaming': "
				   "{'load_balancing': 'src_mac', 'failback': false, "
				   "'active': ['up1'], 'standby': ['up0']}}}"),
		P1));
	o = &cfg->vswitches[0].portgroups[0].policy.order;
	assert_true(o->set);
	assert_int_equal(o->n_active, 1);
	assert_string_equal(o->active[0], "up1");
	assert_string_equal(o->standby[0], "up0");
	assert_int_equal(cfg->vswitches[0].portgroups[0].policy.v[PG_F_LOAD_BALANCING], 1);
	out = ctl_config_to_json(cfg);
	text = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(strstr(text,
		"\"teaming\":{\"active\":[\"up1\"],\"failback\":false,"
		"\"load_balancing\":\"src_mac\",\"standby\":[\"up0\"]}"));
	free(text);
	json_decref(out);
	/* null on one list unsets the order; the other fields stay. */
	upd = J("{'policy': {'teaming': {'standby': null}}}");
	assert_int_equal(
		ctl_portgroup_update_json(upd, NULL, &cfg->vswitches[0].portgroups[0], err), 0);
	json_decref(upd);
	assert_false(o->set);
	assert_true(pg_policy_has(&cfg->vswitches[0].portgroups[0].policy, PG_F_FAILBACK));
	/* Only active given: standby empty. */
	upd = J("{'policy': {'teaming': {'active': ['up0', 'up1']}}}");
	assert_int_equal(
		ctl_portgroup_update_json(upd, NULL, &cfg->vswitches[0].portgroups[0], err), 0);
	json_decref(upd);
	assert_int_equal(o->n_active, 2);
	assert_int_equal(o->n_standby, 0);
	assert_int_equal(ctl_config_validate(cfg, err), 0);
	ctl_config_free(cfg);

	parse_bad(DOC(VS("vSwitch0", UP2,
			      "{'name': 'VM Network', 'policy': {'teaming': {'active': ['up9']}}}"),
			  P1),
		"teaming: \"up9\" is not an uplink of the vSwitch", false);
	parse_bad(DOC(VS("vSwitch0", UP2,
			      "{'name': 'VM Network', 'policy': {'teaming': {'active': ['up0'], "
			      "'standby': ['up0']}}}"),
			  P1),
		"named twice", false);
	parse_bad(DOC(VS("vSwitch0", UP2,
			      "{'name': 'VM Network', 'policy': {'teaming': {'active': [], "
			      "'standby': ['up0']}}}"),
			  P1),
		"must name at least one uplink", false);
	parse_bad(DOC(VS("vSwitch0", UP2,
			      "{'name': 'VM Network', 'policy': {'teaming': {'load_balancing': "
			      "'ip_hash', 'failure_detection': 'beacon_probing'}}}"),
			  P1),
		"beacon probing does not work with IP hash", false);
	parse_bad(DOC(VS("vSwitch0", UP2,
			      "{'name': 'VM Network', 'vlan': 4095, 'policy': {'teaming': "
			      "{'failure_detection': 'beacon_probing'}}}"),
			  P1),
		"beacon probing does not work with guest VLAN tagging", false);
	parse_bad(DOC(VS("vSwitch0", UP2, PG0),
			  P1_WITH("'policy': {'teaming': {'failback': false}}")),
		"teaming is set on the vSwitch or the port group, not on a port", false);
	parse_bad(DOC(VS("vSwitch0", UP2, PG0),
			  P1_WITH("'policy': {'teaming': {'load_balancing': 'random'}}")),
		"must be one of \"port_id\", \"src_mac\", \"ip_hash\", \"explicit_failover\"",
		false);
	parse_bad(DOC(VS("vSwitch0", UP2,
			      "{'name': 'VM Network', 'policy': {'teaming': {'active': 'up0'}}}"),
			  P1),
		"teaming.active must be a list", false);
#undef UP2
}

/* Mirroring sessions: codec, validation against the ports, persistence shape. */
static void
test_mirror_json(void **state)
{
#define UPL "{'name': 'up0', 'devargs': 'net_af_packet0,iface=a'}"
#define P2 "{" PORT_FIELDS("vm2.eth0", "/run/portico/vm2.eth0.sock", "52:54:00:00:00:02") "}"
#define DOCM(m)                                                                     \
	"{'vswitches': [" VS("vSwitch0", UPL, PG0) "], 'ports': [" P1 ", " P2 "], " \
						   "'mirrors': [" m "]}"
	struct ctl_config *cfg;
	char err[CTL_ERR_MAX] = "", *text;
	json_t *out;

	cfg = parse_ok(DOCM("{'name': 'm1', 'sources': [{'port': 'vm1.eth0', 'direction': 'in'}, "
			    "{'port': 'up0'}], 'destination': {'port': 'vm2.eth0'}}, "
			    "{'name': 'm2', 'sources': [{'port': 'vm2.eth0'}], "
			    "'destination': {'uplink': 'up0', 'vlan': 999}}"));
	assert_int_equal(cfg->n_mirrors, 2);
	assert_int_equal(cfg->mirrors[0].sources[0].dir, CTL_DIR_IN);
	assert_int_equal(cfg->mirrors[0].sources[1].dir, CTL_DIR_BOTH);
	assert_string_equal(cfg->mirrors[1].dst_uplink, "up0");
	assert_int_equal(cfg->mirrors[1].dst_vlan, 999);
	out = ctl_config_to_json(cfg);
	text = json_dumps(json_object_get(out, "mirrors"), JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(text,
		"[{\"destination\":{\"port\":\"vm2.eth0\"},\"name\":\"m1\",\"sources\":[{"
		"\"direction\":"
		"\"in\",\"port\":\"vm1.eth0\"},{\"direction\":\"both\",\"port\":\"up0\"}]},"
		"{\"destination\":{\"uplink\":\"up0\",\"vlan\":999},\"name\":\"m2\",\"sources\":"
		"[{\"direction\":\"both\",\"port\":\"vm2.eth0\"}]}]");
	free(text);
	json_decref(out);
	/* A port a session names cannot go. */
	assert_int_equal(ctl_config_del_port(cfg, "vm2.eth0"), 0);
	assert_int_equal(ctl_config_validate(cfg, err), -EINVAL);
	expect_err(err, "mirror \"m1\": destination port \"vm2.eth0\" does not exist", true);
	ctl_config_free(cfg);

	parse_bad(DOCM("{'name': 'm', 'sources': [{'port': 'vm1.eth0'}], 'destination': "
		       "{'port': 'vm1.eth0'}}"),
		"cannot be both source and destination", false);
	parse_bad(DOCM("{'name': 'm', 'sources': [], 'destination': {'port': 'vm1.eth0'}}"),
		"must be a list of 1..16", false);
	parse_bad(DOCM("{'name': 'm', 'sources': [{'port': 'vm1.eth0', 'direction': 'up'}], "
		       "'destination': {'port': 'vm2.eth0'}}"),
		"direction must be", false);
	parse_bad(DOCM("{'name': 'm', 'sources': [{'port': 'vm1.eth0'}], 'destination': "
		       "{'uplink': 'up0'}}"),
		"destination\" must be", false);
	parse_bad(DOCM("{'name': 'm', 'sources': [{'port': 'ghost'}], 'destination': "
		       "{'port': 'vm2.eth0'}}"),
		"source \"ghost\" is not a port or an uplink", false);
	parse_bad(DOCM("{'name': 'm', 'sources': [{'port': 'vm1.eth0'}, {'port': 'vm1.eth0'}], "
		       "'destination': {'port': 'vm2.eth0'}}"),
		"named twice", false);
	parse_bad(DOCM("{'name': 'm', 'sources': [{'port': 'vm1.eth0'}], 'destination': "
		       "{'port': 'vm2.eth0'}}, {'name': 'm', 'sources': [{'port': 'vm1.eth0'}], "
		       "'destination': {'port': 'vm2.eth0'}}"),
		"duplicate mirror \"m\"", false);
#undef DOCM
#undef P2
#undef UPL
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_roundtrip),
		cmocka_unit_test(test_defaults_and_empty),
		cmocka_unit_test(test_vlan_from_json_valid),
		cmocka_unit_test(test_vlan_from_json_invalid),
		cmocka_unit_test(test_policy_json),
		cmocka_unit_test(test_pvlan_json),
		cmocka_unit_test(test_shaping_json),
		cmocka_unit_test(test_teaming_json),
		cmocka_unit_test(test_mirror_json),
		cmocka_unit_test(test_vlan_carries),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_from_json_errors),
		cmocka_unit_test(test_from_json_accepts),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_validate_structs),
		cmocka_unit_test(test_limits_json),
		cmocka_unit_test(test_limits_add),
		cmocka_unit_test(test_limits_validate),
		cmocka_unit_test(test_add_del_lookup),
		cmocka_unit_test(test_clone_independent),
		cmocka_unit_test(test_object_codecs),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_fuzz_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
