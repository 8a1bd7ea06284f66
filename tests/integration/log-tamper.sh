#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The signing log's tamper evidence, without the agent: test-mklog writes a valid log of N
# records; this script damages copies of it and checks `hwsign log verify` (exit 1 naming the
# record and offset for flips in every record region, deletions, duplicates, swaps; torn tails
# reported but exit 0; rollback and rewritten history caught against a saved checkpoint) and
# `hwsign log search` filters. The Merkle root printed by the CLI is checked against an
# independent RFC 6962 computation in Python.
set -euo pipefail

: "${HWSIGN_BUILD:?HWSIGN_BUILD must name the build directory}"
HW=${HWSIGN_CLI:-$HWSIGN_BUILD/cli/hwsign}
MKLOG=${MKLOG:-$HWSIGN_BUILD/tests/integration/test-mklog}
PY=${PY:-/usr/bin/python3}
export IT_DIR; IT_DIR=$(cd "$(dirname "$0")" && pwd) # logentry.py: leaves per docs/log.md
[ -x "$HW" ] || { echo "FAIL: no CLI at $HW" >&2; exit 1; }
[ -x "$MKLOG" ] || { echo "FAIL: no test-mklog at $MKLOG (is tests/integration/log.cmake included?)" >&2; exit 1; }

T=$(mktemp -d /tmp/hwsign-logtamper.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; echo "--- stdout:" >&2; cat "$T/out" >&2 || true; echo "--- stderr:" >&2; cat "$T/err" >&2 || true; exit 1; }
pass() { echo "ok: $*"; }

N=40
"$MKLOG" "$T/full" $N > "$T/offsets"
off() { awk -v i="$1" '$1 == i { print $2 }' "$T/offsets"; }
size() { awk -v i="$1" '$1 == i { print $3 }' "$T/offsets"; }

# run CMD... : sets rc, output in $T/out and $T/err
run() { set +e; "$@" > "$T/out" 2> "$T/err"; rc=$?; set -e; }
expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit $rc, want $1"; }
expect_err() { grep -qF -- "$1" "$T/err" || fail "$2: stderr lacks '$1'"; }
expect_out() { grep -qF -- "$1" "$T/out" || fail "$2: stdout lacks '$1'"; }

# Byte surgery: flip FILE OFFSET MASK | cut FILE SIZE | splice SRC DST IDX... | rechain ...
surgery() {
    "$PY" - "$@" <<'PYEOF'
import hashlib, os, struct, sys
op, args = sys.argv[1], sys.argv[2:]
def records(d):
    out, off = [], 8
    while off < len(d):
        n = struct.unpack(">I", d[off:off + 4])[0]
        out.append(d[off:off + 4 + n + 32])
        off += 4 + n + 32
    return out
if op == "flip":
    p, o, m = args[0], int(args[1]), int(args[2], 0)
    d = bytearray(open(p, "rb").read()); d[o] ^= m; open(p, "wb").write(d)
elif op == "splice":            # splice SRC DST i j k ...: DST = magic + records i, j, k...
    d = open(args[0], "rb").read(); rs = records(d)
    open(args[1], "wb").write(d[:8] + b"".join(rs[int(i)] for i in args[2:]))
elif op == "rewrite":           # rewrite SRC DST IDX: change record IDX's pid, re-chain all
    d = open(args[0], "rb").read(); rs = records(d); idx = int(args[2])
    prev, out = bytes(32), [d[:8]]
    for i, r in enumerate(rs):
        body = bytearray(r[4:-32])
        if i == idx:
            body[29] ^= 1       # low byte of pid: version1 type1 seq8 time8 uid4 gid4 pid4
        prev = hashlib.sha256(prev + bytes(body)).digest()
        out.append(r[:4] + bytes(body) + prev)
    open(args[1], "wb").write(b"".join(out))
elif op == "root":              # root FILE [N]: RFC 6962 root of the first N records, base64
    import base64
    rs = records(open(args[0], "rb").read())
    if len(args) > 1: rs = rs[:int(args[1])]
    def mth(leaves):
        if not leaves: return hashlib.sha256(b"").digest()
        if len(leaves) == 1: return leaves[0]
        k = 1
        while k * 2 < len(leaves): k *= 2
        return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()
    sys.path.insert(0, os.environ["IT_DIR"])
    from logentry import leaf
    print(base64.b64encode(mth([leaf(r[4:-32]) for r in rs])).decode())
PYEOF
}

