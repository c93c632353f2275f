/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for vmm/: the VM spec (parsing, validation, derived MACs and
 * paths, JSON round trip) and the QEMU argv builder (KVM vs TCG, boot
 * sources, multiqueue, escaping). Pure: no files, no processes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/argv.h"
#include "vmm/spec.h"

#define DIR "/run/portico"

/* Test documents use single quotes, turned into double quotes by J(). */
#define NIC0 "{'vswitch': 'vSwitch0', 'portgroup': 'VM Network'}"
#define KBOOT "{'kernel': '/img/vmlinuz', 'initrd': '/img/initrd', 'cmdline': 'console=ttyS0'}"
#define VM(fields) "{'name': 'vm1', " fields "}"

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

static void
parse_ok(const char *text, const char *dir, struct vmm_spec *spec)
{
	char err[VMM_ERR_MAX] = "";
	json_t *doc = J(text);
	int rc;

	rc = vmm_spec_from_json(doc, dir, spec, err);
	json_decref(doc);
	if (rc != 0)
		fail_msg("%s: unexpected error %d: %s", text, rc, err);
}

/* Parsing fails with exactly want (or starting with it when prefix). */
static void
parse_bad_rc(const char *text, const char *dir, int want_rc, const char *want, bool prefix)
{
	char err[VMM_ERR_MAX] = "";
	struct vmm_spec spec, before;
	json_t *doc = J(text);
	int rc;

	memset(&spec, 0xa5, sizeof(spec));
	before = spec;
	rc = vmm_spec_from_json(doc, dir, &spec, err);
	json_decref(doc);
	if (rc != want_rc)
		fail_msg("%s: rc %d, want %d (err: %s)", text, rc, want_rc, err);
	if (prefix ? strncmp(err, want, strlen(want)) != 0 : strcmp(err, want) != 0)
		fail_msg("%s:\n got error: %s\nwant error: %s", text, err, want);
	assert_memory_equal(&spec, &before, sizeof(spec)); /* untouched on failure */
}

static void
parse_bad(const char *text, const char *want)
{
	parse_bad_rc(text, DIR, -EINVAL, want, false);
}

/*
 * Spec parsing.
 */

static void
test_parse_full(void **state)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	struct vmm_spec s;

	(void)state;
	parse_ok(VM("'vcpus': 2, 'memory': 512, 'boot': " KBOOT ", 'nics': [{'vswitch': "
		    "'vSwitch0', 'portgroup': 'VM Network', 'mac': '52:54:00:12:34:56', "
		    "'queues': 4, 'socket': '/tmp/a.sock'}], 'console': '/var/log/vm1.log'"),
		DIR, &s);
	assert_string_equal(s.name, "vm1");
	assert_int_equal(s.vcpus, 2);
	assert_int_equal(s.memory, 512);
	assert_int_equal(s.boot.kind, VMM_BOOT_KERNEL);
	assert_string_equal(s.boot.kernel, "/img/vmlinuz");
	assert_string_equal(s.boot.initrd, "/img/initrd");
	assert_string_equal(s.boot.cmdline, "console=ttyS0");
	assert_string_equal(s.boot.disk, "");
	assert_int_equal(s.n_nics, 1);
	assert_string_equal(s.nics[0].vswitch, "vSwitch0");
	assert_string_equal(s.nics[0].portgroup, "VM Network");
	assert_memory_equal(s.nics[0].mac, mac, 6);
	assert_int_equal(s.nics[0].queues, 4);
	assert_string_equal(s.nics[0].socket, "/tmp/a.sock");
	assert_string_equal(s.console, "/var/log/vm1.log");
}

