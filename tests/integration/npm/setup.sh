# SPDX-License-Identifier: Apache-2.0
# Shared by the interop tests (bundle-interop.sh, envelope.sh): install the pinned sigstore-js
# packages of package-lock.json once per build tree with `npm ci` into $1/npm-interop (npm
# cache in the same place unless HWSIGN_NPM_CACHE is set), reused while package-lock.json is
# unchanged. Source this file, then:
#   npm_interop_install BUILD_DIR || skip "$NPM_INTEROP_ERR"
# On success NPM_DIR names the install and `npm_interop_node SCRIPT ARGS...` runs node with
# NODE_PATH set. On failure NPM_INTEROP_ERR says why (no node/npm, npm ci failed).

NPM_INTEROP_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NPM_DIR=""
NPM_INTEROP_ERR=""

npm_interop_install() {
    local build=$1 cache want ver
    NPM_DIR=$build/npm-interop
    cache=${HWSIGN_NPM_CACHE:-$NPM_DIR/.npm-cache}
    command -v node >/dev/null || { NPM_INTEROP_ERR="node not installed"; return 1; }
    command -v npm >/dev/null || { NPM_INTEROP_ERR="npm not installed"; return 1; }
    want=$(sha256sum "$NPM_INTEROP_HERE/package-lock.json" | cut -d' ' -f1)
    if [ "$(cat "$NPM_DIR/.installed" 2>/dev/null)" != "$want" ] ||
        [ ! -f "$NPM_DIR/node_modules/@sigstore/verify/package.json" ]; then
        mkdir -p "$NPM_DIR"
        cp "$NPM_INTEROP_HERE/package.json" "$NPM_INTEROP_HERE/package-lock.json" "$NPM_DIR/"
        (cd "$NPM_DIR" && npm ci --engine-strict --prefer-offline --no-audit --no-fund \
            --cache "$cache" >"$NPM_DIR/install.log" 2>&1) || {
            NPM_INTEROP_ERR="npm ci failed (offline and not cached?): see $NPM_DIR/install.log"
            return 1
        }
        echo "$want" > "$NPM_DIR/.installed"
    fi
    ver=$(node -p "require('$NPM_DIR/node_modules/@sigstore/verify/package.json').version")
    [ "$ver" = 3.1.1 ] || { NPM_INTEROP_ERR="@sigstore/verify $ver installed, 3.1.1 pinned"; return 1; }
    return 0
}

npm_interop_node() {
    NODE_PATH=$NPM_DIR/node_modules node "$@"
}