# ---- intact log ----
run "$HW" log verify --log "$T/full"
expect_rc 0 "intact log"
expect_out "records: $N" "intact log"
expect_out "last seq: $((N - 1))" "intact log"
expect_out "Log verified OK" "intact log"
ROOT=$(awk '$1 == "root:" { print $2 }' "$T/out")
[ "$ROOT" = "$(surgery root "$T/full")" ] || fail "CLI root $ROOT differs from the RFC 6962 reference"
run "$HW" log verify --log "$T/full" --json
expect_rc 0 "intact log --json"
"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["ok"] and j["records"]==int(sys.argv[2]) and j["last_seq"]==int(sys.argv[2])-1 and j["root"]==sys.argv[3] and not j["torn"], j' \
    "$T/out" $N "$ROOT" || fail "verify --json fields"
run "$HW" log verify --log "$T/full" --expect-size $N --expect-root "$ROOT"
expect_rc 0 "intact log against its own checkpoint"
mkdir -p "$T/state/log" && cp "$T/full" "$T/state/log/records"
run "$HW" log verify --state-dir "$T/state"
expect_rc 0 "--state-dir"
pass "intact log: $N records, root $ROOT (matches the Python reference)"

# ---- single byte flips in every region of many records ----
flips=0
for i in 0 1 2 13 20 29 38; do
    o=$(off "$i"); s=$(size "$i")
    # length (high and low byte), version, type, seq, time, key area, body end, chain start/end
    for rel in 0 1 3 4 5 12 20 40 60 $((s - 33)) $((s - 32)) $((s - 17)) $((s - 1)); do
        for mask in 0x01 0x80; do
            cp "$T/full" "$T/f"
            surgery flip "$T/f" $((o + rel)) $mask
            run "$HW" log verify --log "$T/f"
            expect_rc 1 "flip $mask at record $i +$rel"
            expect_err "record $i at offset $o is damaged" "flip $mask at record $i +$rel"
            flips=$((flips + 1))
        done
    done
done
pass "$flips single-byte flips in length, body and chain of 7 records: exit 1 naming the record"

# A flip in the last record cannot be told from a torn final write: reported, exit 0; the
# saved checkpoint catches it.
last=$((N - 1)); o=$(off $last)
cp "$T/full" "$T/f"; surgery flip "$T/f" $((o + 30)) 0x01
run "$HW" log verify --log "$T/f"
expect_rc 0 "flip in the last record"
expect_err "torn final record at offset $o" "flip in the last record"
run "$HW" log verify --log "$T/f" --expect-size $N --expect-root "$ROOT"
expect_rc 1 "flip in the last record vs checkpoint"
expect_err "rollback" "flip in the last record vs checkpoint"
pass "flip in the last record: torn tail without checkpoint, exit 1 with it"

# ---- deleted, duplicated, swapped records ----
all=$(seq 0 $last)
surgery splice "$T/full" "$T/f" $(echo "$all" | grep -vx 5)
run "$HW" log verify --log "$T/f"
expect_rc 1 "deleted record 5"
expect_err "record 5 at offset $(off 5) is damaged" "deleted record 5"
surgery splice "$T/full" "$T/f" $(echo "$all" | sed '/^7$/p')
run "$HW" log verify --log "$T/f"
expect_rc 1 "duplicated record 7"
expect_err "record 8 at offset $(off 8) is damaged" "duplicated record 7"
surgery splice "$T/full" "$T/f" $(echo "$all" | sed 's/^10$/X/; s/^11$/10/; s/^X$/11/')
run "$HW" log verify --log "$T/f"
expect_rc 1 "swapped records 10 and 11"
expect_err "record 10 at offset $(off 10) is damaged" "swapped records 10 and 11"
surgery splice "$T/full" "$T/f" $(echo "$all" | grep -vx 0)
run "$HW" log verify --log "$T/f"
expect_rc 1 "deleted first record"
expect_err "record 0 at offset 8 is damaged" "deleted first record"
pass "deleted, duplicated, swapped records: exit 1 naming the first bad record"

