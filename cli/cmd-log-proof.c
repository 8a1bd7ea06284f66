/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign log proof|consistency|checkpoint|verify-proof, and the mapped log file shared with
 * cmd-log.c. Proofs are RFC 6962 / RFC 9162 (lib/format/merkle.h) over the leaves
 * SHA-256(0x00 || body_i) of the records of a log that verifies (lib/format/logrec.h);
 * checkpoints are C2SP tlog-checkpoints in signed-note form (lib/format/{note,checkpoint}.h)
 * signed by the agent's ECDSA log key. Every hash is printed in standard base64, as the third
 * line of a checkpoint writes its root.
 *
 * The proof commands scan the whole file (as `log verify` does: no proof from a log that does
 * not verify) and keep the leaf hashes of the first N records, 32 bytes per record; the proof
 * itself costs O(N) hashes (merkle.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "checkpoint.h"
#include "cmd-log.h"
#include "logentry.h"
#include "crypto-cleanup.h"
#include "crypto.h"
#include "format.h"
#include "json.h"
#include "note.h"
#include "output.h"
#include "parse.h"

#define LOG_MAX_PROOF_FILE (64u * 1024u) /* a --proof JSON file: 64 hashes need ~4 KiB */

/* ---- the mapped log file ---- */

void log_unmap(struct log_map *m)
{
    if (m->data && m->len > 0)
        munmap((void *)(uintptr_t)m->data, m->len);
    m->data = NULL;
}

int log_map_file(const char *path, struct log_map *ret)
{
    _cleanup_close_ int fd = -EBADF;
    struct stat st;
    void *p;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return log_errno(negative_errno(), "cannot open %s", path);
    if (fstat(fd, &st) < 0)
        return log_errno(negative_errno(), "cannot stat %s", path);
    if (!S_ISREG(st.st_mode))
        return log_error(CLI_EXIT_ERROR, "%s is not a regular file", path);
    if ((uint64_t)st.st_size > SIZE_MAX)
        return log_error(CLI_EXIT_ERROR, "%s is too large to map", path);
    if (st.st_size == 0) {
        *ret = (struct log_map){NULL, 0};
        return CLI_EXIT_OK;
    }
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return log_errno(negative_errno(), "cannot map %s", path);
    *ret = (struct log_map){p, (size_t)st.st_size};
    return CLI_EXIT_OK;
}

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

const char *log_diagnose(const struct log_map *m, size_t off, uint64_t count,
                         const uint8_t prev[static LOGREC_HASH])
{
    _cleanup_(logrec_freep) struct logrec *r = NULL;
    uint8_t chain[LOGREC_HASH];
    size_t rem = m->len - off;
    uint32_t blen;

    if (off == 0)
        return m->len < LOGREC_MAGIC_LEN ? "file too short for the magic"
                                         : "bad magic: not a hwsign signing log";
    if (rem < 4)
        return "truncated length";
    blen = load_be32(m->data + off);
    if (blen > LOGREC_MAX_BODY)
        return "record length over the limit";
    if (rem < (size_t)blen + 4 + LOGREC_HASH)
        return "record length points past the end of the file";
    if (logrec_decode_body(m->data + off + 4, blen, &r) < 0)
        return "record body does not decode (or its length is wrong)";
    if (r->seq != count)
        return r->seq < count ? "sequence number repeats an earlier record (duplicated or "
                                "reordered record)"
                              : "sequence number skips ahead (deleted or reordered record)";
    if (logrec_chain(prev, m->data + off + 4, blen, chain) < 0)
        return "cannot compute the chain hash";
    if (memcmp(chain, m->data + off + 4 + blen, LOGREC_HASH) != 0)
        return "chain hash mismatch (record or an earlier one altered)";
    return "damaged bytes after the record";
}

/* ---- leaf hashes of a verified log ---- */

struct leaves {
    uint8_t (*hash)[MERKLE_HASH_SIZE];
    uint64_t n, cap;
    uint64_t want; /* keep the first want leaves */
};

static int leaves_cb(void *ctx, const struct logrec *r, const uint8_t *body, size_t body_len,
                     const uint8_t chain[static LOGREC_HASH])
{
    struct leaves *l = ctx;

    (void)chain;
    if (l->n >= l->want)
        return 0;
    if (l->n == l->cap) {
        uint64_t cap = l->cap ? l->cap * 2 : 1024;
        void *p;
        if (cap > SIZE_MAX / MERKLE_HASH_SIZE)
            return -ENOMEM;
        p = realloc(l->hash, (size_t)cap * MERKLE_HASH_SIZE);
        if (!p)
            return -ENOMEM;
        l->hash = p;
        l->cap = cap;
    }
    return logentry_leaf_hash(r, body, body_len, l->hash[l->n++]);
}

static int leaves_get(void *ctx, uint64_t index, uint8_t out[MERKLE_HASH_SIZE])
{
    const struct leaves *l = ctx;
    if (index >= l->n)
        return -EINVAL;
    memcpy(out, l->hash[index], MERKLE_HASH_SIZE);
    return 0;
}

/*
 * Verifies the log at path as `log verify` does and keeps the leaf hashes of its first
 * l->want records. *ret_count is the number of valid records (a torn tail is not counted and is
 * no error). Returns an exit status: 1 if the log is damaged.
 */
static int leaves_load(const char *path, struct leaves *l, uint64_t *ret_count)
{
    struct log_map m = {};
    uint8_t chain[LOGREC_HASH];
    uint64_t count = 0;
    size_t end = 0;
    bool torn = false;
    int e, status;

    status = log_map_file(path, &m);
    if (status != CLI_EXIT_OK)
        return status;
    e = logrec_scan(m.data, m.len, leaves_cb, l, &end, &count, chain, &torn);
    if (e == -EBADMSG && end == 0)
        status = log_error(CLI_EXIT_REFUSED,
                           "%s: %s (offset 0); no proof from a log that "
                           "does not verify",
                           path, log_diagnose(&m, 0, 0, chain));
    else if (e == -EBADMSG)
        status = log_error(CLI_EXIT_REFUSED,
                           "%s: record %" PRIu64 " at offset %zu is damaged: %s; no proof from "
                           "a log that does not verify",
                           path, count, end, log_diagnose(&m, end, count, chain));
    else if (e < 0)
        status = log_errno(e, "cannot read %s", path);
    else
        *ret_count = count;
    log_unmap(&m);
    return status;
}

static int add_hashes(struct json_object *o, const char *key, const uint8_t (*h)[MERKLE_HASH_SIZE],
                      size_t n)
{
    struct json_object *a = json_object_new_array();
    if (json_add(o, key, a) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *b = NULL;
        struct json_object *s;
        if (base64_encode(h[i], MERKLE_HASH_SIZE, &b) < 0)
            return -ENOMEM;
        s = json_object_new_string(b);
        if (!s || json_object_array_add(a, s) < 0) {
            json_object_put(s);
            return -ENOMEM;
        }
    }
    return 0;
}

static int print_hash(const char *label, const uint8_t h[static MERKLE_HASH_SIZE])
{
    _cleanup_free_ char *b = NULL;
    if (base64_encode(h, MERKLE_HASH_SIZE, &b) < 0)
        return -ENOMEM;
    printf("%s%s\n", label, b);
    return 0;
}

/* Prints the proof as JSON (o holds the other fields) or as text (o NULL). */
static int print_proof(struct json_object *o, const uint8_t (*proof)[MERKLE_HASH_SIZE], size_t len,
                       const char *ok_line)
{
    if (o)
        return add_hashes(o, "proof", proof, len) < 0 || json_add_bool(o, "ok", true) < 0
                       ? -ENOMEM
                       : json_print(o);
    printf("proof: %zu hash%s\n", len, len == 1 ? "" : "es");
    for (size_t i = 0; i < len; i++)
        if (print_hash("  ", proof[i]) < 0)
            return -ENOMEM;
    printf("%s\n", ok_line);
    return 0;
}

/* Common options of proof and consistency. Returns an exit status, or -1 to go on. */
static int proof_option(const char *cmd, int c, struct log_opts *o, char *argv[])
{
    switch (c) {
    case 0x100:
        if (!*optarg)
            return log_usage(cmd, "--log needs a file name");
        o->path = optarg;
        return -1;
    case 0x101:
        return log_set_state_dir(cmd, o, optarg) == CLI_EXIT_OK ? -1 : CLI_EXIT_USAGE;
    case 0x102:
        o->json = true;
        return -1;
    default:
        return log_bad_option(cmd, c, argv);
    }
}

#define PROOF_COMMON_OPTIONS                                                                       \
    {"help", no_argument, NULL, 'h'}, {"log", required_argument, NULL, 0x100},                     \
            {"state-dir", required_argument, NULL, 0x101},                                         \
    {                                                                                              \
        "json", no_argument, NULL, 0x102                                                           \
    }

/* ---- proof ---- */

static void log_proof_usage(FILE *f)
{
    fputs("Usage: hwsign log proof INDEX [--size N] [--log FILE | --state-dir DIR] [--json]\n"
          "\n"
          "Compute the RFC 6962 inclusion proof of record INDEX (its seq) in the Merkle tree of\n"
          "the first N records (default: all records) of the signing log, read offline. The log\n"
          "must verify (as 'hwsign log verify'); the proof is verified before it is printed.\n"
          "Prints index, size, the leaf hash SHA-256(0x00 || entry body), the root and the\n"
          "proof hashes, all in standard base64. Take N from a signed checkpoint to check the\n"
          "proof against it ('hwsign log verify-proof').\n"
          "\n"
          "Options:\n"
          "  --size N           tree size: prove against the root of the first N records\n"
          "  --log FILE         the log file (default " LOG_DEFAULT_PATH ")\n"
          "  --state-dir DIR    the agent's state directory: use DIR/" LOG_RELATIVE_PATH "\n"
          "  --json             one JSON object: log, index, size, leaf_hash, root, proof[], ok\n"
          "  -h, --help         show this help\n"
          "\n"
          "Exit status: 0 proof printed; 1 the log does not verify, has fewer than N records\n"
          "or no record INDEX; 2 usage; 4 the file cannot be read.\n",
          f);
}

int log_proof(int argc, char *argv[])
{
    static const struct option options[] = {
            PROOF_COMMON_OPTIONS,
            {"size", required_argument, NULL, 0x110},
            {},
    };
    struct log_opts o = {.path = LOG_DEFAULT_PATH};
    _cleanup_(json_object_putp) struct json_object *j = NULL;
    uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_SIZE], root[MERKLE_HASH_SIZE];
    struct leaves l = {.want = UINT64_MAX};
    uint64_t index, size = 0, count = 0;
    bool have_size = false;
    size_t plen = 0;
    int c, e, status;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
        if (c == 'h') {
            log_proof_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (c == 0x110) {
            if (parse_u64(optarg, UINT64_MAX, &size) < 0 || size == 0)
                return log_usage("log proof", "invalid --size '%s' (at least 1)", optarg);
            have_size = true;
            continue;
        }
        status = proof_option("log proof", c, &o, argv);
        if (status >= 0)
            return status;
    }
    if (optind >= argc)
        return log_usage("log proof", "missing INDEX");
    if (parse_u64(argv[optind], UINT64_MAX, &index) < 0)
        return log_usage("log proof", "invalid INDEX '%s'", argv[optind]);
    if (optind + 1 < argc)
        return log_usage("log proof", "unexpected argument '%s'", argv[optind + 1]);
    if (have_size && index >= size)
        return log_usage("log proof", "INDEX must be below --size");

    if (have_size)
        l.want = size;
    status = leaves_load(o.path, &l, &count);
    if (status != CLI_EXIT_OK)
        goto out;
    if (!have_size)
        size = count;
    if (count < size) {
        status = log_error(CLI_EXIT_REFUSED,
                           "%s: the log has %" PRIu64 " records, fewer than --size %" PRIu64,
                           o.path, count, size);
        goto out;
    }
    if (index >= size) {
        status = log_error(CLI_EXIT_REFUSED,
                           "%s: no record %" PRIu64 ": the log has %" PRIu64 " records", o.path,
                           index, count);
        goto out;
    }
    e = merkle_inclusion_proof(leaves_get, &l, index, size, proof, &plen);
    if (e >= 0)
        e = merkle_root(leaves_get, &l, size, root);
    if (e < 0) {
        status = log_errno(e, "cannot compute the proof");
        goto out;
    }
    e = merkle_verify_inclusion(index, size, l.hash[index], (const uint8_t(*)[32])proof, plen,
                                root);
    if (e < 0) {
        status = log_error(CLI_EXIT_ERROR, "internal error: the computed proof does not verify");
        goto out;
    }

    if (o.json) {
        _cleanup_free_ char *leaf = NULL, *r = NULL;
        j = json_object_new_object();
        if (!j || base64_encode(l.hash[index], MERKLE_HASH_SIZE, &leaf) < 0 ||
            base64_encode(root, MERKLE_HASH_SIZE, &r) < 0 ||
            json_add_string(j, "log", o.path) < 0 || json_add_u64(j, "index", index) < 0 ||
            json_add_u64(j, "size", size) < 0 || json_add_string(j, "leaf_hash", leaf) < 0 ||
            json_add_string(j, "root", r) < 0)
            e = -ENOMEM;
    } else {
        printf("log: %s\nindex: %" PRIu64 "\nsize: %" PRIu64 "\n", o.path, index, size);
        e = print_hash("leaf hash: ", l.hash[index]);
        if (e >= 0)
            e = print_hash("root: ", root);
    }
    if (e >= 0)
        e = print_proof(j, (const uint8_t(*)[32])proof, plen, "Inclusion proof verified OK");
    if (e < 0)
        status = log_errno(e, "cannot print the proof");
out:
    free(l.hash);
    return status;
}

