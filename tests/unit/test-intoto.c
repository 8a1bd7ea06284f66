/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intoto: the upstream statement_test.go vector (and which of our policies it trips), the
 * FORMATS 4.7 payload, canonical building and its round trip, every malformed statement
 * (wrong _type, subject missing/empty/bad, digest hex/case/length, non-object predicate, bad
 * TypeURI) and each limit at and one past its edge.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "intoto.h"
#include "macro.h"

#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)

#define SHA_A "853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020"

static struct intoto_statement *parse_ok(const char *json)
{
    struct intoto_statement *st = NULL;
    int r = intoto_statement_parse((const uint8_t *)json, strlen(json), &st);

    if (r != 0)
        fail_msg("parse failed (%d): %s", r, json);
    return st;
}

static void parse_fails(const char *json, int err)
{
    struct intoto_statement *st = POISON_PTR;
    int r = intoto_statement_parse((const uint8_t *)json, strlen(json), &st);

    if (r != err)
        fail_msg("got %d, want %d: %.300s", r, err, json);
    assert_ptr_equal(st, POISON_PTR);
}

static void test_upstream_vector(void **state)
{
    /* in-toto/attestation go/v1/statement_test.go, verbatim. */
    static const char upstream[] =
            "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"theSub\","
            "\"digest\":{\"alg1\":\"abc123\"}}],\"predicateType\":\"thePredicate\","
            "\"predicate\":{\"keyObj\":{\"subKey\":\"subVal\"}}}";
    /* The same with our two policies satisfied: a sha256 and a TypeURI. */
    static const char ours[] =
            "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"theSub\","
            "\"digest\":{\"alg1\":\"abc123\",\"sha256\":\"" SHA_A "\"}}],\"predicateType\":"
            "\"https://example.com/thePredicate\",\"predicate\":{\"keyObj\":{\"subKey\":"
            "\"subVal\"}}}";
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    _cleanup_free_ uint8_t *want = NULL;
    size_t wl = 0;

    parse_fails(upstream, -EINVAL);
    st = parse_ok(ours);
    assert_int_equal(intoto_statement_subject_count(st), 1);
    assert_string_equal(intoto_statement_subject_name(st, 0), "theSub");
    assert_string_equal(intoto_statement_subject_digest(st, 0, "alg1"), "abc123");
    assert_string_equal(intoto_statement_subject_digest(st, 0, "sha256"), SHA_A);
    assert_null(intoto_statement_subject_digest(st, 0, "sha512"));
    assert_null(intoto_statement_subject_digest(st, 1, "sha256"));
    assert_int_equal(hex_decode(SHA_A, 64, &want, &wl), 0);
    assert_memory_equal(intoto_statement_subject_sha256(st, 0), want, 32);
    assert_null(intoto_statement_subject_sha256(st, 1));
    assert_null(intoto_statement_subject_name(st, 1));
    assert_string_equal(intoto_statement_predicate_type(st), "https://example.com/thePredicate");
    assert_string_equal(intoto_statement_predicate(st), "{\"keyObj\":{\"subKey\":\"subVal\"}}");
}

/* FORMATS 4.7 DSSE payload, and building it again gives exactly those bytes. */
static void test_formats_47_payload_and_build(void **state)
{
    static const char payload[] =
            "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"artifact.txt"
            "\",\"digest\":{\"sha256\":\"" SHA_A "\"}}],\"predicateType\":\"https://example.com/"
            "test/v1\",\"predicate\":{}}";
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = parse_ok(payload);
    struct intoto_subject sub = {.name = "artifact.txt"};
    _cleanup_free_ uint8_t *d = NULL;
    _cleanup_free_ char *built = NULL, *built2 = NULL;
    size_t dl = 0, n = 0, idx = 7;

    assert_string_equal(intoto_statement_predicate(st), "{}");
    assert_int_equal(hex_decode(SHA_A, 64, &d, &dl), 0);
    assert_int_equal(intoto_statement_find_sha256(st, d, &idx), 0);
    assert_int_equal(idx, 0);
    memcpy(sub.sha256, d, 32);
    assert_int_equal(
            intoto_statement_build(&sub, 1, "https://example.com/test/v1", "{}", 2, &built, &n), 0);
    assert_int_equal(n, strlen(payload));
    assert_string_equal(built, payload);
    /* NULL predicate is {} too. */
    assert_int_equal(
            intoto_statement_build(&sub, 1, "https://example.com/test/v1", NULL, 0, &built2, &n),
            0);
    assert_string_equal(built2, payload);
    d[0] ^= 1;
    idx = 7;
    assert_int_equal(intoto_statement_find_sha256(st, d, &idx), -ENOENT);
    assert_int_equal(idx, 7);
}

