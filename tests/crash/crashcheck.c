/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crashcheck: run the agent's own signing-log recovery (auditlog_open, agent/auditlog.c) on
 * every power-loss crash image of an ioshim trace (tests/crash/crashimg.h) and check it.
 *
 *   crashcheck --trace TRACE --work DIR [--final FILE] [--cli HWSIGN] [--controls]
 *              [--seed N] [--quick] [--report-only]
 *   crashcheck --replay-only --trace TRACE --work DIR --final FILE
 *
 * For each image, DIR/state/log/records is replaced by the image and auditlog_open() runs on
 * DIR/state exactly as at agent start (it verifies, truncates a torn tail, syncs). Then:
 *   (a) the file it leaves is at least acked_len long and a byte prefix of one of the states
 *       the writer could have reached in that window (C_0 .. C_m): every acknowledged record
 *       is kept and nothing the writer did not write is accepted;
 *   (b) it scans clean in process (logrec_scan: no torn tail, count = auditlog_size) and,
 *       with --cli, `hwsign log verify --strict` accepts it (each distinct recovered file once,
 *       at most CRASHCHECK_MAX_CLI of them, evenly spread, shortest and longest included).
 * A refusal (-EBADMSG: "damaged, refusing to sign") of a crash image fails the run unless
 * --report-only (used to measure what the recovery refuses).
 *
 * --final FILE: the file the traced run left must equal the trace replayed (checks the shim);
 * --replay-only stops after that check (for traces of files that are not signing logs).
 * --quick: the smaller image budget (crashimg_params_quick) for sanitizer builds.
 * --controls: damage the acknowledged part of the final log (a bit flip, a zeroed 512-byte
 * sector, a zeroed 4 KiB block, each at least CRASHCHECK_CONTROL_DISTANCE bytes before the
 * end) and require that recovery refuses each; a zeroed block among the final records is
 * reported (not asserted: the file cannot tell it from an unsynced batch, docs/log.md).
 * The checker's own acceptance test runs first on synthetic cases (it must be able to fail).
 *
 * Output: a few lines of figures, then one JSON line. Exit 0 all checks passed, 1 a check
 * failed, 2 usage, 3 the trace or the work directory cannot be used.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auditlog.h"
#include "crashimg.h"
#include "fd-util.h"
#include "logrec.h"
#include "macro.h"
#include "parse.h"

#define CRASHCHECK_PATH_MAX         4096u
#define CRASHCHECK_MAX_REPORT       10u            /* failures / refusals printed in full */
#define CRASHCHECK_MAX_KEEP         5u             /* refused images kept in DIR for inspection */
#define CRASHCHECK_MAX_CLI          200u           /* recovered logs checked with the CLI */
#define CRASHCHECK_CONTROL_DISTANCE (128u * 1024u) /* control damage this far before the end */
#define CRASHCHECK_CONTROL_OFFSET   4096u /* control damage starts at this (aligned) offset */

extern char **environ;

struct check {
    char state_dir[CRASHCHECK_PATH_MAX];
    char records[CRASHCHECK_PATH_MAX];
    char work[CRASHCHECK_PATH_MAX];
    const uint8_t *final; /* the whole-trace replay: recovered logs are usually its prefixes */
    size_t final_len;
    bool report_only;
    /* Results. */
    uint64_t checked, recovered, truncated, refused, failures, records_max;
    uint64_t refused_by_kind[CRASHIMG_KIND_MAX];
    uint64_t refused_points, last_refused_point;
    bool any_refused_point;
    uint8_t *len_seen; /* bitmap over final_len + 1: distinct recovered prefixes of final */
    uint64_t distinct;
    uint64_t other; /* recovered files that are not prefixes of final (verified at once) */
    const char *cli;
    uint64_t cli_runs, cli_failures;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return negative_errno();
    return fd_write_all(fd, data, len);
}

/*
 * (a): rec is at least acked_len long and a prefix of one of the window's states. NULL when it
 * holds, else the reason.
 */
