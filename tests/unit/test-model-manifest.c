/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/model without a file system: model-relative path rules (canonical form, normalisation,
 * component order against strcmp order, "within"), the manifest's add and sort rules, every
 * way a signed predicate is accepted (upstream's float shard_size, unknown members, the later
 * empty shard, colons in paths) or refused (missing members, other hashes and methods, bad
 * names, shard bounds, digests, ignore paths, duplicates, root mismatch, statement shape),
 * manifest comparison (modified, missing, extra; shard layouts) and model names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "format.h"
#include "intoto.h"
#include "macro.h"
#include "model-manifest.h"
#include "model-path.h"

#define POISON_PTR   ((void *)(uintptr_t)0xdeadbeef)
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t d[32];
    unsigned n = 0;
    char *h = NULL;

    assert_int_equal(EVP_Digest(data, len, d, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(hex_encode(d, 32, &h), 0);
    memcpy(out, h, 65);
    free(h);
}

static void test_path_rules(void **state)
{
    static const char *const good[] = {"a", "a/b", ".git", "a/.b", "..a", "a..", "é/ü", "a b"};
    static const char *const bad[] = {"",
                                      "/a",
                                      "a/",
                                      "a//b",
                                      ".",
                                      "..",
                                      "a/.",
                                      "./a",
                                      "a/..",
                                      "../b",
                                      ("a\x01"
                                       "b"),
                                      "\xff",
                                      "\xc0\xaf",
                                      "a\x7f"};
    char *out = POISON_PTR;

    for (size_t i = 0; i < ELEMENTSOF(good); i++)
        assert_true(model_path_is_canonical(good[i], strlen(good[i])));
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        assert_false(model_path_is_canonical(bad[i], strlen(bad[i])));

    assert_int_equal(model_path_normalize("./a//b/", &out), 0);
    assert_string_equal(out, "a/b");
    free(out);
    assert_int_equal(model_path_normalize("a/./b/.", &out), 0);
    assert_string_equal(out, "a/b");
    free(out);
    out = POISON_PTR;
    assert_int_equal(model_path_normalize("/abs", &out), -EINVAL);
    assert_int_equal(model_path_normalize("a/../b", &out), -EINVAL);
    assert_int_equal(model_path_normalize("./", &out), -EINVAL);
    assert_int_equal(model_path_normalize("", &out), -EINVAL);
    assert_int_equal(model_path_normalize("a/\xff", &out), -EINVAL);
    assert_ptr_equal(out, POISON_PTR);

    assert_true(model_path_within("a", "a"));
    assert_true(model_path_within("a/b/c", "a/b"));
    assert_false(model_path_within("ab", "a"));
    assert_false(model_path_within("a", "a/b"));
    assert_false(model_path_within(".gitfoo", ".git"));
}

static void test_path_order(void **state)
{
    /* The component order of PurePosixPath, spelled out: */
    static const char *const sorted[] = {"a/a/x", "a/b", "a/b/c", "a-b", "a.b", "ab", "b"};

    for (size_t i = 0; i < ELEMENTSOF(sorted); i++)
        for (size_t j = 0; j < ELEMENTSOF(sorted); j++) {
            int c = model_path_compare(sorted[i], sorted[j]);

            assert_true(i < j ? c < 0 : i > j ? c > 0 : c == 0);
        }
    /* ... which is not strcmp's: */
    assert_true(strcmp("a/b", "a-b") > 0);
    assert_true(model_path_compare("a/b", "a-b") < 0);
    assert_true(strcmp("a/b", "a.b") > 0);
    assert_true(model_path_compare("a/b", "a.b") < 0);
    /* A byte above '/' only in a later component does not matter once an earlier one differs. */
    assert_true(model_path_compare("a/z", "a0") < 0);
    assert_true(model_path_compare("\xc3\xa9", "z") > 0); /* unsigned bytes: U+00E9 after 'z' */
}

/* A statement around pred (a JSON object) naming the given root, parsed into a manifest. */
static int parse_predicate(const char *pred, const char *root_hex, struct model_manifest **ret)
{
    struct intoto_subject subject = {.name = "m"};
    struct intoto_statement *st = NULL;
    uint8_t *root = NULL;
    size_t n = 0, len = 0;
    char *stmt = NULL;
    int r;

    assert_int_equal(hex_decode(root_hex, 64, &root, &n), 0);
    memcpy(subject.sha256, root, 32);
    free(root);
    assert_int_equal(intoto_statement_build(&subject, 1, MODEL_PREDICATE_TYPE, pred, strlen(pred),
                                            &stmt, &len),
                     0);
    assert_int_equal(intoto_statement_parse((const uint8_t *)stmt, len, &st), 0);
    free(stmt);
    r = model_manifest_from_statement(st, ret);
    intoto_statement_free(st);
    return r;
}

/* Root of the listed hex digests. */
static void root_of(const char *const *digests, size_t n, char out[65])
{
    uint8_t all[8 * 32];

    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        uint8_t *d = NULL;
        size_t dl = 0;

        assert_int_equal(hex_decode(digests[i], 64, &d, &dl), 0);
        memcpy(all + 32 * i, d, 32);
        free(d);
    }
    sha256_hex(all, 32 * n, out);
}

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "2222222222222222222222222222222222222222222222222222222222222222"

