/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwsign verify --bundle (see verify-bundle.h). Everything shown about a statement (predicate
 * type, subjects) is shown only after its signature verified: before that it is attacker text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bundle-log.h"
#include "bundle.h"
#include "cmd-sbom.h"
#include "crypto-cleanup.h"
#include "crypto.h"
#include "dsse.h"
#include "format.h"
#include "intoto.h"
#include "json.h"
#include "main.h"
#include "output.h"
#include "quote-file.h"
#include "verify-bundle.h"
#include "verify-policy.h"

struct bundle_result {
    const char *kind;      /* "messageSignature", "dsseEnvelope" or "envelope" (bare DSSE) */
    const char *alg;       /* of the public key, NULL if unknown */
    char *fingerprint;     /* hex SHA-256 of the key's SPKI (our hint convention) */
    const char *hint;      /* unauthenticated: bundle hint or DSSE keyid; NULL if none */
    const uint8_t *digest; /* messageSignature: the messageDigest */
    const char *payload_type;
    struct intoto_statement *st; /* set once verified (DSSE) */
    struct bundle *b;            /* owners of the borrowed strings above */
    struct dsse_envelope *env;
    uint8_t *spki; /* of the verifying key */
    size_t spki_len;
    bool logged; /* the log entry was checked (log) */
    bool policy; /* the policy was satisfied */
    struct bundle_log_result log;
    bool sbom_ok; /* the SBOM checks passed (sbom) */
    struct sbom_verify_result sbom;
    char error[512]; /* why verification failed; "" when it succeeded */
};

static const char *input_name(const char *path)
{
    return streq(path, "-") ? "standard input" : path;
}

static int add_hex(struct json_object *o, const char *key, const uint8_t *data)
{
    _cleanup_free_ char *hex = NULL;
    int r;

    if (!data)
        return json_add_string(o, key, NULL);
    r = hex_encode(data, 32, &hex);
    if (r < 0)
        return r;
    return json_add_string(o, key, hex);
}

static int add_statement(struct json_object *o, const struct intoto_statement *st)
{
    _cleanup_(json_object_putp) struct json_object *arr = NULL, *pred = NULL;
    const char *p;
    int r;

    if (!st) {
        if ((r = json_add_string(o, "predicate_type", NULL)) < 0 ||
            (r = json_add(o, "subjects", NULL)) < 0)
            return r;
        return json_add(o, "predicate", NULL);
    }
    arr = json_object_new_array();
    if (!arr)
        return -ENOMEM;
    for (size_t i = 0; i < intoto_statement_subject_count(st); i++) {
        _cleanup_(json_object_putp) struct json_object *s = json_object_new_object();

        if (!s)
            return -ENOMEM;
        if ((r = json_add_string(s, "name", intoto_statement_subject_name(st, i))) < 0 ||
            (r = add_hex(s, "sha256", intoto_statement_subject_sha256(st, i))) < 0)
            return r;
        if (json_object_array_add(arr, s) < 0)
            return -ENOMEM;
        s = NULL;
    }
    p = intoto_statement_predicate(st);
    r = fjson_parse_object(p, strlen(p), INTOTO_MAX_STATEMENT, &pred);
    if (r < 0)
        return r;
    if ((r = json_add_string(o, "predicate_type", intoto_statement_predicate_type(st))) < 0 ||
        (r = json_add(o, "subjects", TAKE_PTR(arr))) < 0)
        return r;
    return json_add(o, "predicate", TAKE_PTR(pred));
}

/* "log": {index, tree_size, origin} when the log entry was checked, else null. */
static int add_log(struct json_object *o, const struct bundle_result *res)
{
    struct json_object *l;
    int r;

    if (!res->logged)
        return json_object_object_add(o, "log", NULL) < 0 ? -ENOMEM : 0;
    l = json_object_new_object();
    if (!l)
        return -ENOMEM;
    if ((r = json_add_u64(l, "index", res->log.index)) < 0 ||
        (r = json_add_u64(l, "tree_size", res->log.tree_size)) < 0 ||
        (r = json_add_string(l, "origin", res->log.origin)) < 0) {
        json_object_put(l);
        return r;
    }
    return json_object_object_add(o, "log", l) < 0 ? -ENOMEM : 0;
}

