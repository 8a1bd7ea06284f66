/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign attest-blob: the counterpart of `cosign attest-blob --key`. Hash the subject files
 * locally, build an in-toto Statement v1 around a predicate, have the agent sign it (the agent
 * parses the statement, applies the key's predicate-type policy and signs the DSSE PAE), check
 * the envelope it returns and write it as a Sigstore bundle v0.3 (dsseEnvelope).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bundle-log.h"
#include "cmd-attest.h"
#include "bundle.h"
#include "crypto-cleanup.h"
#include "crypto.h"
#include "dsse.h"
#include "format.h"
#include "intoto.h"
#include "json.h"
#include "main.h"
#include "output.h"
#include "parse.h"

struct attest_args {
    const char *key;
    const char *type;
    const char *predicate; /* path, "-" = stdin */
    const char *out;
    const char **subjects; /* paths */
    size_t n_subjects;
    bool json;
    bool no_log_entry;  /* --no-log-entry */
    uint64_t log_index; /* set after signing */
};

static void attest_usage(FILE *f)
{
    fputs("Usage: hwsign attest-blob --key NAME --type PREDICATE_TYPE --predicate FILE.json\n"
          "                          --subject FILE [--subject FILE...] -o OUT [--no-log-entry]\n"
          "                          [--json]\n"
          "\n"
          "Attest files with key NAME, as `cosign attest-blob --key` does: build an in-toto\n"
          "Statement v1 whose subjects are the files (name = the file's base name, digest =\n"
          "its SHA-256, hashed locally) and whose predicate is the JSON object in FILE.json,\n"
          "have the agent sign it as a DSSE envelope (payloadType application/vnd.in-toto+json)\n"
          "and write a Sigstore bundle v0.3 (dsseEnvelope, key-based) to OUT, with the\n"
          "signature's signing-log entry in tlogEntries when the agent has a log key (see\n"
          "`hwsign sign --help`; --no-log-entry leaves it out). The agent refuses predicate\n"
          "types the key's policy does not allow (allow-predicate-types). The bundle verifies\n"
          "with `hwsign verify --bundle` and @sigstore/verify (and, with --no-log-entry,\n"
          "`cosign verify-blob-attestation --key --insecure-ignore-tlog`).\n"
          "\n"
          "Options:\n"
          "  -k, --key NAME              the agent key to sign with (required)\n"
          "  -t, --type PREDICATE_TYPE   predicate type URI, e.g. https://slsa.dev/provenance/v1\n"
          "                              (required)\n"
          "  -p, --predicate FILE.json   the predicate, a JSON object; \"-\" reads standard input\n"
          "                              (required)\n"
          "  -s, --subject FILE          a file the statement is about (required, repeatable)\n"
          "  -o, --output OUT            where to write the bundle (replaced atomically, mode\n"
          "                              0644); \"-\" prints it on stdout (required)\n"
          "  --no-log-entry              do not put the signing-log entry into the bundle\n"
          "  --json                      print a JSON object: key, keyid, predicate_type,\n"
          "                              bundle_file, subjects [{name, sha256}] (not with -o -)\n"
          "  -h, --help                  show this help\n"
          "\n"
          "Exit status: 0 written; 1 the agent refused (policy); 2 usage error; 3 agent or\n"
          "hardware unavailable; 4 unreadable or invalid predicate or subject file, no such\n"
          "key, other errors.\n",
          f);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* Usage checks that need no I/O. Returns an exit status. */
static int attest_check_args(const struct attest_args *a)
{
    int r;

    if (!a->key)
        return log_usage("attest-blob", "missing --key NAME");
    if (!name_is_valid(a->key))
        return log_usage("attest-blob", "invalid key name '%s'", a->key);
    if (!a->type)
        return log_usage("attest-blob", "missing --type PREDICATE_TYPE");
    r = intoto_type_uri_check(a->type, strlen(a->type));
    if (r < 0)
        return log_usage("attest-blob",
                         "invalid predicate type '%s': need a URI with a lower-case scheme and "
                         "authority, e.g. https://slsa.dev/provenance/v1",
                         a->type);
    if (!a->predicate || !*a->predicate)
        return log_usage("attest-blob", "missing --predicate FILE.json");
    if (a->n_subjects == 0)
        return log_usage("attest-blob", "missing --subject FILE");
    if (!a->out || !*a->out)
        return log_usage("attest-blob", "missing -o OUT");
    if (a->json && streq(a->out, "-"))
        return log_usage("attest-blob", "--json cannot be combined with -o -");
    for (size_t i = 0; i < a->n_subjects; i++) {
        const char *s = a->subjects[i], *name = base_name(s);

        if (streq(s, "-"))
            return log_usage("attest-blob", "--subject must name a file, not standard input");
        if (!*name || streq(name, ".") || streq(name, ".."))
            return log_usage("attest-blob", "--subject '%s' does not name a file", s);
        if (streq(s, a->out))
            return log_usage("attest-blob", "the bundle would overwrite subject '%s'", s);
        for (size_t j = 0; j < i; j++)
            if (streq(name, base_name(a->subjects[j])))
                return log_usage("attest-blob",
                                 "two subjects named '%s': subject names must be unique", name);
    }
    if (streq(a->predicate, a->out))
        return log_usage("attest-blob", "the bundle would overwrite the predicate '%s'",
                         a->predicate);
    return CLI_EXIT_OK;
}

/* Predicate file -> validated JSON text (a strict JSON object). Returns an exit status. */
static int read_predicate(const char *path, uint8_t **ret, size_t *ret_len)
{
    _cleanup_(fjson_putp) struct json_object *obj = NULL;
    _cleanup_free_ uint8_t *buf = NULL;
    const char *what = streq(path, "-") ? "standard input" : path;
    size_t len = 0;
    int r;

    r = read_input_bounded(path, INTOTO_MAX_STATEMENT, &buf, &len);
    if (r == -EFBIG)
        return log_error(CLI_EXIT_ERROR, "predicate %s is too large (over %u bytes)", what,
                         INTOTO_MAX_STATEMENT);
    if (r < 0)
        return log_errno(r, "cannot read predicate %s", what);
    r = fjson_parse_object((const char *)buf, len, INTOTO_MAX_STATEMENT, &obj);
    if (r == -ENOMEM)
        return log_errno(r, "cannot parse predicate %s", what);
    if (r == -EMSGSIZE)
        return log_error(CLI_EXIT_ERROR,
                         "predicate %s holds too many JSON values: parsing it would take over "
                         "%u MiB (FORMAT_MAX_JSON_COST)",
                         what, FORMAT_MAX_JSON_COST / (1024u * 1024u));
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "predicate %s is not a JSON object (strict RFC 8259)",
                         what);
    *ret = TAKE_PTR(buf);
    *ret_len = len;
    return CLI_EXIT_OK;
}

int attest_sign_statement(struct hwsign_client *client, const char *key, const char *stmt,
                          size_t stmt_len, const char *what, struct dsse_envelope **ret_env,
                          char **ret_hint)
{
    _cleanup_(dsse_envelope_freep) struct dsse_envelope *env = NULL;
    _cleanup_free_ char *env_json = NULL;
    size_t env_len = 0;
    int r;

    r = hwsign_sign_statement(client, key, INTOTO_PAYLOAD_TYPE, (const uint8_t *)stmt, stmt_len,
                              &env_json, &env_len);
    if (r < 0)
        return log_agent_error(client, r, "signing %s with key '%s' failed", what, key);
    r = dsse_envelope_decode(env_json, env_len, &env);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "the agent returned a malformed DSSE envelope: %s",
                         strerror(-r));
    r = attest_check_envelope(client, key, env, stmt, stmt_len, ret_hint);
    if (r != CLI_EXIT_OK)
        return r;
    *ret_env = TAKE_PTR(env);
    return CLI_EXIT_OK;
}

