/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign sign-model / verify-model: ML models in the OpenSSF model-signing v1.0 format
 * (FORMATS 6, docs/models.md), the counterpart of `model_signing sign|verify key`.
 *
 * sign-model hashes the model directory here (lib/model: parallel SHA-256, bounded memory),
 * builds the in-toto Statement (predicate https://model_signing/signature/v1.0), has the agent
 * sign it like any statement (the key's allow-predicate-types policy applies, and the agent
 * logs it) and writes a Sigstore bundle whose publicKey.hint is model_signing's (hex SHA-256
 * of the PEM text). verify-model checks such a bundle offline with a public key, re-hashes the
 * model the way the signature says it was serialised and names every file that differs.
 */
#define _GNU_SOURCE /* realpath */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bundle-log.h"
#include "bundle.h"
#include "cmd-attest.h"
#include "crypto-cleanup.h"
#include "crypto.h"
#include "dsse.h"
#include "format.h"
#include "intoto.h"
#include "json.h"
#include "main.h"
#include "model-hash.h"
#include "model-manifest.h"
#include "model-path.h"
#include "model-walk.h"
#include "output.h"
#include "parse.h"

/* Every ignore rule of one run: the git defaults, the signature file, --ignore, and (when
 * verifying) the signature's own. */
#define IGNORE_MAX (MODEL_MAX_IGNORE)

struct model_args {
    const char *key;     /* sign: agent key name; verify: public key file */
    const char *dir;     /* the model directory */
    const char *sig;     /* -o / --signature; NULL = DIR/model.sig */
    const char *log_key; /* verify: --log-key */
    const char **ignore; /* --ignore, as given */
    size_t n_ignore;
    uint64_t shard_size; /* sign: 0 = files serialization */
    unsigned threads;    /* 0 = online CPUs */
    bool allow_symlinks; /* sign */
    bool unsigned_ok;    /* verify: --ignore-unsigned-files */
    bool no_log_entry;   /* sign */
    bool json;
};

struct ignore_set {
    char *paths[IGNORE_MAX];
    size_t n;
};

static void ignore_set_clear(struct ignore_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->paths[i]);
    s->n = 0;
}

/* Adds a canonical path (copied), unless already there. 0, -EMSGSIZE or -ENOMEM. */
static int ignore_set_add(struct ignore_set *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (streq(s->paths[i], path))
            return 0;
    if (s->n >= IGNORE_MAX)
        return -EMSGSIZE;
    s->paths[s->n] = strdup(path);
    if (!s->paths[s->n])
        return -ENOMEM;
    s->n++;
    return 0;
}

/* realpath of the directory part of path plus its last component (which need not exist). */
static int resolve_path(const char *path, char **ret)
{
    _cleanup_free_ char *copy = strdup(path), *parent = NULL;
    char *slash, *base, *out;
    size_t n;
    int k;

    if (!copy)
        return -ENOMEM;
    slash = strrchr(copy, '/');
    if (slash == copy) {
        parent = strdup("/");
        base = copy + 1;
    } else if (slash) {
        *slash = '\0';
        parent = realpath(copy, NULL);
        base = slash + 1;
    } else {
        parent = realpath(".", NULL);
        base = copy;
    }
    if (!parent)
        return negative_errno();
    if (!*base || streq(base, ".") || streq(base, "..")) {
        out = realpath(path, NULL);
        if (!out)
            return negative_errno();
        *ret = out;
        return 0;
    }
    n = strlen(parent) + strlen(base) + 2;
    out = malloc(n);
    if (!out)
        return -ENOMEM;
    k = snprintf(out, n, "%s/%s", streq(parent, "/") ? "" : parent, base);
    if (k < 0 || (size_t)k >= n) {
        free(out);
        return -ENAMETOOLONG;
    }
    *ret = out;
    return 0;
}

/* path relative to the model root (resolved) when it lies inside it: new string, or NULL
 * (*ret) when outside. */
static int relative_to_model(const char *root, const char *path, char **ret)
{
    _cleanup_free_ char *abs = NULL;
    size_t n = strlen(root);
    int r;

    r = resolve_path(path, &abs);
    if (r < 0)
        return r;
    if (streq(root, "/"))
        n = 0;
    if (strncmp(abs, root, n) != 0 || abs[n] != '/' || abs[n + 1] == '\0') {
        *ret = NULL;
        return 0;
    }
    return model_path_normalize(abs + n + 1, ret);
}

/*
 * The ignore rules of a run (FORMATS 6.3): git paths, the signature file when inside the model
 * and DIR/model.sig in any case (model_signing ignores only the signature it writes), and
 * --ignore PATH (relative to the model directory, or absolute inside it). Returns an exit
 * status.
 */
static int build_ignore_set(const char *cmd, const struct model_args *a, const char *root,
                            const char *sig_path, struct ignore_set *s)
{
    _cleanup_free_ char *sig_rel = NULL;
    int r;

    for (size_t i = 0; i < MODEL_N_GIT_PATHS; i++) {
        r = ignore_set_add(s, model_git_paths[i]);
        if (r < 0)
            return log_errno(r, "cannot build the ignore list");
    }
    /* DIR/model.sig too when the signature goes elsewhere: an old signature is not model. */
    r = ignore_set_add(s, MODEL_SIGNATURE_NAME);
    if (r < 0)
        return log_errno(r, "cannot build the ignore list");
    if (sig_path && !streq(sig_path, "-")) {
        r = relative_to_model(root, sig_path, &sig_rel);
        if (r < 0)
            return log_errno(r, "cannot resolve %s", sig_path);
        if (sig_rel && (r = ignore_set_add(s, sig_rel)) < 0)
            return log_errno(r, "cannot build the ignore list");
    }
    for (size_t i = 0; i < a->n_ignore; i++) {
        _cleanup_free_ char *rel = NULL;

        if (a->ignore[i][0] == '/') {
            r = relative_to_model(root, a->ignore[i], &rel);
            if (r == 0 && !rel)
                return log_usage(cmd, "--ignore %s is not inside the model directory",
                                 a->ignore[i]);
        } else
            r = model_path_normalize(a->ignore[i], &rel);
        if (r == -ENOMEM)
            return log_errno(r, "cannot build the ignore list");
        if (r < 0)
            return log_usage(cmd,
                             "--ignore %s: need a path inside the model directory, relative to "
                             "it (no '..') or absolute",
                             a->ignore[i]);
        r = ignore_set_add(s, rel);
        if (r == -EMSGSIZE)
            return log_usage(cmd, "too many ignore paths (at most %u)", IGNORE_MAX);
        if (r < 0)
            return log_errno(r, "cannot build the ignore list");
    }
    return CLI_EXIT_OK;
}

