/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign log verify|search and the `hwsign log` dispatcher: offline audit of the agent's signing
 * log (lib/format/logrec.h), reading the file directly, without the agent. The proof and
 * checkpoint subcommands and the file mapping are in cmd-log-proof.c.
 *
 * The file is mapped read-only (mmap, PROT_READ, MAP_PRIVATE) and handed to logrec_scan, which
 * walks it record by record: memory use is one decoded record and a fixed-size Merkle compact
 * range, whatever the size of the log; the kernel pages the file in and out. The log is
 * append-only; if it shrinks while mapped (the agent truncating a torn tail at start) the
 * process would get SIGBUS, so auditors should verify a copy or a log not being opened.
 */
#define _GNU_SOURCE /* strptime, timegm */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd-log.h"
#include "logentry.h"
#include "crypto.h"
#include "format.h"
#include "output.h"
#include "parse.h"

#define LOG_NS_PER_SECOND UINT64_C(1000000000)

/* ---- shared option parsing ---- */

int log_set_state_dir(const char *cmd, struct log_opts *o, const char *dir)
{
    int n;
    if (!*dir)
        return log_usage(cmd, "--state-dir needs a directory");
    n = snprintf(o->path_buf, sizeof(o->path_buf), "%s/%s", dir, LOG_RELATIVE_PATH);
    if (n < 0 || (size_t)n >= sizeof(o->path_buf))
        return log_usage(cmd, "--state-dir path too long");
    o->path = o->path_buf;
    return CLI_EXIT_OK;
}

/* TIME: RFC 3339 UTC "2026-11-25T20:00:00Z" or unix seconds. */
static int parse_time(const char *s, uint64_t *ret)
{
    struct tm tm = {};
    const char *end;
    time_t t;

    if (parse_u64(s, UINT64_MAX / LOG_NS_PER_SECOND, ret) == 0)
        return 0;
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || (strcmp(end, "Z") != 0 && strcmp(end, "z") != 0))
        return -EINVAL;
    t = timegm(&tm);
    if (t < 0)
        return -ERANGE;
    *ret = (uint64_t)t;
    return 0;
}

static int parse_sha256_hex(const char *s, uint8_t ret[static LOGREC_HASH])
{
    _cleanup_free_ uint8_t *d = NULL;
    size_t n;
    if (hex_decode(s, strlen(s), &d, &n) < 0 || n != LOGREC_HASH)
        return -EINVAL;
    memcpy(ret, d, LOGREC_HASH);
    return 0;
}

/* ---- verify ---- */

static void log_verify_usage(FILE *f)
{
    fputs("Usage: hwsign log verify [--log FILE | --state-dir DIR] [--json]\n"
          "                         [--expect-size N --expect-root B64] [--strict]\n"
          "                         [--checkpoint FILE --log-key LOG.pem]\n"
          "\n"
          "Replay the agent's signing log offline: the file magic, every record's framing,\n"
          "decoding, sequence number and chain hash. Prints the number of records, the last\n"
          "sequence number, the final chain hash (hex) and the RFC 6962 Merkle root of the\n"
          "records (base64, as a C2SP checkpoint writes it).\n"
          "\n"
          "A torn final record (an incomplete or invalid last write, or a zero-filled tail, as\n"
          "after a crash or power loss) was never acknowledged to a client: it is reported and\n"
          "the log still verifies (exit 0) unless --strict is given. The agent truncates it when\n"
          "it next starts. Only a saved checkpoint can tell a torn tail from a damaged last\n"
          "record: use --expect-size/--expect-root.\n"
          "\n"
          "Options:\n"
          "  --log FILE          the log file (default " LOG_DEFAULT_PATH ")\n"
          "  --state-dir DIR     the agent's state directory: use DIR/" LOG_RELATIVE_PATH "\n"
          "  --expect-size N     with --expect-root: a previously saved checkpoint's tree size\n"
          "  --expect-root B64   ... and root hash; the first N records must hash to it\n"
          "                      (detects a rollback to an older copy, or a rewritten past)\n"
          "  --checkpoint FILE   with --log-key: the same against a saved signed checkpoint\n"
          "  --log-key PEM       (a C2SP note) whose ECDSA signature by the log key must verify\n"
          "  --strict            a torn tail fails verification too\n"
          "  --json              print one JSON object: log, ok, records, last_seq, chain,\n"
          "                      root, end, torn, torn_offset, checkpoint {size, root, ok},\n"
          "                      error\n"
          "  -h, --help          show this help\n"
          "\n"
          "Exit status: 0 the log verifies; 1 damage, rollback or checkpoint mismatch (one line\n"
          "naming the record index and byte offset); 2 usage; 4 the file cannot be read.\n",
          f);
}

