/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign attest -- COMMAND: run a build and have the agent sign SLSA provenance for it
 * (docs/provenance.md). The CLI states what it ran and read and what came out (the claims);
 * the agent adds what it observes itself about this process and the host, signs and logs it.
 * With --quote the agent's TPM also quotes its PCRs with qualifyingData = SHA-256 of the signed
 * statement; the quote goes to OUT.quote.json beside the bundle.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>

#include "attest-inputs.h"
#include "bundle-log.h"
#include "bundle.h"
#include "cmd-attest.h"
#include "crypto.h"
#include "dsse.h"
#include "format.h"
#include "intoto.h"
#include "json.h"
#include "main.h"
#include "output.h"
#include "parse.h"
#include "quote-file.h"
#include "slsa.h"

#define ATTEST_DEFAULT_OUT "provenance.sigstore.json"

struct run_args {
    const char *key, *out, *pcrs;
    const char **materials, **products;
    size_t n_materials, n_products;
    bool quote, allow_failure, no_log_entry, json;
    char **argv; /* the command */
};

static void attest_run_usage(FILE *f)
{
    fputs("Usage: hwsign attest --key NAME [-o OUT] [--material PATH]... [--product PATH]...\n"
          "                     [--quote [--pcrs SELECTION]] [--allow-failure]\n"
          "                     [--no-log-entry] [--json] -- COMMAND [ARGS...]\n"
          "\n"
          "Run COMMAND and have the agent sign SLSA Provenance v1 for it, as an in-toto\n"
          "statement in a Sigstore bundle (dsseEnvelope) written to OUT. Claimed by this\n"
          "command: the command line, working directory and exit status, the git source of the\n"
          "working directory (commit, remote URL without credentials, dirty or not), the\n"
          "materials (resolvedDependencies) and the products (the statement's subjects), with\n"
          "start and finish times. Observed by the agent itself and recorded apart\n"
          "(internalParameters): this process's uid/gid/pid, the SHA-256 of its executable,\n"
          "its command line and cgroup/unit, host facts and the configured toolchain digests.\n"
          "A failing COMMAND produces no provenance (unless --allow-failure); its exit status\n"
          "is passed on.\n"
          "\n"
          "Options:\n"
          "  -k, --key NAME        the agent key to sign with (its policy must allow\n"
          "                        https://slsa.dev/provenance/v1)\n"
          "  -o, --output OUT      the bundle (default " ATTEST_DEFAULT_OUT ")\n"
          "  -m, --material PATH   an input, digested before COMMAND runs: a file, or every\n"
          "                        regular file below a directory (repeatable)\n"
          "  -p, --product PATH    an output, digested after COMMAND ran (repeatable; at least\n"
          "                        one)\n"
          "  --quote               also have the TPM quote its PCRs, bound to the statement:\n"
          "                        written to OUT.quote.json (verify with `hwsign verify\n"
          "                        --policy`, or tpm2_checkquote)\n"
          "  --pcrs SELECTION      PCRs to quote (default sha256:0-7)\n"
          "  --allow-failure       sign provenance for a failed COMMAND too\n"
          "  --no-log-entry        leave the signing-log entry out of the bundle\n"
          "  --json                print {bundle_file, quote_file, log_index, exit_status,\n"
          "                        subjects}\n"
          "  -h, --help            show this help\n"
          "\n"
          "Exit status: COMMAND's own status when it fails (127 not found, 126 not executable,\n"
          "128+N killed by signal N); otherwise 0 ok, 1 refused by the key's policy, 2 usage,\n"
          "3 no agent, 4 error.\n",
          f);
}