# ---- truncation ----
head -c "$(off 30)" "$T/full" > "$T/f"
run "$HW" log verify --log "$T/f"
expect_rc 0 "truncated at a record boundary (no checkpoint)"
expect_out "records: 30" "truncated at a record boundary"
run "$HW" log verify --log "$T/f" --expect-size $N --expect-root "$ROOT"
expect_rc 1 "truncated at a record boundary vs checkpoint"
expect_err "log is shorter than the saved checkpoint (rollback?)" "truncation vs checkpoint"
head -c "$(($(off $last) + 50))" "$T/full" > "$T/f"
run "$HW" log verify --log "$T/f"
expect_rc 0 "truncated mid-record"
expect_out "torn final record at offset $(off $last)" "truncated mid-record"
expect_out "records: $last" "truncated mid-record"
run "$HW" log verify --log "$T/f" --strict
expect_rc 1 "truncated mid-record --strict"
run "$HW" log verify --log "$T/f" --json
"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["ok"] and j["torn"] and j["torn_offset"]==int(sys.argv[2]), j' \
    "$T/out" "$(off $last)" || fail "torn tail --json"
{ cat "$T/full"; head -c 4096 /dev/zero; } > "$T/f"
run "$HW" log verify --log "$T/f"
expect_rc 0 "zero-filled tail"
expect_out "records: $N" "zero-filled tail"
expect_out "torn final record at offset $(stat -c %s "$T/full")" "zero-filled tail"
head -c 5 "$T/full" > "$T/f"
run "$HW" log verify --log "$T/f"
expect_rc 1 "truncated magic"
printf 'HWSLOG1\n' > "$T/f"; tail -c +9 "$T/full" >> "$T/f"
run "$HW" log verify --log "$T/f"
expect_rc 1 "wrong magic"
expect_err "bad magic" "wrong magic"
pass "truncation: boundary verifies alone but is a rollback vs the checkpoint; torn tails reported"

# ---- rollback to an older copy; rewritten history ----
"$MKLOG" "$T/old" 25 > /dev/null
run "$HW" log verify --log "$T/old"
expect_rc 0 "older copy alone"
OLDROOT=$(awk '$1 == "root:" { print $2 }' "$T/out")
[ "$OLDROOT" = "$(surgery root "$T/full" 25)" ] || fail "root of the first 25 records"
run "$HW" log verify --log "$T/old" --expect-size $N --expect-root "$ROOT"
expect_rc 1 "rollback to an older copy"
expect_err "rollback" "rollback to an older copy"
run "$HW" log verify --log "$T/full" --expect-size 25 --expect-root "$OLDROOT"
expect_rc 0 "the longer log extends the older checkpoint"
surgery rewrite "$T/full" "$T/f" 3
run "$HW" log verify --log "$T/f"
expect_rc 0 "rewritten history with a recomputed chain verifies on its own"
run "$HW" log verify --log "$T/f" --expect-size 25 --expect-root "$OLDROOT"
expect_rc 1 "rewritten history vs checkpoint"
expect_err "do not hash to the saved checkpoint root" "rewritten history vs checkpoint"
run "$HW" log verify --log "$T/full" --expect-size $N --expect-root "AAAA"
expect_rc 2 "bad --expect-root"
run "$HW" log verify --log "$T/full" --expect-size $N
expect_rc 2 "--expect-size alone"
pass "rollback to an older copy and rewritten history: exit 1 against the saved checkpoint"