struct verify_state {
    struct merkle_range *tree;
    uint64_t expect_size;
    bool have_expect;
    bool have_prefix_root;
    uint8_t prefix_root[MERKLE_HASH_SIZE];
};

static int verify_cb(void *ctx, const struct logrec *r, const uint8_t *body, size_t body_len,
                     const uint8_t chain[static LOGREC_HASH])
{
    struct verify_state *s = ctx;
    uint8_t leaf[MERKLE_HASH_SIZE];
    int e;

    (void)chain;
    e = logentry_leaf_hash(r, body, body_len, leaf);
    if (e >= 0)
        e = merkle_range_append(s->tree, leaf);
    if (e >= 0 && s->have_expect && merkle_range_size(s->tree) == s->expect_size) {
        e = merkle_range_root(s->tree, s->prefix_root);
        s->have_prefix_root = e >= 0;
    }
    return e;
}

static int log_verify(int argc, char *argv[])
{
    enum {
        ARG_LOG = 0x100,
        ARG_STATE_DIR,
        ARG_JSON,
        ARG_SIZE,
        ARG_ROOT,
        ARG_STRICT,
        ARG_CHECKPOINT,
        ARG_LOG_KEY
    };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"log", required_argument, NULL, ARG_LOG},
            {"state-dir", required_argument, NULL, ARG_STATE_DIR},
            {"json", no_argument, NULL, ARG_JSON},
            {"expect-size", required_argument, NULL, ARG_SIZE},
            {"expect-root", required_argument, NULL, ARG_ROOT},
            {"strict", no_argument, NULL, ARG_STRICT},
            {"checkpoint", required_argument, NULL, ARG_CHECKPOINT},
            {"log-key", required_argument, NULL, ARG_LOG_KEY},
            {},
    };
    struct log_opts o = {.path = LOG_DEFAULT_PATH};
    struct verify_state s = {};
    _cleanup_(json_object_putp) struct json_object *j = NULL;
    _cleanup_free_ char *chain_hex = NULL, *root_b64 = NULL, *origin = NULL, *cp_root = NULL;
    const char *expect_root_arg = NULL, *cp_path = NULL, *cp_key = NULL;
    uint8_t expect_root[MERKLE_HASH_SIZE], root[MERKLE_HASH_SIZE], chain[LOGREC_HASH];
    struct log_map m = {};
    bool strict = false, have_size = false, torn = false;
    char err[512] = "";
    uint64_t count = 0;
    size_t end = 0;
    int c, e, status = CLI_EXIT_OK;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            log_verify_usage(stdout);
            return CLI_EXIT_OK;
        case ARG_LOG:
            if (!*optarg)
                return log_usage("log verify", "--log needs a file name");
            o.path = optarg;
            break;
        case ARG_STATE_DIR:
            e = log_set_state_dir("log verify", &o, optarg);
            if (e != CLI_EXIT_OK)
                return e;
            break;
        case ARG_JSON:
            o.json = true;
            break;
        case ARG_SIZE:
            if (parse_u64(optarg, UINT64_MAX, &s.expect_size) < 0)
                return log_usage("log verify", "invalid --expect-size '%s'", optarg);
            have_size = true;
            break;
        case ARG_ROOT:
            expect_root_arg = optarg;
            break;
        case ARG_STRICT:
            strict = true;
            break;
        case ARG_CHECKPOINT:
            cp_path = optarg;
            break;
        case ARG_LOG_KEY:
            cp_key = optarg;
            break;
        default:
            return log_bad_option("log verify", c, argv);
        }
    }
    if (optind < argc)
        return log_usage("log verify", "unexpected argument '%s'", argv[optind]);
    if (have_size != (expect_root_arg != NULL))
        return log_usage("log verify", "--expect-size and --expect-root go together");
    if (expect_root_arg) {
        _cleanup_free_ uint8_t *d = NULL;
        size_t n;
        if (base64_decode(expect_root_arg, strlen(expect_root_arg), &d, &n) < 0 ||
            n != MERKLE_HASH_SIZE)
            return log_usage("log verify", "--expect-root must be a base64 SHA-256 hash");
        memcpy(expect_root, d, MERKLE_HASH_SIZE);
        s.have_expect = true;
    }
    if ((cp_path != NULL) != (cp_key != NULL) || (cp_path && (!*cp_path || !*cp_key)))
        return log_usage("log verify", "--checkpoint and --log-key go together");
    if (cp_path && s.have_expect)
        return log_usage("log verify", "--checkpoint replaces --expect-size/--expect-root");
    if (cp_path) {
        status = log_load_checkpoint(cp_path, cp_key, &origin, &s.expect_size, expect_root);
        if (status != CLI_EXIT_OK)
            return status;
        if (base64_encode(expect_root, MERKLE_HASH_SIZE, &cp_root) < 0)
            return log_errno(-ENOMEM, "cannot verify the log");
        expect_root_arg = cp_root;
        s.have_expect = true;
    }

    e = merkle_range_new(&s.tree);
    if (e < 0)
        return log_errno(e, "cannot verify the log");
    if (s.have_expect && s.expect_size == 0) {
        s.have_prefix_root = merkle_empty_root(s.prefix_root) >= 0;
        if (!s.have_prefix_root)
            goto out_internal;
    }
    status = log_map_file(o.path, &m);
    if (status != CLI_EXIT_OK)
        goto out;

    e = logrec_scan(m.data, m.len, verify_cb, &s, &end, &count, chain, &torn);
    if (e < 0 && e != -EBADMSG)
        goto out_internal;
    if (e == -EBADMSG) {
        if (end == 0)
            format_message(err, sizeof(err), "%s: %s (offset 0)", o.path,
                           log_diagnose(&m, 0, 0, chain));
        else
            format_message(err, sizeof(err),
                           "%s: record %" PRIu64 " at offset %zu is damaged: %s (%" PRIu64
                           " records before it verify)",
                           o.path, count, end, log_diagnose(&m, end, count, chain), count);
        status = CLI_EXIT_REFUSED;
    } else if (s.have_expect && count < s.expect_size) {
        format_message(err, sizeof(err),
                       "%s: log is shorter than the saved checkpoint (rollback?): %" PRIu64
                       " records, checkpoint size %" PRIu64 "%s",
                       o.path, count, s.expect_size,
                       torn ? " (a torn final record is not counted)" : "");
        status = CLI_EXIT_REFUSED;
    } else if (s.have_expect &&
               (!s.have_prefix_root || memcmp(s.prefix_root, expect_root, MERKLE_HASH_SIZE) != 0)) {
        format_message(err, sizeof(err),
                       "%s: the first %" PRIu64 " records do not hash to the saved checkpoint "
                       "root: the log's past was rewritten, or it is a different log",
                       o.path, s.expect_size);
        status = CLI_EXIT_REFUSED;
    } else if (torn && strict) {
        format_message(err, sizeof(err),
                       "%s: torn final record at offset %zu (never acknowledged), --strict", o.path,
                       end);
        status = CLI_EXIT_REFUSED;
    }

    if (merkle_range_root(s.tree, root) < 0 || hex_encode(chain, LOGREC_HASH, &chain_hex) < 0 ||
        base64_encode(root, MERKLE_HASH_SIZE, &root_b64) < 0)
        goto out_internal;

    if (o.json) {
        j = json_object_new_object();
        if (!j || json_add_string(j, "log", o.path) < 0 ||
            json_add_bool(j, "ok", status == CLI_EXIT_OK) < 0 ||
            json_add_u64(j, "records", count) < 0 ||
            (count > 0 && json_add_u64(j, "last_seq", count - 1) < 0) ||
            json_add_string(j, "chain", chain_hex) < 0 ||
            json_add_string(j, "root", root_b64) < 0 || json_add_u64(j, "end", end) < 0 ||
            json_add_bool(j, "torn", torn) < 0 ||
            (torn && json_add_u64(j, "torn_offset", end) < 0) ||
            (err[0] && json_add_string(j, "error", err) < 0))
            goto out_internal;
        if (s.have_expect) {
            struct json_object *cp = json_object_new_object();
            if (!cp || json_add(j, "checkpoint", cp) < 0 ||
                json_add_u64(cp, "size", s.expect_size) < 0 ||
                json_add_string(cp, "root", expect_root_arg) < 0 ||
                (origin && json_add_string(cp, "origin", origin) < 0) ||
                json_add_bool(cp, "ok",
                              s.have_prefix_root && count >= s.expect_size &&
                                      memcmp(s.prefix_root, expect_root, MERKLE_HASH_SIZE) == 0) <
                        0)
                goto out_internal;
        }
        e = json_print(j);
        if (e < 0) {
            status = log_errno(e, "cannot write the result");
            goto out;
        }
    } else if (status == CLI_EXIT_OK) {
        printf("log: %s\nrecords: %" PRIu64 "\n", o.path, count);
        if (count > 0)
            printf("last seq: %" PRIu64 "\n", count - 1);
        else
            printf("last seq: none (empty log)\n");
        printf("chain: %s\nroot: %s\n", chain_hex, root_b64);
        if (torn)
            printf("torn tail: torn final record at offset %zu (%zu bytes, never acknowledged; "
                   "the agent truncates it at start)\n",
                   end, m.len - end);
        if (origin)
            printf("checkpoint: %s signed by the log key\n", PRINTABLE(origin));
        if (s.have_expect)
            printf("checkpoint: the first %" PRIu64 " records match the saved root\n",
                   s.expect_size);
        printf("Log verified OK\n");
    }
    if (err[0])
        (void)log_error(status, "%s", err);
    else if (torn && !o.json)
        fprintf(stderr,
                "hwsign: note: %s: torn final record at offset %zu (never "
                "acknowledged)\n",
                o.path, end);
    goto out;