/* With --sbom: "sbom": {file, format, artifact} once the SBOM checks passed, else null. */
static int add_sbom(struct json_object *o, const struct verify_bundle_args *a,
                    const struct bundle_result *res)
{
    struct json_object *v;
    int r;

    if (!a->sbom_path)
        return 0;
    if (!res->sbom_ok)
        return json_add(o, "sbom", NULL);
    v = json_object_new_object();
    if (!v)
        return -ENOMEM;
    if ((r = json_add_string(v, "file", a->sbom_path)) < 0 ||
        (r = json_add_string(v, "format", res->sbom.format)) < 0 ||
        (r = json_add_string(v, "artifact", res->sbom.file_name[0] ? res->sbom.file_name : NULL)) <
                0) {
        json_object_put(v);
        return r;
    }
    return json_add(o, "sbom", v);
}

static int print_json(const struct verify_bundle_args *a, const struct bundle_result *res)
{
    _cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
    int r;

    if (!o)
        return -ENOMEM;
    if ((r = json_add_bool(o, "verified", res->error[0] == '\0')) < 0 ||
        (r = json_add_string(o, "bundle_file", a->bundle_path)) < 0 ||
        (r = json_add_string(o, "kind", res->kind)) < 0 ||
        (r = json_add_string(o, "file", a->file)) < 0 ||
        (r = json_add_string(o, "key_file", a->key_path)) < 0 ||
        (r = json_add_string(o, "key_alg", res->alg)) < 0 ||
        (r = json_add_string(o, "key_fingerprint", res->fingerprint)) < 0 ||
        (r = json_add_string(o, "hint", res->hint)) < 0 ||
        (r = json_add_bool(o, "hint_matches_key",
                           res->hint && res->fingerprint && streq(res->hint, res->fingerprint))) <
                0 ||
        (r = add_hex(o, "sha256", res->digest)) < 0 ||
        (r = json_add_string(o, "payload_type", res->payload_type)) < 0 ||
        (r = add_statement(o, res->st)) < 0 || (r = add_log(o, res)) < 0 ||
        (r = json_add_string(o, "policy", res->policy ? a->policy_path : NULL)) < 0 ||
        (r = add_sbom(o, a, res)) < 0 ||
        (r = json_add_string(o, "error", res->error[0] ? res->error : NULL)) < 0)
        return r;
    return json_print(o);
}

static void print_human(const struct verify_bundle_args *a, const struct bundle_result *res)
{
    char name[INTOTO_MAX_NAME + 1];

    printf("Verified OK\n");
    if (res->logged)
        printf("Log: record %" PRIu64 " included in checkpoint %s of size %" PRIu64
               " (signed by the log key)\n",
               res->log.index, res->log.origin, res->log.tree_size);
    if (res->policy)
        printf("Policy: satisfied\n");
    if (res->sbom_ok)
        printf("SBOM: %s is the %s SBOM the statement signs\n", a->sbom_path, res->sbom.format);
    if (res->sbom_ok && res->sbom.file_name[0])
        printf("SBOM: records the SHA-256 of %s (as %s)\n", a->file,
               PRINTABLE(res->sbom.file_name));
    if (!res->logged && res->b && bundle_n_tlog_entries(res->b) > 0)
        printf("Log: the bundle carries %zu log entr%s, not checked (give --log-key)\n",
               bundle_n_tlog_entries(res->b), bundle_n_tlog_entries(res->b) == 1 ? "y" : "ies");
    if (!res->st)
        return;
    printf("Predicate type: %s\n", PRINTABLE(intoto_statement_predicate_type(res->st)));
    for (size_t i = 0; i < intoto_statement_subject_count(res->st); i++) {
        _cleanup_free_ char *hex = NULL;

        if (hex_encode(intoto_statement_subject_sha256(res->st, i), 32, &hex) < 0)
            continue;
        printf("Subject: %s  %s\n", hex,
               printable(intoto_statement_subject_name(res->st, i), name, sizeof(name)));
    }
}