/* ---- consistency ---- */

static void log_consistency_usage(FILE *f)
{
    fputs("Usage: hwsign log consistency OLD NEW [--log FILE | --state-dir DIR] [--json]\n"
          "\n"
          "Compute the RFC 6962 consistency proof that the tree of the first NEW records of the\n"
          "signing log extends the tree of the first OLD records (1 <= OLD <= NEW), read\n"
          "offline. The log must verify; the proof is verified before it is printed. Prints both\n"
          "sizes and roots and the proof hashes, in standard base64. With two signed\n"
          "checkpoints of sizes OLD and NEW, it shows the log only grew between them.\n"
          "\n"
          "Options:\n"
          "  --log FILE         the log file (default " LOG_DEFAULT_PATH ")\n"
          "  --state-dir DIR    the agent's state directory: use DIR/" LOG_RELATIVE_PATH "\n"
          "  --json             one JSON object: log, old_size, new_size, old_root, new_root,\n"
          "                     proof[], ok\n"
          "  -h, --help         show this help\n"
          "\n"
          "Exit status: 0 proof printed; 1 the log does not verify or has fewer than NEW\n"
          "records; 2 usage; 4 the file cannot be read.\n",
          f);
}

int log_consistency(int argc, char *argv[])
{
    static const struct option options[] = {PROOF_COMMON_OPTIONS, {}};
    struct log_opts o = {.path = LOG_DEFAULT_PATH};
    _cleanup_(json_object_putp) struct json_object *j = NULL;
    uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_SIZE], r1[MERKLE_HASH_SIZE], r2[MERKLE_HASH_SIZE];
    struct leaves l = {};
    uint64_t m, n, count = 0;
    size_t plen = 0;
    int c, e, status;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
        if (c == 'h') {
            log_consistency_usage(stdout);
            return CLI_EXIT_OK;
        }
        status = proof_option("log consistency", c, &o, argv);
        if (status >= 0)
            return status;
    }
    if (argc - optind < 2)
        return log_usage("log consistency", "missing OLD and NEW sizes");
    if (argc - optind > 2)
        return log_usage("log consistency", "unexpected argument '%s'", argv[optind + 2]);
    if (parse_u64(argv[optind], UINT64_MAX, &m) < 0 || m == 0)
        return log_usage("log consistency", "invalid OLD '%s' (at least 1)", argv[optind]);
    if (parse_u64(argv[optind + 1], UINT64_MAX, &n) < 0 || n < m)
        return log_usage("log consistency", "invalid NEW '%s' (at least OLD)", argv[optind + 1]);

    l.want = n;
    status = leaves_load(o.path, &l, &count);
    if (status != CLI_EXIT_OK)
        goto out;
    if (count < n) {
        status = log_error(CLI_EXIT_REFUSED,
                           "%s: the log has %" PRIu64 " records, fewer than NEW %" PRIu64, o.path,
                           count, n);
        goto out;
    }
    e = merkle_consistency_proof(leaves_get, &l, m, n, proof, &plen);
    if (e >= 0)
        e = merkle_root(leaves_get, &l, m, r1);
    if (e >= 0)
        e = merkle_root(leaves_get, &l, n, r2);
    if (e < 0) {
        status = log_errno(e, "cannot compute the proof");
        goto out;
    }
    if (merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[32])proof, plen) < 0) {
        status = log_error(CLI_EXIT_ERROR, "internal error: the computed proof does not verify");
        goto out;
    }

    if (o.json) {
        _cleanup_free_ char *b1 = NULL, *b2 = NULL;
        j = json_object_new_object();
        if (!j || base64_encode(r1, MERKLE_HASH_SIZE, &b1) < 0 ||
            base64_encode(r2, MERKLE_HASH_SIZE, &b2) < 0 || json_add_string(j, "log", o.path) < 0 ||
            json_add_u64(j, "old_size", m) < 0 || json_add_u64(j, "new_size", n) < 0 ||
            json_add_string(j, "old_root", b1) < 0 || json_add_string(j, "new_root", b2) < 0)
            e = -ENOMEM;
    } else {
        printf("log: %s\nold size: %" PRIu64 "\nnew size: %" PRIu64 "\n", o.path, m, n);
        e = print_hash("old root: ", r1);
        if (e >= 0)
            e = print_hash("new root: ", r2);
    }
    if (e >= 0)
        e = print_proof(j, (const uint8_t(*)[32])proof, plen, "Consistency proof verified OK");
    if (e < 0)
        status = log_errno(e, "cannot print the proof");
