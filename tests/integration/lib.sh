# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# lib.sh: the harness every Portico integration test sources.
#
# Where it fits: tests/integration/ scripts start porticod against fake VMs
# and a fake physical network, all inside network namespaces this library
# creates and always tears down (see DESIGN.md, Testing).
#
#   fake VMs   ONE dpdk-testpmd (io forwarding, lcores on CPU $IT_PEER_CPU)
#              serves every VM: per VM a virtio_user SERVER socket
#              $IT_DIR/<vm>.sock (porticod connects as vhost-user client)
#              paired with a TAP, which is moved into netns <prefix><vm>,
#              renamed eth0 and given the vNIC's MAC and IP. ping, arping,
#              tcpdump, iperf3 run there with it_vm_exec.
#   phys net   netns <prefix>phys with bridge br0; uplinks are veth pairs
#              <prefix>u<N> (root netns, for net_af_packet / net_af_xdp)
#              <-> up<N> on br0; external hosts are netns <prefix><name>
#              with eth0 veth'd to br0 (port h-<name>).
#   VLANs      the kernel has no 802.1Q: vlanpeer.py sends/receives tagged
#              frames and ARPs in userspace (it_vlanpeer / it_vlanpeer_bg).
#
# Usage sketch:
#   . "$(dirname "$0")/lib.sh"
#   it_init vlan_basic; it_timeout 60
#   it_fakevms_start vm1 02:00:00:00:01:01 10.0.0.1/24 vm2 02:00:00:00:01:02 10.0.0.2/24
#   it_spawn porticod porticod --file-prefix "$(it_eal_prefix sw)" ... (clients of $IT_DIR/vm1.sock ...)
#   it_fakevms_wait
#   it_check "vm1 reaches vm2" it_ping vm1 10.0.0.2
#   it_finish
#
# Names: every netns and root-netns interface starts with $IT_PREFIX
# ("pi" + 4 hex digits, unique per run, registered in /tmp/portico-it/).
# it_init removes what runs of this scheme left behind when their owner
# (the test shell) is dead: processes, netns, links, hugepage files,
# /var/run/dpdk dirs, their directory. Live runs are never touched.
#
# Processes: start them with it_spawn (own session, so the whole group is
# killed) or pass them --file-prefix "$(it_eal_prefix sw)"/--in-memory; every
# process started after it_init carries PORTICO_IT_RUN=$IT_PREFIX in its
# environment and is killed at teardown even if not started through the lib.
# Teardown: SIGTERM, SIGKILL after 3 s; then netns, links, hugepage files
# named $IT_PREFIX*, /var/run/dpdk/$IT_PREFIX*, $IT_DIR.
#
# The library is for non-interactive bash scripts; it works under
# set -euo pipefail (a failed it_check then ends the test, teardown runs).
# Never use a bare `wait`: it would wait for the lib's background processes.
# A TERM to the test shell alone runs the trap only when the current
# foreground command returns; test runners and Ctrl-C signal the whole
# process group, and the watchdog also ends the foreground children.
#
# Checked on this machine (Debian 12, DPDK 22.11), see selftest_lib.sh:
# - vdev order on the command line is the port order: virtio_user i is port
#   2i, tap i is port 2i+1, and io forwarding pairs 0<->1, 2<->3, ...
# - a virtio_user server=1 probe blocks until a client connects, and the
#   next vdev is probed only after that: the sockets appear one by one
#   (a vhost-user client with reconnect, like porticod, handles this; the
#   switch may start before or after the fake VMs).
# - a TAP moved into another netns (and renamed there) keeps forwarding.
# - the fake VMs survive a switch restart (server=1 reconnects).
# - non-interactive testpmd with stdin at /dev/null exits at once; with
#   --stats-period it runs until SIGTERM and exits cleanly.
# - TCP over an af_packet uplink needs tx checksum/TSO/GSO off on the
#   veths (else the reader gets partial checksums / 64 KB frames):
#   it_uplink_add and it_phys_host do that (vlanpeer.py offload).

IT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IT_BASE=/tmp/portico-it            # fixed: the registry every run shares
IT_PY=${IT_PY:-/usr/bin/python3}   # Debian's python3 (stdlib only)
IT_VLANPEER=$IT_LIB_DIR/vlanpeer.py
IT_TESTPMD=${IT_TESTPMD:-dpdk-testpmd}
IT_PEER_CPU=${IT_PEER_CPU:-0}      # CPU of the fake VMs' testpmd
IT_VM_IF=eth0                      # the vNIC's name inside every VM/host netns
IT_PREFIX_RE='^pi[0-9a-f]{4}'
IT_GRACE=3                         # seconds between SIGTERM and SIGKILL
IT_PREFIX=""
IT_DIR=""
IT_NAME=""
IT_MAIN_PID=""
IT_FAILS=0
IT_CHECKS=0
IT_LAST_PID=""
IT_WATCHDOG_PID=""
IT_TORN_DOWN=0
IT_ERR_FD=2

