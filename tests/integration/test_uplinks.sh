#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Uplink kinds and lcores: net_af_xdp and net_af_packet uplinks on veths
# into the physical namespace pass ping; uplinks come and go at runtime
# (hot remove and re-add of the DPDK device); porticod under
# `taskset -c 1` with no --lcores puts its worker on that one CPU and still
# forwards.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pt.sh"
it_init uplinks
it_timeout 150

it_phys_start
it_uplink_add 0
it_uplink_add 1
it_phys_host ext 02:00:00:00:ee:05 10.7.0.100/24

PT_WRAP="taskset -c 1" PT_LCORES=default pt_start
it_check "porticod under taskset -c 1 chose main and worker on CPU 1" \
	grep -q -- '--lcores 0@1,1@1\|1 worker' "$IT_DIR/porticod.log"
pt vswitch add vSwitch0 >/dev/null
pt portgroup add "VM Network" --vswitch vSwitch0 --vlan 0 >/dev/null
pt_vm_port vm1 vSwitch0 "VM Network" 02:00:00:00:05:01 >/dev/null
it_fakevms_start vm1 02:00:00:00:05:01 10.7.0.1/24
it_fakevms_wait 60
it_check "port connected" it_wait_for 10 pt_ports_connected
it_check "worker threads of porticod run on CPU 1 only" \
	bash -c "for t in /proc/$PT_PID/task/*; do taskset -pc \$(basename \$t); done | grep -v 'list: 1\$' | wc -l | grep -qx 0"

# af_xdp uplink.
it_check "add an af_xdp uplink" pt uplink add xdp0 --vswitch vSwitch0 \
	--devargs "net_af_xdp0,iface=$(it_uplink_if 0)"
link_up() { [[ $(pt_get "[u['link'] for u in r if u['name'] == '$1'][0]" uplink list) == up ]]; }
it_check "the af_xdp uplink's link is up" it_wait_for 5 link_up xdp0
it_check "vm1 pings the external host through net_af_xdp" it_ping vm1 10.7.0.100

# Swap to af_packet on the other veth; the af_xdp device is removed.
pt uplink del xdp0 >/dev/null
it_check "after removing the only uplink the external host is unreachable" it_no_ping vm1 10.7.0.100
it_check "add an af_packet uplink" pt uplink add pkt1 --vswitch vSwitch0 \
	--devargs "net_af_packet1,iface=$(it_uplink_if 1)"
it_check "vm1 pings the external host through net_af_packet" it_ping vm1 10.7.0.100
# The af_xdp device name is free again after its removal. (Binding the
# same interface's queue with AF_XDP again in the same process fails in
# DPDK 22.11 with this libxdp: docs/behaviour.md. It must fail cleanly.)
cfg=$(pt config get --json)
it_check "re-binding AF_XDP on the same interface is refused cleanly" \
	it__not pt uplink add xdp0 --vswitch vSwitch0 --devargs "net_af_xdp0,iface=$(it_uplink_if 0)"
it_check "and changes nothing" test "$(pt config get --json)" = "$cfg"
ip link add "${IT_PREFIX}x0" type veth peer name "up9" netns "$(it_ns phys)"
ip link set "${IT_PREFIX}x0" up
ip -n "$(it_ns phys)" link set up9 master br0 up
it_check "the same af_xdp device name opens on another interface" pt uplink add xdp0 \
	--vswitch vSwitch0 --devargs "net_af_xdp0,iface=${IT_PREFIX}x0"
pt uplink list
it_check "two uplinks listed" test "$(pt_get 'len(r)' uplink list)" = 2
it_check "vm1 still pings with two uplinks" it_ping vm1 10.7.0.100
it_finish