out:
    free(l.hash);
    return status;
}

/* ---- signed checkpoints ---- */

int log_verify_checkpoint_note(const char *what, const char *text, size_t len, const char *key_path,
                               struct checkpoint **ret_cp, uint32_t *ret_keyid)
{
    _cleanup_free_ uint8_t *spki = NULL;
    size_t spki_len = 0;
    int status;

    status = load_public_key_file(key_path, &spki, &spki_len);
    if (status != CLI_EXIT_OK)
        return status;
    return log_verify_checkpoint_note_spki(what, text, len, spki, spki_len, key_path, ret_cp,
                                           ret_keyid);
}

int log_verify_checkpoint_note_spki(const char *what, const char *text, size_t len,
                                    const uint8_t *spki, size_t spki_len, const char *key_path,
                                    struct checkpoint **ret_cp, uint32_t *ret_keyid)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
    _cleanup_(note_freep) struct note *n = NULL;
    _cleanup_(checkpoint_freep) struct checkpoint *cp = NULL;
    struct note_verifier v;
    const char *body;
    size_t body_len;
    uint32_t keyid;
    int e;

    if (spki_parse(spki, spki_len, &pkey) < 0 || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
        return log_error(CLI_EXIT_ERROR, "%s is not an ECDSA public key (the log key)", key_path);
    e = note_key_id_ecdsa(spki, spki_len, &keyid);
    if (e < 0)
        return log_errno(e, "cannot compute the key ID of %s", key_path);
    if (note_parse(text, len, &n) < 0)
        return log_error(CLI_EXIT_REFUSED, "%s is not a signed note", what);
    body = note_text(n, &body_len);
    if (checkpoint_parse(body, body_len, &cp) < 0)
        return log_error(CLI_EXIT_REFUSED, "%s is not a C2SP checkpoint", what);
    v = (struct note_verifier){.name = cp->origin, .keyid = keyid, .pkey = pkey};
    e = note_verify(n, &v, 1, NULL);
    if (e == -ENOKEY)
        return log_error(CLI_EXIT_REFUSED,
                         "%s has no signature by the log key %s (name %s, key ID %08" PRIx32 ")",
                         what, key_path, PRINTABLE(cp->origin), keyid);
    if (e == -EBADMSG)
        return log_error(CLI_EXIT_REFUSED, "%s: the signature by the log key %s does not verify",
                         what, key_path);
    if (e < 0)
        return log_errno(e, "cannot verify %s", what);
    *ret_cp = TAKE_PTR(cp);
    if (ret_keyid)
        *ret_keyid = keyid;
    return CLI_EXIT_OK;
}