/*
 * The agent's reply must be an envelope over exactly the statement we sent, with one signature
 * that verifies with the key's public key and a keyid equal to its hint. Returns an exit status.
 */
int attest_check_envelope(struct hwsign_client *client, const char *key,
                          const struct dsse_envelope *env, const char *stmt, size_t stmt_len,
                          char **ret_hint)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
    _cleanup_free_ uint8_t *spki = NULL;
    _cleanup_free_ char *hint = NULL;
    const uint8_t *payload, *sig;
    const char *keyid;
    size_t spki_len = 0, payload_len = 0, sig_len = 0;
    int r;

    payload = dsse_envelope_payload(env, &payload_len);
    if (!streq(dsse_envelope_payload_type(env), INTOTO_PAYLOAD_TYPE) ||
        (stmt && (payload_len != stmt_len || memcmp(payload, stmt, stmt_len) != 0)) ||
        dsse_envelope_n_signatures(env) != 1 ||
        dsse_envelope_signature(env, 0, &sig, &sig_len, &keyid) < 0)
        return log_error(CLI_EXIT_ERROR, "the agent returned an envelope over another payload");

    r = hwsign_get_public_key(client, key, &spki, &spki_len);
    if (r < 0)
        return log_agent_error(client, r, "cannot get the public key of '%s'", key);
    r = spki_parse(spki, spki_len, &pkey);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "the agent returned an unusable public key for '%s'", key);
    r = dsse_envelope_verify(env, pkey, NULL);
    if (r == -ENOMEM)
        return log_errno(r, "cannot verify the envelope");
    if (r < 0)
        return log_error(CLI_EXIT_ERROR,
                         "the agent's envelope does not verify with the public key of '%s'", key);
    r = bundle_hint_from_spki(spki, spki_len, &hint);
    if (r < 0)
        return log_errno(r, "cannot compute the key hint");
    if (!streq(hint, keyid))
        return log_error(CLI_EXIT_ERROR, "the agent's envelope has keyid '%s', expected '%s'",
                         PRINTABLE(keyid), hint);
    *ret_hint = TAKE_PTR(hint);
    return CLI_EXIT_OK;
}

