/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * portico: the command-line client of porticod and portico-agent.
 *
 * `portico OBJECT VERB [NAME] [--key value ...]` becomes one JSON-RPC 2.0 call
 * of method "OBJECT.VERB" (rpc_client.h): on porticod's control socket, or,
 * for the agent's objects (vm), on the agent's socket; with --remote, on a
 * remote agent over TLS, which serves its own methods and forwards the
 * others to its porticod. The CLI knows no method: the daemons decide what
 * exists, and the objects and verbs below are only help text. Results are printed generically: an
 * array of objects as an aligned table, an object as "key: value" lines, or, with
 * --json, as the JSON the daemon sent.
 *
 * Exit status: 0 success, 1 error from porticod (or an invalid reply), 2 usage
 * error, 3 porticod cannot be reached (connect, send, receive or timeout).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control/cli.h"
#include "control/rpc_client.h"

#define CLI_DEFAULT_SOCKET "/run/portico/porticod.sock"
#define CLI_SOCKET_ENV "PORTICO_SOCKET"
#define CLI_DEFAULT_AGENT_SOCKET "/run/portico/agent.sock"
#define CLI_AGENT_SOCKET_ENV "PORTICO_AGENT_SOCKET"

/* A verb of an object, for help only. */
struct cli_verb {
	const char *verb; /* the VERB of method OBJECT.VERB */
	const char *args; /* its NAME and --key parameters */
	const char *help; /* what it does, one line */
};

/* An object, for help only. */
struct cli_object {
	const char *object; /* the OBJECT of method OBJECT.VERB */
	const char *help; /* what it is, one line */
	const struct cli_verb *verbs; /* its verbs, ended by a NULL verb */
};

static const struct cli_verb system_verbs[] = {
	{"version", "", "show porticod's and DPDK's versions"},
	{NULL, NULL, NULL},
};

static const struct cli_verb config_verbs[] = {
	{"get", "", "print the whole configuration (vSwitches and ports); best with --json"},
	{NULL, NULL, NULL},
};

static const struct cli_verb vswitch_verbs[] = {
	{"add", "NAME [--mtu N]", "create a vSwitch (MTU 68-9000, default 1500)"},
	{"set", "NAME [--mtu N] [POLICY] [--pvlans MAP]",
		"change a vSwitch's MTU, default policy or private VLAN map, e.g. --pvlans "
		"'[{\"primary\":100,\"secondaries\":[{\"vid\":101,\"type\":\"isolated\"}]}]'"},
	{"del", "NAME", "delete a vSwitch"},
	{"list", "", "list vSwitches with their uplinks and port groups"},
	{NULL, NULL, NULL},
};

static const struct cli_verb uplink_verbs[] = {
	{"add", "NAME --vswitch VS --devargs DEVARGS [--members '[DEVARGS, ...]']",
		"attach a NIC to a vSwitch (e.g. --devargs net_af_packet0,iface=eth1); a "
		"net_bonding bond (mode=4: LACP) takes the devices it bonds as --members"},
	{"del", "NAME", "detach an uplink"},
	{"list", "", "list uplinks with their link state, MAC and DPDK port id"},
	{NULL, NULL, NULL},
};

static const struct cli_verb portgroup_verbs[] = {
	{"add", "NAME --vswitch VS --vlan VLAN",
		"create a port group; VLAN: 0 none, 1-4094 tagged by the switch, 4095 "
		"guest tagging, or trunk ranges like '[[100,200],[300,300]]'"},
	{"set", "NAME --vswitch VS [--vlan VLAN] [POLICY]",
		"change a port group's VLAN ({\"pvlan\":N} for a private VLAN) or policy"},
	{"show", "NAME --vswitch VS",
		"show a port group's effective policy and where it comes from"},
	{"del", "NAME --vswitch VS", "delete a port group"},
	{"list", "[--vswitch VS]", "list port groups (of all vSwitches, or one)"},
	{NULL, NULL, NULL},
};

static const struct cli_verb port_verbs[] = {
	{"add",
		"NAME --vswitch VS --portgroup PG --socket PATH --mac MAC [--mode MODE] "
		"[--type TYPE] [--queues N]",
		"create a VM port on a vhost-user socket"},
	{"set", "NAME [--FIELD VALUE ...] [POLICY]",
		"change a port's fields (e.g. --portgroup PG) or policy; --effective-mac MAC|null "
		"and --guest-promisc true|false|null report the guest's state"},
	{"show", "NAME", "show a port, its reported state and effective policy (with sources)"},
	{"del", "NAME", "delete a port"},
	{"list", "", "list ports with their state"},
	{"stats", "[NAME]", "show packet, byte and drop counters (of all ports, or one)"},
	{NULL, NULL, NULL},
};

static const struct cli_verb vm_verbs[] = {
	{"create", "NAME [--vcpus N] [--memory MIB] --boot BOOT --nics NICS [--console FILE]",
		"define a VM (portico-agent); BOOT '{\"kernel\":K,\"initrd\":I,\"cmdline\":C}' or "
		"'{\"disk\":PATH}', NICS '[{\"vswitch\":VS,\"portgroup\":PG}]' (mac, queues "
		"optional)"},
	{"start", "NAME", "add its ports on porticod, start QEMU; answers once QMP is ready"},
	{"stop", "NAME [--force true] [--timeout S]",
		"ACPI shutdown (quit after S s, default 30), or quit at once with --force; "
		"removes its ports"},
	{"destroy", "NAME", "forget a stopped VM and its files"},
	{"list", "", "list VMs with their state"},
	{"show", "NAME", "show a VM: spec, QEMU, NICs with what the guest set (MAC, promiscuous)"},
	{"console", "NAME [--lines N] [--input TEXT]",
		"the tail of the serial console log; --input types TEXT into the console"},
	{NULL, NULL, NULL},
};

