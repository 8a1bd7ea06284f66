#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench-log.sh [BUILD_DIR]: cost of the write-ahead signing log (not a test).
#
# In one run, on one SoftHSM2 token and one ECDSA P-256 key, in a directory on disk
# (BENCH_LOG_DIR, default /var/tmp; `df -T` of it is printed, because a log on tmpfs syncs
# for free):
#   1. agent with `audit-log = yes`: THREADS (16) clients x BENCH_LOG_N16 signatures (aggregate
#      signs/s, p50, p99), then 1 client x BENCH_LOG_N1; `hwsign log verify` must pass and count
#      exactly the signatures made. The agent's fdatasync calls are counted during each load by
#      fdatasync-count.so (LD_PRELOAD; one atomic add per call, the agent is never stopped):
#      syncs per signature show the group commit.
#   1b. cross-check of that count with `strace -f -c -e trace=fdatasync -p AGENT_PID` over a
#      short 16-client run (BENCH_LOG_NTRACE): both counts must be equal. strace is not used for
#      the figures: it stops the agent at every syscall (-p cannot use --seccomp-bpf), which
#      makes it ~4x slower on a 2-core VM and changes the batching being measured.
#   2. the agent is stopped and one with `audit-log = no` is started on the same token, key and
#      state directory, with the same shim; same loads. The log must not change.
#   3. a table and the ratios: throughput on/off (16 clients), p50 on/off (1 client), overheads
#      in percent, syncs per signature.
# Exit status 0 when everything ran; non-zero when a step failed (a failed signature, a log
# that does not verify or misses records, counts that disagree, ...). About 1 minute on a
# 2-core VM.
#
# Needs cc, pkg-config (libcrypto), softhsm2-util, strace (apt-get install -y strace).
# Environment knobs: BENCH_LOG_N16 (40000), BENCH_LOG_N1 (10000), BENCH_LOG_NTRACE (3000),
# BENCH_THREADS (16), BENCH_LOG_DIR (/var/tmp), SOFTHSM2_MODULE.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BENCH_PROG=bench-log.sh
# shellcheck source=common.sh
. "$HERE/common.sh"