static void
test_parse_defaults(void **state)
{
	struct vmm_spec s;
	uint8_t mac[6];

	(void)state;
	parse_ok("{'name': 'vm1'}", DIR, &s);
	assert_int_equal(s.vcpus, VMM_VCPUS_DEFAULT);
	assert_int_equal(s.memory, VMM_MEMORY_DEFAULT);
	assert_int_equal(s.boot.kind, VMM_BOOT_NONE);
	assert_int_equal(s.n_nics, 0);
	assert_string_equal(s.console, DIR "/vm1.console.log");

	parse_ok(
		VM("'nics': [" NIC0 ", " NIC0 "], 'boot': {'disk': '/img/d.qcow2'}"), DIR "//", &s);
	assert_int_equal(s.boot.kind, VMM_BOOT_DISK);
	assert_int_equal(s.boot.format, VMM_DISK_QCOW2);
	assert_string_equal(s.boot.disk, "/img/d.qcow2");
	assert_int_equal(s.n_nics, 2);
	assert_int_equal(s.nics[0].queues, 1);
	assert_string_equal(s.nics[0].socket, DIR "/vm1.eth0.sock");
	assert_string_equal(s.nics[1].socket, DIR "/vm1.eth1.sock");
	assert_string_equal(s.console, DIR "/vm1.console.log");
	vmm_mac_derive("vm1", 0, mac);
	assert_memory_equal(s.nics[0].mac, mac, 6);
	vmm_mac_derive("vm1", 1, mac);
	assert_memory_equal(s.nics[1].mac, mac, 6);

	/* a state directory of "/" gives no double slash */
	parse_ok(VM("'nics': [" NIC0 "]"), "/", &s);
	assert_string_equal(s.nics[0].socket, "/vm1.eth0.sock");
	assert_string_equal(s.console, "/vm1.console.log");

	/* raw disks; an empty command line is none */
	parse_ok(VM("'boot': {'disk': '/d.img', 'format': 'raw'}"), DIR, &s);
	assert_int_equal(s.boot.format, VMM_DISK_RAW);
	parse_ok(VM("'boot': {'kernel': '/k', 'cmdline': ''}"), DIR, &s);
	assert_int_equal(s.boot.kind, VMM_BOOT_KERNEL);
	assert_string_equal(s.boot.initrd, "");
	assert_string_equal(s.boot.cmdline, "");

	/* everything given: no directory needed */
	parse_ok(VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'socket': '/s'}], 'console': "
		    "'/c'"),
		NULL, &s);
	assert_string_equal(s.nics[0].socket, "/s");
}