/* ---- progress ---------------------------------------------------------------------------- */

struct progress {
    bool shown;
    struct timespec start;
};

static void format_bytes(uint64_t n, char *buf, size_t size)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)n;
    size_t u = 0;

    while (v >= 1024.0 && u + 1 < ELEMENTSOF(units)) {
        v /= 1024.0;
        u++;
    }
    format_message(buf, size, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
}

static double elapsed_s(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* Runs in the hashing caller's thread (model-hash.h); only ever draws on a terminal. */
static void on_progress(uint64_t done, uint64_t total, void *userdata)
{
    struct progress *p = userdata;
    char d[32], t[32];
    double s = elapsed_s(&p->start);

    format_bytes(done, d, sizeof(d));
    format_bytes(total, t, sizeof(t));
    fprintf(stderr, "\rhashing %3.0f%%  %s of %s  %.2f GB/s\033[K",
            total ? 100.0 * (double)done / (double)total : 100.0, d, t,
            s > 0 ? (double)done / s / 1e9 : 0.0);
    fflush(stderr);
    p->shown = true;
}

static void progress_end(struct progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

/* ---- hashing ----------------------------------------------------------------------------- */

static const char *refusal_text(enum model_refusal why)
{
    switch (why) {
    case MODEL_REFUSED_SYMLINK:
        return "a symbolic link";
    case MODEL_REFUSED_DANGLING:
        return "a symbolic link to nothing";
    case MODEL_REFUSED_SPECIAL:
        return "not a regular file or directory";
    case MODEL_REFUSED_NAME:
        return "a name that is not UTF-8 text";
    }
    return "refused";
}

/* The one-line error of a failed walk or hash. Returns an exit status. */
static int log_model_error(int r, const char *what, const char *dir, const struct model_diag *d)
{
    const char *at = d->path[0] && !streq(d->path, ".") ? d->path : NULL;
    char where[MODEL_MAX_PATH + 64];

    if (at)
        format_message(where, sizeof(where), "%s (at %s)", dir, PRINTABLE(at));
    else
        format_message(where, sizeof(where), "%s", dir);
    switch (r) {
    case -ESTALE:
        return log_error(CLI_EXIT_ERROR, "cannot %s %s: the file changed while it was hashed", what,
                         where);
    case -ENOTDIR:
        return log_error(CLI_EXIT_ERROR, "cannot %s %s: not a directory", what, where);
    case -ELOOP:
        if (!at)
            return log_error(CLI_EXIT_ERROR,
                             "cannot %s %s: the model directory is a symbolic link "
                             "(--allow-symlinks follows it)",
                             what, where);
        return log_error(CLI_EXIT_ERROR, "cannot %s %s: deeper than %u directories", what, where,
                         MODEL_MAX_DEPTH);
    case -EMSGSIZE:
        return log_error(CLI_EXIT_ERROR,
                         "cannot %s %s: over a limit (%u files or shards, %u bytes of paths)", what,
                         where, MODEL_MAX_RESOURCES, MODEL_MAX_NAMES_TOTAL);
    default:
        return log_errno(r, "cannot %s %s", what, where);
    }
}

struct hash_request {
    const char *dir;
    const char *name;
    const struct ignore_set *ignore;
    struct model_serialization ser;
    bool shard_empty_files;
    unsigned threads;
    struct model_manifest *only; /* verify --ignore-unsigned-files: signed paths only */
};

static bool in_manifest(const char *path, void *userdata)
{
    return model_manifest_has_path(userdata, path);
}

/* Walks (*ret_tree, refusals included) and hashes the model. Returns an exit status. */
static int hash_model(const struct hash_request *q, struct model_tree **ret_tree,
                      struct model_manifest **ret)
{
    _cleanup_(model_tree_freep) struct model_tree *t = NULL;
    struct model_walk_config wc = {
            .ignore = (const char *const *)q->ignore->paths,
            .n_ignore = q->ignore->n,
            .allow_symlinks = q->ser.allow_symlinks,
    };
    struct progress p = {};
    struct model_hash_config hc = {
            .ser = q->ser,
            .shard_empty_files = q->shard_empty_files,
            .threads = q->threads,
            .progress = isatty(STDERR_FILENO) ? on_progress : NULL,
            .userdata = &p,
    };
    struct model_diag diag = {};
    int r;

    r = model_walk(q->dir, &wc, &t, &diag);
    if (r < 0)
        return log_model_error(r, "read model", q->dir, &diag);
    if (q->only)
        model_tree_retain(t, in_manifest, q->only);
    clock_gettime(CLOCK_MONOTONIC, &p.start);
    r = model_hash(t, q->name, (const char *const *)q->ignore->paths, q->ignore->n, &hc, ret,
                   &diag);
    progress_end(&p);
    if (r < 0)
        return log_model_error(r, "hash model", q->dir, &diag);
    *ret_tree = TAKE_PTR(t);
    return CLI_EXIT_OK;
}

static int model_name(const char *dir, const char *root, char **ret)
{
    int r = model_name_from_dir(dir, root, ret);

    if (r == -ENOMEM)
        return log_errno(r, "cannot name the model");
    if (r < 0)
        return log_error(CLI_EXIT_ERROR,
                         "cannot name the model after %s: its directory name is not UTF-8 text",
                         dir);
    return CLI_EXIT_OK;
}

static int default_sig_path(const struct model_args *a, char **ret)
{
    const char *sep = a->dir[strlen(a->dir) - 1] == '/' ? "" : "/";
    size_t n = strlen(a->dir) + strlen(MODEL_SIGNATURE_NAME) + 2;
    char *p = malloc(n);
    int k;

    if (!p)
        return -ENOMEM;
    k = snprintf(p, n, "%s%s%s", a->dir, sep, MODEL_SIGNATURE_NAME);
    if (k < 0 || (size_t)k >= n) {
        free(p);
        return -ENAMETOOLONG;
    }
    *ret = p;
    return 0;
}

/* hex SHA-256 of the PEM text of spki: model_signing's publicKey.hint (FORMATS 6.4). */
static int pem_hint(const uint8_t *spki, size_t len, char **ret)
{
    _cleanup_free_ char *pem = NULL;
    uint8_t d[32];
    int r;

    r = spki_to_pem(spki, len, &pem);
    if (r >= 0)
        r = hash_buffer(HWSIGN_HASH_SHA256, pem, strlen(pem), d, sizeof(d));
    if (r >= 0)
        r = hex_encode(d, sizeof(d), ret);
    return r;
}

static int add_ignore_json(struct json_object *o, const struct model_manifest *m)
{
    _cleanup_(json_object_putp) struct json_object *arr = json_object_new_array();

    if (!arr)
        return -ENOMEM;
    for (size_t i = 0; i < model_manifest_n_ignore(m); i++)
        if (json_object_array_add(arr, json_object_new_string(model_manifest_ignore(m, i))) < 0)
            return -ENOMEM;
    return json_add(o, "ignore_paths", TAKE_PTR(arr));
}

/* Fields both commands print in --json. */
static int add_model_json(struct json_object *o, const struct model_manifest *m,
                          const struct model_tree *t)
{
    const struct model_serialization *s = model_manifest_serialization(m);
    _cleanup_free_ char *root_hex = NULL;
    uint8_t root[32];
    int r;

    if ((r = model_manifest_root(m, root)) < 0 || (r = hex_encode(root, 32, &root_hex)) < 0)
        return r;
    if ((r = json_add_string(o, "model_name", model_manifest_name(m))) < 0 ||
        (r = json_add_string(o, "root_sha256", root_hex)) < 0 ||
        (r = json_add_string(o, "method", s->method == MODEL_METHOD_FILES ? "files" : "shards")) <
                0 ||
        (r = json_add_u64(o, "shard_size", s->shard_size)) < 0 ||
        (r = json_add_bool(o, "allow_symlinks", s->allow_symlinks)) < 0 ||
        (r = json_add_u64(o, "files", model_tree_n_files(t))) < 0 ||
        (r = json_add_u64(o, "resources", model_manifest_n_resources(m))) < 0 ||
        (r = json_add_u64(o, "bytes", model_tree_total_bytes(t))) < 0)
        return r;
    return add_ignore_json(o, m);
}

/* ---- sign-model -------------------------------------------------------------------------- */

static void sign_usage(FILE *f)
{
    fputs("Usage: hwsign sign-model --key NAME [-o SIG] [--ignore PATH]... [--shard-size N]\n"
          "                         [--allow-symlinks] [--threads N] [--no-log-entry] [--json]\n"
          "                         DIR\n"
          "\n"
          "Sign the ML model in directory DIR with agent key NAME in the OpenSSF model-signing\n"
          "v1.0 format, as `model_signing sign` does: every regular file is hashed (SHA-256, in\n"
          "parallel on all CPUs, in bounded memory), the in-toto Statement (predicate type\n"
          "https://model_signing/signature/v1.0) lists each file and its digest, and the agent\n"
          "signs it (the key's allow-predicate-types must allow that type). The Sigstore bundle\n"
          "(publicKey.hint = hex SHA-256 of the key's PEM text) goes to DIR/model.sig, with the\n"
          "signature's signing-log entry when the agent has a log key. .git, .gitattributes,\n"
          ".github, .gitignore, model.sig and the signature file are not signed (recorded as\n"
          "ignored).\n"
          "It verifies with `hwsign verify-model`, with `model_signing verify key` (P-256 keys:\n"
          "model_signing hashes P-384 signatures with SHA-384, the agent with SHA-256) and\n"
          "with @sigstore/verify. Progress is shown on a terminal.\n"
          "\n"
          "Options:\n"
          "  -k, --key NAME        the agent key to sign with (required)\n"
          "  -o, --output SIG      where to write the bundle (default DIR/model.sig; replaced\n"
          "                        atomically, mode 0644); \"-\" prints it on stdout\n"
          "  --ignore PATH         do not sign PATH (a file or directory; relative to DIR, or\n"
          "                        absolute inside it); repeatable\n"
          "  --shard-size N        the \"shards\" serialization: hash each file in pieces of N\n"
          "                        bytes (one resource per piece, and one huge file hashed on\n"
          "                        all CPUs); default: the \"files\" serialization, one resource\n"
          "                        per file, which model_signing's CLI expects\n"
          "  --allow-symlinks      follow symbolic links to files (refused by default)\n"
          "  --threads N           hashing threads (default: the online CPUs)\n"
          "  --no-log-entry        do not put the signing-log entry into the bundle\n"
          "  --json                print a JSON summary (not with -o -)\n"
          "  -h, --help            show this help\n"
          "\n"
          "Limits: 65,536 files or shards; a signed statement of at most 16 MiB that json-c can\n"
          "hold in 96 MiB (65,536 resources with names of up to ~100 bytes). A statement over\n"
          "40 KiB is sent to the agent in chunks.\n"
          "\n"
          "Exit status: 0 signed; 1 the agent refused (policy); 2 usage error; 3 agent or\n"
          "hardware unavailable; 4 unreadable model, a symlink or special file in it, a model\n"
          "too large for one statement, no such key, other errors.\n",
          f);
}

static int sign_check_args(const struct model_args *a)
{
    if (!a->key)
        return log_usage("sign-model", "missing --key NAME");
    if (!name_is_valid(a->key))
        return log_usage("sign-model", "invalid key name '%s'", a->key);
    if (!a->dir || !*a->dir)
        return log_usage("sign-model", "missing model directory DIR");
    if (a->sig && !*a->sig)
        return log_usage("sign-model", "-o needs a file name");
    if (a->json && a->sig && streq(a->sig, "-"))
        return log_usage("sign-model", "--json cannot be combined with -o -");
    return CLI_EXIT_OK;
}

/* The key must exist and be usable before minutes of hashing: fetch its public key. */
static int sign_preflight(const struct cli_context *ctx, const char *key, uint8_t **ret_spki,
                          size_t *ret_len)
{
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    enum hwsign_alg alg = HWSIGN_ALG_UNKNOWN;
    int r;

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = hwsign_get_public_key(client, key, ret_spki, ret_len);
    if (r < 0)
        return log_agent_error(client, r, "cannot get the public key of '%s'", key);
    if (spki_alg(*ret_spki, *ret_len, &alg) < 0 || alg != HWSIGN_ALG_ECDSA_P256)
        fprintf(stderr,
                "hwsign: note: key '%s' is not ECDSA P-256: model_signing verifies "
                "P-384 signatures over SHA-384 and RSA not at all, while the agent signs "
                "SHA-256; hwsign verify-model and @sigstore/verify accept the bundle\n",
                key);
    return CLI_EXIT_OK;
}

struct signed_model {
    char *bundle;
    size_t bundle_len;
    char *hint;
    uint64_t log_index;
};

/* Agent signature over stmt, checked, into a bundle. Returns an exit status. */
static int sign_statement(const struct model_args *a, const struct cli_context *ctx,
                          const uint8_t *spki, size_t spki_len, const char *stmt, size_t stmt_len,
                          struct signed_model *out)
{
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_(dsse_envelope_freep) struct dsse_envelope *env = NULL;
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
    _cleanup_free_ char *der_hint = NULL;
    const uint8_t *payload, *sig;
    size_t payload_len = 0, sig_len = 0;
    int r;

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = attest_sign_statement(client, a->key, stmt, stmt_len, "the model", &env, &der_hint);
    if (r != CLI_EXIT_OK)
        return r;
    out->log_index = hwsign_last_log_index(client);
    /* The key hashed before signing must be the key that signed. */
    if (spki_parse(spki, spki_len, &pkey) < 0 || dsse_envelope_verify(env, pkey, NULL) < 0)
        return log_error(CLI_EXIT_ERROR, "key '%s' changed while the model was hashed", a->key);
    r = pem_hint(spki, spki_len, &out->hint);
    if (r < 0)
        return log_errno(r, "cannot compute the key hint");
    payload = dsse_envelope_payload(env, &payload_len);
    r = dsse_envelope_signature(env, 0, &sig, &sig_len, NULL);
    if (r >= 0)
        r = bundle_encode_dsse(out->hint, INTOTO_PAYLOAD_TYPE, payload, payload_len, sig, sig_len,
                               &out->bundle, &out->bundle_len);
    if (r < 0)
        return log_errno(r, "cannot encode the bundle");
    if (!a->no_log_entry) {
        bool attached;

        r = bundle_log_attach(client, &out->bundle, &out->bundle_len, &attached);
        if (r != CLI_EXIT_OK)
            return r;
    }
    return CLI_EXIT_OK;
}

static int sign_model(const struct model_args *a, const struct cli_context *ctx)
{
    _cleanup_(model_manifest_freep) struct model_manifest *m = NULL;
    _cleanup_(model_tree_freep) struct model_tree *t = NULL;
    _cleanup_(ignore_set_clear) struct ignore_set ign = {};
    _cleanup_free_ char *root = NULL, *sig_path = NULL, *name = NULL, *stmt = NULL;
    _cleanup_free_ uint8_t *spki = NULL;
    struct signed_model out = {.log_index = HWSIGN_LOG_INDEX_NONE};
    size_t spki_len = 0, stmt_len = 0;
    enum model_refusal why = 0;
    char size[32];
    int r;

    root = realpath(a->dir, NULL);
    if (!root)
        return log_errno(negative_errno(), "cannot open model directory %s", a->dir);
    if (a->sig)
        sig_path = strdup(a->sig);
    else if ((r = default_sig_path(a, &sig_path)) < 0)
        return log_errno(r, "cannot name the signature file");
    if (!sig_path)
        return log_errno(-ENOMEM, "cannot name the signature file");
    r = build_ignore_set("sign-model", a, root, sig_path, &ign);
    if (r != CLI_EXIT_OK)
        return r;
    r = model_name(a->dir, root, &name);
    if (r != CLI_EXIT_OK)
        return r;
    r = sign_preflight(ctx, a->key, &spki, &spki_len);
    if (r != CLI_EXIT_OK)
        return r;

    r = hash_model(&(struct hash_request){.dir = a->dir,
                                          .name = name,
                                          .ignore = &ign,
                                          .ser = {.method = a->shard_size ? MODEL_METHOD_SHARDS
                                                                          : MODEL_METHOD_FILES,
                                                  .shard_size = a->shard_size,
                                                  .allow_symlinks = a->allow_symlinks},
                                          .threads = a->threads},
                   &t, &m);
    if (r != CLI_EXIT_OK)
        return r;
    if (model_tree_n_refused(t) > 0) {
        const char *path = model_tree_refused(t, 0, &why);

        return log_error(CLI_EXIT_ERROR,
                         "cannot sign %s: %s is %s%s (%zu path%s refused; --ignore skips a "
                         "path%s)",
                         a->dir, path, refusal_text(why),
                         why == MODEL_REFUSED_SYMLINK ? ", and --allow-symlinks is not given" : "",
                         model_tree_n_refused(t), model_tree_n_refused(t) == 1 ? "" : "s",
                         why == MODEL_REFUSED_SYMLINK ? ", --allow-symlinks follows links" : "");
    }
    if (model_tree_n_files(t) == 0)
        return log_error(CLI_EXIT_ERROR, "cannot sign %s: no file to sign in it", a->dir);
    r = model_manifest_statement(m, &stmt, &stmt_len);
    if (r == -EMSGSIZE)
        return log_error(CLI_EXIT_ERROR,
                         "cannot sign %s: its %zu %s do not fit one signed statement (at most %u "
                         "MiB, parsed within %u MiB)%s",
                         a->dir, model_manifest_n_resources(m), a->shard_size ? "shards" : "files",
                         INTOTO_MAX_STATEMENT / (1024u * 1024u),
                         FORMAT_MAX_JSON_COST / (1024u * 1024u),
                         a->shard_size ? ": use a larger --shard-size" : "");
    if (r < 0)
        return log_errno(r, "cannot build the model statement");

    r = sign_statement(a, ctx, spki, spki_len, stmt, stmt_len, &out);
    if (r == CLI_EXIT_OK) {
        if (streq(sig_path, "-")) {
            out.bundle[out.bundle_len] = '\n'; /* the NUL after the text becomes the newline */
            r = write_output(NULL, out.bundle, out.bundle_len + 1);
        } else
            r = write_output(sig_path, out.bundle, out.bundle_len);
        r = r < 0 ? log_errno(r, "cannot write the signature to %s", sig_path) : CLI_EXIT_OK;
    }
    if (r == CLI_EXIT_OK && a->json) {
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        int k = o ? 0 : -ENOMEM;

        if (k >= 0 && (k = json_add_string(o, "key", a->key)) >= 0 &&
            (k = json_add_string(o, "hint", out.hint)) >= 0 &&
            (k = json_add_string(o, "signature_file", sig_path)) >= 0 &&
            (k = add_model_json(o, m, t)) >= 0 && out.log_index != HWSIGN_LOG_INDEX_NONE)
            k = json_add_u64(o, "log_index", out.log_index);
        if (k >= 0)
            k = json_print(o);
        if (k < 0)
            r = log_errno(k, "cannot print the result");
    } else if (r == CLI_EXIT_OK && !streq(sig_path, "-")) {
        uint8_t d[32];
        _cleanup_free_ char *root_hex = NULL;

        format_bytes(model_tree_total_bytes(t), size, sizeof(size));
        if (model_manifest_root(m, d) >= 0 && hex_encode(d, 32, &root_hex) >= 0)
            printf("Signed model %s: %zu file%s, %s, %s serialization, root sha256 %s\n",
                   PRINTABLE(name), model_tree_n_files(t), model_tree_n_files(t) == 1 ? "" : "s",
                   size, a->shard_size ? "shards" : "files", root_hex);
        printf("Wrote signature to %s\n", sig_path);
        if (out.log_index != HWSIGN_LOG_INDEX_NONE)
            printf("Logged as record %" PRIu64 " of the agent's signing log\n", out.log_index);
    }
    free(out.bundle);
    free(out.hint);
    return r;
}

/* ---- verify-model ------------------------------------------------------------------------ */

static void verify_usage(FILE *f)
{
    fputs("Usage: hwsign verify-model --key PUB.pem [--signature SIG] [--ignore-unsigned-files]\n"
          "                           [--ignore PATH]... [--log-key LOG.pem] [--threads N]\n"
          "                           [--json] DIR\n"
          "\n"
          "Verify the ML model in DIR against its OpenSSF model-signing signature (a Sigstore\n"
          "bundle, default DIR/model.sig) offline, with public key PUB.pem (PEM or DER), as\n"
          "`model_signing verify key` does: the DSSE signature must verify (ECDSA P-384 and P-521\n"
          "signatures over SHA-384 and SHA-512 of the PAE, as model_signing makes them, are\n"
          "accepted too), then the model is hashed again the way the signature records\n"
          "(files or shards, symlinks, ignored paths) and compared file by file. Every file that\n"
          "differs is named: MODIFIED (content changed), MISSING (signed, not found), EXTRA "
          "(found,\n"
          "not signed) and REFUSED (a symlink the signature does not allow, or a special file).\n"
          "\n"
          "Options:\n"
          "  -k, --key PUB.pem         the signer's public key (required)\n"
          "  -s, --signature SIG       the bundle (default DIR/model.sig)\n"
          "  --ignore-unsigned-files   files that are not in the signature are not an error\n"
          "  --ignore PATH             do not look at PATH (relative to DIR, or absolute inside\n"
          "                            it); repeatable\n"
          "  --log-key LOG.pem         also require the signature's signing-log entry, checked\n"
          "                            against the log key (see hwsign verify --log-key)\n"
          "  --threads N               hashing threads (default: the online CPUs)\n"
          "  --json                    print the result as JSON\n"
          "  -h, --help                show this help\n"
          "\n"
          "Exit status: 0 verified; 1 the signature does not verify, the model differs from it,\n"
          "or (with --log-key) no valid log entry; 2 usage error; 4 unreadable key, signature or\n"
          "model, not a model signature, or an unsupported serialization.\n",
          f);
}

struct verify_result {
    struct model_manifest *expected, *actual;
    struct model_tree *tree;
    struct model_diff *diff;
    bool logged;
    struct bundle_log_result log;
    char error[512];
};

/* A signed file that is now refused (e.g. swapped for a symlink) is reported as REFUSED only,
 * not also as MISSING. */
static bool is_refused(const struct model_tree *t, const char *path)
{
    for (size_t i = 0; i < model_tree_n_refused(t); i++)
        if (streq(model_tree_refused(t, i, NULL), path))
            return true;
    return false;
}

static bool diff_shown(const struct verify_result *v, const struct model_diff_entry *e)
{
    return !(e->kind == MODEL_DIFF_MISSING && is_refused(v->tree, e->path));
}

static size_t count_kind(const struct verify_result *v, enum model_diff_kind kind)
{
    size_t n = 0;

    for (size_t i = 0; i < model_diff_count(v->diff); i++) {
        const struct model_diff_entry *e = model_diff_entry(v->diff, i);

        n += e->kind == kind && diff_shown(v, e);
    }
    return n;
}

static const char *const diff_labels[] = {
        [MODEL_DIFF_MODIFIED] = "MODIFIED",
        [MODEL_DIFF_MISSING] = "MISSING",
        [MODEL_DIFF_EXTRA] = "EXTRA",
};

static int add_list_json(struct json_object *o, const char *key, const struct verify_result *v,
                         enum model_diff_kind kind)
{
    _cleanup_(json_object_putp) struct json_object *arr = json_object_new_array();

    if (!arr)
        return -ENOMEM;
    for (size_t i = 0; i < model_diff_count(v->diff); i++) {
        const struct model_diff_entry *e = model_diff_entry(v->diff, i);

        if (e->kind == kind && diff_shown(v, e) &&
            json_object_array_add(arr, json_object_new_string(e->path)) < 0)
            return -ENOMEM;
    }
    return json_add(o, key, TAKE_PTR(arr));
}

static int print_verify_json(const struct model_args *a, const char *sig_path,
                             const struct verify_result *v)
{
    _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
    _cleanup_(json_object_putp) struct json_object *refused = json_object_new_array();
    int r;

    if (!o || !refused)
        return -ENOMEM;
    for (size_t i = 0; i < model_tree_n_refused(v->tree); i++) {
        _cleanup_(json_object_putp) struct json_object *e = json_object_new_object();
        enum model_refusal why;
        const char *path = model_tree_refused(v->tree, i, &why);

        if (!e || (r = json_add_string(e, "path", path)) < 0 ||
            (r = json_add_string(e, "reason", refusal_text(why))) < 0 ||
            json_object_array_add(refused, e) < 0)
            return -ENOMEM;
        e = NULL;
    }
    if ((r = json_add_bool(o, "verified", v->error[0] == '\0')) < 0 ||
        (r = json_add_string(o, "signature_file", sig_path)) < 0 ||
        (r = json_add_string(o, "key_file", a->key)) < 0)
        return r;
    if (v->expected && v->actual && v->tree) {
        if ((r = add_model_json(o, v->expected, v->tree)) < 0 ||
            (r = add_list_json(o, "modified", v, MODEL_DIFF_MODIFIED)) < 0 ||
            (r = add_list_json(o, "missing", v, MODEL_DIFF_MISSING)) < 0 ||
            (r = add_list_json(o, "extra", v, MODEL_DIFF_EXTRA)) < 0 ||
            (r = json_add(o, "refused", TAKE_PTR(refused))) < 0)
            return r;
    }
    if (v->logged) {
        struct json_object *l = json_object_new_object();

        if (!l)
            return -ENOMEM;
        if ((r = json_add(o, "log", l)) < 0 || (r = json_add_u64(l, "index", v->log.index)) < 0 ||
            (r = json_add_u64(l, "tree_size", v->log.tree_size)) < 0 ||
            (r = json_add_string(l, "origin", v->log.origin)) < 0)
            return r;
    }
    if ((r = json_add_string(o, "error", v->error[0] ? v->error : NULL)) < 0)
        return r;
    return json_print(o);
}

/* Signature -> verified manifest. Returns an exit status; a refusal goes to v->error. */
static int read_signature(const struct model_args *a, const char *sig_path, EVP_PKEY *pkey,
                          const uint8_t *spki, size_t spki_len, struct verify_result *v)
{
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    _cleanup_(bundle_freep) struct bundle *b = NULL;
    _cleanup_free_ uint8_t *text = NULL;
    _cleanup_free_ char *hint = NULL, *der_hint = NULL;
    size_t len = 0;
    int r;

    r = read_input_bounded(sig_path, BUNDLE_MAX_JSON, &text, &len);
    if (r == -EFBIG)
        return log_error(CLI_EXIT_ERROR, "%s is too large for a model signature (over %u bytes)",
                         sig_path, BUNDLE_MAX_JSON);
    if (r < 0)
        return log_errno(r, "cannot read the signature %s", sig_path);
    r = bundle_decode((const char *)text, len, &b);
    if (r == -ENOMEM)
        return log_errno(r, "cannot read the signature %s", sig_path);
    if (r < 0 || bundle_get_kind(b) != BUNDLE_DSSE_ENVELOPE)
        return log_error(CLI_EXIT_ERROR,
                         "%s is not a model signature (a key-based Sigstore bundle with a DSSE "
                         "envelope)",
                         sig_path);
    r = bundle_verify_ex(b, pkey, NULL, BUNDLE_VERIFY_DSSE_CURVE_HASH, &st);
    if (r == -EBADMSG) {
        format_message(v->error, sizeof(v->error),
                       "the signature in %s does not verify with key %s", sig_path, a->key);
        return CLI_EXIT_REFUSED;
    }
    if (r == -EOPNOTSUPP)
        return log_error(CLI_EXIT_ERROR, "cannot verify with key %s: unsupported key type", a->key);
    if (r == -ENOMEM)
        return log_errno(r, "cannot verify %s", sig_path);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "the signed payload of %s is not an in-toto Statement v1",
                         sig_path);
    /* Authenticated from here on. */
    if (!streq(intoto_statement_predicate_type(st), MODEL_PREDICATE_TYPE))
        return log_error(CLI_EXIT_ERROR, "%s signs predicate type %s, not a model signature (%s)",
                         sig_path, PRINTABLE(intoto_statement_predicate_type(st)),
                         MODEL_PREDICATE_TYPE);
    r = model_manifest_from_statement(st, &v->expected);
    if (r == -EBADMSG) {
        format_message(v->error, sizeof(v->error),
                       "the manifest in %s is inconsistent: its resources do not hash to its "
                       "root digest",
                       sig_path);
        return CLI_EXIT_REFUSED;
    }
    if (r == -EOPNOTSUPP)
        return log_error(CLI_EXIT_ERROR,
                         "%s uses a serialization hwsign does not support (only the files and "
                         "shards methods with sha256)",
                         sig_path);
    if (r == -ENOMEM)
        return log_errno(r, "cannot read the manifest in %s", sig_path);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "%s holds a malformed model manifest: %s", sig_path,
                         strerror(-r));
    /*
     * The hint is unauthenticated, so it decides nothing about the signature; but like
     * model_signing ("Key mismatch") we refuse a bundle that names another key, so a signature
     * is only ever accepted as made for the key it says. Empty, model_signing's PEM hint and
     * our DER one (hwsign verify's convention) name this key.
     */
    r = pem_hint(spki, spki_len, &hint);
    if (r >= 0)
        r = bundle_hint_from_spki(spki, spki_len, &der_hint);
    if (r < 0)
        return log_errno(r, "cannot compute the key hint");
    if (*bundle_get_hint(b) && !streq(bundle_get_hint(b), hint) &&
        !streq(bundle_get_hint(b), der_hint)) {
        format_message(v->error, sizeof(v->error),
                       "the key hint in %s names another key than %s (the hint is %s)", sig_path,
                       a->key, PRINTABLE(bundle_get_hint(b)));
        return CLI_EXIT_REFUSED;
    }
    if (a->log_key) {
        r = bundle_log_verify(b, spki, spki_len, a->log_key, &v->log);
        if (r != CLI_EXIT_OK)
            return r;
        v->logged = true;
    }
    return CLI_EXIT_OK;
}