N16=${BENCH_LOG_N16:-40000}
N1=${BENCH_LOG_N1:-10000}
NTRACE=${BENCH_LOG_NTRACE:-3000}
THREADS=${BENCH_THREADS:-16}
BASE=${BENCH_LOG_DIR:-/var/tmp}
MODULE=${SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
TOKEN=bench
KEY=k1
WARM16=50 # untimed signatures per thread before a 16-client load
WARM1=500 # before the 1-client load

for v in "$N16" "$N1" "$NTRACE" "$THREADS"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || die "BENCH_* values must be positive integers (got '$v')"
done

bench_build_dir "$@"
for tool in cc pkg-config softhsm2-util strace df od; do
    command -v "$tool" >/dev/null ||
        die "'$tool' is not installed (strace: apt-get install -y strace)"
done
[[ -e $MODULE ]] || die "PKCS#11 module $MODULE not found (set SOFTHSM2_MODULE)"
[[ -d $BASE && -w $BASE ]] || die "BENCH_LOG_DIR '$BASE' is not a writable directory"

D=$(mktemp -d "$BASE/hwsign-bench-log.XXXXXX")
D=$(cd "$D" && pwd)
AGENT_PID=
STRACE_PID=

stop_agent() {
    bench_stop_child "$AGENT_PID"
    AGENT_PID=
}

# stop_strace: SIGINT makes strace detach and write its -c summary; then reap it.
stop_strace() {
    local i
    [[ -n $STRACE_PID ]] || return 0
    kill -INT "$STRACE_PID" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$STRACE_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$STRACE_PID" 2>/dev/null && kill -KILL "$STRACE_PID" 2>/dev/null
    wait "$STRACE_PID" 2>/dev/null || true
    STRACE_PID=
}

stop_all() {
    stop_strace
    stop_agent
}
bench_on_exit stop_all "$D/agent-*.log"

SOCK=$D/run/agent.sock
((${#SOCK} < 100)) || die "socket path '$SOCK' too long: use a shorter BENCH_LOG_DIR"

# --- programs, token ----------------------------------------------------------------------------
mkdir -p "$D/bin" "$D/tokens" "$D/state" "$D/run"
chmod 755 "$D/run"
bench_compile_client "$D/bin/bench-client"
cc "${BENCH_CFLAGS[@]}" -fPIC -shared -o "$D/bin/fdatasync-count.so" "$HERE/fdatasync-count.c" -ldl
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$D/tokens" >"$D/softhsm2.conf"
export SOFTHSM2_CONF=$D/softhsm2.conf
softhsm2-util --init-token --free --label "$TOKEN" --so-pin 12345678 --pin 1234 >/dev/null
(umask 077 && printf '1234\n' >"$D/pin")
export HWSIGN_AGENT_SOCK=$SOCK
LOG=$D/state/log/records
COUNTER=

# start_agent yes|no: agent on the shared token and state directory, with the fdatasync counter
start_agent() {
    (umask 077 && cat >"$D/agent-$1.conf" <<EOF
[agent]
state-dir = $D/state
socket = $SOCK
log-target = stderr
audit-log = $1
[pkcs11 "$TOKEN"]
module = $MODULE
token = $TOKEN
pin = file:$D/pin
EOF
    )
    COUNTER=$D/syncs-$1
    LD_PRELOAD=$D/bin/fdatasync-count.so HWSIGN_BENCH_SYNC_COUNTER=$COUNTER \
        "$AGENT" --config "$D/agent-$1.conf" 2>"$D/agent-$1.log" &
    AGENT_PID=$!
    bench_wait_agent "$AGENT_PID"
    [[ -s $COUNTER ]] || die "fdatasync-count.so is not active in the agent"
}

syncs() { # the agent's fdatasync calls so far, and the ns spent in them: "CALLS NS"
    od -An -tu8 -w16 -N16 "$COUNTER" | awk '{ print $1, $2 }'
}

# log_records: number of records `hwsign log verify` counts (fails the run if it does not pass)
log_records() {
    local out n
    out=$("$CLI" log verify --log "$LOG" --json 2>&1) ||
        { echo "$out" >&2; die "hwsign log verify --log $LOG failed"; }
    n=$(sed -n 's/.*"records": *\([0-9][0-9]*\).*/\1/p' <<<"$out" | head -n1)
    [[ -n $n ]] || { echo "$out" >&2; die "no record count in 'hwsign log verify --json'"; }
    echo "$n"
}

# load TAG THREADS COUNT WARMUP: one bench-client run; sets RES (RESULT line), SYN (fdatasync
# calls during the run, warm-up included) and SIGNED (signatures made, warm-up included)
load() {
    local c0 n0 c1 n1
    read -r c0 n0 <<<"$(syncs)"
    RES=$("$D/bin/bench-client" -k "$KEY" -t "$2" -n "$3" -w "$4" -L "$1")
    read -r c1 n1 <<<"$(syncs)"
    SYN=$((c1 - c0))
    SYNC_MS=$(awk -v n="$((n1 - n0))" -v c="$SYN" 'BEGIN { printf "%.4f", c ? n / c / 1e6 : 0 }')
    SIGNED=$(($3 + $2 * (1 + $4))) # per thread: one checked signature, the warm-up
    echo "$RES"
    echo "   fdatasync calls: $SYN for $SIGNED signatures, mean $SYNC_MS ms per call"
}

# run_loads yes|no: the 16-client and the 1-client loads; sets R16_x, Y16_x, S16_x, R1_x, ...
run_loads() {
    echo "-- audit-log = $1: $THREADS clients, $N16 signatures"
    load "log-$1-$THREADS" "$THREADS" "$N16" "$WARM16"
    printf -v "R16_$1" '%s' "$RES"
    printf -v "Y16_$1" '%s' "$SYN"
    printf -v "S16_$1" '%s' "$SIGNED"
    printf -v "M16_$1" '%s' "$SYNC_MS"
    echo "-- audit-log = $1: 1 client, $N1 signatures"
    load "log-$1-1" 1 "$N1" "$WARM1"
    printf -v "R1_$1" '%s' "$RES"
    printf -v "Y1_$1" '%s' "$SYN"
    printf -v "S1_$1" '%s' "$SIGNED"
    printf -v "M1_$1" '%s' "$SYNC_MS"
}
R16_yes='' R16_no='' R1_yes='' R1_no='' Y16_yes='' Y16_no='' Y1_yes='' Y1_no='' S16_yes='' S1_yes='' M16_yes='' M1_yes=''

echo "== hwsign signing-log benchmark: $(date -u '+%Y-%m-%d %H:%M:%SZ')"
bench_host_line
echo "   build: $BUILD; token: SoftHSM2 file store; key: $KEY (ecdsa-p256)"
echo "   state (log) and token in $D:"
df -T "$D" | sed 's/^/   /'
T0=$(date +%s)

# --- 1. audit-log = yes -------------------------------------------------------------------------
start_agent yes
"$CLI" key create "$KEY" >/dev/null
[[ -f $LOG ]] || die "the agent with audit-log = yes has no $LOG"
REC0=$(log_records)
run_loads yes
REC1=$(log_records)
((REC1 - REC0 == S16_yes + S1_yes)) ||
    die "the log grew by $((REC1 - REC0)) records during the loads, expected $((S16_yes + S1_yes))"
echo "   hwsign log verify: passed, $REC1 records (+$((REC1 - REC0)) = every signature above)"

# --- 1b. cross-check of the sync count with strace ---------------------------------------------
echo "-- cross-check: $THREADS clients, $NTRACE signatures under strace -f -c -e trace=fdatasync -p"
strace -f -c -e trace=fdatasync -p "$AGENT_PID" -o "$D/strace.txt" 2>"$D/strace.err" &
STRACE_PID=$!
for ((i = 0; ; i++)); do # until strace has attached to every thread of the agent
    kill -0 "$STRACE_PID" 2>/dev/null || { cat "$D/strace.err" >&2; die "strace exited"; }
    untraced=0
    for st in /proc/"$AGENT_PID"/task/*/status; do
        [[ $(awk '/^TracerPid:/ { print $2 }' "$st" 2>/dev/null) == "$STRACE_PID" ]] ||
            untraced=1
    done
    ((untraced == 0)) && break
    ((i < 100)) || die "strace did not attach to the agent within 10 s"
    sleep 0.1
done
load log-yes-strace "$THREADS" "$NTRACE" "$WARM16"
RT=$RES
stop_strace
STRACE_SYNCS=$(awk '$NF == "fdatasync" { print $4 }' "$D/strace.txt")
[[ $STRACE_SYNCS =~ ^[0-9]+$ ]] || { cat "$D/strace.txt" >&2; die "no fdatasync count from strace"; }
((STRACE_SYNCS == SYN)) || die "strace counted $STRACE_SYNCS fdatasync calls, the shim $SYN"
echo "   strace: $STRACE_SYNCS fdatasync calls = the shim's count"
RT_SYN=$SYN
RT_SIGNED=$SIGNED
REC2=$(log_records)
((REC2 - REC1 == RT_SIGNED)) || die "the log grew by $((REC2 - REC1)) records under strace"
kill -0 "$AGENT_PID" 2>/dev/null || die "the agent died during the benchmark"
stop_agent

# --- 2. audit-log = no, same token, key and state -----------------------------------------------
start_agent no
run_loads no
kill -0 "$AGENT_PID" 2>/dev/null || die "the agent died during the benchmark"
stop_agent
REC3=$(log_records)
((REC3 == REC2)) || die "the log changed with audit-log = no ($REC2 -> $REC3 records)"
echo "   log unchanged with audit-log = no: $REC3 records (hwsign log verify: passed)"
T1=$(date +%s)

# --- 3. summary ---------------------------------------------------------------------------------
echo
echo "== summary ($((T1 - T0)) s; load now $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-36s %9s %9s %10s %12s\n' "measurement" "p50 ms" "p99 ms" "signs/s" "syncs/sign"
row() { # LABEL RESULT SYNCS SIGNED
    printf '%-36s %9s %9s %10s %12s\n' "$1" "$(field p50_ms "$2")" "$(field p99_ms "$2")" \
        "$(field signs_per_s "$2")" "$(awk -v s="$3" -v n="$4" 'BEGIN { printf "%.3f", s / n }')"
}
row "log on, $THREADS clients ($N16)" "$R16_yes" "$Y16_yes" "$S16_yes"
row "log off, $THREADS clients ($N16)" "$R16_no" "$Y16_no" "$S16_yes"
row "log on, 1 client ($N1)" "$R1_yes" "$Y1_yes" "$S1_yes"
row "log off, 1 client ($N1)" "$R1_no" "$Y1_no" "$S1_yes"
row "log on, $THREADS clients, strace -p ($NTRACE)" "$RT" "$RT_SYN" "$RT_SIGNED"

echo
echo "== ratios (log on / log off; overhead = what the log costs)"
awk -v on="$(field signs_per_s "$R16_yes")" -v off="$(field signs_per_s "$R16_no")" \
    -v n="$THREADS" 'BEGIN {
    printf "%d-client throughput on/off: %.1f / %.1f signs/s = %.3f (log costs %.1f %% of the throughput)\n",
        n, on, off, on / off, (off - on) / off * 100 }'
awk -v on="$(field p50_ms "$R16_yes")" -v off="$(field p50_ms "$R16_no")" -v n="$THREADS" 'BEGIN {
    printf "%d-client p50 on/off: %.4f / %.4f ms = %.3f (%+.1f %%)\n",
        n, on, off, on / off, (on - off) / off * 100 }'
awk -v on="$(field p50_ms "$R1_yes")" -v off="$(field p50_ms "$R1_no")" 'BEGIN {
    printf "1-client p50 on/off: %.4f / %.4f ms = %.3f (%+.1f %%, %+.4f ms per signature)\n",
        on, off, on / off, (on - off) / off * 100, on - off }'
awk -v on="$(field p99_ms "$R1_yes")" -v off="$(field p99_ms "$R1_no")" 'BEGIN {
    printf "1-client p99 on/off: %.4f / %.4f ms = %.3f (%+.1f %%)\n",
        on, off, on / off, (on - off) / off * 100 }'
awk -v on="$(field signs_per_s "$R1_yes")" -v off="$(field signs_per_s "$R1_no")" 'BEGIN {
    printf "1-client throughput on/off: %.1f / %.1f signs/s = %.3f (log costs %.1f %%)\n",
        on, off, on / off, (off - on) / off * 100 }'
awk -v s="$Y16_yes" -v n="$S16_yes" -v t="$THREADS" -v m="$M16_yes" 'BEGIN {
    printf "group commit, %d clients: %d fdatasync for %d signatures = %.3f syncs per signature (%.2f signatures per sync; %.4f ms per sync)\n",
        t, s, n, s / n, n / s, m }'
awk -v s="$Y1_yes" -v n="$S1_yes" -v m="$M1_yes" 'BEGIN {
    printf "1 client: %d fdatasync for %d signatures = %.3f syncs per signature (%.4f ms per sync)\n",
        s, n, s / n, m }'
awk -v s="$RT_SYN" -v n="$RT_SIGNED" -v t="$THREADS" 'BEGIN {
    printf "under strace -p (agent slowed down), %d clients: %.3f syncs per signature\n",
        t, s / n }'
echo "(the issue's target, \"the log costs <= N%\", has no N in the repository: overheads printed as measured)"
