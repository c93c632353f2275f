#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Packet trace: a described frame goes through the running pipeline on the
# control side (the workers' own code, compiled once more without side
# effects) and every stage says what it decided: a VLAN mismatch, a
# security drop, a MAC-learning decision, teaming's choice of uplink. The
# trace changes nothing: no frame is sent, nothing learned, no counter of a
# port moves.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pt.sh"
it_init trace
it_timeout 120

M1=02:00:00:00:0b:01 M2=02:00:00:00:0b:02 M3=02:00:00:00:0b:03 EXT=02:00:00:00:ee:0b
it_phys_start
it_uplink_add 0
pt_start
pt vswitch add vSwitch0 >/dev/null
pt uplink add up0 --vswitch vSwitch0 --devargs "net_af_packet0,iface=$(it_uplink_if 0)" >/dev/null
pt portgroup add V10 --vswitch vSwitch0 --vlan 10 >/dev/null
pt portgroup add V20 --vswitch vSwitch0 --vlan 20 >/dev/null
pt_vm_port vm1 vSwitch0 V10 $M1 >/dev/null
pt_vm_port vm2 vSwitch0 V10 $M2 >/dev/null
pt_vm_port vm3 vSwitch0 V20 $M3 >/dev/null
it_fakevms_start vm1 $M1 10.11.0.1/24 vm2 $M2 10.11.0.2/24 vm3 $M3 10.11.0.3/24
it_fakevms_wait 60
it_check "every port connected" it_wait_for 10 pt_ports_connected

# steps ARGS...: the trace's steps, one per line.
steps() { pt_get '"\n".join(r["steps"])' trace run "$@"; }
has() {
	local want=$1
	shift
	steps "$@" | tee "$IT_DIR/trace.txt" | grep -qF -- "$want" ||
		{ it_log "trace says: $(tr '\n' '|' <"$IT_DIR/trace.txt")"; return 1; }
}
before=$(pt_get 'sum(p["tx_packets"] for p in r)' port stats)

it_check "vm1 -> vm2 (same VLAN): delivered to vm2, untagged" \
	has "to vm2.eth0, untagged" --port vm1.eth0 --src $M1 --dst $M2
it_check "...through the local VM lookup" \
	has "destination: local VM port vm2.eth0" --port vm1.eth0 --src $M1 --dst $M2
it_check "vm1 -> vm3 (another VLAN): not local, so out of the uplink tagged 10" \
	has "to up0, tagged 10" --port vm1.eth0 --src $M1 --dst $M3
it_check "a VLAN mismatch from the uplink: tagged 20 for vm1 is unknown unicast, dropped" \
	has "dropped: unknown_unicast" --port up0 --src $EXT --dst $M1 --vlan 20
it_check "...and says why: vm1 is on VLAN 10" \
	has "the destination MAC is vm1.eth0's, whose port group does not carry VLAN 20" \
	--port up0 --src $EXT --dst $M1 --vlan 20
it_check "a guest-tagged frame on a VST port: vlan_tagged" \
	has "dropped: vlan_tagged" --port vm1.eth0 --src $M1 --dst $M2 --vlan 5
it_check "a forged source: forged_source, explained" \
	has "forged transmits = reject" --port vm1.eth0 --src 02:00:00:00:0b:99 --dst $M2
it_check "a broadcast: the VLAN's VM ports and teaming's uplink" \
	has "broadcast/multicast: the 2 VM port(s) of VLAN 10" --port vm1.eth0 --src $M1 \
	--dst ff:ff:ff:ff:ff:ff
it_check "...teaming's choice is in the trace" \
	has "teaming: out of 1 uplink(s)" --port vm1.eth0 --src $M1 --dst ff:ff:ff:ff:ff:ff
pt port set vm2.eth0 --effective-mac 02:00:00:00:0b:22 >/dev/null
it_check "MAC changes = reject and vm2 changed its MAC: would be dropped, explained" \
	has "would be dropped: mac_changed" --port vm1.eth0 --src $M1 --dst $M2
pt port set vm2.eth0 --effective-mac null >/dev/null
pt port set vm1.eth0 --mac-learning on >/dev/null
it_check "MAC learning: a new source would be learned, and passes" \
	has "would be learned behind the port" --port vm1.eth0 --src 02:00:00:00:0b:77 --dst $M2
it_check "a raw frame in hex" \
	has "to vm2.eth0, untagged" --port vm1.eth0 --hex "${M2//:/}${M1//:/}88b5000000000000"
it_check "the trace sent nothing" \
	test "$(pt_get 'sum(p["tx_packets"] for p in r)' port stats)" -le "$((before + 2))"
it_check "...and learned nothing" \
	it__not pt_get '[e for e in r if e["type"] == "learned" and e["mac"] == "02:00:00:00:0b:77"][0]' fdb list
it_check "'portico trace --port ...' is trace.run" \
	pt_get 'r["result"] == "delivered"' trace --port vm1.eth0 --src $M1 --dst $M2
it_check_fails "an unknown port is refused" pt trace run --port nope --src $M1 --dst $M2
it_check_fails "a bad MAC is refused" pt trace run --port vm1.eth0 --src zz --dst $M2
it_check_fails "bad hex is refused" pt trace run --port vm1.eth0 --hex 12zz
it_finish
