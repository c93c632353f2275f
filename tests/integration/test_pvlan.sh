#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Private VLANs: primary 100 with isolated 101 and community 102. The
# reachability matrix between promiscuous, isolated and community ports
# (isolated ports reach only promiscuous ports; community ports reach
# promiscuous ports and their own community), the secondary VLAN ID on the
# uplink, and what frames from the uplink reach, per VLAN. Tagged peers tag
# in userspace (vlanpeer.py): this kernel has no 802.1Q.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pt.sh"
it_init pvlan
it_timeout 180

BC=ff:ff:ff:ff:ff:ff
MP=02:00:00:00:07:01 MI1=02:00:00:00:07:02 MI2=02:00:00:00:07:03
MC1=02:00:00:00:07:04 MC2=02:00:00:00:07:05 EXT=02:00:00:00:ee:07

it_phys_start
it_uplink_add 0
it_phys_host ext $EXT 10.7.0.200/24

pt_start
pt vswitch add vSwitch0 >/dev/null
pt uplink add uplink0 --vswitch vSwitch0 --devargs "net_af_packet0,iface=$(it_uplink_if 0)" >/dev/null
it_check "a private VLAN map is accepted" pt vswitch set vSwitch0 --pvlans \
	'[{"primary": 100, "secondaries": [{"vid": 101, "type": "isolated"}, {"vid": 102, "type": "community"}]}]'
it_check_fails "a port group on a private VLAN ID outside the map is refused" \
	pt portgroup add Bad --vswitch vSwitch0 --vlan '{"pvlan": 103}'
it_check_fails "a switch-tagged port group on a private VLAN ID is refused" \
	pt portgroup add Bad --vswitch vSwitch0 --vlan 101
pt portgroup add Prom --vswitch vSwitch0 --vlan '{"pvlan": 100}' >/dev/null
pt portgroup add Iso --vswitch vSwitch0 --vlan '{"pvlan": 101}' >/dev/null
pt portgroup add Comm --vswitch vSwitch0 --vlan '{"pvlan": 102}' >/dev/null
pt_vm_port vmp vSwitch0 Prom $MP >/dev/null
pt_vm_port vmi1 vSwitch0 Iso $MI1 >/dev/null
pt_vm_port vmi2 vSwitch0 Iso $MI2 >/dev/null
pt_vm_port vmc1 vSwitch0 Comm $MC1 >/dev/null
pt_vm_port vmc2 vSwitch0 Comm $MC2 >/dev/null
it_fakevms_start vmp $MP 10.7.0.1/24 vmi1 $MI1 10.7.0.2/24 vmi2 $MI2 10.7.0.3/24 \
	vmc1 $MC1 10.7.0.4/24 vmc2 $MC2 10.7.0.5/24
it_fakevms_wait 60
it_check "every port connected" it_wait_for 10 pt_ports_connected
it_check_fails "a map still in use by a port group cannot drop its VLAN" \
	pt vswitch set vSwitch0 --pvlans '[]'

# --- the matrix ---
it_check "isolated -> promiscuous" it_ping vmi1 10.7.0.1
it_check "promiscuous -> isolated" it_ping vmp 10.7.0.3
it_check "community -> promiscuous" it_ping vmc1 10.7.0.1
it_check "community -> same community" it_ping vmc1 10.7.0.5
it_check "isolated -/-> isolated" it_no_ping vmi1 10.7.0.3
it_check "isolated -/-> community" it_no_ping vmi1 10.7.0.4
it_check "community -/-> isolated" it_no_ping vmc2 10.7.0.2
# Unicast straight to a MAC the role may not reach: dropped and named.
b=$(pt_stat vmi1.eth0 pvlan)
it_vlanpeer_bg iso vmi2 recv eth0 --timeout 2 --payload iso --expect 0
it_vlanpeer vmi1 send eth0 --src $MI1 --dst $MI2 --payload iso --count 3
it_check "isolated -> isolated unicast (MAC known) does not arrive" it_wait iso 6
it_check "...and is counted as pvlan" test "$(($(pt_stat vmi1.eth0 pvlan) - b))" -eq 3

# --- on the uplink: the secondary VLAN ID, as a PVLAN-aware switch expects ---
for pair in "vmi1 $MI1 101" "vmc1 $MC1 102" "vmp $MP 100"; do
	read -r vm mac vid <<<"$pair"
	it_vlanpeer_bg "up$vid" ext recv eth0 --timeout 4 --payload "up$vid" --vlan "$vid"
	it_vlanpeer "$vm" send eth0 --src "$mac" --dst $BC --payload "up$vid" --count 2
	it_check "a broadcast from $vm leaves the uplink tagged $vid" it_wait "up$vid" 8
done

# --- from the uplink, per VLAN ---
# rx_from_ext TAG VID VM N: VM gets N frames of a broadcast tagged VID from outside.
rx_from_ext() {
	it_vlanpeer_bg "$1-$3" "$3" recv eth0 --timeout 2 --payload "$1" --vlan none --expect "$4"
}
rx_from_ext x100 100 vmi1 1
rx_from_ext x100 100 vmc2 1
it_vlanpeer ext send eth0 --src $EXT --dst $BC --vlan 100 --payload x100 --count 2
it_check "tagged 100 (primary) from the uplink reaches an isolated port" it_wait x100-vmi1 6
it_check "...and a community port" it_wait x100-vmc2 6
rx_from_ext x101 101 vmp 1
rx_from_ext x101 101 vmi2 0
it_vlanpeer ext send eth0 --src $EXT --dst $BC --vlan 101 --payload x101 --count 2
it_check "tagged 101 (isolated) from the uplink reaches the promiscuous port" it_wait x101-vmp 6
it_check "...but no isolated port" it_wait x101-vmi2 6
rx_from_ext x102 102 vmc1 1
rx_from_ext x102 102 vmi1 0
it_vlanpeer ext send eth0 --src $EXT --dst $BC --vlan 102 --payload x102 --count 2
it_check "tagged 102 (community) from the uplink reaches the community" it_wait x102-vmc1 6
it_check "...but not an isolated port" it_wait x102-vmi1 6

# --- a live change: vmi2 joins the community ---
pt port set vmi2.eth0 --portgroup Comm >/dev/null
it_check "after moving vmi2 to the community, vmc1 reaches it" it_ping vmc1 10.7.0.3
it_check "and the map and port groups survive in the state file" \
	grep -q '"pvlan": 101' "$(pt_state)"
it_finish
