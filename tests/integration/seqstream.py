#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""seqstream: a UDP stream with sequence numbers, to measure what a failover loses.

  send DST_IP PORT --pps N --seconds S      numbered datagrams, paced on a monotonic clock
  recv PORT --seconds S                      prints "received N max_gap G lost L last SEQ" where
                                             G is the longest run of missing numbers (at N pps,
                                             G frames is G/N seconds of traffic lost)
Standard library only; run each side in its network namespace.
"""

import argparse
import socket
import struct
import sys
import time


def send(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    gap = 1.0 / args.pps
    start = time.monotonic()
    n = int(args.seconds * args.pps)
    for i in range(n):
        due = start + i * gap
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            s.sendto(struct.pack("!I", i) + b"x" * 60, (args.dst, args.port))
        except OSError:
            pass  # no route or no neighbour for a moment: that frame is lost, as on a wire
    return 0


def recv(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", args.port))
    s.settimeout(0.2)
    seen = set()
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            continue
        if len(data) >= 4:
            seen.add(struct.unpack("!I", data[:4])[0])
    if not seen:
        print("received 0 max_gap -1 lost -1 last -1")
        return 1
    last = max(seen)
    gap = run = 0
    for i in range(min(seen), last + 1):
        if i in seen:
            run = 0
        else:
            run += 1
            gap = max(gap, run)
    print(f"received {len(seen)} max_gap {gap} lost {last + 1 - min(seen) - len(seen)} last {last}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("send")
    a.add_argument("dst")
    a.add_argument("port", type=int)
    a.add_argument("--pps", type=int, default=1000)
    a.add_argument("--seconds", type=float, default=5)
    b = sub.add_parser("recv")
    b.add_argument("port", type=int)
    b.add_argument("--seconds", type=float, default=6)
    args = ap.parse_args()
    return send(args) if args.cmd == "send" else recv(args)


if __name__ == "__main__":
    sys.exit(main())