static int print_attest_json(const struct attest_args *a, const char *hint,
                             const struct intoto_subject *subjects)
{
    _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
    _cleanup_(json_object_putp) struct json_object *arr = json_object_new_array();
    int r;

    if (!o || !arr)
        return -ENOMEM;
    for (size_t i = 0; i < a->n_subjects; i++) {
        _cleanup_(json_object_putp) struct json_object *s = json_object_new_object();
        _cleanup_free_ char *hex = NULL;

        if (!s)
            return -ENOMEM;
        if ((r = hex_encode(subjects[i].sha256, 32, &hex)) < 0 ||
            (r = json_add_string(s, "name", subjects[i].name)) < 0 ||
            (r = json_add_string(s, "file", a->subjects[i])) < 0 ||
            (r = json_add_string(s, "sha256", hex)) < 0)
            return r;
        if (json_object_array_add(arr, s) < 0)
            return -ENOMEM;
        s = NULL;
    }
    if ((r = json_add_string(o, "key", a->key)) < 0 ||
        (r = json_add_string(o, "keyid", hint)) < 0 ||
        (r = json_add_string(o, "predicate_type", a->type)) < 0 ||
        (r = json_add_string(o, "bundle_file", a->out)) < 0 ||
        (r = json_add(o, "subjects", TAKE_PTR(arr))) < 0)
        return r;
    if (a->log_index != HWSIGN_LOG_INDEX_NONE &&
        (r = json_add_u64(o, "log_index", a->log_index)) < 0)
        return r;
    return json_print(o);
}

