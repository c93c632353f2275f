# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# lib.sh for the e2e tests: real QEMU guests (scripts/guest-image.sh) on
# porticod, started and watched by portico-agent. Built on the integration
# harness (tests/integration/lib.sh: prefix, $IT_DIR, traps, teardown of
# everything this run started, QEMUs included: they inherit PORTICO_IT_RUN
# from the agent).
#
#   e2e_init NAME            it_init, binaries, guest image, accelerator
#   e2e_porticod_start       porticod on $IT_DIR/pd.sock (main CPU 0, worker CPU 1)
#   e2e_agent_start [ARGS]   portico-agent on $IT_DIR/agent.sock (extra ARGS: --listen ...)
#   e2e_pd ARGS / e2e_ag ARGS  the CLI against porticod / the agent
#   e2e_vm_create VM PG IP [MAC]  a guest on port group PG of vSwitch0, eth0 = IP/24
#   e2e_vm_start VM...       start, then wait until each guest's shell answers
#   e2e_guest VM CMD...      run CMD in the guest (tests/e2e/guest.py), its output and status
#   e2e_ping VM IP [COUNT]   the guest pings IP (true if replies came)
#   e2e_no_ping VM IP        no reply
#   e2e_qemu_pid VM          QEMU's pid (from the agent)
#
# Environment: PORTICO_BUILD (default build/ at the top: control/porticod,
# control/portico, vmm/portico-agent), PORTICO_E2E_ACCEL (kvm|tcg; default:
# scripts/guest-image.sh --probe-accel), PORTICO_GUEST_DIR (image cache).
# At most two guests run at a time (the machine has 2 CPUs; TCG is hungry).

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_TOP=$(cd "$E2E_DIR/../.." && pwd)
# shellcheck source=../integration/lib.sh
. "$E2E_TOP/tests/integration/lib.sh"

e2e_init() {
	local b=${PORTICO_BUILD:-$E2E_TOP/build}
	it_init "$1"
	E2E_PORTICOD=${PORTICO_PORTICOD:-$b/control/porticod}
	E2E_CLI=$b/control/portico
	E2E_AGENT=$b/vmm/portico-agent
	for f in "$E2E_PORTICOD" "$E2E_CLI" "$E2E_AGENT"; do
		[[ -x $f ]] || it_die "$f is not built"
	done
	command -v qemu-system-x86_64 >/dev/null || it_die "qemu-system-x86_64 missing (scripts/setup.sh)"
	E2E_GUEST=$(bash "$E2E_TOP/scripts/guest-image.sh") || it_die "guest image"
	E2E_ACCEL=${PORTICO_E2E_ACCEL:-$(bash "$E2E_TOP/scripts/guest-image.sh" --probe-accel)}
	E2E_PD_SOCK=$IT_DIR/pd.sock
	E2E_AG_SOCK=$IT_DIR/agent.sock
	it_log "guest image $E2E_GUEST, accelerator $E2E_ACCEL"
}

e2e_pd() { "$E2E_CLI" --socket "$E2E_PD_SOCK" "$@"; }
e2e_ag() { "$E2E_CLI" --socket "$E2E_AG_SOCK" "$@"; }

# e2e_porticod_start: (re)start porticod with its state in $IT_DIR/pd.json.
e2e_porticod_start() {
	it__hugepages_check 256
	it_spawn porticod "$E2E_PORTICOD" --config "$IT_DIR/pd.json" --socket "$E2E_PD_SOCK" \
		--lcores 0@0,1@1 -- --no-pci --in-memory
	it_wait_for 30 e2e_pd system version >/dev/null 2>&1 ||
		it_die "porticod did not start: $(tail -5 "$IT_DIR/porticod.log")"
}

# e2e_agent_start [ARGS...]: (re)start the agent (state kept in $IT_DIR/agent).
e2e_agent_start() {
	it_spawn agent "$E2E_AGENT" --socket "$E2E_AG_SOCK" --porticod-socket "$E2E_PD_SOCK" \
		--state-dir "$IT_DIR/agent" --run-dir "$IT_DIR/run" --accel "$E2E_ACCEL" "$@"
	it_wait_for 20 e2e_ag vm list >/dev/null 2>&1 ||
		it_die "portico-agent did not start: $(tail -5 "$IT_DIR/agent.log")"
}

# e2e_vm_create VM PG IP [MAC]: a guest on vSwitch0/PG with eth0 = IP/24.
e2e_vm_create() {
	local vm=$1 pg=$2 ip=$3 mac=${4:-} nic
	nic="{\"vswitch\":\"vSwitch0\",\"portgroup\":\"$pg\"${mac:+,\"mac\":\"$mac\"}}"
	e2e_ag vm create "$vm" --memory 192 --boot "{\"kernel\":\"$E2E_GUEST/vmlinuz\",\"initrd\":\"$E2E_GUEST/initrd.img\",\"cmdline\":\"console=ttyS0 quiet portico.name=$vm portico.ip=$ip/24\"}" \
		--nics "[$nic]" >/dev/null
}

e2e_console() { e2e_ag vm show "$1" --json | "$IT_PY" -c 'import json,sys; print(json.load(sys.stdin)["console_socket"])'; }

# e2e_guest VM CMD...: run CMD in the guest; its output on stdout, its status.
e2e_guest() {
	local vm=$1
	shift
	"$IT_PY" "$E2E_DIR/guest.py" "$(e2e_console "$vm")" --timeout "${E2E_GUEST_TIMEOUT:-30}" "$*"
}

# e2e_vm_start VM...: start each, then wait until every guest's shell answers.
e2e_vm_start() {
	local vm
	for vm in "$@"; do
		e2e_ag vm start "$vm" >/dev/null || it_die "vm start $vm failed"
	done
	for vm in "$@"; do
		"$IT_PY" "$E2E_DIR/guest.py" "$(e2e_console "$vm")" --wait-ready --timeout 90 true >/dev/null ||
			it_die "guest $vm did not boot: $(tail -c 600 "$IT_DIR/agent/$vm.console.log")"
	done
	it_log "guests up: $*"
}

e2e_ping() { e2e_guest "$1" "ping -c ${3:-3} -W 2 $2" >>"$IT_DIR/ping.log" 2>&1; }
e2e_no_ping() { ! e2e_guest "$1" "ping -c 2 -W 1 $2" >>"$IT_DIR/ping.log" 2>&1; }

e2e_qemu_pid() { e2e_ag vm show "$1" --json | "$IT_PY" -c 'import json,sys; print(json.load(sys.stdin)["pid"])'; }

# e2e_json CMD... -- EXPR: run CMD (JSON on stdout), print python EXPR over it as d.
e2e_json() {
	local expr=${*: -1}
	"${@:1:$#-1}" | "$IT_PY" -c "import json,sys; d=json.load(sys.stdin); print($expr)"
}

# e2e_basic_net: vSwitch0 with port group "VM Network" (VLAN 0).
e2e_basic_net() {
	e2e_pd vswitch add vSwitch0 >/dev/null
	e2e_pd portgroup add "VM Network" --vswitch vSwitch0 --vlan 0 >/dev/null
}
