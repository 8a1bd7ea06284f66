#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench-stage.sh [BUILD_DIR]: staged (multi-frame) statements and their effect on other
# clients (not a test).
#
# In one run, on one SoftHSM2 token and one ECDSA P-256 key (allow-digests on, the default),
# with a predicate shaped like the largest model manifest ({"resources":[{"algorithm":"sha256",
# "digest":"<64 hex>","name":"layers/block-00001.safetensors"}, ...]}, BENCH_STAGE_RESOURCES
# entries, 65536 = ~9.1 MB by default):
#   1. baseline: 1 client (bench-client) signing digests for BENCH_STAGE_SECS seconds with the
#      agent otherwise idle: p50/p99/max latency, signs/s;
#   2. the same load while another process signs the large statement in a loop:
#      a. `hwsign attest-blob --predicate BIG.json` back to back (the CLI's own work, reading,
#         parsing and re-serialising 9 MB and writing a 12 MB bundle, competes for the CPUs);
#      b. a library-only loop (python3 ctypes, hwsign_sign_statement on the same statement
#         bytes: staging, judging and signing in the agent, no CLI work);
#      then the baseline again (the machine's drift). Ratios loaded/baseline for p50 and p99
#      (RELIABILITY.md #3: a concurrent client's p99 <= 2x baseline), statements signed during
#      each load, and the agent's CPU per thread (event loop, device worker, judge);
#   3. the large statement alone, BENCH_STAGE_RUNS times each: `hwsign attest-blob` wall
#      time, CPU and peak RSS of the CLI; the library round trip (hwsign_sign_statement alone:
#      the agent's part, plus the envelope the library builds); the CLI's local work (their
#      difference); `attest-blob` with a 1-subject 7-byte predicate (the fixed cost of a CLI
#      run); agent CPU per statement per thread; medians;
#   4. `hwsign sign-model` of a BENCH_STAGE_FILES-file model (files of a few bytes, paths of
#      ~115 bytes, 100 files per directory): seconds (median of BENCH_STAGE_RUNS), the
#      statement's size, and `hwsign verify-model` once;
# and the agent's VmHWM / VmRSS (/proc/PID/status) after each step, against the systemd unit's
# MemoryMax (packaging/systemd/hwsign-agent.service.in). Every bundle made is checked: one
# large-statement bundle with `hwsign verify --bundle`, the library's envelopes against the
# statement sent, the model signature with `hwsign verify-model`; bench-client verifies its
# signatures. Exit status 0 when everything ran (also when a target is missed), non-zero when a
# step failed. About 1.5 minutes on a 2-core VM with the defaults.
#
# Needs cc, pkg-config (libcrypto), softhsm2-util, python3, /usr/bin/time
# (apt-get install -y time).
# Environment knobs: BENCH_STAGE_SECS (15, each digest load), BENCH_STAGE_RESOURCES (65536;
# 300..110000: the statement must be staged, over 40 KiB, and at most 16 MiB),
# BENCH_STAGE_RUNS (5), BENCH_STAGE_FILES (5000), BENCH_STAGE_DIR (/var/tmp), SOFTHSM2_MODULE;
# BENCH_STAGE_JUDGE_NICE (unset): an experiment, not the agent as shipped: `renice -n N` the
# judge thread after start-up (1..19), to see what a lower-priority judge does to the others.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BENCH_PROG=bench-stage.sh
# shellcheck source=common.sh
. "$HERE/common.sh"