static const char *check_recovered(const struct crashimg_point *pt, const uint8_t *rec, size_t len)
{
    if (len < pt->acked_len)
        return "acknowledged bytes lost (recovered file shorter than the synced prefix)";
    for (size_t j = 0; j < pt->nstates; j++)
        if (len <= pt->state_len[j] && memcmp(rec, pt->state[j], len) == 0)
            return NULL;
    return "recovered file holds bytes the writer never wrote there (garbage accepted)";
}

/* The checker's acceptance logic must reject what it exists to catch. */
static int selftest(void)
{
    static const uint8_t d[] = "HWSLOG2\nAAAABBBB", c1[] = "HWSLOG2\nAAAABBBBCCCCDDDD";
    const uint8_t *states[] = {d, c1};
    size_t lens[] = {sizeof(d) - 1, sizeof(c1) - 1};
    struct crashimg_point pt = {
            .nstates = 2, .state = states, .state_len = lens, .acked_len = sizeof(d) - 1};
    static const uint8_t garbage[] = "HWSLOG2\nAAAABBBBCCCCDDDX";
    bool ok = check_recovered(&pt, d, lens[0] - 1) != NULL &&   /* lost an acked byte */
              check_recovered(&pt, d, 0) != NULL &&             /* lost everything */
              check_recovered(&pt, garbage, lens[1]) != NULL && /* accepted garbage */
              check_recovered(&pt, d, lens[0]) == NULL &&       /* the synced prefix */
              check_recovered(&pt, c1, lens[0] + 4) == NULL &&  /* plus a whole part */
              check_recovered(&pt, c1, lens[1]) == NULL;        /* everything written */
    if (!ok)
        fprintf(stderr, "crashcheck: self-test of the acceptance check failed\n");
    return ok ? 0 : -EINVAL;
}

/* `hwsign log verify --strict --log path`: 0 when it exits 0. */
static int run_cli(struct check *c, const char *path)
{
    char prog[CRASHCHECK_PATH_MAX], file[CRASHCHECK_PATH_MAX + 32],
            a1[] = "log", a2[] = "verify", a3[] = "--strict", a4[] = "--log";
    char *argv[] = {prog, a1, a2, a3, a4, file, NULL};
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st = 0, e, n;

    n = snprintf(prog, sizeof(prog), "%s", c->cli);
    if (n < 0 || (size_t)n >= sizeof(prog))
        return -ENAMETOOLONG;
    n = snprintf(file, sizeof(file), "%s", path);
    if (n < 0 || (size_t)n >= sizeof(file))
        return -ENAMETOOLONG;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -ENOMEM;
    (void)posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    e = posix_spawn(&pid, c->cli, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0)
        return -e;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return negative_errno();
    c->cli_runs++;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        c->cli_failures++;
        fprintf(stderr, "FAIL: hwsign log verify --strict rejects a recovered log (%s)\n", path);
        return -EBADMSG;
    }
    return 0;
}

static void report_image(const char *what, const struct crashimg_image *im, const char *why)
{
    fprintf(stderr,
            "%s: crash point %llu, %s image (unit %u, op %u, variant %u), %zu bytes, "
            "acked %zu: %s\n",
            what, (unsigned long long)im->point->index, crashimg_kind_name(im->kind), im->unit,
            im->op, im->variant, im->len, im->point->acked_len, why);
}

/* Open the log as the agent does. 1 recovered (file read back into ret), 0 refused, -errno. */
static int recover(struct check *c, const uint8_t *img, size_t len, uint64_t *ret_records,
                   uint8_t **ret, size_t *ret_len, char *err, size_t errlen)
{
    struct auditlog *l = NULL;
    int r = write_file(c->records, img, len);

    if (r < 0) {
        (void)snprintf(err, errlen, "cannot write %s: %s", c->records, strerror(-r));
        return r;
    }
    r = auditlog_open(c->state_dir, &l, err, errlen);
    if (r == -EBADMSG)
        return 0;
    if (r < 0)
        return r;
    *ret_records = auditlog_size(l);
    auditlog_free(l);
    r = read_file_bounded(c->records, CRASHIMG_MAX_FILE, ret, ret_len);
    if (r < 0) {
        (void)snprintf(err, errlen, "cannot read back %s: %s", c->records, strerror(-r));
        return r;
    }
    return 1;
}