# ---- search ----
count() { "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(len(j["records"]))' "$T/out"; }
seqs() { "$PY" -c 'import json,sys; print(" ".join(str(r["seq"]) for r in json.load(open(sys.argv[1]))["records"]))' "$T/out"; }
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
search() { run "$HW" log search --log "$T/full" --json "$@"; expect_rc 0 "search $*"; }
search;                                  [ "$(count)" = $N ] || fail "search all: $(count)"
search --key release;                    [ "$(count)" = 20 ] || fail "search --key: $(count)"
search --uid 1001;                       [ "$(count)" = 13 ] || fail "search --uid: $(count)"
search --key release --uid 1000;         [ "$(seqs)" = "3 9 15 21 27 33 39" ] || fail "key+uid: $(seqs)"
search --subject "$(sha subject-5-1)";   [ "$(seqs)" = "5" ] || fail "search --subject: $(seqs)"
search --subject "$(sha artifact-4)";    [ "$(seqs)" = "4" ] || fail "search --subject digest: $(seqs)"
search --subject "$(sha nothing)";       [ "$(count)" = 0 ] || fail "search no match: $(count)"
search --since 2026-11-25T20:10:00Z --until 2026-11-25T20:19:00Z
[ "$(seqs)" = "$(seq -s ' ' 10 19)" ] || fail "since/until RFC 3339: $(seqs)"
search --since $((1795636800 + 600)) --until $((1795636800 + 1140))
[ "$(count)" = 10 ] || fail "since/until unix seconds: $(count)"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["records"][0]; assert r["time"]=="2026-11-25T20:10:00Z" and r["key"]=="nightly" and r["uid"]==1001 and r["pid"]==3010 and r["exe"]=="/usr/bin/cosign" and r["unit"]=="ci-runner.service" and r["request"]=="digest", r' \
    "$T/out" || fail "search record fields"
search --subject "$(sha subject-5-1)"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["records"][0]; assert r["request"]=="statement" and r["predicate_type"]=="https://slsa.dev/provenance/v1" and [s["name"] for s in r["subjects"]]==["dist/app-5-0.tar.gz","dist/app-5-1.tar.gz"], r' \
    "$T/out" || fail "search statement fields"
run "$HW" log search --log "$T/full" --key release
expect_rc 0 "search human output"
expect_out "seq 39  2026-11-25T20:39:00Z  key release" "search human output"
cp "$T/full" "$T/f"; surgery flip "$T/f" $(($(off 12) + 40)) 0x01
run "$HW" log search --log "$T/f" --json
expect_rc 1 "search on a damaged log"
expect_err "record 12 at offset $(off 12) is damaged" "search on a damaged log"
[ "$(count)" = 12 ] || fail "search on a damaged log lists $(count) records, want 12"
run "$HW" log search --log "$T/full" --since yesterday
expect_rc 2 "search --since garbage"
run "$HW" log search --log "$T/full" --subject abcd
expect_rc 2 "search --subject short"
run "$HW" log search --log "$T/nonexistent"
expect_rc 4 "search missing file"
run "$HW" log frobnicate
expect_rc 2 "unknown log subcommand"
run "$HW" log verify --help
expect_rc 0 "log verify --help"
pass "search filters (key, uid, subject, since/until), stop at damage, usage errors"
# ---- inclusion and consistency proofs (RFC 6962), re-verified by an independent RFC 9162
# verifier in Python that computes leaf hashes and roots from the file itself ----
rfc9162() {
    "$PY" - "$@" <<'PYEOF'
import base64, hashlib, json, os, struct, sys
def records(d):
    out, off = [], 8
    while off < len(d):
        n = struct.unpack(">I", d[off:off + 4])[0]
        out.append(d[off + 4:off + 4 + n]); off += 4 + n + 32
    return out
H = lambda b: hashlib.sha256(b).digest()
node = lambda l, r: H(b"\x01" + l + r)
def mth(ls):
    if not ls: return H(b"")
    if len(ls) == 1: return ls[0]
    k = 1
    while k * 2 < len(ls): k *= 2
    return node(mth(ls[:k]), mth(ls[k:]))
def verify_inclusion(i, n, leaf, proof, root):           # RFC 9162 2.1.3.2
    if i >= n or any(len(p) != 32 for p in proof): return False
    fn, sn, r = i, n - 1, leaf
    for p in proof:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0): fn >>= 1; sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1; sn >>= 1
    return sn == 0 and r == root
def verify_consistency(m, n, r1, r2, proof):            # RFC 9162 2.1.4.2
    if m > n or m == 0: return False
    if m == n: return not proof and r1 == r2
    if not proof: return False
    if m & (m - 1) == 0: proof = [r1] + proof
    fn, sn = m - 1, n - 1
    while fn & 1: fn >>= 1; sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0): fn >>= 1; sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1; sn >>= 1
    return fr == r1 and sr == r2 and sn == 0
