/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slsa: the FORMATS 3.2 shape (verbatim it trips our TypeURI rule; with URIs it parses and
 * round-trips through the builder), a known-answer build, a full in-toto Statement carrying the
 * predicate, RFC 3339 timestamps, every malformed predicate (missing required fields, wrong
 * types, bad timestamps, URIs and digests), each limit one past its edge, builder errors, and
 * outputs left untouched on every failure.
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

#include "intoto.h"
#include "macro.h"
#include "slsa.h"

#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)

#define SHA_A "853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020"
#define GIT_A "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d"

/* A minimal valid predicate: {"buildDefinition":{BD},"runDetails":{RD}}. */
#define BT           "\"buildType\":\"https://example.com/bt/v1\""
#define EXT          "\"externalParameters\":{\"a\":\"b\"}"
#define BLD          "\"builder\":{\"id\":\"https://example.com/builder\"}"
#define PRED(bd, rd) "{\"buildDefinition\":{" bd "},\"runDetails\":{" rd "}}"
#define DEPS(d)      PRED(BT "," EXT ",\"resolvedDependencies\":[" d "]", BLD)
#define META(m)      PRED(BT "," EXT, BLD ",\"metadata\":{" m "}")
#define BD_HEAD      "{\"buildDefinition\":{" BT "," EXT
#define RD_ONLY      "},\"runDetails\":{" BLD "}}"

static struct slsa_provenance *parse_ok(const char *json)
{
    struct slsa_provenance *p = NULL;
    int r = slsa_predicate_parse(json, strlen(json), &p);

    if (r != 0)
        fail_msg("parse failed (%d): %.300s", r, json);
    return p;
}

static void parse_fails_len(const char *json, size_t len, int err)
{
    struct slsa_provenance *p = POISON_PTR;
    int r = slsa_predicate_parse(json, len, &p);

    if (r != err)
        fail_msg("got %d, want %d: %.300s", r, err, json);
    assert_ptr_equal(p, POISON_PTR);
}

static void parse_fails(const char *json, int err)
{
    parse_fails_len(json, strlen(json), err);
}

static void build_fails(const struct slsa_build_params *params, int err)
{
    char *out = POISON_PTR;
    size_t n = 4242;
    int r = slsa_predicate_build(params, &out, &n);

    if (r != err)
        fail_msg("build got %d, want %d", r, err);
    assert_ptr_equal(out, POISON_PTR);
    assert_int_equal(n, 4242);
}

/* Rebuild p from its accessors and check that the result parses back to the same values. */
static void rebuild_and_compare(const struct slsa_provenance *p)
{
    _cleanup_free_ struct slsa_dependency *deps = NULL;
    _cleanup_(slsa_provenance_freep) struct slsa_provenance *again = NULL;
    _cleanup_free_ char *out = NULL;
    size_t n = slsa_provenance_dependency_count(p), len = 0;
    struct slsa_build_params params = {
            .build_type = slsa_provenance_build_type(p),
            .external_parameters = slsa_provenance_external_parameters(p),
            .internal_parameters = slsa_provenance_internal_parameters(p),
            .n_dependencies = n,
            .builder_id = slsa_provenance_builder_id(p),
            .invocation_id = slsa_provenance_invocation_id(p),
            .started_on = slsa_provenance_started_on(p),
            .finished_on = slsa_provenance_finished_on(p),
    };

    deps = calloc(n + 1, sizeof(*deps));
    assert_non_null(deps);
    for (size_t i = 0; i < n; i++)
        deps[i] = *slsa_provenance_dependency(p, i);
    params.dependencies = deps;
    assert_int_equal(slsa_predicate_build(&params, &out, &len), 0);
    assert_int_equal(strlen(out), len);
    again = parse_ok(out);
    assert_string_equal(slsa_provenance_build_type(again), params.build_type);
    assert_string_equal(slsa_provenance_builder_id(again), params.builder_id);
    assert_string_equal(slsa_provenance_external_parameters(again), params.external_parameters);
    assert_int_equal(slsa_provenance_dependency_count(again), n);
    for (size_t i = 0; i < n; i++) {
        const struct slsa_dependency *d = slsa_provenance_dependency(again, i);
        const char *want[] = {deps[i].uri, deps[i].name, deps[i].sha256, deps[i].git_commit};
        const char *got[] = {d->uri, d->name, d->sha256, d->git_commit};
        for (size_t k = 0; k < ELEMENTSOF(want); k++) {
            if (want[k])
                assert_string_equal(got[k], want[k]);
            else
                assert_null(got[k]);
        }
    }
}

