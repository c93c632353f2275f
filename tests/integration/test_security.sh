#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# L2 security, as vsphere-semantics.md's table, with fake VMs in namespaces:
# forged transmits (from the VM), MAC address changes and promiscuous mode
# (toward the VM), each under reject and accept, set at each inheritance
# level (vSwitch, port group, port) and changed live; then MAC learning with
# a limit against a MAC flood, and storm control against a broadcast storm.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pt.sh"
it_init security
it_timeout 240

BC=ff:ff:ff:ff:ff:ff
M1=02:00:00:00:05:01 M2=02:00:00:00:05:02 M3=02:00:00:00:05:03 M4=02:00:00:00:05:04
EXT=02:00:00:00:ee:05
FORGED=02:00:00:00:05:99

it_phys_start
it_uplink_add 0
it_phys_host ext $EXT 10.6.0.200/24

pt_start
pt vswitch add vSwitch0 >/dev/null
pt uplink add uplink0 --vswitch vSwitch0 --devargs "net_af_packet0,iface=$(it_uplink_if 0)" >/dev/null
pt portgroup add Sec --vswitch vSwitch0 --vlan 0 >/dev/null
pt portgroup add Other --vswitch vSwitch0 --vlan 0 >/dev/null
pt_vm_port vm1 vSwitch0 Sec $M1 >/dev/null
pt_vm_port vm2 vSwitch0 Sec $M2 >/dev/null
pt_vm_port vm3 vSwitch0 Sec $M3 >/dev/null
pt_vm_port vm4 vSwitch0 Other $M4 >/dev/null
# A refused change fails the checks after it; say which one it was.
pt() {
	local rc=0
	"$PT_CLI" --socket "$(pt_sock)" "$@" || rc=$?
	((rc == 0)) || it_log "portico $* exited with $rc"
	return $rc
}
it_fakevms_start vm1 $M1 10.6.0.1/24 vm2 $M2 10.6.0.2/24 vm3 $M3 10.6.0.3/24 vm4 $M4 10.6.0.4/24
it_fakevms_wait 60
it_check "every port connected" it_wait_for 10 pt_ports_connected

# rx TAG RXVM N SENDER SEND-ARGS...: RXVM receives N frames of payload TAG
# (N = 0: none within 2 s) when SENDER sends them.
rx() {
	local tag=$1 rxvm=$2 n=$3 sender=$4
	shift 4
	it_vlanpeer_bg "$tag" "$rxvm" recv eth0 --timeout 2 --payload "$tag" --expect "$n"
	it_vlanpeer "$sender" send eth0 --payload "$tag" "$@"
	it_wait "$tag" 6
}

# eff PORT GROUP FIELD: "value/from" of the port's effective policy field.
eff() {
	pt_get "'%s/%s' % (r['effective_policy']['$2']['$3']['value'], r['effective_policy']['$2']['$3']['from'])" \
		port show "$1"
}

# rose BEFORE AFTER MIN: AFTER - BEFORE >= MIN.
rose() { (($2 - $1 >= $3)); }

# --- defaults ---
it_check "defaults: promiscuous reject, from the default" \
	test "$(eff vm1.eth0 security promiscuous)" = reject/default
it_check "defaults: MAC changes reject" test "$(eff vm1.eth0 security mac_changes)" = reject/default
it_check "defaults: forged transmits reject" \
	test "$(eff vm1.eth0 security forged_transmits)" = reject/default
it_check "vm1 pings vm2" it_ping vm1 10.6.0.2

# --- forged transmits (from the VM) ---
b=$(pt_stat vm1.eth0 forged_source)
it_check "forged, reject: a forged source from vm1 does not reach vm2" \
	rx ft1 vm2 0 vm1 --src $FORGED --dst $BC --count 3
it_check "forged, reject: ...counted as forged_source" rose "$b" "$(pt_stat vm1.eth0 forged_source)" 3
it_check "forged, reject: vm1's own source passes" rx ft2 vm2 1 vm1 --src $M1 --dst $BC
pt vswitch set vSwitch0 --forged-transmits accept >/dev/null
it_check "forged, accept on the vSwitch: the forged source reaches vm2" \
	rx ft3 vm2 1 vm1 --src $FORGED --dst $BC
it_check "forged: port show says accept, from the vSwitch" \
	test "$(eff vm1.eth0 security forged_transmits)" = accept/vswitch
pt portgroup set Sec --vswitch vSwitch0 --forged-transmits reject >/dev/null
it_check "forged, reject on the port group overrides the vSwitch" \
	rx ft4 vm2 0 vm1 --src $FORGED --dst $BC
it_check "forged: vm4 (port group Other) still inherits the vSwitch's accept" \
	rx ft5 vm2 1 vm4 --src $FORGED --dst $BC
