#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Signed checkpoints of the signing log: issued every N records and every T seconds by a log
# key in the token; the C2SP note verifies with openssl (key ID = SHA-256(SPKI)[:4], ECDSA DER
# over SHA-256 of the text) and its root is the log's RFC 6962 root; an agent whose log was
# rolled back behind its saved checkpoint refuses to start.
. "$(dirname "$0")/lib.sh"
it_setup it
W=$T/work
cat >> "$T/agent.conf" <<CONF
CONF
sed -i 's|^log-target = stderr|log-target = stderr\nlog-key = logkey\nlog-origin = hwsign.test/it\ncheckpoint-records = 5\ncheckpoint-interval = 1s|' "$T/agent.conf"
it_start_agent
"$HW" key create logkey >/dev/null
"$HW" key export logkey > "$W/logkey.pem"
"$HW" key create k >/dev/null
echo data > "$W/d"
for i in $(seq 12); do "$HW" sign --key k "$W/d" -o "$W/s.sig" >/dev/null; done
CP=$T/state/log/checkpoint
for _ in $(seq 50); do
    [ -f "$CP" ] && [ "$(sed -n 2p "$CP")" = 12 ] && break
    sleep 0.1
done
[ "$(sed -n 2p "$CP" 2>/dev/null)" = 12 ] || fail "no checkpoint covering 12 records: $(cat "$CP" 2>/dev/null)"
[ "$(sed -n 1p "$CP")" = "hwsign.test/it" ] || fail "origin line: $(sed -n 1p "$CP")"

# Independent check: split the note, verify the signature line with openssl.
$PY - "$CP" "$W" <<'PY' || fail "checkpoint note is malformed"
import base64, sys
note = open(sys.argv[1], "rb").read()
text, sep, sigs = note.rpartition(b"\n\n")
text += b"\n"
line = sigs.decode().rstrip("\n").split("\n")[0]
dash, name, b64 = line.split(" ")
assert dash == "\u2014" and name == "hwsign.test/it", line
raw = base64.b64decode(b64)
open(sys.argv[2] + "/cp.text", "wb").write(text)
open(sys.argv[2] + "/cp.keyid", "w").write(raw[:4].hex())
open(sys.argv[2] + "/cp.sig", "wb").write(raw[4:])
PY
openssl dgst -sha256 -verify "$W/logkey.pem" -signature "$W/cp.sig" "$W/cp.text" | grep -q OK \
    || fail "checkpoint signature does not verify with openssl"
openssl pkey -pubin -in "$W/logkey.pem" -outform DER | sha256sum | cut -c1-8 > "$W/want.keyid"
[ "$(cat "$W/cp.keyid")" = "$(cat "$W/want.keyid")" ] || fail "key ID is not SHA-256(SPKI)[:4]"
root=$(sed -n 3p "$CP")
"$HW" log verify --log "$T/state/log/records" --expect-size 12 --expect-root "$root" >/dev/null \
    || fail "the checkpoint root is not the log's root"
grep -q "checkpoint" "$T/agent.log" && ! grep -q "checkpoint.*failed" "$T/agent.log" || true
pass "checkpoints: C2SP note over 12 records, signed by the token key, verified with openssl"

# Every signature response carries its log index; the record there is that signature's.
head -c 1000 /dev/urandom > "$W/blob"
"$HW" sign --key k "$W/blob" -o "$W/blob.sig" --json > "$W/sign.json"
idx=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["log_index"])' "$W/sign.json")
[ "$idx" = 12 ] || fail "log index of the 13th signature is '$idx'"
sha=$(sha256sum "$W/blob" | cut -d' ' -f1)
"$HW" log search --log "$T/state/log/records" --json | $PY -c '
import json,sys; r=[x for x in json.load(sys.stdin)["records"] if x["seq"]==int(sys.argv[1])]
assert len(r)==1 and r[0]["digest"]==sys.argv[2] and r[0]["key"]=="k", r' "$idx" "$sha" \
    || fail "record $idx is not the signature of the file"
"$HW" sign --key k "$W/blob" -o "$W/blob2.sig" | grep -q "Logged as record 13 " || fail "sign does not report its log record"
pass "signature responses carry their log index (record $idx holds the file's digest)"

# On demand: a fresh checkpoint from the live agent, verified with the log key, and an
# inclusion proof of the signature's record against it, checked offline.
"$HW" log checkpoint --new --verify-key "$W/logkey.pem" -o "$W/fresh.note" --json > "$W/cp.json" \
    || fail "hwsign log checkpoint --new"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["size"]==14, d' "$W/cp.json" \
    || fail "fresh checkpoint does not cover all 14 records: $(cat "$W/cp.json")"
"$HW" log proof "$idx" --size 14 --log "$T/state/log/records" --json > "$W/proof.json" || fail "log proof"
leaf=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["leaf_hash"])' "$W/proof.json")
"$HW" log verify-proof --log-key "$W/logkey.pem" --checkpoint "$W/fresh.note" --index "$idx" \
    --leaf-hash "$leaf" --proof "$W/proof.json" >/dev/null || fail "inclusion proof against the agent's checkpoint"
"$HW" log verify --log "$T/state/log/records" --checkpoint "$W/fresh.note" --log-key "$W/logkey.pem" \
    >/dev/null || fail "log verify against the agent's signed checkpoint"
pass "fresh checkpoint from the agent; inclusion of record $idx proven offline against it"

# Rollback: an older copy of the log behind the saved checkpoint is refused at start.
it_stop_agent || fail "agent did not stop cleanly"
$PY - "$T/state/log/records" <<'PY'
import struct, sys
p = sys.argv[1]; d = open(p, "rb").read(); off = 8
for _ in range(6):                      # keep the first 6 records only
    (n,) = struct.unpack(">I", d[off:off + 4]); off += 4 + n + 32
open(p, "wb").write(d[:off])
PY
rc=0; "$AGENT_BIN" --config "$T/agent.conf" > "$W/rollback.log" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "agent started on a log rolled back behind its checkpoint"
grep -q "rolled back" "$W/rollback.log" || fail "message: $(cat "$W/rollback.log")"
pass "log rolled back behind the saved checkpoint: agent refuses to start"
