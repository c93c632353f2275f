#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Traffic shaping between two fake VMs with iperf3: UDP and TCP at 10, 100
# and 500 Mbit/s, ingress (on the sender's port) and egress (on the
# receiver's port), police and shape. The achieved rate is read from the
# switch's byte counters over a window after the burst: UDP within +-3 % of
# average_bps in both modes (of what reached the switch, when a loaded host
# offers less than the rate); TCP goodput (iperf3's) at least 90 % of
# average_bps when shaped (of unshaped TCP's, when the host cannot carry the
# rate), and reported when policed.
#
# The default run covers every rate with UDP (police ingress, shape
# egress) and TCP (shape ingress, police egress); PT_SHAPING_FULL=1 runs
# the whole matrix (3 rates x 2 directions x 2 modes x UDP/TCP).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pt.sh"
it_init shaping
it_timeout $((${PT_SHAPING_FULL:-0} == 1 ? 900 : 300))

M1=02:00:00:00:08:01 M2=02:00:00:00:08:02
pt_start
pt vswitch add vSwitch0 >/dev/null
pt portgroup add Shaped --vswitch vSwitch0 --vlan 0 >/dev/null
pt_vm_port vm1 vSwitch0 Shaped $M1 >/dev/null
pt_vm_port vm2 vSwitch0 Shaped $M2 >/dev/null
it_fakevms_start vm1 $M1 10.8.0.1/24 vm2 $M2 10.8.0.2/24
it_fakevms_wait 60
it_check "every port connected" it_wait_for 10 pt_ports_connected
it_check "vm1 pings vm2" it_ping vm1 10.8.0.2

# Each CPU has a busy-polling thread (the fake VMs' testpmd on 0, porticod's
# worker on 1): the iperf3 server and client get one each, so neither
# shares with the other.
it_spawn iperf3-server ip netns exec "$(it_ns vm2)" taskset -c "${PT_CPU:-1}" iperf3 -s
listening() { it_exec vm2 ss -ltn 'sport = :5201' | grep -q LISTEN; }
it_check "iperf3 server listening in vm2" it_wait_for 5 listening

REPORT=$IT_DIR/report.txt
: >"$REPORT"

# stat_bytes: "time_us delivered offered": bytes the switch delivered to vm2
# (the receiver in every case), bytes it received from vm1 (the sender: counted
# before any policing drops them), and when porticod read them.
stat_bytes() {
	local t d o
	read -r t d <<<"$(pt_get '"%d %d" % (r[0]["time_us"], r[0]["tx_bytes"])' port stats vm2.eth0)"
	o=$(pt_get 'r[0]["rx_bytes"]' port stats vm1.eth0)
	echo "$t $d $o"
}

# iperf_bps FILE SIDE: bit/s from iperf3's JSON, SIDE sum_received (goodput) or sum_sent.
iperf_bps() {
	"$IT_PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = d["end"].get(sys.argv[2]) or d["end"].get("sum") or {}
print(int(s.get("bits_per_second", 0)))' "$1" "$2" 2>/dev/null || echo 0
}

# What TCP carries here with no shaping at all: a shaped run is held to 90 %
# of the rate, or of this when the host cannot carry the rate (a loaded
# machine), so that the check judges the shaper, not the host.
pt port set vm1.eth0 --policy null >/dev/null
pt port set vm2.eth0 --policy null >/dev/null
ip netns exec "$(it_ns vm1)" taskset -c "${IT_PEER_CPU:-0}" iperf3 -c 10.8.0.2 -t 4 -O 1 -J \
	>"$IT_DIR/iperf-tcp-unshaped.json" 2>/dev/null
TCP_CAPACITY=$(iperf_bps "$IT_DIR/iperf-tcp-unshaped.json" sum_received)
printf 'tcp  unshaped: iperf3 %7.2f Mbit/s\n' "$(echo "$TCP_CAPACITY / 1000000" | bc -l)" | tee -a "$REPORT" >&2
it_check "TCP passes unshaped" test "$TCP_CAPACITY" -gt 0

# shape_on PORT DIR MODE RATE: only this shaping on, all else off.
shape_on() {
	local port=$1 dir=$2 mode=$3 rate=$4 burst
	# A burst of 10 ms at the rate, at least 64 KiB: spent before the window opens.
	burst=$((rate / 800 > 65536 ? rate / 800 : 65536))
	pt port set vm1.eth0 --policy null >/dev/null
	pt port set vm2.eth0 --policy null >/dev/null
	# The peak well above the average, as usual: the average bucket is what is measured.
	pt port set "$port" --"$dir"-shaping on --"$dir"-average "$rate" --"$dir"-peak $((rate * 10)) \
		--"$dir"-burst "$burst" --"$dir"-mode "$mode" >/dev/null
}

