/* SPDX-License-Identifier: Apache-2.0 */
/* hwsign verify --policy (see verify-policy.h). */
#define _GNU_SOURCE
#include "verify-policy.h"

#include <errno.h>
#include <stdarg.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>

#include "crypto.h"
#include "format.h"
#include "json.h"
#include "macro.h"
#include "main.h"
#include "output.h"
#include "quote-file.h"
#include "slsa.h"
#include "tpm-attest.h"

static const struct fjson_field policy_fields[] = {
        {"builderId", FJSON_STRING, false},        {"buildType", FJSON_STRING, false},
        {"sourceRepository", FJSON_STRING, false}, {"sourceCommit", FJSON_STRING, false},
        {"allowedCommands", FJSON_ARRAY, false},   {"observedExecutables", FJSON_ARRAY, false},
        {"subjects", FJSON_ARRAY, false},          {"quote", FJSON_OBJECT, false},
};
static const struct fjson_field quote_fields[] = {
        {"ak", FJSON_STRING, true},
        {"pcrs", FJSON_ARRAY, false},
};

struct policy_ctx {
    const char *path;
    bool quiet;
    size_t satisfied;
};

_printf_(2, 3) static void ok(struct policy_ctx *p, const char *fmt, ...)
{
    va_list ap;

    p->satisfied++;
    if (p->quiet)
        return;
    fputs("Policy: ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

/* Element i of a string array (already checked to be an array), or NULL if not a string. */
static const char *str_at(const struct json_object *arr, size_t i)
{
    struct json_object *v = json_object_array_get_idx(arr, i);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A string-array policy member: -EINVAL for non-strings or an empty list. */
static int get_list(const struct json_object *pol, const char *key, struct json_object **ret,
                    size_t *ret_n)
{
    int r = fjson_get_array(pol, key, POLICY_MAX_LIST, ret, ret_n);
    if (r < 0)
        return r;
    if (*ret_n == 0)
        return -EINVAL;
    for (size_t i = 0; i < *ret_n; i++)
        if (!str_at(*ret, i))
            return -EINVAL;
    return 0;
}

static int malformed(struct policy_ctx *p, const char *what)
{
    return log_error(CLI_EXIT_ERROR, "policy %s: %s", p->path, what);
}

static int check_source(struct policy_ctx *p, const struct json_object *pol,
                        const struct slsa_provenance *prov)
{
    const char *repo = NULL, *commit = NULL;
    size_t rlen = 0;

    (void)fjson_get_string(pol, "sourceRepository", 4096, &repo, &rlen);
    (void)fjson_get_string(pol, "sourceCommit", 64, &commit, NULL);
    if (!repo && !commit)
        return CLI_EXIT_OK;
    for (size_t i = 0; i < slsa_provenance_dependency_count(prov); i++) {
        const struct slsa_dependency *d = slsa_provenance_dependency(prov, i);
        if (!d->git_commit)
            continue;
        if (repo && (!d->uri || strncmp(d->uri, repo, rlen) != 0 ||
                     (d->uri[rlen] != '\0' && d->uri[rlen] != '@')))
            continue;
        if (commit && !streq(d->git_commit, commit))
            continue;
        ok(p, "source %s%s%s", repo ? repo : "(any repository)", commit ? " at " : "",
           commit ? commit : "");
        return CLI_EXIT_OK;
    }
    return log_error(
            CLI_EXIT_REFUSED, "policy: no resolved dependency is the required source%s%s%s%s",
            repo ? " " : "", repo ? repo : "", commit ? " at commit " : "", commit ? commit : "");
}

static int check_command(struct policy_ctx *p, const struct json_object *pol,
                         const struct slsa_provenance *prov)
{
    _cleanup_(fjson_putp) struct json_object *ext = NULL;
    struct json_object *allowed = NULL, *cmd = NULL;
    const char *argv0, *text = slsa_provenance_external_parameters(prov), *base;
    size_t n = 0, ncmd = 0;
    int r = get_list(pol, "allowedCommands", &allowed, &n);

    if (r == -ENOENT)
        return CLI_EXIT_OK;
    if (r < 0)
        return malformed(p, "allowedCommands must be a non-empty list of strings");
    if (!text || fjson_parse_object(text, strlen(text), SLSA_MAX_PREDICATE, &ext) < 0 ||
        fjson_get_array(ext, "command", 4096, &cmd, &ncmd) < 0 || ncmd == 0 ||
        !(argv0 = str_at(cmd, 0)))
        return log_error(CLI_EXIT_REFUSED,
                         "policy: the provenance names no command (externalParameters.command)");
    base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
    for (size_t i = 0; i < n; i++) {
        const char *a = str_at(allowed, i);
        if (streq(a, argv0) || (!strchr(a, '/') && streq(a, base))) {
            ok(p, "command %s is allowed", argv0);
            return CLI_EXIT_OK;
        }
    }
    return log_error(CLI_EXIT_REFUSED, "policy: command %s is not among allowedCommands",
                     PRINTABLE(argv0));
}

static int check_observed(struct policy_ctx *p, const struct json_object *pol,
                          const struct slsa_provenance *prov)
{
    _cleanup_(fjson_putp) struct json_object *obs = NULL;
    struct json_object *allowed = NULL, *peer = NULL, *exe = NULL;
    const char *text = slsa_provenance_internal_parameters(prov), *sha = NULL, *observer = NULL;
    size_t n = 0;
    int r = get_list(pol, "observedExecutables", &allowed, &n);

    if (r == -ENOENT)
        return CLI_EXIT_OK;
    if (r < 0)
        return malformed(p, "observedExecutables must be a non-empty list of SHA-256 hex");
    if (!text || fjson_parse_object(text, strlen(text), SLSA_MAX_PREDICATE, &obs) < 0 ||
        fjson_get_string(obs, "observer", 64, &observer, NULL) < 0 ||
        !streq(observer, "hwsign-agent") || fjson_get_object(obs, "peer", &peer) < 0 ||
        fjson_get_object(peer, "exe", &exe) < 0 ||
        fjson_get_string(exe, "sha256", 64, &sha, NULL) < 0)
        return log_error(CLI_EXIT_REFUSED,
                         "policy: the provenance holds no executable observed by hwsign-agent");
    for (size_t i = 0; i < n; i++)
        if (streq(str_at(allowed, i), sha)) {
            ok(p, "observed caller executable %s is allowed", sha);
            return CLI_EXIT_OK;
        }
    return log_error(CLI_EXIT_REFUSED,
                     "policy: the agent observed caller executable %s, not an allowed one", sha);
}

static int check_subjects(struct policy_ctx *p, const struct json_object *pol,
                          const struct intoto_statement *st)
{
    struct json_object *files = NULL;
    size_t n = 0;
    int r = get_list(pol, "subjects", &files, &n);

    if (r == -ENOENT)
        return CLI_EXIT_OK;
    if (r < 0)
        return malformed(p, "subjects must be a non-empty list of file names");
    for (size_t i = 0; i < n; i++) {
        const char *f = str_at(files, i);
        uint8_t digest[32];
        r = hash_input_sha256(f, digest);
        if (r < 0)
            return log_errno(r, "policy: cannot read subject file %s", f);
        if (intoto_statement_find_sha256(st, digest, NULL) < 0)
            return log_error(CLI_EXIT_REFUSED,
                             "policy: %s (its current content) is not a subject of the provenance",
                             f);
    }
    ok(p, "%zu file(s) match subjects", n);
    return CLI_EXIT_OK;
}

/* The AK path of the policy, relative to the policy file's directory. */
static int ak_path(const char *policy_path, const char *ak, char **ret)
{
    _cleanup_free_ char *copy = NULL;

    if (ak[0] == '/') {
        *ret = strdup(ak);
        return *ret ? 0 : -ENOMEM;
    }
    copy = strdup(policy_path);
    if (!copy)
        return -ENOMEM;
    return asprintf(ret, "%s/%s", dirname(copy), ak) < 0 ? -ENOMEM : 0;
}

static int check_quote(struct policy_ctx *p, const struct json_object *pol, const char *quote_path,
                       const uint8_t *payload, size_t payload_len)
{
    _cleanup_(quote_file_freep) struct quote_file *q = NULL;
    _cleanup_(tpm_attest_pcrs_freep) struct tpm_attest_pcrs *values = NULL;
    _cleanup_free_ uint8_t *ak = NULL;
    _cleanup_free_ char *akp = NULL;
    struct json_object *qp = NULL, *pcrs = NULL;
    const char *akrel;
    uint8_t nonce[32];
    size_t ak_len = 0, n = 0;
    int r;

    if (fjson_get_object(pol, "quote", &qp) == -ENOENT)
        return CLI_EXIT_OK;
    if (fjson_check_fields(qp, quote_fields, ELEMENTSOF(quote_fields), FJSON_UNKNOWN_REJECT) < 0 ||
        fjson_get_string(qp, "ak", 4096, &akrel, NULL) < 0)
        return malformed(p, "quote must be {\"ak\": \"AK.pem\", \"pcrs\": [\"sha256:N=HEX\"...]}");
    r = get_list(qp, "pcrs", &pcrs, &n);
    if (r < 0 && r != -ENOENT)
        return malformed(p, "quote.pcrs must be a non-empty list of \"BANK:INDEX=HEX\"");
    r = ak_path(p->path, akrel, &akp);
    if (r < 0)
        return log_errno(r, "policy: cannot name the AK file");
    r = load_public_key_file(akp, &ak, &ak_len);
    if (r != CLI_EXIT_OK)
        return r;
    r = quote_file_load(quote_path, &q);
    if (r == -ENOENT)
        return log_error(CLI_EXIT_REFUSED, "policy: a TPM quote is required and %s does not exist",
                         quote_path);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "policy: %s is not a quote file: %s", quote_path,
                         strerror(-r));
    r = hash_buffer(HWSIGN_HASH_SHA256, payload, payload_len, nonce, sizeof(nonce));
    if (r < 0)
        return log_errno(r, "cannot hash the statement");
    {
        struct tpm_attest_quote proof = {
                .attest = q->attest,
                .attest_len = q->attest_len,
                .sig = q->sig,
                .sig_len = q->sig_len,
                .sig_format = TPM_ATTEST_SIG_PLAIN,
                .ak = ak,
                .ak_len = ak_len,
        };
        r = tpm_attest_verify_quote(&proof, nonce, q->pcrs, q->pcrs_len, &values);
    }
    if (r == -ESTALE)
        return log_error(CLI_EXIT_REFUSED,
                         "policy: the quote is not bound to this statement (qualifyingData)");
    if (r == -EBADMSG)
        return log_error(CLI_EXIT_REFUSED,
                         "policy: the quote is not a TPM quote signed by the attestation key %s",
                         akp);
    if (r == -ENOKEY)
        return log_error(CLI_EXIT_REFUSED,
                         "policy: the quote's PCR values are not the quoted ones");
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "policy: cannot verify the quote: %s", strerror(-r));
    ok(p, "TPM quote signed by %s, bound to the statement", akp);
    for (size_t i = 0; i < n; i++) {
        struct tpm_attest_pcr want;
        const char *text = str_at(pcrs, i);
        if (tpm_attest_pcr_parse(text, &want) < 0)
            return malformed(p, "a quote.pcrs entry is not \"BANK:INDEX=HEX\"");
        r = tpm_attest_pcrs_expect(values, &want);
        if (r == -ENOENT)
            return log_error(CLI_EXIT_REFUSED, "policy: PCR %.*s was not quoted",
                             (int)strcspn(text, "="), text);
        if (r < 0) {
            const struct tpm_attest_pcr *got = tpm_attest_pcrs_find(values, want.bank, want.index);
            char gtext[TPM_ATTEST_PCR_TEXT_MAX] = "";
            if (got)
                (void)tpm_attest_pcr_format(got, gtext, sizeof(gtext));
            return log_error(CLI_EXIT_REFUSED, "policy: PCR mismatch: quoted %s, policy wants %s",
                             gtext, text);
        }
    }
    if (n)
        ok(p, "%zu PCR value(s) as expected", n);
    return CLI_EXIT_OK;
}

int verify_policy(const char *policy_path, const char *quote_path,
                  const struct intoto_statement *st, const uint8_t *payload, size_t payload_len,
                  bool quiet)
{
    _cleanup_(fjson_putp) struct json_object *pol = NULL;
    _cleanup_(slsa_provenance_freep) struct slsa_provenance *prov = NULL;
    _cleanup_free_ uint8_t *buf = NULL;
    struct policy_ctx p = {.path = policy_path, .quiet = quiet};
    const char *want, *pred;
    size_t len = 0;
    int r;

    r = read_input_bounded(policy_path, POLICY_MAX_FILE, &buf, &len);
    if (r < 0)
        return log_errno(r, "cannot read policy %s", policy_path);
    if (fjson_parse_object((const char *)buf, len, POLICY_MAX_FILE, &pol) < 0 ||
        fjson_check_fields(pol, policy_fields, ELEMENTSOF(policy_fields), FJSON_UNKNOWN_REJECT) < 0)
        return malformed(&p, "not a JSON object of known members (builderId, buildType, "
                             "sourceRepository, sourceCommit, allowedCommands, "
                             "observedExecutables, subjects, quote)");
    if (!streq(intoto_statement_predicate_type(st), SLSA_PREDICATE_TYPE))
        return log_error(CLI_EXIT_REFUSED, "policy: the statement is not SLSA provenance (%s)",
                         PRINTABLE(intoto_statement_predicate_type(st)));
    pred = intoto_statement_predicate(st);
    if (slsa_predicate_parse(pred, strlen(pred), &prov) < 0)
        return log_error(CLI_EXIT_REFUSED, "policy: the SLSA predicate does not parse");
    if (fjson_get_string(pol, "builderId", 4096, &want, NULL) >= 0) {
        if (!streq(want, slsa_provenance_builder_id(prov)))
            return log_error(CLI_EXIT_REFUSED, "policy: built by %s, not by %s",
                             PRINTABLE(slsa_provenance_builder_id(prov)), want);
        ok(&p, "builder %s", want);
    }
    if (fjson_get_string(pol, "buildType", 4096, &want, NULL) >= 0) {
        if (!streq(want, slsa_provenance_build_type(prov)))
            return log_error(CLI_EXIT_REFUSED, "policy: build type %s, not %s",
                             PRINTABLE(slsa_provenance_build_type(prov)), want);
        ok(&p, "build type %s", want);
    }
    if ((r = check_source(&p, pol, prov)) != CLI_EXIT_OK ||
        (r = check_command(&p, pol, prov)) != CLI_EXIT_OK ||
        (r = check_observed(&p, pol, prov)) != CLI_EXIT_OK ||
        (r = check_subjects(&p, pol, st)) != CLI_EXIT_OK ||
        (r = check_quote(&p, pol, quote_path, payload, payload_len)) != CLI_EXIT_OK)
        return r;
    if (!quiet)
        printf("Policy %s satisfied (%zu requirement%s)\n", policy_path, p.satisfied,
               p.satisfied == 1 ? "" : "s");
    return CLI_EXIT_OK;
}
