#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# L2 forwarding end to end: fake VMs (virtio_user + TAP in netns) on
# porticod, an af_packet uplink on a veth into a "physical" bridge with an
# external host. VM<->VM on one port group; port groups on different VLANs
# isolated; VM<->external through the uplink; MAC learning on the uplink;
# broadcast flooding to the VLAN's VMs and the uplink only; unicast to a VM
# seen by that VM only; counters.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pt.sh"
it_init l2_basic
it_timeout 150

it_phys_start
it_uplink_add 0
it_phys_host ext 02:00:00:00:ee:01 10.1.0.100/24

pt_start
pt vswitch add vSwitch0 >/dev/null
pt uplink add uplink0 --vswitch vSwitch0 --devargs "net_af_packet0,iface=$(it_uplink_if 0)" >/dev/null
pt portgroup add "VM Network" --vswitch vSwitch0 --vlan 0 >/dev/null
pt portgroup add VLAN10 --vswitch vSwitch0 --vlan 10 >/dev/null
pt portgroup add VLAN20 --vswitch vSwitch0 --vlan 20 >/dev/null
pt_vm_port vm1 vSwitch0 "VM Network" 02:00:00:00:01:01 >/dev/null
pt_vm_port vm2 vSwitch0 "VM Network" 02:00:00:00:01:02 >/dev/null
pt_vm_port vm3 vSwitch0 VLAN10 02:00:00:00:01:03 >/dev/null
pt_vm_port vm4 vSwitch0 VLAN20 02:00:00:00:01:04 >/dev/null
pt_vm_port vm5 vSwitch0 VLAN10 02:00:00:00:01:05 >/dev/null

it_fakevms_start vm1 02:00:00:00:01:01 10.1.0.1/24 vm2 02:00:00:00:01:02 10.1.0.2/24 \
	vm3 02:00:00:00:01:03 10.2.0.3/24 vm4 02:00:00:00:01:04 10.2.0.4/24 \
	vm5 02:00:00:00:01:05 10.2.0.5/24
it_fakevms_wait 60
it_check "every port connected" it_wait_for 10 pt_ports_connected

it_check "vm1 pings vm2 on one port group" it_ping vm1 10.1.0.2
it_check "vm3 pings vm5 on VLAN 10" it_ping vm3 10.2.0.5
it_check "vm3 cannot reach vm4 (VLAN 10 vs VLAN 20)" it_no_ping vm3 10.2.0.4
it_check "vm1 reaches the external host through the uplink" it_ping vm1 10.1.0.100

learned() {
	[[ $(pt_get '[e["port"] for e in r if e["mac"] == "02:00:00:00:ee:01" and e["type"] == "learned" and e["vlan"] == 0]' fdb list) == "['uplink0']" ]]
}
it_check "the external host's MAC is learned on uplink0, VLAN 0" it_wait_for 5 learned
it_check "static entries for the VMs" test "$(pt_get 'sum(e["type"] == "static" for e in r)' fdb list)" = 5

# Flooding: a broadcast from vm1 reaches vm2 and the external host, not
# the VLAN 10/20 VMs, and not vm1 itself.
for h in vm2 ext; do it_vlanpeer_bg "rx-$h" "$h" recv eth0 --timeout 4 --payload flood1 --dst ff:ff:ff:ff:ff:ff; done
for h in vm3 vm4 vm1; do it_vlanpeer_bg "rx-$h" "$h" recv eth0 --timeout 4 --payload flood1 --expect 0; done
it_vlanpeer vm1 send eth0 --src 02:00:00:00:01:01 --dst ff:ff:ff:ff:ff:ff --payload flood1 --count 3
for h in vm2 ext; do it_check "broadcast from vm1 reaches $h" it_wait "rx-$h" 8; done
for h in vm3 vm4 vm1; do it_check "broadcast from vm1 does not reach $h" it_wait "rx-$h" 8; done

