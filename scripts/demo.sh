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
#
# --vms: real VMs instead of the fake ones: portico-agent (default socket
# /run/portico/agent.sock, so `portico vm list` works; inventory in
# /var/lib/portico/demo-agent, rewritten on every run) boots two QEMU guests
# built from Debian packages (scripts/guest-image.sh; KVM if it boots them
# here, else TCG) on "VM Network", and vm1 pings vm2 from inside the guest.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
once=0
vms=0
for arg in "$@"; do
	case $arg in
	--once) once=1 ;;
	--vms) vms=1 ;;
	*)
		echo "usage: $0 [--vms] [--once]" >&2
		exit 2
		;;
	esac
done

bash "$top/scripts/setup.sh"
if [[ ! -f $top/build/build.ninja ]]; then
	meson setup "$top/build" >/dev/null
fi
ninja -C "$top/build" >/dev/null

. "$top/tests/integration/lib.sh"
IT_DEFAULT_TIMEOUT=$((once ? 240 : 7 * 24 * 3600))
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

if [[ $vms == 1 ]]; then
	agent="$top/build/vmm/portico-agent"
	asock=/run/portico/agent.sock
	astate=/var/lib/portico/demo-agent
	[[ ! -S $asock ]] || ! "$cli" --socket "$asock" vm list >/dev/null 2>&1 ||
		it_die "a portico-agent already answers on $asock: stop it first"
	say "Building the guest image from Debian packages (cached in /var/cache/portico/guest)"
	guest=$(bash "$top/scripts/guest-image.sh")
	accel=$(bash "$top/scripts/guest-image.sh" --probe-accel)
	say "Starting portico-agent ($accel guests; QEMU is porticod's vhost-user peer)"
	rm -rf "$astate" /run/portico/demo-agent
	it_spawn agent "$agent" --socket "$asock" --state-dir "$astate" \
		--run-dir /run/portico/demo-agent --accel "$accel"
	it_wait_for 20 "$cli" --socket "$asock" vm list >/dev/null 2>&1 ||
		it_die "portico-agent did not start: $(tail -5 "$IT_DIR/agent.log")"
	export PORTICO_AGENT_SOCKET=$asock
	for i in 1 2; do
		run "$cli" vm create vm$i --memory 192 --boot "{\"kernel\":\"$guest/vmlinuz\",\"initrd\":\"$guest/initrd.img\",\"cmdline\":\"console=ttyS0 quiet portico.name=vm$i portico.ip=192.168.77.$i/24\"}" \
			--nics '[{"vswitch":"vSwitch0","portgroup":"VM Network"}]' >/dev/null
	done
	say "Starting vm1 and vm2 (the agent adds their ports, then launches QEMU)"
	run "$cli" vm start vm1 >/dev/null
	run "$cli" vm start vm2 >/dev/null
	run "$cli" vm list
	run "$cli" port list
	for i in 1 2; do
		con=$("$cli" vm show vm$i --json | "$IT_PY" -c 'import json,sys; print(json.load(sys.stdin)["console_socket"])')
		"$IT_PY" "$top/tests/e2e/guest.py" "$con" --wait-ready --timeout 120 true >/dev/null ||
			it_die "vm$i did not boot (see $astate/vm$i.console.log)"
	done
	con1=$("$cli" vm show vm1 --json | "$IT_PY" -c 'import json,sys; print(json.load(sys.stdin)["console_socket"])')
	say "Inside vm1 (its serial console): ping vm2 (192.168.77.2) across Portico"
	rc=0
	printf '$ %s\n' "vm1# ping -c 5 192.168.77.2"
	"$IT_PY" "$top/tests/e2e/guest.py" "$con1" --timeout 30 "ping -c 5 -W 2 192.168.77.2" || rc=$?
	say "What the agent saw over QMP, as porticod has it"
	run "$cli" vm show vm1
	run "$cli" port stats
	if [[ $once == 1 ]]; then
		[[ $rc == 0 ]] && say "Demo OK" || say "Demo FAILED"
		exit "$rc"
	fi
	say "porticod and portico-agent are running: try 'portico vm list', 'portico vm console vm1',
'python3 tests/e2e/guest.py $con1 \"ip addr\"', 'portico port stats'. Ctrl-C stops everything."
	while it_running porticod && it_running agent; do sleep 1; done
	exit 0
fi

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
