#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Standard envelopes that stock verifiers accept, end to end on a real agent with a swtpm TPM
# and a SoftHSM2 token:
#   - for a TPM key and a token key (ECDSA P-256): `hwsign sign --bundle` (messageSignature)
#     and `hwsign attest-blob` (in-toto Statement v1 in a dsseEnvelope bundle) verify with
#     `hwsign verify --bundle` and with @sigstore/verify 3.1.1 (offline, key pinned by the
#     hint, thresholds 0: npm/verify-bundle.js); the .sig verifies with `openssl dgst`;
#   - tampering (payload, payloadType, a subject digest inside the payload, signature bytes,
#     wrong key) is rejected by both verifiers; a wrong FILE is rejected by hwsign verify;
#   - bundles and bare DSSE envelopes made by an independent signer (openssl + python stdlib)
#     verify with `hwsign verify --bundle`;
#   - key policy: allow-predicate-types and allow-digests = no;
#   - the --json outputs parse.
# Without node/npm (or the pinned packages) the sigstore-js checks are skipped with a notice,
# unless HWSIGN_REQUIRE_INTEROP=1 (tests/run.sh), which makes that a failure.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
it_setup it
it_start_swtpm
W=$T/work
it_write_config "[tpm]
tcti = $TCTI

[key \"slsa\"]
allow-predicate-types = https://slsa.dev/provenance/v1

[key \"stmt\"]
allow-digests = no"
it_start_agent

. "$HERE/npm/setup.sh"
SJS=""
if npm_interop_install "$HWSIGN_BUILD"; then
    SJS=1
elif [ "${HWSIGN_REQUIRE_INTEROP:-0}" = 1 ]; then
    fail "sigstore-js unavailable: $NPM_INTEROP_ERR"
else
    echo "NOTICE: sigstore-js checks skipped: $NPM_INTEROP_ERR"
fi
# sjs_accepts PUB BUNDLE [ARTIFACT] / sjs_rejects PUB BUNDLE [ARTIFACT]
sjs_accepts() {
    [ -n "$SJS" ] || return 0
    npm_interop_node "$HERE/npm/verify-bundle.js" "$@" > "$T/sjs.out" 2>&1 ||
        fail "@sigstore/verify rejects $2: $(cat "$T/sjs.out")"
}
sjs_rejects() {
    [ -n "$SJS" ] || return 0
    if npm_interop_node "$HERE/npm/verify-bundle.js" "$@" > "$T/sjs.out" 2>&1; then
        fail "@sigstore/verify accepts $2: $(cat "$T/sjs.out")"
    fi
    grep -q '^REJECTED ' "$T/sjs.out" || fail "@sigstore/verify on $2: $(cat "$T/sjs.out")"
}
jcheck() { # jcheck FILE PYTHON-EXPR: FILE parses as JSON and EXPR (over d) holds
    $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$1" "$2" || fail "JSON in $1 fails '$2': $(head -c 600 "$1")"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

# Variants of a bundle for the tamper tests (python stdlib only). msg: sig; dsse: payload,
# payloadType, digest (a subject's sha256 inside the payload), sig; both: hint (the other key's
# hint, so a hint-pinning verifier picks the other key and must fail on the signature).
cat > "$T/tamper.py" <<'PY'
import base64, json, sys
src, out, other_hint = sys.argv[1], sys.argv[2], sys.argv[3]
b = json.load(open(src))
def flip(s):
    d = bytearray(base64.b64decode(s)); d[-1] ^= 1
    return base64.b64encode(bytes(d)).decode()
def dump(name, v):
    json.dump(v, open(f"{out}.{name}.json", "w"), separators=(",", ":"))
v = json.loads(json.dumps(b)); v["verificationMaterial"]["publicKey"]["hint"] = other_hint
dump("hint", v)
if "messageSignature" in b:
    v = json.loads(json.dumps(b)); v["messageSignature"]["signature"] = flip(v["messageSignature"]["signature"])
    dump("sig", v)
else:
    env = b["dsseEnvelope"]
    st = json.loads(base64.b64decode(env["payload"]))
    def with_statement(f):
        s = json.loads(json.dumps(st)); f(s)
        v = json.loads(json.dumps(b))
        v["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(s, separators=(",", ":")).encode()).decode()
        return v
    dump("payload", with_statement(lambda s: s["predicate"].update({"evil": True})))
    def bad_digest(s):
        d = s["subject"][0]["digest"]["sha256"]
        s["subject"][0]["digest"]["sha256"] = ("0" if d[0] != "0" else "1") + d[1:]
    dump("digest", with_statement(bad_digest))
    v = json.loads(json.dumps(b)); v["dsseEnvelope"]["payloadType"] = "application/vnd.in-toto.other+json"
    dump("payloadType", v)
    v = json.loads(json.dumps(b)); v["dsseEnvelope"]["signatures"][0]["sig"] = flip(env["signatures"][0]["sig"])
    dump("sig", v)
PY

head -c 200000 /dev/urandom > "$W/blob"
printf 'second artifact\n' > "$W/notes.txt"
printf 'not attested\n' > "$W/other.bin"
cat > "$W/pred.json" <<'JSON'
{"buildDefinition": {"buildType": "https://example.com/build/v1", "externalParameters": {}},
 "runDetails": {"builder": {"id": "https://example.com/builder"}}}
JSON
openssl ecparam -name prime256v1 -genkey -noout -out "$W/other.key" 2>/dev/null
openssl pkey -in "$W/other.key" -pubout -out "$W/other.pem"
other_hint=$(openssl pkey -pubin -in "$W/other.pem" -outform DER | sha256sum | cut -d' ' -f1)

"$HW" key create tk --backend tpm --alg ecdsa-p256 >/dev/null || fail "TPM key create"
"$HW" key create pk --backend it --alg ecdsa-p256 >/dev/null || fail "token key create"
"$HW" key create slsa --backend it >/dev/null || fail "key create slsa"
"$HW" key create stmt --backend tpm >/dev/null || fail "key create stmt"

for k in tk pk; do
    "$HW" key export "$k" > "$W/$k.pem"
    hint=$(openssl pkey -pubin -in "$W/$k.pem" -outform DER | sha256sum | cut -d' ' -f1)

    # sign: .sig and bundle together; the .sig is the cosign/openssl format.
    "$HW" sign --key "$k" --bundle "$W/$k.msg.json" -o "$W/$k.sig" --json "$W/blob" \
        > "$W/$k.sign.out" || fail "$k: sign --bundle -o"
    jcheck "$W/$k.sign.out" "d['bundle_file']=='$W/$k.msg.json' and d['signature_file']=='$W/$k.sig' and d['sha256']=='$(sha "$W/blob")'"
    base64 -d "$W/$k.sig" > "$W/$k.der"
    openssl dgst -sha256 -verify "$W/$k.pem" -signature "$W/$k.der" "$W/blob" | grep -q 'Verified OK' \
        || fail "$k: openssl rejects the .sig"
    jcheck "$W/$k.msg.json" "d['mediaType']=='application/vnd.dev.sigstore.bundle.v0.3+json' and d['verificationMaterial']['publicKey']['hint']=='$hint' and d['messageSignature']['messageDigest']['algorithm']=='SHA2_256'"
    $PY -c 'import base64,json,sys; d=json.load(open(sys.argv[1])); assert base64.b64decode(d["messageSignature"]["signature"])==open(sys.argv[2],"rb").read()' \
        "$W/$k.msg.json" "$W/$k.der" || fail "$k: bundle and .sig carry different signatures"
    "$HW" verify --key "$W/$k.pem" --bundle "$W/$k.msg.json" "$W/blob" > "$W/out" || fail "$k: hwsign verify msg bundle"
    grep -qx 'Verified OK' "$W/out" || fail "$k: verify output $(cat "$W/out")"
    sjs_accepts "$W/$k.pem" "$W/$k.msg.json" "$W/blob"
    # --bundle alone writes no .sig.
    cp "$W/blob" "$W/$k.only"
    "$HW" sign --key "$k" --bundle "$W/$k.only.json" "$W/$k.only" >/dev/null || fail "$k: sign --bundle"
    [ -e "$W/$k.only.sig" ] && fail "$k: sign --bundle alone wrote a .sig"
    "$HW" verify --key "$W/$k.pem" --bundle "$W/$k.only.json" "$W/$k.only" >/dev/null \
        || fail "$k: verify of the --bundle-only bundle"
    pass "$k: sign --bundle: .sig (openssl) and messageSignature bundle (hwsign verify, sigstore-js)"

    # attest-blob: two subjects, predicate from a file, and once from stdin.
    "$HW" attest-blob --key "$k" --type https://slsa.dev/provenance/v1 --predicate "$W/pred.json" \
        --subject "$W/blob" --subject "$W/notes.txt" -o "$W/$k.att.json" --json > "$W/$k.att.out" \
        || fail "$k: attest-blob"
    jcheck "$W/$k.att.out" "d['keyid']=='$hint' and d['predicate_type']=='https://slsa.dev/provenance/v1' and [(s['name'],s['sha256']) for s in d['subjects']]==[('blob','$(sha "$W/blob")'),('notes.txt','$(sha "$W/notes.txt")')]"
    jcheck "$W/$k.att.json" "d['verificationMaterial']['publicKey']['hint']=='$hint' and d['dsseEnvelope']['signatures'][0]['keyid']=='$hint' and d['dsseEnvelope']['payloadType']=='application/vnd.in-toto+json'"
    "$HW" verify --key "$W/$k.pem" --bundle "$W/$k.att.json" > "$W/out" || fail "$k: hwsign verify attestation"
    grep -qx 'Verified OK' "$W/out" && grep -qx 'Predicate type: https://slsa.dev/provenance/v1' "$W/out" \
        && grep -qx "Subject: $(sha "$W/blob")  blob" "$W/out" \
        && grep -qx "Subject: $(sha "$W/notes.txt")  notes.txt" "$W/out" \
        || fail "$k: verify does not print the statement: $(cat "$W/out")"
    "$HW" verify --key "$W/$k.pem" --bundle "$W/$k.att.json" "$W/notes.txt" >/dev/null \
        || fail "$k: verify attestation with a subject FILE"
    "$HW" verify --key "$W/$k.pem" --bundle "$W/$k.att.json" --json "$W/blob" > "$W/out" \
        || fail "$k: verify --json"
    jcheck "$W/out" "d['verified'] and d['kind']=='dsseEnvelope' and d['hint_matches_key'] and d['predicate_type']=='https://slsa.dev/provenance/v1' and len(d['subjects'])==2 and d['subjects'][1]['name']=='notes.txt' and d['predicate']['runDetails']['builder']['id']=='https://example.com/builder' and d['error'] is None"
    sjs_accepts "$W/$k.pem" "$W/$k.att.json"
    "$HW" attest-blob -k "$k" -t https://example.com/test/v1 -p - -s "$W/blob" -o "$W/$k.att2.json" \
        < "$W/pred.json" >/dev/null || fail "$k: attest-blob --predicate -"
    "$HW" verify --key "$W/$k.pem" --bundle "$W/$k.att2.json" "$W/blob" >/dev/null \
        || fail "$k: verify of the stdin-predicate attestation"
    pass "$k: attest-blob: dsseEnvelope bundle verifies (hwsign verify prints subjects, sigstore-js)"

    # Tampering: both verifiers reject.
    $PY "$T/tamper.py" "$W/$k.msg.json" "$W/$k.msg.t" "$other_hint"
    $PY "$T/tamper.py" "$W/$k.att.json" "$W/$k.att.t" "$other_hint"
    for v in sig; do
        expect_exit 1 "$HW" verify --key "$W/$k.pem" --bundle "$W/$k.msg.t.$v.json" "$W/blob"
        grep -q 'verification failed' "$T/last.err" || fail "$k msg $v: $(cat "$T/last.err")"
        sjs_rejects "$W/$k.pem" "$W/$k.msg.t.$v.json" "$W/blob"
    done
    for v in payload payloadType digest sig; do
        expect_exit 1 "$HW" verify --key "$W/$k.pem" --bundle "$W/$k.att.t.$v.json"
        grep -q 'verification failed: the signature in .* does not verify' "$T/last.err" \
            || fail "$k dsse $v: $(cat "$T/last.err")"
        [ -s "$T/last.out" ] && fail "$k dsse $v: a failed verify printed $(cat "$T/last.out")"
        sjs_rejects "$W/$k.pem" "$W/$k.att.t.$v.json"
    done
    expect_exit 1 "$HW" verify --key "$W/$k.pem" --bundle "$W/$k.att.t.payload.json" --json
    jcheck "$T/last.out" "d['verified'] is False and d['subjects'] is None and 'does not verify' in d['error']"
    # Wrong key: hwsign with the other key; sigstore-js with the other key, by our hint and by its own.
    expect_exit 1 "$HW" verify --key "$W/other.pem" --bundle "$W/$k.msg.json" "$W/blob"
    expect_exit 1 "$HW" verify --key "$W/other.pem" --bundle "$W/$k.att.json"
    for b in msg att; do
        sjs_rejects "$W/other.pem" "$W/$k.$b.json" "$W/blob"
        sjs_rejects "$W/other.pem" "$W/$k.$b.t.hint.json" "$W/blob"
        grep -q SIGNATURE_ERROR "$T/sjs.out" || [ -z "$SJS" ] || fail "$k $b: other key: $(cat "$T/sjs.out")"
    done
    # Wrong FILE: not the messageDigest, not among the subjects.
    expect_exit 1 "$HW" verify --key "$W/$k.pem" --bundle "$W/$k.msg.json" "$W/other.bin"
    grep -q 'other.bin is not the artifact the bundle signs' "$T/last.err" || fail "$k: $(cat "$T/last.err")"
    sjs_rejects "$W/$k.pem" "$W/$k.msg.json" "$W/other.bin"
    expect_exit 1 "$HW" verify --key "$W/$k.pem" --bundle "$W/$k.att.json" "$W/other.bin"
    grep -q 'other.bin is not among the statement' "$T/last.err" || fail "$k: $(cat "$T/last.err")"
    expect_exit 2 "$HW" verify --key "$W/$k.pem" --bundle "$W/$k.msg.json"
    pass "$k: tampered payload/payloadType/subject digest/signature, wrong key, wrong FILE rejected${SJS:+ (also by sigstore-js)}"
done

# ---- the other direction: an independent signer (openssl + python stdlib) ------------------
openssl ecparam -name prime256v1 -genkey -noout -out "$W/ext.key" 2>/dev/null
openssl pkey -in "$W/ext.key" -pubout -out "$W/ext.pem"
ext_hint=$(openssl pkey -pubin -in "$W/ext.pem" -outform DER | sha256sum | cut -d' ' -f1)
cat > "$T/ext.py" <<'PY'
import base64, hashlib, json, subprocess, sys
w, key, hint = sys.argv[1], sys.argv[2], sys.argv[3]
def sign(data):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=data,
                          capture_output=True, check=True).stdout
def b64(b):
    return base64.b64encode(b).decode()
def pae(t, body):
    t = t.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)
art = open(f"{w}/blob", "rb").read()
st = {"_type": "https://in-toto.io/Statement/v1",
      "subject": [{"name": "blob", "digest": {"sha256": hashlib.sha256(art).hexdigest()}}],
      "predicateType": "https://example.com/ext/v1", "predicate": {"signer": "openssl"}}
body = json.dumps(st).encode()  # python's own spacing: hwsign must not re-serialise
ptype = "application/vnd.in-toto+json"
sig = sign(pae(ptype, body))
env = {"payload": b64(body), "payloadType": ptype, "signatures": [{"keyid": hint, "sig": b64(sig)}]}
mt = "application/vnd.dev.sigstore.bundle.v0.3+json"
vm = {"publicKey": {"hint": hint}, "tlogEntries": []}
out = {
    "dsse.bundle": {"mediaType": mt, "verificationMaterial": vm, "dsseEnvelope": env},
    "dsse.legacy": {"mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.2",
                    "verificationMaterial": {"publicKey": {"hint": hint}}, "dsseEnvelope": env},
    "envelope": env,
    # URL-safe unpadded base64, no keyid: DSSE verifiers must accept both.
    "envelope.urlsafe": {"payloadType": ptype, "payload": base64.urlsafe_b64encode(body).decode().rstrip("="),
                         "signatures": [{"sig": base64.urlsafe_b64encode(sig).decode().rstrip("=")}]},
    "msg.bundle": {"mediaType": mt, "verificationMaterial": vm,
                   "messageSignature": {"messageDigest": {"algorithm": "SHA2_256",
                                                          "digest": b64(hashlib.sha256(art).digest())},
                                        "signature": b64(sign(art))}},
}
# A validly signed envelope whose payload is not an in-toto statement.
other = b"hello world"
out["envelope.notintoto"] = {"payload": b64(other), "payloadType": "http://example.com/HelloWorld",
                             "signatures": [{"sig": b64(sign(pae("http://example.com/HelloWorld", other)))}]}
for name, v in out.items():
    json.dump(v, open(f"{w}/ext.{name}.json", "w"))
PY
$PY "$T/ext.py" "$W" "$W/ext.key" "$ext_hint" || fail "independent signer script"
for b in dsse.bundle dsse.legacy envelope envelope.urlsafe; do
    "$HW" verify --key "$W/ext.pem" --bundle "$W/ext.$b.json" "$W/blob" > "$W/out" \
        || fail "hwsign verify rejects the independent $b"
    grep -qx 'Predicate type: https://example.com/ext/v1' "$W/out" \
        && grep -qx "Subject: $(sha "$W/blob")  blob" "$W/out" || fail "independent $b: $(cat "$W/out")"
    expect_exit 1 "$HW" verify --key "$W/other.pem" --bundle "$W/ext.$b.json" "$W/blob"
    expect_exit 1 "$HW" verify --key "$W/ext.pem" --bundle "$W/ext.$b.json" "$W/other.bin"
done
"$HW" verify --key "$W/ext.pem" --bundle "$W/ext.envelope.json" --json > "$W/out" || fail "envelope --json"
jcheck "$W/out" "d['verified'] and d['kind']=='envelope' and d['hint']=='$ext_hint' and d['subjects'][0]['name']=='blob'"
"$HW" verify --key "$W/ext.pem" --bundle "$W/ext.msg.bundle.json" "$W/blob" >/dev/null \
    || fail "hwsign verify rejects the independent messageSignature bundle"
expect_exit 1 "$HW" verify --key "$W/ext.pem" --bundle "$W/ext.msg.bundle.json" "$W/other.bin"
sjs_accepts "$W/ext.pem" "$W/ext.dsse.bundle.json"
sjs_accepts "$W/ext.pem" "$W/ext.msg.bundle.json" "$W/blob"
expect_exit 4 "$HW" verify --key "$W/ext.pem" --bundle "$W/ext.envelope.notintoto.json"
grep -q 'not an in-toto Statement v1' "$T/last.err" || fail "not-in-toto: $(cat "$T/last.err")"
pass "independent bundles and DSSE envelopes (openssl + python) verify; wrong key/FILE rejected"

# ---- policy --------------------------------------------------------------------------------
expect_exit 1 "$HW" attest-blob --key slsa --type https://example.com/other --predicate "$W/pred.json" \
    --subject "$W/blob" -o "$W/slsa.bad.json"
grep -q "may not sign predicate type 'https://example.com/other'" "$T/last.err" \
    || fail "predicate-type refusal message: $(cat "$T/last.err")"
[ "$(wc -l < "$T/last.err")" -eq 1 ] || fail "refusal is not one line: $(cat "$T/last.err")"
[ -e "$W/slsa.bad.json" ] && fail "a refused attestation left a bundle"
"$HW" key export slsa > "$W/slsa.pem"
"$HW" attest-blob --key slsa --type https://slsa.dev/provenance/v1 --predicate "$W/pred.json" \
    --subject "$W/blob" -o "$W/slsa.json" >/dev/null || fail "allowed predicate type refused"
"$HW" verify --key "$W/slsa.pem" --bundle "$W/slsa.json" "$W/blob" >/dev/null || fail "slsa verify"
sjs_accepts "$W/slsa.pem" "$W/slsa.json"
pass "allow-predicate-types: other type refused (exit 1, names the type), allowed type signed"

expect_exit 1 "$HW" sign --key stmt "$W/blob" -o "$W/stmt.sig"
grep -q "may not sign raw digests (allow-digests = no)" "$T/last.err" \
    || fail "allow-digests refusal message: $(cat "$T/last.err")"
expect_exit 1 "$HW" sign --key stmt --bundle "$W/stmt.msg.json" "$W/blob"
[ -e "$W/stmt.sig" ] || [ -e "$W/stmt.msg.json" ] && fail "a refused sign left output"
"$HW" key export stmt > "$W/stmt.pem"
"$HW" attest-blob --key stmt --type https://example.com/test/v1 --predicate "$W/pred.json" \
    --subject "$W/blob" -o "$W/stmt.json" >/dev/null || fail "statements-only key refuses statements"
"$HW" verify --key "$W/stmt.pem" --bundle "$W/stmt.json" "$W/blob" >/dev/null || fail "stmt verify"
sjs_accepts "$W/stmt.pem" "$W/stmt.json"
pass "allow-digests = no: sign refused (exit 1, explicit), statements still signed"

kill -0 "$AGENT_PID" || fail "agent died"
pass "envelope.sh${SJS:+ (with @sigstore/verify)}"
