#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Tests of the portico CLI against a fake porticod (fake_rpc_server.py, next to
# this script): parameter mapping and typing, --json, table and "key: value"
# output, exit codes (1 daemon error, 2 usage error, 3 daemon unreachable),
# the 10 s reply timeout and huge values. Builds nothing.
#
# usage: test_cli.sh PATH/TO/portico
# Exits 0 when every check passes, 1 otherwise, listing the failed checks.

if [ -z "$PORTICO_TEST_CLI_BOUNDED" ]; then
	# Bound the whole run; the trap below still cleans up on SIGTERM.
	PORTICO_TEST_CLI_BOUNDED=1 exec timeout -k 5 120 bash "$0" "$@"
fi

set -u

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 PATH/TO/portico" >&2
	exit 2
fi
PORTICO=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
unset PORTICO_SOCKET

T=$(mktemp -d /tmp/portico-cli.XXXXXX) || exit 1
SRV=
HANG=
cleanup() {
	[ -n "$HANG" ] && kill "$HANG" 2>/dev/null
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null
	[ -n "$SRV" ] && wait "$SRV" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

SOCK=$T/porticod.sock
python3 "$HERE/fake_rpc_server.py" "$SOCK" &
SRV=$!
for _ in $(seq 50); do
	[ -S "$SOCK" ] && break
	sleep 0.1
done
if [ ! -S "$SOCK" ]; then
	echo "FAIL: fake_rpc_server.py did not start" >&2
	exit 1
fi
export PORTICO_SOCKET=$SOCK

FAILED=0
PASSED=0
fail() {
	echo "FAIL: $*" >&2
	FAILED=$((FAILED + 1))
}
pass() {
	PASSED=$((PASSED + 1))
}

# run ARGS...: run portico, setting RC, OUT and ERR.
run() {
	timeout 20 "$PORTICO" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# expect WHAT RC [STDOUT]: check the last run's status (and exact stdout).
expect() {
	local what=$1 rc=$2

	if [ "$RC" != "$rc" ]; then
		fail "$what: exit status $RC, expected $rc (stderr: ${ERR:0:300})"
	elif [ $# -ge 3 ] && [ "$OUT" != "$3" ]; then
		fail "$what: stdout differs"
		diff <(echo "$3") <(echo "$OUT") | head -20 >&2
	else
		pass
	fi
}

# expect_err WHAT TEXT: the last run's stderr contains TEXT.
expect_err() {
	if [[ "$ERR" != *"$2"* ]]; then
		fail "$1: stderr '${ERR:0:300}' lacks '$2'"
	else
		pass
	fi
}

# expect_json WHAT JSON: the last run's stdout is JSON equal to JSON.
expect_json() {
	if [ "$RC" != 0 ]; then
		fail "$1: exit status $RC (stderr: ${ERR:0:300})"
	elif ! python3 -c 'import json, sys
sys.exit(json.load(open(sys.argv[1])) != json.loads(sys.argv[2]))' "$T/out" "$2" 2>/dev/null; then
		fail "$1: got ${OUT:0:500}, expected $2"
	else
		pass
	fi
}

# The reply timeout runs in the background while the other checks run.
(
	start=$SECONDS
	timeout 30 "$PORTICO" hang.forever x >"$T/hang.out" 2>"$T/hang.err"
	echo "$? $((SECONDS - start))" >"$T/hang.rc"
) &
HANG=$!

# --- parameter mapping -------------------------------------------------------

run echo x --json
expect_json "no params" '{"method": "echo.x", "params": {}}'

run echo do-it myname --foo-bar v --a-b-c 1 --json
expect_json "NAME and --foo-bar" \
	'{"method": "echo.do-it", "params": {"name": "myname", "foo_bar": "v", "a_b_c": 1}}'

run echo x --k1 1 myname --json
expect_json "NAME after options" '{"method": "echo.x", "params": {"name": "myname", "k1": 1}}'

run echo x --name myname --json
expect_json "--name" '{"method": "echo.x", "params": {"name": "myname"}}'

run echo x --i 42 --neg -7 --r 1.5 --t true --f false --n null --a '[1,"b",[2,3]]' \
	--o '{"k": {"l": [1]}}' --s hello --sp 'two words' --q '"quoted"' --e '' --eq=a=b \
	--big 123456789012345678901234567890 --j '{bad' --json
expect_json "typed values" '{"method": "echo.x", "params": {"i": 42, "neg": -7, "r": 1.5,
	"t": true, "f": false, "n": null, "a": [1, "b", [2, 3]], "o": {"k": {"l": [1]}},
	"s": "hello", "sp": "two words", "q": "\"quoted\"", "e": "", "eq": "a=b",
	"big": "123456789012345678901234567890", "j": "{bad"}}'

run echo set pg --promiscuous accept --mac-changes inherit --forged-transmits reject \
	--mac-learning on --mac-limit 10 --unknown-unicast-flooding off --broadcast-pps 100 --json
expect_json "policy options" '{"method": "echo.set", "params": {"name": "pg", "policy": {
	"security": {"promiscuous": "accept", "mac_changes": null, "forged_transmits": "reject"},
	"mac_learning": {"enabled": true, "limit": 10, "unknown_unicast_flooding": false},
	"storm_control": {"broadcast_pps": 100}}}}'

