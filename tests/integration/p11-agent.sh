#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End to end on a real SoftHSM2 token: create keys of every algorithm through the agent, list,
# show, export (openssl loads the PEM, ssh-keygen the OpenSSH line), sign, verify with openssl
# and `hwsign verify`, register an existing token key by pkcs11: URI, survive a restart, delete.
. "$(dirname "$0")/lib.sh"
it_setup it
it_start_agent
W=$T/work
head -c 100000 /dev/urandom > "$W/blob"

for alg in ecdsa-p256 ecdsa-p384 rsa-3072; do
    name=k-$alg
    "$HW" key create "$name" --alg "$alg" > "$W/$name.create" || fail "key create $alg"
    "$HW" key export "$name" > "$W/$name.pem"
    openssl pkey -pubin -in "$W/$name.pem" -noout 2>/dev/null || fail "openssl cannot load $alg PEM"
    "$HW" sign --key "$name" "$W/blob" -o "$W/$name.sig" >/dev/null
    base64 -d "$W/$name.sig" > "$W/$name.der"
    openssl dgst -sha256 -verify "$W/$name.pem" -signature "$W/$name.der" "$W/blob" \
        | grep -q 'Verified OK' || fail "openssl rejects the $alg signature"
    "$HW" verify --key "$W/$name.pem" --signature "$W/$name.sig" "$W/blob" >/dev/null \
        || fail "hwsign verify rejects the $alg signature"
    if command -v ssh-keygen >/dev/null; then
        "$HW" key export "$name" --format ssh > "$W/$name.ssh"
        ssh-keygen -l -f "$W/$name.ssh" >/dev/null || fail "ssh-keygen rejects the $alg key"
    fi
    pass "$alg: create, export, sign, verify (openssl + hwsign)"
done

# The private key lives on the token, sensitive and not extractable.
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label it --login --pin 1234 --list-objects \
    --type privkey > "$W/objects" 2>/dev/null
grep -q 'label: *k-ecdsa-p256' "$W/objects" || fail "key not found on the token"
grep -A8 'label: *k-ecdsa-p256' "$W/objects" | grep -q 'Access: *sensitive, always sensitive, never extractable' \
    || { cat "$W/objects"; fail "token key is not sensitive/never extractable"; }
pass "token key is sensitive and never extractable"

# Tampered data fails verification with exit 1.
printf 'x' >> "$W/blob"
expect_exit 1 "$HW" verify --key "$W/k-ecdsa-p256.pem" --signature "$W/k-ecdsa-p256.sig" "$W/blob"
pass "tampered file fails verification"

# list / show --json are machine-readable and complete.
"$HW" key list --json | $PY -c 'import json,sys; d=json.load(sys.stdin); n=sorted(k["name"] for k in d); assert n==["k-ecdsa-p256","k-ecdsa-p384","k-rsa-3072"], n'
"$HW" key show k-rsa-3072 --json | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["alg"]=="rsa-3072" and d["locator"].startswith("pkcs11:token=it;"), d'
pass "key list/show --json"

# Register an existing token key by RFC 7512 URI.
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label it --login --pin 1234 --keypairgen \
    --key-type EC:prime256v1 --id a1b2 --label legacy >/dev/null 2>&1
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label it --read-object --type pubkey --id a1b2 \
    -o "$W/legacy.der" >/dev/null 2>&1
openssl pkey -pubin -inform DER -in "$W/legacy.der" -out "$W/legacy.pem"
"$HW" key add legacy --uri 'pkcs11:token=it;id=%a1%b2;type=private' >/dev/null || fail "key add"
"$HW" key export legacy | cmp -s - "$W/legacy.pem" || fail "added key's public key differs"
echo "digest me" > "$W/d"
"$HW" sign --key legacy "$W/d" -o "$W/d.sig" >/dev/null
base64 -d "$W/d.sig" > "$W/d.der"
openssl dgst -sha256 -verify "$W/legacy.pem" -signature "$W/d.der" "$W/d" | grep -q OK \
    || fail "signature by added key does not verify"
expect_exit 4 "$HW" key add bad --uri 'pkcs11:token=it;object=nosuchkey'
expect_exit 2 "$HW" key add bad2 --uri 'pkcs11:token=it;id=%a1%b2?pin-value=1234'
pass "key add by pkcs11: URI (and refusals)"

# Keys survive an agent restart.
it_stop_agent || fail "agent did not exit 0 on SIGTERM"
it_start_agent
"$HW" sign --key k-ecdsa-p256 "$W/blob" -o "$W/again.sig" >/dev/null || fail "sign after restart"
base64 -d "$W/again.sig" > "$W/again.der"
openssl dgst -sha256 -verify "$W/k-ecdsa-p256.pem" -signature "$W/again.der" "$W/blob" \
    | grep -q OK || fail "signature after restart does not verify"
pass "keys survive an agent restart"

# Name collisions and unknown keys are explicit.
expect_exit 4 "$HW" key create k-ecdsa-p256
grep -q "already exists" "$T/last.err" || fail "collision message: $(cat "$T/last.err")"
expect_exit 4 "$HW" sign --key nokey "$W/blob" -o "$W/x.sig"
grep -q "no key named 'nokey'" "$T/last.err" || fail "unknown key message: $(cat "$T/last.err")"
pass "duplicate and unknown names"

# Delete: unregister only, then destroy on the token.
"$HW" key delete legacy >/dev/null
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label it --login --pin 1234 --list-objects \
    --type privkey 2>/dev/null | grep -q 'label: *legacy' || fail "unregistered key left the token"
"$HW" key delete k-ecdsa-p384 --destroy --yes >/dev/null
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label it --login --pin 1234 --list-objects \
    --type privkey 2>/dev/null | grep -q 'label: *k-ecdsa-p384' && fail "destroyed key still on token"
expect_exit 4 "$HW" key show k-ecdsa-p384
pass "key delete and delete --destroy"

"$HW" status --json | $PY -c 'import json,sys; d=json.load(sys.stdin); b=d["backends"][0]; assert b["state"]=="ok" and b["kind"]=="pkcs11", d'
pass "status --json"
