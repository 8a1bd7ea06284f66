/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign sbom: inventory the build environment (Debian packages, Python distributions, npm
 * packages), artifacts and ML models as a CycloneDX 1.6 or SPDX 2.3 JSON SBOM (lib/sbom), and
 * with --key sign it as an in-toto attestation in a Sigstore bundle, logged by the agent.
 *
 * A whole machine's inventory is far larger than a statement that fits one agent request
 * (SBOM_MAX_EMBEDDED): the statement names the SBOM file itself as a subject (its SHA-256) next
 * to the artifacts and models, and its predicate is the SBOM when the statement fits, else a small
 * "reference" SBOM of the same format that lists the subjects and links the full SBOM by UUID
 * and hash (docs/sbom.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "artifact.h"
#include "bundle-log.h"
#include "bundle.h"
#include "cmd-attest.h"
#include "cmd-sbom.h"
#include "crypto.h"
#include "cyclonedx.h"
#include "dpkg.h"
#include "dsse.h"
#include "host.h"
#include "intoto.h"
#include "main.h"
#include "npm.h"
#include "output.h"
#include "parse.h"
#include "pydist.h"
#include "rootfs.h"
#include "sbom-doc.h"
#include "sbom.h"
#include "spdx.h"

/*
 * Largest statement that embeds the whole SBOM: one that fits a single agent request. The agent
 * signs statements of up to 16 MiB sent in chunks, but an SBOM attestation stays small and the
 * full SBOM, published beside it, is named by its hash (docs/sbom.md).
 */
#define SBOM_MAX_EMBEDDED   HWSIGN_MAX_STATEMENT
#define SBOM_DOC_NAME       "hwsign-sbom"
#define SBOM_BUNDLE_SUFFIX  ".bundle"
#define SBOM_MAX_INPUTS     (INTOTO_MAX_SUBJECTS - 1u) /* --artifact + --model: one is the SBOM */
#define SBOM_MAX_WARN_SHOWN 20u                        /* warnings printed; the rest are counted */

struct sbom_args {
    enum sbom_format format;
    const char *root;
    const char **artifacts, **models, **site_dirs, **npm_dirs;
    size_t n_artifacts, n_models, n_site_dirs, n_npm_dirs;
    const char *out;    /* NULL or "-": standard output */
    const char *key;    /* sign with it */
    const char *bundle; /* NULL: OUT.bundle */
    bool no_log_entry;
    bool json;
};

struct sign_result {
    char *hint;
    const char *bundle_path;
    bool reference; /* the predicate is the reference SBOM */
    uint64_t log_index;
};

static void sbom_usage(FILE *f)
{
    fputs("Usage: hwsign sbom [--format cyclonedx|spdx] [--root DIR] [--model DIR]...\n"
          "                   [--artifact FILE]... [--site-packages DIR]... [--node-modules "
          "DIR]...\n"
          "                   [-o OUT] [--key NAME [--bundle OUT.bundle] [--no-log-entry]]\n"
          "                   [--json]\n"
          "\n"
          "Inventory this system (or, with --root, the file system under DIR, e.g. a\n"
          "container image's extracted root) as a software bill of materials: CycloneDX 1.6\n"
          "JSON (default) or SPDX 2.3 JSON. It lists:\n"
          "  - Debian packages from the dpkg database (name, version, architecture, source\n"
          "    package, pkg:deb purl, licence from machine-readable copyright files);\n"
          "  - Python distributions in the interpreters' site-packages / dist-packages\n"
          "    (*.dist-info, *.egg-info; pkg:pypi purl); broken metadata is skipped with a\n"
          "    warning;\n"
          "  - npm packages in the global node_modules and in each --node-modules tree;\n"
          "  - each --artifact FILE (SHA-256 and SHA-1) and each --model DIR (an ML model:\n"
          "    per-file hashes and the OpenSSF model-signing digest);\n"
          "  - the host (os-release; kernel and machine when no --root is given).\n"
          "\n"
          "With --key, also sign it with the agent: an in-toto statement (predicate type\n"
          "https://cyclonedx.org/bom or https://spdx.dev/Document) whose subjects are the\n"
          "SBOM file, the artifacts and the models, as a Sigstore bundle (default OUT.bundle)\n"
          "that carries the agent's signing-log entry. The predicate is the SBOM when it fits\n"
          "one agent request (40 KiB), else a small SBOM of the same format that lists the\n"
          "subjects and links the full one by UUID and hash. Check it with\n"
          "`hwsign verify --key PUB.pem --bundle OUT.bundle --sbom OUT [ARTIFACT]`.\n"
          "\n"
          "Options:\n"
          "  -f, --format FORMAT      cyclonedx (default) or spdx\n"
          "  -r, --root DIR           read every package database under DIR\n"
          "  -m, --model DIR          an ML model directory (repeatable)\n"
          "  -a, --artifact FILE      a file, e.g. what the build produced (repeatable)\n"
          "  --site-packages DIR      another Python site-packages directory (repeatable;\n"
          "                           under --root when given)\n"
          "  --node-modules DIR       a node_modules tree (repeatable; under --root)\n"
          "  -o, --output OUT         where to write the SBOM (replaced atomically, mode\n"
          "                           0644); default or \"-\": standard output\n"
          "  -k, --key NAME           sign with this agent key (needs -o OUT)\n"
          "  -b, --bundle FILE        where to write the bundle (default OUT.bundle)\n"
          "  --no-log-entry           do not put the signing-log entry into the bundle\n"
          "  --json                   print a JSON summary: format, file, serial, counts,\n"
          "                           warnings, and when signed key, keyid, bundle_file,\n"
          "                           predicate_type, predicate (\"sbom\" or \"reference\"),\n"
          "                           log_index (not with -o -)\n"
          "  -h, --help               show this help\n"
          "\n"
          "Environment: SOURCE_DATE_EPOCH (seconds) fixes the SBOM timestamp.\n"
          "\n"
          "Exit status: 0 written (and signed); 1 the agent refused (policy); 2 usage error;\n"
          "3 agent or hardware unavailable; 4 unreadable package database, artifact or model,\n"
          "no such key, other errors.\n",
          f);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* A model's name: the last component of DIR, trailing slashes ignored ("m/" -> "m"). */
static int model_name(const char *dir, char **ret)
{
    size_t len = strlen(dir);
    const char *start;

    while (len > 1 && dir[len - 1] == '/')
        len--;
    start = dir + len;
    while (start > dir && start[-1] != '/')
        start--;
    if (start == dir + len || (dir + len - start == 1 && *start == '.') ||
        (dir + len - start == 2 && start[0] == '.' && start[1] == '.'))
        return -EINVAL;
    *ret = strndup(start, (size_t)(dir + len - start));
    return *ret ? 0 : -ENOMEM;
}

static bool to_stdout(const struct sbom_args *a)
{
    return !a->out || streq(a->out, "-");
}

/* Usage checks that need no I/O. Returns an exit status. */
static int sbom_check_args(const struct sbom_args *a, const char *const *names, size_t n_names)
{
    if (a->key && !name_is_valid(a->key))
        return log_usage("sbom", "invalid key name '%s'", a->key);
    if (a->key && to_stdout(a))
        return log_usage("sbom", "--key needs -o OUT: the SBOM file is a subject of the "
                                 "signature");
    if (!a->key && (a->bundle || a->no_log_entry))
        return log_usage("sbom", "--bundle and --no-log-entry need --key");
    if (a->json && to_stdout(a))
        return log_usage("sbom", "--json cannot be combined with the SBOM on standard output");
    if (a->bundle && (!*a->bundle || streq(a->bundle, "-")))
        return log_usage("sbom", "--bundle must name a file");
    if (a->n_artifacts + a->n_models > SBOM_MAX_INPUTS)
        return log_usage("sbom", "too many artifacts and models (at most %u)", SBOM_MAX_INPUTS);
    for (size_t i = 0; i < a->n_artifacts; i++) {
        const char *name = base_name(a->artifacts[i]);

        if (streq(a->artifacts[i], "-") || !*name || streq(name, ".") || streq(name, ".."))
            return log_usage("sbom", "--artifact '%s' does not name a file", a->artifacts[i]);
        if (!to_stdout(a) && streq(a->artifacts[i], a->out))
            return log_usage("sbom", "the SBOM would overwrite artifact '%s'", a->out);
    }
    /* Subject names must be unique: artifacts, models and, when signing, the SBOM. */
    for (size_t i = 0; i < n_names; i++)
        for (size_t j = 0; j < i; j++)
            if (streq(names[i], names[j]))
                return log_usage("sbom",
                                 "two artifacts, models or the SBOM are named '%s': names must "
                                 "be unique",
                                 names[i]);
    return CLI_EXIT_OK;
}

static void print_warnings(const struct sbom *s)
{
    size_t n = sbom_n_warnings(s);

    for (size_t i = 0; i < n && i < SBOM_MAX_WARN_SHOWN; i++)
        if (sbom_warning(s, i))
            fprintf(stderr, "hwsign: warning: %s\n", sbom_warning(s, i));
    if (n > SBOM_MAX_WARN_SHOWN)
        fprintf(stderr, "hwsign: warning: %zu more warnings not shown\n", n - SBOM_MAX_WARN_SHOWN);
}

/* Everything the SBOM lists. Returns an exit status. */
static int collect(const struct sbom_args *a, struct sbom *s)
{
    _cleanup_close_ int root_fd = -EBADF;
    const char *where = a->root ? a->root : "/";
    size_t n = 0;
    int r;

    r = rootfs_open(a->root, &root_fd);
    if (r < 0)
        return log_errno(r, "cannot open root directory %s", where);
    r = host_collect(root_fd, a->root == NULL, s);
    if (r < 0)
        return log_errno(r, "cannot read the host facts under %s", where);
    r = dpkg_collect(root_fd, s, &n);
    if (r == -EFBIG)
        return log_error(CLI_EXIT_ERROR, "the dpkg database under %s is too large (over %u bytes)",
                         where, SBOM_MAX_DPKG_STATUS);
    if (r == -E2BIG)
        return log_error(CLI_EXIT_ERROR, "more than %u components", SBOM_MAX_COMPONENTS);
    if (r < 0)
        return log_errno(r, "cannot read the dpkg database under %s", where);
    r = pydist_collect(root_fd, a->site_dirs, a->n_site_dirs, s, &n);
    if (r < 0)
        return r == -E2BIG
                       ? log_error(CLI_EXIT_ERROR, "more than %u components", SBOM_MAX_COMPONENTS)
                       : log_errno(r, "cannot inventory Python distributions");
    r = npm_collect(root_fd, a->npm_dirs, a->n_npm_dirs, s, &n);
    if (r < 0)
        return r == -E2BIG
                       ? log_error(CLI_EXIT_ERROR, "more than %u components", SBOM_MAX_COMPONENTS)
                       : log_errno(r, "cannot inventory npm packages");
    for (size_t i = 0; i < a->n_artifacts; i++) {
        r = artifact_add_file(s, a->artifacts[i], base_name(a->artifacts[i]));
        if (r < 0)
            return log_errno(r, "cannot hash artifact %s", a->artifacts[i]);
    }
    for (size_t i = 0; i < a->n_models; i++) {
        _cleanup_free_ char *name = NULL;
        struct model_diag diag = {};

        if ((r = model_name(a->models[i], &name)) < 0)
            return log_errno(r, "cannot name model %s", a->models[i]);
        r = artifact_add_model(s, a->models[i], name, &diag);
        if (r == -ELOOP && diag.path[0])
            return log_error(CLI_EXIT_ERROR,
                             "model %s: %s is a symbolic link (model signing refuses them)",
                             a->models[i], diag.path);
        if (r < 0 && diag.path[0])
            return log_errno(r, "cannot hash model %s (at %s)", a->models[i], diag.path);
        if (r < 0)
            return log_errno(r, "cannot hash model %s", a->models[i]);
    }
    r = sbom_sort(s);
    if (r < 0)
        return log_errno(r, "cannot sort the inventory");
    return CLI_EXIT_OK;
}

static int write_doc(enum sbom_format f, const struct sbom *s, const struct sbom_doc_info *info,
                     char **ret, size_t *ret_len)
{
    return f == SBOM_FORMAT_SPDX ? spdx_write(s, info, ret, ret_len)
                                 : cdx_write(s, info, ret, ret_len);
}

/* The timestamp: now, or SOURCE_DATE_EPOCH for reproducible builds. Returns an exit status. */
static int doc_timestamp(char ts[static 21])
{
    const char *env = getenv("SOURCE_DATE_EPOCH");
    uint64_t t = (uint64_t)time(NULL);

    if (env && *env && parse_u64(env, INT64_MAX, &t) < 0)
        return log_usage("sbom", "SOURCE_DATE_EPOCH='%s' is not a number of seconds", env);
    if (sbom_timestamp((int64_t)t, ts) < 0)
        return log_usage("sbom", "the time %llu has no four-digit year", (unsigned long long)t);
    return CLI_EXIT_OK;
}

/*
 * The statement: subjects = the SBOM file, then the artifacts and models in inventory order;
 * predicate = the SBOM if it fits, else the reference SBOM. Returns an exit status.
 */
static int build_statement(const struct sbom_args *a, const struct sbom *s,
                           const struct sbom_doc_info *info, const char *doc, size_t doc_len,
                           char **ret, size_t *ret_len, bool *ret_reference)
{
    _cleanup_free_ struct intoto_subject *subjects = NULL;
    _cleanup_(sbom_freep) struct sbom *subj = NULL;
    _cleanup_free_ char *ref_doc = NULL;
    struct sbom_reference ref = {.serial = info->serial, .file_name = base_name(a->out)};
    struct sbom_doc_info ref_info = *info;
    const char *type = sbom_format_predicate_type(a->format);
    char ref_serial[37];
    size_t n = 0, ref_len = 0;
    int r;

    subjects = calloc(1 + a->n_artifacts + a->n_models, sizeof(*subjects));
    if (!subjects)
        return log_errno(-ENOMEM, "cannot build the statement");
    subjects[n].name = base_name(a->out);
    r = hash_buffer(HWSIGN_HASH_SHA256, doc, doc_len, subjects[n].sha256,
                    sizeof(subjects[n].sha256));
    if (r < 0)
        return log_errno(r, "cannot hash the SBOM");
    memcpy(ref.sha256, subjects[n++].sha256, sizeof(ref.sha256));
    for (size_t i = 0; i < sbom_n_components(s); i++) {
        const struct sbom_component *c = sbom_component(s, i);

        if (c->kind != SBOM_KIND_FILE && c->kind != SBOM_KIND_MODEL)
            continue;
        subjects[n].name = c->name;
        memcpy(subjects[n++].sha256, c->sha256, sizeof(subjects->sha256));
    }

    /* The whole SBOM as predicate (without the file's final newline). */
    r = intoto_statement_build(subjects, n, type, doc, doc_len - 1, ret, ret_len);
    if (r >= 0 && *ret_len > SBOM_MAX_EMBEDDED) {
        free(*ret);
        *ret = NULL;
        r = -EMSGSIZE;
    }
    if (r != -EMSGSIZE) {
        if (r < 0)
            return log_errno(r, "cannot build the in-toto statement");
        *ret_reference = false;
        return CLI_EXIT_OK;
    }

    /* Too large: a reference SBOM of the subjects that links the full one. */
    if (EVP_Digest(doc, doc_len, ref.sha1, NULL, EVP_sha1(), NULL) != 1)
        return log_error(CLI_EXIT_ERROR, "cannot hash the SBOM with SHA-1");
    if ((r = sbom_uuid_new(ref_serial)) < 0)
        return log_errno(r, "cannot make a serial number");
    ref_info.serial = ref_serial;
    ref_info.ref = &ref;
    if ((r = sbom_copy_subjects(s, false, &subj)) < 0 ||
        (r = write_doc(a->format, subj, &ref_info, &ref_doc, &ref_len)) < 0)
        return log_errno(r, "cannot write the reference SBOM");
    r = intoto_statement_build(subjects, n, type, ref_doc, ref_len, ret, ret_len);
    if (r == -EMSGSIZE)
        return log_error(CLI_EXIT_ERROR,
                         "even the reference statement exceeds a limit (at most %u bytes, %u "
                         "subjects, names of %u bytes): sign fewer artifacts and models",
                         INTOTO_MAX_STATEMENT, INTOTO_MAX_SUBJECTS, INTOTO_MAX_NAME);
    if (r < 0)
        return log_errno(r, "cannot build the in-toto statement");
    *ret_reference = true;
    return CLI_EXIT_OK;
}

static int sign_sbom(const struct sbom_args *a, const struct cli_context *ctx, const struct sbom *s,
                     const struct sbom_doc_info *info, const char *doc, size_t doc_len,
                     struct sign_result *res)
{
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_(dsse_envelope_freep) struct dsse_envelope *env = NULL;
    _cleanup_free_ char *stmt = NULL, *bundle = NULL;
    size_t stmt_len = 0, bundle_len = 0, payload_len = 0, sig_len = 0;
    const uint8_t *payload, *sig;
    const char *keyid;
    int r;

    r = build_statement(a, s, info, doc, doc_len, &stmt, &stmt_len, &res->reference);
    if (r != CLI_EXIT_OK)
        return r;
    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = attest_sign_statement(client, a->key, stmt, stmt_len, "the SBOM", &env, &res->hint);
    if (r != CLI_EXIT_OK)
        return r;
    res->log_index = hwsign_last_log_index(client);
    payload = dsse_envelope_payload(env, &payload_len);
    r = dsse_envelope_signature(env, 0, &sig, &sig_len, &keyid);
    if (r >= 0)
        r = bundle_encode_dsse(res->hint, dsse_envelope_payload_type(env), payload, payload_len,
                               sig, sig_len, &bundle, &bundle_len);
    if (r < 0)
        return log_errno(r, "cannot encode the bundle");
    if (!a->no_log_entry) {
        bool attached;

        r = bundle_log_attach(client, &bundle, &bundle_len, &attached);
        if (r != CLI_EXIT_OK)
            return r;
    }
    r = write_output(res->bundle_path, bundle, bundle_len);
    if (r < 0)
        return log_errno(r, "cannot write the bundle to %s", res->bundle_path);
    return CLI_EXIT_OK;
}

static int print_json_summary(const struct sbom_args *a, const struct sbom *s, const char *serial,
                              const struct sign_result *res)
{
    _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
    _cleanup_(json_object_putp) struct json_object *counts = json_object_new_object();
    int r;

    if (!o || !counts)
        return -ENOMEM;
    if ((r = json_add_u64(counts, "deb", sbom_count_kind(s, SBOM_KIND_DEB))) < 0 ||
        (r = json_add_u64(counts, "pypi", sbom_count_kind(s, SBOM_KIND_PYPI))) < 0 ||
        (r = json_add_u64(counts, "npm", sbom_count_kind(s, SBOM_KIND_NPM))) < 0 ||
        (r = json_add_u64(counts, "artifacts", sbom_count_kind(s, SBOM_KIND_FILE))) < 0 ||
        (r = json_add_u64(counts, "models", sbom_count_kind(s, SBOM_KIND_MODEL))) < 0)
        return r;
    if ((r = json_add_string(o, "format",
                             a->format == SBOM_FORMAT_SPDX ? "spdx-2.3" : "cyclonedx-1.6")) < 0 ||
        (r = json_add_string(o, "file", a->out)) < 0 ||
        (r = json_add_string(o, "serial", serial)) < 0 ||
        (r = json_add(o, "components", TAKE_PTR(counts))) < 0 ||
        (r = json_add_u64(o, "warnings", sbom_n_warnings(s))) < 0)
        return r;
    if (a->key) {
        if ((r = json_add_string(o, "key", a->key)) < 0 ||
            (r = json_add_string(o, "keyid", res->hint)) < 0 ||
            (r = json_add_string(o, "bundle_file", res->bundle_path)) < 0 ||
            (r = json_add_string(o, "predicate_type", sbom_format_predicate_type(a->format))) < 0 ||
            (r = json_add_string(o, "predicate", res->reference ? "reference" : "sbom")) < 0)
            return r;
        if (res->log_index != HWSIGN_LOG_INDEX_NONE &&
            (r = json_add_u64(o, "log_index", res->log_index)) < 0)
            return r;
    }
    return json_print(o);
}

static int run_sbom(const struct sbom_args *a, const struct cli_context *ctx)
{
    _cleanup_(sbom_freep) struct sbom *s = sbom_new();
    _cleanup_free_ char *doc = NULL, *bundle_path = NULL;
    struct sign_result res = {.log_index = HWSIGN_LOG_INDEX_NONE};
    char serial[37], ts[21];
    size_t doc_len = 0;
    int r;

    if (!s)
        return log_errno(-ENOMEM, "cannot start the inventory");
    if ((r = doc_timestamp(ts)) != CLI_EXIT_OK)
        return r;
    if (a->key) {
        if (!a->bundle && str_join(a->out, SBOM_BUNDLE_SUFFIX, &bundle_path) < 0)
            return log_errno(-ENOMEM, "cannot name the bundle");
        res.bundle_path = a->bundle ? a->bundle : bundle_path;
        if (streq(res.bundle_path, a->out))
            return log_usage("sbom", "the bundle would overwrite the SBOM '%s'", a->out);
    }
    r = collect(a, s);
    if (r != CLI_EXIT_OK)
        return r;
    print_warnings(s);
    if ((r = sbom_uuid_new(serial)) < 0)
        return log_errno(r, "cannot make a serial number");

    {
        const struct sbom_doc_info info = {.serial = serial,
                                           .timestamp = ts,
                                           .name = SBOM_DOC_NAME,
                                           .tool_version = HWSIGN_VERSION};
        char *grown;

        r = write_doc(a->format, s, &info, &doc, &doc_len);
        if (r < 0)
            return log_errno(r, "cannot write the SBOM");
        /* The file ends with a newline; its bytes are what the signature names. */
        grown = realloc(doc, doc_len + 2);
        if (!grown)
            return log_errno(-ENOMEM, "cannot write the SBOM");
        doc = grown;
        doc[doc_len++] = '\n';
        doc[doc_len] = '\0';
        r = write_output(to_stdout(a) ? NULL : a->out, doc, doc_len);
        if (r < 0)
            return log_errno(r, "cannot write the SBOM to %s",
                             to_stdout(a) ? "standard output" : a->out);
        if (a->key) {
            r = sign_sbom(a, ctx, s, &info, doc, doc_len, &res);
            if (r != CLI_EXIT_OK) {
                free(res.hint);
                return r;
            }
        }
    }

    if (a->json) {
        r = print_json_summary(a, s, serial, &res);
        if (r < 0) {
            free(res.hint);
            return log_errno(r, "cannot print the result");
        }
    } else if (!to_stdout(a)) {
        printf("Wrote %s SBOM to %s: %zu Debian, %zu Python, %zu npm packages, %zu artifact%s, "
               "%zu model%s\n",
               a->format == SBOM_FORMAT_SPDX ? "SPDX 2.3" : "CycloneDX 1.6", a->out,
               sbom_count_kind(s, SBOM_KIND_DEB), sbom_count_kind(s, SBOM_KIND_PYPI),
               sbom_count_kind(s, SBOM_KIND_NPM), sbom_count_kind(s, SBOM_KIND_FILE),
               sbom_count_kind(s, SBOM_KIND_FILE) == 1 ? "" : "s",
               sbom_count_kind(s, SBOM_KIND_MODEL),
               sbom_count_kind(s, SBOM_KIND_MODEL) == 1 ? "" : "s");
        if (a->key)
            printf("Signed with key '%s': bundle %s (predicate type %s, %s)\n", a->key,
                   res.bundle_path, sbom_format_predicate_type(a->format),
                   res.reference ? "a reference SBOM linking the full one" : "the SBOM itself");
        if (a->key && res.log_index != HWSIGN_LOG_INDEX_NONE)
            printf("Logged as record %llu of the agent's signing log\n",
                   (unsigned long long)res.log_index);
    }
    free(res.hint);
    return CLI_EXIT_OK;
}

/* Appends optarg to a list bounded by argc (one entry per remaining argument at most). */
static int push(const char **list, size_t *n, const char *arg, const char *what)
{
    if (!*arg)
        return log_usage("sbom", "%s needs a value", what);
    list[(*n)++] = arg;
    return CLI_EXIT_OK;
}

int cmd_sbom(int argc, char *argv[], const struct cli_context *ctx)
{
    enum { ARG_JSON = 0x100, ARG_NO_LOG_ENTRY, ARG_SITE, ARG_NODE };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"format", required_argument, NULL, 'f'},
            {"root", required_argument, NULL, 'r'},
            {"model", required_argument, NULL, 'm'},
            {"artifact", required_argument, NULL, 'a'},
            {"site-packages", required_argument, NULL, ARG_SITE},
            {"node-modules", required_argument, NULL, ARG_NODE},
            {"output", required_argument, NULL, 'o'},
            {"key", required_argument, NULL, 'k'},
            {"bundle", required_argument, NULL, 'b'},
            {"no-log-entry", no_argument, NULL, ARG_NO_LOG_ENTRY},
            {"json", no_argument, NULL, ARG_JSON},
            {},
    };
    _cleanup_free_ const char **lists = NULL, **names = NULL;
    _cleanup_free_ char **model_names = NULL;
    struct sbom_args a = {.format = SBOM_FORMAT_CYCLONEDX};
    size_t n_names = 0, cap = (size_t)argc;
    int c, r = CLI_EXIT_OK;

    /* Four lists, each bounded by argc. */
    lists = calloc(4 * cap + 1, sizeof(*lists));
    names = calloc(cap + 2, sizeof(*names));
    model_names = calloc(cap + 1, sizeof(*model_names));
    if (!lists || !names || !model_names)
        return log_errno(-ENOMEM, "cannot parse the arguments");
    a.artifacts = lists;
    a.models = lists + cap;
    a.site_dirs = lists + 2 * cap;
    a.npm_dirs = lists + 3 * cap;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":hf:r:m:a:o:k:b:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            sbom_usage(stdout);
            return CLI_EXIT_OK;
        case 'f':
            if (streq(optarg, "cyclonedx"))
                a.format = SBOM_FORMAT_CYCLONEDX;
            else if (streq(optarg, "spdx"))
                a.format = SBOM_FORMAT_SPDX;
            else
                return log_usage("sbom", "unknown --format '%s' (cyclonedx or spdx)", optarg);
            break;
        case 'r':
            if (!*optarg)
                return log_usage("sbom", "--root needs a directory");
            a.root = optarg;
            break;
        case 'm':
            r = push(a.models, &a.n_models, optarg, "--model");
            break;
        case 'a':
            r = push(a.artifacts, &a.n_artifacts, optarg, "--artifact");
            break;
        case ARG_SITE:
            r = push(a.site_dirs, &a.n_site_dirs, optarg, "--site-packages");
            break;
        case ARG_NODE:
            r = push(a.npm_dirs, &a.n_npm_dirs, optarg, "--node-modules");
            break;
        case 'o':
            a.out = optarg;
            break;
        case 'k':
            a.key = optarg;
            break;
        case 'b':
            a.bundle = optarg;
            break;
        case ARG_NO_LOG_ENTRY:
            a.no_log_entry = true;
            break;
        case ARG_JSON:
            a.json = true;
            break;
        default:
            return log_bad_option("sbom", c, argv);
        }
        if (r != CLI_EXIT_OK)
            return r;
    }
    if (optind < argc)
        return log_usage("sbom", "unexpected argument '%s' (artifacts need --artifact)",
                         argv[optind]);
    if (a.n_site_dirs > SBOM_MAX_ROOTS || a.n_npm_dirs > SBOM_MAX_ROOTS)
        return log_usage("sbom", "too many --site-packages or --node-modules (at most %u each)",
                         SBOM_MAX_ROOTS);

    /* Subject names, for the uniqueness check. */
    for (size_t i = 0; i < a.n_artifacts; i++)
        names[n_names++] = base_name(a.artifacts[i]);
    for (size_t i = 0; i < a.n_models; i++) {
        r = model_name(a.models[i], &model_names[i]);
        if (r == -EINVAL) {
            r = log_usage("sbom", "--model '%s' does not name a directory", a.models[i]);
            goto out;
        }
        if (r < 0) {
            r = log_errno(r, "cannot parse the arguments");
            goto out;
        }
        names[n_names++] = model_names[i];
    }
    if (a.key && !to_stdout(&a))
        names[n_names++] = base_name(a.out);
    r = sbom_check_args(&a, names, n_names);
    if (r == CLI_EXIT_OK)
        r = run_sbom(&a, ctx);