run echo set p --ingress-shaping on --ingress-average 100M --ingress-peak 1G --ingress-burst 64K \
	--ingress-mode shape --egress-average 1500 --egress-burst 2m --egress-peak inherit --json
expect_json "shaping options with units" '{"method": "echo.set", "params": {"name": "p", "policy": {
	"shaping": {"ingress": {"enabled": true, "average_bps": 100000000, "peak_bps": 1000000000,
	"burst_bytes": 65536, "mode": "shape"}, "egress": {"average_bps": 1500, "burst_bytes": 2097152,
	"peak_bps": null}}}}}'

for bad in 10X 1.5M M -1 99999999999999999999 1KK; do
	run echo set p --ingress-average "$bad"
	expect "bad rate $bad" 2
done
run echo set p --ingress-burst 1T
expect "no T for bytes" 2

run echo set pg --load-balancing ip_hash --failback off --active up0,up1 --standby '' --json
expect_json "teaming options" '{"method": "echo.set", "params": {"name": "pg", "policy": {"teaming":
	{"load_balancing": "ip_hash", "failback": false, "active": ["up0", "up1"], "standby": []}}}}'
run echo set pg --active inherit --json
expect_json "teaming order inherit" '{"method": "echo.set", "params": {"name": "pg", "policy": {"teaming":
	{"active": null}}}}'

run echo set pg --promiscuous accept --promiscuous reject
expect "policy option twice" 2
expect_err "policy option twice" "given twice"

run echo set pg --policy null --promiscuous accept
expect "--policy null then a policy option" 2

run echo set p --effective-mac 52:54:00:00:00:09 --guest-promisc null --json
expect_json "reported state" '{"method": "echo.set", "params": {"name": "p",
	"effective_mac": "52:54:00:00:00:09", "guest_promisc": null}}'

run echo x 100 --vswitch 1 --portgroup 100 --socket 2 --mac 3 --devargs true --mode null \
	--type '[1]' --file '{}' --filter 1.5 --port 7 --other 100 --json
expect_json "string keys" '{"method": "echo.x", "params": {"name": "100", "vswitch": "1",
	"portgroup": "100", "socket": "2", "mac": "3", "devargs": "true", "mode": "null",
	"type": "[1]", "file": "{}", "filter": "1.5", "port": "7", "other": 100}}'

run echo x --name 100 --json
expect_json "--name is a string" '{"method": "echo.x", "params": {"name": "100"}}'

run echo x --vlan '[[100,200],[300,300]]' --mtu 9000 --json
expect_json "vlan ranges" \
	'{"method": "echo.x", "params": {"vlan": [[100, 200], [300, 300]], "mtu": 9000}}'

run echo x --k=--dashes --json
expect_json "--key=--value" '{"method": "echo.x", "params": {"k": "--dashes"}}'

run echo x -- --odd-name --json
expect "-- ends options" 2
expect_err "-- ends options" "unexpected argument '--json'"

