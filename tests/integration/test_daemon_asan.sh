#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# porticod itself under AddressSanitizer, UndefinedBehaviorSanitizer and
# LeakSanitizer (the build-asan/ tree), without hugepages (--no-huge): every
# control path, the rollback ones included (a re-created port, an undone
# change, a driver that will not probe, a live socket refused), bad input,
# and a net_null uplink whose endless frames keep the worker's pipeline
# busy meanwhile. Any sanitizer report fails the test (it aborts porticod
# or makes its exit code non-zero).
set -u
. "$(dirname "$0")/lib.sh"
it_init daemon_asan
it_timeout 120

top=$(cd "$IT_LIB_DIR/../.." && pwd)
asan=${PORTICO_ASAN_BUILD:-$top/build-asan}
d=$asan/control/porticod
cli=$asan/control/portico
[[ -x $d && -x $cli ]] || it_die "$d not built (tests/run.sh builds build-asan/)"
sock=$IT_DIR/porticod.sock
pt() { "$cli" --socket "$sock" "$@"; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=66
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$top/tests/unit/lsan.supp:print_suppressions=0
it_spawn_rc porticod "$d" --config "$IT_DIR/state.json" --socket "$sock" --lcores "0@0,1@1" \
	-- --no-huge -m 256 --no-pci --file-prefix "$(it_eal_prefix asan)" --no-shconf
it_check "porticod (ASan) answers" it_wait_for 30 pt system version

pt vswitch add vSwitch0 >/dev/null
pt portgroup add "VM Network" --vswitch vSwitch0 --vlan 0 >/dev/null
pt portgroup add Trunk --vswitch vSwitch0 --vlan '[[100,200]]' >/dev/null
it_check "a net_null uplink opens (its rx feeds the worker endless frames)" \
	pt uplink add null0 --vswitch vSwitch0 --devargs net_null0
it_check "a server-mode port" pt port add s1 --vswitch vSwitch0 --portgroup "VM Network" \
	--socket "$IT_DIR/s1.sock" --mode server --mac 02:00:00:00:09:01
it_check "a client-mode port" pt port add c1 --vswitch vSwitch0 --portgroup Trunk \
	--socket "$IT_DIR/c1.sock" --mac 02:00:00:00:09:02
it_check "re-create a port (queues)" pt port set s1 --queues 2
it_check "re-create a port (mode)" pt port set c1 --mode server
# A socket someone else listens on: the re-creation is refused and undone.
"$IT_PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); time.sleep(60)' \
	"$IT_DIR/busy.sock" &
listener=$!
it_wait_for 5 test -S "$IT_DIR/busy.sock"
it_check "moving a port onto a live socket is refused" it__not pt port set s1 --socket "$IT_DIR/busy.sock" --mode server
it_check "a client-mode port on the live socket" pt port add c2 --vswitch vSwitch0 --portgroup Trunk \
	--socket "$IT_DIR/busy.sock" --mac 02:00:00:00:09:03
cfg=$(pt config get --json)
it_check "becoming that socket's server is refused after the early removal, and undone" \
	it__not pt port set c2 --mode server
it_check "the undo left the config as it was" test "$(pt config get --json)" = "$cfg"
it_check "the undone port is back in service" test "$(pt port list --json | "$IT_PY" -c 'import json, sys
print([p["state"] for p in json.load(sys.stdin) if p["name"] == "c2"][0])')" != failed
pt port del c2 >/dev/null
kill $listener 2>/dev/null
it_check "a driver that will not probe is refused" it__not pt uplink add bad0 --vswitch vSwitch0 --devargs net_nosuchdriver0
it_check "an interface that does not exist is refused" it__not pt uplink add bad1 --vswitch vSwitch0 --devargs net_af_packet9,iface=nosuchif9
# A bond (LACP) over two members: opened, listed, a member that will not
# probe undoes it all, deleted with its members.
it_check "a bond over two net_null members opens" pt uplink add lag0 --vswitch vSwitch0 \
	--devargs net_bonding3,mode=4 --members '["net_null5,no-rx=1", "net_null6,no-rx=1"]'
it_check "uplink.list shows the bond's two members" test "$(pt uplink list --json | "$IT_PY" -c 'import json, sys
print([len(u["members"]) for u in json.load(sys.stdin) if u["name"] == "lag0"][0])')" = 2
it_check "a bond whose member will not probe is refused" it__not pt uplink add lag1 \
	--vswitch vSwitch0 --devargs net_bonding4,mode=4 --members '["net_null7", "net_nosuchdriver1"]'
it_check "the bond goes, with its members" pt uplink del lag0
it_check "its members and the refused bond's open alone after" pt uplink add lone \
	--vswitch vSwitch0 --devargs net_bonding5,mode=1 --members '["net_null5", "net_null7"]'
pt uplink del lone >/dev/null
it_check "the bonds' devices were all removed (none kept by its driver)" \
	it__not grep -q -E "did not let the device go|cannot detach the device" "$IT_DIR/porticod.log"
pt portgroup set Trunk --vswitch vSwitch0 --vlan 4095 >/dev/null
pt vswitch set vSwitch0 --mtu 9000 >/dev/null
# The policy, teaming, shaping, mirror, trace and capture paths of control.
pt uplink add null1 --vswitch vSwitch0 --devargs net_null1 >/dev/null
it_check "policy at three levels" pt vswitch set vSwitch0 --forged-transmits accept --broadcast-pps 100
it_check "port group policy" pt portgroup set "VM Network" --vswitch vSwitch0 --promiscuous accept \
	--mac-learning on --mac-limit 5 --load-balancing explicit_failover --active null0 --standby null1
it_check "port policy and shaping" pt port set s1 --egress-shaping on --egress-average 10M \
	--egress-peak 20M --egress-burst 64K --egress-mode shape --ingress-shaping on \
	--ingress-average 1G --ingress-peak 1G
it_check "reported state" pt port set s1 --effective-mac 02:00:00:00:00:99 --guest-promisc false
it_check "port show" pt port show s1 --json
it_check "portgroup show" pt portgroup show "VM Network" --vswitch vSwitch0 --json
it_check "a private VLAN map and a port group on it" pt vswitch set vSwitch0 \
	--pvlans '[{"primary": 300, "secondaries": [{"vid": 301, "type": "isolated"}]}]'
it_check "...and a port group on it" pt portgroup add Iso --vswitch vSwitch0 --vlan '{"pvlan": 301}'
it_check "a mirror to a VM port" pt mirror add m1 --sources '[{"port": "c1"}, {"port": "null0"}]' \
	--destination '{"port": "s1"}'
it_check "an RSPAN mirror" pt mirror add m2 --sources '[{"port": "s1", "direction": "in"}]' \
	--destination '{"uplink": "null1", "vlan": 999}'
it_check "trace" pt trace --port s1 --src 02:00:00:00:00:99 --dst ff:ff:ff:ff:ff:ff --json
it_check "trace from an uplink" pt trace --port null0 --src 02:00:00:00:00:42 --dst 02:00:00:00:00:99 --vlan 301
it_check "a capture to a file" pt capture start null0 --filter udp --count 5 --file "$IT_DIR/c.pcapng"
sleep 0.5
it_check "capture list" pt capture list --json
it_check "failover: the order changes live" pt portgroup set "VM Network" --vswitch vSwitch0 --active null1 --standby null0
it_check "shaping off and policy inherited again" pt port set s1 --policy null --effective-mac null
it_check "mirrors go" pt mirror del m1
pt mirror del m2 >/dev/null
pt portgroup del Iso --vswitch vSwitch0 >/dev/null
pt portgroup set "VM Network" --vswitch vSwitch0 --policy null >/dev/null
pt vswitch set vSwitch0 --policy null --pvlans '[]' >/dev/null
it_check "an uplink no order names can go" pt uplink del null1
for m in "port list" "port stats" "fdb list" "uplink list" "vswitch list" "portgroup list" "system stats" "config get" "mirror list" "capture list"; do
	# shellcheck disable=SC2086
	it_check "$m" pt $m --json >/dev/null
done
it_check "the worker saw the null uplink's frames" \
	"$IT_PY" -c 'import json, sys; w = json.loads(sys.argv[1])["workers"][0]; assert w["rx_packets"] > 0, w' \
	"$(pt system stats --json)"
"$IT_PY" - "$sock" <<'PY'
import os, socket, sys
for payload in (b"{", b"[1]", os.urandom(3000) + b"\n", b'{"jsonrpc":"2.0","id":1,"method":"port.add","params":{"name":5}}\n',
                b"x" * 1100000 + b"\n"):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    try:
        s.sendall(payload + b"\n")
        s.settimeout(5)
        s.recv(65536)
    except OSError:
        pass
    s.close()
PY
it_check "still answering after bad input" pt system version
pt port del s1 >/dev/null
pt port del c1 >/dev/null
pt uplink del null0 >/dev/null
pt portgroup del Trunk --vswitch vSwitch0 >/dev/null
pt vswitch del vSwitch0 >/dev/null 2>&1 || pt portgroup del "VM Network" --vswitch vSwitch0 >/dev/null
pkill -TERM -x -P "$(it_pid porticod)" porticod # porticod itself, not its rc wrapper
it_wait porticod 30
rc=$?
grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$IT_DIR/porticod.log" | head -20
it_check "porticod exits cleanly with no sanitizer report (exit $rc)" test "$rc" -eq 0
it_finish
