#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Persistence and restarts: the state survives a porticod restart; with
# client-mode ports (the fake VMs serve their sockets, as QEMU does) a
# kill -9 of porticod and a restart bring traffic back without touching the
# VMs; a server-mode port takes its peer back after the peer restarts.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pt.sh"
it_init restart
it_timeout 180

pt_start
pt vswitch add vSwitch0 --mtu 9000 >/dev/null
pt portgroup add "VM Network" --vswitch vSwitch0 --vlan 0 >/dev/null
pt portgroup add Trunk --vswitch vSwitch0 --vlan '[[100,200],[300,300]]' >/dev/null
pt_vm_port vm1 vSwitch0 "VM Network" 02:00:00:00:03:01 >/dev/null
pt_vm_port vm2 vSwitch0 "VM Network" 02:00:00:00:03:02 >/dev/null
it_fakevms_start vm1 02:00:00:00:03:01 10.6.0.1/24 vm2 02:00:00:00:03:02 10.6.0.2/24
it_fakevms_wait 60
it_check "ports connected" it_wait_for 10 pt_ports_connected
it_check "vm1 pings vm2" it_ping vm1 10.6.0.2
testpmd_pid=$(it_pid testpmd)

# --- reconfiguration under traffic: workers switch snapshots, nothing stops ---
it_spawn_rc cfgping ip netns exec "$(it_ns vm1)" ping -n -q -i 0.01 -c 300 -W 1 10.6.0.2
sleep 0.3
for i in 1 2 3 4 5; do
	pt portgroup add "PG$i" --vswitch vSwitch0 --vlan $((100 + i)) >/dev/null
	pt vswitch set vSwitch0 --mtu $((9000 - i)) >/dev/null
done
for i in 1 2 3 4 5; do pt portgroup del "PG$i" --vswitch vSwitch0 >/dev/null; done
pt vswitch set vSwitch0 --mtu 9000 >/dev/null
it_wait cfgping 30
lost=$(grep -o '[0-9]* packets transmitted, [0-9]* received' "$IT_DIR/cfgping.log" | awk '{print $1 - $4}')
it_check "16 changes published under a 100 pps ping lose no frame (lost: ${lost:-?})" \
	test "${lost:-1}" -eq 0

# --- clean restart: same config, from the state file ---
pt config get --json >"$IT_DIR/config.before"
sha_before=$(sha256sum <"$(pt_state)")
it_check "state file written with the example's field names" \
	"$IT_PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
p = d["ports"][0]
assert set(p) >= {"name", "vswitch", "portgroup", "type", "socket", "mode", "mac"}, p
assert d["vswitches"][0]["portgroups"][1]["vlan"] == [[100, 200], [300, 300]]' "$(pt_state)"
pt_stop
it_check "no temp file left next to the state file" test -z "$(ls "$IT_DIR" | grep 'porticod.json.tmp' || true)"
pt_start
pt config get --json >"$IT_DIR/config.after"
it_check "config.get is the same after a restart" cmp -s "$IT_DIR/config.before" "$IT_DIR/config.after"
it_check "the state file was not rewritten by the restart" test "$(sha256sum <"$(pt_state)")" = "$sha_before"
it_check "ports reconnect after a clean restart" it_wait_for 10 pt_ports_connected
it_check "vm1 pings vm2 after a clean restart" it_ping vm1 10.6.0.2

# --- kill -9 under traffic: VMs untouched, traffic back ---
it_spawn_rc pinger ip netns exec "$(it_ns vm1)" ping -n -q -i 0.01 -c 500 -W 1 10.6.0.2
sleep 1
pt_kill9
sleep 0.5
t0=$(date +%s%N)
pt_start
it_check "ports reconnect after kill -9" it_wait_for 10 pt_ports_connected
back() { it_exec vm1 ping -n -c 1 -W 0.2 10.6.0.2 >/dev/null 2>&1; }
it_check "ping resumes after porticod is killed and restarted" it_wait_for 10 back
t1=$(date +%s%N)
it_log "porticod start to traffic back: $(((t1 - t0) / 1000000)) ms"
it_wait pinger 30
lost=$(grep -o '[0-9]* packets transmitted, [0-9]* received' "$IT_DIR/pinger.log" | awk '{print $1 - $4}')
it_log "pings lost across kill -9, 0.5 s down on purpose, restart (10 ms apart): ${lost:-?} of 500"
it_check "the outage is under 2 s of pings" test "${lost:-999}" -lt 200
it_check "the fake VMs were never restarted" test "$(it_pid testpmd)" = "$testpmd_pid"
it_check "config unchanged after kill -9" bash -c "'$PT_CLI' --socket '$(pt_sock)' config get --json | cmp -s - '$IT_DIR/config.before'"