static void
test_parse_invalid(void **state)
{
	static const struct {
		const char *json;
		const char *want;
	} cases[] = {
		{"[]", "vm: must be a JSON object"},
		{"{}", "vm: field \"name\" is required"},
		{"{'name': 1}", "vm: field \"name\" must be a string"},
		{"{'name': ''}", "vm \"\": invalid name: a VM name must be 1..58 characters"},
		{"{'name': 'a/b'}",
			"vm \"a/b\": invalid name: a VM name may only hold letters, digits, '.', "
			"'_' and '-'"},
		{"{'name': 'a b'}",
			"vm \"a b\": invalid name: a VM name may only hold letters, digits, '.', "
			"'_' and '-'"},
		{"{'name': 'a,b'}",
			"vm \"a,b\": invalid name: a VM name may only hold letters, digits, '.', "
			"'_' and '-'"},
		{"{'name': '-x'}",
			"vm \"-x\": invalid name: a VM name must start with a letter or "
			"digit"},
		{"{'name': '.x'}",
			"vm \".x\": invalid name: a VM name must start with a letter or "
			"digit"},
		{"{'name': "
		 "'a23456789012345678901234567890123456789012345678901234567890'}",
			"vm \"a23456789012345678901234567890123456789012345678901234567890\": "
			"invalid name: a VM name must be 1..58 characters"},
		{VM("'vcpus': 0"), "vm \"vm1\": field \"vcpus\" must be an integer 1..64"},
		{VM("'vcpus': 65"), "vm \"vm1\": field \"vcpus\" must be an integer 1..64"},
		{VM("'vcpus': '2'"), "vm \"vm1\": field \"vcpus\" must be an integer 1..64"},
		{VM("'vcpus': 2.0"), "vm \"vm1\": field \"vcpus\" must be an integer 1..64"},
		{VM("'memory': 31"),
			"vm \"vm1\": field \"memory\" must be an integer 32..1048576 (MiB)"},
		{VM("'memory': 1048577"),
			"vm \"vm1\": field \"memory\" must be an integer 32..1048576 (MiB)"},
		{VM("'memory': null"),
			"vm \"vm1\": field \"memory\" must be an integer 32..1048576 (MiB)"},
		{VM("'boot': '/k'"),
			"vm \"vm1\": field \"boot\" must be an object with \"disk\" or \"kernel\""},
		{VM("'boot': {}"), "vm \"vm1\": boot: \"disk\" or \"kernel\" is required"},
		{VM("'boot': {'disk': '/d', 'kernel': '/k'}"),
			"vm \"vm1\": boot: give either \"disk\" or \"kernel\", not both"},
		{VM("'boot': {'disk': '/d', 'initrd': '/i'}"),
			"vm \"vm1\": boot: \"initrd\" needs \"kernel\", not \"disk\""},
		{VM("'boot': {'disk': '/d', 'cmdline': 'x'}"),
			"vm \"vm1\": boot: \"cmdline\" needs \"kernel\", not \"disk\""},
		{VM("'boot': {'kernel': '/k', 'format': 'raw'}"),
			"vm \"vm1\": boot: \"format\" needs \"disk\", not \"kernel\""},
		{VM("'boot': {'initrd': '/i'}"),
			"vm \"vm1\": boot: \"disk\" or \"kernel\" is required"},
		{VM("'boot': {'disk': 'd.qcow2'}"),
			"vm \"vm1\": boot: field \"disk\" \"d.qcow2\" must be an absolute path"},
		{VM("'boot': {'disk': '/d', 'format': 'vmdk'}"),
			"vm \"vm1\": boot: field \"format\" must be \"qcow2\" or \"raw\""},
		{VM("'boot': {'kernel': 5}"),
			"vm \"vm1\": boot: field \"kernel\" must be a string"},
		{VM("'boot': {'kernel': '/k\\n'}"),
			"vm \"vm1\": boot: field \"kernel\" \"/k\\x0a\" must not contain control "
			"characters"},
		{VM("'boot': {'kernel': '/k', 'initrd': ''}"),
			"vm \"vm1\": boot: field \"initrd\" \"\" must be an absolute path"},
		{VM("'boot': {'kernel': '/k', 'cmdline': 'a\\tb'}"),
			"vm \"vm1\": boot: field \"cmdline\" \"a\\x09b\" must not contain control "
			"characters"},
		{VM("'boot': {'kernel': '/k', 'cmdline': ['a']}"),
			"vm \"vm1\": boot: field \"cmdline\" must be a string"},
		{VM("'nics': {}"), "vm \"vm1\": field \"nics\" must be an array"},
		{VM("'nics': [" NIC0 "," NIC0 "," NIC0 "," NIC0 "," NIC0 "," NIC0 "," NIC0 "," NIC0
		    "," NIC0 "]"),
			"vm \"vm1\": field \"nics\" has too many NICs (at most 8)"},
		{VM("'nics': ['x']"), "vm \"vm1\": nic 0: must be a JSON object"},
		{VM("'nics': [{'portgroup': 'p'}]"),
			"vm \"vm1\": nic 0: field \"vswitch\" is required"},
		{VM("'nics': [" NIC0 ", {'vswitch': 'v'}]"),
			"vm \"vm1\": nic 1: field \"portgroup\" is required"},
		{VM("'nics': [{'vswitch': 'v 0', 'portgroup': 'p'}]"),
			"vm \"vm1\": nic 0: field \"vswitch\" \"v 0\" is not valid: a name must "
			"not contain spaces"},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': ' p'}]"),
			"vm \"vm1\": nic 0: field \"portgroup\" \" p\" is not valid: a name must "
			"not start or end with a space"},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': ''}]"),
			"vm \"vm1\": nic 0: field \"portgroup\" \"\" is not valid: a name must be "
			"1..63 characters"},
		{VM("'nics': [{'vswitch': 'v/x', 'portgroup': 'p'}]"),
			"vm \"vm1\": nic 0: field \"vswitch\" \"v/x\" is not valid: a name must be "
			"printable ASCII without '/'"},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'mac': '52:54:00:00:00'}]"),
			"vm \"vm1\": nic 0: field \"mac\" must be a MAC address like "
			"\"02:12:34:56:78:9a\""},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'mac': '52-54-00-00-00-01'}]"),
			"vm \"vm1\": nic 0: field \"mac\" must be a MAC address like "
			"\"02:12:34:56:78:9a\""},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'mac': 'g2:54:00:00:00:01'}]"),
			"vm \"vm1\": nic 0: field \"mac\" must be a MAC address like "
			"\"02:12:34:56:78:9a\""},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'mac': '01:00:5e:00:00:01'}]"),
			"vm \"vm1\": nic 0: field \"mac\" 01:00:5e:00:00:01 is a multicast MAC"},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'mac': '00:00:00:00:00:00'}]"),
			"vm \"vm1\": nic 0: field \"mac\" 00:00:00:00:00:00 is the all-zero MAC"},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'queues': 0}]"),
			"vm \"vm1\": nic 0: field \"queues\" must be an integer 1..8"},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'queues': 9}]"),
			"vm \"vm1\": nic 0: field \"queues\" must be an integer 1..8"},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'socket': 'rel.sock'}]"),
			"vm \"vm1\": nic 0: field \"socket\" \"rel.sock\" must be an absolute "
			"path"},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'socket': "
		    "'/2345678901234567890123456789012345678901234567890123456789012345678901234567"
		    "890123456789012345678901234567890'}]"),
			"vm \"vm1\": nic 0: field \"socket\" "
			"\"/"
			"23456789012345678901234567890123456789012345678901234567890123456789012..."
			"\" must be shorter than 108 bytes"},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'mac': '02:00:00:00:00:01'}, "
		    "{'vswitch': 'w', 'portgroup': 'p', 'mac': '02:00:00:00:00:01'}]"),
			"vm \"vm1\": nics 0 and 1 have the same MAC 02:00:00:00:00:01"},
		{VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'socket': '/s'}, {'vswitch': "
		    "'v', 'portgroup': 'p', 'socket': '/s'}]"),
			"vm \"vm1\": nics 0 and 1 have the same socket \"/s\""},
		{VM("'console': 'log'"),
			"vm \"vm1\": field \"console\" \"log\" must be an absolute path"},
		{VM("'console': true"), "vm \"vm1\": field \"console\" must be a string"},
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_bad(cases[i].json, cases[i].want);
}

