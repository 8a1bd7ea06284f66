#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Descriptors exhausted (RLIMIT_NOFILE 64, 120 idle clients): no crash, accept pauses while
# clients wait in the backlog, idle clients are dropped after the idle timeout, everyone is
# served again, and the agent's descriptor count returns to where it started.
. "$(dirname "$0")/lib.sh"
it_setup it
W=$T/work
sed -i 's/^idle-timeout = .*/idle-timeout = 2s/' "$T/agent.conf"
"$AGENT_BIN" --config "$T/agent.conf" >>"$T/agent.log" 2>&1 &
AGENT_PID=$!
prlimit --pid "$AGENT_PID" --nofile=64:64
for _ in $(seq 100); do "$HW" status >/dev/null 2>&1 && break; sleep 0.1; done
"$HW" key create k >/dev/null
echo data > "$W/d"
fds_start=$(ls "/proc/$AGENT_PID/fd" | wc -l)

cat > "$W/hog.py" <<'PY'
import socket, sys, time
socks = []
for i in range(120):
    s = socket.socket(socket.AF_UNIX)
    s.setblocking(False)
    try:
        s.connect(sys.argv[1])
    except BlockingIOError:
        pass
    except OSError as e:
        print("connect", i, e)
    socks.append(s)
print("opened", len(socks), flush=True)
time.sleep(float(sys.argv[2]))
PY
$PY "$W/hog.py" "$HWSIGN_AGENT_SOCK" 4 > "$W/hog.out" 2>&1 &
HOG=$!
sleep 1
kill -0 "$AGENT_PID" || fail "agent died with its descriptors exhausted"
grep -q "accept: Too many open files; pausing new connections" "$T/agent.log" \
    || fail "agent did not report descriptor exhaustion"
# A real client is served once idle connections time out (2 s) and free descriptors.
start=$(date +%s%N)
"$HW" sign --key k "$W/d" -o "$W/d.sig" >/dev/null 2>"$W/err" || fail "client not served under exhaustion: $(cat "$W/err")"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait $HOG
sleep 0.5
start=$(date +%s%N)
"$HW" status >/dev/null || fail "status after the hog left"
ms2=$(( ($(date +%s%N) - start) / 1000000 ))
[ $ms2 -lt 1000 ] || fail "serving took ${ms2} ms after clients left"
for _ in $(seq 50); do [ "$(ls "/proc/$AGENT_PID/fd" | wc -l)" -le "$fds_start" ] && break; sleep 0.1; done
fds_end=$(ls "/proc/$AGENT_PID/fd" | wc -l)
[ "$fds_end" -le "$fds_start" ] || fail "descriptors leaked: $fds_start -> $fds_end"
pass "fd exhaustion: no crash, client served after ${ms} ms, then in ${ms2} ms; fds $fds_start -> $fds_end"
