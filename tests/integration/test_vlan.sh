#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# VLANs per port group, as vsphere-semantics.md: VST (the switch tags on the
# uplink, VMs see untagged frames), VGT 4095 (guest tags pass unchanged),
# trunk ranges (only listed VLANs pass; others dropped and counted). The
# kernel here has no 802.1Q, so tagged peers tag in userspace (vlanpeer.py).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pt.sh"
it_init vlan
it_timeout 150

it_phys_start
it_uplink_add 0
it_phys_host ext 02:00:00:00:ee:01 10.3.0.200/24

pt_start
pt vswitch add vSwitch0 >/dev/null
pt uplink add uplink0 --vswitch vSwitch0 --devargs "net_af_packet0,iface=$(it_uplink_if 0)" >/dev/null
pt portgroup add VST100 --vswitch vSwitch0 --vlan 100 >/dev/null
pt portgroup add VGT --vswitch vSwitch0 --vlan 4095 >/dev/null
pt portgroup add Trunk --vswitch vSwitch0 --vlan '[[100,200]]' >/dev/null
pt_vm_port vm1 vSwitch0 VST100 02:00:00:00:02:01 >/dev/null
pt_vm_port vm2 vSwitch0 VGT 02:00:00:00:02:02 >/dev/null
pt_vm_port vm3 vSwitch0 Trunk 02:00:00:00:02:03 >/dev/null
pt_vm_port vm4 vSwitch0 VST100 02:00:00:00:02:04 >/dev/null
it_fakevms_start vm1 02:00:00:00:02:01 10.3.0.1/24 vm2 02:00:00:00:02:02 10.4.0.2/24 \
	vm3 02:00:00:00:02:03 10.5.0.3/24 vm4 02:00:00:00:02:04 10.3.0.4/24
it_fakevms_wait 60
it_check "every port connected" it_wait_for 10 pt_ports_connected

# --- VST: untagged at the VMs, tagged 100 on the wire ---
it_check "vm1 pings vm4 on VST 100 (untagged at both)" it_ping vm1 10.3.0.4
it_phys_capture_start wire
it_vlanpeer_bg vst-rx ext recv eth0 --timeout 4 --payload vst1 --vlan 100
it_vlanpeer vm1 send eth0 --src 02:00:00:00:02:01 --dst ff:ff:ff:ff:ff:ff --payload vst1 --count 2
it_check "a frame from the VST VM leaves the uplink tagged 100" it_wait vst-rx 8
txt=$(it_capture_stop wire)
it_check "tcpdump -e on the physical bridge shows vlan 100 from vm1" \
	grep -q '02:00:00:00:02:01 > ff:ff:ff:ff:ff:ff, ethertype 802.1Q (0x8100), length [0-9]*: vlan 100' "$txt"
# Round trip through the tag: ARP from vm1 (untagged) to a responder that
# only answers on VLAN 100.
it_vlanpeer_bg vst-arp ext arp-responder eth0 --mac 02:00:00:00:ee:01 --ip 10.3.0.200 --vlan 100 --timeout 8
it_check "vm1 ARPs an external host on VLAN 100 and gets the answer untagged" \
	it_exec vm1 arping -c 2 -w 5 -I eth0 10.3.0.200
it_stop vst-arp
it_vlanpeer_bg vst-in vm1 recv eth0 --timeout 4 --payload vst2 --vlan none
it_vlanpeer ext send eth0 --src 02:00:00:00:ee:01 --dst 02:00:00:00:02:01 --vlan 100 --payload vst2 --count 2
it_check "a frame tagged 100 from the uplink reaches vm1 untagged" it_wait vst-in 8
it_vlanpeer_bg vst-other vm1 recv eth0 --timeout 3 --payload vst3 --vlan any --expect 0
it_vlanpeer ext send eth0 --src 02:00:00:00:ee:01 --dst 02:00:00:00:02:01 --vlan 101 --payload vst3 --count 2
it_check "a frame tagged 101 does not reach the VLAN 100 VM" it_wait vst-other 8
before=$(pt_stat vm1.eth0 vlan_tagged)
it_vlanpeer vm1 send eth0 --src 02:00:00:00:02:01 --dst ff:ff:ff:ff:ff:ff --vlan 7 --payload vst4 --count 3
sleep 0.3
it_check "a guest-tagged frame on a VST port is dropped as vlan_tagged" \
	test "$(($(pt_stat vm1.eth0 vlan_tagged) - before))" -eq 3

