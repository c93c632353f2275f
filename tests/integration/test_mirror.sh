#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Port mirroring (vDS-style sessions): a VM port's traffic, by direction,
# copied to another VM port (an IDS VM), or out of an uplink tagged with an
# RSPAN VLAN (seen with a raw socket in the uplink's namespace); mirrored
# frames never loop back into a mirror; sessions persist; bad sessions are
# refused.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pt.sh"
it_init mirror
it_timeout 150

M1=02:00:00:00:0a:01 M2=02:00:00:00:0a:02 M3=02:00:00:00:0a:03 EXT=02:00:00:00:ee:0a

it_phys_start
it_uplink_add 0
it_phys_host ext $EXT 10.10.0.200/24
pt_start
pt vswitch add vSwitch0 >/dev/null
pt uplink add up0 --vswitch vSwitch0 --devargs "net_af_packet0,iface=$(it_uplink_if 0)" >/dev/null
pt portgroup add PG --vswitch vSwitch0 --vlan 0 >/dev/null
pt_vm_port vm1 vSwitch0 PG $M1 >/dev/null
pt_vm_port vm2 vSwitch0 PG $M2 >/dev/null
pt_vm_port vm3 vSwitch0 PG $M3 >/dev/null
it_fakevms_start vm1 $M1 10.10.0.1/24 vm2 $M2 10.10.0.2/24 vm3 $M3 10.10.0.3/24
it_fakevms_wait 60
it_check "every port connected" it_wait_for 10 pt_ports_connected

# rx TAG RXVM N [recv args] -- SENDER send args...: RXVM gets N frames of TAG.
rx() {
	local tag=$1 rxvm=$2 n=$3
	shift 3
	local -a ra=()
	while [[ $1 != -- ]]; do ra+=("$1"); shift; done
	shift
	local sender=$1
	shift
	it_vlanpeer_bg "$tag" "$rxvm" recv eth0 --timeout 2 --payload "$tag" --expect "$n" --exact "${ra[@]}"
	it_vlanpeer "$sender" send eth0 --payload "$tag" "$@"
	it_wait "$tag" 6
}

# --- to a VM port ---
it_check "a session from vm1 (both directions) to vm3 is added" \
	pt mirror add m1 --sources '[{"port": "vm1.eth0", "direction": "both"}]' \
	--destination '{"port": "vm3.eth0"}'
it_check "what vm1 sends is mirrored to vm3" rx mi1 vm3 3 -- vm1 --src $M1 --dst $M2 --count 3
it_check "what vm1 receives is mirrored to vm3" rx mi2 vm3 3 -- vm2 --src $M2 --dst $M1 --count 3
it_check "vm2's traffic elsewhere is not" rx mi3 vm3 0 -- vm2 --src $M2 --dst $EXT --count 3
pt mirror del m1 >/dev/null
pt mirror add m1 --sources '[{"port": "vm1.eth0", "direction": "in"}]' \
	--destination '{"port": "vm3.eth0"}' >/dev/null
it_check "direction in: what vm1 sends is mirrored" rx mi4 vm3 2 -- vm1 --src $M1 --dst $M2 --count 2
it_check "direction in: what vm1 receives is not" rx mi5 vm3 0 -- vm2 --src $M2 --dst $M1 --count 2

# --- never back into a mirror: vm3 (a destination) is also a source of m2 ---
pt mirror add m2 --sources '[{"port": "vm3.eth0", "direction": "both"}]' \
	--destination '{"port": "vm2.eth0"}' >/dev/null
it_check "a mirrored frame is not mirrored again (vm2 gets the original only)" \
	rx mi6 vm2 2 -- vm1 --src $M1 --dst $M2 --count 2
pt mirror del m2 >/dev/null

# --- RSPAN: out of the uplink, tagged 999 ---
it_check "a session from vm2 to up0 on RSPAN VLAN 999 is added" \
	pt mirror add rspan --sources '[{"port": "vm2.eth0", "direction": "both"}]' \
	--destination '{"uplink": "up0", "vlan": 999}'
# (Broadcasts: the bridge, which learned vm1 behind up0, would not send a
# copy addressed to vm1 back out of the port it came in by.)
it_check "vm2's frames reach the physical network tagged 999" \
	rx mi7 ext 3 --vlan 999 --src $M2 -- vm2 --src $M2 --dst ff:ff:ff:ff:ff:ff --count 3
it_check "...and untagged copies never leave" \
	rx mi8 ext 0 --vlan none --src $M2 -- vm2 --src $M2 --dst $M1 --count 3
it_check "mirror.list counts the copies sent" \
	pt_get '[m["sent"] for m in r if m["name"] == "rspan"][0] >= 6' mirror list
it_check "sessions are in the state file" grep -q '"mirrors"' "$(pt_state)"

# --- bad sessions change nothing ---
it_check_fails "a destination that is also a source is refused" \
	pt mirror add bad --sources '[{"port": "vm1.eth0"}]' --destination '{"port": "vm1.eth0"}'
it_check_fails "an unknown source is refused" \
	pt mirror add bad --sources '[{"port": "nope"}]' --destination '{"port": "vm1.eth0"}'
it_check_fails "an RSPAN VLAN out of range is refused" \
	pt mirror add bad --sources '[{"port": "vm1.eth0"}]' --destination '{"uplink": "up0", "vlan": 4095}'
it_check_fails "a port a session uses cannot be deleted" pt port del vm3.eth0
it_check "only m1 and rspan exist" \
	test "$(pt_get 'sorted(m["name"] for m in r)' mirror list)" = "['m1', 'rspan']"
pt mirror list >/dev/null
it_finish
