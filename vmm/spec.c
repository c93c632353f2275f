/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VM spec: defaults, derivation of MACs and paths, validation and the JSON
 * codec (see spec.h).
 *
 * Pure: jansson and libc, no I/O and no globals. The host agent parses specs
 * it is given (vm.create) or has stored (its inventory) with this; argv.c
 * validates again before building a command line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm/spec.h"

#define ESC_MAX 80 /* escaped user text in an error message */
#define WHERE_MAX 96 /* error prefix: vm "<name>": nic <i>; "<name>" is at most 60 bytes */

/* Which characters a vSwitch or port group name may hold (porticod's rules). */
enum name_kind {
	NAME_PLAIN, /* vSwitch: no spaces at all */
	NAME_SPACES, /* port group: inner spaces allowed ("VM Network") */
};

static void set_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_err(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err, VMM_ERR_MAX, fmt, ap);
	va_end(ap);
}

/*
 * Make user text safe to quote in a one-line message: '"', '\' and
 * non-printable bytes are escaped, long text is cut with "...".
 */
static const char *
esc(char buf[ESC_MAX], const char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 8 >= ESC_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\')
			o += snprintf(buf + o, ESC_MAX - o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			o += snprintf(buf + o, ESC_MAX - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Problems with values, as "why not" strings: NULL when fine.
 */

static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static const char *
vm_name_problem(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= VMM_NAME_MAX)
		return "a VM name must be 1..58 characters";
	if (!is_alnum((unsigned char)s[0]))
		return "a VM name must start with a letter or digit";
	for (i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return "a VM name may only hold letters, digits, '.', '_' and '-'";
	return NULL;
}

static const char *
net_name_problem(const char *s, size_t len, enum name_kind kind)
{
	size_t i;

	if (len == 0 || len >= VMM_NET_NAME_MAX)
		return "a name must be 1..63 characters";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '/')
			return "a name must be printable ASCII without '/'";
		if (c == ' ' && kind == NAME_PLAIN)
			return "a name must not contain spaces";
	}
	if (s[0] == ' ' || s[len - 1] == ' ')
		return "a name must not start or end with a space";
	return NULL;
}

/* A path QEMU is given: absolute, shorter than max, no control characters. */
static const char *
path_problem(const char *s, size_t len, size_t max)
{
	size_t i;

	if (len == 0 || s[0] != '/')
		return "must be an absolute path";
	if (len >= max)
		return max == VMM_SOCK_MAX ? "must be shorter than 108 bytes"
					   : "must be shorter than 1024 bytes";
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return "must not contain control characters";
	return NULL;
}

static const char *
cmdline_problem(const char *s, size_t len)
{
	size_t i;

	if (len >= VMM_CMDLINE_MAX)
		return "must be shorter than 2048 bytes";
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return "must not contain control characters";
	return NULL;
}

/* NULL when mac can be a vNIC's MAC, else why not. */
static const char *
mac_problem(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	if (mac[0] & 1)
		return "is a multicast MAC";
	if (memcmp(mac, zero, sizeof(zero)) == 0)
		return "is the all-zero MAC";
	return NULL;
}

static bool
mac_is_zero(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return memcmp(mac, zero, sizeof(zero)) == 0;
}

/*
 * MACs.
 */

static uint64_t
fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void
vmm_mac_derive(const char *name, unsigned index, uint8_t mac[6])
{
	static const char salt[] = "portico-vmm"; /* hashed with its NUL */
	unsigned char idx[4];
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned i;

	for (i = 0; i < sizeof(idx); i++)
		idx[i] = (unsigned char)(index >> (8 * i));
	h = fnv1a(h, salt, sizeof(salt));
	h = fnv1a(h, name, strlen(name) + 1);
	h = fnv1a(h, idx, sizeof(idx));
	/* fmix64: FNV's low bits are poorly mixed on short inputs */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	mac[0] = 0x02; /* locally administered, unicast */
	for (i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
vmm_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t tmp[6];
	int hi, lo;
	unsigned i;

	if (s == NULL || strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		hi = hex_digit(s[3 * i]);
		lo = hex_digit(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, tmp, sizeof(tmp));
	return 0;
}

void
vmm_mac_format(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		mac[5]);
}

int
vmm_nic_port_name(const struct vmm_spec *spec, unsigned index, char buf[VMM_PORT_NAME_MAX])
{
	size_t len = strnlen(spec->name, VMM_NAME_MAX);

	if (index >= VMM_MAX_NICS || vm_name_problem(spec->name, len) != NULL)
		return -EINVAL;
	snprintf(buf, VMM_PORT_NAME_MAX, "%s.eth%u", spec->name, index);
	return 0;
}

/*
 * Defaults and derivation.
 */

void
vmm_spec_init(struct vmm_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->vcpus = VMM_VCPUS_DEFAULT;
	spec->memory = VMM_MEMORY_DEFAULT;
}

/* Put "<dir>/<name><suffix>" in buf[size]; what names it in messages. */
static int
derive_path(const struct vmm_spec *spec, const char *dir, const char *what, const char *suffix,
	char *buf, size_t size, char *err)
{
	char ebuf[ESC_MAX];
	size_t dlen;
	int n;

	if (dir == NULL) {
		set_err(err, "vm \"%s\": %s is required (no state directory to derive it from)",
			spec->name, what);
		return -EINVAL;
	}
	dlen = strlen(dir);
	if (dir[0] != '/') {
		set_err(err, "vm \"%s\": state directory \"%s\" must be an absolute path",
			spec->name, esc(ebuf, dir, dlen));
		return -EINVAL;
	}
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	if (dlen == 1)
		dlen = 0; /* "/" + "/name" would give "//name" */
	n = snprintf(buf, size, "%.*s/%s%s", (int)dlen, dir, spec->name, suffix);
	if (n < 0 || (size_t)n >= size) {
		set_err(err,
			"vm \"%s\": %s derived from state directory \"%s\" would be longer than "
			"%zu bytes; give it or use a shorter directory",
			spec->name, what, esc(ebuf, dir, strlen(dir)), size - 1);
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int
vmm_spec_resolve(struct vmm_spec *spec, const char *dir, char *err)
{
	char ebuf[ESC_MAX], what[32], suffix[32];
	struct vmm_nic *nic;
	const char *why;
	unsigned i;
	int rc;

	why = vm_name_problem(spec->name, strnlen(spec->name, VMM_NAME_MAX));
	if (why != NULL) {
		set_err(err, "vm \"%s\": invalid name: %s",
			esc(ebuf, spec->name, strnlen(spec->name, VMM_NAME_MAX)), why);
		return -EINVAL;
	}
	if (spec->n_nics > VMM_MAX_NICS) {
		set_err(err, "vm \"%s\": too many NICs (at most %u)", spec->name, VMM_MAX_NICS);
		return -EINVAL;
	}
	for (i = 0; i < spec->n_nics; i++) {
		nic = &spec->nics[i];
		if (mac_is_zero(nic->mac))
			vmm_mac_derive(spec->name, i, nic->mac);
		if (nic->socket[0] == '\0') {
			snprintf(what, sizeof(what), "nic %u: socket", i);
			snprintf(suffix, sizeof(suffix), ".eth%u.sock", i);
			rc = derive_path(
				spec, dir, what, suffix, nic->socket, sizeof(nic->socket), err);
			if (rc < 0)
				return rc;
		}
	}
	if (spec->console[0] == '\0')
		return derive_path(spec, dir, "console", ".console.log", spec->console,
			sizeof(spec->console), err);
	return 0;
}

/*
 * Validation.
 */

/* Check a NUL-terminated path field of size bytes. */
static int
check_path(const char *where, const char *field, const char *s, size_t size, char *err)
{
	char ebuf[ESC_MAX];
	size_t len = strnlen(s, size);
	const char *why = path_problem(s, len, size);

	if (why == NULL)
		return 0;
	set_err(err, "%s: %s \"%s\" %s", where, field, esc(ebuf, s, len), why);
	return -EINVAL;
}

static int
validate_boot(const char *where, const struct vmm_boot *b, char *err)
{
	char ebuf[ESC_MAX];
	const char *why;
	size_t len;

	switch (b->kind) {
	case VMM_BOOT_NONE:
		return 0;
	case VMM_BOOT_DISK:
		if (b->format != VMM_DISK_QCOW2 && b->format != VMM_DISK_RAW) {
			set_err(err, "%s: boot: unknown disk format %d", where, (int)b->format);
			return -EINVAL;
		}
		return check_path(where, "boot: disk", b->disk, sizeof(b->disk), err);
	case VMM_BOOT_KERNEL:
		if (check_path(where, "boot: kernel", b->kernel, sizeof(b->kernel), err) < 0)
			return -EINVAL;
		if (b->initrd[0] != '\0' &&
			check_path(where, "boot: initrd", b->initrd, sizeof(b->initrd), err) < 0)
			return -EINVAL;
		len = strnlen(b->cmdline, sizeof(b->cmdline));
		why = cmdline_problem(b->cmdline, len);
		if (why != NULL) {
			set_err(err, "%s: boot: cmdline \"%s\" %s", where,
				esc(ebuf, b->cmdline, len), why);
			return -EINVAL;
		}
		return 0;
	}
	set_err(err, "%s: boot: unknown kind %d", where, (int)b->kind);
	return -EINVAL;
}

static int
validate_nic(const char *vm_where, unsigned i, const struct vmm_nic *nic, char *err)
{
	char where[WHERE_MAX], ebuf[ESC_MAX], mac[18];
	const char *why;
	size_t len;

	snprintf(where, sizeof(where), "%.72s: nic %u", vm_where, i);
	len = strnlen(nic->vswitch, sizeof(nic->vswitch));
	why = net_name_problem(nic->vswitch, len, NAME_PLAIN);
	if (why != NULL) {
		set_err(err, "%s: vswitch \"%s\" is not valid: %s", where,
			esc(ebuf, nic->vswitch, len), why);
		return -EINVAL;
	}
	len = strnlen(nic->portgroup, sizeof(nic->portgroup));
	why = net_name_problem(nic->portgroup, len, NAME_SPACES);
	if (why != NULL) {
		set_err(err, "%s: portgroup \"%s\" is not valid: %s", where,
			esc(ebuf, nic->portgroup, len), why);
		return -EINVAL;
	}
	why = mac_problem(nic->mac);
	if (why != NULL) {
		vmm_mac_format(nic->mac, mac);
		set_err(err, "%s: mac %s %s", where, mac, why);
		return -EINVAL;
	}
	if (nic->queues < 1 || nic->queues > VMM_MAX_QUEUES) {
		set_err(err, "%s: queues %u is out of range 1..%u", where, (unsigned)nic->queues,
			VMM_MAX_QUEUES);
		return -EINVAL;
	}
	return check_path(where, "socket", nic->socket, sizeof(nic->socket), err);
}

int
vmm_spec_validate(const struct vmm_spec *spec, char *err)
{
	char where[WHERE_MAX], ebuf[ESC_MAX], mac[18];
	const struct vmm_nic *a, *b;
	size_t len;
	const char *why;
	unsigned i, j;

	if (spec == NULL) {
		set_err(err, "no VM spec");
		return -EINVAL;
	}
	len = strnlen(spec->name, VMM_NAME_MAX);
	why = vm_name_problem(spec->name, len);
	if (why != NULL) {
		set_err(err, "vm \"%s\": invalid name: %s", esc(ebuf, spec->name, len), why);
		return -EINVAL;
	}
	snprintf(where, sizeof(where), "vm \"%s\"", spec->name);
	if (spec->vcpus < 1 || spec->vcpus > VMM_MAX_VCPUS) {
		set_err(err, "%s: vcpus %u is out of range 1..%u", where, (unsigned)spec->vcpus,
			VMM_MAX_VCPUS);
		return -EINVAL;
	}
	if (spec->memory < VMM_MEMORY_MIN || spec->memory > VMM_MEMORY_MAX) {
		set_err(err, "%s: memory %u MiB is out of range %u..%u", where,
			(unsigned)spec->memory, VMM_MEMORY_MIN, VMM_MEMORY_MAX);
		return -EINVAL;
	}
	if (validate_boot(where, &spec->boot, err) < 0)
		return -EINVAL;
	if (spec->n_nics > VMM_MAX_NICS) {
		set_err(err, "%s: too many NICs (at most %u)", where, VMM_MAX_NICS);
		return -EINVAL;
	}
	for (i = 0; i < spec->n_nics; i++) {
		a = &spec->nics[i];
		if (validate_nic(where, i, a, err) < 0)
			return -EINVAL;
		for (j = 0; j < i; j++) {
			b = &spec->nics[j];
			if (memcmp(a->mac, b->mac, sizeof(a->mac)) == 0) {
				vmm_mac_format(a->mac, mac);
				set_err(err, "%s: nics %u and %u have the same MAC %s", where, j, i,
					mac);
				return -EINVAL;
			}
			if (strcmp(a->socket, b->socket) == 0) {
				set_err(err, "%s: nics %u and %u have the same socket \"%s\"",
					where, j, i, esc(ebuf, a->socket, strlen(a->socket)));
				return -EINVAL;
			}
		}
	}
	return check_path(where, "console", spec->console, sizeof(spec->console), err);
}

/*
 * JSON decoding.
 */

/* Where in the document: the prefix of error messages. */
struct jctx {
	char where[WHERE_MAX]; /* vm "<name>", vm "<name>": nic <i>, vm "<name>": boot */
	char *err; /* where messages go */
};

static int jerr(const struct jctx *c, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
jerr(const struct jctx *c, const char *field, const char *fmt, ...)
{
	char msg[VMM_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_err(c->err, "%s: field \"%s\" %s", c->where, field, msg);
	return -EINVAL;
}

static int
unknown_field(const struct jctx *c, const char *key, size_t klen)
{
	char buf[ESC_MAX];

	set_err(c->err, "%s: unknown field \"%s\"", c->where, esc(buf, key, klen));
	return -EINVAL;
}

/*
 * Iterate over the keys of obj; sets key, klen, val. Keys holding a NUL byte
 * come out with klen != strlen(key): key_is() never matches them, so they
 * are unknown fields.
 */
#define FOR_EACH_FIELD(obj, it, key, klen, val)                                                 \
	for (it = json_object_iter((json_t *)(obj)); it != NULL;                                \
		it = json_object_iter_next((json_t *)(obj), it))                                \
		if ((key = json_object_iter_key(it)) != NULL &&                                 \
			(klen = json_object_iter_key_len(it), val = json_object_iter_value(it), \
				true))

static bool
key_is(const char *key, size_t klen, const char *want)
{
	return strlen(want) == klen && memcmp(key, want, klen) == 0;
}

/* A JSON integer in lo..hi. */
static bool
int_in(const json_t *v, json_int_t lo, json_int_t hi)
{
	return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

/* A JSON string without NUL bytes: its text, else NULL. */
static const char *
plain_string(const json_t *v)
{
	const char *s = json_string_value(v);

	if (s == NULL || strlen(s) != json_string_length(v))
		return NULL;
	return s;
}

/* Copy a path string into buf[size]. */
static int
get_path(const struct jctx *c, const char *field, const json_t *v, char *buf, size_t size)
{
	char ebuf[ESC_MAX];
	const char *s = plain_string(v), *why;
	size_t len;

	if (s == NULL)
		return jerr(c, field, "must be a string");
	len = strlen(s);
	why = path_problem(s, len, size);
	if (why != NULL)
		return jerr(c, field, "\"%s\" %s", esc(ebuf, s, len), why);
	memset(buf, 0, size);
	memcpy(buf, s, len);
	return 0;
}

/* Copy a vSwitch or port group name into buf[VMM_NET_NAME_MAX]. */
static int
get_net_name(
	const struct jctx *c, const char *field, const json_t *v, enum name_kind kind, char *buf)
{
	char ebuf[ESC_MAX];
	const char *why;
	size_t len;

	if (!json_is_string(v))
		return jerr(c, field, "must be a string");
	len = json_string_length(v);
	why = net_name_problem(json_string_value(v), len, kind);
	if (why != NULL)
		return jerr(c, field, "\"%s\" is not valid: %s",
			esc(ebuf, json_string_value(v), len), why);
	memset(buf, 0, VMM_NET_NAME_MAX);
	memcpy(buf, json_string_value(v), len);
	return 0;
}

static int
boot_from_json(const struct jctx *vm, const json_t *obj, struct vmm_boot *b)
{
	struct jctx c = {.err = vm->err};
	bool disk = false, kernel = false, format = false, initrd = false, cmdline = false;
	char ebuf[ESC_MAX];
	const char *key, *s, *why;
	json_t *val;
	size_t klen;
	void *it;

	snprintf(c.where, sizeof(c.where), "%.72s: boot", vm->where);
	if (!json_is_object(obj))
		return jerr(vm, "boot", "must be an object with \"disk\" or \"kernel\"");
	FOR_EACH_FIELD(obj, it, key, klen, val)
	{
		if (key_is(key, klen, "disk")) {
			if (get_path(&c, key, val, b->disk, sizeof(b->disk)) < 0)
				return -EINVAL;
			disk = true;
		} else if (key_is(key, klen, "format")) {
			s = plain_string(val);
			if (s != NULL && strcmp(s, "qcow2") == 0)
				b->format = VMM_DISK_QCOW2;
			else if (s != NULL && strcmp(s, "raw") == 0)
				b->format = VMM_DISK_RAW;
			else
				return jerr(&c, key, "must be \"qcow2\" or \"raw\"");
			format = true;
		} else if (key_is(key, klen, "kernel")) {
			if (get_path(&c, key, val, b->kernel, sizeof(b->kernel)) < 0)
				return -EINVAL;
			kernel = true;
		} else if (key_is(key, klen, "initrd")) {
			if (get_path(&c, key, val, b->initrd, sizeof(b->initrd)) < 0)
				return -EINVAL;
			initrd = true;
		} else if (key_is(key, klen, "cmdline")) {
			s = plain_string(val);
			if (s == NULL)
				return jerr(&c, key, "must be a string");
			why = cmdline_problem(s, strlen(s));
			if (why != NULL)
				return jerr(&c, key, "\"%s\" %s", esc(ebuf, s, strlen(s)), why);
			memset(b->cmdline, 0, sizeof(b->cmdline));
			memcpy(b->cmdline, s, strlen(s));
			cmdline = true;
		} else {
			return unknown_field(&c, key, klen);
		}
	}
	if (disk && kernel) {
		set_err(c.err, "%s: give either \"disk\" or \"kernel\", not both", c.where);
		return -EINVAL;
	}
	if (!disk && !kernel) {
		set_err(c.err, "%s: \"disk\" or \"kernel\" is required", c.where);
		return -EINVAL;
	}
	if (disk && (initrd || cmdline)) {
		set_err(c.err, "%s: \"%s\" needs \"kernel\", not \"disk\"", c.where,
			initrd ? "initrd" : "cmdline");
		return -EINVAL;
	}
	if (kernel && format) {
		set_err(c.err, "%s: \"format\" needs \"disk\", not \"kernel\"", c.where);
		return -EINVAL;
	}
	b->kind = disk ? VMM_BOOT_DISK : VMM_BOOT_KERNEL;
	return 0;
}

static int
nic_from_json(const struct jctx *vm, unsigned i, const json_t *obj, struct vmm_nic *nic)
{
	struct jctx c = {.err = vm->err};
	bool vswitch = false, portgroup = false;
	const char *key, *s, *why;
	uint8_t mac[6];
	json_t *val;
	size_t klen;
	void *it;

	snprintf(c.where, sizeof(c.where), "%.72s: nic %u", vm->where, i);
	if (!json_is_object(obj)) {
		set_err(c.err, "%s: must be a JSON object", c.where);
		return -EINVAL;
	}
	nic->queues = 1;
	FOR_EACH_FIELD(obj, it, key, klen, val)
	{
		if (key_is(key, klen, "vswitch")) {
			if (get_net_name(&c, key, val, NAME_PLAIN, nic->vswitch) < 0)
				return -EINVAL;
			vswitch = true;
		} else if (key_is(key, klen, "portgroup")) {
			if (get_net_name(&c, key, val, NAME_SPACES, nic->portgroup) < 0)
				return -EINVAL;
			portgroup = true;
		} else if (key_is(key, klen, "mac")) {
			s = plain_string(val);
			if (s == NULL || vmm_mac_parse(s, mac) < 0)
				return jerr(&c, key,
					"must be a MAC address like \"02:12:34:56:78:9a\"");
			why = mac_problem(mac);
			if (why != NULL)
				return jerr(&c, key, "%s %s", s, why);
			memcpy(nic->mac, mac, sizeof(mac));
		} else if (key_is(key, klen, "queues")) {
			if (!int_in(val, 1, VMM_MAX_QUEUES))
				return jerr(&c, key, "must be an integer 1..%u", VMM_MAX_QUEUES);
			nic->queues = (uint16_t)json_integer_value(val);
		} else if (key_is(key, klen, "socket")) {
			if (get_path(&c, key, val, nic->socket, sizeof(nic->socket)) < 0)
				return -EINVAL;
		} else {
			return unknown_field(&c, key, klen);
		}
	}
	if (!vswitch)
		return jerr(&c, "vswitch", "is required");
	if (!portgroup)
		return jerr(&c, "portgroup", "is required");
	return 0;
}

/* Decode obj into *spec (initialized, name set). */
static int
spec_fields(const struct jctx *c, const json_t *obj, struct vmm_spec *spec)
{
	const char *key;
	json_t *val;
	size_t klen, i;
	void *it;

	FOR_EACH_FIELD(obj, it, key, klen, val)
	{
		if (key_is(key, klen, "name"))
			continue;
		if (key_is(key, klen, "vcpus")) {
			if (!int_in(val, 1, VMM_MAX_VCPUS))
				return jerr(c, key, "must be an integer 1..%u", VMM_MAX_VCPUS);
			spec->vcpus = (uint16_t)json_integer_value(val);
		} else if (key_is(key, klen, "memory")) {
			if (!int_in(val, VMM_MEMORY_MIN, VMM_MEMORY_MAX))
				return jerr(c, key, "must be an integer %u..%u (MiB)",
					VMM_MEMORY_MIN, VMM_MEMORY_MAX);
			spec->memory = (uint32_t)json_integer_value(val);
		} else if (key_is(key, klen, "boot")) {
			if (boot_from_json(c, val, &spec->boot) < 0)
				return -EINVAL;
		} else if (key_is(key, klen, "nics")) {
			if (!json_is_array(val))
				return jerr(c, key, "must be an array");
			if (json_array_size(val) > VMM_MAX_NICS)
				return jerr(c, key, "has too many NICs (at most %u)", VMM_MAX_NICS);
			for (i = 0; i < json_array_size(val); i++)
				if (nic_from_json(c, (unsigned)i, json_array_get(val, i),
					    &spec->nics[i]) < 0)
					return -EINVAL;
			spec->n_nics = (unsigned)json_array_size(val);
		} else if (key_is(key, klen, "console")) {
			if (get_path(c, key, val, spec->console, sizeof(spec->console)) < 0)
				return -EINVAL;
		} else {
			return unknown_field(c, key, klen);
		}
	}
	return 0;
}

int
vmm_spec_from_json(const json_t *doc, const char *dir, struct vmm_spec *out, char *err)
{
	struct jctx c = {.where = "vm", .err = err};
	struct vmm_spec spec;
	char ebuf[ESC_MAX];
	const json_t *name;
	const char *why;
	size_t len;
	int rc;

	if (!json_is_object(doc)) {
		set_err(err, "vm: must be a JSON object");
		return -EINVAL;
	}
	name = json_object_get(doc, "name");
	if (name == NULL)
		return jerr(&c, "name", "is required");
	if (!json_is_string(name))
		return jerr(&c, "name", "must be a string");
	len = json_string_length(name);
	why = vm_name_problem(json_string_value(name), len);
	if (why != NULL) {
		set_err(err, "vm \"%s\": invalid name: %s", esc(ebuf, json_string_value(name), len),
			why);
		return -EINVAL;
	}

	vmm_spec_init(&spec);
	memcpy(spec.name, json_string_value(name), len);
	snprintf(c.where, sizeof(c.where), "vm \"%s\"", spec.name);
	rc = spec_fields(&c, doc, &spec);
	if (rc == 0)
		rc = vmm_spec_resolve(&spec, dir, err);
	if (rc == 0)
		rc = vmm_spec_validate(&spec, err);
	if (rc == 0)
		*out = spec;
	return rc;
}

/*
 * JSON encoding.
 */

/* Set key to a new value (NULL: allocation failed); -1 on failure. */
static int
jset(json_t *obj, const char *key, json_t *val)
{
	if (val == NULL)
		return -1;
	return json_object_set_new(obj, key, val);
}

/* A JSON string from a char[size] field. */
static json_t *
jstr(const char *s, size_t size)
{
	return json_stringn(s, strnlen(s, size));
}

static json_t *
boot_to_json(const struct vmm_boot *b)
{
	json_t *obj = json_object();

	if (obj == NULL)
		return NULL;
	if (b->kind == VMM_BOOT_DISK) {
		if (jset(obj, "disk", jstr(b->disk, sizeof(b->disk))) < 0 ||
			jset(obj, "format",
				json_string(b->format == VMM_DISK_RAW ? "raw" : "qcow2")) < 0)
			goto fail;
	} else {
		if (jset(obj, "kernel", jstr(b->kernel, sizeof(b->kernel))) < 0)
			goto fail;
		if (b->initrd[0] != '\0' &&
			jset(obj, "initrd", jstr(b->initrd, sizeof(b->initrd))) < 0)
			goto fail;
		if (b->cmdline[0] != '\0' &&
			jset(obj, "cmdline", jstr(b->cmdline, sizeof(b->cmdline))) < 0)
			goto fail;
	}
	return obj;

fail:
	json_decref(obj);
	return NULL;
}

static json_t *
nic_to_json(const struct vmm_nic *nic)
{
	json_t *obj = json_object();
	char mac[18];

	if (obj == NULL)
		return NULL;
	vmm_mac_format(nic->mac, mac);
	if (jset(obj, "vswitch", jstr(nic->vswitch, sizeof(nic->vswitch))) < 0 ||
		jset(obj, "portgroup", jstr(nic->portgroup, sizeof(nic->portgroup))) < 0 ||
		jset(obj, "mac", json_string(mac)) < 0 ||
		jset(obj, "queues", json_integer(nic->queues)) < 0 ||
		jset(obj, "socket", jstr(nic->socket, sizeof(nic->socket))) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *
vmm_spec_to_json(const struct vmm_spec *spec)
{
	json_t *obj, *nics;
	unsigned i;

	obj = json_object();
	nics = json_array();
	if (obj == NULL || nics == NULL)
		goto fail;
	for (i = 0; i < spec->n_nics && i < VMM_MAX_NICS; i++)
		if (json_array_append_new(nics, nic_to_json(&spec->nics[i])) < 0)
			goto fail;
	if (jset(obj, "name", jstr(spec->name, sizeof(spec->name))) < 0 ||
		jset(obj, "vcpus", json_integer(spec->vcpus)) < 0 ||
		jset(obj, "memory", json_integer(spec->memory)) < 0)
		goto fail;
	if (spec->boot.kind != VMM_BOOT_NONE && jset(obj, "boot", boot_to_json(&spec->boot)) < 0)
		goto fail;
	if (json_object_set_new(obj, "nics", nics) < 0) {
		nics = NULL; /* set_new() dropped it */
		goto fail;
	}
	nics = NULL;
	if (jset(obj, "console", jstr(spec->console, sizeof(spec->console))) < 0)
		goto fail;
	return obj;

fail:
	json_decref(nics);
	json_decref(obj);
	return NULL;
}
