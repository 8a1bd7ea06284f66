#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Log entries in bundles, end to end on a real agent (SoftHSM2 token keys, log key in the
# token):
#   - `hwsign sign --bundle` and `hwsign attest-blob` put the signature's log entry into
#     tlogEntries (the agent signs a fresh checkpoint when none covers the record yet);
#   - `hwsign verify --bundle --log-key` checks it; the entry body is exactly what
#     logentry.py derives from the record in the log file (docs/log.md, read independently),
#     and its index is the one `sign --json` reported;
#   - @sigstore/verify 3.1.1 verifies the entries against `hwsign log trusted-root` with
#     tlogThreshold 1 (checkpoint signature and inclusion proof checked by a stock verifier);
#   - tampering (a proof hash, the index, the body, an entry moved to another bundle, another
#     log key) is refused by both verifiers; --no-log-entry bundles carry none;
#   - an agent without a log key still signs and writes bundles, with a warning.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
it_setup it
W=$T/work
sed -i 's|^log-target = stderr|log-target = stderr\nlog-key = logkey\nlog-origin = hwsign.test/bundles|' \
    "$T/agent.conf"
it_start_agent
"$HW" key create logkey >/dev/null
"$HW" key export logkey > "$W/log.pem"
"$HW" key create k >/dev/null
"$HW" key export k > "$W/k.pem"
export IT_DIR=$HERE

. "$HERE/npm/setup.sh"
SJS=""
if npm_interop_install "$HWSIGN_BUILD"; then
    SJS=1
elif [ "${HWSIGN_REQUIRE_INTEROP:-0}" = 1 ]; then
    fail "sigstore-js unavailable: $NPM_INTEROP_ERR"
else
    echo "NOTICE: sigstore-js checks skipped: $NPM_INTEROP_ERR"
fi
sjs() { # sjs accepts|rejects PUB BUNDLE [ARTIFACT], with the log's trusted root, threshold 1
    local want=$1 rc=0
    shift
    [ -n "$SJS" ] || return 0
    TRUSTED_ROOT=$W/root.json TLOG_THRESHOLD=${TLOG:-1} \
        npm_interop_node "$HERE/npm/verify-bundle.js" "$@" > "$T/sjs.out" 2>&1 || rc=$?
    if [ "$want" = accepts ]; then
        [ $rc -eq 0 ] || fail "@sigstore/verify rejects $2: $(cat "$T/sjs.out")"
    else
        [ $rc -eq 1 ] && grep -q '^REJECTED ' "$T/sjs.out" ||
            fail "@sigstore/verify on $2 (want rejected): $(cat "$T/sjs.out")"
    fi
}
jget() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

"$HW" log trusted-root --log-key "$W/log.pem" --origin hwsign.test/bundles -o "$W/root.json"

# ---- messageSignature bundle with its log entry ----
echo earlier > "$W/e"
for _ in 1 2 3 4 5; do "$HW" sign --key k "$W/e" -o "$W/e.sig" > /dev/null; done
head -c 5000 /dev/urandom > "$W/a"
"$HW" sign --key k --bundle "$W/a.json" --json "$W/a" > "$W/a.sign.json"
idx=$(jget "$W/a.sign.json" 'd["log_index"]')
[ "$(jget "$W/a.json" 'len(d["verificationMaterial"]["tlogEntries"])')" = 1 ] ||
    fail "sign --bundle wrote no log entry"
[ "$(jget "$W/a.json" 'd["verificationMaterial"]["tlogEntries"][0]["logIndex"]')" = "$idx" ] ||
    fail "the bundle's logIndex is not the reported log index $idx"
expect_exit 0 "$HW" verify --key "$W/k.pem" --bundle "$W/a.json" --log-key "$W/log.pem" "$W/a"
grep -q "^Log: record $idx included in checkpoint hwsign.test/bundles" "$T/last.out" ||
    fail "verify --log-key output: $(cat "$T/last.out")"
"$HW" verify --key "$W/k.pem" --bundle "$W/a.json" --log-key "$W/log.pem" --json "$W/a" \
    > "$W/v.json"
[ "$(jget "$W/v.json" 'd["log"]["index"]')" = "$idx" ] || fail "verify --json log: $(cat "$W/v.json")"
expect_exit 0 "$HW" verify --key "$W/k.pem" --bundle "$W/a.json" "$W/a"
grep -q "not checked (give --log-key)" "$T/last.out" || fail "no note on the unchecked entry"
sjs accepts "$W/k.pem" "$W/a.json" "$W/a"
pass "sign --bundle: log entry $idx verified by hwsign verify --log-key and @sigstore/verify (tlogThreshold 1)"

# The entry body is the record's, derived independently from the log file (docs/log.md).
$PY - "$T/state/log/records" "$W/a.json" "$idx" <<'PY' || fail "the bundle's entry body is not the record's"
import base64, json, os, struct, sys
sys.path.insert(0, os.environ["IT_DIR"])
from logentry import entry
d = open(sys.argv[1], "rb").read()
off, bodies = 8, []
while off < len(d):
    n = struct.unpack(">I", d[off:off + 4])[0]
    bodies.append(d[off + 4:off + 4 + n]); off += 4 + n + 32
e = json.load(open(sys.argv[2]))["verificationMaterial"]["tlogEntries"][0]
assert base64.b64decode(e["canonicalizedBody"]) == entry(bodies[int(sys.argv[3])])
assert e["kindVersion"] == {"kind": "hashedrekord", "version": "0.0.1"}, e["kindVersion"]
PY
pass "the bundle's canonicalizedBody equals the entry derived from record $idx of the log file"

