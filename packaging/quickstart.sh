#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# hwsign quick start (Debian 12, as root): install build dependencies, build, start an agent on
# a PKCS#11 token (a private SoftHSM2 token unless a real module is configured), create an
# ECDSA P-256 key on the token through the agent, sign an example file and verify the signature
# with `hwsign verify` and with `openssl dgst`. Running it again reuses the state and the key.
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

stop_agent() {
    if [ -f "$Q/agent.pid" ] && kill -0 "$(cat "$Q/agent.pid")" 2>/dev/null; then
        kill -TERM "$(cat "$Q/agent.pid")"
        for _ in $(seq 50); do kill -0 "$(cat "$Q/agent.pid")" 2>/dev/null || break; sleep 0.1; done
        echo "agent stopped"
    fi
    rm -f "$Q/agent.pid"
}

if [ "${1:-}" = "--stop" ]; then
    stop_agent
    exit 0
fi
[ $# -eq 0 ] || die "usage: $0 [--stop]"

say "installing build dependencies"
PACKAGES="build-essential cmake pkg-config libssl-dev libp11-dev libp11-kit-dev softhsm2 opensc
  libsystemd-dev libjson-c-dev libcmocka-dev"
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
mkdir -p "$Q/state" "$Q/run"
chmod 700 "$Q" "$Q/state"
chmod 750 "$Q/run"
stop_agent

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

cat > "$Q/agent.conf" <<CONF
# Written by packaging/quickstart.sh
[agent]
state-dir = $Q/state
socket = $Q/run/agent.sock
log-target = stderr

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

say "key 'quickstart' (ECDSA P-256, generated on the token)"
if ! "$HW" key show quickstart >/dev/null 2>&1; then
    "$HW" key create quickstart --alg ecdsa-p256
else
    "$HW" key show quickstart
fi
"$HW" key export quickstart -o "$Q/quickstart.pub.pem"

say "signing an example file"
EXAMPLE=$Q/example.txt
printf 'hwsign quick start example, %s\n' "$(date -u +%FT%TZ)" > "$EXAMPLE"
"$HW" sign --key quickstart "$EXAMPLE" -o "$EXAMPLE.sig"
"$HW" verify --key "$Q/quickstart.pub.pem" --signature "$EXAMPLE.sig" "$EXAMPLE"
base64 -d "$EXAMPLE.sig" > "$EXAMPLE.sig.der"
openssl dgst -sha256 -verify "$Q/quickstart.pub.pem" -signature "$EXAMPLE.sig.der" "$EXAMPLE"

cat <<DONE

The agent is running (pid $(cat "$Q/agent.pid"), log $Q/agent.log). To use it:

  export HWSIGN_AGENT_SOCK=$SOCK
  $HW key list
  $HW sign --key quickstart FILE            # writes FILE.sig (base64 DER, cosign-compatible)
  $HW verify --key $Q/quickstart.pub.pem --signature FILE.sig FILE

To stop it:  $0 --stop
DONE
