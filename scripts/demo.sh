#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Portico demo, for a fresh Debian 12 machine as root: set up the host,
# build, start porticod, configure it through its control socket (vSwitch
# "vSwitch0", port group "VM Network", two VM ports), attach two fake VMs
# (DPDK virtio_user peers bridged to TAPs in network namespaces) and ping
# between them across the switch. Then porticod keeps running until Ctrl-C
# so you can look around with the CLI; --once stops after the ping.
#
# The demo uses the default control socket /run/portico/porticod.sock (so a
# plain `portico port stats` works) and its own state file
# /var/lib/portico/demo.json, rewritten on every run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
once=0
[[ ${1:-} == --once ]] && once=1

bash "$top/scripts/setup.sh"
if [[ ! -f $top/build/build.ninja ]]; then
	meson setup "$top/build" >/dev/null
fi
ninja -C "$top/build" >/dev/null

. "$top/tests/integration/lib.sh"
IT_DEFAULT_TIMEOUT=$((once ? 180 : 7 * 24 * 3600))
it_init demo
cli="$top/build/control/portico"
sock=/run/portico/porticod.sock
state=/var/lib/portico/demo.json
[[ ! -S $sock ]] || ! "$cli" --socket "$sock" system version >/dev/null 2>&1 ||
	it_die "a porticod already answers on $sock: stop it first"
rm -f "$state"

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "Starting porticod (worker on CPU 1; the fake VMs poll CPU 0)"
it_spawn porticod "$top/build/control/porticod" --config "$state" --socket "$sock" \
	--lcores 0@0,1@1 -- --no-pci --in-memory
it_wait_for 20 "$cli" --socket "$sock" system version >/dev/null 2>&1 ||
	it_die "porticod did not start: $(tail -5 "$IT_DIR/porticod.log")"
export PORTICO_SOCKET=$sock

say "Configuring it through its socket with the portico CLI"
run "$cli" vswitch add vSwitch0 --mtu 1500
run "$cli" portgroup add "VM Network" --vswitch vSwitch0 --vlan 0
run "$cli" port add vm1.eth0 --vswitch vSwitch0 --portgroup "VM Network" \
	--socket "$IT_DIR/vm1.sock" --mac 52:54:00:00:00:01
run "$cli" port add vm2.eth0 --vswitch vSwitch0 --portgroup "VM Network" \
	--socket "$IT_DIR/vm2.sock" --mac 52:54:00:00:00:02

say "Attaching two fake VMs (virtio_user servers; porticod connects as client)"
it_fakevms_start vm1 52:54:00:00:00:01 192.168.77.1/24 vm2 52:54:00:00:00:02 192.168.77.2/24
it_fakevms_wait 60 || it_die "fake VMs did not come up"
run "$cli" port list

say "vm1 (192.168.77.1) pings vm2 (192.168.77.2) across Portico"
rc=0
run ip netns exec "$(it_ns vm1)" ping -c 5 -i 0.2 -W 1 192.168.77.2 || rc=$?

say "Counters and forwarding table"
run "$cli" port stats
run "$cli" fdb list

if [[ $once == 1 ]]; then
	[[ $rc == 0 ]] && say "Demo OK" || say "Demo FAILED"
	exit "$rc"
fi
say "porticod is running: try 'portico port stats', 'portico config get --json',
'ip netns exec $(it_ns vm1) ping 192.168.77.2'. Ctrl-C stops everything."
while it_running porticod; do sleep 1; done
