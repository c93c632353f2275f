#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# NIC teaming with three uplinks (af_packet on veths) into a namespace whose
# Linux bridge plays the physical switches, and an external host on it:
# the uplink order per port group (active, standby, unused), failover on
# carrier loss measured with a 1000 pps numbered UDP stream (the bar: at
# most 100 ms lost), the RARP notify switches sends on the new uplink,
# failback on and off, and beacon probing, which finds an uplink that keeps
# its carrier but is cut from the network (link status alone does not).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pt.sh"
it_init teaming
it_timeout 240

M1=02:00:00:00:09:01 M2=02:00:00:00:09:02 EXT=02:00:00:00:ee:09
SEQ=$(dirname "$0")/seqstream.py

it_phys_start
for n in 0 1 2; do it_uplink_add $n; done
it_phys_host ext $EXT 10.9.0.200/24

pt_start
pt vswitch add vSwitch0 >/dev/null
for n in 0 1 2; do
	pt uplink add up$n --vswitch vSwitch0 --devargs "net_af_packet$n,iface=$(it_uplink_if $n)" >/dev/null
done
pt portgroup add Fail --vswitch vSwitch0 --vlan 0 --load-balancing explicit_failover \
	--active up0 --standby up1 >/dev/null
pt portgroup add Other --vswitch vSwitch0 --vlan 0 --load-balancing explicit_failover \
	--active up2 --standby up1 >/dev/null
pt_vm_port vm1 vSwitch0 Fail $M1 >/dev/null
pt_vm_port vm2 vSwitch0 Other $M2 >/dev/null
it_fakevms_start vm1 $M1 10.9.0.1/24 vm2 $M2 10.9.0.2/24
it_fakevms_wait 60
it_check "every port connected" it_wait_for 10 pt_ports_connected
it_check "vm1 reaches the external host" it_ping vm1 10.9.0.200
it_check "vm2 reaches the external host" it_ping vm2 10.9.0.200

# tx UPLINK: frames the switch sent out of it so far.
tx() { pt_stat "$1" tx_packets; }
# burst VM MAC TAG: 20 broadcasts from VM; prints the tx growth of up0 up1 up2.
burst() {
	local b0 b1 b2
	b0=$(tx up0) b1=$(tx up1) b2=$(tx up2)
	it_vlanpeer "$1" send eth0 --src "$2" --dst ff:ff:ff:ff:ff:ff --payload "$3" --count 20
	sleep 0.3
	echo "$(($(tx up0) - b0)) $(($(tx up1) - b1)) $(($(tx up2) - b2))"
}
# leaves_by VM MAC TAG N: the VM's frames leave by uplink N only (background traffic aside).
leaves_by() {
	local d
	read -r -a d <<<"$(burst "$1" "$2" "$3")"
	it_log "$1's 20 frames: up0 +${d[0]} up1 +${d[1]} up2 +${d[2]}"
	for n in 0 1 2; do
		if ((n == $4)); then ((d[n] >= 20)) || return 1; else ((d[n] < 5)) || return 1; fi
	done
}
# serving PG UPLINK: does the port group's traffic leave by UPLINK now?
serving() {
	[[ $(pt_get "[g['serving'] for u in r if u['name'] == '$2' for g in u['portgroups'] if g['name'] == '$1'][0]" \
		uplink list) == True ]]
}

# --- the order, per port group ---
it_check "Fail's traffic leaves by its active uplink up0" leaves_by vm1 $M1 o1 0
it_check "Other's traffic leaves by its active uplink up2" leaves_by vm2 $M2 o2 2
it_check "uplink.list: up0 active and serving for Fail, unused for Other" \
	pt_get "[(g['name'], g['role'], g['serving']) for u in r if u['name'] == 'up0' for g in u['portgroups']] == [('Fail', 'active', True), ('Other', 'unused', False)]" uplink list