/* The claims SIGN_PROVENANCE takes (docs/provenance.md). */
static int build_claims(const char *external, const struct attest_digests *materials,
                        const struct attest_git_info *git, const struct attest_digests *products,
                        const struct attest_run_result *run, char **ret, size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *root = json_object_new_object();
    struct json_object *ext = NULL, *deps, *subs;
    int r;

    if (!root)
        return -ENOMEM;
    r = fjson_parse_object(external, strlen(external), ATTEST_MAX_EXTERNAL_PARAMS, &ext);
    if (r >= 0)
        r = fjson_add(root, "externalParameters", ext);
    deps = json_object_new_array();
    if (r >= 0)
        r = fjson_add(root, "resolvedDependencies", deps);
    for (size_t i = 0; r >= 0 && i < attest_digests_count(materials); i++) {
        const struct attest_entry *e = attest_digests_entry(materials, i);
        struct json_object *d = json_object_new_object(), *dg = json_object_new_object();
        r = fjson_append(deps, d);
        if (r >= 0)
            r = fjson_add_string(d, "name", e->name, strlen(e->name));
        if (r >= 0)
            r = fjson_add(d, "digest", dg);
        else
            json_object_put(dg);
        if (r >= 0)
            r = fjson_add_string(dg, "sha256", e->sha256_hex, 64);
    }
    if (r >= 0 && git) {
        struct slsa_dependency sd;
        struct json_object *d = json_object_new_object(), *dg = json_object_new_object();
        r = attest_git_dependency(git, &sd);
        if (r >= 0)
            r = fjson_append(deps, d);
        else
            json_object_put(d);
        if (r >= 0 && sd.uri)
            r = fjson_add_string(d, "uri", sd.uri, strlen(sd.uri));
        if (r >= 0)
            r = fjson_add(d, "digest", dg);
        else
            json_object_put(dg);
        if (r >= 0)
            r = fjson_add_string(dg, "gitCommit", sd.git_commit, strlen(sd.git_commit));
    }
    subs = json_object_new_array();
    if (r >= 0)
        r = fjson_add(root, "subjects", subs);
    for (size_t i = 0; r >= 0 && i < attest_digests_count(products); i++) {
        const struct attest_entry *e = attest_digests_entry(products, i);
        struct json_object *s = json_object_new_object(), *dg = json_object_new_object();
        r = fjson_append(subs, s);
        if (r >= 0)
            r = fjson_add_string(s, "name", e->name, strlen(e->name));
        if (r >= 0)
            r = fjson_add(s, "digest", dg);
        else
            json_object_put(dg);
        if (r >= 0)
            r = fjson_add_string(dg, "sha256", e->sha256_hex, 64);
    }
    if (r >= 0)
        r = fjson_add_string(root, "startedOn", run->started_on, strlen(run->started_on));
    if (r >= 0)
        r = fjson_add_string(root, "finishedOn", run->finished_on, strlen(run->finished_on));
    if (r < 0)
        return r;
    return fjson_serialize(root, ret, ret_len);
}

/* The agent's statement must say what we claimed: our products as subjects, SLSA. */
static int check_statement(const struct dsse_envelope *env, const struct attest_digests *products)
{
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    const uint8_t *payload;
    size_t len = 0;

    payload = dsse_envelope_payload(env, &len);
    if (intoto_statement_parse(payload, len, &st) < 0 ||
        !streq(intoto_statement_predicate_type(st), SLSA_PREDICATE_TYPE))
        return log_error(CLI_EXIT_ERROR, "the agent returned something else than SLSA provenance");
    if (intoto_statement_subject_count(st) != attest_digests_count(products))
        return log_error(CLI_EXIT_ERROR, "the agent's provenance names other subjects");
    for (size_t i = 0; i < attest_digests_count(products); i++) {
        const struct attest_entry *e = attest_digests_entry(products, i);
        size_t at = 0;
        if (intoto_statement_find_sha256(st, e->sha256, &at) < 0 ||
            !streq(intoto_statement_subject_name(st, at), e->name))
            return log_error(CLI_EXIT_ERROR, "the agent's provenance lacks subject %s", e->name);
    }
    return CLI_EXIT_OK;
}

static int digest_all(const char *what, const char **paths, size_t n, size_t max,
                      struct attest_digests **ret)
{
    int r = attest_digests_new(max, ret);
    if (r < 0)
        return log_errno(r, "cannot digest the %ss", what);
    for (size_t i = 0; i < n; i++) {
        r = attest_digests_add_path(*ret, paths[i]);
        if (r == -E2BIG)
            return log_error(CLI_EXIT_ERROR, "too many %s files (at most %zu)", what, max);
        if (r < 0)
            return log_errno(r, "cannot digest %s %s", what,
                             PRINTABLE(attest_digests_error_path(*ret)));
    }
    return CLI_EXIT_OK;
}

static int write_text(const char *path, char *text, size_t len)
{
    if (streq(path, "-")) {
        text[len] = '\n'; /* the NUL after the text becomes the newline */
        return write_output(NULL, text, len + 1);
    }
    return write_output(path, text, len);
}

