#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Measured builds end to end (swtpm + SoftHSM2): `hwsign attest -- cc ...` compiles a C program
# from a temporary git repository; the provenance names the source commit, the material and
# the product digests (claimed) and, observed by the agent, the caller's executable digest,
# command line, the compiler's digest and allowlisted environment (secret-looking values
# withheld); the bundle verifies with hwsign verify (and its log entry with --log-key) and with
# @sigstore/verify; a client that lies about its name cannot change the observed executable; a
# product changed afterwards fails verification; a failing build makes no provenance; --quote
# writes a TPM quote bound to the statement that tpm2_checkquote accepts.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
it_setup it
it_start_swtpm
W=$T/work
CC=$(command -v cc) || fail "no C compiler"
it_write_config "[tpm]
tcti = $TCTI

[key \"prov\"]
allow-predicate-types = https://slsa.dev/provenance/v1
allow-digests = no"
sed -i "s|^log-target = stderr|log-target = stderr\nlog-key = logkey\nlog-origin = hwsign.test/prov\nbuilder-id = https://ci.example.com/hwsign-agent/it\nmeasure-toolchain = $CC /usr/bin/python3\nmeasure-environment = HWSIGN_IT_* CI|" "$T/agent.conf"
it_start_agent
"$HW" key create logkey --backend it >/dev/null
"$HW" key export logkey > "$W/log.pem"
"$HW" key create prov --backend it >/dev/null
"$HW" key export prov > "$W/prov.pem"
"$HW" log trusted-root --log-key "$W/log.pem" --origin hwsign.test/prov -o "$W/root.json"

# A small C project in its own git repository.
R=$W/repo
mkdir -p "$R"
cat > "$R/hello.c" <<'C'
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
C
git -C "$R" init -q
git -C "$R" -c user.name=t -c user.email=t@example.com add hello.c
git -C "$R" -c user.name=t -c user.email=t@example.com commit -qm init
git -C "$R" remote add origin https://user:secret@git.example.com/team/hello.git
commit=$(git -C "$R" rev-parse HEAD)

(cd "$R" && HWSIGN_IT_MODE=release HWSIGN_IT_TOKEN=s3cret CI=true \
    "$HW" attest --key prov -o "$W/prov.json" --material hello.c --product hello --json \
    -- "$CC" -O2 -o hello hello.c > "$W/attest.json") || fail "hwsign attest: $(cat "$W/attest.json")"
[ "$("$R/hello")" = hello ] || fail "the build did not run"
expect_exit 0 "$HW" verify --key "$W/prov.pem" --bundle "$W/prov.json" --log-key "$W/log.pem" "$R/hello"
grep -q "^Log: record" "$T/last.out" || fail "no log entry checked: $(cat "$T/last.out")"

# What the statement says, checked against independent computations.
$PY - "$W/prov.json" "$R" "$commit" "$CC" "$HW" <<'PY' || fail "provenance content"
import base64, hashlib, json, os, sys
bundle, repo, commit, cc, hw = sys.argv[1:]
st = json.loads(base64.b64decode(json.load(open(bundle))["dsseEnvelope"]["payload"]))
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
assert st["predicateType"] == "https://slsa.dev/provenance/v1", st["predicateType"]
assert st["subject"] == [{"name": "hello", "digest": {"sha256": sha(repo + "/hello")}}], st["subject"]
bd, rd = st["predicate"]["buildDefinition"], st["predicate"]["runDetails"]
assert bd["buildType"] == "https://hwsign.dev/buildtypes/attest/v1", bd["buildType"]
ext = bd["externalParameters"]
assert ext["command"] == [cc, "-O2", "-o", "hello", "hello.c"], ext["command"]
assert ext["exitStatus"] == 0 and ext["workingDirectory"] == os.path.realpath(repo), ext
assert ext["source"]["commit"] == commit and ext["source"]["dirty"] is False, ext["source"]  # read before the build
deps = bd["resolvedDependencies"]
assert {"name": "hello.c", "digest": {"sha256": sha(repo + "/hello.c")}} in deps, deps
git = [d for d in deps if "gitCommit" in d.get("digest", {})]
assert len(git) == 1 and git[0]["digest"]["gitCommit"] == commit, git
assert git[0]["uri"].startswith("git+https://git.example.com/team/hello.git"), git[0]   # no credentials
assert "secret" not in json.dumps(st)
obs = bd["internalParameters"]
assert obs["observer"] == "hwsign-agent", obs
peer = obs["peer"]
assert peer["exe"]["sha256"] == sha(hw) and os.path.realpath(peer["exe"]["path"]) == os.path.realpath(hw), peer["exe"]
assert peer["cmdline"][1] == "attest" and peer["cmdline"][-1] == "hello.c", peer["cmdline"]
assert peer["uid"] == os.getuid(), peer
env = peer["environment"]["variables"]
assert env.get("HWSIGN_IT_MODE") == "release" and env.get("CI") == "true", env
assert "HWSIGN_IT_TOKEN" in env and env["HWSIGN_IT_TOKEN"] is None, env          # withheld
tc = {t["path"]: t for t in obs["toolchain"]}
assert tc[cc]["sha256"] == sha(os.path.realpath(cc)) and tc[cc]["status"] == "ok", tc
assert obs["host"]["kernel"] == os.uname().release, obs["host"]
assert rd["builder"]["id"] == "https://ci.example.com/hwsign-agent/it", rd["builder"]
assert len(rd["metadata"]["invocationId"]) == 36, rd["metadata"]
assert rd["metadata"]["startedOn"] <= rd["metadata"]["finishedOn"], rd["metadata"]
PY
pass "attest -- cc: source commit, material and product digests claimed; caller exe, argv, env, compiler digest observed"

. "$HERE/npm/setup.sh"
if npm_interop_install "$HWSIGN_BUILD"; then
    TRUSTED_ROOT=$W/root.json TLOG_THRESHOLD=1 npm_interop_node "$HERE/npm/verify-bundle.js" \
        "$W/prov.pem" "$W/prov.json" > "$T/sjs.out" 2>&1 || fail "@sigstore/verify: $(cat "$T/sjs.out")"
    pass "@sigstore/verify accepts the provenance bundle and its log entry"
elif [ "${HWSIGN_REQUIRE_INTEROP:-0}" = 1 ]; then
    fail "sigstore-js unavailable: $NPM_INTEROP_ERR"
fi

# A client that lies about its name: argv[0] says gcc, the observed executable is still hwsign.
(cd "$R" && bash -c 'exec -a /usr/bin/gcc "$0" "$@"' "$HW" attest --key prov -o "$W/lie.json" \
    --product hello -- true) || fail "attest through a renamed argv[0]"
$PY - "$W/lie.json" "$HW" <<'PY' || fail "the renamed client changed the observed executable"
import base64, hashlib, json, os, sys
st = json.loads(base64.b64decode(json.load(open(sys.argv[1]))["dsseEnvelope"]["payload"]))
peer = st["predicate"]["buildDefinition"]["internalParameters"]["peer"]
assert peer["cmdline"][0] == "/usr/bin/gcc", peer["cmdline"]                     # what it shows
assert peer["exe"]["sha256"] == hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest(), peer
assert os.path.basename(peer["exe"]["path"]) == "hwsign", peer["exe"]               # what it is
PY
pass "a client claiming to be gcc is recorded with its real executable and digest"

# Malformed claims straight on the socket: each gets FAILURE(INVALID) naming the claims, and
# the agent signs nothing for them.
records_before=$("$HW" log verify --state-dir "$T/state" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["records"])')
$PY - "$HWSIGN_AGENT_SOCK" <<'PY' || fail "malformed provenance claims"
import json, socket, struct, sys
def sstr(b): return struct.pack(">I", len(b)) + b
def ask(claims):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    body = bytes([8]) + struct.pack(">I", 7) + sstr(b"prov") + sstr(claims)
    s.sendall(struct.pack(">I", len(body)) + body)
    hdr = b""
    while len(hdr) < 4: hdr += s.recv(4 - len(hdr))
    n = struct.unpack(">I", hdr)[0]; data = b""
    while len(data) < n: data += s.recv(n - len(data))
    s.close()
    return data[0], data[5:]
good = {"externalParameters": {"command": ["true"]},
        "subjects": [{"name": "a", "digest": {"sha256": "ab" * 32}}]}
bad = [
    dict(good, extra=1),                                                   # unknown member
    {"subjects": good["subjects"]},                                        # no externalParameters
    dict(good, externalParameters=["x"]),                                  # not an object
    dict(good, subjects=[]),                                               # no subject
    dict(good, subjects=[{"name": "a", "digest": {"sha256": "AB" * 32}}]), # upper-case hex
    dict(good, subjects=[{"name": "a", "digest": {"sha256": "ab" * 31}}]), # short digest
    dict(good, subjects=[{"name": "a", "digest": {"md5": "ab" * 16}}]),    # other algorithm
    dict(good, startedOn="2026-11-25 10:00:00"),                           # not RFC 3339
    dict(good, resolvedDependencies=[{"digest": {"sha256": "zz"}}]),       # bad material digest
]
for b in bad:
    t, rest = ask(json.dumps(b).encode())
    code, msg = struct.unpack(">I", rest[:4])[0], rest[8:].decode()
    assert t == 0x7F and code == 11, (b, t, code, msg)
    assert "provenance" in msg or "SLSA" in msg, (b, msg)
t, rest = ask(b"{not json")
assert t == 0x7F and struct.unpack(">I", rest[:4])[0] == 11, (t, rest)
t, _ = ask(json.dumps(good).encode())
assert t == 0x88, t   # the same claims, well formed, are signed
PY
records_after=$("$HW" log verify --state-dir "$T/state" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["records"])')
[ "$records_after" = $((records_before + 1)) ] || fail "malformed claims were logged: $records_before -> $records_after"
pass "malformed provenance claims refused with INVALID, nothing signed; well-formed claims signed"

# A product changed afterwards no longer verifies.
cp "$R/hello" "$W/hello.orig"
printf 'x' >> "$R/hello"
expect_exit 1 "$HW" verify --key "$W/prov.pem" --bundle "$W/prov.json" "$R/hello"
cp "$W/hello.orig" "$R/hello"
# A failing build makes no provenance and passes its exit status on.
rm -f "$W/fail.json"
expect_exit 3 bash -c "cd '$R' && '$HW' attest --key prov -o '$W/fail.json' --product hello -- sh -c 'exit 3'"
[ ! -e "$W/fail.json" ] || fail "a failed build produced provenance"
grep -q "no provenance" "$T/last.err" || fail "failed build message: $(cat "$T/last.err")"
expect_exit 127 bash -c "cd '$R' && '$HW' attest --key prov -o '$W/fail.json' --product hello -- /nonexistent/cc"
# Policy: a key that may not sign provenance refuses it.
"$HW" key create other --backend it >/dev/null
it_stop_agent
printf '\n[key "other"]\nallow-predicate-types = https://example.com/only/v1\n' >> "$T/agent.conf"
it_start_agent
expect_exit 1 bash -c "cd '$R' && '$HW' attest --key other -o '$W/o.json' --product hello -- true"
grep -q "may not sign predicate type" "$T/last.err" || fail "policy: $(cat "$T/last.err")"
pass "changed product fails verification; failing build, missing command and key policy refuse"

# --quote: a TPM quote bound to the statement, accepted by tpm2_checkquote.
(cd "$R" && "$HW" attest --key prov -o "$W/q.json" --product hello --quote -- true) ||
    fail "attest --quote"
[ -f "$W/q.json.quote.json" ] || fail "no quote file"
"$HW" key ak -o "$W/ak.pem"
$PY - "$W/q.json" "$W/q.json.quote.json" "$W" <<'PY' || fail "quote file"
import base64, hashlib, json, sys
payload = base64.b64decode(json.load(open(sys.argv[1]))["dsseEnvelope"]["payload"])
q = json.load(open(sys.argv[2]))
assert q["nonce"] == hashlib.sha256(payload).hexdigest(), "nonce is not SHA-256 of the statement"
assert q["selection"] == "sha256:0,1,2,3,4,5,6,7", q["selection"]
for k in ("attest", "signature_tpmt", "pcrs"):
    open(sys.argv[3] + "/q." + k, "wb").write(base64.b64decode(q[k]))
open(sys.argv[3] + "/q.nonce", "w").write(q["nonce"])
open(sys.argv[3] + "/q.ak", "w").write(q["ak"])
PY
cmp -s "$W/ak.pem" "$W/q.ak" || fail "the quote names another AK than 'hwsign key ak'"
tpm2_checkquote -u "$W/ak.pem" -m "$W/q.attest" -s "$W/q.signature_tpmt" -f "$W/q.pcrs" -g sha256 \
    -q "$(cat "$W/q.nonce")" > "$W/checkquote.out" 2>&1 || fail "tpm2_checkquote: $(cat "$W/checkquote.out")"
tpm2_checkquote -u "$W/ak.pem" -m "$W/q.attest" -s "$W/q.signature_tpmt" -f "$W/q.pcrs" -g sha256 \
    -q "$(openssl rand -hex 32)" > /dev/null 2>&1 && fail "tpm2_checkquote accepts another nonce"
pass "attest --quote: quote bound to SHA-256(statement), accepted by tpm2_checkquote"

# ---- verify --policy ----
HWSHA=$(sha256sum "$HW" | cut -d' ' -f1)
CCBASE=$(basename "$CC")
# PCR 16 (resettable, all zeros at start) extended once with a known digest: its value is
# computed here independently of the TPM and of hwsign.
D1=$(printf 'build-environment-1' | sha256sum | cut -d' ' -f1)
it_stop_agent
TPM2TOOLS_TCTI=$TCTI tpm2_pcrextend "16:sha256=$D1" || fail "tpm2_pcrextend"
it_start_agent
PCR16=$($PY -c 'import hashlib,sys; print(hashlib.sha256(bytes(32) + bytes.fromhex(sys.argv[1])).hexdigest())' "$D1")
(cd "$R" && "$HW" attest --key prov -o "$W/p.json" --material hello.c --product hello --quote \
    --pcrs sha256:0,16 -- "$CC" -O2 -o hello hello.c) || fail "attest for the policy"
cat > "$W/policy.json" <<JSON
{"builderId": "https://ci.example.com/hwsign-agent/it",
 "buildType": "https://hwsign.dev/buildtypes/attest/v1",
 "sourceRepository": "git+https://git.example.com/team/hello.git",
 "sourceCommit": "$commit",
 "allowedCommands": ["$CCBASE"],
 "observedExecutables": ["$HWSHA"],
 "subjects": ["$R/hello"],
 "quote": {"ak": "ak.pem", "pcrs": ["sha256:16=$PCR16"]}}
JSON
expect_exit 0 "$HW" verify --key "$W/prov.pem" --bundle "$W/p.json" --policy "$W/policy.json"
grep -q "^Policy: satisfied" "$T/last.out" || fail "policy output: $(cat "$T/last.out")"
pass "verify --policy: builder, build type, source, command, observed executable, subjects, quote and PCR 16"

policy_refuses() { # policy_refuses PYTHON-EDIT EXPECTED-MESSAGE [BUNDLE]
    $PY - "$W/policy.json" "$W/policy2.json" "$1" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); exec(sys.argv[3]); json.dump(p, open(sys.argv[2], "w"))
PY
    cp "$W/ak.pem" "$W/ak.pem.keep"
    expect_exit 1 "$HW" verify --key "$W/prov.pem" --bundle "${3:-$W/p.json}" --policy "$W/policy2.json"
    grep -qF -- "$2" "$T/last.err" || fail "policy ($1): $(cat "$T/last.err")"
}
policy_refuses 'p["builderId"] = "https://other.example.com/builder"' "not by https://other.example.com/builder"
policy_refuses 'p["sourceRepository"] = "git+https://git.example.com/team/other.git"' "required source"
policy_refuses 'p["sourceCommit"] = "0" * 40' "required source"
policy_refuses 'p["allowedCommands"] = ["make"]' "is not among allowedCommands"
policy_refuses 'p["observedExecutables"] = ["0" * 64]' "not an allowed one"
policy_refuses 'p["quote"]["pcrs"] = ["sha256:16=" + "0" * 64]' "PCR mismatch"
policy_refuses 'p["quote"]["pcrs"] = ["sha256:9=" + "0" * 64]' "was not quoted"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkey -pubout > "$W/fake-ak.pem"
policy_refuses 'p["quote"]["ak"] = "fake-ak.pem"' "not a TPM quote signed by the attestation key"
# The quote of another statement is not this statement's.
cp "$W/q.json.quote.json" "$W/p.json.quote.json.other"
expect_exit 1 "$HW" verify --key "$W/prov.pem" --bundle "$W/p.json" --policy "$W/policy.json" \
    --quote "$W/p.json.quote.json.other"