static void test_build_round_trip(void **state)
{
    struct intoto_subject subs[3] = {
            {.name = "a/b.tar.gz"}, {.name = "\xc3\xa4 \"q\""}, {.name = "_"}};
    static const char pred[] = "{\"z\":1, \"a\":[true,null,\"x/y\"],\"n\":{\"k\":1.50}}";
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    _cleanup_free_ char *out = NULL;
    size_t n = 0;

    for (size_t i = 0; i < 3; i++)
        memset(subs[i].sha256, 0xa0 + (int)i, 32);
    assert_int_equal(intoto_statement_build(subs, 3, "https://slsa.dev/provenance/v1", pred,
                                            strlen(pred), &out, &n),
                     0);
    /* Member order kept, whitespace dropped, '/' unescaped, number text kept. */
    assert_non_null(strstr(out, "\"predicate\":{\"z\":1,\"a\":[true,null,\"x/y\"],\"n\":{\"k\":"
                                "1.50}}}"));
    assert_non_null(strstr(out, "{\"name\":\"a/b.tar.gz\",\"digest\":{\"sha256\":\"a0a0"));
    st = parse_ok(out);
    assert_int_equal(intoto_statement_subject_count(st), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(intoto_statement_subject_name(st, i), subs[i].name);
        assert_memory_equal(intoto_statement_subject_sha256(st, i), subs[i].sha256, 32);
    }
    assert_string_equal(intoto_statement_predicate_type(st), "https://slsa.dev/provenance/v1");
}

static void test_build_errors(void **state)
{
    struct intoto_subject sub = {.name = "x"}, empty = {.name = ""}, noname = {.name = NULL};
    char *out = POISON_PTR;
    size_t n = 42;

    assert_int_equal(intoto_statement_build(&sub, 0, "https://e/x", NULL, 0, &out, &n), -EINVAL);
    assert_int_equal(intoto_statement_build(NULL, 1, "https://e/x", NULL, 0, &out, &n), -EINVAL);
    assert_int_equal(intoto_statement_build(&sub, 1, NULL, NULL, 0, &out, &n), -EINVAL);
    assert_int_equal(intoto_statement_build(&sub, 1, "notauri", NULL, 0, &out, &n), -EINVAL);
    assert_int_equal(intoto_statement_build(&sub, 1, "HTTPS://e/x", NULL, 0, &out, &n), -EINVAL);
    assert_int_equal(intoto_statement_build(&empty, 1, "https://e/x", NULL, 0, &out, &n), -EINVAL);
    assert_int_equal(intoto_statement_build(&noname, 1, "https://e/x", NULL, 0, &out, &n), -EINVAL);
    assert_int_equal(intoto_statement_build(&sub, 1, "https://e/x", "[]", 2, &out, &n), -EINVAL);
    assert_int_equal(
            intoto_statement_build(&sub, 1, "https://e/x", "{\"a\":1,\"a\":2}", 13, &out, &n),
            -EINVAL);
    assert_int_equal(
            intoto_statement_build(&sub, INTOTO_MAX_SUBJECTS + 1, "https://e/x", NULL, 0, &out, &n),
            -EMSGSIZE);
    assert_ptr_equal(out, POISON_PTR);
    assert_int_equal(n, 42);
}

#define ST(type, subj, ptype, rest)                                                                \
    "{\"_type\":" type ",\"subject\":" subj ",\"predicateType\":" ptype rest "}"
