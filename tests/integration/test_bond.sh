#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# LACP: an uplink that is a DPDK bond (net_bonding, mode 4) over two
# af_packet members, against a partner that is another DPDK bond in a peer
# process (a second porticod: this kernel has no bonding driver, and
# testpmd's forwarding never calls tx while idle, so its bond never sends
# LACPDUs). Checks: both members bundled with the partner's system ID on
# both sides, vm1 on one switch pings vm2 on the other through both bonds, a
# member cut (carrier loss) leaves the bond and traffic goes on over the
# other one, the member back rejoins, the same for the other member, and
# the config errors for members.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pt.sh"
it_init bond
it_timeout 240

M1=02:00:00:00:0b:01 M2=02:00:00:00:0b:02
A1=${IT_PREFIX}a1 A2=${IT_PREFIX}a2 B1=${IT_PREFIX}b1 B2=${IT_PREFIX}b2
for n in 1 2; do
	a=${IT_PREFIX}a$n b=${IT_PREFIX}b$n
	ip link add "$a" type veth peer name "$b" || it_die "veth $a"
	ip link set "$a" up && ip link set "$b" up || it_die "link up $a/$b"
done

members() { printf '["net_af_packet%d,iface=%s","net_af_packet%d,iface=%s"]' "$1" "$2" $(($1 + 1)) "$3"; }

# The switch under test (pt_start: its worker on CPU $PT_CPU).
pt_start
pt vswitch add vSwitch0 >/dev/null
it_check "a bond uplink over two af_packet members opens" \
	pt uplink add bond0 --vswitch vSwitch0 --devargs net_bonding0,mode=4 --members "$(members 0 "$A1" "$A2")"
pt portgroup add PG --vswitch vSwitch0 --vlan 0 >/dev/null
pt_vm_port vm1 vSwitch0 PG $M1 >/dev/null

# The partner: a second porticod with its own bond, its worker on the fake VMs' CPU.
B_SOCK=$IT_DIR/partner.sock
ptb() { "$PT_CLI" --socket "$B_SOCK" "$@"; }
ptb_get() {
	local expr=$1
	shift
	ptb "$@" --json | pt_eval "$expr"
}
it_spawn partner "$PT_D" --config "$IT_DIR/partner.json" --socket "$B_SOCK" \
	--lcores "0@${IT_PEER_CPU:-0},1@${IT_PEER_CPU:-0}" \
	-- --no-pci --in-memory --file-prefix "$(it_eal_prefix ptb)"
it_wait_for 20 ptb system version >/dev/null 2>&1 || it_die "partner porticod did not come up"
ptb vswitch add vSwitch0 >/dev/null
ptb uplink add bond0 --vswitch vSwitch0 --devargs net_bonding1,mode=4 \
	--members "$(members 2 "$B1" "$B2")" >/dev/null || it_die "partner bond"
ptb portgroup add PG --vswitch vSwitch0 --vlan 0 >/dev/null
ptb port add vm2.eth0 --vswitch vSwitch0 --portgroup PG --socket "$IT_DIR/vm2.sock" --mac $M2 >/dev/null

it_fakevms_start vm1 $M1 10.11.0.1/24 vm2 $M2 10.11.0.2/24
it_fakevms_wait 60
it_check "every port connected" it_wait_for 10 pt_ports_connected

# bundled GET: every member of the switch's (pt_get) or the partner's
# (ptb_get) bond is in the bundle with the other side's system ID.
bundled() {
	local other
	other=$([[ $1 == pt_get ]] && ptb_get 'r[0]["mac"]' uplink list || pt_get 'r[0]["mac"]' uplink list)
	[[ $($1 "all(m.get(\"lacp\", {}).get(\"bundled\") and m[\"lacp\"][\"partner_system\"] == \"$other\" for m in r[0][\"members\"]) and len(r[0][\"members\"]) == 2" uplink list) == True ]]
}
member_out() { # GET NAME: the member is out of the bond, its link down
	[[ $($1 "[(m[\"in_bond\"], m[\"link\"]) for m in r[0][\"members\"] if m[\"name\"] == \"$2\"][0]" uplink list) == "(False, 'down')" ]]
}
t0=$EPOCHREALTIME
it_check "LACP bundles both members with the partner (switch side)" it_wait_for 20 bundled pt_get
it_log "bundled $(echo "$EPOCHREALTIME - $t0" | bc) s after the VMs came up"
it_check "LACP bundles both members with the partner (partner side)" it_wait_for 5 bundled ptb_get
pt uplink list --json >"$IT_DIR/uplinks.json"
it_log "members: $("$IT_PY" -c 'import json, sys; print([(m["name"], m["link"], m["lacp"]["actor_state"]) for m in json.load(open(sys.argv[1]))[0]["members"]])' "$IT_DIR/uplinks.json")"
it_check "vm1 pings vm2 through both bonds" it_ping vm1 10.11.0.2

# A member cut: it leaves the bundle, traffic goes on over the other one.
ip link set "$A1" down
t0=$EPOCHREALTIME
it_check "a cut member leaves the bundle" it_wait_for 10 member_out pt_get net_af_packet0
it_log "out of the bond $(echo "$EPOCHREALTIME - $t0" | bc) s after the cut (polled every 0.1 s)"
it_check "vm1 still pings vm2 over the other member" it_ping vm1 10.11.0.2
ip link set "$A1" up
t0=$EPOCHREALTIME
it_check "the member back rejoins the bundle" it_wait_for 30 bundled pt_get
it_log "bundled again $(echo "$EPOCHREALTIME - $t0" | bc) s after the carrier returned"
it_check "vm1 pings vm2 with both members again" it_ping vm1 10.11.0.2
# The other one cut too (one of the two cuts moved the flow, whichever member carried it).
ip link set "$A2" down
it_check "the second member cut leaves the bundle" it_wait_for 10 member_out pt_get net_af_packet1
it_check "vm1 pings vm2 over the first member alone" it_ping vm1 10.11.0.2
ip link set "$A2" up
it_check "the second member rejoins too" it_wait_for 30 bundled pt_get

# Config errors change nothing.
it_check_fails "members on a device that is no bond are refused" \
	pt uplink add bad --vswitch vSwitch0 --devargs "net_af_packet7,iface=$A1" --members '["net_null0"]'
it_check_fails "a bond without members is refused" \
	pt uplink add bad --vswitch vSwitch0 --devargs net_bonding5,mode=4
it_check_fails "a member already in use is refused" \
	pt uplink add bad --vswitch vSwitch0 --devargs net_bonding5,mode=4 --members "[\"net_af_packet1,iface=$A2\"]"
it_check_fails "slave= in the bond's devargs is refused" \
	pt uplink add bad --vswitch vSwitch0 --devargs net_bonding5,mode=4,slave=net_null0 --members '["net_null1"]'
it_check "the refused adds left the config as it was" \
	test "$(pt_get 'len(r)' uplink list)" = 1

# Deleting the bond releases its members: one opens alone again.
it_check "the bond uplink is deleted" pt uplink del bond0
it_check "its member device opens alone after" \
	pt uplink add single --vswitch vSwitch0 --devargs "net_af_packet0,iface=$A1"
it_check "the bonds' devices were all removed (none kept by its driver)" \
	it__not grep -q -E "did not let the device go|cannot detach the device" "$IT_DIR/porticod.log"
it_finish