static void
test_parse_unknown_fields(void **state)
{
	(void)state;
	parse_bad(VM("'vcpu': 2"), "vm \"vm1\": unknown field \"vcpu\"");
	parse_bad(VM("'memory_mb': 2"), "vm \"vm1\": unknown field \"memory_mb\"");
	parse_bad(VM("'boot': {'kernal': '/k'}"), "vm \"vm1\": boot: unknown field \"kernal\"");
	parse_bad(VM("'nics': [" NIC0 ", {'vswitch': 'v', 'portgroup': 'p', 'queue': 2}]"),
		"vm \"vm1\": nic 1: unknown field \"queue\"");
	parse_bad(VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'mac ': '02:00:00:00:00:01'}]"),
		"vm \"vm1\": nic 0: unknown field \"mac \"");
	/* a key with a NUL byte in it is not "vcpus" (jansson's parser refuses them) */
	{
		char err[VMM_ERR_MAX] = "";
		json_t *doc = J("{'name': 'vm1'}");
		struct vmm_spec spec;

		assert_int_equal(json_object_setn_new(doc, "vcpus\0", 6, json_integer(2)), 0);
		assert_int_equal(vmm_spec_from_json(doc, DIR, &spec, err), -EINVAL);
		assert_string_equal(err, "vm \"vm1\": unknown field \"vcpus\\x00\"");
		json_decref(doc);
	}
}

static void
test_parse_dir(void **state)
{
	(void)state;
	parse_bad_rc(VM("'nics': [" NIC0 "], 'console': '/c'"), NULL, -EINVAL,
		"vm \"vm1\": nic 0: socket is required (no state directory to derive it from)",
		false);
	parse_bad_rc("{'name': 'vm1'}", NULL, -EINVAL,
		"vm \"vm1\": console is required (no state directory to derive it from)", false);
	parse_bad_rc("{'name': 'vm1'}", "run", -EINVAL,
		"vm \"vm1\": state directory \"run\" must be an absolute path", false);
	parse_bad_rc(VM("'nics': [" NIC0 "], 'console': '/c'"),
		"/0123456789/0123456789/0123456789/0123456789/0123456789/0123456789/0123456789/"
		"0123456789/0123456789",
		-ENAMETOOLONG,
		"vm \"vm1\": nic 0: socket derived from state directory \"/0123456789/", true);
}

/*
 * MACs and names.
 */

static void
test_mac_derive(void **state)
{
	/* pinned: a change here renames every NIC of every stored VM without a MAC */
	static const uint8_t vm1_0[6] = {0x02, 0xef, 0x98, 0x78, 0x25, 0x0a};
	uint8_t a[6], b[6];
	char name[32], text[18];
	static uint8_t seen[400 * VMM_MAX_NICS][6];
	unsigned i, j, k, n = 0;

	(void)state;
	vmm_mac_derive("vm1", 0, a);
	vmm_mac_derive("vm1", 0, b);
	assert_memory_equal(a, b, 6); /* stable */
	vmm_mac_format(a, text);
	if (memcmp(a, vm1_0, 6) != 0)
		fail_msg("vmm_mac_derive(\"vm1\", 0) changed: %s", text);
	vmm_mac_derive("vm1", 1, b);
	assert_memory_not_equal(a, b, 6); /* per NIC */
	vmm_mac_derive("vm2", 0, b);
	assert_memory_not_equal(a, b, 6); /* per VM */
	vmm_mac_derive("vm10", 0, b);
	assert_memory_not_equal(a, b, 6);

	/* always 02:..., all distinct over many VMs */
	for (i = 0; i < 400; i++) {
		snprintf(name, sizeof(name), "vm%u", i);
		for (j = 0; j < VMM_MAX_NICS; j++) {
			vmm_mac_derive(name, j, seen[n]);
			assert_int_equal(seen[n][0], 0x02); /* locally administered, unicast */
			for (k = 0; k < n; k++)
				assert_memory_not_equal(seen[k], seen[n], 6);
			n++;
		}
	}
}