sys.path.insert(0, os.environ["IT_DIR"])
from logentry import leaf                                # docs/log.md, read independently
leaves = [leaf(b) for b in records(open(sys.argv[1], "rb").read())]
b64 = lambda s: base64.b64decode(s, validate=True)
for path in sys.argv[2:]:
    j = json.load(open(path))
    assert j["ok"], path
    proof = [b64(p) for p in j["proof"]]
    if "index" in j:
        i, n = j["index"], j["size"]
        assert b64(j["leaf_hash"]) == leaves[i] and b64(j["root"]) == mth(leaves[:n]), path
        assert verify_inclusion(i, n, leaves[i], proof, mth(leaves[:n])), path
        # a proof must not verify for a neighbouring leaf, nor with a flipped hash
        assert not verify_inclusion(i, n, leaves[(i + 1) % len(leaves)], proof, mth(leaves[:n])) or n == 1, path
        assert not proof or not verify_inclusion(i, n, leaves[i], [bytes([proof[0][0] ^ 1]) + proof[0][1:]] + proof[1:], mth(leaves[:n])), path
    else:
        m, n = j["old_size"], j["new_size"]
        r1, r2 = mth(leaves[:m]), mth(leaves[:n])
        assert b64(j["old_root"]) == r1 and b64(j["new_root"]) == r2, path
        assert verify_consistency(m, n, r1, r2, proof), path
        assert m == n or not verify_consistency(m, n, r1, H(b"x"), proof), path
print(len(sys.argv) - 2)
PYEOF
}
"$MKLOG" "$T/l7" 7 > /dev/null
proofs=()
for n in 1 2 3 4 5 6 7; do
    for ((i = 0; i < n; i++)); do
        run "$HW" log proof $i --size $n --log "$T/l7"
        expect_rc 0 "proof $i --size $n"
        expect_out "Inclusion proof verified OK" "proof $i --size $n"
        run "$HW" log proof $i --size $n --log "$T/l7" --json
        expect_rc 0 "proof $i --size $n --json"
        cp "$T/out" "$T/p-$i-$n.json"; proofs+=("$T/p-$i-$n.json")
    done
    for ((m = 1; m <= n; m++)); do
        run "$HW" log consistency $m $n --log "$T/l7"
        expect_rc 0 "consistency $m $n"
        expect_out "Consistency proof verified OK" "consistency $m $n"
        run "$HW" log consistency $m $n --log "$T/l7" --json
        expect_rc 0 "consistency $m $n --json"
        cp "$T/out" "$T/c-$m-$n.json"; proofs+=("$T/c-$m-$n.json")
    done
done
checked=$(rfc9162 "$T/l7" "${proofs[@]}") || fail "the Python RFC 9162 verifier rejects a proof"
[ "$checked" = 56 ] || fail "Python checked $checked proofs, want 56"
run "$HW" log proof 6 --log "$T/l7" --json
expect_rc 0 "proof without --size"
"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["size"]==7 and j["index"]==6, j' "$T/out" \
    || fail "proof without --size uses every record"