static void test_parse_accepts(void **state)
{
    static const char *const two[] = {D2, D1};
    struct model_manifest *m = NULL;
    char root[65];

    root_of(two, 2, root);
    /* Upstream's float shard_size, unknown members (ignored), listed order not sorted. */
    assert_int_equal(
            parse_predicate("{\"future\":1,\"serialization\":{\"method\":\"shards\",\"hash_type\":"
                            "\"sha256\",\"allow_symlinks\":true,\"shard_size\":8.0,\"x\":[]},"
                            "\"resources\":[{\"algorithm\":\"sha256-sharded-8\",\"digest\":\"" D2
                            "\",\"name\":\"f:8:9\",\"extra\":true},{\"algorithm\":\"sha256-sharded-"
                            "8\",\"digest\":\"" D1 "\",\"name\":\"f:0:8\"}]}",
                            root, &m),
            0);
    assert_int_equal(model_manifest_serialization(m)->method, MODEL_METHOD_SHARDS);
    assert_int_equal(model_manifest_serialization(m)->shard_size, 8);
    assert_true(model_manifest_serialization(m)->allow_symlinks);
    assert_string_equal(model_manifest_resource(m, 0)->name, "f:0:8"); /* sorted after the root */
    assert_true(model_manifest_has_path(m, "f"));
    assert_false(model_manifest_has_path(m, "g"));
    model_manifest_free(m);
    /* The later model_signing empty shard; a name with ':' in its path; upper-case hex. */
    root_of(two, 2, root);
    assert_int_equal(
            parse_predicate("{\"serialization\":{\"method\":\"shards\",\"hash_type\":\"sha256\","
                            "\"allow_symlinks\":false,\"shard_size\":1000000000},\"resources\":["
                            "{\"name\":\"a:b:0:0\",\"algorithm\":\"sha256-sharded-1000000000\","
                            "\"digest\":\"" D2 "\"},{\"name\":\"e:0:0\",\"algorithm\":\"sha256-"
                            "sharded-1000000000\",\"digest\":\"" D1 "\"}]}",
                            root, &m),
            0);
    assert_string_equal(model_manifest_resource(m, 0)->path, "a:b");
    assert_true(model_manifest_has_empty_shards(m));
    model_manifest_free(m);
}