static int attest(const struct attest_args *a, const struct cli_context *ctx)
{
    _cleanup_(hwsign_disconnectp) struct hwsign_client *client = NULL;
    _cleanup_(dsse_envelope_freep) struct dsse_envelope *env = NULL;
    _cleanup_free_ struct intoto_subject *subjects = NULL;
    _cleanup_free_ uint8_t *predicate = NULL;
    _cleanup_free_ char *stmt = NULL, *hint = NULL, *bundle = NULL;
    size_t predicate_len = 0, stmt_len = 0, bundle_len = 0, payload_len = 0, sig_len;
    const uint8_t *payload, *sig;
    const char *keyid;
    uint64_t log_index = HWSIGN_LOG_INDEX_NONE;
    int r;

    r = read_predicate(a->predicate, &predicate, &predicate_len);
    if (r != CLI_EXIT_OK)
        return r;
    subjects = calloc(a->n_subjects, sizeof(*subjects));
    if (!subjects)
        return log_errno(-ENOMEM, "cannot hash the subjects");
    /* Hash before connecting: hashing large files can outlast the agent's idle timeout. */
    for (size_t i = 0; i < a->n_subjects; i++) {
        subjects[i].name = base_name(a->subjects[i]);
        r = hash_input_sha256(a->subjects[i], subjects[i].sha256);
        if (r < 0)
            return log_errno(r, "cannot read subject %s", a->subjects[i]);
    }
    r = intoto_statement_build(subjects, a->n_subjects, a->type, (const char *)predicate,
                               predicate_len, &stmt, &stmt_len);
    if (r == -EMSGSIZE)
        return log_error(CLI_EXIT_ERROR,
                         "the statement would exceed a limit (at most %u bytes, "
                         "%u subjects, names of %u bytes)",
                         INTOTO_MAX_STATEMENT, INTOTO_MAX_SUBJECTS, INTOTO_MAX_NAME);
    if (r < 0)
        return log_errno(r, "cannot build the in-toto statement");

    r = cli_connect(ctx, &client);
    if (r != CLI_EXIT_OK)
        return r;
    r = attest_sign_statement(client, a->key, stmt, stmt_len, "the attestation", &env, &hint);
    if (r != CLI_EXIT_OK)
        return r;
    log_index = hwsign_last_log_index(client);

    payload = dsse_envelope_payload(env, &payload_len);
    r = dsse_envelope_signature(env, 0, &sig, &sig_len, &keyid);
    if (r >= 0)
        r = bundle_encode_dsse(hint, dsse_envelope_payload_type(env), payload, payload_len, sig,
                               sig_len, &bundle, &bundle_len);
    if (r < 0)
        return log_errno(r, "cannot encode the bundle");
    if (!a->no_log_entry) {
        bool attached;
        r = bundle_log_attach(client, &bundle, &bundle_len, &attached);
        if (r != CLI_EXIT_OK)
            return r;
    }
    if (streq(a->out, "-")) {
        bundle[bundle_len] = '\n'; /* the NUL after the text becomes the newline */
        r = write_output(NULL, bundle, bundle_len + 1);
    } else
        r = write_output(a->out, bundle, bundle_len);
    if (r < 0)
        return log_errno(r, "cannot write the bundle to %s",
                         streq(a->out, "-") ? "standard output" : a->out);

    if (a->json) {
        struct attest_args with_index = *a;
        with_index.log_index = log_index;
        r = print_attest_json(&with_index, hint, subjects);
        if (r < 0)
            return log_errno(r, "cannot print the result");
    } else if (!streq(a->out, "-"))
        printf("Wrote attestation bundle to %s (%zu subject%s, predicate type %s)\n", a->out,
               a->n_subjects, a->n_subjects == 1 ? "" : "s", a->type);
    if (!a->json && !streq(a->out, "-") && log_index != HWSIGN_LOG_INDEX_NONE)
        printf("Logged as record %llu of the agent's signing log\n", (unsigned long long)log_index);
    return CLI_EXIT_OK;
}

int cmd_attest_blob(int argc, char *argv[], const struct cli_context *ctx)
{
    enum { ARG_JSON = 0x100, ARG_NO_LOG_ENTRY };
    static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"key", required_argument, NULL, 'k'},
            {"type", required_argument, NULL, 't'},
            {"predicate", required_argument, NULL, 'p'},
            {"subject", required_argument, NULL, 's'},
            {"output", required_argument, NULL, 'o'},
            {"json", no_argument, NULL, ARG_JSON},
            {"no-log-entry", no_argument, NULL, ARG_NO_LOG_ENTRY},
            {},
    };
    _cleanup_free_ const char **subjects = NULL;
    struct attest_args a = {};
    int c, r;

    /* At most one subject per remaining argument: argc bounds the array. */
    subjects = calloc((size_t)argc, sizeof(*subjects));
    if (!subjects)
        return log_errno(-ENOMEM, "cannot parse the arguments");
    a.subjects = subjects;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":hk:t:p:s:o:", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            attest_usage(stdout);
            return CLI_EXIT_OK;
        case 'k':
            a.key = optarg;
            break;
        case 't':
            a.type = optarg;
            break;
        case 'p':
            a.predicate = optarg;
            break;
        case 's':
            if (!*optarg)
                return log_usage("attest-blob", "--subject needs a file name");
            if (a.n_subjects >= INTOTO_MAX_SUBJECTS)
                return log_usage("attest-blob", "too many subjects (at most %u)",
                                 INTOTO_MAX_SUBJECTS);
            subjects[a.n_subjects++] = optarg;
            break;
        case 'o':
            a.out = optarg;
            break;
        case ARG_JSON:
            a.json = true;
            break;
        case ARG_NO_LOG_ENTRY:
            a.no_log_entry = true;
            break;
        default:
            return log_bad_option("attest-blob", c, argv);
        }
    }
    if (optind < argc)
        return log_usage("attest-blob", "unexpected argument '%s' (subjects need --subject)",
                         argv[optind]);
    r = attest_check_args(&a);
    if (r != CLI_EXIT_OK)
        return r;
    return attest(&a, ctx);
}
