#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench-model.sh [BUILD_DIR]: model-signing throughput and memory (not a test).
#
# Generates a model directory of BENCH_MODEL_FILES (8) random files of BENCH_MODEL_MIB / FILES
# each (BENCH_MODEL_MIB: 512 by default for a quick run; 4096 is the issue's 4 GiB model, 8 x
# 512 MiB), reads it twice so it is hashed from the page cache, and measures in the same run,
# best of BENCH_MODEL_RUNS (3):
#   1. `hwsign sign-model` (files serialization, the default; the agent signs with a SoftHSM2
#      P-256 key, which costs milliseconds) and `hwsign verify-model`; with --shard-size too;
#   2. `sha256sum` and `openssl dgst -sha256` over the same files (one thread each);
#   3. the machine's limit: `openssl speed -evp sha256 -bytes 16384` on one core, times the
#      online CPUs, and the same with `-multi N` measured;
# with the peak RSS of each hwsign run (/usr/bin/time -v "Maximum resident set size").
# Prints a table and the targets: hwsign >= 85% of the limit, peak RSS <= 64 MiB.
# Exit status 0 when everything ran (also when a target is missed), non-zero when a step failed.
#
# Needs softhsm2-util, openssl, sha256sum, /usr/bin/time (apt-get install -y time); the model
# goes to BENCH_MODEL_DIR (default /var/tmp), which needs BENCH_MODEL_MIB of free space, and
# the page cache needs as much free memory for the figures to mean "from page cache".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BENCH_PROG=bench-model.sh
# shellcheck source=common.sh
. "$HERE/common.sh"

