/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SIGN_PROVENANCE: SLSA Provenance v1 that the agent completes with what it observes itself
 * (docs/provenance.md). The client's claims -- command, working directory, exit status,
 * source, materials, products, start and finish times -- go where SLSA puts the caller's
 * inputs (externalParameters, resolvedDependencies, subjects, metadata); the agent's own
 * observations of the calling process (kernel credentials, executable digest via
 * /proc/PID/exe, command line, cgroup/unit), of the host and of the configured toolchain go
 * into internalParameters, which the client cannot write. builder.id names this agent;
 * metadata.invocationId is drawn by the agent.
 *
 * Measurement happens on the event loop while the peer waits for its reply (a peer that
 * exits or execs meanwhile is refused). Toolchain files are hashed once per change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json_object.h>
#include <openssl/rand.h>

#include "agent.h"
#include "conn.h"
#include "dispatch.h"
#include "format.h"
#include "intoto.h"
#include "journal.h"
#include "json.h"
#include "keystore.h"
#include "macro.h"
#include "measure.h"
#include "proto-attest.h"
#include "slsa.h"

#define PROVENANCE_BUILD_TYPE "https://hwsign.dev/buildtypes/attest/v1"
#define PROVENANCE_MAX_DEPS   (SLSA_MAX_DEPENDENCIES)
#define UUID_TEXT             37u

static const struct fjson_field claims_fields[] = {
        {"externalParameters", FJSON_OBJECT, true},
        {"resolvedDependencies", FJSON_ARRAY, false},
        {"subjects", FJSON_ARRAY, true},
        {"startedOn", FJSON_STRING, false},
        {"finishedOn", FJSON_STRING, false},
};
static const struct fjson_field dep_fields[] = {
        {"uri", FJSON_STRING, false},
        {"name", FJSON_STRING, false},
        {"digest", FJSON_OBJECT, false},
};
static const struct fjson_field digest_fields[] = {
        {"sha256", FJSON_STRING, false},
        {"gitCommit", FJSON_STRING, false},
};
static const struct fjson_field subject_fields[] = {
        {"name", FJSON_STRING, true},
        {"digest", FJSON_OBJECT, true},
};

struct claims {
    struct json_object *root;
    char *external; /* externalParameters, serialised */
    struct slsa_dependency *deps;
    size_t n_deps;
    struct intoto_subject *subjects;
    size_t n_subjects;
    const char *started_on, *finished_on;
};

static void claims_done(struct claims *cl)
{
    free(cl->external);
    free(cl->deps);
    free(cl->subjects);
    if (cl->root)
        json_object_put(cl->root);
}

/* Optional string member (borrowed); NULL when absent. */
static int opt_string(const struct json_object *o, const char *key, size_t max, const char **ret)
{
    int r = fjson_get_string(o, key, max, ret, NULL);
    if (r == -ENOENT) {
        *ret = NULL;
        return 0;
    }
    return r;
}

/* A subject's sha256: in-toto's digest rules, then the bytes. */
static int subject_sha256(const char *hex, uint8_t out[static 32])
{
    _cleanup_free_ uint8_t *bin = NULL;
    size_t n = 0;

    if (intoto_digest_value_check("sha256", hex, strlen(hex)) < 0 ||
        hex_decode(hex, strlen(hex), &bin, &n) < 0 || n != 32)
        return -EINVAL;
    memcpy(out, bin, 32);
    return 0;
}