int log_load_checkpoint(const char *note_path, const char *key_path, char **ret_origin,
                        uint64_t *ret_size, uint8_t ret_root[static MERKLE_HASH_SIZE])
{
    _cleanup_(checkpoint_freep) struct checkpoint *cp = NULL;
    _cleanup_free_ uint8_t *buf = NULL;
    size_t len = 0;
    int e, status;

    e = read_input_bounded(note_path, NOTE_MAX_SIZE, &buf, &len);
    if (e == -EFBIG)
        return log_error(CLI_EXIT_REFUSED, "%s is too large to be a checkpoint", note_path);
    if (e < 0)
        return log_errno(e, "cannot read checkpoint %s", note_path);
    status = log_verify_checkpoint_note(note_path, (const char *)buf, len, key_path, &cp, NULL);
    if (status != CLI_EXIT_OK)
        return status;
    *ret_origin = TAKE_PTR(cp->origin);
    *ret_size = cp->size;
    memcpy(ret_root, cp->root, MERKLE_HASH_SIZE);
    return CLI_EXIT_OK;
}

static void log_checkpoint_usage(FILE *f)
{
    fputs("Usage: hwsign log checkpoint [--new] [--verify-key LOG.pem] [-o FILE] [--json]\n"
          "\n"
          "Ask the agent for the signing log's latest checkpoint: a C2SP tlog-checkpoint (origin\n"
          "hwsign/<hostname>, tree size, base64 root) in signed-note form, signed by the\n"
          "configured log key (ECDSA, note signature type 0x02). Prints the note as is.\n"
          "\n"
          "Options:\n"
          "  --new              ask the agent to sign a fresh checkpoint over every record\n"
          "                     first (admin only)\n"
          "  --verify-key PEM   verify the note's signature by this log public key (key name =\n"
          "                     origin, key ID = SHA-256(DER SPKI)[:4]) and print origin,\n"
          "                     size and root after the note\n"
          "  -o, --output FILE  write the note to FILE (for 'hwsign log verify --checkpoint')\n"
          "  --json             one JSON object: note, verified, and with --verify-key origin,\n"
          "                     size, root, key_id\n"
          "  -h, --help         show this help\n"
          "\n"
          "Exit status: 0 success; 1 the signature does not verify; 3 agent unavailable; 4 no\n"
          "checkpoint (no log key configured or none issued yet), bad reply or local error.\n",
          f);
}

