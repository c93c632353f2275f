#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# selftest_lib.sh: proves lib.sh and vlanpeer.py work, without porticod.
#
# A second dpdk-testpmd stands in for the switch (io forwarding between two
# ports is a wire). Run as root with no argument: it runs each scenario below
# as a child process and checks, from outside, that nothing of that child
# (processes, netns, links, hugepage files, directories) is left behind.
#
#   --main            fake VMs + stand-in switch: ping, tagged frames read via
#                     PACKET_AUXDATA, switch restart onto an af_packet uplink,
#                     tagged ARP across the phys bridge, captures, link down
#   --victim          builds a bit of everything, then waits to be killed
#   --janitor         only it_init: cleans what dead runs left
#   --victim-timeout  it_timeout 2 while blocked in a foreground command
#
# Exit 0 when all scenarios pass; must finish in < 60 s.

# shellcheck disable=SC2015 # pass/fail always return 0
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SELF=$HERE/$(basename "$0")
# shellcheck source=lib.sh
. "$HERE/lib.sh"

VM1_MAC=02:00:00:77:00:01
VM2_MAC=02:00:00:77:00:02
EXT_MAC=02:00:00:77:00:64

# The stand-in switch: testpmd io-forwarding port 0 <-> port 1, lcores on
# CPU 1, vhost ports as clients of the fake VMs' sockets.
start_switch() {
	it_spawn switch "$IT_TESTPMD" --in-memory -m 256 --no-pci --file-prefix "$(it_eal_prefix sw)" \
		--lcores "0@${IT_SWITCH_CPU:-1},1@${IT_SWITCH_CPU:-1}" "$@" \
		-- --forward-mode=io --nb-cores=1 --stats-period 60 --total-num-mbufs=16384
}

log_has() { grep -q -- "$2" "$IT_DIR/$1.log"; }
file_has() { grep -q -- "$2" "$1"; }
file_count() { [[ $(grep -c -- "$2" "$1") == "$3" ]]; }

main_test() {
	it_init selftest_lib
	it_timeout 40

	# Switch BEFORE the fake VMs: its vhost clients retry until the sockets appear.
	start_switch --vdev "net_vhost0,iface=$IT_DIR/vm1.sock,client=1" \
		--vdev "net_vhost1,iface=$IT_DIR/vm2.sock,client=1"
	it_fakevms_start vm1 $VM1_MAC 10.77.0.1/24 vm2 $VM2_MAC 10.77.0.2/24
	it_check "fake VMs forwarding, TAPs configured in their netns" it_fakevms_wait 20
	it_check "vm1 eth0 has its MAC in netns $(it_ns vm1)" \
		bash -c "ip -n $(it_ns vm1) link show eth0 | grep -q $VM1_MAC"
	it_check "vm1 pings vm2 through the stand-in switch" it_ping vm1 10.77.0.2
	it_check "vm2 pings vm1" it_ping vm2 10.77.0.1 2

	# Tagged frames: the tag passes inline, the kernel in vm2 moves it to
	# metadata, vlanpeer reads it back with PACKET_AUXDATA.
	it_vlanpeer_bg rx100 vm2 recv eth0 --timeout 5 --vlan 100 --payload tag100 --expect 3 --verbose
	it_vlanpeer vm1 send eth0 --src $VM1_MAC --dst $VM2_MAC --vlan 100 --count 3 --payload tag100
	it_check "3 frames tagged 100 seen in vm2" it_wait rx100 6
	it_check "line format vlan=100 src= dst= payload=" \
		log_has rx100 "^vlan=100 src=$VM1_MAC dst=$VM2_MAC payload=tag100"
	it_check "tag came through PACKET_AUXDATA" log_has rx100 "tags=aux:0x8100/pcp0/vid100"
	it_vlanpeer_bg rxnone vm2 recv eth0 --timeout 5 --vlan none --payload plain
	it_vlanpeer vm1 send eth0 --src $VM1_MAC --dst $VM2_MAC --payload plain
	it_check "untagged frame seen as vlan=none" it_wait rxnone 6
	it_vlanpeer_bg rxno vm2 recv eth0 --timeout 1 --payload never --expect 0
	it_check "recv --expect 0 passes when nothing comes" it_wait rxno 3

	# Physical network; restart the switch onto an af_packet uplink (the
	# fake VMs, virtio_user servers, survive it; vm2 stays unconnected).
	it_phys_start
	it_uplink_add 0
	it_phys_host ext1 $EXT_MAC 10.77.0.100/24
	it_check "uplink root end $(it_uplink_if 0) is <= 15 chars, up, IPv6 off" \
		bash -c "ip link show $(it_uplink_if 0) | grep -q 'state UP' && \
			[[ \$(cat /proc/sys/net/ipv6/conf/$(it_uplink_if 0)/disable_ipv6) == 1 ]]"
	it_stop switch
	start_switch --vdev "net_vhost0,iface=$IT_DIR/vm1.sock,client=1" \
		--vdev "net_af_packet0,iface=$(it_uplink_if 0)"
	it_check "vm1 pings ext1 via the uplink after the switch restart" \
		it_wait_for 10 it_ping vm1 10.77.0.100 1
	it_check "TCP ext1 -> vm1 (offloads off on the veths)" it_exec vm1 timeout 8 "$IT_PY" -c '
import socket, threading
srv = socket.socket(); srv.bind(("10.77.0.1", 5001)); srv.listen(1)
def client():
    import subprocess
    subprocess.run(["ip", "netns", "exec", "'"$(it_ns ext1)"'", "'"$IT_PY"'", "-c",
        "import socket; s = socket.create_connection((\"10.77.0.1\", 5001), timeout=5); "
        "s.sendall(b\"x\" * 1000000); s.close()"], check=True)
threading.Thread(target=client).start()
c, _ = srv.accept(); c.settimeout(5); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    n += len(d)
assert n == 1000000, n'

	it_phys_capture_start cap arp or icmp or vlan
	it_check "vm1 pings ext1 (captured on br0)" it_ping vm1 10.77.0.100 2

	# Tagged ARP from the external host, answered tagged by a "guest" that
	# tags its own frames (arp-responder), across br0, uplink and switch.
	it_vlanpeer_bg resp vm1 arp-responder eth0 --mac $VM1_MAC --ip 10.77.42.1 --vlan 42 --timeout 6
	it_check "tagged ARP request/reply over VLAN 42" \
		it_vlanpeer ext1 arp-request eth0 --src $EXT_MAC --src-ip 10.77.42.100 --dst-ip 10.77.42.1 \
		--vlan 42 --timeout 3
	it_check_fails "no ARP reply on VLAN 43" \
		it_vlanpeer ext1 arp-request eth0 --src $EXT_MAC --src-ip 10.77.43.100 --dst-ip 10.77.42.1 \
		--vlan 43 --timeout 1
	it_stop resp
	it_check "responder answered exactly one request" file_count "$IT_DIR/resp.log" "answered" 1
	local txt
	txt=$(it_capture_stop cap)
	it_check "br0 capture (-e) shows the tagged request" \
		file_has "$txt" "$EXT_MAC > ff:ff:ff:ff:ff:ff, ethertype 802.1Q (0x8100), length 60: vlan 42, p 0, ethertype ARP"
	it_check "br0 capture (-e) shows the tagged reply" \
		file_has "$txt" "$VM1_MAC > $EXT_MAC, ethertype 802.1Q (0x8100), length 60: vlan 42, p 0, ethertype ARP.*Reply 10.77.42.1 is-at"
	it_check "br0 capture shows untagged ICMP" file_has "$txt" "ethertype IPv4 (0x0800).*ICMP echo request"

	it_uplink_link 0 down
	it_check "uplink carrier down: no ping" it_no_ping vm1 10.77.0.100
	it_uplink_link 0 up
	it_check "uplink carrier up: ping again" it_wait_for 10 it_ping vm1 10.77.0.100 1
	it_finish
}