static void test_formats_32_shape(void **state)
{
    /* FORMATS 3.2 / provenance_test.go, verbatim: "theBuildType" is no TypeURI. */
    static const char upstream[] =
            "{\"buildDefinition\":{\"buildType\":\"theBuildType\",\"externalParameters\":{\"param1"
            "\":{\"subKey\":\"subVal\"}},\"resolvedDependencies\":[{\"name\":\"theResource\","
            "\"digest\":{\"alg1\":\"abc123\"}}]},\"runDetails\":{\"builder\":{\"id\":\"theId\","
            "\"version\":{\"theComponent\":\"v0.1\"},\"builderDependencies\":[{\"name\":"
            "\"theResource\",\"digest\":{\"alg1\":\"abc123\"}}]},\"metadata\":{\"invocationId\":"
            "\"theInvocationId\"},\"byproducts\":[{\"name\":\"theResource\",\"digest\":{\"alg1\":"
            "\"abc123\"}}]}}";
    /* The same shape with TypeURIs. */
    static const char ours[] =
            "{\"buildDefinition\":{\"buildType\":\"https://example.com/theBuildType\","
            "\"externalParameters\":{\"param1\":{\"subKey\":\"subVal\"}},\"resolvedDependencies\""
            ":[{\"name\":\"theResource\",\"digest\":{\"alg1\":\"abc123\"}}]},\"runDetails\":{"
            "\"builder\":{\"id\":\"https://example.com/theId\",\"version\":{\"theComponent\":"
            "\"v0.1\"},\"builderDependencies\":[{\"name\":\"theResource\",\"digest\":{\"alg1\":"
            "\"abc123\"}}]},\"metadata\":{\"invocationId\":\"theInvocationId\"},\"byproducts\":[{"
            "\"name\":\"theResource\",\"digest\":{\"alg1\":\"abc123\"}}]}}";
    _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = NULL;
    const struct slsa_dependency *d;

    parse_fails(upstream, -EINVAL);
    p = parse_ok(ours);
    assert_string_equal(slsa_provenance_build_type(p), "https://example.com/theBuildType");
    assert_string_equal(slsa_provenance_builder_id(p), "https://example.com/theId");
    assert_string_equal(slsa_provenance_external_parameters(p),
                        "{\"param1\":{\"subKey\":\"subVal\"}}");
    assert_null(slsa_provenance_internal_parameters(p));
    assert_int_equal(slsa_provenance_dependency_count(p), 1);
    d = slsa_provenance_dependency(p, 0);
    assert_string_equal(d->name, "theResource");
    assert_null(d->uri);
    assert_null(d->sha256);
    assert_null(d->git_commit);
    assert_null(slsa_provenance_dependency(p, 1));
    assert_string_equal(slsa_provenance_invocation_id(p), "theInvocationId");
    assert_null(slsa_provenance_started_on(p));
    assert_null(slsa_provenance_finished_on(p));
    assert_int_equal(slsa_provenance_byproduct_count(p), 1);
    /* The dependency carries only "alg1", which the builder cannot express: drop it. */
    {
        _cleanup_(slsa_provenance_freep) struct slsa_provenance *again = NULL;
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        struct slsa_build_params params = {
                .build_type = slsa_provenance_build_type(p),
                .external_parameters = slsa_provenance_external_parameters(p),
                .builder_id = slsa_provenance_builder_id(p),
                .invocation_id = slsa_provenance_invocation_id(p),
        };
        assert_int_equal(slsa_predicate_build(&params, &out, &n), 0);
        assert_string_equal(out, "{\"buildDefinition\":{\"buildType\":\"https://example.com/"
                                 "theBuildType\",\"externalParameters\":{\"param1\":{\"subKey\":"
                                 "\"subVal\"}}},\"runDetails\":{\"builder\":{\"id\":\"https://"
                                 "example.com/theId\"},\"metadata\":{\"invocationId\":"
                                 "\"theInvocationId\"}}}");
        again = parse_ok(out);
        rebuild_and_compare(again);
    }
}

static const struct slsa_dependency kat_deps[] = {
        {.uri = "git+https://example.com/repo@refs/heads/main", .git_commit = GIT_A},
        {.uri = "https://example.com/tool.tar.gz", .name = "tool", .sha256 = SHA_A},
        {.name = "both", .sha256 = SHA_A, .git_commit = SHA_A},
};

static const char kat_byproduct[] = "{\"log\":\"ok\"}";

static const struct slsa_byproduct kat_byproducts[] = {
        {.name = "build.log", .content = kat_byproduct, .content_len = sizeof(kat_byproduct) - 1},
};

static const struct slsa_build_params kat_params = {
        .build_type = "https://hwsign.example/build/v1",
        .external_parameters =
                "{ \"source\": \"git+https://example.com/repo\", \"ref\": \"main\" }",
        .internal_parameters = "{\"runner\":\"r1\"}",
        .dependencies = kat_deps,
        .n_dependencies = ELEMENTSOF(kat_deps),
        .builder_id = "https://hwsign.example/builder@v1",
        .invocation_id = "inv-1",
        .started_on = "2026-11-25T10:00:00Z",
        .finished_on = "2026-11-25T10:00:05.5Z",
        .byproducts = kat_byproducts,
        .n_byproducts = ELEMENTSOF(kat_byproducts),
};

