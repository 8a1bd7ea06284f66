#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Structured logging: with log-target = journal the agent sends native journal datagrams with
# MESSAGE_ID, PRIORITY and PEER_UID/PEER_GID/PEER_PID fields. journald is replaced by a
# datagram listener bound at /run/systemd/journal/socket inside a private mount namespace.
. "$(dirname "$0")/lib.sh"
it_setup it
W=$T/work
unshare -m true 2>/dev/null || { echo "skipped: unshare -m not permitted here"; exit 0; }
sed -i 's/^log-target = stderr/log-target = journal/' "$T/agent.conf"

cat > "$W/ns.sh" <<NS
set -e
mount --make-rprivate /
mkdir -p "$T/jrun"
mount -t tmpfs tmpfs "$T/jrun"
mkdir -p "$T/jrun/journal" /run/systemd
mount --bind "$T/jrun" /run/systemd
$PY - "$W/journal.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind("/run/systemd/journal/socket")
s.settimeout(15)
with open(sys.argv[1], "w") as out:
    try:
        while True:
            out.write(s.recv(65536).decode(errors="replace").replace("\n", "|") + "\n"); out.flush()
    except socket.timeout:
        pass
PY
LPID=\$!
for _ in \$(seq 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
"$AGENT_BIN" --config "$T/agent.conf" 2>"$W/agent.stderr" &
APID=\$!
for _ in \$(seq 100); do "$HW" status >/dev/null 2>&1 && break; sleep 0.1; done
"$HW" key create k >/dev/null
echo data > "$W/d"
"$HW" sign --key k "$W/d" -o "$W/d.sig" >/dev/null
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env HWSIGN_AGENT_SOCK="$HWSIGN_AGENT_SOCK" LD_LIBRARY_PATH="$LD_LIBRARY_PATH" "\$@"; }
as_nobody "$HW" status >/dev/null 2>&1 || true
kill -TERM \$APID; wait \$APID
kill \$LPID 2>/dev/null || true
NS
unshare -m bash "$W/ns.sh" || fail "namespace run failed"
grep -q 'MESSAGE=hwsign-agent .* ready' "$W/journal.log" || { cat "$W/journal.log"; fail "no ready message in the journal"; }
grep 'signed a sha256 digest' "$W/journal.log" | grep -q 'MESSAGE_ID=2c7d4b1a9e6f4d03a1b5c8e7f6a9d203' \
    || fail "signature event lacks its MESSAGE_ID"
grep 'signed a sha256 digest' "$W/journal.log" | grep -q 'PEER_UID=0|' || fail "signature event lacks PEER_UID"
grep 'signed a sha256 digest' "$W/journal.log" | grep -q 'KEY_ID=k|' || fail "signature event lacks KEY_ID"
grep 'refused connection' "$W/journal.log" | grep -q 'PEER_UID=65534|.*PRIORITY=4\|PRIORITY=4|.*PEER_UID=65534' \
    || fail "refusal lacks PEER_UID=65534 / PRIORITY=4: $(grep refused "$W/journal.log")"
[ -s "$W/agent.stderr" ] && fail "agent wrote to stderr although logging to the journal: $(cat "$W/agent.stderr")"
pass "journald datagrams with MESSAGE_ID, PRIORITY, PEER_*, KEY_ID fields"