# Builds some of everything (netns, veths, a blocked fake VM testpmd, a
# DPDK process with hugepage files, a process not started via the lib),
# prints READY, then blocks in a foreground command.
victim() {
	it_init selftest_victim
	it_timeout 30
	it_fakevms_start vm1 $VM1_MAC 10.77.0.1/24
	it_phys_start
	it_uplink_add 0
	it_phys_host ext1 $EXT_MAC 10.77.0.100/24
	# Not --in-memory: leaves hugepage files behind, even on a clean exit.
	it_spawn hp "$IT_TESTPMD" --file-prefix "$(it_eal_prefix hp)" -m 16 --single-file-segments --no-pci \
		--lcores "0@$IT_PEER_CPU" --vdev "net_virtio_user0,path=$IT_DIR/hp.sock,server=1" \
		-- --stats-period 60
	sleep 1000 & # no lib involved: found by its PORTICO_IT_RUN environment
	it_wait_for 10 compgen -G "/dev/hugepages/$(it_eal_prefix hp)*" >/dev/null
	echo "READY $IT_PREFIX"
	sleep 30
}

victim_timeout() {
	it_init selftest_timeout
	it_phys_start
	it_timeout 2
	echo "READY $IT_PREFIX"
	sleep 30
	echo "not reached"
}

# ------------------------------------------------------------------ driver

FAILS=0
tmp=""
pass() { printf 'ok   - %s\n' "$*"; }
fail() {
	printf 'FAIL - %s\n' "$*"
	FAILS=$((FAILS + 1))
}
prefix_of() { sed -nE 's/^it\[(pi[0-9a-f]{4})\].*/\1/p' "$1" | head -1; }
ready_prefix() { sed -n 's/^READY //p' "$1" | head -1; }

check_clean() {
	local p=$1 what=$2 left
	left=$(it_leftovers "$p")
	if [[ -z $p ]]; then
		fail "$what: no prefix found"
	elif [[ -z $left ]]; then
		pass "$what: nothing of $p left (processes, netns, links, hugepage files, dirs)"
	else
		fail "$what: $p left: $(echo "$left" | tr '\n' ';')"
	fi
}