static void test_parse_rejects(void **state)
{
    static const char *const one[] = {D1};
    static const struct {
        const char *pred;
        int want;
    } cases[] = {
#define SER_F                                                                                      \
    "\"serialization\":{\"method\":\"files\",\"hash_type\":\"sha256\",\"allow_symlinks\":false"
#define RES1(name, alg)                                                                            \
    "\"resources\":[{\"name\":\"" name "\",\"algorithm\":\"" alg "\",\"digest\":\"" D1 "\"}]"
            {"{" SER_F "}," RES1("f", "sha256") "}", 0},
            {"{" RES1("f", "sha256") "}", -EINVAL},
            {"{" SER_F "}}", -EINVAL},
            {"{" SER_F "},\"resources\":{}}", -EINVAL},
            {"{\"serialization\":{\"method\":\"files\",\"hash_type\":\"blake2b\",\"allow_"
             "symlinks\":"
             "false}," RES1("f", "blake2b") "}",
             -EOPNOTSUPP},
            {"{\"serialization\":{\"method\":\"tensors\",\"hash_type\":\"sha256\",\"allow_"
             "symlinks\":"
             "false}," RES1("f", "sha256") "}",
             -EOPNOTSUPP},
            {"{\"serialization\":{\"method\":\"files\",\"hash_type\":\"sha256\",\"allow_symlinks\":"
             "\"false\"}," RES1("f", "sha256") "}",
             -EINVAL},
            {"{\"serialization\":{\"method\":\"files\",\"hash_type\":\"sha256\"}," RES1(
                     "f", "sha256") "}",
             -EINVAL},
            {"{" SER_F "}," RES1("f", "sha512") "}", -EINVAL},
            {"{" SER_F "}," RES1("../f", "sha256") "}", -EINVAL},
            {"{" SER_F "}," RES1("/f", "sha256") "}", -EINVAL},
            {"{" SER_F "}," RES1("a//f", "sha256") "}", -EINVAL},
            {"{" SER_F "}," RES1("", "sha256") "}", -EINVAL},
            {"{" SER_F
             "},\"resources\":[{\"name\":\"f\",\"algorithm\":\"sha256\",\"digest\":\"11\"}]}",
             -EINVAL},
            {"{" SER_F "},\"resources\":[{\"name\":\"f\",\"algorithm\":\"sha256\",\"digest\":\"" D1
             "zz\"}]}",
             -EINVAL},
            {"{" SER_F "},\"resources\":[{\"name\":\"f\",\"algorithm\":\"sha256\"}]}", -EINVAL},
            {"{" SER_F "},\"resources\":[\"f\"]}", -EINVAL},
            {"{" SER_F ",\"ignore_paths\":[\"../etc\"]}," RES1("f", "sha256") "}", -EINVAL},
            {"{" SER_F ",\"ignore_paths\":[\".\"]}," RES1("f", "sha256") "}", -EINVAL},
            {"{" SER_F ",\"ignore_paths\":[1]}," RES1("f", "sha256") "}", -EINVAL},
            {"{" SER_F ",\"ignore_paths\":[\"./a/\"]}," RES1("f", "sha256") "}", 0},
#define SER_S(size)                                                                                \
    "\"serialization\":{\"method\":\"shards\",\"hash_type\":\"sha256\",\"allow_symlinks\":false,"  \
    "\"shard_size\":" size
            {"{" SER_S("8") "}," RES1("f:0:8", "sha256-sharded-8") "}", 0},
            {"{" SER_S("8.5") "}," RES1("f:0:8", "sha256-sharded-8") "}", -EINVAL},
            {"{" SER_S("0") "}," RES1("f:0:8", "sha256-sharded-0") "}", -EINVAL},
            {"{" SER_S("-8") "}," RES1("f:0:8", "sha256-sharded-8") "}", -EINVAL},
            {"{" SER_S("\"8\"") "}," RES1("f:0:8", "sha256-sharded-8") "}", -EINVAL},
            {"{" SER_S("9007199254740992") "}," RES1("f:0:8",
                                                     "sha256-sharded-9007199254740992") "}",
             -EINVAL},
            {"{\"serialization\":{\"method\":\"shards\",\"hash_type\":\"sha256\",\"allow_"
             "symlinks\":"
             "false}," RES1("f:0:8", "sha256-sharded-8") "}",
             -EINVAL},
            {"{" SER_S("8") "}," RES1("f:0:8", "sha256") "}", -EINVAL},
            {"{" SER_S("8") "}," RES1("f", "sha256-sharded-8") "}", -EINVAL},
            {"{" SER_S("8") "}," RES1("f:0", "sha256-sharded-8") "}", -EINVAL},
            {"{" SER_S("8") "}," RES1("f:4:8", "sha256-sharded-8") "}", -EINVAL},
            {"{" SER_S("8") "}," RES1("f:0:9", "sha256-sharded-8") "}", -EINVAL},
            {"{" SER_S("8") "}," RES1("f:8:8", "sha256-sharded-8") "}", -EINVAL},
            {"{" SER_S("8") "}," RES1("f:+0:8", "sha256-sharded-8") "}", -EINVAL},
            {"{" SER_S("8") "}," RES1("f:0:x", "sha256-sharded-8") "}", -EINVAL},
            {"{" SER_S("8") "}," RES1(":0:8", "sha256-sharded-8") "}", -EINVAL},
#undef SER_F
#undef SER_S
#undef RES1
    };
    struct model_manifest *m = POISON_PTR;
    char root[65];

    root_of(one, 1, root);
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        int r = parse_predicate(cases[i].pred, root, &m);

        if (r != cases[i].want)
            fail_msg("case %zu: %d, want %d: %s", i, r, cases[i].want, cases[i].pred);
        if (r == 0)
            m = model_manifest_free(m);
        else
            assert_ptr_equal(m, POISON_PTR);
        m = POISON_PTR;
    }
    /* The root must match the listed digests. */
    assert_int_equal(parse_predicate("{\"serialization\":{\"method\":\"files\",\"hash_type\":"
                                     "\"sha256\",\"allow_symlinks\":false},\"resources\":[]}",
                                     root, &m),
                     -EBADMSG);
    assert_int_equal(parse_predicate("{\"serialization\":{\"method\":\"files\",\"hash_type\":"
                                     "\"sha256\",\"allow_symlinks\":false},\"resources\":[]}",
                                     EMPTY_SHA256, &m),
                     0);
    model_manifest_free(m);
    m = POISON_PTR;
    /* Duplicate names (the root over both still matches). */
    {
        static const char *const two[] = {D1, D1};

        root_of(two, 2, root);
        assert_int_equal(parse_predicate("{\"serialization\":{\"method\":\"files\",\"hash_type\":"
                                         "\"sha256\",\"allow_symlinks\":false},\"resources\":[{"
                                         "\"name\":\"f\",\"algorithm\":\"sha256\",\"digest\":\"" D1
                                         "\"},{\"name\":\"f\",\"algorithm\":\"sha256\","
                                         "\"digest\":\"" D1 "\"}]}",
                                         root, &m),
                         -EINVAL);
        assert_ptr_equal(m, POISON_PTR);
    }
}

