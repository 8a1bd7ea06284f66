# SPDX-License-Identifier: Apache-2.0
# Shared by the SBOM tests (sbom.sh, bench-sbom.sh): install the pinned validators of
# package-lock.json (@cyclonedx/cyclonedx-library 10.3.0 with its optional peers ajv,
# ajv-formats, ajv-formats-draft2019) once per build tree with `npm ci` into $1/npm-sbom (npm
# cache in the same place unless HWSIGN_NPM_CACHE is set), reused while package-lock.json is
# unchanged. No network at test time beyond that `npm ci`: the SPDX 2.3 schema is vendored
# (README.md). Source this file, then:
#   npm_sbom_install BUILD_DIR || skip "$NPM_SBOM_ERR"
# On success `npm_sbom_validate cyclonedx|spdx FILE` runs validate.js (prints VALID/INVALID).
# On failure NPM_SBOM_ERR says why (no node/npm, npm ci failed).

NPM_SBOM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NPM_SBOM_DIR=""
NPM_SBOM_ERR=""

npm_sbom_install() {
    local build=$1 cache want ver
    NPM_SBOM_DIR=$build/npm-sbom
    cache=${HWSIGN_NPM_CACHE:-$NPM_SBOM_DIR/.npm-cache}
    command -v node >/dev/null || { NPM_SBOM_ERR="node not installed"; return 1; }
    command -v npm >/dev/null || { NPM_SBOM_ERR="npm not installed"; return 1; }
    want=$(sha256sum "$NPM_SBOM_HERE/package-lock.json" | cut -d' ' -f1)
    if [ "$(cat "$NPM_SBOM_DIR/.installed" 2>/dev/null)" != "$want" ] ||
        [ ! -f "$NPM_SBOM_DIR/node_modules/@cyclonedx/cyclonedx-library/package.json" ]; then
        mkdir -p "$NPM_SBOM_DIR"
        cp "$NPM_SBOM_HERE/package.json" "$NPM_SBOM_HERE/package-lock.json" "$NPM_SBOM_DIR/"
        (cd "$NPM_SBOM_DIR" && npm ci --engine-strict --prefer-offline --no-audit --no-fund \
            --cache "$cache" >"$NPM_SBOM_DIR/install.log" 2>&1) || {
            NPM_SBOM_ERR="npm ci failed (offline and not cached?): see $NPM_SBOM_DIR/install.log"
            return 1
        }
        echo "$want" > "$NPM_SBOM_DIR/.installed"
    fi
    ver=$(node -p "require('$NPM_SBOM_DIR/node_modules/@cyclonedx/cyclonedx-library/package.json').version")
    [ "$ver" = 10.3.0 ] || { NPM_SBOM_ERR="@cyclonedx/cyclonedx-library $ver installed, 10.3.0 pinned"; return 1; }
    return 0
}

npm_sbom_validate() {
    NODE_PATH=$NPM_SBOM_DIR/node_modules node "$NPM_SBOM_HERE/validate.js" "$@"
}
