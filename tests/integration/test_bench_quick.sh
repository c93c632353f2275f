#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The benchmark harness end to end, short: bench/run --quick (testpmd, Open
# vSwitch and Portico in every role, 64 and 1518 bytes, a short zero-loss
# search). Passes when it ran: a report, results.json and a plot exist, every
# switch passed traffic at every size, and the switches' counters agree with
# the generator's. The performance bars are printed, not enforced.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${PORTICO_BUILD:-$top/build}
out=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench-quick.XXXXXX")
trap 'rm -rf "$out"' EXIT

fail() {
	echo "FAIL - $*"
	exit 1
}

[ -x "$build/bench/portico-pktgen" ] || fail "$build/bench/portico-pktgen not built"

start=$(date +%s)
timeout -k 10 300 "$top/bench/run" --quick --build "$build" --out "$out"
rc=$?
echo "bench/run --quick: exit $rc after $(($(date +%s) - start)) s"
[ -f "$out/report.md" ] || fail "no report.md"
[ -f "$out/results.json" ] || fail "no results.json"
echo "--- report.md"
cat "$out/report.md"
echo "---"
[ $rc -eq 0 ] || fail "bench/run exit $rc"
[ -f "$out/mpps.png" ] || fail "no mpps.png (gnuplot)"

/usr/bin/python3 - "$out/results.json" <<'EOF' || fail "results.json checks"
import json, sys
doc = json.load(open(sys.argv[1]))
cfg, summ = doc["config"], doc["summary"]
bad = []
for sw in cfg["switches"]:
    for size in cfg["sizes"]:
        e = summ.get(sw, {}).get(str(size))
        if not e or not e.get("mpps") or e["mpps"]["median"] <= 0:
            bad.append(f"{sw} {size}B: no traffic")
            continue
        d = e.get("disagreement_max")
        if d is None:
            bad.append(f"{sw} {size}B: switch counters not read")
        elif d > 0.01:
            bad.append(f"{sw} {size}B: switch counters disagree by {100 * d:.2f} %")
        print(f"ok   - {sw} {size}B: {e['mpps']['median']:.3f} Mpps, counters agree "
              f"within {100 * d:.3f} %")
if set(cfg["switches"]) != {"limit", "ovs-p2p", "ovs-normal", "portico-vm2vm", "portico-uplink",
                            "portico-vm2vm-vlan", "portico-uplink-vlan"}:
    bad.append(f"not every switch ran: {cfg['switches']}")
if not any(t.get("kind") == "zeroloss-result" for t in doc["trials"]):
    bad.append("no zero-loss search ran")
if doc.get("failures"):
    bad += doc["failures"]
for b in bad:
    print(f"FAIL - {b}")
sys.exit(1 if bad else 0)
EOF
echo "ok   - bench/run --quick"
exit 0