static const struct cli_verb capture_verbs[] = {
	{"start",
		"PORT [--direction in|out|both] [--filter EXPR] -w FILE|- [--count N] "
		"[--duration S] [--snaplen N] [--ring-size N] [--wait]",
		"capture a VM port's or an uplink's frames (tcpdump filter, default both "
		"directions) as pcapng into FILE (written by porticod; returns its id at once, "
		"--wait stays until it ends) or, with -w -, to stdout until it ends or Ctrl-C: "
		"portico capture start vm1.eth0 --filter udp -w - | tcpdump -r -"},
	{"stop", "ID", "stop a capture (what it copied is still written)"},
	{"list", "[ID]",
		"list running and recently ended captures: frames seen, matched, copied, "
		"dropped (ring full, no buffer), written, and why each ended"},
	{NULL, NULL, NULL},
};

static const struct cli_verb top_verbs[] = {
	{"", "[--sort rx_pps|tx_pps|rx_bps|tx_bps|drops|name] [--once]",
		"per-port rx/tx packets and bits per second and drops per second, refreshed "
		"every second (Ctrl-C quits); --once prints one table and exits"},
	{NULL, NULL, NULL},
};

static const struct cli_verb fdb_verbs[] = {
	{"list", "[--vswitch VS]", "list static and learned MAC addresses"},
	{NULL, NULL, NULL},
};

static const struct cli_verb mirror_verbs[] = {
	{"add",
		"NAME --sources '[{\"port\": P, \"direction\": \"in|out|both\"}]' --destination "
		"'{\"port\": VM}' | '{\"uplink\": U, \"vlan\": N}'",
		"mirror ports to a VM port, or out of an uplink tagged N (RSPAN)"},
	{"del", "NAME", "delete a mirroring session"},
	{"list", "", "list mirroring sessions with copies sent and dropped"},
	{NULL, NULL, NULL},
};

static const struct cli_verb trace_verbs[] = {
	{"run", "--port P --src MAC --dst MAC [--vlan N] [--ipv4 SRC,DST] [--len N] | --hex FRAME",
		"what a frame received on P would go through, stage by stage ('portico trace "
		"--port ...' for short)"},
	{NULL, NULL, NULL},
};

static const struct cli_object cli_objects[] = {
	{"system", "porticod itself", system_verbs},
	{"config", "the configuration as a whole", config_verbs},
	{"vswitch", "virtual switches", vswitch_verbs},
	{"uplink", "a vSwitch's NICs (DPDK ethdevs named by devargs)", uplink_verbs},
	{"portgroup", "port groups: the VLAN and policy their ports share", portgroup_verbs},
	{"port", "VM ports (vhost-user vNICs)", port_verbs},
	{"fdb", "the forwarding database (MAC address table)", fdb_verbs},
	{"capture", "packet capture on any port, as pcapng (tcpdump filters)", capture_verbs},
	{"top", "live per-port rates", top_verbs},
	{"mirror", "port mirroring sessions (persisted)", mirror_verbs},
	{"trace", "packet trace through the running pipeline", trace_verbs},
	{"vm", "virtual machines (portico-agent's)", vm_verbs},
	{NULL, NULL, NULL},
};

/* Objects portico-agent serves (the others are porticod's). */
static const char *const agent_objects[] = {"vm", NULL};

/* Parameters whose value is always sent as a string, even if it looks like JSON. */
static const char *const string_keys[] = {
	"name",
	"vswitch",
	"portgroup",
	"socket",
	"mac",
	"devargs",
	"mode",
	"type",
	"file",
	"filter",
	"port",
	"input",
	"console",
	"src",
	"dst",
	"hex",
	"ipv4",
	NULL,
};

/* The parsed command line. */
struct cli_opts {
	const char *socket; /* the socket given by --socket, or NULL */
	const char *agent_socket; /* the agent's socket given by --agent-socket, or NULL */
	const char *remote; /* --remote HOST:PORT, or NULL */
	struct ctl_client_tls tls; /* --ca, --cert, --key */
	bool json; /* --json: print the result as JSON */
	bool help; /* --help or -h */
	const char *object; /* OBJECT, or NULL */
	const char *verb; /* VERB, or NULL */
	const char *name; /* NAME, or NULL */
	json_t *params; /* the --key value parameters (without NAME) */
	struct cli_live live; /* capture start -w -|--wait, top (cli_live.c) */
};

/* A growable string. */
struct sbuf {
	char *s; /* NUL-terminated text, or NULL while empty */
	size_t len; /* bytes used, without the NUL */
	size_t cap; /* bytes allocated */
};

static void
die_nomem(void)
{
	fputs("portico: out of memory\n", stderr);
	exit(CLI_EXIT_DAEMON);
}

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("portico: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
}

