#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fault injection: the signing log's filesystem fills up (a small private tmpfs). No signature
# is released without its record: signing fails with an explicit error while the disk is full,
# the agent reports it, and it resumes by itself when space returns. The log still verifies and
# holds exactly the signatures that clients received.
. "$(dirname "$0")/lib.sh"
it_setup it
W=$T/work
unshare -m true 2>/dev/null || { echo "skipped: unshare -m not permitted here"; exit 0; }

cat > "$W/ns.sh" <<NS
set -euo pipefail
mount --make-rprivate /
mount -t tmpfs -o size=512k tmpfs "$T/state"
chmod 700 "$T/state"
"$AGENT_BIN" --config "$T/agent.conf" >>"$T/agent.log" 2>&1 &
APID=\$!
for _ in \$(seq 100); do "$HW" status >/dev/null 2>&1 && break; sleep 0.1; done
"$HW" key create k >/dev/null
echo data > "$W/d"
ok=0
for i in \$(seq 5); do "$HW" sign --key k "$W/d" -o "$W/s\$i.sig" >/dev/null && ok=\$((ok + 1)); done
# Fill the filesystem completely.
dd if=/dev/zero of="$T/state/filler" bs=4k 2>/dev/null || true
refused=0
# Records fill the log file's last page first; keep signing until writes need a new block.
for i in \$(seq 60); do
    if "$HW" sign --key k "$W/d" -o "$W/f\$i.sig" 2>"$W/full.err" >/dev/null; then ok=\$((ok + 1)); else refused=\$((refused + 1)); fi
done
cp "$W/full.err" "$W/full.err.keep"
rm -f "$T/state/filler"
resumed=""
for _ in \$(seq 50); do
    if "$HW" sign --key k "$W/d" -o "$W/r.sig" >/dev/null 2>&1; then ok=\$((ok + 1)); resumed=1; break; fi
    sleep 0.1
done
for i in \$(seq 5); do "$HW" sign --key k "$W/d" -o "$W/a\$i.sig" >/dev/null && ok=\$((ok + 1)); done
kill -TERM \$APID; wait \$APID
cp "$T/state/log/records" "$W/records"
echo "ok=\$ok refused=\$refused resumed=\${resumed:-no}" > "$W/result"
NS
unshare -m bash "$W/ns.sh" || fail "scenario failed: $(tail -5 "$T/agent.log")"
cat "$W/result"
grep -q "refused=[1-9]" "$W/result" || fail "no signing request was refused while the log's disk was full"
grep -q "resumed=1" "$W/result" || fail "signing did not resume after space returned"
grep -q "signing log" "$W/full.err.keep" || fail "refusal does not name the signing log: $(cat "$W/full.err.keep")"
grep -q "signing log failed" "$T/agent.log" || fail "agent did not report the log failure"
grep -q "signing resumed" "$T/agent.log" || fail "agent did not report recovery"
ok=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' "$W/result")
"$HW" log verify --log "$W/records" > "$W/verify.out" || fail "log does not verify: $(cat "$W/verify.out")"
n=$("$HW" log search --log "$W/records" --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["records"]))')
[ "$n" -eq "$ok" ] || fail "$ok signatures released but $n records in the log"
pass "disk full: requests refused ($(cat "$W/full.err.keep")), recovered; $ok signatures released = $n records"