/* Maps bundle_verify's / the envelope checks' result; returns an exit status. */
static int judge(const struct verify_bundle_args *a, struct bundle_result *res, int r)
{
    if (r >= 0)
        return CLI_EXIT_OK;
    switch (r) {
    case -EBADMSG:
        format_message(res->error, sizeof(res->error),
                       "the signature in %s does not verify with key %s",
                       input_name(a->bundle_path), a->key_path);
        return CLI_EXIT_REFUSED;
    case -ENOENT:
        if (streq(res->kind, "messageSignature"))
            format_message(res->error, sizeof(res->error),
                           "%s is not the artifact the bundle signs (messageDigest differs)",
                           input_name(a->file));
        else
            format_message(res->error, sizeof(res->error),
                           "the SHA-256 of %s is not among the statement's subjects",
                           input_name(a->file));
        return CLI_EXIT_REFUSED;
    case -ENOMEM:
        return log_errno(r, "cannot verify %s", input_name(a->bundle_path));
    case -EOPNOTSUPP:
        return log_error(CLI_EXIT_ERROR, "cannot verify with key %s: unsupported key type",
                         a->key_path);
    default:
        return log_error(CLI_EXIT_ERROR,
                         "%s is validly signed but its payload is not an in-toto Statement v1 "
                         "(payloadType %s)",
                         input_name(a->bundle_path), PRINTABLE(res->payload_type));
    }
}

/* A bare DSSE envelope: the same checks bundle_verify makes for a dsseEnvelope bundle. */
static int verify_envelope(const struct verify_bundle_args *a, struct bundle_result *res,
                           const struct dsse_envelope *env, EVP_PKEY *pkey, const uint8_t *artifact)
{
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    const uint8_t *payload;
    size_t payload_len = 0, idx = 0;
    int r;

    res->payload_type = dsse_envelope_payload_type(env);
    r = dsse_envelope_verify(env, pkey, &idx);
    if (r < 0)
        return judge(a, res, r);
    (void)dsse_envelope_signature(env, idx, &(const uint8_t *){NULL}, &(size_t){0}, &res->hint);
    payload = dsse_envelope_payload(env, &payload_len);
    if (!streq(res->payload_type, INTOTO_PAYLOAD_TYPE) ||
        intoto_statement_parse(payload, payload_len, &st) < 0)
        return judge(a, res, -EINVAL);
    if (artifact && intoto_statement_find_sha256(st, artifact, NULL) < 0)
        return judge(a, res, -ENOENT);
    res->st = TAKE_PTR(st);
    return CLI_EXIT_OK;
}

static int load_key(const char *path, struct bundle_result *res, EVP_PKEY **ret)
{
    uint8_t *spki;
    enum hwsign_alg alg = HWSIGN_ALG_UNKNOWN;
    size_t spki_len = 0;
    int r;

    r = load_public_key_file(path, &res->spki, &res->spki_len);
    if (r != CLI_EXIT_OK)
        return r;
    spki = res->spki;
    spki_len = res->spki_len;
    if (spki_alg(spki, spki_len, &alg) >= 0)
        res->alg = alg_name(alg);
    r = spki_fingerprint(spki, spki_len, &res->fingerprint);
    if (r < 0)
        return log_errno(r, "cannot fingerprint public key %s", path);
    r = spki_parse(spki, spki_len, ret);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "%s does not hold a usable public key", path);
    return CLI_EXIT_OK;
}

/* --sbom (cmd-sbom.h), once the signature verified. Returns an exit status. */
static int check_sbom(const struct verify_bundle_args *a, struct bundle_result *res,
                      const uint8_t *digest)
{
    int r = sbom_verify_check(res->st, a->sbom_path, a->file, a->file ? digest : NULL, &res->sbom,
                              res->error, sizeof(res->error));

    res->sbom_ok = r == CLI_EXIT_OK;
    return r;
}