static int verify_model_run(const struct model_args *a, const char *sig_path,
                            struct verify_result *v)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
    _cleanup_(ignore_set_clear) struct ignore_set ign = {};
    _cleanup_free_ uint8_t *spki = NULL;
    _cleanup_free_ char *root = NULL;
    const struct model_serialization *ser;
    size_t spki_len = 0, n_bad;
    int r;

    r = load_public_key_file(a->key, &spki, &spki_len);
    if (r != CLI_EXIT_OK)
        return r;
    r = spki_parse(spki, spki_len, &pkey);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "%s does not hold a usable public key", a->key);
    root = realpath(a->dir, NULL);
    if (!root)
        return log_errno(negative_errno(), "cannot open model directory %s", a->dir);
    r = read_signature(a, sig_path, pkey, spki, spki_len, v);
    if (r != CLI_EXIT_OK)
        return r;

    r = build_ignore_set("verify-model", a, root, sig_path, &ign);
    for (size_t i = 0; r == CLI_EXIT_OK && i < model_manifest_n_ignore(v->expected); i++)
        if (ignore_set_add(&ign, model_manifest_ignore(v->expected, i)) < 0)
            r = log_error(CLI_EXIT_ERROR, "too many ignore paths (at most %u)", IGNORE_MAX);
    if (r != CLI_EXIT_OK)
        return r;
    ser = model_manifest_serialization(v->expected);
    r = hash_model(&(struct hash_request){.dir = a->dir,
                                          .name = model_manifest_name(v->expected),
                                          .ignore = &ign,
                                          .ser = *ser,
                                          .shard_empty_files =
                                                  model_manifest_has_empty_shards(v->expected),
                                          .threads = a->threads,
                                          .only = a->unsigned_ok ? v->expected : NULL},
                   &v->tree, &v->actual);
    if (r != CLI_EXIT_OK)
        return r;
    r = model_manifest_compare(v->expected, v->actual, &v->diff);
    if (r < 0)
        return log_errno(r, "cannot compare the model with its signature");
    n_bad = model_diff_count(v->diff) + model_tree_n_refused(v->tree);
    if (n_bad > 0) {
        format_message(v->error, sizeof(v->error),
                       "%s does not match its signature: %zu modified, %zu missing, %zu extra, "
                       "%zu refused",
                       a->dir, count_kind(v, MODEL_DIFF_MODIFIED),
                       count_kind(v, MODEL_DIFF_MISSING), count_kind(v, MODEL_DIFF_EXTRA),
                       model_tree_n_refused(v->tree));
        return CLI_EXIT_REFUSED;
    }
    return CLI_EXIT_OK;
}