static void
sbuf_addn(struct sbuf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b->len + n + 1 > b->cap) {
		cap = b->cap != 0 ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (p == NULL)
			die_nomem();
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sbuf_adds(struct sbuf *b, const char *s)
{
	sbuf_addn(b, s, strlen(s));
}

/* Take the string out of b (never NULL), leaving b empty. */
static char *
sbuf_take(struct sbuf *b)
{
	char *s;

	if (b->s == NULL)
		sbuf_addn(b, "", 0);
	s = b->s;
	memset(b, 0, sizeof(*b));
	return s;
}

/*
 * Make text safe for a terminal, in place: C0 controls, DEL and UTF-8 encoded
 * C1 controls become '?', so a name cannot move the cursor or inject escapes.
 */
static void
sanitize(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = (unsigned char *)s;

	while (*r != '\0') {
		if (*r < 0x20 || *r == 0x7f) {
			*w++ = '?';
			r++;
		} else if (r[0] == 0xc2 && r[1] >= 0x80 && r[1] <= 0x9f) {
			*w++ = '?';
			r += 2;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* Columns a UTF-8 string takes (one per code point). */
static size_t
text_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Append v as compact JSON. */
static void
add_json(struct sbuf *b, const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (text == NULL)
		die_nomem();
	sbuf_adds(b, text);
	free(text);
}

/* Append a value inside a cell: strings bare, containers as compact JSON. */
static void
add_inner(struct sbuf *b, const json_t *v)
{
	if (json_is_string(v))
		sbuf_addn(b, json_string_value(v), json_string_length(v));
	else
		add_json(b, v);
}

/* True if every member of the object is a number: a map of counters. */
static bool
is_counter_map(json_t *obj)
{
	void *it;
	json_t *v;

	for (it = json_object_iter(obj); it != NULL; it = json_object_iter_next(obj, it)) {
		v = json_object_iter_value(it);
		if (!json_is_number(v))
			return false;
	}
	return true;
}

/*
 * Format one value for a table cell or a "key: value" line: missing, null,
 * "" and empty containers as "-"; arrays joined by ","; objects as
 * "key=value,...", leaving out the zeros of a map of counters.
 */
static char *
format_cell(json_t *v)
{
	struct sbuf b = {0};
	const char *key;
	void *it;
	bool counters;
	json_t *e;
	size_t i;

	if (v == NULL || json_is_null(v)) {
		sbuf_adds(&b, "-");
	} else if (json_is_string(v)) {
		add_inner(&b, v);
	} else if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			e = json_array_get(v, i);
			if (i > 0)
				sbuf_adds(&b, ",");
			add_inner(&b, e);
		}
	} else if (json_is_object(v)) {
		counters = is_counter_map(v);
		for (it = json_object_iter(v); it != NULL; it = json_object_iter_next(v, it)) {
			key = json_object_iter_key(it);
			e = json_object_iter_value(it);
			if (counters && json_number_value(e) == 0)
				continue;
			if (b.len > 0)
				sbuf_adds(&b, ",");
			sbuf_adds(&b, key);
			sbuf_adds(&b, "=");
			add_inner(&b, e);
		}
	} else {
		add_json(&b, v);
	}
	if (b.len == 0)
		sbuf_adds(&b, "-");
	sanitize(b.s);
	return sbuf_take(&b);
}

static bool
is_array_of_objects(const json_t *v)
{
	json_t *e;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return false;
	for (i = 0; i < json_array_size(v); i++) {
		e = json_array_get(v, i);
		if (!json_is_object(e))
			return false;
	}
	return true;
}

static void
put_padded(const char *s, size_t width, bool right, bool last)
{
	size_t pad = width - text_width(s);

	if (right)
		printf("%*s", (int)pad, "");
	fputs(s, stdout);
	if (!right && !last)
		printf("%*s", (int)pad, "");
}

/*
 * Print a non-empty array of objects as a table, each line prefixed by
 * "indent". The columns are the keys of the first object, in order, then any
 * other key in the order it first appears; numeric columns align right.
 */
static void
print_table(const json_t *rows, const char *indent)
{
	size_t nrows = json_array_size(rows), ncols = 0, r, c;
	json_t *seen, *row, *v;
	const char **cols = NULL;
	size_t *width = NULL;
	bool *numeric = NULL, *any = NULL;
	char **cells = NULL, *head, *p;
	const char *key;
	void *it;

	seen = json_object();
	if (seen == NULL)
		die_nomem();
	for (r = 0; r < json_array_size(rows); r++) {
		row = json_array_get(rows, r);
		for (it = json_object_iter(row); it != NULL; it = json_object_iter_next(row, it)) {
			key = json_object_iter_key(it);
			if (json_object_get(seen, key) != NULL)
				continue;
			if (json_object_set_new(seen, key, json_true()) < 0)
				die_nomem();
			cols = realloc(cols, (ncols + 1) * sizeof(*cols));
			if (cols == NULL)
				die_nomem();
			cols[ncols++] = key;
		}
	}
	width = calloc(ncols, sizeof(*width));
	numeric = calloc(ncols, sizeof(*numeric));
	any = calloc(ncols, sizeof(*any));
	cells = calloc(nrows * ncols, sizeof(*cells));
	if (ncols == 0)
		goto out; /* only empty objects: nothing to show */
	if (width == NULL || numeric == NULL || any == NULL || cells == NULL)
		die_nomem();

	for (c = 0; c < ncols; c++) {
		width[c] = text_width(cols[c]);
		numeric[c] = true;
	}
	for (r = 0; r < nrows; r++) {
		row = json_array_get(rows, r);
		for (c = 0; c < ncols; c++) {
			v = json_object_get(row, cols[c]);
			if (v != NULL && !json_is_null(v)) {
				any[c] = true;
				if (!json_is_number(v))
					numeric[c] = false;
			}
			cells[r * ncols + c] = format_cell(v);
			if (text_width(cells[r * ncols + c]) > width[c])
				width[c] = text_width(cells[r * ncols + c]);
		}
	}

	fputs(indent, stdout);
	for (c = 0; c < ncols; c++) {
		head = strdup(cols[c]);
		if (head == NULL)
			die_nomem();
		for (p = head; *p != '\0'; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		sanitize(head);
		if (c > 0)
			fputs("  ", stdout);
		put_padded(head, width[c], numeric[c] && any[c], c == ncols - 1);
		free(head);
	}
	fputs("\n", stdout);
	for (r = 0; r < nrows; r++) {
		fputs(indent, stdout);
		for (c = 0; c < ncols; c++) {
			if (c > 0)
				fputs("  ", stdout);
			put_padded(cells[r * ncols + c], width[c], numeric[c] && any[c],
				c == ncols - 1);
			free(cells[r * ncols + c]);
		}
		fputs("\n", stdout);
	}
out:
	free(cells);
	free(any);
	free(numeric);
	free(width);
	free(cols);
	json_decref(seen);
}

/* Print an object as "key: value" lines; an array of objects as an indented table. */
static void
print_object(json_t *obj)
{
	const char *key;
	void *it;
	char *k, *cell;
	json_t *v;

	for (it = json_object_iter(obj); it != NULL; it = json_object_iter_next(obj, it)) {
		key = json_object_iter_key(it);
		v = json_object_iter_value(it);
		k = strdup(key);
		if (k == NULL)
			die_nomem();
		sanitize(k);
		if (is_array_of_objects(v)) {
			printf("%s:\n", k);
			print_table(v, "  ");
		} else {
			cell = format_cell(v);
			printf("%s: %s\n", k, cell);
			free(cell);
		}
		free(k);
	}
}

/* Print a result for people: tables, "key: value" lines or bare values. */
static void
print_result(json_t *res)
{
	json_t *e;
	char *cell;
	size_t i;

	if (json_is_null(res) || json_is_true(res))
		return;
	if (json_is_object(res)) {
		print_object(res);
	} else if (json_is_array(res)) {
		if (json_array_size(res) == 0)
			return;
		if (is_array_of_objects(res)) {
			print_table(res, "");
			return;
		}
		for (i = 0; i < json_array_size(res); i++) {
			e = json_array_get(res, i);
			cell = format_cell(e);
			printf("%s\n", cell);
			free(cell);
		}
	} else {
		cell = format_cell(res);
		printf("%s\n", cell);
		free(cell);
	}
}

static void
print_json(const json_t *res)
{
	char *text = json_dumps(res, JSON_INDENT(2) | JSON_ENCODE_ANY);

	if (text == NULL)
		die_nomem();
	printf("%s\n", text);
	free(text);
}

static const struct cli_object *
find_object(const char *name)
{
	const struct cli_object *o;

	for (o = cli_objects; name != NULL && o->object != NULL; o++)
		if (strcmp(o->object, name) == 0)
			return o;
	return NULL;
}

static void
print_help(FILE *f)
{
	const struct cli_object *o;
	const struct cli_verb *v;

	fputs("usage: portico [--socket PATH] [--json] OBJECT VERB [NAME] [--key VALUE ...]\n"
	      "       portico --remote HOST:PORT --ca FILE --cert FILE --key FILE OBJECT VERB ...\n"
	      "       portico OBJECT --help\n"
	      "\n"
	      "Calls the JSON-RPC method OBJECT.VERB and prints its result: porticod's, or\n"
	      "portico-agent's for vm; with --remote, a remote agent's (it forwards the rest\n"
	      "to its porticod).\n"
	      "\n"
	      "objects and verbs:\n",
		f);
	for (o = cli_objects; o->object != NULL; o++) {
		fprintf(f, "  %-10s ", o->object);
		for (v = o->verbs; v->verb != NULL; v++)
			fprintf(f, "%s%s", v == o->verbs ? "" : ", ", v->verb);
		fputs("\n", f);
	}
	fputs("\n"
	      "options before OBJECT:\n"
	      "  --socket PATH    the socket to call, whatever the object (default: porticod's,\n"
	      "                   $" CLI_SOCKET_ENV " or " CLI_DEFAULT_SOCKET ";\n"
	      "                   for vm the agent's)\n"
	      "  --agent-socket PATH  portico-agent's socket (default: $" CLI_AGENT_SOCKET_ENV ",\n"
	      "                   else " CLI_DEFAULT_AGENT_SOCKET ")\n"
	      "  --remote HOST:PORT  a remote portico-agent over TLS (or $PORTICO_REMOTE), with\n"
	      "  --ca FILE        the CA the agent's certificate must chain to ($PORTICO_CA)\n"
	      "  --cert FILE      our certificate, signed by the agent's client CA "
	      "($PORTICO_CERT)\n"
	      "  --key FILE       its private key ($PORTICO_KEY)\n"
	      "options anywhere:\n"
	      "  --json           print the result as JSON\n"
	      "  -h, --help       this help; 'portico OBJECT --help' shows an object's verbs\n"
	      "\n"
	      "parameters, after OBJECT VERB:\n"
	      "  NAME             is sent as \"name\"\n"
	      "  --foo-bar VALUE  (or --foo-bar=VALUE) is sent as \"foo_bar\": VALUE; VALUE is a\n"
	      "                   number, true, false, null, array or object if it parses as\n"
	      "                   JSON, else a string. These are always strings: name, vswitch,\n"
	      "                   portgroup, socket, mac, devargs, mode, type, file, filter, "
	      "port,\n"
	      "                   input, console.\n"
	      "                   After OBJECT VERB, --socket is a parameter (a port's socket).\n"
	      "  --               ends the options: what follows is NAME\n"
	      "\n"
	      "POLICY options (vSwitch, port group, port; VALUE 'inherit' unsets the field):\n"
	      "  --promiscuous | --mac-changes | --forged-transmits accept|reject\n"
	      "  --mac-learning on|off  --mac-limit N  --mac-limit-policy drop|allow\n"
	      "  --unknown-unicast-flooding on|off\n"
	      "  --broadcast-pps N | --multicast-pps N | --unknown-unicast-pps N (0: no limit)\n"
	      "  --ingress-shaping on|off  --ingress-average RATE  --ingress-peak RATE\n"
	      "  --ingress-burst SIZE  --ingress-mode police|shape  (and --egress-...)\n"
	      "      RATE in bits/s: 100M, 1G (x1000); SIZE in bytes: 64K, 100M (x1024)\n"
	      "  --load-balancing port_id|src_mac|ip_hash|explicit_failover\n"
	      "  --failure-detection link_status|beacon_probing  --notify-switches on|off\n"
	      "  --failback on|off  --active UPLINK,...  --standby UPLINK,... (vSwitch, port "
	      "group)\n"
	      "\n"
	      "exit status: 0 success, 1 error from the daemon, 2 usage error, 3 daemon "
	      "unreachable (or TLS refused)\n",
		f);
}

static void
print_object_help(FILE *f, const struct cli_object *o, const char *only_verb)
{
	const struct cli_verb *v;

	fprintf(f, "usage: portico [--json] %s VERB [NAME] [--key VALUE ...]\n\n%s\n\n", o->object,
		o->help);
	for (v = o->verbs; v->verb != NULL; v++) {
		if (only_verb != NULL && strcmp(v->verb, only_verb) != 0)
			continue;
		fprintf(f, "  portico %s%s%s%s%s\n      %s\n", o->object,
			v->verb[0] != '\0' ? " " : "", v->verb, v->args[0] != '\0' ? " " : "",
			v->args, v->help);
	}
}

static const struct cli_verb *
find_verb(const struct cli_object *o, const char *name)
{
	const struct cli_verb *v;

	for (v = o->verbs; name != NULL && v->verb != NULL; v++)
		if (strcmp(v->verb, name) == 0)
			return v;
	return NULL;
}

static bool
is_string_key(const char *key)
{
	const char *const *k;

	for (k = string_keys; *k != NULL; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

/*
 * The JSON value of a parameter: what "text" parses to if that is a number,
 * bool, null, array or object (and key is not a string key), else the text as
 * a string. NULL if the text is not valid UTF-8.
 */
static json_t *
param_value(const char *key, const char *text)
{
	json_error_t jerr;
	json_t *v;

	if (!is_string_key(key)) {
		v = json_loads(text, JSON_DECODE_ANY, &jerr);
		if (v != NULL && !json_is_string(v))
			return v;
		json_decref(v);
	}
	return json_string(text);
}

/*
 * Options that set one field of "policy" (portgroups/policy.h): --promiscuous
 * accept is {"policy": {"security": {"promiscuous": "accept"}}}. The value
 * "inherit" is null (the field inherits again); on/off are true/false.
 */
/* Units a policy option's value may carry. */
enum cli_unit {
	CLI_UNIT_NONE,
	CLI_UNIT_BPS, /* bits/s: K, M, G, T are powers of 1000 */
	CLI_UNIT_BYTES, /* bytes: K, M, G are powers of 1024 */
	CLI_UNIT_LIST, /* a comma-separated list of names: a JSON array of strings */
};

static const struct {
	const char *option; /* the option, "-" as "_" */
	const char *group; /* the group under "policy"; "a.b" is b inside a */
	const char *field; /* the field in that group */
	enum cli_unit unit; /* what a suffix means */
} policy_options[] = {
	{"promiscuous", "security", "promiscuous"},
	{"mac_changes", "security", "mac_changes"},
	{"forged_transmits", "security", "forged_transmits"},
	{"mac_learning", "mac_learning", "enabled"},
	{"mac_limit", "mac_learning", "limit"},
	{"mac_limit_policy", "mac_learning", "limit_policy"},
	{"unknown_unicast_flooding", "mac_learning", "unknown_unicast_flooding"},
	{"broadcast_pps", "storm_control", "broadcast_pps"},
	{"multicast_pps", "storm_control", "multicast_pps"},
	{"unknown_unicast_pps", "storm_control", "unknown_unicast_pps"},
	{"ingress_shaping", "shaping.ingress", "enabled"},
	{"ingress_average", "shaping.ingress", "average_bps", CLI_UNIT_BPS},
	{"ingress_peak", "shaping.ingress", "peak_bps", CLI_UNIT_BPS},
	{"ingress_burst", "shaping.ingress", "burst_bytes", CLI_UNIT_BYTES},
	{"ingress_mode", "shaping.ingress", "mode"},
	{"egress_shaping", "shaping.egress", "enabled"},
	{"egress_average", "shaping.egress", "average_bps", CLI_UNIT_BPS},
	{"egress_peak", "shaping.egress", "peak_bps", CLI_UNIT_BPS},
	{"egress_burst", "shaping.egress", "burst_bytes", CLI_UNIT_BYTES},
	{"egress_mode", "shaping.egress", "mode"},
	{"load_balancing", "teaming", "load_balancing"},
	{"failure_detection", "teaming", "failure_detection"},
	{"notify_switches", "teaming", "notify_switches"},
	{"failback", "teaming", "failback"},
	{"active", "teaming", "active", CLI_UNIT_LIST},
	{"standby", "teaming", "standby", CLI_UNIT_LIST},
};

/* "up0,up1" as ["up0", "up1"] ("" is []). */
static json_t *
list_value(const char *text)
{
	json_t *arr = json_array();
	const char *p = text;

	while (arr != NULL && *p != '\0') {
		size_t len = strcspn(p, ",");

		if (json_array_append_new(arr, json_stringn(p, len)) < 0)
			die_nomem();
		p += len + (p[len] == ',');
	}
	if (arr == NULL)
		die_nomem();
	return arr;
}

/*
 * "100M" (bits/s) or "64K" (bytes) as a JSON integer; NULL when text is not
 * a number with an optional suffix, or overflows.
 */
static json_t *
unit_value(const char *text, enum cli_unit unit)
{
	static const char suffixes[] = "KMGT";
	unsigned long long v, mul = 1;
	const char *p;
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return NULL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0)
		return NULL;
	if (*end != '\0') {
		p = strchr(suffixes, end[0] & ~0x20); /* either case */
		if (p == NULL || end[1] != '\0' || (unit == CLI_UNIT_BYTES && *p == 'T'))
			return NULL;
		for (long i = 0; i <= p - suffixes; i++)
			mul *= unit == CLI_UNIT_BPS ? 1000 : 1024;
	}
	if (v > (unsigned long long)INT64_MAX / mul)
		return NULL;
	return json_integer((json_int_t)(v * mul));
}

/* If key is a policy option, put its value under "policy"; 1 if it was, 0 if not. */
static int
add_policy_param(struct cli_opts *o, const char *key, const char *text)
{
	json_t *policy, *group, *v;

	for (size_t i = 0; i < sizeof(policy_options) / sizeof(policy_options[0]); i++) {
		if (strcmp(key, policy_options[i].option) != 0)
			continue;
		policy = json_object_get(o->params, "policy");
		if (policy == NULL) {
			policy = json_object();
			if (policy == NULL || json_object_set_new(o->params, "policy", policy) < 0)
				die_nomem();
		}
		if (!json_is_object(policy)) {
			usage_error("--%s cannot be given with --policy", key);
			return -EINVAL;
		}
		group = policy;
		for (const char *g = policy_options[i].group; *g != '\0';) {
			size_t len = strcspn(g, ".");
			char name[32];
			json_t *next;

			snprintf(name, sizeof(name), "%.*s", (int)len, g);
			next = json_object_get(group, name);
			if (next == NULL) {
				next = json_object();
				if (next == NULL || json_object_set_new(group, name, next) < 0)
					die_nomem();
			}
			group = next;
			g += len + (g[len] == '.');
		}
		if (json_object_get(group, policy_options[i].field) != NULL) {
			usage_error("'%s' given twice", key);
			return -EINVAL;
		}
		if (strcmp(text, "inherit") == 0)
			v = json_null();
		else if (strcmp(text, "on") == 0)
			v = json_true();
		else if (strcmp(text, "off") == 0)
			v = json_false();
		else if (policy_options[i].unit == CLI_UNIT_LIST)
			v = list_value(text);
		else if (policy_options[i].unit != CLI_UNIT_NONE) {
			v = unit_value(text, policy_options[i].unit);
			if (v == NULL) {
				usage_error("--%s: '%s' is not a number (suffixes: %s)", key, text,
					policy_options[i].unit == CLI_UNIT_BPS
						? "K, M, G, T = 10^3.. bits/s"
						: "K, M, G = 2^10.. bytes");
				return -EINVAL;
			}
		} else
			v = param_value(key, text);
		if (v == NULL || json_object_set_new(group, policy_options[i].field, v) < 0)
			die_nomem();
		return 1;
	}
	return 0;
}

/* Add "--key value" to the parameters: "-" in key becomes "_". */
static int
add_param(struct cli_opts *o, const char *opt, size_t key_len, const char *text)
{
	char *key;
	json_t *v;
	size_t i;
	int ret = -EINVAL;

	key = strndup(opt, key_len);
	if (key == NULL)
		die_nomem();
	for (i = 0; i < key_len; i++) {
		char ch = key[i];

		if (ch == '-')
			key[i] = '_';
		else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				 (ch >= '0' && ch <= '9') || ch == '_'))
			break;
	}
	if (key_len == 0 || i < key_len) {
		usage_error("invalid option '--%.*s': use letters, digits, '-' and '_'",
			(int)(key_len > 64 ? 64 : key_len), opt);
		goto out;
	}
	ret = add_policy_param(o, key, text);
	if (ret != 0) {
		ret = ret < 0 ? ret : 0;
		goto out;
	}
	ret = -EINVAL;
	if (json_object_get(o->params, key) != NULL ||
		(strcmp(key, "name") == 0 && o->name != NULL)) {
		usage_error("'%s' given twice", key);
		goto out;
	}
	v = param_value(key, text);
	if (v == NULL) {
		usage_error("the value of --%s is not valid UTF-8", key);
		goto out;
	}
	if (json_object_set_new(o->params, key, v) < 0)
		die_nomem();
	ret = 0;
out:
	free(key);
	return ret;
}

/* Take a positional argument: OBJECT, then VERB, then NAME. */
static int
add_positional(struct cli_opts *o, const char *arg)
{
	if (o->object == NULL) {
		o->object = arg;
	} else if (o->verb == NULL) {
		o->verb = arg;
	} else if (o->name == NULL) {
		if (json_object_get(o->params, "name") != NULL) {
			usage_error("'name' given twice");
			return -EINVAL;
		}
		o->name = arg;
	} else {
		usage_error(
			"unexpected argument '%s' (NAME is already '%s'; options are --key VALUE)",
			arg, o->name);
		return -EINVAL;
	}
	return 0;
}

/* Parse argv into o; on a usage error, say why and return -EINVAL. */
static int
parse_args(int argc, char **argv, struct cli_opts *o)
{
	bool no_more_options = false;
	const char *arg, *eq, *text;
	size_t key_len;
	int i, r;

	memset(o, 0, sizeof(*o));
	o->params = json_object();
	if (o->params == NULL)
		die_nomem();

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (no_more_options || arg[0] != '-' || arg[1] == '\0') {
			if (add_positional(o, arg) < 0)
				return -EINVAL;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			no_more_options = true;
		} else if (strcmp(arg, "--json") == 0) {
			o->json = true;
		} else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			o->help = true;
		} else if (o->object == NULL) {
			/* Before OBJECT: the CLI's own options, each with a value. */
			static const char *const names[] = {"--socket", "--agent-socket",
				"--remote", "--ca", "--cert", "--key"};
			const char **dst[] = {&o->socket, &o->agent_socket, &o->remote, &o->tls.ca,
				&o->tls.cert, &o->tls.key};
			size_t k, nlen;

			for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
				nlen = strlen(names[k]);
				if (strcmp(arg, names[k]) == 0) {
					if (i + 1 >= argc) {
						usage_error("option %s needs a value", names[k]);
						return -EINVAL;
					}
					*dst[k] = argv[++i];
					break;
				}
				if (strncmp(arg, names[k], nlen) == 0 && arg[nlen] == '=') {
					*dst[k] = arg + nlen + 1;
					break;
				}
			}
			if (k == sizeof(names) / sizeof(names[0])) {
				usage_error(
					"unknown option '%s' before OBJECT (see portico --help)",
					arg);
				return -EINVAL;
			}
			if ((*dst[k])[0] == '\0') {
				usage_error("option %s needs a non-empty value", names[k]);
				return -EINVAL;
			}
		} else if ((r = cli_live_option(o->object, argc, argv, &i, o->params, &o->live)) !=
			0) {
			/* --wait, -w FILE (capture), --once (top) */
			if (r < 0)
				return -EINVAL;
		} else if (arg[1] == '-') {
			/* After OBJECT: --key VALUE or --key=VALUE, a method parameter. */
			eq = strchr(arg + 2, '=');
			if (eq != NULL) {
				key_len = (size_t)(eq - (arg + 2));
				text = eq + 1;
			} else {
				key_len = strlen(arg + 2);
				/* A value starting with "--" is more likely a forgotten
				 * value than a value: it must be given as --key=--value. */
				if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
					usage_error(
						"option '%s' needs a value (%s=VALUE if it starts "
						"with --)",
						arg, arg);
					return -EINVAL;
				}
				text = argv[++i];
			}
			if (add_param(o, arg + 2, key_len, text) < 0)
				return -EINVAL;
		} else {
			/* "-x" after OBJECT: a NAME that starts with '-'. */
			if (add_positional(o, arg) < 0)
				return -EINVAL;
		}
	}
	return 0;
}