pt port set vm1.eth0 --forged-transmits accept >/dev/null
it_check "forged, accept on the port overrides its port group" \
	rx ft6 vm2 1 vm1 --src $FORGED --dst $BC
it_check "forged: from the port" test "$(eff vm1.eth0 security forged_transmits)" = accept/port
pt port set vm1.eth0 --forged-transmits inherit >/dev/null
it_check "forged: 'inherit' on the port gives back the port group's reject" \
	rx ft7 vm2 0 vm1 --src $FORGED --dst $BC
it_check "forged: from the port group" \
	test "$(eff vm1.eth0 security forged_transmits)" = reject/portgroup
pt portgroup set Sec --vswitch vSwitch0 --forged-transmits inherit >/dev/null
pt vswitch set vSwitch0 --forged-transmits inherit >/dev/null
it_check "forged: all inherit: the default again" \
	test "$(eff vm1.eth0 security forged_transmits)" = reject/default

# --- MAC address changes (toward the VM) ---
NEW3=02:00:00:00:05:33
it_check "vm1 pings vm3" it_ping vm1 10.6.0.3
it_vm_exec vm3 ip link set dev eth0 address $NEW3
pt port set vm3.eth0 --effective-mac $NEW3 >/dev/null
it_check "mac changes: port show reports the guest's MAC" \
	test "$(pt_get 'r["effective_mac"]' port show vm3.eth0)" = $NEW3
b=$(pt_stat vm3.eth0 mac_changed)
it_vm_exec vm1 ip neigh flush all
it_check "mac changes, reject: vm3 changed its MAC and gets no inbound traffic" it_no_ping vm1 10.6.0.3
it_check "mac changes, reject: ...counted as mac_changed on vm3" \
	rose "$b" "$(pt_stat vm3.eth0 mac_changed)" 1
it_check "mac changes, reject: vm3 may still send from its new MAC" \
	rx mc1 vm1 1 vm3 --src $NEW3 --dst $BC
pt portgroup set Sec --vswitch vSwitch0 --mac-changes accept >/dev/null
it_vm_exec vm1 ip neigh flush all
it_check "mac changes, accept on the port group: vm1 reaches vm3 at its new MAC" it_ping vm1 10.6.0.3
pt port set vm3.eth0 --mac-changes reject >/dev/null
it_check "mac changes, reject on the port: inbound stops again" it_no_ping vm1 10.6.0.3
it_vm_exec vm3 ip link set dev eth0 address $M3
pt port set vm3.eth0 --effective-mac null >/dev/null
it_vm_exec vm1 ip neigh flush all
it_check "mac changes: the guest reverted its MAC: vm1 reaches vm3 again" it_ping vm1 10.6.0.3
pt port set vm3.eth0 --mac-changes inherit >/dev/null
pt portgroup set Sec --vswitch vSwitch0 --mac-changes inherit >/dev/null

# --- promiscuous mode (toward the VM) ---
it_check "promiscuous, reject: vm4 does not see unicast vm1 -> vm2" \
	rx pr1 vm4 0 vm1 --src $M1 --dst $M2
pt portgroup set Other --vswitch vSwitch0 --promiscuous accept >/dev/null
it_check "promiscuous, accept: vm4 sees unicast vm1 -> vm2" rx pr2 vm4 1 vm1 --src $M1 --dst $M2
it_check "promiscuous, accept: ...and unicast from the uplink to vm2" \
	rx pr3 vm4 1 ext --src $EXT --dst $M2
it_check "promiscuous, accept: ...and unknown unicast from the uplink" \
	rx pr4 vm4 1 ext --src $EXT --dst 02:00:00:00:77:77
it_check "promiscuous: an ordinary port never gets unknown unicast" \
	rx pr5 vm2 0 ext --src $EXT --dst 02:00:00:00:77:77
pt port set vm4.eth0 --guest-promisc false >/dev/null
it_check "promiscuous, accept, but the guest did not ask: vm4 sees nothing" \
	rx pr6 vm4 0 vm1 --src $M1 --dst $M2
pt port set vm4.eth0 --guest-promisc null >/dev/null
pt port set vm4.eth0 --promiscuous reject >/dev/null
it_check "promiscuous, reject on the port overrides the port group" \
	rx pr7 vm4 0 vm1 --src $M1 --dst $M2
pt port set vm4.eth0 --promiscuous inherit >/dev/null
pt portgroup set Other --vswitch vSwitch0 --promiscuous inherit >/dev/null