static int check_image(void *ctx, const struct crashimg_image *im)
{
    struct check *c = ctx;
    _cleanup_free_ uint8_t *rec = NULL;
    char err[CRASHCHECK_PATH_MAX + 512] = "";
    uint64_t records = 0, count;
    uint8_t chain[LOGREC_HASH];
    size_t len = 0, end;
    const char *why;
    bool torn;
    int r;

    c->checked++;
    r = recover(c, im->data, im->len, &records, &rec, &len, err, sizeof(err));
    if (r < 0) {
        report_image("ERROR", im, err);
        return r;
    }
    if (r == 0) {
        c->refused++;
        c->refused_by_kind[im->kind]++;
        if (!c->any_refused_point || c->last_refused_point != im->point->index)
            c->refused_points++;
        c->any_refused_point = true;
        c->last_refused_point = im->point->index;
        if (c->refused <= CRASHCHECK_MAX_REPORT)
            report_image(c->report_only ? "refused" : "FAIL: refused", im, err);
        if (c->refused <= CRASHCHECK_MAX_KEEP) {
            char path[CRASHCHECK_PATH_MAX + 32];
            int n = snprintf(path, sizeof(path), "%s/refused-%llu", c->work,
                             (unsigned long long)c->refused);
            if (n > 0 && (size_t)n < sizeof(path))
                (void)write_file(path, im->data, im->len);
        }
        if (!c->report_only)
            c->failures++;
        return 0;
    }
    c->recovered++;
    c->truncated += len < im->len;
    c->records_max = MAX(c->records_max, records);
    why = check_recovered(im->point, rec, len);
    if (!why) {
        r = logrec_scan(rec, len, NULL, NULL, &end, &count, chain, &torn);
        if (r < 0 || torn || end != len || count != records)
            why = "the recovered file does not scan clean with the agent's record count";
    }
    if (why) {
        c->failures++;
        if (c->failures <= CRASHCHECK_MAX_REPORT)
            report_image("FAIL", im, why);
        return 0;
    }
    if (len <= c->final_len && memcmp(rec, c->final, len) == 0) {
        if (!(c->len_seen[len / 8] & (1u << (len % 8))))
            c->distinct++;
        c->len_seen[len / 8] |= (uint8_t)(1u << (len % 8));
    } else {
        /* Not a prefix of the final file (the writer truncated later): verify it now. */
        c->other++;
        if (c->cli && run_cli(c, c->records) < 0)
            c->failures++;
    }
    return 0;
}

/* Every distinct recovered prefix of final, or an even sample of CRASHCHECK_MAX_CLI. */
static int verify_with_cli(struct check *c)
{
    char path[CRASHCHECK_PATH_MAX + 32];
    uint64_t idx = 0, step_num = MAX(c->distinct, 1), want = MIN(c->distinct, CRASHCHECK_MAX_CLI);
    uint64_t next = 0, picked = 0;
    int n = snprintf(path, sizeof(path), "%s/recovered", c->work);

    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    for (size_t len = 0; len <= c->final_len && picked < want; len++) {
        if (!(c->len_seen[len / 8] & (1u << (len % 8))))
            continue;
        /* The i-th of want picks: index round(i * (distinct - 1) / (want - 1)). */
        next = want > 1 ? picked * (step_num - 1) / (want - 1) : 0;
        if (idx++ != next)
            continue;
        picked++;
        int r = write_file(path, c->final, len);
        if (r < 0)
            return r;
        if (run_cli(c, path) < 0)
            c->failures++;
    }
    return 0;
}

