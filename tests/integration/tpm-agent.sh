#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TPM keys end to end on a real software TPM (swtpm) beside a SoftHSM2 token: create every
# algorithm through the agent, sign, verify with openssl, keys survive an agent restart, the
# key files load in tpm2-openssl, swtpm killed under load and restarted without an agent
# restart, a stalled TPM never delays PKCS#11 requests, 32 concurrent TPM clients, and the
# dictionary-attack lockout counter is unchanged by all of it.
. "$(dirname "$0")/lib.sh"
it_setup it
it_start_swtpm
W=$T/work
LOAD="$PY $(dirname "$0")/load.py"
da_before=$(tpm_lockout_counter)
[ -n "$da_before" ] || fail "cannot read TPM2_PT_LOCKOUT_COUNTER"
it_write_config "[tpm]
tcti = $TCTI"
sed -i 's/^request-timeout = .*/request-timeout = 3s/' "$T/agent.conf"
it_start_agent
head -c 50000 /dev/urandom > "$W/blob"

for alg in ecdsa-p256 ecdsa-p384 rsa-3072; do
    "$HW" key create "t-$alg" --backend tpm --alg "$alg" >/dev/null || fail "TPM key create $alg"
    "$HW" key export "t-$alg" > "$W/t-$alg.pem"
    "$HW" sign --key "t-$alg" "$W/blob" -o "$W/t-$alg.sig" >/dev/null || fail "TPM sign $alg"
    base64 -d "$W/t-$alg.sig" > "$W/t-$alg.der"
    openssl dgst -sha256 -verify "$W/t-$alg.pem" -signature "$W/t-$alg.der" "$W/blob" \
        | grep -q OK || fail "openssl rejects the TPM $alg signature"
done
"$HW" key show t-ecdsa-p256 --json | $PY -c '
import json,sys; d=json.load(sys.stdin)
assert d["backend"]=="tpm" and d["backend_kind"]=="tpm" and d["locator"].endswith("/tpm-keys/t-ecdsa-p256.pem"), d' \
    || fail "key show of a TPM key"
head -1 "$T/state/tpm-keys/t-ecdsa-p256.pem" | grep -q 'BEGIN TSS2 PRIVATE KEY' || fail "key file is not TSS2 PEM"
[ "$(stat -c %a "$T/state/tpm-keys/t-ecdsa-p256.pem")" = 600 ] || fail "key file mode"
"$HW" key create p11 --backend it >/dev/null
"$HW" key export p11 > "$W/p11.pem"
"$HW" status --json | $PY -c '
import json,sys; d=json.load(sys.stdin); s={b["name"]:b["state"] for b in d["backends"]}
assert s=={"tpm":"ok","it":"ok"}, s' || fail "status does not show both backends healthy"
pass "TPM keys of every algorithm: create, sign, openssl verify; status shows both backends"

# 32 concurrent clients on one TPM key while another client signs with the SoftHSM2 key.
$LOAD "$HWSIGN_AGENT_SOCK" t-ecdsa-p256 32 25 > "$W/tpm32.json" &
L32=$!
$LOAD "$HWSIGN_AGENT_SOCK" p11 1 400 > "$W/p11.json" || fail "PKCS#11 load: $(cat "$W/p11.json")"
wait $L32 || fail "TPM load: $(cat "$W/tpm32.json")"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"]==800 and not d["failures"], d' "$W/tpm32.json" \
    || fail "32 TPM clients: $(cat "$W/tpm32.json")"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"]==400 and not d["failures"], d' "$W/p11.json" \
    || fail "PKCS#11 client: $(cat "$W/p11.json")"
pass "32 concurrent TPM clients (800 signatures) beside a PKCS#11 client: $(cat "$W/tpm32.json") / $(cat "$W/p11.json")"

