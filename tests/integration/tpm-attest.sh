#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The TPM attestation key end to end on swtpm: `hwsign key ak` enrolls the AK (created once,
# then stable); `hwsign key attest` proves a TPM key lives in the TPM (TPM2_Certify), the
# proof verifies offline with `hwsign key verify-attestation` and its signature with
# `openssl dgst`; another key, another AK, another nonce and a flipped byte are refused; a
# PKCS#11 key cannot be certified; evidence requests without a TPM fail clearly.
. "$(dirname "$0")/lib.sh"
it_setup it
it_start_swtpm
W=$T/work
it_write_config "[tpm]
tcti = $TCTI"
it_start_agent

"$HW" key ak -o "$W/ak.pem"
openssl pkey -pubin -in "$W/ak.pem" -noout -text 2>/dev/null | grep -q "prime256v1\|P-256" ||
    fail "the AK is not an EC P-256 key: $(cat "$W/ak.pem")"
[ -f "$T/state/tpm-keys/attestation-key.pem" ] || fail "no AK file in the state directory"
"$HW" key ak > "$W/ak2.pem"
cmp -s "$W/ak.pem" "$W/ak2.pem" || fail "the AK changed between calls"
pass "key ak: the AK is created once and stays the same"

"$HW" key create t1 --backend tpm >/dev/null
"$HW" key create t2 --backend tpm --alg rsa-3072 >/dev/null
"$HW" key export t1 > "$W/t1.pem"
"$HW" key export t2 > "$W/t2.pem"
nonce=$(openssl rand -hex 32)
"$HW" key attest t1 --nonce "$nonce" -o "$W/t1.proof" > "$W/out" || fail "key attest t1"
grep -q "Wrote the TPM certification of key t1" "$W/out" || fail "key attest output: $(cat "$W/out")"
expect_exit 0 "$HW" key verify-attestation --ak "$W/ak.pem" --key "$W/t1.pem" --nonce "$nonce" "$W/t1.proof"
grep -q "Verified OK" "$T/last.out" || fail "verify-attestation output"
# Independent check of the AK signature over the attestation.
$PY - "$W/t1.proof" "$W" <<'PY' || fail "proof file"
import base64, json, sys
p = json.load(open(sys.argv[1]))
assert p["type"] == "https://hwsign.dev/key-certification/v1" and p["key"] == "t1", p
open(sys.argv[2] + "/attest.bin", "wb").write(base64.b64decode(p["attest"]))
open(sys.argv[2] + "/attest.sig", "wb").write(base64.b64decode(p["signature"]))
a = base64.b64decode(p["attest"])
assert a[:4] == b"\xffTCG" and a[4:6] == b"\x80\x17", a[:6].hex()   # TPM_GENERATED, ATTEST_CERTIFY
PY
openssl dgst -sha256 -verify "$W/ak.pem" -signature "$W/attest.sig" "$W/attest.bin" | grep -q OK ||
    fail "openssl rejects the AK signature over the certification"
"$HW" key attest t2 -o "$W/t2.proof" > /dev/null || fail "key attest of an RSA TPM key"
expect_exit 0 "$HW" key verify-attestation --ak "$W/ak.pem" --key "$W/t2.pem" "$W/t2.proof"
pass "key attest: TPM2_Certify proofs of P-256 and RSA keys verify offline and with openssl"

expect_exit 1 "$HW" key verify-attestation --ak "$W/ak.pem" --key "$W/t2.pem" "$W/t1.proof"
grep -q "certifies another key" "$T/last.err" || fail "other key: $(cat "$T/last.err")"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkey -pubout > "$W/other.pem"
expect_exit 1 "$HW" key verify-attestation --ak "$W/other.pem" --key "$W/t1.pem" "$W/t1.proof"
grep -q "not a certification signed by the attestation key" "$T/last.err" || fail "other AK"
expect_exit 1 "$HW" key verify-attestation --ak "$W/ak.pem" --key "$W/t1.pem" \
    --nonce "$(openssl rand -hex 32)" "$W/t1.proof"
grep -q "another challenge" "$T/last.err" || fail "nonce: $(cat "$T/last.err")"
$PY - "$W/t1.proof" "$W/bad.proof" <<'PY'
import base64, json, sys
p = json.load(open(sys.argv[1]))
a = bytearray(base64.b64decode(p["attest"])); a[-5] ^= 1
p["attest"] = base64.b64encode(bytes(a)).decode()
json.dump(p, open(sys.argv[2], "w"))
PY
expect_exit 1 "$HW" key verify-attestation --ak "$W/ak.pem" --key "$W/t1.pem" "$W/bad.proof"
"$HW" key create p --backend it >/dev/null
expect_exit 4 "$HW" key attest p -o "$W/p.proof"
grep -q "only TPM keys can be certified" "$T/last.err" || fail "p11 key: $(cat "$T/last.err")"
expect_exit 4 "$HW" key attest nosuch -o "$W/n.proof"
pass "another key, another AK, another nonce, a flipped byte, a PKCS#11 key, no key: refused"

# Without a TPM backend: a clear error.
it_stop_agent
it_write_config ""
it_start_agent
expect_exit 3 "$HW" key ak
grep -q "no TPM backend is configured" "$T/last.err" || fail "no TPM: $(cat "$T/last.err")"
pass "without a TPM backend, evidence requests fail with a clear message"
