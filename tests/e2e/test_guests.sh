#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# e2e: two real guests (QEMU, TCG or KVM) on one port group, started by
# portico-agent: they ping each other; the agent feeds porticod what the
# guests set (effective MAC, promiscuous mode) from QMP alone, so a MAC
# changed inside a guest stops its inbound traffic under mac_changes=reject
# and not under accept; the agent is killed and restarted and re-adopts the
# running QEMUs; the TLS API refuses clients without a valid certificate and
# serves one with it; stop removes the ports.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init e2e_guests
it_timeout 300

bash "$E2E_TOP/scripts/certs.sh" "$IT_DIR/certs" 127.0.0.1 2>/dev/null
bash "$E2E_TOP/scripts/certs.sh" "$IT_DIR/rogue" 127.0.0.1 2>/dev/null
port=$((20000 + RANDOM % 20000))
tls=(--listen "127.0.0.1:$port" --ca "$IT_DIR/certs/ca.pem" --cert "$IT_DIR/certs/server.pem"
	--key "$IT_DIR/certs/server.key")

e2e_porticod_start
e2e_basic_net
e2e_agent_start "${tls[@]}"
MAC1=02:00:00:00:0e:01
MAC2=02:00:00:00:0e:02
e2e_vm_create vm1 "VM Network" 10.10.0.1 $MAC1
e2e_vm_create vm2 "VM Network" 10.10.0.2 $MAC2
e2e_vm_start vm1 vm2

it_check "vm1 pings vm2" e2e_ping vm1 10.10.0.2
it_check "vm2 pings vm1" e2e_ping vm2 10.10.0.1
it_check "both ports connected" test "$(e2e_json e2e_pd port list --json -- \
	'sum(p["state"] == "connected" for p in d)')" == 2

# What the guest set, as QMP reported it to the agent and the agent to porticod.
eff() { e2e_json e2e_pd port show "$1" --json -- 'd["effective_mac"]'; }
promisc() { e2e_json e2e_pd port show "$1" --json -- 'd["guest_promisc"]'; }
eff_is() { [[ $(eff "$1") == "$2" ]]; }
it_check "porticod got vm1's MAC from the agent" test "$(eff vm1.eth0)" == $MAC1
it_check "porticod got vm1's promiscuous mode (off) from the agent" test "$(promisc vm1.eth0)" == False

# The guest changes its MAC: nothing but QMP tells the switch.
NEW=02:00:00:00:0e:99
e2e_guest vm1 "ip link set eth0 address $NEW" >/dev/null
it_check "the agent reported vm1's new MAC" it_wait_for 10 eff_is vm1.eth0 $NEW
e2e_guest vm2 "ip neigh flush dev eth0" >/dev/null || true
it_check "mac_changes reject (default): vm1's inbound traffic stops" e2e_no_ping vm2 10.10.0.1
drops=$(e2e_json e2e_pd port stats vm1.eth0 --json -- 'd[0]["drops"].get("mac_changed", 0)')
it_check "dropped as mac_changed ($drops)" test "$drops" -gt 0
e2e_pd portgroup set "VM Network" --vswitch vSwitch0 --mac-changes accept >/dev/null
e2e_guest vm2 "ip neigh flush dev eth0" >/dev/null || true
it_check "mac_changes accept: vm1's traffic continues" e2e_ping vm2 10.10.0.1
e2e_pd portgroup set "VM Network" --vswitch vSwitch0 --mac-changes inherit >/dev/null
e2e_guest vm1 "ip link set eth0 address $MAC1" >/dev/null
it_check "vm1's MAC back: reported" it_wait_for 10 eff_is vm1.eth0 $MAC1

# The agent dies (SIGKILL) and comes back: the QEMUs are adopted, not restarted.
pid1=$(e2e_qemu_pid vm1)
pid2=$(e2e_qemu_pid vm2)
kill -KILL "$(it_pid agent)"
it_wait_for 5 bash -c "! kill -0 $(it_pid agent) 2>/dev/null" || true
sleep 0.5
e2e_agent_start "${tls[@]}"
it_check "vm1 adopted, same QEMU" test "$(e2e_json e2e_ag vm show vm1 --json -- \
	'"%s %s %s" % (d["state"], d["pid"], d["adopted"])')" == "running $pid1 True"
it_check "vm2 adopted, same QEMU" test "$(e2e_json e2e_ag vm show vm2 --json -- \
	'"%s %s %s" % (d["state"], d["pid"], d["adopted"])')" == "running $pid2 True"
it_check "vm1 still pings vm2" e2e_ping vm1 10.10.0.2
e2e_guest vm2 "ip link set eth0 address $NEW" >/dev/null
it_check "the new agent's QMP watcher reports vm2's MAC change" \
	it_wait_for 10 eff_is vm2.eth0 $NEW
e2e_guest vm2 "ip link set eth0 address $MAC2" >/dev/null
it_wait_for 10 eff_is vm2.eth0 $MAC2 || true

# The remote API: mutual TLS.
remote() { "$E2E_CLI" --remote "127.0.0.1:$port" --ca "$IT_DIR/certs/ca.pem" "$@"; }
it_check "TLS with a valid client certificate: vm list" test "$(remote \
	--cert "$IT_DIR/certs/client.pem" --key "$IT_DIR/certs/client.key" vm list --json |
	"$IT_PY" -c 'import json,sys; print(" ".join(sorted(v["name"] for v in json.load(sys.stdin))))')" == "vm1 vm2"
it_check "TLS: porticod's methods are proxied" remote --cert "$IT_DIR/certs/client.pem" \
	--key "$IT_DIR/certs/client.key" port show vm1.eth0 --json >/dev/null
it_check_fails "TLS: a certificate of another CA is refused" remote \
	--cert "$IT_DIR/rogue/client.pem" --key "$IT_DIR/rogue/client.key" vm list
it_check "TLS: no client certificate is refused before any method runs" "$IT_PY" -c '
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2]))), server_hostname="127.0.0.1")
try:
    s.sendall(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vm.stop\",\"params\":{\"name\":\"vm1\",\"force\":true}}\n")
    data = s.recv(4096)
    sys.exit(1 if data else 0)
except (ssl.SSLError, ConnectionError):
    sys.exit(0)
' "$IT_DIR/certs/ca.pem" "$port"
it_check "TLS: the server's certificate must chain to our CA" it__not "$E2E_CLI" \
	--remote "127.0.0.1:$port" --ca "$IT_DIR/rogue/ca.pem" --cert "$IT_DIR/certs/client.pem" \
	--key "$IT_DIR/certs/client.key" vm list
it_check "vm1 still running (nothing ran for refused clients)" test \
	"$(e2e_json e2e_ag vm show vm1 --json -- 'd["state"]')" == running
it_check "refusals logged" grep -q 'refused' "$IT_DIR/agent.log"

# Stop: ACPI shutdown for vm1, quit for vm2; their ports go.
it_check "vm1 stops (ACPI power button)" test "$(e2e_json e2e_ag vm stop vm1 --timeout 20 --json -- \
	'd["state"]')" == stopped
it_check "vm2 stops (force)" test "$(e2e_json e2e_ag vm stop vm2 --force true --json -- \
	'd["state"]')" == stopped
it_check "no ports left on porticod" test "$(e2e_json e2e_pd port list --json -- 'len(d)')" == 0
it_check "QEMUs gone" bash -c "! kill -0 $pid1 2>/dev/null || grep -q '^State:.*Z' /proc/$pid1/status"
it_check "vm destroy" e2e_ag vm destroy vm1
it_finish
