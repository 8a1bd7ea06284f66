#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ML model signing in the OpenSSF model-signing v1.0 format, end to end on a real agent with a
# swtpm TPM and a SoftHSM2 token (docs/models.md):
#   - `hwsign verify-model` accepts the model signed by the upstream model_signing 1.1.0 tool
#     (P-384 key, DSSE over SHA-384; FORMATS 6.5 a) and refuses it after any change of a byte of
#     its files or of its signature file, naming the changed file;
#   - `hwsign sign-model` round trips with a TPM key and a token key (P-256), in files and
#     shards serialization: the bundle's statement, resources, root and hint are re-derived
#     here independently (python hashlib), it verifies with `hwsign verify-model` (also with
#     --log-key: the signature's signing-log entry is attached) and with @sigstore/verify 3.1.1
#     (offline, key pinned by model_signing's hint);
#   - tampering, each reported precisely (exit 1): one changed byte in one shard file, a renamed,
#     an added and a removed file, a symlink swapped in; --ignore-unsigned-files; a wrong key, a
#     hint naming another key;
#   - refusals: symlinks without --allow-symlinks (and following them with it), a key whose
#     policy does not allow the model predicate type, a model too large for one statement,
#     usage errors.
# Without node/npm (or the pinned packages) the sigstore-js checks are skipped with a notice,
# unless HWSIGN_REQUIRE_INTEROP=1 (tests/run.sh), which makes that a failure.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
it_setup it
it_start_swtpm
W=$T/work
it_write_config "[tpm]
tcti = $TCTI

