#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A fake porticod control socket, for testing the portico CLI without DPDK.

Listens on a unix socket and answers JSON-RPC 2.0 requests, one JSON object
per line, as porticod does:

  echo.*        result {"method": M, "params": P}: what the CLI sent
  thing.list    a list of objects (nested arrays, a map of counters, ...)
  thing.get     an object, with a nested list of objects
  thing.empty   an empty list
  thing.null    null
  thing.huge    a list of 20000 objects (a reply of a few MB)
  bad.*         an error (code -32000, message "bad thing: M")
  hang.*        never replies (the CLI's timeout)
  close.*       closes the connection without replying
  garbage.*     replies with a line that is not JSON
  wrongid.*     replies to another request id
  anything else the JSON-RPC "method not found" error

A request that is not a valid JSON-RPC 2.0 request object gets error -32600,
so the CLI's framing is checked too. Usage: fake_rpc_server.py SOCKET_PATH
"""
import json
import os
import socket
import sys
import threading
import time

THINGS = [
    {"name": "alpha", "vswitch": "vs0", "vlan": 100, "uplinks": ["eth0", "eth1"],
     "drops": {"no_route": 0, "vlan_filter": 3}, "mtu": 1500, "note": None},
    {"name": "b", "vswitch": "vSwitch-long-name", "vlan": [[10, 20], [30, 30]],
     "uplinks": [], "drops": {"no_route": 0}, "mtu": 9000, "note": "tab\there"},
    {"name": "gamma", "vswitch": "vs0", "vlan": 4095, "uplinks": ["x"],
     "drops": {}, "mtu": 68, "extra": True},
]


def answer(req):
    """Return the reply object to the request, or None to send nothing."""
    rid = req.get("id") if isinstance(req, dict) else None
    if (not isinstance(req, dict) or req.get("jsonrpc") != "2.0"
            or not isinstance(req.get("method"), str) or not isinstance(rid, int)
            or not isinstance(req.get("params", {}), (dict, list))):
        return {"jsonrpc": "2.0", "id": rid,
                "error": {"code": -32600, "message": "invalid request"}}
    method = req["method"]
    params = req.get("params", {})

    def ok(result):
        return {"jsonrpc": "2.0", "id": rid, "result": result}

    if method.startswith("echo."):
        return ok({"method": method, "params": params})
    if method == "thing.list":
        return ok(THINGS)
    if method == "thing.get":
        return ok({"version": "1.2.3", "count": 3, "names": ["a", "b"],
                   "things": THINGS[:2], "none": []})
    if method == "thing.empty":
        return ok([])
    if method == "thing.null":
        return ok(None)
    if method == "thing.huge":
        return ok([{"name": "thing%d" % i, "index": i, "pad": "x" * 100}
                   for i in range(20000)])
    if method.startswith("bad."):
        return {"jsonrpc": "2.0", "id": rid,
                "error": {"code": -32000, "message": "bad thing: " + method}}
    if method.startswith("hang."):
        time.sleep(60)
        return None
    if method.startswith("close."):
        return "close"
    if method.startswith("garbage."):
        return "garbage"
    if method.startswith("wrongid."):
        return {"jsonrpc": "2.0", "id": rid + 1000, "result": True}
    return {"jsonrpc": "2.0", "id": rid,
            "error": {"code": -32601, "message": "method not found: " + method}}


def serve(conn):
    with conn, conn.makefile("rb") as rfile:
        for line in rfile:
            if not line.endswith(b"\n"):
                return  # the CLI must end its request with '\n'
            try:
                req = json.loads(line)
            except ValueError:
                reply = {"jsonrpc": "2.0", "id": None,
                         "error": {"code": -32700, "message": "parse error"}}
            else:
                reply = answer(req)
            if reply is None or reply == "close":
                return
            if reply == "garbage":
                conn.sendall(b"this is not json\n")
                continue
            conn.sendall(json.dumps(reply).encode() + b"\n")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: fake_rpc_server.py SOCKET_PATH")
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)
    try:
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
    except KeyboardInterrupt:
        pass
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
