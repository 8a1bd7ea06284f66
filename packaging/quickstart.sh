#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# hwsign quick start (Debian 12, as root): install build dependencies, build, start an agent on
# a PKCS#11 token (a private SoftHSM2 token unless a real module is configured) and a TPM 2.0
# (/dev/tpmrm0, or a private software TPM, swtpm, when there is none), create an ECDSA P-256 key
# in each through the agent, sign an example file with both and verify the signatures with
# `hwsign verify` and with `openssl dgst`. Running it again reuses the state and the keys.
#
#   packaging/quickstart.sh           set up (or reuse) and start the agent
#   packaging/quickstart.sh --stop    stop the agent started here
#
# Environment (optional): HWSIGN_QUICKSTART_DIR (state, default ~/.local/state/hwsign-quickstart);
# a real HSM instead of SoftHSM2: HWSIGN_PKCS11_MODULE, HWSIGN_PKCS11_TOKEN (label) and
# HWSIGN_PKCS11_PIN_FILE (a file holding the user PIN, mode 0600).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
Q=${HWSIGN_QUICKSTART_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/hwsign-quickstart}
BUILD=$TOP/build
say() { printf '\n== %s\n' "$*"; }
die() { echo "quickstart: $*" >&2; exit 1; }

stop_pidfile() { # PIDFILE WHAT
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        echo "$2 stopped"
    fi
    rm -f "$1"
}
stop_agent() {
    stop_pidfile "$Q/agent.pid" agent
    stop_pidfile "$Q/swtpm/swtpm.pid" "software TPM"
}

if [ "${1:-}" = "--stop" ]; then
    stop_agent
    exit 0