int log_checkpoint(int argc, char *argv[], const struct cli_context *ctx)
{
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"new", no_argument, NULL, 0x100},
            {"json", no_argument, NULL, 0x101},
            {"verify-key", required_argument, NULL, 0x102},
            {"output", required_argument, NULL, 'o'},
            {},
    };
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_(checkpoint_freep) struct checkpoint *cp = NULL;
    _cleanup_(note_freep) struct note *parsed = NULL;
    _cleanup_(json_object_putp) struct json_object *j = NULL;
    _cleanup_free_ char *note = NULL, *root = NULL;
    const char *key_path = NULL, *output = NULL;
    bool fresh = false, json = false;
    uint32_t keyid = 0;
    size_t len;
    int c, e, status;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":ho:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            log_checkpoint_usage(stdout);
            return CLI_EXIT_OK;
        case 0x100:
            fresh = true;
            break;
        case 0x101:
            json = true;
            break;
        case 0x102:
            if (!*optarg)
                return log_usage("log checkpoint", "--verify-key needs a file name");
            key_path = optarg;
            break;
        case 'o':
            if (!*optarg)
                return log_usage("log checkpoint", "--output needs a file name");
            output = optarg;
            break;
        default:
            return log_bad_option("log checkpoint", c, argv);
        }
    }
    if (optind < argc)
        return log_usage("log checkpoint", "unexpected argument '%s'", argv[optind]);

    status = cli_connect(ctx, &client);
    if (status != CLI_EXIT_OK)
        return status;
    e = hwsign_log_checkpoint(client, fresh, &note);
    if (e == -ENOENT)
        return log_error(CLI_EXIT_ERROR, "the agent has no checkpoint (no log key configured, "
                                         "or none issued yet)");
    if (e < 0)
        return log_agent_error(client, e, "cannot get the log checkpoint");
    len = strlen(note);
    /* The agent's text reaches a terminal only once it parses as a signed note: valid UTF-8
     * without control characters other than newlines. */
    if (note_parse(note, len, &parsed) < 0)
        return log_error(CLI_EXIT_ERROR, "the agent returned a malformed checkpoint note");
    if (key_path) {
        status = log_verify_checkpoint_note("the agent's checkpoint", note, len, key_path, &cp,
                                            &keyid);
        if (status != CLI_EXIT_OK)
            return status;
        if (base64_encode(cp->root, MERKLE_HASH_SIZE, &root) < 0)
            return log_errno(-ENOMEM, "cannot print the checkpoint");
    }
    if (output) {
        e = write_output(output, note, len);
        if (e < 0)
            return log_errno(e, "cannot write %s", output);
    }
    if (json) {
        char id[16];
        format_message(id, sizeof(id), "%08" PRIx32, keyid);
        j = json_object_new_object();
        if (!j || json_add_string(j, "note", note) < 0 ||
            json_add_bool(j, "verified", cp != NULL) < 0 ||
            (cp && (json_add_string(j, "origin", cp->origin) < 0 ||
                    json_add_u64(j, "size", cp->size) < 0 || json_add_string(j, "root", root) < 0 ||
                    json_add_string(j, "key_id", id) < 0)))
            return log_errno(-ENOMEM, "cannot print the checkpoint");
        e = json_print(j);
        return e < 0 ? log_errno(e, "cannot write the result") : CLI_EXIT_OK;
    }
    if (!output)
        fputs(note, stdout);
    if (cp)
        printf("origin: %s\nsize: %" PRIu64 "\nroot: %s\nkey ID: %08" PRIx32
               "\nCheckpoint verified OK\n",
               PRINTABLE(cp->origin), cp->size, root, keyid);
    return CLI_EXIT_OK;
}

