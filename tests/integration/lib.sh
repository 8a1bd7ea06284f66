# SPDX-License-Identifier: Apache-2.0
# Shared helpers of the integration tests: a private SoftHSM2 token, a real agent on a real
# socket, and the real CLI. Each test sources this, calls it_setup, and gets cleaned up on exit.
# Needs: HWSIGN_BUILD (build dir with agent/hwsign-agent, cli/hwsign, lib/libhwsign.so*).

set -euo pipefail

: "${HWSIGN_BUILD:?HWSIGN_BUILD must name the build directory}"
SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
AGENT_BIN=$HWSIGN_BUILD/agent/hwsign-agent
CLI_BIN=$HWSIGN_BUILD/cli/hwsign
PY=${PY:-/usr/bin/python3}
T=""
AGENT_PID=""

fail() { echo "FAIL: $*" >&2; [ -n "$T" ] && [ -f "$T/agent.log" ] && { echo "--- agent log:" >&2; tail -n 30 "$T/agent.log" >&2; }; exit 1; }
pass() { echo "ok: $*"; }

it_cleanup() {
    local rc=$?
    it_stop_swtpm
    if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
        kill -TERM "$AGENT_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$AGENT_PID" 2>/dev/null || true
    fi
    [ -n "$T" ] && rm -rf "$T"
    exit $rc
}

# A world-traversable temp dir (other users run the CLI from it), a SoftHSM2 token labelled
# $1 (default "it") with user PIN 1234, a PIN file, and an agent config.
it_setup() {
    local label=${1:-it}
    [ -x "$AGENT_BIN" ] || fail "no agent binary at $AGENT_BIN"
    [ -f "$SOFTHSM_MODULE" ] || fail "SoftHSM2 module missing: $SOFTHSM_MODULE"
    T=$(mktemp -d /tmp/hwsign-it.XXXXXX)
    trap it_cleanup EXIT
    chmod 755 "$T"
    mkdir -p "$T/tokens" "$T/state" "$T/run" "$T/bin" "$T/work"
    chmod 755 "$T/run" "$T/bin"
    chmod 777 "$T/work"
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
        "$T/tokens" > "$T/softhsm2.conf"
    export SOFTHSM2_CONF=$T/softhsm2.conf
    softhsm2-util --init-token --free --label "$label" --so-pin 12345678 --pin 1234 >/dev/null
    TOKEN_LABEL=$label
    printf '1234\n' > "$T/pin"
    chmod 600 "$T/pin"
    # The CLI and client library, copied where an unprivileged user can run them.
    cp "$CLI_BIN" "$T/bin/hwsign"
    cp -P "$HWSIGN_BUILD"/lib/libhwsign.so* "$T/bin/"
    chmod 755 "$T/bin"/*
    export LD_LIBRARY_PATH=$T/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    HW="$T/bin/hwsign"
    export HWSIGN_AGENT_SOCK=$T/run/agent.sock
    it_write_config ""
}

# A software TPM on a unix socket in $T/tpm (control channel beside it), as TOOLCHAIN.md shows.
# Sets TCTI. Restarting on the same directory keeps the TPM's state (keys stay valid).
TCTI=""
it_start_swtpm() {
    command -v swtpm >/dev/null || fail "swtpm is required"
    mkdir -p "$T/tpm"
    rm -f "$T/tpm/swtpm.pid"
    swtpm socket --tpm2 --tpmstate dir="$T/tpm" \
        --server type=unixio,path="$T/tpm/sock" --ctrl type=unixio,path="$T/tpm/sock.ctrl" \
        --flags not-need-init,startup-clear --pid file="$T/tpm/swtpm.pid" \
        --log file="$T/tpm/swtpm.log" -d || { cat "$T/tpm/swtpm.log" >&2; fail "swtpm did not start"; }
    for _ in $(seq 50); do [ -s "$T/tpm/swtpm.pid" ] && [ -S "$T/tpm/sock" ] && break; sleep 0.05; done
    [ -s "$T/tpm/swtpm.pid" ] || fail "swtpm wrote no pid file"
    TCTI="swtpm:path=$T/tpm/sock"
}

# Stop (SIGTERM, or the signal in $1) the swtpm started by it_start_swtpm, by its pid file.
it_stop_swtpm() {
    local sig=${1:-TERM} pid
    [ -n "$T" ] && [ -s "$T/tpm/swtpm.pid" ] || return 0
    pid=$(cat "$T/tpm/swtpm.pid")
    kill -"$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$T/tpm/swtpm.pid"
}

# TPM2_PT_LOCKOUT_COUNTER, read with tpm2-tools (only while no agent holds the swtpm socket).
tpm_lockout_counter() {
    TPM2TOOLS_TCTI=$TCTI tpm2_getcap properties-variable \
        | awk '$1 == "TPM2_PT_LOCKOUT_COUNTER:" {print $2}'
}

# Agent config; $1 is appended verbatim (extra sections).
it_write_config() {
    cat > "$T/agent.conf" <<CONF
[agent]
state-dir = $T/state
socket = $T/run/agent.sock
socket-group = nogroup
log-target = stderr
idle-timeout = 5s
request-timeout = 10s

[pkcs11 "$TOKEN_LABEL"]
module = $SOFTHSM_MODULE
token = $TOKEN_LABEL
pin = file:$T/pin
$1
CONF
    chmod 600 "$T/agent.conf"
}

it_start_agent() {
    "$AGENT_BIN" --config "$T/agent.conf" >>"$T/agent.log" 2>&1 &
    AGENT_PID=$!
    for _ in $(seq 100); do
        [ -S "$T/run/agent.sock" ] && "$HW" status >/dev/null 2>&1 && return 0
        kill -0 "$AGENT_PID" 2>/dev/null || fail "agent exited at start"
        sleep 0.1
    done
    fail "agent did not become ready"
}

it_stop_agent() {
    [ -n "$AGENT_PID" ] || return 0
    kill -TERM "$AGENT_PID"
    local rc=0
    wait "$AGENT_PID" || rc=$?
    AGENT_PID=""
    return $rc
}

# Run the CLI as user nobody (group nogroup, which owns the socket).
as_nobody() {
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
        env HWSIGN_AGENT_SOCK="$HWSIGN_AGENT_SOCK" LD_LIBRARY_PATH="$LD_LIBRARY_PATH" "$@"
}

# expect_exit CODE CMD...: run CMD, require exit CODE; its stderr is kept in $T/last.err.
expect_exit() {
    local want=$1 rc=0
    shift
    "$@" >"$T/last.out" 2>"$T/last.err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$T/last.err")"
}