# --- failover on carrier loss, with the stream running ---
it_capture_start rarp phys up1 ether proto 0x8035
it_spawn_rc seqrecv ip netns exec "$(it_ns ext)" "$IT_PY" "$SEQ" recv 5000 --seconds 6
sleep 0.3
it_spawn seqsend ip netns exec "$(it_ns vm1)" "$IT_PY" "$SEQ" send 10.9.0.200 5000 --pps 1000 --seconds 4
sleep 1.5
it_uplink_link 0 down
it_wait seqrecv 12 >/dev/null
read -r _ received _ gap _ lost _ <<<"$(cat "$IT_DIR/seqrecv.log")"
it_log "failover: received $received of 4000, longest gap $gap frames (ms), lost $lost"
it_check "failover on carrier loss loses at most 100 ms of a 1000 pps stream (gap $gap)" \
	test "${gap:--1}" -ge 0 -a "${gap:--1}" -le 100
it_check "...the stream went on over up1" leaves_by vm1 $M1 f1 1
txt=$(it_capture_stop rarp)
it_check "notify switches: a RARP with vm1's MAC went out of up1" \
	grep -q "$M1 > ff:ff:ff:ff:ff:ff, ethertype Reverse ARP" "$txt"
it_check "the external host reaches vm1 again (the switches relearned it)" it_ping ext 10.9.0.1
it_check "uplink.list counts the failover" \
	pt_get "[g['events']['failover'] for u in r if u['name'] == 'up0' for g in u['portgroups'] if g['name'] == 'Fail'][0] >= 1" uplink list
it_check "uplink.list: up0's link is down" \
	test "$(pt_get "[u['link'] for u in r if u['name'] == 'up0'][0]" uplink list)" = down

# --- failback ---
it_uplink_link 0 up
it_check "failback on: up0 takes Fail's traffic back" it_wait_for 3 serving Fail up0
it_check "...and the frames follow" leaves_by vm1 $M1 b1 0
pt portgroup set Fail --vswitch vSwitch0 --failback off >/dev/null
it_uplink_link 0 down
it_check "failback off: up1 takes over" it_wait_for 3 serving Fail up1
it_uplink_link 0 up
sleep 1
it_check "failback off: up0 is back but up1 keeps the traffic" serving Fail up1
it_check "...and the frames stay on up1" leaves_by vm1 $M1 b2 1
pt portgroup set Fail --vswitch vSwitch0 --failback inherit >/dev/null

# --- a failure that keeps the carrier: up0 cut off the bridge ---
it_check "link status: Fail on up0 again (a new policy starts from the order)" \
	it_wait_for 3 serving Fail up0
ip -n "$(it_ns phys)" link set up0 nomaster
sleep 2
it_check "link status only: the cut uplink (carrier up) keeps the traffic" serving Fail up0
ip -n "$(it_ns phys)" link set up0 master br0
pt portgroup set Fail --vswitch vSwitch0 --failure-detection beacon_probing --standby up1,up2 >/dev/null
it_check "beacon probing: beacons flow (up0 ok)" \
	it_wait_for 5 test "$(pt_get "[g['beacon'] for u in r if u['name'] == 'up0' for g in u['portgroups'] if g['name'] == 'Fail'][0]" uplink list)" = ok
t0=$(date +%s%N)
ip -n "$(it_ns phys)" link set up0 nomaster
it_check "beacon probing: the cut uplink is failed, traffic on up1, within 4 s" \
	it_wait_for 4 serving Fail up1
it_log "beacon probing took $((($(date +%s%N) - t0) / 1000000)) ms to fail over"
it_check "uplink.list says up0 failed by beacons" \
	test "$(pt_get "[g['beacon'] for u in r if u['name'] == 'up0' for g in u['portgroups'] if g['name'] == 'Fail'][0]" uplink list)" = failed
it_check "...and vm1 still reaches the external host" it_ping vm1 10.9.0.200
it_check "beacons never reach a VM" \
	test "$(pt_get "sum(p['drops']['beacon'] for p in r if p['kind'] == 'uplink') > 0" port stats)" = True
ip -n "$(it_ns phys)" link set up0 master br0
it_check "beacon probing: up0 reconnected takes the traffic back" it_wait_for 6 serving Fail up0

# --- bad input ---
it_check_fails "an order naming an unknown uplink is refused" \
	pt portgroup set Fail --vswitch vSwitch0 --active up9
it_check_fails "teaming on a port is refused" pt port set vm1.eth0 --failback off
it_check_fails "deleting an uplink a port group's order names is refused" pt uplink del up2
pt uplink list >/dev/null
it_finish