static void test_build_known_answer(void **state)
{
    static const char want[] =
            "{\"buildDefinition\":{\"buildType\":\"https://hwsign.example/build/v1\","
            "\"externalParameters\":{\"source\":\"git+https://example.com/repo\",\"ref\":\"main\"},"
            "\"internalParameters\":{\"runner\":\"r1\"},\"resolvedDependencies\":[{\"uri\":"
            "\"git+https://example.com/repo@refs/heads/main\",\"digest\":{\"gitCommit\":\"" GIT_A
            "\"}},{\"uri\":\"https://example.com/tool.tar.gz\",\"name\":\"tool\",\"digest\":{"
            "\"sha256\":\"" SHA_A "\"}},{\"name\":\"both\",\"digest\":{\"sha256\":\"" SHA_A
            "\",\"gitCommit\":\"" SHA_A "\"}}]},\"runDetails\":{\"builder\":{\"id\":"
            "\"https://hwsign.example/builder@v1\"},\"metadata\":{\"invocationId\":\"inv-1\","
            "\"startedOn\":\"2026-11-25T10:00:00Z\",\"finishedOn\":\"2026-11-25T10:00:05.5Z\"},"
            "\"byproducts\":[{\"name\":\"build.log\",\"content\":\"eyJsb2ciOiJvayJ9\","
            "\"mediaType\":\"application/json\"}]}}";
    _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = NULL;
    _cleanup_free_ char *out = NULL, *out2 = NULL;
    size_t n = 0, n2 = 0;
    int64_t t0 = 0, t1 = 0;
    const struct slsa_dependency *d;

    assert_int_equal(slsa_predicate_build(&kat_params, &out, &n), 0);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    /* Deterministic: the same inputs give the same bytes. */
    assert_int_equal(slsa_predicate_build(&kat_params, &out2, &n2), 0);
    assert_int_equal(n2, n);
    assert_memory_equal(out2, out, n);

    p = parse_ok(out);
    assert_string_equal(slsa_provenance_build_type(p), kat_params.build_type);
    assert_string_equal(slsa_provenance_builder_id(p), kat_params.builder_id);
    assert_string_equal(slsa_provenance_external_parameters(p),
                        "{\"source\":\"git+https://example.com/repo\",\"ref\":\"main\"}");
    assert_string_equal(slsa_provenance_internal_parameters(p), "{\"runner\":\"r1\"}");
    assert_int_equal(slsa_provenance_dependency_count(p), 3);
    d = slsa_provenance_dependency(p, 0);
    assert_string_equal(d->uri, kat_deps[0].uri);
    assert_null(d->name);
    assert_null(d->sha256);
    assert_string_equal(d->git_commit, GIT_A);
    d = slsa_provenance_dependency(p, 1);
    assert_string_equal(d->name, "tool");
    assert_string_equal(d->sha256, SHA_A);
    assert_null(d->git_commit);
    d = slsa_provenance_dependency(p, 2);
    assert_null(d->uri);
    assert_string_equal(d->git_commit, SHA_A);
    assert_string_equal(slsa_provenance_invocation_id(p), "inv-1");
    assert_string_equal(slsa_provenance_started_on(p), "2026-11-25T10:00:00Z");
    assert_string_equal(slsa_provenance_finished_on(p), "2026-11-25T10:00:05.5Z");
    assert_int_equal(slsa_provenance_byproduct_count(p), 1);
    assert_int_equal(slsa_timestamp_parse(slsa_provenance_started_on(p), 20, &t0), 0);
    assert_int_equal(slsa_timestamp_parse(slsa_provenance_finished_on(p), 22, &t1), 0);
    assert_int_equal(t1 - t0, 5);
    rebuild_and_compare(p);
}

/* The predicate inside a full in-toto Statement parses back unchanged. */
static void test_full_statement(void **state)
{
    struct intoto_subject sub = {.name = "hwsign_1.0_amd64.deb"};
    _cleanup_(intoto_statement_freep) struct intoto_statement *st = NULL;
    _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = NULL;
    _cleanup_free_ char *pred = NULL, *stmt = NULL;
    size_t pn = 0, sn = 0;
    const char *text;

    memset(sub.sha256, 0x5a, sizeof(sub.sha256));
    assert_int_equal(slsa_predicate_build(&kat_params, &pred, &pn), 0);
    assert_int_equal(intoto_statement_build(&sub, 1, SLSA_PREDICATE_TYPE, pred, pn, &stmt, &sn), 0);
    assert_non_null(strstr(stmt, "\"predicateType\":\"https://slsa.dev/provenance/v1\""));
    assert_int_equal(intoto_statement_parse((const uint8_t *)stmt, sn, &st), 0);
    assert_string_equal(intoto_statement_predicate_type(st), SLSA_PREDICATE_TYPE);
    text = intoto_statement_predicate(st);
    assert_string_equal(text, pred);
    p = parse_ok(text);
    assert_string_equal(slsa_provenance_builder_id(p), kat_params.builder_id);
    assert_string_equal(slsa_provenance_dependency(p, 0)->git_commit, GIT_A);
}