static void
test_mac_text(void **state)
{
	uint8_t mac[6];
	char text[18];

	(void)state;
	assert_int_equal(vmm_mac_parse("02:AB:cd:00:ff:10", mac), 0);
	vmm_mac_format(mac, text);
	assert_string_equal(text, "02:ab:cd:00:ff:10");
	assert_int_equal(vmm_mac_parse("02:ab:cd:00:ff:1", mac), -EINVAL);
	assert_int_equal(vmm_mac_parse("02:ab:cd:00:ff:100", mac), -EINVAL);
	assert_int_equal(vmm_mac_parse("02:ab:cd:00:ff;10", mac), -EINVAL);
	assert_int_equal(vmm_mac_parse(NULL, mac), -EINVAL);
}

static void
test_port_name(void **state)
{
	char buf[VMM_PORT_NAME_MAX];
	struct vmm_spec s;

	(void)state;
	vmm_spec_init(&s);
	strcpy(s.name, "vm1");
	assert_int_equal(vmm_nic_port_name(&s, 3, buf), 0);
	assert_string_equal(buf, "vm1.eth3");
	assert_int_equal(vmm_nic_port_name(&s, VMM_MAX_NICS, buf), -EINVAL);
	/* the longest name still gives a porticod port name (<= 63 characters) */
	memset(s.name, 'a', VMM_NAME_MAX - 1);
	assert_int_equal(vmm_nic_port_name(&s, 7, buf), 0);
	assert_int_equal(strlen(buf), 63);
}

/* A spec built by hand is validated like a parsed one. */
static void
test_validate_struct(void **state)
{
	char err[VMM_ERR_MAX];
	struct vmm_spec s;

	(void)state;
	vmm_spec_init(&s);
	strcpy(s.name, "vm1");
	s.n_nics = 2;
	strcpy(s.nics[0].vswitch, "v");
	strcpy(s.nics[0].portgroup, "p");
	s.nics[0].queues = 1;
	s.nics[1] = s.nics[0];
	assert_int_equal(vmm_spec_resolve(&s, DIR, err), 0);
	assert_int_equal(vmm_spec_validate(&s, err), 0);

	s.nics[1].queues = 0;
	assert_int_equal(vmm_spec_validate(&s, err), -EINVAL);
	assert_string_equal(err, "vm \"vm1\": nic 1: queues 0 is out of range 1..8");
	s.nics[1].queues = 1;
	s.vcpus = 0;
	assert_int_equal(vmm_spec_validate(&s, err), -EINVAL);
	assert_string_equal(err, "vm \"vm1\": vcpus 0 is out of range 1..64");
	s.vcpus = 1;
	s.boot.kind = VMM_BOOT_KERNEL; /* no kernel path */
	assert_int_equal(vmm_spec_validate(&s, err), -EINVAL);
	assert_string_equal(err, "vm \"vm1\": boot: kernel \"\" must be an absolute path");
	s.boot.kind = VMM_BOOT_NONE;
	memset(s.nics[1].mac, 0, 6);
	assert_int_equal(vmm_spec_validate(&s, err), -EINVAL);
	assert_string_equal(err, "vm \"vm1\": nic 1: mac 00:00:00:00:00:00 is the all-zero MAC");
	assert_int_equal(vmm_spec_validate(NULL, err), -EINVAL);
}

static void
test_round_trip(void **state)
{
	static const char *const docs[] = {
		VM("'vcpus': 3, 'memory': 1024, 'boot': " KBOOT ", 'nics': [" NIC0
		   ", {'vswitch': 'vSwitch1', 'portgroup': 'VLAN 10', 'mac': "
		   "'52:54:00:aa:bb:cc', 'queues': 8, 'socket': '/tmp/x,y.sock'}]"),
		VM("'boot': {'disk': '/img/d.raw', 'format': 'raw'}, 'console': '/c.log'"),
		VM("'boot': {'kernel': '/k'}"),
		"{'name': 'vm1'}",
	};
	struct vmm_spec a, b;
	char err[VMM_ERR_MAX];
	json_t *j1, *j2;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		parse_ok(docs[i], DIR, &a);
		j1 = vmm_spec_to_json(&a);
		assert_non_null(j1);
		/* the stored form needs no directory: every derived field is in it */
		if (vmm_spec_from_json(j1, NULL, &b, err) != 0)
			fail_msg("%s: round trip: %s", docs[i], err);
		assert_memory_equal(&a, &b, sizeof(a));
		j2 = vmm_spec_to_json(&b);
		assert_true(json_equal(j1, j2));
		json_decref(j1);
		json_decref(j2);
	}

	/* the exact stored form */
	parse_ok(VM("'boot': {'disk': '/d'}, 'nics': [{'vswitch': 'v', 'portgroup': 'p', 'mac': "
		    "'02:00:00:00:00:01'}]"),
		DIR, &a);
	j1 = vmm_spec_to_json(&a);
	j2 = J("{'name': 'vm1', 'vcpus': 1, 'memory': 256, 'boot': {'disk': '/d', 'format': "
	       "'qcow2'}, 'nics': [{'vswitch': 'v', 'portgroup': 'p', 'mac': "
	       "'02:00:00:00:00:01', 'queues': 1, 'socket': '/run/portico/vm1.eth0.sock'}], "
	       "'console': '/run/portico/vm1.console.log'}");
	assert_true(json_equal(j1, j2));
	json_decref(j1);
	json_decref(j2);
}