# run_one PROTO DIR MODE RATE_MBIT: one iperf3 run with shaping set; checks and reports.
run_one() {
	local proto=$1 dir=$2 mode=$3 mbit=$4 rate port args b0 b1 o0 o1 t0 t1 achieved pct
	local offered inpct goodput sent out floor
	rate=$((mbit * 1000000))
	port=$([[ $dir == ingress ]] && echo vm1.eth0 || echo vm2.eth0)
	shape_on "$port" "$dir" "$mode" "$rate"
	out=$IT_DIR/iperf-$proto-$dir-$mode-$mbit.json
	args=(-c 10.8.0.2 -t 6 -J)
	# UDP offers 1.5 x the rate in 1400-byte datagrams. TCP's goodput leaves out
	# its first second (slow start), as the switch's window does.
	if [[ $proto == udp ]]; then args+=(-u -b "$((rate * 3 / 2))" -l 1400); else args+=(-O 1); fi
	it_spawn_rc "iperf-$proto-$dir-$mode-$mbit" sh -c \
		"ip netns exec $(it_ns vm1) taskset -c ${IT_PEER_CPU:-0} iperf3 ${args[*]} >$out"
	sleep 1.5
	read -r t0 b0 o0 <<<"$(stat_bytes)"
	sleep 4
	read -r t1 b1 o1 <<<"$(stat_bytes)"
	it_wait "iperf-$proto-$dir-$mode-$mbit" 20 >/dev/null
	achieved=$(((b1 - b0) * 8 * 1000000 / (t1 - t0)))
	offered=$(((o1 - o0) * 8 * 1000000 / (t1 - t0)))
	pct=$((achieved * 1000 / rate))   # per mille of the rate
	inpct=$((offered * 1000 / rate))  # what reached the switch, per mille of the rate
	goodput=$(iperf_bps "$out" sum_received)
	sent=$(iperf_bps "$out" sum_sent)
	printf '%-4s %-8s %-7s %4d Mbit/s: switch %7.2f Mbit/s (%5.1f %%) of %7.2f offered to it, iperf3 %7.2f Mbit/s received of %7.2f sent\n' \
		"$proto" "$dir" "$mode" "$mbit" "$(echo "$achieved / 1000000" | bc -l)" \
		"$(echo "$pct / 10" | bc -l)" "$(echo "$offered / 1000000" | bc -l)" \
		"$(echo "$goodput / 1000000" | bc -l)" \
		"$(echo "$sent / 1000000" | bc -l)" | tee -a "$REPORT" >&2
	if [[ $proto == udp ]]; then
		# Never more than the rate; all of it when the sender offers more (it
		# offers 1.5 x), all that is offered when a loaded host offers less.
		floor=$((inpct < 1000 ? inpct : 1000))
		it_check "UDP $dir $mode $mbit Mbit/s: the switch passes average_bps +-3 % ($((pct / 10)).$((pct % 10)) %, $((inpct / 10)) % offered)" \
			test "$pct" -le 1030 -a "$pct" -ge $((floor * 97 / 100))
	elif [[ $mode == shape ]]; then
		floor=$((rate < TCP_CAPACITY ? rate : TCP_CAPACITY))
		it_check "TCP $dir shaped $mbit Mbit/s: goodput >= 90 % of average_bps (or of unshaped TCP)" \
			test "$goodput" -ge "$((floor * 9 / 10))"
	fi
}

for mbit in 10 100 500; do
	if [[ ${PT_SHAPING_FULL:-0} == 1 ]]; then
		for proto in udp tcp; do
			for dir in ingress egress; do
				for mode in police shape; do
					run_one $proto $dir $mode $mbit
				done
			done
		done
	else
		run_one udp ingress police $mbit
		run_one udp egress shape $mbit
		run_one tcp ingress shape $mbit
		run_one tcp egress police $mbit
	fi
done

# Counters by direction, and a live rate change that keeps them.
pt port set vm1.eth0 --policy null >/dev/null
pt port set vm1.eth0 --ingress-shaping on --ingress-average 50M --ingress-peak 50M --ingress-mode shape >/dev/null
before=$(pt_get 'r[0]["shaping"]["ingress"]["conforming_packets"]' port stats vm1.eth0)
it_exec vm1 iperf3 -c 10.8.0.2 -u -b 20M -t 1 -l 1400 >/dev/null 2>&1
mid=$(pt_get 'r[0]["shaping"]["ingress"]["conforming_packets"]' port stats vm1.eth0)
it_check "port.stats shows conforming frames by direction" test "$mid" -gt "$before"
pt port set vm1.eth0 --ingress-average 40M --ingress-peak 40M >/dev/null
after=$(pt_get 'r[0]["shaping"]["ingress"]["conforming_packets"]' port stats vm1.eth0)
it_check "a live rate change keeps the counters" test "$after" -ge "$mid"
it_check "port.stats shows queued and dropped too" \
	pt_get 'r[0]["shaping"]["ingress"]["queued_packets"] >= 0 and r[0]["shaping"]["ingress"]["dropped_packets"] >= 0' port stats vm1.eth0
it_check_fails "peak below average is refused" pt port set vm1.eth0 --ingress-peak 10M
it_check_fails "a burst shorter than a frame is refused" pt port set vm1.eth0 --ingress-burst 1000
it_check_fails "a rate with a bad unit is refused by the CLI" pt port set vm1.eth0 --ingress-average 10X
cat "$REPORT" >&2
cp "$REPORT" "${PT_SHAPING_REPORT:-/dev/null}" 2>/dev/null || true
it_finish
