#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# e2e: kill -9 porticod under two running guests that ping each other, and
# start it again. The QEMUs are not restarted (same pids, guests never
# noticed but for lost pings), ping resumes, the agent re-sends what the
# guests reported. Prints the outage: pings lost x interval, as seen by the
# guest (10 pings a second), and the time porticod took to come back.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init e2e_porticod_restart
it_timeout 240

e2e_porticod_start
e2e_basic_net
e2e_agent_start
e2e_vm_create vm1 "VM Network" 10.30.0.1
e2e_vm_create vm2 "VM Network" 10.30.0.2
e2e_vm_start vm1 vm2
it_check "vm1 pings vm2" e2e_ping vm1 10.30.0.2
pid1=$(e2e_qemu_pid vm1)
pid2=$(e2e_qemu_pid vm2)

# 10 pings a second for 25 s, in the background inside the guest.
e2e_guest vm1 "ping -i 0.1 -W 1 -w 25 10.30.0.2 >/tmp/ping.log 2>&1 &" >/dev/null
sleep 4
old=$(it_pid porticod)
t0=$(date +%s%N)
kill -KILL "$old"
it_wait_for 5 bash -c "! kill -0 $old 2>/dev/null || grep -q '^State:.*Z' /proc/$old/status"
e2e_porticod_start
t1=$(date +%s%N)
it_log "porticod answers again $(((t1 - t0) / 1000000)) ms after kill -9"
# When both guests' ports are connected again (vhost-user negotiated).
connected() { [[ $(e2e_json e2e_pd port list --json -- 'sum(p["state"] == "connected" for p in d)') == 2 ]]; }
it_wait_for 10 connected || it_log "the guests' ports did not reconnect in 10 s"
t2=$(date +%s%N)
it_log "both ports connected again $(((t2 - t0) / 1000000)) ms after kill -9"
it_wait_for 30 e2e_guest vm1 "grep -q 'packet loss' /tmp/ping.log" >/dev/null ||
	it_die "the guest's ping did not finish"
log=$(e2e_guest vm1 "cat /tmp/ping.log")
summary=$(grep 'packets transmitted' <<<"$log")
sent=$(awk '{ print $1 }' <<<"$summary")
recv=$(awk '{ print $4 }' <<<"$summary")
lost=$((sent - recv))
# Frames the guest sends while porticod is away wait in the virtio ring and
# go through once it is back: the outage shows as the longest round trip (or
# as lost pings, if it lasted past the guest's 1 s wait for a reply).
gap=$(grep -o 'seq=[0-9]*' <<<"$log" | cut -d= -f2 | awk 'NR > 1 && $1 - p - 1 > g { g = $1 - p - 1 } { p = $1 } END { print g + 0 }')
maxrtt=$(grep -o 'time=[0-9.]*' <<<"$log" | cut -d= -f2 | sort -n | tail -1)
it_log "guest ping: $summary"
printf 'OUTAGE: %s ms longest round trip, %d ms of lost pings (%d of %d lost); porticod answered %d ms, ports connected %d ms after kill -9\n' \
	"${maxrtt%.*}" $((gap * 100)) "$lost" "$sent" $(((t1 - t0) / 1000000)) $(((t2 - t0) / 1000000)) |
	tee "$IT_DIR/outage.txt"
it_check "pings resumed after the restart" test "$recv" -gt $((sent / 2))
# The bar: traffic back within 1 s of the kill (no ping waited that long).
it_check "traffic back in under 1 s (longest round trip ${maxrtt%.*} ms)" test "${maxrtt%.*}" -lt 1000
it_check "ping works after the restart" e2e_ping vm1 10.30.0.2
it_check "QEMUs not restarted" test "$(e2e_qemu_pid vm1) $(e2e_qemu_pid vm2)" == "$pid1 $pid2"
it_check "the agent re-sent the guests' reports" grep -q 're-sent' "$IT_DIR/agent.log"
it_check "porticod has vm1's reported state again" test "$(e2e_json e2e_pd port show vm1.eth0 --json -- \
	'd["guest_promisc"]')" == False
if [[ -n ${PORTICO_E2E_OUTAGE_FILE:-} ]]; then cp "$IT_DIR/outage.txt" "$PORTICO_E2E_OUTAGE_FILE"; fi
e2e_ag vm stop vm1 --force true >/dev/null
e2e_ag vm stop vm2 --force true >/dev/null
it_finish