# Unicast: a frame to vm2 is seen by vm2 only (not vm5, not the uplink).
it_vlanpeer_bg rx-u-vm2 vm2 recv eth0 --timeout 4 --payload uni1
it_vlanpeer_bg rx-u-ext ext recv eth0 --timeout 4 --payload uni1 --expect 0
it_vlanpeer vm1 send eth0 --src 02:00:00:00:01:01 --dst 02:00:00:00:01:02 --payload uni1 --count 3
it_check "unicast to vm2 reaches vm2" it_wait rx-u-vm2 8
it_check "unicast to vm2 does not leave through the uplink" it_wait rx-u-ext 8

# Unknown unicast from a VM: out of the uplink only.
it_vlanpeer_bg rx-uu-ext ext recv eth0 --timeout 4 --payload uu1
it_vlanpeer_bg rx-uu-vm2 vm2 recv eth0 --timeout 4 --payload uu1 --expect 0
it_vlanpeer vm1 send eth0 --src 02:00:00:00:01:01 --dst 02:00:00:00:99:99 --payload uu1 --count 3
it_check "unknown unicast goes out of the uplink" it_wait rx-uu-ext 8
it_check "unknown unicast does not reach other VMs" it_wait rx-uu-vm2 8

# From the uplink, unknown unicast is dropped and counted.
before=$(pt_stat uplink0 unknown_unicast)
it_vlanpeer ext send eth0 --src 02:00:00:00:ee:01 --dst 02:00:00:00:99:98 --payload uu2 --count 4
sleep 0.5
it_check "unknown unicast from the uplink dropped and counted" \
	test "$(($(pt_stat uplink0 unknown_unicast) - before))" -ge 4

# MTU 1500: a frame of 1518 bytes (header + 1504) passes, 1519 is dropped
# and counted; after a live MTU change to 9000 it passes.
it_exec vm1 ip link set eth0 mtu 4000
it_exec vm2 ip link set eth0 mtu 4000
p1504=$(printf 'a%.0s' $(seq 1504))
p1505=$(printf 'b%.0s' $(seq 1505))
before=$(pt_stat vm1.eth0 oversize)
it_vlanpeer_bg rx-1518 vm2 recv eth0 --timeout 4 --payload "$p1504"
it_vlanpeer_bg rx-1519 vm2 recv eth0 --timeout 4 --payload "$p1505" --expect 0
it_vlanpeer vm1 send eth0 --src 02:00:00:00:01:01 --dst 02:00:00:00:01:02 --payload "$p1504"
it_vlanpeer vm1 send eth0 --src 02:00:00:00:01:01 --dst 02:00:00:00:01:02 --payload "$p1505" --count 2
it_check "MTU 1500: a 1518-byte frame is forwarded" it_wait rx-1518 8
it_check "MTU 1500: a 1519-byte frame is not" it_wait rx-1519 8
it_check "MTU 1500: the 1519-byte frames are counted as oversize" \
	test "$(($(pt_stat vm1.eth0 oversize) - before))" -eq 2
pt vswitch set vSwitch0 --mtu 9000 >/dev/null
it_vlanpeer_bg rx-1519b vm2 recv eth0 --timeout 4 --payload "$p1505"
it_vlanpeer vm1 send eth0 --src 02:00:00:00:01:01 --dst 02:00:00:00:01:02 --payload "$p1505"
it_check "after a live MTU change to 9000 the 1519-byte frame is forwarded" it_wait rx-1519b 8
it_check "vm1 still pings vm2 after the MTU change" it_ping vm1 10.1.0.2

it_check "vm1 counters move" test "$(pt_stat vm1.eth0 rx_packets)" -gt 0
it_check "vm2 tx counter moves" test "$(pt_stat vm2.eth0 tx_packets)" -gt 0
it_check "uplink rx counter moves" test "$(pt_stat uplink0 rx_packets)" -gt 0
pt port stats
pt fdb list
it_finish
