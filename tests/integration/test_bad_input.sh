#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Bad input changes nothing and never stops the daemon: malformed JSON,
# huge lines, unknown methods, invalid parameters, objects that fail to
# come up (an uplink whose device cannot be opened), references that would
# dangle; a corrupt or invalid state file stops porticod at start with a
# clear message and exit code 2; the control socket refuses peers that are
# neither root nor in group portico.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pt.sh"
it_init bad_input
it_timeout 120

pt_start
pt vswitch add vSwitch0 >/dev/null
pt portgroup add "VM Network" --vswitch vSwitch0 --vlan 0 >/dev/null
pt_vm_port vm1 vSwitch0 "VM Network" 02:00:00:00:04:01 >/dev/null
pt config get --json >"$IT_DIR/config.before"
sha_before=$(sha256sum <"$(pt_state)")

unchanged() {
	pt config get --json | cmp -s - "$IT_DIR/config.before" &&
		[[ $(sha256sum <"$(pt_state)") == "$sha_before" ]]
}

# rpc LINE CODE: the answer is a JSON-RPC error with that code.
rpc_error() {
	local out
	out=$(pt_rpc "$1") || return 1
	"$IT_PY" -c 'import json, sys
r = json.loads(sys.argv[1])
assert r["error"]["code"] == int(sys.argv[2]), r
assert len(r["error"]["message"]) > 5, r' "$out" "$2" || { echo "answer: $out"; return 1; }
}

it_check "malformed JSON: parse error" rpc_error '{"jsonrpc":"2.0","id":1,' -32700
it_check "not an object: invalid request" rpc_error '[1,2,3]' -32600
it_check "no jsonrpc member: invalid request" rpc_error '{"id":1,"method":"config.get"}' -32600
it_check "unknown method" rpc_error '{"jsonrpc":"2.0","id":1,"method":"vswitch.explode"}' -32601
it_check "params not an object" rpc_error '{"jsonrpc":"2.0","id":1,"method":"vswitch.add","params":[1]}' -32602
it_check "duplicate keys refused" rpc_error '{"jsonrpc":"2.0","id":1,"method":"vswitch.add","params":{"name":"a","name":"b"}}' -32700
it_check "deeply nested JSON refused" rpc_error "$("$IT_PY" -c 'print("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"a\":" + "["*5000 + "]"*5000 + "}}")')" -32700

bad() { # description, CLI args...: the CLI fails (daemon error) and nothing changed
	local desc=$1 rc=0
	shift
	pt "$@" >>"$IT_DIR/bad.log" 2>&1 || rc=$?
	it_check "$desc: refused" test "$rc" -eq 1
	it_check "$desc: nothing changed" unchanged
}
bad "VLAN 5000" portgroup add Bad --vswitch vSwitch0 --vlan 5000
bad "VLAN as a string" portgroup add Bad --vswitch vSwitch0 --vlan tagged
bad "trunk range reversed" portgroup add Bad --vswitch vSwitch0 --vlan '[[200,100]]'
bad "duplicate vSwitch" vswitch add vSwitch0
bad "MTU 10000" vswitch set vSwitch0 --mtu 10000
bad "port on a missing port group" port add vm2.eth0 --vswitch vSwitch0 --portgroup Nope --socket "$IT_DIR/vm2.sock" --mac 02:00:00:00:04:02
bad "port with a multicast MAC" port add vm2.eth0 --vswitch vSwitch0 --portgroup "VM Network" --socket "$IT_DIR/vm2.sock" --mac 03:00:00:00:04:02
bad "port with a malformed MAC" port add vm2.eth0 --vswitch vSwitch0 --portgroup "VM Network" --socket "$IT_DIR/vm2.sock" --mac 02:00:00:00:04
bad "port with a duplicate MAC" port add vm2.eth0 --vswitch vSwitch0 --portgroup "VM Network" --socket "$IT_DIR/vm2.sock" --mac 02:00:00:00:04:01
bad "port with a relative socket path" port add vm2.eth0 --vswitch vSwitch0 --portgroup "VM Network" --socket vm2.sock --mac 02:00:00:00:04:02
bad "port reusing another port's socket" port add vm2.eth0 --vswitch vSwitch0 --portgroup "VM Network" --socket "$IT_DIR/vm1.sock" --mac 02:00:00:00:04:02
bad "port with an unknown field" port add vm2.eth0 --vswitch vSwitch0 --portgroup "VM Network" --socket "$IT_DIR/vm2.sock" --mac 02:00:00:00:04:02 --colour blue
bad "server port in a missing directory" port add vm2.eth0 --vswitch vSwitch0 --portgroup "VM Network" --socket /nonexistent/dir/vm2.sock --mode server --mac 02:00:00:00:04:02
bad "uplink on an interface that does not exist" uplink add up0 --vswitch vSwitch0 --devargs net_af_packet0,iface=nosuchif0
bad "uplink with a driver that does not exist" uplink add up0 --vswitch vSwitch0 --devargs net_nosuchdriver0
bad "deleting a vSwitch that has ports" vswitch del vSwitch0
bad "deleting a port group that has ports" portgroup del "VM Network" --vswitch vSwitch0
bad "deleting a missing port" port del nosuch
bad "setting a missing port group" portgroup set Nope --vswitch vSwitch0 --vlan 3