MIB=${BENCH_MODEL_MIB:-512}
FILES=${BENCH_MODEL_FILES:-8}
RUNS=${BENCH_MODEL_RUNS:-3}
SHARD=${BENCH_MODEL_SHARD:-268435456}
BASE=${BENCH_MODEL_DIR:-/var/tmp}
MODULE=${SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
TARGET_PCT=85
TARGET_RSS_KIB=$((64 * 1024))

for v in "$MIB" "$FILES" "$RUNS" "$SHARD"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || die "BENCH_MODEL_* values must be positive integers (got '$v')"
done
((MIB % FILES == 0)) || die "BENCH_MODEL_MIB ($MIB) must be a multiple of BENCH_MODEL_FILES ($FILES)"
bench_build_dir "$@"
for tool in softhsm2-util openssl sha256sum /usr/bin/time; do
    command -v "$tool" >/dev/null || die "'$tool' is not installed"
done
[[ -e $MODULE ]] || die "PKCS#11 module $MODULE not found (set SOFTHSM2_MODULE)"
avail_kib=$(awk '$1 == "MemAvailable:" {print $2}' /proc/meminfo)
((avail_kib > MIB * 1024 * 3 / 2)) ||
    echo "$BENCH_PROG: warning: ${avail_kib} KiB available for a ${MIB} MiB model: it may not stay in the page cache" >&2

D=$(mktemp -d "$BASE/hwsign-bench-model.XXXXXX")
D=$(cd "$D" && pwd)
cd "$D"
AGENT_PID=
stop_all() { bench_stop_child "$AGENT_PID"; }
bench_on_exit stop_all "$D/agent.log"

# --- agent with a SoftHSM2 P-256 key ---------------------------------------------------------
mkdir -p "$D/tokens" "$D/state" "$D/run"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$D/tokens" >"$D/softhsm2.conf"
export SOFTHSM2_CONF=$D/softhsm2.conf
softhsm2-util --init-token --free --label bench --so-pin 12345678 --pin 1234 >/dev/null
(umask 077 && printf '1234\n' >"$D/pin")
export HWSIGN_AGENT_SOCK=$D/run/agent.sock
((${#HWSIGN_AGENT_SOCK} < 100)) || die "socket path too long: use a shorter BENCH_MODEL_DIR"
(umask 077 && cat >"$D/agent.conf" <<EOF
[agent]
state-dir = $D/state
socket = $HWSIGN_AGENT_SOCK
log-target = stderr
[pkcs11 "bench"]
module = $MODULE
token = bench
pin = file:$D/pin
EOF
)
"$AGENT" --config "$D/agent.conf" 2>"$D/agent.log" &
AGENT_PID=$!
bench_wait_agent "$AGENT_PID"
"$CLI" key create k --alg ecdsa-p256 >/dev/null
"$CLI" key export k >"$D/k.pem"

# --- the model, in the page cache ------------------------------------------------------------
M=$D/model
mkdir -p "$M"
per=$((MIB / FILES))
echo "== generating $FILES x $per MiB in $M ($(df -T "$D" | awk 'NR == 2 {print $2}'))"
for ((i = 1; i <= FILES; i++)); do
    head -c $((per * 1024 * 1024)) /dev/urandom >"$M/model-$(printf '%05d' "$i")-of-$(printf '%05d' "$FILES").safetensors"
done
printf '{"architectures":["Bench"]}\n' >"$M/config.json"
BYTES=$(du -cb "$M"/* | awk 'END {print $1}')
for _ in 1 2; do cat "$M"/* >/dev/null; done
cached=$(awk '$1 == "Cached:" {print $2}' /proc/meminfo)
echo "   $BYTES bytes; page cache now ${cached} KiB"
bench_host_line

# run NAME CMD...: best wall time of RUNS runs (s), with the CPU time (user + system, s) and
# the peak RSS (KiB) of that run. CPU time does not depend on what else the machine runs.
declare -A SECS CPU RSS
run() {
    local name=$1 best="" cpu="" rss="" i s u k r
    shift
    for ((i = 0; i < RUNS; i++)); do
        /usr/bin/time -f '%e %U %S %M' -o "$D/time" "$@" >"$D/out" 2>"$D/err" ||
            die "$name failed: $(cat "$D/err")"
        read -r s u k r <"$D/time"
        if [[ -z $best ]] || awk -v a="$s" -v b="$best" 'BEGIN {exit !(a < b)}'; then
            best=$s
            cpu=$(awk -v u="$u" -v k="$k" 'BEGIN {print u + k}')
            rss=$r
        fi
    done
    SECS[$name]=$best
    CPU[$name]=$cpu
    RSS[$name]=$rss
}
rate() { # rate NAME: GB/s over BYTES
    awk -v b="$BYTES" -v s="${SECS[$1]}" 'BEGIN {printf "%.2f", (s > 0 ? b / s / 1e9 : 0)}'
}

NPROC=$(nproc)
echo "== hashing (best of $RUNS)"
run sign "$CLI" sign-model --key k --no-log-entry -o "$D/files.sig" "$M"
run verify "$CLI" verify-model --key "$D/k.pem" --signature "$D/files.sig" "$M"
run sign-shards "$CLI" sign-model --key k --no-log-entry --shard-size "$SHARD" -o "$D/shards.sig" "$M"
run verify-shards "$CLI" verify-model --key "$D/k.pem" --signature "$D/shards.sig" "$M"
run sign-1thread "$CLI" sign-model --key k --no-log-entry --threads 1 -o "$D/t1.sig" "$M"
run sha256sum sha256sum "$M"/*
run openssl-dgst openssl dgst -sha256 "$M"/*

echo "== the machine's limit: openssl speed -evp sha256 -bytes 16384"
one=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | awk '$1 == "sha256" {sub(/k$/, "", $2); print $2 * 1000}')
multi=$(openssl speed -multi "$NPROC" -evp sha256 -bytes 16384 -seconds 3 2>/dev/null |
    awk '$1 == "evp" || $1 == "sha256" {v = $NF} END {sub(/k$/, "", v); print v * 1000}')
[[ -n $one && -n $multi ]] || die "cannot read openssl speed's output"
limit=$(awk -v o="$one" -v n="$NPROC" 'BEGIN {print o * n}')

printf '\n%-36s %8s %7s %9s %8s %10s %9s\n' "what" "seconds" "GB/s" "of limit" "CPU s" \
    "GB/CPU-s" "peak RSS"
row() { # row LABEL NAME
    printf '%-36s %8s %7s %8s%% %8s %10s %5s MiB\n' "$1" "${SECS[$2]}" "$(rate "$2")" \
        "$(awk -v b="$BYTES" -v s="${SECS[$2]}" -v l="$limit" 'BEGIN {printf "%.0f", 100 * b / s / l}')" \
        "${CPU[$2]}" "$(awk -v b="$BYTES" -v c="${CPU[$2]}" 'BEGIN {printf "%.2f", (c > 0 ? b / c / 1e9 : 0)}')" \
        "$(awk -v k="${RSS[$2]}" 'BEGIN {printf "%.1f", k / 1024}')"
}
row "hwsign sign-model (files)" sign
row "hwsign verify-model (files)" verify
row "hwsign sign-model (shards $SHARD)" sign-shards
row "hwsign verify-model (shards)" verify-shards
row "hwsign sign-model --threads 1" sign-1thread
row "sha256sum" sha256sum
row "openssl dgst -sha256" openssl-dgst
printf '%-36s %10s %9s\n' "openssl speed, 1 core (16 KiB)" "" "$(awk -v o="$one" 'BEGIN {printf "%.2f", o / 1e9}')"
printf '%-36s %10s %9s\n' "limit: 1 core x $NPROC CPUs" "" "$(awk -v o="$limit" 'BEGIN {printf "%.2f", o / 1e9}')"
printf '%-36s %10s %9s\n' "openssl speed -multi $NPROC (measured)" "" "$(awk -v o="$multi" 'BEGIN {printf "%.2f", o / 1e9}')"

echo
pct=$(awk -v b="$BYTES" -v s="${SECS[sign]}" -v l="$limit" 'BEGIN {printf "%.0f", 100 * b / s / l}')
eff=$(awk -v b="$BYTES" -v c="${CPU[sign]}" -v o="$one" 'BEGIN {printf "%.0f", 100 * b / c / o}')
verdict() { [[ $1 == 1 ]] && echo PASS || echo MISS; }
echo "target 1: sign-model >= ${TARGET_PCT}% of the limit: ${pct}% -> $(verdict "$(awk -v p="$pct" -v t="$TARGET_PCT" 'BEGIN {print (p >= t)}')")"
mpct=$(awk -v b="$BYTES" -v s="${SECS[sign]}" -v m="$multi" 'BEGIN {printf "%.0f", 100 * b / s / m}')
echo "          against openssl speed -multi $NPROC measured in this run: ${mpct}%"
echo "          per CPU-second it hashes at ${eff}% of openssl speed's one-core rate"
echo "          (the wall-clock ratios depend on the machine's other load: $(cut -d' ' -f1-3 /proc/loadavg))"
maxrss=0
for n in sign verify sign-shards verify-shards sign-1thread; do
    ((RSS[$n] > maxrss)) && maxrss=${RSS[$n]}
done
echo "target 2: peak RSS <= 64 MiB: $((maxrss / 1024)) MiB -> $(verdict "$((maxrss <= TARGET_RSS_KIB))")"