out_internal:
    status = log_errno(e < 0 ? e : -ENOMEM, "cannot verify %s", o.path);
out:
    log_unmap(&m);
    merkle_range_free(s.tree);
    return status;
}

/* ---- search ---- */

static void log_search_usage(FILE *f)
{
    fputs("Usage: hwsign log search [--log FILE | --state-dir DIR] [--key NAME] [--uid UID]\n"
          "                         [--since TIME] [--until TIME] [--subject SHA256] [--json]\n"
          "\n"
          "List the records of the agent's signing log that match every given filter: seq,\n"
          "time (RFC 3339 UTC), key, peer uid/gid/pid, executable, unit, request kind,\n"
          "predicate type, subjects, digest and the SHA-256 of the signature. Records are read\n"
          "only as far as the log verifies (framing, seq, chain): at damage the listing stops\n"
          "with an error.\n"
          "\n"
          "Options:\n"
          "  --log FILE         the log file (default " LOG_DEFAULT_PATH ")\n"
          "  --state-dir DIR    the agent's state directory: use DIR/" LOG_RELATIVE_PATH "\n"
          "  --key NAME         records signed with key NAME\n"
          "  --uid UID          records requested by peer uid UID\n"
          "  --since TIME       records at or after TIME (RFC 3339 UTC such as\n"
          "                     2026-11-25T20:00:00Z, or unix seconds)\n"
          "  --until TIME       records at or before TIME (to the second, inclusive)\n"
          "  --subject SHA256   records with a statement subject of this SHA-256 (hex), or a\n"
          "                     digest request over this SHA-256 digest\n"
          "  --json             print one JSON object: log, records[] {seq, time, time_ns, key,\n"
          "                     uid, gid, pid, exe, unit, request, hash, digest,\n"
          "                     statement_sha256, predicate_type, subjects[] {name, sha256},\n"
          "                     signature_sha256}, scanned, torn, error\n"
          "  -h, --help         show this help\n"
          "\n"
          "Exit status: 0 success (also when nothing matches); 1 the log is damaged before its\n"
          "end (records after the damage are not listed); 2 usage; 4 the file cannot be read.\n",
          f);
}

