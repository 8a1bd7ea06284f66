#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SIGTERM while clients are signing: in-flight requests get a reply (a signature or an explicit
# "stopping" error) or EOF, never a hang or a wrong reply; the agent exits 0 within 5 s.
. "$(dirname "$0")/lib.sh"
it_setup it
it_start_agent
W=$T/work
"$HW" key create k >/dev/null

cat > "$W/load.py" <<'PY'
import hashlib, socket, struct, sys, threading, time
SOCK, N = sys.argv[1], 8
stats = {"ok": 0, "stopping": 0, "eof": 0, "other": 0}
lock = threading.Lock()

def sstr(b):
    return struct.pack(">I", len(b)) + b

def run(t):
    s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(SOCK)
    rid = 0
    while True:
        rid += 1
        d = hashlib.sha256(b"%d-%d" % (t, rid)).digest()
        body = bytes([4]) + struct.pack(">I", rid) + sstr(b"k") + bytes([1, 0]) + sstr(d)
        try:
            s.sendall(struct.pack(">I", len(body)) + body)
            h = s.recv(4, socket.MSG_WAITALL)
        except (BrokenPipeError, ConnectionResetError):
            h = b""
        if len(h) < 4:
            with lock: stats["eof"] += 1
            return
        (n,) = struct.unpack(">I", h)
        b = s.recv(n, socket.MSG_WAITALL)
        if struct.unpack(">I", b[1:5])[0] != rid:
            with lock: stats["other"] += 1
            return
        key = "ok" if b[0] == 0x84 else ("stopping" if b[0] == 0x7f and struct.unpack(">I", b[5:9])[0] == 12 else "other")
        with lock: stats[key] += 1
        if key != "ok":
            return

ts = [threading.Thread(target=run, args=(i,)) for i in range(N)]
for t in ts: t.start()
for t in ts: t.join(20)
alive = sum(t.is_alive() for t in ts)
print("ok=%(ok)d stopping=%(stopping)d eof=%(eof)d other=%(other)d" % stats, "hung=%d" % alive)
sys.exit(1 if alive or stats["other"] else 0)
PY
$PY "$W/load.py" "$HWSIGN_AGENT_SOCK" > "$W/load.out" 2>&1 &
LOAD=$!
sleep 1.5
start=$(date +%s%N)
kill -TERM "$AGENT_PID"
rc=0; wait "$AGENT_PID" || rc=$?
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
AGENT_PID=""
lrc=0; wait $LOAD || lrc=$?
cat "$W/load.out"
[ $rc -eq 0 ] || fail "agent exited $rc after SIGTERM"
[ $elapsed -le 5000 ] || fail "agent took ${elapsed} ms to stop"
[ $lrc -eq 0 ] || fail "a client hung or got a wrong reply"
grep -q "ok=[1-9]" "$W/load.out" || fail "no signature completed before SIGTERM"
grep -q "draining in-flight requests" "$T/agent.log" || fail "no drain log line"
[ -S "$T/run/agent.sock" ] && fail "socket left behind"
pass "SIGTERM under load: exit 0 in ${elapsed} ms; $(cat "$W/load.out")"