static void print_verify_human(const struct model_args *a, const char *sig_path,
                               const struct verify_result *v)
{
    char size[32];

    for (size_t i = 0; v->diff && i < model_diff_count(v->diff); i++) {
        const struct model_diff_entry *e = model_diff_entry(v->diff, i);

        if (diff_shown(v, e))
            printf("%-9s %s\n", diff_labels[e->kind], PRINTABLE(e->path));
    }
    for (size_t i = 0; v->tree && i < model_tree_n_refused(v->tree); i++) {
        enum model_refusal why;
        const char *path = model_tree_refused(v->tree, i, &why);

        printf("REFUSED   %s (%s%s)\n", path, refusal_text(why),
               why == MODEL_REFUSED_SYMLINK ? " and the signature does not allow symlinks" : "");
    }
    if (v->error[0])
        return;
    format_bytes(model_tree_total_bytes(v->tree), size, sizeof(size));
    printf("Verified OK\n");
    printf("Model: %s, %zu file%s, %s, %s serialization\n",
           PRINTABLE(model_manifest_name(v->expected)), model_tree_n_files(v->tree),
           model_tree_n_files(v->tree) == 1 ? "" : "s", size,
           model_manifest_serialization(v->expected)->method == MODEL_METHOD_FILES ? "files"
                                                                                   : "shards");
    printf("Signature: %s, key %s\n", sig_path, a->key);
    if (v->logged)
        printf("Log: record %" PRIu64 " included in checkpoint %s of size %" PRIu64
               " (signed by the log key)\n",
               v->log.index, v->log.origin, v->log.tree_size);
}