/* Strict reading of the claims; *why says what is wrong. */
static int claims_parse(const uint8_t *text, size_t len, struct claims *cl, const char **why)
{
    struct json_object *ext = NULL, *arr = NULL;
    size_t n = 0, elen = 0;
    int r;

    *why = "not a JSON object";
    r = fjson_parse_object((const char *)text, len, HWSIGN_MAX_CLAIMS, &cl->root);
    if (r < 0)
        return r;
    *why = "unknown or mistyped member (expected externalParameters, resolvedDependencies, "
           "subjects, startedOn, finishedOn)";
    r = fjson_check_fields(cl->root, claims_fields, ELEMENTSOF(claims_fields),
                           FJSON_UNKNOWN_REJECT);
    if (r < 0)
        return r;
    (void)fjson_get_object(cl->root, "externalParameters", &ext);
    r = fjson_serialize(ext, &cl->external, &elen);
    if (r < 0)
        return r;
    *why = "startedOn/finishedOn must be RFC 3339 UTC timestamps";
    if ((r = opt_string(cl->root, "startedOn", SLSA_TIMESTAMP_MAX_LEN, &cl->started_on)) < 0 ||
        (r = opt_string(cl->root, "finishedOn", SLSA_TIMESTAMP_MAX_LEN, &cl->finished_on)) < 0)
        return -EINVAL;

    *why = "resolvedDependencies: at most 255 entries of {uri, name, digest {sha256, gitCommit}}";
    r = fjson_get_array(cl->root, "resolvedDependencies", PROVENANCE_MAX_DEPS - 1, &arr, &n);
    if (r < 0 && r != -ENOENT)
        return r;
    if (n > 0) {
        cl->deps = calloc(n, sizeof(*cl->deps));
        if (!cl->deps)
            return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *d = json_object_array_get_idx(arr, i), *dg = NULL;
        struct slsa_dependency *dep = &cl->deps[i];
        if (fjson_check_fields(d, dep_fields, ELEMENTSOF(dep_fields), FJSON_UNKNOWN_REJECT) < 0 ||
            opt_string(d, "uri", SLSA_MAX_URI, &dep->uri) < 0 ||
            opt_string(d, "name", SLSA_MAX_NAME, &dep->name) < 0)
            return -EINVAL;
        if (fjson_get_object(d, "digest", &dg) >= 0 &&
            (fjson_check_fields(dg, digest_fields, ELEMENTSOF(digest_fields),
                                FJSON_UNKNOWN_REJECT) < 0 ||
             opt_string(dg, "sha256", 64, &dep->sha256) < 0 ||
             opt_string(dg, "gitCommit", 64, &dep->git_commit) < 0))
            return -EINVAL;
    }
    cl->n_deps = n;

    *why = "subjects: 1 to 1024 entries of {name, digest {sha256}} (lower-case hex)";
    arr = NULL;
    n = 0;
    r = fjson_get_array(cl->root, "subjects", INTOTO_MAX_SUBJECTS, &arr, &n);
    if (r < 0)
        return r;
    if (n == 0)
        return -EINVAL;
    cl->subjects = calloc(n, sizeof(*cl->subjects));
    if (!cl->subjects)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct json_object *sj = json_object_array_get_idx(arr, i), *dg = NULL;
        const char *sha;
        if (fjson_check_fields(sj, subject_fields, ELEMENTSOF(subject_fields),
                               FJSON_UNKNOWN_REJECT) < 0 ||
            fjson_get_string(sj, "name", INTOTO_MAX_NAME, &cl->subjects[i].name, NULL) < 0 ||
            fjson_get_object(sj, "digest", &dg) < 0 ||
            fjson_check_fields(dg, digest_fields, 1, FJSON_UNKNOWN_REJECT) < 0 ||
            fjson_get_string(dg, "sha256", 64, &sha, NULL) < 0 ||
            subject_sha256(sha, cl->subjects[i].sha256) < 0)
            return -EINVAL;
    }
    cl->n_subjects = n;
    return 0;
}