struct search_state {
    const char *key;
    bool have_uid, have_since, have_until, have_subject;
    uint32_t uid;
    uint64_t since, until; /* unix seconds */
    uint8_t subject[LOGREC_HASH];
    bool json;
    struct json_object *list;
    uint64_t matched;
};

static bool search_match(const struct search_state *s, const struct logrec *r)
{
    uint64_t sec = r->time_ns / LOG_NS_PER_SECOND;

    if (s->key && !streq(s->key, r->key))
        return false;
    if (s->have_uid && r->uid != s->uid)
        return false;
    if (s->have_since && sec < s->since)
        return false;
    if (s->have_until && sec > s->until)
        return false;
    if (s->have_subject) {
        bool hit = r->request == LOGREC_DIGEST && r->hash == HWSIGN_HASH_SHA256 &&
                   r->digest_len == LOGREC_HASH && memcmp(r->digest, s->subject, LOGREC_HASH) == 0;
        for (size_t i = 0; !hit && i < r->nsubjects; i++)
            hit = memcmp(r->subjects[i].sha256, s->subject, LOGREC_HASH) == 0;
        if (!hit)
            return false;
    }
    return true;
}

static const char *request_name(uint8_t req)
{
    return req == LOGREC_STATEMENT ? "statement" : "digest";
}