static int verify_model(const struct model_args *a)
{
    _cleanup_free_ char *sig_path = NULL;
    struct verify_result v = {};
    int r;

    if (a->sig)
        sig_path = strdup(a->sig);
    else if ((r = default_sig_path(a, &sig_path)) < 0)
        return log_errno(r, "cannot name the signature file");
    if (!sig_path)
        return log_errno(-ENOMEM, "cannot name the signature file");
    r = verify_model_run(a, sig_path, &v);
    if (r == CLI_EXIT_OK || v.error[0]) {
        if (a->json) {
            int k = print_verify_json(a, sig_path, &v);

            if (k < 0)
                r = log_errno(k, "cannot print the result");
        } else
            print_verify_human(a, sig_path, &v);
        if (v.error[0])
            log_error(CLI_EXIT_REFUSED, "verification failed: %s", v.error);
    }
    model_diff_free(v.diff);
    model_tree_free(v.tree);
    model_manifest_free(v.actual);
    model_manifest_free(v.expected);
    return r;
}

/* ---- option parsing ---------------------------------------------------------------------- */

enum {
    ARG_IGNORE = 0x100,
    ARG_SHARD_SIZE,
    ARG_ALLOW_SYMLINKS,
    ARG_THREADS,
    ARG_NO_LOG_ENTRY,
    ARG_JSON,
    ARG_IGNORE_UNSIGNED,
    ARG_LOG_KEY,
};