SECS=${BENCH_STAGE_SECS:-15}
NRES=${BENCH_STAGE_RESOURCES:-65536}
RUNS=${BENCH_STAGE_RUNS:-5}
NFILES=${BENCH_STAGE_FILES:-5000}
BASE=${BENCH_STAGE_DIR:-/var/tmp}
JUDGE_NICE=${BENCH_STAGE_JUDGE_NICE:-}
MODULE=${SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
TOKEN=bench
KEY=k1
PTYPE=https://example.com/model-manifest/v1
PAYLOAD_TYPE=application/vnd.in-toto+json
WARM=200        # untimed signatures before each digest load
TARGET_P99=2    # RELIABILITY.md #3: a concurrent client's p99 <= 2x its baseline
UNIT=$SRC/packaging/systemd/hwsign-agent.service.in

for v in "$SECS" "$NRES" "$RUNS" "$NFILES"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || die "BENCH_STAGE_* values must be positive integers (got '$v')"
done
[[ -z $JUDGE_NICE || $JUDGE_NICE =~ ^([1-9]|1[0-9])$ ]] ||
    die "BENCH_STAGE_JUDGE_NICE must be 1..19 (got '$JUDGE_NICE')"
# ~139 bytes per resource: the statement must stay under 16 MiB (INTOTO_MAX_STATEMENT)
((NRES >= 300 && NRES <= 110000)) ||
    die "BENCH_STAGE_RESOURCES must be 300..110000 (a staged statement of at most 16 MiB)"
((NFILES <= 65536)) || die "BENCH_STAGE_FILES must be at most 65536 (MODEL_MAX_RESOURCES)"
bench_build_dir "$@"
for tool in cc pkg-config softhsm2-util python3 /usr/bin/time getconf; do
    command -v "$tool" >/dev/null ||
        die "'$tool' is not installed (/usr/bin/time: apt-get install -y time)"
done
[[ -e $MODULE ]] || die "PKCS#11 module $MODULE not found (set SOFTHSM2_MODULE)"
[[ -d $BASE && -w $BASE ]] || die "BENCH_STAGE_DIR '$BASE' is not a writable directory"
MEMMAX=$(sed -n 's/^MemoryMax=\([0-9][0-9]*\)M$/\1/p' "$UNIT" 2>/dev/null | head -n1)
[[ -n $MEMMAX ]] || die "no MemoryMax=<N>M in $UNIT"
HZ=$(getconf CLK_TCK)

D=$(mktemp -d "$BASE/hwsign-bench-stage.XXXXXX")
D=$(cd "$D" && pwd)
AGENT_PID=
LOADER_PID=
# stop_loader: SIGTERM to the loader's process group (the loader and its CLI child), then reap it
stop_loader() {
    [[ -n $LOADER_PID ]] || return 0
    kill -TERM -- "-$LOADER_PID" 2>/dev/null || true
    bench_stop_child "$LOADER_PID"
    LOADER_PID=
}
stop_all() {
    stop_loader
    bench_stop_child "$AGENT_PID"
}
bench_on_exit stop_all "$D/agent.log" "$D/loader.err"

SOCK=$D/run/agent.sock
((${#SOCK} < 100)) || die "socket path '$SOCK' too long: use a shorter BENCH_STAGE_DIR"

# --- helpers in python3: inputs, the library client, the loader ---------------------------------
cat >"$D/stage.py" <<'PY'
import base64, ctypes, hashlib, json, os, signal, subprocess, sys, time

def predicate(n, out):
    """The model-manifest-shaped predicate: n resources, deterministic digests."""
    with open(out, "w") as f:
        f.write('{"resources":[')
        for i in range(n):
            d = hashlib.sha256(b"resource %d" % i).hexdigest()
            f.write('%s{"algorithm":"sha256","digest":"%s","name":"layers/block-%05d.safetensors"}'
                    % ("," if i else "", d, i + 1))
        f.write("]}")

def model(n, root):
    """n files of a few bytes, ~115-byte relative paths, 100 files per directory."""
    for i in range(n):
        d = os.path.join(root, "model", "encoder", "layers", "group-%04d" % (i // 100))
        if i % 100 == 0:
            os.makedirs(d)
        name = ("block-%05d.self_attention.query_key_value.weight.shard-%05d-of-%05d.safetensors"
                % (i, i + 1, n))
        with open(os.path.join(d, name), "w") as f:
            f.write("%d\n" % i)

def payload(bundle, out):
    """Writes the DSSE payload (the statement bytes) of a bundle; prints its size."""
    with open(bundle) as f:
        b = json.load(f)
    env = b.get("dsseEnvelope", b)
    p = base64.b64decode(env["payload"], validate=True)
    with open(out, "wb") as f:
        f.write(p)
    print(len(p))

class Lib:
    def __init__(self, path, sock):
        self.lib = ctypes.CDLL(path)
        self.libc = ctypes.CDLL(None)
        L, P = self.lib, ctypes.POINTER
        L.hwsign_connect.argtypes = [ctypes.c_char_p, P(ctypes.c_void_p)]
        L.hwsign_client_error.argtypes = [ctypes.c_void_p]
        L.hwsign_client_error.restype = ctypes.c_char_p
        L.hwsign_disconnect.argtypes = [ctypes.c_void_p]
        L.hwsign_disconnect.restype = ctypes.c_void_p
        L.hwsign_sign_statement.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                            ctypes.c_char_p, ctypes.c_size_t,
                                            P(ctypes.c_void_p), P(ctypes.c_size_t)]
        self.libc.free.argtypes = [ctypes.c_void_p]
        self.c = ctypes.c_void_p()
        r = L.hwsign_connect(sock.encode(), ctypes.byref(self.c))
        if r < 0:
            sys.exit("hwsign_connect: %s" % os.strerror(-r))

    def sign(self, key, ptype, stmt, check=True):
        """One hwsign_sign_statement; returns (seconds, envelope length). With check, the
        envelope must carry stmt and a signature (the loader checks only its first one, to
        spend little CPU of its own)."""
        env, n = ctypes.c_void_p(), ctypes.c_size_t()
        t = time.perf_counter()
        r = self.lib.hwsign_sign_statement(self.c, key.encode(), ptype.encode(), stmt, len(stmt),
                                           ctypes.byref(env), ctypes.byref(n))
        dt = time.perf_counter() - t
        if r < 0:
            sys.exit("hwsign_sign_statement: %s (%s)"
                     % (os.strerror(-r), self.lib.hwsign_client_error(self.c).decode()))
        if check:
            e = json.loads(ctypes.string_at(env, n.value))
            if base64.b64decode(e["payload"]) != stmt or not e["signatures"][0]["sig"]:
                sys.exit("the envelope does not carry the statement sent")
        self.libc.free(env)
        return dt, n.value

def roundtrip(lib, sock, key, ptype, stmt_file, runs):
    """Prints the library round trip of each run, in seconds."""
    with open(stmt_file, "rb") as f:
        stmt = f.read()
    c = Lib(lib, sock)
    c.sign(key, ptype, stmt)  # warm-up
    print(" ".join("%.4f" % c.sign(key, ptype, stmt)[0] for _ in range(runs)))

def loader(mode, stop, times, args):
    """Signs the large statement back to back until the file `stop` exists; appends
    "START END" (CLOCK_REALTIME seconds) of each signed statement to `times`. It leads a
    process group of its own, with its CLI children, which the script's cleanup signals."""
    os.setpgrp()
    child = None
    def term(*_):
        if child and child.poll() is None:
            child.kill()
        sys.exit(143)
    signal.signal(signal.SIGTERM, term)
    if mode == "lib":
        lib, sock, key, ptype, stmt_file = args
        with open(stmt_file, "rb") as f:
            stmt = f.read()
        c = Lib(lib, sock)
        first = None
    with open(times, "a") as out:
        while not os.path.exists(stop):
            t0 = time.time()
            if mode == "lib":
                n = c.sign(key, ptype, stmt, check=first is None)[1]
                # the same statement: only the DER signature's length (70-72 bytes) varies
                if first is not None and abs(n - first) > 8:
                    sys.exit("envelope of %d bytes, the first had %d" % (n, first))
                first = first or n
            else:
                child = subprocess.Popen(args, stdout=subprocess.DEVNULL)
                if child.wait() != 0:
                    sys.exit("%s exited with status %d" % (args[0], child.returncode))
            out.write("%.6f %.6f\n" % (t0, time.time()))
            out.flush()

cmd, a = sys.argv[1], sys.argv[2:]
if cmd == "predicate":
    predicate(int(a[0]), a[1])
elif cmd == "model":
    model(int(a[0]), a[1])
elif cmd == "payload":
    payload(a[0], a[1])
elif cmd == "roundtrip":
    roundtrip(a[0], a[1], a[2], a[3], a[4], int(a[5]))
elif cmd == "loader":
    loader(a[0], a[1], a[2], a[3:])
else:
    sys.exit("unknown command " + cmd)
PY
stage() { python3 "$D/stage.py" "$@"; }

# timed OUT CMD...: runs CMD (stdout discarded) under /usr/bin/time; appends "WALL_S CPU_S
# RSS_KIB" to OUT. The wall time is taken around /usr/bin/time (its own exec, ~1 ms, included:
# %e has only 10 ms resolution).
timed() {
    local out=$1 t0 t1 u k m
    shift
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%U %S %M' -o "$D/time" "$@" >/dev/null || return 1
    t1=$EPOCHREALTIME
    read -r u k m <"$D/time"
    awk -v a="$t0" -v b="$t1" -v u="$u" -v k="$k" -v m="$m" \
        'BEGIN { printf "%.4f %.2f %d\n", b - a, u + k, m }' >>"$out"
}

# median: of the numbers on stdin, one per line
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1
        printf "%.4f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# --- programs, token, agent ---------------------------------------------------------------------
mkdir -p "$D/bin" "$D/tokens" "$D/state" "$D/run" "$D/work"
chmod 755 "$D/run"
bench_compile_client "$D/bin/bench-client"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$D/tokens" >"$D/softhsm2.conf"
export SOFTHSM2_CONF=$D/softhsm2.conf
softhsm2-util --init-token --free --label "$TOKEN" --so-pin 12345678 --pin 1234 >/dev/null
(umask 077 && printf '1234\n' >"$D/pin")
export HWSIGN_AGENT_SOCK=$SOCK
(umask 077 && cat >"$D/agent.conf" <<EOF
[agent]
state-dir = $D/state
socket = $SOCK
log-target = stderr
[pkcs11 "$TOKEN"]
module = $MODULE
token = $TOKEN
pin = file:$D/pin
EOF
)
"$AGENT" --config "$D/agent.conf" 2>"$D/agent.log" &
AGENT_PID=$!
bench_wait_agent "$AGENT_PID"
"$CLI" key create "$KEY" --alg ecdsa-p256 >/dev/null
"$CLI" key export "$KEY" >"$D/k.pem"

# The agent's threads in creation order (TIDs ascending): the event loop (the main thread), one
# device worker per backend, and the judge, started last (agent/main.c).
mapfile -t TIDS < <(for t in /proc/"$AGENT_PID"/task/*; do echo "${t##*/}"; done | sort -n)
((${#TIDS[@]} == 3)) ||
    die "the agent has ${#TIDS[@]} threads, expected 3 (event loop, PKCS#11 worker, judge)"
THREAD_NAMES=("event loop" "PKCS#11 worker" "judge")
if [[ -n $JUDGE_NICE ]]; then # Linux: a TID given to renice is that thread alone
    renice -n "$JUDGE_NICE" -p "${TIDS[2]}" >/dev/null || die "renice of the judge thread failed"
fi

# cpu_ticks: utime + stime (clock ticks) of each agent thread, in TIDS order
cpu_ticks() {
    local t
    for t in "${TIDS[@]}"; do
        awk '{ print $14 + $15 }' "/proc/$AGENT_PID/task/$t/stat"
    done | paste -sd' '
}
# cpu_ms BEFORE AFTER DIVISOR: per-thread CPU ms between two cpu_ticks, divided by DIVISOR
cpu_ms() {
    awk -v a="$1" -v b="$2" -v n="$3" -v hz="$HZ" 'BEGIN {
        k = split(a, x, " "); split(b, y, " ")
        for (i = 1; i <= k; i++) printf "%s%.0f", (i > 1 ? " " : ""), (y[i] - x[i]) * 1000 / hz / n
        printf "\n" }'
}
# mem: "VmHWM VmRSS" of the agent, in KiB
mem() {
    awk '$1 == "VmHWM:" { h = $2 } $1 == "VmRSS:" { r = $2 } END { print h, r }' \
        "/proc/$AGENT_PID/status"
}
declare -A HWM RSS
note_mem() { # note_mem STEP
    read -r "HWM[$1]" "RSS[$1]" <<<"$(mem)"
}
note_mem start

# --- inputs -------------------------------------------------------------------------------------
W=$D/work
stage predicate "$NRES" "$W/big.json"
printf '{"a":1}' >"$W/small.json"
printf 'artifact\n' >"$W/subject"
PRED_BYTES=$(stat -c %s "$W/big.json")
BIG=("$CLI" attest-blob --key "$KEY" --type "$PTYPE" --predicate "$W/big.json"
    --subject "$W/subject" --no-log-entry)
SMALL=("$CLI" attest-blob --key "$KEY" --type "$PTYPE" --predicate "$W/small.json"
    --subject "$W/subject" --no-log-entry)
"${BIG[@]}" -o "$W/big.bundle" >/dev/null
"$CLI" verify --key "$D/k.pem" --bundle "$W/big.bundle" "$W/subject" >/dev/null ||
    die "the large statement's bundle does not verify"
STMT_BYTES=$(stage payload "$W/big.bundle" "$W/big.stmt")
BUNDLE_BYTES=$(stat -c %s "$W/big.bundle")
note_mem first-large
((STMT_BYTES > 40 * 1024)) || die "the statement ($STMT_BYTES bytes) is not staged (<= 40 KiB)"

echo "== hwsign staged-statement benchmark: $(date -u '+%Y-%m-%d %H:%M:%SZ')"
bench_host_line
echo "   build: $BUILD; token: SoftHSM2 file store; key: $KEY (ecdsa-p256); dir: $D"
[[ -z $JUDGE_NICE ]] ||
    echo "   EXPERIMENT: judge thread reniced to $JUDGE_NICE (BENCH_STAGE_JUDGE_NICE)"
echo "   large statement: $NRES resources, predicate $PRED_BYTES bytes, statement $STMT_BYTES" \
    "bytes, bundle $BUNDLE_BYTES bytes (verified)"
T0=$(date +%s)

# digest_load TAG: one bench-client run of SECS seconds; sets RES, and the realtime window
# LOAD_T0 .. LOAD_T1 of the whole run (warm-up included)
digest_load() {
    LOAD_T0=$(date +%s.%N)
    RES=$("$D/bin/bench-client" -k "$KEY" -t 1 -d "$SECS" -w "$WARM" -L "$1") ||
        die "bench-client ($1) failed"
    LOAD_T1=$(date +%s.%N)
    echo "$RES"
}

# loaded TAG MODE ARGS...: the digest load while the loader (MODE cli or lib) signs the large
# statement back to back; sets RES_<TAG>, NSIG_<TAG> (statements signed entirely within the
# load), BUSY_<TAG> (share of the load's time a statement was being signed), CPU[TAG]
loaded() {
    local tag=$1 mode=$2 c0 c1 i
    shift 2
    rm -f "$D/stop" "$D/times-$tag"
    : >"$D/times-$tag"
    python3 "$D/stage.py" loader "$mode" "$D/stop" "$D/times-$tag" "$@" 2>"$D/loader.err" &
    LOADER_PID=$!
    for ((i = 0; ; i++)); do # until the first large statement has been signed
        [[ -s $D/times-$tag ]] && break
        kill -0 "$LOADER_PID" 2>/dev/null || die "the $mode loader exited: $(cat "$D/loader.err")"
        ((i < 600)) || die "the $mode loader signed nothing within 60 s"
        sleep 0.1
    done
    c0=$(cpu_ticks)
    digest_load "$tag"
    c1=$(cpu_ticks)
    touch "$D/stop"
    wait "$LOADER_PID" || die "the $mode loader failed: $(cat "$D/loader.err")"
    LOADER_PID=
    printf -v "RES_$tag" '%s' "$RES"
    printf -v "NSIG_$tag" '%s' "$(awk -v a="$LOAD_T0" -v b="$LOAD_T1" \
        '$1 >= a && $2 <= b { n++ } END { print n + 0 }' "$D/times-$tag")"
    printf -v "BUSY_$tag" '%s' "$(awk -v a="$LOAD_T0" -v b="$LOAD_T1" '{
        s = ($1 > a ? $1 : a); e = ($2 < b ? $2 : b); if (e > s) t += e - s }
        END { printf "%.0f", 100 * t / (b - a) }' "$D/times-$tag")"
    CPU[$tag]=$(cpu_ms "$c0" "$c1" 1)
    local n="NSIG_$tag" b="BUSY_$tag"
    ((${!n} > 0)) || die "no large statement was signed during the $tag load"
    echo "   $mode loader: ${!n} large statements signed within the load; the loader was busy" \
        "${!b} % of it"
}

RES_cli='' RES_lib='' NSIG_cli='' NSIG_lib=''
declare -A CPU

# --- 1. baseline --------------------------------------------------------------------------------
echo "-- 1. baseline: 1 client, digests, $SECS s, agent otherwise idle"
c0=$(cpu_ticks)
digest_load base
c1=$(cpu_ticks)
RES_base=$RES
CPU[base]=$(cpu_ms "$c0" "$c1" 1)
note_mem baseline

# --- 2. the same load while a large statement is signed in a loop -------------------------------
echo "-- 2a. the same, while \`hwsign attest-blob\` signs the $STMT_BYTES-byte statement in a loop"
loaded cli cli "${BIG[@]}" -o "$W/loop.bundle"
note_mem loaded-cli
echo "-- 2b. the same, while a library client (hwsign_sign_statement) signs it in a loop"
loaded lib lib "$BUILD/lib/libhwsign.so" "$SOCK" "$KEY" "$PAYLOAD_TYPE" "$W/big.stmt"
note_mem loaded-lib
echo "-- 2c. baseline again"
digest_load base2
RES_base2=$RES

# --- 3. the large statement alone ---------------------------------------------------------------
echo "-- 3. the large statement alone, $RUNS runs each"
: >"$W/cli.times"
c0=$(cpu_ticks)
for ((i = 0; i < RUNS; i++)); do
    timed "$W/cli.times" "${BIG[@]}" -o "$W/big.bundle" || die "hwsign attest-blob failed"
done
c1=$(cpu_ticks)
CPU[alone]=$(cpu_ms "$c0" "$c1" "$RUNS")
CLI_WALL=$(awk '{ print $1 }' "$W/cli.times" | median)
CLI_CPU=$(awk '{ print $2 }' "$W/cli.times" | median)
CLI_RSS=$(awk '{ print $3 }' "$W/cli.times" | median)
read -r -a RT <<<"$(stage roundtrip "$BUILD/lib/libhwsign.so" "$SOCK" "$KEY" "$PAYLOAD_TYPE" \
    "$W/big.stmt" "$RUNS")"
LIB_RT=$(printf '%s\n' "${RT[@]}" | median)
: >"$W/small.times"
for ((i = 0; i < RUNS; i++)); do
    t0=$EPOCHREALTIME
    "${SMALL[@]}" -o "$W/small.bundle" >/dev/null || die "hwsign attest-blob (small predicate) failed"
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }' >>"$W/small.times"
done
SMALL_WALL=$(median <"$W/small.times")
note_mem alone
echo "   attest-blob (s): $(awk '{ print $1 }' "$W/cli.times" | paste -sd' '); library" \
    "round trip (s): ${RT[*]}; small predicate (s): $(paste -sd' ' "$W/small.times")"

# --- 4. sign-model, many small files with long names --------------------------------------------
echo "-- 4. hwsign sign-model, $NFILES files, $RUNS runs"
stage model "$NFILES" "$W"
M=$W/model
: >"$W/model.times"
for ((i = 0; i < RUNS; i++)); do
    timed "$W/model.times" "$CLI" sign-model --key "$KEY" --no-log-entry -o "$W/model.sig" "$M" ||
        die "hwsign sign-model failed"
done
MODEL_WALL=$(awk '{ print $1 }' "$W/model.times" | median)
MODEL_CPU=$(awk '{ print $2 }' "$W/model.times" | median)
MODEL_RSS=$(awk '{ print $3 }' "$W/model.times" | median)
MODEL_STMT=$(stage payload "$W/model.sig" "$W/model.stmt")
MODEL_NRES=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["predicate"]["resources"]))' "$W/model.stmt")
((MODEL_NRES == NFILES)) || die "the model statement has $MODEL_NRES resources, expected $NFILES"
: >"$W/verify.times"
timed "$W/verify.times" "$CLI" verify-model --key "$D/k.pem" --signature "$W/model.sig" "$M" ||
    die "hwsign verify-model failed"
VERIFY_WALL=$(awk '{ print $1 }' "$W/verify.times")
note_mem model
echo "   sign-model (s): $(awk '{ print $1 }' "$W/model.times" | paste -sd' ')"
kill -0 "$AGENT_PID" 2>/dev/null || die "the agent died during the benchmark"
T1=$(date +%s)

# --- summary ------------------------------------------------------------------------------------
echo
echo "== summary ($((T1 - T0)) s; load now $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-52s %9s %9s %9s %10s %10s\n' "digest load, 1 client, ${SECS} s" "p50 ms" "p99 ms" \
    "max ms" "signs/s" "large/load"
row() { # LABEL RESULT STATEMENTS
    printf '%-52s %9s %9s %9s %10s %10s\n' "$1" "$(field p50_ms "$2")" "$(field p99_ms "$2")" \
        "$(field max_ms "$2")" "$(field signs_per_s "$2")" "$3"
}
row "1. baseline (agent otherwise idle)" "$RES_base" "-"
row "2a. + attest-blob loop (CLI + agent)" "$RES_cli" "$NSIG_cli"
row "2b. + library loop (agent only)" "$RES_lib" "$NSIG_lib"
row "2c. baseline again" "$RES_base2" "-"

echo
echo "== ratios (loaded / baseline)"
ratio() { # LABEL FIELD LOADED BASE
    awk -v l="$(field "$2" "$3")" -v b="$(field "$2" "$4")" -v n="$1" 'BEGIN {
        printf "%-44s %9.4f / %9.4f = %6.2fx\n", n, l, b, l / b }'
}
ratio "2a. attest-blob loop, p50 ms" p50_ms "$RES_cli" "$RES_base"
ratio "2a. attest-blob loop, p99 ms" p99_ms "$RES_cli" "$RES_base"
ratio "2a. attest-blob loop, signs/s" signs_per_s "$RES_cli" "$RES_base"
ratio "2b. library loop, p50 ms" p50_ms "$RES_lib" "$RES_base"
ratio "2b. library loop, p99 ms" p99_ms "$RES_lib" "$RES_base"
ratio "2b. library loop, signs/s" signs_per_s "$RES_lib" "$RES_base"
ratio "2c. baseline again / baseline, p50 (noise)" p50_ms "$RES_base2" "$RES_base"
ratio "2c. baseline again / baseline, p99 (noise)" p99_ms "$RES_base2" "$RES_base"
for tag in cli lib; do
    r="RES_$tag"
    awk -v l="$(field p99_ms "${!r}")" -v b="$(field p99_ms "$RES_base")" -v t="$TARGET_P99" \
        -v n="$tag" 'BEGIN { printf "target (RELIABILITY #3) p99 <= %dx baseline, %s loop: %s (%.2fx)\n",
        t, (n == "cli" ? "attest-blob" : "library"), (l <= t * b ? "PASS" : "MISS"), l / b }'
done

echo
echo "== agent CPU during each digest load (ms over ${SECS} s + warm-up, per thread)"
printf '%-36s %12s %16s %10s\n' "load" "${THREAD_NAMES[@]}"
for tag in base cli lib; do
    read -r -a c <<<"${CPU[$tag]}"
    printf '%-36s %12s %16s %10s\n' "$tag" "${c[@]}"
done

echo
echo "== 3. large statement alone ($STMT_BYTES-byte statement, medians of $RUNS)"
awk -v w="$CLI_WALL" -v c="$CLI_CPU" -v r="$CLI_RSS" -v rt="$LIB_RT" -v s="$SMALL_WALL" \
    -v b="$STMT_BYTES" 'BEGIN {
    printf "hwsign attest-blob, wall                    %8.3f s (CLI CPU %.3f s, CLI peak RSS %.1f MiB)\n", w, c, r / 1024
    printf "  library round trip (hwsign_sign_statement) %7.3f s (%.0f %% of the wall time)\n", rt, 100 * rt / w
    printf "  CLI local work (the difference)            %7.3f s (%.0f %%)\n", w - rt, 100 * (w - rt) / w
    printf "hwsign attest-blob, 7-byte predicate         %7.3f s (fixed cost of a CLI run)\n", s
    printf "throughput: %.1f MB/s of statement through attest-blob, %.1f MB/s through the library\n",
        b / w / 1e6, b / rt / 1e6 }'
