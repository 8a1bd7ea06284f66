#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Interop of lib/format's Sigstore bundles with verifiers we did not write:
#   1. mkbundle signs an artifact with an OpenSSL software P-256 key and writes a
#      messageSignature and a dsseEnvelope bundle;
#   2. openssl dgst -sha256 -verify accepts the messageSignature signature (cosign format);
#   3. @sigstore/verify 3.1.1 / @sigstore/bundle 4.0.0 verify both offline, key-pinned, and
#      reject tampered payload, payloadType, signature and a wrong key (npm/verify-interop.js).
# The pinned packages are installed once per build tree with `npm ci` into
# $HWSIGN_BUILD/npm-interop (npm cache in the same place unless HWSIGN_NPM_CACHE is set) and
# reused while package-lock.json is unchanged. Exit 77 (skip) without node/npm or packages.
#
# usage: bundle-interop.sh /path/to/test-mkbundle
set -euo pipefail

MKBUNDLE=${1:?usage: bundle-interop.sh MKBUNDLE}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${HWSIGN_BUILD:-$(dirname "$(dirname "$(dirname "$(readlink -f "$MKBUNDLE")")")")}
NPM_DIR=$BUILD/npm-interop
NPM_CACHE=${HWSIGN_NPM_CACHE:-$NPM_DIR/.npm-cache}

skip() {
    # tests/run.sh sets HWSIGN_REQUIRE_INTEROP=1: there a missing verifier is a failure.
    if [ "${HWSIGN_REQUIRE_INTEROP:-0}" = 1 ]; then echo "FAIL: $*"; exit 1; fi
    echo "SKIP: $*"; exit 77
}
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v openssl >/dev/null || skip "openssl not installed"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# 1. Sign with our code.
openssl ecparam -name prime256v1 -genkey -noout -out "$T/key.pem" 2>/dev/null
printf 'hwsign bundle interop %s\n' "$(date +%s%N)" > "$T/artifact.bin"
"$MKBUNDLE" "$T/key.pem" "$T/artifact.bin" "$T" || fail "mkbundle"
echo "ok   mkbundle wrote $(ls "$T" | tr '\n' ' ')"

# 2. cosign-compatible signature: openssl verifies it over the artifact bytes.
openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/msg.sig.der" "$T/artifact.bin" \
    >/dev/null || fail "openssl dgst -verify rejected the messageSignature signature"
echo "ok   openssl dgst -sha256 -verify: messageSignature"
printf 'x' >> "$T/artifact.bin.tampered"
cat "$T/artifact.bin" >> "$T/artifact.bin.tampered"
if openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/msg.sig.der" \
    "$T/artifact.bin.tampered" >/dev/null 2>&1; then
    fail "openssl accepted the signature for another artifact"
fi
echo "ok   openssl dgst -sha256 -verify: other artifact rejected"

# 3. sigstore-js.
command -v node >/dev/null || skip "node not installed"
command -v npm >/dev/null || skip "npm not installed"
want=$(sha256sum "$HERE/npm/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$NPM_DIR/.installed" 2>/dev/null)" != "$want" ] ||
    [ ! -f "$NPM_DIR/node_modules/@sigstore/verify/package.json" ]; then
    mkdir -p "$NPM_DIR"
    cp "$HERE/npm/package.json" "$HERE/npm/package-lock.json" "$NPM_DIR/"
    (cd "$NPM_DIR" && npm ci --engine-strict --prefer-offline --no-audit --no-fund \
        --cache "$NPM_CACHE" >"$NPM_DIR/install.log" 2>&1) ||
        skip "npm ci failed (offline and not cached?): see $NPM_DIR/install.log"
    echo "$want" > "$NPM_DIR/.installed"
fi
ver=$(node -p "require('$NPM_DIR/node_modules/@sigstore/verify/package.json').version")
[ "$ver" = 3.1.1 ] || fail "@sigstore/verify $ver installed, 3.1.1 pinned"
NODE_PATH=$NPM_DIR/node_modules node "$HERE/npm/verify-interop.js" "$T" "$T/artifact.bin" ||
    fail "sigstore-js verification"
echo "PASS"
