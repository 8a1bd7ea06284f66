#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# hwsign sbom end to end, on this machine's real package set and on a real agent with a
# SoftHSM2 key:
#   - the CycloneDX 1.6 output validates with the CycloneDX project's own validator
#     (@cyclonedx/cyclonedx-library 10.3.0, JsonStrictValidator 1.6) and the SPDX 2.3 output
#     with ajv against the SPDX 2.3 JSON schema (tests/integration/npm-sbom);
#   - the Debian packages listed are exactly dpkg-query's installed set, the Python ones
#     exactly what /usr/bin/python3's importlib.metadata finds, npm's own package is there;
#   - --root reads an image's file system (its os-release, dpkg database, broken Python
#     metadata skipped with a warning; an absolute symlink resolves inside the root);
#   - a signed SBOM round trip (--key, SoftHSM2): a small SBOM is the predicate itself, the
#     whole machine's inventory gets a reference SBOM (validated too) linking it by hash;
#     `hwsign verify --sbom` accepts it with its log entry and @sigstore/verify accepts the
#     bundle; a tampered SBOM or bundle fails; --sbom FILE matches an artifact and refuses a
#     file the SBOM does not record; the key's predicate-type policy is enforced;
#   - usage errors.
# Without node/npm (or the pinned packages) the validator checks are skipped with a notice,
# unless HWSIGN_REQUIRE_INTEROP=1 (tests/run.sh), which makes that a failure.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
it_setup it
W=$T/work
it_write_config "[key \"slsa\"]
allow-predicate-types = https://slsa.dev/provenance/v1"
sed -i 's|^log-target = stderr|log-target = stderr\nlog-key = logkey\nlog-origin = hwsign.test/sbom|' \
    "$T/agent.conf"
it_start_agent

. "$HERE/npm-sbom/setup.sh"
VAL=""
if npm_sbom_install "$HWSIGN_BUILD"; then
    VAL=1
elif [ "${HWSIGN_REQUIRE_INTEROP:-0}" = 1 ]; then
    fail "SBOM validators unavailable: $NPM_SBOM_ERR"
else
    echo "NOTICE: SBOM validator checks skipped: $NPM_SBOM_ERR"
fi
. "$HERE/npm/setup.sh"
SJS=""
if npm_interop_install "$HWSIGN_BUILD"; then
    SJS=1
elif [ "${HWSIGN_REQUIRE_INTEROP:-0}" = 1 ]; then
    fail "sigstore-js unavailable: $NPM_INTEROP_ERR"
else
    echo "NOTICE: sigstore-js checks skipped: $NPM_INTEROP_ERR"