# --- VGT (4095): guest tags pass unchanged, both ways ---
it_vlanpeer_bg vgt-rx ext recv eth0 --timeout 4 --payload vgt1 --vlan 300
it_vlanpeer vm2 send eth0 --src 02:00:00:00:02:02 --dst ff:ff:ff:ff:ff:ff --vlan 300 --payload vgt1 --count 2
it_check "VGT: the guest's tag 300 reaches the wire" it_wait vgt-rx 8
it_vlanpeer_bg vgt-in vm2 recv eth0 --timeout 4 --payload vgt2 --vlan 300
it_vlanpeer ext send eth0 --src 02:00:00:00:ee:01 --dst 02:00:00:00:02:02 --vlan 300 --payload vgt2 --count 2
it_check "VGT: a frame tagged 300 reaches the guest still tagged 300" it_wait vgt-in 8
it_vlanpeer_bg vgt-arp ext arp-responder eth0 --mac 02:00:00:00:ee:01 --ip 10.4.0.200 --vlan 42 --timeout 8
it_check "VGT: a tagging guest ARPs on VLAN 42 and gets the tagged reply" \
	it_vlanpeer vm2 arp-request eth0 --src 02:00:00:00:02:02 --src-ip 10.4.0.2 --dst-ip 10.4.0.200 --vlan 42 --timeout 5
it_stop vgt-arp

# --- Trunk [[100,200]] ---
it_vlanpeer_bg tr-rx ext recv eth0 --timeout 4 --payload tr1 --vlan 150
it_vlanpeer vm3 send eth0 --src 02:00:00:00:02:03 --dst ff:ff:ff:ff:ff:ff --vlan 150 --payload tr1 --count 2
it_check "trunk: VLAN 150 passes to the wire tagged" it_wait tr-rx 8
before=$(pt_stat vm3.eth0 vlan_not_allowed)
it_vlanpeer_bg tr-no ext recv eth0 --timeout 3 --payload tr2 --vlan any --expect 0
it_vlanpeer vm3 send eth0 --src 02:00:00:00:02:03 --dst ff:ff:ff:ff:ff:ff --vlan 300 --payload tr2 --count 3
it_check "trunk: VLAN 300 from the guest never reaches the wire" it_wait tr-no 8
it_check "trunk: VLAN 300 from the guest counted as vlan_not_allowed" \
	test "$(($(pt_stat vm3.eth0 vlan_not_allowed) - before))" -eq 3
it_vlanpeer_bg tr-in vm3 recv eth0 --timeout 4 --payload tr3 --vlan 200
it_vlanpeer_bg tr-in-no vm3 recv eth0 --timeout 4 --payload tr4 --vlan any --expect 0
it_vlanpeer ext send eth0 --src 02:00:00:00:ee:01 --dst 02:00:00:00:02:03 --vlan 200 --payload tr3 --count 2
it_vlanpeer ext send eth0 --src 02:00:00:00:ee:01 --dst 02:00:00:00:02:03 --vlan 201 --payload tr4 --count 2
it_check "trunk: VLAN 200 from the wire reaches the guest tagged" it_wait tr-in 8
it_check "trunk: VLAN 201 from the wire does not" it_wait tr-in-no 8

# --- A live VLAN change: vm4 moves from VST 100 to VST 101 ---
pt portgroup add VST101 --vswitch vSwitch0 --vlan 101 >/dev/null
pt port set vm4.eth0 --portgroup VST101 >/dev/null
it_check "after moving vm4 to VLAN 101, vm1 no longer reaches it" it_no_ping vm1 10.3.0.4
pt port set vm4.eth0 --portgroup VST100 >/dev/null
it_check "and back on VLAN 100 it does again" it_ping vm1 10.3.0.4
pt port stats
it_finish
