#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The hwsign CLI without an agent: usage errors (exit 2, one line on stderr), --help of every
# command, "agent unavailable" (exit 3), local file errors (exit 4), and offline verification
# of signatures made by openssl itself (P-256, P-384, RSA-3072) the way cosign sign-blob
# writes them (exit 0 / 1).
#
# Usage: cli-usage.sh PATH-TO-hwsign
set -euo pipefail

HWSIGN=$(realpath -e "${1:?usage: cli-usage.sh PATH-TO-hwsign}")
[ -x "$HWSIGN" ] || { echo "cli-usage.sh: $HWSIGN is not executable" >&2; exit 1; }
for tool in openssl python3 base64 sha256sum; do
    command -v "$tool" >/dev/null || { echo "cli-usage.sh: $tool is required" >&2; exit 1; }
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# No agent anywhere: any attempt to reach one must fail with exit 3, never hang or succeed.
export HWSIGN_AGENT_SOCK="$WORK/no-agent.sock"
unset XDG_RUNTIME_DIR

failures=0
checks=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# check RC REGEX [ARGS...]: run hwsign ARGS (stdin from $STDIN, default /dev/null) and check
# the exit status. A non-zero status must come with exactly one stderr line "hwsign: ..."
# matching REGEX (extended regex); status 0 must leave stderr empty. stdout is in out.txt.
check() {
    local want=$1 regex=$2 rc=0 lines
    shift 2
    checks=$((checks + 1))
    "$HWSIGN" "$@" <"${STDIN:-/dev/null}" >out.txt 2>err.txt || rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "hwsign $* exited $rc, expected $want; stderr: $(head -c 500 err.txt)"
        return 0
    fi
    lines=$(wc -l <err.txt)
    if [ "$want" -eq 0 ]; then
        [ -s err.txt ] && fail "hwsign $* succeeded but wrote to stderr: $(head -c 500 err.txt)"
        return 0
    fi
    if [ "$lines" -ne 1 ] || ! grep -q '^hwsign: ' err.txt; then
        fail "hwsign $*: expected one 'hwsign: ...' line on stderr, got: $(head -c 500 err.txt)"
    elif ! grep -Eq -- "$regex" err.txt; then
        fail "hwsign $*: stderr '$(cat err.txt)' does not match /$regex/"
    fi
}

