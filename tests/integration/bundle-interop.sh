#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Interop of lib/format's Sigstore bundles with verifiers we did not write:
#   1. mkbundle signs an artifact with an OpenSSL software P-256 key and writes a
#      messageSignature and a dsseEnvelope bundle;
#   2. openssl dgst -sha256 -verify accepts the messageSignature signature (cosign format);
#   3. @sigstore/verify 3.1.1 / @sigstore/bundle 4.0.0 verify both offline, key-pinned, and
#      reject tampered payload, payloadType, signature and a wrong key (npm/verify-interop.js).
# The pinned packages are installed once per build tree with `npm ci` into
# $HWSIGN_BUILD/npm-interop by npm/setup.sh (shared with envelope.sh) and reused while
# package-lock.json is unchanged. Exit 77 (skip) without node/npm or packages.
#
# usage: bundle-interop.sh /path/to/test-mkbundle
set -euo pipefail

MKBUNDLE=${1:?usage: bundle-interop.sh MKBUNDLE}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${HWSIGN_BUILD:-$(dirname "$(dirname "$(dirname "$(readlink -f "$MKBUNDLE")")")")}

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
. "$HERE/npm/setup.sh"
npm_interop_install "$BUILD" || {
    case $NPM_INTEROP_ERR in
    @sigstore/verify*) fail "$NPM_INTEROP_ERR" ;;
    *) skip "$NPM_INTEROP_ERR" ;;
    esac
}
npm_interop_node "$HERE/npm/verify-interop.js" "$T" "$T/artifact.bin" ||
    fail "sigstore-js verification"
echo "PASS"