#define V1     "\"https://in-toto.io/Statement/v1\""
#define PT     "\"https://example.com/p/v1\""
#define SUB    "[{\"name\":\"a\",\"digest\":{\"sha256\":\"" SHA_A "\"}}]"
#define DIG(x) "[{\"name\":\"a\",\"digest\":{" x "}}]"

static void test_malformed(void **state)
{
    static const char *const bad[] = {
            /* _type */
            ST("\"https://in-toto.io/Statement/v0.1\"", SUB, PT, ""),
            ST("\"https://in-toto.io/Statement/v2\"", SUB, PT, ""),
            ST("\"https://in-toto.io/Statement/v1 \"", SUB, PT, ""),
            ST("1", SUB, PT, ""),
            "{\"subject\":" SUB ",\"predicateType\":" PT "}",
            /* subject */
            "{\"_type\":" V1 ",\"predicateType\":" PT "}",
            ST(V1, "[]", PT, ""),
            ST(V1, "{}", PT, ""),
            ST(V1, "[1]", PT, ""),
            ST(V1, "[{\"digest\":{\"sha256\":\"" SHA_A "\"}}]", PT, ""),
            ST(V1, "[{\"name\":\"\",\"digest\":{\"sha256\":\"" SHA_A "\"}}]", PT, ""),
            ST(V1, "[{\"name\":7,\"digest\":{\"sha256\":\"" SHA_A "\"}}]", PT, ""),
            ST(V1, "[{\"name\":\"a\"}]", PT, ""),
            ST(V1, "[{\"name\":\"a\",\"digest\":[]}]", PT, ""),
            ST(V1, "[{\"name\":\"a\",\"uri\":5,\"digest\":{\"sha256\":\"" SHA_A "\"}}]", PT, ""),
            ST(V1, SUB ",1", PT, ""),
            /* digests */
            ST(V1, DIG(""), PT, ""),
            ST(V1, DIG("\"sha512\":\"" SHA_A SHA_A "\""), PT, ""),
            ST(V1,
               DIG("\"sha256\":"
                   "\"853FF93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020\""),
               PT, ""),
            ST(V1,
               DIG("\"sha256\":"
                   "\"853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c97602\""),
               PT, ""),
            ST(V1,
               DIG("\"sha256\":\"853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c9760200"
                   "0\""),
               PT, ""),
            ST(V1,
               DIG("\"sha256\":"
                   "\"853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c97602g\""),
               PT, ""),
            ST(V1, DIG("\"sha256\":\"" SHA_A "\",\"sha512\":\"abc\""), PT, ""),
            ST(V1, DIG("\"sha256\":\"" SHA_A "\",\"gitCommit\":\"ABCDEF\""), PT, ""),
            ST(V1, DIG("\"sha256\":\"" SHA_A "\",\"x\":1"), PT, ""),
            ST(V1, DIG("\"sha256\":\"" SHA_A "\",\"x\":\"\""), PT, ""),
            ST(V1, DIG("\"sha256\":\"" SHA_A "\",\"\":\"ab\""), PT, ""),
            ST(V1, DIG("\"sha256\":\"" SHA_A "\",\"sha256\":\"" SHA_A "\""), PT, ""),
            ST(V1, DIG("\"sha256\":1"), PT, ""),
            /* predicateType */
            ST(V1, SUB, "\"\"", ""),
            ST(V1, SUB, "\"thePredicate\"", ""),
            ST(V1, SUB, "\"HTTPS://example.com/p\"", ""),
            ST(V1, SUB, "\"https://Example.com/p\"", ""),
            ST(V1, SUB, "\"https://example.com/p v1\"", ""),
            ST(V1, SUB, "\"1https://example.com/p\"", ""),
            ST(V1, SUB, "{}", ""),
            "{\"_type\":" V1 ",\"subject\":" SUB "}",
            /* predicate */
            ST(V1, SUB, PT, ",\"predicate\":[]"),
            ST(V1, SUB, PT, ",\"predicate\":\"{}\""),
            ST(V1, SUB, PT, ",\"predicate\":null"),
            ST(V1, SUB, PT, ",\"predicate\":1"),
            /* JSON */
            "[]",
            ST(V1, SUB, PT, ",\"predicate\":{}") "x",
            ST(V1, SUB, PT, ",\"_type\":" V1),
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        parse_fails(bad[i], -EINVAL);
}

static void test_accepted_variants(void **state)
{
    static const char *const ok[] = {
            ST(V1, SUB, PT, ""), /* predicate absent = {} */
            ST(V1,
               DIG("\"sha256\":\"" SHA_A "\",\"gitCommit\":\"" SHA_A "\","
                   "\"gitTree\":\"0123456789abcdef0123456789abcdef01234567\","
                   "\"dirHash\":\"XYZ\""),
               PT, ",\"predicate\":{},\"unknown\":[1]"),
            ST(V1,
               "[{\"name\":\"a\",\"uri\":\"https://e/a\",\"mediaType\":\"text/plain\","
               "\"annotations\":{\"k\":[1]},\"other\":1,\"digest\":{\"sha256\":\"" SHA_A "\"}}]",
               "\"urn:example:p\"", ""),
            ST(V1, SUB, "\"https://example.com/P?Q=A#Frag\"", ""),
    };
    for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
        _cleanup_(intoto_statement_freep) struct intoto_statement *st = parse_ok(ok[i]);
        assert_int_equal(intoto_statement_subject_count(st), 1);
    }
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = parse_ok(ok[0]);
    assert_string_equal(intoto_statement_predicate(st), "{}");
}