static int run_verify(const struct verify_bundle_args *a, struct bundle_result *res)
{
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
    _cleanup_(fjson_putp) struct json_object *obj = NULL;
    _cleanup_free_ uint8_t *text = NULL;
    const char *bname = input_name(a->bundle_path);
    const struct bundle *b = NULL;
    uint8_t digest[32];
    size_t len = 0;
    int r;

    r = load_key(a->key_path, res, &pkey);
    if (r != CLI_EXIT_OK)
        return r;
    r = read_input_bounded(a->bundle_path, BUNDLE_MAX_JSON, &text, &len);
    if (r == -EFBIG)
        return log_error(CLI_EXIT_ERROR, "%s is too large to be a bundle (over %u bytes)", bname,
                         BUNDLE_MAX_JSON);
    if (r < 0)
        return log_errno(r, "cannot read bundle %s", bname);
    r = fjson_parse_object((const char *)text, len, BUNDLE_MAX_JSON, &obj);
    if (r == -ENOMEM)
        return log_errno(r, "cannot parse bundle %s", bname);
    if (r < 0)
        return log_error(CLI_EXIT_ERROR, "%s is not a JSON object", bname);

    /* A Sigstore bundle names its mediaType; a bare DSSE envelope has none. */
    if (json_object_object_get_ex(obj, "mediaType", NULL)) {
        r = bundle_decode((const char *)text, len, &res->b);
        if (r == -EOPNOTSUPP)
            return log_error(CLI_EXIT_ERROR,
                             "%s is a bundle hwsign cannot verify (certificate material or a "
                             "digest other than SHA2_256)",
                             bname);
        if (r < 0)
            return log_error(CLI_EXIT_ERROR, "%s is not a valid Sigstore bundle: %s", bname,
                             strerror(-r));
        b = res->b;
        res->kind = bundle_get_kind(b) == BUNDLE_MESSAGE_SIGNATURE ? "messageSignature"
                                                                   : "dsseEnvelope";
        res->hint = bundle_get_hint(b);
        if (bundle_get_kind(b) == BUNDLE_MESSAGE_SIGNATURE)
            res->digest = bundle_get_message_digest(b);
        else
            res->payload_type = dsse_envelope_payload_type(bundle_get_envelope(b));
    } else if (json_object_object_get_ex(obj, "payloadType", NULL)) {
        r = dsse_envelope_decode((const char *)text, len, &res->env);
        if (r < 0)
            return log_error(CLI_EXIT_ERROR, "%s is not a valid DSSE envelope: %s", bname,
                             strerror(-r));
        res->kind = "envelope";
    } else
        return log_error(CLI_EXIT_ERROR,
                         "%s is neither a Sigstore bundle nor a DSSE envelope (no mediaType or "
                         "payloadType)",
                         bname);

    if (streq(res->kind, "messageSignature") && !a->file)
        return log_usage("verify", "%s is a messageSignature bundle: FILE is required", bname);
    if (a->file) {
        r = hash_input_sha256(a->file, digest);
        if (r < 0)
            return log_errno(r, "cannot read %s", input_name(a->file));
    }

    if (res->env) {
        if (a->log_key_path)
            return log_error(CLI_EXIT_ERROR,
                             "%s is a bare DSSE envelope: only a bundle carries a log entry",
                             bname);
        r = verify_envelope(a, res, res->env, pkey, a->file ? digest : NULL);
        if (r == CLI_EXIT_OK && res->hint && !*res->hint)
            res->hint = NULL;
        if (r == CLI_EXIT_OK && a->sbom_path)
            r = check_sbom(a, res, digest);
        return r;
    }
    r = bundle_verify(b, pkey, a->file ? digest : NULL, &res->st);
    if (r < 0)
        return judge(a, res, r);
    if (res->hint && !*res->hint)
        res->hint = NULL;
    if (a->log_key_path) {
        /* Only a bundle whose signature verified is worth a log lookup. */
        r = bundle_log_verify(b, res->spki, res->spki_len, a->log_key_path, &res->log);
        if (r != CLI_EXIT_OK)
            return r;
        res->logged = true;
    }
    if (a->policy_path) {
        _cleanup_free_ char *qpath = NULL;
        const uint8_t *payload;
        size_t plen = 0;

        if (!res->st)
            return log_error(CLI_EXIT_ERROR,
                             "%s is a messageSignature bundle: a policy applies to provenance",
                             bname);
        if (!a->quote_path && str_join(a->bundle_path, QUOTE_FILE_SUFFIX, &qpath) < 0)
            return log_errno(-ENOMEM, "cannot name the quote file");
        payload = dsse_envelope_payload(bundle_get_envelope(b), &plen);
        r = verify_policy(a->policy_path, a->quote_path ? a->quote_path : qpath, res->st, payload,
                          plen, true);
        if (r != CLI_EXIT_OK)
            return r;
        res->policy = true;
    }
    if (a->sbom_path)
        return check_sbom(a, res, digest);
    return CLI_EXIT_OK;
}

int verify_bundle(const struct verify_bundle_args *a)
{
    struct bundle_result res = {};
    int r;

    r = run_verify(a, &res);
    if (r == CLI_EXIT_OK || res.error[0]) {
        if (a->json) {
            int k = print_json(a, &res);

            if (k < 0)
                r = log_errno(k, "cannot print the result");
        } else if (r == CLI_EXIT_OK)
            print_human(a, &res);
        if (res.error[0])
            log_error(CLI_EXIT_REFUSED, "verification failed: %s", res.error);
    }
    intoto_statement_free(res.st);
    bundle_free(res.b);
    dsse_envelope_free(res.env);
    free(res.fingerprint);
    free(res.spki);
    return r;
}