static void test_parse_statement_shape(void **state)
{
    struct intoto_subject subjects[2] = {{.name = "a"}, {.name = "b"}};
    const char *pred = "{\"serialization\":{\"method\":\"files\",\"hash_type\":\"sha256\","
                       "\"allow_symlinks\":false},\"resources\":[]}";
    struct intoto_statement *st = NULL;
    struct model_manifest *m = POISON_PTR;
    char *stmt = NULL;
    size_t len = 0;
    uint8_t *e = NULL;
    size_t n = 0;

    assert_int_equal(hex_decode(EMPTY_SHA256, 64, &e, &n), 0);
    memcpy(subjects[0].sha256, e, 32);
    memcpy(subjects[1].sha256, e, 32);
    free(e);
    /* Two subjects. */
    assert_int_equal(intoto_statement_build(subjects, 2, MODEL_PREDICATE_TYPE, pred, strlen(pred),
                                            &stmt, &len),
                     0);
    assert_int_equal(intoto_statement_parse((const uint8_t *)stmt, len, &st), 0);
    assert_int_equal(model_manifest_from_statement(st, &m), -EINVAL);
    st = intoto_statement_free(st);
    free(stmt);
    /* Another predicate type, e.g. the legacy v0.1 one. */
    assert_int_equal(intoto_statement_build(subjects, 1, "https://model_signing/Digests/v0.1", pred,
                                            strlen(pred), &stmt, &len),
                     0);
    assert_int_equal(intoto_statement_parse((const uint8_t *)stmt, len, &st), 0);
    assert_int_equal(model_manifest_from_statement(st, &m), -EINVAL);
    assert_int_equal(model_manifest_from_statement(NULL, &m), -EINVAL);
    assert_ptr_equal(m, POISON_PTR);
    intoto_statement_free(st);
    free(stmt);
}

static struct model_manifest *manifest_of(enum model_method method, uint64_t S,
                                          const char *const *paths, const uint64_t *ranges,
                                          const uint8_t *fill, size_t n)
{
    struct model_serialization ser = {.method = method, .shard_size = S};
    struct model_manifest *m = NULL;

    assert_int_equal(model_manifest_new("m", &ser, NULL, 0, &m), 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t d[32];

        memset(d, fill[i], 32);
        assert_int_equal(model_manifest_add(m, paths[i], ranges ? ranges[2 * i] : 0,
                                            ranges ? ranges[2 * i + 1] : 0, d),
                         0);
    }
    assert_int_equal(model_manifest_sort(m), 0);
    return m;
}