/* Subjects, names, type URI and the whole statement: at the limit and one over. */
static void test_limits(void **state)
{
    _cleanup_free_ struct intoto_subject *subs = calloc(INTOTO_MAX_SUBJECTS, sizeof(*subs));
    _cleanup_free_ char *name = calloc(1, INTOTO_MAX_NAME + 2);
    _cleanup_free_ char *uri = calloc(1, INTOTO_MAX_TYPE_URI + 2);
    _cleanup_free_ char *out = NULL, *pred = NULL, *json = NULL;
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    size_t n = 0;

    assert_non_null(subs);
    for (size_t i = 0; i < INTOTO_MAX_SUBJECTS; i++)
        subs[i].name = "s";
    /* INTOTO_MAX_SUBJECTS subjects build and parse back (the statement is ~100 KiB). */
    {
        static char names[INTOTO_MAX_SUBJECTS][8];
        for (size_t i = 0; i < INTOTO_MAX_SUBJECTS; i++) {
            (void)snprintf(names[i], sizeof(names[i]), "s%zu", i);
            subs[i].name = names[i];
        }
        assert_int_equal(
                intoto_statement_build(subs, INTOTO_MAX_SUBJECTS, "https://e/x", NULL, 0, &out, &n),
                0);
        st = parse_ok(out);
        assert_int_equal(intoto_statement_subject_count(st), INTOTO_MAX_SUBJECTS);
        for (size_t i = 0; i < INTOTO_MAX_SUBJECTS; i++)
            subs[i].name = "s";
    }
    st = intoto_statement_free(st);
    free(out);
    out = NULL;

    memset(name, 'n', INTOTO_MAX_NAME);
    subs[0].name = name;
    assert_int_equal(intoto_statement_build(subs, 1, "https://e/x", NULL, 0, &out, &n), 0);
    free(out);
    out = NULL;
    name[INTOTO_MAX_NAME] = 'n';
    assert_int_equal(intoto_statement_build(subs, 1, "https://e/x", NULL, 0, &out, &n), -EMSGSIZE);
    assert_true(
            asprintf(&json,
                     ST(V1, "[{\"name\":\"%s\",\"digest\":{\"sha256\":\"" SHA_A "\"}}]", PT, ""),
                     name) > 0);
    parse_fails(json, -EMSGSIZE);
    free(json);
    json = NULL;

    subs[0].name = "s";
    memcpy(uri, "https://e/", 10);
    memset(uri + 10, 'x', INTOTO_MAX_TYPE_URI - 10);
    assert_int_equal(intoto_statement_build(subs, 1, uri, NULL, 0, &out, &n), 0);
    free(out);
    out = NULL;
    uri[INTOTO_MAX_TYPE_URI] = 'x';
    assert_int_equal(intoto_statement_build(subs, 1, uri, NULL, 0, &out, &n), -EMSGSIZE);
    assert_true(asprintf(&json, ST(V1, SUB, "\"%s\"", ""), uri) > 0);
    parse_fails(json, -EMSGSIZE);
    free(json);
    json = NULL;

    /* A predicate that pushes the statement over INTOTO_MAX_STATEMENT. */
    pred = calloc(1, INTOTO_MAX_STATEMENT);
    assert_non_null(pred);
    memcpy(pred, "{\"k\":\"", 6);
    memset(pred + 6, 'p', INTOTO_MAX_STATEMENT - 9);
    memcpy(pred + INTOTO_MAX_STATEMENT - 3, "\"}", 3);
    assert_int_equal(intoto_statement_build(subs, 1, "https://e/x", pred, strlen(pred), &out, &n),
                     -EMSGSIZE);
    assert_true(asprintf(&json, ST(V1, SUB, PT, ",\"predicate\":%s"), pred) > 0);
    parse_fails(json, -EMSGSIZE);

    /* More subjects than INTOTO_MAX_SUBJECTS in a (small enough) statement text. */
    free(json);
    json = NULL;
    {
        size_t cap = 16 * (INTOTO_MAX_SUBJECTS + 1) + 256, o = 0;
        _cleanup_free_ char *t = malloc(cap);
        o += (size_t)snprintf(t + o, cap - o,
                              "{\"_type\":" V1 ",\"predicateType\":" PT ",\"subject\":[");
        for (size_t i = 0; i <= INTOTO_MAX_SUBJECTS; i++)
            o += (size_t)snprintf(t + o, cap - o, "%s{}", i ? "," : "");
        snprintf(t + o, cap - o, "]}");
        parse_fails(t, -EMSGSIZE);
    }
}