fi
valid() { # valid cyclonedx|spdx FILE
    [ -n "$VAL" ] || return 0
    npm_sbom_validate "$1" "$2" > "$T/val.out" 2>&1 || fail "$1 validator rejects $2: $(cat "$T/val.out")"
    grep -q "^VALID $1" "$T/val.out" || fail "validator on $2: $(cat "$T/val.out")"
}
invalid() { # the validators must be able to fail: a broken document is rejected
    [ -n "$VAL" ] || return 0
    if npm_sbom_validate "$1" "$2" > "$T/val.out" 2>&1; then
        fail "$1 validator accepts the broken $2"
    fi
    grep -q "^INVALID" "$T/val.out" || fail "validator on $2: $(cat "$T/val.out")"
}
jcheck() { # jcheck FILE PYTHON-EXPR: FILE parses as JSON and EXPR (over d) holds
    $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$1" "$2" || fail "JSON in $1 fails '$2': $(head -c 600 "$1")"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

"$HW" key create logkey --backend it >/dev/null || fail "key create logkey"
"$HW" key export logkey > "$W/log.pem"
"$HW" log trusted-root --log-key "$W/log.pem" --origin hwsign.test/sbom -o "$W/root.json" \
    || fail "log trusted-root"
"$HW" key create sb --backend it >/dev/null || fail "key create sb"
"$HW" key export sb > "$W/sb.pem"
"$HW" key create slsa --backend it >/dev/null || fail "key create slsa"

# --- 1. This machine, both formats, against validators and the package managers' own view.
"$HW" sbom -o "$W/machine.cdx.json" --json > "$W/machine.out" || fail "sbom (cyclonedx)"
"$HW" sbom --format spdx -o "$W/machine.spdx.json" > "$W/machine.spdx.out" || fail "sbom (spdx)"
valid cyclonedx "$W/machine.cdx.json"
valid spdx "$W/machine.spdx.json"
dpkg-query -W -f '${db:Status-Status} ${db:Status-Eflag} ${Package} ${Version} ${Architecture}\n' \
    | awk '$1 == "installed" && $2 == "ok" {print $3, $4, $5}' | sort > "$W/dpkg.txt"
ndeb=$(wc -l < "$W/dpkg.txt")
[ "$ndeb" -gt 100 ] || fail "dpkg-query lists only $ndeb installed packages"
$PY - "$W/machine.cdx.json" "$W/dpkg.txt" <<'PY' || fail "Debian packages differ from dpkg-query"
import json, sys
d = json.load(open(sys.argv[1]))
ours = sorted("%s %s %s" % (c["name"], c["version"], c["purl"].split("arch=")[1].split("&")[0])
              for c in d["components"] if c.get("purl", "").startswith("pkg:deb/"))
theirs = [l.strip() for l in open(sys.argv[2])]
if ours != sorted(theirs):
    print("only ours:", sorted(set(ours) - set(theirs))[:5], "only dpkg:", sorted(set(theirs) - set(ours))[:5])
    sys.exit(1)
PY
jcheck "$W/machine.out" "d['components']['deb'] == $ndeb and d['warnings'] == 0 and d['format'] == 'cyclonedx-1.6'"
# Python: the distributions /usr/bin/python3 itself sees in the standard directories.
$PY - "$W/machine.cdx.json" <<'PY' || fail "Python distributions differ from importlib.metadata"
import importlib.metadata as m, json, re, sys
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
theirs = set()
for dist in m.distributions():
    where = str(getattr(dist, "_path", ""))
    if re.match(r"^/usr(/local)?/lib/python3[.0-9]*/(dist|site)-packages/", where):
        theirs.add("pkg:pypi/%s@%s" % (norm(dist.metadata["Name"]), dist.version.replace("+", "%2B")))
d = json.load(open(sys.argv[1]))
ours = {c["purl"] for c in d["components"] if c.get("purl", "").startswith("pkg:pypi/")}
if ours != theirs:
    print("only ours:", sorted(ours - theirs)[:5], "only python:", sorted(theirs - ours)[:5])
    sys.exit(1)
PY
npmv=$(npm --version)
jcheck "$W/machine.cdx.json" "'pkg:npm/npm@$npmv' in [c.get('purl') for c in d['components']]"
jcheck "$W/machine.cdx.json" "d['metadata']['component']['type'] == 'operating-system' and any(p['name'] == 'hwsign:host:kernel' and p['value'] == '$(uname -r)' for p in d['metadata']['properties'])"
jcheck "$W/machine.spdx.json" "len([p for p in d['packages'] if any(r['referenceLocator'].startswith('pkg:deb/') for r in p.get('externalRefs', []))]) == $ndeb"
grep -q "^Wrote SPDX 2.3 SBOM to $W/machine.spdx.json: $ndeb Debian" "$W/machine.spdx.out" \
    || fail "sbom summary: $(cat "$W/machine.spdx.out")"
# The validators do fail: uppercase serial (CycloneDX), a package without downloadLocation (SPDX).
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); d["serialNumber"]=d["serialNumber"].upper(); json.dump(d,open(sys.argv[2],"w"))' \
    "$W/machine.cdx.json" "$W/bad.cdx.json"
invalid cyclonedx "$W/bad.cdx.json"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); del d["packages"][1]["downloadLocation"]; json.dump(d,open(sys.argv[2],"w"))' \
    "$W/machine.spdx.json" "$W/bad.spdx.json"
invalid spdx "$W/bad.spdx.json"
pass "machine inventory: $ndeb Debian packages (= dpkg-query), Python (= importlib.metadata), npm; CycloneDX and SPDX valid"

# --- 2. An image's root file system with --root.
R=$W/rootfs
mkdir -p "$R/etc" "$R/var/lib/dpkg" "$R/usr/share/doc/tool" "$R/usr/lib/python3/dist-packages/ok-1.0.dist-info" \
    "$R/usr/lib/python3/dist-packages/bad-1.0.dist-info" "$R/usr/lib/node_modules/@acme/widget" "$R/secret"