# ---- dsseEnvelope bundle (attest-blob) ----
echo '{"buildType":"https://example.com/b"}' > "$W/pred.json"
"$HW" attest-blob --key k --type https://example.com/pred/v1 --predicate "$W/pred.json" \
    --subject "$W/a" -o "$W/att.json" > /dev/null
[ "$(jget "$W/att.json" 'd["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"]')" = dsse ] ||
    fail "attest-blob bundle has no dsse log entry"
expect_exit 0 "$HW" verify --key "$W/k.pem" --bundle "$W/att.json" --log-key "$W/log.pem"
sjs accepts "$W/k.pem" "$W/att.json"
pass "attest-blob: dsse log entry verified by hwsign and @sigstore/verify"

# ---- tampering ----
mutate() { # mutate IN OUT PYTHON-STATEMENT (over b = bundle dict, e = its first entry)
    $PY - "$1" "$2" "$3" <<'PY'
import base64, json, sys
b = json.load(open(sys.argv[1]))
e = b["verificationMaterial"]["tlogEntries"][0]
exec(sys.argv[3])
json.dump(b, open(sys.argv[2], "w"))
PY
}
flip_b64='lambda s: base64.b64encode(bytes([base64.b64decode(s)[0] ^ 1]) + base64.b64decode(s)[1:]).decode()'
"$HW" sign --key k --bundle "$W/b.json" "$W/a" > /dev/null # same file, another signature
mutate "$W/a.json" "$W/t1.json" "f = $flip_b64; p = e['inclusionProof']; p['hashes'][0] = f(p['hashes'][0])"
mutate "$W/a.json" "$W/t2.json" "e['logIndex'] = e['inclusionProof']['logIndex'] = str(int(e['logIndex']) - 1)"
mutate "$W/a.json" "$W/t3.json" "
body = json.loads(base64.b64decode(e['canonicalizedBody']))
body['hwsign']['record'] = '00' * 32
e['canonicalizedBody'] = base64.b64encode(json.dumps(body, separators=(',', ':')).encode()).decode()"
# b's entry is valid and proven, for the same file, but for another signature.
$PY - "$W/a.json" "$W/b.json" "$W/t4.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
a["verificationMaterial"]["tlogEntries"] = b["verificationMaterial"]["tlogEntries"]
json.dump(a, open(sys.argv[3], "w"))
PY
mutate "$W/a.json" "$W/t5.json" "
cp = e['inclusionProof']['checkpoint']; lines = cp['envelope'].split('\n')
lines[1] = str(int(lines[1]) + 1); cp['envelope'] = '\n'.join(lines)
e['inclusionProof']['treeSize'] = lines[1]"
for t in t1 t2 t3 t4 t5; do
    expect_exit 1 "$HW" verify --key "$W/k.pem" --bundle "$W/$t.json" --log-key "$W/log.pem" "$W/a"
    sjs rejects "$W/k.pem" "$W/$t.json" "$W/a"
done
grep -q "does not verify" "$T/last.err" || fail "changed checkpoint: $(cat "$T/last.err")"
expect_exit 1 "$HW" verify --key "$W/k.pem" --bundle "$W/t4.json" --log-key "$W/log.pem" "$W/a"
grep -q "another signature" "$T/last.err" || fail "moved entry: $(cat "$T/last.err")"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkey -pubout > "$W/other.pem"
expect_exit 1 "$HW" verify --key "$W/k.pem" --bundle "$W/a.json" --log-key "$W/other.pem" "$W/a"
grep -q "no entry of the signing log" "$T/last.err" || fail "other log key: $(cat "$T/last.err")"
pass "tampered proof, index, body, a moved entry, a changed checkpoint and another log key are refused"

# A stock verifier must be told about the log: with an empty trusted root it refuses an entry
# it cannot check, and accepts a --no-log-entry bundle.
"$HW" sign --key k --bundle "$W/n.json" --no-log-entry "$W/a" > /dev/null
[ "$(jget "$W/n.json" 'len(d["verificationMaterial"]["tlogEntries"])')" = 0 ] ||
    fail "--no-log-entry wrote an entry"
expect_exit 1 "$HW" verify --key "$W/k.pem" --bundle "$W/n.json" --log-key "$W/log.pem" "$W/a"
if [ -n "$SJS" ]; then
    echo '{"certificateAuthorities":[],"timestampAuthorities":[],"tlogs":[],"ctlogs":[]}' > "$W/empty.json"
    cp "$W/root.json" "$W/root.save"; cp "$W/empty.json" "$W/root.json"
    TLOG=0 sjs rejects "$W/k.pem" "$W/a.json" "$W/a"
    TLOG=0 sjs accepts "$W/k.pem" "$W/n.json" "$W/a"
    cp "$W/root.save" "$W/root.json"
    sjs rejects "$W/k.pem" "$W/n.json" "$W/a" # threshold 1 and no entry
fi
pass "--no-log-entry: no entry; stock verifiers need the log in their trusted root"

# ---- an agent without a log key: bundles without entries, with a warning ----
it_stop_agent
sed -i '/^log-key = /d' "$T/agent.conf"
it_start_agent
"$HW" sign --key k --bundle "$W/c.json" "$W/a" > /dev/null 2> "$W/c.err" ||
    fail "sign --bundle without a log key: $(cat "$W/c.err")"
grep -q "no inclusion proof for log record" "$W/c.err" || fail "no warning: $(cat "$W/c.err")"
[ "$(jget "$W/c.json" 'len(d["verificationMaterial"]["tlogEntries"])')" = 0 ] ||
    fail "entry without a log key"
expect_exit 0 "$HW" verify --key "$W/k.pem" --bundle "$W/c.json" "$W/a"
pass "without a log key: the bundle is written without an entry, with a warning"
