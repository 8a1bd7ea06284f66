#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# systemd socket activation: the agent takes its listening socket from sd_listen_fds, reports
# READY=1 and STOPPING=1 through sd_notify, and reads peer credentials from each accepted
# connection (a refused second user is reported as itself, never as the activator).
. "$(dirname "$0")/lib.sh"
it_setup it
command -v systemd-socket-activate >/dev/null || fail "systemd-socket-activate (package systemd) is required"
W=$T/work

cat > "$W/notify.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(30)
with open(sys.argv[2], "a") as out:
    while True:
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            break
        out.write(m.replace("\n", " | ") + "\n"); out.flush()
        if "STOPPING=1" in m:
            break
PY
$PY "$W/notify.py" "$T/notify.sock" "$W/notify.log" &
NPID=$!
for _ in $(seq 50); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done
systemd-socket-activate -l "$T/run/agent.sock" --fdname=agent -E NOTIFY_SOCKET="$T/notify.sock" \
    -E SOFTHSM2_CONF="$SOFTHSM2_CONF" \
    "$AGENT_BIN" --config "$T/agent.conf" >>"$T/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 50); do [ -S "$T/run/agent.sock" ] && break; sleep 0.05; done
chgrp nogroup "$T/run/agent.sock"; chmod 660 "$T/run/agent.sock"

"$HW" status >/dev/null || fail "status through the activated socket"
"$HW" key create k >/dev/null || fail "key create through the activated socket"
grep -q "using the socket passed by systemd" "$T/agent.log" || fail "agent did not use the passed socket"
for _ in $(seq 50); do grep -q READY=1 "$W/notify.log" 2>/dev/null && break; sleep 0.1; done
grep -q READY=1 "$W/notify.log" || fail "no READY=1 notification"
pass "socket activation: sd_listen_fds socket used, READY=1 sent"

expect_exit 1 as_nobody "$HW" status
grep -q "uid 65534 is not allowed" "$T/last.err" || fail "refusal names the wrong uid: $(cat "$T/last.err")"
grep -q "refused connection: uid 65534" "$T/agent.log" || fail "no refusal log line"
pass "credentials come from the accepted connection (uid 65534 reported, not the activator)"

# systemd-socket-activate execs the agent in place: its pid is the agent's.
kill -TERM "$AGENT_PID"
rc=0; wait "$AGENT_PID" || rc=$?; AGENT_PID=""
[ $rc -eq 0 ] || fail "agent exited $rc"
wait $NPID || true
grep -q STOPPING=1 "$W/notify.log" || fail "no STOPPING=1 notification"
pass "SIGTERM: STOPPING=1 sent, exit 0"
