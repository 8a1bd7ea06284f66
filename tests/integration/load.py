#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Concurrent signing load over the raw wire protocol (docs/protocol.md), stdlib only.

usage: load.py SOCKET KEY THREADS COUNT_PER_THREAD [--timeout S]
Prints one JSON line: ok, failures by error code, p50/p99/max latency in ms.
Exit status 0 when every request got a reply (success or a FAILURE frame), 1 on a hang or a
protocol violation (wrong id, short frame)."""
import hashlib, json, socket, struct, sys, threading, time

sock_path, key, threads, count = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), int(sys.argv[4])
timeout = float(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[5] == "--timeout" else 30.0
lock = threading.Lock()
lat, fails, broken = [], {}, []

def sstr(b):
    return struct.pack(">I", len(b)) + b

def worker(t):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(sock_path)
    for i in range(count):
        rid = i + 1
        d = hashlib.sha256(b"%d/%d" % (t, i)).digest()
        body = bytes([4]) + struct.pack(">I", rid) + sstr(key) + bytes([1, 0]) + sstr(d)
        t0 = time.monotonic()
        try:
            s.sendall(struct.pack(">I", len(body)) + body)
            h = s.recv(4, socket.MSG_WAITALL)
            (n,) = struct.unpack(">I", h)
            b = s.recv(n, socket.MSG_WAITALL)
        except Exception as e:  # timeout, reset: a broken promise
            with lock:
                broken.append("thread %d request %d: %r" % (t, rid, e))
            return
        dt = (time.monotonic() - t0) * 1000
        if len(b) != n or struct.unpack(">I", b[1:5])[0] != rid:
            with lock:
                broken.append("thread %d: bad reply" % t)
            return
        with lock:
            if b[0] == 0x84:
                lat.append(dt)
            else:
                code = struct.unpack(">I", b[5:9])[0]
                fails[code] = fails.get(code, 0) + 1
    s.close()

ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
t0 = time.monotonic()
for t in ts:
    t.start()
for t in ts:
    t.join()
lat.sort()
q = lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))], 3) if lat else None
print(json.dumps({"ok": len(lat), "failures": fails, "broken": broken[:5], "p50_ms": q(0.5),
                  "p99_ms": q(0.99), "max_ms": round(lat[-1], 3) if lat else None,
                  "secs": round(time.monotonic() - t0, 3)}))
sys.exit(1 if broken else 0)
