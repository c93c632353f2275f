#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""vlanpeer: a userspace 802.1Q peer for Portico's integration tests.

Where it fits: the kernel on the test machines has no 802.1Q module, so no
tagged interface can be created. This tool sends and receives tagged frames
on any interface with raw AF_PACKET sockets (python3 standard library only).

Receiving: the kernel moves the outer VLAN tag of a received frame into packet
metadata (skb->vlan_tci), even without the 8021q module. It is read back with
PACKET_AUXDATA (tpacket_auxdata.tp_vlan_tci, valid when tp_status has
TP_STATUS_VLAN_VALID). A tag still inline in the data (an inner tag, or a path
that did not strip it) is decoded as well. Frames we send keep their inline tag.

Commands (exit code 0 when what was asked happened, 1 otherwise, 2 on usage
or socket errors):

  send IFACE --src MAC --dst MAC [--vlan VID ...] [--pcp P] [--tpid 0x8100]
       [--ethertype 0x88b5] [--count N] [--interval S] [--payload TEXT]
       [--src-count N]
  recv IFACE --timeout S [--payload TEXT] [--vlan VID|none|any] [--src MAC]
       [--dst MAC] [--ethertype 0x88b5|any] [--expect N] [--exact]
       [--ready-file PATH] [--verbose]
      prints one line per matching frame:
        vlan=<vid|none> src=<mac> dst=<mac> payload=<text>
      success iff matches >= N (default 1); with --exact or --expect 0
      iff matches == N (it then listens for the whole timeout).
  arp-request IFACE --src MAC --src-ip IP --dst-ip IP [--vlan VID]
       [--reply-vlan VID|none|any] [--timeout S] [--interval S]
      broadcasts ARP requests (tagged with --vlan) until a reply for dst-ip
      arrives on the expected VLAN (default: the request's VLAN); prints
        vlan=<vid|none> src=<mac> dst=<mac> arp-reply <ip> is-at <mac>
  arp-responder IFACE --mac MAC --ip IP [--vlan VID|none|any] --timeout S
       [--expect N] [--ready-file PATH]
      answers ARP requests for IP (replies carry the request's tag), for a
      "guest" that tags its own frames (VLAN 4095 / trunk port groups).
  offload IFACE on|off
      sets tx-checksumming, scatter-gather, TSO, GSO and GRO (like ethtool -K),
      for veths whose frames are read by an af_packet/af_xdp uplink.
"""

import argparse
import array
import fcntl
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_ARP = 0x0806
ETH_P_8021Q = 0x8100
ETH_P_8021AD = 0x88A8
ETH_P_EXPERIMENTAL = 0x88B5
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
AUXDATA_FMT = "IIIHHHH"  # struct tpacket_auxdata
AUXDATA_LEN = struct.calcsize(AUXDATA_FMT)
MIN_FRAME = 60  # Ethernet minimum without FCS
SIOCETHTOOL = 0x8946
ETHTOOL_SET = {  # legacy ethtool_value set commands
    "tx": 0x17,  # ETHTOOL_STXCSUM
    "sg": 0x19,  # ETHTOOL_SSG
    "tso": 0x1F,  # ETHTOOL_STSO
    "gso": 0x24,  # ETHTOOL_SGSO
    "gro": 0x2C,  # ETHTOOL_SGRO
}


def mac_bytes(text):
    parts = text.split(":")
    if len(parts) != 6:
        raise argparse.ArgumentTypeError("bad MAC address: %s" % text)
    try:
        return bytes(int(p, 16) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError("bad MAC address: %s" % text)


def mac_text(raw):
    return ":".join("%02x" % b for b in raw)


def int_auto(text):
    return int(text, 0)


def vlan_filter(text):
    """VID, 'none' (untagged only) or 'any'."""
    if text in ("none", "any"):
        return text
    vid = int(text, 0)
    if not 0 <= vid <= 4095:
        raise argparse.ArgumentTypeError("VLAN id out of range: %s" % text)
    return vid


def vlan_matches(want, vid):
    if want is None or want == "any":
        return True
    if want == "none":
        return vid is None
    return vid == want


def open_socket(iface):
    """Raw packet socket bound to iface, auxdata on, queue drained."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    sock.bind((iface, ETH_P_ALL))
    # Frames from other interfaces may have queued before bind(): drop them.
    sock.setblocking(False)
    try:
        while True:
            sock.recv(65536)
    except BlockingIOError:
        pass
    sock.setblocking(True)
    return sock


def touch(path):
    if path:
        with open(path, "w") as f:
            f.write("%d\n" % os.getpid())


class Frame:
    """A received frame with its VLAN tags (outermost first)."""

    def __init__(self, data, aux_status, aux_tci, aux_tpid):
        self.tags = []  # (tpid, pcp, vid, where)
        if aux_status & TP_STATUS_VLAN_VALID:
            tpid = aux_tpid if aux_status & TP_STATUS_VLAN_TPID_VALID else ETH_P_8021Q
            self.tags.append((tpid, aux_tci >> 13, aux_tci & 0xFFF, "aux"))
        self.dst = data[0:6]
        self.src = data[6:12]
        off = 12
        etype = struct.unpack_from("!H", data, off)[0] if len(data) >= 14 else 0
        while etype in (ETH_P_8021Q, ETH_P_8021AD) and len(data) >= off + 8:
            tci = struct.unpack_from("!H", data, off + 2)[0]
            self.tags.append((etype, tci >> 13, tci & 0xFFF, "inline"))
            off += 4
            etype = struct.unpack_from("!H", data, off)[0]
        self.ethertype = etype
        self.payload = data[off + 2:]

    @property
    def vid(self):
        return self.tags[0][2] if self.tags else None

    def vlan_text(self):
        return "none" if self.vid is None else str(self.vid)

    def payload_text(self):
        raw = self.payload.rstrip(b"\0")
        try:
            text = raw.decode("ascii")
            if text.isprintable():
                return text
        except UnicodeDecodeError:
            pass
        return "hex:" + raw[:32].hex()

    def detail(self):
        tags = ",".join("%s:0x%04x/pcp%d/vid%d" % (w, t, p, v) for t, p, v, w in self.tags)
        return " ethertype=0x%04x tags=%s" % (self.ethertype, tags or "-")


def receive(sock, deadline):
    """Yield received (not outgoing) frames until the deadline."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return
        data, ancdata, _flags, addr = sock.recvmsg(65536, socket.CMSG_SPACE(AUXDATA_LEN))
        if addr[2] == PACKET_OUTGOING or len(data) < 14:
            continue
        status, tci, tpid = 0, 0, 0
        for level, ctype, cdata in ancdata:
            if level == SOL_PACKET and ctype == PACKET_AUXDATA and len(cdata) >= AUXDATA_LEN:
                aux = struct.unpack(AUXDATA_FMT, cdata[:AUXDATA_LEN])
                status, tci, tpid = aux[0], aux[5], aux[6]
        yield Frame(data, status, tci, tpid)


def build_frame(dst, src, vlans, pcp, tpid, ethertype, payload):
    frame = bytearray(dst + src)
    for i, vid in enumerate(vlans or []):
        # The outermost tag uses --tpid; inner tags are always 802.1Q.
        frame += struct.pack("!HH", tpid if i == 0 else ETH_P_8021Q, (pcp << 13) | vid)
    frame += struct.pack("!H", ethertype) + payload
    if len(frame) < MIN_FRAME:
        frame += bytes(MIN_FRAME - len(frame))
    return bytes(frame)


def cmd_send(args):
    sock = open_socket(args.iface)
    frames = []
    # --src-count N: N sources, src, src+1, ... (the low 3 bytes count up), in turn.
    base = int.from_bytes(args.src[3:], "big")
    for k in range(max(1, args.src_count)):
        src = args.src[:3] + ((base + k) & 0xFFFFFF).to_bytes(3, "big")
        frames.append(build_frame(args.dst, src, args.vlan, args.pcp, args.tpid,
                                  args.ethertype, args.payload.encode()))
    for i in range(args.count):
        sock.send(frames[i % len(frames)])
        if args.interval and i + 1 < args.count:
            time.sleep(args.interval)
    return 0


def cmd_recv(args):
    sock = open_socket(args.iface)
    touch(args.ready_file)
    exact = args.exact or args.expect == 0
    deadline = time.monotonic() + args.timeout
    matched = 0
    for fr in receive(sock, deadline):
        if args.ethertype != "any" and fr.ethertype != args.ethertype:
            continue
        if args.payload is not None and fr.payload.rstrip(b"\0") != args.payload.encode():
            continue
        if args.src and fr.src != args.src:
            continue
        if args.dst and fr.dst != args.dst:
            continue
        if not vlan_matches(args.vlan, fr.vid):
            continue
        matched += 1
        line = "vlan=%s src=%s dst=%s payload=%s" % (
            fr.vlan_text(), mac_text(fr.src), mac_text(fr.dst), fr.payload_text())
        print(line + (fr.detail() if args.verbose else ""), flush=True)
        if not exact and matched >= args.expect:
            break
    ok = matched == args.expect if exact else matched >= args.expect
    if not ok:
        print("recv: %d matching frame(s), expected %s%d" %
              (matched, "" if exact else ">=", args.expect), file=sys.stderr)
    return 0 if ok else 1


def arp_packet(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha,
                       socket.inet_aton(spa), tha, socket.inet_aton(tpa))


def parse_arp(fr):
    if fr.ethertype != ETH_P_ARP or len(fr.payload) < 28:
        return None
    _ht, _pt, _hl, _pl, op, sha, spa, tha, tpa = struct.unpack_from("!HHBBH6s4s6s4s", fr.payload)
    return op, sha, socket.inet_ntoa(spa), tha, socket.inet_ntoa(tpa)


def cmd_arp_request(args):
    sock = open_socket(args.iface)
    vlans = [args.vlan] if args.vlan is not None else []
    want_vlan = args.reply_vlan if args.reply_vlan is not None else (
        args.vlan if args.vlan is not None else "none")
    req = build_frame(b"\xff" * 6, args.src, vlans, 0, ETH_P_8021Q, ETH_P_ARP,
                      arp_packet(1, args.src, args.src_ip, bytes(6), args.dst_ip))
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        sock.send(req)
        step = min(deadline, time.monotonic() + args.interval)
        for fr in receive(sock, step):
            arp = parse_arp(fr)
            if not arp:
                continue
            op, sha, spa, _tha, tpa = arp
            if op != 2 or spa != args.dst_ip or tpa != args.src_ip:
                continue
            line = "vlan=%s src=%s dst=%s arp-reply %s is-at %s" % (
                fr.vlan_text(), mac_text(fr.src), mac_text(fr.dst), spa, mac_text(sha))
            if not vlan_matches(want_vlan, fr.vid):
                print("arp-request: ignoring reply on the wrong VLAN: " + line, file=sys.stderr)
                continue
            print(line, flush=True)
            return 0
    print("arp-request: no reply from %s" % args.dst_ip, file=sys.stderr)
    return 1


def cmd_arp_responder(args):
    sock = open_socket(args.iface)
    touch(args.ready_file)
    deadline = time.monotonic() + args.timeout
    answered = 0
    for fr in receive(sock, deadline):
        arp = parse_arp(fr)
        if not arp or not vlan_matches(args.vlan, fr.vid):
            continue
        op, sha, spa, _tha, tpa = arp
        if op != 1 or tpa != args.ip:
            continue
        vlans = [t[2] for t in fr.tags]
        pcp = fr.tags[0][1] if fr.tags else 0
        rep = build_frame(fr.src, args.mac, vlans, pcp, ETH_P_8021Q, ETH_P_ARP,
                          arp_packet(2, args.mac, args.ip, sha, spa))
        sock.send(rep)
        answered += 1
        print("vlan=%s src=%s dst=%s arp-request %s from %s answered" % (
            fr.vlan_text(), mac_text(fr.src), mac_text(fr.dst), tpa, spa), flush=True)
        if args.expect and answered >= args.expect and args.stop:
            break
    return 0 if answered >= args.expect else 1


def cmd_offload(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    value = 1 if args.state == "on" else 0
    rc = 0
    for feat, cmd in ETHTOOL_SET.items():
        buf = array.array("I", [cmd, value])
        addr, _ = buf.buffer_info()
        ifreq = struct.pack("16sP", args.iface.encode(), addr)
        ifreq += bytes(40 - len(ifreq))
        try:
            fcntl.ioctl(sock.fileno(), SIOCETHTOOL, ifreq)
        except OSError as e:
            # Not every device lets every feature change; report, go on.
            print("offload: %s %s: %s" % (args.iface, feat, e.strerror), file=sys.stderr)
            if feat == "tx":
                rc = 1
    return rc


def main(argv):
    p = argparse.ArgumentParser(prog="vlanpeer.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("send", help="send raw Ethernet frames")
    s.add_argument("iface")
    s.add_argument("--src", type=mac_bytes, required=True)
    s.add_argument("--dst", type=mac_bytes, required=True)
    s.add_argument("--vlan", type=int, action="append",
                   help="VLAN id of an inline tag; repeat for QinQ (outer first)")
    s.add_argument("--pcp", type=int, default=0, choices=range(8))
    s.add_argument("--tpid", type=int_auto, default=ETH_P_8021Q, help="outer TPID")
    s.add_argument("--ethertype", type=int_auto, default=ETH_P_EXPERIMENTAL)
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--interval", type=float, default=0.0)
    s.add_argument("--payload", default="portico-test")
    s.add_argument("--src-count", type=int, default=1,
                   help="cycle over this many sources from --src up")
    s.set_defaults(func=cmd_send)

    r = sub.add_parser("recv", help="print matching frames received")
    r.add_argument("iface")
    r.add_argument("--timeout", type=float, required=True)
    r.add_argument("--payload")
    r.add_argument("--vlan", type=vlan_filter, default="any")
    r.add_argument("--src", type=mac_bytes)
    r.add_argument("--dst", type=mac_bytes)
    r.add_argument("--ethertype", type=lambda t: t if t == "any" else int(t, 0),
                   default=ETH_P_EXPERIMENTAL)
    r.add_argument("--expect", type=int, default=1)
    r.add_argument("--exact", action="store_true")
    r.add_argument("--ready-file")
    r.add_argument("--verbose", action="store_true")
    r.set_defaults(func=cmd_recv)

    a = sub.add_parser("arp-request", help="ARP for an address, wait for the reply")
    a.add_argument("iface")
    a.add_argument("--src", type=mac_bytes, required=True)
    a.add_argument("--src-ip", required=True)
    a.add_argument("--dst-ip", required=True)
    a.add_argument("--vlan", type=int)
    a.add_argument("--reply-vlan", type=vlan_filter)
    a.add_argument("--timeout", type=float, default=3.0)
    a.add_argument("--interval", type=float, default=0.5)
    a.set_defaults(func=cmd_arp_request)

    ar = sub.add_parser("arp-responder", help="answer ARP requests for an address")
    ar.add_argument("iface")
    ar.add_argument("--mac", type=mac_bytes, required=True)
    ar.add_argument("--ip", required=True)
    ar.add_argument("--vlan", type=vlan_filter, default="any")
    ar.add_argument("--timeout", type=float, required=True)
    ar.add_argument("--expect", type=int, default=1)
    ar.add_argument("--stop", action="store_true", help="exit once --expect requests answered")
    ar.add_argument("--ready-file")
    ar.set_defaults(func=cmd_arp_responder)

    o = sub.add_parser("offload", help="set checksum/segmentation offloads on|off")
    o.add_argument("iface")
    o.add_argument("state", choices=("on", "off"))
    o.set_defaults(func=cmd_offload)

    args = p.parse_args(argv)
    try:
        return args.func(args)
    except OSError as e:
        print("vlanpeer %s: %s" % (args.cmd, e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
