# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Shell helpers shared by the benchmark scripts (sourced, not run). Callers set
# BENCH_PROG (their name, for messages), HERE (this directory) and SRC (the repository) first,
# and run under `set -euo pipefail`.

# Warnings as the tree's build uses them; the bench programs must compile cleanly with them.
BENCH_CFLAGS=(-O2 -g -std=gnu11 -pthread -Wall -Wextra -Werror -Wformat=2 -Wshadow
    -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wcast-qual -Wundef
    -Wno-unused-parameter -Wimplicit-fallthrough -D_FORTIFY_SOURCE=2 -fstack-protector-strong)

die() {
    echo "$BENCH_PROG: $*" >&2
    exit 1
}

# bench_on_exit STOP LOG...: install the exit handling every benchmark uses. On exit (INT and
# TERM exit with 130 / 143 through it) the handler runs the function STOP (which stops what the
# script started), shows the last 20 lines of each non-empty LOG when the script failed, removes
# $D and exits with the script's status. A LOG may be a glob, expanded at exit.
bench_on_exit() {
    BENCH_STOP_FN=$1
    shift
    BENCH_LOGS=("$@")
    trap bench_exit_handler EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
bench_exit_handler() {
    local rc=$? pattern f
    trap - EXIT INT TERM
    "$BENCH_STOP_FN" || true
    if [[ $rc -ne 0 ]]; then
        for pattern in "${BENCH_LOGS[@]}"; do
            for f in $pattern; do
                [[ -s $f ]] || continue
                echo "$BENCH_PROG: failed (status $rc); last lines of $(basename "$f"):" >&2
                tail -n 20 "$f" >&2 || true
            done
        done
    fi
    [[ -z ${D:-} ]] || rm -rf "$D"
    exit "$rc"
}

# bench_build_dir [BUILD_DIR]: sets BUILD to the absolute build directory (default ./build,
# else <repo>/build) and checks that the agent, the CLI and libhwsign are built.
bench_build_dir() {
    if [[ $# -gt 1 ]]; then
        die "usage: $BENCH_PROG [BUILD_DIR]"
    elif [[ $# -eq 1 ]]; then
        BUILD=$1
    elif [[ -d build ]]; then
        BUILD=build
    else
        BUILD=$SRC/build
    fi
    [[ -d $BUILD ]] || die "build directory '$BUILD' does not exist"
    BUILD=$(cd "$BUILD" && pwd)
    AGENT=$BUILD/agent/hwsign-agent
    CLI=$BUILD/cli/hwsign
    [[ -x $AGENT && -x $CLI && -e $BUILD/lib/libhwsign.so ]] ||
        die "$BUILD lacks agent/hwsign-agent, cli/hwsign or lib/libhwsign.so: build it first"
}

# bench_compile_client OUT: compiles bench-client.c against the build tree's libhwsign.
bench_compile_client() {
    local crypto
    read -r -a crypto <<<"$(pkg-config --cflags --libs libcrypto)"
    cc "${BENCH_CFLAGS[@]}" -I"$SRC/lib/include" -o "$1" "$HERE/bench-client.c" \
        -L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lhwsign "${crypto[@]}"
}

# bench_stop_child PID: SIGTERM to a child of this shell, SIGKILL after 5 s, then reap it.
bench_stop_child() {
    local pid=$1 i
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true
}

# bench_wait_agent PID: until the agent at $HWSIGN_AGENT_SOCK answers `hwsign status` (10 s).
bench_wait_agent() {
    local pid=$1 i
    for ((i = 0; ; i++)); do
        kill -0 "$pid" 2>/dev/null || die "the agent exited during start-up"
        [[ -S $HWSIGN_AGENT_SOCK ]] && "$CLI" status >/dev/null 2>&1 && break
        ((i < 100)) || die "the agent did not answer within 10 s"
        sleep 0.1
    done
}

# field NAME LINE: value of NAME=... in a RESULT line
field() {
    sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

bench_host_line() {
    echo "   host: nproc=$(nproc), cpu='$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
        head -n1)', load=$(cut -d' ' -f1-3 /proc/loadavg)"
}