/* Handle --help: print the help asked for. */
static int
do_help(const struct cli_opts *o)
{
	const struct cli_object *obj;

	if (o->object == NULL) {
		print_help(stdout);
		return CLI_EXIT_OK;
	}
	obj = find_object(o->object);
	if (obj == NULL) {
		usage_error("no help for '%s' (see portico --help); porticod decides which "
			    "methods exist",
			o->object);
		return CLI_EXIT_USAGE;
	}
	if (o->verb != NULL && find_verb(obj, o->verb) == NULL) {
		usage_error("no help for '%s %s'; %s's verbs are:", o->object, o->verb, o->object);
		print_object_help(stderr, obj, NULL);
		return CLI_EXIT_USAGE;
	}
	print_object_help(stdout, obj, o->verb);
	return CLI_EXIT_OK;
}

/* Report a daemon error object on stderr. */
static void
print_daemon_error(const json_t *err)
{
	const json_t *msg = json_object_get(err, "message");
	const json_t *code = json_object_get(err, "code");
	char *text;

	if (json_is_string(msg) && json_string_length(msg) > 0) {
		text = strdup(json_string_value(msg));
		if (text == NULL)
			die_nomem();
		sanitize(text);
		fprintf(stderr, "portico: %s\n", text);
		free(text);
	} else {
		fprintf(stderr, "portico: porticod returned error %" JSON_INTEGER_FORMAT "\n",
			json_is_integer(code) ? json_integer_value(code) : 0);
	}
}