# ---------------------------------------------------------------- logging

# Logs go to the test's stderr as it was at it_init, even from a trap that
# runs inside a function whose output is redirected (e.g. it_ping's).
it_log() { printf 'it[%s]: %s\n' "${IT_PREFIX:-init}" "$*" >&"${IT_ERR_FD:-2}"; }

# Abort the test now (teardown runs from the EXIT trap).
it_die() {
	it_log "FATAL: $*"
	IT_FAILS=$((IT_FAILS + 1))
	exit 1
}

# it_check DESC CMD...: run CMD, print "ok"/"FAIL", count failures, return CMD's status.
it_check() {
	local desc=$1 rc=0
	shift
	IT_CHECKS=$((IT_CHECKS + 1))
	"$@" || rc=$?
	if [[ $rc == 0 ]]; then
		printf 'ok   - %s\n' "$desc"
	else
		printf 'FAIL - %s (rc=%s: %s)\n' "$desc" "$rc" "$*"
		IT_FAILS=$((IT_FAILS + 1))
	fi
	return $rc
}

# it_check_fails DESC CMD...: passes when CMD fails.
it_check_fails() {
	local desc=$1
	shift
	it_check "$desc" it__not "$@" || return 1
}
it__not() { ! "$@"; }

# it_finish: print the summary, exit 0 iff no check failed (teardown follows).
it_finish() {
	printf '%s: %d check(s), %d failure(s)\n' "$IT_NAME" "$IT_CHECKS" "$IT_FAILS"
	[[ $IT_FAILS == 0 ]] && exit 0
	exit 1
}

# ------------------------------------------------------------- processes

# Starting time of a pid (field 22 of /proc/PID/stat), or nothing.
it__starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo "${20}"
}

# True while pid exists and is not a zombie.
it__alive() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[[ ${s:0:1} != Z ]]
}

# True while any member of the process group (or the pid) is alive.
it__group_alive() {
	local -
	set +e +o pipefail
	local p
	it__alive "$1" && return 0
	for p in $(pgrep -g "$1" 2>/dev/null); do
		it__alive "$p" && return 0
	done
	return 1
}

# Signal a pid's whole group when it leads one (it_spawn's setsid), else the pid.
it__signal() {
	local -
	set +e +o pipefail
	local sig=$1 pid=$2 pgid
	pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')
	if [[ $pgid == "$pid" ]]; then
		kill "-$sig" -- "-$pid" 2>/dev/null
	else
		kill "-$sig" "$pid" 2>/dev/null
	fi
	return 0
}