static void test_compare(void **state)
{
    static const char *const pe[] = {"a", "b", "c/d", "e"};
    static const char *const pa[] = {"a", "c/d", "e", "f", "b2"};
    static const uint8_t fe[] = {1, 2, 3, 4}, fa[] = {1, 3, 5, 6, 2};
    static const struct {
        const char *path;
        enum model_diff_kind kind;
    } want[] = {{"b", MODEL_DIFF_MISSING},
                {"b2", MODEL_DIFF_EXTRA},
                {"e", MODEL_DIFF_MODIFIED},
                {"f", MODEL_DIFF_EXTRA}};
    struct model_manifest *e = manifest_of(MODEL_METHOD_FILES, 0, pe, NULL, fe, 4);
    struct model_manifest *a = manifest_of(MODEL_METHOD_FILES, 0, pa, NULL, fa, 5);
    struct model_diff *d = POISON_PTR;

    assert_int_equal(model_manifest_compare(e, a, &d), 0);
    assert_int_equal(model_diff_count(d), ELEMENTSOF(want));
    for (size_t i = 0; i < ELEMENTSOF(want); i++) {
        assert_string_equal(model_diff_entry(d, i)->path, want[i].path);
        assert_int_equal(model_diff_entry(d, i)->kind, want[i].kind);
    }
    assert_null(model_diff_entry(d, 4));
    assert_int_equal(model_diff_count_kind(d, MODEL_DIFF_EXTRA), 2);
    assert_int_equal(model_diff_count_kind(d, MODEL_DIFF_MISSING), 1);
    model_diff_free(d);
    /* Self-comparison is clean; a files manifest and a shards one do not compare. */
    assert_int_equal(model_manifest_compare(e, e, &d), 0);
    assert_int_equal(model_diff_count(d), 0);
    model_diff_free(d);
    {
        static const char *const ps[] = {"a", "a", "g"};
        static const uint64_t r1[] = {0, 8, 8, 10, 0, 4}, r2[] = {0, 8, 8, 11, 0, 4};
        static const uint8_t f1[] = {1, 2, 3}, f2[] = {1, 2, 3}, f3[] = {1, 9, 3};
        struct model_manifest *s1 = manifest_of(MODEL_METHOD_SHARDS, 8, ps, r1, f1, 3);
        struct model_manifest *s2 = manifest_of(MODEL_METHOD_SHARDS, 8, ps, r2, f2, 3);
        struct model_manifest *s3 = manifest_of(MODEL_METHOD_SHARDS, 8, ps, r1, f3, 3);
        struct model_manifest *s4 = manifest_of(MODEL_METHOD_SHARDS, 8, ps, r1, f1, 1);

        d = POISON_PTR;
        assert_int_equal(model_manifest_compare(e, s1, &d), -EINVAL);
        assert_ptr_equal(d, POISON_PTR);
        /* Another layout of the same file (it grew by a byte): modified. */
        assert_int_equal(model_manifest_compare(s1, s2, &d), 0);
        assert_int_equal(model_diff_count(d), 1);
        assert_string_equal(model_diff_entry(d, 0)->path, "a");
        assert_int_equal(model_diff_entry(d, 0)->kind, MODEL_DIFF_MODIFIED);
        model_diff_free(d);
        /* One shard's digest: modified, once per file. */
        assert_int_equal(model_manifest_compare(s1, s3, &d), 0);
        assert_int_equal(model_diff_count(d), 1);
        assert_int_equal(model_diff_entry(d, 0)->kind, MODEL_DIFF_MODIFIED);
        model_diff_free(d);
        /* A shard fewer (a:8:10) is a modified a; g missing. */
        assert_int_equal(model_manifest_compare(s1, s4, &d), 0);
        assert_int_equal(model_diff_count(d), 2);
        assert_string_equal(model_diff_entry(d, 0)->path, "a");
        assert_int_equal(model_diff_entry(d, 0)->kind, MODEL_DIFF_MODIFIED);
        assert_string_equal(model_diff_entry(d, 1)->path, "g");
        assert_int_equal(model_diff_entry(d, 1)->kind, MODEL_DIFF_MISSING);
        model_diff_free(d);
        model_manifest_free(s1);
        model_manifest_free(s2);
        model_manifest_free(s3);
        model_manifest_free(s4);
    }
    model_manifest_free(e);
    model_manifest_free(a);
}