[key \"slsaonly\"]
allow-predicate-types = https://slsa.dev/provenance/v1

[key \"pk\"]
allow-predicate-types = https://model_signing/signature/v1.0"
sed -i 's|^log-target = stderr|log-target = stderr\nlog-key = logkey\nlog-origin = hwsign.test/models|' \
    "$T/agent.conf"
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
# @sigstore/verify, offline, with the key pinned by model_signing's hint (hex SHA-256 of the
# PEM text) instead of verify-bundle.js's DER one.
cat > "$T/verify-model-bundle.js" <<'JS'
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial, VerificationError } =
  require('@sigstore/verify');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const [pubPath, bundlePath] = process.argv.slice(2);
try {
  const pemText = fs.readFileSync(pubPath);
  const pub = crypto.createPublicKey(pemText);
  const pinned = crypto.createHash('sha256').update(pemText).digest('hex');
  const keyFinder = (hint) => {
    if (hint !== pinned) {
      throw new VerificationError({ code: 'PUBLIC_KEY_ERROR', message: `unknown hint ${hint}` });
    }
    return { publicKey: pub, validFor: () => true };
  };
  // TRUSTED_ROOT (from `hwsign log trusted-root`): the signing log's entry is checked too.
  const trust = process.env.TRUSTED_ROOT
    ? toTrustMaterial(TrustedRoot.fromJSON(
      JSON.parse(fs.readFileSync(process.env.TRUSTED_ROOT, 'utf8'))), keyFinder)
    : { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [],
      publicKey: keyFinder };
  const v = new Verifier(trust, { tlogThreshold: process.env.TRUSTED_ROOT ? 1 : 0,
    ctlogThreshold: 0, timestampThreshold: 0 });
  v.verify(toSignedEntity(bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')))));
  console.log('OK');
  process.exit(0);
} catch (e) {
  console.log(`REJECTED ${e.code || `${e.name}: ${e.message}`}`);
  process.exit(1);
}
JS
sjs() { # sjs accepts|rejects PUB BUNDLE; with a log entry when ROOT names a trusted root
    local want=$1 rc=0
    [ -n "$SJS" ] || return 0
    TRUSTED_ROOT=${ROOT:-} npm_interop_node "$T/verify-model-bundle.js" "$2" "$3" > "$T/sjs.out" 2>&1 ||
        rc=$?
    if [ "$want" = accepts ]; then
        [ $rc -eq 0 ] || fail "@sigstore/verify rejects $3: $(cat "$T/sjs.out")"
    else
        [ $rc -eq 1 ] && grep -q '^REJECTED ' "$T/sjs.out" ||
            fail "@sigstore/verify on $3 (want rejected): $(cat "$T/sjs.out")"
    fi
}
jcheck() { # jcheck FILE PYTHON-EXPR: FILE parses as JSON and EXPR (over d) holds
    $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$1" "$2" || fail "JSON in $1 fails '$2': $(head -c 800 "$1")"
}
# verify_fails DIR LINE... : verify-model exits 1 and prints exactly these report lines.
verify_fails() {
    local dir=$1 key=$2
    shift 2
    expect_exit 1 "$HW" verify-model --key "$key" "$dir"
    printf '%s\n' "$@" > "$T/want.out"
    diff -u "$T/want.out" "$T/last.out" >&2 || fail "verify-model $dir: unexpected report"
    grep -q '^hwsign: verification failed: ' "$T/last.err" || fail "no error line: $(cat "$T/last.err")"
}

# ---- the upstream vector (model_signing 1.1.0, P-384, SHA-384) -----------------------------
V=$W/v1.1.0-elliptic-key
mkdir -p "$V"
printf 'signme-1\n' > "$V/signme-1"
printf 'signme-2' > "$V/signme-2"
: > "$V/ignore-me"
cat > "$W/upstream-pub.pem" <<'PEM'
-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEsu6rZGBTjxtvRWPMixT+3HyndV0J0Ybt
aHZUcO4DEK+OJHO/4e32bb/fbJKSpRgcBsIpKLcVijUomyFOERbd7u+BTPSUjGZD
Qq6J7lTvp/EAXQGOKxW9RP0MGX3qAkvi
-----END PUBLIC KEY-----
PEM
printf '%s' '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e"},"tlogEntries":[]},"dsseEnvelope":{"payload":"ewogICJfdHlwZSI6ICJodHRwczovL2luLXRvdG8uaW8vU3RhdGVtZW50L3YxIiwKICAic3ViamVjdCI6IFsKICAgIHsKICAgICAgIm5hbWUiOiAidjEuMS4wLWVsbGlwdGljLWtleSIsCiAgICAgICJkaWdlc3QiOiB7CiAgICAgICAgInNoYTI1NiI6ICI5Mjc0NTExMGIxYWI0MzY4NDcxY2JlMzE2NjRlMTAxNzRlOTU0YjExM2EzZGYzMzNkYjg2MDMxN2IyYzZkZWM0IgogICAgICB9CiAgICB9CiAgXSwKICAicHJlZGljYXRlVHlwZSI6ICJodHRwczovL21vZGVsX3NpZ25pbmcvc2lnbmF0dXJlL3YxLjAiLAogICJwcmVkaWNhdGUiOiB7CiAgICAicmVzb3VyY2VzIjogWwogICAgICB7CiAgICAgICAgImFsZ29yaXRobSI6ICJzaGEyNTYiLAogICAgICAgICJuYW1lIjogInNpZ25tZS0xIiwKICAgICAgICAiZGlnZXN0IjogImJjOWE3MTdkYjYwNjRhMzJjYmU5ZWFlNmZjNDA2NTFkZDZkMzZlZjE3NTcxODNmNTkwZWZmMmIxNzY1ZDdlYmMiCiAgICAgIH0sCiAgICAgIHsKICAgICAgICAiYWxnb3JpdGhtIjogInNoYTI1NiIsCiAgICAgICAgIm5hbWUiOiAic2lnbm1lLTIiLAogICAgICAgICJkaWdlc3QiOiAiMzJkY2IxZjhlMWFlNTJkNTk2M2U1NmE2YmEwNmFiNThiNDI0YzE1ZWQyYTZiNzBkMmZlY2ExZDA4OTM3MDAyOCIKICAgICAgfQogICAgXSwKICAgICJzZXJpYWxpemF0aW9uIjogewogICAgICAiYWxsb3dfc3ltbGlua3MiOiBmYWxzZSwKICAgICAgIm1ldGhvZCI6ICJmaWxlcyIsCiAgICAgICJoYXNoX3R5cGUiOiAic2hhMjU2IiwKICAgICAgImlnbm9yZV9wYXRocyI6IFsKICAgICAgICAiLmdpdCIsCiAgICAgICAgIm1vZGVsLnNpZyIsCiAgICAgICAgImlnbm9yZS1tZSIsCiAgICAgICAgIi5naXRhdHRyaWJ1dGVzIiwKICAgICAgICAiLmdpdGlnbm9yZSIsCiAgICAgICAgIi5naXRodWIiCiAgICAgIF0KICAgIH0KICB9Cn0=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"MGUCMQCVqSw64cBnPHqbyadq+OIgwQSg7WW8Mztp3dJ++atQsxzbtwafJJ164u7WEXmx5hECMBSiShuN7OTLec6wLXpHUjFIQA/hhiBCjSzM9Q2cIUZpDmv+tWs1AkNxstJDbNl0lQ==","keyid":""}]}}' \
    > "$V/model.sig"
# The copy above is the published one, byte for byte (when the shared vectors are at hand).
SHARED_V=${HWSIGN_MODEL_VECTOR:-$HERE/../../../shared/vectors/model-signing}
if [ -d "$SHARED_V/v1.1.0-elliptic-key" ]; then
    for f in signme-1 signme-2 ignore-me model.sig; do
        cmp -s "$V/$f" "$SHARED_V/v1.1.0-elliptic-key/$f" || fail "embedded vector $f differs"
    done
    cmp -s "$W/upstream-pub.pem" "$SHARED_V/signing-key-pub.pem" || fail "embedded key differs"
fi
expect_exit 0 "$HW" verify-model --key "$W/upstream-pub.pem" --ignore ignore-me "$V"
grep -qx 'Verified OK' "$T/last.out" && grep -q '^Model: v1.1.0-elliptic-key, 2 files, 17 B, files' "$T/last.out" ||
    fail "upstream vector: $(cat "$T/last.out")"
"$HW" verify-model --key "$W/upstream-pub.pem" --signature "$V/model.sig" --json "$V" > "$W/v.json" ||
    fail "upstream vector --json"
jcheck "$W/v.json" "d['verified'] and d['model_name']=='v1.1.0-elliptic-key' and d['root_sha256']=='92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4' and d['files']==2 and d['modified']==d['missing']==d['extra']==d['refused']==[] and 'ignore-me' in d['ignore_paths']"
# sigstore-js hashes DSSE with SHA-256 whatever the curve (FORMATS 4.6): it cannot verify this.
sjs rejects "$W/upstream-pub.pem" "$V/model.sig"
# Any byte of either signed file changed: refused, naming the file.
for f in signme-1 signme-2; do
    size=$(stat -c %s "$V/$f")
    for ((i = 0; i < size; i++)); do
        cp "$V/$f" "$W/orig"
        $PY -c 'import sys; p, i = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[i] ^= 1; open(p, "wb").write(b)' "$V/$f" "$i"
        verify_fails "$V" "$W/upstream-pub.pem" "MODIFIED  $f"
        cp "$W/orig" "$V/$f"
    done
done
# Any byte of the signature file changed: refused (exit 1, or 4 when it is no longer a bundle).
# Except the 5 letters of the member name "keyid": DSSE verifiers ignore unknown envelope
# members and treat an absent keyid as "" (FORMATS 1.2), so "keyie":"" changes nothing.
cp "$V/model.sig" "$W/sig.orig"
$PY - "$V" "$HW" "$W/upstream-pub.pem" "$W/sig.orig" <<'PY' || fail "a changed byte of model.sig was accepted"
import subprocess, sys
d, hw, key, orig = sys.argv[1:]
sig = bytearray(open(orig, "rb").read())
k = sig.index(b'"keyid"') + 1
neutral = range(k, k + 5)
bad = []
for i in range(len(sig)):
    t = bytearray(sig); t[i] ^= 1
    open(f"{d}/model.sig", "wb").write(t)
    rc = subprocess.run([hw, "verify-model", "--key", key, d], capture_output=True).returncode
    if rc not in (1, 4) and not (i in neutral and rc == 0):
        bad.append((i, rc))
open(f"{d}/model.sig", "wb").write(sig)
if bad:
    print("accepted or crashed at", bad[:10], file=sys.stderr)
    sys.exit(1)
PY
expect_exit 0 "$HW" verify-model --key "$W/upstream-pub.pem" "$V"
pass "upstream model_signing 1.1.0 vector (P-384/SHA-384) verifies; every byte change of its files or signature is refused"

# ---- round trips: TPM and token keys -------------------------------------------------------
"$HW" key create logkey --backend it >/dev/null || fail "log key create"
"$HW" key export logkey > "$W/log.pem"
"$HW" log trusted-root --log-key "$W/log.pem" --origin hwsign.test/models -o "$W/root.json"
"$HW" key create tk --backend tpm --alg ecdsa-p256 >/dev/null || fail "TPM key create"
"$HW" key create pk --backend it --alg ecdsa-p256 >/dev/null || fail "token key create"
"$HW" key create slsaonly --backend it >/dev/null || fail "key create slsaonly"
"$HW" key create p384 --backend it --alg ecdsa-p384 >/dev/null || fail "P-384 key create"

# A model: nested directories, a name with a character below '/', an empty file, git metadata.
make_model() { # make_model DIR
    mkdir -p "$1/tokenizer" "$1/weights" "$1/.git/objects"
    head -c 300000 /dev/urandom > "$1/weights/model-00001-of-00002.safetensors"
    head -c 123457 /dev/urandom > "$1/weights/model-00002-of-00002.safetensors"
    printf '{"architectures":["Llama"]}\n' > "$1/config.json"
    printf '{"a":1}' > "$1/tokenizer/vocab.json"
    printf 'merges' > "$1/tokenizer-merges.txt"
    : > "$1/empty.bin"
    printf 'ref: refs/heads/main\n' > "$1/.git/HEAD"
    printf '*.safetensors filter=lfs\n' > "$1/.gitattributes"
}
# The agent logs the SHA-256 of the envelope it returned (the entry body's envelopeHash); for a
# staged statement the client library built that envelope, not the agent. The bundle's envelope
# differs only by keyid (model_signing's hint instead of the agent's hex SHA-256 of the DER
# SPKI): with the agent's keyid put back and serialized compactly, it must hash to envelopeHash.
envelope_logged() { # envelope_logged BUNDLE PUB.pem
    $PY - "$1" "$2" <<'PY' || fail "$1: the logged envelopeHash is not the hash of the envelope"
import base64, hashlib, json, sys
b = json.load(open(sys.argv[1]))
pem = open(sys.argv[2]).read().split("-----")[2]
e = b["dsseEnvelope"]
assert list(e) == ["payload", "payloadType", "signatures"] and list(e["signatures"][0]) == ["keyid", "sig"]
e["signatures"][0]["keyid"] = hashlib.sha256(base64.b64decode(pem)).hexdigest()
env = json.dumps(e, separators=(",", ":")).encode()
body = json.loads(base64.b64decode(b["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]))
assert body["spec"]["envelopeHash"]["value"] == hashlib.sha256(env).hexdigest(), body["spec"]
PY
}
# Re-derive the signed statement with python hashlib and compare every field.
check_bundle() { # check_bundle BUNDLE MODEL_DIR PUB.pem SHARD_SIZE(0 = files)
    $PY - "$@" <<'PY' || fail "the bundle of $2 does not carry the manifest derived independently"
import base64, hashlib, json, os, sys
bpath, model, pub, shard = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
b = json.load(open(bpath))
assert b["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
hint = hashlib.sha256(open(pub, "rb").read()).hexdigest()
assert b["verificationMaterial"]["publicKey"]["hint"] == hint, "hint is not sha256(PEM)"
env = b["dsseEnvelope"]
assert env["payloadType"] == "application/vnd.in-toto+json"
st = json.loads(base64.b64decode(env["payload"]))
assert st["_type"] == "https://in-toto.io/Statement/v1"
assert st["predicateType"] == "https://model_signing/signature/v1.0"
ignored = {".git", ".gitattributes", ".github", ".gitignore", "model.sig"}
files = []
for root, dirs, names in os.walk(model):
    rel = os.path.relpath(root, model)
    parts = [] if rel == "." else rel.split(os.sep)
    dirs[:] = [x for x in dirs if "/".join(parts + [x]) not in ignored]
    files += [parts + [n] for n in names if "/".join(parts + [n]) not in ignored]
files.sort()  # component order, as PurePosixPath sorts
res = []
for p in files:
    data = open(os.path.join(model, *p), "rb").read()
    name = "/".join(p)
    if shard == 0:
        res.append({"name": name, "algorithm": "sha256", "digest": hashlib.sha256(data).hexdigest()})
    else:
        for s in range(0, len(data), shard):
            res.append({"name": f"{name}:{s}:{min(s + shard, len(data))}",
                        "algorithm": f"sha256-sharded-{shard}",
                        "digest": hashlib.sha256(data[s:s + shard]).hexdigest()})
pred = st["predicate"]
assert pred["resources"] == res, (pred["resources"], res)
root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in res)).hexdigest()
assert st["subject"] == [{"name": os.path.basename(model), "digest": {"sha256": root}}], st["subject"]
ser = pred["serialization"]
want = {"method": "shards" if shard else "files", "hash_type": "sha256", "allow_symlinks": False,
        "ignore_paths": sorted(ignored)}
if shard:
    want["shard_size"] = shard
assert ser == want, ser
PY
}

for k in tk pk; do
    "$HW" key export "$k" > "$W/$k.pem"
    M=$W/$k-model
    make_model "$M"
    "$HW" sign-model --key "$k" --json "$M" > "$W/$k.sign.json" || fail "$k: sign-model"
    jcheck "$W/$k.sign.json" "d['signature_file']=='$M/model.sig' and d['method']=='files' and d['files']==6 and d['resources']==6 and d['model_name']=='$k-model' and isinstance(d['log_index'], int)"
    check_bundle "$M/model.sig" "$M" "$W/$k.pem" 0
    envelope_logged "$M/model.sig" "$W/$k.pem"
    jcheck "$M/model.sig" "len(d['verificationMaterial']['tlogEntries'])==1 and d['verificationMaterial']['tlogEntries'][0]['kindVersion']['kind']=='dsse'"
    expect_exit 0 "$HW" verify-model --key "$W/$k.pem" "$M"
    grep -qx 'Verified OK' "$T/last.out" || fail "$k: $(cat "$T/last.out")"
    idx=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["log_index"])' "$W/$k.sign.json")
    expect_exit 0 "$HW" verify-model --key "$W/$k.pem" --log-key "$W/log.pem" "$M"
    grep -q "^Log: record $idx included in checkpoint hwsign.test/models" "$T/last.out" ||
        fail "$k: verify-model --log-key: $(cat "$T/last.out")"
    # The signature file may live elsewhere; then it is not an ignored path.
    "$HW" sign-model --key "$k" -o "$W/$k.outside.sig" --no-log-entry "$M" >/dev/null ||
        fail "$k: sign-model -o outside"
    jcheck "$W/$k.outside.sig" "d['verificationMaterial']['tlogEntries']==[]"
    expect_exit 0 "$HW" verify-model --key "$W/$k.pem" --signature "$W/$k.outside.sig" "$M"
    ROOT=$W/root.json sjs accepts "$W/$k.pem" "$M/model.sig"
    sjs accepts "$W/$k.pem" "$W/$k.outside.sig"
    # Shards: a huge file is hashed in parallel pieces, each signed.
    "$HW" sign-model --key "$k" --shard-size 65536 -o "$W/$k.shards.sig" "$M" > "$W/out" ||
        fail "$k: sign-model --shard-size"
    grep -q "shards serialization" "$W/out" || fail "$k: $(cat "$W/out")"
    check_bundle "$W/$k.shards.sig" "$M" "$W/$k.pem" 65536
    expect_exit 0 "$HW" verify-model --key "$W/$k.pem" --signature "$W/$k.shards.sig" "$M"
    pass "$k: sign-model (files, shards) verifies with hwsign verify-model (+ log entry)${SJS:+ and @sigstore/verify}; statement re-derived independently"
done

# A P-384 agent key: SHA-256 over the PAE (the agent's and sigstore-js's way), with a note.
M=$W/p384-model
make_model "$M"
expect_exit 0 "$HW" sign-model --key p384 "$M"
grep -q "note: key 'p384' is not ECDSA P-256" "$T/last.err" || fail "p384: no note: $(cat "$T/last.err")"
"$HW" key export p384 > "$W/p384.pem"
expect_exit 0 "$HW" verify-model --key "$W/p384.pem" "$M"
ROOT=$W/root.json sjs accepts "$W/p384.pem" "$M/model.sig"
pass "P-384 agent key: signed over SHA-256(PAE), verifies with hwsign and @sigstore/verify"

# ---- tampering, each reported precisely ----------------------------------------------------
M=$W/pk-model
K=$W/pk.pem
cp -a "$M" "$W/pristine"
restore() { rm -rf "$M"; cp -a "$W/pristine" "$M"; }
# One changed byte in one shard file (files and shards signatures).
$PY -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[200000] ^= 0x80; open(p, "wb").write(b)' \
    "$M/weights/model-00001-of-00002.safetensors"
verify_fails "$M" "$K" "MODIFIED  weights/model-00001-of-00002.safetensors"
expect_exit 1 "$HW" verify-model --key "$K" --signature "$W/pk.shards.sig" --json "$M"
jcheck "$T/last.out" "not d['verified'] and d['modified']==['weights/model-00001-of-00002.safetensors'] and d['missing']==d['extra']==d['refused']==[] and d['method']=='shards'"
restore
# Renamed.
mv "$M/tokenizer/vocab.json" "$M/tokenizer/vocab2.json"
verify_fails "$M" "$K" "MISSING   tokenizer/vocab.json" "EXTRA     tokenizer/vocab2.json"
restore
# Added; accepted with --ignore-unsigned-files, or when ignored.
printf 'new' > "$M/weights/extra.bin"
verify_fails "$M" "$K" "EXTRA     weights/extra.bin"
expect_exit 0 "$HW" verify-model --key "$K" --ignore-unsigned-files "$M"
expect_exit 0 "$HW" verify-model --key "$K" --ignore weights/extra.bin "$M"
expect_exit 0 "$HW" verify-model --key "$K" --ignore "$M/weights/extra.bin" "$M"
restore
# Removed (the empty file, too, is signed in files mode).
rm "$M/empty.bin"
verify_fails "$M" "$K" "MISSING   empty.bin"
restore
# A symlink swapped in for a file, with the very same content behind it.
mv "$M/config.json" "$W/config.json"
ln -s "$W/config.json" "$M/config.json"
verify_fails "$M" "$K" "REFUSED   config.json (a symbolic link and the signature does not allow symlinks)"
restore
# All at once, in path order.
rm "$M/config.json"
printf x >> "$M/tokenizer-merges.txt"
printf 'y' > "$M/zzz"
verify_fails "$M" "$K" "MISSING   config.json" "MODIFIED  tokenizer-merges.txt" "EXTRA     zzz"
restore
expect_exit 0 "$HW" verify-model --key "$K" "$M"
pass "tampering reported precisely: changed byte (files and shards), renamed, added, removed, symlink swapped in"

# Wrong key; a bundle whose hint names another key; not a model signature.
expect_exit 1 "$HW" verify-model --key "$W/tk.pem" "$M"
grep -q "does not verify with key" "$T/last.err" || fail "wrong key: $(cat "$T/last.err")"
$PY -c 'import json,sys; b=json.load(open(sys.argv[1])); b["verificationMaterial"]["publicKey"]["hint"]="00"*32; json.dump(b, open(sys.argv[2], "w"))' \
    "$M/model.sig" "$W/otherhint.sig"
expect_exit 1 "$HW" verify-model --key "$K" --signature "$W/otherhint.sig" "$M"
grep -q "names another key" "$T/last.err" || fail "hint: $(cat "$T/last.err")"
printf 'payload' > "$W/blob"
printf '{}' > "$W/pred.json"
"$HW" attest-blob --key tk --type https://example.com/x/v1 --predicate "$W/pred.json" \
    --subject "$W/blob" -o "$W/notmodel.sig" >/dev/null || fail "attest-blob"
expect_exit 4 "$HW" verify-model --key "$W/tk.pem" --signature "$W/notmodel.sig" "$M"
grep -q "not a model signature" "$T/last.err" || fail "not a model: $(cat "$T/last.err")"
# A signed digest changed inside the payload: the signature no longer verifies, for either.
$PY - "$W/pk.outside.sig" "$W/payload.sig" <<'PY'
import base64, json, sys
b = json.load(open(sys.argv[1]))
env = b["dsseEnvelope"]
st = json.loads(base64.b64decode(env["payload"]))
d = st["predicate"]["resources"][0]["digest"]
st["predicate"]["resources"][0]["digest"] = ("0" if d[0] != "0" else "1") + d[1:]
env["payload"] = base64.b64encode(json.dumps(st, separators=(",", ":")).encode()).decode()
json.dump(b, open(sys.argv[2], "w"))
PY
expect_exit 1 "$HW" verify-model --key "$K" --signature "$W/payload.sig" "$M"
grep -q "does not verify with key" "$T/last.err" || fail "payload: $(cat "$T/last.err")"
sjs rejects "$K" "$W/payload.sig"
sjs rejects "$W/tk.pem" "$W/pk.outside.sig"
pass "wrong key, changed payload, foreign hint, non-model statement refused${SJS:+ (also by @sigstore/verify)}"

# ---- a large model: its statement is sent to the agent in chunks ---------------------------
# 5000 files with long names make a ~850 KiB statement, far over one frame (40 KiB): the CLI
# stages it (STATEMENT_BEGIN/DATA/SIGN) and builds the DSSE envelope the agent logged.
B=$W/many
mkdir -p "$B/layers"
$PY - "$B/layers" <<'PY'
import os, sys
for i in range(5000):
    with open(os.path.join(sys.argv[1], "transformer-block-%05d-attention-weights-fp16.safetensors" % i), "w") as f:
        f.write(str(i))
PY
for k in tk pk; do
    "$HW" sign-model --key "$k" --json -o "$W/$k.many.sig" "$B" > "$W/$k.many.json" ||
        fail "$k: sign-model of 5000 files: $(cat "$W/$k.many.json")"
    jcheck "$W/$k.many.json" "d['files']==5000 and isinstance(d['log_index'], int)"
    $PY -c 'import base64,json,sys; d=json.load(open(sys.argv[1])); assert len(base64.b64decode(d["dsseEnvelope"]["payload"])) > 600*1024 and len(d["verificationMaterial"]["tlogEntries"])==1' "$W/$k.many.sig" ||
        fail "$k: the large statement or its log entry is missing"
    check_bundle "$W/$k.many.sig" "$B" "$W/$k.pem" 0
    envelope_logged "$W/$k.many.sig" "$W/$k.pem"
    expect_exit 0 "$HW" verify-model --key "$W/$k.pem" --signature "$W/$k.many.sig" --log-key "$W/log.pem" "$B"
    grep -q "^Log: record .* included in checkpoint hwsign.test/models" "$T/last.out" ||
        fail "$k: large model --log-key: $(cat "$T/last.out")"
    ROOT=$W/root.json sjs accepts "$W/$k.pem" "$W/$k.many.sig"
done
printf 'x' >> "$B/layers/transformer-block-04321-attention-weights-fp16.safetensors"
expect_exit 1 "$HW" verify-model --key "$W/tk.pem" --signature "$W/tk.many.sig" "$B"
grep -qx "MODIFIED  layers/transformer-block-04321-attention-weights-fp16.safetensors" "$T/last.out" ||
    fail "large model tamper: $(cat "$T/last.out")"
pass "a 5000-file model (850 KiB statement, staged in chunks) signs with TPM and token keys, verifies with its log entry${SJS:+ and with @sigstore/verify}, and names a changed file"

# ---- refusals ----------------------------------------------------------------------------
# Symlinks: refused when signing unless --allow-symlinks, which follows them.
S=$W/linked
make_model "$S"
ln -s ../config.json "$S/tokenizer/config-link.json"
expect_exit 4 "$HW" sign-model --key tk "$S"
grep -q "tokenizer/config-link.json is a symbolic link" "$T/last.err" || fail "symlink: $(cat "$T/last.err")"
[ -e "$S/model.sig" ] && fail "a refused model got a signature"
expect_exit 0 "$HW" sign-model --key tk --allow-symlinks "$S"
jcheck "$S/model.sig" "[r['name'] for r in __import__('json').loads(__import__('base64').b64decode(d['dsseEnvelope']['payload']))['predicate']['resources']].count('tokenizer/config-link.json')==1"
expect_exit 0 "$HW" verify-model --key "$W/tk.pem" "$S"
pass "symlinks refused when signing (named), followed with --allow-symlinks"

# Policy: the key may only sign SLSA provenance.
expect_exit 1 "$HW" sign-model --key slsaonly "$W/pristine"
grep -q "may not sign predicate type 'https://model_signing/signature/v1.0'" "$T/last.err" ||
    fail "policy: $(cat "$T/last.err")"
# Usage and input errors.
expect_exit 2 "$HW" sign-model "$W/pristine"
expect_exit 2 "$HW" sign-model --key tk
expect_exit 2 "$HW" sign-model --key tk --shard-size 0 "$W/pristine"
expect_exit 2 "$HW" sign-model --key tk --shard-size 12x "$W/pristine"
expect_exit 2 "$HW" sign-model --key tk --ignore ../x "$W/pristine"
expect_exit 2 "$HW" sign-model --key tk --ignore /etc/passwd "$W/pristine"
expect_exit 2 "$HW" sign-model --key tk --threads 0 "$W/pristine"
expect_exit 2 "$HW" sign-model --key tk "$W/pristine" extra-arg
expect_exit 4 "$HW" sign-model --key tk "$W/no-such-model"
expect_exit 4 "$HW" sign-model --key no-such-key "$W/pristine"
expect_exit 4 "$HW" sign-model --key tk "$W/blob"
expect_exit 2 "$HW" verify-model "$W/pristine"
expect_exit 2 "$HW" verify-model --key "$K"
expect_exit 4 "$HW" verify-model --key "$W/no-such.pem" "$W/pristine"
expect_exit 4 "$HW" verify-model --key "$K" --signature "$W/no-such.sig" "$W/pristine"
expect_exit 0 "$HW" sign-model --help
grep -q "Usage: hwsign sign-model" "$T/last.out" || fail "sign-model --help"
expect_exit 0 "$HW" verify-model --help
pass "policy refusal and usage errors"

kill -0 "$AGENT_PID" || fail "agent died"
pass "model.sh${SJS:+ (with @sigstore/verify)}"