fi
[ $# -eq 0 ] || die "usage: $0 [--stop]"

say "installing build dependencies"
PACKAGES="build-essential cmake pkg-config libssl-dev libp11-dev libp11-kit-dev softhsm2 opensc
  libsystemd-dev libjson-c-dev libcmocka-dev libtss2-dev swtpm swtpm-tools libtss2-tcti-swtpm0"
missing=()
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "run as root to install: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "ok"

say "building in $BUILD"
cmake -S "$TOP" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
HW=$BUILD/cli/hwsign
AGENT=$BUILD/agent/hwsign-agent
echo "ok: $AGENT, $HW"

say "state in $Q"
umask 077
stop_agent
# State left by an older hwsign whose signing log this one cannot read: the agent refuses to
# sign on top of a log that does not verify, rightly. This is a demo's state, so keep it aside
# and start afresh instead of failing.
if [ -s "$Q/state/log/records" ] && ! "$HW" log verify --log "$Q/state/log/records" >/dev/null 2>&1; then
    old="$Q.unreadable-$(date +%Y%m%d-%H%M%S)"
    mv "$Q" "$old"
    echo "the signing log in $Q does not verify with this build (an older format?):"
    echo "moved that whole quickstart state to $old; starting afresh"
fi
mkdir -p "$Q/state" "$Q/run"
chmod 700 "$Q" "$Q/state"
chmod 750 "$Q/run"

if [ -n "${HWSIGN_PKCS11_MODULE:-}" ]; then
    MODULE=$HWSIGN_PKCS11_MODULE
    TOKEN=${HWSIGN_PKCS11_TOKEN:?set HWSIGN_PKCS11_TOKEN to the token label}
    PINFILE=${HWSIGN_PKCS11_PIN_FILE:?set HWSIGN_PKCS11_PIN_FILE to a file with the user PIN}
    echo "using PKCS#11 module $MODULE, token '$TOKEN'"
else
    MODULE=/usr/lib/softhsm/libsofthsm2.so
    TOKEN=hwsign-quickstart
    PINFILE=$Q/token.pin
    mkdir -p "$Q/softhsm/tokens"
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
        "$Q/softhsm/tokens" > "$Q/softhsm/softhsm2.conf"
    export SOFTHSM2_CONF=$Q/softhsm/softhsm2.conf
    if ! softhsm2-util --show-slots 2>/dev/null | grep -q "Label: *$TOKEN\b"; then
        # A fresh random PIN per token; it only ever lives in this 0600 file.
        head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$PINFILE"
        so_pin=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
        softhsm2-util --init-token --free --label "$TOKEN" --so-pin "$so_pin" \
            --pin "$(cat "$PINFILE")" >/dev/null
        unset so_pin
        echo "initialised SoftHSM2 token '$TOKEN' in $Q/softhsm"
    else
        echo "reusing SoftHSM2 token '$TOKEN'"
    fi
fi

if [ -e /dev/tpmrm0 ]; then
    TCTI=device:/dev/tpmrm0
    echo "using the TPM at /dev/tpmrm0"
else
    # No TPM here: a private software TPM on a unix socket, its state kept in $Q/swtpm.
    mkdir -p "$Q/swtpm"
    swtpm socket --tpm2 --tpmstate dir="$Q/swtpm" \
        --server type=unixio,path="$Q/swtpm/sock" --ctrl type=unixio,path="$Q/swtpm/sock.ctrl" \
        --flags not-need-init,startup-clear --pid file="$Q/swtpm/swtpm.pid" \
        --log file="$Q/swtpm/swtpm.log" -d || { cat "$Q/swtpm/swtpm.log" >&2; die "swtpm failed"; }
    for _ in $(seq 50); do [ -S "$Q/swtpm/sock" ] && break; sleep 0.1; done
    TCTI=swtpm:path=$Q/swtpm/sock
    echo "no /dev/tpmrm0: started a software TPM (swtpm) with its state in $Q/swtpm"
fi

cat > "$Q/agent.conf" <<CONF
# Written by packaging/quickstart.sh
[agent]
state-dir = $Q/state
socket = $Q/run/agent.sock
log-target = stderr
log-key = quickstart-log

[tpm]
tcti = $TCTI

[pkcs11 "token"]
module = $MODULE
token = $TOKEN
pin = file:$PINFILE
CONF
chmod 600 "$Q/agent.conf"

say "starting hwsign-agent"
SOCK=$Q/run/agent.sock
setsid "$AGENT" --config "$Q/agent.conf" >>"$Q/agent.log" 2>&1 < /dev/null &
echo $! > "$Q/agent.pid"
export HWSIGN_AGENT_SOCK=$SOCK
for _ in $(seq 100); do
    "$HW" status >/dev/null 2>&1 && break
    kill -0 "$(cat "$Q/agent.pid")" 2>/dev/null || { tail -n 20 "$Q/agent.log" >&2; die "agent exited"; }
    sleep 0.1
done
"$HW" status

enroll() { # NAME BACKEND WHAT
    say "key '$1' (ECDSA P-256, generated inside the $3)"
    if ! "$HW" key show "$1" >/dev/null 2>&1; then
        "$HW" key create "$1" --backend "$2" --alg ecdsa-p256
    else
        "$HW" key show "$1"
    fi
    "$HW" key export "$1" -o "$Q/$1.pub.pem"
}
enroll quickstart token "PKCS#11 token"
enroll quickstart-tpm tpm TPM
enroll quickstart-log tpm "TPM (it signs the signing log's checkpoints)"

EXAMPLE=$Q/example.txt
printf 'hwsign quick start example, %s\n' "$(date -u +%FT%TZ)" > "$EXAMPLE"
for key in quickstart quickstart-tpm; do
    say "signing an example file with '$key'"
    "$HW" sign --key "$key" "$EXAMPLE" -o "$EXAMPLE.$key.sig"
    "$HW" verify --key "$Q/$key.pub.pem" --signature "$EXAMPLE.$key.sig" "$EXAMPLE"
    base64 -d "$EXAMPLE.$key.sig" > "$EXAMPLE.$key.sig.der"
    openssl dgst -sha256 -verify "$Q/$key.pub.pem" -signature "$EXAMPLE.$key.sig.der" "$EXAMPLE"
done

say "a measured build: the agent signs SLSA provenance, bound to a TPM quote"
( cd "$Q" && "$HW" attest --key quickstart -o "$Q/build.sigstore.json" --product "example.out" \
    --quote -- sh -c 'sort example.txt > example.out' )
"$HW" key ak -o "$Q/ak.pem"
cat > "$Q/policy.json" <<POLICY
{"allowedCommands": ["sh"], "subjects": ["$Q/example.out"], "quote": {"ak": "ak.pem"}}
POLICY
"$HW" verify --key "$Q/quickstart.pub.pem" --bundle "$Q/build.sigstore.json" \
    --log-key "$Q/quickstart-log.pub.pem" --policy "$Q/policy.json" "$Q/example.out"

say "the signing log: every signature above is recorded; a signed checkpoint covers them"
"$HW" log checkpoint --new --verify-key "$Q/quickstart-log.pub.pem" -o "$Q/checkpoint.note"
"$HW" log verify --state-dir "$Q/state" --checkpoint "$Q/checkpoint.note" \
    --log-key "$Q/quickstart-log.pub.pem"

cat <<DONE

The agent is running (pid $(cat "$Q/agent.pid"), log $Q/agent.log). To use it:

  export HWSIGN_AGENT_SOCK=$SOCK
  $HW key list
  $HW sign --key quickstart FILE            # PKCS#11 key; writes FILE.sig (base64 DER, cosign-compatible)
  $HW sign --key quickstart-tpm FILE        # TPM key
  $HW verify --key $Q/quickstart.pub.pem --signature FILE.sig FILE
  $HW attest --key quickstart --product OUT -- BUILD-COMMAND...   # measured SLSA provenance
  $HW log search --state-dir $Q/state      # what was signed, by whom, when

To stop it:  $0 --stop
DONE