/* A statement whose predicate is an array of n copies of unit, as a NUL-terminated text. */
static char *statement_of(const char *unit, size_t n)
{
    size_t ul = strlen(unit), cap = n * (ul + 1) + 512, o = 0;
    char *t = malloc(cap);

    assert_non_null(t);
    o += (size_t)snprintf(t, cap,
                          "{\"_type\":" V1 ",\"subject\":" SUB ",\"predicateType\":" PT
                          ",\"predicate\":{\"r\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            t[o++] = ',';
        memcpy(t + o, unit, ul);
        o += ul;
    }
    memcpy(t + o, "]}}", 4);
    return t;
}

/*
 * FORMAT_MAX_JSON_COST: small text, huge tree. Empty objects cost JSON_COST_OBJECT each, so
 * a few hundred KiB of "{}" is refused before json-c builds anything, while the same count
 * below the budget parses; so does a model manifest of MODEL_MAX_RESOURCES (65536) entries.
 */
static void test_parse_cost(void **state)
{
    const size_t over = FORMAT_MAX_JSON_COST / JSON_COST_OBJECT + 1;
    _cleanup_free_ char *refused = statement_of("{}", over);
    _cleanup_free_ char *accepted = statement_of("{}", over - 2000);
    _cleanup_free_ char *model =
            statement_of("{\"algorithm\":\"sha256\",\"digest\":\"" SHA_A "\",\"name\":\"layers/"
                         "transformer-block-attention.safetensors\"}",
                         65536);
    struct intoto_statement *st;

    assert_true(strlen(refused) < INTOTO_MAX_STATEMENT / 16); /* not a length refusal */
    parse_fails(refused, -EMSGSIZE);
    st = parse_ok(accepted);
    intoto_statement_free(st);
    st = parse_ok(model);
    assert_string_equal(intoto_statement_predicate_type(st), "https://example.com/p/v1");
    intoto_statement_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_upstream_vector),
            cmocka_unit_test(test_formats_47_payload_and_build),
            cmocka_unit_test(test_build_round_trip),
            cmocka_unit_test(test_build_errors),
            cmocka_unit_test(test_malformed),
            cmocka_unit_test(test_accepted_variants),
            cmocka_unit_test(test_limits),
            cmocka_unit_test(test_parse_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
