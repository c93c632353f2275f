# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# pt.sh: porticod helpers for integration tests; source it after lib.sh.
#
# porticod runs with its state file and control socket in $IT_DIR, its main
# lcore on CPU 0 and its worker on CPU $PT_CPU (1 by default: the fake VMs'
# testpmd busy-polls CPU 0), EAL --in-memory with the run's file prefix.
#   pt_start [porticod args...]   start it, wait until the socket answers
#   pt CMD...                     the CLI against it (portico OBJECT VERB ...)
#   pt_get FIELD CMD...           one value from a CLI --json result (python expr
#                                 on "r", e.g. 'r[0]["rx_packets"]')
#   pt_eval EXPR                  the same on JSON from stdin
#   pt_stat PORT KEY              rx_packets/tx_packets/... or a drop reason
#   pt_kill9 / pt_stop            kill -9 / SIGTERM and wait
#   pt_rpc LINE                   send one raw request line, print the answer

PT_TOP=$(cd "$IT_LIB_DIR/../.." && pwd)
PT_BUILD=${PORTICO_BUILD:-$PT_TOP/build}
PT_D=$PT_BUILD/control/porticod
PT_CLI=$PT_BUILD/control/portico
PT_CPU=${PT_CPU:-1}
PT_PID=""

[[ -x $PT_D && -x $PT_CLI ]] || it_die "porticod/portico not built in $PT_BUILD"

pt_sock() { echo "$IT_DIR/porticod.sock"; }
pt_state() { echo "$IT_DIR/porticod.json"; }

pt() { "$PT_CLI" --socket "$(pt_sock)" "$@"; }

pt_ready() { pt system version >/dev/null 2>&1; }

# PT_WRAP (e.g. "taskset -c 1") runs porticod under a wrapper; PT_LCORES=default
# leaves the lcores to porticod's own choice.
pt_start() {
	local -a lcores=(--lcores "0@0,1@$PT_CPU")
	[[ ${PT_LCORES:-} == default ]] && lcores=()
	# shellcheck disable=SC2086
	it_spawn porticod ${PT_WRAP:-} "$PT_D" --config "$(pt_state)" --socket "$(pt_sock)" \
		"${lcores[@]}" "$@" -- --no-pci --in-memory --file-prefix "$(it_eal_prefix pt)"
	PT_PID=$IT_LAST_PID
	it_wait_for 20 pt_ready || it_die "porticod did not come up: $(tail -5 "$IT_DIR/porticod.log")"
}

pt_stop() {
	[[ -n $PT_PID ]] || return 0
	kill -TERM "$PT_PID" 2>/dev/null
	it_wait_for 10 it__not kill -0 "$PT_PID" 2>/dev/null
	PT_PID=""
}

pt_kill9() {
	[[ -n $PT_PID ]] || return 0
	kill -KILL "$PT_PID" 2>/dev/null
	it_wait_for 5 it__not kill -0 "$PT_PID" 2>/dev/null
	PT_PID=""
}

# pt_eval EXPR: EXPR (python, on "r") evaluated on the JSON read from stdin.
pt_eval() {
	"$IT_PY" -c 'import json, sys
r = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}

pt_get() {
	local expr=$1
	shift
	pt "$@" --json | pt_eval "$expr"
}

pt_stat() {
	local port=$1 key=$2
	pt_get "r[0][\"$key\"] if \"$key\" in r[0] else r[0][\"drops\"][\"$key\"]" port stats "$port"
}

pt_rpc() {
	"$IT_PY" - "$(pt_sock)" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
print(buf.decode().strip())
PY
}

# Run porticod in the foreground (for its exit code): pt_run ARGS...
pt_run() {
	timeout 30 "$PT_D" --config "$(pt_state)" --socket "$(pt_sock)" --lcores "0@0,1@$PT_CPU" "$@" \
		-- --no-pci --in-memory --file-prefix "$(it_eal_prefix pt)"
}

# A VM port on a fake VM's socket: pt_vm_port VM VSWITCH PORTGROUP MAC
pt_vm_port() {
	pt port add "$1.eth0" --vswitch "$2" --portgroup "$3" --socket "$IT_DIR/$1.sock" --mac "$4"
}

# Wait until porticod reports every port connected.
pt_ports_connected() {
	[[ $(pt_get 'sum(p["state"] != "connected" for p in r)' port list) == 0 ]]
}