json_ok() { # json_ok PYTHON-EXPR: out.txt parses as JSON and EXPR (over d) holds
    python3 - "$1" <<'PY' || fail "JSON output does not parse or fails '$1': $(head -c 500 out.txt)"
import json, sys
try:
    d = json.load(open("out.txt"))
    ok = eval(sys.argv[1])
except Exception as e:
    print(f"json check: {e!r}", file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
PY
}

echo data >file.txt

# ---- usage errors: exit 2 and one line, before any connection attempt ---------------------
check 2 'missing command'
check 2 "unknown command 'frobnicate'" frobnicate
check 2 "unknown option '--bogus'" --bogus
check 2 "option '--socket' needs an argument" --socket
check 2 "unknown option '--bogus'" status --bogus
check 2 "unexpected argument 'extra'" status extra
check 2 'missing command' key
check 2 "unknown command 'frob'" key frob
check 2 "unknown option '--bogus'" key --bogus
check 2 'key create: missing NAME' key create
check 2 "invalid key name 'bad/name'" key create bad/name
check 2 "invalid key name '.hidden'" key create .hidden
check 2 "invalid key name" key create "$(printf 'a%.0s' {1..65})"
check 2 "unknown algorithm 'ed448'" key create k1 --alg ed448
check 2 "option '--alg' needs an argument" key create k1 --alg
check 2 "invalid backend name 'no/pe'" key create k1 --backend no/pe
check 2 "unexpected argument 'k2'" key create k1 k2
check 2 "unknown option '-x'" key create -x k1
check 2 'missing --uri' key add k1
check 2 "PKCS#11 URI" key add k1 --uri file:/etc/passwd
check 2 'key add: missing NAME' key add --uri 'pkcs11:token=t;object=o'
check 2 "unexpected argument 'extra'" key list extra
check 2 "unknown option '--bogus'" key list --bogus
check 2 'key show: missing NAME' key show
check 2 "unknown format 'der'" key export k1 --format der
check 2 'key export: missing NAME' key export
check 2 'add --yes to confirm' key delete k1 --destroy
check 2 'key delete: missing NAME' key delete --destroy --yes
check 2 'missing --key' sign file.txt
check 2 'sign: missing FILE' sign --key k1
check 2 "invalid key name 'a b'" sign --key 'a b' file.txt
check 2 "option '--key' needs an argument" sign file.txt --key
check 2 'needs -o' sign --key k1 -
check 2 'would overwrite' sign --key k1 -o file.txt file.txt
check 2 'cannot be combined' sign --key k1 --json -o - file.txt
check 2 "unexpected argument 'more.txt'" sign --key k1 file.txt more.txt
check 2 'missing --signature' verify --key pub.pem file.txt
check 2 'missing --key' verify --signature s.sig file.txt
check 2 'verify: missing FILE' verify --key pub.pem --signature s.sig
check 2 "unknown option '--bundel'" verify --bundel b.json file.txt
[ -e file.txt.sig ] && fail "a usage error left file.txt.sig behind"
check 2 'would overwrite' sign --key k1 --bundle file.txt file.txt
check 2 "name the same file 'b.json'" sign --key k1 --bundle b.json -o b.json file.txt
check 2 'cannot be combined' sign --key k1 --bundle - --json file.txt
check 2 "option '--bundle' needs an argument" sign --key k1 file.txt --bundle
check 2 '\-\-bundle needs a file name' sign --key k1 --bundle '' file.txt
check 2 'cannot be combined' verify --key pub.pem --bundle b.json --signature s.sig file.txt
check 2 "unexpected argument 'more.txt'" verify --key pub.pem --bundle b.json file.txt more.txt
check 2 'cannot both be standard input' verify --key pub.pem --bundle - -
# attest-blob: every required option, checked before any file is read or agent reached.
echo '{"k": "v"}' >pred.json
A=(--type https://slsa.dev/provenance/v1 --predicate pred.json --subject file.txt -o att.json)
check 2 'attest-blob: missing --key NAME' attest-blob "${A[@]}"
check 2 "invalid key name 'a/b'" attest-blob --key a/b "${A[@]}"
check 2 'missing --type PREDICATE_TYPE' attest-blob --key k1 --predicate pred.json --subject file.txt -o att.json
check 2 "invalid predicate type 'not a uri'" attest-blob --key k1 --type 'not a uri' --predicate pred.json --subject file.txt -o att.json
check 2 "invalid predicate type 'HTTPS://x.example/v1'" attest-blob --key k1 --type HTTPS://x.example/v1 --predicate pred.json --subject file.txt -o att.json
check 2 'missing --predicate FILE.json' attest-blob --key k1 --type https://x.example/v1 --subject file.txt -o att.json
check 2 'missing --subject FILE' attest-blob --key k1 --type https://x.example/v1 --predicate pred.json -o att.json
check 2 'missing -o OUT' attest-blob --key k1 --type https://x.example/v1 --predicate pred.json --subject file.txt
check 2 "unexpected argument 'file.txt' \(subjects need --subject\)" attest-blob --key k1 "${A[@]}" file.txt
check 2 'must name a file, not standard input' attest-blob --key k1 --type https://x.example/v1 --predicate pred.json --subject - -o att.json
check 2 "two subjects named 'file.txt'" attest-blob --key k1 "${A[@]}" --subject ./file.txt
check 2 "does not name a file" attest-blob --key k1 --type https://x.example/v1 --predicate pred.json --subject dir/ -o att.json
check 2 'would overwrite subject' attest-blob --key k1 --type https://x.example/v1 --predicate pred.json --subject file.txt -o file.txt
check 2 'cannot be combined' attest-blob --key k1 --json --type https://x.example/v1 --predicate pred.json --subject file.txt -o -
check 2 "unknown option '--bogus'" attest-blob --bogus
check 2 "option '--subject' needs an argument" attest-blob --key k1 --subject
[ -e att.json ] && fail "a usage error left att.json behind"
# log: proof, consistency, checkpoint, verify-proof and verify --checkpoint (offline tools;
# usage is checked before any file is read or agent reached).
check 2 'missing subcommand' log
check 2 "log proof: missing INDEX" log proof
check 2 "invalid INDEX 'x'" log proof x
check 2 "invalid INDEX '-1'" log proof -- -1
check 2 "unexpected argument '2'" log proof 1 2
check 2 "invalid --size '0'" log proof 0 --size 0
check 2 'INDEX must be below --size' log proof 5 --size 5
check 2 "option '--size' needs an argument" log proof 1 --size
check 2 "unknown option '--bogus'" log proof 1 --bogus
check 2 'missing OLD and NEW' log consistency 3
check 2 "invalid OLD '0'" log consistency 0 3
check 2 "invalid NEW '2' \(at least OLD\)" log consistency 3 2
check 2 "unexpected argument '9'" log consistency 1 2 9
check 2 "unknown option '--size'" log consistency 1 2 --size 3
check 2 "unexpected argument 'now'" log checkpoint now
check 2 "option '--verify-key' needs an argument" log checkpoint --verify-key
check 2 '\-\-checkpoint and \-\-log-key go together' log verify --checkpoint cp.note
check 2 '\-\-checkpoint and \-\-log-key go together' log verify --log-key pub.pem
check 2 '\-\-checkpoint replaces' log verify --checkpoint cp --log-key k --expect-size 1 \
    --expect-root 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
check 2 'are required' log verify-proof --log-key k --checkpoint cp --index 1 --proof p.json
check 2 "invalid --index 'x'" log verify-proof --index x
check 2 '\-\-leaf-hash must be a SHA-256' log verify-proof --log-key k --checkpoint cp \
    --index 1 --leaf-hash abcd --proof p.json
check 4 'cannot open /nonexistent/records' log proof 0 --log /nonexistent/records
check 4 'cannot open /nonexistent/records' log consistency 1 1 --log /nonexistent/records
check 4 'cannot read public key' log verify-proof --log-key /nonexistent.pem --checkpoint file.txt \
    --index 0 --leaf-hash 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= --proof file.txt

# ---- --help on every command: exit 0, usage on stdout -------------------------------------
help_check() { # help_check "USAGE PREFIX" ARGS...
    local prefix=$1
    shift
    check 0 '' "$@"
    grep -q "^Usage: $prefix" out.txt || fail "hwsign $*: no 'Usage: $prefix' line in stdout"
}
help_check 'hwsign \[--socket PATH\] COMMAND' --help
help_check 'hwsign \[--socket PATH\] COMMAND' -h
help_check 'hwsign key COMMAND' key --help
help_check 'hwsign key COMMAND' key -h
for sub in create add list show export delete; do
    help_check "hwsign key $sub" key "$sub" --help
    help_check "hwsign key $sub" key "$sub" -h
done
help_check 'hwsign sign' sign --help
help_check 'hwsign attest-blob' attest-blob --help
help_check 'hwsign attest-blob' attest-blob -h
help_check 'hwsign verify' verify --help
help_check 'hwsign status' status --help
help_check 'hwsign log verify' log --help
for sub in verify search proof consistency checkpoint verify-proof; do
    help_check "hwsign log $sub" log "$sub" --help
done
help_check 'hwsign status' --socket /nonexistent status -h
check 0 '' --help
grep -q '^Exit status:' out.txt || fail "hwsign --help lacks the exit status table"
for code in 0 1 2 3 4; do
    grep -q "^  $code  " out.txt || fail "hwsign --help does not document exit status $code"
done
check 0 '' --version
grep -Eq '^hwsign [0-9]+\.[0-9]+\.[0-9]+$' out.txt || fail "bad --version output: $(cat out.txt)"

# ---- agent unavailable: exit 3 with a line naming the socket ------------------------------
check 3 "cannot connect to the agent at $WORK/no-agent.sock: No such file" status
[ -s out.txt ] && fail "status without agent printed to stdout"
check 3 "cannot connect to the agent at $WORK/no-agent.sock" status --json
[ -s out.txt ] && fail "status --json without agent printed to stdout"
check 3 "cannot connect to the agent at $WORK/other.sock" --socket "$WORK/other.sock" status
check 3 "cannot connect to the agent at $WORK/no-agent.sock" key list
check 3 "cannot connect to the agent at $WORK/no-agent.sock" log checkpoint
check 3 "cannot connect to the agent at $WORK/no-agent.sock" log checkpoint --new --json
check 3 "cannot connect to the agent at" key show k1
check 3 "cannot connect to the agent at" key create k1 --alg rsa-3072
check 3 "cannot connect to the agent at" key export k1 --format ssh
check 3 "cannot connect to the agent at" key delete k1
check 3 "cannot connect to the agent at" sign --key k1 file.txt
[ -e file.txt.sig ] && fail "a failed sign left file.txt.sig behind"
# A socket file nobody listens on (an agent that died): connection refused, still exit 3.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' \
    "$WORK/stale.sock"
check 3 'Connection refused' --socket "$WORK/stale.sock" status

check 3 "cannot connect to the agent at" sign --key k1 --bundle b.json file.txt
[ -e b.json ] || [ -e file.txt.sig ] && fail "a failed sign --bundle left output behind"
check 3 "cannot connect to the agent at" attest-blob --key k1 "${A[@]}"
STDIN=pred.json check 3 "cannot connect to the agent at" attest-blob --key k1 --type https://x.example/v1 --predicate - --subject file.txt -o att.json
[ -e att.json ] && fail "a failed attest-blob left att.json behind"

# ---- local file errors: exit 4 ------------------------------------------------------------
check 4 'cannot read missing.txt: No such file' sign --key k1 missing.txt
# attest-blob reads and checks its inputs before reaching the agent: bad input is exit 4.
echo '[1, 2]' >array.json
echo '{"a": 1' >broken.json
echo '{"a": 1, "a": 2}' >dup.json
check 4 'predicate array.json is not a JSON object' attest-blob --key k1 --type https://x.example/v1 --predicate array.json --subject file.txt -o att.json
check 4 'predicate broken.json is not a JSON object' attest-blob --key k1 --type https://x.example/v1 --predicate broken.json --subject file.txt -o att.json
check 4 'predicate dup.json is not a JSON object' attest-blob --key k1 --type https://x.example/v1 --predicate dup.json --subject file.txt -o att.json
STDIN=array.json check 4 'predicate standard input is not a JSON object' attest-blob --key k1 --type https://x.example/v1 --predicate - --subject file.txt -o att.json
check 4 'cannot read predicate missing.json: No such file' attest-blob --key k1 --type https://x.example/v1 --predicate missing.json --subject file.txt -o att.json
# One byte over INTOTO_MAX_STATEMENT (16 MiB).
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >big.json
check 4 'predicate big.json is too large' attest-blob --key k1 --type https://x.example/v1 --predicate big.json --subject file.txt -o att.json
check 4 'cannot read subject missing.bin: No such file' attest-blob --key k1 "${A[@]}" --subject missing.bin
mkdir -p adir
check 4 'cannot read subject adir' attest-blob --key k1 --type https://x.example/v1 --predicate pred.json --subject adir -o att.json
[ -e att.json ] && fail "a failed attest-blob left att.json behind"

# ---- offline verify against openssl's own signatures --------------------------------------
head -c 300000 /dev/urandom >blob.bin
cp blob.bin tampered.bin
printf 'x' >>tampered.bin

declare -A genopts=(
    [p256]='-algorithm EC -pkeyopt ec_paramgen_curve:P-256'
    [p384]='-algorithm EC -pkeyopt ec_paramgen_curve:P-384'
    [rsa3072]='-algorithm RSA -pkeyopt rsa_keygen_bits:3072'
)
declare -A algname=([p256]=ecdsa-p256 [p384]=ecdsa-p384 [rsa3072]=rsa-3072)
for k in p256 p384 rsa3072; do
    # shellcheck disable=SC2086
    openssl genpkey ${genopts[$k]} -out "$k.key" 2>/dev/null
    openssl pkey -in "$k.key" -pubout -out "$k.pub"
    openssl dgst -sha256 -sign "$k.key" -out "$k.der" blob.bin
    base64 -w0 "$k.der" >"$k.sig"           # as cosign sign-blob --output-signature writes it
    base64 -w0 "$k.der" >"$k.sig-nl"        # as cosign prints it on stdout
    echo >>"$k.sig-nl"
    base64 -w64 "$k.der" >"$k.sig-wrapped"  # line-wrapped base64
done
# A second P-256 key: right algorithm, wrong key.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key 2>/dev/null
openssl pkey -in other.key -pubout -out other.pub

for k in p256 p384 rsa3072; do
    for sig in "$k.sig" "$k.sig-nl" "$k.sig-wrapped" "$k.der"; do
        check 0 '' verify --key "$k.pub" --signature "$sig" blob.bin
        grep -qx 'Verified OK' out.txt || fail "verify $k $sig: stdout is not 'Verified OK'"
    done
    check 0 '' verify -k "$k.pub" -s "$k.sig" -- blob.bin
    STDIN=blob.bin check 0 '' verify --key "$k.pub" --signature "$k.sig" -
    STDIN="$k.sig" check 0 '' verify --key "$k.pub" --signature - blob.bin

    fp=$(openssl pkey -pubin -in "$k.pub" -outform DER | sha256sum | cut -d' ' -f1)
    check 0 '' verify --json --key "$k.pub" --signature "$k.sig" blob.bin
    json_ok "d['verified'] is True and d['error'] is None and d['key_alg'] == '${algname[$k]}' and d['key_fingerprint'] == '$fp' and d['signature_encoding'] == 'base64' and d['file'] == 'blob.bin'"
    check 0 '' verify --json --key "$k.pub" --signature "$k.der" blob.bin
    json_ok "d['verified'] is True and d['signature_encoding'] == 'der'"

    check 1 'verification failed: signature does not match tampered.bin' \
        verify --key "$k.pub" --signature "$k.sig" tampered.bin
    [ -s out.txt ] && fail "failed verify printed to stdout: $(cat out.txt)"
    check 1 'verification failed: signature does not match tampered.bin' \
        verify --key "$k.pub" --signature "$k.der" tampered.bin
    check 1 'verification failed' verify --json --key "$k.pub" --signature "$k.sig" tampered.bin
    json_ok "d['verified'] is False and 'does not match' in d['error']"
done

# Wrong key: same algorithm, and across algorithms.
check 1 'verification failed' verify --key other.pub --signature p256.sig blob.bin
check 1 'verification failed' verify --key p384.pub --signature p256.sig blob.bin
check 1 'verification failed' verify --key rsa3072.pub --signature p256.sig blob.bin
check 1 'verification failed' verify --key p256.pub --signature rsa3072.sig blob.bin
check 1 'verification failed' verify --json --key other.pub --signature p256.der blob.bin
json_ok "d['verified'] is False and d['error']"

# Garbage, empty, oversized and truncated signature files.
echo 'this is not a signature' >garbage.sig
check 1 'verification failed: garbage.sig holds neither base64 nor a DER signature$' \
    verify --key p256.pub --signature garbage.sig blob.bin
check 1 'verification failed' verify --json --key p256.pub --signature garbage.sig blob.bin
json_ok "d['verified'] is False and d['signature_encoding'] == 'der'"
head -c 72 /dev/urandom >random.sig
check 1 'verification failed' verify --key p256.pub --signature random.sig blob.bin
printf 'aGVsbG8gd29ybGQ=' >hello.sig  # valid base64, not a signature
check 1 'verification failed' verify --key p256.pub --signature hello.sig blob.bin
: >empty.sig
check 1 'verification failed: signature file empty.sig is empty' \
    verify --key p256.pub --signature empty.sig blob.bin
head -c 100000 /dev/zero | base64 -w0 >huge.sig
check 1 'verification failed: huge.sig is too large' verify -k p256.pub -s huge.sig blob.bin
head -c 40 p256.sig >truncated.sig
check 1 'verification failed' verify --key p256.pub --signature truncated.sig blob.bin

# Local errors are not verification failures: exit 4.
check 4 'cannot read public key missing.pub: No such file' \
    verify --key missing.pub --signature p256.sig blob.bin
check 4 'blob.bin is too large to be a public key' verify --key blob.bin --signature p256.sig blob.bin
check 4 'p256.der does not hold a PEM or DER public key' \
    verify --key p256.der --signature p256.sig blob.bin
check 4 'does not hold a PEM or DER public key' verify --key garbage.sig --signature p256.sig blob.bin
check 4 'cannot read signature missing.sig: No such file' \
    verify --key p256.pub --signature missing.sig blob.bin
check 4 'cannot read missing.bin: No such file' verify --key p256.pub --signature p256.sig missing.bin

# ---- offline verify --bundle (bundles made by openssl + python, no agent) -----------------
python3 - p256.der blob.bin "$(openssl pkey -pubin -in p256.pub -outform DER | sha256sum | cut -d' ' -f1)" <<'PY'
import base64, hashlib, json, sys
sig, art, hint = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read(), sys.argv[3]
b = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
     "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
     "messageSignature": {"messageDigest": {"algorithm": "SHA2_256",
                                            "digest": base64.b64encode(hashlib.sha256(art).digest()).decode()},
                          "signature": base64.b64encode(sig).decode()}}
json.dump(b, open("msg.json", "w"))
b["mediaType"] = "application/json"
json.dump(b, open("badtype.json", "w"))
PY
check 0 '' verify --key p256.pub --bundle msg.json blob.bin
grep -qx 'Verified OK' out.txt || fail "verify --bundle: stdout is not 'Verified OK'"
STDIN=msg.json check 0 '' verify --key p256.pub --bundle - blob.bin
check 0 '' verify --json --key p256.pub --bundle msg.json blob.bin
json_ok "d['verified'] is True and d['kind'] == 'messageSignature' and d['hint_matches_key'] and d['sha256'] == '$(sha256sum blob.bin | cut -d' ' -f1)' and d['subjects'] is None"
check 1 'verification failed: tampered.bin is not the artifact the bundle signs' \
    verify --key p256.pub --bundle msg.json tampered.bin
check 1 'verification failed: the signature in msg.json does not verify with key other.pub' \
    verify --key other.pub --bundle msg.json blob.bin
check 1 'verification failed' verify --json --key other.pub --bundle msg.json blob.bin
json_ok "d['verified'] is False and 'does not verify' in d['error']"
check 2 'msg.json is a messageSignature bundle: FILE is required' verify --key p256.pub --bundle msg.json
check 4 'cannot read bundle missing.json: No such file' verify --key p256.pub --bundle missing.json blob.bin
check 4 'garbage.sig is not a JSON object' verify --key p256.pub --bundle garbage.sig blob.bin
check 4 'pred.json is neither a Sigstore bundle nor a DSSE envelope' verify --key p256.pub --bundle pred.json blob.bin
check 4 'badtype.json is not a valid Sigstore bundle' verify --key p256.pub --bundle badtype.json blob.bin
# One byte over BUNDLE_MAX_JSON (23 MiB).
head -c $((23 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >huge.bundle
check 4 'huge.bundle is too large to be a bundle' verify --key p256.pub --bundle huge.bundle blob.bin
check 4 'cannot read missing.bin' verify --key p256.pub --bundle msg.json missing.bin
check 4 'cannot read public key missing.pub' verify --key missing.pub --bundle msg.json blob.bin

if [ "$failures" -ne 0 ]; then
    echo "cli-usage.sh: $failures failure(s) in $checks checks" >&2
    exit 1
fi
echo "cli-usage.sh: all $checks checks passed"