/* A random UUID (version 4) as text. */
static int uuid4(char out[static UUID_TEXT])
{
    uint8_t b[16];
    if (RAND_bytes(b, sizeof(b)) != 1)
        return -EIO;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    (void)snprintf(out, UUID_TEXT,
                   "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                   b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                   b[14], b[15]);
    return 0;
}

/* The configured builder id, or urn:hwsign:builder:HOSTNAME. */
static const char *builder_id(struct agent *a)
{
    static char fallback[300];
    char host[256];

    if (a->cfg->builder_id[0])
        return a->cfg->builder_id;
    if (!fallback[0]) {
        if (gethostname(host, sizeof(host)) < 0 || !host[0])
            (void)snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = '\0';
        for (char *p = host; *p; p++)
            if (*p <= ' ' || *p == 0x7f)
                *p = '-';
        (void)snprintf(fallback, sizeof(fallback), "urn:hwsign:builder:%s", host);
    }
    return fallback;
}

/* The host facts and the toolchain, read on first use and kept. */
static int measure_state(struct agent *a)
{
    const char *paths[CONFIG_MAX_TOOLCHAIN];
    int r;

    if (!a->host) {
        r = measure_host_read(&a->host);
        if (r < 0)
            return r;
    }
    if (!a->toolchain) {
        for (size_t i = 0; i < a->cfg->n_toolchain; i++)
            paths[i] = a->cfg->toolchain[i];
        r = measure_toolchain_new(paths, a->cfg->n_toolchain, &a->toolchain);
        if (r < 0)
            return r;
    }
    return measure_toolchain_update(a->toolchain);
}

static int measure_refused(struct agent *a, struct conn *c, uint32_t id, int r)
{
    struct log_fields f = {.msgid = LOG_ID_REQUEST_DENIED, .peer = &c->peer};
    const char *why;

    switch (r) {
    case -ESRCH:
        why = "the requesting process exited or changed while the agent measured it";
        break;
    case -EACCES:
        why = "the agent cannot read the requesting process's executable (/proc/PID/exe of "
              "another user needs CAP_SYS_PTRACE)";
        break;
    case -EFBIG:
        why = "the requesting process's executable is too large to measure";
        break;
    default:
        why = "the requesting process could not be measured";
        break;
    }
    log_event(LOG_WARNING, &f, "refused provenance: %s (%s)", why, strerror(-r));
    conn_reply_error(a, c, id, r == -ENOMEM ? -ENOMEM : -EACCES, "%s: %s", why, strerror(-r));
    return r;
}

int handle_sign_provenance(struct agent *a, struct conn *c, uint32_t id, struct sbuf *body)
{
    _cleanup_(measure_peer_freep) struct measure_peer *mp = NULL;
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    _cleanup_free_ char *observed = NULL, *predicate = NULL, *stmt = NULL;
    const char *env[CONFIG_MAX_ENV_ALLOW], *why = NULL;
    struct proto_provenance_req q;
    struct claims cl = {0};
    const struct key_record *k;
    char invocation[UUID_TEXT];
    size_t observed_len = 0, predicate_len = 0, stmt_len = 0;
    int r;

    r = proto_get_sign_provenance_req(body, &q);
    if (r < 0)
        return dispatch_malformed(a, c, id, HWSIGN_MSG_SIGN_PROVENANCE, r);
    r = signing_key(a, c, id, q.key, "provenance", &k);
    if (r < 0)
        return r;
    r = claims_parse(q.claims, q.claims_len, &cl, &why);
    if (r == -ENOMEM)
        goto oom;
    if (r < 0) {
        conn_reply_error(a, c, id, -EINVAL, "invalid provenance claims: %s", why);
        claims_done(&cl);
        return -EINVAL;
    }

    /* What the agent sees for itself. */
    for (size_t i = 0; i < a->cfg->n_env_allow; i++)
        env[i] = a->cfg->env_allow[i];
    r = measure_state(a);
    if (r == -ENOMEM)
        goto oom;
    if (r < 0) {
        conn_reply_error(a, c, id, r, "cannot measure the host: %s", strerror(-r));
        claims_done(&cl);
        return r;
    }
    r = measure_peer_read(&c->peer, env, a->cfg->n_env_allow, &mp);
    if (r < 0) {
        claims_done(&cl);
        return measure_refused(a, c, id, r);
    }
    r = measure_render_json(a->host, mp, a->toolchain, &observed, &observed_len);
    if (r >= 0)
        r = uuid4(invocation);
    if (r >= 0) {
        struct slsa_build_params p = {
                .build_type = PROVENANCE_BUILD_TYPE,
                .external_parameters = cl.external,
                .internal_parameters = observed,
                .dependencies = cl.deps,
                .n_dependencies = cl.n_deps,
                .builder_id = builder_id(a),
                .invocation_id = invocation,
                .started_on = cl.started_on,
                .finished_on = cl.finished_on,
        };
        r = slsa_predicate_build(&p, &predicate, &predicate_len);
        if (r < 0 && r != -ENOMEM)
            why = "the claims do not make valid SLSA provenance (digests must be lower-case "
                  "hex, timestamps RFC 3339 UTC, URIs absolute)";
    }
    if (r >= 0) {
        r = intoto_statement_build(cl.subjects, cl.n_subjects, SLSA_PREDICATE_TYPE, predicate,
                                   predicate_len, &stmt, &stmt_len);
        if (r < 0 && r != -ENOMEM)
            why = r == -EMSGSIZE ? "the statement would exceed its size limit"
                                 : "invalid subjects (names must be unique and valid)";
        /* The reply carries the whole envelope in one frame. */
        if (r >= 0 && stmt_len > HWSIGN_MAX_STATEMENT) {
            r = -EMSGSIZE;
            why = "the provenance statement would not fit one reply (HWSIGN_MAX_STATEMENT); claim "
                  "fewer or shorter subjects, materials or parameters";
        }
    }
    if (r >= 0)
        r = intoto_statement_parse((const uint8_t *)stmt, stmt_len, &st);
    if (r == -ENOMEM)
        goto oom;
    if (r < 0) {
        conn_reply_error(a, c, id, r == -EMSGSIZE ? -EMSGSIZE : -EINVAL, "%s",
                         why ? why : "cannot build the provenance");
        claims_done(&cl);
        return r;
    }
    claims_done(&cl);
    return sign_statement_submit(a, c, id, k, (const uint8_t *)stmt, stmt_len, st,
                                 HWSIGN_MSG_SIGN_PROVENANCE);
oom:
    claims_done(&cl);
    conn_reply_error(a, c, id, -ENOMEM, "agent out of memory");
    return -ENOMEM;
}