static void test_timestamps(void **state)
{
    static const struct {
        const char *s;
        int64_t t;
    } good[] = {
            {"1970-01-01T00:00:00Z", 0},
            {"1969-12-31T23:59:59Z", -1},
            {"2000-02-29T12:00:00Z", 951825600},
            {"2026-11-25T10:00:05.123456789Z", 1795600805},
            {"0001-01-01T00:00:00Z", -62135596800LL},
            {"9999-12-31T23:59:59Z", 253402300799LL},
    };
    static const char *const bad[] = {
            "",
            "2026-11-25",
            "2026-11-25T10:00:00",
            "2026-11-25 10:00:00Z",
            "2026-11-25t10:00:00Z",
            "2026-11-25T10:00:00z",
            "2026-11-25T10:00:00+00:00",
            "2026-11-25T10:00:00.Z",
            "2026-11-25T10:00:00.1234567890Z",
            "2026-11-25T10:00:00.12aZ",
            "2026-11-25T10:00:00ZZ",
            "0000-01-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-00T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-11-25T24:00:00Z",
            "2026-11-25T10:60:00Z",
            "2026-11-25T10:00:60Z",
            "+026-11-25T10:00:00Z",
            "2026-1-025T10:00:00Z",
            " 2026-11-25T10:00:00Z",
    };
    int64_t t = 77;

    for (size_t i = 0; i < ELEMENTSOF(good); i++) {
        assert_int_equal(slsa_timestamp_parse(good[i].s, strlen(good[i].s), &t), 0);
        assert_int_equal(t, good[i].t);
    }
    assert_int_equal(slsa_timestamp_parse("2024-02-29T00:00:00Z", 20, NULL), 0);
    t = 77;
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        if (slsa_timestamp_parse(bad[i], strlen(bad[i]), &t) != -EINVAL)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(t, 77);
    }
    assert_int_equal(slsa_timestamp_parse(NULL, 0, &t), -EINVAL);
    /* Length counts: a valid prefix is not enough. */
    assert_int_equal(slsa_timestamp_parse("2026-11-25T10:00:00Zjunk", 20, &t), 0);
    assert_int_equal(slsa_timestamp_parse("2026-11-25T10:00:00Z", 19, &t), -EINVAL);
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
            "",
            "[]",
            "{",
            "null",
            PRED(BT "," EXT, BLD) " x",
            /* required objects */
            "{\"runDetails\":{" BLD "}}",
            "{\"buildDefinition\":{" BT "," EXT "}}",
            "{\"buildDefinition\":[],\"runDetails\":{" BLD "}}",
            "{\"buildDefinition\":{" BT "," EXT "},\"runDetails\":\"x\"}",
            "{\"buildDefinition\":null,\"runDetails\":{" BLD "}}",
            /* buildType */
            PRED(EXT, BLD),
            PRED("\"buildType\":1," EXT, BLD),
            PRED("\"buildType\":null," EXT, BLD),
            PRED("\"buildType\":\"\"," EXT, BLD),
            PRED("\"buildType\":\"theBuildType\"," EXT, BLD),
            PRED("\"buildType\":\"HTTPS://example.com/bt\"," EXT, BLD),
            PRED("\"buildType\":\"https://Example.com/bt\"," EXT, BLD),
            PRED("\"buildType\":\"https://example.com/b t\"," EXT, BLD),
            PRED("\"buildType\":\"1https://example.com/bt\"," EXT, BLD),
            /* externalParameters: required, a non-empty object */
            PRED(BT, BLD),
            PRED(BT ",\"externalParameters\":{}", BLD),
            PRED(BT ",\"externalParameters\":\"a=b\"", BLD),
            PRED(BT ",\"externalParameters\":[1]", BLD),
            PRED(BT ",\"externalParameters\":null", BLD),
            PRED(BT "," EXT ",\"internalParameters\":\"x\"", BLD),
            PRED(BT "," EXT ",\"internalParameters\":[]", BLD),
            /* duplicate keys (json.h) */
            PRED(BT "," BT "," EXT, BLD),
            /* resolvedDependencies */
            PRED(BT "," EXT ",\"resolvedDependencies\":{}", BLD),
            DEPS("1"),
            DEPS("[]"),
            DEPS("{}"),
            DEPS("{\"name\":\"only-a-name\"}"),
            DEPS("{\"uri\":1}"),
            DEPS("{\"uri\":\"no-scheme/path\"}"),
            DEPS("{\"uri\":\"Git+https://example.com/r\"}"),
            DEPS("{\"uri\":\"\"}"),
            DEPS("{\"name\":2,\"uri\":\"https://example.com/r\"}"),
            DEPS("{\"digest\":\"" SHA_A "\"}"),
            DEPS("{\"digest\":{}}"),
            DEPS("{\"digest\":{\"sha256\":1}}"),
            DEPS("{\"digest\":{\"sha256\":\"\"}}"),
            DEPS("{\"digest\":{\"alg1\":\"\"}}"),
            DEPS("{\"digest\":{\"\":\"abc\"}}"),
            DEPS("{\"digest\":{\"sha256\":"
                 "\"853FF93762A06DDBF722C4EBE9DDD66D8F63DDAEA97F521C3ECC20DA"
                 "7C976020\"}}"),
            DEPS("{\"digest\":{\"sha256\":\"" GIT_A "\"}}"),
            DEPS("{\"digest\":{\"sha256\":\"" SHA_A "0\"}}"),
            DEPS("{\"digest\":{\"sha256\":"
                 "\"853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da"
                 "7c97602g\"}}"),
            DEPS("{\"digest\":{\"gitCommit\":\"7fd1a60b01f91b314f59955a4e4d4e80d8edf11\"}}"),
            DEPS("{\"digest\":{\"gitCommit\":\"7FD1A60B01F91B314F59955A4E4D4E80D8EDF11D\"}}"),
            DEPS("{\"digest\":{\"sha512\":\"" SHA_A "\"}}"),
            DEPS("{\"content\":\"not base64!\"}"),
            DEPS("{\"content\":1}"),
            DEPS("{\"uri\":\"https://example.com/r\",\"mediaType\":1}"),
            DEPS("{\"uri\":\"https://example.com/r\",\"annotations\":\"x\"}"),
            /* builder */
            PRED(BT "," EXT, ""),
            PRED(BT "," EXT, "\"builder\":\"https://example.com/builder\""),
            PRED(BT "," EXT, "\"builder\":{}"),
            PRED(BT "," EXT, "\"builder\":{\"id\":1}"),
            PRED(BT "," EXT, "\"builder\":{\"id\":\"theId\"}"),
            PRED(BT "," EXT, "\"builder\":{\"id\":\"https://EXAMPLE.com/b\"}"),
            PRED(BT "," EXT, "\"builder\":{\"id\":\"https://example.com/b\",\"version\":\"v1\"}"),
            PRED(BT "," EXT,
                 "\"builder\":{\"id\":\"https://example.com/b\",\"version\":{\"a\":1}}"),
            PRED(BT "," EXT, "\"builder\":{\"id\":\"https://example.com/b\","
                             "\"builderDependencies\":{}}"),
            PRED(BT "," EXT, "\"builder\":{\"id\":\"https://example.com/b\","
                             "\"builderDependencies\":[{}]}"),
            /* metadata */
            PRED(BT "," EXT, BLD ",\"metadata\":[]"),
            META("\"invocationId\":1"),
            META("\"startedOn\":0"),
            META("\"startedOn\":\"2026-11-25T10:00:00\""),
            META("\"finishedOn\":\"2026-11-25T10:00:00+01:00\""),
            META("\"finishedOn\":\"2026-02-30T10:00:00Z\""),
            META("\"startedOn\":\"2026-11-25T10:00:00.000000000000000000000000000000Z\""),
            /* byproducts */
            PRED(BT "," EXT, BLD ",\"byproducts\":{}"),
            PRED(BT "," EXT, BLD ",\"byproducts\":[{}]"),
            PRED(BT "," EXT, BLD ",\"byproducts\":[{\"name\":\"log\",\"content\":\"@@\"}]"),
    };

    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        parse_fails(bad[i], -EINVAL);
    parse_fails_len("{\"buildDefinition\"\0:{}}", 22, -EINVAL);
    {
        struct slsa_provenance *p = POISON_PTR;
        assert_int_equal(slsa_predicate_parse(NULL, 0, &p), -EINVAL);
        assert_ptr_equal(p, POISON_PTR);
    }
}