/*
 * The argv builder.
 */

static const struct vmm_host TCG = {.kvm = false, .qemu = "qemu-system-x86_64", .run_dir = DIR};
static const struct vmm_host KVM = {
	.kvm = true, .qemu = "/usr/bin/qemu-system-x86_64", .run_dir = DIR};

static char **
build_ok(const char *text, const struct vmm_host *host)
{
	char err[VMM_ERR_MAX] = "";
	struct vmm_spec s;
	char **argv;

	parse_ok(text, DIR, &s);
	argv = vmm_argv_build(&s, host, err);
	if (argv == NULL)
		fail_msg("%s: vmm_argv_build: %s", text, err);
	return argv;
}

static unsigned
argc_of(char **argv)
{
	unsigned n = 0;

	while (argv[n] != NULL)
		n++;
	return n;
}

/* The value after the n-th occurrence of option opt, or NULL. */
static const char *
opt_value(char **argv, const char *opt, unsigned n)
{
	unsigned i;

	for (i = 1; argv[i] != NULL; i++)
		if (strcmp(argv[i], opt) == 0 && argv[i + 1] != NULL && n-- == 0)
			return argv[i + 1];
	return NULL;
}

static bool
has_arg(char **argv, const char *arg)
{
	unsigned i;

	for (i = 0; argv[i] != NULL; i++)
		if (strcmp(argv[i], arg) == 0)
			return true;
	return false;
}

#define OFFLOADS                                                                  \
	"csum=off,gso=off,host_tso4=off,host_tso6=off,host_ecn=off,host_ufo=off," \
	"guest_csum=off,guest_tso4=off,guest_tso6=off,guest_ecn=off,guest_ufo=off"