/* Where the call goes. */
struct cli_target {
	const char *path; /* a unix socket, or NULL for remote */
	const char *remote; /* HOST:PORT of a remote agent, or NULL */
	const struct ctl_client_tls *tls; /* remote: the TLS files */
	const char *daemon; /* "porticod" or "portico-agent", for messages */
};

/* Send the call, print its result; return the exit status. */
static int
run(const struct cli_opts *o, const struct cli_target *t)
{
	const char *path = t->remote != NULL ? t->remote : t->path;
	json_t *params = NULL, *result = NULL, *error = NULL, *v;
	struct ctl_client client;
	struct sbuf method = {0};
	const char *key;
	void *it;
	int ret, status;

	/* NAME first, then the options in the order given. */
	params = json_object();
	if (params == NULL)
		die_nomem();
	if (o->name != NULL) {
		v = json_string(o->name);
		if (v == NULL) {
			usage_error("NAME is not valid UTF-8");
			status = CLI_EXIT_USAGE;
			goto out;
		}
		json_object_set_new(params, "name", v);
	}
	for (it = json_object_iter(o->params); it != NULL;
		it = json_object_iter_next(o->params, it)) {
		key = json_object_iter_key(it);
		v = json_object_iter_value(it);
		if (json_object_set(params, key, v) < 0)
			die_nomem();
	}
	sbuf_adds(&method, o->object);
	sbuf_adds(&method, ".");
	sbuf_adds(&method, o->verb);
	v = json_string(method.s);
	if (v == NULL) {
		usage_error("OBJECT and VERB must be valid UTF-8");
		status = CLI_EXIT_USAGE;
		goto out;
	}
	json_decref(v);

	if (t->remote != NULL)
		ret = ctl_client_connect_tls(&client, t->remote, t->tls, CTL_CLIENT_TIMEOUT_MS);
	else
		ret = ctl_client_connect(&client, path, CTL_CLIENT_TIMEOUT_MS);
	if (ret < 0) {
		fprintf(stderr, "portico: cannot connect to %s: %s%s%s%s\n", path,
			ret == -ENAMETOOLONG || t->remote != NULL ? client.err : strerror(-ret),
			ret == -ENOENT || ret == -ECONNREFUSED ? " (is " : "",
			ret == -ENOENT || ret == -ECONNREFUSED ? t->daemon : "",
			ret == -ENOENT || ret == -ECONNREFUSED ? " running?)" : "");
		ctl_client_close(&client);
		status = CLI_EXIT_UNREACHABLE;
		goto out;
	}
	if (o->live.live) {
		/* capture start -w - or --wait, top: they stay connected (cli_live.c) */
		status = cli_live_run(&client, o->object, o->verb, params, &o->live);
		ctl_client_close(&client);
		goto out;
	}
	ret = ctl_client_call(&client, method.s, params, &result, &error);
	if (ret < 0) {
		if (ret == -EPROTO || ret == -EMSGSIZE) {
			fprintf(stderr, "portico: invalid reply from %s at %s: %s\n", t->daemon,
				path, client.err);
			status = CLI_EXIT_DAEMON;
		} else {
			fprintf(stderr, "portico: %s: %s\n", path, client.err);
			status = CLI_EXIT_UNREACHABLE;
		}
	} else if (error != NULL) {
		print_daemon_error(error);
		status = CLI_EXIT_DAEMON;
	} else {
		if (o->json)
			print_json(result);
		else
			print_result(result);
		status = CLI_EXIT_OK;
	}
	ctl_client_close(&client);
out:
	json_decref(result);
	json_decref(error);
	json_decref(params);
	free(method.s);
	return status;
}

