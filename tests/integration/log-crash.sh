#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Crash campaign: the agent is SIGKILLed at random moments while 16 clients sign; after each
# restart every signature a client received is in the signing log, and the log verifies.
# (Write-ahead: a record is synced before its signature is released.)
. "$(dirname "$0")/lib.sh"
it_setup it
W=$T/work
ROUNDS=${HWSIGN_CRASH_ROUNDS:-10}
it_start_agent
"$HW" key create k >/dev/null

cat > "$W/acked.py" <<'PY'
import hashlib, os, socket, struct, sys, threading
sock, key, out, threads = sys.argv[1], sys.argv[2].encode(), sys.argv[3], 16
lock = threading.Lock()
acked = []
def sstr(b): return struct.pack(">I", len(b)) + b
def run(t):
    try:
        s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sock)
    except OSError:
        return
    for i in range(100000):
        d = hashlib.sha256(os.urandom(16)).digest()
        body = bytes([4]) + struct.pack(">I", i + 1) + sstr(key) + bytes([1, 0]) + sstr(d)
        try:
            s.sendall(struct.pack(">I", len(body)) + body)
            h = s.recv(4, socket.MSG_WAITALL)
            if len(h) < 4: return
            b = s.recv(struct.unpack(">I", h)[0], socket.MSG_WAITALL)
        except OSError:
            return
        if b and b[0] == 0x84:
            with lock: acked.append(d.hex())
ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
with open(out, "a") as f:
    for d in acked: f.write(d + "\n")
print(len(acked))
PY

total=0
for round in $(seq "$ROUNDS"); do
    $PY "$W/acked.py" "$HWSIGN_AGENT_SOCK" k "$W/acked" > "$W/round.out" &
    LOADPID=$!
    sleep "0.$(( RANDOM % 8 + 2 ))"
    kill -KILL "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null || true
    AGENT_PID=""
    wait $LOADPID || fail "load client failed in round $round"
    n=$(cat "$W/round.out"); total=$((total + n))
    it_start_agent   # verifies the log (and truncates only a torn tail) before serving
done
it_stop_agent || fail "agent did not stop cleanly"
[ "$total" -ge 1000 ] || fail "only $total signatures were acknowledged in $ROUNDS rounds (need >= 1000)"
"$HW" log verify --log "$T/state/log/records" > "$W/verify.out" || fail "log does not verify: $(cat "$W/verify.out")"
"$HW" log search --log "$T/state/log/records" --json > "$W/all.json"
$PY - "$W/all.json" "$W/acked" <<'PY' || fail "acknowledged signatures missing from the log"
import json, sys
logged = {r["digest"] for r in json.load(open(sys.argv[1]))["records"]}
acked = [l.strip() for l in open(sys.argv[2]) if l.strip()]
missing = [d for d in acked if d not in logged]
print("acknowledged", len(acked), "logged", len(logged), "missing", len(missing))
sys.exit(1 if missing else 0)
PY
pass "crash campaign: $ROUNDS SIGKILLs, $total acknowledged signatures, all in the log; $(head -1 "$W/verify.out")"
