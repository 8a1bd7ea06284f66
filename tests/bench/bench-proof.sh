#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench-proof.sh [BUILD_DIR]: cost of inclusion proofs from the agent's stored Merkle tree
# (merkle_tree_*, lib/format/merkle.h) against the O(n) merkle_inclusion_proof (not a test).
#
# BUILD_DIR (else $HWSIGN_BUILD, else ./build, else <repo>/build) is a CMake build tree of this
# repository; its static libraries lib/libhwsign_format.a and lib/libhwsign_util.a are built
# with `cmake --build BUILD_DIR --target hwsign_format` when missing. bench-proof.c is compiled
# with cc against them (no CMake change) into a temporary directory, removed on exit, and run:
# it builds a tree of BENCH_PROOF_N random leaves (timed, with heap and RSS bytes per leaf),
# times BENCH_PROOF_Q proofs at the full size, at random older sizes and at the worst-case size
# 2^k - 1 (mean, p50, p99, max in microseconds; every proof verified), and one O(n) proof as the
# baseline ratio.
# Use a Release (or RelWithDebInfo) build without sanitizers for meaningful figures.
#
# Needs cc and pkg-config (libcrypto). Environment knobs: BENCH_PROOF_N (1000000),
# BENCH_PROOF_Q (10000), BENCH_PROOF_SEED (1). A few seconds on a 2-core VM (most of it compiling).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BENCH_PROG=bench-proof.sh
# shellcheck source=common.sh
. "$HERE/common.sh"

N=${BENCH_PROOF_N:-1000000}
Q=${BENCH_PROOF_Q:-10000}
SEED=${BENCH_PROOF_SEED:-1}
for v in "$N" "$Q" "$SEED"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || die "BENCH_PROOF_* values must be positive integers (got '$v')"
done

if [[ $# -gt 1 ]]; then
    die "usage: $BENCH_PROG [BUILD_DIR]"
elif [[ $# -eq 1 ]]; then
    BUILD=$1
elif [[ -n ${HWSIGN_BUILD:-} ]]; then
    BUILD=$HWSIGN_BUILD
elif [[ -d build ]]; then
    BUILD=build
else
    BUILD=$SRC/build
fi
[[ -f $BUILD/CMakeCache.txt ]] || die "'$BUILD' is not a CMake build directory (set HWSIGN_BUILD)"
BUILD=$(cd "$BUILD" && pwd)
for tool in cc pkg-config; do
    command -v "$tool" >/dev/null || die "'$tool' is not installed"
done
if grep -q '^HWSIGN_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" ||
    grep -q '^HWSIGN_FUZZ:BOOL=ON' "$BUILD/CMakeCache.txt"; then
    die "$BUILD is a sanitizer or fuzzing build: use a Release build for figures"
fi
if [[ ! -f $BUILD/lib/libhwsign_format.a || ! -f $BUILD/lib/libhwsign_util.a ]]; then
    cmake --build "$BUILD" --target hwsign_format -j2 >/dev/null ||
        die "cannot build hwsign_format in $BUILD"
fi

D=$(mktemp -d "${TMPDIR:-/tmp}/hwsign-bench-proof.XXXXXX")
trap 'rm -rf "$D"' EXIT

read -r -a crypto <<<"$(pkg-config --cflags --libs libcrypto)"
cc "${BENCH_CFLAGS[@]}" -I"$SRC/lib/format" -I"$SRC/lib/util" -I"$SRC/lib/include" \
    -o "$D/bench-proof" "$HERE/bench-proof.c" \
    "$BUILD/lib/libhwsign_format.a" "$BUILD/lib/libhwsign_util.a" "${crypto[@]}"

build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD/CMakeCache.txt")
echo "bench-proof: $(date -u +%Y-%m-%dT%H:%M:%SZ), nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "build $BUILD (${build_type:-RelWithDebInfo, the project default}), N=$N Q=$Q seed=$SEED"
"$D/bench-proof" -n "$N" -q "$Q" -s "$SEED"