# --- identity changes: the port is re-created on the same socket ---
it_check "port.set --queues 2 re-creates the port" pt port set vm2.eth0 --queues 2
it_check "it reconnects" it_wait_for 10 pt_ports_connected
it_check "vm1 pings vm2, configured for 2 queue pairs while its peer has 1" it_ping vm1 10.6.0.2
# A re-creation that fails is undone: server mode on a socket the fake VM listens on.
cfg=$(pt config get --json)
it_check "server mode on the fake VM's own socket is refused" it__not pt port set vm2.eth0 --mode server
it_check "and the config is unchanged" test "$(pt config get --json)" = "$cfg"
it_check "vm2 is reconnected as before" it_wait_for 10 pt_ports_connected || { pt port list; tail -20 "$IT_DIR/porticod.log"; }
it_check "vm1 pings vm2 after the undone change" it_ping vm1 10.6.0.2
pt port set vm2.eth0 --queues 1 >/dev/null
pt port stats

# --- a server-mode port: porticod listens; its peer leaves and comes back ---
pt port add srv.eth0 --vswitch vSwitch0 --portgroup "VM Network" --socket "$IT_DIR/srv.sock" \
	--mode server --mac 02:00:00:00:03:09 >/dev/null
it_check "server-mode socket created by porticod" test -S "$IT_DIR/srv.sock"
ns=$(it_ns srv)
ip netns add "$ns"
ip -n "$ns" link set lo up
start_peer() {
	it_spawn srvpeer "$IT_TESTPMD" --in-memory --single-file-segments -m 256 --no-pci \
		--file-prefix "$(it_eal_prefix sp)" --lcores "0@0,1@0" \
		--vdev "net_virtio_user0,path=$IT_DIR/srv.sock,queue_size=1024" \
		--vdev "net_tap0,iface=${IT_PREFIX}s0" -- --forward-mode=io --stats-period 60 \
		--total-num-mbufs=8192
	if ! it_wait_for 20 grep -q 'packet forwarding - ports=' "$IT_DIR/srvpeer.log"; then
		tail -20 "$IT_DIR/srvpeer.log"
		return 1
	fi
	ip link set "${IT_PREFIX}s0" netns "$ns"
	ip -n "$ns" link set "${IT_PREFIX}s0" address 02:00:00:00:03:09
	ip -n "$ns" addr add 10.6.0.9/24 dev "${IT_PREFIX}s0"
	ip -n "$ns" link set "${IT_PREFIX}s0" up
}
srv_connected() { [[ $(pt_get 'r[2]["state"]' port list) == connected ]]; }
start_peer
it_check "the server-mode port's peer connects" it_wait_for 15 srv_connected
it_check "vm1 pings the server-mode port's peer" it_ping vm1 10.6.0.9
before=$(pt_stat srv.eth0 peer_down)
it_stop srvpeer
rm -f "$IT_DIR/srvpeer.log"
it_check "the port sees its peer leave" it_wait_for 10 it__not srv_connected
it_exec vm1 ping -n -q -c 3 -i 0.2 -W 1 10.6.0.9 >/dev/null 2>&1
it_check "frames toward a port whose peer is gone are dropped and counted" \
	test "$(pt_stat srv.eth0 peer_down)" -gt "$before"
start_peer
it_check "the peer reconnects to the server-mode port" it_wait_for 15 srv_connected
it_check "vm1 pings the returned peer" it_ping vm1 10.6.0.9
it_stop srvpeer
pt port del srv.eth0 >/dev/null
it_check "deleting a server-mode port removes its socket" test ! -e "$IT_DIR/srv.sock"
it_finish