out:
    for (size_t i = 0; i < a.n_models; i++)
        free(model_names[i]);
    return r;
}

int sbom_verify_check(const struct intoto_statement *st, const char *sbom_path,
                      const char *file_path, const uint8_t *file_sha256,
                      struct sbom_verify_result *res, char *err, size_t err_size)
{
    _cleanup_(sbom_doc_freep) struct sbom_doc *d = NULL;
    _cleanup_free_ uint8_t *text = NULL;
    const char *type, *fname;
    uint8_t digest[32];
    size_t len = 0, idx = 0;
    int r;

    if (!st) {
        format_message(err, err_size,
                       "--sbom needs an attestation bundle (dsseEnvelope), not a signature");
        return CLI_EXIT_REFUSED;
    }
    type = intoto_statement_predicate_type(st);
    if (!streq(type, SBOM_PREDICATE_CYCLONEDX) && !streq(type, SBOM_PREDICATE_SPDX)) {
        format_message(err, err_size, "the bundle is not an SBOM attestation (predicate type %s)",
                       PRINTABLE(type));
        return CLI_EXIT_REFUSED;
    }
    r = read_input_bounded(sbom_path, SBOM_MAX_DOCUMENT, &text, &len);
    if (r == -EFBIG)
        return log_error(CLI_EXIT_ERROR, "SBOM %s is too large (over %u bytes)", sbom_path,
                         SBOM_MAX_DOCUMENT);
    if (r < 0)
        return log_errno(r, "cannot read SBOM %s", sbom_path);
    r = hash_buffer(HWSIGN_HASH_SHA256, text, len, digest, sizeof(digest));
    if (r < 0)
        return log_errno(r, "cannot hash SBOM %s", sbom_path);
    if (intoto_statement_find_sha256(st, digest, NULL) < 0) {
        format_message(err, err_size,
                       "SBOM %s is not the one the bundle signs (its SHA-256 is not among the "
                       "subjects)",
                       sbom_path);
        return CLI_EXIT_REFUSED;
    }
    /* Signed, so no longer attacker text; still parsed strictly. */
    r = sbom_doc_parse((const char *)text, len, &d);
    if (r == -ENOMEM)
        return log_errno(r, "cannot parse SBOM %s", sbom_path);
    if (r < 0 || !streq(sbom_format_predicate_type(sbom_doc_format(d)), type)) {
        format_message(err, err_size, "%s is not a %s SBOM as the predicate type says", sbom_path,
                       streq(type, SBOM_PREDICATE_SPDX) ? "SPDX" : "CycloneDX");
        return CLI_EXIT_REFUSED;
    }
    res->format = sbom_doc_format(d) == SBOM_FORMAT_SPDX ? "SPDX" : "CycloneDX";
    res->file_name[0] = '\0';
    if (!file_sha256)
        return CLI_EXIT_OK;
    if (sbom_doc_find_sha256(d, file_sha256, &idx) == 0) {
        format_message(res->file_name, sizeof(res->file_name), "%s", sbom_doc_entry_name(d, idx));
        return CLI_EXIT_OK;
    }
    fname = base_name(file_path);
    if (sbom_doc_find_name(d, fname, &idx) == 0) {
        char hex[65];

        for (size_t i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", sbom_doc_entry_sha256(d, idx)[i]);
        format_message(err, err_size, "SBOM %s records SHA-256 %s for %s, which %s does not have",
                       sbom_path, hex, PRINTABLE(fname), file_path);
    } else
        format_message(err, err_size, "the SHA-256 of %s is not recorded in SBOM %s", file_path,
                       sbom_path);
    return CLI_EXIT_REFUSED;
}