# A stalled TPM (swtpm stopped with SIGSTOP) never delays PKCS#11 requests; TPM requests
# fail "busy" at the 3 s deadline; the TPM serves again once it continues.
SWPID=$(cat "$T/tpm/swtpm.pid")
kill -STOP "$SWPID"
$LOAD "$HWSIGN_AGENT_SOCK" t-ecdsa-p256 4 2 --timeout 20 > "$W/stalled.json" &
LST=$!
sleep 0.5
$LOAD "$HWSIGN_AGENT_SOCK" p11 1 200 > "$W/p11-stall.json" || fail "PKCS#11 during TPM stall"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"]==200 and d["max_ms"]<1000, d' "$W/p11-stall.json" \
    || fail "PKCS#11 delayed by the stalled TPM: $(cat "$W/p11-stall.json")"
wait $LST || fail "a TPM client hung: $(cat "$W/stalled.json")"
kill -CONT "$SWPID"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["failures"].get("7",0)>=1, d' "$W/stalled.json" \
    || fail "stalled TPM requests did not fail busy: $(cat "$W/stalled.json")"
ok=""
for _ in $(seq 100); do "$HW" sign --key t-ecdsa-p256 "$W/blob" -o - >/dev/null 2>&1 && { ok=1; break; }; sleep 0.1; done
[ -n "$ok" ] || fail "TPM not serving after SIGCONT"
pass "stalled TPM: PKCS#11 unaffected ($(cat "$W/p11-stall.json")), TPM requests busy at the deadline, then served"

# swtpm killed under load and restarted on the same state: serving again, no agent restart.
$LOAD "$HWSIGN_AGENT_SOCK" t-ecdsa-p256 4 200 --timeout 20 > "$W/kill.json" &
LK=$!
sleep 0.3
it_stop_swtpm KILL
sleep 0.5
it_start_swtpm
wait $LK || fail "a client hung across the swtpm restart: $(cat "$W/kill.json")"
start=$(date +%s%N); ok=""
for _ in $(seq 100); do "$HW" sign --key t-ecdsa-p256 "$W/blob" -o "$W/after.sig" >/dev/null 2>&1 && { ok=1; break; }; sleep 0.05; done
[ -n "$ok" ] || fail "agent did not recover after the swtpm restart"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
base64 -d "$W/after.sig" > "$W/after.der"
openssl dgst -sha256 -verify "$W/t-ecdsa-p256.pem" -signature "$W/after.der" "$W/blob" | grep -q OK \
    || fail "signature after the swtpm restart does not verify"
kill -0 "$AGENT_PID" || fail "agent died"
pass "swtpm killed under load and restarted: serving again ${ms} ms later, same agent ($(cat "$W/kill.json"))"

# Keys survive an agent restart.
it_stop_agent || fail "agent did not exit cleanly"
it_start_agent
"$HW" sign --key t-rsa-3072 "$W/blob" -o "$W/r.sig" >/dev/null || fail "TPM sign after agent restart"
base64 -d "$W/r.sig" > "$W/r.der"
openssl dgst -sha256 -verify "$W/t-rsa-3072.pem" -signature "$W/r.der" "$W/blob" | grep -q OK \
    || fail "TPM signature after agent restart does not verify"
pass "TPM keys survive an agent restart"
it_stop_agent || fail "agent did not exit cleanly"

# The key files are what tpm2-openssl reads: it prints the same public keys.
[ -f /usr/lib/x86_64-linux-gnu/ossl-modules/tpm2.so ] || fail "the tpm2 OpenSSL provider (package tpm2-openssl) is required"
for alg in ecdsa-p256 ecdsa-p384 rsa-3072; do
        TPM2OPENSSL_TCTI=$TCTI openssl pkey -provider tpm2 -provider default \
            -in "$T/state/tpm-keys/t-$alg.pem" -pubout > "$W/t-$alg.tpm2openssl.pem" 2>"$W/err" \
            || fail "tpm2-openssl cannot load the $alg key file: $(cat "$W/err")"
        cmp -s "$W/t-$alg.tpm2openssl.pem" "$W/t-$alg.pem" || fail "tpm2-openssl public key differs ($alg)"
done
pass "key files load in tpm2-openssl with identical public keys"

da_after=$(tpm_lockout_counter)
[ "$da_after" = "$da_before" ] || fail "DA lockout counter moved: $da_before -> $da_after"
pass "DA lockout counter unchanged ($da_before)"