run --json echo x -- --odd-name
expect_json "NAME after --" '{"method": "echo.x", "params": {"name": "--odd-name"}}'

# --socket: before OBJECT the daemon's socket, after it a method parameter.
run --socket "$SOCK" echo x --socket /vm/port.sock --json
expect_json "--socket before and after" \
	'{"method": "echo.x", "params": {"socket": "/vm/port.sock"}}'

PORTICO_SOCKET=$T/nothing-here run --socket "$SOCK" echo x --json
expect_json "--socket overrides PORTICO_SOCKET" '{"method": "echo.x", "params": {}}'

PORTICO_SOCKET=$T/nothing-here run --socket="$SOCK" echo x --json
expect_json "--socket=PATH" '{"method": "echo.x", "params": {}}'

# The agent's objects (vm) go to the agent's socket; the rest to porticod's.
PORTICO_AGENT_SOCKET=$SOCK PORTICO_SOCKET=$T/nothing-here run vm list
expect "vm goes to PORTICO_AGENT_SOCKET" 1
expect_err "vm goes to PORTICO_AGENT_SOCKET" "method not found: vm.list"
PORTICO_AGENT_SOCKET=$T/nothing-here run --agent-socket "$SOCK" vm list
expect "--agent-socket" 1
PORTICO_AGENT_SOCKET=$T/nothing-here run vm list
expect "agent unreachable" 3
expect_err "agent unreachable" "is portico-agent running?"
PORTICO_AGENT_SOCKET=$T/nothing-here run --socket "$SOCK" vm list
expect "--socket sends vm there too" 1
PORTICO_AGENT_SOCKET=$SOCK PORTICO_SOCKET=$T/nothing-here run echo x
expect "other objects stay with porticod" 3
run --remote 127.0.0.1:1 vm list
expect "--remote without --ca/--cert/--key" 3
expect_err "--remote without --ca/--cert/--key" "needs HOST:PORT, a CA"
run --remote nocolon --ca /x --cert /y --key /z vm list
expect "--remote without a port" 3
expect_err "--remote without a port" "is not HOST:PORT"
run --remote
expect "--remote without a value" 2

# --- output ------------------------------------------------------------------

run echo x n --k 1 --json
expect "--json is pretty" 0 '{
  "method": "echo.x",
  "params": {
    "name": "n",
    "k": 1
  }
}'

run thing list
expect "table" 0 'NAME   VSWITCH            VLAN             UPLINKS    DROPS           MTU  NOTE      EXTRA
alpha  vs0                100              eth0,eth1  vlan_filter=3  1500  -         -
b      vSwitch-long-name  [10,20],[30,30]  -          -              9000  tab?here  -
gamma  vs0                4095             x          -                68  -         true'
if grep -q ' $' "$T/out" 2>/dev/null; then
	fail "table: trailing blanks"
fi

run thing list --json
expect "table --json" 0
if ! python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
sys.exit(not (len(d) == 3 and d[0]["drops"] == {"no_route": 0, "vlan_filter": 3}))' "$T/out" 2>/dev/null; then
	fail "table --json: not the list sent"
fi

run thing get
expect "object" 0 'version: 1.2.3
count: 3
names: a,b
things:
  NAME   VSWITCH            VLAN             UPLINKS    DROPS           MTU  NOTE
  alpha  vs0                100              eth0,eth1  vlan_filter=3  1500  -
  b      vSwitch-long-name  [10,20],[30,30]  -          -              9000  tab?here
none: -'