/* An option, else its environment variable, else NULL. */
static const char *
opt_or_env(const char *opt, const char *env)
{
	const char *v = opt != NULL ? opt : getenv(env);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/*
 * Where the call goes: --remote (or $PORTICO_REMOTE): the remote agent;
 * --socket: there; the agent's objects: the agent's socket; else porticod's.
 */
static const struct cli_target *
pick_target(struct cli_opts *o, struct cli_target *t)
{
	bool agent = false;

	memset(t, 0, sizeof(*t));
	for (const char *const *a = agent_objects; *a != NULL; a++)
		agent = agent || strcmp(*a, o->object) == 0;
	t->daemon = agent ? "portico-agent" : "porticod";
	t->remote = opt_or_env(o->remote, "PORTICO_REMOTE");
	if (t->remote != NULL) {
		o->tls.ca = opt_or_env(o->tls.ca, "PORTICO_CA");
		o->tls.cert = opt_or_env(o->tls.cert, "PORTICO_CERT");
		o->tls.key = opt_or_env(o->tls.key, "PORTICO_KEY");
		t->tls = &o->tls;
		t->daemon = "portico-agent";
		return t;
	}
	if (o->socket != NULL)
		t->path = o->socket;
	else if (agent)
		t->path = opt_or_env(o->agent_socket, CLI_AGENT_SOCKET_ENV);
	else
		t->path = opt_or_env(NULL, CLI_SOCKET_ENV);
	if (t->path == NULL)
		t->path = agent ? CLI_DEFAULT_AGENT_SOCKET : CLI_DEFAULT_SOCKET;
	return t;
}

int
main(int argc, char **argv)
{
	const struct cli_object *obj;
	struct cli_target target;
	struct cli_opts o;
	int status;

	if (parse_args(argc, argv, &o) < 0) {
		status = CLI_EXIT_USAGE;
		goto out;
	}
	if (o.help) {
		status = do_help(&o);
		goto out;
	}
	if (o.object == NULL) {
		print_help(stderr);
		status = CLI_EXIT_USAGE;
		goto out;
	}
	o.live.json = o.json;
	if (cli_live_prepare(o.object, &o.verb, &o.name, o.params, &o.live) < 0) {
		status = CLI_EXIT_USAGE;
		goto out;
	}
	/* `portico trace --port P ...` is trace.run: a trace has one verb. */
	if (o.verb == NULL && strcmp(o.object, "trace") == 0)
		o.verb = "run";
	if (o.verb == NULL) {
		usage_error("missing VERB after '%s'", o.object);
		obj = find_object(o.object);
		if (obj != NULL)
			print_object_help(stderr, obj, NULL);
		status = CLI_EXIT_USAGE;
		goto out;
	}
	pick_target(&o, &target);
	if (o.live.stream && target.remote != NULL) {
		usage_error("-w - needs porticod's local socket (not --remote): use -w FILE");
		status = CLI_EXIT_USAGE;
		goto out;
	}
	status = run(&o, &target);
out:
	json_decref(o.params);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "portico: cannot write the output: %s\n", strerror(errno));
		if (status == CLI_EXIT_OK)
			status = CLI_EXIT_DAEMON;
	}
	return status;
}