/* The whole command line of a 1-NIC VM under TCG, as QEMU gets it. */
static void
test_argv_tcg_exact(void **state)
{
	static const char *const want[] = {
		"qemu-system-x86_64",
		"-name",
		"guest=vm1",
		"-no-user-config",
		"-nodefaults",
		"-nographic",
		"-machine",
		"q35,memory-backend=mem",
		"-object",
		"memory-backend-memfd,id=mem,size=256M,share=on",
		"-m",
		"256M",
		"-accel",
		"tcg",
		"-smp",
		"1",
		"-chardev",
		"socket,id=console,path=/run/portico/vm1.console,server=on,wait=off,"
		"logfile=/run/portico/vm1.console.log,logappend=on",
		"-serial",
		"chardev:console",
		"-qmp",
		"unix:/run/portico/vm1.qmp,server=on,wait=off",
		"-pidfile",
		"/run/portico/vm1.pid",
		"-kernel",
		"/img/vmlinuz",
		"-initrd",
		"/img/initrd",
		"-append",
		"console=ttyS0",
		"-chardev",
		"socket,id=char0,path=/run/portico/vm1.eth0.sock,server=on,wait=off",
		"-netdev",
		"vhost-user,id=net0,chardev=char0,queues=1",
		"-device",
		"virtio-net-pci,id=nic0,netdev=net0,mac=02:12:34:56:78:9a," OFFLOADS ",vectors=0",
	};
	char **argv;
	unsigned i;

	(void)state;
	argv = build_ok(VM("'boot': " KBOOT ", 'nics': [{'vswitch': 'vSwitch0', 'portgroup': "
			   "'VM Network', 'mac': '02:12:34:56:78:9a'}]"),
		&TCG);
	for (i = 0; argv[i] != NULL; i++)
		print_message("%s%s", i == 0 ? "" : " ", argv[i]);
	print_message("\n");
	assert_int_equal(argc_of(argv), sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(argv[i], want[i]);
	vmm_argv_free(argv);
}

static void
test_argv_kvm_vs_tcg(void **state)
{
	const char *doc = VM("'vcpus': 4, 'memory': 2048, 'nics': [{'vswitch': 'v', "
			     "'portgroup': 'p', 'mac': '02:00:00:00:00:01'}]");
	struct vmm_host host = KVM;
	char **argv;

	(void)state;
	argv = build_ok(doc, &KVM);
	assert_string_equal(argv[0], "/usr/bin/qemu-system-x86_64");
	assert_string_equal(opt_value(argv, "-accel", 0), "kvm");
	assert_string_equal(opt_value(argv, "-cpu", 0), "host");
	assert_string_equal(opt_value(argv, "-smp", 0), "4");
	assert_string_equal(opt_value(argv, "-m", 0), "2048M");
	assert_string_equal(
		opt_value(argv, "-object", 0), "memory-backend-memfd,id=mem,size=2048M,share=on");
	/* one queue pair under KVM: MSI-X with QEMU's default vectors, no mq */
	assert_string_equal(opt_value(argv, "-device", 0),
		"virtio-net-pci,id=nic0,netdev=net0,mac=02:00:00:00:00:01," OFFLOADS);
	assert_null(opt_value(argv, "-kernel", 0));
	assert_null(opt_value(argv, "-drive", 0));
	vmm_argv_free(argv);

	/* a host whose KVM needs another CPU model */
	host.kvm_cpu = "host,-arch-capabilities";
	argv = build_ok(doc, &host);
	assert_string_equal(opt_value(argv, "-cpu", 0), "host,-arch-capabilities");
	vmm_argv_free(argv);

	argv = build_ok(doc, &TCG);
	assert_string_equal(opt_value(argv, "-accel", 0), "tcg");
	assert_null(opt_value(argv, "-cpu", 0));
	assert_string_equal(opt_value(argv, "-device", 0),
		"virtio-net-pci,id=nic0,netdev=net0,mac=02:00:00:00:00:01," OFFLOADS ",vectors=0");
	vmm_argv_free(argv);
}

static void
test_argv_multiqueue(void **state)
{
	const char *doc = VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'mac': "
			     "'02:00:00:00:00:01', 'queues': 4}, {'vswitch': 'v', 'portgroup': "
			     "'p', 'mac': '02:00:00:00:00:02', 'queues': 8}, {'vswitch': 'v', "
			     "'portgroup': 'p', 'mac': '02:00:00:00:00:03'}]");
	char **argv;

	(void)state;
	argv = build_ok(doc, &KVM);
	assert_string_equal(
		opt_value(argv, "-netdev", 0), "vhost-user,id=net0,chardev=char0,queues=4");
	assert_string_equal(opt_value(argv, "-device", 0),
		"virtio-net-pci,id=nic0,netdev=net0,mac=02:00:00:00:00:01," OFFLOADS
		",mq=on,vectors=10");
	assert_string_equal(
		opt_value(argv, "-netdev", 1), "vhost-user,id=net1,chardev=char1,queues=8");
	assert_string_equal(opt_value(argv, "-device", 1),
		"virtio-net-pci,id=nic1,netdev=net1,mac=02:00:00:00:00:02," OFFLOADS
		",mq=on,vectors=18");
	assert_string_equal(opt_value(argv, "-chardev", 3),
		"socket,id=char2,path=/run/portico/vm1.eth2.sock,server=on,wait=off");
	assert_string_equal(opt_value(argv, "-device", 2),
		"virtio-net-pci,id=nic2,netdev=net2,mac=02:00:00:00:00:03," OFFLOADS);
	assert_null(opt_value(argv, "-device", 3));
	vmm_argv_free(argv);

	/* TCG: still multiqueue, but never MSI-X */
	argv = build_ok(doc, &TCG);
	assert_string_equal(opt_value(argv, "-device", 0),
		"virtio-net-pci,id=nic0,netdev=net0,mac=02:00:00:00:00:01," OFFLOADS
		",mq=on,vectors=0");
	assert_string_equal(opt_value(argv, "-device", 2),
		"virtio-net-pci,id=nic2,netdev=net2,mac=02:00:00:00:00:03," OFFLOADS ",vectors=0");
	vmm_argv_free(argv);
}

static void
test_argv_boot(void **state)
{
	char **argv;

	(void)state;
	argv = build_ok(VM("'boot': {'disk': '/img/d.qcow2'}"), &KVM);
	assert_string_equal(
		opt_value(argv, "-drive", 0), "file=/img/d.qcow2,format=qcow2,if=virtio");
	assert_null(opt_value(argv, "-kernel", 0));
	assert_false(has_arg(argv, "-append"));
	vmm_argv_free(argv);

	argv = build_ok(VM("'boot': {'disk': '/img/a,b.img', 'format': 'raw'}"), &KVM);
	assert_string_equal(
		opt_value(argv, "-drive", 0), "file=/img/a,,b.img,format=raw,if=virtio");
	vmm_argv_free(argv);

	/* kernel without initrd and command line; verbatim arguments are not escaped */
	argv = build_ok(VM("'boot': {'kernel': '/img/vm,linuz'}"), &TCG);
	assert_string_equal(opt_value(argv, "-kernel", 0), "/img/vm,linuz");
	assert_false(has_arg(argv, "-initrd"));
	assert_false(has_arg(argv, "-append"));
	assert_false(has_arg(argv, "-drive"));
	vmm_argv_free(argv);

	argv = build_ok(VM("'boot': {'kernel': '/k', 'cmdline': 'ip=10.0.0.1::,x quiet'}"), &TCG);
	assert_string_equal(opt_value(argv, "-append", 0), "ip=10.0.0.1::,x quiet");
	vmm_argv_free(argv);
}