/* ---- verify-proof ---- */

static void log_verify_proof_usage(FILE *f)
{
    fputs("Usage: hwsign log verify-proof --log-key LOG.pem --checkpoint FILE --index I\n"
          "                               --leaf-hash HASH --proof PROOF.json\n"
          "\n"
          "Verify offline, without the log, that a record is in the log: PROOF.json (from\n"
          "'hwsign log proof I --size N --json', N the checkpoint's size) must prove that leaf\n"
          "HASH is leaf I of the tree whose size and root the signed checkpoint FILE states, and\n"
          "FILE must be signed by the log key. Compute HASH yourself from the record you hold:\n"
          "SHA-256(0x00 || record body), in hex or base64.\n"
          "\n"
          "Exit status: 0 verified; 1 the checkpoint or the proof does not verify; 2 usage;\n"
          "4 a file cannot be read.\n",
          f);
}

static int read_proof(const char *path, uint64_t want_size,
                      uint8_t ret[MERKLE_MAX_PROOF][MERKLE_HASH_SIZE], size_t *ret_len)
{
    _cleanup_free_ uint8_t *buf = NULL;
    _cleanup_(json_object_putp) struct json_object *o = NULL;
    struct json_object *a, *sz;
    size_t len = 0, n;
    int e;

    e = read_input_bounded(path, LOG_MAX_PROOF_FILE, &buf, &len);
    if (e == -EFBIG)
        return log_error(CLI_EXIT_REFUSED, "%s is too large to be a proof", path);
    if (e < 0)
        return log_errno(e, "cannot read proof %s", path);
    if (fjson_parse_object((const char *)buf, len, LOG_MAX_PROOF_FILE, &o) < 0 ||
        fjson_get_array(o, "proof", MERKLE_MAX_PROOF, &a, &n) < 0)
        return log_error(CLI_EXIT_REFUSED, "%s is not a proof (JSON with proof[])", path);
    if (json_object_object_get_ex(o, "size", &sz) &&
        (!json_object_is_type(sz, json_type_int) || json_object_get_uint64(sz) != want_size))
        return log_error(CLI_EXIT_REFUSED,
                         "%s is a proof for another tree size than the checkpoint's %" PRIu64, path,
                         want_size);
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ uint8_t *h = NULL;
        struct json_object *s = json_object_array_get_idx(a, i);
        const char *str = json_object_get_string(s);
        size_t hl = 0;
        if (!json_object_is_type(s, json_type_string) ||
            base64_decode(str, strlen(str), &h, &hl) < 0 || hl != MERKLE_HASH_SIZE)
            return log_error(CLI_EXIT_REFUSED, "%s: proof hash %zu is not a base64 SHA-256", path,
                             i);
        memcpy(ret[i], h, MERKLE_HASH_SIZE);
    }
    *ret_len = n;
    return CLI_EXIT_OK;
}

