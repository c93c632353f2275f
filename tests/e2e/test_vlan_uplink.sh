#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# e2e: real guests on port groups of different VLANs, and an uplink.
#   vm1 on "VM Network" (VLAN 0), vm2 on "VLAN 100" (tagged by the switch);
#   uplink0: net_af_packet on a veth into the "phys" namespace, whose bridge
#   has host h1 (untagged, same subnet).
# vm1 and h1 ping each other through the uplink; vm1 and vm2 cannot reach
# each other (different VLANs); vm2's frames leave the uplink tagged 100, so
# the untagged h1 does not answer them either.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init e2e_vlan_uplink
it_timeout 240

it_phys_start
it_uplink_add 0
it_phys_host h1 02:00:00:00:aa:01 10.20.0.100/24
e2e_porticod_start
e2e_basic_net
e2e_pd portgroup add "VLAN 100" --vswitch vSwitch0 --vlan 100 >/dev/null
e2e_pd uplink add uplink0 --vswitch vSwitch0 --devargs "net_af_packet0,iface=$(it_uplink_if 0)" >/dev/null
e2e_agent_start
e2e_vm_create vm1 "VM Network" 10.20.0.1
e2e_vm_create vm2 "VLAN 100" 10.20.0.2
e2e_vm_start vm1 vm2

it_check "vm1 (VLAN 0) pings host h1 through the uplink" e2e_ping vm1 10.20.0.100
it_check "h1 pings vm1" it_ping h1 10.20.0.1
it_phys_capture_start vlan100 vlan
it_check "vm1 (VLAN 0) cannot reach vm2 (VLAN 100)" e2e_no_ping vm1 10.20.0.2
it_check "vm2 (VLAN 100) cannot reach vm1 (VLAN 0)" e2e_no_ping vm2 10.20.0.1
it_check "vm2 cannot reach the untagged host h1" e2e_no_ping vm2 10.20.0.100
txt=$(it_capture_stop vlan100)
it_check "vm2's ARPs leave the uplink tagged with VLAN 100" grep -q 'vlan 100.*Request who-has 10.20.0' "$txt"
it_check "nothing of vm1 leaves tagged" it__not grep -q 'vlan 100.*tell 10.20.0.1,' "$txt"
e2e_ag vm stop vm1 --force true >/dev/null
e2e_ag vm stop vm2 --force true >/dev/null
it_finish