run echo x --ctl $'a\x1b[2Jb'
expect "control characters are not printed" 0 'method: echo.x
params: ctl=a?[2Jb'

run thing empty
expect "empty list" 0 ''
run thing null
expect "null result" 0 ''
run thing null --json
expect "null result --json" 0 'null'

# --- errors ------------------------------------------------------------------

run bad.thing x
expect "daemon error" 1 ''
expect_err "daemon error" "portico: bad thing: bad.thing.x"

run nosuch verb
expect "unknown method" 1
expect_err "unknown method" "portico: method not found: nosuch.verb"

run garbage x
expect "reply not JSON" 1
expect_err "reply not JSON" "invalid reply"

run wrongid x
expect "reply id mismatch" 1
expect_err "reply id mismatch" "invalid reply"

run close x
expect "closed without reply" 3
expect_err "closed without reply" "closed without a reply"

run
expect "no arguments" 2
expect_err "no arguments" "usage: portico"

for args in "vswitch" "x y a b" "x y --k" "x y --k --j" "x y --k 1 --k 2" "x y n --name m" \
	"x y --b@d 1" "x y --=1" "--bogus x y" "--socket" "--socket= x y"; do
	# shellcheck disable=SC2086
	run $args
	expect "usage error: portico $args" 2 ''
	expect_err "usage error: portico $args" "portico: "
done

run echo x --v $'\xff\xfe'
expect "value not UTF-8" 2
expect_err "value not UTF-8" "not valid UTF-8"

PORTICO_SOCKET=$T/nothing-here run $'ob\xffj' verb
expect "method not UTF-8 (checked before connecting)" 2

PORTICO_SOCKET=$T/nothing-here run system version
expect "no daemon" 3 ''
expect_err "no daemon" \
	"portico: cannot connect to $T/nothing-here: No such file or directory (is porticod running?)"

python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/dead.sock"
run --socket "$T/dead.sock" system version
expect "connection refused" 3
expect_err "connection refused" "Connection refused (is porticod running?)"

run --socket "/tmp/$(printf 'x%.0s' $(seq 120))" system version
expect "socket path too long" 3
expect_err "socket path too long" "longer than"

# --- help --------------------------------------------------------------------

run --help
expect "--help" 0
for w in vswitch uplink portgroup port fdb system config "add, set, del, list"; do
	[[ "$OUT" == *"$w"* ]] || fail "--help lacks '$w'"
done

run vswitch --help
expect "vswitch --help" 0
[[ "$OUT" == *"portico vswitch add NAME [--mtu N]"* ]] || fail "vswitch --help lacks add"
[[ "$OUT" == *"portico vswitch list"* ]] || fail "vswitch --help lacks list"

run port add -h
expect "port add -h" 0
[[ "$OUT" == *"--portgroup PG"* ]] || fail "port add -h lacks --portgroup"
[[ "$OUT" != *"portico port del"* ]] || fail "port add -h shows other verbs"

run nosuchobject --help
expect "help of an unknown object" 2

# --- huge values -------------------------------------------------------------

# An argument is at most 128 KiB: send 15 of 100 KB (a 1.5 MB request line).
big=$(head -c 100000 /dev/zero | tr '\0' a)
args=()
for i in $(seq 15); do
	args+=("--k$i" "$big")
done
run echo big "${args[@]}" --json
expect "huge request" 0
if ! python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))["params"]
sys.exit(not (len(p) == 15 and all(v == "a" * 100000 for v in p.values())))' "$T/out" 2>/dev/null; then
	fail "huge request: params did not come back intact"
fi

run echo big --n "$(printf '9%.0s' $(seq 5000))" --d "$(printf '[%.0s' $(seq 5000))" --json
expect "huge number and deep nesting are strings" 0
if ! python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))["params"]
sys.exit(not (p["n"] == "9" * 5000 and p["d"] == "[" * 5000))' "$T/out" 2>/dev/null; then
	fail "huge number and deep nesting: not sent as strings"
fi

run thing huge
expect "huge reply" 0
if [ "$(wc -l <"$T/out")" != 20001 ] || [[ "$OUT" != *"thing19999  19999  xxxx"* ]]; then
	fail "huge reply: not a 20000-row table"
fi

# --- timeout -----------------------------------------------------------------

wait "$HANG"
HANG=
read -r hang_rc hang_secs <"$T/hang.rc"
if [ "$hang_rc" != 3 ] || [ "$hang_secs" -lt 9 ] || [ "$hang_secs" -gt 13 ]; then
	fail "reply timeout: exit status $hang_rc after ${hang_secs}s, expected 3 after 10s"
elif ! grep -q "no reply within 10 s" "$T/hang.err"; then
	fail "reply timeout: stderr '$(cat "$T/hang.err")'"
else
	pass
fi

echo "test_cli: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
