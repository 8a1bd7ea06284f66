#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Process hardening of an agent running as an unprivileged user: not dumpable (a process of the
# same uid cannot read its memory or environment), no core files, a locked secure heap.
. "$(dirname "$0")/lib.sh"
it_setup it
W=$T/work
# Everything the agent touches belongs to nobody; the config stays root-owned and read-only.
chown -R nobody:nogroup "$T/tokens" "$T/state" "$T/run" "$T/pin"
chmod 644 "$T/agent.conf"
# handle_segv=0: in a sanitizer build the SIGSEGV below must take its default action too.
setpriv --reuid=nobody --regid=nogroup --clear-groups env SOFTHSM2_CONF="$SOFTHSM2_CONF" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0" "$AGENT_BIN" --config "$T/agent.conf" >>"$T/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 100); do as_nobody "$HW" status >/dev/null 2>&1 && break; sleep 0.1; done
as_nobody "$HW" key create k >/dev/null || fail "agent as nobody cannot create a key"
[ "$(awk '/^Uid:/ {print $2}' "/proc/$AGENT_PID/status")" = 65534 ] || fail "agent is not running as nobody"

# Same uid, yet /proc/PID/environ and mem are closed: PR_SET_DUMPABLE=0 makes them root-owned.
as_nobody cat "/proc/$AGENT_PID/environ" >/dev/null 2>&1 && fail "same-uid process read the agent's environ"
as_nobody $PY -c "open('/proc/$AGENT_PID/mem','rb').read(1)" >/dev/null 2>&1 \
    && fail "same-uid process read the agent's memory"
if command -v gdb >/dev/null; then
    as_nobody gdb -batch -p "$AGENT_PID" -ex 'info registers' >"$W/gdb.out" 2>&1 || true
    grep -q 'rip' "$W/gdb.out" && fail "gdb attached to the agent as the same uid"
fi
pass "not dumpable: same-uid peers cannot read environ/mem or ptrace"

grep -E '^Max core file size +0 +0' "/proc/$AGENT_PID/limits" >/dev/null || fail "RLIMIT_CORE is not 0"
lck=$(awk '/^VmLck/ {print $2}' "/proc/$AGENT_PID/status")
[ "${lck:-0}" -gt 0 ] || fail "no locked memory (secure heap for PINs): VmLck=${lck:-0}"
pass "RLIMIT_CORE 0, secure heap locked (VmLck ${lck} kB)"

cd "$W"
kill -SEGV "$AGENT_PID"
rc=0; wait "$AGENT_PID" || rc=$?; AGENT_PID=""
[ $rc -eq $((128 + 11)) ] || fail "agent did not die of SIGSEGV (exit $rc)"
ls "$W" "$T/state" | grep -q '^core' && fail "a core file was written"
pass "SIGSEGV leaves no core file"