# A line over 1 MiB: an error, then the connection is closed; the daemon lives.
huge_line() {
	"$IT_PY" - "$(pt_sock)" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
line = b'{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":"' + b"a" * 2000000 + b'"}}\n'
try:
    s.sendall(line)
except OSError:
    pass  # the server may close before reading it all
buf = b""
while True:
    try:
        chunk = s.recv(65536)
    except OSError:
        break
    if not chunk:
        break
    buf += chunk
r = json.loads(buf.decode().splitlines()[0])
assert r["error"]["code"] == -32600, r
print(r["error"]["message"])
PY
}
it_check "a 2 MiB request line is refused with an error" huge_line
# Many clients at once, some never sending anything, some sending garbage.
"$IT_PY" - "$(pt_sock)" <<'PY'
import os, socket, sys
socks = []
for i in range(100):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sys.argv[1])
    except OSError:
        break
    if i % 2:
        s.sendall(os.urandom(4096))
    socks.append(s)
for s in socks:
    s.close()
PY
it_check "the daemon still answers after floods of bad clients" pt_ready
it_check "nothing changed after all that" unchanged

# The socket's permissions and the peer check.
it_check "control socket is 0660" test "$(stat -c %a "$(pt_sock)")" = 660
chmod 0666 "$(pt_sock)"
chmod o+x "$IT_DIR"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$IT_PY" - "$(pt_sock)" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
try:
    s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"config.get"}\n')
except OSError:
    pass  # refused at accept: the answer may already be waiting
print(s.recv(4096).decode().strip())
PY
)
chmod 0660 "$(pt_sock)"
chmod o-x "$IT_DIR"
it_log "answer to an unprivileged peer: $out"
it_check "a peer that is neither root nor in group portico is refused" \
	grep -q '"permission denied' <<<"$out"

# Bad state files: porticod refuses to start, with exit code 2.
pt_stop
cp "$(pt_state)" "$IT_DIR/good.json"
printf '{"vswitches": [{"name": "vSwitch0",\n  "mtu": }]}\n' >"$(pt_state)"
pt_run >"$IT_DIR/run1.log" 2>&1
rc=$?
it_check "corrupt state file: exit code 2" test "$rc" -eq 2
it_check "corrupt state file: the message names file and line" grep -q "porticod.json:2:" "$IT_DIR/run1.log"
printf '{"vswitches": [{"name": "vSwitch0", "mtu": 1500, "colour": "blue"}]}\n' >"$(pt_state)"
pt_run >"$IT_DIR/run2.log" 2>&1
rc=$?
it_check "invalid state file: exit code 2" test "$rc" -eq 2
it_check "invalid state file: the message names the field" grep -q 'colour' "$IT_DIR/run2.log"
"$IT_PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["vswitches"][0]["uplinks"] = [{"name": "up0", "devargs": "net_af_packet0,iface=nosuchif0"}]
json.dump(d, open(sys.argv[2], "w"))' "$IT_DIR/good.json" "$(pt_state)"
pt_run >"$IT_DIR/run3.log" 2>&1
rc=$?
it_check "a state file whose uplink cannot open: exit code 3, nothing half-applied" test "$rc" -eq 3
it_check "no vhost socket left behind by the failed start" test ! -e "$IT_DIR/vm1.sock"
cp "$IT_DIR/good.json" "$(pt_state)"
pt_start
it_check "with the good file back, porticod starts with the same config" unchanged
cat "$IT_DIR"/run*.log | grep porticod:
it_finish