/* A SHA-256 in hex (64 digits) or standard base64. */
static int parse_hash(const char *s, uint8_t ret[static MERKLE_HASH_SIZE])
{
    _cleanup_free_ uint8_t *d = NULL;
    size_t n = 0;

    if (strlen(s) == 2 * MERKLE_HASH_SIZE) {
        if (hex_decode(s, strlen(s), &d, &n) < 0)
            return -EINVAL;
    } else if (base64_decode(s, strlen(s), &d, &n) < 0) {
        return -EINVAL;
    }
    if (n != MERKLE_HASH_SIZE)
        return -EINVAL;
    memcpy(ret, d, MERKLE_HASH_SIZE);
    return 0;
}

int log_verify_proof(int argc, char *argv[])
{
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"log-key", required_argument, NULL, 0x100},
            {"checkpoint", required_argument, NULL, 0x101},
            {"index", required_argument, NULL, 0x102},
            {"leaf-hash", required_argument, NULL, 0x103},
            {"proof", required_argument, NULL, 0x104},
            {},
    };
    const char *key = NULL, *cpath = NULL, *ppath = NULL, *leaf_arg = NULL;
    uint8_t proof[MERKLE_MAX_PROOF][MERKLE_HASH_SIZE], root[MERKLE_HASH_SIZE];
    uint8_t leaf[MERKLE_HASH_SIZE];
    _cleanup_free_ char *origin = NULL;
    uint64_t index = 0, size = 0;
    bool have_index = false;
    size_t plen = 0;
    int c, status;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            log_verify_proof_usage(stdout);
            return CLI_EXIT_OK;
        case 0x100:
            key = optarg;
            break;
        case 0x101:
            cpath = optarg;
            break;
        case 0x102:
            if (parse_u64(optarg, UINT64_MAX, &index) < 0)
                return log_usage("log verify-proof", "invalid --index '%s'", optarg);
            have_index = true;
            break;
        case 0x103:
            leaf_arg = optarg;
            break;
        case 0x104:
            ppath = optarg;
            break;
        default:
            return log_bad_option("log verify-proof", c, argv);
        }
    }
    if (optind < argc)
        return log_usage("log verify-proof", "unexpected argument '%s'", argv[optind]);
    if (!key || !*key || !cpath || !*cpath || !ppath || !*ppath || !have_index || !leaf_arg)
        return log_usage("log verify-proof", "--log-key, --checkpoint, --index, --leaf-hash "
                                             "and --proof are required");
    if (parse_hash(leaf_arg, leaf) < 0)
        return log_usage("log verify-proof", "--leaf-hash must be a SHA-256 in hex or base64");

    status = log_load_checkpoint(cpath, key, &origin, &size, root);
    if (status != CLI_EXIT_OK)
        return status;
    if (index >= size)
        return log_error(CLI_EXIT_REFUSED,
                         "record %" PRIu64 " is not in the checkpoint's tree of %" PRIu64
                         " records",
                         index, size);
    status = read_proof(ppath, size, proof, &plen);
    if (status != CLI_EXIT_OK)
        return status;
    if (merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[32])proof, plen, root) < 0)
        return log_error(CLI_EXIT_REFUSED,
                         "the proof does not show leaf %" PRIu64 " in the checkpoint's tree",
                         index);
    printf("origin: %s\nsize: %" PRIu64 "\nindex: %" PRIu64 "\nInclusion proof verified OK\n",
           PRINTABLE(origin), size, index);
    return CLI_EXIT_OK;
}

/* ---- trusted root for stock Sigstore verifiers ---- */

static void log_trusted_root_usage(FILE *f)
{
    fputs("Usage: hwsign log trusted-root --log-key LOG.pem --origin ORIGIN [-o FILE]\n"
          "\n"
          "Print a Sigstore trusted root (dev.sigstore.trustroot.v1.TrustedRoot, JSON) whose\n"
          "only transparency log is the agent's signing log: baseUrl ORIGIN (the checkpoint\n"
          "origin, first line of `hwsign log checkpoint`), the log key's DER SPKI, and logId =\n"
          "SHA-256 of it. Given to @sigstore/verify (toTrustMaterial) with tlogThreshold 1, it\n"
          "lets a stock verifier check the log entries hwsign bundles carry: the checkpoint's\n"
          "signature by the log key, and the inclusion proof.\n"
          "\n"
          "Options:\n"
          "  --log-key LOG.pem  the log key's public key (ECDSA P-256, PEM or DER)\n"
          "  --origin ORIGIN    the log's origin, e.g. hwsign/build1\n"
          "  -o, --output FILE  write to FILE instead of standard output\n"
          "  -h, --help         show this help\n",
          f);
}