static int parse_common(const char *cmd, int c, struct model_args *a, const char **ignore)
{
    uint32_t n = 0;

    switch (c) {
    case ARG_IGNORE:
        if (!*optarg)
            return log_usage(cmd, "--ignore needs a path");
        if (a->n_ignore >= IGNORE_MAX)
            return log_usage(cmd, "too many ignore paths (at most %u)", IGNORE_MAX);
        ignore[a->n_ignore++] = optarg;
        return CLI_EXIT_OK;
    case ARG_THREADS:
        if (parse_u32(optarg, MODEL_MAX_THREADS, &n) < 0 || n == 0)
            return log_usage(cmd, "--threads needs a number from 1 to %u", MODEL_MAX_THREADS);
        a->threads = n;
        return CLI_EXIT_OK;
    case ARG_JSON:
        a->json = true;
        return CLI_EXIT_OK;
    }
    return -1;
}

int cmd_sign_model(int argc, char *argv[], const struct cli_context *ctx)
{
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"key", required_argument, NULL, 'k'},
            {"output", required_argument, NULL, 'o'},
            {"ignore", required_argument, NULL, ARG_IGNORE},
            {"shard-size", required_argument, NULL, ARG_SHARD_SIZE},
            {"allow-symlinks", no_argument, NULL, ARG_ALLOW_SYMLINKS},
            {"threads", required_argument, NULL, ARG_THREADS},
            {"no-log-entry", no_argument, NULL, ARG_NO_LOG_ENTRY},
            {"json", no_argument, NULL, ARG_JSON},
            {},
    };
    const char *ignore[IGNORE_MAX];
    struct model_args a = {.ignore = ignore};
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hk:o:", options, NULL)) >= 0) {
        r = parse_common("sign-model", c, &a, ignore);
        if (r >= 0) {
            if (r != CLI_EXIT_OK)
                return r;
            continue;
        }
        switch (c) {
        case 'h':
            sign_usage(stdout);
            return CLI_EXIT_OK;
        case 'k':
            a.key = optarg;
            break;
        case 'o':
            a.sig = optarg;
            break;
        case ARG_SHARD_SIZE:
            if (parse_u64(optarg, MODEL_MAX_SHARD_SIZE, &a.shard_size) < 0 || a.shard_size == 0)
                return log_usage("sign-model",
                                 "--shard-size needs a number of bytes from 1 to %" PRIu64,
                                 (uint64_t)MODEL_MAX_SHARD_SIZE);
            break;
        case ARG_ALLOW_SYMLINKS:
            a.allow_symlinks = true;
            break;
        case ARG_NO_LOG_ENTRY:
            a.no_log_entry = true;
            break;
        default:
            return log_bad_option("sign-model", c, argv);
        }
    }
    if (optind < argc)
        a.dir = argv[optind++];
    if (optind < argc)
        return log_usage("sign-model", "unexpected argument '%s' (one model directory)",
                         argv[optind]);
    r = sign_check_args(&a);
    if (r != CLI_EXIT_OK)
        return r;
    return sign_model(&a, ctx);
}