/* Damage inside the acknowledged records of the final log must be refused. */
static int controls(struct check *c, char *summary, size_t slen)
{
    static const struct {
        const char *name;
        size_t zero; /* bytes zeroed at the offset; 0: flip one bit */
    } cases[] = {{"bit flip", 0}, {"zeroed 512-byte sector", 512}, {"zeroed 4 KiB block", 4096}};
    _cleanup_free_ uint8_t *img = NULL;
    size_t off = CRASHCHECK_CONTROL_OFFSET;
    uint64_t records, all = 0;
    char err[CRASHCHECK_PATH_MAX + 512];
    int refused = 0, r;

    if (c->final_len < off + 4096 + CRASHCHECK_CONTROL_DISTANCE) {
        fprintf(stderr, "FAIL: controls need a log of at least %zu bytes (have %zu)\n",
                off + 4096 + CRASHCHECK_CONTROL_DISTANCE, c->final_len);
        return -EFBIG;
    }
    img = malloc(c->final_len);
    if (!img)
        return -ENOMEM;
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_free_ uint8_t *rec = NULL;
        size_t len;
        memcpy(img, c->final, c->final_len);
        if (cases[i].zero)
            memset(img + off, 0, cases[i].zero);
        else
            img[off + 100] ^= 0x10;
        r = recover(c, img, c->final_len, &records, &rec, &len, err, sizeof(err));
        if (r < 0)
            return r;
        if (r == 1) {
            c->failures++;
            fprintf(stderr, "FAIL: control '%s' at offset %zu was accepted (%llu records)\n",
                    cases[i].name, off, (unsigned long long)records);
        } else {
            refused++;
            printf("control: %s at offset %zu of %zu refused: %s\n", cases[i].name, off,
                   c->final_len, err);
        }
    }
    /* Informational: zeroed block among the final records (looks like an unsynced batch). */
    {
        _cleanup_free_ uint8_t *rec = NULL;
        size_t len, at = (c->final_len - 4096 - 1) / 4096 * 4096;
        uint8_t chain[LOGREC_HASH];
        bool torn;
        size_t end;
        (void)logrec_scan(c->final, c->final_len, NULL, NULL, &end, &all, chain, &torn);
        memcpy(img, c->final, c->final_len);
        memset(img + at, 0, 4096);
        r = recover(c, img, c->final_len, &records, &rec, &len, err, sizeof(err));
        if (r < 0)
            return r;
        printf("control (informational): zeroed 4 KiB block at offset %zu, %zu bytes before the "
               "end: %s\n",
               at, c->final_len - at, r == 1 ? "treated as an unsynced final batch" : "refused");
        if (r == 1)
            printf("  recovered %llu of %llu records (the tail cannot be told from a torn "
                   "batch without a checkpoint)\n",
                   (unsigned long long)records, (unsigned long long)all);
    }
    (void)snprintf(summary, slen, "{\"run\": %zu, \"refused\": %d}", ELEMENTSOF(cases), refused);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: crashcheck --trace TRACE --work DIR [--final FILE] [--cli HWSIGN] "
               "[--controls] [--seed N] [--quick] [--report-only]\n"
               "       crashcheck --replay-only --trace TRACE --work DIR --final FILE\n");
}