# Start a scenario in its own process group; wait for its READY line.
start_victim() {
	local out=$1
	shift
	setsid "$SELF" "$@" >"$out" 2>&1 </dev/null &
	VICTIM=$!
	it_wait_for 20 grep -q '^READY ' "$out"
}

# Wait (bounded) for a child; its exit code in RC.
reap() {
	local pid=$1 secs=$2 end=$((EPOCHSECONDS + $2))
	while kill -0 "$pid" 2>/dev/null && ((EPOCHSECONDS < end)); do sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		fail "pid $pid still running after ${secs}s"
	fi
	RC=0
	{ wait "$pid"; } 2>/dev/null || RC=$?
}

driver() {
	local p rc left t0=$EPOCHREALTIME
	[[ $EUID == 0 ]] || { echo "selftest_lib.sh needs root" >&2; exit 77; }
	tmp=$(mktemp -d /tmp/selftest_lib.XXXXXX)
	trap 'rm -rf "${tmp:?}"' EXIT

	echo "# main scenario"
	rc=0
	timeout -k 5 50 "$SELF" --main 2>"$tmp/main.err" | tee "$tmp/main.out" || rc=$?
	if [[ $rc == 0 ]]; then pass "main scenario (exit 0)"; else
		fail "main scenario exit $rc"
		sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$tmp/main.err" | tail -60
	fi
	check_clean "$(prefix_of "$tmp/main.err")" "after the main scenario"

	echo "# SIGTERM to a test's process group (as Ctrl-C or a test runner does)"
	if start_victim "$tmp/term.out" --victim; then
		p=$(ready_prefix "$tmp/term.out")
		[[ -n $(it_leftovers "$p") ]] && pass "victim $p built resources" || fail "victim built nothing"
		kill -TERM -- "-$VICTIM"
		reap "$VICTIM" 15
		[[ $RC == 143 ]] && pass "SIGTERM: exit 143" || fail "SIGTERM: exit $RC"
		grep -q 'stray hugepage file' "$tmp/term.out" && pass "SIGTERM: stray hugepage files reported and removed" ||
			fail "SIGTERM: hugepage files not reported"
		check_clean "$p" "after SIGTERM"
	else
		fail "victim not ready"; cat "$tmp/term.out"
	fi

	echo "# SIGKILL: no trap runs; the next it_init cleans the dead run"
	if start_victim "$tmp/kill.out" --victim; then
		p=$(ready_prefix "$tmp/kill.out")
		disown "$VICTIM" # no "Killed" job notice
		kill -KILL "$VICTIM"
		reap "$VICTIM" 5
		sleep 0.2
		left=$(it_leftovers "$p")
		grep -q '^process .*testpmd' <<<"$left" && grep -q '^netns ' <<<"$left" &&
			grep -q '^file /dev/hugepages/' <<<"$left" &&
			pass "SIGKILL left processes, netns and hugepage files of $p" ||
			fail "SIGKILL: expected leftovers of $p: $(it_leftovers "$p" | tr '\n' ';')"
		rc=0
		# (Another test starting now may clean the dead run first: fine too.)
		left=$(it_leftovers "$p")
		timeout 20 "$SELF" --janitor >"$tmp/janitor.out" 2>&1 || rc=$?
		[[ $rc == 0 ]] && pass "janitor run exit 0" || fail "janitor exit $rc"
		if [[ -n $left ]]; then
			grep -q "cleaning leftovers of dead run $p" "$tmp/janitor.out" &&
				pass "janitor's it_init cleaned dead run $p" || fail "janitor did not clean $p"
		fi
		check_clean "$p" "after SIGKILL + next it_init"
	else
		fail "victim not ready"; cat "$tmp/kill.out"
	fi

	echo "# watchdog: it_timeout 2 while blocked in a foreground sleep 30"
	if start_victim "$tmp/to.out" --victim-timeout; then
		p=$(ready_prefix "$tmp/to.out")
		local s=$EPOCHSECONDS
		reap "$VICTIM" 10
		[[ $RC == 124 ]] && pass "timeout: exit 124 after $((EPOCHSECONDS - s))s" || fail "timeout: exit $RC"
		[[ -f $tmp/to.out ]] || fail "timeout: output file gone: $(ls -la "$tmp")"
		grep -q 'not reached' "$tmp/to.out" && fail "timeout: test went on"
		check_clean "$p" "after the watchdog fired"
	else
		fail "timeout victim not ready"; cat "$tmp/to.out"
	fi

	local secs
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	awk -v s="$secs" 'BEGIN { exit !(s < 60) }' && pass "self-test took ${secs}s (< 60 s)" ||
		fail "self-test took ${secs}s (>= 60 s)"
	echo "selftest_lib: $FAILS failure(s)"
	[[ $FAILS == 0 ]]
}

case ${1:-} in
--main) main_test ;;
--victim) victim ;;
--victim-timeout) victim_timeout ;;
--janitor)
	it_init selftest_janitor
	it_finish
	;;
"") driver ;;
*)
	echo "usage: $0 [--main|--victim|--victim-timeout|--janitor]" >&2
	exit 2
	;;
esac
