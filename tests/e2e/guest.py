#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run a command in a Portico test guest over its serial console socket.

The guest (scripts/guest-image.sh) runs a shell on ttyS0 that reads one
command a line, without echo or prompt; QEMU serves ttyS0 on a unix socket
(the VM's "console_socket" in portico vm show). This tool connects, sends

    ( CMD ) ; printf '\\n@@%s@@rc=%d\\n' NONCE $?

and prints what the guest wrote before the marker; it exits with the
command's status (124 on timeout, 125 if the console cannot be reached).

usage: guest.py SOCKET [--timeout S] [--wait-ready] CMD
  --wait-ready   first wait until the guest answers at all (boot), then run CMD
QEMU's console socket takes one client at a time: connecting is retried
until the timeout.
"""
import argparse
import os
import socket
import sys
import time


def connect(path, deadline):
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                return None
            time.sleep(0.2)


def run(s, cmd, deadline, resend=0.0):
    """Send cmd with a marker; return (rc, output) or (None, output) on timeout."""
    nonce = os.urandom(6).hex()
    # A subshell, so that CMD may end with "&" or ";".
    line = ("( %s ) ; printf '\\n@@%%s@@rc=%%d\\n' %s $?\n" % (cmd, nonce)).encode()
    marker = ("@@%s@@rc=" % nonce).encode()
    buf = b""
    s.sendall(line)
    last = time.monotonic()
    while True:
        now = time.monotonic()
        if now > deadline:
            return None, buf
        if resend and now - last > resend:
            s.sendall(line)  # the guest's shell was not there yet
            last = now
        s.settimeout(0.2)
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        if not data:
            return None, buf
        buf += data
        i = buf.find(marker)
        if i >= 0:
            rest = buf[i + len(marker):]
            j = rest.find(b"\n")
            if j < 0:
                continue
            try:
                rc = int(rest[:j].strip())
            except ValueError:
                rc = 255
            out = buf[:i]
            if out.endswith(b"\n"):
                out = out[:-1]
            return rc, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--wait-ready", action="store_true")
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    deadline = time.monotonic() + a.timeout
    s = connect(a.socket, deadline)
    if s is None:
        print("guest.py: cannot connect to %s" % a.socket, file=sys.stderr)
        return 125
    with s:
        if a.wait_ready:
            rc, _ = run(s, "true", deadline, resend=2.0)
            if rc is None:
                print("guest.py: guest not ready within %gs" % a.timeout, file=sys.stderr)
                return 124
        rc, out = run(s, " ".join(a.cmd), deadline)
    text = out.decode(errors="replace").replace("\r", "")
    # Kernel messages may interleave; the guest's own output is what is left.
    sys.stdout.write(text + ("\n" if text and not text.endswith("\n") else ""))
    if rc is None:
        print("guest.py: no answer within %gs" % a.timeout, file=sys.stderr)
        return 124
    return rc


if __name__ == "__main__":
    sys.exit(main())