static void
test_argv_escaping(void **state)
{
	static const struct vmm_host host = {.qemu = "qemu", .run_dir = "/run/a,b/"};
	char **argv;

	(void)state;
	argv = build_ok(VM("'nics': [{'vswitch': 'v', 'portgroup': 'p', 'socket': "
			   "'/s,1.sock'}], 'console': '/log,s/c'"),
		&host);
	assert_string_equal(opt_value(argv, "-chardev", 0),
		"socket,id=console,path=/run/a,,b/vm1.console,"
		"server=on,wait=off,logfile=/log,,s/c,logappend=on");
	assert_string_equal(
		opt_value(argv, "-qmp", 0), "unix:/run/a,,b/vm1.qmp,server=on,wait=off");
	assert_string_equal(opt_value(argv, "-pidfile", 0), "/run/a,b/vm1.pid");
	assert_string_equal(opt_value(argv, "-chardev", 1),
		"socket,id=char0,path=/s,,1.sock,server=on,wait=off");
	vmm_argv_free(argv);
}

static void
test_argv_errors(void **state)
{
	char err[VMM_ERR_MAX], run[200];
	struct vmm_host host = TCG;
	struct vmm_spec s;
	char **argv;

	(void)state;
	parse_ok("{'name': 'vm1'}", DIR, &s);

	s.memory = 1;
	errno = 0;
	assert_null(vmm_argv_build(&s, &TCG, err));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "vm \"vm1\": memory 1 MiB is out of range 32..1048576");
	s.memory = 256;

	host.qemu = NULL;
	errno = 0;
	assert_null(vmm_argv_build(&s, &host, err));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "no usable QEMU binary given");

	host = KVM;
	host.kvm_cpu = "";
	assert_null(vmm_argv_build(&s, &host, err));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "bad KVM CPU model");

	host = TCG;
	host.run_dir = "run";
	assert_null(vmm_argv_build(&s, &host, err));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "run directory must be an absolute path");

	/* the QMP socket must fit a unix socket address */
	memset(run, 'r', sizeof(run) - 1);
	run[0] = '/';
	run[100] = '\0';
	host.run_dir = run;
	errno = 0;
	assert_null(vmm_argv_build(&s, &host, err));
	assert_int_equal(errno, ENAMETOOLONG);
	assert_non_null(strstr(err, "is too long for its QMP socket, console socket or pidfile"));

	/* a NULL err is allowed */
	assert_null(vmm_argv_build(&s, &host, NULL));
	host.run_dir = DIR;
	argv = vmm_argv_build(&s, &host, NULL);
	assert_non_null(argv);
	vmm_argv_free(argv);
	vmm_argv_free(NULL);
}

static void
test_run_path(void **state)
{
	static const struct vmm_host root = {.qemu = "q", .run_dir = "/"};
	char buf[VMM_PATH_MAX];

	(void)state;
	assert_int_equal(vmm_run_path(&TCG, "vm1", VMM_RUN_QMP, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/portico/vm1.qmp");
	assert_int_equal(vmm_run_path(&TCG, "vm1", VMM_RUN_PID, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/portico/vm1.pid");
	assert_int_equal(vmm_run_path(&TCG, "vm1", VMM_RUN_CONSOLE, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/portico/vm1.console");
	assert_int_equal(vmm_run_path(&root, "vm1", VMM_RUN_QMP, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/vm1.qmp");
	assert_int_equal(vmm_run_path(&TCG, "vm1", VMM_RUN_QMP, buf, 10), -ENAMETOOLONG);
	assert_int_equal(vmm_run_path(&TCG, "a/b", VMM_RUN_QMP, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(vmm_run_path(NULL, "vm1", VMM_RUN_QMP, buf, sizeof(buf)), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_defaults),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_unknown_fields),
		cmocka_unit_test(test_parse_dir),
		cmocka_unit_test(test_mac_derive),
		cmocka_unit_test(test_mac_text),
		cmocka_unit_test(test_port_name),
		cmocka_unit_test(test_validate_struct),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_argv_tcg_exact),
		cmocka_unit_test(test_argv_kvm_vs_tcg),
		cmocka_unit_test(test_argv_multiqueue),
		cmocka_unit_test(test_argv_boot),
		cmocka_unit_test(test_argv_escaping),
		cmocka_unit_test(test_argv_errors),
		cmocka_unit_test(test_run_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