# --- MAC learning with a limit, against a MAC flood from one VM ---
pt port set vm2.eth0 --mac-learning on --mac-limit 20 >/dev/null
b=$(pt_stat vm2.eth0 mac_limit)
b_rx=$(pt_stat vm2.eth0 rx_packets)
it_vlanpeer vm2 send eth0 --src 02:00:00:10:00:00 --src-count 2000 --count 2000 --dst $BC --payload flood
sleep 0.3
flood_rx=$(($(pt_stat vm2.eth0 rx_packets) - b_rx)) # the fake VM's TAP path may lose some
learned_on_vm2() { pt_get 'sum(1 for e in r if e["port"] == "vm2.eth0" and e["type"] == "learned")' fdb list; }
it_check "mac flood: vm2 learned exactly its limit of 20 sources" \
	it_wait_for 5 test "$(learned_on_vm2)" -eq 20
it_log "mac flood: the switch received $flood_rx of the 2000 frames"
it_check "mac flood: most of the flood reached the switch" test "$flood_rx" -ge 500
it_check "mac flood: all but the 20 learned sources are dropped as mac_limit" \
	rose "$b" "$(pt_stat vm2.eth0 mac_limit)" "$((flood_rx - 20 - 5))"
it_check "mac flood: vm1 still reaches vm3" it_ping vm1 10.6.0.3
it_check "mac learning: a source learned behind vm2 is reachable from vm1" \
	rx ml1 vm2 1 vm1 --src $M1 --dst 02:00:00:10:00:05
it_check "mac learning: ...and from the uplink" rx ml2 vm2 1 ext --src $EXT --dst 02:00:00:10:00:06
pt port set vm2.eth0 --mac-limit-policy allow >/dev/null
b=$(pt_stat vm2.eth0 unlearned)
it_check "mac limit allow: a new source beyond the limit passes" \
	rx ml3 vm1 1 vm2 --src 02:00:00:10:50:00 --dst $M1
it_check "mac limit allow: ...counted as unlearned" rose "$b" "$(pt_stat vm2.eth0 unlearned)" 1
pt port set vm2.eth0 --mac-learning inherit --mac-limit inherit --mac-limit-policy inherit >/dev/null
it_check "mac learning off again: a forged source is dropped" \
	rx ml4 vm1 0 vm2 --src 02:00:00:10:00:05 --dst $BC

# --- storm control: a broadcast storm held to its limit ---
pt port set vm1.eth0 --broadcast-pps 20 >/dev/null
b_drop=$(pt_stat vm1.eth0 storm_broadcast)
b_rx=$(pt_stat vm1.eth0 rx_packets)
b_tx=$(pt_stat vm2.eth0 tx_packets)
t0=$(date +%s%N)
it_vlanpeer vm1 send eth0 --src $M1 --dst $BC --count 1000 --payload storm
sleep 0.5
t1=$(date +%s%N)
got=$(($(pt_stat vm2.eth0 tx_packets) - b_tx))
sent=$(($(pt_stat vm1.eth0 rx_packets) - b_rx)) # what the switch received of the 1000
allowed=$((2 + 2 + 20 * (t1 - t0) / 1000000000))
it_log "storm: vm2 got $got of $sent broadcasts in $(((t1 - t0) / 1000000)) ms (allowed $allowed)"
it_check "storm: vm2 got some of the broadcasts" test "$got" -ge 2
it_check "storm: no more than 20/s (plus the bucket) reached vm2" test "$got" -le "$allowed"
it_check "storm: the switch saw most of the storm" test "$sent" -ge 500
it_check "storm: the excess is dropped as storm_broadcast" \
	test "$(($(pt_stat vm1.eth0 storm_broadcast) - b_drop))" -eq "$((sent - got))"
b_tx=$(pt_stat vm2.eth0 tx_packets)
it_vlanpeer vm1 send eth0 --src $M1 --dst 01:00:5e:00:00:01 --count 100 --payload mcast
sleep 0.3
it_check "storm: multicast (no limit set) all passes" \
	test "$(($(pt_stat vm2.eth0 tx_packets) - b_tx))" -ge 100
it_check "storm: vm1 still pings vm2 (known unicast never counts)" it_ping vm1 10.6.0.2
pt port set vm1.eth0 --broadcast-pps inherit >/dev/null
it_check "storm control off: port show says 0 from the default" \
	test "$(eff vm1.eth0 storm_control broadcast_pps)" = 0/default

# --- bad input changes nothing ---
it_check_fails "a bad policy value is refused" pt port set vm1.eth0 --promiscuous maybe
it_check_fails "a bad effective MAC is refused" pt port set vm1.eth0 --effective-mac 01:00:00:00:00:01
it_check "...and nothing changed" test "$(eff vm1.eth0 security promiscuous)" = reject/default
it_check "the state file keeps no reported state" \
	it__not grep -q effective_mac "$(pt_state)"
pt port stats >/dev/null
it_finish