int log_trusted_root(int argc, char *argv[])
{
    enum { ARG_LOG_KEY = 0x100, ARG_ORIGIN };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"log-key", required_argument, NULL, ARG_LOG_KEY},
            {"origin", required_argument, NULL, ARG_ORIGIN},
            {"output", required_argument, NULL, 'o'},
            {},
    };
    _cleanup_(json_object_putp) struct json_object *root = NULL;
    _cleanup_free_ uint8_t *spki = NULL;
    _cleanup_free_ char *text = NULL;
    const char *key = NULL, *origin = NULL, *out = NULL;
    struct json_object *tlogs, *tlog, *pk, *id;
    uint8_t log_id[32];
    size_t spki_len = 0, text_len = 0;
    int c, r, status;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":ho:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            log_trusted_root_usage(stdout);
            return CLI_EXIT_OK;
        case ARG_LOG_KEY:
            key = optarg;
            break;
        case ARG_ORIGIN:
            origin = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        default:
            return log_bad_option("log trusted-root", c, argv);
        }
    }
    if (optind < argc)
        return log_usage("log trusted-root", "unexpected argument '%s'", argv[optind]);
    if (!key || !*key || !origin || !*origin)
        return log_usage("log trusted-root", "--log-key and --origin are required");
    if (!note_name_valid(origin, strlen(origin)))
        return log_usage("log trusted-root", "'%s' is not a valid checkpoint origin", origin);
    status = load_public_key_file(key, &spki, &spki_len);
    if (status != CLI_EXIT_OK)
        return status;
    {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        if (spki_parse(spki, spki_len, &pkey) < 0 || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
            EVP_PKEY_get_bits(pkey) != 256)
            return log_error(CLI_EXIT_ERROR, "%s is not an ECDSA P-256 public key (the log key)",
                             key);
    }
    r = hash_buffer(HWSIGN_HASH_SHA256, spki, spki_len, log_id, sizeof(log_id));
    root = json_object_new_object();
    tlogs = json_object_new_array();
    tlog = json_object_new_object();
    pk = json_object_new_object();
    id = json_object_new_object();
    if (r < 0 || !root || !tlogs || !tlog || !pk || !id) {
        json_object_put(tlogs);
        json_object_put(tlog);
        json_object_put(pk);
        json_object_put(id);
        return log_errno(r < 0 ? r : -ENOMEM, "cannot build the trusted root");
    }
    r = fjson_add_string(root, "mediaType",
                         "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                         strlen("application/vnd.dev.sigstore.trustedroot+json;version=0.1"));
    if (r >= 0)
        r = fjson_add(root, "tlogs", tlogs);
    if (r >= 0)
        r = fjson_append(tlogs, tlog);
    else
        json_object_put(tlog);
    if (r >= 0)
        r = fjson_add_string(tlog, "baseUrl", origin, strlen(origin));
    if (r >= 0)
        r = fjson_add_string(tlog, "hashAlgorithm", "SHA2_256", strlen("SHA2_256"));
    if (r >= 0)
        r = fjson_add(tlog, "publicKey", pk);
    else
        json_object_put(pk);
    if (r >= 0)
        r = fjson_add_base64(pk, "rawBytes", spki, spki_len);
    if (r >= 0)
        r = fjson_add_string(pk, "keyDetails", "PKIX_ECDSA_P256_SHA_256",
                             strlen("PKIX_ECDSA_P256_SHA_256"));
    if (r >= 0)
        r = fjson_add(tlog, "logId", id);
    else
        json_object_put(id);
    if (r >= 0)
        r = fjson_add_base64(id, "keyId", log_id, sizeof(log_id));
    if (r >= 0)
        r = fjson_add(root, "certificateAuthorities", json_object_new_array());
    if (r >= 0)
        r = fjson_add(root, "ctlogs", json_object_new_array());
    if (r >= 0)
        r = fjson_add(root, "timestampAuthorities", json_object_new_array());
    if (r >= 0)
        r = fjson_serialize(root, &text, &text_len);
    if (r < 0)
        return log_errno(r, "cannot build the trusted root");
    text[text_len] = '\n'; /* the NUL after the text becomes the newline */
    r = write_output(out && !streq(out, "-") ? out : NULL, text, text_len + 1);
    if (r < 0)
        return log_errno(r, "cannot write the trusted root");
    return CLI_EXIT_OK;
}