printf 'ID=testos\nVERSION_ID=1.0\nPRETTY_NAME="Test OS 1.0"\n' > "$R/etc/os-release"
printf 'Package: tool\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:2.0+dfsg-1~bpo1\nSource: tool-src (1:2.0+dfsg-1)\n\nPackage: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\n' \
    > "$R/var/lib/dpkg/status"
printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: Apache-2.0\n' \
    > "$R/secret/copyright"
ln -s /secret/copyright "$R/usr/share/doc/tool/copyright"   # resolves inside the root
printf 'Metadata-Version: 2.1\nName: ok\nVersion: 1.0\nLicense-Expression: MIT\n' \
    > "$R/usr/lib/python3/dist-packages/ok-1.0.dist-info/METADATA"
printf 'Metadata-Version: 2.1\nSummary: no name, no version\n' \
    > "$R/usr/lib/python3/dist-packages/bad-1.0.dist-info/METADATA"
printf '{"name":"@acme/widget","version":"3.1.4","license":"ISC"}' > "$R/usr/lib/node_modules/@acme/widget/package.json"
"$HW" sbom --root "$R" -o "$W/root.cdx.json" --json > "$W/root.out" 2> "$W/root.err" || fail "sbom --root: $(cat "$W/root.err")"
grep -q '^hwsign: warning: python: broken distribution metadata /usr/lib/python3/dist-packages/bad-1.0.dist-info/METADATA' "$W/root.err" \
    || fail "no warning for the broken metadata: $(cat "$W/root.err")"
jcheck "$W/root.out" "d['components'] == {'deb': 1, 'pypi': 1, 'npm': 1, 'artifacts': 0, 'models': 0} and d['warnings'] == 1"
jcheck "$W/root.cdx.json" "d['metadata']['component'] == {'type': 'operating-system', 'bom-ref': 'host', 'name': 'testos', 'version': '1.0', 'description': 'Test OS 1.0'} and 'properties' not in d['metadata']"
jcheck "$W/root.cdx.json" "[c['purl'] for c in d['components']] == ['pkg:npm/%40acme/widget@3.1.4', 'pkg:pypi/ok@1.0', 'pkg:deb/testos/tool@1:2.0%2Bdfsg-1~bpo1?arch=amd64&distro=testos-1.0']"
jcheck "$W/root.cdx.json" "d['components'][2]['licenses'] == [{'expression': 'Apache-2.0'}] and d['components'][2]['properties'] == [{'name': 'hwsign:deb:source', 'value': 'tool-src'}, {'name': 'hwsign:deb:source-version', 'value': '1:2.0+dfsg-1'}]"
valid cyclonedx "$W/root.cdx.json"
"$HW" sbom --root "$R" --format spdx -o "$W/root.spdx.json" >/dev/null 2>&1 || fail "sbom --root spdx"
valid spdx "$W/root.spdx.json"
# An empty environment is still a valid document.
mkdir -p "$W/empty"
"$HW" sbom --root "$W/empty" > "$W/empty.cdx.json" || fail "sbom of an empty root"
jcheck "$W/empty.cdx.json" "d['components'] == [] and 'component' not in d['metadata']"
valid cyclonedx "$W/empty.cdx.json"
"$HW" sbom --root "$W/empty" --format spdx > "$W/empty.spdx.json" || fail "spdx of an empty root"
valid spdx "$W/empty.spdx.json"
pass "--root: image os-release, dpkg, Python (broken metadata warned), npm; symlink inside the root; empty root"

# --- 3. Signed SBOM, small: the statement's predicate is the SBOM itself.
head -c 100000 /dev/urandom > "$W/app.bin"
mkdir -p "$W/model/sub"
printf 'weights\n' > "$W/model/w.safetensors"
printf '{"a":1}\n' > "$W/model/sub/config.json"
"$HW" sbom --root "$R" --artifact "$W/app.bin" --model "$W/model" -o "$W/small.cdx.json" --key sb --json \
    > "$W/small.out" 2>/dev/null || fail "sbom --key (small)"
jcheck "$W/small.out" "d['predicate'] == 'sbom' and d['predicate_type'] == 'https://cyclonedx.org/bom' and d['bundle_file'] == '$W/small.cdx.json.bundle' and d['components']['models'] == 1 and 'log_index' in d"
valid cyclonedx "$W/small.cdx.json"
expect_exit 0 "$HW" verify --key "$W/sb.pem" --bundle "$W/small.cdx.json.bundle" --log-key "$W/log.pem" \
    --sbom "$W/small.cdx.json" "$W/app.bin"