int main(int argc, char *argv[])
{
    static const struct option opts[] = {
            {"trace", required_argument, NULL, 't'},
            {"work", required_argument, NULL, 'w'},
            {"final", required_argument, NULL, 'f'},
            {"cli", required_argument, NULL, 'c'},
            {"seed", required_argument, NULL, 's'},
            {"controls", no_argument, NULL, 'C'},
            {"report-only", no_argument, NULL, 'R'},
            {"help", no_argument, NULL, 'h'},
            {"quick", no_argument, NULL, 'Q'},
            {"replay-only", no_argument, NULL, 'P'},
            {NULL, 0, NULL, 0},
    };
    _cleanup_(crashimg_trace_freep) struct crashimg_trace *t = NULL;
    _cleanup_free_ uint8_t *final = NULL, *seen = NULL, *real = NULL;
    const char *trace = NULL, *work = NULL, *final_path = NULL;
    struct check c = {0};
    struct crashimg_params p;
    struct crashimg_trace_stats ts;
    struct crashimg_stats gs;
    char err[CRASHCHECK_PATH_MAX + 512], ctl[128] = "null";
    bool do_controls = false, quick = false, replay_only = false;
    size_t real_len;
    double t0 = now_s(), t1;
    int opt, n, r;

    crashimg_params_default(&p);
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 't':
            trace = optarg;
            break;
        case 'w':
            work = optarg;
            break;
        case 'f':
            final_path = optarg;
            break;
        case 'c':
            c.cli = optarg;
            break;
        case 's':
            if (parse_u64(optarg, UINT64_MAX, &p.seed) < 0) {
                usage(stderr);
                return 2;
            }
            break;
        case 'C':
            do_controls = true;
            break;
        case 'R':
            c.report_only = true;
            break;
        case 'Q':
            quick = true;
            break;
        case 'P':
            replay_only = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!trace || !work || optind != argc || (replay_only && !final_path)) {
        usage(stderr);
        return 2;
    }
    if (quick) {
        uint64_t seed = p.seed;
        crashimg_params_quick(&p);
        p.seed = seed;
    }
    if (selftest() < 0)
        return 1;
    n = snprintf(c.work, sizeof(c.work), "%s", work);
    if (n > 0 && (size_t)n < sizeof(c.work))
        n = snprintf(c.state_dir, sizeof(c.state_dir), "%s/state", work);
    if (n > 0 && (size_t)n < sizeof(c.state_dir))
        n = snprintf(c.records, sizeof(c.records), "%s/" AUDITLOG_DIR "/" AUDITLOG_FILE,
                     c.state_dir);
    if (n < 0 || (size_t)n >= sizeof(c.records)) {
        fprintf(stderr, "crashcheck: work path too long\n");
        return 3;
    }
    if ((mkdir(c.state_dir, 0700) < 0 && errno != EEXIST) ||
        (snprintf(err, sizeof(err), "%s/" AUDITLOG_DIR, c.state_dir) > 0 && mkdir(err, 0700) < 0 &&
         errno != EEXIST)) {
        fprintf(stderr, "crashcheck: cannot create %s: %m\n", c.state_dir);
        return 3;
    }
    r = crashimg_trace_load(trace, &t, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "crashcheck: %s\n", err);
        return 3;
    }
    crashimg_trace_stats(t, &ts);
    printf("trace: %llu records; on the file: %llu writes (%llu bytes), %llu truncates, "
           "%llu fallocates, %llu syncs, %llu sync_file_range, %llu failed calls, "
           "%llu opens, %llu dups, %llu closes; at most %llu operations between syncs\n",
           (unsigned long long)ts.records, (unsigned long long)ts.writes,
           (unsigned long long)ts.write_bytes, (unsigned long long)ts.truncates,
           (unsigned long long)ts.fallocates, (unsigned long long)ts.syncs,
           (unsigned long long)ts.sync_ranges, (unsigned long long)ts.failed,
           (unsigned long long)ts.opens, (unsigned long long)ts.dups, (unsigned long long)ts.closes,
           (unsigned long long)ts.max_window_ops);
    printf("calls:");
    for (uint32_t i = 1; i < IOSHIM_CALL_MAX; i++)
        if (ts.calls[i])
            printf(" %s %llu", crashimg_call_name(i), (unsigned long long)ts.calls[i]);
    printf("\n");

    r = crashimg_final(t, &final, &c.final_len);
    if (r < 0) {
        fprintf(stderr, "crashcheck: cannot replay the trace: %s\n", strerror(-r));
        return 3;
    }
    c.final = final;
    if (final_path) {
        r = read_file_bounded(final_path, CRASHIMG_MAX_FILE, &real, &real_len);
        if (r < 0) {
            fprintf(stderr, "crashcheck: cannot read %s: %s\n", final_path, strerror(-r));
            return 3;
        }
        if (real_len != c.final_len || memcmp(real, final, real_len) != 0) {
            fprintf(stderr,
                    "FAIL: the trace replayed (%zu bytes) differs from %s (%zu bytes): "
                    "the shim missed or misplaced a write\n",
                    c.final_len, final_path, real_len);
            return 1;
        }
        printf("replay: the trace rebuilds %s exactly (%zu bytes)\n", final_path, real_len);
    }
    if (replay_only)
        return 0;
    seen = calloc(c.final_len / 8 + 1, 1);
    if (!seen)
        return 3;
    c.len_seen = seen;

    r = crashimg_generate(t, &p, check_image, &c, &gs);
    if (r < 0) {
        fprintf(stderr, "crashcheck: image generation stopped: %s\n", strerror(-r));
        return r == -ENOMEM || r == -E2BIG ? 3 : 1;
    }
    t1 = now_s();
    if (c.cli && verify_with_cli(&c) < 0)
        return 3;
    if (do_controls && controls(&c, ctl, sizeof(ctl)) < 0)
        return 1;

    printf("crash points: %llu; images: %llu checked (%llu duplicates skipped, %llu points "
           "capped); clean %llu, torn-short %llu, torn-zero %llu, subset %llu, short-tail %llu\n",
           (unsigned long long)gs.points, (unsigned long long)gs.images,
           (unsigned long long)gs.duplicates, (unsigned long long)gs.capped,
           (unsigned long long)gs.by_kind[CRASHIMG_CLEAN],
           (unsigned long long)gs.by_kind[CRASHIMG_TORN_SHORT],
           (unsigned long long)gs.by_kind[CRASHIMG_TORN_ZERO],
           (unsigned long long)gs.by_kind[CRASHIMG_SUBSET],
           (unsigned long long)gs.by_kind[CRASHIMG_SHORT_TAIL]);
    printf("recovery: %llu recovered (%llu truncated a torn tail), %llu refused at %llu crash "
           "points (clean %llu, torn-short %llu, torn-zero %llu, subset %llu, short-tail %llu); "
           "%llu distinct recovered logs, %llu checked with the CLI (%llu rejected)\n",
           (unsigned long long)c.recovered, (unsigned long long)c.truncated,
           (unsigned long long)c.refused, (unsigned long long)c.refused_points,
           (unsigned long long)c.refused_by_kind[CRASHIMG_CLEAN],
           (unsigned long long)c.refused_by_kind[CRASHIMG_TORN_SHORT],
           (unsigned long long)c.refused_by_kind[CRASHIMG_TORN_ZERO],
           (unsigned long long)c.refused_by_kind[CRASHIMG_SUBSET],
           (unsigned long long)c.refused_by_kind[CRASHIMG_SHORT_TAIL],
           (unsigned long long)(c.distinct + c.other), (unsigned long long)c.cli_runs,
           (unsigned long long)c.cli_failures);
    printf("{\"points\": %llu, \"images\": %llu, \"duplicates\": %llu, \"recovered\": %llu, "
           "\"truncated\": %llu, \"refused\": %llu, \"refused_subset\": %llu, "
           "\"records_max\": %llu, \"cli_runs\": %llu, \"failures\": %llu, \"controls\": %s, "
           "\"secs_images\": %.1f, \"secs\": %.1f}\n",
           (unsigned long long)gs.points, (unsigned long long)gs.images,
           (unsigned long long)gs.duplicates, (unsigned long long)c.recovered,
           (unsigned long long)c.truncated, (unsigned long long)c.refused,
           (unsigned long long)c.refused_by_kind[CRASHIMG_SUBSET],
           (unsigned long long)c.records_max, (unsigned long long)c.cli_runs,
           (unsigned long long)c.failures, ctl, t1 - t0, now_s() - t0);
    return c.failures ? 1 : 0;
}