static int run_attest(const struct run_args *a, const struct cli_context *ctx)
{
    _cleanup_(attest_digests_freep) struct attest_digests *materials = NULL, *products = NULL;
    _cleanup_(attest_git_info_freep) struct attest_git_info *git = NULL;
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_(dsse_envelope_freep) struct dsse_envelope *env = NULL;
    _cleanup_free_ char *external = NULL, *claims = NULL, *env_json = NULL, *hint = NULL,
                        *bundle = NULL, *quote_path = NULL;
    struct attest_run_result run;
    const uint8_t *payload, *sig;
    const char *keyid;
    size_t ext_len = 0, claims_len = 0, env_len = 0, bundle_len = 0, payload_len = 0, sig_len = 0;
    uint64_t log_index;
    int r, status;

    status = digest_all("material", a->materials, a->n_materials, ATTEST_MAX_MATERIALS, &materials);
    if (status != CLI_EXIT_OK)
        return status;
    r = attest_git_detect(".", ATTEST_GIT_TIMEOUT_MS, &git);
    if (r < 0)
        return log_errno(r, "cannot read the git work tree");

    r = attest_run(a->argv, &run);
    if (r == -ENOENT)
        return log_error(127, "%s: command not found", a->argv[0]);
    if (r == -EACCES || r == -ENOEXEC)
        return log_error(126, "%s: cannot execute: %s", a->argv[0], strerror(-r));
    if (r < 0)
        return log_errno(r, "cannot run %s", a->argv[0]);
    if (run.interrupt)
        return log_error(attest_run_shell_status(&run),
                         "interrupted: no provenance for an interrupted build");
    if ((run.signaled || run.exit_code != 0) && !a->allow_failure)
        return log_error(attest_run_shell_status(&run),
                         "%s failed (%s %d): no provenance (--allow-failure signs it anyway)",
                         a->argv[0], run.signaled ? "signal" : "exit status",
                         run.signaled ? run.signal : run.exit_code);

    status = digest_all("product", a->products, a->n_products, ATTEST_MAX_PRODUCTS, &products);
    if (status != CLI_EXIT_OK)
        return status;
    if (attest_digests_count(products) == 0)
        return log_error(CLI_EXIT_ERROR, "the products hold no regular file to attest");
    r = attest_external_parameters_build(a->argv, &run, git, &external, &ext_len);
    if (r >= 0)
        r = build_claims(external, materials, git, products, &run, &claims, &claims_len);
    if (r == -EMSGSIZE)
        return log_error(CLI_EXIT_ERROR, "the provenance claims exceed %u bytes",
                         HWSIGN_MAX_CLAIMS);
    if (r < 0)
        return log_errno(r, "cannot build the provenance claims");

    /* Connect only now: a build can outlast the agent's idle timeout. */
    status = cli_connect(ctx, &client);
    if (status != CLI_EXIT_OK)
        return status;
    r = hwsign_sign_provenance(client, a->key, claims, claims_len, &env_json, &env_len);
    if (r < 0)
        return log_agent_error(client, r, "the agent did not sign provenance with key '%s'",
                               a->key);
    log_index = hwsign_last_log_index(client);
    r = dsse_envelope_decode(env_json, env_len, &env);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "the agent returned a malformed DSSE envelope: %s",
                         strerror(-r));
    status = attest_check_envelope(client, a->key, env, NULL, 0, &hint);
    if (status == CLI_EXIT_OK)
        status = check_statement(env, products);
    if (status != CLI_EXIT_OK)
        return status;
    payload = dsse_envelope_payload(env, &payload_len);
    r = dsse_envelope_signature(env, 0, &sig, &sig_len, &keyid);
    if (r >= 0)
        r = bundle_encode_dsse(hint, INTOTO_PAYLOAD_TYPE, payload, payload_len, sig, sig_len,
                               &bundle, &bundle_len);
    if (r < 0)
        return log_errno(r, "cannot encode the bundle");
    if (!a->no_log_entry) {
        bool attached;
        status = bundle_log_attach(client, &bundle, &bundle_len, &attached);
        if (status != CLI_EXIT_OK)
            return status;
    }
    if (a->quote) {
        r = str_join(a->out, QUOTE_FILE_SUFFIX, &quote_path);
        if (r < 0)
            return log_errno(r, "cannot name the quote file");
        status = quote_file_fetch(client, payload, payload_len, a->pcrs, quote_path);
        if (status != CLI_EXIT_OK)
            return status;
    }
    r = write_text(a->out, bundle, bundle_len);
    if (r < 0)
        return log_errno(r, "cannot write the bundle to %s", a->out);

    if (a->json) {
        _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
        struct json_object *subs = json_object_new_array();
        if (!o || !subs || json_add_string(o, "bundle_file", a->out) < 0 ||
            json_add_string(o, "quote_file", quote_path) < 0 ||
            (log_index != HWSIGN_LOG_INDEX_NONE && json_add_u64(o, "log_index", log_index) < 0) ||
            json_add_u64(o, "exit_status", (uint64_t)attest_run_shell_status(&run)) < 0 ||
            json_object_object_add(o, "subjects", subs) < 0) {
            json_object_put(subs);
            return log_errno(-ENOMEM, "cannot print the result");
        }
        for (size_t i = 0; i < attest_digests_count(products); i++) {
            const struct attest_entry *e = attest_digests_entry(products, i);
            struct json_object *s = json_object_new_object();
            if (!s || json_object_array_add(subs, s) < 0 ||
                json_add_string(s, "name", e->name) < 0 ||
                json_add_string(s, "sha256", e->sha256_hex) < 0)
                return log_errno(-ENOMEM, "cannot print the result");
        }
        if (json_print(o) < 0)
            return log_errno(-EIO, "cannot print the result");
    } else if (!streq(a->out, "-")) {
        fprintf(stderr, "hwsign: wrote provenance for %zu product(s) to %s%s%s\n",
                attest_digests_count(products), a->out, quote_path ? ", quote to " : "",
                quote_path ? quote_path : "");
        if (log_index != HWSIGN_LOG_INDEX_NONE)
            fprintf(stderr, "hwsign: logged as record %llu of the agent's signing log\n",
                    (unsigned long long)log_index);
    }
    return a->allow_failure ? attest_run_shell_status(&run) : CLI_EXIT_OK;
}