/* Log text is untrusted: control characters become '?' before reaching a terminal. */
#define LOG_PRINTABLE(s) printable((s), (char[LOGREC_MAX_TEXT + 1]){0}, LOGREC_MAX_TEXT + 1)

static int search_json(struct search_state *s, const struct logrec *r, const char *when,
                       const uint8_t sig_sha[static LOGREC_HASH])
{
    _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
    _cleanup_free_ char *digest = NULL, *stmt = NULL, *sig = NULL;
    struct json_object *subjects;

    if (!o || hex_encode(r->digest, r->digest_len, &digest) < 0 ||
        hex_encode(sig_sha, LOGREC_HASH, &sig) < 0 ||
        (r->has_statement && hex_encode(r->statement_sha256, LOGREC_HASH, &stmt) < 0))
        return -ENOMEM;
    if (json_add_u64(o, "seq", r->seq) < 0 || json_add_string(o, "time", when) < 0 ||
        json_add_u64(o, "time_ns", r->time_ns) < 0 || json_add_string(o, "key", r->key) < 0 ||
        json_add_u64(o, "uid", r->uid) < 0 || json_add_u64(o, "gid", r->gid) < 0 ||
        json_add_u64(o, "pid", r->pid) < 0 || json_add_string(o, "exe", r->exe) < 0 ||
        json_add_string(o, "unit", r->unit) < 0 ||
        json_add_string(o, "request", request_name(r->request)) < 0 ||
        json_add_string(o, "hash", hash_name((enum hwsign_hash)r->hash)) < 0 ||
        json_add_string(o, "digest", digest) < 0 ||
        json_add_string(o, "statement_sha256", stmt) < 0 ||
        json_add_string(o, "predicate_type", r->predicate_type) < 0 ||
        json_add_string(o, "signature_sha256", sig) < 0)
        return -ENOMEM;
    subjects = json_object_new_array();
    if (json_add(o, "subjects", subjects) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < r->nsubjects; i++) {
        _cleanup_free_ char *h = NULL;
        struct json_object *sj = json_object_new_object();
        if (!sj || json_object_array_add(subjects, sj) < 0) {
            json_object_put(sj);
            return -ENOMEM;
        }
        if (hex_encode(r->subjects[i].sha256, LOGREC_HASH, &h) < 0 ||
            json_add_string(sj, "name", r->subjects[i].name) < 0 ||
            json_add_string(sj, "sha256", h) < 0)
            return -ENOMEM;
    }
    if (json_object_array_add(s->list, o) < 0)
        return -ENOMEM;
    TAKE_PTR(o);
    return 0;
}

static int search_print(const struct logrec *r, const char *when,
                        const uint8_t sig_sha[static LOGREC_HASH])
{
    _cleanup_free_ char *digest = NULL, *sig = NULL;
    const char *hn = hash_name((enum hwsign_hash)r->hash);

    if (hex_encode(r->digest, r->digest_len, &digest) < 0 ||
        hex_encode(sig_sha, LOGREC_HASH, &sig) < 0)
        return -ENOMEM;
    printf("seq %" PRIu64 "  %s  key %s  uid %" PRIu32 " gid %" PRIu32 " pid %" PRIu32 "\n", r->seq,
           when, LOG_PRINTABLE(r->key), r->uid, r->gid, r->pid);
    printf("  exe %s  unit %s\n", r->exe[0] ? LOG_PRINTABLE(r->exe) : "-",
           r->unit[0] ? LOG_PRINTABLE(r->unit) : "-");
    printf("  request %s", request_name(r->request));
    if (r->request == LOGREC_STATEMENT)
        printf("  predicate %s", LOG_PRINTABLE(r->predicate_type));
    printf("\n");
    for (size_t i = 0; i < r->nsubjects; i++) {
        _cleanup_free_ char *h = NULL;
        if (hex_encode(r->subjects[i].sha256, LOGREC_HASH, &h) < 0)
            return -ENOMEM;
        printf("  subject %s sha256:%s\n", LOG_PRINTABLE(r->subjects[i].name), h);
    }
    printf("  digest %s:%s\n  signature sha256:%s\n", hn ? hn : "?", digest, sig);
    return 0;
}

