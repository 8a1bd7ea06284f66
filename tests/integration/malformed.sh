#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Malformed frames on a real socket: each gets an explicit error (or a clean close) and other
# clients keep being served. Raw frames are written by a small Python client (stdlib only).
. "$(dirname "$0")/lib.sh"
it_setup it
it_start_agent
W=$T/work
"$HW" key create k >/dev/null
echo data > "$W/d"

cat > "$W/raw.py" <<'PY'
import socket, struct, sys, time

SOCK = sys.argv[1]
MAX = 64 * 1024
FAILURE = 0x7f
ERR = {1: "malformed", 2: "unsupported", 10: "too-large", 11: "invalid"}

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(SOCK)
    return s

def read_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b

def read_reply(s):
    h = read_exact(s, 4)
    if h is None:
        return None
    (n,) = struct.unpack(">I", h)
    body = read_exact(s, n)
    t, rid = body[0], struct.unpack(">I", body[1:5])[0]
    code = struct.unpack(">I", body[5:9])[0] if t == FAILURE else None
    return t, rid, code, body

def frame(t, rid, payload=b""):
    body = bytes([t]) + struct.pack(">I", rid) + payload
    return struct.pack(">I", len(body)) + body

def sstr(b):
    return struct.pack(">I", len(b)) + b

def expect_closed(s, what):
    try:
        r = s.recv(1)
    except ConnectionResetError:
        return
    assert r == b"", f"{what}: connection not closed"

def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)

# Oversize lengths: refused from the header alone, explicit error, then closed.
for n in (MAX + 1, 2**31, 2**32 - 1):
    s = conn(); s.sendall(struct.pack(">I", n))
    t, rid, code, _ = read_reply(s)
    check(t == FAILURE and code == 10, f"length {n}: too-large error")
    expect_closed(s, f"length {n}")

# Lengths shorter than a message header.
for n in (0, 1, 4):
    s = conn(); s.sendall(struct.pack(">I", n) + b"\0" * n)
    t, rid, code, _ = read_reply(s)
    check(t == FAILURE and code == 1, f"length {n}: malformed error")
    expect_closed(s, f"length {n}")

# Unknown and reply-only types: explicit unsupported, the connection stays usable.
s = conn()
for t in (0, 14, 0x55, 0x7f, 0x80, 0x84, 0x8b, 0xff):
    s.sendall(frame(t, 7))
    rt, rid, code, _ = read_reply(s)
    check(rt == FAILURE and rid == 7 and code == 2, f"type {t:#x}: unsupported")
s.sendall(frame(1, 8)); rt, rid, _, _ = read_reply(s)
check(rt == 0x81 and rid == 8, "status on the same connection afterwards")

# Malformed bodies of known types.
cases = [
    ("sign: truncated string", frame(4, 9, struct.pack(">I", 50) + b"k")),
    ("sign: digest length mismatch", frame(4, 9, sstr(b"k") + bytes([1, 0]) + sstr(b"\0" * 20))),
    ("sign: unknown hash", frame(4, 9, sstr(b"k") + bytes([9, 0]) + sstr(b"\0" * 32))),
    ("sign: trailing bytes", frame(4, 9, sstr(b"k") + bytes([1, 0]) + sstr(b"\0" * 32) + b"x")),
    ("key info: name with NUL", frame(3, 9, sstr(b"a\0b"))),
    ("key info: name too long", frame(3, 9, sstr(b"a" * 65))),
    ("status: trailing bytes", frame(1, 9, b"junk")),
    ("stage begin: length 0", frame(11, 9, sstr(b"k") + sstr(b"application/vnd.in-toto+json") + struct.pack(">Q", 0))),
    ("stage begin: over 16 MiB", frame(11, 9, sstr(b"k") + sstr(b"application/vnd.in-toto+json") + struct.pack(">Q", 16 * 1024 * 1024 + 1))),
    ("stage data: no statement staged", frame(12, 9, sstr(b"{}"))),
    ("stage sign: no statement staged", frame(13, 9)),
    ("stage sign: trailing bytes", frame(13, 9, b"x")),
]
for what, f in cases:
    s.sendall(f)
    rt, rid, code, _ = read_reply(s)
    check(rt == FAILURE and rid == 9 and code in (1, 10, 11), what)

# 256 pipelined requests in one write: 256 replies, in order.
s.sendall(b"".join(frame(1, 1000 + i) for i in range(256)))
ids = [read_reply(s)[1] for _ in range(256)]
check(ids == list(range(1000, 1256)), "256 pipelined requests answered in order")

# One-byte writes.
f = frame(1, 42)
for i in range(len(f)):
    s.sendall(f[i:i + 1])
rt, rid, _, _ = read_reply(s)
check(rt == 0x81 and rid == 42, "request written one byte at a time")

# SHUT_WR after the request: the reply still arrives.
s2 = conn(); s2.sendall(frame(2, 5)); s2.shutdown(socket.SHUT_WR)
rt, rid, _, _ = read_reply(s2)
check(rt == 0x82 and rid == 5, "reply after SHUT_WR")

# Truncated body then close; random garbage: the agent survives.
s3 = conn(); s3.sendall(struct.pack(">I", 100) + b"\x01" * 10); s3.close()
s4 = conn(); s4.sendall(bytes(range(256)) * 4); s4.close()
s.sendall(frame(1, 43)); rt, rid, _, _ = read_reply(s)
check(rt == 0x81 and rid == 43, "agent serves after truncated and garbage connections")
PY
$PY "$W/raw.py" "$HWSIGN_AGENT_SOCK" || fail "raw protocol checks"
"$HW" sign --key k "$W/d" -o "$W/d.sig" >/dev/null || fail "signing after malformed input"
pass "well-formed client served after malformed input"

# Slowloris: a client trickling one byte per second is dropped after the idle timeout (5 s);
# meanwhile other clients are served without delay.
cat > "$W/slow.py" <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
t0 = time.monotonic()
frame = struct.pack(">I", 5) + bytes([1]) + struct.pack(">I", 1)
try:
    for b in frame[:-1]:
        s.sendall(bytes([b])); time.sleep(1.0)
    # All but the last byte sent over ~8 s: the agent must have dropped us by now.
    s.sendall(frame[-1:])
    r = s.recv(64)
    ok = False
    if len(r) >= 5 and r[4] == 0x7f:
        ok = False
    elif r == b"":
        ok = True
except (BrokenPipeError, ConnectionResetError):
    ok = True
print("dropped" if ok else "not-dropped", round(time.monotonic() - t0, 1))
PY
$PY "$W/slow.py" "$HWSIGN_AGENT_SOCK" > "$W/slow.out" &
SLOW=$!
max_ms=0
for _ in $(seq 20); do
    s=$(date +%s%N); "$HW" sign --key k "$W/d" -o "$W/d2.sig" >/dev/null; e=$(date +%s%N)
    ms=$(( (e - s) / 1000000 )); [ $ms -gt $max_ms ] && max_ms=$ms
    sleep 0.2
done
wait $SLOW
grep -q '^dropped' "$W/slow.out" || fail "trickling client not dropped: $(cat "$W/slow.out")"
grep -q "request incomplete after" "$T/agent.log" || fail "no log line for the dropped slow client"
echo "slowest concurrent sign during the trickle: ${max_ms} ms (includes process start)"
[ $max_ms -lt 1000 ] || fail "other clients were delayed by the trickling client (${max_ms} ms)"
pass "trickling client dropped after the idle timeout; others unaffected"