int cmd_attest(int argc, char *argv[], const struct cli_context *ctx)
{
    enum { ARG_QUOTE = 0x100, ARG_PCRS, ARG_ALLOW_FAILURE, ARG_NO_LOG_ENTRY, ARG_JSON };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"key", required_argument, NULL, 'k'},
            {"output", required_argument, NULL, 'o'},
            {"material", required_argument, NULL, 'm'},
            {"product", required_argument, NULL, 'p'},
            {"quote", no_argument, NULL, ARG_QUOTE},
            {"pcrs", required_argument, NULL, ARG_PCRS},
            {"allow-failure", no_argument, NULL, ARG_ALLOW_FAILURE},
            {"no-log-entry", no_argument, NULL, ARG_NO_LOG_ENTRY},
            {"json", no_argument, NULL, ARG_JSON},
            {},
    };
    _cleanup_free_ const char **materials = calloc((size_t)argc, sizeof(char *));
    _cleanup_free_ const char **products = calloc((size_t)argc, sizeof(char *));
    struct run_args a = {.out = ATTEST_DEFAULT_OUT};
    int c;

    if (!materials || !products)
        return log_errno(-ENOMEM, "cannot parse the arguments");
    a.materials = materials;
    a.products = products;
    optind = 0;
    /* "+": stop at the first non-option, so COMMAND's own options stay its own. */
    while ((c = getopt_long(argc, argv, "+:hk:o:m:p:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            attest_run_usage(stdout);
            return CLI_EXIT_OK;
        case 'k':
            a.key = optarg;
            break;
        case 'o':
            a.out = optarg;
            break;
        case 'm':
            a.materials[a.n_materials++] = optarg;
            break;
        case 'p':
            a.products[a.n_products++] = optarg;
            break;
        case ARG_QUOTE:
            a.quote = true;
            break;
        case ARG_PCRS:
            a.pcrs = optarg;
            break;
        case ARG_ALLOW_FAILURE:
            a.allow_failure = true;
            break;
        case ARG_NO_LOG_ENTRY:
            a.no_log_entry = true;
            break;
        case ARG_JSON:
            a.json = true;
            break;
        default:
            return log_bad_option("attest", c, argv);
        }
    }
    if (!a.key || !name_is_valid(a.key))
        return log_usage("attest", a.key ? "invalid key name '%s'" : "missing --key NAME%s",
                         a.key ? a.key : "");
    if (a.n_products == 0)
        return log_usage("attest", "missing --product PATH (what the build makes)");
    if (!*a.out)
        return log_usage("attest", "-o needs a file name");
    if (a.pcrs && !a.quote)
        return log_usage("attest", "--pcrs needs --quote");
    if (a.quote && streq(a.out, "-"))
        return log_usage("attest", "--quote needs -o FILE (the quote goes to FILE.quote.json)");
    if (a.json && streq(a.out, "-"))
        return log_usage("attest", "--json cannot be combined with -o -");
    if (optind >= argc)
        return log_usage("attest", "missing -- COMMAND [ARGS...]");
    a.argv = argv + optind;
    return run_attest(&a, ctx);
}
