#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Peer authentication from kernel credentials and per-key policy, with a real second user:
# a peer named by no policy is refused at connect with an explicit error and a log line; a peer
# named by one key's policy may use that key only; key management needs an administrator.
. "$(dirname "$0")/lib.sh"
it_setup it
command -v setpriv >/dev/null || fail "setpriv (util-linux) is required"
it_start_agent
W=$T/work
"$HW" key create open-key >/dev/null
"$HW" key create private-key >/dev/null
"$HW" key export open-key > "$W/open.pem"
echo "artifact" > "$W/a"
chmod 644 "$W/a"

# 1. nobody is named by no policy: refused at connect, explicit reason, exit 1, audit line.
expect_exit 1 as_nobody "$HW" status
grep -q "uid 65534 is not allowed to use this agent" "$T/last.err" \
    || fail "refusal message: $(cat "$T/last.err")"
grep -q "refused connection: uid 65534.*peer_uid=65534 peer_gid=65534 peer_pid=" "$T/agent.log" \
    || fail "no log line for the refused peer"
expect_exit 1 as_nobody "$HW" sign --key open-key "$W/a" -o -
pass "unlisted peer refused with an explicit error and a log line"

# 2. Policy names nobody for open-key only.
it_stop_agent
it_write_config '[key "open-key"]
allow-users = nobody'
it_start_agent
as_nobody "$HW" sign --key open-key "$W/a" -o - > "$W/a.sig" || fail "nobody may sign with open-key"
base64 -d "$W/a.sig" > "$W/a.der"
openssl dgst -sha256 -verify "$W/open.pem" -signature "$W/a.der" "$W/a" | grep -q OK \
    || fail "nobody's signature does not verify"
expect_exit 1 as_nobody "$HW" sign --key private-key "$W/a" -o -
grep -q "may not use key 'private-key'" "$T/last.err" || fail "message: $(cat "$T/last.err")"
grep -q "refused signature: uid 65534 may not use key 'private-key'" "$T/agent.log" \
    || fail "no log line for the refused signature"
as_nobody "$HW" key list --json | $PY -c 'import json,sys; d=json.load(sys.stdin); assert [k["name"] for k in d]==["open-key"], d'
expect_exit 1 as_nobody "$HW" key create mine
grep -q "administrator" "$T/last.err" || fail "message: $(cat "$T/last.err")"
expect_exit 1 as_nobody "$HW" key delete open-key
pass "key policy by user: allowed key signs, other key and key management refused"

# 3. Policy by group: nobody's primary group nogroup.
it_stop_agent
it_write_config '[key "private-key"]
allow-groups = nogroup'
it_start_agent
as_nobody "$HW" sign --key private-key "$W/a" -o - >/dev/null || fail "group policy not honoured"
expect_exit 1 as_nobody "$HW" sign --key open-key "$W/a" -o -
pass "key policy by group"

# 4. Supplementary group only: nobody with primary nogroup plus supplementary group 'users'.
it_stop_agent
it_write_config '[key "open-key"]
allow-groups = users'
it_start_agent
setpriv --reuid=nobody --regid=nogroup --groups=users env HWSIGN_AGENT_SOCK="$HWSIGN_AGENT_SOCK" \
    LD_LIBRARY_PATH="$LD_LIBRARY_PATH" "$HW" sign --key open-key "$W/a" -o - >/dev/null \
    || fail "supplementary group not honoured"
expect_exit 1 as_nobody "$HW" sign --key open-key "$W/a" -o -
pass "key policy by supplementary group"

# 5. Socket and directory modes.
[ "$(stat -c %a "$T/run/agent.sock")" = 660 ] || fail "socket mode is $(stat -c %a "$T/run/agent.sock")"
[ "$(stat -c %G "$T/run/agent.sock")" = nogroup ] || fail "socket group"
pass "socket 0660, group from socket-group"

# 6. An unsafe socket directory is refused at start.
it_stop_agent
chmod 777 "$T/run"
"$AGENT_BIN" --config "$T/agent.conf" > "$T/bad.log" 2>&1 && fail "agent started with a world-writable socket dir"
grep -q "not writable by group or others" "$T/bad.log" || fail "message: $(cat "$T/bad.log")"
chmod 755 "$T/run"
pass "world-writable socket directory refused"

# 7. A second agent on the same socket fails fast, the first keeps serving.
it_start_agent
"$AGENT_BIN" --config "$T/agent.conf" > "$T/second.log" 2>&1 && fail "second agent started"
grep -q "another agent is listening" "$T/second.log" || fail "message: $(cat "$T/second.log")"
"$HW" status >/dev/null || fail "first agent stopped serving"
pass "second agent on the same socket refused"

# 8. Socket removed: the agent notices and exits non-zero within 10 s.
rm -f "$T/run/agent.sock"
for _ in $(seq 100); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$AGENT_PID" 2>/dev/null && fail "agent still running 10 s after its socket was removed"
rc=0; wait "$AGENT_PID" || rc=$?; AGENT_PID=""
[ "$rc" -ne 0 ] || fail "agent exited 0 after losing its socket"
grep -q "was removed or replaced" "$T/agent.log" || fail "no log line for the lost socket"
pass "removed socket: agent exits non-zero"