read -r -a c <<<"${CPU[alone]}"
echo "agent CPU per attest-blob statement: ${THREAD_NAMES[0]} ${c[0]} ms, ${THREAD_NAMES[1]}" \
    "${c[1]} ms, ${THREAD_NAMES[2]} ${c[2]} ms"

echo
echo "== 4. hwsign sign-model, $NFILES files (medians of $RUNS)"
awk -v w="$MODEL_WALL" -v c="$MODEL_CPU" -v r="$MODEL_RSS" -v s="$MODEL_STMT" -v v="$VERIFY_WALL" \
    -v n="$NFILES" 'BEGIN {
    printf "sign-model %.3f s (CPU %.3f s, peak RSS %.1f MiB); statement %d bytes (%.0f per file, %s)\n",
        w, c, r / 1024, s, s / n, (s > 40 * 1024 ? "staged" : "one frame")
    printf "verify-model %.3f s (once)\n", v }'

echo
echo "== agent memory (VmHWM = peak since start; VmRSS now), MemoryMax=${MEMMAX}M"
for step in start first-large baseline loaded-cli loaded-lib alone model; do
    awk -v s="$step" -v h="${HWM[$step]}" -v r="${RSS[$step]}" -v m="$MEMMAX" 'BEGIN {
        printf "after %-12s VmHWM %7.1f MiB (%3.0f %% of MemoryMax)   VmRSS %7.1f MiB\n",
            s, h / 1024, 100 * h / 1024 / m, r / 1024 }'
done
awk -v h="${HWM[model]}" -v m="$MEMMAX" 'BEGIN {
    printf "peak RSS below MemoryMax=%dM: %s (%.1f MiB, headroom %.1f MiB)\n", m,
        (h / 1024 < m ? "yes" : "NO"), h / 1024, m - h / 1024 }'