grep -qx "SBOM: $W/small.cdx.json is the CycloneDX SBOM the statement signs" "$T/last.out" \
    && grep -qx "SBOM: records the SHA-256 of $W/app.bin (as app.bin)" "$T/last.out" \
    && grep -qx "Subject: $(sha "$W/small.cdx.json")  small.cdx.json" "$T/last.out" \
    && grep -qx "Subject: $(sha "$W/app.bin")  app.bin" "$T/last.out" \
    && grep -q "^Log: record " "$T/last.out" || fail "verify --sbom output: $(cat "$T/last.out")"
# The predicate is the SBOM document; the model subject is the model-signing digest.
$PY - "$W/small.cdx.json.bundle" "$W/small.cdx.json" "$W/model" <<'PY' || fail "small statement"
import base64, hashlib, json, os, sys
b = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
assert st["predicateType"] == "https://cyclonedx.org/bom"
assert st["predicate"] == json.load(open(sys.argv[2]))
files = sorted(os.path.relpath(os.path.join(r, f), sys.argv[3]) for r, _, fs in os.walk(sys.argv[3]) for f in fs)
root = hashlib.sha256(b"".join(hashlib.sha256(open(os.path.join(sys.argv[3], f), "rb").read()).digest() for f in files)).hexdigest()
subj = {s["name"]: s["digest"]["sha256"] for s in st["subject"]}
assert subj["model"] == root, (subj, root)
assert len(subj) == 3
PY
if [ -n "$SJS" ]; then
    TRUSTED_ROOT=$W/root.json TLOG_THRESHOLD=1 npm_interop_node "$HERE/npm/verify-bundle.js" \
        "$W/sb.pem" "$W/small.cdx.json.bundle" > "$T/sjs.out" 2>&1 \
        || fail "@sigstore/verify rejects the SBOM bundle: $(cat "$T/sjs.out")"
fi
# --sbom with a file the SBOM does not record (the SBOM itself is a subject, not an entry).
expect_exit 1 "$HW" verify --key "$W/sb.pem" --bundle "$W/small.cdx.json.bundle" --sbom "$W/small.cdx.json" "$W/small.cdx.json"
grep -q "verification failed: the SHA-256 of $W/small.cdx.json is not recorded in SBOM" "$T/last.err" \
    || fail "unrecorded FILE: $(cat "$T/last.err")"
# A changed artifact is refused (not among the subjects).
cp "$W/app.bin" "$W/app2/app.bin" 2>/dev/null || { mkdir -p "$W/app2"; cp "$W/app.bin" "$W/app2/app.bin"; }
printf 'x' >> "$W/app2/app.bin"
expect_exit 1 "$HW" verify --key "$W/sb.pem" --bundle "$W/small.cdx.json.bundle" --sbom "$W/small.cdx.json" "$W/app2/app.bin"
pass "signed small SBOM: predicate = SBOM, verify --sbom + log entry + @sigstore/verify; FILE match/mismatch"

# --- 4. Tampering.
$PY -c 'import sys; t=open(sys.argv[1]).read(); open(sys.argv[2],"w").write(t.replace("\"3.1.4\"","\"3.1.5\""))' \
    "$W/small.cdx.json" "$W/tampered.cdx.json"