# it__kill_pids PID...: SIGTERM, wait $IT_GRACE s, SIGKILL, wait 2 s more.
it__kill_pids() {
	local -
	set +e +o pipefail
	local p left i
	[[ $# == 0 ]] && return 0
	for p in "$@"; do it__signal TERM "$p"; done
	for ((i = 0; i < IT_GRACE * 10; i++)); do
		left=0
		for p in "$@"; do it__group_alive "$p" && left=1; done
		[[ $left == 0 ]] && return 0
		sleep 0.1
	done
	for p in "$@"; do
		if it__group_alive "$p"; then
			it_log "pid $p ($(ps -o comm= -p "$p" 2>/dev/null)) ignored SIGTERM: SIGKILL"
			it__signal KILL "$p"
		fi
	done
	for ((i = 0; i < 20; i++)); do
		left=0
		for p in "$@"; do it__group_alive "$p" && left=1; done
		[[ $left == 0 ]] && return 0
		sleep 0.1
	done
	return 1
}

# it_spawn NAME CMD...: run CMD in the background in its own session,
# stdin /dev/null, stdout+stderr appended to $IT_DIR/NAME.log; pid in $IT_LAST_PID.
it_spawn() {
	local name=$1
	shift
	[[ -n $IT_DIR ]] || it_die "it_spawn before it_init"
	setsid "$@" </dev/null >>"$IT_DIR/$name.log" 2>&1 {IT_ERR_FD}>&- &
	IT_LAST_PID=$!
	echo "$IT_LAST_PID $name" >>"$IT_DIR/pids"
}

# it_spawn_rc NAME CMD...: like it_spawn, and CMD's exit code lands in
# $IT_DIR/NAME.rc (read it with it_wait NAME).
it_spawn_rc() {
	local name=$1
	shift
	rm -f "$IT_DIR/$name.rc"
	# shellcheck disable=SC2016 # expanded by the inner bash
	it_spawn "$name" bash -c 'rcf=$1; shift; "$@"; echo $? >"$rcf.tmp"; mv "$rcf.tmp" "$rcf"' \
		it-rc "$IT_DIR/$name.rc" "$@"
}

# it_pid NAME: pids started under NAME that are still alive.
it_pid() {
	local pid name
	[[ -f $IT_DIR/pids ]] || return 0
	while read -r pid name; do
		[[ $name == "$1" ]] && it__alive "$pid" && echo "$pid"
	done <"$IT_DIR/pids"
	return 0
}

# it_running NAME: true while a process started under NAME is alive.
it_running() { [[ -n $(it_pid "$1") ]]; }

# it_stop NAME: SIGTERM (then SIGKILL after 3 s) what was started under NAME.
it_stop() {
	local -
	set +e +o pipefail
	local pids
	pids=$(it_pid "$1")
	# shellcheck disable=SC2086
	it__kill_pids $pids || it_log "could not stop $1"
	if [[ -f $IT_DIR/pids ]]; then
		awk -v n="$1" '$2 != n' "$IT_DIR/pids" >"$IT_DIR/pids.tmp" && mv "$IT_DIR/pids.tmp" "$IT_DIR/pids"
	fi
}

# it_wait NAME [TIMEOUT=10]: wait for an it_spawn_rc process; return its exit
# code (124 and stop it if it outlives TIMEOUT seconds).
it_wait() {
	local name=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		if [[ -f $IT_DIR/$name.rc ]]; then
			return "$(cat "$IT_DIR/$name.rc")"
		fi
		if ! it_running "$name" && [[ ! -f $IT_DIR/$name.rc ]]; then
			sleep 0.1
			[[ -f $IT_DIR/$name.rc ]] && return "$(cat "$IT_DIR/$name.rc")"
			it_log "$name died without an exit code"
			return 125
		fi
		sleep 0.1
	done
	it_log "$name still running after ${secs}s: stopping it"
	it_stop "$name"
	return 124
}

# it_wait_for SECS CMD...: poll CMD every 0.1 s until it succeeds, for SECS
# (whole seconds) from now to the microsecond: whole-second clock reads
# would cut the wait to anything between SECS - 1 and SECS.
it_wait_for() {
	local end=$((${EPOCHREALTIME/./} + $1 * 1000000))
	shift
	while :; do
		"$@" && return 0
		((${EPOCHREALTIME/./} < end)) || return 1
		sleep 0.1
	done
}

# it_eal_prefix TAG: an EAL --file-prefix for a DPDK process of this run
# (teardown removes its hugepage files and /var/run/dpdk dir).
it_eal_prefix() { echo "${IT_PREFIX}$1"; }

# ------------------------------------------------------------- watchdog

# it_timeout SECS: (re)arm the watchdog: after SECS seconds the test is
# failed: SIGTERM to the test shell and its foreground children, so the
# EXIT trap tears down even if the test is blocked; SIGKILL 20 s later.
it_timeout() {
	local secs=$1
	it__stop_watchdog
	rm -f "$IT_DIR/timed_out"
	# shellcheck disable=SC2016 # expanded by the inner bash
	setsid bash -c '
		secs=$1 main=$2 dir=$3
		sleep "$secs"
		kill -0 "$main" 2>/dev/null || exit 0
		: >"$dir/timed_out"
		echo "it: TIMEOUT: test exceeded ${secs}s, killing it" >&2
		kill -TERM "$main"
		# A shell runs its trap only once the foreground command returns:
		# end the foreground children (not sessions the lib started).
		ps -o pid=,sid= --ppid "$main" | while read -r pid sid; do
			[[ $pid != "$$" && $pid != "$sid" ]] && kill -TERM "$pid" 2>/dev/null
		done
		for ((i = 0; i < 200; i++)); do kill -0 "$main" 2>/dev/null || exit 0; sleep 0.1; done
		echo "it: TIMEOUT: teardown hung, SIGKILL" >&2
		kill -KILL "$main"
	' it-watchdog "$secs" "$IT_MAIN_PID" "$IT_DIR" </dev/null 2>&"$IT_ERR_FD" &
	IT_WATCHDOG_PID=$!
}

it__stop_watchdog() {
	local -
	set +e +o pipefail
	if [[ -n $IT_WATCHDOG_PID ]]; then
		# Before its setsid() ran, the watchdog has no group yet.
		kill -TERM -- "-$IT_WATCHDOG_PID" 2>/dev/null || kill -TERM "$IT_WATCHDOG_PID" 2>/dev/null
		IT_WATCHDOG_PID=""
	fi
	return 0
}

# ------------------------------------------------------ setup / teardown

# it_ns NAME: the netns of a VM, "phys" or an external host ("root": none).
it_ns() { echo "${IT_PREFIX}$1"; }

# it_exec NAME CMD...: run CMD in netns NAME (a VM, phys or a host).
it_exec() {
	local ns=$1
	shift
	if [[ $ns == root ]]; then
		"$@"
	else
		ip netns exec "${IT_PREFIX}$ns" "$@"
	fi
}

# Everything of one prefix that still exists, one line each (empty: clean).
it_leftovers() {
	local -
	set +e +o pipefail
	local p=$1 f
	[[ $p =~ $IT_PREFIX_RE ]] || { echo "bad prefix '$p'"; return 0; }
	ip netns list 2>/dev/null | awk -v p="$p" 'index($1, p) == 1 { print "netns " $1 }'
	ip -o link show 2>/dev/null | awk -F': ' -v p="$p" '{ sub(/@.*/, "", $2) } index($2, p) == 1 { print "link " $2 }'
	for f in "$IT_BASE/$p" /dev/hugepages/"$p"* /var/run/dpdk/"$p"*; do
		[[ -e $f ]] && echo "file $f"
	done
	for f in $(it__tagged_pids "$p"); do
		echo "process $f $(ps -o comm= -p "$f" 2>/dev/null)"
	done
	return 0
}

# Pids whose environment carries PORTICO_IT_RUN=PREFIX (not us, no zombies).
it__tagged_pids() {
	local -
	set +e +o pipefail
	local f pid
	# shellcheck disable=SC2013 # /proc paths have no spaces
	for f in $(grep -lzx "PORTICO_IT_RUN=$1" /proc/[0-9]*/environ 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		it__alive "$pid" && echo "$pid"
	done
	return 0
}

# Remove everything of one prefix (own teardown, or a dead run's leftovers).
it__cleanup_prefix() {
	local -
	set +e +o pipefail
	local p=$1 dir=$IT_BASE/$1 pids="" ns pid name f rc=0
	[[ $p =~ $IT_PREFIX_RE ]] || return 1 # never an empty or foreign prefix
	if [[ -f $dir/pids ]]; then
		while read -r pid name; do
			[[ $pid == "$$" ]] && continue
			it__alive "$pid" && pids+=" $pid"
		done <"$dir/pids"
	fi
	for ns in $(ip netns list 2>/dev/null | awk -v p="$p" 'index($1, p) == 1 { print $1 }'); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			[[ $pid != "$$" ]] && pids+=" $pid"
		done
	done
	pids+=" $(it__tagged_pids "$p")"
	# shellcheck disable=SC2086,SC2046
	it__kill_pids $(printf '%s\n' $pids | sort -u) || rc=1
	for ns in $(ip netns list 2>/dev/null | awk -v p="$p" 'index($1, p) == 1 { print $1 }'); do
		ip netns del "$ns" 2>/dev/null || rc=1
	done
	for name in $(ip -o link show 2>/dev/null | awk -F': ' -v p="$p" '{ sub(/@.*/, "", $2) } index($2, p) == 1 { print $2 }'); do
		ip link del "$name" 2>/dev/null
	done
	for f in /dev/hugepages/"$p"*; do
		if [[ -e $f ]]; then
			it_log "stray hugepage file $f: removing"
			rm -f "$f" || rc=1
			[[ ${IT_STRICT_HUGEPAGES:-0} == 1 ]] && rc=1
		fi
	done
	for f in /var/run/dpdk/"$p"*; do
		[[ -e $f ]] && rm -rf "$f"
	done
	if [[ -d $dir ]]; then
		if [[ ${IT_KEEP:-0} == 1 && $p == "$IT_PREFIX" ]]; then
			mkdir -p "$IT_BASE/kept"
			mv "$dir" "$IT_BASE/kept/$IT_NAME-$p" && it_log "kept $IT_BASE/kept/$IT_NAME-$p"
		fi
		rm -rf "$dir"
	fi
	return $rc
}

# True if the run of this prefix is still owned by a live test shell.
it__owner_alive() {
	local owner pid start
	owner=$IT_BASE/$1/owner
	[[ -f $owner ]] || return 1
	read -r pid start <"$owner" || return 1
	[[ -n $pid && $(it__starttime "$pid") == "$start" ]]
}

# Clean what dead runs of the "pi????" scheme left (called under the lock).
it__cleanup_leftovers() {
	local -
	set +e +o pipefail
	local cands p f
	cands=$(
		{
			ip netns list 2>/dev/null | awk '{ print $1 }'
			ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'
			ls "$IT_BASE" /dev/hugepages /var/run/dpdk 2>/dev/null
			# shellcheck disable=SC2013
			for f in $(grep -lz '^PORTICO_IT_RUN=pi' /proc/[0-9]*/environ 2>/dev/null); do
				grep -az '^PORTICO_IT_RUN=' "$f" 2>/dev/null | tr -d '\0' | sed 's/^PORTICO_IT_RUN=//'
				echo
			done
		} | grep -oE "$IT_PREFIX_RE" | sort -u
	)
	for p in $cands; do
		it__owner_alive "$p" && continue
		it_log "cleaning leftovers of dead run $p"
		it__cleanup_prefix "$p" || it_log "could not clean all of $p"
	done
}

# it_init NAME: start a test run: unique prefix, $IT_DIR, traps, leftovers
# of dead runs cleaned, a default 300 s watchdog (re-arm with it_timeout).
it_init() {
	local lockfd p i
	IT_NAME=$1
	[[ $EUID == 0 ]] || { echo "integration tests need root" >&2; exit 77; }
	set +m
	IT_MAIN_PID=$BASHPID
	exec {IT_ERR_FD}>&2
	mkdir -p "$IT_BASE"
	exec {lockfd}>"$IT_BASE/.lock"
	flock -w 30 "$lockfd" || { echo "it_init: $IT_BASE/.lock busy" >&2; exit 1; }
	it__cleanup_leftovers
	for ((i = 0; i < 100; i++)); do
		p=$(printf 'pi%04x' $(((RANDOM << 1 ^ RANDOM) & 0xffff)))
		[[ -z $(it_leftovers "$p") ]] && break
	done
	IT_PREFIX=$p
	IT_DIR=$IT_BASE/$p
	mkdir -p "$IT_DIR"
	echo "$IT_MAIN_PID $(it__starttime "$IT_MAIN_PID")" >"$IT_DIR/owner"
	echo "$IT_NAME" >"$IT_DIR/name"
	: >"$IT_DIR/pids"
	flock -u "$lockfd"
	exec {lockfd}>&-
	export PORTICO_IT_RUN=$IT_PREFIX
	trap 'it__on_signal INT' INT
	trap 'it__on_signal TERM' TERM
	trap 'it__on_signal HUP' HUP
	trap 'it__teardown' EXIT
	it_log "$IT_NAME: prefix $IT_PREFIX, dir $IT_DIR"
	it_timeout "${IT_DEFAULT_TIMEOUT:-300}"
}

it__on_signal() {
	[[ $BASHPID == "$IT_MAIN_PID" ]] || exit 1
	trap '' INT TERM HUP
	if [[ -f $IT_DIR/timed_out ]]; then
		it_log "FAIL: timed out"
		exit 124
	fi
	it_log "interrupted by SIG$1"
	case $1 in
	INT) exit 130 ;;
	HUP) exit 129 ;;
	*) exit 143 ;;
	esac
}