run "$HW" log proof 7 --log "$T/l7"
expect_rc 1 "proof of a record past the end"
expect_err "no record 7" "proof of a record past the end"
run "$HW" log proof 2 --size 8 --log "$T/l7"
expect_rc 1 "proof for a size past the end"
run "$HW" log consistency 3 8 --log "$T/l7"
expect_rc 1 "consistency to a size past the end"
cp "$T/l7" "$T/f"; surgery flip "$T/f" $((8 + 40)) 0x01
run "$HW" log proof 5 --log "$T/f"
expect_rc 1 "proof from a tampered log"
expect_err "record 0 at offset 8 is damaged" "proof from a tampered log"
expect_err "no proof from a log that does not verify" "proof from a tampered log"
run "$HW" log consistency 2 6 --log "$T/f" --json
expect_rc 1 "consistency from a tampered log"
[ ! -s "$T/out" ] || fail "consistency from a tampered log printed a proof"
for bad in "proof" "proof x" "proof 1 2" "proof 3 --size 3" "proof 1 --size 0" "consistency 3" \
    "consistency 0 3" "consistency 4 3" "consistency 1 2 3"; do
    run "$HW" log $bad --log "$T/l7"
    expect_rc 2 "log $bad"
    [ "$(wc -l < "$T/err")" = 1 ] || fail "log $bad: not one line on stderr"
done
pass "inclusion proofs of every leaf and consistency proofs of every (m <= n) in a 7-record log self-verify and verify in Python; tampered log refused"

# ---- a signed checkpoint (C2SP note, ECDSA P-256 type 0x02) made with openssl ----
# mkcheckpoint KEY SIZE ROOT OUT [ORIGIN]: note text "origin\nsize\nroot\n", blank line,
# "— origin base64(SHA-256(DER SPKI)[:4] || DER ECDSA over SHA-256(text))".
mkcheckpoint() {
    local key=$1 size=$2 root=$3 out=$4 origin=${5:-hwsign/testhost}
    printf '%s\n%s\n%s\n' "$origin" "$size" "$root" > "$T/cp.txt"
    openssl pkey -in "$key" -pubout -outform DER -out "$T/cp.spki" 2>/dev/null
    openssl dgst -sha256 -sign "$key" -out "$T/cp.sig" "$T/cp.txt"
    { head -c 4 <(openssl dgst -sha256 -binary "$T/cp.spki"); cat "$T/cp.sig"; } > "$T/cp.bin"
    { cat "$T/cp.txt"; printf '\n\xe2\x80\x94 %s %s\n' "$origin" "$(base64 -w0 "$T/cp.bin")"; } > "$out"
}
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/logkey.pem" 2>/dev/null
openssl pkey -in "$T/logkey.pem" -pubout -out "$T/logpub.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/otherkey.pem" 2>/dev/null
openssl pkey -in "$T/otherkey.pem" -pubout -out "$T/otherpub.pem"
mkcheckpoint "$T/logkey.pem" $N "$ROOT" "$T/cp$N"
mkcheckpoint "$T/logkey.pem" 25 "$OLDROOT" "$T/cp25"
run "$HW" log verify --log "$T/full" --checkpoint "$T/cp$N" --log-key "$T/logpub.pem"
expect_rc 0 "log vs its signed checkpoint"
expect_out "checkpoint: hwsign/testhost signed by the log key" "log vs its signed checkpoint"
expect_out "checkpoint: the first $N records match" "log vs its signed checkpoint"
run "$HW" log verify --log "$T/full" --checkpoint "$T/cp25" --log-key "$T/logpub.pem" --json
expect_rc 0 "longer log vs an older signed checkpoint"
"$PY" -c 'import json,sys; c=json.load(open(sys.argv[1]))["checkpoint"]; assert c["ok"] and c["size"]==25 and c["origin"]=="hwsign/testhost", c' \
    "$T/out" || fail "signed checkpoint --json"