static int search_cb(void *ctx, const struct logrec *r, const uint8_t *body, size_t body_len,
                     const uint8_t chain[static LOGREC_HASH])
{
    struct search_state *s = ctx;
    char when[64];

    (void)body;
    (void)body_len;
    (void)chain;
    if (!search_match(s, r))
        return 0;
    if (format_timestamp(r->time_ns / LOG_NS_PER_SECOND, when, sizeof(when)) < 0)
        format_message(when, sizeof(when), "@%" PRIu64, r->time_ns / LOG_NS_PER_SECOND);
    s->matched++;
    return s->json ? search_json(s, r, when, r->signature_sha256)
                   : search_print(r, when, r->signature_sha256);
}

static int log_search(int argc, char *argv[])
{
    enum {
        ARG_LOG = 0x100,
        ARG_STATE_DIR,
        ARG_JSON,
        ARG_KEY,
        ARG_UID,
        ARG_SINCE,
        ARG_UNTIL,
        ARG_SUBJECT
    };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"log", required_argument, NULL, ARG_LOG},
            {"state-dir", required_argument, NULL, ARG_STATE_DIR},
            {"json", no_argument, NULL, ARG_JSON},
            {"key", required_argument, NULL, ARG_KEY},
            {"uid", required_argument, NULL, ARG_UID},
            {"since", required_argument, NULL, ARG_SINCE},
            {"until", required_argument, NULL, ARG_UNTIL},
            {"subject", required_argument, NULL, ARG_SUBJECT},
            {},
    };
    struct log_opts o = {.path = LOG_DEFAULT_PATH};
    struct search_state s = {};
    _cleanup_(json_object_putp) struct json_object *j = NULL;
    uint8_t chain[LOGREC_HASH];
    struct log_map m = {};
    bool torn = false;
    char err[512] = "";
    uint64_t count = 0;
    size_t end = 0;
    int c, e, status;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            log_search_usage(stdout);
            return CLI_EXIT_OK;
        case ARG_LOG:
            if (!*optarg)
                return log_usage("log search", "--log needs a file name");
            o.path = optarg;
            break;
        case ARG_STATE_DIR:
            e = log_set_state_dir("log search", &o, optarg);
            if (e != CLI_EXIT_OK)
                return e;
            break;
        case ARG_JSON:
            o.json = true;
            break;
        case ARG_KEY:
            if (!*optarg)
                return log_usage("log search", "--key needs a key name");
            s.key = optarg;
            break;
        case ARG_UID:
            if (parse_u32(optarg, UINT32_MAX, &s.uid) < 0)
                return log_usage("log search", "invalid --uid '%s'", optarg);
            s.have_uid = true;
            break;
        case ARG_SINCE:
            if (parse_time(optarg, &s.since) < 0)
                return log_usage("log search",
                                 "invalid --since '%s' (RFC 3339 UTC or unix "
                                 "seconds)",
                                 optarg);
            s.have_since = true;
            break;
        case ARG_UNTIL:
            if (parse_time(optarg, &s.until) < 0)
                return log_usage("log search",
                                 "invalid --until '%s' (RFC 3339 UTC or unix "
                                 "seconds)",
                                 optarg);
            s.have_until = true;
            break;
        case ARG_SUBJECT:
            if (parse_sha256_hex(optarg, s.subject) < 0)
                return log_usage("log search", "--subject must be a SHA-256 in hex");
            s.have_subject = true;
            break;
        default:
            return log_bad_option("log search", c, argv);
        }
    }
    if (optind < argc)
        return log_usage("log search", "unexpected argument '%s'", argv[optind]);
    s.json = o.json;
    if (s.json) {
        j = json_object_new_object();
        s.list = json_object_new_array();
        if (!j || json_add(j, "records", s.list) < 0)
            return log_errno(-ENOMEM, "cannot search the log");
    }

    status = log_map_file(o.path, &m);
    if (status != CLI_EXIT_OK)
        return status;
    e = logrec_scan(m.data, m.len, search_cb, &s, &end, &count, chain, &torn);
    if (e < 0 && e != -EBADMSG) {
        status = log_errno(e, "cannot search %s", o.path);
        goto out;
    }
    if (e == -EBADMSG) {
        if (end == 0)
            format_message(err, sizeof(err), "%s: %s (offset 0)", o.path,
                           log_diagnose(&m, 0, 0, chain));
        else
            format_message(err, sizeof(err),
                           "%s: record %" PRIu64 " at offset %zu is damaged: %s; records after "
                           "it are not listed",
                           o.path, count, end, log_diagnose(&m, end, count, chain));
        status = CLI_EXIT_REFUSED;
    }
    if (s.json) {
        if (json_add_string(j, "log", o.path) < 0 || json_add_u64(j, "scanned", count) < 0 ||
            json_add_u64(j, "matched", s.matched) < 0 || json_add_bool(j, "torn", torn) < 0 ||
            (err[0] && json_add_string(j, "error", err) < 0)) {
            status = log_errno(-ENOMEM, "cannot search %s", o.path);
            goto out;
        }
        e = json_print(j);
        if (e < 0) {
            status = log_errno(e, "cannot write the result");
            goto out;
        }
    }
    if (err[0])
        (void)log_error(status, "%s", err);
    else if (torn)
        fprintf(stderr,
                "hwsign: note: %s: torn final record at offset %zu (never "
                "acknowledged), not listed\n",
                o.path, end);