int cmd_verify_model(int argc, char *argv[], const struct cli_context *ctx)
{
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"key", required_argument, NULL, 'k'},
            {"signature", required_argument, NULL, 's'},
            {"ignore", required_argument, NULL, ARG_IGNORE},
            {"ignore-unsigned-files", no_argument, NULL, ARG_IGNORE_UNSIGNED},
            {"log-key", required_argument, NULL, ARG_LOG_KEY},
            {"threads", required_argument, NULL, ARG_THREADS},
            {"json", no_argument, NULL, ARG_JSON},
            {},
    };
    const char *ignore[IGNORE_MAX];
    struct model_args a = {.ignore = ignore};
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hk:s:", options, NULL)) >= 0) {
        r = parse_common("verify-model", c, &a, ignore);
        if (r >= 0) {
            if (r != CLI_EXIT_OK)
                return r;
            continue;
        }
        switch (c) {
        case 'h':
            verify_usage(stdout);
            return CLI_EXIT_OK;
        case 'k':
            a.key = optarg;
            break;
        case 's':
            a.sig = optarg;
            break;
        case ARG_IGNORE_UNSIGNED:
            a.unsigned_ok = true;
            break;
        case ARG_LOG_KEY:
            a.log_key = optarg;
            break;
        default:
            return log_bad_option("verify-model", c, argv);
        }
    }
    if (optind < argc)
        a.dir = argv[optind++];
    if (optind < argc)
        return log_usage("verify-model", "unexpected argument '%s' (one model directory)",
                         argv[optind]);
    if (!a.key || !*a.key)
        return log_usage("verify-model", "missing --key PUB.pem");
    if (!a.dir || !*a.dir)
        return log_usage("verify-model", "missing model directory DIR");
    if (a.sig && !*a.sig)
        return log_usage("verify-model", "--signature needs a file name");
    if (a.log_key && !*a.log_key)
        return log_usage("verify-model", "--log-key needs a file name");
    return verify_model(&a);
}