static void test_manifest_add_rules(void **state)
{
    struct model_serialization files = {.method = MODEL_METHOD_FILES};
    struct model_serialization shards = {.method = MODEL_METHOD_SHARDS, .shard_size = 8};
    struct model_manifest *m = NULL;
    uint8_t d[32] = {0};

    assert_int_equal(model_manifest_new("m", &files, NULL, 0, &m), 0);
    assert_int_equal(model_manifest_add(m, "f", 0, 8, d), -EINVAL);
    assert_int_equal(model_manifest_add(m, "./f", 0, 0, d), -EINVAL);
    assert_int_equal(model_manifest_add(m, "f", 0, 0, d), 0);
    assert_int_equal(model_manifest_add(m, "f", 0, 0, d), 0);
    assert_int_equal(model_manifest_sort(m), -EEXIST);
    model_manifest_free(m);
    assert_int_equal(model_manifest_new("m", &shards, NULL, 0, &m), 0);
    assert_int_equal(model_manifest_add(m, "f", 0, 9, d), -EINVAL);
    assert_int_equal(model_manifest_add(m, "f", 1, 8, d), -EINVAL);
    assert_int_equal(model_manifest_add(m, "f", 8, 8, d), -EINVAL);
    assert_int_equal(model_manifest_add(m, "f", 8, 9, d), 0);
    assert_int_equal(model_manifest_add(m, "f", 0, 8, d), 0);
    assert_int_equal(model_manifest_add(m, "f", 0, 0, d), 0);
    /* Statements need sorted manifests. */
    {
        char *s = POISON_PTR;
        size_t l = 0;

        assert_int_equal(model_manifest_statement(m, &s, &l), -EINVAL);
        assert_ptr_equal(s, POISON_PTR);
        assert_int_equal(model_manifest_sort(m), 0);
        assert_string_equal(model_manifest_resource(m, 0)->name, "f:0:0");
        assert_string_equal(model_manifest_resource(m, 2)->name, "f:8:9");
        assert_int_equal(model_manifest_statement(m, &s, &l), 0);
        free(s);
    }
    model_manifest_free(m);
    m = POISON_PTR;
    assert_int_equal(model_manifest_new("", &files, NULL, 0, &m), -EINVAL);
    assert_int_equal(model_manifest_new("a\x01", &files, NULL, 0, &m), -EINVAL);
    {
        static const char *const bad[] = {"/x"};

        assert_int_equal(model_manifest_new("m", &files, bad, 1, &m), -EINVAL);
    }
    assert_ptr_equal(m, POISON_PTR);
}

static void test_model_name(void **state)
{
    static const struct {
        const char *dir, *resolved, *want;
    } cases[] = {
            {"model", NULL, "model"},
            {"a/b/model/", NULL, "model"},
            {"/srv/models/llama///", NULL, "llama"},
            {".", "/srv/models/llama", "llama"},
            {"..", "/srv/models", "models"},
            {"a/..", "/srv/x", "x"},
            {"./", "/srv/y/", "y"},
    };
    char *name = POISON_PTR;

    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        assert_int_equal(model_name_from_dir(cases[i].dir, cases[i].resolved, &name), 0);
        assert_string_equal(name, cases[i].want);
        free(name);
    }
    name = POISON_PTR;
    assert_int_equal(model_name_from_dir(".", NULL, &name), -EINVAL);
    assert_int_equal(model_name_from_dir(".", "/", &name), -EINVAL);
    assert_int_equal(model_name_from_dir("/", "/", &name), -EINVAL);
    assert_int_equal(model_name_from_dir("bad\xff", NULL, &name), -EINVAL);
    assert_ptr_equal(name, POISON_PTR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_path_rules),
            cmocka_unit_test(test_path_order),
            cmocka_unit_test(test_parse_accepts),
            cmocka_unit_test(test_parse_rejects),
            cmocka_unit_test(test_parse_statement_shape),
            cmocka_unit_test(test_compare),
            cmocka_unit_test(test_manifest_add_rules),
            cmocka_unit_test(test_model_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