out:
    log_unmap(&m);
    return status;
}

/* ---- the command group ---- */

static void log_usage_text(FILE *f)
{
    fputs("Usage: hwsign log verify [--log FILE | --state-dir DIR] [--json]\n"
          "                         [--expect-size N --expect-root B64] [--strict]\n"
          "                         [--checkpoint FILE --log-key LOG.pem]\n"
          "       hwsign log search [--log FILE | --state-dir DIR] [--key NAME] [--uid UID]\n"
          "                         [--since TIME] [--until TIME] [--subject SHA256] [--json]\n"
          "       hwsign log proof INDEX [--size N] [--log FILE | --state-dir DIR] [--json]\n"
          "       hwsign log consistency OLD NEW [--log FILE | --state-dir DIR] [--json]\n"
          "       hwsign log checkpoint [--new] [--verify-key LOG.pem] [-o FILE] [--json]\n"
          "       hwsign log verify-proof --log-key LOG.pem --checkpoint FILE --index I\n"
          "                               --leaf-hash HASH --proof PROOF.json\n"
          "       hwsign log trusted-root --log-key LOG.pem --origin ORIGIN [-o FILE]\n"
          "\n"
          "Audit the agent's tamper-evident signing log offline, reading the file directly\n"
          "(default " LOG_DEFAULT_PATH
          "); no agent is needed except for 'checkpoint'. proof and consistency print RFC 6962\n"
          "proofs (hashes in base64); verify-proof checks one against a signed checkpoint\n"
          "without the log. See docs/log.md.\n"
          "Run 'hwsign log SUBCOMMAND --help' for details.\n",
          f);
}

int cmd_log(int argc, char *argv[], const struct cli_context *ctx)
{
    if (argc < 2)
        return log_usage("log", "missing subcommand (verify, search, proof, consistency, "
                                "checkpoint, verify-proof or trusted-root)");
    if (streq(argv[1], "-h") || streq(argv[1], "--help")) {
        log_usage_text(stdout);
        return CLI_EXIT_OK;
    }
    if (streq(argv[1], "verify"))
        return log_verify(argc - 1, argv + 1);
    if (streq(argv[1], "search"))
        return log_search(argc - 1, argv + 1);
    if (streq(argv[1], "proof"))
        return log_proof(argc - 1, argv + 1);
    if (streq(argv[1], "consistency"))
        return log_consistency(argc - 1, argv + 1);
    if (streq(argv[1], "checkpoint"))
        return log_checkpoint(argc - 1, argv + 1, ctx);
    if (streq(argv[1], "verify-proof"))
        return log_verify_proof(argc - 1, argv + 1);
    if (streq(argv[1], "trusted-root"))
        return log_trusted_root(argc - 1, argv + 1);
    return log_usage("log", "unknown subcommand '%s'", argv[1]);
}