static void test_accepted_variants(void **state)
{
    static const char *const good[] = {
            /* unknown and vendor extension fields are ignored */
            "{\"buildDefinition\":{" BT "," EXT ",\"hwsign_x\":1},\"runDetails\":{" BLD
            ",\"hwsign_y\":[]},\"other\":null}",
            PRED(BT "," EXT ",\"resolvedDependencies\":[]", BLD ",\"byproducts\":[]"),
            DEPS("{\"digest\":{\"gitCommit\":\"" SHA_A "\"}}"),
            DEPS("{\"content\":\"aGk=\"}"),
            DEPS("{\"content\":\"aGk\"}"),
            DEPS("{\"uri\":\"pkg:deb/debian/openssl@3.0.11\"}"),
            DEPS("{\"uri\":\"https://example.com/"
                 "r\",\"downloadLocation\":\"x\",\"mediaType\":\"y\","
                 "\"annotations\":{\"k\":[1]}}"),
            PRED(BT "," EXT, "\"builder\":{\"id\":\"https://example.com/b\",\"version\":{}}"),
            META(""),
            META("\"invocationId\":\"\""),
            META("\"startedOn\":\"2024-02-29T23:59:59.999999999Z\""),
            PRED(BT "," EXT, BLD ",\"byproducts\":[{\"name\":\"log\",\"content\":\"\"}]"),
    };

    for (size_t i = 0; i < ELEMENTSOF(good); i++) {
        _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = parse_ok(good[i]);
        (void)p;
    }
}