grep -q "not bound to this statement" "$T/last.err" || fail "quote of another statement: $(cat "$T/last.err")"
# A typo in the policy is an error, not a silently skipped check.
echo '{"builderID": "x"}' > "$W/typo.json"
expect_exit 4 "$HW" verify --key "$W/prov.pem" --bundle "$W/p.json" --policy "$W/typo.json"
pass "policy violations refused: builder, source, commit, command, observed executable, PCRs, AK, quote binding, typos"

# A PCR extended after the quote: the next build's quote no longer meets the policy.
D2=$(printf 'tampered' | sha256sum | cut -d' ' -f1)
it_stop_agent
TPM2TOOLS_TCTI=$TCTI tpm2_pcrextend "16:sha256=$D2" || fail "tpm2_pcrextend"
it_start_agent
(cd "$R" && "$HW" attest --key prov -o "$W/p2.json" --material hello.c --product hello --quote \
    --pcrs sha256:0,16 -- "$CC" -O2 -o hello hello.c) || fail "attest after the extend"
expect_exit 1 "$HW" verify --key "$W/prov.pem" --bundle "$W/p2.json" --policy "$W/policy.json"
grep -q "PCR mismatch" "$T/last.err" || fail "extended PCR: $(cat "$T/last.err")"
pass "a PCR extended after the policy's values were taken fails the policy"