# The EXIT trap: stop everything, remove everything, report.
it__teardown() {
	local rc=$? f left
	[[ $BASHPID == "$IT_MAIN_PID" && $IT_TORN_DOWN == 0 ]] || return $rc
	IT_TORN_DOWN=1
	trap '' INT TERM HUP
	set +eu
	it__stop_watchdog
	[[ -f $IT_DIR/timed_out && $rc == 0 ]] && rc=124
	if [[ $rc != 0 && -d $IT_DIR ]]; then
		for f in "$IT_DIR"/*.log; do
			[[ -s $f ]] || continue
			echo "---- tail of $(basename "$f") ----" >&"$IT_ERR_FD"
			sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$f" | tail -n "${IT_LOG_TAIL:-25}" >&"$IT_ERR_FD"
		done
	fi
	if ! it__cleanup_prefix "$IT_PREFIX" && [[ $rc == 0 ]]; then
		rc=1
	fi
	left=$(it_leftovers "$IT_PREFIX")
	if [[ -n $left ]]; then
		it_log "teardown left behind:"
		echo "$left" >&"$IT_ERR_FD"
		[[ $rc == 0 ]] && rc=1
	fi
	it_log "teardown done (exit $rc)"
	exit $rc
}

# ------------------------------------------------------------- fake VMs

# it_fakevms_start VM MAC IP/LEN [VM MAC IP/LEN ...]: one testpmd serving all
# fake VMs (returns at once: each virtio_user server's probe blocks until a
# client connects, so the switch may start before or after). VM i gets
# socket $IT_DIR/VM.sock and, after it_fakevms_wait, netns <prefix>VM with
# eth0 = MAC, IP. Max 16 VMs (RTE_MAX_ETHPORTS 32). IPv6 is off in the VMs
# (no RS/DAD/MLD noise) unless IT_VM_IPV6=1. Memory: -m $IT_FAKEVM_MEM
# (default 256 MiB: plenty for 16 VMs, and the machine's 2 GiB of hugepages
# are shared by everyone), --in-memory --single-file-segments (no hugepage
# files, even after kill -9).
it_fakevms_start() {
	local i=0 vm mac ip ns cpu=$IT_PEER_CPU mem=${IT_FAKEVM_MEM:-256} mbufs
	local -a vdevs=()
	[[ -n $IT_DIR ]] || it_die "it_fakevms_start before it_init"
	[[ ! -f $IT_DIR/fakevms ]] || it_die "fake VMs already started"
	(($# > 0 && $# % 3 == 0)) || it_die "usage: it_fakevms_start VM MAC IP/LEN ..."
	(($# / 3 <= 16)) || it_die "at most 16 fake VMs per testpmd (RTE_MAX_ETHPORTS)"
	: >"$IT_DIR/fakevms.tmp"
	while (($# > 0)); do
		vm=$1 mac=$2 ip=$3
		shift 3
		ns=$(it_ns "$vm")
		ip netns add "$ns" || it_die "netns $ns"
		ip -n "$ns" link set lo up
		if [[ ${IT_VM_IPV6:-0} != 1 ]]; then
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		fi
		# Port 2i = virtio_user i, port 2i+1 = tap i: testpmd's default
		# paired topology forwards 0<->1, 2<->3, ... (checked: vdev order
		# on the command line is the port order).
		vdevs+=(--vdev "net_virtio_user$i,path=$IT_DIR/$vm.sock,server=1,queue_size=1024,mac=$mac")
		vdevs+=(--vdev "net_tap$i,iface=${IT_PREFIX}t$i")
		echo "$i $vm $mac $ip" >>"$IT_DIR/fakevms.tmp"
		i=$((i + 1))
	done
	mv "$IT_DIR/fakevms.tmp" "$IT_DIR/fakevms"
	# 2 ports per VM, up to 1024 rx descriptors each, plus caches: the pool
	# (2 KiB mbufs) stays far below -m, so testpmd never grows its memory
	# after the vhost-user memory table was sent.
	mbufs=$((8192 + 4096 * i))
	it__hugepages_check "$mem"
	# Non-interactive testpmd exits at once when stdin hits EOF unless
	# --stats-period is given: then it forwards until signalled.
	it_spawn testpmd "$IT_TESTPMD" --in-memory --single-file-segments -m "$mem" --no-pci \
		--file-prefix "$(it_eal_prefix fv)" --lcores "0@$cpu,1@$cpu" "${vdevs[@]}" \
		-- --forward-mode=io --nb-cores=1 --stats-period 60 --total-num-mbufs=$mbufs
	it_log "fake VMs: testpmd pid $IT_LAST_PID on CPU $cpu, -m $mem, sockets in $IT_DIR"
}

# Free 2 MiB hugepages, in MiB.
it_hugepages_free_mb() { awk '/^HugePages_Free/ { print $2 * 2 }' /proc/meminfo; }

# Warn when fewer hugepages are free than a DPDK process of MB MiB needs
# (the 2 GiB pool is shared with everything else on the machine).
it__hugepages_check() {
	local free
	free=$(it_hugepages_free_mb)
	if ((free < $1 + 32)); then
		it_log "WARNING: only $free MiB of hugepages free, need about $(($1 + 32)) MiB"
	fi
	return 0
}

# it_fakevms_sockets: the vhost-user socket paths, one a line, in VM order.
it_fakevms_sockets() {
	local i vm mac ip
	while read -r i vm mac ip; do echo "$IT_DIR/$vm.sock"; done <"$IT_DIR/fakevms"
}

it__testpmd_forwarding() { grep -q 'packet forwarding - ports=' "$IT_DIR/testpmd.log" 2>/dev/null; }

# it_fakevms_wait [TIMEOUT=30]: wait until testpmd forwards (every socket
# had a client), then move each TAP into its VM netns and configure it.
# Call it again after that: it only checks testpmd is still alive.
it_fakevms_wait() {
	local secs=${1:-30} i vm mac ip ns tap
	[[ -f $IT_DIR/fakevms ]] || it_die "it_fakevms_wait before it_fakevms_start"
	for ((i = 0; i < secs * 10; i++)); do
		it__testpmd_forwarding && break
		if ! it_running testpmd; then
			grep -q 'Cannot init memory' "$IT_DIR/testpmd.log" &&
				it_log "fake VM testpmd found no hugepages: $(it_hugepages_free_mb) MiB free now"
			it_die "fake VM testpmd died (see testpmd.log)"
		fi
		sleep 0.1
	done
	it__testpmd_forwarding || { it_log "fake VMs not forwarding after ${secs}s (no switch connected to every socket?)"; return 1; }
	[[ -f $IT_DIR/fakevms.ready ]] && return 0
	while read -r i vm mac ip; do
		ns=$(it_ns "$vm") tap=${IT_PREFIX}t$i
		# The TAP keeps working in another netns: testpmd does I/O on the
		# tun fd; only its by-name ioctls (link/MTU) stop finding it.
		ip link set "$tap" netns "$ns" || it_die "move $tap into $ns"
		ip -n "$ns" link set "$tap" down || it_die "link down $tap"
		ip -n "$ns" link set "$tap" name "$IT_VM_IF" || it_die "rename $tap"
		ip -n "$ns" link set "$IT_VM_IF" address "$mac" promisc off || it_die "MAC of $vm"
		[[ ${IT_VM_IPV6:-0} == 1 ]] || ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$IT_VM_IF.disable_ipv6=1"
		ip -n "$ns" addr add "$ip" dev "$IT_VM_IF" || it_die "address $ip in $ns"
		ip -n "$ns" link set "$IT_VM_IF" up || it_die "link up in $ns"
	done <"$IT_DIR/fakevms"
	: >"$IT_DIR/fakevms.ready"
	it_log "fake VMs up: $(awk '{ printf "%s ", $2 }' "$IT_DIR/fakevms")"
}

# it_vm_exec VM CMD...: run CMD in the VM's netns.
it_vm_exec() { it_exec "$@"; }

# it_ping VM IP [COUNT=3]: true if pings from VM to IP get replies (<= COUNT+2 s).
it_ping() {
	local vm=$1 ip=$2 count=${3:-3}
	it_exec "$vm" ping -n -q -c "$count" -W 1 -i 0.2 -w $((count + 2)) "$ip" >>"$IT_DIR/ping.log" 2>&1
}

# it_no_ping VM IP: true if 2 pings from VM to IP get no reply (~2 s).
it_no_ping() {
	! it_exec "$1" ping -n -q -c 2 -W 1 -i 0.2 -w 2 "$2" >>"$IT_DIR/ping.log" 2>&1
}

# ------------------------------------------------------------- phys net

# it_phys_start: netns <prefix>phys with bridge br0 (no STP, no multicast
# snooping, IPv6 off): the physical network the uplinks plug into.
it_phys_start() {
	local ns
	ns=$(it_ns phys)
	ip netns add "$ns" || it_die "netns $ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 || it_die "br0"
	ip -n "$ns" link set br0 up
}

# it_uplink_if N: the root-netns end of uplink N (for net_af_packet iface=).
it_uplink_if() { echo "${IT_PREFIX}u$1"; }

# it_uplink_add N: veth <prefix>uN (root netns: up, no IP, IPv6 off) <-> up<N>
# on phys br0. Offloads are off on both ends (an af_packet reader would
# otherwise get unchecksummed or 64 KB GSO frames from the phys side).
it_uplink_add() {
	local n=$1 root ns
	root=$(it_uplink_if "$n") ns=$(it_ns phys)
	((${#root} <= 15)) || it_die "uplink name $root longer than 15"
	ip link add "$root" type veth peer name "up$n" netns "$ns" || it_die "veth $root"
	sysctl -qw "net.ipv6.conf.$root.disable_ipv6=1"
	if [[ ${IT_OFFLOADS:-off} == off ]]; then
		"$IT_PY" "$IT_VLANPEER" offload "$root" off
		ip netns exec "$ns" "$IT_PY" "$IT_VLANPEER" offload "up$n" off
	fi
	ip link set "$root" up
	ip -n "$ns" link set "up$n" master br0 up || it_die "up$n on br0"
}

# it_uplink_link N up|down: carrier of uplink N (the phys side goes down, the
# root end then reports NO-CARRIER), for failover tests.
it_uplink_link() { ip -n "$(it_ns phys)" link set "up$1" "$2"; }

# it_phys_host NAME MAC IP/LEN: an external host: netns <prefix>NAME whose
# eth0 (MAC, IP, offloads off) is veth'd to br0 (port h-NAME in phys).
it_phys_host() {
	local name=$1 mac=$2 ip=$3 ns phys
	ns=$(it_ns "$name") phys=$(it_ns phys)
	((${#name} <= 13)) || it_die "host name $name longer than 13"
	ip netns add "$ns" || it_die "netns $ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link add "$IT_VM_IF" netns "$ns" type veth peer name "h-$name" netns "$phys" || it_die "veth for $name"
	ip -n "$ns" link set "$IT_VM_IF" address "$mac" || it_die "MAC of $name"
	if [[ ${IT_OFFLOADS:-off} == off ]]; then
		ip netns exec "$ns" "$IT_PY" "$IT_VLANPEER" offload "$IT_VM_IF" off
		ip netns exec "$phys" "$IT_PY" "$IT_VLANPEER" offload "h-$name" off
	fi
	ip -n "$ns" addr add "$ip" dev "$IT_VM_IF"
	ip -n "$ns" link set "$IT_VM_IF" up
	ip -n "$phys" link set "h-$name" master br0 up
}

# ------------------------------------------------------------- captures

# it_capture_start TAG NS IFACE [FILTER...]: tcpdump -e in netns NS (a VM,
# phys, a host or root) into $IT_DIR/TAG.pcap, bounded by IT_CAPTURE_SECS
# (30) and IT_CAPTURE_COUNT (1000 frames); returns once it is listening.
it_capture_start() {
	local tag=$1 ns=$2 dev=$3
	shift 3
	if [[ $ns == root ]]; then
		it_spawn "$tag" timeout "${IT_CAPTURE_SECS:-30}" tcpdump -i "$dev" -n -e -U --immediate-mode -Z root \
			-c "${IT_CAPTURE_COUNT:-1000}" -w "$IT_DIR/$tag.pcap" "$@"
	else
		it_spawn "$tag" ip netns exec "$(it_ns "$ns")" timeout "${IT_CAPTURE_SECS:-30}" tcpdump --immediate-mode \
			-i "$dev" -n -e -U -Z root -c "${IT_CAPTURE_COUNT:-1000}" -w "$IT_DIR/$tag.pcap" "$@"
	fi
	it_wait_for 5 grep -q 'listening on' "$IT_DIR/$tag.log" || { it_log "tcpdump $tag not listening"; return 1; }
}

# it_phys_capture_start TAG [FILTER...]: it_capture_start on phys br0.
it_phys_capture_start() {
	local tag=$1
	shift
	it_capture_start "$tag" phys br0 "$@"
}

# it_capture_stop TAG: stop the capture, decode it with tcpdump -n -e into
# $IT_DIR/TAG.txt (one line per frame, link level) and print that path.
it_capture_stop() {
	local tag=$1
	sleep 0.2 # let the last frames in
	it_stop "$tag"
	tcpdump -n -e -r "$IT_DIR/$tag.pcap" >"$IT_DIR/$tag.txt" 2>/dev/null
	echo "$IT_DIR/$tag.txt"
}

# ------------------------------------------------------------- vlanpeer

# it_vlanpeer NS ARGS...: run vlanpeer.py in netns NS (a VM, phys, a host, root).
it_vlanpeer() {
	local ns=$1
	shift
	it_exec "$ns" "$IT_PY" "$IT_VLANPEER" "$@"
}

# it_vlanpeer_bg TAG NS ARGS...: start a vlanpeer.py recv/arp-responder in
# the background, return once its socket is bound. Its output is in
# $IT_DIR/TAG.log; it_wait TAG [SECS] returns its exit code.
it_vlanpeer_bg() {
	local tag=$1 ns=$2
	shift 2
	rm -f "$IT_DIR/$tag.ready"
	if [[ $ns == root ]]; then
		it_spawn_rc "$tag" "$IT_PY" "$IT_VLANPEER" "$@" --ready-file "$IT_DIR/$tag.ready"
	else
		it_spawn_rc "$tag" ip netns exec "$(it_ns "$ns")" "$IT_PY" "$IT_VLANPEER" "$@" \
			--ready-file "$IT_DIR/$tag.ready"
	fi
	it_wait_for 5 test -e "$IT_DIR/$tag.ready" || { it_log "vlanpeer $tag not ready"; return 1; }
}