cmp -s "$W/small.cdx.json" "$W/tampered.cdx.json" && fail "tamper produced no change"
expect_exit 1 "$HW" verify --key "$W/sb.pem" --bundle "$W/small.cdx.json.bundle" --sbom "$W/tampered.cdx.json"
grep -q "is not the one the bundle signs" "$T/last.err" || fail "tampered SBOM: $(cat "$T/last.err")"
$PY - "$W/small.cdx.json.bundle" "$W/tampered.bundle" <<'PY'
import base64, json, sys
b = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
st["predicate"]["components"][0]["version"] = "9.9.9"
b["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
json.dump(b, open(sys.argv[2], "w"))
PY
expect_exit 1 "$HW" verify --key "$W/sb.pem" --bundle "$W/tampered.bundle" --sbom "$W/small.cdx.json"
grep -q "does not verify with key" "$T/last.err" || fail "tampered bundle: $(cat "$T/last.err")"
# An SBOM of the other format under the same digest cannot exist; a non-SBOM attestation is refused.
printf '{"x":1}\n' > "$W/pred.json"
"$HW" attest-blob --key sb --type https://example.com/other/v1 --predicate "$W/pred.json" --subject "$W/app.bin" \
    -o "$W/other.bundle" --no-log-entry >/dev/null || fail "attest-blob"
expect_exit 1 "$HW" verify --key "$W/sb.pem" --bundle "$W/other.bundle" --sbom "$W/small.cdx.json" "$W/app.bin"
grep -q "not an SBOM attestation" "$T/last.err" || fail "non-SBOM bundle: $(cat "$T/last.err")"
pass "tampered SBOM and tampered bundle fail verification; a non-SBOM attestation is refused"

# --- 5. Signed SBOM, whole machine: a reference SBOM is the predicate.
for f in cyclonedx spdx; do
    "$HW" sbom --format "$f" --artifact "$W/app.bin" -o "$W/full.$f.json" --key sb --json > "$W/full.$f.out" \
        || fail "sbom --key ($f, machine)"
    jcheck "$W/full.$f.out" "d['predicate'] == 'reference'"
    expect_exit 0 "$HW" verify --key "$W/sb.pem" --bundle "$W/full.$f.json.bundle" --log-key "$W/log.pem" \
        --sbom "$W/full.$f.json" "$W/app.bin"
    $PY - "$W/full.$f.json.bundle" "$W/full.$f.json" "$W/ref.$f.json" "$f" <<'PY' || fail "$f reference predicate"
import base64, hashlib, json, sys
b = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
full = open(sys.argv[2], "rb").read()
pred = st["predicate"]
json.dump(pred, open(sys.argv[3], "w"))
doc = json.loads(full)
if sys.argv[4] == "cyclonedx":
    ref = pred["externalReferences"][0]
    assert ref["type"] == "bom" and ref["url"] == "urn:cdx:%s/1" % doc["serialNumber"][9:], ref
    assert ref["hashes"] == [{"alg": "SHA-256", "content": hashlib.sha256(full).hexdigest()}]
    assert [c["name"] for c in pred["components"]] == ["app.bin"]
else:
    ref = pred["externalDocumentRefs"][0]
    assert ref["spdxDocument"] == doc["documentNamespace"]
    assert ref["checksum"] == {"algorithm": "SHA1", "checksumValue": hashlib.sha1(full).hexdigest()}
assert len(b["dsseEnvelope"]["payload"]) < 64 * 1024
PY
    valid "$f" "$W/ref.$f.json"
done
pass "signed machine SBOM (CycloneDX, SPDX): reference predicate (valid) links the full SBOM by hash"

# --- 6. Policy and usage.
expect_exit 1 "$HW" sbom --root "$R" -o "$W/p.json" --key slsa
grep -q "signing the SBOM with key 'slsa' failed" "$T/last.err" || fail "policy refusal: $(cat "$T/last.err")"
expect_exit 2 "$HW" sbom --key sb
expect_exit 2 "$HW" sbom --format xml
expect_exit 2 "$HW" sbom --artifact "$W/app.bin" --artifact "$W/app2/app.bin" -o "$W/x.json"
grep -q "named 'app.bin'" "$T/last.err" || fail "duplicate names: $(cat "$T/last.err")"
expect_exit 2 "$HW" sbom --json
expect_exit 2 "$HW" sbom --bundle "$W/b" -o "$W/x.json"
expect_exit 2 "$HW" sbom stray
expect_exit 2 "$HW" verify --key "$W/sb.pem" --sbom "$W/small.cdx.json" "$W/app.bin"
expect_exit 4 "$HW" sbom --artifact "$W/nope" -o "$W/x.json"
expect_exit 4 "$HW" sbom --root "$W/nope"
expect_exit 4 "$HW" verify --key "$W/sb.pem" --bundle "$W/small.cdx.json.bundle" --sbom "$W/nope"
ln -s w.safetensors "$W/model/link"
expect_exit 4 "$HW" sbom --model "$W/model" -o "$W/x.json"
grep -q "link is a symbolic link" "$T/last.err" || fail "model symlink: $(cat "$T/last.err")"
pass "key policy (predicate types) enforced; usage errors 2, unreadable inputs 4"