/* A growable string for the limit tests. */
struct text {
    char *s;
    size_t len;
};

static void text_add(struct text *t, const char *s)
{
    size_t n = strlen(s);

    t->s = realloc(t->s, t->len + n + 1);
    assert_non_null(t->s);
    memcpy(t->s + t->len, s, n + 1);
    t->len += n;
}

static void text_repeat(struct text *t, const char *item, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            text_add(t, ",");
        text_add(t, item);
    }
}

static void text_fill(struct text *t, char c, size_t n)
{
    t->s = realloc(t->s, t->len + n + 1);
    assert_non_null(t->s);
    memset(t->s + t->len, c, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void text_clear(struct text *t)
{
    free(t->s);
    t->s = NULL;
    t->len = 0;
}

/* Parse the predicate built around n items: expect 0 at the limit and -EMSGSIZE past it. */
static void check_list_limit(const char *head, const char *item, const char *tail, size_t limit)
{
    for (size_t n = limit; n <= limit + 1; n++) {
        struct text t = {};
        text_add(&t, head);
        text_repeat(&t, item, n);
        text_add(&t, tail);
        if (n == limit) {
            _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = parse_ok(t.s);
            (void)p;
        } else {
            parse_fails(t.s, -EMSGSIZE);
        }
        text_clear(&t);
    }
}

/* A string value of n fill bytes at a position: 0 at the limit, -EMSGSIZE past it. */
static void check_string_limit(const char *head, const char *prefix, char fill, const char *tail,
                               size_t limit)
{
    for (size_t n = limit; n <= limit + 1; n++) {
        struct text t = {};
        text_add(&t, head);
        text_add(&t, prefix);
        text_fill(&t, fill, n - strlen(prefix));
        text_add(&t, tail);
        if (n == limit) {
            _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = parse_ok(t.s);
            (void)p;
        } else {
            parse_fails(t.s, -EMSGSIZE);
        }
        text_clear(&t);
    }
}

static void test_limits(void **state)
{
    struct text t = {};

    check_list_limit("{\"buildDefinition\":{" BT "," EXT ",\"resolvedDependencies\":[",
                     "{\"uri\":\"https://example.com/d\"}", "]},\"runDetails\":{" BLD "}}",
                     SLSA_MAX_DEPENDENCIES);
    check_list_limit("{\"buildDefinition\":{" BT "," EXT "},\"runDetails\":{" BLD
                     ",\"byproducts\":[",
                     "{\"name\":\"b\",\"content\":\"e30=\"}", "]}}", SLSA_MAX_BYPRODUCTS);
    check_list_limit("{\"buildDefinition\":{" BT "," EXT "},\"runDetails\":{\"builder\":{\"id\":"
                     "\"https://example.com/b\",\"builderDependencies\":[",
                     "{\"uri\":\"https://example.com/d\"}", "]}}}", SLSA_MAX_BUILDER_DEPS);
    /* Version keys must differ (duplicates are malformed): grow the map by hand. */
    for (size_t n = SLSA_MAX_VERSIONS; n <= SLSA_MAX_VERSIONS + 1; n++) {
        text_add(&t, "{\"buildDefinition\":{" BT "," EXT "},\"runDetails\":{\"builder\":{\"id\":"
                     "\"https://example.com/b\",\"version\":{");
        for (size_t i = 0; i < n; i++) {
            char item[32];
            int k = snprintf(item, sizeof(item), "%s\"c%zu\":\"v\"", i ? "," : "", i);
            assert_true(k > 0 && (size_t)k < sizeof(item));
            text_add(&t, item);
        }
        text_add(&t, "}}}}");
        if (n == SLSA_MAX_VERSIONS) {
            _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = parse_ok(t.s);
            (void)p;
        } else {
            parse_fails(t.s, -EMSGSIZE);
        }
        text_clear(&t);
    }
    /* DigestSet entries (INTOTO_MAX_DIGESTS). */
    for (size_t n = INTOTO_MAX_DIGESTS; n <= INTOTO_MAX_DIGESTS + 1; n++) {
        text_add(&t,
                 "{\"buildDefinition\":{" BT "," EXT ",\"resolvedDependencies\":[{\"digest\":{");
        for (size_t i = 0; i < n; i++) {
            char item[32];
            int k = snprintf(item, sizeof(item), "%s\"a%zu\":\"1\"", i ? "," : "", i);
            assert_true(k > 0 && (size_t)k < sizeof(item));
            text_add(&t, item);
        }
        text_add(&t, "}}]},\"runDetails\":{" BLD "}}");
        if (n == INTOTO_MAX_DIGESTS) {
            _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = parse_ok(t.s);
            (void)p;
        } else {
            parse_fails(t.s, -EMSGSIZE);
        }
        text_clear(&t);
    }

    /* Strings. */
    check_string_limit("{\"buildDefinition\":{\"buildType\":\"", "https://example.com/", 'a',
                       "\"," EXT "},\"runDetails\":{" BLD "}}", SLSA_MAX_URI);
    check_string_limit("{\"buildDefinition\":{" BT "," EXT "},\"runDetails\":{\"builder\":{\"id\":"
                       "\"",
                       "https://example.com/", 'a', "\"}}}", SLSA_MAX_URI);
    check_string_limit(BD_HEAD ",\"resolvedDependencies\":[{\"uri\":\"", "https://example.com/",
                       'a', "\"}]" RD_ONLY, SLSA_MAX_URI);
    check_string_limit(BD_HEAD ",\"resolvedDependencies\":[{\"uri\":\"https://e.com/\",\"name\":\"",
                       "", 'n', "\"}]" RD_ONLY, SLSA_MAX_NAME);
    check_string_limit(BD_HEAD "},\"runDetails\":{" BLD ",\"metadata\":{\"invocationId\":\"", "",
                       'i', "\"}}}", SLSA_MAX_INVOCATION_ID);
    check_string_limit(BD_HEAD ",\"resolvedDependencies\":[{\"digest\":{\"alg1\":\"", "", 'd',
                       "\"}}]" RD_ONLY, INTOTO_MAX_DIGEST_TEXT);
    check_string_limit(BD_HEAD "},\"runDetails\":{\"builder\":{\"id\":\"https://e.com/b\","
                               "\"version\":{\"c\":\"",
                       "", 'v', "\"}}}}", SLSA_MAX_TEXT);
    check_string_limit(BD_HEAD ",\"resolvedDependencies\":[{\"uri\":\"https://e.com/\","
                               "\"mediaType\":\"",
                       "", 'm', "\"}]" RD_ONLY, SLSA_MAX_TEXT);

    /* content: SLSA_MAX_CONTENT decoded bytes (4096 = 1365 * 3 + 1), then one more. */
    for (size_t extra = 0; extra <= 1; extra++) {
        text_add(&t, BD_HEAD ",\"resolvedDependencies\":[{\"content\":\"");
        text_fill(&t, 'A', (SLSA_MAX_CONTENT / 3) * 4);
        text_add(&t, extra ? "AAA=" : "AA==");
        text_add(&t, "\"}]" RD_ONLY);
        if (!extra) {
            _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = parse_ok(t.s);
            (void)p;
        } else {
            parse_fails(t.s, -EMSGSIZE);
        }
        text_clear(&t);
    }

    /* The whole predicate: SLSA_MAX_PREDICATE bytes, then one more. */
    for (size_t extra = 0; extra <= 1; extra++) {
        static const char head[] = "{\"buildDefinition\":{" BT ",\"externalParameters\":{\"a\":\"";
        static const char tail[] = "\"}},\"runDetails\":{" BLD "}}";
        text_add(&t, head);
        text_fill(&t, 'p', SLSA_MAX_PREDICATE - strlen(head) - strlen(tail) + extra);
        text_add(&t, tail);
        if (!extra) {
            _cleanup_(slsa_provenance_freep) struct slsa_provenance *p = parse_ok(t.s);
            (void)p;
        } else {
            parse_fails(t.s, -EMSGSIZE);
        }
        text_clear(&t);
    }
}

/* head + n times c + tail, malloc'd. */
static char *filled(const char *head, char c, size_t n, const char *tail)
{
    struct text t = {};

    text_add(&t, head);
    text_fill(&t, c, n);
    text_add(&t, tail);
    return t.s;
}

static void test_build_errors(void **state)
{
    struct slsa_build_params p;
    struct slsa_dependency dep;
    struct slsa_byproduct bp;
    char *out = POISON_PTR;
    size_t n = 0;
    _cleanup_free_ char *big = NULL;

    assert_int_equal(slsa_predicate_build(NULL, &out, &n), -EINVAL);
    assert_ptr_equal(out, POISON_PTR);
    assert_int_equal(slsa_predicate_build(&kat_params, NULL, &n), -EINVAL);

#define WITH(field, value, err)                                                                    \
    do {                                                                                           \
        p = kat_params;                                                                            \
        p.field = (value);                                                                         \
        build_fails(&p, (err));                                                                    \
    } while (0)

    WITH(build_type, NULL, -EINVAL);
    WITH(build_type, "theBuildType", -EINVAL);
    WITH(build_type, "HTTPS://example.com/", -EINVAL);
    WITH(external_parameters, NULL, -EINVAL);
    WITH(external_parameters, "{}", -EINVAL);
    WITH(external_parameters, "[]", -EINVAL);
    WITH(external_parameters, "{\"a\":1,\"a\":2}", -EINVAL);
    WITH(external_parameters, "{\"a\":1", -EINVAL);
    WITH(internal_parameters, "\"x\"", -EINVAL);
    WITH(builder_id, NULL, -EINVAL);
    WITH(builder_id, "theId", -EINVAL);
    big = filled("https://example.com/", 'u', SLSA_MAX_URI - 19, "");
    WITH(build_type, big, -EMSGSIZE);
    WITH(builder_id, big, -EMSGSIZE);
    free(big);
    WITH(started_on, "2026-11-25T10:00:00", -EINVAL);
    WITH(finished_on, "2026-02-29T10:00:00Z", -EINVAL);
    WITH(dependencies, NULL, -EINVAL);
    WITH(n_dependencies, SLSA_MAX_DEPENDENCIES + 1, -EMSGSIZE);
    WITH(byproducts, NULL, -EINVAL);
    WITH(n_byproducts, SLSA_MAX_BYPRODUCTS + 1, -EMSGSIZE);

    big = filled("", 'a', SLSA_MAX_INVOCATION_ID + 1, "");
    WITH(invocation_id, big, -EMSGSIZE);
    free(big);
    /* A parameter object that alone fits but makes the predicate too big, and one that doesn't. */
    big = filled("{\"a\":\"", 'a', SLSA_MAX_PREDICATE - 16, "\"}");
    WITH(external_parameters, big, -EMSGSIZE);
    free(big);
    big = filled("{\"a\":\"", 'a', SLSA_MAX_PREDICATE, "\"}");
    WITH(internal_parameters, big, -EMSGSIZE);
    free(big);
#undef WITH

    /* Dependencies. */
    {
        static const struct {
            struct slsa_dependency dep;
            int err;
        } bad[] = {
                {{.name = "nothing"}, -EINVAL},
                {{.uri = "no-scheme"}, -EINVAL},
                {{.uri = "https://EXAMPLE.com/"}, -EINVAL},
                {{.sha256 = GIT_A}, -EINVAL},
                {{.sha256 = "853FF93762A06DDBF722C4EBE9DDD66D8F63DDAEA97F521C3ECC20DA7C976020"},
                 -EINVAL},
                {{.git_commit = SHA_A "00"}, -EINVAL},
                {{.git_commit = ""}, -EINVAL},
                {{.uri = "https://example.com/", .sha256 = ""}, -EINVAL},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
            p = kat_params;
            dep = bad[i].dep;
            p.dependencies = &dep;
            p.n_dependencies = 1;
            build_fails(&p, bad[i].err);
        }
        p = kat_params;
        big = filled("", 'n', SLSA_MAX_NAME + 1, "");
        dep = (struct slsa_dependency){.uri = "https://example.com/", .name = big};
        p.dependencies = &dep;
        p.n_dependencies = 1;
        build_fails(&p, -EMSGSIZE);
    }

    /* Byproducts. */
    {
        static const struct {
            struct slsa_byproduct bp;
            int err;
        } bad[] = {
                {{.name = NULL, .content = "{}", .content_len = 2}, -EINVAL},
                {{.name = "", .content = "{}", .content_len = 2}, -EINVAL},
                {{.name = "log", .content = NULL, .content_len = 0}, -EINVAL},
                {{.name = "log", .content = "plain text", .content_len = 10}, -EINVAL},
                {{.name = "log", .content = "[1]", .content_len = 3}, -EINVAL},
                {{.name = "log", .content = "{}", .content_len = SLSA_MAX_CONTENT + 1}, -EMSGSIZE},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
            p = kat_params;
            bp = bad[i].bp;
            p.byproducts = &bp;
            p.n_byproducts = 1;
            build_fails(&p, bad[i].err);
        }
    }

    /* Minimal params: only the required fields. */
    {
        _cleanup_free_ char *o = NULL;
        size_t on = 0;
        struct slsa_build_params min = {
                .build_type = "https://example.com/bt/v1",
                .external_parameters = "{\"a\":\"b\"}",
                .builder_id = "https://example.com/builder",
        };
        assert_int_equal(slsa_predicate_build(&min, &o, &on), 0);
        assert_string_equal(o, PRED(BT "," EXT, BLD));
    }
    /* A dependency named by uri alone gets no digest. */
    {
        _cleanup_(slsa_provenance_freep) struct slsa_provenance *pp = NULL;
        _cleanup_free_ char *o = NULL;
        size_t on = 0;
        struct slsa_dependency only_uri = {.uri = "https://example.com/d"};
        struct slsa_build_params min = {
                .build_type = "https://example.com/bt/v1",
                .external_parameters = "{\"a\":\"b\"}",
                .dependencies = &only_uri,
                .n_dependencies = 1,
                .builder_id = "https://example.com/builder",
        };
        assert_int_equal(slsa_predicate_build(&min, &o, &on), 0);
        assert_string_equal(o, DEPS("{\"uri\":\"https://example.com/d\"}"));
        pp = parse_ok(o);
        assert_string_equal(slsa_provenance_dependency(pp, 0)->uri, only_uri.uri);
        assert_null(slsa_provenance_dependency(pp, 0)->sha256);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_formats_32_shape), cmocka_unit_test(test_build_known_answer),
            cmocka_unit_test(test_full_statement),   cmocka_unit_test(test_timestamps),
            cmocka_unit_test(test_malformed),        cmocka_unit_test(test_accepted_variants),
            cmocka_unit_test(test_limits),           cmocka_unit_test(test_build_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