run "$HW" log verify --log "$T/old" --checkpoint "$T/cp$N" --log-key "$T/logpub.pem"
expect_rc 1 "rollback vs a signed checkpoint"
expect_err "log is shorter than the saved checkpoint (rollback?)" "rollback vs a signed checkpoint"
surgery rewrite "$T/full" "$T/f" 3
run "$HW" log verify --log "$T/f" --checkpoint "$T/cp$N" --log-key "$T/logpub.pem"
expect_rc 1 "rewritten record vs a signed checkpoint"
expect_err "do not hash to the saved checkpoint root" "rewritten record vs a signed checkpoint"
run "$HW" log verify --log "$T/full" --checkpoint "$T/cp$N" --log-key "$T/otherpub.pem"
expect_rc 1 "signed checkpoint vs another key"
expect_err "has no signature by the log key" "signed checkpoint vs another key"
sed "2s/.*/$((N - 1))/" "$T/cp$N" > "$T/cpbad"   # the signed size changed after signing
run "$HW" log verify --log "$T/full" --checkpoint "$T/cpbad" --log-key "$T/logpub.pem"
expect_rc 1 "altered signed checkpoint"
expect_err "does not verify" "altered signed checkpoint"
mkcheckpoint "$T/otherkey.pem" $N "$ROOT" "$T/cpother" hwsign/testhost
run "$HW" log verify --log "$T/full" --checkpoint "$T/cpother" --log-key "$T/logpub.pem"
expect_rc 1 "checkpoint signed by another key"
head -n 3 "$T/cp$N" > "$T/cpbad"
run "$HW" log verify --log "$T/full" --checkpoint "$T/cpbad" --log-key "$T/logpub.pem"
expect_rc 1 "unsigned checkpoint text"
expect_err "is not a signed note" "unsigned checkpoint text"
run "$HW" log verify --log "$T/full" --checkpoint "$T/cp$N"
expect_rc 2 "--checkpoint without --log-key"
run "$HW" log verify --log "$T/full" --checkpoint "$T/cp$N" --log-key "$T/logpub.pem" --expect-size 1 --expect-root "$ROOT"
expect_rc 2 "--checkpoint with --expect-*"
run "$HW" log verify --log "$T/full" --checkpoint "$T/nonexistent" --log-key "$T/logpub.pem"
expect_rc 4 "missing checkpoint file"
pass "signed checkpoint (openssl-made C2SP note): verifies, catches rollback, rewritten record, wrong key, altered note"

# ---- verify-proof: a proof against the signed checkpoint, without the log ----
run "$HW" log proof 17 --size $N --log "$T/full" --json
expect_rc 0 "proof 17 for the checkpoint"
cp "$T/out" "$T/p17.json"
LEAF17=$("$PY" -c 'import json,sys,base64; print(base64.b64decode(json.load(open(sys.argv[1]))["leaf_hash"]).hex())' "$T/p17.json")
vp() { run "$HW" log verify-proof --log-key "$T/logpub.pem" --checkpoint "$T/cp$N" "$@"; }
vp --index 17 --leaf-hash "$LEAF17" --proof "$T/p17.json"
expect_rc 0 "verify-proof"
expect_out "Inclusion proof verified OK" "verify-proof"
vp --index 16 --leaf-hash "$LEAF17" --proof "$T/p17.json"
expect_rc 1 "verify-proof with another index"
vp --index 17 --leaf-hash "$(sha other)" --proof "$T/p17.json"
expect_rc 1 "verify-proof with another leaf"
"$HW" log proof 17 --size 30 --log "$T/full" --json > "$T/p17-30.json"
vp --index 17 --leaf-hash "$LEAF17" --proof "$T/p17-30.json"
expect_rc 1 "verify-proof with a proof for another size"
run "$HW" log verify-proof --log-key "$T/otherpub.pem" --checkpoint "$T/cp$N" --index 17 --leaf-hash "$LEAF17" --proof "$T/p17.json"
expect_rc 1 "verify-proof with another log key"
vp --index 17 --proof "$T/p17.json"
expect_rc 2 "verify-proof without --leaf-hash"
pass "verify-proof: a record's proof checks against the signed checkpoint offline"
echo "all log-tamper checks passed"
